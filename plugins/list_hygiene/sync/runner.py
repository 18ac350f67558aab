"""`run_sync`: plan, brake, apply in batches, ledger per confirmed batch, audit.

Per platform, in order:
1. Resolve the connector (module per platform) and its Airflow connection. No connector → mode
   ``unsupported``; no connection → ``no_credentials``; ``apply=False`` → ``dry_run``. Those three
   only plan.
2. (apply) Resolve batches left ``in_flight`` by an interrupted run: read the platform's list when it
   can be read and write what it shows to the ledger; otherwise the batch is re-sent (all writes used
   are set-semantic, so a re-send never double-counts).
3. Plan: diff + removal policy (planner.py); optional reconcile reads the platform's list first.
   The plan goes to `ops.sync_plan` and `<out_dir>/sync_plan/<platform>.csv`.
4. Brake: changes over the cap and not approved → nothing is written for that platform, the others
   run, and `SyncBrakeTripped` is raised at the end (CLI exit 2, Airflow task fails).
5. Apply: batches sized to the API; each batch is marked in flight, sent, then its ledger rows and log
   rows are committed together. Per-row errors are logged and retried by the next run; a failed batch
   does not stop the platform; rejected credentials or an exhausted daily quota do (mode ``failed``,
   `SyncFailed` raised at the end after every platform had its turn).

One DuckDB connection per call, closed before returning or raising.
"""

from __future__ import annotations

import csv
import importlib
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..privacy import hash_email
from .base import (
    AuthError,
    Change,
    Connector,
    QuotaExhausted,
    RequestRejected,
    RetryableError,
    RetryPolicy,
    RowResult,
    scrub,
)
from .connections import Connection, get_connection
from .ledger import Ledger
from .planner import (
    BRAKE_FLOOR,
    Plan,
    SyncBrakeTripped,
    load_approved_removals,
    load_desired,
    make_plan,
    suppression_platforms,
)

log = logging.getLogger(__name__)

CONNECTORS: dict[str, str] = {
    "sendgrid": "sendgrid:SendGridConnector",
    "mailchimp": "mailchimp:MailchimpConnector",
    "ses": "ses:SesConnector",
    "postmark": "postmark:PostmarkConnector",
    "mailgun": "mailgun:MailgunConnector",
    "hubspot": "hubspot:HubSpotConnector",
    "salesforce": "salesforce:SalesforceConnector",
}


class SyncFailed(RuntimeError):
    """At least one platform could not be synced (credentials, quota, unexpected error)."""

    def __init__(self, failed: dict[str, str], summary: SyncSummary) -> None:
        self.failed = failed
        self.summary = summary
        super().__init__("suppression sync failed for " + "; ".join(f"{p}: {e}" for p, e in sorted(failed.items())))


@dataclass
class PlatformSummary:
    mode: str  # dry_run | no_credentials | unsupported | applied | partial | brake_tripped | failed
    planned_adds: int = 0
    planned_removals: int = 0
    applied: int = 0
    failed: int = 0
    skipped_forbidden_removals: int = 0
    error: str | None = None
    scope: str = ""
    brake_limit: int | None = None
    brake_would_trip: bool = False
    not_found: int = 0
    recovered: int = 0
    unsupported_removals: int = 0
    drift_platform_only: int | None = None
    drift_ledger_only: int | None = None
    batches: int = 0
    requests: int = 0
    retries: int = 0
    plan_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncSummary:
    run_id: str
    apply: bool = False
    platforms: dict[str, PlatformSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "apply": self.apply,
                "platforms": {p: s.to_dict() for p, s in sorted(self.platforms.items())}}


def new_run_id() -> str:
    return f"sync_{datetime.now(UTC):%Y%m%dT%H%M%SZ}_{secrets.token_hex(3)}"


def connector_class(platform: str) -> type[Connector] | None:
    target = CONNECTORS.get(platform)
    if not target:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def _write_plan_file(out_dir: Path, plan: Plan) -> Path:
    """The operator's export of what will be written (addresses in clear: it is the review copy)."""
    folder = out_dir / "sync_plan"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{plan.platform}.csv"
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["action", "email", "reason", "scope", "note"])
        for action, email_, reason, note in plan.rows():
            w.writerow([action, email_, reason, plan.scope, note or ""])
    tmp.replace(path)
    return path


def run_sync(
    warehouse: Path,
    *,
    apply: bool,
    platforms: list[str] | None = None,
    run_id: str | None = None,
    out_dir: Path | None = None,
    max_change_ratio: float = 0.10,
    approve: bool = False,
    connections: Mapping[str, Connection] | None = None,
    reconcile: bool = False,
    policy: RetryPolicy | None = None,
    brake_floor: int = BRAKE_FLOOR,
) -> SyncSummary:
    """Make each platform agree with `marts.suppression_list` (see the module docstring).

    `connections`, when given, is the only source of credentials (keys are platform names); otherwise
    each platform's `AIRFLOW_CONN_<PLATFORM>_DEFAULT` / Airflow connection `<platform>_default` is used.
    """
    from ..paths import duckdb_config, output_dir_for

    warehouse = Path(warehouse)
    run_id = run_id or new_run_id()
    out_dir = Path(out_dir) if out_dir is not None else output_dir_for(warehouse)
    summary = SyncSummary(run_id=run_id, apply=apply)
    tripped: dict[str, tuple[int, int]] = {}
    failed: dict[str, str] = {}
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), config=duckdb_config())
    try:
        ledger = Ledger(con, run_id)
        names = [p.strip().lower() for p in platforms] if platforms else sorted(
            suppression_platforms(con) | ledger.platforms())
        for p in names:
            conn = connections.get(p) if connections is not None else get_connection(p)
            s = _sync_platform(p, con, ledger, conn, apply=apply, approve=approve, max_change_ratio=max_change_ratio,
                               reconcile=reconcile, policy=policy, brake_floor=brake_floor, out_dir=out_dir)
            summary.platforms[p] = s
            if s.mode == "brake_tripped":
                tripped[p] = (s.planned_adds + s.planned_removals, s.brake_limit or 0)
            if s.mode == "failed":
                failed[p] = s.error or "failed"
            log.info("sync %s %s: mode=%s adds=%d removals=%d applied=%d failed=%d kept=%d", run_id, p, s.mode,
                     s.planned_adds, s.planned_removals, s.applied, s.failed, s.skipped_forbidden_removals)
    finally:
        con.close()
    if tripped:
        raise SyncBrakeTripped(tripped, summary)
    if failed:
        raise SyncFailed(failed, summary)
    return summary


def _sync_platform(p: str, con: duckdb.DuckDBPyConnection, ledger: Ledger, conn: Connection | None, *, apply: bool,
                   approve: bool, max_change_ratio: float, reconcile: bool, policy: RetryPolicy | None,
                   brake_floor: int, out_dir: Path) -> PlatformSummary:
    cls = connector_class(p)
    s = PlatformSummary(mode="unsupported" if cls is None else "no_credentials" if conn is None
                        else "dry_run" if not apply else "applied")
    connector: Connector | None = None
    scope: str | None = None
    try:
        if cls is not None and conn is not None:
            connector = cls(conn, policy)
            scope = connector.scope
            s.scope = scope
        platform_state: set[str] | None = None
        if s.mode == "applied" and connector is not None:
            s.recovered, platform_state = _recover(connector, con, ledger, p, connector.scope)
        if reconcile and connector is not None and connector.can_list and platform_state is None:
            platform_state = connector.list_suppressed()
        plan = make_plan(
            p, scope or "", load_desired(con, p, scope), ledger.confirmed(p, scope), load_approved_removals(con, p),
            supports_removal=cls.supports_removal if cls else True,
            platform_state=platform_state if reconcile else None,
        )
        ledger.write_plan(p, scope or "", plan.rows())
        s.plan_file = str(_write_plan_file(out_dir, plan))
        s.planned_adds, s.planned_removals = len(plan.adds), len(plan.removals)
        s.skipped_forbidden_removals = len(plan.kept)
        s.unsupported_removals = len(plan.unsupported_removals)
        s.drift_platform_only, s.drift_ledger_only = plan.drift_platform_only, plan.drift_ledger_only
        s.brake_limit = plan.brake_limit(max_change_ratio, brake_floor)
        s.brake_would_trip = plan.changes > s.brake_limit
        if s.mode != "applied" or connector is None:
            return s
        if s.brake_would_trip and not approve:
            s.mode = "brake_tripped"
            s.error = (f"{plan.changes} planned changes > limit {s.brake_limit} "
                       f"(max_change_ratio {max_change_ratio} × ledger {plan.ledger_size}, floor {brake_floor})")
            return s
        _apply(connector, ledger, plan, s)
        if s.failed:
            s.mode = "partial"
    except (AuthError, QuotaExhausted) as exc:
        s.mode, s.error = "failed", scrub(exc)
    except Exception as exc:  # noqa: BLE001 - one platform's surprise must not hide the others' results
        log.exception("sync %s failed", p)
        s.mode, s.error = "failed", scrub(f"{type(exc).__name__}: {exc}")
    except BaseException:  # interrupted (Ctrl-C, task killed): record it, then let it through
        s.mode, s.error = "interrupted", "interrupted; the next run resumes from the ledger"
        raise
    finally:
        if connector is not None:
            s.requests = int(connector.stats["requests"])
            s.retries = int(connector.stats["retries"])
            connector.close()
        ledger.write_run(p, scope or "", s.to_dict())
    return s


def _recover(connector: Connector, con: duckdb.DuckDBPyConnection, ledger: Ledger, p: str,
             scope: str) -> tuple[int, set[str] | None]:
    """Close batches an interrupted run left in flight. Returns (#addresses recovered, platform list read)."""
    in_flight = ledger.in_flight(p, scope)
    if not in_flight:
        return 0, None
    if not connector.can_list:
        for batch_id, action, _ in in_flight:
            ledger.resolve_in_flight(p, scope, batch_id, action, [], "abandoned")  # re-planned and re-sent
        log.warning("%s: %d interrupted batch(es) will be re-sent (platform list not readable; writes are idempotent)",
                    p, len(in_flight))
        return 0, None
    state = connector.list_suppressed()
    on_platform = {hash_email(e): e for e in state}
    desired = load_desired(con, p, scope)
    confirmed = ledger.confirmed(p, scope)
    in_ledger = {hash_email(e): e for e in confirmed}
    n = 0
    for batch_id, action, hashes in in_flight:
        if action == "add":
            done = [Change(on_platform[h], desired.get(on_platform[h], "unknown"), "add") for h in hashes if h in on_platform]
        else:
            done = [Change(in_ledger[h], confirmed[in_ledger[h]], "remove") for h in hashes
                    if h in in_ledger and h not in on_platform]
        ledger.resolve_in_flight(p, scope, batch_id, action, done, "recovered")
        n += len(done)
    log.warning("%s: resolved %d interrupted batch(es); %d address(es) were already applied", p, len(in_flight), n)
    return n, state


def _complete(batch: Sequence[Change], results: Sequence[RowResult]) -> list[RowResult]:
    """Exactly one result per address of the batch; an address the platform did not answer for failed."""
    by_email = {r.email.strip().lower(): r for r in results}
    out = []
    for c in batch:
        r = by_email.get(c.email)
        if r is None:
            r = RowResult(c.email, "failed", "no per-address result from the platform")
        r.email = c.email
        out.append(r)
    return out


def _one_by_one(fn: Callable[[Sequence[Change]], list[RowResult]], batch: Sequence[Change]) -> list[RowResult]:
    """The platform refused the whole batch (no per-row errors in its API): find the bad rows."""
    out: list[RowResult] = []
    for c in batch:
        try:
            out += fn([c])
        except RequestRejected as exc:
            out.append(RowResult(c.email, "failed", scrub(exc), exc.status))
    return out


def _apply(connector: Connector, ledger: Ledger, plan: Plan, s: PlatformSummary) -> None:
    p, scope = plan.platform, connector.scope
    groups: dict[str, list[Change]] = {}
    for c in plan.adds:
        groups.setdefault(connector.group_key(c), []).append(c)
    work: list[tuple[str, list[Change], Callable[[Sequence[Change]], list[RowResult]]]] = []
    for _, changes in sorted(groups.items()):
        work += [("add", b, connector.add) for b in connector.chunks(changes, connector.add_batch_size)]
    work += [("remove", b, connector.remove) for b in connector.chunks(plan.removals, connector.remove_batch_size)]
    for n, (action, batch, fn) in enumerate(work, start=1):
        batch_id = f"{ledger.run_id}:{ledger.attempt}:{p}:{action}:{n:05d}"
        ledger.start_batch(p, scope, batch_id, action, batch)
        error: str | None = None
        try:
            try:
                results = fn(batch)
            except RequestRejected:
                if not (connector.split_on_reject and len(batch) > 1):
                    raise
                results = _one_by_one(fn, batch)
        except (RetryableError, RequestRejected) as exc:
            error = scrub(exc)
            results = [RowResult(c.email, "failed", error, exc.status) for c in batch]
        except (AuthError, QuotaExhausted) as exc:
            ledger.finish_batch(p, scope, batch_id, action, batch,
                                [RowResult(c.email, "failed", scrub(exc), exc.status) for c in batch], scrub(exc))
            s.failed += len(batch)
            s.batches += 1
            raise
        results = _complete(batch, results)
        ledger.finish_batch(p, scope, batch_id, action, batch, results, error)
        s.batches += 1
        s.applied += sum(r.ok for r in results)
        s.not_found += sum(r.status == "not_found" for r in results)
        s.failed += sum(r.status == "failed" for r in results)
