"""Addresses never reach a log in clear: hash them for joins, mask them for people."""

from __future__ import annotations

import hashlib


def normalize_email(value: str | None) -> str | None:
    """The comparison form used everywhere: trimmed and lower-cased (display names are the ingest's job)."""
    if value is None:
        return None
    value = value.strip().lower()
    return value or None


def hash_email(value: str) -> str:
    """Stable SHA-256 of the normalized address (hex, first 16 chars) for logs and audit tables."""
    norm = normalize_email(value) or ""
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


def mask_email(value: str) -> str:
    """`jane.doe@example.com` → `j***e@example.com`: enough for a person to recognise, not to harvest."""
    norm = normalize_email(value) or ""
    local, _, domain = norm.partition("@")
    if len(local) <= 2:
        masked = local[:1] + "*"
    else:
        masked = local[0] + "***" + local[-1]
    return f"{masked}@{domain}" if domain else masked
