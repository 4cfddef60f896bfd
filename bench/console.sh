#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The console's dashboard endpoint at scale, figures in docs/performance.md,
# section "Dashboard summary":
#  1. N routed events (default 1,000,000; bench_pipeline's Shadowserver-shaped
#     ICS/IoT report over 36 countries, one partner CERT per foreign country,
#     as bench/incidents.sh builds it) ingested with `liaison ingest` (its
#     wall time: the rollups the summary reads are written with the events).
#  2. `liaison serve` on 127.0.0.1, an analyst of our own team logged in to
#     the console (a session cookie), and GET /console/data/summary?days=30
#     &top=10 timed with curl RUNS times (default 5): every time and the
#     median. The server is stopped at the end.
#  3. UPGRADE=1: the same store with its rollups dropped and their schema
#     (store.rollup) forgotten, opened again: what the upgrade of an existing store
#     costs (the rollups built from the events).
#
#  4. COPIES=K (K > 1): the stored events copied in SQL until the store holds
#     K x N (lines shifted, so each copy is new), and the rollups rebuilt
#     from all of them as by an upgrade: a store of 10,000,000 events in a
#     few minutes instead of the ingest's ten. The summary reads only the
#     rollups, hand-offs, incidents and feeds, never the events.
#
#  5. BROWSER=1: the dashboard loaded RUNS times in headless chromium
#     (bench/console_load.mjs): time to the first screen's charts drawn and
#     to every chart drawn.
#
#   bench/console.sh [BUILD] [N] [WORKDIR]   RUNS=5 PORT=18746 UPGRADE=0 COPIES=1 BROWSER=0
set -eu
build=${1:-build}
n=${2:-1000000}
work=${3:-/tmp/liaison-bench-console}
port=${PORT:-18746}
runs=${RUNS:-5}
lia="$build/src/cli/liaison"
pw="correct horse battery staple"
mkdir -p "$work"
report="$work/report-$n.csv"
[ -f "$report" ] || "$build/bench/bench_pipeline" gen "$n" "$report"
[ -f "$work/map.json" ] || "$build/bench/bench_pipeline" all 1 "$work" > /dev/null
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

db="$work/console-$n.db"
rm -rf "$db" "$db-wal" "$db-shm" "$db.archive"
"$lia" --db "$db" partners import "$work/partners.yaml" > /dev/null
"$lia" --db "$db" route load "$work/plain.yaml" > /dev/null
"$lia" --db "$db" feeds add bench --format csv --url https://feeds.example/bench.csv > /dev/null 2>&1 || true
echo "== 1. ingest $n rows"
t0=$(date +%s.%N)
"$lia" --db "$db" ingest -q --feed bench --format csv --map "$work/map.json" --no-archive "$report"
t1=$(date +%s.%N)
echo "ingest: $(echo "$t1 - $t0" | bc) s wall"

copies=${COPIES:-1}
if [ "$copies" -gt 1 ]; then
    echo "== 4. the events copied to $copies x $n"
    t0=$(date +%s.%N)
    python3 - "$db" "$copies" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
top = c.execute("SELECT max(id), max(line) FROM events").fetchone()
for k in range(1, int(sys.argv[2])):
    c.execute("""INSERT INTO events(report_id, line, time, src_ip, src_asn, src_cc, class, tlp, body)
                 SELECT report_id, line + ?, time, src_ip, src_asn, src_cc, class, tlp, body FROM events
                 WHERE id <= ?""", (k * (top[1] + 1), top[0]))
    c.commit()
c.executescript("""DROP TABLE events_by_day; DROP TABLE events_by_cc; DROP TABLE events_by_asn;
DROP TABLE events_by_report; DROP TABLE events_exposure;
DELETE FROM lia_schema WHERE module = 'store.rollup';""")
c.commit()
PY
    "$lia" --db "$db" feeds list > /dev/null
    t1=$(date +%s.%N)
    echo "copies and rollups rebuilt: $(echo "$t1 - $t0" | bc) s wall"
fi

if [ "${UPGRADE:-0}" = 1 ]; then
    python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""DROP TABLE events_by_day; DROP TABLE events_by_cc; DROP TABLE events_by_asn;
DROP TABLE events_by_report; DROP TABLE events_exposure;
DELETE FROM lia_schema WHERE module = 'store.rollup';""")
c.commit()
PY
    echo "== 3. upgrade: the rollups built from $n stored events"
    t0=$(date +%s.%N)
    "$lia" --db "$db" feeds list > /dev/null
    t1=$(date +%s.%N)
    echo "upgrade: $(echo "$t1 - $t0" | bc) s wall"
fi

"$lia" --db "$db" accounts org-add bench-team --kind own > /dev/null
echo "$pw" | "$lia" --db "$db" accounts user-add bench-team bench --role analyst --password-stdin > /dev/null
"$lia" --db "$db" serve --listen "127.0.0.1:$port" --access-log /dev/null 2>"$work/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "console: server did not start:"; cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
curl -sf -c "$work/cookies" -H 'Content-Type: application/json' \
    -d "{\"user\":\"bench\",\"password\":\"$pw\"}" "http://127.0.0.1:$port/console/login" > /dev/null
url="http://127.0.0.1:$port/console/data/summary?days=30&top=10"
echo "== 2. GET /console/data/summary?days=30&top=10, $runs times"
: > "$work/times"
i=0
while [ $i -lt "$runs" ]; do
    curl -sf -b "$work/cookies" -o "$work/summary.json" -w '%{time_total}\n' "$url" >> "$work/times"
    i=$((i + 1))
done
echo "times (s): $(tr '\n' ' ' < "$work/times")"
echo "median: $(sort -n "$work/times" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}') s"
echo "answer: $(wc -c < "$work/summary.json") bytes, total $(python3 -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$work/summary.json") events"
if [ "${BROWSER:-0}" = 1 ]; then
    echo "== 5. the dashboard in chromium, $runs loads"
    node "$(dirname "$0")/console_load.mjs" "http://127.0.0.1:$port" bench "$pw" "$runs"
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT INT TERM
