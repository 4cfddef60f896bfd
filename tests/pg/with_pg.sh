#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run one command against a real PostgreSQL 15 of its own (issue 12 point 4):
#   tests/pg/with_pg.sh PROGRAM [ARGS...]
# initdb into a temporary folder, the server on 127.0.0.1 only on a free
# port (its unix socket in the folder, not /var/run), trust authentication
# for the superuser `liaison`, one database `liaison_test`; PROGRAM runs with
# LIAISON_TEST_PG=postgresql://liaison@127.0.0.1:PORT/liaison_test and its
# exit code is ours. The server is stopped and the folder removed on every
# exit path. PostgreSQL refuses to run as root: as root, initdb and pg_ctl
# run as the `postgres` user (runuser), the folder owned by it; otherwise as
# the current user. Not installed (scripts/deps.sh installs postgresql-15):
# exit 77, which meson counts as a skip, saying why.
set -u
pgbin=${LIAISON_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ $# -lt 1 ]; then
    echo "usage: $0 PROGRAM [ARGS...]" >&2
    exit 2
fi
for b in initdb pg_ctl; do
    if [ ! -x "$pgbin/$b" ]; then
        echo "SKIP: PostgreSQL 15 is not installed ($pgbin/$b missing; scripts/deps.sh installs postgresql-15)"
        exit 77
    fi
done
as=""
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "SKIP: running as root and there is no postgres user to run PostgreSQL as"
        exit 77
    fi
    as="runuser -u postgres --"
fi
tmp=$(mktemp -d /tmp/lia-pg-XXXXXX) || exit 1
chmod 755 "$tmp"
mkdir "$tmp/data" "$tmp/run"
if [ -n "$as" ]; then chown postgres: "$tmp/data" "$tmp/run"; fi
started=0
stop() {
    if [ "$started" = 1 ]; then
        $as "$pgbin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap stop EXIT
# PIPE too: a reader that stops early (| head) must not leave the server running
trap 'exit 1' INT TERM HUP PIPE

if ! $as "$pgbin/initdb" -D "$tmp/data" -U liaison --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$tmp/initdb.log" 2>&1; then
    echo "initdb failed:"
    cat "$tmp/initdb.log"
    exit 1
fi
# A free port, then the server; another process may take the port between
# the two: try a few.
tries=0
while :; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if $as "$pgbin/pg_ctl" -D "$tmp/data" -l "$tmp/run/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 3 ]; then
        echo "PostgreSQL did not start:"
        cat "$tmp/run/server.log"
        exit 1
    fi
done
if ! "$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U liaison -d postgres \
    -c "CREATE DATABASE liaison_test" >/dev/null 2>"$tmp/psql.err"; then
    echo "creating the test database failed:"
    cat "$tmp/psql.err"
    exit 1
fi
LIAISON_TEST_PG="postgresql://liaison@127.0.0.1:$port/liaison_test"
export LIAISON_TEST_PG
"$@"
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    echo "--- PostgreSQL server log (last 30 lines)"
    tail -n 30 "$tmp/run/server.log"
fi
exit "$rc"
