"""Where the ledger lives and what names it carries (accounting.md "Configuration"): the default
`sqlite:data/switchyard.sqlite` relative to the working directory, or to $STATE_DIRECTORY
(systemd), an absolute path, `server.instance` in every row, `state.url` checked,
and `state.url: off` (no file; budgets count from zero, with a warning)."""
import json
import subprocess

from conftest import BIN
from acctkit import (ALICE, Price, acct_config, messages_body, openai_usage, post, users_block, wait_rows)


def _one_request(gw, mock, token=None):
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(10, 5)}})
    assert post(gw, messages_body(), token).status == 200


def test_default_path_is_relative_to_the_working_directory(gateway_factory, mock, tmp_path):
    cfg = acct_config(mock, tmp_path, prices={"*": Price("1", "2")})
    del cfg["state"]
    gw = gateway_factory(cfg)            # the fixture's working directory is tmp_path
    _one_request(gw, mock)
    rows = wait_rows(tmp_path / "data" / "switchyard.sqlite", 1)
    assert len(rows) == 1 and rows[0]["cost_micro_usd"] == Price("1", "2").cost_micro(10, 5)


def test_state_directory_env(gateway_factory, mock, tmp_path):
    state_dir = tmp_path / "var-lib-switchyard"
    state_dir.mkdir()
    cfg = acct_config(mock, tmp_path, prices={"*": Price("1", "2")}, server={"instance": "replica-7"})
    cfg["state"] = {"url": "sqlite:data/switchyard.sqlite", "flush_interval": "100ms"}
    gw = gateway_factory(cfg, env={"STATE_DIRECTORY": str(state_dir)})
    _one_request(gw, mock)
    rows = wait_rows(state_dir / "switchyard.sqlite", 1)
    assert len(rows) == 1, list(state_dir.iterdir())
    assert rows[0]["instance"] == "replica-7"
    assert not (tmp_path / "data").exists()


def test_state_urls_are_checked(mock, tmp_path):
    """postgres:// with a host is accepted (tests/accounting/test_postgres_ledger.py runs it);
    a URL without a host or of another scheme is a check error naming state.url."""
    for url, ok in [("postgres://switchyard@db:5432/switchyard", True), ("postgres:///nohost", False), ("mysql://db/x", False)]:
        cfg = acct_config(mock, tmp_path, state={"url": url})
        path = tmp_path / "pg.yaml"
        path.write_text(json.dumps(cfg))
        proc = subprocess.run([BIN, "check", str(path)], capture_output=True, text=True, timeout=30)
        assert (proc.returncode == 0) == ok and (ok or "state.url" in proc.stdout + proc.stderr), (url, proc.stdout + proc.stderr)


def test_state_off_keeps_no_file_and_warns_about_budgets(gateway_factory, mock, tmp_path):
    users = users_block(alice_limits={"budget": {"usd": 1, "period": "month"}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": Price("1", "2")}, users=users, state={"url": "off"}))
    _one_request(gw, mock, ALICE)
    assert not list(tmp_path.rglob("*.sqlite"))
    assert any("budget" in line and "zero" in line for line in gw.stderr().splitlines()), gw.stderr()[-2000:]


def test_a_huge_model_name_is_cut_in_the_ledger_and_the_access_log(gateway_factory, mock, tmp_path):
    """The requested model is the client's text: a 100 KB name costs the ledger and the access log
    200 characters each, never the whole name."""
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(5, 5)}})
    gw = gateway_factory(acct_config(mock, tmp_path, prices={"*": Price("1", "2")}))
    model = "claude-" + "x" * 100_000
    assert post(gw, messages_body(model=model, max_tokens=10)).status == 200
    rows = wait_rows(tmp_path / "ledger.sqlite", 1)
    assert rows[0]["model"] == model[:200]
    line = next(json.loads(l) for l in gw.stdout_path.read_text().splitlines() if l.startswith("{") and '"request_id"' in l)
    assert line["model"] == model[:200]
