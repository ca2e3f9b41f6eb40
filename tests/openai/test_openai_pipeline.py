"""The chat front door runs the same pipeline as /v1/messages (docs/openai-front-door.md, first
paragraph; accounting.md; config.md): user tokens as Bearer or x-api-key (never forwarded), routes by
requested model, allow-lists, rpm/tpm/concurrent limits shared with /v1/messages, budgets (402
`insufficient_quota` in the OpenAI envelope), fallbacks and cooldowns across targets of either kind,
the access log and the ledger (`endpoint: chat_completions`), and the OpenAI-shaped model list."""
import datetime
import json
import time

import openai
import pytest

from conftest import UPSTREAM_KEY
from oaikit import (ALICE, ANT_TARGET, BOB, CHAT_PATH, CLAUDE_MODEL, GPT_MODEL, OAI_TARGET, PREFIX_PATH, assert_error,
                    assert_sse, chat_body, chat_config, client, ledger_state, open_chat_stream, post_chat, read_until,
                    request, route, stream_text, target, wait_log, wait_rows)


def _messages_body(model=GPT_MODEL, **kw):
    body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    body.update(kw)
    return body


def _post_messages(gw, token, body=None):
    return request(gw, "POST", "/v1/messages", body or _messages_body(), {"x-api-key": token})


@pytest.fixture
def team_gw(gateway_factory, mock):
    return gateway_factory(chat_config(mock, tokens=True))


# --------------------------------------------------------------------------- auth

@pytest.mark.parametrize("path", [CHAT_PATH, PREFIX_PATH])
def test_missing_or_unknown_token_is_401(team_gw, mock, path):
    for headers in ({}, {"authorization": "Bearer sk-sw-not-a-user-000"}, {"x-api-key": "sk-sw-not-a-user-000"},
                    {"authorization": "Basic " + ALICE}):
        resp = post_chat(team_gw, chat_body(), headers, path=path)
        err = assert_error(resp, 401, "authentication_error", "invalid_api_key")
        assert ALICE not in err["message"]
    assert mock.requests() == []


def test_unknown_token_via_sdk(team_gw, mock):
    with pytest.raises(openai.AuthenticationError) as e:
        client(team_gw, api_key="sk-sw-wrong-key-123").chat.completions.create(
            model=GPT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 401
    assert e.value.type == "authentication_error" and e.value.code == "invalid_api_key"
    assert mock.requests() == []


@pytest.mark.parametrize("model,kind", [(GPT_MODEL, "openai"), (CLAUDE_MODEL, "anthropic")])
def test_bearer_and_x_api_key_accepted_and_never_forwarded(team_gw, mock, model, kind):
    reply = {"type": "chat" if kind == "openai" else "anthropic", "content": "hi alice"}
    mock.script({"times": 3, "reply": reply})
    r = client(team_gw, api_key=ALICE).chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    assert r.choices[0].message.content == "hi alice"
    resp = post_chat(team_gw, chat_body(model), {"x-api-key": ALICE})
    assert resp.status == 200, resp
    events = assert_sse(post_chat(team_gw, chat_body(model, stream=True), token=ALICE))
    assert stream_text(events) == "hi alice"
    assert len(mock.requests()) == 3
    for call in mock.requests():
        assert ALICE not in json.dumps(call)
        if kind == "openai":
            assert call["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert call["body"]["model"] == (OAI_TARGET if kind == "openai" else ANT_TARGET)


def test_route_allow_list_is_403(team_gw, mock):
    resp = post_chat(team_gw, chat_body(CLAUDE_MODEL), token=BOB)
    assert_error(resp, 403, "permission_error", None)
    with pytest.raises(openai.PermissionDeniedError) as e:
        client(team_gw, api_key=BOB).chat.completions.create(model=CLAUDE_MODEL, stream=True,
                                                            messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 403 and e.value.type == "permission_error"
    assert mock.requests() == []
    mock.script({"reply": {"type": "chat", "content": "bob ok"}})
    assert post_chat(team_gw, chat_body(GPT_MODEL), token=BOB).json()["choices"][0]["message"]["content"] == "bob ok"


def test_no_route_for_model_is_404_model_not_found(team_gw, mock):
    resp = post_chat(team_gw, chat_body("llama-3-70b"), token=ALICE)
    err = assert_error(resp, 404, "not_found_error", "model_not_found")
    assert "llama-3-70b" in err["message"]
    with pytest.raises(openai.NotFoundError) as e:
        client(team_gw, api_key=ALICE).chat.completions.create(model="mistral-large", messages=[{"role": "user", "content": "x"}])
    assert e.value.code == "model_not_found"
    assert mock.requests() == []


def test_routes_chosen_by_requested_model(gateway_factory, mock):
    gw = gateway_factory(chat_config(mock, routes=[
        route("exact", ["gpt-special"], [target("up/special")]),
        route("glob", ["gpt-*"], [target("up/glob")]),
        route("native", ["claude-*"], [target("claude-native-x", provider="mock-anthropic")]),
        route("rest", ["*"], [target("up/rest")])]))
    for model in ("gpt-special", "gpt-4o", "claude-sonnet-9", "o3-mini"):
        assert post_chat(gw, chat_body(model)).status == 200
    assert [(r["path"], r["body"]["model"]) for r in mock.requests()] == [
        ("/v1/chat/completions", "up/special"), ("/v1/chat/completions", "up/glob"),
        ("/v1/messages", "claude-native-x"), ("/v1/chat/completions", "up/rest")]
    assert [e["route"] for e in wait_log(gw, 4)] == ["exact", "glob", "native", "rest"]


# --------------------------------------------------------------------------- limits

def _limited_config(mock, limits):
    cfg = chat_config(mock, tokens=True)
    cfg["users"][0]["limits"] = limits
    return cfg


def _assert_rate_limited(resp):
    assert_error(resp, 429, "rate_limit_error", "rate_limit_exceeded")
    assert int(resp.headers["retry-after"]) >= 1, resp.headers


def test_rpm_shared_with_messages_endpoint(gateway_factory, mock):
    gw = gateway_factory(_limited_config(mock, {"rpm": 2}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok"}})
    assert post_chat(gw, chat_body(), token=ALICE).status == 200
    assert _post_messages(gw, ALICE).status == 200
    _assert_rate_limited(post_chat(gw, chat_body(), token=ALICE))
    _assert_rate_limited(post_chat(gw, chat_body(CLAUDE_MODEL, stream=True), token=ALICE))
    refused = _post_messages(gw, ALICE)
    assert refused.status == 429 and refused.json()["type"] == "error"     # the Anthropic envelope there
    assert len(mock.requests()) == 2
    assert post_chat(gw, chat_body(), token=BOB).status == 200              # bob has no limit


def test_tpm_counts_chat_usage(gateway_factory, mock):
    gw = gateway_factory(_limited_config(mock, {"tpm": 1000}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "big",
                                        "usage": {"prompt_tokens": 700, "completion_tokens": 200, "total_tokens": 900}}})
    assert post_chat(gw, chat_body(max_completion_tokens=300), token=ALICE).status == 200
    _assert_rate_limited(post_chat(gw, chat_body(max_completion_tokens=300), token=ALICE))
    assert len(mock.requests()) == 1


def test_concurrent_limit_holds_while_a_chat_stream_is_open(gateway_factory, mock):
    gw = gateway_factory(_limited_config(mock, {"concurrent": 1}))
    mock.script([{"match": {"stream": True, "last_user_contains": "slow"},
                  "reply": {"type": "chat", "content": "x" * 30, "chunk_size": 2, "delay_ms": 100}},
                 {"times": -1, "reply": {"type": "chat", "content": "fast"}}])
    sock = open_chat_stream(gw, chat_body(text="slow please"), {"authorization": f"Bearer {ALICE}"})
    try:
        head = read_until(sock, b'"xx"')
        assert head.startswith(b"HTTP/1.1 200"), head[:300]
        _assert_rate_limited(post_chat(gw, chat_body(), token=ALICE))
        _assert_rate_limited(post_chat(gw, chat_body(stream=True), token=ALICE))
        assert _post_messages(gw, ALICE).status == 429                       # the same slot for /v1/messages
        assert post_chat(gw, chat_body(), token=BOB).status == 200
        rest = read_until(sock, b"[DONE]")
        assert b"[DONE]" in head + rest
    finally:
        sock.close()
    last = None
    for _ in range(40):       # the slot is released when the stream ends (polled, no timing assertion)
        last = post_chat(gw, chat_body(), token=ALICE)
        if last.status == 200:
            break
        time.sleep(0.25)
    assert last.status == 200, last


# --------------------------------------------------------------------------- budgets

def _next_month_utc() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    first = datetime.datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=datetime.timezone.utc)
    return first.strftime("%Y-%m-%dT%H:%M:%SZ")


def _budget_config(mock, workdir):
    cfg = chat_config(mock, tokens=True, state=ledger_state(workdir))
    for name in ("oai", "mock-anthropic"):
        cfg["providers"][name]["cost"] = "prices"
        cfg["providers"][name]["prices"] = {"*": {"input": 0, "output": 100}}    # 100 output tokens = $0.01
    cfg["users"][0]["limits"] = {"budget": {"usd": 0.05, "period": "month"}}
    return cfg


@pytest.mark.parametrize("model,kind", [(GPT_MODEL, "openai"), (CLAUDE_MODEL, "anthropic")])
def test_budget_refusal_is_402_insufficient_quota(gateway_factory, mock, tmp_path, model, kind):
    gw = gateway_factory(_budget_config(mock, tmp_path))
    mock.script([{"match": {"api": "openai"}, "times": -1, "reply": {"type": "chat", "content": "spent", "usage": {
                      "prompt_tokens": 7, "completion_tokens": 100, "total_tokens": 107}}},
                 {"match": {"api": "anthropic"}, "times": -1, "reply": {"type": "anthropic", "content": "spent",
                                                                        "usage": {"input_tokens": 7, "output_tokens": 100}}}])
    statuses, refusal = [], None
    for _ in range(8):
        r = post_chat(gw, chat_body(model, max_completion_tokens=100), token=ALICE)
        statuses.append(r.status)
        if r.status != 200:
            refusal = r
            break
    assert statuses == [200] * 5 + [402], statuses            # 5 × $0.01 fit a $0.05 budget exactly
    err = assert_error(refusal, 402, "insufficient_quota", "insufficient_quota")
    assert refusal.headers.get("x-should-retry") == "false", refusal.headers
    expected = f"budget reached for user alice: $0.05 of $0.05 this month; resets {_next_month_utc()}"
    assert err["message"].startswith(expected), (err["message"], expected)
    # a streamed request is refused the same way, before anything is streamed
    streamed = post_chat(gw, chat_body(model, stream=True, max_completion_tokens=100), token=ALICE)
    assert not streamed.content_type.startswith("text/event-stream"), streamed
    assert_error(streamed, 402, "insufficient_quota", "insufficient_quota")
    with pytest.raises(openai.APIStatusError) as e:
        client(gw, api_key=ALICE).chat.completions.create(model=model, max_completion_tokens=100,
                                                          messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 402 and e.value.code == "insufficient_quota"
    assert len(mock.requests()) == 5, "a refused request must never reach the upstream"
    assert all(r["body"]["model"] == (OAI_TARGET if kind == "openai" else ANT_TARGET) for r in mock.requests())
    # bob has no budget
    assert post_chat(gw, chat_body(GPT_MODEL, max_completion_tokens=100), token=BOB).status == 200
    rows = wait_rows(tmp_path / "ledger.sqlite", 9)
    assert [r["status"] for r in rows if r["user_name"] == "alice"] == [200] * 5 + [402] * 3
    assert all(r["endpoint"] == "chat_completions" for r in rows)
    assert sum(r["cost_micro_usd"] or 0 for r in rows if r["user_name"] == "alice") == 50_000


# --------------------------------------------------------------------------- fallbacks

def _fb_config(mock, first: dict, second: dict, cooldown="0s"):
    return chat_config(mock, routes=[route("pair", ["*"], [first, second])], fallback={"cooldown": cooldown})


def _script_pair(mock, first_reply, second_reply=None, first_model="up/a", second_model="up/b"):
    mock.script([{"match": {"model": first_model}, "times": -1, "reply": first_reply},
                 {"match": {"model": second_model}, "times": -1,
                  "reply": second_reply or {"type": "chat", "content": "from b",
                                            "usage": {"prompt_tokens": 17, "completion_tokens": 6, "total_tokens": 23}}}])


@pytest.mark.parametrize("status", [429, 500, 503])
def test_fallback_to_next_target(gateway_factory, mock, status):
    gw = gateway_factory(_fb_config(mock, target("up/a"), target("up/b")))
    _script_pair(mock, {"type": "error", "status": status})
    body = chat_body(GPT_MODEL, max_completion_tokens=20, x_extra={"keep": True})
    r = client(gw).chat.completions.create(model=GPT_MODEL, messages=body["messages"], max_completion_tokens=20,
                                           extra_body={"x_extra": {"keep": True}})
    assert r.choices[0].message.content == "from b"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (17, 6)
    a, b = mock.requests()
    assert (a["body"]["model"], b["body"]["model"]) == ("up/a", "up/b")
    assert dict(a["body"], model=None) == dict(b["body"], model=None) == dict(body, model=None)


def test_fallback_streamed(gateway_factory, mock):
    gw = gateway_factory(_fb_config(mock, target("up/a"), target("up/b")))
    _script_pair(mock, {"type": "error", "status": 500})
    chunks = list(client(gw).chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}],
                                                     stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "from b"
    assert [r["body"]["model"] for r in mock.requests()] == ["up/a", "up/b"]
    assert all(r["body"]["stream_options"] == {"include_usage": True} for r in mock.requests())


def test_fallback_across_kinds(gateway_factory, mock):
    """An Anthropic-kind first target fails (overloaded); the OpenAI-kind second one answers."""
    gw = gateway_factory(_fb_config(mock, target("claude-first", provider="mock-anthropic"), target("up/b")))
    _script_pair(mock, {"type": "error", "status": 529}, first_model="claude-first")
    for stream in (False, True):
        resp = post_chat(gw, chat_body(GPT_MODEL, stream=stream, max_completion_tokens=40))
        if stream:
            assert stream_text(assert_sse(resp)) == "from b"
        else:
            assert resp.json()["choices"][0]["message"]["content"] == "from b"
    calls = [(r["path"], r["body"]["model"]) for r in mock.requests()]
    assert calls == [("/v1/messages", "claude-first"), ("/v1/chat/completions", "up/b")] * 2
    assert mock.requests()[0]["body"]["max_tokens"] == 40                  # translated for the Anthropic target
    assert mock.requests()[1]["body"]["max_completion_tokens"] == 40       # passed through for the OpenAI one


def test_cooldown_skips_failed_target(gateway_factory, mock):
    gw = gateway_factory(_fb_config(mock, target("up/a"), target("up/b"), cooldown="60s"))
    _script_pair(mock, {"type": "error", "status": 429})
    c = client(gw)
    for _ in range(3):
        assert c.chat.completions.create(model=GPT_MODEL, messages=[{"role": "user", "content": "x"}]).choices[0].message.content == "from b"
    assert [r["body"]["model"] for r in mock.requests()] == ["up/a", "up/b", "up/b", "up/b"]


def test_all_targets_failing_returns_last_error(gateway_factory, mock):
    gw = gateway_factory(_fb_config(mock, target("up/a"), target("up/b")))
    _script_pair(mock, {"type": "error", "status": 429, "body": {"error": {"code": 429, "message": "a is rate limited"}}},
                 {"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "b exploded"}}})
    for stream in (False, True):
        err = assert_error(post_chat(gw, chat_body(stream=stream)), 500, "server_error", None)
        assert "b exploded" in err["message"]
    assert [r["body"]["model"] for r in mock.requests()] == ["up/a", "up/b"] * 2


# --------------------------------------------------------------------------- access log and ledger

def test_access_log_rows(team_gw, mock):
    mock.script([{"match": {"api": "openai"}, "times": -1, "reply": {"type": "chat", "content": "o",
                  "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}},
                 {"match": {"api": "anthropic"}, "times": -1, "reply": {"type": "anthropic", "content": "a",
                  "usage": {"input_tokens": 21, "output_tokens": 4}}}])
    assert post_chat(team_gw, chat_body(GPT_MODEL), token=ALICE).status == 200
    assert assert_sse(post_chat(team_gw, chat_body(CLAUDE_MODEL, stream=True), token=ALICE))[-1] == "[DONE]"
    assert post_chat(team_gw, chat_body(GPT_MODEL), token=ALICE, path=PREFIX_PATH).status == 200
    assert _post_messages(team_gw, ALICE).status == 200
    entries = wait_log(team_gw, 3)
    assert len(entries) == 3, team_gw.access_log()
    a, b, c = entries
    assert (a["user"], a["route"], a["model"], a["target"], a["status"], a["stream"]) == (
        "alice", "gpt", GPT_MODEL, f"oai:{OAI_TARGET}", 200, False)
    assert (a["input_tokens"], a["output_tokens"]) == (11, 3)
    assert (b["user"], b["route"], b["model"], b["target"], b["status"], b["stream"]) == (
        "alice", "claude", CLAUDE_MODEL, f"mock-anthropic:{ANT_TARGET}", 200, True)
    assert (b["input_tokens"], b["output_tokens"]) == (21, 4)
    assert c["route"] == "gpt" and c["status"] == 200
    assert len(wait_log(team_gw, 1, endpoint="messages")) == 1


def test_ledger_rows_have_endpoint_chat_completions(gateway_factory, mock, tmp_path):
    gw = gateway_factory(chat_config(mock, tokens=True, state=ledger_state(tmp_path)))
    mock.script([
        {"match": {"model": OAI_TARGET, "stream": False}, "times": -1, "reply": {"type": "chat", "content": "a",
         "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57,
                   "prompt_tokens_details": {"cached_tokens": 20}}}},
        {"match": {"model": OAI_TARGET, "stream": True}, "times": -1, "reply": {"type": "chat", "content": "b",
         "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}}},
        {"match": {"model": ANT_TARGET, "stream": False}, "times": -1, "reply": {"type": "anthropic", "content": "c",
         "usage": {"input_tokens": 11, "output_tokens": 6, "cache_read_input_tokens": 40,
                   "cache_creation_input_tokens": 3}}},
        {"match": {"model": ANT_TARGET, "stream": True}, "times": -1, "reply": {"type": "anthropic", "content": "d",
         "usage": {"input_tokens": 13, "output_tokens": 4, "cache_read_input_tokens": 2}}},
    ])
    assert post_chat(gw, chat_body("gpt-ledger-a"), token=ALICE).status == 200
    # streamed without include_usage: the client sees no usage, the ledger still gets the upstream's exact count
    events = assert_sse(post_chat(gw, chat_body("gpt-ledger-b", stream=True), token=ALICE))
    assert all("usage" not in e for e in events if isinstance(e, dict))
    assert post_chat(gw, chat_body("claude-ledger-c"), token=ALICE).status == 200
    assert_sse(post_chat(gw, chat_body("claude-ledger-d", stream=True), token=ALICE, path=PREFIX_PATH))
    refused = post_chat(gw, chat_body("claude-ledger-e"), token=BOB)      # bob may not use route claude
    assert refused.status == 403
    rows = wait_rows(tmp_path / "ledger.sqlite", 5)
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"gpt-ledger-a", "gpt-ledger-b", "claude-ledger-c", "claude-ledger-d", "claude-ledger-e"}, rows
    assert all(r["endpoint"] == "chat_completions" for r in rows), rows

    def tokens(r):
        return (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])

    a, b, c, d = (by_model[m] for m in ("gpt-ledger-a", "gpt-ledger-b", "claude-ledger-c", "claude-ledger-d"))
    assert (a["user_name"], a["route"], a["target"], a["stream"], a["status"]) == ("alice", "gpt", f"oai:{OAI_TARGET}", 0, 200)
    assert tokens(a) == (30, 7, 20, 0)
    assert (b["stream"], b["status"], b["estimated"]) == (1, 200, 0)
    assert tokens(b) == (40, 9, 0, 0)
    assert (c["route"], c["target"], c["stream"]) == ("claude", f"mock-anthropic:{ANT_TARGET}", 0)
    assert tokens(c) == (11, 6, 40, 3)
    assert (d["stream"], d["status"], d["estimated"]) == (1, 200, 0)
    assert tokens(d) == (13, 4, 2, 0)
    e = by_model["claude-ledger-e"]
    assert (e["user_name"], e["status"]) == ("bob", 403)


# --------------------------------------------------------------------------- model list

def test_models_list_in_openai_shape(team_gw, mock):
    page = client(team_gw, api_key=ALICE).models.list()
    assert page.data, "no models listed"
    assert all(m.object == "model" and isinstance(m.id, str) and m.id for m in page.data)
    raw = request(team_gw, "GET", "/v1/models", headers={"authorization": f"Bearer {ALICE}"})
    assert raw.status == 200, raw
    body = raw.json()
    assert body["object"] == "list"
    for m in body["data"]:
        assert set(m) >= {"id", "object", "created", "owned_by"} and m["object"] == "model", m
