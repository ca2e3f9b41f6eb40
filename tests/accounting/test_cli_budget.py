"""The real Claude Code CLI against an exhausted budget (accounting.md "Budgets": "Claude Code shows
the message and stops instead of retrying (a 429 would make it retry for minutes)").

The CLI runs with its default retry policy (no CLAUDE_CODE_MAX_RETRIES): the gateway's 402
billing_error with `x-should-retry: false` must end the run promptly, with the budget message in
the CLI's output, after very few requests.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "cli"))

from claude_runner import CLI_USER, CLIENT_TOKEN, claude, message_posts, requires_claude, tap  # noqa: E402,F401

from acctkit import DB_NAME, Price, acct_config, messages_body, openai_usage, post, sha256_hex, wait_rows  # noqa: E402

pytestmark = requires_claude


def test_cli_stops_on_exhausted_budget(claude, gateway_factory, mock, tmp_path, tap):
    users = [{"name": CLI_USER, "token_sha256": sha256_hex(CLIENT_TOKEN),
              "limits": {"budget": {"usd": 0.01, "period": "month"}}}]
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": Price("0", "100")}, users=users))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "Spent it all.", "usage": openai_usage(5, 100)}})
    # exhaust the budget: 100 output tokens at $100/M = $0.01
    assert post(gw, messages_body(max_tokens=100), CLIENT_TOKEN).status == 200
    assert post(gw, messages_body(max_tokens=100), CLIENT_TOKEN).status == 402
    upstream_before = len(mock.requests())

    proxy = tap(gw.base_url)
    run = claude.run(proxy.base_url, "Say hello.", timeout=120)

    assert not run.timed_out, run.describe()
    assert run.is_error, run.describe()
    text = (run.result_text or "") + "\n" + run.all_text()
    assert "budget reached for user cli-user" in text, run.describe()
    assert "$0.01 of $0.01 this month" in text, run.describe()
    assert "resets " in text, run.describe()
    if run.result is not None and "api_error_status" in run.result:
        assert run.result["api_error_status"] == 402, run.describe()

    # no retry storm: the CLI gave up after one (at most two) refused requests; nothing went upstream
    posts = message_posts(proxy)
    assert 1 <= len(posts) <= 2, [(p["path"], p["status"]) for p in posts]
    for p in posts:
        assert p["status"] == 402, p
        assert p["response_headers"].get("x-should-retry") == "false", p["response_headers"]
        assert p["response_body"]["error"]["type"] == "billing_error"
    assert not [e for e in run.events if e.get("subtype") == "api_retry"], "the CLI retried a budget refusal"
    assert len(mock.requests()) == upstream_before
    refused = [e for e in gw.access_log() if e.get("endpoint") == "messages" and e.get("status") == 402]
    assert len(refused) == 1 + len(posts)
    rows = wait_rows(tmp_path / DB_NAME, 2 + len(posts))
    assert sum(1 for r in rows if r["error_type"] == "billing_error") == 1 + len(posts)
