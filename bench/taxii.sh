#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# TAXII server benchmark: pages of 1,000 objects from an N-object collection
# (default 10,000,000), requests/s and latency percentiles with wrk on
# 127.0.0.1. Figures go to docs/performance.md, section "TAXII server".
#
#   bench/taxii.sh [BUILD] [N] [WORKDIR]
#
# The store is generated once in WORKDIR (bench_taxii gen: bulk insert,
# about 6 GB for 10M objects) and reused by later runs.
set -eu
build=${1:-build}
n=${2:-10000000}
work=${3:-/tmp/liaison-bench-taxii}
port=${PORT:-18743}
threads=${THREADS:-$(nproc)}
duration=${DURATION:-30s}
conns=${CONNS:-16}
top=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v wrk >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" != 0 ] && SUDO=sudo
    $SUDO apt-get install -y -qq wrk
fi
mkdir -p "$work"
db="$work/taxii.db"
if [ ! -f "$db.paths" ]; then
    "$build/bench/bench_taxii" gen "$db" "$n"
fi
echo "== in-process (no HTTP): 2000 pages of 1000"
"$build/bench/bench_taxii" query "$db" 2000

"$build/src/cli/liaison" --db "$db" serve --listen "127.0.0.1:$port" --threads "$threads" \
    --access-log /dev/null 2>"$work/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "server did not start:"; cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
key=$(cat "$db.key")
echo "== warm-up"
wrk -t2 -c"$conns" -d5s -s "$top/bench/taxii_pages.lua" "http://127.0.0.1:$port" -- "$db.paths" "$key" >/dev/null
echo "== wrk -t2 -c$conns -d$duration, server threads $threads"
wrk -t2 -c"$conns" -d"$duration" --latency -s "$top/bench/taxii_pages.lua" \
    "http://127.0.0.1:$port" -- "$db.paths" "$key"
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT INT TERM
