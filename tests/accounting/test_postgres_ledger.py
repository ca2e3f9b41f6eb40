"""The ledger in PostgreSQL (state.url: postgres://…, accounting.md "state"): the same rows,
costs and budgets as the SQLite store, read back after a restart, and nothing lost when the
database restarts under the gateway. A throwaway cluster is started for the module (initdb in a
temp directory, loopback port, run as the `postgres` user: PostgreSQL refuses to run as root);
scripts/test installs Debian's postgresql when it is missing."""
import os
import pathlib
import signal
import subprocess
import time

import pytest

from pgcluster import cluster, drop_all  # noqa: F401  (cluster is a fixture)
from acctkit import ALICE, MODEL, Price, acct_config, error_of, free_port, get, messages_body, openai_usage, post, users_block

PRICE = Price("1", "100")  # $1/M input, $100/M output


@pytest.fixture
def fresh(cluster):
    drop_all(cluster)
    return cluster


def _config(mock, tmp_path, cluster, price=PRICE, **kw):
    return acct_config(mock, tmp_path, prices={"*": price}, users=users_block(**kw),
                       state={"url": cluster.url, "flush_interval": "200ms"})


def _wait(cluster, count, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(cluster.sql("SELECT count(*) FROM usage_records") or 0) >= count:
            return
        time.sleep(0.1)
    pytest.fail(f"fewer than {count} rows in PostgreSQL: {cluster.sql('SELECT count(*) FROM usage_records')}")


def test_rows_costs_and_reports_in_postgres(gateway_factory, mock, tmp_path, fresh):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(1000, 200)}})
    gw = gateway_factory(_config(mock, tmp_path, fresh))
    for _ in range(3):
        assert post(gw, messages_body(model=MODEL, max_tokens=300), ALICE).status == 200
    gw.stop(signal.SIGTERM)  # the drain writes everything
    assert fresh.sql("SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cost_micro_usd) FROM usage_records") \
        == f"3|3000|600|{3 * PRICE.cost_micro(1000, 200)}"
    assert fresh.sql("SELECT DISTINCT user_name || ':' || cost_source FROM usage_records") == "alice:prices"
    assert fresh.sql("SELECT min(version), max(version) FROM schema_migrations") == "1|101"  # the ledger's, then the shared limits'
    # The same store answers the usage API after a restart.
    gw2 = gateway_factory(_config(mock, tmp_path, fresh), name="gw2")
    report = get(gw2, "/v1/usage?group_by=user", ALICE).json()
    assert report["totals"]["requests"] == 3 and report["totals"]["cost_micro_usd"] == 3 * PRICE.cost_micro(1000, 200)


def test_budget_spend_is_read_back_from_postgres(gateway_factory, mock, tmp_path, fresh):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(0, 100)}})
    limits = {"budget": {"usd": "0.02", "period": "month"}}   # two requests of $0.01 (output only)
    gw = gateway_factory(_config(mock, tmp_path, fresh, price=Price("0", "100"), alice_limits=limits))
    assert post(gw, messages_body(model=MODEL, max_tokens=100), ALICE).status == 200
    assert post(gw, messages_body(model=MODEL, max_tokens=100), ALICE).status == 200
    gw.stop(signal.SIGTERM)
    gw2 = gateway_factory(_config(mock, tmp_path, fresh, price=Price("0", "100"), alice_limits=limits), name="gw2")
    refused = post(gw2, messages_body(model=MODEL, max_tokens=100), ALICE)
    assert refused.status == 402 and error_of(refused)["type"] == "billing_error", refused
    assert "$0.02 of $0.02 this month" in error_of(refused)["message"]


def test_a_database_restart_loses_no_record(gateway_factory, mock, tmp_path, fresh):
    """PostgreSQL stops under a running gateway: requests keep succeeding, the records wait in
    memory, and once the database is back every one of them is written exactly once."""
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(10, 5)}})
    gw = gateway_factory(_config(mock, tmp_path, fresh))
    assert post(gw, messages_body(model=MODEL, max_tokens=10), ALICE).status == 200
    _wait(fresh, 1)
    fresh.stop()
    try:
        for _ in range(5):
            assert post(gw, messages_body(model=MODEL, max_tokens=10), ALICE).status == 200
        assert get(gw, "/health").status == 200
        # The writer has met the outage (its flush interval is 200 ms) before the database returns.
        deadline = time.time() + 10
        while "cannot write to the store" not in gw.stderr_path.read_text() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        fresh.start()
    _wait(fresh, 6, timeout=30)
    gw.stop(signal.SIGTERM)
    assert fresh.sql("SELECT count(*), count(DISTINCT request_id) FROM usage_records") == "6|6"
    assert "cannot write to the store" in gw.stderr_path.read_text()
