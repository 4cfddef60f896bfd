#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The routing commands as a user runs them: owners/partners import, add,
# export round trip, lookup; route load/explain/preview/status after an
# ingest; notify --dry-run. Every check states what it expected.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-route-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/l.db"
fails=0
L() { "$bin" --db "$db" "$@"; }
check() { # name, expected substring, output
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
expect_fail() { # name, expected substring in stderr, command...
    name=$1 want=$2
    shift 2
    if out=$("$@" 2>&1); then
        echo "FAIL $name: succeeded: $out"; fails=$((fails + 1))
    else
        check "$name" "$want" "$out"
    fi
}

check "owners import" "3 owners imported" "$(L owners import "$root/share/demo/owners.yaml" 2>&1)"
check "partners import" "8 partners imported" "$(L partners import "$root/share/demo/partners.yaml" 2>&1)"
check "owners list" "demo-backbone-a" "$(L owners list 2>&1)"
check "lookup by prefix" "owner:demo-university" "$(L owners lookup 58.220.184.9 2>&1)"
check "lookup by ASN" "owner:demo-backbone-b" "$(L owners lookup AS4837 2>&1)"
check "lookup by domain" "owner:demo-backbone-a" "$(L owners lookup www.backbone-a.example 2>&1)"
check "lookup miss" "no owner" "$(L owners lookup 203.0.113.1 2>&1)"
check "add" "owner isp-x saved" "$(L owners add isp-x name='ISP X' asns=AS64500 cidrs=203.0.113.0/24 contacts=abuse@isp-x.example 2>&1)"
expect_fail "add twice" "exists already" L owners add isp-x asns=64501 contacts=a@isp-x.example
expect_fail "conflicting claim" "claimed by two owners" L owners add thief asns=64500 contacts=a@t.example
expect_fail "bad value" "asns" L owners add bad asns=ASX contacts=a@t.example
check "show" "cidrs: [203.0.113.0/24]" "$(L owners show isp-x 2>&1)"
L owners export --format csv -o "$tmp/owners.csv" || fails=$((fails + 1))
L owners export --format yaml -o "$tmp/owners1.yaml" || fails=$((fails + 1))
check "remove" "removed" "$(L owners remove isp-x 2>&1)"
check "csv re-import" "4 owners imported" "$(L owners import "$tmp/owners.csv" 2>&1)"
L owners export --format yaml -o "$tmp/owners2.yaml"
if cmp -s "$tmp/owners1.yaml" "$tmp/owners2.yaml"; then echo "ok   export round trip"; else
    echo "FAIL export round trip"; diff "$tmp/owners1.yaml" "$tmp/owners2.yaml" | head; fails=$((fails + 1)); fi
printf 'owners:\n  - id: x\n    asns: [1]\n    bogus: 2\n    contacts: [a@b.example]\n' > "$tmp/bad.yaml"
expect_fail "bad file names file and line" "bad.yaml:4" L owners import "$tmp/bad.yaml"

expect_fail "rules: unknown partner" "no such partner" L route load "$root/tests/integration/route/bad-rules.yaml"
check "rules load" "routing configuration loaded" "$(L route load "$root/share/demo/routing.yaml" 2>&1)"
# SUB --help is help (exit 0, on stdout), not an argument (issue 16: explain --help exited 2)
for sub in explain preview load; do
    if out=$(L route $sub --help 2>/dev/null); then
        check "route $sub --help" "explain EVENT_ID" "$out"
    else
        echo "FAIL route $sub --help: exit $?"; fails=$((fails + 1))
    fi
done
expect_fail "remove a partner a rule names" "no such partner" L partners remove sample-ics-cert
L ingest --feed partner-sharing --format jsonl "$root/share/demo/partner-events-demo.jsonl" > /dev/null 2>&1 ||
    { echo "FAIL ingest"; fails=$((fails + 1)); }
status=$(L route status 2>&1)
check "status lists owners" "owner:demo-backbone-a" "$status"
check "status lists unrouted" "unrouted" "$status"
preview=$(L route preview --cc MY 2>&1)
check "preview counts" "partner:sample-my-cert" "$preview"
check "preview sends nothing" "nothing is sent" "$preview"
id=$(L events --cc KH --format csv --fields source.ip --limit 1 | sed -n 2p | cut -d, -f1)
explain=$(L route explain "$id" 2>&1)
check "explain candidate" "partner:sample-kh-cert" "$explain"
check "explain policy" "policy:" "$explain"
check "explain recorded" "recorded when ingested" "$explain"
expect_fail "explain unknown" "no event" L route explain 99999999
# --out DIR missing: one error before anything, no digest reported as done (issue 16)
if out=$(L notify run --dry-run --templates "$root/share/templates" --out "$tmp/missing" 2>&1); then
    echo "FAIL notify --out missing dir: succeeded: $out"; fails=$((fails + 1))
else
    check "notify --out missing dir" "--out $tmp/missing: No such file or directory" "$out"
    n=$(printf '%s\n' "$out" | grep -c "liaison:")
    if [ "$n" -eq 1 ] && ! printf '%s' "$out" | grep -q "dry-run"; then echo "ok   one error, nothing done"; else
        echo "FAIL notify --out missing dir: $n errors or a digest reported: $out"; fails=$((fails + 1)); fi
fi
dry=$(L notify run --dry-run --templates "$root/share/templates" --out "$tmp" 2>&1)
check "dry run" "dry-run" "$dry"
check "dry run khmer" "partner:sample-kh-cert" "$dry"
if grep -q "events.csv" "$tmp/partner_sample-kh-cert.eml"; then echo "ok   dry run wrote the message"; else
    echo "FAIL dry run message"; fails=$((fails + 1)); fi
check "nothing recorded by a dry run" "0" "$(L route status | awk '$1=="partner:sample-kh-cert" && $2=="deliver" {print $4}')"
echo "$fails failed"
[ "$fails" -eq 0 ]
