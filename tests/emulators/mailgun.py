"""Mailgun suppressions per domain: bounces, unsubscribes, complaints (PLATFORMS.md §5, platform-examples/mailgun)."""

from __future__ import annotations

import base64

from .base import Emulator, Request, Response

LISTS = ("bounces", "unsubscribes", "complaints")
MAX_BATCH = 1000


class MailgunEmulator(Emulator):
    name = "mailgun"

    def __init__(self, api_key: str = "key-test", domain: str = "mg.example.com", page_limit_max: int = 1000) -> None:
        super().__init__()
        self.api_key = api_key
        self.domain = domain
        self.page_limit_max = page_limit_max
        self.lists: dict[str, dict[str, dict]] = {k: {} for k in LISTS}

    def check_auth(self, req: Request) -> Response | None:
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if req.header("authorization") != expected:
            return Response(401, "Forbidden", content_type="text/plain")
        return None

    def rate_limited(self, retry_after: int = 2) -> Response:
        return Response(429, {"message": "Too many requests"}, {"Retry-After": str(retry_after)})

    def route(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "v3" or parts[2] not in LISTS:
            return Response(404, {"message": "Not found"})
        if parts[1] != self.domain:
            return Response(404, {"message": f"Domain not found: {parts[1]}"})
        kind, table = parts[2], self.lists[parts[2]]
        if req.method == "POST" and len(parts) == 3:
            records = req.json()
            if not isinstance(records, list):
                return Response(400, {"message": "Invalid JSON"})
            if len(records) > MAX_BATCH:
                return Response(400, {"message": f"Batch size should be less than {MAX_BATCH}"})
            for r in records:
                if "@" not in str(r.get("address", "")):
                    return Response(400, {"message": "'address' parameter is not a valid email address"})
            for r in records:
                key = str(r["address"]).strip().lower()
                self.add_counts[key] += 1
                table[key] = {**r, "address": key, "created_at": "Wed, 12 Jun 2024 10:00:00 UTC"}
            return Response(200, {"message": f"{len(records)} addresses have been added to the {kind} table"})
        if req.method == "GET" and len(parts) == 3:
            limit = int(req.q("limit", "100"))
            if not 1 <= limit <= self.page_limit_max:
                return Response(400, {"message": f"limit must be between 1 and {self.page_limit_max}"})
            after = req.q("address") if req.q("page") == "next" else None
            keys = sorted(table)
            if after:
                keys = [k for k in keys if k > after]
            page = keys[:limit]
            base = f"http://{req.header('host')}/v3/{self.domain}/{kind}"
            nxt = f"{base}?page=next&address={page[-1] if page else after or ''}&limit={limit}"
            return Response(200, {"items": [table[k] for k in page],
                                  "paging": {"first": f"{base}?limit={limit}", "next": nxt,
                                             "previous": f"{base}?page=previous&limit={limit}",
                                             "last": f"{base}?page=last&limit={limit}"}})
        if req.method == "DELETE" and len(parts) == 4:
            key = parts[3].strip().lower()
            if key not in table:
                return Response(404, {"message": f"Address not found in {kind} table"})
            self.remove_counts[key] += 1
            del table[key]
            return Response(200, {"message": f"{kind.capitalize()} address has been removed", "address": key})
        return Response(405, {"message": "Method not allowed"})
