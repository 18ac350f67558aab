"""The window being written and the per-contact summaries several writers share (last send, open, click, bounces)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import scenarios as sc
from .model import BOUNCE, CLICK, DAY, OPEN, PROCESSED, Events, Population


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
