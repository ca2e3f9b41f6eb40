#!/usr/bin/env python3
"""Load benchmark orchestrator behind Benchmarks/load.sh (see README.md).

One run: nginx as the fixed-response OpenAI upstream, the gateway in front of it, then
  (a) wrk → upstream directly, non-streaming (the translated OpenAI body the gateway would send)
  (b) wrk → gateway → upstream, non-streaming (fixtures/small-request.json)
  (c) wrk → gateway → upstream, streaming (small request with stream:true; nginx SSE answer)
  (d) wrk → upstream directly, streaming
  (e) wrk → gateway, streaming, fixtures/claude-code-request.json (180 KB; information only)
then the open-loop fixed-rate client at RATE req/s, directly and through the gateway.
Prints a table and the budget verdicts.  Env: DURATION (20), CONNECTIONS (32), THREADS (2),
RATE (1000), RATE_DURATION (15), NGINX_WORKERS (1), SWITCHYARD_BIN.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as B  # noqa: E402

BUDGET_RATIO = 0.25          # translated non-streaming throughput ≥ 25 % of direct
BUDGET_CPU_US = 60.0         # ≤ 60 µs gateway CPU per translated small request
BUDGET_ADD_P50_MS = 0.15     # added latency at 1k req/s
BUDGET_ADD_P99_MS = 0.5
BUDGET_IDLE_RSS_MB = 30.0


def env_num(name: str, default: float, smoke_value: float, smoke: bool) -> float:
    v = os.environ.get(name)
    if v:
        return float(v)
    return smoke_value if smoke else default


def run_wrk(name: str, url: str, body: Path, wd: Path, threads: int, conns: int, duration: float,
            gw: B.Gateway | None) -> dict:
    summary = wd / f"wrk-{name}.json"
    summary.unlink(missing_ok=True)
    env = dict(os.environ, BODY_FILE=str(body), SUMMARY_FILE=str(summary))
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, int(round(duration)))}s", "--latency",
            "--timeout", "10s", "-s", str(B.HERE / "wrk" / "post_body.lua"), url]
    if gw:
        gw.stats.reset_hwm()            # VmHWM then shows this run's peak (when the kernel allows it)
    cpu0 = gw.stats.cpu_seconds() if gw else 0.0
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 60)
    cpu1 = gw.stats.cpu_seconds() if gw else 0.0
    (wd / f"wrk-{name}.txt").write_text(p.stdout + p.stderr)
    if p.returncode != 0 or not summary.exists():
        raise RuntimeError(f"wrk failed for {name} (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    s = json.loads(summary.read_text())
    s["rps"] = s["requests"] / (s["duration_us"] / 1e6) if s["duration_us"] else 0.0
    s["cpu_s"] = cpu1 - cpu0
    s["cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / s["requests"] if gw and s["requests"] else None
    if gw:
        s["rss_mb"], s["hwm_mb"] = gw.stats.rss_mb(), gw.stats.hwm_mb()
    return s


def run_fixed(label: str, port: int, path: str, body: Path, wd: Path, rate: float, duration: float,
              warmup: float) -> dict:
    out = wd / f"fixed-{label}.json"
    argv = [sys.executable, str(B.HERE / "fixed_rate.py"), "--port", str(port), "--path", path,
            "--body", str(body), "--rate", str(rate), "--duration", str(duration), "--warmup", str(warmup),
            "--label", label, "--json", str(out)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
    if p.returncode != 0 or not out.exists():
        raise RuntimeError(f"fixed_rate.py failed for {label}:\n{p.stdout}{p.stderr}")
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description="Switchyard load benchmark (wrk + fixed-rate)")
    ap.add_argument("--smoke", action="store_true", help="a few seconds in total; checks the plumbing only")
    ap.add_argument("--no-fixed-rate", action="store_true", help="skip the fixed-rate latency runs")
    ap.add_argument("--no-large", action="store_true", help="skip run (e), the Claude Code-sized request")
    ap.add_argument("--json", help="also write all results here as JSON")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a budget is missed")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    a = ap.parse_args()
    smoke = a.smoke
    duration = env_num("DURATION", 20, 1, smoke)
    conns = int(env_num("CONNECTIONS", 32, 8, smoke))
    threads = int(env_num("THREADS", 2, 2, smoke))
    rate = env_num("RATE", 1000, 200, smoke)
    rate_duration = env_num("RATE_DURATION", 15, 2, smoke)
    nginx_workers = int(env_num("NGINX_WORKERS", 1, 1, smoke))
    binary = B.gateway_bin()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: run Benchmarks/setup.sh")
    nofile = B.raise_nofile(65536)
    B.exit_on_sigterm()
    wd = B.workdir("switchyard-load-")
    if smoke:
        print(B.SMOKE_BANNER)
    print(f"binary: {binary}{'  (DEBUG BUILD: numbers are meaningless)' if B.is_debug_build(binary) else ''}")
    print(f"work dir: {wd}   cores: {os.cpu_count()}   nofile: {nofile}   load avg: "
          f"{open('/proc/loadavg').read().split()[:3]}")
    print(f"wrk: {threads} threads, {conns} connections, {duration:g} s per run; fixed rate: {rate:g} req/s "
          f"for {rate_duration:g} s per target", flush=True)

    children: list[B.Child] = []
    results: dict = {"smoke": smoke, "binary": binary, "wrk": {}, "fixed_rate": {}}
    failures: list[str] = []
    try:
        nginx = B.Nginx(wd, workers=nginx_workers)
        children.append(nginx)
        capture = B.PyUpstream(wd, "capture")
        children.append(capture)
        up = f"http://127.0.0.1:{nginx.port}"
        cfg = B.gateway_config(
            {"fixed-json": B.openai_provider(f"{up}/json/v1"),
             "fixed-sse": B.openai_provider(f"{up}/sse/v1"),
             "capture": B.openai_provider(f"http://127.0.0.1:{capture.port}/v1")},
            [{"name": "capture", "match": {"models": ["capture"]}, "targets": [{"provider": "capture", "model": "bench-model"}]},
             {"name": "stream", "match": {"models": ["bench-stream"]}, "targets": [{"provider": "fixed-sse", "model": "bench-model"}]},
             {"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "fixed-json", "model": "bench-model"}]}],
            wd)
        gw = B.Gateway(cfg, wd)
        children.append(gw)
        time.sleep(1.0)
        idle_rss = gw.stats.rss_mb()
        results["idle_rss_mb"] = idle_rss

        # request bodies: the small request as-is, its streaming variant, and the exact OpenAI
        # bodies the gateway sends upstream for them (captured), for the direct runs
        small = json.loads((B.FIXTURES / "small-request.json").read_bytes())
        bodies = {"small": B.FIXTURES / "small-request.json"}
        for name, patch in (("openai-json", {"model": "capture"}),
                            ("openai-sse", {"model": "capture", "stream": True})):
            st, _, resp = B.http_call(gw.port, "POST", "/v1/messages", json.dumps({**small, **patch}).encode(),
                                      {"content-type": "application/json"})
            if st != 200:
                raise RuntimeError(f"capture request failed: {st} {resp[:300]!r}")
            bodies[name] = wd / f"{name}.json"
            bodies[name].write_bytes(capture.last_request())
        bodies["small-stream"] = wd / "small-stream.json"
        bodies["small-stream"].write_text(json.dumps({**small, "stream": True, "model": "bench-stream"}))
        big = json.loads((B.FIXTURES / "claude-code-request.json").read_bytes())
        bodies["large-stream"] = wd / "large-stream.json"
        bodies["large-stream"].write_text(json.dumps({**big, "model": "bench-stream"}))
        for name in ("small", "small-stream", "large-stream"):       # each must work before we load it
            st, h, resp = B.http_call(gw.port, "POST", "/v1/messages", bodies[name].read_bytes(),
                                      {"content-type": "application/json"})
            if st != 200 or (b"message_stop" not in resp and b'"type":"message"' not in resp):
                raise RuntimeError(f"gateway answered {st} for {name}: {resp[:300]!r}")

        gurl = f"http://127.0.0.1:{gw.port}/v1/messages"
        runs = [
            ("a", "direct, non-streaming", f"{up}/json/v1/chat/completions", bodies["openai-json"], None),
            ("b", "gateway, non-streaming", gurl, bodies["small"], gw),
            ("c", "gateway, streaming", gurl, bodies["small-stream"], gw),
            ("d", "direct, streaming", f"{up}/sse/v1/chat/completions", bodies["openai-sse"], None),
        ]
        if not a.no_large:
            runs.append(("e", "gateway, streaming, claude-code-request.json", gurl, bodies["large-stream"], gw))
        # short warm-up of both paths (connection pools, page faults), not measured
        if not smoke:
            run_wrk("warmup-gw", gurl, bodies["small"], wd, threads, conns, 1, gw)
            run_wrk("warmup-direct", f"{up}/json/v1/chat/completions", bodies["openai-json"], wd, threads, conns, 1, None)
        for key, label, url, body, g in runs:
            print(f"running ({key}) {label} ...", flush=True)
            r = run_wrk(key, url, body, wd, threads, conns, duration, g)
            r["label"] = label
            results["wrk"][key] = r
            if r["requests"] == 0:
                failures.append(f"({key}) {label}: no request completed")
            if r["errors"]["status"]:
                failures.append(f"({key}) {label}: {r['errors']['status']} non-2xx responses")

        if not a.no_fixed_rate:
            warm = 0.5 if smoke else 1.0
            print(f"running fixed rate {rate:g} req/s, direct ...", flush=True)
            fd = run_fixed("direct", nginx.port, "/json/v1/chat/completions", bodies["openai-json"], wd,
                           rate, rate_duration, warm)
            print(f"running fixed rate {rate:g} req/s, gateway ...", flush=True)
            fg = run_fixed("gateway", gw.port, "/v1/messages", bodies["small"], wd, rate, rate_duration, warm)
            results["fixed_rate"] = {"direct": fd, "gateway": fg}
            for f in (fd, fg):
                if f["ok"] < f["sent"]:
                    failures.append(f"fixed rate {f['label']}: {f['sent'] - f['ok']} of {f['sent']} requests "
                                    f"failed or unanswered {f['errors']}")
        results["final_rss_mb"] = gw.stats.rss_mb()
        if not gw.alive():
            failures.append("the gateway died during the run")
    finally:
        for c in reversed(children):
            c.stop()

    # ------------------------------------------------------------------ report
    W = results["wrk"]
    print()
    if smoke:
        print(B.SMOKE_BANNER)

    def ms(us):
        return f"{us / 1000:.3f} ms"

    rows = []
    for key, r in W.items():
        ratio = ""
        if key == "b" and "a" in W and W["a"]["rps"]:
            ratio = f"{r['rps'] / W['a']['rps']:.1%}"
        if key == "c" and "d" in W and W["d"]["rps"]:
            ratio = f"{r['rps'] / W['d']['rps']:.1%}"
        errs = r["errors"]
        nerr = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
        rows.append([f"({key}) {r['label']}", f"{r['rps']:,.0f}", ms(r["latency_us"]["p50"]), ms(r["latency_us"]["p99"]),
                     f"{errs['status']}/{nerr}", ratio,
                     f"{r['cpu_us_per_req']:.1f} µs" if r.get("cpu_us_per_req") is not None else "-",
                     f"{r['rss_mb']:.1f} MB" if "rss_mb" in r else "-", f"{r['hwm_mb']:.1f} MB" if "hwm_mb" in r else "-"])
    print(B.table(["run", "req/s", "p50", "p99", "non2xx/sockerr", "gw/direct", "gw CPU/req", "gw VmRSS", "VmHWM (run)"],
                  rows, title=f"wrk -t{threads} -c{conns} -d{duration:g}s (closed loop, max throughput)"))
    print(f"gateway idle RSS at start: {idle_rss:.1f} MB; at the end: VmRSS {results['final_rss_mb']:.1f} MB. "
          f"CPU/req = gateway utime+stime during the run / requests ({1e6 / B.CLK_TCK:.0f} µs tick); VmRSS after "
          f"the run, VmHWM = peak during the run.")

    FR = results["fixed_rate"]
    if FR:
        fd, fg = FR["direct"], FR["gateway"]
        rows = []
        for f in (fd, fg):
            L = f["latency_ms"]
            rows.append([f["label"], f"{f['achieved_rate']:,.0f}/s", f"{f['ok']}/{f['sent']}", f"{L['p50']:.3f} ms",
                         f"{L['p90']:.3f} ms", f"{L['p99']:.3f} ms", f"{L['max']:.3f} ms", f["peak_connections"],
                         f"{f['send_lag_ms']['p99']:.3f} ms"])
        add50 = fg["latency_ms"]["p50"] - fd["latency_ms"]["p50"]
        add99 = fg["latency_ms"]["p99"] - fd["latency_ms"]["p99"]
        rows.append(["added (gateway - direct)", "", "", f"{add50:+.3f} ms", "", f"{add99:+.3f} ms", "", "", ""])
        print()
        print(B.table(["fixed rate", "achieved", "ok/sent", "p50", "p90", "p99", "max", "conns", "send lag p99"],
                      rows, title=f"open loop, {rate:g} req/s for {rate_duration:g} s per target (Benchmarks/fixed_rate.py)"))
        low = [f["label"] for f in (fd, fg) if f["achieved_rate"] < 0.95 * rate]
        if low:
            print(f"NOTE: the Python client did not sustain {rate:g} req/s for {', '.join(low)} "
                  f"(achieved {', '.join(str(f['achieved_rate']) for f in (fd, fg))} req/s on {os.cpu_count()} cores "
                  f"shared with the gateway); latencies are for the achieved rate.")
        results["added_latency_ms"] = {"p50": add50, "p99": add99}

    # budgets
    print()
    checks = []
    if "a" in W and "b" in W and W["a"]["rps"]:
        ratio = W["b"]["rps"] / W["a"]["rps"]
        checks.append(["translated non-streaming throughput ≥ 25% of direct", f"{ratio:.1%}", ratio >= BUDGET_RATIO])
    if "b" in W and W["b"].get("cpu_us_per_req") is not None:
        cpu = W["b"]["cpu_us_per_req"]
        checks.append(["gateway CPU per translated small request ≤ 60 µs", f"{cpu:.1f} µs", cpu <= BUDGET_CPU_US])
    if FR:
        add50, add99 = results["added_latency_ms"]["p50"], results["added_latency_ms"]["p99"]
        sustained = all(f["achieved_rate"] >= 0.95 * rate for f in FR.values())
        checks.append([f"added latency at {rate:g} req/s, p50 ≤ 0.15 ms", f"{add50:+.3f} ms",
                       (add50 <= BUDGET_ADD_P50_MS) if sustained else None])
        checks.append([f"added latency at {rate:g} req/s, p99 ≤ 0.5 ms", f"{add99:+.3f} ms",
                       (add99 <= BUDGET_ADD_P99_MS) if sustained else None])
    checks.append(["idle RSS ≤ 30 MB (fresh gateway)", f"{idle_rss:.1f} MB", idle_rss <= BUDGET_IDLE_RSS_MB])
    missed = [c for c in checks if c[2] is False]
    print(B.table(["budget", "measured", "verdict"], [[c[0], c[1], B.verdict(c[2], smoke)] for c in checks]))
    if B.report_results(results, checks, failures, a.json, wd, binary):
        return 1
    if not a.keep:
        shutil.rmtree(wd, ignore_errors=True)
    else:
        print(f"work dir kept: {wd}")
    if a.strict and missed and not smoke:
        return 3
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"\nload benchmark failed: {e}", file=sys.stderr)
        sys.exit(1)
