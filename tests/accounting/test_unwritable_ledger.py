"""An unwritable ledger (accounting.md "What is recorded"; LedgerWriter): the gateway starts, serves
requests normally, reports healthy, says what is wrong once on stderr, keeps the records in memory
(`switchyard_ledger_backlog`) and writes none (`switchyard_ledger_records_total{result="written"}`
stays 0). Records are dropped (and counted) only when the in-memory backlog overflows (100,000
records, not reached here: the dropped counter must stay 0).

Tests run as root, so a read-only directory would still be writable: the unwritable paths are under
/proc and under a regular file.
"""
import time

import pytest

from acctkit import Price, acct_config, get, messages_body, metric, metrics, openai_usage, parse_sse, post


def _ledger_lines(text: str) -> list[str]:
    """stderr lines about the ledger's store, at warning level or above, before shutdown."""
    lines = []
    for line in text.splitlines():
        if "shutting down" in line:
            break
        if ("usage ledger" in line or "ledger" in line.lower()) and (" error " in line or " warning " in line or " critical " in line):
            lines.append(line)
    return lines


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_unwritable_state_path_keeps_serving(gateway_factory, mock, tmp_path, where):
    if where == "proc":
        path = "/proc/nope/x.sqlite"
    else:
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("a regular file")
        path = str(blocker / "sub" / "ledger.sqlite")
    cfg = acct_config(mock, tmp_path, prices={"*": Price("3", "15")},
                      state={"url": f"sqlite:{path}", "flush_interval": "100ms"})
    gw = gateway_factory(cfg)
    mock.script({"times": -1, "reply": {"type": "chat", "content": "still serving", "usage": openai_usage(10, 5)}})

    assert gw.health()["status"] == "healthy"
    for i in range(12):
        r = post(gw, messages_body(f"n{i}", stream=bool(i % 2)))
        assert r.status == 200, r
        if i % 2:
            assert parse_sse(r.body)[-1]["event"] == "message_stop"
        else:
            assert r.json()["content"][0]["text"] == "still serving"
    time.sleep(0.6)          # several flush intervals: each retry must not log again
    for i in range(3):
        assert post(gw, messages_body(f"m{i}")).status == 200
    time.sleep(0.3)
    assert gw.health()["status"] == "healthy"
    assert gw.alive()

    samples = metrics(gw.base_url)
    assert (metric(samples, "switchyard_ledger_records_total", result="written") or 0) == 0
    assert (metric(samples, "switchyard_ledger_records_total", result="dropped") or 0) == 0
    assert metric(samples, "switchyard_ledger_backlog") == 15
    # spend is still counted in metrics
    assert metric(samples, "switchyard_spend_usd_total", user="anonymous", route="default") == pytest.approx(15 * 0.000105)

    # the usage API answers with an error, not a crash or a hang
    r = get(gw, "/v1/usage")
    assert r.status >= 400 and r.json()["type"] == "error", r
    assert gw.alive()

    # the problem is said clearly (naming the store), and not once per request or per flush ...
    lines = _ledger_lines(gw.stderr())
    assert any(path in line for line in lines), gw.stderr()[-3000:]
    assert sum("cannot write" in line for line in lines) <= 1, "\n".join(lines)
    # ... but once: one line for one problem (not an open error, a pruning warning and a write error)
    assert len(lines) == 1, f"{len(lines)} lines about one unwritable store:\n" + "\n".join(lines)
