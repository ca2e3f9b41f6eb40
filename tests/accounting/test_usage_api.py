"""Usage reports over HTTP (accounting.md "Reports"): `GET /v1/usage` and `GET /v1/usage/budget`.

A user token sees only its own rows (`user` is set in the answer); an admin token (`users[].admin`)
and open mode see everyone's; no or a wrong token is a 401. Bad `since`, `until` or `group_by` is a
400 invalid_request_error whose message names the parameter.
"""
import datetime

import pytest

from acctkit import (ALICE, BOB, ROOT_ADMIN, Price, acct_config, bearer, error_of, get, messages_body, openai_usage, post,
                     route, target, users_block)

PRICE = Price("3", "15", cache_read="0.3")
# what each user sends: (marker, model, usage)
TRAFFIC = {
    "alice": [("a1", "claude-alpha", openai_usage(1000, 100, cached=500)), ("a2", "claude-beta", openai_usage(2000, 200))],
    "bob": [("b1", "claude-alpha", openai_usage(300, 30)), ("b2", "claude-alpha", openai_usage(400, 40)),
            ("b3", "claude-beta", openai_usage(500, 50, cached=100))],
    "root": [("r1", "claude-beta", openai_usage(7, 7))],
}
TOKENS = {"alice": ALICE, "bob": BOB, "root": ROOT_ADMIN}
ROUTES = [route("alpha", ["claude-alpha"], [target("mock/alpha")]), route("default", ["*"], [target("mock/beta")])]


def _expected(names):
    """Totals over the given users' traffic, from the reported usage and the price table."""
    t = dict(requests=0, errors=0, input_tokens=0, output_tokens=0, cache_read_tokens=0, cache_write_tokens=0, cost_micro_usd=0, unpriced=0)
    for name in names:
        for _, _, u in TRAFFIC[name]:
            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
            inp, out = u["prompt_tokens"] - cached, u["completion_tokens"]
            t["requests"] += 1
            t["input_tokens"] += inp
            t["output_tokens"] += out
            t["cache_read_tokens"] += cached
            t["cost_micro_usd"] += PRICE.cost_micro(inp, out, cached)
    return t


def _subset(d):
    return {k: d[k] for k in ("requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                              "cost_micro_usd", "unpriced")}


@pytest.fixture
def team(gateway_factory, mock, tmp_path):
    users = users_block(alice_limits={"budget": {"usd": 2, "period": "week"}})
    routes = [dict(ROUTES[0], limits={"budget": {"usd": 10, "period": "month"}}), ROUTES[1]]
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": PRICE}, routes=routes, users=users,
                                     limits={"per_user": {"budget": {"usd": 1, "period": "day"}}}))
    mock.script([{"match": {"last_user_contains": m}, "reply": {"type": "chat", "content": "x", "usage": u}}
                 for reqs in TRAFFIC.values() for m, _, u in reqs])
    for name, reqs in TRAFFIC.items():
        for marker, model, _ in reqs:
            assert post(gw, messages_body(marker, model=model), TOKENS[name]).status == 200
    return gw


def test_user_sees_only_own_usage(team):
    for name in ("alice", "bob"):
        r = get(team, "/v1/usage?group_by=user", TOKENS[name])
        assert r.status == 200, r
        body = r.json()
        assert body["user"] == name
        assert [d["user"] for d in body["data"]] == [name], body
        assert _subset(body["totals"]) == _expected([name])
        assert body["totals"]["cost_usd"] == pytest.approx(_expected([name])["cost_micro_usd"] / 1e6)
        # any grouping stays within the caller's rows
        r2 = get(team, "/v1/usage?group_by=target,model,route,day", TOKENS[name], headers=None).json()
        assert r2["user"] == name and _subset(r2["totals"]) == _expected([name])
        # Bearer works like x-api-key
        r3 = get(team, "/v1/usage", None, headers=bearer(TOKENS[name])).json()
        assert r3["user"] == name and _subset(r3["totals"]) == _expected([name])


def test_admin_sees_everyone(team):
    body = get(team, "/v1/usage?group_by=user", ROOT_ADMIN).json()
    assert body["user"] is None
    assert body["group_by"] == ["user"]
    by_user = {d["user"]: _subset(d) for d in body["data"]}
    assert by_user == {n: _expected([n]) for n in TRAFFIC}
    assert _subset(body["totals"]) == _expected(TRAFFIC)
    # groups by route and model add up to the same totals
    body = get(team, "/v1/usage?group_by=route,model", ROOT_ADMIN).json()
    assert {(d["route"], d["model"]) for d in body["data"]} == {("alpha", "claude-alpha"), ("default", "claude-beta")}
    assert sum(d["cost_micro_usd"] for d in body["data"]) == _expected(TRAFFIC)["cost_micro_usd"]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    body = get(team, "/v1/usage?group_by=day,target", ROOT_ADMIN).json()
    assert {d["day"] for d in body["data"]} == {today}
    assert {d["target"] for d in body["data"]} == {"mock:mock/alpha", "mock:mock/beta"}


def test_time_range(team):
    now = datetime.datetime.now(datetime.timezone.utc)
    today = now.strftime("%Y-%m-%d")
    tomorrow = (now + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    yesterday = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    everyone = _expected(TRAFFIC)
    assert _subset(get(team, f"/v1/usage?since={today}", ROOT_ADMIN).json()["totals"]) == everyone
    assert _subset(get(team, f"/v1/usage?since={yesterday}&until={today}", ROOT_ADMIN).json()["totals"]) == everyone
    assert get(team, f"/v1/usage?since={tomorrow}&until={tomorrow}", ROOT_ADMIN).json()["totals"]["requests"] == 0
    assert get(team, f"/v1/usage?until={yesterday}", ROOT_ADMIN).json()["totals"]["requests"] == 0
    stamp = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = get(team, f"/v1/usage?since={stamp}", ROOT_ADMIN).json()
    assert _subset(body["totals"]) == everyone and body["since"] == stamp


@pytest.mark.parametrize("since", ["{d}T00:00:00Z", "{d}T00:00:00.250Z", "{d}T00:00:00%2B00:00", "{d}T01:00:00%2B01:00"],
                         ids=["Z", "fraction", "offset-zero", "offset-plus-one"])
def test_rfc3339_forms_accepted(team, since):
    """since/until accept RFC 3339 times, which include numeric offsets (`+01:00`), not only `Z`."""
    d = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    r = get(team, "/v1/usage?since=" + since.format(d=d), ROOT_ADMIN)
    assert r.status == 200, r
    assert _subset(r.json()["totals"]) == _expected(TRAFFIC)


def test_unauthenticated_is_401(team):
    for headers in ({}, {"x-api-key": "sk-wrong"}, bearer("sk-wrong")):
        for path in ("/v1/usage", "/v1/usage/budget"):
            r = get(team, path, None, headers=headers)
            assert r.status == 401, (path, headers, r)
            assert error_of(r)["type"] == "authentication_error"


@pytest.mark.parametrize("query,param", [
    ("since=yesterday", "since"),
    ("since=2026-13-01", "since"),
    ("since=2026-12-1", "since"),
    ("since=12/01/2026", "since"),
    ("until=soon", "until"),
    ("until=2026-12-01T25:00:00Z", "until"),
    ("group_by=users", "group_by"),
    ("group_by=user,provider", "group_by"),
    ("group_by=user;route", "group_by"),
    ("since=2026-12-05&until=2026-12-01", "since"),
])
def test_bad_parameters_are_400_naming_the_parameter(team, query, param):
    r = get(team, "/v1/usage?" + query, ALICE)
    assert r.status == 400, r
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert param in err["message"], err


def test_budget_endpoint_per_caller(team):
    alice = get(team, "/v1/usage/budget", ALICE).json()
    assert alice["user"] == "alice"
    scopes = {(b["scope"], b["name"]): b for b in alice["budgets"]}
    assert set(scopes) == {("user", "alice"), ("route", "alpha")}      # her own cap, not per_user's; the route's
    mine = scopes[("user", "alice")]
    assert mine["limit_usd"] == 2 and mine["period"] == "week"
    assert mine["spent_usd"] == pytest.approx(_expected(["alice"])["cost_micro_usd"] / 1e6)
    assert mine["remaining_usd"] == pytest.approx(2 - mine["spent_usd"])
    monday = datetime.datetime.now(datetime.timezone.utc).date()
    monday = monday + datetime.timedelta(days=7 - monday.weekday())
    assert mine["resets_at"] == monday.strftime("%Y-%m-%dT00:00:00Z")
    alpha = scopes[("route", "alpha")]
    alpha_spent = sum(PRICE.cost_micro(u["prompt_tokens"] - (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
                                       u["completion_tokens"], (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0))
                      for reqs in TRAFFIC.values() for _, m, u in reqs if m == "claude-alpha")
    assert alpha["spent_usd"] == pytest.approx(alpha_spent / 1e6) and alpha["limit_usd"] == 10

    bob = get(team, "/v1/usage/budget", BOB).json()
    assert bob["user"] == "bob"
    scopes = {(b["scope"], b["name"]): b for b in bob["budgets"]}
    assert set(scopes) == {("user", "bob"), ("route", "alpha")}        # limits.per_user applies to bob
    assert scopes[("user", "bob")]["limit_usd"] == 1 and scopes[("user", "bob")]["period"] == "day"
    assert scopes[("user", "bob")]["spent_usd"] == pytest.approx(_expected(["bob"])["cost_micro_usd"] / 1e6)
    for b in alice["budgets"] + bob["budgets"]:
        assert set(b) >= {"scope", "name", "limit_usd", "spent_usd", "reserved_usd", "remaining_usd", "period", "resets_at"}


def test_open_mode_sees_everything(gateway_factory, mock, tmp_path):
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": PRICE}, routes=ROUTES))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(100, 10)}})
    for _ in range(3):
        assert post(gw, messages_body()).status == 200
    body = get(gw, "/v1/usage?group_by=user").json()
    assert body["user"] is None
    assert body["totals"]["requests"] == 3 and body["totals"]["cost_micro_usd"] == 3 * PRICE.cost_micro(100, 10)
    assert get(gw, "/v1/usage/budget").status == 200


def test_usage_with_state_off_is_an_error_not_a_crash(gateway_factory, mock, tmp_path):
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": PRICE}, state={"url": "off"}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x"}})
    assert post(gw, messages_body()).status == 200
    r = get(gw, "/v1/usage")
    assert 400 <= r.status < 500, r
    assert error_of(r)["message"]
    assert list(tmp_path.glob("*.sqlite")) == [] and not (tmp_path / "data").exists()
