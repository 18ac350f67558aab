"""Where things live. Everything is relative to the repository, overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("LIST_HYGIENE_HOME", Path(__file__).resolve().parents[2]))
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEFAULT_DATA_DIR = REPO_ROOT / "data_samples"
WAREHOUSE_DIR = REPO_ROOT / "warehouse"
DEFAULT_WAREHOUSE = WAREHOUSE_DIR / "list_hygiene.duckdb"
REPORTS_DIR = REPO_ROOT / "reports"
DOCS_DIR = REPORTS_DIR / "dbt_docs"


def default_warehouse() -> Path:
    return Path(os.environ.get("LIST_HYGIENE_WAREHOUSE", DEFAULT_WAREHOUSE))


def default_data_dir() -> Path:
    return Path(os.environ.get("LIST_HYGIENE_DATA", DEFAULT_DATA_DIR))


def output_dir_for(warehouse: Path) -> Path:
    """Plans, reports and docs of a warehouse live beside it, so two warehouses never mix outputs."""
    return Path(warehouse).resolve().parent / (Path(warehouse).stem + "_outputs")


def duckdb_config() -> dict[str, str]:
    """Settings for every DuckDB connection the package opens: the same memory cap as the dbt profile
    (DuckDB otherwise takes up to 80 % of RAM and spills to disk only beyond that)."""
    return {"memory_limit": os.environ.get("LIST_HYGIENE_DUCKDB_MEMORY_LIMIT", "3GB")}
