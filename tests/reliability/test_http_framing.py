"""Reliability rule 2 (HTTP framing): hostile request heads and bodies over raw sockets.

Every case must end quickly with a 4xx Anthropic envelope (431 for oversized heads, 413 for big
bodies, 405/404 for wrong method/path) or a clean close of the connection — never a hang, a 5xx or
a success that ignores the limit — and the gateway keeps serving afterwards.
"""
import json
import socket
import threading
import time

import pytest

from conftest import base_config
import relkit as rk

MAX_BODY = 64 * 1024
MAX_HEADER = 16 * 1024
READ_TIMEOUT_S = 3
BOUND_S = READ_TIMEOUT_S + 4


@pytest.fixture
def gw(mock, gateway_factory):
    cfg = base_config(mock, server={"max_body_bytes": "64KiB", "max_header_bytes": "16KiB", "read_timeout": f"{READ_TIMEOUT_S}s"})
    g = gateway_factory(cfg)
    yield g
    assert g.alive(), "gateway died:\n" + g.stderr()[-3000:]
    out = rk.classify(rk.post_messages(g.port, "still alive?", timeout=10), False)
    assert out.kind == "success", f"gateway no longer serves normal requests: {out}"


def valid_body(text="hello") -> bytes:
    return json.dumps(rk.messages_body(text)).encode()


def exchange(port: int, raw: bytes, timeout: float = BOUND_S, then: bytes | None = None,
             background_send: bool = False) -> rk.RawResponse:
    """Send `raw` (optionally from a thread, so a server that answers early is heard) and read one answer."""
    sock = rk.connect(port)
    start = time.monotonic()
    send_err = []

    def send():
        try:
            sock.sendall(raw)
            if then:
                sock.sendall(then)
        except OSError as e:
            send_err.append(e)

    try:
        if background_send:
            t = threading.Thread(target=send, daemon=True)
            t.start()
        else:
            send()
        resp = rk.read_response(sock, timeout, "POST", start)
        if send_err and resp.error is None:
            resp.error = f"send: {send_err[0]}"
        return resp
    finally:
        sock.close()


def assert_rejected(resp: rk.RawResponse, label: str, statuses=None, allow_close=True):
    """A 4xx envelope (optionally one of `statuses`), or a clean close without an answer; never a hang."""
    assert not resp.timed_out, f"{label}: no answer and no close within {BOUND_S}s (hang): {resp.short()}"
    if resp.status is None:
        assert allow_close, f"{label}: connection closed without an answer: {resp.short()}"
        assert resp.closed or resp.error, resp.short()
        return
    assert 400 <= resp.status < 500, f"{label}: expected a 4xx, got {resp.short()}"
    probs = rk.envelope_problems(resp, statuses)
    assert not probs, f"{label}: {probs}: {resp.short()}"


def post_raw(path="/v1/messages", body=None, extra_headers=(), host=True) -> bytes:
    body = valid_body() if body is None else body
    hdrs = [("Content-Type", "application/json"), *extra_headers]
    return rk.build_request("POST", path, body, hdrs, host="127.0.0.1" if host else None)


# --------------------------------------------------------------------------- oversized heads

def test_sanity_normal_head_accepted(gw):
    resp = exchange(gw.port, post_raw(extra_headers=[("X-Pad", "p" * 4000)]))
    assert resp.status == 200, resp.short()


@pytest.mark.parametrize("size", [32 * 1024, 200 * 1024, 1024 * 1024])
def test_request_line_too_long(gw, size):
    resp = exchange(gw.port, post_raw(path="/v1/messages?pad=" + "a" * size), background_send=True)
    assert_rejected(resp, f"request line of {size} bytes", statuses=(431, 414, 400))


@pytest.mark.parametrize("size", [32 * 1024, 200 * 1024, 1024 * 1024])
def test_header_too_large(gw, size):
    resp = exchange(gw.port, post_raw(extra_headers=[("X-Big", "b" * size)]), background_send=True)
    assert_rejected(resp, f"one {size}-byte header (limit {MAX_HEADER})", statuses=(431, 400))


def test_too_many_headers(gw):
    headers = [(f"X-H-{i}", "v") for i in range(5000)]  # ~50 KiB of head, limit 16 KiB
    resp = exchange(gw.port, post_raw(extra_headers=headers), background_send=True)
    assert_rejected(resp, "5000 headers", statuses=(431, 400))


def test_many_small_headers_over_limit(gw):
    headers = [(f"X-H-{i}", "v" * 20) for i in range(1000)]  # ~30 KiB, each header small
    resp = exchange(gw.port, post_raw(extra_headers=headers), background_send=True)
    assert_rejected(resp, "1000 headers of 30 bytes (30 KiB head)", statuses=(431, 400))


# --------------------------------------------------------------------------- chunked framing

def chunked_head(extra=()):
    return rk.build_request("POST", "/v1/messages", None,
                            [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), *extra])


@pytest.mark.parametrize("line", [
    b"F" * 64 + b"\r\n",                       # size overflows 64 bits
    b"FFFFFFFFFFFFFFFF\r\n",                  # 2^64-1
    b"-5\r\n",
    b"zz\r\n",
    b"5;" + b"e" * 100_000 + b"\r\n",          # endless chunk extension
    b"5" * 5000,                               # size line that never ends
], ids=["overflow64", "u64max", "negative", "nonhex", "huge-extension", "no-crlf"])
def test_chunk_size_line_abuse(gw, line):
    resp = exchange(gw.port, chunked_head() + line + b"hello\r\n0\r\n\r\n", background_send=True)
    assert_rejected(resp, f"chunk size line {line[:20]!r}…", statuses=(400, 413))


def test_declared_chunk_larger_than_body_limit(gw):
    """A chunk declaring 1 MiB (limit 64 KiB), followed by 128 KiB of data: 413 reaches the client."""
    data = b"x" * (128 * 1024)
    resp = exchange(gw.port, chunked_head() + b"100000\r\n" + data, background_send=True)
    assert resp.status == 413, f"expected 413 for a 1 MiB chunk (limit 64 KiB): {resp.short()}"
    assert_rejected(resp, "1 MiB chunk", statuses=(413,), allow_close=False)
    assert rk.error_type(resp) == "request_too_large"


def test_declared_chunk_larger_than_limit_then_silence(gw):
    """Only the chunk header arrives; the client then goes quiet. Answer (413) or close, within read_timeout."""
    resp = exchange(gw.port, chunked_head() + b"100000\r\n" + b"x" * 10, timeout=BOUND_S)
    assert_rejected(resp, "1 MiB chunk declared then silence", statuses=(413, 408, 400))


def test_chunked_body_over_limit(gw):
    body = valid_body("y" * (200 * 1024))
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192]) for i in range(0, len(body), 8192))
    resp = exchange(gw.port, chunked_head() + chunks + b"0\r\n\r\n", background_send=True)
    assert resp.status == 413, f"chunked 200 KiB body (limit 64 KiB): {resp.short()}"
    assert_rejected(resp, "chunked body over limit", statuses=(413,), allow_close=False)


def test_chunked_body_under_limit_works(gw):
    body = valid_body("chunked ok")
    resp = exchange(gw.port, chunked_head() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert resp.status == 200, resp.short()


# --------------------------------------------------------------------------- Content-Length

@pytest.mark.parametrize("size", [MAX_BODY + 1, 1024 * 1024, 8 * 1024 * 1024])
def test_body_over_max_body_bytes_413_received(gw, size):
    """Content-Length over the limit, body actually sent: the client must read the 413 envelope
    (the gateway may close afterwards, but not reset the connection before the answer is read)."""
    body = valid_body("z" * size)
    resp = exchange(gw.port, post_raw(body=body), background_send=True, timeout=BOUND_S)
    assert resp.status == 413, f"body of {len(body)} bytes: {resp.short()}"
    assert_rejected(resp, "body over max_body_bytes", statuses=(413,), allow_close=False)
    assert rk.error_type(resp) == "request_too_large"


def test_content_length_over_limit_answered_without_body(gw):
    """Content-Length says 10 MiB, nothing follows: 413 at once, not after a read timeout."""
    raw = rk.build_request("POST", "/v1/messages", None, [("Content-Type", "application/json"), ("Content-Length", str(10 << 20))])
    resp = exchange(gw.port, raw, timeout=BOUND_S)
    assert resp.status == 413, resp.short()
    assert resp.elapsed < 2, f"413 only after {resp.elapsed:.1f}s"


def test_expect_continue_over_limit(gw):
    raw = rk.build_request("POST", "/v1/messages", None, [("Content-Type", "application/json"),
                                                         ("Content-Length", str(10 << 20)), ("Expect", "100-continue")])
    resp = exchange(gw.port, raw, timeout=BOUND_S)
    assert resp.status == 413, f"Expect: 100-continue with a 10 MiB body: {resp.short()}"


def test_body_exactly_at_limit_is_not_413(gw):
    text = "q" * (MAX_BODY - len(valid_body("")) )
    body = valid_body(text)
    assert len(body) == MAX_BODY
    resp = exchange(gw.port, post_raw(body=body))
    assert resp.status == 200, f"a body of exactly max_body_bytes was refused: {resp.short()}"


@pytest.mark.parametrize("cl", ["-1", "abc", "1e3", "99999999999999999999999", "5, 6", " "])
def test_bad_content_length(gw, cl):
    raw = rk.build_request("POST", "/v1/messages", valid_body(), [("Content-Type", "application/json"), ("Content-Length", cl)])
    resp = exchange(gw.port, raw)
    assert_rejected(resp, f"Content-Length {cl!r}", statuses=(400, 413))


def test_duplicate_conflicting_content_length(gw):
    body = valid_body()
    raw = rk.build_request("POST", "/v1/messages", body, [("Content-Type", "application/json"),
                                                          ("Content-Length", str(len(body))), ("Content-Length", "3")])
    assert_rejected(exchange(gw.port, raw), "two different Content-Length headers", statuses=(400,))


def test_content_length_and_transfer_encoding(gw):
    """CL + TE together (request smuggling shape): reject, or use chunked and close the connection.
    A smuggled request hidden after the chunked body must never be answered."""
    inner = valid_body("smuggle test")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)
    smuggled = b"GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = rk.build_request("POST", "/v1/messages", None, [("Content-Type", "application/json"),
                                                          ("Content-Length", "4"), ("Transfer-Encoding", "chunked")])
    sock = rk.connect(gw.port)
    try:
        sock.sendall(raw + chunked + smuggled)
        first = rk.read_response(sock, BOUND_S)
        second = rk.read_response(sock, 1.5)
    finally:
        sock.close()
    assert not first.timed_out, f"hang: {first.short()}"
    if first.status is not None and first.status < 400:
        # RFC 9112 §6.1: TE overrides CL, and the server must close the connection after responding
        assert second.status is None, f"after a CL+TE request the connection stayed open and answered {second.short()}"
    else:
        assert_rejected(first, "Content-Length + Transfer-Encoding", statuses=(400,))
    assert second.status is None or b"smuggled" not in second.body, f"smuggled request was served: {second.short()}"


def test_unsupported_transfer_encoding(gw):
    raw = rk.build_request("POST", "/v1/messages", valid_body(), [("Content-Type", "application/json"),
                                                                  ("Transfer-Encoding", "gzip, chunked, identity")], content_length=False)
    resp = exchange(gw.port, raw)
    assert_rejected(resp, "Transfer-Encoding gzip, chunked, identity", statuses=(400, 501))


# --------------------------------------------------------------------------- head oddities

def test_missing_host(gw):
    """HTTP/1.1 without Host: 400 in the envelope (RFC 9112 §3.2), never served, never 5xx / hang."""
    resp = exchange(gw.port, post_raw(host=False))
    assert not resp.timed_out, resp.short()
    assert_rejected(resp, "missing Host", statuses=(400,), allow_close=False)


@pytest.mark.parametrize("raw", [
    b"HELLO\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nBad Header Without Colon\r\n\r\n{}",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n Folded: continuation\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/messages HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),   # a TLS ClientHello
    bytes(range(256)) * 4,
], ids=["no-target", "no-version", "http9.9", "no-colon", "folded", "nul-in-header", "bare-lf", "tls-hello", "binary"])
def test_garbage_request_heads(gw, raw):
    resp = exchange(gw.port, raw)
    assert not resp.timed_out, f"hang on {raw[:30]!r}: {resp.short()}"
    if resp.status is not None and resp.status >= 400:
        assert resp.status < 500, f"{raw[:30]!r}: {resp.short()}"
        # a parse error before any request exists: an envelope is wanted, a bare 400 + close tolerated
        # only for bytes that are not HTTP at all
        if raw.startswith((b"POST", b"GET / HTTP/9.9")):
            assert not rk.envelope_problems(resp), f"{raw[:30]!r}: non-envelope error {resp.short()}"


@pytest.mark.parametrize("value", ["a\x01b", "1999-99-99\x7f", "x\x00y"])
def test_invalid_header_value_bytes(gw, value):
    """Control bytes / DEL in a header value (invalid per RFC 9110): a 4xx envelope (or close), not a bare 400."""
    raw = post_raw(extra_headers=[("anthropic-version", value.encode("latin-1"))])
    assert_rejected(exchange(gw.port, raw), f"header value {value!r}", statuses=(400,))


def test_obs_text_header_value(gw):
    """obs-text (0x80-0xFF) is legal in a field value: served, or a 4xx envelope."""
    resp = exchange(gw.port, post_raw(extra_headers=[("anthropic-version", b"\xff\xfe")]))
    if resp.status != 200:
        assert_rejected(resp, "obs-text header value", statuses=(400,))


# --------------------------------------------------------------------------- method and path

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/anthropic/v1/messages"])
def test_wrong_method_405(gw, method, path):
    resp = rk.request(gw.port, method, path, timeout=BOUND_S)
    assert resp.status == 405, f"{method} {path}: {resp.short()}"
    assert not rk.envelope_problems(resp, (405,)), resp.short()


@pytest.mark.parametrize("method,path", [
    ("POST", "/v2/messages"), ("GET", "/v1/nothing"), ("POST", "/api/event_logging/batch"),
    ("POST", "/v1/messages/extra"), ("GET", "/" + "a" * 2000), ("POST", "/v1/chat/completionsX"),
])
def test_unknown_path_404(gw, method, path):
    body = valid_body() if method == "POST" else None
    resp = rk.request(gw.port, method, path, body=body, timeout=BOUND_S)
    assert resp.status == 404, f"{method} {path[:40]}: {resp.short()}"
    assert not rk.envelope_problems(resp, (404,)), resp.short()
    assert len(resp.body) < 4096


# --------------------------------------------------------------------------- connection reuse

def test_keepalive_after_stream(gw, mock):
    """After a complete streamed answer the connection is either kept usable or the answer says
    `Connection: close`; closing it silently makes the client's next request fail."""
    sock = rk.connect(gw.port)
    try:
        body = json.dumps(rk.messages_body("stream then reuse", stream=True)).encode()
        sock.sendall(rk.build_request("POST", "/v1/messages", body, {"Content-Type": "application/json"}))
        first = rk.read_response(sock, 10)
        assert first.status == 200 and first.complete, first.short()
        if first.headers.get("connection", "").lower() == "close":
            return
        time.sleep(0.3)
        try:
            sock.sendall(rk.build_request("POST", "/v1/messages", valid_body("second"), {"Content-Type": "application/json"}))
            second = rk.read_response(sock, 10)
        except OSError as e:
            second = rk.RawResponse(error=str(e))
    finally:
        sock.close()
    assert second.status == 200, ("the gateway closed the keep-alive connection after a streamed response "
                                  f"without sending `Connection: close`; the next request got {second.short()}")


def test_pipelined_requests(gw):
    raw = post_raw(body=valid_body("one")) + post_raw(body=valid_body("two"))
    sock = rk.connect(gw.port)
    try:
        sock.sendall(raw)
        a = rk.read_response(sock, BOUND_S)
        b = rk.read_response(sock, BOUND_S)
    finally:
        sock.close()
    assert a.status == 200 and b.status == 200, (a.short(), b.short())
