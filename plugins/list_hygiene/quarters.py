"""Calendar quarters as the audit names them (`2026Q3`). No heavy imports: the audit DAG file uses QUARTER."""

from __future__ import annotations

import re
from datetime import date

QUARTER = r"\s*(\d{4})-?[Qq]([1-4])\s*"  # also the audit DAG's `quarter` param pattern


def parse_quarter(quarter: str) -> tuple[date, date]:
    """'2026Q3' / '2026-Q3' / '2026q3' → (2026-07-01, 2026-10-01)."""
    m = re.fullmatch(QUARTER, quarter or "")
    if not m:
        raise ValueError(f"quarter {quarter!r}: expected YYYYQn, e.g. 2026Q3")
    year, q = int(m.group(1)), int(m.group(2))
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, end


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter(day: date) -> str:
    """The last quarter that ended before `day` (what a run on 1 January audits: Q4 of last year)."""
    start, _ = parse_quarter(quarter_of(day))
    prev = date(start.year - (start.month == 1), 10 if start.month == 1 else start.month - 3, 1)
    return quarter_of(prev)
