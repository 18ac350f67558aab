"""Salesforce REST query + Bulk API 2.0 ingest for Contact/Lead (PLATFORMS.md §7, platform-examples/salesforce)."""

from __future__ import annotations

import csv
import io
import itertools
import re

from .base import Emulator, Request, Response

API = "/services/data/v60.0"
MAX_RECORDS_PER_UPLOAD = 10_000  # Bulk v2 batches are 10k records; the emulator enforces it per upload
IN_RE = re.compile(r"^SELECT Id, Email FROM (\w+) WHERE Email IN \((.*)\)$", re.S)
OPTED_RE = re.compile(r"^SELECT Email FROM (\w+) WHERE HasOptedOutOfEmail = true AND Email != null$")
QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def sf_error(status: int, code: str, message: str) -> Response:
    return Response(status, [{"message": message, "errorCode": code}])


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


class SalesforceEmulator(Emulator):
    name = "salesforce"

    def __init__(self, token: str = "00Dxx!session", page_size: int = 2000, polls_until_complete: int = 1) -> None:
        super().__init__()
        self.token = token
        self.page_size = page_size
        self.polls_until_complete = polls_until_complete
        self.records: dict[str, dict] = {}  # Id → {object, Email, HasOptedOutOfEmail, deleted}
        self.jobs: dict[str, dict] = {}
        self.cursors: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)
        self.by_email: dict[str, list[str]] = {}

    def add_record(self, email: str, obj: str = "Contact", deleted: bool = False) -> str:
        prefix = "003" if obj == "Contact" else "00Q"
        rid = f"{prefix}XX{next(self._ids):010d}"
        self.records[rid] = {"object": obj, "Email": email, "HasOptedOutOfEmail": False, "deleted": deleted}
        self.by_email.setdefault(email.lower(), []).append(rid)
        return rid

    def opted_out(self) -> set[str]:
        return {r["Email"].lower() for r in self.records.values() if r["HasOptedOutOfEmail"] and not r["deleted"]}

    def rate_limited(self, retry_after: int = 2) -> Response:
        return Response(429, [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                        {"Retry-After": str(retry_after)})

    def check_auth(self, req: Request) -> Response | None:
        if req.header("authorization") != f"Bearer {self.token}":
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def _page(self, rows: list[dict]) -> Response:
        page, rest = rows[:self.page_size], rows[self.page_size:]
        body: dict = {"totalSize": len(rows), "done": not rest, "records": page}
        if rest:
            cid = f"01gXX{next(self._ids):010d}-{self.page_size}"
            self.cursors[cid] = rest
            body["nextRecordsUrl"] = f"{API}/query/{cid}"
        return Response(200, body)

    def route(self, req: Request) -> Response:
        if req.method == "GET" and req.path == f"{API}/query":
            q = req.q("q", "") or ""
            m = IN_RE.match(q)
            if m:
                wanted = {v.replace("\\'", "'").lower() for v in QUOTED.findall(m.group(2))}
                ids = sorted(i for e in wanted for i in self.by_email.get(e, []))
                rows = [{"attributes": {"type": m.group(1)}, "Id": rid, "Email": self.records[rid]["Email"]}
                        for rid in ids if self.records[rid]["object"] == m.group(1) and not self.records[rid]["deleted"]]
                return self._page(rows)
            m = OPTED_RE.match(q)
            if m:
                rows = [{"attributes": {"type": m.group(1)}, "Email": r["Email"]} for r in self.records.values()
                        if r["object"] == m.group(1) and r["HasOptedOutOfEmail"] and not r["deleted"]]
                return self._page(rows)
            return sf_error(400, "MALFORMED_QUERY", "unsupported query in emulator")
        if req.method == "GET" and req.path.startswith(f"{API}/query/"):
            cid = req.path.rsplit("/", 1)[1]
            rows = self.cursors.pop(cid, None)
            if rows is None:
                return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(rows)
        if not req.path.startswith(f"{API}/jobs/ingest"):
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        parts = req.path[len(f"{API}/jobs/ingest"):].strip("/").split("/")
        if req.method == "POST" and parts == [""]:
            body = req.json() or {}
            if body.get("object") not in ("Contact", "Lead") or body.get("operation") != "update":
                return sf_error(400, "INVALIDJOB", "object/operation not supported by emulator")
            jid = f"7505e{next(self._ids):013d}"
            self.jobs[jid] = {"id": jid, "object": body["object"], "operation": "update", "state": "Open",
                              "contentUrl": f"services/data/v60.0/jobs/ingest/{jid}/batches", "rows": None,
                              "ok": [], "failed": [], "polls": 0}
            return Response(200, {k: v for k, v in self.jobs[jid].items() if k not in ("rows", "ok", "failed", "polls")}
                            | {"contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA", "apiVersion": 60.0})
        job = self.jobs.get(parts[0])
        if job is None:
            return sf_error(404, "NOT_FOUND", "job not found")
        if req.method == "PUT" and parts[1:] == ["batches"]:
            if job["state"] != "Open":
                return sf_error(400, "INVALIDJOBSTATE", "job is not open")
            if req.header("content-type") != "text/csv":
                return sf_error(400, "INVALIDCONTENTTYPE", "expected text/csv")
            rows = list(csv.DictReader(io.StringIO(req.body.decode())))
            if len(rows) > MAX_RECORDS_PER_UPLOAD:
                return sf_error(400, "INVALIDBATCH", f"more than {MAX_RECORDS_PER_UPLOAD} records in one upload")
            job["rows"] = rows
            return Response(201, None)
        if req.method == "PATCH" and parts[1:] == []:
            if (req.json() or {}).get("state") == "UploadComplete":
                job["state"] = "UploadComplete"
                for row in job["rows"] or []:
                    rec = self.records.get(row["Id"])
                    if rec is None or rec["object"] != job["object"]:
                        job["failed"].append(row | {"sf__Error": "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"})
                    elif rec["deleted"]:
                        job["failed"].append(row | {"sf__Error": "ENTITY_IS_DELETED:entity is deleted:--"})
                    else:
                        value = row["HasOptedOutOfEmail"].lower() == "true"
                        if value:
                            self.add_counts[rec["Email"].lower()] += 1
                        else:
                            self.remove_counts[rec["Email"].lower()] += 1
                        rec["HasOptedOutOfEmail"] = value
                        job["ok"].append(row)
            return Response(200, {"id": job["id"], "state": job["state"]})
        if req.method == "GET" and parts[1:] == []:
            if job["state"] == "UploadComplete":
                job["polls"] += 1
                if job["polls"] >= self.polls_until_complete:
                    job["state"] = "JobComplete"
                else:
                    job["state"] = "InProgress"
            elif job["state"] == "InProgress":
                job["polls"] += 1
                if job["polls"] >= self.polls_until_complete:
                    job["state"] = "JobComplete"
            return Response(200, {"id": job["id"], "object": job["object"], "operation": "update", "state": job["state"],
                                  "jobType": "V2Ingest", "numberRecordsProcessed": len(job["ok"]) + len(job["failed"]),
                                  "numberRecordsFailed": len(job["failed"]), "retries": 0})
        if req.method == "GET" and parts[1:] == ["successfulResults"]:
            return Response(200, to_csv(["sf__Id", "sf__Created", "Id", "HasOptedOutOfEmail"],
                                        [[r["Id"], "false", r["Id"], r["HasOptedOutOfEmail"]] for r in job["ok"]]),
                            content_type="text/csv")
        if req.method == "GET" and parts[1:] == ["failedResults"]:
            return Response(200, to_csv(["sf__Id", "sf__Error", "Id", "HasOptedOutOfEmail"],
                                        [["", r["sf__Error"], r["Id"], r["HasOptedOutOfEmail"]] for r in job["failed"]]),
                            content_type="text/csv")
        return sf_error(405, "METHOD_NOT_ALLOWED", "method not allowed")
