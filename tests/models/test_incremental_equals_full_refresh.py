"""The daily build is incremental (issue 8): after a next-day drop it must leave every table exactly as a
full refresh over the same raw rows does. Generated data (scenarios included: late and re-sent events,
bounces, complaints, machine opens), 20 days, then the next five (the first days with SES and SendGrid
sends after the 20th), plus two late clicks that turn an old human click into a scanner's."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb

from list_hygiene.generate import generate
from list_hygiene.pipeline import ingest_step, transform_step

# records, not recomputations: a full refresh keeps their rows (full_refresh=false), so they are not compared
RECORDS = {"segment_history", "int_permanent_suppressions"}


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by all"
        ).fetchall()
        for schema, name in names:
            if name in RECORDS:
                continue
            # built_at: when the build that wrote the row started, different by design
            cols = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? and column_name <> 'built_at' order by ordinal_position", [schema, name]).fetchall()
            # sums of doubles depend on the order rows are added in
            select = ", ".join(f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in cols)
            out[f"{schema}.{name}"] = sorted(con.execute(f'select {select} from {schema}."{name}"').fetchall(),
                                             key=repr)
    return out


def full_refresh_copy(daily: Path, vars: dict | None = None) -> Path:
    """A copy of the daily warehouse beside it, rebuilt with --full-refresh from the same raw rows."""
    full = daily.with_name("full.duckdb")
    shutil.copy(daily, full)
    transform_step(full, vars=vars, full_refresh=True, unit_tests=False)
    return full


def built_first_drop(tmp_path: Path, **kw) -> Path:
    """10 days generated, landed and built into tmp_path/daily.duckdb; the next 2 days generated into tmp_path/d2."""
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=10, malformed=False, **kw)
    generate(tmp_path / "d2", start=dt.date(2026, 8, 11), days=2, malformed=False, **kw)
    daily = tmp_path / "daily.duckdb"
    ingest_step(tmp_path / "d1", daily)
    transform_step(daily)
    return daily


def test_next_day_build_equals_full_refresh(tmp_path: Path) -> None:
    kw = {"contacts": 250, "seed": 11, "malformed": False}
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=20, **kw)
    generate(tmp_path / "d2", start=dt.date(2026, 8, 21), days=5, **kw)
    daily = tmp_path / "daily.duckdb"
    ingest_step(tmp_path / "d1", daily)
    transform_step(daily)
    # late events that change what was decided before: two more links of a message clicked within a second
    # of a human click of the first days make that old click a scanner's (the rule needs 3 links at once)
    with duckdb.connect(str(daily), read_only=True) as con:
        event_key, message_id, email, at = con.execute(
            "select event_key, message_id, email, epoch(occurred_at) from intermediate.int_engagement_events "
            "where platform = 'sendgrid' and event_type = 'click' and is_human order by event_key limit 1"
        ).fetchone()
    late = [{"email": email, "timestamp": int(at) + i, "event": "click", "sg_event_id": f"late-click-{i}",
             "sg_message_id": message_id, "url": f"https://example.com/late/{i}"} for i in (1, 2)]
    (tmp_path / "d2" / "sendgrid" / "events" / "late_clicks.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in late))
    ingest_step(tmp_path / "d2", daily)
    with duckdb.connect(str(daily), read_only=True) as con:
        for table in ("sendgrid__events", "ses__events", "mailgun__events"):
            (loads,) = con.execute(f"select count(distinct _loaded_at) from raw.{table}").fetchone()
            assert loads == 2, f"the second drop must add {table} rows"
    transform_step(daily)
    with duckdb.connect(str(daily), read_only=True) as con:
        (reason,) = con.execute("select machine_reason from intermediate.int_engagement_events where event_key = ?",
                                [event_key]).fetchone()
    assert reason == "clicked_every_link_at_once"

    full = full_refresh_copy(daily)

    got, want = tables(daily), tables(full)
    assert got.keys() == want.keys()
    assert {"intermediate.int_email_events", "intermediate.int_engagement_events",
            "intermediate.int_contact_platform_activity", "marts.deliverability_daily"} <= got.keys()
    assert len(got["intermediate.int_engagement_events"]) > 100
    differ = [name for name in got if got[name] != want[name]]
    assert not differ, f"the incremental build differs from a full refresh in {differ}"


def test_address_verification_follows_its_lists_and_known_addresses(tmp_path: Path) -> None:
    """int_address_verification verifies only new addresses on a daily run, so a changed list must make it
    verify every address again, and an address no longer known must leave it: after both, the table is
    the one a full refresh builds."""
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=10, contacts=150, seed=5, malformed=False)
    daily = tmp_path / "daily.duckdb"
    ingest_step(tmp_path / "d1", daily)
    transform_step(daily)
    table = "intermediate.int_address_verification"
    with duckdb.connect(str(daily)) as con:
        email, domain = con.execute(
            f"select email, domain from {table} where not is_disposable and is_valid_syntax order by email limit 1"
        ).fetchone()
        # the disposable list grows by that address's domain; an address that no longer exists anywhere
        con.execute("insert into raw.ref_disposable_domains values (?, 'test', 'test')", [domain])
        con.execute(f"insert into {table} select 'gone@nowhere.example', * exclude (email) from {table} "
                    "order by email limit 1")
    transform_step(daily)
    with duckdb.connect(str(daily), read_only=True) as con:
        assert con.execute(f"select is_disposable from {table} where email = ?", [email]).fetchone() == (True,)
        assert con.execute(f"select count(*) from {table} where email = 'gone@nowhere.example'").fetchone() == (0,)
        assert con.execute(
            "select count(*) from intermediate.int_suppression_reasons where email = ? and reason = 'disposable'",
            [email]).fetchone() == (1,)
    full = full_refresh_copy(daily)
    assert tables(daily)[table] == tables(full)[table]


def test_contact_activity_upgraded_in_place_is_computed_anew(tmp_path: Path) -> None:
    """int_contact_activity gained `last_event_at` and `last_alive_at` (its merging run needs them). A warehouse
    built before has neither: the next daily run adds them (on_schema_change append_new_columns) instead of
    failing, and computes every row anew, so the table is the one a full refresh builds."""
    daily = built_first_drop(tmp_path, contacts=120, seed=3)
    table = "intermediate.int_contact_activity"
    with duckdb.connect(str(daily)) as con:
        con.execute(f"alter table {table} drop column last_event_at")
        con.execute(f"alter table {table} drop column last_alive_at")
        # what a merge would keep if it trusted these rows: wrong on purpose
        con.execute(f"update {table} set sends_since_last_engagement = 999, last_success_at = null")
    ingest_step(tmp_path / "d2", daily)
    transform_step(daily)
    full = full_refresh_copy(daily)
    # the added columns come last in the upgraded table: compare by name
    def rows(warehouse: Path) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return sorted(con.execute(
                f"select email, first_event_at, sends, sends_since_last_engagement, nth_last_send_at, last_success_at, "
                f"revived_after_hard_bounce_at, revived_after_silence_at, last_event_at, last_alive_at, loaded_at, "
                f"policy_vars from {table}").fetchall(), key=repr)

    got, want = rows(daily), rows(full)
    assert len(got) > 50
    assert got == want


def test_deliverability_marts_upgraded_in_place_are_computed_anew(tmp_path: Path) -> None:
    """campaign_deliverability and deliverability_daily gained `count_basis` and `messages` (rates over messages,
    seed send_count_basis) and deliverability_daily `policy_vars`. A warehouse built before has none of them: the
    next daily run adds them (on_schema_change sync_all_columns) instead of failing and recomputes every row,
    stored rows it would otherwise have kept included, so both tables are the ones a full refresh builds."""
    daily = built_first_drop(tmp_path, contacts=120, seed=4)
    campaigns, days = "marts.campaign_deliverability", "marts.deliverability_daily"
    with duckdb.connect(str(daily)) as con:
        for table, dropped in ((campaigns, ("count_basis", "messages")),
                               (days, ("count_basis", "messages", "policy_vars"))):
            for column in dropped:
                con.execute(f"alter table {table} drop column {column}")
            # what an incremental run would keep if it trusted the stored rows: wrong on purpose
            con.execute(f"update {table} set hard_bounce_rate = 0.5, complaints = 999")
        # the alert lines the older version stored, without the seed digest and layout
        con.execute(f"update {campaigns} set policy_vars = split_part(policy_vars, ';count_basis=', 1)")
        assert con.execute(f"select count(*) from {campaigns} where platform = 'postmark'").fetchone()[0] > 0
    ingest_step(tmp_path / "d2", daily)
    transform_step(daily)
    full = full_refresh_copy(daily)

    def rows(warehouse: Path, table: str) -> list[tuple]:  # the added columns come last when upgraded: by name
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
                "order by column_name", [table.split(".")[1]]).fetchall()]
            return sorted(con.execute(f"select {', '.join(cols)} from {table}").fetchall(), key=repr)

    for table in (campaigns, days):
        got, want = rows(daily, table), rows(full, table)
        assert len(got) > 10 and got == want, table
    with duckdb.connect(str(daily), read_only=True) as con:
        assert con.execute(f"select count(*) from {campaigns} where platform = 'postmark' and messages > 0"
                           ).fetchone()[0] > 0


def test_crm_contacts_follow_conversions_and_company_changes(tmp_path: Path) -> None:
    """int_crm_contacts rebuilds only the CRM records that changed: a lead converted since (it leaves the
    table: its row must go), a Pipedrive organization closed since (its people's company status changes though
    their own rows did not; another one whose head count alone changed rebuilds nobody), a HubSpot company
    renamed (contacts matched by name follow), and a HubSpot contact
    that moved to another address (both addresses are ranked again). After them, the table is the one a
    full refresh builds."""
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=10, contacts=200, seed=7, malformed=False)
    daily = tmp_path / "daily.duckdb"
    ingest_step(tmp_path / "d1", daily)
    transform_step(daily)
    table = "intermediate.int_crm_contacts"
    # the next ingest's time (the raw layer's _loaded_at is when a row landed)
    later = f"timestamp '{dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=5):%Y-%m-%d %H:%M:%S}'"
    with duckdb.connect(str(daily)) as con:
        lead = con.execute(f"select crm_contact_key from {table} where crm_contact_key like 'salesforce:00Q%' "
                           "order by 1 limit 1").fetchone()[0]
        org, counted = [r[0] for r in con.execute(
            "select distinct pipedrive_org_id from staging.stg_pipedrive__persons p "
            "join staging.stg_pipedrive__organizations o using (pipedrive_org_id) "
            "where p.is_active and o.company_status is distinct from 'closed' order by 1 limit 2").fetchall()]
        counted_since = con.execute("select company_loaded_at from staging.stg_pipedrive__organizations "
                                    "where pipedrive_org_id = ?", [counted]).fetchone()[0]
        # a HubSpot address shared with another CRM's record: moving it away makes the other rank first
        moved, shared = con.execute(
            f"select crm_id, email from {table} where crm = 'hubspot' and email in "
            f"(select email from {table} where crm <> 'hubspot') order by 1 limit 1").fetchone()
        # raw rows as a later export would land them (one ingest: one _loaded_at)
        con.execute(f"insert into raw.salesforce__leads select * replace ('true' as is_converted, "
                    f"'2027-01-01T00:00:00.000Z' as last_modified_date, {later} as _loaded_at) "
                    f"from raw.salesforce__leads where lead_id = ? order by _loaded_at desc limit 1",
                    [lead.split(":", 1)[1]])
        con.execute(f"insert into raw.pipedrive__organizations select * replace ('Closed' as company_status, "
                    f"'2027-01-01 00:00:00' as update_time, {later} as _loaded_at) "
                    f"from raw.pipedrive__organizations where cast(org_id as bigint) = ? "
                    f"order by _loaded_at desc limit 1", [org])
        # another organization exported again with only a new head count: its people are not rebuilt (a mark
        # on their stored rows must stay; taken off again before the comparison with a full refresh)
        people = f"crm = 'pipedrive' and crm_id in (select cast(pipedrive_person_id as varchar) from " \
                 f"staging.stg_pipedrive__persons where pipedrive_org_id = {int(counted)})"
        names = con.execute(f"select crm_id, first_name from {table} where {people}").fetchall()
        assert names
        con.execute(f"update {table} set first_name = 'not rebuilt' where {people}")
        con.execute(f"insert into raw.pipedrive__organizations select * replace "
                    f"(cast(cast(people_count as integer) + 1 as varchar) as people_count, "
                    f"'2027-01-01 00:00:00' as update_time, {later} as _loaded_at) "
                    f"from raw.pipedrive__organizations where cast(org_id as bigint) = ? "
                    f"order by _loaded_at desc limit 1", [counted])
        con.execute(f"insert into raw.hubspot__companies select * replace (company_name || ' Renamed' as company_name, "
                    f"{later} as _loaded_at) from raw.hubspot__companies "
                    f"qualify row_number() over (order by record_id, _loaded_at desc) = 1")
        con.execute(f"insert into raw.hubspot__contacts select * replace ('moved-' || email as email, "
                    f"null as email_normalized, '2027-01-01 00:00:00' as last_modified_date, {later} as _loaded_at) "
                    f"from raw.hubspot__contacts where record_id = ? order by _loaded_at desc limit 1", [moved])
    built = transform_step(daily)
    # the step returns each node's time (dbt writes no run_results.json for the daily build)
    times = {n["node"]: n for n in built["node_seconds"]}
    assert times["int_crm_contacts"]["status"] == "success" and times["int_crm_contacts"]["type"] == "model"
    assert "stg_hubspot__contacts" in times and all(n["seconds"] >= 0 for n in times.values())
    with duckdb.connect(str(daily), read_only=True) as con:
        assert con.execute(f"select count(*) from {table} where crm_contact_key = ?", [lead]).fetchone() == (0,)
        assert con.execute(f"select count(*) from {table} where email is null").fetchone() == (0,)
        assert con.execute(
            f"select bool_and(company_status = 'closed') from {table} where crm = 'pipedrive' and crm_id in "
            f"(select cast(pipedrive_person_id as varchar) from staging.stg_pipedrive__persons "
            f"where pipedrive_org_id = ? and is_active)", [org]).fetchone() == (True,)
        assert con.execute(f"select min(crm_rank_for_email) from {table} where email = ?", [shared]).fetchone() == (1,)
        # the head count landed later, the name, status and flag did not: they date from before
        assert con.execute("select company_loaded_at, loaded_at > company_loaded_at from "
                           "staging.stg_pipedrive__organizations where pipedrive_org_id = ?",
                           [counted]).fetchone() == (counted_since, True)
        assert con.execute(f"select count(*), bool_and(first_name = 'not rebuilt'), max(loaded_at) <= ? "
                           f"from {table} where {people}", [counted_since]).fetchone() == (len(names), True, True)
    with duckdb.connect(str(daily)) as con:
        con.executemany(f"update {table} set first_name = ? where crm = 'pipedrive' and crm_id = ?",
                        [(name, crm_id) for crm_id, name in names])
    full = full_refresh_copy(daily)
    assert tables(daily)[table] == tables(full)[table]


def test_recent_sends_keep_the_latest_n_as_days_are_appended(tmp_path: Path) -> None:
    """int_recent_sends appends the day's sends and deletes, in the pairs it appended to, those after the N-th
    latest. With N = 2 most pairs overflow on the next days; a send landed late and older than a pair's two
    stored ones must not stay. After that day, and after a run on a table of the older layout (send_rank, no
    event_key) that must be rebuilt in place, every table is the one a full refresh builds; a run with another
    N takes every send again."""
    n2 = {"disengagement_sends": 2}
    kw = {"contacts": 200, "seed": 13, "malformed": False}
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=20, **kw)
    generate(tmp_path / "d2", start=dt.date(2026, 8, 21), days=5, **kw)
    daily = tmp_path / "daily.duckdb"
    ingest_step(tmp_path / "d1", daily)
    transform_step(daily, vars=n2)
    table = "intermediate.int_recent_sends"
    with duckdb.connect(str(daily), read_only=True) as con:
        first_build = con.execute(f"select max(built_at) from {table}").fetchone()[0]
        email, message_id, oldest = con.execute(
            f"select email, min(message_id), epoch(min(occurred_at)) from {table} where platform = 'sendgrid' "
            "group by email having count(*) = 2 order by email limit 1").fetchone()
    late = {"email": email, "timestamp": int(oldest) - 86400, "event": "processed", "sg_event_id": "late-send-1",
            "sg_message_id": "late-message-1"}
    (tmp_path / "d2" / "sendgrid" / "events" / "late_send.jsonl").write_text(json.dumps(late) + "\n")
    ingest_step(tmp_path / "d2", daily)
    transform_step(daily, vars=n2)
    with duckdb.connect(str(daily), read_only=True) as con:
        assert con.execute("select count(*) from intermediate.int_email_events where message_id = 'late-message-1'"
                           ).fetchone() == (1,)
        assert con.execute(f"select count(*) from {table} where message_id = 'late-message-1'").fetchone() == (0,)
        assert con.execute(f"select max(n) from (select count(*) as n from {table} group by email, platform)"
                           ).fetchone() == (2,)
        # the trim did work: pairs that kept a stored send beside an appended one (so one of their two stored
        # ones was deleted), and stored rows not written again
        mixed = con.execute(
            f"select count(*) from (select email, platform from {table} group by all "
            f"having min(built_at) = ? and max(built_at) > ?)", [first_build, first_build]).fetchone()[0]
        assert mixed > 20
    full = full_refresh_copy(daily, vars=n2)
    got, want = tables(daily), tables(full)
    assert got.keys() == want.keys()
    assert [name for name in got if got[name] != want[name]] == []

    # a table of the layout before event_key: the next run drops send_rank, adds the columns, takes every send
    with duckdb.connect(str(daily)) as con:
        con.execute(f"create or replace table {table} as select email, platform, 1 as send_rank, message_id, "
                    f"occurred_at, loaded_at, policy_vars from {table} where email < 'm'")
    transform_step(daily, vars=n2)

    def rows(warehouse: Path) -> list[tuple]:  # by name: the added columns come last in the upgraded table
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return sorted(con.execute(f"select email, platform, event_key, message_id, occurred_at, loaded_at, "
                                      f"policy_vars from {table}").fetchall(), key=repr)

    assert rows(daily) == rows(full)
    with duckdb.connect(str(daily), read_only=True) as con:
        cols = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema = "
                                          "'intermediate' and table_name = 'int_recent_sends'").fetchall()]
    assert "send_rank" not in cols and {"event_key", "built_at"} <= set(cols)

    # another N: every send is taken again under it
    transform_step(daily)
    with duckdb.connect(str(daily), read_only=True) as con:
        assert con.execute(f"select max(n) from (select count(*) as n from {table} group by email, platform)"
                           ).fetchone()[0] > 2
    assert rows(daily) == rows(full_refresh_copy(daily))
