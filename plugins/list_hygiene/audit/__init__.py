"""The quarterly data-quality audit: one self-contained HTML report plus CSV/Parquet tables."""

from ..quarters import QUARTER, parse_quarter, previous_quarter, quarter_of
from .report import build_audit, build_report, export_tables

__all__ = ["QUARTER", "build_audit", "build_report", "export_tables", "parse_quarter", "previous_quarter", "quarter_of"]
