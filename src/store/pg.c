/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The PostgreSQL driver of the database layer (driver.h) on libpq: the one
 * file that includes libpq-fe.h. A handle is one connection, opened from a
 * postgresql:// (or postgres://) URI.
 *
 * Statements: the SQLite-dialect text is rewritten once (pg_sql.c) and
 * prepared with PQprepare under a name of the connection's own ("lia_N").
 * Parameters go as text (numbers printed, text copied with its NUL), blobs
 * as binary; results come back as text, bytea decoded on demand.
 *
 * Results: a step executes the statement and fetches its whole result
 * (PQexecPrepared); later steps walk its rows. Not single-row mode: the
 * layer lets a module step one statement while it runs others (a loop over
 * rows that writes), and a connection in single-row mode can run nothing
 * else until the first result is drained. The cost is memory for a large
 * result; big scans are to use cursors (docs/architecture.md).
 *
 * New ids: an INSERT into a table with an identity column and no RETURNING
 * of its own gets "RETURNING <that column>" added when it is prepared (the
 * column found in pg_attribute); the step reads it for lia__db_last_id and
 * reports DONE, as SQLite's last_insert_rowid: an explicit id, the last row
 * of a multi-row insert, unchanged when nothing was inserted.
 *
 * Errors inside a transaction: PostgreSQL aborts the whole transaction on a
 * failed statement, SQLite only the statement (modules catch LIA_EEXIST
 * and go on). So a step inside a transaction runs under a savepoint of its
 * own, rolled back when the statement fails: two more round trips per step
 * in a transaction (to do: one, with pipeline mode). */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "liaison/limits.h"
#include "store/driver.h"
#include "store/pg_sql.h"

/* pg_type OIDs of the results read specially */
#define OID_BOOL   16
#define OID_BYTEA  17
#define OID_TEXT   25
#define OID_INT8   20
#define OID_FLOAT8 701

typedef struct pgc {
    PGconn *c;
    char path[512]; /* the URI, its password masked */
    char msg[LIA_ERR_REASON_MAX];
    int64_t changes, last_id;
    unsigned seq;
    int readonly;
} pgc;

typedef struct param {
    const char *val;
    int len, fmt;
    char kind; /* 'i' integer, 'd' double, 't' text, 'b' blob */
    char *own;
    char num[32];
} param;

typedef struct pgs {
    pgc *conn;
    char name[24];
    int nparams;
    int id_added;   /* RETURNING of the identity column added by the driver */
    int guard;      /* in a transaction, run under a savepoint of its own (unguarded) */
    char *bump;     /* the id may be explicit: SQL moving the identity past it */
    char *deferred; /* text not prepared yet: a parameter's type comes from its first bind */
    Oid *types;
    param *p;
    const char **vals;
    int *lens, *fmts;
    PGresult *res;
    int row, nrows, done;
    unsigned char **blob; /* decoded bytea of the current row, per column */
    size_t *blen;
    int ncols;
} pgs;

static void set_msg(pgc *c, const char *m)
{
    size_t n;
    snprintf(c->msg, sizeof c->msg, "%s", m && *m ? m : "unknown PostgreSQL error");
    n = strlen(c->msg);
    while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' '))
        c->msg[--n] = '\0';
}

/* The layer's code for a failed result, its message kept. */
static int res_code(pgc *c, PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    set_msg(c, prim ? prim : PQerrorMessage(c->c));
    if (!r)
        return LIA_ENOMEM;
    if (!state)
        return LIA_ESTORE;
    if (strcmp(state, "23505") == 0)
        return LIA_EEXIST; /* unique_violation */
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)
        return LIA_EBUSY; /* lock_not_available (lock_timeout), deadlock, serialization */
    if (strcmp(state, "25006") == 0)
        return LIA_EREADONLY;
    if (strcmp(state, "53100") == 0)
        return LIA_EFULL;
    if (strcmp(state, "53200") == 0)
        return LIA_ENOMEM;
    return LIA_ESTORE;
}

/* Run sql (no parameters, no rows wanted): LIA_OK or the code. */
static int is_change(const char *cmd)
{
    return strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
           strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0;
}

/* changes of a result that changed rows */
static void count_changes(pgc *c, PGresult *r)
{
    if (is_change(PQcmdStatus(r))) {
        const char *n = PQcmdTuples(r);
        int64_t v = 0;
        for (; *n >= '0' && *n <= '9'; n++)
            v = v * 10 + (*n - '0');
        c->changes = v;
    }
}

/* Run sql (no parameters, no rows wanted; the last statement's changes
 * counted): LIA_OK or the code. */
static int simple(pgc *c, const char *sql)
{
    PGresult *r = PQexec(c->c, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc =
        s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY ? LIA_OK : res_code(c, r);
    if (rc == LIA_OK)
        count_changes(c, r);
    PQclear(r);
    return rc;
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* library code never prints: NOTICEs (IF NOT EXISTS ...) dropped */
}

static void mask_uri(const char *uri, char *out, size_t n)
{
    const char *s = strstr(uri, "://"), *at, *colon, *slash;
    snprintf(out, n, "%s", uri);
    if (!s)
        return;
    s += 3;
    slash = strchr(s, '/');
    at = strchr(s, '@');
    if (!at || (slash && at > slash))
        return;
    colon = memchr(s, ':', (size_t)(at - s));
    if (colon)
        snprintf(out, n, "%.*s:***%s", (int)(colon - uri), uri, at);
}

static int pg_open(const char *path, int flags, void **conn, lia_error *err)
{
    pgc *c = calloc(1, sizeof *c);
    char sql[64];
    int rc;
    if (!c)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    mask_uri(path, c->path, sizeof c->path);
    c->c = PQconnectdb(path);
    if (!c->c || PQstatus(c->c) != CONNECTION_OK) {
        set_msg(c, c->c ? PQerrorMessage(c->c) : "out of memory");
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "cannot open store %s: %s", c->path, c->msg);
        PQfinish(c->c);
        free(c);
        return rc;
    }
    PQsetNoticeProcessor(c->c, no_notices, NULL);
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", LIA_STORE_BUSY_MS);
    if (PQsetClientEncoding(c->c, "UTF8") != 0 || (rc = simple(c, sql)) ||
        ((flags & LIA_DB_READONLY) && (rc = simple(c, "SET default_transaction_read_only = on")))) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "cannot set up store %s: %s", c->path,
                           PQerrorMessage(c->c));
        PQfinish(c->c);
        free(c);
        return rc;
    }
    c->readonly = (flags & LIA_DB_READONLY) != 0;
    if (!c->readonly) { /* a hot standby */
        PGresult *r = PQexec(c->c, "SHOW transaction_read_only");
        c->readonly = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "on") == 0;
        PQclear(r);
    }
    *conn = c;
    return LIA_OK;
}

static void pg_close(void *conn)
{
    pgc *c = conn;
    if (!c)
        return;
    PQfinish(c->c);
    free(c);
}

static const char *pg_errmsg(void *conn)
{
    return ((pgc *)conn)->msg;
}
static const char *pg_path(void *conn)
{
    return ((pgc *)conn)->path;
}

static int rewrite(pgc *c, const char *sql, lia_buf *out, lia_pg_info *info)
{
    lia_error err;
    int rc;
    lia_buf_init(out, 4 * (size_t)LIA_PG_SQL_MAX);
    if ((rc = lia__pg_rewrite(sql, strlen(sql), out, info, &err)))
        set_msg(c, err.reason);
    return rc;
}

static int exec_text(pgc *c, const char *sql)
{
    return simple(c, sql);
}

static int pg_exec(void *conn, const char *sql)
{
    pgc *c = conn;
    lia_buf b;
    lia_pg_info info;
    int rc = rewrite(c, sql, &b, &info);
    if (rc == LIA_OK)
        rc = exec_text(c, b.ptr);
    lia_buf_free(&b);
    return rc;
}

static int pg_exec_native(void *conn, const char *sql)
{
    return exec_text(conn, sql);
}

/* The identity column of table (current schema), into col; 0 if none. */
static int identity_of(pgc *c, const char *table, char *col, size_t n)
{
    const char *v[1] = {table};
    int found = 0;
    PGresult *r = PQexecParams(c->c,
                               "SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = "
                               "to_regclass($1) AND a.attidentity <> '' AND NOT a.attisdropped",
                               1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(col, n, "%s", PQgetvalue(r, 0, 0));
        found = 1;
    }
    PQclear(r);
    return found;
}

/* PQprepare; inside a transaction under a savepoint of its own, so a
 * prepare that fails (a statement typed later by its binds, a broken one)
 * does not abort the caller's transaction. */
static PGresult *prepare_guarded(pgc *c, const char *name, const char *sql, int n, const Oid *types)
{
    int in_tx = PQtransactionStatus(c->c) == PQTRANS_INTRANS;
    PGresult *r;
    if (in_tx && simple(c, "SAVEPOINT lia_prep"))
        return NULL;
    r = PQprepare(c->c, name, sql, n, types);
    if (in_tx)
        simple(c, PQresultStatus(r) == PGRES_COMMAND_OK
                      ? "RELEASE SAVEPOINT lia_prep"
                      : "ROLLBACK TO SAVEPOINT lia_prep; RELEASE SAVEPOINT lia_prep");
    return r;
}

/* An INSERT that may give the identity column itself (it is in its
 * column list, or there is none): SQLite's next rowid is then past it,
 * PostgreSQL's sequence is not. The step runs this after such an insert
 * inserted rows, so a later generated id never collides (sequences are not
 * transactional: a rollback leaves a gap, as SQLite's AUTOINCREMENT does).
 * 0 only on out of memory. */
static int bump_sql(pgs *s, const lia_pg_info *info, const char *col)
{
    char want[80];
    size_t n;
    snprintf(want, sizeof want, " %s ", col);
    if (strcmp(info->insert_cols, "*") != 0 && strcmp(info->insert_cols, "?") != 0 &&
        !strstr(info->insert_cols, want))
        return 1;
    n = 2 * strlen(info->insert_table) + 2 * strlen(col) + 160;
    if (!(s->bump = malloc(n)))
        return 0;
    snprintf(s->bump, n,
             "SELECT setval(pg_get_serial_sequence('%s', '%s'), GREATEST(max(\"%s\"), 1)) FROM \"%s\"",
             info->insert_table, col, col, info->insert_table);
    return 1;
}

/* The errors of a parameter whose type PostgreSQL could not infer:
 * indeterminate_datatype, ambiguous_parameter (what "$1 IS NULL" gives). */
static int untyped(const char *state)
{
    return state && (strcmp(state, "42P18") == 0 || strcmp(state, "42P08") == 0);
}

/* Whether a statement runs under a savepoint of its own in a transaction
 * (two more round trips): only one whose failure a module may catch and go
 * on from, which is a UNIQUE violation (LIA_EEXIST) of a plain INSERT or
 * UPDATE. A SELECT, or an upsert (ON CONFLICT: its own key cannot
 * conflict), runs bare: if it fails, the transaction is aborted and the
 * caller's next statement or commit says so, as for any other store
 * error; the hot path's lookups and upserts (dedup, route decisions) pay
 * one round trip, not three. */
static int needs_guard(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    if (strncasecmp(sql, "SELECT", 6) == 0 || strncasecmp(sql, "VALUES", 6) == 0)
        return 0;
    if (strncasecmp(sql, "INSERT", 6) == 0 && strcasestr(sql, "ON CONFLICT"))
        return 0;
    return 1;
}

static int prepare_text(pgc *c, const char *sql, const lia_pg_info *info, void **out)
{
    pgs *s = calloc(1, sizeof *s);
    PGresult *r;
    lia_buf b;
    int rc = LIA_OK;
    char col[72];
    Oid *types = NULL;
    if (!s)
        return LIA_ENOMEM;
    lia_buf_init(&b, 4 * (size_t)LIA_PG_SQL_MAX + 128);
    lia_buf_puts(&b, sql);
    if (info->statements != 1) {
        set_msg(c, info->statements ? "one statement at a time (PostgreSQL prepares one)" : "no statement");
        rc = LIA_ESTORE;
        goto out;
    }
    if (info->insert_table[0] && !info->returning && identity_of(c, info->insert_table, col, sizeof col)) {
        size_t end = b.len;
        while (end && (b.ptr[end - 1] == ';' || b.ptr[end - 1] == ' ' || b.ptr[end - 1] == '\n'))
            end--;
        b.len = end;
        lia_buf_printf(&b, " RETURNING \"%s\"", col);
        s->id_added = 1;
        if (!bump_sql(s, info, col)) {
            rc = LIA_ENOMEM;
            goto out;
        }
    }
    if (b.err) {
        set_msg(c, "statement too long");
        rc = LIA_ELIMIT;
        goto out;
    }
    s->conn = c;
    s->nparams = info->nparams;
    s->guard = needs_guard(b.ptr);
    snprintf(s->name, sizeof s->name, "lia_%u", ++c->seq);
    if (s->nparams) {
        s->p = calloc((size_t)s->nparams, sizeof *s->p);
        s->vals = calloc((size_t)s->nparams, sizeof *s->vals);
        s->lens = calloc((size_t)s->nparams, sizeof *s->lens);
        s->fmts = calloc((size_t)s->nparams, sizeof *s->fmts);
        if (!s->p || !s->vals || !s->lens || !s->fmts) {
            rc = LIA_ENOMEM;
            goto out;
        }
    }
    /* a parameter the text never names (SQLite lets ?1 and ?3 be used and
     * ?2 bound) has no type PostgreSQL can infer: text */
    for (int i = 0; i < s->nparams && i < 256; i++)
        if (!(info->used[i / 8] & (1u << (i % 8)))) {
            if (!types && !(types = calloc((size_t)s->nparams, sizeof *types))) {
                rc = LIA_ENOMEM;
                goto out;
            }
            types[i] = OID_TEXT;
        }
    r = prepare_guarded(c, s->name, b.ptr, s->nparams, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (untyped(state) && (s->deferred = strdup(b.ptr))) {
            s->types = types; /* prepared at the first step, typed by its binds */
            types = NULL;
        } else {
            rc = res_code(c, r);
            s->name[0] = '\0'; /* nothing to deallocate */
        }
    }
    PQclear(r);
out:
    lia_buf_free(&b);
    free(types);
    s->conn = c;
    *out = s; /* the layer finalizes it also after a failure */
    return rc;
}

static int pg_prepare(void *conn, const char *sql, void **st)
{
    pgc *c = conn;
    lia_buf b;
    lia_pg_info info;
    int rc = rewrite(c, sql, &b, &info);
    if (rc == LIA_OK)
        rc = prepare_text(c, b.ptr, &info, st);
    else
        *st = NULL;
    lia_buf_free(&b);
    return rc;
}

/* PostgreSQL text from the module: not rewritten ($N parameters), only
 * scanned for its parameters and an INSERT's table. */
static int pg_prepare_native(void *conn, const char *sql, void **st)
{
    pgc *c = conn;
    lia_pg_info info;
    lia_error err;
    int rc = lia__pg_scan(sql, strlen(sql), &info, &err);
    if (rc) {
        set_msg(c, err.reason);
        *st = NULL;
        return rc;
    }
    return prepare_text(c, sql, &info, st);
}

static void drop_row(pgs *s)
{
    if (!s->blob)
        return;
    for (int i = 0; i < s->ncols; i++) {
        PQfreemem(s->blob[i]);
        s->blob[i] = NULL;
    }
}

static void pg_reset(void *st)
{
    pgs *s = st;
    if (!s)
        return;
    drop_row(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = s->done = 0;
}

static void unbind(param *p)
{
    free(p->own);
    memset(p, 0, sizeof *p);
}

static void pg_finalize(void *st)
{
    pgs *s = st;
    char sql[48];
    if (!s)
        return;
    pg_reset(s);
    if (s->name[0] && !s->deferred && PQstatus(s->conn->c) == CONNECTION_OK &&
        PQtransactionStatus(s->conn->c) != PQTRANS_INERROR) {
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(s->conn->c, sql));
    }
    for (int i = 0; i < s->nparams; i++)
        unbind(&s->p[i]);
    free(s->p);
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->blob);
    free(s->blen);
    free(s->bump);
    free(s->deferred);
    free(s->types);
    free(s);
}

static void pg_clear(void *st)
{
    pgs *s = st;
    pg_reset(s);
    for (int i = 0; i < s->nparams; i++)
        unbind(&s->p[i]);
}

static param *slot(pgs *s, int i)
{
    if (i < 1 || i > s->nparams) {
        set_msg(s->conn, "parameter index out of range");
        return NULL;
    }
    unbind(&s->p[i - 1]);
    return &s->p[i - 1];
}

static int pg_bind_int64(void *st, int i, int64_t v)
{
    param *p = slot(st, i);
    if (!p)
        return LIA_ESTORE;
    p->len = snprintf(p->num, sizeof p->num, "%lld", (long long)v);
    p->kind = 'i';
    p->val = p->num;
    return LIA_OK;
}

static int pg_bind_double(void *st, int i, double v)
{
    param *p = slot(st, i);
    if (!p)
        return LIA_ESTORE;
    p->len = snprintf(p->num, sizeof p->num, "%.17g", v);
    p->kind = 'd';
    p->val = p->num;
    return LIA_OK;
}

static int pg_bind_null(void *st, int i)
{
    return slot(st, i) ? LIA_OK : LIA_ESTORE;
}

static int pg_bind_text(void *st, int i, const char *s, size_t len)
{
    param *p = slot(st, i);
    if (!p)
        return LIA_ESTORE;
    if (len > (size_t)LIA_PG_SQL_MAX * 1024 || memchr(s, '\0', len)) {
        set_msg(((pgs *)st)->conn, len > (size_t)LIA_PG_SQL_MAX * 1024 ? "text too long"
                                                                       : "text holds a NUL byte (PostgreSQL "
                                                                         "text cannot)");
        return LIA_ESTORE;
    }
    if (!(p->own = malloc(len + 1))) {
        set_msg(((pgs *)st)->conn, "out of memory");
        return LIA_ENOMEM;
    }
    memcpy(p->own, s, len);
    p->own[len] = '\0';
    p->val = p->own;
    p->len = (int)len;
    return LIA_OK;
}

static int pg_bind_blob(void *st, int i, const void *b, size_t len)
{
    param *p = slot(st, i);
    if (!p)
        return LIA_ESTORE;
    if (len > (size_t)LIA_PG_SQL_MAX * 1024) {
        set_msg(((pgs *)st)->conn, "blob too long");
        return LIA_ESTORE;
    }
    p->val = len ? b : ""; /* an empty blob is not NULL */
    p->len = (int)len;
    p->fmt = 1;
    return LIA_OK;
}

/* A statement PostgreSQL could not type alone ("$1 IS NULL OR feed = $1"):
 * prepared now with the types of its binds (integer bigint, double, text,
 * blob bytea; NULL and the rest left to the server). */
static int prepare_deferred(pgs *s)
{
    pgc *c = s->conn;
    PGresult *r;
    int rc = LIA_OK;
    if (!s->types && !(s->types = calloc((size_t)s->nparams, sizeof *s->types)))
        return LIA_ENOMEM;
    for (int i = 0; i < s->nparams; i++)
        if (s->p[i].val && !s->types[i])
            s->types[i] = s->p[i].fmt           ? OID_BYTEA
                          : s->p[i].kind == 'i' ? OID_INT8
                          : s->p[i].kind == 'd' ? OID_FLOAT8
                                                : OID_TEXT;
    for (int pass = 0; pass < 2; pass++) {
        const char *state;
        r = prepare_guarded(c, s->name, s->deferred, s->nparams, s->types);
        state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? LIA_OK : res_code(c, r);
        if (rc == LIA_OK || pass || !untyped(state)) {
            PQclear(r);
            break;
        }
        PQclear(r);
        for (int i = 0; i < s->nparams; i++) /* still untyped: a NULL bind; text, the widest guess */
            if (!s->types[i])
                s->types[i] = OID_TEXT;
    }
    if (rc == LIA_OK) {
        free(s->deferred);
        s->deferred = NULL;
    }
    return rc;
}

static int execute(pgs *s)
{
    pgc *c = s->conn;
    int in_tx = s->guard && PQtransactionStatus(c->c) == PQTRANS_INTRANS, rc = LIA_OK;
    ExecStatusType st;
    if (s->deferred && (rc = prepare_deferred(s)))
        return rc;
    if (in_tx && (rc = simple(c, "SAVEPOINT lia_stmt")))
        return rc;
    for (int i = 0; i < s->nparams; i++) {
        s->vals[i] = s->p[i].val;
        s->lens[i] = s->p[i].len;
        s->fmts[i] = s->p[i].fmt;
    }
    s->res = PQexecPrepared(c->c, s->name, s->nparams, s->vals, s->lens, s->fmts, 0);
    st = PQresultStatus(s->res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = res_code(c, s->res);
        PQclear(s->res);
        s->res = NULL;
        if (in_tx) {
            char keep[sizeof c->msg];
            memcpy(keep, c->msg, sizeof keep);
            simple(c, "ROLLBACK TO SAVEPOINT lia_stmt; RELEASE SAVEPOINT lia_stmt");
            memcpy(c->msg, keep, sizeof keep);
        }
        return rc;
    }
    if (in_tx && (rc = simple(c, "RELEASE SAVEPOINT lia_stmt")))
        return rc;
    count_changes(c, s->res);
    s->nrows = st == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
    s->ncols = st == PGRES_TUPLES_OK ? PQnfields(s->res) : 0;
    if (s->id_added) {
        if (s->nrows)
            c->last_id = strtoll(PQgetvalue(s->res, s->nrows - 1, 0), NULL, 10);
        if (s->nrows && s->bump && (rc = simple(c, s->bump)))
            return rc;
        s->nrows = 0;
    }
    if (s->ncols) {
        free(s->blob);
        free(s->blen);
        s->blob = calloc((size_t)s->ncols, sizeof *s->blob);
        s->blen = calloc((size_t)s->ncols, sizeof *s->blen);
        if (!s->blob || !s->blen) {
            set_msg(c, "out of memory");
            return LIA_ENOMEM;
        }
    }
    s->row = -1;
    return LIA_OK;
}

static int pg_step(void *st)
{
    pgs *s = st;
    int rc;
    if (s->done)
        return LIA_DB_DONE;
    if (!s->res && (rc = execute(s)))
        return rc;
    drop_row(s);
    if (++s->row < s->nrows)
        return LIA_DB_ROW;
    s->done = 1;
    return LIA_DB_DONE;
}

static int readable(const pgs *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < s->ncols;
}

static int pg_col_null(void *st, int i)
{
    pgs *s = st;
    return !readable(s, i) || PQgetisnull(s->res, s->row, i);
}

static char pg_col_type(void *st, int i)
{
    pgs *s = st;
    if (pg_col_null(s, i))
        return 'n';
    switch (PQftype(s->res, i)) {
    case OID_INT8:
    case 21: /* int2 */
    case 23: /* int4 */
    case OID_BOOL: return 'i';
    case OID_FLOAT8:
    case 700: /* float4 */ return 'd';
    case OID_BYTEA: return 'b';
    default: return 't';
    }
}

static const char *pg_col_text(void *st, int i)
{
    pgs *s = st;
    if (pg_col_null(s, i))
        return NULL;
    if (PQftype(s->res, i) == OID_BOOL) /* as SQLite would hold it */
        return *PQgetvalue(s->res, s->row, i) == 't' ? "1" : "0";
    return PQgetvalue(s->res, s->row, i);
}

/* A double as SQLite converts one to an integer: truncated, clamped. */
static int64_t to_int64(double d)
{
    if (d != d)
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static int64_t pg_col_int64(void *st, int i)
{
    const char *v = pg_col_text(st, i), *digits;
    uint64_t n = 0;
    int neg;
    if (!v)
        return 0;
    neg = *v == '-';
    digits = v + (neg || *v == '+');
    for (const char *p = digits; *p; p++) {
        /* numeric, float or past 64 bits: as a double */
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
            return to_int64(strtod(v, NULL));
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (!neg)
        return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
    return n > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)n;
}

static double pg_col_double(void *st, int i)
{
    const char *v = pg_col_text(st, i);
    return v ? strtod(v, NULL) : 0;
}

static const void *pg_col_blob(void *st, int i)
{
    pgs *s = st;
    if (pg_col_null(s, i))
        return NULL;
    if (PQftype(s->res, i) != OID_BYTEA)
        return PQgetvalue(s->res, s->row, i);
    if (!s->blob[i]) {
        s->blob[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, i), &s->blen[i]);
        if (!s->blob[i])
            return NULL;
    }
    return s->blen[i] ? (const void *)s->blob[i] : (const void *)"";
}

static size_t pg_col_bytes(void *st, int i)
{
    pgs *s = st;
    if (pg_col_null(s, i))
        return 0;
    if (PQftype(s->res, i) == OID_BYTEA)
        return pg_col_blob(s, i) ? s->blen[i] : 0;
    if (PQftype(s->res, i) == OID_BOOL)
        return 1;
    return (size_t)PQgetlength(s->res, s->row, i);
}

static int64_t pg_changes(void *conn)
{
    return ((pgc *)conn)->changes;
}
static int64_t pg_last_id(void *conn)
{
    return ((pgc *)conn)->last_id;
}
static int pg_in_tx(void *conn)
{
    PGTransactionStatusType t = PQtransactionStatus(((pgc *)conn)->c);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int exists(pgc *c, const char *sql, const char *a, const char *b)
{
    const char *v[2] = {a, b};
    PGresult *r = PQexecParams(c->c, sql, b ? 2 : 1, NULL, v, NULL, NULL, 0);
    int yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return yes;
}

/* Names are folded to lower case, as PostgreSQL folds unquoted ones. */
static int pg_has_table(void *conn, const char *table)
{
    return exists(conn,
                  "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = "
                  "lower($1)",
                  table, NULL);
}

static int pg_has_index(void *conn, const char *index)
{
    return exists(conn,
                  "SELECT 1 FROM pg_catalog.pg_indexes WHERE schemaname = current_schema() AND indexname = "
                  "lower($1)",
                  index, NULL);
}

static int pg_has_column(void *conn, const char *table, const char *column)
{
    return exists(conn,
                  "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND "
                  "table_name = lower($1) AND column_name = lower($2)",
                  table, column);
}

static int pg_function(void *conn, const char *name, int nargs, lia_db_intfn fn)
{
    char m[160];
    (void)nargs;
    (void)fn;
    snprintf(m, sizeof m,
             "PostgreSQL cannot call a C function from SQL: %s must be SQL of a PostgreSQL migration", name);
    set_msg(conn, m);
    return LIA_EUNSUPPORTED;
}

/* No integrity_check: the server keeps its own; the connection answers. */
static int pg_check(void *conn, lia_error *err)
{
    pgc *c = conn;
    int rc = simple(c, "SELECT 1");
    return rc ? lia_error_set(err, rc, NULL, NULL, 0, "check of store %s: %s", c->path, c->msg) : LIA_OK;
}

static void pg_set_cache(void *conn, size_t bytes)
{
    (void)conn; /* shared_buffers is the server's */
    (void)bytes;
}
static void pg_sort_on_disk(void *conn, int on)
{
    (void)conn; /* work_mem decides, per sort */
    (void)on;
}
static size_t pg_cache(void *conn)
{
    (void)conn;
    return 0;
}

static void pg_durable(void *conn, int on)
{
    simple(conn, on ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
}

static void pg_busy_timeout(void *conn, int ms)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", ms > 0 ? ms : 1);
    simple(conn, sql);
}

static int pg_readonly(void *conn)
{
    return ((pgc *)conn)->readonly;
}
static int pg_sys_errno(void *conn)
{
    (void)conn;
    return 0;
}

/* ---- bulk insert: COPY ... FROM STDIN (FORMAT binary) ----
 * Binary pays here: no escaping of the JSON body (text COPY must escape
 * every backslash), no hex for the address key, integers as 8 bytes. Rows
 * are gathered in a buffer and sent with PQputCopyData every COPY_CHUNK
 * bytes: one round trip for the whole batch instead of one per row (three
 * in a transaction: the row's savepoint). The columns' types must be what
 * the portable DDL gives (BIGINT, DOUBLE PRECISION, TEXT, BYTEA): binary
 * COPY does not convert. */
#define COPY_CHUNK (1u << 20)

typedef struct pgbulk {
    pgc *c;
    lia_buf b;
    int ncols, col, failed;
} pgbulk;

static void be16(lia_buf *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    lia_buf_append(b, x, 2);
}

static void be32(lia_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    lia_buf_append(b, x, 4);
}

static void be64(lia_buf *b, uint64_t v)
{
    be32(b, (uint32_t)(v >> 32));
    be32(b, (uint32_t)v);
}

static int copy_flush(pgbulk *k)
{
    if (k->b.err) {
        set_msg(k->c, "out of memory gathering COPY rows");
        return LIA_ENOMEM;
    }
    if (k->b.len && PQputCopyData(k->c->c, k->b.ptr, (int)k->b.len) != 1) {
        set_msg(k->c, PQerrorMessage(k->c->c));
        return LIA_ESTORE;
    }
    lia_buf_reset(&k->b);
    return LIA_OK;
}

static int pg_bulk_open(void *conn, const char *table, const char *cols, int ncols, void **out)
{
    pgc *c = conn;
    pgbulk *k;
    lia_buf sql;
    PGresult *r;
    int rc = LIA_OK;
    static const char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
    if (ncols < 1 || ncols > 1600)
        return LIA_EINVAL;
    if (!(k = calloc(1, sizeof *k)))
        return LIA_ENOMEM;
    k->c = c;
    k->ncols = ncols;
    lia_buf_init(&k->b, 4 * (size_t)COPY_CHUNK);
    lia_buf_init(&sql, 4096);
    lia_buf_printf(&sql, "COPY %s(%s) FROM STDIN (FORMAT binary)", table, cols);
    if (sql.err) {
        lia_buf_free(&sql);
        lia_buf_free(&k->b);
        free(k);
        return LIA_ENOMEM;
    }
    r = PQexec(c->c, sql.ptr);
    lia_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        rc = res_code(c, r);
    PQclear(r);
    if (rc) {
        lia_buf_free(&k->b);
        free(k);
        return rc;
    }
    lia_buf_append(&k->b, sig, sizeof sig);
    be32(&k->b, 0); /* flags */
    be32(&k->b, 0); /* header extension */
    *out = k;
    return LIA_OK;
}

static void pg_bulk_value(void *bulk, int kind, int64_t i, double d, const void *p, size_t len)
{
    pgbulk *k = bulk;
    if (k->col == 0)
        be16(&k->b, (uint16_t)k->ncols);
    if (++k->col > k->ncols || len > INT32_MAX) {
        k->failed = 1;
        return;
    }
    switch (kind) {
    case 'i':
        be32(&k->b, 8);
        be64(&k->b, (uint64_t)i);
        break;
    case 'd': {
        uint64_t u;
        memcpy(&u, &d, 8);
        be32(&k->b, 8);
        be64(&k->b, u);
        break;
    }
    case 't':
    case 'b':
        be32(&k->b, (uint32_t)len);
        lia_buf_append(&k->b, p ? p : "", len);
        break;
    default: be32(&k->b, 0xffffffffu); break; /* NULL: length -1 */
    }
}

static int pg_bulk_row(void *bulk)
{
    pgbulk *k = bulk;
    if (k->failed || k->col != k->ncols) {
        set_msg(k->c, "bulk insert: a row's columns do not match the table's list");
        k->failed = 1;
        return LIA_EINVAL;
    }
    k->col = 0;
    return k->b.len >= COPY_CHUNK || k->b.err ? copy_flush(k) : LIA_OK;
}

static int pg_bulk_close(void *bulk, int commit)
{
    pgbulk *k = bulk;
    pgc *c = k->c;
    PGresult *r;
    int rc = LIA_OK;
    if (commit && !k->failed) {
        be16(&k->b, 0xffffu); /* trailer */
        rc = copy_flush(k);
    }
    if (PQputCopyEnd(c->c, commit && !k->failed && rc == LIA_OK ? NULL : "abandoned by the caller") != 1) {
        set_msg(c, PQerrorMessage(c->c));
        rc = rc ? rc : LIA_ESTORE;
    }
    while ((r = PQgetResult(c->c))) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            count_changes(c, r);
        else if (rc == LIA_OK && commit && !k->failed)
            rc = res_code(c, r);
        PQclear(r);
    }
    if (rc == LIA_OK && commit && k->failed)
        rc = LIA_EINVAL;
    lia_buf_free(&k->b);
    free(k);
    return rc;
}

/* A block of n ids: the sequence moved on by n under an advisory lock
 * (session level: held for the two statements only, not the transaction),
 * so two loaders never interleave (route's per-batch counts read id
 * ranges) and the identity's own nextval of other inserts cannot land
 * inside the block (nextval is atomic; the block is setval's). */
static int pg_reserve_ids(void *conn, const char *table, const char *column, int64_t n, int64_t *first)
{
    pgc *c = conn;
    char sql[512], num[32];
    const char *v[1] = {num};
    PGresult *r;
    int rc;
    if (n < 1)
        return LIA_EINVAL;
    snprintf(num, sizeof num, "%lld", (long long)n);
    if ((rc = simple(c, "SELECT pg_advisory_lock(7301, 2)")))
        return rc;
    snprintf(sql, sizeof sql,
             "SELECT setval(s, nextval(s) + $1::bigint - 1) FROM pg_get_serial_sequence('%s', '%s') AS s",
             table, column);
    r = PQexecParams(c->c, sql, 1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        *first = strtoll(PQgetvalue(r, 0, 0), NULL, 10) - n + 1;
        rc = LIA_OK;
    } else {
        rc = PQresultStatus(r) == PGRES_TUPLES_OK ? LIA_ESTORE : res_code(c, r);
        if (rc == LIA_ESTORE && PQresultStatus(r) == PGRES_TUPLES_OK)
            set_msg(c, "reserving ids: the column has no sequence");
    }
    PQclear(r);
    /* unlock even after a failure: outside a failed transaction it runs */
    r = PQexec(c->c, "SELECT pg_advisory_unlock(7301, 2)");
    PQclear(r);
    return rc;
}

const lia_db_driver lia__pg_driver = {
    .name = "postgresql",
    .begin_sql = "BEGIN",
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .path = pg_path,
    .exec = pg_exec,
    .exec_native = pg_exec_native,
    .prepare = pg_prepare,
    .prepare_native = pg_prepare_native,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .clear = pg_clear,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_null = pg_col_null,
    .col_type = pg_col_type,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .changes = pg_changes,
    .last_id = pg_last_id,
    .in_tx = pg_in_tx,
    .has_table = pg_has_table,
    .has_index = pg_has_index,
    .has_column = pg_has_column,
    .function = pg_function,
    .check = pg_check,
    .set_cache = pg_set_cache,
    .sort_on_disk = pg_sort_on_disk,
    .cache = pg_cache,
    .durable = pg_durable,
    .busy_timeout = pg_busy_timeout,
    .readonly = pg_readonly,
    .sys_errno = pg_sys_errno,
    .bulk_open = pg_bulk_open,
    .bulk_value = pg_bulk_value,
    .bulk_row = pg_bulk_row,
    .bulk_close = pg_bulk_close,
    .reserve_ids = pg_reserve_ids,
};
