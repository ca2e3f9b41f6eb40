"""Shared helpers for the end-to-end suites in tests/e2e (clients, raw HTTP, SSE parsing, configs)."""
import hashlib
import http.client
import json
import socket
import urllib.parse

import anthropic

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY, base_config  # noqa: F401  (re-exported)

MODEL = "claude-e2e-sonnet"


def client(gw, api_key: str = "x", **kw) -> anthropic.Anthropic:
    """The official SDK pointed at a gateway, without retries."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30)
    return anthropic.Anthropic(base_url=gw.base_url, api_key=api_key, **kw)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def last_body(mock) -> dict:
    reqs = mock.requests()
    assert reqs, "the upstream was never called"
    return reqs[-1]["body"]


def upstream_calls(mock, api: str | None = None) -> list[dict]:
    """Logged upstream requests, optionally only those to /chat/completions ('openai') or /v1/messages ('anthropic')."""
    out = []
    for r in mock.requests():
        path = r["path"].split("?")[0]
        if api == "openai" and not path.endswith("/chat/completions"):
            continue
        if api == "anthropic" and not path.endswith("/v1/messages"):
            continue
        out.append(r)
    return out


class RawResponse:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def events(self) -> list[dict]:
        return parse_sse(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.headers} {self.body[:500]!r}>"


def raw(gw, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 30) -> RawResponse:
    """One plain HTTP request; body may be a dict (sent as JSON), bytes or str. Never raises on status."""
    u = urllib.parse.urlsplit(gw.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = {"content-type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def parse_sse(data: bytes | str) -> list[dict]:
    """Parse an SSE body into [{'event': name, 'data': parsed JSON or text}] (comments skipped)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    events = []
    for block in data.replace("\r\n", "\n").split("\n\n"):
        name, lines = None, []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                lines.append(line[5:].lstrip(" "))
        if name is None and not lines:
            continue
        text = "\n".join(lines)
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        events.append({"event": name, "data": payload})
    return events


def messages_body(**kw) -> dict:
    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    body.update(kw)
    return body


def error_of(resp: RawResponse) -> dict:
    """The Anthropic error envelope of a raw response (asserting its shape)."""
    body = resp.json()
    assert body.get("type") == "error", body
    assert isinstance(body.get("error"), dict), body
    assert isinstance(body["error"].get("type"), str) and isinstance(body["error"].get("message"), str), body
    return body["error"]


def open_stream_socket(gw, body: dict, headers: dict | None = None, timeout: float = 10) -> socket.socket:
    """Send a streamed POST /v1/messages on a raw socket and return it (the caller reads/closes)."""
    u = urllib.parse.urlsplit(gw.base_url)
    payload = json.dumps(dict(body, stream=True)).encode()
    lines = [f"POST /v1/messages HTTP/1.1", f"Host: {u.hostname}:{u.port}", "content-type: application/json",
             f"content-length: {len(payload)}", "anthropic-version: 2023-06-01"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    return s


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> bytes:
    buf = b""
    while marker not in buf and len(buf) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def route(name: str, models: list[str], targets: list[dict], **extra) -> dict:
    r = {"name": name, "match": {"models": models}, "targets": targets}
    r.update(extra)
    return r


def target(model: str, provider: str = "mock", **extra) -> dict:
    t = {"provider": provider, "model": model}
    t.update(extra)
    return t
