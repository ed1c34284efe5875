"""Drive headless Chromium over the DevTools protocol, for map tests: console errors, DOM, screenshots.

A few dozen lines of CDP over `websocket-client` instead of Selenium: we need request interception
(the test machine has no internet, so CDN requests are answered from the vendored copies in
planner/static or refused) and console events, both plain CDP features.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("headless Chromium not found (looked for " + ", ".join(CHROMIUM_CANDIDATES)
                       + "); install it: apt-get install -y chromium")


class Browser:
    """One headless Chromium with one page.

    Parameters
    ----------
    serve
        url -> local file: requests for these URLs are answered from disk (a stand-in CDN).
        Every other http(s) request fails as if there were no network, and is recorded in
        `refused`.
    offline
        Also cut the network at the browser level (host resolver and a dead proxy).
    width, height
        Viewport in CSS pixels; the default is a common phone.
    """

    def __init__(self, serve: dict[str, Path] | None = None, offline: bool = False,
                 width: int = 412, height: int = 860, mobile: bool = True):
        import websocket

        self.serve = dict(serve or {})
        self.refused: list[str] = []
        self.served: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self._id = 0
        self._profile = tempfile.mkdtemp(prefix="planner-chromium-")
        args = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--remote-allow-origins=*",
                f"--user-data-dir={self._profile}", "--remote-debugging-port=0", "about:blank"]
        if offline:
            args[1:1] = ['--host-resolver-rules=MAP * ~NOTFOUND', "--proxy-server=127.0.0.1:9"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._devtools_port()
        deadline = time.time() + 20
        while True:
            pages = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5).read())
            pages = [p for p in pages if p.get("type") == "page"]
            if pages or time.time() > deadline:
                break
            time.sleep(0.2)
        if not pages:
            self.close()
            raise RuntimeError("Chromium started but opened no page")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "http*"}]})
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                          "deviceScaleFactor": 1, "mobile": mobile})

    def _devtools_port(self) -> int:
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if "DevTools listening on ws://" in line:
                return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
            if not line and self.proc.poll() is not None:
                break
        self.close()
        raise RuntimeError("Chromium did not open its DevTools port (is it runnable headless?)")

    # ---- protocol ------------------------------------------------------------------------
    def _send(self, method: str, params: dict | None = None) -> int:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params or {}}))
        return self._id

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            if url in self.serve:
                body = Path(self.serve[url]).read_bytes()
                kind = "text/css" if url.endswith(".css") else "application/javascript"
                self.served.append(url)
                self._send("Fetch.fulfillRequest", {
                    "requestId": params["requestId"], "responseCode": 200,
                    "responseHeaders": [{"name": "Content-Type", "value": kind},
                                        {"name": "Access-Control-Allow-Origin", "value": "*"}],
                    "body": base64.b64encode(body).decode()})
            else:
                self.refused.append(url)
                self._send("Fetch.failRequest", {"requestId": params["requestId"],
                                                 "errorReason": "InternetDisconnected"})
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                self.errors.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            if entry["level"] == "error":
                self.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())

    def _pump(self, until, timeout: float):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.time()))
            try:
                message = json.loads(self.ws.recv())
            except Exception as exc:  # websocket timeout: keep waiting until the deadline
                if "timed out" in str(exc).lower():
                    continue
                raise
            if "method" in message:
                self._event(message)
            result = until(message)
            if result is not None:
                return result
        return None

    def call(self, method: str, params: dict | None = None, timeout: float = 60):
        wanted = self._send(method, params)
        reply = self._pump(lambda m: m if m.get("id") == wanted else None, timeout)
        if reply is None:
            raise TimeoutError(f"no answer to {method} within {timeout} s")
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    # ---- page ----------------------------------------------------------------------------
    def open(self, url: str, settle: float = 1.5, timeout: float = 60) -> None:
        """Navigate and wait for the load event, then let scripts run for `settle` seconds."""
        self.call("Page.navigate", {"url": url})
        if self._pump(lambda m: True if m.get("method") == "Page.loadEventFired" else None, timeout) is None:
            raise TimeoutError(f"{url} did not finish loading within {timeout} s")
        self._pump(lambda m: None, settle)

    def js(self, expression: str):
        """Evaluate an expression in the page and return its JSON value."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, seconds: float) -> None:
        self._pump(lambda m: None, seconds)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
