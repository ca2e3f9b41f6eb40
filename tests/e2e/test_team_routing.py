"""Route selection: first match wins in file order, globs, match.thinking, match.min_input_tokens,
and a target's max_tokens clamp. Spec: config.md (routes), translation-spec.md §2.1 (max_tokens)."""
import time

import anthropic
import pytest

from conftest import base_config
from helpers import MODEL, client, error_of, last_body, messages_body, raw, route, target


def _routed(gw, mock, model, **kw):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    kw.setdefault("max_tokens", 4096)
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    client(gw).messages.create(model=model, **kw)
    return last_body(mock)


def _log(gw):
    for _ in range(40):
        entries = [e for e in gw.access_log() if e.get("endpoint") == "messages"]
        if entries:
            return entries
        time.sleep(0.05)
    return []


def test_first_match_wins_in_file_order(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[
        route("sonnet-glob", ["claude-sonnet-*"], [target("mock/glob")]),
        route("sonnet-exact", ["claude-sonnet-4-5"], [target("mock/exact")]),
        route("haiku", ["claude-haiku*", "haiku"], [target("mock/haiku")]),
        route("default", ["*"], [target("mock/default")]),
    ]))
    assert _routed(gw, mock, "claude-sonnet-4-5")["model"] == "mock/glob"
    assert _routed(gw, mock, "claude-sonnet-4-5-20250929")["model"] == "mock/glob"
    assert _routed(gw, mock, "claude-haiku-4-5")["model"] == "mock/haiku"
    assert _routed(gw, mock, "haiku")["model"] == "mock/haiku"
    assert _routed(gw, mock, "claude-opus-4")["model"] == "mock/default"
    assert _routed(gw, mock, "gpt-4o")["model"] == "mock/default"
    assert [e["route"] for e in _log(gw)] == ["sonnet-glob", "sonnet-glob", "haiku", "haiku", "default", "default"]


def test_reordered_routes_change_the_winner(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[
        route("sonnet-exact", ["claude-sonnet-4-5"], [target("mock/exact")]),
        route("sonnet-glob", ["claude-sonnet-*"], [target("mock/glob")]),
        route("default", ["*"], [target("mock/default")]),
    ]))
    assert _routed(gw, mock, "claude-sonnet-4-5")["model"] == "mock/exact"
    assert _routed(gw, mock, "claude-sonnet-4-6")["model"] == "mock/glob"


def test_glob_does_not_match_partial_names(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[
        route("exact", ["sonnet"], [target("mock/exact")]),
        route("default", ["*"], [target("mock/default")]),
    ]))
    assert _routed(gw, mock, "sonnet")["model"] == "mock/exact"
    assert _routed(gw, mock, "sonnet-2")["model"] == "mock/default"
    assert _routed(gw, mock, "my-sonnet")["model"] == "mock/default"


def test_no_matching_route_is_404(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("only", ["claude-*"], [target("mock/x")])]))
    resp = raw(gw, "POST", "/v1/messages", messages_body(model="gpt-4o"))
    assert resp.status == 404
    err = error_of(resp)
    assert err["type"] == "not_found_error"
    assert "gpt-4o" in err["message"]
    assert mock.requests() == []


def _thinking_config(mock):
    return base_config(mock, routes=[
        route("reasoning", ["*"], [target("mock/reasoner")]),
        route("default", ["*"], [target("mock/plain")]),
    ])


def test_match_thinking_true_routes_thinking_requests(gateway_factory, mock):
    cfg = _thinking_config(mock)
    cfg["routes"][0]["match"]["thinking"] = True
    gw = gateway_factory(cfg)
    body = _routed(gw, mock, MODEL, thinking={"type": "enabled", "budget_tokens": 2048})
    assert body["model"] == "mock/reasoner"
    assert body["reasoning"] == {"max_tokens": 2048}
    body = _routed(gw, mock, MODEL)
    assert body["model"] == "mock/plain"
    assert "reasoning" not in body
    body = _routed(gw, mock, MODEL, thinking={"type": "disabled"})
    assert body["model"] == "mock/plain"
    body = _routed(gw, mock, MODEL, thinking={"type": "adaptive"})
    assert body["model"] == "mock/reasoner"
    assert [e["route"] for e in _log(gw)] == ["reasoning", "default", "default", "reasoning"]


def test_match_thinking_false(gateway_factory, mock):
    cfg = _thinking_config(mock)
    cfg["routes"][0]["match"]["thinking"] = False
    gw = gateway_factory(cfg)
    assert _routed(gw, mock, MODEL)["model"] == "mock/reasoner"
    assert _routed(gw, mock, MODEL, thinking={"type": "enabled", "budget_tokens": 2048})["model"] == "mock/plain"


def test_match_thinking_streamed(gateway_factory, mock):
    cfg = _thinking_config(mock)
    cfg["routes"][0]["match"]["thinking"] = True
    gw = gateway_factory(cfg)
    mock.script({"match": {"stream": True}, "reply": {"type": "chat", "content": "ok", "reasoning": "hmm"}})
    with client(gw).messages.stream(model=MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 1024},
                                    messages=[{"role": "user", "content": "x"}]) as s:
        final = s.get_final_message()
    assert last_body(mock)["model"] == "mock/reasoner"
    assert [b.type for b in final.content] == ["thinking", "text"]


def _long_context_config(mock, threshold=2000):
    return base_config(mock, routes=[
        {"name": "long", "match": {"models": ["*"], "min_input_tokens": threshold}, "targets": [target("mock/long-context")]},
        route("default", ["*"], [target("mock/short-context")]),
    ])


def test_min_input_tokens_routes_long_prompts(gateway_factory, mock):
    gw = gateway_factory(_long_context_config(mock))
    assert _routed(gw, mock, MODEL)["model"] == "mock/short-context"
    long_text = "All work and no play makes Jack a dull boy. " * 500   # ~22 KB, several thousand tokens
    body = _routed(gw, mock, MODEL, messages=[{"role": "user", "content": long_text}])
    assert body["model"] == "mock/long-context"
    assert body["messages"] == [{"role": "user", "content": long_text}]
    # a long system prompt counts too
    body = _routed(gw, mock, MODEL, system=long_text)
    assert body["model"] == "mock/long-context"
    assert [e["route"] for e in _log(gw)] == ["default", "long", "long"]


def test_min_input_tokens_consistent_with_count_tokens(gateway_factory, mock):
    """A prompt just under/over the threshold per the gateway's own count_tokens estimate."""
    gw = gateway_factory(_long_context_config(mock, threshold=1000))
    def count(text):
        return raw(gw, "POST", "/v1/messages/count_tokens",
                   {"model": MODEL, "messages": [{"role": "user", "content": text}]}).json()["input_tokens"]
    small, big = "word " * 100, "word " * 2000
    assert count(small) < 1000 <= count(big)
    assert _routed(gw, mock, MODEL, messages=[{"role": "user", "content": small}])["model"] == "mock/short-context"
    assert _routed(gw, mock, MODEL, messages=[{"role": "user", "content": big}])["model"] == "mock/long-context"


def test_target_max_tokens_clamp(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("clamped", ["*"], [target("mock/small", max_tokens=100)])]))
    assert _routed(gw, mock, MODEL, max_tokens=4096)["max_tokens"] == 100
    assert _routed(gw, mock, MODEL, max_tokens=50)["max_tokens"] == 50
    assert _routed(gw, mock, MODEL, max_tokens=100)["max_tokens"] == 100


def test_target_max_tokens_clamp_per_fallback_target(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[route("pair", ["*"], [
        target("mock/first", max_tokens=1000), target("mock/second", max_tokens=200)])]))
    mock.script([{"match": {"model": "mock/first"}, "reply": {"type": "error", "status": 429}},
                 {"match": {"model": "mock/second"}, "reply": {"type": "chat", "content": "ok"}}])
    client(gw).messages.create(model=MODEL, max_tokens=5000, messages=[{"role": "user", "content": "x"}])
    assert [(r["body"]["model"], r["body"]["max_tokens"]) for r in mock.requests()] == [
        ("mock/first", 1000), ("mock/second", 200)]


def test_target_max_tokens_clamp_openai_dialect(gateway_factory, mock):
    cfg = base_config(mock, routes=[route("clamped", ["*"], [target("mock/small", max_tokens=64)])])
    cfg["providers"]["mock"]["dialect"] = "openai"
    gw = gateway_factory(cfg)
    body = _routed(gw, mock, MODEL, max_tokens=4096)
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body


def test_routing_to_anthropic_native_target_by_model(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=[
        route("native", ["claude-opus-*"], [target("claude-opus-upstream", provider="mock-anthropic")]),
        route("default", ["*"], [target("mock/model-a")]),
    ]))
    mock.script([{"match": {"api": "anthropic"}, "reply": {"type": "anthropic", "content": "from anthropic"}},
                 {"match": {"api": "openai"}, "reply": {"type": "chat", "content": "from openai"}}])
    c = client(gw)
    assert c.messages.create(model="claude-opus-4-1", max_tokens=10,
                             messages=[{"role": "user", "content": "x"}]).content[0].text == "from anthropic"
    assert c.messages.create(model="claude-sonnet-4-5", max_tokens=10,
                             messages=[{"role": "user", "content": "x"}]).content[0].text == "from openai"
    paths = [r["path"] for r in mock.requests()]
    assert paths == ["/v1/messages", "/api/v1/chat/completions"]
    assert mock.requests()[0]["body"]["model"] == "claude-opus-upstream"
