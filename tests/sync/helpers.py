"""Test warehouses built with duckdb directly, a sleep recorder, and readers of the ops tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from list_hygiene.sync import RetryPolicy


def addr(i: int, domain: str = "example.com") -> str:
    return f"user{i:05d}@{domain}"


def write_suppressions(path: Path, rows: Iterable[tuple[str, str, str]], *, removals: Iterable[tuple] | None = None,
                       extra_columns: bool = False) -> None:
    """rows: (email, platform, reason). Replaces marts.suppression_list (and suppression_removals if given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        extra = ", list_id varchar, allowed_removal_reason varchar" if extra_columns else ""
        con.execute(f"create or replace table marts.suppression_list (email varchar, platform varchar, reason varchar, "
                    f"suppressed_since timestamp, is_permanent boolean{extra})")
        data = list(rows)
        if data:  # one statement (executemany is row-by-row in DuckDB)
            con.execute("insert into marts.suppression_list (email, platform, reason, suppressed_since, is_permanent) "
                        "select unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[]), "
                        "timestamp '2024-06-01 00:00:00', unnest(?::boolean[])",
                        [[r[0] for r in data], [r[1] for r in data], [r[2] for r in data],
                         [r[2] in ("hard_bounce", "complaint", "unsubscribe") for r in data]])
        if removals is not None:
            con.execute("create or replace table marts.suppression_removals (email varchar, platform varchar, "
                        "removal_reason varchar, approved_by varchar, noted_at timestamp)")
            con.executemany("insert into marts.suppression_removals values (?, ?, ?, ?, now())", list(removals))
    finally:
        con.close()


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ledger_emails(path: Path, platform: str) -> set[str]:
    return {r[0] for r in query(path, "select email from ops.sync_ledger where platform = ?", [platform])}


def log_statuses(path: Path, platform: str) -> dict[str, int]:
    return dict(query(path, "select status, count(*) from ops.sync_log where platform = ? group by 1", [platform]))


@dataclass
class SleepRecorder:
    """Stands in for time.sleep: records each wait, sleeps a token amount so threads interleave."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast_policy(sleep: SleepRecorder | None = None, attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, backoff_base=0.001, backoff_max=0.005, timeout=5.0,
                       sleep=sleep or SleepRecorder(), poll_interval=0.0, poll_timeout=10.0)
