"""Run-level behaviour: several platforms at once, env connections, reconcile, a real kill, the CLI."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from list_hygiene.sync import SyncBrakeTripped, run_sync
from list_hygiene.sync.command import sync as sync_command

from .cases import CASES
from .helpers import addr, fast_policy, ledger_emails, query, write_suppressions

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "test.duckdb"


def test_brake_stops_one_platform_the_others_proceed(wh: Path) -> None:
    sg, pm = CASES["sendgrid"], CASES["postmark"]
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(12)]
                       + [(addr(i), "postmark", "complaint") for i in range(3)])
    with sg.start() as e1, pm.start() as e2:
        with pytest.raises(SyncBrakeTripped) as ei:
            run_sync(wh, apply=True, connections={"sendgrid": sg.connection(e1, None), "postmark": pm.connection(e2, None)},
                     out_dir=wh.parent, policy=fast_policy(), brake_floor=5)
        s = ei.value.summary.platforms
        assert s["sendgrid"].mode == "brake_tripped" and s["postmark"].mode == "applied" and s["postmark"].applied == 3
        assert e1.calls("POST") == [] and ledger_emails(wh, "sendgrid") == set()
        assert set(e2.streams["broadcast"]) == {addr(i) for i in range(3)}


def test_platform_without_connector_is_planned_only(wh: Path) -> None:
    write_suppressions(wh, [(addr(1), "brevo", "hard_bounce")])
    s = run_sync(wh, apply=True, connections={}, out_dir=wh.parent).platforms["brevo"]
    assert (s.mode, s.planned_adds) == ("unsupported", 1)
    assert Path(s.plan_file).read_text().count("\n") == 2


def test_connection_from_airflow_env_var(wh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES["sendgrid"]
    write_suppressions(wh, [(addr(i), "sendgrid", "unsubscribe") for i in range(3)])
    with case.start() as emu:
        monkeypatch.setenv("AIRFLOW_CONN_SENDGRID_DEFAULT", json.dumps(
            {"conn_type": "http", "host": emu.url, "password": emu.api_key}))
        s = run_sync(wh, apply=True, platforms=["sendgrid"], out_dir=wh.parent, policy=fast_policy())
        assert s.platforms["sendgrid"].applied == 3 and set(emu.global_unsubscribes) == {addr(i) for i in range(3)}


def test_reconcile_reports_drift_and_restores_lost_suppressions(wh: Path) -> None:
    case = CASES["sendgrid"]
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(5)])
    with case.start() as emu:
        conn = {"sendgrid": case.connection(emu, None)}
        run_sync(wh, apply=True, connections=conn, out_dir=wh.parent, policy=fast_policy())
        del emu.global_unsubscribes[addr(0)]  # someone deleted it in the SendGrid UI
        emu.global_unsubscribes["stranger@example.org"] = 0  # added outside the sync
        s = run_sync(wh, apply=True, connections=conn, out_dir=wh.parent, policy=fast_policy(), reconcile=True)
        p = s.platforms["sendgrid"]
        assert (p.drift_platform_only, p.drift_ledger_only, p.planned_adds, p.applied) == (1, 1, 1, 1)
        assert addr(0) in emu.global_unsubscribes and "stranger@example.org" in emu.global_unsubscribes


def test_no_address_in_clear_in_logs_or_sync_log(wh: Path, caplog: pytest.LogCaptureFixture) -> None:
    case = CASES["hubspot"]
    write_suppressions(wh, [(addr(i), "hubspot", "unsubscribe") for i in range(6)])
    with case.start() as emu:
        emu.contacts = {addr(i) for i in range(5)}  # addr(5) is not a contact: HubSpot names it in the error
        emu.storm(2, path_contains="/batch/write")
        with caplog.at_level(logging.DEBUG, logger="list_hygiene"):
            s = run_sync(wh, apply=True, connections={"hubspot": case.connection(emu, None)}, out_dir=wh.parent,
                         policy=fast_policy())
    assert s.platforms["hubspot"].failed == 1
    errors = [r[0] for r in query(wh, "select error from ops.sync_log where error is not null")]
    assert errors and all(addr(5) not in e for e in errors) and any("u***5@example.com" in e for e in errors)
    assert not re.search(r"user\d+@example\.com", caplog.text)


def test_extra_columns_are_read_by_name(wh: Path) -> None:
    case = CASES["mailchimp"]
    write_suppressions(wh, [(addr(i), "mailchimp", "hard_bounce") for i in range(3)], extra_columns=True)
    import duckdb

    con = duckdb.connect(str(wh))
    con.execute("update marts.suppression_list set list_id = 'otherlist' where email = ?", [addr(0)])
    con.close()
    with case.start() as emu:
        s = run_sync(wh, apply=False, connections={"mailchimp": case.connection(emu, None)}, out_dir=wh.parent)
    assert s.platforms["mailchimp"].planned_adds == 2  # addr(0) belongs to another audience


KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from list_hygiene.sync import run_sync, RetryPolicy
    from list_hygiene.sync.ledger import Ledger

    original, calls = Ledger.finish_batch, {"n": 0}
    def dying(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == int(os.environ["DIE_AT"]):
            os._exit(9)  # like SIGKILL: no cleanup, the API already applied this batch, the ledger never hears of it
        return original(self, *a, **k)
    Ledger.finish_batch = dying
    run_sync(Path(sys.argv[1]), apply=True, platforms=["sendgrid"], out_dir=Path(sys.argv[1]).parent,
             policy=RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.01))
""")


def test_process_killed_mid_sync_then_rerun_sends_nothing_twice(wh: Path) -> None:
    case = CASES["sendgrid"]
    emails = {addr(i) for i in range(20)}
    write_suppressions(wh, [(e, "sendgrid", "hard_bounce") for e in sorted(emails)])
    with case.start() as emu:
        env = os.environ | {"DIE_AT": "3", "AIRFLOW_CONN_SENDGRID_DEFAULT": json.dumps(
            {"conn_type": "http", "host": emu.url, "password": emu.api_key, "extra": {"batch_size": 5}})}
        proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(wh)], env=env, cwd=REPO, timeout=120,
                              capture_output=True, text=True)
        assert proc.returncode == 9, proc.stderr
        assert len(emu.global_unsubscribes) == 15 and len(ledger_emails(wh, "sendgrid")) == 10
        assert query(wh, "select count(*) from ops.sync_batches where state = 'in_flight'")[0][0] == 1
        s = run_sync(wh, apply=True, platforms=["sendgrid"], out_dir=wh.parent, policy=fast_policy(),
                     connections={"sendgrid": case.connection(emu, None)}).platforms["sendgrid"]
        assert (s.recovered, s.planned_adds, s.applied) == (5, 5, 5)
        assert set(emu.global_unsubscribes) == emails and ledger_emails(wh, "sendgrid") == emails
        assert set(emu.add_counts.values()) == {1}


def test_cli_exit_codes(wh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    app.command()(sync_command)
    app.command("noop")(lambda: None)  # two commands: typer keeps the sub-command name
    runner = CliRunner()
    case = CASES["sendgrid"]
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(60)])
    with case.start() as emu:
        monkeypatch.setenv("AIRFLOW_CONN_SENDGRID_DEFAULT", json.dumps(
            {"conn_type": "http", "host": emu.url, "password": emu.api_key}))
        r = runner.invoke(app, ["sync", "--warehouse", str(wh), "--dry-run"])
        assert r.exit_code == 0, r.output
        assert "(dry run)" in r.output and emu.requests == []
        r = runner.invoke(app, ["sync", "--warehouse", str(wh), "--platform", "sendgrid"])
        assert r.exit_code == 2 and "--approve" in r.output
        r = runner.invoke(app, ["sync", "--warehouse", str(wh), "--platform", "sendgrid", "--approve"])
        assert r.exit_code == 0, r.output
        assert len(emu.global_unsubscribes) == 60
        monkeypatch.setenv("AIRFLOW_CONN_SENDGRID_DEFAULT", json.dumps(
            {"conn_type": "http", "host": emu.url, "password": "bad"}))
        write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(61)])
        r = runner.invoke(app, ["sync", "--warehouse", str(wh), "--platform", "sendgrid"])
        assert r.exit_code == 1 and "credentials" in r.output


def test_request_urls_with_addresses_stay_out_of_info_logs(wh: Path, caplog: pytest.LogCaptureFixture) -> None:
    case = CASES["sendgrid"]
    write_suppressions(wh, [(addr(i), "sendgrid", "hard_bounce") for i in range(3)])
    with case.start() as emu:
        conn = {"sendgrid": case.connection(emu, None)}
        run_sync(wh, apply=True, connections=conn, out_dir=wh.parent, policy=fast_policy())
        write_suppressions(wh, [], removals=[(addr(0), "sendgrid", "corrected_address", "ops@example.com")])
        with caplog.at_level(logging.INFO):
            s = run_sync(wh, apply=True, connections=conn, out_dir=wh.parent, policy=fast_policy())
    assert s.platforms["sendgrid"].applied == 1 and emu.calls("DELETE")
    assert "user00000@example.com" not in caplog.text and emu.api_key not in caplog.text
