"""Shared fixtures. Airflow, dbt and the warehouse all live in temporary folders per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Airflow reads its home at import time: give the whole test session its own, before anything imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="lh-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "test.duckdb"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return REPO / "data_samples"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB and the warehouse pool, once per session (about 6 s)."""
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    subprocess.run(
        [str(bin_dir / "airflow"), "pools", "set", "list_hygiene_warehouse", "1", "DuckDB single writer"],
        check=True, capture_output=True, env=os.environ.copy(),
    )
    return _AIRFLOW_HOME
