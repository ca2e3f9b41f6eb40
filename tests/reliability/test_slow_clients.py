"""Reliability rule 3: slow and vanishing clients.

* slowloris heads/bodies slower than server.read_timeout are cut off;
* a client that stops reading a long stream does not make the gateway's memory grow without bound,
  and other requests keep working meanwhile;
* a client that disconnects mid-request makes the gateway close its upstream connection promptly
  (and log error_type client_disconnected);
* past server.max_connections new connections get a quick 529 overloaded_error or are refused,
  instead of queueing forever.
"""
import concurrent.futures as cf
import json
import select
import socket
import threading
import time

import pytest

from conftest import base_config
import relkit as rk

READ_TIMEOUT_S = 2


def slow_config(mock, **server):
    cfg = base_config(mock, server={"read_timeout": f"{READ_TIMEOUT_S}s", **server})
    # long upstream timeouts: whatever closes the upstream connection here must be the client's doing
    cfg["providers"]["mock"]["timeouts"] = {"connect": "2s", "first_byte": "60s", "idle": "60s"}
    return cfg


def peer_closed(sock: socket.socket) -> bool:
    """True when the gateway closed/reset the connection or answered (data or EOF is readable)."""
    r, _, _ = select.select([sock], [], [], 0)
    if not r:
        return False
    try:
        sock.recv(65536, socket.MSG_PEEK)
    except OSError:
        return True
    return True


def trickle(port: int, data: bytes, interval: float, give_up: float) -> tuple[float | None, bytes]:
    """Send `data` one byte every `interval` s; return (seconds until the gateway cut us off or
    answered, what it sent) or (None, b"") if it still waited after `give_up` seconds."""
    sock = rk.connect(port)
    start = time.monotonic()
    try:
        for b in data:
            try:
                sock.sendall(bytes([b]))
            except OSError:
                return time.monotonic() - start, b""
            end = time.monotonic() + interval
            while time.monotonic() < end:
                r, _, _ = select.select([sock], [], [], max(0, end - time.monotonic()))
                if r:
                    try:
                        got = sock.recv(65536)
                    except OSError:
                        got = b""
                    return time.monotonic() - start, got
            if time.monotonic() - start > give_up:
                return None, b""
        # all sent: wait for the answer / close
        sock.settimeout(max(0.1, give_up - (time.monotonic() - start)))
        try:
            got = sock.recv(65536)
        except socket.timeout:
            return None, b""
        except OSError:
            got = b""
        return time.monotonic() - start, got
    finally:
        sock.close()


def assert_cut(result, label, bound):
    took, got = result
    print(f"\n{label}: cut off after {took}s, answer {got[:120]!r}")
    assert took is not None, f"{label}: the gateway was still waiting after {bound}s (read_timeout {READ_TIMEOUT_S}s)"
    assert took <= bound, f"{label}: cut off only after {took:.1f}s"
    if got:
        status = got.split(b" ", 2)[1] if got.startswith(b"HTTP/1.1 ") else b""
        assert status in (b"408", b"400", b"413", b"431"), f"{label}: answered {got[:200]!r} instead of cutting off"


# --------------------------------------------------------------------------- slowloris

HEAD = (b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-Padding: " + b"p" * 200 + b"\r\nContent-Length: 80\r\n\r\n")


def test_slowloris_head_total_time(mock, gateway_factory):
    """Each byte arrives well within read_timeout, but the head as a whole takes far longer: cut off."""
    gw = gateway_factory(slow_config(mock))
    bound = READ_TIMEOUT_S * 2 + 2
    assert_cut(trickle(gw.port, HEAD, 0.25, give_up=bound + 2), "head trickled at 4 bytes/s", bound)


def test_slowloris_head_gap_longer_than_read_timeout(mock, gateway_factory):
    gw = gateway_factory(slow_config(mock))
    bound = READ_TIMEOUT_S + 2
    assert_cut(trickle(gw.port, HEAD, READ_TIMEOUT_S + 1.5, give_up=bound + 2), "head bytes 3.5 s apart", bound)


def test_slowloris_body(mock, gateway_factory):
    """Head complete, body trickled: read_timeout covers the body too."""
    gw = gateway_factory(slow_config(mock))
    body = json.dumps(rk.messages_body("x" * 200)).encode()
    head = rk.build_request("POST", "/v1/messages", None, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    sock = rk.connect(gw.port)
    try:
        sock.sendall(head)
        bound = READ_TIMEOUT_S * 2 + 2
        took, got = trickle_on(sock, body, 0.25, bound + 2)
    finally:
        sock.close()
    assert_cut((took, got), "body trickled at 4 bytes/s", bound)


def trickle_on(sock, data, interval, give_up):
    start = time.monotonic()
    for b in data:
        try:
            sock.sendall(bytes([b]))
        except OSError:
            return time.monotonic() - start, b""
        r, _, _ = select.select([sock], [], [], interval)
        if r:
            try:
                return time.monotonic() - start, sock.recv(65536)
            except OSError:
                return time.monotonic() - start, b""
        if time.monotonic() - start > give_up:
            return None, b""
    return None, b""


def test_idle_connection_without_request(mock, gateway_factory):
    """A connection that never sends a byte is closed after read_timeout (not held for a minute)."""
    gw = gateway_factory(slow_config(mock))
    sock = rk.connect(gw.port)
    start = time.monotonic()
    try:
        closed = rk.wait_for(lambda: peer_closed(sock), READ_TIMEOUT_S + 4, 0.1)
    finally:
        sock.close()
    assert closed, f"a silent connection was still open {time.monotonic() - start:.1f}s after connect (read_timeout {READ_TIMEOUT_S}s)"


def test_slowloris_swarm_does_not_block_others(mock, gateway_factory):
    """50 slowloris connections open at once; normal requests are still served promptly."""
    gw = gateway_factory(slow_config(mock))
    socks = []
    try:
        for _ in range(50):
            s = rk.connect(gw.port)
            s.sendall(HEAD[:20])
            socks.append(s)
        for i in range(5):
            t = time.monotonic()
            out = rk.classify(rk.post_messages(gw.port, f"normal {i}", timeout=10), False)
            assert out.kind == "success", out
            assert time.monotonic() - t < 3
    finally:
        for s in socks:
            s.close()


# --------------------------------------------------------------------------- client stops reading

def test_client_stops_reading_long_stream(mock, gateway_factory):
    gw = gateway_factory(slow_config(mock))
    size = 1024 * 1024 * 1024  # a 1 GiB stream, 64 KiB deltas
    mock.script([{"match": {"last_user_contains": "ENDLESS"}, "times": 1,
                  "reply": {"type": "fault", "mode": "oversize_body", "size": size}}])
    # warm up so the baseline includes the pools and the first-request allocations
    for i in range(3):
        assert rk.classify(rk.post_messages(gw.port, f"warm {i}", stream=True, timeout=10), True).kind == "success"
    rss0 = rk.rss_kib(gw.proc.pid)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", gw.port))
    try:
        body = json.dumps(rk.messages_body("ENDLESS", stream=True)).encode()
        sock.sendall(rk.build_request("POST", "/v1/messages", body, {"Content-Type": "application/json"}))
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        # now stop reading entirely
        samples = []
        for _ in range(8):
            time.sleep(1)
            samples.append(rk.rss_kib(gw.proc.pid))
        # other requests keep working while the stuck stream is open
        t = time.monotonic()
        out = rk.classify(rk.post_messages(gw.port, "meanwhile", stream=True, timeout=10), True)
        assert out.kind == "success", out
        assert time.monotonic() - t < 5
        samples.append(rk.rss_kib(gw.proc.pid))
        upstream_reqs = [r for r in mock.requests() if "ENDLESS" in str(r["body"])]
        assert upstream_reqs, "the stream request never reached the upstream"
        # the stuck stream was paused, not dropped: reading again yields more of it
        got, deadline = 0, time.monotonic() + 3
        sock.settimeout(1)
        while got < 4 * 1024 * 1024 and time.monotonic() < deadline:
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                break
            got += len(chunk)
        assert got >= 4 * 1024 * 1024, f"after resuming, only {got} bytes of the long stream arrived"
    finally:
        sock.close()
    growth_mib = (max(samples) - rss0) / 1024
    print(f"\nRSS baseline {rss0 // 1024} MiB, samples while the client is stuck (MiB): {[s // 1024 for s in samples]}")
    # the mock produces ~1 GiB as fast as it can; a gateway that buffers for a stuck client grows by
    # hundreds of MiB within seconds. Generous bound: 128 MiB.
    assert growth_mib < 128, f"gateway RSS grew by {growth_mib:.0f} MiB while the client was not reading"
    late_growth = (samples[-1] - samples[2]) / 1024
    assert late_growth < 64, f"RSS still growing while the client is stuck: +{late_growth:.0f} MiB between s3 and s9"
    # after the client went away the gateway recovers
    out = rk.classify(rk.post_messages(gw.port, "after stuck client", timeout=10), False)
    assert out.kind == "success", out


# --------------------------------------------------------------------------- client disconnects

def upstream_conns(gw, mock):
    """ESTABLISHED connections from the gateway to the mock, and the mock's side of those
    (ESTABLISHED or CLOSE_WAIT, matched by the gateway's local port)."""
    gw_side = rk.tcp_connections(gw.proc.pid, remote_port=mock.port)
    ports = {c["local"] for c in gw_side} | getattr(gw, "_seen_upstream_ports", set())
    gw._seen_upstream_ports = ports
    mock_side = [c for c in rk.tcp_connections(mock.proc.pid, local_port=mock.port, states=("01", "08"))
                 if c["remote"] in ports]
    return gw_side, mock_side


def access_entries(gw, error_type=None):
    entries = [e for e in gw.access_log() if e.get("endpoint") != "health"]
    return [e for e in entries if error_type is None or e.get("error_type") == error_type]


@pytest.mark.parametrize("mode", ["stall_mid_stream", "stall_after_headers"])
def test_client_disconnect_mid_stream_closes_upstream(mode, mock, gateway_factory):
    gw = gateway_factory(slow_config(mock))
    mock.script([{"match": {"last_user_contains": "HANGUP"}, "times": 1, "reply": {"type": "fault", "mode": mode}}])
    sock = rk.connect(gw.port)
    body = json.dumps(rk.messages_body("HANGUP", stream=True)).encode()
    sock.sendall(rk.build_request("POST", "/v1/messages", body, {"Content-Type": "application/json"}))
    if mode == "stall_mid_stream":
        got = b""
        deadline = time.monotonic() + 5
        while b"content_block_delta" not in got and time.monotonic() < deadline:
            sock.settimeout(1)
            try:
                got += sock.recv(65536)
            except socket.timeout:
                pass
        assert b"content_block_delta" in got, f"the stream never started: {got[:300]!r}"
    else:
        assert rk.wait_for(lambda: [r for r in mock.requests() if "HANGUP" in str(r["body"])], 5), "request never reached the mock"
        time.sleep(0.5)
    gw_side, mock_side = upstream_conns(gw, mock)
    assert gw_side, "no upstream connection while the stream is stalled?"
    t0 = time.monotonic()
    sock.close()
    gone = rk.wait_for(lambda: not any(upstream_conns(gw, mock)), 5, 0.05)
    took = time.monotonic() - t0
    assert gone, (f"{mode}: 5 s after the client disconnected, the gateway still holds the upstream connection "
                  f"(gateway side {upstream_conns(gw, mock)[0]}, mock side {upstream_conns(gw, mock)[1]})")
    assert took < 2, f"upstream closed only {took:.1f}s after the client left"
    logged = rk.wait_for(lambda: access_entries(gw, "client_disconnected"), 3)
    assert logged, f"no access-log entry with error_type client_disconnected: {access_entries(gw)[-3:]}"
    out = rk.classify(rk.post_messages(gw.port, "after hangup", stream=True, timeout=10), True)
    assert out.kind == "success", out


def test_client_disconnect_non_stream_closes_upstream(mock, gateway_factory):
    """A non-stream request whose client leaves while the upstream is still working: cancel upstream."""
    gw = gateway_factory(slow_config(mock))
    mock.script([{"match": {"last_user_contains": "HANGUP"}, "times": 1, "reply": {"type": "fault", "mode": "stall_mid_stream"}}])
    sock = rk.connect(gw.port)
    body = json.dumps(rk.messages_body("HANGUP")).encode()
    sock.sendall(rk.build_request("POST", "/v1/messages", body, {"Content-Type": "application/json"}))
    assert rk.wait_for(lambda: [r for r in mock.requests() if "HANGUP" in str(r["body"])], 5)
    time.sleep(0.5)
    assert upstream_conns(gw, mock)[0]
    t0 = time.monotonic()
    sock.close()
    gone = rk.wait_for(lambda: not any(upstream_conns(gw, mock)), 5, 0.05)
    assert gone, f"5 s after a non-stream client disconnected the upstream connection is still open: {upstream_conns(gw, mock)}"
    assert time.monotonic() - t0 < 2


def test_many_clients_disconnect_mid_stream(mock, gateway_factory):
    """50 streams abandoned at once: every upstream connection is released, the gateway keeps serving."""
    gw = gateway_factory(slow_config(mock))
    mock.script([{"match": {"last_user_contains": "HANGUP"}, "times": -1, "reply": {"type": "fault", "mode": "stall_mid_stream"}}])
    socks = []
    for i in range(50):
        s = rk.connect(gw.port)
        s.sendall(rk.build_request("POST", "/v1/messages", json.dumps(rk.messages_body(f"HANGUP {i}", stream=True)).encode(),
                                   {"Content-Type": "application/json"}))
        socks.append(s)
    assert rk.wait_for(lambda: len(upstream_conns(gw, mock)[0]) >= 50, 10), f"only {len(upstream_conns(gw, mock)[0])} upstream streams"
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST some
        s.close()
    assert rk.wait_for(lambda: not any(upstream_conns(gw, mock)), 5), f"{len(upstream_conns(gw, mock)[0])} upstream connections left"
    assert rk.wait_for(lambda: len(access_entries(gw, "client_disconnected")) >= 50, 5), \
        f"{len(access_entries(gw, 'client_disconnected'))} client_disconnected log entries"
    out = rk.classify(rk.post_messages(gw.port, "after mass hangup", stream=True, timeout=10), True)
    assert out.kind == "success", out


# --------------------------------------------------------------------------- max_connections

def _flood_over_limit(gw, n=12):
    def extra(i):
        return rk.post_messages(gw.port, f"over the limit {i}", timeout=8)
    with cf.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(extra, range(n)))


def _assert_shed(results, label):
    summary = [(r.status, rk.error_type(r), r.error, round(r.elapsed, 2)) for r in results]
    print(f"\n{label}: over-limit answers: {summary}")
    for r in results:
        assert not r.timed_out, f"{label}: an over-limit connection was queued/hung for {r.elapsed:.1f}s: {summary}"
        assert r.elapsed < 3, f"{label}: over-limit answer took {r.elapsed:.1f}s: {summary}"
        if r.status is not None:
            assert r.status == 529 and rk.error_type(r) == "overloaded_error", \
                f"{label}: expected 529 overloaded_error or a refused connection, got {r.short(160)}; all: {summary}"
            assert not rk.envelope_problems(r), r.short()
        else:
            assert r.closed or r.error, r.short()


def _assert_capacity_returns(gw):
    def ok():
        return rk.classify(rk.post_messages(gw.port, "after the flood", timeout=5), False).kind == "success"
    assert rk.wait_for(ok, 10, 0.5), "requests fail after the held connections were released"
    assert gw.alive()


LIMIT = 8


def test_max_connections_inflight_requests(mock, gateway_factory):
    """max_connections requests in flight (upstream never answers): further requests get 529 at once."""
    gw = gateway_factory(slow_config(mock, max_connections=LIMIT, read_timeout="30s"))
    mock.script([{"match": {"last_user_contains": "HOLD"}, "times": -1, "reply": {"type": "fault", "mode": "stall_after_headers"}}])
    held = []
    try:
        for i in range(LIMIT):
            s = rk.connect(gw.port)
            s.sendall(rk.build_request("POST", "/v1/messages", json.dumps(rk.messages_body(f"HOLD {i}", stream=bool(i % 2))).encode(),
                                       {"Content-Type": "application/json"}))
            held.append(s)
        assert rk.wait_for(lambda: len([r for r in mock.requests() if "HOLD" in str(r["body"])]) >= LIMIT, 5)
        time.sleep(0.3)
        _assert_shed(_flood_over_limit(gw), f"{LIMIT} requests in flight")
    finally:
        for s in held:
            s.close()
    _assert_capacity_returns(gw)


def test_max_connections_open_connections(mock, gateway_factory):
    """server.max_connections counts open client connections (config.md): with the limit held by
    idle keep-alive connections plus a few in-flight requests, new connections get 529 or are refused."""
    gw = gateway_factory(slow_config(mock, max_connections=LIMIT, read_timeout="30s"))
    mock.script([{"match": {"last_user_contains": "HOLD"}, "times": -1, "reply": {"type": "fault", "mode": "stall_after_headers"}}])
    held = []
    try:
        for i in range(LIMIT):
            s = rk.connect(gw.port)
            if i % 2:
                s.sendall(rk.build_request("POST", "/v1/messages", json.dumps(rk.messages_body(f"HOLD {i}", stream=True)).encode(),
                                           {"Content-Type": "application/json"}))
            else:  # an idle keep-alive connection that already completed one request
                s.sendall(rk.build_request("POST", "/v1/messages", json.dumps(rk.messages_body(f"idle {i}")).encode(),
                                           {"Content-Type": "application/json"}))
                assert rk.read_response(s, 5).status == 200
            held.append(s)
        assert rk.wait_for(lambda: len([r for r in mock.requests() if "HOLD" in str(r["body"])]) >= LIMIT // 2, 5)
        time.sleep(0.3)
        _assert_shed(_flood_over_limit(gw), f"{LIMIT // 2} idle keep-alive + {LIMIT // 2} in-flight connections")
    finally:
        for s in held:
            s.close()
    _assert_capacity_returns(gw)
