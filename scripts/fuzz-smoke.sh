#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run every fuzz target in BUILD for SECONDS each (split over the targets'
# corpora in fuzz/corpus/NAME); record "NAME ok|fail" in BUILD/fuzz-results.txt.
# Dictionary: fuzz/NAME.dict if there is one, else the one of the target's
# grammar from the table in dict_for.
set -u

# Targets that share a grammar share a dictionary (fuzz/GRAMMAR.dict).
dict_for() {
    case "$1" in
    jsonl | stix | misp | schema | sectors | taxii_post | taxii_page | taxii_status | misp_manifest) echo json ;;
    csv | csvmap | shadowserver | ipcsv | rir | feeds) echo csv ;;
    rules | owners | partners) echo yaml ;;
    http_headers | taxii_query) echo http ;;
    enrich_conf) echo ini ;;
    *) echo "$1" ;;
    esac
}

build=${1:-build-fuzz}
secs=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
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
    dict="$top/fuzz/$short.dict"
    [ -f "$dict" ] || dict="$top/fuzz/$(dict_for "$short").dict"
    extra=""
    [ -f "$dict" ] && extra="-dict=$dict"
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
