"""Mailgun: the window's Events API pages and the permanent-failure webhooks, re-sent once.

The Events API returns at most 300 items a page (`limit` ≤ 300) and a `paging.next` link to follow: the pages
are saved one response per line (`mailgun_events_<window>.jsonl`), as a poller that follows the links writes
them. One page holding every event would be a single JSON value of gigabytes at a few million contacts
(3.5 GB at 5 M), which no API returns and DuckDB cannot read (its limit for one JSON value is 2 GB).
Mailgun retries a webhook on a slow answer, so the first two deliveries appear twice: duplicates on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from .hashed_draws import HashedDraws
from .json_sql import Sql, Str, json_sql
from .model import Population
from .more_formats import HARD, LINKS, SOFT, UA, MessageEvents, per_message, send_days, write_file
from .more_simulation import DELIVERED, NONE, Outcomes
from .more_simulation import HARD as HARD_BOUNCE
from .output_files import OutputFile
from .text_columns import connect, dict_col, fixed_width_bytes, query_lines, stream_lines

ACCEPTED, FAILED, DELIVERED_EV, OPENED, CLICKED, COMPLAINED, UNSUBSCRIBED = range(7)
NAMES = ("accepted", "failed", "delivered", "opened", "clicked", "complained", "unsubscribed")
# each event is stamped a whole number of seconds after its message (or open, click, ...) plus a fraction
AFTER = {ACCEPTED: (0, ".25"), FAILED: (3, ".5"), DELIVERED_EV: (2, ".5"), OPENED: (0, ".5"), CLICKED: (0, ".5"),
         COMPLAINED: (0, ".5"), UNSUBSCRIBED: (0, ".5")}
_QUARTERS = np.array([int(float(AFTER[k][1]) * 4) for k in range(len(NAMES))])
PAGE_END = "], " + json.dumps({"paging": {
    "next": "https://api.mailgun.net/v3/mg.example.com/events/next",
    "previous": "https://api.mailgun.net/v3/mg.example.com/events/previous"}})[1:]
PAGE_ITEMS = 300  # the Events API's largest page (`limit` ≤ 300)
IP = "203.0.113.77"
CHUNK_ROWS = 500_000  # items formatted per query


def _item(kind: int, hard: bool = True) -> dict:
    headers = {"to": Sql("email_j"), "message-id": Str("concat(msg_ts, '.', mgm, '@mg.example.com')"),
               "from": "News <news@mg.example.com>", "subject": Str("subject")}
    doc = {"event": NAMES[kind], "id": Str("id"), "timestamp": Sql("concat(sec, frac)"),
           "log-level": "error" if kind == FAILED else "info", "recipient": Sql("email_j"),
           "recipient-domain": Str("domain"), "tags": ["newsletter"], "campaigns": [], "user-variables": {},
           "message": {"headers": headers, "size": 18937}}
    client = {"client-type": "browser", "user-agent": UA}
    if kind == FAILED:
        text, enhanced, code = HARD if hard else SOFT
        doc |= {"severity": "permanent" if hard else "temporary", "reason": "bounce" if hard else "generic",
                "delivery-status": {"tls": True, "mx-host": Str("concat('mx.', domain)"), "code": int(code),
                                    "description": "", "attempt-no": 1, "message": text[4:], "enhanced-code": enhanced,
                                    "session-seconds": 0.4}}
    elif kind == DELIVERED_EV:
        doc["delivery-status"] = {"tls": True, "code": 250, "message": "OK", "attempt-no": 1, "description": "",
                                  "session-seconds": 0.3}
    elif kind == OPENED:
        doc |= {"ip": IP, "client-info": client}
    elif kind == CLICKED:
        doc |= {"ip": IP, "url": Str("link"), "client-info": client}
    elif kind == UNSUBSCRIBED:
        doc["ip"] = IP
    return doc


def _item_sql() -> str:
    cases = [f"WHEN kind = {FAILED} AND hard THEN {json_sql(_item(FAILED, True))}",
             f"WHEN kind = {FAILED} THEN {json_sql(_item(FAILED, False))}"]
    cases += [f"WHEN kind = {k} THEN {json_sql(_item(k))}" for k in AFTER if k != FAILED]
    return "CASE " + " ".join(cases) + " END"


def _events(oc: Outcomes) -> MessageEvents:
    d = oc.kind == DELIVERED
    parts = [(ACCEPTED, np.arange(len(oc)), oc.ts), (FAILED, np.nonzero(~d)[0], oc.ts),
             (DELIVERED_EV, np.nonzero(d)[0], oc.ts)]
    for kind, at in ((OPENED, oc.open_at), (CLICKED, oc.click_at), (COMPLAINED, oc.complaint_at),
                     (UNSUBSCRIBED, oc.unsub_at)):
        parts.append((kind, np.nonzero(d & (at != NONE))[0], at))
    return MessageEvents([(k, m, t[m] + AFTER[k][0]) for k, m, t in parts])


def write_mailgun(out: Path, emails_j: pa.Array, pop: Population, oc: Outcomes, tag: str, draws: HashedDraws,
                  window: tuple[int, int]) -> tuple[int, int]:
    ev = _events(oc)
    ev.in_window(window, by_time=False)  # a stamp is a whole second plus a fraction: the window test is on the second
    names = pa.DictionaryArray.from_arrays(pa.array(ev.kind.astype(np.int32)), pa.array(NAMES))
    ids = draws.b64_id("mg", names, oc.send[ev.msg], oc.contact[ev.msg])
    # sorted by (timestamp, id); ids are 22 ASCII characters, comparable as fixed-width bytes
    order = np.argsort(fixed_width_bytes(ids, 22), kind="stable")
    quarters = ev.ts * 4 + _QUARTERS[ev.kind]
    order = order[np.argsort(quarters[order], kind="stable")]
    ev.reorder(order)
    ids = ids.take(pa.array(order, pa.int64()))

    used, at_msg = np.unique(ev.msg, return_inverse=True)
    contacts, at_contact = np.unique(oc.contact[used], return_inverse=True)
    days, day_of = send_days(oc, "%Y%m%d")
    domains = [pop.email[c].split("@")[1] for c in contacts.tolist()]
    rows = np.arange(len(ev))
    tbl = pa.table({
        "kind": ev.kind, "hard": oc.kind[ev.msg] == HARD_BOUNCE, "id": ids, "sec": ev.ts,
        "frac": dict_col([AFTER[k][1] for k in range(len(NAMES))], ev.kind),
        "email_j": dict_col(emails_j, oc.contact[ev.msg]),
        "domain": per_message(domains, at_contact[at_msg], rows), "msg_ts": oc.ts[ev.msg],
        "mgm": per_message(draws.hex("mgm", oc.send[used], oc.contact[used], n=16), at_msg, rows),
        "subject": per_message(["Weekly news " + d for d in days], day_of, ev.msg),
        "link": dict_col(list(LINKS), oc.contact[ev.msg] % len(LINKS)),
        "pos": rows,
    })
    con = connect()
    path = out / "mailgun" / "events" / f"mailgun_events_{tag}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    # each item carries what goes around it: a page's opening before its first item, the page's end and a
    # newline after its last one, ", " after the others
    page_end = PAGE_END.replace("'", "''") + "\n"
    line = (f"concat(CASE WHEN pos % {PAGE_ITEMS} = 0 THEN '{{\"items\": [' ELSE '' END, {_item_sql()}, "
            f"CASE WHEN pos % {PAGE_ITEMS} = {PAGE_ITEMS - 1} OR pos = {len(tbl) - 1} THEN '{page_end}' ELSE ', ' END)")
    with OutputFile(path) as fh:
        if not len(tbl):  # an empty window is one empty page
            fh.write(('{"items": [' + PAGE_END + "\n").encode())
        for lo in range(0, len(tbl), CHUNK_ROWS):  # a chunk at a time: memory stays bounded
            con.register("ev", tbl.slice(lo, CHUNK_ROWS))
            for _, items in stream_lines(con, f"SELECT 0 AS ts, {line} AS line FROM ev"):
                items.write(fh, 0, len(items))
            con.unregister("ev")

    # webhook deliveries of the permanent failures, in the pages' order; the first two are delivered twice
    hard = np.nonzero((ev.kind == FAILED) & (oc.kind[ev.msg] == HARD_BOUNCE))[0]
    hard = np.concatenate([hard, hard[:2]])
    hooks = tbl.take(pa.array(hard, pa.int64()))
    hooks = hooks.append_column("tok", draws.hex("tok", hooks.column("id").combine_chunks(), n=50))
    hooks = hooks.append_column("sig", draws.hex("sig", hooks.column("id").combine_chunks(), n=64))
    con.register("hooks", hooks)
    sig = {"timestamp": Str("sec::VARCHAR"), "token": Str("tok"), "signature": Str("sig")}
    doc = json_sql({"signature": sig, "event-data": Sql(_item_sql())}, suffix="\n")
    _, lines = query_lines(con, f"SELECT 0 AS ts, {doc} AS line FROM hooks")
    con.close()
    write_file(out, f"mailgun/events/mailgun_webhooks_permanent_fail_{tag}.jsonl", lines.joined())
    return len(tbl), len(hard)
