"""Postmark: suppressions per message stream.

Adds: ``POST /message-streams/{stream}/suppressions {"Suppressions":[{"EmailAddress": ...}]}``, at most
50 per call [unverified cap, kept]; each address comes back with ``Status`` ``Suppressed`` or ``Failed``
(+ ``Message``), recorded per row. Postmark processes them asynchronously (about a minute), so a read
right after a write may not show them yet. Rows are created as ``ManualSuppression`` / ``Customer``
whatever our reason (the reason stays in the ledger). The stream comes from the connection extra
``message_stream`` (default ``outbound``); it is the ledger scope. Removal (approved only):
``POST …/suppressions/delete``, per-row ``Deleted`` / ``Failed`` (SpamComplaint rows cannot be deleted).
Read back: ``GET …/suppressions/dump`` (no paging). Auth: ``X-Postmark-Server-Token``; 401 = bad token;
errors are ``422 {"ErrorCode", "Message"}``; rate limits are unpublished, so 429 waits for
``Retry-After`` or backs off exponentially.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote

from .base import Change, HttpConnector, RowResult, scrub


class PostmarkConnector(HttpConnector):
    platform: ClassVar[str] = "postmark"
    default_base_url: ClassVar[str] = "https://api.postmarkapp.com"
    batch_size: ClassVar[int] = 50
    max_batch_size: ClassVar[int | None] = 50
    remove_batch_size: ClassVar[int] = 50
    can_list: ClassVar[bool] = True

    def auth_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "X-Postmark-Server-Token": self.require_secret()}

    @property
    def scope(self) -> str:
        return str(self.conn.setting("message_stream", "outbound"))

    def _path(self, suffix: str = "") -> str:
        return f"/message-streams/{quote(self.scope, safe='')}/suppressions{suffix}"

    def _write(self, suffix: str, batch: Sequence[Change], ok_status: str) -> list[RowResult]:
        resp = self.request("POST", self._path(suffix), json={"Suppressions": [{"EmailAddress": c.email} for c in batch]})
        out = []
        for row in (resp.json() or {}).get("Suppressions", []):
            email = str(row.get("EmailAddress", "")).strip().lower()
            if row.get("Status") == ok_status:
                out.append(RowResult(email, "ok", http_status=resp.status_code))
            else:
                out.append(RowResult(email, "failed", scrub(row.get("Message") or row.get("Status")), resp.status_code))
        return out

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._write("", batch, "Suppressed")

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._write("/delete", batch, "Deleted")

    def list_suppressed(self) -> set[str]:
        data = self.request("GET", self._path("/dump")).json() or {}
        return {str(r["EmailAddress"]).strip().lower() for r in data.get("Suppressions", [])}
