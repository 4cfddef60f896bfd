/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* SQLite backend (WAL). Events keep the indexed fields in columns and the
 * whole harmonised event as flat JSON in `body`. Writes happen in one open
 * transaction that lia_store_checkpoint() commits together with the report's
 * progress, so a crash loses at most the uncommitted batch. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "liaison/limits.h"
#include "store/backend.h"

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *ins_event;
    sqlite3_stmt *ins_quar;
    int in_tx;
    int bulk;           /* this report loads without the secondary indexes */
    uint64_t bulk_min;  /* reports of at least this many bytes may load so */
    lia_buf body;
} sq;

/* Schema migrations: migrations[i] brings user_version i to i + 1. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE reports("
    "  id INTEGER PRIMARY KEY,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  feed TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  archive TEXT,"
    "  size INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  lines_done INTEGER NOT NULL DEFAULT 0,"
    "  rows INTEGER NOT NULL DEFAULT 0,"
    "  events INTEGER NOT NULL DEFAULT 0,"
    "  quarantined INTEGER NOT NULL DEFAULT 0,"
    "  duplicates INTEGER NOT NULL DEFAULT 0,"
    "  started INTEGER NOT NULL,"
    "  finished INTEGER);"
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY,"
    "  report_id INTEGER NOT NULL REFERENCES reports(id),"
    "  line INTEGER NOT NULL,"
    "  time INTEGER,"      /* time.source, else time.observation (us) */
    "  src_ip BLOB,"       /* 16 bytes, IPv4 as ::ffff:a.b.c.d */
    "  src_asn INTEGER,"
    "  src_cc TEXT,"
    "  class INTEGER,"     /* classification.type: index in src/core/classify.c (append-only) */
    "  tlp INTEGER,"
    "  body TEXT NOT NULL);"
    "CREATE INDEX events_time ON events(time);"
    "CREATE INDEX events_src_ip ON events(src_ip);"
    "CREATE INDEX events_src_cc ON events(src_cc);"
    "CREATE INDEX events_src_asn ON events(src_asn);"
    "CREATE INDEX events_class ON events(class);"
    "CREATE INDEX events_report ON events(report_id, line);" /* feed, and trace to report and line */
    "CREATE INDEX reports_feed ON reports(feed);"
    "CREATE TABLE quarantine("
    "  id INTEGER PRIMARY KEY,"
    "  report_id INTEGER NOT NULL REFERENCES reports(id),"
    "  line INTEGER NOT NULL,"
    "  field TEXT,"
    "  value TEXT,"
    "  reason TEXT NOT NULL,"
    "  raw BLOB NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX quarantine_report ON quarantine(report_id, line);"
    "CREATE TABLE feed_stats("
    "  feed TEXT NOT NULL,"
    "  stage INTEGER NOT NULL,"
    "  n_in INTEGER NOT NULL DEFAULT 0,"
    "  n_out INTEGER NOT NULL DEFAULT 0,"
    "  n_err INTEGER NOT NULL DEFAULT 0,"
    "  ns INTEGER NOT NULL DEFAULT 0,"
    "  reports INTEGER NOT NULL DEFAULT 0,"
    "  last INTEGER,"
    "  PRIMARY KEY(feed, stage));",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* Bulk loading. Keeping six B-tree indexes up to date row by row costs
 * most of an ingest (docs/performance.md), and more the larger they grow;
 * building an index once, from sorted keys, costs a fraction of that. So a
 * report that is big both in bytes and against what the store already holds
 * is loaded without the five secondary indexes of the events table, which
 * are built again when the report is finished. Queries meanwhile are right,
 * only slower. An ingest that fails builds them at close; if the process
 * is killed, the next report's begin (or the resumed one's finish) builds
 * them again: the CREATE statements
 * are the same as in migration 0 -> 1, with IF NOT EXISTS. */
static const char bulk_drop_sql[] = "DROP INDEX IF EXISTS events_time; DROP INDEX IF EXISTS events_src_ip;"
                                    "DROP INDEX IF EXISTS events_src_cc; DROP INDEX IF EXISTS events_src_asn;"
                                    "DROP INDEX IF EXISTS events_class;";
static const char ensure_indexes_sql[] =
    "CREATE INDEX IF NOT EXISTS events_time ON events(time);"
    "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);"
    "CREATE INDEX IF NOT EXISTS events_src_cc ON events(src_cc);"
    "CREATE INDEX IF NOT EXISTS events_src_asn ON events(src_asn);"
    "CREATE INDEX IF NOT EXISTS events_class ON events(class);";

static int dberr(sq *q, lia_error *err, const char *what)
{
    return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s: %s", what, sqlite3_errmsg(q->db));
}

static int exec(sq *q, const char *sql, lia_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", msg ? msg : "SQL error");
        sqlite3_free(msg);
        return rc;
    }
    return LIA_OK;
}

static int user_version(sq *q)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(sq *q, lia_error *err)
{
    int v = user_version(q);
    int rc;
    if (v < 0)
        return dberr(q, err, "reading schema version");
    if (v > NMIGRATIONS)
        return lia_error_set(err, LIA_ESCHEMA, NULL, NULL, 0,
                             "store schema version %d is newer than this program's (%d)", v, NMIGRATIONS);
    for (; v < NMIGRATIONS; v++) {
        char pragma[64];
        if ((rc = exec(q, "BEGIN IMMEDIATE", err)))
            return rc;
        if (user_version(q) != v) { /* another process migrated meanwhile */
            exec(q, "ROLLBACK", NULL);
            v = user_version(q) - 1;
            continue;
        }
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v + 1);
        if ((rc = exec(q, migrations[v], err)) || (rc = exec(q, pragma, err))) {
            exec(q, "ROLLBACK", NULL);
            return rc;
        }
        if ((rc = exec(q, "COMMIT", err)))
            return rc;
    }
    return LIA_OK;
}

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    if (q->in_tx)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    if (q->bulk) /* a bulk load that did not finish (an error): the indexes back now */
        sqlite3_exec(q->db, ensure_indexes_sql, NULL, NULL, NULL);
    sqlite3_finalize(q->ins_event);
    sqlite3_finalize(q->ins_quar);
    sqlite3_close(q->db);
    lia_buf_free(&q->body);
    free(q);
}

static int sq_open(void **impl, const char *path, lia_error *err)
{
    sq *q = calloc(1, sizeof *q);
    int rc;
    if (!q)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&q->body, LIA_MAX_EVENT_TEXT * 2);
    q->bulk_min = LIA_BULK_MIN_BYTES;
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "cannot open store %s: %s", path,
                           q->db ? sqlite3_errmsg(q->db) : "out of memory");
        sq_close(q);
        return rc;
    }
    sqlite3_busy_timeout(q->db, 10000);
    /* 16 KiB pages (set before the file is created), a 256 MiB page cache,
     * and checkpoints every 25,000 pages rather than SQLite's 1,000: with
     * random-key indexes a small checkpoint interval rewrites the same pages
     * over and over (measured: 2x slower ingest; docs/performance.md). The
     * WAL is cut back to 64 MiB after each checkpoint. */
    if ((rc = exec(q, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                      "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;"
                      "PRAGMA wal_autocheckpoint=25000; PRAGMA journal_size_limit=67108864;",
                   err)) ||
        (rc = migrate(q, err))) {
        lia_error_where(err, path, 0);
        sq_close(q);
        return rc;
    }
    if (sqlite3_prepare_v2(q->db,
                           "INSERT INTO events(report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body)"
                           " VALUES(?,?,?,?,?,?,?,?,?)",
                           -1, &q->ins_event, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db,
                           "INSERT INTO quarantine(report_id,line,field,value,reason,raw,at)"
                           " VALUES(?,?,?,?,?,?,?)",
                           -1, &q->ins_quar, NULL) != SQLITE_OK) {
        rc = dberr(q, err, "preparing statements");
        sq_close(q);
        return rc;
    }
    *impl = q;
    return LIA_OK;
}

static int sq_schema_version(void *impl) { return user_version(impl); }
static void *sq_native(void *impl) { return ((sq *)impl)->db; }

static int begin(sq *q, lia_error *err)
{
    int rc;
    if (q->in_tx)
        return LIA_OK;
    if ((rc = exec(q, "BEGIN IMMEDIATE", err)))
        return rc;
    q->in_tx = 1;
    return LIA_OK;
}

static void load_report(sqlite3_stmt *st, lia_report *r)
{
    const char *s;
    r->id = sqlite3_column_int64(st, 0);
    snprintf(r->hash, sizeof r->hash, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(r->feed, sizeof r->feed, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 3));
    s = (const char *)sqlite3_column_text(st, 4);
    snprintf(r->archive, sizeof r->archive, "%s", s ? s : "");
    r->size = (uint64_t)sqlite3_column_int64(st, 5);
    r->state = sqlite3_column_int(st, 6);
    r->lines_done = (uint64_t)sqlite3_column_int64(st, 7);
    r->rows = (uint64_t)sqlite3_column_int64(st, 8);
    r->events = (uint64_t)sqlite3_column_int64(st, 9);
    r->quarantined = (uint64_t)sqlite3_column_int64(st, 10);
    r->duplicates = (uint64_t)sqlite3_column_int64(st, 11);
    r->started_us = sqlite3_column_int64(st, 12);
    r->finished_us = sqlite3_column_int64(st, 13);
}

#define REPORT_COLS "id,hash,feed,name,archive,size,state,lines_done,rows,events,quarantined,duplicates,started,finished"

static int report_row(sq *q, lia_report *r, lia_error *err);

/* The indexes are all there (a no-op then), or dropped for a bulk load. */
static int sq_report_begin(void *impl, lia_report *r, lia_error *err)
{
    sq *q = impl;
    int rc = report_row(q, r, err);
    sqlite3_stmt *st;
    int64_t stored = 0;
    if (rc || r->state == LIA_REPORT_COMPLETE)
        return rc;
    if (sqlite3_prepare_v2(q->db, "SELECT coalesce(max(id), 0) FROM events", -1, &st, NULL))
        return dberr(q, err, "counting events");
    if (sqlite3_step(st) == SQLITE_ROW)
        stored = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    q->bulk = r->size >= q->bulk_min && r->size / LIA_BULK_ROW_BYTES >= (uint64_t)stored;
    rc = exec(q, q->bulk ? bulk_drop_sql : ensure_indexes_sql, err);
    if (rc)
        q->bulk = 0;
    return rc;
}

static int report_row(sq *q, lia_report *r, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK, step;
    if (sqlite3_prepare_v2(q->db, "SELECT " REPORT_COLS " FROM reports WHERE hash=?", -1, &st, NULL))
        return dberr(q, err, "looking up report");
    sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        char feed[sizeof r->feed], name[sizeof r->name];
        snprintf(feed, sizeof feed, "%s", r->feed);
        snprintf(name, sizeof name, "%s", r->name);
        load_report(st, r);
        sqlite3_finalize(st);
        if (r->state != LIA_REPORT_COMPLETE && strcmp(feed, r->feed) != 0)
            return lia_error_set(err, LIA_EEXIST, "feed", feed, strlen(feed),
                                 "report %s was started as feed %s; resume it with that feed", name, r->feed);
        return LIA_OK;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return dberr(q, err, "looking up report");
    r->started_us = lia__now_us();
    r->state = LIA_REPORT_PARTIAL;
    if (sqlite3_prepare_v2(q->db,
                           "INSERT INTO reports(hash,feed,name,archive,size,state,started) VALUES(?,?,?,?,?,?,?)",
                           -1, &st, NULL))
        return dberr(q, err, "registering report");
    sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->size);
    sqlite3_bind_int(st, 6, LIA_REPORT_PARTIAL);
    sqlite3_bind_int64(st, 7, r->started_us);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = dberr(q, err, "registering report");
    else
        r->id = sqlite3_last_insert_rowid(q->db);
    sqlite3_finalize(st);
    r->state = LIA_REPORT_NEW;
    return rc;
}

static int sq_put_events(void *impl, const lia_report *r, lia_event *ev, size_t n, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st = q->ins_event;
    int rc = begin(q, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const lia_event *e = &ev[i];
        uint8_t key[16];
        lia_buf_reset(&q->body);
        if (lia_event_to_json(e, &q->body))
            return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "event too large to store");
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)e->line);
        if (lia_event_has(e, LIA_F_TIME_SOURCE))
            sqlite3_bind_int64(st, 3, e->v[LIA_F_TIME_SOURCE].i);
        else if (lia_event_has(e, LIA_F_TIME_OBSERVATION))
            sqlite3_bind_int64(st, 3, e->v[LIA_F_TIME_OBSERVATION].i);
        else
            sqlite3_bind_null(st, 3);
        if (lia_event_has(e, LIA_F_SOURCE_IP)) {
            lia_ip_key(&e->v[LIA_F_SOURCE_IP].ip, key);
            sqlite3_bind_blob(st, 4, key, 16, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(st, 4);
        }
        if (lia_event_has(e, LIA_F_SOURCE_ASN))
            sqlite3_bind_int64(st, 5, e->v[LIA_F_SOURCE_ASN].i);
        else
            sqlite3_bind_null(st, 5);
        if (lia_event_has(e, LIA_F_SOURCE_GEOLOCATION_CC)) {
            lia_slice cc = lia_event_str(e, LIA_F_SOURCE_GEOLOCATION_CC);
            sqlite3_bind_text(st, 6, cc.ptr, (int)cc.len, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(st, 6);
        }
        if (lia_event_has(e, LIA_F_CLASSIFICATION_TYPE))
            sqlite3_bind_int(st, 7, (int)e->v[LIA_F_CLASSIFICATION_TYPE].i);
        else
            sqlite3_bind_null(st, 7);
        if (lia_event_has(e, LIA_F_TLP))
            sqlite3_bind_int(st, 8, (int)e->v[LIA_F_TLP].i);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_text(st, 9, q->body.ptr, (int)q->body.len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = dberr(q, err, "storing event");
            sqlite3_reset(st);
            return rc;
        }
        ev[i].id = sqlite3_last_insert_rowid(q->db);
        sqlite3_reset(st);
    }
    return LIA_OK;
}

static int sq_put_quarantine(void *impl, const lia_report *r, uint64_t line, lia_slice raw,
                             const lia_error *why, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st = q->ins_quar;
    int rc = begin(q, err);
    char reason[LIA_ERR_REASON_MAX + 32];
    if (rc)
        return rc;
    snprintf(reason, sizeof reason, "%s", why->reason[0] ? why->reason : lia_strerror(why->code));
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
    if (why->field[0])
        sqlite3_bind_text(st, 3, why->field, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    if (why->value[0])
        sqlite3_bind_text(st, 4, why->value, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 6, raw.ptr ? raw.ptr : "", (int)(raw.len > LIA_MAX_ROW ? LIA_MAX_ROW : raw.len),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, lia__now_us());
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : dberr(q, err, "storing quarantined row");
    sqlite3_reset(st);
    return rc;
}

static int update_report(sq *q, const lia_report *r, lia_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(q->db,
                           "UPDATE reports SET lines_done=?,rows=?,events=?,quarantined=?,duplicates=?,"
                           "state=?,finished=?,archive=? WHERE id=?",
                           -1, &st, NULL))
        return dberr(q, err, "updating report");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->lines_done);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->rows);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->events);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)r->quarantined);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->duplicates);
    sqlite3_bind_int(st, 6, r->state == LIA_REPORT_COMPLETE ? LIA_REPORT_COMPLETE : LIA_REPORT_PARTIAL);
    if (r->finished_us)
        sqlite3_bind_int64(st, 7, r->finished_us);
    else
        sqlite3_bind_null(st, 7);
    if (r->archive[0])
        sqlite3_bind_text(st, 8, r->archive, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int64(st, 9, r->id);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : dberr(q, err, "updating report");
    sqlite3_finalize(st);
    return rc;
}

static int sq_checkpoint(void *impl, const lia_report *r, lia_error *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if ((rc = update_report(q, r, err))) {
        exec(q, "ROLLBACK", NULL);
        q->in_tx = 0;
        return rc;
    }
    rc = exec(q, "COMMIT", err);
    if (rc)
        exec(q, "ROLLBACK", NULL);
    q->in_tx = 0;
    return rc;
}

static int sq_report_finish(void *impl, lia_report *r, lia_error *err)
{
    sq *q = impl;
    int rc;
    r->state = LIA_REPORT_COMPLETE;
    if ((rc = sq_checkpoint(impl, r, err)))
        return rc;
    if (q->bulk) {
        /* Sorting needs room in proportion to the table: on disk, not in
         * memory. SQLite's sorter buffers up to cache_size, so the page cache
         * is made smaller meanwhile: peak memory stays that of the load. */
        if ((rc = exec(q, "PRAGMA temp_store=FILE; PRAGMA cache_size=-65536", err)) == LIA_OK)
            rc = exec(q, ensure_indexes_sql, err);
        exec(q, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-262144", NULL);
        if (rc)
            return rc;
        q->bulk = 0;
    }
    return LIA_OK;
}

static void sq_set_bulk_min(void *impl, uint64_t bytes) { ((sq *)impl)->bulk_min = bytes; }

static int sq_report_get(void *impl, int64_t id, lia_report *r, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(q->db, "SELECT " REPORT_COLS " FROM reports WHERE id=?", -1, &st, NULL))
        return dberr(q, err, "reading report");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        load_report(st, r);
        rc = LIA_OK;
    } else if (rc == SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, NULL, NULL, 0, "no report %lld", (long long)id);
    } else {
        rc = dberr(q, err, "reading report");
    }
    sqlite3_finalize(st);
    return rc;
}

/* WHERE clause for a query; binds collected in order. */
typedef struct where {
    lia_buf sql;
    int nb;
    struct {
        int kind; /* 0 int64, 1 text, 2 blob16 */
        int64_t i;
        const char *s;
        uint8_t b[16];
    } b[32];
} where;

static void w_and(where *w, const char *cond)
{
    lia_buf_puts(&w->sql, w->sql.len ? " AND " : " WHERE ");
    lia_buf_puts(&w->sql, cond);
}

static int build_where(where *w, const lia_query *qy, lia_error *err)
{
    lia_buf_init(&w->sql, 4096);
    w->nb = 0;
    if (qy->since_us) {
        w_and(w, "time >= ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->since_us;
    }
    if (qy->until_us) {
        w_and(w, "time < ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->until_us;
    }
    if (qy->cc[0]) {
        w_and(w, "src_cc = ?");
        w->b[w->nb].kind = 1;
        w->b[w->nb++].s = qy->cc;
    }
    if (qy->asn) {
        w_and(w, "src_asn = ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->asn;
    }
    if (qy->has_ip) {
        uint8_t lo[16], hi[16];
        int bits = qy->ip.prefix + (qy->ip.family == 4 ? 96 : 0);
        lia_ip_key(&qy->ip, lo);
        memcpy(hi, lo, 16);
        for (int i = bits; i < 128; i++)
            hi[i / 8] |= (uint8_t)(0x80u >> (i % 8));
        w_and(w, "src_ip BETWEEN ? AND ?");
        w->b[w->nb].kind = 2;
        memcpy(w->b[w->nb++].b, lo, 16);
        w->b[w->nb].kind = 2;
        memcpy(w->b[w->nb++].b, hi, 16);
    }
    if (qy->classification) {
        const char *c = qy->classification;
        int tax = lia_class_taxonomy_lookup(c, strlen(c));
        int type = lia_class_type_lookup(c, strlen(c));
        if (type >= 0) {
            w_and(w, "class = ?");
            w->b[w->nb].kind = 0;
            w->b[w->nb++].i = type;
        } else if (tax >= 0) {
            int first = 1;
            w_and(w, "class IN (");
            for (int t = 0; t < lia_class_type_count() && w->nb < 28; t++) {
                if (lia_class_type_taxonomy(t) != tax)
                    continue;
                lia_buf_puts(&w->sql, first ? "?" : ",?");
                first = 0;
                w->b[w->nb].kind = 0;
                w->b[w->nb++].i = t;
            }
            lia_buf_putc(&w->sql, ')');
        } else {
            lia_buf_free(&w->sql);
            return lia_error_set(err, LIA_EINVAL, "classification", c, strlen(c),
                                 "neither an RSIT taxonomy nor a type");
        }
    }
    if (qy->feed) {
        w_and(w, "report_id IN (SELECT id FROM reports WHERE feed = ?)");
        w->b[w->nb].kind = 1;
        w->b[w->nb++].s = qy->feed;
    }
    if (qy->report_id) {
        w_and(w, "report_id = ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->report_id;
    }
    if (qy->after_id) {
        w_and(w, "id > ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->after_id;
    }
    return w->sql.err ? lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long") : LIA_OK;
}

static void bind_where(sqlite3_stmt *st, const where *w, int first)
{
    for (int i = 0; i < w->nb; i++) {
        if (w->b[i].kind == 0)
            sqlite3_bind_int64(st, first + i, w->b[i].i);
        else if (w->b[i].kind == 1)
            sqlite3_bind_text(st, first + i, w->b[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_blob(st, first + i, w->b[i].b, 16, SQLITE_STATIC);
    }
}

static int sq_query(void *impl, const lia_query *qy, lia_event_cb cb, void *ud, lia_error *err)
{
    sq *q = impl;
    where w;
    lia_buf sql;
    sqlite3_stmt *st = NULL;
    lia_event ev;
    int rc = build_where(&w, qy, err), step;
    if (rc)
        return rc;
    lia_buf_init(&sql, 8192);
    lia_buf_printf(&sql, "SELECT id,report_id,line,body FROM events%s ORDER BY id", lia_buf_cstr(&w.sql));
    if (qy->limit)
        lia_buf_printf(&sql, " LIMIT %llu", (unsigned long long)qy->limit);
    lia_event_init(&ev);
    if (sqlite3_prepare_v2(q->db, lia_buf_cstr(&sql), -1, &st, NULL)) {
        rc = dberr(q, err, "querying events");
        goto out;
    }
    bind_where(st, &w, 1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 3);
        int n = sqlite3_column_bytes(st, 3);
        if ((rc = lia_event_from_json(&ev, body, (size_t)n, err))) {
            lia_error_where(err, "store", 0);
            break;
        }
        ev.id = sqlite3_column_int64(st, 0);
        ev.report_id = sqlite3_column_int64(st, 1);
        ev.line = (uint64_t)sqlite3_column_int64(st, 2);
        if ((rc = cb(ud, &ev)))
            break;
    }
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = dberr(q, err, "querying events");
out:
    sqlite3_finalize(st);
    lia_event_free(&ev);
    lia_buf_free(&sql);
    lia_buf_free(&w.sql);
    return rc;
}

static int sq_count(void *impl, const lia_query *qy, uint64_t *out, lia_error *err)
{
    sq *q = impl;
    where w;
    lia_buf sql;
    sqlite3_stmt *st = NULL;
    int rc = build_where(&w, qy, err);
    if (rc)
        return rc;
    lia_buf_init(&sql, 8192);
    lia_buf_printf(&sql, "SELECT count(*) FROM events%s", lia_buf_cstr(&w.sql));
    if (sqlite3_prepare_v2(q->db, lia_buf_cstr(&sql), -1, &st, NULL)) {
        rc = dberr(q, err, "counting events");
    } else {
        bind_where(st, &w, 1);
        if (sqlite3_step(st) == SQLITE_ROW)
            *out = (uint64_t)sqlite3_column_int64(st, 0);
        else
            rc = dberr(q, err, "counting events");
    }
    sqlite3_finalize(st);
    lia_buf_free(&sql);
    lia_buf_free(&w.sql);
    return rc;
}

static int sq_group(void *impl, const lia_query *qy, const char *by, uint64_t limit, lia_group_cb cb,
                    void *ud, lia_error *err)
{
    sq *q = impl;
    const char *col;
    where w;
    lia_buf sql;
    sqlite3_stmt *st = NULL;
    int rc, step;
    if (strcmp(by, "cc") == 0)
        col = "coalesce(src_cc,'--')";
    else if (strcmp(by, "asn") == 0)
        col = "coalesce(src_asn,0)";
    else if (strcmp(by, "class") == 0 || strcmp(by, "type") == 0)
        col = "class";
    else if (strcmp(by, "feed") == 0)
        col = "report_id";
    else
        return lia_error_set(err, LIA_EINVAL, "by", by, strlen(by), "group by cc, asn, class or feed");
    if ((rc = build_where(&w, qy, err)))
        return rc;
    lia_buf_init(&sql, 8192);
    if (strcmp(col, "report_id") == 0) /* feed: count per report, then per feed */
        lia_buf_printf(&sql,
                       "SELECT r.feed AS k, sum(x.n) AS n FROM (SELECT report_id, count(*) AS n FROM events%s"
                       " GROUP BY report_id) x JOIN reports r ON r.id = x.report_id GROUP BY k ORDER BY n DESC, k",
                       lia_buf_cstr(&w.sql));
    else
        lia_buf_printf(&sql, "SELECT %s AS k, count(*) AS n FROM events%s GROUP BY k ORDER BY n DESC, k",
                       col, lia_buf_cstr(&w.sql));
    if (limit)
        lia_buf_printf(&sql, " LIMIT %llu", (unsigned long long)limit);
    if (sqlite3_prepare_v2(q->db, lia_buf_cstr(&sql), -1, &st, NULL)) {
        rc = dberr(q, err, "grouping events");
        goto out;
    }
    bind_where(st, &w, 1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(col, "class") == 0)
            key = sqlite3_column_type(st, 0) == SQLITE_NULL ? "(none)"
                                                             : lia_class_type_name(sqlite3_column_int(st, 0));
        if ((rc = cb(ud, key, (uint64_t)sqlite3_column_int64(st, 1))))
            break;
    }
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = dberr(q, err, "grouping events");
out:
    sqlite3_finalize(st);
    lia_buf_free(&sql);
    lia_buf_free(&w.sql);
    return rc;
}

static int sq_quarantine_list(void *impl, const char *feed, int64_t report_id, uint64_t limit,
                              lia_qrow_cb cb, void *ud, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st;
    int rc = LIA_OK, step;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT q.id,q.report_id,q.line,r.feed,r.name,q.field,q.reason,q.value,q.raw,q.at"
                           " FROM quarantine q JOIN reports r ON r.id=q.report_id"
                           " WHERE (?1 IS NULL OR r.feed=?1) AND (?2=0 OR q.report_id=?2)"
                           " ORDER BY q.id LIMIT ?3",
                           -1, &st, NULL))
        return dberr(q, err, "listing quarantine");
    if (feed)
        sqlite3_bind_text(st, 1, feed, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, report_id);
    sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_qrow row = {
            .id = sqlite3_column_int64(st, 0),
            .report_id = sqlite3_column_int64(st, 1),
            .line = (uint64_t)sqlite3_column_int64(st, 2),
            .feed = (const char *)sqlite3_column_text(st, 3),
            .report_name = (const char *)sqlite3_column_text(st, 4),
            .field = (const char *)sqlite3_column_text(st, 5),
            .reason = (const char *)sqlite3_column_text(st, 6),
            .value = (const char *)sqlite3_column_text(st, 7),
            .raw = {(const char *)sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8)},
            .at_us = sqlite3_column_int64(st, 9),
        };
        if ((rc = cb(ud, &row)))
            break;
    }
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = dberr(q, err, "listing quarantine");
    sqlite3_finalize(st);
    return rc;
}

static int sq_stats_add(void *impl, const char *feed, const lia_counter *c, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st;
    int rc = LIA_OK;
    if (q->in_tx)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "stats written inside a transaction");
    if ((rc = exec(q, "BEGIN IMMEDIATE", err)))
        return rc;
    if (sqlite3_prepare_v2(q->db,
                           "INSERT INTO feed_stats(feed,stage,n_in,n_out,n_err,ns,reports,last)"
                           " VALUES(?,?,?,?,?,?,1,?) ON CONFLICT(feed,stage) DO UPDATE SET"
                           " n_in=n_in+excluded.n_in, n_out=n_out+excluded.n_out,"
                           " n_err=n_err+excluded.n_err, ns=ns+excluded.ns,"
                           " reports=reports+1, last=excluded.last",
                           -1, &st, NULL)) {
        rc = dberr(q, err, "recording stats");
        exec(q, "ROLLBACK", NULL);
        return rc;
    }
    for (int i = 0; i < LIA_ST__COUNT && rc == LIA_OK; i++) {
        sqlite3_bind_text(st, 1, feed, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c[i].in);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)c[i].out);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)c[i].errors);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)c[i].ns);
        sqlite3_bind_int64(st, 7, lia__now_us());
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = dberr(q, err, "recording stats");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == LIA_OK)
        rc = exec(q, "COMMIT", err);
    if (rc)
        exec(q, "ROLLBACK", NULL);
    return rc;
}

static int sq_stats(void *impl, lia_stats_cb cb, void *ud, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st;
    int rc = LIA_OK, step;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT feed,stage,n_in,n_out,n_err,ns,reports,last FROM feed_stats ORDER BY feed,stage",
                           -1, &st, NULL))
        return dberr(q, err, "reading stats");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_counter c = {(uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
                         (uint64_t)sqlite3_column_int64(st, 4), (uint64_t)sqlite3_column_int64(st, 5)};
        if ((rc = cb(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1), &c,
                     (uint64_t)sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7))))
            break;
    }
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = dberr(q, err, "reading stats");
    sqlite3_finalize(st);
    return rc;
}

static int sq_check(void *impl, lia_error *err)
{
    sq *q = impl;
    sqlite3_stmt *st;
    int rc = LIA_OK;
    if (sqlite3_prepare_v2(q->db, "PRAGMA integrity_check", -1, &st, NULL))
        return dberr(q, err, "integrity check");
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

const lia_store_backend lia_store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .report_begin = sq_report_begin,
    .put_events = sq_put_events,
    .put_quarantine = sq_put_quarantine,
    .checkpoint = sq_checkpoint,
    .report_finish = sq_report_finish,
    .set_bulk_min = sq_set_bulk_min,
    .report_get = sq_report_get,
    .query = sq_query,
    .count = sq_count,
    .quarantine_list = sq_quarantine_list,
    .group = sq_group,
    .stats_add = sq_stats_add,
    .stats = sq_stats,
    .check = sq_check,
    .native = sq_native,
};

int lia_sqlite_error(void *db, lia_error *err, const char *what)
{
    return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s: %s", what, sqlite3_errmsg(db));
}
