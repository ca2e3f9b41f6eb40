"""A throwaway PostgreSQL cluster for the suites that need one (initdb in a temp directory, a
loopback port, run as the `postgres` user when the tests run as root: PostgreSQL refuses to run as
root). scripts/test installs Debian's postgresql when it is missing."""
import glob
import os
import pathlib
import shutil
import socket
import contextlib
import subprocess
import tempfile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class Cluster:
    def __init__(self, root: pathlib.Path):
        self.dir = root / "pgdata"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def run(self, *args, **kw):
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)

    def init(self):
        self.dir.mkdir(parents=True)
        if self.user:
            shutil.chown(self.dir, self.user)
        out = self.run(_bin("initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        assert out.returncode == 0, out.stderr

    def start(self):
        options = f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off -c full_page_writes=off"
        out = self.run(_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.dir / "server.log"), "-o", options, "-w", "-t", "60", "start")
        assert out.returncode == 0, out.stdout + out.stderr
        self.running = True

    def stop(self):
        if getattr(self, "running", False):
            out = self.run(_bin("pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "-t", "60", "stop")
            assert out.returncode == 0, out.stdout + out.stderr
            self.running = False

    def sql(self, query: str, check: bool = True) -> str:
        out = subprocess.run([_bin("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                              "-Atc", query], capture_output=True, text=True, timeout=30)
        if check:
            assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"




def drop_all(cluster: "Cluster") -> None:
    """Every table and function the gateway creates, so the next gateway migrates from nothing."""
    cluster.sql("DROP TABLE IF EXISTS usage_records, usage_daily, schema_migrations, limiter_events, limiter_counts, limiter_leases, "
                "budget_accounts, budget_reservations, target_cooldowns")
    cluster.sql("DROP FUNCTION IF EXISTS switchyard_admit, switchyard_settle")


def available() -> bool:
    return bool(_bin("initdb") and _bin("postgres"))


@contextlib.contextmanager
def running_cluster():
    """A started cluster, stopped and removed at the end. Not under pytest's own temp root: that
    one is private to root, and the cluster runs as postgres."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="switchyard-pg-"))
    os.chmod(root, 0o755)
    c = Cluster(root)
    try:
        c.init()
        c.start()
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


try:
    import pytest

    @pytest.fixture(scope="module")
    def cluster():
        """A throwaway cluster for a test module (import this fixture into the module)."""
        if not available():
            pytest.skip("PostgreSQL server binaries are not installed (scripts/test installs Debian's postgresql)")
        with running_cluster() as c:
            yield c
except ImportError:  # used outside pytest (the benchmarks)
    pass
