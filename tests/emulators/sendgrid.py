"""SendGrid v3 suppressions (shapes from twilio/sendgrid-oai tsg_suppressions_v3.yaml, see PLATFORMS.md §1)."""

from __future__ import annotations

import time

from .base import Emulator, Request, Response


class SendGridEmulator(Emulator):
    name = "sendgrid"
    MAX_RECIPIENTS = 1000  # our chunk size; the real maximum is unverified
    MAX_LIST_LIMIT = 500

    def __init__(self, api_key: str = "SG.test-key", rate_limit: int = 10_000) -> None:
        super().__init__()
        self.api_key = api_key
        self.global_unsubscribes: dict[str, int] = {}
        self.rate_limit = rate_limit
        self.reset_in = 1  # whole seconds to the window's reset: X-RateLimit-Reset is an epoch second
        self.window_used = 0

    def _headers(self, remaining: int | None = None, reset_in: int | None = None) -> dict[str, str]:
        rem = max(0, self.rate_limit - self.window_used) if remaining is None else remaining
        reset = int(time.time()) + (self.reset_in if reset_in is None else reset_in)
        return {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(rem),
                "X-RateLimit-Reset": str(reset)}

    def rate_limited(self, retry_after: int = 2) -> Response:
        # SendGrid documents X-RateLimit-* on 429; Retry-After is sent by some Twilio edges, so include it
        h = self._headers(remaining=0, reset_in=retry_after) | {"Retry-After": str(retry_after)}
        return Response(429, {"errors": [{"field": None, "message": "too many requests"}]}, h)

    def check_auth(self, req: Request) -> Response | None:
        if req.header("authorization") != f"Bearer {self.api_key}":
            return Response(401, {"errors": [{"field": None, "message": "authorization required"}]})
        return None

    @staticmethod
    def _err(status: int, message: str, field: str | None = None) -> Response:
        return Response(status, {"errors": [{"field": field, "message": message}]})

    def route(self, req: Request) -> Response:
        self.window_used += 1
        h = self._headers()
        if req.method == "POST" and req.path == "/v3/asm/suppressions/global":
            emails = (req.json() or {}).get("recipient_emails")
            if not isinstance(emails, list) or not emails:
                return self._err(400, "recipient_emails is required", "recipient_emails")
            if len(emails) > self.MAX_RECIPIENTS:
                return self._err(400, f"too many recipient_emails (max {self.MAX_RECIPIENTS})", "recipient_emails")
            accepted = []
            for e in emails:
                if "@" not in e:
                    continue  # invalid address: not echoed back
                key = e.strip().lower()
                self.add_counts[key] += 1
                self.global_unsubscribes.setdefault(key, int(time.time()))
                accepted.append(e)
            return Response(201, {"recipient_emails": accepted}, h)
        if req.path.startswith("/v3/asm/suppressions/global/"):
            email = req.path.rsplit("/", 1)[1].lower()
            if req.method == "GET":
                return Response(200, {"recipient_email": email} if email in self.global_unsubscribes else {}, h)
            if req.method == "DELETE":
                self.remove_counts[email] += 1
                self.global_unsubscribes.pop(email, None)
                return Response(204, None, h)
        if req.method == "GET" and req.path == "/v3/suppression/unsubscribes":
            limit = int(req.q("limit", "500"))
            offset = int(req.q("offset", "0"))
            if not 1 <= limit <= self.MAX_LIST_LIMIT:
                return self._err(400, "limit must be between 1 and 500", "limit")
            rows = [{"created": t, "email": e} for e, t in sorted(self.global_unsubscribes.items())]
            return Response(200, rows[offset:offset + limit], h)
        return self._err(404, "resource not found")
