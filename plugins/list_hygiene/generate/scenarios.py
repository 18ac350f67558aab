"""Named scenario contacts with scripted timelines, and the malformed rows planted in the exports.

Tests import `SCENARIOS` and `MALFORMED` to assert what the pipeline must conclude. A scenario's timeline is fixed
relative to the end of the generated window (its last day), so it does not depend on the random population.
Scenario contacts receive every *newsletter* of the platforms they are on (not the multi-step series).

Expected-outcome keys:
- `suppressed` (bool) — whether the address is on `marts.suppression_list` at all;
- `suppressed_on` (list) — platforms where it must be suppressed; `suppression_reason` — the reason there;
- `segment` — the engagement segment; `segment_in` — any of these; `segment_not` — anything but this;
- `resend_queue` (bool) — in the soft-bounce resend wave; `distinct_contacts` — rows after normalisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from .model import (
    BOUNCE,
    CLICK,
    COMPLAINT,
    DAY,
    DELIVERED,
    DROPPED,
    MC,
    OPEN,
    PLATFORMS,
    PROCESSED,
    REASON_INDEX,
    SES,
    SG,
    UNSUBSCRIBE,
    Sends,
)

DEFAULT_START = dt.date(2026, 8, 1)
DEFAULT_DAYS = 115  # the bundled samples' last day is 2026-11-23


@dataclass(frozen=True)
class Scenario:
    email: str  # normalized (lower(trim()))
    description: str
    platforms: tuple[str, ...]  # where the address exists
    expected: dict
    spellings: dict[str, str] = field(default_factory=dict)  # platform -> address as stored there, if not `email`
    first: str = "Test"
    last: str = "Person"
    hubspot_last_open_days_before_end: int | None = None  # HubSpot history older than the window


SCENARIOS: dict[str, Scenario] = {
    "hard_bounce_multi": Scenario(
        email="hard.bounce.multi@example.com",
        description="On all four platforms under differently-cased spellings; hard-bounces 550 5.1.1 user unknown on "
                    "SendGrid about 3 weeks before the end, then SendGrid drops it ('Bounced Address').",
        platforms=("hubspot", "sendgrid", "mailchimp", "ses"),
        spellings={"hubspot": "Hard.Bounce.Multi@Example.com", "sendgrid": "HARD.BOUNCE.MULTI@EXAMPLE.COM",
                   "mailchimp": "hard.bounce.multi@example.com", "ses": "Hard.Bounce.Multi@example.COM"},
        expected={"suppressed": True, "suppressed_on": ["hubspot", "sendgrid", "mailchimp", "ses"],
                  "suppression_reason": "hard_bounce"},
        first="Harriet", last="Multi",
    ),
    "hard_bounce_ses": Scenario(
        email="ses.hard.bounce@example.net",
        description="SES only: engaged until ~4 weeks before the end, then a Permanent/General bounce "
                    "(550 5.1.1 RESOLVER.ADR.RecipNotFound); SES sends nothing afterwards.",
        platforms=("hubspot", "ses"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "ses"], "suppression_reason": "hard_bounce"},
        first="Hector", last="Gone",
    ),
    "soft_bounce_repeat": Scenario(
        email="soft.bounce.repeat@example.org",
        description="SES: engaged until ~5 weeks before the end, then every weekly send of the last 36 days bounces "
                    "Transient/MailboxFull (5-6 bounces spanning >= 28 days, no delivery or engagement in between).",
        platforms=("hubspot", "ses"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "ses"], "suppression_reason": "soft_bounce_escalated"},
        first="Sofia", last="Repeat",
    ),
    "soft_bounce_once": Scenario(
        email="soft.bounce.once@example.net",
        description="SES: engaged weekly; the last send of the window (final day) bounces once Transient/MailboxFull "
                    "452 4.2.2, nothing after.",
        platforms=("hubspot", "ses"),
        expected={"suppressed": False, "resend_queue": True, "segment": "active"},
        first="Oscar", last="Once",
    ),
    "complaint": Scenario(
        email="complaint.reporter@example.com",
        description="SES: delivered and opening; the send 8-14 days before the end draws an abuse Complaint 3 h after "
                    "delivery; SES sends nothing afterwards.",
        platforms=("hubspot", "ses"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "ses"], "suppression_reason": "complaint"},
        first="Carl", last="Complainer",
    ),
    "unsubscribe": Scenario(
        email="unsubscribe.me@example.org",
        description="SendGrid unsubscribe event and Mailchimp unsubscribed export (UNSUB_TIME) 14-20 days before the "
                    "end; SendGrid drops later sends ('Unsubscribed Address'), Mailchimp leaves it out.",
        platforms=("hubspot", "sendgrid", "mailchimp"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "sendgrid", "mailchimp"],
                  "suppression_reason": "unsubscribe"},
        first="Uma", last="Leaving",
    ),
    "re_engaged": Scenario(
        email="re.engaged@example.net",
        description="SendGrid: weekly deliveries; human open only on the first send of the window (~111 days before "
                    "the end), nothing for 100+ days, then a human open and click on the send of the last 7 days.",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": False, "segment": "active"},
        first="Rene", last="Engaged",
    ),
    "sunset": Scenario(
        email="sunset.candidate@example.com",
        description="SendGrid: delivered every week of the window with no open or click at all; HubSpot's last "
                    "marketing email open is 200 days before the end (no human engagement for > 150 days).",
        platforms=("hubspot", "sendgrid"),
        # sunset contacts leave all sends (POLICY rule 19): suppression_list carries them with reason sunset
        expected={"suppressed": True, "suppressed_on": ["hubspot", "sendgrid"], "suppression_reason": "sunset",
                  "segment": "sunset"},
        first="Sunny", last="Setter",
        hubspot_last_open_days_before_end=200,
    ),
    "machine_open_only": Scenario(
        email="machine.opens.only@icloud.example",
        description="SendGrid and SES: every delivery gets only a machine open seconds later (sg_machine_open=true; "
                    "SES Open with user agent 'Mozilla/5.0' from 17.x.x.x), through the whole window; never a human "
                    "open or click.",
        platforms=("hubspot", "sendgrid", "ses"),
        expected={"suppressed": False, "segment_not": "active", "segment_in": ["sunset", "re_engage"]},
        first="Mac", last="Proxy",
    ),
    "block_only": Scenario(
        email="blocked.only@outlook.example",
        description="SendGrid: engaged until ~45 days before the end, then every send is rejected with a 5.7.1 "
                    "spam/policy block (event bounce, type=blocked). Blocks are the sender's problem.",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": False},
        first="Blake", last="Blocked",
    ),
    "cooling": Scenario(
        email="cooling.off@example.org",
        description="Mailchimp: opens and clicks on every campaign until ~53 days before the end, deliveries only "
                    "since.",
        platforms=("hubspot", "mailchimp"),
        expected={"suppressed": False, "segment": "cooling"},
        first="Cora", last="Cooling",
    ),
    "active": Scenario(
        email="always.active@example.net",
        description="SendGrid and Mailchimp: a human open and a click on every weekly send.",
        platforms=("hubspot", "sendgrid", "mailchimp"),
        expected={"suppressed": False, "segment": "active"},
        first="Ada", last="Active",
    ),
    "case_variants": Scenario(
        email="mixed.case@example.com",
        description="HubSpot holds '  Mixed.Case@Example.COM ' (case and surrounding spaces), SendGrid "
                    "'mixed.case@example.com'; opens every week. Must resolve to one contact.",
        platforms=("hubspot", "sendgrid"),
        spellings={"hubspot": "  Mixed.Case@Example.COM ", "sendgrid": "mixed.case@example.com"},
        expected={"suppressed": False, "distinct_contacts": 1, "segment": "active"},
        first="Max", last="Case",
    ),
    # ---- lifecycle paths of POLICY rules 8, 10 and 14-16 (the CRM side is written by writers_lifecycle.py)
    "corrected_in_window": Scenario(
        email="typo.fixed.fast@example.com",
        description="SendGrid: engaged, then hard-bounces 550 5.1.1 3-4 weeks before the end (no sends after). A later "
                    "HubSpot export shows the same record with a new address 3 days after the bounce: inside the "
                    "5-day wait window, so the bounced message is re-sent (rule 15) and the data is confirmed (rule 16).",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": True, "suppressed_on": ["sendgrid"], "suppression_reason": "hard_bounce",
                  "correction_action": "resend_original_message"},
        first="Fay", last="Fixer",
    ),
    "corrected_after_window": Scenario(
        email="typo.fixed.late@example.com",
        description="As corrected_in_window, but the new address appears 9 days after the bounce: the record is "
                    "updated, the old message is not re-sent (rule 15).",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": True, "suppressed_on": ["sendgrid"], "suppression_reason": "hard_bounce",
                  "correction_action": "update_record_only"},
        first="Lars", last="Later",
    ),
    "correction_pending": Scenario(
        email="needs.correction@example.org",
        description="SendGrid: hard-bounces 550 5.1.1 2-3 weeks before the end; HubSpot holds a mobile number with SMS "
                    "consent and no new address yet: the contact enters the SMS correction queue (rule 14).",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "sendgrid"], "suppression_reason": "hard_bounce",
                  "correction_queue": True},
        first="Nell", last="Pending",
    ),
    "recycled": Scenario(
        email="recycled.mailbox@example.net",
        description="SES: engaged, hard-bounces Permanent/General about 9 weeks before the end, silent, then deliveries "
                    "and opens again in the last 3 weeks: the mailbox was re-created, a recycled spam-trap risk (rule 10).",
        platforms=("hubspot", "ses"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "ses"], "suppression_reason": "hard_bounce",
                  "spam_trap_risk": "recycled_after_hard_bounce"},
        first="Rex", last="Cycled",
    ),
    "closed_company": Scenario(
        email="worker@defunct-works.example",
        description="SendGrid: opens and clicks every week, but the Salesforce account of the contact's company is "
                    "Closed: dead record, out of the mailing population (rule 8).",
        platforms=("hubspot", "sendgrid"),
        expected={"suppressed": True, "suppressed_on": ["hubspot", "sendgrid", "salesforce"],
                  "suppression_reason": "closed_company", "segment": "suppressed"},
        first="Cody", last="Closed",
    ),
}

# lifecycle scenarios whose CRM record changes in a later HubSpot export: days after the bounce
CORRECTION_DELAY_DAYS = {"corrected_in_window": 3, "corrected_after_window": 9}
CORRECTED_ADDRESS = {"corrected_in_window": "fay.fixer@example.com", "corrected_after_window": "lars.later@example.com"}
SMS_CONSENT_SCENARIOS = ("correction_pending",)


# ------------------------------------------------------------------ scripted timelines
Step = tuple[int, int, bool, int]  # (event type, seconds after the send, machine, reason / link index)


def _deliver() -> list[Step]:
    return [(PROCESSED, 0, False, -1), (DELIVERED, 4, False, -1)]


def _human_open(at: int = 3600) -> list[Step]:
    return [(OPEN, at, False, -1)]


def _click(at: int = 3700, link: int = 0) -> list[Step]:
    return [(CLICK, at, False, link)]


_MAILBOX_FULL = [REASON_INDEX[k] for k in ("mailbox_full_452", "mailbox_full_552", "mailbox_full_sendmail",
                                             "mailbox_full_exceeded")]
_BLOCKS = [REASON_INDEX[k] for k in ("spam_content", "blocklist", "policy_local", "bulk_mail")]


def _script(name: str) -> Callable[[int, int, Sends, int], list[Step] | None]:
    def run(p: int, s: int, sends: Sends, window_end: int) -> list[Step] | None:
        if sends.kind[s] != 0:  # newsletters only
            return None
        age = (window_end - int(sends.ts[s])) / DAY
        week = int(sends.day[s]) // 7
        if name == "hard_bounce_multi":
            if age > 21:
                return _deliver() + _human_open()
            if p == SG:
                if age > 14:
                    return [(PROCESSED, 0, False, -1), (BOUNCE, 6, False, REASON_INDEX["user_unknown_webmail"])]
                return [(DROPPED, 0, False, REASON_INDEX["drop_bounced"])]
            return _deliver()
        if name == "hard_bounce_ses":
            if age > 28:
                return _deliver() + _human_open(2000)
            if age > 21:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 5, False, REASON_INDEX["user_unknown_exchange"])]
            return None
        if name == "soft_bounce_repeat":
            if age > 36:
                return _deliver() + _human_open()
            return [(PROCESSED, 0, False, -1), (BOUNCE, 9, False, _MAILBOX_FULL[week % 4])]
        if name == "soft_bounce_once":
            if age <= 7:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 7, False, REASON_INDEX["mailbox_full_452"])]
            return _deliver() + _human_open() + (_click(link=week % 3) if week % 2 else [])
        if name == "complaint":
            if age > 14:
                return _deliver() + _human_open(5400)
            if age > 7:
                return _deliver() + [(COMPLAINT, 3 * 3600 + 4, False, -1)]
            return None
        if name == "unsubscribe":
            if age > 20:
                return _deliver() + _human_open(2400)
            if age > 13:
                return _deliver() + _human_open(2400) + [(UNSUBSCRIBE, 2445, False, -1)]
            if p == SG:
                return [(DROPPED, 0, False, REASON_INDEX["drop_unsubscribed"])]
            return None
        if name == "re_engaged":
            if age >= 108:
                return _deliver() + _human_open(7200)
            if age <= 7:
                return _deliver() + _human_open(7200) + _click(7260, link=1)
            return _deliver()
        if name == "sunset":
            return _deliver()
        if name == "machine_open_only":
            return _deliver() + [(OPEN, 9 if p == SES else 12, True, -1)]
        if name == "block_only":
            if age <= 45:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 3, False, _BLOCKS[week % 4])]
            return _deliver() + _human_open(1800)
        if name == "cooling":
            if age >= 50:
                return _deliver() + _human_open(4000) + _click(4090, link=week % 5)
            return _deliver()
        if name == "active":
            return _deliver() + _human_open(1500) + _click(1560, link=week % 6)
        if name == "case_variants":
            return _deliver() + _human_open(900) + (_click(960, link=2) if week % 2 else [])
        if name in ("corrected_in_window", "corrected_after_window"):
            if age > 28:
                return _deliver() + _human_open(1800)
            if age > 21:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 6, False, REASON_INDEX["user_unknown_webmail"])]
            return None
        if name == "correction_pending":
            if age > 21:
                return _deliver() + _human_open(2100)
            if age > 14:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 6, False, REASON_INDEX["user_unknown_webmail"])]
            return None
        if name == "recycled":
            if age > 70:
                return _deliver() + _human_open(2500)
            if age > 63:
                return [(PROCESSED, 0, False, -1), (BOUNCE, 5, False, REASON_INDEX["user_unknown_exchange"])]
            if age > 21:
                return None
            return _deliver() + _human_open(2600)
        if name == "closed_company":
            return _deliver() + _human_open(1300) + _click(1390, link=week % 4)
        raise KeyError(name)

    return run


def scenario_rows() -> list[dict]:
    return [{"name": k, "email": v.email, "platforms": v.platforms, "spellings": v.spellings, "first": v.first,
             "last": v.last} for k, v in SCENARIOS.items()]


def scripts(first_index: int) -> dict[int, Callable]:
    return {first_index + i: _script(name) for i, name in enumerate(SCENARIOS)}


assert set(PLATFORMS) == {"sendgrid", "mailchimp", "ses"} and (SG, MC, SES) == (0, 1, 2)


# ------------------------------------------------------------------ malformed rows
@dataclass(frozen=True)
class Malformed:
    platform: str
    entity: str
    file: str  # path relative to the data folder
    row: int  # docs/data-contracts.md §2: CSV record after the header; JSON array element + 1; JSONL line
    field: str | None  # the field at fault, None when the whole row is unreadable
    kind: str  # invalid_json | bad_timestamp | missing_required | invalid_utf8 | field_count | unterminated_quote


# fixed places (the writers insert these rows there)
SG_BAD_JSON_LINE = 2
SG_BAD_TIME_LINE = 5
HS_EMPTY_EMAIL_ROW = 5
HS_BAD_DATE_ROW = 9
HS_BAD_UTF8_ROW = 13
MC_FIELD_COUNT_ROW = 4


def file_range(start: dt.date, days: int) -> str:
    last = start + dt.timedelta(days=days - 1)
    return f"{start:%Y%m%d}-{last:%Y%m%d}"


def malformed_rows(start: dt.date, days: int, placed: dict[str, int]) -> list[Malformed]:
    """Where the malformed rows of a window are; `placed` = the rows the writers put them on (they go at the fixed
    places above when the file is long enough; the unterminated quote is always the unsubscribed export's last row,
    so a CSV parser that swallows to EOF loses nothing else)."""
    r = file_range(start, days)
    sg = f"sendgrid/events/sendgrid_events_{r}.jsonl"
    hs = f"hubspot/contacts/hubspot_contacts_{r}.csv"
    return [
        Malformed("sendgrid", "events", sg, placed["sg_bad_json"], None, "invalid_json"),
        Malformed("sendgrid", "events", sg, placed["sg_bad_time"], "timestamp", "bad_timestamp"),
        Malformed("hubspot", "contacts", hs, placed["hs_empty_email"], "Email", "missing_required"),
        Malformed("hubspot", "contacts", hs, placed["hs_bad_date"], "Create Date", "bad_timestamp"),
        Malformed("hubspot", "contacts", hs, placed["hs_bad_utf8"], "First Name", "invalid_utf8"),
        Malformed("mailchimp", "members", f"mailchimp/members/subscribed_members_export_{r}.csv",
                  placed["mc_field_count"], None, "field_count"),
        Malformed("mailchimp", "members", f"mailchimp/members/unsubscribed_members_export_{r}.csv",
                  placed["mc_unterminated"], "First Name", "unterminated_quote"),
    ]


# The bundled samples (data_samples/, defaults). tests/generate checks this against a fresh generation.
SAMPLE_UNSUBSCRIBED_ROWS = 5  # data rows of the samples' unsubscribed export (the broken one is last)
MALFORMED: list[Malformed] = malformed_rows(DEFAULT_START, DEFAULT_DAYS, {
    "sg_bad_json": SG_BAD_JSON_LINE, "sg_bad_time": SG_BAD_TIME_LINE, "hs_empty_email": HS_EMPTY_EMAIL_ROW,
    "hs_bad_date": HS_BAD_DATE_ROW, "hs_bad_utf8": HS_BAD_UTF8_ROW, "mc_field_count": MC_FIELD_COUNT_ROW,
    "mc_unterminated": SAMPLE_UNSUBSCRIBED_ROWS})

# The bounce mailbox's deliberately unparsable message (writers_mailbox.py): a report whose head was lost in transfer;
# the loader quarantines the whole message (row = its place in the file: 1 for an .eml).
from .writers_mailbox import TRUNCATED_NAME, mailbox_file  # noqa: E402  (writers_mailbox uses file_range above)

MALFORMED.append(
    Malformed("mailbox", "messages", mailbox_file(DEFAULT_START, DEFAULT_DAYS, TRUNCATED_NAME), 1, None, "unparsable_message")
)
