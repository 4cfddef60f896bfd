#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The statistics report (liaison report build, docs/reports.md) at scale,
# figures in docs/performance.md, section "Statistics reports":
#  1. the store of bench/console.sh (N events of one month, 2026-11, ingested
#     with `liaison ingest`: bench_pipeline's Shadowserver-shaped ICS/IoT
#     report over 36 countries, one partner CERT per foreign country),
#     filled by it unless WORKDIR already holds it;
#  2. `liaison report build --period 2026-11` as csv and html, RUNS times
#     each (default 5): every wall time and the median.
#
#   bench/report.sh [BUILD] [N] [WORKDIR]   RUNS=5
set -eu
build=${1:-build}
n=${2:-1000000}
work=${3:-/tmp/liaison-bench-report}
runs=${RUNS:-5}
lia="$build/src/cli/liaison"
db="$work/console-$n.db"
if [ ! -f "$db" ]; then
    RUNS=1 "$(dirname "$0")/console.sh" "$build" "$n" "$work"
fi
echo "== events in the store: $(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM events").fetchone()[0])' "$db")"
for fmt in csv html; do
    : > "$work/times-$fmt"
    i=0
    while [ $i -lt "$runs" ]; do
        t0=$(date +%s.%N)
        "$lia" --db "$db" report build --period 2026-11 --format "$fmt" --out "$work/report.$fmt"
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc >> "$work/times-$fmt"
        i=$((i + 1))
    done
    echo "$fmt: times (s): $(tr '\n' ' ' < "$work/times-$fmt")"
    echo "$fmt: median: $(sort -n "$work/times-$fmt" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}') s," \
        "$(wc -c < "$work/report.$fmt") bytes"
done
