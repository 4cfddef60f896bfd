#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# liaison store copy as a user runs it (issue 12 point 5). A SQLite store
# with real samples (the demo's reports, Shadowserver rows of tests/data),
# incidents, accounts, a node, a quarantined row, audit records and a
# signed checkpoint, in small partitions (LIAISON_PART_ROWS), is copied to
# a second store (PostgreSQL under copy_cli_pg, through
# tests/pg/with_pg.sh; SQLite otherwise) and back to a new SQLite file; the
# three answer the same queries (every event, counts by country, an
# incident, the incident list, accounts, the audit list) and the audit log
# verifies on each. A copy killed mid-batch (fault point copy-mid-batch,
# SIGKILL), twice, resumes and ends with every count equal; an unrelated
# non-empty destination, a copy of another store and the store itself are
# refused. Afterwards the copy takes new reports and incidents (its ids
# moved past the copied ones).
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
data=${LIAISON_TESTDATA:-$root/tests/data}/intelmq/shadowserver/intelmq-3.2.1/testdata
. "$root/tests/integration/lib.sh"
tmp=$(mktemp -d /tmp/lia-copy-cli-XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
. "$root/tests/integration/store_lib.sh"
export LIAISON_USER=alice LIAISON_PART_ROWS=400
unset LIAISON_CONF LIAISON_AUDIT_KEY LIAISON_FAULT
src="$tmp/src.db"
S() { "$bin" --db "$src" "$@"; }
expect_fail() { # name, expected substring in output, command...
    name=$1 want=$2
    shift 2
    if out=$("$@" 2>&1); then
        echo "FAIL $name: succeeded: $out"; fails=$((fails + 1))
    else
        check "$name" "$want" "$out"
    fi
}

# ---- the source ----
S demo > /dev/null 2>&1 || { echo "FAIL demo"; exit 1; }
for n in scan_ics scan_http event4_sinkhole; do
    S ingest -q --report "$n" "$data/$n.csv" > /dev/null 2>&1 || { echo "FAIL ingest $n"; fails=$((fails + 1)); }
done
printf '%s\n' '{"source.ip":"192.0.2.7","classification.type":"scanner","time.source":"2026-05-01T10:00:00Z"}' \
    'not json' > "$tmp/q.jsonl"
S ingest --format jsonl --feed fq "$tmp/q.jsonl" > /dev/null 2>&1
# dedup's state in generations (SQLite: a table dedup_G a day): 300 keys,
# each twice within its window, first seen 2026-12-01 to 04; key 4 again two
# days after its first (a second aggregate of one key, in a later
# generation: PostgreSQL keeps one row a key, the newest). Report B, taken
# by every store at the end: each key again within its newest window (300
# duplicates) and 20 new keys.
python3 - "$tmp/dd_a.jsonl" "$tmp/dd_a2.jsonl" "$tmp/dd_b.jsonl" <<'PY'
import json, sys
a, a2, b = open(sys.argv[1], "w"), open(sys.argv[2], "w"), open(sys.argv[3], "w")
def ev(k, day, h, m):
    return json.dumps({"classification.type": "scanner", "source.ip": "203.0.113.%d" % (k % 250 + 1),
                       "source.port": 2000 + k // 250, "time.source": "2026-12-0%dT%02d:%02d:00Z" % (day, h, m)}) + "\n"
for k in range(300):
    a.write(ev(k, 1 + k % 4, k % 20, 0) + ev(k, 1 + k % 4, k % 20, 30))
    b.write(ev(k, 1 + k % 4, k % 20 + 1, 0) if k != 4 else ev(4, 3, 5, 0))
a2.write(ev(4, 3, 4, 0))  # a report of its own: the first aggregate is stored before
for k in range(300, 320):
    b.write(ev(k, 4, 12, 0))
PY
S ingest -q --format jsonl --feed fdd "$tmp/dd_a.jsonl" > /dev/null 2>&1
S ingest -q --format jsonl --feed fdd "$tmp/dd_a2.jsonl" > /dev/null 2>&1
db_sql() { # SQL on a store of either kind (the source is SQLite under copy_cli_pg too)
    case "$1" in
    postgresql://*) store_sql "$1" "$2" ;;
    *) sqlite3 "$1" "$2" ;;
    esac
}
last_dups() { db_sql "$1" "SELECT events || ' events, ' || duplicates || ' duplicates' FROM reports ORDER BY id DESC LIMIT 1"; }
same "dedup: reports A" "1 events, 0 duplicates" "$(last_dups "$src")"
same "dedup: report A" 300 "$(sqlite3 "$src" "SELECT duplicates FROM reports ORDER BY id DESC LIMIT 1 OFFSET 1")"
ngen=$(sqlite3 "$src" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 'dedup_[0-9]*'")
[ "$ngen" -ge 5 ] && echo "ok   the source has $ngen dedup generations" ||
    { echo "FAIL the source has $ngen dedup generations"; fails=$((fails + 1)); }
same "dedup: key 4 twice in the source" 2 "$(sqlite3 "$src" "SELECT count(*) FROM dedup GROUP BY key HAVING count(*) > 1")"
# dedup's state as an aggregate: all of it; the newest of each key (what
# PostgreSQL keeps)
dd_all() { db_sql "$1" "SELECT count(*), sum(count), min(first), max(last), sum(event_id) FROM dedup"; }
dd_newest() {
    db_sql "$1" "SELECT count(*), sum(count), min(first), max(last), sum(event_id) FROM dedup d
        WHERE NOT EXISTS (SELECT 1 FROM dedup e WHERE e.key = d.key AND e.first > d.first)"
}
dd_new() { # the newest of the keys of reports A and B (2026-12-01 on: no prune reaches them)
    db_sql "$1" "SELECT count(*), sum(count), min(first), max(last) FROM dedup d WHERE first >= 1796083200
        AND NOT EXISTS (SELECT 1 FROM dedup e WHERE e.key = d.key AND e.first > d.first)"
}
dd_src_all=$(dd_all "$src")
dd_src_newest=$(dd_newest "$src")
out=$(S incident create --title 'Copied case' --event 3 --event 5 2>&1)
check "incident" "created" "$out"
inc=$(echo "$out" | sed -n 's/^incident \([0-9]*\) created.*/\1/p')
check "account" "" "$(S accounts org-add cert-zz --kind partner 2>&1)"
S audit checkpoint > /dev/null 2>&1
S audit verify > /dev/null 2>&1 || { echo "FAIL the source's audit log does not verify"; fails=$((fails + 1)); }
nparts=$(sqlite3 "$src" "SELECT count(*) FROM event_part")
[ "$nparts" -ge 3 ] && echo "ok   the source has $nparts partitions" ||
    { echo "FAIL the source has $nparts partitions"; fails=$((fails + 1)); }

# what a user sees of a store: every event, counts by country, an incident,
# the incidents, accounts, the audit log
snapshot() {
    "$bin" --db "$1" events --format jsonl 2>&1
    for cc in NL DE US KH CN FR; do echo "$cc $("$bin" --db "$1" events --count --cc $cc 2>&1)"; done
    "$bin" --db "$1" events --count 2>&1
    "$bin" --db "$1" incident show 1 2>&1
    "$bin" --db "$1" incident show "$inc" --format json 2>&1
    "$bin" --db "$1" incident list 2>&1
    "$bin" --db "$1" accounts list 2>&1
    "$bin" --db "$1" audit list 2>&1
    "$bin" --db "$1" quarantine 2>&1
    "$bin" --db "$1" stats 2>&1
    "$bin" --db "$1" route explain 3 2>&1
    "$bin" --db "$1" route explain 2600 2>&1
}
snapshot "$src" > "$tmp/src.snap"
events=$(S events --count 2>&1)

# ---- there and back ----
mid=$(store_new copy_mid) || exit 1
out=$("$bin" store copy --batch 300 "$src" "$mid" 2>&1)
check "copy: complete" "copy complete:" "$out"
check "copy: counts" "counts checked" "$out"
check_not "copy: no difference" "DIFFERENT" "$out"
check "copy: the events counted" "events" "$out"
check "copy: the audit key beside it" "audit key" "$out"
if store_pg; then
    same "copy: dedup's state, one row a key" "$dd_src_newest" "$(dd_all "$mid")"
    n=$(echo "$dd_src_newest" | cut -d'|' -f1)
    same "copy: dedup counted as one row a key" "$n $n ok" "$(echo "$out" | awk '$1 == "dedup" && $3 != "rows" { print $2, $3, $4 }')"
else
    same "copy: dedup's state, every generation" "$dd_src_all" "$(dd_all "$mid")"
    same "copy: the same generations" \
        "$(sqlite3 "$src" "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'dedup_[0-9]*' ORDER BY 1)")" \
        "$(sqlite3 "$mid" "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'dedup_[0-9]*' ORDER BY 1)")"
fi
same "copy: the modules' versions" "$(sqlite3 "$src" "SELECT group_concat(module || '=' || version) FROM (SELECT * FROM lia_schema WHERE module NOT IN ('store.parts', 'store.copy') ORDER BY module)")" \
    "$(store_sql "$mid" "SELECT string_agg(module || '=' || version, ',' ORDER BY module) FROM lia_schema WHERE module NOT IN ('store.parts', 'store.copy')" 2>/dev/null ||
       store_sql "$mid" "SELECT group_concat(module || '=' || version) FROM (SELECT * FROM lia_schema WHERE module NOT IN ('store.parts', 'store.copy') ORDER BY module)")"
snapshot "$mid" > "$tmp/mid.snap"
cmp -s "$tmp/src.snap" "$tmp/mid.snap" && echo "ok   the copy answers as the source" ||
    { echo "FAIL the copy answers differently:"; diff "$tmp/src.snap" "$tmp/mid.snap" | cut -c1-200 | head -20; fails=$((fails + 1)); }
check "copy: audit verify" "audit log verified" "$("$bin" --db "$mid" audit verify 2>&1)"
back="$tmp/back.db"
out=$("$bin" store copy "$mid" "$back" 2>&1)
check "copy back: complete" "copy complete:" "$out"
snapshot "$back" > "$tmp/back.snap"
cmp -s "$tmp/src.snap" "$tmp/back.snap" && echo "ok   the copy back answers as the source" ||
    { echo "FAIL the copy back answers differently:"; diff "$tmp/src.snap" "$tmp/back.snap" | cut -c1-200 | head -20; fails=$((fails + 1)); }
check "copy back: audit verify" "audit log verified" "$("$bin" --db "$back" audit verify 2>&1)"
same "copy back: the partitions hold every event" "$events" \
    "$(sqlite3 "$back" "SELECT sum(rows) FROM event_part")"
same "copy back: every full partition sealed" 0 \
    "$(sqlite3 "$back" "SELECT count(*) FROM event_part WHERE sealed = 0 AND n < (SELECT max(n) FROM event_part)")"
same "copy back: the archives" "$(ls "$src.archive" | wc -l)" "$(ls "$back.archive" | wc -l)"
same "copy back: dedup's state" "$(if store_pg; then echo "$dd_src_newest"; else echo "$dd_src_all"; fi)" "$(dd_all "$back")"
same "copy back: dedup's generations' span" 86400 \
    "$(sqlite3 "$back" "SELECT value FROM enrich_meta WHERE name = 'dedup_gen_seconds' AND typeof(value) = 'integer'")"
same "copy back: dedup's newest last seen an integer" "$(sqlite3 "$src" "SELECT value FROM enrich_meta WHERE name = 'dedup_newest'")" \
    "$(sqlite3 "$back" "SELECT value FROM enrich_meta WHERE name = 'dedup_newest' AND typeof(value) = 'integer'")"
ngen_back=$(sqlite3 "$back" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 'dedup_[0-9]*'")
[ "$ngen_back" -ge 5 ] && echo "ok   copy back: $ngen_back dedup generations" ||
    { echo "FAIL copy back: $ngen_back dedup generations"; fails=$((fails + 1)); }
out=$("$bin" store copy "$mid" "$back" 2>&1)
check "copy again: nothing more to do" "copy resumed and complete" "$out"
check "copy again: nothing stored" "(0 stored by this run" "$out"

# ---- killed mid-copy, twice, then resumed ----
# (in dedup's state at its third batch, then amid the events)
killed=$(store_new copy_killed) || exit 1
LIAISON_FAULT=copy-mid-batch-dedup:3 "$bin" store copy --batch 200 "$src" "$killed" > /dev/null 2>&1
same "kill: the first run killed" 137 $?
rows=$(store_sql "$killed" "SELECT coalesce(sum(rows), 0) FROM store_copy")
[ "$rows" -gt 0 ] && echo "ok   kill: batches kept ($rows rows)" || { echo "FAIL kill: nothing kept"; fails=$((fails + 1)); }
same "kill: the batch killed not kept" "$(store_sql "$killed" "SELECT rows FROM store_copy WHERE tbl = 'dedup'")" \
    "$(store_sql "$killed" "SELECT count(*) FROM dedup")"
LIAISON_FAULT=copy-mid-batch-events:6 "$bin" store copy --batch 200 "$src" "$killed" > /dev/null 2>&1
same "kill: the second run killed" 137 $?
got=$(store_sql "$killed" "SELECT count(*) FROM events")
[ "$got" -gt 0 ] && [ "$got" -lt "$events" ] && echo "ok   kill: the second run killed amid the events ($got of $events)" ||
    { echo "FAIL kill: the second run stopped with $got of $events events"; fails=$((fails + 1)); }
same "kill: the events' progress is what is stored" "$got" \
    "$(store_sql "$killed" "SELECT rows FROM store_copy WHERE tbl = 'events'")"
out=$("$bin" store copy --batch 200 "$src" "$killed" 2>&1)
check "resume: complete" "copy resumed and complete" "$out"
check_not "resume: no difference" "DIFFERENT" "$out"
snapshot "$killed" > "$tmp/killed.snap"
same "resume: dedup's state" "$(dd_all "$mid")" "$(dd_all "$killed")"
cmp -s "$tmp/src.snap" "$tmp/killed.snap" && echo "ok   resume: the copy answers as the source" ||
    { echo "FAIL resume: the copy answers differently:"; diff "$tmp/src.snap" "$tmp/killed.snap" | cut -c1-200 | head -20; fails=$((fails + 1)); }
same "resume: the progress adds up to the rows" "$(store_sql "$killed" "SELECT sum(rows) FROM store_copy")" \
    "$(echo "$out" | sed -n 's/.* tables, \([0-9]*\) rows .*/\1/p')"

# ---- refused ----
other=$(store_new copy_other) || exit 1
"$bin" --db "$other" ingest --format jsonl --feed fo "$tmp/q.jsonl" > /dev/null 2>&1
expect_fail "refused: a store with data" "the destination is not empty (table" "$bin" store copy "$src" "$other"
same "refused: nothing written" "" "$(store_sql "$other" "SELECT 1 FROM reports WHERE feed <> 'fo'")"
"$bin" --db "$tmp/src2.db" ingest --format jsonl --feed f2 "$tmp/q.jsonl" > /dev/null 2>&1
expect_fail "refused: a copy of another store" "holds a copy of another store" "$bin" store copy "$tmp/src2.db" "$mid"
expect_fail "refused: itself" "the same store" "$bin" store copy "$src" "$src"
expect_fail "usage" "give SRC and DST" "$bin" store copy "$src"
expect_fail "refused: no source" "no store at $tmp/nothing.db" "$bin" store copy "$tmp/nothing.db" "$tmp/n2.db"
[ -e "$tmp/nothing.db" ] && { echo "FAIL a missing source was created"; fails=$((fails + 1)); } || echo "ok   no source made"

# ---- the copy is a store: new ids past the copied ones ----
check "after: ingest into the copy" "" "$("$bin" --db "$mid" ingest -q --report scan_telnet "$data/scan_telnet.csv" 2>&1)"
after=$("$bin" --db "$mid" events --count 2>&1)
[ "$after" -gt "$events" ] && echo "ok   after: more events ($after)" ||
    { echo "FAIL after: $after events, $events before"; fails=$((fails + 1)); }
check "after: a new incident" "created" "$("$bin" --db "$mid" incident create --title 'New' 2>&1)"
check "after: audit verify" "audit log verified" "$("$bin" --db "$mid" audit verify 2>&1)"

# ---- the copies dedup against the copied state ----
for db in "$src" "$mid" "$back"; do
    "$bin" --db "$db" ingest -q --format jsonl --feed fdd "$tmp/dd_b.jsonl" > /dev/null 2>&1
    same "report B into ${db##*/}: 300 duplicates" "20 events, 300 duplicates" "$(last_dups "$db")"
done
same "report B: the copy's state as the source's" "$(dd_new "$src")" "$(dd_new "$mid")"
same "report B: the copy back's state as the source's" "$(dd_new "$src")" "$(dd_new "$back")"
same "report B: the copy back's events as the source's" "$(S events --count 2>&1)" \
    "$("$bin" --db "$back" events --count 2>&1)"
finish
