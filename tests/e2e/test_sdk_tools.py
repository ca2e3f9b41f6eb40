"""Tool use through the gateway: tool definitions and tool_choice upstream, tool calls back as
tool_use blocks (non-streamed and streamed), tool_result round trips, parallel calls.
Spec: translation-spec.md §2.2-2.4, §2.7-2.8, §3.4, §4.3; vectors T3-T6, T12, T13, T19, T26, T27."""
import json

import pytest

from helpers import MODEL, client, last_body, messages_body, raw
from testkit.mock_upstream import fragments

WEATHER_TOOL = {"name": "get_weather", "description": "Get the weather",
                "input_schema": {"type": "object", "properties": {"location": {"type": "string"},
                                                                  "unit": {"type": "string", "enum": ["c", "f"]}},
                                 "required": ["location"]}}
BASH_TOOL = {"name": "Bash", "description": "run",
             "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}
ARGS = '{"location": "Florence, Italy", "unit": "c", "days": [1, 2, 3], "note": "quote \\" and unicode \\u00e9"}'


def _tool_names(body):
    return [t["function"]["name"] for t in body.get("tools", [])]


def test_tool_definitions_and_tool_choice_any_no_parallel(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100, tools=[BASH_TOOL],
                                    tool_choice={"type": "any", "disable_parallel_tool_use": True},
                                    messages=[{"role": "user", "content": "ls"}])
    body = last_body(mock)
    assert body["tools"] == [{"type": "function", "function": {"name": "Bash", "description": "run",
                                                               "parameters": BASH_TOOL["input_schema"]}}]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False


@pytest.mark.parametrize("choice,expected", [
    ({"type": "auto"}, "auto"),
    ({"type": "none"}, "none"),
    ({"type": "tool", "name": "Bash"}, {"type": "function", "function": {"name": "Bash"}}),
])
def test_tool_choice_variants(gateway, mock, choice, expected):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100, tools=[BASH_TOOL], tool_choice=choice,
                                    messages=[{"role": "user", "content": "ls"}])
    body = last_body(mock)
    assert body["tool_choice"] == expected
    assert _tool_names(body) == ["Bash"]
    assert "parallel_tool_calls" not in body


def test_tool_without_description_and_properties(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100,
                                    tools=[{"name": "noop", "input_schema": {"type": "object"}}],
                                    messages=[{"role": "user", "content": "x"}])
    fn = last_body(mock)["tools"][0]["function"]
    assert fn["name"] == "noop"
    assert "description" not in fn
    assert fn["parameters"] == {"type": "object", "properties": {}}


def test_tool_use_non_stream(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "Let me check.",
                           "tool_calls": [{"id": "call_w1", "name": "get_weather", "arguments": ARGS}]}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=200, tools=[WEATHER_TOOL],
                                          messages=[{"role": "user", "content": "Weather?"}])
    assert [b.type for b in msg.content] == ["text", "tool_use"]
    assert msg.content[0].text == "Let me check."
    tu = msg.content[1]
    assert tu.id == "call_w1"
    assert tu.name == "get_weather"
    assert tu.input == json.loads(ARGS)
    assert msg.stop_reason == "tool_use"


def test_tool_call_with_finish_stop_still_tool_use(gateway, mock):
    mock.script({"reply": {"type": "chat", "finish_reason": "stop",
                           "tool_calls": [{"id": "call_s", "name": "Bash", "arguments": '{"command": "ls"}'}]}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=200, tools=[BASH_TOOL],
                                          messages=[{"role": "user", "content": "ls"}])
    assert [b.type for b in msg.content] == ["tool_use"]
    assert msg.stop_reason == "tool_use"


@pytest.mark.parametrize("arguments,expected", [
    ("", {}),
    ('"{\\"a\\":1}"', {"a": 1}),
    ("[1,2]", {"value": [1, 2]}),
])
def test_tool_arguments_edge_cases_non_stream(gateway, mock, arguments, expected):
    mock.script({"reply": {"type": "chat", "tool_calls": [{"id": "call_e", "name": "Bash", "arguments": arguments}]}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=200, tools=[BASH_TOOL],
                                          messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].type == "tool_use"
    assert msg.content[0].input == expected


def test_tool_use_streamed_fragments_reassemble(gateway, mock):
    reply = {"type": "chat", "tool_calls": [{"id": "call_9", "name": "get_weather", "arguments": ARGS}], "arg_fragments": 5}
    mock.script({"match": {"stream": True}, "times": 2, "reply": reply})
    expected_fragments = fragments(ARGS, 5)
    assert len(expected_fragments) == 5

    # raw SSE: exact fragments, verbatim and in order
    resp = raw(gateway, "POST", "/v1/messages", messages_body(stream=True, tools=[WEATHER_TOOL]))
    assert resp.status == 200
    events = [e for e in resp.events() if e["event"] != "ping"]
    starts = [e["data"] for e in events if e["event"] == "content_block_start"]
    assert starts == [{"type": "content_block_start", "index": 0,
                       "content_block": {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {}}}]
    partials = [e["data"]["delta"]["partial_json"] for e in events
                if e["event"] == "content_block_delta" and e["data"]["delta"]["type"] == "input_json_delta"]
    assert [p for p in partials if p != ""] == expected_fragments
    delta = [e["data"] for e in events if e["event"] == "message_delta"]
    assert len(delta) == 1 and delta[0]["delta"]["stop_reason"] == "tool_use"

    # SDK: accumulated input equals the scripted arguments
    with client(gateway).messages.stream(model=MODEL, max_tokens=200, tools=[WEATHER_TOOL],
                                         messages=[{"role": "user", "content": "Weather?"}]) as stream:
        evs = list(stream)
        final = stream.get_final_message()
    json_deltas = [e.delta.partial_json for e in evs if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    assert "".join(json_deltas) == ARGS
    assert len([j for j in json_deltas if j]) == 5
    assert [b.type for b in final.content] == ["tool_use"]
    assert final.content[0].input == json.loads(ARGS)
    assert final.content[0].id == "call_9"
    assert final.stop_reason == "tool_use"


def test_parallel_tool_calls_non_stream(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "Reading.", "tool_calls": [
        {"id": "call_1", "name": "Read", "arguments": '{"file_path":"/a"}'},
        {"id": "call_2", "name": "Read", "arguments": '{"file_path":"/b"}'}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240,
                  "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 0}}}})
    tools = [{"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}]
    msg = client(gateway).messages.create(model=MODEL, max_tokens=200, tools=tools,
                                          messages=[{"role": "user", "content": "read both"}])
    assert [(b.type, getattr(b, "id", None), getattr(b, "input", None)) for b in msg.content] == [
        ("text", None, None), ("tool_use", "call_1", {"file_path": "/a"}), ("tool_use", "call_2", {"file_path": "/b"})]
    assert msg.stop_reason == "tool_use"
    assert (msg.usage.input_tokens, msg.usage.cache_read_input_tokens, msg.usage.output_tokens) == (200, 1000, 40)


@pytest.mark.parametrize("style", ["openai", "openrouter"])
def test_parallel_tool_calls_streamed(gateway, mock, style):
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "I'll add and multiply.", "usage_style": style,
                                                      "tool_calls": [{"id": "toolu_add", "name": "add", "arguments": '{"a": 2, "b": 3}'},
                                                                     {"id": "toolu_mul", "name": "multiply", "arguments": '{"a": 4, "b": 5}'}]}})
    tools = [{"name": n, "input_schema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}
             for n in ("add", "multiply")]
    with client(gateway).messages.stream(model=MODEL, max_tokens=200, tools=tools,
                                         messages=[{"role": "user", "content": "compute"}]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    starts = [(e.index, e.content_block.type) for e in events if e.type == "content_block_start"]
    assert starts == [(0, "text"), (1, "tool_use"), (2, "tool_use")]
    stops = [e.index for e in events if e.type == "content_block_stop"]
    assert stops == [0, 1, 2]
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[0].text == "I'll add and multiply."
    assert (final.content[1].id, final.content[1].name, final.content[1].input) == ("toolu_add", "add", {"a": 2, "b": 3})
    assert (final.content[2].id, final.content[2].name, final.content[2].input) == ("toolu_mul", "multiply", {"a": 4, "b": 5})
    assert final.stop_reason == "tool_use"
    assert len([e for e in events if e.type == "message_delta"]) == 1


def test_tool_result_round_trip(gateway, mock):
    mock.script({"match": {"has_tool_messages": True}, "reply": {"type": "chat", "content": "Both files read."}})
    tools = [{"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}]
    msg = client(gateway).messages.create(
        model=MODEL, max_tokens=300, tools=tools,
        messages=[
            {"role": "user", "content": "Read /a and /b"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}},
                {"type": "tool_use", "id": "toolu_B", "name": "Read", "input": {"file_path": "/b"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_A", "content": "a-body"},
                {"type": "tool_result", "tool_use_id": "toolu_B", "content": [{"type": "text", "text": "b1"},
                                                                             {"type": "text", "text": "b2"}]},
                {"type": "text", "text": "<system-reminder>x</system-reminder>"}]},
        ])
    assert msg.content[0].text == "Both files read."
    body = last_body(mock)
    msgs = body["messages"]
    assert msgs[0] == {"role": "user", "content": "Read /a and /b"}
    assistant = msgs[1]
    assert assistant["role"] == "assistant" and assistant["content"] == "Checking both."
    assert [(c["id"], c["type"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in assistant["tool_calls"]] == [("toolu_A", "function", "Read", {"file_path": "/a"}),
                                                 ("toolu_B", "function", "Read", {"file_path": "/b"})]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_A", "content": "a-body"}
    assert msgs[3] == {"role": "tool", "tool_call_id": "toolu_B", "content": "b1\nb2"}
    assert msgs[4]["role"] == "user"
    user_text = msgs[4]["content"] if isinstance(msgs[4]["content"], str) else "".join(
        p["text"] for p in msgs[4]["content"] if p["type"] == "text")
    assert user_text == "<system-reminder>x</system-reminder>"
    assert len(msgs) == 5


def test_tool_result_is_error_and_empty_content(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=300, tools=[BASH_TOOL],
        messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_C", "name": "Bash", "input": {"command": "cat x"}},
                {"type": "tool_use", "id": "toolu_D", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_C", "is_error": True, "content": "File not found"},
                {"type": "tool_result", "tool_use_id": "toolu_D"}]},
        ])
    msgs = last_body(mock)["messages"]
    assert msgs[1]["role"] == "assistant" and msgs[1].get("content") is None
    assert [json.loads(c["function"]["arguments"]) for c in msgs[1]["tool_calls"]] == [{"command": "cat x"}, {}]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_C", "content": "Error: File not found"}
    assert msgs[3] == {"role": "tool", "tool_call_id": "toolu_D", "content": ""}
    assert len(msgs) == 4


def test_text_before_tool_result_is_reordered(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=300, tools=[BASH_TOOL],
        messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "Bash", "input": {"command": "ls"}}]},
            {"role": "user", "content": [{"type": "text", "text": "note"},
                                         {"type": "tool_result", "tool_use_id": "toolu_A", "content": "ok"}]},
        ])
    msgs = last_body(mock)["messages"]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_A", "content": "ok"}
    assert msgs[3]["role"] == "user"
    assert msgs[3]["content"] in ("note", [{"type": "text", "text": "note"}])


def test_missing_tool_result_is_repaired(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=300, tools=[BASH_TOOL],
        messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_A", "name": "Bash", "input": {"command": "a"}},
                {"type": "tool_use", "id": "toolu_B", "name": "Bash", "input": {"command": "b"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "A"}]},
        ])
    msgs = last_body(mock)["messages"]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_A", "content": "A"}
    assert msgs[3] == {"role": "tool", "tool_call_id": "toolu_B", "content": "(no result: tool call was interrupted)"}


def test_streamed_tool_round_trip_with_sdk(gateway, mock):
    """First call streams a tool_use; the SDK's final message is sent back with a tool_result."""
    mock.script([
        {"match": {"stream": True, "has_tool_messages": False},
         "reply": {"type": "chat", "tool_calls": [{"id": "call_r1", "name": "Bash", "arguments": '{"command": "pwd"}'}]}},
        {"match": {"stream": True, "has_tool_messages": True}, "reply": {"type": "chat", "content": "You are in /home."}},
    ])
    history = [{"role": "user", "content": "where am I?"}]
    # a fresh client per call: connection reuse after a stream is tested in test_sdk_streaming.py
    with client(gateway).messages.stream(model=MODEL, max_tokens=200, tools=[BASH_TOOL], messages=history) as s:
        first = s.get_final_message()
    assert first.stop_reason == "tool_use"
    tu = first.content[-1]
    history += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu.id, "content": "/home"}]}]
    with client(gateway).messages.stream(model=MODEL, max_tokens=200, tools=[BASH_TOOL], messages=history) as s:
        second = s.get_final_message()
    assert second.content[0].text == "You are in /home."
    msgs = last_body(mock)["messages"]
    assert msgs[1]["tool_calls"][0]["id"] == "call_r1"
    assert json.loads(msgs[1]["tool_calls"][0]["function"]["arguments"]) == {"command": "pwd"}
    assert msgs[2] == {"role": "tool", "tool_call_id": "call_r1", "content": "/home"}


def test_long_tool_name_aliased_and_restored(gateway, mock):
    import hashlib
    name = "mcp__very_long_server_name__" + "x" * 60
    alias = name[:55] + "_" + hashlib.sha256(name.encode()).hexdigest()[:8]
    mock.script({"reply": {"type": "chat", "tool_calls": [{"id": "call_L", "name": alias, "arguments": '{"q": 1}'}]}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100,
                                          tools=[{"name": name, "input_schema": {"type": "object", "properties": {}}}],
                                          tool_choice={"type": "tool", "name": name},
                                          messages=[{"role": "user", "content": "x"}])
    body = last_body(mock)
    assert _tool_names(body) == [alias]
    assert body["tool_choice"] == {"type": "function", "function": {"name": alias}}
    assert msg.content[0].name == name and msg.content[0].input == {"q": 1}


def test_server_tools_are_filtered(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    raw_resp = raw(gateway, "POST", "/v1/messages", messages_body(tools=[
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}]))
    assert raw_resp.status == 200, raw_resp
    assert _tool_names(last_body(mock)) == ["Read"]


def test_only_server_tools_omits_tools_and_choice(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    raw_resp = raw(gateway, "POST", "/v1/messages", messages_body(
        tools=[{"type": "web_search_20250305", "name": "web_search"}], tool_choice={"type": "auto", "disable_parallel_tool_use": True}))
    assert raw_resp.status == 200, raw_resp
    body = last_body(mock)
    assert "tools" not in body and "tool_choice" not in body and "parallel_tool_calls" not in body


def test_tool_result_with_image(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "nice screenshot"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100, tools=[BASH_TOOL], messages=[
        {"role": "user", "content": "shoot"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_S", "name": "Bash", "input": {"command": "shot"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_S", "content": [
            {"type": "text", "text": "screenshot"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}]}]}])
    msgs = last_body(mock)["messages"]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_S", "content": "screenshot"}
    assert msgs[3] == {"role": "user", "content": [{"type": "text", "text": "[image output of tool call toolu_S]"},
                                                   {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}]}


def _chunk(delta, finish=None, usage=None):
    obj = {"id": "gen-t", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        obj["usage"] = usage
    return "data: " + json.dumps(obj)


def _stream_final(gateway, mock, events):
    mock.script({"match": {"stream": True}, "reply": {"type": "sse", "events": events + ["data: [DONE]"]}})
    with client(gateway).messages.stream(model=MODEL, max_tokens=200, tools=[BASH_TOOL],
                                         messages=[{"role": "user", "content": "x"}]) as s:
        evs = list(s)
        return evs, s.get_final_message()


def test_streamed_reused_index_with_new_id_opens_new_block(gateway, mock):
    evs, final = _stream_final(gateway, mock, [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "Read", "arguments": '{"p":1}'}}]}),
        _chunk({"tool_calls": [{"index": 0, "id": "call_b", "type": "function", "function": {"name": "Grep", "arguments": '{"q":2}'}}]}),
        _chunk({}, "tool_calls", {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})])
    assert [(b.id, b.name, b.input) for b in final.content] == [("call_a", "Read", {"p": 1}), ("call_b", "Grep", {"q": 2})]
    assert [e.index for e in evs if e.type == "content_block_start"] == [0, 1]


def test_streamed_arguments_before_name(gateway, mock):
    evs, final = _stream_final(gateway, mock, [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"name": "Calc", "arguments": "1}"}}]}),
        _chunk({}, "tool_calls")])
    assert len(final.content) == 1
    tu = final.content[0]
    assert tu.type == "tool_use" and tu.name == "Calc" and tu.input == {"x": 1}
    assert tu.id.startswith("toolu_")
    assert "".join(e.delta.partial_json for e in evs if e.type == "content_block_delta") == '{"x":1}'


def test_streamed_interleaved_parallel_fragments(gateway, mock):
    evs, final = _stream_final(gateway, mock, [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"tool_calls": [{"index": 0, "id": "call_0", "type": "function", "function": {"name": "Read", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 1, "id": "call_1", "type": "function", "function": {"name": "Grep", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"file_path"'}}]}),
        _chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"pattern"'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "/a"}'}}]}),
        _chunk({"tool_calls": [{"index": 1, "function": {"arguments": ': "foo"}'}}]}),
        _chunk({}, "tool_calls")])
    assert [(b.id, b.name, b.input) for b in final.content] == [
        ("call_0", "Read", {"file_path": "/a"}), ("call_1", "Grep", {"pattern": "foo"})]
    assert [e.index for e in evs if e.type == "content_block_start"] == [0, 1]
    assert final.stop_reason == "tool_use"


def test_streamed_length_mid_tool_call(gateway, mock):
    evs, final = _stream_final(gateway, mock, [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"tool_calls": [{"index": 0, "id": "call_x", "type": "function", "function": {"name": "Bash", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"command": "ls -la /very/lo'}}]}),
        _chunk({}, "length")])
    assert final.stop_reason == "max_tokens"
    deltas = [e.delta.partial_json for e in evs if e.type == "content_block_delta"]
    assert "".join(deltas) == '{"command": "ls -la /very/lo'
