"""Turn one raw bounce message into one record per bounced recipient.

Real bounces come in four shapes, tried in this order:
  1. ARF complaint reports (RFC 5965 ``message/feedback-report``) and the non-standard complaint
     and unsubscribe messages mailbox providers send;
  2. RFC 3464 delivery status notifications (``message/delivery-status``), one record per
     per-recipient block, with the human-readable part as a fallback for the diagnostic;
  3. RFC 3834 auto-replies (out-of-office), which are not bounces;
  4. everything else: the free-text bounce bodies of Postfix, Exim, Sendmail, qmail, Exchange,
     Gmail, Yahoo, ... read generically (recipient addresses and the text that follows each),
     never by per-MTA templates, so that unseen MTAs still parse.

Only the standard library's email parser is used. Parsing never guesses a reason: it extracts the
status code, reply code and diagnostic text; the classifier (seed rules) decides.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
from dataclasses import asdict, dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr

__all__ = ["BounceRecord", "UnparsableMessage", "parse_message"]


class UnparsableMessage(ValueError):
    """The bytes are not an email message we can read; ``reason`` says why (it goes to quarantine)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass
class BounceRecord:
    """One bounced (or delivered / auto-replying / complaining) recipient of one message."""

    source: str
    recipient: str | None
    status: str | None = None
    reply_code: str | None = None
    diagnostic: str | None = None
    #: bounce, delayed, delivered, feedback or auto_reply: what kind of report this row comes from
    kind: str = "bounce"
    action: str | None = None
    remote_mta: str | None = None
    reporting_mta: str | None = None
    feedback_type: str | None = None
    arrival_date: str | None = None
    last_attempt_date: str | None = None
    subject: str | None = None
    message_id: str | None = None
    #: the SMTP command the error answered (DATA, RCPT TO, ...), when the message says
    smtp_command: str | None = None
    #: the report's own Date header, and the Message-ID of the returned original message (when the
    #: report encloses its headers): the link back to the send that bounced
    message_date: str | None = None
    original_message_id: str | None = None

    #: for the classifier: raw mailbox rows are platform 'mailbox' with the report kind as native_type;
    #: a provider notification found inside a message (SES via SNS e-mail) keeps the provider's codes
    platform: str = "mailbox"
    native_type: str | None = None
    native_subtype: str | None = None

    def __post_init__(self) -> None:
        if self.platform == "mailbox" and self.native_type is None:
            self.native_type = {
                "feedback": "feedback",
                "auto_reply": "auto_reply",
                "delivered": "delivered",
                "delayed": "delayed",
            }.get(self.kind)

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @property
    def event_type(self) -> str:
        return {"feedback": "complaint", "delayed": "deferred"}.get(self.kind, "bounce")


# --------------------------------------------------------------------------------------------- helpers

STATUS_RE = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
REPLY_RE = re.compile(r"(?<![\d.#:/\w])([245][0-5]\d)(?=[ \-]|$)", re.M)
ADDRESS_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~\-]+@[\w\-]+(?:\.[\w\-]+)+", re.U)
SYSTEM_LOCALPARTS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|double-bounce|root|noreply|no-reply)$", re.I)
BOUNCE_SENDER = re.compile(r"mailer-daemon|post_?master|mail delivery|mail-daemon|mailer daemon|delivery subsystem", re.I)
MESSAGE_ID_LABEL_RE = re.compile(r"(?:message-id|msgid|references|in-reply-to)\s*[:=]?\s*<?\s*$", re.I)
CONTACT_LABEL_RE = re.compile(
    r"(?:(?<!not )(?<!n't )(?<!unable to )(?<!failed to )contact|write to|questions to|help from|assistance from)\s*:?\s*<?\s*$",
    re.I,
)
SENDER_LABEL_RE = re.compile(r"(?:^|\s)(?:from|mail from|sender|reply-to|return-path|envelope-from)\s*:?\s*<?\s*$", re.I)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|failed|notification|problem|has failed)|returned mail|"
    r"failure notice|mail delivery|could not (be )?(delivered|send)|delivery report|non.?delivery|"
    r"nicht zustellbar|unzustellbar|non remis|no entregado|rejected|bounce|warning: could not|delayed mail|"
    r"mail system error|error sending|returned to sender|failed delivery",
    re.I,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|auto:|autoreply|out of (the )?office|away from|on vacation|vacation|"
    r"abwesenheit|r[ée]ponse automatique|absence|respuesta autom[aá]tica|risposta automatica|fuera de la oficina|"
    r"resposta autom[aá]tica|automatisch antwoord|afwezig|i am away|i'm away|away until)",
    re.I,
)
ORIGINAL_MESSAGE_RE = re.compile(
    r"^\s*(?:[-=*_#]{2,}.*)?(?:original message|below this line is a copy|this is a copy of the message|"
    r"copy of (the |your )?(original )?message|original message follows|header of the original message|"
    r"returned message|undelivered message|message headers follow|original message headers|"
    r"unsent message below|text of the message|the message you sent|your message reads|included is a copy|"
    r"this is a copy of|part of the original message|headers of your message|message follows)\b.*$",
    re.I | re.M,
)
HEADER_BLOCK_RE = re.compile(
    r"^(?:return-path|received|dkim-signature|domainkey-signature|message-id|x-originating-ip|"
    r"content-type: message/rfc822)\s*:?.*$",
    re.I | re.M,
)
WS_RE = re.compile(r"\s+")
COMMAND_RE = re.compile(
    r"(?:in reply to|after|smtp command[:\s\-]*|while sending|response to|error in|failed at|did not like (?:our )?)"
    r"\s*(?:the )?(?:end of )?(data|rcpt(?: to)?|mail from|helo|ehlo|connect|starttls|auth)\b"
    r"|\[(rcpt_to|mail_from|data)\]"
    # "(Error following RCPT command)", "error following the DATA command"
    r"|following (?:the )?(data|rcpt(?: to)?|mail from|helo|ehlo|starttls|auth) command"
    # qmail-remote's own words: a refusal of the recipient / of the sender, and the furthest stage a
    # failed session reached ("most progress was RCPT TO response")
    r"|does not like (recipient|sender)\b"
    r"|most progress was (rcpt to|mail from|data|helo|ehlo|connect)\b"
    # the server's greeting, before any command: Exim's "SMTP error from remote mail server after initial connection"
    r"|(?:in reply to|after) (?:the )?initial (connection|greeting)\b",
)  # matched against lower-cased text: without re.I the engine skips fast to the alternatives' first letters
#: how _with_command names each command, whatever spelling the report used
COMMAND_NAMES = {
    "RCPT": "RCPT TO",
    "RCPT_TO": "RCPT TO",
    "MAIL_FROM": "MAIL FROM",
    "RECIPIENT": "RCPT TO",
    "SENDER": "MAIL FROM",
    "CONNECTION": "CONNECT",
    "GREETING": "CONNECT",
}
TRANSCRIPT_SEND_RE = re.compile(r">>>\s*(data|rcpt to|mail from|helo|ehlo|starttls|auth)\b")
TRANSCRIPT_ERROR_RE = re.compile(r"<<<\s*[45]\d\d")
#: where Sendmail's transcript of one SMTP session begins ("... while talking to mx.example.com.:")
TRANSCRIPT_SESSION_RE = re.compile(r"while talking to\b")


def _smtp_command(*texts: str | None) -> str | None:
    """The SMTP command the remote server answered with the error, when the text says so."""
    for text in texts:
        if not text:
            continue
        text = text.lower()  # the patterns are lower-case (see COMMAND_RE)
        match = COMMAND_RE.search(text)
        if match:
            command = next(group for group in match.groups() if group).upper()
            return COMMAND_NAMES.get(command, command)
        error = TRANSCRIPT_ERROR_RE.search(text)
        sent = list(TRANSCRIPT_SEND_RE.finditer(text, 0, error.start() if error else len(text)))
        if error:
            sessions = list(TRANSCRIPT_SESSION_RE.finditer(text, 0, error.start()))
            if sessions and not any(command.start() > sessions[-1].start() for command in sent):
                # the session shows the server's error before we sent anything: its greeting refused us
                return "CONNECT"
        if sent:  # the last command we sent before the error (or at all, when the reply is not quoted)
            return sent[-1].group(1).upper()
    return None


def _with_command(diagnostic: str | None, command: str | None) -> str | None:
    """Note the SMTP command in the diagnostic when the message said it elsewhere (the classifier reads it)."""
    if not command or not diagnostic:
        return diagnostic
    if re.search(r"(in reply to|after) (the )?(end of )?" + re.escape(command) + r" command", diagnostic, re.I):
        return diagnostic
    return f"{diagnostic} (in reply to {command} command)"


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = WS_RE.sub(" ", text).strip()
    return text or None


def _decode_header(value: str | None) -> str:
    if not value:
        return ""
    try:
        parts = email.header.decode_header(str(value))
        out = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                out.append(
                    chunk.decode(charset or "utf-8", errors="replace") if _known(charset) else chunk.decode("utf-8", "replace")
                )
            else:
                out.append(chunk)
        return "".join(out)
    except (LookupError, ValueError, email.errors.HeaderParseError):
        return str(value)


def _known(charset: str | None) -> bool:
    if not charset:
        return True
    try:
        "".encode(charset)
        return True
    except LookupError:
        return False


def _part_text(part: Message) -> str:
    """The decoded text of a leaf part, whatever its charset claims (bad charsets fall back safely)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or ""
    for candidate in (charset, "utf-8", "iso-2022-jp", "euc-jp", "shift_jis", "cp1252", "latin-1"):
        if not candidate or not _known(candidate):
            continue
        try:
            return payload.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode("latin-1", errors="replace")


def _html_to_text(text: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return html.unescape(text)


def _addr(value: str | None) -> str | None:
    """The address in a DSN field such as ``rfc822; <user@example.com>``."""
    if not value:
        return None
    value = value.split(";", 1)[1] if ";" in value else value
    value = value.strip().strip("<>").strip()
    match = ADDRESS_RE.search(value)
    return match.group(0).strip(".") if match else (value or None)


def _status_of(*texts: str | None) -> str | None:
    """The first error status (4.x.x/5.x.x) in the texts, else the first success one (2.x.x)."""
    for text in texts:
        if text:
            codes = [match.group(1) for match in STATUS_RE.finditer(text)]
            errors = [code for code in codes if code[0] in "45"]
            if errors or codes:
                return (errors or codes)[0]
    return None


def _reply_of(*texts: str | None) -> str | None:
    """The first SMTP error reply code (4xx/5xx) in the texts, else the first 2xx one."""
    for text in texts:
        if text:
            codes = [match.group(1) for match in REPLY_RE.finditer(text)]
            errors = [code for code in codes if code[0] in "45"]
            if errors or codes:
                return (errors or codes)[0]
    return None


def _has_error_code(text: str | None) -> bool:
    """Whether the text holds an SMTP error: a 4xx/5xx reply or a 4.x.x/5.x.x status."""
    status = _status_of(text)
    reply = _reply_of(text)
    return bool((status and status[0] in "45") or (reply and reply[0] in "45"))


def _best_status(declared: str | None, diagnostic: str | None) -> str | None:
    """A DSN's Status is often a vague x.0.0 / x.y.0 while the diagnostic names the specific code."""
    declared = _status_of(declared)
    found = _status_of(diagnostic)
    if declared is None:
        return found
    if found and declared.endswith(".0") and not found.endswith(".0") and found[0] == declared[0]:
        return found  # x.y.0 says "other"; the remote server's own code is more specific
    return declared


def _strip_diag_type(value: str | None) -> str | None:
    """``smtp; 550 5.1.1 ...`` -> ``550 5.1.1 ...`` (the type names the syntax, not the reason)."""
    if not value:
        return None
    value = _clean(value) or ""
    match = re.match(r"^\s*(smtp|x-[\w\-]+|mta|unix|x400|rfc822)\s*;\s*", value, re.I)
    if match and match.group(1).lower() == "smtp":
        value = value[match.end() :]
    return _unwrap_relay_label(value) or None


# Amazon SES (and relays like it) prefix the remote server's reply with their own generic label:
# "5.1.0 - Unknown address error 550-'5.7.1 ... Access denied' (delivery attempts: 0)". The label
# would mislead the wording rules; the quoted reply is what the recipient's server said.
RELAY_LABEL_RE = re.compile(
    r"^[245]\.\d{1,3}\.\d{1,3} - [^']{3,60}? ([245]\d\d)[- ]'(.+)'(?: \(delivery attempts: \d+\))?$", re.S
)


def _unwrap_relay_label(value: str) -> str:
    match = RELAY_LABEL_RE.match(value)
    if not match:
        return value
    return f"{match.group(1)} {match.group(2)}"


# --------------------------------------------------------------------------------------------- parsing


def _load(raw: bytes, source: str) -> Message:
    if not raw or not raw.strip():
        raise UnparsableMessage(source, "empty message")
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # mbox "From " separator lines are not headers
    if data.startswith(b"From "):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
    except (ValueError, TypeError, LookupError, IndexError, email.errors.MessageError) as exc:
        raise UnparsableMessage(source, f"email parser failed: {exc}") from exc
    if not msg.keys():
        raise UnparsableMessage(source, "no header lines: not an email message")
    return msg


def parse_message(raw: bytes, source: str) -> list[BounceRecord]:
    """Per-recipient records of one message, in the order the recipients appear in it.

    Returns an empty list for a message that is neither a bounce, a complaint, a delivery report
    nor an auto-reply. Raises UnparsableMessage (with the reason) when the bytes cannot be read.
    """
    msg = _load(raw, source)
    try:
        records = _dispatch(msg, source)
        if records:
            enclosed = _enclosed_headers(list(msg.walk()))
            original_id = _clean(enclosed.get("Message-ID")) if enclosed is not None else None
            date = _clean(msg.get("Date"))
            for record in records:
                record.message_date = date
                # an auto-reply (RFC 3834 section 3.1.5) names the message it answers in In-Reply-To
                record.original_message_id = original_id or (
                    _clean(msg.get("In-Reply-To")) if record.kind == "auto_reply" else None
                )
        return records
    except UnparsableMessage:
        raise
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, email.errors.MessageError) as exc:
        raise UnparsableMessage(source, f"unreadable structure: {type(exc).__name__}: {exc}") from exc


def _dispatch(msg: Message, source: str) -> list[BounceRecord]:
    subject = _clean(_decode_header(msg.get("Subject"))) or None
    message_id = _clean(msg.get("Message-ID"))
    parts = list(msg.walk())
    types = [part.get_content_type() for part in parts]

    if "message/feedback-report" in types or msg.get_param("report-type", header="content-type") == "feedback-report":
        records = _parse_arf(msg, parts, source)
        if records:
            return _stamp(records, subject, message_id)
    complaint = _nonstandard_complaint(msg, parts, source, subject)
    if complaint:
        return _stamp(complaint, subject, message_id)

    dsn_types = ("message/delivery-status", "message/global-delivery-status", "text/delivery-status")
    # the report's own status parts; one inside the returned original (a reply to an earlier bounce) is about
    # another message, so the nested ones count only when the report has none of its own (a forwarded bounce)
    dsn_parts = [part for part in _own_parts(msg) if part.get_content_type() in dsn_types] or [
        part for part in parts if part.get_content_type() in dsn_types
    ]
    notification = _unquote_forwarded(_notification_text(msg))
    if dsn_parts:
        records = _parse_dsn(dsn_parts, notification, source)
        if records:
            return _stamp(records, subject, message_id)

    provider = _provider_json(notification, source)
    if provider:
        return _stamp(provider, subject, message_id)
    embedded = _embedded_dsn(notification, source)
    if embedded:
        return _stamp(embedded, subject, message_id)

    list_reply = _list_manager_reply(msg, notification, subject, source)
    if list_reply:
        return _stamp(list_reply, subject, message_id)

    if _is_auto_reply(msg, subject):
        sender = parseaddr(_decode_header(msg.get("From")))[1] or None
        body = _clean(notification[:500])
        return _stamp([BounceRecord(source, sender, diagnostic=body, kind="auto_reply")], subject, message_id)

    return _stamp(_parse_text_bounce(msg, notification, subject, source), subject, message_id)


ENCLOSED_TYPES = ("message/rfc822", "message/global")


def _own_parts(msg: Message) -> list[Message]:
    """The message's parts without descending into enclosed messages (message/rfc822)."""
    out = [msg]
    if msg.get_content_type() in ENCLOSED_TYPES:
        return out
    payload = msg.get_payload() if msg.is_multipart() else None
    for sub in payload or []:
        if isinstance(sub, Message):
            out.extend(_own_parts(sub))
    return out


def _stamp(records: list[BounceRecord], subject: str | None, message_id: str | None) -> list[BounceRecord]:
    for record in records:
        record.subject = subject
        record.message_id = message_id
    return records


# ---------------------------------------------------------------- ARF (RFC 5965) and other complaints


def _fields(text: str) -> list[list[tuple[str, str]]]:
    """Blocks of ``Name: value`` fields separated by blank lines, continuation lines unfolded."""
    blocks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        if line[:1] in (" ", "\t") and current:
            name, value = current[-1]
            current[-1] = (name, value + " " + line.strip())
            continue
        match = re.match(r"^([A-Za-z][\w\-]*)\s*:\s?(.*)$", line)
        if match:
            current.append((match.group(1).lower(), match.group(2).strip()))
        elif current:
            name, value = current[-1]
            current[-1] = (name, value + " " + line.strip())
    if current:
        blocks.append(current)
    return blocks


def _report_text(part: Message) -> str:
    """The text of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for block in payload:
            if isinstance(block, Message):
                lines = [f"{name}: {value}" for name, value in block.items()]
                body = block.get_payload()
                if isinstance(body, str) and body.strip():
                    lines.append(body)
                chunks.append("\n".join(lines))
        return "\n\n".join(chunks)
    return _part_text(part)


def _enclosed_headers(parts: list[Message]) -> Message | None:
    for part in parts:
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind == "text/rfc822-headers":
            return email.message_from_string(_part_text(part), policy=email.policy.compat32)
    return None


def _parse_arf(msg: Message, parts: list[Message], source: str) -> list[BounceRecord]:
    report = next((p for p in parts if p.get_content_type() == "message/feedback-report"), None)
    fields: dict[str, str] = {}
    listed: list[str] = []
    if report is not None:
        for block in _fields(_report_text(report)):
            for name, value in block:
                fields.setdefault(name, value)
                if name in ("original-rcpt-to", "removal-recipient"):
                    address = _addr(value)
                    if address and address.lower() not in (x.lower() for x in listed):
                        listed.append(address)
    enclosed = _enclosed_headers(parts)
    recipients: list[str | None] = list(listed)
    if not recipients and enclosed is not None:
        recipients = [address for _, address in getaddresses(enclosed.get_all("To", []) or []) if address]
    if not recipients:
        recipients = [None]
    feedback_type = (fields.get("feedback-type") or "abuse").strip().lower()
    return [
        BounceRecord(
            source,
            recipient,
            kind="feedback",
            feedback_type=feedback_type,
            diagnostic=_clean(fields.get("feedback-type")),
            arrival_date=fields.get("arrival-date") or fields.get("received-date"),
            remote_mta=fields.get("reporting-mta") or fields.get("source-ip"),
        )
        for recipient in recipients
    ]


def _nonstandard_complaint(msg: Message, parts: list[Message], source: str, subject: str | None) -> list[BounceRecord]:
    """Complaints without an ARF part (Hotmail's old format) and mailto unsubscribe requests (RFC 2369)."""
    subject_lc = (subject or "").lower()
    original_recipient = msg.get("X-HmXmrOriginalRecipient")
    if subject_lc.startswith("complaint about message from") or original_recipient:
        enclosed = _enclosed_headers(parts)
        recipient = _addr(original_recipient) if original_recipient else None
        if recipient is None and enclosed is not None:
            recipient = _addr(enclosed.get("X-HmXmrOriginalRecipient")) or parseaddr(enclosed.get("To", ""))[1] or None
        return [BounceRecord(source, recipient, kind="feedback", feedback_type="abuse", diagnostic=subject)]
    if subject_lc.strip() == "unsubscribe" and not BOUNCE_SENDER.search(msg.get("From", "")):
        sender = parseaddr(_decode_header(msg.get("From")))[1] or None
        return [BounceRecord(source, sender, kind="feedback", feedback_type="opt-out", diagnostic=subject)]
    return []


# ---------------------------------------------------------------- RFC 3464 delivery status notifications

DELIVERED_ACTIONS = {"delivered", "relayed", "expanded", "deliverable"}


def _parse_dsn(dsn_parts: list[Message], notification: str, source: str) -> list[BounceRecord]:
    records: list[BounceRecord] = []
    for part in dsn_parts:
        per_message: dict[str, str] = {}
        for block in _fields(_report_text(part)):
            names = [name for name, _ in block]
            if "final-recipient" not in names and "original-recipient" not in names:
                for name, value in block:
                    per_message.setdefault(name, value)
                continue
            # a block that holds several recipients without blank lines between them
            for fields in _split_recipients(block):
                records.append(_dsn_record(fields, per_message, source))
    body = _cut_original(notification)
    everyone = tuple(r.recipient for r in records if r.recipient)
    chunks = _recipient_chunks(body, list(everyone))
    for record in records:
        _fill_from_text(record, notification, alone=len(records) == 1, others=everyone)
        own = chunks.get((record.recipient or "").lower())
        record.smtp_command = _smtp_command(record.diagnostic, own, body if len(records) <= 1 else None)
        record.diagnostic = _with_command(record.diagnostic, record.smtp_command)
    return records


def _split_recipients(block: list[tuple[str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for name, value in block:
        if name in current and name in ("final-recipient", "original-recipient", "action", "status"):
            out.append(current)
            current = {}
        current.setdefault(name, value)
    if current:
        out.append(current)
    return out


def _dsn_record(fields: dict[str, str], per_message: dict[str, str], source: str) -> BounceRecord:
    recipient = _addr(fields.get("final-recipient")) or _addr(fields.get("original-recipient"))
    if recipient and "@" not in recipient:
        recipient = _addr(fields.get("original-recipient")) or recipient
    raw_diagnostic = fields.get("diagnostic-code")
    diagnostic = _strip_diag_type(raw_diagnostic)
    if not diagnostic:
        # RFC 3464 lets the Status field carry a comment: "4.0.0 (host name lookup failure)"
        comment = re.search(r"\(([^()]*[a-z]{3,}[^()]*)\)", fields.get("status") or "", re.I)
        if comment and not re.fullmatch(r"\s*(permanent|temporary|transient) (failure|error)\s*", comment.group(1), re.I):
            diagnostic = _clean(comment.group(1))
    action = (fields.get("action") or "").strip().lower() or None
    status = _best_status(fields.get("status"), diagnostic)
    kind = "bounce"
    if action in DELIVERED_ACTIONS or (action is None and status and status.startswith("2.")):
        kind = "delivered"
    elif action == "delayed":
        kind = "delayed"
    if raw_diagnostic and raw_diagnostic.lower().startswith("x-unix"):
        diagnostic = _clean(raw_diagnostic)
    return BounceRecord(
        source,
        recipient,
        status=status,
        reply_code=_reply_of(diagnostic),
        diagnostic=diagnostic,
        kind=kind,
        action=action,
        remote_mta=_addr(fields.get("remote-mta")),
        reporting_mta=_addr(per_message.get("reporting-mta")),
        arrival_date=per_message.get("arrival-date") or fields.get("arrival-date"),
        last_attempt_date=fields.get("last-attempt-date"),
    )


def _fill_from_text(record: BounceRecord, notification: str, alone: bool = False, others: tuple[str, ...] = ()) -> None:
    """When the DSN has no useful Diagnostic-Code, read the human-readable part about this recipient.

    ``alone``: the DSN reports this one recipient, so when the text never names it (it names the
    address before aliasing, or a program it was expanded to) the text's error is still about it.
    ``others``: the report's other recipients, where this recipient's text ends.
    """
    useful = record.diagnostic and re.search(r"[a-z]{3,}", re.sub(STATUS_RE, "", record.diagnostic.lower()))
    if useful or not record.recipient:
        return
    body = _cut_original(notification)
    chunks = _recipient_chunks(body, [record.recipient, *others])
    text = chunks.get(record.recipient.lower())
    if not text and alone and _has_error_code(body):
        text = body[:2000]
    elif text and alone:
        # the report explains the one failure in the paragraph just above the recipient's entry
        # ("The user's account is disabled.\n\n<a@example.com>: 550 user unknown")
        text = " ".join(filter(None, [_explanation_before(body, body.find(text)), text]))
    if text:
        record.diagnostic = _clean(" ".join(filter(None, [record.diagnostic, text])))
        record.status = _best_status(record.status, text)
        record.reply_code = record.reply_code or _reply_of(text)


def _explanation_before(body: str, position: int) -> str | None:
    """The last paragraph of the text before ``position`` when it is a short sentence, else None.

    Banners ("----- The following addresses had permanent fatal errors -----") and SMTP transcript
    lines are no explanation.
    """
    if position <= 0:
        return None
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", body[:position]) if part.strip()]
    if not paragraphs:
        return None
    last = _clean(paragraphs[-1]) or ""
    if len(last) > 300 or not re.search(r"[^\W\d_]{3,}.*[.!]\s*$", last) or re.match(r"^[-=*_#<>]", last):
        return None
    return last


def _embedded_dsn(notification: str, source: str) -> list[BounceRecord]:
    """DSN fields pasted into a plain-text body (some providers forward the report that way)."""
    if not re.search(r"^\s*final-recipient\s*:", notification, re.I | re.M) or not re.search(
        r"^\s*(status|action)\s*:", notification, re.I | re.M
    ):
        return []
    text = "\n".join(line.strip() for line in notification.split("\n"))
    blocks = [block for block in _fields(text) if any(name == "final-recipient" for name, _ in block)]
    records = []
    for block in blocks:
        wanted = [
            (n, v)
            for n, v in block
            if n
            in ("final-recipient", "original-recipient", "action", "status", "diagnostic-code", "remote-mta", "last-attempt-date")
        ]
        for fields in _split_recipients(wanted):
            records.append(_dsn_record(fields, {}, source))
    everyone = tuple(r.recipient for r in records if r.recipient)
    for record in records:
        _fill_from_text(record, notification, alone=len(records) == 1, others=everyone)
    return records


def _provider_json(notification: str, source: str) -> list[BounceRecord]:
    """An Amazon SES notification delivered by e-mail (SNS): JSON with notificationType/eventType."""
    start = notification.find("{")
    if start < 0 or not re.search(r"notificationType|eventType", notification):
        return []
    try:
        # mail gateways fold long lines, which breaks JSON strings: unfold before decoding
        payload, _ = json.JSONDecoder().raw_decode(re.sub(r"\r?\n", "", notification[start:]))
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("Message"), str):  # the SNS envelope itself
        try:
            payload = json.loads(payload["Message"])
        except ValueError:
            return []
    kind = str(payload.get("notificationType") or payload.get("eventType") or "").lower()
    records: list[BounceRecord] = []
    if kind == "bounce":
        bounce = payload.get("bounce") or {}
        for item in bounce.get("bouncedRecipients") or []:
            diagnostic = _strip_diag_type(item.get("diagnosticCode"))
            records.append(
                BounceRecord(
                    source,
                    item.get("emailAddress"),
                    status=_best_status(item.get("status"), diagnostic),
                    reply_code=_reply_of(diagnostic),
                    diagnostic=diagnostic,
                    action=item.get("action"),
                    remote_mta=bounce.get("remoteMtaIp"),
                    reporting_mta=bounce.get("reportingMTA"),
                    platform="ses",
                    native_type=str(bounce.get("bounceType") or "").lower() or None,
                    native_subtype=str(bounce.get("bounceSubType") or "").lower() or None,
                )
            )
    elif kind == "complaint":
        complaint = payload.get("complaint") or {}
        for item in complaint.get("complainedRecipients") or []:
            records.append(
                BounceRecord(
                    source,
                    item.get("emailAddress"),
                    kind="feedback",
                    feedback_type=str(complaint.get("complaintFeedbackType") or "abuse").lower(),
                    arrival_date=complaint.get("arrivalDate"),
                )
            )
    elif kind == "delivery":
        delivery = payload.get("delivery") or {}
        response = delivery.get("smtpResponse")
        for address in delivery.get("recipients") or []:
            records.append(
                BounceRecord(
                    source,
                    address,
                    status=_status_of(response),
                    reply_code=_reply_of(response),
                    diagnostic=_clean(response),
                    kind="delivered",
                    remote_mta=delivery.get("remoteMtaIp"),
                    reporting_mta=delivery.get("reportingMTA"),
                )
            )
    return records


# ---------------------------------------------------------------- RFC 3834 auto-replies


def _is_auto_reply(msg: Message, subject: str | None) -> bool:
    sender = msg.get("From", "")
    if BOUNCE_SENDER.search(sender) or BOUNCE_SUBJECT.search(subject or ""):
        return False
    auto = (msg.get("Auto-Submitted") or "").lower()
    if auto.startswith("auto-replied"):
        return True
    if (
        msg.get("X-Autoreply")
        or msg.get("X-Autorespond")
        or msg.get("X-Auto-Response-Suppress")
        and AUTO_REPLY_SUBJECT.search(subject or "")
    ):
        return True
    if (msg.get("Precedence") or "").lower().strip() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.search(subject or ""))


# ---------------------------------------------------------------- mailing-list manager refusals

#: headers that list managers (Mailman, fml, ezmlm, Sympa, ...) put on the mail they write themselves
LIST_MANAGER_HEADERS = (
    "X-MLServer",
    "X-ML-Name",
    "X-ML-Info",
    "X-Mailman-Version",
    "Mailing-List",
    "X-Sympa-To",
    "X-Ezmlm-Version",
)
LIST_REFUSAL_RE = re.compile(
    r"not (a )?member|non-?member|members? only|only (list )?members|not (allowed|authorized|permitted) to post|"
    r"post(ing)? (is )?(restricted|rejected|refused)|loop (alert|detected)|duplicated? message-id",
    re.I,
)
LIST_SERVICE_LOCALPART = re.compile(r"-(ctl|request|admin|owner|help|bounces?)$|^(owner|listserv|majordomo|sympa)(-|$)", re.I)


def _list_manager_reply(msg: Message, notification: str, subject: str | None, source: str) -> list[BounceRecord]:
    """A mailing-list manager refusing the message (sender is not a member, a loop, ...): one record for the list.

    The list manager writes these itself, so they carry no DSN; the address that refused is the list's
    posting address (the one address the text names that is not one of the list's service addresses).
    """
    if not any(msg.get(header) for header in LIST_MANAGER_HEADERS):
        return []
    text = _cut_original(notification)
    if not LIST_REFUSAL_RE.search(f"{subject or ''}\n{text[:2000]}"):
        return []
    excluded = {address.lower() for _, address in getaddresses([msg.get("To", ""), msg.get("From", "")]) if address}
    candidates = [
        address
        for address in _candidate_recipients(f"{subject or ''}\n{text}", excluded)
        if not LIST_SERVICE_LOCALPART.search(address.split("@", 1)[0])
    ]
    recipient = candidates[0] if candidates else parseaddr(msg.get("From", ""))[1] or None
    diagnostic = _clean(" ".join(filter(None, [subject, text[:500]])))
    return [BounceRecord(source, recipient, diagnostic=diagnostic, kind="bounce")]


# ---------------------------------------------------------------- free-text bounces


def _notification_text(msg: Message) -> str:
    """The human-readable text of the report, without the returned original message."""
    texts: list[str] = []
    html_texts: list[str] = []

    def visit(part: Message) -> None:
        kind = part.get_content_type()
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
            return
        if kind in (
            "message/rfc822",
            "message/global",
            "text/rfc822-headers",
            "message/delivery-status",
            "message/feedback-report",
            "message/global-delivery-status",
        ):
            return
        if (part.get("Content-Disposition") or "").lower().startswith("attachment") and kind != "text/plain":
            return
        if kind == "text/plain" or kind == "text" or not kind.startswith(("text/", "message/", "multipart/")):
            if kind.startswith(("image/", "application/", "audio/", "video/")):
                return
            texts.append(_part_text(part))
        elif kind == "text/html":
            html_texts.append(_html_to_text(_part_text(part)))

    if msg.is_multipart():
        visit(msg)
    else:
        kind = msg.get_content_type()
        text = _part_text(msg)
        texts.append(_html_to_text(text) if kind == "text/html" else text)
    text = "\n".join(texts) if any(t.strip() for t in texts) else "\n".join(html_texts)
    if not text.strip():
        text = _raw_body_text(msg)
    return text


QUOTED_LINE_RE = re.compile(r"^[ \t]?> ?", re.M)


def _unquote_forwarded(text: str) -> str:
    """A bounce forwarded inline by a person ("> " before every line): read the quoted report itself.

    Only when most lines are quoted, so the ">>> RCPT TO" / "<<< 550" transcript lines of an ordinary
    report are left alone.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    quoted = [line for line in lines if line.lstrip(" \t").startswith(">") and not line.lstrip().startswith(">>>")]
    if len(quoted) < 5 or len(quoted) * 2 < len(lines):
        return text
    return QUOTED_LINE_RE.sub("", text)


def _raw_body_text(msg: Message) -> str:
    """Last resort for broken MIME (a multipart without usable parts): the body as text, MIME lines dropped."""
    payload = msg.get_payload()
    if isinstance(payload, list):
        payload = "\n".join(part.as_string() for part in payload if isinstance(part, Message))
    lines = [
        line
        for line in str(payload or "").split("\n")
        if not re.match(r"^(--\S+|content-[\w-]+:.*|\s*boundary=.*)$", line.strip(), re.I)
    ]
    return "\n".join(lines)


def _cut_original(text: str) -> str:
    """Drop the returned copy of the original message, which holds addresses that are not recipients."""
    cut = len(text)
    match = ORIGINAL_MESSAGE_RE.search(text)
    if match and match.start() > 0:
        cut = match.start()
    header = HEADER_BLOCK_RE.search(text)
    if header and header.start() > 0:
        cut = min(cut, header.start())
    return text[:cut]


def _candidate_recipients(text: str, excluded: set[str]) -> list[str]:
    seen: list[str] = []
    labelled: set[str] = set()
    for match in ADDRESS_RE.finditer(text):
        address = match.group(0).strip(".-'")
        local = address.split("@", 1)[0]
        lowered = address.lower()
        if lowered in excluded or SYSTEM_LOCALPARTS.match(local):
            continue
        # message ids look like addresses; so do the senders quoted in the report ("From: ...", "MAIL FROM:")
        # and the help addresses of the report's own text ("please contact <postmaster@...>"): an address
        # so labelled once is not a recipient wherever else it appears
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[max(0, match.start() - 20) : match.start()].lower()
        if (
            MESSAGE_ID_LABEL_RE.search(before)
            or SENDER_LABEL_RE.search(text[line_start : match.start()])
            or CONTACT_LABEL_RE.search(before)
        ):
            labelled.add(lowered)
            continue
        if lowered not in (s.lower() for s in seen):
            seen.append(address)
    return [address for address in seen if address.lower() not in labelled]


def _recipient_chunks(text: str, recipients: list[str]) -> dict[str, str]:
    """The text about each recipient: from its first mention to the next mention of another address.

    Another address only ends a chunk where it is a recipient, or where it opens a line (MTAs list
    each failed address at the start of a line, followed by its error).
    """
    lowered = text.lower()
    wanted = {r.lower() for r in recipients}
    marks: list[tuple[int, str]] = []
    for match in ADDRESS_RE.finditer(text):
        address = match.group(0).strip(".-'").lower()
        line_start = lowered.rfind("\n", 0, match.start()) + 1
        opens_line = not re.search(r"[^\s<>\"'(\[]", text[line_start : match.start()])
        if address in wanted or opens_line:
            marks.append((match.start(), address))
    # Sendmail's "550 example.net (smtp)... 550 Host unknown": an entry about another target (a host)
    for match in TARGET_LINE_RE.finditer(text):
        marks.append((match.start(), "host:" + match.group(1).lower()))
    marks.sort()
    chunks: dict[str, str] = {}
    for number, (start, address) in enumerate(marks):
        if address not in wanted or address in chunks:
            continue
        end = len(text)
        for later, other in marks[number + 1 :]:
            if other != address:
                end = _chunk_start(text, later)
                break
        start = _chunk_start(text, start)
        chunks[address] = text[start : max(end, start)]
    return chunks


#: a Sendmail entry line about a host (and the mailer that reached it) rather than an address:
#: "421 mx.example.net (smtp)... Deferred: Connection timed out"
TARGET_LINE_RE = re.compile(
    r"^[245]\d\d (?:[245]\.\d{1,3}\.\d{1,3} )?([a-z0-9][\w\-]*(?:\.[\w\-]+)+) \([\w\-]+\)\.\.\. ", re.I | re.M
)


def _chunk_start(text: str, position: int) -> int:
    """Where the text about the address at ``position`` begins.

    The line's own label before the address belongs to it ("User's mailbox is full: <a@example.com>",
    "554 <a@example.com>... ") unless another address stands there too; so does the SMTP transcript
    just above it (see _transcript_start).
    """
    line_start = text.rfind("\n", 0, position) + 1
    prefix = text[line_start:position]
    if len(prefix) <= 120 and not ADDRESS_RE.search(prefix):
        position = line_start
    return _transcript_start(text, position)


TRANSCRIPT_LINE_RE = re.compile(r"^\s*(?:\.{3} )?(?:while talking to\b|>>>|<<<)", re.I)


def _transcript_start(text: str, position: int) -> int:
    """Where the SMTP transcript that leads to ``position`` begins (Sendmail prints the dialogue
    ("While talking to mx...:", ">>> MAIL From:<...>", "<<< 550 ...") just before the address it is about),
    or the position itself when no transcript lines precede it."""
    line_start = text.rfind("\n", 0, position) + 1
    start = line_start if TRANSCRIPT_LINE_RE.match(text[line_start:position]) else position
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if not TRANSCRIPT_LINE_RE.match(text[previous:line_start]):
            break
        start = line_start = previous
    return start


GENERIC_SUBJECT_WORDS = re.compile(
    r"(?i)\b(mail|message|e-?mail|to|the|your|of|returned|sender|notification|report|status|see|transcript|for|details)\b"
)


def _says_more_than_bounce(subject: str | None) -> bool:
    """Whether a subject holds words beyond the generic "Undelivered Mail Returned to Sender" kind."""
    rest = BOUNCE_SUBJECT.sub(" ", subject or "")
    rest = GENERIC_SUBJECT_WORDS.sub(" ", rest)
    return len(re.findall(r"[^\W\d_]{3,}", rest)) >= 1


def _parse_text_bounce(msg: Message, notification: str, subject: str | None, source: str) -> list[BounceRecord]:
    sender_like = BOUNCE_SENDER.search(msg.get("From", "")) or (msg.get("Return-Path") or "").strip() == "<>"
    body = _cut_original(notification)
    looks_like_bounce = bool(
        sender_like
        or BOUNCE_SUBJECT.search(subject or "")
        or re.search(r"could not be delivered|undeliverable|delivery (has )?failed|permanent error|unable to deliver", body, re.I)
        or (re.search(r"\b[45]\d\d[ -]", body) and re.search(r"error|fail|reject|denied|unknown|invalid", body, re.I))
    )
    if not looks_like_bounce:
        return []
    excluded = {
        address.lower()
        for header in ("To", "From", "Return-Path", "Reply-To", "Sender", "Errors-To", "Delivered-To", "X-Original-To")
        for _, address in getaddresses([_decode_header(v) for v in msg.get_all(header, []) or []])
        if address
    }
    failed_header = msg.get_all("X-Failed-Recipients", []) or []
    recipients = [address for _, address in getaddresses(failed_header) if address]
    if not recipients:
        recipients = _candidate_recipients(body, excluded)
    if not recipients:
        # the returned message's own To: is the last resort
        enclosed = _enclosed_headers(list(msg.walk()))
        if enclosed is not None:
            recipients = [address for _, address in getaddresses(enclosed.get_all("To", []) or []) if address][:1]
    chunks = _recipient_chunks(body, recipients)
    mentions = [body.lower().find(r.lower()) for r in recipients]
    # the text before the first recipient's entry (its own line label belongs to the entry, see _chunk_start)
    preamble_end = min((_chunk_start(body, at) for at in mentions if at >= 0), default=0)
    preamble = body[:preamble_end]
    records = []
    for recipient in recipients or [None]:
        chunk = chunks.get(recipient.lower(), "") if recipient else body
        words = re.sub(ADDRESS_RE, "", chunk)
        if len(re.findall(r"[^\W\d_]{3,}", words)) < 3:
            # the recipient line alone says nothing: the reason is in the text around it; a subject that
            # only says "undelivered" is no reason, so with nothing else the diagnostic stays empty
            if preamble.strip() or chunk.strip() or _says_more_than_bounce(subject):
                chunk = " ".join(filter(None, [subject, preamble, chunk]))
        elif len(recipients) <= 1 and not _has_error_code(chunk) and _has_error_code(preamble):
            # the one recipient is listed after the error (e.g. "Error message below: 550 ... RCPT TO: x")
            chunk = f"{chunk} {preamble}"
        diagnostic = _clean(chunk)
        if diagnostic and len(diagnostic) > 2000:
            diagnostic = diagnostic[:2000]
        # the whole report names the command only for a lone recipient: with several, it may be another's
        command = _smtp_command(diagnostic, body if len(recipients) <= 1 else None)
        diagnostic = _with_command(diagnostic, command)
        records.append(
            BounceRecord(
                source,
                recipient,
                status=_status_of(diagnostic),
                reply_code=_reply_of(diagnostic),
                diagnostic=diagnostic,
                kind="bounce",
                smtp_command=command,
            )
        )
    return records
