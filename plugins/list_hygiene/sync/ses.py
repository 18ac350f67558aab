"""Amazon SES v2: the account-level suppression list, one address per call, through boto3.

Adds: ``PutSuppressedDestination(EmailAddress, Reason)`` (an overwrite, so idempotent). SES knows only
two reasons: ``hard_bounce`` and ``soft_bounce_escalated`` → ``BOUNCE``; ``complaint``,
``unsubscribe``, ``sunset`` and anything else → ``COMPLAINT`` (the real reason stays in the ledger).
Removal (approved only): ``DeleteSuppressedDestination``; ``NotFoundException`` = already absent.
Read back: ``ListSuppressedDestinations`` with ``NextToken``. SES throttles every non-send action at
**1 request per second**: ``requests_per_second`` (connection extra, default 1) paces the calls, and a
``TooManyRequestsException`` / throttling error backs off exponentially (AWS sends no Retry-After).
The runner's "batch" here is a group of 25 single calls committed to the ledger together.
Credentials: connection login/password = access key id / secret (extra ``aws_session_token``,
``region_name``); ``endpoint_url`` = connection host (tests, VPC endpoints). With extra
``use_default_credentials: true`` boto3's default chain (instance role, env) is used instead.
botocore's own retries are switched off so tenacity is the single retry layer.
Bulk alternative not used: S3 import jobs (100k adds per object) need a bucket SES can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from .base import (
    AuthError,
    Change,
    Connector,
    QuotaExhausted,
    RequestRejected,
    RetryableError,
    RetryPolicy,
    RowResult,
    scrub,
)
from .connections import Connection

T = TypeVar("T")
_SESSION: Any = None

THROTTLE_CODES = {"TooManyRequestsException", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                  "SlowDown", "ServiceUnavailable", "InternalFailure", "InternalServerError"}
AUTH_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "AccessDeniedException", "AccessDenied",
              "SignatureDoesNotMatch", "MissingAuthenticationTokenException", "ExpiredTokenException",
              "InvalidSignatureException", "IncompleteSignature"}


def ses_reason(reason: str) -> str:
    return "BOUNCE" if reason in ("hard_bounce", "soft_bounce_escalated") else "COMPLAINT"


class SesConnector(Connector):
    platform: ClassVar[str] = "ses"
    batch_size: ClassVar[int] = 25
    max_batch_size: ClassVar[int | None] = None  # one address per API call; the batch is a ledger unit
    remove_batch_size: ClassVar[int] = 25
    requests_per_second: ClassVar[float | None] = 1.0
    can_list: ClassVar[bool] = True

    def __init__(self, conn: Connection, policy: RetryPolicy | None = None) -> None:
        super().__init__(conn, policy)
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = {"region_name": conn.setting("region_name", "us-east-1")}
        if conn.host or conn.setting("base_url"):
            kwargs["endpoint_url"] = conn.base_url("")
        if not conn.setting("use_default_credentials", False, bool):
            if not (conn.login and conn.password):
                raise AuthError("ses: the connection needs login (access key id) and password (secret access key), "
                                "or extra use_default_credentials=true")
            kwargs |= {"aws_access_key_id": conn.login, "aws_secret_access_key": conn.password,
                       "aws_session_token": conn.setting("aws_session_token")}
        cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=self.policy.timeout,
                     read_timeout=self.policy.timeout)
        global _SESSION
        if _SESSION is None:  # one botocore session per process: loading the service model is the slow part
            _SESSION = boto3.session.Session()
        self.client = _SESSION.client("sesv2", config=cfg, **kwargs)

    def call(self, fn: Callable[[], T], *, ok_codes: tuple[str, ...] = ()) -> T | None:
        """One SES call with pacing and the shared retries; `ok_codes` are error codes that mean success."""
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

        def once() -> T | None:
            self.throttle()
            self.stats["requests"] += 1
            try:
                return fn()
            except ClientError as exc:
                err = exc.response.get("Error", {})
                code = str(err.get("Code", ""))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
                msg = f"ses: {code} (HTTP {status}): {scrub(err.get('Message', ''), 200)}"
                if code in ok_codes:
                    return None
                if code == "LimitExceededException":
                    raise QuotaExhausted(msg, status) from None
                if code in AUTH_CODES or status in (401, 403):
                    raise AuthError(msg, status) from None
                if code in THROTTLE_CODES or status == 429 or status >= 500:
                    raise RetryableError(msg, status) from None
                raise RequestRejected(msg, status) from None
            except NoCredentialsError:
                raise AuthError("ses: no AWS credentials found") from None
            except (EndpointConnectionError, BotoCoreError) as exc:
                raise RetryableError(f"ses: {type(exc).__name__}") from None

        return self.retrying(once)

    def _each(self, batch: Sequence[Change], fn: Callable[[Change], Any], ok_codes: tuple[str, ...] = ()) -> list[RowResult]:
        out = []
        for c in batch:
            try:
                self.call(lambda c=c: fn(c), ok_codes=ok_codes)
                out.append(RowResult(c.email, "ok", http_status=200))
            except (RequestRejected, RetryableError) as exc:
                out.append(RowResult(c.email, "failed", scrub(exc), exc.status))
        return out

    def add(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._each(batch, lambda c: self.client.put_suppressed_destination(EmailAddress=c.email,
                                                                                  Reason=ses_reason(c.reason)))

    def remove(self, batch: Sequence[Change]) -> list[RowResult]:
        return self._each(batch, lambda c: self.client.delete_suppressed_destination(EmailAddress=c.email),
                          ok_codes=("NotFoundException",))

    def list_suppressed(self) -> set[str]:
        found: set[str] = set()
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"PageSize": 1000} | ({"NextToken": token} if token else {})
            page = self.call(lambda kw=kw: self.client.list_suppressed_destinations(**kw)) or {}
            found |= {str(s["EmailAddress"]).strip().lower() for s in page.get("SuppressedDestinationSummaries", [])}
            token = page.get("NextToken")
            if not token:
                return found

    def close(self) -> None:
        self.client.close()
