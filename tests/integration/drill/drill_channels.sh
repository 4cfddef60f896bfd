#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# A drill through the channels drill_run.sh and drill_nodes.sh do not
# answer on (issue 14 point 2): sample-kh-cert answers by the signed links
# of its [DRILL] e-mail (`liaison serve` takes them), sample-api-cert (a
# partner whose only channel is its own API) through the REST API with its
# own key, and sample-mail-cert (no contact, an email: channel) stays silent. Each is scored by its hand-off's own times.
# Then what must never see drill data: `liaison stats`, events, the STIX,
# MISP and IODEF exports, metrics, SLA breaches, the month's report are
# the same during the drill as before; a real report ingested while a drill
# runs is routed to real incidents only; and `drill delete` leaves every
# table of the store with the rows it had before the drill (the audit log
# aside: append-only).
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-drill-ch-XXXXXX)
. "$root/tests/integration/lib.sh"
. "$root/tests/integration/store_lib.sh"
db=$(store_new drill_ch) || exit 1
sink= web=
cleanup() {
    [ -n "$web" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export LIAISON_USER=alice LIAISON_AUDIT_KEY="$tmp/node.key"
L() { "$bin" --db "$db" "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
kh=sample-kh-cert sg=sample-mail-cert api=sample-api-cert
wport=$(free_port)
W="http://127.0.0.1:$wport"

# ---- the directory, routing with answer links, real incidents
L owners import "$root/share/demo/owners.yaml" > /dev/null
L partners import "$root/share/demo/partners.yaml" > /dev/null
cat > "$tmp/api-partner.yaml" <<'YAML'
partners:
  - id: sample-api-cert
    name: "API-only CERT"
    countries: [LA]
    channels: ["api:https://api.api-cert.example/v1"]
    tlp_max: AMBER
    agreement: true
  - id: sample-mail-cert
    name: "CERT reached by an email: channel"
    countries: [BN]
    channels: ["email:soc@mail-cert.example"]
    tlp_max: AMBER
    agreement: true
YAML
L partners import "$tmp/api-partner.yaml" > /dev/null || { echo "FAIL partners without contact"; exit 1; }
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<RULES
public_url: $W/
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
RULES
L route load "$tmp/r.yaml" > /dev/null
L ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1
nreal=$(L incident list | grep -c .)
[ "$nreal" -gt 0 ] || { echo "FAIL no real incident"; exit 1; }
L accounts org-add apix --kind partner --party $api > /dev/null
L accounts user-add apix api-bot --role partner > /dev/null
key=$(L accounts key-add api-bot 2> /dev/null)
L accounts org-add natcert --kind own > /dev/null
echo 'correct horse battery staple' | L accounts user-add natcert ana --role analyst --password-stdin > /dev/null
[ -n "$key" ] || { echo "FAIL no API key"; exit 1; }

month=$(date -u +%Y-%m)
far=$(iso $(($(date +%s) + 30 * 86400)))
stats() { # everything real that the drill must leave alone
    L stats
    L events --limit 100000
    L export stix -o "$tmp/x.stix" && grep -v -e '"created"' -e '"modified"' -e '"id": "bundle' -e '"id":"bundle' "$tmp/x.stix" | wc -l
    rm -rf "$tmp/misp" && L export misp-feed "$tmp/misp" > /dev/null && ls "$tmp/misp" | wc -l
    L metrics --format json --at "$far"
    L sla breaches --at "$far" --format json
    L incident list --format json
    L report build --period "$month" --format csv --out "$tmp/report.csv" > /dev/null && grep -v -i generated "$tmp/report.csv"
}
if store_pg; then
    tables() { store_sql "$db" "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"; }
else
    tables() { store_sql "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"; }
fi
counts() { # every table's row count (tables without rows left out), the audit log aside and
    # the server's own state (rate buckets, the cursor key, leases), made by its first requests
    for t in $(tables); do
        case "$t" in audit_* | lia_schema | http_rate | api_secret | store_lease) continue ;; esac
        n=$(store_sql "$db" "SELECT count(*) FROM $t")
        [ "$n" = 0 ] || echo "$t $n"
    done
}
L audit checkpoint > /dev/null 2>&1

# ---- the server (answer links, the API) and an SMTP listener
"$bin" --db "$db" serve --listen "127.0.0.1:$wport" --access-log /dev/null > "$tmp/serve.out" 2>&1 &
web=$!
wait_http "$W/health"
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
mkdir -p "$tmp/mail"
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
smtp="smtp://127.0.0.1:$(head -n 1 "$tmp/port")"

dash() { # the console's dashboard numbers of hand-offs and incidents (as the analyst)
    curl -s -b "$tmp/jar" "$W/console/data/summary" | python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sorted(d):
    if "handoff" in k or "cross_border" in k or "incident" in k or k == "sla_breaches": print(k, json.dumps(d[k], sort_keys=True))'
}
check "the analyst logs in to the console" "200" "$(curl -s -c "$tmp/jar" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"user":"ana","password":"correct horse battery staple"}' "$W/console/login")"
stats > "$tmp/stats.before"
dash > "$tmp/dash.before"
check "the dashboard counts hand-offs" "handoffs_by_state" "$(cat "$tmp/dash.before")"

# the drill tables exist from here on (and the incident schema is current):
# the row counts to come back to are taken now
L drill list > /dev/null
counts > "$tmp/counts.before"
[ "$(grep -c . "$tmp/counts.before")" -gt 10 ] || { echo "FAIL too few tables counted"; cat "$tmp/counts.before"; exit 1; }

# ---- the scenario: three participants, three channels
t0=$(($(date +%s) - 600)) # started ten minutes ago
cat > "$tmp/drill.yaml" <<YAML
name: "Channels drill"
participants: [$kh, $api, $sg]
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
      - answer: resolve
        score: 20
        expiry: 2h
      - answer: value
        value: mirai
        score: 5
        expiry: 2h
YAML
out=$(L drill run "$tmp/drill.yaml" --at "$(iso $t0)" --smtp "$smtp" --unsigned 2>&1)
check "run" "drill 1 created" "$out"
same "kh by e-mail" 1 "$(echo "$out" | grep -c " c2  *$kh .* email  sent")"
same "sg by e-mail (its email: channel)" 1 "$(echo "$out" | grep -c " c2  *$sg .* email  sent")"
same "... to that address" 1 "$(grep -l "^To: soc@mail-cert.example" "$tmp/mail"/*.eml | grep -c .)"
same "the partner without a contact: the API" 1 "$(echo "$out" | grep -c " c2  *$api .* api  *sent")"
same "two e-mails" 2 "$(ls "$tmp/mail" | grep -c eml)"
khmail=$(grep -l "^To: report@kh-cert.example" "$tmp/mail"/*.eml | head -n 1)
kinc=$(sed -n 's/^X-Liaison-Incident: \([0-9]*\).*/\1/p' "$khmail" | head -n 1)
ainc=$(store_sql "$db" "SELECT incident_id FROM drill_send WHERE participant = '$api'")
check "[DRILL] in the subject" "Subject: [DRILL] [LIAISON#$kinc]" "$(cat "$khmail")"
check "X-Liaison-Drill header" "X-Liaison-Drill: 1" "$(cat "$khmail")"
text=$(python3 -c 'import email,sys
m=email.message_from_binary_file(open(sys.argv[1],"rb"))
print(next(p for p in m.walk() if p.get_content_type()=="text/plain").get_payload(decode=True).decode())' "$khmail")
check "[DRILL] in the body" "[DRILL] This is an exercise" "$text"
ack=$(echo "$text" | grep -o "$W/answer/$kinc/[a-z0-9._-]*/ack/[0-9]*/[A-Za-z0-9_-]*" | head -n 1)
res=$(echo "$text" | grep -o "$W/answer/$kinc/[a-z0-9._-]*/resolve/[0-9]*/[A-Za-z0-9_-]*" | head -n 1)
check "a signed acknowledge link" "/answer/$kinc/$kh/ack/" "$ack"
check "a signed resolve link" "/answer/$kinc/$kh/resolve/" "$res"

# ---- kh answers by the links
check "the link's page says [DRILL]" "[DRILL]" "$(curl -s "$ack?plain")"
check "ack by the link" "Thank you" "$(curl -s -X POST -d '' "$ack")"
check "resolved by the link" "Thank you" "$(curl -s -X POST -d '' "$res")"
ho=$(L handoff list --incident "$kinc" --recipient $kh --format json)
check "kh's hand-off resolved" '"state":"resolved"' "$ho"
check "through the link channel" '"channel":"link"' "$ho"

# ---- the API partner: sees its drill incident, marked, and answers
A() { curl -s -H "Authorization: Bearer $key" "$@"; }
lst=$(A "$W/api/v1/incidents")
check "the API lists the drill incident" "\"id\":$ainc" "$(echo "$lst" | tr -d ' ')"
check "... with its drill" '"drill":1' "$(echo "$lst" | tr -d ' ')"
check "... [DRILL] in its title" "[DRILL] C2 beacon" "$lst"
check "GET: the X-Liaison-Drill header" "X-Liaison-Drill: 1" "$(A -D - -o /dev/null "$W/api/v1/incidents/$ainc")"
check "acknowledged over the API" "200" "$(A -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"state":"acknowledged"}' "$W/api/v1/incidents/$ainc/handoffs/$api")"
check "the value, a comment over the API" "201" "$(A -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"body":"The sample is MIRAI, variant 3."}' "$W/api/v1/incidents/$ainc/comments")"
check "another partner cannot see it" "404" "$(A -o /dev/null -w '%{http_code}' "$W/api/v1/incidents/$kinc")"

# ---- the scores, by the hand-offs' own times
at=$(iso $((t0 + 3 * 3600)))
rep=$(L drill report 1 --at "$at" --format json)
row() { echo "$rep" | python3 -c "import json,sys; d=json.load(sys.stdin)
r=[x for x in d['rows'] if x['participant']=='$1' and x['answer']=='$2'][0]
print(r['$3'])"; }
same "kh: acknowledged by the link, in time" met "$(row $kh acknowledge verdict)"
same "kh: resolved by the link, in time" 20 "$(row $kh resolve score)"
same "kh: never named the value" missed "$(row $kh value verdict)"
same "kh's time to acknowledge is its hand-off's" 1 "$(row $kh acknowledge acked_after_s | awk '{print ($1 >= 590 && $1 <= 900)}')"
same "api: channel" api "$(row $api acknowledge channel)"
same "api: acknowledged over the API" 10 "$(row $api acknowledge score)"
same "api: reported the value over the API" 5 "$(row $api value score)"
same "api: never resolved" missed "$(row $api resolve verdict)"
same "sg silent: 0" 0 "$(row $sg acknowledge score)"
same "sg silent: missed" missed "$(row $sg resolve verdict)"
txt=$(L drill report 1 --at "$at")
check "not ranked" "not ranked" "$txt"
check_not "no place numbers" "1. " "$txt"
# scored from the hand-off rows, not from anything the drill keeps: moving
# kh's acknowledgement past the expiry makes it late
store_sql "$db" "UPDATE handoff SET acknowledged = acknowledged + 7200000000 WHERE incident_id = $kinc AND recipient = '$kh'"
same "a later acknowledgement (the hand-off's timer) scores late" late \
    "$(rep=$(L drill report 1 --at "$at" --format json); row $kh acknowledge verdict)"
store_sql "$db" "UPDATE handoff SET acknowledged = acknowledged - 7200000000 WHERE incident_id = $kinc AND recipient = '$kh'"

# ---- isolation, during the drill
stats > "$tmp/stats.during"
if cmp -s "$tmp/stats.before" "$tmp/stats.during"; then echo "ok   real statistics and exports unchanged by the drill"; else
    echo "FAIL real statistics changed:"; diff "$tmp/stats.before" "$tmp/stats.during" | head -20; fails=$((fails + 1)); fi
dash > "$tmp/dash.during"
if cmp -s "$tmp/dash.before" "$tmp/dash.during"; then echo "ok   the console's dashboard unchanged by the drill"; else
    echo "FAIL the dashboard counts the drill:"; diff "$tmp/dash.before" "$tmp/dash.during"; fails=$((fails + 1)); fi
check "export --of-incident refuses a drill incident" "not exported or shared" "$(L export stix --of-incident "$kinc" 2>&1)"
check "incident export iodef refuses it" "not exported or shared" "$(L incident export "$ainc" iodef 2>&1)"
same "the drill incidents hold no event" 0 \
    "$(store_sql "$db" "SELECT count(*) FROM incident_link WHERE incident_id IN (SELECT id FROM incident WHERE drill IS NOT NULL)")"

# ---- delete: every table as before the drill
check "stop" "drill 1 stopped" "$(L drill stop 1)"
check "delete" "drill 1 deleted with its 3 incidents" "$(L drill delete 1)"
counts > "$tmp/counts.after"
if cmp -s "$tmp/counts.before" "$tmp/counts.after"; then echo "ok   every table has its rows of before the drill"; else
    echo "FAIL rows left by the drill (table before/after):"; diff "$tmp/counts.before" "$tmp/counts.after"; fails=$((fails + 1)); fi
check "the audit log still verifies" "audit log verified" "$(L audit verify 2>&1)"

# ---- real events while a drill runs go to real incidents only
check "a deleted drill's id is not given again" "drill 2 created" "$(L drill run "$tmp/drill.yaml" --smtp "$smtp" --unsigned 2>&1)"
same "drill 2: three incidents" 3 "$(store_sql "$db" "SELECT count(*) FROM incident WHERE drill = 2")"
links=$(store_sql "$db" "SELECT count(*) FROM incident_link")
sed 's/"2026-11-2[0-9]T/"'"$(date -u +%Y-%m-%d)"'T/' "$root/share/demo/partner-events-demo.jsonl" |
    sed 's/192\.0\.2\./198.51.100./g' > "$tmp/more.jsonl"
L ingest --feed partner-sharing --format jsonl "$tmp/more.jsonl" > /dev/null 2>&1
[ "$(store_sql "$db" "SELECT count(*) FROM incident_link")" -gt "$links" ] && echo "ok   the new real events were linked to incidents" ||
    { echo "FAIL the new report linked no event (the check below proves nothing)"; fails=$((fails + 1)); }
same "none to a drill incident" 0 \
    "$(store_sql "$db" "SELECT count(*) FROM incident_link WHERE incident_id IN (SELECT id FROM incident WHERE drill IS NOT NULL)")"
check "delete drill 2" "drill 2 deleted with its 3 incidents" "$(L drill delete 2)"

# ---- the ids of a deleted drill's incidents are never given to real ones
L drill run "$tmp/drill.yaml" --smtp "$smtp" --unsigned > /dev/null 2>&1
top=$(store_sql "$db" "SELECT max(id) FROM incident")
same "drill 3's incidents are the newest" "$top" "$(store_sql "$db" "SELECT max(id) FROM incident WHERE drill = 3")"
check "delete drill 3" "drill 3 deleted with its 3 incidents" "$(L drill delete 3)"
nid=$(L incident create --title "A real one after the drill" | grep -o '[0-9][0-9]*' | head -n 1)
[ -n "$nid" ] && [ "$nid" -gt "$top" ] && echo "ok   a real incident never takes a deleted drill incident's id ($nid > $top)" ||
    { echo "FAIL a real incident took id '$nid', a deleted drill incident's (<= $top)"; fails=$((fails + 1)); }
finish
