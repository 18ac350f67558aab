"""The daily DAG end to end with `dag.test()` on the bundled samples.

SendGrid is synced for real against the loopback emulator; the other platforms have no connection and
are planned only (dry run). A second run over the same files must change nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from list_hygiene.generate.scenarios import MALFORMED, SCENARIOS
from tests.conftest import REPO
from tests.emulators.sendgrid import SendGridEmulator

pytestmark = pytest.mark.e2e

API_KEY = "SG.e2e-test-key"


def _q(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _run(dag, warehouse: Path, data: Path):
    return dag.test(run_conf={"data_dir": str(data), "warehouse": str(warehouse), "apply_sync": True})


@pytest.fixture(scope="module")
def runs(airflow_db, tmp_path_factory, monkeypatch_module):
    from airflow.dag_processing.dagbag import DagBag

    data = tmp_path_factory.mktemp("data") / "samples"
    shutil.copytree(REPO / "data_samples", data)
    # exports no connector reads: the DAG ingests each known platform on its own, so they must surface elsewhere
    (data / "klaviyo" / "events").mkdir(parents=True)
    (data / "klaviyo" / "events" / "events_2026-11.csv").write_text("Email,Metric\na@example.com,Bounced Email\n")
    (data / "sendgrid" / "stray_export.csv").write_text("email,event\n")
    warehouse = tmp_path_factory.mktemp("wh") / "e2e.duckdb"
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["list_hygiene_daily"]
    with SendGridEmulator(api_key=API_KEY) as sendgrid:
        monkeypatch_module.setenv(
            "AIRFLOW_CONN_SENDGRID_DEFAULT", json.dumps({"conn_type": "http", "host": sendgrid.url, "password": API_KEY})
        )
        first = _run(dag, warehouse, data)
        snapshot = {
            "raw_events": _q(warehouse, "select count(*) from raw.sendgrid__events")[0][0],
            "suppression": _q(warehouse, "select * from marts.suppression_list order by all"),
            "segments": _q(warehouse, "select email, segment from marts.sunset_segments order by all"),
            "sendgrid_adds": dict(sendgrid.add_counts),
            "requests": len(sendgrid.requests),
        }
        second = _run(dag, warehouse, data)
        after = {
            "requests": len(sendgrid.requests),
            "sendgrid_adds": dict(sendgrid.add_counts),
            "suppressed_on_sendgrid": set(sendgrid.global_unsubscribes),
        }
    return {"first": first, "second": second, "warehouse": warehouse, "before": snapshot, "after": after}


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_both_runs_succeed(runs):
    assert str(runs["first"].state) == "success"
    assert str(runs["second"].state) == "success"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_outcomes(runs, name):
    s = SCENARIOS[name]
    wh = runs["warehouse"]
    suppressed = dict(_q(wh, "select platform, reason from marts.suppression_list where email = ?", [s.email]))
    [(segment,)] = _q(wh, "select segment from marts.sunset_segments where email = ?", [s.email])
    exp = s.expected
    if "suppressed" in exp:
        assert bool(suppressed) == exp["suppressed"], (name, suppressed)
    for platform in exp.get("suppressed_on", []):
        assert suppressed.get(platform) == exp["suppression_reason"], (name, platform, suppressed)
    if "segment" in exp:
        assert segment == exp["segment"], (name, segment)
    if "segment_in" in exp:
        assert segment in exp["segment_in"], (name, segment)
    if "segment_not" in exp:
        assert segment != exp["segment_not"], (name, segment)
    if "resend_queue" in exp:
        queued = _q(wh, "select count(*) from marts.resend_queue where email = ?", [s.email])[0][0]
        assert bool(queued) == exp["resend_queue"], name
    if "correction_action" in exp:
        [(action,)] = _q(wh, "select action from marts.correction_outcomes where bounced_email = ?", [s.email])
        assert action == exp["correction_action"], name
        confirmed = _q(wh, "select count(*) from marts.data_confirmation_queue q join marts.correction_outcomes o "
                           "on q.email = o.corrected_email where o.bounced_email = ?", [s.email])[0][0]
        assert confirmed == 1, name
    if "correction_queue" in exp:
        queued = _q(wh, "select count(*) from marts.correction_queue where bounced_email = ?", [s.email])[0][0]
        assert bool(queued) == exp["correction_queue"], name
    if "spam_trap_risk" in exp:
        [(risk,)] = _q(wh, "select spam_trap_risk from marts.contact_health where email = ?", [s.email])
        assert risk == exp["spam_trap_risk"], name
    if "distinct_contacts" in exp:
        n = _q(wh, "select count(*) from marts.dim_contacts where email = ?", [s.email])[0][0]
        assert n == exp["distinct_contacts"]


def test_hard_bounced_address_suppressed_on_every_platform_where_it_exists(runs):
    s = SCENARIOS["hard_bounce_multi"]
    platforms = {p for (p,) in _q(runs["warehouse"], "select platform from intermediate.int_contact_platforms where email = ?",
                                  [s.email])}
    suppressed = {p for (p,) in _q(runs["warehouse"], "select platform from marts.suppression_list where email = ?", [s.email])}
    assert platforms >= set(s.platforms)
    assert suppressed == platforms
    # and SendGrid itself now has it on the global suppression list
    assert s.email in runs["after"]["suppressed_on_sendgrid"]


def test_re_engaged_contact_is_not_suppressed_anywhere(runs):
    s = SCENARIOS["re_engaged"]
    assert _q(runs["warehouse"], "select count(*) from marts.suppression_list where email = ?", [s.email])[0][0] == 0
    assert s.email not in runs["after"]["suppressed_on_sendgrid"]


def test_quarantined_rows_are_counted_with_file_row_and_reason(runs):
    rows = _q(runs["warehouse"], "select file, row_number, reason from raw.quarantine order by file, row_number")
    assert len(rows) == len(MALFORMED)
    files = {(m.file, m.row) for m in MALFORMED}
    assert {(f, r) for f, r, _ in rows} == files
    assert all(reason for _, _, reason in rows)


def test_second_run_over_the_same_files_changes_nothing(runs):
    wh = runs["warehouse"]
    before, after = runs["before"], runs["after"]
    assert _q(wh, "select count(*) from raw.sendgrid__events")[0][0] == before["raw_events"]
    assert _q(wh, "select * from marts.suppression_list order by all") == before["suppression"]
    assert _q(wh, "select email, segment from marts.sunset_segments order by all") == before["segments"]
    # nothing was written to SendGrid twice, and the second sync planned nothing for it
    assert after["sendgrid_adds"] == before["sendgrid_adds"]
    assert all(n == 1 for n in after["sendgrid_adds"].values())
    second_run = _q(wh, "select count(*) from ops.sync_plan where platform = 'sendgrid' and run_id = "
                        "(select max(run_id) from ops.sync_plan)")[0][0]
    assert second_run == 0


def test_sendgrid_holds_exactly_the_suppression_list(runs):
    expected = {e for (e,) in _q(runs["warehouse"], "select email from marts.suppression_list where platform = 'sendgrid'")}
    assert runs["after"]["suppressed_on_sendgrid"] == expected


def test_dbt_unit_tests_pass_on_the_built_warehouse(runs):
    """The daily build leaves dbt's unit tests out (they test SQL, not data): CI runs them here, on the
    warehouse the DAG built (dbt reads the input tables' columns from it)."""
    from list_hygiene.dbt_runner import run_dbt

    res = run_dbt(["test", "--select", "test_type:unit"], runs["warehouse"], raise_on_failure=False)
    units = [n for n in res.nodes if n["resource_type"].endswith("unit_test")]
    assert len(units) >= 30
    assert [n for n in units if n["status"] != "pass"] == []


def test_files_no_connector_reads_are_listed_in_the_summary(runs):
    from typer.testing import CliRunner

    from list_hygiene.cli import app
    from list_hygiene.summary import collect_summary

    assert collect_summary(runs["warehouse"])["unread_files"] == [
        {"path": "klaviyo/events/events_2026-11.csv", "reason": "no connector for klaviyo/events"},
        {"path": "sendgrid/stray_export.csv", "reason": "not in an entity folder (expected sendgrid/<entity>/<file>)"},
    ]
    out = CliRunner().invoke(app, ["summary", "--warehouse", str(runs["warehouse"])]).output
    assert "2 files in the landing folder that no connector reads" in out
    assert "klaviyo/events/events_2026-11.csv: no connector for klaviyo/events" in out


def test_summary_command_piped_prints_values_and_alerts_whole(runs):
    """`list-hygiene summary` into a pipe (make demo, a log): rich assumed 80 columns there and printed the sync
    mode as `no_credent…` and folded alert lines. Every platform's mode and every alert must come out on one line."""
    from typer.testing import CliRunner

    from list_hygiene.cli import app
    from list_hygiene.summary import collect_summary

    summary = collect_summary(runs["warehouse"])
    out = CliRunner().invoke(app, ["summary", "--warehouse", str(runs["warehouse"])])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    platforms = summary["sync"]["platforms"]
    assert {"no_credentials", "applied"} <= {p["mode"] for p in platforms.values()}
    for name, p in platforms.items():
        assert any(f" {name} " in ln and f" {p['mode']} " in ln for ln in lines), (name, p["mode"], out.output)
    alerts = summary["gate"]["alerts"][:10]
    assert alerts, "the samples raise deliverability alerts"
    for a in alerts:
        head = f"ALERT {a['level']} {a['platform']} campaign {a['campaign_id']}:"
        assert any(head in ln and ln.endswith("reported, sync not blocked") for ln in lines), (head, out.output)
