"""auth.mode tokens: user tokens (token_sha256 and ${VAR} tokens), 401s, per-user route allow-lists (403).
Spec: config.md (auth, users), translation-spec.md §1.3, T37."""
import anthropic
import pytest

from conftest import base_config, register_secret
from helpers import MODEL, client, error_of, messages_body, raw, route, sha256_hex, target

ALICE = register_secret("sk-sw-alice-" + "4f9e2b7c1d0a")
BOB = register_secret("sk-sw-bob-" + "8a1c3e5f7b9d")
CAROL = register_secret("sk-sw-carol-" + "2d4f6a8c0e1b")
UNKNOWN = register_secret("sk-sw-nobody-" + "0000aaaa1111")


def team_config(mock, **overrides):
    cfg = base_config(
        mock,
        routes=[
            route("a", ["model-a", "claude-a-*"], [target("mock/route-a")]),
            route("b", ["model-b", "claude-b-*"], [target("mock/route-b")]),
        ],
        auth={"mode": "tokens"},
        users=[
            {"name": "alice", "token_sha256": sha256_hex(ALICE)},
            {"name": "bob", "token_sha256": sha256_hex(BOB), "routes": ["a"]},
            {"name": "carol", "token": "${CAROL_E2E_TOKEN}"},
        ],
    )
    cfg.update(overrides)
    return cfg


@pytest.fixture
def team_gw(gateway_factory, mock):
    return gateway_factory(team_config(mock), env={"CAROL_E2E_TOKEN": CAROL})


def test_missing_token_is_401(team_gw, mock):
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-a"))
    assert resp.status == 401
    assert error_of(resp)["type"] == "authentication_error"
    assert mock.requests() == []


def test_missing_token_sdk(team_gw, mock):
    c = anthropic.Anthropic(base_url=team_gw.base_url, api_key=None, auth_token=None, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        c.messages.create(model="model-a", max_tokens=10, messages=[{"role": "user", "content": "x"}],
                          extra_headers={"X-Api-Key": anthropic.Omit(), "Authorization": anthropic.Omit()})
    assert e.value.status_code == 401
    assert e.value.body["error"]["type"] == "authentication_error"
    assert mock.requests() == []


@pytest.mark.parametrize("headers", [{"x-api-key": UNKNOWN}, {"authorization": "Bearer " + UNKNOWN},
                                     {"authorization": "Basic " + ALICE}, {"x-api-key": ALICE + "x"},
                                     {"x-api-key": sha256_hex(ALICE)}])
def test_unknown_token_is_401(team_gw, mock, headers):
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-a"), headers)
    assert resp.status == 401
    err = error_of(resp)
    assert err["type"] == "authentication_error"
    assert UNKNOWN not in err["message"] and ALICE not in err["message"]
    assert mock.requests() == []


def test_unknown_token_sdk(team_gw, mock):
    with pytest.raises(anthropic.AuthenticationError) as e:
        client(team_gw, api_key=UNKNOWN).messages.create(model="model-a", max_tokens=10,
                                                         messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 401


def test_valid_token_via_x_api_key(team_gw, mock):
    mock.script({"reply": {"type": "chat", "content": "hi alice"}})
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-b"), {"x-api-key": ALICE})
    assert resp.status == 200, resp
    assert resp.json()["content"][0]["text"] == "hi alice"
    assert mock.requests()[-1]["body"]["model"] == "mock/route-b"


def test_valid_token_via_bearer(team_gw, mock):
    mock.script({"times": 2, "reply": {"type": "chat", "content": "hi bearer"}})
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-a"), {"authorization": "Bearer " + ALICE})
    assert resp.status == 200, resp
    c = anthropic.Anthropic(base_url=team_gw.base_url, auth_token=ALICE, max_retries=0)
    msg = c.messages.create(model="model-a", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].text == "hi bearer"


def test_valid_token_sdk_api_key_and_stream(team_gw, mock):
    mock.script({"times": 2, "reply": {"type": "chat", "content": "streamed ok"}})
    c = client(team_gw, api_key=ALICE)
    assert c.messages.create(model="model-a", max_tokens=10, messages=[{"role": "user", "content": "x"}]).content[0].text == "streamed ok"
    with c.messages.stream(model="model-a", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        assert s.get_final_message().content[0].text == "streamed ok"


def test_access_log_names_the_user(team_gw, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    assert raw(team_gw, "POST", "/v1/messages", messages_body(model="model-a"), {"x-api-key": ALICE}).status == 200
    entries = [e for e in team_gw.access_log() if e.get("endpoint") == "messages"]
    assert entries[-1]["user"] == "alice"
    assert entries[-1]["route"] == "a"
    assert entries[-1]["status"] == 200


def test_route_allow_list_forbids_other_route(team_gw, mock):
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-b"), {"x-api-key": BOB})
    assert resp.status == 403, resp
    assert error_of(resp)["type"] == "permission_error"
    assert mock.requests() == []
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="claude-b-sonnet", stream=True),
               {"authorization": "Bearer " + BOB})
    assert resp.status == 403
    assert mock.requests() == []


def test_route_allow_list_forbids_via_sdk(team_gw, mock):
    with pytest.raises(anthropic.PermissionDeniedError) as e:
        client(team_gw, api_key=BOB).messages.create(model="model-b", max_tokens=10,
                                                     messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 403
    assert e.value.body["error"]["type"] == "permission_error"
    assert mock.requests() == []


def test_route_allow_list_permits_listed_route(team_gw, mock):
    mock.script({"reply": {"type": "chat", "content": "bob on a"}})
    msg = client(team_gw, api_key=BOB).messages.create(model="claude-a-x", max_tokens=10,
                                                       messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].text == "bob on a"
    assert mock.requests()[-1]["body"]["model"] == "mock/route-a"


def test_token_from_environment_variable(team_gw, mock):
    mock.script({"reply": {"type": "chat", "content": "hi carol"}})
    msg = client(team_gw, api_key=CAROL).messages.create(model="model-b", max_tokens=10,
                                                         messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].text == "hi carol"
    entries = [e for e in team_gw.access_log() if e.get("endpoint") == "messages"]
    assert entries[-1]["user"] == "carol"


def test_literal_variable_text_is_not_a_token(team_gw, mock):
    resp = raw(team_gw, "POST", "/v1/messages", messages_body(model="model-a"), {"x-api-key": "${CAROL_E2E_TOKEN}"})
    assert resp.status == 401


def test_count_tokens_and_models_need_a_token(team_gw, mock):
    assert raw(team_gw, "POST", "/v1/messages/count_tokens", {"model": "model-a", "messages": [
        {"role": "user", "content": "x"}]}).status == 401
    ok = raw(team_gw, "POST", "/v1/messages/count_tokens",
             {"model": "model-a", "messages": [{"role": "user", "content": "x"}]}, {"x-api-key": ALICE})
    assert ok.status == 200 and ok.json()["input_tokens"] > 0
    assert raw(team_gw, "GET", "/v1/models", headers={"anthropic-version": "2023-06-01"}).status == 401
    assert raw(team_gw, "GET", "/v1/models", headers={"x-api-key": ALICE}).status == 200


def test_health_needs_no_token(team_gw, mock):
    assert raw(team_gw, "GET", "/health").status == 200


def test_missing_env_variable_is_a_config_error(gateway_factory, mock):
    with pytest.raises(RuntimeError) as e:
        gateway_factory(team_config(mock), env={})
    assert "CAROL_E2E_TOKEN" in str(e.value)
