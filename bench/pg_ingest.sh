#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench_pipeline's rows into PostgreSQL (issue 12 point 6), docs/performance.md:
#   bench/pg_ingest.sh BUILD ROWS DIR
# starts a PostgreSQL 15 of its own (tests/pg/with_pg.sh) and, in one run:
#   1. one `bench_pipeline ingest` of ROWS rows into an empty store;
#   2. two at once, each of ROWS different rows (two reports), into another
#      empty store: their events/s each and together (wall time of both);
#   3. the floor: a bare COPY (FORMAT binary, server side) of the rows run 1
#      stored, into an empty table of the same schema and indexes.
# The load of the machine is printed before and after (uptime).
set -eu
if [ -z "${LIAISON_TEST_PG:-}" ]; then
    exec "$(dirname "$0")/../tests/pg/with_pg.sh" "$0" "$@"
fi
build=$1 rows=$2 dir=$3
bench=$build/bench/bench_pipeline
psql="/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1"
mkdir -p "$dir"
base=${LIAISON_TEST_PG%/*}
uptime
# the rows: bench_pipeline's generator for 2 x ROWS, cut into two reports of ROWS
[ -f "$dir/all-$rows.csv" ] || "$bench" gen $((2 * rows)) "$dir/all-$rows.csv"
mkdir -p "$dir/map"
"$bench" all 1 "$dir/map" >/dev/null 2>&1 || true # writes DIR/map/map.json
map=$dir/map/map.json
head -1 "$dir/all-$rows.csv" >"$dir/a.csv"
head -1 "$dir/all-$rows.csv" >"$dir/b.csv"
tail -n +2 "$dir/all-$rows.csv" | head -n "$rows" >>"$dir/a.csv"
tail -n +$((rows + 2)) "$dir/all-$rows.csv" >>"$dir/b.csv"
for db in one two; do
    $psql -d "$base/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
export LIAISON_ARCHIVE_DIR="$dir/archive"
rm -rf "$LIAISON_ARCHIVE_DIR"

echo "== 1 ingest, $rows rows =="
"$bench" ingest "$dir/a.csv" "$map" "$base/one" | head -1

echo "== 2 ingests at once, $rows rows each =="
t0=$(date +%s.%N)
"$bench" ingest "$dir/a.csv" "$map" "$base/two" >"$dir/two-a.out" &
pa=$!
"$bench" ingest "$dir/b.csv" "$map" "$base/two" >"$dir/two-b.out" &
pb=$!
wait $pa
wait $pb
t1=$(date +%s.%N)
head -1 "$dir/two-a.out"
head -1 "$dir/two-b.out"
n=$($psql -tA -d "$base/two" -c "SELECT count(*) FROM events")
echo "together: $n events in $(echo "$t1 - $t0" | bc) s = $(echo "$n / ($t1 - $t0)" | bc) events/s"

echo "== bare COPY (binary) of the rows run 1 stored, into the same schema and indexes =="
io=$dir/pgio # the server's own files (it runs as postgres under root)
mkdir -p "$io"
chmod 1777 "$io"
rm -f "$io/events.copy"
$psql -d "$base/one" -c "COPY (SELECT * FROM events ORDER BY id) TO '$io/events.copy' (FORMAT binary)" \
    -c "CREATE TABLE events_floor (LIKE events INCLUDING ALL)"
$psql -d "$base/one" -c '\timing on' -c "COPY events_floor FROM '$io/events.copy' (FORMAT binary)" |
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | while read -r ms; do
    echo "bare COPY: $rows rows in $(echo "scale=3; $ms / 1000" | bc) s = $(echo "$rows * 1000 / $ms" | bc) rows/s"
done
uptime
