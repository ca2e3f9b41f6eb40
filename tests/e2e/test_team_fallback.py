"""Fallback between a route's targets: 429/5xx/connect failures move to the next target (stream and
non-stream), the last error reaches the client when all fail, per-target api_key, and the access log
records every attempt. Spec: config.md (routes[].targets, fallback), translation-spec.md §5.3."""
import time

import anthropic
import pytest

from conftest import UPSTREAM_KEY, base_config, register_secret
from helpers import MODEL, client, error_of, messages_body, raw, route, sha256_hex, target

USER = register_secret("sk-sw-fb-user-" + "5e6f7a8b9c0d")
ROUTE_KEY = register_secret("sk-route-" + "b-target-key-3c9d1e")


def fb_config(mock, second_extra=None, fallback=None, tokens=False):
    second = target("mock/model-b", **(second_extra or {}))
    cfg = base_config(mock, routes=[route("pair", ["*"], [target("mock/model-a"), second])])
    if fallback is not None:
        cfg["fallback"] = fallback
    if tokens:
        cfg["auth"] = {"mode": "tokens"}
        cfg["users"] = [{"name": "dana", "token_sha256": sha256_hex(USER)}]
    return cfg


def _models_called(mock):
    return [r["body"]["model"] for r in mock.requests()]


def _script(mock, first_reply, second_reply=None):
    mock.script([{"match": {"model": "mock/model-a"}, "times": -1, "reply": first_reply},
                 {"match": {"model": "mock/model-b"}, "times": -1,
                  "reply": second_reply or {"type": "chat", "content": "from b",
                                            "usage": {"prompt_tokens": 17, "completion_tokens": 6, "total_tokens": 23}}}])


def _wait_log(gw, n=1, tries=40):
    for _ in range(tries):
        entries = [e for e in gw.access_log() if e.get("endpoint") == "messages"]
        if len(entries) >= n:
            return entries
        time.sleep(0.05)
    return [e for e in gw.access_log() if e.get("endpoint") == "messages"]


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_first_target_failure_falls_back_non_stream(gateway_factory, mock, status):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": status, "headers": {"retry-after": "30"}})
    msg = client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "from b"
    assert msg.usage.input_tokens == 17 and msg.usage.output_tokens == 6
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]
    # both attempts carried the same translated request apart from the model
    a, b = (r["body"] for r in mock.requests())
    assert {k: v for k, v in a.items() if k != "model"} == {k: v for k, v in b.items() if k != "model"}


@pytest.mark.parametrize("status", [429, 500])
def test_first_target_failure_falls_back_streamed(gateway_factory, mock, status):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": status})
    with client(gw).messages.stream(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == "from b"
    assert final.stop_reason == "end_turn"
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]
    assert all(r["body"]["stream"] is True for r in mock.requests())


def test_connect_failure_falls_back(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "fault", "mode": "reset_before_status"})
    msg = client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "from b"
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]


def test_streamed_first_event_error_falls_back(gateway_factory, mock):
    """An upstream stream whose first data event is an error is not committed, so it can fall back."""
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "sse", "events": ['data: {"error":{"code":429,"message":"slow down"}}', "data: [DONE]"]})
    with client(gw).messages.stream(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}]) as s:
        assert "".join(s.text_stream) == "from b"
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]


def test_all_targets_failing_returns_last_error(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": 429, "body": {"error": {"code": 429, "message": "a is rate limited"}}},
            {"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "b exploded"}}})
    with pytest.raises(anthropic.InternalServerError) as e:
        client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 500
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "api_error"
    assert "b exploded" in e.value.body["error"]["message"]
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]


def test_all_targets_failing_streamed_is_http_error(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": 500}, {"type": "error", "status": 429, "headers": {"retry-after": "11"}})
    resp = raw(gw, "POST", "/v1/messages", messages_body(stream=True))
    assert resp.status == 429, resp
    assert error_of(resp)["type"] == "rate_limit_error"
    assert resp.headers.get("retry-after") == "11"


def test_non_fallback_error_is_returned_at_once(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": 400, "body": {"error": {"code": 400, "message": "bad tool schema"}}})
    with pytest.raises(anthropic.BadRequestError) as e:
        client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert "bad tool schema" in e.value.body["error"]["message"]
    assert _models_called(mock) == ["mock/model-a"]


def test_fallback_on_list_is_honoured(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, fallback={"on": ["server_error"], "cooldown": "0s"}))
    _script(mock, {"type": "error", "status": 429})
    with pytest.raises(anthropic.RateLimitError):
        client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert _models_called(mock) == ["mock/model-a"]


def test_context_length_falls_back_to_next_target(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock))
    _script(mock, {"type": "error", "status": 400, "body": {"error": {
        "message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
        "code": "context_length_exceeded"}}})
    msg = client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "from b"
    assert _models_called(mock) == ["mock/model-a", "mock/model-b"]


def test_target_api_key_overrides_provider_key(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, second_extra={"api_key": ROUTE_KEY}))
    _script(mock, {"type": "error", "status": 503})
    client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    a, b = mock.requests()
    assert a["headers"]["authorization"] == "Bearer " + UPSTREAM_KEY
    assert b["headers"]["authorization"] == "Bearer " + ROUTE_KEY


def test_target_api_key_from_environment(gateway_factory, mock):
    cfg = fb_config(mock, second_extra={"api_key": "${E2E_ROUTE_B_KEY}"})
    gw = gateway_factory(cfg, env={"E2E_ROUTE_B_KEY": ROUTE_KEY})
    _script(mock, {"type": "error", "status": 429})
    client(gw).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert mock.requests()[1]["headers"]["authorization"] == "Bearer " + ROUTE_KEY


def test_access_log_shows_both_attempts(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, tokens=True))
    _script(mock, {"type": "error", "status": 429})
    msg = client(gw, api_key=USER).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "from b"
    entries = _wait_log(gw)
    assert len(entries) == 1
    e = entries[0]
    assert e["user"] == "dana"
    assert e["route"] == "pair"
    assert e["model"] == MODEL
    assert "mock/model-b" in e["target"]
    assert e["status"] == 200
    assert e["input_tokens"] == 17 and e["output_tokens"] == 6
    assert len(e["attempts"]) == 2
    assert "mock/model-a" in e["attempts"][0] and "429" in e["attempts"][0]
    assert "mock/model-b" in e["attempts"][1] and "200" in e["attempts"][1]


def test_access_log_streamed_fallback(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, tokens=True))
    _script(mock, {"type": "error", "status": 500})
    with client(gw, api_key=USER).messages.stream(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}]) as s:
        s.get_final_message()
    entries = _wait_log(gw)
    e = entries[-1]
    assert e["stream"] is True
    assert e["user"] == "dana" and e["route"] == "pair" and e["status"] == 200
    assert e["input_tokens"] == 17 and e["output_tokens"] == 6
    assert [("mock/model-a" in a and "500" in a) for a in e["attempts"][:1]] == [True]
    assert "mock/model-b" in e["attempts"][1] and "200" in e["attempts"][1]


def test_access_log_all_failed(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, tokens=True))
    _script(mock, {"type": "error", "status": 429}, {"type": "error", "status": 503})
    with pytest.raises(anthropic.APIStatusError):
        client(gw, api_key=USER).messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    e = _wait_log(gw)[-1]
    assert e["status"] == 529
    assert e["error_type"] == "overloaded_error"
    assert e["user"] == "dana" and e["route"] == "pair"
    assert len(e["attempts"]) == 2
    assert "mock/model-a" in e["attempts"][0] and "mock/model-b" in e["attempts"][1]


def test_cooldown_skips_failed_target(gateway_factory, mock):
    gw = gateway_factory(fb_config(mock, fallback={"cooldown": "60s"}))
    _script(mock, {"type": "error", "status": 429})
    c = client(gw)
    for _ in range(3):
        assert c.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}]).content[0].text == "from b"
    assert _models_called(mock) == ["mock/model-a", "mock/model-b", "mock/model-b", "mock/model-b"]
