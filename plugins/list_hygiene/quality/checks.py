"""What the gate checks on the marts, as Great Expectations suites over DataFrames read from DuckDB.

GX's SQL datasource fails on DuckDB (ENGINEERING.md), so every check reads a table (or a check
query that joins marts) read-only into pandas and validates that. A cross-table rule becomes a
query with one boolean column, expected to be all true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """One suite: a query producing a frame and the expectations it must meet."""

    suite: str
    query: str
    expectations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    severity: str = "fail"  # fail blocks the sync; warn is reported
    description: str = ""


SEGMENTS = ["active", "cooling", "re_engage", "sunset", "suppressed"]
REASONS = ["hard_bounce", "soft_bounce_escalated", "complaint", "unsubscribe", "sunset"]
CLASSES = ["hard", "soft", "block", "complaint", "auto_reply", "delivered", "unknown"]

CHECKS: list[Check] = [
    Check(
        suite="suppression_list",
        description="Keys present and unique; reasons from the policy's vocabulary.",
        query="select email, platform, reason, suppressed_since, is_permanent from marts.suppression_list",
        expectations=[
            ("ExpectColumnValuesToNotBeNull", {"column": "email"}),
            ("ExpectColumnValuesToNotBeNull", {"column": "platform"}),
            ("ExpectColumnValuesToNotBeNull", {"column": "suppressed_since"}),
            ("ExpectCompoundColumnsToBeUnique", {"column_list": ["email", "platform"]}),
            ("ExpectColumnValuesToBeInSet", {"column": "reason", "value_set": REASONS}),
        ],
    ),
    Check(
        suite="sunset_segments",
        description="One segment per address, from the five the policy knows.",
        query="select email, segment, segment_rule from marts.sunset_segments",
        expectations=[
            ("ExpectColumnValuesToNotBeNull", {"column": "email"}),
            ("ExpectColumnValuesToBeUnique", {"column": "email"}),
            ("ExpectColumnValuesToBeInSet", {"column": "segment", "value_set": SEGMENTS}),
            ("ExpectColumnValuesToNotBeNull", {"column": "segment_rule"}),
        ],
    ),
    Check(
        suite="bounce_classification",
        description="Every bounce has a class from TAXONOMY.md.",
        query="select event_key, bounce_class, reason from intermediate.int_bounces_classified",
        expectations=[
            ("ExpectColumnValuesToBeUnique", {"column": "event_key"}),
            ("ExpectColumnValuesToBeInSet", {"column": "bounce_class", "value_set": CLASSES}),
            ("ExpectColumnValuesToNotBeNull", {"column": "reason"}),
        ],
    ),
    Check(
        suite="permanent_reasons_suppressed",
        description="Every hard bounce, complaint and unsubscribe is in suppression_list on every platform "
        "where the address is known (POLICY rule 1, 'Never').",
        query="""
            with must as (
                select distinct email from intermediate.int_suppression_reasons
                where reason in ('hard_bounce', 'complaint', 'unsubscribe')
            )
            select m.email, p.platform, s.email is not null as is_suppressed
            from must m
            join intermediate.int_contact_platforms p on p.email = m.email
            left join marts.suppression_list s on s.email = m.email and s.platform = p.platform
        """,
        expectations=[("ExpectColumnValuesToBeInSet", {"column": "is_suppressed", "value_set": [True]})],
    ),
    Check(
        suite="suppressed_not_send_eligible",
        description="Nothing suppressed sits in a send-eligible segment.",
        query="""
            select g.email, g.segment, g.segment not in ('active', 'cooling', 're_engage') as is_consistent
            from marts.sunset_segments g
            join (select distinct email from marts.suppression_list) s on s.email = g.email
        """,
        expectations=[("ExpectColumnValuesToBeInSet", {"column": "is_consistent", "value_set": [True]})],
    ),
]
