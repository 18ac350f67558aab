"""Fixtures for the bounce tests: tiny synthetic messages the project owns (example.com addresses)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "bounce-corpus"


def dsn_message(
    recipients: list[tuple[str, str, str, str | None]],
    *,
    human: str = "Your message could not be delivered.",
    subject: str = "Undelivered Mail Returned to Sender",
    newline: str = "\n",
) -> bytes:
    """A minimal RFC 3464 report. recipients: (address, action, status, diagnostic-code or None)."""
    blocks = []
    for address, action, status, diagnostic in recipients:
        lines = [f"Final-Recipient: rfc822; {address}", f"Action: {action}", f"Status: {status}"]
        if diagnostic:
            lines.append(f"Diagnostic-Code: smtp; {diagnostic}")
        lines.append("Remote-MTA: dns; mx.example.com")
        blocks.append("\n".join(lines))
    text = f"""From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
To: sender@example.org
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

{human}

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org
Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0000

{(chr(10) + chr(10)).join(blocks)}

--BOUNDARY
Content-Type: message/rfc822

From: sender@example.org
To: {", ".join(r[0] for r in recipients)}
Subject: hello

hello
--BOUNDARY--
"""
    return text.replace("\n", newline).encode()


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "labels.jsonl").exists():
        pytest.skip(f"shared bounce corpus not found at {CORPUS} (it lives beside the repository as ../shared)")
    return CORPUS
