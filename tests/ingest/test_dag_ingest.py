"""The DAG's ingest step: one mapped task per platform, reporting new files on each platform's landing Asset
(file://<DATA>/<platform>) through an alias. The whole DAG across every platform runs in tests/e2e/test_daily_dag.py
on data_samples/, which holds exports of every connector."""

from __future__ import annotations

from pathlib import Path

import pytest

from list_hygiene.ingest import platforms
from list_hygiene.ingest.assets import LANDING_ALIAS, landing_asset, landing_uri

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

