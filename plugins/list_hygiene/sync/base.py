"""The small interface every platform connector implements, and the machinery written once for all.

A connector declares its shape — platform name, default base URL, auth, batch size (and the API's
hard maximum), requests per second, whether removal is possible by API, whether the platform's list
can be read back — and implements `add(batch)` / `remove(batch)` returning one `RowResult` per
address. Everything else lives here or in the runner: chunking, throttling, retries with
exponential backoff and jitter (tenacity) on 429 / 5xx / timeouts / connection errors, honouring
``Retry-After`` and ``X-RateLimit-*`` headers, and keeping addresses out of error text.

Error types decide what the runner does:
- `RetryableError` is retried inside one batch; when attempts run out the batch is failed and the
  runner moves on (the rows stay out of the ledger, so the next run retries them).
- `RequestRejected` (a 4xx for the whole request, e.g. an oversize batch) fails that batch only.
- `AuthError` (401, or 403 the platform means as "credentials") and `QuotaExhausted` (a daily cap)
  stop the platform: every further call would fail the same way.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx
import tenacity

from ..privacy import mask_email
from .connections import Connection

log = logging.getLogger(__name__)
T = TypeVar("T")

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def scrub(text: Any, limit: int = 500) -> str:
    """Error text from a platform, with every address masked (sync_log and logs never hold one in clear)."""
    s = "" if text is None else str(text)
    return EMAIL_RE.sub(lambda m: mask_email(m.group(0)), s)[:limit]


# --------------------------------------------------------------------------------------------- data


class UnsupportedOperation(RuntimeError):
    """The platform's API cannot do this (the runner checks `supports_removal` / `can_list` before asking)."""


@dataclass(frozen=True)
class Change:
    """One planned write: `email` is normalized; `reason` is the suppression_list reason."""

    email: str
    reason: str
    action: str  # add | remove


@dataclass
class RowResult:
    email: str
    status: str  # ok | failed | not_found
    error: str | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --------------------------------------------------------------------------------------------- errors

class SyncError(Exception):
    """Base of the sync's own errors."""


class RetryableError(SyncError):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RequestRejected(SyncError):
    """The platform refused the whole request (4xx): not retried, fails this batch only."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(SyncError):
    """Credentials missing or rejected: stops the platform (fix the Airflow connection)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ConfigError(AuthError):
    """The connection lacks a setting the platform needs (list id, domain, ...): stops the platform."""


class QuotaExhausted(SyncError):
    """A daily/long-window quota is used up: retrying within this run cannot help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------- retry

@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Tests shrink the waits; `sleep` is injectable so a test can see each wait."""

    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    poll_interval: float = 2.0  # asynchronous jobs (Salesforce Bulk)
    poll_timeout: float = 1800.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` is seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - (now if now is not None else time.time()))


# --------------------------------------------------------------------------------------------- connector

class Connector(ABC):
    """One platform. Subclasses set the class attributes and implement add/remove."""

    platform: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    batch_size: ClassVar[int] = 100  # default chunk for adds; a connection extra `batch_size` overrides
    max_batch_size: ClassVar[int | None] = None  # the API's documented hard limit, never exceeded
    remove_batch_size: ClassVar[int] = 100
    requests_per_second: ClassVar[float | None] = None  # extra `requests_per_second` overrides
    supports_removal: ClassVar[bool] = True
    can_list: ClassVar[bool] = False
    split_on_reject: ClassVar[bool] = False  # a 4xx for a whole batch → resend row by row to isolate the bad row
    removal_note: ClassVar[str] = ""

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        self.conn = conn
        self.policy = policy or RetryPolicy()
        size = conn.setting("batch_size", type(self).batch_size, int)
        if self.max_batch_size:
            size = min(size, self.max_batch_size)
        self.add_batch_size = max(1, size)
        rps = conn.setting("requests_per_second", type(self).requests_per_second, float)
        self.min_interval = (1.0 / rps) if rps else 0.0
        self._last_request = 0.0
        self._lock = threading.Lock()
        self._not_before = 0.0  # set from rate-limit headers (remaining == 0)
        self.stats = {"requests": 0, "retries": 0, "throttled_seconds": 0.0}

    # ---- shape -------------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        """List / stream / domain / subscription the writes go to ('' = account-wide)."""
        return ""

    def group_key(self, change: Change) -> str:
        """Adds that must go to different endpoints (Mailgun bounces vs complaints) are batched apart."""
        return ""

    @abstractmethod
    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        """Suppress every address of the batch; one result per address."""

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        raise UnsupportedOperation(f"{self.platform}: removal is not supported by its API (supports_removal is False)")

    def list_suppressed(self) -> set[str]:
        """Every address the platform suppresses in this scope (normalized), for reconcile and recovery."""
        raise UnsupportedOperation(f"{self.platform}: its suppression list cannot be read (can_list is False)")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    # ---- machinery ---------------------------------------------------------------------------
    def throttle(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = max(self._last_request + self.min_interval - now, self._not_before - now, 0.0)
            if wait > 0:
                self.stats["throttled_seconds"] += wait
                self.policy.sleep(min(wait, self.policy.max_retry_after))
            self._last_request = time.monotonic()

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            return min(exc.retry_after, self.policy.max_retry_after)
        p = self.policy
        expo = p.backoff_base * (2 ** (state.attempt_number - 1))
        return min(p.backoff_max, expo + random.uniform(0, p.backoff_base))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self.stats["retries"] += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: attempt %d failed (%s); retrying in %.2fs", self.platform, state.attempt_number,
                    scrub(exc, 200), state.next_action.sleep if state.next_action else 0)

    def retrying(self, fn: Callable[[], T]) -> T:
        """Run `fn` with the shared retry policy; `RetryableError` is retried, anything else is raised."""
        r = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(RetryableError),
            sleep=self.policy.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return r(fn)

    @staticmethod
    def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
        for i in range(0, len(items), size):
            yield list(items[i:i + size])


def _quiet_http_loggers() -> None:
    """httpx/httpcore log each request URL at INFO, and our URLs can hold an address (DELETE …/{email},
    SOQL queries): keep them at WARNING unless someone configured them on purpose."""
    for name in ("httpx", "httpcore"):
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)


class HttpConnector(Connector):
    """A JSON-over-HTTPS platform: declares auth and base URL; requests go through `request`."""

    ok_statuses: ClassVar[tuple[int, ...]] = (200, 201, 202, 204, 207)

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        super().__init__(conn, policy)
        _quiet_http_loggers()
        self.base_url = self.resolve_base_url()
        self.client = httpx.Client(base_url=self.base_url, headers=self.auth_headers(), auth=self.auth(),
                                   timeout=self.policy.timeout)

    def resolve_base_url(self) -> str:
        return self.conn.base_url(self.default_base_url)

    def auth_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def auth(self) -> httpx.Auth | None:
        return None

    def require_secret(self) -> str:
        if not self.conn.password:
            raise AuthError(f"{self.platform}: connection {self.conn.conn_id} has no password/API key set")
        return self.conn.password

    def close(self) -> None:
        self.client.close()

    # ---- rate-limit headers ------------------------------------------------------------------
    def retry_after(self, resp: httpx.Response) -> float | None:
        ra = parse_retry_after(resp.headers.get("Retry-After"))
        if ra is not None:
            return ra
        reset = resp.headers.get("X-RateLimit-Reset")
        if reset:
            try:
                return max(0.0, float(reset) - time.time())
            except ValueError:
                return None
        return None

    def note_rate_headers(self, resp: httpx.Response) -> None:
        """`X-RateLimit-Remaining: 0` → hold the next request until `X-RateLimit-Reset`."""
        remaining = resp.headers.get("X-RateLimit-Remaining")
        reset = resp.headers.get("X-RateLimit-Reset")
        if remaining is not None and reset:
            try:
                if int(remaining) <= 0:
                    wait = min(max(0.0, float(reset) - time.time()), self.policy.max_retry_after)
                    self._not_before = time.monotonic() + wait
            except ValueError:
                pass

    def classify(self, resp: httpx.Response) -> Exception:
        """Turn a non-OK response into the right error type (platforms refine this)."""
        status = resp.status_code
        text = scrub(resp.text, 300)
        if status == 401:
            return AuthError(f"{self.platform}: credentials rejected (HTTP 401): {text}", status)
        if status == 403:
            return AuthError(f"{self.platform}: forbidden (HTTP 403) — check the API key's scopes: {text}", status)
        if status == 429:
            return RetryableError(f"{self.platform}: rate limited (HTTP 429)", status, self.retry_after(resp))
        if status >= 500:
            return RetryableError(f"{self.platform}: server error HTTP {status}: {text}", status, self.retry_after(resp))
        return RequestRejected(f"{self.platform}: request rejected HTTP {status}: {text}", status)

    def request(self, method: str, url: str, *, ok: Iterable[int] = (), **kwargs: Any) -> httpx.Response:
        accepted = set(self.ok_statuses) | set(ok)

        def once() -> httpx.Response:
            self.throttle()
            self.stats["requests"] += 1
            try:
                resp = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                raise RetryableError(f"{self.platform}: timeout ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise RetryableError(f"{self.platform}: connection error ({type(exc).__name__})") from None
            if resp.status_code in accepted:
                self.note_rate_headers(resp)
                return resp
            raise self.classify(resp)

        return self.retrying(once)

    def paginate_offset(self, url: str, items_key: str | None, *, limit: int, limit_param: str = "limit",
                        offset_param: str = "offset", params: dict[str, Any] | None = None) -> Iterator[Any]:
        offset = 0
        while True:
            q = dict(params or {}) | {limit_param: limit, offset_param: offset}
            data = self.request("GET", url, params=q).json()
            items = data if items_key is None else data.get(items_key, [])
            yield from items
            if len(items) < limit:
                return
            offset += limit
