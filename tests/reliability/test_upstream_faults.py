"""Reliability rule 1: faulty upstreams.

Every mock fault mode, for stream and non-stream requests, must end in a well-formed answer in
bounded time: before commit a real HTTP error status with the Anthropic JSON envelope; after commit
an SSE `error` event and no `message_stop` (never a fabricated end_turn / partial success). After
each fault the same gateway serves a normal request. Also: `sse` streams cut by reset/eof/stall on
both provider kinds, and 200 concurrent streams of which half are reset by the upstream.
"""
import concurrent.futures as cf
import json
import time

import pytest

from conftest import base_config
import relkit as rk

IDLE_S, FIRST_BYTE_S = 1.0, 2.0
# Upper bound for any single faulty exchange (timeouts are 1-2 s; the slow_body reply takes ~5 s).
BOUND_S = 15.0


def fault_config(mock, **provider_extra):
    cfg = base_config(mock)
    for name in ("mock", "mock-anthropic"):
        cfg["providers"][name]["timeouts"] = {"connect": "2s", "first_byte": f"{FIRST_BYTE_S:g}s", "idle": f"{IDLE_S:g}s"}
        cfg["providers"][name].update(provider_extra)
    cfg["routes"] = [
        {"name": "native", "match": {"models": ["claude-native*"]}, "targets": [{"provider": "mock-anthropic", "model": "claude-upstream"}]},
        {"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/model-a"}]},
    ]
    return cfg


def assert_recovers(gw, mock, label):
    """A normal stream and non-stream request through the same gateway succeed after a fault."""
    mock.script([{"match": {"last_user_contains": "AFTER-FAULT"}, "times": -1,
                  "reply": {"type": "chat", "content": "after fault ok"}}])
    for stream in (False, True):
        t = time.monotonic()
        resp = rk.post_messages(gw.port, f"AFTER-FAULT {label}", stream=stream, timeout=10)
        out = rk.classify(resp, stream)
        assert out.kind == "success" and out.text == "after fault ok", \
            f"after {label}: follow-up {'stream' if stream else 'non-stream'} request failed: {out} {resp.short()}"
        assert time.monotonic() - t < 5
    assert gw.alive(), f"gateway died after {label}"


# What each fault mode must produce. "error" = http_error or error_event; "http_error" = must be a
# real HTTP error (nothing could have been committed: no upstream data event arrived);
# "success" = complete message with the given text; "either" = lenient (a well-formed success or error).
EXPECT = {
    # mode:                 (stream,       non-stream)
    "reset_before_status":  ("http_error", "http_error"),
    "close_before_status":  ("http_error", "http_error"),
    "reset_after_headers":  ("http_error", "http_error"),
    "reset_mid_stream":     ("error",      "http_error"),
    "eof_mid_stream":       ("error",      "http_error"),
    "stall_after_headers":  ("http_error", "http_error"),
    "stall_mid_stream":     ("error",      "http_error"),
    "html_200":             ("http_error", "http_error"),
    "wrong_content_type":   ("either",     "either"),
    "truncated_json":       ("http_error", "http_error"),
    "binary":               ("http_error", "http_error"),
    "huge_delta":           ("success",    "success"),
    "error_chunk":          ("error",      "http_error"),
    "garbage_lines":        ("success",    "success"),
    "oversize_body":        ("either",     "http_error"),   # max_response_bytes is for non-streamed bodies (config.md)
    "slow_body":            ("success",    "success"),
}
SUCCESS_TEXT = {
    "huge_delta": "x" * (4 * 1024 * 1024),
    "garbage_lines": "Hello through the garbage",
    "slow_body": "slow",
    "wrong_content_type": "wrong content type",
    "oversize_body": None,  # checked by length
}
STALL_MODES = {"stall_after_headers", "stall_mid_stream"}
FAULT_EXTRA = {"slow_body": {"delay_ms": 5}, "oversize_body": {"size": 4 * 1024 * 1024}}


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("mode", list(EXPECT))
def test_fault_mode(mode, stream, mock, gateway_factory):
    extra = {"max_response_bytes": "1MiB"} if mode == "oversize_body" else {}
    gw = gateway_factory(fault_config(mock, **extra))
    mock.script([{"match": {"last_user_contains": f"FAULT-{mode}"}, "times": 1,
                  "reply": {"type": "fault", "mode": mode, **FAULT_EXTRA.get(mode, {})}}])
    resp = rk.post_messages(gw.port, f"FAULT-{mode}", stream=stream, timeout=BOUND_S + 5)
    out = rk.classify(resp, stream)
    expect = EXPECT[mode][0 if stream else 1]
    label = f"{mode}/{'stream' if stream else 'non-stream'}"
    detail = f"{label}: {out} | {resp.short(200)}"
    print(f"\n{label}: {out.kind} status={resp.status} {out.detail[:120]} len(text)={len(out.text)} {resp.elapsed:.2f}s")

    assert out.kind != "bad", detail
    assert resp.elapsed < BOUND_S, f"{label}: took {resp.elapsed:.1f}s"
    if expect == "http_error":
        assert out.kind == "http_error", f"expected a real HTTP error status before commit; {detail}"
        assert 500 <= resp.status < 600 or resp.status in (408, 413), detail
    elif expect == "error":
        assert out.kind in ("http_error", "error_event"), f"expected an error; {detail}"
    elif expect == "success":
        assert out.kind == "success", f"expected a complete success; {detail}"
        want = SUCCESS_TEXT[mode]
        assert out.text == want, f"{label}: text differs (got {len(out.text)} chars, want {len(want)})"
        assert out.stop_reason == "end_turn", detail
    else:  # either
        if out.kind == "success":
            if mode == "oversize_body":
                assert len(out.text) >= 4 * 1024 * 1024 - 65536, f"{label}: success with {len(out.text)} chars (partial)"
            else:
                assert out.text == SUCCESS_TEXT[mode], detail
    if mode in STALL_MODES:
        # the error comes from the idle timeout: not before it, and not much after it
        assert resp.elapsed >= IDLE_S * 0.8, f"{label}: error after {resp.elapsed:.2f}s, before the idle timeout"
        assert resp.elapsed < FIRST_BYTE_S + IDLE_S + 3, f"{label}: error only after {resp.elapsed:.2f}s"
        if out.kind == "http_error":
            assert rk.error_type(resp) == "timeout_error" and resp.status == 504, detail
    assert [r for r in mock.requests() if f"FAULT-{mode}" in str(r["body"])], "the fault request never reached the mock"
    assert_recovers(gw, mock, label)


# The same transport-level faults through an Anthropic-native (pass-through) provider. The mock's
# fault bodies are Chat Completions shaped, so only faults whose verdict does not depend on the body
# format are used: all of them must end in an error, never a relayed 200.
ANTHROPIC_FAULTS = {
    "reset_before_status": ("http_error", "http_error"),
    "close_before_status": ("http_error", "http_error"),
    "reset_after_headers": ("http_error", "http_error"),
    "reset_mid_stream":    ("error",      "http_error"),
    "eof_mid_stream":      ("error",      "http_error"),
    "stall_after_headers": ("http_error", "http_error"),
    "stall_mid_stream":    ("error",      "http_error"),
    "html_200":            ("http_error", "http_error"),
    "truncated_json":      ("http_error", "http_error"),
    "binary":              ("error",      "http_error"),
    "error_chunk":         ("error",      "http_error"),
    "oversize_body":       (None,         "http_error"),
}


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("mode", list(ANTHROPIC_FAULTS))
def test_fault_mode_anthropic_provider(mode, stream, mock, gateway_factory):
    expect = ANTHROPIC_FAULTS[mode][0 if stream else 1]
    if expect is None:
        pytest.skip("max_response_bytes applies to non-streamed bodies only")
    extra = {"max_response_bytes": "1MiB"} if mode == "oversize_body" else {}
    gw = gateway_factory(fault_config(mock, **extra))
    mock.script([{"match": {"last_user_contains": f"AFAULT-{mode}"}, "times": 1,
                  "reply": {"type": "fault", "mode": mode, **FAULT_EXTRA.get(mode, {})}}])
    resp = rk.post_messages(gw.port, f"AFAULT-{mode}", stream=stream, model="claude-native-1", timeout=BOUND_S + 5)
    out = rk.classify(resp, stream)
    label = f"anthropic-provider {mode}/{'stream' if stream else 'non-stream'}"
    detail = f"{label}: {out} | {resp.short(300)}"
    print(f"\n{label}: {out.kind} status={resp.status} {out.detail[:120]} {resp.elapsed:.2f}s")
    assert out.kind != "bad", detail
    assert resp.elapsed < BOUND_S, f"{label}: took {resp.elapsed:.1f}s"
    if expect == "http_error":
        assert out.kind == "http_error", f"expected a real HTTP error status; {detail}"
        assert resp.status >= 500, detail
    else:
        assert out.kind in ("http_error", "error_event"), f"expected an error; {detail}"
    if mode in STALL_MODES:
        assert IDLE_S * 0.8 <= resp.elapsed < FIRST_BYTE_S + IDLE_S + 3, f"{label}: {resp.elapsed:.2f}s"
    assert_recovers(gw, mock, label)


# --------------------------------------------------------------------------- sse endings, both provider kinds

def chat_events(text="Hello world"):
    ev = [{"id": "gen-1", "object": "chat.completion.chunk", "model": "m",
           "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    for part in (text[:5], text[5:]):
        ev.append({"id": "gen-1", "object": "chat.completion.chunk", "model": "m",
                   "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}]})
    return ["data: " + json.dumps(e) for e in ev]


def anthropic_events(text="Hello world"):
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-upstream", "content": [],
           "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
    ev = [("message_start", {"type": "message_start", "message": msg}),
          ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
          ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[:5]}}),
          ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[5:]}})]
    return [f"event: {n}\ndata: {json.dumps(d)}" for n, d in ev]


@pytest.mark.parametrize("end", ["reset", "eof", "stall", "close"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_sse_cut_without_finish(kind, end, mock, gateway_factory):
    """A stream that delivered text but no finish (no [DONE] / message_stop) must end in an error,
    whatever way the upstream ends it — never a success with the partial text."""
    gw = gateway_factory(fault_config(mock))
    events = chat_events() if kind == "openai" else anthropic_events()
    mock.script([{"match": {"last_user_contains": "CUT"}, "times": 1, "reply": {"type": "sse", "events": events, "end": end}}])
    model = "claude-native-1" if kind == "anthropic" else "claude-sonnet-4-5"
    resp = rk.post_messages(gw.port, "CUT", stream=True, timeout=BOUND_S, model=model)
    out = rk.classify(resp, True)
    label = f"{kind}/sse end={end}"
    assert out.kind in ("error_event", "http_error"), f"{label}: {out} | {resp.short(600)}"
    assert resp.elapsed < FIRST_BYTE_S + IDLE_S + 3, f"{label}: took {resp.elapsed:.2f}s"
    assert_recovers(gw, mock, label)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_upstream_error_status_before_commit(kind, mock, gateway_factory):
    """An upstream 5xx/429 is a real HTTP error with the envelope (for streams too)."""
    gw = gateway_factory(fault_config(mock))
    model = "claude-native-1" if kind == "anthropic" else "claude-sonnet-4-5"
    for status in (429, 500, 502, 503):
        for stream in (False, True):
            mock.script([{"match": {"last_user_contains": "ERRSTATUS"}, "times": 1,
                          "reply": {"type": "error", "status": status, "headers": {"retry-after": "3"}}}])
            resp = rk.post_messages(gw.port, "ERRSTATUS", stream=stream, timeout=10, model=model)
            out = rk.classify(resp, stream)
            assert out.kind == "http_error", f"{kind} upstream {status} stream={stream}: {out} {resp.short()}"
            assert resp.status >= 429, resp.short()
    assert_recovers(gw, mock, f"{kind} error statuses")


# --------------------------------------------------------------------------- concurrency

def test_200_concurrent_streams_half_reset(mock, gateway_factory):
    gw = gateway_factory(fault_config(mock))
    mock.script([
        {"match": {"last_user_contains": "RESETME"}, "times": -1,
         "reply": {"type": "fault", "mode": "reset_mid_stream", "delay_ms": 20}},
        {"match": {"last_user_contains": "FINE"}, "times": -1,
         "reply": {"type": "chat", "content": "complete answer here", "delay_ms": 20}},
    ])
    n = 200

    def one(i):
        tag = "RESETME" if i % 2 else "FINE"
        resp = rk.post_messages(gw.port, f"{tag} #{i}", stream=True, timeout=30)
        return i, tag, resp, rk.classify(resp, True)

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    took = time.monotonic() - t0
    bad = [(i, tag, o.detail) for i, tag, _, o in results if o.kind == "bad"]
    reset_successes = [(i, o.text) for i, tag, _, o in results if tag == "RESETME" and o.kind == "success"]
    fine_results = [o for i, tag, _, o in results if tag == "FINE"]
    fine_ok = sum(o.kind == "success" and o.text == "complete answer here" for o in fine_results)
    counts = {}
    for _, tag, _, o in results:
        counts[(tag, o.kind)] = counts.get((tag, o.kind), 0) + 1
    print(f"200 concurrent streams in {took:.1f}s: {counts}")
    assert not bad, f"{len(bad)} malformed/hung answers, e.g. {bad[:3]}"
    assert not reset_successes, f"reset streams reported as successes: {reset_successes[:3]}"
    assert fine_ok == len(fine_results), f"only {fine_ok}/{len(fine_results)} untouched streams succeeded: {counts}"
    assert len(mock.requests()) >= n
    # the pool is not poisoned: sequential and concurrent requests afterwards all succeed
    with cf.ThreadPoolExecutor(max_workers=20) as pool:
        after = list(pool.map(lambda i: rk.classify(rk.post_messages(gw.port, f"FINE after {i}", stream=bool(i % 2), timeout=10), bool(i % 2)), range(40)))
    assert all(o.kind == "success" for o in after), [o for o in after if o.kind != "success"][:3]
    assert_recovers(gw, mock, "200 concurrent")


# --------------------------------------------------------------------------- first byte / connect

@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_first_byte_timeout(kind, stream, mock, gateway_factory):
    """The upstream accepts the request but never sends a status line: 504 timeout_error after first_byte."""
    gw = gateway_factory(fault_config(mock))
    reply = {"type": "chat", "content": "too late"} if kind == "openai" else {"type": "anthropic", "content": "too late"}
    mock.script([{"match": {"last_user_contains": "SLOWSTART"}, "times": 1, "reply": {**reply, "delay_before_ms": 8000}}])
    model = "claude-native-1" if kind == "anthropic" else "claude-sonnet-4-5"
    resp = rk.post_messages(gw.port, "SLOWSTART", stream=stream, model=model, timeout=BOUND_S)
    out = rk.classify(resp, stream)
    assert out.kind == "http_error", f"{out} {resp.short()}"
    assert resp.status == 504 and rk.error_type(resp) == "timeout_error", resp.short()
    assert FIRST_BYTE_S * 0.8 <= resp.elapsed < FIRST_BYTE_S + 3, f"answered after {resp.elapsed:.2f}s (first_byte {FIRST_BYTE_S}s)"
    assert_recovers(gw, mock, f"first_byte timeout {kind}")


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_upstream_refuses_connections(stream, mock, gateway_factory):
    """Nothing listens on the upstream port: a quick 529 overloaded_error (connect error), not a hang."""
    import socket as _s
    probe = _s.socket()
    probe.bind(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    cfg = fault_config(mock)
    cfg["providers"]["dead"] = {"kind": "openai", "base_url": f"http://127.0.0.1:{dead_port}/v1", "api_key": "sk-dead",
                                "timeouts": {"connect": "1s", "first_byte": "2s", "idle": "1s"}}
    cfg["routes"].insert(0, {"name": "dead", "match": {"models": ["dead-*"]}, "targets": [{"provider": "dead", "model": "x"}]})
    gw = gateway_factory(cfg)
    for _ in range(3):
        resp = rk.post_messages(gw.port, "to nowhere", stream=stream, model="dead-1", timeout=BOUND_S)
        out = rk.classify(resp, stream)
        assert out.kind == "http_error" and resp.status == 529 and rk.error_type(resp) == "overloaded_error", resp.short()
        assert resp.elapsed < 3, resp.short()
    assert_recovers(gw, mock, "refused upstream")
