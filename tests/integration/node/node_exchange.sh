#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Two Liaison nodes on 127.0.0.1 exchange incidents (issue 15 point 4): node
# A (the national CERT) hands incidents to sample-kh-cert, which runs node
# B. With B down, A's sync delivers nothing and keeps every message queued;
# with B up, B opens incoming incidents with their events (ingested through
# its own pipeline), takes A's shared comment, and a message applied twice
# or out of order changes nothing. B's triage, shared comment and
# resolution flow back into A's hand-off (channel node), with A stopped and
# restarted in the middle; every message is applied once. Both keep the
# other's signed log head: cutting A's newest ten audit records is found
# against the copy B holds.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
. "$root/tests/integration/lib.sh"
tmp=$(mktemp -d /tmp/lia-node-XXXXXX)
. "$root/tests/integration/store_lib.sh"
adb=$(store_new a) || exit 1
bdb=$(store_new b) || exit 1
wa= wb=
cleanup() {
    [ -n "$wa" ] && kill "$wa" 2>/dev/null && wait "$wa" 2>/dev/null
    [ -n "$wb" ] && kill "$wb" 2>/dev/null && wait "$wb" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
A() { LIAISON_AUDIT_KEY="$tmp/a.key" LIAISON_AUDIT_ORIGIN=national-cert.example/audit "$bin" --db "$adb" "$@"; }
B() { LIAISON_AUDIT_KEY="$tmp/b.key" LIAISON_AUDIT_ORIGIN=kh-cert.example/audit "$bin" --db "$bdb" "$@"; }
pa=$(free_port)
pb=$(free_port)
# serve runs as the background job itself (exec), so that kill stops it
start_a() {
    (LIAISON_AUDIT_KEY="$tmp/a.key" exec "$bin" --db "$adb" serve --listen "127.0.0.1:$pa" \
        --node-sync 0 --access-log /dev/null > "$tmp/a.serve" 2>&1) &
    wa=$!
    wait_http "http://127.0.0.1:$pa/health"
}
start_b() { # [SECONDS]: serve's own node sync every SECONDS (default: none, syncs by hand)
    (LIAISON_AUDIT_KEY="$tmp/b.key" exec "$bin" --db "$bdb" serve --listen "127.0.0.1:$pb" \
        --node-sync "${1:-0}" --access-log /dev/null > "$tmp/b.serve" 2>&1) &
    wb=$!
    wait_http "http://127.0.0.1:$pb/health"
}
stop_a() { kill "$wa"; wait "$wa" 2>/dev/null; wa=; }
stop_b() { kill "$wb"; wait "$wb" 2>/dev/null; wb=; }
kh=sample-kh-cert

# ---- node A: the demo directory, incidents opened by a routing rule
A owners import "$root/share/demo/owners.yaml" > /dev/null
A partners import "$root/share/demo/partners.yaml" > /dev/null
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<'RULES'
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
RULES
A route load "$tmp/r.yaml" > /dev/null
A ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1
ids=$(A handoff list --recipient $kh | awk '{print $1}')
n=$(echo "$ids" | grep -c .)
[ "$n" -ge 1 ] && echo "ok   A hands $n incidents to $kh" || { echo "FAIL no incident for $kh"; fails=$((fails + 1)); }
first=$(echo "$ids" | head -n 1)
A incident comment "$first" --shared=$kh "Please check the hosts in AS 64510 first." > /dev/null

# ---- node B: its own directory knows A as a partner
cat > "$tmp/b-partners.yaml" <<'YAML'
partners:
  - id: national-cert
    name: "National CERT (node A)"
    countries: [NL]
    contacts: [cert@national-cert.example]
    tlp_max: AMBER
    agreement: true
  - id: sample-other-cert
    name: "Another partner (no node)"
    countries: [FR]
    contacts: [cert@other.example]
    agreement: true
YAML
B partners import "$tmp/b-partners.yaml" > /dev/null

# ---- keys: each issues a partner key to the other; each node's verifier key
A accounts org-add kh --kind partner --party $kh > /dev/null
A accounts user-add kh kh-node --role partner > /dev/null
A accounts key-add kh-node > "$tmp/key-for-b" 2> /dev/null
B accounts org-add natcert --kind partner --party national-cert > /dev/null
B accounts user-add natcert natcert-node --role partner > /dev/null
B accounts key-add natcert-node > "$tmp/key-for-a" 2> /dev/null
B accounts org-add other --kind partner --party sample-other-cert > /dev/null
B accounts user-add other other-user --role partner > /dev/null
B accounts key-add other-user > "$tmp/key-other" 2> /dev/null
va=$(A audit checkpoint 2>&1 >/dev/null | sed -n 's/.*verifier key //p')
vb=$(B audit checkpoint 2>&1 >/dev/null | sed -n 's/.*verifier key //p')
check "A's verifier key" "national-cert.example/audit+" "$va"
out=$(A node add $kh --url "http://127.0.0.1:$pb" --token-file "$tmp/key-for-a" --vkey "$vb")
check "node add at A" "peer $kh at http://127.0.0.1:$pb" "$out"
B node add national-cert --url "http://127.0.0.1:$pa/" --token-file "$tmp/key-for-b" --vkey "$va" > /dev/null
check "node add: not a partner" "no such partner" "$(A node add nobody --url http://127.0.0.1:1 --token-file "$tmp/key-for-a" 2>&1)"
check "node add: a bad URL" "http:// or https://" "$(A node add $kh --url ftp://x --token-file "$tmp/key-for-a" 2>&1)"
check "node add is audit-logged, not the key" '(set)' "$(A audit list --object node:$kh --format json)"
check_not "the key is not in the audit log" "$(cat "$tmp/key-for-a")" "$(A audit list --format json)"

# ---- B down: nothing is lost, nothing is marked sent
start_a
A node sync > "$tmp/sync.out" 2>&1
same "sync with B down exits 1" 1 $?
check "sync says what failed" "127.0.0.1:$pb" "$(cat "$tmp/sync.out")"
queued=$(A node status | grep -c " offer \| comment ")
same "offers and the comment wait in the outbox" "$((n + 1))" "$queued"
same "A's hand-offs still pending" "$n" "$(A handoff list --recipient $kh --state pending | grep -c .)"
A node sync > "$tmp/sync2.out" 2>&1
check "a second sync within the backoff tries nothing" "0 delivered, 0 failed, $((n + 1)) waiting" "$(cat "$tmp/sync2.out")"
same "nothing queued twice" "$queued" "$(A node status | grep -c " offer \| comment ")"

# ---- B up: the offers land
start_b
out=$(A node sync --now 2>&1)
check "sync delivers" "$((n + 1)) delivered, 0 failed" "$out"
check "checkpoint exchanged" "1 checkpoints exchanged" "$out"
check "outbox empty" "nothing waiting in the outbox" "$(A node status)"
same "A's hand-offs notified" "$n" "$(A handoff list --recipient $kh --state notified | grep -c .)"
check "through the node channel" '"channel":"node"' "$(A handoff list --incident "$first" --recipient $kh --format json)"
nb=$(B incident list | grep -c .)
same "B has an incoming incident per offer" "$n" "$nb"
bfirst=$(B audit list --object node:national-cert --format json | grep -o '"after":"{[^}]*\\"theirs\\":'"$first"'}' | grep -o 'incident\\":[0-9]*' | head -n 1 | grep -o '[0-9]*$')
[ -n "$bfirst" ] && echo "ok   B's incident #$bfirst is A's #$first" || { echo "FAIL B's incident for A's #$first not found"; fails=$((fails + 1)); }
show=$(B incident show "$bfirst")
check "B's incident keeps A's title" "$(A incident show "$first" | head -n 1 | sed 's/^incident [0-9]*: //')" "$show"
check "A's shared comment at B" "Please check the hosts in AS 64510 first." "$show"
check "B's note on where it came from" "Handed off to us by partner node national-cert (its incident #$first" "$show"
nev=$(B events --feed node:national-cert --format ids | grep -c .)
[ "$nev" -ge 1 ] && echo "ok   B ingested A's events through its pipeline ($nev)" || { echo "FAIL no events at B"; fails=$((fails + 1)); }
check "events linked to B's incident" "event" "$(B incident show "$bfirst" --format json | grep -o '"kind":"event"' | head -n 1)"

# ---- the same message twice, and one out of order (as a peer retrying would)
body=$(store_sql "$adb" "SELECT body FROM node_outbox WHERE type = 'offer' AND incident_id = $first")
tok=$(cat "$tmp/key-other")
again=$(curl -s -H "Authorization: Bearer $(cat "$tmp/key-for-a")" -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$pb/node/v1/inbox")
check "an offer applied twice changes nothing" '"applied":false' "$again"
same "still one incident per offer at B" "$n" "$(B incident list | grep -c .)"
late=$(echo "$body" | sed 's/"seq":1,/"seq":9,/')
check "a message out of order is refused" '"code":"out_of_order"' "$(curl -s -H "Authorization: Bearer $(cat "$tmp/key-for-a")" \
    -H 'Content-Type: application/json' --data-binary "$late" "http://127.0.0.1:$pb/node/v1/inbox")"
check "a message with another partner's key is refused" '"code":"forbidden"' "$(curl -s -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data-binary "$body" "http://127.0.0.1:$pb/node/v1/inbox")"
check "a malformed message says where" '"code":"invalid_message"' "$(curl -s -H "Authorization: Bearer $(cat "$tmp/key-for-a")" \
    -H 'Content-Type: application/json' --data-binary '{"liaison_node":1,"type":"ack"}' "http://127.0.0.1:$pb/node/v1/inbox")"

# ---- B answers: triage (acknowledge), a shared comment, with A stopped in the middle
B incident update "$bfirst" --status triaged > /dev/null
B incident comment "$bfirst" --shared=national-cert "Contacted the operator of 10 hosts." > /dev/null
B incident comment "$bfirst" "internal: not for A" > /dev/null
out=$(B node sync --now 2>&1)
check "B's answers go to A" "2 delivered, 0 failed" "$out"
ho=$(A handoff list --incident "$first" --recipient $kh --format json)
check "A's hand-off acknowledged by B's node" '"state":"acknowledged"' "$ho"
check "by the partner, through the node" '"by":"sample-kh-cert","channel":"node"' "$ho"
ashow=$(A incident show "$first")
check "B's shared comment at A" "Contacted the operator of 10 hosts." "$ashow"
check_not "B's internal comment stays at B" "internal: not for A" "$ashow"
check_not "A does not echo B's comment back" "Contacted the operator" "$(A node sync --now >/dev/null 2>&1; store_sql "$adb" "SELECT body FROM node_outbox WHERE type='comment'")"
stop_a
B incident update "$bfirst" --status mitigating > /dev/null
B incident update "$bfirst" --status resolved > /dev/null
B node sync > "$tmp/bsync.out" 2>&1
same "B's sync with A down exits 1" 1 $?
check "the resolution waits at B" " resolve " "$(B node status)"
start_a
check "B's retry delivers it" "1 delivered, 0 failed" "$(B node sync --now 2>&1)"
same "A's hand-off resolved" resolved "$(A handoff list --incident "$first" --recipient $kh --format json | grep -o '"state":"[a-z]*"' | cut -d'"' -f4)"
recv=$(A audit list --object node:$kh --format json | grep -c '"action":"receive"')
sent=$(B audit list --object node:national-cert --format json | grep -c '"action":"send"')
same "every message B sent was applied once at A" "$sent" "$recv"
same "B's messages: triage, comment, resolve" 3 "$sent"

# ---- serve syncs by itself: what B shares reaches A with no node sync run
stop_b
start_b 1
B incident comment "$bfirst" --shared=national-cert "Patched, by the timer." > /dev/null
i=0
until A incident show "$first" | grep -q "Patched, by the timer."; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done
check "serve --node-sync 1 delivered B's comment" "Patched, by the timer." "$(A incident show "$first")"
check "and said so" "1 delivered, 0 failed" "$(cat "$tmp/b.serve")"
check "nothing waits at B" "nothing waiting" "$(B node status)"
stop_b
start_b

# ---- each keeps the other's log head; a cut log is found against it
A node sync --now > /dev/null 2>&1
B node sync --now > /dev/null 2>&1
check "A holds B's head, B cosigned A's" "$kh" "$(A node list | awk -v p=$kh '$1 == p && $5 > 0 && $6 > 0')"
B node checkpoint national-cert > "$tmp/a-as-b-holds.txt"
check "B's copy carries B's cosignature" "— kh-cert.example/audit" "$(cat "$tmp/a-as-b-holds.txt")"
check "A's log verifies against B's copy" "verified" "$(A audit verify --checkpoint "$tmp/a-as-b-holds.txt" 2>&1)"
size=$(store_sql "$adb" "SELECT max(seq) FROM audit_log")
store_sql "$adb" "DELETE FROM audit_log WHERE seq > $((size - 10)); DELETE FROM audit_checkpoint WHERE size > $((size - 10));"
out=$(A audit verify --checkpoint "$tmp/a-as-b-holds.txt" 2>&1)
same "the cut is found against B's copy (exit 1)" 1 "$(A audit verify --checkpoint "$tmp/a-as-b-holds.txt" > /dev/null 2>&1; echo $?)"
check "and named" "were cut off" "$out"
finish
