"""`list-hygiene classify PATH...`: one JSON object per bounced recipient, in message order."""

from __future__ import annotations

import io
import json

from tests.bounces.conftest import dsn_message

from list_hygiene.bounces.command import OUTPUT_FIELDS, Quarantined, classify_paths, main


def test_classify_paths_output(tmp_path):
    (tmp_path / "1.eml").write_bytes(
        dsn_message(
            [
                ("gone@example.com", "failed", "5.1.1", "550 5.1.1 <gone@example.com>: User unknown"),
                ("full@example.com", "failed", "4.2.2", "452 4.2.2 Mailbox full"),
            ]
        )
    )
    (tmp_path / "2.eml").write_bytes(b"From: friend@example.com\nTo: me@example.org\nSubject: hi\n\nhello\n")
    rows = list(classify_paths([tmp_path]))
    assert [tuple(row) for row in rows] == [OUTPUT_FIELDS, OUTPUT_FIELDS]
    gone, full = rows
    assert (gone["recipient"], gone["reason"], gone["bounce_class"], gone["hard"]) == (
        "gone@example.com",
        "userunknown",
        "hard",
        True,
    )
    assert (full["status"], full["reply_code"], full["reason"], full["hard"]) == ("4.2.2", "452", "mailboxfull", False)
    assert gone["source"].endswith("1.eml") and gone["feedback_type"] is None


def test_main_prints_json_lines_and_reports_quarantine(tmp_path):
    (tmp_path / "good.eml").write_bytes(dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")]))
    (tmp_path / "bad.eml").write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    assert main([tmp_path], out, err) == 1
    assert json.loads(out.getvalue().splitlines()[0])["reason"] == "userunknown"
    assert "bad.eml" in err.getvalue() and "empty" in err.getvalue()


def test_quarantine_list_is_filled(tmp_path):
    (tmp_path / "bad.eml").write_bytes(b"\n\n")
    quarantine: list[Quarantined] = []
    assert list(classify_paths([tmp_path], quarantine)) == []
    assert quarantine and quarantine[0].reason


def test_cli_command(tmp_path):
    import typer
    from typer.testing import CliRunner

    from list_hygiene.bounces.command import classify_command

    (tmp_path / "1.eml").write_bytes(dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")]))
    app = typer.Typer()
    app.command()(classify_command)
    result = CliRunner().invoke(app, [str(tmp_path / "1.eml")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["recipient"] == "a@example.com"
