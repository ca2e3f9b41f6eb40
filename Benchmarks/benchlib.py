"""Shared helpers for the Switchyard load and streaming benchmarks (Python 3.11 stdlib only).

Process control (the gateway, nginx and the Python upstream, each started as our own child and
stopped by its pid), gateway config generation, /proc readings, an incremental HTTP/1.1 response
reader for raw asyncio sockets, percentiles and table printing.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = HERE / "fixtures"
UPSTREAM_DIR = HERE / "upstream"
DEFAULT_BIN = REPO / ".build" / "release" / "switchyard"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SMOKE_BANNER = "=" * 78 + "\n  SMOKE (not a measurement): plumbing check only, numbers are meaningless\n" + "=" * 78


# --------------------------------------------------------------------------- environment

def gateway_bin() -> str:
    b = os.environ.get("SWITCHYARD_BIN") or str(DEFAULT_BIN)
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        sys.exit(f"switchyard binary not found at {b}: build it with "
                 f"`swift build -c release --product switchyard` or set SWITCHYARD_BIN")
    return b


def is_debug_build(path: str) -> bool:
    return "/debug/" in path or "switchyard-dev" in path


def raise_nofile(want: int = 65536) -> int:
    """Raise RLIMIT_NOFILE for this process and the children it starts. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (want, hard):
        try:
            new_hard = max(hard, target) if os.geteuid() == 0 else hard
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, new_hard), new_hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exit_on_sigterm() -> None:
    """SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so `finally` blocks stop our children."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def workdir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("BENCH_TMP", "/tmp")))
    d.chmod(0o755)            # nginx workers (user nobody when started by root) read files in it
    return d


def wait_port_file(path: Path, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening")
        try:
            txt = path.read_text().strip()
            if txt:
                return int(txt.split(":")[-1].split("=")[-1])
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not write its port within {timeout}s")


def http_call(port: int, method: str, path: str, body: bytes | None = None,
              headers: dict | None = None, timeout: float = 30.0) -> tuple[int, dict, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


# --------------------------------------------------------------------------- /proc readings

class ProcStats:
    def __init__(self, pid: int):
        self.pid = pid

    def cpu_seconds(self) -> float:
        """utime + stime of all threads, in seconds (clock-tick resolution, usually 10 ms)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK     # fields 14, 15 of stat(5)

    def status_kb(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def rss_mb(self) -> float:
        return self.status_kb("VmRSS") / 1024

    def hwm_mb(self) -> float:
        return self.status_kb("VmHWM") / 1024

    def reset_hwm(self) -> bool:
        """Reset VmHWM to the current RSS (write 5 to clear_refs; Linux ≥ 4.0, needs ptrace rights)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def fds(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1


# --------------------------------------------------------------------------- processes we own

class Child:
    """A process we started; stopped by its own pid only."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None):
        self.name, self.log = name, log
        self.logf = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        self.pid = self.proc.pid
        self.stats = ProcStats(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        self.logf.close()

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def gateway_config(providers: dict, routes: list, wd: Path, max_connections: int = 4096) -> dict:
    """A gateway config (JSON is valid YAML): auth open, no limits, access log to a file, and the
    usage ledger in its default place (an SQLite file in the work dir) unless
    SWITCHYARD_BENCH_STATE says otherwise (`off` measures the gateway without the ledger)."""
    state = os.environ.get("SWITCHYARD_BENCH_STATE", "sqlite:" + str(wd / "ledger.sqlite"))
    config = {} if state == "omit" else {"state": {"url": state}}   # omit: for builds older than the ledger
    return config | {
        "server": {"listen": "127.0.0.1:0", "max_connections": max_connections, "shutdown_grace": "1s",
                   "max_body_bytes": "32MiB"},
        "providers": providers,
        "routes": routes,
        "fallback": {"cooldown": "0s"},
        "auth": {"mode": "open"},
        "logging": {"level": "info", "format": "json", "access_log": str(wd / "access.log")},
    }


def openai_provider(base_url: str, max_connections: int = 256, connect_timeout: str = "5s") -> dict:
    return {"kind": "openai", "dialect": "openai", "base_url": base_url, "api_key": "bench",
            "max_connections": max_connections,
            "timeouts": {"connect": connect_timeout, "first_byte": "120s", "idle": "120s"}}


class Gateway(Child):
    def __init__(self, config: dict, wd: Path, tag: str = "gateway"):
        self.config_path = wd / f"{tag}.json"
        self.config_path.write_text(json.dumps(config, indent=2))
        port_file = wd / f"{tag}.port"
        port_file.unlink(missing_ok=True)
        binary = gateway_bin()
        chk = subprocess.run([binary, "check", str(self.config_path)], capture_output=True, text=True)
        if chk.returncode != 0:
            raise RuntimeError(f"generated config rejected by `switchyard check`:\n{chk.stdout}{chk.stderr}")
        super().__init__(tag, [binary, "serve", "--config", str(self.config_path), "--listen", "127.0.0.1:0",
                               "--port-file", str(port_file)], wd / f"{tag}.log")
        try:
            self.port = wait_port_file(port_file, self.proc, "switchyard")
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http_call(self.port, "GET", "/health", timeout=5)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("switchyard /health never answered 200")
                time.sleep(0.05)
        except Exception:
            self.stop(signal.SIGKILL)
            raise RuntimeError(f"switchyard failed to start; log tail:\n{self.tail()}")

    def metric(self, name: str) -> float | None:
        try:
            st, _, body = http_call(self.port, "GET", "/metrics", timeout=10)
        except OSError:
            return None
        if st != 200:
            return None
        total, seen = 0.0, False
        for line in body.decode(errors="replace").splitlines():
            if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
                seen = True
        return total if seen else None


class PyUpstream(Child):
    """Benchmarks/upstream/fast_upstream.py on a free port."""

    def __init__(self, wd: Path, tag: str = "pyupstream", extra: list[str] | None = None):
        port_file = wd / f"{tag}.port"
        port_file.unlink(missing_ok=True)
        super().__init__(tag, [sys.executable, str(UPSTREAM_DIR / "fast_upstream.py"), "--port", "0",
                               "--port-file", str(port_file)] + (extra or []), wd / f"{tag}.log")
        self.port = wait_port_file(port_file, self.proc, "fast_upstream.py")

    def stats_json(self) -> dict:
        return json.loads(http_call(self.port, "GET", "/_stats")[2])

    def last_request(self) -> bytes:
        return http_call(self.port, "GET", "/_last_request")[2]


class Nginx(Child):
    """nginx with Benchmarks/upstream/nginx_upstream.py's config, in the foreground (daemon off)."""

    def __init__(self, wd: Path, workers: int = 1, stream_chunks: int = 20):
        if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
            raise RuntimeError("nginx is not installed: run Benchmarks/setup.sh")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        port = free_port()
        prefix = wd / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        subprocess.run([sys.executable, str(UPSTREAM_DIR / "nginx_upstream.py"), "--port", str(port),
                        "--prefix", str(prefix), "--workers", str(workers), "--chunks", str(stream_chunks),
                        "--out", str(conf)], check=True)
        super().__init__("nginx", [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"),
                                   "-g", "daemon off;"],
                         wd / "nginx.log")
        self.port = port
        deadline = time.monotonic() + 15
        while True:
            try:
                if http_call(port, "GET", "/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"nginx failed to start:\n{self.tail()}")
            time.sleep(0.05)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- HTTP/1.1 response reader

class ResponseReader:
    """Incremental HTTP/1.1 response parser for raw asyncio sockets.

    feed(data) consumes bytes of ONE response and returns the unconsumed rest (bytes of a following
    response, normally empty).  After the head: .status, .headers; body bytes (chunked encoding
    decoded) are passed to on_body(bytes).  .done is set at the end of the body.
    """

    __slots__ = ("buf", "status", "headers", "chunked", "remaining", "done", "on_body", "_chunk_left", "_trailer")

    def __init__(self, on_body=None):
        self.buf = b""
        self.status = 0
        self.headers: dict[str, str] | None = None
        self.chunked = False
        self.remaining = -1           # content-length bytes left, -1 = read to close
        self.done = False
        self.on_body = on_body
        self._chunk_left = -1         # -1: expecting a chunk-size line
        self._trailer = False

    def feed(self, data: bytes) -> bytes:
        buf = self.buf + data if self.buf else data
        self.buf = b""
        if self.headers is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return b""
            lines = buf[:end].decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            self.headers = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            buf = buf[end + 4:]
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                self.chunked = True
            elif "content-length" in self.headers:
                self.remaining = int(self.headers["content-length"])
                if self.remaining == 0:
                    self.done = True
                    return buf
        if self.chunked:
            return self._feed_chunked(buf)
        if self.remaining >= 0:
            take = buf[:self.remaining]
            self.remaining -= len(take)
            if take and self.on_body:
                self.on_body(take)
            if self.remaining == 0:
                self.done = True
            return buf[len(take):]
        if buf and self.on_body:
            self.on_body(buf)
        return b""

    def _feed_chunked(self, buf: bytes) -> bytes:
        pos, n = 0, len(buf)
        while pos < n and not self.done:
            if self._trailer:                      # after the 0-size chunk: optional trailers, then CRLF
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                line, pos = buf[pos:eol], eol + 2
                if not line:
                    self.done = True
                continue
            if self._chunk_left < 0:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(buf[pos:eol].split(b";", 1)[0], 16)
                pos = eol + 2
                if size == 0:
                    self._trailer = True
                    continue
                self._chunk_left = size
            if self._chunk_left > 0:
                take = buf[pos:pos + self._chunk_left]
                pos += len(take)
                self._chunk_left -= len(take)
                if take and self.on_body:
                    self.on_body(take)
            if self._chunk_left == 0:
                if n - pos < 2:
                    break
                pos += 2                           # CRLF after the chunk data
                self._chunk_left = -1
        rest = buf[pos:]
        if self.done:
            return rest
        self.buf = rest
        return b""


def build_post(port: int, path: str, body: bytes, extra_headers: dict | None = None) -> bytes:
    h = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
         "Accept: */*", f"Content-Length: {len(body)}"]
    for k, v in (extra_headers or {}).items():
        h.append(f"{k}: {v}")
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


# --------------------------------------------------------------------------- numbers and tables

def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list; NaN when empty."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, math.ceil(p / 100.0 * len(v)) - 1))
    return v[k]


def median(values: list[float]) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    def fmt(r):
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    out = []
    if title:
        out.append(title)
    out.append(fmt(headers))
    out.append("  ".join("-" * w for w in widths))
    out.extend(fmt(r) for r in cells)
    return "\n".join(out)


def verdict(ok: bool | None, smoke: bool) -> str:
    if smoke:
        return "n/a (smoke)"
    if ok is None:
        return "n/a"
    return "PASS" if ok else "FAIL"


def fmt_ms(x: float, digits: int = 3) -> str:
    return "nan" if x != x else f"{x:.{digits}f} ms"


def fmt_us(x: float, digits: int = 1) -> str:
    return "nan" if x != x else f"{x:.{digits}f} µs"


def report_results(results: dict, checks: list, failures: list, json_path, work_dir, binary) -> bool:
    """The common end of a benchmark: the debug-build note, budgets and failures stored in
    `results` (written to `json_path` when given), and the run problems printed. True when the
    run is invalid."""
    import json as _json
    from pathlib import Path as _Path
    if is_debug_build(binary):
        print("NOTE: debug build; build the release binary for real numbers.")
    results["budgets"] = [{"budget": c[0], "measured": c[1], "ok": c[2]} for c in checks]
    results["failures"] = failures
    if json_path:
        _Path(json_path).write_text(_json.dumps(results, indent=2, default=str))
    if failures:
        print("\nRUN PROBLEMS (the numbers above are not valid):")
        for f in failures:
            print(f"  - {f}")
        print(f"logs: {work_dir}")
        return True
    return False
