#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# A cross-border drill from start to report (issue 14 point 2): two
# participants reached by e-mail (an SMTP listener on 127.0.0.1), one
# answering by reply, one silent. The injects go out once however often
# tick runs, also after a failed send and after a tick that stopped between
# sending and recording; the reply acknowledges and reports the expected
# value (scored), the silent one scores 0 once its expectations expire.
# Real statistics (metrics, the month's report, SLA breaches, incident
# lists) are the same with the drill as without it, and after
# `drill delete` nothing of the drill is left.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-drill-XXXXXX)
. "$root/tests/integration/lib.sh"
. "$root/tests/integration/store_lib.sh"
db=$(store_new drill) || exit 1
sink=
cleanup() {
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export LIAISON_USER=alice LIAISON_AUDIT_KEY="$tmp/node.key"
L() { "$bin" --db "$db" "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
kh=sample-kh-cert sg=sample-sg-cert

# ---- real data: incidents opened by a routing rule, one hand-off answered
L owners import "$root/share/demo/owners.yaml" > /dev/null
L partners import "$root/share/demo/partners.yaml" > /dev/null
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<'RULES'
public_url: https://liaison.national-cert.example/
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
RULES
L route load "$tmp/r.yaml" > /dev/null
L ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1
real=$(L handoff list --recipient $kh | awk '{print $1}' | head -n 1)
[ -n "$real" ] || { echo "FAIL no real incident for $kh"; fails=$((fails + 1)); }
L handoff notified "$real" $kh > /dev/null
L handoff ack "$real" $kh > /dev/null
month=$(date -u +%Y-%m)
far=$(iso $(($(date +%s) + 30 * 86400)))
stats() { # every real statistic the drill must leave alone
    L metrics --format json --at "$far"
    L sla breaches --at "$far" --format json
    L incident list --format json
    L report build --period "$month" --format csv --out "$tmp/report.csv" > /dev/null && grep -v -i generated "$tmp/report.csv"
}
stats > "$tmp/stats.before"
L audit checkpoint > /dev/null 2>&1
nreal=$(L incident list | grep -c .)

# ---- the scenario
t0=$(($(date +%s) - 3 * 3600)) # the drill started three hours ago
cat > "$tmp/drill.yaml" <<YAML
name: "Two-partner drill"
participants: [$kh, $sg]
injects:
  - name: c2
    at: 0m
    title: "C2 beacon from AS 64510"
    severity: high
    event:
      classification.type: infected-system
      source.ip: 192.0.2.10
      malware.name: mirai
    expect:
      - answer: acknowledge
        score: 10
        expiry: 4h
      - answer: value
        value: mirai
        score: 5
        expiry: 4h
  - name: ics
    at: 1h
    title: "Exposed Modbus devices"
    expect:
      - answer: resolve
        score: 20
        expiry: 1h
YAML
check "check reads it" "2 participants, 2 injects, 3 expectations" "$(L drill check "$tmp/drill.yaml")"
printf 'name: x\nparticipants: [%s]\ninjects:\n  - name: i\n    at: soon\n    title: t\n' $kh > "$tmp/bad.yaml"
check "a bad offset: line, column, why" "bad.yaml:5: at: column 9: not a duration" "$(L drill check "$tmp/bad.yaml" 2>&1)"
printf 'name: x\nparticipants: [nobody]\ninjects:\n  - name: i\n    at: 0m\n    title: t\n    expect:\n      - answer: ack\n        expiry: 1h\n' > "$tmp/nobody.yaml"
check "an unknown participant is refused" "no partner or owner" "$(L drill run "$tmp/nobody.yaml" 2>&1)"
same "nothing created by a refused run" "no drills" "$(L drill list)"

python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
mkdir -p "$tmp/mail"
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
smtp="smtp://127.0.0.1:$(head -n 1 "$tmp/port")"
closed=$(free_port)

out=$(L drill run "$tmp/drill.yaml" --at "$(iso $t0)" --smtp "$smtp" --unsigned 2>&1)
check "run creates the drill" "drill 1 created" "$out"
same "run sends the first inject to both" 2 "$(echo "$out" | grep -c ' c2 .* email  sent')"
same "two messages" 2 "$(ls "$tmp/mail" | grep -c eml)"
khmail=$(grep -l "^To: report@kh-cert.example" "$tmp/mail"/*.eml | head -n 1)
check "[DRILL] in the subject" "Subject: [DRILL] [LIAISON#" "$(cat "$khmail")"
check "X-Liaison-Drill header" "X-Liaison-Drill: 1" "$(cat "$khmail")"
check "the synthetic event in the body" "192.0.2.10" "$(cat "$khmail")"
check "a signed answer link" "/answer/" "$(cat "$khmail")"
out=$(L drill tick --at "$(iso $((t0 + 60)))" --smtp "$smtp" --unsigned 2>&1)
same "a second tick sends nothing" "" "$out"
same "still two messages" 2 "$(ls "$tmp/mail" | grep -c eml)"
# a tick that stopped after the server took the message, before recording it
store_sql "$db" "UPDATE drill_send SET state = 0, sent = NULL WHERE participant = '$kh'"
L drill tick --at "$(iso $((t0 + 120)))" --smtp "$smtp" --unsigned > /dev/null 2>&1
same "a tick after a crash does not send again" 2 "$(ls "$tmp/mail" | grep -c eml)"
same "... and records it sent" 1 "$(store_sql "$db" "SELECT state FROM drill_send WHERE participant = '$kh' AND inject = 'c2'")"

# the second inject, due after 1h: the SMTP server down, then up
out=$(L drill tick --at "$(iso $((t0 + 3700)))" --smtp "smtp://127.0.0.1:$closed" --unsigned 2>&1)
same "a failed send exits 1" 1 $?
same "both failed, said" 2 "$(echo "$out" | grep -c ' ics .* failed')"
mid=$(store_sql "$db" "SELECT message_id FROM drill_send WHERE participant = '$sg' AND inject = 'ics'")
L drill tick --at "$(iso $((t0 + 3800)))" --smtp "$smtp" --unsigned > /dev/null 2>&1
same "retried: sent once each" 4 "$(ls "$tmp/mail" | grep -c eml)"
check "the retry is the same message (Message-ID)" "$mid" "$(cat "$tmp/mail"/*.eml)"
L drill tick --at "$(iso $((t0 + 3900)))" --smtp "$smtp" --unsigned > /dev/null 2>&1
same "and never again" 4 "$(ls "$tmp/mail" | grep -c eml)"

# ---- kh answers the first inject by replying (ack, and the value); sg is silent
kmid=$(sed -n 's/^Message-ID: \(<[^>]*>\).*/\1/p' "$khmail" | head -n 1)
out=$(printf 'From: KH CERT <report@kh-cert.example>\nTo: cert@national-cert.example\nSubject: Re: drill\nMessage-ID: <drill-r1@kh-cert.example>\nIn-Reply-To: %s\n\nack\n\nThe host runs Mirai; cleaned.\n' "$kmid" | L mail receive 2>&1)
check "the reply acknowledges the drill hand-off" "$kh: comment" "$out"
check "... ack" "ack" "$out"

rep=$(L drill report 1 --at "$(iso $((t0 + 3 * 3600 + 600)))" --format json)
row() { echo "$rep" | python3 -c "import json,sys; d=json.load(sys.stdin)
r=[x for x in d['rows'] if x['participant']=='$1' and x['inject']=='$2' and x['answer']=='$3'][0]
print(r['$4'])"; }
same "kh acknowledged in time: scores" 10 "$(row $kh c2 acknowledge score)"
same "kh's verdict" met "$(row $kh c2 acknowledge verdict)"
same "kh reported the value: scores" 5 "$(row $kh c2 value score)"
same "sg silent, not expired yet" waiting "$(row $sg c2 acknowledge verdict)"
same "nobody resolved ics within 1h" missed "$(row $kh ics resolve verdict)"
ack_after=$(row $kh c2 acknowledge acked_after_s)
[ "$ack_after" -ge 10700 ] && [ "$ack_after" -le 11500 ] && echo "ok   kh acked after about 3h ($ack_after s)" ||
    { echo "FAIL kh acked after $ack_after s, expected about 3h"; fails=$((fails + 1)); }
rep=$(L drill report 1 --at "$(iso $((t0 + 5 * 3600)))" --format json)
same "sg after expiry: missed" missed "$(row $sg c2 acknowledge verdict)"
same "sg after expiry: scores 0" 0 "$(row $sg c2 acknowledge score)"
same "not ranked (the scenario does not ask)" False "$(echo "$rep" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ranked"])')"
txt=$(L drill report 1 --at "$(iso $((t0 + 5 * 3600)))")
check "table: totals, not ranked" "not ranked" "$txt"
check "kh 15 of 35" "$kh           15 of 35" "$txt"
check "sg 0 of 35" "$sg           0 of 35" "$txt"
check_not "no rank numbers" "1. " "$txt"
check "status" "finished" "$(L drill status 1 --at "$(iso $((t0 + 5 * 3600)))")"

# ---- isolation: the real statistics are those before the drill
stats > "$tmp/stats.during"
if cmp -s "$tmp/stats.before" "$tmp/stats.during"; then echo "ok   real statistics unchanged by the drill"; else
    echo "FAIL real statistics changed:"; diff "$tmp/stats.before" "$tmp/stats.during" | head -20; fails=$((fails + 1)); fi
same "incident list: real ones only" "$nreal" "$(L incident list | grep -c .)"
same "incident list --drills: four more, [DRILL]" 4 "$(L incident list --drills | grep -c '\[DRILL\]')"
dinc=$(store_sql "$db" "SELECT incident_id FROM drill_send WHERE participant = '$kh' AND inject = 'c2'")
check "a drill incident is not exported" "not exported or shared" "$(L incident export "$dinc" stix 2>&1)"
check "a drill incident is not in a digest" "" "$(L notify run --dry-run --templates "$root/share/templates" 2>&1 | grep -i drill)"

# ---- stop, rank, delete
check "stop" "drill 1 stopped" "$(L drill stop 1)"
check "stopped twice" "stopped already" "$(L drill stop 1 2>&1)"
sed 's/^name: .*/name: "Ranked drill"\nrank: true/' "$tmp/drill.yaml" > "$tmp/ranked.yaml"
L drill run "$tmp/ranked.yaml" --at "$(iso $t0)" --smtp "$smtp" --unsigned > /dev/null 2>&1
check "rank: true ranks" "Ranking" "$(L drill report 2)"
out=$(L drill delete 1)
check "delete" "drill 1 deleted with its 4 incidents" "$out"
L drill delete 2 > /dev/null
same "no drills left" "no drills" "$(L drill list)"
same "no drill incident left" 0 "$(store_sql "$db" "SELECT count(*) FROM incident WHERE drill IS NOT NULL")"
same "no drill hand-off left" 0 "$(store_sql "$db" "SELECT count(*) FROM handoff WHERE incident_id NOT IN (SELECT id FROM incident)")"
same "no drill mail left" 0 "$(store_sql "$db" "SELECT count(*) FROM mail_message WHERE key = '<drill-r1@kh-cert.example>'")"
same "no drill rows left" 0 "$(store_sql "$db" "SELECT count(*) FROM drill_send")"
stats > "$tmp/stats.after"
if cmp -s "$tmp/stats.before" "$tmp/stats.after"; then echo "ok   real statistics unchanged after delete"; else
    echo "FAIL real statistics changed:"; diff "$tmp/stats.before" "$tmp/stats.after" | head -20; fails=$((fails + 1)); fi
check "the audit log still verifies" "audit log verified" "$(L audit verify 2>&1)"
finish
