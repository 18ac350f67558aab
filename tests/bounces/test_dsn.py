"""Parsing raw messages into per-recipient records: DSNs, free-text bounces, ARF, auto-replies, bad input."""

from __future__ import annotations

import json

import pytest
from tests.bounces.conftest import dsn_message

from list_hygiene.bounces.dsn import BounceRecord, UnparsableMessage, parse_message


def test_rfc3464_recipients_in_message_order():
    raw = dsn_message(
        [
            ("first@example.com", "failed", "5.1.1", "550 5.1.1 <first@example.com>: User unknown"),
            ("second@example.com", "failed", "5.2.2", "552 5.2.2 Mailbox full"),
        ]
    )
    records = parse_message(raw, "x.eml")
    assert [r.recipient for r in records] == ["first@example.com", "second@example.com"]
    first = records[0]
    assert (first.status, first.reply_code, first.action, first.kind) == ("5.1.1", "550", "failed", "bounce")
    assert first.diagnostic == "550 5.1.1 <first@example.com>: User unknown"
    assert first.remote_mta == "mx.example.com" and first.reporting_mta == "mta.example.org"
    assert first.arrival_date.startswith("Mon, 2 Mar 2026")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_do_not_matter(newline):
    raw = dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")], newline=newline)
    assert [r.recipient for r in parse_message(raw, "x.eml")] == ["a@example.com"]


def test_delayed_and_delivered_actions():
    raw = dsn_message(
        [("late@example.com", "delayed", "4.4.1", "421 no answer"), ("ok@example.com", "delivered", "2.0.0", "250 ok")]
    )
    late, ok = parse_message(raw, "x.eml")
    assert (late.kind, late.event_type) == ("delayed", "deferred")
    assert (ok.kind, ok.native_type) == ("delivered", "delivered")


def test_vague_status_takes_the_specific_code_from_the_diagnostic():
    raw = dsn_message([("a@example.com", "failed", "5.0.0", "550 5.7.26 multiple authentication checks failed")])
    assert parse_message(raw, "x.eml")[0].status == "5.7.26"


def test_missing_diagnostic_falls_back_to_the_human_text():
    raw = dsn_message(
        [("a@example.com", "failed", "5.0.0", None)],
        human="<a@example.com>: host mx.example.com said: 552 mailbox full (in reply to RCPT TO command)",
    )
    record = parse_message(raw, "x.eml")[0]
    assert "mailbox full" in record.diagnostic and record.reply_code == "552"


POSTFIX_TEXT = b"""From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
Content-Type: text/plain

This is the mail system at host mta.example.org.

<one@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <one@example.com>:
    Recipient address rejected: User unknown (in reply to RCPT TO command)

<two@example.net>: host mx.example.net[192.0.2.2] said: 552 5.2.2 Mailbox full
    (in reply to RCPT TO command)

--- Below this line is a copy of the message.

From: sender@example.org
To: one@example.com, two@example.net, three@example.org
"""


def test_free_text_bounce_splits_per_recipient_and_ignores_the_returned_copy():
    records = parse_message(POSTFIX_TEXT, "p.eml")
    assert [r.recipient for r in records] == ["one@example.com", "two@example.net"]
    one, two = records
    assert (one.status, one.reply_code, one.smtp_command) == ("5.1.1", "550", "RCPT TO")
    assert "mailbox full" in two.diagnostic.lower() and "user unknown" not in two.diagnostic.lower()


QMAIL_TEXT = b"""From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.
"""


def test_qmail_style():
    record = parse_message(QMAIL_TEXT, "q.eml")[0]
    assert (record.recipient, record.status) == ("gone@example.com", "5.1.1")
    assert "no mailbox here" in record.diagnostic


EXIM_TEXT = b"""From: Mail Delivery System <Mailer-Daemon@mx.example.org>
To: sender@example.org
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: listed@example.com

This message was created automatically by mail delivery software.

  listed@example.com
    SMTP error from remote mail server after end of data:
    550 Unknown user
"""


def test_exim_failed_recipients_header_and_data_command():
    record = parse_message(EXIM_TEXT, "e.eml")[0]
    assert record.recipient == "listed@example.com"
    assert record.smtp_command == "DATA"


ARF = b"""From: feedback@example.net
To: abuse@example.org
Subject: FW: spam
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B"

--B
Content-Type: text/plain

This is an abuse report.

--B
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Example-FBL/1.0
Version: 1
Original-Rcpt-To: <complainer@example.com>
Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0000

--B
Content-Type: message/rfc822

From: sender@example.org
To: complainer@example.com
Subject: offer

buy
--B--
"""


def test_arf_complaint():
    record = parse_message(ARF, "a.eml")[0]
    assert (record.recipient, record.kind, record.feedback_type, record.event_type) == (
        "complainer@example.com",
        "feedback",
        "abuse",
        "complaint",
    )


def test_auto_reply_is_not_a_bounce():
    raw = b"""From: person@example.com
To: sender@example.org
Subject: Out of Office: hello
Auto-Submitted: auto-replied

I am away until Monday.
"""
    record = parse_message(raw, "v.eml")[0]
    assert (record.recipient, record.kind, record.native_type) == ("person@example.com", "auto_reply", "auto_reply")


def test_ordinary_mail_produces_nothing():
    raw = b"From: friend@example.com\nTo: me@example.org\nSubject: lunch?\n\nSee you at noon.\n"
    assert parse_message(raw, "n.eml") == []


def test_ses_notification_by_email():
    payload = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Transient",
            "bounceSubType": "MailboxFull",
            "bouncedRecipients": [{"emailAddress": "full@example.com", "status": "5.2.2", "diagnosticCode": "smtp; 552 full"}],
        },
    }
    raw = (
        b"From: no-reply@sns.amazonaws.com\nTo: ops@example.org\nSubject: AWS Notification Message\n\n"
        + json.dumps(payload).encode()
    )
    record = parse_message(raw, "s.eml")[0]
    assert (record.platform, record.native_type, record.native_subtype, record.status) == (
        "ses",
        "transient",
        "mailboxfull",
        "5.2.2",
    )


def test_odd_charset_and_truncation_do_not_crash():
    raw = dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")])
    raw = raw.replace(b"charset=us-ascii", b"charset=x-unknown-charset")
    assert parse_message(raw[: len(raw) // 2], "t.eml") is not None
    latin = (
        b"From: MAILER-DAEMON@example.org\nSubject: Unzustellbar\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\n<a@example.com>: Empf\xe4nger unbekannt\n"
    )
    assert "unbekannt" in parse_message(latin, "l.eml")[0].diagnostic


@pytest.mark.parametrize("raw", [b"", b"   \n\n", b"\x00\x01\x02 not a message"])
def test_unparsable_raises_with_reason(raw):
    with pytest.raises(UnparsableMessage) as info:
        parse_message(raw, "bad.eml")
    assert info.value.source == "bad.eml" and info.value.reason


def test_record_as_dict_round_trip():
    record = BounceRecord("s", "a@example.com", status="5.1.1")
    assert record.as_dict()["status"] == "5.1.1" and record.native_type is None


def test_random_bytes_never_crash_the_parser():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    header = b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nContent-Type: multipart/report; boundary=B\n\n"

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=600))
    def check(body: bytes) -> None:
        for raw in (body, header + body, header + b"--B\nContent-Type: message/delivery-status\n\n" + body):
            try:
                records = parse_message(raw, "fuzz.eml")
            except UnparsableMessage:
                continue
            assert all(isinstance(record, BounceRecord) for record in records)

    check()


def test_relay_label_is_unwrapped_to_the_remote_reply():
    diagnostic = "5.1.0 - Unknown address error 550-'5.7.1 <a@example.com>... Access denied' (delivery attempts: 0)"
    raw = dsn_message([("a@example.com", "failed", "5.1.0", diagnostic)])
    record = parse_message(raw, "ses.eml")[0]
    assert record.diagnostic == "550 5.7.1 <a@example.com>... Access denied"
    assert (record.status, record.reply_code) == ("5.7.1", "550")
