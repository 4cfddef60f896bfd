/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The database layer (db.h) over a driver (driver.h): named statements
 * cached per handle, nested transactions, the migration registry and the
 * one error helper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "liaison/limits.h"
#include "store/driver.h"

#define MAX_SCHEMAS 32 /* modules whose schema a handle has seen */

struct lia_stmt {
    lia_db *db;
    void *native;
    const char *name; /* also the WHAT of error messages */
    const char *sql;  /* cached statements: the text they were prepared from */
    int cached, busy;
    int bind_rc, bind_i; /* first failed bind */
};

struct lia_db {
    const lia_db_driver *drv;
    void *conn;
    lia_stmt **slot; /* open addressing on the name */
    size_t cap, n;
    int busy_ms; /* the busy timeout, for messages */
    int depth;   /* transaction levels opened through the layer */
    int base_sp; /* level 0 is a savepoint in a transaction opened outside the layer */
    const lia_schema *ready[MAX_SCHEMAS];
    int nready;
    int flags;
    char *uri; /* PostgreSQL: the URI as given, for lia__db_open_side */
};

int lia__db_error(lia_db *db, lia_error *err, const char *what)
{
    return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s: %s", what, db->drv->errmsg(db->conn));
}

/* The error of a driver call that returned rc (< 0): what failed, the
 * store file where it matters to the reader (locked, read-only, full), and
 * the system's reason behind an I/O error. */
static int fail(lia_db *db, int rc, lia_error *err, const char *what)
{
    int sys = db->drv->sys_errno(db->conn);
    if (rc == LIA_ESTORE && sys == ENOSPC)
        rc = LIA_EFULL; /* an I/O error because the disk is full */
    if (rc == LIA_EREADONLY)
        return lia_error_set(err, rc, NULL, NULL, 0,
                             "%s: store %s is read-only (the file or its directory is not writable): %s",
                             what, db->drv->path(db->conn), db->drv->errmsg(db->conn));
    if (rc == LIA_EFULL)
        return lia_error_set(err, rc, NULL, NULL, 0,
                             "%s: no space left for store %s (the disk is full, or the store's page limit "
                             "reached): %s",
                             what, db->drv->path(db->conn), db->drv->errmsg(db->conn));
    if (rc == LIA_ESTORE && sys)
        return lia_error_set(err, rc, NULL, NULL, 0, "%s: store %s: %s (%s)", what, db->drv->path(db->conn),
                             db->drv->errmsg(db->conn), strerror(sys));
    if (rc == LIA_EBUSY)
        return lia_error_set(err, rc, NULL, NULL, 0,
                             "%s: store %s is locked by another connection or process (waited %d ms): %s",
                             what, db->drv->path(db->conn), db->busy_ms, db->drv->errmsg(db->conn));
    return lia_error_set(err, rc, NULL, NULL, 0, "%s: %s", what,
                         rc == LIA_ENOMEM ? "out of memory" : db->drv->errmsg(db->conn));
}

int lia__db_is_pg_uri(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

int lia__db_is_pg(lia_db *db)
{
    return db->drv == &lia__pg_driver;
}

int lia__db_open(const char *path, int flags, lia_db **out, lia_error *err)
{
    lia_db *db = calloc(1, sizeof *db);
    int rc;
    if (!db)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    db->drv = lia__db_is_pg_uri(path) ? &lia__pg_driver : &lia__sqlite_driver;
    db->busy_ms = LIA_STORE_BUSY_MS;
    db->flags = flags;
    if (db->drv == &lia__pg_driver && !(db->uri = strdup(path))) {
        free(db);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if ((rc = db->drv->open(path, flags, &db->conn, err))) {
        free(db->uri);
        free(db);
        return rc;
    }
    *out = db;
    return LIA_OK;
}

int lia__db_open_side(lia_db *db, lia_db **out, lia_error *err)
{
    if (!db->uri)
        return lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0,
                             "a second connection is for PostgreSQL stores; %s is a SQLite file",
                             lia__db_path(db));
    return lia__db_open(db->uri, db->flags, out, err);
}

static void stmt_free(lia_stmt *st)
{
    st->db->drv->finalize(st->native);
    free(st);
}

void lia__db_close(lia_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->cap; i++)
        if (db->slot[i])
            stmt_free(db->slot[i]);
    free(db->slot);
    if (db->drv->in_tx(db->conn))
        db->drv->exec(db->conn, "ROLLBACK");
    db->drv->close(db->conn);
    free(db->uri);
    free(db);
}

const lia_db_driver *lia__db_driver(lia_db *db)
{
    return db->drv;
}
void *lia__db_conn(lia_db *db)
{
    return db->conn;
}
const char *lia__db_path(lia_db *db)
{
    return db->drv->path(db->conn);
}
int lia__db_check(lia_db *db, lia_error *err)
{
    return db->drv->check(db->conn, err);
}
void lia__db_set_cache(lia_db *db, size_t bytes)
{
    db->drv->set_cache(db->conn, bytes);
}
void lia__db_sort_on_disk(lia_db *db, int on)
{
    db->drv->sort_on_disk(db->conn, on);
}
size_t lia__db_cache(lia_db *db)
{
    return db->drv->cache(db->conn);
}
int lia__db_readonly(lia_db *db)
{
    return db->drv->readonly(db->conn);
}
void lia__db_busy_timeout(lia_db *db, int ms)
{
    db->busy_ms = ms;
    db->drv->busy_timeout(db->conn, ms);
}
void lia__db_durable(lia_db *db, int on)
{
    db->drv->durable(db->conn, on);
}

static int exec_as(lia_db *db, const char *sql, int native, lia_error *err)
{
    int rc =
        native && db->drv->exec_native ? db->drv->exec_native(db->conn, sql) : db->drv->exec(db->conn, sql);
    if (rc < 0) {
        char what[64];
        size_t n = strcspn(sql, "\n;(");
        snprintf(what, sizeof what, "%.*s", n > 48 ? 48 : (int)n, sql);
        return fail(db, rc, err, what);
    }
    return LIA_OK;
}

int lia__db_exec(lia_db *db, const char *sql, lia_error *err)
{
    return exec_as(db, sql, 0, err);
}

int lia__db_exec_pg(lia_db *db, const char *sql, const char *pg_sql, lia_error *err)
{
    int pg = pg_sql && lia__db_is_pg(db);
    return exec_as(db, pg ? pg_sql : sql, pg, err);
}

/* ---- statements ---- */

static size_t hash(const char *s)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static lia_stmt **find(lia_db *db, const char *name)
{
    size_t m = db->cap - 1;
    for (size_t i = hash(name) & m;; i = (i + 1) & m)
        if (!db->slot[i] || strcmp(db->slot[i]->name, name) == 0)
            return &db->slot[i];
}

static int grow(lia_db *db)
{
    size_t cap = db->cap ? db->cap * 2 : 64;
    lia_stmt **old = db->slot, **slot = calloc(cap, sizeof *slot);
    size_t oldcap = db->cap;
    if (!slot)
        return LIA_ENOMEM;
    db->slot = slot;
    db->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            *find(db, old[i]->name) = old[i];
    free(old);
    return LIA_OK;
}

static int stmt_new(lia_db *db, const char *name, const char *sql, int native, lia_stmt **out, lia_error *err)
{
    lia_stmt *st = calloc(1, sizeof *st);
    int rc;
    if (!st)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    st->db = db;
    st->name = name;
    if ((rc = native && db->drv->prepare_native ? db->drv->prepare_native(db->conn, sql, &st->native)
                                                : db->drv->prepare(db->conn, sql, &st->native)) < 0) {
        rc = fail(db, rc, err, name);
        db->drv->finalize(st->native);
        free(st);
        return rc;
    }
    *out = st;
    return LIA_OK;
}

static int prepare_as(lia_db *db, const char *name, const char *sql, int native, lia_stmt **out,
                      lia_error *err)
{
    lia_stmt **p, *st;
    int rc;
    if (db->n * 2 >= db->cap && grow(db))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    p = find(db, name);
    if ((st = *p)) {
        if (st->sql != sql && strcmp(st->sql, sql) != 0)
            return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "statement %s prepared with two texts",
                                 name);
        if (st->busy) /* in use further up the stack: a separate one */
            return stmt_new(db, name, sql, native, out, err);
        db->drv->clear(st->native);
    } else {
        if ((rc = stmt_new(db, name, sql, native, &st, err)))
            return rc;
        st->sql = sql;
        st->cached = 1;
        *p = st;
        db->n++;
    }
    st->busy = 1;
    st->bind_rc = 0;
    *out = st;
    return LIA_OK;
}

int lia__db_prepare(lia_db *db, const char *name, const char *sql, lia_stmt **out, lia_error *err)
{
    return prepare_as(db, name, sql, 0, out, err);
}

int lia__db_prepare_pg(lia_db *db, const char *name, const char *sql, const char *pg_sql, lia_stmt **out,
                       lia_error *err)
{
    int pg = pg_sql && lia__db_is_pg(db);
    return prepare_as(db, name, pg ? pg_sql : sql, pg, out, err);
}

int lia__db_prepare_once(lia_db *db, const char *what, const char *sql, lia_stmt **out, lia_error *err)
{
    return stmt_new(db, what, sql, 0, out, err);
}

void lia__db_done(lia_stmt *st)
{
    if (!st)
        return;
    if (!st->cached) {
        stmt_free(st);
        return;
    }
    st->db->drv->reset(st->native);
    st->busy = 0;
}

void lia__db_reset(lia_stmt *st)
{
    st->db->drv->reset(st->native);
}

static void bound(lia_stmt *st, int i, int rc)
{
    if (rc < 0 && !st->bind_rc) {
        st->bind_rc = rc;
        st->bind_i = i;
    }
}

void lia__db_bind_int64(lia_stmt *st, int i, int64_t v)
{
    bound(st, i, st->db->drv->bind_int64(st->native, i, v));
}
void lia__db_bind_double(lia_stmt *st, int i, double v)
{
    bound(st, i, st->db->drv->bind_double(st->native, i, v));
}
void lia__db_bind_null(lia_stmt *st, int i)
{
    bound(st, i, st->db->drv->bind_null(st->native, i));
}

void lia__db_bind_text(lia_stmt *st, int i, const char *s, ptrdiff_t len)
{
    if (!s)
        bound(st, i, st->db->drv->bind_null(st->native, i));
    else
        bound(st, i, st->db->drv->bind_text(st->native, i, s, len < 0 ? strlen(s) : (size_t)len));
}

void lia__db_bind_blob(lia_stmt *st, int i, const void *p, size_t len)
{
    bound(st, i, st->db->drv->bind_blob(st->native, i, p, len));
}

int lia__db_step(lia_stmt *st, lia_error *err)
{
    int rc;
    if (st->bind_rc) {
        rc = lia_error_set(err, st->bind_rc, NULL, NULL, 0, "%s: cannot bind parameter %d: %s", st->name,
                           st->bind_i, st->db->drv->errmsg(st->db->conn));
        return rc;
    }
    rc = st->db->drv->step(st->native);
    return rc < 0 ? fail(st->db, rc, err, st->name) : rc;
}

int lia__db_run(lia_stmt *st, lia_error *err)
{
    int rc = lia__db_step(st, err);
    return rc == LIA_DB_ROW ? LIA_OK : rc;
}

int lia__db_col_null(lia_stmt *st, int i)
{
    return st->db->drv->col_null(st->native, i);
}
int64_t lia__db_col_int64(lia_stmt *st, int i)
{
    return st->db->drv->col_int64(st->native, i);
}
double lia__db_col_double(lia_stmt *st, int i)
{
    return st->db->drv->col_double(st->native, i);
}
const char *lia__db_col_text(lia_stmt *st, int i)
{
    return st->db->drv->col_text(st->native, i);
}
size_t lia__db_col_bytes(lia_stmt *st, int i)
{
    return st->db->drv->col_bytes(st->native, i);
}
char lia__db_col_type(lia_stmt *st, int i)
{
    return st->db->drv->col_type(st->native, i);
}

const void *lia__db_col_blob(lia_stmt *st, int i, size_t *len)
{
    const void *p = st->db->drv->col_blob(st->native, i);
    *len = p ? st->db->drv->col_bytes(st->native, i) : 0;
    return p;
}

int64_t lia__db_changes(lia_db *db)
{
    return db->drv->changes(db->conn);
}
int64_t lia__db_last_id(lia_db *db)
{
    return db->drv->last_id(db->conn);
}

/* ---- bulk insert ---- */

struct lia_bulk {
    lia_db *db;
    void *drv; /* the driver's load, or NULL: the prepared INSERT below */
    lia_stmt *st;
    int ncols, col;
    char what[96];
};

int lia__db_bulk_begin(lia_db *db, const char *what, const char *table, const char *cols, int ncols,
                       lia_bulk **out, lia_error *err)
{
    lia_bulk *b;
    int rc;
    if (ncols < 1 || ncols > 64)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "%s: %d columns (1 to 64)", what, ncols);
    if (!(b = calloc(1, sizeof *b)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "%s: out of memory", what);
    b->db = db;
    b->ncols = ncols;
    snprintf(b->what, sizeof b->what, "%s", what);
    if (db->drv->bulk_open) {
        if ((rc = db->drv->bulk_open(db->conn, table, cols, ncols, &b->drv))) {
            free(b);
            return fail(db, rc, err, what);
        }
    } else {
        lia_buf sql;
        lia_buf_init(&sql, 8192);
        lia_buf_printf(&sql, "INSERT INTO %s(%s) VALUES(?", table, cols);
        for (int i = 1; i < ncols; i++)
            lia_buf_puts(&sql, ",?");
        lia_buf_putc(&sql, ')');
        rc = sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "%s: out of memory", what)
                     : lia__db_prepare_once(db, b->what, sql.ptr, &b->st, err);
        lia_buf_free(&sql);
        if (rc) {
            free(b);
            return rc;
        }
    }
    *out = b;
    return LIA_OK;
}

void lia__db_bulk_int64(lia_bulk *b, int64_t v)
{
    if (b->drv)
        b->db->drv->bulk_value(b->drv, 'i', v, 0, NULL, 0);
    else
        lia__db_bind_int64(b->st, b->col + 1, v);
    b->col++;
}

void lia__db_bulk_double(lia_bulk *b, double v)
{
    if (b->drv)
        b->db->drv->bulk_value(b->drv, 'd', 0, v, NULL, 0);
    else
        lia__db_bind_double(b->st, b->col + 1, v);
    b->col++;
}

void lia__db_bulk_text(lia_bulk *b, const char *s, ptrdiff_t len)
{
    if (!s) {
        lia__db_bulk_null(b);
        return;
    }
    if (b->drv)
        b->db->drv->bulk_value(b->drv, 't', 0, 0, s, len < 0 ? strlen(s) : (size_t)len);
    else
        lia__db_bind_text(b->st, b->col + 1, s, len);
    b->col++;
}

void lia__db_bulk_blob(lia_bulk *b, const void *p, size_t len)
{
    if (b->drv)
        b->db->drv->bulk_value(b->drv, 'b', 0, 0, p, len);
    else
        lia__db_bind_blob(b->st, b->col + 1, p, len);
    b->col++;
}

void lia__db_bulk_null(lia_bulk *b)
{
    if (b->drv)
        b->db->drv->bulk_value(b->drv, 'n', 0, 0, NULL, 0);
    else
        lia__db_bind_null(b->st, b->col + 1);
    b->col++;
}

int lia__db_bulk_row(lia_bulk *b, lia_error *err)
{
    int rc, n = b->col;
    b->col = 0;
    if (n != b->ncols)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0,
                             "%s: a row of %d values, the load has %d columns", b->what, n, b->ncols);
    if (b->drv)
        return (rc = b->db->drv->bulk_row(b->drv)) ? fail(b->db, rc, err, b->what) : LIA_OK;
    rc = lia__db_run(b->st, err);
    lia__db_reset(b->st);
    return rc;
}

int lia__db_bulk_end(lia_bulk *b, lia_error *err)
{
    int rc = LIA_OK;
    if (b->drv) {
        if ((rc = b->db->drv->bulk_close(b->drv, 1)))
            rc = fail(b->db, rc, err, b->what);
    } else {
        lia__db_done(b->st);
    }
    free(b);
    return rc;
}

void lia__db_bulk_abort(lia_bulk *b)
{
    if (!b)
        return;
    if (b->drv)
        b->db->drv->bulk_close(b->drv, 0);
    else
        lia__db_done(b->st);
    free(b);
}

int lia__db_reserve_ids(lia_db *db, const char *table, const char *column, int64_t n, int64_t *first,
                        lia_error *err)
{
    char sql[256];
    lia_stmt *st;
    int rc;
    if (n < 1)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "reserving %lld ids of %s", (long long)n, table);
    if (db->drv->reserve_ids) {
        if ((rc = db->drv->reserve_ids(db->conn, table, column, n, first)))
            return fail(db, rc, err, "reserving ids");
        return LIA_OK;
    }
    snprintf(sql, sizeof sql, "SELECT coalesce(max(%s), 0) + 1 FROM %s", column, table);
    if ((rc = lia__db_prepare_once(db, "reserving ids", sql, &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        *first = lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia__db_error(db, err, "reserving ids");
    }
    lia__db_done(st);
    return rc;
}

/* ---- transactions ---- */

int lia__db_in_tx(lia_db *db)
{
    return db->drv->in_tx(db->conn);
}

static int savepoint(lia_db *db, const char *verb, int level, lia_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, verb, level, level);
    return lia__db_exec(db, sql, err);
}

int lia__db_begin(lia_db *db, lia_error *err)
{
    int rc;
    if (db->depth && !db->drv->in_tx(db->conn))
        db->depth = 0; /* the database ended it (e.g. rolled back on an I/O error) */
    if (db->depth == 0)
        db->base_sp = db->drv->in_tx(db->conn);
    if (db->depth || db->base_sp)
        rc = savepoint(db, "SAVEPOINT lia_%d", db->depth, err);
    else
        rc = lia__db_exec(db, db->drv->begin_sql, err);
    if (rc == LIA_OK)
        db->depth++;
    return rc;
}

int lia__db_commit(lia_db *db, lia_error *err)
{
    int rc;
    if (db->depth == 0)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "commit: no transaction");
    if (--db->depth || db->base_sp)
        return savepoint(db, "RELEASE lia_%d", db->depth, err);
    if ((rc = lia__db_exec(db, "COMMIT", err)) && db->drv->in_tx(db->conn))
        db->drv->exec(db->conn, "ROLLBACK");
    return rc;
}

void lia__db_rollback(lia_db *db)
{
    if (db->depth == 0)
        return;
    if (--db->depth || db->base_sp)
        savepoint(db, "ROLLBACK TO lia_%d; RELEASE lia_%d", db->depth, NULL);
    else if (db->drv->in_tx(db->conn))
        db->drv->exec(db->conn, "ROLLBACK");
}

/* ---- schema ---- */

int lia__db_int64s(lia_db *db, const char *what, const char *sql, int64_t **v, size_t *n, lia_error *err)
{
    lia_stmt *st;
    size_t cap = 0;
    int step;
    *v = NULL;
    *n = 0;
    if ((step = lia__db_prepare(db, what, sql, &st, err)))
        return step;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (*n == cap) {
            int64_t *w = realloc(*v, (cap ? cap * 2 : 64) * sizeof *w);
            if (!w) {
                step = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "%s: out of memory", what);
                break;
            }
            *v = w;
            cap = cap ? cap * 2 : 64;
        }
        (*v)[(*n)++] = lia__db_col_int64(st, 0);
    }
    lia__db_done(st);
    if (step < 0) {
        free(*v);
        *v = NULL;
        *n = 0;
        return step;
    }
    return LIA_OK;
}

int lia__db_has_table(lia_db *db, const char *table)
{
    return db->drv->has_table(db->conn, table);
}
int lia__db_has_index(lia_db *db, const char *index)
{
    return db->drv->has_index(db->conn, index);
}
int lia__db_has_column(lia_db *db, const char *table, const char *column)
{
    return db->drv->has_column(db->conn, table, column);
}

/* ---- the catalog ---- */

/* The text column 0 of every row of st (its binds set), as one block:
 * the pointers, then the strings. */
static int name_list(lia_stmt *st, char ***names, size_t *n, lia_error *err)
{
    lia_buf text;
    size_t count = 0, cap = 0, *off = NULL;
    char **v;
    int rc;
    lia_buf_init(&text, (size_t)64 << 20);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *s = lia__db_col_text(st, 0);
        if (count == cap) {
            size_t *no = realloc(off, (cap ? cap * 2 : 64) * sizeof *off);
            if (!no) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "catalog: out of memory");
                break;
            }
            off = no;
            cap = cap ? cap * 2 : 64;
        }
        off[count++] = text.len;
        lia_buf_puts(&text, s ? s : "");
        lia_buf_putc(&text, '\0');
    }
    lia__db_done(st);
    if (rc == LIA_DB_DONE && text.err)
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "catalog: out of memory");
    if (rc != LIA_DB_DONE) {
        free(off);
        lia_buf_free(&text);
        return rc;
    }
    if (!(v = malloc(count * sizeof *v + text.len + 1))) {
        free(off);
        lia_buf_free(&text);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "catalog: out of memory");
    }
    if (text.len)
        memcpy((char *)(v + count), text.ptr, text.len);
    for (size_t i = 0; i < count; i++)
        v[i] = (char *)(v + count) + off[i];
    free(off);
    lia_buf_free(&text);
    *names = v;
    *n = count;
    return LIA_OK;
}

int lia__db_tables(lia_db *db, char ***names, size_t *n, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare_pg(
             db, "catalog: the tables",
             "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
             " ESCAPE '\\' ORDER BY name",
             "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s"
             " ON s.oid = c.relnamespace WHERE s.nspname = current_schema()"
             " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
             &st, err)))
        return rc;
    return name_list(st, names, n, err);
}

int lia__db_references(lia_db *db, const char *table, char ***names, size_t *n, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare_pg(
             db, "catalog: a table's foreign keys",
             "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1) WHERE \"table\" <> ?1"
             " ORDER BY 1",
             "SELECT DISTINCT c.relname::text FROM pg_catalog.pg_constraint k"
             " JOIN pg_catalog.pg_class c ON c.oid = k.confrelid"
             " WHERE k.conrelid = to_regclass($1) AND k.contype = 'f'"
             " AND k.confrelid <> k.conrelid ORDER BY 1",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, table, -1);
    return name_list(st, names, n, err);
}

/* SQLite's affinity of a declared type (its rules, in their order). */
static char affinity(const char *t)
{
    char u[64];
    size_t i;
    for (i = 0; t && t[i] && i + 1 < sizeof u; i++)
        u[i] = (char)(t[i] >= 'a' && t[i] <= 'z' ? t[i] - 32 : t[i]);
    u[i] = '\0';
    if (strstr(u, "INT"))
        return 'i';
    if (strstr(u, "CHAR") || strstr(u, "CLOB") || strstr(u, "TEXT"))
        return 't';
    if (!u[0] || strstr(u, "BLOB"))
        return 'b';
    if (strstr(u, "REAL") || strstr(u, "FLOA") || strstr(u, "DOUB"))
        return 'd';
    return 'i'; /* NUMERIC: integers as written by the modules */
}

static char pg_kind(const char *t)
{
    static const struct {
        const char *type;
        char kind;
    } map[] = {
        {"bigint", 'i'},
        {"double precision", 'd'},
        {"text", 't'},
        {"bytea", 'b'},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(t, map[i].type) == 0)
            return map[i].kind;
    return strncmp(t, "character varying", 17) == 0 ? 't' : '?';
}

int lia__db_columns(lia_db *db, const char *table, lia_db_col **out, size_t *n, lia_error *err)
{
    lia_stmt *st;
    lia_db_col *v = NULL;
    size_t len = 0, cap = 0, npk = 0;
    int rc, pg = lia__db_is_pg(db);
    *out = NULL;
    *n = 0;
    if ((rc = lia__db_prepare_pg(
             db, "catalog: a table's columns",
             "SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid",
             "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),"
             " coalesce((SELECT k.o FROM pg_catalog.pg_index i, unnest(i.indkey) WITH ORDINALITY k(att, o)"
             "  WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), 0),"
             " (a.attidentity <> '')::int FROM pg_catalog.pg_attribute a"
             " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, table, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *name = lia__db_col_text(st, 0), *type = lia__db_col_text(st, 1);
        lia_db_col *c;
        if (len == cap) {
            lia_db_col *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *v);
            if (!nv) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "catalog: out of memory");
                break;
            }
            v = nv;
            cap = cap ? cap * 2 : 16;
        }
        c = &v[len++];
        memset(c, 0, sizeof *c);
        if (!name || strlen(name) >= sizeof c->name) {
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "catalog: table %s has a column name too long",
                               table);
            break;
        }
        snprintf(c->name, sizeof c->name, "%s", name);
        snprintf(c->type, sizeof c->type, "%s", type ? type : "");
        c->kind = pg ? pg_kind(type ? type : "") : affinity(type);
        c->pk = (int)lia__db_col_int64(st, 2);
        c->identity = pg ? (int)lia__db_col_int64(st, 3) : 0;
        if (!pg && c->pk && type && strcasecmp(type, "INTEGER") == 0)
            c->identity = 1; /* the rowid, if it is the whole key (below) */
        npk += c->pk > 0;
    }
    lia__db_done(st);
    if (rc != LIA_DB_DONE) {
        free(v);
        return rc;
    }
    if (!pg && npk != 1)
        for (size_t i = 0; i < len; i++)
            v[i].identity = 0;
    *out = v;
    *n = len;
    return LIA_OK;
}

static const char registry_sql[] =
    "CREATE TABLE IF NOT EXISTS lia_schema(module TEXT PRIMARY KEY, version INTEGER NOT NULL)";

static int read_version(lia_db *db, const char *name, int *v, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *v = -1;
    if ((rc = lia__db_prepare(db, "schema: reading a module's version",
                              "SELECT version FROM lia_schema WHERE module=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        *v = (int)lia__db_col_int64(st, 0);
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int write_version(lia_db *db, const char *name, int v, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "schema: recording a module's version",
                              "INSERT INTO lia_schema(module, version) VALUES(?, ?)"
                              " ON CONFLICT(module) DO UPDATE SET version = excluded.version",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_int64(st, 2, v);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__db_schema_version(lia_db *db, const char *name)
{
    int v;
    if (!db->drv->has_table(db->conn, "lia_schema"))
        return 0;
    if (read_version(db, name, &v, NULL))
        return -1;
    return v < 0 ? 0 : v;
}

/* One step of s from version v (or its adoption when v < 0), in one
 * transaction that first reads the version again: another process may have
 * migrated meanwhile. Sets *v to the version now recorded. */
static int step_schema(lia_db *db, const lia_schema *s, int *v, lia_error *err)
{
    const lia_migration *m;
    int rc, now;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    /* one migrating process at a time: SQLite's BEGIN IMMEDIATE is that
     * already; on PostgreSQL (READ COMMITTED) two processes would both see
     * no table and both create it ("duplicate key ... pg_class"), so a
     * transaction-scoped advisory lock queues them, and the second reads
     * the version the first recorded */
    if ((rc = lia__db_exec_pg(db, "", "SELECT pg_advisory_xact_lock(7301, 0)", err)) ||
        (rc = lia__db_exec(db, registry_sql, err)) || (rc = read_version(db, s->name, &now, err)))
        goto out;
    if (now < 0) { /* a store from before the registry, or a new one */
        now = 0;
        if (s->adopt && (rc = s->adopt(db, &now, err)))
            goto out;
        if (now > s->version) {
            rc = lia_error_set(err, LIA_ESCHEMA, NULL, NULL, 0,
                               "%s schema version %d is newer than this program's (%d)", s->name, now,
                               s->version);
            goto out;
        }
        rc = write_version(db, s->name, now, err);
        goto out;
    }
    if (now > s->version) {
        rc =
            lia_error_set(err, LIA_ESCHEMA, NULL, NULL, 0,
                          "%s schema version %d is newer than this program's (%d)", s->name, now, s->version);
        goto out;
    }
    if (now == *v && now < s->version) {
        m = &s->migrations[now];
        if (((m->sql || m->pg) && (rc = lia__db_exec_pg(db, m->sql ? m->sql : "", m->pg, err))) ||
            (m->run && (rc = m->run(db, err))) || (rc = write_version(db, s->name, now + 1, err)))
            goto out;
        now++;
    }
out:
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    *v = now;
    return LIA_OK;
}

int lia__db_schema(lia_db *db, const lia_schema *s, lia_error *err)
{
    int v = -1, rc;
    for (int i = 0; i < db->nready; i++)
        if (db->ready[i] == s)
            return LIA_OK;
    if (lia__db_is_pg(db) && !s->pg)
        return lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0,
                             "PostgreSQL backend: %s not supported yet (issue 12)", s->name);
    if (db->drv->has_table(db->conn, "lia_schema") && (rc = read_version(db, s->name, &v, err)))
        return rc;
    while (v != s->version)
        if ((rc = step_schema(db, s, &v, err))) {
            lia_error_where(err, lia__db_path(db), 0);
            return rc;
        }
    if (db->nready < MAX_SCHEMAS)
        db->ready[db->nready++] = s;
    return LIA_OK;
}

/* ---- functions ---- */

int lia__db_function(lia_db *db, const char *name, int nargs, lia_db_intfn fn, lia_error *err)
{
    int rc;
    if (nargs < 0 || nargs > 4)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "SQL function %s: at most 4 arguments", name);
    if ((rc = db->drv->function(db->conn, name, nargs, fn)) < 0)
        return fail(db, rc, err, name);
    return LIA_OK;
}
