#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# liaison store prune as a user runs it: bad durations refused naming the
# option, the value and why; a dry run removes nothing and says what would
# go; a prune removes the old report (events, quarantined row, archive) and
# keeps the new one; the audit log has the record; an incident linking a
# pruned event still shows it, marked, in incident show and its export; a
# feed's retention (feeds set --retention) applied by store prune alone;
# a classification's from [retention] in STORE.conf. Reports are aged with
# python3's sqlite3, as received months ago.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
. "$root/tests/integration/lib.sh"
tmp=$(mktemp -d /tmp/lia-prune-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/l.db"
export LIAISON_USER=alice
unset LIAISON_CONF
L() { "$bin" --db "$db" "$@"; }
sql() { python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print('\n'.join('|'.join(str(v) for v in row) for row in r))" "$db" "$1"; }
expect_fail() { # name, expected substring in output, command...
    name=$1 want=$2
    shift 2
    if out=$("$@" 2>&1); then
        echo "FAIL $name: succeeded: $out"; fails=$((fails + 1))
    else
        check "$name" "$want" "$out"
    fi
}

printf '%s\n' '{"source.ip":"192.0.2.1","classification.type":"scanner","time.source":"2026-05-01T10:00:00Z"}' \
    '{"source.ip":"192.0.2.2","classification.type":"infected-system"}' 'not json' > "$tmp/old.jsonl"
printf '%s\n' '{"source.ip":"198.51.100.1","classification.type":"scanner"}' > "$tmp/new.jsonl"
L ingest --format jsonl --feed fa "$tmp/old.jsonl" > /dev/null
L ingest --format jsonl --feed fb "$tmp/new.jsonl" > /dev/null
sql "UPDATE reports SET started = started - 200 * 86400000000 WHERE id = 1" > /dev/null
old_archive="$db.archive/$(sql 'SELECT archive FROM reports WHERE id = 1')"
[ -f "$old_archive" ] && echo "ok   the old report is archived" || { echo "FAIL no archive $old_archive"; fails=$((fails + 1)); }
check "incident linking an old event" "incident 1 created" "$(L incident create --title 'Old scan' --event 1 2>&1)"

expect_fail "bad unit" '--older-than: "180x": a retention is a number of hours, days or weeks' L store prune --older-than 180x
expect_fail "zero" "a retention of zero" L store prune --older-than 0d
expect_fail "bad date" '"2026-02-30"' L store prune --older-than 2026-02-30
expect_fail "future" "the cutoff is in the future" L store prune --older-than 2999-01-01
expect_fail "no retention set" "no retention is set" L store prune
expect_fail "--feed alone" "--feed and --class narrow --older-than" L store prune --feed fa
expect_fail "bad class" "neither an RSIT taxonomy nor a type" L store prune --older-than 180d --class scannr

out=$(L store prune --older-than 180d --dry-run 2>&1)
check "dry run says so" "would remove (dry run, nothing removed)" "$out"
check "dry run: one report" "reports            1" "$out"
check "dry run: two events" "events             2" "$out"
same "dry run: events all there" 3 "$(sql 'SELECT count(*) FROM events')"
[ -f "$old_archive" ] && echo "ok   dry run: archive kept" || { echo "FAIL dry run deleted the archive"; fails=$((fails + 1)); }

out=$(L store prune --older-than 180d --feed fb --dry-run 2>&1)
check "--feed: another feed's old report stays" "reports            0" "$out"
out=$(L store prune --older-than 180d --class scanner --dry-run 2>&1)
check "--class: only its events" "events             1" "$out"
check "--class: no report" "reports            0" "$out"
check "--class: no archive" "archives           0" "$out"

out=$(L store prune --older-than 180d 2>&1)
check "prune: reports" "reports            1" "$out"
check "prune: events" "events             2" "$out"
check "prune: quarantined" "quarantined rows   1" "$out"
check "prune: incident copy" "incident copies    1" "$out"
check "prune: archive" "archives           1 (" "$out"
same "prune: events left" 1 "$(sql 'SELECT count(*) FROM events')"
same "prune: the new report stays" "fb" "$(sql 'SELECT feed FROM reports')"
[ -f "$old_archive" ] && { echo "FAIL archive left"; fails=$((fails + 1)); } || echo "ok   prune: archive deleted"
check "audit record" "alice" "$(sql "SELECT actor, json_extract(after, '\$.events') FROM audit_log WHERE action = 'prune'")"
same "audit: the counts" "2|1|1" "$(sql "SELECT json_extract(after, '\$.events'), json_extract(after, '\$.reports'), json_extract(after, '\$.quarantined') FROM audit_log WHERE action = 'prune'")"
check "audit verify" "" "$(L audit verify 2>&1)"
shown=$(L incident show 1 2>&1)
check "incident show: the pruned event" "192.0.2.1 at 2026-05-01T10:00:00" "$shown"
check "incident show: marked" "(pruned from the store 20" "$shown"
check "incident show json" '"pruned":"20' "$(L incident show 1 --format json 2>&1)"
check "incident export still has it" "192.0.2.1" "$(L incident export 1 stix 2>&1)"

# a feed's retention, applied without --older-than
check "feeds add --retention" "added" "$(L feeds add fb --format jsonl --dir "$tmp" --retention 30d 2>&1)"
check "feeds show" "retention:      30d" "$(L feeds show fb 2>&1)"
expect_fail "feeds set: bad" '--retention: "1y"' L feeds set fb --retention 1y
check "feeds set" "pruned 7d after" "$(L feeds set fb --retention 1w 2>&1)"
sql "UPDATE reports SET started = started - 10 * 86400000000" > /dev/null
out=$(L store prune 2>&1)
check "retention: the feed's rule" "rule: reports of feed fb" "$out"
check "retention: removed" "reports            1" "$out"
same "retention: nothing left" 0 "$(sql 'SELECT count(*) FROM reports')"

# a classification's retention from STORE.conf: only those events go
L ingest --format jsonl --feed fa "$tmp/old.jsonl" > /dev/null 2>&1 || true
sql "UPDATE reports SET started = started - 40 * 86400000000" > /dev/null
printf '[retention]\nscanner = 30d\n' > "$db.conf"
out=$(L store prune 2>&1)
check "class retention: the rule" "(classification scanner)" "$out"
check "class retention: one event" "events             1" "$out"
check "class retention: no report" "reports            0" "$out"
same "class retention: the infected system stays" 1 "$(sql 'SELECT count(*) FROM events')"
printf '[retention]\nscanner = 30\n' > "$db.conf"
expect_fail "class retention: a bad value" "retention.scanner" L store prune
finish
