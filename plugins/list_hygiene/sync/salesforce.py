"""Salesforce core CRM: ``HasOptedOutOfEmail = true`` on every Contact/Lead with the address, via Bulk API 2.0.

Email is not an external id, so a batch first resolves Ids with SOQL
(``GET /services/data/vXX.X/query?q=SELECT Id, Email FROM Contact WHERE Email IN (…)``, 200 addresses
per query, following ``nextRecordsUrl``), then per object runs one ingest job: ``POST …/jobs/ingest``
``{object, operation: "update", contentType: "CSV", lineEnding: "LF"}`` → ``PUT {contentUrl}`` with
``Id,HasOptedOutOfEmail`` → ``PATCH {"state": "UploadComplete"}`` → poll until ``JobComplete`` /
``Failed`` / ``Aborted`` → ``successfulResults/`` and ``failedResults/`` (``sf__Error``) per record.
An address is confirmed when all its records were updated; an address with no Contact/Lead is
``not_found`` (logged, not in the ledger). Update by Id is idempotent. Batch: up to 10,000 addresses per
job (Bulk v2 splits into 10k-record batches). Removal (approved only) writes ``false``.
Connection: host = instance URL, password = OAuth access token; extra ``api_version`` (default 60.0),
``objects`` (default ``Contact,Lead``). 401 ``INVALID_SESSION_ID`` → credentials; 403
``REQUEST_LIMIT_EXCEEDED`` → daily quota (stops the platform). Read back: SOQL on
``HasOptedOutOfEmail = true``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import httpx

from .base import Change, HttpConnector, QuotaExhausted, RequestRejected, RetryableError, RowResult, scrub

SOQL_CHUNK = 200  # ~7 kB of URL per query, well under Salesforce's 16 kB URI limit


def soql_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SalesforceConnector(HttpConnector):
    platform: ClassVar[str] = "salesforce"
    default_base_url: ClassVar[str] = "https://login.salesforce.com"
    batch_size: ClassVar[int] = 10_000
    max_batch_size: ClassVar[int | None] = 10_000
    remove_batch_size: ClassVar[int] = 10_000
    can_list: ClassVar[bool] = True

    @property
    def api(self) -> str:
        return f"/services/data/v{self.conn.setting('api_version', '60.0')}"

    @property
    def objects(self) -> list[str]:
        raw = self.conn.setting("objects", "Contact,Lead")
        return [o.strip() for o in (raw if isinstance(raw, list) else str(raw).split(",")) if o.strip()]

    def auth_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "Authorization": f"Bearer {self.require_secret()}"}

    def classify(self, resp: httpx.Response) -> Exception:
        if resp.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in resp.text:
            return QuotaExhausted(f"salesforce: API request limit exceeded: {scrub(resp.text, 200)}", 403)
        return super().classify(resp)

    # ---- SOQL --------------------------------------------------------------------------------
    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        data = self.request("GET", f"{self.api}/query", params={"q": soql}).json()
        while True:
            yield from data.get("records", [])
            nxt = data.get("nextRecordsUrl")
            if data.get("done", True) or not nxt:
                return
            data = self.request("GET", nxt).json()

    def resolve(self, obj: str, emails: Sequence[str]) -> dict[str, list[str]]:
        """email → Ids of `obj` records with that address (case-insensitive, as SOQL compares)."""
        out: dict[str, list[str]] = {}
        for chunk in self.chunks(list(emails), SOQL_CHUNK):
            soql = f"SELECT Id, Email FROM {obj} WHERE Email IN ({', '.join(soql_quote(e) for e in chunk)})"
            for rec in self.query(soql):
                out.setdefault(str(rec.get("Email") or "").strip().lower(), []).append(rec["Id"])
        return out

    # ---- Bulk API 2.0 ------------------------------------------------------------------------
    def ingest(self, obj: str, ids: Sequence[str], value: bool) -> tuple[set[str], dict[str, str]]:
        """Run one update job; returns (Ids updated, Id → error)."""
        job = self.request("POST", f"{self.api}/jobs/ingest", json={
            "object": obj, "operation": "update", "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}).json()
        job_id = job["id"]
        content_url = "/" + str(job.get("contentUrl") or f"{self.api.lstrip('/')}/jobs/ingest/{job_id}/batches").lstrip("/")
        body = "Id,HasOptedOutOfEmail\n" + "".join(f"{i},{'true' if value else 'false'}\n" for i in ids)
        self.request("PUT", content_url, content=body.encode(), headers={"Content-Type": "text/csv"})
        self.request("PATCH", f"{self.api}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
        deadline = time.monotonic() + self.policy.poll_timeout
        while True:
            info = self.request("GET", f"{self.api}/jobs/ingest/{job_id}").json()
            state = info.get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise RequestRejected(f"salesforce: ingest job {job_id} {state}: {scrub(info.get('errorMessage'), 200)}")
            if time.monotonic() > deadline:
                raise RetryableError(f"salesforce: ingest job {job_id} still {state} after {self.policy.poll_timeout}s")
            self.policy.sleep(self.policy.poll_interval)
        ok = {r["sf__Id"] or r.get("Id", "") for r in self._csv(f"{self.api}/jobs/ingest/{job_id}/successfulResults/")}
        failed = {r.get("Id") or r.get("sf__Id", ""): r.get("sf__Error", "failed")
                  for r in self._csv(f"{self.api}/jobs/ingest/{job_id}/failedResults/")}
        return ok, failed

    def _csv(self, url: str) -> list[dict[str, str]]:
        text = self.request("GET", url, headers={"Accept": "text/csv"}).text
        return list(csv.DictReader(io.StringIO(text)))

    def _write(self, batch: Sequence[Change], value: bool) -> list[RowResult]:
        emails = [c.email for c in batch]
        ok_ids: set[str] = set()
        errors: dict[str, str] = {}
        found: dict[str, list[str]] = {}
        for obj in self.objects:
            ids = self.resolve(obj, emails)
            for e, lst in ids.items():
                found.setdefault(e, []).extend(lst)
            all_ids = [i for lst in ids.values() for i in lst]
            for chunk in self.chunks(all_ids, self.max_batch_size or 10_000):
                ok, failed = self.ingest(obj, chunk, value)
                ok_ids |= ok
                errors |= failed
        out = []
        for e in emails:
            ids = found.get(e, [])
            if not ids:
                out.append(RowResult(e, "not_found", f"no {'/'.join(self.objects)} with this Email"))
            elif all(i in ok_ids for i in ids):
                out.append(RowResult(e, "ok", http_status=200))
            else:
                msg = "; ".join(scrub(errors.get(i, "no result for record")) for i in ids if i not in ok_ids)
                out.append(RowResult(e, "failed", msg[:500]))
        return out

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._write(batch, True)

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._write(batch, False)

    def list_suppressed(self) -> set[str]:
        found: set[str] = set()
        for obj in self.objects:
            for rec in self.query(f"SELECT Email FROM {obj} WHERE HasOptedOutOfEmail = true AND Email != null"):
                found.add(str(rec.get("Email") or "").strip().lower())
        return found
