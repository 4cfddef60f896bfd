/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One test body on both backends (issue 12 point 4): the path of a fresh
 * store for a test. Without LIAISON_TEST_PG it is the SQLite file
 * DIR/NAME.db; with it (tests/pg/with_pg.sh, the meson tests NAME_pg) it is
 * a database of its own on that server, named liaison_t_NAME, dropped and
 * created again, so two stores of one test (two nodes, two teams) are two
 * databases; the raw reports of a PostgreSQL store are archived in
 * DIR/archive-NAME ($LIAISON_ARCHIVE_DIR, read when the store opens).
 * Each _pg test has a server of its own, so names only need to differ
 * within a test. Header only: static functions. */
#ifndef LIA_TEST_PG_TEST_H
#define LIA_TEST_PG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* 1 when the test runs on PostgreSQL */
static inline int lia_test_pg(void)
{
    const char *pg = getenv("LIAISON_TEST_PG");
    return pg && *pg;
}

/* Writes the store's path into out (n bytes): LIA_OK, or an error printed
 * on stderr and -1 (NAME: lower-case letters, digits and '_' only). */
static inline int lia_test_db_path(const char *dir, const char *name, char *out, size_t n)
{
    const char *pg = getenv("LIAISON_TEST_PG");
    char sql[256], archive[512];
    const char *slash;
    lia_db *db = NULL;
    lia_error err;
    int rc = -1;
    if (!pg || !*pg)
        return (size_t)snprintf(out, n, "%s/%s.db", dir, name) < n ? 0 : -1;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            fprintf(stderr, "test store name '%s': only a-z, 0-9 and _\n", name);
            return -1;
        }
    slash = strrchr(pg, '/');
    if (!slash || (size_t)snprintf(out, n, "%.*s/liaison_t_%s", (int)(slash - pg), pg, name) >= n)
        return -1;
    snprintf(archive, sizeof archive, "%s/archive-%s", dir, name);
    setenv("LIAISON_ARCHIVE_DIR", archive, 1);
    if (lia__db_open(pg, 0, &db, &err)) {
        fprintf(stderr, "opening %s: %s\n", pg, err.reason);
        return -1;
    }
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS liaison_t_%s WITH (FORCE)", name);
    if (lia__db_exec(db, sql, &err))
        goto out;
    snprintf(sql, sizeof sql, "CREATE DATABASE liaison_t_%s", name);
    if (lia__db_exec(db, sql, &err))
        goto out;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "%s on %s: %s\n", sql, pg, err.reason);
    lia__db_close(db);
    return rc;
}

/* The group's name, saying the backend: "NAME on SQLite" / "NAME on PostgreSQL". */
#define LIA_TEST_GROUP(name) (lia_test_pg() ? name " on PostgreSQL" : name " on SQLite")

#endif
