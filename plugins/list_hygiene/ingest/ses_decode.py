"""Amazon SES notifications decoded straight into their rows' field texts, for the lines where that is sure.

`specs._ses_records` reads any SES record: it decodes the line and the SNS envelope's `Message` string into
dicts (`json_decode.loads`), walks them and builds one dict per recipient, which `texts` turns into field
texts. That was about half of SES's ingest CPU (6.4 M lines at 1 M contacts). Here msgspec decodes the two
JSON texts into typed structs holding only the members a row reads (the rest is skipped, not built) and the
texts are made from them directly.

`line_texts` gives, for one JSONL line, exactly what `[texts(r) for _, r in _ses_records(json.loads(line))]`
gives, or None whenever it cannot be sure, and the line then takes that path (which also quarantines
what is wrong). It is None for:
- anything msgspec rejects: not JSON as msgspec reads it (NaN, a BOM, lone surrogates), a member of
  another type than the struct says (a number where text is expected, a recipient given as a bare address),
  null where a list is expected;
- what json.loads would reject but msgspec, skipping a member it does not keep, would not: invalid UTF-8
  (checked on lines that are not ASCII), an integer over Python's 4,300-digit limit (lines that long) and
  nesting deeper than json.loads allows (`json_decode`'s rule);
- an event type whose detail object is not one of the members below, and a record without an event type.
"""

from __future__ import annotations

import msgspec

from .json_decode import may_nest_too_deep

#: longer lines take the dict path: an integer json.loads refuses (over 4,300 digits) needs a line this long
_LONGEST = 4300


class _Recipient(msgspec.Struct):
    emailAddress: str | None = None
    action: str | None = None
    status: str | None = None
    diagnosticCode: str | None = None


class _Mail(msgspec.Struct):
    timestamp: str | None = None
    source: str | None = None
    messageId: str | None = None
    destination: list[str] = []
    tags: dict[str, list[str]] | None = None


class _Detail(msgspec.Struct):
    """Any event's detail object (open, click, delivery, bounce, complaint, ...): the members rows read."""

    timestamp: str | None = None
    feedbackId: str | None = None
    userAgent: str | None = None
    ipAddress: str | None = None
    link: str | None = None
    recipients: list[str] = []
    bounceType: str | None = None
    bounceSubType: str | None = None
    bouncedRecipients: list[_Recipient] = []
    complaintFeedbackType: str | None = None
    complainedRecipients: list[_Recipient] = []
    delayedRecipients: list[_Recipient] = []


class _Event(msgspec.Struct):
    """An event record (the SNS `Message`, or a bare record), with every detail member SES writes."""

    eventType: str | None = None
    notificationType: str | None = None
    mail: _Mail | None = None
    send: _Detail | None = None
    delivery: _Detail | None = None
    open: _Detail | None = None
    click: _Detail | None = None
    bounce: _Detail | None = None
    complaint: _Detail | None = None
    reject: _Detail | None = None
    failure: _Detail | None = None
    deliveryDelay: _Detail | None = None
    subscription: _Detail | None = None


class _Line(_Event):
    """A JSONL line: an SNS envelope (Type, MessageId, Message) or a bare event record."""

    Type: str | None = None
    MessageId: str | None = None
    Message: str | None = None


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_event = msgspec.json.Decoder(_Event).decode
#: the detail member an event type's details live in (`_ses_records`: spaces dropped, lower case, two renamed)
_DETAIL = {"renderingfailure": "failure", "deliverydelay": "deliveryDelay"}
_DETAILS = frozenset(f for f in _Event.__struct_fields__ if f not in ("eventType", "notificationType", "mail"))
#: event types (lower case, no spaces) whose recipients are listed in their own member, not in
#: mail.destination: (detail member, list member). `specs._ses_records` reads the same table.
RECIPIENT_LISTS = {
    "bounce": ("bounce", "bouncedRecipients"),
    "complaint": ("complaint", "complainedRecipients"),
    "deliverydelay": ("deliveryDelay", "delayedRecipients"),
}
_NO_DETAIL = _Detail()


def _unsure(data: bytes | str) -> bool:
    """json.loads might reject what msgspec accepts: too long, too deep, or (bytes) not UTF-8."""
    if len(data) > _LONGEST or may_nest_too_deep(data):
        return True
    if isinstance(data, bytes) and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


def line_texts(line: bytes) -> list[list[str | None]] | None:
    """Each recipient row's field texts (SES_EVENTS' field order) of one JSONL line, or None: not sure."""
    if _unsure(line):
        return None
    try:
        doc = _decode_line(line)
        sns_message_id = None
        event: _Event = doc
        if doc.Type == "Notification" and doc.Message is not None:
            if _unsure(doc.Message):
                return None
            event = _decode_event(doc.Message)
            sns_message_id = doc.MessageId
    except (msgspec.MsgspecError, RecursionError):
        return None
    kind = event.eventType or event.notificationType
    mail = event.mail
    if not kind or mail is None:
        return None
    key = kind.replace(" ", "").lower()
    member = _DETAIL.get(key, key)
    if member not in _DETAILS:
        return None
    detail = getattr(event, member) or _NO_DETAIL
    if key in RECIPIENT_LISTS:
        holder, listed = RECIPIENT_LISTS[key]
        recipients = getattr(getattr(event, holder) or _NO_DETAIL, listed)
    else:
        addresses = detail.recipients if key == "delivery" else mail.destination
        recipients = [_Recipient(emailAddress=a) for a in addresses]
    campaign = (mail.tags or {}).get("campaign")
    bounce = event.bounce or _NO_DETAIL
    complaint = event.complaint or _NO_DETAIL
    shared = (mail.messageId, mail.timestamp, detail.timestamp or mail.timestamp, mail.source,
              campaign[0] if campaign else None, bounce.bounceType, bounce.bounceSubType)
    after = (detail.feedbackId, complaint.complaintFeedbackType, detail.userAgent, detail.ipAddress, detail.link,
             sns_message_id)
    return [[kind, r.emailAddress, *shared, r.action, r.status, r.diagnosticCode, *after]
            for r in recipients]
