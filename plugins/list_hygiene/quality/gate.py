"""The gate between the warehouse and the platforms.

Data-quality failures block the sync and name the check, the observed value and the threshold.
Deliverability alerts (bounce and complaint rates) are reported loudly but never block: suppressing
is the remedy for them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..dbt_runner import run_dbt
from ..policy import policy_vars
from .checks import CHECKS, Check

log = logging.getLogger(__name__)


class GateFailed(RuntimeError):
    """At least one blocking data-quality check failed; the sync must not run."""


@dataclass
class CheckResult:
    suite: str
    expectation: str
    success: bool
    observed_value: str
    severity: str
    source: str  # dbt | great_expectations | deliverability


@dataclass
class GateReport:
    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "warn"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "checks": len(self.results),
            "failures": [asdict(r) for r in self.failures],
            "warnings": [asdict(r) for r in self.warnings],
            "alerts": self.alerts,
        }


def _dbt_tests(warehouse: Path) -> list[CheckResult]:
    res = run_dbt(["test", "--select", "test_type:data"], warehouse, raise_on_failure=False)
    out = []
    for n in res.nodes:
        status = n["status"]
        out.append(
            CheckResult(
                suite="dbt",
                expectation=n["node"],
                success=status in ("pass", "success"),
                observed_value=f"{n.get('failures') or 0} failing rows" + (f": {n['message']}" if n["message"] else ""),
                severity="warn" if status == "warn" else "fail",
                source="dbt",
            )
        )
    if not res.success and not res.failures:
        out.append(CheckResult("dbt", "dbt test", False, "dbt could not run the tests", "fail", "dbt"))
    return out


def _gx_checks(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> list[CheckResult]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # heavy import (~8 s): only when the gate runs

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    out: list[CheckResult] = []
    for check in checks:
        frame = con.execute(check.query).df()
        asset = source.add_dataframe_asset(name=check.suite)
        batch_def = asset.add_batch_definition_whole_dataframe(f"{check.suite}_all")
        suite = context.suites.add(gx.ExpectationSuite(name=check.suite))
        for name, kwargs in check.expectations:
            suite.add_expectation(getattr(gx.expectations, name)(**kwargs))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{check.suite}_validation", data=batch_def, suite=suite)
        )
        checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"{check.suite}_checkpoint", validation_definitions=[validation]))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        for vr in result.run_results.values():
            for er in vr.results:
                cfg = er.expectation_config
                observed = er.result.get("observed_value")
                if observed is None:
                    unexpected = er.result.get("unexpected_count")
                    observed = f"{unexpected} unexpected of {er.result.get('element_count')}" if unexpected is not None else ""
                    sample = er.result.get("partial_unexpected_list") or []
                    if sample:
                        observed += f" (e.g. {json.dumps(sample[:3], default=str)})"
                column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list")
                out.append(
                    CheckResult(
                        suite=check.suite,
                        expectation=f"{cfg.type}({column})",
                        success=bool(er.success),
                        observed_value=str(observed),
                        severity=check.severity,
                        source="great_expectations",
                    )
                )
    return out


ALERT_QUERY = """
    select
        platform,
        coalesce(campaign_id, '(none)') as campaign_id,
        count(*) filter (where event_type = 'send') as sends,
        count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard_bounces,
        count(*) filter (where event_type = 'complaint') as complaints
    from marts.fct_email_events
    group by 1, 2
    having count(*) filter (where event_type = 'send') > 0
"""


def deliverability_alerts(con: duckdb.DuckDBPyConnection, lines: dict[str, float]) -> list[dict[str, Any]]:
    """Campaigns over the hard-bounce / complaint lines of POLICY rule 5 (never blocking)."""
    alerts = []
    for platform, campaign, sends, hard, complaints in con.execute(ALERT_QUERY).fetchall():
        for metric, count, warn, maximum in (
            ("hard_bounce_rate", hard, lines["hard_bounce_rate_warn"], lines["hard_bounce_rate_max"]),
            ("complaint_rate", complaints, lines["complaint_rate_warn"], lines["complaint_rate_max"]),
        ):
            rate = count / sends
            if rate > warn:
                alerts.append(
                    {
                        "platform": platform,
                        "campaign_id": campaign,
                        "metric": metric,
                        "value": round(rate, 5),
                        "threshold": maximum if rate > maximum else warn,
                        "level": "critical" if rate > maximum else "warning",
                        "sends": sends,
                    }
                )
    return sorted(alerts, key=lambda a: (-a["value"], a["platform"], a["campaign_id"]))



def store_results(con: duckdb.DuckDBPyConnection, report: GateReport) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        """create table if not exists ops.quality_results (
            run_id varchar, suite varchar, expectation varchar, success boolean, observed_value varchar,
            severity varchar, source varchar, checked_at timestamp)"""
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.executemany(
        "insert into ops.quality_results values (?,?,?,?,?,?,?,?)",
        [(report.run_id, r.suite, r.expectation, r.success, r.observed_value, r.severity, r.source, now)
         for r in report.results],
    )


def run_gate(warehouse: Path, run_id: str, raise_on_failure: bool = True) -> GateReport:
    """dbt data tests, then GX suites on the marts; stores results in ops.quality_results."""
    report = GateReport(run_id)
    report.results.extend(_dbt_tests(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report.results.extend(_gx_checks(con, CHECKS))
        report.alerts = deliverability_alerts(con, policy_vars())
    with duckdb.connect(str(warehouse)) as con:
        store_results(con, report)
    for a in report.alerts:
        log.warning(
            "DELIVERABILITY %s: %s %s %s = %.2f%% (line %.2f%%) over %d sends",
            a["level"].upper(), a["platform"], a["campaign_id"], a["metric"], a["value"] * 100, a["threshold"] * 100,
            a["sends"],
        )
    if raise_on_failure and report.failures:
        lines = [
            f"- {r.suite}: {r.expectation} failed; observed {r.observed_value}" for r in report.failures[:25]
        ]
        raise GateFailed(f"quality gate failed ({len(report.failures)} check(s)); sync blocked:\n" + "\n".join(lines))
    return report
