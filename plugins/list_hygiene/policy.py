"""The policy knobs live once, as dbt vars in dbt_project.yml; Python reads the same values."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from .paths import DBT_PROJECT_DIR


@lru_cache(maxsize=1)
def policy_vars() -> dict[str, Any]:
    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh).get("vars") or {})
