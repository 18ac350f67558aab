"""The columns the event-stream writers (SendGrid, SES) format their lines from, looked up and formatted column-wise.

Strings that repeat (addresses, campaign names, SMTP replies) are Arrow dictionary columns, formatted once per
distinct value; ids and times are formatted per row with numpy (text_columns.py). DuckDB then prints each line in one
SQL pass.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from .model import REASONS, SG, Events, Population, Sends, message_ids, mix64
from .text_columns import composed, dec_col, dict_col, hex_col, hex_digits, iso_col, json_escaped, json_quoted

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
UAS_SQL = "[" + ", ".join("'" + json.dumps(u).replace("'", "''") + "'" for u in HUMAN_UAS) + "]"  # JSON-quoted, a SQL list


def sql_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


class EventTables:
    """Tables of one platform's events, a chunk at a time, with every string they need already looked up or
    formatted (no joins, order kept).

    The per-contact and per-send strings (addresses, campaign names) are formatted once here, not once per chunk:
    at a million contacts the address list alone costs more than formatting a chunk's ids.
    """

    def __init__(self, pop: Population, sends: Sends, platform: int) -> None:
        self.sends, self.platform = sends, platform
        emails = json_quoted(pop.spelling[("sendgrid", "mailchimp", "ses")[platform]])
        self.dicts: dict[str, pa.Array] = {"slug": pa.array(sends.slug, pa.string())}
        if platform == SG:
            self.dicts |= {"email_j": emails, "name_j": json_quoted(sends.name),
                           "rtext_j": json_quoted([r.text for r in REASONS])}
        else:  # the SES record is printed inside a JSON string (writers_ses.py): its JSON texts come escaped once more
            self.dicts |= {"email_je": json_escaped(emails), "slug_je": json_escaped(json_quoted(sends.slug)),
                           "diag_je": json_escaped(json_quoted(["smtp; " + r.text for r in REASONS]))}

    def __call__(self, e: Events) -> pa.Table:
        """The table of `e`: events of this platform only."""
        sends, dicts = self.sends, self.dicts
        mids = message_ids(sends.uid[e.send], e.contact)
        mid2 = mix64(mids)
        send, reason = e.send, np.maximum(e.reason, 0)
        cols = {
            "ts": e.ts, "ms": e.ms, "etype": e.etype, "machine": e.machine, "reason": e.reason,
            "eid": e.eid, "mid": mids, "mid2": mid2, "contact": e.contact,
            "slug": dict_col(dicts["slug"], send),
            "rkind": dict_col([r.kind for r in REASONS], reason),
            "status": dict_col([r.status for r in REASONS], reason),
        }
        if self.platform == SG:
            cols.update({
                "email_j": dict_col(dicts["email_j"], e.contact), "he": hex_col(e.eid), "h": hex_col(mids),
                "h2_hi": hex_col(mid2, first=0, last=4), "h2_lo": hex_col(mid2, upper=True, first=4, last=8),
                "contact7": dec_col(e.contact, 7), "name_j": dict_col(dicts["name_j"], send),
                "kind": sends.kind[e.send], "step": sends.step[e.send], "sgid": sends.sg_campaign_id[e.send],
                "rtext_j": dict_col(dicts["rtext_j"], reason),
                "sg_class": dict_col([r.sg_class for r in REASONS], reason),
            })
        else:
            mail_ts = sends.ts[e.send] + (mids % np.uint64(1800)).astype(np.int64)
            n, h, h2, he = len(mids), hex_digits(mids), hex_digits(mid2), hex_digits(e.eid)
            cols.update({
                # SES's ids are cut from the hex digits of the message and event ids (writers_ses.py)
                "mail_id": composed(n, [h[:, :9], b"-", h2[:, :8], b"-", h2[:, 8:12], b"-", h2[:, 12:], b"-",
                                        h[:, 9:13], b"-", h[:, 13:], h2[:, :9]]),
                "feedback_id": composed(n, [he[:, :9], b"-", h2[:, :8], b"-", he[:, 9:]]),
                "sns_id": composed(n, [he[:, :8], b"-", he[:, 8:12], b"-5", he[:, 12:15], b"-8",
                                       hex_digits(e.eid >> np.uint64(3))[:, :3], b"-", h2[:, 4:]]),
                "queued": composed(n, [h2[:, :12]]), "sig": composed(n, [he[:, :12]]),
                "mail_ts": mail_ts,
                "t_iso": iso_col(e.ts, e.ms), "arrival_iso": iso_col(e.ts - 40, e.ms),
                "m_iso": iso_col(mail_ts, np.zeros(len(e.ts), dtype=np.int64)),
                "email_je": dict_col(dicts["email_je"], e.contact), "slug_je": dict_col(dicts["slug_je"], send),
                "diag_je": dict_col(dicts["diag_je"], reason),
                "ses_type": dict_col([r.ses_type for r in REASONS], reason),
                "ses_sub": dict_col([r.ses_subtype for r in REASONS], reason),
            })
        return pa.table(cols)
