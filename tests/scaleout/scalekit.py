"""Helpers for the scale-out suite (scale-out.md): a PostgreSQL cluster (tests/pgcluster.py), two
gateway replicas sharing it, and nginx in front of them as the load balancer."""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import time

import json

from conftest import BIN, _OUTPUT_FILES
from pgcluster import free_port
from tests.accounting.acctkit import (ALICE, BOB, ROOT_ADMIN, MODEL, Price, acct_config, bearer, error_of, fire, get,  # noqa: F401
                                      messages_body, openai_usage, post, request, users_block)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_available() -> bool:
    return os.path.exists(NGINX)


class Balancer:
    """nginx in front of the replicas: keep-alive upstream, no buffering (streams), a failed
    connection moves on to the other replica. The same block as deploy/nginx/switchyard.conf."""

    def __init__(self, workdir: pathlib.Path, ports: list[int]):
        self.dir = workdir / "nginx"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;" for p in ports)
        user = "user root root;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    upstream switchyard {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.port};
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
        self.proc = subprocess.Popen([NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr", "wb"))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if request(self.base_url, "GET", "/health", timeout=2).status in (200, 502):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + (self.dir / "stderr").read_text() + (self.dir / "error.log").read_text())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Replica:
    """A gateway process on a fixed loopback port (so a restarted replica comes back where the
    balancer expects it), with the same config file each time."""

    def __init__(self, config: dict, workdir: pathlib.Path, name: str):
        self.name = name
        self.port = free_port()
        self.workdir = workdir
        self.config_path = workdir / f"{name}.yaml"
        self.config_path.write_text(json.dumps(config, indent=2))
        self.lives = 0
        self.start()

    def start(self):
        self.lives += 1
        self.stdout_path = self.workdir / f"{self.name}.{self.lives}.stdout"
        self.stderr_path = self.workdir / f"{self.name}.{self.lives}.stderr"
        _OUTPUT_FILES.extend([self.stdout_path, self.stderr_path])
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", str(self.config_path), "--listen", f"127.0.0.1:{self.port}"],
            stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"), cwd=str(self.workdir))
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.stderr_path.read_text()}")
            try:
                if request(self.base_url, "GET", "/health", timeout=1).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {self.stderr_path.read_text()}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def stderr(self) -> str:
        return "".join((self.workdir / f"{self.name}.{i}.stderr").read_text() for i in range(1, self.lives + 1))


class Url:
    """Something with a base_url, for the acctkit helpers."""

    def __init__(self, base_url: str):
        self.base_url = base_url


def shared_config(mock, workdir, cluster, *, alice_limits=None, prices=None, routes=None, state_extra=None, fallback=None) -> dict:
    state = {"url": cluster.url, "flush_interval": "200ms"}
    state.update(state_extra or {})
    cfg = acct_config(mock, workdir, prices=prices or {"*": Price("1", "100")}, users=users_block(alice_limits=alice_limits),
                      state=state, routes=routes)
    if fallback:
        cfg["fallback"] = fallback
    return cfg


def wait_rows(cluster, count: int, timeout: float = 20) -> int:
    deadline = time.time() + timeout
    n = 0
    while time.time() < deadline:
        n = int(cluster.sql("SELECT count(*) FROM usage_records") or 0)
        if n >= count:
            return n
        time.sleep(0.1)
    return n
