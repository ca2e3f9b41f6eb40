"""Budgets (accounting.md "Budgets"): reserve the worst case at admission, refuse with 402
billing_error + `x-should-retry: false` + a message naming the budget, the spend and the reset,
settle to the real cost; spend survives a restart; concurrent requests never overshoot; user and
route budgets both apply; 0 refuses everything; a negative budget is a check error.

Prices are chosen so the worst case is known exactly: input costs 0, so the reservation is
max_tokens × the output price, and the mock reports completion_tokens = max_tokens, so the real
cost equals the reservation (no settle difference) unless a test wants one.
"""
import datetime
import json
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN
from acctkit import (ALICE, BOB, DB_NAME, Price, acct_config, error_of, fire, get, messages_body, metric,
                     metrics, openai_usage, post, route, target, users_block, wait_rows)

OUT_ONLY = Price("0", "100")          # $100 per million output tokens: 100 tokens = 10,000 µ$ = $0.01
MAX_TOKENS = 100
REQ_MICRO = 10_000


def _next_month_utc() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    first = datetime.datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=datetime.timezone.utc)
    return first.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tomorrow_utc() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.datetime(now.year, now.month, now.day, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=1)
    return day.strftime("%Y-%m-%dT%H:%M:%SZ")


def _exact_reply(completion=MAX_TOKENS, prompt=7, delay_ms=0):
    return {"times": -1, "reply": {"type": "chat", "content": "spent", "usage": openai_usage(prompt, completion),
                                   "delay_before_ms": delay_ms}}


def _assert_budget_refusal(resp, scope: str, spent: str, limit: str, period_words: str, resets: str | None):
    assert resp.status == 402, resp
    err = error_of(resp)
    assert err["type"] == "billing_error", resp
    assert resp.headers.get("x-should-retry") == "false", resp.headers
    assert "retry-after" not in resp.headers, resp.headers
    tail = f"; resets {resets}" if resets else ""
    expected = f"budget reached for {scope}: {spent} of {limit} {period_words}{tail}"
    assert err["message"].startswith(expected), (err["message"], expected)
    return err["message"]


def test_user_budget_refuses_then_survives_restart(gateway_factory, mock, tmp_path):
    users = users_block(alice_limits={"budget": {"usd": 0.05, "period": "month", "warn_at": 0.5}})
    cfg = acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, users=users)
    gw = gateway_factory(cfg)
    mock.script(_exact_reply())

    statuses = []
    for _ in range(8):
        r = post(gw, messages_body(max_tokens=MAX_TOKENS), ALICE)
        statuses.append(r.status)
        if r.status == 402:
            refusal = r
            break
    assert statuses == [200] * 5 + [402], statuses          # 5 × $0.01 fit a $0.05 budget exactly
    resets = _next_month_utc()
    _assert_budget_refusal(refusal, "user alice", "$0.05", "$0.05", "this month", resets)
    assert len(mock.requests()) == 5, "a refused request must never reach the upstream"

    # another user is not limited by alice's budget
    assert post(gw, messages_body(max_tokens=MAX_TOKENS), BOB).status == 200

    # the caller's budget status
    b = get(gw, "/v1/usage/budget", ALICE).json()
    assert b["user"] == "alice"
    (mine,) = [x for x in b["budgets"] if x["scope"] == "user"]
    assert mine["name"] == "alice" and mine["period"] == "month" and mine["resets_at"] == resets
    assert mine["limit_usd"] == pytest.approx(0.05) and mine["spent_usd"] == pytest.approx(0.05)
    assert mine["reserved_usd"] == 0 and mine["remaining_usd"] == 0

    samples = metrics(gw.base_url)
    assert metric(samples, "switchyard_budget_used_ratio", user="alice") == pytest.approx(1.0)
    assert metric(samples, "switchyard_spend_usd_total", user="alice", route="default") == pytest.approx(0.05)
    warnings = [line for line in gw.stderr().splitlines() if "budget warning" in line]
    assert len(warnings) == 1 and "alice" in warnings[0], warnings

    # restart on the same store: the spend is read back, alice is still refused
    wait_rows(tmp_path / DB_NAME, 7)              # stored by the writer (independent of the drain)
    gw.stop(signal.SIGTERM)
    gw2 = gateway_factory(cfg, name="gw2")
    again = post(gw2, messages_body(max_tokens=MAX_TOKENS), ALICE)
    _assert_budget_refusal(again, "user alice", "$0.05", "$0.05", "this month", resets)
    assert len(mock.requests()) == 6
    b2 = get(gw2, "/v1/usage/budget", ALICE).json()
    assert b2["budgets"][0]["spent_usd"] == pytest.approx(0.05)
    # and a raised cap (reload) applies to the spend so far
    raised = json.loads(json.dumps(cfg))
    raised["users"][0]["limits"]["budget"]["usd"] = 0.06
    gw2.reload(raised, wait=1.0)
    assert post(gw2, messages_body(max_tokens=MAX_TOKENS), ALICE).status == 200
    _assert_budget_refusal(post(gw2, messages_body(max_tokens=MAX_TOKENS), ALICE), "user alice", "$0.06", "$0.06",
                           "this month", resets)


def test_concurrent_requests_never_overshoot(gateway_factory, mock, tmp_path):
    """40 parallel requests against a budget that fits exactly 10 worst-case requests: exactly 10
    are admitted (reservations are taken under one lock), the others get 402, and the stored spend
    equals the budget — never a whole request more."""
    users = users_block(alice_limits={"budget": {"usd": 0.10, "period": "day"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, users=users))
    mock.script(_exact_reply(delay_ms=400))          # all 40 are in flight together
    responses = fire(gw, [(ALICE, messages_body(max_tokens=MAX_TOKENS))] * 40)
    ok = [r for r in responses if r.status == 200]
    refused = [r for r in responses if r.status != 200]
    assert len(ok) == 10, sorted(r.status for r in responses)
    for r in refused:
        assert r.status == 402 and error_of(r)["type"] == "billing_error", r
        assert r.headers.get("x-should-retry") == "false"
    assert len(mock.requests()) == 10
    rows = wait_rows(tmp_path / DB_NAME, 40)
    assert len(rows) == 40
    spent = sum(r["cost_micro_usd"] or 0 for r in rows)
    assert spent == 10 * REQ_MICRO <= 100_000
    assert sum(1 for r in rows if r["status"] == 402) == 30
    _assert_budget_refusal(post(gw, messages_body(max_tokens=MAX_TOKENS), ALICE), "user alice", "$0.10", "$0.10", "today",
                           _tomorrow_utc())


def test_concurrent_cheaper_than_reserved_then_sequential(gateway_factory, mock, tmp_path):
    """Real cost below the reservation (40 of 100 output tokens): a parallel burst and then single
    requests until refused; the spend never passes the budget, and the refusal comes only when the
    next worst case really does not fit."""
    users = users_block(alice_limits={"budget": {"usd": 0.10, "period": "week"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, users=users))
    mock.script(_exact_reply(completion=40, delay_ms=300))
    burst = fire(gw, [(ALICE, messages_body(max_tokens=MAX_TOKENS))] * 40)
    admitted = sum(r.status == 200 for r in burst)
    assert 10 <= admitted <= 25, sorted(r.status for r in burst)   # at least what the reservations allow, at most what fits
    for _ in range(40):
        if post(gw, messages_body(max_tokens=MAX_TOKENS), ALICE).status == 402:
            break
    else:
        pytest.fail("never refused")
    n = len(mock.requests())
    rows = wait_rows(tmp_path / DB_NAME, n, status=200)
    spent = sum(r["cost_micro_usd"] or 0 for r in rows if r["status"] == 200)
    assert spent == n * 4_000
    assert spent <= 100_000                   # never over the budget
    assert 100_000 - spent < REQ_MICRO        # refused only when one more worst case would not fit


def test_settle_difference_bounds_the_overshoot(gateway_factory, mock, tmp_path):
    """A request that costs more than its reservation (the upstream reports more prompt tokens than
    the gateway estimated) may take the spend past the budget, but only by that request's settle
    difference: sequentially, spend ≤ budget + (real − reserved) of the last admitted request."""
    price = Price("10", "100")
    users = users_block(alice_limits={"budget": {"usd": 0.05, "period": "month"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": price}, users=users))
    prompt = 700                              # "Hi" is estimated at a few tokens; 700 are billed
    mock.script(_exact_reply(prompt=prompt, completion=MAX_TOKENS))
    real = price.cost_micro(prompt, MAX_TOKENS)          # 7,000 + 10,000
    for _ in range(20):
        if post(gw, messages_body(max_tokens=MAX_TOKENS), ALICE).status == 402:
            break
    else:
        pytest.fail("never refused")
    n = len(mock.requests())
    rows = wait_rows(tmp_path / DB_NAME, n, status=200)
    spent = sum(r["cost_micro_usd"] or 0 for r in rows)
    assert spent == n * real
    # the reservation is at least max_tokens × output price, so the settle difference is at most
    # real − 10,000 µ$ = the billed prompt
    assert spent <= 50_000 + (real - MAX_TOKENS * 100), (spent, n)
    assert spent - 50_000 < real, "overshoot by a whole request"


def test_route_budget_shared_by_users(gateway_factory, mock, tmp_path):
    routes = [route("opus", ["claude-opus"], [target("mock/opus")], limits={"budget": {"usd": 0.03, "period": "day"}}),
              route("default", ["*"], [target("mock/other")])]
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, routes=routes, users=users_block()))
    mock.script(_exact_reply())
    body = messages_body(max_tokens=MAX_TOKENS, model="claude-opus")
    assert [post(gw, body, t).status for t in (ALICE, BOB, ALICE)] == [200, 200, 200]
    refused = post(gw, body, BOB)
    _assert_budget_refusal(refused, "route opus", "$0.03", "$0.03", "today", _tomorrow_utc())
    assert len(mock.requests()) == 3
    # another route is not limited
    assert post(gw, messages_body(max_tokens=MAX_TOKENS, model="claude-other"), BOB).status == 200
    b = get(gw, "/v1/usage/budget", BOB).json()
    (opus,) = [x for x in b["budgets"] if x["scope"] == "route"]
    assert opus["name"] == "opus" and opus["spent_usd"] == pytest.approx(0.03) and opus["remaining_usd"] == 0


def test_user_and_route_budget_both_apply(gateway_factory, mock, tmp_path):
    """Every budget that applies must pass: the user's own cap refuses first when it is smaller,
    the route's when it is."""
    routes = [route("opus", ["claude-opus"], [target("mock/opus")], limits={"budget": {"usd": 0.05, "period": "month"}}),
              route("default", ["*"], [target("mock/other")])]
    users = users_block(alice_limits={"budget": {"usd": 0.02, "period": "month"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, routes=routes, users=users))
    mock.script(_exact_reply())
    body = messages_body(max_tokens=MAX_TOKENS, model="claude-opus")
    assert [post(gw, body, ALICE).status for _ in range(2)] == [200, 200]
    _assert_budget_refusal(post(gw, body, ALICE), "user alice", "$0.02", "$0.02", "this month", _next_month_utc())
    assert [post(gw, body, BOB).status for _ in range(3)] == [200, 200, 200]
    _assert_budget_refusal(post(gw, body, BOB), "route opus", "$0.05", "$0.05", "this month", _next_month_utc())
    scopes = {(x["scope"], x["name"]) for x in get(gw, "/v1/usage/budget", ALICE).json()["budgets"]}
    assert scopes == {("user", "alice"), ("route", "opus")}


@pytest.mark.parametrize("where", ["user", "per_user", "route"])
def test_budget_zero_refuses_the_first_request(gateway_factory, mock, tmp_path, where):
    """usd: 0 refuses everything, even a request that would cost nothing (unpriced target)."""
    zero = {"budget": {"usd": 0, "period": "total"}}
    routes = [route("default", ["*"], [target("mock/unpriced")], **({"limits": zero} if where == "route" else {}))]
    cfg = acct_config(mock, tmp_path, prices=None, routes=routes,
                      users=users_block(alice_limits=zero if where == "user" else None),
                      limits={"per_user": zero} if where == "per_user" else None)
    gw = gateway_factory(cfg)
    mock.script(_exact_reply())
    r = post(gw, messages_body(max_tokens=MAX_TOKENS), ALICE)
    scope = "route default" if where == "route" else "user alice"
    msg = _assert_budget_refusal(r, scope, "$0.00", "$0.00", "in total", None)
    assert "resets 20" not in msg
    assert mock.requests() == []


@pytest.mark.parametrize("where,key", [
    ("user", "users[0].limits.budget.usd"),
    ("per_user", "limits.per_user.budget.usd"),
    ("route", "routes[0].limits.budget.usd"),
])
def test_negative_budget_is_a_check_error(mock, tmp_path, where, key):
    neg = {"budget": {"usd": -1, "period": "month"}}
    routes = [route("default", ["*"], [target("mock/x")], **({"limits": neg} if where == "route" else {}))]
    cfg = acct_config(mock, tmp_path, prices={"*": OUT_ONLY}, routes=routes,
                      users=users_block(alice_limits=neg if where == "user" else None),
                      limits={"per_user": neg} if where == "per_user" else None)
    path = tmp_path / "neg.yaml"
    path.write_text(json.dumps(cfg))
    proc = subprocess.run([BIN, "check", str(path)], capture_output=True, text=True, timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert key in out and "negative" in out, out


def test_reservation_visible_while_in_flight(gateway_factory, mock, tmp_path):
    """While a request runs, /v1/usage/budget shows its worst-case reservation (≥ max_tokens × the
    output price, plus the prompt estimate at the input price); after it, the real cost is spent
    and nothing stays reserved."""
    price = Price("1", "100")
    users = users_block(alice_limits={"budget": {"usd": 5, "period": "month"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": price}, users=users))
    mock.script(_exact_reply(prompt=20, completion=30, delay_ms=1500))
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", post(gw, messages_body(max_tokens=1000), ALICE)))
    t.start()
    seen = None
    for _ in range(50):
        b = get(gw, "/v1/usage/budget", ALICE).json()["budgets"][0]
        if b["reserved_usd"] > 0:
            seen = b
            break
        time.sleep(0.05)
    t.join()
    assert result["r"].status == 200
    assert seen is not None, "no reservation seen while the request was in flight"
    assert 0.1 <= seen["reserved_usd"] < 0.1 + 0.001, seen     # 1000 × $100/M = $0.10, + a small prompt estimate × $1/M
    assert seen["remaining_usd"] == pytest.approx(5 - seen["reserved_usd"])
    after = get(gw, "/v1/usage/budget", ALICE).json()["budgets"][0]
    assert after["reserved_usd"] == 0
    assert after["spent_usd"] == pytest.approx(price.cost_micro(20, 30) / 1e6)


def test_concurrency_on_a_target_priced_only_by_the_upstream(gateway_factory, mock, tmp_path):
    """`cost: upstream` with no price table: the cost is known only after the answer (OpenRouter's
    usage.cost), so admission has no worst case to reserve. The contract still holds: concurrent
    requests never overshoot the budget by a whole request (or, if that cannot be promised, the
    operator is warned by `switchyard check`)."""
    users = users_block(alice_limits={"budget": {"usd": 0.05, "period": "month"}})
    cfg = acct_config(mock, tmp_path, prices=None, cost="upstream", users=users)
    gw = gateway_factory(cfg)
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "delay_before_ms": 400,
                                        "usage": openai_usage(1000, 100, cost=0.01)}})
    responses = fire(gw, [(ALICE, messages_body(max_tokens=MAX_TOKENS))] * 20)
    admitted = sum(r.status == 200 for r in responses)
    rows = wait_rows(tmp_path / DB_NAME, 20)
    spent = sum(r["cost_micro_usd"] or 0 for r in rows)
    assert all(r["cost_source"] == "upstream" for r in rows if r["status"] == 200)
    check = subprocess.run([BIN, "check", str(gw.config_path)], capture_output=True, text=True, timeout=30)
    warned = "alice" in check.stdout + check.stderr and "warning" in (check.stdout + check.stderr).lower()
    assert spent < 50_000 + REQ_MICRO or warned, \
        f"{admitted} of 20 admitted, spend ${spent / 1e6:.2f} on a $0.05 budget, and `check` says nothing:\n{check.stdout}"
