"""Parser fixes and rule families added for non-standard bodies: one synthetic case (or two) per family.

Every message here is written for the test (example.com / example.org / example.net addresses).
"""

from __future__ import annotations

import pytest
from tests.bounces.conftest import dsn_message

from list_hygiene.bounces.classify import classify
from list_hygiene.bounces.command import classify_records
from list_hygiene.bounces.dsn import parse_message


def _classified(raw: bytes) -> list[dict]:
    return classify_records(parse_message(raw, "t.eml"), explain=True)


# ------------------------------------------------------------------ parser: recipients and context

FORWARDED_BOUNCE = b"""From: Some Person <person@example.org>
To: helpdesk@example.org
Subject: Fwd: Returned mail: see transcript for details

Please look at this, it came back.

Begin forwarded message:

> From: Mail Delivery Subsystem <MAILER-DAEMON@mta.example.org>
> To: <person@example.org>
> Subject: Returned mail: see transcript for details
> Message-Id: <202603021000.AAA00001@mta.example.org>
>
>    ----- The following addresses had permanent fatal errors -----
> <gone@example.com>
>     (reason: 550 5.1.1 <gone@example.com>... User unknown)
>
> Final-Recipient: RFC822; gone@example.com
> Action: failed
> Status: 5.1.1
> Diagnostic-Code: SMTP; 550 5.1.1 <gone@example.com>... User unknown
"""


def test_a_bounce_forwarded_inline_with_quote_marks_is_read_as_the_report():
    record = parse_message(FORWARDED_BOUNCE, "f.eml")[0]
    assert (record.recipient, record.status) == ("gone@example.com", "5.1.1")
    assert _classified(FORWARDED_BOUNCE)[0]["reason"] == "userunknown"


CONTACT_ADDRESS = b"""From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender

This is the mail system at host mta.example.org.

For further assistance, please contact <helpdesk@example.net>.
If you cannot resolve it, write again to <helpdesk@example.net> with this report.

<gone@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1
    <gone@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)
"""


def test_the_reports_help_address_is_not_a_recipient_wherever_it_appears():
    records = parse_message(CONTACT_ADDRESS, "c.eml")
    assert [r.recipient for r in records] == ["gone@example.com"]


MESSAGE_ID_LOOKALIKE = b"""From: MAILER-DAEMON@mta.example.org
To: sender@example.org
Subject: Returned mail: see transcript for details

Original Message-Id: <20260302.ABCDEF@mta.example.org>

   ----- The following addresses had permanent fatal errors -----
<gone@example.com>
    (reason: 550 5.1.1 User unknown)
"""


def test_a_message_id_after_a_long_label_is_not_a_recipient():
    assert [r.recipient for r in parse_message(MESSAGE_ID_LOOKALIKE, "m.eml")] == ["gone@example.com"]


SENDMAIL_TRANSCRIPT = b"""From: Mail Delivery Subsystem <MAILER-DAEMON@mta.example.org>
To: sender@example.org
Subject: Returned mail: see transcript for details

   ----- Transcript of session follows -----
While talking to mx.example.net:
>>> MAIL From:<sender@example.org>
<<< 550 Insecure Mail Relay
554 <first@example.net>... Remote protocol error
While talking to mx.example.com:
>>> RCPT To:<second@example.com>
<<< 550 <second@example.com>... User unknown
550 <second@example.com>... User unknown

   ----- Unsent message follows -----
From: sender@example.org
To: first@example.net, second@example.com
"""


def test_sendmail_transcript_lines_belong_to_the_address_they_precede():
    first, second = parse_message(SENDMAIL_TRANSCRIPT, "s.eml")
    assert first.recipient == "first@example.net" and "insecure mail relay" in first.diagnostic.lower()
    assert "second@example.com" not in first.diagnostic
    assert first.smtp_command == "MAIL FROM" and second.smtp_command == "RCPT TO"
    reasons = [row["reason"] for row in _classified(SENDMAIL_TRANSCRIPT)]
    assert reasons == ["norelaying", "userunknown"]


def test_with_several_recipients_the_command_comes_from_each_ones_own_text():
    raw = b"""From: MAILER-DAEMON@mta.example.org
To: sender@example.org
Subject: Undelivered Mail Returned to Sender

<one@example.com>: host mx.example.com said: 550 No such user here

<two@example.net>: host mx.example.net said: 554 Message refused (in reply to end of DATA command)
"""
    one, two = parse_message(raw, "c.eml")
    assert one.smtp_command is None and two.smtp_command == "DATA"


def test_qmail_does_not_like_recipient_names_the_rcpt_command():
    raw = b"""From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.

<gone@example.com>:
192.0.2.1 does not like recipient.
Remote host said: 550 5.2.1 <gone@example.com>... User Unknown
Giving up on 192.0.2.1.
"""
    record = parse_message(raw, "q.eml")[0]
    assert record.smtp_command == "RCPT TO"
    assert _classified(raw)[0]["reason"] == "userunknown"


def test_a_subject_that_only_says_undelivered_is_no_diagnostic():
    raw = b"""From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mta.example.org.

--- Delivery report unavailable ---

--B
Content-Type: message/rfc822

From: sender@example.org
To: someone@example.com
Subject: hello

hello
--B--
"""
    record = parse_message(raw, "u.eml")[0]
    assert record.recipient == "someone@example.com" and record.diagnostic is None
    assert _classified(raw)[0]["reason"] == "undefined"


def test_a_lone_dsn_recipient_reads_the_text_even_when_it_names_an_alias():
    raw = dsn_message(
        [("user@mail.example.edu", "failed", "5.5.0", None)],
        human=(
            "   ----- The following addresses had permanent fatal errors -----\n"
            '"|exec /usr/local/bin/procmail -f- #user"\n    (expanded from: <user@example.edu>)\n\n'
            "   ----- Transcript of session follows -----\n"
            '554 "|exec /usr/local/bin/procmail -f- #user"... Service unavailable'
        ),
    )
    record = parse_message(raw, "p.eml")[0]
    assert "procmail" in record.diagnostic
    assert _classified(raw)[0]["reason"] == "mailererror"


# ------------------------------------------------------------------ mailing-list manager refusals

LIST_REFUSAL = b"""From: cats-admin@lists.example.org
To: sender@example.org
Subject: You sender@example.org are not member (cats ML)
X-MLServer: fml [fml 4.0.3 release]
List-Subscribe: <mailto:cats-ctl@lists.example.org?body=subscribe>

You are not a member of this mailing list <cats@lists.example.org>.

If you know the general guide of this list, please send mail to cats-ctl@lists.example.org
"""


def test_a_list_manager_refusing_a_non_member_is_a_rejected_sender():
    record = parse_message(LIST_REFUSAL, "l.eml")[0]
    assert record.recipient == "cats@lists.example.org" and record.kind == "bounce"
    row = _classified(LIST_REFUSAL)[0]
    assert (row["reason"], row["hard"]) == ("rejected", False)


def test_a_list_manager_duplicate_message_id_guard_is_a_system_error():
    raw = b"""From: dogs-admin@lists.example.org
To: dogs-admin@lists.example.org
Subject: Loop Alert: Duplicated Message-ID (dogs ML)
X-MLServer: fml [fml 4.0.3 release]

Duplicated Message-ID in <dogs@lists.example.org>.
"""
    assert _classified(raw)[0]["reason"] == "systemerror"


def test_an_ordinary_list_post_is_not_a_bounce():
    raw = b"""From: someone@example.org
To: cats@lists.example.org
Subject: Meeting on Tuesday
X-Mailman-Version: 2.1.39
List-Id: <cats.lists.example.org>

See you there.
"""
    assert parse_message(raw, "n.eml") == []


# ------------------------------------------------------------------ wording and status families


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason"),
    [
        # x.2.1 says the mailbox exists (RFC 3463): user-unknown wording with it is a refusal, not a dead address
        ("5.2.1", "550 5.2.1 <a@example.com>... User Unknown", "filtered"),
        # ... unless the server refused the address at RCPT TO
        ("5.2.1", "550 5.2.1 <a@example.com>... User Unknown (in reply to RCPT TO command)", "userunknown"),
        ("5.0.0", "550 5.0.0 user unknown (in reply to RCPT TO command)", "userunknown"),
        # a header complaint with a policy status is a filter; with another status it is a format error
        ("5.7.0", "554 5.7.0 Header error", "filtered"),
        ("5.6.0", "554 5.6.0 Header error", "contenterror"),
        # the remote lacks a capability we require (x.3.3), not a security refusal
        (None, "500 Remote server does not support TLS", "systemerror"),
        (None, "530 5.7.0 Must issue a STARTTLS command first: encryption required", "securityerror"),
        # sendmail's access-database REJECT answer
        ("5.7.1", "550 5.7.1 <a@example.com>... Access denied", "securityerror"),
        # the sending host is listed as an open relay: a block of the sender; an insecure relay: relaying denied
        (None, "501 no access from mail server [192.0.2.1] which is an open relay", "blocked"),
        (None, "550 Insecure Mail Relay", "norelaying"),
        # Amazon SES documented error for an unverified sending identity
        ("5.0.0", "554 Message rejected: Email address is not verified. The following identities failed the check", "norelaying"),
        # sysexits.h codes of a local delivery program
        ("5.3.0", "X-Unix; 77", "systemerror"),
        ("5.0.0", "X-Unix; 67", "userunknown"),
        ("5.0.0", "X-Unix; 255", "mailererror"),
        # list managers
        (None, "You are not a member of this mailing list", "rejected"),
        (None, "Posting to this list is restricted to members only", "rejected"),
        (None, "Loop Alert: Duplicated Message-ID", "systemerror"),
    ],
)
def test_added_wording_families(status, diagnostic, reason):
    assert classify(status, None, diagnostic).reason == reason


@pytest.mark.parametrize(
    ("native_type", "diagnostic", "reason"),
    [
        ("hard", None, "userunknown"),
        ("hard", "552 5.2.2 mailbox full", "mailboxfull"),  # the wording refines the coarse code
        ("soft", None, "expired"),
        ("Hard", None, "userunknown"),  # compared lower-cased
    ],
)
def test_zoho_bounce_webhook_types(native_type, diagnostic, reason):
    assert classify(None, None, diagnostic, platform="zoho", native_type=native_type).reason == reason


@pytest.mark.parametrize(
    ("status", "reply", "hard"),
    [(None, None, True), ("5.1.10", "550", True), ("4.4.4", None, False), (None, "451", False)],
)
def test_notaccept_without_any_code_is_still_hard(status, reply, hard):
    # no code at all says nothing transient: a domain with no mail exchanger is dead (a null comparison once hid it)
    result = classify(status, reply, "No MX record found for domain=example.com")
    assert (result.reason, result.hard) == ("notaccept", hard)


def test_a_status_report_inside_the_returned_original_is_not_this_reports_recipient():
    # the bounced message was itself a reply to an earlier bounce: its DSN is about another message
    inner = dsn_message([("old@example.net", "failed", "5.1.1", "550 5.1.1 user unknown")]).decode()
    outer = dsn_message([("now@example.com", "failed", "5.2.2", "552 5.2.2 mailbox full")]).decode()
    inner_part = "Content-Type: message/rfc822\n\n" + inner
    raw = outer.replace("--BOUNDARY--", "--BOUNDARY\n" + inner_part.replace("BOUNDARY", "INNER") + "\n--BOUNDARY--")
    records = parse_message(raw.encode(), "n.eml")
    assert [r.recipient for r in records] == ["now@example.com"]


def test_a_bounce_forwarded_as_an_attachment_still_reads_the_enclosed_report():
    inner = dsn_message([("gone@example.com", "failed", "5.1.1", "550 5.1.1 user unknown")]).decode()
    raw = (
        "From: person@example.org\nTo: helpdesk@example.org\nSubject: Fwd: Undelivered Mail\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="OUTER"\n\n--OUTER\nContent-Type: text/plain\n\nsee attached\n\n'
        "--OUTER\nContent-Type: message/rfc822\n\n" + inner.replace("BOUNDARY", "INNER") + "\n--OUTER--\n"
    )
    assert [r.recipient for r in parse_message(raw.encode(), "f.eml")] == ["gone@example.com"]


def test_a_status_comment_is_the_diagnostic_when_the_dsn_has_none():
    raw = dsn_message(
        [
            ("late@example.net", "delayed", "4.0.0 (example.net: host name lookup failure)", None),
            ("other@example.org", "failed", "5.0.0 (permanent failure)", "550 user unknown"),
        ],
        human="The following addresses had delivery problems: <late@example.net>, <other@example.org>",
    )
    late, other = parse_message(raw, "s.eml")
    assert late.diagnostic == "example.net: host name lookup failure"
    assert other.diagnostic == "550 user unknown"


def test_an_address_the_report_could_not_contact_is_still_a_recipient():
    raw = b"""From: MAILER-DAEMON@mta.example.org
To: sender@example.org
Subject: Undelivered Mail Returned to Sender

We were unable to contact <gone@example.com>: 550 5.1.1 user unknown
"""
    assert [r.recipient for r in parse_message(raw, "u.eml")] == ["gone@example.com"]
