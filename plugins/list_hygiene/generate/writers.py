"""One writer per platform export format (docs/data-contracts.md §1).

Event streams (SendGrid, SES) are serialised by DuckDB in one vectorised SQL pass and written straight from the
Arrow string buffer; the small CSV/JSON exports are written with the standard library. Output is sorted and every
timestamp comes from the simulation, so the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from . import scenarios as sc
from .model import (
    BLOCK,
    BOUNCE,
    CLICK,
    DAY,
    HARD,
    LINK_PATHS,
    MC,
    OPEN,
    PROCESSED,
    REASONS,
    SES,
    SG,
    Events,
    Population,
    Sends,
    State,
    message_ids,
    mix64,
    unit_hash,
)

UTC = dt.UTC
LIST_ID = "8f3a1c2b7d"
SES_ACCOUNT = "123456789012"
SES_SOURCE = "news@mail.example.com"
TOPIC = f"arn:aws:sns:us-east-1:{SES_ACCOUNT}:ses-events"
HUMAN_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
)
MACHINE_UA = "Mozilla/5.0"  # Apple Mail Privacy Protection proxy: no other tokens
SG_BATCH = 5000  # events per Event Webhook POST body
UAS_SQL = "[" + ", ".join("'" + json.dumps(u).replace("'", "''") + "'" for u in HUMAN_UAS) + "]"
SG_EVENT_NAMES = ("processed", "delivered", "open", "click", "bounce", "deferred", "dropped", "spamreport", "unsubscribe")


@dataclass
class Window:
    start: dt.date
    days: int

    @property
    def start_ts(self) -> int:
        return (self.start - dt.date(1970, 1, 1)).days * DAY

    @property
    def end_ts(self) -> int:
        return self.start_ts + self.days * DAY

    @property
    def tag(self) -> str:
        return sc.file_range(self.start, self.days)


def _hm(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M")


def _iso_mc(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _sql_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


# ------------------------------------------------------------------ shared per-contact summaries
@dataclass
class Summary:
    last_send: np.ndarray
    last_open: np.ndarray  # human opens only
    last_click: np.ndarray
    bounces: np.ndarray


def summarize(pop: Population, ev: Events) -> Summary:
    n = pop.size
    out = []
    for mask in (ev.etype == PROCESSED, (ev.etype == OPEN) & ~ev.machine, ev.etype == CLICK):
        arr = np.full(n, -1, dtype=np.int64)
        np.maximum.at(arr, ev.contact[mask], ev.ts[mask])
        out.append(arr)
    bounces = np.bincount(ev.contact[ev.etype == BOUNCE], minlength=n)
    return Summary(*out, bounces)


# ------------------------------------------------------------------ HubSpot contacts
HUBSPOT_HEADER = [
    "Record ID", "Email", "First Name", "Last Name", "Phone Number", "Mobile Phone Number", "Company Name",
    "Original Source", "Lifecycle Stage", "Unsubscribed from all email", "Email hard bounce reason",
    "Invalid email address", "Marketing emails bounced", "Email address quarantined", "Marketing contact status",
    "Last marketing email send date", "Last marketing email open date", "Last marketing email click date",
    "Create Date", "Last Modified Date",
]


def fmt_minutes(ts: np.ndarray) -> list[str]:
    """Unix seconds -> 'YYYY-MM-DD HH:MM' (UTC); negative -> ''."""
    s = np.datetime_as_string(np.maximum(ts, 0).astype("datetime64[s]"), unit="m").tolist()
    return [x[:10] + " " + x[11:] if t >= 0 else "" for x, t in zip(s, ts.tolist(), strict=True)]


def fmt_seconds(ts: np.ndarray) -> list[str]:
    """Unix seconds -> 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    return [x[:10] + " " + x[11:] for x in np.datetime_as_string(ts.astype("datetime64[s]"), unit="s").tolist()]


def _pick(options: tuple[str, ...], u: np.ndarray) -> list[str]:
    arr = np.array(options, dtype=object)
    return arr[(u * len(options)).astype(np.int64)].tolist()


HS_HEAD = 16  # lines split off the top of the HubSpot CSV to place the malformed rows


def write_hubspot(out: Path, pop: Population, summ: Summary, win: Window, seed: int, malformed: bool,
                  placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the record numbers of the malformed rows."""
    from .model import COMPANIES, SOURCES, STAGES

    idx = np.nonzero(pop.on_hubspot & (pop.created < win.end_ts))[0]
    h = [unit_hash(seed, idx, k) for k in range(8)]
    end = win.end_ts
    scen = idx >= pop.n_random
    created = pop.created[idx]
    last_send, last_open, last_click = summ.last_send[idx], summ.last_open[idx].copy(), summ.last_click[idx]
    # history before the window: some contacts opened long ago
    old = ~scen & (last_open < 0) & (pop.p_open[idx] > 0.05) & (h[0] < 0.6) & (created < win.start_ts)
    hist = np.maximum(created + DAY, win.start_ts - (h[1] * 300).astype(np.int64) * DAY - 7200)
    last_open = np.where(old, hist, last_open)
    for j in np.nonzero(scen)[0].tolist():
        days_before = sc.SCENARIOS[pop.scenario_names[int(idx[j]) - pop.n_random]].hubspot_last_open_days_before_end
        if days_before is not None:
            last_open[j] = end - days_before * DAY + 3 * 3600 + 1260
    dead = ~scen & (pop.dead_at[idx] < end) & (h[2] < 0.5)
    unsub = ~scen & (pop.unsub_at[idx] < end) & (h[3] < 0.7)
    modified = np.maximum.reduce([created, last_send, last_open, last_click])
    tf = np.array(["false", "true"], dtype=object)
    phone = [f"+1 555-01{v:02d}" if u < 0.55 else "" for v, u in zip((h[4] * 100).astype(int).tolist(), h[4].tolist(),
                                                                       strict=True)]
    mobile = [f"+44 7700 900{v:03d}" if u < 0.4 else "" for v, u in zip((h[5] * 1000).astype(int).tolist(),
                                                                        h[5].tolist(), strict=True)]
    bounced = np.where(scen, 0, summ.bounces[idx] + dead).astype(str).tolist()
    cols = [
        (10001 + idx).astype(str).tolist(), [pop.spelling["hubspot"][i] for i in idx.tolist()],
        [pop.first[i] for i in idx.tolist()], [pop.last[i] for i in idx.tolist()], phone, mobile,
        _pick(COMPANIES, h[6]), _pick(SOURCES, h[7]), _pick(STAGES, h[1]), tf[unsub.astype(int)].tolist(),
        np.where(dead, "UNKNOWN_USER", "").tolist(), tf[(dead & (h[3] < 0.3)).astype(int)].tolist(), bounced,
        tf[(~scen & (h[5] > 0.997)).astype(int)].tolist(),
        np.where(~scen & (h[6] > 0.88), "Non-marketing contact", "Marketing contact").tolist(),
        fmt_minutes(last_send), fmt_minutes(last_open), fmt_minutes(last_click), fmt_minutes(created),
        fmt_minutes(modified),
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(*cols, strict=True))
    body = buf.getvalue().encode("utf-8")
    n_rows = len(idx)
    lines: list[bytes] = []
    if malformed:  # only the first lines are split, to insert the malformed rows at fixed records
        lines = body.split(b"\n", HS_HEAD)
        body = lines.pop() if len(lines) == HS_HEAD + 1 else b""
        lines = [x for x in lines if x]
        c = _hm(win.start_ts - 30 * DAY)
        bad = [
            (sc.HS_EMPTY_EMAIL_ROW, _csv_line(["990001", "", "Nomail", "Person", "", "", "", "Offline Sources", "Lead",
                                               "false", "", "false", "0", "false", "Marketing contact", "", "", "", c,
                                               c]).encode()),
            (sc.HS_BAD_DATE_ROW, _csv_line(["990002", "bad.create.date@example.com", "Dana", "Datefault", "", "", "",
                                            "Offline Sources", "Lead", "false", "", "false", "0", "false",
                                            "Marketing contact", "", "", "", "31/02/2026 25:61", c]).encode()),
            (sc.HS_BAD_UTF8_ROW, _csv_line(["990003", "bad.bytes@example.org", "JOANNE_PLACEHOLDER", "Bytes", "", "",
                                            "", "Offline Sources", "Lead", "false", "", "false", "0", "false",
                                            "Marketing contact", "", "", "", c, c]).encode()
             .replace(b"JOANNE_PLACEHOLDER", b"Jo\xff\xfeanne")),
        ]
        for row, line in bad:
            lines.insert(min(row - 1, len(lines)), line)
        n_rows += len(bad)
        if placed is not None:
            for key, (_, line) in zip(("hs_empty_email", "hs_bad_date", "hs_bad_utf8"), bad, strict=True):
                placed[key] = lines.index(line) + 1
    path = out / "hubspot" / "contacts" / f"hubspot_contacts_{win.tag}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = _csv_line(HUBSPOT_HEADER).encode() + b"\n"
    path.write_bytes(header + b"".join(x + b"\n" for x in lines) + body)
    return n_rows


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


# ------------------------------------------------------------------ Mailchimp members
MC_BASE = ["Email Address", "First Name", "Last Name", "Address", "Phone Number", "Birthday", "MEMBER_RATING",
           "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION"]
MC_TAIL = {
    "subscribed": ["LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"],
    "unsubscribed": ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER",
                     "LEID", "EUID", "NOTES", "TAGS"],
    "cleaned": ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID", "LEID", "EUID", "NOTES", "TAGS"],
}
# the export quotes the merge-field labels in the header, and timestamps / free text in the rows
_MC_QUOTED = {"Address", "OPTIN_TIME", "CONFIRM_TIME", "LAST_CHANGED", "UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE",
              "UNSUB_REASON", "UNSUB_REASON_OTHER", "CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "TAGS"}
_TZ = ((-5, -4, "America/New_York", "US", "NY"), (-6, -5, "America/Chicago", "US", "IL"),
       (0, 1, "Europe/London", "GB", "ENG"), (1, 2, "Europe/Paris", "FR", "IDF"), (1, 2, "Europe/Berlin", "DE", "BE"),
       (-8, -7, "America/Los_Angeles", "US", "CA"), (10, 11, "Australia/Sydney", "AU", "NSW"))
_UNSUB_REASONS = ("I no longer want to receive these emails", "I never signed up for this mailing list",
                  "The emails are inappropriate", "The emails are spam and should be reported", "Other")
_TAGS = ('"Customer"', '"Prospect"', '"Customer","2026 webinar"', '', '', '"Newsletter"')


def mc_header(status: str) -> str:
    return ",".join(f'"{c}"' if c[0].islower() or " " in c or c[1:].islower() else c
                    for c in MC_BASE + MC_TAIL[status])


def _mc_field(col: str, value: str) -> str:
    if value == "":
        return ""
    if col in _MC_QUOTED or any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _q(values: list[str]) -> list[str]:
    """Quote non-empty values (the export quotes timestamps and free text)."""
    return ['"' + v.replace('"', '""') + '"' if v else "" for v in values]


def write_mailchimp_members(out: Path, pop: Population, state: State, sends: Sends, summ: Summary, win: Window,
                            seed: int, malformed: bool, placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the record numbers of the malformed rows."""
    placed = {} if placed is None else placed
    end = win.end_ts
    idx = np.nonzero(pop.member[MC] & (pop.created < end))[0]
    il = idx.tolist()
    h = [unit_hash(seed, idx, 100 + k) for k in range(6)]
    created = pop.created[idx]
    email = [pop.spelling["mailchimp"][i] for i in il]
    tz = [_TZ[t] for t in (h[0] * len(_TZ)).astype(np.int64).tolist()]
    rating = np.where(idx < pop.n_random, 1 + np.minimum(4, (pop.p_open[idx] * 6).astype(np.int64)), 3)
    ip = [f"198.51.100.{1 + v}" if u < 0.5 else "" for v, u in zip((h[1] * 250).astype(int).tolist(), h[1].tolist(),
                                                                     strict=True)]
    addr = _q([f"{1 + v} Example Street  Springfield  IL  62701  US" if u < 0.2 else ""
               for v, u in zip((h[2] * 200).astype(int).tolist(), h[2].tolist(), strict=True)])
    phone = [f"555-01{v:02d}" if u < 0.3 else "" for v, u in zip((h[3] * 100).astype(int).tolist(), h[3].tolist(),
                                                                   strict=True)]
    bday = [f"{1 + m:02d}/{1 + d:02d}" if u < 0.25 else "" for m, d, u in
            zip((h[4] * 12).astype(int).tolist(), (h[5] * 28).astype(int).tolist(), h[4].tolist(), strict=True)]
    base = list(zip(
        [_mc_field("Email Address", e) for e in email], [_mc_field("First Name", pop.first[i]) for i in il],
        [_mc_field("Last Name", pop.last[i]) for i in il], addr, phone, bday, rating.astype(str).tolist(),
        _q(fmt_seconds(created)), ip, _q(fmt_seconds(created + 40 + (h[5] * 600).astype(np.int64))), ip,
        [str(t[0]) for t in tz], [str(t[1]) for t in tz], [t[2] for t in tz], [t[3] for t in tz], [t[4] for t in tz],
        strict=True))
    base_s = [",".join(b) for b in base]
    leid = (200000000 + idx).astype(str).tolist()
    euid = [f"{v:016x}"[:10] for v in mix64(idx.astype(np.uint64) ^ np.uint64(seed + 0xE0)).tolist()]
    tags = _q([_TAGS[v % len(_TAGS)] for v in (h[0] * 997).astype(np.int64).tolist()])
    unsub_t, clean_t = state.unsubscribed[MC][idx], state.hard_bounced[MC][idx]
    is_unsub = unsub_t < end
    is_clean = ~is_unsub & (clean_t < end)
    last = np.maximum.reduce([created + 600, summ.last_open[idx], summ.last_click[idx]])
    t_unsub = _q(fmt_seconds(np.where(is_unsub, unsub_t, 0)))
    t_clean = _q(fmt_seconds(np.where(is_clean, clean_t + 30, 0)))
    t_last = _q(fmt_seconds(last))
    why = [_UNSUB_REASONS[v] for v in (h[3] * 5).astype(np.int64).tolist()]
    groups: dict[str, list[tuple[str, str]]] = {"subscribed": [], "unsubscribed": [], "cleaned": []}
    for j, i in enumerate(il):
        if is_unsub[j]:
            s = int(state.unsub_send[MC][i])
            tail = [t_unsub[j], _q([sends.name[s]])[0], sends.mc_id[s], _q([why[j]])[0],
                    '"Too many emails"' if why[j] == "Other" else "", leid[j], euid[j], "", tags[j]]
            status = "unsubscribed"
        elif is_clean[j]:
            s = int(state.clean_send[MC][i])
            tail = [t_clean[j], _q([sends.name[s]])[0], sends.mc_id[s], leid[j], euid[j], "", tags[j]]
            status = "cleaned"
        else:
            tail = [t_last[j], leid[j], euid[j], "", tags[j]]
            status = "subscribed"
        groups[status].append((email[j].strip().lower(), base_s[j] + "," + ",".join(tail)))
    total = 0
    for status, items in groups.items():
        lines = [line for _, line in sorted(items)]
        if malformed and status == "subscribed":
            lines.insert(min(sc.MC_FIELD_COUNT_ROW - 1, len(lines)), 'field.count@example.com,Field,Count,,,,2')
            placed["mc_field_count"] = min(sc.MC_FIELD_COUNT_ROW, len(lines))
        if malformed and status == "unsubscribed":
            lines.append('broken.quote@example.org,"Broken,Quote,,,,2,"2025-03-01 10:00:00",,"2025-03-01 10:02:00",,0,1,'
                         'Europe/London,GB,ENG,"2026-09-01 12:00:00",,,"Other",,299999999,0a0b0c0d0e,,')
        if malformed and status == "unsubscribed":
            placed["mc_unterminated"] = len(lines)
        path = out / "mailchimp" / "members" / f"{status}_members_export_{win.tag}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(mc_header(status) + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
        total += len(lines)
    return total


# ------------------------------------------------------------------ Mailchimp campaigns and email activity
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
           '","email_address":', p.email_j, ',"activity":[', a.a, ']}}') AS j
  FROM m p LEFT JOIN acts a ON a.send = p.send AND a.contact = p.contact
  WHERE p.etype = 0
)
SELECT send, count(*) AS emails, sum(n)::BIGINT AS acts, string_agg(j, ',' ORDER BY contact) AS body
FROM em GROUP BY send ORDER BY send
"""


def write_mailchimp_reports(out: Path, pop: Population, sends: Sends, ev: Events, win: Window) -> tuple[int, int]:
    """Returns (campaigns written, email-activity rows written: one per recipient + one per activity)."""
    camp = [s for s in range(len(sends)) if sends.platform[s] == MC and win.start_ts <= sends.ts[s] < win.end_ts]
    e = ev.select((ev.platform == MC) & np.isin(ev.send, camp))
    members = np.unique(e.contact)
    md5 = np.full(pop.size, "", dtype=object)
    md5[members] = [hashlib.md5(pop.spelling["mailchimp"][i].strip().lower().encode()).hexdigest()
                    for i in members.tolist()]
    con = _connect()
    con.register("mc", pa.table({
        "send": e.send, "contact": e.contact, "etype": e.etype, "ts": e.ts, "eid": e.eid, "machine": e.machine,
        "tsf": iso_col(e.ts, suffix="+00:00"),
        "reason": e.reason, "slug": _dict(sends.slug, e.send), "cid": _dict(sends.mc_id, e.send),
        "rkind": _dict([r.kind for r in REASONS], np.maximum(e.reason, 0)),
        "md5": _dict(pa.array(md5.tolist(), pa.string()), e.contact),
        "email_j": _dict(_jq(pop.spelling["mailchimp"]), e.contact),
    }))
    res = con.sql(MC_SQL.format(links=_sql_list(LINK_PATHS), hard=HARD, list_id=LIST_ID)).fetchall()
    con.close()
    got = {int(r[0]): (int(r[1]), int(r[2]), r[3]) for r in res}
    docs = []
    activity_rows = 0
    adir = out / "mailchimp" / "email_activity"
    adir.mkdir(parents=True, exist_ok=True)
    for s in camp:
        cid = sends.mc_id[s]
        n_emails, n_acts, body = got.get(s, (0, 0, ""))
        activity_rows += n_emails + n_acts
        day = dt.datetime.fromtimestamp(int(sends.ts[s]), UTC)
        (adir / f"email_activity_{day:%Y%m%d}_{cid}.json").write_text(
            f'{{"emails":[{body}],"campaign_id":"{cid}","total_items":{n_emails}}}\n', encoding="utf-8")
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
    cdir = out / "mailchimp" / "campaigns"
    cdir.mkdir(parents=True, exist_ok=True)
    (cdir / f"mailchimp_campaigns_{win.tag}.json").write_text(
        json.dumps({"campaigns": docs, "total_items": len(docs)}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return len(docs), activity_rows


# ------------------------------------------------------------------ event streams via DuckDB
_PLAIN = re.compile(r'^[^"\\\x00-\x1f\x7f-\uffff]*$')


def _jq(items: list[str]) -> pa.Array:
    """JSON string literals (quoted, escaped) for a list of strings."""
    if all(_PLAIN.match(i) for i in items):  # nothing to escape: the common case, and much faster
        return pa.array(['"' + i + '"' for i in items], pa.string())
    return pa.array([json.dumps(i) for i in items], pa.string())


_HEX = {False: np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2"),
        True: np.array([f"{i:02X}".encode() for i in range(256)], dtype="S2")}


def _fixed_strings(chars: np.ndarray) -> pa.StringArray:
    """An (n, w) uint8 array of ASCII characters -> an Arrow string array of n strings of width w, no Python loop."""
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes()))


def hex_col(x: np.ndarray, upper: bool = False, first: int = 0, last: int = 8) -> pa.StringArray:
    """Hex of bytes [first, last) of big-endian uint64 values: format('{:016x}') for the whole, vectorised."""
    b = np.asarray(x, dtype=">u8").view(np.uint8).reshape(-1, 8)[:, first:last]
    return _fixed_strings(_HEX[upper][b].view(np.uint8).reshape(len(b), 2 * (last - first)))


def _digits(out: np.ndarray, col: int, v: np.ndarray, width: int) -> None:
    for k in range(width):
        out[:, col + width - 1 - k] = v % 10 + 48
        v = v // 10


def dec_col(x: np.ndarray, width: int) -> pa.StringArray:
    """Zero-padded decimal of non-negative integers: format('{:0{width}d}'), vectorised."""
    out = np.empty((len(x), width), dtype=np.uint8)
    _digits(out, 0, np.asarray(x, dtype=np.int64), width)
    return _fixed_strings(out)


def iso_col(ts: np.ndarray, ms: np.ndarray | None = None, suffix: str = "Z") -> pa.StringArray:
    """Unix seconds (+ milliseconds) -> 'YYYY-MM-DDTHH:MM:SS[.mmm]<suffix>' (UTC), vectorised."""
    ts = np.asarray(ts, dtype=np.int64)
    days = ts // DAY
    # the calendar part repeats: format each distinct day once
    uniq, inv = np.unique(days, return_inverse=True)
    dates = np.frombuffer("".join(str(np.datetime64(int(d), "D")) + "T" for d in uniq.tolist()).encode(),
                          dtype=np.uint8).reshape(len(uniq), 11)
    head = "" if ms is None else ".000"
    width = 11 + 8 + len(head) + len(suffix)
    out = np.empty((len(ts), width), dtype=np.uint8)
    out[:, :11] = dates[inv.reshape(-1)]
    sec = ts - days * DAY
    _digits(out, 11, sec // 3600, 2)
    out[:, 13] = ord(":")
    _digits(out, 14, sec // 60 % 60, 2)
    out[:, 16] = ord(":")
    _digits(out, 17, sec % 60, 2)
    if ms is not None:
        out[:, 19] = ord(".")
        _digits(out, 20, np.asarray(ms, dtype=np.int64), 3)
    out[:, width - len(suffix):] = np.frombuffer(suffix.encode(), dtype=np.uint8)
    return _fixed_strings(out)


def _dict(values: pa.Array | list[str], indices: np.ndarray) -> pa.DictionaryArray:
    """values[indices] without copying the strings (DuckDB reads Arrow dictionaries directly)."""
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(indices, dtype=np.int32)), values)


def _event_table(pop: Population, sends: Sends, ev: Events, platform: int) -> pa.Table:
    """One platform's events with every string they need already looked up or formatted (no joins, order kept)."""
    plat = ("sendgrid", "mailchimp", "ses")[platform]
    e = ev.select(ev.platform == platform)
    mids = message_ids(sends.uid[e.send], e.contact)
    mid2 = mix64(mids)
    send, reason = e.send, np.maximum(e.reason, 0)
    cols = {
        "ts": e.ts, "ms": e.ms, "etype": e.etype, "machine": e.machine, "reason": e.reason,
        "eid": e.eid, "mid": mids, "mid2": mid2, "contact": e.contact,
        "he": hex_col(e.eid), "h": hex_col(mids), "h2": hex_col(mid2),
        "email_j": _dict(_jq(pop.spelling[plat]), e.contact),
        "slug": _dict(sends.slug, send), "slug_j": _dict(_jq(sends.slug), send),
        "rkind": _dict([r.kind for r in REASONS], reason),
        "status": _dict([r.status for r in REASONS], reason),
    }
    if platform == SG:
        cols.update({
            "h2_hi": hex_col(mid2, first=0, last=4), "h2_lo": hex_col(mid2, upper=True, first=4, last=8),
            "contact7": dec_col(e.contact, 7), "name_j": _dict(_jq(sends.name), send), "kind": sends.kind[e.send],
            "step": sends.step[e.send], "sgid": sends.sg_campaign_id[e.send],
            "rtext_j": _dict(_jq([r.text for r in REASONS]), reason),
            "sg_class": _dict([r.sg_class for r in REASONS], reason),
        })
    else:
        mail_ts = sends.ts[e.send] + (mids % np.uint64(1800)).astype(np.int64)
        cols.update({
            "mail_ts": mail_ts, "he3": hex_col(e.eid >> np.uint64(3)),
            "t_iso": iso_col(e.ts, e.ms), "arrival_iso": iso_col(e.ts - 40, e.ms),
            "m_iso": iso_col(mail_ts, np.zeros(len(e.ts), dtype=np.int64)),
            "diag_j": _dict(_jq(["smtp; " + r.text for r in REASONS]), reason),
            "ses_type": _dict([r.ses_type for r in REASONS], reason),
            "ses_sub": _dict([r.ses_subtype for r in REASONS], reason),
        })
    return pa.table(cols)


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")  # rows come out in the (sorted) order they went in
    con.execute("SET arrow_large_buffer_size = true")
    return con


class Lines:
    """The `line` column of a query result, kept in DuckDB's Arrow chunks (no concatenating copy)."""

    def __init__(self, col: pa.ChunkedArray) -> None:
        self.parts: list[tuple[memoryview, np.ndarray]] = []
        starts = [0]
        for ch in col.chunks:
            if len(ch) == 0:
                continue
            if ch.type != pa.large_string():
                ch = ch.cast(pa.large_string())
            bufs = ch.buffers()
            self.parts.append((memoryview(bufs[2]), np.frombuffer(bufs[1], dtype=np.int64)[ch.offset:ch.offset + len(ch) + 1]))
            starts.append(starts[-1] + len(ch))
        self.starts = np.array(starts, dtype=np.int64)

    def write(self, fh: io.BufferedWriter, lo: int, hi: int, trim_last: int = 0) -> None:
        """Write rows [lo, hi), dropping `trim_last` bytes from the end of the last one."""
        while lo < hi:
            k = int(np.searchsorted(self.starts, lo, side="right")) - 1
            data, off = self.parts[k]
            end = min(hi, int(self.starts[k + 1]))
            a, z = int(off[lo - self.starts[k]]), int(off[end - self.starts[k]])
            fh.write(data[a:z - (trim_last if end == hi else 0)])
            lo = end

    def row(self, i: int) -> bytes:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        data, off = self.parts[k]
        j = i - int(self.starts[k])
        return bytes(data[int(off[j]):int(off[j + 1])])


def _lines(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[np.ndarray, Lines]:
    """Run a query returning (ts, line): the ts array and the lines."""
    tbl = con.sql(sql).to_arrow_table()
    return tbl.column("ts").to_numpy(), Lines(tbl.column("line"))


SG_SQL = """
SELECT e.ts, concat(
  '{{"email":', e.email_j, ',"timestamp":', e.ts,
  CASE WHEN e.etype NOT IN (2, 3, 7, 8)
       THEN concat(',"smtp-id":"<', e.h, '@ismtpd0', e.mid % 90 + 10, 'p1mdw1.sendgrid.net>"') END,
  ',"event":"', {event_names}[e.etype + 1], '"',
  CASE e.etype
    WHEN 1 THEN concat(',"response":"250 2.0.0 OK ', e.mid % 900000 + 100000, ' - accepted for delivery","ip":"198.51.100.',
                       e.mid % 200 + 10, '","tls":1')
    WHEN 2 THEN concat(',"useragent":',
                       CASE WHEN e.machine THEN '"{machine_ua}"' ELSE {uas}[(e.eid % {n_ua})::INT + 1] END,
                       ',"ip":"',
                       CASE WHEN e.machine
                            THEN concat('17.', (e.eid >> 8) % 256, '.', (e.eid >> 16) % 256, '.', (e.eid >> 24) % 250 + 1)
                            ELSE concat('203.0.113.', e.eid % 250 + 1) END,
                       '","sg_machine_open":', CASE WHEN e.machine THEN 'true' ELSE 'false' END)
    WHEN 3 THEN concat(',"useragent":', {uas}[(e.eid % {n_ua})::INT + 1], ',"ip":"203.0.113.', e.eid % 250 + 1,
                       '","url":"https://www.example.com/', e.slug, '/', {links}[e.reason + 1],
                       '","url_offset":{{"index":', e.reason, ',"type":"html"}}')
    WHEN 4 THEN concat(',"type":"', CASE WHEN e.rkind = '{block}' THEN 'blocked' ELSE 'bounce' END,
                       '","status":"', e.status, '","reason":', e.rtext_j,
                       ',"bounce_classification":"', e.sg_class, '","ip":"198.51.100.', e.mid % 200 + 10, '","tls":1')
    WHEN 5 THEN concat(',"response":', e.rtext_j, ',"attempt":"1","ip":"198.51.100.', e.mid % 200 + 10, '","tls":1')
    WHEN 6 THEN concat(',"reason":', e.rtext_j, ',"status":"5.0.0"')
  END,
  ',"category":', CASE WHEN e.kind = 0 THEN '["newsletter"]' ELSE concat('["series","step-', e.step, '"]') END,
  ',"sg_event_id":"', e.he, '"',
  ',"sg_message_id":"', e.h, '.filterdrecv-', e.mid2 % 9000 + 1000, '-',
  e.h2_hi, '-1-', e.h2_lo, '-', e.mid2 % 37, '.0"',
  ',"marketing_campaign_id":', e.sgid, ',"marketing_campaign_name":', e.name_j,
  CASE WHEN ((e.contact * 2654435761) % 100) < 15
       THEN concat(',"crm_contact_id":"003XX0000', e.contact7, '"') END,
  '}}', CASE WHEN (e.ts // 86400) % 2 = 0 THEN ',' END, chr(10)) AS line
FROM ev e
"""


def write_sendgrid(out: Path, pop: Population, sends: Sends, ev: Events, win: Window, malformed: bool,
                   placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the line numbers of the malformed rows."""
    con = _connect()
    con.register("ev", _event_table(pop, sends, ev, SG))
    sql = SG_SQL.format(machine_ua=MACHINE_UA, uas=UAS_SQL, n_ua=len(HUMAN_UAS),
                        links=_sql_list(LINK_PATHS), block=BLOCK, event_names=_sql_list(SG_EVENT_NAMES))
    ts, lines = _lines(con, sql)
    con.close()
    d = out / "sendgrid" / "events"
    d.mkdir(parents=True, exist_ok=True)
    day = ts // DAY
    # rows are sorted by time, so each calendar day is one contiguous run
    days, first = np.unique(day, return_index=True)
    bounds = np.append(first, len(ts))
    rows = 0
    jsonl_runs: list[tuple[int, int]] = []
    for k, dd in enumerate(days):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if dd % 2:  # odd calendar days go to the JSONL dump
            jsonl_runs.append((lo, hi))
            continue
        # even days arrive as webhook POST bodies: one JSON array per file
        date = dt.date(1970, 1, 1) + dt.timedelta(days=int(dd))
        for b, k0 in enumerate(range(lo, hi, SG_BATCH)):
            k1 = min(k0 + SG_BATCH, hi)
            with open(d / f"sendgrid_webhook_{date:%Y%m%d}_{b + 1:03d}.json", "wb") as fh:
                fh.write(b"[\n")
                lines.write(fh, k0, k1, trim_last=2)  # even-day lines end with ",\n"; drop the last one's
                fh.write(b"\n]\n")
            rows += k1 - k0
    n_real = sum(hi - lo for lo, hi in jsonl_runs)
    head_n = 6 if malformed else 0  # the first lines are rewritten to hold the malformed ones
    head: list[bytes] = []
    for lo, hi in jsonl_runs:
        while lo < hi and len(head) < head_n:
            head.append(lines.row(lo)[:-1])
            lo += 1
    if malformed:
        bad_json = (b'{"email":"broken.line@example.com","timestamp":' + str(win.start_ts + 3600).encode()
                    + b',"event":"open","sg_event_id":"trunc')
        bad_time = (b'{"email":"bad.time@example.net","timestamp":"not-a-time","event":"delivered",'
                    b'"smtp-id":"<0badtime@ismtpd0042p1mdw1.sendgrid.net>","category":["newsletter"],'
                    b'"sg_event_id":"0000badtime00000","sg_message_id":"0000badtime00000.filterdrecv-1000-0-1-0-0.0"}')
        head.insert(min(sc.SG_BAD_JSON_LINE - 1, len(head)), bad_json)
        head.insert(min(sc.SG_BAD_TIME_LINE - 1, len(head)), bad_time)
        if placed is not None:
            placed["sg_bad_json"], placed["sg_bad_time"] = head.index(bad_json) + 1, head.index(bad_time) + 1
    with open(d / f"sendgrid_events_{win.tag}.jsonl", "wb") as fh:
        fh.write(b"".join(x + b"\n" for x in head))
        skip = head_n
        for lo, hi in jsonl_runs:
            take = min(skip, hi - lo)
            skip -= take
            if lo + take < hi:
                lines.write(fh, lo + take, hi)
    return rows + n_real + (2 if malformed else 0)


SES_SQL = """
WITH x AS (
  SELECT e.* FROM ev e
), y AS (
  SELECT ts, eid, he, he3, h2, t_iso, concat(
    '{{"eventType":"', ['Send', 'Delivery', 'Open', 'Click', 'Bounce', 'Complaint', 'Complaint', 'Complaint',
                        'Complaint'][etype + 1], '",',
    '"mail":{{"timestamp":"', m_iso, '","source":"{source}","sendingAccountId":"{acct}","messageId":"0100019',
    substr(h, 1, 9), '-', substr(h2, 1, 8), '-', substr(h2, 9, 4), '-', substr(h2, 13, 4), '-', substr(h, 10, 4),
    '-', substr(h, 14, 3), substr(h2, 1, 9), '-000000","destination":[', email_j, '],',
    '"tags":{{"ses:configuration-set":["marketing"],"campaign":[', slug_j, ']}}}},',
    CASE etype
      WHEN 0 THEN '"send":{{}}'
      WHEN 1 THEN concat('"delivery":{{"timestamp":"', t_iso, '","processingTimeMillis":', (ts - mail_ts) * 1000 + ms,
                         ',"recipients":[', email_j, '],"smtpResponse":"250 2.0.0 OK  ', mid % 900000 + 100000,
                         ' - queued as ', substr(h2, 1, 12), '","remoteMtaIp":"198.51.100.', mid % 200 + 10,
                         '","reportingMTA":"a8-', mid % 90 + 10, '.smtp-out.amazonses.com"}}')
      WHEN 2 THEN concat('"open":{{"timestamp":"', t_iso, '","userAgent":',
                         CASE WHEN machine THEN '"{machine_ua}"' ELSE {uas}[(eid % {n_ua})::INT + 1] END,
                         ',"ipAddress":"',
                         CASE WHEN machine
                              THEN concat('17.', (eid >> 8) % 256, '.', (eid >> 16) % 256, '.', (eid >> 24) % 250 + 1)
                              ELSE concat('192.0.2.', eid % 250 + 1) END, '"}}')
      WHEN 3 THEN concat('"click":{{"timestamp":"', t_iso, '","ipAddress":"192.0.2.', eid % 250 + 1,
                         '","userAgent":', {uas}[(eid % {n_ua})::INT + 1], ',"link":"https://www.example.com/',
                         slug, '/', {links}[reason + 1], '","linkTags":{{"campaign":[', slug_j, ']}}}}')
      WHEN 4 THEN concat('"bounce":{{"feedbackId":"0100019', substr(he, 1, 9), '-', substr(h2, 1, 8), '-',
                         substr(he, 10, 7), '-000000","bounceType":"', ses_type, '","bounceSubType":"', ses_sub,
                         '","bouncedRecipients":[{{"emailAddress":', email_j, ',"action":"failed","status":"',
                         status, '","diagnosticCode":', diag_j, '}}],"timestamp":"', t_iso,
                         '","reportingMTA":"dns; a8-', mid % 90 + 10, '.smtp-out.amazonses.com"}}')
      ELSE concat('"complaint":{{"feedbackId":"0100019', substr(he, 1, 9), '-', substr(h2, 1, 8), '-',
                  substr(he, 10, 7), '-000000","complaintSubType":null,"complainedRecipients":[{{"emailAddress":',
                  email_j, '}}],"timestamp":"', t_iso, '","userAgent":"Example Mailbox Feedback Loop (V0.01)",',
                  '"complaintFeedbackType":"abuse","arrivalDate":"', arrival_iso, '"}}')
    END, '}}') AS inner_json
  FROM x
)
SELECT ts, concat(
  '{{"Type":"Notification","MessageId":"', substr(he, 1, 8), '-', substr(he, 9, 4), '-5', substr(he, 13, 3), '-8',
  substr(he3, 1, 3), '-', substr(h2, 5, 12),
  '","TopicArn":"{topic}","Subject":"Amazon SES Email Event Notification","Message":', to_json(inner_json),
  ',"Timestamp":"', t_iso, '","SignatureVersion":"1","Signature":"EXAMPLE', substr(he, 1, 12),
  '==","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-',
  '0000000000000000000000.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  '&SubscriptionArn={topic}:0000"}}', chr(10)) AS line
FROM y
"""


def write_ses(out: Path, pop: Population, sends: Sends, ev: Events, win: Window) -> int:
    con = _connect()
    con.register("ev", _event_table(pop, sends, ev, SES))
    sql = SES_SQL.format(
        source=SES_SOURCE, acct=SES_ACCOUNT,
        machine_ua=MACHINE_UA, uas=UAS_SQL, n_ua=len(HUMAN_UAS), links=_sql_list(LINK_PATHS),
        topic=TOPIC)
    ts, lines = _lines(con, sql)
    con.close()
    d = out / "ses" / "events"
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"ses_events_{win.tag}.jsonl", "wb") as fh:
        lines.write(fh, 0, len(ts))
    return len(ts)


__all__ = ["Window", "summarize", "write_hubspot", "write_mailchimp_members", "write_mailchimp_reports",
           "write_sendgrid", "write_ses"]
