"""Mailchimp audience exports: subscribed, unsubscribed and cleaned members, one CSV each, sorted by address.

A follow-up drop (Window.full off) holds only the members changed since its start: Mailchimp's incremental read is
`GET /lists/{id}/members?since_last_changed=` (../shared/PLATFORMS.md section 2), and the rows keep the audience
export's three files and columns. LAST_CHANGED (UNSUB_TIME, CLEAN_TIME) is when the row last changed; it depends only
on what happened to the member up to the window's end, so a member left out reads as in the drop before. Scenario
members are always written: their timelines count back from each drop's end.

The export quotes the merge-field labels in the header, and timestamps and free text in the rows. Two malformed
records (a short row, an unterminated quote) are planted when `malformed` is on; scenarios.MALFORMED says where.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from . import scenarios as sc
from .model import MC, Population, Sends, State, mix64, unit_hash
from .output_files import OutputFile
from .summary import Summary, Window
from .text_columns import connect, csv_quoted, dict_col, hex_col, iso_col, query_lines

MC_BASE = ["Email Address", "First Name", "Last Name", "Address", "Phone Number", "Birthday", "MEMBER_RATING",
           "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION"]
MC_TAIL = {
    "subscribed": ["LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"],
    "unsubscribed": ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER",
                     "LEID", "EUID", "NOTES", "TAGS"],
    "cleaned": ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID", "LEID", "EUID", "NOTES", "TAGS"],
}
STATUSES = tuple(MC_TAIL)
_TZ = ((-5, -4, "America/New_York", "US", "NY"), (-6, -5, "America/Chicago", "US", "IL"),
       (0, 1, "Europe/London", "GB", "ENG"), (1, 2, "Europe/Paris", "FR", "IDF"), (1, 2, "Europe/Berlin", "DE", "BE"),
       (-8, -7, "America/Los_Angeles", "US", "CA"), (10, 11, "Australia/Sydney", "AU", "NSW"))
_UNSUB_REASONS = ("I no longer want to receive these emails", "I never signed up for this mailing list",
                  "The emails are inappropriate", "The emails are spam and should be reported", "Other")
_TAGS = ('"Customer"', '"Prospect"', '"Customer","2026 webinar"', '', '', '"Newsletter"')
FIELD_COUNT_ROW = "field.count@example.com,Field,Count,,,,2"
UNTERMINATED_ROW = ('broken.quote@example.org,"Broken,Quote,,,,2,"2025-03-01 10:00:00",,"2025-03-01 10:02:00",,0,1,'
                    'Europe/London,GB,ENG,"2026-09-01 12:00:00",,,"Other",,299999999,0a0b0c0d0e,,')


def mc_header(status: str) -> str:
    return ",".join(f'"{c}"' if c[0].islower() or " " in c or c[1:].islower() else c
                    for c in MC_BASE + MC_TAIL[status])


def _quoted(values: list[str] | pa.Array, always: bool) -> pa.Array:
    """Mailchimp's quoting: non-empty values always (timestamps, free text) or when they hold , " or a newline."""
    return csv_quoted(values, always, specials=',"\n')


def _seconds(ts: np.ndarray) -> pa.Array:
    """'"YYYY-MM-DD HH:MM:SS"' (quoted, as the export writes times)."""
    return iso_col(ts, sep=" ", suffix='"', prefix='"')


def write_mailchimp_members(out: Path, pop: Population, state: State, sends: Sends, summ: Summary, win: Window,
                            seed: int, malformed: bool, placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the record numbers of the malformed rows."""
    placed = {} if placed is None else placed
    end = win.end_ts
    idx = np.nonzero(pop.member[MC] & (pop.created < end))[0]
    unsub_t, clean_t = state.unsubscribed[MC][idx], state.hard_bounced[MC][idx]
    is_unsub = unsub_t < end
    is_clean = ~is_unsub & (clean_t < end)
    engaged = np.maximum(summ.last_open[idx], summ.last_click[idx])
    # the row changes when the member joins, engages (while subscribed), unsubscribes or is cleaned
    moved = np.where(is_unsub, unsub_t, np.where(is_clean, clean_t, np.maximum(pop.created[idx], engaged)))
    keep = win.changed(moved) | (idx >= pop.n_random)  # scenario timelines count back from each drop's end
    idx, is_unsub, is_clean, engaged = idx[keep], is_unsub[keep], is_clean[keep], engaged[keep]
    unsub_t, clean_t = unsub_t[keep], clean_t[keep]
    il = idx.tolist()
    h = [unit_hash(seed, idx, 100 + k) for k in range(6)]
    created = pop.created[idx]
    email = [pop.spelling["mailchimp"][i] for i in il]
    tz = (h[0] * len(_TZ)).astype(np.int64)
    status = np.where(is_unsub, 1, np.where(is_clean, 2, 0))
    send = np.where(is_unsub, state.unsub_send[MC][idx], np.where(is_clean, state.clean_send[MC][idx], 0))
    changed = np.where(is_unsub, unsub_t, np.where(is_clean, clean_t + 30, np.maximum(created + 600, engaged)))
    why = (h[3] * len(_UNSUB_REASONS)).astype(np.int64)
    tbl = pa.table({
        "status": status, "norm": [e.strip().lower() for e in email],
        "email": _quoted(email, False), "first": _quoted([pop.first[i] for i in il], False),
        "last": _quoted([pop.last[i] for i in il], False),
        "addr": h[2] < 0.2, "addr_n": 1 + (h[2] * 200).astype(np.int64),
        "phone": h[3] < 0.3, "phone_n": (h[3] * 100).astype(np.int64),
        "bday": h[4] < 0.25, "month": 1 + (h[4] * 12).astype(np.int64), "mday": 1 + (h[5] * 28).astype(np.int64),
        "rating": np.where(idx < pop.n_random, 1 + np.minimum(4, (pop.p_open[idx] * 6).astype(np.int64)), 3),
        "optin": _seconds(created), "confirm": _seconds(created + 40 + (h[5] * 600).astype(np.int64)),
        "ip": h[1] < 0.5, "ip_n": 1 + (h[1] * 250).astype(np.int64),
        "tz": dict_col([",".join(map(str, t)) for t in _TZ], tz),
        "changed": _seconds(changed),
        "campaign": dict_col(_quoted(sends.name, True), send), "campaign_id": dict_col(sends.mc_id, send),
        "why": dict_col(_quoted(list(_UNSUB_REASONS), True), why), "other": why == len(_UNSUB_REASONS) - 1,
        "leid": 200000000 + idx, "euid": hex_col(mix64(idx.astype(np.uint64) ^ np.uint64(seed + 0xE0)), last=5),
        "tags": dict_col(_quoted(list(_TAGS), True), (h[0] * 997).astype(np.int64) % len(_TAGS)),
    })
    con = connect()
    con.register("members", tbl)
    _, lines = query_lines(con, """
        SELECT 0 AS ts, concat(email, ',', first, ',', last, ',',
          CASE WHEN addr THEN concat('"', addr_n, ' Example Street  Springfield  IL  62701  US"') ELSE '' END, ',',
          CASE WHEN phone THEN concat('555-01', lpad(phone_n::VARCHAR, 2, '0')) ELSE '' END, ',',
          CASE WHEN bday THEN concat(lpad(month::VARCHAR, 2, '0'), '/', lpad(mday::VARCHAR, 2, '0')) ELSE '' END, ',',
          rating, ',', optin, ',', CASE WHEN ip THEN concat('198.51.100.', ip_n) ELSE '' END, ',', confirm, ',',
          CASE WHEN ip THEN concat('198.51.100.', ip_n) ELSE '' END, ',', tz, ',', changed, ',',
          CASE status
            WHEN 1 THEN concat(campaign, ',', campaign_id, ',', why, ',', CASE WHEN other THEN '"Too many emails"' END,
                               ',')
            WHEN 2 THEN concat(campaign, ',', campaign_id, ',')
            ELSE '' END,
          leid, ',', euid, ',,', tags, chr(10)) AS line
        FROM members ORDER BY status, norm, line""")
    con.close()
    counts = np.bincount(status, minlength=len(STATUSES))
    total, lo = 0, 0
    for k, name in enumerate(STATUSES):
        hi = lo + int(counts[k])
        extra_at: int | None = None
        extra = b""
        if malformed and name == "subscribed":
            extra_at, extra = min(sc.MC_FIELD_COUNT_ROW - 1, hi - lo), FIELD_COUNT_ROW.encode() + b"\n"
            placed["mc_field_count"] = min(sc.MC_FIELD_COUNT_ROW, hi - lo + 1)
        if malformed and name == "unsubscribed":
            extra_at, extra = hi - lo, UNTERMINATED_ROW.encode() + b"\n"
            placed["mc_unterminated"] = hi - lo + 1
        path = out / "mailchimp" / "members" / f"{name}_members_export_{win.tag}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with OutputFile(path) as fh:
            fh.write(mc_header(name).encode() + b"\n")
            split = hi if extra_at is None else lo + extra_at
            lines.write(fh, lo, split)
            fh.write(extra)
            lines.write(fh, split, hi)
        total += hi - lo + (1 if extra else 0)
        lo = hi
    return total
