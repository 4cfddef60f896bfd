/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* For a unit test run on both backends (docs/architecture.md, "PostgreSQL
 * driver"): registered twice in meson, NAME with SQLite and NAME_pg through
 * tests/pg/with_pg.sh, which sets LIAISON_TEST_PG.
 *
 *   lia_test_store_path(dir, "s.db", path, sizeof path);
 *
 * writes into path the store to open: DIR/FILE for SQLite, or the database
 * of LIAISON_TEST_PG, emptied first (its schema dropped and made again) and
 * its raw-report archive set to DIR/archive, so each test starts from an
 * empty store on either. Returns 1 on PostgreSQL, 0 on SQLite, -1 (with a
 * message on stderr) if the database could not be emptied. */
#ifndef LIA_TEST_PG_FIXTURE_H
#define LIA_TEST_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"

static inline int lia_test_on_pg(void)
{
    const char *pg = getenv("LIAISON_TEST_PG");
    return pg && *pg;
}

static inline int lia_test_store_path(const char *dir, const char *file, char *path, size_t n)
{
    const char *pg = getenv("LIAISON_TEST_PG");
    char archive[512];
    lia_error err;
    lia_db *db;
    if (!pg || !*pg) {
        if ((size_t)snprintf(path, n, "%s/%s", dir, file) >= n) {
            fprintf(stderr, "%s/%s: too long a path\n", dir, file);
            return -1;
        }
        return 0;
    }
    snprintf(path, n, "%s", pg);
    if ((size_t)snprintf(archive, sizeof archive, "%s/archive", dir) >= sizeof archive) {
        fprintf(stderr, "%s/archive: too long a path\n", dir);
        return -1;
    }
    setenv("LIAISON_ARCHIVE_DIR", archive, 1);
    if (lia__db_open(pg, 0, &db, &err)) {
        fprintf(stderr, "opening %s: %s\n", pg, err.reason);
        return -1;
    }
    if (lia__db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", &err)) {
        fprintf(stderr, "emptying %s: %s\n", pg, err.reason);
        lia__db_close(db);
        return -1;
    }
    lia__db_close(db);
    return 1;
}

/* The group's name, saying the backend: "NAME on SQLite" / "NAME on PostgreSQL". */
#define LIA_TEST_GROUP(name) (lia_test_on_pg() ? name " on PostgreSQL" : name " on SQLite")

#endif
