#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Reminders and escalation (`liaison sla run`) as an analyst runs them from
# cron: two owners, one with one contact and one with two, each handed a
# critical incident (acknowledge within 1 business hour, UTC office hours).
# Ten minutes before the deadline each gets a reminder at its first contact
# (with a signed acknowledge link); once only; after the deadline the one
# with two contacts escalates to its second, the other to our duty address.
# A run whose SMTP server is down records nothing and the next run sends.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-sla-run-XXXXXX)
sink=
cleanup() {
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/integration/store_lib.sh"
db=$(store_new l) || exit 1
fails=0
export LIAISON_USER=alice LIAISON_AUDIT_KEY="$tmp/node.key"
L() { "$bin" --db "$db" "$@"; }
check() { # name, expected substring, output
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
same() { # name, expected, got
    if [ "$2" = "$3" ]; then echo "ok   $1 ($3)"; else echo "FAIL $1: expected $2, got $3"; fails=$((fails + 1)); fi
}

cat > "$tmp/owners.yaml" <<'YAML'
owners:
  - id: isp-one
    name: "ISP One (fictitious)"
    country: KH
    asns: [64500]
    contacts: [abuse@one.example]
  - id: isp-two
    name: "ISP Two (fictitious)"
    country: KH
    asns: [64501]
    contacts: [noc@two.example, manager@two.example]
YAML
L owners import "$tmp/owners.yaml" > /dev/null
cat > "$tmp/r.yaml" <<'YAML'
home_country: KH
mail_from: cert@national-cert.example
escalate_to: duty@national-cert.example
public_url: https://liaison.national-cert.example/
rules:
  - name: all
    to: [owner]
YAML
L route load "$tmp/r.yaml" > /dev/null
L incident create --title 'Mirai on two networks' --severity critical --recipient isp-one --recipient isp-two > /dev/null
L handoff notified 1 isp-one > /dev/null
L handoff notified 1 isp-two > /dev/null

# the deadline, as the store counts it
far=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)
due=$(L sla breaches --at "$far" --format json | python3 -c 'import json,sys; print([b["due"] for b in json.load(sys.stdin) if b["recipient"]=="isp-one"][0])')
before=$(date -u -d "$due - 10 minutes" +%Y-%m-%dT%H:%M:%SZ)
after=$(date -u -d "$due + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
early=$(date -u +%Y-%m-%dT%H:%M:%SZ) # the clock has hardly started (a fixed
# offset before the deadline may fall before office hours and count as more)

check "just notified: nothing due" "no reminders or escalations due" "$(L sla run --at "$early" --dry-run 2>&1)"
check "bad --remind-at" "a fraction between 0 and 1" "$(L sla run --remind-at 2 2>&1)"
mkdir "$tmp/dry"
out=$(L sla run --at "$before" --dry-run --out "$tmp/dry" 2>&1)
check "dry run: isp-one reminder" "reminder   LIAISON#1 isp-one" "$out"
check "dry run: to the first contact" "-> abuse@one.example: dry-run" "$out"
check "dry run: isp-two to its first contact" "-> noc@two.example: dry-run" "$out"
msg=$(cat "$tmp/dry/reminder-1-isp-one-acknowledge.eml" 2>&1)
check "reminder subject" "Subject: [LIAISON#1] Reminder: please acknowledge by" "$msg"
check "reminder: an acknowledge link" "https://liaison.national-cert.example/answer/1/isp-one/ack/" "$msg"
check "reminder: the incident's reference header" "X-Liaison-Incident: 1" "$msg"

# a closed port: failed, nothing recorded
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(L sla run --at "$before" --smtp "smtp://127.0.0.1:$closed" --unsigned 2>&1) && { echo "FAIL a failed run exits 0"; fails=$((fails + 1)); }
check "SMTP down: failed with the reason" "abuse@one.example: failed: " "$out"
same "SMTP down: nothing in the audit log" 0 "$(L audit list --format json | grep -c '"action":"reminded"')"

mkdir "$tmp/mail"
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/port" ] && break; sleep 0.2; done
smtp="smtp://127.0.0.1:$(head -n 1 "$tmp/port")"
out=$(L sla run --at "$before" --smtp "$smtp" --unsigned 2>&1)
check "reminders sent" "-> abuse@one.example: sent" "$out"
check "reminders sent (2)" "-> noc@two.example: sent" "$out"
same "two messages" 2 "$(ls "$tmp/mail" | wc -l | tr -d ' ')"
check "once only" "no reminders or escalations due" "$(L sla run --at "$before" --smtp "$smtp" --unsigned 2>&1)"
same "still two messages" 2 "$(ls "$tmp/mail" | wc -l | tr -d ' ')"
check "audit: reminded" '"action":"reminded"' "$(L audit list --object handoff:1/isp-one --format json 2>&1)"

# past the deadline: escalations
out=$(L sla run --at "$after" --smtp "$smtp" --unsigned 2>&1)
check "escalation of isp-one: to our duty address" "escalation LIAISON#1 isp-one" "$out"
check "escalation of isp-one: to our duty address (to)" "-> duty@national-cert.example: sent" "$out"
check "escalation of isp-two: to its second contact" "-> manager@two.example: sent" "$out"
esc=$(grep -l '^To: manager@two.example' "$tmp/mail"/*.eml | head -n 1)
check "escalation subject" "Escalation: acknowledge overdue (isp-two" "$(cat "$esc" 2>/dev/null)"
check "audit: escalated" '"action":"escalated"' "$(L audit list --object handoff:1/isp-two --format json 2>&1)"
check "escalated once" "no reminders or escalations due" "$(L sla run --at "$after" --smtp "$smtp" --unsigned 2>&1)"
# acknowledged: the acknowledge clock stops, nothing more for it
L handoff ack 1 isp-one > /dev/null
check "acknowledged: no acknowledge notice" "no reminders or escalations due" "$(L sla run --at "$after" --smtp "$smtp" --unsigned 2>&1)"

echo "$fails failed"
[ "$fails" -eq 0 ]
