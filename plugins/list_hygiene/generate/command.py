"""`list-hygiene generate`: the CLI entry point (registered by the lead in list_hygiene.cli).

The parameters carry typer metadata through `Annotated`, so `app.command("generate")(generate_command)` gives
`list-hygiene generate --out DIR --contacts N --days D --start DATE --seed S`, and the function stays a plain
Python function for callers and tests.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from . import generate
from .model import FIRST_DROP


def _iso_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD ({exc})") from None
    return value


def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Landing folder to write DIR/<platform>/<entity>/ into.")],
    contacts: Annotated[int, typer.Option("--contacts", min=0, help="Random contacts (scenario contacts come on top).")] = 300,
    days: Annotated[int, typer.Option("--days", min=1, help="Days of events to write.")] = 115,
    start: Annotated[str, typer.Option("--start", callback=_iso_date,
                                       help="First day (YYYY-MM-DD); a later start = the next drop.")] = "2026-08-01",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same arguments give the same bytes.")] = 7,
    full: Annotated[bool | None, typer.Option(
        "--full/--changed-only", help="CRM and audience snapshots with every record, or only the records changed "
        f"in the window. Default: every record for a first drop (start on or before {FIRST_DROP}), the changed "
        "ones for a later start (an incremental drop).")] = None,
    newsletters_per_week: Annotated[float, typer.Option(
        "--newsletters-per-week", min=1, max=7,
        help="Send cadence: newsletters a week from each of SendGrid, Mailchimp and SES, on average (1: about 20 "
        "events per contact per quarter; 1.75: about 30). A later drop must use the earlier drop's cadence.")] = 1,
) -> None:
    """Write seeded platform exports for [start, start + days) to OUT/<platform>/<entity>/ (deterministic)."""
    counts = generate(Path(out), contacts=contacts, days=days, start=dt.date.fromisoformat(start), seed=seed,
                      full=full, newsletters_per_week=newsletters_per_week)
    print(json.dumps(counts, indent=2, sort_keys=True))
