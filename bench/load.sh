#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Load and slow clients (issue 16 point 5), figures in docs/security.md,
# section "Load":
#  1. wrk at saturation against the TAXII objects endpoint for DURATION
#     (default 600 s), the server's RSS sampled every 10 s (memory flat?);
#  1b. wrk at saturation against the REST API (/api/v1/incidents: pages of
#     100 with filters, and single incidents with their hand-offs) for
#     API_DURATION (default DURATION) over INCIDENTS incidents (default 1000);
#  2. SLOW slow clients (default 300, from 127.0.0.2-.6: the per-address limit
#     is 64) trickling their headers a byte at a time and reconnecting when
#     cut, while a normal client on 127.0.0.1 keeps asking; how many of its
#     requests are answered, and how fast.
#
#   bench/load.sh [BUILD] [N] [WORKDIR]      DURATION=600 API_DURATION=600 SLOW=300 SLOW_SECS=60
set -eu
build=${1:-build}
n=${2:-100000}
work=${3:-/tmp/liaison-bench-load}
port=${PORT:-18744}
duration=${DURATION:-600}
conns=${CONNS:-16}
api_duration=${API_DURATION:-$duration}
incidents=${INCIDENTS:-1000}
slow=${SLOW:-300}
slow_secs=${SLOW_SECS:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null 2>&1 || { echo "load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$work"
db="$work/taxii.db"
[ -f "$db.paths" ] || "$build/bench/bench_taxii" gen "$db" "$n"
key=$(cat "$db.key")
# incidents for the REST API, handed off to a partner, made once per store
if [ ! -f "$db.api-paths" ]; then
    i=1
    while [ $i -le "$incidents" ]; do
        sev=low
        [ $((i % 4)) -eq 0 ] && sev=high
        "$build/src/cli/liaison" --db "$db" incident create --title "load $i" --severity "$sev" \
            --countries KH,MY --recipient "bench-$((i % 10))" > /dev/null
        i=$((i + 1))
    done
    {
        echo "/api/v1/incidents?limit=100"
        echo "/api/v1/incidents?limit=100&severity=high"
        echo "/api/v1/incidents?limit=100&country=KH"
        echo "/api/v1/incidents?limit=100&status=new"
        i=1
        while [ $i -le "$incidents" ]; do echo "/api/v1/incidents/$i"; i=$((i + 7)); done
    } > "$db.api-paths"
fi

"$build/src/cli/liaison" --db "$db" serve --listen "127.0.0.1:$port" --threads "$(nproc)" \
    --access-log /dev/null 2>"$work/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "load: server did not start:"; cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
rss() { awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$pid/status"; }

echo "== 1. wrk -t2 -c$conns -d${duration}s, RSS of the server every 10 s (MB)"
wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$top/bench/taxii_pages.lua" \
    "http://127.0.0.1:$port" -- "$db.paths" "$key" > "$work/wrk.txt" &
wpid=$!
samples=""
while kill -0 "$wpid" 2>/dev/null; do
    samples="$samples $(rss)"
    sleep 10
done
wait "$wpid"
cat "$work/wrk.txt"
echo "rss MB:$samples"
echo "$samples" | tr ' ' '\n' | awk 'NF { if ($1 > m) m = $1; if (!f) f = $1; l = $1; c++ }
    END { printf "rss: first %.1f, last %.1f, max %.1f MB (%d samples)\n", f, l, m, c }'

echo "== 1b. wrk -t2 -c$conns -d${api_duration}s against the REST API, RSS every 10 s (MB)"
wrk -t2 -c"$conns" -d"${api_duration}s" --latency -s "$top/bench/api_pages.lua" \
    "http://127.0.0.1:$port" -- "$db.api-paths" "$key" > "$work/wrk-api.txt" &
wpid=$!
samples=""
while kill -0 "$wpid" 2>/dev/null; do
    samples="$samples $(rss)"
    sleep 10
done
wait "$wpid"
cat "$work/wrk-api.txt"
echo "rss MB:$samples"
echo "$samples" | tr ' ' '\n' | awk 'NF { if ($1 > m) m = $1; if (!f) f = $1; l = $1; c++ }
    END { printf "rss: first %.1f, last %.1f, max %.1f MB (%d samples)\n", f, l, m, c }'

echo "== 2. $slow slow clients for ${slow_secs}s while a normal client asks"
python3 "$top/bench/slow_clients.py" "$port" "$slow" "$slow_secs" "$key" \
    "$(head -n 1 "$db.paths")"
echo "rss after: $(rss) MB"
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT INT TERM
