"""Two replicas and a PostgreSQL behave as one gateway (scale-out.md): limits and budgets hold
across replicas, any replica sees the whole ledger, a database outage fails no request and loses
no record, a killed replica's slots come back, a rolling restart fails no request, and a target
one replica saw failing is skipped by the other."""
import json
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN
from pgcluster import cluster, drop_all  # noqa: F401  (cluster is a fixture)
from scalekit import (ALICE, ROOT_ADMIN, Balancer, Price, Replica, error_of, fire, get, messages_body, nginx_available, openai_usage,
                      post, shared_config, wait_rows)

# Fixtures live here, not in a conftest.py of this folder: a second module named `conftest`
# would shadow tests/conftest.py for the suites that import from it.

@pytest.fixture
def fresh(cluster):
    if not cluster.running:
        cluster.start()
    drop_all(cluster)
    return cluster


@pytest.fixture
def replicas(tmp_path, fresh):
    """A function that starts two replicas with one config (each its own instance name); they
    are stopped at the end."""
    made = []

    def start(config: dict) -> list:
        for name in ("gw-a", "gw-b"):
            cfg = dict(config)
            cfg["server"] = dict(cfg.get("server", {}), instance=name)
            made.append(Replica(cfg, tmp_path, name))
        return made[-2:]
    yield start
    for r in made:
        r.stop(signal.SIGTERM, timeout=10)


@pytest.fixture
def balancer(tmp_path):
    if not nginx_available():
        pytest.skip("nginx is not installed (scripts/test installs Debian's nginx)")
    made = []

    def start(gateways) -> Balancer:
        b = Balancer(tmp_path, [g.port for g in gateways])
        made.append(b)
        return b
    yield start
    for b in made:
        b.stop()




def _chat(mock, usage=(10, 5), **reply):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok", "usage": openai_usage(*usage), **reply}})


def test_rpm_is_exact_across_replicas(mock, tmp_path, fresh, replicas, balancer):
    _chat(mock)
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"rpm": 10}))
    lb = balancer([a, b])
    # Through the balancer and straight to each replica, in parallel: 10 admissions in all.
    jobs = [(ALICE, messages_body())] * 10
    statuses = [r.status for r in fire(lb, jobs) + fire(a, jobs) + fire(b, jobs)]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 20, statuses
    refused = post(a, messages_body(), ALICE)
    assert refused.status == 429 and "shared by every replica" in error_of(refused)["message"]
    assert int(refused.headers["retry-after"]) >= 1


def test_concurrent_slots_are_held_across_replicas(mock, tmp_path, fresh, replicas, balancer):
    _chat(mock, delay_before_ms=1500)
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"concurrent": 2}))
    lb = balancer([a, b])
    results = [r.status for r in fire([a, b, lb, lb, lb, lb], [(ALICE, messages_body())] * 6)]
    assert sorted(results) == [200, 200, 429, 429, 429, 429], results
    # Released at the end: both replicas admit again.
    mock.reset()
    _chat(mock)
    assert post(a, messages_body(), ALICE).status == 200
    assert post(b, messages_body(), ALICE).status == 200


def test_a_budget_cannot_be_overshot_from_two_replicas(mock, tmp_path, fresh, replicas, balancer):
    # Output only, $100/M: 100 tokens cost $0.01, and max_tokens 100 reserves exactly that.
    _chat(mock, usage=(0, 100))
    limits = {"budget": {"usd": "0.05", "period": "month"}}
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits=limits, prices={"*": Price("0", "100")}))
    lb = balancer([a, b])
    jobs = [(ALICE, messages_body(max_tokens=100))] * 6
    statuses = [r.status for r in fire(lb, jobs) + fire(a, jobs)]
    assert statuses.count(200) == 5, statuses
    assert statuses.count(402) == 7, statuses
    refused = post(b, messages_body(max_tokens=100), ALICE)
    assert refused.status == 402 and error_of(refused)["type"] == "billing_error"
    assert "$0.05 of $0.05 this month" in error_of(refused)["message"]
    # Every replica shows the shared figures (spend from both replicas' requests).
    for gw in (a, b):
        budget = get(gw, "/v1/usage/budget", ALICE).json()["budgets"][0]
        assert (budget["spent_usd"], budget["reserved_usd"], budget["remaining_usd"]) == (0.05, 0, 0), budget


def test_the_ledger_is_the_same_from_either_replica_and_the_cli(mock, tmp_path, fresh, replicas, balancer):
    _chat(mock, usage=(1000, 200))
    config = shared_config(mock, tmp_path, fresh)
    a, b = replicas(config)
    lb = balancer([a, b])
    for gw in (a, b, lb, lb, a, lb, b):
        assert post(gw, messages_body(), ALICE).status == 200
    assert wait_rows(fresh, 7) == 7
    assert fresh.sql("SELECT string_agg(DISTINCT instance, ',' ORDER BY instance) FROM usage_records") == "gw-a,gw-b"
    cost = 7 * Price("1", "100").cost_micro(1000, 200)
    for gw in (a, b):
        totals = get(gw, "/v1/usage?group_by=user", ROOT_ADMIN).json()["totals"]
        assert totals["requests"] == 7 and totals["cost_micro_usd"] == cost, totals
    out = subprocess.run([BIN, "usage", "--config", str(a.config_path), "--format", "json"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["totals"]["requests"] == 7


def test_postgres_down_and_back_under_load_fails_nothing_and_loses_nothing(mock, tmp_path, fresh, replicas, balancer):
    _chat(mock)
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"rpm": 100000}))
    lb = balancer([a, b])
    statuses: list[int] = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            statuses.append(post(lb, messages_body(), ALICE).status)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1)
    fresh.stop()
    time.sleep(3)
    fresh.start()
    time.sleep(3)
    stop.set()
    for w in workers:
        w.join(30)
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))
    assert wait_rows(fresh, len(statuses), timeout=30) == len(statuses)
    assert fresh.sql("SELECT count(DISTINCT request_id) FROM usage_records") == str(len(statuses))
    # Each replica said it once, and said when it was back.
    for r in (a, b):
        log = r.stderr()
        assert log.count("shared state: PostgreSQL does not answer") <= 1
    assert any("PostgreSQL answers again" in r.stderr() for r in (a, b))
    metrics = get(a, "/metrics").text
    assert "switchyard_state_up 1" in metrics


def test_state_unavailable_closed_refuses_limited_requests_while_down(mock, tmp_path, fresh, replicas):
    _chat(mock)
    a, _ = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"rpm": 1000}, state_extra={"unavailable": "closed"}))
    assert post(a, messages_body(), ALICE).status == 200
    fresh.stop()
    try:
        refused = post(a, messages_body(), ALICE)
        assert refused.status == 529 and "state.unavailable is closed" in error_of(refused)["message"], refused
        assert "switchyard_state_up 0" in get(a, "/metrics").text
    finally:
        fresh.start()


def test_a_killed_replicas_slots_come_back(mock, tmp_path, fresh, replicas):
    mock.script({"times": 1, "reply": {"type": "chat", "content": "slow", "delay_before_ms": 120000}})
    mock.script({"times": -1, "reply": {"type": "chat", "content": "ok", "usage": openai_usage(1, 1)}})
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"concurrent": 1}))
    def hold():
        try:
            post(a, messages_body(), ALICE, timeout=200)
        except OSError:
            pass  # its replica is killed under it

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    deadline = time.time() + 10
    while fresh.sql("SELECT count(*) FROM limiter_leases") != "1" and time.time() < deadline:
        time.sleep(0.05)
    assert post(b, messages_body(), ALICE).status == 429
    a.stop(signal.SIGKILL)
    started = time.time()
    while post(b, messages_body(), ALICE).status != 200:
        assert time.time() - started < 45, "the dead replica's slot was not released"
        time.sleep(1)
    elapsed = time.time() - started
    print(f"slot free again {elapsed:.1f} s after the kill")
    # A slot's lease runs 30 s past its last renewal, and the last renewal was before the kill.
    assert elapsed <= 33, elapsed


def test_a_rolling_restart_fails_no_request(mock, tmp_path, fresh, replicas, balancer):
    _chat(mock)
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"rpm": 100000}))
    lb = balancer([a, b])
    statuses: list = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            try:
                statuses.append(post(lb, messages_body(), ALICE).status)
            except OSError as e:
                statuses.append(repr(e))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    for r in (a, b):
        time.sleep(1)
        assert r.stop(signal.SIGTERM) == 0
        r.start()
        # As an operator would: the next replica goes only once nginx sends this one traffic again.
        deadline = time.time() + 20
        while len(r.stdout_path.read_text().splitlines()) < 20 and time.time() < deadline:
            time.sleep(0.1)
    time.sleep(1)
    stop.set()
    for w in workers:
        w.join(30)
    assert len(statuses) > 50
    assert all(s == 200 for s in statuses), [s for s in statuses if s != 200][:5]


def test_a_target_failing_on_one_replica_is_skipped_by_the_other(mock, tmp_path, fresh, replicas):
    mock.script({"match": {"model": "mock/broken"}, "times": -1, "reply": {"type": "error", "status": 500}})
    mock.script({"match": {"model": "mock/good"}, "times": -1, "reply": {"type": "chat", "content": "ok", "usage": openai_usage(1, 1)}})
    routes = [{"name": "default", "match": {"models": ["*"]},
               "targets": [{"provider": "mock", "model": "mock/broken"}, {"provider": "mock", "model": "mock/good"}]}]
    a, b = replicas(shared_config(mock, tmp_path, fresh, routes=routes,
                                  fallback={"on": ["server_error"], "cooldown": "60s", "retries_per_target": 0}))
    assert post(a, messages_body(), ALICE).status == 200
    tried = [r["body"]["model"] for r in mock.requests()]
    assert tried == ["mock/broken", "mock/good"], tried
    deadline = time.time() + 10
    while fresh.sql("SELECT count(*) FROM target_cooldowns") != "1" and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # replicas adopt the others' cooldowns every second
    mock.reset()
    mock.script({"match": {"model": "mock/good"}, "times": -1, "reply": {"type": "chat", "content": "ok", "usage": openai_usage(1, 1)}})
    assert post(b, messages_body(), ALICE).status == 200
    assert [r["body"]["model"] for r in mock.requests()] == ["mock/good"]


def test_state_migrate_creates_the_schema(mock, tmp_path, fresh):
    config = shared_config(mock, tmp_path, fresh)
    path = tmp_path / "migrate.yaml"
    path.write_text(json.dumps(config))
    for _ in range(2):  # idempotent
        out = subprocess.run([BIN, "state", "migrate", "--config", str(path)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "schema is up to date" in out.stdout
        assert "password" not in out.stdout
    assert fresh.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,101"
    assert fresh.sql("SELECT count(*) FROM pg_proc WHERE proname IN ('switchyard_admit', 'switchyard_settle')") == "2"


def test_records_of_a_replica_stopped_while_postgres_is_down_are_spooled_and_written_at_its_next_start(mock, tmp_path, fresh, replicas):
    _chat(mock)
    a, _ = replicas(shared_config(mock, tmp_path, fresh))
    assert post(a, messages_body(), ALICE).status == 200
    assert wait_rows(fresh, 1) == 1
    fresh.stop()
    try:
        for _ in range(4):
            assert post(a, messages_body(), ALICE).status == 200
        assert a.stop(signal.SIGTERM) == 0
        spool = tmp_path / "data" / "ledger-spool.jsonl"
        assert spool.exists() and len(spool.read_text().splitlines()) == 4
        assert "spooled to disk" in a.stderr()
    finally:
        fresh.start()
    a.start()
    assert wait_rows(fresh, 5) == 5
    assert fresh.sql("SELECT count(DISTINCT request_id) FROM usage_records") == "5"
    deadline = time.time() + 10
    while spool.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not spool.exists()


def test_tpm_is_reserved_across_replicas_and_settled_to_the_real_count(mock, tmp_path, fresh, replicas, balancer):
    # Each request reserves its prompt estimate plus max_tokens (100), about 120 tokens; it really
    # uses 15. At tpm 400 three reservations fit at once, a fourth does not.
    _chat(mock, usage=(10, 5), delay_before_ms=1500)
    a, b = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"tpm": 400}))
    lb = balancer([a, b])
    statuses = [r.status for r in fire([lb, lb, lb, a, a, b], [(ALICE, messages_body(max_tokens=100))] * 6)]
    assert sorted(statuses) == [200, 200, 200, 429, 429, 429], statuses
    # Settled to 15 tokens each: there is room again, which the reservations alone would not leave.
    deadline = time.time() + 10
    while time.time() < deadline and int(fresh.sql("SELECT coalesce(sum(tokens), 0) FROM limiter_counts") or 0) > 100:
        time.sleep(0.1)
    assert fresh.sql("SELECT sum(tokens) FROM limiter_counts") == "45"
    mock.reset()
    _chat(mock, usage=(10, 5))
    assert post(b, messages_body(max_tokens=100), ALICE).status == 200


def test_a_request_larger_than_the_whole_shared_tpm_is_refused_for_good(mock, tmp_path, fresh, replicas):
    _chat(mock)
    a, _ = replicas(shared_config(mock, tmp_path, fresh, alice_limits={"tpm": 50}))
    refused = post(a, messages_body(max_tokens=100), ALICE)
    assert refused.status == 429 and refused.headers.get("x-should-retry") == "false", refused
    assert "request too large for the tpm limit" in error_of(refused)["message"]
    assert mock.requests() == []
