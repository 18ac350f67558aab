"""`list-hygiene sync`: the suppression sync from a shell (registered by cli.py).

Exit codes: 0 ok (dry run, or every platform applied), 2 safety brake tripped (nothing written to that
platform; rerun with --approve after reviewing the plan), 1 failure (credentials, quota, rows that failed).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_options import known_platforms
from ..output_console import console_for_output
from ..paths import default_warehouse
from .planner import SyncBrakeTripped
from .runner import SyncFailed, SyncSummary, run_sync

console = console_for_output()


def render(summary: SyncSummary, console: Console = console) -> None:
    t = Table(title=f"Suppression sync {summary.run_id} ({'apply' if summary.apply else 'dry run'})")
    for col in ("platform", "mode", "scope", "adds", "removals", "applied", "failed", "not found",
                "kept (policy)", "limit", "error"):
        t.add_column(col, justify="left" if col in ("platform", "mode", "scope", "error") else "right")
    for p, s in sorted(summary.platforms.items()):
        t.add_row(p, s.mode + (" (over cap)" if s.brake_would_trip and s.mode == "dry_run" else ""), s.scope,
                  str(s.planned_adds), str(s.planned_removals), str(s.applied), str(s.failed), str(s.not_found),
                  str(s.skipped_forbidden_removals), str(s.brake_limit if s.brake_limit is not None else ""),
                  (s.error or "")[:80])
    console.print(t)


def sync(
    warehouse: Annotated[Path, typer.Option("--warehouse", help="DuckDB warehouse file")] = default_warehouse(),
    platform: Annotated[list[str] | None, typer.Option("--platform", help="Only this platform (repeatable)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: write ops.sync_plan and plan files")] = False,
    approve: Annotated[bool, typer.Option("--approve", help="Approve a change set above the safety cap")] = False,
    max_change_ratio: Annotated[float, typer.Option(help="Cap on changes per run relative to the ledger size")] = 0.10,
    reconcile: Annotated[bool, typer.Option(help="Read each platform's own list first and report drift")] = False,
    verbose: bool = False,
) -> None:
    """Make each platform agree with marts.suppression_list (credentials: AIRFLOW_CONN_<PLATFORM>_DEFAULT)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # checked here, not by click: its usage errors exit 2, which this command keeps for a tripped brake
    if not warehouse.is_file():
        console.print(f"[bold red]no warehouse at {warehouse}: run `list-hygiene run` first[/bold red]")
        raise typer.Exit(1)
    try:
        platform = known_platforms(platform)
    except typer.BadParameter as exc:
        console.print(f"[bold red]--platform: {exc}[/bold red]")
        raise typer.Exit(1) from None
    code = 0
    try:
        summary = run_sync(warehouse, apply=not dry_run, platforms=platform or None, approve=approve,
                           max_change_ratio=max_change_ratio, reconcile=reconcile)
    except SyncBrakeTripped as exc:
        if isinstance(exc.summary, SyncSummary):
            render(exc.summary)
        console.print(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(2) from None
    except SyncFailed as exc:
        render(exc.summary)
        console.print(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(1) from None
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(1) from None
    render(summary)
    if any(s.mode == "partial" for s in summary.platforms.values()):
        console.print("[yellow]some rows failed: see ops.sync_log; they are retried by the next run[/yellow]")
        code = 1
    raise typer.Exit(code)
