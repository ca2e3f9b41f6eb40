"""Hostile upstream replies (hardening issue).

An upstream is untrusted input. Whatever it answers — absurd token counts, absurd Retry-After
values, its own API key quoted back at any offset or split across chunks, floods of tiny
chunks, a FIN in the middle of a chunk, huge or odd strings — the gateway stays up and answers
in the Anthropic envelope. After every case the test checks that the gateway process still runs,
`GET /health` is 200 and a normal request (stream and non-stream, both provider kinds) succeeds.

The mock's hostile modes used here (testkit/README.md): `headers` on any reply (dict or
[name, value] pairs), `body_text` on error/json replies, `sse` events as raw bytes (`raw_chunk`)
or `{"repeat","count"}`, `end: "fin_mid_chunk"`, and `utf8: true`.

No timing assertions: deadlines only bound the tests.
"""
import base64
import hashlib
import json
import re
import time

import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY, base_config, register_secret
import relkit as rk
from testkit.mock_client import raw_chunk

TRANSLATED = "claude-sonnet-4-5"    # routed to the OpenAI-kind provider `mock`
NATIVE = "claude-native-1"          # routed to the Anthropic-kind provider `mock-anthropic`
MAX_COUNT = 1_000_000_000           # the gateway's maximum per token count (Usage.maxTokens)
INT64_MAX = 9223372036854775807
DEADLINE = 30.0                     # bound for one ordinary exchange
BIG_DEADLINE = 300.0                # bound for the 5 MB and flood exchanges (debug builds are slow)


# --------------------------------------------------------------------------- config and checks

def routes(default_targets=None):
    return [
        {"name": "native", "match": {"models": ["claude-native*"]},
         "targets": [{"provider": "mock-anthropic", "model": "claude-upstream"}]},
        {"name": "default", "match": {"models": ["*"]},
         "targets": default_targets or [{"provider": "mock", "model": "mock/model-a"}]},
    ]


def hostile_config(mock, default_targets=None, **overrides):
    return base_config(mock, routes=routes(default_targets), **overrides)


def assert_gateway_ok(gw, mock, label, headers=None):
    """The process runs, /health is 200, and normal requests through both providers succeed."""
    assert gw.alive(), f"{label}: the gateway process died (exit {gw.proc.poll()}); stderr tail: {gw.stderr()[-1500:]}"
    health = rk.request(gw.port, "GET", "/health", timeout=10)
    assert health.status == 200, f"{label}: GET /health after the hostile reply: {health.short()}"
    mock.script([{"match": {"last_user_contains": "AFTER-HOSTILE", "api": "openai"}, "times": -1,
                  "reply": {"type": "chat", "content": "after ok"}},
                 {"match": {"last_user_contains": "AFTER-HOSTILE", "api": "anthropic"}, "times": -1,
                  "reply": {"type": "anthropic", "content": "after ok"}}])
    for model in (TRANSLATED, NATIVE):
        for stream in (False, True):
            resp = rk.post_messages(gw.port, f"AFTER-HOSTILE {label}", stream=stream, model=model, timeout=DEADLINE,
                                    headers=headers)
            out = rk.classify(resp, stream)
            assert out.kind == "success" and out.text == "after ok", \
                f"{label}: follow-up request ({model}, stream={stream}) failed: {out} | {resp.short()}"
    assert gw.alive(), f"{label}: the gateway process died during the follow-up requests"


def leak_report(raw: bytes, needles: dict) -> list[str]:
    """Which of the named needles occur in `raw`, with some context."""
    found = []
    for name, needle in needles.items():
        i = raw.find(needle.encode())
        if i >= 0:
            found.append(f"{name} at byte {i}: …{raw[max(0, i - 60):i + len(needle) + 20]!r}…")
    return found


def usage_of(resp: rk.RawResponse, stream: bool) -> dict:
    """The Anthropic usage the client got (stream: the message_delta's usage)."""
    if not stream:
        return resp.json()["usage"]
    deltas = [d for n, d in rk.parse_sse(resp.body) if n == "message_delta"]
    assert len(deltas) == 1, f"expected one message_delta: {resp.short(400)}"
    return deltas[0]["usage"]


def message_log_entries(gw, n=1, tries=100):
    """Access-log lines of /v1/messages requests, polling until `n` are there (bounded)."""
    entries = []
    for _ in range(tries):
        entries = [e for e in gw.access_log() if e.get("endpoint") == "messages"]
        if len(entries) >= n:
            break
        time.sleep(0.05)
    return entries


def chat_chunk(delta, finish=None, **extra):
    obj = {"id": "gen-hostile", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    obj.update(extra)
    return "data: " + json.dumps(obj, separators=(",", ":"))


def chat_stream_events(texts, usage=None):
    """A complete Chat Completions stream, one SSE event per string (without the blank line)."""
    usage = usage or {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return ([chat_chunk({"role": "assistant", "content": ""})] + [chat_chunk({"content": t}) for t in texts]
            + [chat_chunk({}, "stop"), "data: " + json.dumps({"id": "gen-hostile", "object": "chat.completion.chunk",
                                                              "choices": [], "usage": usage}), "data: [DONE]"])


def anthropic_event(obj) -> str:
    return f"event: {obj['type']}\ndata: " + json.dumps(obj, separators=(",", ":"))


def anthropic_stream_events(texts, message=None, start_usage=None, delta_usage=None):
    """A complete Anthropic Messages stream, one SSE event per string (without the blank line)."""
    msg = {"id": "msg_hostile", "type": "message", "role": "assistant", "model": "claude-upstream", "content": [],
           "stop_reason": None, "stop_sequence": None, "usage": start_usage or {"input_tokens": 3, "output_tokens": 1}}
    msg.update(message or {})
    return ([anthropic_event({"type": "message_start", "message": msg}),
             anthropic_event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})]
            + [anthropic_event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
               for t in texts]
            + [anthropic_event({"type": "content_block_stop", "index": 0}),
               anthropic_event({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": delta_usage or {"output_tokens": 2}}),
               anthropic_event({"type": "message_stop"})])


# --------------------------------------------------------------------------- 1: hostile usage, OpenAI kind

# (name, upstream usage, expected (input_tokens, output_tokens); None = any count in 0..MAX_COUNT)
OPENAI_USAGE = [
    ("negative-completion", {"prompt_tokens": 5, "completion_tokens": -1}, (5, 0)),
    ("negative-prompt", {"prompt_tokens": -7, "completion_tokens": 2}, (0, 2)),
    ("int64-min", {"prompt_tokens": -INT64_MAX - 1, "completion_tokens": -INT64_MAX - 1}, (0, 0)),
    ("int64-max-prompt", {"prompt_tokens": INT64_MAX, "completion_tokens": 3}, (MAX_COUNT, 3)),
    ("int64-max-completion", {"prompt_tokens": 5, "completion_tokens": INT64_MAX}, (5, MAX_COUNT)),
    ("int64-max-both", {"prompt_tokens": INT64_MAX, "completion_tokens": INT64_MAX, "total_tokens": INT64_MAX},
     (MAX_COUNT, MAX_COUNT)),
    # A JSON integer literal beyond Int64: still an integer, so clamped like the others.
    ("20-digit-prompt", {"prompt_tokens": 99999999999999999999, "completion_tokens": 3}, (MAX_COUNT, 3)),
    # 1e300 is a number but not an integer literal: clamped or counted as absent, never a crash.
    ("1e300-prompt", {"prompt_tokens": 1e300, "completion_tokens": 3}, (None, 3)),
    ("cached-int64-max", {"prompt_tokens": 5, "completion_tokens": 1,
                          "prompt_tokens_details": {"cached_tokens": INT64_MAX}}, (None, 1)),
    ("cached-negative", {"prompt_tokens": 5, "completion_tokens": 1,
                         "prompt_tokens_details": {"cached_tokens": -INT64_MAX - 1, "cache_write_tokens": INT64_MAX}},
     (None, 1)),
] + [(f"prompt-{name}", {"prompt_tokens": value, "completion_tokens": 3}, (None, 3))
     for name, value in [("5.5", 5.5), ("string", "12"), ("null", None), ("true", True), ("array", []), ("object", {})]]


def assert_count(value, expected, what, label):
    assert isinstance(value, int) and not isinstance(value, bool), f"{label}: {what} is not an integer: {value!r}"
    if expected is None:
        assert 0 <= value <= MAX_COUNT, f"{label}: {what} = {value} is outside 0..{MAX_COUNT}"
    else:
        assert value == expected, f"{label}: {what} = {value}, expected {expected}"


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("name,usage,expected", OPENAI_USAGE, ids=[c[0] for c in OPENAI_USAGE])
def test_hostile_usage_openai(name, usage, expected, stream, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    mock.script([{"match": {"last_user_contains": "HOSTILE-USAGE"}, "times": 1,
                  "reply": {"type": "chat", "content": "counted", "usage": usage}}])
    resp = rk.post_messages(gw.port, "HOSTILE-USAGE", stream=stream, timeout=DEADLINE)
    label = f"usage {name} stream={stream}"
    out = rk.classify(resp, stream)
    assert out.kind == "success" and out.text == "counted", f"{label}: {out} | {resp.short(400)}"
    got = usage_of(resp, stream)
    assert_count(got.get("input_tokens"), expected[0], "input_tokens", label)
    assert_count(got.get("output_tokens"), expected[1], "output_tokens", label)
    for key in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        if key in got:
            assert_count(got[key], None, key, label)
    metrics = rk.request(gw.port, "GET", "/metrics", timeout=10)
    assert metrics.status == 200, f"{label}: GET /metrics: {metrics.short()}"
    assert_gateway_ok(gw, mock, label)


LIMITED_ALICE = register_secret("sk-sy-hostile-alice-" + "6a1f0e3b9d2c")
LIMITED_BOB = register_secret("sk-sy-hostile-bob-" + "0c7e2a9f4b1d")


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_hostile_usage_with_tpm_limits(stream, mock, gateway_factory):
    """Absurd counts settle into the limiter's tpm windows without trapping; the limiter keeps
    answering (a 429 for the user who 'used' a billion tokens is fine, a crash is not)."""
    sha = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
    limits = {"tpm": 100_000, "rpm": 1000, "concurrent": 10}
    cfg = hostile_config(mock, auth={"mode": "tokens"},
                         users=[{"name": "alice", "token_sha256": sha(LIMITED_ALICE), "limits": limits},
                                {"name": "bob", "token_sha256": sha(LIMITED_BOB), "limits": limits}])
    gw = gateway_factory(cfg)
    huge = {"prompt_tokens": INT64_MAX, "completion_tokens": INT64_MAX, "total_tokens": INT64_MAX,
            "prompt_tokens_details": {"cached_tokens": INT64_MAX, "cache_write_tokens": INT64_MAX}}
    mock.script([{"match": {"last_user_contains": "HOSTILE-TPM"}, "times": -1,
                  "reply": {"type": "chat", "content": "counted", "usage": huge}}])
    alice = {"x-api-key": LIMITED_ALICE}
    resp = rk.post_messages(gw.port, "HOSTILE-TPM", stream=stream, timeout=DEADLINE, headers=alice)
    out = rk.classify(resp, stream)
    assert out.kind == "success", f"first request with hostile usage: {out} | {resp.short(400)}"
    assert gw.alive(), "the gateway died settling hostile usage into the limiter"
    again = rk.post_messages(gw.port, "HOSTILE-TPM again", stream=stream, timeout=DEADLINE, headers=alice)
    out = rk.classify(again, stream)
    assert out.kind == "success" or (out.kind == "http_error" and again.status == 429
                                     and rk.error_type(again) == "rate_limit_error"), f"{out} | {again.short(400)}"
    if again.status == 429:
        assert re.fullmatch(r"\d+", again.headers.get("retry-after", "")), again.headers
    metrics = rk.request(gw.port, "GET", "/metrics", timeout=10)
    assert metrics.status == 200, metrics.short()
    assert_gateway_ok(gw, mock, f"tpm limits stream={stream}", headers={"x-api-key": LIMITED_BOB})


# --------------------------------------------------------------------------- 2: hostile usage, Anthropic kind

ANTHROPIC_USAGE = [
    ("negative-input-huge-output", {"input_tokens": -1, "output_tokens": INT64_MAX}),
    ("huge-input-negative-output", {"input_tokens": INT64_MAX, "output_tokens": -1}),
    ("huge-everything", {"input_tokens": INT64_MAX, "output_tokens": INT64_MAX,
                         "cache_read_input_tokens": INT64_MAX, "cache_creation_input_tokens": INT64_MAX}),
    ("negative-everything", {"input_tokens": -1, "output_tokens": -1, "cache_read_input_tokens": -1,
                             "cache_creation_input_tokens": -INT64_MAX - 1}),
]


def assert_log_counts(gw, label):
    entries = message_log_entries(gw)
    assert entries, f"{label}: no access-log line for the request"
    e = entries[0]
    for key in ("input_tokens", "output_tokens"):
        v = e.get(key)
        assert isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3 * MAX_COUNT, \
            f"{label}: access log {key} = {v!r}, expected an integer in 0..{3 * MAX_COUNT}: {e}"


@pytest.mark.parametrize("name,usage", ANTHROPIC_USAGE, ids=[c[0] for c in ANTHROPIC_USAGE])
def test_hostile_usage_anthropic_nonstream(name, usage, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    mock.script([{"match": {"last_user_contains": "HOSTILE-USAGE"}, "times": 1,
                  "reply": {"type": "anthropic", "content": "passed through", "usage": usage}}])
    resp = rk.post_messages(gw.port, "HOSTILE-USAGE", model=NATIVE, timeout=DEADLINE)
    label = f"anthropic usage {name}"
    out = rk.classify(resp, False)
    assert out.kind == "success" and out.text == "passed through", f"{label}: {out} | {resp.short(400)}"
    assert resp.json()["usage"] == usage, f"{label}: the upstream's usage was not passed through: {resp.body[-300:]!r}"
    assert_log_counts(gw, label)
    assert_gateway_ok(gw, mock, label)


@pytest.mark.parametrize("name,usage", ANTHROPIC_USAGE, ids=[c[0] for c in ANTHROPIC_USAGE])
def test_hostile_usage_anthropic_stream(name, usage, mock, gateway_factory):
    """Hostile counts both in message_start's usage and in message_delta's usage."""
    gw = gateway_factory(hostile_config(mock))
    events = anthropic_stream_events(["passed ", "through"], start_usage=usage, delta_usage=usage)
    mock.script([{"match": {"last_user_contains": "HOSTILE-USAGE"}, "times": 1, "reply": {"type": "sse", "events": events}}])
    resp = rk.post_messages(gw.port, "HOSTILE-USAGE", stream=True, model=NATIVE, timeout=DEADLINE)
    label = f"anthropic stream usage {name}"
    out = rk.classify(resp, True)
    assert out.kind == "success" and out.text == "passed through", f"{label}: {out} | {resp.short(400)}"
    got = dict(rk.parse_sse(resp.body))
    assert got["message_start"]["message"]["usage"] == usage and got["message_delta"]["usage"] == usage, \
        f"{label}: the upstream's events were not passed through: {resp.body[:600]!r}"
    assert_log_counts(gw, label)
    assert_gateway_ok(gw, mock, label)


# --------------------------------------------------------------------------- 3: Retry-After

HOSTILE_RETRY_AFTER = ["1e30", "nan", "inf", "-5", "99999999999999999999", "abc", "Wed, 21 Oct 2015 07:28:00 GMT",
                       "86401"]
MUST_DROP = {"nan", "abc", "1e30"}
PAIR = [{"provider": "mock", "model": "mock/model-a"}, {"provider": "mock", "model": "mock/model-b"}]


def check_retry_after_header(resp, value, label):
    values = [v for k, v in resp.header_list if k.lower() == "retry-after"]
    assert len(values) <= 1, f"{label}: several retry-after headers: {values}"
    if value in MUST_DROP:
        assert not values, f"{label}: retry-after {values[0]!r} relayed for an upstream value of {value!r}"
    for v in values:
        assert re.fullmatch(r"\d+", v) and int(v) <= 86400, \
            f"{label}: retry-after {v!r} is not a non-negative integer <= 86400 (upstream sent {value!r})"


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_retry_after_hostile_falls_back(value, status, stream, mock, gateway_factory):
    """A huge or unparseable Retry-After is not waited for: the second target answers."""
    gw = gateway_factory(hostile_config(mock, default_targets=PAIR, fallback={"retries_per_target": 1, "cooldown": "0s"}))
    mock.script([{"match": {"last_user_contains": "HOSTILE-RA", "model": "mock/model-a"}, "times": -1,
                  "reply": {"type": "error", "status": status, "headers": {"retry-after": value}}},
                 {"match": {"last_user_contains": "HOSTILE-RA", "model": "mock/model-b"}, "times": -1,
                  "reply": {"type": "chat", "content": "from b"}}])
    resp = rk.post_messages(gw.port, "HOSTILE-RA", stream=stream, timeout=DEADLINE)
    label = f"retry-after {value!r} on {status} stream={stream}"
    out = rk.classify(resp, stream)
    assert out.kind == "success" and out.text == "from b", f"{label}: {out} | {resp.short(400)}"
    models = [r["body"]["model"] for r in mock.requests() if "HOSTILE-RA" in json.dumps(r["body"])]
    assert models[-1] == "mock/model-b" and 1 <= models.count("mock/model-a") <= 2, f"{label}: upstream calls {models}"
    assert_gateway_ok(gw, mock, label)


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_retry_after_hostile_single_target(value, status, stream, mock, gateway_factory):
    """With nowhere to fall back to, the client gets the error in the envelope and a sane
    retry-after (or none)."""
    gw = gateway_factory(hostile_config(mock, fallback={"retries_per_target": 1, "cooldown": "0s"}))
    mock.script([{"match": {"last_user_contains": "HOSTILE-RA"}, "times": -1,
                  "reply": {"type": "error", "status": status, "headers": {"retry-after": value}}}])
    resp = rk.post_messages(gw.port, "HOSTILE-RA", stream=stream, timeout=DEADLINE)
    label = f"retry-after {value!r} on {status} stream={stream} (single target)"
    want_status, want_type = (429, "rate_limit_error") if status == 429 else (529, "overloaded_error")
    problems = rk.envelope_problems(resp, (want_status,))
    assert not problems, f"{label}: {problems} | {resp.short(400)}"
    assert rk.error_type(resp) == want_type, f"{label}: {resp.short(400)}"
    check_retry_after_header(resp, value, label)
    calls = [r for r in mock.requests() if "HOSTILE-RA" in json.dumps(r["body"])]
    assert 1 <= len(calls) <= 2, f"{label}: {len(calls)} upstream calls with retries_per_target 1"
    assert_gateway_ok(gw, mock, label)


def test_retry_after_small_value_retries_same_target(mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock, fallback={"retries_per_target": 1, "cooldown": "0s"}))
    mock.script([{"match": {"last_user_contains": "HOSTILE-RA"}, "times": -1,
                  "reply": {"type": "error", "status": 429, "headers": {"retry-after": "1"}}}])
    resp = rk.post_messages(gw.port, "HOSTILE-RA", timeout=DEADLINE)
    assert not rk.envelope_problems(resp, (429,)), resp.short(400)
    check_retry_after_header(resp, "1", "retry-after 1")
    calls = [r for r in mock.requests() if "HOSTILE-RA" in json.dumps(r["body"])]
    assert len(calls) == 2, f"retries_per_target 1 with Retry-After 1: expected 2 upstream calls, got {len(calls)}"
    assert_gateway_ok(gw, mock, "retry-after 1")


def test_retry_after_small_value_retry_succeeds(mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock, fallback={"retries_per_target": 1, "cooldown": "0s"}))
    mock.script([{"match": {"last_user_contains": "HOSTILE-RA"}, "times": 1,
                  "reply": {"type": "error", "status": 429, "headers": {"retry-after": "1"}}},
                 {"match": {"last_user_contains": "HOSTILE-RA"}, "times": 1,
                  "reply": {"type": "chat", "content": "second time lucky"}}])
    resp = rk.post_messages(gw.port, "HOSTILE-RA", timeout=DEADLINE)
    out = rk.classify(resp, False)
    assert out.kind == "success" and out.text == "second time lucky", f"{out} | {resp.short(400)}"
    calls = [r["body"]["model"] for r in mock.requests() if "HOSTILE-RA" in json.dumps(r["body"])]
    assert calls == ["mock/model-a", "mock/model-a"], calls
    assert_gateway_ok(gw, mock, "retry-after 1, retry succeeds")


# --------------------------------------------------------------------------- 4: the key in upstream errors

def key_needles(key, prefix_len):
    return {"the key": key, f"the key's first {prefix_len} characters": key[:prefix_len]}


@pytest.mark.parametrize("status", [400, 500])
def test_key_in_error_metadata_raw_at_every_offset(status, mock, gateway_factory):
    """OpenRouter-style `metadata.raw` with the key after 260..310 characters of padding: no
    cut of a quoted excerpt may leave the key or its start in the client's answer."""
    gw = gateway_factory(hostile_config(mock))
    found = []
    for pad in range(260, 311):
        raw = "x" * pad + UPSTREAM_KEY + "tail"
        body = {"error": {"message": "Provider returned error", "code": status, "metadata": {"raw": raw}}}
        for stream in ((False, True) if pad % 10 == 0 else (False,)):
            mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                          "reply": {"type": "error", "status": status, "body": body}}])
            resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=stream, timeout=DEADLINE)
            assert resp.status is not None and resp.status >= 400 and not rk.envelope_problems(resp), \
                f"pad {pad} stream={stream}: {resp.short(400)}"
            found += [f"pad {pad} stream={stream}: {f}" for f in
                      leak_report(resp.raw_head + resp.body, key_needles(UPSTREAM_KEY, 6))]
    assert not found, f"{len(found)} leaks, e.g.\n" + "\n".join(found[:8])
    assert_gateway_ok(gw, mock, f"key in metadata.raw ({status})")


@pytest.mark.parametrize("status", [400, 500])
def test_key_in_html_error_body_at_every_offset(status, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    found = []
    head = "<html><head><title>Error</title></head><body><pre>"
    for offset in range(280, 311):
        text = head + "y" * (offset - len(head)) + UPSTREAM_KEY + " rejected</pre></body></html>"
        assert text.index(UPSTREAM_KEY) == offset
        mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                      "reply": {"type": "error", "status": status, "body_text": text,
                                "headers": {"content-type": "text/html; charset=utf-8"}}}])
        resp = rk.post_messages(gw.port, "HOSTILE-KEY", timeout=DEADLINE)
        assert resp.status is not None and resp.status >= 400 and not rk.envelope_problems(resp), \
            f"offset {offset}: {resp.short(400)}"
        found += [f"offset {offset}: {f}" for f in leak_report(resp.raw_head + resp.body, key_needles(UPSTREAM_KEY, 6))]
    assert not found, f"{len(found)} leaks, e.g.\n" + "\n".join(found[:8])
    assert_gateway_ok(gw, mock, f"key in an html error body ({status})")


@pytest.mark.parametrize("form", ["text", "json"])
def test_key_straddling_64kib_in_error_body(form, mock, gateway_factory):
    """Error bodies are read up to 64 KiB: a key cut by that limit must not leak either."""
    gw = gateway_factory(hostile_config(mock))
    boundary, n = 65536, len(UPSTREAM_KEY)
    found = []
    for before in sorted({1, 2, 3, 6, 7, n // 2, n - 1}):
        start = boundary - before  # the key's first `before` bytes lie below 64 KiB
        if form == "text":
            text = "z" * start + UPSTREAM_KEY + "z" * 4096
            reply = {"type": "error", "status": 500, "body_text": text, "headers": {"content-type": "text/plain"}}
        else:
            prefix = '{"error":{"code":500,"message":"'
            text = prefix + "z" * (start - len(prefix)) + UPSTREAM_KEY + "z" * 4096 + '"}}'
            reply = {"type": "error", "status": 500, "body_text": text}
        assert text.index(UPSTREAM_KEY) == start and len(text) > boundary + n
        mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1, "reply": reply}])
        resp = rk.post_messages(gw.port, "HOSTILE-KEY", timeout=DEADLINE)
        assert resp.status is not None and resp.status >= 400 and not rk.envelope_problems(resp), \
            f"{before} bytes below 64 KiB: {resp.short(400)}"
        found += [f"{before} bytes below 64 KiB: {f}" for f in
                  leak_report(resp.raw_head + resp.body, key_needles(UPSTREAM_KEY, 6))]
    assert not found, "\n".join(found)
    assert_gateway_ok(gw, mock, f"key straddling 64 KiB ({form})")


# --------------------------------------------------------------------------- 5: the key relayed by an Anthropic-kind upstream

AKEY = ANTHROPIC_UPSTREAM_KEY


@pytest.mark.parametrize("where", ["text", "model"])
def test_anthropic_key_in_nonstream_message(where, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    reply = {"type": "anthropic", "content": f"your key is {AKEY} ok"} if where == "text" else \
        {"type": "anthropic", "content": "plain", "model": AKEY}
    mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1, "reply": reply}])
    resp = rk.post_messages(gw.port, "HOSTILE-KEY", model=NATIVE, timeout=DEADLINE)
    out = rk.classify(resp, False)
    assert out.kind == "success", f"{out} | {resp.short(400)}"
    found = leak_report(resp.raw_head + resp.body, key_needles(AKEY, 8))
    assert not found, f"key in a passed-through message ({where}): " + "; ".join(found)
    assert_gateway_ok(gw, mock, f"anthropic key in message {where}")


@pytest.mark.parametrize("where", ["id", "model", "text_delta"])
def test_anthropic_key_in_stream_event(where, mock, gateway_factory):
    """message_start is the first event, read before the stream is committed: it is relayed too
    and must be scrubbed like every later event."""
    gw = gateway_factory(hostile_config(mock))
    if where == "text_delta":
        events = anthropic_stream_events(["hello ", f"key {AKEY} here"])
    else:
        events = anthropic_stream_events(["hello"], message={where: f"x-{AKEY}-y"})
    mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1, "reply": {"type": "sse", "events": events}}])
    resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=True, model=NATIVE, timeout=DEADLINE)
    out = rk.classify(resp, True)
    assert out.kind == "success", f"{out} | {resp.short(600)}"
    found = leak_report(resp.raw_head + resp.body, key_needles(AKEY, 8))
    assert not found, f"key in the {where} of a passed-through stream: " + "; ".join(found)
    assert_gateway_ok(gw, mock, f"anthropic key in stream {where}")


def test_anthropic_key_split_across_http_chunks(mock, gateway_factory):
    """The key inside one text_delta event, whose bytes arrive in two HTTP chunks split at every
    position inside the key."""
    gw = gateway_factory(hostile_config(mock))
    events = [e + "\n\n" for e in anthropic_stream_events(["before ", f"the key {AKEY} after"])]
    i = next(k for k, e in enumerate(events) if AKEY in e)
    at = events[i].index(AKEY)
    found, bad = [], []
    for split in range(1, len(AKEY)):
        chunks = events[:i] + [events[i][:at + split], events[i][at + split:]] + events[i + 1:]
        mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                      "reply": {"type": "sse", "raw": True, "events": chunks, "delay_ms": 20}}])
        resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=True, model=NATIVE, timeout=DEADLINE)
        out = rk.classify(resp, True)
        if out.kind != "success":
            bad.append(f"split {split}: {out.kind} {out.detail[:200]}")
        found += [f"split {split}: {f}" for f in leak_report(resp.raw_head + resp.body, key_needles(AKEY, 8))]
    assert not bad, "streams that did not end with message_stop:\n" + "\n".join(bad[:8])
    assert not found, f"{len(found)} leaks, e.g.\n" + "\n".join(found[:8])
    assert_gateway_ok(gw, mock, "anthropic key split across chunks")


# --------------------------------------------------------------------------- 6: the key in a translated stream

def test_openai_key_in_one_stream_delta(mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                  "reply": {"type": "sse", "events": chat_stream_events(["your key: ", f"{UPSTREAM_KEY} ok"])}}])
    resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=True, timeout=DEADLINE)
    out = rk.classify(resp, True)
    assert out.kind == "success", f"{out} | {resp.short(400)}"
    assert UPSTREAM_KEY not in out.text, f"the key reached the client's text: {out.text!r}"
    assert not leak_report(resp.raw_head + resp.body, {"the key": UPSTREAM_KEY})
    assert_gateway_ok(gw, mock, "openai key in one delta")


def test_openai_key_in_one_delta_split_across_http_chunks(mock, gateway_factory):
    """One content delta whose SSE line arrives in two HTTP chunks, cut inside the key."""
    gw = gateway_factory(hostile_config(mock))
    events = [e + "\n\n" for e in chat_stream_events(["your key: ", f"{UPSTREAM_KEY} ok"])]
    i = next(k for k, e in enumerate(events) if UPSTREAM_KEY in e)
    at = events[i].index(UPSTREAM_KEY)
    found = []
    for split in (1, 6, len(UPSTREAM_KEY) // 2, len(UPSTREAM_KEY) - 1):
        chunks = events[:i] + [events[i][:at + split], events[i][at + split:]] + events[i + 1:]
        mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                      "reply": {"type": "sse", "raw": True, "events": chunks, "delay_ms": 20}}])
        resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=True, timeout=DEADLINE)
        out = rk.classify(resp, True)
        assert out.kind == "success", f"split {split}: {out} | {resp.short(400)}"
        if UPSTREAM_KEY in out.text or UPSTREAM_KEY.encode() in resp.body:
            found.append(f"split {split}: {out.text!r}")
    assert not found, "\n".join(found)
    assert_gateway_ok(gw, mock, "openai key in one delta, split across chunks")


def test_openai_key_split_across_two_deltas(mock, gateway_factory):
    """The key cut between two consecutive content deltas (two chunks): the client's text,
    once concatenated, must not hold it."""
    gw = gateway_factory(hostile_config(mock))
    found, bad = [], []
    for split in range(1, len(UPSTREAM_KEY)):
        texts = ["your key: " + UPSTREAM_KEY[:split], UPSTREAM_KEY[split:] + " ok"]
        mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                      "reply": {"type": "sse", "events": chat_stream_events(texts), "delay_ms": 20}}])
        resp = rk.post_messages(gw.port, "HOSTILE-KEY", stream=True, timeout=DEADLINE)
        out = rk.classify(resp, True)
        if out.kind != "success":
            bad.append(f"split {split}: {out.kind} {out.detail[:200]}")
        if UPSTREAM_KEY in out.text:
            found.append(f"split {split}: {out.text!r}")
    assert not bad, "\n".join(bad[:8])
    assert not found, f"{len(found)} of {len(UPSTREAM_KEY) - 1} splits leaked the key, e.g.\n" + "\n".join(found[:5])
    assert_gateway_ok(gw, mock, "openai key split across deltas")


def test_openai_key_in_nonstream_content(mock, gateway_factory):
    """(Beyond the brief's list) the non-streamed counterpart of the translated-stream cases."""
    gw = gateway_factory(hostile_config(mock))
    mock.script([{"match": {"last_user_contains": "HOSTILE-KEY"}, "times": 1,
                  "reply": {"type": "chat", "content": f"your key: {UPSTREAM_KEY} ok"}}])
    resp = rk.post_messages(gw.port, "HOSTILE-KEY", timeout=DEADLINE)
    out = rk.classify(resp, False)
    assert out.kind == "success", f"{out} | {resp.short(400)}"
    assert not leak_report(resp.raw_head + resp.body, {"the key": UPSTREAM_KEY}), out.text
    assert_gateway_ok(gw, mock, "openai key in non-stream content")


# --------------------------------------------------------------------------- 7: reasoning_details flood

def test_reasoning_details_flood(mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    detail = chat_chunk({"reasoning_details": [{"type": "reasoning.text", "text": "ab",
                                                "format": "openai-responses-v1", "index": 0}]})
    events = [chat_chunk({"role": "assistant", "content": ""}), {"repeat": detail, "count": 4000},
              chat_chunk({"content": "answer"})] + chat_stream_events([])[1:]
    mock.script([{"match": {"last_user_contains": "HOSTILE-FLOOD"}, "times": 1, "reply": {"type": "sse", "events": events}}])
    resp = rk.post_messages(gw.port, "HOSTILE-FLOOD", stream=True, timeout=BIG_DEADLINE)
    out = rk.classify(resp, True)
    assert out.kind == "success" and out.text == "answer", f"{out} | {resp.short(400)}"
    parsed = rk.parse_sse(resp.body)
    thinking = [d["index"] for n, d in parsed if n == "content_block_start" and d["content_block"]["type"] == "thinking"]
    assert len(thinking) == 1, f"expected one thinking block, got {len(thinking)}"
    signature = "".join(d["delta"]["signature"] for n, d in parsed if n == "content_block_delta"
                        and d["index"] == thinking[0] and d["delta"]["type"] == "signature_delta")
    assert signature.startswith("gw1:"), signature[:80]
    decoded = json.loads(base64.b64decode(signature[4:], validate=True))
    assert decoded.get("text") == "ab" * 4000, f"decoded detail text has {len(decoded.get('text') or '')} chars"
    assert_gateway_ok(gw, mock, "reasoning_details flood")


# --------------------------------------------------------------------------- 8: FIN in the middle of a chunk

@pytest.mark.parametrize("fin_after", [None, 0], ids=["half-chunk", "chunk-header-only"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_fin_mid_chunk_after_relayed_event(kind, fin_after, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    if kind == "openai":
        events = chat_stream_events(["Hello", " world", " never finished"])[:4]
    else:
        events = anthropic_stream_events(["Hello", " world", " never finished"])[:5]
    reply = {"type": "sse", "events": events, "end": "fin_mid_chunk", "delay_ms": 50}
    if fin_after is not None:
        reply["fin_after"] = fin_after
    mock.script([{"match": {"last_user_contains": "HOSTILE-FIN"}, "times": 1, "reply": reply}])
    model = TRANSLATED if kind == "openai" else NATIVE
    resp = rk.post_messages(gw.port, "HOSTILE-FIN", stream=True, model=model, timeout=DEADLINE)
    label = f"{kind}: FIN mid-chunk ({fin_after or 'half'})"
    out = rk.classify(resp, True)
    assert resp.status == 200 and out.kind == "error_event", f"{label}: {out} | {resp.short(800)}"
    assert rk.parse_sse(resp.body)[-1][1]["error"]["type"] == "api_error", f"{label}: {out.detail}"
    assert b"message_stop" not in resp.body
    assert_gateway_ok(gw, mock, label)


# --------------------------------------------------------------------------- 9: enormous and odd strings

FIVE_MB_TEXT = "\u00e9\u20ac\U0001F600" * (5 * 1024 * 1024 // 9)   # 2-, 3- and 4-byte characters, 5 MiB of UTF-8


def json_pieces(text: str, escaped: bool, size: int = 65536) -> list[str]:
    """`text` as JSON string literal contents (\\u escapes with surrogate pairs, or raw UTF-8), in
    pieces of `size` characters: one content delta each when streamed."""
    return [json.dumps(text[i:i + size], ensure_ascii=escaped)[1:-1] for i in range(0, len(text), size)]


# name: (pieces of the JSON string literal the upstream sends, texts the client may see on success)
ODD = {
    "5mb-escaped": (lambda: json_pieces(FIVE_MB_TEXT, True), lambda: [FIVE_MB_TEXT]),
    "5mb-raw-utf8": (lambda: json_pieces(FIVE_MB_TEXT, False), lambda: [FIVE_MB_TEXT]),
    "surrogate-pair": (lambda: ["a\\ud83d\\ude00b"], lambda: ["a\U0001F600b"]),
    "lone-surrogate": (lambda: ["a\\ud800b"], lambda: ["a\ud800b", "a\ufffdb"]),
    "lone-low-and-trailing-high": (lambda: ["a\\udc00b\\ud83d"], lambda: ["a\udc00b\ud83d", "a\ufffdb\ufffd"]),
    "nul": (lambda: ["a\\u0000b\\u0000"], lambda: ["a\x00b\x00"]),
}
PLACEHOLDER = "@@ODD-TEXT@@"


def odd_events(kind: str, pieces: list[str]) -> list[str]:
    """A complete stream whose content deltas carry exactly the given JSON literals."""
    build = chat_stream_events if kind == "openai" else anthropic_stream_events
    events, it = build([PLACEHOLDER] * len(pieces)), iter(pieces)
    return [e.replace(PLACEHOLDER, next(it)) if PLACEHOLDER in e else e for e in events]


def odd_body(kind: str, literal: str) -> str:
    """A non-streamed answer whose text is exactly the JSON literal `literal`."""
    if kind == "openai":
        body = {"id": "gen-odd", "object": "chat.completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": PLACEHOLDER},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
    else:
        body = {"id": "msg_odd", "type": "message", "role": "assistant", "model": "claude-upstream",
                "content": [{"type": "text", "text": PLACEHOLDER}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}
    return json.dumps(body).replace(PLACEHOLDER, literal)


def odd_reply(kind: str, stream: bool, pieces: list[str]) -> dict:
    if stream:
        return {"type": "sse", "events": odd_events(kind, pieces)}
    return {"type": "json", "body_text": odd_body(kind, "".join(pieces))}


def judge_odd(resp, stream, accepted, label):
    out = rk.classify(resp, stream)
    assert out.kind != "bad", f"{label}: {out.detail[:600]}"
    if out.kind == "success":
        assert out.text in accepted, \
            f"{label}: 200 but the text is not intact ({len(out.text)} chars: {out.text[:40]!r}…{out.text[-40:]!r})"
    return out


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("name", list(ODD))
def test_odd_strings(name, kind, stream, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    pieces, accepted = ODD[name][0](), ODD[name][1]()
    mock.script([{"match": {"last_user_contains": "HOSTILE-ODD"}, "times": 1, "reply": odd_reply(kind, stream, pieces)}])
    resp = rk.post_messages(gw.port, "HOSTILE-ODD", stream=stream, model=TRANSLATED if kind == "openai" else NATIVE,
                            timeout=BIG_DEADLINE)
    label = f"{name} {kind} stream={stream}"
    out = judge_odd(resp, stream, accepted, label)
    print(f"\n{label}: {out.kind} status={resp.status} {out.detail[:100]}")
    assert_gateway_ok(gw, mock, label)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_utf8_character_split_across_http_chunks(kind, mock, gateway_factory):
    """Raw UTF-8 where 2-, 3- and 4-byte characters are cut between HTTP chunks: the text arrives
    intact (a byte-level split is legal HTTP and must not become U+FFFD or a dropped line)."""
    gw = gateway_factory(hostile_config(mock))
    text = "caf\u00e9 \u20ac5 \U0001F600!"
    raw_events = [(e + "\n\n").encode() for e in odd_events(kind, [text])]  # raw UTF-8 in the JSON
    i = next(k for k, e in enumerate(raw_events) if "\u00e9".encode() in e)
    line = raw_events[i]
    cuts = [line.index(c.encode()) + 1 for c in ("\u00e9", "\u20ac", "\U0001F600")]
    cuts.append(line.index("\U0001F600".encode()) + 3)
    parts, last = [], 0
    for c in sorted(cuts):
        parts.append(line[last:c])
        last = c
    parts.append(line[last:])
    chunks = [raw_chunk(e) for e in raw_events[:i]] + [raw_chunk(p) for p in parts] + [raw_chunk(e) for e in raw_events[i + 1:]]
    mock.script([{"match": {"last_user_contains": "HOSTILE-ODD"}, "times": 1,
                  "reply": {"type": "sse", "events": chunks, "delay_ms": 20}}])
    resp = rk.post_messages(gw.port, "HOSTILE-ODD", stream=True, model=TRANSLATED if kind == "openai" else NATIVE,
                            timeout=DEADLINE)
    out = rk.classify(resp, True)
    assert out.kind == "success" and out.text == text, f"{kind}: {out} | {resp.short(600)}"
    assert_gateway_ok(gw, mock, f"utf-8 split across chunks ({kind})")


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_invalid_utf8_in_content(kind, stream, mock, gateway_factory):
    """(Beyond the brief's list) bytes that are not UTF-8 inside a JSON string (`a\\xff\\xfe\\xc3b`):
    a 200 whose text still has what came around them (U+FFFD for the bad bytes is fine), or an
    error envelope; never a dropped connection, and never a 'success' that silently lost the text."""
    gw = gateway_factory(hostile_config(mock))
    marker, invalid = "INVALID-UTF8-HERE", b"a\xff\xfe\xc3b"
    if stream:
        reply = {"type": "sse", "events": [raw_chunk((e + "\n\n").encode().replace(marker.encode(), invalid))
                                           for e in odd_events(kind, [marker])]}
    else:
        reply = {"type": "json", "body_b64": base64.b64encode(odd_body(kind, marker).encode()
                                                              .replace(marker.encode(), invalid)).decode()}
    mock.script([{"match": {"last_user_contains": "HOSTILE-ODD"}, "times": 1, "reply": reply}])
    resp = rk.post_messages(gw.port, "HOSTILE-ODD", stream=stream, model=TRANSLATED if kind == "openai" else NATIVE,
                            timeout=DEADLINE)
    label = f"invalid utf-8 {kind} stream={stream}"
    # Judged as a lenient client reads it: a passthrough may relay the upstream's bytes as they are.
    resp.body = resp.body.decode("utf-8", "replace").encode()
    out = rk.classify(resp, stream)
    assert out.kind != "bad", f"{label}: {out.detail[:400]}"
    if out.kind == "success":
        assert out.text.startswith("a") and out.text.endswith("b"), f"{label}: 200 with the text {out.text!r}"
    assert_gateway_ok(gw, mock, label)


# --------------------------------------------------------------------------- 10: chunk flood

@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_chunk_flood_50000_one_character_deltas(kind, mock, gateway_factory):
    gw = gateway_factory(hostile_config(mock))
    text = "".join(chr(0x61 + (i * 7) % 26) for i in range(50_000))
    reply_type = "chat" if kind == "openai" else "anthropic"
    mock.script([{"match": {"last_user_contains": "HOSTILE-FLOOD"}, "times": 1,
                  "reply": {"type": reply_type, "content": text, "chunk_size": 1}}])
    resp = rk.post_messages(gw.port, "HOSTILE-FLOOD", stream=True, model=TRANSLATED if kind == "openai" else NATIVE,
                            timeout=BIG_DEADLINE)
    out = rk.classify(resp, True)
    assert out.kind == "success", f"{kind} flood: {out} | {resp.short(300)}"
    assert out.text == text, f"{kind} flood: got {len(out.text)} characters, expected 50000 in order"
    assert_gateway_ok(gw, mock, f"{kind} chunk flood")
