"""SES lines read straight into field texts (ses_decode.line_texts) give exactly the dict path's rows, and
every line it is not sure of takes the dict path: odd shapes, JSON that json.loads reads otherwise."""

from __future__ import annotations

import dataclasses
import json

import duckdb
import pytest
from tests.ingest.test_fast_path import load_alike, write

from list_hygiene.ingest import ingest, json_decode, loader, ses_decode
from list_hygiene.ingest.specs import SPECS

SES = SPECS[("ses", "events")]
MAIL = {"timestamp": "2026-08-01T09:00:00.000Z", "source": "news@example.com", "messageId": "m-1",
        "destination": ["a@example.com", "b@example.com"],
        "tags": {"ses:configuration-set": ["marketing"], "campaign": ["digest-1"]}}


def envelope(inner: dict | str, **extra) -> bytes:
    message = inner if isinstance(inner, str) else json.dumps(inner)
    return json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": message, **extra}).encode()


def event(kind: str, **members) -> dict:
    return {"eventType": kind, "mail": MAIL, **members}


BOUNCE = {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-08-01T09:01:00.000Z",
          "feedbackId": "f-1", "bouncedRecipients": [
              {"emailAddress": "a@example.com", "action": "failed", "status": "5.1.1",
               "diagnosticCode": "smtp; 550 5.1.1 user unknown"},
              {"emailAddress": "not-an-address", "status": "5.1.1"}]}

#: (line, read here: True / left to the dict path: False)
SHAPES = [
    (envelope(event("Open", open={"timestamp": "2026-08-02T10:00:00.000Z", "userAgent": "Mozilla/5.0",
                                  "ipAddress": "192.0.2.1"})), True),
    (envelope(event("Click", click={"timestamp": "2026-08-02T10:01:00.000Z", "link": "https://example.com/x"})), True),
    (envelope(event("Send", send={})), True),
    (envelope(event("Delivery", delivery={"timestamp": "2026-08-01T09:00:05.000Z",
                                          "recipients": ["a@example.com"]})), True),
    (envelope(event("Bounce", bounce=BOUNCE)), True),  # two recipients, the second fails the address check
    (envelope(event("Complaint", complaint={"complainedRecipients": [{"emailAddress": "a@example.com"}],
                                            "complaintFeedbackType": "abuse", "feedbackId": "f-2"})), True),
    (envelope(event("DeliveryDelay", deliveryDelay={"delayedRecipients": [{"emailAddress": "b@example.com",
                                                                            "status": "4.4.7"}]})), True),
    (envelope(event("Rendering Failure", failure={"errorMessage": "no template"})), True),
    (envelope({"notificationType": "Bounce", "mail": MAIL, "bounce": BOUNCE}), True),  # the older notifications
    (json.dumps(event("Open", open={"timestamp": "2026-08-02T10:00:00.000Z"})).encode(), True),  # no envelope
    (envelope(event("Open", open=None)), True),  # no detail: the mail's time
    (envelope(event("Open", open={"timestamp": ""})), True),  # empty detail time: the mail's time
    (envelope({**event("Send"), "mail": {**MAIL, "tags": {"campaign": []}}}), True),
    (envelope({**event("Send"), "mail": {**MAIL, "tags": None, "destination": []}}), True),  # no rows at all
    (envelope(event("Send"), Extra={"deep": [[{"x": 1.5}]]}), True),  # members not read are skipped
    (envelope(event("Send", send={"x": "ü\u00e9"}))[:-1] + ', "Subject": "Grüße"}'.encode(), True),
    (envelope(event("Open", open={"timestamp": "t"})), True),  # read here; its time fails DuckDB's check
    (envelope(event("Open")).replace(b'"Type"', b'"Type": "Notification", "Type"', 1), True),  # repeated key
    # left to the dict path
    (envelope(event("Bounce", bounce={"bouncedRecipients": ["a@example.com"]})), False),  # bare addresses
    (envelope({**event("Send"), "mail": {**MAIL, "messageId": 12345}}), False),  # a number where text is kept
    (envelope({**event("Send"), "mail": {**MAIL, "tags": {"campaign": "digest"}}}), False),  # text, not a list
    (envelope({**event("Send"), "mail": None}), False),
    (envelope({"mail": MAIL}), False),  # no event type: quarantined
    (envelope(event("Subscriptions", subscriptions={"timestamp": "x"})), False),  # a member not typed here
    (envelope(event("Open", open=[])), False),  # falsy, not an object: the dict path reads it as empty
    (envelope(event("Send")).replace(b"marketing", b"m\\ud800"), False),  # a lone surrogate
    (envelope(event("Send"))[:-1] + b', "X": "\xff"}', False),  # not UTF-8 in a member not read
    (envelope(event("Send"))[:-1] + b', "X": ' + b"7" * 4400 + b"}", False),  # an integer json.loads refuses
    (envelope(event("Send"))[:-1] + b', "X": ' + b"[" * 950 + b"]" * 950 + b"}", False),  # nested too deep
    (envelope(event("Send"))[:-1] + b', "X": NaN}', False),
    (envelope(event("Send"), Message={"eventType": "Send"}), False),  # Message as an object
    (b"[1, 2]", False),
    (b"{not json", False),
    (b"", False),
]


def dict_path(line: bytes) -> list[list[str | None]]:
    return [SES.texts(rec) for _, rec in SES.records(json_decode.loads(line))]


@pytest.mark.parametrize(("line", "read_here"), SHAPES)
def test_line_texts_match_the_dict_path_or_leave_the_line_to_it(line, read_here):
    got = ses_decode.line_texts(line)
    assert (got is not None) == read_here
    if got is not None:
        assert got == dict_path(line)


def test_rows_come_in_recipient_order_with_the_event_and_envelope_fields():
    [first, second] = ses_decode.line_texts(envelope(event("Bounce", bounce=BOUNCE)))
    names = [f.name for f in SES.fields]
    assert dict(zip(names, first, strict=True)) == {
        "event_type": "Bounce", "email": "a@example.com", "message_id": "m-1",
        "mail_timestamp": "2026-08-01T09:00:00.000Z", "event_timestamp": "2026-08-01T09:01:00.000Z",
        "source": "news@example.com", "campaign": "digest-1", "bounce_type": "Permanent",
        "bounce_subtype": "General", "action": "failed", "status": "5.1.1",
        "diagnostic_code": "smtp; 550 5.1.1 user unknown", "feedback_id": "f-1", "complaint_feedback_type": None,
        "user_agent": None, "ip_address": None, "link": None, "sns_message_id": "sns-1"}
    assert second[names.index("email")] == "not-an-address"


def test_a_file_of_every_shape_loads_as_the_dict_path_loads_it(tmp_path, monkeypatch):
    """The batched path with line_texts against the per-row Python path, which never uses it: the same raw
    rows, quarantine (a time that is not one, the record without an event type, the lines that are not JSON)
    and manifest."""
    calls = []
    monkeypatch.setitem(SPECS, ("ses", "events"),
                        dataclasses.replace(SES, line_texts=lambda line: calls.append(line) or SES.line_texts(line)))
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "1")  # the calls are counted in this process
    write(tmp_path / "data", "ses/events/a.jsonl", b"\n".join(line for line, _ in SHAPES) + b"\n")
    con = load_alike(tmp_path / "data", tmp_path, monkeypatch)
    assert len(calls) == len(SHAPES)  # every line was offered to it (on the fast path's run)
    quarantined = con.execute("select row_number, sub_index, field from f.raw.quarantine order by all").fetchall()
    bad_time = 1 + next(i for i, (line, _) in enumerate(SHAPES) if b'\\"timestamp\\": \\"t\\"' in line)
    # rows read here that DuckDB's check sent back, rebuilt as dicts (each recipient's own)
    assert [(bad_time, 1, "event_timestamp"), (bad_time, 2, "event_timestamp")] == [
        q for q in quarantined if q[0] == bad_time]
    assert con.execute("select count(*) from f.raw.ses__events").fetchone()[0] > 20


def test_a_spec_that_keeps_extra_keys_keeps_the_dict_path(tmp_path, monkeypatch):
    """line_texts gives no `_extra` (nor values taken from the file's path): a spec that keeps them never uses it."""
    seen = []
    monkeypatch.setitem(SPECS, ("ses", "events"),
                        dataclasses.replace(SES, line_texts=lambda line: seen.append(line), keep_extra=True))
    monkeypatch.setattr(loader, "FAST_PATH", True)
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "1")
    write(tmp_path / "data", "ses/events/a.jsonl", SHAPES[0][0] + b"\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ingest(con, tmp_path / "data")
        assert con.execute("select count(*) from raw.ses__events").fetchone()[0] == 2
    assert seen == []

