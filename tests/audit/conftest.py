from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("lh_warehouse", Path(__file__).parents[1] / "quality" / "lh_warehouse.py")
lh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lh)


@pytest.fixture(scope="session")
def gated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lh.built_warehouse(tmp_path_factory.getbasetemp())
