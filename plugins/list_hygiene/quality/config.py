"""The gate's own knobs (thresholds.yml beside this file) merged with the policy's dbt vars."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..policy import policy_vars

HERE = Path(__file__).resolve().parent
THRESHOLDS_FILE = HERE / "thresholds.yml"
SUITES_DIR = HERE / "suites"


@lru_cache(maxsize=1)
def _file_thresholds() -> dict[str, Any]:
    with open(THRESHOLDS_FILE, encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh) or {})


def thresholds(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """thresholds.yml, then dbt vars of the same name (the policy's single home), then overrides."""
    merged = dict(_file_thresholds())
    merged.update(policy_vars())
    merged.update(overrides or {})
    return merged
