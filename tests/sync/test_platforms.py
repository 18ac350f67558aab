"""What is particular to one platform: its routing, its rate-limit headers, its quirks."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import httpx
import pytest

from list_hygiene.sync import Connection, RetryPolicy, SyncFailed, run_sync
from list_hygiene.sync.mailchimp import MailchimpConnector

from .cases import CASES
from .helpers import SleepRecorder, addr, fast_policy, ledger_emails, query, write_suppressions


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "test.duckdb"


def _run(platform: str, emu, wh: Path, conn: Connection | None = None, **kw):
    kw.setdefault("policy", fast_policy())
    return run_sync(wh, apply=True, platforms=[platform], out_dir=wh.parent,
                    connections={platform: conn or CASES[platform].connection(emu, None)}, **kw).platforms[platform]


def test_emulators_reject_oversize_batches_with_the_platforms_error() -> None:
    """The limits the contract tests rely on are really enforced (a too-big call is refused)."""
    with CASES["sendgrid"].start() as sg:
        r = httpx.post(f"{sg.url}/v3/asm/suppressions/global", headers={"Authorization": f"Bearer {sg.api_key}"},
                       json={"recipient_emails": [addr(i) for i in range(1001)]})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "recipient_emails"
    with CASES["postmark"].start() as pm:
        r = httpx.post(f"{pm.url}/message-streams/outbound/suppressions", headers={"X-Postmark-Server-Token": pm.token},
                       json={"Suppressions": [{"EmailAddress": addr(i)} for i in range(51)]})
        assert r.status_code == 422 and "ErrorCode" in r.json()


# ---------------------------------------------------------------------------------------- sendgrid
def test_sendgrid_waits_for_rate_limit_reset_when_remaining_is_zero(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(15)])
    with CASES["sendgrid"].start() as emu:
        emu.rate_limit = 2  # the 2nd response says X-RateLimit-Remaining: 0
        # the reset is an epoch second: 2 s ahead leaves 1-2 s to wait (1 s ahead could be a few ms, already
        # over by the time the client reads it on a busy machine, and then there is rightly nothing to wait)
        emu.reset_in = 2
        rec = SleepRecorder()
        s = _run("sendgrid", emu, wh, policy=fast_policy(rec))
    assert s.applied == 15 and any(0 < w <= 2.0 for w in rec.waits), rec.waits


# ---------------------------------------------------------------------------------------- mailgun
def test_mailgun_routes_reasons_to_lists_and_removes_from_the_right_one(wh: Path) -> None:
    rows = [(addr(1), "mailgun", "hard_bounce"), (addr(2), "mailgun", "complaint"),
            (addr(3), "mailgun", "unsubscribe"), (addr(4), "mailgun", "sunset")]
    write_suppressions(wh, rows)
    with CASES["mailgun"].start() as emu:
        _run("mailgun", emu, wh)
        assert emu.lists["bounces"][addr(1)]["code"] == "550"
        assert set(emu.lists["complaints"]) == {addr(2)}
        assert set(emu.lists["unsubscribes"]) == {addr(3), addr(4)} and emu.lists["unsubscribes"][addr(3)]["tags"] == ["*"]
        write_suppressions(wh, rows[1:], removals=[(addr(1), "mailgun", "corrected_address", "ops@example.com")])
        s = _run("mailgun", emu, wh)
        assert s.applied == 1 and addr(1) not in emu.lists["bounces"]


def test_mailgun_reads_every_page_alphabetically(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "mailgun", "unsubscribe") for i in range(25)])
    with CASES["mailgun"].start() as emu:
        conn = CASES["mailgun"].connection(emu, None)
        _run("mailgun", emu, wh, approve=True)
        from list_hygiene.sync.mailgun import MailgunConnector

        emu.page_limit_max = 1000
        c = MailgunConnector(conn, fast_policy())
        assert c.list_suppressed() == {addr(i) for i in range(25)}
        c.close()


# ---------------------------------------------------------------------------------------- hubspot
def test_hubspot_daily_limit_stops_the_platform(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "hubspot", "unsubscribe") for i in range(12)])
    with CASES["hubspot"].start() as emu:
        r = emu.rate_limited(policy="DAILY")
        emu.fail(429, body=r.body, headers=r.headers, path_contains="/batch/write", after=1, times=99)
        with pytest.raises(SyncFailed) as ei:
            _run("hubspot", emu, wh)
        s = ei.value.summary.platforms["hubspot"]
        assert s.mode == "failed" and "daily" in s.error.lower() and s.applied == 5
        assert len(emu.calls("POST", "/batch/write")) == 2  # no retry storm against a daily cap
        assert len(ledger_emails(wh, "hubspot")) == 5


def test_hubspot_sends_legal_basis_when_configured(wh: Path) -> None:
    write_suppressions(wh, [(addr(1), "hubspot", "unsubscribe")])
    with CASES["hubspot"].start() as emu:
        base = CASES["hubspot"].connection(emu, None)
        conn = dataclasses.replace(base, extra=dict(base.extra) | {"legal_basis": "LEGITIMATE_INTEREST_CLIENT"})
        _run("hubspot", emu, wh, conn=conn)
        body = emu.calls("POST", "/batch/write")[0].json()["inputs"][0]
        assert body["legalBasis"] == "LEGITIMATE_INTEREST_CLIENT" and body["statusState"] == "UNSUBSCRIBED"


# ---------------------------------------------------------------------------------------- mailchimp
def test_mailchimp_bare_403_under_load_is_retried(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "mailchimp", "hard_bounce") for i in range(3)])
    with CASES["mailchimp"].start() as emu:
        emu.fail(403, body=b"", path_contains="/3.0/lists/", times=2)
        s = _run("mailchimp", emu, wh)
        assert (s.applied, s.retries) == (3, 2)
        assert {emu.members[addr(i)] for i in range(3)} == {"unsubscribed"}


def test_mailchimp_data_centre_from_key() -> None:
    c = MailchimpConnector(Connection("mailchimp_default", password="abc-us6", extra={"list_id": "L1"}), RetryPolicy())
    assert c.base_url == "https://us6.api.mailchimp.com"
    c.close()


# ---------------------------------------------------------------------------------------- postmark
def test_postmark_spam_complaint_cannot_be_removed(wh: Path) -> None:
    write_suppressions(wh, [(addr(1), "postmark", "complaint"), (addr(2), "postmark", "hard_bounce")])
    with CASES["postmark"].start() as emu:
        _run("postmark", emu, wh)
        emu.streams["broadcast"][addr(1)] = "SpamComplaint"
        write_suppressions(wh, [], removals=[(addr(1), "postmark", "manual_override", "dpo@example.com"),
                                             (addr(2), "postmark", "corrected_address", "dpo@example.com")])
        s = _run("postmark", emu, wh)
        assert (s.applied, s.failed, s.mode) == (1, 1, "partial")
        assert ledger_emails(wh, "postmark") == {addr(1)} and set(emu.streams["broadcast"]) == {addr(1)}
        err = query(wh, "select error from ops.sync_log where status = 'failed'")[0][0]
        assert "authority" in err


# ---------------------------------------------------------------------------------------- ses
def test_ses_reasons_and_real_pacing(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "ses", r) for i, r in enumerate(
        ["hard_bounce", "soft_bounce_escalated", "complaint", "unsubscribe", "sunset", "hard_bounce"])])
    from emulators.ses import SesEmulator

    with SesEmulator(max_rps=25) as emu:  # refuses calls closer together than 40 ms
        base = CASES["ses"].connection(emu, None)
        conn = dataclasses.replace(base, extra=dict(base.extra) | {"requests_per_second": 10})
        started = time.monotonic()
        s = _run("ses", emu, wh, conn=conn, policy=RetryPolicy(max_attempts=2, backoff_base=0.01))
        assert (s.applied, s.retries) == (6, 0) and time.monotonic() - started >= 0.5
        assert [emu.suppressed[addr(i)]["Reason"] for i in range(6)] == ["BOUNCE", "BOUNCE", "COMPLAINT", "COMPLAINT",
                                                                         "COMPLAINT", "BOUNCE"]


# ---------------------------------------------------------------------------------------- salesforce
def test_salesforce_contacts_and_leads_per_record_errors_and_polling(wh: Path) -> None:
    from emulators.salesforce import SalesforceEmulator

    write_suppressions(wh, [(addr(i), "salesforce", "unsubscribe") for i in range(4)])
    with SalesforceEmulator(page_size=1, polls_until_complete=3) as emu:
        emu.add_record(addr(0))
        emu.add_record(addr(0).upper(), obj="Lead")  # SOQL compares case-insensitively
        emu.add_record(addr(1))
        deleted = emu.add_record(addr(2))
        emu.records[deleted]["deleted"] = False
        emu.add_record(addr(2), obj="Lead")
        conn = Connection("salesforce_default", host=emu.url, password=emu.token)  # objects: Contact,Lead
        s = _run("salesforce", emu, wh, conn=conn)
        assert (s.applied, s.not_found) == (3, 1)
        assert {r["object"] for r in emu.records.values() if r["HasOptedOutOfEmail"]} == {"Contact", "Lead"}
        emu.records[deleted]["deleted"] = True  # deleted between resolve and update: a per-record failure
        c = __import__("list_hygiene.sync.salesforce", fromlist=["x"]).SalesforceConnector(conn, fast_policy())
        ok, failed = c.ingest("Contact", [deleted], True)
        assert ok == set() and failed[deleted].startswith("ENTITY_IS_DELETED")
        c.close()
        assert len(emu.calls("GET", "/jobs/ingest/")) >= 3  # polled until JobComplete


def test_timeout_is_retried(wh: Path) -> None:
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(3)])
    with CASES["sendgrid"].start() as emu:
        emu.fail(503, path_contains="/v3/asm/suppressions/global", delay=0.6)  # answers too late
        pol = dataclasses.replace(fast_policy(), timeout=0.2)
        s = _run("sendgrid", emu, wh, policy=pol)
        assert (s.applied, s.retries) == (3, 1)
        assert set(emu.add_counts.values()) == {1}
