from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("lh_warehouse", Path(__file__).with_name("lh_warehouse.py"))
lh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lh)


@pytest.fixture(scope="session")
def gated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lh.built_warehouse(tmp_path_factory.getbasetemp())


@pytest.fixture
def wh(gated_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse to corrupt."""
    return lh.copy_warehouse(gated_warehouse, tmp_path)
