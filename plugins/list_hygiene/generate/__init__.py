"""Seeded generator of realistic platform exports (HubSpot, SendGrid, Mailchimp, SES) with named scenarios.

    from list_hygiene.generate import generate
    generate(Path("data_samples"))            # the bundled samples
    generate(Path("drop2"), start=date(2026, 11, 24), days=7)   # the next incremental drop

Same arguments, same bytes: no wall-clock time, fixed ordering. The population depends only on (seed, contacts);
every send's outcome only on (seed, contacts, send), so consecutive windows add up to one longer window.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import scenarios as sc
from .model import SIM_ORIGIN, build_population, build_sends, day_number, simulate
from .scenarios import MALFORMED, SCENARIOS, Malformed, Scenario
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


def last_run_malformed() -> list[Malformed]:
    """The malformed rows of the last `generate` call in this process (their exact files and rows)."""
    return list(_last_malformed)


def generate(out: Path, contacts: int = 300, days: int = 115, start: dt.date = dt.date(2026, 8, 1), seed: int = 7,
             scenarios: bool = True, malformed: bool = True) -> dict[str, int]:
    """Write one drop of exports for [start, start + days) under `out`; return rows written per platform/entity."""
    if days < 1 or contacts < 0:
        raise ValueError("days must be >= 1 and contacts >= 0")
    out = Path(out)
    win = Window(start, days)
    rows = sc.scenario_rows() if scenarios else []
    pop = build_population(contacts, seed, rows)
    first_day = min(day_number(SIM_ORIGIN), day_number(start) - 30)
    sends = build_sends(first_day, day_number(start) + days, seed)
    scripted = sc.scripts(pop.n_random) if scenarios else None
    ev, state = simulate(pop, sends, seed, win.start_ts, win.end_ts, scripted)
    summ = summarize(pop, ev)

    counts: dict[str, int] = {}
    placed: dict[str, int] = {}
    counts["hubspot/contacts"] = write_hubspot(out, pop, summ, win, seed, malformed, placed)
    counts["hubspot/contacts"] += write_hubspot_updates(out, pop, summ, win)
    counts["sendgrid/events"] = write_sendgrid(out, pop, sends, ev, win, malformed, placed)
    counts["mailchimp/members"] = write_mailchimp_members(out, pop, state, sends, summ, win, seed, malformed, placed)
    counts["mailchimp/campaigns"], counts["mailchimp/email_activity"] = write_mailchimp_reports(out, pop, sends, ev, win)
    counts["ses/events"] = write_ses(out, pop, sends, ev, win)
    counts |= write_more(out, pop, start, days, seed)  # Postmark, Mailgun, SFMC, Zoho, HubSpot companies, Salesforce, Pipedrive
    counts["mailbox/messages"] = write_mailbox(out, pop, start, days, seed, malformed)  # raw bounce messages (.eml)
    _last_malformed[:] = sc.malformed_rows(start, days, placed) if malformed else []
    return counts


