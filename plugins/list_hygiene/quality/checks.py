"""The gate's suites, kept in the repo as JSON (suites/*.json), validated with Great Expectations.

GX's SQL datasource fails on DuckDB (ENGINEERING.md), so every suite reads a frame read-only through
DuckDB into pandas: either a `query` over the marts or a named Python `frame` (stateful checks that
compare with the gate's own history in ops.quality_metrics, see frames.py). A cross-table rule becomes
a query with one boolean column expected to be all true.

A suite lists the tables it `requires`; when one is absent (a mart that has not landed yet) the suite is
recorded as skipped — never as passed — in ops.quality_results.

Values written "${knob}" are taken from quality/thresholds.yml merged with the dbt vars; inside a suite's SQL
(`query`, `rows_checked`) a list knob becomes a SQL list, `('active', 'cooling')`, and a text knob a quoted
literal.

A suite over a whole mart can leave the row-by-row work to DuckDB: its `query` returns only the suspect rows
and `rows_checked` counts the rows they were drawn from (keys_sunset_segments: the repeated, null or unknown
values; a clean mart gives GX an empty frame, reported as "946328 rows ok").
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import DBT_PROJECT_DIR
from .config import SUITES_DIR, thresholds


@dataclass(frozen=True)
class Expectation:
    type: str
    kwargs: dict[str, Any]
    severity: str | None = None  # overrides the suite's
    threshold: str | None = None  # human wording of the line; derived from kwargs when absent


@dataclass(frozen=True)
class Check:
    """One suite: where its frame comes from and the expectations the frame must meet."""

    suite: str
    expectations: list[Expectation] = field(default_factory=list)
    query: str | None = None
    frame: str | None = None
    requires: list[str] = field(default_factory=list)
    severity: str = "fail"  # fail blocks the sync; warn is reported
    description: str = ""
    label_column: str | None = None  # shown (masked when an address) for the failing rows
    # a column of `query` (`built_at`): once a gate run has passed, the frame holds only the rows whose value is
    # later than that run's start (a table that grows with every event; gate.py `_frames`)
    new_rows: str | None = None
    # a query counting the rows `query` was drawn from, when `query` returns only the suspects: the rows that
    # could break an expectation (a superset of them: a null, every copy of a repeated key, a value outside
    # the set), found by DuckDB, so that GX validates those instead of a whole mart pickled to its process.
    # The count is what the results report as checked ("0 unexpected of 946328").
    rows_checked: str | None = None


def suppression_reasons() -> list[str]:
    seed = DBT_PROJECT_DIR / "seeds" / "suppression_reasons.csv"
    if not seed.exists():
        return ["hard_bounce", "soft_bounce_escalated", "complaint", "unsubscribe", "sunset"]
    with open(seed, encoding="utf-8", newline="") as fh:
        return [row["reason"] for row in csv.DictReader(fh)]


_KNOB = re.compile(r"\$\{(\w+)\}")


def _knob(name: str, knobs: dict[str, Any]) -> Any:
    if name not in knobs:
        raise KeyError(f"suite refers to unknown knob {name!r} (quality/thresholds.yml or dbt vars)")
    return knobs[name]


def _resolve(value: Any, knobs: dict[str, Any]) -> Any:
    """"${knob}" alone becomes the knob's value (number, list); inside longer text, its text."""
    if isinstance(value, str):
        whole = _KNOB.fullmatch(value)
        if whole:
            return _knob(whole.group(1), knobs)
        return _KNOB.sub(lambda m: str(_knob(m.group(1), knobs)), value)
    if isinstance(value, list):
        return [_resolve(v, knobs) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, knobs) for k, v in value.items()}
    return value


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_sql_literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


def _resolve_sql(query: str | None, knobs: dict[str, Any]) -> str | None:
    """A suite's SQL with its "${knob}"s as SQL literals."""
    if query is None:
        return None
    return _KNOB.sub(lambda m: _sql_literal(_knob(m.group(1), knobs)), query)


def load_checks(suites_dir: Path = SUITES_DIR, overrides: dict[str, Any] | None = None) -> list[Check]:
    """Every suites/*.json, thresholds resolved, in file-name order."""
    knobs = thresholds(overrides) | {"suppression_reasons": suppression_reasons()}
    out = []
    for path in sorted(Path(suites_dir).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if bool(spec.get("query")) == bool(spec.get("frame")):
            raise ValueError(f"{path.name}: a suite needs exactly one of 'query' or 'frame'")
        if spec.get("new_rows") and not spec.get("query"):
            raise ValueError(f"{path.name}: 'new_rows' names a column of the suite's 'query'")
        if spec.get("rows_checked") and (not spec.get("query") or spec.get("new_rows")):
            raise ValueError(f"{path.name}: 'rows_checked' counts the rows of a 'query' that returns the suspects "
                             "of a whole table (not with 'new_rows')")
        out.append(
            Check(
                suite=spec["name"],
                description=spec.get("description", ""),
                severity=spec.get("severity", "fail"),
                requires=list(spec.get("requires", [])),
                query=_resolve_sql(spec.get("query"), knobs),
                rows_checked=_resolve_sql(spec.get("rows_checked"), knobs),
                frame=spec.get("frame"),
                label_column=spec.get("label_column"),
                new_rows=spec.get("new_rows"),
                expectations=[
                    Expectation(e["type"], _resolve(e.get("kwargs", {}), knobs), e.get("severity"),
                                _resolve(e.get("threshold"), knobs))
                    for e in spec.get("expectations", [])
                ],
            )
        )
    return out


def describe_threshold(exp: Expectation) -> str:
    """The line an expectation draws, in words, for the failure message."""
    if exp.threshold:
        return exp.threshold
    kw = exp.kwargs
    t = exp.type
    if t == "ExpectColumnValuesToNotBeNull":
        return "0 nulls"
    if t in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        return "0 duplicates"
    if t == "ExpectColumnValuesToBeInSet":
        return f"all values in {kw.get('value_set')}"
    if t == "ExpectColumnValuesToNotBeInSet":
        return f"no value in {kw.get('value_set')}"
    if "min_value" in kw or "max_value" in kw:
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return f"between {lo} and {hi}"
        return f"<= {hi}" if hi is not None else f">= {lo}"
    return json.dumps(kw, default=str)
