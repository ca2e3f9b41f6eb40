#!/usr/bin/env python3
"""Switchyard streaming benchmark (Python 3.11 stdlib only; see Benchmarks/README.md).

  (i)   added time to first byte: the same streaming request sent directly to the upstream and
        through the gateway, alternately, many sequential samples on keep-alive connections;
        median and p99 of each and of the difference.  Two requests: the small one and the
        Claude Code-sized fixture (the direct runs send the exact OpenAI body the gateway produced).
  (ii)  added time per chunk on a long stream (2000 chunks, 1 ms apart): the upstream stamps each
        chunk with its send time (CLOCK_MONOTONIC) inside the text, the client stamps arrivals;
        per-chunk latency direct vs through the gateway, median difference; plus gateway CPU/chunk.
  (iii) memory with 1,000 and 10,000 concurrent open streams, one chunk per second each: a fresh
        gateway per size, idle RSS before; the streams are opened (at most 256 waiting for their
        first event at a time) and all stay open until every one has its first event, then for
        --hold more seconds (20) while VmRSS is sampled every 200 ms; then the upstream ends them all
        (finish, usage, [DONE]) and every stream must complete.  Peak VmRSS / VmHWM, per-stream cost.

    python3 Benchmarks/stream_bench.py            # full run (about 1.5 minutes with a release build)
    python3 Benchmarks/stream_bench.py --smoke    # a few seconds; plumbing check only
    options: --only ttfb,chunks,memory  --samples N  --chunks N  --streams 1000,10000  --hold S
             --json FILE  --strict  --keep
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as B  # noqa: E402

MARK = re.compile(rb"t=(\d{19});i=(\d{6})")
BUDGET_TTFB_MS = 0.5
BUDGET_CHUNK_US = 20.0
BUDGET_10K_MB = 512.0
BUDGET_IDLE_MB = 30.0
FD_RESERVE = 128          # descriptors the gateway needs besides its client and upstream sockets


# --------------------------------------------------------------------------- measured client

class Sample:
    __slots__ = ("t0", "first_byte", "marks", "status", "body", "done_ns")

    def __init__(self):
        self.t0 = 0
        self.first_byte = 0
        self.marks: list[tuple[int, int, int]] = []      # (index, sent_ns, arrived_ns)
        self.status = 0
        self.body: list[bytes] = []
        self.done_ns = 0

    def text(self) -> bytes:
        return b"".join(self.body)


class TimedConn(asyncio.Protocol):
    """One keep-alive connection, one request at a time, every arrival timestamped."""

    def __init__(self):
        self.t = None
        self.s: Sample | None = None
        self.r: B.ResponseReader | None = None
        self.fut: asyncio.Future | None = None
        self.carry = b""
        self.now = 0

    def connection_made(self, transport):
        self.t = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        if self.fut and not self.fut.done():
            self.fut.set_exception(ConnectionError("connection closed mid-response"))

    def _on_body(self, data: bytes):
        s = self.s
        s.body.append(data)
        scan = self.carry + data
        last = 0
        for m in MARK.finditer(scan):
            s.marks.append((int(m.group(2)), int(m.group(1)), self.now))
            last = m.end()
        self.carry = scan[max(last, len(scan) - 40):]

    def data_received(self, data: bytes):
        self.now = now = time.monotonic_ns()
        s = self.s
        if s is None:
            return
        if not s.first_byte:
            s.first_byte = now
        self.r.feed(data)
        if self.r.status and not s.status:
            s.status = self.r.status
        if self.r.done:
            s.done_ns = now
            self.s = None
            if not self.fut.done():
                self.fut.set_result(s)

    async def request(self, req: bytes, timeout: float = 120.0) -> Sample:
        s = Sample()
        self.s, self.carry = s, b""
        self.r = B.ResponseReader(self._on_body)
        self.fut = asyncio.get_running_loop().create_future()
        s.t0 = time.monotonic_ns()
        self.t.write(req)
        return await asyncio.wait_for(self.fut, timeout)


async def connect(port: int) -> TimedConn:
    _, c = await asyncio.get_running_loop().create_connection(TimedConn, "127.0.0.1", port)
    return c


def check_stream(s: Sample, via_gateway: bool, n_chunks: int) -> str | None:
    """None when the response is a complete, well-formed stream with every chunk in order."""
    if s.status != 200:
        return f"HTTP {s.status}: {s.text()[:200]!r}"
    body = s.text()
    end = b"event: message_stop" if via_gateway else b"data: [DONE]"
    if end not in body:
        return f"stream did not end with {end.decode()!r}"
    idx = [m[0] for m in s.marks]
    if idx != list(range(n_chunks)):
        return f"got {len(idx)} of {n_chunks} chunk markers (or out of order)"
    return None


# --------------------------------------------------------------------------- (i) time to first byte

async def bench_ttfb(gw: B.Gateway, up: B.PyUpstream, direct_path: str, bodies: dict[str, bytes],
                     samples: dict[str, int], warmup: int) -> dict:
    out = {}
    gconn, dconn = await connect(gw.port), await connect(up.port)
    for name, anthropic_body in bodies.items():
        greq = B.build_post(gw.port, "/v1/messages", anthropic_body, {"anthropic-version": "2023-06-01"})
        s = await gconn.request(greq)                       # also makes the upstream record the body
        err = check_stream(s, True, 5)
        if err:
            raise RuntimeError(f"ttfb {name} via gateway: {err}")
        dreq = B.build_post(up.port, direct_path, up.last_request())
        s = await dconn.request(dreq)
        err = check_stream(s, False, 5)
        if err:
            raise RuntimeError(f"ttfb {name} direct: {err}")
        fb = {"direct": [], "gateway": []}
        fe = {"direct": [], "gateway": []}
        pair = []
        for i in range(warmup + samples[name]):
            res = {}
            for kind, conn, req in (("direct", dconn, dreq), ("gateway", gconn, greq)):
                s = await conn.request(req)
                err = check_stream(s, kind == "gateway", 5)
                if err:
                    raise RuntimeError(f"ttfb {name} {kind}: {err}")
                res[kind] = ((s.first_byte - s.t0) / 1e6, (s.marks[0][2] - s.t0) / 1e6)
            if i >= warmup:
                for kind in res:
                    fb[kind].append(res[kind][0])
                    fe[kind].append(res[kind][1])
                pair.append(res["gateway"][0] - res["direct"][0])
        out[name] = {
            "samples": samples[name], "request_bytes": len(anthropic_body), "upstream_bytes": len(dreq),
            "first_byte_ms": {k: {"p50": B.median(v), "p99": B.pct(v, 99)} for k, v in fb.items()},
            "first_text_ms": {k: {"p50": B.median(v), "p99": B.pct(v, 99)} for k, v in fe.items()},
            "paired_diff_ms": {"p50": B.median(pair), "p99": B.pct(pair, 99)},
        }
        o = out[name]
        o["added_first_byte_ms"] = {p: o["first_byte_ms"]["gateway"][p] - o["first_byte_ms"]["direct"][p] for p in ("p50", "p99")}
        o["added_first_text_ms"] = {p: o["first_text_ms"]["gateway"][p] - o["first_text_ms"]["direct"][p] for p in ("p50", "p99")}
    gconn.t.close()
    dconn.t.close()
    return out


# --------------------------------------------------------------------------- (ii) time per chunk

async def bench_chunks(gw: B.Gateway, up: B.PyUpstream, direct_path: str, body: bytes, n_chunks: int,
                       rounds: int) -> dict:
    gconn, dconn = await connect(gw.port), await connect(up.port)
    greq = B.build_post(gw.port, "/v1/messages", body, {"anthropic-version": "2023-06-01"})
    s = await gconn.request(greq)
    if (err := check_stream(s, True, n_chunks)):
        raise RuntimeError(f"chunks via gateway: {err}")
    dreq = B.build_post(up.port, direct_path, up.last_request())
    lat = {"direct": [], "gateway": []}
    cpu_s, gw_chunks, wall = 0.0, 0, {"direct": 0.0, "gateway": 0.0}
    for _ in range(rounds):
        for kind, conn, req in (("direct", dconn, dreq), ("gateway", gconn, greq)):
            c0 = gw.stats.cpu_seconds()
            s = await conn.request(req, timeout=n_chunks * 0.05 + 60)
            c1 = gw.stats.cpu_seconds()
            if (err := check_stream(s, kind == "gateway", n_chunks)):
                raise RuntimeError(f"chunks {kind}: {err}")
            lat[kind].extend((arr - sent) / 1e3 for _, sent, arr in s.marks)
            wall[kind] += (s.done_ns - s.t0) / 1e9
            if kind == "gateway":
                cpu_s += c1 - c0
                gw_chunks += n_chunks
    gconn.t.close()
    dconn.t.close()
    res = {"chunks_per_stream": n_chunks, "rounds": rounds,
           "latency_us": {k: {"p50": B.median(v), "p90": B.pct(v, 90), "p99": B.pct(v, 99)} for k, v in lat.items()},
           "stream_seconds": {k: v / rounds for k, v in wall.items()},
           "gateway_cpu_us_per_chunk": cpu_s * 1e6 / gw_chunks if gw_chunks else float("nan")}
    res["added_us"] = {p: res["latency_us"]["gateway"][p] - res["latency_us"]["direct"][p] for p in ("p50", "p90", "p99")}
    return res


# --------------------------------------------------------------------------- (iii) many open streams

class HoldConn(asyncio.Protocol):
    __slots__ = ("h", "t", "r", "first", "done", "carry", "holds_slot", "stopped", "errored")

    def __init__(self, h: "Holder"):
        self.h = h
        self.t = None
        self.r = B.ResponseReader(self._on_body)
        self.first = False
        self.done = False
        self.carry = b""
        self.holds_slot = True        # a ramp slot (semaphore) until the first event or the end
        self.stopped = False          # saw message_stop
        self.errored = False          # saw an SSE error event

    def connection_made(self, transport):
        self.t = transport
        transport.write(self.h.req)

    def _on_body(self, data: bytes):
        scan = self.carry + data
        if not self.first and b"event: message_start" in scan:
            self.first = True
            self.h.got_first(self)
        if not self.stopped and b"event: message_stop" in scan:
            self.stopped = True
        if not self.errored and b"event: error" in scan:
            i = scan.find(b"event: error")
            j = scan.find(b"\n\n", i)
            if j > 0:
                self.errored = True
                self.h.error_event(scan[i:j].decode("utf-8", "replace"))
        self.carry = scan[-400:]

    def data_received(self, data: bytes):
        self.r.feed(data)
        if self.r.status and self.r.status != 200 and not self.done:
            self.h.bad_status[self.r.status] = self.h.bad_status.get(self.r.status, 0) + 1
        if self.r.done and not self.done:
            self.done = True
            if self.r.status != 200:
                why = f"HTTP {self.r.status}"
            elif self.errored:
                why = "ended with an error event"
            elif not self.stopped:
                why = "ended without message_stop"
            else:
                why = None
            self.h.finished(self, ok=why is None, why=why)
            self.t.close()

    def connection_lost(self, exc):
        if not self.done:
            self.done = True
            self.h.finished(self, ok=False, why="connection closed by the gateway mid-stream"
                            + (" after an error event" if self.errored else "")
                            + ("" if self.first else " before the first event"))


class Holder:
    def __init__(self, port: int, body: bytes, n: int, pending_cap: int):
        self.port, self.n = port, n
        self.req = B.build_post(port, "/v1/messages", body, {"anthropic-version": "2023-06-01"})
        self.first_events = 0
        self.open = 0
        self.peak_open = 0
        self.completed = 0
        self.failed = 0
        self.error_events: dict[str, int] = {}
        self.fail_reasons: dict[str, int] = {}
        self.connect_errors = 0
        self.bad_status: dict[int, int] = {}
        self.sem = asyncio.Semaphore(pending_cap)
        self.all_first = asyncio.Event()
        self.all_done = asyncio.Event()
        self.conns: list[HoldConn] = []

    def error_event(self, text: str):
        msg = text.split("data:", 1)[-1].strip()[:160]
        self.error_events[msg] = self.error_events.get(msg, 0) + 1

    def release(self, c: HoldConn):
        if c.holds_slot:
            c.holds_slot = False
            self.sem.release()

    def got_first(self, c: HoldConn):
        self.first_events += 1
        self.open += 1
        self.peak_open = max(self.peak_open, self.open)
        self.release(c)
        if self.first_events == self.n:
            self.all_first.set()

    def finished(self, c: HoldConn, ok: bool, why: str | None = None):
        if c.first:
            self.open -= 1
        self.release(c)
        if why:
            self.fail_reasons[why] = self.fail_reasons.get(why, 0) + 1
        if ok and c.first:
            self.completed += 1
        else:
            self.failed += 1
        if self.completed + self.failed + self.connect_errors >= self.n:
            self.all_done.set()
            self.all_first.set()

    async def ramp(self) -> float:
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        for _ in range(self.n):
            await self.sem.acquire()
            try:
                _, c = await loop.create_connection(lambda: HoldConn(self), "127.0.0.1", self.port)
                self.conns.append(c)
            except OSError:
                self.connect_errors += 1
                self.sem.release()
        return time.monotonic() - t0


async def bench_memory(n: int, make_gateway, up: B.PyUpstream, body: bytes, hold: float) -> dict:
    gw: B.Gateway = make_gateway(f"gateway-{n}")
    try:
        await asyncio.sleep(1.0)
        idle = gw.stats.rss_mb()
        samples: list[tuple[float, float, int]] = []
        stop_sampling = asyncio.Event()

        async def sampler():
            while not stop_sampling.is_set():
                try:
                    samples.append((time.monotonic(), gw.stats.rss_mb(), gw.stats.fds()))
                except OSError:
                    break
                await asyncio.sleep(0.2)

        st = asyncio.get_running_loop().create_task(sampler())
        h = Holder(gw.port, body, n, pending_cap=256)
        t0 = time.monotonic()
        ramp_s = await h.ramp()
        try:
            await asyncio.wait_for(h.all_first.wait(), timeout=60 + n / 100)
        except asyncio.TimeoutError:
            pass
        t_all_first = time.monotonic() - t0
        await asyncio.sleep(hold)                    # every stream open: hold at the peak, keep sampling
        open_metric = gw.metric("switchyard_open_streams")
        up_open = up.stats_json()["streams_open"]
        peak_open_now = h.open
        peak_rss = max((r for _, r, _ in samples), default=float("nan"))
        peak_fds = max((f for _, _, f in samples), default=-1)
        hwm_at_peak = gw.stats.hwm_mb()
        B.http_call(up.port, "GET", "/_release")     # the upstream finishes every stream at its next chunk
        try:
            await asyncio.wait_for(h.all_done.wait(), timeout=30 + n / 500)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(1.0)
        after = gw.stats.rss_mb()
        stop_sampling.set()
        await st
        for c in h.conns:
            if c.t and not c.t.is_closing():
                c.t.close()
        return {
            "streams": n, "idle_rss_mb": idle, "peak_rss_mb": peak_rss,
            "peak_hwm_mb": max(hwm_at_peak, gw.stats.hwm_mb()), "rss_after_mb": after,
            "first_events": h.first_events, "peak_open_client": h.peak_open, "open_at_peak_client": peak_open_now,
            "open_streams_metric": open_metric, "upstream_open_at_peak": up_open,
            "completed": h.completed, "failed": h.failed, "connect_errors": h.connect_errors,
            "bad_status": h.bad_status, "error_events": h.error_events, "fail_reasons": h.fail_reasons, "ramp_s": ramp_s, "all_first_s": t_all_first, "peak_fds": peak_fds,
            "kb_per_stream": (max(peak_rss, hwm_at_peak) - idle) * 1024 / n if n else float("nan"),
        }
    finally:
        gw.stop()


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description="Switchyard streaming benchmark")
    ap.add_argument("--smoke", action="store_true", help="a few seconds per part; checks the plumbing only")
    ap.add_argument("--only", default="ttfb,chunks,memory", help="comma list of ttfb, chunks, memory")
    ap.add_argument("--samples", type=int, help="TTFB samples per target, small request (default 1000)")
    ap.add_argument("--large-samples", type=int, help="TTFB samples per target, Claude Code request (default 300)")
    ap.add_argument("--chunks", type=int, help="chunks in the long stream (default 2000)")
    ap.add_argument("--chunk-delay-us", type=int, default=1000, help="delay between chunks (default 1000 µs)")
    ap.add_argument("--rounds", type=int, help="long streams per target (default 3)")
    ap.add_argument("--streams", help="comma list of concurrent stream counts (default 1000,10000)")
    ap.add_argument("--hold", type=float, help="seconds all streams stay open after the last got its first event "
                                               "(default 20)")
    ap.add_argument("--json", help="also write all results here as JSON")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a budget is missed")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    a = ap.parse_args()
    smoke = a.smoke
    parts = set(a.only.split(","))
    samples = a.samples or (20 if smoke else 1000)
    large_samples = a.large_samples or (5 if smoke else 300)
    n_chunks = a.chunks or (200 if smoke else 2000)
    rounds = a.rounds or (1 if smoke else 3)
    streams = [int(x) for x in (a.streams or ("100,300" if smoke else "1000,10000")).split(",")]
    hold = a.hold if a.hold is not None else (2 if smoke else 20)

    binary = B.gateway_bin()
    nofile = B.raise_nofile(65536)
    B.exit_on_sigterm()
    wd = B.workdir("switchyard-stream-")
    if smoke:
        print(B.SMOKE_BANNER)
    print(f"binary: {binary}{'  (DEBUG BUILD: numbers are meaningless)' if B.is_debug_build(binary) else ''}")
    print(f"work dir: {wd}   cores: {os.cpu_count()}   nofile: {nofile}   load avg: "
          f"{open('/proc/loadavg').read().split()[:3]}", flush=True)

    # the gateway holds a client socket and an upstream socket per open stream
    max_streams = (nofile - FD_RESERVE) // 2
    notes: list[str] = []
    planned = []
    for n in streams:
        if n > max_streams:
            notes.append(f"{n:,} streams need ~{2 * n + FD_RESERVE:,} descriptors in the gateway but the fd "
                         f"limit is {nofile:,} (hard limit; raising it needs CAP_SYS_RESOURCE, e.g. "
                         f"`docker run --ulimit nofile=65536` or systemd LimitNOFILE=): ran {max_streams:,} "
                         f"instead and extrapolated linearly to {n:,}")
            planned.append((n, max_streams))
        else:
            planned.append((n, n))

    ttfb_path = "/p/n=5,d=0/v1"
    chunk_path = f"/p/n={n_chunks},d={a.chunk_delay_us}/v1"
    hold_path = "/p/n=900,d=1000000,h=1/v1"          # ≤ 15 min even if never released
    results: dict = {"smoke": smoke, "binary": binary, "notes": notes}
    failures: list[str] = []
    children: list[B.Child] = []
    up = None
    try:
        up = B.PyUpstream(wd)
        children.append(up)
        base = f"http://127.0.0.1:{up.port}"
        big_conns = max(max(n for _, n in planned) + 64, 256)
        cfg = B.gateway_config(
            {"ttfb": B.openai_provider(base + ttfb_path),
             "chunks": B.openai_provider(base + chunk_path),
             "hold": B.openai_provider(base + hold_path, max_connections=big_conns, connect_timeout="30s")},
            [{"name": "ttfb", "match": {"models": ["bench-ttfb"]}, "targets": [{"provider": "ttfb", "model": "bench-model"}]},
             {"name": "chunks", "match": {"models": ["bench-chunks"]}, "targets": [{"provider": "chunks", "model": "bench-model"}]},
             {"name": "hold", "match": {"models": ["*"]}, "targets": [{"provider": "hold", "model": "bench-model"}]}],
            wd, max_connections=big_conns + 64)

        small = json.loads((B.FIXTURES / "small-request.json").read_bytes())
        big = json.loads((B.FIXTURES / "claude-code-request.json").read_bytes())

        def body(base_req: dict, model: str) -> bytes:
            return json.dumps({**base_req, "stream": True, "model": model}, separators=(",", ":")).encode()

        if "ttfb" in parts or "chunks" in parts:
            gw = B.Gateway(cfg, wd)
            children.append(gw)
            if "ttfb" in parts:
                print(f"(i) time to first byte: {samples} + {large_samples} samples per target ...", flush=True)
                results["ttfb"] = asyncio.run(bench_ttfb(
                    gw, up, ttfb_path + "/chat/completions",
                    {"small-request": body(small, "bench-ttfb"), "claude-code-request": body(big, "bench-ttfb")},
                    {"small-request": samples, "claude-code-request": large_samples}, warmup=3 if smoke else 20))
            if "chunks" in parts:
                print(f"(ii) per-chunk latency: {rounds} x {n_chunks} chunks, {a.chunk_delay_us} µs apart, "
                      f"per target ...", flush=True)
                results["chunks"] = asyncio.run(bench_chunks(gw, up, chunk_path + "/chat/completions",
                                                             body(small, "bench-chunks"), n_chunks, rounds))
            gw.stop()
            children.remove(gw)

        if "memory" in parts:
            results["memory"] = []
            for n_req, n in planned:
                print(f"(iii) {n:,} concurrent open streams (one chunk per second; held {hold:g} s once all "
                      f"are open), fresh gateway ...", flush=True)

                def make(tag, _cfg=cfg):
                    return B.Gateway(_cfg, wd, tag)

                m = asyncio.run(bench_memory(n, make, up, body(small, "bench-hold"), hold))
                m["requested"] = n_req
                results["memory"].append(m)
                if m["first_events"] < n:
                    failures.append(f"{n:,} streams: only {m['first_events']:,} got their first event "
                                    f"(connect errors {m['connect_errors']}, statuses {m['bad_status']})")
                if m["completed"] < n:
                    why = "; ".join(f"{v} {k}" for k, v in m["fail_reasons"].items())
                    errs = "; ".join(f"{v} x {k}" for k, v in list(m["error_events"].items())[:3])
                    failures.append(f"{n:,} streams: only {m['completed']:,} ended with message_stop (failed "
                                    f"{m['failed']}: {why}{'; error events: ' + errs if errs else ''})")
                if m["peak_open_client"] < n and m["first_events"] == n:
                    failures.append(f"{n:,} streams: at most {m['peak_open_client']:,} were open at once "
                                    f"(some ended before the release)")
    except RuntimeError as e:
        failures.append(str(e))
    finally:
        for c in reversed(children):
            c.stop()

    # ------------------------------------------------------------------ report
    print()
    if smoke:
        print(B.SMOKE_BANNER)
    checks = []
    if "ttfb" in results:
        rows = []
        for name, o in results["ttfb"].items():
            for metric, key, add in (("first byte", "first_byte_ms", "added_first_byte_ms"),
                                     ("first text delta", "first_text_ms", "added_first_text_ms")):
                rows.append([f"{name} ({o['request_bytes'] // 1024} KB)", metric, o["samples"],
                             B.fmt_ms(o[key]["direct"]["p50"]), B.fmt_ms(o[key]["gateway"]["p50"]),
                             f"{o[add]['p50']:+.3f} ms",
                             B.fmt_ms(o[key]["direct"]["p99"]), B.fmt_ms(o[key]["gateway"]["p99"]),
                             f"{o[add]['p99']:+.3f} ms"])
        print(B.table(["(i) request", "until", "samples", "direct p50", "gateway p50", "added p50",
                       "direct p99", "gateway p99", "added p99"], rows,
                      title="(i) time to first byte, sequential, keep-alive (upstream sends head + first chunk at once)"))
        o = results["ttfb"]["small-request"]
        checks.append(["streaming: added time to first byte (median) ≤ 0.5 ms",
                       f"{o['added_first_byte_ms']['p50']:+.3f} ms", o["added_first_byte_ms"]["p50"] <= BUDGET_TTFB_MS])
        o = results["ttfb"]["claude-code-request"]
        checks.append(["  same, Claude Code-sized request (information)",
                       f"{o['added_first_byte_ms']['p50']:+.3f} ms", None])
        print()
    if "chunks" in results:
        c = results["chunks"]
        L = c["latency_us"]
        rows = [[k, B.fmt_us(L[k]["p50"]), B.fmt_us(L[k]["p90"]), B.fmt_us(L[k]["p99"]), f"{c['stream_seconds'][k]:.2f} s"]
                for k in ("direct", "gateway")]
        rows.append(["added (gateway - direct)", f"{c['added_us']['p50']:+.1f} µs", f"{c['added_us']['p90']:+.1f} µs",
                     f"{c['added_us']['p99']:+.1f} µs", ""])
        print(B.table(["(ii) per chunk", "p50", "p90", "p99", "stream time"], rows,
                      title=f"(ii) chunk delivery latency (upstream send → client arrival), {c['rounds']} x "
                            f"{c['chunks_per_stream']} chunks per target"))
        print(f"gateway CPU per streamed chunk: {c['gateway_cpu_us_per_chunk']:.1f} µs "
              f"(utime+stime over the gateway streams / chunks)")
        checks.append(["streaming: added time per chunk (median) ≤ 20 µs", f"{c['added_us']['p50']:+.1f} µs",
                       c["added_us"]["p50"] <= BUDGET_CHUNK_US])
        print()
    if "memory" in results:
        rows = []
        for m in results["memory"]:
            rows.append([f"{m['streams']:,}", f"{m['first_events']:,}", f"{m['completed']:,}", f"{m['peak_open_client']:,}",
                         "-" if m["open_streams_metric"] is None else f"{m['open_streams_metric']:,.0f}",
                         f"{m['idle_rss_mb']:.1f} MB", f"{m['peak_rss_mb']:.1f} MB", f"{m['peak_hwm_mb']:.1f} MB",
                         f"{m['kb_per_stream']:.1f} KB", f"{m['rss_after_mb']:.1f} MB", f"{m['ramp_s']:.1f} s",
                         m["peak_fds"]])
        print(B.table(["(iii) streams", "1st event", "completed", "open peak", "gw metric", "idle RSS", "peak RSS",
                       "VmHWM", "per stream", "RSS after", "ramp", "gw fds"], rows,
                      title="(iii) gateway memory with concurrent open streams (fresh gateway per row)"))
        for note in notes:
            print(f"NOTE: {note}")
        first = results["memory"][0]
        checks.append(["idle RSS ≤ 30 MB (fresh gateway)", f"{first['idle_rss_mb']:.1f} MB",
                       first["idle_rss_mb"] <= BUDGET_IDLE_MB])
        for m in results["memory"]:
            if m["requested"] == 10000 or (smoke and m is results["memory"][-1]):
                peak = max(m["peak_rss_mb"], m["peak_hwm_mb"])
                if m["streams"] != m["requested"]:
                    est = m["idle_rss_mb"] + (peak - m["idle_rss_mb"]) * m["requested"] / m["streams"]
                    checks.append([f"{m['requested']:,} open streams within 512 MB RSS (extrapolated from "
                                   f"{m['streams']:,})", f"{est:.1f} MB", est <= BUDGET_10K_MB])
                else:
                    checks.append([f"{m['requested']:,} open streams within 512 MB RSS", f"{peak:.1f} MB",
                                   peak <= BUDGET_10K_MB if m["requested"] == 10000 else None])
        print()
    if checks:
        print(B.table(["budget", "measured", "verdict"],
                      [[c[0], c[1], B.verdict(c[2], smoke) if c[2] is not None or smoke else "info"] for c in checks]))
    if B.report_results(results, checks, failures, a.json, wd, binary):
        return 1
    if a.keep:
        print(f"work dir kept: {wd}")
    else:
        shutil.rmtree(wd, ignore_errors=True)
    if a.strict and not smoke and any(c[2] is False for c in checks):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
