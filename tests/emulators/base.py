"""A small threaded HTTP server on 127.0.0.1 (port 0) that each platform emulator builds on.

Common behaviour: every request is recorded; auth is checked first (platform-specific answer);
scripted responses (`fail`) can be queued for matching requests (429 storms with the platform's own
headers, 500s on the N-th batch, timeouts by sleeping); `add_counts` counts how often each address was
*written* so tests can prove nothing was sent twice.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[0] if v else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Scripted:
    response: Response
    method: str | None
    path_contains: str | None
    times: int
    after: int
    delay: float = 0.0
    seen: int = 0


class Emulator(ABC):
    """Subclasses implement `check_auth` and `route`."""

    name = "emulator"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.scripts: list[Scripted] = []
        self.add_counts: Counter[str] = Counter()
        self.remove_counts: Counter[str] = Counter()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one response = one segment; else delayed ACKs add 40 ms a call

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                resp = emulator.dispatch(req)
                if isinstance(resp.body, bytes):
                    payload = resp.body
                elif isinstance(resp.body, str):
                    payload = resp.body.encode()
                elif resp.body is None:
                    payload = b""
                else:
                    payload = json.dumps(resp.body).encode()
                try:
                    self.send_response(resp.status)
                    if payload:
                        self.send_header("Content-Type", resp.content_type)
                    for k, v in resp.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # ---- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Emulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- scripting ---------------------------------------------------------------------------
    def fail(self, status: int = 500, *, body: Any = None, headers: dict[str, str] | None = None,
             method: str | None = None, path_contains: str | None = None, times: int = 1, after: int = 0,
             delay: float = 0.0) -> None:
        """The next `times` matching requests (after skipping `after` of them) get this response."""
        with self.lock:
            self.scripts.append(Scripted(Response(status, body if body is not None else {"error": "scripted"},
                                                  headers or {}), method, path_contains, times, after, delay))

    def rate_limited(self, retry_after: int = 2) -> Response:
        """The platform's own 429 (subclasses return the real body and headers)."""
        return Response(429, {"message": "too many requests"}, {"Retry-After": str(retry_after)})

    def storm(self, times: int, *, retry_after: int = 2, method: str | None = None, path_contains: str | None = None,
              after: int = 0) -> None:
        r = self.rate_limited(retry_after)
        self.fail(r.status, body=r.body, headers=r.headers, method=method, path_contains=path_contains, times=times,
                  after=after)

    # ---- dispatch ----------------------------------------------------------------------------
    def check_auth(self, req: Request) -> Response | None:
        return None

    @abstractmethod
    def route(self, req: Request) -> Response:
        """The platform's endpoints: every emulator answers its own paths."""

    def calls(self, method: str | None = None, path_contains: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method)
                    and (path_contains is None or path_contains in r.path)]

    def dispatch(self, req: Request) -> Response:
        with self.lock:
            self.requests.append(req)
            denied = self.check_auth(req)
            if denied is not None:
                return denied
            scripted = None
            for s in self.scripts:
                if s.times <= 0:
                    continue
                if s.method and s.method != req.method:
                    continue
                if s.path_contains and s.path_contains not in req.path:
                    continue
                if s.seen < s.after:
                    s.seen += 1
                    continue
                s.times -= 1
                scripted = s
                break
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            return scripted.response
        with self.lock:
            return self.route(req)
