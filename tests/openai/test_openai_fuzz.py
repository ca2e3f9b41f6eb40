"""The structure-aware fuzzer (tests/reliability/fuzz.py) against the chat front door: every answer is
a 2xx (a complete completion or chunk stream) or a 4xx in the OpenAI envelope, never a 5xx or a hang,
and no request the front door's validation rules refuse is accepted.

N defaults to 1500; SWITCHYARD_FUZZ_REQUESTS / SWITCHYARD_FUZZ_SEED change it (as for test_fuzz.py).
The full run is `python tests/reliability/fuzz.py --endpoint chat --requests 20000 --seed S`.
"""
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "reliability"))

import fuzz  # noqa: E402
import relkit as rk  # noqa: E402
from conftest import base_config  # noqa: E402
from oaikit import assert_sse, chat_body, post_chat  # noqa: E402

N = int(os.environ.get("SWITCHYARD_FUZZ_REQUESTS", "1500"))
SEED = int(os.environ.get("SWITCHYARD_FUZZ_SEED", "20260101"))


def test_fuzz_chat_completions(mock, gateway_factory):
    cfg = base_config(mock, server={"max_body_bytes": "4MiB"}, routes=fuzz.NATIVE_ROUTES)
    gw = gateway_factory(cfg)
    rss_before = rk.rss_kib(gw.proc.pid)
    summary = fuzz.run_fuzz(gw.port, N, SEED, alive=gw.alive, workers=4, timeout=15.0, endpoint="chat")
    print("\n" + summary.report())
    print(f"gateway RSS {rss_before} KiB -> {rk.rss_kib(gw.proc.pid) if gw.alive() else 'dead'} KiB")
    assert gw.alive(), "gateway died during fuzzing:\n" + gw.stderr()[-3000:]
    assert summary.requests >= N
    assert summary.problems == 0, summary.report()
    assert summary.c4xx > 0 and summary.ok2xx > 0, summary.line()
    # and it still serves normal requests on both kinds of target
    for model in (fuzz.CHAT_OAI_MODEL, fuzz.CHAT_NATIVE_MODEL):
        resp = post_chat(gw, chat_body(model, text="after fuzz"))
        assert resp.status == 200 and resp.json()["object"] == "chat.completion", resp
        assert assert_sse(post_chat(gw, chat_body(model, stream=True)))[-1] == "[DONE]"


def test_chat_generation_is_deterministic_and_covers_the_rules():
    a = fuzz.generate(600, 5, "chat")
    b = fuzz.generate(600, 5, "chat")
    assert [c.name for c in a] == [c.name for c in b]
    # byte damage may insert os.urandom bytes, as in the Messages generator; everything else repeats
    assert [c.body for c in a if "insert@" not in c.name] == [c.body for c in b if "insert@" not in c.name]
    assert len({c.body for c in a}) > 500
    assert all(fuzz.is_chat_path(c.path) for c in a)
    names = " ".join(c.name for c in a)
    for op in ("chat:n", "chat:audio", "chat:file_id", "chat:image", "chat:effort", "chat:format", "chat:stop",
               "chat:stream_options", "drop@", "retype@", "text@", "bytes:"):
        assert op in names, f"mutation {op} never generated"
    reasons = " ".join(c.invalid or "" for c in a)
    for rule in ("not JSON", "not a JSON object", "model", "messages", "known role", "stream", "max_tokens", "n is not 1",
                 "input_audio", "file by id"):
        assert rule in reasons, f"no case exercised the rule {rule!r}"
    assert sum(1 for c in a if c.invalid is None) > 200, "most mutated requests should stay acceptable"


def test_oracle_agrees_with_the_front_door_rules():
    ok = fuzz.encode({"model": "claude-native-1", "messages": [{"role": "user", "content": "x"}]})
    assert fuzz.chat_invalid_reason(ok) is None
    assert all(fuzz.chat_invalid_reason(fuzz.encode(body)) is None for _, _, body in fuzz.chat_seeds())

    def verdict(model, **kw):
        return fuzz.chat_invalid_reason(fuzz.encode(dict({"model": model, "messages": [{"role": "user", "content": "x"}]}, **kw)))

    audio = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}]
    for model in ("gpt-4o-mini", "claude-native-1"):
        assert verdict(model, stream="yes") and verdict(model, max_tokens=-1) and verdict(model, max_completion_tokens=True)
        assert verdict(model, messages=[]) and verdict(model, messages=[{"role": "wizard", "content": "x"}])
        for kw in ({"n": 2}, {"temperature": "hot"}, {"tools": "x"}, {"tool_choice": 5}, {"stop": [1]}, {"messages": audio}):
            assert verdict(model, **kw), (model, kw)
        assert verdict(model, stream=None) is None and verdict(model, max_tokens=0) is None and verdict(model, n=None) is None
    # a file by id has no Anthropic form: refused for translated requests only
    by_id = [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]
    assert verdict("claude-native-1", messages=by_id) and verdict("gpt-4o-mini", messages=by_id) is None
    assert fuzz.chat_invalid_reason(b"\xef\xbb\xbf{}") is None                    # ambiguous: a BOM
    assert fuzz.chat_invalid_reason(b'{"model":"a","model":"b","messages":[]}') is None   # ambiguous: duplicate keys
    assert fuzz.chat_invalid_reason(b'{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.0}')
