#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# make fuzz: run libFuzzer targets for SECONDS each, one process each (one
# core, so the wall time is the CPU time), with the target's corpus and
# dictionary; merge the new inputs that add coverage into fuzz/corpus/NAME
# (-merge=1 keeps every existing seed and adds only what covers more); append
# one line per run to fuzz/ledger.tsv. Crashes stay in BUILD/fuzz-long/NAME.
#
#   scripts/fuzz.sh BUILD SECONDS [TARGET...]   run (all targets if none named)
#   scripts/fuzz.sh --ledger                    CPU-hours per target so far
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ledger="$top/fuzz/ledger.tsv"

if [ "${1:-}" = "--ledger" ]; then
    [ -f "$ledger" ] || { echo "fuzz: no ledger yet ($ledger)" >&2; exit 1; }
    awk -F'\t' 'NR > 1 { s[$2] += $3; x[$2] += $4; n[$2]++; if ($7 != "ok") bad[$2]++ }
        END { for (t in s) { printf "%-16s %5d %10.2f %14d %6d\n", t, n[t], s[t] / 3600, x[t], bad[t];
                             all += s[t] }
              printf "~all             %5s %10.2f\n", "", all / 3600 }' "$ledger" | sort | sed 's/^~//' > "${TMPDIR:-/tmp}/fuzz-ledger.$$"
    printf "%-16s %5s %10s %14s %6s\n" target runs CPU-hours executions failed
    cat "${TMPDIR:-/tmp}/fuzz-ledger.$$" && rm -f "${TMPDIR:-/tmp}/fuzz-ledger.$$"
    exit 0
fi

build=${1:?usage: fuzz.sh BUILD SECONDS [TARGET...]}
secs=${2:?usage: fuzz.sh BUILD SECONDS [TARGET...]}
shift 2
case "$secs" in '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;; esac
. "$top/scripts/fuzz-dict.sh"
[ -f "$ledger" ] || printf 'date\ttarget\tseconds\texecutions\tcorpus_before\tcorpus_after\tresult\tcommit\n' > "$ledger"
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "-")
if [ $# -eq 0 ]; then
    for bin in "$build"/fuzz/fuzz_*; do
        [ -f "$bin" ] && [ -x "$bin" ] && set -- "$@" "$(basename "$bin" | sed 's/^fuzz_//')"
    done
fi
[ $# -gt 0 ] || { echo "fuzz: no fuzz targets in $build/fuzz (make fuzz-build first)" >&2; exit 1; }
# minimise BIN CORPUS WORK [-dict=D]: the smallest set of the corpus and the
# new inputs that reaches everything they reach (-merge=1 into an empty
# directory) replaces the generated inputs (named by their SHA-1); the
# hand-written seeds (any other name) always stay.
minimise() {
    mbin=$1 mcorpus=$2 mwork=$3
    shift 3
    rm -rf "$mwork/min" && mkdir -p "$mwork/min"
    if ! "$mbin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$@" "$mwork/min" "$mcorpus" "$mwork/new" \
        > "$mwork/merge.log" 2>&1; then
        echo "fuzz: $(basename "$mbin"): minimising the corpus failed, corpus unchanged; see $mwork/merge.log" >&2
        return 0
    fi
    seeds=""
    for f in "$mcorpus"/*; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        if expr "$b" : '[0-9a-f]\{40\}$' >/dev/null; then
            rm -f "$f"
        else
            seeds="$seeds $(sha1sum < "$f" | cut -c1-40)"
        fi
    done
    for f in "$mwork/min"/*; do
        [ -f "$f" ] || continue
        case "$seeds " in *" $(basename "$f") "*) continue ;; esac
        cp "$f" "$mcorpus/"
    done
}

status=0
for short in "$@"; do
    bin="$build/fuzz/fuzz_$short"
    [ -x "$bin" ] || { echo "fuzz: no target $short in $build/fuzz" >&2; status=1; continue; }
    work="$build/fuzz-long/$short"
    corpus="$top/fuzz/corpus/$short"
    rm -rf "$work" && mkdir -p "$work/new" "$corpus"
    before=$(ls "$corpus" | wc -l)
    dict=$(dict_file "$short")
    set --
    [ -n "$dict" ] && set -- "-dict=$dict"
    start=$(date +%s)
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "$@" "$work/new" "$corpus" > "$work/log" 2>&1; then
        result=ok
    elif grep -q 'ERROR: libFuzzer: timeout' "$work/log"; then
        result=timeout # an input ran past -timeout: slow, or a machine under load
        status=1
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$work/log"; then
        result=oom
        status=1
    else
        result=crash
        status=1
    fi
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -n 1)
    minimise "$bin" "$corpus" "$work" "$@"
    after=$(ls "$corpus" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$short" "$took" \
        "${execs:-0}" "$before" "$after" "$result" "$commit" >> "$ledger"
    echo "fuzz: $short $result: ${execs:-?} runs in ${took}s, corpus $before -> $after"
    [ "$result" = ok ] || { echo "fuzz: $short: $result input and log in $work" >&2; tail -n 30 "$work/log" >&2; }
done
exit $status
