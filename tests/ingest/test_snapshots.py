"""Snapshot sources (a CRM or audience export sent in full every day) land only what changed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from list_hygiene.ingest import ingest

HEADER = "Record ID,Email,First Name,Last Modified Date\n"


def write(base: Path, rel: str, text: str) -> None:
    p = base / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_next_snapshot_lands_only_new_and_changed_rows(tmp_path):
    data = tmp_path / "data"
    write(data, "hubspot/contacts/day1.csv", HEADER + "1,ana@example.com,Ana,2026-08-01 10:00\n"
          "2,bo@example.com,Bo,2026-08-01 10:00\n3,cy@example.com,Cy,2026-08-01 10:00\n"
          "3,cy@example.com,Cy,2026-08-01 10:00\n")  # a repeated row inside one file is kept: not an earlier file
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        first = ingest(con, data, loaded_at=datetime(2026, 8, 1, 12))
        assert first.by_source()["hubspot/contacts"] == {
            "files": 1, "rows": 4, "quarantined": 0, "unchanged": 0, "failed": 0}
        write(data, "hubspot/contacts/day2.csv", HEADER + "1,ana@example.com,Ana,2026-08-01 10:00\n"
              "2,bo.new@example.com,Bo,2026-08-02 09:00\n3,cy@example.com,Cy,2026-08-01 10:00\n"
              "4,di@example.com,Di,2026-08-02 09:30\n,,,\n5,,Eve,2026-08-02 09:00\n")
        second = ingest(con, data, loaded_at=datetime(2026, 8, 2, 12))
        day2 = next(f for f in second.files if f.path.endswith("day2.csv"))
        assert (day2.rows_loaded, day2.rows_unchanged, day2.rows_quarantined) == (2, 2, 1)
        assert con.execute("select record_id, email from raw.hubspot__contacts where _file like '%day2%' order by 1"
                           ).fetchall() == [("2", "bo.new@example.com"), ("4", "di@example.com")]
        assert con.execute("select rows_loaded, rows_unchanged, rows_quarantined from raw._manifest "
                           "where path like '%day2%'").fetchone() == (2, 2, 1)
        # every row of day 2 is accounted for: loaded, unchanged (an identical row exists) or quarantined
        assert con.execute("select count(*) from raw.hubspot__contacts").fetchone()[0] == 6


def test_event_sources_are_not_deduplicated_at_the_door(tmp_path):
    """Only snapshot sources drop unchanged rows; the same event in two files is staging's business."""
    data = tmp_path / "data"
    line = '{"email":"ana@example.com","timestamp":1785686419,"event":"open","sg_event_id":"e1"}\n'
    write(data, "sendgrid/events/a.jsonl", line)
    write(data, "sendgrid/events/b.jsonl", line + line.replace("e1", "e2"))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = ingest(con, data, loaded_at=datetime(2026, 8, 2, 12))
        assert [f.rows_unchanged for f in report.files] == [0, 0]
        assert con.execute("select count(*) from raw.sendgrid__events").fetchone()[0] == 3
