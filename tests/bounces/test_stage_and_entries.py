"""The SMTP stage of a failure, and which text belongs to which recipient (issue #3).

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


def _text_bounce(body: str, subject: str = "Returned mail: see transcript for details") -> bytes:
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mta.example.org>\n"
        "To: sender@example.org\n"
        f"Subject: {subject}\n"
        "Date: Mon, 2 Mar 2026 10:00:00 +0000\n"
        "\n" + body
    ).encode()


# ------------------------------------------------------------------ which text is about which recipient


def test_the_label_before_an_address_on_its_line_belongs_to_that_recipient():
    raw = _text_bounce(
        "Mailbox full: <full@example.com>\nNo such user: <gone@example.com>\nThe message was returned to the sender.\n",
        subject="Returned mail: hello",
    )
    rows = {row["recipient"]: row for row in _classified(raw)}
    assert "no such user" not in rows["full@example.com"]["diagnostic"].lower()
    assert rows["full@example.com"]["reason"] == "mailboxfull"
    assert rows["gone@example.com"]["diagnostic"].startswith("No such user:")
    assert rows["gone@example.com"]["reason"] == "userunknown"


SENDMAIL_TARGET_LINES = """   ----- Transcript of session follows -----
554 <one@example.net>... Remote protocol error: connection dropped during result wait
550 example.org (smtp)... 550 Host unknown
554 <two@example.org>... 550 Host unknown (Authoritative answer from name server)

   ----- Unsent message follows -----
From: sender@example.org
To: one@example.net, two@example.org
Subject: hello
"""


def test_a_sendmail_line_about_another_host_ends_the_previous_recipients_entry():
    rows = {row["recipient"]: row for row in _classified(_text_bounce(SENDMAIL_TARGET_LINES))}
    one, two = rows["one@example.net"], rows["two@example.org"]
    assert "host unknown" not in one["diagnostic"].lower()
    assert not one["hard"] and one["reason"] != "hostunknown"
    assert (two["reason"], two["hard"]) == ("hostunknown", True)


def test_a_lone_dsn_recipient_without_diagnostic_code_takes_the_explanation_above_its_entry():
    raw = dsn_message(
        [("old@example.com", "failed", "5.0.0", None)],
        human=(
            "----- The following addresses had permanent fatal errors -----\n\n"
            "This mailbox has been suspended by the provider.\n\n"
            "<old@example.com>: 550 user unknown (in reply to RCPT TO command)"
        ),
    )
    record = parse_message(raw, "t.eml")[0]
    assert record.diagnostic.startswith("This mailbox has been suspended by the provider.")
    assert "following addresses" not in record.diagnostic
    row = _classified(raw)[0]
    assert (row["reason"], row["hard"], row["rule_id"]) == ("suspend", False, "su_suspended")


def test_the_explanation_is_only_taken_for_a_lone_recipient_and_never_a_banner():
    two = dsn_message(
        [("a@example.com", "failed", "5.0.0", None), ("b@example.com", "failed", "5.0.0", None)],
        human="This mailbox has been suspended.\n\n<a@example.com>: 550 user unknown\n<b@example.com>: 550 user unknown",
    )
    assert all("suspended" not in record.diagnostic for record in parse_message(two, "t.eml"))
    banner = dsn_message(
        [("a@example.com", "failed", "5.0.0", None)],
        human="----- The following addresses had permanent fatal errors -----\n\n<a@example.com>: 550 user unknown",
    )
    assert parse_message(banner, "t.eml")[0].diagnostic.startswith("<a@example.com>")


# ------------------------------------------------------------------ the SMTP stage the error answered


@pytest.mark.parametrize(
    ("body", "command"),
    [
        (
            "SMTP server <mx.example.com> rejected recipient <gone@example.com> (Error following RCPT command).\n"
            "It responded: [550 5.2.1 User unknown]\n",
            "RCPT TO",
        ),
        (
            "<gone@example.com>:\nSorry, no SMTP connection got far enough; most progress was RCPT TO response; "
            "remote host 192.0.2.1 said: 550 5.2.1 user unknown\n",
            "RCPT TO",
        ),
        (
            "  gone@example.com\n    SMTP error from remote mail server after initial connection:\n"
            "    host mx.example.com [192.0.2.1]: 554 Your host is refused here\n",
            "CONNECT",
        ),
        (
            "   ----- The following addresses had permanent fatal errors -----\n<gone@example.com>\n\n"
            "   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n"
            "<<< 554 mx.example.com does not want your mail, go away\n554 5.0.0 Service unavailable\n",
            "CONNECT",
        ),
        (
            "   ----- The following addresses had permanent fatal errors -----\n<gone@example.com>\n\n"
            "   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n"
            ">>> RCPT To:<gone@example.com>\n<<< 550 5.2.1 user unknown\n",
            "RCPT TO",
        ),
    ],
    ids=["error-following-rcpt", "qmail-most-progress", "exim-initial-connection", "sendmail-greeting", "sendmail-rcpt"],
)
def test_the_parser_finds_the_smtp_command_the_error_answered(body, command):
    record = parse_message(_text_bounce(body), "t.eml")[0]
    assert record.recipient == "gone@example.com"
    assert record.smtp_command == command
    assert f"(in reply to {command} command)" in record.diagnostic


def test_user_unknown_with_a_disabled_status_is_the_address_when_refused_at_rcpt():
    # x.2.1 alone says the mailbox exists but refuses (filtered); the RCPT stage says the address itself was refused
    body = (
        "SMTP server <mx.example.com> rejected recipient <gone@example.com> (Error following RCPT command).\n"
        "It responded: [550 5.2.1 User unknown]\n"
    )
    row = _classified(_text_bounce(body))[0]
    assert (row["reason"], row["hard"]) == ("userunknown", True)


def test_a_refusal_in_the_greeting_is_a_block_of_the_sender_not_a_dead_address():
    body = (
        "   ----- The following addresses had permanent fatal errors -----\n<gone@example.com>\n\n"
        "   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n"
        "<<< 554 mx.example.com does not want your mail, go away\n554 5.0.0 Service unavailable\n"
    )
    row = _classified(_text_bounce(body))[0]
    assert (row["reason"], row["bounce_class"], row["hard"], row["rule_id"]) == (
        "blocked",
        "block",
        False,
        "bl_refused_at_connect",
    )


# ------------------------------------------------------------------ rules and their precedence


@pytest.mark.parametrize(
    ("status", "reply", "text", "reason", "rule_id"),
    [
        # a permanent refusal at the greeting beats vague policy wording, not a specific status or a 4xx
        (
            None,
            "554",
            "554 Access to this server is not permitted for your host (in reply to CONNECT command)",
            "blocked",
            "bl_refused_at_connect",
        ),
        (None, "421", "421 Too busy here, come back later (in reply to CONNECT command)", "systemerror", "reply:421"),
        (
            "5.3.2",
            "554",
            "554 5.3.2 System not accepting network messages (in reply to CONNECT command)",
            "notaccept",
            "status:5.3.2",
        ),
        (None, "554", "554 Spamhaus listed your IP (in reply to CONNECT command)", "blocked", "bl_dnsbl"),
        # a stated account state beats user-unknown wording, even at RCPT TO
        (
            "5.0.0",
            "550",
            "The account of this user is disabled. 550 user unknown (in reply to RCPT TO command)",
            "suspend",
            "su_disabled",
        ),
        ("5.0.0", "550", "550 user unknown (in reply to RCPT TO command)", "userunknown", "uu_unknown_at_rcpt"),
        # "a recipient error" with nothing more is too little to decide, not the reply code's "local error"
        ("4.3.0", "451", "451 4.3.0 Not delivered due to a recipient error, try later", "onhold", "on_recipient_error"),
        ("5.1.1", "550", "550 5.1.1 Not delivered due to a recipient error", "userunknown", "status:x.1.1"),
        ("4.2.2", "452", "452 4.2.2 Not delivered because of a recipient error: mailbox full", "mailboxfull", "mf_full"),
    ],
)
def test_stage_and_state_precedence(status, reply, text, reason, rule_id):
    result = classify(status, reply, text)
    assert (result.reason, result.rule_id) == (reason, rule_id)
