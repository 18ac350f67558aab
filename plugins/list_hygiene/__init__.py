"""list-hygiene: keep email marketing lists healthy (ingest → dbt → gate → sync)."""

__version__ = "0.1.0"
