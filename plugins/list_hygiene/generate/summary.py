"""The window being written and the per-contact summaries several writers share (last send, open, click, bounces).

The summaries are cumulative: they count every simulated event from the history start (model.FIRST_DROP, or the
window's start if earlier) to the window's end, not only the window's events. So a contact nothing happened to in a
follow-up drop has the summary it had at the end of the drop before, and its snapshot rows do not move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import scenarios as sc
from .model import BOUNCE, CLICK, DAY, FIRST_DROP, OPEN, PROCESSED, Events, Population, day_number


@dataclass
class Window:
    start: dt.date
    days: int
    full: bool = True  # snapshots hold every record; False: only those changed since `start` (a follow-up drop)

    @property
    def start_ts(self) -> int:
        return (self.start - dt.date(1970, 1, 1)).days * DAY

    @property
    def end_ts(self) -> int:
        return self.start_ts + self.days * DAY

    @property
    def history_start_ts(self) -> int:
        """Where the summary fields start counting: the first drop's start, or the window's if earlier."""
        return min(self.start_ts, day_number(FIRST_DROP) * DAY)

    @property
    def tag(self) -> str:
        return sc.file_range(self.start, self.days)

    def changed(self, changed_at: np.ndarray) -> np.ndarray:
        """Which snapshot records this drop writes, given when each last changed: all of them in a full drop, in a
        follow-up drop those changed since its start (a "modified since the last export" read)."""
        return np.ones(len(changed_at), dtype=bool) if self.full else changed_at >= self.start_ts


@dataclass
class Summary:
    last_send: np.ndarray
    last_open: np.ndarray  # human opens only
    last_click: np.ndarray
    last_bounce: np.ndarray
    bounces: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Summary:
        return cls(*(np.full(n, -1, dtype=np.int64) for _ in range(4)), np.zeros(n, dtype=np.int64))

    def fold(self, contact: np.ndarray, etype: np.ndarray, ts: np.ndarray, machine: np.ndarray) -> None:
        """Take events in (column arrays, any order: the fields are maxima and counts)."""
        for arr, mask in ((self.last_send, etype == PROCESSED), (self.last_open, (etype == OPEN) & ~machine),
                          (self.last_click, etype == CLICK), (self.last_bounce, etype == BOUNCE)):
            np.maximum.at(arr, contact[mask], ts[mask])
        np.add.at(self.bounces, contact[etype == BOUNCE], 1)  # not bincount: no whole-population array per call


class History:
    """The summary of the events in [since, until) (the history start to the window's start), built while the
    simulation runs: model.simulate hands it the events of the sends before the window (model.HistorySink)."""

    def __init__(self, n: int, since: int, until: int) -> None:
        self.since, self.until = since, until
        self.summary = Summary.empty(n)

    def add(self, platform: int, send: int, contact: np.ndarray, etype: int | np.ndarray, ts: np.ndarray,
            machine: bool | np.ndarray = False, reason: int | np.ndarray = -1, occ: int = 0,
            uid: np.uint64 | int = 0) -> None:
        """One send's events of one kind (model._Acc.add's arguments); only what a summary field counts is kept."""
        if np.isscalar(etype) and int(etype) not in (PROCESSED, OPEN, CLICK, BOUNCE):
            return
        n = len(contact)
        inside = (ts >= self.since) & (ts < self.until)
        et = np.broadcast_to(np.asarray(etype, dtype=np.int8), (n,))
        mach = np.broadcast_to(np.asarray(machine, dtype=bool), (n,))
        self.summary.fold(contact[inside], et[inside], ts[inside], mach[inside])

    def add_events(self, ev: Events) -> None:
        inside = (ev.ts >= self.since) & (ev.ts < self.until)
        self.summary.fold(ev.contact[inside], ev.etype[inside], ev.ts[inside], ev.machine[inside])


def summarize(pop: Population, ev: Events | Iterable[Events], history: History | None = None) -> Summary:
    """The summary fields at the window's end: the history before the window (if any; its arrays are taken over),
    then the window's events (one Events, or several: each platform's)."""
    summ = Summary.empty(pop.size) if history is None else history.summary
    for one in [ev] if isinstance(ev, Events) else ev:
        summ.fold(one.contact, one.etype, one.ts, one.machine)
    return summ
