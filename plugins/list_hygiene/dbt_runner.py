"""Run dbt in-process (dbtRunner): dbt's start-up is most of its wall time, so pay it once per task."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import DBT_PROJECT_DIR

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt reported errors or failing tests; the message lists the nodes and what dbt said."""

    def __init__(self, command: str, failures: list[dict[str, Any]]):
        self.command = command
        self.failures = failures
        lines = [f"- {f['node']}: {f['status']}: {(f.get('message') or '').strip()[:300]}" for f in failures[:20]]
        super().__init__(f"dbt {command} failed on {len(failures)} node(s):\n" + "\n".join(lines))


@dataclass
class DbtResult:
    command: str
    success: bool
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for n in self.nodes if n["status"] == status)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [n for n in self.nodes if n["status"] in ("error", "fail", "runtime error")]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [n for n in self.nodes if n["status"] == "warn"]


def target_dir() -> Path:
    """Where dbt writes its artifacts: DBT_TARGET_PATH (relative to the project, as dbt reads it) or target/."""
    return DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def _env(warehouse: Path) -> None:
    os.environ["LIST_HYGIENE_WAREHOUSE"] = str(Path(warehouse).resolve())
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB instance open for the life of the process; close it so the next
    step (the gate's read-only reader, the sync's writer) can open the same file."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager
    except ImportError:  # another adapter (postgres target): nothing held
        return
    with manager._LOCK:
        if manager._ENV is not None:
            try:
                manager._ENV.close()
            finally:
                manager._ENV = None


def run_dbt(
    args: Sequence[str], warehouse: Path, vars: dict[str, Any] | None = None, raise_on_failure: bool = True,
    target: str | None = None,
) -> DbtResult:
    """`dbt <args>` against `warehouse`; raises DbtFailed listing every failed node."""
    from dbt.cli.main import dbtRunner  # imported here: dbt is heavy and DAG parsing must stay light

    _env(warehouse)
    cli = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if target:
        cli += ["--target", target]
    if vars:
        cli += ["--vars", json.dumps(vars)]
    log.info("dbt %s", " ".join(args))
    try:
        res = dbtRunner().invoke(cli)
    finally:
        release_warehouse()
    nodes: list[dict[str, Any]] = []
    result = res.result
    for r in getattr(result, "results", None) or []:
        node = getattr(r, "node", None)
        nodes.append(
            {
                "node": getattr(node, "unique_id", str(node)),
                "resource_type": str(getattr(node, "resource_type", "")),
                "status": str(getattr(r, "status", "")).lower().split(".")[-1],
                "message": getattr(r, "message", None),
                "failures": getattr(r, "failures", None),
                "execution_time": getattr(r, "execution_time", None),
            }
        )
    out = DbtResult(" ".join(args), bool(res.success), nodes)
    if raise_on_failure and not res.success:
        failures = out.failures or [{"node": "dbt", "status": "error", "message": str(res.exception)}]
        raise DbtFailed(out.command, failures)
    return out
