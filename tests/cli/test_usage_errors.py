"""A wrong path or platform on the command line: one clear line naming the option, nothing written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from list_hygiene.cli import app
from list_hygiene.cli_options import known_platforms

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_platform_names_are_normalised_and_checked() -> None:
    assert known_platforms([" SendGrid", "ses"]) == ["sendgrid", "ses"]
    assert known_platforms(None) is None
    with pytest.raises(typer.BadParameter, match=r"unknown platform 'sendgird'; known: .*sendgrid"):
        known_platforms(["sendgrid", "sendgird"])


def test_ingest_rejects_a_missing_data_folder_and_an_unknown_platform(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    r = invoke("ingest", "--data", str(tmp_path / "nope"), "--warehouse", str(wh))
    assert r.exit_code == 2 and "'--data'" in r.output and "does not exist" in r.output
    r = invoke("ingest", "--data", str(tmp_path), "--warehouse", str(wh), "--platform", "nosuch")
    assert r.exit_code == 2 and "unknown platform 'nosuch'" in r.output
    assert not wh.exists()


@pytest.mark.parametrize("command", ["gate", "summary", "audit"])
def test_read_commands_need_an_existing_warehouse(command: str, tmp_path: Path) -> None:
    r = invoke(command, "--warehouse", str(tmp_path / "none.duckdb"))
    assert r.exit_code == 2 and "'--warehouse'" in r.output and "does not exist" in r.output
    assert not (tmp_path / "none.duckdb").exists()


def test_gate_on_a_warehouse_without_models_says_build_first(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema raw; create table raw.t (x int)")
    r = invoke("gate", "--warehouse", str(wh))
    assert r.exit_code == 2 and "has no dbt models yet: run `list-hygiene build`" in r.output


def test_build_before_ingest_says_ingest_first(tmp_path: Path) -> None:
    r = invoke("build", "--warehouse", str(tmp_path / "wh.duckdb"), "--no-unit-tests")
    assert r.exit_code == 2 and "has no raw tables yet: run `list-hygiene ingest`" in r.output
    assert not (tmp_path / "wh.duckdb").exists()


def test_sync_keeps_exit_code_2_for_the_brake(tmp_path: Path) -> None:
    r = invoke("sync", "--warehouse", str(tmp_path / "none.duckdb"))
    assert r.exit_code == 1 and "no warehouse at" in r.output
    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    r = invoke("sync", "--warehouse", str(wh), "--platform", "sendgird", "--dry-run")
    assert r.exit_code == 1 and "unknown platform 'sendgird'" in r.output
    with duckdb.connect(str(wh)) as con:  # nothing planned, nothing logged
        assert con.execute("select count(*) from information_schema.schemata where schema_name = 'ops'").fetchone()[0] == 0


@pytest.mark.parametrize(("args", "says"), [
    (["--days", "0"], "'--days'"),
    (["--contacts", "-5"], "'--contacts'"),
    (["--start", "2026-13-01"], "'2026-13-01' is not a date YYYY-MM-DD"),
])
def test_generate_rejects_impossible_arguments_before_writing(args: list[str], says: str, tmp_path: Path) -> None:
    r = invoke("generate", "--out", str(tmp_path / "out"), *args)
    assert r.exit_code == 2 and says in r.output
    assert not (tmp_path / "out").exists()


def test_audit_rejects_a_quarter_it_cannot_read(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    r = invoke("audit", "--warehouse", str(wh), "--quarter", "2026-11", "--out", str(tmp_path / "out"))
    assert r.exit_code == 2 and "expected YYYYQn" in r.output
    assert not (tmp_path / "out").exists()


def test_run_stopped_by_the_gate_prints_the_summary_and_exits_1(tmp_path: Path, monkeypatch) -> None:
    from list_hygiene import pipeline
    from list_hygiene.quality import GateFailed
    from list_hygiene.sync import SyncBrakeTripped

    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()

    def gate_fails(data_dir, warehouse, **_):
        pipeline._record(warehouse, "gate", {"passed": False, "checks": 3,
                                             "error": "keys_contacts: 2 null email_normalized (threshold 0)"})
        raise GateFailed("keys_contacts failed")

    monkeypatch.setattr(pipeline, "run_pipeline", gate_fails)
    r = invoke("run", "--data", str(tmp_path), "--warehouse", str(wh))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "Quality gate: FAILED (3 checks)" in r.output and "2 null email_normalized" in r.output
    assert "stopped by the quality gate" in r.output and "nothing was synced" in r.output

    def brake(data_dir, warehouse, **_):
        raise SyncBrakeTripped({"sendgrid": (900, 50)})

    monkeypatch.setattr(pipeline, "run_pipeline", brake)
    r = invoke("run", "--data", str(tmp_path), "--warehouse", str(wh), "--sync")
    assert r.exit_code == 2 and "sendgrid: 900 planned changes > limit 50" in r.output
