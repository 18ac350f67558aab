"""The gate between the warehouse and the platforms.

Order: dbt data tests and `dbt source freshness` (dbt runs in-process and releases its DuckDB handle
after each invoke), then one read-only connection to build every suite's frame and the deliverability
alerts, then Great Expectations validates the frames (no connection open), then one short write
connection stores ops.quality_results / ops.quality_metrics / ops.deliverability_alerts.

Data-quality failures (severity fail) block the sync; the message names the check, the observed value
and the threshold. Warnings are reported. Deliverability alerts (bounce and complaint rates) are
reported and sent to the notifier but never block: suppressing is the remedy for them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ..dbt_runner import run_dbt, target_dir
from ..paths import duckdb_config, output_dir_for
from ..privacy import mask_email
from .checks import Check, Expectation, describe_threshold, load_checks
from .config import thresholds
from .frames import FRAMES, METRICS_DDL, FrameResult

log = logging.getLogger(__name__)


class GateFailed(RuntimeError):
    """At least one blocking data-quality check failed; the sync must not run."""

    def __init__(self, message: str, report: GateReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class CheckResult:
    suite: str
    expectation: str
    success: bool | None  # None: skipped (a table not there yet, no history) — never counted as passed
    observed_value: str
    severity: str  # fail | warn | alert (deliverability, never blocking)
    source: str  # dbt | dbt_freshness | great_expectations | deliverability
    threshold: str = ""

    def line(self) -> str:
        return f"{self.suite}: {self.expectation} failed; observed {self.observed_value}; threshold {self.threshold}"


@dataclass
class GateReport:
    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    data_docs: str | None = None
    seconds: float | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.success is False and r.severity == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.success is False and r.severity == "warn"]

    @property
    def skipped(self) -> list[CheckResult]:
        return [r for r in self.results if r.success is None]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        checks = [r for r in self.results if r.source != "deliverability"]
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "checks": len(checks),
            "failures": [asdict(r) for r in self.failures],
            "warnings": [asdict(r) for r in self.warnings],
            "alerts": self.alerts,
            "skipped": [asdict(r) for r in self.skipped],
            "suites": sorted({r.suite for r in checks}),
            "data_docs": self.data_docs,
            "seconds": self.seconds,
        }


# --- dbt: data tests and source freshness ---------------------------------------------------------

def _dbt_tests(warehouse: Path) -> list[CheckResult]:
    res = run_dbt(["test", "--select", "test_type:data"], warehouse, raise_on_failure=False)
    out = []
    for n in res.nodes:
        status = n["status"]
        message = (n.get("message") or "").strip().splitlines()
        out.append(
            CheckResult(
                suite="dbt",
                expectation=n["node"],
                success=status in ("pass", "success"),
                observed_value=f"{n.get('failures') or 0} failing rows" + (f": {message[0][:200]}" if message else ""),
                severity="warn" if status == "warn" else "fail",
                source="dbt",
                threshold="0 failing rows",
            )
        )
    if not res.success and not res.failures:
        out.append(CheckResult("dbt", "dbt test", False, "dbt could not run the tests", "fail", "dbt", "dbt runs"))
    return out


def _freshness(warehouse: Path, out_dir: Path) -> list[CheckResult]:
    """`dbt source freshness`: error_after → fail, warn_after → warn; sources with no rows are skipped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir() / "sources.json"  # where dbt writes it (a custom --output is deprecated)
    target.unlink(missing_ok=True)
    res = run_dbt(["source", "freshness"], warehouse, raise_on_failure=False)
    details = {}
    if target.exists():
        shutil.copy2(target, out_dir / "sources.json")
        details = {r["unique_id"]: r for r in json.loads(target.read_text()).get("results", [])}
    out = []
    for n in res.nodes:
        uid = n["node"]
        name = uid.removeprefix("source.list_hygiene.")
        d = details.get(uid)
        if d is None:  # runtime error: the query could not run (no loaded_at column, no table)
            first = next((ln.strip() for ln in (n.get("message") or "").splitlines() if "Error" in ln), "dbt error")
            out.append(CheckResult("source_freshness", name, None, f"not measurable: {first[:200]}", "warn",
                                   "dbt_freshness", "loaded_at_field must exist"))
            continue
        crit = d.get("criteria") or {}
        threshold = ", ".join(
            f"{k} {v['count']} {v['period']}" for k, v in crit.items() if isinstance(v, dict) and v.get("count")
        )
        if str(d.get("max_loaded_at", "")).startswith("0001-"):
            out.append(CheckResult("source_freshness", name, None, "skipped: no rows loaded yet", "warn",
                                   "dbt_freshness", threshold))
            continue
        age_days = float(d.get("max_loaded_at_time_ago_in_s") or 0) / 86400
        status = d.get("status")
        out.append(
            CheckResult(
                "source_freshness", name, status == "pass",
                f"last load {age_days:.1f} days ago ({d.get('max_loaded_at')})",
                "fail" if status == "error" else "warn", "dbt_freshness", threshold,
            )
        )
    return out


# --- Great Expectations ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s,;()'\"]+@[^\s,;()'\"]+")


def _mask(text: Any) -> str:
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), str(text))


def _columns(exp: Expectation) -> list[str]:
    kw = exp.kwargs
    return list(kw.get("column_list") or ([kw["column"]] if "column" in kw else []))


def _offending(frame: pd.DataFrame, exp: Expectation) -> pd.Series:
    """Rows that break the expectation, to name them in the message (GX gives values, not rows)."""
    kw, cols = exp.kwargs, _columns(exp)
    if not cols:
        return pd.Series(False, index=frame.index)
    s = frame[cols[0]]
    t = exp.type
    if t == "ExpectColumnValuesToNotBeNull":
        return s.isna()
    if t == "ExpectColumnValuesToBeUnique":
        return s.notna() & s.duplicated(keep=False)
    if t == "ExpectCompoundColumnsToBeUnique":
        return frame.duplicated(subset=cols, keep=False)
    if t == "ExpectColumnValuesToBeInSet":
        return s.notna() & ~s.isin(kw["value_set"])
    if t == "ExpectColumnValuesToNotBeInSet":
        return s.isin(kw["value_set"])
    if t == "ExpectColumnValuesToBeBetween":
        bad = pd.Series(False, index=frame.index)
        if kw.get("min_value") is not None:
            bad |= s < kw["min_value"]
        if kw.get("max_value") is not None:
            bad |= s > kw["max_value"]
        return bad
    return pd.Series(False, index=frame.index)


def _observed(frame: pd.DataFrame, check: Check, exp: Expectation, gx_result: dict[str, Any]) -> str:
    bad = frame[_offending(frame, exp)]
    if gx_result.get("observed_value") is not None and bad.empty:
        return _mask(gx_result["observed_value"])
    col = _columns(exp)[0] if _columns(exp) else None
    if exp.type == "ExpectColumnValuesToBeBetween" and col and not bad.empty:
        worst = bad.reindex(bad[col].sort_values(ascending=exp.kwargs.get("max_value") is None).index)
        label = check.label_column if check.label_column in frame.columns else col
        items = [f"{v:g} ({_mask(lbl)})" for v, lbl in zip(worst[col], worst[label], strict=False)][:3]
        return f"{col} = " + "; ".join(items) + (f" ({len(bad)} of {len(frame)} rows outside)" if len(bad) > 1 else "")
    n = gx_result.get("unexpected_count")
    n = len(bad) if n is None else n
    text = f"{n} unexpected of {gx_result.get('element_count', len(frame))}"
    if not bad.empty:
        label = check.label_column if check.label_column in frame.columns else col
        sample = [_mask(v) for v in bad[label].astype(str).drop_duplicates().head(3)]
        text += f" (e.g. {', '.join(sample)})"
    return text


def _gx_context(docs_dir: Path | None):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # heavy import (~7 s): only when the gate runs

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="list_hygiene",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            },
        )
    return gx, context


def validate(
    frames: dict[str, pd.DataFrame], checks: list[Check], docs_dir: Path | None = None
) -> tuple[list[CheckResult], str | None]:
    """One GX suite + validation definition + checkpoint per check, over its frame; Data Docs HTML."""
    gx, context = _gx_context(docs_dir)
    source = context.data_sources.add_pandas("warehouse")
    out: list[CheckResult] = []
    for check in checks:
        frame = frames.get(check.suite)
        if frame is None:
            continue
        suite = context.suites.add(gx.ExpectationSuite(name=check.suite, meta={"description": check.description}))
        active: list[Expectation] = []
        for exp in check.expectations:
            missing = [c for c in _columns(exp) if c not in frame.columns]
            if missing:
                out.append(CheckResult(check.suite, f"{exp.type}({','.join(_columns(exp))})", None,
                                       f"skipped: column {missing} not in the table", exp.severity or check.severity,
                                       "great_expectations", describe_threshold(exp)))
                continue
            suite.add_expectation(getattr(gx.expectations, exp.type)(**exp.kwargs))
            active.append(exp)
        if not active:
            continue
        asset = source.add_dataframe_asset(name=check.suite)
        batch_def = asset.add_batch_definition_whole_dataframe(f"{check.suite}_all")
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{check.suite}_validation", data=batch_def, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=f"{check.suite}_checkpoint", validation_definitions=[validation], actions=[])
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        for vr in result.run_results.values():
            # GX keeps the suite's order; match results to our expectations by position
            for exp, er in zip(active, vr.results, strict=False):
                cols = ",".join(_columns(exp))
                if (er.exception_info or {}).get("raised_exception"):
                    observed = f"error: {str(er.exception_info.get('exception_message'))[:200]}"
                else:
                    observed = _observed(frame, check, exp, er.result or {}) if not er.success else _mask(
                        (er.result or {}).get("observed_value", f"{len(frame)} rows ok"))
                out.append(
                    CheckResult(
                        suite=check.suite,
                        expectation=f"{exp.type}({cols})",
                        success=bool(er.success),
                        observed_value=observed,
                        severity=exp.severity or check.severity,
                        source="great_expectations",
                        threshold=describe_threshold(exp),
                    )
                )
    docs = None
    if docs_dir is not None:
        docs = context.build_data_docs(site_names=["list_hygiene"]).get("list_hygiene")
    return out, docs


# --- deliverability alerts (never blocking) ---------------------------------------------------------

def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, name = qualified.partition(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def _table_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> set[str]:
    schema, _, name = qualified.partition(".")
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()}


FALLBACK_ALERT_QUERY = """
    select
        platform,
        coalesce(campaign_id, '(none)') as campaign_id,
        null as list_id,
        count(*) filter (where event_type = 'send') as sends,
        count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard_bounces,
        count(*) filter (where event_type = 'complaint') as complaints
    from marts.fct_email_events
    group by 1, 2
    having count(*) filter (where event_type = 'send') > 0
"""


def alert_query(con: duckdb.DuckDBPyConnection) -> str:
    """marts.campaign_deliverability (issue 5) when it has landed, else the same figures from fct_email_events."""
    if _table_exists(con, "marts.campaign_deliverability"):
        cols = _table_columns(con, "marts.campaign_deliverability")
        if {"platform", "campaign_id", "sends", "hard_bounce_rate", "complaint_rate"} <= cols:
            list_col = "list_id" if "list_id" in cols else "null"
            return f"""
                select platform, coalesce(campaign_id, '(none)') as campaign_id, {list_col} as list_id, sends,
                       hard_bounce_rate * sends as hard_bounces, complaint_rate * sends as complaints
                from marts.campaign_deliverability where sends > 0"""
    return FALLBACK_ALERT_QUERY


def deliverability_alerts(con: duckdb.DuckDBPyConnection, lines: dict[str, float]) -> list[dict[str, Any]]:
    """Campaigns (and lists) over the hard-bounce / complaint lines of POLICY rule 5 (never blocking)."""
    alerts = []
    min_sends = int(lines.get("alert_min_sends", 1) or 1)
    for platform, campaign, list_id, sends, hard, complaints in con.execute(alert_query(con)).fetchall():
        if sends < min_sends:
            continue
        for metric, count, warn, maximum in (
            ("hard_bounce_rate", hard, lines["hard_bounce_rate_warn"], lines["hard_bounce_rate_max"]),
            ("complaint_rate", complaints, lines["complaint_rate_warn"], lines["complaint_rate_max"]),
        ):
            rate = float(count or 0) / sends
            if rate > warn:
                alerts.append(
                    {
                        "platform": platform,
                        "campaign_id": campaign,
                        "list_id": list_id,
                        "metric": metric,
                        "value": round(rate, 5),
                        "threshold": maximum if rate > maximum else warn,
                        "level": "critical" if rate > maximum else "warning",
                        "sends": int(sends),
                    }
                )
    return sorted(alerts, key=lambda a: (-a["value"], a["platform"], a["campaign_id"]))


# --- storage --------------------------------------------------------------------------------------

RESULTS_DDL = """create table if not exists ops.quality_results (
    run_id varchar, suite varchar, expectation varchar, success boolean, observed_value varchar,
    severity varchar, source varchar, checked_at timestamp)"""

ALERTS_DDL = """create table if not exists ops.deliverability_alerts (
    run_id varchar, platform varchar, campaign_id varchar, list_id varchar, metric varchar, value double,
    threshold double, level varchar, sends bigint, alerted_at timestamp)"""


def store_results(
    con: duckdb.DuckDBPyConnection, report: GateReport, metrics: list[tuple[str, str, float]] | None = None
) -> None:
    con.execute("create schema if not exists ops")
    con.execute(RESULTS_DDL)
    con.execute("alter table ops.quality_results add column if not exists threshold varchar")
    con.execute(METRICS_DDL)
    con.execute(ALERTS_DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.executemany(
        """insert into ops.quality_results
           (run_id, suite, expectation, success, observed_value, severity, source, checked_at, threshold)
           values (?,?,?,?,?,?,?,?,?)""",
        [(report.run_id, r.suite, r.expectation, r.success, r.observed_value, r.severity, r.source, now, r.threshold)
         for r in report.results],
    )
    if metrics:
        con.executemany(
            "insert into ops.quality_metrics values (?,?,?,?,?,?)",
            [(report.run_id, m, k, v, report.passed, now) for m, k, v in metrics],
        )
    if report.alerts:
        con.executemany(
            "insert into ops.deliverability_alerts values (?,?,?,?,?,?,?,?,?,?)",
            [(report.run_id, a["platform"], a["campaign_id"], a.get("list_id"), a["metric"], a["value"],
              a["threshold"], a["level"], a["sends"], now) for a in report.alerts],
        )


# --- the gate -------------------------------------------------------------------------------------

def _frames(
    con: duckdb.DuckDBPyConnection, checks: list[Check], knobs: dict[str, Any], run_id: str
) -> tuple[dict[str, pd.DataFrame], list[CheckResult], list[tuple[str, str, float]]]:
    frames: dict[str, pd.DataFrame] = {}
    skipped: list[CheckResult] = []
    metrics: list[tuple[str, str, float]] = []
    for check in checks:
        absent = [t for t in check.requires if not _table_exists(con, t)]
        if absent:
            note = f"skipped: {', '.join(absent)} not in the warehouse yet"
            log.warning("quality check %s %s", check.suite, note)
            skipped.append(CheckResult(check.suite, "(suite)", None, note, check.severity, "great_expectations", ""))
            continue
        if check.query:
            frames[check.suite] = con.execute(check.query).df()
            continue
        res: FrameResult = FRAMES[check.frame](con, knobs, run_id)
        metrics.extend(res.metrics)
        for note in ([res.skip_reason] if res.skip_reason else []) + res.notes:
            log.warning("quality check %s skipped: %s", check.suite, note)
            skipped.append(CheckResult(check.suite, "(suite)", None, f"skipped: {note}", check.severity,
                                       "great_expectations", ""))
        if res.frame is not None:
            frames[check.suite] = res.frame
    return frames, skipped, metrics


def failure_message(report: GateReport) -> str:
    lines = [f"- {r.line()}" for r in report.failures[:25]]
    more = len(report.failures) - 25
    return (f"quality gate failed ({len(report.failures)} check(s)); sync blocked:\n" + "\n".join(lines)
            + (f"\n- ... and {more} more (ops.quality_results, run {report.run_id})" if more > 0 else ""))


def run_gate(
    warehouse: Path, run_id: str, raise_on_failure: bool = True, overrides: dict[str, Any] | None = None,
    dbt_tests: bool = True, freshness: bool = True, notify: bool = True,
) -> GateReport:
    """dbt data tests and source freshness, then the GX suites on the marts, then deliverability alerts.

    Stores everything in ops.* and Data Docs under <warehouse>_outputs/quality/data_docs; raises GateFailed
    naming check, observed value and threshold when a blocking check fails (and raise_on_failure)."""
    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    out_dir = output_dir_for(warehouse) / "quality"
    knobs = thresholds(overrides)
    checks = load_checks(overrides=overrides)
    report = GateReport(run_id)
    if dbt_tests:
        report.results.extend(_dbt_tests(warehouse))
    if freshness:
        report.results.extend(_freshness(warehouse, out_dir))
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        frames, skipped, metrics = _frames(con, checks, knobs, run_id)
        report.alerts = deliverability_alerts(con, knobs)
    report.results.extend(skipped)
    docs_dir = out_dir / "data_docs"
    shutil.rmtree(docs_dir, ignore_errors=True)  # the site shows this run; history is in ops.quality_results
    gx_results, report.data_docs = validate(frames, checks, docs_dir)
    report.results.extend(gx_results)
    report.results.extend(
        CheckResult("deliverability", f"{a['metric']}:{a['platform']}:{a['campaign_id']}", False,
                    f"{a['value']:.4%} over {a['sends']} sends", "alert", "deliverability",
                    f"{a['level']} line {a['threshold']:.2%}")
        for a in report.alerts
    )
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        store_results(con, report, metrics)
    for a in report.alerts:
        log.warning(
            "DELIVERABILITY %s: %s %s %s = %.2f%% (line %.2f%%) over %d sends — reported, sync not blocked",
            a["level"].upper(), a["platform"], a["campaign_id"], a["metric"], a["value"] * 100, a["threshold"] * 100,
            a["sends"],
        )
    for r in report.warnings:
        log.warning("quality warn %s", r.line())
    if notify and report.alerts:
        from ..notify import notify_alerts

        notify_alerts(report.alerts, run_id)
    report.seconds = round(time.perf_counter() - started, 2)
    if raise_on_failure and report.failures:
        raise GateFailed(failure_message(report), report)
    return report
