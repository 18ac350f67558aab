"""json_decode.loads must return what json.loads returns and raise what it raises, input for input."""

from __future__ import annotations

import json
import math
import sys

import pytest

from list_hygiene.ingest import json_decode
from list_hygiene.ingest.specs import SPECS, as_text

ODD = [
    '{"a":1,"a":2}',  # duplicate key: the last wins in both
    '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":1e400}',  # msgspec refuses, json.loads reads
    '{"a":"\\ud800"}',  # a lone surrogate escape
    '{"a":"\\ud83d\\ude00"}',
    '{"a":' + "9" * 30 + "}", '{"a":-9223372036854775809}', '{"a":' + "1" * 4300 + "}",
    '{"a":' + "1" * 4301 + "}",  # past Python's int digit limit: ValueError
    '{"a":0.' + "1" * 5000 + "}",
    "[1,2,]", '{"a":1,}', '{"a":01}', '{"a":.5}', '{"a":-}', "", "  ", '{"a":1} x',
    "\ufeff{\"a\":1}", '{"a":"x\x01"}', '{"a" : 1 }\r\n', '"text"', "true", "null", "-0.0", "5e-324",
    "[" * 995 + "]" * 995,  # json.loads: RecursionError; msgspec alone would read it
    "[" * 800 + "]" * 800, '{"a":' * 700 + "1" + "}" * 700,
]


def _outcome(fn, data):
    try:
        value = fn(data)
    except Exception as exc:  # the type and message are what the quarantine reason is made of
        return ("raised", type(exc).__name__, str(exc))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # to describe deeply nested values (the decoding ran under the usual limit)
    try:
        return ("value", json.dumps(value, allow_nan=True, sort_keys=True), _types(value))
    finally:
        sys.setrecursionlimit(limit)


def _types(value, depth=0):
    if depth > 40:
        return "..."
    if isinstance(value, dict):
        return {k: _types(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v, depth + 1) for v in value][:3]
    return type(value).__name__


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
def test_same_value_or_same_error_as_json_loads(text):
    assert _outcome(json_decode.loads, text) == _outcome(json.loads, text)
    raw = text.encode("utf-8", "surrogatepass")
    assert _outcome(json_decode.loads, raw) == _outcome(lambda b: json.loads(b.decode("utf-8")), raw)


@pytest.mark.parametrize("raw", [b'{"a":"\xff"}', b'{"a":"\xed\xa0\x80"}', b'\xef\xbb\xbf{"a":1}', b'{"a":"\xc3\xa9"}'])
def test_bytes_decode_as_utf8_first(raw):
    # what loader._jsonl_document did before: decode (UnicodeDecodeError → "invalid UTF-8"), then json.loads
    assert _outcome(json_decode.loads, raw) == _outcome(lambda b: json.loads(b.decode("utf-8")), raw)


def test_nan_reads_as_json_loads_reads_it():
    assert math.isnan(json_decode.loads('{"a":NaN}')["a"])


def _expected_text(record, source):
    """What a field holds, spelled out: the value at the dotted path, None past a missing step or a
    non-object; booleans as true/false, objects and lists as compact JSON, other values as str()."""
    value = record
    for part in source.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def test_texts_give_each_field_as_text():
    """spec.texts, what the Python path loads for a record, flat and nested specs alike."""
    records = [
        {"id": "e1", "event": "failed", "timestamp": 1.5, "recipient": "A@x.io", "tags": [], "campaigns": ["c", 2],
         "user-variables": {}, "delivery-status": {"code": 550, "message": "no", "attempt-no": True},
         "message": {"headers": {"message-id": "<m>"}}, "client-info": "not a dict"},
        {"id": None, "delivery-status": [1], "message": None, "tags": {"k": "é"}},
        {},
    ]
    for key in (("mailgun", "events"), ("ses", "events"), ("sendgrid", "events")):
        spec = SPECS[key]
        for rec in records:
            want = [_expected_text(rec, f.source) for f in spec.fields]
            assert spec.texts(rec) == want


@pytest.mark.parametrize("value", [
    ["newsletter"], ["a", "b c", "x-1/2"], ["a", 1], ["é"], ['say "hi"'], ["back\\slash"], ["tab\there"], ["\x7f"],
    ["\u2028"], ["\ud800"], [""], [["nested"]], [None], [True],
])
def test_lists_of_strings_are_written_as_json_dumps_writes_them(value):
    """as_text writes a list of plain strings itself (the common tags case); anything else goes to json.dumps."""
    assert as_text(list(value)) == json.dumps(list(value), separators=(",", ":"), ensure_ascii=False)


def test_nesting_json_loads_refuses_is_refused():
    """msgspec reads three levels more than json.loads before RecursionError: past json.loads' limit (found
    at this very stack depth), loads must raise as json.loads does."""

    def reads(fn, depth: int) -> bool:
        try:
            fn("[" * depth + "]" * depth)
        except RecursionError:
            return False
        return True

    lo, hi = 1, 3000
    while lo < hi:  # the deepest nesting json.loads reads here
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if reads(json.loads, mid) else (lo, mid - 1)
    assert lo > 100
    # never more permissive than json.loads (one frame deeper it may refuse a level or two sooner, as any
    # caller of json.loads would)
    for depth in (lo + 1, lo + 2, lo + 3, lo + 4):
        assert not reads(json_decode.loads, depth)
    assert reads(json_decode.loads, lo - 10)
