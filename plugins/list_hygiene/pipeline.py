"""The pipeline's steps. The Airflow DAG, the CLI (`list-hygiene run`) and the benchmarks call these
same functions, so what is timed and tested is exactly what is scheduled."""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from .dbt_runner import run_dbt, target_dir
from .ingest import ingest
from .paths import duckdb_config, output_dir_for
from .verify.reference import load_reference_tables

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return "run-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def _prepare(warehouse: Path) -> Path:
    warehouse = Path(warehouse).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return warehouse


def _record(warehouse: Path, step: str, payload: dict[str, Any]) -> None:
    """Keep each step's report beside the warehouse, for the summary and the audit."""
    out = output_dir_for(warehouse)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "last_run.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    state[step] = payload
    path.write_text(json.dumps(state, indent=2, default=str))


def ingest_step(data_dir: Path, warehouse: Path, platforms: list[str] | None = None) -> dict[str, Any]:
    """Land new export files in `raw` (already loaded files are skipped by checksum)."""
    warehouse = _prepare(warehouse)
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        report = ingest(con, Path(data_dir), platforms)
        load_reference_tables(con)
    payload = report.to_dict() | {"seconds": round(time.perf_counter() - started, 2),
                                  "data_dir": str(Path(data_dir).resolve())}
    _record(warehouse, "ingest" if not platforms else f"ingest:{','.join(platforms)}", payload)
    return payload


def transform_step(warehouse: Path, vars: dict[str, Any] | None = None, full_refresh: bool = False,
                   unit_tests: bool | None = None) -> dict[str, Any]:
    """dbt build: seeds and models (data tests run in the gate).

    dbt's unit tests check the SQL on fixtures, not the data, so the daily run leaves them out (dbt's own
    advice for production); they run on a full refresh (the moment model SQL changed), with
    `unit_tests=True` (`list-hygiene build` does by default) and in CI (tests/e2e).
    """
    warehouse = _prepare(warehouse)
    started = time.perf_counter()
    unit_tests = full_refresh if unit_tests is None else unit_tests
    # --no-write-json: dbt's manifest.json and run_results.json (written at the start and at the end, ~1.2 s on
    # the build's critical path at this project's size) are not read by anything downstream (`docs` writes its
    # own); each node's time is kept here instead, in the run's state file
    args = (["build", "--exclude", "test_type:data"] + ([] if unit_tests else ["test_type:unit"])
            + (["--full-refresh"] if full_refresh else []) + ["--no-write-json"])
    res = run_dbt(args, warehouse, vars=vars)
    payload = {
        "nodes": len(res.nodes),
        "models": sum(1 for n in res.nodes if n["resource_type"].endswith("model")),
        "unit_tests": sum(1 for n in res.nodes if n["resource_type"].endswith("unit_test")),
        "seconds": round(time.perf_counter() - started, 2),
        "node_seconds": sorted(
            ({"node": n["node"].split(".", 2)[-1], "type": n["resource_type"].rsplit(".", 1)[-1].lower(),
              "status": n["status"], "seconds": round(n["execution_time"] or 0.0, 2)}
             for n in res.nodes if n["resource_type"].endswith(("model", "seed", "snapshot"))),
            key=lambda n: -n["seconds"]),
    }
    _record(warehouse, "transform", payload)
    return payload


def docs_step(warehouse: Path) -> dict[str, Any]:
    """dbt docs as one static page beside the warehouse (loads nothing from outside)."""
    warehouse = _prepare(warehouse)
    run_dbt(["docs", "generate", "--static"], warehouse)
    docs_dir = output_dir_for(warehouse) / "dbt_docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
        src = target_dir() / name
        if src.exists():
            shutil.copy2(src, docs_dir / name)
    payload = {"docs": str(docs_dir / "static_index.html")}
    _record(warehouse, "docs", payload)
    return payload


def gate_step(warehouse: Path, run_id: str) -> dict[str, Any]:
    """Quality gate; raises GateFailed (naming check, observed value, threshold) when a blocking check fails."""
    from .quality import GateFailed, run_gate

    warehouse = _prepare(warehouse)
    try:
        report = run_gate(warehouse, run_id)
    except GateFailed as exc:
        report = getattr(exc, "report", None)
        payload = report.to_dict() if report is not None else {"run_id": run_id, "passed": False}
        _record(warehouse, "gate", payload | {"passed": False, "error": str(exc)})
        raise
    payload = report.to_dict()
    _record(warehouse, "gate", payload)
    return payload


def sync_step(
    warehouse: Path, run_id: str, apply: bool = False, approve: bool = False, platforms: list[str] | None = None,
) -> dict[str, Any]:
    """Diff suppression_list against the ledger and plan (or apply) the changes per platform."""
    from .sync import SyncBrakeTripped, SyncFailed, run_sync

    warehouse = _prepare(warehouse)
    try:
        summary = run_sync(
            warehouse, apply=apply, platforms=platforms, run_id=run_id, out_dir=output_dir_for(warehouse), approve=approve
        )
    except (SyncBrakeTripped, SyncFailed) as exc:
        # the other platforms finished: keep their outcome for the summary, then fail loudly
        _record(warehouse, "sync", exc.summary.to_dict() | {"error": str(exc)})
        raise
    payload = summary.to_dict()
    _record(warehouse, "sync", payload)
    return payload


def run_pipeline(
    data_dir: Path, warehouse: Path, apply_sync: bool = False, approve: bool = False, docs: bool = True,
) -> dict[str, Any]:
    """ingest → dbt build → (docs) → gate → sync, the same order as the daily DAG."""
    run_id = new_run_id()
    out: dict[str, Any] = {"run_id": run_id}
    timings: dict[str, float] = {}
    for name, fn in (
        ("ingest", lambda: ingest_step(data_dir, warehouse)),
        ("transform", lambda: transform_step(warehouse)),
        ("docs", lambda: docs_step(warehouse) if docs else {}),
        ("gate", lambda: gate_step(warehouse, run_id)),
        ("sync", lambda: sync_step(warehouse, run_id, apply=apply_sync, approve=approve)),
    ):
        started = time.perf_counter()
        out[name] = fn()
        timings[name] = round(time.perf_counter() - started, 2)
    out["timings"] = timings
    return out
