#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run the pipeline benchmark at 1M rows (docs/performance.md has the figures).
set -eu
build=${1:-build}
dir=${BENCH_DIR:-/tmp/liaison-bench}
mkdir -p "$dir"
"$build/bench/bench_pipeline" all "${BENCH_ROWS:-1000000}" "$dir"
"$build/bench/bench_feeds" "${BENCH_FEED_ROWS:-200000}"
