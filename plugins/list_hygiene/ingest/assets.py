"""Airflow Assets for the landing folders: one per platform, `file://<DATA>/<platform>`.

The daily DAG's ingest task reports each platform it loaded new files for as an event on that
platform's Asset (through the alias below, because the task is mapped per platform and the data
folder is a run parameter). A DAG that lands exports, or an external job through the REST API, can
update the same Asset so that a new export triggers a run (see docs/connectors.md).
Airflow is imported on use only: the ingest package must stay importable without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .specs import platforms

LANDING_ALIAS = "list_hygiene_landing"


def landing_uri(data_dir: str | Path, platform: str) -> str:
    return (Path(data_dir).resolve() / platform).as_uri()


def landing_asset(data_dir: str | Path, platform: str) -> Any:
    from airflow.sdk import Asset

    return Asset(uri=landing_uri(data_dir, platform), group="list_hygiene_landing")


def landing_assets(data_dir: str | Path) -> list[Any]:
    """Every platform's landing Asset, for a `schedule=` on new exports."""
    return [landing_asset(data_dir, p) for p in platforms()]
