"""Exactness after a mixed load and a SIGTERM drain (accounting.md "Exactness").

A mixed load — non-streamed and streamed answers (three usage styles), tool calls, an Anthropic-kind
stream with cache tokens, an upstream 500, unpriced requests, a client that abandons a stream before
any usage arrived — runs against a gateway whose `flush_interval` is long (60s), so the rows reach
the store only through the drain. After SIGTERM the ledger's token and cost sums must equal what
the mock reported (and the price table's arithmetic) exactly; request_ids are unique and are those
the client saw; a restarted gateway on the same store reports the same totals on /v1/usage.
"""
import signal
import sqlite3
import time

import pytest

from acctkit import (DB_NAME, Price, acct_config, anthropic_tokens, db_rows, get, messages_body, open_stream, openai_usage,
                     parse_sse, post, read_until, route, target, wait_rows)

PRICE = Price("3", "15", cache_read="0.3", cache_write="3.75")
NATIVE = Price("2", "10")            # Anthropic-kind: cache prices by default (2 and 2.5)
TOOLS = [{"name": "Read", "description": "read a file", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]


def _config(mock, tmp_path, flush="60s"):
    routes = [route("native", ["claude-native"], [target("claude-native-1", provider="mock-anthropic")]),
              route("free", ["claude-free"], [target("free-model", provider="plain")]),
              route("default", ["*"], [target("mock/main")])]
    plain = {"kind": "openai", "dialect": "openai", "base_url": mock.url("/api/v1"), "api_key": "test-plain"}
    cfg = acct_config(mock, tmp_path, prices={"mock/*": PRICE}, cost="prices", routes=routes, extra_providers={"plain": plain},
                      state={"url": f"sqlite:{tmp_path / DB_NAME}", "flush_interval": flush})
    cfg["providers"]["mock-anthropic"]["prices"] = {"*": NATIVE.config()}
    return cfg


@pytest.mark.parametrize("flush", ["200ms", "60s"], ids=["written-by-interval", "written-by-drain"])
def test_mixed_load_sums_exact_after_sigterm_and_restart(gateway_factory, mock, tmp_path, flush):
    """written-by-interval waits until the writer stored every row, then drains; written-by-drain
    (flush_interval 60s) leaves every row to the SIGTERM drain (accounting.md: SIGTERM loses nothing)."""
    cfg = _config(mock, tmp_path, flush=flush)
    gw = gateway_factory(cfg)

    # (marker, request kwargs, reply, reported usage in Anthropic terms or None, price or None)
    plan = []

    def chat(marker, usage, stream=False, style="openai", tools=None, model="claude-main", price=PRICE, **reply):
        rep = {"type": "chat", "usage": usage, "usage_style": style}
        rep.update(reply or {"content": f"answer for {marker}"})
        kw = {"stream": stream, "model": model}
        if tools:
            kw["tools"] = tools
        plan.append((marker, kw, rep, anthropic_tokens(usage), price))

    for i in range(4):
        chat(f"plain-{i}", openai_usage(1000 + 37 * i, 100 + i, cached=200 * i, cache_write=10 * i))
    for i, style in enumerate(["openai", "openrouter", "inline", "openai"]):
        chat(f"stream-{i}", openai_usage(5000 + i, 700 + 3 * i, cached=4000 if i % 2 else 0, cache_write=13 * i), stream=True, style=style)
    chat("tool-json", openai_usage(2222, 44, cached=1000), tools=TOOLS,
         tool_calls=[{"id": "call_a", "name": "Read", "arguments": "{\"path\": \"/etc/hosts\"}"}])
    chat("tool-stream", openai_usage(3333, 55, cache_write=3000), stream=True, tools=TOOLS,
         content="Reading.", tool_calls=[{"id": "call_b", "name": "Read", "arguments": "{\"path\": \"/tmp/x\"}"}])
    chat("unpriced", openai_usage(400, 40), model="claude-free", price=None)
    chat("unpriced-stream", openai_usage(500, 50), stream=True, model="claude-free", price=None)
    native_usage = {"input_tokens": 321, "output_tokens": 77, "cache_read_input_tokens": 9000, "cache_creation_input_tokens": 800}
    plan.append(("native-stream", {"stream": True, "model": "claude-native"}, {"type": "anthropic", "content": "native", "usage": native_usage},
                 (321, 77, 9000, 800), NATIVE))
    plan.append(("native-json", {"stream": False, "model": "claude-native"}, {"type": "anthropic", "content": "native", "usage": native_usage},
                 (321, 77, 9000, 800), NATIVE))
    plan.append(("upstream-500", {"stream": False, "model": "claude-main"},
                 {"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "boom"}}}, None, PRICE))
    plan.append(("upstream-500-stream", {"stream": True, "model": "claude-main"},
                 {"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "boom"}}}, None, PRICE))

    rules = [{"match": {"last_user_contains": marker}, "reply": reply} for marker, _, reply, _, _ in plan]
    # the abandoned stream: slow text, its usage would only come at the very end
    rules.append({"match": {"last_user_contains": "abandon"},
                  "reply": {"type": "chat", "content": "z" * 400, "chunk_size": 4, "delay_ms": 40, "usage": openai_usage(999_999, 999_999)}})
    mock.script(rules)

    seen = {}   # request_id -> (marker, expected tokens or None, price or None, status)
    for marker, kw, reply, tokens, price in plan:
        resp = post(gw, messages_body(f"please {marker}", **kw))
        want_status = 500 if marker.startswith("upstream-500") else 200
        assert resp.status == want_status, (marker, resp)
        if kw.get("stream") and want_status == 200:
            assert parse_sse(resp.body)[-1]["event"] == "message_stop", (marker, resp)
        seen[resp.headers["request-id"]] = (marker, tokens, price, want_status)

    sock = open_stream(gw, messages_body("please abandon this", model="claude-main"))
    head = read_until(sock, b"text_delta")
    sock.close()
    assert head.startswith(b"HTTP/1.1 200"), head[:300]
    abandoned_id = next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                        if line.lower().startswith(b"request-id:"))

    # the abandoned request must have ended (its row exists in the access log) before the drain
    for _ in range(100):
        if any(e.get("request_id") == abandoned_id for e in gw.access_log()):
            break
        time.sleep(0.1)

    if flush == "200ms":
        wait_rows(tmp_path / DB_NAME, len(seen) + 1)
    rc = gw.stop(signal.SIGTERM)
    rows = db_rows(tmp_path / DB_NAME)

    # one row per request, request_ids unique and exactly those the client saw
    ids = [r["request_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate request_id in the ledger"
    assert set(ids) == set(seen) | {abandoned_id}, (set(ids) ^ (set(seen) | {abandoned_id}))
    by_id = {r["request_id"]: r for r in rows}

    sums = [0, 0, 0, 0]
    cost_sum = 0
    for rid, (marker, tokens, price, status) in seen.items():
        r = by_id[rid]
        got = (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])
        assert r["status"] == status, (marker, r)
        assert r["estimated"] == 0, (marker, r)
        if tokens is None:        # the upstream failed before any usage: nothing used, nothing owed
            assert got == (0, 0, 0, 0) and (r["cost_micro_usd"] or 0) == 0, (marker, r)
            assert r["error_type"] == "api_error", (marker, r)
            continue
        assert got == tokens, (marker, r)
        if price is None:
            assert r["cost_micro_usd"] is None, (marker, r)
        else:
            assert r["cost_micro_usd"] == price.cost_micro(*tokens), (marker, r)
            assert r["cost_source"] == "prices"
            cost_sum += r["cost_micro_usd"]
        for k in range(4):
            sums[k] += tokens[k]

    # ledger sums over every reported request equal the mock's reported sums, to the token
    reported = [r for r in rows if r["request_id"] in seen]
    db_sums = [sum(r[c] for r in reported) for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")]
    assert db_sums == sums
    assert sum(r["cost_micro_usd"] or 0 for r in reported) == cost_sum

    # the abandoned stream: recorded, estimated (no usage arrived), and never the mock's final usage
    a = by_id[abandoned_id]
    assert a["stream"] == 1 and a["error_type"] == "client_disconnected", a
    assert a["estimated"] == 1, a
    assert 0 < a["input_tokens"] < 999_999 and 0 < a["output_tokens"] < 999_999, a
    assert a["cost_micro_usd"] == PRICE.cost_micro(a["input_tokens"], a["output_tokens"], a["cache_read_tokens"], a["cache_write_tokens"]), a

    # the database agrees with itself in SQL (integer sums, no float)
    con = sqlite3.connect(f"file:{tmp_path / DB_NAME}?mode=ro", uri=True)
    try:
        (sql_cost,) = con.execute("SELECT SUM(cost_micro_usd) FROM usage_records").fetchone()
        assert con.execute("SELECT typeof(cost_micro_usd) FROM usage_records WHERE cost_micro_usd IS NOT NULL "
                           "GROUP BY 1").fetchall() == [("integer",)]
    finally:
        con.close()
    assert sql_cost == cost_sum + a["cost_micro_usd"]

    # restart on the same store: /v1/usage totals equal the database, per group too
    gw2 = gateway_factory(cfg, name="gw2")
    report = get(gw2, "/v1/usage").json()
    t = report["totals"]
    assert t["requests"] == len(rows)
    assert t["errors"] == sum(1 for r in rows if r["status"] >= 400)
    assert [t["input_tokens"], t["output_tokens"], t["cache_read_tokens"], t["cache_write_tokens"]] == \
        [sum(r[c] for r in rows) for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")]
    assert t["cost_micro_usd"] == sql_cost
    assert t["unpriced"] == sum(1 for r in rows if r["cost_micro_usd"] is None)
    assert abs(t["cost_usd"] - sql_cost / 1e6) < 1e-9
    grouped = get(gw2, "/v1/usage?group_by=user,route,target,model,day").json()
    assert sum(d["cost_micro_usd"] for d in grouped["data"]) == sql_cost
    assert sum(d["requests"] for d in grouped["data"]) == len(rows)
    by_route = {}
    for r in rows:
        by_route[r["route"]] = by_route.get(r["route"], 0) + (r["cost_micro_usd"] or 0)
    got_by_route = {}
    for d in grouped["data"]:
        got_by_route[d["route"]] = got_by_route.get(d["route"], 0) + d["cost_micro_usd"]
    assert got_by_route == by_route
    assert rc is not None


def test_sigterm_exits_cleanly_with_a_ledger(gateway_factory, mock, tmp_path):
    """A drain with an open SQLite store ends with exit status 0 (no crash at teardown) and writes
    everything (flush_interval 60s: only the drain writes)."""
    gw = gateway_factory(_config(mock, tmp_path))
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(10, 5)}})
    for _ in range(3):
        assert post(gw, messages_body()).status == 200
    rc = gw.stop(signal.SIGTERM)
    assert len(db_rows(tmp_path / DB_NAME)) == 3
    assert rc == 0, f"exit status {rc} after SIGTERM; stderr tail:\n{gw.stderr()[-1500:]}"
