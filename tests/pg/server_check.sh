#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The test server of tests/pg/with_pg.sh (run under it): PostgreSQL 15,
# listening on 127.0.0.1 only, its unix socket in its temporary folder,
# the test database reachable by LIAISON_TEST_PG.
set -u
: "${LIAISON_TEST_PG:?run under tests/pg/with_pg.sh}"
q() { /usr/lib/postgresql/15/bin/psql -X -tA -d "$LIAISON_TEST_PG" -c "$1"; }
fails=0
check() {
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: '$3', expected '$2'"; fails=$((fails + 1)); fi
}
check "server version 15" 15 "$(q 'SHOW server_version_num' | cut -c1-2)"
check "listens on 127.0.0.1 only" 127.0.0.1 "$(q 'SHOW listen_addresses')"
case "$(q 'SHOW unix_socket_directories')" in
/tmp/lia-pg-*/run) echo "ok   unix socket in the temporary folder" ;;
*) echo "FAIL unix socket elsewhere: $(q 'SHOW unix_socket_directories')"; fails=$((fails + 1)) ;;
esac
check "test database" liaison_test "$(q 'SELECT current_database()')"
exit $fails
