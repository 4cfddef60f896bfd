#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Incidents at scale (issue 15 point 9), figures in docs/performance.md,
# section "Incidents at scale":
#  1. N routed events (default 1,000,000; bench_pipeline's Shadowserver-shaped
#     report over 36 countries, one partner CERT per foreign country) ingested
#     twice in one run: into a store whose routing file has no incident rules,
#     and into one whose rules open an incident per source ASN and week
#     (~100,000 incidents from 1,000,000 events) and one per recipient, feed and
#     day. The difference is what opening the incidents costs.
#  2. wrk against the REST API of the second store: pages of 100 incidents
#     with and without filters, the next page by cursor, and single incidents
#     with their hand-offs, for DURATION seconds (default 60): p50/p99.
#
#   bench/incidents.sh [BUILD] [N] [WORKDIR]      DURATION=60 CONNS=16 PORT=18745
set -eu
build=${1:-build}
n=${2:-1000000}
work=${3:-/tmp/liaison-bench-incidents}
port=${PORT:-18745}
duration=${DURATION:-60}
conns=${CONNS:-16}
top=$(cd "$(dirname "$0")/.." && pwd)
lia="$build/src/cli/liaison"
command -v wrk >/dev/null 2>&1 || { echo "incidents: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$work"
report="$work/report-$n.csv"
[ -f "$report" ] || "$build/bench/bench_pipeline" gen "$n" "$report"
# bench_pipeline's mapping, written by `all` (one row is enough)
[ -f "$work/map.json" ] || "$build/bench/bench_pipeline" all 1 "$work" > /dev/null

# one partner CERT per foreign country of the generator
{
    echo "partners:"
    for cc in US IN BR DE RU VN ID TH MY PK AE HK KH SG NL FR GB JP KR TR IR EG NG ZA MX AR CO PL IT ES \
        UA PH BD SA KZ; do
        lc=$(echo "$cc" | tr 'A-Z' 'a-z')
        echo "  - id: bench-$lc"
        echo "    name: \"Bench partner $cc\""
        echo "    countries: [$cc]"
        echo "    contacts: [soc@$lc.bench.example]"
        echo "    agreement: true"
    done
} > "$work/partners.yaml"
printf 'home_country: CN\nmode: first\n' > "$work/plain.yaml"
cat "$work/plain.yaml" - > "$work/rules.yaml" <<'EOF'
incidents:
  - name: per-asn
    group: [source.asn]
    window: 7d
  - name: daily
    group: [recipient, feed.name]
    window: 1d
EOF

# rows of a table, 0 when the store never made it
count() {
    python3 - "$@" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
known = c.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (sys.argv[2],)).fetchone()[0]
print(c.execute("SELECT count(*) FROM " + sys.argv[2]).fetchone()[0] if known else 0)
PY
}
for kind in plain rules; do
    db="$work/$kind.db"
    rm -rf "$db" "$db-wal" "$db-shm" "$db.archive"
    "$lia" --db "$db" partners import "$work/partners.yaml" > /dev/null
    "$lia" --db "$db" route load "$work/$kind.yaml" > /dev/null
    echo "== 1. ingest $n rows, routing file $kind.yaml"
    t0=$(date +%s.%N)
    "$lia" --db "$db" ingest -q --feed bench --format csv --map "$work/map.json" --no-archive "$report"
    t1=$(date +%s.%N)
    echo "$kind: $(echo "$t1 - $t0" | bc) s wall, $(count "$db" incident) incidents, $(count "$db" incident_link) links"
done

db="$work/rules.db"
"$lia" --db "$db" accounts org-add bench-team --kind own > /dev/null
"$lia" --db "$db" accounts user-add bench-team bench --role analyst > /dev/null
key=$("$lia" --db "$db" accounts key-add bench --rate 1000000 --burst 1000000 2>/dev/null)
total=$(count "$db" incident)
{
    echo "/api/v1/incidents?limit=100"
    echo "/api/v1/incidents?limit=100&country=KH"
    echo "/api/v1/incidents?limit=100&severity=high"
    echo "/api/v1/incidents?limit=100&status=triaged&country=BR"
    echo "/api/v1/incidents?limit=100&recipient=bench-us"
    i=1
    while [ $i -le "$total" ]; do echo "/api/v1/incidents/$i"; i=$((i + 97)); done
} > "$work/api-paths"

"$lia" --db "$db" serve --listen "127.0.0.1:$port" --threads "$(nproc)" --access-log /dev/null \
    2>"$work/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "incidents: server did not start:"; cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
# the second page, by the cursor of the first
next=$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/incidents?limit=100" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("next") or "")')
[ -n "$next" ] && echo "/api/v1/incidents?limit=100&next=$next" >> "$work/api-paths"
echo "== 2. wrk -t2 -c$conns -d${duration}s over $total incidents ($(wc -l < "$work/api-paths") paths)"
wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$top/bench/api_pages.lua" \
    "http://127.0.0.1:$port" -- "$work/api-paths" "$key"
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT INT TERM
