"""Diff `marts.suppression_list` against the ledger, apply the removal policy, and check the brake.

**Adds** are addresses in `suppression_list` for the platform that the ledger does not hold.

**Removals are data, never inferred.** An address the ledger holds that is no longer in
`suppression_list` is removed only when `marts.suppression_removals` (if the table exists) lists it::

    email, platform, removal_reason in ('corrected_address', 'manual_override'), approved_by, noted_at

with a non-empty `approved_by` and `platform` equal to the platform (or `'*'` for all). Every other
such address is **kept** and reported as ``kept (policy forbids removal)`` (POLICY.md "Never": a
suppression never disappears because a later export lacks it). A listed removal for an address that is
still in `suppression_list` is ignored: the suppression wins. On platforms whose API cannot safely
un-suppress (Mailchimp refuses to resubscribe compliance-state members; HubSpot would need a consent
basis) an approved removal is reported as ``unsupported_removal`` for a person to do by hand.

**Brake.** Changes (adds + removals) above ``max(floor, max_change_ratio × ledger size)`` stop the
platform unless approved. The first sync of a platform (empty ledger) therefore needs one approval when
it has more than `floor` addresses to write — on purpose: nobody should bulk-write consent data to a
production system without looking at the plan first.

Optional `suppression_list` columns are read by name: `list_id` (rows with a list_id apply only to
the connector scope of that id; null applies to every scope).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from .base import Change

ALLOWED_REMOVAL_REASONS = ("corrected_address", "manual_override")
BRAKE_FLOOR = 50


class SyncBrakeTripped(RuntimeError):
    """A platform's change set is larger than the safety cap; nothing was written to it."""

    def __init__(self, tripped: dict[str, tuple[int, int]], summary: object | None = None) -> None:
        self.tripped = tripped
        self.summary = summary
        parts = [f"{p}: {n} planned changes > limit {limit}" for p, (n, limit) in sorted(tripped.items())]
        super().__init__(
            "suppression sync stopped by the safety brake — " + "; ".join(parts)
            + ". Nothing was written to these platforms. Review the plan (ops.sync_plan, sync_plan/<platform>.csv), "
            "then approve with the Airflow param `approve_large_sync=true` or the CLI flag `--approve`."
        )


@dataclass
class Plan:
    platform: str
    scope: str
    adds: list[Change] = field(default_factory=list)
    removals: list[Change] = field(default_factory=list)
    kept: list[Change] = field(default_factory=list)  # policy forbids removal
    unsupported_removals: list[Change] = field(default_factory=list)
    ledger_size: int = 0
    desired_size: int = 0
    drift_platform_only: int | None = None
    drift_ledger_only: int | None = None

    @property
    def changes(self) -> int:
        return len(self.adds) + len(self.removals)

    def brake_limit(self, max_change_ratio: float, floor: int = BRAKE_FLOOR) -> int:
        return max(floor, math.floor(max_change_ratio * self.ledger_size))

    def rows(self) -> list[tuple[str, str, str, str | None]]:
        out: list[tuple[str, str, str, str | None]] = []
        out += [("add", c.email, c.reason, None) for c in self.adds]
        out += [("remove", c.email, c.reason, "approved removal") for c in self.removals]
        out += [("keep", c.email, c.reason, "kept (policy forbids removal)") for c in self.kept]
        out += [("unsupported_removal", c.email, c.reason, "approved, but the platform API cannot un-suppress: do it by hand")
                for c in self.unsupported_removals]
        return out


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = ? and table_name = ?", [schema, table]).fetchall()}


def suppression_platforms(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not _table_exists(con, "marts", "suppression_list"):
        return set()
    return {r[0] for r in con.execute("select distinct lower(trim(platform)) from marts.suppression_list "
                                      "where platform is not null").fetchall()}


def load_desired(con: duckdb.DuckDBPyConnection, platform: str, scope: str | None) -> dict[str, str]:
    """email → reason for the platform (normalized address; by column name, extra columns ignored)."""
    if not _table_exists(con, "marts", "suppression_list"):
        raise FileNotFoundError("marts.suppression_list not found in the warehouse: run `list-hygiene build` first")
    cols = _columns(con, "marts", "suppression_list")
    missing = {"email", "platform", "reason"} - cols
    if missing:
        raise ValueError(f"marts.suppression_list lacks column(s) {sorted(missing)}: see docs/data-contracts.md §3")
    where = "lower(trim(platform)) = ? and email is not null and trim(email) <> ''"
    params: list[object] = [platform]
    if "list_id" in cols and scope:
        where += " and (list_id is null or list_id = ?)"
        params.append(scope)
    rows = con.execute(f"select lower(trim(email)) as email, coalesce(reason, 'unknown') from marts.suppression_list "
                       f"where {where} order by 1", params).fetchall()
    return {e: r for e, r in rows}


def load_approved_removals(con: duckdb.DuckDBPyConnection, platform: str) -> set[str]:
    if not _table_exists(con, "marts", "suppression_removals"):
        return set()
    rows = con.execute(
        "select distinct lower(trim(email)) from marts.suppression_removals "
        "where (lower(trim(platform)) = ? or platform = '*') and removal_reason in (?, ?) "
        "and approved_by is not null and trim(approved_by) <> ''",
        [platform, *ALLOWED_REMOVAL_REASONS]).fetchall()
    return {r[0] for r in rows}


def make_plan(platform: str, scope: str, desired: dict[str, str], ledger: dict[str, str], approved: set[str],
              *, supports_removal: bool = True, platform_state: set[str] | None = None) -> Plan:
    """Pure diff. `platform_state` (reconcile) = what the platform itself lists; drift is reported both
    ways, and a desired address the ledger holds but the platform lost is planned as an add again."""
    plan = Plan(platform, scope, ledger_size=len(ledger), desired_size=len(desired))
    ledger_view = dict(ledger)
    if platform_state is not None:
        plan.drift_platform_only = len(platform_state - set(ledger))
        lost = set(ledger) - platform_state
        plan.drift_ledger_only = len(lost)
        for e in lost & set(desired):
            ledger_view.pop(e, None)
    plan.adds = [Change(e, r, "add") for e, r in sorted(desired.items()) if e not in ledger_view]
    for e, r in sorted(ledger_view.items()):
        if e in desired:
            continue
        if e not in approved:
            plan.kept.append(Change(e, r, "keep"))
        elif not supports_removal:
            plan.unsupported_removals.append(Change(e, r, "remove"))
        else:
            plan.removals.append(Change(e, r, "remove"))
    return plan
