#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# A drill across two Liaison nodes on 127.0.0.1 and an e-mail participant
# (issue 14 point 2): node A (the national CERT) runs the drill with
# sample-kh-cert, which runs node B, and sample-sg-cert, reached by e-mail
# (an SMTP listener on 127.0.0.1). The inject reaches B as an incoming
# "[DRILL]" incident through node sync; B triages it and shares the value
# asked for, which come back to A's hand-off through the node exchange; sg
# answers by replying to the e-mail. Both score from the hand-offs' own
# times; deleting the drill at A leaves no node thread or queued message.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
. "$root/tests/integration/lib.sh"
tmp=$(mktemp -d /tmp/lia-drill-nodes-XXXXXX)
. "$root/tests/integration/store_lib.sh"
adb=$(store_new drill_a) || exit 1
bdb=$(store_new drill_b) || exit 1
wa= wb= sink=
cleanup() {
    [ -n "$wa" ] && kill "$wa" 2>/dev/null && wait "$wa" 2>/dev/null
    [ -n "$wb" ] && kill "$wb" 2>/dev/null && wait "$wb" 2>/dev/null
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
A() { LIAISON_AUDIT_KEY="$tmp/a.key" LIAISON_AUDIT_ORIGIN=national-cert.example/audit "$bin" --db "$adb" "$@"; }
B() { LIAISON_AUDIT_KEY="$tmp/b.key" LIAISON_AUDIT_ORIGIN=kh-cert.example/audit "$bin" --db "$bdb" "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
pa=$(free_port)
pb=$(free_port)
kh=sample-kh-cert sg=sample-sg-cert

# ---- the two nodes, as in node_exchange.sh
A partners import "$root/share/demo/partners.yaml" > /dev/null
A route load "$root/share/demo/routing.yaml" > /dev/null
cat > "$tmp/b-partners.yaml" <<'YAML'
partners:
  - id: national-cert
    name: "National CERT (node A)"
    countries: [NL]
    contacts: [cert@national-cert.example]
    tlp_max: AMBER
    agreement: true
YAML
B partners import "$tmp/b-partners.yaml" > /dev/null
A accounts org-add kh --kind partner --party $kh > /dev/null
A accounts user-add kh kh-node --role partner > /dev/null
A accounts key-add kh-node > "$tmp/key-for-b" 2> /dev/null
B accounts org-add natcert --kind partner --party national-cert > /dev/null
B accounts user-add natcert natcert-node --role partner > /dev/null
B accounts key-add natcert-node > "$tmp/key-for-a" 2> /dev/null
va=$(A audit checkpoint 2>&1 >/dev/null | sed -n 's/.*verifier key //p')
vb=$(B audit checkpoint 2>&1 >/dev/null | sed -n 's/.*verifier key //p')
A node add $kh --url "http://127.0.0.1:$pb" --token-file "$tmp/key-for-a" --vkey "$vb" > /dev/null
B node add national-cert --url "http://127.0.0.1:$pa/" --token-file "$tmp/key-for-b" --vkey "$va" > /dev/null
(LIAISON_AUDIT_KEY="$tmp/a.key" exec "$bin" --db "$adb" serve --listen "127.0.0.1:$pa" \
    --node-sync 0 --access-log /dev/null > "$tmp/a.serve" 2>&1) &
wa=$!
(LIAISON_AUDIT_KEY="$tmp/b.key" exec "$bin" --db "$bdb" serve --listen "127.0.0.1:$pb" \
    --node-sync 0 --access-log /dev/null > "$tmp/b.serve" 2>&1) &
wb=$!
wait_http "http://127.0.0.1:$pa/health"
wait_http "http://127.0.0.1:$pb/health"
mkdir -p "$tmp/mail"
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
smtp="smtp://127.0.0.1:$(head -n 1 "$tmp/port")"

# ---- the drill at A
t0=$(($(date +%s) - 600))
cat > "$tmp/drill.yaml" <<YAML
name: "Node and e-mail drill"
rank: true
participants: [$kh, $sg]
injects:
  - name: c2
    at: 0m
    title: "C2 beacon from AS 64510"
    severity: high
    event:
      source.ip: 192.0.2.10
      malware.name: mirai
    expect:
      - answer: acknowledge
        score: 10
        expiry: 1h
      - answer: value
        value: mirai
        score: 5
        expiry: 1h
YAML
out=$(A drill run "$tmp/drill.yaml" --at "$(iso $t0)" --smtp "$smtp" --unsigned 2>&1)
same "kh is reached through its node" 1 "$(echo "$out" | grep -c " c2  *$kh .* node   queued")"
same "sg by e-mail" 1 "$(echo "$out" | grep -c " c2  *$sg .* email  sent")"
same "one e-mail (to sg only)" 1 "$(ls "$tmp/mail" | grep -c eml)"
out=$(A node sync --now 2>&1)
check "node sync offers the drill incident" "1 delivered, 0 failed" "$out"
same "the tick records it sent" 1 "$(A drill tick --smtp "$smtp" --unsigned 2>&1 | grep -c " c2  *$kh .* node   sent")"
same "and the next tick nothing" "" "$(A drill tick --smtp "$smtp" --unsigned 2>&1)"
bin_title=$(B incident list --format json)
check "B has the incoming incident, marked [DRILL]" '"title":"[DRILL] C2 beacon from AS 64510"' "$bin_title"
bid=$(echo "$bin_title" | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
check "B's incident says it is an exercise" "This is an exercise" "$(B incident show "$bid")"

# ---- the answers: B triages and shares the value; sg replies to the e-mail
B incident update "$bid" --status triaged > /dev/null
B incident comment "$bid" --shared=national-cert "Found mirai on the host; cleaned." > /dev/null
check "B's answers go to A" "2 delivered, 0 failed" "$(B node sync --now 2>&1)"
ho=$(A handoff list --recipient $kh --format json)
check "A's drill hand-off acknowledged by B's node" '"state":"acknowledged"' "$ho"
check "through the node channel" '"channel":"node"' "$ho"
sgmail=$(ls "$tmp/mail"/*.eml | head -n 1)
check "the e-mail is [DRILL]" "Subject: [DRILL] [LIAISON#" "$(cat "$sgmail")"
mid=$(sed -n 's/^Message-ID: \(<[^>]*>\).*/\1/p' "$sgmail" | head -n 1)
out=$(printf 'From: cert@sg-cert.example\nTo: cert@national-cert.example\nSubject: Re: drill\nMessage-ID: <sg-r1@sg-cert.example>\nIn-Reply-To: %s\n\nack\n' "$mid" | A mail receive 2>&1)
check "sg's reply acknowledges" "$sg: comment" "$out"

rep=$(A drill report 1 --at "$(iso $((t0 + 2 * 3600)))" --format json)
row() { echo "$rep" | python3 -c "import json,sys; d=json.load(sys.stdin)
r=[x for x in d['rows'] if x['participant']=='$1' and x['answer']=='$2'][0]
print(r['$3'])"; }
same "kh (node) acknowledged in time" met "$(row $kh acknowledge verdict)"
same "kh's channel" node "$(row $kh acknowledge channel)"
same "kh reported the value through the node" 5 "$(row $kh value score)"
same "sg (e-mail) acknowledged in time" met "$(row $sg acknowledge verdict)"
same "sg's acknowledgement after about 10 min" 1 "$(row $sg acknowledge acked_after_s | awk '{print ($1 >= 590 && $1 <= 900)}')"
same "sg never reported the value: 0 after expiry" missed "$(row $sg value verdict)"
txt=$(A drill report 1 --at "$(iso $((t0 + 2 * 3600)))")
check "ranked, as the scenario asks" "1. $kh" "$txt"
check "sg second" "2. $sg" "$txt"

# ---- delete at A: the node threads go with the incidents
check "delete" "drill 1 deleted with its 2 incidents" "$(A drill delete 1)"
same "no node thread left at A" 0 "$(store_sql "$adb" "SELECT count(*) FROM node_thread")"
same "no queued node message left at A" 0 "$(store_sql "$adb" "SELECT count(*) FROM node_outbox")"
same "no drill hand-off left at A" 0 "$(store_sql "$adb" "SELECT count(*) FROM handoff")"
finish
