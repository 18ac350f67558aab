"""Small real-shaped exports per connector, derived from ../shared/platform-examples (PLATFORMS.md),
inline so the tests also run from a plain clone."""

from __future__ import annotations

import json
from pathlib import Path

SENDGRID_BATCH = [
    {"email": "ana.lopez@example.com", "timestamp": 1718035200, "event": "processed", "sg_event_id": "sg-1",
     "sg_message_id": "m1.filter", "smtp-id": "<m1@example.com>", "category": ["newsletter"]},
    {"email": "Ana.Lopez@Example.com", "timestamp": 1718035203, "event": "bounce", "sg_event_id": "sg-2",
     "sg_message_id": "m1.filter", "type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address",
     "reason": "550 5.1.1 The email account that you tried to reach does not exist."},
    {"email": "kai.lee@example.com", "timestamp": 1718046720, "event": "open", "sg_event_id": "sg-3",
     "sg_message_id": "m2.filter", "sg_machine_open": False, "useragent": "Mozilla/5.0"},
]

SENDGRID_BOUNCES = [
    {"created": 1718035200, "email": "ana.lopez@example.com", "reason": "550 5.1.1 does not exist", "status": "5.1.1"},
]

POSTMARK_BOUNCES = {"TotalCount": 2, "Bounces": [
    {"ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Tag": "welcome-email",
     "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "ServerID": 23, "MessageStream": "outbound",
     "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
     "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.", "Email": "ana.lopez@example.com",
     "From": "notifications@example.com", "BouncedAt": "2024-06-10T16:00:03.3963933-04:00", "DumpAvailable": True,
     "Inactive": True, "CanActivate": True, "Subject": "Welcome!"},
    {"ID": 4323372036854775809, "Type": "SoftBounce", "TypeCode": 4096, "Name": "Soft bounce", "Tag": "",
     "MessageID": "b1c2d3e4-0000-4000-8000-000000000001", "ServerID": 23, "MessageStream": "outbound",
     "Description": "Unable to temporarily deliver this message.", "Details": "smtp;452 4.2.2 Mailbox full",
     "Email": "dev.patel@example.com", "From": "notifications@example.com", "BouncedAt": "2024-06-11T09:00:00.000-04:00",
     "DumpAvailable": False, "Inactive": False, "CanActivate": True, "Subject": "Your receipt"},
]}

POSTMARK_WEBHOOK_BOUNCE = dict(POSTMARK_BOUNCES["Bounces"][0], RecordType="Bounce", Metadata={"crm_contact_id": "003XX"})

POSTMARK_SUBSCRIPTION_CHANGE = {
    "RecordType": "SubscriptionChange", "MessageID": "a4909a96-73d7-4c49-b148-a54522d3f7ac", "ServerID": 23,
    "MessageStream": "broadcast", "ChangedAt": "2024-06-10T18:05:01Z", "Recipient": "finn.o@example.com",
    "Origin": "Recipient", "SuppressSending": True, "SuppressionReason": "ManualSuppression", "Tag": "newsletter",
    "Metadata": {},
}

MAILGUN_FAILED = {
    "event": "failed", "id": "pl271FzxTTmGRW8Uj3dUWw", "timestamp": 1718035203.818328, "log-level": "error",
    "severity": "permanent", "reason": "bounce", "recipient": "ana.lopez@example.com", "recipient-domain": "example.com",
    "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist.",
                        "enhanced-code": "5.1.1", "attempt-no": 1, "description": ""},
    "message": {"headers": {"to": "ana.lopez@example.com", "message-id": "20240610160001.1.2A60@mg.example.com",
                            "subject": "June Newsletter"}},
    "tags": ["newsletter"], "campaigns": [], "user-variables": {},
}
MAILGUN_COMPLAINED = {
    "event": "complained", "id": "ncV2XwymRUKbPek_MIM-Gw", "timestamp": 1718039000.05, "log-level": "warn",
    "recipient": "eve.muller@example.com", "tags": [], "campaigns": [], "user-variables": {},
    "message": {"headers": {"message-id": "20240610160003.1.CCCC@mg.example.com"}},
}
MAILGUN_PAGE = {"items": [MAILGUN_FAILED, MAILGUN_COMPLAINED], "paging": {"next": "https://api.mailgun.net/v3/x/events/n"}}
MAILGUN_WEBHOOK = {"signature": {"timestamp": "1718035204", "token": "t", "signature": "s"}, "event-data": MAILGUN_FAILED}

SFMC_BOUNCES_CSV = (
    "ClientID,SendID,SubscriberKey,EmailAddress,SubscriberID,ListID,EventDate,EventType,BounceCategory,SMTPCode,"
    "BounceReason,BatchID,TriggeredSendExternalKey\n"
    '7281698,1234567,003XX000004TmiQAAS,ana.lopez@example.com,98765432,1001,6/10/2024 3:00:03 PM,Bounce,Hard bounce,550,'
    '"550 5.1.1 The email account that you tried to reach does not exist.",0,\n'
    '7281698,1234567,003XX000004TmiTAAS,dev.patel@example.com,98765433,1001,6/10/2024 3:05:00 PM,Bounce,Soft bounce,452,'
    '"452 4.2.2 The email account that you tried to reach is over quota",0,\n'
)
SFMC_HEADER = (
    "ClientID,SendID,SubscriberKey,EmailAddress,SubscriberID,ListID,EventDate,EventType,BatchID,TriggeredSendExternalKey\n"
)
SFMC_SENT_CSV = SFMC_HEADER + (
    "7281698,1234567,003XX000004TmiQAAS,ana.lopez@example.com,98765432,1001,6/10/2024 2:59:00 PM,Sent,0,\n"
    "7281698,1234567,003XX000004TmiTAAS,dev.patel@example.com,98765433,1001,6/10/2024 2:59:00 PM,Sent,0,\n"
)

ZOHO_BOUNCE = {
    "webhook_name": "Bounce webhook", "webhook_id": "1314909000000063006", "action": "bounce", "actionType": "hardbounce",
    "data": [{"bounce_code": "550", "bounce_type": "hardbounce", "bounce_extended_code": "5.1.1",
              "bounce_reason": "The email account that you tried to reach does not exist.", "action_time": 1718035203000,
              "sending_ip": "198.51.100.90", "contact_id": 1314909000000100001, "contact_email": "ana.lopez@example.com",
              "rcpt_domain": "example.com", "rcpt_additional_data": {"crm_contact_id": "003XX000004TmiQ"},
              "transmission_name": "June newsletter", "injected_time": 1718035200000, "transmission_id": 1314909000000200001,
              "zuid": 60012345678}],
}

SALESFORCE_CONTACTS_CSV = (
    "Id,AccountId,Email,FirstName,LastName,MobilePhone,LeadSource,HasOptedOutOfEmail,IsEmailBounced,EmailBouncedReason,"
    "EmailBouncedDate,SMS_Opt_In__c,MailingStreet,MailingCity,MailingPostalCode,MailingCountry,LastActivityDate,LastModifiedDate\n"
    "003XX000004TmiQAAS,001XX01,ana.lopez@example.com,Ana,Lopez,+15550100,Purchased List,false,true,"
    "550 5.1.1 The email account that you tried to reach does not exist.,2024-06-10T20:00:03.000Z,true,"
    "1 Main St,Springfield,12345,US,2024-06-01,2024-06-10T20:00:05.000Z\n"
    "003XX000004TmiRAAS,001XX02,finn.o@example.com,Finn,O'Brien,,Web,true,false,,,,,,,,,2024-06-10T22:05:00.000Z\n"
)
SALESFORCE_ACCOUNTS_CSV = (
    "Id,Name,Type,Company_Status__c,BillingCity,LastActivityDate,LastModifiedDate\n"
    "001XX01,Acme Corp,Customer,Bankrupt,Springfield,2024-05-01,2024-06-01T00:00:00.000Z\n"
    "001XX02,Globex,Prospect,,Shelbyville,,2024-06-01T00:00:00.000Z\n"
)

HUBSPOT_COMPANIES_CSV = (
    "Record ID,Company name,Company Domain Name,Company status,City,Last Activity Date,Create Date,Last Modified Date\n"
    "9001,Initech,initech.example,Closed,Austin,2024-05-01 10:00,2023-01-01 10:00,2024-06-01 10:00\n"
)
HUBSPOT_CONTACTS_CSV = (
    "Record ID,Email,First Name,Last Name,Associated Company ID,Mobile Phone Number,SMS consent,Original Source,"
    "Street Address,City,Postal Code,Country/Region,Last Activity Date,Last Modified Date\n"
    '51,"""Kai Lee"" <Kai.Lee@Example.com>",Kai,Lee,9001,+15550101,true,OFFLINE,2 Elm St,Austin,73301,US,'
    "2024-06-10 19:12,2024-06-10 19:12\n"
)

PIPEDRIVE_PERSONS = {"success": True, "data": [
    {"id": 7, "name": "Bo Chen", "first_name": "Bo", "last_name": "Chen", "org_id": {"name": "Umbrella", "value": 3},
     "email": [{"label": "work", "value": "bo.chen@example.net", "primary": True}],
     "phone": [{"label": "work", "value": "+15550102", "primary": True},
               {"label": "mobile", "value": "+15550103", "primary": False}],
     "marketing_status": "subscribed", "last_activity_date": "2024-06-02", "update_time": "2024-06-10 12:00:00",
     "add_time": "2024-01-10 12:00:00", "active_flag": True},
], "additional_data": {"pagination": {"start": 0, "limit": 100, "more_items_in_collection": False}}}
PIPEDRIVE_ORGS = {"success": True, "data": [
    {"id": 3, "name": "Umbrella", "company_status": "Out of business", "address_locality": "Raccoon City",
     "address_country": "US", "active_flag": True, "update_time": "2024-06-01 00:00:00", "add_time": "2023-06-01 00:00:00"},
]}


def write(base: Path, rel: str, content: bytes | str | dict | list) -> Path:
    p = base / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


def jsonl(*docs: dict) -> str:
    return "".join(json.dumps(d) + "\n" for d in docs)


def write_all_platforms(base: Path) -> dict[str, int]:
    """One small export per connector; returns the rows each should load."""
    write(base, "sendgrid/events/batch.json", SENDGRID_BATCH)
    write(base, "sendgrid/suppressions/bounces/page1.json", SENDGRID_BOUNCES)
    write(base, "postmark/bounces/bounces.json", POSTMARK_BOUNCES)
    write(base, "postmark/events/hooks.jsonl", jsonl(POSTMARK_WEBHOOK_BOUNCE, POSTMARK_SUBSCRIPTION_CHANGE))
    write(base, "mailgun/events/page1.json", MAILGUN_PAGE)
    write(base, "mailgun/events/hook.json", MAILGUN_WEBHOOK)
    write(base, "sfmc/bounces/Bounces.csv", SFMC_BOUNCES_CSV)
    write(base, "sfmc/sends/Sent.csv", SFMC_SENT_CSV)
    write(base, "zoho/events/bounce.json", ZOHO_BOUNCE)
    write(base, "salesforce/contacts/Contact.csv", SALESFORCE_CONTACTS_CSV)
    write(base, "salesforce/accounts/Account.csv", SALESFORCE_ACCOUNTS_CSV)
    write(base, "hubspot/companies/companies.csv", HUBSPOT_COMPANIES_CSV)
    write(base, "hubspot/contacts/contacts.csv", HUBSPOT_CONTACTS_CSV)
    write(base, "pipedrive/persons/persons_1.json", PIPEDRIVE_PERSONS)
    write(base, "pipedrive/organizations/orgs_1.json", PIPEDRIVE_ORGS)
    return {
        "sendgrid/events": 3, "sendgrid/suppressions": 1, "postmark/bounces": 2, "postmark/events": 2, "mailgun/events": 3,
        "sfmc/bounces": 2, "sfmc/sends": 2, "zoho/events": 1, "salesforce/contacts": 2, "salesforce/accounts": 2,
        "hubspot/companies": 1, "hubspot/contacts": 1, "pipedrive/persons": 1, "pipedrive/organizations": 1,
    }
