#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Digests carry their incidents and set the hand-offs: demo events routed
# with an `incidents:` rule open incidents with pending hand-offs; a run
# whose SMTP server is down changes none of them; `notify run` against an
# SMTP listener on 127.0.0.1 (smtp_sink.py) sends digests whose subject
# names each incident ([LIAISON#id]) with one X-Liaison-Incident header
# each, and the hand-offs become notified (channel email, by liaison, the
# digest's Message-ID in the audit record); a reply that names only that
# Message-ID (In-Reply-To, or References) acknowledges every hand-off the
# digest carried. With public_url set, each digest carries signed answer
# links, and `liaison serve` acknowledges through one (GET shows, POST does).
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-incident-notify-XXXXXX)
sink=
web=
cleanup() {
    [ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
    [ -n "$web" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/integration/store_lib.sh"
db=$(store_new l) || exit 1
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
    if [ "$2" = "$3" ]; then echo "ok   $1 ($3)"; else echo "FAIL $1: expected $2, got $3"; fails=$((fails + 1)); fi
}
run() { # SMTP port: one run of every recipient, unsigned
    L notify run --force --unsigned --smtp "smtp://127.0.0.1:$1" --tries 1 --backoff-ms 1 \
        --templates "$root/share/templates" > "$tmp/run.out" 2>&1
}

L owners import "$root/share/demo/owners.yaml" > /dev/null
L partners import "$root/share/demo/partners.yaml" > /dev/null
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "public_url: http://127.0.0.1:$wport/" >> "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<'RULES'
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
  - name: per-ip
    group: [source.ip]
    window: 7d
RULES
L route load "$tmp/r.yaml" > /dev/null
L ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1
kh=sample-kh-cert
kh_ids=$(L handoff list --recipient $kh | awk '{print $1}')
nkh=$(echo "$kh_ids" | grep -c .)
[ "$nkh" -ge 2 ] && echo "ok   $kh has several incidents ($nkh)" || { echo "FAIL $kh incidents: $nkh"; fails=$((fails + 1)); }
same "all pending before any run" "$(L handoff list | grep -c .)" "$(L handoff list --state pending | grep -c .)"

# incidents opened by a routing rule start triaged (the rule is the triage)
same "opened triaged" "$(L incident list --format json | grep -o '"id":' | wc -l)" \
    "$(L incident list --format json | grep -o '"status":"triaged"' | wc -l)"

# a port where nothing listens: every e-mail delivery fails, no hand-off changes
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run "$closed" && { echo "FAIL run against a closed port succeeded"; fails=$((fails + 1)); }
check "delivery failed" "failed" "$(grep "partner:$kh " "$tmp/run.out")"
same "a failed delivery sets nothing" "$(L handoff list | grep -c .)" "$(L handoff list --state pending | grep -c .)"
same "no notified record in the audit log" 0 "$(L audit list --format json | grep -c '"action":"notified"')"

# the SMTP listener: the digests go out
mkdir "$tmp/mail"
python3 "$root/tests/integration/incident/smtp_sink.py" "$tmp/mail" > "$tmp/port" &
sink=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/port" ] && break; sleep 0.2; done
run "$(head -n 1 "$tmp/port")" # exit 1: a demo partner's own TAXII server does not exist
check "digest to $kh sent" "sent" "$(grep "partner:$kh " "$tmp/run.out")"
eml=$(grep -l '^To: report@kh-cert.example' "$tmp/mail"/*.eml | head -n 1)
[ -n "$eml" ] || { echo "FAIL no digest to $kh"; fails=$((fails + 1)); eml=/dev/null; }
subject=$(grep -m 1 '^Subject:' "$eml")
msgid=$(sed -n 's/^Message-ID: \(<[^>]*>\).*/\1/p' "$eml" | head -n 1)
# the subject names the first five (in id order), then how many more
for id in $(echo "$kh_ids" | sort -n | head -n 5); do
    check "subject names incident $id" "[LIAISON#$id]" "$subject"
done
[ "$nkh" -gt 5 ] && check "subject: how many more" "(+$((nkh - 5)) incidents)" "$subject"
for id in $kh_ids; do
    check "header names incident $id" "X-Liaison-Incident: $id" "$(grep '^X-Liaison-Incident:' "$eml")"
done
same "one X-Liaison-Incident header per incident" "$nkh" "$(grep -c '^X-Liaison-Incident:' "$eml")"
same "$kh hand-offs notified" "$nkh" "$(L handoff list --recipient $kh --state notified | grep -c .)"
audit=$(L audit list --object "handoff:$(echo "$kh_ids" | head -n 1)/$kh" --format json)
check "audit: notified by liaison" '"actor":"liaison","channel":"email"' "$audit"
check "audit: the digest's Message-ID" "message_id" "$audit"
check "audit: the digest's Message-ID" "$msgid" "$audit"
# every recipient whose digest was sent: its pending hand-offs are notified
for f in "$tmp/mail"/*.eml; do
    for id in $(sed -n 's/^X-Liaison-Incident: \([0-9]*\).*/\1/p' "$f"); do
        L handoff list --incident "$id" --state notified | grep -q notified ||
            { echo "FAIL incident $id named in $f: no hand-off notified"; fails=$((fails + 1)); }
    done
done
same "no hand-off left pending" "no hand-offs" "$(L handoff list --state pending)"
# the next run has nothing new: nothing sent, nothing changed
nmail=$(ls "$tmp/mail" | wc -l)
run "$(head -n 1 "$tmp/port")"
same "nothing sent twice" "$nmail" "$(ls "$tmp/mail" | wc -l)"

# the answer links in a third partner's digest: `liaison serve` takes them
other=$(grep -L -e '^To: report@kh-cert.example' -e '^To: cert@sg-cert.example' $(grep -l '^X-Liaison-Incident:' "$tmp/mail"/*.eml) | head -n 1)
text=$(python3 -c 'import email,sys
m=email.message_from_binary_file(open(sys.argv[1],"rb"))
print(next(p for p in m.walk() if p.get_content_type()=="text/plain").get_payload(decode=True).decode())' "$other")
check "digest: answer links" "Answer with one click" "$text"
oid=$(sed -n 's/^X-Liaison-Incident: \([0-9]*\).*/\1/p' "$other" | head -n 1)
link=$(echo "$text" | grep -o "http://127.0.0.1:$wport/answer/$oid/[a-z0-9._-]*/ack/[0-9]*/[A-Za-z0-9_-]*" | head -n 1)
orcpt=$(echo "$link" | cut -d/ -f6)
check "digest: a signed acknowledge link for incident $oid" "/answer/$oid/" "$link"
check "digest: resolved and reject links" "/reject/" "$(echo "$text" | grep "/answer/$oid/")"
# a console installed beside it: a browser opening the link lands on the
# console's answer page; ?plain is the server's own page (no script)
mkdir -p "$tmp/console" && echo '<!doctype html><title>console</title>' > "$tmp/console/index.html"
# not through L: $! must be the server itself, not a subshell running it
# (killing the subshell left the server running after the test)
"$bin" --db "$db" serve --listen "127.0.0.1:$wport" --access-log /dev/null --console-dir "$tmp/console" > "$tmp/serve.out" 2>&1 &
web=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$wport/health" > /dev/null 2>&1 && break; sleep 0.1; done
check "link opened: to the console's answer page" "Location: /console/answer/$oid/" "$(curl -s -D - -o /dev/null "$link")"
check "link opened with ?plain: a page, nothing changed" "<form method=\"post\">" "$(curl -s "$link?plain")"
same "still notified after GET" notified "$(L handoff list --incident "$oid" --recipient "$orcpt" --format json | grep -o '"state":"[a-z]*"' | cut -d'"' -f4)"
check "link confirmed" "Thank you" "$(curl -s -X POST -d '' "$link")"
ho=$(L handoff list --incident "$oid" --recipient "$orcpt" --format json)
check "acknowledged through the link" '"state":"acknowledged"' "$ho"
check "channel link" '"channel":"link"' "$ho"
check "a changed link is refused" "403" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '' "$(echo "$link" | sed 's/ack/reject/')")"
kill "$web" 2>/dev/null; wait "$web" 2>/dev/null; web=

# a reply whose only reference is In-Reply-To: the digest's Message-ID
out=$(printf 'From: KH CERT <report@kh-cert.example>\nTo: cert@national-cert.example\nSubject: Re: your report\nMessage-ID: <r1@kh-cert.example>\nIn-Reply-To: %s\n\nReceived, we are on it.\n' "$msgid" | L mail receive 2>&1)
check "reply matched to the digest's incidents" "incident $(echo "$kh_ids" | head -n 1) (and $((nkh - 1)) more), $kh" "$out"
check "reply acknowledges" ", ack" "$out"
same "$kh hand-offs acknowledged" "$nkh" "$(L handoff list --recipient $kh --state acknowledged | grep -c .)"
# the incident follows: every incident whose live hand-offs are all
# acknowledged is acknowledged now (by liaison, automatically)
nfollow=0
for id in $kh_ids; do
    states=$(L handoff list --incident "$id" --format json | grep -o '"state":"[a-z]*"' | sort -u | tr '\n' ' ')
    status=$(L incident show "$id" --format json | grep -o '"status":"[a-z]*"' | head -n 1)
    case "$states" in
    '"state":"acknowledged" ') nfollow=$((nfollow + 1))
        same "incident $id follows its hand-offs" '"status":"acknowledged"' "$status" ;;
    *) same "incident $id notified" '"status":"notified"' "$status" ;;
    esac
done
[ "$nfollow" -gt 0 ] || { echo "FAIL no incident with only $kh's hand-off to check"; fails=$((fails + 1)); }
check "reply kept as a shared comment" "shared:$kh" "$(L incident show "$(echo "$kh_ids" | head -n 1)")"
same "unmatched queue empty" "no unmatched messages" "$(L mail unmatched)"
# References only (a client that drops In-Reply-To), from another partner
sg_eml=$(grep -l '^To: cert@sg-cert.example' "$tmp/mail"/*.eml | head -n 1)
sg_id=$(sed -n 's/^Message-ID: \(<[^>]*>\).*/\1/p' "$sg_eml" | head -n 1)
out=$(printf 'From: cert@sg-cert.example\nSubject: Re: report\nMessage-ID: <r2@sg>\nReferences: <other@sg> %s\n\nresolved\n' "$sg_id" | L mail receive 2>&1)
check "References: resolved" "resolve" "$out"
same "sample-sg-cert hand-offs resolved" "$(L handoff list --recipient sample-sg-cert | grep -c .)" \
    "$(L handoff list --recipient sample-sg-cert --state resolved | grep -c .)"
# the digest's Message-ID from someone who is not a contact of that recipient
out=$(printf 'From: mallory@evil.example\nSubject: Re\nMessage-ID: <r3@x>\nIn-Reply-To: %s\n\nack\n' "$msgid" | L mail receive 2>&1)
check "stranger answering a digest: unmatched" "not a contact of a recipient" "$out"
echo "$fails failed"
[ "$fails" -eq 0 ]
