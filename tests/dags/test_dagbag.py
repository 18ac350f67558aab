"""Every DAG imports cleanly, fast, with tags and retries set."""

from __future__ import annotations

import time

import pytest

from tests.conftest import REPO


def test_dags_import_without_errors_and_are_configured():
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    seconds = time.perf_counter() - started
    print(f"DagBag parse time: {seconds:.2f} s for {len(bag.dags)} DAG(s)")
    assert bag.import_errors == {}
    assert "list_hygiene_daily" in bag.dags
    for dag_id, dag in bag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.default_args.get("retries") is not None, f"{dag_id} sets no retries"
        assert dag.doc_md, f"{dag_id} has no doc_md"
    daily = bag.dags["list_hygiene_daily"]
    # daily, or when a landing folder's Asset is updated
    assert "@daily" in str(daily.timetable.summary) or "0 0 * * *" in str(daily.timetable.summary)
    order = [t.task_id for t in daily.tasks]
    assert order == ["ingest", "transform", "docs", "gate", "sync", "summary"]
    assert daily.get_task("sync").upstream_task_ids == {"gate"}
    # a quarter the report could not read is refused when the run is triggered, not when a task fails
    from airflow.sdk.definitions.param import ParamValidationError

    from list_hygiene.quarters import parse_quarter

    quarter = bag.dags["list_hygiene_quarterly_audit"].params.get_param("quarter")
    for ok in ("", "2026Q3", "2026-q4"):
        assert quarter.resolve(ok) == ok
        assert ok == "" or parse_quarter(ok)
    for bad in ("2026-11", "2026Q5", "Q3"):
        with pytest.raises(ParamValidationError):
            quarter.resolve(bad)


def test_raw_assets_are_known_to_airflow_before_the_first_ingest(airflow_db):
    """The ingest tasks report their loads on each platform's raw Asset through an alias (the task is mapped), and
    Airflow drops an event on an Asset it does not know yet ("AssetModel ... not found"): before `transform`
    declared the raw Assets as its inlets, a new deployment lost every platform's first ingest event. After the DAGs
    are parsed into the metadata DB (`airflow dags reserialize`, what a DAG processor does), every raw Asset is an
    active Asset."""
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    from list_hygiene.ingest.assets import raw_asset
    from list_hygiene.ingest.specs import platforms

    subprocess.run([str(Path(sys.executable).parent / "airflow"), "dags", "reserialize"], check=True, capture_output=True)
    with sqlite3.connect(airflow_db / "airflow.db") as db:
        active = {uri for (uri,) in db.execute("select uri from asset_active")}
    assert {raw_asset(p).uri for p in platforms()} <= active
