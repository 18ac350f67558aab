"""Zoho ZeptoMail: bounce and unsubscribe webhook bodies, one JSON object per line, in time order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .json_sql import Sql, Str, json_sql
from .model import Population
from .more_formats import HARD, SOFT, MessageEvents, per_message, send_days, write_lines
from .more_simulation import DELIVERED, NONE, Outcomes
from .more_simulation import HARD as HARD_BOUNCE
from .text_columns import connect, dict_col, query_lines, ties_like_python

BOUNCE_HARD, BOUNCE_SOFT, UNSUBSCRIBE = range(3)


def _item() -> dict:
    return {"contact_id": Sql("1314909000000100000 + contact"), "contact_email": Sql("email_j"),
            "rcpt_domain": Str("domain"), "rcpt_additional_data": {}, "transmission_name": Str("name"),
            "transmission_id": Sql("1314909000000000000 + send"), "injected_time": Sql("msg_ts * 1000"),
            "zuid": 60012345678, "sending_ip": "198.51.100.90"}


def _bodies() -> dict[int, dict]:
    docs = {}
    for kind, hard in ((BOUNCE_HARD, True), (BOUNCE_SOFT, False)):
        text, enhanced, code = HARD if hard else SOFT
        name = "hardbounce" if hard else "softbounce"
        docs[kind] = {"webhook_name": "Bounce webhook", "webhook_id": "1314909000000063006", "action": "bounce",
                      "actionType": name,
                      "data": [{**_item(), "bounce_code": code, "bounce_type": name, "bounce_extended_code": enhanced,
                                "bounce_reason": text[10:], "action_time": Sql("ts * 1000")}]}
    docs[UNSUBSCRIBE] = {"webhook_name": "Unsubscribe webhook", "webhook_id": "1314909000000063007",
                         "action": "unsubscribe", "actionType": "unsubscribe",
                         "data": [{**_item(), "action_by": "recipient", "action_time": Sql("ts * 1000")}]}
    return docs


def write_zoho(out: Path, emails_j: pa.Array, pop: Population, oc: Outcomes, tag: str, window: tuple[int, int]) -> int:
    d = oc.kind == DELIVERED
    ev = MessageEvents([(BOUNCE_HARD, m := np.nonzero(oc.kind == HARD_BOUNCE)[0], oc.ts[m] + 3),
                 (BOUNCE_SOFT, m := np.nonzero(~d & (oc.kind != HARD_BOUNCE))[0], oc.ts[m] + 3),
                 (UNSUBSCRIBE, m := np.nonzero(d & (oc.unsub_at != NONE))[0], oc.unsub_at[m])])
    ev.in_window(window, by_time=True)
    contacts, at_contact = np.unique(oc.contact[ev.msg], return_inverse=True)
    days, day_of = send_days(oc, "%Y%m%d")
    con = connect()
    con.register("ev", pa.table({
        "ts": ev.ts, "kind": ev.kind, "contact": oc.contact[ev.msg], "send": oc.send[ev.msg], "msg_ts": oc.ts[ev.msg],
        "email_j": dict_col(emails_j, oc.contact[ev.msg]),
        "domain": dict_col([pop.email[c].split("@")[1] for c in contacts.tolist()], at_contact),
        "name": per_message(["Weekly news " + x for x in days], day_of, ev.msg),
    }))
    cases = " ".join(f"WHEN {k} THEN {json_sql(doc, suffix=chr(10))}" for k, doc in _bodies().items())
    ts, lines = query_lines(con, f"SELECT ts, CASE kind {cases} END AS line FROM ev")
    con.close()
    write_lines(out, f"zoho/events/zoho_webhooks_{tag}.jsonl", lines, ties_like_python(ts, lines))
    return len(lines)
