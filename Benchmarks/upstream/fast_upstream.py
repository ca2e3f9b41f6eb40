#!/usr/bin/env python3
"""A minimal, fast OpenAI Chat Completions upstream for the streaming benchmarks.

Python 3.11 stdlib only (asyncio Protocols, no per-request parsing beyond the HTTP head).
HTTP/1.1 keep-alive; request bodies with Content-Length or chunked encoding.

  POST …/chat/completions   body contains "stream": true → an SSE stream, else one chat.completion
  GET  /health              200 ok
  GET  /_stats              JSON counters: requests, streams open/total/done/cancelled, peak open
  GET  /_last_request       the body of the most recent POST, byte for byte (lets a benchmark send
                            the very body the gateway produced directly to this upstream)
  GET  /_release            end every open `h=1` stream at its next chunk (see below)

Stream shape is chosen per request by a path segment of key=value pairs, so a provider's base_url
selects it (the gateway appends /chat/completions):

  http://127.0.0.1:PORT/p/n=2000,d=1000,f=0/v1  →  POST /p/n=2000,d=1000,f=0/v1/chat/completions

  n    content chunks (default --chunks)
  d    delay between chunks, µs (default --delay-us)
  f    delay before the response head + first chunk, µs (default 0)
  pad  extra characters of text in each content delta (default 0)
  h    1 = hold: the stream still sends at most n chunks, d apart, but once /_release is called it
       finishes at its next chunk (finish, usage, [DONE]) — lets a benchmark keep thousands of
       streams open until all of them are open, however long that takes, then end them cleanly

The stream: n `chat.completion.chunk` events with `delta.content` (the first also carries
role), then a finish_reason chunk, a usage chunk (`choices: []`), `data: [DONE]`. Each event is one
HTTP chunk written at once. Every content delta starts with a send timestamp marker
`t=<CLOCK_MONOTONIC ns, 19 digits>;i=<chunk index, 6 digits> ` taken just before the write: a
client on this machine timestamps each arrival with time.monotonic_ns() and gets the per-chunk
delivery latency without any side channel (the gateway forwards text deltas verbatim).

    python3 fast_upstream.py --port 0 --port-file /tmp/p   # prints UPSTREAM_PORT=<port>
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import socket
import sys
import time

STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
HEAD_END = b"\r\n\r\n"
CREATED = 1760000000
CHUNK_PREFIX = (b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,'
                b'"model":"bench-model","choices":[{"index":0,"delta":{')
CHUNK_SUFFIX = b'},"finish_reason":null}]}\n\n'
TAIL_EVENTS = [
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,"model":"bench-model",'
    b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    None,   # usage chunk, built per stream (completion_tokens = n)
    b"data: [DONE]\n\n",
]
JSON_BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": CREATED, "model": "bench-model",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Hello! How can I help you today?"}}],
    "usage": {"prompt_tokens": 14, "completion_tokens": 9, "total_tokens": 23},
}, separators=(",", ":")).encode()


def http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def response(status: str, ctype: str, body: bytes, keep_alive: bool) -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
            f"connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n").encode() + body


STREAM_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
               b"transfer-encoding: chunked\r\n")


class Stats:
    def __init__(self):
        self.requests = 0
        self.streams_open = 0
        self.streams_peak = 0
        self.streams_total = 0
        self.streams_done = 0
        self.streams_cancelled = 0
        self.chunks_sent = 0
        self.releases = 0
        self.last_body = b"{}"

    def as_json(self) -> bytes:
        d = {k: v for k, v in self.__dict__.items() if k != "last_body"}
        return json.dumps(d).encode()


class Conn(asyncio.Protocol):
    __slots__ = ("srv", "t", "buf", "busy", "task", "closed")

    def __init__(self, srv: "Upstream"):
        self.srv = srv
        self.t = None
        self.buf = bytearray()
        self.busy = False
        self.task: asyncio.Task | None = None
        self.closed = False

    def connection_made(self, transport):
        self.t = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.closed = True
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def data_received(self, data: bytes):
        self.buf += data
        if not self.busy:
            self.process()

    # ---- request parsing
    def process(self):
        while not self.busy and not self.closed:
            end = self.buf.find(HEAD_END)
            if end < 0:
                if len(self.buf) > 1 << 16:
                    self.t.close()
                return
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            try:
                method, target, version = head[0].split(" ", 2)
            except ValueError:
                self.t.close()
                return
            hdrs = {}
            for ln in head[1:]:
                k, _, v = ln.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            start = end + 4
            if "chunked" in hdrs.get("transfer-encoding", "").lower():
                got = dechunk(self.buf, start)
                if got is None:
                    return
                body, stop = got
            else:
                n = int(hdrs.get("content-length", "0") or 0)
                if len(self.buf) - start < n:
                    return
                body, stop = bytes(self.buf[start:start + n]), start + n
            del self.buf[:stop]
            conn_hdr = hdrs.get("connection", "").lower()
            keep = conn_hdr != "close" and (version != "HTTP/1.0" or conn_hdr == "keep-alive")
            if hdrs.get("expect", "").lower() == "100-continue":
                pass   # body already complete here
            self.handle(method, target, body, keep)

    def handle(self, method: str, target: str, body: bytes, keep: bool):
        st = self.srv.stats
        path = target.split("?", 1)[0]
        if method == "POST" and path.endswith("/chat/completions"):
            st.requests += 1
            st.last_body = body
            if STREAM_RE.search(body):
                params = self.srv.params(path)
                self.busy = True
                self.task = asyncio.get_running_loop().create_task(self.stream(params, keep))
                return
            self.t.write(response("200 OK", "application/json", JSON_BODY, keep))
        elif path == "/health":
            self.t.write(response("200 OK", "text/plain", b"ok", keep))
        elif path == "/_stats":
            self.t.write(response("200 OK", "application/json", st.as_json(), keep))
        elif path == "/_release":
            st.releases += 1
            self.t.write(response("200 OK", "application/json", st.as_json(), keep))
        elif path == "/_last_request":
            self.t.write(response("200 OK", "application/json", st.last_body, keep))
        else:
            self.t.write(response("404 Not Found", "text/plain", b"not found", keep))
        if not keep:
            self.t.close()

    # ---- streaming
    async def stream(self, p: dict, keep: bool):
        st = self.srv.stats
        n, d, f, pad = p["n"], p["d"] / 1e6, p["f"] / 1e6, b"x" * p["pad"]
        hold, gen0 = p["h"], st.releases
        st.streams_open += 1
        st.streams_total += 1
        st.streams_peak = max(st.streams_peak, st.streams_open)
        finished = False
        try:
            if f > 0:
                await asyncio.sleep(f)
            t = self.t
            sent = 0
            for i in range(n):
                if i and d > 0:
                    await asyncio.sleep(d)
                if self.closed:
                    return
                if i and hold and st.releases != gen0:
                    break
                delta = b'"role":"assistant","content":"' if i == 0 else b'"content":"'
                ev = b"%s%st=%019d;i=%06d %s\"%s" % (CHUNK_PREFIX, delta, time.monotonic_ns(), i, pad, CHUNK_SUFFIX)
                if i == 0:
                    t.write(STREAM_HEAD + (b"connection: keep-alive\r\n\r\n" if keep else b"connection: close\r\n\r\n")
                            + http_chunk(ev))
                else:
                    t.write(http_chunk(ev))
                st.chunks_sent += 1
                sent += 1
            if n == 0:
                t.write(STREAM_HEAD + b"\r\n")
            usage = (b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,'
                     b'"model":"bench-model","choices":[],"usage":{"prompt_tokens":14,"completion_tokens":%d,'
                     b'"total_tokens":%d}}\n\n' % (sent, sent + 14))
            t.write(http_chunk(TAIL_EVENTS[0]) + http_chunk(usage) + http_chunk(TAIL_EVENTS[2]) + b"0\r\n\r\n")
            finished = True
            st.streams_done += 1
        except asyncio.CancelledError:
            pass
        finally:
            st.streams_open -= 1
            if not finished:
                st.streams_cancelled += 1
                if not self.closed:
                    self.t.close()
            self.task = None
            self.busy = False
        if not keep:
            self.t.close()
        elif self.buf and not self.closed:
            self.process()


def dechunk(buf: bytearray, pos: int):
    """Decode a complete chunked body starting at pos; None when incomplete."""
    out = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            while True:                       # trailers until an empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return bytes(out), eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos:pos + size]
        pos += size + 2


class Upstream:
    def __init__(self, chunks: int, delay_us: int):
        self.defaults = {"n": chunks, "d": delay_us, "f": 0, "pad": 0, "h": 0}
        self.stats = Stats()
        self._cache: dict[str, dict] = {}

    def params(self, path: str) -> dict:
        p = self._cache.get(path)
        if p is None:
            p = dict(self.defaults)
            for seg in path.split("/"):
                if "=" in seg:
                    for kv in seg.split(","):
                        k, _, v = kv.partition("=")
                        if k in p:
                            p[k] = int(v)
            self._cache[path] = p
        return p


async def main_async(a) -> None:
    srv = Upstream(a.chunks, a.delay_us)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(srv), "127.0.0.1", a.port, backlog=a.backlog, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print(f"UPSTREAM_PORT={port}", flush=True)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, a.port_file)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description="fast fixed-response OpenAI upstream (streaming benchmarks)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here (atomically)")
    ap.add_argument("--chunks", type=int, default=20, help="default content chunks per stream")
    ap.add_argument("--delay-us", type=int, default=0, help="default delay between chunks (µs)")
    ap.add_argument("--backlog", type=int, default=4096)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    try:
        asyncio.run(main_async(a))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
