"""Helpers for the reliability suite: a raw HTTP/1.1 client with hard deadlines, SSE parsing,
checks of the Anthropic error envelope and of stream outcomes, and /proc readers (RSS, TCP).

Stdlib only, so `fuzz.py` can use it when run as a plain script.
"""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field

ERROR_TYPES = {
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "rate_limit_error", "timeout_error", "overloaded_error", "api_error", "billing_error",
    "request_too_large",
}


# --------------------------------------------------------------------------- raw HTTP client

@dataclass
class RawResponse:
    """What came back on one connection. `status` is None when no status line arrived."""
    status: int | None = None
    reason: str = ""
    headers: dict = field(default_factory=dict)      # lower-cased name -> last value
    header_list: list = field(default_factory=list)  # (name, value) in order
    body: bytes = b""
    elapsed: float = 0.0
    first_byte: float | None = None     # seconds until the first response byte
    complete: bool = False              # body framing finished (Content-Length met / last chunk)
    closed: bool = False                # the peer closed (FIN) or reset the connection
    reset: bool = False                 # ... with an RST
    timed_out: bool = False             # our deadline expired first
    raw_head: bytes = b""
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body)

    def short(self, n: int = 300) -> str:
        return (f"status={self.status} ct={self.content_type!r} complete={self.complete} closed={self.closed} "
                f"reset={self.reset} timed_out={self.timed_out} elapsed={self.elapsed:.2f}s err={self.error} "
                f"body={self.body[:n]!r}")


def connect(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def build_request(method: str, path: str, body: bytes | None = None, headers: dict | list | None = None,
                  host: str = "127.0.0.1", content_length: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode()]
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() if isinstance(k, str) else k.decode().lower() for k, _ in items}
    if "host" not in names and host is not None:
        items.insert(0, ("Host", host))
    if body is not None and content_length and "content-length" not in names and "transfer-encoding" not in names:
        items.append(("Content-Length", str(len(body))))
    for k, v in items:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        lines.append(k + b": " + v)
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float, resp: RawResponse, start: float,
                 on_bytes=None):
        self.sock, self.deadline, self.resp, self.start = sock, deadline, resp, start
        self.buf = b""
        self.eof = False
        self.on_bytes = on_bytes

    def _fill(self) -> bool:
        if self.eof:
            return False
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(min(left, 5.0))
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            if time.monotonic() >= self.deadline:
                raise TimeoutError
            return True
        except ConnectionResetError:
            self.resp.reset = True
            self.resp.closed = True
            self.eof = True
            return False
        if not data:
            self.resp.closed = True
            self.eof = True
            return False
        if self.resp.first_byte is None:
            self.resp.first_byte = time.monotonic() - self.start
        if self.on_bytes:
            self.on_bytes(data)
        self.buf += data
        return True

    def read_until(self, marker: bytes, limit: int = 1 << 20) -> bytes | None:
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("line too long")
            if not self._fill():
                return None
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_all(self) -> bytes:
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out


def read_response(sock: socket.socket, timeout: float, method: str = "POST", start: float | None = None,
                  on_bytes=None) -> RawResponse:
    """Read one HTTP/1.1 response from `sock` within `timeout` seconds. Never raises for I/O faults."""
    start = time.monotonic() if start is None else start
    resp = RawResponse()
    r = _Reader(sock, start + timeout, resp, start, on_bytes)
    try:
        while True:
            head = r.read_until(b"\r\n\r\n", limit=1 << 20)
            if head is None:
                resp.raw_head = r.buf
                break
            resp.raw_head = head
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            resp.status = int(parts[1])
            resp.reason = parts[2] if len(parts) > 2 else ""
            resp.headers, resp.header_list = {}, []
            for line in lines[1:]:
                if not line:
                    continue
                k, _, v = line.partition(":")
                resp.headers[k.strip().lower()] = v.strip()
                resp.header_list.append((k.strip(), v.strip()))
            if resp.status == 100 or (100 <= resp.status < 200 and resp.status != 101):
                continue  # interim response
            break
        if resp.status is not None:
            te = resp.headers.get("transfer-encoding", "").lower()
            if method == "HEAD" or resp.status in (204, 304):
                resp.complete = True
            elif "chunked" in te:
                body = bytearray()
                while True:
                    line = r.read_until(b"\r\n", limit=4096)
                    if line is None:
                        break
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        r.read_until(b"\r\n")
                        resp.complete = True
                        break
                    data = r.read_exact(size + 2)
                    if data is None:
                        body += r.buf
                        break
                    body += data[:-2]
                resp.body = bytes(body)
            elif "content-length" in resp.headers:
                n = int(resp.headers["content-length"])
                data = r.read_exact(n)
                if data is None:
                    resp.body = r.buf
                else:
                    resp.body = data
                    resp.complete = True
            else:
                resp.body = r.read_all()
                resp.complete = True
    except TimeoutError:
        resp.timed_out = True
    except (OSError, ValueError) as e:
        resp.error = f"{type(e).__name__}: {e}"
    resp.elapsed = time.monotonic() - start
    return resp


def request(port: int, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None,
            timeout: float = 30.0, host: str = "127.0.0.1") -> RawResponse:
    """One request on a fresh connection, `Connection: close` not set (the gateway may keep it)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    start = time.monotonic()
    try:
        sock = connect(port, host, timeout=min(timeout, 5.0))
    except OSError as e:
        return RawResponse(error=f"connect: {e}", elapsed=time.monotonic() - start)
    try:
        try:
            sock.sendall(build_request(method, path, body, hdrs))
        except OSError as e:
            resp = read_response(sock, min(timeout, 2.0), method, start)
            resp.error = resp.error or f"send: {e}"
            return resp
        return read_response(sock, timeout, method, start)
    finally:
        sock.close()


# --------------------------------------------------------------------------- payloads

def messages_body(text: str = "hello", stream: bool = False, model: str = "claude-sonnet-4-5", max_tokens: int = 64,
                  **extra) -> dict:
    body = {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def post_messages(port: int, text: str = "hello", stream: bool = False, timeout: float = 30.0,
                  headers: dict | None = None, **extra) -> RawResponse:
    return request(port, "POST", "/v1/messages", messages_body(text, stream, **extra), headers=headers,
                   timeout=timeout)


# --------------------------------------------------------------------------- checks

def parse_sse(body: bytes) -> list[tuple[str | None, object]]:
    """(event name, parsed data or raw text) for every SSE event in `body`."""
    events = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b":"):
                continue
            k, _, v = line.partition(b":")
            v = v[1:] if v.startswith(b" ") else v
            if k == b"event":
                name = v.decode("utf-8", "replace")
            elif k == b"data":
                data.append(v)
        if name is None and not data:
            continue
        text = b"\n".join(data)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text.decode("utf-8", "replace")
        events.append((name, parsed))
    return events


def envelope_problems(resp: RawResponse, statuses: tuple | None = None) -> list[str]:
    """Problems with an error response: status, content type, and the Anthropic envelope."""
    p = []
    if resp.status is None:
        return [f"no HTTP status ({resp.short()})"]
    if resp.status < 400:
        p.append(f"status {resp.status} is not an error status")
    if statuses and resp.status not in statuses:
        p.append(f"status {resp.status} not in {statuses}")
    if not resp.content_type.lower().startswith("application/json"):
        p.append(f"content-type {resp.content_type!r} is not application/json")
    try:
        body = json.loads(resp.body)
    except ValueError:
        return p + [f"body is not JSON: {resp.body[:200]!r}"]
    if not isinstance(body, dict) or body.get("type") != "error":
        return p + [f"body is not an error envelope: {resp.body[:200]!r}"]
    err = body.get("error")
    if not isinstance(err, dict) or not isinstance(err.get("type"), str) or not isinstance(err.get("message"), str):
        p.append(f"error object malformed: {err!r}")
    elif err["type"] not in ERROR_TYPES:
        p.append(f"unknown error type {err['type']!r}")
    if not isinstance(body.get("request_id"), str) or not body["request_id"]:
        p.append("request_id missing")
    return p


def error_type(resp: RawResponse) -> str | None:
    try:
        return json.loads(resp.body)["error"]["type"]
    except Exception:
        return None


def stream_text(events) -> str:
    return "".join(d["delta"].get("text", "") for n, d in events
                   if isinstance(d, dict) and d.get("type") == "content_block_delta" and isinstance(d.get("delta"), dict))


def message_text(msg: dict) -> str:
    return "".join(b.get("text", "") for b in msg.get("content", []) if isinstance(b, dict) and b.get("type") == "text")


@dataclass
class Outcome:
    kind: str            # success | http_error | error_event | bad
    text: str = ""
    detail: str = ""
    stop_reason: str | None = None


def classify(resp: RawResponse, stream: bool) -> Outcome:
    """Judge one /v1/messages answer against the reliability rules.

    success     = 200 with a complete message (non-stream: JSON message; stream: SSE ending in
                  message_delta + message_stop and no error event);
    http_error  = a real HTTP error status with the JSON Anthropic envelope;
    error_event = 200 SSE stream that carries `event: error` (well formed) and no message_stop after it;
    bad         = anything else (detail says why).
    """
    if resp.timed_out:
        return Outcome("bad", detail=f"no complete answer within the deadline: {resp.short()}")
    if resp.status is None:
        return Outcome("bad", detail=f"connection ended without a status line: {resp.short()}")
    if resp.status != 200:
        probs = envelope_problems(resp)
        if probs:
            return Outcome("bad", detail="; ".join(probs) + f" [{resp.short()}]")
        if resp.status < 400:
            return Outcome("bad", detail=f"unexpected status {resp.status}")
        return Outcome("http_error", detail=f"{resp.status} {error_type(resp)}")
    ct = resp.content_type.lower()
    if not stream:
        if not ct.startswith("application/json"):
            return Outcome("bad", detail=f"200 with content-type {ct!r}")
        if not resp.complete:
            return Outcome("bad", detail=f"200 JSON body incomplete: {resp.short()}")
        try:
            msg = json.loads(resp.body)
        except ValueError:
            return Outcome("bad", detail=f"200 body not JSON: {resp.body[:200]!r}")
        if not isinstance(msg, dict) or msg.get("type") != "message":
            return Outcome("bad", detail=f"200 body is not a message (an error inside a 200?): {resp.body[:300]!r}")
        if msg.get("stop_reason") is None:
            return Outcome("bad", detail="200 message without stop_reason")
        return Outcome("success", text=message_text(msg), stop_reason=msg.get("stop_reason"))
    if not ct.startswith("text/event-stream"):
        return Outcome("bad", detail=f"200 stream answer with content-type {ct!r}: {resp.short()}")
    events = parse_sse(resp.body)
    names = [n for n, _ in events]
    for n, d in events:
        if not isinstance(d, dict) or d.get("type") != n:
            return Outcome("bad", detail=f"malformed SSE event {n!r}: {d!r}"[:400])
    if "error" in names:
        i = names.index("error")
        err = events[i][1].get("error")
        if not isinstance(err, dict) or err.get("type") not in ERROR_TYPES or not isinstance(err.get("message"), str):
            return Outcome("bad", detail=f"malformed error event: {events[i][1]!r}")
        after = [n for n in names[i + 1:] if n != "ping"]
        if after:
            return Outcome("bad", detail=f"events after the error event: {after}")
        if "message_stop" in names:
            return Outcome("bad", detail="message_stop AND error in one stream")
        return Outcome("error_event", text=stream_text(events), detail=f"error event {err.get('type')}: {err.get('message')}")
    if not names or names[0] != "message_start":
        return Outcome("bad", detail=f"stream does not start with message_start: {names[:5]}")
    if names[-1] != "message_stop":
        return Outcome("bad", detail=f"stream ended without message_stop or error (truncated success?): last events "
                                     f"{names[-4:]} complete={resp.complete} closed={resp.closed}")
    deltas = [d for n, d in events if n == "message_delta"]
    if len(deltas) != 1:
        return Outcome("bad", detail=f"{len(deltas)} message_delta events")
    stop = deltas[0].get("delta", {}).get("stop_reason")
    return Outcome("success", text=stream_text(events), stop_reason=stop)


# --------------------------------------------------------------------------- /proc

def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def tcp_connections(pid: int, remote_port: int | None = None, local_port: int | None = None,
                    states: tuple = ("01",)) -> list[dict]:
    """TCP sockets owned by `pid` (IPv4+IPv6), filtered by remote/local port and state (01 = ESTABLISHED)."""
    inodes = _socket_inodes(pid)
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    lport = int(cols[1].rsplit(":", 1)[1], 16)
                    rport = int(cols[2].rsplit(":", 1)[1], 16)
                    state, inode = cols[3], cols[9]
                    if inode not in inodes or (states and state not in states):
                        continue
                    if remote_port is not None and rport != remote_port:
                        continue
                    if local_port is not None and lport != local_port:
                        continue
                    rows.append({"local": lport, "remote": rport, "state": state, "inode": inode})
        except FileNotFoundError:
            pass
    return rows


def wait_for(pred, timeout: float, interval: float = 0.05):
    """Poll `pred` until it returns a truthy value or `timeout` passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
