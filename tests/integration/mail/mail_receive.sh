#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# liaison mail receive as an MTA pipe runs it: replies from a partner's
# contact acknowledge, resolve and reject hand-offs; a PGP/MIME signed and an
# inline-signed reply are verified with gpgme (good, bad, unknown key); a
# reply from a stranger, one without a reference and one that is not a
# message go to the unmatched queue; the same Message-ID twice changes
# nothing; the audit log records channel email and the sender's address.
set -u
bin=${LIAISON_BIN:?}
tmp=$(mktemp -d /tmp/lia-mail-receive-XXXXXX)
export GNUPGHOME="$tmp/gnupg"
cleanup() { gpgconf --kill all >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME"
. "${LIAISON_SOURCE_ROOT:?}/tests/integration/store_lib.sh"
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
G() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
G --quick-gen-key 'CERT-KH <abuse@cert-kh.example>' default default never 2>/dev/null
fpr=$(G --with-colons --list-secret-keys abuse@cert-kh.example | sed -n 's/^fpr:::::::::\([0-9A-F]*\):$/\1/p' | head -n 1)
# a second key in a keyring we do not import from: an unknown signer
OTHER="$tmp/other"; mkdir -m 700 "$OTHER"
GNUPGHOME="$OTHER" gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'Stranger <x@other.example>' default default never 2>/dev/null

L init >/dev/null 2>&1
L partners add cert-kh name='CERT KH' countries=KH contacts=abuse@cert-kh.example "pgp=$fpr" >/dev/null 2>&1 || echo "FAIL partners add"
L partners add cert-my name='CERT MY' countries=MY contacts=cert@my.example >/dev/null 2>&1 || echo "FAIL partners add"
for i in 1 2 3 4 5; do
    L incident create --title "incident $i" --recipient cert-kh --recipient cert-my >/dev/null 2>&1
    L handoff notified "$i" cert-kh >/dev/null 2>&1
done

msg() { # message-id, from, subject, body (LF line ends, as MTAs pipe them)
    printf 'From: %s\nTo: cert@cert.example\nSubject: %s\nMessage-ID: %s\nDate: Thu, 03 Dec 2026 10:00:00 +0000\n\n%s\n' "$2" "$3" "$1" "$4"
}
R() { L mail receive "$@"; }

check "ack by reply" "incident 1, cert-kh: comment 1, ack" "$(msg '<m1@kh>' 'Abuse <Abuse@CERT-KH.example>' 'Re: [LIAISON#1] incident 1' 'Thanks, we are on it.' | R 2>&1)"
check "hand-off acknowledged" "acknowledged" "$(L handoff list --incident 1 --recipient cert-kh 2>&1)"
check "same Message-ID again" "already received; nothing changed" "$(msg '<m1@kh>' 'abuse@cert-kh.example' 'Re: [LIAISON#1]' 'resolved' | R 2>&1)"
check "still acknowledged" "acknowledged" "$(L handoff list --incident 1 --recipient cert-kh 2>&1)"
check "resolved by first line" "resolve" "$(msg '<m2@kh>' 'abuse@cert-kh.example' 'Re: [LIAISON#1] incident 1' 'Resolved.
> quoted text' | R 2>&1)"
check "hand-off resolved" "resolved" "$(L handoff list --incident 1 --recipient cert-kh --format json 2>&1)"
check "reject with reason" "reject" "$(msg '<m3@kh>' 'abuse@cert-kh.example' 'Re: [LIAISON#2]' 'reject: not our constituency' | R --format json 2>&1)"
check "reason kept" "not our constituency" "$(L handoff list --incident 2 2>&1)"
check "X-Liaison-Incident header" "incident 3, cert-kh" "$(printf 'From: abuse@cert-kh.example\nSubject: no tag\nMessage-ID: <m4@kh>\nX-Liaison-Incident: 3\n\nok\n' | R 2>&1)"
check "thread: reply to a reply" "incident 3, cert-kh" "$(printf 'From: abuse@cert-kh.example\nSubject: more\nMessage-ID: <m5@kh>\nIn-Reply-To: <m4@kh>\n\nmore news\n' | R 2>&1)"
check "not yet notified: comment only" "a reply does not acknowledge it" "$(msg '<m6@my>' 'cert@my.example' '[LIAISON#4]' 'seen' | R 2>&1)"
check "comment shared with the recipient" "shared:cert-kh" "$(L incident show 1 2>&1)"
check "comment text" "Thanks, we are on it." "$(L incident show 1 --format json 2>&1)"

# unmatched
check "stranger" "not a contact of a recipient of incident 4" "$(msg '<u1@x>' 'mallory@evil.example' 'Re: [LIAISON#4]' 'ack' | R 2>&1)"
check "no reference" "no incident reference" "$(msg '<u2@kh>' 'abuse@cert-kh.example' 'hello' 'ack' | R 2>&1)"
check "no such incident" "incident 99" "$(msg '<u3@kh>' 'abuse@cert-kh.example' '[LIAISON#99]' 'ack' | R 2>&1)"
check "not a message" "not a readable message" "$(printf 'garbage without a header\n' | R 2>&1)"
out=$(L mail unmatched 2>&1)
check "queue: stranger" "mallory@evil.example" "$out"
check "queue: unreadable" "not a readable message" "$out"
check "queue json" '"reason":"no incident reference' "$(L mail unmatched --format json 2>&1)"
check "stranger changed nothing" "notified" "$(L handoff list --incident 4 --recipient cert-kh 2>&1)"

# PGP/MIME signed (RFC 3156): the signed entity with CRLF line ends, as sent
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nresolved\r\nall bots cleaned\r\n' > "$tmp/entity"
G --local-user "$fpr" --armor --detach-sign --output "$tmp/entity.asc" "$tmp/entity"
pgpmime() { # message-id, entity file, signature file
    printf 'From: abuse@cert-kh.example\r\nSubject: Re: [LIAISON#5]\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n' "$1"
    printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol="application/pgp-signature"; boundary="sig"\r\n\r\n'
    printf 'This is an OpenPGP/MIME signed message.\r\n--sig\r\n'
    cat "$2"
    printf '\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n'
    cat "$3"
    printf '\r\n--sig--\r\n'
}
# the same message with a changed body: a bad signature, nothing changes
sed 's/all bots/some bots/' "$tmp/entity" > "$tmp/entity.bad"
check "bad PGP/MIME signature" "signature bad" "$(pgpmime '<s0@kh>' "$tmp/entity.bad" "$tmp/entity.asc" | R 2>&1)"
check "bad signature changes nothing" "notified" "$(L handoff list --incident 5 --recipient cert-kh 2>&1)"
check "good PGP/MIME signature" "resolve, signature good $fpr" "$(pgpmime '<s1@kh>' "$tmp/entity" "$tmp/entity.asc" | R 2>&1)"
check "recorded with the comment" "the recipient's key" "$(L incident show 5 --format json 2>&1)"
# the same, delivered with LF line ends (an MTA pipe): still good
check "PGP/MIME through an LF pipe" "signature good" "$(pgpmime '<s2@kh>' "$tmp/entity" "$tmp/entity.asc" | tr -d '\r' | R 2>&1)"
# inline (clear-signed) reply
printf 'ack\nwe will look into it\n' | G --local-user "$fpr" --clearsign > "$tmp/inline.asc"
check "inline signature" "ack, signature good $fpr" "$({ printf 'From: abuse@cert-kh.example\nSubject: [LIAISON#4]\nMessage-ID: <s3@kh>\n\n'; cat "$tmp/inline.asc"; } | R 2>&1)"
printf 'resolved\n' | GNUPGHOME="$OTHER" gpg --batch --quiet --pinentry-mode loopback --passphrase '' --clearsign > "$tmp/stranger.asc"
check "unknown key" "signature unknown-key" "$({ printf 'From: abuse@cert-kh.example\nSubject: [LIAISON#3]\nMessage-ID: <s4@kh>\n\n'; cat "$tmp/stranger.asc"; } | R 2>&1)"

# the audit log: the sender's address and channel email on every change by mail
out=$(L audit list --object handoff:1/cert-kh --format json 2>&1)
check "audit channel" '"channel":"email"' "$out"
check "audit address" '"address":"abuse@cert-kh.example"' "$out"
L audit checkpoint >/dev/null 2>&1
check "audit verifies" "audit log verified" "$(L audit verify 2>&1)"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all mail receive checks passed"
