"""Writers for the connectors of issue 4: Postmark, Mailgun, Salesforce Marketing Cloud, Zoho (events) and
HubSpot companies, Salesforce, Pipedrive (CRM), in the shapes of ../shared/PLATFORMS.md and platform-examples.

These platforms are not part of the engagement simulation (model.py): each has a small, seeded population of its own
(random contacts only, so the scenario outcomes of scenarios.py do not change) with a weekly send and simple
outcomes (delivered, human open / click, a hard bounce once the address is dead, rare soft bounces, complaints and
unsubscribes), simulated in more_simulation.py. A few scenario contacts appear in the CRM exports where it fits (a
contact of a closed account, an opted-out contact, an address spelled differently). Same arguments, same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import scenarios as sc
from .hashed_draws import HashedDraws
from .model import DAY, Population
from .more_formats import emails_json
from .more_simulation import CADENCE, simulate_more
from .summary import Window
from .writers_crm import BANKRUPT_ORG, CLOSED_ACCOUNT, CRM_SCENARIOS, write_crms
from .writers_mailgun import write_mailgun
from .writers_postmark import write_postmark
from .writers_sfmc import write_sfmc
from .writers_zoho import write_zoho

__all__ = ["write_more", "CADENCE", "CLOSED_ACCOUNT", "BANKRUPT_ORG", "CRM_SCENARIOS"]


def write_more(out: Path, pop: Population, start: dt.date, days: int, seed: int, full: bool = True) -> dict[str, int]:
    """Every extra connector's exports for [start, start + days); rows written per platform/entity.

    `full`: the CRM snapshots hold every record (else only those changed in the window, see writers_crm.py)."""
    tag = sc.file_range(start, days)
    lo = (start - dt.date(1970, 1, 1)).days * DAY
    window = (lo, lo + days * DAY)
    draws = HashedDraws(seed)
    outcomes = simulate_more(pop, start, days, draws, window)
    emails_j = emails_json(pop)
    counts: dict[str, int] = {}
    counts["postmark/events"], counts["postmark/bounces"] = write_postmark(out, emails_j, outcomes["postmark"], tag,
                                                                           draws, window)
    counts["mailgun/events"], _ = write_mailgun(out, emails_j, pop, outcomes["mailgun"], tag, draws, window)
    counts |= write_sfmc(out, pop, outcomes["sfmc"], tag, draws, window)
    counts["zoho/events"] = write_zoho(out, emails_j, pop, outcomes["zoho"], tag, window)
    counts |= write_crms(out, pop, Window(start, days, full), draws)
    return counts
