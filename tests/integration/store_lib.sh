# SPDX-License-Identifier: AGPL-3.0-or-later
# Sourced by the integration scripts that run on both backends (issue 12
# point 4). Without LIAISON_TEST_PG a store is the SQLite file $tmp/NAME.db;
# with it (the meson tests NAME_pg, through tests/pg/with_pg.sh) it is a
# database of its own on that server, liaison_t_NAME, made empty first, the
# raw reports archived in $tmp/archive. The script sets $tmp before.
#   store_new NAME            prints the --db of a fresh store
#   store_sql DB SQL          runs SQL on it (sqlite3 or psql), as someone with access would;
#                             a query prints its rows, columns split by |
#   store_save DB / store_restore DB   a copy of the whole store, and back to it
pg_bin=${LIAISON_PG_BIN:-/usr/lib/postgresql/15/bin}
store_pg() { [ -n "${LIAISON_TEST_PG:-}" ]; }
if store_pg; then export LIAISON_ARCHIVE_DIR="$tmp/archive"; fi
pg_admin() { # SQL on the server's maintenance database
    PGOPTIONS="-c client_min_messages=warning" "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 "${LIAISON_TEST_PG%/*}/postgres" -c "$1" >/dev/null
}
store_new() {
    if store_pg; then
        pg_admin "DROP DATABASE IF EXISTS liaison_t_$1 WITH (FORCE)" &&
            pg_admin "CREATE DATABASE liaison_t_$1" || return 1
        echo "${LIAISON_TEST_PG%/*}/liaison_t_$1"
    else
        echo "$tmp/$1.db"
    fi
}
store_sql() {
    if store_pg; then
        "$pg_bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"
    else
        sqlite3 "$1" "$2"
    fi
}
store_save() {
    if store_pg; then
        pg_admin "DROP DATABASE IF EXISTS ${1##*/}_saved WITH (FORCE)" &&
            pg_admin "CREATE DATABASE ${1##*/}_saved TEMPLATE ${1##*/}"
    else
        cp "$1" "$1.saved"
    fi
}
store_restore() {
    if store_pg; then
        pg_admin "DROP DATABASE ${1##*/} WITH (FORCE)" && pg_admin "CREATE DATABASE ${1##*/} TEMPLATE ${1##*/}_saved"
    else
        cp "$1.saved" "$1"
    fi
}
