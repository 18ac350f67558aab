"""Declared shape of every export the pipeline can land: platform, entity, format and fields.

A spec is data, not code paths: the loader reads any spec the same way. Adding a platform means
adding a spec (and, for nested JSON, a small `records` function that flattens one document).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import json_decode, ses_decode

# field kinds the validator knows (see validate.py)
TEXT, EMAIL, UNIX_TS, ISO_TS, DATETIME, INT, BOOL = "text", "email", "unix_ts", "iso_ts", "datetime", "int", "bool"
UNIX_MS_TS = "unix_ms_ts"  # epoch milliseconds (Zoho)
US_DATETIME = "us_datetime"  # `M/D/YYYY h:mm:ss AM` of SFMC tracking extracts (ISO also accepted)
DATE = "date"  # `YYYY-MM-DD`
TIMESTAMP_KINDS = frozenset({UNIX_TS, UNIX_MS_TS, ISO_TS, DATETIME, US_DATETIME, DATE})
# raw columns the loader adds to every spec with an EMAIL field (normalised address, see emails.py)
EMAIL_NORMALIZED, EMAIL_PROBLEM = "email_normalized", "email_problem"


@dataclass(frozen=True)
class Field:
    """One raw column: `name` in the warehouse, `source` the CSV label or JSON key path (dots)."""

    name: str
    source: str
    kind: str = TEXT
    required: bool = False  # the file fails when a CSV header lacks it
    not_empty: bool = False  # a row with an empty value is quarantined
    min: float | None = None  # impossible values (a negative count, a rating of 9) are quarantined
    max: float | None = None


@dataclass(frozen=True)
class SourceSpec:
    platform: str
    entity: str
    format: str  # "csv" | "json" | "mail" (raw messages, parsed by list_hygiene.bounces)
    fields: tuple[Field, ...]
    description: str
    # JSON only: turn one parsed document (array element, JSONL line or whole file) into flat records
    # of {source path: value}; yields (sub_index, record). Default: the document itself.
    records: Callable[[Any], Iterator[tuple[int, dict]]] | None = None
    # JSON only: a whole-file document whose rows live under a key (e.g. Mailchimp {"emails": [...]})
    keep_extra: bool = True
    # JSON only: the top-level key whose array holds the rows of a whole-file object; a big file is then
    # streamed (json_stream.py) and `records` gets {stream_key: one-pass iterator of the elements}, so it must
    # read nothing else of the document, and be wrapped with `_stream_guarded`
    stream_key: str | None = None
    derived: Callable[[dict, list[str]], dict] | None = field(default=None, repr=False)
    # values taken from the file's path below the entity folder (e.g. SendGrid's suppression list type);
    # raise ValueError to fail the file with a message
    from_path: Callable[[str], dict] | None = field(default=None, repr=False)
    # keys/columns that are known and deliberately not typed: kept in `_extra`, not reported as drift
    known_extra: frozenset[str] = frozenset()
    dedupe_key: str = ""  # documentation: how staging/intermediate deduplicate this source
    # a full snapshot exported again and again (CRM contacts, audience lists): only rows that differ from
    # every row already landed are kept; the rest are counted as `rows_unchanged` in the manifest
    snapshot: bool = False
    # JSONL only, optional: one line straight to its records' field texts, exactly `texts(record)` for each of
    # `records(json.loads(line))` in order, or None where it cannot be sure (the line then takes that path);
    # the batched Python path uses it (loader._load_json_batched)
    line_texts: Callable[[bytes], list[list[str | None]] | None] | None = field(default=None, repr=False)

    @property
    def table(self) -> str:
        return f"{self.platform}__{self.entity}"

    @property
    def email_field(self) -> Field | None:
        return next((f for f in self.fields if f.kind == EMAIL), None)

    @property
    def columns(self) -> list[str]:
        names = [f.name for f in self.fields]
        if self.email_field is not None:
            names += [EMAIL_NORMALIZED, EMAIL_PROBLEM]
        return names

    @functools.cached_property
    def texts(self) -> Callable[[dict], list[str | None]]:
        """A record's field values as text, in field order (`texts_of`)."""
        return texts_of(self.fields)


_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # json.dumps(v, those args)


def _plain_string(item: Any) -> bool:
    """A str json.dumps writes as it is, between quotes: printable ASCII with no quote or backslash."""
    return type(item) is str and item.isascii() and item.isprintable() and '"' not in item and "\\" not in item


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        if not value:  # empty tags, campaigns, variables: common, and json.dumps' set-up costs more than it
            return "[]" if isinstance(value, list) else "{}"
        if type(value) is list and all(map(_plain_string, value)):  # tags, categories: ["newsletter"]
            return '["' + '","'.join(value) + '"]'
        return _compact_json(value)
    return str(value)


def texts_of(fields: tuple[Field, ...]) -> Callable[[dict], list[str | None]]:
    """A function giving a record's value of each field, in field order: the value at the field's `source`
    (a dotted path walks nested objects; None where a step is missing or not an object), as text (`as_text`;
    str values as they are). Made once per spec: the Python ingest path calls it once per record."""
    sources = tuple(f.source for f in fields)
    if not any("." in s for s in sources):
        def flat(record: dict) -> list[str | None]:
            get = record.get
            return [v if (v := get(s)) is None or type(v) is str else as_text(v) for s in sources]
        return flat

    paths = tuple(s if "." not in s else tuple(s.split(".")) for s in sources)

    def nested(record: dict) -> list[str | None]:
        out: list[str | None] = []
        for path in paths:
            if type(path) is str:
                v = record.get(path)
            else:
                v = record
                for part in path:
                    if not isinstance(v, dict):
                        v = None
                        break
                    v = v.get(part)
            out.append(v if v is None or type(v) is str else as_text(v))
        return out
    return nested


_RecordsFn = Callable[[Any], Iterator[tuple[int, dict]]]


def _stream_guarded(records: _RecordsFn) -> _RecordsFn:
    """`records` for a spec with a `stream_key`. A streamed document (json_stream.StreamedDocument) is read
    lazily, after some of its records were loaded, so an error cannot quarantine it as a whole the way the
    loader does for a parsed one: the document turns the error into json_stream.StreamUnsupported (the
    loader reads the file again with json.loads). Any other document gets `records` unchanged."""

    @functools.wraps(records)
    def guarded(doc: Any) -> Iterator[tuple[int, dict]]:
        guard = getattr(doc, "stream_guard", None)
        return records(doc) if guard is None else guard(records(doc))

    return guarded


# ---------------------------------------------------------------- HubSpot
HUBSPOT_CONTACTS = SourceSpec(
    platform="hubspot",
    entity="contacts",
    format="csv",
    description="HubSpot contacts export (CSV, columns by property label).",
    fields=(
        Field("record_id", "Record ID", INT, required=True, not_empty=True),
        Field("email", "Email", EMAIL, required=True, not_empty=True),
        Field("first_name", "First Name"),
        Field("last_name", "Last Name"),
        Field("phone_number", "Phone Number"),
        Field("mobile_phone_number", "Mobile Phone Number"),
        Field("company_name", "Company Name"),
        Field("original_source", "Original Source"),
        Field("lifecycle_stage", "Lifecycle Stage"),
        Field("unsubscribed_from_all_email", "Unsubscribed from all email", BOOL),
        Field("email_hard_bounce_reason", "Email hard bounce reason"),
        Field("invalid_email_address", "Invalid email address", BOOL),
        Field("marketing_emails_bounced", "Marketing emails bounced", INT, min=0),
        Field("email_address_quarantined", "Email address quarantined", BOOL),
        Field("marketing_contact_status", "Marketing contact status"),
        Field("last_marketing_email_send_date", "Last marketing email send date", DATETIME),
        Field("last_marketing_email_open_date", "Last marketing email open date", DATETIME),
        Field("last_marketing_email_click_date", "Last marketing email click date", DATETIME),
        Field("create_date", "Create Date", DATETIME),
        Field("last_modified_date", "Last Modified Date", DATETIME),
        # policy fields (rules 8, 10, 14, 16): company link, postal address, SMS consent, last activity
        Field("associated_company_id", "Associated Company ID"),
        Field("street_address", "Street Address"),
        Field("city", "City"),
        Field("state_region", "State/Region"),
        Field("postal_code", "Postal Code"),
        Field("country_region", "Country/Region"),
        Field("sms_consent", "SMS consent", BOOL),
        Field("last_activity_date", "Last Activity Date", DATETIME),
    ),
    snapshot=True,
    dedupe_key="Record ID; the latest Last Modified Date wins (an export is a snapshot)",
)

# ---------------------------------------------------------------- SendGrid
SENDGRID_EVENTS = SourceSpec(
    platform="sendgrid",
    entity="events",
    format="json",
    description="SendGrid Event Webhook events (JSON array per POST, or JSONL).",
    fields=(
        Field("sg_event_id", "sg_event_id", not_empty=True),
        Field("email", "email", EMAIL, not_empty=True),
        Field("timestamp", "timestamp", UNIX_TS, not_empty=True),
        Field("event", "event", not_empty=True),
        Field("sg_message_id", "sg_message_id"),
        Field("smtp_id", "smtp-id"),
        Field("category", "category"),
        Field("type", "type"),
        Field("status", "status"),
        Field("reason", "reason"),
        Field("response", "response"),
        Field("bounce_classification", "bounce_classification"),
        Field("attempt", "attempt", INT, min=0),
        Field("sg_machine_open", "sg_machine_open", BOOL),
        Field("useragent", "useragent"),
        Field("ip", "ip"),
        Field("url", "url"),
        Field("asm_group_id", "asm_group_id"),
        Field("tls", "tls"),
        Field("marketing_campaign_id", "marketing_campaign_id"),
        Field("marketing_campaign_name", "marketing_campaign_name"),
    ),
    known_extra=frozenset({"sg_template_id", "sg_template_name", "sg_content_type", "pool", "cert_err"}),
    dedupe_key="sg_event_id",
)

# ---------------------------------------------------------------- Mailchimp
_MC_COMMON = (
    Field("email_address", "Email Address", EMAIL, required=True, not_empty=True),
    Field("first_name", "First Name"),
    Field("last_name", "Last Name"),
    Field("address", "Address"),
    Field("phone_number", "Phone Number"),
    Field("birthday", "Birthday"),
    Field("member_rating", "MEMBER_RATING", INT, min=0, max=5),
    Field("optin_time", "OPTIN_TIME", DATETIME),
    Field("optin_ip", "OPTIN_IP"),
    Field("confirm_time", "CONFIRM_TIME", DATETIME),
    Field("confirm_ip", "CONFIRM_IP"),
    Field("latitude", "LATITUDE"),
    Field("longitude", "LONGITUDE"),
    Field("gmtoff", "GMTOFF"),
    Field("dstoff", "DSTOFF"),
    Field("timezone", "TIMEZONE"),
    Field("cc", "CC"),
    Field("region", "REGION"),
    Field("last_changed", "LAST_CHANGED", DATETIME),
    Field("unsub_time", "UNSUB_TIME", DATETIME),
    Field("unsub_campaign_title", "UNSUB_CAMPAIGN_TITLE"),
    Field("unsub_campaign_id", "UNSUB_CAMPAIGN_ID"),
    Field("unsub_reason", "UNSUB_REASON"),
    Field("unsub_reason_other", "UNSUB_REASON_OTHER"),
    Field("clean_time", "CLEAN_TIME", DATETIME),
    Field("clean_campaign_title", "CLEAN_CAMPAIGN_TITLE"),
    Field("clean_campaign_id", "CLEAN_CAMPAIGN_ID"),
    Field("leid", "LEID"),
    Field("euid", "EUID"),
    Field("notes", "NOTES"),
    Field("tags", "TAGS"),
)


def _mailchimp_status(_: dict, header: list[str]) -> dict:
    """The audience export's three files differ only by their system columns."""
    if "UNSUB_TIME" in header:
        return {"member_status": "unsubscribed"}
    if "CLEAN_TIME" in header:
        return {"member_status": "cleaned"}
    return {"member_status": "subscribed"}


MAILCHIMP_MEMBERS = SourceSpec(
    platform="mailchimp",
    entity="members",
    format="csv",
    description="Mailchimp audience export (subscribed / unsubscribed / cleaned CSVs).",
    fields=_MC_COMMON + (Field("member_status", "", TEXT),),
    derived=_mailchimp_status,
    snapshot=True,
    dedupe_key="email; the latest LAST_CHANGED wins",
)


@_stream_guarded
def _mailchimp_campaigns(doc: Any) -> Iterator[tuple[int, dict]]:
    for i, campaign in enumerate(doc.get("campaigns", []) if isinstance(doc, dict) else []):
        yield i + 1, campaign


MAILCHIMP_CAMPAIGNS = SourceSpec(
    platform="mailchimp",
    entity="campaigns",
    format="json",
    description="Mailchimp GET /campaigns response.",
    fields=(
        Field("campaign_id", "id", not_empty=True),
        Field("web_id", "web_id"),
        Field("campaign_type", "type"),
        Field("status", "status"),
        Field("send_time", "send_time", ISO_TS),
        Field("title", "settings.title"),
        Field("subject_line", "settings.subject_line"),
        Field("list_id", "recipients.list_id"),
    ),
    records=_mailchimp_campaigns,
    stream_key="campaigns",
    keep_extra=False,
    dedupe_key="campaign id; the latest load wins",
)


@_stream_guarded
def _mailchimp_activity(doc: Any) -> Iterator[tuple[int, dict]]:
    """One row per activity; a recipient with no activity yields one row with action null (a send)."""
    if not isinstance(doc, dict):
        return
    n = 0
    for email in doc.get("emails", []):
        base = {k: email.get(k) for k in ("campaign_id", "list_id", "email_id", "email_address")}
        n += 1
        yield n, {**base, "action": "sent"}
        for act in email.get("activity") or []:
            n += 1
            yield n, {**base, **act}


MAILCHIMP_EMAIL_ACTIVITY = SourceSpec(
    platform="mailchimp",
    entity="email_activity",
    format="json",
    description="Mailchimp GET /reports/{campaign_id}/email-activity response.",
    fields=(
        Field("campaign_id", "campaign_id", not_empty=True),
        Field("list_id", "list_id"),
        Field("email_id", "email_id"),
        Field("email_address", "email_address", EMAIL, not_empty=True),
        Field("action", "action", not_empty=True),
        Field("bounce_type", "type"),
        Field("timestamp", "timestamp", ISO_TS),
        Field("url", "url"),
        Field("ip", "ip"),
    ),
    records=_mailchimp_activity,
    stream_key="emails",
    keep_extra=False,
    dedupe_key="md5(campaign_id|email|action|timestamp|url) (no event id)",
)

# ---------------------------------------------------------------- Amazon SES
_SES_RECIPIENTS = ses_decode.RECIPIENT_LISTS


def _ses_records(doc: Any) -> Iterator[tuple[int, dict]]:
    """SNS envelope (Message is a JSON string) or a bare event record; one row per recipient."""
    if not isinstance(doc, dict):
        raise ValueError("SES record is not a JSON object")
    inner = doc
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        inner = json_decode.loads(doc["Message"])
    kind = inner.get("eventType") or inner.get("notificationType")
    if not kind:
        raise ValueError("SES record has neither eventType nor notificationType")
    mail = inner.get("mail") or {}
    key = kind.replace(" ", "").lower()
    detail_key = {"renderingfailure": "failure", "deliverydelay": "deliveryDelay"}.get(key, key)
    detail = inner.get(detail_key) or {}
    recipients: list[dict]
    if key in _SES_RECIPIENTS:
        obj, arr = _SES_RECIPIENTS[key]
        recipients = [r if isinstance(r, dict) else {"emailAddress": r} for r in (inner.get(obj) or {}).get(arr, [])]
    elif key == "delivery":
        recipients = [{"emailAddress": r} for r in detail.get("recipients", [])]
    else:
        recipients = [{"emailAddress": r} for r in mail.get("destination", [])]
    tags = mail.get("tags") or {}
    campaign = (tags.get("campaign") or [None])[0] if isinstance(tags, dict) else None
    bounce = inner.get("bounce") or {}
    complaint = inner.get("complaint") or {}
    for i, rcpt in enumerate(recipients):
        yield i + 1, {
            "event_type": kind,
            "email": rcpt.get("emailAddress"),
            "message_id": mail.get("messageId"),
            "mail_timestamp": mail.get("timestamp"),
            "event_timestamp": detail.get("timestamp") or mail.get("timestamp"),
            "source": mail.get("source"),
            "campaign": campaign,
            "bounce_type": bounce.get("bounceType"),
            "bounce_subtype": bounce.get("bounceSubType"),
            "action": rcpt.get("action"),
            "status": rcpt.get("status"),
            "diagnostic_code": rcpt.get("diagnosticCode"),
            "feedback_id": detail.get("feedbackId"),
            "complaint_feedback_type": complaint.get("complaintFeedbackType"),
            "user_agent": detail.get("userAgent"),
            "ip_address": detail.get("ipAddress"),
            "link": detail.get("link"),
            "sns_message_id": doc.get("MessageId") if doc is not inner else None,
        }


SES_EVENTS = SourceSpec(
    platform="ses",
    entity="events",
    format="json",
    description="Amazon SES notifications / event publishing records (SNS envelopes), JSONL.",
    fields=(
        Field("event_type", "event_type", not_empty=True),
        Field("email", "email", EMAIL, not_empty=True),
        Field("message_id", "message_id", not_empty=True),
        Field("mail_timestamp", "mail_timestamp", ISO_TS),
        Field("event_timestamp", "event_timestamp", ISO_TS, not_empty=True),
        Field("source", "source"),
        Field("campaign", "campaign"),
        Field("bounce_type", "bounce_type"),
        Field("bounce_subtype", "bounce_subtype"),
        Field("action", "action"),
        Field("status", "status"),
        Field("diagnostic_code", "diagnostic_code"),
        Field("feedback_id", "feedback_id"),
        Field("complaint_feedback_type", "complaint_feedback_type"),
        Field("user_agent", "user_agent"),
        Field("ip_address", "ip_address"),
        Field("link", "link"),
        Field("sns_message_id", "sns_message_id"),
    ),
    records=_ses_records,
    line_texts=ses_decode.line_texts,
    keep_extra=False,
    dedupe_key="message id + event type + recipient + event time (SNS MessageId changes on redelivery)",
)

# ---------------------------------------------------------------- SendGrid suppression lists
_SG_LISTS = ("bounces", "blocks", "invalid_emails", "spam_reports", "unsubscribes")


def _sendgrid_list_from_path(rel: str) -> dict:
    """`suppressions/<list>/<file>.json` or a file named after the list (`bounces_2026-08-01.json`)."""
    parts = rel.lower().replace("-", "_").split("/")
    for part in parts[2:]:
        for name in _SG_LISTS:
            if part.startswith(name) or part.startswith(name.replace("_", "")):
                return {"suppression_list": name}
    raise ValueError(
        "cannot tell which suppression list this is: put it under sendgrid/suppressions/<list>/ or name the file "
        f"<list>_….json, with <list> one of {', '.join(_SG_LISTS)}"
    )


SENDGRID_SUPPRESSIONS = SourceSpec(
    platform="sendgrid",
    entity="suppressions",
    format="json",
    description="SendGrid GET /v3/suppression/{bounces|blocks|invalid_emails|spam_reports|unsubscribes} responses.",
    fields=(
        Field("email", "email", EMAIL, not_empty=True),
        Field("created", "created", UNIX_TS, not_empty=True),
        Field("reason", "reason"),
        Field("status", "status"),
        Field("ip", "ip"),
        Field("suppression_list", "suppression_list", not_empty=True),
    ),
    from_path=_sendgrid_list_from_path,
    snapshot=True,
    dedupe_key="suppression list + email (the list holds one row per address; the latest `created` wins)",
)

# ---------------------------------------------------------------- Postmark
@_stream_guarded
def _postmark_bounces(doc: Any) -> Iterator[tuple[int, dict]]:
    """GET /bounces response ({TotalCount, Bounces: [...]}) or bare bounce objects."""
    if isinstance(doc, dict) and "Bounces" in doc:
        for i, b in enumerate(doc.get("Bounces") or []):
            yield i + 1, b
    else:
        yield 0, doc


POSTMARK_BOUNCES = SourceSpec(
    platform="postmark",
    entity="bounces",
    format="json",
    description="Postmark Bounces API (GET /bounces) responses.",
    fields=(
        Field("bounce_id", "ID", not_empty=True),
        Field("type", "Type", not_empty=True),
        Field("type_code", "TypeCode", INT, min=0),
        Field("name", "Name"),
        Field("tag", "Tag"),
        Field("message_id", "MessageID"),
        Field("server_id", "ServerID"),
        Field("message_stream", "MessageStream"),
        Field("description", "Description"),
        Field("details", "Details"),
        Field("email", "Email", EMAIL, not_empty=True),
        Field("from_address", "From"),
        Field("bounced_at", "BouncedAt", ISO_TS, not_empty=True),
        Field("dump_available", "DumpAvailable", BOOL),
        Field("inactive", "Inactive", BOOL),
        Field("can_activate", "CanActivate", BOOL),
        Field("subject", "Subject"),
    ),
    records=_postmark_bounces,
    stream_key="Bounces",
    known_extra=frozenset({"Content", "RecordType", "Metadata"}),
    dedupe_key="bounce ID (shared with the Bounce/SpamComplaint webhooks)",
)

_PM_TIME = {"Bounce": "BouncedAt", "SpamComplaint": "BouncedAt", "SubscriptionChange": "ChangedAt",
            "Delivery": "DeliveredAt", "Open": "ReceivedAt", "Click": "ReceivedAt"}


def _postmark_webhook(doc: Any) -> Iterator[tuple[int, dict]]:
    """One webhook POST body (object) per record; `RecordType` says which."""
    if not isinstance(doc, dict):
        raise ValueError("Postmark webhook record is not a JSON object")
    kind = doc.get("RecordType")
    if kind not in _PM_TIME:
        raise ValueError(f"unknown Postmark RecordType {kind!r}")
    yield 0, {
        **doc,
        "_recipient": doc.get("Email") or doc.get("Recipient"),
        "_occurred_at": doc.get(_PM_TIME[kind]),
        "_user_agent": doc.get("UserAgent"),
        "_url": doc.get("OriginalLink"),
    }


POSTMARK_EVENTS = SourceSpec(
    platform="postmark",
    entity="events",
    format="json",
    description="Postmark webhooks: Bounce, SpamComplaint, SubscriptionChange, Delivery, Open, Click (one object per POST).",
    fields=(
        Field("record_type", "RecordType", not_empty=True),
        Field("bounce_id", "ID"),
        Field("message_id", "MessageID"),
        Field("message_stream", "MessageStream"),
        Field("recipient", "_recipient", EMAIL, not_empty=True),
        Field("occurred_at", "_occurred_at", ISO_TS, not_empty=True),
        Field("type", "Type"),
        Field("type_code", "TypeCode", INT, min=0),
        Field("description", "Description"),
        Field("details", "Details"),
        Field("tag", "Tag"),
        Field("origin", "Origin"),
        Field("suppress_sending", "SuppressSending", BOOL),
        Field("suppression_reason", "SuppressionReason"),
        Field("first_open", "FirstOpen", BOOL),
        Field("user_agent", "_user_agent"),
        Field("url", "_url"),
        Field("metadata", "Metadata"),
    ),
    records=_postmark_webhook,
    known_extra=frozenset({
        "Email", "Recipient", "BouncedAt", "ChangedAt", "DeliveredAt", "ReceivedAt", "UserAgent", "OriginalLink", "Name",
        "ServerID", "From", "DumpAvailable", "Inactive", "CanActivate", "Subject", "Content", "Platform", "ReadSeconds",
        "Geo", "OS", "Client", "ClickLocation",
    }),
    dedupe_key="bounce ID for Bounce/SpamComplaint; else RecordType + MessageID + recipient + time (+ link)",
)

# ---------------------------------------------------------------- Mailgun
@_stream_guarded
def _mailgun_events(doc: Any) -> Iterator[tuple[int, dict]]:
    """Events API page ({items, paging}), a webhook body ({signature, event-data}) or a bare event."""
    if not isinstance(doc, dict):
        raise ValueError("Mailgun record is not a JSON object")
    if "items" in doc:
        for i, item in enumerate(doc.get("items") or []):
            yield i + 1, item
    elif "event-data" in doc:
        yield 0, doc["event-data"]
    else:
        yield 0, doc


MAILGUN_EVENTS = SourceSpec(
    platform="mailgun",
    entity="events",
    format="json",
    description="Mailgun Events API pages, webhook bodies or one event per JSONL line.",
    fields=(
        Field("event_id", "id", not_empty=True),
        Field("event", "event", not_empty=True),
        Field("timestamp", "timestamp", UNIX_TS, not_empty=True),
        Field("log_level", "log-level"),
        Field("severity", "severity"),
        Field("reason", "reason"),
        Field("recipient", "recipient", EMAIL, not_empty=True),
        Field("status_code", "delivery-status.code"),
        Field("enhanced_code", "delivery-status.enhanced-code"),
        Field("status_message", "delivery-status.message"),
        Field("status_description", "delivery-status.description"),
        Field("attempt_no", "delivery-status.attempt-no", INT, min=0),
        Field("message_id", "message.headers.message-id"),
        Field("subject", "message.headers.subject"),
        Field("tags", "tags"),
        Field("campaigns", "campaigns"),
        Field("user_variables", "user-variables"),
        Field("url", "url"),
        Field("ip", "ip"),
        Field("user_agent", "client-info.user-agent"),
    ),
    records=_mailgun_events,
    stream_key="items",
    known_extra=frozenset({"recipient-domain", "envelope", "flags", "storage", "geolocation", "method", "recipient-provider"}),
    dedupe_key="event id + UTC day (Mailgun ids are unique within a day)",
)

# ---------------------------------------------------------------- Salesforce Marketing Cloud tracking extracts
_SFMC_COMMON = (
    Field("client_id", "ClientID"),
    Field("send_id", "SendID", required=True),
    Field("subscriber_key", "SubscriberKey"),
    Field("email_address", "EmailAddress", EMAIL, required=True, not_empty=True),
    Field("subscriber_id", "SubscriberID"),
    Field("list_id", "ListID"),
    Field("event_date", "EventDate", US_DATETIME, required=True, not_empty=True),
    Field("event_type", "EventType"),
    Field("batch_id", "BatchID"),
    Field("triggered_send_external_key", "TriggeredSendExternalKey"),
)


def _sfmc(entity: str, extra: tuple[Field, ...] = (), what: str = "") -> SourceSpec:
    return SourceSpec(
        platform="sfmc",
        entity=entity,
        format="csv",
        description=f"Salesforce Marketing Cloud tracking extract {what} (CSV; EventDate in the account's time, CST).",
        fields=_SFMC_COMMON + extra,
        known_extra=frozenset({"IsUnique", "Domain"}),
        dedupe_key="SendID + BatchID + SubscriberKey (else address) + EventDate" + (" + URLID/URL" if entity == "clicks" else ""),
    )


SFMC_SENDS = _sfmc("sends", what="Sent")
SFMC_OPENS = _sfmc("opens", what="Opens")
SFMC_CLICKS = _sfmc(
    "clicks",
    (Field("send_url_id", "SendURLID"), Field("url_id", "URLID"), Field("url", "URL"), Field("alias", "Alias")),
    "Clicks",
)
SFMC_BOUNCES = _sfmc(
    "bounces",
    (Field("bounce_category", "BounceCategory"), Field("smtp_code", "SMTPCode", INT, min=0, max=999),
     Field("bounce_reason", "BounceReason")),
    "Bounces",
)
SFMC_UNSUBSCRIBES = _sfmc("unsubscribes", what="Unsubs")
SFMC_COMPLAINTS = _sfmc("complaints", what="Complaints")

# ---------------------------------------------------------------- Zoho (ZeptoMail / Campaigns Email API webhooks)
def _zoho_events(doc: Any) -> Iterator[tuple[int, dict]]:
    """{webhook_name, webhook_id, action, actionType, data: [...]}: one row per `data` item."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise ValueError("Zoho webhook body has no `data` array")
    top = {k: doc.get(k) for k in ("webhook_id", "action", "actionType", "action_by")}
    for i, item in enumerate(doc["data"]):
        if not isinstance(item, dict):
            raise ValueError(f"Zoho `data[{i}]` is not an object")
        yield i + 1, {**item, "_action": item.get("action") or top["action"],
                      "_action_type": item.get("actionType") or top["actionType"],
                      "_action_by": item.get("action_by") or top["action_by"], "_webhook_id": top["webhook_id"]}


ZOHO_EVENTS = SourceSpec(
    platform="zoho",
    entity="events",
    format="json",
    description="Zoho email webhooks (bounce / unsubscribe), one POST body per file, array or JSONL line.",
    fields=(
        Field("webhook_id", "_webhook_id"),
        Field("action", "_action", not_empty=True),
        Field("action_type", "_action_type"),
        Field("action_by", "_action_by"),
        Field("bounce_code", "bounce_code"),
        Field("bounce_type", "bounce_type"),
        Field("bounce_extended_code", "bounce_extended_code"),
        Field("bounce_reason", "bounce_reason"),
        Field("action_time", "action_time", UNIX_MS_TS, not_empty=True),
        Field("sending_ip", "sending_ip"),
        Field("contact_id", "contact_id"),
        Field("contact_email", "contact_email", EMAIL, not_empty=True),
        Field("rcpt_domain", "rcpt_domain"),
        Field("rcpt_additional_data", "rcpt_additional_data"),
        Field("transmission_name", "transmission_name"),
        Field("transmission_id", "transmission_id"),
        Field("injected_time", "injected_time", UNIX_MS_TS),
    ),
    records=_zoho_events,
    known_extra=frozenset({"zuid", "action", "actionType", "action_by"}),
    dedupe_key="transmission_id + contact_email + action + action_time (no event id)",
)

# ---------------------------------------------------------------- HubSpot companies
HUBSPOT_COMPANIES = SourceSpec(
    platform="hubspot",
    entity="companies",
    format="csv",
    description="HubSpot companies export (CSV, columns by property label).",
    fields=(
        Field("record_id", "Record ID", INT, required=True, not_empty=True),
        Field("company_name", "Company name"),
        Field("company_domain_name", "Company Domain Name"),
        Field("company_type", "Type"),
        Field("industry", "Industry"),
        Field("lifecycle_stage", "Lifecycle Stage"),
        Field("company_status", "Company status"),
        Field("street_address", "Street Address"),
        Field("city", "City"),
        Field("state_region", "State/Region"),
        Field("postal_code", "Postal Code"),
        Field("country_region", "Country/Region"),
        Field("phone_number", "Phone Number"),
        Field("number_of_employees", "Number of Employees", INT, min=0),
        Field("last_activity_date", "Last Activity Date", DATETIME),
        Field("create_date", "Create Date", DATETIME),
        Field("last_modified_date", "Last Modified Date", DATETIME),
    ),
    snapshot=True,
    dedupe_key="Record ID; the latest Last Modified Date wins",
)

# ---------------------------------------------------------------- Salesforce (Data Loader / Bulk API 2.0 query CSV, API names)
_SF_PERSON = (
    Field("email", "Email", EMAIL, required=True, not_empty=True),
    Field("first_name", "FirstName"),
    Field("last_name", "LastName"),
    Field("title", "Title"),
    Field("phone", "Phone"),
    Field("mobile_phone", "MobilePhone"),
    Field("lead_source", "LeadSource"),
    Field("has_opted_out_of_email", "HasOptedOutOfEmail", BOOL),
    Field("is_email_bounced", "IsEmailBounced", BOOL),
    Field("email_bounced_reason", "EmailBouncedReason"),
    Field("email_bounced_date", "EmailBouncedDate", ISO_TS),
    Field("sms_opt_in", "SMS_Opt_In__c", BOOL),
    Field("last_activity_date", "LastActivityDate", DATE),
    Field("created_date", "CreatedDate", ISO_TS),
    Field("last_modified_date", "LastModifiedDate", ISO_TS),
)

SALESFORCE_CONTACTS = SourceSpec(
    platform="salesforce",
    entity="contacts",
    format="csv",
    description="Salesforce Contact export (CSV, header = API field names).",
    fields=(
        Field("contact_id", "Id", required=True, not_empty=True),
        Field("account_id", "AccountId"),
        *_SF_PERSON,
        Field("mailing_street", "MailingStreet"),
        Field("mailing_city", "MailingCity"),
        Field("mailing_state", "MailingState"),
        Field("mailing_postal_code", "MailingPostalCode"),
        Field("mailing_country", "MailingCountry"),
    ),
    snapshot=True,
    dedupe_key="Id; the latest LastModifiedDate wins",
)

SALESFORCE_LEADS = SourceSpec(
    platform="salesforce",
    entity="leads",
    format="csv",
    description="Salesforce Lead export (CSV, header = API field names).",
    fields=(
        Field("lead_id", "Id", required=True, not_empty=True),
        *_SF_PERSON,
        Field("company", "Company"),
        Field("status", "Status"),
        Field("is_converted", "IsConverted", BOOL),
        Field("converted_contact_id", "ConvertedContactId"),
        Field("street", "Street"),
        Field("city", "City"),
        Field("state", "State"),
        Field("postal_code", "PostalCode"),
        Field("country", "Country"),
    ),
    snapshot=True,
    dedupe_key="Id; the latest LastModifiedDate wins",
)

SALESFORCE_ACCOUNTS = SourceSpec(
    platform="salesforce",
    entity="accounts",
    format="csv",
    description="Salesforce Account export (CSV, header = API field names).",
    fields=(
        Field("account_id", "Id", required=True, not_empty=True),
        Field("name", "Name"),
        Field("account_type", "Type"),
        Field("industry", "Industry"),
        Field("website", "Website"),
        Field("company_status", "Company_Status__c"),
        Field("billing_street", "BillingStreet"),
        Field("billing_city", "BillingCity"),
        Field("billing_state", "BillingState"),
        Field("billing_postal_code", "BillingPostalCode"),
        Field("billing_country", "BillingCountry"),
        Field("number_of_employees", "NumberOfEmployees", INT, min=0),
        Field("last_activity_date", "LastActivityDate", DATE),
        Field("created_date", "CreatedDate", ISO_TS),
        Field("last_modified_date", "LastModifiedDate", ISO_TS),
    ),
    snapshot=True,
    dedupe_key="Id; the latest LastModifiedDate wins",
)

# ---------------------------------------------------------------- Pipedrive (API v1 list responses)
@_stream_guarded
def _pipedrive_data(doc: Any) -> Iterator[tuple[int, dict]]:
    """`{"success": true, "data": [...], "additional_data": {...}}` pages, or bare objects."""
    if isinstance(doc, dict) and "data" in doc:
        items = doc.get("data") or []
        if not isinstance(items, list | Iterator):  # an Iterator: the streamed array (json_stream.py)
            raise ValueError("Pipedrive `data` is not an array")
        yield from ((i + 1, _pipedrive_flat(x)) for i, x in enumerate(items))
    else:
        yield 0, _pipedrive_flat(doc)


def _pick_labeled(values: Any, label: str | None = None) -> Any:
    """Pipedrive email/phone arrays [{label, value, primary}]: the one with `label`, else the primary one."""
    if not isinstance(values, list):
        return values
    items = [v for v in values if isinstance(v, dict) and v.get("value")]
    if label is not None:
        return next((v["value"] for v in items if v.get("label") == label), None)
    return next((v["value"] for v in items if v.get("primary")), items[0]["value"] if items else None)


def _pipedrive_flat(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    org = obj.get("org_id")
    return {
        **obj,
        "_email": _pick_labeled(obj.get("email") if "email" in obj else obj.get("emails")),
        "_phone": _pick_labeled(obj.get("phone") if "phone" in obj else obj.get("phones")),
        "_mobile": _pick_labeled(obj.get("phone") if "phone" in obj else obj.get("phones"), "mobile"),
        "_org_id": org.get("value") if isinstance(org, dict) else org,
        "_org_name": org.get("name") if isinstance(org, dict) else obj.get("org_name"),
    }


PIPEDRIVE_PERSONS = SourceSpec(
    platform="pipedrive",
    entity="persons",
    format="json",
    description="Pipedrive GET /v1/persons pages (custom fields keep their API keys, in _extra).",
    fields=(
        Field("person_id", "id", not_empty=True),
        Field("name", "name"),
        Field("first_name", "first_name"),
        Field("last_name", "last_name"),
        Field("email", "_email", EMAIL, not_empty=True),
        Field("emails", "email"),
        Field("phone", "_phone"),
        Field("mobile_phone", "_mobile"),
        Field("org_id", "_org_id"),
        Field("org_name", "_org_name"),
        Field("marketing_status", "marketing_status"),
        Field("sms_consent", "sms_consent", BOOL),
        Field("lead_source", "lead_source"),
        Field("postal_address", "postal_address"),
        Field("postal_address_route", "postal_address_route"),
        Field("postal_address_street_number", "postal_address_street_number"),
        Field("postal_address_locality", "postal_address_locality"),
        Field("postal_address_admin_area_level_1", "postal_address_admin_area_level_1"),
        Field("postal_address_postal_code", "postal_address_postal_code"),
        Field("postal_address_country", "postal_address_country"),
        Field("active_flag", "active_flag", BOOL),
        Field("last_activity_date", "last_activity_date", DATE),
        Field("add_time", "add_time", DATETIME),
        Field("update_time", "update_time", DATETIME),
    ),
    records=_pipedrive_data,
    stream_key="data",
    known_extra=frozenset({
        "phone", "phones", "emails", "org_id", "org_name", "owner_id", "owner_name", "company_id", "label", "label_ids",
        "picture_id",
        "visible_to", "cc_email", "open_deals_count", "closed_deals_count", "won_deals_count", "lost_deals_count",
        "activities_count", "done_activities_count", "undone_activities_count", "email_messages_count",
        "files_count", "notes_count", "followers_count", "participant_open_deals_count",
        "participant_closed_deals_count", "related_open_deals_count", "related_closed_deals_count",
        "related_won_deals_count", "related_lost_deals_count", "next_activity_date", "next_activity_time",
        "next_activity_id", "last_activity_id", "last_incoming_mail_time", "last_outgoing_mail_time", "first_char",
        "primary_email", "im", "birthday", "job_title", "notes", "delete_time", "postal_address_subpremise",
        "postal_address_sublocality", "postal_address_admin_area_level_2", "postal_address_formatted_address",
    }),
    snapshot=True,
    dedupe_key="person id; the latest update_time wins",
)

PIPEDRIVE_ORGANIZATIONS = SourceSpec(
    platform="pipedrive",
    entity="organizations",
    format="json",
    description="Pipedrive GET /v1/organizations pages.",
    fields=(
        Field("org_id", "id", not_empty=True),
        Field("name", "name"),
        Field("company_status", "company_status"),
        Field("label", "label"),
        Field("address", "address"),
        Field("address_route", "address_route"),
        Field("address_street_number", "address_street_number"),
        Field("address_locality", "address_locality"),
        Field("address_admin_area_level_1", "address_admin_area_level_1"),
        Field("address_postal_code", "address_postal_code"),
        Field("address_country", "address_country"),
        Field("active_flag", "active_flag", BOOL),
        Field("people_count", "people_count", INT, min=0),
        Field("last_activity_date", "last_activity_date", DATE),
        Field("add_time", "add_time", DATETIME),
        Field("update_time", "update_time", DATETIME),
    ),
    records=_pipedrive_data,
    stream_key="data",
    known_extra=frozenset({
        "owner_id", "owner_name", "company_id", "label_ids", "picture_id", "visible_to", "cc_email", "country_code",
        "open_deals_count", "closed_deals_count", "won_deals_count", "lost_deals_count", "activities_count",
        "done_activities_count", "undone_activities_count", "email_messages_count", "files_count", "notes_count",
        "followers_count", "related_open_deals_count", "related_closed_deals_count", "related_won_deals_count",
        "related_lost_deals_count", "next_activity_date", "next_activity_time", "next_activity_id",
        "last_activity_id", "first_char", "delete_time", "address_subpremise", "address_sublocality",
        "address_admin_area_level_2", "address_formatted_address",
        "_email", "_phone", "_mobile", "_org_id", "_org_name",
    }),
    snapshot=True,
    dedupe_key="organization id; the latest update_time wins",
)

# ---------------------------------------------------------------- Raw bounce mailbox (.eml / mbox / maildir files)
# format "mail": the loader parses each message with list_hygiene.bounces.dsn.parse_message (loader._load_mail);
# a row is one bounced (complaining, auto-replying, ...) recipient, keyed by the message's hash + recipient index.
MAILBOX_MESSAGES = SourceSpec(
    platform="mailbox",
    entity="messages",
    format="mail",
    description="Raw bounce messages (DSNs, MTA bounce texts, ARF reports, auto-replies): .eml, mbox or maildir files.",
    fields=(
        Field("message_hash", "message_hash", not_empty=True),
        Field("recipient_index", "recipient_index", INT, not_empty=True, min=1),
        Field("recipient", "recipient", EMAIL, not_empty=True),
        Field("report_kind", "kind", not_empty=True),
        Field("platform", "platform", not_empty=True),
        Field("event_type", "event_type", not_empty=True),
        Field("native_type", "native_type"),
        Field("native_subtype", "native_subtype"),
        Field("status", "status"),
        Field("reply_code", "reply_code"),
        Field("diagnostic", "diagnostic"),
        Field("action", "action"),
        Field("smtp_command", "smtp_command"),
        Field("remote_mta", "remote_mta"),
        Field("reporting_mta", "reporting_mta"),
        Field("feedback_type", "feedback_type"),
        Field("occurred_at", "occurred_at", ISO_TS, not_empty=True),
        Field("arrival_date", "arrival_date"),
        Field("last_attempt_date", "last_attempt_date"),
        Field("message_date", "message_date"),
        Field("report_message_id", "message_id"),
        Field("original_message_id", "original_message_id"),
        Field("subject", "subject"),
    ),
    keep_extra=False,
    dedupe_key="message hash (SHA-256 of the message bytes) + recipient index: the same message landed twice is one event",
)

SPECS: dict[tuple[str, str], SourceSpec] = {
    (s.platform, s.entity): s
    for s in (
        HUBSPOT_CONTACTS,
        SENDGRID_EVENTS,
        MAILCHIMP_MEMBERS,
        MAILCHIMP_CAMPAIGNS,
        MAILCHIMP_EMAIL_ACTIVITY,
        SES_EVENTS,
        SENDGRID_SUPPRESSIONS,
        POSTMARK_BOUNCES,
        POSTMARK_EVENTS,
        MAILGUN_EVENTS,
        SFMC_SENDS,
        SFMC_OPENS,
        SFMC_CLICKS,
        SFMC_BOUNCES,
        SFMC_UNSUBSCRIBES,
        SFMC_COMPLAINTS,
        ZOHO_EVENTS,
        HUBSPOT_COMPANIES,
        SALESFORCE_CONTACTS,
        SALESFORCE_LEADS,
        SALESFORCE_ACCOUNTS,
        PIPEDRIVE_PERSONS,
        PIPEDRIVE_ORGANIZATIONS,
        MAILBOX_MESSAGES,
    )
}


def platforms() -> list[str]:
    return sorted({p for p, _ in SPECS})


def checked_platforms(names: Iterable[str]) -> list[str]:
    """Platform names as the specs spell them (trimmed, lower case); an unknown one is an error, not a filter that
    silently matches nothing."""
    known = platforms()
    given = list(names)
    unknown = [n for n in given if n.strip().lower() not in known]
    if unknown:
        raise ValueError(f"unknown platform {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return [n.strip().lower() for n in given]
