/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the one database layer every module goes through.
 *
 * A module gets the store's handle with lia__store_db(), makes sure its
 * tables exist with lia__db_schema() (the migration registry: one table,
 * lia_schema, holds every module's version), and then prepares statements
 * by name, binds, steps and reads columns. Only the drivers (sqlite.c,
 * pg.c: docs/architecture.md) know the database libraries; nothing else
 * includes their headers.
 *
 * SQL is written in the portable subset of SQLite's dialect: `?`
 * placeholders (numbered `?1` where one value is used twice), upserts as
 * INSERT ... ON CONFLICT(...) DO UPDATE / DO NOTHING, new ids read with
 * RETURNING or lia__db_last_id(). A driver rewrites what its database
 * spells differently once, when a statement is prepared.
 *
 *   lia_stmt *st;
 *   if ((rc = lia__db_prepare(db, "feeds.get", "SELECT url FROM feed_registry WHERE name=?", &st, err)))
 *       return rc;
 *   lia__db_bind_text(st, 1, name, -1);
 *   while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
 *       use(lia__db_col_text(st, 0));
 *   lia__db_done(st);          // rc is LIA_DB_DONE (0) or an error
 *
 * Errors: a function that fails fills err with "WHAT: the database's
 * message" (WHAT is the statement name or the caller's words) and returns
 * LIA_ESTORE, LIA_EEXIST for a UNIQUE / PRIMARY KEY violation, or
 * LIA_EBUSY when another connection held the store locked for longer than
 * the handle's busy timeout, LIA_EREADONLY for a write to a store opened
 * read-only, LIA_EFULL when the disk (or the store's page limit) is full;
 * err then names the store file and WHAT.
 * Threads: a handle and its statements are used by one thread at a time. */
#ifndef LIA_STORE_DB_H
#define LIA_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/store.h"

typedef struct lia_db lia_db;
typedef struct lia_stmt lia_stmt;

/* lia__db_step() results other than errors. */
enum { LIA_DB_DONE = 0, LIA_DB_ROW = 1 };

/* Open flags. */
enum { LIA_DB_READONLY = 1 };

/* ---- handles ---- */

/* Open the database at path (SQLite: a file, created if missing unless
 * LIA_DB_READONLY). A store whose file or directory this process may not
 * write is opened read-only, without the flag: it can be queried, and a
 * write fails with LIA_EREADONLY naming the file (docs/security.md, "Store
 * faults", says how the WAL is read then). The store opens its own handle;
 * modules use lia__store_db(). */
int lia__db_open(const char *path, int flags, lia_db **out, lia_error *err);
/* A path that is a PostgreSQL URI (postgresql:// or postgres://): the
 * PostgreSQL driver (src/store/pg.c); anything else is a SQLite file. */
int lia__db_is_pg_uri(const char *path);
/* PostgreSQL: a second connection to db's database, with db's flags, for
 * short writes committed on their own while db holds a transaction open
 * (rows other writers share, which must not wait for db's commit: route
 * reasons). The caller closes it (lia__db_close). A SQLite store:
 * LIA_EUNSUPPORTED (a second writer would wait on db's lock). */
int lia__db_open_side(lia_db *db, lia_db **out, lia_error *err);
/* 1 if the handle is on PostgreSQL. */
int lia__db_is_pg(lia_db *db);
/* Finalizes every cached statement, rolls back an open transaction, closes. */
void lia__db_close(lia_db *db);
/* The store's handle (never NULL for an open store). Borrowed: valid until
 * lia_store_close. */
lia_db *lia__store_db(lia_store *s);
/* Who makes the changes that carry no actor of their own (directory,
 * routing, accounts): set once per handle (the CLI's user; a server its
 * caller), read by their audit records. Unset: "liaison", "local", "local".
 * Strings copied, cut at LIA_STORE_ACTOR_MAX - 1 bytes. */
#define LIA_STORE_ACTOR_MAX 128
void lia__store_set_actor(lia_store *s, const char *who, const char *channel, const char *address);
void lia__store_actor(lia_store *s, const char **who, const char **channel, const char **address);
/* File name of the database ("" for an in-memory one). */
const char *lia__db_path(lia_db *db);

/* Tuning a driver without the knob ignores: the memory the handle keeps
 * for its page cache, and whether big sorts (index builds) go to disk. */
void lia__db_set_cache(lia_db *db, size_t bytes);
void lia__db_sort_on_disk(lia_db *db, int on);
/* The page cache the handle has now, in bytes (0 without one), to restore
 * it after a change. */
size_t lia__db_cache(lia_db *db);
/* on = 0: a load that can be repeated from its source (a benchmark's
 * generated collection) lets the database skip its journal and its syncs
 * (SQLite: journal_mode and synchronous OFF) until on = 1 restores them
 * (WAL, NORMAL). A crash meanwhile may corrupt the store: never for data
 * that exists only there. Outside a transaction. */
void lia__db_durable(lia_db *db, int on);

/* 1 if the handle was opened read-only (asked, or the file not writable). */
int lia__db_readonly(lia_db *db);
/* How long a statement waits for a lock another connection or process
 * holds before it fails with LIA_EBUSY: LIA_STORE_BUSY_MS after open; the
 * HTTP server sets LIA_HTTP_STORE_BUSY_MS on its handles, so a worker is
 * not held for long and the client is told to come back (503). */
void lia__db_busy_timeout(lia_db *db, int ms);

/* The database's own consistency check (SQLite: integrity_check): LIA_OK,
 * or LIA_ESTORE with the first problem in err. */
int lia__db_check(lia_db *db, lia_error *err);

/* err = "WHAT: the database's last message"; returns LIA_ESTORE. The one
 * error helper, for the failures the layer cannot see itself. */
int lia__db_error(lia_db *db, lia_error *err, const char *what);

/* Run one or more SQL statements without results (DDL, PRAGMA): LIA_OK or
 * LIA_ESTORE with err "SQL ...: message" (err may be NULL). */
int lia__db_exec(lia_db *db, const char *sql, lia_error *err);
/* The same with pg_sql, PostgreSQL's own text, where the rewriting of sql
 * cannot say it (docs/architecture.md, "PostgreSQL driver"): run as is on
 * PostgreSQL; sql on any other database. pg_sql NULL: sql everywhere. */
int lia__db_exec_pg(lia_db *db, const char *sql, const char *pg_sql, lia_error *err);

/* ---- statements ---- */

/* The statement `name` for sql, cached in the handle: the first call
 * prepares it, later calls return it reset with its bindings cleared. name
 * and sql are string literals (both must outlive the handle); a name used
 * with two texts is LIA_EINVAL. The name is also the WHAT of the
 * statement's error messages ("feed registry: adding a feed"). While a
 * cached statement is in use (prepared, not yet done), preparing the same
 * name again gives a separate statement for that use. */
int lia__db_prepare(lia_db *db, const char *name, const char *sql, lia_stmt **out, lia_error *err);
/* lia__db_prepare with PostgreSQL's own text beside the portable one, for
 * a statement the driver cannot rewrite (json_extract, GLOB, strftime...):
 * on PostgreSQL pg_sql is prepared as is ($N parameters, numbered as the
 * ?N of sql so the binds are the same), elsewhere sql. pg_sql NULL: sql
 * everywhere. Both string literals. */
int lia__db_prepare_pg(lia_db *db, const char *name, const char *sql, const char *pg_sql, lia_stmt **out,
                       lia_error *err);
/* A statement for this use only (e.g. SQL built at run time; sql need
 * live only for the call); lia__db_done frees it. what names it in error
 * messages. */
int lia__db_prepare_once(lia_db *db, const char *what, const char *sql, lia_stmt **out, lia_error *err);
/* Done with st (NULL is fine): a cached statement is reset (so it holds no
 * read snapshot) and goes back to the cache, any other is freed. */
void lia__db_done(lia_stmt *st);

/* Bind parameter i (1-based). Text and blobs are borrowed: the bytes must
 * stay valid until the statement is stepped for the last time or done.
 * len < 0: s is NUL-terminated. s NULL binds SQL NULL. A bind that fails
 * (index out of range, too big) makes the next step fail with the reason. */
void lia__db_bind_int64(lia_stmt *st, int i, int64_t v);
void lia__db_bind_double(lia_stmt *st, int i, double v);
void lia__db_bind_text(lia_stmt *st, int i, const char *s, ptrdiff_t len);
void lia__db_bind_blob(lia_stmt *st, int i, const void *p, size_t len);
void lia__db_bind_null(lia_stmt *st, int i);

/* One step: LIA_DB_ROW (a row to read), LIA_DB_DONE, or an error (err
 * "NAME: message"; LIA_EEXIST for a UNIQUE / PRIMARY KEY violation). */
int lia__db_step(lia_stmt *st, lia_error *err);
/* Step a statement that returns no rows: LIA_OK or an error. */
int lia__db_run(lia_stmt *st, lia_error *err);
/* Reset st to step it again with other bindings (they stay bound until
 * replaced); for loops over one statement. */
void lia__db_reset(lia_stmt *st);

/* Column i (0-based) of the current row. Text and blobs are valid until the
 * next step, reset or done; a NULL column reads as 0, NULL (text) or NULL
 * with length 0 (blob). */
int lia__db_col_null(lia_stmt *st, int i);
int64_t lia__db_col_int64(lia_stmt *st, int i);
double lia__db_col_double(lia_stmt *st, int i);
const char *lia__db_col_text(lia_stmt *st, int i);
const void *lia__db_col_blob(lia_stmt *st, int i, size_t *len);
/* Bytes of a text or blob column. */
size_t lia__db_col_bytes(lia_stmt *st, int i);
/* The type of column i's value in the current row: 'i' integer, 'd'
 * double, 't' text, 'b' blob, 'n' NULL (SQLite: the value's own type, which
 * its column's does not fix; PostgreSQL: the column's, bigint / integer /
 * smallint / boolean 'i', double 'd', bytea 'b', any other 't'). */
char lia__db_col_type(lia_stmt *st, int i);

/* Rows changed by the last INSERT, UPDATE or DELETE on the handle. */
int64_t lia__db_changes(lia_db *db);
/* Id of the last row inserted on the handle (an INTEGER PRIMARY KEY; in a
 * dialect without it, the driver reads the key back: docs/architecture.md). */
int64_t lia__db_last_id(lia_db *db);

/* ---- bulk insert ---- */

/* Many rows into one table, in the caller's transaction, without a round
 * trip per row: PostgreSQL COPY ... FROM STDIN (binary), SQLite its
 * prepared INSERT stepped per row (already in process). cols is the
 * column list ("a,b,c", ncols of them, written as in the DDL); each row is
 * its ncols values in that order, then lia__db_bulk_row. A value that
 * fails makes the row (and the load) fail. lia__db_bulk_end sends what is
 * left and finishes (LIA_OK, or an error naming what; EEXIST for a UNIQUE
 * violation); it frees b either way, and after any failure the caller
 * rolls its transaction back (rows may be in part stored). Rows inserted
 * are not visible to the same load's statements before it ends. For
 * PostgreSQL the columns must be BIGINT, DOUBLE PRECISION, TEXT or BYTEA
 * (what the portable DDL gives), bound with the matching call (int64,
 * double, text, blob). table, cols: identifiers the caller controls. */
typedef struct lia_bulk lia_bulk;
int lia__db_bulk_begin(lia_db *db, const char *what, const char *table, const char *cols, int ncols,
                       lia_bulk **out, lia_error *err);
void lia__db_bulk_int64(lia_bulk *b, int64_t v);
void lia__db_bulk_double(lia_bulk *b, double v);
void lia__db_bulk_text(lia_bulk *b, const char *s, ptrdiff_t len);
void lia__db_bulk_blob(lia_bulk *b, const void *p, size_t len);
void lia__db_bulk_null(lia_bulk *b);
int lia__db_bulk_row(lia_bulk *b, lia_error *err);
int lia__db_bulk_end(lia_bulk *b, lia_error *err);
/* Abandon the load (an error elsewhere): frees b; the caller rolls back. */
void lia__db_bulk_abort(lia_bulk *b);

/* n new ids for table's integer key column, consecutive, that no other
 * connection will take, for rows a bulk load gives their id (so the
 * caller knows them without reading back): the first into *first. Inside
 * the write transaction that inserts them. PostgreSQL: the identity's
 * sequence moved on by n under a lock; SQLite: max + 1 (its one writer). */
int lia__db_reserve_ids(lia_db *db, const char *table, const char *column, int64_t n, int64_t *first,
                        lia_error *err);

/* ---- transactions ---- */

/* Begin a write transaction; inside one, a savepoint (so transactions nest).
 * commit ends the innermost level; if a top-level commit fails, the
 * transaction is rolled back and the error returned. rollback undoes the
 * innermost level and never fails. */
int lia__db_begin(lia_db *db, lia_error *err);
int lia__db_commit(lia_db *db, lia_error *err);
void lia__db_rollback(lia_db *db);
/* 1 if a transaction is open on the handle (by anyone), else 0. */
int lia__db_in_tx(lia_db *db);

/* ---- schema ---- */

/* One step of a module's schema: SQL (the portable subset, rewritten by
 * the PostgreSQL driver), pg (PostgreSQL's own text of the step, run as is
 * there instead of sql, where the DDL cannot be rewritten mechanically)
 * and, for a data migration, a function; any may be NULL (sql NULL and pg
 * set: nothing to do on SQLite). */
typedef struct lia_migration {
    const char *sql;
    int (*run)(lia_db *db, lia_error *err);
    const char *pg;
} lia_migration;

/* A module's schema: migrations[i] takes version i to i + 1; version is the
 * number of migrations. adopt (may be NULL) reads the version a store kept
 * in the module's own way before this registry existed (a meta table, a
 * column that is there or not) and writes it to *version, 0 if none; it
 * is called once, for a store without the module's lia_schema row. */
typedef struct lia_schema {
    const char *name;
    int version;
    const lia_migration *migrations;
    int (*adopt)(lia_db *db, int *version, lia_error *err);
    /* 1: the module's schema and statements are known to work on
     * PostgreSQL (its tests pass there). On PostgreSQL lia__db_schema
     * refuses a module without it, LIA_EUNSUPPORTED "PostgreSQL backend:
     * NAME not supported yet (issue 12)", so a command fails at the start,
     * never with a raw SQL error deep inside. */
    int pg;
} lia_schema;

/* Bring the module's tables to s->version, in one transaction per step,
 * recording it in lia_schema(module, version). Cheap after the first call
 * on a handle (remembered). A store of a newer version is LIA_ESCHEMA. */
int lia__db_schema(lia_db *db, const lia_schema *s, lia_error *err);
/* The module's recorded version (0 if none; -1 on a read error). */
int lia__db_schema_version(lia_db *db, const char *name);

/* Every row's first column of sql (no parameters) as integers, into a
 * malloc'd *v of *n (NULL, 0 for none): LIA_OK, LIA_ENOMEM, or the
 * statement's error. */
int lia__db_int64s(lia_db *db, const char *what, const char *sql, int64_t **v, size_t *n, lia_error *err);

/* For adopt functions: 1 if the table (or the table's column) exists. */
int lia__db_has_table(lia_db *db, const char *table);
/* 1 if the index exists. */
int lia__db_has_index(lia_db *db, const char *index);
int lia__db_has_column(lia_db *db, const char *table, const char *column);

/* ---- the catalog (a whole-store copy: src/store/copy.c) ---- */

/* The names of the database's tables (SQLite: not its own sqlite_*;
 * PostgreSQL: the current schema's, a partition of a partitioned table
 * not listed apart from its parent), by name, as one allocation: *names
 * is an array of *n pointers into it, freed with free(*names). Views are
 * not tables. */
int lia__db_tables(lia_db *db, char ***names, size_t *n, lia_error *err);

#define LIA_DB_NAME_MAX 64
/* One column of a table. kind: 'i' integer, 'd' double, 't' text, 'b'
 * blob (SQLite: the declared type's affinity, none being 'b'; PostgreSQL:
 * what lia__db_bulk_* loads, bigint, double precision, text / varchar,
 * bytea), '?' any other PostgreSQL type (integer, boolean, jsonb, inet
 * ...: no bulk load: COPY it as text into a table of the four, then
 * INSERT ... SELECT CAST(c AS type)). pk: position in the primary
 * key (1-based), 0 if not in it. identity: the table's generated integer
 * key (SQLite's INTEGER PRIMARY KEY, PostgreSQL's identity column). */
typedef struct lia_db_col {
    char name[LIA_DB_NAME_MAX];
    char type[LIA_DB_NAME_MAX]; /* as declared (SQLite), format_type (PostgreSQL); cut to fit */
    char kind;
    int pk;
    int identity;
} lia_db_col;
/* The columns of table in their order, *out freed by the caller; *n 0 and
 * LIA_OK when there is no such table. A column name of LIA_DB_NAME_MAX
 * bytes or more is LIA_ELIMIT. */
int lia__db_columns(lia_db *db, const char *table, lia_db_col **out, size_t *n, lia_error *err);
/* The tables that table's foreign keys name (not itself), as
 * lia__db_tables gives names. */
int lia__db_references(lia_db *db, const char *table, char ***names, size_t *n, lia_error *err);

/* ---- functions ---- */

/* Make an integer function of nargs (<= 4) integer arguments callable from
 * SQL (deterministic; NULL arguments read as 0). */
typedef int64_t (*lia_db_intfn)(const int64_t *args);
int lia__db_function(lia_db *db, const char *name, int nargs, lia_db_intfn fn, lia_error *err);

#endif
