#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# liaison store copy (issue 12 point 5), docs/performance.md:
#   bench/copy.sh BUILD ROWS DIR
# makes DIR/src.db, a SQLite store of bench_pipeline's ROWS rows (one
# `bench_pipeline ingest`: events, dedup state, route decisions, rollups;
# kept for the next run), starts a PostgreSQL 15 of its own
# (tests/pg/with_pg.sh: 127.0.0.1, fsync=off), then times
#   1. liaison store copy DIR/src.db -> a new PostgreSQL database
#   2. liaison store copy that database -> DIR/back.db (a new SQLite file)
#   3. liaison store copy DIR/src.db -> DIR/copy.db (SQLite to SQLite)
# each line of the CLI's summary (rows, rows/s, seconds) and the events'
# share. The load of the machine is printed before and after (uptime).
set -eu
if [ -z "${LIAISON_TEST_PG:-}" ]; then
    exec "$(dirname "$0")/../tests/pg/with_pg.sh" "$0" "$@"
fi
build=$1 rows=$2 dir=$3
bench=$build/bench/bench_pipeline
liaison=$build/src/cli/liaison
psql="/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1"
mkdir -p "$dir"
cd "$dir"
base=${LIAISON_TEST_PG%/*}
export LIAISON_ARCHIVE_DIR="$dir/pg-archive"
uptime
if [ ! -f "$dir/src.db" ]; then
    [ -f "$dir/r-$rows.csv" ] || "$bench" gen "$rows" "$dir/r-$rows.csv"
    mkdir -p "$dir/map"
    "$bench" all 1 "$dir/map" >/dev/null 2>&1 || true # writes DIR/map/map.json
    "$bench" ingest "$dir/r-$rows.csv" "$dir/map/map.json" "$dir/src.db" | head -1
fi
echo "source: $(sqlite3 "$dir/src.db" 'SELECT count(*) FROM events') events"
$psql -d "$base/postgres" -c "DROP DATABASE IF EXISTS copy" -c "CREATE DATABASE copy"
rm -rf "$dir/back.db"* "$dir/copy.db"* "$LIAISON_ARCHIVE_DIR" liaison.audit-key
echo "== 1 SQLite -> PostgreSQL =="
/usr/bin/time -f "%e s, %M KiB peak" "$liaison" store copy -q "$dir/src.db" "$base/copy" | grep -E "^  events |^copy"
echo "== 2 PostgreSQL -> SQLite =="
/usr/bin/time -f "%e s, %M KiB peak" "$liaison" store copy -q "$base/copy" "$dir/back.db" | grep -E "^  events |^copy"
echo "== 3 SQLite -> SQLite =="
/usr/bin/time -f "%e s, %M KiB peak" "$liaison" store copy -q "$dir/src.db" "$dir/copy.db" | grep -E "^  events |^copy"
uptime
