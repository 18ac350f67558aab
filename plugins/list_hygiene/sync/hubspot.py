"""HubSpot: unsubscribe the address from one subscription type (Communication Preferences v4).

Adds: ``POST /communication-preferences/v4/statuses/batch/write`` with ``inputs`` of
``{subscriberIdString, subscriptionId, statusState: "UNSUBSCRIBED", channel: "EMAIL"}`` (+ optional
``legalBasis`` / ``legalBasisExplanation`` from the connection extra ``legal_basis`` /
``legal_basis_explanation``, needed on GDPR-enabled portals). The subscription type id comes from the
extra ``subscription_id`` (the ledger scope). The answer is 200, or 207 with per-row ``errors[]``
(``context.subscriberIdString``) kept per row; ``NO_STATUS_CHANGE`` makes a re-send harmless.
Batch size 100 by default (the spec gives none [unverified]; extra ``batch_size`` lowers it).
Rate: ``requests_per_second`` 9 by default (HubSpot allows about 100 per 10 s on the lowest tiers);
a 429 waits for ``Retry-After`` when sent, else backs off; a 429 whose ``policyName`` is ``DAILY``
stops the platform for this run (QuotaExhausted). **Removal is not done by API**: writing
``SUBSCRIBED`` records consent we do not hold, so approved removals are reported as
``unsupported_removal``. The platform's list cannot be read in bulk here, so an interrupted batch is
re-sent (idempotent) rather than reconciled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import httpx

from .base import Change, ConfigError, HttpConnector, QuotaExhausted, RetryPolicy, RowResult, scrub
from .connections import Connection


class HubSpotConnector(HttpConnector):
    platform: ClassVar[str] = "hubspot"
    default_base_url: ClassVar[str] = "https://api.hubapi.com"
    batch_size: ClassVar[int] = 100
    max_batch_size: ClassVar[int | None] = 100  # our cap [unverified]: raise it only when HubSpot documents more
    requests_per_second: ClassVar[float | None] = 9.0
    supports_removal: ClassVar[bool] = False
    can_list: ClassVar[bool] = False

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        if not conn.setting("subscription_id"):
            raise ConfigError("hubspot: set the subscription type id in the connection extra `subscription_id` "
                              "(GET /communication-preferences/v4/definitions lists them)")
        super().__init__(conn, policy)

    @property
    def scope(self) -> str:
        return str(self.conn.setting("subscription_id"))

    def auth_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "Authorization": f"Bearer {self.require_secret()}"}

    def classify(self, resp: httpx.Response) -> Exception:
        if resp.status_code == 429:
            try:
                policy = str((resp.json() or {}).get("policyName", ""))
            except ValueError:
                policy = ""
            if policy.upper() == "DAILY":
                return QuotaExhausted("hubspot: daily API limit reached (429 policyName DAILY); the rest waits for "
                                      "the next run", 429)
        return super().classify(resp)

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        sub_id = int(self.scope)
        extra = {}
        if self.conn.setting("legal_basis"):
            extra["legalBasis"] = str(self.conn.setting("legal_basis"))
            extra["legalBasisExplanation"] = str(self.conn.setting("legal_basis_explanation",
                                                                   "Synced from the central suppression list"))
        inputs = [{"subscriberIdString": c.email, "subscriptionId": sub_id, "statusState": "UNSUBSCRIBED",
                   "channel": "EMAIL", **extra} for c in batch]
        resp = self.request("POST", "/communication-preferences/v4/statuses/batch/write", json={"inputs": inputs})
        data = resp.json() or {}
        out = [RowResult(str(r.get("subscriberIdString", "")).lower(), "ok", http_status=resp.status_code)
               for r in data.get("results") or [] if str(r.get("status", "")).upper() == "UNSUBSCRIBED"]
        for err in data.get("errors") or []:
            ids = (err.get("context") or {}).get("subscriberIdString") or []
            for e in ids:
                out.append(RowResult(str(e).lower(), "failed",
                                     scrub(f"{err.get('category', '')}: {err.get('message', '')}"), resp.status_code))
        return out
