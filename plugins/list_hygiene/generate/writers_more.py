"""Writers for the connectors of issue 4: Postmark, Mailgun, Salesforce Marketing Cloud, Zoho (events) and
HubSpot companies, Salesforce, Pipedrive (CRM), in the shapes of ../shared/PLATFORMS.md and platform-examples.

These platforms are not part of the engagement simulation (model.py): each has a small, seeded population of its own
(random contacts only, so the scenario outcomes of scenarios.py do not change) with a weekly send and simple
outcomes (delivered, human open / click, a hard bounce once the address is dead, rare soft bounces, complaints and
unsubscribes). A few scenario contacts appear in the CRM exports where it fits (a contact of a closed account, an
opted-out contact, an address spelled differently). Same arguments, same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import scenarios as sc
from .model import COMPANIES, DAY, SIM_ORIGIN, SOURCES, Population

UTC = dt.UTC
SFMC_CST = dt.timezone(dt.timedelta(hours=-6))  # Marketing Cloud's system time: CST, no daylight saving

# platform -> (weekday of the weekly send, hour UTC, share of the random contacts on it)
CADENCE = {"postmark": (2, 15, 0.06), "mailgun": (4, 16, 0.05), "sfmc": (5, 14, 0.08), "zoho": (6, 17, 0.2)}

HARD = ("550 5.1.1 The email account that you tried to reach does not exist.", "5.1.1", "550")
SOFT = ("452 4.2.2 The email account that you tried to reach is over quota.", "4.2.2", "452")
LINKS = ("https://www.example.com/news", "https://www.example.com/offer", "https://www.example.com/account")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"

CLOSED_ACCOUNT = "Defunct Example Works"
BANKRUPT_ORG = "Insolvent Example GmbH"
# scenario contacts placed in the CRM exports: (scenario, crm, how)
CRM_SCENARIOS = (
    ("hard_bounce_ses", "salesforce", "closed_account"),
    ("unsubscribe", "salesforce", "opted_out"),
    ("hard_bounce_multi", "salesforce", "bounced"),
    ("complaint", "pipedrive", "bankrupt_org"),
    ("case_variants", "pipedrive", "spelling"),
    ("closed_company", "salesforce", "closed_account"),
)


def _u(seed: int, *keys: object) -> float:
    """A uniform [0, 1) number from the seed and keys (stable across Python versions and platforms)."""
    digest = hashlib.sha256(("|".join(map(str, (seed, *keys)))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _hex(seed: int, *keys: object, n: int = 32) -> str:
    return hashlib.sha256(("|".join(map(str, ("id", seed, *keys)))).encode()).hexdigest()[:n]


def _unix(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _iso(ts: int, ms: int = 0) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _write(out: Path, rel: str, data: bytes) -> None:
    p = out / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


@dataclass(frozen=True)
class Outcome:
    platform: str
    send: int  # the weekly send: its day number since 1970-01-01
    ts: int  # when it went out (unix seconds)
    contact: int
    kind: str  # delivered | hard | soft
    open_at: int | None = None
    click_at: int | None = None
    complaint_at: int | None = None
    unsub_at: int | None = None


def simulate_more(pop: Population, start: dt.date, days: int, seed: int) -> Iterator[Outcome]:
    """Weekly sends of each extra ESP to its members, in time order per platform. The simulation always starts at
    SIM_ORIGIN (like model.py), so a contact's state and every event do not depend on the window; writers keep the
    events inside the window, so consecutive windows add up."""
    origin = min(SIM_ORIGIN, start - dt.timedelta(days=30))
    for platform, (weekday, hour, share) in CADENCE.items():
        members = [i for i in range(pop.n_random) if _u(seed, platform, "member", i) < share]
        gone: set[int] = set()
        day = origin + dt.timedelta(days=(weekday - origin.weekday()) % 7)
        while day < start + dt.timedelta(days=days):
            send = (day - dt.date(1970, 1, 1)).days
            base = send * DAY + hour * 3600
            for k, i in enumerate(members):
                ts = base + 7 * k
                if i in gone or pop.created[i] >= ts:
                    continue
                u = [_u(seed, platform, send, i, j) for j in range(6)]
                if pop.dead_at[i] <= ts:
                    gone.add(i)
                    yield Outcome(platform, send, ts, i, "hard")
                    continue
                if u[0] < 0.02:
                    yield Outcome(platform, send, ts, i, "soft")
                    continue
                opened = u[1] < pop.p_open[i]
                open_at = ts + 600 + int(u[2] * 2 * DAY) if opened else None
                click_at = open_at + 40 + int(u[3] * 600) if opened and u[3] < pop.p_click[i] / max(pop.p_open[i], 1e-9) else None
                complaint_at = ts + 3 * 3600 if u[4] < 0.003 else None
                unsub_at = (open_at or ts) + 120 if complaint_at is None and u[5] < 0.004 else None
                if complaint_at or unsub_at:
                    gone.add(i)
                yield Outcome(platform, send, ts, i, "delivered", open_at, click_at, complaint_at, unsub_at)
            day += dt.timedelta(days=7)


def _weekly(send: int) -> str:
    return "weekly-" + (dt.date(1970, 1, 1) + dt.timedelta(days=send)).strftime("%Y%m%d")


# ------------------------------------------------------------------ Postmark
def _postmark_bounce(seed: int, o: Outcome, email: str) -> dict:
    text, _, _ = HARD if o.kind == "hard" else SOFT
    hard = o.kind == "hard"
    return {
        "ID": 4_000_000_000_000_000_000 + int(_hex(seed, "pm-bounce", o.send, o.contact, n=15), 16) % 10**18,
        "Type": "HardBounce" if hard else "SoftBounce", "TypeCode": 1 if hard else 4096,
        "Name": "Hard bounce" if hard else "Soft bounce", "Tag": _weekly(o.send),
        "MessageID": _uuid(seed, "pm-msg", o.send, o.contact), "ServerID": 23, "MessageStream": "broadcast",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found)." if hard
        else "Unable to temporarily deliver this message.",
        "Details": "smtp;" + text, "Email": email, "From": "news@example.com",
        "BouncedAt": _iso(o.ts + 4, 397), "DumpAvailable": True, "Inactive": hard, "CanActivate": True,
        "Subject": f"Weekly news {_weekly(o.send)[7:]}",
    }


def _uuid(seed: int, *keys: object) -> str:
    h = _hex(seed, *keys)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def write_postmark(out: Path, pop: Population, outcomes: list[Outcome], tag: str, seed: int,
                   window: tuple[int, int]) -> tuple[int, int]:
    hooks: list[tuple[int, dict]] = []
    bounces: list[dict] = []
    for o in outcomes:
        email = pop.email[o.contact]
        msg = _uuid(seed, "pm-msg", o.send, o.contact)
        common = {"MessageID": msg, "ServerID": 23, "MessageStream": "broadcast", "Tag": _weekly(o.send), "Metadata": {}}
        if o.kind != "delivered":
            b = _postmark_bounce(seed, o, email)
            bounces.append(b)
            hooks.append((o.ts + 4, {"RecordType": "Bounce", **b, "Metadata": {}}))
            continue
        hooks.append((o.ts + 5, {"RecordType": "Delivery", **common, "Recipient": email, "DeliveredAt": _iso(o.ts + 5),
                                 "Details": "Test delivery webhook details"}))
        if o.open_at:
            hooks.append((o.open_at, {"RecordType": "Open", **common, "FirstOpen": True, "Recipient": email,
                                      "ReceivedAt": _iso(o.open_at), "Platform": "Desktop", "ReadSeconds": 5, "UserAgent": UA}))
        if o.click_at:
            link = LINKS[o.contact % len(LINKS)]
            hooks.append((o.click_at, {"RecordType": "Click", **common, "Recipient": email, "ReceivedAt": _iso(o.click_at),
                                       "OriginalLink": link, "ClickLocation": "HTML", "Platform": "Desktop", "UserAgent": UA}))
        if o.complaint_at:
            b = {**_postmark_bounce(seed, o, email), "Type": "SpamComplaint", "TypeCode": 100001, "Name": "Spam complaint",
                 "Description": "The subscriber explicitly marked this message as spam.",
                 "Details": "Test spam complaint details", "BouncedAt": _iso(o.complaint_at),
                 "CanActivate": False, "Inactive": True}
            hooks.append((o.complaint_at, {"RecordType": "SpamComplaint", **b, "Metadata": {}}))
        if o.unsub_at:
            hooks.append((o.unsub_at, {"RecordType": "SubscriptionChange", "MessageID": msg, "ServerID": 23,
                                       "MessageStream": "broadcast", "ChangedAt": _iso(o.unsub_at), "Recipient": email,
                                       "Origin": "Recipient", "SuppressSending": True, "SuppressionReason": "ManualSuppression",
                                       "Tag": _weekly(o.send), "Metadata": {}}))
    hooks = sorted((h for h in hooks if window[0] <= h[0] < window[1]), key=lambda x: (x[0], json.dumps(x[1], sort_keys=True)))
    bounces = [b for b in bounces if window[0] <= _unix(b["BouncedAt"]) < window[1]]
    _write(out, f"postmark/events/postmark_webhooks_{tag}.jsonl", "".join(json.dumps(h) + "\n" for _, h in hooks).encode())
    # the Bounces API export overlaps the webhooks on purpose (same IDs): ingest + int_email_events dedupe them
    _write(out, f"postmark/bounces/postmark_bounces_{tag}.json",
           json.dumps({"TotalCount": len(bounces), "Bounces": bounces}).encode())
    return len(hooks), len(bounces)


# ------------------------------------------------------------------ Mailgun
def _mg_id(seed: int, *keys: object) -> str:
    import base64

    return base64.urlsafe_b64encode(bytes.fromhex(_hex(seed, "mg", *keys))).decode()[:22]


def write_mailgun(out: Path, pop: Population, outcomes: list[Outcome], tag: str, seed: int,
                  window: tuple[int, int]) -> tuple[int, int]:
    items: list[dict] = []
    for o in outcomes:
        email = pop.email[o.contact]
        headers = {"to": email, "message-id": f"{o.ts}.{_hex(seed, 'mgm', o.send, o.contact, n=16)}@mg.example.com",
                   "from": "News <news@mg.example.com>", "subject": f"Weekly news {_weekly(o.send)[7:]}"}
        base = {"recipient": email, "recipient-domain": email.split("@")[1], "tags": ["newsletter"], "campaigns": [],
                "user-variables": {}, "message": {"headers": headers, "size": 18937}}

        def ev(name: str, ts: float, o: Outcome = o, base: dict = base, **extra: object) -> None:
            items.append({"event": name, "id": _mg_id(seed, name, o.send, o.contact), "timestamp": round(ts, 3),
                          "log-level": "error" if name == "failed" else "info", **base, **extra})

        ev("accepted", o.ts + 0.25)
        if o.kind != "delivered":
            text, enhanced, code = HARD if o.kind == "hard" else SOFT
            ev("failed", o.ts + 3.5, severity="permanent" if o.kind == "hard" else "temporary",
               reason="bounce" if o.kind == "hard" else "generic",
               **{"delivery-status": {"tls": True, "mx-host": "mx." + email.split("@")[1], "code": int(code),
                                      "description": "", "attempt-no": 1, "message": text[4:], "enhanced-code": enhanced,
                                      "session-seconds": 0.4}})
            continue
        ev("delivered", o.ts + 2.5, **{"delivery-status": {"tls": True, "code": 250, "message": "OK", "attempt-no": 1,
                                                           "description": "", "session-seconds": 0.3}})
        if o.open_at:
            ev("opened", o.open_at + 0.5, ip="203.0.113.77", **{"client-info": {"client-type": "browser", "user-agent": UA}})
        if o.click_at:
            ev("clicked", o.click_at + 0.5, ip="203.0.113.77", url=LINKS[o.contact % len(LINKS)],
               **{"client-info": {"client-type": "browser", "user-agent": UA}})
        if o.complaint_at:
            ev("complained", o.complaint_at + 0.5)
        if o.unsub_at:
            ev("unsubscribed", o.unsub_at + 0.5, ip="203.0.113.77")
    items = sorted((e for e in items if window[0] <= e["timestamp"] < window[1]), key=lambda e: (e["timestamp"], e["id"]))
    page = {"items": items, "paging": {"next": "https://api.mailgun.net/v3/mg.example.com/events/next",
                                       "previous": "https://api.mailgun.net/v3/mg.example.com/events/previous"}}
    _write(out, f"mailgun/events/mailgun_events_{tag}.json", json.dumps(page).encode())
    # webhook deliveries of the permanent failures, re-sent once (Mailgun retries on a slow answer): duplicates on purpose
    hooks = [e for e in items if e["event"] == "failed" and e["severity"] == "permanent"]
    body = "".join(json.dumps({"signature": {"timestamp": str(int(e["timestamp"])), "token": _hex(seed, "tok", e["id"], n=50),
                                             "signature": _hex(seed, "sig", e["id"], n=64)}, "event-data": e}) + "\n"
                   for e in hooks + hooks[:2])
    _write(out, f"mailgun/events/mailgun_webhooks_permanent_fail_{tag}.jsonl", body.encode())
    return len(items), len(hooks) + min(2, len(hooks))


# ------------------------------------------------------------------ Salesforce Marketing Cloud
SFMC_COMMON = ["ClientID", "SendID", "SubscriberKey", "EmailAddress", "SubscriberID", "ListID", "EventDate", "EventType"]
SFMC_TAIL = ["BatchID", "TriggeredSendExternalKey"]


def _sfmc_date(ts: int) -> str:
    d = dt.datetime.fromtimestamp(ts, SFMC_CST)
    return f"{d.month}/{d.day}/{d.year} {(d.hour % 12) or 12}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"


def write_sfmc(out: Path, pop: Population, outcomes: list[Outcome], tag: str, seed: int,
               window: tuple[int, int]) -> dict[str, int]:
    rows: dict[str, list[list[str]]] = {k: [] for k in ("sends", "opens", "clicks", "bounces", "unsubscribes", "complaints")}
    stamp: dict[int, int] = {}  # id(row) -> event time, to keep the window's rows
    for o in outcomes:
        email = pop.email[o.contact]
        # some subscribers were imported with other letter case: the normalised address is the same
        shown = email.upper() if o.contact % 17 == 0 else email
        head = ["7281698", str(o.send * 10 + 3), f"0035g{_hex(seed, 'sk', o.contact, n=10).upper()}", shown,
                str(98700000 + o.contact), "1001"]
        def add(entity: str, ts: int, tail: list[str], head: list[str] = head) -> None:
            row = head + [_sfmc_date(ts), *tail]
            stamp[id(row)] = ts
            rows[entity].append(row)

        add("sends", o.ts, ["Sent", "0", ""])
        if o.kind != "delivered":
            text, _, code = HARD if o.kind == "hard" else SOFT
            category = "Hard bounce" if o.kind == "hard" else "Soft bounce"
            add("bounces", o.ts + 60, ["Bounce", category, code, text, "0", ""])
            continue
        if o.open_at:
            add("opens", o.open_at, ["Open", "0", ""])
        if o.click_at:
            k = o.contact % len(LINKS)
            add("clicks", o.click_at, ["Click", str(5000 + k), str(700 + k), LINKS[k], f"link{k + 1}", "0", ""])
        if o.unsub_at:
            add("unsubscribes", o.unsub_at, ["Unsubscribe", "0", ""])
        if o.complaint_at:
            add("complaints", o.complaint_at, ["Complaint", "0", ""])
    for entity in rows:
        rows[entity] = [r for r in rows[entity] if window[0] <= stamp[id(r)] < window[1]]
    headers = {
        "sends": SFMC_COMMON + SFMC_TAIL, "opens": SFMC_COMMON + SFMC_TAIL, "unsubscribes": SFMC_COMMON + SFMC_TAIL,
        "complaints": SFMC_COMMON + SFMC_TAIL,
        "clicks": SFMC_COMMON + ["SendURLID", "URLID", "URL", "Alias"] + SFMC_TAIL,
        "bounces": SFMC_COMMON + ["BounceCategory", "SMTPCode", "BounceReason"] + SFMC_TAIL,
    }
    names = {"sends": "Sent", "opens": "Opens", "clicks": "Clicks", "bounces": "Bounces", "unsubscribes": "Unsubs",
             "complaints": "Complaints"}
    for entity, rs in rows.items():
        _write(out, f"sfmc/{entity}/{names[entity]}_{tag}.csv", _csv(headers[entity], rs))
    return {f"sfmc/{k}": len(v) for k, v in rows.items()}


# ------------------------------------------------------------------ Zoho
def write_zoho(out: Path, pop: Population, outcomes: list[Outcome], tag: str, seed: int, window: tuple[int, int]) -> int:
    bodies: list[tuple[int, dict]] = []
    for o in outcomes:
        email = pop.email[o.contact]
        item = {"contact_id": 1314909000000100000 + o.contact, "contact_email": email, "rcpt_domain": email.split("@")[1],
                "rcpt_additional_data": {}, "transmission_name": f"Weekly news {_weekly(o.send)[7:]}",
                "transmission_id": 1314909000000000000 + o.send, "injected_time": o.ts * 1000, "zuid": 60012345678,
                "sending_ip": "198.51.100.90"}
        if o.kind != "delivered":
            text, enhanced, code = HARD if o.kind == "hard" else SOFT
            kind = "hardbounce" if o.kind == "hard" else "softbounce"
            bodies.append((o.ts + 3, {"webhook_name": "Bounce webhook", "webhook_id": "1314909000000063006", "action": "bounce",
                                      "actionType": kind, "data": [{**item, "bounce_code": code, "bounce_type": kind,
                                                                    "bounce_extended_code": enhanced, "bounce_reason": text[10:],
                                                                    "action_time": (o.ts + 3) * 1000}]}))
        elif o.unsub_at:
            bodies.append((o.unsub_at, {"webhook_name": "Unsubscribe webhook", "webhook_id": "1314909000000063007",
                                        "action": "unsubscribe", "actionType": "unsubscribe",
                                        "data": [{**item, "action_by": "recipient", "action_time": o.unsub_at * 1000}]}))
    bodies = sorted((b for b in bodies if window[0] <= b[0] < window[1]), key=lambda x: (x[0], json.dumps(x[1], sort_keys=True)))
    _write(out, f"zoho/events/zoho_webhooks_{tag}.jsonl", "".join(json.dumps(b) + "\n" for _, b in bodies).encode())
    return len(bodies)


# ------------------------------------------------------------------ CRMs
def _crm_people(pop: Population, seed: int, crm: str, share: float, end: int) -> list[int]:
    return [i for i in range(pop.n_random) if _u(seed, crm, "person", i) < share and pop.created[i] < end]


def _scenario_index(pop: Population, name: str) -> int:
    return pop.n_random + pop.scenario_names.index(name)


def _ts_sf(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _hm(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _day(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def write_crms(out: Path, pop: Population, start: dt.date, days: int, tag: str, seed: int) -> dict[str, int]:
    end = (start - dt.date(1970, 1, 1)).days * DAY + days * DAY
    companies = [c for c in COMPANIES if c]
    scen = {name: (crm, how) for name, crm, how in CRM_SCENARIOS if name in pop.scenario_names}

    # HubSpot companies: the companies HubSpot contacts name (Company Name), one row each
    hs_rows = []
    for k, name in enumerate(companies):
        created = end - (400 + 37 * k) * DAY
        hs_rows.append([str(5001 + k), name, name.lower().replace(" ", "") + ".example", "Prospect" if k % 3 else "Customer",
                        ("Logistics", "Software", "Healthcare", "Retail")[k % 4], "Customer" if k % 3 == 0 else "Lead", "",
                        f"{10 + k} Example Street", ("Austin", "Leeds", "Lyon", "Toronto")[k % 4], "",
                        f"{73300 + k}", ("United States", "United Kingdom", "France", "Canada")[k % 4],
                        str(20 + 13 * k), _hm(end - (3 + k) * DAY), _hm(created), _hm(end - (2 + k) * DAY)])
    _write(out, f"hubspot/companies/hubspot_companies_{tag}.csv", _csv(
        ["Record ID", "Company name", "Company Domain Name", "Type", "Industry", "Lifecycle Stage", "Company status",
         "Street Address", "City", "State/Region", "Postal Code", "Country/Region", "Number of Employees",
         "Last Activity Date", "Create Date", "Last Modified Date"], hs_rows))

    # Salesforce: accounts (one closed), contacts, leads (one converted)
    accounts = [*companies, CLOSED_ACCOUNT]
    acc_id = {name: f"0015g00000{k:03d}AAA" for k, name in enumerate(accounts)}
    acc_rows = [[acc_id[n], n, "Customer - Direct" if k % 2 else "Prospect",
                 ("Transportation", "Technology", "Healthcare")[k % 3],
                 f"https://www.{n.lower().replace(' ', '')}.example", "Closed" if n == CLOSED_ACCOUNT else "",
                 f"{20 + k} Example Avenue", ("Austin", "Leeds", "Lyon")[k % 3], "", f"{10000 + k}", "US",
                 str(50 + 7 * k), _day(end - (5 + k) * DAY), _ts_sf(end - (500 + k) * DAY), _ts_sf(end - (4 + k) * DAY)]
                for k, n in enumerate(accounts)]
    _write(out, f"salesforce/accounts/Account_{tag}.csv", _csv(
        ["Id", "Name", "Type", "Industry", "Website", "Company_Status__c", "BillingStreet", "BillingCity", "BillingState",
         "BillingPostalCode", "BillingCountry", "NumberOfEmployees", "LastActivityDate", "CreatedDate", "LastModifiedDate"],
        acc_rows))
    contact_header = ["Id", "AccountId", "Email", "FirstName", "LastName", "Title", "Phone", "MobilePhone", "LeadSource",
                      "HasOptedOutOfEmail", "IsEmailBounced", "EmailBouncedReason", "EmailBouncedDate", "SMS_Opt_In__c",
                      "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry",
                      "LastActivityDate", "CreatedDate", "LastModifiedDate"]
    contact_rows = []
    people = _crm_people(pop, seed, "salesforce", 0.2, end)
    people += [_scenario_index(pop, n) for n, (crm, _) in scen.items() if crm == "salesforce"]
    for i in people:
        how = scen.get(pop.scenario_names[i - pop.n_random], ("", ""))[1] if i >= pop.n_random else ""
        u = [_u(seed, "sf", i, j) for j in range(5)]
        closed = how == "closed_account" or (not how and u[0] < 0.03)
        account = CLOSED_ACCOUNT if closed else companies[int(u[1] * len(companies))]
        created = min(int(pop.created[i]), end - 30 * DAY)
        dead = how == "bounced" or (not how and pop.dead_at[i] < end and u[2] < 0.5)
        bounced_at = min(int(pop.dead_at[i]), end - DAY) if dead and pop.dead_at[i] < end else end - 10 * DAY
        mobile = f"+1 555 01{int(u[3] * 100):02d}" if u[3] < 0.5 else ""
        contact_rows.append([
            f"0035g00000{i:05d}AAA", acc_id[account], pop.email[i], pop.first[i], pop.last[i], "", "", mobile,
            SOURCES[int(u[4] * len(SOURCES))] if u[4] < 0.9 else "Purchased List",
            "true" if how == "opted_out" else "false", "true" if dead else "false",
            HARD[0] if dead else "", _ts_sf(bounced_at) if dead else "", ("true" if u[3] < 0.3 else "false") if mobile else "",
            f"{1 + i % 90} Example Road", ("Austin", "Leeds", "Lyon")[i % 3], "", f"{20000 + i}", "US",
            _day(end - (1 + i % 40) * DAY), _ts_sf(created), _ts_sf(end - (i % 20) * DAY - 3600)])
    _write(out, f"salesforce/contacts/Contact_{tag}.csv", _csv(contact_header, contact_rows))
    lead_rows = []
    for i in _crm_people(pop, seed, "salesforce-lead", 0.06, end):
        u = [_u(seed, "lead", i, j) for j in range(3)]
        converted = u[0] < 0.1
        lead_rows.append([
            f"00Q5g00000{i:05d}AAA", pop.email[i], pop.first[i], pop.last[i], "", "", "",
            ("Web", "Trade Show", "Purchased List", "Partner Referral")[int(u[1] * 4)], "false", "false", "", "", "",
            _day(end - (3 + i % 20) * DAY), companies[int(u[2] * len(companies))],
            "Closed - Converted" if converted else "Open - Not Contacted",
            "true" if converted else "false", f"0035g00000{i:05d}AAA" if converted else "",
            f"{1 + i % 70} Example Street", "Austin", "TX", f"{73000 + i}", "US",
            _ts_sf(min(int(pop.created[i]), end - 30 * DAY)), _ts_sf(end - (i % 30) * DAY - 7200)])
    _write(out, f"salesforce/leads/Lead_{tag}.csv", _csv(
        ["Id", "Email", "FirstName", "LastName", "Title", "Phone", "MobilePhone", "LeadSource", "HasOptedOutOfEmail",
         "IsEmailBounced", "EmailBouncedReason", "EmailBouncedDate", "SMS_Opt_In__c", "LastActivityDate", "Company", "Status",
         "IsConverted", "ConvertedContactId", "Street", "City", "State", "PostalCode", "Country", "CreatedDate",
         "LastModifiedDate"], lead_rows))

    # Pipedrive: organizations (one bankrupt) and persons, as GET /v1 pages
    orgs = [*companies, BANKRUPT_ORG]
    org_objs = [{"id": 301 + k, "name": n, "company_status": "Bankrupt" if n == BANKRUPT_ORG else "Active",
                 "address": f"{30 + k} Example Way, Dublin", "address_street_number": str(30 + k), "address_route": "Example Way",
                 "address_locality": "Dublin", "address_country": "Ireland", "address_postal_code": f"D0{k % 9}",
                 "active_flag": True, "people_count": 0, "owner_id": {"id": 1, "name": "Sales"},
                 "last_activity_date": _day(end - (6 + k) * DAY), "add_time": _hm(end - (300 + k) * DAY) + ":00",
                 "update_time": _hm(end - (6 + k) * DAY) + ":00"} for k, n in enumerate(orgs)]
    persons = []
    people = _crm_people(pop, seed, "pipedrive", 0.12, end)
    people += [_scenario_index(pop, n) for n, (crm, _) in scen.items() if crm == "pipedrive"]
    for i in people:
        how = scen.get(pop.scenario_names[i - pop.n_random], ("", ""))[1] if i >= pop.n_random else ""
        u = [_u(seed, "pd", i, j) for j in range(4)]
        org = orgs[-1] if how == "bankrupt_org" or (not how and u[0] < 0.04) else orgs[int(u[1] * len(companies))]
        org_obj = org_objs[orgs.index(org)]
        org_obj["people_count"] += 1
        email = pop.email[i]
        if how == "spelling":
            email = " " + email.title() + " "
        phones = [{"label": "work", "value": f"+353 1 555 {i:04d}", "primary": True}]
        if u[2] < 0.5:
            phones.append({"label": "mobile", "value": f"+353 87 555 {i:04d}", "primary": False})
        persons.append({
            "id": 9001 + i, "name": f"{pop.first[i]} {pop.last[i]}", "first_name": pop.first[i], "last_name": pop.last[i],
            "org_id": {"name": org, "value": org_obj["id"]}, "org_name": org,
            "email": [{"label": "work", "value": email, "primary": True}], "phone": phones,
            "marketing_status": "subscribed" if u[3] < 0.85 else ("unsubscribed" if u[3] < 0.95 else "no_consent"),
            "sms_consent": bool(u[2] < 0.3), "lead_source": SOURCES[int(u[0] * len(SOURCES))],
            "postal_address": f"{1 + i % 50} Example Lane, Dublin", "postal_address_street_number": str(1 + i % 50),
            "postal_address_route": "Example Lane", "postal_address_locality": "Dublin", "postal_address_country": "Ireland",
            "postal_address_postal_code": f"D0{i % 9}", "active_flag": True, "owner_id": {"id": 1, "name": "Sales"},
            "last_activity_date": _day(end - (2 + i % 45) * DAY),
            "add_time": _hm(min(int(pop.created[i]), end - 30 * DAY)) + ":00", "update_time": _hm(end - (i % 25) * DAY) + ":00",
        })
    page = {"success": True, "additional_data": {"pagination": {"start": 0, "limit": 500, "more_items_in_collection": False}}}
    _write(out, f"pipedrive/persons/persons_{tag}.json", json.dumps({**page, "data": persons}, indent=1).encode())
    _write(out, f"pipedrive/organizations/organizations_{tag}.json", json.dumps({**page, "data": org_objs}, indent=1).encode())
    return {"hubspot/companies": len(hs_rows), "salesforce/accounts": len(acc_rows), "salesforce/contacts": len(contact_rows),
            "salesforce/leads": len(lead_rows), "pipedrive/persons": len(persons), "pipedrive/organizations": len(org_objs)}


def write_more(out: Path, pop: Population, start: dt.date, days: int, seed: int) -> dict[str, int]:
    """Every extra connector's exports for [start, start + days); rows written per platform/entity."""
    tag = sc.file_range(start, days)
    lo = (start - dt.date(1970, 1, 1)).days * DAY
    window = (lo, lo + days * DAY)
    outcomes: dict[str, list[Outcome]] = {p: [] for p in CADENCE}
    for o in simulate_more(pop, start, days, seed):
        outcomes[o.platform].append(o)
    counts: dict[str, int] = {}
    counts["postmark/events"], counts["postmark/bounces"] = write_postmark(out, pop, outcomes["postmark"], tag, seed, window)
    counts["mailgun/events"], _ = write_mailgun(out, pop, outcomes["mailgun"], tag, seed, window)
    counts |= write_sfmc(out, pop, outcomes["sfmc"], tag, seed, window)
    counts["zoho/events"] = write_zoho(out, pop, outcomes["zoho"], tag, seed, window)
    counts |= write_crms(out, pop, start, days, tag, seed)
    return counts
