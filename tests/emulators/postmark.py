"""Postmark suppressions API per message stream (PLATFORMS.md §4, platform-examples/postmark)."""

from __future__ import annotations

from .base import Emulator, Request, Response

MAX_PER_CALL = 50


class PostmarkEmulator(Emulator):
    name = "postmark"

    def __init__(self, token: str = "pm-server-token",
                 streams: tuple[str, ...] = ("outbound", "broadcast")) -> None:
        super().__init__()
        self.token = token
        self.streams: dict[str, dict[str, str]] = {s: {} for s in streams}  # stream → email → SuppressionReason

    def rate_limited(self, retry_after: int = 2) -> Response:
        return Response(429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}, {"Retry-After": str(retry_after)})

    def check_auth(self, req: Request) -> Response | None:
        token = req.header("x-postmark-server-token")
        if not token:
            return Response(401, {"ErrorCode": 10,
                                  "Message": "No Account or Server API tokens were supplied in the HTTP headers."})
        if token != self.token:
            return Response(401, {"ErrorCode": 10, "Message": "The Server Token you provided in the X-Postmark-Server-Token "
                                                             "request header was invalid."})
        return None

    def route(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "message-streams" or parts[2] != "suppressions":
            return Response(404, {"ErrorCode": 404, "Message": "Not found"})
        stream = parts[1]
        if stream not in self.streams:
            return Response(422, {"ErrorCode": 1226,
                                  "Message": f"The message stream for the provided 'ID' ({stream}) was not found."})
        state = self.streams[stream]
        tail = parts[3:]
        if req.method == "GET" and tail == ["dump"]:
            return Response(200, {"Suppressions": [
                {"EmailAddress": e, "SuppressionReason": r, "Origin": "Customer", "CreatedAt": "2024-06-12T06:00:00-04:00"}
                for e, r in sorted(state.items())]})
        if req.method == "POST" and tail in ([], ["delete"]):
            body = req.json() or {}
            rows = body.get("Suppressions")
            if not isinstance(rows, list):
                return Response(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."})
            if len(rows) > MAX_PER_CALL:
                return Response(422, {"ErrorCode": 1224,
                                      "Message": f"Too many suppressions in one request (max {MAX_PER_CALL})."})
            out = []
            for r in rows:
                email = str(r.get("EmailAddress", ""))
                key = email.strip().lower()
                if "@" not in key:
                    out.append({"EmailAddress": email, "Status": "Failed", "Message": "An invalid email address was provided."})
                elif not tail:
                    self.add_counts[key] += 1
                    state.setdefault(key, "ManualSuppression")
                    out.append({"EmailAddress": email, "Status": "Suppressed", "Message": None})
                elif state.get(key) == "SpamComplaint":
                    out.append({"EmailAddress": email, "Status": "Failed",
                                "Message": "You do not have the required authority to change this suppression."})
                else:
                    self.remove_counts[key] += 1
                    state.pop(key, None)
                    out.append({"EmailAddress": email, "Status": "Deleted", "Message": None})
            return Response(200, {"Suppressions": out})
        return Response(404, {"ErrorCode": 404, "Message": "Not found"})
