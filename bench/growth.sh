#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Ingest rate as the store grows (issue 12 point 1, docs/performance.md
# "Time partitions"): reports of ROWS rows (default 1,000,000), each its own
# random rows on its own day (bench_pipeline gen with BENCH_SEED), ingested
# one after the other end to end (bench_pipeline ingest: parse, normalise,
# enrich, dedup, route, store, archive) into DIR/s.db, until the store holds
# EVENTS events or the disk has less than MIN_FREE_GB (default 30) free.
# One line per report: events in the store before it, its rate, the store's
# size, the CPU time. Usage: bench/growth.sh DIR EVENTS [ROWS]
set -eu
dir=$1 target=$2 rows=${3:-1000000}
b=${BENCH_BIN:-build/bench/bench_pipeline}
min_free=${MIN_FREE_GB:-30}
mkdir -p "$dir"
[ -f "$dir/map.json" ] || { mkdir -p "$dir/m" && "$b" all 1 "$dir/m" > /dev/null && cp "$dir/m/map.json" "$dir/map.json"; }
k=$(cat "$dir/next" 2>/dev/null || echo 0)
while :; do
    before=$(( k * rows ))
    [ "$before" -ge "$target" ] && break
    free=$(df -BG --output=avail "$dir" | tail -1 | tr -dc 0-9)
    [ "$free" -lt "$min_free" ] && { echo "stopped: ${free} GB free"; break; }
    BENCH_SEED=$k "$b" gen "$rows" "$dir/r.csv"
    line=$(/usr/bin/time -f "cpu %U %S" -o "$dir/cpu" "$b" ingest "$dir/r.csv" "$dir/map.json" "$dir/s.db" |
        head -1)
    size=$(du -sm "$dir/s.db" | cut -f1)
    # CPU time (both threads: the pipeline and the archive's gzip): what a
    # loaded machine's wall clock does not say
    cpu=$(awk '/^cpu/ {printf "%.1f", $2 + $3}' "$dir/cpu")
    ev=$(echo "$line" | awk '{print $2}')
    echo "$before events before: $line; CPU $cpu s = $(awk "BEGIN {printf \"%.0f\", $ev / $cpu}") events per CPU second; store $size MB; load $(cut -d' ' -f1 /proc/loadavg)"
    k=$((k + 1))
    echo "$k" > "$dir/next"
    rm -rf "$dir/s.db.archive"/* # the archived reports: not what is measured, and disk
done
