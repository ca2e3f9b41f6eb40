#!/usr/bin/env python3
"""Open-loop fixed-rate HTTP/1.1 load generator (a small wrk2 stand-in; Python 3.11 stdlib only).

Sends POST requests at a fixed rate for a fixed time over keep-alive connections and reports the
latency distribution.  Open loop: request k is due at t0 + k/rate whether or not earlier ones have
answered — when every open connection is busy a new one is opened (up to --max-conns), so a slow
server gets more concurrent requests instead of fewer (no coordinated omission up to that cap).

Latency is measured from the moment the request bytes are written to the moment the last byte of
the response is read (time.perf_counter_ns on both ends).  The scheduler lag (write time minus due
time) is reported separately: asyncio timers have ~1 ms granularity, so sends can be up to ~1 ms
late; the lag is the same for every target, so the gateway-minus-direct difference is unaffected.

    python3 fixed_rate.py --port 8000 --path /v1/messages --body fixtures/small-request.json \
        --rate 1000 --duration 15 [--warmup 1] [--json out.json] [--label gateway]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ResponseReader, build_post, pct  # noqa: E402


class Conn(asyncio.Protocol):
    def __init__(self, client: "Client"):
        self.c = client
        self.t = None
        self.reader: ResponseReader | None = None
        self.sent_ns = 0
        self.measure = False
        self.open = False

    def connection_made(self, transport):
        self.t = transport
        self.open = True
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.open = False
        if self.reader is not None:           # died with a request in flight
            self.c.errors["closed"] += 1
            self.reader = None
            self.c.inflight -= 1
        self.c.conn_closed(self)

    def send(self, req: bytes, measure: bool):
        self.reader = ResponseReader()
        self.measure = measure
        self.sent_ns = time.perf_counter_ns()
        self.t.write(req)

    def data_received(self, data: bytes):
        now = time.perf_counter_ns()
        r = self.reader
        if r is None:
            self.c.errors["unexpected_data"] += 1
            return
        r.feed(data)
        if r.done:
            self.reader = None
            self.c.completed(self, r.status, now - self.sent_ns, self.measure)


class Client:
    def __init__(self, a):
        self.a = a
        body = Path(a.body).read_bytes()
        self.req = build_post(a.port, a.path, body, dict(h.split(": ", 1) for h in a.header))
        self.idle: collections.deque[Conn] = collections.deque()
        self.pending: collections.deque[tuple[int, bool]] = collections.deque()
        self.conns = 0
        self.peak_conns = 0
        self.connecting = 0
        self.inflight = 0
        self.lat_ns: list[int] = []
        self.lag_ns: list[int] = []
        self.sent = 0
        self.done = 0
        self.errors = collections.Counter()
        self.statuses = collections.Counter()
        self.all_done = asyncio.Event()
        self.total = 0
        self.first_write_ns = 0
        self.last_write_ns = 0

    async def open_conn(self):
        """Open one more keep-alive connection; the caller has already counted it in .connecting."""
        try:
            loop = asyncio.get_running_loop()
            _, conn = await loop.create_connection(lambda: Conn(self), "127.0.0.1", self.a.port)
            self.conns += 1
            self.peak_conns = max(self.peak_conns, self.conns)
            self.make_idle(conn)
        except OSError:
            self.errors["connect"] += 1
        finally:
            self.connecting -= 1

    def conn_closed(self, conn: Conn):
        self.conns -= 1
        try:
            self.idle.remove(conn)
        except ValueError:
            pass

    def make_idle(self, conn: Conn):
        if self.pending:
            due, measure = self.pending.popleft()
            self._send(conn, due, measure)
        else:
            self.idle.append(conn)

    def _send(self, conn: Conn, due_ns: int, measure: bool):
        self.inflight += 1
        self.sent += 1
        conn.send(self.req, measure)
        if measure:
            self.lag_ns.append(conn.sent_ns - due_ns)
            self.first_write_ns = self.first_write_ns or conn.sent_ns
            self.last_write_ns = conn.sent_ns

    def completed(self, conn: Conn, status: int, lat: int, measure: bool):
        self.inflight -= 1
        self.done += 1
        self.statuses[status] += 1
        if measure:
            if status == 200:
                self.lat_ns.append(lat)
            else:
                self.errors["status"] += 1
        self.make_idle(conn)
        if self.done + sum(self.errors[k] for k in ("closed",)) >= self.total and self.total:
            self.all_done.set()

    def dispatch(self, due_ns: int, measure: bool):
        while self.idle:
            conn = self.idle.popleft()
            if conn.open:
                self._send(conn, due_ns, measure)
                return
        self.pending.append((due_ns, measure))
        if self.conns + self.connecting < self.a.max_conns:
            self.connecting += 1
            asyncio.get_running_loop().create_task(self.open_conn())
        else:
            self.errors["queued_at_cap"] += 1

    async def run(self) -> dict:
        a = self.a
        for _ in range(a.initial_conns):
            self.connecting += 1
            await self.open_conn()
        if self.conns == 0:
            raise SystemExit(f"cannot connect to 127.0.0.1:{a.port}")
        interval = 1e9 / a.rate
        warm = int(a.warmup * a.rate)
        self.total = warm + int(a.duration * a.rate)
        start = time.perf_counter_ns() + 10_000_000
        k = 0
        measure_start = start + warm * interval
        while k < self.total:
            now = time.perf_counter_ns()
            while k < self.total and start + k * interval <= now:
                self.dispatch(int(start + k * interval), k >= warm)
                k += 1
            if k < self.total:
                wait = (start + k * interval - time.perf_counter_ns()) / 1e9
                await asyncio.sleep(max(0.0, wait))
        send_end = time.perf_counter_ns()
        try:
            await asyncio.wait_for(self.all_done.wait(), timeout=a.drain_timeout)
        except asyncio.TimeoutError:
            self.errors["unanswered"] += self.total - self.done
        measured = self.total - warm
        # the rate actually written: measured requests over the span from the first measured due
        # time to the last measured write (queued requests written late stretch the span)
        elapsed = (max(send_end, self.last_write_ns) - measure_start) / 1e9
        lat = [x / 1e6 for x in self.lat_ns]
        lag = [x / 1e6 for x in self.lag_ns]
        return {
            "label": a.label, "target_rate": a.rate, "duration_s": a.duration,
            "sent": measured, "ok": len(lat),
            "achieved_rate": round(measured / elapsed, 1) if elapsed > 0 else 0.0,
            "answered_rate": round(len(lat) / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_ms": {"p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
                           "p999": pct(lat, 99.9), "max": max(lat) if lat else float("nan")},
            "send_lag_ms": {"p50": pct(lag, 50), "p99": pct(lag, 99), "max": max(lag) if lag else float("nan")},
            "peak_connections": self.peak_conns,
            "errors": dict(self.errors), "statuses": {str(k): v for k, v in self.statuses.items()},
        }


def main() -> None:
    ap = argparse.ArgumentParser(description="open-loop fixed-rate HTTP load (wrk2 stand-in)")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body", required=True, help="file with the JSON request body")
    ap.add_argument("--header", action="append", default=[], help="extra 'Name: value' header")
    ap.add_argument("--rate", type=float, default=1000.0, help="requests per second")
    ap.add_argument("--duration", type=float, default=15.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds sent at the rate before measuring")
    ap.add_argument("--initial-conns", type=int, default=8)
    ap.add_argument("--max-conns", type=int, default=256)
    ap.add_argument("--drain-timeout", type=float, default=10.0)
    ap.add_argument("--label", default="")
    ap.add_argument("--json", help="write the result here as JSON")
    a = ap.parse_args()
    res = asyncio.run(Client(a).run())
    if a.json:
        Path(a.json).write_text(json.dumps(res))
    L = res["latency_ms"]
    print(f"{a.label or 'fixed-rate'}: {res['ok']}/{res['sent']} ok at {res['achieved_rate']}/s "
          f"(target {a.rate:g}/s)  p50 {L['p50']:.3f} ms  p99 {L['p99']:.3f} ms  max {L['max']:.3f} ms  "
          f"conns {res['peak_connections']}  lag p99 {res['send_lag_ms']['p99']:.3f} ms  errors {res['errors']}")


if __name__ == "__main__":
    main()
