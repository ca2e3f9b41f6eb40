"""Streamed /v1/messages: the SDK's `messages.stream(...)` helpers and the raw Anthropic SSE the
gateway emits. Spec: translation-spec.md §4 (state machine, commit point, errors), vectors T25-T33."""
import json

import anthropic
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, base_config
from helpers import MODEL, client, last_body, messages_body, raw, route, target, upstream_calls

TEXT = "Hello streaming world, how are you today?"


def _events_without_ping(resp):
    return [e for e in resp.events() if e["event"] != "ping"]


def test_text_stream_and_final_message(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": TEXT, "chunk_size": 5,
                                                      "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40}}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=128, system="Be nice.",
                                         messages=[{"role": "user", "content": "Greet me"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == TEXT
    assert len(pieces) >= 2  # really streamed, not one blob
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == TEXT
    assert final.stop_reason == "end_turn"
    assert final.model == MODEL
    assert final.usage.input_tokens == 31
    assert final.usage.output_tokens == 9

    body = last_body(mock)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "system", "content": "Be nice."}, {"role": "user", "content": "Greet me"}]
    assert body["max_tokens"] == 128


def test_raw_sse_event_sequence(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "Hello", "chunk_size": 3,
                                                      "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True), {"anthropic-version": "2023-06-01"})
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in resp.body
    events = _events_without_ping(resp)
    for e in events:
        assert e["event"] == e["data"]["type"]
    names = [e["event"] for e in events]
    assert names == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    start = events[0]["data"]["message"]
    assert start["role"] == "assistant" and start["content"] == [] and start["model"] == MODEL
    assert start["id"].startswith("msg_")
    assert events[1]["data"] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert [e["data"]["delta"] for e in events[2:4]] == [{"type": "text_delta", "text": "Hel"}, {"type": "text_delta", "text": "lo"}]
    assert events[4]["data"] == {"type": "content_block_stop", "index": 0}
    delta = events[5]["data"]
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["delta"]["stop_sequence"] is None
    assert delta["usage"]["input_tokens"] == 12 and delta["usage"]["output_tokens"] == 2


@pytest.mark.parametrize("style", ["openrouter", "inline", "openai"])
def test_usage_styles_give_exactly_one_message_delta(gateway, mock, style):
    usage = {"prompt_tokens": 50, "completion_tokens": 6, "total_tokens": 56}
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "abc def", "usage": usage,
                                                      "usage_style": style, "comments": True}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 200
    events = _events_without_ping(resp)
    deltas = [e for e in events if e["event"] == "message_delta"]
    assert len(deltas) == 1
    assert deltas[0]["data"]["usage"]["input_tokens"] == 50
    assert deltas[0]["data"]["usage"]["output_tokens"] == 6
    assert events[-1]["event"] == "message_stop"
    text = "".join(e["data"]["delta"]["text"] for e in events if e["event"] == "content_block_delta")
    assert text == "abc def"


def test_streamed_cached_usage(gateway, mock):
    usage = {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240,
             "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 0}}
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "ok", "usage": usage, "usage_style": "openrouter"}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}]) as s:
        final = s.get_final_message()
    assert final.usage.input_tokens == 200
    assert final.usage.cache_read_input_tokens == 1000
    assert final.usage.cache_creation_input_tokens == 0
    assert final.usage.output_tokens == 40


def test_streamed_thinking_deltas_and_signature(gateway, mock):
    reasoning = "Let me think about this carefully."
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "Answer: 42", "reasoning": reasoning,
                                                      "reasoning_signature": "EqQBsig123", "chunk_size": 6}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048},
                                         messages=[{"role": "user", "content": "meaning?"}]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert last_body(mock)["reasoning"] == {"max_tokens": 2048}
    thinking_deltas = [e.delta.thinking for e in events if e.type == "content_block_delta" and e.delta.type == "thinking_delta"]
    assert "".join(thinking_deltas) == reasoning
    assert len(thinking_deltas) >= 2
    sig = [e.delta.signature for e in events if e.type == "content_block_delta" and e.delta.type == "signature_delta"]
    assert sig == ["EqQBsig123"]
    starts = [(e.index, e.content_block.type) for e in events if e.type == "content_block_start"]
    assert starts == [(0, "thinking"), (1, "text")]
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == reasoning
    assert final.content[0].signature == "EqQBsig123"
    assert final.content[1].text == "Answer: 42"


def test_streamed_native_stop_sequence(gateway, mock):
    def chunk(delta, finish=None, **extra):
        c = {"index": 0, "delta": delta, "finish_reason": finish}
        c.update(extra)
        return "data: " + json.dumps({"id": "gen-s", "object": "chat.completion.chunk", "created": 1,
                                      "model": "mock/model-a", "choices": [c]})
    events = [chunk({"role": "assistant", "content": ""}), chunk({"content": "one two "}),
              chunk({"content": "", "role": "assistant"}, "stop", native_finish_reason="stop_sequence"),
              "data: " + json.dumps({"id": "gen-s", "object": "chat.completion.chunk", "created": 1, "model": "mock/model-a",
                                     "choices": [{"index": 0, "delta": {"content": "", "role": "assistant"}, "finish_reason": "stop",
                                                  "native_finish_reason": "stop_sequence"}],
                                     "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
              "data: [DONE]"]
    mock.script({"match": {"stream": True}, "reply": {"type": "sse", "events": events}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=50, stop_sequences=["END"],
                                         messages=[{"role": "user", "content": "count"}]) as s:
        final = s.get_final_message()
    assert last_body(mock)["stop"] == ["END"]
    assert final.stop_reason == "stop_sequence"
    assert final.stop_sequence == "END"
    assert final.content[0].text == "one two "


def test_streamed_length_finish_is_max_tokens(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "cut off", "finish_reason": "length"}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=3, messages=[{"role": "user", "content": "x"}]) as s:
        final = s.get_final_message()
    assert final.stop_reason == "max_tokens"


def test_mid_stream_error_chunk_raises_in_sdk(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "fault", "mode": "error_chunk"}})
    got = []
    with pytest.raises(anthropic.APIStatusError) as e:
        with client(gateway).messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]) as s:
            for t in s.text_stream:
                got.append(t)
    assert "".join(got) == "Hello"
    assert e.value.body["error"]["type"] == "overloaded_error"
    assert "Provider disconnected" in e.value.body["error"]["message"]


def test_mid_stream_error_chunk_raw_sse(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "fault", "mode": "error_chunk"}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 200  # committed after the first text
    events = _events_without_ping(resp)
    names = [e["event"] for e in events]
    assert names[-1] == "error", names
    assert "message_stop" not in names and "message_delta" not in names
    err = events[-1]["data"]
    assert err["type"] == "error"
    assert err["error"]["type"] == "overloaded_error"
    assert "Provider disconnected" in err["error"]["message"]


def test_stream_ending_without_finish_is_an_error(gateway, mock):
    mock.script({"match": {"stream": True}, "times": 2, "reply": {"type": "fault", "mode": "eof_mid_stream"}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    events = _events_without_ping(resp)
    names = [e["event"] for e in events]
    assert "message_stop" not in names, names
    assert names[-1] == "error", names
    assert events[-1]["data"]["error"]["type"] == "api_error"
    with pytest.raises(anthropic.APIStatusError):
        with client(gateway).messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]) as s:
            s.get_final_message()


@pytest.mark.parametrize("status,expected_status,expected_type", [
    (429, 429, "rate_limit_error"), (500, 500, "api_error"), (503, 529, "overloaded_error"), (400, 400, "invalid_request_error")])
def test_error_before_first_byte_is_real_http_status(gateway, mock, status, expected_status, expected_type):
    mock.script({"match": {"stream": True}, "reply": {"type": "error", "status": status, "headers": {"retry-after": "9"}}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == expected_status, resp
    assert resp.headers["content-type"].startswith("application/json"), resp
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == expected_type
    if status == 429:
        assert resp.headers.get("retry-after") == "9"


def test_first_data_event_error_is_real_http_status(gateway, mock):
    err = {"error": {"code": 429, "message": "Rate limit exceeded upstream"}}
    mock.script({"match": {"stream": True}, "reply": {"type": "sse", "events": ["data: " + json.dumps(err), "data: [DONE]"]}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 429, resp
    body = resp.json()
    assert body["error"]["type"] == "rate_limit_error"
    assert "Rate limit exceeded upstream" in body["error"]["message"]


def test_stream_error_before_first_byte_sdk_exception(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "error", "status": 429, "headers": {"retry-after": "4"}}})
    with pytest.raises(anthropic.RateLimitError) as e:
        with client(gateway).messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]) as s:
            s.get_final_message()
    assert e.value.status_code == 429
    assert e.value.response.headers.get("retry-after") == "4"


def test_anthropic_native_stream_passed_through(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("native", ["*"], [target("claude-upstream-model", provider="mock-anthropic")])]))
    mock.script({"match": {"api": "anthropic", "stream": True},
                 "reply": {"type": "anthropic", "content": "native streamed text", "reasoning": "native thought",
                           "reasoning_signature": "sigNative", "chunk_size": 5,
                           "usage": {"input_tokens": 33, "output_tokens": 8}}})
    c = anthropic.Anthropic(base_url=gw.base_url, api_key="client-key", max_retries=0,
                            default_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"})
    with c.messages.stream(model=MODEL, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
                           messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "native streamed text"
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "native thought" and final.content[0].signature == "sigNative"
    assert final.usage.output_tokens == 8
    reqs = upstream_calls(mock, "anthropic")
    assert len(reqs) == 1
    req = reqs[0]
    assert req["headers"]["x-api-key"] == ANTHROPIC_UPSTREAM_KEY
    assert req["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert req["body"]["model"] == "claude-upstream-model"
    assert req["body"]["stream"] is True
    assert req["body"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_anthropic_native_stream_raw_events_kept(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("native", ["*"], [target("claude-upstream-model", provider="mock-anthropic")])]))
    mock.script({"match": {"api": "anthropic", "stream": True}, "reply": {"type": "anthropic", "content": "abcdefgh", "chunk_size": 4}})
    resp = raw(gw, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 200
    events = _events_without_ping(resp)
    assert [e["event"] for e in events] == ["message_start", "content_block_start", "content_block_delta",
                                            "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert [e["data"]["delta"]["text"] for e in events if e["event"] == "content_block_delta"] == ["abcd", "efgh"]


def test_sse_response_headers(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "hdrs"}})
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers.get("cache-control") == "no-cache"
    assert resp.headers.get("request-id", "").startswith("req_")


def test_garbage_lines_stream_still_translates(gateway, mock):
    mock.script({"match": {"stream": True}, "reply": {"type": "fault", "mode": "garbage_lines"}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == "Hello through the garbage"
    assert final.stop_reason == "end_turn"


def test_streamed_non_anthropic_reasoning_gets_codec_signature(gateway, mock):
    import base64
    def chunk(delta, finish=None):
        return "data: " + json.dumps({"id": "g", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    events = [chunk({"role": "assistant", "content": ""}),
              chunk({"reasoning": "think ", "reasoning_details": [{"type": "reasoning.text", "text": "think ", "format": "google-gemini-v1", "index": 0}]}),
              chunk({"reasoning": "more", "reasoning_details": [{"type": "reasoning.text", "text": "more", "format": "google-gemini-v1", "index": 0}]}),
              chunk({"content": "answer"}), chunk({}, "stop"), "data: [DONE]"]
    mock.script({"match": {"stream": True}, "reply": {"type": "sse", "events": events}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "think more"
    sig = final.content[0].signature
    assert sig.startswith("gw1:")
    detail = json.loads(base64.b64decode(sig[4:]))
    assert detail["type"] == "reasoning.text" and detail["format"] == "google-gemini-v1" and detail["index"] == 0
    assert detail["text"] == "think more"


@pytest.mark.parametrize("provider", ["mock", "mock-anthropic"])
def test_keep_alive_connection_reusable_after_stream(gateway_factory, mock, provider):
    """HTTP/1.1: after a complete streamed response without `Connection: close`, the same connection
    must serve the next request (the SDK's httpx pool reuses it; a silent close makes the next call
    fail with 'Server disconnected without sending a response')."""
    import http.client
    import time
    import urllib.parse
    gw = gateway_factory(base_config(mock, routes=[route("r", ["*"], [target("up-model", provider=provider)])]))
    mock.script({"times": -1, "reply": {"type": "anthropic" if provider == "mock-anthropic" else "chat", "content": "ka"}})
    u = urllib.parse.urlsplit(gw.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        for body in (messages_body(stream=True), messages_body(stream=True), messages_body()):
            conn.request("POST", "/v1/messages", body=json.dumps(body), headers={"content-type": "application/json"})
            resp = conn.getresponse()
            payload = resp.read()
            assert resp.status == 200, payload
            time.sleep(0.2)  # let a server-side close (if any) arrive before the next request
    finally:
        conn.close()
    assert len(mock.requests()) == 3


def test_sdk_client_reuse_across_streams(gateway, mock):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "again and again"}})
    c = client(gateway)
    failures = []
    for i in range(100):
        try:
            with c.messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
                assert s.get_final_message().content[0].text == "again and again"
        except anthropic.APIConnectionError as e:
            failures.append((i, repr(e.__cause__)))
    assert failures == []


def test_max_tokens_zero_streamed_answered_locally(gateway, mock):
    with client(gateway).messages.stream(model=MODEL, max_tokens=0, messages=[{"role": "user", "content": "prewarm"}]) as s:
        final = s.get_final_message()
    assert mock.requests() == []
    assert final.content == []
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 0


def test_streamed_thinking_and_tool_call_round_trip(gateway, mock):
    """A streamed thinking+tool_use answer, sent back by the SDK user as history, reaches OpenRouter
    as reasoning_details with the original signature, next to the tool call and its result."""
    mock.script([
        {"match": {"stream": True, "has_tool_messages": False},
         "reply": {"type": "chat", "reasoning": "I should check the weather.", "reasoning_signature": "EqQBround",
                   "tool_calls": [{"id": "toolu_rt", "name": "weather", "arguments": '{"location": "Florence"}'}]}},
        {"match": {"stream": True, "has_tool_messages": True}, "reply": {"type": "chat", "content": "Sunny."}},
    ])
    tools = [{"name": "weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}]
    thinking = {"type": "enabled", "budget_tokens": 1024}
    with client(gateway).messages.stream(model=MODEL, max_tokens=2048, thinking=thinking, tools=tools,
                                         messages=[{"role": "user", "content": "Weather?"}]) as s:
        first = s.get_final_message()
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    history = [{"role": "user", "content": "Weather?"},
               {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_rt", "content": "sunny, 25C"}]}]
    with client(gateway).messages.stream(model=MODEL, max_tokens=2048, thinking=thinking, tools=tools, messages=history) as s:
        assert s.get_final_message().content[-1].text == "Sunny."
    msgs = last_body(mock)["messages"]
    assistant = msgs[1]
    assert assistant["reasoning_details"] == [{"type": "reasoning.text", "text": "I should check the weather.",
                                               "signature": "EqQBround", "format": "anthropic-claude-v1", "index": 0}]
    assert assistant["reasoning"] == "I should check the weather."
    assert assistant["tool_calls"][0]["id"] == "toolu_rt"
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_rt", "content": "sunny, 25C"}
