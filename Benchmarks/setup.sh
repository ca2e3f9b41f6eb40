#!/usr/bin/env bash
# Install what the benchmarks need on a new Debian/Ubuntu machine: wrk, nginx, python3 (≥ 3.11).
# Idempotent: does nothing when everything is present. Uses apt-get (as root, or through sudo).
#   Benchmarks/setup.sh            install what is missing
#   Benchmarks/setup.sh --check    only report; exit 1 when something is missing
set -euo pipefail

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  need+=(python3)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing: ${need[*]} (run Benchmarks/setup.sh)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup.sh: missing ${need[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup.sh: need root or sudo to install ${need[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the Debian nginx package may start a default site on :80 where an init system runs; the
# benchmarks never use it (they run their own nginx on a free loopback port)
if [[ " ${need[*]} " == *" python3 "* ]] && ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: python3 is older than 3.11; the benchmarks need 3.11+" >&2
  exit 1
fi
