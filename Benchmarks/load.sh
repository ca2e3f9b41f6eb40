#!/usr/bin/env bash
# Switchyard load benchmark: wrk against the upstream directly and through the gateway,
# non-streaming and streaming, plus a fixed-rate (open loop) latency run. See Benchmarks/README.md.
#   Benchmarks/load.sh            full run (about 2.5 minutes)
#   Benchmarks/load.sh --smoke    a few seconds; checks the plumbing, numbers are meaningless
# Env: SWITCHYARD_BIN (default .build/release/switchyard), DURATION=20, CONNECTIONS=32, THREADS=2,
#      RATE=1000, RATE_DURATION=15, NGINX_WORKERS=1. Other flags: --json FILE, --strict, --keep,
#      --no-fixed-rate, --no-large.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# 32 wrk connections need few fds, but keep the limit high for the gateway and its upstream pool
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# exec the interpreter itself (not a version-manager shim), so a SIGTERM to this script reaches it
# and it stops the processes it started
py="$(python3 -c 'import sys; print(sys.executable)')"
exec "$py" "$here/load_bench.py" "$@"
