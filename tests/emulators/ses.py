"""Amazon SES v2 account suppression list, spoken as rest-json the way boto3 calls it.

moto 5.2.5's server mode (ThreadedMotoServer) does not implement PutSuppressedDestination /
ListSuppressedDestinations / DeleteSuppressedDestination (404 for /v2/email/suppression/...), so this
small emulator stands in, with shapes from botocore's sesv2 service-2.json (PLATFORMS.md §3). It checks
the SigV4 credential scope (access key id and service name; not the signature itself).
"""

from __future__ import annotations

import re
import time

from .base import Emulator, Request, Response

CRED_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def aws_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"__type": code, "message": message}, {"x-amzn-ErrorType": code},
                    content_type="application/json")


class SesEmulator(Emulator):
    name = "ses"

    def __init__(self, access_key: str = "AKIATESTSES", secret: str = "secret", page_max: int = 1000,
                 max_rps: float | None = None) -> None:
        super().__init__()
        self.access_key = access_key
        self.secret = secret
        self.page_max = page_max
        self.max_rps = max_rps
        self.last_call = 0.0
        self.suppressed: dict[str, dict] = {}

    def rate_limited(self, retry_after: int = 2) -> Response:
        return aws_error(429, "TooManyRequestsException", "Too many requests.")  # AWS sends no Retry-After

    def check_auth(self, req: Request) -> Response | None:
        m = CRED_RE.search(req.header("authorization") or "")
        if not m:
            return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if m.group(1) != self.access_key:
            return aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        if m.group(3) != "ses":
            return aws_error(403, "InvalidSignatureException", "Credential should be scoped to correct service: 'ses'.")
        return None

    def route(self, req: Request) -> Response:
        now = time.monotonic()
        if self.max_rps and now - self.last_call < 1.0 / self.max_rps:
            return self.rate_limited()
        self.last_call = now
        base = "/v2/email/suppression/addresses"
        if req.path == base and req.method == "PUT":
            body = req.json() or {}
            email, reason = str(body.get("EmailAddress", "")), body.get("Reason")
            if reason not in ("BOUNCE", "COMPLAINT"):
                return aws_error(400, "BadRequestException", "Reason must be BOUNCE or COMPLAINT")
            if "@" not in email:
                return aws_error(400, "BadRequestException", f"Invalid email address: {email}")
            key = email.strip().lower()
            self.add_counts[key] += 1
            self.suppressed[key] = {"EmailAddress": key, "Reason": reason, "LastUpdateTime": time.time()}
            return Response(200, {})
        if req.path == base and req.method == "GET":
            size = int(req.q("PageSize", "1000"))
            if not 1 <= size <= self.page_max:
                return aws_error(400, "BadRequestException", f"PageSize must be between 1 and {self.page_max}")
            start = int(req.q("NextToken", "0") or 0)
            keys = sorted(self.suppressed)
            page = [self.suppressed[k] for k in keys[start:start + size]]
            body: dict = {"SuppressedDestinationSummaries": page}
            if start + size < len(keys):
                body["NextToken"] = str(start + size)
            return Response(200, body)
        if req.path.startswith(base + "/"):
            key = req.path[len(base) + 1:].strip().lower()
            if key not in self.suppressed:
                return aws_error(404, "NotFoundException", "Email address is not on the suppression list")
            if req.method == "GET":
                return Response(200, {"SuppressedDestination": self.suppressed[key] | {"Attributes": {}}})
            if req.method == "DELETE":
                self.remove_counts[key] += 1
                del self.suppressed[key]
                return Response(200, {})
        return aws_error(404, "NotFoundException", "Unknown operation")
