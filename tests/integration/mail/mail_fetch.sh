#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# liaison mail fetch against a real IMAP server: Debian's dovecot on
# 127.0.0.1, its own configuration, passwd-file user and maildir in a temp
# directory. Run as root (CI) dovecot drops to the unprivileged users it is
# given (mail as nobody, its processes as dovecot / dovenull); run as a user
# every process stays that user (no chroot). Messages are written into the
# maildir directly; fetch must comment, acknowledge, queue the unmatched,
# mark seen only what it stored, and fetch nothing twice. dovecot is stopped
# on every exit path.
set -u
bin=${LIAISON_BIN:?}
dovecot=$(command -v dovecot || echo /usr/sbin/dovecot)
if [ ! -x "$dovecot" ]; then
    echo "dovecot-imapd is not installed (scripts/deps.sh installs it)"
    exit 1
fi
tmp=$(mktemp -d /tmp/lia-mail-fetch-XXXXXX)
chmod 755 "$tmp"
stop() {
    if [ -f "$tmp/dovecot.conf" ]; then "$dovecot" -c "$tmp/dovecot.conf" stop >/dev/null 2>&1; fi
    rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP
. "${LIAISON_SOURCE_ROOT:?}/tests/integration/store_lib.sh"
db=$(store_new l) || exit 1
fails=0
export LIAISON_USER=alice
L() { "$bin" --db "$db" "$@"; }
check() {
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" = 0 ]; then
    mail_user=nobody internal=dovecot login=dovenull chroot_login="login"
else
    mail_user=$(id -un) internal=$(id -un) login=$(id -un) chroot_login=""
fi
uid=$(id -u "$mail_user") gid=$(id -g "$mail_user")
mkdir -p "$tmp/run" "$tmp/mail/cert/Maildir/new" "$tmp/mail/cert/Maildir/cur" "$tmp/mail/cert/Maildir/tmp"
echo "cert:{PLAIN}s3cret" > "$tmp/passwd"
printf 's3cret\n' > "$tmp/pw"
cat > "$tmp/dovecot.conf" <<CONF
base_dir = $tmp/run
state_dir = $tmp/run
log_path = $tmp/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = $internal
default_login_user = $login
first_valid_uid = 1
last_valid_uid = 0
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $tmp/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$tmp/mail/%u
}
service imap-login {
  chroot = $chroot_login
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
chown -R "$uid:$gid" "$tmp/mail"
if ! "$dovecot" -c "$tmp/dovecot.conf"; then
    echo "FAIL dovecot did not start"; cat "$tmp/dovecot.log" 2>/dev/null; exit 1
fi
up=0
for i in $(seq 1 50); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
[ "$up" = 1 ] || { echo "FAIL dovecot is not listening"; cat "$tmp/dovecot.log"; exit 1; }

deliver() { # name, message (CRLF added)
    printf '%s' "$2" | sed 's/$/\r/' > "$tmp/mail/cert/Maildir/tmp/$1"
    chown "$uid:$gid" "$tmp/mail/cert/Maildir/tmp/$1"
    mv "$tmp/mail/cert/Maildir/tmp/$1" "$tmp/mail/cert/Maildir/new/$1.$(hostname)"
}
L init >/dev/null 2>&1
L partners add cert-kh name='CERT KH' countries=KH contacts=abuse@cert-kh.example >/dev/null 2>&1
L incident create --title 'Mirai in KH' --recipient cert-kh >/dev/null 2>&1
L incident create --title 'Phishing' --recipient cert-kh >/dev/null 2>&1
L handoff notified 1 cert-kh >/dev/null 2>&1
L handoff notified 2 cert-kh >/dev/null 2>&1

deliver 1001 'From: Abuse <abuse@cert-kh.example>
Subject: Re: [LIAISON#1] Mirai in KH
Message-ID: <f1@cert-kh.example>

We are on it.
'
deliver 1002 'From: abuse@cert-kh.example
Subject: =?UTF-8?Q?Re:_[LIAISON#2]_Phishing?=
Message-ID: <f2@cert-kh.example>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

resolved
Le site est supprim=E9.
'
deliver 1003 'From: someone@elsewhere.example
Subject: hello
Message-ID: <f3@elsewhere.example>

no reference here
'
F() { L mail fetch --imap "imap://127.0.0.1:$port/INBOX" --user cert --password-file "$tmp/pw" "$@"; }
out=$(F 2>&1)
check "fetch" "3 message(s) fetched: 1 unmatched, 0 already received" "$out"
check "fetch: ack" "incident 1, cert-kh: comment 1, ack" "$out"
check "fetch: resolve" "incident 2, cert-kh: comment 2, resolve" "$out"
check "handoff 1 acknowledged" "acknowledged" "$(L handoff list --incident 1 2>&1)"
check "handoff 2 resolved" "resolved" "$(L handoff list --incident 2 2>&1)"
check "charset decoded" "$(printf 'supprim\303\251')" "$(L incident show 2 --format json 2>&1)"
check "unmatched queued" "someone@elsewhere.example" "$(L mail unmatched 2>&1)"
# stored, so marked seen: nothing fetched again
check "second poll" "0 message(s) fetched" "$(F 2>&1)"
seen=$(ls "$tmp/mail/cert/Maildir/cur" | grep -c ':2,.*S' || true)
check "marked seen on the server" "3" "$seen"
# another client marks one unseen again: fetched, a duplicate, nothing changes
f=$(ls "$tmp/mail/cert/Maildir/cur" | head -n 1)
mv "$tmp/mail/cert/Maildir/cur/$f" "$tmp/mail/cert/Maildir/cur/$(echo "$f" | sed 's/:2,.*/:2,/')"
check "unseen again: a duplicate" "1 message(s) fetched: 0 unmatched, 1 already received" "$(F 2>&1)"
# a new message while the store cannot be written: it stays unseen (as
# root the file mode does not stop writes, so only a user run checks it)
deliver 1004 'From: abuse@cert-kh.example
Subject: [LIAISON#1]
Message-ID: <f4@cert-kh.example>

reject: wrong country
'
chmod 444 "$db"
if [ "$(id -u)" != 0 ]; then
    out=$(F 2>&1) && { echo "FAIL fetch with a read-only store succeeded: $out"; fails=$((fails + 1)); }
    check "not stored: stays unseen" "1" "$(ls "$tmp/mail/cert/Maildir/cur" "$tmp/mail/cert/Maildir/new" | grep 1004 | grep -vc ':2,.*S' || true)"
fi
chmod 644 "$db"
check "then fetched" "incident 1, cert-kh" "$(F 2>&1)"
check "wrong password" "Login denied" "$(printf 'nope\n' > "$tmp/bad"; L mail fetch --imap "imap://127.0.0.1:$port/INBOX" --user cert --password-file "$tmp/bad" 2>&1)"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"; cat "$tmp/dovecot.log"
    exit 1
fi
echo "all mail fetch checks passed"
