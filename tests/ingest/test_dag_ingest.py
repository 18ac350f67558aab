"""The DAG's ingest step: one mapped task per platform. The DAG is scheduled daily or when a platform's landing
Asset (file://<DATA>/<platform>) is updated; ingest reports what it loaded on the platform's raw Asset through an
alias, so the DAG never triggers itself. The whole DAG across every platform runs in tests/e2e/test_daily_dag.py
on data_samples/, which holds exports of every connector."""

from __future__ import annotations

from pathlib import Path

import pytest

from list_hygiene.ingest import platforms
from list_hygiene.ingest.assets import LANDING_ALIAS, landing_asset, landing_uri, raw_asset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors
    return bag.dags["list_hygiene_daily"]


def test_ingest_is_mapped_over_every_platform_with_the_landing_alias(dag):
    from airflow.sdk import AssetAlias

    task = dag.get_task("ingest")
    assert task.op_kwargs_expand_input.value["platform"] == platforms()
    assert AssetAlias(LANDING_ALIAS) in task.outlets
    assert landing_uri("/data", "sendgrid") == "file:///data/sendgrid"
    assert landing_asset("/data", "sfmc").uri == "file:///data/sfmc"



def test_schedule_watches_landing_assets_and_ingest_emits_on_other_assets(dag):
    from list_hygiene.paths import default_data_dir

    watched = {a.uri for a in dag.timetable.asset_condition.objects}
    assert watched == {landing_uri(default_data_dir(), p) for p in platforms()}
    assert raw_asset("sendgrid").uri not in watched
