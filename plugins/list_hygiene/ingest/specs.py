"""Declared shape of every export the pipeline can land: platform, entity, format and fields.

A spec is data, not code paths: the loader reads any spec the same way. Adding a platform means
adding a spec (and, for nested JSON, a small `records` function that flattens one document).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# field kinds the validator knows (see validate.py)
TEXT, EMAIL, UNIX_TS, ISO_TS, DATETIME, INT, BOOL = "text", "email", "unix_ts", "iso_ts", "datetime", "int", "bool"


@dataclass(frozen=True)
class Field:
    """One raw column: `name` in the warehouse, `source` the CSV label or JSON key path (dots)."""

    name: str
    source: str
    kind: str = TEXT
    required: bool = False  # the file fails when a CSV header lacks it
    not_empty: bool = False  # a row with an empty value is quarantined


@dataclass(frozen=True)
class SourceSpec:
    platform: str
    entity: str
    format: str  # "csv" | "json"
    fields: tuple[Field, ...]
    description: str
    # JSON only: turn one parsed document (array element, JSONL line or whole file) into flat records
    # of {source path: value}; yields (sub_index, record). Default: the document itself.
    records: Callable[[Any], Iterator[tuple[int, dict]]] | None = None
    # JSON only: a whole-file document whose rows live under a key (e.g. Mailchimp {"emails": [...]})
    keep_extra: bool = True
    derived: Callable[[dict, list[str]], dict] | None = field(default=None, repr=False)

    @property
    def table(self) -> str:
        return f"{self.platform}__{self.entity}"

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def pick(record: dict, fields: Iterable[Field]) -> dict[str, Any]:
    return {f.name: _get(record, f.source) for f in fields}


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
        Field("marketing_emails_bounced", "Marketing emails bounced", INT),
        Field("email_address_quarantined", "Email address quarantined", BOOL),
        Field("marketing_contact_status", "Marketing contact status"),
        Field("last_marketing_email_send_date", "Last marketing email send date", DATETIME),
        Field("last_marketing_email_open_date", "Last marketing email open date", DATETIME),
        Field("last_marketing_email_click_date", "Last marketing email click date", DATETIME),
        Field("create_date", "Create Date", DATETIME),
        Field("last_modified_date", "Last Modified Date", DATETIME),
    ),
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
        Field("attempt", "attempt"),
        Field("sg_machine_open", "sg_machine_open", BOOL),
        Field("useragent", "useragent"),
        Field("ip", "ip"),
        Field("url", "url"),
        Field("asm_group_id", "asm_group_id"),
        Field("tls", "tls"),
        Field("marketing_campaign_id", "marketing_campaign_id"),
        Field("marketing_campaign_name", "marketing_campaign_name"),
    ),
)

# ---------------------------------------------------------------- Mailchimp
_MC_COMMON = (
    Field("email_address", "Email Address", EMAIL, required=True, not_empty=True),
    Field("first_name", "First Name"),
    Field("last_name", "Last Name"),
    Field("address", "Address"),
    Field("phone_number", "Phone Number"),
    Field("birthday", "Birthday"),
    Field("member_rating", "MEMBER_RATING", INT),
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
)


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
    keep_extra=False,
)


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
    keep_extra=False,
)

# ---------------------------------------------------------------- Amazon SES
_SES_RECIPIENTS = {
    "bounce": ("bounce", "bouncedRecipients"),
    "complaint": ("complaint", "complainedRecipients"),
    "deliverydelay": ("deliveryDelay", "delayedRecipients"),
}


def _ses_records(doc: Any) -> Iterator[tuple[int, dict]]:
    """SNS envelope (Message is a JSON string) or a bare event record; one row per recipient."""
    if not isinstance(doc, dict):
        raise ValueError("SES record is not a JSON object")
    inner = doc
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        inner = json.loads(doc["Message"])
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
    for i, rcpt in enumerate(recipients):
        yield i + 1, {
            "event_type": kind,
            "email": rcpt.get("emailAddress"),
            "message_id": mail.get("messageId"),
            "mail_timestamp": mail.get("timestamp"),
            "event_timestamp": detail.get("timestamp") or mail.get("timestamp"),
            "source": mail.get("source"),
            "campaign": campaign,
            "bounce_type": (inner.get("bounce") or {}).get("bounceType"),
            "bounce_subtype": (inner.get("bounce") or {}).get("bounceSubType"),
            "action": rcpt.get("action"),
            "status": rcpt.get("status"),
            "diagnostic_code": rcpt.get("diagnosticCode"),
            "feedback_id": detail.get("feedbackId"),
            "complaint_feedback_type": (inner.get("complaint") or {}).get("complaintFeedbackType"),
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
    keep_extra=False,
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
    )
}


def platforms() -> list[str]:
    return sorted({p for p, _ in SPECS})
