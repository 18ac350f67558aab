"""json_stream.py: a big `.json` file streamed gives exactly the records json.loads gives (same order, sub
indexes, values and Python types), and whatever the stream cannot reproduce ends on json.loads' result.

The loader's side is simulated here (loader.py is wired by its owner): `_json_loads_documents` is what
loader._documents yields for a `.json` file, `_records` is loader._json_document's reading (a document
whose records raise ValueError/TypeError/AttributeError is one "unreadable" unit), and `_via_stream` is
the caller's contract: try the stream, on None or StreamUnsupported read the file with json.loads.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from list_hygiene.ingest import json_stream
from list_hygiene.ingest.json_stream import StreamedDocument, StreamUnsupported, stream_documents
from list_hygiene.ingest.specs import SPECS, _stream_guarded

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
STREAMED_SPECS = [s for s in SPECS.values() if s.stream_key]
MAILGUN = SPECS[("mailgun", "events")]
ACTIVITY = SPECS[("mailchimp", "email_activity")]


@pytest.fixture(autouse=True)
def ingest_path():
    """Overrides conftest's three loader paths: nothing here depends on them."""
    return None


@pytest.fixture(autouse=True)
def stream_small_files(monkeypatch):
    monkeypatch.setattr(json_stream, "STREAM_BYTES", 0)


# ---------------------------------------------------------------- the two ways, as the loader reads them
def _typed(value):
    """The value with every type spelled out: 1, 1.0 and True differ, -0.0 differs from 0.0, key order counts."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def _json_loads_documents(path: Path) -> list:
    """loader._documents for a `.json` file."""
    doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    return [(i + 1, d) for i, d in enumerate(doc)] if isinstance(doc, list) else [(0, doc)]


def _records(pairs, spec) -> list:
    """loader._json_document: (row, sub, record) per record, or (row, "unreadable") per failing document."""
    out = []
    for row, doc in pairs:
        try:
            recs = list(spec.records(doc)) if spec.records else [(0, doc)]
        except (ValueError, TypeError, AttributeError):
            out.append((row, "unreadable"))
            continue
        out.extend((row, sub, _typed(rec)) for sub, rec in recs)
    return out


def _reference(path: Path, spec) -> tuple:
    try:
        pairs = _json_loads_documents(path)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int digits limit
        return ("error", type(exc).__name__)
    return ("records", _records(pairs, spec))


def _via_stream(path: Path, spec) -> tuple[tuple, bool]:
    """What the caller ends with when it tries the stream first, and whether the stream gave it."""
    docs = stream_documents(path, spec)
    if docs is not None:
        try:
            return ("records", _records(docs, spec)), True
        except StreamUnsupported:
            pass
    return _reference(path, spec), False


def assert_streams(path: Path, spec) -> list:
    result, streamed = _via_stream(path, spec)
    assert streamed, f"{path.name} was not streamed"
    assert result == _reference(path, spec)
    return result[1]


def assert_falls_back(path: Path, spec) -> tuple:
    result, streamed = _via_stream(path, spec)
    assert not streamed, f"{path.name} was streamed"
    assert result == _reference(path, spec)
    return result


def _write(tmp_path: Path, text: str | bytes, name: str = "page.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- documents
# elements every streamed spec's records function reads without failing; numbers json.loads and yajl may
# read differently, escapes, brackets and quotes inside strings, duplicate keys, the empty key
ELEMENTS = [
    r'{"id": "e1", "event": "delivered", "timestamp": 1785563430.5, "recipient": "a@example.com",'
    r' "delivery-status": {"code": 250, "attempt-no": 1, "message": "OK [250] {queued}"}, "tags": ["t1", "t2"],'
    r' "activity": [{"action": "open", "timestamp": "2026-08-01T00:00:00+00:00"}, {"action": "click", "url": "u"}]}',
    r'{"id": "e2", "n": 12345678901234567, "one": 1.0, "exp": 1E2, "exp2": 1e+2, "small": 2.5e-3, "neg0": -0,'
    r' "negf": -0.0, "big": 9223372036854775807, "neg": -9223372036854775807, "tiny": 5e-324, "under": 1e-400,'
    r' "t": true, "f": false, "nil": null, "email": [{"label": "work", "value": "x@example.com", "primary": true}]}',
    r'{"id": "e3", "text": "caf\u00e9 \ud83d\ude00 \uD83D\uDE00 \"quoted\" back\\slash \\\" \/ tab\t nl\n ]}[{",'
    ' "raw": "h\u00e9llo \u2615 \U0001F600 \\\\", "nested": [[], {}, [1, [2, {"a": [3, {"b": {}}]}]]],'
    r' "zero": "\u0000", "escaped_escape": "\\ud800 \\udc00"}',
    r'{"id": "e4", "id": "e4-last", "k": 1, "k": {"replaced": [1]}, "org_id": {"value": 5, "name": "Org"},'
    r' "": "empty key", "activity": [], "phone": [{"value": "+1", "label": "mobile"}]}',
    r'{}',
]
NON_OBJECTS = [r'"a string"', r'17', r'null', r'[1, {"a": [2]}]', r'2.0']


def _page(key: str, elements: list[str], before: str = "", after: str = "") -> str:
    """A whole-file object; `before` may name the key nested under the empty key (ijson's prefix for it is
    the key itself, as for the top-level one)."""
    before = before.replace("KEY", json.dumps(key))
    return "{" + before + json.dumps(key) + ": [" + ", ".join(elements) + "]" + after + "}"


BEFORE = r'"before": {"x": [1, {"y": "]\"}"}], "": {KEY: [9]}}, "paging0": [], '
AFTER = r', "after": [{"z": "}"}, [[[]]]], "paging": {"next": "https://api.example.com/v3/x?page=[2]"}'


@pytest.mark.parametrize("spec", STREAMED_SPECS, ids=lambda s: s.table)
@pytest.mark.parametrize("shape", ["minimal", "surrounded", "spaced", "empty", "bom", "dumped_ascii", "dumped_indent"])
def test_streamed_object_gives_json_loads_records(tmp_path, spec, shape):
    key = spec.stream_key
    text = {
        "minimal": _page(key, ELEMENTS),
        "surrounded": _page(key, ELEMENTS, BEFORE, AFTER),
        "spaced": "\n\t " + _page(key, ELEMENTS, BEFORE, AFTER).replace(": [", " :\r\n [ ").replace("]}", " ] }") + " \n",
        "empty": _page(key, [], BEFORE, AFTER),
        "bom": "\ufeff" + _page(key, ELEMENTS, BEFORE, AFTER),
        "dumped_ascii": json.dumps(json.loads(_page(key, ELEMENTS, BEFORE, AFTER))),
        "dumped_indent": json.dumps(json.loads(_page(key, ELEMENTS, BEFORE, AFTER)), ensure_ascii=False, indent=2),
    }[shape]
    records = assert_streams(_write(tmp_path, text), spec)
    assert len(records) >= (0 if shape == "empty" else len(ELEMENTS))


@pytest.mark.parametrize("spec", [s for s in STREAMED_SPECS if s is not ACTIVITY], ids=lambda s: s.table)
def test_streamed_object_with_non_object_elements(tmp_path, spec):
    assert_streams(_write(tmp_path, _page(spec.stream_key, ELEMENTS + NON_OBJECTS, BEFORE, AFTER)), spec)


@pytest.mark.parametrize("spec", [SPECS[("sendgrid", "events")], SPECS[("zoho", "events")], MAILGUN, ACTIVITY],
                         ids=lambda s: s.table)
def test_top_level_array_gives_json_loads_documents(tmp_path, spec):
    """Every element is a document of its own: one that the records function rejects is quarantined alone."""
    zoho = r'{"webhook_id": "w", "action": "bounce", "data": [{"contact_email": "a@example.com", "action_time": 1}]}'
    text = "\n[ " + ",\n".join(ELEMENTS + NON_OBJECTS + [zoho]) + " ]\n"
    records = assert_streams(_write(tmp_path, text), spec)
    assert all(r[0] >= 1 for r in records)
    assert_streams(_write(tmp_path, "[]", "empty.json"), spec)
    assert_streams(_write(tmp_path, "\ufeff[" + ELEMENTS[1] + "]", "bom.json"), spec)


def test_numbers_come_out_as_json_loads_gives_them(tmp_path):
    text = "[1, 1.0, -0, -0.0, 1E2, 1e-2, 2.5E+3, 9223372036854775807, -9223372036854775807, 0.1, 1e308, 5e-324]"
    records = assert_streams(_write(tmp_path, text), SPECS[("sendgrid", "events")])
    assert [r[2][0] for r in records] == ["int", "float", "int", "float", "float", "float", "float", "int", "int",
                                          "float", "float", "float"]


# ---------------------------------------------------------------- everything else ends on json.loads' behaviour
ITEMS = ", ".join(ELEMENTS[:2])
FALLBACKS = {
    "key_absent": r'{"paging": {"items": [1]}, "other": [{"id": 1}]}',
    "key_under_empty_key_only": r'{"": {"items": [{"id": 1}]}}',
    "key_twice": r'{"items": [' + ITEMS + r'], "paging": {}, "items": [{"id": "second"}]}',
    "key_twice_first_null": r'{"items": null, "items": [' + ITEMS + ']}',
    "key_null": r'{"items": null}',
    "key_object": r'{"items": {"item": {"id": 1}}}',
    "key_string": r'{"items": "abc"}',
    "key_number": r'{"items": 5}',
    "double_bom": "\ufeff\ufeff" + r'{"items": [' + ITEMS + ']}',
    "invalid_utf8_in_element": b'{"items": [{"id": "\xff"}]}',
    "overlong_utf8_after_array": b'{"items": [{"id": 1}], "paging": "\xc0\x80"}',
    "surrogate_utf8_in_key": b'{"\xed\xa0\x80": 1, "items": [{"id": 1}]}',
    "truncated_utf8_at_end": b'{"items": [{"id": 1}]} \xe2\x82',
    "missing_comma": r'{"items": [{"id": 1} {"id": 2}]}',
    "trailing_comma": r'{"items": [{"id": 1},]}',
    "truncated_in_array": r'{"items": [{"id": 1}, {"id"',
    "truncated_after_array": r'{"items": [{"id": 1}], "paging": {',
    "bad_trailer": r'{"items": [{"id": 1}], "paging": {,}}',
    "bad_header": r'{"x": [1,,2], "items": [{"id": 1}]}',
    "lone_high_surrogate": r'{"items": [' + ITEMS + r', {"id": "\ud800"}]}',
    "lone_high_then_char": r'{"items": [{"id": "\ud800x"}]}',
    "high_then_non_low": r'{"items": [{"id": "\ud800\u0041"}]}',
    "high_then_high": r'{"items": [{"id": "\ud800\ud83d\ude00"}]}',
    "lone_low_surrogate": r'{"items": [{"id": "\udc00"}]}',
    "pair_then_lone_low": r'{"items": [{"id": "\ud83d\ude00\udc00"}]}',
    "lone_surrogate_in_trailer_key": r'{"items": [{"id": 1}], "\udbff": 1}',
    "nan": r'{"items": [' + ITEMS + r', {"id": NaN}]}',
    "infinity": r'{"items": [{"id": Infinity}]}',
    "minus_infinity": r'{"items": [{"id": -Infinity}]}',
    "float_overflow": r'{"items": [{"id": 1e400}]}',
    "int_beyond_4300_digits": r'{"items": [{"id": 1' + "0" * 4400 + "}]}",
    "trailing_garbage": r'{"items": [{"id": 1}]} x',
    "second_document": r'{"items": [{"id": 1}]} {}',
    "trailing_unterminated_string": r'{"items": [{"id": 1}]} "abc',
    "trailing_unterminated_escape": '{"items": [{"id": 1}]}\n"abc\\',
    "vertical_tab": '{"items": [{"id": 1},\x0b{"id": 2}]}',
    "form_feed_at_end": '{"items": [{"id": 1}]}\x0c',
    "form_feed_in_string": '{"items": [{"id": "a\x0cb"}]}',
    "top_level_string": r'"items"',
    "top_level_number": r'5',
    "top_level_null": r'null',
    "empty_file": "",
    "whitespace_only": " \n\t ",
    "leading_form_feed": '\x0c{"items": []}',
    "deep_element": r'{"items": [{"id": 1}, ' + "[" * 300 + "]" * 300 + "]}",
    "deep_header": r'{"x": ' + "[" * 300 + "]" * 300 + r', "items": [{"id": 1}]}',
    "deeper_than_json_loads": r'{"items": [' + "[" * 5000 + "]" * 5000 + "]}",
    "deep_array_element": "[" + "[" * 300 + "]" * 300 + "]",
    "nan_in_array": r'[{"id": 1}, NaN]',
    "array_trailing_garbage": r'[{"id": 1}] "x',
}


@pytest.mark.parametrize("chunk", [1024 * 1024, 16], ids=["found_up_front", "found_mid_stream"])
@pytest.mark.parametrize("case", FALLBACKS)
def test_fallback_ends_on_json_loads_behaviour(tmp_path, monkeypatch, case, chunk):
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    assert_falls_back(_write(tmp_path, FALLBACKS[case]), MAILGUN)


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "-9223372036854775808", "-1" + "0" * 30])
def test_integers_beyond_yajl_end_on_json_loads_values(tmp_path, number):
    """yajl stops at +-(2**63 - 1) (the stream falls back); ijson's Python backend reads them as json.loads does."""
    path = _write(tmp_path, r'{"items": [{"id": 1}, {"id": ' + number + "}]}")
    result, _streamed = _via_stream(path, MAILGUN)
    assert result == _reference(path, MAILGUN)
    assert result[1][1][2] == _typed({"id": int(number)})


def test_escaped_backslash_before_surrogate_like_text_still_streams(tmp_path):
    assert_streams(_write(tmp_path, r'{"items": [{"id": "\\ud800 \\\\udc00 \\\ud83d\ude00"}]}'), MAILGUN)


def test_object_file_of_a_spec_without_stream_key_is_not_streamed(tmp_path):
    zoho = SPECS[("zoho", "events")]
    path = _write(tmp_path, r'{"webhook_id": "w", "action": "bounce", "data": [{"contact_email": "a@example.com"}]}')
    assert stream_documents(path, zoho) is None


def test_small_files_jsonl_and_other_formats_are_not_streamed(tmp_path, monkeypatch):
    path = _write(tmp_path, _page("items", ELEMENTS))
    monkeypatch.setattr(json_stream, "STREAM_BYTES", path.stat().st_size + 1)
    assert stream_documents(path, MAILGUN) is None
    monkeypatch.setattr(json_stream, "STREAM_BYTES", path.stat().st_size)
    assert stream_documents(path, MAILGUN) is not None
    assert stream_documents(_write(tmp_path, "[]", "a.jsonl"), MAILGUN) is None
    assert stream_documents(_write(tmp_path, "[]", "a.json"), SPECS[("hubspot", "contacts")]) is None


def test_key_must_start_within_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(json_stream, "HEADER_BYTES", 64)
    path = _write(tmp_path, _page("items", ELEMENTS, r'"before": "' + "x" * 100 + '", '))
    assert stream_documents(path, MAILGUN) is None
    assert_falls_back(path, MAILGUN)


# ---------------------------------------------------------------- records read lazily: errors are the stream's
def test_stream_unsupported_passes_the_unreadable_record_handler():
    assert not issubclass(StreamUnsupported, (ValueError, TypeError, AttributeError))


def test_records_function_failing_on_a_streamed_element_restarts_the_file(tmp_path):
    """json.loads' path quarantines the whole document; the stream had loaded records before the failure."""
    path = _write(tmp_path, _page("emails", ELEMENTS[:2] + ["5"] + ELEMENTS[2:]))
    result = assert_falls_back(path, ACTIVITY)
    assert result == ("records", [(0, "unreadable")])
    _row, doc = next(stream_documents(path, ACTIVITY))
    records = ACTIVITY.records(doc)
    next(records)
    with pytest.raises(StreamUnsupported, match="records function failed"):
        list(records)


@pytest.mark.parametrize("spec", STREAMED_SPECS, ids=lambda s: s.table)
def test_records_of_streamed_specs_are_guarded(spec):
    class Doc(dict):
        guarded = False

        def stream_guard(self, records):
            Doc.guarded = True
            return records

    list(spec.records(Doc({spec.stream_key: iter([])})))
    assert Doc.guarded


@pytest.mark.parametrize("doc", [{"data": "abc"}, {"data": {"a": 1}}, {"data": 5}])
def test_pipedrive_still_rejects_a_data_that_is_not_an_array(doc):
    with pytest.raises(ValueError, match="not an array"):
        list(SPECS[("pipedrive", "persons")].records(doc))


def test_a_records_function_that_stops_early_still_gets_the_whole_file_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", 64)  # the garbage at the end is found after the first record

    @_stream_guarded
    def first_only(doc):
        for i, item in enumerate(doc["items"]):
            yield i + 1, item
            return

    spec = dataclasses.replace(MAILGUN, records=first_only)
    good = _write(tmp_path, _page("items", ELEMENTS), "good.json")
    assert assert_streams(good, spec) == [(0, 1, _typed(json.loads(ELEMENTS[0])))]
    bad = _write(tmp_path, _page("items", ELEMENTS) + " x", "bad.json")
    docs = stream_documents(bad, spec)
    _row, doc = next(docs)
    assert len(list(spec.records(doc))) == 1
    with pytest.raises(StreamUnsupported, match="after the document"):
        next(docs)


def test_the_array_is_read_while_the_records_are_consumed(tmp_path, monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(json_stream, "YAJL_BYTES", 4096)
    path = _write(tmp_path, _page("items", ELEMENTS * 400, BEFORE, AFTER))
    row, doc = next(stream_documents(path, MAILGUN))
    assert isinstance(doc, StreamedDocument) and row == 0
    assert list(doc) == ["items"] and isinstance(doc["items"], Iterator)
    records = MAILGUN.records(doc)
    next(records)
    source = doc["items"].gi_frame.f_locals["source"]
    assert source.pos < path.stat().st_size / 10


@pytest.mark.parametrize("chunk", [1, 7, 13, 64])
def test_chunk_boundaries_anywhere(tmp_path, monkeypatch, chunk):
    """Chunks cut inside escapes, surrogate pairs, UTF-8 sequences, strings and the header."""
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(json_stream, "YAJL_BYTES", chunk)
    assert_streams(_write(tmp_path, _page("items", ELEMENTS + NON_OBJECTS, BEFORE, AFTER)), MAILGUN)
    assert_streams(_write(tmp_path, "[" + ", ".join(ELEMENTS + NON_OBJECTS) + "]", "array.json"), MAILGUN)
    for case in ("key_twice", "lone_high_surrogate", "trailing_unterminated_string", "pair_then_lone_low", "nan"):
        assert_falls_back(_write(tmp_path, FALLBACKS[case], f"{case}.json"), MAILGUN)


# ---------------------------------------------------------------- random documents, bundled samples
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=4), inner, max_size=4), max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(_VALUES, max_size=5), paging=_VALUES, ascii_only=st.booleans(), indent=st.none() | st.integers(0, 2),
       chunk=st.sampled_from([3, 16, 1024]))
def test_random_pages(tmp_path, monkeypatch, items, paging, ascii_only, indent, chunk):
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    path = _write(tmp_path, json.dumps({"items": items, "paging": paging}, ensure_ascii=ascii_only, indent=indent))
    result, _ = _via_stream(path, MAILGUN)
    assert result == _reference(path, MAILGUN)
    array = _write(tmp_path, json.dumps(items, ensure_ascii=ascii_only, indent=indent), "array.json")
    result, _ = _via_stream(array, MAILGUN)
    assert result == _reference(array, MAILGUN)


def test_random_pages_mostly_stream(tmp_path):
    """The property test above must not pass by falling back: plain pages (no NaN, lone surrogates, ints
    beyond 64 bits) always stream."""
    page = {"items": [{"a": [1, 2.5, None, True, "\u00e9\U0001F600", {"": {}}]}, [], "x"], "paging": {"n": -1}}
    for ascii_only in (True, False):
        assert_streams(_write(tmp_path, json.dumps(page, ensure_ascii=ascii_only)), MAILGUN)


def _samples() -> list[Path]:
    return sorted(SAMPLES.rglob("*.json"))


@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_bundled_samples_give_the_same_records_both_ways(path):
    spec = SPECS[(path.parts[-3], path.parts[-2])]
    result, streamed = _via_stream(path, spec)
    assert result == _reference(path, spec)
    assert streamed == (path.read_text(encoding="utf-8-sig").lstrip()[:1] == "[" or spec.stream_key is not None)


def test_records_functions_unchanged_for_parsed_documents():
    for path in _samples():
        spec = SPECS[(path.parts[-3], path.parts[-2])]
        if spec.stream_key:
            for _row, doc in _json_loads_documents(path):
                assert list(spec.records(doc)) == list(spec.records.__wrapped__(doc))
