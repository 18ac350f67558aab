"""``list-hygiene classify PATH...``: one JSON object per bounced recipient.

The lead registers the CLI; this module holds what it calls. Classification goes through the
same seed rules and SQL as the dbt model (``classify.py``), batched so a large mailbox classifies
in one DuckDB query per batch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO

import typer

from list_hygiene.bounces.classify import BounceInput, Classifier, default_classifier
from list_hygiene.bounces.dsn import BounceRecord, UnparsableMessage, parse_message
from list_hygiene.bounces.mailbox import iter_messages

__all__ = ["Quarantined", "classify_command", "classify_paths", "classify_records", "main", "to_input"]

OUTPUT_FIELDS = ("source", "recipient", "status", "reply_code", "diagnostic", "reason", "bounce_class", "hard", "feedback_type")
BATCH = 2000


@dataclass(frozen=True)
class Quarantined:
    """A message that could not be parsed, with the reason (reported on stderr, never silently lost)."""

    source: str
    reason: str


def to_input(record: BounceRecord) -> BounceInput:
    """A parsed record as the classifier sees it: platform 'mailbox', native_type = the report kind."""
    return BounceInput(
        status=record.status,
        reply_code=record.reply_code,
        diagnostic=record.diagnostic,
        platform=record.platform,
        native_type=record.native_type,
        native_subtype=record.native_subtype,
        event_type=record.event_type,
    )


def classify_records(records: list[BounceRecord], classifier: Classifier | None = None, explain: bool = False) -> list[dict]:
    """The output objects for parsed records; ``explain`` adds classified_by and rule_id (for debugging rules)."""
    classifier = classifier or default_classifier()
    results = classifier.classify_many([to_input(record) for record in records])
    rows = [
        {
            "source": record.source,
            "recipient": record.recipient,
            "status": record.status,
            "reply_code": record.reply_code,
            "diagnostic": record.diagnostic,
            "reason": result.reason,
            "bounce_class": result.bounce_class,
            "hard": result.hard,
            "feedback_type": record.feedback_type,
        }
        for record, result in zip(records, results, strict=True)
    ]
    if explain:
        for row, result in zip(rows, results, strict=True):
            row["classified_by"], row["rule_id"] = result.classified_by, result.rule_id
    return rows


def _parsed(paths: Iterable[Path], quarantine: list[Quarantined] | None) -> Iterator[BounceRecord]:
    for path in paths:
        for source, raw in iter_messages(Path(path)):
            try:
                yield from parse_message(raw, source)
            except UnparsableMessage as exc:
                if quarantine is not None:
                    quarantine.append(Quarantined(source, exc.reason))


def classify_paths(paths: list[Path], quarantine: list[Quarantined] | None = None) -> Iterator[dict]:
    """One dict per bounced recipient (OUTPUT_FIELDS), message by message, recipients in message order.

    Messages that cannot be parsed are appended to ``quarantine`` (when given) with the reason.
    """
    batch: list[BounceRecord] = []
    for record in _parsed(paths, quarantine):
        batch.append(record)
        if len(batch) >= BATCH:
            yield from classify_records(batch)
            batch = []
    if batch:
        yield from classify_records(batch)


def main(paths: list[Path], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print JSON lines; report quarantined messages on stderr; exit 1 when any message was quarantined."""
    out = out or sys.stdout
    err = err or sys.stderr
    quarantine: list[Quarantined] = []
    for row in classify_paths(paths, quarantine):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    for item in quarantine:
        err.write(f"quarantined {item.source}: {item.reason}\n")
    return 1 if quarantine else 0


def classify_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help=".eml files, maildir folders, mbox files, or folders of them.", exists=True),
    ],
) -> None:
    """Print one JSON object per bounced recipient; unreadable messages are listed on stderr (exit code 1)."""
    code = main(paths)
    if code:
        raise typer.Exit(code)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main([Path(arg) for arg in sys.argv[1:]]))
