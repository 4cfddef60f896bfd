#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Faults (issue 16 point 4), through the real `liaison` binary as an
# operator meets them: kill -9 of an ingest at each phase (early, mid-batch,
# during a bulk load's index build), of a `serve` mid-request, of
# `notify run` mid-delivery (e-mail and a partner's TAXII server), SMTP and a
# partner's TAXII server down, the store locked by another process. After
# each: nothing committed is lost, nothing is delivered twice or marked
# delivered that was not, the store passes SQLite's integrity check, and the
# error says what happened. Prints one table row per fault (docs/security.md,
# "Faults"). The kills are made by the named fault points (src/core/fault.h:
# LIAISON_FAULT=PHASE[:N] makes the process SIGKILL itself there).
# Disk full and a read-only store: tests/integration/test_store_faults.c.
# Usage: LIAISON_BIN=build/src/cli/liaison LIAISON_SOURCE_ROOT=. tests/faults/faults.sh
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-faults-XXXXXX)
sink=
peer=
cleanup() {
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    [ -n "$peer" ] && kill "$peer" 2>/dev/null && wait "$peer" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
export LIAISON_AUDIT_KEY="$tmp/node.key"
fails=0
rows=""
L() { "$bin" --db "$tmp/l.db" "$@"; }
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
same() { # name, expected, got
    if [ "$2" = "$3" ]; then ok "$1 ($3)"; else bad "$1: expected $2, got $3"; fi
}
has() { # name, expected substring, text
    case "$3" in
    *"$2"*) ok "$1" ;;
    *) bad "$1: expected '$2' in: $(echo "$3" | head -5)" ;;
    esac
}
row() { rows="$rows$1
"; }
sq() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$@"; }
integrity() { sq "$1" "PRAGMA integrity_check"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() { # port: until /health answers (at most 10 s)
    python3 - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/health" % sys.argv[1], timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}

# ---- ingest: kill -9 at each phase, then the same ingest again ----------
gen_csv() { # rows, file: one event per row, every row distinct
    python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("timestamp,ip,port,asn,geo,banner\n")
    pad = "x" * 40
    for i in range(n):
        f.write("2024-05-01 %02d:%02d:%02d,10.%d.%d.%d,%d,%d,%s,%s\n" % (
            i // 3600 % 24, i // 60 % 60, i % 60, i >> 16 & 255, i >> 8 & 255, i & 255,
            1 + i % 65000, 64496 + i % 50, "NL" if i % 3 else "CN", pad))
PY
}
cat > map.json <<'EOF'
{"columns": {"timestamp": "time.source", "ip": "source.ip", "port": "source.port",
 "asn": "source.asn", "geo": "source.geolocation.cc"},
 "constants": {"classification.type": "vulnerable-system"}}
EOF
ingest_fault() { # phase, rows, what it shows
    phase=$1 n=$2
    db="$tmp/i-${phase%%:*}.db"
    gen_csv "$n" "$tmp/r.csv"
    LIAISON_FAULT=$phase "$bin" --db "$db" ingest --feed crash --map map.json -q r.csv > out1 2>&1
    st=$?
    same "ingest $phase: killed by SIGKILL" 137 "$st"
    kept=$(sq "$db" "SELECT count(*) FROM events")
    progress=$(sq "$db" "SELECT coalesce(max(events),0) FROM reports")
    same "ingest $phase: what is stored is what the report's progress says" "$progress" "$kept"
    same "ingest $phase: integrity after the kill" ok "$(integrity "$db")"
    "$bin" --db "$db" ingest --feed crash --map map.json -q r.csv > out2 2>&1
    same "ingest $phase: the same ingest again exits 0" 0 $?
    has "ingest $phase: it says it resumed" "(resumed)" "$(cat out2)"
    same "ingest $phase: every row stored once" "$n" "$(sq "$db" "SELECT count(DISTINCT line) FROM events")"
    same "ingest $phase: no row twice" "$n" "$(sq "$db" "SELECT count(*) FROM events")"
    same "ingest $phase: integrity after the resume" ok "$(integrity "$db")"
    # time partitions (docs/store.md): every partition but the active one is
    # sealed (its five secondary indexes built), and each sealed one has them
    unsealed=$(sq "$db" "SELECT count(*) FROM event_part WHERE sealed = 0 AND n < (SELECT max(n) FROM event_part)")
    same "ingest $phase: no full partition left unsealed" 0 "$unsealed"
    sealed=$(sq "$db" "SELECT count(*) FROM event_part WHERE sealed = 1")
    idx=$(sq "$db" "SELECT count(*) FROM sqlite_master WHERE type='index' AND name GLOB 'events_[0-9]*_*'
                    AND name NOT GLOB '*_report'
                    AND tbl_name IN (SELECT 'events_' || n FROM event_part WHERE sealed = 1)")
    same "ingest $phase: each sealed partition has its five indexes" $((sealed * 5)) "$idx"
    rep=$("$bin" --db "$db" stats 2>&1 | grep -c 'crash')
    [ "$rep" -ge 1 ] && ok "ingest $phase: stats lists the report" || bad "ingest $phase: stats has no report"
    row "| \`kill -9\` of \`liaison ingest\`, $3 ($n rows) | 137 | $kept committed before the kill, all kept | none | ok | the rerun: \`$(sed 's/ ([0-9.]* MB in .*//' out2)\` |"
}
ingest_fault ingest-early 20000 "after the report is registered, before any row"
ingest_fault ingest-mid-batch:20 120000 "mid-batch (the 20th batch of 4,096 written, not committed; 50,000 per transaction)"
LIAISON_PART_ROWS=100000 ingest_fault partition-seal 560000 "during the seal of a full partition (of 100,000 events)"

# ---- the store locked by another process --------------------------------
gen_csv 1000 "$tmp/small.csv"
python3 - "$tmp/i-ingest-early.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".held", "w").close()
time.sleep(12)
c.execute("COMMIT")
PY
holder=$!
for _ in $(seq 50); do [ -e "$tmp/i-ingest-early.db.held" ] && break; sleep 0.1; done
"$bin" --db "$tmp/i-ingest-early.db" ingest --feed locked --map map.json -q small.csv > out 2>&1
st=$?
wait "$holder"
same "locked: the ingest exits 1" 1 "$st"
has "locked: the error names the lock and the wait" "is locked by another connection or process (waited 10000 ms)" "$(cat out)"
"$bin" --db "$tmp/i-ingest-early.db" ingest --feed locked --map map.json -q small.csv > out2 2>&1
same "locked: once released, the same ingest stores it" 0 $?
row "| the store locked by another process (\`BEGIN EXCLUSIVE\` held 12 s; a command waits 10 s) during \`liaison ingest\` | 1 | nothing | none | ok | \`$(sed "s|$tmp/||g" out)\`; the same ingest after the release stores it |"

# ---- deliveries: a directory of three partners --------------------------
tport=$(free_port)
cat > partners.yaml <<EOF
partners:
  - id: cert-de
    name: "Test partner DE"
    countries: [DE]
    contacts: [cert@de.example]
    tlp_max: AMBER
    agreement: true
  - id: cert-fr
    name: "Test partner FR"
    countries: [FR]
    channels: ["taxii:http://127.0.0.1:$tport/api1/collections/in/"]
    tlp_max: AMBER
    agreement: true
  - id: cert-it
    name: "Test partner IT"
    countries: [IT]
    contacts: [cert@it.example]
    tlp_max: AMBER
    agreement: true
EOF
printf 'home_country: CN\nmode: first\nmail_from: cert@national-cert.example\n' > routing.yaml
python3 - > ev.jsonl <<'PY'
import json
for cc, n in (("DE", 1), ("FR", 2), ("IT", 3)):
    for i in range(40):
        print(json.dumps({"classification.type": "vulnerable-system", "source.ip": "192.0.%d.%d" % (n, i + 1),
                          "source.geolocation.cc": cc, "time.source": "2026-11-2%dT10:00:%02dZ" % (n, i)}))
PY
L partners import partners.yaml > /dev/null
L route load routing.yaml > /dev/null
L ingest --feed t --format jsonl -q ev.jsonl > /dev/null
pending() { sq "$tmp/l.db" "SELECT count(*) FROM route_decision WHERE recipient='partner:$1' AND verdict=1 AND notification_id IS NULL"; }
same "three partners with 40 pending events each" "40 40 40" "$(pending cert-de) $(pending cert-fr) $(pending cert-it)"
notify() { # SMTP port, then options
    p=$1
    shift
    L notify run --force --unsigned --smtp "smtp://127.0.0.1:$p" --tries 1 --backoff-ms 1 \
        --templates "$root/share/templates" "$@" > run.out 2>&1
}

# SMTP down (nothing listens)
closed=$(free_port)
notify "$closed" --only partner:cert-de
same "SMTP down: notify exits 1" 1 $?
has "SMTP down: the delivery is recorded failed, with the reason" "failed" "$(grep partner:cert-de run.out)"
reason=$(grep partner:cert-de run.out | sed 's/  */ /g')
has "SMTP down: the reason names the server" "127.0.0.1 port $closed" "$reason"
has "SMTP down: the log has it" "port $closed" "$(L notify log --limit 1)"
same "SMTP down: nothing marked delivered" 40 "$(pending cert-de)"
row "| SMTP server down (nothing listens) | 1 | nothing | none | ok | \`$(echo "$reason" | sed "s/$closed/PORT/g")\` (also in \`notify log\`); the 40 events stay pending for the next run |"

# kill -9 of notify mid-delivery (e-mail): the 2nd message was taken by the
# SMTP server, the process killed before it recorded it
mkdir mail
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > sink.port &
sink=$!
for _ in $(seq 50); do [ -s sink.port ] && break; sleep 0.1; done
sport=$(head -n 1 sink.port)
LIAISON_FAULT=notify-mid-delivery:2 notify "$sport"
same "notify killed mid-delivery: SIGKILL" 137 $?
same "notify killed mid-delivery: two messages reached the SMTP server" 2 "$(ls mail | wc -l)"
same "notify killed mid-delivery: the first recorded, the second not marked" "0 40" "$(pending cert-de) $(pending cert-it)"
same "notify killed mid-delivery: the second is in the outbox" 1 "$(sq "$tmp/l.db" "SELECT count(*) FROM notify_outbox")"
same "notify killed mid-delivery: integrity" ok "$(integrity "$tmp/l.db")"
notify "$sport" --only partner:cert-it
same "the next run exits 0" 0 $?
has "the next run says it sent the message again" "sent again" "$(L notify log --limit 1)"
same "the next run: cert-it delivered" 0 "$(pending cert-it)"
same "the outbox is empty" 0 "$(sq "$tmp/l.db" "SELECT count(*) FROM notify_outbox")"
notify "$sport" --only partner:cert-it
same "a third run sends nothing" 3 "$(ls mail | wc -l)"
# every event in exactly one message (by Message-ID): at most that message twice
check=$(python3 - "$tmp/mail" <<'PY'
import email, json, os, sys
by_id = {}
copies = {}
for name in sorted(os.listdir(sys.argv[1])):
    m = email.message_from_binary_file(open(os.path.join(sys.argv[1], name), "rb"))
    mid = m["Message-ID"]
    copies[mid] = copies.get(mid, 0) + 1
    for part in m.walk():
        if part.get_filename() == "events.json":
            data = json.loads(part.get_payload(decode=True))
            evs = data if isinstance(data, list) else data.get("events", [])
            by_id.setdefault(mid, set()).update(e["source.ip"] for e in evs)
owner = {}
twice = 0
for mid, ips in by_id.items():
    for ip in ips:
        if ip in owner and owner[ip] != mid:
            twice += 1
        owner[ip] = mid
print("%d %d %d %d" % (len(owner), twice, len(copies), max(copies.values())))
PY
)
same "e-mail: 80 events, none in two messages, 2 Message-IDs, one sent twice" "80 0 2 2" "$check"
row "| \`kill -9\` of \`notify run\` mid-delivery (e-mail: the SMTP server said 250, not yet recorded) | 137 | the 1st recipient's record kept; the 2nd's message in the outbox | the 2nd message once more, byte for byte with its Message-ID (the one window: between the server's 250 and our commit); no event in two messages | ok | the next run: \`sent again: an earlier run was stopped before it recorded this message (same Message-ID)\` |"

# ---- a partner's TAXII server: down, killed mid-request, then up --------
P() { "$bin" --db "$tmp/p.db" "$@"; }
P taxii root-add api1 --title "Partner FR" > /dev/null
P taxii collection-add api1 in --title "From partners" > /dev/null
P accounts org-add national --kind partner > /dev/null
echo "a long enough password" | P accounts user-add national pusher --role partner --password-stdin > /dev/null
P taxii grant api1 in national --read --write > /dev/null
key=$(P accounts key-add pusher 2>/dev/null) # the key alone on standard output
export LIAISON_TAXII_TOKEN_CERT_FR="$key"
objects() { sq "$tmp/p.db" "SELECT count(*) FROM taxii_objects WHERE type='indicator'"; }
versions() { sq "$tmp/p.db" "SELECT coalesce(max(n),0) FROM (SELECT count(*) n FROM taxii_objects GROUP BY id, type HAVING type='indicator')"; }

notify "$sport" --only partner:cert-fr
same "partner TAXII down: notify exits 1" 1 $?
reason=$(grep partner:cert-fr run.out | sed 's/  */ /g')
has "partner TAXII down: failed, with the reason" "failed" "$reason"
same "partner TAXII down: nothing marked delivered" 40 "$(pending cert-fr)"
row "| a partner's TAXII server down | 1 | nothing | none | ok | \`$(echo "$reason" | sed "s/$tport/PORT/g")\` |"

serve_peer() { # environment assignments before the server, if any
    env "$@" "$bin" --db "$tmp/p.db" serve --listen "127.0.0.1:$tport" --access-log /dev/null > peer.out 2>&1 &
    peer=$!
    wait_health "$tport" || bad "the partner's server did not start: $(cat peer.out)"
}
serve_peer LIAISON_FAULT=serve-mid-request
notify "$sport" --only partner:cert-fr
same "partner's serve killed mid-request: the sender exits 1" 1 $?
for _ in $(seq 100); do kill -0 "$peer" 2>/dev/null || break; sleep 0.1; done
kill -0 "$peer" 2>/dev/null && kill "$peer"
wait "$peer"
same "partner's serve killed mid-request: SIGKILL" 137 $?
peer=
reason=$(grep partner:cert-fr run.out | sed 's/  */ /g')
has "serve killed: the sender records the failure" "failed" "$reason"
same "serve killed: none of the POST's objects stayed" 0 "$(objects)"
same "serve killed: the partner's store integrity" ok "$(integrity "$tmp/p.db")"
same "serve killed: nothing marked delivered" 40 "$(pending cert-fr)"
row "| \`kill -9\` of \`liaison serve\` mid-request (a TAXII POST: objects written, not committed) | 137 | none of the request's objects (it had no answer) | none | ok | the client: \`$(echo "$reason" | sed "s/$tport/PORT/g")\`; the restarted server serves, the retry stores all |"

serve_peer
LIAISON_FAULT=notify-mid-delivery notify "$sport" --only partner:cert-fr
same "notify killed after the POST: SIGKILL" 137 $?
first=$(objects)
[ "$first" -ge 40 ] && ok "the partner has the objects ($first)" || bad "partner objects after the POST: $first"
same "notify killed after the POST: not marked delivered" 40 "$(pending cert-fr)"
notify "$sport" --only partner:cert-fr
same "the next run exits 0" 0 $?
same "the next run: delivered" 0 "$(pending cert-fr)"
same "the partner has each indicator once" "$first" "$(objects)"
same "and one version of each" 1 "$(versions)"
same "our store's integrity" ok "$(integrity "$tmp/l.db")"
row "| \`kill -9\` of \`notify run\` mid-delivery (a partner's TAXII server: the POST answered, not recorded) | 137 | nothing | none: the next run POSTs the same objects (same ids and versions), the partner keeps one version of each ($first indicators) | ok | the next run: sent |"

echo
echo "| fault | exit | committed before, kept after | delivered twice | integrity | what the user is told |"
echo "|---|---|---|---|---|---|"
printf '%s' "$rows"
echo
total=$(grep -c . <<EOF
$rows
EOF
)
echo "faults: $total scenarios, $fails failed checks"
[ "$fails" -eq 0 ]
