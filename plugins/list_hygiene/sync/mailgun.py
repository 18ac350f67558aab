"""Mailgun: suppressions are per sending domain, in three lists.

Routing by reason: ``hard_bounce`` → ``/v3/{domain}/bounces`` (``code`` 550, ``error`` names the
reason), ``complaint`` → ``/v3/{domain}/complaints``, every other reason (unsubscribe, sunset,
soft_bounce_escalated, …) → ``/v3/{domain}/unsubscribes`` with ``tags: ["*"]`` (all mail from the
domain). Each list gets JSON arrays of at most 1000 records; the API answers with one message for the
whole batch (no per-row status), so a 400 for a batch is resent row by row to isolate the bad address.
Adds are upserts ("updates the existing record"). Domain: connection extra ``domain`` (or the
connection's schema); it is the ledger scope. EU accounts: extra ``region: eu``. Removal (approved
only): ``DELETE /v3/{domain}/{list}/{address}``, 404 = already absent. Read back: each list with
``limit=1000`` following ``paging.next`` until a page is empty. Auth: HTTP Basic ``api:<key>``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote

import httpx

from .base import AuthError, Change, HttpConnector, RequestRejected, RetryableError, RetryPolicy, RowResult, scrub
from .connections import Connection

LISTS = ("bounces", "complaints", "unsubscribes")


def list_for(reason: str) -> str:
    if reason == "hard_bounce":
        return "bounces"
    if reason == "complaint":
        return "complaints"
    return "unsubscribes"


class MailgunConnector(HttpConnector):
    platform: ClassVar[str] = "mailgun"
    default_base_url: ClassVar[str] = "https://api.mailgun.net"
    batch_size: ClassVar[int] = 1000
    max_batch_size: ClassVar[int | None] = 1000
    remove_batch_size: ClassVar[int] = 100
    can_list: ClassVar[bool] = True
    split_on_reject: ClassVar[bool] = True

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        if not conn.host and str(conn.setting("region", "us")).lower() == "eu":
            conn = dataclasses.replace(conn, extra=dict(conn.extra) | {"base_url": "https://api.eu.mailgun.net"})
        super().__init__(conn, policy)
        if not self.scope:
            raise AuthError("mailgun: set the sending domain in the connection extra `domain` (or its schema)")

    def auth(self) -> httpx.Auth | None:
        return httpx.BasicAuth("api", self.require_secret())

    @property
    def scope(self) -> str:
        return str(self.conn.setting("domain") or self.conn.schema or "")

    def group_key(self, change: Change) -> str:
        return list_for(change.reason)

    def _record(self, c: Change) -> dict:
        kind = list_for(c.reason)
        if kind == "bounces":
            return {"address": c.email, "code": "550", "error": f"list-hygiene suppression: {c.reason}"}
        if kind == "unsubscribes":
            return {"address": c.email, "tags": ["*"]}
        return {"address": c.email}

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        kinds = {list_for(c.reason) for c in batch}
        if len(kinds) != 1:
            raise ValueError("mailgun: a batch must target one suppression list")
        resp = self.request("POST", f"/v3/{quote(self.scope)}/{kinds.pop()}", json=[self._record(c) for c in batch])
        return [RowResult(c.email, "ok", http_status=resp.status_code) for c in batch]

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        out = []
        for c in batch:
            try:
                resp = self.request("DELETE", f"/v3/{quote(self.scope)}/{list_for(c.reason)}/{quote(c.email, safe='@')}",
                                    ok=(404,))
                out.append(RowResult(c.email, "ok", http_status=resp.status_code))
            except (RequestRejected, RetryableError) as exc:
                out.append(RowResult(c.email, "failed", scrub(exc), exc.status))
        return out

    def list_suppressed(self) -> set[str]:
        found: set[str] = set()
        for kind in LISTS:
            url: str | None = f"/v3/{quote(self.scope)}/{kind}"
            params: dict | None = {"limit": 1000}
            while url:
                data = self.request("GET", url, params=params).json() or {}
                items = data.get("items") or []
                if not items:
                    break
                found |= {str(i["address"]).strip().lower() for i in items}
                url, params = (data.get("paging") or {}).get("next"), None
        return found
