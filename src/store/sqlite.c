/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The SQLite driver of the database layer (driver.h): the one file that
 * includes sqlite3.h. A handle is one connection in WAL mode, opened
 * without SQLite's mutexes (a handle is used by one thread at a time). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liaison/limits.h"
#include "store/driver.h"

static int sq_code(int rc)
{
    switch (rc) {
    case SQLITE_OK: return LIA_OK;
    case SQLITE_ROW: return LIA_DB_ROW;
    case SQLITE_DONE: return LIA_DB_DONE;
    case SQLITE_NOMEM: return LIA_ENOMEM;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return LIA_EEXIST;
    default: break;
    }
    switch (rc & 0xff) { /* primary code of an extended one */
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LIA_EBUSY; /* another connection holds the lock past the busy timeout */
    case SQLITE_READONLY: return LIA_EREADONLY;
    case SQLITE_FULL: return LIA_EFULL;
    default: return LIA_ESTORE;
    }
}

/* 1 if the store at path exists and this process may not write the file or
 * the directory it is in (where SQLite in WAL mode keeps PATH-wal and
 * PATH-shm): a read-only file system, a read-only file, another user's. */
static int not_writable(const char *path)
{
    char dir[LIA_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (access(path, F_OK) != 0)
        return 0; /* a new store: created, or the open says why not */
    if (access(path, W_OK) != 0)
        return 1;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return access(dir, W_OK) != 0;
}

/* "file:PATH?QUERY" with PATH percent-encoded where a URI needs it. */
static int uri_of(const char *path, const char *query, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    if (n < 8)
        return -1;
    memcpy(out, "file:", 5);
    k = 5;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    *p == '/' || *p == '.' || *p == '-' || *p == '_' || *p == '~';
        if (k + 4 >= n)
            return -1;
        if (plain) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    if (k + strlen(query) + 2 > n)
        return -1;
    out[k++] = '?';
    memcpy(out + k, query, strlen(query) + 1);
    return 0;
}

/* 1 if PATH-wal holds changes not yet in the database file. */
static int wal_has_data(const char *path)
{
    char wal[LIA_PATH_MAX + 8];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) == 0 && st.st_size > 0;
}

/* Open the store for reading only. First `mode=ro`: SQLite reads the WAL
 * through PATH-shm, which it must find or create (it uses its own memory
 * when the -shm is there but read-only). Where it cannot create it (the
 * directory is not writable) and the WAL is empty or absent (a store closed
 * cleanly has every change in its main file), `immutable=1`: no locks and
 * no -shm, right because nobody can write there either. A non-empty WAL
 * that cannot be read is an error: reading without it would miss changes. */
static int open_ro(const char *path, sqlite3 **out, lia_error *err)
{
    char uri[3 * LIA_PATH_MAX + 32], why[256] = "";
    int rc = SQLITE_CANTOPEN;
    for (int imm = 0; imm < 2; imm++) {
        sqlite3 *db = NULL;
        if (imm && wal_has_data(path))
            return lia_error_set(err, LIA_EREADONLY, NULL, NULL, 0,
                                 "cannot open store %s read-only: %s (its -wal holds changes that need a "
                                 "writable directory to be read; open it once where it can be written)",
                                 path, why);
        if (uri_of(path, imm ? "immutable=1" : "mode=ro", uri, sizeof uri))
            return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "store path too long: %s", path);
        rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK) /* the open is lazy: read the schema now */
            rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            *out = db;
            return LIA_OK;
        }
        snprintf(why, sizeof why, "%s", db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
    }
    return lia_error_set(err, sq_code(rc) == LIA_ENOMEM ? LIA_ENOMEM : LIA_ESTORE, NULL, NULL, 0,
                         "cannot open store %s read-only: %s", path, why);
}

static int sq_open(const char *path, int flags, void **conn, lia_error *err)
{
    sqlite3 *db = NULL;
    int rc;
    if (!(flags & LIA_DB_READONLY) && not_writable(path))
        flags |= LIA_DB_READONLY;
    if (flags & LIA_DB_READONLY) {
        if ((rc = open_ro(path, &db, err)))
            return rc;
    } else if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               NULL) != SQLITE_OK) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "cannot open store %s: %s", path,
                           db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    } else if (sqlite3_db_readonly(db, "main") == 1) { /* SQLite found it read-only after all */
        sqlite3_close(db);
        db = NULL;
        flags |= LIA_DB_READONLY;
        if ((rc = open_ro(path, &db, err)))
            return rc;
    }
    sqlite3_busy_timeout(db, LIA_STORE_BUSY_MS);
    /* 16 KiB pages (set before the file is created), a 256 MiB page cache,
     * and checkpoints every 25,000 pages rather than SQLite's 1,000: with
     * random-key indexes a small checkpoint interval rewrites the same pages
     * over and over (measured: 2x slower ingest; docs/performance.md). The
     * WAL is cut back to 64 MiB after each checkpoint. */
    if (!(flags & LIA_DB_READONLY) &&
        sqlite3_exec(db,
                     "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;"
                     "PRAGMA wal_autocheckpoint=25000; PRAGMA journal_size_limit=67108864;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = sq_code(sqlite3_errcode(db));
        rc = lia_error_set(err, rc == LIA_EBUSY ? rc : LIA_ESTORE, NULL, NULL, 0, "%s%s", sqlite3_errmsg(db),
                           rc == LIA_EBUSY ? " (another process holds the store locked)" : "");
        lia_error_where(err, path, 0);
        sqlite3_close(db);
        return rc;
    }
    *conn = db;
    return LIA_OK;
}

static int sq_check(void *conn, lia_error *err)
{
    sqlite3_stmt *st;
    int rc = LIA_OK;
    if (sqlite3_prepare_v2(conn, "PRAGMA integrity_check", -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "integrity check: %s", sqlite3_errmsg(conn));
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (m && strcmp(m, "ok") != 0) {
            rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "integrity check: %s", m);
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static void sq_set_cache(void *conn, size_t bytes)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%zu", bytes / 1024);
    sqlite3_exec(conn, sql, NULL, NULL, NULL);
}

/* SQLite's sorter buffers up to cache_size: on disk it needs room in
 * proportion to the table, not memory. */
static void sq_sort_on_disk(void *conn, int on)
{
    sqlite3_exec(conn, on ? "PRAGMA temp_store=FILE" : "PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
}

static int64_t pragma_int(void *conn, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* cache_size is KiB when negative, pages when positive */
static size_t sq_cache(void *conn)
{
    int64_t c = pragma_int(conn, "PRAGMA cache_size");
    return c < 0 ? (size_t)-c * 1024 : (size_t)c * (size_t)pragma_int(conn, "PRAGMA page_size");
}

static void sq_durable(void *conn, int on)
{
    sqlite3_exec(conn,
                 on ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
                    : "PRAGMA synchronous=OFF; PRAGMA journal_mode=OFF",
                 NULL, NULL, NULL);
}

static int sq_readonly(void *conn)
{
    return sqlite3_db_readonly(conn, "main") == 1;
}

/* Only behind the error at hand: SQLite keeps the errno of the last I/O
 * error, which may be an older one. */
static int sq_sys_errno(void *conn)
{
    int rc = sqlite3_errcode(conn) & 0xff;
    return rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN || rc == SQLITE_FULL ? sqlite3_system_errno(conn) : 0;
}

static void sq_busy_timeout(void *conn, int ms)
{
    sqlite3_busy_timeout(conn, ms);
}

static void sq_close(void *conn)
{
    sqlite3_close(conn);
}
static const char *sq_errmsg(void *conn)
{
    return sqlite3_errmsg(conn);
}

static const char *sq_path(void *conn)
{
    const char *p = sqlite3_db_filename(conn, "main");
    return p ? p : "";
}

static int sq_exec(void *conn, const char *sql)
{
    return sq_code(sqlite3_exec(conn, sql, NULL, NULL, NULL));
}

static int sq_prepare(void *conn, const char *sql, void **st)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &s, NULL);
    if (rc == SQLITE_OK && !s) /* only a comment or white space */
        return LIA_ESTORE;
    *st = s;
    return sq_code(rc);
}

static void sq_finalize(void *st)
{
    sqlite3_finalize(st);
}
static void sq_reset(void *st)
{
    sqlite3_reset(st);
}
static void sq_clear(void *st)
{
    sqlite3_clear_bindings(st);
}
static int sq_bind_int64(void *st, int i, int64_t v)
{
    return sq_code(sqlite3_bind_int64(st, i, v));
}
static int sq_bind_double(void *st, int i, double v)
{
    return sq_code(sqlite3_bind_double(st, i, v));
}
static int sq_bind_null(void *st, int i)
{
    return sq_code(sqlite3_bind_null(st, i));
}

static int sq_bind_text(void *st, int i, const char *s, size_t len)
{
    return sq_code(sqlite3_bind_text64(st, i, s, len, SQLITE_STATIC, SQLITE_UTF8));
}

static int sq_bind_blob(void *st, int i, const void *p, size_t len)
{
    /* a zero-length blob is an empty blob, not NULL */
    return sq_code(sqlite3_bind_blob64(st, i, len ? p : "", len, SQLITE_STATIC));
}

static int sq_step(void *st)
{
    int rc = sqlite3_step(st);
    return sq_code(rc == SQLITE_CONSTRAINT ? sqlite3_extended_errcode(sqlite3_db_handle(st)) : rc);
}
static int sq_col_null(void *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}
static char sq_col_type(void *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return 'i';
    case SQLITE_FLOAT: return 'd';
    case SQLITE_TEXT: return 't';
    case SQLITE_BLOB: return 'b';
    default: return 'n';
    }
}
static int64_t sq_col_int64(void *st, int i)
{
    return sqlite3_column_int64(st, i);
}
static double sq_col_double(void *st, int i)
{
    return sqlite3_column_double(st, i);
}
static const char *sq_col_text(void *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}
static const void *sq_col_blob(void *st, int i)
{
    return sqlite3_column_blob(st, i);
}
static size_t sq_col_bytes(void *st, int i)
{
    return (size_t)sqlite3_column_bytes(st, i);
}
static int64_t sq_changes(void *conn)
{
    return sqlite3_changes64(conn);
}
static int64_t sq_last_id(void *conn)
{
    return sqlite3_last_insert_rowid(conn);
}
static int sq_in_tx(void *conn)
{
    return !sqlite3_get_autocommit(conn);
}

static int exists(void *conn, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

static int sq_has_table(void *conn, const char *table)
{
    return exists(conn, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", table, NULL);
}

static int sq_has_index(void *conn, const char *index)
{
    return exists(conn, "SELECT 1 FROM sqlite_master WHERE type='index' AND name=?", index, NULL);
}

static int sq_has_column(void *conn, const char *table, const char *column)
{
    return exists(conn, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2", table, column);
}

typedef struct intfn {
    lia_db_intfn fn;
} intfn;

static void call_intfn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const intfn *f = sqlite3_user_data(ctx);
    int64_t a[4] = {0, 0, 0, 0};
    for (int i = 0; i < argc && i < 4; i++)
        a[i] = sqlite3_value_int64(argv[i]);
    sqlite3_result_int64(ctx, f->fn(a));
}

static int sq_function(void *conn, const char *name, int nargs, lia_db_intfn fn)
{
    intfn *f = malloc(sizeof *f);
    if (!f)
        return LIA_ENOMEM;
    f->fn = fn;
    /* SQLite frees f with the function (also when registering fails) */
    return sq_code(sqlite3_create_function_v2(conn, name, nargs, SQLITE_UTF8 | SQLITE_DETERMINISTIC, f,
                                              call_intfn, NULL, NULL, free));
}

const lia_db_driver lia__sqlite_driver = {
    .name = "sqlite",
    .begin_sql = "BEGIN IMMEDIATE",
    .open = sq_open,
    .close = sq_close,
    .errmsg = sq_errmsg,
    .path = sq_path,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .clear = sq_clear,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_null = sq_col_null,
    .col_type = sq_col_type,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_bytes = sq_col_bytes,
    .changes = sq_changes,
    .last_id = sq_last_id,
    .in_tx = sq_in_tx,
    .has_table = sq_has_table,
    .has_index = sq_has_index,
    .has_column = sq_has_column,
    .function = sq_function,
    .check = sq_check,
    .set_cache = sq_set_cache,
    .sort_on_disk = sq_sort_on_disk,
    .cache = sq_cache,
    .durable = sq_durable,
    .busy_timeout = sq_busy_timeout,
    .readonly = sq_readonly,
    .sys_errno = sq_sys_errno,
};
