"""The gateway's HTTP surface besides message translation: count_tokens, models, health, the
/anthropic prefix and ?beta=true, 404/405 envelopes, and that client credentials never go upstream.
Spec: translation-spec.md §1.2, §1.3, §1.5, §6, T37-T39."""
import json

import anthropic
import pytest

from conftest import UPSTREAM_KEY, base_config, register_secret
from helpers import MODEL, client, error_of, messages_body, raw, route, sha256_hex, target

COUNT_BODY = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}


# ---------------------------------------------------------------- count_tokens

def test_count_tokens_positive_and_local(gateway, mock):
    resp = raw(gateway, "POST", "/v1/messages/count_tokens", COUNT_BODY)
    assert resp.status == 200, resp
    body = resp.json()
    assert set(body) == {"input_tokens"}
    assert isinstance(body["input_tokens"], int) and body["input_tokens"] > 0
    assert mock.requests() == []


def test_count_tokens_longer_prompt_counts_more(gateway, mock):
    short = raw(gateway, "POST", "/v1/messages/count_tokens", COUNT_BODY).json()["input_tokens"]
    long_text = "The quick brown fox jumps over the lazy dog. " * 200
    long_ = raw(gateway, "POST", "/v1/messages/count_tokens",
                {"model": MODEL, "messages": [{"role": "user", "content": long_text}]}).json()["input_tokens"]
    assert long_ > short
    # spec §6: within a factor of 2 of utf8 bytes / 4 for ordinary text
    approx = len(json.dumps([{"role": "user", "content": long_text}]).encode()) / 4
    assert approx / 2 <= long_ <= approx * 2
    with_system = raw(gateway, "POST", "/v1/messages/count_tokens",
                      dict(COUNT_BODY, system="You are a very detailed assistant. " * 50)).json()["input_tokens"]
    assert with_system > short
    tools = [{"name": "Bash", "description": "Run a shell command " * 20,
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
    with_tools = raw(gateway, "POST", "/v1/messages/count_tokens", dict(COUNT_BODY, tools=tools)).json()["input_tokens"]
    assert with_tools > short
    assert mock.requests() == []


def test_count_tokens_via_sdk_and_beta(gateway, mock):
    c = client(gateway)
    n = c.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hello there"}])
    assert n.input_tokens > 0
    nb = c.beta.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hello there"}])
    assert nb.input_tokens == n.input_tokens
    assert mock.requests() == []


def test_count_tokens_malformed_json_is_400(gateway, mock):
    resp = raw(gateway, "POST", "/v1/messages/count_tokens", '{"model": "x", "messages": [ }')
    assert resp.status == 400
    assert error_of(resp)["type"] == "invalid_request_error"
    assert mock.requests() == []


def test_count_tokens_missing_messages_is_400(gateway, mock):
    resp = raw(gateway, "POST", "/v1/messages/count_tokens", {"model": MODEL})
    assert resp.status == 400
    err = error_of(resp)
    assert err["type"] == "invalid_request_error"
    assert "messages" in err["message"]


def test_count_tokens_under_anthropic_prefix(gateway, mock):
    resp = raw(gateway, "POST", "/anthropic/v1/messages/count_tokens?beta=true", COUNT_BODY)
    assert resp.status == 200
    assert resp.json()["input_tokens"] > 0


# ---------------------------------------------------------------- models

def _models_config(mock):
    return base_config(mock, routes=[
        route("gpt", ["zeta-gpt", "alpha-open"], [target("mock/model-g")]),
        route("sonnet", ["claude-sonnet-4-5", "claude-sonnet-*"], [target("mock/model-s")]),
        route("haiku", ["claude-haiku-4-5"], [target("mock/model-h")]),
        route("default", ["*"], [target("mock/model-a")]),
    ])


def test_models_anthropic_shape(gateway_factory, mock):
    gw = gateway_factory(_models_config(mock))
    resp = raw(gw, "GET", "/v1/models?limit=1000", headers={"anthropic-version": "2023-06-01"})
    assert resp.status == 200
    body = resp.json()
    assert body["has_more"] is False
    ids = [m["id"] for m in body["data"]]
    assert set(ids) >= {"claude-sonnet-4-5", "claude-haiku-4-5", "zeta-gpt", "alpha-open"}
    assert not any("*" in i for i in ids)
    claude = [i for i in ids if i.startswith("claude")]
    assert ids[:len(claude)] == claude  # claude-* first
    assert body["first_id"] == ids[0] and body["last_id"] == ids[-1]
    for m in body["data"]:
        assert m["type"] == "model"
        assert isinstance(m["display_name"], str) and m["display_name"]
        assert isinstance(m["created_at"], str) and m["created_at"].endswith("Z")


def test_models_via_sdk(gateway_factory, mock):
    gw = gateway_factory(_models_config(mock))
    ids = [m.id for m in client(gw).models.list(limit=1000)]
    assert ids[0].startswith("claude")
    assert "claude-sonnet-4-5" in ids


def test_models_openai_shape_without_anthropic_headers(gateway_factory, mock):
    gw = gateway_factory(_models_config(mock))
    resp = raw(gw, "GET", "/v1/models")
    assert resp.status == 200
    body = resp.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "claude-sonnet-4-5" in ids and "zeta-gpt" in ids
    for m in body["data"]:
        assert m["object"] == "model"
        assert isinstance(m["created"], int)
        assert isinstance(m["owned_by"], str)
        assert "type" not in m


def test_models_anthropic_shape_with_x_api_key_only(gateway_factory, mock):
    gw = gateway_factory(_models_config(mock))
    body = raw(gw, "GET", "/v1/models", headers={"x-api-key": "whatever"}).json()
    assert "has_more" in body and body["data"][0]["type"] == "model"


def test_single_model_lookup(gateway_factory, mock):
    gw = gateway_factory(_models_config(mock))
    ok = raw(gw, "GET", "/v1/models/claude-haiku-4-5", headers={"anthropic-version": "2023-06-01"})
    assert ok.status == 200 and ok.json()["id"] == "claude-haiku-4-5" and ok.json()["type"] == "model"
    missing = raw(gw, "GET", "/v1/models/claude-nope", headers={"anthropic-version": "2023-06-01"})
    assert missing.status == 404
    assert error_of(missing)["type"] == "not_found_error"


# ---------------------------------------------------------------- health, prefix, 404/405

def test_health_without_credentials_in_tokens_mode(gateway_factory, mock):
    token = register_secret("sk-user-health-0c1d2e")
    gw = gateway_factory(base_config(mock, auth={"mode": "tokens"},
                                     users=[{"name": "alice", "token_sha256": sha256_hex(token)}]))
    resp = raw(gw, "GET", "/health")
    assert resp.status == 200
    assert isinstance(resp.json(), dict)
    assert raw(gw, "HEAD", "/api/hello").status == 200
    # but messages still need a token
    assert raw(gw, "POST", "/v1/messages", messages_body()).status == 401


def test_anthropic_prefix_and_beta_query(gateway, mock):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "prefixed"}})
    c = anthropic.Anthropic(base_url=gateway.base_url + "/anthropic", api_key="x", max_retries=0)
    msg = c.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "prefixed"
    beta = c.beta.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert beta.content[0].text == "prefixed"
    resp = raw(gateway, "POST", "/v1/messages?beta=true", messages_body())
    assert resp.status == 200 and resp.json()["content"][0]["text"] == "prefixed"
    resp = raw(gateway, "POST", "/anthropic/v1/messages?beta=true", messages_body(stream=True))
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert len(mock.requests()) == 4
    for r in mock.requests():
        assert r["path"] == "/api/v1/chat/completions"
        assert r["body"]["model"] == "mock/model-a"


@pytest.mark.parametrize("method,path", [("POST", "/api/event_logging/batch"), ("GET", "/v2/whatever"),
                                         ("POST", "/v1/complete"), ("GET", "/anthropic/v1/nothing")])
def test_unknown_path_is_404_envelope(gateway, mock, method, path):
    resp = raw(gateway, method, path, {"x": 1} if method == "POST" else None)
    assert resp.status == 404
    err = error_of(resp)
    assert err["type"] == "not_found_error"
    assert mock.requests() == []


@pytest.mark.parametrize("method,path", [("GET", "/v1/messages"), ("PUT", "/v1/messages"), ("DELETE", "/v1/models"),
                                         ("GET", "/v1/messages/count_tokens"), ("POST", "/health")])
def test_wrong_method_is_405_envelope(gateway, mock, method, path):
    resp = raw(gateway, method, path, {"x": 1} if method in ("PUT", "POST") else None)
    assert resp.status == 405, resp
    err = error_of(resp)
    assert isinstance(err["message"], str) and err["message"]
    assert mock.requests() == []


def test_request_id_header_on_success_and_error(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    ok = raw(gateway, "POST", "/v1/messages", messages_body())
    bad = raw(gateway, "GET", "/nope")
    for r in (ok, bad):
        rid = r.headers.get("request-id", "")
        assert rid.startswith("req_") and len(rid) == 4 + 24


# ---------------------------------------------------------------- client credentials never reach the upstream

def _assert_only_upstream_key(req, *client_secrets):
    headers = req["headers"]
    assert headers.get("authorization") == "Bearer " + UPSTREAM_KEY
    assert "x-api-key" not in headers
    dumped = json.dumps(req)
    for s in client_secrets:
        assert s not in dumped


def test_client_credentials_not_forwarded_open_mode(gateway, mock):
    key = register_secret("sk-ant-client-open-key-5b7e99")
    bearer = register_secret("sk-client-open-bearer-a8c4d1")
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    client(gateway, api_key=key).messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    raw(gateway, "POST", "/v1/messages", messages_body(), {"x-api-key": key, "authorization": "Bearer " + bearer})
    raw(gateway, "POST", "/v1/messages", messages_body(stream=True), {"x-api-key": key, "authorization": "Bearer " + bearer})
    assert len(mock.requests()) == 3
    for req in mock.requests():
        _assert_only_upstream_key(req, key, bearer)


def test_client_credentials_not_forwarded_tokens_mode(gateway_factory, mock):
    token = register_secret("sk-user-fwd-check-77aa01")
    gw = gateway_factory(base_config(mock, auth={"mode": "tokens"},
                                     users=[{"name": "alice", "token_sha256": sha256_hex(token)}]))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    client(gw, api_key=token).messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    with client(gw, api_key=token).messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        s.get_final_message()
    assert raw(gw, "POST", "/v1/messages", messages_body(), {"x-api-key": token}).status == 200
    assert len(mock.requests()) == 3
    for req in mock.requests():
        _assert_only_upstream_key(req, token)
