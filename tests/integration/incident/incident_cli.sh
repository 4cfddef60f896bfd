#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Incidents, hand-offs, SLA breaches and the audit log as a user runs them:
# create, list, show, update (a refused transition names the allowed ones),
# comment, link, split, merge; handoff add/notified/ack/reject; sla breaches; audit
# checkpoint, verify, list, prove. Then the log is tampered with through the
# sqlite3 shell (psql on PostgreSQL: store_lib.sh), as someone with the file would: a record edited, one
# deleted, two swapped, the newest ten cut off; verify names the first
# broken record each time. Every check states what it expected.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-incident-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$root/tests/integration/store_lib.sh"
db=$(store_new l) || exit 1
pdb=$(store_new p) || exit 1
ev=$(store_new ev) || exit 1
fails=0
export LIAISON_USER=alice LIAISON_AUDIT_KEY="$tmp/node.key" LIAISON_AUDIT_ORIGIN=cert.example/audit
L() { "$bin" --db "$db" "$@"; }
check() { # name, expected substring, output
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
expect_fail() { # name, expected substring in output, command...
    name=$1 want=$2
    shift 2
    if out=$("$@" 2>&1); then
        echo "FAIL $name: succeeded: $out"; fails=$((fails + 1))
    else
        check "$name" "$want" "$out"
    fi
}

check "help" "create --title" "$(L incident --help 2>&1)"
check "create" "incident 1 created" "$(L incident create --title 'Mirai in KH' --severity critical --countries KH --sectors iot --recipient cert-kh --recipient owner-a --event 7 2>&1)"
check "create 2" "incident 2 created" "$(L incident create --title 'Phishing kit' --tlp green 2>&1)"
expect_fail "create without title" "--title is required" L incident create
expect_fail "bad severity" "low, medium, high, critical" L incident create --title x --severity urgent
check "list" "Mirai in KH" "$(L incident list 2>&1)"
check "list json" '"status":"new"' "$(L incident list --format json 2>&1)"
check "list by severity" "Phishing kit" "$(L incident list --severity medium 2>&1)"
out=$(L incident list --severity critical 2>&1)
case "$out" in *Phishing*) echo "FAIL severity filter: $out"; fails=$((fails + 1)) ;; *) echo "ok   severity filter" ;; esac
expect_fail "refused transition" "allowed from new: triaged, rejected, duplicate, merged" L incident update 1 --status resolved
check "triage" "incident 1 updated" "$(L incident update 1 --status triaged --owner bob 2>&1)"
expect_fail "merge without into" "names the other incident" L incident update 2 --status merged
check "comment" "comment 1 added to incident 1 (shared:cert-kh)" "$(L incident comment 1 --shared=cert-kh 'Please take down' 2>&1)"
check "link" "incident 1 linked to indicator evil.example" "$(L incident link 1 --indicator evil.example 2>&1)"
check "show" "cert-kh" "$(L incident show 1 2>&1)"
check "show json" '"handoffs":[{"recipient":"cert-kh","state":"pending"' "$(L incident show 1 --format json 2>&1)"
expect_fail "ack before notified" "allowed from pending: notified, withdrawn" L handoff ack 1 cert-kh
check "notified" "cert-kh: notified" "$(L handoff notified 1 cert-kh 2>&1)"
check "sla none yet" "no SLA breaches" "$(L sla breaches 2>&1)"
check "sla later" "acknowledge" "$(L sla breaches --at 2099-01-01T00:00:00Z 2>&1)"
check "ack by email" "cert-kh: acknowledged" "$(L handoff ack 1 cert-kh --channel email --by cert-kh 2>&1)"
check "sla resolve clock" "resolve" "$(L sla breaches --at 2099-01-01T00:00:00Z --format json 2>&1)"
expect_fail "reject without reason" "REASON" L handoff reject 1 owner-a
L handoff notified 1 owner-a >/dev/null 2>&1
check "reject" "owner-a: rejected" "$(L handoff reject 1 owner-a 'not our network' 2>&1)"
check "handoff list" "not our network" "$(L handoff list --incident 1 2>&1)"
check "metrics" "  cert-kh                         1      1" "$(L metrics 2>&1)"
check "metrics json" '"handoffs":[{"channel":"cli","state":"rejected","count":1},{"channel":"email","state":"acknowledged","count":1}]' "$(L metrics --format json 2>&1)"
check "metrics open" "KH       iot                   1" "$(L metrics 2>&1)"
check "metrics since" '"by_recipient":[]' "$(L metrics --since 2099-01-01 --format json 2>&1)"
expect_fail "metrics bad since" "not a date" L metrics --since yesterday

# the incident followed its hand-offs: notified with cert-kh's, acknowledged
# once owner-a (the only other one) rejected, each step by liaison (auto)
check "follows: acknowledged" '"status":"acknowledged"' "$(L incident show 1 --format json 2>&1)"
check "follows: audit" '"actor":"liaison","channel":"auto"' "$(L audit list --object incident:1 --format json 2>&1)"
check "follows: cause" 'handoff:1/owner-a rejected' "$(L audit list --object incident:1 --format json 2>&1)"

# the audit log: 13 records so far (2 of them the incident following)
check "audit list" "acknowledged" "$(L audit list --object handoff:1/cert-kh 2>&1)"
check "audit list by actor" "cert-kh" "$(L audit list --actor cert-kh 2>&1)"
check "checkpoint" "cert.example/audit" "$(L audit checkpoint 2>/dev/null)"
check "key file" "PRIVATE+KEY+cert.example/audit+" "$(cat "$tmp/node.key")"
check "verify" "audit log verified: 14 records, 1 checkpoints" "$(L audit verify 2>&1)"
check "prove inclusion" "inclusion of record 3 in 14" "$(L audit prove --seq 3 2>&1)"
check "prove consistency" "consistency of 5 with 14" "$(L audit prove --from 5 2>&1)"

store_save "$db"
restore() { store_restore "$db"; }
sql() { store_sql "$db" "$1"; }

sql "UPDATE audit_log SET after = '{\"state\":\"resolved\"}' WHERE seq = 9"
expect_fail "edited record" "BROKEN at record 9" L audit verify
restore
sql "DELETE FROM audit_log WHERE seq = 4"
expect_fail "deleted record" "BROKEN at record 4: record 4 is missing" L audit verify
restore
sql "UPDATE audit_log SET seq = -1 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; UPDATE audit_log SET seq = 7 WHERE seq = -1"
expect_fail "swapped records" "BROKEN at record 6" L audit verify
restore
# ten more changes, a checkpoint
for i in 1 2 3 4 5 6 7 8 9 10; do L incident comment 2 "note $i" >/dev/null 2>&1; done
vkey=$(L audit checkpoint 2>&1 >"$tmp/ours.note" | sed -n 's/.*verifier key //p')
check "verify 24" "24 records" "$(L audit verify 2>&1)"
# a partner node (its own key) checks and cosigns our checkpoint, and keeps it
P() { LIAISON_AUDIT_KEY="$tmp/partner.key" LIAISON_AUDIT_ORIGIN=partner.example/witness "$bin" --db "$pdb" "$@"; }
check "cosign" "cosigned cert.example/audit at size 24" "$(P audit cosign "$tmp/ours.note" --vkey "$vkey" 2>&1 >"$tmp/partner-copy.note")"
pvkey=$(P audit cosign "$tmp/ours.note" --vkey "$vkey" 2>&1 >/dev/null | sed -n 's/.*our cosigner key //p')
check "cosigned copy" "partner.example/witness" "$(cat "$tmp/partner-copy.note")"
sed 's/^24$/25/' "$tmp/ours.note" > "$tmp/forged.note"
expect_fail "cosign a forged note" "signature" P audit cosign "$tmp/forged.note" --vkey "$vkey"
check "verify with the cosigned copy" "audit log verified: 24 records" "$(L audit verify --checkpoint "$tmp/partner-copy.note" --vkey "$pvkey" 2>&1)"
# the newest ten cut off
sql "DELETE FROM audit_log WHERE seq > 14"
expect_fail "newest ten cut off" "records 15 to 24 were cut off" L audit verify
# and the stored checkpoints removed too: the partner's cosigned copy still shows it
sql "DELETE FROM audit_checkpoint"
expect_fail "cut off, against the partner's copy" "outside checkpoint covers 24 records" L audit verify --checkpoint "$tmp/partner-copy.note" --vkey "$pvkey"

# an incident from a selection of events: the filters of `liaison events`
E() { (cd "$tmp" && "$bin" --db "$ev" "$@"); } # in $tmp: the demo's files beside a PostgreSQL store
E demo > /dev/null 2>&1 || { echo "FAIL demo store for --events-from"; fails=$((fails + 1)); }
# the demo's routing rules opened incidents already: the ones made here follow them
base=$(E incident list --format json 2>&1 | grep -o '"id":' | wc -l | tr -d ' ')
n1=$((base + 1)) n2=$((base + 2))
kh=$(E events --cc KH --format ids | wc -l)
check "events ids" "$kh" "$(E events --cc KH --count 2>&1)"
check "create from events" "incident $n1 created, $kh events linked" \
    "$(E events --cc KH --format ids | E incident create --title 'KH batch' --countries KH --events-from - 2>&1)"
check "linked events listed" "$(E events --cc KH --format ids | tail -n 1)" "$(E incident show $n1 2>&1)"
expect_fail "events-from: not an id" "-:2: 'abc' is not an event id" sh -c "printf '1\\nabc\\n' | '$bin' --db '$ev' incident create --title x --events-from -"
expect_fail "events-from: unknown event" "no event 999999999" sh -c "printf '999999999\\n' | '$bin' --db '$ev' incident create --title x --events-from -"
check "nothing created by the refused ones" "KH batch" "$(E incident list 2>&1)"
n=$(E incident list --format json 2>&1 | grep -o '"id":' | wc -l | tr -d ' ')
check "one incident only" "incidents=$n1;" "incidents=$n;"

# split: the first three KH events go to a new incident with the same
# attributes; merge: it folds back, every link copied
E handoff add $n1 cert-kh > /dev/null
E events --cc KH --format ids | head -n 3 > "$tmp/three"
first=$(head -n 1 "$tmp/three")
check "split" "incident $n1 split: 3 events moved to the new incident $n2" \
    "$(E incident split $n1 --events-from "$tmp/three" --title 'KH batch, part 2' 2>&1)"
two=$(E incident show $n2 --format json 2>&1)
check "split: the new one has the events" "\"ref\":\"$first\"" "$two"
check "split: its attributes" '"countries":"KH"' "$two"
check "split: the same recipients" "cert-kh" "$(E handoff list --incident $n2 2>&1)"
check "split: linked back" "\"kind\":\"incident\",\"ref\":\"$n1\"" "$two"
one=$(E incident show $n1 --format json 2>&1)
case "$one" in *"\"kind\":\"event\",\"ref\":\"$first\""*) echo "FAIL split: event $first still on $n1"; fails=$((fails + 1)) ;; *) echo "ok   split: the events left 1" ;; esac
check "split: $n1 has $((kh - 3)) events" "$((kh - 3))" "$(E incident show $n1 --format json | grep -o '"kind":"event"' | wc -l | tr -d ' ')"
check "split: audit" '"action":"split-out"' "$(E audit list --object incident:$n1 --format json 2>&1)"
expect_fail "split: an event not of this incident" "is not linked to incident $n2" E incident split $n2 --event "$(E events --cc KH --format ids | tail -n 1)"
expect_fail "split: no events" "which events?" E incident split $n1
check "merge" "incident $n2 merged into incident $n1" "$(E incident merge $n2 --into $n1 2>&1)"
check "merge: the links came back" "$kh" "$(E incident show $n1 --format json | grep -o '"kind":"event"' | wc -l | tr -d ' ')"
check "merge: status" '"status":"merged"' "$(E incident show $n2 --format json 2>&1)"
expect_fail "split of a merged incident" "a final incident is not split" E incident split $n2 --event "$first"
expect_fail "merge without --into" "--into ID" E incident merge $n1

# the directory, the routing file and the accounts are audit-logged too, by the CLI's user
D() { "$bin" --db "$tmp/dir.db" "$@"; }
D partners import "$root/share/demo/partners.yaml" > /dev/null
D partners import "$root/share/demo/partners.yaml" > /dev/null
check "partner created, by alice" '"actor":"alice","channel":"cli","address":"local","object":"partner:sample-kh-cert","action":"create"' "$(D audit list --object partner:sample-kh-cert --format json)"
check "an import that changes nothing logs nothing" 1 "$(D audit list --object partner:sample-kh-cert --format json | grep -o '"seq"' | wc -l | tr -d ' ')"
sed 's/tlp_max: AMBER/tlp_max: GREEN/' "$root/share/demo/partners.yaml" > "$tmp/p2.yaml"
D partners import "$tmp/p2.yaml" > /dev/null
check "partner update: before and after" 'AMBER' "$(D audit list --object partner:sample-kh-cert --format json | grep '"action":"update"' | grep -o '"before":"[^}]*' | head -n 1)"
D route load "$root/share/demo/routing.yaml" > /dev/null
check "routing file loaded" '"object":"routing:rules","action":"create"' "$(D audit list --object routing:rules --format json)"
D accounts org-add kh --kind partner --party sample-kh-cert > /dev/null
D accounts user-add kh kh-user --role partner > /dev/null
key=$(D accounts key-add kh-user 2> /dev/null)
D accounts key-revoke 1 > /dev/null
all=$(D audit list --format json)
check "org created" '"object":"org:kh","action":"create"' "$all"
check "org linked" '"object":"org:kh","action":"link"' "$all"
check "user created" '"object":"user:kh-user","action":"create"' "$all"
check "key created" '"object":"key:1","action":"create"' "$all"
check "key revoked" '"object":"key:1","action":"revoke"' "$all"
case "$all" in *"$key"*) echo "FAIL the API key is in the audit log"; fails=$((fails + 1)) ;; *) echo "ok   the API key is not in the audit log" ;; esac
check "the whole log still verifies" "verified" "$(D audit verify 2>&1)"

# an IODEF v2 document as an incoming incident; the same IncidentID again updates it
iodef="${LIAISON_TESTDATA:-$root/tests/data}/iodef/examples/GuidanceDraft_IoTMalware.xml"
check "iodef import opens an incident" "opened from" "$(D incident import "$iodef" --from sample-kh-cert 2>&1)"
check "iodef import again updates it" "updated from $iodef: 0 events linked" "$(D incident import "$iodef" --from sample-kh-cert 2>&1)"
shown=$(D incident show 1 --format json 2>&1)
check "iodef: the IncidentID is linked" "iodef:csirt.example.com:189802" "$shown"
check "iodef: its events are linked" '"kind":"event"' "$shown"
check "iodef: not XML is refused" "not XML" "$(printf 'hello' > "$tmp/x.xml"; D incident import "$tmp/x.xml" 2>&1)"

# attachments: bounded, hashed, checked on every read, audit-logged without their bytes
printf 'capture\000bytes' > "$tmp/scan.pcap"
sum=$(sha256sum "$tmp/scan.pcap" | cut -d' ' -f1)
check "attach" "attachment #1 scan.pcap (13 bytes)" "$(L incident attach 1 "$tmp/scan.pcap" --type application/vnd.tcpdump.pcap --shared=cert-kh 2>&1)"
check "attach the same bytes again" "attached before, nothing stored" "$(L incident attach 1 "$tmp/scan.pcap" --name other.pcap 2>&1)"
check "show lists it with its hash" "scan.pcap, application/vnd.tcpdump.pcap, 13 bytes, SHA-256 $sum" "$(L incident show 1 2>&1)"
check "show json" "\"sha256\":\"$sum\"" "$(L incident show 1 --format json 2>&1)"
shown=$(L incident show 1 2>&1)
check "show: the timeline has the attachment" "alice        cli      attach     incident:1" "$shown"
check "show: and the hand-offs" "handoff:1/cert-kh" "$(echo "$shown" | sed -n '/^timeline:/,$p')"
check "show json: the timeline" '"object":"incident:1","action":"attach"' "$(L incident show 1 --format json 2>&1 | tr -d ' ')"
L incident attachment 1 1 -o "$tmp/back.pcap"
check "the bytes come back" "$sum" "$(sha256sum "$tmp/back.pcap")"
check "audit: attach, without the bytes" "\"action\":\"attach\"" "$(L audit list --object incident:1 --format json 2>&1)"
expect_fail "a name with a slash" "without '/'" L incident attach 1 "$tmp/scan.pcap" --name ../x
expect_fail "a bad media type" "a media type" L incident attach 1 "$tmp/scan.pcap" --type pcap
expect_fail "no such incident" "no incident 99" L incident attach 99 "$tmp/scan.pcap"
expect_fail "no such attachment" "has no attachment 7" L incident attachment 1 7
head -c 10485761 /dev/zero > "$tmp/big"
expect_fail "too large" "larger than" L incident attach 1 "$tmp/big"
if store_pg; then zero="'\\x00'::bytea"; else zero="x'00'"; fi
sql "UPDATE incident_attachment SET body = $zero"
expect_fail "changed bytes are refused" "the store was changed" L incident attachment 1 1

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all incident CLI checks passed"
