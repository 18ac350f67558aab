"""Mailchimp campaigns (`GET /3.0/campaigns`) and one email-activity report per campaign
(`GET /3.0/reports/{id}/email-activity`): a row per recipient with its opens, clicks and bounces, built by DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .event_columns import sql_list
from .model import DAY, HARD, LINK_PATHS, MC, REASONS, Events, Population, Sends, mix64
from .summary import Window
from .text_columns import Lines, connect, dict_col, iso_col, json_quoted
from .writers_ses import SES_SOURCE

UTC = dt.UTC
LIST_ID = "8f3a1c2b7d"


def _iso_mc(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


_SUBJECTS = ("What's new this week", "Your {m} roundup", "Three ideas for cleaner lists", "Last chance: autumn offers",
             "We saved you a seat", "Quick question about your account", "Tips from the community")


MC_SQL = """
WITH m AS (
  SELECT *,
    CASE WHEN machine THEN concat('17.', (eid >> 8) % 256, '.', (eid >> 16) % 256, '.', (eid >> 24) % 250 + 1)
         ELSE concat('203.0.113.', eid % 250 + 1) END AS ip
  FROM mc
), acts AS (
  SELECT send, contact, count(*) AS n, string_agg(CASE etype
      WHEN 2 THEN concat('{{"action":"open","timestamp":"', tsf, '","ip":"', ip, '"}}')
      WHEN 3 THEN concat('{{"action":"click","timestamp":"', tsf, '","url":"https://www.example.com/', slug, '/',
                         {links}[reason + 1], '","ip":"', ip, '"}}')
      ELSE concat('{{"action":"bounce","type":"', CASE WHEN rkind = '{hard}' THEN 'hard' ELSE 'soft' END,
                  '","timestamp":"', tsf, '"}}') END, ',' ORDER BY ts, eid) AS a
  FROM m WHERE etype IN (2, 3, 4) GROUP BY send, contact
), em AS (
  SELECT p.send, p.contact, coalesce(a.n, 0) AS n,
    concat('{{"campaign_id":"', p.cid, '","list_id":"{list_id}","list_is_active":true,"email_id":"', p.md5,
           '","email_address":', p.email_j, ',"activity":[', a.a, ']}},') AS line
  FROM m p LEFT JOIN acts a ON a.send = p.send AND a.contact = p.contact
  WHERE p.etype = 0
)
SELECT n, line FROM em ORDER BY contact
"""


def _md5s(con: duckdb.DuckDBPyConnection, addresses: list[str]) -> pa.Array:
    """hashlib.md5(address.encode()).hexdigest() of every address (Mailchimp's email_id), by DuckDB."""
    con.register("addresses", pa.table({"a": pa.array(addresses, pa.string())}))
    try:
        return con.sql("SELECT md5(a) AS h FROM addresses").to_arrow_table().column("h").combine_chunks()
    finally:
        con.unregister("addresses")


def write_mailchimp_reports(out: Path, pop: Population, sends: Sends, ev: Events, win: Window) -> tuple[int, int]:
    """Returns (campaigns written, email-activity rows written: one per recipient + one per activity)."""
    camp = [s for s in range(len(sends)) if sends.platform[s] == MC and win.start_ts <= sends.ts[s] < win.end_ts]
    e = ev.select((ev.platform == MC) & np.isin(ev.send, camp))
    e = e.select(np.argsort(e.send, kind="stable"))  # each campaign's events in one slice
    members, at_member = np.unique(e.contact, return_inverse=True)
    addresses = [pop.spelling["mailchimp"][i].strip().lower() for i in members.tolist()]
    con = connect()
    tbl = pa.table({
        "send": e.send, "contact": e.contact, "etype": e.etype, "ts": e.ts, "eid": e.eid, "machine": e.machine,
        "tsf": iso_col(e.ts, suffix="+00:00"),
        "reason": e.reason, "slug": dict_col(sends.slug, e.send), "cid": dict_col(sends.mc_id, e.send),
        "rkind": dict_col([r.kind for r in REASONS], np.maximum(e.reason, 0)),
        "md5": dict_col(_md5s(con, addresses), at_member.reshape(-1)),
        "email_j": dict_col(json_quoted(pop.spelling["mailchimp"]), e.contact),
    })
    sql = MC_SQL.format(links=sql_list(LINK_PATHS), hard=HARD, list_id=LIST_ID)
    starts = np.searchsorted(e.send, camp, side="left")
    ends = np.searchsorted(e.send, camp, side="right")
    docs = []
    activity_rows = 0
    adir = out / "mailchimp" / "email_activity"
    adir.mkdir(parents=True, exist_ok=True)
    for s, lo, hi in zip(camp, starts.tolist(), ends.tolist(), strict=True):  # a campaign at a time
        con.register("mc", tbl.slice(lo, hi - lo))
        report = con.sql(sql).to_arrow_table()  # one line per recipient, ordered by contact
        con.unregister("mc")
        lines = Lines(report.column("line"))
        n_emails = len(lines)
        activity_rows += n_emails + int(pc.sum(report.column("n")).as_py() or 0)
        cid = sends.mc_id[s]
        day = dt.datetime.fromtimestamp(int(sends.ts[s]), UTC)
        with open(adir / f"email_activity_{day:%Y%m%d}_{cid}.json", "wb") as fh:
            fh.write(b'{"emails":[')
            lines.write(fh, 0, n_emails, trim_last=1)  # the last recipient's line ends with a comma
            fh.write(f'],"campaign_id":"{cid}","total_items":{n_emails}}}\n'.encode())
        docs.append({
            "id": cid, "web_id": int(mix64(np.uint64(int(sends.uid[s]))) % np.uint64(90_000_000)) + 10_000_000,
            "type": "regular", "create_time": _iso_mc(int(sends.ts[s]) - 2 * DAY - 3600),
            "archive_url": f"https://www.example.com/archive/{sends.slug[s]}", "status": "sent",
            "emails_sent": n_emails, "send_time": _iso_mc(int(sends.ts[s])), "content_type": "template",
            "recipients": {"list_id": LIST_ID, "list_is_active": True, "list_name": "Example Community",
                           "recipient_count": n_emails},
            "settings": {"subject_line": _SUBJECTS[int(sends.day[s]) % len(_SUBJECTS)].format(m=f"{day:%B}"),
                         "title": sends.name[s], "from_name": "Example Community", "reply_to": SES_SOURCE},
        })
    con.close()
    cdir = out / "mailchimp" / "campaigns"
    cdir.mkdir(parents=True, exist_ok=True)
    (cdir / f"mailchimp_campaigns_{win.tag}.json").write_text(
        json.dumps({"campaigns": docs, "total_items": len(docs)}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return len(docs), activity_rows


