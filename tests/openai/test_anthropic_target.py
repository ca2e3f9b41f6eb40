"""OpenAI clients → `kind: anthropic` targets: the full translation of translation-spec §7 with the
decisions of docs/openai-front-door.md ("To a kind: anthropic target"): the request (system/developer
hoisting, merging, images, PDFs, tool calls and results, tools, tool_choice, parallel_tool_calls,
max tokens, sampling, stop, reasoning_effort, response_format, dropped fields), the response (shape,
tool calls, finish reasons, usage with cached tokens, thinking dropped), the stream (chunk sequence,
tool-call indices, the usage chunk, errors before and during a stream) and upstream errors."""
import json
import time

import openai
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY
from oaikit import (ANT_TARGET, CLAUDE_MODEL, PNG_1PX, assert_error, assert_sse, block_start, block_stop,
                    chat_body, chat_config, choice_deltas, chunk_events, client, error_event,
                    finish_reasons, json_delta, msg_delta, msg_start, msg_stop, only_call, ant_message, ping,
                    post_chat, route, stream_text, target, text_delta, without, block_delta)

PDF_B64 = "JVBERi0xLjQKJcTl8uXrCjEgMCBvYmoKPDwvVHlwZSAvQ2F0YWxvZz4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"
WEATHER_PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
                                            "parameters": WEATHER_PARAMS}}
JSON_OBJECT_LINE = "Respond with a single JSON object and nothing else."


@pytest.fixture
def gw(gateway_factory, mock):
    return gateway_factory(chat_config(mock))


def _sent(mock) -> dict:
    return only_call(mock, "anthropic")["body"]


def _translate(gw, mock, body: dict) -> dict:
    """Send a chat request (raw) and return the Anthropic body the upstream got."""
    mock.script({"reply": {"type": "anthropic", "content": "ok"}})
    resp = post_chat(gw, body)
    assert resp.status == 200, resp
    return _sent(mock)


def _text(t: str) -> dict:
    return {"type": "text", "text": t}


# --------------------------------------------------------------------------- request

def test_basic_request_exact_body_and_upstream_headers(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "Hello!"}})
    client(gw, api_key="sk-client-never-forwarded").chat.completions.create(
        model=CLAUDE_MODEL, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    call = only_call(mock, "anthropic")
    assert call["path"].split("?")[0] == "/v1/messages"
    assert call["body"] == {"model": ANT_TARGET, "max_tokens": 4096, "system": [_text("Be brief.")],
                            "messages": [{"role": "user", "content": [_text("Hi")]}]}
    h = call["headers"]
    assert h.get("x-api-key") == ANTHROPIC_UPSTREAM_KEY, h
    assert h.get("anthropic-version") == "2023-06-01", h
    assert "sk-client-never-forwarded" not in json.dumps(call)


def test_system_and_developer_messages_hoisted_in_order(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, messages=[
        {"role": "system", "content": "S1"},
        {"role": "user", "content": "u1"},
        {"role": "developer", "content": [_text("D1"), _text(""), _text("D2")]},
        {"role": "assistant", "content": "a1"},
        {"role": "system", "content": ""},
        {"role": "system", "content": "S2"},
        {"role": "user", "content": "u2"},
    ]))
    assert sent["system"] == [_text("S1"), _text("D1"), _text("D2"), _text("S2")]
    assert sent["messages"] == [{"role": "user", "content": [_text("u1")]},
                                {"role": "assistant", "content": [_text("a1")]},
                                {"role": "user", "content": [_text("u2")]}]


def test_same_roles_merged_empty_dropped_and_leading_assistant_gets_user_turn(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, messages=[
        {"role": "assistant", "content": "I start."},
        {"role": "user", "content": "one"},
        {"role": "user", "content": [_text("two")], "name": "bob"},
        {"role": "assistant", "content": ""},
        {"role": "assistant", "content": [_text("three"), {"type": "refusal", "refusal": "no"}],
         "reasoning_content": "hidden", "reasoning_details": [{"type": "reasoning.text", "text": "x"}]},
        {"role": "user", "content": "four"},
    ]))
    assert sent["messages"] == [{"role": "user", "content": [_text(".")]},
                                {"role": "assistant", "content": [_text("I start.")]},
                                {"role": "user", "content": [_text("one"), _text("two")]},
                                {"role": "assistant", "content": [_text("three")]},
                                {"role": "user", "content": [_text("four")]}]
    assert "system" not in sent


def test_images_and_pdf_become_blocks(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "a cat"}})
    client(gw).chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"type": "image_url", "image_url": {"url": "http://example.com/dog.gif"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}},
    ]}])
    assert _sent(mock)["messages"] == [{"role": "user", "content": [
        _text("look"),
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "url", "url": "http://example.com/dog.gif"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64}},
    ]}]


def test_tool_calls_and_results_merged_into_one_user_turn(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "Paris sunny, Rome rainy."}})
    client(gw).chat.completions.create(model=CLAUDE_MODEL, tools=[WEATHER], messages=[
        {"role": "user", "content": "weather in Paris, Rome, Oslo?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "toolu_A", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "toolu_B", "type": "function", "function": {"name": "get_weather", "arguments": "not json"}},
            {"id": "toolu_C", "type": "function", "function": {"name": "get_weather", "arguments": "[1, 2]"}}]},
        {"role": "tool", "tool_call_id": "toolu_A", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_B", "content": [_text("rain"), _text("later")]},
        {"role": "function", "name": "toolu_C", "content": "cloudy"},
        {"role": "user", "content": "Summarise."},
    ])
    assert _sent(mock)["messages"] == [
        {"role": "user", "content": [_text("weather in Paris, Rome, Oslo?")]},
        {"role": "assistant", "content": [
            _text("Checking."),
            {"type": "tool_use", "id": "toolu_A", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_B", "name": "get_weather", "input": {}},
            {"type": "tool_use", "id": "toolu_C", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_A", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_B", "content": [_text("rain"), _text("later")]},
            {"type": "tool_result", "tool_use_id": "toolu_C", "content": "cloudy"},
            _text("Summarise.")]},
    ]


def test_tool_definitions(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, tools=[
        WEATHER, {"type": "function", "function": {"name": "now", "description": "Current time"}}]))
    assert sent["tools"] == [{"name": "get_weather", "description": "Get the weather", "input_schema": WEATHER_PARAMS},
                             {"name": "now", "description": "Current time",
                              "input_schema": {"type": "object", "properties": {}}}]
    assert "tool_choice" not in sent


NAMED = {"type": "function", "function": {"name": "get_weather"}}
TOOL_CHOICES = [
    ("auto", None, {"type": "auto"}),
    ("required", None, {"type": "any"}),
    ("none", None, {"type": "none"}),
    (NAMED, None, {"type": "tool", "name": "get_weather"}),
    (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
    ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
    (NAMED, False, {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}),
    ("none", False, {"type": "none"}),
    (None, True, None),
    (None, None, None),
]


@pytest.mark.parametrize("choice,parallel,expected", TOOL_CHOICES,
                         ids=[f"{c if isinstance(c, str) or c is None else 'named'}-{p}" for c, p, _ in TOOL_CHOICES])
def test_tool_choice_and_parallel_tool_calls(gw, mock, choice, parallel, expected):
    extra = {"tools": [WEATHER]}
    if choice is not None:
        extra["tool_choice"] = choice
    if parallel is not None:
        extra["parallel_tool_calls"] = parallel
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, **extra))
    assert sent.get("tool_choice") == expected
    assert "parallel_tool_calls" not in sent


def test_sampling_stop_metadata_and_dropped_fields(gw, mock):
    body = chat_body(CLAUDE_MODEL, messages=[{"role": "user", "content": "hi", "name": "ann"}],
                     temperature=1.7, top_p=0.5, stop=["END", "  ", "\n", "STOP"], max_tokens=200,
                     max_completion_tokens=300, user="legacy-user", safety_identifier="safe-42",
                     presence_penalty=0.5, frequency_penalty=0.2, logit_bias={"1": 1}, logprobs=True, top_logprobs=2,
                     seed=7, store=True, service_tier="auto", modalities=["text"],
                     prediction={"type": "content", "content": "x"}, audio={"voice": "alloy", "format": "mp3"},
                     metadata={"k": "v"}, parallel_tool_calls=True, n=1, vendor_extension={"a": 1})
    sent = _translate(gw, mock, body)
    assert sent == {"model": ANT_TARGET, "max_tokens": 300, "messages": [{"role": "user", "content": [_text("hi")]}],
                    "temperature": 1, "top_p": 0.5, "stop_sequences": ["END", "STOP"],
                    "metadata": {"user_id": "safe-42"}}


@pytest.mark.parametrize("stop,expected", [("END", ["END"]), ("   ", None), (["\t", " "], None), ([], None),
                                           (["a b", "\n\nHuman:"], ["a b", "\n\nHuman:"])],
                         ids=["string", "blank-string", "blank-list", "empty-list", "list"])
def test_stop_sequences(gw, mock, stop, expected):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, stop=stop))
    assert sent.get("stop_sequences") == expected


def test_user_becomes_metadata_and_temperature_in_range_kept(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, user="legacy-user", temperature=0.4))
    assert sent["metadata"] == {"user_id": "legacy-user"}
    assert sent["temperature"] == 0.4


@pytest.mark.parametrize("given,expected", [({}, 4096), ({"max_tokens": 200}, 200),
                                            ({"max_completion_tokens": 300, "max_tokens": 200}, 300),
                                            ({"max_completion_tokens": 9000}, 9000)],
                         ids=["default", "max_tokens", "completion-wins", "large"])
def test_max_tokens(gw, mock, given, expected):
    assert _translate(gw, mock, chat_body(CLAUDE_MODEL, **given))["max_tokens"] == expected


@pytest.mark.parametrize("given,expected", [({}, 1000), ({"max_completion_tokens": 5000}, 1000),
                                            ({"max_tokens": 300}, 300)], ids=["default", "above-cap", "below-cap"])
def test_max_tokens_capped_by_target(gateway_factory, mock, given, expected):
    gw = gateway_factory(chat_config(mock, routes=[
        route("capped", ["claude-*"], [target(ANT_TARGET, provider="mock-anthropic", max_tokens=1000)])]))
    assert _translate(gw, mock, chat_body(CLAUDE_MODEL, **given))["max_tokens"] == expected


EFFORTS = [("low", {}, 1024, 4096), ("medium", {}, 2048, 4096), ("high", {}, 4096, 8192),
           ("xhigh", {}, 8192, 12288), ("max", {}, 16384, 20480),
           ("medium", {"max_completion_tokens": 1500}, 2048, 3548), ("low", {"max_tokens": 3000}, 1024, 3000),
           ("high", {"max_completion_tokens": 10000}, 4096, 10000)]


@pytest.mark.parametrize("effort,given,budget,max_tokens", EFFORTS,
                         ids=[f"{e}-{list(g.values())[0] if g else 'nomax'}" for e, g, _, _ in EFFORTS])
def test_reasoning_effort_becomes_thinking(gw, mock, effort, given, budget, max_tokens):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, reasoning_effort=effort, temperature=0.5, top_p=0.9, **given))
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert sent["max_tokens"] == max_tokens
    assert "temperature" not in sent and "top_p" not in sent
    assert "reasoning_effort" not in sent


def test_thinking_keeps_top_p_of_at_least_095(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, reasoning_effort="low", top_p=0.97))
    assert sent["top_p"] == 0.97 and sent["thinking"]["budget_tokens"] == 1024


@pytest.mark.parametrize("effort", ["none", "minimal"])
def test_reasoning_effort_none_and_minimal_mean_no_thinking(gw, mock, effort):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, reasoning_effort=effort, temperature=0.5))
    assert "thinking" not in sent
    assert sent["temperature"] == 0.5 and sent["max_tokens"] == 4096


SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
          "additionalProperties": False}


@pytest.mark.parametrize("fmt", ["json_schema", "json_object", "text"])
def test_response_format(gw, mock, fmt):
    rf = {"type": fmt}
    if fmt == "json_schema":
        rf["json_schema"] = {"name": "answer", "schema": SCHEMA, "strict": True}
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, response_format=rf,
                                          messages=[{"role": "system", "content": "Be brief."},
                                                    {"role": "user", "content": "json?"}]))
    if fmt == "json_schema":
        assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
        assert sent["system"] == [_text("Be brief.")]
    elif fmt == "json_object":
        assert "output_config" not in sent
        assert sent["system"] == [_text("Be brief."), _text(JSON_OBJECT_LINE)]
    else:
        assert "output_config" not in sent
        assert sent["system"] == [_text("Be brief.")]
    assert "response_format" not in sent


def test_stream_true_kept_and_false_omitted(gw, mock):
    mock.script({"times": 2, "reply": {"type": "anthropic", "content": "s"}})
    assert post_chat(gw, chat_body(CLAUDE_MODEL, stream=True, stream_options={"include_usage": True})).status == 200
    assert post_chat(gw, chat_body(CLAUDE_MODEL, stream=False)).status == 200
    streamed, plain = (r["body"] for r in mock.requests())
    assert streamed["stream"] is True
    assert "stream_options" not in streamed
    assert "stream" not in plain


def test_parallel_tool_calls_without_tools_adds_no_tool_choice(gw, mock):
    sent = _translate(gw, mock, chat_body(CLAUDE_MODEL, parallel_tool_calls=False))
    assert "tool_choice" not in sent and "tools" not in sent and "parallel_tool_calls" not in sent


# --------------------------------------------------------------------------- non-streamed response

def test_non_stream_response_shape_usage_and_thinking_dropped(gw, mock):
    mock.script({"reply": {"type": "json", "body": ant_message(
        "msg_01FixedId", [{"type": "thinking", "thinking": "hidden thoughts", "signature": "sig"}, _text("Hello world")],
        usage={"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 30,
               "cache_creation_input_tokens": 5})}})
    resp = post_chat(gw, chat_body(CLAUDE_MODEL))
    assert resp.status == 200, resp
    assert resp.content_type.startswith("application/json")
    out = resp.json()
    assert out["id"] == "chatcmpl-msg_01FixedId"
    assert out["object"] == "chat.completion"
    assert out["model"] == CLAUDE_MODEL
    assert isinstance(out["created"], int) and abs(out["created"] - time.time()) < 3600
    assert out["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "Hello world", "refusal": None},
                               "logprobs": None, "finish_reason": "stop"}]
    assert out["usage"] == {"prompt_tokens": 47, "completion_tokens": 7, "total_tokens": 54,
                            "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 5}}


def test_usage_without_cache_tokens(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "x", "usage": {"input_tokens": 10, "output_tokens": 5}}})
    out = post_chat(gw, chat_body(CLAUDE_MODEL)).json()
    assert out["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                            "prompt_tokens_details": {"cached_tokens": 0}}


def test_non_stream_tool_calls(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "Let me check.", "tool_calls": [
        {"id": "toolu_01", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"id": "toolu_02", "name": "get_time", "arguments": '{"tz": "Europe/Rome", "fmt": "24h", "n": [1, 2]}'}]}})
    out = post_chat(gw, chat_body(CLAUDE_MODEL, tools=[WEATHER])).json()
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["content"] == "Let me check."
    calls = msg["tool_calls"]
    assert [(c["id"], c["type"], c["function"]["name"]) for c in calls] == [
        ("toolu_01", "function", "get_weather"), ("toolu_02", "function", "get_time")]
    assert calls[0]["function"]["arguments"] == '{"city":"Paris"}'        # compact JSON of the input
    assert json.loads(calls[1]["function"]["arguments"]) == {"tz": "Europe/Rome", "fmt": "24h", "n": [1, 2]}
    assert ", " not in calls[1]["function"]["arguments"] and '": ' not in calls[1]["function"]["arguments"]


def test_content_null_when_only_tool_calls(gw, mock):
    mock.script({"reply": {"type": "anthropic", "tool_calls": [{"id": "toolu_9", "name": "now", "arguments": "{}"}]}})
    out = post_chat(gw, chat_body(CLAUDE_MODEL)).json()
    msg = out["choices"][0]["message"]
    assert msg["content"] is None
    assert msg["tool_calls"] == [{"id": "toolu_9", "type": "function", "function": {"name": "now", "arguments": "{}"}}]


FINISH = [("end_turn", "stop"), ("stop_sequence", "stop"), ("pause_turn", "stop"), ("max_tokens", "length"),
          ("model_context_window_exceeded", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter")]


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("stop_reason,finish", FINISH, ids=[f[0] for f in FINISH])
def test_finish_reason_mapping(gw, mock, stop_reason, finish, stream):
    mock.script({"reply": {"type": "anthropic", "content": "text", "stop_reason": stop_reason}})
    resp = post_chat(gw, chat_body(CLAUDE_MODEL, stream=stream))
    if stream:
        events = assert_sse(resp)
        assert finish_reasons(events) == [finish]
        assert events[-1] == "[DONE]"
    else:
        assert resp.status == 200, resp
        assert resp.json()["choices"][0]["finish_reason"] == finish


# --------------------------------------------------------------------------- streamed response

def _rich_transcript() -> list[str]:
    """message_start … message_stop with a thinking block, an empty text delta, pings, two tool_use blocks."""
    return [
        msg_start("msg_01Stream", {"input_tokens": 25, "cache_read_input_tokens": 100,
                                   "cache_creation_input_tokens": 8, "output_tokens": 1}),
        ping(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "secret plan"}),
        block_delta(0, {"type": "signature_delta", "signature": "EqQBsig"}),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        text_delta(1, ""),
        text_delta(1, "Hi"),
        ping(),
        text_delta(1, " there"),
        block_stop(1),
        block_start(2, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
        json_delta(2, ""),
        json_delta(2, '{"a":'),
        json_delta(2, "1}"),
        block_stop(2),
        block_start(3, {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}}),
        json_delta(3, "{}"),
        block_stop(3),
        msg_delta("tool_use", {"output_tokens": 9}),
        msg_stop(),
    ]


@pytest.mark.parametrize("include_usage", [False, True], ids=["no-usage", "include-usage"])
def test_stream_exact_chunk_sequence(gw, mock, include_usage):
    mock.script({"reply": {"type": "sse", "events": _rich_transcript()}})
    body = chat_body(CLAUDE_MODEL, stream=True)
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    events = assert_sse(post_chat(gw, body))
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chunks = chunk_events(events)
    assert len(chunks) == len(events) - 1, events
    for c in chunks:
        assert c["id"] == "chatcmpl-msg_01Stream", c
        assert c["object"] == "chat.completion.chunk", c
        assert c["model"] == CLAUDE_MODEL, c
        assert isinstance(c["created"], int), c
    expected = [
        ({"role": "assistant", "content": ""}, None),
        ({"content": "Hi"}, None),
        ({"content": " there"}, None),
        ({"tool_calls": [{"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}, None),
        ({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}, None),
        ({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}, None),
        ({"tool_calls": [{"index": 1, "id": "toolu_2", "type": "function", "function": {"name": "g", "arguments": ""}}]}, None),
        ({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}, None),
        ({}, "tool_calls"),
    ]
    with_choices = [c for c in chunks if c["choices"]]
    assert [(c["choices"][0]["delta"], c["choices"][0]["finish_reason"]) for c in with_choices] == expected
    assert all(c["choices"][0]["index"] == 0 for c in with_choices)
    assert all("usage" not in c for c in with_choices)
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == {"prompt_tokens": 133, "completion_tokens": 9, "total_tokens": 142,
                                       "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 8}}
        assert len(chunks) == len(expected) + 1
    else:
        assert len(chunks) == len(expected)


def test_stream_text_and_usage_via_sdk(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "The quick brown fox.", "chunk_size": 3,
                           "usage": {"input_tokens": 20, "cache_read_input_tokens": 100, "output_tokens": 6}}})
    chunks = list(client(gw).chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "x"}],
                                                     stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The quick brown fox."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (120, 6, 126)
    assert last.usage.prompt_tokens_details.cached_tokens == 100
    assert all(c.model == CLAUDE_MODEL for c in chunks)


def test_stream_parallel_tool_calls_via_sdk_stream_helper(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "Checking both.", "arg_fragments": 4, "tool_calls": [
        {"id": "toolu_p1", "name": "get_weather", "arguments": '{"city":"Paris","unit":"c"}'},
        {"id": "toolu_p2", "name": "get_weather", "arguments": '{"city":"Rome","unit":"f"}'}]}})
    with client(gw).chat.completions.stream(model=CLAUDE_MODEL, tools=[WEATHER],
                                            messages=[{"role": "user", "content": "weather?"}]) as s:
        final = s.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking both."
    assert [(t.id, t.function.name, t.function.arguments) for t in choice.message.tool_calls] == [
        ("toolu_p1", "get_weather", '{"city":"Paris","unit":"c"}'),
        ("toolu_p2", "get_weather", '{"city":"Rome","unit":"f"}')]


def test_stream_tool_call_indices_raw(gw, mock):
    mock.script({"reply": {"type": "anthropic", "arg_fragments": 3, "tool_calls": [
        {"id": "toolu_i0", "name": "a", "arguments": '{"x":1,"y":2}'},
        {"id": "toolu_i1", "name": "b", "arguments": '{"z":"three"}'},
        {"id": "toolu_i2", "name": "c", "arguments": ""}]}})
    events = assert_sse(post_chat(gw, chat_body(CLAUDE_MODEL, stream=True)))
    starts, args = [], {}
    for delta, _ in choice_deltas(events):
        for tc in (delta or {}).get("tool_calls", []):
            if "id" in tc:
                starts.append((tc["index"], tc["id"], tc["function"]["name"], tc["function"]["arguments"]))
            else:
                assert tc["function"]["arguments"] != "", "an empty input_json_delta must send nothing"
                args[tc["index"]] = args.get(tc["index"], "") + tc["function"]["arguments"]
    assert starts == [(0, "toolu_i0", "a", ""), (1, "toolu_i1", "b", ""), (2, "toolu_i2", "c", "")]
    assert args == {0: '{"x":1,"y":2}', 1: '{"z":"three"}'}
    assert finish_reasons(events) == ["tool_calls"]


def test_stream_thinking_dropped(gw, mock):
    mock.script({"reply": {"type": "anthropic", "reasoning": "deep thoughts here", "reasoning_signature": "EqQB",
                           "content": "answer"}})
    events = assert_sse(post_chat(gw, chat_body(CLAUDE_MODEL, stream=True, reasoning_effort="low")))
    for delta, _ in choice_deltas(events):
        assert "reasoning_content" not in (delta or {}) and "reasoning" not in (delta or {}), delta
    assert stream_text(events) == "answer"
    assert "deep thoughts" not in json.dumps(events)


def test_reasoning_content_when_the_config_asks_for_it(gateway_factory, mock):
    """translation.reasoning_content: true — the thinking goes out as reasoning_content, streamed
    and not (docs/openai-front-door.md)."""
    gw = gateway_factory(chat_config(mock, translation={"reasoning_content": True}))
    reply = {"type": "anthropic", "reasoning": "deep thoughts here", "reasoning_signature": "EqQB", "content": "answer"}
    mock.script({"reply": reply})
    streamed = assert_sse(post_chat(gw, chat_body(CLAUDE_MODEL, stream=True, reasoning_effort="low")))
    thinking = "".join((delta or {}).get("reasoning_content", "") for delta, _ in choice_deltas(streamed))
    assert thinking == "deep thoughts here"
    assert stream_text(streamed) == "answer"
    mock.script({"reply": reply})
    whole = client(gw).chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "Hi"}],
                                               reasoning_effort="low")
    assert whole.choices[0].message.content == "answer"
    assert whole.choices[0].message.model_extra["reasoning_content"] == "deep thoughts here"


MID_STREAM_ERRORS = [("overloaded_error", "server_error", "overloaded"), ("api_error", "server_error", None),
                     ("rate_limit_error", "rate_limit_error", "rate_limit_exceeded")]


@pytest.mark.parametrize("anthropic_type,etype,code", MID_STREAM_ERRORS, ids=[m[0] for m in MID_STREAM_ERRORS])
def test_stream_error_event_mid_stream(gw, mock, anthropic_type, etype, code):
    mock.script({"reply": {"type": "sse", "events": [
        msg_start("msg_01Err", {"input_tokens": 5, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": ""}),
        text_delta(0, "Hel"),
        error_event(anthropic_type, "Upstream trouble"),
    ]}})
    events = assert_sse(post_chat(gw, chat_body(CLAUDE_MODEL, stream=True, stream_options={"include_usage": True})))
    assert [d for d, _ in choice_deltas(events)] == [{"role": "assistant", "content": ""}, {"content": "Hel"}]
    last = events[-1]
    assert isinstance(last, dict) and set(last) == {"error"}, events
    assert set(last["error"]) == {"message", "type", "param", "code"}, last
    assert last["error"]["type"] == etype and last["error"]["code"] == code and last["error"]["param"] is None
    assert isinstance(last["error"]["message"], str) and last["error"]["message"]
    assert "[DONE]" not in events
    assert finish_reasons(events) == []                 # never an invented finish
    assert not [c for c in chunk_events(events) if "usage" in c]


def test_stream_error_event_raises_in_sdk(gw, mock):
    mock.script({"reply": {"type": "sse", "events": [
        msg_start("msg_01Err2", {"input_tokens": 5, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": ""}), text_delta(0, "partial "), text_delta(0, "text"),
        error_event("overloaded_error", "Overloaded")]}})
    seen = []
    with pytest.raises(openai.APIError) as e:
        for c in client(gw).chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "x"}],
                                                    stream=True):
            if c.choices:
                seen.append(c.choices[0].delta.content or "")
    assert "".join(seen) == "partial text"
    assert e.value.type == "server_error"
    assert e.value.code == "overloaded"


@pytest.mark.parametrize("mode", ["eof_mid_stream", "reset_mid_stream"])
def test_stream_that_breaks_off_ends_with_error_event(gw, mock, mode):
    mock.script({"reply": {"type": "fault", "mode": mode}})
    resp = post_chat(gw, chat_body(CLAUDE_MODEL, stream=True), timeout=20)
    events = assert_sse(resp)
    assert not resp.incomplete, "the gateway must end its own response cleanly"
    assert stream_text(events) == "Hello wo"          # message_start, block start, two 4-character deltas
    last = events[-1]
    assert isinstance(last, dict) and "error" in last, events
    assert last["error"]["type"] == "server_error" and last["error"]["param"] is None
    assert "[DONE]" not in events and finish_reasons(events) == []


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_upstream_error_before_stream_is_http_error(gw, mock, stream):
    mock.script({"reply": {"type": "error", "status": 529}})
    resp = post_chat(gw, chat_body(CLAUDE_MODEL, stream=stream))
    assert not resp.content_type.startswith("text/event-stream"), resp
    assert_error(resp, 503, "server_error", "overloaded")


# Anthropic error (status, type) → (client status, OpenAI type, code), the table of the front-door doc.
# As on /v1/messages, an upstream 401 (the gateway's key) is 500 and an upstream 404 is 502: 404 is kept
# for models no route serves (§5.3, claude-code.md, tests/e2e/test_sdk_errors.py).
ANT_ERRORS = [
    (400, "invalid_request_error", 400, "invalid_request_error", None),
    (401, "authentication_error", 500, "server_error", None),
    (402, "billing_error", 402, "insufficient_quota", "insufficient_quota"),
    (403, "permission_error", 403, "permission_error", None),
    (404, "not_found_error", 502, "server_error", None),
    (413, "request_too_large", 413, "invalid_request_error", "request_too_large"),
    (429, "rate_limit_error", 429, "rate_limit_error", "rate_limit_exceeded"),
    (500, "api_error", 500, "server_error", None),
    (504, "timeout_error", 504, "timeout_error", None),
    (529, "overloaded_error", 503, "server_error", "overloaded"),
]


@pytest.mark.parametrize("up,up_type,status,etype,code", ANT_ERRORS, ids=[a[1] for a in ANT_ERRORS])
def test_upstream_errors_mapped(gw, mock, up, up_type, status, etype, code):
    mock.script({"reply": {"type": "error", "status": up,
                           "body": {"type": "error", "error": {"type": up_type, "message": f"upstream says {up_type}"}}}})
    err = assert_error(post_chat(gw, chat_body(CLAUDE_MODEL)), status, etype, code)
    assert err["param"] is None
    if up != 401:
        assert f"upstream says {up_type}" in err["message"], err


def test_prompt_too_long_is_context_length_exceeded(gw, mock):
    mock.script({"reply": {"type": "error", "status": 400, "body": {"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long: 226360 tokens > 200000 maximum"}}}})
    err = assert_error(post_chat(gw, chat_body(CLAUDE_MODEL)), 400, "invalid_request_error", "context_length_exceeded")
    assert "prompt is too long" in err["message"]


# --------------------------------------------------------------------------- SDK round trips

def test_sdk_non_stream_text(gw, mock):
    mock.script({"reply": {"type": "anthropic", "content": "Bonjour!",
                           "usage": {"input_tokens": 8, "output_tokens": 3, "cache_read_input_tokens": 4}}})
    r = client(gw).chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "Salut"}],
                                           max_completion_tokens=50)
    assert r.object == "chat.completion"
    assert r.model == CLAUDE_MODEL
    assert r.id.startswith("chatcmpl-msg_")
    assert r.choices[0].message.content == "Bonjour!"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (12, 3, 15)
    assert r.usage.prompt_tokens_details.cached_tokens == 4
    assert _sent(mock)["max_tokens"] == 50


def test_sdk_tool_round_trip(gw, mock):
    mock.script([{"match": {"has_tool_messages": False}, "reply": {"type": "anthropic", "tool_calls": [
                     {"id": "toolu_w1", "name": "get_weather", "arguments": '{"city":"Paris"}'}]}},
                 {"match": {"has_tool_messages": True}, "reply": {"type": "anthropic", "content": "It is sunny."}}])
    c = client(gw)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = c.chat.completions.create(model=CLAUDE_MODEL, messages=messages, tools=[WEATHER], tool_choice="required")
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("toolu_w1", "get_weather", {"city": "Paris"})
    messages += [{"role": "assistant", "content": first.choices[0].message.content,
                  "tool_calls": [call.model_dump()]},
                 {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
    second = c.chat.completions.create(model=CLAUDE_MODEL, messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "It is sunny."
    first_sent, second_sent = (r["body"] for r in mock.requests())
    assert first_sent["tool_choice"] == {"type": "any"}
    assert second_sent["messages"] == [
        {"role": "user", "content": [_text("Weather in Paris?")]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_w1", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_w1", "content": "18C and sunny"}]}]
    assert without(second_sent, "messages", "tools") == {"model": ANT_TARGET, "max_tokens": 4096}
