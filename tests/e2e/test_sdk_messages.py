"""Non-streamed /v1/messages through the official anthropic SDK: request translation (what the
OpenAI-compatible upstream sees) and response translation (what the SDK returns).
Spec: translation-spec.md §2 (request), §3 (response), vectors T1, T2, T8, T10, T16-T19, T21, T22."""
import hashlib
import json

import anthropic
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY, base_config, register_secret
from helpers import MODEL, client, last_body, raw, route, target, upstream_calls


def test_plain_text_request_and_response(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "Hello there, friend."}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=321, messages=[{"role": "user", "content": "Hi"}])

    body = last_body(mock)
    # An OpenRouter-dialect provider with `cost: upstream` (the default) is asked to report each
    # request's cost (accounting.md).
    assert body == {"model": "mock/model-a", "max_tokens": 321, "messages": [{"role": "user", "content": "Hi"}],
                    "usage": {"include": True}}
    assert len(mock.requests()) == 1
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.model == MODEL  # the client's model is echoed, not the upstream slug
    assert msg.id.startswith("msg_")
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "Hello there, friend."
    assert msg.stop_reason == "end_turn"
    assert msg.stop_sequence is None
    assert msg.usage.input_tokens == 10 and msg.usage.output_tokens == 5


def test_string_system_prompt_becomes_first_system_message(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(model=MODEL, max_tokens=1024, system="Be brief.",
                                    messages=[{"role": "user", "content": "Hi"}])
    body = last_body(mock)
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert body["max_tokens"] == 1024


def test_block_system_prompt_joined_and_billing_header_stripped(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    system = [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.88.a3f; cc_entrypoint=cli; cch=00000;"},
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Rules: be careful."},
    ]
    client(gateway).messages.create(model=MODEL, max_tokens=100, system=system,
                                    messages=[{"role": "user", "content": "Hi"}])
    req = mock.requests()[-1]
    body = req["body"]
    assert body["messages"][0] == {"role": "system", "content": "You are Claude Code.\n\nRules: be careful."}
    assert body["messages"][1:] == [{"role": "user", "content": "Hi"}]
    assert "x-anthropic-billing-header" not in json.dumps(body)
    assert "cache_control" not in json.dumps(body)


def test_billing_header_forwarded_when_stripping_disabled(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, translation={"strip_billing_header": False}))
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    billing = "x-anthropic-billing-header: cc_version=2.1.88.a3f; cc_entrypoint=cli; cch=00000;"
    client(gw).messages.create(model=MODEL, max_tokens=100,
                               system=[{"type": "text", "text": billing}, {"type": "text", "text": "You are Claude Code."}],
                               messages=[{"role": "user", "content": "Hi"}])
    assert last_body(mock)["messages"][0] == {"role": "system", "content": billing + "\n\nYou are Claude Code."}


def test_multi_turn_conversation_order_kept(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "Paris is nice."}})
    msg = client(gateway).messages.create(
        model=MODEL, max_tokens=200, system="sys",
        messages=[
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": [{"type": "text", "text": "And is it nice?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}]},
            {"role": "user", "content": "Tell me more."},
        ])
    msgs = last_body(mock)["messages"]
    # a user turn of text blocks may go up as a string or as text parts (spec §2.5 allows either)
    assert msgs[3]["content"] in ("And is it nice?", [{"type": "text", "text": "And is it nice?"}])
    assert msgs[:3] + msgs[4:] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "assistant", "content": "Part one.\n\nPart two."},
        {"role": "user", "content": "Tell me more."},
    ]
    assert msgs[3]["role"] == "user" and len(msgs) == 6
    assert msg.content[0].text == "Paris is nice."


def test_images_base64_to_data_url_and_url_kept(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "Two images."}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=100,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Compare these"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/y.png"}},
        ]}])
    body = last_body(mock)
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Compare these"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/y.png"}},
    ]}]


def test_sampling_parameters_and_stop_sequences(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=77, stop_sequences=["END", "STOP"],
        extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 40},  # anthropic 2.14 has no typed sampling args
        metadata={"user_id": "user_abc_account_x_session_y"},
        messages=[{"role": "user", "content": "Count"}])
    body = last_body(mock)
    assert body["stop"] == ["END", "STOP"]
    assert body["max_tokens"] == 77
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["top_k"] == 40
    assert body["user"] == hashlib.sha256(b"user_abc_account_x_session_y").hexdigest()[:64]
    assert "stop_sequences" not in body and "metadata" not in body


def test_empty_stop_sequences_omitted(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gateway).messages.create(model=MODEL, max_tokens=10, stop_sequences=[],
                                    messages=[{"role": "user", "content": "x"}])
    assert "stop" not in last_body(mock)


def _chat_completion(message: dict, finish: str, native: str | None = None, usage: dict | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    if native:
        choice["native_finish_reason"] = native
    return {"id": "gen-1", "object": "chat.completion", "created": 1, "model": "mock/model-a", "choices": [choice],
            "usage": usage or {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}


def test_native_stop_sequence_reported(gateway, mock):
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion(
        {"content": "one two three "}, "stop", native="stop_sequence")}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=50, stop_sequences=["END"],
                                          messages=[{"role": "user", "content": "count"}])
    assert last_body(mock)["stop"] == ["END"]
    assert msg.stop_reason == "stop_sequence"
    assert msg.stop_sequence == "END"
    assert msg.content[0].text == "one two three "


def test_plain_stop_without_native_reason_is_end_turn(gateway, mock):
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion({"content": "x"}, "stop")}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=50, stop_sequences=["END"],
                                          messages=[{"role": "user", "content": "count"}])
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None


def test_finish_length_maps_to_max_tokens(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "truncated", "finish_reason": "length"}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=3, messages=[{"role": "user", "content": "x"}])
    assert last_body(mock)["max_tokens"] == 3
    assert msg.stop_reason == "max_tokens"


def test_max_tokens_zero_answered_locally(gateway, mock):
    msg = client(gateway).messages.create(model=MODEL, max_tokens=0, messages=[{"role": "user", "content": "prewarm"}])
    assert mock.requests() == []
    assert msg.content == []
    assert msg.stop_reason == "max_tokens"
    assert msg.stop_sequence is None
    assert msg.usage.output_tokens == 0
    assert msg.model == MODEL


def test_usage_with_cached_tokens(gateway, mock):
    usage = {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240,
             "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 0}}
    mock.script({"reply": {"type": "chat", "content": "cached!", "usage": usage}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert msg.usage.input_tokens == 200
    assert msg.usage.cache_read_input_tokens == 1000
    assert msg.usage.cache_creation_input_tokens == 0
    assert msg.usage.output_tokens == 40


def test_usage_with_cache_writes(gateway, mock):
    usage = {"prompt_tokens": 500, "completion_tokens": 7, "total_tokens": 507,
             "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 300}}
    mock.script({"reply": {"type": "chat", "content": "w", "usage": usage}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert (msg.usage.input_tokens, msg.usage.cache_read_input_tokens, msg.usage.cache_creation_input_tokens,
            msg.usage.output_tokens) == (100, 100, 300, 7)


def test_empty_upstream_output_gives_empty_content(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": ""}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert msg.content == []
    assert msg.stop_reason == "end_turn"


def test_thinking_request_sends_openrouter_reasoning(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "done"}})
    client(gateway).messages.create(model=MODEL, max_tokens=32000,
                                    thinking={"type": "enabled", "budget_tokens": 10000},
                                    messages=[{"role": "user", "content": "think"}])
    body = last_body(mock)
    assert body["reasoning"] == {"max_tokens": 10000}
    assert body["max_tokens"] == 32000
    assert "thinking" not in body and "reasoning_effort" not in body


def test_thinking_request_openai_dialect_sends_reasoning_effort(gateway_factory, mock):
    cfg = base_config(mock)
    cfg["providers"]["mock"]["dialect"] = "openai"
    gw = gateway_factory(cfg)
    mock.script({"reply": {"type": "chat", "content": "done"}})
    client(gw).messages.create(model=MODEL, max_tokens=32000, thinking={"type": "enabled", "budget_tokens": 10000},
                               messages=[{"role": "user", "content": "think"}])
    body = last_body(mock)
    assert body["reasoning_effort"] == "high"
    assert "reasoning" not in body
    assert body["max_completion_tokens"] == 32000 and "max_tokens" not in body


def test_upstream_reasoning_becomes_thinking_block_with_signature(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "The answer is 4.", "reasoning": "2+2 is 4, simple.",
                           "reasoning_signature": "EvgCsig=="}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=4096,
                                          thinking={"type": "enabled", "budget_tokens": 2048},
                                          messages=[{"role": "user", "content": "2+2?"}])
    assert [b.type for b in msg.content] == ["thinking", "text"]
    assert msg.content[0].thinking == "2+2 is 4, simple."
    assert msg.content[0].signature == "EvgCsig=="
    assert msg.content[1].text == "The answer is 4."


def test_upstream_reasoning_content_without_signature(gateway, mock):
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion(
        {"content": "ok", "reasoning_content": "R"}, "stop")}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert [b.type for b in msg.content] == ["thinking", "text"]
    assert msg.content[0].thinking == "R" and msg.content[0].signature == ""


def test_thinking_block_in_history_becomes_reasoning_details(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "It is sunny."}})
    client(gateway).messages.create(
        model=MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048},
        tools=[{"name": "weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}],
        messages=[
            {"role": "user", "content": "Weather in Florence?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "EqQB"},
                {"type": "tool_use", "id": "toolu_W", "name": "weather", "input": {"location": "Florence"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_W", "content": "sunny"}]},
        ])
    body = last_body(mock)
    assistant = body["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant.get("content") is None
    assert assistant["reasoning"] == "plan"
    assert assistant["reasoning_details"] == [
        {"type": "reasoning.text", "text": "plan", "signature": "EqQB", "format": "anthropic-claude-v1", "index": 0}]
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in assistant["tool_calls"]] == [
        ("toolu_W", "weather", {"location": "Florence"})]
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "toolu_W", "content": "sunny"}
    assert "plan" not in json.dumps(body["messages"][0])


def test_thinking_block_dropped_for_openai_dialect(gateway_factory, mock):
    cfg = base_config(mock)
    cfg["providers"]["mock"]["dialect"] = "openai"
    gw = gateway_factory(cfg)
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gw).messages.create(
        model=MODEL, max_tokens=100,
        messages=[{"role": "user", "content": "q"},
                  {"role": "assistant", "content": [{"type": "thinking", "thinking": "secret plan", "signature": "EqQB"},
                                                    {"type": "text", "text": "answer"}]},
                  {"role": "user", "content": "more"}])
    body = last_body(mock)
    assert body["messages"][1] == {"role": "assistant", "content": "answer"}
    assert "secret plan" not in json.dumps(body)


def test_unknown_model_without_catch_all_route_is_404(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("only", ["claude-only"], [target("mock/model-a")])]))
    with pytest.raises(anthropic.NotFoundError) as e:
        client(gw).messages.create(model="gpt-nothing", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 404
    assert e.value.body["error"]["type"] == "not_found_error"
    assert mock.requests() == []


# ---------------------------------------------------------------- Anthropic-native provider (pass-through)

def _native_config(mock):
    return base_config(mock, routes=[route("native", ["*"], [target("claude-upstream-model", provider="mock-anthropic")])])


def test_anthropic_native_provider_forwards_request(gateway_factory, mock):
    gw = gateway_factory(_native_config(mock))
    client_token = register_secret("sk-client-native-token-93ab1")
    mock.script({"match": {"api": "anthropic"}, "reply": {"type": "anthropic", "content": "native hello",
                                                         "usage": {"input_tokens": 21, "output_tokens": 4}}})
    c = anthropic.Anthropic(base_url=gw.base_url, api_key=client_token, max_retries=0,
                            default_headers={"anthropic-beta": "interleaved-thinking-2025-05-14,claude-code-20250219"})
    system = [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}]
    msg = c.messages.create(model=MODEL, max_tokens=55, system=system, extra_body={"temperature": 0.3},
                            messages=[{"role": "user", "content": [{"type": "text", "text": "Hi",
                                                                    "cache_control": {"type": "ephemeral"}}]}])
    reqs = upstream_calls(mock, "anthropic")
    assert len(reqs) == 1 and len(mock.requests()) == 1
    req = reqs[0]
    assert req["path"].split("?")[0] == "/v1/messages"
    assert req["headers"]["x-api-key"] == ANTHROPIC_UPSTREAM_KEY
    assert req["headers"].get("anthropic-beta") == "interleaved-thinking-2025-05-14,claude-code-20250219"
    assert "anthropic-version" in req["headers"]
    assert client_token not in json.dumps(req["headers"])
    assert "authorization" not in req["headers"]
    body = req["body"]
    assert body["model"] == "claude-upstream-model"
    assert body["max_tokens"] == 55
    assert body["temperature"] == 0.3
    assert body["system"] == system  # forwarded untranslated, cache_control kept
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi",
                                                              "cache_control": {"type": "ephemeral"}}]}]
    assert msg.content[0].text == "native hello"
    assert msg.usage.input_tokens == 21 and msg.usage.output_tokens == 4


def test_anthropic_native_provider_upstream_error_passed_as_status(gateway_factory, mock):
    gw = gateway_factory(_native_config(mock))
    mock.script({"match": {"api": "anthropic"}, "reply": {"type": "error", "status": 429, "headers": {"retry-after": "3"}}})
    with pytest.raises(anthropic.RateLimitError) as e:
        client(gw).messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 429
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "rate_limit_error"
    assert e.value.response.headers.get("retry-after") == "3"


# ---------------------------------------------------------------- more vectors (T9, T11, T16, T22, T24)

def test_pdf_document_becomes_file_part(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "read it"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "document", "title": "spec.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}},
        {"type": "text", "text": "Summarise"}]}])
    content = last_body(mock)["messages"][0]["content"]
    assert content[0] == {"type": "file", "file": {"filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"}}
    assert content[1] == {"type": "text", "text": "Summarise"}


@pytest.mark.parametrize("thinking,extra,expected", [
    ({"type": "enabled", "budget_tokens": 1024}, {}, {"max_tokens": 1024}),
    ({"type": "adaptive"}, {"output_config": {"effort": "max"}}, {"effort": "xhigh"}),
    ({"type": "adaptive"}, {"output_config": {"effort": "low"}}, {"effort": "low"}),
    ({"type": "adaptive"}, {}, {"enabled": True}),
    ({"type": "enabled", "budget_tokens": 2048, "display": "omitted"}, {}, {"max_tokens": 2048, "exclude": True}),
])
def test_thinking_variants_openrouter(gateway, mock, thinking, extra, expected):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    raw_resp = raw(gateway, "POST", "/v1/messages", dict(
        {"model": MODEL, "max_tokens": 8000, "thinking": thinking, "messages": [{"role": "user", "content": "x"}]}, **extra))
    assert raw_resp.status == 200, raw_resp
    body = last_body(mock)
    assert body["reasoning"] == expected
    assert "output_config" not in body and "thinking" not in body


@pytest.mark.parametrize("budget,effort", [(1024, "low"), (4096, "medium"), (8192, "medium"), (10000, "high")])
def test_thinking_budget_to_reasoning_effort_openai_dialect(gateway_factory, mock, budget, effort):
    cfg = base_config(mock)
    cfg["providers"]["mock"]["dialect"] = "openai"
    gw = gateway_factory(cfg)
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    client(gw).messages.create(model=MODEL, max_tokens=32000, thinking={"type": "enabled", "budget_tokens": budget},
                               messages=[{"role": "user", "content": "x"}])
    assert last_body(mock)["reasoning_effort"] == effort


def test_non_anthropic_reasoning_detail_codec_round_trip(gateway, mock):
    import base64
    detail = {"type": "reasoning.encrypted", "data": "gAAAAABencrypted==", "format": "openai-responses-v1", "index": 0, "id": "rs_1"}
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion(
        {"content": "hi", "reasoning_details": [detail]}, "stop")}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert [b.type for b in msg.content] == ["redacted_thinking", "text"]
    data = msg.content[0].data
    assert data.startswith("gw1:")
    assert json.loads(base64.b64decode(data[4:])) == detail
    # send it back: the identical detail object goes upstream
    mock.script({"reply": {"type": "chat", "content": "again"}})
    client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": data}, {"type": "text", "text": "hi"}]},
        {"role": "user", "content": "y"}])
    assistant = last_body(mock)["messages"][1]
    assert assistant["reasoning_details"] == [detail]
    assert assistant["content"] == "hi"


def test_non_anthropic_reasoning_text_gets_codec_signature(gateway, mock):
    import base64
    detail = {"type": "reasoning.text", "text": "gemini thoughts", "format": "google-gemini-v1", "index": 0}
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion(
        {"content": "ok", "reasoning": "gemini thoughts", "reasoning_details": [detail]}, "stop")}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].type == "thinking"
    assert msg.content[0].thinking == "gemini thoughts"
    sig = msg.content[0].signature
    assert sig.startswith("gw1:")
    assert json.loads(base64.b64decode(sig[4:])) == detail


@pytest.mark.parametrize("message,finish,content,stop", [
    ({"content": "blocked"}, "content_filter", [("text", "blocked")], "refusal"),
    ({"content": None, "refusal": "I can't help with that."}, "stop", [("text", "I can't help with that.")], "refusal"),
    ({"content": "x"}, None, [("text", "x")], "end_turn"),
])
def test_finish_reason_corner_cases(gateway, mock, message, finish, content, stop):
    mock.script({"match": {"api": "openai"}, "reply": {"type": "json", "body": _chat_completion(message, finish)}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert [(b.type, b.text) for b in msg.content] == content
    assert msg.stop_reason == stop


def test_leading_whitespace_body_parses(gateway, mock):
    mock.script({"reply": {"type": "fault", "mode": "garbage_lines"}})
    msg = client(gateway).messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].type == "text" and msg.content[0].text
