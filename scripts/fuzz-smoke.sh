#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run every fuzz target in BUILD for SECONDS each (split over the targets'
# corpora in fuzz/corpus/NAME); record "NAME ok|fail" in BUILD/fuzz-results.txt.
# Dictionary: see scripts/fuzz-dict.sh.
set -u

build=${1:-build-fuzz}
secs=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/fuzz-dict.sh"
results="$build/fuzz-results.txt"
: > "$results"
status=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    short=${name#fuzz_}
    work="$build/fuzz-work/$short"
    rm -rf "$work" && mkdir -p "$work"
    corpus="$top/fuzz/corpus/$short"
    set -- "$work"
    [ -d "$corpus" ] && set -- "$work" "$corpus"
    dict=$(dict_file "$short")
    extra=""
    [ -n "$dict" ] && extra="-dict=$dict"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" $extra "$@" > "$work/log" 2>&1; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
        echo "fuzz: $name ok (${execs:-?} runs in ${secs}s)"
        echo "$name ok" >> "$results"
    else
        echo "fuzz: $name FAILED; log and crash input in $work" >&2
        tail -n 30 "$work/log" >&2
        echo "$name fail" >> "$results"
        status=1
    fi
done
exit $status
