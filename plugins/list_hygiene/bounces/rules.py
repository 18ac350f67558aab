"""The bounce rules, as data: the dbt seeds under ``dbt_project/seeds`` are the one source of truth.

The dbt model ``int_bounces_classified`` reads them as seeds; the command line reads the very same
CSV files through this module and runs the very same SQL (see ``classify.py``), so the two can never
disagree. This module also checks the rules, so a bad edit to a seed fails loudly and early:
every wording pattern must compile in Python ``re`` (and in DuckDB's RE2, checked in the tests), and
its ``keyword`` must be a literal that every match contains, because the SQL uses the keyword as a
cheap ``contains()`` pre-filter before running the regular expression.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:  # Python 3.11+: the parser moved to re._parser; sre_parse still works but warns.
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

from list_hygiene.paths import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

#: seed name -> (column, DuckDB type) in file order. The same types are declared in bounce_seeds.yml
#: (column_types) so dbt and the command line type every column alike.
SEED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "bounce_reasons": [
        ("reason", "varchar"),
        ("bounce_class", "varchar"),
        ("is_hard", "boolean"),
        ("hard_only_when_permanent", "boolean"),
        ("description", "varchar"),
    ],
    "bounce_status_codes": [
        ("status_code", "varchar"),
        ("reason", "varchar"),
        ("priority", "integer"),
        ("note", "varchar"),
    ],
    "bounce_reply_codes": [
        ("reply_code", "varchar"),
        ("reason", "varchar"),
        ("priority", "integer"),
        ("note", "varchar"),
    ],
    "bounce_wording_rules": [
        ("rule_id", "varchar"),
        ("keyword", "varchar"),
        ("pattern", "varchar"),
        ("skip_status", "varchar"),
        ("reason", "varchar"),
        ("priority", "integer"),
        ("language", "varchar"),
        ("note", "varchar"),
    ],
    "platform_bounce_codes": [
        ("platform", "varchar"),
        ("native_type", "varchar"),
        ("native_subtype", "varchar"),
        ("reason", "varchar"),
        ("priority", "integer"),
        ("note", "varchar"),
    ],
}

BOUNCE_CLASSES = ("hard", "soft", "block", "complaint", "auto_reply", "delivered", "unknown")


class RuleError(ValueError):
    """A seed row is malformed: the message names the seed, the row and what to fix."""


@dataclass(frozen=True)
class WordingRule:
    rule_id: str
    keyword: str
    pattern: str
    skip_status: str
    reason: str
    priority: int
    language: str
    note: str


def seed_path(name: str, seeds_dir: Path | None = None) -> Path:
    return (seeds_dir or SEEDS_DIR) / f"{name}.csv"


def read_seed(name: str, seeds_dir: Path | None = None) -> list[dict[str, str]]:
    """Rows of one seed as dicts of strings (empty cells are empty strings, as dbt reads them as null)."""
    path = seed_path(name, seeds_dir)
    if not path.exists():
        raise RuleError(f"seed {path} is missing; it holds the bounce rules (see bounce_seeds.yml)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = [column for column, _ in SEED_COLUMNS[name]]
        if reader.fieldnames != expected:
            raise RuleError(f"{path}: header is {reader.fieldnames}, expected {expected}")
        rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise RuleError(f"{path} line {number}: wrong number of cells (quote cells that contain commas)")
    return rows


def _literal_runs_require(items: list, keywords: tuple[str, ...], prefix: str = "") -> bool:
    """True when every string the parsed regex matches contains one of ``keywords`` (conservative).

    ``prefix`` is the literal text matched just before ``items`` (the parser factors a common prefix
    out of alternatives, so ``dkim|domainkeys`` arrives as ``d`` followed by a branch).
    """
    run: list[str] = [prefix]
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(arg))
            text = "".join(run)
            if any(keyword in text for keyword in keywords):
                return True
            continue
        before, run = "".join(run), []
        if name == "SUBPATTERN":
            if _literal_runs_require(list(arg[-1]), keywords, before):
                return True
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, body = arg
            if low >= 1 and _literal_runs_require(list(body), keywords, before):
                return True
        elif name == "BRANCH":
            alternatives = arg[1]
            if all(_literal_runs_require(list(alt), keywords, before) for alt in alternatives):
                return True
    return False


def split_keywords(keyword: str) -> tuple[str, ...]:
    """The ``keyword`` cell holds one literal or several separated by ``|``."""
    return tuple(part for part in keyword.split("|") if part)


def keyword_is_required(pattern: str, keyword: str) -> bool:
    """Whether every match of ``pattern`` contains one of the keywords (so they are a safe pre-filter)."""
    keywords = split_keywords(keyword)
    return bool(keywords) and _literal_runs_require(list(sre_parse.parse(pattern)), keywords)


def validate_rules(seeds_dir: Path | None = None) -> None:
    """Check the seeds against each other; raise RuleError naming the first bad row."""
    reasons = {row["reason"]: row for row in read_seed("bounce_reasons", seeds_dir)}
    for row in reasons.values():
        if row["bounce_class"] not in BOUNCE_CLASSES:
            raise RuleError(f"bounce_reasons: {row['reason']} has unknown class {row['bounce_class']!r}")
    for name, key in (
        ("bounce_status_codes", "status_code"),
        ("bounce_reply_codes", "reply_code"),
        ("bounce_wording_rules", "rule_id"),
        ("platform_bounce_codes", "native_type"),
    ):
        for number, row in enumerate(read_seed(name, seeds_dir), start=2):
            where = f"{name}.csv line {number} ({key}={row[key]!r})"
            if row["reason"] not in reasons:
                raise RuleError(f"{where}: reason {row['reason']!r} is not in bounce_reasons.csv")
            try:
                int(row["priority"])
            except ValueError as exc:
                raise RuleError(f"{where}: priority {row['priority']!r} is not an integer") from exc
            if name == "bounce_wording_rules":
                _validate_wording(row, where)
            if name == "bounce_status_codes" and not re.fullmatch(r"[245x]\.(x|\d{1,3})\.(x|\d{1,3})", row[key]):
                raise RuleError(f"{where}: status_code must look like 5.1.1, x.1.1 or 2.x.x")
            if name == "platform_bounce_codes":
                for column in ("platform", "native_type", "native_subtype"):
                    if row[column] != row[column].lower():
                        raise RuleError(f"{where}: {column} must be lower-case (it is compared lower-cased)")


def _validate_wording(row: dict[str, str], where: str) -> None:
    pattern, keyword = row["pattern"], row["keyword"]
    if re.sub(r"\\.", "", pattern) != re.sub(r"\\.", "", pattern).lower():
        raise RuleError(f"{where}: pattern must be lower-case (it is matched against the lower-cased text)")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{where}: pattern does not compile: {exc}") from exc
    if row["skip_status"]:
        try:
            re.compile(row["skip_status"])
        except re.error as exc:
            raise RuleError(f"{where}: skip_status does not compile: {exc}") from exc
    if keyword != keyword.lower() or not keyword_is_required(pattern, keyword):
        raise RuleError(
            f"{where}: keyword {keyword!r} must be lower-case literals (separated by |) one of which every match of "
            "the pattern contains: the SQL pre-filters with contains(keyword) before running the pattern"
        )


@lru_cache(maxsize=4)
def wording_rules(seeds_dir: Path | None = None) -> tuple[WordingRule, ...]:
    return tuple(
        WordingRule(
            rule_id=row["rule_id"],
            keyword=row["keyword"],
            pattern=row["pattern"],
            skip_status=row["skip_status"],
            reason=row["reason"],
            priority=int(row["priority"]),
            language=row["language"],
            note=row["note"],
        )
        for row in read_seed("bounce_wording_rules", seeds_dir)
    )
