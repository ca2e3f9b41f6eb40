"""`switchyard usage` (accounting.md "Reports"): reads the store directly while the gateway runs and
prints totals and budget use; json and csv agree with the ledger to the micro-dollar; a bad --since
is an error naming it."""
import csv
import io
import json
import subprocess

from conftest import BIN
from acctkit import ALICE, BOB, DB_NAME, Price, acct_config, messages_body, openai_usage, post, users_block, wait_rows

PRICE = Price("3", "15", cache_read="0.3")


def _usage(gw, *args):
    return subprocess.run([BIN, "usage", "--config", str(gw.config_path), *args], capture_output=True, text=True,
                          timeout=60, cwd=str(gw.workdir))


def test_usage_command_while_serving(gateway_factory, mock, tmp_path):
    users = users_block(alice_limits={"budget": {"usd": 0.5, "period": "month"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": PRICE}, users=users))
    mock.script([{"match": {"last_user_contains": "alice"}, "times": -1,
                  "reply": {"type": "chat", "content": "a", "usage": openai_usage(1234, 321, cached=1000)}},
                 {"times": -1, "reply": {"type": "chat", "content": "b", "usage": openai_usage(777, 77)}}])
    for _ in range(3):
        assert post(gw, messages_body("alice here"), ALICE).status == 200
    assert post(gw, messages_body("bob here", stream=True), BOB).status == 200
    rows = wait_rows(tmp_path / DB_NAME, 4)
    alice_cost = 3 * PRICE.cost_micro(234, 321, 1000)
    bob_cost = PRICE.cost_micro(777, 77)
    assert sum(r["cost_micro_usd"] for r in rows) == alice_cost + bob_cost

    proc = _usage(gw, "--by", "user", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    by_user = {d["user"]: d for d in report["data"]}
    assert by_user["alice"]["cost_micro_usd"] == alice_cost and by_user["alice"]["requests"] == 3
    assert by_user["alice"]["input_tokens"] == 3 * 234 and by_user["alice"]["cache_read_tokens"] == 3000
    assert by_user["bob"]["cost_micro_usd"] == bob_cost
    assert report["totals"]["cost_micro_usd"] == alice_cost + bob_cost
    (alice_budget,) = [b for b in report["budgets"] if b["user"] == "alice"]
    assert abs(alice_budget["spent_usd"] - alice_cost / 1e6) < 1e-9 and alice_budget["limit_usd"] == 0.5

    proc = _usage(gw, "--by", "user,target", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert {(r["user"], r["target"]) for r in table} == {("alice", "mock:mock/model-a"), ("bob", "mock:mock/model-a")}
    assert sum(int(r["requests"]) for r in table) == 4

    proc = _usage(gw, "--format", "table")
    assert proc.returncode == 0 and "alice" in proc.stdout, proc.stdout

    bad = _usage(gw, "--since", "last-tuesday")
    assert bad.returncode != 0 and "since" in bad.stdout + bad.stderr, bad
    assert gw.alive()
