"""Platform credentials come from Airflow Connections, never from code or from the warehouse.

`AIRFLOW_CONN_<PLATFORM>_DEFAULT` works everywhere (tests, the command line, Airflow itself) in
either of Airflow's two forms:

- URI: ``sendgrid://:SG.key@api.sendgrid.com`` — a host that carries its own scheme is URL-encoded
  (``http://:key@http%3A%2F%2F127.0.0.1%3A8080``); query parameters become ``extra``
  (``__extra__=<json>`` carries the whole extra as JSON).
- JSON: ``{"conn_type": "http", "host": "https://api.sendgrid.com", "password": "SG.key",
  "extra": {"batch_size": 500}}``.

When no such variable is set and the code runs inside an Airflow task, the connection
``<platform>_default`` is looked up through ``airflow.sdk`` (secrets backends, metadata DB). Outside
Airflow nothing is imported from Airflow, so the CLI starts fast.

A `Connection`'s ``repr`` never shows the password; nothing here logs a secret.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)


class ConnectionConfigError(ValueError):
    """The connection variable exists but cannot be parsed (the message never includes its value)."""


@dataclass(frozen=True)
class Connection:
    conn_id: str
    conn_type: str = ""
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    port: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # the password and any extra value that looks secret stay out of logs
        keys = sorted(self.extra)
        return (f"Connection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r}, "
                f"login={'***' if self.login else None}, password={'***' if self.password else None}, "
                f"schema={self.schema!r}, port={self.port!r}, extra_keys={keys})")

    __str__ = __repr__

    def base_url(self, default: str) -> str:
        """Host with its scheme (``http://127.0.0.1:8123`` in tests) or the platform's public base URL."""
        if self.extra.get("base_url"):
            return str(self.extra["base_url"]).rstrip("/")
        if not self.host:
            return default.rstrip("/")
        host = self.host.rstrip("/")
        if "://" not in host:
            host = f"{self.extra.get('scheme', 'https')}://{host}"
        if self.port and urlsplit(host).port is None:
            parts = urlsplit(host)
            host = f"{parts.scheme}://{parts.hostname}:{self.port}{parts.path}"
        return host

    def setting(self, name: str, default: Any = None, cast: type | None = None) -> Any:
        value = self.extra.get(name, default)
        if value is None or cast is None:
            return value
        if cast is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return cast(value)


def env_var_name(platform: str) -> str:
    return f"AIRFLOW_CONN_{platform.upper()}_DEFAULT"


def parse_connection(conn_id: str, value: str) -> Connection:
    """Airflow's URI or JSON form → `Connection`."""
    value = value.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConnectionConfigError(f"{conn_id}: connection JSON is invalid at position {exc.pos}") from None
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        port = data.get("port")
        return Connection(
            conn_id=conn_id, conn_type=str(data.get("conn_type") or ""), host=data.get("host"),
            login=data.get("login"), password=data.get("password"), schema=data.get("schema"),
            port=int(port) if port not in (None, "") else None, extra=dict(extra),
        )
    parts = urlsplit(value)
    if not parts.scheme:
        raise ConnectionConfigError(f"{conn_id}: connection URI has no scheme (expected e.g. sendgrid://:KEY@host)")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "__extra__" in query:
        extra: dict[str, Any] = json.loads(query.pop("__extra__") or "{}")
    else:
        extra = {k: v for k, v in query.items()}
    try:
        port = parts.port
    except ValueError:
        port = None
    host = unquote(parts.hostname or "") if parts.hostname else None
    # Airflow lower-cases nothing but urlsplit does; an encoded host (http%3A%2F%2F...) survives in netloc
    netloc_host = parts.netloc.rsplit("@", 1)[-1]
    if "%3a" in netloc_host.lower():
        host = unquote(netloc_host)
        port = None
    schema = unquote(parts.path.lstrip("/")) or None
    return Connection(
        conn_id=conn_id, conn_type=parts.scheme.replace("-", "_"), host=host,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=schema, port=port, extra=extra,
    )


def _from_airflow(conn_id: str) -> Connection | None:
    """Inside a running Airflow task only: ask Airflow (secrets backends included)."""
    if not os.environ.get("AIRFLOW_CTX_DAG_ID"):
        return None
    try:
        from airflow.sdk import BaseHook  # type: ignore[attr-defined]

        c = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - any failure means "not configured here"
        log.info("no Airflow connection %s (%s)", conn_id, type(exc).__name__)
        return None
    extra = c.extra_dejson if hasattr(c, "extra_dejson") else json.loads(c.extra or "{}")
    return Connection(conn_id=conn_id, conn_type=c.conn_type or "", host=c.host, login=c.login, password=c.password,
                      schema=c.schema, port=c.port, extra=dict(extra or {}))


def get_connection(platform: str, env: Mapping[str, str] | None = None) -> Connection | None:
    """The platform's `<platform>_default` connection, or None when it is not configured."""
    env = os.environ if env is None else env
    conn_id = f"{platform}_default"
    raw = env.get(env_var_name(platform))
    if raw:
        return parse_connection(conn_id, raw)
    return _from_airflow(conn_id) if env is os.environ else None
