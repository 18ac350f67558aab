"""
### list_hygiene_daily

Keeps email lists healthy, once a day:

1. **ingest** — one task per platform lands new export files from `DATA/<platform>/<entity>/` into
   the DuckDB warehouse's `raw` schema (bad rows go to `raw.quarantine` with file, row and reason);
2. **transform** — `dbt build` (seeds and models; dbt's unit tests test SQL, not data, and run in CI):
   canonical events, bounce classification, engagement, sunset segments, `suppression_list`;
3. **docs** — `dbt docs generate` (static page beside the warehouse);
4. **gate** — dbt data tests + Great Expectations on the marts; a failure stops the run here and
   names the check. Deliverability alerts are logged, never blocking;
5. **sync** — diff `suppression_list` against the ledger; dry run unless `apply_sync` is set and a
   connection (`AIRFLOW_CONN_<PLATFORM>_DEFAULT`) exists;
6. **summary** — what happened, in the task log.

Every task that opens the warehouse runs in the 1-slot pool `list_hygiene_warehouse` (DuckDB allows
one writer at a time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetAlias, AssetAny, Param, dag, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from list_hygiene.ingest.assets import LANDING_ALIAS, landing_assets, raw_asset
from list_hygiene.ingest.specs import platforms
from list_hygiene.notify import task_failure_callback
from list_hygiene.paths import default_data_dir, default_warehouse

POOL = "list_hygiene_warehouse"


def _params() -> dict:
    return get_current_context()["params"]


@dag(
    dag_id="list_hygiene_daily",
    # daily, and whenever a platform's landing folder Asset is updated (a new export arrived)
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("@daily", timezone="UTC"),
        assets=AssetAny(*landing_assets(default_data_dir())),
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["list-hygiene", "email", "dbt", "duckdb"],
    doc_md=__doc__,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "pool": POOL,
        "on_failure_callback": task_failure_callback,
    },
    params={
        "data_dir": Param(str(default_data_dir()), type="string", description="Landing folder DATA/<platform>/<entity>/"),
        "warehouse": Param(str(default_warehouse()), type="string", description="DuckDB warehouse file"),
        "apply_sync": Param(False, type="boolean", description="Write to the platforms (else: dry run / plan only)"),
        "approve_large_sync": Param(False, type="boolean", description="Approve a change set above the safety cap"),
    },
)
def list_hygiene_daily():
    @task(retries=0, outlets=[AssetAlias(LANDING_ALIAS)])
    def ingest(platform: str) -> dict:
        """Land one platform's new exports; report them as an event on its raw Asset list-hygiene://warehouse/raw/<p>."""
        from list_hygiene.pipeline import ingest_step

        ctx = get_current_context()
        p = ctx["params"]
        report = ingest_step(p["data_dir"], p["warehouse"], [platform])
        new_files = sum(1 for f in report["files"] if f["status"] in ("loaded", "failed"))
        if new_files:
            ctx["outlet_events"][AssetAlias(LANDING_ALIAS)].add(
                raw_asset(platform),
                extra={"files": new_files, "rows": report["rows_loaded"], "quarantined": report["rows_quarantined"]},
            )
        return report["by_source"]

    # reads every platform's raw tables: declared, so the raw Assets exist before the ingest tasks' first events
    # (an Asset reached only through the alias is unknown to Airflow until its first event, which is then dropped)
    @task(inlets=[raw_asset(p) for p in platforms()])
    def transform() -> dict:
        from list_hygiene.pipeline import transform_step

        return transform_step(_params()["warehouse"])

    @task
    def docs() -> dict:
        from list_hygiene.pipeline import docs_step

        return docs_step(_params()["warehouse"])

    @task(retries=0)
    def gate() -> dict:
        from list_hygiene.pipeline import gate_step

        ctx = get_current_context()
        return gate_step(ctx["params"]["warehouse"], ctx["run_id"])

    @task(retries=0)
    def sync() -> dict:
        from list_hygiene.pipeline import sync_step

        ctx = get_current_context()
        p = ctx["params"]
        return sync_step(p["warehouse"], ctx["run_id"], apply=p["apply_sync"], approve=p["approve_large_sync"])

    @task
    def summary() -> dict:
        from list_hygiene.summary import collect_summary, render_summary

        s = collect_summary(_params()["warehouse"])
        render_summary(s)
        return {"segments": s["segments"], "bounces_by_class": s["bounces_by_class"],
                "unread_files": [f["path"] for f in s["unread_files"]]}

    landed = ingest.expand(platform=platforms())
    built = transform()
    landed >> built >> docs() >> gate() >> sync() >> summary()


list_hygiene_daily()
