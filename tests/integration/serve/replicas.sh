#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Several nodes on one store (issue 13 point 3; docs/architecture.md,
# "Replicas"). On SQLite one file, on PostgreSQL one database (the _pg twin,
# through tests/pg/with_pg.sh).
#  - two `liaison notify run` started at once against one SMTP listener on
#    127.0.0.1 (smtp_sink.py): each digest is sent once, to each address once;
#  - a notifier killed with SIGKILL while it holds a recipient (its SMTP
#    server never answers): another run leaves that recipient alone while
#    the lease lasts, takes it over after, and nothing is sent twice;
#  - node sync leaves a peer another sync holds;
#  - two `liaison serve` on 127.0.0.1 (one --public-url, as behind a load
#    balancer): the same partner's TAXII collections and objects and its
#    incidents answer the same on both (a page's cursor too), a console session made on one works
#    on the other (and its logout on the other ends it on the first), and
#    one key's rate limit is spent across both.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-replicas-XXXXXX)
sink= stall= wa= wb= na= nb=
cleanup() {
    for p in $sink $stall $wa $wb $na $nb; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/integration/store_lib.sh"
db=$(store_new replicas) || exit 1
fails=0
export LIAISON_AUDIT_KEY="$tmp/node.key"
L() { "$bin" --db "$db" "$@"; }
check() { # name, expected substring, output
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
same() { # name, expected, got
    if [ "$2" = "$3" ]; then echo "ok   $1 ($(echo "$3" | head -n 1 | cut -c1-60))"; else echo "FAIL $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# one notify run to SMTP port $1, lease $2 seconds, output to $3 (in the background with &)
notify() {
    "$bin" --db "$db" notify run --force --unsigned --smtp "smtp://127.0.0.1:$1" --tries 1 --backoff-ms 1 \
        --lease "$2" --templates "$root/share/templates" > "$3" 2>&1
}
# every To: address of the messages in $1, with how often: "N ADDRESS" lines
addresses() { cat "$1"/*.eml 2>/dev/null | sed -n 's/^To: //p' | tr -d '\r' | sort | uniq -c | sort -k2; }

L owners import "$root/share/demo/owners.yaml" > /dev/null
# sample-kh-cert also gets our TAXII collection kh/events
sed 's|channels: \["email:report@kh-cert.example"\]|channels: ["email:report@kh-cert.example", "taxii:kh/events"]|' \
    "$root/share/demo/partners.yaml" > "$tmp/partners.yaml"
grep -q 'taxii:kh/events' "$tmp/partners.yaml" || { echo "FAIL the demo partners changed: no kh channel"; exit 1; }
L partners import "$tmp/partners.yaml" > /dev/null
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<'RULES'
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
RULES
L route load "$tmp/r.yaml" > /dev/null
L ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1
L accounts org-add kh --kind partner --party sample-kh-cert > /dev/null
echo 'kh-password-1234' | L accounts user-add kh kh-user --role partner --password-stdin > /dev/null
key=$(L accounts key-add kh-user 2> /dev/null)
slow=$(L accounts key-add kh-user --rate 0.05 --burst 6 2> /dev/null)
[ -n "$key" ] && [ -n "$slow" ] || { echo "FAIL no API keys"; exit 1; }
npending=$(L handoff list --state pending | grep -c .)
[ "$npending" -ge 2 ] && echo "ok   hand-offs pending ($npending)" || { echo "FAIL pending hand-offs: $npending"; fails=$((fails + 1)); }
store_save "$db"

mkdir "$tmp/mail"
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
sport=$(head -n 1 "$tmp/port")

# ---- one notifier alone: the reference ----
notify "$sport" 60 "$tmp/one.out"
addresses "$tmp/mail" > "$tmp/one.addr"
nmail=$(ls "$tmp/mail" | wc -l)
[ "$nmail" -ge 2 ] && echo "ok   one notifier: $nmail digests" || { echo "FAIL one notifier sent $nmail"; fails=$((fails + 1)); }
same "one notifier: each address once" "" "$(awk '$1 != 1' "$tmp/one.addr")"
same "one notifier: no lease left" "0" "$(store_sql "$db" 'SELECT count(*) FROM store_lease')"
rm -f "$tmp/mail"/*

# ---- two notifiers at once, three times over ----
for round in 1 2 3; do
    store_restore "$db"
    rm -f "$tmp/mail"/*
    notify "$sport" 60 "$tmp/a.out" &
    na=$!
    notify "$sport" 60 "$tmp/b.out" &
    nb=$!
    wait "$na"; wait "$nb"; na= nb=
    addresses "$tmp/mail" > "$tmp/two.addr"
    same "two notifiers (round $round): the same addresses, each once" "$(cat "$tmp/one.addr")" "$(cat "$tmp/two.addr")"
    same "two notifiers (round $round): $nmail digests" "$nmail" "$(ls "$tmp/mail" | wc -l)"
    sent=$(cat "$tmp/a.out" "$tmp/b.out" | grep -c ' sent ')
    same "two notifiers (round $round): sent lines as one notifier's" "$(grep -c ' sent ' "$tmp/one.out")" "$sent"
    same "two notifiers (round $round): hand-offs pending after" "no hand-offs" "$(L handoff list --state pending)"
    same "two notifiers (round $round): KH TAXII objects written once" \
        "$(grep 'taxii:kh/events' "$tmp/one.out" | grep -o '[0-9]* STIX objects')" \
        "$(cat "$tmp/a.out" "$tmp/b.out" | grep 'taxii:kh/events' | grep ' sent ' | grep -o '[0-9]* STIX objects')"
    cat "$tmp/a.out" "$tmp/b.out" | grep -q 'another notifier' && echo "ok   round $round: a recipient left to the other notifier"
done

# ---- a notifier killed holding a lease ----
store_restore "$db"
rm -f "$tmp/mail"/*
# an SMTP server that takes the connection and never answers
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8); print(s.getsockname()[1], flush=True)
c = []
while True:
    c.append(s.accept()[0])
' > "$tmp/stallport" &
stall=$!
for _ in $(seq 50); do [ -s "$tmp/stallport" ] && break; sleep 0.1; done
notify "$(head -n 1 "$tmp/stallport")" 4 "$tmp/k.out" &
na=$!
held=
for _ in $(seq 100); do
    held=$(store_sql "$db" "SELECT name FROM store_lease WHERE name LIKE 'notify:%'" 2>/dev/null)
    [ -n "$held" ] && break
    sleep 0.05
done
sleep 0.3
kill -9 "$na"; wait "$na" 2>/dev/null; na=
rcpt=${held#notify:}
[ -n "$rcpt" ] && echo "ok   the killed notifier held $rcpt" || { echo "FAIL no lease held by the notifier"; fails=$((fails + 1)); }
same "the killed notifier sent nothing" 0 "$(ls "$tmp/mail" | wc -l)"
notify "$sport" 4 "$tmp/b.out"
check "while the lease lasts $rcpt is left alone" "$rcpt" "$(grep 'skipped' "$tmp/b.out" | grep 'another notifier')"
same "nothing was sent to $rcpt yet" "" "$(grep "^$rcpt " "$tmp/b.out" | grep ' sent ')"
# what was its address: the one the reference sent and this run did not
addresses "$tmp/mail" > "$tmp/k.addr"
sleep 4
notify "$sport" 4 "$tmp/c.out"
check "after the lease ends $rcpt is taken over" " sent " "$(grep "^$rcpt " "$tmp/c.out")"
addresses "$tmp/mail" > "$tmp/k.addr"
same "killed and taken over: the same addresses as one notifier, each once" "$(cat "$tmp/one.addr")" "$(cat "$tmp/k.addr")"
same "killed and taken over: hand-offs pending after" "no hand-offs" "$(L handoff list --state pending)"
same "no lease left" "0" "$(store_sql "$db" 'SELECT count(*) FROM store_lease')"

# ---- node sync: a peer another sync holds is left to it ----
echo "$key" > "$tmp/peer.token"
L node add sample-kh-cert --url "http://127.0.0.1:$(freeport)" --token-file "$tmp/peer.token" > /dev/null 2>&1
until=$(( $(date +%s) * 1000000 + 600000000 ))
store_sql "$db" "INSERT INTO store_lease(name, holder, until_us, taken_us) VALUES('node:sample-kh-cert', 'other-node:1:x', $until, 0)" > /dev/null
out=$(L node sync --now 2>&1)
check "node sync: a held peer is left alone" "a peer left to another sync" "$out"
check "node sync: nothing tried" "0 delivered, 0 failed" "$out"
store_sql "$db" "DELETE FROM store_lease" > /dev/null
out=$(L node sync --now 2>&1)
check "node sync: the free peer is tried (it is down)" "failed" "$out"
same "node sync: its lease given back" "0" "$(store_sql "$db" 'SELECT count(*) FROM store_lease')"

# ---- two serve replicas ----
pa=$(freeport)
pb=$(freeport)
mkdir -p "$tmp/console" && echo '<!doctype html><title>console</title>' > "$tmp/console/index.html"
for p in "$pa" "$pb"; do
    "$bin" --db "$db" serve --listen "127.0.0.1:$p" --public-url "http://127.0.0.1:$pa" --access-log /dev/null \
        --console-dir "$tmp/console" --node-sync 0 --reports 0 > "$tmp/serve-$p.out" 2>&1 &
    if [ "$p" = "$pa" ]; then wa=$!; else wb=$!; fi
done
for p in "$pa" "$pb"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/health" > /dev/null 2>&1 && break; sleep 0.1; done
done
get() { # port, path, [curl options]: status and body
    p=$1 path=$2
    shift 2
    curl -s -w '\n%{http_code}' "$@" "http://127.0.0.1:$p$path"
}
for path in /taxii2/ /kh/collections/ /kh/collections/events/objects/ /api/v1/incidents; do
    a=$(get "$pa" "$path" -H "Authorization: Bearer $key" -H 'Accept: application/taxii+json;version=2.1')
    b=$(get "$pb" "$path" -H "Authorization: Bearer $key" -H 'Accept: application/taxii+json;version=2.1')
    same "$path: 200 on A" 200 "$(echo "$a" | tail -n 1)"
    same "$path: the same on A and B" "$a" "$b"
done
# a page's cursor from A is good on B (the key is the store's)
page1=$(get "$pa" '/api/v1/incidents?limit=1' -H "Authorization: Bearer $key")
cur=$(echo "$page1" | sed -n 's/.*"next":"\([^"]*\)".*/\1/p')
[ -n "$cur" ] && echo "ok   a page of one incident has a cursor" || { echo "FAIL no cursor: $page1"; fails=$((fails + 1)); }
p2a=$(get "$pa" "/api/v1/incidents?limit=1&next=$cur" -H "Authorization: Bearer $key")
same "page 2 on B with A's cursor: 200" 200 "$(get "$pb" "/api/v1/incidents?limit=1&next=$cur" -H "Authorization: Bearer $key" | tail -n 1)"
same "page 2 on B with A's cursor: as on A" "$p2a" "$(get "$pb" "/api/v1/incidents?limit=1&next=$cur" -H "Authorization: Bearer $key")"
check "the KH collection has its STIX objects" '"type":"' "$(get "$pa" /kh/collections/events/objects/ -H "Authorization: Bearer $key" -H 'Accept: application/taxii+json;version=2.1')"

# a console session made on A, used on B
login=$(curl -s -D "$tmp/login.h" -c "$tmp/jar" -H 'Content-Type: application/json' \
    -d '{"user":"kh-user","password":"kh-password-1234"}' "http://127.0.0.1:$pa/console/login")
csrf=$(echo "$login" | sed -n 's/.*"csrf": *"\([^"]*\)".*/\1/p')
[ -n "$csrf" ] && echo "ok   logged in on A" || { echo "FAIL login on A: $login"; fails=$((fails + 1)); }
check "B knows A's session" '"kh-user"' "$(get "$pb" /console/session -b "$tmp/jar")"
same "the partner's incidents through the session on B, as with the key" \
    "$(get "$pa" /api/v1/incidents -H "Authorization: Bearer $key")" "$(get "$pb" /api/v1/incidents -b "$tmp/jar")"
same "logout on B" 200 "$(get "$pb" /console/logout -b "$tmp/jar" -X POST -H "X-CSRF-Token: $csrf" | tail -n 1)"
same "the session is over on A too" 401 "$(get "$pa" /api/v1/incidents -b "$tmp/jar" | tail -n 1)"

# one key's bucket (burst 6, 0.05/s) spent across both: 6 answers, then 429 on either
codes=
for i in 1 2 3 4 5 6 7 8; do
    if [ $((i % 2)) = 1 ]; then p=$pa; else p=$pb; fi
    codes="$codes $(get "$p" /api/v1/incidents -H "Authorization: Bearer $slow" | tail -n 1)"
done
same "rate limit shared by the replicas" " 200 200 200 200 200 200 429 429" "$codes"
check "429 says when to come back" "Retry-After:" "$(curl -s -D - -o /dev/null -H "Authorization: Bearer $slow" "http://127.0.0.1:$pb/api/v1/incidents")"
same "another key is not limited by it" 200 "$(get "$pb" /api/v1/incidents -H "Authorization: Bearer $key" | tail -n 1)"
kill "$wa" "$wb"; wait "$wa" "$wb" 2>/dev/null; wa= wb=

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all replica checks passed"
