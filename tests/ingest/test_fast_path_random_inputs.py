"""Random files, both paths: whatever bytes a CSV export, a JSONL event dump or a run of webhook bodies holds, the
fast path (DuckDB cutting and checking, fast_path.py) loads, numbers and quarantines exactly what the per-row Python
path does; and whatever shape an SES record has, its direct reading (ses_decode) gives the per-row path's rows.

The examples are drawn from pieces that sit on the edges the fast path decides at (quotes, carriage returns,
blank and whitespace-only lines, NUL, bytes that are not UTF-8, JSON escapes, numbers as text, nesting, repeated
keys), so a mismatch shows up as a small file. Hypothesis runs derandomised: the same examples every run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from test_fast_path import load_alike, write
from test_workers import ReadHere

from list_hygiene.ingest import fast_path, json_decode, ses_decode, workers
from list_hygiene.ingest.specs import SPECS

EXAMPLES = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def ingest_path():
    """In place of the conftest's three runs per test (one per path): these tests set up both paths themselves."""
    return "both"


def _same_on_both_paths(files: dict[str, bytes], bundled: bool = False) -> None:
    """Ingest `files` on both paths and compare. `bundled`: through `workers.land_all` (read in this process), where
    small JSON files of a source are read together on the fast path."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        tmp_path = Path(tmp)
        for rel, data in files.items():
            write(tmp_path / "data", rel, data)
        mp.setattr(fast_path, "MIN_BYTES", 0)
        mp.setattr(workers, "PARALLEL_MIN_BYTES", 0)
        mp.setenv("LIST_HYGIENE_INGEST_WORKERS", "2" if bundled else "1")
        mp.setattr(workers, "_executor", lambda n: ReadHere())
        load_alike(tmp_path / "data", tmp_path, mp).close()  # raw tables, quarantine and manifest alike


CSV_HEADER = b"Record ID,Email,Create Date,Last Modified Date,Marketing emails bounced,Note,Unknown Column"

#: field texts near the edges: quoting, separators inside a field, spaces Python calls blank, control characters
#: json.dumps escapes in `_extra`, NUL, bytes that are not UTF-8, non-ASCII, long text. (A line break inside a
#: field sends the whole file back to Python's reader: test_fast_path's AWKWARD_CSV has those.)
EDGES = [
    b"", b" ", b"\t", b"\xe3\x80\x80", b"\x0b", b"\x1c", b"\xc2\x85", b'"quoted"', b'"a, b"', b'"say ""hi"""',
    b'x"y', b'"', b"caf\xc3\xa9", b"\xe2\x98\x83", b"back\\slash", b"tab\there", b"ctl\x01",
    b"nul\x00", b"bad\xff", b"\xed\xa0\x80", b"x" * 300,
]
#: what each of the seven columns usually holds, valid or not
COLUMNS = [
    [b"1", b"42", b"-1", b" 3 ", b"1.5"],
    [b"ana@example.com", b"Bo@Example.COM", b"c@b\xc3\xbccher.example", b"not-an-address"],
    [b"2026-08-01", b"2026-08-01 10:00", b"2026-08-01T10:00:00Z", b"2026-13-01", b"yesterday"],
    [b"2026-08-01", b"2026-08-01T10:00:00.5+02:00", b"1785686419000"],
    [b"0", b"1", b" 2", b"x"],
    [b"plain", b"a note"],
    [b"x", b"y z"],
]
BLANKS = [b"", b" ", b"\t", b"\xe3\x80\x80", b"\x0b", b"\x0c", b"\x1c", b"\x1f", b"\xc2\x85", b"\xe2\x80\xa8"]

#: a record of seven fields, each its column's kind of value three times in four, else an edge piece
RECORD = st.tuples(*(st.one_of(*[st.sampled_from(c)] * 3, st.sampled_from(EDGES)) for c in COLUMNS)).map(b",".join)
CSV_LINE = st.one_of(
    RECORD, RECORD, RECORD,
    st.lists(st.sampled_from(EDGES + [b"1", b"ana@example.com"]), max_size=9).map(b",".join),  # any count
    st.lists(st.sampled_from(BLANKS), min_size=1, max_size=4).map(b",".join),  # blank to Python's reader
)


@EXAMPLES
@given(lines=st.lists(CSV_LINE, min_size=1, max_size=8), newline=st.sampled_from([b"\r\n", b"\n"]),
       last_newline=st.booleans(), bom=st.booleans())
def test_random_csv_exports_load_alike(lines, newline, last_newline, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + CSV_HEADER + newline + newline.join(lines)
    _same_on_both_paths({"hubspot/contacts/c.csv": data + (newline if last_newline else b"")})


#: JSON values near the edges of the SQL checks: numbers in every spelling, numbers as text, escapes, surrogates,
#: non-ASCII, nesting, empty containers, booleans and null where text is expected
JSON_VALUES = st.sampled_from([
    "1785686419", "1785686419.5", "1.7856864e9", "-0", "99", "4102444800", "1e400", "0.1e1", '"1785686419"',
    '" 1785686419 "', '"2026-08-01T10:00:00Z"', "true", "false", "null", '""', '"ana@example.com"',
    '"Ana@Example.COM"', '"\\u0041na@example.com"', '"ana@b\\u00fccher.example"', '"a\\"b"', '"\\ud800"',
    '"\\ud83d\\ude00"', '"caf\u00e9"', '"\\/"', '"tab\\there"', '"nul\\u0000"', "[]", "{}", '["x"]', '{"a": 1}',
    '[[[[["deep"]]]]]', '"Yes"', '"y"', '"TRUE"', '"0"', '"' + "y" * 300 + '"', "12345678901234567890123", "0" * 1100,
])
#: what the members the spec types (address, time, integer, flag) usually hold, valid or not
TYPED = {
    "email": ['"ana@example.com"', '"Bo@Example.COM"', '" ana@example.com "', '"ana@b\\u00fccher.example"',
              '"not-an-address"', '""'],
    "timestamp": ["1785686419", "1785686419.5", '"1785686419"', "99", "4102444800", "1.7856864e9", '"x"'],
    "attempt": ["0", "5", '"3"', '" 3 "', "-1", "1.0", '"x"', "12345678901234567890123"],
    "sg_machine_open": ["true", "false", '"Yes"', '"y"', '"TRUE"', '"0"', "1", "2"],
}
MEMBERS = st.one_of(
    *[st.tuples(st.just(k), st.sampled_from(v)) for k, v in TYPED.items()],
    st.tuples(st.sampled_from([*TYPED, "event", "sg_event_id", "sg_message_id", "reason", "status", "useragent",
                               "url", "category", "marketing_campaign_id", "note", "Email"]), JSON_VALUES),
)


@st.composite
def sendgrid_events(draw, changes: int = 2) -> str:
    """A SendGrid event's JSON text: a plausible event with up to `changes` members replaced, sometimes a key
    repeated."""
    base = {"email": '"ana@example.com"', "timestamp": "1785686419", "event": '"delivered"',
            "sg_event_id": json.dumps(f"e{draw(st.integers(0, 5))}")}
    for key, value in draw(st.lists(MEMBERS, max_size=changes)):
        base[key] = value
    members = [f'"{k}": {v}' for k, v in base.items()]
    if changes and draw(st.integers(0, 3)) == 0:  # a repeated key: the last one wins in json.loads
        key, value = draw(MEMBERS)
        members.append(f'"{key}": {value}')
    return "{" + ", ".join(members) + "}"


@st.composite
def sendgrid_lines(draw) -> bytes:
    """A JSONL line: mostly a plausible event with a member or two replaced, sometimes not an object at all."""
    line = draw(sendgrid_events())
    shape = draw(st.sampled_from(["object"] * 6 + ["blank", "array", "broken", "spaces"]))
    return {"object": line, "blank": "", "array": f"[{line}]", "broken": line[:-1],
            "spaces": f"  {line}\t "}[shape].encode()


@EXAMPLES
@given(lines=st.lists(sendgrid_lines(), min_size=1, max_size=8), last_newline=st.booleans(),
       tail=st.sampled_from([b"", b"\xff", b"\r"]))
def test_random_sendgrid_dumps_load_alike(lines, last_newline, tail):
    data = b"\n".join(lines[:-1] + [lines[-1] + tail]) + (b"\n" if last_newline else b"")
    _same_on_both_paths({"sendgrid/events/e.jsonl": data})


@st.composite
def webhook_bodies(draw) -> dict[str, bytes]:
    """Two to four SendGrid webhook bodies (JSON arrays of events), mostly plain, so that most runs are read
    together; now and then an event with a member replaced, an empty body or one that is not an array."""
    bodies = {}
    for name in "abcd"[:draw(st.integers(2, 4))]:
        events = [draw(st.one_of(*[sendgrid_events(changes=0)] * 4, sendgrid_events(changes=1)))
                  for _ in range(draw(st.integers(0, 4)))]
        body = "[\n" + ",\n".join(events) + "\n]\n"
        bodies[f"sendgrid/events/{name}.json"] = draw(st.sampled_from([body] * 8 + [body[:-3], "{}"])).encode()
    return bodies


@EXAMPLES
@given(bodies=webhook_bodies())
def test_random_webhook_bodies_read_together_load_alike(bodies):
    _same_on_both_paths(bodies, bundled=True)


def test_the_random_files_reach_the_fast_paths_own_reading(monkeypatch):
    """The comparisons above mean something only if the fast path reads such files itself: a plain CSV file is
    cut by DuckDB, a plain JSONL file and a run of plain webhook bodies read by DuckDB, none handed back to
    Python whole."""
    calls = []

    def spy(name):
        original = getattr(fast_path, name)

        def call(*args, **kwargs):
            calls.append((name, original(*args, **kwargs)))
            return calls[-1][1]
        return call

    for name in ("load_csv_lines", "load_jsonl", "load_json_bundle"):
        monkeypatch.setattr(fast_path, name, spy(name))
    event = b'{"email": "ana@example.com", "timestamp": 1785686419, "event": "delivered", "sg_event_id": "e1"}'
    _same_on_both_paths({"hubspot/contacts/c.csv":
                         CSV_HEADER + b"\r\n1,ana@example.com,2026-08-01,2026-08-01,0,,\r\n"})
    _same_on_both_paths({"sendgrid/events/e.jsonl": event + b"\n"})
    _same_on_both_paths({"sendgrid/events/a.json": b"[" + event + b"]", "sendgrid/events/b.json": b"[]"},
                        bundled=True)
    assert [name for name, _ in calls] == ["load_csv_lines", "load_jsonl", "load_json_bundle"]
    assert calls[-1][1] == [(1, set()), (0, set())]  # each body's rows and unknown keys: read together


#: any JSON value, small: what a member may hold instead of what SES writes there
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "a@example.com", "2026-08-01T09:00:00.000Z", "ü\u00e9", "\ud800", "x" * 50]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["emailAddress", "timestamp", "x"]),
                                                                inner, max_size=3),
    max_leaves=6,
)
KINDS = ["Send", "Delivery", "Open", "Click", "Bounce", "Complaint", "DeliveryDelay", "Rendering Failure", "Reject",
         "Subscription", "delivery delay", "OPEN", "Unknown", "mail", ""]
RECIPIENT = st.fixed_dictionaries({"emailAddress": st.sampled_from(["a@example.com", "b@example.com"])},
                                  optional={"action": st.just("failed"), "status": st.just("5.1.1"),
                                            "diagnosticCode": st.just("smtp; 550 5.1.1")})
DETAIL = st.fixed_dictionaries({}, optional={
    "timestamp": st.sampled_from(["2026-08-01T09:01:00.000Z", ""]), "feedbackId": st.just("f-1"),
    "userAgent": st.just("Mozilla/5.0"), "ipAddress": st.just("192.0.2.1"), "link": st.just("https://x.example/"),
    "recipients": st.lists(st.sampled_from(["a@example.com", "c@example.com"]), max_size=2),
    "bounceType": st.just("Permanent"), "bounceSubType": st.just("General"),
    "bouncedRecipients": st.lists(RECIPIENT, min_size=1, max_size=2),
    "complainedRecipients": st.lists(RECIPIENT, min_size=1, max_size=2),
    "delayedRecipients": st.lists(RECIPIENT, min_size=1, max_size=2), "complaintFeedbackType": st.just("abuse"),
})
DETAILS = ["send", "delivery", "open", "click", "bounce", "complaint", "reject", "failure", "deliveryDelay",
           "subscription"]


@st.composite
def ses_lines(draw) -> bytes:
    """An SES record as SES writes it, then a member or two anywhere swapped for any JSON value; enveloped
    or bare, its Message written with or without ASCII escapes."""
    mail = draw(st.fixed_dictionaries({}, optional={
        "timestamp": st.just("2026-08-01T09:00:00.000Z"), "source": st.just("news@example.com"),
        "messageId": st.just("m-1"), "destination": st.lists(st.sampled_from(["a@example.com", "b@example.com"]),
                                                              min_size=1, max_size=3),
        "tags": st.dictionaries(st.sampled_from(["campaign", "ses:configuration-set"]),
                                st.lists(st.sampled_from(["digest-1", "marketing"]), max_size=2), max_size=2),
    }))
    record = {draw(st.sampled_from(["eventType", "notificationType"])): draw(st.sampled_from(KINDS)), "mail": mail}
    for member in draw(st.lists(st.sampled_from(DETAILS), max_size=2)):
        record[member] = draw(DETAIL)
    for _ in range(draw(st.integers(0, 2))):  # swap a member, at the top, in `mail` or in a detail, for anything
        holder = draw(st.sampled_from([record, mail, *[v for v in record.values() if isinstance(v, dict)]]))
        holder[draw(st.sampled_from([*holder, "tags", "recipients"]))] = draw(ANY_JSON)
    ascii_only = draw(st.booleans())
    if draw(st.booleans()):
        line = {"Type": draw(st.sampled_from(["Notification", "SubscriptionConfirmation"])), "MessageId": "sns-1",
                "Message": json.dumps(record, ensure_ascii=ascii_only)}
    else:
        line = record
    return json.dumps(line, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(line=ses_lines())
def test_random_ses_records_match_the_dict_path_or_leave_the_line_to_it(line):
    """Whatever shape an SES line has, ses_decode.line_texts gives exactly the dict path's rows (the per-row path's
    reading) or leaves the line to it."""
    got = ses_decode.line_texts(line)
    target(float(got is not None), label="read here")  # steer towards lines line_texts reads itself
    if got is not None:
        ses = SPECS[("ses", "events")]
        assert got == [ses.texts(rec) for _, rec in ses.records(json_decode.loads(line))]
