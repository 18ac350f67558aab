"""The bounce taxonomy (../shared/TAXONOMY.md), read from the bounce_reasons seed so there is one copy.

Code that needs to know what a reason means for hygiene (is it hard? which class?) asks here rather
than keeping its own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from list_hygiene.bounces.rules import BOUNCE_CLASSES, read_seed

__all__ = ["BOUNCE_CLASSES", "Reason", "reason", "reasons"]


@dataclass(frozen=True)
class Reason:
    name: str
    bounce_class: str
    is_hard: bool
    hard_only_when_permanent: bool
    description: str


@lru_cache(maxsize=1)
def reasons() -> dict[str, Reason]:
    """Every reason of the vocabulary, by name, in seed order."""
    return {
        row["reason"]: Reason(
            name=row["reason"],
            bounce_class=row["bounce_class"],
            is_hard=row["is_hard"] == "true",
            hard_only_when_permanent=row["hard_only_when_permanent"] == "true",
            description=row["description"],
        )
        for row in read_seed("bounce_reasons")
    }


def reason(name: str) -> Reason:
    """One reason; KeyError names the vocabulary when the name is not in it."""
    try:
        return reasons()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a bounce reason; known: {', '.join(reasons())}") from None
