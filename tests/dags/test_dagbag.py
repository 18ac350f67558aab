"""Every DAG imports cleanly, fast, with tags and retries set."""

from __future__ import annotations

import time

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
