"""CRM exports: HubSpot companies, Salesforce accounts / contacts / leads, Pipedrive organizations / persons.

Each CRM holds a seeded share of the random contacts (keyed draws, see hashed_draws.py) and a few scenario
contacts where it fits: a contact of a closed account, an opted-out contact, an address spelled differently.
The handful of companies are written row by row; the people, column-wise.

A record's columns depend only on what happened to it up to the window's end (its creation, its address dying, the
touch cycle of crm_dates.py), and each writer also works out when the record last changed. A follow-up drop
(Window.full off) holds only the records changed since its start, the way each CRM's incremental read works:
Salesforce by a `WHERE SystemModstamp >= :last_export` (or LastModifiedDate) SOQL / Bulk query, Pipedrive by the
records' `update_time` (API v2 `updated_since`, v1 `/recents?since_timestamp=`), HubSpot companies by a
`lastmodifieddate` filter on the export's search request. The files keep the full export's format: the same CSV
columns, the same `GET /v1` page with fewer items. Scenario contacts are always written: their timelines count back
from each drop's end (so does the bounce date of the `bounced` one).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from .crm_dates import crm_created, fixed_date, last_touch
from .hashed_draws import HashedDraws
from .json_sql import Sql, Str, json_sql, sql_literal
from .model import COMPANIES, DAY, SOURCES, Population
from .more_formats import HARD, write_file
from .summary import Window
from .text_columns import connect, csv_quoted, dict_col, iso_col, json_quoted, query_lines

UTC = dt.UTC
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
CITIES = ("Austin", "Leeds", "Lyon")
LEAD_SOURCES = ("Web", "Trade Show", "Purchased List", "Partner Referral")
COMPANY_CYCLE = 14  # days between two touches of a company, account or organization (crm_dates.last_touch)
PAGE = {"success": True, "additional_data": {"pagination": {"start": 0, "limit": 500, "more_items_in_collection": False}}}
CONTACT_HEADER = ["Id", "AccountId", "Email", "FirstName", "LastName", "Title", "Phone", "MobilePhone", "LeadSource",
                  "HasOptedOutOfEmail", "IsEmailBounced", "EmailBouncedReason", "EmailBouncedDate", "SMS_Opt_In__c",
                  "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry",
                  "LastActivityDate", "CreatedDate", "LastModifiedDate"]
LEAD_HEADER = ["Id", "Email", "FirstName", "LastName", "Title", "Phone", "MobilePhone", "LeadSource",
               "HasOptedOutOfEmail", "IsEmailBounced", "EmailBouncedReason", "EmailBouncedDate", "SMS_Opt_In__c",
               "LastActivityDate", "Company", "Status", "IsConverted", "ConvertedContactId", "Street", "City", "State",
               "PostalCode", "Country", "CreatedDate", "LastModifiedDate"]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _stamp(ts: int, fmt: str) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime(fmt)


def _hm(ts: int) -> str:
    return _stamp(ts, "%Y-%m-%d %H:%M")


def _day(ts: int) -> str:
    return _stamp(ts, "%Y-%m-%d")


class People:
    """The contacts one CRM holds (a seeded share of the random ones, then its scenario contacts) and their draws."""

    def __init__(self, pop: Population, draws: HashedDraws, crm: str, share: float, end: int, draw_key: str,
                 n_draws: int, scenario_how: dict[str, str] | None = None) -> None:
        candidates = np.nonzero(pop.created[:pop.n_random] < end)[0]
        chosen = candidates[draws.uniform(crm, "person", candidates) < share]
        how = scenario_how or {}
        scen = [pop.n_random + pop.scenario_names.index(name) for name in how]
        self.idx = np.concatenate([chosen, np.array(scen, dtype=np.int64)]).astype(np.int64)
        self.how = [""] * len(chosen) + list(how.values())
        self.u = [draws.uniform(draw_key, self.idx, j) for j in range(n_draws)]

    def is_how(self, how: str) -> np.ndarray:
        return np.array([h == how for h in self.how], dtype=bool)

    @property
    def scripted(self) -> np.ndarray:
        return np.array([bool(h) for h in self.how], dtype=bool)


def _changed_rows(win: Window, changed: np.ndarray, scripted: np.ndarray, columns: dict) -> pa.Table:
    """The people's columns as a table, less the rows a follow-up drop leaves out (`changed`: when each last
    changed; scenario rows stay, their timelines count back from each drop's end)."""
    table = pa.table(columns)
    return table if win.full else table.filter(pa.array(win.changed(changed) | scripted))


def _scenarios(pop: Population, crm: str) -> dict[str, str]:
    return {name: how for name, c, how in CRM_SCENARIOS if c == crm and name in pop.scenario_names}


def write_crms(out: Path, pop: Population, win: Window, draws: HashedDraws) -> dict[str, int]:
    companies = [c for c in COMPANIES if c]
    counts = {"hubspot/companies": _write_hubspot_companies(out, companies, win)}
    accounts = [*companies, CLOSED_ACCOUNT]
    acc_id = [f"0015g00000{k:03d}AAA" for k in range(len(accounts))]
    counts["salesforce/accounts"] = _write_accounts(out, accounts, acc_id, win)
    con = connect()
    counts["salesforce/contacts"] = _write_sf_contacts(out, con, pop, draws, companies, acc_id, win)
    counts["salesforce/leads"] = _write_sf_leads(out, con, pop, draws, companies, win)
    counts["pipedrive/persons"], counts["pipedrive/organizations"] = _write_pipedrive(out, con, pop, draws, companies,
                                                                                      win)
    con.close()
    return counts


def _company_touches(win: Window, n: int) -> tuple[list[int], np.ndarray]:
    """Each company's (account's, organization's) last touch, and whether it changed inside the window."""
    touch = last_touch(win.end_ts, np.arange(n), COMPANY_CYCLE)
    return touch.tolist(), win.changed(touch - 1)


def _write_hubspot_companies(out: Path, companies: list[str], win: Window) -> int:
    touch, changed = _company_touches(win, len(companies))
    rows = []
    for k, name in enumerate(companies):
        if not changed[k]:
            continue
        created = fixed_date(400 + 37 * k)
        rows.append([str(5001 + k), name, name.lower().replace(" ", "") + ".example", "Prospect" if k % 3 else "Customer",
                     ("Logistics", "Software", "Healthcare", "Retail")[k % 4], "Customer" if k % 3 == 0 else "Lead", "",
                     f"{10 + k} Example Street", ("Austin", "Leeds", "Lyon", "Toronto")[k % 4], "",
                     f"{73300 + k}", ("United States", "United Kingdom", "France", "Canada")[k % 4],
                     str(20 + 13 * k), _hm(touch[k] - 3 * DAY), _hm(created), _hm(touch[k] - 2 * DAY)])
    write_file(out, f"hubspot/companies/hubspot_companies_{win.tag}.csv", _csv(
        ["Record ID", "Company name", "Company Domain Name", "Type", "Industry", "Lifecycle Stage", "Company status",
         "Street Address", "City", "State/Region", "Postal Code", "Country/Region", "Number of Employees",
         "Last Activity Date", "Create Date", "Last Modified Date"], rows))
    return len(rows)


def _write_accounts(out: Path, accounts: list[str], acc_id: list[str], win: Window) -> int:
    sf = "%Y-%m-%dT%H:%M:%S.000Z"
    touch, changed = _company_touches(win, len(accounts))
    rows = [[acc_id[k], n, "Customer - Direct" if k % 2 else "Prospect", ("Transportation", "Technology", "Healthcare")[k % 3],
             f"https://www.{n.lower().replace(' ', '')}.example", "Closed" if n == CLOSED_ACCOUNT else "",
             f"{20 + k} Example Avenue", CITIES[k % 3], "", f"{10000 + k}", "US", str(50 + 7 * k),
             _day(touch[k] - 5 * DAY), _stamp(fixed_date(500 + k), sf), _stamp(touch[k] - 4 * DAY, sf)]
            for k, n in enumerate(accounts) if changed[k]]
    write_file(out, f"salesforce/accounts/Account_{win.tag}.csv", _csv(
        ["Id", "Name", "Type", "Industry", "Website", "Company_Status__c", "BillingStreet", "BillingCity", "BillingState",
         "BillingPostalCode", "BillingCountry", "NumberOfEmployees", "LastActivityDate", "CreatedDate", "LastModifiedDate"],
        rows))
    return len(rows)


def _people_columns(pop: Population, idx: np.ndarray, quote: Callable[[list[str]], pa.Array]) -> dict[str, pa.Array]:
    """Email, first and last name of the people, quoted for the output format (values formatted once each)."""
    return {"email": quote([pop.email[i] for i in idx.tolist()]), "first": quote([pop.first[i] for i in idx.tolist()]),
            "last": quote([pop.last[i] for i in idx.tolist()])}


def _write_sf_contacts(out: Path, con: duckdb.DuckDBPyConnection, pop: Population, draws: HashedDraws, companies: list[str],
                       acc_id: list[str], win: Window) -> int:
    end = win.end_ts
    p = People(pop, draws, "salesforce", 0.2, end, "sf", 5, _scenarios(pop, "salesforce"))
    i, u = p.idx, p.u
    free = ~p.scripted
    closed = p.is_how("closed_account") | (free & (u[0] < 0.03))
    account = np.where(closed, len(companies), (u[1] * len(companies)).astype(np.int64))
    dead_at = pop.dead_at[i]  # a midnight: the bounce date is the day the address died
    died = free & (dead_at < end) & (u[2] < 0.5)
    dead = p.is_how("bounced") | died
    bounced_at = np.where(dead & (dead_at < end), dead_at, end - 10 * DAY)
    mobile = u[3] < 0.5
    # a bought list's contact is a spam-trap risk (POLICY rule 10): never a scenario contact, whose outcome is its own
    source = np.where(free & (u[4] >= 0.9), len(SOURCES), (u[4] * len(SOURCES)).astype(np.int64))
    created = crm_created(pop.created[i])
    activity, touch = last_touch(end, i, 40), last_touch(end, i, 20)  # two cycles: an activity, an edit
    changed = np.maximum.reduce([pop.created[i], activity - 1, touch - 1, np.where(died, dead_at, -1)])
    con.register("people", _changed_rows(win, changed, p.scripted, {
        "i": i, **_people_columns(pop, i, csv_quoted), "account": dict_col(acc_id, account),
        "mobile": mobile, "mob": (u[3] * 100).astype(np.int64), "sms": u[3] < 0.3,
        "source": dict_col(csv_quoted([*SOURCES, "Purchased List"]), source), "opted": p.is_how("opted_out"),
        "dead": dead, "bounced": iso_col(bounced_at, np.zeros(len(i), dtype=np.int64)),
        "city": dict_col(list(CITIES), i % 3), "activity": iso_col(activity - DAY),
        "created": iso_col(created, np.zeros(len(i), dtype=np.int64)),
        "modified": iso_col(np.maximum(touch - 3600, created), np.zeros(len(i), dtype=np.int64)),
    }))
    _, lines = query_lines(con, f"""
        SELECT 0 AS ts, concat('0035g00000', format('{{:05d}}', i), 'AAA,', account, ',', email, ',', first, ',', last,
          ',,,', CASE WHEN mobile THEN concat('+1 555 01', lpad(mob::VARCHAR, 2, '0')) ELSE '' END, ',', source, ',',
          opted::VARCHAR, ',', dead::VARCHAR, ',', CASE WHEN dead THEN {sql_literal(HARD[0])} ELSE '' END, ',',
          CASE WHEN dead THEN bounced ELSE '' END, ',', CASE WHEN mobile THEN sms::VARCHAR ELSE '' END, ',',
          1 + i % 90, ' Example Road,', city, ',,', 20000 + i, ',US,', left(activity, 10), ',', created, ',',
          modified, chr(10)) AS line
        FROM people""")
    write_file(out, f"salesforce/contacts/Contact_{win.tag}.csv", (",".join(CONTACT_HEADER) + "\n").encode() + lines.joined())
    return len(lines)


def _write_sf_leads(out: Path, con: duckdb.DuckDBPyConnection, pop: Population, draws: HashedDraws,
                    companies: list[str], win: Window) -> int:
    end = win.end_ts
    p = People(pop, draws, "salesforce-lead", 0.06, end, "lead", 3)
    i, u = p.idx, p.u
    created = crm_created(pop.created[i])
    activity, touch = last_touch(end, i, 20), last_touch(end, i, 30)  # two cycles: an activity, an edit
    changed = np.maximum.reduce([pop.created[i], activity - 1, touch - 1])
    con.register("leads", _changed_rows(win, changed, p.scripted, {
        "i": i, **_people_columns(pop, i, csv_quoted), "converted": u[0] < 0.1,
        "source": dict_col(csv_quoted(list(LEAD_SOURCES)), (u[1] * 4).astype(np.int64)),
        "company": dict_col(csv_quoted(companies), (u[2] * len(companies)).astype(np.int64)),
        "activity": iso_col(activity - 3 * DAY),
        "created": iso_col(created, np.zeros(len(i), dtype=np.int64)),
        "modified": iso_col(np.maximum(touch - 7200, created), np.zeros(len(i), dtype=np.int64)),
    }))
    _, lines = query_lines(con, """
        SELECT 0 AS ts, concat('00Q5g00000', format('{:05d}', i), 'AAA,', email, ',', first, ',', last, ',,,,', source,
          ',false,false,,,,', left(activity, 10), ',', company, ',',
          CASE WHEN converted THEN 'Closed - Converted,true,0035g00000' || format('{:05d}', i) || 'AAA'
               ELSE 'Open - Not Contacted,false,' END, ',',
          1 + i % 70, ' Example Street,Austin,TX,', 73000 + i, ',US,', created, ',', modified, chr(10)) AS line
        FROM leads""")
    write_file(out, f"salesforce/leads/Lead_{win.tag}.csv", (",".join(LEAD_HEADER) + "\n").encode() + lines.joined())
    return len(lines)


def _person() -> dict:
    phone = [{"label": "work", "value": Str("concat('+353 1 555 ', format('{:04d}', i))"), "primary": True},
             {"label": "mobile", "value": Str("concat('+353 87 555 ', format('{:04d}', i))"), "primary": False}]
    return {
        "id": Sql("9001 + i"), "name": Sql("name_j"), "first_name": Sql("first"), "last_name": Sql("last"),
        "org_id": {"name": Sql("org_j"), "value": Sql("org_id")}, "org_name": Sql("org_j"),
        "email": [{"label": "work", "value": Sql("email"), "primary": True}],
        "phone": Sql(f"CASE WHEN two_phones THEN {json_sql(phone, 1, 3)} ELSE {json_sql(phone[:1], 1, 3)} END"),
        "marketing_status": Str("status"), "sms_consent": Sql("sms::VARCHAR"), "lead_source": Sql("source"),
        "postal_address": Str("concat(1 + i % 50, ' Example Lane, Dublin')"),
        "postal_address_street_number": Str("(1 + i % 50)::VARCHAR"), "postal_address_route": "Example Lane",
        "postal_address_locality": "Dublin", "postal_address_country": "Ireland",
        "postal_address_postal_code": Str("concat('D0', i % 9)"), "active_flag": True,
        "owner_id": {"id": 1, "name": "Sales"}, "last_activity_date": Str("left(activity, 10)"),
        "add_time": Str("added"), "update_time": Str("updated"),
    }


def _write_pipedrive(out: Path, con: duckdb.DuckDBPyConnection, pop: Population, draws: HashedDraws,
                     companies: list[str], win: Window) -> tuple[int, int]:
    end = win.end_ts
    orgs = [*companies, BANKRUPT_ORG]
    p = People(pop, draws, "pipedrive", 0.12, end, "pd", 4, _scenarios(pop, "pipedrive"))
    i, u = p.idx, p.u
    org = np.where(p.is_how("bankrupt_org") | (~p.scripted & (u[0] < 0.04)), len(orgs) - 1,
                   (u[1] * len(companies)).astype(np.int64))
    email = [pop.email[x] for x in i.tolist()]
    email = [" " + e.title() + " " if how == "spelling" else e for e, how in zip(email, p.how, strict=True)]
    # scenario persons stay subscribed: their scenario, not a drawn status, decides their outcome
    status = np.where(p.scripted | (u[3] < 0.85), 0, np.where(u[3] < 0.95, 1, 2))
    added = crm_created(pop.created[i]) // 60 * 60
    activity, touch = last_touch(end, i, 45), last_touch(end, i, 25)  # two cycles: an activity, an edit
    changed = np.maximum.reduce([pop.created[i], activity - 1, touch - 1])
    con.register("persons", _changed_rows(win, changed, p.scripted, {
        "i": i, **_people_columns(pop, i, json_quoted), "email": json_quoted(email),
        "name_j": json_quoted([f"{pop.first[x]} {pop.last[x]}" for x in i.tolist()]),
        "org_j": dict_col(json_quoted(orgs), org), "org_id": 301 + org, "two_phones": u[2] < 0.5, "sms": u[2] < 0.3,
        "status": dict_col(["subscribed", "unsubscribed", "no_consent"], status),
        "source": dict_col(json_quoted(list(SOURCES)), (u[0] * len(SOURCES)).astype(np.int64)),
        "activity": iso_col(activity - 2 * DAY),
        "added": iso_col(added, sep=" ", suffix=""),
        "updated": iso_col(np.maximum(touch, added), sep=" ", suffix=""),
    }))
    sep = ",\n  "  # between the items of the data list (json.dumps, indent=1)
    _, people = query_lines(con, f"SELECT 0 AS ts, {json_sql(_person(), 1, 2, suffix=sep)} AS line FROM persons")
    head, tail = json.dumps({**PAGE, "data": ["@"]}, indent=1).split('"@"')
    body = (head.encode() + people.joined(trim_last=len(sep)) + tail.encode()) if len(people) else json.dumps(
        {**PAGE, "data": []}, indent=1).encode()
    write_file(out, f"pipedrive/persons/persons_{win.tag}.json", body)

    people_count = np.bincount(org, minlength=len(orgs)).tolist()
    joined = np.full(len(orgs), -1, dtype=np.int64)  # an organization's people_count changes when a person is added
    np.maximum.at(joined, org, pop.created[i])
    touch, changed = _company_touches(win, len(orgs))
    changed |= win.changed(joined)
    org_objs = [{"id": 301 + k, "name": n, "company_status": "Bankrupt" if n == BANKRUPT_ORG else "Active",
                 "address": f"{30 + k} Example Way, Dublin", "address_street_number": str(30 + k),
                 "address_route": "Example Way", "address_locality": "Dublin", "address_country": "Ireland",
                 "address_postal_code": f"D0{k % 9}", "active_flag": True, "people_count": people_count[k],
                 "owner_id": {"id": 1, "name": "Sales"}, "last_activity_date": _day(touch[k] - 6 * DAY),
                 "add_time": _hm(fixed_date(300 + k)) + ":00", "update_time": _hm(touch[k] - 6 * DAY) + ":00"}
                for k, n in enumerate(orgs) if changed[k]]
    write_file(out, f"pipedrive/organizations/organizations_{win.tag}.json",
               json.dumps({**PAGE, "data": org_objs}, indent=1).encode())
    return len(people), len(org_objs)
