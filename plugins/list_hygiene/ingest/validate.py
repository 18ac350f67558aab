"""Row checks at the door: a value that staging could not cast is quarantined here, with its field."""

from __future__ import annotations

import re
from datetime import datetime

from .specs import BOOL, DATETIME, EMAIL, INT, ISO_TS, UNIX_TS, Field

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_BOOLS = {"true", "false", "1", "0", "yes", "no", ""}
_SURROGATE = re.compile("[\udc80-\udcff]")


class RowProblem(ValueError):
    """A row that cannot be loaded; carries the field it is about."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_datetime(value: str) -> datetime:
    """The plain `YYYY-MM-DD HH:MM[:SS]` timestamps of CSV exports (HubSpot, Mailchimp)."""
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_value(f: Field, value: str | None) -> None:
    if value is None or value == "":
        if f.not_empty:
            raise RowProblem(f.name, f"empty value in required field '{f.source}'")
        return
    if _SURROGATE.search(value):
        raise RowProblem(f.name, f"invalid UTF-8 in field '{f.source}'")
    try:
        if f.kind == UNIX_TS:
            float(value)
        elif f.kind == ISO_TS:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif f.kind == DATETIME:
            parse_datetime(value)
        elif f.kind == INT:
            int(value)
        elif f.kind == BOOL:
            if value.strip().lower() not in _BOOLS:
                raise ValueError(value)
        elif f.kind == EMAIL:
            if "@" not in value:
                # invalid syntax is flagged downstream, not dropped; only an empty address is unusable
                return
    except ValueError:
        raise RowProblem(f.name, f"unparsable {f.kind} in field '{f.source}': {value[:80]!r}") from None


def has_invalid_utf8(values: list[str]) -> int | None:
    """Index of the first value holding undecodable bytes (read with surrogateescape), else None."""
    for i, v in enumerate(values):
        if v and _SURROGATE.search(v):
            return i
    return None
