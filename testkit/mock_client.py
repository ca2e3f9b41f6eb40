"""Stdlib-only helper that runs ``mock_upstream.py`` as a subprocess and wraps its control API.

    with MockUpstream() as mock:
        mock.script([{"match": {"stream": True}, "reply": {"type": "chat", "content": "hi"}}])
        ... point the gateway's provider base_url at mock.base_url + "/api/v1" ...
        assert mock.requests()[0]["body"]["model"] == "x"
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time

MOCK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock_upstream.py")


def raw_chunk(data: bytes) -> dict:
    """An ``sse`` event entry that is sent as exactly these bytes, in one HTTP chunk of its own
    (for splitting a UTF-8 character or a secret at a chosen byte)."""
    return {"b64": base64.b64encode(data).decode("ascii")}


class MockError(RuntimeError):
    """The mock could not be started or a control call failed."""


class MockUpstream:
    """A running mock upstream process. Started by the constructor, stopped by ``stop()``."""

    def __init__(self, port: int = 0, startup_timeout: float = 10.0, python: str = sys.executable):
        self.host = "127.0.0.1"
        self.proc = subprocess.Popen([python, MOCK_SCRIPT, "--port", str(port), "--host", self.host],
                                     stdout=subprocess.PIPE, text=True)
        self.port = self._read_port(startup_timeout)
        self.base_url = f"http://{self.host}:{self.port}"

    def _read_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("MOCK_PORT="):
                    return int(line.strip().split("=", 1)[1])
                if not line:
                    break
        self.proc.kill()
        raise MockError(f"mock upstream did not report its port (exit code {self.proc.poll()})")

    def url(self, path: str = "") -> str:
        """Absolute URL for ``path`` on the mock, e.g. ``url('/api/v1')``."""
        return self.base_url + path

    def _call(self, method: str, path: str, payload=None, timeout: float = 10.0):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            body = None if payload is None else json.dumps(payload)
            conn.request(method, path, body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b"null")
        finally:
            conn.close()
        if resp.status != 200:
            raise MockError(f"{method} {path} -> {resp.status}: {data}")
        return data

    def script(self, rules) -> dict:
        """Append rules (a list of rule dicts, or one rule dict). Raises MockError on a malformed rule."""
        return self._call("POST", "/_mock/script", {"rules": [rules] if isinstance(rules, dict) else list(rules)})

    def reset(self) -> None:
        """Forget all rules and the request log."""
        self._call("POST", "/_mock/reset", {})

    def requests(self) -> list[dict]:
        """Logged upstream requests in arrival order: method, path, headers, body, time, rule."""
        return self._call("GET", "/_mock/requests")["requests"]

    def rules(self) -> list[dict]:
        """Current rules with their remaining ``times`` (0 = used up)."""
        return self._call("GET", "/_mock/rules")["rules"]

    def health(self) -> bool:
        try:
            return self._call("GET", "/_mock/health", timeout=2.0).get("ok") is True
        except (OSError, MockError):
            return False

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process (SIGKILL after ``timeout``); returns its exit code. Idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> "MockUpstream":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
