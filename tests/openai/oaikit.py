"""Helpers for the OpenAI front-door suite (tests/openai): configs with both kinds of target, the
official `openai` SDK pointed at a gateway, raw HTTP, `data:`-only SSE parsing, the OpenAI error
envelope, hand-written Anthropic SSE transcripts for the mock, the access log and the ledger.

Named `oaikit` (not `helpers`) so it never shadows tests/e2e/helpers.py: pytest puts each test
folder on sys.path and the first module of a name wins. No conftest.py in this folder for the same
reason (a second `conftest` module would replace tests/conftest.py for the folders collected later).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import pathlib
import socket
import sqlite3
import time
import urllib.parse

import openai

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY, base_config, register_secret  # noqa: F401 (re-exported)

CHAT_PATH = "/v1/chat/completions"
PREFIX_PATH = "/openai/v1/chat/completions"

GPT_MODEL = "gpt-e2e-4o"              # the client's model for kind: openai routes
CLAUDE_MODEL = "claude-e2e-sonnet"    # the client's model for kind: anthropic routes
OAI_TARGET = "upstream/gpt-target"    # the target model of the `gpt` route (provider `oai`)
ANT_TARGET = "claude-upstream-1"      # the target model of the `claude` route (provider `mock-anthropic`)

# Users of the token-mode configs (registered, so the session's secret scan looks for them).
ALICE = register_secret("sk-sw-oai-alice-" + "7d3e91c04b2a")
BOB = register_secret("sk-sw-oai-bob-" + "15f0a8e6c3d9")

# The error types the front door may write (docs/openai-front-door.md, "Errors the gateway writes").
OPENAI_ERROR_TYPES = {"invalid_request_error", "authentication_error", "insufficient_quota", "permission_error",
                      "not_found_error", "rate_limit_error", "timeout_error", "server_error"}

PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

_TIMEOUTS = {"connect": "2s", "first_byte": "10s", "idle": "5s"}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- config

def route(name: str, models: list[str], targets: list[dict], **extra) -> dict:
    r = {"name": name, "match": {"models": models}, "targets": targets}
    r.update(extra)
    return r


def target(model: str, provider: str = "oai", **extra) -> dict:
    t = {"provider": provider, "model": model}
    t.update(extra)
    return t


def default_routes() -> list[dict]:
    return [route("gpt", ["gpt-*"], [target(OAI_TARGET)]),
            route("claude", ["claude-*"], [target(ANT_TARGET, provider="mock-anthropic")])]


def chat_config(mock, routes: list[dict] | None = None, tokens: bool = False, **overrides) -> dict:
    """base_config plus provider `oai` (kind openai, dialect openai, at the mock's /v1), and the routes
    `gpt` (gpt-* → oai) and `claude` (claude-* → mock-anthropic). No catch-all route.
    tokens=True: auth.mode tokens with alice (all routes) and bob (route `gpt` only)."""
    cfg = base_config(mock)
    cfg["providers"]["oai"] = {"kind": "openai", "dialect": "openai", "base_url": mock.url("/v1"),
                               "api_key": UPSTREAM_KEY, "timeouts": dict(_TIMEOUTS)}
    cfg["routes"] = routes if routes is not None else default_routes()
    if tokens:
        cfg["auth"] = {"mode": "tokens"}
        cfg["users"] = [{"name": "alice", "token_sha256": sha256_hex(ALICE)},
                        {"name": "bob", "token_sha256": sha256_hex(BOB), "routes": ["gpt"]}]
    cfg.update(overrides)
    return cfg


# --------------------------------------------------------------------------- clients

def client(gw, api_key: str = "sk-client-open-mode", prefix: str = "/v1", **kw) -> openai.OpenAI:
    """The official SDK pointed at a gateway, without retries."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30)
    return openai.OpenAI(base_url=gw.base_url + prefix, api_key=api_key, **kw)


class Resp:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body
        self.incomplete = False     # the body was cut (IncompleteRead / connection reset)

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def __repr__(self):
        return f"<Resp {self.status} {self.headers} {self.body[:800]!r}>"


def request(gw, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 30) -> Resp:
    """One plain HTTP request; body may be a dict/list (sent as JSON), bytes or str. Never raises on status."""
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
        r = conn.getresponse()
        payload, incomplete = b"", False
        try:
            while True:
                piece = r.read(65536)
                if not piece:
                    break
                payload += piece
        except http.client.IncompleteRead as e:      # the body ended before its framing said it would
            payload += e.partial
            incomplete = True
        except ConnectionError:
            incomplete = True
        resp = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
        resp.incomplete = incomplete
        return resp
    finally:
        conn.close()


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def post_chat(gw, body, headers: dict | None = None, path: str = CHAT_PATH, token: str | None = None,
              timeout: float = 30) -> Resp:
    h = bearer(token) if token else {}
    h.update(headers or {})
    return request(gw, "POST", path, body, h, timeout=timeout)


def chat_body(model: str = GPT_MODEL, text: str = "Hi", **kw) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    body.update(kw)
    return body


# --------------------------------------------------------------------------- SSE (chat chunks)

def data_lines(body: bytes | str) -> list[str]:
    """The text of every `data:` field of an SSE body (one leading space removed), comments skipped."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = []
        for line in block.split("\n"):
            if line.startswith("data:"):
                v = line[5:]
                lines.append(v[1:] if v.startswith(" ") else v)
        if lines:
            out.append("\n".join(lines))
    return out


def data_events(body: bytes | str) -> list:
    """Every data event: the parsed JSON object, or the text (e.g. "[DONE]") when it is not JSON."""
    out = []
    for text in data_lines(body):
        try:
            out.append(json.loads(text))
        except ValueError:
            out.append(text)
    return out


def chunk_events(events: list) -> list[dict]:
    """The chunk objects (JSON objects without an `error` key)."""
    return [e for e in events if isinstance(e, dict) and "error" not in e]


def choice_deltas(events: list) -> list[tuple[dict, str | None]]:
    """(delta, finish_reason) of every chunk that has a choice."""
    return [(c["choices"][0].get("delta"), c["choices"][0].get("finish_reason"))
            for c in chunk_events(events) if c.get("choices")]


def stream_text(events: list) -> str:
    return "".join((d or {}).get("content") or "" for d, _ in choice_deltas(events))


def finish_reasons(events: list) -> list[str]:
    return [f for _, f in choice_deltas(events) if f is not None]


def assert_sse(resp: Resp) -> list:
    assert resp.status == 200, resp
    assert resp.content_type.startswith("text/event-stream"), resp
    return data_events(resp.body)


# --------------------------------------------------------------------------- errors

def openai_error(resp: Resp, status: int | None = None) -> dict:
    """The OpenAI error envelope of a response, asserting its shape:
    {"error": {"message": str, "type": str, "param": ..., "code": ...}}, content-type application/json."""
    if status is not None:
        assert resp.status == status, resp
    assert resp.status >= 400, resp
    assert resp.content_type.startswith("application/json"), resp
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert isinstance(err.get("message"), str) and err["message"], body
    assert isinstance(err.get("type"), str), body
    assert "param" in err and "code" in err, body
    assert err["type"] in OPENAI_ERROR_TYPES, body
    assert "type" not in body or body.get("type") != "error", f"Anthropic envelope on the chat endpoint: {body}"
    return err


def assert_error(resp: Resp, status: int, type_: str, code=None, *, check_code: bool = True) -> dict:
    err = openai_error(resp, status)
    assert err["type"] == type_, err
    if check_code:
        assert err["code"] == code, err
    return err


# --------------------------------------------------------------------------- upstream log

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


def only_call(mock, api: str | None = None) -> dict:
    calls = upstream_calls(mock, api)
    every = mock.requests()
    assert len(calls) == 1 and len(every) == 1, [(r["method"], r["path"]) for r in every]
    return calls[0]


def without(d: dict, *keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


# --------------------------------------------------------------------------- Anthropic SSE transcripts

def ant_event(obj: dict) -> str:
    """One Anthropic SSE event for an `sse` mock reply (the mock appends the blank line)."""
    return f"event: {obj['type']}\ndata: {json.dumps(obj, separators=(',', ':'))}"


def msg_start(msg_id: str, usage: dict, model: str = ANT_TARGET) -> str:
    return ant_event({"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}})


def block_start(index: int, block: dict) -> str:
    return ant_event({"type": "content_block_start", "index": index, "content_block": block})


def block_delta(index: int, delta: dict) -> str:
    return ant_event({"type": "content_block_delta", "index": index, "delta": delta})


def text_delta(index: int, text: str) -> str:
    return block_delta(index, {"type": "text_delta", "text": text})


def json_delta(index: int, partial: str) -> str:
    return block_delta(index, {"type": "input_json_delta", "partial_json": partial})


def block_stop(index: int) -> str:
    return ant_event({"type": "content_block_stop", "index": index})


def msg_delta(stop_reason: str, usage: dict) -> str:
    return ant_event({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                      "usage": usage})


def msg_stop() -> str:
    return ant_event({"type": "message_stop"})


def ping() -> str:
    return ant_event({"type": "ping"})


def error_event(err_type: str, message: str) -> str:
    return ant_event({"type": "error", "error": {"type": err_type, "message": message}})


def ant_message(msg_id: str, content: list, stop_reason: str = "end_turn", usage: dict | None = None,
                model: str = ANT_TARGET) -> dict:
    """A non-streamed Anthropic message body (for a `json` mock reply)."""
    return {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": usage or {"input_tokens": 10, "output_tokens": 5}}


# --------------------------------------------------------------------------- raw streaming socket

def open_chat_stream(gw, body: dict, headers: dict | None = None, timeout: float = 10,
                     path: str = CHAT_PATH) -> socket.socket:
    """Send a streamed POST /v1/chat/completions on a raw socket and return it (the caller reads/closes)."""
    u = urllib.parse.urlsplit(gw.base_url)
    payload = json.dumps(dict(body, stream=True)).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {u.hostname}:{u.port}", "content-type: application/json",
             f"content-length: {len(payload)}"]
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


# --------------------------------------------------------------------------- access log and ledger

def wait_log(gw, n: int = 1, endpoint: str = "chat_completions", tries: int = 60) -> list[dict]:
    """Access-log entries of one endpoint, polled until there are at least n (no timing assertion)."""
    entries: list[dict] = []
    for _ in range(tries):
        entries = [e for e in gw.access_log() if e.get("endpoint") == endpoint]
        if len(entries) >= n:
            return entries
        time.sleep(0.05)
    return entries


COLUMNS = ("request_id, ts_ms, instance, user_name, route, endpoint, model, target, attempts, stream, status, error_type, "
           "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated, cost_micro_usd, cost_source")


def db_rows(db: pathlib.Path) -> list[dict]:
    """The ledger's rows (oldest first), read while the gateway may be writing."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        try:
            cur = con.execute(f"SELECT {COLUMNS} FROM usage_records ORDER BY ts_ms, rowid")
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        return [dict(r) for r in cur.fetchall()]
    finally:
        con.close()


def wait_rows(db: pathlib.Path, count: int, timeout: float = 15) -> list[dict]:
    """Poll the ledger until it holds at least `count` rows; returns all rows (the caller asserts)."""
    deadline = time.time() + timeout
    while True:
        rows = db_rows(db)
        if len(rows) >= count or time.time() >= deadline:
            return rows
        time.sleep(0.1)


def ledger_state(workdir: pathlib.Path) -> dict:
    return {"url": f"sqlite:{workdir / 'ledger.sqlite'}", "flush_interval": "200ms"}
