"""Bad input on the chat front door: 400 in the OpenAI envelope, with a message naming the field, and
nothing sent upstream (docs/openai-front-door.md "Validation"; the issue's "Bad input"). The doc's
validation list carries no target qualification, so it is asserted on both kinds of target: malformed
bodies, model, messages and roles, wrong types of stream, max_tokens, max_completion_tokens,
temperature, top_p, n (1 only), tools, tool_choice, stop, and unsupported content parts (input_audio,
unknown part types). A `file` part by `file_id` is refused only for a kind: anthropic target (it has
no Anthropic translation; test_openai_passthrough.py shows it forwarded to a kind: openai one). And
the 413 of an oversized body."""
import json
import re

import openai
import pytest

from oaikit import (CHAT_PATH, CLAUDE_MODEL, GPT_MODEL, PREFIX_PATH, assert_error, chat_body, chat_config, client,
                    post_chat)

KINDS = [GPT_MODEL, CLAUDE_MODEL]
KIND_IDS = ["openai-target", "anthropic-target"]


@pytest.fixture
def gw(gateway_factory, mock):
    return gateway_factory(chat_config(mock))


def _bad_request(resp, field: str | None = None) -> dict:
    err = assert_error(resp, 400, "invalid_request_error", None)
    assert err["param"] is None, err
    assert not resp.content_type.startswith("text/event-stream")
    if field is not None:      # the message names the field (a one-letter field as a whole word)
        assert re.search(rf"(?<![A-Za-z_]){re.escape(field)}(?![A-Za-z_])", err["message"]), (field, err)
    return err


NOT_OBJECTS = [b"", b"   ", b"not json", b"[]", b"null", b'"text"', b"42", b'{"model":', b"{'model': 'x'}",
               json.dumps(chat_body()).encode() + b" trailing", b'{"model":"gpt-x","messages":[],}']


@pytest.mark.parametrize("path", [CHAT_PATH, PREFIX_PATH], ids=["v1", "openai-prefix"])
@pytest.mark.parametrize("body", NOT_OBJECTS, ids=[f"b{i}" for i in range(len(NOT_OBJECTS))])
def test_body_not_a_json_object(gw, mock, body, path):
    _bad_request(post_chat(gw, body, path=path))
    assert mock.requests() == []


MODEL_VALUES = [("missing", None), ("empty", ""), ("number", 42), ("null", "null"), ("array", ["gpt-x"]),
                ("object", {"id": "gpt-x"})]


@pytest.mark.parametrize("case,value", MODEL_VALUES, ids=[m[0] for m in MODEL_VALUES])
def test_model_must_be_a_non_empty_string(gw, mock, case, value):
    body = chat_body()
    if case == "missing":
        del body["model"]
    else:
        body["model"] = None if value == "null" else value
    _bad_request(post_chat(gw, body), "model")
    assert mock.requests() == []


MESSAGES_VALUES = [("missing", None), ("empty", []), ("string", "hi"), ("object", {"role": "user", "content": "x"}),
                   ("number-item", [42]), ("no-role", [{"content": "x"}]), ("unknown-role", [{"role": "wizard", "content": "x"}]),
                   ("role-number", [{"role": 1, "content": "x"}]), ("null", "null")]


@pytest.mark.parametrize("model", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("case,value", MESSAGES_VALUES, ids=[m[0] for m in MESSAGES_VALUES])
def test_messages_must_be_a_non_empty_array_of_known_roles(gw, mock, case, value, model):
    body = chat_body(model)
    if case == "missing":
        del body["messages"]
    else:
        body["messages"] = None if value == "null" else value
    _bad_request(post_chat(gw, body), "messages")
    assert mock.requests() == []


WRONG_TYPES_ALL = [("stream", "yes"), ("stream", 1), ("max_tokens", -1), ("max_tokens", 1.5), ("max_tokens", "64"),
                   ("max_tokens", 2.0), ("max_completion_tokens", -5), ("max_completion_tokens", True),
                   ("max_completion_tokens", [10])]


@pytest.mark.parametrize("model", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("field,value", WRONG_TYPES_ALL, ids=[f"{f}={v!r}" for f, v in WRONG_TYPES_ALL])
def test_wrong_types_on_both_kinds(gw, mock, field, value, model):
    _bad_request(post_chat(gw, chat_body(model, **{field: value})), field)
    assert mock.requests() == []


WRONG_TYPES_MORE = [("temperature", "hot"), ("temperature", [0.5]), ("top_p", "x"), ("n", 2), ("n", 0),
                    ("n", "1"), ("tools", {"type": "function"}), ("tools", "x"), ("tool_choice", 5),
                    ("tool_choice", ["auto"]), ("stop", 5), ("stop", [1, 2]), ("stop", {"a": "b"})]


@pytest.mark.parametrize("model", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("field,value", WRONG_TYPES_MORE, ids=[f"{f}={v!r}" for f, v in WRONG_TYPES_MORE])
def test_wrong_types_of_sampling_and_tool_fields(gw, mock, field, value, model):
    _bad_request(post_chat(gw, chat_body(model, **{field: value})), field)
    assert mock.requests() == []


AUDIO = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
UNSUPPORTED_PARTS = [
    ("input_audio", CLAUDE_MODEL, AUDIO, "messages[2].content[1].type"),
    ("input_audio", GPT_MODEL, AUDIO, "messages[2].content[1].type"),
    ("unknown", CLAUDE_MODEL, {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}, "messages[2].content[1]"),
    ("unknown", GPT_MODEL, {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}, "messages[2].content[1]"),
    ("file_id", CLAUDE_MODEL, {"type": "file", "file": {"file_id": "file-abc123"}}, "messages[2].content[1]"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("case,model,part,where", UNSUPPORTED_PARTS,
                         ids=[f"{u[0]}-{'anthropic' if u[1] == CLAUDE_MODEL else 'openai'}" for u in UNSUPPORTED_PARTS])
def test_unsupported_content_part_names_the_part(gw, mock, case, model, part, where, stream):
    body = chat_body(model, stream=stream, messages=[
        {"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "and this"}, part]}])
    _bad_request(post_chat(gw, body), where)
    assert mock.requests() == []


def test_n_above_one_via_sdk(gw, mock):
    with pytest.raises(openai.BadRequestError) as e:
        client(gw).chat.completions.create(model=CLAUDE_MODEL, n=2, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 400
    assert e.value.type == "invalid_request_error"
    assert e.value.code is None and e.value.param is None
    assert re.search(r"(?<![A-Za-z_])n(?![A-Za-z_])", e.value.body["message"]), e.value.body
    assert mock.requests() == []


def test_input_audio_via_sdk_stream(gw, mock):
    with pytest.raises(openai.BadRequestError) as e:
        client(gw).chat.completions.create(model=CLAUDE_MODEL, stream=True, messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}])
    assert "messages[0].content[0].type" in e.value.body["message"]
    assert mock.requests() == []


def test_valid_request_still_served_after_errors(gw, mock):
    for body in (b"{", chat_body(CLAUDE_MODEL, n=3), chat_body(GPT_MODEL, stream="no")):
        assert post_chat(gw, body).status == 400
    mock.script([{"match": {"api": "anthropic"}, "reply": {"type": "anthropic", "content": "fine"}},
                 {"match": {"api": "openai"}, "reply": {"type": "chat", "content": "fine"}}])
    for model in KINDS:
        assert post_chat(gw, chat_body(model, n=1)).json()["choices"][0]["message"]["content"] == "fine"


def test_body_larger_than_max_body_bytes_is_413(gateway_factory, mock):
    gw = gateway_factory(chat_config(mock, server={"max_body_bytes": "64KiB"}))
    big = chat_body(CLAUDE_MODEL, text="x" * 200_000)
    assert_error(post_chat(gw, big), 413, "invalid_request_error", "request_too_large")
    assert mock.requests() == []
