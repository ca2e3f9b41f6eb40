"""Run the real Claude Code CLI (bundled in PyPI's claude-agent-sdk) against a Switchyard gateway.

    run = ClaudeRunner(home, workdir).run(gw.base_url, "say hi", model="claude-sonnet-4-5-20250929")
    run.result          # the final {"type": "result", ...} object (None if the CLI printed none)
    run.events          # every stream-json line, parsed
    run.returncode, run.stdout, run.stderr, run.timed_out

Every run uses the given HOME and working directory (tests pass fresh temporary ones), an
environment with no inherited ANTHROPIC_*/CLAUDE_* variables, nonessential traffic disabled, and
a timeout. See /work/shared/docs/claude-code.md.

This module also holds the suite's fixtures (`claude`, `cli_gateway`, `tap`), imported by name into
each test module: the folder deliberately has no conftest.py of its own, because a second
rootless `conftest` module would shadow tests/conftest.py for `from conftest import ...`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import pathlib
import subprocess

import pytest

from conftest import base_config, register_secret  # tests/conftest.py (tests/ is on sys.path)
from claude_tap import TapProxy

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
DEFAULT_TIMEOUT = 90.0
CLIENT_TOKEN = register_secret("sk-client-" + "cli-e2e-token-5b91d0")   # the CLI's gateway token

QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_BUG_COMMAND": "1",
}
_STRIPPED_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "PROXY_")
_STRIPPED_NAMES = {"MAX_THINKING_TOKENS", "API_TIMEOUT_MS", "DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING",
                   "DISABLE_AUTOUPDATER", "DISABLE_BUG_COMMAND", "ENABLE_TOOL_SEARCH", "HTTP_PROXY", "HTTPS_PROXY",
                   "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "NODE_OPTIONS"}


def find_claude_binary() -> pathlib.Path | None:
    """The CLI bundled in the installed claude_agent_sdk package, found through importlib (no import)."""
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = pathlib.Path(location) / "_bundled" / "claude"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def claude_version(binary: pathlib.Path) -> str:
    version_file = binary.with_name("claude.version")
    return version_file.read_text().strip() if version_file.exists() else "unknown"


@dataclasses.dataclass
class ClaudeRun:
    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    events: list[dict]
    timed_out: bool
    home: pathlib.Path
    cwd: pathlib.Path

    @property
    def result(self) -> dict | None:
        results = [e for e in self.events if e.get("type") == "result"]
        return results[-1] if results else None

    @property
    def result_text(self) -> str | None:
        return (self.result or {}).get("result")

    @property
    def is_error(self) -> bool:
        """The CLI reported failure: non-zero exit, an error result, or no result at all."""
        r = self.result
        return self.returncode != 0 or r is None or bool(r.get("is_error")) or r.get("subtype") != "success"

    @property
    def session_id(self) -> str | None:
        for e in self.events:
            if e.get("session_id"):
                return e["session_id"]
        return None

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == kind]

    def assistant_blocks(self) -> list[dict]:
        """Content blocks of every `assistant` event, in order."""
        blocks = []
        for e in self.of_type("assistant"):
            blocks.extend((e.get("message") or {}).get("content") or [])
        return blocks

    def tool_results(self) -> list[dict]:
        """tool_result blocks of every `user` event (what the CLI's tools answered)."""
        out = []
        for e in self.of_type("user"):
            content = (e.get("message") or {}).get("content")
            if isinstance(content, list):
                out.extend(b for b in content if isinstance(b, dict) and b.get("type") == "tool_result")
        return out

    def all_text(self) -> str:
        """stdout and stderr together, for wording checks."""
        return self.stdout + "\n" + self.stderr

    def describe(self) -> str:
        """A compact dump for assertion messages."""
        tail = "\n".join(self.stdout.splitlines()[-6:])
        return (f"exit={self.returncode} timed_out={self.timed_out}\nresult={json.dumps(self.result)[:1500]}\n"
                f"stdout tail:\n{tail[-3000:]}\nstderr:\n{self.stderr[-2000:]}")


class ClaudeRunner:
    """Runs the CLI with a fixed HOME and working directory (one runner per test)."""

    def __init__(self, home: pathlib.Path, cwd: pathlib.Path, binary: pathlib.Path | None = None):
        self.binary = binary or find_claude_binary()
        if self.binary is None:
            raise RuntimeError("claude_agent_sdk is not installed: no bundled Claude Code CLI")
        self.home = pathlib.Path(home)
        self.cwd = pathlib.Path(cwd)
        self.home.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.runs: list[ClaudeRun] = []

    def env(self, base_url: str, *, credential: str = "auth_token", token: str = CLIENT_TOKEN,
            extra_env: dict | None = None) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(_STRIPPED_PREFIXES) and k not in _STRIPPED_NAMES}
        env.update(QUIET_ENV)
        env["HOME"] = str(self.home)
        env["XDG_CONFIG_HOME"] = str(self.home / ".config")
        env["XDG_CACHE_HOME"] = str(self.home / ".cache")
        env["XDG_DATA_HOME"] = str(self.home / ".local" / "share")
        env["TMPDIR"] = str(self.home / "tmp")
        (self.home / "tmp").mkdir(exist_ok=True)
        env["ANTHROPIC_BASE_URL"] = base_url
        if credential == "auth_token":
            env["ANTHROPIC_AUTH_TOKEN"] = token
        elif credential == "api_key":
            env["ANTHROPIC_API_KEY"] = token
        elif credential != "none":
            raise ValueError(f"unknown credential kind {credential!r}")
        for key, value in (extra_env or {}).items():   # a None value removes the variable
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, base_url: str, prompt: str, *, model: str | None = DEFAULT_MODEL, credential: str = "auth_token",
            token: str = CLIENT_TOKEN, extra_args: list[str] | None = None, extra_env: dict | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> ClaudeRun:
        args = [str(self.binary), "-p", prompt]
        if model:
            args += ["--model", model]
        args += ["--output-format", "stream-json", "--verbose",
                 "--permission-mode", "acceptEdits", "--allowedTools", "Bash,Read,Write,Edit"]
        args += list(extra_args or [])
        env = self.env(base_url, credential=credential, token=token, extra_env=extra_env)
        timed_out = False
        try:
            proc = subprocess.run(args, cwd=str(self.cwd), env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
            returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child on timeout
            timed_out = True
            returncode = None
            stdout = _text(exc.stdout)
            stderr = _text(exc.stderr)
        run = ClaudeRun(args=args, returncode=returncode, stdout=stdout, stderr=stderr,
                        events=parse_stream_json(stdout), timed_out=timed_out, home=self.home, cwd=self.cwd)
        self.runs.append(run)
        return run


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def parse_stream_json(stdout: str) -> list[dict]:
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            events.append(obj)
    return events


# ---------------------------------------------------------------- helpers for mock.requests()

def chat_requests(requests: list[dict]) -> list[dict]:
    """The upstream /chat/completions requests, in arrival order."""
    return [r for r in requests if r["path"].split("?")[0].endswith("/chat/completions")]


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def conversation_text(body: dict) -> str:
    """Every text of every non-system message of an upstream chat body, joined."""
    parts = []
    for m in body.get("messages", []):
        if m.get("role") == "system":
            continue
        parts.append(message_text(m))
        for tc in m.get("tool_calls") or []:
            parts.append(tc.get("function", {}).get("arguments", ""))
    return "\n".join(parts)


# ---------------------------------------------------------------- gateway config and fixtures

CLAUDE_BIN = find_claude_binary()
requires_claude = pytest.mark.skipif(
    CLAUDE_BIN is None,
    reason="claude-agent-sdk is not installed, so there is no bundled Claude Code CLI "
           "(claude_agent_sdk/_bundled/claude); `source scripts/venv.sh` installs it from tests/requirements.txt")
CLI_USER = "cli-user"


def cli_config(mock, *, dialect: str = "openrouter", routes: list | None = None, token_auth: bool = False,
               default_fallback: bool = False, **overrides) -> dict:
    """base_config (tests/conftest.py) with the `mock` provider's dialect chosen, optional routes,
    optionally `auth.mode: tokens` with one user whose token is CLIENT_TOKEN, and optionally the
    default `fallback` block (circuit breaker on, cooldown 30s) instead of base_config's cooldown 0s."""
    config = base_config(mock, **overrides)
    config["providers"]["mock"]["dialect"] = dialect
    if default_fallback:
        config.pop("fallback", None)
    if routes is not None:
        config["routes"] = routes
    if token_auth:
        config["auth"] = {"mode": "tokens"}
        config["users"] = [{"name": CLI_USER, "token_sha256": hashlib.sha256(CLIENT_TOKEN.encode()).hexdigest()}]
    return config


@pytest.fixture
def claude(tmp_path):
    """A runner with a fresh temporary HOME and working directory for this test. At teardown each
    run is summarised on stdout (pytest shows it only when the test failed)."""
    runner = ClaudeRunner(tmp_path / "home", tmp_path / "work", binary=CLAUDE_BIN)
    yield runner
    for i, run in enumerate(runner.runs):
        retries = [e for e in run.events if e.get("subtype") == "api_retry"]
        print(f"--- claude run {i}: {' '.join(run.args[1:4])} ... exit={run.returncode} timed_out={run.timed_out} "
              f"result={json.dumps({k: (run.result or {}).get(k) for k in ('subtype', 'is_error', 'api_error_status', 'terminal_reason', 'result')})[:600]}")
        for e in retries:
            print(f"    api_retry: {json.dumps(e)[:300]}")
        if run.stderr.strip():
            print("    stderr: " + run.stderr[-1500:])


@pytest.fixture
def cli_gateway(gateway_factory, mock):
    """cli_gateway(**cli_config kwargs) -> a started Gateway pointed at the mock. At teardown the
    gateways' state, access logs and stderr tails and the mock's request log are printed (shown on failure)."""
    started = []

    def make(**kwargs):
        gw = gateway_factory(cli_config(mock, **kwargs))
        started.append(gw)
        return gw
    yield make
    for gw in started:
        print(f"--- gateway {gw.base_url}: alive={gw.alive()} returncode={gw.proc.returncode}")
        for entry in gw.access_log()[-20:]:
            print("    access: " + json.dumps({k: entry.get(k) for k in ("endpoint", "model", "status", "error_type", "attempts", "stream", "latency_ms")}))
        print("    stderr tail: " + gw.stderr()[-2500:])
    try:
        for r in mock.requests()[-20:]:
            body = r["body"] if isinstance(r["body"], dict) else {}
            print(f"--- upstream {r['method']} {r['path']} stream={body.get('stream')} rule={r['rule']} "
                  f"messages={len(body.get('messages') or [])}")
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        print(f"--- mock log unavailable: {exc!r}")


@pytest.fixture
def tap():
    """tap(gw.base_url) -> a TapProxy recording what the CLI sends the gateway and what it answers."""
    started: list[TapProxy] = []

    def make(target_base_url: str) -> TapProxy:
        proxy = TapProxy(target_base_url)
        started.append(proxy)
        return proxy
    yield make
    for proxy in started:
        proxy.close()


# ---------------------------------------------------------------- SSE helpers (gateway answers seen by the tap)

def sse_events(text: str) -> list[dict]:
    """The `data:` payloads of an Anthropic SSE body, parsed (event names are repeated in `type`)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if not data:
            continue
        try:
            events.append(json.loads("\n".join(data)))
        except json.JSONDecodeError:
            events.append({"type": "<unparsable>", "raw": "\n".join(data)})
    return events


def message_posts(proxy: TapProxy) -> list[dict]:
    """The CLI's POST /v1/messages exchanges (query string ignored), in order."""
    return [e for e in proxy.exchanges if e["method"] == "POST" and e["path"].split("?")[0] == "/v1/messages"]
