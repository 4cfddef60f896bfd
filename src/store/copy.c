/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Copying a whole store (liaison/store.h, "copying a whole store";
 * docs/store.md, "Copying a store"): SQLite to PostgreSQL, back, or to
 * another SQLite file.
 *
 *   dst       opened as any store is (the events store's schema), then
 *             refused unless empty or a copy of src begun before (the one
 *             row of store_copy_source says which source, by a
 *             fingerprint: the first report's hash and the first audit
 *             record's leaf); then every module's migrations (modules[]
 *             below), so dst is a real store, not a dump
 *   plan      src's tables (catalog of db.h) less the registry (lia_schema),
 *             this copy's own tables and the SQLite partitions, which are
 *             the one table "events"; each needs its table in dst with
 *             every column, in an order where a table comes after those its
 *             foreign keys name; each module's version must be the same
 *             on both sides
 *   a table   rows in primary-key order, one batch per transaction: the
 *             rows, then store_copy(tbl, last_key, rows, done) moved on,
 *             commit. Killed anywhere, the batch is all there with its
 *             progress row or not at all, and the next run continues after
 *             last_key. Before its first batch the table's rows in dst
 *             (what dst's migrations put there: a default row) go, in that
 *             batch's transaction. A table without a primary key is one
 *             batch. Values go as src holds them (SQLite keeps each value's
 *             own type); into PostgreSQL by COPY binary (lia__db_bulk_*) in
 *             the column's type, or an INSERT for a column of another type.
 *   events    on SQLite they keep their ids in dst's own partitions
 *             (lia__parts_next_at), sealed as they fill; rollups are tables
 *             like any other, copied as they are, so nothing is counted
 *             twice
 *   after     PostgreSQL's identity sequences moved past the copied ids;
 *             the raw reports' archive files copied (each by a temporary
 *             file renamed, so a kill leaves none half written); each
 *             table counted on both sides.
 *
 * This file writes other modules' tables, the one exception to "a module
 * writes only the tables it creates": it writes them as they are, never
 * with SQL of its own about their content. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/internal.h"
#include "acquire/registry.h"
#include "advisory/internal.h"
#include "api/api.h"
#include "audit/log.h"
#include "bus/schema.h"
#include "console/session.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/path.h"
#include "drill/internal.h"
#include "enrich/internal.h"
#include "http/rate.h"
#include "store/lease.h"
#include "incident/internal.h"
#include "liaison/taxii.h"
#include "mail/internal.h"
#include "node/internal.h"
#include "notify/internal.h"
#include "report/internal.h"
#include "route/decisions.h"
#include "route/internal.h"
#include "store/db.h"
#include "store/events.h"
#include "store/parts.h"

#define MAX_KEY  8
#define KEY_TEXT 4096 /* a key as recorded in store_copy.last_key */

static const lia_migration copy_migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS store_copy_source(id INTEGER PRIMARY KEY CHECK(id = 1),"
            "  source TEXT NOT NULL, fingerprint TEXT NOT NULL, started INTEGER NOT NULL, finished INTEGER);"
            "CREATE TABLE IF NOT EXISTS store_copy(tbl TEXT PRIMARY KEY, last_key TEXT,"
            "  rows INTEGER NOT NULL, done INTEGER NOT NULL);"},
};
static const lia_schema copy_schema = {"store.copy", 1, copy_migrations, NULL, .pg = 1};

/* ---- every module's tables ---- */

static int m_prune(lia_store *s, lia_error *err)
{
    return lia__store_prune_schema(lia__store_db(s), err);
}
static int m_audit(lia_store *s, lia_error *err)
{
    return lia__audit_schema(lia__store_db(s), err);
}
static int m_feeds(lia_store *s, lia_error *err)
{
    lia_db *db;
    return lia__feeds_db(s, &db, err);
}
static int m_route(lia_store *s, lia_error *err)
{
    return lia__route_schema(s, err); /* the directory (party) first */
}
static int m_dedup(lia_store *s, lia_error *err)
{
    return lia__dedup_schema(lia__store_db(s), err);
}
static int m_accounts(lia_store *s, lia_error *err)
{
    return lia__accounts_schema(lia__store_db(s), err);
}
static int m_sessions(lia_store *s, lia_error *err)
{
    return lia__session_schema(lia__store_db(s), err);
}
static int m_incident(lia_store *s, lia_error *err)
{
    return lia__incident_schema(lia__store_db(s), err);
}
static int m_notify(lia_store *s, lia_error *err)
{
    return lia__notify_schema(lia__store_db(s), err);
}
static int m_sla(lia_store *s, lia_error *err)
{
    return lia__sla_schema(lia__store_db(s), err);
}
static int m_node(lia_store *s, lia_error *err)
{
    return lia__node_schema(lia__store_db(s), err);
}
static int m_mail(lia_store *s, lia_error *err)
{
    return lia__mail_schema(lia__store_db(s), err);
}
static int m_advisory(lia_store *s, lia_error *err)
{
    return lia__advisory_schema(s, err);
}
static int m_notify_advisory(lia_store *s, lia_error *err)
{
    return lia__notify_advisory_schema(lia__store_db(s), err);
}
static int m_bus(lia_store *s, lia_error *err)
{
    return lia__bus_schema(lia__store_db(s), err);
}
static int m_http_rate(lia_store *s, lia_error *err)
{
    return lia__http_rate_schema(lia__store_db(s), err);
}
static int m_lease(lia_store *s, lia_error *err)
{
    return lia__lease_schema(lia__store_db(s), err);
}
static int m_api_secret(lia_store *s, lia_error *err)
{
    return lia__api_secret_schema(lia__store_db(s), err);
}

/* The events store's own (store, store.parts, store.rollup) are made when
 * a store opens. A new module with tables: one line here. */
static const struct {
    const char *name;
    int (*schema)(lia_store *s, lia_error *err);
} modules[] = {
    {"store.prune", m_prune},
    {"audit", m_audit},
    {"feeds", m_feeds},
    {"route", m_route},
    {"dedup", m_dedup},
    {"accounts", m_accounts},
    {"console_sessions", m_sessions},
    {"taxii", lia_taxii_init},
    {"incident", m_incident},
    {"notify", m_notify},
    {"sla", m_sla},
    {"node", m_node},
    {"mail", m_mail},
    {"report", lia__report_schema},
    {"advisory", m_advisory},
    {"notify_advisory", m_notify_advisory},
    {"bus", m_bus},
    {"http_rate", m_http_rate},
    {"store_lease", m_lease},
    {"api_secret", m_api_secret},
    {"drill", lia__drill_schema},
};

/* Every module's migrations on s. A module PostgreSQL does not support yet
 * is left out there (its tables then missing: the plan says so if src has
 * rows in them); on a read-only store (src) nothing is migrated. */
static int init_modules(lia_store *s, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    for (size_t i = 0; i < sizeof modules / sizeof *modules; i++) {
        lia_error e;
        int rc;
        lia_error_clear(&e);
        rc = modules[i].schema(s, &e);
        if (rc == LIA_OK || (rc == LIA_EUNSUPPORTED && lia__db_is_pg(db)) || rc == LIA_EREADONLY)
            continue;
        if (err)
            *err = e;
        return rc;
    }
    return LIA_OK;
}

/* ---- small helpers ---- */

static int scalar(lia_db *db, const char *what, const char *sql, int64_t *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare_once(db, what, sql, &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    *out = rc == LIA_DB_ROW ? lia__db_col_int64(st, 0) : 0;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int count_rows(lia_db *db, const char *table, int64_t *out, lia_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    return scalar(db, "store copy: counting rows", sql, out, err);
}

static void note(const lia_copy_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const lia_copy_opts *o, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    if (!o->note)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    o->note(o->ud, text);
}

static void hex(lia_buf *b, const unsigned char *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        lia_buf_putc(b, d[p[i] >> 4]);
        lia_buf_putc(b, d[p[i] & 15]);
    }
}

static int unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (x < 0)
                return -1;
            v = v * 16 + x;
        }
        out[i] = (unsigned char)v;
    }
    return (n % 2) ? -1 : 0;
}

/* What names src in store_copy_source: a file's real path, a URI without
 * its password. */
static void source_name(const char *path, char *out, size_t n)
{
    const char *p = strncmp(path, "sqlite:", 7) == 0 ? path + 7 : path;
    char real[PATH_MAX];
    if (!lia__db_is_pg_uri(p)) {
        snprintf(out, n, "%s", realpath(p, real) ? real : p);
        return;
    }
    const char *scheme = strstr(p, "://") + 3, *at = strchr(scheme, '@'), *colon = strchr(scheme, ':');
    if (at && colon && colon < at)
        snprintf(out, n, "%.*s%s", (int)(colon - p), p, at);
    else
        snprintf(out, n, "%s", p);
}

/* The first report's hash and the first audit record's leaf: what a copy
 * begun before must have been copying. */
static int fingerprint(lia_db *db, const char *name, lia_buf *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    lia_buf_puts(out, "reports:");
    if ((rc = lia__db_prepare(db, "store copy: the source's first report",
                              "SELECT hash FROM reports ORDER BY id LIMIT 1", &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        lia_buf_puts(out, lia__db_col_text(st, 0));
    lia__db_done(st);
    if (rc < 0)
        return rc;
    lia_buf_puts(out, ";audit:");
    if (lia__db_has_table(db, "audit_log")) {
        if ((rc = lia__db_prepare(db, "store copy: the source's first audit record",
                                  "SELECT leaf FROM audit_log ORDER BY seq LIMIT 1", &st, err)))
            return rc;
        if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
            size_t n;
            const void *p = lia__db_col_blob(st, 0, &n);
            hex(out, p, n);
        }
        lia__db_done(st);
        if (rc < 0)
            return rc;
    }
    if (strcmp(lia_buf_cstr(out), "reports:;audit:") == 0) /* nothing to tell it by: its name */
        lia_buf_printf(out, ";empty:%s", name);
    return out->err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory") : LIA_OK;
}

/* ---- the plan ---- */

typedef struct table {
    char name[LIA_DB_NAME_MAX];
    lia_db_col *cols;               /* src's columns, copied in this order */
    char *dkind;                    /* dst's kind of each */
    char (*dtype)[LIA_DB_NAME_MAX]; /* and its type */
    size_t ncols;
    int key[MAX_KEY]; /* src's primary key: indexes into cols, in key order */
    size_t nkey;
    int events;                  /* the events (src: partitions on SQLite) */
    int dedup;                   /* dedup's state (SQLite: generations dedup_G, PostgreSQL: one table) */
    int insert;                  /* dst on PostgreSQL has a column COPY binary cannot load: staged, cast */
    char ident[LIA_DB_NAME_MAX]; /* dst's identity column ("" if none) */
    char **refs;                 /* the tables dst's foreign keys of this one name */
    size_t nrefs;
    int placed;
} table;

typedef struct copy {
    lia_store *src_s, *dst_s;
    lia_db *src, *dst;
    const lia_copy_opts *o;
    lia_copy_result *res;
    size_t batch;
    table *t;
    size_t nt;
    lia__parts *parts;      /* dst's partitions (SQLite) */
    lia__dedup_sink *dsink; /* dst's dedup state, during a batch of it */
    lia_buf sql, key;
} copy;

static const char *const event_cols[] = {"id",      "report_id", "line",  "time", "src_ip",
                                         "src_asn", "src_cc",    "class", "tlp",  "body"};
#define NEVCOLS (sizeof event_cols / sizeof *event_cols)
static const char *const dedup_cols[] = {"key", "event_id", "first", "last", "count"};
#define NDEDUPCOLS (sizeof dedup_cols / sizeof *dedup_cols)

static void table_free(table *t)
{
    free(t->cols);
    free(t->dkind);
    free(t->dtype);
    free(t->refs);
}

static int is_partition(const char *name)
{
    const char *p = name + 7;
    if (strncmp(name, "events_", 7) != 0 || !*p)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* dedup_G, a generation of dedup's state on SQLite */
static int is_generation(const char *name)
{
    const char *p = name + 6;
    if (strncmp(name, "dedup_", 6) != 0 || !*p)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* Tables that are not copied as tables: the registry (dst's own, made by
 * its migrations), this copy's progress, SQLite's partitions and their
 * catalog (the table "events"), dedup's state (SQLite's generations or
 * PostgreSQL's one table: the table "dedup"). */
static int skipped(const char *name)
{
    return strcmp(name, "lia_schema") == 0 || strcmp(name, "store_copy") == 0 ||
           strcmp(name, "store_copy_source") == 0 || strcmp(name, "event_part") == 0 || is_partition(name) ||
           strcmp(name, "dedup") == 0 || is_generation(name);
}

static int find_col(const lia_db_col *c, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(c[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* src's and dst's columns of one table: dst must have each of src's. *ok 0
 * (with a note) when dst has no such table and src's is empty. */
static int plan_table(copy *c, table *t, int *ok, lia_error *err)
{
    lia_db_col *dc = NULL;
    size_t nd = 0;
    int rc;
    *ok = 0;
    if (t->events) {
        /* the events store's own table: its columns as it writes them */
        if (!(t->cols = calloc(NEVCOLS, sizeof *t->cols)))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        for (size_t i = 0; i < NEVCOLS; i++) {
            snprintf(t->cols[i].name, sizeof t->cols[i].name, "%s", event_cols[i]);
            t->cols[i].kind = i == 4 ? 'b' : i == 6 || i == 9 ? 't' : 'i';
        }
        t->cols[0].pk = 1;
        t->ncols = NEVCOLS;
        if (lia__db_is_pg(c->dst) && (rc = lia__db_columns(c->dst, "events", &dc, &nd, err)))
            return rc;
    } else if (t->dedup) {
        /* dedup's (lia__dedup_sink_* writes them as dst's backend keeps them) */
        if (!(t->cols = calloc(NDEDUPCOLS, sizeof *t->cols)))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        for (size_t i = 0; i < NDEDUPCOLS; i++) {
            snprintf(t->cols[i].name, sizeof t->cols[i].name, "%s", dedup_cols[i]);
            t->cols[i].kind = 'i';
        }
        t->cols[0].pk = 1;
        t->ncols = NDEDUPCOLS;
    } else {
        if ((rc = lia__db_columns(c->src, t->name, &t->cols, &t->ncols, err)) ||
            (rc = lia__db_columns(c->dst, t->name, &dc, &nd, err)))
            return rc;
        if (nd == 0) {
            int64_t n = 0;
            free(dc);
            if ((rc = count_rows(c->src, t->name, &n, err)))
                return rc;
            if (n)
                return lia_error_set(err, LIA_EUNSUPPORTED, "table", t->name, strlen(t->name),
                                     "table %s of the source (%lld rows) has no place in the destination: a"
                                     " module this program does not make there (on PostgreSQL: not"
                                     " supported yet, issue 12)",
                                     t->name, (long long)n);
            note(c->o, "table %s: empty in the source and not in the destination, not copied", t->name);
            return LIA_OK;
        }
    }
    if (!(t->dkind = calloc(t->ncols + 1, 1)) || !(t->dtype = calloc(t->ncols + 1, sizeof *t->dtype))) {
        free(dc);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < t->ncols; i++) {
        int j = dc ? find_col(dc, nd, t->cols[i].name) : -1;
        if (dc && j < 0) {
            rc = lia_error_set(err, LIA_ESCHEMA, "column", t->cols[i].name, strlen(t->cols[i].name),
                               "column %s.%s of the source is not in the destination", t->name,
                               t->cols[i].name);
            free(dc);
            return rc;
        }
        t->dkind[i] = dc ? dc[j].kind : t->cols[i].kind;
        snprintf(t->dtype[i], sizeof t->dtype[i], "%s", dc ? dc[j].type : t->cols[i].type);
        if (t->dkind[i] == '?' && lia__db_is_pg(c->dst))
            t->insert = 1;
        if (t->cols[i].pk > 0 && t->cols[i].pk <= MAX_KEY) {
            t->key[t->cols[i].pk - 1] = (int)i;
            if ((size_t)t->cols[i].pk > t->nkey)
                t->nkey = (size_t)t->cols[i].pk;
        } else if (t->cols[i].pk > MAX_KEY) {
            free(dc);
            return lia_error_set(err, LIA_ELIMIT, "table", t->name, strlen(t->name),
                                 "table %s: a primary key of more than %d columns", t->name, MAX_KEY);
        }
    }
    for (size_t j = 0; dc && j < nd; j++)
        if (dc[j].identity)
            snprintf(t->ident, sizeof t->ident, "%s", dc[j].name);
    free(dc);
    if ((rc = t->events || t->dedup ? LIA_OK : lia__db_references(c->dst, t->name, &t->refs, &t->nrefs, err)))
        return rc;
    *ok = 1;
    return LIA_OK;
}

/* Each module's version the same on both sides (src brought up to date
 * before, unless it is read-only or newer). */
static int check_versions(copy *c, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(c->src, "store copy: the source's modules",
                              "SELECT module, version FROM lia_schema ORDER BY module", &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *m = lia__db_col_text(st, 0);
        int sv = (int)lia__db_col_int64(st, 1), dv;
        if (!m || strcmp(m, copy_schema.name) == 0 ||
            (strcmp(m, "store.parts") == 0 && lia__db_is_pg(c->dst)))
            continue;
        dv = lia__db_schema_version(c->dst, m);
        if (dv == 0 && lia__db_is_pg(c->dst))
            continue; /* a module not on PostgreSQL yet: its tables, if they hold rows, are refused by name */
        if (dv != sv) {
            rc = lia_error_set(err, LIA_ESCHEMA, "module", m, strlen(m),
                               dv == 0 ? "module %s of the source (version %d) is unknown to this program"
                                       : "module %s is at version %d in the source, %d here: bring the"
                                         " source up to date first (run this program on it)",
                               m, sv, dv);
            lia__db_done(st);
            return rc;
        }
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const table *)a)->name, ((const table *)b)->name);
}

/* The tables to copy, in an order where each comes after the tables its
 * foreign keys name (then by name). */
static int make_plan(copy *c, lia_error *err)
{
    char **names = NULL;
    size_t n = 0, k = 0;
    table *v, *out;
    int rc, have_events = 0, have_dedup = 0;
    if ((rc = lia__db_tables(c->src, &names, &n, err)))
        return rc;
    if (!(v = calloc(n + 2, sizeof *v))) {
        free(names);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "events") == 0 || strcmp(names[i], "event_part") == 0) {
            have_events = 1;
            continue;
        }
        if (strcmp(names[i], "dedup") == 0 || is_generation(names[i]))
            have_dedup = 1;
        if (skipped(names[i]) || strlen(names[i]) >= LIA_DB_NAME_MAX)
            continue;
        snprintf(v[k++].name, sizeof v->name, "%s", names[i]);
    }
    free(names);
    if (have_events) {
        snprintf(v[k].name, sizeof v->name, "events");
        v[k++].events = 1;
    }
    if (have_dedup || lia__db_schema_version(c->src, "dedup") >= 2) { /* (no generation yet: the view only) */
        snprintf(v[k].name, sizeof v->name, "dedup");
        v[k++].dedup = 1;
    }
    qsort(v, k, sizeof *v, by_name);
    for (size_t i = 0; i < k; i++) {
        int ok;
        if ((rc = plan_table(c, &v[i], &ok, err)))
            goto fail;
        if (!ok)
            v[i].placed = -1;
    }
    if (!(out = calloc(k + 1, sizeof *out))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto fail;
    }
    c->t = out;
    c->nt = 0;
    for (;;) {
        size_t pick = k;
        for (size_t i = 0; i < k && pick == k; i++) {
            int ready = !v[i].placed;
            for (size_t r = 0; ready && r < v[i].nrefs; r++)
                for (size_t j = 0; j < k; j++)
                    if (!v[j].placed && strcmp(v[j].name, v[i].refs[r]) == 0)
                        ready = 0;
            for (size_t j = 0; ready && v[i].events && j < k; j++) /* its partitions name the reports */
                if (!v[j].placed && strcmp(v[j].name, "reports") == 0)
                    ready = 0;
            for (size_t j = 0; ready && v[i].dedup && j < k; j++) /* the generations' span is there */
                if (!v[j].placed && strcmp(v[j].name, "enrich_meta") == 0)
                    ready = 0;
            if (ready)
                pick = i;
        }
        for (size_t i = 0; i < k && pick == k; i++) /* a cycle: the first left, by name */
            if (!v[i].placed)
                pick = i;
        if (pick == k)
            break;
        out[c->nt++] = v[pick]; /* its allocations move with it */
        v[pick].cols = NULL;
        v[pick].dkind = NULL;
        v[pick].dtype = NULL;
        v[pick].refs = NULL;
        v[pick].placed = 1;
    }
    for (size_t i = 0; i < k; i++)
        table_free(&v[i]);
    free(v);
    return LIA_OK;
fail:
    for (size_t i = 0; i < k; i++)
        table_free(&v[i]);
    free(v);
    return rc;
}

/* ---- where dst stands ---- */

/* dst a copy of src begun before (*resumed 1), or empty: then it becomes
 * one (store_copy_source written). Anything else is LIA_EEXIST. */
static int dst_state(copy *c, const char *sname, const char *fp, lia_error *err)
{
    char **names = NULL;
    size_t n = 0;
    lia_stmt *st;
    int rc;
    if (lia__db_has_table(c->dst, "store_copy_source")) {
        if ((rc = lia__db_prepare(c->dst, "store copy: the copy begun before",
                                  "SELECT source, fingerprint, started FROM store_copy_source WHERE id = 1",
                                  &st, err)))
            return rc;
        rc = lia__db_step(st, err);
        if (rc == LIA_DB_ROW) {
            const char *was = lia__db_col_text(st, 0), *wfp = lia__db_col_text(st, 1);
            char t[LIA_TIME_TEXT];
            lia_time_format(lia__db_col_int64(st, 2), t, sizeof t);
            if (strcmp(wfp ? wfp : "", fp) != 0)
                rc = lia_error_set(err, LIA_EEXIST, "destination", NULL, 0,
                                   "the destination holds a copy of another store (%s, begun %s), not of %s",
                                   was ? was : "?", t, sname);
            else
                rc = LIA_OK;
            lia__db_done(st);
            c->res->resumed = rc == LIA_OK;
            return rc;
        }
        lia__db_done(st);
        if (rc < 0)
            return rc;
    }
    if ((rc = lia__db_tables(c->dst, &names, &n, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t k = 0;
        if (strcmp(names[i], "lia_schema") == 0 || strcmp(names[i], "event_part") == 0 ||
            strncmp(names[i], "store_copy", 10) == 0)
            continue;
        if ((rc = count_rows(c->dst, names[i], &k, err)))
            break;
        if (k) {
            rc = lia_error_set(err, LIA_EEXIST, "destination", NULL, 0,
                               "the destination is not empty (table %s holds %lld rows) and holds no copy of"
                               " %s: a store is copied into an empty one",
                               names[i], (long long)k, sname);
            break;
        }
    }
    free(names);
    if (rc)
        return rc;
    if ((rc = lia__db_schema(c->dst, &copy_schema, err)) ||
        (rc = lia__db_prepare(
             c->dst, "store copy: recording the source",
             "INSERT INTO store_copy_source(id, source, fingerprint, started) VALUES(1, ?, ?, ?)"
             " ON CONFLICT(id) DO NOTHING",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, sname, -1);
    lia__db_bind_text(st, 2, fp, -1);
    lia__db_bind_int64(st, 3, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* ---- one table ---- */

/* The key of st's current row, as store_copy.last_key: per column i123,
 * d1.5, t<hex>, b<hex>, joined by ','. */
static void key_text(copy *c, table *t, lia_stmt *st)
{
    lia_buf_reset(&c->key);
    for (size_t k = 0; k < t->nkey; k++) {
        int i = t->key[k];
        char ty = lia__db_col_type(st, i);
        size_t n;
        const void *p;
        if (k)
            lia_buf_putc(&c->key, ',');
        lia_buf_putc(&c->key, ty);
        switch (ty) {
        case 'i': lia_buf_printf(&c->key, "%lld", (long long)lia__db_col_int64(st, i)); break;
        case 'd': lia_buf_printf(&c->key, "%.17g", lia__db_col_double(st, i)); break;
        case 't':
            p = lia__db_col_text(st, i);
            hex(&c->key, p, lia__db_col_bytes(st, i));
            break;
        case 'b':
            p = lia__db_col_blob(st, i, &n);
            hex(&c->key, p, n);
            break;
        default: break;
        }
    }
}

/* Bind the key last_key to st from ?first on. The bytes of text and blob
 * keys go to *hold (freed by the caller after the step). */
static int bind_key(table *t, lia_stmt *st, const char *last, int first, unsigned char **hold, lia_error *err)
{
    size_t len = strlen(last);
    unsigned char *buf = malloc(len / 2 + 1), *w = buf;
    const char *p = last;
    if (!buf)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    *hold = buf;
    for (size_t k = 0; k < t->nkey; k++) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char num[64];
        if (n == 0 || (p[0] != 'i' && p[0] != 'd' && p[0] != 't' && p[0] != 'b') ||
            ((p[0] == 'i' || p[0] == 'd') && n - 1 >= sizeof num))
            goto bad;
        if (p[0] == 'i' || p[0] == 'd') {
            memcpy(num, p + 1, n - 1);
            num[n - 1] = '\0';
            if (p[0] == 'i')
                lia__db_bind_int64(st, first + (int)k, strtoll(num, NULL, 10));
            else
                lia__db_bind_double(st, first + (int)k, strtod(num, NULL));
        } else {
            if (unhex(p + 1, n - 1, w))
                goto bad;
            if (p[0] == 't')
                lia__db_bind_text(st, first + (int)k, (const char *)w, (ptrdiff_t)((n - 1) / 2));
            else
                lia__db_bind_blob(st, first + (int)k, w, (n - 1) / 2);
            w += (n - 1) / 2;
        }
        p = end ? end + 1 : p + n;
    }
    return LIA_OK;
bad:
    return lia_error_set(err, LIA_ESTORE, "store_copy.last_key", last, strlen(last),
                         "table %s: the recorded progress is not a key", t->name);
}

static void quoted_cols(lia_buf *b, const table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        lia_buf_printf(b, "%s\"%s\"", i ? "," : "", t->cols[i].name);
}

/* dedup's state, generation after generation (SQLite; PostgreSQL: the
 * one table, generation 0), each in key order; a row's sixth column is its
 * generation. last: "G,KEY" of the last row copied. */
static int fetch_dedup(copy *c, table *t, const char *last, lia_stmt **out, int *rc_out, lia_error *err)
{
    int64_t *gens = NULL, g0 = 0, k0 = 0, one = 0;
    size_t ng = 0;
    int rc, step = LIA_DB_DONE, have = 0;
    if (last) {
        char *end;
        g0 = strtoll(last, &end, 10);
        if (*end != ',')
            return lia_error_set(err, LIA_ESTORE, "store_copy.last_key", last, strlen(last),
                                 "table %s: the recorded progress is not a generation and a key", t->name);
        k0 = strtoll(end + 1, &end, 10);
        if (*end)
            return lia_error_set(err, LIA_ESTORE, "store_copy.last_key", last, strlen(last),
                                 "table %s: the recorded progress is not a generation and a key", t->name);
        have = 1;
    }
    if ((rc = lia__dedup_gens(c->src, &gens, &ng, err)))
        return rc;
    if (!ng && (lia__db_is_pg(c->src) || lia__db_schema_version(c->src, "dedup") < 2)) {
        gens = &one; /* the one table dedup */
        ng = 1;
    }
    *out = NULL;
    for (size_t i = 0; i < ng; i++) {
        int from = have && gens[i] == g0;
        lia_stmt *st;
        if (have && gens[i] < g0)
            continue;
        lia_buf_reset(&c->sql);
        lia_buf_puts(&c->sql, "SELECT ");
        quoted_cols(&c->sql, t);
        if (gens == &one)
            lia_buf_printf(&c->sql, ", 0 FROM dedup");
        else
            lia_buf_printf(&c->sql, ", %lld FROM dedup_%lld", (long long)gens[i], (long long)gens[i]);
        lia_buf_printf(&c->sql, "%s ORDER BY key LIMIT %zu", from ? " WHERE key > ?" : "", c->batch);
        if ((rc = c->sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory")
                             : lia__db_prepare_once(c->src, "store copy: reading dedup's state",
                                                    lia_buf_cstr(&c->sql), &st, err)))
            break;
        if (from)
            lia__db_bind_int64(st, 1, k0);
        if ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
            *out = st;
            break;
        }
        lia__db_done(st);
        if ((rc = step < 0 ? step : LIA_OK))
            break;
    }
    if (gens != &one)
        free(gens);
    *rc_out = step;
    return rc;
}

/* The next batch of src's rows after last (NULL: from the first), into
 * *out (stepped once: *rc_out LIA_DB_ROW or LIA_DB_DONE). */
static int fetch(copy *c, table *t, const char *last, lia_stmt **out, int *rc_out, unsigned char **hold,
                 lia_error *err)
{
    lia__part *parts = NULL;
    size_t np = 0;
    int rc, step = LIA_DB_DONE;
    *out = NULL;
    if (t->events && lia__parts_on(c->src)) {
        int64_t after = last ? strtoll(last + 1, NULL, 10) : 0;
        if ((rc = lia__parts_list(c->src, 0, 0, after, &parts, &np, err)))
            return rc;
        for (size_t i = 0; i < np; i++) {
            lia_stmt *st;
            lia_buf_reset(&c->sql);
            lia_buf_puts(&c->sql, "SELECT ");
            quoted_cols(&c->sql, t);
            lia_buf_printf(&c->sql, " FROM events_%lld WHERE id > ? ORDER BY id LIMIT %zu",
                           (long long)parts[i].n, c->batch);
            if ((rc = lia__db_prepare_once(c->src, "store copy: reading events", lia_buf_cstr(&c->sql), &st,
                                           err)))
                break;
            lia__db_bind_int64(st, 1, after);
            if ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
                *out = st;
                break;
            }
            lia__db_done(st);
            if ((rc = step < 0 ? step : LIA_OK))
                break;
        }
        free(parts);
        *rc_out = step;
        return rc;
    }
    if (t->dedup)
        return fetch_dedup(c, t, last, out, rc_out, err);
    lia_buf_reset(&c->sql);
    lia_buf_puts(&c->sql, "SELECT ");
    quoted_cols(&c->sql, t);
    lia_buf_printf(&c->sql, " FROM \"%s\"", t->name);
    if (t->nkey) {
        if (last) {
            lia_buf_puts(&c->sql, t->nkey > 1 ? " WHERE (" : " WHERE ");
            for (size_t k = 0; k < t->nkey; k++)
                lia_buf_printf(&c->sql, "%s\"%s\"", k ? "," : "", t->cols[t->key[k]].name);
            lia_buf_puts(&c->sql, t->nkey > 1 ? ") > (" : " > ");
            for (size_t k = 0; k < t->nkey; k++)
                lia_buf_printf(&c->sql, "%s?", k ? "," : "");
            lia_buf_puts(&c->sql, t->nkey > 1 ? ")" : "");
        }
        lia_buf_puts(&c->sql, " ORDER BY ");
        for (size_t k = 0; k < t->nkey; k++)
            lia_buf_printf(&c->sql, "%s\"%s\"", k ? "," : "", t->cols[t->key[k]].name);
        lia_buf_printf(&c->sql, " LIMIT %zu", c->batch);
    }
    if (c->sql.err)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if ((rc =
             lia__db_prepare_once(c->src, "store copy: reading the source", lia_buf_cstr(&c->sql), out, err)))
        return rc;
    if (last && t->nkey && (rc = bind_key(t, *out, last, 1, hold, err))) {
        lia__db_done(*out);
        *out = NULL;
        return rc;
    }
    if ((step = lia__db_step(*out, err)) < 0) {
        lia__db_done(*out);
        *out = NULL;
        return step;
    }
    *rc_out = step;
    return LIA_OK;
}

/* Where a row's values go: a bulk load, or a statement (pos: the
 * parameter of each column, 1-based). */
typedef struct sink {
    lia_bulk *bulk;
    lia_stmt *st;
    int pos[64];
} sink;

static int put_value(copy *c, table *t, sink *k, lia_stmt *st, size_t i, lia_error *err)
{
    char ty = lia__db_col_type(st, (int)i), want = ty;
    const void *p;
    size_t n;
    if (ty != 'n' && lia__db_is_pg(c->dst)) {          /* its column's type there */
        want = t->dkind[i] == '?' ? 't' : t->dkind[i]; /* '?': staged as text, cast by PostgreSQL */
        if ((want == 'i' || want == 'd') && (ty == 't' || ty == 'b'))
            return lia_error_set(
                err, LIA_EINVAL, "column", t->cols[i].name, strlen(t->cols[i].name),
                "table %s: column %s holds a text value (key %s and after), its column in the"
                " destination is a number",
                t->name, t->cols[i].name, lia_buf_cstr(&c->key));
    }
    switch (want) {
    case 'i':
        if (k->bulk)
            lia__db_bulk_int64(k->bulk, lia__db_col_int64(st, (int)i));
        else
            lia__db_bind_int64(k->st, k->pos[i], lia__db_col_int64(st, (int)i));
        break;
    case 'd':
        if (k->bulk)
            lia__db_bulk_double(k->bulk, lia__db_col_double(st, (int)i));
        else
            lia__db_bind_double(k->st, k->pos[i], lia__db_col_double(st, (int)i));
        break;
    case 't':
        p = lia__db_col_text(st, (int)i);
        n = lia__db_col_bytes(st, (int)i);
        if (k->bulk)
            lia__db_bulk_text(k->bulk, p ? p : "", (ptrdiff_t)n);
        else
            lia__db_bind_text(k->st, k->pos[i], p ? p : "", (ptrdiff_t)n);
        break;
    case 'b':
        p = lia__db_col_blob(st, (int)i, &n);
        if (k->bulk)
            lia__db_bulk_blob(k->bulk, p ? p : "", n);
        else
            lia__db_bind_blob(k->st, k->pos[i], p ? p : "", n);
        break;
    default:
        if (k->bulk)
            lia__db_bulk_null(k->bulk);
        else
            lia__db_bind_null(k->st, k->pos[i]);
        break;
    }
    return LIA_OK;
}

/* One row of st into dst. */
static int put_row(copy *c, table *t, sink *k, lia_stmt *st, lia_error *err)
{
    int rc;
    if (t->events && c->parts) { /* its own id, into the partition that owns it */
        if ((rc = lia__parts_next_at(c->parts, lia__db_col_int64(st, 0), &k->st, err)))
            return rc;
        k->pos[0] = 10;
        for (int i = 1; i < (int)NEVCOLS; i++)
            k->pos[i] = i;
        lia__parts_note(c->parts, !lia__db_col_null(st, 3), lia__db_col_int64(st, 3));
    }
    if (t->dedup)
        return lia__dedup_sink_put(c->dsink, lia__db_col_int64(st, 0), lia__db_col_int64(st, 1),
                                   lia__db_col_int64(st, 2), lia__db_col_int64(st, 3),
                                   lia__db_col_int64(st, 4), err);
    for (size_t i = 0; i < t->ncols; i++)
        if ((rc = put_value(c, t, k, st, i, err)))
            return rc;
    if (k->bulk)
        return lia__db_bulk_row(k->bulk, err);
    rc = lia__db_run(k->st, err);
    lia__db_reset(k->st);
    return rc;
}

static int progress_put(copy *c, table *t, const char *last, int64_t rows, int done, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(c->dst, "store copy: recording progress",
                              "INSERT INTO store_copy(tbl, last_key, rows, done) VALUES(?, ?, ?, ?)"
                              " ON CONFLICT(tbl) DO UPDATE SET last_key = excluded.last_key,"
                              " rows = excluded.rows, done = excluded.done",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, t->name, -1);
    lia__db_bind_text(st, 2, last, -1);
    lia__db_bind_int64(st, 3, rows);
    lia__db_bind_int64(st, 4, done);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* One batch: *done when src has no more rows; rows moved on. */
static int copy_batch(copy *c, table *t, char **last, int64_t *rows, int first, int *done, lia_error *err)
{
    lia_stmt *st = NULL;
    unsigned char *hold = NULL;
    sink k;
    int rc, step = LIA_DB_DONE;
    int64_t n = 0, stored = -1; /* rows read; stored: what the sink says it stored (dedup), else n */
    memset(&k, 0, sizeof k);
    if ((rc = fetch(c, t, *last, &st, &step, &hold, err)))
        goto out;
    if ((rc = lia__db_begin(c->dst, err)))
        goto out;
    if (first && !t->events && !t->dedup) { /* what dst's own migrations put there */
        lia_buf_reset(&c->sql);
        lia_buf_printf(&c->sql, "DELETE FROM \"%s\"", t->name);
        if ((rc = lia__db_exec(c->dst, lia_buf_cstr(&c->sql), err)))
            goto fail;
    }
    if (step == LIA_DB_ROW) {
        if (t->events && c->parts) {
            if ((rc = lia__parts_begin(c->parts, err)))
                goto fail;
        } else if (t->dedup) {
            if ((rc = lia__dedup_sink_open(c->dst, &c->dsink, err)))
                goto fail;
        } else {
            /* into the table, or (a column of another type on PostgreSQL)
             * into a staging table of the four types, cast from there */
            char what[128], tq[LIA_DB_NAME_MAX + 2];
            if (t->insert) {
                lia_buf_reset(&c->sql);
                lia_buf_puts(&c->sql, "CREATE TEMP TABLE lia_copy_stage(");
                for (size_t i = 0; i < t->ncols; i++)
                    lia_buf_printf(&c->sql, "%s\"%s\" %s", i ? "," : "", t->cols[i].name,
                                   t->dkind[i] == 'i'   ? "BIGINT"
                                   : t->dkind[i] == 'd' ? "DOUBLE PRECISION"
                                   : t->dkind[i] == 'b' ? "BYTEA"
                                                        : "TEXT");
                lia_buf_puts(&c->sql, ") ON COMMIT DROP");
                if ((rc = lia__db_exec_pg(c->dst, "", lia_buf_cstr(&c->sql), err)))
                    goto fail;
            }
            snprintf(tq, sizeof tq, t->insert ? "lia_copy_stage" : "\"%s\"", t->name);
            snprintf(what, sizeof what, "store copy: table %s", t->name);
            lia_buf_reset(&c->sql);
            quoted_cols(&c->sql, t);
            if ((rc = lia__db_bulk_begin(c->dst, what, tq, lia_buf_cstr(&c->sql), (int)t->ncols, &k.bulk,
                                         err)))
                goto fail;
        }
        for (; step == LIA_DB_ROW; step = lia__db_step(st, err)) {
            if (t->dedup) {
                lia_buf_reset(&c->key);
                lia_buf_printf(&c->key, "%lld,%lld", (long long)lia__db_col_int64(st, 5),
                               (long long)lia__db_col_int64(st, 0));
            } else
                key_text(c, t, st);
            if ((rc = put_row(c, t, &k, st, err)))
                goto fail;
            n++;
        }
        if ((rc = step < 0 ? step : LIA_OK))
            goto fail;
        if (c->dsink) {
            rc = lia__dedup_sink_close(c->dsink, &stored, err);
            c->dsink = NULL;
            if (rc)
                goto fail;
        }
        if (k.bulk) {
            rc = lia__db_bulk_end(k.bulk, err);
            k.bulk = NULL;
            if (rc)
                goto fail;
        }
        if (t->insert) {
            lia_buf_reset(&c->sql);
            lia_buf_printf(&c->sql, "INSERT INTO \"%s\"(", t->name);
            quoted_cols(&c->sql, t);
            lia_buf_puts(&c->sql, ") SELECT ");
            for (size_t i = 0; i < t->ncols; i++)
                if (t->dkind[i] == '?')
                    lia_buf_printf(&c->sql, "%sCAST(\"%s\" AS %s)", i ? "," : "", t->cols[i].name,
                                   t->dtype[i]);
                else
                    lia_buf_printf(&c->sql, "%s\"%s\"", i ? "," : "", t->cols[i].name);
            lia_buf_puts(&c->sql, " FROM lia_copy_stage; DROP TABLE lia_copy_stage");
            if ((rc = c->sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory")
                                 : lia__db_exec_pg(c->dst, "", lia_buf_cstr(&c->sql), err)))
                goto fail;
        }
        if (c->key.err) {
            rc = lia_error_set(err, LIA_ELIMIT, "table", t->name, strlen(t->name),
                               "table %s: a key longer than %d bytes", t->name, KEY_TEXT);
            goto fail;
        }
        free(*last);
        if (!(*last = strdup(lia_buf_cstr(&c->key)))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto fail;
        }
    }
    *done = n == 0 || t->nkey == 0;
    if (stored < 0)
        stored = n;
    if ((t->events && c->parts && (rc = lia__parts_flush(c->parts, err))) ||
        (rc = progress_put(c, t, *last, *rows + stored, *done, err)))
        goto fail;
    lia__fault_point("copy-mid-batch");
    {
        char point[LIA_DB_NAME_MAX + 16]; /* and one of this table's batches */
        snprintf(point, sizeof point, "copy-mid-batch-%s", t->name);
        lia__fault_point(point);
    }
    if ((rc = lia__db_commit(c->dst, err)))
        goto fail_committed;
    *rows += stored;
    c->res->rows += (uint64_t)stored;
    if (t->events && c->parts) /* a partition filled: sealed now (else at the end, or at the next open) */
        lia__parts_seal(c->parts, NULL);
    goto out;
fail:
    lia__db_bulk_abort(k.bulk);
    lia__dedup_sink_abort(c->dsink);
    c->dsink = NULL;
    lia__db_rollback(c->dst);
fail_committed:
    if (c->parts)
        lia__parts_reset(c->parts);
out:
    if (!(t->events && c->parts))
        lia__db_done(k.st);
    lia__db_done(st);
    free(hold);
    return rc;
}

static int copy_table(copy *c, table *t, lia_error *err)
{
    lia_stmt *st;
    char *last = NULL;
    int64_t rows = 0;
    int rc, done = 0, first = 1;
    if ((rc = lia__db_prepare(c->dst, "store copy: progress so far",
                              "SELECT last_key, rows, done FROM store_copy WHERE tbl = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, t->name, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *k = lia__db_col_text(st, 0);
        first = 0;
        rows = lia__db_col_int64(st, 1);
        done = (int)lia__db_col_int64(st, 2);
        if (k && !(last = strdup(k)))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    lia__db_done(st);
    if (rc < 0)
        return rc;
    rc = LIA_OK;
    if (done && c->o->progress) /* by a run before */
        c->o->progress(c->o->ud, t->name, (uint64_t)rows, 1);
    while (!done) {
        if ((rc = copy_batch(c, t, &last, &rows, first, &done, err)))
            break;
        first = 0;
        if (c->o->progress)
            c->o->progress(c->o->ud, t->name, (uint64_t)rows, done);
    }
    free(last);
    if (rc && err && !strstr(err->reason, t->name)) {
        char why[LIA_ERR_REASON_MAX];
        snprintf(why, sizeof why, "%s", err->reason);
        lia_error_set(err, rc, NULL, NULL, 0, "table %s: %s", t->name, why);
    }
    return rc;
}

/* ---- after the tables ---- */

/* PostgreSQL: each identity's sequence past the largest id copied, so the
 * next generated id is new. */
static int sequences(copy *c, lia_error *err)
{
    for (size_t i = 0; i < c->nt && lia__db_is_pg(c->dst); i++) {
        table *t = &c->t[i];
        int rc;
        if (!t->ident[0])
            continue;
        lia_buf_reset(&c->sql);
        lia_buf_printf(&c->sql,
                       "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
                       " GREATEST((SELECT max(\"%s\") FROM \"%s\"), 1))",
                       t->name, t->ident, t->ident, t->name);
        if ((rc = lia__db_exec_pg(c->dst, "", lia_buf_cstr(&c->sql), err)))
            return rc;
    }
    return LIA_OK;
}

/* from into to by a temporary file renamed: never half there. */
static int copy_file(const char *from, const char *to, lia_error *err)
{
    char tmp[LIA_PATH_MAX], buf[65536];
    int in = -1, out = -1, rc;
    ssize_t n;
    if ((rc =
             lia__path_fmt(tmp, sizeof tmp, err, "archive temporary file", "%s.tmp.%ld", to, (long)getpid())))
        return rc;
    if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
        return lia_error_set(err, LIA_EIO, "archive", from, strlen(from), "cannot read %s: %s", from,
                             strerror(errno));
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
        rc = lia_error_set(err, LIA_EIO, "archive", tmp, strlen(tmp), "cannot create %s: %s", tmp,
                           strerror(errno));
        goto out;
    }
    while ((n = read(in, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                rc = lia_error_set(err, errno == ENOSPC ? LIA_EFULL : LIA_EIO, "archive", tmp, strlen(tmp),
                                   "writing %s: %s", tmp, strerror(errno));
                goto out;
            }
            off += w;
        }
    if (n < 0) {
        rc = lia_error_set(err, LIA_EIO, "archive", from, strlen(from), "reading %s: %s", from,
                           strerror(errno));
        goto out;
    }
    if (fsync(out) != 0 || close(out) != 0) {
        out = -1;
        rc = lia_error_set(err, LIA_EIO, "archive", tmp, strlen(tmp), "writing %s: %s", tmp, strerror(errno));
        goto out;
    }
    out = -1;
    if (rename(tmp, to) != 0)
        rc = lia_error_set(err, LIA_EIO, "archive", to, strlen(to), "renaming %s to %s: %s", tmp, to,
                           strerror(errno));
out:
    if (out >= 0)
        close(out);
    if (rc)
        unlink(tmp);
    close(in);
    return rc;
}

/* The reports' archive files, from src's archive directory to dst's (none
 * when both are the one directory). A file already there is kept: it was
 * renamed into place whole. */
static int archives(copy *c, lia_error *err)
{
    const char *from = lia_store_archive_dir(c->src_s), *to = lia_store_archive_dir(c->dst_s);
    char rf[PATH_MAX], rt[PATH_MAX];
    lia_stmt *st;
    uint64_t missing = 0;
    int rc, step;
    if (realpath(from, rf) && realpath(to, rt) && strcmp(rf, rt) == 0)
        return LIA_OK;
    if ((rc = lia__db_prepare(c->src, "store copy: the archived reports",
                              "SELECT id, archive FROM reports WHERE archive IS NOT NULL AND archive <> ''"
                              " ORDER BY id",
                              &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *a = lia__db_col_text(st, 1);
        char sp[LIA_PATH_MAX], dp[LIA_PATH_MAX];
        struct stat sb;
        if (!a || strchr(a, '/') || a[0] == '.') {
            note(c->o, "report %lld: archive name \"%s\" is not a file name, not copied",
                 (long long)lia__db_col_int64(st, 0), a ? a : "");
            continue;
        }
        if ((rc = lia__path_fmt(sp, sizeof sp, err, "archive file", "%s/%s", from, a)) ||
            (rc = lia__path_fmt(dp, sizeof dp, err, "archive file", "%s/%s", to, a)))
            break;
        if (stat(dp, &sb) == 0)
            continue;
        if (stat(sp, &sb) != 0) {
            if (missing++ < 5)
                note(c->o, "report %lld: its archive %s is not in the source (%s), not copied",
                     (long long)lia__db_col_int64(st, 0), sp, strerror(errno));
            continue;
        }
        if ((rc = copy_file(sp, dp, err)))
            break;
        c->res->archives++;
    }
    lia__db_done(st);
    if (missing > 5)
        note(c->o, "%llu archives in all are missing in the source", (unsigned long long)missing);
    return rc ? rc : step < 0 ? step : LIA_OK;
}

static int has_gen_seconds(lia_db *db, int64_t *out, lia_error *err)
{
    return scalar(db, "store copy: the generations' span",
                  "SELECT count(*) FROM enrich_meta WHERE name = 'dedup_gen_seconds'", out, err);
}

/* The rows of table t src must have given dst: its own, but for dedup's
 * state into PostgreSQL (one row a key: SQLite's generations may hold
 * a replaced aggregate beside the one that replaced it) and enrich_meta
 * into SQLite (the generations' span, which PostgreSQL lacks, recorded). */
static int expected_rows(copy *c, const table *t, int64_t *out, lia_error *err)
{
    int rc;
    if (t->dedup && lia__db_is_pg(c->dst) && !lia__db_is_pg(c->src))
        return scalar(c->src, "store copy: counting rows",
                      "SELECT count(*) FROM (SELECT DISTINCT key FROM dedup)", out, err);
    if ((rc = count_rows(c->src, t->name, out, err)))
        return rc;
    if (strcmp(t->name, "enrich_meta") == 0 && !lia__db_is_pg(c->dst)) {
        int64_t s = 0, d = 0;
        if ((rc = has_gen_seconds(c->src, &s, err)) || (rc = has_gen_seconds(c->dst, &d, err)))
            return rc;
        *out += !s && d;
    }
    return LIA_OK;
}

static int counts(copy *c, lia_error *err)
{
    int rc = LIA_OK;
    c->res->total = 0;
    for (size_t i = 0; i < c->nt; i++) {
        int64_t a = 0, b = 0;
        int r;
        if ((r = expected_rows(c, &c->t[i], &a, err)) || (r = count_rows(c->dst, c->t[i].name, &b, err)))
            return r;
        if (c->o->count)
            c->o->count(c->o->ud, c->t[i].name, (uint64_t)a, (uint64_t)b);
        c->res->total += (uint64_t)b;
        if (a != b && rc == LIA_OK)
            rc = lia_error_set(err, LIA_ESTATE, "table", c->t[i].name, strlen(c->t[i].name),
                               "table %s: %lld rows in the source, %lld in the destination (was the source"
                               " written during the copy?)",
                               c->t[i].name, (long long)a, (long long)b);
    }
    c->res->tables = c->nt;
    return rc;
}

/* ---- the copy ---- */

static int64_t env_part_rows(void)
{
    const char *v = getenv("LIAISON_PART_ROWS"); /* as the events store reads it (docs/store.md) */
    int64_t n = 0;
    for (; v && *v >= '0' && *v <= '9' && n < ((int64_t)1 << 40); v++)
        n = n * 10 + (*v - '0');
    return v && !*v ? n : 0;
}

int lia_store_copy(const char *src, const char *dst, const lia_copy_opts *o, lia_copy_result *res,
                   lia_error *err)
{
    static const lia_copy_opts none;
    char sname[LIA_PATH_MAX], dname[LIA_PATH_MAX];
    lia_copy_result r;
    lia_buf fp;
    copy c;
    int rc;
    memset(&c, 0, sizeof c);
    memset(&r, 0, sizeof r);
    c.o = o ? o : &none;
    c.res = &r;
    c.batch = c.o->batch ? c.o->batch : LIA_COPY_BATCH;
    lia_buf_init(&c.sql, (size_t)1 << 20);
    lia_buf_init(&c.key, KEY_TEXT);
    lia_buf_init(&fp, 4096);
    source_name(src, sname, sizeof sname);
    source_name(dst, dname, sizeof dname);
    if (strcmp(sname, dname) == 0) {
        rc = lia_error_set(err, LIA_EINVAL, "destination", dst, strlen(dst),
                           "the source and the destination are the same store");
        goto out;
    }
    {
        const char *f = strncmp(src, "sqlite:", 7) == 0 ? src + 7 : src;
        struct stat sb;
        if (!lia__db_is_pg_uri(f) && stat(f, &sb) != 0) { /* opening would make an empty one */
            rc = lia_error_set(err, LIA_ENOTFOUND, "source", src, strlen(src), "no store at %s: %s", f,
                               strerror(errno));
            goto out;
        }
    }
    if ((rc = lia_store_open(src, &c.src_s, err)) || (rc = lia_store_open(dst, &c.dst_s, err)))
        goto out;
    c.src = lia__store_db(c.src_s);
    c.dst = lia__store_db(c.dst_s);
    if (lia__db_readonly(c.dst)) {
        rc = lia_error_set(err, LIA_EREADONLY, "destination", dst, strlen(dst),
                           "the destination is read-only");
        goto out;
    }
    if ((rc = init_modules(c.src_s, err)) || (rc = fingerprint(c.src, sname, &fp, err)) ||
        (rc = dst_state(&c, sname, lia_buf_cstr(&fp), err)) ||
        (rc = lia__db_schema(c.dst, &copy_schema, err)) || (rc = init_modules(c.dst_s, err)) ||
        (rc = check_versions(&c, err)) || (rc = make_plan(&c, err)))
        goto out;
    if (!lia__db_is_pg(c.dst)) {
        if ((rc = lia__parts_open(c.dst, &c.parts, err)))
            goto out;
        if (env_part_rows() > 0)
            lia__parts_set_rows(c.parts, env_part_rows());
    }
    for (size_t i = 0; i < c.nt; i++)
        if ((rc = copy_table(&c, &c.t[i], err)))
            goto out;
    if ((rc = sequences(&c, err)) || (c.parts && (rc = lia__parts_seal(c.parts, err))) ||
        (rc = lia__dedup_copied(c.dst, err)) || (rc = archives(&c, err)) || (rc = counts(&c, err)))
        goto out;
    {
        lia_stmt *st;
        if ((rc = lia__db_prepare(c.dst, "store copy: done",
                                  "UPDATE store_copy_source SET finished = ? WHERE id = 1", &st, err)))
            goto out;
        lia__db_bind_int64(st, 1, lia__now_us());
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
out:
    if (res)
        *res = r;
    for (size_t i = 0; i < c.nt; i++)
        table_free(&c.t[i]);
    free(c.t);
    lia__parts_close(c.parts);
    lia_store_close(c.dst_s);
    lia_store_close(c.src_s);
    lia_buf_free(&c.sql);
    lia_buf_free(&c.key);
    lia_buf_free(&fp);
    return rc;
}
