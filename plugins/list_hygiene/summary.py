"""The run summary a person reads at the end of `make demo` or a DAG run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from .ingest.loader import unread_files
from .output_console import console_for_output
from .paths import duckdb_config, output_dir_for


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


def collect_summary(warehouse: Path) -> dict[str, Any]:
    warehouse = Path(warehouse).resolve()
    out_dir = output_dir_for(warehouse)
    last = json.loads((out_dir / "last_run.json").read_text()) if (out_dir / "last_run.json").exists() else {}
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        sources = _rows(
            con,
            """select platform || '/' || entity, count(*) filter (where status = 'loaded'),
                      sum(rows_loaded), sum(rows_quarantined), count(*) filter (where status = 'failed')
               from raw._manifest group by 1 order by 1""",
        )
        bounces = _rows(con, "select bounce_class, count(*) from intermediate.int_bounces_classified group by 1 order by 2 desc")
        segments = _rows(con, "select segment, count(*) from marts.sunset_segments group by 1 order by 1")
        suppressions = _rows(
            con, "select platform, reason, count(*) from marts.suppression_list group by 1, 2 order by 1, 2"
        )
        quarantine = _rows(con, "select file, count(*) from raw.quarantine group by 1 order by 1")
        flows = _rows(
            con,
            """select coalesce(from_segment, '(new)'), to_segment, count(*) from marts.segment_history
               where invocation_id = (select invocation_id from marts.segment_history order by recorded_at desc limit 1)
               group by 1, 2 order by 3 desc""",
        )
        machine = _rows(con, "select sum(machine_opens_discarded) from marts.contact_health")
    data_dirs = {v["data_dir"] for k, v in last.items() if k.startswith("ingest") and (v or {}).get("data_dir")}
    unread = [f for d in sorted(data_dirs) for f in unread_files(Path(d))]
    return {
        "warehouse": str(warehouse),
        "unread_files": unread,
        "sources": [
            {"source": s, "files": f, "rows": int(r or 0), "quarantined": int(q or 0), "failed_files": ff}
            for s, f, r, q, ff in sources
        ],
        "quarantine_by_file": dict(quarantine),
        "bounces_by_class": dict(bounces),
        "segments": dict(segments),
        "segment_flows_last_run": [{"from": f, "to": t, "contacts": n} for f, t, n in flows],
        "machine_opens_discarded": int((machine[0][0] if machine else 0) or 0),
        "suppressions": [{"platform": p, "reason": r, "count": c} for p, r, c in suppressions],
        "gate": last.get("gate"),
        "sync": last.get("sync"),
        "docs": (last.get("docs") or {}).get("docs"),
        "outputs": str(out_dir),
    }


def render_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or console_for_output()
    t = Table(title="Rows ingested per source")
    for col in ("source", "files", "rows", "quarantined", "failed files"):
        t.add_column(col, justify="right" if col != "source" else "left")
    for s in summary["sources"]:
        t.add_row(s["source"], str(s["files"]), str(s["rows"]), str(s["quarantined"]), str(s["failed_files"]))
    console.print(t)

    t = Table(title="Bounces by class")
    t.add_column("class")
    t.add_column("events", justify="right")
    for k, v in summary["bounces_by_class"].items():
        t.add_row(k, str(v))
    console.print(t)

    t = Table(title="Contacts per sunset segment")
    t.add_column("segment")
    t.add_column("contacts", justify="right")
    for k, v in summary["segments"].items():
        t.add_row(k, str(v))
    console.print(t)

    if summary.get("segment_flows_last_run"):
        t = Table(title="Segment flows recorded by the last run")
        for col in ("from", "to", "contacts"):
            t.add_column(col, justify="right" if col == "contacts" else "left")
        for f in summary["segment_flows_last_run"]:
            t.add_row(f["from"], f["to"], str(f["contacts"]))
        console.print(t)
    if summary.get("unread_files"):
        unread = summary["unread_files"]
        console.print(f"[bold yellow]{len(unread)} files in the landing folder that no connector reads "
                      "(left there, not loaded):[/bold yellow]")
        for f in unread[:20]:
            console.print(f"  {f['path']}: {f['reason']}")
        if len(unread) > 20:
            console.print(f"  … and {len(unread) - 20} more (`list-hygiene summary --json`)")
    console.print(f"Machine opens discarded (not counted as engagement): {summary.get('machine_opens_discarded', 0)}")
    if summary.get("quarantine_by_file"):
        console.print("Quarantined rows per file (raw.quarantine has file, row, field and reason):")
        for f, n in summary["quarantine_by_file"].items():
            console.print(f"  {n:>5}  {f}")

    gate = summary.get("gate") or {}
    if gate:
        status = "[green]PASSED[/green]" if gate.get("passed") else "[red]FAILED[/red]"
        console.print(f"Quality gate: {status} ({gate.get('checks', '?')} checks)")
        if gate.get("error"):
            console.print(gate["error"])
        for w in gate.get("warnings", []):
            console.print(f"  [yellow]warn[/yellow] {w['suite']}: {w['expectation']} observed {w['observed_value']}")
        for a in gate.get("alerts", [])[:10]:
            console.print(
                f"  [bold yellow]ALERT {a['level']}[/bold yellow] {a['platform']} campaign {a['campaign_id']}: "
                f"{a['metric']} {a['value']:.2%} > {a['threshold']:.2%} ({a['messages']} messages) — reported, sync not blocked"
            )
    else:
        console.print("Quality gate: not run")

    sync = summary.get("sync") or {}
    t = Table(title=f"Suppression changes per platform ({'run ' + sync.get('run_id', '') if sync else 'no sync yet'})")
    for col in ("platform", "mode", "adds", "removals", "applied", "failed", "kept (policy)"):
        t.add_column(col, justify="left" if col in ("platform", "mode") else "right")
    for p, s in sorted((sync.get("platforms") or {}).items()):
        t.add_row(
            p, str(s.get("mode")), str(s.get("planned_adds", 0)), str(s.get("planned_removals", 0)),
            str(s.get("applied", 0)), str(s.get("failed", 0)), str(s.get("skipped_forbidden_removals", 0)),
        )
    console.print(t)

    # soft_wrap: a long path stays on one line (copy-pasteable)
    console.print(f"Warehouse:   {summary['warehouse']}", soft_wrap=True)
    console.print(f"dbt docs:    {summary.get('docs') or '(not generated)'}", soft_wrap=True)
    console.print(f"Plans/logs:  {summary['outputs']}", soft_wrap=True)
