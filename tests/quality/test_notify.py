"""The notifier: a webhook from connection list_hygiene_alerts, else a loud log line; it never raises."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from list_hygiene import notify

ALERT = {"platform": "ses", "campaign_id": "c1", "list_id": None, "metric": "complaint_rate", "value": 0.004,
         "threshold": 0.003, "level": "critical", "messages": 1000}


def test_webhook_url_forms() -> None:
    env = {notify.ENV_VAR: "https://hooks.example.com/services/T/B/X"}
    assert notify.webhook_url(env) == "https://hooks.example.com/services/T/B/X"
    env = {notify.ENV_VAR: json.dumps({"conn_type": "http", "host": "hooks.example.com", "schema": "lh", "port": 8443})}
    assert notify.webhook_url(env) == "https://hooks.example.com:8443/lh"
    env = {notify.ENV_VAR: json.dumps({"conn_type": "http", "extra": {"webhook_url": "http://127.0.0.1:9/x"}})}
    assert notify.webhook_url(env) == "http://127.0.0.1:9/x"
    assert notify.webhook_url({}) is None


def test_no_connection_logs_loudly(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(notify.ENV_VAR, raising=False)
    with caplog.at_level(logging.ERROR, logger="list_hygiene.notify"):
        assert notify.notify_alerts([ALERT], "run-1") is False
    assert "DELIVERABILITY_ALERT" in caplog.text and "complaint_rate 0.40% > 0.30%" in caplog.text


def test_posts_json_to_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(notify.ENV_VAR, f"http://127.0.0.1:{server.server_port}/hook")
        assert notify.notify_alerts([ALERT], "run-2") is True
        notify.task_failure_callback({"run_id": "run-3", "exception": RuntimeError("quality gate failed: x"),
                                      "task_instance": type("TI", (), {"dag_id": "d", "task_id": "gate"})()})
    finally:
        server.shutdown()
    assert received[0]["kind"] == "deliverability_alert" and received[0]["alerts"][0]["campaign_id"] == "c1"
    assert received[1]["kind"] == "task_failure" and "quality gate failed: x" in received[1]["text"]


def test_unreachable_webhook_never_raises(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(notify.ENV_VAR, "http://127.0.0.1:9/hook")  # discard port: connection refused
    with caplog.at_level(logging.ERROR, logger="list_hygiene.notify"):
        assert notify.send("task_failure", "boom") is False
    assert "webhook post failed" in caplog.text
