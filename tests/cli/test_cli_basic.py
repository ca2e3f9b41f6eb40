"""Claude Code end to end: plain answers, credentials, and the default thinking request.

The real CLI (claude-agent-sdk's bundled binary) talks to a Switchyard gateway whose only provider is
the test kit's mock upstream. See /work/shared/docs/claude-code.md for what the CLI sends.
"""
import json

import pytest

from claude_runner import (CLI_USER, CLIENT_TOKEN, chat_requests, claude, cli_gateway, message_posts,  # noqa: F401
                           requires_claude, tap)
from conftest import UPSTREAM_KEY

pytestmark = requires_claude


def assert_no_client_token_upstream(requests: list[dict]) -> None:
    assert requests, "the mock received nothing"
    for r in requests:
        wire = json.dumps(r["headers"]) + json.dumps(r["body"])
        assert CLIENT_TOKEN not in wire, f"the client's gateway token reached the upstream in {r['path']}"
        assert r["headers"].get("authorization") == f"Bearer {UPSTREAM_KEY}", r["headers"]
        assert "x-api-key" not in r["headers"], r["headers"]


@pytest.mark.parametrize("credential", ["auth_token", "api_key"])
def test_plain_answer(credential, claude, cli_gateway, mock, tap):
    """ANTHROPIC_AUTH_TOKEN (Bearer) or ANTHROPIC_API_KEY (x-api-key) is accepted by a tokens-mode
    gateway; the scripted text is the CLI's result; the upstream sees only the provider's key."""
    gw = cli_gateway(token_auth=True)
    proxy = tap(gw.base_url)
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": "Hello from the mock upstream."}})

    run = claude.run(proxy.base_url, "Say hello.", credential=credential)

    assert not run.is_error, run.describe()
    assert run.result_text == "Hello from the mock upstream.", run.describe()
    assert run.result["num_turns"] == 1

    # what the CLI sent: one credential header of the chosen kind, never both
    posts = message_posts(proxy)
    assert len(posts) == 1, [e["path"] for e in proxy.exchanges]
    headers = posts[0]["headers"]
    if credential == "auth_token":
        assert headers.get("authorization") == f"Bearer {CLIENT_TOKEN}" and "x-api-key" not in headers
    else:
        assert headers.get("x-api-key") == CLIENT_TOKEN and "authorization" not in headers
    assert posts[0]["path"] == "/v1/messages?beta=true" and posts[0]["body"]["stream"] is True
    assert posts[0]["status"] == 200 and posts[0]["response_headers"]["content-type"].startswith("text/event-stream")

    # the gateway authenticated the user and forwarded one translated request
    entries = [e for e in gw.access_log() if e["endpoint"] == "messages"]
    assert [(e["user"], e["status"], e["target"]) for e in entries] == [(CLI_USER, 200, "mock:mock/model-a")]
    upstream = chat_requests(mock.requests())
    assert len(upstream) == 1
    assert_no_client_token_upstream(mock.requests())
    body = upstream[0]["body"]
    assert body["model"] == "mock/model-a" and body["stream"] is True
    # Claude Code's per-request billing line is stripped by default (translation.strip_billing_header)
    systems = [m for m in body["messages"] if m["role"] == "system"]
    assert systems and all("x-anthropic-billing-header" not in json.dumps(m) for m in systems)
    # every tool, DeferredToolPlaceholder (defer_loading, empty schema) included, is a valid function tool
    assert body["tools"], "Claude Code's tools were not forwarded"
    for tool in body["tools"]:
        assert tool["type"] == "function" and set(tool) == {"type", "function"}, tool
        assert set(tool["function"]) <= {"name", "description", "parameters"}, tool["function"].keys()
        assert tool["function"]["parameters"].get("type") == "object", tool["function"]["name"]
    assert "DeferredToolPlaceholder" in [t["function"]["name"] for t in body["tools"]]


def test_unknown_token_is_rejected_before_the_upstream(claude, cli_gateway, mock):
    """A token the gateway does not know gets 401 authentication_error; the CLI stops with an error."""
    gw = cli_gateway(token_auth=True)
    mock.script({"times": -1, "reply": {"type": "chat", "content": "must not be reached"}})

    run = claude.run(gw.base_url, "Say hello.", token="sk-not-a-known-token",
                     extra_env={"CLAUDE_CODE_MAX_RETRIES": "0"})

    assert run.is_error and run.returncode != 0, run.describe()
    assert run.result["api_error_status"] == 401, run.describe()
    assert "must not be reached" not in run.all_text()
    assert mock.requests() == []
    assert [(e["status"], e["error_type"]) for e in gw.access_log()] == [(401, "authentication_error")]


# Claude Code turns thinking on by default for claude-sonnet-4-5: thinking {type: enabled, budget_tokens: 31999}.
THINKING_ON = {
    "openrouter": ("reasoning", {"max_tokens": 31999}),
    "openai": ("reasoning_effort", "high"),
}


@pytest.mark.parametrize("dialect", ["openrouter", "openai"])
def test_default_thinking_reaches_upstream(dialect, claude, cli_gateway, mock):
    gw = cli_gateway(dialect=dialect)
    mock.script({"match": {"has_reasoning": True}, "times": -1, "reply": {"type": "chat", "content": "thought about it"}})

    run = claude.run(gw.base_url, "Think, then answer.")

    assert not run.is_error and run.result_text == "thought about it", run.describe()
    (req,) = chat_requests(mock.requests())
    key, value = THINKING_ON[dialect]
    assert req["body"].get(key) == value, {k: v for k, v in req["body"].items() if k not in ("messages", "tools")}
    other = "reasoning_effort" if key == "reasoning" else "reasoning"
    assert other not in req["body"]


@pytest.mark.parametrize("dialect", ["openrouter", "openai"])
def test_thinking_off_with_max_thinking_tokens_0(dialect, claude, cli_gateway, mock):
    """MAX_THINKING_TOKENS=0 makes the CLI send thinking {type: disabled}: no reasoning field upstream."""
    gw = cli_gateway(dialect=dialect)
    mock.script([
        {"match": {"has_reasoning": False}, "times": -1, "reply": {"type": "chat", "content": "no thinking"}},
        {"match": {"has_reasoning": True}, "times": -1, "reply": {"type": "chat", "content": "WRONG: reasoning was sent"}},
    ])

    run = claude.run(gw.base_url, "Answer at once.", extra_env={"MAX_THINKING_TOKENS": "0"})

    assert not run.is_error and run.result_text == "no thinking", run.describe()
    (req,) = chat_requests(mock.requests())
    assert "reasoning" not in req["body"] and "reasoning_effort" not in req["body"], \
        {k: v for k, v in req["body"].items() if k not in ("messages", "tools")}
