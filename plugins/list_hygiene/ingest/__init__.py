"""Ingest: land platform exports into the warehouse's `raw` schema.

`specs` is pure data and cheap to import (DAG files read it at parse time); the loader, which needs
DuckDB and Arrow, is imported on first use.
"""

from __future__ import annotations

from typing import Any

from .specs import SPECS, SourceSpec, platforms

__all__ = ["FileRejected", "FileResult", "IngestReport", "SPECS", "SourceSpec", "ensure_raw_schema", "ingest", "platforms"]


def __getattr__(name: str) -> Any:
    if name in {"FileRejected", "FileResult", "IngestReport", "ensure_raw_schema", "ingest"}:
        from . import loader

        return getattr(loader, name)
    raise AttributeError(name)
