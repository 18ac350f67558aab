"""Salesforce Marketing Cloud: the tracking extract, one CSV per event type (Sent, Opens, Clicks, Bounces, ...).

Event dates are in Marketing Cloud's system time, CST without daylight saving, written `M/D/YYYY h:mm:ss AM`.
Some subscribers were imported with other letter case: the normalised address is the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .hashed_draws import HashedDraws
from .json_sql import sql_literal
from .model import Population
from .more_formats import HARD, LINKS, SOFT, MessageEvents
from .more_simulation import DELIVERED, NONE, Outcomes
from .more_simulation import HARD as HARD_BOUNCE
from .output_files import OutputFile
from .text_columns import connect, csv_quoted, dict_col, query_lines

COMMON = ["ClientID", "SendID", "SubscriberKey", "EmailAddress", "SubscriberID", "ListID", "EventDate", "EventType"]
TAIL = ["BatchID", "TriggeredSendExternalKey"]
# entity: (file name, header, event type, the columns between EventType and BatchID)
SENDS, OPENS, CLICKS, BOUNCES, UNSUBSCRIBES, COMPLAINTS = range(6)
ENTITIES = {
    SENDS: ("sends", "Sent", COMMON + TAIL, "'Sent'"),
    OPENS: ("opens", "Opens", COMMON + TAIL, "'Open'"),
    CLICKS: ("clicks", "Clicks", COMMON + ["SendURLID", "URLID", "URL", "Alias"] + TAIL,
             "concat('Click,', 5000 + link, ',', 700 + link, ',', url, ',link', link + 1)"),
    BOUNCES: ("bounces", "Bounces", COMMON + ["BounceCategory", "SMTPCode", "BounceReason"] + TAIL,
              "CASE WHEN hard THEN {hard} ELSE {soft} END".format(
                  hard=sql_literal(f"Bounce,Hard bounce,{HARD[2]},{HARD[0]}"),
                  soft=sql_literal(f"Bounce,Soft bounce,{SOFT[2]},{SOFT[0]}"))),
    UNSUBSCRIBES: ("unsubscribes", "Unsubs", COMMON + TAIL, "'Unsubscribe'"),
    COMPLAINTS: ("complaints", "Complaints", COMMON + TAIL, "'Complaint'"),
}
CST_OFFSET = -6 * 3600


def _events(oc: Outcomes) -> MessageEvents:
    d = oc.kind == DELIVERED
    parts = [(SENDS, np.arange(len(oc)), oc.ts), (BOUNCES, np.nonzero(~d)[0], oc.ts + 60)]
    for entity, at in ((OPENS, oc.open_at), (CLICKS, oc.click_at), (UNSUBSCRIBES, oc.unsub_at),
                       (COMPLAINTS, oc.complaint_at)):
        parts.append((entity, np.nonzero(d & (at != NONE))[0], at))
    return MessageEvents([(k, m, t[m]) for k, m, t in parts])


def write_sfmc(out: Path, pop: Population, oc: Outcomes, tag: str, draws: HashedDraws,
               window: tuple[int, int]) -> dict[str, int]:
    ev = _events(oc)
    ev.in_window(window, by_time=False)
    ev.reorder(np.argsort(ev.kind, kind="stable"))  # one file per entity, message order
    contacts, at_contact = np.unique(oc.contact[ev.msg], return_inverse=True)
    shown = [pop.email[c].upper() if c % 17 == 0 else pop.email[c] for c in contacts.tolist()]
    con = connect()
    con.register("ev", pa.table({
        "ts": ev.ts, "kind": ev.kind, "send_id": oc.send[ev.msg] * 10 + 3,
        "key": dict_col(draws.hex("sk", contacts, n=10), at_contact),
        "email": dict_col(csv_quoted(shown), at_contact), "contact": oc.contact[ev.msg],
        "hard": oc.kind[ev.msg] == HARD_BOUNCE, "link": oc.contact[ev.msg] % len(LINKS),
        "url": dict_col(csv_quoted(list(LINKS)), oc.contact[ev.msg] % len(LINKS)),
    }))
    cases = " ".join(f"WHEN {k} THEN {middle}" for k, (_, _, _, middle) in ENTITIES.items())
    _, lines = query_lines(con, f"""
        SELECT ts, concat('7281698,', send_id, ',0035g', upper(key), ',', email, ',', 98700000 + contact, ',1001,',
                          strftime(make_timestamp((ts + {CST_OFFSET}) * 1000000), '%-m/%-d/%Y %-I:%M:%S %p'), ',',
                          CASE kind {cases} END, ',0,', chr(10)) AS line
        FROM ev""")
    con.close()
    counts = np.bincount(ev.kind, minlength=len(ENTITIES))
    lo = 0
    written: dict[str, int] = {}
    for k, (entity, name, header, _) in ENTITIES.items():
        path = out / "sfmc" / entity / f"{name}_{tag}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with OutputFile(path) as fh:
            fh.write((",".join(header) + "\n").encode())
            lines.write(fh, lo, lo + int(counts[k]))
        lo += int(counts[k])
        written[f"sfmc/{entity}"] = int(counts[k])
    return written
