"""Fixtures for the generator tests: one default generation per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from list_hygiene.generate import generate, last_run_malformed


@pytest.fixture(scope="session")
def gen_default(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], list]:
    """The bundled-sample configuration (300 contacts, 115 days from 2026-08-01, seed 7)."""
    out = tmp_path_factory.mktemp("gen_default")
    counts = generate(out)
    return out, counts, last_run_malformed()
