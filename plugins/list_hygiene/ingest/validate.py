"""Row checks at the door: a value that staging could not cast, or that cannot be true, is quarantined
here with its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .specs import BOOL, DATE, DATETIME, EMAIL, INT, ISO_TS, TIMESTAMP_KINDS, UNIX_MS_TS, UNIX_TS, US_DATETIME, Field

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_US_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_BOOLS = {"true", "false", "1", "0", "yes", "no", ""}
_SURROGATE = re.compile("[\udc80-\udcff]")

# no email platform in scope has events before this; anything earlier is a unit or parsing mistake
EARLIEST = datetime(1990, 1, 1)
# clock skew allowed between a platform and the loader before a timestamp counts as "in the future"
FUTURE_SKEW = timedelta(days=1)


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


def parse_us_datetime(value: str) -> datetime:
    """SFMC tracking extracts: `6/10/2024 3:00:03 PM` (US locale); ISO is accepted too."""
    for fmt in _US_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return parse_datetime(value)


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def parse_timestamp(kind: str, value: str) -> datetime:
    """The instant a raw timestamp stands for (naive UTC; zone-less values are taken as they are)."""
    if kind in (UNIX_TS, UNIX_MS_TS):
        seconds = float(value) / (1000.0 if kind == UNIX_MS_TS else 1.0)
        try:
            return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return datetime.max if seconds > 0 else datetime.min
    if kind == ISO_TS:
        return _naive_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if kind == DATETIME:
        return _naive_utc(parse_datetime(value))
    if kind == US_DATETIME:
        return _naive_utc(parse_us_datetime(value))
    if kind == DATE:
        return datetime.strptime(value, "%Y-%m-%d")
    raise ValueError(kind)


def latest_plausible(loaded_at: datetime | None = None) -> datetime:
    """The latest timestamp a row may carry: now (or the load time, if later) plus clock skew."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return max(now, loaded_at or now) + FUTURE_SKEW


def check_value(f: Field, value: str | None, latest: datetime | None = None) -> None:
    if value is None or value == "":
        if f.not_empty:
            raise RowProblem(f.name, f"empty value in required field '{f.source}'")
        return
    if _SURROGATE.search(value):
        raise RowProblem(f.name, f"invalid UTF-8 in field '{f.source}'")
    try:
        if f.kind in TIMESTAMP_KINDS:
            ts = parse_timestamp(f.kind, value)
            if ts < EARLIEST:
                raise RowProblem(f.name, f"impossible {f.kind} in field '{f.source}': {value[:80]!r} is before 1990")
            if ts > (latest or latest_plausible()):
                raise RowProblem(f.name, f"impossible {f.kind} in field '{f.source}': {value[:80]!r} is in the future")
        elif f.kind == INT:
            number = int(value)
            if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
                raise RowProblem(
                    f.name,
                    f"impossible value in field '{f.source}': {number} is outside "
                    f"[{_fmt(f.min)}, {_fmt(f.max)}]",
                )
        elif f.kind == BOOL:
            if value.strip().lower() not in _BOOLS:
                raise ValueError(value)
        elif f.kind == EMAIL:
            # invalid syntax is flagged (email_problem), not dropped; only an empty address is unusable
            return
    except RowProblem:
        raise
    except ValueError:
        raise RowProblem(f.name, f"unparsable {f.kind} in field '{f.source}': {value[:80]!r}") from None


def _fmt(bound: float | None) -> str:
    if bound is None:
        return "…"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def has_invalid_utf8(values: list[str]) -> int | None:
    """Index of the first value holding undecodable bytes (read with surrogateescape), else None."""
    joined = "".join(values)  # one test for the whole record: almost every record is plain ASCII
    if joined.isascii() or not _SURROGATE.search(joined):
        return None
    for i, v in enumerate(values):
        if v and _SURROGATE.search(v):
            return i
    return None
