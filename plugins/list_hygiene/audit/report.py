"""Build the quarterly audit: HTML (jinja2 + inline charts) and CSV/Parquet tables for the analysts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..paths import duckdb_config, output_dir_for
from ..policy import policy_vars
from ..quarters import parse_quarter, quarter_of
from . import charts
from .queries import Section, collect

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _latest_quarter(con: duckdb.DuckDBPyConnection) -> str:
    try:
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
    except duckdb.CatalogException:
        latest = None
    return quarter_of(latest.date() if latest is not None else datetime.now(UTC).date())


def default_out_dir(warehouse: Path, quarter: str) -> Path:
    return output_dir_for(warehouse) / "audit" / quarter


def gather(warehouse: Path, quarter: str | None) -> tuple[str, date, date, dict[str, Section]]:
    lines = policy_vars()
    with duckdb.connect(str(Path(warehouse).resolve()), read_only=True, config=duckdb_config()) as con:
        quarter = quarter or _latest_quarter(con)
        start, end = parse_quarter(quarter)
        sections = collect(con, start, end, lines)
    return quarter, start, end, sections


def _table(df: pd.DataFrame | None, limit: int = 60) -> dict[str, Any] | None:
    if df is None or df.empty:
        return None
    d = df.head(limit).copy()
    for c in d.columns:
        if c.endswith("_rate") or c.endswith("_share"):
            d[c] = [("" if pd.isna(v) else f"{v:.2%}") for v in d[c]]
        elif pd.api.types.is_datetime64_any_dtype(d[c]):
            midnight = (d[c].dropna().dt.normalize() == d[c].dropna()).all()
            d[c] = d[c].dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
    d = d.astype(object).where(d.notna(), "")
    return {"columns": list(d.columns), "rows": d.values.tolist(), "truncated": len(df) > limit, "total": len(df)}


def _kpis(sections: dict[str, Section]) -> dict[str, Any]:
    b = sections["bounce_rates_by_platform"].frame
    k: dict[str, Any] = dict(sections["list_size"].extra)
    if b is not None and not b.empty:
        b = b[b["messages"] > 0]  # a platform whose messages cannot be counted has failures over no messages
        messages = int(b["messages"].sum())
        k.update(messages=messages,
                 hard_bounce_rate=(b["hard"].sum() / messages) if messages else None,
                 complaint_rate=(b["complaints"].sum() / messages) if messages else None,
                 unsubscribe_rate=(b["unsubscribes"].sum() / messages) if messages else None)
    q = sections["quality_history"].frame
    if q is not None and not q.empty:
        k.update(gate_runs=len(q), gate_runs_blocked=int((~q["passed"]).sum()))
    k["campaigns_over_threshold"] = 0 if sections["campaigns_over_threshold"].empty else len(
        sections["campaigns_over_threshold"].frame)
    return k


def build_report(warehouse: Path, quarter: str | None = None, out_dir: Path | None = None) -> Path:
    """The self-contained HTML report (no external CSS, JS, fonts or images) for one quarter."""
    quarter, start, end, sections = gather(warehouse, quarter)
    out_dir = Path(out_dir) if out_dir else default_out_dir(warehouse, quarter)
    out_dir.mkdir(parents=True, exist_ok=True)
    b = sections["bounce_rates_by_platform"].frame
    chart = {
        "list_size": charts.list_size(sections["list_size"].frame),
        "bounces": charts.rates_over_time(b, ["hard", "soft", "block"], "Bounce rate by class, weekly"),
        "complaints": charts.rates_over_time(b, ["complaints", "unsubscribes"], "Complaint and unsubscribe rate, weekly"),
        "providers": charts.provider_bars(sections["rates_by_provider"].frame),
        "segments": charts.segment_flows(sections["segment_flows"].frame),
        "quality": charts.quality_runs(sections["quality_history"].frame),
    }
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = lambda v, digits=2: "n/a" if v is None or pd.isna(v) else f"{v:.{digits}%}"
    lines = policy_vars()
    html = env.get_template("report.html.j2").render(
        quarter=quarter, start=start, end=end, generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=Path(warehouse).name, kpis=_kpis(sections), charts=chart, lines=lines,
        notes={k: s.note for k, s in sections.items() if s.note},
        sources={k: s.extra.get("source") for k, s in sections.items()},
        t={k: _table(s.frame) for k, s in sections.items()},
        failing_checks=_table(sections["quality_history"].extra.get("failing")),
        waiting=sections["corrections"].extra.get("waiting"),
    )
    path = out_dir / f"audit_{quarter}.html"
    path.write_text(html, encoding="utf-8")
    log.info("audit report %s (%d KB)", path, path.stat().st_size // 1024)
    return path


def export_tables(warehouse: Path, quarter: str | None = None, out_dir: Path | None = None) -> dict[str, list[str]]:
    """Every section as CSV and Parquet under <out_dir>/tables/, plus a manifest.json listing them."""
    quarter, start, end, sections = gather(warehouse, quarter)
    out_dir = Path(out_dir) if out_dir else default_out_dir(warehouse, quarter)
    tables_dir = out_dir / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {}
    frames = {k: s.frame for k, s in sections.items()}
    frames["quality_failing_checks"] = sections["quality_history"].extra.get("failing")
    for name, df in frames.items():
        if df is None:
            continue
        df = df.copy()
        for c in df.columns:  # Parquet needs one type per column
            if df[c].dtype == object:
                df[c] = df[c].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
        csv_path, pq_path = tables_dir / f"{name}.csv", tables_dir / f"{name}.parquet"
        df.to_csv(csv_path, index=False)
        df.to_parquet(pq_path, index=False)
        written[name] = [csv_path.name, pq_path.name]
    (tables_dir / "manifest.json").write_text(json.dumps(
        {"quarter": quarter, "start": str(start), "end": str(end), "tables": written,
         "missing": {k: s.note for k, s in sections.items() if s.frame is None}}, indent=2))
    return written


def build_audit(warehouse: Path, quarter: str | None = None, out_dir: Path | None = None) -> Path:
    """Report and tables for `quarter` (YYYYQn; default: the quarter of the latest event). Returns the HTML path."""
    path = build_report(warehouse, quarter, out_dir)
    export_tables(warehouse, quarter or path.stem.removeprefix("audit_"), path.parent)
    return path
