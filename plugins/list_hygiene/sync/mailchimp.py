"""Mailchimp: a suppression is an audience member with status ``unsubscribed``.

Adds: ``POST /3.0/lists/{list_id}`` ("batch subscribe or unsubscribe") with up to 500
``members: [{email_address, status: "unsubscribed"}]`` and ``update_existing: true``; the response's
``new_members`` / ``updated_members`` confirm rows and ``errors[]`` (``email_address``, ``error``,
``error_code``) are kept per row. Every reason is written as ``unsubscribed``: ``cleaned`` is in the
spec's enum but whether the API accepts it is unverified, and unsubscribed blocks sending just as well
(the real reason stays in the ledger). The audience comes from the connection extra ``list_id`` (the
ledger scope). Auth: HTTP Basic with any user and the API key; the data centre is the key's suffix
(``…-us6`` → ``https://us6.api.mailchimp.com``), or the connection host. Mailchimp allows 10
simultaneous connections and sends no rate-limit headers: this client uses one connection, backs off
exponentially on 429 and on a bare 403 with no JSON body (what Mailchimp sends under heavy load).
**Removal is not done by API**: setting ``subscribed`` is refused for unsubscribed/cleaned members
("Member In Compliance State") and ``pending`` would mail the contact, so approved removals are
reported as ``unsupported_removal`` for a person to handle in Mailchimp.
Read back: ``GET /3.0/lists/{id}/members?status=unsubscribed|cleaned&count=1000&offset=…``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote

import httpx

from .base import AuthError, Change, ConfigError, HttpConnector, RetryableError, RetryPolicy, RowResult, scrub
from .connections import Connection


class MailchimpConnector(HttpConnector):
    platform: ClassVar[str] = "mailchimp"
    default_base_url: ClassVar[str] = ""
    batch_size: ClassVar[int] = 500
    max_batch_size: ClassVar[int | None] = 500
    supports_removal: ClassVar[bool] = False
    can_list: ClassVar[bool] = True

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        if not conn.setting("list_id"):
            raise ConfigError("mailchimp: set the audience id in the connection extra `list_id`")
        super().__init__(conn, policy)

    @property
    def scope(self) -> str:
        return str(self.conn.setting("list_id"))

    def auth(self) -> httpx.Auth | None:
        return httpx.BasicAuth(self.conn.login or "list-hygiene", self.require_secret())

    def resolve_base_url(self) -> str:
        if self.conn.host or self.conn.setting("base_url"):
            return self.conn.base_url("")
        key = self.require_secret()
        if "-" not in key:
            raise ConfigError("mailchimp: the API key has no data-centre suffix (…-us6); set the connection host")
        return f"https://{key.rsplit('-', 1)[1]}.api.mailchimp.com"

    def classify(self, resp: httpx.Response) -> Exception:
        if resp.status_code == 403 and not resp.content.strip():
            return RetryableError("mailchimp: bare 403 (Mailchimp's overload answer)", 403)
        if resp.status_code in (401, 403):
            try:
                detail = resp.json().get("detail", "")
            except ValueError:
                detail = resp.text
            return AuthError(f"mailchimp: API key rejected (HTTP {resp.status_code}): {scrub(detail, 200)}", resp.status_code)
        return super().classify(resp)

    def _list_path(self) -> str:
        return f"/3.0/lists/{quote(self.scope, safe='')}"

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        body = {"members": [{"email_address": c.email, "status": "unsubscribed"} for c in batch],
                "update_existing": True, "sync_tags": False}
        data = self.request("POST", self._list_path(), json=body).json() or {}
        out = [RowResult(str(m.get("email_address", "")).lower(), "ok", http_status=200)
               for m in (data.get("new_members") or []) + (data.get("updated_members") or [])]
        for e in data.get("errors") or []:
            msg = f"{e.get('error_code') or ''} {e.get('error') or ''}".strip()
            out.append(RowResult(str(e.get("email_address", "")).lower(), "failed", scrub(msg), 200))
        return out

    def list_suppressed(self) -> set[str]:
        found: set[str] = set()
        for status in ("unsubscribed", "cleaned"):
            for m in self.paginate_offset(f"{self._list_path()}/members", "members", limit=1000, limit_param="count",
                                          params={"status": status, "fields": "members.email_address,total_items"}):
                found.add(str(m["email_address"]).strip().lower())
        return found
