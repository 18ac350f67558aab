"""Raw bounce messages as a warehouse source: DATA/mailbox/messages/ (.eml, mbox, maildir) -> raw.mailbox__messages."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from list_hygiene.ingest import ingest

TWO_FAILED = b"""Return-Path: <>
From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Mar 2026 10:00:00 +0000
Message-ID: <report-1@mta.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mta.example.org.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org
Arrival-Date: Mon, 02 Mar 2026 09:58:00 +0000

Final-Recipient: rfc822; first@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <first@example.com>: Recipient address rejected: User unknown
Last-Attempt-Date: Mon, 02 Mar 2026 09:59:30 +0000

Final-Recipient: rfc822; Second@Example.NET
Action: delayed
Status: 4.2.2
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--B
Content-Type: text/rfc822-headers

From: news@example.org
To: first@example.com, Second@Example.NET
Subject: hello
Message-ID: <send-77@example.org>

--B--
"""

TRUNCATED = b"""ivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mta.example.org.
"""


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _land(root: Path, name: str, data: bytes) -> Path:
    path = root / "mailbox" / "messages" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _rows(con) -> list[tuple]:
    return con.execute(
        "select recipient_index, email_normalized, report_kind, event_type, platform, native_type, status, reply_code, "
        "occurred_at, original_message_id, report_message_id, _row, _sub "
        "from raw.mailbox__messages order by _file, _row, _sub"
    ).fetchall()


def test_a_dsn_with_two_failed_recipients_gives_two_rows_in_message_order(tmp_path, con):
    _land(tmp_path, "dsn.eml", TWO_FAILED)
    report = ingest(con, tmp_path)
    assert [(f.status, f.rows_loaded, f.rows_quarantined) for f in report.files] == [("loaded", 2, 0)]
    first, second = _rows(con)
    assert first == (
        "1", "first@example.com", "bounce", "bounce", "mailbox", "bounce", "5.1.1", "550",
        "2026-03-02T09:59:30Z", "<send-77@example.org>", "<report-1@mta.example.org>", 1, 1,
    )
    # no Last-Attempt-Date: the report's own Date; the address is normalised like every other source's
    assert second[:8] == ("2", "second@example.net", "delayed", "deferred", "mailbox", "delayed", "4.2.2", "452")
    assert second[8] == "2026-03-02T10:00:00Z" and second[-2:] == (1, 2)
    hashes = con.execute("select distinct message_hash from raw.mailbox__messages").fetchall()
    assert len(hashes) == 1 and len(hashes[0][0]) == 64


def test_an_unparsable_message_is_quarantined_whole_with_the_reason(tmp_path, con):
    _land(tmp_path, "broken.eml", TRUNCATED)
    report = ingest(con, tmp_path)
    assert [(f.status, f.rows_loaded, f.rows_quarantined) for f in report.files] == [("loaded", 0, 1)]
    rows = con.execute("select platform, entity, file, row_number, sub_index, field, reason from raw.quarantine").fetchall()
    assert rows == [
        ("mailbox", "messages", "mailbox/messages/broken.eml", 1, 0, None,
         "unparsable message: no header lines: not an email message"),
    ]
    assert con.execute("select count(*) from raw.mailbox__messages").fetchone()[0] == 0


def test_a_message_that_is_no_report_is_quarantined_not_dropped(tmp_path, con):
    _land(tmp_path, "chat.eml", b"From: friend@example.com\nTo: news@example.org\nSubject: lunch?\n\nAre you free on Friday?\n")
    ingest(con, tmp_path)
    (reason,) = con.execute("select reason from raw.quarantine").fetchone()
    assert "no bounce" in reason


def test_the_same_file_twice_is_skipped(tmp_path, con):
    _land(tmp_path, "dsn.eml", TWO_FAILED)
    ingest(con, tmp_path)
    _land(tmp_path, "dsn-copy.eml", TWO_FAILED)  # same bytes under another name
    report = ingest(con, tmp_path)
    assert sorted((f.path, f.status) for f in report.files) == [
        ("mailbox/messages/dsn-copy.eml", "skipped"),
        ("mailbox/messages/dsn.eml", "skipped"),
    ]
    assert con.execute("select count(*) from raw.mailbox__messages").fetchone()[0] == 2


def test_an_mbox_numbers_its_messages_and_quarantines_the_bad_one_by_its_place(tmp_path, con):
    mbox = (
        b"From MAILER-DAEMON Mon Mar  2 10:00:00 2026\n" + TWO_FAILED + b"\n"
        b"From MAILER-DAEMON Mon Mar  2 11:00:00 2026\n"
        b"From: friend@example.com\nTo: news@example.org\nSubject: lunch?\n\nAre you free?\n"
    )
    _land(tmp_path, "bounces.mbox", mbox)
    ingest(con, tmp_path)
    assert [(r[11], r[12]) for r in _rows(con)] == [(1, 1), (1, 2)]
    assert con.execute("select row_number from raw.quarantine").fetchall() == [(2,)]


def test_maildir_messages_land_one_file_each(tmp_path, con):
    _land(tmp_path, "box/cur/1700000000.M1.host:2,S", TWO_FAILED)
    (tmp_path / "mailbox" / "messages" / "box" / "new").mkdir(parents=True)
    (tmp_path / "mailbox" / "messages" / "box" / "tmp").mkdir(parents=True)
    report = ingest(con, tmp_path)
    assert [(f.path, f.rows_loaded) for f in report.files] == [("mailbox/messages/box/cur/1700000000.M1.host:2,S", 2)]
