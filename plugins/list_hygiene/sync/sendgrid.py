"""SendGrid: every suppression goes to the global unsubscribe list (ASM global suppressions).

Bounces, blocks, invalid emails and spam reports are read/delete-only in SendGrid's API, so a hard
bounce or complaint from another platform is blocked here as a global unsubscribe (the reason is kept
in our ledger). Adds: ``POST /v3/asm/suppressions/global {"recipient_emails": [...]}`` → 201 echoing the
addresses; chunk 1000 (the spec states no maximum [unverified]). Removal (approved only):
``DELETE /v3/asm/suppressions/global/{email}`` → 204, one call per address; only what this sync wrote is
removed (SendGrid's own bounce list is left alone). Rate limits: ``X-RateLimit-Remaining: 0`` holds the
next call until ``X-RateLimit-Reset``; 429 waits for ``Retry-After`` or the reset. Reading back (reconcile,
recovery): ``GET /v3/suppression/unsubscribes`` with ``limit`` ≤ 500 + ``offset``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote

from .base import Change, HttpConnector, RequestRejected, RetryableError, RowResult, scrub


class SendGridConnector(HttpConnector):
    platform: ClassVar[str] = "sendgrid"
    default_base_url: ClassVar[str] = "https://api.sendgrid.com"
    batch_size: ClassVar[int] = 1000
    max_batch_size: ClassVar[int | None] = 1000  # our cap: the spec states none [unverified]
    remove_batch_size: ClassVar[int] = 100
    can_list: ClassVar[bool] = True

    def auth_headers(self) -> dict[str, str]:
        h = {"Accept": "application/json", "Authorization": f"Bearer {self.require_secret()}"}
        if self.conn.setting("on_behalf_of"):
            h["on-behalf-of"] = str(self.conn.setting("on_behalf_of"))
        return h

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        resp = self.request("POST", "/v3/asm/suppressions/global",
                            json={"recipient_emails": [c.email for c in batch]}, ok=(201,))
        echoed = {str(e).strip().lower() for e in (resp.json() or {}).get("recipient_emails", [])}
        return [RowResult(c.email, "ok", http_status=resp.status_code) if c.email in echoed
                else RowResult(c.email, "failed", "not echoed back by SendGrid", resp.status_code) for c in batch]

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        out = []
        for c in batch:
            try:
                resp = self.request("DELETE", f"/v3/asm/suppressions/global/{quote(c.email, safe='@')}", ok=(204, 404))
                out.append(RowResult(c.email, "ok", http_status=resp.status_code))
            except (RequestRejected, RetryableError) as exc:
                out.append(RowResult(c.email, "failed", scrub(exc), exc.status))
        return out

    def list_suppressed(self) -> set[str]:
        return {str(r["email"]).strip().lower()
                for r in self.paginate_offset("/v3/suppression/unsubscribes", None, limit=500)}
