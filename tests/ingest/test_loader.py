"""Ingest keeps every row: loaded, or quarantined with file, row, field and reason."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from list_hygiene.ingest import ingest
from list_hygiene.ingest.validate import has_invalid_utf8

HUBSPOT_HEADER = "Record ID,Email,First Name,Last Name,Create Date,Last Modified Date"


def write(base: Path, rel: str, content: bytes | str) -> Path:
    p = base / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def quarantine(con):
    return con.execute(
        "select file, row_number, field, reason from raw.quarantine order by file, row_number"
    ).fetchall()


def test_csv_bad_rows_quarantined_with_row_field_and_reason(tmp_path, con):
    data = tmp_path / "data"
    write(
        data,
        "hubspot/contacts/export.csv",
        HUBSPOT_HEADER + "\n"
        "1,a@example.com,A,One,2026-01-01 10:00,2026-01-02 10:00\n"
        "2,,B,Two,2026-01-01 10:00,2026-01-02 10:00\n"
        "3,c@example.com,C,Three,31/02/2026 25:61,2026-01-02 10:00\n"
        "4,d@example.com,D,Four,2026-01-01 10:00\n"
        "5,e@example.com,E,Five,2026-01-01 10:00,2026-01-02 10:00\n",
    )
    report = ingest(con, data)
    [f] = report.files
    assert (f.status, f.rows_loaded, f.rows_quarantined) == ("loaded", 2, 3)
    assert quarantine(con) == [
        ("hubspot/contacts/export.csv", 2, "email", "empty value in required field 'Email'"),
        ("hubspot/contacts/export.csv", 3, "create_date", "unparsable datetime in field 'Create Date': '31/02/2026 25:61'"),
        ("hubspot/contacts/export.csv", 4, None, "expected 6 fields, found 5"),
    ]
    rows = con.execute("select record_id, email, _row from raw.hubspot__contacts order by _row").fetchall()
    assert rows == [("1", "a@example.com", 1), ("5", "e@example.com", 5)]


def test_invalid_utf8_is_quarantined_not_lost(tmp_path, con):
    data = tmp_path / "data"
    write(
        data,
        "hubspot/contacts/export.csv",
        (HUBSPOT_HEADER + "\n1,a@example.com,Bad\xff\xfeName,X,2026-01-01 10:00,2026-01-02 10:00\n").encode("latin-1"),
    )
    ingest(con, data)
    [(file, row, fld, reason)] = quarantine(con)
    assert (row, fld, reason) == (1, "first_name", "invalid UTF-8 in field 'First Name'")
    raw_text = con.execute("select raw_text from raw.quarantine").fetchone()[0]
    assert "\\xff\\xfe" in raw_text


def test_missing_required_column_fails_that_file_only(tmp_path, con):
    data = tmp_path / "data"
    write(data, "hubspot/contacts/a_broken.csv", "Record ID,First Name\n1,A\n")
    write(data, "hubspot/contacts/b_good.csv", HUBSPOT_HEADER + "\n1,a@example.com,A,One,,\n")
    report = ingest(con, data)
    by_path = {f.path: f for f in report.files}
    broken = by_path["hubspot/contacts/a_broken.csv"]
    assert broken.status == "failed"
    assert broken.error == "hubspot/contacts/a_broken.csv: missing required column 'Email'"
    assert by_path["hubspot/contacts/b_good.csv"].rows_loaded == 1
    status = con.execute("select path, status from raw._manifest order by path").fetchall()
    assert status == [("hubspot/contacts/a_broken.csv", "failed"), ("hubspot/contacts/b_good.csv", "loaded")]


def test_extra_columns_kept_as_json_and_reported(tmp_path, con):
    data = tmp_path / "data"
    write(data, "hubspot/contacts/x.csv", HUBSPOT_HEADER + ",Favourite Colour\n1,a@example.com,A,One,,,teal\n")
    [f] = ingest(con, data).files
    assert f.extra_columns == ["Favourite Colour"]
    extra = con.execute("select _extra from raw.hubspot__contacts").fetchone()[0]
    assert json.loads(extra) == {"Favourite Colour": "teal"}


def test_jsonl_bad_lines_quarantined_by_line_number(tmp_path, con):
    data = tmp_path / "data"
    good = {"email": "a@example.com", "timestamp": 1767225600, "event": "delivered", "sg_event_id": "e1"}
    bad_ts = dict(good, sg_event_id="e2", timestamp="not-a-time")
    write(data, "sendgrid/events/x.jsonl", "\n".join([json.dumps(good), "{not json", json.dumps(bad_ts)]) + "\n")
    [f] = ingest(con, data).files
    assert (f.rows_loaded, f.rows_quarantined) == (1, 2)
    q = quarantine(con)
    assert q[0][1:3] == (2, None) and q[0][3].startswith("invalid JSON")
    assert q[1][1:] == (3, "timestamp", "unparsable unix_ts in field 'timestamp': 'not-a-time'")


def test_json_file_that_is_not_json_fails_with_position(tmp_path, con):
    data = tmp_path / "data"
    write(data, "sendgrid/events/x.json", '[{"email": "a@example.com",')
    [f] = ingest(con, data).files
    assert f.status == "failed"
    assert f.error.startswith("sendgrid/events/x.json: file is not valid JSON: ")
    assert "line 1" in f.error
    assert con.execute("select count(*) from raw.quarantine where row_number is null").fetchone()[0] == 1


def test_same_bytes_twice_adds_nothing_changed_file_is_a_new_version(tmp_path, con):
    data = tmp_path / "data"
    p = write(data, "hubspot/contacts/x.csv", HUBSPOT_HEADER + "\n1,a@example.com,A,One,,\n")
    ingest(con, data)
    again = ingest(con, data)
    assert [f.status for f in again.files] == ["skipped"]
    assert con.execute("select count(*) from raw.hubspot__contacts").fetchone()[0] == 1
    p.write_text(HUBSPOT_HEADER + "\n1,a@example.com,A,Renamed,,\n2,b@example.com,B,Two,,\n")
    third = ingest(con, data)
    assert [(f.status, f.rows_loaded) for f in third.files] == [("loaded", 2)]
    assert con.execute("select count(distinct _file_id) from raw.hubspot__contacts").fetchone()[0] == 2


def test_files_landed_before_are_not_read_again(tmp_path, con, monkeypatch):
    """A file at a path the manifest holds, with the size and modification time it had then, is skipped
    without being hashed (a daily run would otherwise read the whole export history); any change to its
    size or time, and LIST_HYGIENE_INGEST_REHASH=1, bring back the content comparison."""
    import os

    from list_hygiene.ingest import loader

    data = tmp_path / "data"
    p = write(data, "hubspot/contacts/x.csv", HUBSPOT_HEADER + "\n1,a@example.com,A,One,,\n")
    q = write(data, "hubspot/contacts/y.csv", HUBSPOT_HEADER + "\n2,b@example.com,B,Two,,\n")
    first = ingest(con, data)
    assert [f.status for f in first.files] == ["loaded", "loaded"]
    hashed = []
    real = loader.sha256_of
    monkeypatch.setattr(loader, "sha256_of", lambda path, *a: hashed.append(path.name) or real(path, *a))

    again = ingest(con, data)
    assert [(f.status, f.error) for f in again.files] == [
        ("skipped", "same content already loaded as hubspot/contacts/x.csv"),
        ("skipped", "same content already loaded as hubspot/contacts/y.csv")]
    assert hashed == []

    # same size, other bytes, the old time put back: taken as unchanged (as rsync or make would) ...
    stat = p.stat()
    p.write_text(HUBSPOT_HEADER + "\n1,a@example.com,A,Uno,,\n")
    os.utime(p, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert [f.status for f in ingest(con, data).files] == ["skipped", "skipped"]
    # ... unless asked to compare every file's content
    monkeypatch.setenv("LIST_HYGIENE_INGEST_REHASH", "1")
    rehashed = ingest(con, data)
    assert [(f.path, f.status) for f in rehashed.files] == [
        ("hubspot/contacts/x.csv", "loaded"), ("hubspot/contacts/y.csv", "skipped")]
    assert sorted(hashed) == ["x.csv", "y.csv"]
    monkeypatch.delenv("LIST_HYGIENE_INGEST_REHASH")

    # a newer time alone: hashed, and the same bytes are still recognised
    hashed.clear()
    os.utime(q, ns=(q.stat().st_atime_ns, q.stat().st_mtime_ns + 10**9))
    assert [f.status for f in ingest(con, data).files] == ["skipped", "skipped"]
    assert hashed == ["y.csv"]
    assert con.execute("select count(*) from raw.hubspot__contacts").fetchone()[0] == 3


def test_manifest_without_file_times_is_compared_by_content(tmp_path, con, monkeypatch):
    """A warehouse landed before file times were kept: its files are hashed, as they always were."""
    data = tmp_path / "data"
    write(data, "hubspot/contacts/x.csv", HUBSPOT_HEADER + "\n1,a@example.com,A,One,,\n")
    ingest(con, data)
    con.execute("update raw._manifest set mtime_ns = null")
    from list_hygiene.ingest import loader

    hashed = []
    real = loader.sha256_of
    monkeypatch.setattr(loader, "sha256_of", lambda path, *a: hashed.append(path.name) or real(path, *a))
    assert [f.status for f in ingest(con, data).files] == ["skipped"]
    assert hashed == ["x.csv"]


def test_ses_sns_envelope_one_row_per_recipient(tmp_path, con):
    data = tmp_path / "data"
    inner = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-01-01T10:00:00.000Z",
            "bouncedRecipients": [
                {"emailAddress": "a@example.com", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 no such user"},
                {"emailAddress": "b@example.com", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 unknown"},
            ],
        },
        "mail": {"messageId": "m1", "timestamp": "2026-01-01T09:59:00.000Z", "destination": ["a@example.com"]},
    }
    envelope = {"Type": "Notification", "MessageId": "sns1", "Message": json.dumps(inner)}
    write(data, "ses/events/x.jsonl", json.dumps(envelope) + "\n")
    ingest(con, data)
    rows = con.execute("select email, status, bounce_type, _row, _sub from raw.ses__events order by _sub").fetchall()
    assert rows == [("a@example.com", "5.1.1", "Permanent", 1, 1), ("b@example.com", "5.1.1", "Permanent", 1, 2)]


def test_unknown_platform_folder_is_reported_not_loaded(tmp_path, con):
    data = tmp_path / "data"
    write(data, "acme/widgets/x.csv", "a,b\n1,2\n")
    [f] = ingest(con, data).files
    assert f.status == "no_connector"


def test_an_unknown_platform_name_is_an_error_not_an_empty_load(tmp_path, con):
    data = tmp_path / "data"
    write(data, "sendgrid/events/a.csv", "email\n")
    with pytest.raises(ValueError, match=r"unknown platform 'sendgird'; known: .*sendgrid"):
        ingest(con, data, ["sendgird"])
    assert [f.path for f in ingest(con, data, [" SendGrid"]).files] == ["sendgrid/events/a.csv"]


def test_a_file_straight_under_a_platform_folder_is_reported_as_misplaced(tmp_path, con):
    data = tmp_path / "data"
    write(data, "sendgrid/events.csv", "email,event\na@example.com,bounce\n")
    write(data, "sendgrid/README.md", "notes\n")
    [f] = ingest(con, data).files
    assert (f.path, f.status) == ("sendgrid/events.csv", "no_connector")
    assert f.error == "not in an entity folder (expected sendgrid/<entity>/<file>)"



def test_unread_files_lists_what_no_connector_reads(tmp_path):
    from list_hygiene.ingest.loader import unread_files

    data = tmp_path / "data"
    write(data, "sendgrid/events/a.csv", "email\n")
    write(data, "sendgrid/loose.csv", "email\n")
    write(data, "acme/widgets/x.csv", "a\n")
    write(data, "acme/README.md", "notes\n")
    write(data, "README.md", "notes\n")
    assert unread_files(data) == [{"path": "acme/widgets/x.csv", "reason": "no connector for acme/widgets"},
                                  {"path": "sendgrid/loose.csv",
                                   "reason": "not in an entity folder (expected sendgrid/<entity>/<file>)"}]
    assert unread_files(tmp_path / "missing") == []


@pytest.mark.parametrize("on_before", [True, False])
def test_cyclic_gc_is_off_while_a_file_is_read_and_as_before_after(tmp_path, con, on_before):
    """read_file turns Python's cyclic garbage collector off while it reads (the readers' many short-lived
    containers made collections a fifth of the CPU) and leaves it as it found it, also when the file fails."""
    import gc
    from datetime import datetime

    from list_hygiene.ingest import loader

    data = tmp_path / "data"
    write(data, "hubspot/contacts/c.csv", HUBSPOT_HEADER + "\n1,a@example.com,A,B,2026-01-01,2026-01-02\n")
    write(data, "hubspot/contacts/bad.csv", "no,such,header\n1,2,3\n")
    loader.ensure_raw_schema(con)
    during = []
    was = gc.isenabled()
    try:
        (gc.enable if on_before else gc.disable)()
        for name in ("c.csv", "bad.csv"):
            job = loader.plan_file(con, data / "hubspot/contacts" / name, data, "hubspot", "contacts")
            con.begin()
            landed = loader.read_file(con, job, datetime(2026, 1, 3), spill=lambda sink: during.append(gc.isenabled()))
            con.rollback()
            assert gc.isenabled() is on_before
            assert landed.status == ("loaded" if name == "c.csv" else "failed")
    finally:
        (gc.enable if was else gc.disable)()
    assert during and not any(during)


def test_invalid_utf8_is_found_in_the_field_that_holds_it() -> None:
    """The whole record is tested at once; the field is named only when the record holds undecodable bytes."""
    assert has_invalid_utf8(["10001", "ana@example.com", ""]) is None
    assert has_invalid_utf8(["10001", "zoë@example.com", "Müller"]) is None  # decodable, not ASCII
    undecodable = b"M\xfcller".decode("utf-8", "surrogateescape")
    assert has_invalid_utf8(["10001", "zoë@example.com", undecodable, "x"]) == 2
    assert has_invalid_utf8([undecodable, undecodable]) == 0
