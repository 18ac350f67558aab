"""Airflow Assets for the landing folders: one per platform, `file://<DATA>/<platform>`.

The daily DAG is scheduled on "@daily or any landing Asset updated": a DAG that lands exports, or an
external job through the REST API, updates `file://<DATA>/<platform>` and a run starts. The ingest task
reports what it loaded as events on the platform's *raw* Asset (`list-hygiene://warehouse/raw/<platform>`,
through the alias below, because the task is mapped per platform) — a different Asset, so the DAG never
triggers itself.
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


def raw_asset(platform: str) -> Any:
    """What the ingest task produces: the platform's raw tables in the warehouse. Distinct from the
    landing Asset, so a DAG scheduled on landing folders does not trigger itself."""
    from airflow.sdk import Asset

    return Asset(uri=f"list-hygiene://warehouse/raw/{platform}", group="list_hygiene_raw")


def landing_assets(data_dir: str | Path) -> list[Any]:
    """Every platform's landing Asset, for a `schedule=` on new exports."""
    return [landing_asset(data_dir, p) for p in platforms()]
