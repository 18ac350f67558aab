"""Suppression sync: make every platform agree with `marts.suppression_list`, safely.

Public entry point: `run_sync`. See docs/sync.md for what is written where, and the modules:
`base` (connector interface, batching/retry machinery), `connections` (Airflow Connections),
`planner` (diff, removal policy, brake), `ledger` (ops tables), `runner` (the loop), one module per
platform, `command` (the `list-hygiene sync` CLI).
"""

from __future__ import annotations

from .base import AuthError, Change, Connector, QuotaExhausted, RequestRejected, RetryableError, RetryPolicy, RowResult
from .connections import Connection, get_connection, parse_connection
from .planner import SyncBrakeTripped
from .runner import CONNECTORS, PlatformSummary, SyncFailed, SyncSummary, connector_class, new_run_id, run_sync

__all__ = [
    "CONNECTORS",
    "AuthError",
    "Change",
    "Connection",
    "Connector",
    "PlatformSummary",
    "QuotaExhausted",
    "RequestRejected",
    "RetryPolicy",
    "RetryableError",
    "RowResult",
    "SyncBrakeTripped",
    "SyncFailed",
    "SyncSummary",
    "connector_class",
    "get_connection",
    "new_run_id",
    "parse_connection",
    "run_sync",
]
