"""Writer for the raw bounce mailbox (DATA/mailbox/messages/): a handful of .eml files, composed here.

The messages are the kinds a bounce mailbox really receives, each written from the standards and the MTAs'
published formats (no copied samples): a Postfix RFC 3464 report (5.1.1, for an address that is dead in the
simulation), a Postfix delay notice (4.2.2 mailbox full, for a flaky mailbox), a plain-text Exchange-style
non-delivery report, an ARF (RFC 5965) abuse report, an RFC 3834 out-of-office reply, and, when `malformed`
is on, one message whose head was lost in transfer (it must be quarantined; scenarios.MALFORMED lists it).

Only random contacts are used, chosen consistently with the simulation (model.py), so scenario outcomes do
not change. Messages are dated inside the window at fixed places; same arguments, same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.utils import format_datetime
from pathlib import Path

import numpy as np

from .model import Population
from .scenarios import file_range

UTC = dt.UTC
SENDER = "news@example.com"
OUR_MTA = "mta1.mail.example.com"
NEVER = np.iinfo(np.int64).max

#: the unparsable message of the samples (scenarios.MALFORMED registers this file, row 1)
TRUNCATED_NAME = "truncated"


def _hex(seed: int, *keys: object, n: int = 12) -> str:
    return hashlib.sha256("|".join(map(str, ("mailbox", seed, *keys))).encode()).hexdigest()[:n]


def _pick(seed: int, key: str, candidates: np.ndarray) -> int | None:
    if not len(candidates):
        return None
    digest = hashlib.sha256(f"mailbox|{seed}|{key}".encode()).digest()
    return int(candidates[int.from_bytes(digest[:8], "big") % len(candidates)])


def _date(when: dt.datetime) -> str:
    return format_datetime(when)


def _original_headers(seed: int, email: str, sent: dt.datetime, key: str) -> tuple[str, str]:
    """The enclosed headers of the message that bounced, and its Message-ID."""
    message_id = f"<{sent:%Y%m%d}.{_hex(seed, key, 'orig', n=16)}@mail.example.com>"
    headers = (
        f"From: Example News <{SENDER}>\n"
        f"To: {email}\n"
        f"Subject: Our news for {sent:%B %Y}\n"
        f"Date: {_date(sent)}\n"
        f"Message-ID: {message_id}\n"
        "List-Unsubscribe: <mailto:unsubscribe@example.com>\n"
    )
    return headers, message_id


def _postfix_failed(seed: int, email: str, when: dt.datetime) -> str:
    sent = when - dt.timedelta(minutes=2)
    headers, _ = _original_headers(seed, email, sent, "postfix-511")
    boundary = f"{_hex(seed, 'b1', n=10).upper()}.{int(when.timestamp())}/{OUR_MTA}"
    domain = email.split("@", 1)[1]
    return f"""Return-Path: <>
From: MAILER-DAEMON@{OUR_MTA} (Mail Delivery System)
To: {SENDER}
Subject: Undelivered Mail Returned to Sender
Date: {_date(when)}
Message-ID: <{_hex(seed, "m1", n=16)}@{OUR_MTA}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {OUR_MTA}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{email}>: host mx1.{domain}[192.0.2.25] said: 550 5.1.1
    <{email}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {OUR_MTA}
X-Postfix-Queue-ID: {_hex(seed, "q1", n=10).upper()}
X-Postfix-Sender: rfc822; {SENDER}
Arrival-Date: {_date(sent)}

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.{domain}
Diagnostic-Code: smtp; 550 5.1.1 <{email}>: Recipient address rejected: User
    unknown in virtual mailbox table

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{headers}
--{boundary}--
"""


def _postfix_delayed(seed: int, email: str, when: dt.datetime) -> str:
    sent = when - dt.timedelta(hours=4)
    headers, _ = _original_headers(seed, email, sent, "postfix-422")
    boundary = f"{_hex(seed, 'b2', n=10).upper()}.{int(when.timestamp())}/{OUR_MTA}"
    domain = email.split("@", 1)[1]
    return f"""Return-Path: <>
From: MAILER-DAEMON@{OUR_MTA} (Mail Delivery System)
To: {SENDER}
Subject: Delayed Mail (still being retried)
Date: {_date(when)}
Message-ID: <{_hex(seed, "m2", n=16)}@{OUR_MTA}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {OUR_MTA}.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

<{email}>: host mx1.{domain}[192.0.2.26] said: 452 4.2.2
    <{email}>: Mailbox full (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {OUR_MTA}
Arrival-Date: {_date(sent)}

Final-Recipient: rfc822; {email}
Action: delayed
Status: 4.2.2
Remote-MTA: dns; mx1.{domain}
Diagnostic-Code: smtp; 452 4.2.2 <{email}>: Mailbox full
Will-Retry-Until: {_date(sent + dt.timedelta(days=5))}

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{headers}
--{boundary}--
"""


def _exchange_ndr(seed: int, email: str, when: dt.datetime) -> str:
    """The plain-text non-delivery report of older Exchange servers (no machine-readable part)."""
    sent = when - dt.timedelta(minutes=1)
    headers, _ = _original_headers(seed, email, sent, "exchange")
    boundary = f"----_=_NextPart_{_hex(seed, 'b3', n=16)}"
    domain = email.split("@", 1)[1]
    return f"""From: System Administrator <postmaster@{domain}>
To: {SENDER}
Subject: Undeliverable: Our news for {sent:%B %Y}
Date: {_date(when)}
Message-ID: <{_hex(seed, "m3", n=16)}@exch01.{domain}>
MIME-Version: 1.0
X-MS-Has-Attach: yes
Content-Type: multipart/mixed; boundary="{boundary}"

This message is in MIME format.

--{boundary}
Content-Type: text/plain; charset="us-ascii"

Your message did not reach some or all of the intended recipients.

      Subject:  Our news for {sent:%B %Y}
      Sent:     {sent:%m/%d/%Y %I:%M %p}

The following recipient(s) cannot be reached:

      {email} on {when:%m/%d/%Y %I:%M %p}
            The e-mail account does not exist at the organization this message was sent to.
            Check the e-mail address, or contact the recipient directly to find out the correct address.
            <exch01.{domain} #5.1.1 smtp;550 5.1.1 User unknown>

--{boundary}
Content-Type: message/rfc822

{headers}
Hello.

--{boundary}--
"""


def _arf_abuse(seed: int, email: str, when: dt.datetime) -> str:
    sent = when - dt.timedelta(hours=3)
    headers, _ = _original_headers(seed, email, sent, "arf")
    boundary = f"arf_{_hex(seed, 'b4', n=12)}"
    return f"""From: Feedback Loop <fbl@feedback.example.net>
To: fbl-reports@example.com
Subject: FW: Our news for {sent:%B %Y}
Date: {_date(when)}
Message-ID: <{_hex(seed, "m4", n=16)}@feedback.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP
192.0.2.10 on {_date(sent)}. A recipient marked it as spam.

--{boundary}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <{SENDER}>
Original-Rcpt-To: <{email}>
Arrival-Date: {_date(sent)}
Reported-Domain: example.com
Source-IP: 192.0.2.10

--{boundary}
Content-Type: text/rfc822-headers

{headers}
--{boundary}--
"""


def _auto_reply(seed: int, email: str, when: dt.datetime) -> str:
    sent = when - dt.timedelta(seconds=40)
    _, original_id = _original_headers(seed, email, sent, "vacation")
    back = (when + dt.timedelta(days=10)).strftime("%A %d %B")
    return f"""From: {email}
To: {SENDER}
Subject: Automatic reply: Our news for {sent:%B %Y}
Date: {_date(when)}
Message-ID: <{_hex(seed, "m5", n=16)}@{email.split("@", 1)[1]}>
In-Reply-To: {original_id}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Thank you for your message. I am out of the office until {back} with limited
access to e-mail. I will answer when I am back.
"""


def _truncated(seed: int, email: str, when: dt.datetime) -> str:
    """A delivery report whose first part was lost in transfer: it starts mid-line, with no header at all."""
    full = _postfix_failed(seed + 1, email, when)
    return full[full.index("livery-status;") :]


# (file stem, composer, which contacts fit it)
MESSAGES = (
    ("postfix_5.1.1", _postfix_failed, "dead"),
    ("postfix_4.2.2_delayed", _postfix_delayed, "flaky"),
    ("exchange_ndr", _exchange_ndr, "dead"),
    ("arf_abuse", _arf_abuse, "complains"),
    ("auto_reply", _auto_reply, "any"),
)


def mailbox_file(start: dt.date, days: int, stem: str) -> str:
    """Path (relative to the data folder) of one message of the window."""
    number = [s for s, _, _ in MESSAGES].index(stem) + 1 if stem != TRUNCATED_NAME else len(MESSAGES) + 1
    return f"mailbox/messages/bounce_{file_range(start, days)}_{number:02d}_{stem}.eml"


def write_mailbox(out: Path, pop: Population, start: dt.date, days: int, seed: int, malformed: bool = True) -> int:
    """Write the window's bounce messages; returns how many message files were written."""
    n = pop.n_random
    if n == 0:
        return 0
    lo = dt.datetime.combine(start, dt.time(9, 0), UTC)
    written = 0
    used = np.zeros(n, dtype=bool)
    stems = [*MESSAGES, (TRUNCATED_NAME, _truncated, "any")] if malformed else list(MESSAGES)
    for number, (stem, compose, fits) in enumerate(stems, start=1):
        when = lo + dt.timedelta(days=days * number // (len(stems) + 1), hours=number, minutes=7 * number)
        ts = int(when.timestamp())
        fits_mask = {
            "dead": pop.dead_at[:n] <= ts,
            "flaky": pop.flaky[:n],
            "complains": pop.complain_at[:n] != NEVER,
            "any": np.ones(n, dtype=bool),
        }[fits]
        contact = _pick(seed, stem, np.nonzero(fits_mask & ~used & (pop.created[:n] < ts))[0])
        if contact is None:
            contact = _pick(seed, stem, np.nonzero(~used)[0]) or 0
        used[contact] = True
        text = compose(seed, pop.email[contact], when)
        path = out / mailbox_file(start, days, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("ascii", "replace"))
        written += 1
    return written
