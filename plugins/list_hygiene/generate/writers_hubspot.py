"""HubSpot contacts export: one CSV with HubSpot's property labels as the header, written column-wise.

A follow-up drop (Window.full off) holds only the contacts changed since its start. HubSpot's export API takes a CRM
search request (`publicCrmSearchRequest`, ../shared/PLATFORMS.md section 6), and a filter `lastmodifieddate >= the
last export` is how an incremental contacts export is made; the file has the same columns either way. A contact's
columns depend only on what happened to it up to the window's end (the summary fields are cumulative, summary.py),
so a contact left out is one whose row would read as in the drop before. Scenario contacts are always written: their
timelines count back from each drop's end.

Three malformed records (no email, an impossible date, invalid UTF-8) are planted at fixed record numbers near the
top when `malformed` is on; scenarios.MALFORMED says where.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import scenarios as sc
from .model import COMPANIES, DAY, SOURCES, STAGES, Population, unit_hash
from .output_files import OutputFile
from .summary import Summary, Window
from .text_columns import connect, csv_quoted, dict_col, iso_col, query_lines

HUBSPOT_HEADER = [
    "Record ID", "Email", "First Name", "Last Name", "Phone Number", "Mobile Phone Number", "Company Name",
    "Original Source", "Lifecycle Stage", "Unsubscribed from all email", "Email hard bounce reason",
    "Invalid email address", "Marketing emails bounced", "Email address quarantined", "Marketing contact status",
    "Last marketing email send date", "Last marketing email open date", "Last marketing email click date",
    "Create Date", "Last Modified Date",
]
HS_HEAD = 16  # records at the top of the file among which the malformed ones are placed


def fmt_minutes(ts: np.ndarray) -> list[str]:
    """Unix seconds -> 'YYYY-MM-DD HH:MM' (UTC); negative -> ''."""
    s = np.datetime_as_string(np.maximum(ts, 0).astype("datetime64[s]"), unit="m").tolist()
    return [x[:10] + " " + x[11:] if t >= 0 else "" for x, t in zip(s, ts.tolist(), strict=True)]


def csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _minutes_sql(col: str) -> str:
    """'YYYY-MM-DD HH:MM' of a (ts, iso) column pair; '' where ts is negative (never)."""
    return f"CASE WHEN {col} >= 0 THEN left({col}_iso, 16) ELSE '' END"


def _columns(pop: Population, summ: Summary, win: Window, seed: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """The value columns of the contacts `idx`, and `changed`: when the record last changed (any column)."""
    h = [unit_hash(seed, idx, k) for k in range(8)]
    end, since = win.end_ts, win.history_start_ts
    scen = idx >= pop.n_random
    created = pop.created[idx]
    last_send, last_open, last_click = summ.last_send[idx], summ.last_open[idx].copy(), summ.last_click[idx]
    # history before the summaries start counting: some contacts opened long ago
    old = ~scen & (last_open < 0) & (pop.p_open[idx] > 0.05) & (h[0] < 0.6) & (created < since)
    hist = np.maximum(created + DAY, since - (h[1] * 300).astype(np.int64) * DAY - 7200)
    last_open = np.where(old, hist, last_open)
    for j in np.nonzero(scen)[0].tolist():
        days_before = sc.SCENARIOS[pop.scenario_names[int(idx[j]) - pop.n_random]].hubspot_last_open_days_before_end
        if days_before is not None:
            last_open[j] = end - days_before * DAY + 3 * 3600 + 1260
    dead = ~scen & (pop.dead_at[idx] < end) & (h[2] < 0.5)
    unsub = ~scen & (pop.unsub_at[idx] < end) & (h[3] < 0.7)
    modified = np.maximum.reduce([created, last_send, last_open, last_click])
    # the Last Modified Date above follows the engagement fields only (as in the bundled samples); a bounce, a dead
    # address or an unsubscribe changes the record too
    changed = np.maximum.reduce([modified, summ.last_bounce[idx], np.where(dead, pop.dead_at[idx], -1),
                                 np.where(unsub, pop.unsub_at[idx], -1)])
    return {
        "id": 10001 + idx, "phone": h[4] < 0.55, "phone_n": (h[4] * 100).astype(np.int64),
        "mobile": h[5] < 0.4, "mobile_n": (h[5] * 1000).astype(np.int64),
        "company": (h[6] * len(COMPANIES)).astype(np.int64), "source": (h[7] * len(SOURCES)).astype(np.int64),
        "stage": (h[1] * len(STAGES)).astype(np.int64),
        "unsub": unsub, "dead": dead, "invalid": dead & (h[3] < 0.3),
        "bounced": np.where(scen, 0, summ.bounces[idx] + dead), "quarantined": ~scen & (h[5] > 0.997),
        "non_marketing": ~scen & (h[6] > 0.88),
        "sent": last_send, "opened": last_open, "clicked": last_click, "created": created, "modified": modified,
        "changed": changed, "scenario": scen,
    }


def _body(pop: Population, cols: dict[str, np.ndarray], idx: np.ndarray):
    il = idx.tolist()
    tbl = {k: v for k, v in cols.items() if k not in ("changed", "scenario")}
    tbl |= {
        "email": csv_quoted([pop.spelling["hubspot"][i] for i in il]),
        "first": csv_quoted([pop.first[i] for i in il]), "last": csv_quoted([pop.last[i] for i in il]),
        "company": dict_col(csv_quoted(list(COMPANIES)), cols["company"]),
        "source": dict_col(csv_quoted(list(SOURCES)), cols["source"]),
        "stage": dict_col(csv_quoted(list(STAGES)), cols["stage"]),
    }
    for name in ("sent", "opened", "clicked", "created", "modified"):
        tbl[name + "_iso"] = iso_col(np.maximum(cols[name], 0), sep=" ", suffix="")
    con = connect()
    con.register("contacts", pa.table(tbl))
    _, lines = query_lines(con, f"""
        SELECT 0 AS ts, concat(id, ',', email, ',', first, ',', last, ',',
          CASE WHEN phone THEN concat('+1 555-01', lpad(phone_n::VARCHAR, 2, '0')) ELSE '' END, ',',
          CASE WHEN mobile THEN concat('+44 7700 900', lpad(mobile_n::VARCHAR, 3, '0')) ELSE '' END, ',',
          company, ',', source, ',', stage, ',', unsub::VARCHAR, ',', CASE WHEN dead THEN 'UNKNOWN_USER' ELSE '' END, ',',
          invalid::VARCHAR, ',', bounced, ',', quarantined::VARCHAR, ',',
          CASE WHEN non_marketing THEN 'Non-marketing contact' ELSE 'Marketing contact' END, ',',
          {_minutes_sql('sent')}, ',', {_minutes_sql('opened')}, ',', {_minutes_sql('clicked')}, ',',
          {_minutes_sql('created')}, ',', {_minutes_sql('modified')}, chr(10)) AS line
        FROM contacts""")
    con.close()
    return lines


def _malformed_rows(win: Window) -> list[tuple[int, str, bytes]]:
    c = dt.datetime.fromtimestamp(win.start_ts - 30 * DAY, dt.UTC).strftime("%Y-%m-%d %H:%M")
    tail = ["Offline Sources", "Lead", "false", "", "false", "0", "false", "Marketing contact", "", "", ""]
    return [
        (sc.HS_EMPTY_EMAIL_ROW, "hs_empty_email", csv_line(["990001", "", "Nomail", "Person", "", "", "", *tail, c,
                                                            c]).encode()),
        (sc.HS_BAD_DATE_ROW, "hs_bad_date", csv_line(["990002", "bad.create.date@example.com", "Dana", "Datefault", "",
                                                      "", "", *tail, "31/02/2026 25:61", c]).encode()),
        (sc.HS_BAD_UTF8_ROW, "hs_bad_utf8", csv_line(["990003", "bad.bytes@example.org", "JOANNE_PLACEHOLDER", "Bytes",
                                                      "", "", "", *tail, c, c]).encode()
         .replace(b"JOANNE_PLACEHOLDER", b"Jo\xff\xfeanne")),
    ]


def write_hubspot(out: Path, pop: Population, summ: Summary, win: Window, seed: int, malformed: bool,
                  placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the record numbers of the malformed rows."""
    idx = np.nonzero(pop.on_hubspot & (pop.created < win.end_ts))[0]
    cols = _columns(pop, summ, win, seed, idx)
    if not win.full:
        keep = win.changed(cols["changed"]) | cols["scenario"]  # scenario timelines count back from each drop's end
        cols, idx = {k: v[keep] for k, v in cols.items()}, idx[keep]
    lines = _body(pop, cols, idx)
    n_head = min(HS_HEAD, len(lines)) if malformed else 0  # the malformed rows go among the first records
    head = [lines.row(i)[:-1] for i in range(n_head)]
    if malformed:
        bad = _malformed_rows(win)
        for row, _, line in bad:
            head.insert(min(row - 1, len(head)), line)
        if placed is not None:
            for _, key, line in bad:
                placed[key] = head.index(line) + 1
    path = out / "hubspot" / "contacts" / f"hubspot_contacts_{win.tag}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with OutputFile(path) as fh:
        fh.write(csv_line(HUBSPOT_HEADER).encode() + b"\n" + b"".join(x + b"\n" for x in head))
        lines.write(fh, n_head, len(lines))
    return len(lines) + len(head) - n_head
