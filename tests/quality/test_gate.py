"""The gate blocks the sync for each kind of corrupted mart, naming check, observed value and threshold.

Each test corrupts a private copy of a warehouse built once per session (ingest → dbt build → one
passing gate run, which is the history the stateful checks compare with)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import pytest

from list_hygiene.quality import GateFailed, GateReport, gate, run_gate
from list_hygiene.quality.checks import Check, Expectation, load_checks
from list_hygiene.quality.config import thresholds

KNOBS = thresholds()


def sql(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for s in statements:
            con.execute(s)


def gate_fails(warehouse: Path, **kw) -> str:
    kw.setdefault("dbt_tests", False)
    kw.setdefault("freshness", False)
    with pytest.raises(GateFailed) as info:
        run_gate(warehouse, "corrupted", notify=False, **kw)
    return str(info.value)


def test_baseline_passes_and_stores_results(gated_warehouse: Path) -> None:
    with duckdb.connect(str(gated_warehouse), read_only=True) as con:
        rows = con.execute(
            "select suite, success, severity, threshold, expectation from ops.quality_results where run_id = 'baseline'"
        ).fetchall()
        metrics = con.execute("select metric, gate_passed from ops.quality_metrics where run_id = 'baseline'").fetchall()
    suites = {r[0] for r in rows}
    assert {"dbt", "source_freshness", "keys_suppression_list", "permanent_reasons_suppressed",
            "suppressed_not_send_eligible", "suppression_shrink", "source_volume", "quarantine_share"} <= suites
    assert not [r for r in rows if r[1] is False and r[2] == "fail"]
    # the project's on-run-start hooks run with the tests and the freshness check; they are not checks
    assert not [r for r in rows if "on-run-start" in r[4]]
    assert {r[4].split(".")[0] for r in rows if r[0] == "source_freshness"} == {"raw"}
    # the marts that have not landed yet are recorded as skipped, never as passed
    skipped = {r[0] for r in rows if r[1] is None}
    assert "suppression_shrink" in skipped  # first run: nothing to compare with
    assert ("suppression_list_rows", True) in metrics
    docs = gated_warehouse.parent / "warehouse_outputs" / "quality" / "data_docs" / "index.html"
    assert docs.exists() and "keys_suppression_list" in docs.read_text()


def test_duplicate_key_blocks(wh: Path) -> None:
    sql(wh, "insert into marts.suppression_list select * from marts.suppression_list limit 1")
    msg = gate_fails(wh, dbt_tests=True)
    assert "keys_suppression_list: ExpectCompoundColumnsToBeUnique(email,platform) failed; observed 2 unexpected of" in msg
    assert "threshold 0 duplicates" in msg
    assert "unique_combination_suppression_list_email__platform" in msg  # the dbt data test says it too
    assert "@" not in msg.split("(e.g. ")[1].split("*")[0]  # addresses are masked


# a row written by a build after the baseline gate run (int_email_events.built_at: when its build started)
SINCE_BASELINE = "(select max(started_at) from ops.quality_gate_runs) + interval 1 second"


def test_duplicate_event_key_blocks(wh: Path) -> None:
    """Event keys are dbt's to check (unique on int_email_events, where the events are stored; the
    fct_email_events view shows the repeat too): a build that writes a key again stops the sync, and keeps
    stopping it until the key is gone (a failed run vouches for nothing)."""
    sql(wh, "insert into intermediate.int_email_events select * replace "
            f"({SINCE_BASELINE} as built_at) from intermediate.int_email_events limit 1")
    with duckdb.connect(str(wh)) as con:
        assert con.execute("select count(*) - count(distinct event_key) from marts.fct_email_events").fetchone()[0] == 1
    for _ in range(2):  # the second run still fails: the first one vouched for nothing
        msg = gate_fails(wh, dbt_tests=True)
        assert re.search(r"dbt: test\.list_hygiene\.unique_in_new_rows_int_email_events_event_key\.\w+ failed; "
                         r"observed 1 failing rows", msg), msg
    with duckdb.connect(str(wh), read_only=True) as con:
        runs = con.execute("select run_id, passed, with_dbt_tests from ops.quality_gate_runs order by started_at").fetchall()
    assert runs == [("baseline", True, True), ("corrupted", False, True), ("corrupted", False, True)]


def test_event_tables_are_checked_on_the_rows_built_since_the_last_passing_gate(wh: Path) -> None:
    """The daily gate reads the event tables' keys and addresses for the rows built since its last passing
    run (docs/quality-and-audit.md, "New rows"): rows built before were checked then, and only dbt writes
    these tables. A row put in by hand with an old `built_at` is outside that; every row is checked without a
    passing run, and on demand."""
    from list_hygiene.dbt_runner import run_dbt

    sql(wh, "insert into intermediate.int_email_events select * from intermediate.int_email_events limit 1")
    run_gate(wh, "daily", notify=False, freshness=False)  # the baseline run vouched for that built_at
    every_row = run_dbt(["test", "--select", "int_email_events,test_type:data"], wh, vars={"lh_test_all_rows": True},
                        raise_on_failure=False)
    failed = [f["node"] for f in every_row.failures]
    assert len(failed) == 1 and failed[0].startswith("test.list_hygiene.unique_in_new_rows_int_email_events_event_key")

    sql(wh, "delete from ops.quality_gate_runs")  # no run to vouch for anything: every row
    msg = gate_fails(wh, dbt_tests=True)
    assert "unique_in_new_rows_int_email_events_event_key" in msg

    # an address of a newly built event that is no contact
    sql(wh, "delete from intermediate.int_email_events where rowid = (select max(rowid) from intermediate.int_email_events)",
        "insert into ops.quality_gate_runs values ('ok', now()::timestamp - interval 1 minute, "
        "now()::timestamp - interval 1 minute, true, true)",
        "insert into intermediate.int_email_events select * replace ('nobody@example.invalid' as email, "
        "'new-key-1' as event_key, now()::timestamp as built_at) from intermediate.int_email_events limit 1")
    msg = gate_fails(wh, dbt_tests=True)
    assert re.search(r"relationships_in_new_rows_int_email_events_email__email__ref_dim_contacts_\.\w+ failed; "
                     r"observed 1 failing rows", msg), msg
    assert "unique_in_new_rows" not in msg


def test_bounce_suite_reads_the_bounces_classified_since_the_last_passing_gate(wh: Path) -> None:
    """bounce_classification (GX) grows with every bounce: once a gate run has passed, its frame holds only the
    bounces classified since that run started. A bad class on an old row is outside it (the run that passed
    saw that row as it was; only dbt writes the table); the same bad class on a row classified since blocks,
    and without a passing run every row is read."""
    table = "intermediate.int_bounces_classified"
    sql(wh, f"update {table} set bounce_class = 'not-a-class' where event_key = (select min(event_key) from {table})")
    report = run_gate(wh, "daily", notify=False, dbt_tests=False, freshness=False)
    frame_rows = [r for r in report.results if r.suite == "bounce_classification"]
    assert frame_rows and all(r.success for r in frame_rows)

    sql(wh, f"update {table} set built_at = {SINCE_BASELINE.replace('max(started_at)', 'max(started_at) + interval 1 minute')} "
            f"where event_key = (select min(event_key) from {table})")
    msg = gate_fails(wh)
    assert "bounce_classification: ExpectColumnValuesToBeInSet(bounce_class) failed; observed 1 unexpected of 1 " in msg

    sql(wh, f"update {table} set built_at = timestamp '2000-01-01'", "delete from ops.quality_gate_runs")
    msg = gate_fails(wh)
    assert re.search(r"bounce_classification: ExpectColumnValuesToBeInSet\(bounce_class\) failed; observed 1 unexpected "
                     r"of (\d+) ", msg) and int(re.search(r"unexpected of (\d+)", msg).group(1)) > 10, msg


def test_duplicate_contact_key_blocks(wh: Path) -> None:
    """The contact key suite sees only the suspects DuckDB groups out, and still names the repeated key."""
    sql(wh, "insert into marts.dim_contacts select * from marts.dim_contacts order by email limit 1")
    msg = gate_fails(wh)
    assert "keys_contacts: ExpectColumnValuesToBeUnique(key) failed; observed 2 unexpected" in msg


def test_null_key_blocks(wh: Path) -> None:
    sql(wh, "update marts.sunset_segments set email = null where email = (select min(email) from marts.sunset_segments)")
    msg = gate_fails(wh)
    assert "keys_sunset_segments: ExpectColumnValuesToNotBeNull(email) failed; observed 1 unexpected of" in msg
    assert "threshold 0 nulls" in msg


def test_hard_bounce_missing_from_suppression_list_blocks(wh: Path) -> None:
    sql(wh, """delete from marts.suppression_list where email = (
                 select min(email) from intermediate.int_suppression_reasons where reason = 'hard_bounce')""")
    msg = gate_fails(wh)
    assert "permanent_reasons_suppressed: ExpectColumnValuesToBeInSet(is_suppressed) failed; observed" in msg
    assert "(hard_bounce)" in msg
    assert "threshold 0 permanent reasons missing from suppression_list" in msg


def test_suppressed_address_in_active_segment_blocks(wh: Path) -> None:
    sql(wh, """update marts.sunset_segments set segment = 'active'
               where email = (select min(email) from marts.suppression_list)""")
    msg = gate_fails(wh)
    assert "suppressed_not_send_eligible: ExpectColumnValuesToNotBeInSet(segment) failed; observed 1 unexpected of" in msg
    assert " in active)" in msg
    assert "threshold 0 suppressed addresses in a send-eligible segment" in msg


# Suites whose query returns only the suspects (`rows_checked`): each expectation still fails on its own kind of
# bad row, and the result counts the unexpected rows against the whole table, as when GX read all of it.
SUSPECT_CASES = {
    "sunset_repeated_address": (
        "insert into marts.sunset_segments select * from marts.sunset_segments order by email limit 1",
        "marts.sunset_segments", "keys_sunset_segments: ExpectColumnValuesToBeUnique(email) failed; observed 2 unexpected"),
    "sunset_unknown_segment": (
        "update marts.sunset_segments set segment = 'dormant' where email = (select max(email) from marts.sunset_segments)",
        "marts.sunset_segments", "keys_sunset_segments: ExpectColumnValuesToBeInSet(segment) failed; observed 1 unexpected"),
    "sunset_null_rule": (
        "update marts.sunset_segments set segment_rule = null where email = (select max(email) from marts.sunset_segments)",
        "marts.sunset_segments",
        "keys_sunset_segments: ExpectColumnValuesToNotBeNull(segment_rule) failed; observed 1 unexpected"),
    "suppression_null_platform": (
        "update marts.suppression_list set platform = null where rowid = (select max(rowid) from marts.suppression_list)",
        "marts.suppression_list", "keys_suppression_list: ExpectColumnValuesToNotBeNull(platform) failed; observed 1 unexpected"),
    "suppression_null_since": (
        "update marts.suppression_list set suppressed_since = null "
        "where rowid = (select max(rowid) from marts.suppression_list)",
        "marts.suppression_list",
        "keys_suppression_list: ExpectColumnValuesToNotBeNull(suppressed_since) failed; observed 1 unexpected"),
    "suppression_unknown_reason": (
        "update marts.suppression_list set reason = 'boredom' where rowid = (select max(rowid) from marts.suppression_list)",
        "marts.suppression_list", "keys_suppression_list: ExpectColumnValuesToBeInSet(reason) failed; observed 1 unexpected"),
    "contact_null_key": (
        "update marts.dim_contacts set email = null where email = (select max(email) from marts.dim_contacts)",
        "marts.dim_contacts", "keys_contacts: ExpectColumnValuesToNotBeNull(key) failed; observed 1 unexpected"),
}


@pytest.mark.parametrize("case", list(SUSPECT_CASES))
def test_suspects_only_suites_still_catch_each_kind_of_bad_row(wh: Path, case: str) -> None:
    statement, table, expected = SUSPECT_CASES[case]
    with duckdb.connect(str(wh)) as con:
        assert con.execute(statement).fetchone()[0] == 1  # one row made bad
        rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    msg = gate_fails(wh)
    assert f"{expected} of {rows} " in msg, msg


def test_suspects_only_suites_report_the_rows_they_checked(gated_warehouse: Path) -> None:
    """A clean mart gives GX an empty frame of suspects; the result still says how many rows were checked."""
    counts = {"keys_sunset_segments": "marts.sunset_segments", "keys_suppression_list": "marts.suppression_list",
              "keys_contacts": "marts.dim_contacts"}
    with duckdb.connect(str(gated_warehouse), read_only=True) as con:
        rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in counts.values()}
        observed = con.execute("select suite, observed_value from ops.quality_results where run_id = 'baseline' "
                               "and source = 'great_expectations' and success").fetchall()
    for suite, table in counts.items():
        values = {v for s, v in observed if s == suite}
        assert values == {f"{rows[table]} rows ok"} and rows[table] > 0, (suite, values)


def test_suites_render_knobs_as_sql_in_their_queries(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({
        "name": "s", "query": "select * from t where v in ${vals} and n >= ${n} and w = ${w}",
        "rows_checked": "select count(*) from t", "expectations": []}))
    (check,) = load_checks(tmp_path, overrides={"vals": ["a", "it's"], "n": 3, "w": "x"})
    assert check.query == "select * from t where v in ('a', 'it''s') and n >= 3 and w = 'x'"
    assert check.rows_checked == "select count(*) from t"
    (tmp_path / "s.json").write_text(json.dumps({
        "name": "s", "query": "select 1 as b", "new_rows": "b", "rows_checked": "select 1", "expectations": []}))
    with pytest.raises(ValueError, match="rows_checked"):
        load_checks(tmp_path)


def test_suppressed_address_in_resend_queue_blocks(wh: Path) -> None:
    with duckdb.connect(str(wh)) as con:
        exists = con.execute("select count(*) from information_schema.tables where table_name = 'resend_queue'").fetchone()[0]
        if exists:
            con.execute("insert into marts.resend_queue (email, platform) "
                        "select email, platform from marts.suppression_list limit 1")
        else:  # issue 5's mart has not landed: a stand-in with the contract's key columns
            con.execute("create table marts.resend_queue as select email, platform from marts.suppression_list limit 1")
    msg = gate_fails(wh)
    assert "suppressed_not_in_resend_queue: ExpectColumnValuesToBeInSet(not_suppressed) failed; observed 1 unexpected" in msg
    assert "threshold 0 suppressed addresses in resend_queue" in msg


def test_suppression_list_shrink_blocks(wh: Path) -> None:
    with duckdb.connect(str(wh)) as con:
        before = con.execute("select count(*) from marts.suppression_list").fetchone()[0]
        con.execute("delete from marts.suppression_list where reason not in ('hard_bounce', 'complaint', 'unsubscribe')")
        con.execute("delete from marts.suppression_list where rowid % 2 = 0")
        after = con.execute("select count(*) from marts.suppression_list").fetchone()[0]
    share = round((before - after) / before, 4)
    msg = gate_fails(wh)
    assert f"suppression_shrink: ExpectColumnValuesToBeBetween(shrink_share) failed; observed shrink_share = {share:g}" in msg
    assert f"suppression_list {after} rows vs {before} at baseline" in msg
    assert f"threshold <= {KNOBS['max_suppression_shrink_share']}" in msg


def test_volume_anomaly_blocks(wh: Path) -> None:
    # a history of passing runs that each landed 50x the rows this run landed for sendgrid/events
    with duckdb.connect(str(wh)) as con:
        first = con.execute("select min(loaded_at) from raw._manifest").fetchone()[0]
        rows = con.execute("""select sum(rows_loaded + rows_quarantined) from raw._manifest
                              where platform = 'sendgrid' and entity = 'events' and status = 'loaded'""").fetchone()[0]
        con.execute("delete from ops.quality_metrics")
        for i in range(3):
            con.execute("insert into ops.quality_metrics values (?, 'source_rows_landed', 'sendgrid/events', ?, true, ?)",
                        [f"history-{i}", rows * 50, first.replace(year=first.year - 1, day=1 + i)])
    msg = gate_fails(wh)
    assert "source_volume: ExpectColumnValuesToBeBetween(ratio_to_median) failed; observed ratio_to_median = 0.02" in msg
    assert f"(sendgrid/events {rows} rows vs median {rows * 50:g})" in msg
    assert f"threshold between {KNOBS['volume_band_low']} and {KNOBS['volume_band_high']}" in msg


@pytest.mark.parametrize("target", ["default", "moved"])
def test_stale_source_blocks(wh: Path, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with dbt's artifacts moved (DBT_TARGET_PATH, as the benchmark and CI runs set it)."""
    if target == "moved":
        monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    sql(wh, "update raw.sendgrid__events set _loaded_at = _loaded_at - interval 10 day")
    msg = gate_fails(wh, freshness=True)
    assert "source_freshness: raw.sendgrid__events failed; observed last load 10.0 days ago" in msg
    assert "threshold warn_after 2 day, error_after 7 day" in msg


def test_quarantine_share_blocks(wh: Path) -> None:
    with duckdb.connect(str(wh)) as con:
        path, loaded = con.execute("""select path, rows_loaded from raw._manifest where status = 'loaded'
                                      order by rows_loaded desc limit 1""").fetchone()
        con.execute("update raw._manifest set rows_quarantined = rows_loaded where path = ?", [path])
    msg = gate_fails(wh)
    assert "quarantine_share: ExpectColumnValuesToBeBetween(quarantine_share) failed; observed quarantine_share = 0.5" in msg
    assert path in msg
    assert f"threshold <= {KNOBS['quarantine_share_max']} (files with >= {KNOBS['quarantine_min_rows']} quarantined rows)" in msg


def test_deliverability_alerts_never_block(wh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hard bounce and complaint line crossed, and still the gate passes; the notifier gets them."""
    sent = []
    monkeypatch.setattr("list_hygiene.notify.send", lambda kind, text, payload=None, url=None: sent.append(payload))
    overrides = {"hard_bounce_rate_warn": 0.0, "hard_bounce_rate_max": 0.0, "complaint_rate_warn": 0.0,
                 "complaint_rate_max": 0.0}
    report = run_gate(wh, "alerts", dbt_tests=False, freshness=False, overrides=overrides)
    assert report.passed and report.alerts
    assert {a["level"] for a in report.alerts} == {"critical"}
    assert sent and sent[0]["alerts"] == report.alerts
    d = json.loads(json.dumps(report.to_dict(), default=str))
    assert {"run_id", "passed", "checks", "failures", "warnings", "alerts", "skipped"} <= d.keys()
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select count(*) from ops.deliverability_alerts where run_id = 'alerts'").fetchone()[0] == len(
            report.alerts)


@pytest.mark.parametrize("source", ["campaign_deliverability", "fct_email_events"])
def test_alerts_are_over_messages_where_a_platform_reports_no_send(wh: Path, source: str) -> None:
    """Postmark reports no send event: its campaigns are judged over deliveries + bounces (seed send_count_basis),
    from the mart or, without it, from the events. Zoho reports neither: never judged, even with every line at 0."""
    lines = {**KNOBS, "hard_bounce_rate_warn": 0.0, "hard_bounce_rate_max": 0.0, "complaint_rate_warn": 0.0,
             "complaint_rate_max": 0.0}
    with duckdb.connect(str(wh)) as con:
        expected = {c: (m, h) for c, m, h in con.execute(
            """select campaign_id, deliveries + hard_bounces + soft_bounces + block_bounces, hard_bounces
               from marts.campaign_deliverability where platform = 'postmark' and hard_bounces > 0""").fetchall()}
        assert expected, "the samples have Postmark hard bounces"
        assert con.execute("""select count(*) from marts.campaign_deliverability
                              where platform = 'zoho' and hard_bounces > 0""").fetchone()[0] > 0
        if source == "fct_email_events":
            con.execute("drop table marts.campaign_deliverability")
        alerts = gate.deliverability_alerts(con, lines)
    hard = {a["campaign_id"]: a for a in alerts if a["platform"] == "postmark" and a["metric"] == "hard_bounce_rate"}
    assert set(hard) == set(expected)
    for campaign, (messages, hard_bounces) in expected.items():
        assert hard[campaign]["messages"] == messages
        assert hard[campaign]["value"] == round(hard_bounces / messages, 5)
    assert not [a for a in alerts if a["platform"] in ("zoho", "mailbox")]


def test_alert_table_of_an_older_version_keeps_its_rows(wh: Path) -> None:
    """ops.deliverability_alerts made when the count was called `sends`: renamed to `messages`, rows kept."""
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema if not exists ops")
        con.execute("drop table if exists ops.deliverability_alerts")
        con.execute("""create table ops.deliverability_alerts (run_id varchar, platform varchar, campaign_id varchar,
                       list_id varchar, metric varchar, value double, threshold double, level varchar, sends bigint,
                       alerted_at timestamp)""")
        con.execute("insert into ops.deliverability_alerts values ('old', 'ses', 'c', null, 'complaint_rate', 0.01, "
                    "0.003, 'critical', 100, timestamp '2026-01-01')")
    report = run_gate(wh, "renamed", dbt_tests=False, freshness=False, notify=False)
    assert report.alerts
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = dict(con.execute("select run_id, sum(messages) from ops.deliverability_alerts group by 1").fetchall())
    assert rows == {"old": 100, "renamed": sum(a["messages"] for a in report.alerts)}


def test_missing_mart_is_skipped_not_passed(wh: Path) -> None:
    report = run_gate(wh, "skips", dbt_tests=False, freshness=False, notify=False)
    skipped = {r.suite: r.observed_value for r in report.skipped}
    if "keys_resend_queue" in skipped:
        assert skipped["keys_resend_queue"] == "skipped: marts.resend_queue not in the warehouse yet"
    with duckdb.connect(str(wh), read_only=True) as con:
        n = con.execute("select count(*) from ops.quality_results where run_id = 'skips' and success is null").fetchone()[0]
    assert n == len(report.skipped) > 0


def test_suites_load_and_resolve_thresholds() -> None:
    checks = {c.suite: c for c in load_checks()}
    assert {"keys_suppression_list", "permanent_reasons_suppressed", "suppressed_not_send_eligible",
            "suppressed_not_in_resend_queue", "suppression_shrink", "source_volume", "quarantine_share"} <= checks.keys()
    shrink = checks["suppression_shrink"].expectations[0]
    assert shrink.kwargs["max_value"] == KNOBS["max_suppression_shrink_share"]
    assert "${" not in checks["quarantine_share"].query


# --- GX on a separate process (LIST_HYGIENE_GATE_PARALLEL) ----------------------------------------------

def _copy(src: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True)
    shutil.copy2(src, dest_dir / "warehouse.duckdb")
    return dest_dir / "warehouse.duckdb"


def _rows(report: GateReport) -> list[tuple]:
    """(suite, expectation, success, severity) per result. dbt lists its tests and sources in the order its
    2 threads finish them, which differs from run to run whichever way GX ran: those two are compared
    sorted; everything else (skipped suites, GX results, deliverability) in report order."""
    out: list[tuple] = []
    for source in dict.fromkeys(r.source for r in report.results):  # sources in their order of appearance
        rows = [(r.suite, r.expectation, r.success, r.severity) for r in report.results if r.source == source]
        out.append((source, sorted(rows, key=repr) if source in ("dbt", "dbt_freshness") else rows))
    return out


def test_parallel_and_sequential_give_the_same_report(
    gated_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=gate.__name__)
    reports = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("LIST_HYGIENE_GATE_PARALLEL", mode)
        before = set(multiprocessing.active_children())
        caplog.clear()
        wh = _copy(gated_warehouse, tmp_path / f"parallel_{mode}")
        reports[mode] = run_gate(wh, "compare", raise_on_failure=False, notify=False)
        assert set(multiprocessing.active_children()) <= before  # the GX process was joined
        on_process = "GX ran on a separate process" in caplog.text
        assert on_process is (mode == "1"), caplog.text
        assert "could not run on a separate process" not in caplog.text
    seq, par = reports["0"], reports["1"]
    assert [s for s, _ in _rows(seq)][:2] == ["dbt", "dbt_freshness"]
    assert _rows(par) == _rows(seq)
    assert [(r.observed_value, r.threshold) for r in par.results if r.source == "great_expectations"] == [
        (r.observed_value, r.threshold) for r in seq.results if r.source == "great_expectations"]
    assert par.alerts == seq.alerts
    assert par.data_docs.replace("parallel_1", "parallel_0") == seq.data_docs
    assert par.data_docs.endswith("/warehouse_outputs/quality/data_docs/index.html")
    assert (tmp_path / "parallel_1" / "warehouse_outputs" / "quality" / "data_docs" / "index.html").exists()


@pytest.mark.parametrize("failure", ["no_process", "process_dies"])
def test_gx_process_failure_falls_back_to_this_process(
    gated_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    """The process cannot be had (the factory raises) or dies before it runs validate (BrokenProcessPool):
    validate runs here, with a warning, and the report is the one a sequential run gives."""
    def no_process() -> ProcessPoolExecutor:
        raise OSError("no processes here")

    def process_dies() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=os._exit, initargs=(3,))

    expected = run_gate(_copy(gated_warehouse, tmp_path / "seq"), "fallback", dbt_tests=False, freshness=False,
                        notify=False, raise_on_failure=False, parallel=False)
    monkeypatch.setattr(gate, "_executor", {"no_process": no_process, "process_dies": process_dies}[failure])
    caplog.set_level("WARNING", logger=gate.__name__)
    report = run_gate(_copy(gated_warehouse, tmp_path / "par"), "fallback", dbt_tests=False, freshness=False,
                      notify=False, raise_on_failure=False, parallel=True)
    assert "Great Expectations could not run on a separate process" in caplog.text
    assert ("OSError: no processes here" if failure == "no_process" else "BrokenProcessPool") in caplog.text
    assert _rows(report) == _rows(expected)
    assert report.data_docs.endswith("/par/warehouse_outputs/quality/data_docs/index.html")


def test_gx_process_imports_gx_while_the_frames_are_built(
    wh: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The GX process is started, and told to import GX, before the frames' queries run here; the frames
    go to the same process afterwards, so validate finds GX imported."""
    order: list[str] = []

    class Recording(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
            order.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    frames = gate._frames
    monkeypatch.setattr(gate, "_executor", lambda: Recording(max_workers=1,
                                                             mp_context=multiprocessing.get_context("spawn")))
    monkeypatch.setattr(gate, "_frames", lambda *a, **kw: (order.append("frames"), frames(*a, **kw))[1])
    caplog.set_level("INFO", logger=gate.__name__)
    report = run_gate(wh, "warm", dbt_tests=False, freshness=False, notify=False, parallel=True)
    assert order == ["_import_gx", "frames", "_validate_in_child"]
    assert "GX ran on a separate process" in caplog.text
    assert report.passed and any(r.source == "great_expectations" and r.success for r in report.results)


def test_validate_error_in_gx_process_is_raised_here(
    wh: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception validate raises on the GX process is raised by run_gate as itself (not taken for a broken
    process and run again here), its traceback from that process chained under it."""
    bogus = Check("bogus", [Expectation("ExpectNoSuchThing", {"column": "a"})], query="select 1 as a")
    monkeypatch.setattr(gate, "load_checks", lambda overrides=None: [*load_checks(overrides=overrides), bogus])
    caplog.set_level("WARNING", logger=gate.__name__)
    with pytest.raises(AttributeError, match="ExpectNoSuchThing") as info:
        run_gate(wh, "raises", dbt_tests=False, freshness=False, notify=False, parallel=True)
    assert isinstance(info.value.__cause__, gate.RemoteTraceback)
    assert "_validate_in_child" in str(info.value.__cause__)
    assert "could not run on a separate process" not in caplog.text


def test_gate_refuses_to_run_while_a_spawned_process_imports_the_main_script(
    wh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unguarded script would otherwise run the whole gate again inside the GX process; refusing makes
    that process fail, and the gate that started it falls back to validating itself."""
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(RuntimeError, match="__name__ == '__main__'"):
        run_gate(wh, "inheriting", dbt_tests=False, freshness=False, notify=False)


def test_gate_memory_limit_caps_dbt_while_gx_runs_beside(monkeypatch):
    """The dbt tests' DuckDB gets 2GB while the GX process runs (their peaks add up), never more than the
    warehouse-wide cap, and LIST_HYGIENE_GATE_MEMORY_LIMIT decides when set; the env is restored after."""
    from list_hygiene.quality import gate

    monkeypatch.delenv("LIST_HYGIENE_GATE_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("LIST_HYGIENE_DUCKDB_MEMORY_LIMIT", raising=False)
    assert gate.gate_memory_limit() == "2GB"  # the general default is 3GB
    monkeypatch.setenv("LIST_HYGIENE_DUCKDB_MEMORY_LIMIT", "1.5GiB")
    assert gate.gate_memory_limit() == "1.5GiB"
    monkeypatch.setenv("LIST_HYGIENE_DUCKDB_MEMORY_LIMIT", "80%")  # not a size: the gate default
    assert gate.gate_memory_limit() == "2GB"
    monkeypatch.setenv("LIST_HYGIENE_GATE_MEMORY_LIMIT", "5GB")
    assert gate.gate_memory_limit() == "5GB"

    monkeypatch.delenv("LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT", raising=False)
    seen = []
    with gate._dbt_memory_limit("1GB"):
        seen.append((os.environ.get("LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT"), gate.duckdb_config()["memory_limit"]))
    assert seen == [("1GB", "80%")]  # the profile's cap is left alone (see the next test)
    assert "LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT" not in os.environ


def test_gate_memory_cap_is_set_at_run_time_and_keeps_dbt_partial_parse(wh: Path, tmp_path: Path, monkeypatch) -> None:
    """The cap reaches DuckDB through the on-run-start hook, and dbt's partial parse survives it: a cap in the
    profile made every gate, and the build after it, parse the whole project again."""
    from list_hygiene.dbt_runner import run_dbt

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))
    monkeypatch.delenv("LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT", raising=False)
    args = ["test", "--select", "unique_dim_contacts_email"]
    run_dbt(args, wh)  # parses and saves the partial-parse cache
    with gate._dbt_memory_limit("1GB"):
        run_dbt(args, wh)
    run_dbt(args, wh)
    runs = (tmp_path / "dbt_logs" / "dbt.log").read_text().split("Running with dbt=")[1:]
    assert len(runs) == 3
    assert "set memory_limit = '1GB'" in runs[1] and "set memory_limit" not in runs[2]
    for later in runs[1:]:
        assert "Partial parsing enabled, no changes found" in later, later[:2000]


def test_gate_memory_cap_reaches_the_test_queries(wh: Path, tmp_path: Path, monkeypatch) -> None:
    """The hook's cap holds on the cursors dbt runs the tests on: dbt-duckdb applies the profile's `settings`
    again to every cursor, so a `memory_limit` there undid the gate's cap without a word (the gate peaked at
    4.5 GiB at 1.5 M contacts instead of 3.8). A cap far too small for a grouping query makes it fail."""
    from list_hygiene.dbt_runner import run_dbt

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))
    # two million more events built after the baseline run: enough keys for the check to need memory
    sql(wh, "insert into intermediate.int_email_events select e.* replace ('synthetic:' || r.range as event_key, "
            f"{SINCE_BASELINE} as built_at) from (select * from intermediate.int_email_events limit 1) as e, "
            "range(2000000) as r")
    args = ["test", "--select", "int_email_events,test_name:unique_in_new_rows"]
    assert run_dbt(args, wh, raise_on_failure=False).success
    with gate._dbt_memory_limit("1MB"):
        starved = run_dbt(args, wh, raise_on_failure=False)
    assert [n["status"] for n in starved.failures] == ["error"]
    assert "Out of Memory" in starved.failures[0]["message"]


def test_a_hook_that_ran_is_no_check_and_one_that_failed_is_kept() -> None:
    hook = {"node": "operation.list_hygiene.list_hygiene-on-run-start-1", "resource_type": "operation"}
    test = {"node": "test.list_hygiene.unique_x", "resource_type": "test", "status": "pass"}
    source = {"node": "source.list_hygiene.raw.x", "resource_type": "NodeType.Source", "status": "error"}
    failed = {**hook, "status": "error"}
    assert gate._checked_nodes([{**hook, "status": "success"}, test, source, failed]) == [test, source, failed]
