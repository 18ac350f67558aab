"""Classify bounces with the dbt model's own SQL, run in an in-memory DuckDB.

Why not a Python re-implementation: two implementations of the same precedence drift apart. Here
the command line loads the seed CSVs (``rules.py``), puts the records in a table shaped like
``int_email_events`` and executes ``int_bounces_classified.sql`` with its ``ref()`` calls pointed at
those tables. dbt and the command line therefore classify with the same rules, in the same order,
by construction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import jinja2

from list_hygiene.bounces.rules import SEED_COLUMNS, seed_path, validate_rules
from list_hygiene.paths import DBT_PROJECT_DIR

MODEL_PATH = DBT_PROJECT_DIR / "models" / "intermediate" / "int_bounces_classified.sql"

#: the int_email_events columns the classifier reads (data-contracts.md §3)
EVENT_COLUMNS: tuple[str, ...] = (
    "event_key",
    "platform",
    "event_type",
    "native_type",
    "native_subtype",
    "status_code",
    "reply_code",
    "diagnostic",
)


class ModelSqlError(RuntimeError):
    """The model uses Jinja this module does not provide; the command line cannot run it without dbt."""


@dataclass(frozen=True)
class _QueryResult:
    """The part of dbt's run_query() result (an agate table) the model uses: ``.rows``."""

    rows: list[tuple]


def render_model_sql(con: duckdb.DuckDBPyConnection, model_path: Path = MODEL_PATH) -> str:
    """Render the dbt model with ref() -> table name, execute=True and run_query() on ``con``.

    The model asks run_query() for the wording rules and writes each pattern into the SQL as a
    constant (fast in DuckDB); here run_query() reads the same seed, loaded into ``con``.
    """
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        template = environment.from_string(model_path.read_text(encoding="utf-8"))
        return template.render(
            ref=lambda name: name,
            execute=True,
            run_query=lambda sql: _QueryResult(con.execute(sql).fetchall()),
        )
    except jinja2.TemplateError as exc:
        raise ModelSqlError(
            f"{model_path}: {exc}; the model may only use ref(), run_query() and execute so the CLI can run it"
        ) from exc


@dataclass(frozen=True)
class Classification:
    reason: str
    bounce_class: str
    hard: bool
    classified_by: str
    rule_id: str


@dataclass(frozen=True)
class BounceInput:
    """One thing to classify, in int_email_events terms."""

    status: str | None = None
    reply_code: str | None = None
    diagnostic: str | None = None
    platform: str | None = None
    native_type: str | None = None
    native_subtype: str | None = None
    event_type: str = "bounce"


def _load_seeds(con: duckdb.DuckDBPyConnection, seeds_dir: Path | None) -> None:
    for name, columns in SEED_COLUMNS.items():
        types = ", ".join(f"'{column}': '{kind}'" for column, kind in columns)
        con.execute(
            f"create or replace table {name} as select * from read_csv(?, header = true, "
            f"columns = {{{types}}}, quote = '\"', escape = '\"', auto_detect = false)",
            [str(seed_path(name, seeds_dir))],
        )


class Classifier:
    """An in-memory DuckDB with the seeds loaded; reuse one for many batches (thread-safe)."""

    def __init__(self, seeds_dir: Path | None = None, model_path: Path = MODEL_PATH) -> None:
        validate_rules(seeds_dir)
        self._con = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        _load_seeds(self._con, seeds_dir)
        self.sql = render_model_sql(self._con, model_path)

    def classify_many(self, items: Sequence[BounceInput]) -> list[Classification]:
        """Classify a batch in one query; the result is in input order."""
        if not items:
            return []
        rows = [
            (
                str(index),
                item.platform,
                item.event_type,
                item.native_type,
                item.native_subtype,
                item.status,
                item.reply_code,
                item.diagnostic,
            )
            for index, item in enumerate(items)
        ]
        with self._lock:
            con = self._con.cursor()
            try:
                con.execute(
                    "create or replace temp table int_email_events ("
                    + ", ".join(f"{column} varchar" for column in EVENT_COLUMNS)
                    + ")"
                )
                # one statement whatever the batch size: each column goes in as a list parameter
                columns = [list(column) for column in zip(*rows, strict=True)]
                con.execute(
                    "insert into int_email_events select "
                    + ", ".join(f"unnest(${number})" for number in range(1, len(EVENT_COLUMNS) + 1)),
                    columns,
                )
                result = con.execute(
                    f"select event_key, reason, bounce_class, is_hard, classified_by, rule_id from ({self.sql})"
                ).fetchall()
            finally:
                con.close()
        by_key = {
            key: Classification(reason, bounce_class, bool(is_hard), classified_by, rule_id)
            for key, reason, bounce_class, is_hard, classified_by, rule_id in result
        }
        return [by_key[str(index)] for index in range(len(items))]


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    return Classifier()


def classify(
    status: str | None,
    reply_code: str | None,
    diagnostic: str | None,
    platform: str | None = None,
    native_type: str | None = None,
    native_subtype: str | None = None,
    event_type: str = "bounce",
) -> Classification:
    """Classify one record (a status code, an SMTP reply code, the diagnostic text, a platform's codes)."""
    item = BounceInput(status, reply_code, diagnostic, platform, native_type, native_subtype, event_type)
    return default_classifier().classify_many([item])[0]


def classify_many(items: Iterable[BounceInput]) -> list[Classification]:
    return default_classifier().classify_many(list(items))
