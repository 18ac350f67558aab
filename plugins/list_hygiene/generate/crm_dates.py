"""The dates on the CRM records (writers_crm.py), as of a window's end.

A CRM export is a snapshot, and each date on a record must depend only on what happened to the record up to the
export, never on the window asked for: then a record nothing happened to reads the same in every drop, and a
"modified since" export can leave it out.

Besides the events of the simulation, a CRM record is touched on a cycle of its own (a sales rep's call, a sync):
every `period` days, on days fixed per record. TOUCH_PHASE sets where the cycles start. It is the bundled samples'
end (2026-11-24), where each cycle's last touch falls exactly on the date the samples carry, so the samples keep
their bytes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .model import DAY, day_number

TOUCH_PHASE = dt.date(2026, 11, 24)
_PHASE = day_number(TOUCH_PHASE) * DAY
FLOORED_SPAN = 30 * DAY  # see crm_created


def last_touch(end: int, key: np.ndarray | int, period: int) -> np.ndarray:
    """The moment (a midnight, unix seconds) of the latest touch of record `key` up to `end` (a midnight): one every
    `period` days. The record changes just before it (the last second of the day before); the dates it shows are
    counted back from it. At end == TOUCH_PHASE it is end - (key % period) days."""
    since_phase = (end - _PHASE) // DAY
    return end - ((np.asarray(key) + since_phase) % period) * DAY


def crm_created(created: np.ndarray) -> np.ndarray:
    """The CreatedDate a CRM shows: the contact's creation, except for the few contacts created in the FLOORED_SPAN
    before TOUCH_PHASE, which show the span's start. The writers used to floor CreatedDate at the export's end less
    30 days, which moved with every drop; the samples carry that floor for those contacts, and this keeps it."""
    floored = (created > _PHASE - FLOORED_SPAN) & (created < _PHASE)
    return np.where(floored, _PHASE - FLOORED_SPAN, created)


def fixed_date(days_before_phase: int) -> int:
    """A date that does not move (a company's creation): so many days before TOUCH_PHASE, as unix seconds."""
    return _PHASE - days_before_phase * DAY
