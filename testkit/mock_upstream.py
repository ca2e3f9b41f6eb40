#!/usr/bin/env python3
"""Scriptable mock upstream for the Switchyard test kit (Python 3.11, stdlib only).

Serves OpenAI-compatible ``POST …/chat/completions`` and Anthropic-native
``POST …/v1/messages`` endpoints. Tests script the answers through the control
API under ``/_mock/`` and read back everything the mock received. See README.md.

Run: ``python3 testkit/mock_upstream.py --port 0`` → prints ``MOCK_PORT=<port>``.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextvars
import http
import json
import os
import signal
import socket
import struct
import sys
import time
import traceback
import uuid

DEFAULT_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
DEFAULT_ANTHROPIC_USAGE = {"input_tokens": 10, "output_tokens": 5}
REASONING_FORMAT = "anthropic-claude-v1"
COMMENT = ": OPENROUTER PROCESSING\n\n"
MATCH_KEYS = {"stream", "has_tools", "has_tool_messages", "model", "path_suffix", "api",
              "contains", "last_user_contains", "has_reasoning"}
REPLY_TYPES = {"chat", "error", "json", "sse", "anthropic", "fault"}
SSE_ENDS = {"close", "reset", "eof", "stall", "fin_mid_chunk"}
MAX_REPEAT = 10_000_000
FIN_WAIT_S = 30.0  # after a FIN, how long the mock waits for the peer to close before closing too
ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                         403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                         429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}


# ``utf8: true`` on a reply writes its JSON with raw UTF-8 instead of \u escapes (per request).
RAW_UTF8 = contextvars.ContextVar("RAW_UTF8", default=False)


def dumps(obj) -> str:
    """Compact JSON; non-ASCII as \\u escapes unless the reply asked for ``utf8``."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=not RAW_UTF8.get())


def enc(text: str) -> bytes:
    """UTF-8; a lone surrogate (only reachable with ``utf8``) goes out as its 3-byte form."""
    return text.encode("utf-8", "surrogatepass")


class BadRequest(Exception):
    """The client sent something that is not parseable HTTP/1.1."""


# --------------------------------------------------------------------------- requests

class Request:
    """One parsed HTTP request plus the views the rule matcher needs."""

    def __init__(self, method: str, target: str, version: str, headers: dict, raw: bytes):
        self.method, self.target, self.version = method, target, version
        self.headers, self.raw = headers, raw
        self.path = target.split("?", 1)[0]
        self.text = raw.decode("utf-8", "replace")
        try:
            self.body = json.loads(self.text)
        except ValueError:
            self.body = self.text
        self.json = self.body if isinstance(self.body, dict) else {}

    @property
    def api(self) -> str:
        if self.path.endswith("/chat/completions"):
            return "openai"
        if self.path.endswith("/v1/messages"):
            return "anthropic"
        return "other"

    @property
    def stream(self) -> bool:
        return self.json.get("stream") is True

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        return conn != "close" and (self.version != "HTTP/1.0" or conn == "keep-alive")

    def log_entry(self, rule_index) -> dict:
        return {"method": self.method, "path": self.target, "headers": self.headers,
                "body": self.body, "time": time.time(), "rule": rule_index}


async def read_request(reader: asyncio.StreamReader, writer) -> Request | None:
    """Read one request; None on a clean EOF between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise BadRequest("truncated request head") from e
        return None
    except asyncio.LimitOverrunError as e:
        raise BadRequest("request head too large") from e
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError as e:
        raise BadRequest(f"bad request line {lines[0]!r}") from e
    headers = {}
    for line in filter(None, lines[1:]):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = await read_chunked_body(reader)
    else:
        raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return Request(method, target, version, headers, raw)


async def read_chunked_body(reader: asyncio.StreamReader) -> bytes:
    """Decode a ``Transfer-Encoding: chunked`` request body (trailers are skipped)."""
    parts = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()).strip():
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


# --------------------------------------------------------------------------- rules

def last_user_text(req: Request) -> str:
    """Text of the last ``role: user`` message (string content or text parts/blocks)."""
    users = [m for m in req.json.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return ""
    content = users[-1].get("content")
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or []
                     if isinstance(p, dict) and p.get("type") == "text")


def has_tool_messages(req: Request) -> bool:
    """OpenAI: a ``role: tool`` message; Anthropic: a ``tool_result`` block."""
    for m in req.json.get("messages") or []:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "tool":
            return True
        if isinstance(m.get("content"), list) and any(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in m["content"]):
            return True
    return False


def rule_matches(match: dict, req: Request) -> bool:
    """True when every key of ``match`` holds for ``req`` (keys are AND-ed)."""
    checks = {
        "stream": lambda v: req.stream == v,
        "has_tools": lambda v: bool(req.json.get("tools")) == v,
        "has_tool_messages": lambda v: has_tool_messages(req) == v,
        "model": lambda v: req.json.get("model") == v,
        "path_suffix": lambda v: req.path.endswith(v),
        "api": lambda v: req.api == v,
        "contains": lambda v: v in req.text,
        "last_user_contains": lambda v: v in last_user_text(req),
        "has_reasoning": lambda v: ("reasoning" in req.json or "reasoning_effort" in req.json) == v,
    }
    return all(checks[key](value) for key, value in match.items())


def validate_rule(rule) -> str | None:
    """Return an error message for a malformed rule, else None."""
    if not isinstance(rule, dict) or not isinstance(rule.get("reply"), dict):
        return "each rule needs a 'reply' object"
    unknown = set(rule.get("match") or {}) - MATCH_KEYS
    if unknown:
        return f"unknown match keys: {sorted(unknown)}"
    if rule["reply"].get("type") not in REPLY_TYPES:
        return f"unknown reply type: {rule['reply'].get('type')!r}"
    for tc in rule["reply"].get("tool_calls") or []:
        if not isinstance(tc, dict) or not isinstance(tc.get("name"), str) \
                or not isinstance(tc.get("arguments", ""), str):
            return "tool_calls entries need a 'name' and a JSON *string* 'arguments'"
    if rule["reply"]["type"] == "fault" and rule["reply"].get("mode") not in FAULTS:
        return f"unknown fault mode: {rule['reply'].get('mode')!r}"
    return validate_headers(rule["reply"].get("headers")) or validate_body(rule["reply"]) \
        or (validate_sse(rule["reply"]) if rule["reply"]["type"] == "sse" else None)


def header_items(headers) -> list[tuple[str, str]]:
    """A reply's ``headers``, a dict or a list of ``[name, value]`` pairs, as (lower name, value)."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    return [(str(k).lower(), str(v)) for k, v in items]


def validate_headers(headers) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, list):
        if not all(isinstance(h, list) and len(h) == 2 for h in headers):
            return "'headers' must be an object or a list of [name, value] pairs"
    elif not isinstance(headers, dict):
        return "'headers' must be an object or a list of [name, value] pairs"
    for name, value in header_items(headers):
        if not name or any(c in name for c in " \t\r\n:") or any(c in value for c in "\r\n"):
            return f"bad header {name!r}: {value!r} (no CR/LF, names without spaces or ':')"
        try:
            (name + value).encode("latin-1")
        except UnicodeEncodeError:
            return f"header {name!r} is not latin-1"
    return None


def validate_body(reply: dict) -> str | None:
    """``body_text`` / ``body_b64`` (json and error replies): a verbatim body."""
    if "body_text" in reply and not isinstance(reply["body_text"], str):
        return "'body_text' must be a string"
    if "body_b64" in reply:
        try:
            base64.b64decode(reply["body_b64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            return "'body_b64' must be base64"
    return None


def validate_sse(reply: dict) -> str | None:
    events = reply.get("events") or []
    if not isinstance(events, list):
        return "'events' must be a list"
    for e in events:
        if isinstance(e, str):
            continue
        if isinstance(e, dict) and set(e) == {"b64"}:
            try:
                if not base64.b64decode(e["b64"], validate=True):
                    return "a 'b64' event must not be empty (a zero-length chunk ends the body)"
            except (binascii.Error, TypeError, ValueError):
                return "'b64' events must be base64"
        elif isinstance(e, dict) and set(e) == {"repeat", "count"}:
            if not isinstance(e["repeat"], str) or not isinstance(e["count"], int) \
                    or not 0 <= e["count"] <= MAX_REPEAT:
                return f"'repeat' needs a string and a 'count' in 0..{MAX_REPEAT}"
        else:
            return "sse events are strings, {\"b64\": …} or {\"repeat\": …, \"count\": N}"
    end = reply.get("end", "close")
    if end not in SSE_ENDS:
        return f"unknown sse end: {end!r} (expected one of {sorted(SSE_ENDS)})"
    if end == "fin_mid_chunk" and not events:
        return "end 'fin_mid_chunk' needs at least one event"
    if "fin_after" in reply and (not isinstance(reply["fin_after"], int) or reply["fin_after"] < 0):
        return "'fin_after' must be a non-negative integer"
    return None


class MockState:
    """Scripted rules and the request log (single-threaded: asyncio only)."""

    def __init__(self):
        self.rules: list[dict] = []
        self.log: list[dict] = []

    def pick(self, req: Request) -> tuple[int | None, dict]:
        """Consume the first live matching rule; fall back to a default reply."""
        for i, rule in enumerate(self.rules):
            if rule["times"] != 0 and rule_matches(rule["match"], req):
                if rule["times"] > 0:
                    rule["times"] -= 1
                return i, rule["reply"]
        if req.api == "anthropic":
            return None, {"type": "anthropic", "content": "mock: no rule matched"}
        if req.api == "other":
            return None, {"type": "json", "status": 404, "body": {"error": {
                "code": 404, "message": f"mock: no rule matched {req.method} {req.path}"}}}
        return None, {"type": "chat", "content": "mock: no rule matched"}


# --------------------------------------------------------------------------- connection

class Conn:
    """Response writer over one client connection; every write is drained."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.closed = self.started = False
        # The current reply's ``headers``, applied by head() over everything else.
        self.extra: list[tuple[str, str]] = []
        writer.transport.set_write_buffer_limits(high=0)  # drain() == flushed to the kernel

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int, headers: dict, *, length: int | None = None) -> None:
        """Status line + headers; chunked framing when ``length`` is None. The reply's own
        ``headers`` (``self.extra``) come last and replace any default of the same name."""
        self.started = True
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        base = {"server": "switchyard-mock"}
        base.update({"transfer-encoding": "chunked"} if length is None else {"content-length": str(length)})
        base.update({k.lower(): str(v) for k, v in headers.items()})
        replaced = {k for k, _ in self.extra}
        pairs = [(k, v) for k, v in base.items() if k not in replaced] + self.extra
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in pairs]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def chunk(self, data: bytes | str) -> None:
        data = enc(data) if isinstance(data, str) else data
        if data:
            await self.send(b"%x\r\n%s\r\n" % (len(data), data))

    async def partial_chunk(self, data: bytes, sent: int) -> None:
        """A chunk header announcing ``len(data)`` bytes, then only the first ``sent`` of them."""
        await self.send(b"%x\r\n%s" % (len(data), data[:sent]))

    async def end_chunks(self) -> None:
        await self.send(b"0\r\n\r\n")

    async def full(self, status: int, headers: dict, body: bytes) -> None:
        await self.head(status, headers, length=len(body))
        await self.send(body)

    async def json(self, status: int, obj, headers: dict | None = None) -> None:
        await self.full(status, {"content-type": "application/json", **(headers or {})}, enc(dumps(obj)))

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER on, timeout 0)."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()
        self.closed = True

    def close(self) -> None:
        """Clean close (FIN)."""
        self.writer.close()
        self.closed = True

    async def fin(self) -> None:
        """Half-close (FIN, never RST) right after what was sent, whatever the framing says;
        then wait up to FIN_WAIT_S for the client to close (reading what it sends) and close."""
        self.closed = True
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
            await asyncio.wait_for(self._read_to_eof(), FIN_WAIT_S)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        self.writer.close()

    async def _read_to_eof(self) -> None:
        while await self.reader.read(65536):
            pass

    async def stall(self) -> None:
        """Send nothing more; wait until the client closes, then close too."""
        try:
            while await self.reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.close()


async def sleep_ms(ms) -> None:
    if ms:
        await asyncio.sleep(ms / 1000)


async def send_events(conn: Conn, events, delay_ms=0) -> None:
    """Write each SSE event as its own chunk, pausing ``delay_ms`` between them."""
    for i, event in enumerate(events):
        if i:
            await sleep_ms(delay_ms)
        await conn.chunk(event)


def sse_head(reply: dict, content_type="text/event-stream") -> dict:
    """Default SSE headers (the reply's ``headers`` are applied over them by ``Conn.head``)."""
    return {"content-type": content_type, "cache-control": "no-cache"}


# --------------------------------------------------------------------------- OpenAI chat

def data(obj) -> str:
    return f"data: {dumps(obj)}\n\n"


def pieces(text: str, size: int) -> list[str]:
    """Split ``text`` into pieces of ``size`` characters."""
    size = max(1, int(size))
    return [text[i:i + size] for i in range(0, len(text), size)]


def fragments(text: str, count: int) -> list[str]:
    """Split ``text`` into ``count`` near-equal non-empty fragments."""
    count = max(1, int(count))
    step = -(-len(text) // count) if text else 1
    return pieces(text, step)


class Chat:
    """Builds OpenAI Chat Completions answers (JSON or SSE) from a ``chat`` reply."""

    def __init__(self, reply: dict, req: Request):
        self.r, self.req = reply, req
        self.id = "gen-" + uuid.uuid4().hex[:20]
        self.created = int(time.time())
        self.model = reply.get("model") or req.json.get("model") or "mock-model"
        self.tools = reply.get("tool_calls") or []
        self.finish = reply.get("finish_reason") or ("tool_calls" if self.tools else "stop")
        style = reply.get("usage_style", "openai")
        self.usage = None if style == "none" else reply.get("usage", DEFAULT_USAGE)
        self.style = "none" if self.usage is None else style

    def chunk(self, delta: dict, finish=None, **extra) -> str:
        obj = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
               "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if extra.get("native"):
            obj["choices"][0]["native_finish_reason"] = extra.pop("native")
        obj.update(extra)
        return data(obj)

    def text_chunks(self, text: str) -> list[str]:
        return [self.chunk({"content": p}) for p in pieces(text, self.r.get("chunk_size", 4))]

    def reasoning_chunks(self) -> list[str]:
        out = [self.chunk({"reasoning": p, "reasoning_details": [
            {"type": "reasoning.text", "text": p, "format": REASONING_FORMAT, "index": 0}]})
            for p in pieces(self.r.get("reasoning") or "", self.r.get("chunk_size", 4))]
        if self.r.get("reasoning_signature"):
            out.append(self.chunk({"reasoning_details": [
                {"type": "reasoning.text", "signature": self.r["reasoning_signature"],
                 "format": REASONING_FORMAT, "index": 0}]}))
        return out

    def tool_chunks(self) -> list[str]:
        out = []
        for k, tc in enumerate(self.tools):
            out.append(self.chunk({"tool_calls": [{"index": k, "id": tc.get("id") or f"call_{k}",
                                   "type": "function", "function": {"name": tc["name"], "arguments": ""}}]}))
            for frag in fragments(tc.get("arguments", ""), self.r.get("arg_fragments", 3)):
                out.append(self.chunk({"tool_calls": [{"index": k, "function": {"arguments": frag}}]}))
        return out

    def finish_chunks(self) -> list[str]:
        """Finish chunk(s) plus usage according to ``usage_style``."""
        if self.style == "openrouter":
            delta = {"content": "", "role": "assistant"}
            return [self.chunk(delta, self.finish, native=self.finish),
                    self.chunk(delta, self.finish, native=self.finish, usage=self.usage)]
        if self.style == "inline":
            return [self.chunk({}, self.finish, usage=self.usage)]
        out = [self.chunk({}, self.finish)]
        if self.style == "openai":
            out.append(data({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                             "model": self.model, "choices": [], "usage": self.usage}))
        return out

    def events(self, body_events=None) -> list[str]:
        """The full SSE stream, optionally with OpenRouter comment lines."""
        body = body_events if body_events is not None else (
            self.reasoning_chunks() + self.text_chunks(self.r.get("content") or "") + self.tool_chunks())
        events = [self.chunk({"role": "assistant", "content": ""})] + body + self.finish_chunks()
        events.append("data: [DONE]\n\n")
        if not self.r.get("comments"):
            return events
        out = [COMMENT]
        for i, event in enumerate(events):
            out.append(event)
            if i % 3 == 2 and i + 1 < len(events):
                out.append(COMMENT)
        return out

    def body(self, content=None) -> dict:
        """Non-stream ``chat.completion`` object."""
        msg = {"role": "assistant", "content": self.r.get("content") if content is None else content}
        if self.tools:
            msg["tool_calls"] = [{"id": tc.get("id") or f"call_{k}", "type": "function",
                                  "function": {"name": tc["name"], "arguments": tc.get("arguments", "")}}
                                 for k, tc in enumerate(self.tools)]
        if self.r.get("reasoning"):
            msg["reasoning"] = self.r["reasoning"]
            detail = {"type": "reasoning.text", "text": self.r["reasoning"], "format": REASONING_FORMAT, "index": 0}
            if self.r.get("reasoning_signature"):
                detail["signature"] = self.r["reasoning_signature"]
            msg["reasoning_details"] = [detail]
        out = {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
               "choices": [{"index": 0, "message": msg, "finish_reason": self.finish}]}
        if self.usage is not None:
            out["usage"] = self.usage
        return out


# --------------------------------------------------------------------------- Anthropic

def anthropic_event(obj: dict) -> str:
    return f"event: {obj['type']}\ndata: {dumps(obj)}\n\n"


def parse_object(text: str) -> dict:
    """Tool arguments as an object for non-stream Anthropic answers ({} if not a JSON object)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def anthropic_blocks(reply: dict) -> list[dict]:
    blocks = []
    if reply.get("reasoning"):
        blocks.append({"type": "thinking", "thinking": reply["reasoning"],
                       "signature": reply.get("reasoning_signature", "")})
    if reply.get("content"):
        blocks.append({"type": "text", "text": reply["content"]})
    for k, tc in enumerate(reply.get("tool_calls") or []):
        args = tc.get("arguments") or ""
        blocks.append({"type": "tool_use", "id": tc.get("id") or f"toolu_mock{k}", "name": tc["name"],
                       "input": parse_object(args), "_args": args})
    return blocks


def anthropic_message(reply: dict, req: Request, blocks: list[dict]) -> dict:
    stop = reply.get("stop_reason") or ("tool_use" if reply.get("tool_calls") else "end_turn")
    return {"id": "msg_mock" + uuid.uuid4().hex[:16], "type": "message", "role": "assistant",
            "model": reply.get("model") or req.json.get("model") or "mock-model",
            "content": [{k: v for k, v in b.items() if k != "_args"} for b in blocks],
            "stop_reason": stop, "stop_sequence": None,
            "usage": reply.get("usage") or dict(DEFAULT_ANTHROPIC_USAGE)}


def block_stream(block: dict, reply: dict) -> tuple[dict, list[dict]]:
    """The ``content_block_start`` block and the deltas that stream one content block."""
    size = reply.get("chunk_size", 4)
    if block["type"] == "text":
        return {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces(block["text"], size)]
    if block["type"] == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"], size)]
        if block["signature"]:
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {"type": "thinking", "thinking": "", "signature": ""}, deltas
    return ({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
            [{"type": "input_json_delta", "partial_json": p}
             for p in fragments(block["_args"], reply.get("arg_fragments", 3))])


def anthropic_events(reply: dict, req: Request) -> list[str]:
    """The Anthropic SSE sequence message_start … message_stop."""
    blocks = anthropic_blocks(reply)
    msg = anthropic_message(reply, req, blocks)
    start = dict(msg, content=[], stop_reason=None, usage={**msg["usage"], "output_tokens": 1})
    out = [anthropic_event({"type": "message_start", "message": start})]
    for i, block in enumerate(blocks):
        first, deltas = block_stream(block, reply)
        out.append(anthropic_event({"type": "content_block_start", "index": i, "content_block": first}))
        out += [anthropic_event({"type": "content_block_delta", "index": i, "delta": d}) for d in deltas]
        out.append(anthropic_event({"type": "content_block_stop", "index": i}))
    out.append(anthropic_event({"type": "message_delta",
                                "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                "usage": {"output_tokens": msg["usage"].get("output_tokens", 0)}}))
    out.append(anthropic_event({"type": "message_stop"}))
    return out


# --------------------------------------------------------------------------- reply types

async def reply_chat(conn: Conn, reply: dict, req: Request) -> None:
    chat = Chat(reply, req)
    status = reply.get("status", 200)
    if not req.stream:
        return await conn.json(status, chat.body())
    events = chat.events()  # built before the status line so a bad reply still gets a clean 500
    await conn.head(status, sse_head(reply))
    await send_events(conn, events, reply.get("delay_ms", 0))
    await conn.end_chunks()


async def verbatim_body(conn: Conn, status: int, reply: dict) -> bool:
    """Send ``body_text`` / ``body_b64`` as is, if the reply has one (``application/json``
    unless ``headers`` say otherwise). False when it has neither."""
    if "body_b64" in reply:
        body = base64.b64decode(reply["body_b64"])
    elif "body_text" in reply:
        body = enc(reply["body_text"])
    else:
        return False
    await conn.full(status, {"content-type": "application/json"}, body)
    return True


async def reply_error(conn: Conn, reply: dict, req: Request) -> None:
    status = reply.get("status", 500)
    if await verbatim_body(conn, status, reply):
        return
    body = reply.get("body")
    if body is None and req.api == "anthropic":
        body = {"type": "error", "error": {"type": ANTHROPIC_ERROR_TYPES.get(status, "api_error"),
                                           "message": "mock error"}}
    elif body is None:
        body = {"error": {"code": status, "message": "mock error"}}
    await conn.json(status, body)


async def reply_json(conn: Conn, reply: dict, req: Request) -> None:
    if not await verbatim_body(conn, reply.get("status", 200), reply):
        await conn.json(reply.get("status", 200), reply.get("body"))


async def finish_sse(conn: Conn, end: str) -> None:
    """End a streamed body the way an ``sse`` reply's ``end`` asks (not ``fin_mid_chunk``)."""
    if end == "reset":
        conn.reset()
    elif end == "eof":
        conn.close()
    elif end == "stall":
        await conn.stall()
    else:
        await conn.end_chunks()


def sse_chunks(reply: dict):
    """The HTTP chunk payloads of an ``sse`` reply, lazily (a ``repeat`` is never materialised)."""
    suffix = b"" if reply.get("raw") else b"\n\n"
    for e in reply.get("events") or []:
        if isinstance(e, str):
            yield enc(e) + suffix
        elif "b64" in e:
            yield base64.b64decode(e["b64"])
        else:
            one = enc(e["repeat"]) + suffix
            for _ in range(e["count"]):
                yield one


async def reply_sse(conn: Conn, reply: dict, req: Request) -> None:
    await conn.head(reply.get("status", 200), sse_head(reply))
    end, delay = reply.get("end", "close"), reply.get("delay_ms", 0)
    last = None
    for i, chunk in enumerate(sse_chunks(reply)):
        if last is not None:
            await conn.chunk(last)
        if i:
            await sleep_ms(delay)
        last = chunk
    if end != "fin_mid_chunk":
        if last is not None:
            await conn.chunk(last)
        return await finish_sse(conn, end)
    # The last chunk's header announces all of it, but only ``fin_after`` bytes follow (default
    # half), then a clean FIN: the body ends inside a chunk.
    sent = min(reply.get("fin_after", len(last) // 2), max(len(last) - 1, 0))
    await conn.partial_chunk(last, sent)
    await conn.fin()


async def reply_anthropic(conn: Conn, reply: dict, req: Request) -> None:
    status = reply.get("status", 200)
    if not req.stream:
        return await conn.json(status, anthropic_message(reply, req, anthropic_blocks(reply)))
    events = anthropic_events(reply, req)
    await conn.head(status, sse_head(reply))
    await send_events(conn, events, reply.get("delay_ms", 0))
    await conn.end_chunks()


# --------------------------------------------------------------------------- faults

def partial_stream(reply: dict, req: Request) -> list[str]:
    """The first few valid events of a text stream: for Chat Completions the role chunk and
    ``chunks`` text chunks; for the Anthropic API message_start, the block start and its deltas."""
    if req.api == "anthropic":
        events = anthropic_events({"content": reply.get("content") or "Hello world, this is a partial answer.", **reply}, req)
        return events[:2 + reply.get("chunks", 2)]
    chat = Chat({"chunk_size": 5, **reply}, req)
    text = reply.get("content") or "Hello world, this is a partial answer."
    return [chat.chunk({"role": "assistant", "content": ""})] + chat.text_chunks(text)[:reply.get("chunks", 2)]


async def cut_midway(conn: Conn, reply: dict, req: Request, ending: str, after_headers=False) -> None:
    """Send the start of a stream (or of a JSON body with a too-large Content-Length), then end badly."""
    if req.stream:
        await conn.head(200, sse_head(reply))
        if not after_headers:
            await send_events(conn, partial_stream(reply, req), reply.get("delay_ms", 0))
    else:
        body = enc(dumps(Chat({"content": "Hello world, this is a partial answer.", **reply}, req).body()))
        await conn.head(200, {"content-type": "application/json"}, length=len(body))
        if not after_headers:
            await conn.send(body[:len(body) // 2])
    if ending == "reset":
        await sleep_ms(reply.get("reset_delay_ms", 100))
        conn.reset()
    elif ending == "eof" and req.stream:
        await conn.end_chunks()  # clean end of the chunked body, but no finish_reason / [DONE]
    elif ending == "eof":
        conn.close()
    else:
        await conn.stall()


async def fault_html(conn, reply, req):
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>" \
           b"<body><h1>502 Bad Gateway</h1><p>mock html page</p></body></html>\n"
    await conn.full(200, {"content-type": "text/html; charset=utf-8"}, page)


async def fault_wrong_content_type(conn, reply, req):
    chat = Chat({"content": "wrong content type", **reply}, req)
    if req.stream:
        await conn.head(200, {"content-type": "text/plain"})
        await send_events(conn, chat.events())
        return await conn.end_chunks()
    await conn.full(200, {"content-type": "text/plain"}, enc(dumps(chat.body())))


async def fault_truncated_json(conn, reply, req):
    body = enc(dumps(Chat({"content": "this body is cut", **reply}, req).body()))
    await conn.full(200, {"content-type": "application/json"}, body[:len(body) // 2])


async def fault_binary(conn, reply, req):
    blob = os.urandom(reply.get("size", 4096))
    if not req.stream:
        return await conn.full(200, {"content-type": "application/octet-stream"}, blob)
    await conn.head(200, sse_head(reply))
    await conn.chunk(blob)
    await conn.end_chunks()


async def fault_huge_delta(conn, reply, req):
    text = "x" * reply.get("size", 4 * 1024 * 1024)
    chat = Chat(reply, req)
    if not req.stream:
        return await conn.json(200, chat.body(content=text))
    await conn.head(200, sse_head(reply))
    await send_events(conn, chat.events([chat.chunk({"content": text})]))
    await conn.end_chunks()


async def fault_error_chunk(conn, reply, req):
    err = {"code": 502, "message": "Provider disconnected"}
    if not req.stream:
        return await conn.json(200, {"error": err})
    chat = Chat(reply, req)
    events = [chat.chunk({"role": "assistant", "content": ""})] + [chat.chunk({"content": t}) for t in ("Hel", "lo")]
    events.append(data({"id": "gen-x", "object": "chat.completion.chunk", "error": err,
                        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}))
    await conn.head(200, sse_head(reply))
    await send_events(conn, events + ["data: [DONE]\n\n"], reply.get("delay_ms", 0))
    await conn.end_chunks()


async def fault_garbage_lines(conn, reply, req):
    chat = Chat({"content": "Hello through the garbage", **reply}, req)
    if not req.stream:  # OpenRouter sends blank lines before the JSON while processing (spec §3.0)
        body = b"\n         \n\n" + enc(dumps(chat.body()))
        return await conn.full(200, {"content-type": "application/json"}, body)
    junk = ["data: {not json\n\n", "nonsense\n\n", ": just a comment\n\n", "event: whatever\n\n",
            "id: 42\nretry: 1000\n\n"]
    events = []
    for i, event in enumerate(chat.events()):
        events += [junk[i % len(junk)], event] if i and event != "data: [DONE]\n\n" else [event]
    await conn.head(200, sse_head(reply))
    await send_events(conn, events, reply.get("delay_ms", 0))
    await conn.end_chunks()


async def fault_oversize_body(conn, reply, req):
    """A ``size``-byte valid chat body (JSON or SSE content deltas), produced piece by piece."""
    size, block = reply.get("size", 80 * 1024 * 1024), 65536
    chat = Chat(reply, req)
    if req.stream:
        await conn.head(200, sse_head(reply))
        await conn.chunk(chat.chunk({"role": "assistant", "content": ""}))
        for _ in range(max(1, size // block)):
            await conn.chunk(chat.chunk({"content": "x" * block}))
        await send_events(conn, chat.finish_chunks() + ["data: [DONE]\n\n"])
        return await conn.end_chunks()
    prefix, suffix = enc(dumps(chat.body(content="@@"))).split(b"@@")
    filler = max(0, size - len(prefix) - len(suffix))
    await conn.head(200, {"content-type": "application/json"}, length=len(prefix) + filler + len(suffix))
    await conn.send(prefix)
    for offset in range(0, filler, block):
        await conn.send(b"x" * min(block, filler - offset))
    await conn.send(suffix)


async def fault_slow_body(conn, reply, req):
    """The answer one byte at a time, ``delay_ms`` (default 20) apart."""
    chat, delay = Chat({"content": "slow", **reply}, req), reply.get("delay_ms", 20)
    if req.stream:
        await conn.head(200, sse_head(reply))
        for byte in enc("".join(chat.events())):
            await conn.chunk(bytes([byte]))
            await sleep_ms(delay)
        return await conn.end_chunks()
    body = enc(dumps(chat.body()))
    await conn.head(200, {"content-type": "application/json"}, length=len(body))
    for byte in body:
        await conn.send(bytes([byte]))
        await sleep_ms(delay)


async def fault_before_status(conn, reply, req, reset: bool):
    conn.reset() if reset else conn.close()


FAULTS = {
    "reset_before_status": lambda c, r, q: fault_before_status(c, r, q, True),
    "close_before_status": lambda c, r, q: fault_before_status(c, r, q, False),
    "reset_after_headers": lambda c, r, q: cut_midway(c, r, q, "reset", after_headers=True),
    "reset_mid_stream": lambda c, r, q: cut_midway(c, r, q, "reset"),
    "eof_mid_stream": lambda c, r, q: cut_midway(c, r, q, "eof"),
    "stall_after_headers": lambda c, r, q: cut_midway(c, r, q, "stall", after_headers=True),
    "stall_mid_stream": lambda c, r, q: cut_midway(c, r, q, "stall"),
    "html_200": fault_html,
    "wrong_content_type": fault_wrong_content_type,
    "truncated_json": fault_truncated_json,
    "binary": fault_binary,
    "huge_delta": fault_huge_delta,
    "error_chunk": fault_error_chunk,
    "garbage_lines": fault_garbage_lines,
    "oversize_body": fault_oversize_body,
    "slow_body": fault_slow_body,
}


async def reply_fault(conn: Conn, reply: dict, req: Request) -> None:
    await FAULTS[reply["mode"]](conn, reply, req)


REPLIES = {"chat": reply_chat, "error": reply_error, "json": reply_json, "sse": reply_sse,
           "anthropic": reply_anthropic, "fault": reply_fault}


# --------------------------------------------------------------------------- server

class MockServer:
    """Accepts connections, serves keep-alive requests, routes control vs upstream."""

    def __init__(self):
        self.state = MockState()
        self.tasks: set[asyncio.Task] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.tasks.add(task)
        conn = Conn(reader, writer)
        try:
            while not conn.closed:
                req = await read_request(reader, writer)
                if req is None:
                    break
                await self.dispatch(conn, req)
                if not req.keep_alive and not conn.closed:
                    conn.close()
        except BadRequest as e:
            try:
                await conn.json(400, {"error": {"code": 400, "message": f"mock: {e}"}}, {"connection": "close"})
            except ConnectionError:
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception as e:  # a bug or an unusable scripted reply: report it loudly
            print("mock_upstream: internal error while answering", file=sys.stderr)
            traceback.print_exc()
            if not conn.started and not conn.closed:
                await conn.json(500, {"error": {"code": 500, "message": f"mock internal error: {e!r}"}},
                                {"connection": "close", "x-mock-internal-error": "1"})
        finally:
            self.tasks.discard(task)
            if not conn.closed:
                conn.close()

    async def dispatch(self, conn: Conn, req: Request) -> None:
        if req.path.startswith("/_mock/"):
            return await self.control(conn, req)
        index, reply = self.state.pick(req)
        self.state.log.append(req.log_entry(index))
        await sleep_ms(reply.get("delay_before_ms", 0))
        conn.extra = header_items(reply.get("headers"))
        RAW_UTF8.set(bool(reply.get("utf8")))
        try:
            await REPLIES[reply["type"]](conn, reply, req)
        finally:
            conn.extra = []
            RAW_UTF8.set(False)

    async def control(self, conn: Conn, req: Request) -> None:
        """The ``/_mock/*`` control API (never logged)."""
        route = (req.method, req.path)
        if route == ("POST", "/_mock/script"):
            rules = req.json.get("rules")
            errors = [validate_rule(r) for r in rules] if isinstance(rules, list) else ["'rules' must be a list"]
            if any(errors):
                return await conn.json(400, {"ok": False, "error": next(e for e in errors if e)})
            for r in rules:
                self.state.rules.append({"match": r.get("match") or {}, "times": r.get("times", 1),
                                         "reply": r["reply"]})
            return await conn.json(200, {"ok": True})
        if route == ("POST", "/_mock/reset"):
            self.state.rules.clear()
            self.state.log.clear()
            return await conn.json(200, {"ok": True})
        if route == ("GET", "/_mock/requests"):
            return await conn.json(200, {"requests": self.state.log})
        if route == ("GET", "/_mock/rules"):
            return await conn.json(200, {"rules": self.state.rules})
        if route == ("GET", "/_mock/health"):
            return await conn.json(200, {"ok": True})
        await conn.json(404, {"ok": False, "error": f"unknown control route {req.method} {req.path}"})

    async def run(self, host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # before the port line: a SIGTERM right after it is clean
            loop.add_signal_handler(sig, stop.set)
        server = await asyncio.start_server(self.handle, host, port, limit=1 << 20, backlog=2048)
        print(f"MOCK_PORT={server.sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()
        server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"], help="loopback only")
    args = parser.parse_args()
    asyncio.run(MockServer().run(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
