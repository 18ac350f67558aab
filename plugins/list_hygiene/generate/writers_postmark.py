"""Postmark: webhook deliveries (one JSON object per line) and the Bounces API export (one JSON document).

The Bounces export overlaps the bounce webhooks on purpose (same IDs): ingest and int_email_events dedupe them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .hashed_draws import HashedDraws
from .json_sql import Sql, Str, json_sql
from .more_formats import HARD, LINKS, SOFT, UA, MessageEvents, per_message, send_days, write_file, write_lines
from .more_simulation import DELIVERED, NONE, Outcomes
from .more_simulation import HARD as HARD_BOUNCE
from .text_columns import connect, dict_col, iso_col, query_lines, ties_like_python

BOUNCE_HARD, BOUNCE_SOFT, DELIVERY, OPEN, CLICK, COMPLAINT, UNSUBSCRIBE = range(7)


def _bounce(hard: bool) -> dict:
    return {
        "ID": Sql("bid"), "Type": "HardBounce" if hard else "SoftBounce", "TypeCode": 1 if hard else 4096,
        "Name": "Hard bounce" if hard else "Soft bounce", "Tag": Str("tag"), "MessageID": Str("msg"), "ServerID": 23,
        "MessageStream": "broadcast",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found)." if hard
        else "Unable to temporarily deliver this message.",
        "Details": "smtp;" + (HARD if hard else SOFT)[0], "Email": Sql("email_j"), "From": "news@example.com",
        "BouncedAt": Str("at_iso"), "DumpAvailable": True, "Inactive": hard, "CanActivate": True, "Subject": Str("subject"),
    }


def _hooks() -> dict[int, dict]:
    common = {"MessageID": Str("msg"), "ServerID": 23, "MessageStream": "broadcast", "Tag": Str("tag"), "Metadata": {}}
    complaint = _bounce(False)
    complaint.update({"Type": "SpamComplaint", "TypeCode": 100001, "Name": "Spam complaint",
                      "Description": "The subscriber explicitly marked this message as spam.",
                      "Details": "Test spam complaint details", "BouncedAt": Str("at_iso"), "CanActivate": False,
                      "Inactive": True})
    return {
        BOUNCE_HARD: {"RecordType": "Bounce", **_bounce(True), "Metadata": {}},
        BOUNCE_SOFT: {"RecordType": "Bounce", **_bounce(False), "Metadata": {}},
        DELIVERY: {"RecordType": "Delivery", **common, "Recipient": Sql("email_j"), "DeliveredAt": Str("at_iso"),
                   "Details": "Test delivery webhook details"},
        OPEN: {"RecordType": "Open", **common, "FirstOpen": True, "Recipient": Sql("email_j"), "ReceivedAt": Str("at_iso"),
               "Platform": "Desktop", "ReadSeconds": 5, "UserAgent": UA},
        CLICK: {"RecordType": "Click", **common, "Recipient": Sql("email_j"), "ReceivedAt": Str("at_iso"),
                "OriginalLink": Str("link"), "ClickLocation": "HTML", "Platform": "Desktop", "UserAgent": UA},
        COMPLAINT: {"RecordType": "SpamComplaint", **complaint, "Metadata": {}},
        UNSUBSCRIBE: {"RecordType": "SubscriptionChange", "MessageID": Str("msg"), "ServerID": 23,
                      "MessageStream": "broadcast", "ChangedAt": Str("at_iso"), "Recipient": Sql("email_j"),
                      "Origin": "Recipient", "SuppressSending": True, "SuppressionReason": "ManualSuppression",
                      "Tag": Str("tag"), "Metadata": {}},
    }


def _events(oc: Outcomes) -> MessageEvents:
    d = oc.kind == DELIVERED
    parts = [(BOUNCE_HARD, np.nonzero(oc.kind == HARD_BOUNCE)[0], oc.ts + 4),
             (BOUNCE_SOFT, np.nonzero((oc.kind != DELIVERED) & (oc.kind != HARD_BOUNCE))[0], oc.ts + 4),
             (DELIVERY, np.nonzero(d)[0], oc.ts + 5)]
    for kind, at in ((OPEN, oc.open_at), (CLICK, oc.click_at), (COMPLAINT, oc.complaint_at),
                     (UNSUBSCRIBE, oc.unsub_at)):
        parts.append((kind, np.nonzero(d & (at != NONE))[0], at))
    return MessageEvents([(k, m, t[m]) for k, m, t in parts])


def _uuid_sql(h: str) -> str:
    """f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}" of a 32-digit hex column."""
    return (f"concat(substr({h}, 1, 8), '-', substr({h}, 9, 4), '-4', substr({h}, 14, 3), '-8', substr({h}, 18, 3), "
            f"'-', substr({h}, 21, 12))")


def write_postmark(out: Path, emails_j: pa.Array, oc: Outcomes, tag: str, draws: HashedDraws,
                   window: tuple[int, int]) -> tuple[int, int]:
    ev = _events(oc)
    ev.in_window(window, by_time=True)
    used, at_msg = np.unique(ev.msg, return_inverse=True)
    send, contact = oc.send[used], oc.contact[used]
    bid = (draws.hex_u64("pm-bounce", send, contact) >> np.uint64(4)) % np.uint64(10**18) + np.uint64(4 * 10**18)
    days, day_of = send_days(oc, "%Y%m%d")
    bounce = ev.kind <= BOUNCE_SOFT
    tbl = pa.table({
        "ts": ev.ts, "kind": ev.kind, "msg_order": ev.msg,
        "msg_hex": per_message(draws.hex("pm-msg", send, contact, n=32), at_msg, np.arange(len(ev))),
        "bid": bid[at_msg], "email_j": dict_col(emails_j, oc.contact[ev.msg]),
        "tag": per_message(["weekly-" + d for d in days], day_of, ev.msg),
        "subject": per_message(["Weekly news " + d for d in days], day_of, ev.msg),
        "at_iso": iso_col(ev.ts, np.where(bounce, 397, 0)),
        "link": dict_col(list(LINKS), oc.contact[ev.msg] % len(LINKS)),
    })
    con = connect()
    con.register("ev", tbl)
    con.execute(f"CREATE TEMP VIEW hooks AS SELECT *, {_uuid_sql('msg_hex')} AS msg FROM ev")
    cases = " ".join(f"WHEN {k} THEN {json_sql(doc, suffix=chr(10))}" for k, doc in _hooks().items())
    ts, lines = query_lines(con, f"SELECT ts, CASE kind {cases} END AS line FROM hooks")
    order = ties_like_python(ts, lines)
    # the Bounces API export: the window's bounces (not complaints), in message order
    docs = (f"CASE kind WHEN {BOUNCE_HARD} THEN {json_sql(_bounce(True), suffix=', ')} "
            f"ELSE {json_sql(_bounce(False), suffix=', ')} END")
    _, bounces = query_lines(con, f"SELECT ts, {docs} AS line FROM hooks WHERE kind <= {BOUNCE_SOFT} ORDER BY msg_order")
    con.close()
    write_lines(out, f"postmark/events/postmark_webhooks_{tag}.jsonl", lines, order)
    write_file(out, f"postmark/bounces/postmark_bounces_{tag}.json",
               b'{"TotalCount": %d, "Bounces": [' % len(bounces) + bounces.joined(trim_last=2) + b"]}")
    return len(lines), len(bounces)
