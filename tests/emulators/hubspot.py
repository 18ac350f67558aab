"""HubSpot Communication Preferences v4 batch write (PLATFORMS.md §6, platform-examples/hubspot)."""

from __future__ import annotations

from .base import Emulator, Request, Response

MAX_INPUTS = 100  # our assumption: HubSpot's batch endpoints usually take 100 [unverified]


class HubSpotEmulator(Emulator):
    name = "hubspot"

    def __init__(self, token: str = "pat-na1-test", subscription_id: int = 123456789) -> None:
        super().__init__()
        self.token = token
        self.subscription_id = subscription_id
        self.contacts: set[str] | None = None  # None: every address is a contact
        self.unsubscribed: dict[int, set[str]] = {subscription_id: set()}

    def rate_limited(self, retry_after: int = 2, policy: str = "SECONDLY") -> Response:
        return Response(429, {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                              "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24", "policyName": policy},
                        {"Retry-After": str(retry_after), "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                         "X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "0"})

    def check_auth(self, req: Request) -> Response | None:
        if req.header("authorization") != f"Bearer {self.token}":
            return Response(401, {"status": "error", "message": "Authentication credentials not found.",
                                  "correlationId": "x", "category": "INVALID_AUTHENTICATION"})
        return None

    def route(self, req: Request) -> Response:
        if req.method == "POST" and req.path == "/communication-preferences/v4/statuses/batch/write":
            inputs = (req.json() or {}).get("inputs") or []
            if len(inputs) > MAX_INPUTS:
                return Response(400, {"status": "error", "message": f"Batch size must be at most {MAX_INPUTS}",
                                      "category": "VALIDATION_ERROR", "correlationId": "x"})
            results, errors = [], []
            for i in inputs:
                email = str(i.get("subscriberIdString", "")).strip().lower()
                sub = int(i.get("subscriptionId", 0))
                if sub not in self.unsubscribed or i.get("channel") != "EMAIL" or i.get("statusState") not in (
                        "SUBSCRIBED", "UNSUBSCRIBED", "NOT_SPECIFIED"):
                    errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": "Invalid input",
                                   "context": {"subscriberIdString": [email]}})
                    continue
                if "@" not in email or (self.contacts is not None and email not in self.contacts):
                    errors.append({"status": "error", "category": "VALIDATION_ERROR",
                                   "message": f"Contact not found for subscriberIdString {email}",
                                   "context": {"subscriberIdString": [email]}, "errors": [], "links": {}})
                    continue
                before = email in self.unsubscribed[sub]
                if i["statusState"] == "UNSUBSCRIBED":
                    self.add_counts[email] += 1
                    self.unsubscribed[sub].add(email)
                    reason = "NO_STATUS_CHANGE" if before else "REQUESTED_CHANGE_OCCURRED"
                    status = "UNSUBSCRIBED"
                else:
                    self.unsubscribed[sub].discard(email)
                    reason = "RESUBSCRIBE_OCCURRED" if before else "NO_STATUS_CHANGE"
                    status = i["statusState"]
                results.append({"subscriberIdString": email, "subscriptionId": sub, "subscriptionName": "Newsletter",
                                "status": status, "source": "Public Status API", "channel": "EMAIL",
                                "timestamp": "2024-06-12T10:00:02.145Z", "businessUnitId": 0,
                                "setStatusSuccessReason": reason})
            body = {"status": "COMPLETE", "results": results, "requestedAt": "2024-06-12T10:00:01.900Z",
                    "startedAt": "2024-06-12T10:00:01.950Z", "completedAt": "2024-06-12T10:00:02.200Z", "links": {}}
            if errors:
                body |= {"numErrors": len(errors), "errors": errors}
            return Response(207 if errors else 200, body)
        return Response(404, {"status": "error", "message": "Not found", "category": "OBJECT_NOT_FOUND"})
