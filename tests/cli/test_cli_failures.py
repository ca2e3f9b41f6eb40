"""Claude Code end to end: upstream failures as the CLI experiences them through the gateway.

- errors before the stream (429, 500, context-length 400) surface with the CLI's wording and an
  error result, with CLAUDE_CODE_MAX_RETRIES=0 so the CLI sends one request;
- a transient error is recovered by the CLI's own retry (default retries);
- a stream cut mid-answer (EOF, RST, OpenRouter error chunk) is never a successful truncated answer:
  the gateway ends the SSE with `event: error`, and the CLI's non-streaming retry of the same request
  then succeeds (or, when that fails too, the run ends in an error).
"""
import time

import pytest

from claude_runner import (chat_requests, claude, cli_gateway, message_posts, requires_claude,  # noqa: F401
                           sse_events, tap)

pytestmark = requires_claude

NO_RETRIES = {"CLAUDE_CODE_MAX_RETRIES": "0"}

ERROR_CASES = {
    "rate_limited_429": dict(
        reply={"type": "error", "status": 429, "headers": {"retry-after": "7"},
               "body": {"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min"}}},
        status=429, error_type="rate_limit_error",
        wording=["429", "Rate limit exceeded: free-models-per-min"]),
    "server_error_500": dict(
        reply={"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "Internal upstream failure XYZ"}}},
        status=500, error_type="api_error",
        wording=["API Error: 500", "Internal upstream failure XYZ"]),
    "context_length_400": dict(
        reply={"type": "error", "status": 400, "body": {"error": {
            "message": "This model's maximum context length is 128000 tokens. However, you requested 140512 tokens "
                       "(140000 in the messages, 512 in the completion). Please reduce the length of the messages.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}},
        status=400, error_type="invalid_request_error",
        wording=["Prompt is too long", "140512", "128000"]),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_upstream_error_surfaces(case, claude, cli_gateway, mock, tap):
    spec = ERROR_CASES[case]
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    mock.script({"times": -1, "reply": spec["reply"]})

    run = claude.run(proxy.base_url, "hi", extra_env=NO_RETRIES)

    assert run.returncode != 0 and run.result and run.result["is_error"], run.describe()
    assert run.result["api_error_status"] == spec["status"], run.describe()
    for words in spec["wording"]:
        assert words in run.result_text, (words, run.result_text)
    if case == "context_length_400":
        assert run.result.get("terminal_reason") == "prompt_too_long", run.describe()

    # one request from the CLI, one upstream; the gateway answered with the Anthropic error envelope
    assert len(chat_requests(mock.requests())) == 1
    (post,) = message_posts(proxy)
    assert post["status"] == spec["status"]
    assert post["response_body"]["type"] == "error"
    assert post["response_body"]["error"]["type"] == spec["error_type"]
    if case == "rate_limited_429":
        assert post["response_headers"].get("retry-after") == "7"
    if case == "context_length_400":
        assert post["response_body"]["error"]["message"] == "prompt is too long: 140512 tokens > 128000 maximum"
    assert [(e["status"], e["error_type"]) for e in gw.access_log()] == [(spec["status"], spec["error_type"])]


@pytest.mark.parametrize("status,headers,min_gap", [(500, {}, 0.2), (429, {"retry-after": "2"}, 1.8)],
                         ids=["500", "429-retry-after"])
def test_transient_error_recovers_by_cli_retry(status, headers, min_gap, claude, cli_gateway, mock):
    """First upstream answer an error (times: 1), then success; default retries: the CLI retries
    (honouring retry-after, which the gateway copies) and the run succeeds. The gateway keeps its
    default circuit breaker (cooldown 30s): a one-target route must still reach its upstream."""
    gw = cli_gateway(default_fallback=True)
    mock.script([
        {"times": 1, "reply": {"type": "error", "status": status, "headers": headers,
                               "body": {"error": {"code": status, "message": "transient trouble"}}}},
        {"times": -1, "reply": {"type": "chat", "content": "Recovered after a retry."}},
    ])

    run = claude.run(gw.base_url, "hi")

    assert not run.is_error and run.result_text == "Recovered after a retry.", run.describe()
    retries = [e for e in run.of_type("system") if e.get("subtype") == "api_retry"]
    assert [e["error_status"] for e in retries] == [status], retries
    reqs = chat_requests(mock.requests())
    assert [r["rule"] for r in reqs] == [0, 1]
    assert reqs[1]["time"] - reqs[0]["time"] >= min_gap
    assert [e["status"] for e in gw.access_log()] == [status, 200]


def test_upstream_auth_failure_is_not_blamed_on_the_client(claude, cli_gateway, mock, tap):
    """The upstream rejects the gateway's provider key (401): that is the gateway's problem, so the
    CLI must not be told its own credential is bad (spec §5.3: 500 api_error, no retry)."""
    gw = cli_gateway(token_auth=True)
    proxy = tap(gw.base_url)
    mock.script({"times": -1, "reply": {"type": "error", "status": 401,
                                        "body": {"error": {"code": 401, "message": "No auth credentials found"}}}})

    run = claude.run(proxy.base_url, "hi", extra_env=NO_RETRIES)

    assert run.is_error and run.returncode != 0, run.describe()
    assert run.result["api_error_status"] != 401, run.describe()
    assert "/login" not in run.result_text and "Not logged in" not in run.result_text, run.result_text
    assert "No auth credentials found" in run.result_text, run.result_text
    (post,) = message_posts(proxy)
    assert post["status"] == 500 and post["response_body"]["error"]["type"] == "api_error", post
    assert post["response_headers"].get("x-should-retry") == "false"


def test_upstream_404_message_is_not_hidden(claude, cli_gateway, mock, tap):
    """claude-code.md: the CLI shows any 404 as "There's an issue with the selected model" (hiding the
    message) and resends it non-streamed, so a gateway should use 404 only for a model no route serves.
    An upstream 404 (OpenRouter: "No endpoints found for …") for a routed model must reach the user
    with its message."""
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    mock.script({"times": -1, "reply": {"type": "error", "status": 404,
                                        "body": {"error": {"code": 404, "message": "No endpoints found for mock/model-a."}}}})

    run = claude.run(proxy.base_url, "hi", extra_env=NO_RETRIES)

    assert run.is_error and run.returncode != 0, run.describe()
    statuses = [p["status"] for p in message_posts(proxy)]
    assert 404 not in statuses, (
        f"gateway answered {statuses} for an upstream 404 of a routed model; the CLI printed: {run.result_text!r}")
    assert "No endpoints found for mock/model-a." in run.result_text, run.result_text


STREAM_FAULTS = ["eof_mid_stream", "reset_mid_stream", "error_chunk"]
PARTIAL_TEXTS = {"eof_mid_stream": "Hello worl", "reset_mid_stream": "Hello worl", "error_chunk": "Hello"}


def assert_stream_ended_with_error(post: dict) -> None:
    """The gateway's SSE answer to the cut stream: an `error` event last, no message_stop, no end_turn."""
    events = sse_events(post["response_body"]) if isinstance(post["response_body"], str) else []
    types = [e["type"] for e in events]
    assert post["status"] == 200 and types, post
    assert types[-1] == "error", types
    assert "message_stop" not in types, types
    assert not any(e["type"] == "message_delta" for e in events), types


@pytest.mark.parametrize("mode", STREAM_FAULTS)
def test_stream_cut_is_retried_without_streaming(mode, claude, cli_gateway, mock, tap):
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    mock.script([
        {"match": {"stream": True}, "times": -1, "reply": {"type": "fault", "mode": mode}},
        {"match": {"stream": False}, "times": -1, "reply": {"type": "chat", "content": "The complete non-streamed answer."}},
    ])

    run = claude.run(proxy.base_url, "hi")

    assert not run.is_error and run.result_text == "The complete non-streamed answer.", run.describe()
    texts = [b.get("text") for b in run.assistant_blocks() if b["type"] == "text"]
    assert texts == ["The complete non-streamed answer."], texts      # the partial text was never shown
    posts = message_posts(proxy)
    assert [p["body"].get("stream") for p in posts] == [True, False], [p["body"].get("stream") for p in posts]
    assert_stream_ended_with_error(posts[0])
    assert posts[1]["status"] == 200 and posts[1]["response_body"]["stop_reason"] == "end_turn"
    assert [r["body"].get("stream", False) for r in chat_requests(mock.requests())] == [True, False]


@pytest.mark.parametrize("mode", STREAM_FAULTS)
def test_stream_cut_is_never_a_successful_truncated_answer(mode, claude, cli_gateway, mock, tap):
    """The same fault for the streamed and the non-streamed request: the run must end in an error,
    never in a 'success' holding the partial text."""
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    mock.script({"times": -1, "reply": {"type": "fault", "mode": mode}})

    started = time.monotonic()
    run = claude.run(proxy.base_url, "hi", extra_env=NO_RETRIES)

    assert run.is_error and run.returncode != 0, run.describe()
    assert run.result["is_error"] is True
    assert not (run.result_text or "").startswith(PARTIAL_TEXTS[mode]), run.result_text
    assert not [b for b in run.assistant_blocks() if b["type"] == "text" and b.get("text") == PARTIAL_TEXTS[mode]]
    assert run.result.get("terminal_reason") == "api_error", run.describe()
    posts = message_posts(proxy)
    assert [p["body"].get("stream") for p in posts] == [True, False]
    assert_stream_ended_with_error(posts[0])
    assert posts[1]["status"] >= 500 and posts[1]["response_body"]["type"] == "error", posts[1]
    assert time.monotonic() - started < 60
