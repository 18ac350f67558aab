"""SendGrid Event Webhook deliveries: even days as POST bodies (JSON arrays of up to 5000 events), odd days in one
JSONL dump, which also holds the two malformed lines when `malformed` is on (scenarios.MALFORMED says where).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np

from . import scenarios as sc
from .event_columns import HUMAN_UAS, MACHINE_UA, UAS_SQL, EventTables, sql_list
from .model import BLOCK, DAY, LINK_PATHS, SG, Events, Population, Sends
from .output_files import OutputFile
from .summary import Window
from .text_columns import Lines, connect, stream_lines

SG_BATCH = 5000  # events per Event Webhook POST body
CHUNK_EVENTS = 500_000  # events formatted per query: bounds memory at any scale
SG_EVENT_NAMES = ("processed", "delivered", "open", "click", "bounce", "deferred", "dropped", "spamreport", "unsubscribe")


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


def day_bounds(ts: np.ndarray) -> list[int]:
    """The first row of each calendar day, then len(ts) (ts sorted, not empty)."""
    days = ts // DAY
    return [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist(), len(ts)]


def _bad_lines(win: Window) -> tuple[bytes, bytes]:
    bad_json = (b'{"email":"broken.line@example.com","timestamp":' + str(win.start_ts + 3600).encode()
                + b',"event":"open","sg_event_id":"trunc')
    bad_time = (b'{"email":"bad.time@example.net","timestamp":"not-a-time","event":"delivered",'
                b'"smtp-id":"<0badtime@ismtpd0042p1mdw1.sendgrid.net>","category":["newsletter"],'
                b'"sg_event_id":"0000badtime00000","sg_message_id":"0000badtime00000.filterdrecv-1000-0-1-0-0.0"}')
    return bad_json, bad_time


class _Webhooks:
    """The even days' POST bodies: a file per SG_BATCH events of a day, each a JSON array.

    Even-day lines end with ",\n"; a file is closed by writing "\n]\n" over the last one's, once the next line
    turns out to belong elsewhere (lines come a batch at a time, so the last of a file is known only then).
    """

    def __init__(self, d: Path) -> None:
        self.d = d
        self.fh: OutputFile | None = None
        self.day, self.files, self.in_file, self.rows = -1, 0, 0, 0

    def add(self, day: int, lines: Lines, lo: int, hi: int) -> None:
        if day != self.day:
            self.close()
            self.day, self.files = day, 0
        while lo < hi:
            if self.fh is None or self.in_file == SG_BATCH:
                self.close()
                self.files += 1
                date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
                self.fh = OutputFile(self.d / f"sendgrid_webhook_{date:%Y%m%d}_{self.files:03d}.json")
                self.fh.write(b"[\n")
                self.in_file = 0
            k = min(hi, lo + SG_BATCH - self.in_file)
            lines.write(self.fh, lo, k)
            self.in_file += k - lo
            self.rows += k - lo
            lo = k

    def close(self) -> None:
        if self.fh is not None:
            self.fh.seek(-2, io.SEEK_CUR)
            self.fh.write(b"\n]\n")
            self.fh.close()
            self.fh = None


class _Dump:
    """The JSONL dump of the odd days; its first lines are held back until the malformed ones are placed among them."""

    def __init__(self, fh: OutputFile, win: Window, malformed: bool, placed: dict[str, int] | None) -> None:
        self.fh, self.win, self.malformed, self.placed = fh, win, malformed, placed
        self.head: list[bytes] = []
        self.head_n = 6 if malformed else 0  # the first lines are rewritten to hold the malformed ones
        self.started = not malformed
        self.rows = 0

    def add(self, lines: Lines, lo: int, hi: int) -> None:
        self.rows += hi - lo
        while not self.started and lo < hi:
            self.head.append(lines.row(lo)[:-1])
            lo += 1
            if len(self.head) == self.head_n:
                self._start()
        if lo < hi:
            lines.write(self.fh, lo, hi)

    def _start(self) -> None:
        self.started = True
        if not self.malformed:
            return
        bad_json, bad_time = _bad_lines(self.win)
        head = self.head
        head.insert(min(sc.SG_BAD_JSON_LINE - 1, len(head)), bad_json)
        head.insert(min(sc.SG_BAD_TIME_LINE - 1, len(head)), bad_time)
        if self.placed is not None:
            self.placed["sg_bad_json"], self.placed["sg_bad_time"] = head.index(bad_json) + 1, head.index(bad_time) + 1
        self.fh.write(b"".join(x + b"\n" for x in head))
        self.rows += 2

    def close(self) -> None:
        if not self.started:
            self._start()


def write_sendgrid(out: Path, pop: Population, sends: Sends, ev: Events, win: Window, malformed: bool,
                   placed: dict[str, int] | None = None) -> int:
    """Returns rows written; `placed` receives the line numbers of the malformed rows."""
    sg = ev.select(ev.platform == SG)
    sql = SG_SQL.format(machine_ua=MACHINE_UA, uas=UAS_SQL, n_ua=len(HUMAN_UAS),
                        links=sql_list(LINK_PATHS), block=BLOCK, event_names=sql_list(SG_EVENT_NAMES))
    d = out / "sendgrid" / "events"
    d.mkdir(parents=True, exist_ok=True)
    tables = EventTables(pop, sends, SG)
    con = connect()
    with OutputFile(d / f"sendgrid_events_{win.tag}.jsonl") as jsonl:
        dump, hooks = _Dump(jsonl, win, malformed, placed), _Webhooks(d)
        for lo in range(0, len(sg), CHUNK_EVENTS):  # a chunk at a time: memory stays bounded
            con.register("ev", tables(sg.select(slice(lo, lo + CHUNK_EVENTS))))
            for ts, lines in stream_lines(con, sql):
                bounds = day_bounds(ts)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                    day = int(ts[a]) // DAY
                    if day % 2:  # odd calendar days go to the JSONL dump
                        dump.add(lines, a, b)
                    else:  # even days arrive as webhook POST bodies
                        hooks.add(day, lines, a, b)
            con.unregister("ev")
        hooks.close()
        dump.close()
    con.close()
    return hooks.rows + dump.rows
