"""Translated routes (provider kind: openai) tolerate what a newer Claude Code or SDK may send:
top-level fields the gateway does not know, unknown headers and unknown beta flags get a normal
answer (never a 400 for an unknown top-level field), and none of those fields reaches the OpenAI
request body (Claude Code conformance; translation-spec.md: unknown top-level keys are ignored and
never forwarded to OpenAI upstreams)."""
import json

import pytest

from conftest import base_config
from helpers import client, messages_body, raw, upstream_calls

MARKER = "FUTURE-MARKER-5d31"   # a value only the unknown fields carry: it must not appear upstream

# Top-level fields the Messages API has (or may grow) that an OpenAI upstream has no use for.
UNKNOWN_FIELDS = {
    "future_field": {"a": [1, 2], "marker": MARKER},
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 30000},
                                      "note": MARKER}]},
    "container": "container_" + MARKER,
    "mcp_servers": [{"type": "url", "url": "https://mcp.example.invalid/" + MARKER, "name": "example",
                     "authorization_token": MARKER}],
    "service_tier": "auto",
    "speed": "fast",
    "inference_geo": "us-" + MARKER,
    "compaction": {"type": "summarize", "instructions": MARKER},
    "diagnostics": {"previous_message_id": "msg_" + MARKER},
    "future_null": None,
    "future_list": [MARKER, 1, True, None],
}
UNKNOWN_HEADERS = {
    "anthropic-beta": "claude-code-20250219,context-management-2025-06-27,future-feature-2027-01-01,fast-mode-2026-02-01",
    "anthropic-version": "2023-06-01",
    "x-future-header": MARKER,
    "x-claude-code-session-id": "5c0a6e36-6a1b-4f1e-9d35-0b5c3f1e2a77",
    "anthropic-dangerous-direct-browser-access": "true",
    "x-app": "cli",
    "x-stainless-helper-method": "stream",
}


def _assert_nothing_leaked(call: dict) -> None:
    body = call["body"]
    assert isinstance(body, dict), body
    leaked = set(UNKNOWN_FIELDS) & set(body)
    assert not leaked, f"unknown top-level fields reached the OpenAI request: {sorted(leaked)}"
    assert MARKER not in json.dumps(body), "a value of an unknown field reached the OpenAI request"
    assert "anthropic-beta" not in call["headers"] and "anthropic-version" not in call["headers"]


@pytest.fixture(params=["openrouter", "openai"])
def translated_gw(request, gateway_factory, mock):
    cfg = base_config(mock)
    cfg["providers"]["mock"]["dialect"] = request.param
    return gateway_factory(cfg)


@pytest.mark.parametrize("stream", [False, True])
def test_all_unknown_fields_and_headers_together(translated_gw, mock, stream):
    mock.script({"match": {"api": "openai"}, "times": -1, "reply": {"type": "chat", "content": "tolerated"}})
    resp = raw(translated_gw, "POST", "/v1/messages?beta=true", messages_body(stream=stream, **UNKNOWN_FIELDS),
               headers=UNKNOWN_HEADERS)
    assert resp.status == 200, resp
    if stream:
        events = [e for e in resp.events() if e["event"] != "ping"]
        assert events[-1]["event"] == "message_stop", events
        text = "".join(e["data"]["delta"].get("text", "") for e in events if e["event"] == "content_block_delta")
        assert text == "tolerated"
    else:
        assert resp.json()["content"] == [{"type": "text", "text": "tolerated"}]
    (call,) = upstream_calls(mock, "openai")
    assert call["body"]["model"] == "mock/model-a"
    assert call["body"]["messages"][-1]["content"] in ("Hi", [{"type": "text", "text": "Hi"}])
    _assert_nothing_leaked(call)
    assert MARKER not in json.dumps(call["headers"])


@pytest.mark.parametrize("field", sorted(UNKNOWN_FIELDS))
def test_each_unknown_field_alone_is_accepted(gateway, mock, field):
    mock.script({"match": {"api": "openai"}, "reply": {"type": "chat", "content": "ok"}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(**{field: UNKNOWN_FIELDS[field]}),
               headers={"anthropic-version": "2023-06-01"})
    assert resp.status == 200, resp
    (call,) = upstream_calls(mock, "openai")
    _assert_nothing_leaked(call)


def test_unknown_keys_inside_known_objects_are_accepted(gateway, mock):
    """Unknown keys nested in a message, a text block, a tool definition, thinking, metadata and
    output_config: accepted, and not copied into the OpenAI request."""
    mock.script({"match": {"api": "openai"}, "reply": {"type": "chat", "content": "nested ok"}})
    body = messages_body(
        messages=[{"role": "user", "future_message_key": MARKER,
                   "content": [{"type": "text", "text": "Hi", "future_text_key": MARKER}]}],
        system=[{"type": "text", "text": "sys", "future_system_key": MARKER}],
        tools=[{"name": "Bash", "description": "Run", "input_schema": {"type": "object", "properties": {}},
                "future_tool_key": MARKER, "eager_input_streaming": True}],
        tool_choice={"type": "auto", "future_choice_key": MARKER},
        thinking={"type": "enabled", "budget_tokens": 1024, "future_thinking_key": MARKER},
        metadata={"user_id": "u-1", "future_metadata_key": MARKER},
        output_config={"effort": "low", "future_output_key": MARKER},
        max_tokens=4096,
    )
    resp = raw(gateway, "POST", "/v1/messages", body, headers={"anthropic-version": "2023-06-01"})
    assert resp.status == 200, resp
    (call,) = upstream_calls(mock, "openai")
    assert MARKER not in json.dumps(call["body"]), call["body"]
    assert call["body"]["tools"][0]["function"]["name"] == "Bash"


def test_sdk_with_betas_and_extra_body(gateway, mock):
    """The official SDK's beta path: `betas=[…]` plus new fields as `extra_body`."""
    mock.script({"match": {"api": "openai"}, "times": -1, "reply": {"type": "chat", "content": "sdk tolerated"}})
    c = client(gateway)
    msg = c.beta.messages.create(model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}],
                                 betas=["future-feature-2027-01-01", "context-management-2025-06-27"],
                                 extra_headers={"x-future-header": MARKER}, extra_body=UNKNOWN_FIELDS)
    assert msg.content[0].text == "sdk tolerated"
    with c.beta.messages.stream(model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}],
                                betas=["future-feature-2027-01-01"], extra_body=UNKNOWN_FIELDS) as s:
        assert "".join(s.text_stream) == "sdk tolerated"
    calls = upstream_calls(mock, "openai")
    assert len(calls) == 2
    for call in calls:
        _assert_nothing_leaked(call)


def test_count_tokens_accepts_unknown_fields_and_betas(gateway, mock):
    """Claude Code also sends new fields to count_tokens; it answers locally, never 400."""
    body = {"model": "claude-sonnet-5-5", "messages": [{"role": "user", "content": "hello"}], **UNKNOWN_FIELDS}
    resp = raw(gateway, "POST", "/v1/messages/count_tokens?beta=true", body, headers=UNKNOWN_HEADERS)
    assert resp.status == 200, resp
    assert resp.json()["input_tokens"] > 0
    assert mock.requests() == []
