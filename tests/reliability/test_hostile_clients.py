"""Hardening against hostile clients, client side: a gateway in tokens mode (users with
token_sha256) in front of the mock upstream.

1. authentication happens before the body is read: a 401 arrives for a request whose body never
   comes (Content-Length or chunked), and the connection is then closed;
2. unauthenticated requests with huge bodies of tiny content blocks do not blow up memory (peak RSS);
3. a declared body over server.max_body_bytes gets 413 + close, and a client that keeps writing is cut off;
4. Transfer-Encoding other than a single final `chunked` is refused (400/501 envelope + close);
5. duplicate Host, HTTP/1.1 without Host: 400 envelope; HTTP/1.0 without Host is served;
6. max_tokens must be a plain positive integer (1.5, 1.0, 1e3, 0.000… are 400 naming max_tokens);
7. verbose logging never logs the body of an unauthenticated request, and never leaks a token or an
   upstream key cut in half by the verbose body limit;
8. providers.P.headers values are secrets (never relayed from upstream errors, never logged);
9. /v1/models lists only the routes a user may use; display_name hides the upstream by default;
10. a request larger than a user's whole tpm limit is refused at once (429, x-should-retry: false).

Resource bounds only; time limits are socket timeouts that turn a hang into a failure.
"""
import hashlib
import json
import socket
import threading
import time

import pytest

from conftest import UPSTREAM_KEY, base_config, register_secret
import relkit as rk

ALICE = register_secret("sk-hc-alice-" + "6b1f0e9d2c7a4e38")
BOB = register_secret("sk-hc-bob-" + "0d7e3a9c5b1f8e24")
WRONG = "sk-hc-wrong-" + "ffffeeee00001111"
HDR_SECRET = register_secret("hdr-secret-" + "value-9c1d")

SOCKET_TIMEOUT = 10


def sha(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()


def users(alice_extra: dict | None = None, bob_extra: dict | None = None) -> list[dict]:
    return [{"name": "alice", "token_sha256": sha(ALICE), **(alice_extra or {})},
            {"name": "bob", "token_sha256": sha(BOB), **(bob_extra or {})}]


def tokens_config(mock, server: dict | None = None, logging: dict | None = None, **overrides) -> dict:
    cfg = base_config(mock, auth={"mode": "tokens"}, users=users(),
                      server={"read_timeout": "30s", **(server or {})}, **overrides)
    if logging:
        cfg["logging"] = logging
    return cfg


def valid_body(text: str = "hello", **extra) -> bytes:
    return json.dumps(rk.messages_body(text, **extra)).encode()


def wait_closed(sock: socket.socket, timeout: float = SOCKET_TIMEOUT) -> str:
    """After an answer was read: 'eof' / 'reset' when the gateway closed the connection, 'open' when
    nothing came within `timeout`, or 'data: …' when more bytes came."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        return "reset"
    except OSError as e:
        return f"error {e}"
    return "eof" if not data else f"data: {data[:100]!r}"


def closed_after(resp: rk.RawResponse, sock: socket.socket) -> str:
    if resp.closed:
        return "reset" if resp.reset else "eof"
    return wait_closed(sock)


def head(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def assert_envelope(resp: rk.RawResponse, statuses: tuple, label: str, error_type: str | None = None):
    assert not resp.timed_out, f"{label}: no answer within {SOCKET_TIMEOUT}s: {resp.short()}"
    assert resp.status in statuses, f"{label}: expected {statuses}, got {resp.short()}"
    probs = rk.envelope_problems(resp, statuses)
    assert not probs, f"{label}: {probs}: {resp.short()}"
    if error_type:
        assert rk.error_type(resp) == error_type, f"{label}: {resp.short()}"


def output_text(gw) -> str:
    time.sleep(0.3)  # let the access-log line land
    return gw.stdout_path.read_text(errors="replace") + gw.stderr_path.read_text(errors="replace")


# --------------------------------------------------------------------------- 1. auth before the body

AUTH_HEADERS = {"no-token": [], "wrong-token": [f"x-api-key: {WRONG}"]}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("who", sorted(AUTH_HEADERS))
def test_401_arrives_before_the_body_and_the_connection_closes(who, framing, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    framing_header = "Content-Length: 20000000" if framing == "content-length" else "Transfer-Encoding: chunked"
    raw = head(["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                "anthropic-version: 2023-06-01", *AUTH_HEADERS[who], framing_header])
    sock = rk.connect(gw.port, timeout=SOCKET_TIMEOUT)
    try:
        sock.sendall(raw)  # ... and no body, ever
        resp = rk.read_response(sock, SOCKET_TIMEOUT)
        assert not resp.timed_out, (f"{who}/{framing}: no answer within {SOCKET_TIMEOUT}s while the body is missing "
                                    f"(the gateway waits for the body before authenticating): {resp.short()}")
        assert_envelope(resp, (401,), f"{who}/{framing}", "authentication_error")
        state = closed_after(resp, sock)
    finally:
        sock.close()
    assert state in ("eof", "reset"), f"{who}/{framing}: after the 401 the connection was not closed: {state}"
    assert gw.alive()
    assert mock.requests() == []


# --------------------------------------------------------------------------- 2. huge bodies, no auth

def _tiny_blocks_body(size: int) -> bytes:
    block = b'{"type":"text","text":"a"}'
    prefix = b'{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":['
    suffix = b"]}]}"
    n = (size - len(prefix) - len(suffix)) // (len(block) + 1)
    return prefix + b",".join([block] * n) + suffix


def _vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def test_unauthenticated_huge_bodies_of_tiny_blocks_stay_within_memory(mock, gateway_factory):
    body = _tiny_blocks_body(31 * 1024 * 1024)
    assert body.count(b'"type":"text"') > 1_100_000
    gw = gateway_factory(tokens_config(mock))
    raw = rk.build_request("POST", "/v1/messages", body, [("Content-Type", "application/json"),
                                                         ("anthropic-version", "2023-06-01")])
    results: list = [None] * 4

    def one(i: int):
        sock = rk.connect(gw.port, timeout=SOCKET_TIMEOUT)
        send_err = []

        def send():
            try:
                sock.sendall(raw)
            except OSError as e:  # the gateway may answer 401 and close before reading it all
                send_err.append(e)

        t = threading.Thread(target=send, daemon=True)
        t.start()
        try:
            results[i] = rk.read_response(sock, 60)
        finally:
            t.join(30)
            sock.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert gw.alive(), "gateway died:\n" + gw.stderr()[-2000:]
    peak_mb = _vm_hwm_kib(gw.proc.pid) / 1024
    print(f"peak RSS {peak_mb:.0f} MB; answers: {[r.status if r else None for r in results]}")
    for i, r in enumerate(results):
        assert r is not None, f"request {i}: no result (thread hung)"
        assert_envelope(r, (401,), f"31 MiB unauthenticated body #{i}", "authentication_error")
    assert peak_mb < 300, f"peak RSS (VmHWM) {peak_mb:.0f} MB for 4 unauthenticated 31 MiB bodies (bound 300 MB)"
    assert mock.requests() == []


# --------------------------------------------------------------------------- 3. 413 and keep writing

def test_413_then_close_cuts_off_a_client_that_keeps_writing(mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock, server={"max_body_bytes": "1MiB"}))
    raw = head(["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                f"x-api-key: {ALICE}", "Content-Length: 1000000000"])
    limit = 300 * 1024 * 1024
    chunk = b"x" * (1 << 20)
    sent = {"bytes": 0, "error": None}
    sock = rk.connect(gw.port, timeout=SOCKET_TIMEOUT)

    def writer():
        try:
            sock.sendall(raw)
            while sent["bytes"] < limit:
                sock.sendall(chunk)
                sent["bytes"] += len(chunk)
        except OSError as e:
            sent["error"] = e

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        resp = rk.read_response(sock, 30)
        t.join(30)
        state = closed_after(resp, sock) if resp.status is not None else "n/a"
    finally:
        sock.close()
        t.join(5)
    print(f"413 test: {resp.short(120)}; written {sent['bytes'] >> 20} MiB; writer error {sent['error']!r}; close {state}")
    assert_envelope(resp, (413,), "Content-Length 1e9 over max_body_bytes 1MiB", "request_too_large")
    err = sent["error"]
    assert err is not None, f"the client wrote {sent['bytes'] >> 20} MiB without being cut off"
    assert not isinstance(err, socket.timeout), (f"the gateway stopped reading but kept the connection open "
                                                 f"(send timed out after {sent['bytes'] >> 20} MiB)")
    assert isinstance(err, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)), repr(err)
    assert sent["bytes"] < limit, f"{sent['bytes'] >> 20} MiB written before the cut-off"
    assert state in ("eof", "reset", "n/a"), f"connection not closed after the 413: {state}"
    assert gw.alive()


# --------------------------------------------------------------------------- 4. Transfer-Encoding

def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


TE_CASES = {
    "gzip, chunked": lambda b: _chunked(b),
    "gzip": lambda b: b,
    "chunked, chunked": lambda b: _chunked(b),
    "chunked, gzip": lambda b: _chunked(b),
    "identity": lambda b: b,
}


@pytest.mark.parametrize("te", list(TE_CASES))
def test_unsupported_transfer_encoding_is_refused_and_closed(te, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    body = valid_body("te test")
    raw = head(["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                f"x-api-key: {ALICE}", f"Transfer-Encoding: {te}"]) + TE_CASES[te](body)
    sock = rk.connect(gw.port, timeout=SOCKET_TIMEOUT)
    try:
        sock.sendall(raw)
        resp = rk.read_response(sock, SOCKET_TIMEOUT)
        state = closed_after(resp, sock) if resp.status is not None else "n/a"
    finally:
        sock.close()
    print(f"TE {te}: {resp.short(200)}; close {state}")
    assert resp.status != 200, f"Transfer-Encoding: {te} was served: {resp.short()}"
    assert_envelope(resp, (400, 501), f"Transfer-Encoding: {te}")
    assert state in ("eof", "reset"), f"Transfer-Encoding: {te}: connection not closed after the error: {state}"
    assert mock.requests() == []
    assert gw.alive()


# --------------------------------------------------------------------------- 5. Host

def _exchange(port: int, raw: bytes, timeout: float = SOCKET_TIMEOUT) -> rk.RawResponse:
    sock = rk.connect(port, timeout=timeout)
    try:
        sock.sendall(raw)
        return rk.read_response(sock, timeout)
    finally:
        sock.close()


def _request_with_hosts(version: str, hosts: list[str]) -> bytes:
    body = valid_body("host test")
    return head([f"POST /v1/messages {version}", *[f"Host: {h}" for h in hosts], "Content-Type: application/json",
                 f"x-api-key: {ALICE}", f"Content-Length: {len(body)}"]) + body


@pytest.mark.parametrize("hosts", [["127.0.0.1", "evil.example"], ["127.0.0.1", "127.0.0.1"]],
                         ids=["different", "same"])
def test_two_host_headers_are_400(hosts, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    resp = _exchange(gw.port, _request_with_hosts("HTTP/1.1", hosts))
    assert_envelope(resp, (400,), f"two Host headers {hosts}")
    assert mock.requests() == []


def test_http11_without_host_is_400(mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    resp = _exchange(gw.port, _request_with_hosts("HTTP/1.1", []))
    assert_envelope(resp, (400,), "HTTP/1.1 without Host")
    assert mock.requests() == []


def test_http10_without_host_is_served(mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    resp = _exchange(gw.port, _request_with_hosts("HTTP/1.0", []))
    out = rk.classify(resp, False)
    assert out.kind == "success", f"HTTP/1.0 without Host: {out.detail}"


# --------------------------------------------------------------------------- 6. max_tokens forms

@pytest.mark.parametrize("literal", ["1.5", "0.0", "1.0", "1e3", "1E3", "1000.0", "0." + "0" * 5000],
                         ids=["1.5", "0.0", "1.0", "1e3", "1E3", "1000.0", "0.000…(5000)"])
def test_max_tokens_must_be_a_plain_integer(literal, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    body = (b'{"model":"claude-sonnet-4-5","max_tokens":' + literal.encode()
            + b',"messages":[{"role":"user","content":"hi"}]}')
    resp = rk.request(gw.port, "POST", "/v1/messages", body, headers={"x-api-key": ALICE}, timeout=SOCKET_TIMEOUT)
    assert_envelope(resp, (400,), f"max_tokens {literal[:10]}", "invalid_request_error")
    assert "max_tokens" in json.loads(resp.body)["error"]["message"], resp.short()
    assert mock.requests() == []


def test_max_tokens_integer_is_served(mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    body = b'{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}'
    resp = rk.request(gw.port, "POST", "/v1/messages", body, headers={"x-api-key": ALICE}, timeout=SOCKET_TIMEOUT)
    assert resp.status == 200, resp.short()


# --------------------------------------------------------------------------- 7. verbose logging

VERBOSE = {"level": "debug", "verbose": True}


@pytest.mark.parametrize("who", ["no-token", "wrong-token"])
def test_verbose_log_has_no_body_of_an_unauthenticated_request(who, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock, logging=VERBOSE))
    marker = "unauth-body-marker-" + "5d1e77" + who
    headers = {"x-api-key": WRONG} if who == "wrong-token" else {}
    for stream in (False, True):
        resp = rk.post_messages(gw.port, f"please log {marker} here", stream=stream, headers=headers, timeout=SOCKET_TIMEOUT)
        assert_envelope(resp, (401,), who, "authentication_error")
    text = output_text(gw)
    assert marker not in text, f"{who}: the body of an unauthenticated request was logged: " + next(
        l for l in text.splitlines() if marker in l)[:300]
    assert WRONG not in text


CUT_RANGE = range(3900, 4101, 3)


@pytest.mark.parametrize("secret_name", ["own-token", "upstream-key"])
def test_verbose_body_cut_never_leaves_part_of_a_secret(secret_name, mock, gateway_factory):
    """The verbose body limit cuts at ~4096 characters; a secret straddling the cut must not leave
    its first characters in the log (redact, then cut — or redact the cut tail)."""
    gw = gateway_factory(tokens_config(mock, logging=VERBOSE))
    secret = ALICE if secret_name == "own-token" else UPSTREAM_KEY
    for k in CUT_RANGE:
        text = "a" * k + secret + "b" * 50
        resp = rk.post_messages(gw.port, text, headers={"x-api-key": ALICE}, timeout=SOCKET_TIMEOUT)
        assert resp.status == 200, f"k={k}: {resp.short()}"
    out = output_text(gw)
    assert "a" * 200 in out, "no verbose request body in the log at all: the test would prove nothing"
    for piece in (secret, secret[:8]):
        hits = [l for l in out.splitlines() if piece in l]
        assert not hits, (f"{secret_name}: {piece!r} appears in gateway output "
                          f"({len(hits)} lines), e.g. …{hits[0][hits[0].index(piece) - 60:hits[0].index(piece) + 40]}…")


# --------------------------------------------------------------------------- 8. provider header secrets

@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_provider_header_values_are_secrets(stream, mock, gateway_factory):
    cfg = tokens_config(mock, logging=VERBOSE)
    cfg["providers"]["mock"]["headers"] = {"X-Custom-Auth": HDR_SECRET}
    gw = gateway_factory(cfg)
    msg = f"invalid header X-Custom-Auth: {HDR_SECRET} is not accepted"
    mock.script([{"match": {"last_user_contains": "HDR"}, "times": 1,
                  "reply": {"type": "error", "status": 400,
                            "body": {"error": {"code": 400, "message": msg, "metadata": {"raw": msg}}}}}])
    resp = rk.post_messages(gw.port, "HDR", stream=stream, headers={"x-api-key": ALICE}, timeout=SOCKET_TIMEOUT)
    assert resp.status is not None and (resp.status >= 400 or stream), resp.short()
    reqs = mock.requests()
    assert reqs and reqs[-1]["headers"].get("x-custom-auth") == HDR_SECRET, "the header was not sent upstream"
    raw = resp.raw_head + resp.body
    assert HDR_SECRET.encode() not in raw, f"the provider header value was relayed to the client: {raw[:600]!r}"
    out = output_text(gw)
    hits = [l for l in out.splitlines() if HDR_SECRET in l]
    assert not hits, f"the provider header value is in gateway output: {hits[0][:300]}"


# --------------------------------------------------------------------------- 9. /v1/models allow-list

def models_config(mock, show_targets: bool | None = None) -> dict:
    routes = [
        {"name": "a", "match": {"models": ["claude-sonnet-4-5"]}, "targets": [{"provider": "mock", "model": "vendor/gpt-oss-sonnet"}]},
        {"name": "b", "match": {"models": ["claude-opus-4-1"]}, "targets": [{"provider": "mock", "model": "vendor/gpt-oss-opus"}]},
    ]
    server = {"models_show_targets": show_targets} if show_targets is not None else {}
    return base_config(mock, auth={"mode": "tokens"}, users=users(alice_extra={"routes": ["a"]}), routes=routes,
                       server={"read_timeout": "30s", **server})


def get(gw, path: str, token: str, anthropic: bool = True) -> rk.RawResponse:
    headers = {"x-api-key": token, "anthropic-version": "2023-06-01"} if anthropic else {"Authorization": f"Bearer {token}"}
    return rk.request(gw.port, "GET", path, headers=headers, timeout=SOCKET_TIMEOUT)


def model_ids(resp: rk.RawResponse) -> list[str]:
    assert resp.status == 200, resp.short()
    return sorted(m["id"] for m in resp.json()["data"])


def assert_lists(gw, anthropic: bool = True):
    alice = model_ids(get(gw, "/v1/models", ALICE, anthropic))
    assert alice == ["claude-sonnet-4-5"], f"alice (routes: [a]) is listed {alice}: models of routes she may not use"
    bob = model_ids(get(gw, "/v1/models", BOB, anthropic))
    assert bob == ["claude-opus-4-1", "claude-sonnet-4-5"], f"bob (no allow-list) is listed {bob}"


def test_models_list_respects_the_route_allow_list(mock, gateway_factory):
    gw = gateway_factory(models_config(mock))
    assert_lists(gw)
    resp = get(gw, "/v1/models/claude-opus-4-1", ALICE)
    assert_envelope(resp, (404,), "alice GET /v1/models/claude-opus-4-1", "not_found_error")
    assert get(gw, "/v1/models/claude-sonnet-4-5", ALICE).status == 200
    assert get(gw, "/v1/models/claude-opus-4-1", BOB).status == 200


def test_models_list_openai_shape_respects_the_route_allow_list(mock, gateway_factory):
    gw = gateway_factory(models_config(mock))
    assert_lists(gw, anthropic=False)


def test_models_display_name_hides_the_upstream_by_default(mock, gateway_factory):
    gw = gateway_factory(models_config(mock))
    entries = get(gw, "/v1/models", BOB).json()["data"]
    entries += [get(gw, f"/v1/models/{m}", BOB).json() for m in ("claude-sonnet-4-5", "claude-opus-4-1")]
    for e in entries:
        name = e.get("display_name", "")
        for leak in ("mock", "gpt-oss", "vendor", "/"):
            assert leak not in name, f"display_name {name!r} reveals the upstream ({leak!r})"


def test_models_show_targets_is_accepted_and_keeps_the_allow_list(mock, gateway_factory):
    gw = gateway_factory(models_config(mock, show_targets=True))
    assert_lists(gw)


# --------------------------------------------------------------------------- 10. tpm larger than the limit

def test_request_larger_than_the_whole_tpm_limit_is_refused(mock, gateway_factory):
    cfg = tokens_config(mock)
    cfg["users"] = users(alice_extra={"limits": {"tpm": 100}})
    gw = gateway_factory(cfg)
    big = "lorem ipsum dolor sit amet " * 15000  # ~400 KB, ~100,000 estimated tokens
    resp = rk.post_messages(gw.port, big, headers={"x-api-key": ALICE}, timeout=30, max_tokens=10)
    assert_envelope(resp, (429,), "first request of the window, ~100k tokens vs tpm 100", "rate_limit_error")
    assert resp.headers.get("x-should-retry", "").lower() == "false", f"x-should-retry: {resp.headers.get('x-should-retry')!r}"
    message = resp.json()["error"]["message"]
    assert "tpm" in message, message
    assert any(w in message.lower() for w in ("larger", "exceeds", "more than", "bigger", "whole", "entire")), \
        f"the message does not say the request is larger than the whole limit: {message!r}"
    assert mock.requests() == [], "the oversized request reached the upstream"
    small = rk.post_messages(gw.port, "hi", headers={"x-api-key": ALICE}, timeout=SOCKET_TIMEOUT, max_tokens=10)
    assert small.status == 200, f"a small request after the refused one: {small.short()}"
