"""Seeded generator of realistic platform exports (HubSpot, SendGrid, Mailchimp, SES) with named scenarios.

    from list_hygiene.generate import generate
    generate(Path("data_samples"))            # the bundled samples
    generate(Path("drop2"), start=date(2026, 11, 24), days=7)   # the next incremental drop

Same arguments, same bytes: no wall-clock time, fixed ordering. The population depends only on (seed, contacts);
every send's outcome only on (seed, contacts, send), so consecutive windows add up to one longer window.

A drop that starts after model.FIRST_DROP is a follow-up drop: its CRM and audience snapshots (HubSpot, Mailchimp
members, Salesforce, Pipedrive) hold only the records changed inside it, the way each platform's "modified since"
read returns them; the first drop (and any run with `full=True`) holds every record. A record's columns depend only
on what happened to it up to the window's end, so an unchanged record reads the same in every drop.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

from . import scenarios as sc
from .model import FIRST_DROP, MC, SES, SG, SIM_ORIGIN, build_population, build_sends, day_number, simulate_platforms
from .scenarios import MALFORMED, SCENARIOS, Malformed, Scenario
from .summary import History
from .writers import (
    Window,
    summarize,
    write_hubspot,
    write_mailchimp_members,
    write_mailchimp_reports,
    write_sendgrid,
    write_ses,
)
from .writers_lifecycle import write_hubspot_updates
from .writers_mailbox import write_mailbox
from .writers_more import write_more

__all__ = ["generate", "SCENARIOS", "MALFORMED", "Scenario", "Malformed", "last_run_malformed"]

_last_malformed: list[Malformed] = []
T = TypeVar("T")
WORKERS = min(4, os.cpu_count() or 1)  # writer threads; 1 = every step in the calling thread, one after the other


def last_run_malformed() -> list[Malformed]:
    """The malformed rows of the last `generate` call in this process (their exact files and rows)."""
    return list(_last_malformed)


class _Inline:
    """An executor that runs each job when it is submitted (WORKERS = 1: for profiling and plain tracebacks)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        done: Future[T] = Future()
        done.set_result(fn(*args))
        return done


@contextmanager
def _ordinary_pages() -> Iterator[None]:
    """NumPy without its MADV_HUGEPAGE advice while the generator runs (restored after).

    NumPy advises the kernel to back arrays of 4 MB and more with 2 MB pages. The simulation makes tens of GB of
    short-lived arrays of that size, each a fresh mapping: with transparent huge pages in "madvise" mode (the
    common default) every one faulted in zeroed, compacted 2 MB pages. At 1 M contacts the simulation took 8-10 s
    of system time that way and 4 s with ordinary pages (12 -> 8.5 s wall). `_set_madvise_hugepage` is NumPy's
    switch for this (its NUMPY_MADVISE_HUGEPAGE variable is read at import only); without it nothing changes.
    """
    switch = getattr(getattr(np, "_core", None), "multiarray", None)
    switch = getattr(switch, "_set_madvise_hugepage", None)
    before = switch(False) if switch is not None else None
    try:
        yield
    finally:
        if switch is not None:
            switch(before)


def _executor() -> ThreadPoolExecutor | _Inline:
    return ThreadPoolExecutor(max_workers=WORKERS) if WORKERS > 1 else _Inline()


def generate(out: Path, contacts: int = 300, days: int = 115, start: dt.date = dt.date(2026, 8, 1), seed: int = 7,
             scenarios: bool = True, malformed: bool = True, full: bool | None = None,
             newsletters_per_week: float = 1) -> dict[str, int]:
    """Write one drop of exports for [start, start + days) under `out`; return rows written per platform/entity.

    `full`: whether the snapshot exports hold every record or only those changed in the window; by default full
    for a first drop (starting on or before FIRST_DROP), changed-only for a follow-up drop.
    `newsletters_per_week`: send cadence of the SendGrid, Mailchimp and SES newsletters (model.build_sends); 1
    gives about 20 events per contact per quarter, 1.75 about 30. A follow-up drop must use its first drop's cadence.
    """
    if days < 1 or contacts < 0:
        raise ValueError("days must be >= 1 and contacts >= 0")
    with _ordinary_pages():
        out = Path(out)
        win = Window(start, days, start <= FIRST_DROP if full is None else full)
        rows = sc.scenario_rows() if scenarios else []
        pop = build_population(contacts, seed, rows)
        first_day = min(day_number(SIM_ORIGIN), day_number(start) - 30)
        sends = build_sends(first_day, day_number(start) + days, seed, newsletters_per_week)
        scripted = sc.scripts(pop.n_random) if scenarios else None
        with _executor() as pool:  # the writers spend their time in DuckDB and numpy, which run without the GIL
            more = pool.submit(write_more, out, pop, start, days, seed, win.full)  # its own senders: needs the population
            history = History(pop.size, win.history_start_ts, win.start_ts)
            ev, state = simulate_platforms(pop, sends, seed, win.start_ts, win.end_ts, scripted, history)
            summ = summarize(pop, ev.values(), history)
            placed: dict[str, int] = {}
            # the longest first, so that no core is left with a long writer at the end: SES has the most bytes
            ses = pool.submit(write_ses, out, pop, sends, ev[SES], win)
            sendgrid = pool.submit(write_sendgrid, out, pop, sends, ev[SG], win, malformed, placed)
            reports = pool.submit(write_mailchimp_reports, out, pop, sends, ev[MC], win)
            hubspot = pool.submit(write_hubspot, out, pop, summ, win, seed, malformed, placed)
            members = pool.submit(write_mailchimp_members, out, pop, state, sends, summ, win, seed, malformed, placed)
            counts: dict[str, int] = {}
            counts["hubspot/contacts"] = hubspot.result() + write_hubspot_updates(out, pop, summ, win)
            counts["sendgrid/events"] = sendgrid.result()
            counts["mailchimp/members"] = members.result()
            counts["mailchimp/campaigns"], counts["mailchimp/email_activity"] = reports.result()
            counts["ses/events"] = ses.result()
            counts |= more.result()  # Postmark, Mailgun, SFMC, Zoho, HubSpot companies, Salesforce, Pipedrive
        counts["mailbox/messages"] = write_mailbox(out, pop, start, days, seed, malformed)  # raw bounce messages (.eml)
        _last_malformed[:] = sc.malformed_rows(start, days, placed) if malformed else []
        return counts


