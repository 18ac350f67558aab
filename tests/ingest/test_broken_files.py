"""Deliberately broken exports, one per failure of issue 4: each asserts the exact quarantine row or
file error, and that every other row of the file (and every other file) still loaded."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest
from ingest_payloads import (
    MAILGUN_COMPLAINED,
    MAILGUN_FAILED,
    POSTMARK_SUBSCRIPTION_CHANGE,
    SFMC_HEADER,
    SFMC_SENT_CSV,
    ZOHO_BOUNCE,
    jsonl,
    write,
)

from list_hygiene.ingest import ingest

LOADED_AT = datetime(2026, 11, 25, 12, 0)


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def quarantined(con):
    return con.execute(
        "select platform, entity, file, row_number, field, reason, raw_text from raw.quarantine order by file, row_number"
    ).fetchall()


def count(con, table):
    return con.execute(f"select count(*) from raw.{table}").fetchone()[0]


SENT_ROW = "7281698,1234567,{key},{email},98765432,1001,{date},Sent,0,"


def sent(key="003A", email="a@example.com", date="6/10/2024 2:59:00 PM"):
    return SENT_ROW.format(key=key, email=email, date=date)


def test_unparsable_us_date_in_sfmc_extract(tmp_path, con):
    rows = [sent(), sent("003B", date="31/06/2024 14:00"), sent("003C")]
    write(tmp_path, "sfmc/sends/Sent.csv", SFMC_HEADER + "\n".join(rows) + "\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.rows_quarantined) == (2, 1)
    assert quarantined(con) == [(
        "sfmc", "sends", "sfmc/sends/Sent.csv", 2, "event_date",
        "unparsable us_datetime in field 'EventDate': '31/06/2024 14:00'", sent("003B", date="31/06/2024 14:00"),
    )]


def test_broken_quoting_keeps_raw_text_and_later_rows(tmp_path, con):
    bad = '7281698,1234567,003B,"b@example.com"x,98765432,1001,6/10/2024 2:59:00 PM,Sent,0,'
    write(tmp_path, "sfmc/sends/Sent.csv", SFMC_HEADER + sent() + "\n" + bad + "\n" + sent("003C", "c@example.com") + "\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.rows_quarantined) == (2, 1)
    assert quarantined(con) == [(
        "sfmc", "sends", "sfmc/sends/Sent.csv", 2, None,
        "broken CSV quoting near line 3: ',' expected after '\"'", bad,
    )]
    emails = con.execute("select email_address from raw.sfmc__sends order by _row").fetchall()
    assert emails == [("a@example.com",), ("c@example.com",)]


def test_invalid_utf8_line_in_jsonl(tmp_path, con):
    good = json.dumps(MAILGUN_COMPLAINED).encode()
    bad = json.dumps(dict(MAILGUN_FAILED, recipient="X")).encode().replace(b'"X"', b'"J\xe9r\xf4me@example.com"')
    write(tmp_path, "mailgun/events/e.jsonl", good + b"\n" + bad + b"\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.rows_quarantined) == (1, 1)
    [(platform, entity, file, row, fld, reason, raw_text)] = quarantined(con)
    assert (platform, entity, file, row, fld) == ("mailgun", "events", "mailgun/events/e.jsonl", 2, None)
    assert reason == "invalid UTF-8: invalid continuation byte"
    assert '"J\\xe9r\\xf4me@example.com"' in raw_text


def test_empty_email_and_an_address_that_normalises_to_nothing(tmp_path, con):
    write(tmp_path, "sfmc/sends/Sent.csv", SFMC_HEADER + sent(email="") + "\n" + sent("003B", email="mailto:") + "\n"
          + sent("003C", email=" <C@Example.COM> ") + "\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.rows_quarantined) == (1, 2)
    assert [q[3:6] for q in quarantined(con)] == [
        (1, "email_address", "empty value in required field 'EmailAddress'"),
        (2, "email_address", "no address left in field 'EmailAddress' after normalisation"),
    ]
    assert con.execute("select email_normalized from raw.sfmc__sends").fetchall() == [("c@example.com",)]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (dict(MAILGUN_FAILED, timestamp=-86400.0), "timestamp",
         "impossible unix_ts in field 'timestamp': '-86400.0' is before 1990"),
        (dict(MAILGUN_FAILED, timestamp=1718035203818), "timestamp",  # milliseconds where seconds belong
         "impossible unix_ts in field 'timestamp': '1718035203818' is in the future"),
        (dict(MAILGUN_FAILED, timestamp=datetime(2027, 1, 1).timestamp()), "timestamp",
         f"impossible unix_ts in field 'timestamp': '{datetime(2027, 1, 1).timestamp()}' is in the future"),
        ({**MAILGUN_FAILED, "delivery-status": {**MAILGUN_FAILED["delivery-status"], "attempt-no": -2}}, "attempt_no",
         "impossible value in field 'delivery-status.attempt-no': -2 is outside [0, …]"),
    ],
)
def test_impossible_values_are_quarantined(tmp_path, con, record, field, reason):
    write(tmp_path, "mailgun/events/e.jsonl", jsonl(MAILGUN_COMPLAINED, record))
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.rows_quarantined) == (1, 1)
    [q] = quarantined(con)
    assert q[3:6] == (2, field, reason)
    assert json.loads(q[6])["id"] == MAILGUN_FAILED["id"]


def test_negative_count_and_out_of_range_rating_in_csv(tmp_path, con):
    header = "Record ID,Email,Marketing emails bounced\n"
    write(tmp_path, "hubspot/contacts/c.csv", header + "1,a@example.com,0\n2,b@example.com,-3\n")
    write(tmp_path, "mailchimp/members/subscribed.csv", "Email Address,MEMBER_RATING\na@example.com,2\nb@example.com,9\n")
    report = ingest(con, tmp_path, loaded_at=LOADED_AT)
    assert [(f.rows_loaded, f.rows_quarantined) for f in report.files] == [(1, 1), (1, 1)]
    assert [q[2:6] for q in quarantined(con)] == [
        ("hubspot/contacts/c.csv", 2, "marketing_emails_bounced",
         "impossible value in field 'Marketing emails bounced': -3 is outside [0, …]"),
        ("mailchimp/members/subscribed.csv", 2, "member_rating",
         "impossible value in field 'MEMBER_RATING': 9 is outside [0, 5]"),
    ]


def test_missing_required_column_fails_that_file_naming_file_and_column(tmp_path, con):
    write(tmp_path, "sfmc/sends/a_no_email.csv", SFMC_HEADER.replace("EmailAddress,", "") + "7281698,1234567,003A,1,1001,"
          "6/10/2024 2:59:00 PM,Sent,0,\n")
    write(tmp_path, "sfmc/sends/b_good.csv", SFMC_SENT_CSV)
    report = ingest(con, tmp_path, loaded_at=LOADED_AT)
    by_path = {f.path: f for f in report.files}
    assert by_path["sfmc/sends/a_no_email.csv"].status == "failed"
    assert by_path["sfmc/sends/a_no_email.csv"].error == "sfmc/sends/a_no_email.csv: missing required column 'EmailAddress'"
    assert (by_path["sfmc/sends/b_good.csv"].status, by_path["sfmc/sends/b_good.csv"].rows_loaded) == ("loaded", 2)
    assert quarantined(con) == [("sfmc", "sends", "sfmc/sends/a_no_email.csv", None, None,
                                 "missing required column 'EmailAddress'", "")]


def test_extra_column_kept_as_json_and_reported(tmp_path, con):
    write(tmp_path, "sfmc/sends/Sent.csv", SFMC_HEADER.rstrip("\n") + ",Region\n" + sent() + ",EMEA\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.rows_loaded, f.extra_columns) == (1, ["Region"])
    assert json.loads(con.execute("select _extra from raw.sfmc__sends").fetchone()[0]) == {"Region": "EMEA"}
    assert json.loads(con.execute("select extra_columns from raw._manifest").fetchone()[0]) == ["Region"]


def test_json_drift_new_key_kept_and_reported(tmp_path, con):
    write(tmp_path, "mailgun/events/e.jsonl", jsonl(dict(MAILGUN_COMPLAINED, **{"new-field": 1})))
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert f.extra_columns == ["new-field"]
    assert json.loads(con.execute("select _extra from raw.mailgun__events").fetchone()[0])["new-field"] == 1


def test_sendgrid_suppression_file_whose_list_cannot_be_told(tmp_path, con):
    write(tmp_path, "sendgrid/suppressions/export.json", [{"created": 1718000000, "email": "a@example.com"}])
    write(tmp_path, "sendgrid/suppressions/spam_reports.json",
          [{"created": 1718000000, "email": "b@example.com", "ip": "1.2.3.4"}])
    report = ingest(con, tmp_path, loaded_at=LOADED_AT)
    [bad] = [f for f in report.files if f.status == "failed"]
    assert bad.error == (
        "sendgrid/suppressions/export.json: cannot tell which suppression list this is: put it under "
        "sendgrid/suppressions/<list>/ or name the file <list>_….json, with <list> one of bounces, blocks, "
        "invalid_emails, spam_reports, unsubscribes"
    )
    assert count(con, "sendgrid__suppressions") == 1


def test_unreadable_nested_records(tmp_path, con):
    write(tmp_path, "zoho/events/z.jsonl", jsonl({"webhook_name": "x", "action": "bounce"}, ZOHO_BOUNCE))
    write(tmp_path, "postmark/events/p.jsonl", jsonl({"RecordType": "Inbound", "MessageID": "m"}, POSTMARK_SUBSCRIPTION_CHANGE))
    report = ingest(con, tmp_path, loaded_at=LOADED_AT)
    assert [(f.rows_loaded, f.rows_quarantined) for f in report.files] == [(1, 1), (1, 1)]
    assert [q[2:6] for q in quarantined(con)] == [
        ("postmark/events/p.jsonl", 1, None, "unreadable record: unknown Postmark RecordType 'Inbound'"),
        ("zoho/events/z.jsonl", 1, None, "unreadable record: Zoho webhook body has no `data` array"),
    ]


def test_every_row_is_loaded_or_quarantined_never_both_never_neither(tmp_path, con):
    rows = [sent(f"k{i}", f"u{i}@example.com") for i in range(20)]
    rows[3] = sent("k3", "")  # empty address
    rows[7] = sent("k7", date="yesterday")
    rows[11] = rows[11] + ",extra"  # wrong field count
    write(tmp_path, "sfmc/sends/Sent.csv", SFMC_HEADER + "\n".join(rows) + "\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    loaded = {r[0] for r in con.execute("select _row from raw.sfmc__sends").fetchall()}
    quarantined_rows = {r[0] for r in con.execute("select row_number from raw.quarantine").fetchall()}
    assert quarantined_rows == {4, 8, 12}
    assert loaded | quarantined_rows == set(range(1, 21)) and not loaded & quarantined_rows
    assert (f.rows_loaded, f.rows_quarantined) == (17, 3)


def test_lone_surrogate_escape_in_json_is_quarantined_not_a_crash(tmp_path, con):
    bad = json.dumps(MAILGUN_FAILED).replace('"June Newsletter"', '"June \\ud800 News"')
    write(tmp_path, "mailgun/events/e.jsonl", jsonl(MAILGUN_COMPLAINED) + bad + "\n")
    [f] = ingest(con, tmp_path, loaded_at=LOADED_AT).files
    assert (f.status, f.rows_loaded, f.rows_quarantined) == ("loaded", 1, 1)
    assert [q[3:6] for q in quarantined(con)] == [(2, "subject", "invalid UTF-8 in field 'message.headers.subject'")]
