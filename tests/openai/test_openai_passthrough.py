"""OpenAI clients → `kind: openai` targets: no translation (docs/openai-front-door.md "To a kind: openai
target", translation-spec §7.1). The body is forwarded as sent with `model` replaced and max tokens
capped, unknown fields kept, client credentials never forwarded; streamed requests get
`stream_options.include_usage: true` upstream and the usage is hidden again from clients that did not
ask; unchanged chunks are relayed byte for byte; upstream errors come back in the OpenAI envelope with
§5.3 statuses (529 → 503)."""
import json

import openai
import pytest

from conftest import UPSTREAM_KEY, register_secret
from oaikit import (CHAT_PATH, GPT_MODEL, OAI_TARGET, PREFIX_PATH, assert_error, assert_sse, chat_body, chat_config,
                    choice_deltas, chunk_events, client, data_events, data_lines, finish_reasons, only_call, post_chat,
                    route, stream_text, target, without)

CLIENT_KEY = register_secret("sk-client-oai-" + "passthrough-51c7e2")
CLIENT_KEY_2 = register_secret("sk-client-oai-" + "xapikey-0a93f1")
CLIENT_COOKIE = register_secret("client-cookie-oai-" + "77b1d4")
USAGE = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}


@pytest.fixture
def gw(gateway_factory, mock):
    return gateway_factory(chat_config(mock))


def test_sdk_non_stream_forwarded_as_sent_with_model_replaced(gw, mock):
    mock.script({"reply": {"type": "chat", "content": "hello from upstream",
                           "usage": {"prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24}}})
    r = client(gw).chat.completions.create(
        model=GPT_MODEL,
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi", "name": "ann"}],
        temperature=0.3, max_completion_tokens=77, seed=42, logit_bias={"50256": -100}, user="u-1",
        extra_body={"vendor_knob": {"level": 3, "list": [1, "two", None]}, "provider": {"order": ["x", "y"]}})
    call = only_call(mock, "openai")
    assert call["path"] == "/v1/chat/completions"
    assert call["body"] == {
        "model": OAI_TARGET,
        "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi", "name": "ann"}],
        "temperature": 0.3, "max_completion_tokens": 77, "seed": 42, "logit_bias": {"50256": -100}, "user": "u-1",
        "vendor_knob": {"level": 3, "list": [1, "two", None]}, "provider": {"order": ["x", "y"]}}
    assert r.choices[0].message.content == "hello from upstream"
    assert r.choices[0].finish_reason == "stop"
    assert r.model == OAI_TARGET          # the upstream's own answer: the client's protocol, relayed
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (21, 3, 24)


def test_unknown_fields_at_every_level_are_kept(gw, mock):
    body = {
        "model": GPT_MODEL,
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "rules", "x_part_key": {"deep": [1, None]}}]},
            {"role": "user", "content": [{"type": "text", "text": "Hi ✓ 😀"},
                                         {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                                             "detail": "low"}}],
             "x_message_key": "m1"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": True},
                   "x_tool_key": True}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
        "modalities": ["text"], "prediction": {"type": "content", "content": "x"},
        "x_top_level": {"nested": {"list": [1.5, "é", False]}},
    }
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    resp = post_chat(gw, body)
    assert resp.status == 200, resp
    sent = only_call(mock, "openai")["body"]
    assert sent == dict(body, model=OAI_TARGET)


def test_file_by_id_is_forwarded_to_an_openai_upstream(gw, mock):
    """A `file` part by `file_id` is refused only where it cannot be translated (kind: anthropic, front-door
    doc); an OpenAI-compatible upstream gets it as sent."""
    body = chat_body(messages=[{"role": "user", "content": [
        {"type": "text", "text": "read this"}, {"type": "file", "file": {"file_id": "file-abc123"}}]}])
    mock.script({"reply": {"type": "chat", "content": "read"}})
    resp = post_chat(gw, body)
    assert resp.status == 200, resp
    assert only_call(mock, "openai")["body"] == dict(body, model=OAI_TARGET)


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_client_credentials_never_forwarded(gw, mock, stream):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    headers = {"authorization": f"Bearer {CLIENT_KEY}", "x-api-key": CLIENT_KEY_2, "cookie": f"s={CLIENT_COOKIE}"}
    resp = post_chat(gw, chat_body(stream=stream), headers)
    assert resp.status == 200, resp
    call = only_call(mock, "openai")
    up = call["headers"]
    assert up.get("authorization") == f"Bearer {UPSTREAM_KEY}", up
    assert "x-api-key" not in up and "cookie" not in up, up
    dumped = json.dumps(call)
    for secret in (CLIENT_KEY, CLIENT_KEY_2, CLIENT_COOKIE):
        assert secret not in dumped
    assert UPSTREAM_KEY.encode() not in resp.body


def test_max_tokens_capped_by_target(gateway_factory, mock):
    gw = gateway_factory(chat_config(mock, routes=[route("capped", ["gpt-*"], [target(OAI_TARGET, max_tokens=100)])]))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    cases = [({"max_completion_tokens": 5000}, {"max_completion_tokens": 100}),
             ({"max_tokens": 5000}, {"max_tokens": 100}),
             ({"max_tokens": 60}, {"max_tokens": 60}),
             ({"max_completion_tokens": 100}, {"max_completion_tokens": 100}),
             ({}, {})]
    for given, expected in cases:
        assert post_chat(gw, chat_body(**given)).status == 200
        sent = mock.requests()[-1]["body"]
        assert sent == dict(chat_body(model=OAI_TARGET), **expected), (given, sent)


@pytest.mark.parametrize("style", ["openai", "openrouter", "inline"])
def test_stream_usage_forced_upstream_and_hidden_from_client(gw, mock, style):
    mock.script({"reply": {"type": "chat", "content": "Hello stream", "chunk_size": 3, "usage_style": style,
                           "usage": USAGE}})
    body = chat_body(stream=True, max_completion_tokens=50)
    events = assert_sse(post_chat(gw, body))
    sent = only_call(mock, "openai")["body"]
    assert sent["stream_options"] == {"include_usage": True}
    assert without(sent, "stream_options") == dict(body, model=OAI_TARGET)
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    chunks = chunk_events(events)
    assert len(chunks) == len(events) - 1, events
    assert all("usage" not in c for c in chunks), [c for c in chunks if "usage" in c]
    assert all(c["choices"] for c in chunks), "a usage-only chunk reached a client that did not ask for usage"
    assert stream_text(events) == "Hello stream"
    # OpenRouter repeats the finish chunk (the second one carried the usage): both are relayed, minus usage
    assert finish_reasons(events) == (["stop", "stop"] if style == "openrouter" else ["stop"])


@pytest.mark.parametrize("style", ["openai", "openrouter"])
def test_stream_usage_relayed_when_client_asked(gw, mock, style):
    mock.script({"reply": {"type": "chat", "content": "counted", "usage_style": style, "usage": USAGE}})
    body = chat_body(stream=True, stream_options={"include_usage": True})
    events = assert_sse(post_chat(gw, body))
    assert only_call(mock, "openai")["body"] == dict(body, model=OAI_TARGET)
    assert events[-1] == "[DONE]"
    with_usage = [c for c in chunk_events(events) if "usage" in c]
    assert [c["usage"] for c in with_usage] == [USAGE]
    if style == "openai":
        assert with_usage[0]["choices"] == [] and with_usage[0] is chunk_events(events)[-1]
    else:
        assert with_usage[0]["choices"][0]["finish_reason"] == "stop"
    assert stream_text(events) == "counted"


def test_stream_usage_via_sdk(gw, mock):
    mock.script({"times": 2, "reply": {"type": "chat", "content": "sdk stream", "usage": USAGE}})
    c = client(gw)
    chunks = list(c.chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}], stream=True,
                                            stream_options={"include_usage": True}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "sdk stream"
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (9, 4)
    # without asking: no usage anywhere, and no empty-choices chunk
    chunks = list(c.chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}], stream=True))
    assert all(ch.usage is None for ch in chunks)
    assert all(ch.choices for ch in chunks)
    assert mock.requests()[-1]["body"]["stream_options"] == {"include_usage": True}


def test_client_stream_options_kept_and_include_usage_forced(gw, mock):
    mock.script({"reply": {"type": "chat", "content": "opts", "usage": USAGE}})
    body = chat_body(stream=True, stream_options={"include_usage": False, "include_obfuscation": False})
    events = assert_sse(post_chat(gw, body))
    sent = only_call(mock, "openai")["body"]
    assert sent["stream_options"] == {"include_usage": True, "include_obfuscation": False}
    assert all("usage" not in c and c["choices"] for c in chunk_events(events))
    assert stream_text(events) == "opts"


def test_unchanged_chunks_relayed_byte_for_byte(gw, mock):
    head = '{"id":"gen-bb1", "object":"chat.completion.chunk","created":1700000000,"model":"up/odd",'
    c1 = head + '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"x_vendor":{"trace":[1,2.50,"\\u00e9"]}}'
    c2 = head + '"choices":[{"index":0,"delta":{"content":"caf\\u00e9 \\ud83d\\ude00"},"finish_reason":null,"logprobs":null}]}'
    c3 = head + '"choices":[{"index":0,"delta":{},"finish_reason":"stop","native_finish_reason":"end_turn"}]}'
    usage_only = head + '"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
    mock.script({"reply": {"type": "sse", "events": [f"data: {c}" for c in (c1, c2, c3, usage_only)] + ["data: [DONE]"]}})
    resp = post_chat(gw, chat_body(stream=True))
    assert resp.status == 200, resp
    assert data_lines(resp.body) == [c1, c2, c3, "[DONE]"]


def test_stream_tool_calls_via_sdk_stream_helper(gw, mock):
    mock.script({"reply": {"type": "chat", "content": "Checking.", "tool_calls": [
        {"id": "call_w1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"id": "call_w2", "name": "get_weather", "arguments": '{"city": "Rome"}'}]}})
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    with client(gw).chat.completions.stream(model=GPT_MODEL, messages=[{"role": "user", "content": "weather?"}],
                                            tools=tools) as s:
        final = s.get_final_completion()
    msg = final.choices[0].message
    assert msg.content == "Checking."
    assert [(t.id, t.function.name, json.loads(t.function.arguments)) for t in msg.tool_calls] == [
        ("call_w1", "get_weather", {"city": "Paris"}), ("call_w2", "get_weather", {"city": "Rome"})]
    assert final.choices[0].finish_reason == "tool_calls"
    assert only_call(mock, "openai")["body"]["tools"] == tools


def test_openai_prefix_path(gw, mock):
    mock.script({"times": 2, "reply": {"type": "chat", "content": "via prefix"}})
    c = client(gw, prefix="/openai/v1")
    assert c.chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}]).choices[0].message.content == "via prefix"
    text = "".join(ch.choices[0].delta.content or "" for ch in
                   c.chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}], stream=True)
                   if ch.choices)
    assert text == "via prefix"
    assert [r["body"]["model"] for r in mock.requests()] == [OAI_TARGET, OAI_TARGET]
    assert post_chat(gw, chat_body(), path=PREFIX_PATH + "?x=1").status == 200


def test_non_stream_answer_relayed_unchanged(gw, mock):
    answer = {"id": "chatcmpl-up-77", "object": "chat.completion", "created": 1700000001, "model": "upstream/actual-model",
              "system_fingerprint": "fp_up", "service_tier": "default",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "truncated answ", "refusal": None,
                                                   "annotations": [], "x_msg": 1},
                           "logprobs": None, "finish_reason": "length"}],
              "usage": {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38,
                        "prompt_tokens_details": {"cached_tokens": 12, "audio_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 2}},
              "x_vendor": {"latency": 12}}
    mock.script({"reply": {"type": "json", "body": answer}})
    resp = post_chat(gw, chat_body())
    assert resp.status == 200, resp
    assert resp.content_type.startswith("application/json")
    assert resp.json() == answer


# Upstream status → (client status, OpenAI type, code): §5.3 statuses (529 → 503) and the front-door table.
# An upstream 401 is the gateway's own key failing (§5.3, gateway-key mode: 500), and an upstream 404 is
# 502 (claude-code.md keeps 404 for models no route serves; tests/e2e/test_sdk_errors.py, same pipeline).
UPSTREAM_ERRORS = [
    (400, 400, "invalid_request_error", None),
    (401, 500, "server_error", None),
    (402, 402, "insufficient_quota", "insufficient_quota"),
    (403, 403, "permission_error", None),
    (404, 502, "server_error", None),
    (408, 504, "timeout_error", None),
    (413, 413, "invalid_request_error", "request_too_large"),
    (429, 429, "rate_limit_error", "rate_limit_exceeded"),
    (500, 500, "server_error", None),
    (502, 503, "server_error", "overloaded"),
    (503, 503, "server_error", "overloaded"),
    (504, 504, "timeout_error", None),
]


@pytest.mark.parametrize("up,status,etype,code", UPSTREAM_ERRORS, ids=[str(e[0]) for e in UPSTREAM_ERRORS])
def test_upstream_error_in_openai_envelope(gw, mock, up, status, etype, code):
    mock.script({"reply": {"type": "error", "status": up, "headers": {"retry-after": "7"},
                           "body": {"error": {"code": up, "message": "upstream said no"}}}})
    resp = post_chat(gw, chat_body())
    err = assert_error(resp, status, etype, code)
    if up != 401:      # the upstream's auth complaint is about the gateway's key, not the client's
        assert "upstream said no" in err["message"], err
    if up == 429:
        assert resp.headers.get("retry-after") == "7", resp.headers
    assert len(mock.requests()) == 1


@pytest.mark.parametrize("up,status,etype,code", [(429, 429, "rate_limit_error", "rate_limit_exceeded"),
                                                  (503, 503, "server_error", "overloaded")], ids=["429", "503"])
def test_upstream_error_on_stream_request_is_http_error(gw, mock, up, status, etype, code):
    mock.script({"reply": {"type": "error", "status": up}})
    resp = post_chat(gw, chat_body(stream=True))
    assert not resp.content_type.startswith("text/event-stream"), resp
    assert_error(resp, status, etype, code)


def test_upstream_error_via_sdk(gw, mock):
    mock.script({"reply": {"type": "error", "status": 429, "body": {"error": {"code": 429, "message": "slow down"}}}})
    with pytest.raises(openai.RateLimitError) as e:
        client(gw).chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 429
    assert e.value.type == "rate_limit_error"
    assert e.value.code == "rate_limit_exceeded"
    assert e.value.param is None
    assert "slow down" in e.value.body["message"]


@pytest.mark.parametrize("mode", ["eof_mid_stream", "reset_mid_stream"])
def test_stream_that_breaks_off_is_not_finished(gw, mock, mode):
    """An upstream stream cut before its finish must not look complete to the client: no finish_reason
    and no [DONE] (an error data event may close it)."""
    mock.script({"reply": {"type": "fault", "mode": mode}})
    resp = post_chat(gw, chat_body(stream=True), timeout=20)
    if resp.status != 200:          # not committed yet: a plain HTTP error is also a clean outcome
        err = resp.json()["error"]
        assert resp.status >= 500 and isinstance(err["message"], str), resp
        return
    events = data_events(resp.body)
    assert stream_text(events) == "Hello worl"      # the two text chunks (5 characters each) before the cut
    assert "[DONE]" not in events, events
    assert finish_reasons(events) == [], events
    errors = [e for e in events if isinstance(e, dict) and "error" in e]
    if errors:
        assert events[-1] is errors[-1], events
        assert isinstance(errors[-1]["error"].get("message"), str) and isinstance(errors[-1]["error"].get("type"), str)


def test_mid_stream_error_chunk_reaches_sdk_as_error(gw, mock):
    mock.script({"reply": {"type": "fault", "mode": "error_chunk"}})
    seen = []
    with pytest.raises(openai.APIError):
        for ch in client(gw).chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}],
                                                     stream=True):
            if ch.choices:
                seen.append(ch.choices[0].delta.content or "")
    assert "".join(seen) == "Hello"


def test_openrouter_dialect_provider_passthrough(gateway_factory, mock):
    """The same passthrough to base_config's OpenRouter-dialect provider: model replaced, messages and
    unknown fields unchanged, and no `reasoning` invented."""
    gw = gateway_factory(chat_config(mock, routes=[route("or", ["gpt-*"], [target("mock/or-target", provider="mock")])]))
    mock.script({"reply": {"type": "chat", "content": "from openrouter"}})
    body = chat_body(messages=[{"role": "user", "content": "hi"}], x_custom={"k": [1]}, reasoning_effort="low",
                     max_completion_tokens=64)
    resp = post_chat(gw, body)
    assert resp.status == 200, resp
    assert resp.json()["choices"][0]["message"]["content"] == "from openrouter"
    sent = only_call(mock, "openai")["body"]
    assert mock.requests()[0]["path"] == "/api/v1/chat/completions"
    assert sent["model"] == "mock/or-target"
    for key in ("messages", "x_custom", "reasoning_effort", "max_completion_tokens"):
        assert sent[key] == body[key], key
    assert "reasoning" not in sent


def test_role_chunk_and_deltas_relayed_in_order(gw, mock):
    mock.script({"reply": {"type": "chat", "content": "abcdefgh", "chunk_size": 2, "usage_style": "none"}})
    events = assert_sse(post_chat(gw, chat_body(stream=True), path=CHAT_PATH))
    assert [d for d, _ in choice_deltas(events)] == [{"role": "assistant", "content": ""}, {"content": "ab"},
                                                     {"content": "cd"}, {"content": "ef"}, {"content": "gh"}, {}]
    assert events[-1] == "[DONE]"
