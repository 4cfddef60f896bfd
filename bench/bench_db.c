/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The database layer's own cost on each driver (issue 12): N prepared
 * inserts of (integer, text, 16-byte blob) rows in one transaction, then a
 * scan of them, on a SQLite file or a PostgreSQL URI.
 *   bench_db STORE [N]        (STORE: a path, or postgresql://...; its
 *                              table bench_db is dropped and made again)
 * PostgreSQL against a server of its own: tests/pg/with_pg.sh sh -c
 *   'build/bench/bench_db "$LIAISON_TEST_PG" 20000'. Figures:
 * docs/performance.md, "PostgreSQL driver". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/db.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    lia_db *db;
    lia_stmt *st;
    lia_error err;
    int64_t sum = 0;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    double t0, t1, t2;
    int rc = 1;
    if (argc < 2 || n <= 0) {
        fprintf(stderr, "usage: bench_db STORE [N]\n");
        return 2;
    }
    if (lia__db_open(argv[1], 0, &db, &err)) {
        fprintf(stderr, "bench_db: %s\n", err.reason);
        return 1;
    }
    if (lia__db_exec(db,
                     "DROP TABLE IF EXISTS bench_db;"
                     "CREATE TABLE bench_db(id INTEGER PRIMARY KEY, k INTEGER, s TEXT, v BLOB)",
                     &err) ||
        lia__db_begin(db, &err))
        goto out;
    t0 = now();
    for (long i = 0; i < n; i++) {
        if (lia__db_prepare(db, "bench: insert", "INSERT INTO bench_db(k, s, v) VALUES(?, ?, ?)", &st, &err))
            goto out;
        lia__db_bind_int64(st, 1, i);
        lia__db_bind_text(st, 2, "some text value", -1);
        lia__db_bind_blob(st, 3, "0123456789abcdef", 16);
        if (lia__db_run(st, &err)) {
            lia__db_done(st);
            goto out;
        }
        lia__db_done(st);
    }
    if (lia__db_commit(db, &err))
        goto out;
    t1 = now();
    if (lia__db_prepare(db, "bench: scan", "SELECT k FROM bench_db", &st, &err))
        goto out;
    while (lia__db_step(st, &err) == LIA_DB_ROW)
        sum += lia__db_col_int64(st, 0);
    lia__db_done(st);
    t2 = now();
    printf("%s: %ld inserts in one transaction: %.0f rows/s; scan: %.0f rows/s (sum %lld)\n",
           lia__db_is_pg(db) ? "postgresql" : "sqlite", n, (double)n / (t1 - t0), (double)n / (t2 - t1),
           (long long)sum);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench_db: %s\n", err.reason);
    lia__db_close(db);
    return rc;
}
