"""Amazon SES event publishing via SNS: one SNS envelope per line, the SES record as a JSON string in `Message`."""

from __future__ import annotations

from pathlib import Path

from .event_columns import HUMAN_UAS, MACHINE_UA, UAS_SQL, EventTables, sql_list
from .json_sql import escaped_sql
from .model import LINK_PATHS, SES, Events, Population, Sends
from .output_files import OutputFile
from .summary import Window
from .text_columns import connect, stream_lines

SES_ACCOUNT = "123456789012"
SES_SOURCE = "news@mail.example.com"
TOPIC = f"arn:aws:sns:us-east-1:{SES_ACCOUNT}:ses-events"
CHUNK_EVENTS = 500_000  # notifications formatted per query: bounds memory at any scale


# The SES record (the SNS envelope's `Message`) as a SQL text expression. SES_SQL prints it JSON-escaped inside the
# envelope: json_sql.escaped_sql escapes its literals once, and its JSON texts are the escaped columns (`*_je`).
RECORD_SQL = """concat(
    '{{"eventType":"', ['Send', 'Delivery', 'Open', 'Click', 'Bounce', 'Complaint', 'Complaint', 'Complaint',
                        'Complaint'][etype + 1], '",',
    '"mail":{{"timestamp":"', m_iso, '","source":"{source}","sendingAccountId":"{acct}","messageId":"0100019',
    mail_id, '-000000","destination":[', email_je, '],',
    '"tags":{{"ses:configuration-set":["marketing"],"campaign":[', slug_je, ']}}}},',
    CASE etype
      WHEN 0 THEN '"send":{{}}'
      WHEN 1 THEN concat('"delivery":{{"timestamp":"', t_iso, '","processingTimeMillis":', (ts - mail_ts) * 1000 + ms,
                         ',"recipients":[', email_je, '],"smtpResponse":"250 2.0.0 OK  ', mid % 900000 + 100000,
                         ' - queued as ', queued, '","remoteMtaIp":"198.51.100.', mid % 200 + 10,
                         '","reportingMTA":"a8-', mid % 90 + 10, '.smtp-out.amazonses.com"}}')
      WHEN 2 THEN concat('"open":{{"timestamp":"', t_iso, '","userAgent":',
                         CASE WHEN machine THEN '"{machine_ua}"' ELSE {uas}[(eid % {n_ua})::INT + 1] END,
                         ',"ipAddress":"',
                         CASE WHEN machine
                              THEN concat('17.', (eid >> 8) % 256, '.', (eid >> 16) % 256, '.', (eid >> 24) % 250 + 1)
                              ELSE concat('192.0.2.', eid % 250 + 1) END, '"}}')
      WHEN 3 THEN concat('"click":{{"timestamp":"', t_iso, '","ipAddress":"192.0.2.', eid % 250 + 1,
                         '","userAgent":', {uas}[(eid % {n_ua})::INT + 1], ',"link":"https://www.example.com/',
                         slug, '/', {links}[reason + 1], '","linkTags":{{"campaign":[', slug_je, ']}}}}')
      WHEN 4 THEN concat('"bounce":{{"feedbackId":"0100019', feedback_id, '-000000","bounceType":"', ses_type,
                         '","bounceSubType":"', ses_sub,
                         '","bouncedRecipients":[{{"emailAddress":', email_je, ',"action":"failed","status":"',
                         status, '","diagnosticCode":', diag_je, '}}],"timestamp":"', t_iso,
                         '","reportingMTA":"dns; a8-', mid % 90 + 10, '.smtp-out.amazonses.com"}}')
      ELSE concat('"complaint":{{"feedbackId":"0100019', feedback_id,
                  '-000000","complaintSubType":null,"complainedRecipients":[{{"emailAddress":',
                  email_je, '}}],"timestamp":"', t_iso, '","userAgent":"Example Mailbox Feedback Loop (V0.01)",',
                  '"complaintFeedbackType":"abuse","arrivalDate":"', arrival_iso, '"}}')
    END, '}}')"""

SES_SQL = """
SELECT ts, concat(
  '{{"Type":"Notification","MessageId":"', sns_id,
  '","TopicArn":"{topic}","Subject":"Amazon SES Email Event Notification","Message":"', {message},
  '","Timestamp":"', t_iso, '","SignatureVersion":"1","Signature":"EXAMPLE', sig,
  '==","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-',
  '0000000000000000000000.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  '&SubscriptionArn={topic}:0000"}}', chr(10)) AS line
FROM ev
"""


def write_ses(out: Path, pop: Population, sends: Sends, ev: Events, win: Window) -> int:
    ses = ev.select(ev.platform == SES)
    record = RECORD_SQL.format(source=SES_SOURCE, acct=SES_ACCOUNT, machine_ua=MACHINE_UA, uas=UAS_SQL,
                               n_ua=len(HUMAN_UAS), links=sql_list(LINK_PATHS))
    sql = SES_SQL.format(topic=TOPIC, message=escaped_sql(record))
    d = out / "ses" / "events"
    d.mkdir(parents=True, exist_ok=True)
    tables = EventTables(pop, sends, SES)
    con = connect()
    with OutputFile(d / f"ses_events_{win.tag}.jsonl") as fh:
        for lo in range(0, len(ses), CHUNK_EVENTS):  # a chunk at a time: memory stays bounded
            con.register("ev", tables(ses.select(slice(lo, lo + CHUNK_EVENTS))))
            for _, lines in stream_lines(con, sql):
                lines.write(fh, 0, len(lines))
            con.unregister("ev")
    con.close()
    return len(ses)
