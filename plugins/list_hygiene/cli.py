"""`list-hygiene`: the same steps the Airflow DAG runs, from a shell."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from .cli_options import DataOpt, ExistingWarehouseOpt, PlatformsOpt, WarehouseOpt
from .output_console import console_for_output
from .paths import default_data_dir, default_warehouse

app = typer.Typer(help="Keep email marketing lists healthy: ingest → dbt → quality gate → suppression sync.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
console = console_for_output()


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _require_schema(warehouse: Path, schema: str, problem: str) -> None:
    """A step run out of order gets one line saying which step comes first (exit 2), not dbt's errors per model."""
    import duckdb

    if warehouse.is_file():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            if con.execute("select count(*) from information_schema.tables where table_schema = ?", [schema]).fetchone()[0]:
                return
    console.print(f"[red]{warehouse} {problem}[/red]")
    raise typer.Exit(2)


@app.command()
def run(
    data: DataOpt = default_data_dir(),
    warehouse: WarehouseOpt = default_warehouse(),
    sync: Annotated[bool, typer.Option("--sync", help="Apply the suppression changes (default: dry run)")] = False,
    approve: Annotated[bool, typer.Option("--approve", help="Approve a change set over the safety cap")] = False,
    docs: Annotated[bool, typer.Option(help="Generate dbt docs")] = True,
    verbose: bool = False,
) -> None:
    """Run the whole pipeline once: ingest, dbt build, gate, sync plan (or sync with --sync)."""
    from .pipeline import run_pipeline
    from .quality import GateFailed
    from .summary import collect_summary, render_summary
    from .sync import SyncBrakeTripped, SyncFailed

    _logging(verbose)
    stopped: Exception | None = None
    try:
        result = run_pipeline(data, warehouse, apply_sync=sync, approve=approve, docs=docs)
    except (GateFailed, SyncBrakeTripped, SyncFailed) as exc:  # the summary says what ran and what was found
        stopped = exc
    render_summary(collect_summary(warehouse), console)
    if stopped is not None:
        why = ("stopped by the quality gate (the failing checks are above): nothing was synced"
               if isinstance(stopped, GateFailed) else str(stopped))
        console.print(f"[bold red]{why}[/bold red]")
        raise typer.Exit(2 if isinstance(stopped, SyncBrakeTripped) else 1)
    console.print(f"timings (s): {json.dumps(result['timings'])}")


@app.command("ingest")
def ingest_cmd(data: DataOpt = default_data_dir(), warehouse: WarehouseOpt = default_warehouse(),
               platform: PlatformsOpt = None) -> None:
    """Land new export files in the warehouse's raw schema."""
    from .pipeline import ingest_step

    report = ingest_step(data, warehouse, platform)
    for f in report["files"]:
        if f["status"] != "skipped":
            console.print(f"{f['status']:>12} {f['path']}: {f['rows_loaded']} rows, {f['rows_quarantined']} quarantined"
                          + (f" — {f['error']}" if f["error"] else ""))
    console.print(f"{report['rows_loaded']} rows loaded, {report['rows_quarantined']} quarantined")


@app.command()
def build(warehouse: WarehouseOpt = default_warehouse(),
          full_refresh: Annotated[bool, typer.Option("--full-refresh")] = False,
          unit_tests: Annotated[bool, typer.Option("--unit-tests/--no-unit-tests",
                                                   help="Also run dbt's unit tests (the daily DAG leaves them out).")]
          = True) -> None:
    """dbt build (seeds, models and, unless --no-unit-tests, dbt unit tests)."""
    from .pipeline import transform_step

    _require_schema(warehouse, "raw", "has no raw tables yet: run `list-hygiene ingest` (or `run`) first")

    result = transform_step(warehouse, full_refresh=full_refresh, unit_tests=unit_tests)
    console.print(f"built {result['models']} models ({result['nodes']} nodes, {result['unit_tests']} unit tests) "
                  f"in {result['seconds']} s; slowest:")
    for n in result["node_seconds"][:5]:
        console.print(f"  {n['seconds']:>7.2f} s  {n['type']} {n['node']} ({n['status']})")


@app.command()
def gate(warehouse: ExistingWarehouseOpt = default_warehouse()) -> None:
    """Run the quality gate; exit code 1 when a blocking check fails."""
    from .pipeline import gate_step, new_run_id
    from .quality import GateFailed

    _require_schema(warehouse, "marts", "has no dbt models yet: run `list-hygiene build` (or `run`) first")
    try:
        result = gate_step(warehouse, new_run_id())
    except GateFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]gate passed[/green]: {result['checks']} checks, {len(result['alerts'])} deliverability alerts")


@app.command()
def summary(warehouse: ExistingWarehouseOpt = default_warehouse(),
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print what the last run did."""
    from .summary import collect_summary, render_summary

    s = collect_summary(warehouse)
    if as_json:
        print(json.dumps(s, indent=2, default=str))
    else:
        render_summary(s, console)


def _quarter(value: str | None) -> str | None:
    from .quarters import parse_quarter

    if value is not None:
        try:
            parse_quarter(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


@app.command()
def audit(
    warehouse: ExistingWarehouseOpt = default_warehouse(),
    quarter: Annotated[str | None, typer.Option(callback=_quarter,
                                                help="YYYYQn; default: the quarter of the latest event")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: beside the warehouse")] = None,
) -> None:
    """Build the quarterly data-quality audit: a self-contained HTML report plus CSV/Parquet tables."""
    from .audit import build_audit

    path = build_audit(warehouse, quarter, out)
    console.print(f"audit report: {path}")


def _register_optional() -> None:
    """Commands whose modules are owned by their packages (generate, classify, sync)."""
    try:
        from .generate.command import generate_command

        app.command("generate", help="Write seeded sample exports for every platform.")(generate_command)
    except ImportError:
        pass
    try:
        from .bounces.command import classify_command

        app.command("classify", help="Classify bounce messages (.eml files, maildir folders, mbox files).")(classify_command)
    except ImportError:
        pass
    try:
        from .sync.command import sync as sync_command

        app.command("sync", help="Push suppression changes to each platform (diff-based).")(sync_command)
    except ImportError:
        pass


_register_optional()

if __name__ == "__main__":
    app()
