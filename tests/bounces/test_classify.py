"""Classification rules, family by family, and their precedence (the same SQL as the dbt model)."""

from __future__ import annotations

import pytest

from list_hygiene.bounces.classify import BounceInput, Classifier, classify, classify_many


@pytest.mark.parametrize(
    ("status", "reason", "hard"),
    [
        ("5.1.1", "userunknown", True),
        ("5.1.2", "hostunknown", True),
        ("5.1.6", "hasmoved", True),
        ("5.2.2", "mailboxfull", False),
        ("4.2.2", "mailboxfull", False),
        ("5.3.4", "mesgtoobig", False),
        ("4.4.7", "expired", False),
        ("5.7.26", "authfailure", False),
        ("5.7.25", "requireptr", False),
        ("5.4.6", "networkerror", False),
        ("2.0.0", "delivered", False),
    ],
)
def test_status_code_family(status, reason, hard):
    result = classify(status, None, None)
    assert (result.reason, result.hard, result.classified_by) == (reason, hard, "status_code")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [("552", "mailboxfull"), ("551", "hasmoved"), ("501", "syntaxerror"), ("556", "notaccept")],
)
def test_reply_code_family(reply, reason):
    result = classify(None, reply, None)
    assert (result.reason, result.classified_by) == (reason, "reply_code")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("550 <a@example.com>: Recipient address rejected: User unknown in local recipient table", "userunknown"),
        ("Sorry, no mailbox here by that name.", "userunknown"),
        ("The email account that you tried to reach does not exist.", "userunknown"),
        ("452 4.2.2 The email account that you tried to reach is over quota", "mailboxfull"),
        ("Host or domain name not found. Name service error for name=example.com type=A: Host not found", "hostunknown"),
        ("Name service error for name=example.com type=MX: Host not found, try again", "networkerror"),
        ("domain example.com does not exist", "hostunknown"),
        ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "blocked"),
        ("550 Message rejected as spam by content filter", "spamdetected"),
        ("550 5.7.1 Relaying denied", "norelaying"),
        ("421 Too many concurrent SMTP connections from this IP", "toomanyconn"),
        ("552 Message size exceeds fixed maximum message size", "mesgtoobig"),
        ("554 rejected: virus found in message", "virusdetected"),
        ("550 5.7.1 Message rejected due to DMARC policy", "authfailure"),
        ("550 Account has been disabled", "suspend"),
        ("retry timeout exceeded", "expired"),
        ("Connection timed out", "expired"),
        ("421 rate limit exceeded, slow down", "speeding"),
        ("Benutzer unbekannt", "userunknown"),
        ("Postfach ist voll", "mailboxfull"),
        ("utilisateur inconnu", "userunknown"),
        ("boîte aux lettres pleine", "mailboxfull"),
        ("el buzón está lleno", "mailboxfull"),
        ("usuario desconocido", "userunknown"),
        ("casella piena", "mailboxfull"),
        ("550 Casella di posta inesistente", "userunknown"),
        ("destinatario sconosciuto", "userunknown"),
        ("550 Caixa postal não encontrada", "userunknown"),
        ("O endereço de e-mail do destinatário não foi encontrado", "userunknown"),
        ("550 Okänd mottagare", "userunknown"),
        ("Ukendt modtager: adressen findes ikke", "userunknown"),
        ("Tuntematon vastaanottaja", "userunknown"),
        ("Mottagarens postlåda är full", "mailboxfull"),
        ("Postkassen er fuld", "mailboxfull"),
        ("all relevant MX records point to non-existent hosts", "hostunknown"),
        ("550-5.7.1 Messages missing a valid Message-ID header are not accepted.", "notcompliantrfc"),
        ("550 This account has been closed", "suspend"),
        ("554 IP listed on Barracuda Reputation Block List", "blocked"),
        ("451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.", "badreputation"),
        ("пользователь не найден", "userunknown"),
        ("ящик переполнен", "mailboxfull"),
        ("宛先のユーザーは存在しません", "userunknown"),
        ("收件人不存在", "userunknown"),
        ("Das Postfach des Empfängers ist voll.", "mailboxfull"),
        ("A caixa postal do destinatário está cheia", "mailboxfull"),
        ("User jdoe (jdoe@example.com) not listed in Domino Directory", "userunknown"),
        ("450 4.1.8 <s@example.org>: Sender address rejected: Domain not found", "rejected"),
        ("550 5.1.2 <r@example.com>: Recipient address rejected: Domain not found", "hostunknown"),
        ("550 5.7.1 Service unavailable; client [192.0.2.1] is listed in the blocklist", "blocked"),
        ("550-5.7.1 [192.0.2.1] Messages with multiple 550-5.7.1 addresses in From: header are not accepted.", "notcompliantrfc"),
    ],
)
def test_wording_family(text, reason):
    result = classify(None, None, text)
    assert result.reason == reason, result


@pytest.mark.parametrize(
    ("platform", "native_type", "native_subtype", "reason"),
    [
        ("ses", "Permanent", "NoEmail", "userunknown"),
        ("ses", "Transient", "MailboxFull", "mailboxfull"),
        ("ses", "Undetermined", "Undetermined", "onhold"),
        ("sendgrid", "blocked", "reputation", "badreputation"),
        ("mailgun", "permanent", "suppress-complaint", "feedback"),
        ("postmark", "SpamComplaint", None, "feedback"),
        ("postmark", "AutoResponder", None, "vacation"),
        ("mailchimp", "hard", None, "userunknown"),
        ("sfmc", "Block bounce", "Authentication", "authfailure"),
        ("sfmc", "Soft bounce", "Mailbox Full", "mailboxfull"),
        ("pipedrive", "blocking", None, "blocked"),
        ("zeptomail", "user not found", None, "userunknown"),
    ],
)
def test_platform_family(platform, native_type, native_subtype, reason):
    result = classify(None, None, None, platform, native_type, native_subtype)
    assert (result.reason, result.classified_by) == (reason, "platform_code")


# Whole diagnostics as large providers and MTAs word them (written for these tests after the providers' published
# error pages), with the status and reply code the DSN carries: what a team's real bounces look like outside the
# shared corpus. The class and the hard flag follow from the reason.
@pytest.mark.parametrize(
    ("status", "reply", "text", "reason", "hard"),
    [
        ("5.4.1", "550", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [x.prod.protection.outlook.com]",
         "userunknown", True),
        ("5.1.10", "550", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
         "userunknown", True),
        ("5.2.2", "552", "552 5.2.2 The email account that you tried to reach is over quota and inactive.",
         "mailboxfull", False),
        ("4.2.2", "452", "452 4.2.2 The recipient's inbox is out of storage space.", "mailboxfull", False),
        ("5.7.1", "550", "550 5.7.1 Service unavailable, Client host [203.0.113.5] blocked using Spamhaus. AS(1450)",
         "blocked", False),
        ("5.7.606", "550", "550 5.7.606 Access denied, banned sending IP [203.0.113.5].", "blocked", False),
        ("5.7.26", "550", "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.",
         "authfailure", False),
        ("5.1.1", "554", "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]",
         "userunknown", True),
        ("5.7.9", "554", "554 5.7.9 Message not accepted for policy reasons.", "policyviolation", False),
        ("5.5.0", "550", "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)", "userunknown", True),
        ("5.2.1", "550", "550 5.2.1 The email account that you tried to reach is disabled.", "suspend", False),
        ("5.3.4", "552", "552 5.3.4 Message size exceeds fixed maximum message size", "mesgtoobig", False),
        (None, None, "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
         "hostunknown", True),
        ("4.4.7", None, "Message expired: unable to deliver in 840 minutes.<421 4.4.0 Unable to lookup DNS for example.com>",
         "expired", False),
    ],
)
def test_provider_diagnostics(status, reply, text, reason, hard):
    result = classify(status, reply, text)
    assert (result.reason, result.hard) == (reason, hard)


def test_wording_beats_generic_code():
    result = classify("5.1.1", "550", "550 5.1.1 <a@example.com>: mailbox is full")
    assert (result.reason, result.hard, result.classified_by) == ("mailboxfull", False, "wording")


def test_specific_code_beats_vague_wording():
    result = classify("5.7.26", "550", "550 5.7.26 message rejected")
    assert (result.reason, result.classified_by) == ("authfailure", "status_code")


def test_specific_platform_code_beats_text_and_coarse_one_does_not():
    assert classify("5.0.0", None, "550 failed", "ses", "Transient", "MailboxFull").reason == "mailboxfull"
    coarse = classify(None, None, "552 recipient is over quota", "ses", "Permanent", "General")
    assert (coarse.reason, coarse.classified_by) == ("mailboxfull", "wording")


def test_user_unknown_at_data_is_filtered_unless_511():
    assert classify("5.2.0", "550", "550 User unknown (in reply to end of DATA command)").reason == "filtered"
    assert classify("5.1.1", "550", "550 5.1.1 User unknown (in reply to end of DATA command)").reason == "userunknown"


def test_notaccept_is_hard_only_when_permanent():
    assert classify("5.1.10", "556", "556 5.1.10 domain does not accept mail").hard is True
    assert classify("4.3.2", "421", "421 4.3.2 host does not accept mail now").hard is False


def test_complaint_event_and_platform_echoes():
    assert classify(None, None, "whatever", "sendgrid", event_type="complaint").bounce_class == "complaint"
    assert classify(None, None, "Bounced Address", "sendgrid", event_type="dropped").reason == "userunknown"
    assert classify(None, None, "Unsubscribed Address", "sendgrid", event_type="dropped").bounce_class == "unknown"
    assert classify(None, None, "Spam Reporting Address", "sendgrid", event_type="dropped").reason == "feedback"


def test_defaults():
    assert classify(None, None, None).reason == "undefined"
    assert classify("5.0.0", None, "something odd happened").reason == "onhold"


def test_status_and_reply_are_read_from_the_text_when_absent():
    result = classify(None, None, "smtp; 552 5.2.2 over the limit")
    assert result.reason == "mailboxfull"


def test_batch_equals_single_and_keeps_order():
    items = [
        BounceInput("5.1.1", "550", "user unknown"),
        BounceInput("5.2.2", "552", "mailbox full"),
        BounceInput(None, None, None, "ses", "Transient", "MailboxFull"),
    ] * 50
    batch = classify_many(items)
    assert [r.reason for r in batch[:3]] == ["userunknown", "mailboxfull", "mailboxfull"]
    assert batch == [classify(i.status, i.reply_code, i.diagnostic, i.platform, i.native_type, i.native_subtype) for i in items]


def test_fresh_classifier_uses_the_seeds():
    assert Classifier().classify_many([BounceInput("5.1.2", None, None)])[0].reason == "hostunknown"


def test_bare_550_decides_nothing_and_is_never_hard():
    result = classify(None, "550", "550 sorry")
    assert (result.reason, result.hard) == ("onhold", False)
