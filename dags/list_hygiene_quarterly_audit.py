"""
### list_hygiene_quarterly_audit

The quarterly data-quality audit (POLICY rule 12: clean lists every three months and measure it):

1. **quality_snapshot** — runs the quality gate once without blocking anything (`raise_on_failure=False`),
   so the quarter's check history ends with a fresh row set in `ops.quality_results`;
2. **build_report** — one self-contained HTML file (charts inline, nothing loaded from outside):
   list size and decay, bounce rates by class per platform and mailbox provider, complaint and
   unsubscribe rates, segment flows, soft-bounce escalations, corrections, suppression changes synced,
   quality-check history and the records that need a human;
3. **export_tables** — the same tables as CSV and Parquet for the analysts' own tools.

Output: `<warehouse>_outputs/audit/<quarter>/` (report `audit_<quarter>.html`, `tables/`). The `quarter`
param (`YYYYQn`) defaults to the quarter that ended before the run. Every task runs in the 1-slot pool
`list_hygiene_warehouse` (DuckDB allows one writer at a time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task

from list_hygiene.notify import task_failure_callback
from list_hygiene.paths import default_warehouse
from list_hygiene.quarters import QUARTER

POOL = "list_hygiene_warehouse"


def _quarter() -> str:
    from list_hygiene.quarters import previous_quarter

    ctx = get_current_context()
    when = ctx.get("logical_date") or ctx.get("run_after") or datetime.now()
    return ctx["params"]["quarter"] or previous_quarter(when.date())


@dag(
    dag_id="list_hygiene_quarterly_audit",
    schedule="0 6 1 1,4,7,10 *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["list-hygiene", "audit", "quality"],
    doc_md=__doc__,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5), "pool": POOL,
                  "on_failure_callback": task_failure_callback},
    params={
        "warehouse": Param(str(default_warehouse()), type="string", description="DuckDB warehouse file"),
        "quarter": Param("", type="string", pattern=f"^(?:{QUARTER})?$",
                         description="YYYYQn; empty = the quarter that ended before this run"),
    },
)
def list_hygiene_quarterly_audit():
    @task
    def quality_snapshot() -> dict:
        from list_hygiene.quality import run_gate

        ctx = get_current_context()
        report = run_gate(ctx["params"]["warehouse"], f"audit-{ctx['run_id']}", raise_on_failure=False, notify=False)
        d = report.to_dict()
        return {"passed": d["passed"], "checks": d["checks"], "failures": len(d["failures"]),
                "warnings": len(d["warnings"]), "skipped": len(d["skipped"])}

    @task
    def build_report() -> str:
        from list_hygiene.audit import build_report as build

        return str(build(get_current_context()["params"]["warehouse"], _quarter()))

    @task
    def export_tables() -> dict:
        from list_hygiene.audit import export_tables as export

        return export(get_current_context()["params"]["warehouse"], _quarter())

    quality_snapshot() >> build_report() >> export_tables()


list_hygiene_quarterly_audit()
