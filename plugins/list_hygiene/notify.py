"""A small notifier for failures and deliverability alerts.

Posts JSON (``{"text": ..., "kind": ..., ...}``; Slack incoming webhooks and most chat/webhook relays
read ``text``) to the URL of the Airflow Connection ``list_hygiene_alerts`` (type http), when one is
configured:

- ``AIRFLOW_CONN_LIST_HYGIENE_ALERTS='https://hooks.slack.com/services/T000/B000/XXXX'`` (URI), or
- ``AIRFLOW_CONN_LIST_HYGIENE_ALERTS='{"conn_type": "http", "host": "https://hooks.example.com/lh"}'``
  (JSON; ``extra.webhook_url`` wins over host/schema), or
- a connection of that id in Airflow's metadata DB / secrets backend (looked up inside Airflow only).

Without one it logs loudly (ERROR) instead. It never raises: a broken notifier must not fail a task
nor block the suppression sync.

Use it as ``on_failure_callback=task_failure_callback`` on a DAG's default_args; the gate calls
``notify_alerts`` for deliverability alerts.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("list_hygiene.notify")

CONN_ID = "list_hygiene_alerts"
ENV_VAR = "AIRFLOW_CONN_LIST_HYGIENE_ALERTS"


def _url_from_parts(host: str | None, schema: str | None, port: Any, extra: dict[str, Any]) -> str | None:
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    if not host:
        return None
    url = host if "://" in host else f"{extra.get('scheme', 'https')}://{host}"
    if port and urlsplit(url).port is None:
        parts = urlsplit(url)
        url = f"{parts.scheme}://{parts.hostname}:{port}{parts.path}"
    if schema:
        url = url.rstrip("/") + "/" + str(schema).lstrip("/")
    return url


def webhook_url(env: dict[str, str] | None = None) -> str | None:
    """The webhook URL of connection list_hygiene_alerts, or None when none is configured."""
    env = os.environ if env is None else env
    raw = env.get(ENV_VAR, "").strip()
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            log.error("%s is not valid JSON; alerts are only logged", ENV_VAR)
            return None
        extra = data.get("extra") or {}
        extra = json.loads(extra) if isinstance(extra, str) else extra
        return _url_from_parts(data.get("host"), data.get("schema"), data.get("port"), extra)
    if raw:
        parts = urlsplit(raw)
        scheme = parts.scheme.replace("-", "_")
        if scheme in ("http", "https"):
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
            return f"{scheme}://{netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        log.error("%s has scheme %r; expected http(s)://... — alerts are only logged", ENV_VAR, parts.scheme)
        return None
    if env is not os.environ or "AIRFLOW_CTX_DAG_ID" not in os.environ:
        return None
    try:  # inside an Airflow task: metadata DB / secrets backend
        from airflow.sdk import BaseHook

        c = BaseHook.get_connection(CONN_ID)
    except Exception as exc:  # noqa: BLE001 - no connection is a normal set-up
        log.info("no Airflow connection %s (%s)", CONN_ID, type(exc).__name__)
        return None
    return _url_from_parts(c.host, c.schema, c.port, dict(c.extra_dejson or {}))


def send(kind: str, text: str, payload: dict[str, Any] | None = None, url: str | None = None) -> bool:
    """Post one notification; True when a webhook accepted it. Logs (ERROR) when there is no webhook."""
    url = url or webhook_url()
    body = {"text": text, "kind": kind, "source": "list-hygiene", **(payload or {})}
    if not url:
        log.error("LIST-HYGIENE %s (no connection %s configured, logged only): %s", kind.upper(), CONN_ID, text)
        return False
    try:
        import httpx

        resp = httpx.post(url, content=json.dumps(body, default=str), headers={"Content-Type": "application/json"},
                          timeout=10.0)
        resp.raise_for_status()
        return True
    except Exception as exc:  # noqa: BLE001 - a notifier must never fail the caller
        log.error("LIST-HYGIENE %s: webhook post failed (%s); the message was: %s", kind.upper(),
                  type(exc).__name__, text)
        return False


def alert_text(alerts: list[dict[str, Any]], run_id: str) -> str:
    lines = [
        f"{a['level'].upper()} {a['platform']} campaign {a['campaign_id']}"
        + (f" list {a['list_id']}" if a.get("list_id") else "")
        + f": {a['metric']} {a['value']:.2%} > {a['threshold']:.2%} over {a['messages']} messages"
        for a in alerts[:20]
    ]
    more = f"\n... and {len(alerts) - 20} more" if len(alerts) > 20 else ""
    return (f"list-hygiene run {run_id}: {len(alerts)} deliverability alert(s) — reported, the suppression sync "
            "is not blocked:\n" + "\n".join(lines) + more)


def notify_alerts(alerts: list[dict[str, Any]], run_id: str) -> bool:
    """Deliverability alerts (hard-bounce / complaint lines) to the webhook or the log."""
    if not alerts:
        return False
    return send("deliverability_alert", alert_text(alerts, run_id), {"run_id": run_id, "alerts": alerts})


def task_failure_callback(context: dict[str, Any]) -> None:
    """Airflow on_failure_callback: names DAG, task, run and the exception (e.g. the gate's message)."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = context.get("run_id") or getattr(ti, "run_id", "?")
    exc = context.get("exception")
    text = f"list-hygiene task failed: {dag_id}.{task_id} (run {run_id}): {type(exc).__name__ if exc else 'failed'}"
    if exc:
        text += f": {str(exc)[:1500]}"
    send("task_failure", text, {"dag_id": dag_id, "task_id": task_id, "run_id": run_id})
