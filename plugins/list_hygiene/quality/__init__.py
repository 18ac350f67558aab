"""Quality gate: dbt data tests plus Great Expectations checks on the marts, before anything is synced."""

from .gate import GateFailed, GateReport, run_gate

__all__ = ["GateFailed", "GateReport", "run_gate"]
