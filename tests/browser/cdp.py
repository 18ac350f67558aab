"""Load a page in headless Debian chromium over the DevTools protocol; collect console errors; screenshot.

Errors collected: uncaught exceptions (Runtime.exceptionThrown), console.error / console.assert
(Runtime.consoleAPICalled) and browser log entries of level error (Log.entryAdded: failed loads,
blocked requests, CSP violations). The browser runs with networking features off and `--user-data-dir`
in a temporary folder, so nothing is read from or written to the user's profile.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
    "--window-size=1280,2000",
]


@dataclass
class PageResult:
    url: str
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    title: str = ""
    screenshot: Path | None = None
    seconds: float = 0.0


def available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(os.path.basename(CHROMIUM)) is not None


class _Session:
    """One reader task owns the socket (a recv() cancelled mid-frame loses the stream): responses resolve
    futures by id, events are appended to `events`."""

    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []
        self.pending: dict[int, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                data = json.loads(raw)
                fut = self.pending.pop(data.get("id"), None) if "id" in data else None
                if fut is not None and not fut.done():
                    fut.set_result(data)
                elif "method" in data:
                    self.events.append(data)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting call
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(exc)

    async def call(self, method: str, params: dict | None = None, session_id: str | None = None,
                   timeout: float = 30.0) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session_id:
            msg["sessionId"] = session_id
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        try:
            data = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise TimeoutError(f"chromium did not answer {method} within {timeout:.0f} s") from None
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data.get("result", {})

    async def wait_event(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return True
            await asyncio.sleep(0.05)
        return False

    async def close(self) -> None:
        self.reader.cancel()


def _describe(event: dict) -> str | None:
    method, p = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        d = p.get("exceptionDetails", {})
        return f"uncaught: {(d.get('exception') or {}).get('description') or d.get('text')}"
    if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        return f"console.{p['type']}: {args}"
    if method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
        e = p["entry"]
        return f"log {e.get('source')}: {e.get('text')} {e.get('url', '')}".strip()
    return None


async def _load(ws_url: str, url: str, screenshot: Path | None, settle: float) -> PageResult:
    import websockets

    started = time.monotonic()
    result = PageResult(url)
    async with websockets.connect(ws_url, max_size=None) as ws:
        s = _Session(ws)
        # a fresh tab per page, so no console message of an earlier page is replayed by Runtime/Log.enable
        target_id = (await s.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        sid = (await s.call("Target.attachToTarget", {"targetId": target_id, "flatten": True}))["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            await s.call(f"{domain}.enable", session_id=sid)
        nav = await s.call("Page.navigate", {"url": url}, session_id=sid)
        if nav.get("errorText"):
            result.errors.append(f"navigation: {nav['errorText']}")
        if not await s.wait_event("Page.loadEventFired", 60):
            result.errors.append("load: the page did not finish loading within 60 s")
        await asyncio.sleep(settle)  # scripts that run after load (dbt docs renders with angular after load)
        title = await s.call("Runtime.evaluate", {"expression": "document.title", "returnByValue": True}, session_id=sid)
        result.title = title.get("result", {}).get("value", "")
        if screenshot is not None:
            shot = await s.call("Page.captureScreenshot", {"format": "png"}, session_id=sid)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result.screenshot = screenshot
        for e in s.events:
            if e.get("method") == "Runtime.consoleAPICalled":
                result.console.append(" ".join(str(a.get("value", "")) for a in e["params"].get("args", [])))
            text = _describe(e)
            if text:
                result.errors.append(text)
        await s.call("Target.closeTarget", {"targetId": target_id})
        await s.close()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def load_pages(urls: list[str], screenshots: list[Path | None] | None = None, settle: float = 1.0) -> list[PageResult]:
    """One chromium for all pages; each in its own tab."""
    screenshots = screenshots or [None] * len(urls)
    profile = Path(tempfile.mkdtemp(prefix="lh-chromium-"))
    # stderr to a file, never a pipe: --enable-logging=stderr writes every console line there, and a full
    # pipe nobody reads blocks the browser (the dbt docs page hung exactly so)
    log_path = profile.with_name(profile.name + ".log")
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=log_file,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None or time.monotonic() > deadline:
                err = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"chromium did not start (exit {proc.poll()}): {err}")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        ws_url = f"ws://127.0.0.1:{port}{path}"
        return [asyncio.run(_load(ws_url, u, shot, settle)) for u, shot in zip(urls, screenshots, strict=True)]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
        log_path.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
