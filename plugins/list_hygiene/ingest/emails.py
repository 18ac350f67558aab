"""Address normalisation at the door: one comparison form for every platform.

Platforms export the same address in different spellings (`"Ana" <Ana@Example.com>`, `mailto:ana@…`,
`ana@bücher.example`). The warehouse compares on one form: trimmed, display name and `mailto:`
removed, lower-cased, IDN domain in punycode (IDNA 2008 with UTS #46 mapping). An address whose
syntax is wrong is kept and flagged (`is_valid_syntax=False` with the problem), never dropped: the
sync and the verification rules decide what to do with it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import idna

# characters that survive copy-paste from spreadsheets and web forms but are never part of an address
_INVISIBLE = dict.fromkeys(map(ord, "\u00a0\u200b\u200c\u200d\u2060\ufeff"), None)
_ANGLE = re.compile(r"<([^<>]*)>\s*$")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
# RFC 5322 dot-atom text (ASCII), plus any non-ASCII character for SMTPUTF8 local parts (RFC 6531)
_LOCAL_OK = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\U0010ffff]+$")
_LABEL_OK = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD_OK = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


class NormalizedEmail(NamedTuple):
    email: str | None  # the comparison form; None when nothing is left
    is_valid_syntax: bool
    problem: str | None  # why the syntax is invalid, else None


def _strip_wrapping(value: str) -> str:
    value = value.translate(_INVISIBLE).strip()
    m = _ANGLE.search(value)
    if m:  # `Display Name <addr>` or `<addr>`
        value = m.group(1).strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    if _MAILTO.match(value):  # a mailto: URI may carry ?subject=… after the address
        value = value[len("mailto:"):].split("?", 1)[0].strip()
    return value


def _domain_ascii(domain: str) -> tuple[str, str | None]:
    """(domain in punycode, problem)."""
    domain = domain.rstrip(".")
    if not domain:
        return domain, "empty domain"
    if domain.isascii():
        ascii_domain = domain
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            return domain, f"invalid IDN domain: {exc}"
    if "." not in ascii_domain:
        return ascii_domain, "domain has no dot"
    labels = ascii_domain.split(".")
    for label in labels:
        if not _LABEL_OK.match(label):
            return ascii_domain, f"invalid domain label {label!r}"
    if not _TLD_OK.match(labels[-1]):
        return ascii_domain, f"invalid top-level domain {labels[-1]!r}"
    return ascii_domain, None


@lru_cache(maxsize=200_000)
def normalize_email(raw: str | None) -> NormalizedEmail:
    """The comparison form of an address and whether its syntax is valid (RFC 5321/5322, IDNA)."""
    if raw is None:
        return NormalizedEmail(None, False, "empty")
    value = _strip_wrapping(raw).lower()
    if not value:
        return NormalizedEmail(None, False, "empty")
    if "@" not in value:
        return NormalizedEmail(value, False, "missing @")
    if value.count("@") > 1:
        return NormalizedEmail(value, False, "more than one @")
    local, domain = value.split("@")
    domain_ascii, problem = _domain_ascii(domain)
    email = f"{local}@{domain_ascii}"
    if not local:
        problem = "empty local part"
    elif any(c.isspace() for c in value):
        problem = "whitespace inside the address"
    elif len(local.encode()) > 64:
        problem = "local part longer than 64 octets"
    elif local.startswith(".") or local.endswith(".") or ".." in local:
        problem = "misplaced dot in local part"
    elif not _LOCAL_OK.match(local):
        problem = "invalid character in local part"
    elif problem is None and len(email.encode()) > 254:
        problem = "address longer than 254 octets"
    return NormalizedEmail(email, problem is None, problem)
