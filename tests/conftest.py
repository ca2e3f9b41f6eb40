"""Shared fixtures for the end-to-end suites: the mock upstream (testkit/) and running gateways.

Every gateway a test starts writes its stdout (access log) and stderr (process log) to files;
at the end of the session every such file is scanned for every secret a test registered with
`register_secret`, and the session fails if one is found (issue: secrets never appear in output).
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.mock_client import MockUpstream  # noqa: E402

BIN = os.environ.get("SWITCHYARD_BIN", str(ROOT / ".build" / "debug" / "switchyard"))
UPSTREAM_KEY = "sk-upstream-" + "e2e-provider-key-7f3a9c"
ANTHROPIC_UPSTREAM_KEY = "sk-ant-upstream-" + "e2e-key-41d2"

_SECRETS: set[str] = {UPSTREAM_KEY, ANTHROPIC_UPSTREAM_KEY}
_OUTPUT_FILES: list[pathlib.Path] = []


def register_secret(value: str) -> str:
    """Remember a secret so the end-of-session scan looks for it in all gateway output."""
    _SECRETS.add(value)
    return value


class Gateway:
    """A running `switchyard serve` process on a free loopback port."""

    def __init__(self, config: dict | str, workdir: pathlib.Path, env: dict | None = None, name: str = "gw"):
        self.workdir = workdir
        self.config_path = workdir / f"{name}.yaml"
        self.write_config(config)
        self.port_file = workdir / f"{name}.port"
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        _OUTPUT_FILES.extend([self.stdout_path, self.stderr_path])
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PROXY_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", str(self.config_path), "--listen", "127.0.0.1:0", "--port-file", str(self.port_file)],
            stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"), env=full_env, cwd=str(workdir))
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.port = int(self.port_file.read_text().strip())
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}: {self.stderr_path.read_text()}")
            time.sleep(0.02)
        else:
            raise RuntimeError("gateway did not start: " + self.stderr_path.read_text())
        self.base_url = f"http://127.0.0.1:{self.port}"

    def write_config(self, config: dict | str) -> None:
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        self.config_path.write_text(text)

    def url(self, path: str = "") -> str:
        return self.base_url + path

    def reload(self, config: dict | str | None = None, wait: float = 0.5) -> None:
        if config is not None:
            self.write_config(config)
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(wait)

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def access_log(self) -> list[dict]:
        lines = self.stdout_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def health(self) -> dict:
        with urllib.request.urlopen(self.url("/health"), timeout=5) as r:
            return json.loads(r.read())


def base_config(mock: MockUpstream, **overrides) -> dict:
    """An open-mode config with one OpenRouter-dialect provider and one Anthropic-native provider
    pointing at the mock, and a catch-all route to `mock/model-a`."""
    config = {
        "providers": {
            "mock": {"kind": "openai", "dialect": "openrouter", "base_url": mock.url("/api/v1"), "api_key": UPSTREAM_KEY,
                     "timeouts": {"connect": "2s", "first_byte": "10s", "idle": "5s"}},
            "mock-anthropic": {"kind": "anthropic", "base_url": mock.base_url, "api_key": ANTHROPIC_UPSTREAM_KEY,
                               "timeouts": {"connect": "2s", "first_byte": "10s", "idle": "5s"}},
        },
        "routes": [{"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/model-a"}]}],
        "fallback": {"cooldown": "0s"},
        "auth": {"mode": "open"},
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def mock():
    with MockUpstream() as m:
        yield m


@pytest.fixture(autouse=True)
def _fresh_mock(request):
    if "mock" in request.fixturenames:
        request.getfixturevalue("mock").reset()
    yield


@pytest.fixture
def gateway_factory(tmp_path):
    started: list[Gateway] = []

    def make(config: dict | str, env: dict | None = None, name: str = "gw") -> Gateway:
        gw = Gateway(config, tmp_path, env=env, name=name)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop(signal.SIGKILL if not gw.alive() else signal.SIGTERM, timeout=10)


@pytest.fixture
def gateway(gateway_factory, mock) -> Gateway:
    return gateway_factory(base_config(mock))


def pytest_sessionfinish(session, exitstatus):
    leaks = []
    for path in _OUTPUT_FILES:
        if not path.exists():
            continue
        text = path.read_text(errors="replace")
        for secret in _SECRETS:
            if secret and secret in text:
                leaks.append(f"{path.name}: contains a registered secret ({secret[:6]}…)")
    if leaks:
        print("\nSECRET SCAN FAILED:\n  " + "\n  ".join(leaks))
        session.exitstatus = 1
    else:
        print(f"\nsecret scan: {len(_OUTPUT_FILES)} output files, {len(_SECRETS)} secrets, none found")
