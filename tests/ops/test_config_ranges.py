"""Config hardening, operator side: every duration, size and count key has a range, values of the
wrong YAML kind are never silently taken as text, and user names are restricted.

* `switchyard check FILE` with an out-of-range or hostile value exits with status exactly 1 (never
  a crash: 132/134 or a negative status from a signal) and names the key path and its YAML line;
  the minimum and the maximum themselves are accepted (exit 0);
* a running gateway sent SIGHUP after its file was rewritten with such a value keeps running and
  serving with the old config (`config_hash` unchanged) and logs the key path on stderr;
* `logging.access_log: false` turns the access log off; a YAML boolean/null where text is expected
  (`access_log: true`, `listen: true`, `level: null`, ...) is a `check` error naming the key;
* `switchyard token new NAME` and `users[].name` accept 1-64 of letters, digits and `._@-` only.

Run: source scripts/venv.sh && SWITCHYARD_BIN=... "$VENV/bin/python" -m pytest tests/ops/test_config_ranges.py -q
"""
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import base_config

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SWITCHYARD_BIN", str(ROOT / ".build" / "debug" / "switchyard"))


@pytest.fixture(scope="module", autouse=True)
def _binary():
    assert Path(BIN).is_file() and os.access(BIN, os.X_OK), f"switchyard binary not found at {BIN} (set SWITCHYARD_BIN)"


def run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROXY_")}
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=timeout)


# --- a config with every ranged key on its own line ----------------------------------------------

HASH = hashlib.sha256(b"sy-config-ranges-user-token").hexdigest()

# (line template, key path or None, default YAML value). `{v}` is replaced by the value, written as
# YAML text, so a test controls quoting exactly.
TEMPLATE = [
    ("server:", None, None),
    ("  listen: {v}", "server.listen", "127.0.0.1:8000"),
    ("  read_timeout: {v}", "server.read_timeout", "30s"),
    ("  shutdown_grace: {v}", "server.shutdown_grace", "5s"),
    ("  max_body_bytes: {v}", "server.max_body_bytes", "1MiB"),
    ("  max_header_bytes: {v}", "server.max_header_bytes", "64KiB"),
    ("  max_connections: {v}", "server.max_connections", "100"),
    ("providers:", None, None),
    ("  p:", None, None),
    ("    kind: {v}", "providers.p.kind", "openai"),
    ("    base_url: {v}", "providers.p.base_url", "http://127.0.0.1:9/api/v1"),
    ("    api_key: {v}", "providers.p.api_key", '"${SY_RANGES_KEY:-dummy-upstream-key}"'),
    ("    timeouts:", None, None),
    ("      connect: {v}", "providers.p.timeouts.connect", "2s"),
    ("      first_byte: {v}", "providers.p.timeouts.first_byte", "10s"),
    ("      idle: {v}", "providers.p.timeouts.idle", "5s"),
    ("    max_connections: {v}", "providers.p.max_connections", "10"),
    ("    max_response_bytes: {v}", "providers.p.max_response_bytes", "1MiB"),
    ("routes:", None, None),
    ("  - name: {v}", "routes[0].name", "r"),
    ("    match:", None, None),
    ('      models: ["*"]', None, None),
    ("      min_input_tokens: {v}", "routes[0].match.min_input_tokens", "0"),
    ("    targets:", None, None),
    ("      - provider: p", None, None),
    ("        model: {v}", "routes[0].targets[0].model", "m"),
    ("        max_tokens: {v}", "routes[0].targets[0].max_tokens", "1000"),
    ("    limits:", None, None),
    ("      rpm: {v}", "routes[0].limits.rpm", "10"),
    ("      tpm: {v}", "routes[0].limits.tpm", "1000"),
    ("      concurrent: {v}", "routes[0].limits.concurrent", "2"),
    ("fallback:", None, None),
    ("  retries_per_target: {v}", "fallback.retries_per_target", "0"),
    ("  cooldown: {v}", "fallback.cooldown", "30s"),
    ("auth:", None, None),
    ("  mode: {v}", "auth.mode", "tokens"),
    ("users:", None, None),
    ("  - name: {v}", "users[0].name", "alice"),
    (f"    token_sha256: {HASH}", None, None),
    ("    limits:", None, None),
    ("      rpm: {v}", "users[0].limits.rpm", "10"),
    ("      tpm: {v}", "users[0].limits.tpm", "1000"),
    ("      concurrent: {v}", "users[0].limits.concurrent", "2"),
    ("limits:", None, None),
    ("  per_user:", None, None),
    ("    rpm: {v}", "limits.per_user.rpm", "10"),
    ("    tpm: {v}", "limits.per_user.tpm", "1000"),
    ("    concurrent: {v}", "limits.per_user.concurrent", "2"),
    ("logging:", None, None),
    ("  level: {v}", "logging.level", "info"),
    ("  access_log: {v}", "logging.access_log", "stdout"),
]
KEYS = {path for _, path, _ in TEMPLATE if path}


def render(**values: str) -> tuple[str, dict[str, int]]:
    """The config text with `values` (key path -> YAML text; pass the path with dots) substituted,
    and the 1-based line of every key path."""
    unknown = set(values) - KEYS
    assert not unknown, unknown
    lines, where = [], {}
    for i, (tmpl, path, default) in enumerate(TEMPLATE, 1):
        lines.append(tmpl.replace("{v}", values.get(path, default)) if path else tmpl)
        if path:
            where[path] = i
    return "\n".join(lines) + "\n", where


def check_text(tmp_path: Path, text: str, name: str = "c") -> subprocess.CompletedProcess:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return run(["check", str(path)])


def _path_re(key_path: str) -> re.Pattern:
    return re.compile(r"(?<![\w.\[\]])" + re.escape(key_path) + r":")


def assert_rejected(r: subprocess.CompletedProcess, key_path: str, line: int, label: str):
    out = r.stdout + r.stderr
    assert r.returncode == 1, (f"{label}: `check` exited {r.returncode} (want exactly 1"
                               f"{'; a negative status or 128+N is a crash' if r.returncode not in (0, 1) else ''}):\n{out[:1500]}")
    pat = _path_re(key_path)
    named = [l for l in out.splitlines() if pat.search(l)]
    assert named, f"{label}: no problem names {key_path}:\n{out[:1500]}"
    assert any(re.search(rf"\bline {line}\b", l) for l in named), f"{label}: {key_path} reported without (line {line}): {named}"


def assert_accepted(r: subprocess.CompletedProcess, label: str):
    assert r.returncode == 0, f"{label}: `check` exited {r.returncode}:\n{(r.stdout + r.stderr)[:1500]}"


def test_base_config_is_valid(tmp_path):
    text, _ = render()
    assert_accepted(check_text(tmp_path, text), "the base config of this module")


# --- ranges ----------------------------------------------------------------------------------------

HOSTILE_DURATIONS = ["1e300s", "10000000000s", "-1s", "nans", "infs", "1e3000ms"]
HOSTILE_SIZES = ["1e300KiB", "-1", "99999999999999999999", "1e30"]
HOSTILE_COUNTS = ["-1", "99999999999999999999", "1.5"]

# key path -> (minimum forms, maximum forms, just below the minimum, just above the maximum)
DURATIONS = {
    "server.read_timeout": (["1s", "1000ms"], ["1h", "3600s"], ["999ms"], ["3601s", "61m"]),
    "server.shutdown_grace": (["0s", "0ms"], ["1h", "60m"], ["-1ms"], ["3601s"]),
    "providers.p.timeouts.connect": (["10ms"], ["10m", "600s"], ["9ms"], ["601s", "600001ms"]),
    "providers.p.timeouts.first_byte": (["100ms"], ["1h"], ["99ms"], ["3601s"]),
    "providers.p.timeouts.idle": (["100ms"], ["1h"], ["99ms"], ["3601s"]),
    "fallback.cooldown": (["0s"], ["24h", "86400s"], ["-1ms"], ["86401s", "25h"]),
}
SIZES = {
    "server.max_body_bytes": (["1KiB", "1024"], ["1GiB", "1073741824"], ["1023"], ["1073741825", "2GiB"]),
    "server.max_header_bytes": (["1KiB", "1024"], ["1MiB", "1048576"], ["1023"], ["1048577", "2MiB"]),
    "providers.p.max_response_bytes": (["1KiB", "1024"], ["1GiB", "1073741824"], ["1023"], ["1073741825", "2GiB"]),
}
LIMIT_SCOPES = ["users[0].limits", "limits.per_user", "routes[0].limits"]
COUNTS = {
    "server.max_connections": (["1"], ["1000000"], ["0"], ["1000001"]),
    "providers.p.max_connections": (["1"], ["100000"], ["0"], ["100001"]),
    "fallback.retries_per_target": (["0"], ["10"], ["-1"], ["11"]),
    "routes[0].targets[0].max_tokens": (["1"], ["10000000"], ["0"], ["10000001"]),
    "routes[0].match.min_input_tokens": (["0"], ["1000000000"], ["-1"], ["1000000001"]),
}
for scope in LIMIT_SCOPES:
    COUNTS[f"{scope}.rpm"] = (["1"], ["1000000000"], ["0"], ["1000000001"])
    COUNTS[f"{scope}.tpm"] = (["1"], ["1000000000000"], ["0"], ["1000000000001"])
    COUNTS[f"{scope}.concurrent"] = (["1"], ["1000000"], ["0"], ["1000001"])


def _cases(table: dict, hostile: list[str]):
    bad, good = [], []
    for key, (mins, maxs, below, above) in table.items():
        for v in hostile + below + above:
            bad.append(pytest.param(key, v, id=f"{key}={v}"))
        for v in mins + maxs:
            good.append(pytest.param(key, v, id=f"{key}={v}"))
    return bad, good


BAD_DURATIONS, GOOD_DURATIONS = _cases(DURATIONS, HOSTILE_DURATIONS)
BAD_SIZES, GOOD_SIZES = _cases(SIZES, HOSTILE_SIZES)
BAD_COUNTS, GOOD_COUNTS = _cases(COUNTS, HOSTILE_COUNTS)


@pytest.mark.parametrize("key,value", BAD_DURATIONS + BAD_SIZES + BAD_COUNTS)
def test_out_of_range_value_is_a_check_error(key, value, tmp_path):
    text, where = render(**{key: value})
    assert_rejected(check_text(tmp_path, text), key, where[key], f"{key}: {value}")


@pytest.mark.parametrize("key,value", GOOD_DURATIONS + GOOD_SIZES + GOOD_COUNTS)
def test_range_bounds_are_accepted(key, value, tmp_path):
    text, _ = render(**{key: value})
    assert_accepted(check_text(tmp_path, text), f"{key}: {value} (a bound of the range)")


def test_every_problem_is_reported_with_its_own_line(tmp_path):
    """Several hostile values at once: one problem per key, none lost to an early crash or stop."""
    values = {"server.read_timeout": "1e300s", "server.max_body_bytes": "1e300KiB",
              "fallback.cooldown": "10000000000s", "providers.p.max_connections": "99999999999999999999",
              "users[0].limits.tpm": "1.5", "providers.p.timeouts.idle": "nans"}
    text, where = render(**values)
    r = check_text(tmp_path, text)
    for key in values:
        assert_rejected(r, key, where[key], f"{key}: {values[key]} (together with others)")


# --- SIGHUP with an out-of-range value --------------------------------------------------------------

def _set(config: dict, path: str, value):
    node = config
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


RELOAD_CASES = [
    ("server.read_timeout", "1e300s"),
    ("server.max_body_bytes", "1e300KiB"),
    ("fallback.cooldown", "10000000000s"),
    ("providers.mock.timeouts.first_byte", "infs"),
    ("providers.mock.timeouts.connect", "1e3000ms"),
    ("providers.mock.max_response_bytes", "99999999999999999999"),
    ("server.max_connections", 1000001),
    ("limits.per_user.tpm", 1.5),
]


def _crash_summary(text: str) -> str:
    fatal = [l for l in text.splitlines() if "Fatal error" in l or "fatal" in l.lower()]
    return "\n".join(fatal[:3]) if fatal else text[-1500:]


def _post(gw) -> int:
    req = urllib.request.Request(gw.url("/v1/messages"), method="POST", headers={"content-type": "application/json"},
                                 data=json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 20,
                                                  "messages": [{"role": "user", "content": "hi"}]}).encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("key,value", RELOAD_CASES, ids=[f"{k}={v}" for k, v in RELOAD_CASES])
def test_sighup_with_out_of_range_value_keeps_the_old_config(key, value, gateway_factory, mock):
    config = base_config(mock)
    gw = gateway_factory(config)
    before = gw.health()
    assert _post(gw) == 200
    bad = json.loads(json.dumps(config))
    _set(bad, key, value)
    gw.reload(bad, wait=0.3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and gw.alive() and key not in gw.stderr():
        time.sleep(0.1)
    assert gw.alive(), f"SIGHUP with {key}: {value!r} killed the gateway (exit {gw.proc.returncode}):\n{_crash_summary(gw.stderr())}"
    after = gw.health()
    assert after["config_hash"] == before["config_hash"], f"{key}: {value!r} was applied: {before} -> {after}"
    assert after.get("config_generation") == before.get("config_generation"), (before, after)
    assert key in gw.stderr(), f"the failed reload does not name {key} on stderr:\n{gw.stderr()[-2000:]}"
    assert _post(gw) == 200, "the gateway stopped serving after a bad reload"


# --- the wrong YAML kind ------------------------------------------------------------------------------

WRONG_KIND = [
    ("logging.access_log", "true"),
    ("server.listen", "true"),
    ("logging.level", "null"),
    ("logging.level", "~"),
    ("logging.level", ""),
    ("providers.p.base_url", "false"),
    ("providers.p.kind", "true"),
    ("routes[0].name", "null"),
    ("routes[0].name", "~"),
    ("routes[0].name", ""),
    ("auth.mode", "1"),
    # the same rule (a YAML boolean/null is never the text "false"/"null") for other text keys
    ("routes[0].targets[0].model", "null"),
    ("users[0].name", "null"),
    ("users[0].name", "false"),
]


@pytest.mark.parametrize("key,value", WRONG_KIND, ids=[f"{k}={v or '<empty>'}" for k, v in WRONG_KIND])
def test_wrong_yaml_kind_is_a_check_error(key, value, tmp_path):
    text, where = render(**{key: value})
    assert_rejected(check_text(tmp_path, text), key, where[key], f"{key}: {value or '<empty>'}")


def test_access_log_false_passes_check(tmp_path):
    text, _ = render(**{"logging.access_log": "false"})
    assert_accepted(check_text(tmp_path, text), "logging.access_log: false")


def test_access_log_false_turns_the_access_log_off(gateway_factory, mock, tmp_path):
    config = base_config(mock, logging={"access_log": False})  # JSON false: a YAML boolean
    gw = gateway_factory(config)
    assert _post(gw) == 200
    assert _post(gw) == 200
    time.sleep(0.5)  # let an access-log line land, if one is (wrongly) written
    assert gw.alive()
    assert not (tmp_path / "false").exists(), "logging.access_log: false wrote the access log to a file named `false`"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.lower() in ("false", "no", "off")) == []
    json_lines = [l for l in gw.stdout_path.read_text(errors="replace").splitlines() if l.startswith("{")]
    assert json_lines == [], f"access log still on with logging.access_log: false: {json_lines[:2]}"


# --- user names --------------------------------------------------------------------------------------

ENTRY_RE = re.compile(r"^\s*-\s*name\s*:", re.M)


def assert_no_users_entry(r: subprocess.CompletedProcess, label: str):
    assert r.returncode != 0, f"{label}: token new exited 0:\n{r.stdout}"
    assert r.returncode > 0, f"{label}: token new crashed (status {r.returncode})"
    assert not ENTRY_RE.search(r.stdout), f"{label}: printed a users entry:\n{r.stdout}"
    assert "token_sha256" not in r.stdout, f"{label}: printed a token_sha256 line:\n{r.stdout}"


BAD_NAMES = ["a\nb", "x: y", "a#b", 'a"b', "a'b", "a b", "alice\r", "", "a" * 65, "al/ice", "al,ice", "{alice}"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:20] for n in BAD_NAMES])
def test_token_new_rejects_bad_names(name):
    assert_no_users_entry(run(["token", "new", name]), f"token new {name!r}")


@pytest.mark.parametrize("args", [["token", "new", "-alice"], ["token", "new", "--", "-alice"]],
                         ids=["dash-as-option", "dash-after-double-dash"])
def test_token_new_rejects_a_leading_dash(args):
    assert_no_users_entry(run(args), " ".join(args))


@pytest.mark.parametrize("name", ["alice.b-1_x@corp", "a" * 64, "A", "0", "ci-bot"])
def test_token_new_accepts_good_names(name):
    r = run(["token", "new", name])
    assert r.returncode == 0, f"token new {name!r}: exit {r.returncode}: {r.stderr}"
    assert re.search(rf"^\s*- name: {re.escape(name)}\s*$", r.stdout, re.M), r.stdout
    assert re.search(r"token_sha256:\s*[0-9a-f]{64}\b", r.stdout), r.stdout


BAD_USER_NAMES = ['"a\\nb"', "a b", '"x: y"', '"a#b"', "a" * 65, '"al/ice"', '""']


@pytest.mark.parametrize("value", BAD_USER_NAMES, ids=[v[:20] for v in BAD_USER_NAMES])
def test_config_user_name_outside_the_allowed_set_is_rejected(value, tmp_path):
    text, where = render(**{"users[0].name": value})
    assert_rejected(check_text(tmp_path, text), "users[0].name", where["users[0].name"], f"users[0].name: {value}")


@pytest.mark.parametrize("value", ["alice.b-1_x@corp", "a" * 64, '"bob"'])
def test_config_user_name_in_the_allowed_set_is_accepted(value, tmp_path):
    text, _ = render(**{"users[0].name": value})
    assert_accepted(check_text(tmp_path, text), f"users[0].name: {value}")
