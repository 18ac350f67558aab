"""Bounce classification: raw bounce messages and platform bounce events -> TAXONOMY.md reasons.

Public entry points:
  * ``parse_message(raw, source)`` -> list[BounceRecord]  (raises UnparsableMessage)
  * ``classify(status, reply_code, diagnostic, platform=None, native_type=None, native_subtype=None)``
  * ``classify_paths(paths)`` -> one dict per bounced recipient (the ``list-hygiene classify`` output)

The rules live in dbt seeds and the classification SQL is the dbt model int_bounces_classified
itself, run in an in-memory DuckDB (see classify.py): one source of truth for the warehouse and the CLI.
"""

from list_hygiene.bounces.classify import BounceInput, Classification, Classifier, classify, classify_many
from list_hygiene.bounces.command import classify_paths, classify_records
from list_hygiene.bounces.dsn import BounceRecord, UnparsableMessage, parse_message

__all__ = [
    "BounceInput",
    "BounceRecord",
    "Classification",
    "Classifier",
    "UnparsableMessage",
    "classify",
    "classify_many",
    "classify_paths",
    "classify_records",
    "parse_message",
]
