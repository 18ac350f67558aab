"""Readers for the generator's output files (shared by the generator tests; cached per folder, do not mutate)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path


def norm(email: str | None) -> str:
    return (email or "").strip().lower()


@lru_cache(maxsize=32)
def sendgrid_events(root: Path) -> list[dict]:
    """All parseable SendGrid events (JSON array files and JSONL lines)."""
    events: list[dict] = []
    for f in sorted((root / "sendgrid" / "events").iterdir()):
        if f.suffix == ".json":
            events += json.loads(f.read_text())
        else:
            for line in f.read_text().splitlines():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return events


@lru_cache(maxsize=32)
def ses_records(root: Path) -> list[dict]:
    """SES event-publishing records (the SNS envelope's Message, parsed)."""
    out = []
    for f in sorted((root / "ses" / "events").iterdir()):
        for line in f.read_text().splitlines():
            out.append(json.loads(json.loads(line)["Message"]))
    return out


def ses_recipient(rec: dict) -> str:
    if rec["eventType"] == "Bounce":
        return rec["bounce"]["bouncedRecipients"][0]["emailAddress"]
    if rec["eventType"] == "Complaint":
        return rec["complaint"]["complainedRecipients"][0]["emailAddress"]
    return rec["mail"]["destination"][0]


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@lru_cache(maxsize=32)
def mailchimp_members(root: Path) -> dict[str, dict[str, str]]:
    """normalized email -> {"status": ..., column: value} for well-formed member rows."""
    out: dict[str, dict[str, str]] = {}
    for f in sorted((root / "mailchimp" / "members").iterdir()):
        status = f.name.split("_")[0]
        header, rows = csv_rows(f)
        for r in rows:
            if len(r) == len(header):
                out[norm(r[0])] = {"status": status, **dict(zip(header, r, strict=True))}
    return out


@lru_cache(maxsize=32)
def mailchimp_activity(root: Path) -> list[dict]:
    """One dict per email entry of every email-activity report."""
    out = []
    for f in sorted((root / "mailchimp" / "email_activity").iterdir()):
        out += json.loads(f.read_text())["emails"]
    return out


@lru_cache(maxsize=32)
def hubspot_contacts(root: Path) -> dict[str, dict[str, str]]:
    f = next((root / "hubspot" / "contacts").iterdir())
    header, rows = csv_rows(f)
    return {norm(r[1]): dict(zip(header, r, strict=True)) for r in rows if len(r) == len(header) and r[1]}


def file_digests(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path) -> the SHA-256 of its bytes: two generations compared whole."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
