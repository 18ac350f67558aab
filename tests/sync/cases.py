"""One `Case` per platform: how to start its emulator, build a connection, read its state, script faults.

The contract tests (test_contract.py) run every case through the same scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from emulators.base import Emulator, Request
from list_hygiene.sync import Connection


@dataclass
class Case:
    platform: str
    start: Callable[[], Any]  # context manager yielding a started emulator
    connection: Callable[[Any, str | None], Connection]  # (emulator, secret override) → Connection
    state: Callable[[Any], set[str]]  # addresses the platform suppresses now
    write_path: str  # substring of the path of suppression writes (for scripted faults)
    batch_limit: int  # the API's per-call maximum the emulator enforces
    batch_len: Callable[[Request], int]  # addresses in one write request
    invalid_email: str | None = "not-an-email"  # produces a per-row error (None: not applicable)
    supports_removal: bool = True
    seed: Callable[[Any, list[str]], None] = lambda emu, emails: None  # e.g. CRM contacts must exist
    add_counts: Callable[[Any], dict[str, int]] = lambda emu: dict(emu.add_counts)
    write_method: str = "POST"
    wrong_secret: str = "wrong-secret"
    retry_after_header: bool = True  # the platform's 429 carries a wait (Retry-After / reset)
    extra: dict[str, Any] = field(default_factory=dict)


def _conn(platform: str, emu: Emulator, secret: str, **extra: Any) -> Connection:
    return Connection(conn_id=f"{platform}_default", conn_type="http", host=emu.url, password=secret, extra=extra)


# ---------------------------------------------------------------------------------------- sendgrid
@contextmanager
def _sendgrid() -> Iterator[Any]:
    from emulators.sendgrid import SendGridEmulator

    with SendGridEmulator() as emu:
        yield emu


SENDGRID = Case(
    platform="sendgrid",
    start=_sendgrid,
    connection=lambda emu, secret=None: _conn("sendgrid", emu, secret or emu.api_key, batch_size=5),
    state=lambda emu: set(emu.global_unsubscribes),
    write_path="/v3/asm/suppressions/global",
    batch_limit=1000,
    batch_len=lambda req: len(req.json()["recipient_emails"]),
)

CASES: dict[str, Case] = {"sendgrid": SENDGRID}


# ---------------------------------------------------------------------------------------- postmark
@contextmanager
def _postmark() -> Iterator[Any]:
    from emulators.postmark import PostmarkEmulator

    with PostmarkEmulator() as emu:
        yield emu


CASES["postmark"] = Case(
    platform="postmark",
    start=_postmark,
    connection=lambda emu, secret=None: _conn("postmark", emu, secret or emu.token, batch_size=5,
                                             message_stream="broadcast"),
    state=lambda emu: set(emu.streams["broadcast"]),
    write_path="/suppressions",
    batch_limit=50,
    batch_len=lambda req: len(req.json()["Suppressions"]),
)


# ---------------------------------------------------------------------------------------- mailgun
@contextmanager
def _mailgun() -> Iterator[Any]:
    from emulators.mailgun import MailgunEmulator

    with MailgunEmulator() as emu:
        yield emu


CASES["mailgun"] = Case(
    platform="mailgun",
    start=_mailgun,
    connection=lambda emu, secret=None: _conn("mailgun", emu, secret or emu.api_key, batch_size=5, domain=emu.domain),
    state=lambda emu: set().union(*emu.lists.values()),
    write_path="/v3/mg.example.com/",
    batch_limit=1000,
    batch_len=lambda req: len(req.json()),
)


# ---------------------------------------------------------------------------------------- mailchimp
@contextmanager
def _mailchimp() -> Iterator[Any]:
    from emulators.mailchimp import MailchimpEmulator

    with MailchimpEmulator() as emu:
        yield emu


CASES["mailchimp"] = Case(
    platform="mailchimp",
    start=_mailchimp,
    connection=lambda emu, secret=None: _conn("mailchimp", emu, secret or emu.api_key, batch_size=5, list_id=emu.list_id),
    state=lambda emu: {e for e, s in emu.members.items() if s in ("unsubscribed", "cleaned")},
    write_path="/3.0/lists/a6b5da1054",
    batch_limit=500,
    batch_len=lambda req: len(req.json()["members"]),
    supports_removal=False,
    retry_after_header=False,
)


# ---------------------------------------------------------------------------------------- hubspot
@contextmanager
def _hubspot() -> Iterator[Any]:
    from emulators.hubspot import HubSpotEmulator

    with HubSpotEmulator() as emu:
        yield emu


CASES["hubspot"] = Case(
    platform="hubspot",
    start=_hubspot,
    connection=lambda emu, secret=None: _conn("hubspot", emu, secret or emu.token, batch_size=5,
                                             subscription_id=emu.subscription_id, requests_per_second=1000),
    state=lambda emu: set(emu.unsubscribed[emu.subscription_id]),
    write_path="/statuses/batch/write",
    batch_limit=100,
    batch_len=lambda req: len(req.json()["inputs"]),
    supports_removal=False,
)


# ---------------------------------------------------------------------------------------- ses
@contextmanager
def _ses() -> Iterator[Any]:
    from emulators.ses import SesEmulator

    with SesEmulator() as emu:
        yield emu


def _ses_conn(emu: Any, secret: str | None = None) -> Connection:
    return Connection(conn_id="ses_default", conn_type="aws", host=emu.url,
                      login="AKIAWRONGKEY" if secret else emu.access_key, password=secret or emu.secret,
                      extra={"region_name": "eu-west-1", "batch_size": 5, "requests_per_second": 1000})


CASES["ses"] = Case(
    platform="ses",
    start=_ses,
    connection=_ses_conn,
    state=lambda emu: set(emu.suppressed),
    write_path="/v2/email/suppression/addresses",
    write_method="PUT",
    batch_limit=1,
    batch_len=lambda req: 1,
    retry_after_header=False,
)


# ---------------------------------------------------------------------------------------- salesforce
@contextmanager
def _salesforce() -> Iterator[Any]:
    from emulators.salesforce import SalesforceEmulator

    with SalesforceEmulator(page_size=100) as emu:
        yield emu


def _sf_seed(emu: Any, emails: list[str]) -> None:
    for e in emails:
        if "@" in e:
            emu.add_record(e)


CASES["salesforce"] = Case(
    platform="salesforce",
    start=_salesforce,
    connection=lambda emu, secret=None: _conn("salesforce", emu, secret or emu.token, batch_size=5, objects="Contact"),
    state=lambda emu: emu.opted_out(),
    write_path="/batches",
    write_method="PUT",
    batch_limit=10_000,
    batch_len=lambda req: req.body.decode().count("\n") - 1,
    seed=_sf_seed,
)
