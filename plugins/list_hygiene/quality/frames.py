"""Frames for the stateful checks: they compare this run with the gate's own history.

History lives in ops.quality_metrics (run_id, metric, key, value, gate_passed, measured_at), written by
the gate after every run. Only runs whose gate passed are a baseline: a run that failed because the
suppression list halved must not become the yardstick the next run is measured against, and a retry
of a failed run sees the same window of landed rows as the failed attempt.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

METRICS_DDL = """create table if not exists ops.quality_metrics (
    run_id varchar, metric varchar, key varchar, value double, gate_passed boolean, measured_at timestamp)"""


@dataclass
class FrameResult:
    frame: pd.DataFrame | None
    skip_reason: str | None = None
    notes: list[str] = field(default_factory=list)  # parts of the check that could not be evaluated
    metrics: list[tuple[str, str, float]] = field(default_factory=list)  # (metric, key, value) to store


def _history(con: duckdb.DuckDBPyConnection, metric: str, run_id: str, limit: int) -> list[tuple]:
    try:
        return con.execute(
            """select key, value, run_id, measured_at from (
                   select *, row_number() over (partition by key order by measured_at desc) as n
                   from ops.quality_metrics
                   where metric = ? and gate_passed and run_id <> ?)
               where n <= ? order by key, measured_at desc""",
            [metric, run_id, limit],
        ).fetchall()
    except duckdb.CatalogException:
        return []


def last_passing_run_at(con: duckdb.DuckDBPyConnection, run_id: str) -> datetime | None:
    """When the newest passing run stored its metrics (about when it ended): what landed after it is new to
    the volume check. Not the moment that vouches for built rows: see last_passing_gate_started_at."""
    try:
        return con.execute(
            "select max(measured_at) from ops.quality_metrics where gate_passed and run_id <> ?", [run_id]
        ).fetchone()[0]
    except duckdb.CatalogException:
        return None


def last_passing_gate_started_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the newest gate run that passed started (ops.quality_gate_runs): every row built before then was
    checked by it, so a suite with `new_rows` reads only the rows built since. None without one: every row."""
    try:
        return con.execute("select max(started_at) from ops.quality_gate_runs where passed").fetchone()[0]
    except duckdb.CatalogException:
        return None


def suppression_shrink(con: duckdb.DuckDBPyConnection, knobs: dict[str, Any], run_id: str) -> FrameResult:
    current = con.execute("select count(*) from marts.suppression_list").fetchone()[0]
    metrics = [("suppression_list_rows", "", float(current))]
    previous = _history(con, "suppression_list_rows", run_id, 1)
    if not previous:
        return FrameResult(None, "no previous passing run to compare with (first run)", metrics=metrics)
    _, prev, prev_run, _ = previous[0]
    share = max(0.0, (prev - current) / prev) if prev else 0.0
    label = f"suppression_list {current} rows vs {int(prev)} at {prev_run}"
    return FrameResult(pd.DataFrame({"label": [label], "shrink_share": [round(share, 4)]}), metrics=metrics)


def source_volume(con: duckdb.DuckDBPyConnection, knobs: dict[str, Any], run_id: str) -> FrameResult:
    since = last_passing_run_at(con, run_id)
    landed = con.execute(
        """select platform || '/' || entity as source,
                  sum(coalesce(rows_loaded, 0) + coalesce(rows_unchanged, 0) + coalesce(rows_quarantined, 0)) as rows
           from raw._manifest
           where status = 'loaded' and (?::timestamp is null or loaded_at > ?::timestamp)
           group by 1 order by 1""",
        [since, since],
    ).fetchall()
    metrics = [("source_rows_landed", s, float(r)) for s, r in landed if r]
    history: dict[str, list[float]] = {}
    for key, value, _, _ in _history(con, "source_rows_landed", run_id, int(knobs["volume_lookback_runs"])):
        history.setdefault(key, []).append(value)
    need = int(knobs["volume_min_history"])
    rows, notes = [], []
    for source, count in landed:
        if not count:
            continue
        past = history.get(source, [])
        if len(past) < need:
            notes.append(f"{source}: {len(past)} of {need} passing runs of history, volume not judged yet")
            continue
        median = statistics.median(past)
        ratio = count / median if median else float("inf")
        rows.append({"label": f"{source} {int(count)} rows vs median {median:g}", "ratio_to_median": round(ratio, 4)})
    if not landed:
        return FrameResult(None, "no rows landed since the last passing run (freshness judges that)", metrics=metrics)
    if not rows:
        return FrameResult(None, "; ".join(notes), metrics=metrics)
    return FrameResult(pd.DataFrame(rows), notes=notes, metrics=metrics)


FRAMES = {"suppression_shrink": suppression_shrink, "source_volume": source_volume}
