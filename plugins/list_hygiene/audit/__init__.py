"""The quarterly data-quality audit: one self-contained HTML report plus CSV/Parquet tables."""

from .report import build_audit, build_report, export_tables, parse_quarter, previous_quarter

__all__ = ["build_audit", "build_report", "export_tables", "parse_quarter", "previous_quarter"]
