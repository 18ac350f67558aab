"""Every connector lands its platform's real export shape (PLATFORMS.md, platform-examples)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from ingest_payloads import (
    HUBSPOT_CONTACTS_CSV,
    MAILGUN_PAGE,
    MAILGUN_WEBHOOK,
    POSTMARK_BOUNCES,
    write,
    write_all_platforms,
)

from list_hygiene.ingest import SPECS, ingest, platforms

SHARED_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "platform-examples"


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def test_every_connector_loads_its_export_with_nothing_quarantined(tmp_path, con):
    expected = write_all_platforms(tmp_path)
    report = ingest(con, tmp_path)
    assert [f.path for f in report.files if f.status != "loaded"] == []
    got = {k: v["rows"] for k, v in report.by_source().items()}
    assert got == expected
    assert report.rows_quarantined == 0
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0


def test_platforms_cover_every_esp_and_crm_of_issue_4():
    assert set(platforms()) >= {"sendgrid", "ses", "mailchimp", "postmark", "mailgun", "sfmc", "zoho",
                                "hubspot", "salesforce", "pipedrive"}
    assert all(spec.dedupe_key for spec in SPECS.values()), "every spec documents its dedupe key"


def test_email_normalised_at_ingest_display_name_and_case(tmp_path, con):
    write(tmp_path, "hubspot/contacts/c.csv", HUBSPOT_CONTACTS_CSV)
    ingest(con, tmp_path)
    row = con.execute("select email, email_normalized, email_problem, sms_consent, city from raw.hubspot__contacts").fetchone()
    assert row == ('"Kai Lee" <Kai.Lee@Example.com>', "kai.lee@example.com", None, "true", "Austin")


def test_invalid_address_is_flagged_not_dropped(tmp_path, con):
    write(tmp_path, "sendgrid/suppressions/invalid_emails.json",
          [{"created": 1718000000, "email": "typo@exmaple", "reason": "Mail domain mentioned in email address is unknown"}])
    [f] = ingest(con, tmp_path).files
    assert (f.status, f.rows_loaded, f.rows_quarantined) == ("loaded", 1, 0)
    row = con.execute("select suppression_list, email_normalized, email_problem from raw.sendgrid__suppressions").fetchone()
    assert row == ("invalid_emails", "typo@exmaple", "domain has no dot")


def test_mailgun_page_and_webhook_body_give_the_same_row(tmp_path, con):
    write(tmp_path, "mailgun/events/page.json", MAILGUN_PAGE)
    write(tmp_path, "mailgun/events/hook.json", MAILGUN_WEBHOOK)
    ingest(con, tmp_path)
    cols = "event_id, event, timestamp, severity, reason, recipient, status_code, enhanced_code, message_id, tags"
    sql = f"select {cols} from raw.mailgun__events where event_id = 'pl271FzxTTmGRW8Uj3dUWw' order by _file"
    rows = con.execute(sql).fetchall()
    assert len(rows) == 2 and rows[0] == rows[1]
    assert rows[0][:8] == ("pl271FzxTTmGRW8Uj3dUWw", "failed", "1718035203.818328", "permanent", "bounce",
                           "ana.lopez@example.com", "550", "5.1.1")
    # the signature of the webhook is not kept; known-but-untyped keys are kept in _extra without drift reports
    extra = json.loads(con.execute("select _extra from raw.mailgun__events where _file like '%hook%'").fetchone()[0])
    assert "signature" not in extra and extra["recipient-domain"] == "example.com"


def test_postmark_bounces_keep_id_type_and_offset_time(tmp_path, con):
    write(tmp_path, "postmark/bounces/b.json", POSTMARK_BOUNCES)
    ingest(con, tmp_path)
    rows = con.execute("select bounce_id, type, type_code, bounced_at, _row from raw.postmark__bounces order by _row").fetchall()
    assert rows == [
        ("4323372036854775807", "HardBounce", "1", "2024-06-10T16:00:03.3963933-04:00", 1),
        ("4323372036854775809", "SoftBounce", "4096", "2024-06-11T09:00:00.000-04:00", 2),
    ]


def test_pipedrive_person_flattened_primary_email_mobile_and_org(tmp_path, con):
    write_all_platforms(tmp_path)
    ingest(con, tmp_path, platforms=["pipedrive"])
    row = con.execute("select person_id, email, phone, mobile_phone, org_id, org_name from raw.pipedrive__persons").fetchone()
    assert row == ("7", "bo.chen@example.net", "+15550102", "+15550103", "3", "Umbrella")


_EXAMPLES = {  # platform-examples file → landing path
    "sendgrid/event_webhook_batch.json": "sendgrid/events/",
    "sendgrid/get_suppression_bounces_response.json": "sendgrid/suppressions/bounces/",
    "sendgrid/get_suppression_blocks_response.json": "sendgrid/suppressions/blocks/",
    "sendgrid/get_suppression_invalid_emails_response.json": "sendgrid/suppressions/invalid_emails/",
    "sendgrid/get_suppression_spam_reports_response.json": "sendgrid/suppressions/spam_reports/",
    "sendgrid/get_suppression_unsubscribes_response.json": "sendgrid/suppressions/unsubscribes/",
    "postmark/get_bounces_response.json": "postmark/bounces/",
    "postmark/webhook_bounce.json": "postmark/events/",
    "postmark/webhook_spam_complaint.json": "postmark/events/",
    "postmark/webhook_subscription_change.json": "postmark/events/",
    "mailgun/events_api_page.json": "mailgun/events/",
    "mailgun/webhook_permanent_fail.json": "mailgun/events/",
    "sfmc/Bounces.csv": "sfmc/bounces/",
    "zoho/campaigns_email_api_bounce_webhook.json": "zoho/events/",
    "salesforce/contact_export_sample.csv": "salesforce/contacts/",
    "hubspot/contacts_export_sample.csv": "hubspot/contacts/",
    "mailchimp/subscribed_members_export.csv": "mailchimp/members/",
    "mailchimp/unsubscribed_members_export.csv": "mailchimp/members/",
    "mailchimp/cleaned_members_export.csv": "mailchimp/members/",
}


def test_shared_platform_examples_load_cleanly(tmp_path, con):
    if not SHARED_EXAMPLES.is_dir():
        pytest.skip(f"../shared/platform-examples not found at {SHARED_EXAMPLES}: nothing to check against")
    for src, dest in _EXAMPLES.items():
        (tmp_path / dest).mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_EXAMPLES / src, tmp_path / dest)
    report = ingest(con, tmp_path)
    assert len(report.files) == len(_EXAMPLES)
    assert [(f.path, f.status, f.error) for f in report.files if f.status != "loaded" or f.rows_quarantined] == []
    assert all(f.rows_loaded > 0 for f in report.files)
    # the SendGrid custom arg is schema drift: kept and reported
    [sg] = [f for f in report.files if f.path.startswith("sendgrid/events")]
    assert sg.extra_columns == ["crm_contact_id"]
