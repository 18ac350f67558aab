"""Every ingest test runs three times: on the per-row Python path, on the fast path (DuckDB checks,
fast_path.py) with its size threshold off, and on the fast path read by two worker processes
(workers.py) with their threshold off, so all three meet the same expectations. The Python path and the
workers stream every `.json` file they can (json_stream.py, size threshold off); the fast path parses
them whole with json.loads where it hands documents to Python, so both readings meet them too."""

from __future__ import annotations

import pytest

from list_hygiene.ingest import fast_path, json_stream, loader, workers


@pytest.fixture(autouse=True, params=["python_path", "fast_path", "workers"])
def ingest_path(request, monkeypatch):
    monkeypatch.setattr(loader, "FAST_PATH", request.param != "python_path")
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2" if request.param == "workers" else "1")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    if request.param != "fast_path":
        monkeypatch.setattr(json_stream, "STREAM_BYTES", 0)
    return request.param
