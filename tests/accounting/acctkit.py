"""Helpers for the accounting suite (accounting.md): configs with prices, budgets and a ledger,
a plain HTTP client, the ledger read back with sqlite3, the price arithmetic in integers, and
/metrics parsing.

Named `acctkit` (not `helpers`) so it never shadows tests/e2e/helpers.py: pytest puts each test
folder on sys.path and the first module of a name wins.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import pathlib
import re
import socket
import sqlite3
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from conftest import base_config, register_secret  # tests/conftest.py
from tests.e2e.helpers import read_until  # noqa: F401  (re-exported for the suite's tests)

MODEL = "claude-acct-sonnet"
DB_NAME = "ledger.sqlite"

# Tokens of the suite's users (registered, so the session's secret scan looks for them in all output).
ALICE = register_secret("sk-sw-acct-alice-" + "5c1e9a7b3d20")
BOB = register_secret("sk-sw-acct-bob-" + "88f0d2c4a6e1")
ROOT_ADMIN = register_secret("sk-sw-acct-admin-" + "0b7d3e9f1a42")

USD_M = 1_000_000   # USD per million tokens → pico-dollars per token, and USD → micro-dollars


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- prices, in integers

def pico(usd_per_million: str) -> int:
    """Pico-dollars per token from a decimal USD-per-million text ('3', '0.3', '3.75'), exactly."""
    whole, _, frac = usd_per_million.partition(".")
    frac = (frac + "000000")[:6]
    return int(whole or "0") * USD_M + int(frac)


class Price:
    """A price table entry as the config writes it (USD per million tokens, decimal text), with the
    contract's defaults: cache_read = input, cache_write = 1.25 × input."""

    def __init__(self, input: str, output: str, cache_read: str | None = None, cache_write: str | None = None):
        self.text = {"input": input, "output": output}
        if cache_read is not None:
            self.text["cache_read"] = cache_read
        if cache_write is not None:
            self.text["cache_write"] = cache_write
        self.input = pico(input)
        self.output = pico(output)
        self.cache_read = pico(cache_read) if cache_read is not None else self.input
        self.cache_write = pico(cache_write) if cache_write is not None else self.input * 5 // 4

    def config(self) -> dict:
        # numbers, as a YAML/JSON author writes them
        return {k: (float(v) if "." in v else int(v)) for k, v in self.text.items()}

    def cost_micro(self, inp: int, out: int, cache_read: int = 0, cache_write: int = 0) -> int:
        p = inp * self.input + out * self.output + cache_read * self.cache_read + cache_write * self.cache_write
        return (p + 500_000) // 1_000_000


def openai_usage(prompt: int, completion: int, cached: int = 0, cache_write: int = 0, cost: float | None = None) -> dict:
    """An OpenAI/OpenRouter usage object as the mock sends it."""
    u = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if cached or cache_write:
        u["prompt_tokens_details"] = {"cached_tokens": cached, "cache_write_tokens": cache_write}
    if cost is not None:
        u["cost"] = cost
    return u


def anthropic_tokens(u: dict) -> tuple[int, int, int, int]:
    """(input, output, cache_read, cache_write) that the gateway must record for an OpenAI usage
    object (translation-spec §3.6): input = prompt − cached − cache_write."""
    d = u.get("prompt_tokens_details") or {}
    cached, written = d.get("cached_tokens", 0), d.get("cache_write_tokens", 0)
    return u["prompt_tokens"] - cached - written, u["completion_tokens"], cached, written


# --------------------------------------------------------------------------- config

def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def users_block(alice_limits=None, bob_limits=None, admin_limits=None) -> list[dict]:
    users = [{"name": "alice", "token_sha256": sha256_hex(ALICE)},
             {"name": "bob", "token_sha256": sha256_hex(BOB)},
             {"name": "root", "token_sha256": sha256_hex(ROOT_ADMIN), "admin": True}]
    for u, lim in zip(users, (alice_limits, bob_limits, admin_limits)):
        if lim:
            u["limits"] = lim
    return users


def acct_config(mock, workdir: pathlib.Path, *, prices: dict[str, Price] | None = None, cost: str = "prices",
                routes: list | None = None, users: list | None = None, state: dict | None = None, server: dict | None = None,
                limits: dict | None = None, extra_providers: dict | None = None) -> dict:
    """base_config with a ledger in the test's temp dir (state.url sqlite:<abs path>, flush 200ms),
    the `mock` provider priced by `prices` with `cost`, token auth when `users` is given."""
    cfg = base_config(mock)
    prov = cfg["providers"]["mock"]
    prov["cost"] = cost
    if prices:
        prov["prices"] = {glob: p.config() for glob, p in prices.items()}
    if extra_providers:
        cfg["providers"].update(extra_providers)
    if routes is not None:
        cfg["routes"] = routes
    if users is not None:
        cfg["auth"] = {"mode": "tokens"}
        cfg["users"] = users
    cfg["state"] = state if state is not None else {"url": f"sqlite:{workdir / DB_NAME}", "flush_interval": "200ms"}
    if server:
        cfg["server"] = server
    if limits:
        cfg["limits"] = limits
    return cfg


def route(name: str, models: list[str], targets: list[dict], **extra) -> dict:
    r = {"name": name, "match": {"models": models}, "targets": targets}
    r.update(extra)
    return r


def target(model: str, provider: str = "mock", **extra) -> dict:
    t = {"provider": provider, "model": model}
    t.update(extra)
    return t


# --------------------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"<Resp {self.status} {self.headers} {self.body[:600]!r}>"


def request(base_url: str, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 30) -> Resp:
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = {"content-type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def auth(token: str | None) -> dict:
    return {"x-api-key": token} if token else {}


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def basic(token: str, user: str = "admin") -> dict:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def messages_body(text: str = "Hi", **kw) -> dict:
    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    body.update(kw)
    return body


def post(gw, body: dict, token: str | None = None, headers: dict | None = None, timeout: float = 30) -> Resp:
    h = auth(token)
    h.update(headers or {})
    return request(gw.base_url, "POST", "/v1/messages", body, h, timeout=timeout)


def get(gw_or_url, path: str, token: str | None = None, headers: dict | None = None) -> Resp:
    base = gw_or_url if isinstance(gw_or_url, str) else gw_or_url.base_url
    h = auth(token)
    h.update(headers or {})
    return request(base, "GET", path, None, h)


def fire(gw, jobs: list[tuple[str | None, dict]], timeout: float = 60) -> list[Resp]:
    """Send (token, body) pairs all at once from threads (released by a barrier); responses in order.
    `gw` is one gateway for every job, or a list with one gateway per job."""
    gateways = gw if isinstance(gw, list) else [gw] * len(jobs)
    assert len(gateways) == len(jobs)
    barrier = threading.Barrier(len(jobs))

    def one(target_and_job):
        target, (token, body) = target_and_job
        barrier.wait()
        return post(target, body, token, timeout=timeout)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(one, zip(gateways, jobs)))


def parse_sse(data: bytes) -> list[dict]:
    events = []
    for block in data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n\n"):
        name, lines = None, []
        for line in block.split("\n"):
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


def open_stream(gw, body: dict, token: str | None = None, timeout: float = 10) -> socket.socket:
    """A streamed POST /v1/messages on a raw socket (the caller reads and closes it)."""
    u = urllib.parse.urlsplit(gw.base_url)
    payload = json.dumps(dict(body, stream=True)).encode()
    lines = ["POST /v1/messages HTTP/1.1", f"Host: {u.hostname}:{u.port}", "content-type: application/json",
             f"content-length: {len(payload)}", "anthropic-version: 2023-06-01"]
    if token:
        lines.append(f"x-api-key: {token}")
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    return s




def error_of(resp: Resp) -> dict:
    body = resp.json()
    assert body.get("type") == "error" and isinstance(body.get("error"), dict), resp
    return body["error"]


# --------------------------------------------------------------------------- the ledger

COLUMNS = ("request_id, ts_ms, instance, user_name, route, endpoint, model, target, attempts, stream, status, error_type, "
           "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated, cost_micro_usd, cost_source, "
           "latency_ms, ttfb_ms")


def db_rows(db: pathlib.Path, where: str = "", args: tuple = ()) -> list[dict]:
    """The ledger's rows (oldest first), read with Python's sqlite3 while the gateway may be writing."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        try:
            cur = con.execute(f"SELECT {COLUMNS} FROM usage_records {where} ORDER BY ts_ms, rowid", args)
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        return [dict(r) for r in cur.fetchall()]
    finally:
        con.close()


def wait_rows(db: pathlib.Path, count: int, timeout: float = 15, status: int | None = None) -> list[dict]:
    """Poll the ledger until it holds at least `count` rows (of that status, when given), written
    every flush_interval; returns all rows. No timing assertion: the caller asserts on the rows."""
    deadline = time.time() + timeout
    while True:
        rows = db_rows(db)
        n = len(rows) if status is None else sum(1 for r in rows if r["status"] == status)
        if n >= count or time.time() >= deadline:
            return rows
        time.sleep(0.1)


# --------------------------------------------------------------------------- /metrics

_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metrics(url: str) -> list[tuple[str, dict, float]]:
    """Samples of a Prometheus text page: (name, labels, value)."""
    r = request(url, "GET", "/metrics")
    assert r.status == 200, r
    out = []
    for line in r.text.splitlines():
        m = _METRIC.match(line)
        if m and not line.startswith("#"):
            labels = dict(_LABEL.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric(samples, name: str, **labels) -> float | None:
    """The value of one sample (labels must match those given), or None when absent."""
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(val) for k, val in labels.items()):
            return v
    return None
