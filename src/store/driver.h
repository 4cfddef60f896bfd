/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: what a database driver implements for the layer of db.h. The
 * layer (db.c) keeps the statement cache, transactions, the migration
 * registry and the error messages; a driver only talks to its library.
 * SQLite is sqlite.c, PostgreSQL pg.c (docs/architecture.md, "PostgreSQL
 * driver"). Return codes are LIA_OK / LIA_DB_ROW / LIA_DB_DONE or a
 * negative LIA_E*; the driver's errmsg() gives the text. */
#ifndef LIA_STORE_DRIVER_H
#define LIA_STORE_DRIVER_H

#include "store/db.h"

typedef struct lia_db_driver {
    const char *name;
    const char *begin_sql; /* a top-level write transaction */
    int (*open)(const char *path, int flags, void **conn, lia_error *err);
    void (*close)(void *conn);
    const char *(*errmsg)(void *conn);
    const char *(*path)(void *conn);
    /* exec and prepare take the modules' SQL (SQLite's dialect, which a
     * driver of another database rewrites); the _native pair, NULL where
     * they are the same, takes SQL already in the database's own dialect
     * (a module's PostgreSQL text: lia__db_prepare_pg, lia_migration.pg). */
    int (*exec)(void *conn, const char *sql);
    int (*exec_native)(void *conn, const char *sql);
    int (*prepare)(void *conn, const char *sql, void **st);
    int (*prepare_native)(void *conn, const char *sql, void **st);
    void (*finalize)(void *st);
    void (*reset)(void *st);
    void (*clear)(void *st);
    int (*bind_int64)(void *st, int i, int64_t v);
    int (*bind_double)(void *st, int i, double v);
    int (*bind_text)(void *st, int i, const char *s, size_t len);
    int (*bind_blob)(void *st, int i, const void *p, size_t len);
    int (*bind_null)(void *st, int i);
    int (*step)(void *st);
    int (*col_null)(void *st, int i);
    int64_t (*col_int64)(void *st, int i);
    double (*col_double)(void *st, int i);
    const char *(*col_text)(void *st, int i);
    const void *(*col_blob)(void *st, int i);
    size_t (*col_bytes)(void *st, int i);
    char (*col_type)(void *st, int i); /* 'i' 'd' 't' 'b', 'n' NULL (db.h lia__db_col_type) */
    int64_t (*changes)(void *conn);
    int64_t (*last_id)(void *conn);
    int (*in_tx)(void *conn);
    int (*has_table)(void *conn, const char *table);
    int (*has_index)(void *conn, const char *index);
    int (*has_column)(void *conn, const char *table, const char *column);
    int (*function)(void *conn, const char *name, int nargs, lia_db_intfn fn);
    int (*check)(void *conn, lia_error *err);
    void (*set_cache)(void *conn, size_t bytes);
    void (*sort_on_disk)(void *conn, int on);
    size_t (*cache)(void *conn);
    void (*durable)(void *conn, int on);
    void (*busy_timeout)(void *conn, int ms);
    int (*readonly)(void *conn);  /* 1 if the connection cannot write */
    int (*sys_errno)(void *conn); /* errno of the last failed system call (0 if none) */
    /* Bulk insert (db.h lia__db_bulk_*), optional: NULL and the layer
     * steps a prepared INSERT per row (SQLite). bulk_open starts loading
     * table(cols) (ncols columns, as written in the DDL: BIGINT, DOUBLE
     * PRECISION, TEXT, BYTEA); bulk_value appends the next column of the
     * row (kind 'i' integer, 'd' double, 't' text, 'b' blob, 'n' NULL);
     * bulk_row ends it; bulk_close(commit = 0) abandons the load (the
     * caller rolls its transaction back) and frees the handle either way. */
    int (*bulk_open)(void *conn, const char *table, const char *cols, int ncols, void **bulk);
    void (*bulk_value)(void *bulk, int kind, int64_t i, double d, const void *p, size_t len);
    int (*bulk_row)(void *bulk);
    int (*bulk_close)(void *bulk, int commit);
    /* n new ids for table's identity column, consecutive and taken by no
     * other connection: the first into *first. Optional (NULL: the layer
     * reads max + 1, right for SQLite's one writer). */
    int (*reserve_ids)(void *conn, const char *table, const char *column, int64_t n, int64_t *first);
} lia_db_driver;

extern const lia_db_driver lia__sqlite_driver;
extern const lia_db_driver lia__pg_driver;

/* The driver and its connection, for the driver's own helpers. */
const lia_db_driver *lia__db_driver(lia_db *db);
void *lia__db_conn(lia_db *db);

#endif
