"""Pricing arithmetic end to end (accounting.md "Configuration", "What is recorded", "Exactness").

Known usage objects from the mock (OpenAI and Anthropic shapes, with cache reads and writes) go
through the real gateway; the ledger rows must hold the Anthropic token mapping (input = prompt −
cached − cache_write) and a cost equal to the price table in integers, to the micro-dollar:

    pico  = in·p_in + out·p_out + cache_read·p_cr + cache_write·p_cw     (p in pico-dollars per token)
    micro = (pico + 500000) // 1000000                                    (half up, once)

Also: `cost: upstream` uses OpenRouter's reported `usage.cost` (and asks for it with
`usage.include`); an unpriced target records a NULL cost and counts in
`switchyard_unpriced_requests_total`; what is and is not recorded (401, count_tokens, 402, 429).
"""
import json
import subprocess

from conftest import BIN, base_config
from acctkit import (ALICE, BOB, DB_NAME, MODEL, Price, acct_config, anthropic_tokens, auth, get, metric, metrics,
                     messages_body, openai_usage, parse_sse, post, request, route, target, users_block, wait_rows)

EXPLICIT = Price("3", "15", cache_read="0.3", cache_write="3.75")
DEFAULTS = Price("0.123456", "1.1")            # cache_read = input, cache_write = 1.25 × input (154320 pico: exact)
HALF = Price("0.5", "0.25")                    # for half-up rounding at exactly .5 micro-dollar
STAR = Price("1", "4")

PRICED_ROUTES = [
    route("explicit", ["claude-explicit"], [target("mock/explicit")]),
    route("defaults", ["claude-defaults"], [target("mock/defaults-v2")]),
    route("half", ["claude-half"], [target("mock/half")]),
    route("default", ["*"], [target("mock/other")]),
]
PRICES = {"mock/explicit": EXPLICIT, "mock/defaults-*": DEFAULTS, "mock/half": HALF, "*": STAR}
PRICE_OF = {"mock:mock/explicit": EXPLICIT, "mock:mock/defaults-v2": DEFAULTS, "mock:mock/half": HALF, "mock:mock/other": STAR}

# (model the client asks for, stream?, usage_style, OpenAI usage the mock reports)
CASES = [
    ("claude-explicit", False, "openai", openai_usage(1234, 567, cached=400, cache_write=100)),
    ("claude-explicit", True, "openai", openai_usage(98765, 4321, cached=90000, cache_write=0)),
    ("claude-explicit", True, "openrouter", openai_usage(5001, 17, cached=0, cache_write=5000)),
    ("claude-defaults", False, "openai", openai_usage(777, 333, cached=111, cache_write=222)),
    ("claude-defaults", True, "inline", openai_usage(1_000_003, 9, cached=3, cache_write=1_000_000)),
    ("claude-half", False, "openai", openai_usage(1, 0)),            # 0.5 µ$ → 1 (half up, not to even)
    ("claude-half", False, "openai", openai_usage(3, 1)),            # 1.5 + 0.25 = 1.75 µ$ → 2
    ("claude-half", True, "openai", openai_usage(5, 2)),             # 2.5 + 0.5 = 3.0 µ$ → 3
    ("claude-half", False, "openai", openai_usage(1, 2)),            # 0.5 + 0.5 = 1.0 µ$ → 1
    ("claude-star", False, "openai", openai_usage(10, 5)),
    ("claude-star", True, "openai", openai_usage(250_000, 125_000, cached=50_000, cache_write=25_000)),
]


def _send(gw, model, stream, usage_style, usage, token=None):
    marker = f"case-{model}-{stream}-{usage['prompt_tokens']}-{usage['completion_tokens']}"
    return marker, post(gw, messages_body(marker, model=model, stream=stream), token)


def _by_request_id(rows):
    out = {r["request_id"]: r for r in rows}
    assert len(out) == len(rows), "request_id is not unique in the ledger"
    return out


def test_price_table_arithmetic_exact(gateway_factory, mock, tmp_path):
    gw = gateway_factory(acct_config(mock, tmp_path, prices=PRICES, cost="prices", routes=PRICED_ROUTES))
    rules = []
    for model, stream, style, usage in CASES:
        marker = f"case-{model}-{stream}-{usage['prompt_tokens']}-{usage['completion_tokens']}"
        rules.append({"match": {"last_user_contains": marker},
                      "reply": {"type": "chat", "content": "priced", "usage": usage, "usage_style": style}})
    mock.script(rules)

    expected = {}
    for model, stream, style, usage in CASES:
        _, resp = _send(gw, model, stream, style, usage)
        assert resp.status == 200, resp
        if stream:
            assert parse_sse(resp.body)[-1]["event"] == "message_stop", resp
        expected[resp.headers["request-id"]] = (model, stream, usage)

    rows = _by_request_id(wait_rows(tmp_path / DB_NAME, len(CASES)))
    assert set(rows) == set(expected)
    total = 0
    for rid, (model, stream, usage) in expected.items():
        row = rows[rid]
        inp, out, cr, cw = anthropic_tokens(usage)
        price = PRICE_OF[row["target"]]
        want = price.cost_micro(inp, out, cr, cw)
        got = (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"], row["cache_write_tokens"])
        assert got == (inp, out, cr, cw), (model, stream, usage, row)
        assert row["cost_micro_usd"] == want, (model, stream, usage, row, want)
        assert row["cost_source"] == "prices", row
        assert row["estimated"] == 0 and row["status"] == 200 and row["stream"] == int(stream), row
        assert row["endpoint"] == "messages" and row["model"] == model, row
        total += want
    # the half-up cases, spelled out (a float or round-half-even implementation gets 0 for the first)
    half_costs = sorted(rows[rid]["cost_micro_usd"] for rid, (m, _, _) in expected.items() if m == "claude-half")
    assert half_costs == [1, 1, 2, 3]
    # /v1/usage totals are the exact integer sum of the rows
    report = get(gw, "/v1/usage?group_by=target").json()
    assert report["totals"]["cost_micro_usd"] == total
    by_target = {d["target"]: d for d in report["data"]}
    for tgt in PRICE_OF:
        assert by_target[tgt]["cost_micro_usd"] == sum(r["cost_micro_usd"] for r in rows.values() if r["target"] == tgt)


def test_anthropic_kind_usage_priced_with_cache(gateway_factory, mock, tmp_path):
    """An Anthropic-kind upstream's usage is recorded as reported (input excludes cache tokens);
    streamed: input and cache counts from message_start, output from message_delta."""
    price = Price("2", "10", cache_read="0.2", cache_write="2.5")
    cfg = acct_config(mock, tmp_path, routes=[route("native", ["*"], [target("claude-native", provider="mock-anthropic")])])
    cfg["providers"]["mock-anthropic"]["prices"] = {"claude-*": price.config()}
    gw = gateway_factory(cfg)
    usage = {"input_tokens": 1201, "output_tokens": 333, "cache_read_input_tokens": 5000, "cache_creation_input_tokens": 617}
    mock.script({"times": -1, "reply": {"type": "anthropic", "content": "native", "usage": usage}})
    ids = []
    for stream in (False, True):
        resp = post(gw, messages_body(stream=stream))
        assert resp.status == 200, resp
        ids.append(resp.headers["request-id"])
    rows = _by_request_id(wait_rows(tmp_path / DB_NAME, 2))
    want = price.cost_micro(1201, 333, 5000, 617)
    for rid in ids:
        r = rows[rid]
        assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (1201, 333, 5000, 617), r
        assert r["cost_micro_usd"] == want and r["cost_source"] == "prices", (r, want)
        assert r["target"] == "mock-anthropic:claude-native"


def test_cost_upstream_uses_reported_cost(gateway_factory, mock, tmp_path):
    """`cost: upstream` on an OpenRouter-dialect provider: the gateway asks for the cost
    (`usage.include: true`) and records round(cost × 1e6) with cost_source 'upstream'; when the
    upstream reports none, the price table is used ('prices'). `cost: prices` ignores a reported cost."""
    routes = [route("asks", ["claude-upstream"], [target("mock/reported")]),
              route("table", ["claude-table"], [target("mock/table", provider="tableonly")]),
              route("default", ["*"], [target("mock/reported")])]
    tableonly = dict(base_config(mock)["providers"]["mock"], cost="prices", prices={"*": STAR.config()})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": STAR}, cost="upstream", routes=routes,
                                     extra_providers={"tableonly": tableonly}))
    cases = [  # (marker, model, stream, style, usage, expected (micro, source))
        ("up-plain", "claude-upstream", False, "openai", openai_usage(1000, 200, cached=300, cost=0.0123456), (12346, "upstream")),
        ("up-stream", "claude-upstream", True, "openrouter", openai_usage(40, 9, cost=0.00123449), (1234, "upstream")),
        ("up-tiny", "claude-upstream", False, "openai", openai_usage(3, 2, cost=1.5e-05), (15, "upstream")),
        ("up-zero", "claude-upstream", True, "openai", openai_usage(300, 20, cost=0), (0, "upstream")),
        ("up-none", "claude-upstream", False, "openai", openai_usage(1000, 200, cached=300), (STAR.cost_micro(700, 200, 300), "prices")),
        ("tbl", "claude-table", False, "openai", openai_usage(1000, 200, cost=0.5), (STAR.cost_micro(1000, 200), "prices")),
    ]
    mock.script([{"match": {"last_user_contains": m}, "reply": {"type": "chat", "content": "c", "usage": u, "usage_style": s}}
                 for m, _, _, s, u, _ in cases])
    expected = {}
    for marker, model, stream, _, usage, want in cases:
        resp = post(gw, messages_body(marker, model=model, stream=stream))
        assert resp.status == 200, resp
        expected[resp.headers["request-id"]] = (marker, usage, want)
    # the gateway asked OpenRouter for the cost on the cost: upstream provider
    asked = [r["body"] for r in mock.requests() if "up-" in json.dumps(r["body"]["messages"])]
    assert len(asked) == 5
    for body in asked:
        assert body.get("usage", {}).get("include") is True, body
    rows = _by_request_id(wait_rows(tmp_path / DB_NAME, len(cases)))
    for rid, (marker, usage, (micro, source)) in expected.items():
        r = rows[rid]
        assert (r["cost_micro_usd"], r["cost_source"]) == (micro, source), (marker, r)
        assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == anthropic_tokens(usage)


def test_unpriced_target_records_null_cost_and_metric(gateway_factory, mock, tmp_path):
    """No price and no reported cost → cost NULL (unknown), cost_source NULL, the unpriced metric
    per target, `unpriced` in /v1/usage; a priced target next to it is unaffected."""
    routes = [route("free", ["claude-free"], [target("mock/free", provider="plain")]),
              route("default", ["*"], [target("mock/priced")])]
    plain = {"kind": "openai", "dialect": "openai", "base_url": mock.url("/api/v1"), "api_key": "test-plain"}
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"mock/priced": STAR}, cost="prices", routes=routes,
                                     extra_providers={"plain": plain}))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(100, 10)}})
    for stream in (False, True, False):
        assert post(gw, messages_body(model="claude-free", stream=stream)).status == 200
    assert post(gw, messages_body(model="claude-priced")).status == 200
    rows = wait_rows(tmp_path / DB_NAME, 4)
    free = [r for r in rows if r["target"] == "plain:mock/free"]
    priced = [r for r in rows if r["target"] == "mock:mock/priced"]
    assert len(free) == 3 and len(priced) == 1, rows
    for r in free:
        assert r["cost_micro_usd"] is None and r["cost_source"] is None, r
        assert (r["input_tokens"], r["output_tokens"]) == (100, 10), r
    assert priced[0]["cost_micro_usd"] == STAR.cost_micro(100, 10)
    samples = metrics(gw.base_url)
    assert metric(samples, "switchyard_unpriced_requests_total", target="plain:mock/free") == 3
    assert metric(samples, "switchyard_unpriced_requests_total", target="mock:mock/priced") in (None, 0)
    report = get(gw, "/v1/usage?group_by=target").json()
    by_target = {d["target"]: d for d in report["data"]}
    assert by_target["plain:mock/free"]["unpriced"] == 3 and by_target["plain:mock/free"]["cost_micro_usd"] == 0
    assert by_target["mock:mock/priced"]["unpriced"] == 0
    assert report["totals"]["unpriced"] == 3


def test_what_is_recorded(gateway_factory, mock, tmp_path):
    """One row per authenticated /v1/messages request, refusals included (429 limiter, 402 budget);
    no row for a 401 or for count_tokens."""
    users = users_block(alice_limits={"rpm": 1}, bob_limits={"budget": {"usd": 0, "period": "day"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": STAR}, users=users))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(10, 5)}})
    statuses = [post(gw, messages_body(), ALICE).status, post(gw, messages_body(), ALICE).status,
                post(gw, messages_body(), BOB).status, post(gw, messages_body(), "sk-not-a-user").status,
                post(gw, messages_body()).status]
    assert statuses == [200, 429, 402, 401, 401]
    ct = request(gw.base_url, "POST", "/v1/messages/count_tokens", {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
                 auth(ALICE))
    assert ct.status == 200, ct
    report = get(gw, "/v1/usage?group_by=user", "sk-not-a-user")
    assert report.status == 401
    rows = wait_rows(tmp_path / DB_NAME, 3)
    got = sorted((r["user_name"], r["status"], r["error_type"]) for r in rows)
    assert got == [("alice", 200, None), ("alice", 429, "rate_limit_error"), ("bob", 402, "billing_error")], rows
    for r in rows:
        if r["status"] != 200:
            assert (r["input_tokens"], r["output_tokens"], r["cost_micro_usd"] or 0) == (0, 0, 0), r
    assert all(r["endpoint"] == "messages" for r in rows)
    assert len(mock.requests()) == 1


def test_check_warns_about_budgets_that_reach_unpriced_targets(mock, tmp_path):
    """accounting.md: `switchyard check` warns for every budgeted user or route that can reach a
    target with no price (and no upstream cost)."""
    routes = [route("paid", ["claude-paid"], [target("mock/paid")]),
              route("free", ["claude-free"], [target("free-model", provider="plain")], limits={"budget": {"usd": 5}})]
    plain = {"kind": "openai", "dialect": "openai", "base_url": mock.url("/api/v1"), "api_key": "test-plain"}
    users = users_block(alice_limits={"budget": {"usd": 10, "period": "month"}})
    users[0]["routes"] = ["paid"]      # alice can only reach the priced route: no warning for her
    users[1]["limits"] = {"budget": {"usd": 1}}
    cfg = acct_config(mock, tmp_path, prices={"mock/*": STAR}, cost="prices", routes=routes, users=users,
                      extra_providers={"plain": plain})
    path = tmp_path / "check.yaml"
    path.write_text(json.dumps(cfg))
    proc = subprocess.run([BIN, "check", str(path)], capture_output=True, text=True, timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    warnings = [line for line in out.splitlines() if "unpriced" in line.lower()]
    assert any("route free" in w and "plain:free-model" in w for w in warnings), out
    assert any("user bob" in w and "plain:free-model" in w for w in warnings), out
    assert not any("user alice" in w for w in warnings), out
