"""Every ingest test runs twice: on the per-row Python path and on the fast path (DuckDB checks,
fast_path.py) with its size threshold off, so both paths meet the same expectations."""

from __future__ import annotations

import pytest

from list_hygiene.ingest import fast_path, loader


@pytest.fixture(autouse=True, params=["python_path", "fast_path"])
def ingest_path(request, monkeypatch):
    monkeypatch.setattr(loader, "FAST_PATH", request.param == "fast_path")
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    return request.param
