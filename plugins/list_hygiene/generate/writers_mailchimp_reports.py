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

from .event_columns import sql_list
from .model import DAY, HARD, LINK_PATHS, MC, REASONS, Events, Population, Sends, mix64
from .output_files import OutputFile
from .summary import Window
from .text_columns import Lines, connect, dict_col, iso_col, json_quoted
from .writers_ses import SES_SOURCE

UTC = dt.UTC
LIST_ID = "8f3a1c2b7d"


def _iso_mc(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


_SUBJECTS = ("What's new this week", "Your {m} roundup", "Three ideas for cleaner lists", "Last chance: autumn offers",
             "We saved you a seat", "Quick question about your account", "Tips from the community")


# A recipient's JSON object is printed as one row for its head (up to `"activity":[`) and one row per activity, in the
# order they go in the file; `tail` closes each row (',' between activities, ']},' after the last).
MC_SQL = """
SELECT concat(CASE etype
    WHEN 0 THEN concat('{{"campaign_id":"', cid, '","list_id":"{list_id}","list_is_active":true,"email_id":"', md5,
                       '","email_address":', email_j, ',"activity":[')
    WHEN 2 THEN concat('{{"action":"open","timestamp":"', tsf, '","ip":"', {ip}, '"}}')
    WHEN 3 THEN concat('{{"action":"click","timestamp":"', tsf, '","url":"https://www.example.com/', slug, '/',
                       {links}[reason + 1], '","ip":"', {ip}, '"}}')
    ELSE concat('{{"action":"bounce","type":"', CASE WHEN rkind = '{hard}' THEN 'hard' ELSE 'soft' END,
                '","timestamp":"', tsf, '"}}') END, tail) AS line
FROM mc
"""
IP_SQL = """CASE WHEN machine THEN concat('17.', (eid >> 8) % 256, '.', (eid >> 16) % 256, '.', (eid >> 24) % 250 + 1)
     ELSE concat('203.0.113.', eid % 250 + 1) END"""
_HEAD, _BETWEEN, _LAST = 0, 1, 2  # a row's tail: '' (a head followed by activity), ',' or ']},'
TAILS = ("", ",", "]},")


def _report_rows(e: Events) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `e` the reports print, in file order, and each one's tail (an index into TAILS).

    File order: by campaign, then recipient (contact), its head (the send event) first, then its opens, clicks and
    bounces by time (`e` is in time order). Activity of a contact without a send event in the campaign is left out,
    as the report lists recipients; a contact has at most one send event per campaign (model.simulate).
    """
    rows = np.flatnonzero(np.isin(e.etype, (0, 2, 3, 4)))
    if not len(rows):
        return rows, rows
    act = (e.etype[rows] != 0).astype(np.int64)
    key = (e.send[rows].astype(np.int64) << 33) | (e.contact[rows].astype(np.int64) << 1) | act
    order = np.argsort(key, kind="stable")  # stable: each recipient's activities stay in time order
    rows, key, act = rows[order], key[order], act[order]
    first = np.r_[True, key[1:] >> 1 != key[:-1] >> 1]
    headed = (act == 0)[first][np.cumsum(first) - 1]  # the recipient's first row is its head
    rows, key, act = rows[headed], key[headed], act[headed]
    last = np.r_[key[1:] >> 1 != key[:-1] >> 1, True]
    return rows, np.where(last, _LAST, np.where(act == 1, _BETWEEN, _HEAD))


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
    rows, tails = _report_rows(e)
    e = e.select(rows)
    members, at_member = np.unique(e.contact, return_inverse=True)
    addresses = [pop.spelling["mailchimp"][i].strip().lower() for i in members.tolist()]
    con = connect()
    tbl = pa.table({
        "etype": e.etype, "eid": e.eid, "machine": e.machine, "tsf": iso_col(e.ts, suffix="+00:00"),
        "reason": e.reason, "slug": dict_col(sends.slug, e.send), "cid": dict_col(sends.mc_id, e.send),
        "rkind": dict_col([r.kind for r in REASONS], np.maximum(e.reason, 0)),
        "md5": dict_col(_md5s(con, addresses), at_member.reshape(-1)),
        "email_j": dict_col(json_quoted(pop.spelling["mailchimp"]), e.contact), "tail": dict_col(list(TAILS), tails),
    })
    sql = MC_SQL.format(links=sql_list(LINK_PATHS), hard=HARD, list_id=LIST_ID, ip=IP_SQL)
    starts = np.searchsorted(e.send, camp, side="left")
    ends = np.searchsorted(e.send, camp, side="right")
    docs = []
    activity_rows = 0
    adir = out / "mailchimp" / "email_activity"
    adir.mkdir(parents=True, exist_ok=True)
    for s, lo, hi in zip(camp, starts.tolist(), ends.tolist(), strict=True):  # a campaign at a time
        con.register("mc", tbl.slice(lo, hi - lo))
        lines = Lines(con.sql(sql).to_arrow_table().column("line"))
        con.unregister("mc")
        n_emails = int(np.count_nonzero(e.etype[lo:hi] == 0))
        activity_rows += hi - lo  # a row per recipient and one per activity
        cid = sends.mc_id[s]
        day = dt.datetime.fromtimestamp(int(sends.ts[s]), UTC)
        with OutputFile(adir / f"email_activity_{day:%Y%m%d}_{cid}.json") as fh:
            fh.write(b'{"emails":[')
            lines.write(fh, 0, len(lines), trim_last=1)  # the last recipient ends with a comma
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


