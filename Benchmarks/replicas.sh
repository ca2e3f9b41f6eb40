#!/usr/bin/env bash
# Switchyard replicas benchmark: one gateway with the SQLite ledger vs two replicas sharing
# PostgreSQL behind nginx (throughput, CPU/request, added p50/p99 at a fixed rate), and the shared
# rpm limiter's accuracy under load. See Benchmarks/README.md.
#   Benchmarks/replicas.sh            full run (about 4 minutes)
#   Benchmarks/replicas.sh --smoke    a few seconds per step; checks the plumbing, numbers are meaningless
# Env: SWITCHYARD_BIN (default .build/release/switchyard), DURATION=20, CONNECTIONS=32, THREADS=2,
#      RATE=500, RATE_DURATION=15, RPM=3000, ACCURACY_DURATION=65, ACCURACY_CONNECTIONS, NGINX_WORKERS=1,
#      STATE_POOL. Other flags: --json FILE, --skip-accuracy, --strict, --keep.
# Needs PostgreSQL's server binaries (Debian: apt-get install postgresql) besides what setup.sh installs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# exec the interpreter itself (not a version-manager shim), so a SIGTERM to this script reaches it
# and it stops the processes it started
py="$(python3 -c 'import sys; print(sys.executable)')"
exec "$py" "$here/replicas_bench.py" "$@"
