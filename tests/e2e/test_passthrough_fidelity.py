"""Anthropic-native routes (provider kind: anthropic) pass requests and answers through untouched,
so fields and beta features newer than the gateway keep working (Claude Code conformance).

Request side: the client's `anthropic-beta` (invented flags included) and `anthropic-version`
reach the upstream unchanged; the body reaches it with every field unchanged except `model` (the
route's target), including top-level fields no spec has and unknown keys inside messages, blocks
and tool definitions; the client's credential never does (the upstream gets the configured key).
Response side: a non-streamed message with unknown fields and block types reaches the client
unchanged, and a streamed reply with unknown event types and fields is relayed byte for byte.

(The gateway also drops thinking blocks whose signature is empty or starts with `gw1:` and
sanitises tool ids; the bodies here avoid both on purpose.)"""
import copy
import http.client
import json
import urllib.parse

import anthropic
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, base_config, register_secret
from helpers import client, raw, route, sha256_hex, target, upstream_calls

UPSTREAM_MODEL = "claude-upstream-model"
CLIENT_MODEL = "claude-sonnet-5-5"
BETA = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,future-feature-2027-01-01"
USER_TOKEN = register_secret("sk-sw-native-user-" + "6c2e9a41f07b")
OPEN_MODE_CLIENT_KEY = register_secret("sk-client-native-" + "open-3b8d5e")


def _native_config(mock, **overrides):
    return base_config(mock, routes=[route("native", ["*"], [target(UPSTREAM_MODEL, provider="mock-anthropic")])],
                       **overrides)


@pytest.fixture
def native_gw(gateway_factory, mock):
    return gateway_factory(_native_config(mock))


def _only_upstream_call(mock) -> dict:
    calls = upstream_calls(mock, "anthropic")
    assert len(calls) == 1 and len(mock.requests()) == 1, [(r["method"], r["path"]) for r in mock.requests()]
    return calls[0]


def _rich_body(stream: bool) -> dict:
    """A Messages request as a newer client might send it: every known field in use, plus fields
    and keys no spec has, at the top level and nested in messages, blocks and tools."""
    return {
        "model": CLIENT_MODEL,
        "max_tokens": 4096,
        "stream": stream,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral", "ttl": "1h"},
                    "future_system_key": {"level": 3}}],
        "messages": [
            {"role": "user", "future_message_key": "m-1",
             "content": [{"type": "text", "text": "Hi – ünïcödé ✓ \"quoted\" \\ back\u2028line 😀",
                          "cache_control": {"type": "ephemeral"}, "future_text_key": [1, {"deep": None}, 2.5]}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Let me look.", "signature": "EqQBCkYIBxgCKkD0real+signature/AA=="},
                {"type": "text", "text": "Running it.", "future_text_key": True},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "Bash",
                 "input": {"command": "ls -la", "timeout": 1.5, "nested": {"list": [], "obj": {}}},
                 "caller": {"type": "direct"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "is_error": False,
                 "content": [{"type": "text", "text": "total 0"}], "future_result_key": "r"},
                {"type": "text", "text": "Thanks, now summarise."}]},
        ],
        "tools": [
            {"name": "Bash", "description": "Run a shell command",
             "input_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                              "properties": {"command": {"type": "string"}}, "required": ["command"],
                              "additionalProperties": False},
             "future_tool_key": {"a": [1, 2]}, "eager_input_streaming": True, "cache_control": {"type": "ephemeral"}},
            {"name": "DeferredToolPlaceholder", "description": "", "input_schema": {"type": "object"},
             "defer_loading": True},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "future_server_tool_20270101", "name": "future_tool", "config": {"k": "v"}},
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True, "future_choice_key": 1},
        "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
        "metadata": {"user_id": "user_abc_account_def_session_0123", "future_metadata_key": "x"},
        "temperature": 1,
        "top_k": 40,
        "stop_sequences": ["\n\nHuman:"],
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919",
                                          "trigger": {"type": "input_tokens", "value": 30000}}]},
        "output_config": {"effort": "high", "future_output_key": [None]},
        "future_field": {"a": [1, 2]},
        "container": "container_011CPR5CSx6wWbx5vyYMJ8Tk",
        "mcp_servers": [{"type": "url", "url": "https://mcp.example.invalid/sse", "name": "example"}],
        "service_tier": "auto",
        "future_null": None,
        "future_number": -12.75e-3,
    }


# ---------------------------------------------------------------- request headers

@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("version", ["2023-06-01", "2027-01-01"])
def test_beta_and_version_headers_reach_upstream_unchanged(native_gw, mock, stream, version):
    beta = "claude-code-20250219, interleaved-thinking-2025-05-14,future-feature-2027-01-01"
    resp = raw(native_gw, "POST", "/v1/messages?beta=true",
               {"model": CLIENT_MODEL, "max_tokens": 32, "stream": stream, "messages": [{"role": "user", "content": "hi"}]},
               headers={"anthropic-version": version, "anthropic-beta": beta, "x-api-key": OPEN_MODE_CLIENT_KEY})
    assert resp.status == 200, resp
    headers = _only_upstream_call(mock)["headers"]
    assert headers.get("anthropic-beta") == beta
    assert headers.get("anthropic-version") == version


def test_sdk_betas_reach_upstream(native_gw, mock):
    """The SDK's `betas=[…]` (one comma-joined header) arrives as the client sent it."""
    betas = ["context-management-2025-06-27", "future-feature-2027-01-01"]
    c = client(native_gw)
    msg = c.beta.messages.create(model=CLIENT_MODEL, max_tokens=16, betas=betas,
                                 messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "mock: no rule matched"
    headers = _only_upstream_call(mock)["headers"]
    assert headers.get("anthropic-beta") == ",".join(betas)
    # whatever version the SDK speaks (anthropic 2.14 sends a 2026 date) is what the upstream sees
    assert headers.get("anthropic-version") == c.default_headers["anthropic-version"]


def test_repeated_beta_header_lines_all_reach_upstream(native_gw, mock):
    """Two `anthropic-beta` lines mean the same as one comma-joined line: every flag arrives."""
    u = urllib.parse.urlsplit(native_gw.base_url)
    payload = json.dumps({"model": CLIENT_MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}).encode()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/messages")
        for name, value in [("content-type", "application/json"), ("content-length", str(len(payload))),
                            ("anthropic-version", "2023-06-01"), ("anthropic-beta", "claude-code-20250219"),
                            ("anthropic-beta", "future-feature-2027-01-01")]:
            conn.putheader(name, value)
        conn.endheaders(payload)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()
    forwarded = _only_upstream_call(mock)["headers"].get("anthropic-beta", "")
    assert {f.strip() for f in forwarded.split(",")} == {"claude-code-20250219", "future-feature-2027-01-01"}, forwarded


def test_no_beta_header_sends_none_upstream(native_gw, mock):
    assert raw(native_gw, "POST", "/v1/messages", {"model": CLIENT_MODEL, "max_tokens": 8,
                                                   "messages": [{"role": "user", "content": "hi"}]}).status == 200
    headers = _only_upstream_call(mock)["headers"]
    assert "anthropic-beta" not in headers
    assert headers.get("anthropic-version") == "2023-06-01"


# ---------------------------------------------------------------- request body

@pytest.mark.parametrize("stream", [False, True])
def test_request_body_reaches_upstream_unchanged_except_model(native_gw, mock, stream):
    body = _rich_body(stream)
    sent = copy.deepcopy(body)
    resp = raw(native_gw, "POST", "/v1/messages?beta=true", body,
               headers={"anthropic-version": "2023-06-01", "anthropic-beta": BETA})
    assert resp.status == 200, resp
    forwarded = _only_upstream_call(mock)["body"]
    assert forwarded["model"] == UPSTREAM_MODEL
    expected = dict(sent, model=UPSTREAM_MODEL)
    assert set(forwarded) == set(expected), set(forwarded) ^ set(expected)
    for key in expected:
        assert forwarded[key] == expected[key], key
    assert forwarded == expected


def test_request_body_unchanged_via_sdk_extra_body(native_gw, mock):
    """The same through the official SDK: fields its signature lacks (anthropic 2.14's beta
    `create` has no temperature or top_k) and unknown ones go as `extra_body`."""
    body = _rich_body(False)
    known = {k: body[k] for k in ("max_tokens", "system", "messages", "tools", "tool_choice", "thinking",
                                  "metadata", "stop_sequences")}
    extra = {k: v for k, v in body.items() if k not in known and k not in ("model", "stream")}
    client(native_gw).beta.messages.create(model=CLIENT_MODEL, betas=["future-feature-2027-01-01"],
                                           extra_body=extra, **known)
    forwarded = _only_upstream_call(mock)["body"]
    assert forwarded == dict(known, **extra, model=UPSTREAM_MODEL)


def test_string_content_and_string_system_stay_strings(native_gw, mock):
    body = {"model": CLIENT_MODEL, "max_tokens": 8, "system": "plain system", "future_field": {"a": [1, 2]},
            "messages": [{"role": "user", "content": "plain text"}]}
    assert raw(native_gw, "POST", "/v1/messages", body).status == 200
    assert _only_upstream_call(mock)["body"] == dict(body, model=UPSTREAM_MODEL)


# ---------------------------------------------------------------- credentials

@pytest.mark.parametrize("style", ["x-api-key", "bearer"])
def test_client_credential_never_forwarded_open_mode(native_gw, mock, style):
    header = {"x-api-key": OPEN_MODE_CLIENT_KEY} if style == "x-api-key" else {"authorization": "Bearer " + OPEN_MODE_CLIENT_KEY}
    resp = raw(native_gw, "POST", "/v1/messages", {"model": CLIENT_MODEL, "max_tokens": 8,
                                                   "messages": [{"role": "user", "content": "hi"}]}, headers=header)
    assert resp.status == 200, resp
    call = _only_upstream_call(mock)
    assert call["headers"].get("x-api-key") == ANTHROPIC_UPSTREAM_KEY
    assert "authorization" not in call["headers"]
    assert OPEN_MODE_CLIENT_KEY not in json.dumps(call)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("style", ["x-api-key", "bearer"])
def test_user_token_never_forwarded_tokens_mode(gateway_factory, mock, style, stream):
    gw = gateway_factory(_native_config(mock, auth={"mode": "tokens"},
                                        users=[{"name": "dev", "token_sha256": sha256_hex(USER_TOKEN)}]))
    header = {"x-api-key": USER_TOKEN} if style == "x-api-key" else {"authorization": "Bearer " + USER_TOKEN}
    resp = raw(gw, "POST", "/v1/messages", {"model": CLIENT_MODEL, "max_tokens": 8, "stream": stream,
                                            "messages": [{"role": "user", "content": "hi"}]},
               headers=dict(header, **{"anthropic-beta": BETA}))
    assert resp.status == 200, resp
    call = _only_upstream_call(mock)
    assert call["headers"].get("x-api-key") == ANTHROPIC_UPSTREAM_KEY
    assert "authorization" not in call["headers"]
    assert call["headers"].get("anthropic-beta") == BETA
    assert USER_TOKEN not in json.dumps(call)


# ---------------------------------------------------------------- response side

def _future_message() -> dict:
    return {
        "id": "msg_01FutureFieldsXyZ",
        "type": "message",
        "role": "assistant",
        "model": UPSTREAM_MODEL,
        "content": [
            {"type": "thinking", "thinking": "hm", "signature": "EqQBCkYIBxgCKkD0real+signature/AA=="},
            {"type": "text", "text": "Hello – ✓", "citations": None, "future_text_field": {"a": 1}},
            {"type": "future_block_2027", "payload": {"nested": [1, 2, 3], "flag": True}},
            {"type": "tool_use", "id": "toolu_01FutureBlock", "name": "Bash", "input": {"command": "ls"},
             "caller": {"type": "direct"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 6, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "server_tool_use": {"web_search_requests": 0},
                  "service_tier": "standard", "future_usage": {"z": 1}},
        "container": None,
        "context_management": {"applied_edits": []},
        "future_top_level": {"x": [1, 2], "y": None},
    }


def test_non_streamed_message_with_unknown_fields_reaches_client_unchanged(native_gw, mock):
    message = _future_message()
    mock.script({"match": {"api": "anthropic", "stream": False}, "reply": {"type": "json", "body": message}})
    resp = raw(native_gw, "POST", "/v1/messages?beta=true",
               {"model": CLIENT_MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
               headers={"anthropic-version": "2023-06-01", "anthropic-beta": BETA})
    assert resp.status == 200, resp
    assert resp.headers.get("content-type", "").startswith("application/json")
    assert resp.json() == message


def test_non_streamed_unknown_block_survives_the_sdk(native_gw, mock):
    """The SDK keeps what it does not know, so the gateway must deliver it."""
    message = _future_message()
    mock.script({"match": {"api": "anthropic", "stream": False}, "reply": {"type": "json", "body": message}})
    msg = client(native_gw).beta.messages.create(model=CLIENT_MODEL, max_tokens=64, betas=["future-feature-2027-01-01"],
                                                 messages=[{"role": "user", "content": "hi"}])
    assert [b.type for b in msg.content] == ["thinking", "text", "future_block_2027", "tool_use"]
    assert getattr(msg, "future_top_level") == {"x": [1, 2], "y": None}


def _future_stream() -> list[str]:
    """Raw SSE bytes as an upstream newer than the gateway might send them: unknown event types,
    unknown fields in known events, an unknown block type and delta type, pings, a comment, and
    events split across HTTP chunks (the mock sends each string as one chunk)."""
    def ev(name, data):
        return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"
    start = {"type": "message_start", "message": {
        "id": "msg_01FutureStream", "type": "message", "role": "assistant", "model": UPSTREAM_MODEL, "content": [],
        "stop_reason": None, "stop_sequence": None, "future_message_field": {"k": "v"},
        "usage": {"input_tokens": 21, "output_tokens": 1, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "service_tier": "standard", "future_usage": 7}}}
    future = ev("future_event", {"type": "future_event", "x": 1})
    split_at = len(future) // 2
    return [
        ev("message_start", start),
        future[:split_at], future[split_at:],
        ev("ping", {"type": "ping"}),
        ev("content_block_start", {"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "text", "text": "", "future_block_field": True}}),
        ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                   "delta": {"type": "text_delta", "text": "Hello – ✓", "future_delta_field": [1]}}),
        ": a comment line the upstream sent\n\n",
        ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                   "delta": {"type": "future_delta_kind", "payload": "x"}}),
        ev("content_block_stop", {"type": "content_block_stop", "index": 0, "future_stop_field": None}),
        ev("content_block_start", {"type": "content_block_start", "index": 1,
                                   "content_block": {"type": "future_block_2027", "payload": {"n": 1}}}),
        ev("content_block_delta", {"type": "content_block_delta", "index": 1,
                                   "delta": {"type": "future_block_delta", "more": [1, 2]}}),
        ev("content_block_stop", {"type": "content_block_stop", "index": 1}),
        "event: future_event_2\ndata: {\"type\": \"future_event_2\", \"spaced\": true}\n\n",
        ev("message_delta", {"type": "message_delta", "context_management": {"applied_edits": []},
                             "delta": {"stop_reason": "end_turn", "stop_sequence": None, "future_delta": {"k": 2}},
                             "usage": {"output_tokens": 9, "future_usage": 3}}),
        ev("message_stop", {"type": "message_stop", "future_stop": 1}),
    ]


def test_streamed_reply_with_unknown_events_is_byte_identical(native_gw, mock):
    events = _future_stream()
    mock.script({"match": {"api": "anthropic", "stream": True}, "reply": {"type": "sse", "raw": True, "events": events}})
    resp = raw(native_gw, "POST", "/v1/messages?beta=true",
               {"model": CLIENT_MODEL, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "hi"}]},
               headers={"anthropic-version": "2023-06-01", "anthropic-beta": BETA})
    assert resp.status == 200, resp
    assert resp.headers.get("content-type", "").startswith("text/event-stream")
    expected = "".join(events).encode()
    assert resp.body == expected, (resp.body.decode(errors="replace"), expected.decode())


def test_streamed_unknown_events_survive_the_sdk(native_gw, mock):
    """The SDK's stream accumulator tolerates the unknown events; the text and usage arrive."""
    mock.script({"match": {"api": "anthropic", "stream": True}, "reply": {"type": "sse", "raw": True, "events": _future_stream()}})
    c = anthropic.Anthropic(base_url=native_gw.base_url, api_key="client-key", max_retries=0, timeout=30)
    with c.messages.stream(model=CLIENT_MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as stream:
        names = [event.type for event in stream]
        final = stream.get_final_message()
    assert "message_stop" in names
    assert final.content[0].type == "text" and final.content[0].text == "Hello – ✓"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 9
    assert _only_upstream_call(mock)["body"]["model"] == UPSTREAM_MODEL
