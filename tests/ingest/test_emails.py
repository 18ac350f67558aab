"""Address normalisation at ingest: trim, lower-case, display names and mailto: removed, IDN → punycode;
invalid syntax flagged, never dropped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from list_hygiene.ingest.emails import NormalizedEmail, normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ana@Example.COM ", NormalizedEmail("ana@example.com", True, None)),
        ('"Ana Lopez" <Ana@Example.com>', NormalizedEmail("ana@example.com", True, None)),
        ("Ana Lopez <ana@example.com>", NormalizedEmail("ana@example.com", True, None)),
        ("<ana@example.com>", NormalizedEmail("ana@example.com", True, None)),
        ("MAILTO:bo@example.org?subject=Hi", NormalizedEmail("bo@example.org", True, None)),
        ("ana@Bücher.example", NormalizedEmail("ana@xn--bcher-kva.example", True, None)),
        ("ana@xn--bcher-kva.example", NormalizedEmail("ana@xn--bcher-kva.example", True, None)),
        ("ana@example.com.", NormalizedEmail("ana@example.com", True, None)),
        ("\u200bana@example.com\u00a0", NormalizedEmail("ana@example.com", True, None)),
        ("not-an-email", NormalizedEmail("not-an-email", False, "missing @")),
        ("a@@example.com", NormalizedEmail("a@@example.com", False, "more than one @")),
        ("a..b@example.com", NormalizedEmail("a..b@example.com", False, "misplaced dot in local part")),
        ("ana@example", NormalizedEmail("ana@example", False, "domain has no dot")),
        ("ana@exa_mple.com", NormalizedEmail("ana@exa_mple.com", False, "invalid domain label 'exa_mple'")),
        ("ana lopez@example.com", NormalizedEmail("ana lopez@example.com", False, "whitespace inside the address")),
        ("@example.com", NormalizedEmail("@example.com", False, "empty local part")),
        ("", NormalizedEmail(None, False, "empty")),
        ("mailto:", NormalizedEmail(None, False, "empty")),
        (None, NormalizedEmail(None, False, "empty")),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


_local = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_label = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
_domain = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3),
                    st.sampled_from(["com", "org", "de", "example", "xn--p1ai"]))


@given(local=_local, domain=_domain, name=st.sampled_from(["", "Ana", '"Lopez, Ana"']),
       wrap=st.sampled_from(["{a}", " {a} ", "<{a}>", "{n} <{a}>", "mailto:{a}", "MAILTO:{a}?subject=x"]))
def test_every_spelling_of_a_valid_address_gives_one_form(local, domain, name, wrap):
    address = f"{local}@{domain}"
    got = normalize_email(wrap.format(a=address, n=name))
    assert got == NormalizedEmail(address.lower(), True, None)


@given(st.text(max_size=60))
def test_normalisation_is_idempotent_and_never_raises(raw):
    first = normalize_email(raw)
    if first.email is not None and first.is_valid_syntax:
        assert normalize_email(first.email) == first
