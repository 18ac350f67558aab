"""One realistic warehouse per test session, shared by tests/quality, tests/audit and tests/browser.

Built once (ingest + dbt build + dbt docs + one passing gate run as history) under pytest's session
base temp; tests copy the .duckdb file before they change it. Loaded by path from the conftests of the
three folders, so whichever folder runs first builds it and the others reuse it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO.parent / "shared" / "platform-examples"


def _examples_data(target: Path) -> Path:
    """A small landing folder from ../shared/platform-examples when data_samples/ is not there."""
    for sub in ("hubspot/contacts", "sendgrid/events", "mailchimp/members", "ses/events"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "hubspot/contacts_export_sample.csv", target / "hubspot/contacts/")
    shutil.copy(EXAMPLES / "sendgrid/event_webhook_batch.json", target / "sendgrid/events/")
    for f in (EXAMPLES / "mailchimp").glob("*_members_export.csv"):
        shutil.copy(f, target / "mailchimp/members/")
    lines = [json.dumps(json.loads(f.read_text())) for f in sorted((EXAMPLES / "ses").glob("sns_*.json"))]
    (target / "ses/events/examples.jsonl").write_text("\n".join(lines) + "\n")
    return target


def data_dir(base: Path) -> Path:
    samples = REPO / "data_samples"
    if any(samples.glob("*/*/*")):
        return samples
    return _examples_data(base / "examples_data")


def built_warehouse(base: Path) -> Path:
    """<base>/lh/warehouse.duckdb after ingest, dbt build, dbt docs and a passing gate run 'baseline'."""
    root = base / "lh"
    warehouse = root / "warehouse.duckdb"
    done = root / ".built"
    if done.exists():
        return warehouse
    from list_hygiene.pipeline import docs_step, ingest_step, transform_step
    from list_hygiene.quality import run_gate

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    ingest_step(data_dir(base), warehouse)
    transform_step(warehouse)
    docs_step(warehouse)
    run_gate(warehouse, "baseline", raise_on_failure=True, notify=False)
    done.touch()
    return warehouse


def copy_warehouse(src: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "warehouse.duckdb"
    shutil.copy2(src, dest)
    return dest
