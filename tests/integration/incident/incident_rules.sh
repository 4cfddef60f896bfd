#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Incidents opened from routing decisions by the `incidents:` rules of the
# routing file: one incident per group (rule, window, key), one hand-off per
# recipient, the events linked; the same events routed again open nothing
# twice; bad rules are refused with the line and why.
set -u
bin=${LIAISON_BIN:?}
root=${LIAISON_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/lia-incident-rules-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$root/tests/integration/store_lib.sh"
db=$(store_new l) || exit 1
fails=0
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
expect_fail() { # name, expected substring in stderr, command...
    name=$1 want=$2
    shift 2
    if out=$("$@" 2>&1); then
        echo "FAIL $name: succeeded: $out"; fails=$((fails + 1))
    else
        check "$name" "$want" "$out"
    fi
}

L owners import "$root/share/demo/owners.yaml" > /dev/null
L partners import "$root/share/demo/partners.yaml" > /dev/null
cp "$root/share/demo/routing.yaml" "$tmp/r.yaml"
cat >> "$tmp/r.yaml" <<'RULES'
incidents:
  - name: daily
    group: [recipient, feed.name]
    window: 1d
    severity: high
  - name: per-ip
    group: [source.ip]
    window: 7d
    type: [infected-system]
RULES
check "rules load" "routing configuration loaded" "$(L route load "$tmp/r.yaml" 2>&1)"
events="$root/share/demo/partner-events-demo.jsonl"
L ingest --feed partner-sharing --format jsonl "$events" > /dev/null 2>&1 || { echo "FAIL ingest"; fails=$((fails + 1)); }

# what the rules must have opened, computed from the routing decisions
# themselves: one 'daily' incident per (recipient, UTC day) of delivered
# decisions; one 'per-ip' incident per (source.ip, 7-day window) of
# infected-system events with a delivered decision
n=$(L incident list --format json | grep -c '"id"')
daily=$(L incident list | grep -c ' daily: ')
perip=$(L incident list | grep -c ' per-ip: ')
same "incidents = daily + per-ip" "$n" "$((daily + perip))"
[ "$daily" -gt 5 ] && echo "ok   several daily incidents ($daily)" || { echo "FAIL daily: $daily"; fails=$((fails + 1)); }
[ "$perip" -gt 0 ] && echo "ok   per-ip incidents ($perip)" || { echo "FAIL per-ip: $perip"; fails=$((fails + 1)); }
# a 'daily' incident has exactly one hand-off, to the recipient in its title
first=$(L incident list | grep ' daily: ' | head -1)
id=$(echo "$first" | awk '{print $1}')
rcpt=$(echo "$first" | sed 's/.* daily: \([^,]*\),.*/\1/')
show=$(L incident show "$id")
same "one hand-off" 1 "$(L handoff list --incident "$id" | grep -c pending)"
check "hand-off to the recipient of the key" "$rcpt" "$(L handoff list --incident "$id")"
# every event linked to it was delivered to that recipient
bad=0
for ev in $(echo "$show" | awk '$1=="event"{print $2}'); do
    L route explain "$ev" 2>/dev/null | grep -q "$rcpt" || bad=$((bad + 1))
done
same "linked events were routed to the recipient" 0 "$bad"
check "timeline: created by the route rule" '"channel":"route"' "$(L audit list --object "incident:$id" --format json)"
links_before=$(L incident show "$id" | grep -c '^  event')

# the same events again (another report: the lines in another order): nothing opened twice
awk '{l[NR]=$0} END {for (i = NR; i >= 1; i--) print l[i]}' "$events" > "$tmp/again.jsonl"
L ingest --feed partner-sharing --format jsonl "$tmp/again.jsonl" > /dev/null 2>&1 || { echo "FAIL ingest again"; fails=$((fails + 1)); }
same "no incident opened twice" "$n" "$(L incident list --format json | grep -c '"id"')"
same "no hand-off added twice" 1 "$(L handoff list --incident "$id" | grep -c pending)"
after=$(L incident show "$id" | grep -c '^  event')
[ "$after" -ge "$links_before" ] && echo "ok   links kept ($links_before -> $after)" || { echo "FAIL links $links_before -> $after"; fails=$((fails + 1)); }

# bad rules: the line and why
bad() { # name, expected, rules text
    cp "$root/share/demo/routing.yaml" "$tmp/bad.yaml"
    printf '%s\n' "$3" >> "$tmp/bad.yaml"
    expect_fail "$1" "$2" L route check "$tmp/bad.yaml"
}
base=$(wc -l < "$root/share/demo/routing.yaml")
bad "no group" "group" "incidents:
  - name: x
    window: 1d"
bad "no window" "window" "incidents:
  - name: x
    group: [recipient]"
bad "unknown key, with its line" ":$((base + 4)):" "incidents:
  - name: x
    group: [recipient]
    colour: red
    window: 1d"
bad "unknown field" "not 'recipient' or an event field name" "incidents:
  - name: x
    group: [recipient, source.colour]
    window: 1d"
bad "bad window" "a duration" "incidents:
  - name: x
    group: [recipient]
    window: soon"
bad "unknown routing rule" "no routing rule has this name" "incidents:
  - name: x
    group: [recipient]
    window: 1d
    route_rule: [nope]"
bad "two rules, one name" "same name" "incidents:
  - name: x
    group: [recipient]
    window: 1d
  - name: x
    group: [source.ip]
    window: 1d"
echo "$fails failed"
[ "$fails" -eq 0 ]
