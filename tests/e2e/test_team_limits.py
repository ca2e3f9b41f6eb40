"""Per-user and per-route limits: rpm (exact under concurrency), tpm, concurrent streams, and the
concurrency slot being released when a client disconnects. Spec: config.md (users[].limits,
routes[].limits, limits.per_user), translation-spec.md §5.1 (429 rate_limit_error)."""
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import base_config, register_secret
from helpers import (MODEL, error_of, messages_body, open_stream_socket, raw, read_until, route, sha256_hex,
                     target)

ALICE = register_secret("sk-sw-lim-alice-" + "91b2c3d4e5f6")
BOB = register_secret("sk-sw-lim-bob-" + "a1b2c3d4e5f6")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def limits_config(mock, alice_limits=None, bob_limits=None, route_limits=None, per_user=None, timeouts=None):
    users = [{"name": "alice", "token_sha256": sha256_hex(ALICE)}, {"name": "bob", "token_sha256": sha256_hex(BOB)}]
    if alice_limits:
        users[0]["limits"] = alice_limits
    if bob_limits:
        users[1]["limits"] = bob_limits
    limited = route("limited", ["claude-limited"], [target("mock/limited")])
    if route_limits:
        limited["limits"] = route_limits
    cfg = base_config(mock, auth={"mode": "tokens"}, users=users,
                      routes=[limited, route("default", ["*"], [target("mock/model-a")])])
    if per_user:
        cfg["limits"] = {"per_user": per_user}
    if timeouts:
        cfg["providers"]["mock"]["timeouts"] = timeouts
    return cfg


def _fire(gw, requests):
    """Send (token, body) pairs all at once from threads; return the responses in order."""
    barrier = threading.Barrier(len(requests))

    def one(args):
        token, body = args
        barrier.wait()
        return raw(gw, "POST", "/v1/messages", body, {"x-api-key": token})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def _assert_rate_limited(resp, limit: int | None = None):
    assert resp.status == 429, resp
    err = error_of(resp)
    assert err["type"] == "rate_limit_error"
    assert int(resp.headers["retry-after"]) >= 1
    if limit is not None:
        assert resp.headers["anthropic-ratelimit-requests-limit"] == str(limit)
        assert resp.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert RFC3339.match(resp.headers["anthropic-ratelimit-requests-reset"]), resp.headers


def test_user_rpm_exact_under_concurrency(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, alice_limits={"rpm": 3}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok", "delay_before_ms": 200}})
    responses = _fire(gw, [(ALICE, messages_body())] * 8)
    ok = [r for r in responses if r.status == 200]
    rejected = [r for r in responses if r.status != 200]
    assert len(ok) == 3, [r.status for r in responses]
    assert len(rejected) == 5
    for r in rejected:
        _assert_rate_limited(r, limit=3)
    assert len(mock.requests()) == 3
    # admitted replies carry the limit headers too
    for r in ok:
        assert r.headers.get("anthropic-ratelimit-requests-limit") == "3"
    # bob is not limited by alice's budget
    assert raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": BOB}).status == 200


def test_per_user_default_limits_apply_to_each_user(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, per_user={"rpm": 2}, bob_limits={"rpm": 4}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    responses = _fire(gw, [(ALICE, messages_body())] * 4 + [(BOB, messages_body())] * 6)
    alice, bob = responses[:4], responses[4:]
    assert sorted(r.status for r in alice) == [200, 200, 429, 429]
    assert sorted(r.status for r in bob) == [200] * 4 + [429] * 2
    for r in alice:
        if r.status == 429:
            _assert_rate_limited(r, limit=2)
    for r in bob:
        if r.status == 429:
            _assert_rate_limited(r, limit=4)


def test_route_level_rpm_shared_by_all_users(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, route_limits={"rpm": 3}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    body = messages_body(model="claude-limited")
    responses = _fire(gw, [(ALICE, body)] * 3 + [(BOB, body)] * 3)
    assert sum(r.status == 200 for r in responses) == 3, [r.status for r in responses]
    for r in responses:
        if r.status != 200:
            _assert_rate_limited(r, limit=3)
    assert len(mock.requests()) == 3
    assert all(r["body"]["model"] == "mock/limited" for r in mock.requests())
    # another route is not limited
    assert raw(gw, "POST", "/v1/messages", messages_body(model="other"), {"x-api-key": ALICE}).status == 200


def test_route_level_concurrency(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, route_limits={"concurrent": 2}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok", "delay_before_ms": 1500}})
    body = messages_body(model="claude-limited")
    responses = _fire(gw, [(ALICE, body)] * 2 + [(BOB, body)] * 2)
    assert sorted(r.status for r in responses) == [200, 200, 429, 429]
    for r in responses:
        if r.status == 429:
            _assert_rate_limited(r)


def test_user_tpm_counts_real_usage(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, alice_limits={"tpm": 1000}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "big",
                                        "usage": {"prompt_tokens": 700, "completion_tokens": 200, "total_tokens": 900}}})
    first = raw(gw, "POST", "/v1/messages", messages_body(max_tokens=300), {"x-api-key": ALICE})
    assert first.status == 200
    second = raw(gw, "POST", "/v1/messages", messages_body(max_tokens=300), {"x-api-key": ALICE})
    assert second.status == 429, second
    assert error_of(second)["type"] == "rate_limit_error"
    assert second.headers["anthropic-ratelimit-tokens-limit"] == "1000"
    assert int(second.headers["retry-after"]) >= 1
    assert len(mock.requests()) == 1


def test_count_tokens_not_rate_limited(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, alice_limits={"rpm": 1}))
    for _ in range(3):
        resp = raw(gw, "POST", "/v1/messages/count_tokens", {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
                   {"x-api-key": ALICE})
        assert resp.status == 200


def _read_stream_to_end(sock):
    # The connection stays open after the response (keep-alive): read up to the last chunk.
    return read_until(sock, b"\r\n0\r\n\r\n")


def _admitted_eventually(gw, token, tries=40):
    """Poll (no timing assertion): a limiter slot release may trail the last byte slightly."""
    last = None
    for _ in range(tries):
        last = raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": token})
        if last.status == 200:
            return last
        time.sleep(0.25)
    return last


def test_concurrent_one_rejects_second_stream_while_first_open(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, alice_limits={"concurrent": 1}))
    mock.script([
        {"match": {"stream": True, "last_user_contains": "slow"},
         "reply": {"type": "chat", "content": "x" * 30, "chunk_size": 2, "delay_ms": 100}},
        {"times": -1, "reply": {"type": "chat", "content": "fast"}},
    ])
    sock = open_stream_socket(gw, messages_body(messages=[{"role": "user", "content": "slow please"}]), {"x-api-key": ALICE})
    try:
        head = read_until(sock, b"content_block_delta")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        # while the first stream is open, a second stream and a non-stream request are rejected
        second = raw(gw, "POST", "/v1/messages", messages_body(stream=True), {"x-api-key": ALICE})
        assert second.status == 429, second
        assert second.headers["content-type"].startswith("application/json")
        _assert_rate_limited(second)
        third = raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": ALICE})
        _assert_rate_limited(third)
        # another user is not affected
        assert raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": BOB}).status == 200
        rest = _read_stream_to_end(sock)
        assert b"message_stop" in head + rest
    finally:
        sock.close()
    after = _admitted_eventually(gw, ALICE)
    assert after.status == 200, after


@pytest.mark.parametrize("upstream", ["slow", "stall"])
def test_concurrent_slot_released_on_client_disconnect(gateway_factory, mock, upstream):
    timeouts = {"connect": "2s", "first_byte": "60s", "idle": "60s"}
    gw = gateway_factory(limits_config(mock, alice_limits={"concurrent": 1}, timeouts=timeouts))
    if upstream == "slow":
        first = {"type": "chat", "content": "y" * 400, "chunk_size": 2, "delay_ms": 300}   # about a minute
    else:
        first = {"type": "fault", "mode": "stall_mid_stream"}
    mock.script([{"match": {"stream": True, "last_user_contains": "long"}, "reply": first},
                 {"times": -1, "reply": {"type": "chat", "content": "fast"}}])
    sock = open_stream_socket(gw, messages_body(messages=[{"role": "user", "content": "long one"}]), {"x-api-key": ALICE})
    head = read_until(sock, b"content_block_delta")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    blocked = raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": ALICE})
    _assert_rate_limited(blocked)
    sock.close()
    after = _admitted_eventually(gw, ALICE)
    assert after.status == 200, after
    assert after.json()["content"][0]["text"] == "fast"


def test_limiter_rejection_in_access_log(gateway_factory, mock):
    gw = gateway_factory(limits_config(mock, alice_limits={"rpm": 1}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    assert raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": ALICE}).status == 200
    assert raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": ALICE}).status == 429
    entries = [e for e in gw.access_log() if e.get("endpoint") == "messages"]
    assert [(e["user"], e["status"]) for e in entries] == [("alice", 200), ("alice", 429)]
    assert entries[1]["error_type"] == "rate_limit_error"
    assert entries[1]["attempts"] == []
    assert len(mock.requests()) == 1
