"""The gate between the warehouse and the platforms.

Order: a separate process starts and imports Great Expectations while one read-only connection here
builds every suite's frame and the deliverability alerts and closes; that process then validates the
frames while this process runs the dbt data tests and `dbt source freshness` (dbt runs in-process and
opens the file read-write, so no connection of ours is open by then; it releases its handle after each
invoke); then one short write connection stores ops.quality_results / ops.quality_metrics /
ops.deliverability_alerts. The report lists the results in the same order whichever way GX ran: dbt
tests, freshness, skipped suites, GX suites, deliverability.

GX on its own process: importing great_expectations and building its context is most of GX's time (8 of
11.7 s at 1 M contacts), and it can overlap the dbt tests only on another process (two threads importing
the same packages at once can deadlock or see half-initialised modules). The process is spawned, not
forked, so it inherits no DuckDB handle or thread; it imports GX first (the import overlaps the frames'
queries), then gets the frames pickled, runs `validate` and returns its results and the Data Docs
address. When it cannot start or dies, `validate` runs here after dbt (a warning says so); an exception
raised by `validate` itself is raised here as before. Environment: `LIST_HYGIENE_GATE_PARALLEL=0` runs
everything in this process, one step after the other (`run_gate(parallel=...)` overrides it). Without
dbt tests or freshness to overlap, GX runs here. While the GX process runs, the dbt tests' DuckDB is
capped lower (`gate_memory_limit`, 2GB by default, LIST_HYGIENE_GATE_MEMORY_LIMIT), so that the two
processes together stay under the 4 GiB budget. A spawned process imports the parent's main script
again, as `__mp_main__` (in a task started by the `airflow` command, that script imports Airflow: about
3 s here, while dbt runs). So a script that calls the gate must guard its top level with `if __name__ ==
'__main__':`; `run_gate` refuses to run while a spawned process is importing it.

Data-quality failures (severity fail) block the sync; the message names the check, the observed value
and the threshold. Warnings are reported. Deliverability alerts (bounce and complaint rates) are
reported and sent to the notifier but never block: suppressing is the remedy for them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
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
from .frames import FRAMES, METRICS_DDL, FrameResult, last_passing_gate_started_at

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

def _checked_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes that are checks: dbt also reports the project's on-run-start hooks (session settings) among a
    run's results; one that ran is no check and is left out, one that failed is kept so the gate says so."""
    return [n for n in nodes if not (n["resource_type"].rsplit(".", 1)[-1].lower() == "operation"
                                     and n["status"] in ("success", "pass"))]


def _dbt_tests(warehouse: Path) -> list[CheckResult]:
    # the results come back in memory and are stored in ops.quality_results: not writing manifest.json and
    # run_results.json (~1.2 CPU s at this project's size) leaves the CPU to the GX process running beside
    res = run_dbt(["test", "--select", "test_type:data", "--no-write-json"], warehouse, raise_on_failure=False)
    out = []
    for n in _checked_nodes(res.nodes):
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
    for n in _checked_nodes(res.nodes):
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


ROWS_CHECKED = "rows_checked"  # frame.attrs key (pickled with the frame): the rows a suspects-only query read


def _rows_checked(frame: pd.DataFrame) -> int:
    """How many rows the check covered: the frame's, or those its suspects were drawn from."""
    return int(frame.attrs.get(ROWS_CHECKED, len(frame)))


def _observed(frame: pd.DataFrame, check: Check, exp: Expectation, gx_result: dict[str, Any]) -> str:
    bad = frame[_offending(frame, exp)]
    if gx_result.get("observed_value") is not None and bad.empty:
        return _mask(gx_result["observed_value"])
    col = _columns(exp)[0] if _columns(exp) else None
    if exp.type == "ExpectColumnValuesToBeBetween" and col and not bad.empty:
        worst = bad.reindex(bad[col].sort_values(ascending=exp.kwargs.get("max_value") is None).index)
        label = check.label_column if check.label_column in frame.columns else col
        items = [f"{v:g} ({_mask(lbl)})" for v, lbl in zip(worst[col], worst[label], strict=False)][:3]
        return (f"{col} = " + "; ".join(items)
                + (f" ({len(bad)} of {_rows_checked(frame)} rows outside)" if len(bad) > 1 else ""))
    n = gx_result.get("unexpected_count")
    n = len(bad) if n is None else n
    text = f"{n} unexpected of {frame.attrs.get(ROWS_CHECKED, gx_result.get('element_count', len(frame)))}"
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
                        (er.result or {}).get("observed_value", f"{_rows_checked(frame)} rows ok"))
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


# --- GX on a separate process, beside the dbt tests ------------------------------------------------

PARALLEL_ENV = "LIST_HYGIENE_GATE_PARALLEL"
MEMORY_ENV = "LIST_HYGIENE_GATE_MEMORY_LIMIT"
RUN_MEMORY_ENV = "LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT"  # read by the dbt hook lh_session_memory_limit, one run at a time
GATE_MEMORY_LIMIT = "2GB"  # DuckDB's cap for the dbt tests while GX runs beside them (see gate_memory_limit)
_UNITS = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _size_bytes(value: str) -> float | None:
    """'3GB', '2.5 GiB' → bytes; None for what DuckDB reads otherwise (a percentage, a bare number)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]+)\s*", value or "")
    if not m or m.group(2).lower() not in _UNITS:
        return None
    try:
        return float(m.group(1)) * _UNITS[m.group(2).lower()]
    except ValueError:
        return None


def gate_memory_limit() -> str:
    """DuckDB's memory cap for the dbt tests while the GX process runs: LIST_HYGIENE_GATE_MEMORY_LIMIT, else
    2GB, or the warehouse-wide LIST_HYGIENE_DUCKDB_MEMORY_LIMIT when that is smaller. The two processes'
    peaks add up. At 1.5 M contacts the gate peaked at 4.50-4.60 GiB while this cap did not reach dbt's cursors
    (the profile's `settings` were applied again to each; its cap is a `config_options` entry now) and at
    3.77-3.83 GiB once it did (docs/quality-and-audit.md)."""
    explicit = os.environ.get(MEMORY_ENV, "").strip()
    if explicit:
        return explicit
    general = duckdb_config()["memory_limit"]
    size = _size_bytes(general)
    return general if size is not None and size < _size_bytes(GATE_MEMORY_LIMIT) else GATE_MEMORY_LIMIT


@contextlib.contextmanager
def _dbt_memory_limit(limit: str):
    """Caps the dbt runs inside at `limit`: LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT, which the project's on-run-start
    hook `lh_session_memory_limit` applies with `SET memory_limit`. Not through the profile's
    LIST_HYGIENE_DUCKDB_MEMORY_LIMIT: a profile that renders differently made dbt parse the whole project
    again, here and at the next build (about 4 s each at 1 M contacts)."""
    before = os.environ.get(RUN_MEMORY_ENV)
    os.environ[RUN_MEMORY_ENV] = limit
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(RUN_MEMORY_ENV, None)
        else:
            os.environ[RUN_MEMORY_ENV] = before


def parallel_enabled() -> bool:
    """LIST_HYGIENE_GATE_PARALLEL: unset (or anything but 0/false/no/off) runs GX on a separate process."""
    return os.environ.get(PARALLEL_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class RemoteTraceback(Exception):
    """The GX process's traceback, chained as the cause of the exception `validate` raised there."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _child_logging() -> None:
    """A spawned process starts with no logging set up: WARNING and above go to its stderr (the parent's,
    which the Airflow task log captures); with no stderr at all, nowhere, and never an error."""
    root = logging.getLogger()
    if root.handlers:  # set up already (re-importing the parent's __main__ can do that, Airflow's CLI does)
        return
    if sys.stderr is None:
        root.addHandler(logging.NullHandler())
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:%(name)s:%(message)s (quality gate, GX process)")


def _validate_in_child(
    frames: dict[str, pd.DataFrame], checks: list[Check], docs_dir: Path | None
) -> tuple[str, Any]:
    """What the GX process runs: ("ok", what `validate` returned) or ("raised", (exception, traceback)).

    `validate`'s own exception comes back as a value, so the parent tells it apart from a failure of the
    process machinery (a broken pool, arguments that do not pickle), after which it runs `validate` itself."""
    _child_logging()
    try:
        return "ok", validate(frames, checks, docs_dir)
    except Exception as exc:  # noqa: BLE001 - raised again in the parent
        return "raised", (exc, traceback.format_exc())


def _executor() -> ProcessPoolExecutor:
    """One process for GX. Spawned, not forked: a fork would copy this process's DuckDB handles and threads."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _import_gx() -> None:
    """The GX process's first task, submitted before the frames are built: importing great_expectations is
    most of GX's time (about 7 s), and it then overlaps the frames' queries instead of following them."""
    _child_logging()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations  # noqa: F401


class _GxProcess:
    """`validate` on a spawned process. Entering starts the process and has it import GX; `submit` hands it
    the frames; `result()` collects what it returned. Leaving the `with` block shuts the pool down and waits
    for its process, so none outlives the gate. When the process cannot be had or dies, `result()` runs
    `validate` here (a warning says so)."""

    def __init__(self) -> None:
        self.args: tuple[dict[str, pd.DataFrame], list[Check], Path | None] | None = None
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future | None = None
        self.usable = True
        self.started = 0.0

    def __enter__(self) -> _GxProcess:
        self.started = time.perf_counter()
        try:
            self.pool = _executor()
            self.pool.submit(_import_gx)  # not waited for: a failed import fails validate there the same way
        except Exception as exc:  # noqa: BLE001 - no process to be had here (e.g. a daemonic parent)
            self._fall_back(exc)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def submit(self, frames: dict[str, pd.DataFrame], checks: list[Check], docs_dir: Path | None) -> None:
        self.args = (frames, checks, docs_dir)
        if not self.usable or self.pool is None:
            return
        try:
            self.future = self.pool.submit(_validate_in_child, *self.args)
        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool: the process died while importing
            self._fall_back(exc)

    def _fall_back(self, exc: BaseException) -> None:
        log.warning("quality gate: Great Expectations could not run on a separate process (%s: %s); validating "
                    "in this process instead. A script that runs the gate must guard its top level with "
                    "`if __name__ == '__main__':` (LIST_HYGIENE_GATE_PARALLEL=0 turns the process off)",
                    type(exc).__name__, str(exc)[:300])
        self.usable = False
        self.future = None

    def result(self) -> tuple[list[CheckResult], str | None]:
        if self.args is None:
            raise RuntimeError("_GxProcess.result() before submit()")
        if self.future is not None:
            waited = time.perf_counter()
            try:
                status, value = self.future.result()
            except Exception as exc:  # noqa: BLE001 - BrokenProcessPool (the process died or never started),
                # arguments that would not pickle, a result that would not unpickle
                self._fall_back(exc)
            else:
                if status == "raised":
                    error, remote = value
                    raise error from RemoteTraceback(remote)
                now = time.perf_counter()
                log.info("quality gate: GX ran on a separate process, %.1f s after it was started (%.1f s waited "
                         "for it after dbt)", now - self.started, now - waited)
                return value
        return validate(*self.args)


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
        count(*) filter (where {counted}) as messages,
        count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard_bounces,
        count(*) filter (where event_type = 'complaint') as complaints
    from marts.fct_email_events
    group by 1, 2
    having count(*) filter (where {counted}) > 0
"""


def alert_query(con: duckdb.DuckDBPyConnection) -> str:
    """marts.campaign_deliverability (issue 5) when it has landed, else the same figures from fct_email_events.

    Rates are over `messages` (dbt seed send_count_basis: the sends, or Postmark's deliveries and bounces); a
    warehouse not built since that column existed falls back to its events' sends until its next build.
    """
    if _table_exists(con, "marts.campaign_deliverability"):
        cols = _table_columns(con, "marts.campaign_deliverability")
        if {"platform", "campaign_id", "messages", "hard_bounces", "complaints"} <= cols:
            list_col = "list_id" if "list_id" in cols else "null"
            return f"""
                select platform, coalesce(campaign_id, '(none)') as campaign_id, {list_col} as list_id,
                       messages, hard_bounces, complaints
                from marts.campaign_deliverability where messages > 0"""
    fct = _table_columns(con, "marts.fct_email_events")
    counted = "counts_as_message" if "counts_as_message" in fct else "event_type = 'send'"
    return FALLBACK_ALERT_QUERY.format(counted=counted)


def deliverability_alerts(con: duckdb.DuckDBPyConnection, lines: dict[str, float]) -> list[dict[str, Any]]:
    """Campaigns (and lists) over the hard-bounce / complaint lines of POLICY rule 5 (never blocking)."""
    alerts = []
    min_messages = int(lines.get("alert_min_sends", 1) or 1)
    for platform, campaign, list_id, messages, hard, complaints in con.execute(alert_query(con)).fetchall():
        if messages < min_messages:
            continue
        for metric, count, warn, maximum in (
            ("hard_bounce_rate", hard, lines["hard_bounce_rate_warn"], lines["hard_bounce_rate_max"]),
            ("complaint_rate", complaints, lines["complaint_rate_warn"], lines["complaint_rate_max"]),
        ):
            rate = float(count or 0) / messages
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
                        "messages": int(messages),
                    }
                )
    return sorted(alerts, key=lambda a: (-a["value"], a["platform"], a["campaign_id"]))


# --- storage --------------------------------------------------------------------------------------

RESULTS_DDL = """create table if not exists ops.quality_results (
    run_id varchar, suite varchar, expectation varchar, success boolean, observed_value varchar,
    severity varchar, source varchar, checked_at timestamp)"""

# one row per gate run: the data tests of the large event tables check only the rows built since the newest
# run that passed with its dbt tests (dbt_project/macros/new_rows.sql reads started_at from here)
RUNS_DDL = """create table if not exists ops.quality_gate_runs (
    run_id varchar, started_at timestamp, finished_at timestamp, passed boolean, with_dbt_tests boolean)"""

# `messages`: what the rate is over (dbt seed send_count_basis); tables made before it was named so call it `sends`
ALERTS_DDL = """create table if not exists ops.deliverability_alerts (
    run_id varchar, platform varchar, campaign_id varchar, list_id varchar, metric varchar, value double,
    threshold double, level varchar, messages bigint, alerted_at timestamp)"""


def store_results(
    con: duckdb.DuckDBPyConnection, report: GateReport, metrics: list[tuple[str, str, float]] | None = None,
    started_at: datetime | None = None, with_dbt_tests: bool = False,
) -> None:
    """Everything the run found, and the run itself (`started_at`, UTC; `with_dbt_tests`: the dbt data
    tests ran, so a passing run vouches for every row built before it started)."""
    con.execute("create schema if not exists ops")
    con.execute(RESULTS_DDL)
    con.execute("alter table ops.quality_results add column if not exists threshold varchar")
    con.execute(METRICS_DDL)
    con.execute(ALERTS_DDL)
    if "sends" in _table_columns(con, "ops.deliverability_alerts"):
        con.execute("alter table ops.deliverability_alerts rename column sends to messages")
    con.execute(RUNS_DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("insert into ops.quality_gate_runs values (?,?,?,?,?)",
                [report.run_id, started_at or now, now, report.passed, with_dbt_tests])
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
              a["threshold"], a["level"], a["messages"], now) for a in report.alerts],
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
            since = last_passing_gate_started_at(con) if check.new_rows else None
            if since is None:
                frames[check.suite] = con.execute(check.query).df()
                if check.rows_checked:  # the query returned the suspects only; GX reports them against this count
                    frames[check.suite].attrs[ROWS_CHECKED] = int(con.execute(check.rows_checked).fetchone()[0])
            else:
                frames[check.suite] = con.execute(
                    f"select * from ({check.query}) as suite_rows where {check.new_rows} > ?", [since]).df()
                log.info("quality check %s: the %d rows built since the last passing gate (%s)",
                         check.suite, len(frames[check.suite]), since)
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
    dbt_tests: bool = True, freshness: bool = True, notify: bool = True, parallel: bool | None = None,
) -> GateReport:
    """The suites' frames and the deliverability figures, then the GX suites (on a separate process) while
    dbt's data tests and source freshness run here, then the deliverability alerts.

    `parallel`: None follows LIST_HYGIENE_GATE_PARALLEL (on unless 0) when there are dbt tests or freshness
    to overlap; False runs GX here after dbt; True always uses the process.
    Stores everything in ops.* and Data Docs under <warehouse>_outputs/quality/data_docs; raises GateFailed
    naming check, observed value and threshold when a blocking check fails (and raise_on_failure)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a spawned process (the GX one) re-imports the parent's main script: a script that calls the gate
        # at its top level would run it again there, against the same warehouse
        raise RuntimeError("run_gate called while a spawned process imports the main module: guard the script's "
                           "top level with `if __name__ == '__main__':`")
    started = time.perf_counter()
    started_at = datetime.now(UTC).replace(tzinfo=None)  # before dbt reads anything: see store_results
    warehouse = Path(warehouse).resolve()
    out_dir = output_dir_for(warehouse) / "quality"
    knobs = thresholds(overrides)
    checks = load_checks(overrides=overrides)
    report = GateReport(run_id)
    if parallel is None:
        parallel = (dbt_tests or freshness) and parallel_enabled()
    docs_dir = out_dir / "data_docs"

    def dbt_checks() -> list[CheckResult]:
        return (_dbt_tests(warehouse) if dbt_tests else []) + (_freshness(warehouse, out_dir) if freshness else [])

    with _GxProcess() if parallel else contextlib.nullcontext() as gx_process:  # imports GX while the frames build
        # closed before dbt runs: dbt-duckdb opens the file read-write in this same process
        with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
            frames, skipped, metrics = _frames(con, checks, knobs, run_id)
            report.alerts = deliverability_alerts(con, knobs)
        shutil.rmtree(docs_dir, ignore_errors=True)  # the site shows this run; history is in ops.quality_results
        if gx_process is not None:
            gx_process.submit(frames, checks, docs_dir)
            with _dbt_memory_limit(gate_memory_limit()):  # the GX process's memory comes on top
                dbt_results = dbt_checks()
            gx_results, report.data_docs = gx_process.result()
        else:
            dbt_results = dbt_checks()
            gx_results, report.data_docs = validate(frames, checks, docs_dir)
    report.results.extend(dbt_results)
    report.results.extend(skipped)
    report.results.extend(gx_results)
    report.results.extend(
        CheckResult("deliverability", f"{a['metric']}:{a['platform']}:{a['campaign_id']}", False,
                    f"{a['value']:.4%} over {a['messages']} messages", "alert", "deliverability",
                    f"{a['level']} line {a['threshold']:.2%}")
        for a in report.alerts
    )
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        store_results(con, report, metrics, started_at=started_at, with_dbt_tests=dbt_tests)
    for a in report.alerts:
        log.warning(
            "DELIVERABILITY %s: %s %s %s = %.2f%% (line %.2f%%) over %d messages — reported, sync not blocked",
            a["level"].upper(), a["platform"], a["campaign_id"], a["metric"], a["value"] * 100, a["threshold"] * 100,
            a["messages"],
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
