"""Loading the same files in any order, any number of times (re-sent under other names too) gives the
same warehouse: raw (property test, hypothesis) and, after dbt, int_email_events and int_crm_contacts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_payloads import (
    HUBSPOT_COMPANIES_CSV,
    MAILGUN_COMPLAINED,
    MAILGUN_FAILED,
    MAILGUN_PAGE,
    MAILGUN_WEBHOOK,
    PIPEDRIVE_ORGS,
    PIPEDRIVE_PERSONS,
    POSTMARK_BOUNCES,
    POSTMARK_SUBSCRIPTION_CHANGE,
    POSTMARK_WEBHOOK_BOUNCE,
    SALESFORCE_ACCOUNTS_CSV,
    SALESFORCE_CONTACTS_CSV,
    SENDGRID_BATCH,
    SFMC_BOUNCES_CSV,
    SFMC_HEADER,
    SFMC_SENT_CSV,
    ZOHO_BOUNCE,
    jsonl,
    write,
)

from list_hygiene.ingest import ingest

HUBSPOT_V1 = "Record ID,Email,First Name,Last Modified Date\n51,kai.lee@example.com,Kai,2024-06-10 10:00\n"
HUBSPOT_V2 = "Record ID,Email,First Name,Last Modified Date\n51,kai.lee@example.com,Kaito,2024-06-11 10:00\n"
SES_BOUNCE = {
    "eventType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2024-06-10T10:00:00.000Z",
               "bouncedRecipients": [{"emailAddress": "x@example.com", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1"}]},
    "mail": {"messageId": "ses-m1", "timestamp": "2024-06-10T09:59:00.000Z", "destination": ["x@example.com"]},
}

# (path, content): overlapping exports and webhook retries on purpose
FILES: list[tuple[str, object]] = [
    ("sendgrid/events/batch_1.json", SENDGRID_BATCH),
    ("sendgrid/events/retry_1.json", SENDGRID_BATCH[1:]),  # a webhook retry of two events
    ("postmark/bounces/bounces.json", POSTMARK_BOUNCES),
    ("postmark/events/hooks.jsonl", jsonl(POSTMARK_WEBHOOK_BOUNCE, POSTMARK_SUBSCRIPTION_CHANGE)),  # same bounce ID as the API
    ("mailgun/events/page.json", MAILGUN_PAGE),
    ("mailgun/events/hook.json", MAILGUN_WEBHOOK),  # the same event as the page's first item
    ("mailgun/events/late.jsonl", jsonl(MAILGUN_COMPLAINED, dict(MAILGUN_FAILED, id="late-1", timestamp=1717000000.5))),
    ("sfmc/sends/Sent.csv", SFMC_SENT_CSV),
    ("sfmc/sends/Sent_overlap.csv", SFMC_HEADER + SFMC_SENT_CSV.splitlines(keepends=True)[2]),  # overlapping extract
    ("sfmc/bounces/Bounces.csv", SFMC_BOUNCES_CSV),
    ("zoho/events/bounce.json", ZOHO_BOUNCE),
    ("ses/events/ses.jsonl", jsonl(SES_BOUNCE)),
    ("hubspot/contacts/snapshot_new.csv", HUBSPOT_V2),  # a newer snapshot may arrive first
    ("hubspot/contacts/snapshot_old.csv", HUBSPOT_V1),
    ("hubspot/companies/companies.csv", HUBSPOT_COMPANIES_CSV),
    ("salesforce/contacts/Contact.csv", SALESFORCE_CONTACTS_CSV),
    ("salesforce/accounts/Account.csv", SALESFORCE_ACCOUNTS_CSV),
    ("pipedrive/persons/p.json", PIPEDRIVE_PERSONS),
    ("pipedrive/organizations/o.json", PIPEDRIVE_ORGS),
]
LINEAGE = {"_file", "_file_id", "_loaded_at", "file_id", "file", "loaded_at", "source_file", "source_row",
           "built_at"}  # built_at: when the dbt build that wrote the row started


def land(data: Path, drops: list[list[tuple[int, int]]], con: duckdb.DuckDBPyConnection) -> None:
    """Each drop copies some files in (variant > 0: the same bytes again under another name), then ingests."""
    t0 = datetime(2026, 11, 1)
    for n, drop in enumerate(drops):
        for index, variant in drop:
            path, content = FILES[index]
            if variant:
                path = path.replace(".", f"_copy{variant}.", 1)
            write(data, path, content)
        ingest(con, data, loaded_at=t0 + timedelta(hours=n))


def snapshot(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = ("raw",)) -> dict[str, list[tuple]]:
    """Every table's rows without lineage columns (which file, when), as a sorted multiset."""
    out = {}
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in "
        f"({', '.join('?' for _ in schemas)}) and table_name <> '_manifest' and table_type = 'BASE TABLE' order by all",
        list(schemas),
    ).fetchall()
    for schema, table in tables:
        cols = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table]).fetchall() if c not in LINEAGE]
        rows = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from "{schema}"."{table}"').fetchall()
        out[f"{schema}.{table}"] = sorted(rows, key=repr)
    return out


def baseline() -> list[list[tuple[int, int]]]:
    return [[(i, 0) for i in range(len(FILES))]]


_drops = st.lists(
    st.lists(st.tuples(st.integers(0, len(FILES) - 1), st.integers(0, 2)), min_size=1, max_size=8), min_size=1, max_size=4
)


def complete(drops: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Every file arrives at least once (in the last drop if the schedule forgot it)."""
    seen = {i for drop in drops for i, _ in drop}
    missing = [(i, 0) for i in range(len(FILES)) if i not in seen]
    return drops + [missing] if missing else drops


@pytest.fixture(scope="module")
def expected_raw(tmp_path_factory) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    land(tmp_path_factory.mktemp("base"), baseline(), con)
    return snapshot(con)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drops=_drops)
def test_raw_is_the_same_whatever_the_arrival_order_and_repeats(tmp_path_factory, expected_raw, drops):
    con = duckdb.connect()
    land(tmp_path_factory.mktemp("drops"), complete(drops), con)
    assert snapshot(con) == expected_raw


def _build(data: Path, warehouse: Path, drops) -> dict[str, list[tuple]]:
    from list_hygiene.dbt_runner import run_dbt

    with duckdb.connect(str(warehouse)) as con:
        land(data, drops, con)
    models = ["+int_email_events", "+int_crm_contacts"]
    run_dbt(["build", "--select", *models, "--exclude", "test_type:data", "test_type:unit"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return snapshot(con, ("intermediate",)) | {
            k: v for k, v in snapshot(con, ("raw",)).items() if k != "raw.quarantine"
        }


def test_models_are_the_same_whatever_the_arrival_order(tmp_path):
    """The adversarial schedule: last file first, one drop per file, each re-sent under two other names."""
    forward = _build(tmp_path / "a", tmp_path / "a.duckdb", baseline())
    reverse = [[(i, 2), (i, 0), (i, 1)] for i in reversed(range(len(FILES)))]
    backward = _build(tmp_path / "b", tmp_path / "b.duckdb", reverse)
    assert backward.keys() == forward.keys()
    for table in forward:
        assert backward[table] == forward[table], table
    events = forward["intermediate.int_email_events"]
    platforms = {row[1] for row in events}
    assert platforms == {"sendgrid", "postmark", "mailgun", "sfmc", "zoho", "ses"}
    # duplicates collapsed: webhook retries, the Postmark bounce in API and webhook, overlapping SFMC extracts
    by_platform = {p: sum(1 for r in events if r[1] == p) for p in platforms}
    assert by_platform == {"sendgrid": 3, "postmark": 3, "mailgun": 3, "sfmc": 4, "zoho": 1, "ses": 1}
    # the newer HubSpot snapshot wins although it arrived first
    [kai] = [r for r in forward["intermediate.int_crm_contacts"] if r[1] == "hubspot"]
    assert kai[5] == "Kaito"  # first_name

