"""Reliability rule 2 (bodies): the structure-aware fuzzer against a running gateway.

N defaults to 2000 (CI); set SWITCHYARD_FUZZ_REQUESTS / SWITCHYARD_FUZZ_SEED to change it.
The full run is `python tests/reliability/fuzz.py --requests 20000 --seed S`.
"""
import os

from conftest import base_config
import fuzz
import relkit as rk

N = int(os.environ.get("SWITCHYARD_FUZZ_REQUESTS", "2000"))
SEED = int(os.environ.get("SWITCHYARD_FUZZ_SEED", "20260101"))


def test_fuzz_messages(mock, gateway_factory):
    cfg = base_config(mock, server={"max_body_bytes": "4MiB"}, routes=fuzz.NATIVE_ROUTES)
    gw = gateway_factory(cfg)
    rss_before = rk.rss_kib(gw.proc.pid)
    summary = fuzz.run_fuzz(gw.port, N, SEED, alive=gw.alive, workers=4, timeout=15.0)
    print("\n" + summary.report())
    print(f"gateway RSS {rss_before} KiB -> {rk.rss_kib(gw.proc.pid) if gw.alive() else 'dead'} KiB")
    assert gw.alive(), "gateway died during fuzzing:\n" + gw.stderr()[-3000:]
    assert summary.requests >= N
    # every answer in bounded time, a 2xx or a 4xx envelope; never 5xx, never a non-envelope error
    assert summary.problems == 0, summary.report()
    # and it still serves a normal request
    out = rk.classify(rk.post_messages(gw.port, "after fuzz", timeout=10), False)
    assert out.kind == "success", out


def test_fuzz_is_deterministic():
    a = fuzz.generate(300, 5)
    b = fuzz.generate(300, 5)
    assert [c.body for c in a] == [c.body for c in b]
    assert len({c.body for c in a}) > 250
    names = " ".join(c.name for c in a)
    for op in ("drop@", "retype@", "null@", "deep@", "badutf8@", "dupkey@", "bytes:", "not_object"):
        assert op in names, f"mutation {op} never generated"
