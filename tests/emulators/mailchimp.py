"""Mailchimp Marketing API v3.0: batch subscribe/unsubscribe and member listing (PLATFORMS.md §2)."""

from __future__ import annotations

import base64
import hashlib

from .base import Emulator, Request, Response

MAX_MEMBERS = 500


def problem(status: int, title: str, detail: str) -> Response:
    return Response(status, {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
                             "status": status, "detail": detail, "instance": "00000000-0000-4000-8000-000000000000"},
                    content_type="application/problem+json")


class MailchimpEmulator(Emulator):
    name = "mailchimp"

    def __init__(self, api_key: str = "0123456789abcdef-us6", list_id: str = "a6b5da1054") -> None:
        super().__init__()
        self.api_key = api_key
        self.list_id = list_id
        self.members: dict[str, str] = {}  # email → status

    def rate_limited(self, retry_after: int = 2) -> Response:
        # Mailchimp sends no rate-limit headers; the client must back off on its own
        return problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")

    def check_auth(self, req: Request) -> Response | None:
        auth = req.header("authorization") or ""
        if not auth.startswith("Basic "):
            return problem(401, "API Key Missing", "Your request did not include an API key.")
        _, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        if key != self.api_key:
            return problem(401, "API Key Invalid",
                           "Your API key may be invalid, or you've attempted to access the wrong datacenter.")
        return None

    def route(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        if parts[:2] != ["3.0", "lists"] or len(parts) < 3:
            return problem(404, "Resource Not Found", "The requested resource could not be found.")
        if parts[2] != self.list_id:
            return problem(404, "Resource Not Found", "The requested resource could not be found.")
        if req.method == "POST" and len(parts) == 3:
            body = req.json() or {}
            members = body.get("members") or []
            if len(members) > MAX_MEMBERS:
                return problem(400, "Invalid Resource", f"Batch limit exceeded: at most {MAX_MEMBERS} members per call.")
            new, updated, errors = [], [], []
            for m in members:
                email = str(m.get("email_address", ""))
                key = email.strip().lower()
                status = m.get("status")
                if "@" not in key:
                    errors.append({"email_address": email, "error": f"{email} looks fake or invalid, please enter a real "
                                   "email address.", "error_code": "ERROR_GENERIC", "field": "email_address",
                                   "field_message": "Please provide a valid email address."})
                    continue
                if status not in ("subscribed", "unsubscribed", "cleaned", "pending", "transactional"):
                    errors.append({"email_address": email, "error": "Invalid status", "error_code": "ERROR_GENERIC",
                                   "field": "status", "field_message": ""})
                    continue
                if status == "subscribed" and self.members.get(key) in ("unsubscribed", "cleaned"):
                    errors.append({"email_address": email, "error": f"{email} is in a compliance state",
                                   "error_code": "ERROR_GENERIC", "field": "", "field_message": ""})
                    continue
                if status == "unsubscribed":
                    self.add_counts[key] += 1
                member = {"id": hashlib.md5(key.encode()).hexdigest(), "email_address": key, "status": status,
                          "list_id": self.list_id}
                if key in self.members:
                    if not body.get("update_existing"):
                        errors.append({"email_address": email, "error": f"{email} is already a list member",
                                       "error_code": "ERROR_CONTACT_EXISTS", "field": "", "field_message": ""})
                        continue
                    if self.members[key] != "cleaned":
                        self.members[key] = status
                    updated.append(member | {"status": self.members[key]})
                else:
                    self.members[key] = status
                    new.append(member)
            return Response(200, {"new_members": new, "updated_members": updated, "errors": errors,
                                  "total_created": len(new), "total_updated": len(updated), "error_count": len(errors)})
        if req.method == "GET" and parts[3:] == ["members"]:
            count = int(req.q("count", "10"))
            offset = int(req.q("offset", "0"))
            if count > 1000:
                return problem(400, "Invalid Resource", "count must be at most 1000")
            status = req.q("status")
            rows = sorted(e for e, s in self.members.items() if status is None or s == status)
            page = [{"email_address": e, "status": self.members[e]} for e in rows[offset:offset + count]]
            return Response(200, {"members": page, "total_items": len(rows)})
        return problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")
