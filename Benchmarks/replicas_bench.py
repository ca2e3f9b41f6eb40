#!/usr/bin/env python3
"""Replicas benchmark behind Benchmarks/replicas.sh (see README.md, "Benchmarks/replicas.sh").

On this machine, with nginx as the fixed-response OpenAI upstream (as load_bench.py):
  A. one gateway, default SQLite ledger, a user token with limits that never refuse
     (rpm + concurrent): fixed-rate latency (RATE req/s) and wrk throughput + CPU/request
  B. two replicas sharing PostgreSQL (a throwaway initdb cluster), the same user limits, behind
     nginx (keep-alive upstream block): the same fixed-rate and wrk runs through nginx
  -  the same fixed-rate run directly against the upstream, for the added latency of A and B
  C. limiter accuracy: two replicas behind nginx, user rpm = RPM (3000), wrk over the limit for
     ACCURACY_DURATION (65) s; admissions read back from PostgreSQL (ledger rows with status 200,
     and the limiter's own admission events), the most in any sliding 60 s window vs the limit.
Env: DURATION (20), CONNECTIONS (32), THREADS (2), RATE (500), RATE_DURATION (15), RPM (3000),
ACCURACY_DURATION (65), ACCURACY_CONNECTIONS (= CONNECTIONS), NGINX_WORKERS (1), STATE_POOL
(unset: the gateway's default), SWITCHYARD_BIN.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "tests"))          # tests/pgcluster.py (stdlib only)
import benchlib as B  # noqa: E402
import pgcluster  # noqa: E402

USER = "bench"
HIGH_LIMITS = {"rpm": 1_000_000_000, "concurrent": 100_000}    # never refuse, but always checked
WINDOW_MS = 60_000


def env_num(name: str, default: float, smoke_value: float, smoke: bool) -> float:
    v = os.environ.get(name)
    if v:
        return float(v)
    return smoke_value if smoke else default


# --------------------------------------------------------------------------- CPU of process trees

def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, utime+stime seconds) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / B.CLK_TCK


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and its live direct children (nginx master + workers, the
    postmaster + its backends). A child that exits during a run takes its CPU with it."""
    total = 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        s = _stat(pid)
        if s and (pid == root or s[0] == root):
            total += s[1]
    return total


class CpuMeter:
    """CPU seconds of named groups of processes (gateway replicas, the balancer, PostgreSQL)."""

    def __init__(self, groups: dict[str, list]):
        self.groups = groups            # name -> [callable() -> seconds]

    def read(self) -> dict[str, float]:
        out = {}
        for name, readers in self.groups.items():
            try:
                out[name] = sum(r() for r in readers)
            except OSError:
                out[name] = float("nan")
        return out

    @staticmethod
    def per_request(before: dict, after: dict, requests: int) -> dict:
        if not requests:
            return {k: None for k in before}
        return {k: (after[k] - before[k]) * 1e6 / requests for k in before}


# --------------------------------------------------------------------------- load clients

def run_wrk(name: str, url: str, body: Path, wd: Path, threads: int, conns: int, duration: float,
            headers: dict, meter: CpuMeter | None) -> dict:
    summary = wd / f"wrk-{name}.json"
    summary.unlink(missing_ok=True)
    env = dict(os.environ, BODY_FILE=str(body), SUMMARY_FILE=str(summary))
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, int(round(duration)))}s", "--latency",
            "--timeout", "10s", "-s", str(HERE / "wrk" / "post_body.lua")]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(url)
    c0 = meter.read() if meter else {}
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 60)
    c1 = meter.read() if meter else {}
    (wd / f"wrk-{name}.txt").write_text(p.stdout + p.stderr)
    if p.returncode != 0 or not summary.exists():
        raise RuntimeError(f"wrk failed for {name} (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    s = json.loads(summary.read_text())
    s["rps"] = s["requests"] / (s["duration_us"] / 1e6) if s["duration_us"] else 0.0
    s["cpu_us_per_req"] = CpuMeter.per_request(c0, c1, s["requests"]) if meter else {}
    return s


def run_fixed(label: str, port: int, path: str, body: Path, wd: Path, rate: float, duration: float,
              warmup: float, headers: dict, meter: CpuMeter | None) -> dict:
    out = wd / f"fixed-{label}.json"
    argv = [sys.executable, str(HERE / "fixed_rate.py"), "--port", str(port), "--path", path,
            "--body", str(body), "--rate", str(rate), "--duration", str(duration), "--warmup", str(warmup),
            "--label", label, "--json", str(out)]
    for k, v in headers.items():
        argv += ["--header", f"{k}: {v}"]
    c0 = meter.read() if meter else {}
    p = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
    c1 = meter.read() if meter else {}
    if p.returncode != 0 or not out.exists():
        raise RuntimeError(f"fixed_rate.py failed for {label}:\n{p.stdout}{p.stderr}")
    r = json.loads(out.read_text())
    answered = sum(r["statuses"].values())          # warm-up included: the CPU covers it too
    r["cpu_us_per_req"] = CpuMeter.per_request(c0, c1, answered) if meter else {}
    return r


# --------------------------------------------------------------------------- gateways and nginx

def gateway_config(upstream: str, wd: Path, tag: str, state: dict, limits: dict, token: str,
                   capture: str | None = None) -> dict:
    providers = {"fixed-json": B.openai_provider(f"{upstream}/json/v1")}
    routes = [{"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "fixed-json", "model": "bench-model"}]}]
    if capture:
        providers["capture"] = B.openai_provider(f"{capture}/v1")
        routes.insert(0, {"name": "capture", "match": {"models": ["capture"]},
                          "targets": [{"provider": "capture", "model": "bench-model"}]})
    cfg = B.gateway_config(providers, routes, wd)
    cfg["state"] = state
    cfg["server"]["instance"] = tag
    cfg["auth"] = {"mode": "tokens"}
    cfg["users"] = [{"name": USER, "token_sha256": hashlib.sha256(token.encode()).hexdigest(), "limits": limits}]
    # access log to a file, as load_bench.py does (what a production file log costs)
    cfg["logging"]["access_log"] = str(wd / f"{tag}.access.log")
    return cfg


class Balancer(B.Child):
    """nginx in front of the replicas: the upstream block of tests/scaleout/scalekit.py Balancer
    and deploy/replicas/nginx-upstream.conf (keep-alive to the replicas, no buffering, next
    upstream on connection errors), copied here (scalekit imports the pytest suite). Unlike them,
    keepalive_requests is raised on both sides (nginx 1.19.10+ closes a keep-alive connection
    after 1000 requests), as the upstream nginx does, so wrk's connections are not re-opened."""

    def __init__(self, wd: Path, ports: list[int], workers: int = 1):
        d = wd / "balancer"
        d.mkdir(exist_ok=True)
        self.port = B.free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = d / "nginx.conf"
        conf.write_text(f"""# generated by Benchmarks/replicas_bench.py — load balancer for the replicas
{user}
worker_processes {workers};
worker_rlimit_nofile 65536;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_timeout 600s;
    keepalive_requests 100000000;
    upstream switchyard {{
{servers}
        keepalive 64;
        keepalive_requests 100000000;
    }}
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        client_max_body_size 64m;
        location / {{
            proxy_pass http://switchyard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 600s;
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        super().__init__("balancer", [nginx, "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")],
                         wd / "balancer.log")
        deadline = time.monotonic() + 15
        while True:
            try:
                if B.http_call(self.port, "GET", "/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"balancer nginx failed to start:\n{self.tail()}\n"
                                   f"{(d / 'error.log').read_text(errors='replace') if (d / 'error.log').exists() else ''}")
            time.sleep(0.05)


def start_gateway(cfg: dict, wd: Path, tag: str) -> B.Gateway:
    try:
        return B.Gateway(cfg, wd, tag)
    except RuntimeError as e:
        if "postgres" in json.dumps(cfg.get("state", {})) and "rejected" in str(e):
            raise RuntimeError(f"{e}\n(this binary may predate PostgreSQL shared state: build the current tree)") from e
        raise


def start_replicas(children: list, upstream: str, wd: Path, cluster, limits: dict, token: str,
                   phase: str, pool: int | None, workers: int) -> tuple[list[B.Gateway], Balancer]:
    state = {"url": cluster.url}
    if pool:
        state["pool"] = pool
    reps = []
    for i in (1, 2):
        tag = f"{phase}-replica-{i}"
        g = start_gateway(gateway_config(upstream, wd, tag, state, limits, token), wd, tag)
        children.append(g)
        reps.append(g)
    sub = wd / phase                      # the balancer's files, one folder per phase
    sub.mkdir(exist_ok=True)
    sub.chmod(0o755)
    lb = Balancer(sub, [r.port for r in reps], workers)
    children.append(lb)
    return reps, lb


def check_request(port: int, body: bytes, headers: dict, what: str) -> None:
    st, _, resp = B.http_call(port, "POST", "/v1/messages", body, {"content-type": "application/json", **headers})
    if st != 200 or b'"type":"message"' not in resp:
        raise RuntimeError(f"{what} answered {st}: {resp[:300]!r}")


def state_transitions(g: B.Gateway) -> int:
    """Lines the gateway logged about the shared state going away or coming back."""
    try:
        text = g.log.read_text(errors="replace")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if "shared state" in line and "PostgreSQL" in line)


# --------------------------------------------------------------------------- PostgreSQL

class PgCluster(pgcluster.Cluster):
    """tests/pgcluster.Cluster in our work dir, with a stop that never raises (cleanup)."""

    def postmaster_pid(self) -> int:
        return int((self.dir / "postmaster.pid").read_text().splitlines()[0])

    def safe_stop(self, keep_log: Path) -> None:
        try:
            self.stop()
        except Exception as e:                      # noqa: BLE001 — cleanup must go on
            print(f"warning: stopping PostgreSQL: {e}", file=sys.stderr)
            try:
                self.run(pgcluster._bin("pg_ctl"), "-D", str(self.dir), "-m", "immediate", "-w", "-t", "30", "stop")
            except Exception:                       # noqa: BLE001
                pass
        try:
            shutil.copy(self.dir / "server.log", keep_log)
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class EventPoller(threading.Thread):
    """Collects the limiter's own admission counts (limiter_counts: admissions of the scope per
    second) while a run goes on: the gateway deletes buckets older than 61 s every 10 s, so they
    are read every few seconds and the latest count of each second is kept. `finish` returns one
    timestamp (the second's start, in ms) per admission."""

    def __init__(self, cluster: PgCluster, scope: str, every: float):
        super().__init__(daemon=True)
        self.cluster, self.scope, self.every = cluster, scope, every
        self.buckets: dict[int, int] = {}
        self.stop_evt = threading.Event()
        self.error: str | None = None
        self.lock = threading.Lock()

    def poll(self) -> None:
        with self.lock:
            out = subprocess.run([pgcluster._bin("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.cluster.port),
                                  "-U", "postgres", "-d", "postgres", "-Atc",
                                  f"SELECT second, admissions FROM limiter_counts WHERE scope = '{self.scope}'"],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                self.error = out.stderr.strip()[:300]
                return
            for line in out.stdout.split():
                sec, _, n = line.partition("|")
                self.buckets[int(sec)] = max(self.buckets.get(int(sec), 0), int(n))

    def run(self) -> None:
        while not self.stop_evt.wait(self.every):
            self.poll()

    def finish(self) -> list[int]:
        self.stop_evt.set()
        self.join(60)
        self.poll()
        return sorted(t for sec, n in self.buckets.items() for t in [sec * 1000] * n)


def max_in_window(times_ms: list[int], window_ms: int = WINDOW_MS) -> tuple[int, int | None]:
    """The most timestamps in any window [t, t + window) and where it starts."""
    best, start, j = 0, None, 0
    for i, t in enumerate(times_ms):
        while j < len(times_ms) and times_ms[j] < t + window_ms:
            j += 1
        if j - i > best:
            best, start = j - i, t
    return best, start


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description="Switchyard replicas benchmark: SQLite vs PostgreSQL shared state, limiter accuracy")
    ap.add_argument("--smoke", action="store_true", help="a few seconds per step; checks the plumbing only")
    ap.add_argument("--skip-accuracy", action="store_true", help="skip part C (limiter accuracy, ~70 s)")
    ap.add_argument("--json", help="also write all results here as JSON")
    ap.add_argument("--strict", action="store_true", help="exit 3 when the limiter admitted more than the limit in a window")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    a = ap.parse_args()
    smoke = a.smoke
    duration = env_num("DURATION", 20, 1, smoke)
    conns = int(env_num("CONNECTIONS", 32, 8, smoke))
    threads = int(env_num("THREADS", 2, 2, smoke))
    rate = env_num("RATE", 500, 100, smoke)
    rate_duration = env_num("RATE_DURATION", 15, 2, smoke)
    warm = 0.5 if smoke else 1.0
    rpm = int(env_num("RPM", 3000, 50, smoke))
    acc_duration = env_num("ACCURACY_DURATION", 65, 3, smoke)
    acc_conns = int(env_num("ACCURACY_CONNECTIONS", conns, conns, smoke))
    nginx_workers = int(env_num("NGINX_WORKERS", 1, 1, smoke))
    pool = int(os.environ["STATE_POOL"]) if os.environ.get("STATE_POOL") else None
    binary = B.gateway_bin()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: run Benchmarks/setup.sh")
    if not pgcluster.available():
        sys.exit("PostgreSQL server binaries (initdb, postgres) are not installed: apt-get install postgresql")
    nofile = B.raise_nofile(65536)
    B.exit_on_sigterm()
    wd = B.workdir("switchyard-replicas-")

    def bench() -> int:
        token = "sk-sw-bench-" + secrets.token_hex(12)
        auth = {"x-api-key": token}
        if smoke:
            print(B.SMOKE_BANNER)
        release = "/release/" in binary
        print(f"binary: {binary}{'' if release else '  (not a release build path: numbers are only meaningful for a release build)'}")
        print(f"work dir: {wd}   cores: {os.cpu_count()}   nofile: {nofile}   load avg: "
              f"{open('/proc/loadavg').read().split()[:3]}")
        print(f"wrk: {threads} threads, {conns} connections, {duration:g} s per run; fixed rate: {rate:g} req/s for "
              f"{rate_duration:g} s (+{warm:g} s warm-up) per target; accuracy: rpm {rpm}, {acc_duration:g} s, "
              f"{acc_conns} connections{'' if not a.skip_accuracy else ' (skipped)'}", flush=True)

        children: list[B.Child] = []
        results: dict = {"smoke": smoke, "binary": binary, "cores": os.cpu_count(),
                         "loadavg_start": open("/proc/loadavg").read().split()[:3],
                         "params": {"duration_s": duration, "connections": conns, "threads": threads, "rate": rate,
                                    "rate_duration_s": rate_duration, "rpm_limit": rpm, "accuracy_duration_s": acc_duration,
                                    "accuracy_connections": acc_conns, "nginx_workers": nginx_workers, "state_pool": pool,
                                    "access_log": "file", "user_limits_ab": HIGH_LIMITS},
                         "direct": {}, "A": {}, "B": {}, "C": {}}
        failures: list[str] = []
        cluster: PgCluster | None = None

        def stop_children(group: list) -> None:
            for c in reversed(group):
                c.stop()
                if c in children:
                    children.remove(c)

        try:
            nginx = B.Nginx(wd, workers=nginx_workers)
            children.append(nginx)
            up = f"http://127.0.0.1:{nginx.port}"
            small_path = B.FIXTURES / "small-request.json"
            small = json.loads(small_path.read_bytes())

            # ------------------------------------------------------------- A: one gateway, SQLite
            capture = B.PyUpstream(wd, "capture")
            children.append(capture)
            gw = start_gateway(gateway_config(up, wd, "A-gateway", {"url": "sqlite:" + str(wd / "ledger.sqlite")},
                                              HIGH_LIMITS, token, f"http://127.0.0.1:{capture.port}"), wd, "A-gateway")
            children.append(gw)
            # the exact OpenAI body the gateway sends upstream, for the direct run
            st, _, resp = B.http_call(gw.port, "POST", "/v1/messages", json.dumps({**small, "model": "capture"}).encode(),
                                      {"content-type": "application/json", **auth})
            if st != 200:
                raise RuntimeError(f"capture request failed: {st} {resp[:300]!r}")
            direct_body = wd / "openai-json.json"
            direct_body.write_bytes(capture.last_request())
            stop_children([capture])
            check_request(gw.port, small_path.read_bytes(), auth, "gateway A")

            print(f"running fixed rate {rate:g} req/s, direct to the upstream ...", flush=True)
            results["direct"]["fixed_rate"] = run_fixed("direct", nginx.port, "/json/v1/chat/completions", direct_body, wd,
                                                        rate, rate_duration, warm, {}, None)
            meter_a = CpuMeter({"gateway": [gw.stats.cpu_seconds]})
            print(f"running A (one gateway, SQLite): fixed rate {rate:g} req/s ...", flush=True)
            results["A"]["fixed_rate"] = run_fixed("A", gw.port, "/v1/messages", small_path, wd, rate, rate_duration, warm,
                                                   auth, meter_a)
            print(f"running A (one gateway, SQLite): wrk ...", flush=True)
            results["A"]["wrk"] = run_wrk("A", f"http://127.0.0.1:{gw.port}/v1/messages", small_path, wd, threads, conns,
                                          duration, auth, meter_a)
            results["A"]["rejections"] = gw.metric("switchyard_limiter_rejections_total") or 0
            if not gw.alive():
                failures.append("A: the gateway died during the run")
            stop_children([gw])

            # ------------------------------------------------------------- PostgreSQL
            cluster = PgCluster(wd)
            print(f"starting PostgreSQL (initdb in {cluster.dir}, port {cluster.port}) ...", flush=True)
            cluster.init()
            cluster.start()
            pg_pid = cluster.postmaster_pid()

            # ------------------------------------------------------------- B: two replicas + PostgreSQL
            reps, lb = start_replicas(children, up, wd, cluster, HIGH_LIMITS, token, "B", pool, nginx_workers)
            if not cluster.sql("SELECT to_regclass('limiter_counts')"):
                raise RuntimeError(f"{binary} does not share limits through PostgreSQL (no limiter_counts table after "
                                   f"it migrated the schema): it predates scale-out; build the current tree")
            check_request(lb.port, small_path.read_bytes(), auth, "the balancer (B)")
            meter_b = CpuMeter({"gateway": [r.stats.cpu_seconds for r in reps],
                                "balancer": [lambda: tree_cpu(lb.pid)],
                                "postgres": [lambda: tree_cpu(pg_pid)]})
            scope = f"user:{USER}"

            def events_in_window() -> int:
                return int(cluster.sql(f"SELECT coalesce(sum(admissions), 0) FROM limiter_counts WHERE scope = '{scope}' "
                                       f"AND second >= extract(epoch from clock_timestamp())::bigint - 60") or 0)

            print(f"running B (2 replicas + PostgreSQL, via nginx): fixed rate {rate:g} req/s ...", flush=True)
            ev0 = events_in_window()
            results["B"]["fixed_rate"] = run_fixed("B", lb.port, "/v1/messages", small_path, wd, rate, rate_duration, warm,
                                                   auth, meter_b)
            ev1 = events_in_window()
            print(f"running B (2 replicas + PostgreSQL, via nginx): wrk ...", flush=True)
            results["B"]["wrk"] = run_wrk("B", f"http://127.0.0.1:{lb.port}/v1/messages", small_path, wd, threads, conns,
                                          duration, auth, meter_b)
            ev2 = events_in_window()
            # slots (leases) still held right after wrk ended: settlements each replica has not
            # written yet (it writes them one at a time, off the request path)
            leases = [int(cluster.sql(f"SELECT count(*) FROM limiter_leases WHERE scope = '{scope}'") or 0)]
            time.sleep(2.0)
            leases.append(int(cluster.sql(f"SELECT count(*) FROM limiter_leases WHERE scope = '{scope}'") or 0))
            results["B"]["leases_held_after_wrk"] = {"at_end": leases[0], "after_2s": leases[1]}
            # the rpm check counts the scope's admissions of the last 60 s on every admission
            results["B"]["limiter_admissions_in_window"] = {"before_fixed_rate": ev0, "after_fixed_rate": ev1, "after_wrk": ev2}
            results["B"]["per_replica_requests"] = [r.metric("switchyard_requests_total") for r in reps]
            results["B"]["rejections"] = sum(r.metric("switchyard_limiter_rejections_total") or 0 for r in reps)
            results["B"]["state_up"] = [r.metric("switchyard_state_up") for r in reps]
            results["B"]["state_transitions_logged"] = sum(state_transitions(r) for r in reps)
            for r in reps:
                if not r.alive():
                    failures.append(f"B: {r.name} died during the run")
            if results["B"]["state_transitions_logged"] or any(v == 0 for v in results["B"]["state_up"]):
                failures.append("B: a replica lost PostgreSQL during the run (it fell back to its own counters); "
                                "see the replica logs")
            stop_children([lb] + reps)

            # ------------------------------------------------------------- C: limiter accuracy
            if not a.skip_accuracy:
                pgcluster.drop_all(cluster)           # a fresh schema: nothing of B counts against the limit
                limits = {"rpm": rpm}
                reps, lb = start_replicas(children, up, wd, cluster, limits, token, "C", pool, nginx_workers)
                poller = EventPoller(cluster, scope, 1.0 if smoke else 5.0)
                poller.start()
                print(f"running C (limiter accuracy: rpm {rpm}, wrk -c{acc_conns} for {acc_duration:g} s) ...", flush=True)
                try:
                    w = run_wrk("C", f"http://127.0.0.1:{lb.port}/v1/messages", small_path, wd, threads, acc_conns,
                                acc_duration, auth, None)
                finally:
                    admissions = poller.finish()
                c = results["C"]
                c["wrk"] = w
                c["limit_rpm"] = rpm
                c["rejections_metric"] = sum(r.metric("switchyard_limiter_rejections_total") or 0 for r in reps)
                c["state_up"] = [r.metric("switchyard_state_up") for r in reps]
                c["state_transitions_logged"] = sum(state_transitions(r) for r in reps)
                for r in reps:
                    if not r.alive():
                        failures.append(f"C: {r.name} died during the run")
                stop_children([lb] + reps)            # SIGTERM: each replica writes its queued ledger rows
                ok_ts = [int(x) for x in cluster.sql(f"SELECT ts_ms FROM usage_records WHERE status = 200 AND user_name = '{USER}' "
                                                     "ORDER BY ts_ms").split()]
                by_status = dict(line.split("|") for line in cluster.sql(
                    f"SELECT status, count(*) FROM usage_records WHERE user_name = '{USER}' GROUP BY status").split())
                c["ledger_by_status"] = {k: int(v) for k, v in by_status.items()}
                c["admitted_ledger"] = len(ok_ts)
                c["admitted_events"] = len(admissions)
                # Per-second buckets: any 61 consecutive seconds bound every 60 s window from above.
                c["max_window_admissions"], start_a = max_in_window(admissions, WINDOW_MS + 1000)
                c["max_window_ledger"], start_l = max_in_window(ok_ts)
                if admissions:
                    c["max_window_admissions_start_s"] = (start_a - admissions[0]) / 1000
                    c["admissions_span_s"] = (admissions[-1] - admissions[0]) / 1000
                if ok_ts:
                    c["max_window_ledger_start_s"] = (start_l - ok_ts[0]) / 1000
                c["event_poll_error"] = poller.error
                # the most an exact sliding 60 s limit admits in the run: rpm per started minute
                c["upper_bound_in_run"] = rpm * (int(acc_duration // 60) + 1)
                if poller.error:
                    failures.append(f"C: reading limiter_counts failed: {poller.error}")
                if c["state_transitions_logged"] or any(v == 0 for v in c["state_up"]):
                    failures.append("C: a replica lost PostgreSQL during the run (it fell back to its own counters)")
                if w["errors"]["status"] == 0:
                    failures.append("C: wrk saw no refusal: the load did not exceed the limit")
                if len(admissions) != len(ok_ts):
                    print(f"NOTE: {len(admissions)} admission events but {len(ok_ts)} ledger rows with status 200")
        finally:
            for c in reversed(children):
                c.stop()
            if cluster is not None:
                cluster.safe_stop(wd / "postgres-server.log")

        # ------------------------------------------------------------------ report
        print()
        if smoke:
            print(B.SMOKE_BANNER)

        def us(x):
            return "-" if x is None or x != x else f"{x:.1f} µs"

        rows = []
        for key, label in (("A", "A. one gateway, SQLite"), ("B", "B. 2 replicas + PostgreSQL, via nginx")):
            r = results[key].get("wrk")
            if not r:
                continue
            errs = r["errors"]
            nerr = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
            cpu = r["cpu_us_per_req"]
            rows.append([label, f"{r['rps']:,.0f}", f"{r['latency_us']['p50'] / 1000:.3f} ms",
                         f"{r['latency_us']['p99'] / 1000:.3f} ms", f"{errs['status']}/{nerr}",
                         us(cpu.get("gateway")), us(cpu.get("balancer")), us(cpu.get("postgres"))])
            if errs["status"] or nerr:
                failures.append(f"{key} wrk: {errs['status']} non-2xx responses, {nerr} socket errors")
            if r["requests"] == 0:
                failures.append(f"{key} wrk: no request completed")
        if rows:
            print(B.table(["wrk (closed loop)", "req/s", "p50", "p99", "non2xx/sockerr", "gateway CPU/req",
                           "nginx LB CPU/req", "PostgreSQL CPU/req"], rows,
                          title=f"throughput: wrk -t{threads} -c{conns} -d{duration:g}s, non-streaming small request"))
            A, Bw = results["A"].get("wrk"), results["B"].get("wrk")
            if A and Bw and A["rps"]:
                results["throughput_ratio_B_over_A"] = Bw["rps"] / A["rps"]
                print(f"B / A throughput: {Bw['rps'] / A['rps']:.1%}. gateway CPU/req of B is both replicas together; "
                      f"CPU = utime+stime from /proc during the run / requests ({1e6 / B.CLK_TCK:.0f} µs tick).")

        fd = results["direct"].get("fixed_rate")
        if fd:
            rows = []
            base = fd["latency_ms"]
            for label, f in (("direct to the upstream", fd), ("A. one gateway, SQLite", results["A"].get("fixed_rate")),
                             ("B. 2 replicas + PostgreSQL, via nginx", results["B"].get("fixed_rate"))):
                if not f:
                    continue
                L = f["latency_ms"]
                add = "" if f is fd else f"{L['p50'] - base['p50']:+.3f} / {L['p99'] - base['p99']:+.3f} ms"
                cpu = f.get("cpu_us_per_req") or {}
                rows.append([label, f"{f['achieved_rate']:,.0f}/s", f"{f['ok']}/{f['sent']}", f"{L['p50']:.3f} ms",
                             f"{L['p90']:.3f} ms", f"{L['p99']:.3f} ms", f"{L['max']:.3f} ms", add, f["peak_connections"],
                             us(cpu.get("gateway")), us(cpu.get("postgres"))])
                if f["ok"] < f["sent"]:
                    failures.append(f"fixed rate {f['label']}: {f['sent'] - f['ok']} of {f['sent']} requests failed or "
                                    f"unanswered {f['errors']} {f['statuses']}")
            print()
            print(B.table(["fixed rate (open loop)", "achieved", "ok/sent", "p50", "p90", "p99", "max",
                           "added p50 / p99", "conns", "gateway CPU/req", "PostgreSQL CPU/req"], rows,
                          title=f"latency: {rate:g} req/s for {rate_duration:g} s per target (Benchmarks/fixed_rate.py)"))
            fa, fb = results["A"].get("fixed_rate"), results["B"].get("fixed_rate")
            if fa and fb:
                results["added_latency_ms"] = {
                    "A": {"p50": fa["latency_ms"]["p50"] - base["p50"], "p99": fa["latency_ms"]["p99"] - base["p99"]},
                    "B": {"p50": fb["latency_ms"]["p50"] - base["p50"], "p99": fb["latency_ms"]["p99"] - base["p99"]},
                    "B_minus_A": {"p50": fb["latency_ms"]["p50"] - fa["latency_ms"]["p50"],
                                  "p99": fb["latency_ms"]["p99"] - fa["latency_ms"]["p99"]}}
                d = results["added_latency_ms"]["B_minus_A"]
                print(f"shared state vs SQLite (B − A): p50 {d['p50']:+.3f} ms, p99 {d['p99']:+.3f} ms — B includes the nginx "
                      f"hop and two replicas sharing the cores; A is one gateway without nginx.")
                ev = results["B"].get("limiter_admissions_in_window")
                if ev:
                    print(f"B: the user's admissions in the last 60 s (counted by every rpm check): {ev['before_fixed_rate']} "
                          f"before the fixed-rate run, {ev['after_fixed_rate']} after it, {ev['after_wrk']} after wrk.")
                lh = results["B"].get("leases_held_after_wrk")
                if lh:
                    print(f"B: concurrent slots still held when wrk ended: {lh['at_end']}, 2 s later: {lh['after_2s']} "
                          f"(settlements not yet written; wrk had {conns} connections).")
            low = [f["label"] for f in (fd, fa, fb) if f and f["achieved_rate"] < 0.95 * rate]
            if low:
                print(f"NOTE: the Python client did not sustain {rate:g} req/s for {', '.join(low)}; latencies are for "
                      f"the achieved rate.")

        c = results["C"]
        checks = []
        if c.get("wrk"):
            w = c["wrk"]
            m_a, m_l = c["max_window_admissions"], c["max_window_ledger"]
            print()
            rows = [
                ["limit (user rpm, shared by both replicas)", f"{rpm}"],
                ["requests wrk completed / refused (non-2xx)", f"{w['requests']} / {w['errors']['status']}"],
                ["ledger rows by status", ", ".join(f"{k}: {v}" for k, v in sorted(c["ledger_by_status"].items())) or "-"],
                ["admitted in the run (ledger, status 200)", f"{c['admitted_ledger']}"],
                ["admitted in the run (limiter admission events)", f"{c['admitted_events']}"],
                [f"at most in the run with an exact 60 s window", f"{c['upper_bound_in_run']}"],
                ["max admitted in any 60 s window (admission time)", f"{m_a}"],
                ["max status-200 rows in any 60 s window (ledger ts_ms)", f"{m_l}"],
                ["PostgreSQL lost during the run (log lines)", f"{c['state_transitions_logged']}"],
            ]
            print(B.table(["limiter accuracy", "value"], rows,
                          title=f"limiter accuracy: 2 replicas via nginx, wrk -t{threads} -c{acc_conns} -d{acc_duration:g}s"))
            print("admission time = the second switchyard_admit counted it in (limiter_counts); the ledger's ts_ms "
                  "is when the request ended, so its windows can differ from the admissions' by requests finishing "
                  "just across a window edge.")
            checks.append([f"rpm {rpm} exact across replicas: max admissions in any 60 s ≤ {rpm}", f"{m_a}", m_a <= rpm])
            checks.append([f"ledger: max status-200 rows in any 60 s ≤ {rpm}", f"{m_l}", m_l <= rpm])
            print()
            print(B.table(["check", "measured", "verdict"], [[x[0], x[1], B.verdict(x[2], smoke)] for x in checks]))
        missed = [x for x in checks if x[2] is False]
        results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        if B.report_results(results, checks, failures, a.json, wd, binary):
            return 1
        if a.strict and missed and not smoke:
            return 3
        return 0

    done = False
    try:
        rc = bench()
        done = rc != 1
        return rc
    finally:                                  # a broken run, Ctrl-C and SIGTERM too: processes are stopped by now
        if a.keep:
            print(f"work dir kept: {wd}")
        else:
            shutil.rmtree(wd, ignore_errors=True)
            if not done:
                print(f"work dir {wd} removed (--keep keeps it, with the logs)", file=sys.stderr)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, AssertionError) as e:
        print(f"\nreplicas benchmark failed: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
