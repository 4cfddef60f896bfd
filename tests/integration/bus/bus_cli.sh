#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The work bus as a user runs it (issue 13 points 1, 4, 5): one nats-server
# (JetStream) on 127.0.0.1, `liaison ingest --bus` and `liaison worker`
# processes on one store give the same result as a single-process
# `liaison ingest` of the same report: the same events (every field but
# time.observation, the time of the run), the same report counts, dedup
# aggregates and quarantined rows. Then the same after a worker killed
# (SIGKILL) mid-chunk, a worker killed between its commit and its ack, the
# publisher killed mid-report and run again, and with a stream too small
# for the report (the publisher waits). SQLite: one worker; with
# LIAISON_TEST_PG (bus_cli_pg, tests/pg/with_pg.sh): three at once.
# Skipped (77) without nats-server.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
. "$root/tests/integration/lib.sh"
if ! command -v nats-server >/dev/null 2>&1; then
    echo "SKIP: nats-server is not installed (scripts/deps.sh installs it)"
    exit 77
fi
tmp=$(mktemp -d /tmp/lia-bus-XXXXXX)
. "$root/tests/integration/store_lib.sh"
servers=""
workers=""
cleanup() {
    for p in $workers $servers; do kill -9 "$p" 2>/dev/null; done
    for p in $workers $servers; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
unset LIAISON_CONF LIAISON_FAULT
nworkers=1
if store_pg; then nworkers=3; fi

start_nats() { # NAME: a server in $tmp/NAME, its URL in $url
    port=$(free_port)
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$tmp/$1" >"$tmp/$1.log" 2>&1 &
    servers="$servers $!"
    for _ in $(seq 50); do
        grep -q "Server is ready" "$tmp/$1.log" 2>/dev/null && break
        sleep 0.1
    done
    url="nats://127.0.0.1:$port"
}

# A report of 6,000 lines: 2,000 distinct events, each three times (the
# copies in other chunks: dedup aggregates across chunks and workers), and
# a malformed line every 500 (quarantined).
python3 - "$tmp/report.jsonl" <<'PY'
import json, sys
out = open(sys.argv[1], "w")
for i in range(6000):
    if i % 500 == 499:
        out.write('{"classification.type": "scanner", "source.ip": \n')
        continue
    k = (i * 7919) % 2000
    ev = {"classification.type": ["scanner", "phishing", "c2-server"][k % 3],
          "source.ip": "198.51.%d.%d" % (k // 250, k % 250 + 1), "source.port": 1000 + k % 7,
          "time.source": "2026-12-0%dT%02d:%02d:00Z" % (1 + k % 5, k % 24, k % 60)}
    out.write(json.dumps(ev) + "\n")
PY
report="$tmp/report.jsonl"

# What must be the same, one line per part. The events: every field but
# time.observation; with "loose", also without event.id and report.line:
# chunks stored out of order (one delivered again after others, several
# workers) keep another of a dedup aggregate's identical copies, the first
# stored, with the same counts.
digest() { # DB [loose]
    "$bin" --db "$1" events --limit 100000 --format jsonl |
        python3 -c 'import json, sys, hashlib
drop = {"time.observation"} | ({"event.id", "report.line"} if sys.argv[1:] == ["loose"] else set())
rows = sorted(json.dumps({k: v for k, v in json.loads(l).items() if k not in drop}, sort_keys=True) for l in sys.stdin)
print(len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())' ${2:-}
    store_sql "$1" "SELECT rows, events, quarantined, duplicates, state, lines_done FROM reports"
    store_sql "$1" "SELECT count(*), sum(count), min(first), max(last) FROM dedup"
    store_sql "$1" "SELECT count(*), sum(line) FROM quarantine"
}

run_workers() { # DB [ENV...]: nworkers workers until the stream is drained
    db=$1
    shift
    pids=""
    for n in $(seq "$nworkers"); do
        env "$@" "$bin" --db "$db" worker --bus "$url" --ack-wait 2 --idle-exit 4 >>"$tmp/worker.log" 2>&1 &
        pids="$pids $!"
    done
    workers="$workers $pids"
    for p in $pids; do wait "$p"; done
}

start_nats js1

# 1. the reference: one process
ref=$(store_new single)
"$bin" --db "$ref" init >/dev/null
out=$("$bin" --db "$ref" ingest --feed partner --format jsonl "$report" 2>&1)
check "single ingest" "12 quarantined" "$out"
want=$(digest "$ref")
loose=$(digest "$ref" loose)
check "reference has duplicates" "6000|1996|12|3992|2|6000" "$want"

# 2. publisher + workers
db=$(store_new bus1)
"$bin" --db "$db" init >/dev/null
out=$("$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl "$report" 2>&1)
check "publish" "12 chunks, 12 published" "$out"
out=$("$bin" bus status --bus "$url" 2>&1)
check "bus status: the stream holds the chunks" "stream: 12 chunks" "$out"
run_workers "$db"
if store_pg; then # three workers: chunks in any order
    same "bus: the same as one process" "$loose" "$(digest "$db" loose)"
else # one worker: in order, event for event
    same "bus: the same as one process" "$want" "$(digest "$db")"
fi
out=$("$bin" bus status --bus "$url" 2>&1)
check "bus status: drained" "stream: 0 chunks" "$out"
check "bus status: nothing pending" "consumer: 0 pending, 0 delivered unacknowledged" "$out"
check "a worker completed the report" "report complete" "$(cat "$tmp/worker.log")"
out=$("$bin" --db "$db" ingest --bus "$url" --feed partner --format jsonl "$report" 2>&1)
check "publish again: already ingested" "already ingested" "$out"

# 3. a worker killed (SIGKILL) mid-chunk: its batch written, not committed
start_nats js_bus2
db=$(store_new bus2)
"$bin" --db "$db" init >/dev/null
"$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl "$report" >/dev/null 2>&1
LIAISON_FAULT=ingest-mid-batch:3 "$bin" --db "$db" worker --bus "$url" --ack-wait 2 --idle-exit 4 \
    >>"$tmp/killed.log" 2>&1
same "worker killed mid-chunk: exit 137" 137 $?
check "it had stored two chunks" "chunk 2: stored" "$(cat "$tmp/killed.log")"
# a plain ingest of the report while its chunks are on the bus: refused, nothing stored twice
n0=$(store_sql "$db" "SELECT count(*) FROM events")
out=$("$bin" --db "$db" ingest --feed partner --format jsonl "$report" 2>&1)
same "plain ingest of a report on the bus: exit 1" 1 $?
check "plain ingest refused: why" "is being ingested through the work bus: 2 of its 12 chunks are stored" "$out"
same "plain ingest refused: nothing stored" "$n0" "$(store_sql "$db" "SELECT count(*) FROM events")"
: >"$tmp/worker.log"
run_workers "$db"
check "its chunk went to another worker after the ack wait" "chunk 3: stored" "$(cat "$tmp/worker.log")"
same "worker killed mid-chunk: the same" "$loose" "$(digest "$db" loose)"

# 4. killed after its commit, before its ack: the chunk comes again, is skipped
start_nats js_bus3
db=$(store_new bus3)
"$bin" --db "$db" init >/dev/null
"$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl "$report" >/dev/null 2>&1
LIAISON_FAULT=bus-committed:2 "$bin" --db "$db" worker --bus "$url" --ack-wait 2 --idle-exit 4 \
    >"$tmp/acklost.log" 2>&1
same "worker killed before its ack: exit 137" 137 $?
: >"$tmp/worker.log"
run_workers "$db"
check "the chunk delivered again is skipped" "already stored, nothing done" "$(cat "$tmp/worker.log")"
same "worker killed before its ack: the same" "$loose" "$(digest "$db" loose)"

# 5. the publisher killed after 4 chunks, then run again
start_nats js_bus4
db=$(store_new bus4)
"$bin" --db "$db" init >/dev/null
LIAISON_FAULT=bus-mid-publish:4 "$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl \
    "$report" >/dev/null 2>&1
same "publisher killed mid-report: exit 137" 137 $?
run_workers "$db"
out=$(store_sql "$db" "SELECT state FROM reports")
same "publisher killed: the report is not complete" 1 "$out"
out=$("$bin" --db "$db" ingest --feed partner --format jsonl "$report" 2>&1)
check "plain ingest after the publisher died: refused" "its publisher did not finish" "$out"
out=$("$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl "$report" 2>&1)
check "publisher again: the stored chunks are not sent" "12 chunks, 8 published" "$out"
run_workers "$db"
same "publisher killed and run again: the same" "$loose" "$(digest "$db" loose)"

# 6. back-pressure: a stream of 3 chunks for a report of 12
start_nats js2
db=$(store_new bus5)
"$bin" --db "$db" init >/dev/null
"$bin" --db "$db" ingest --bus "$url" --bus-limit 3 --chunk 500 --feed partner --format jsonl "$report" \
    >"$tmp/pub.log" 2>&1 &
pub=$!
workers="$workers $pub"
sleep 2
out=$("$bin" bus status --bus "$url" 2>&1)
check "stream full: at its limit" "stream: 3 chunks" "$out"
if kill -0 "$pub" 2>/dev/null; then echo "ok   the publisher waits"; else echo "FAIL the publisher did not wait"; fails=$((fails + 1)); fi
run_workers "$db"
wait "$pub"
same "publisher after waiting: exit 0" 0 $?
check "the publisher says it waited" "the stream was full" "$(cat "$tmp/pub.log")"
same "back-pressure: the same" "$loose" "$(digest "$db" loose)"

# 7. a slow chunk: the store locked for 7 s by another session while a
# worker (ack wait 2 s) holds its first chunk and another worker waits for
# one. The in-progress acks keep it with the first: every chunk delivered once (the consumer's deliveries = the chunks),
# none stored twice or skipped as a duplicate.
start_nats js_slow
db=$(store_new slow)
"$bin" --db "$db" init >/dev/null
"$bin" --db "$db" ingest --bus "$url" --chunk 500 --feed partner --format jsonl "$report" >/dev/null 2>&1
if store_pg; then # the workers' dedup lock (src/bus/worker.c), held by a session of our own
    (echo "SELECT pg_advisory_lock(7489013);"; sleep 7; echo "SELECT 1;") |
        "$pg_bin/psql" -X -q -A -t "$db" >/dev/null 2>&1 &
else
    (echo "BEGIN IMMEDIATE;"; sleep 7; echo "COMMIT;") | sqlite3 "$db" &
fi
locker=$!
workers="$workers $locker"
sleep 0.5
: >"$tmp/worker.log"
n_was=$nworkers
[ "$nworkers" -ge 2 ] || nworkers=2 # SQLite too: a second worker waits for chunks (both wait for the lock)
run_workers "$db"
nworkers=$n_was
wait "$locker"
out=$(cat "$tmp/worker.log")
check "slow chunk: kept with in-progress acks" "kept with" "$out"
check_not "slow chunk: not delivered to another worker meanwhile" "already stored" "$out"
out=$("$bin" bus status --bus "$url" 2>&1)
check "slow chunk: each chunk delivered once" "12 deliveries in all (ack wait 2 s)" "$out"
same "slow chunk: the same" "$loose" "$(digest "$db" loose)"

# 8. liaison fetch --bus: the report fetched over HTTP from 127.0.0.1,
# registered and archived once, published in chunks, stored by the workers
start_nats js_fetch
mkdir -p "$tmp/www"
cp "$report" "$tmp/www/report.jsonl"
hport=$(free_port)
(cd "$tmp/www" && exec python3 -m http.server --bind 127.0.0.1 "$hport") >"$tmp/http.log" 2>&1 &
servers="$servers $!"
wait_http "http://127.0.0.1:$hport/report.jsonl"
db=$(store_new fetch)
arch=$("$bin" --db "$db" init | sed -n 's/.*, archive \(.*\))$/\1/p')
"$bin" --db "$db" feeds add partner --format jsonl --url "http://127.0.0.1:$hport/report.jsonl" --interval 0 \
    >/dev/null
out=$("$bin" --db "$db" fetch --bus "$url" --chunk 500 partner 2>&1)
check "fetch --bus: published" "12 chunks, 12 published to the bus" "$out"
same "fetch --bus: nothing stored before the workers" "0" "$(store_sql "$db" "SELECT count(*) FROM events")"
run_workers "$db"
same "fetch --bus: the same as one process" "$loose" "$(digest "$db" loose)"
same "fetch --bus: one report, archived" "1|1" \
    "$(store_sql "$db" "SELECT count(*), count(CASE WHEN archive <> '' THEN 1 END) FROM reports")"
a=$(store_sql "$db" "SELECT archive FROM reports")
if [ -n "$arch" ] && zcat "$arch/$a" 2>/dev/null | cmp -s - "$report"; then
    echo "ok   fetch --bus: the archived copy is the raw report"
else
    echo "FAIL fetch --bus: archived copy $arch/$a differs or is missing"; fails=$((fails + 1))
fi
out=$("$bin" --db "$db" fetch --bus "$url" --chunk 500 partner 2>&1)
check "fetch --bus again: not modified, nothing published" "not modified" "$out"
out=$("$bin" bus status --bus "$url" 2>&1)
check "fetch --bus again: the stream is empty" "stream: 0 chunks" "$out"
out=$("$bin" --db "$db" fetch --bus http://x partner 2>&1)
check "fetch --bus: a URL that is not NATS" "a NATS URL" "$out"

finish
