/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The events store: owner of the reports, events, quarantine and
 * feed_stats tables, on the database layer (db.h). Events keep the indexed
 * fields in columns and the whole harmonised event as flat JSON in `body`.
 * Writes happen in one open transaction that lia__store_checkpoint() commits
 * together with the report's progress, so a crash loses at most the
 * uncommitted batch. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/fault.h"
#include "liaison/limits.h"
#include "store/backend.h"
#include "store/db.h"
#include "store/events.h"
#include "store/parts.h"
#include "core/field_internal.h"

typedef struct sq {
    lia_db *db;
    lia_stmt *ins_event;
    lia_stmt *ins_quar;
    int in_tx;
    int bulk;          /* this report loads without the secondary indexes */
    uint64_t bulk_min; /* reports of at least this many bytes may load so */
    lia_buf body;
    lia__rollup_acc acc; /* the dashboard's rollups of the open transaction */
    lia__parts *parts;   /* SQLite: the events' partitions (store/parts.h); NULL: one events table */
} sq;

/* A store from before the migration registry kept its version in SQLite's
 * user_version (1, or higher for a newer program). Migration 1 creates
 * only what is missing, so an old store is adopted at any version <= 1. */
static int adopt(lia_db *db, int *version, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *version = 0;
    if (!lia__db_has_table(db, "reports"))
        return LIA_OK;
    if ((rc = lia__db_prepare_once(db, "reading schema version", "PRAGMA user_version", &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        *version = (int)lia__db_col_int64(st, 0);
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS reports("
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
            "CREATE TABLE IF NOT EXISTS events("
            "  id INTEGER PRIMARY KEY,"
            "  report_id INTEGER NOT NULL REFERENCES reports(id),"
            "  line INTEGER NOT NULL,"
            "  time INTEGER," /* time.source, else time.observation (us) */
            "  src_ip BLOB,"  /* 16 bytes, IPv4 as ::ffff:a.b.c.d */
            "  src_asn INTEGER,"
            "  src_cc TEXT,"
            "  class INTEGER," /* classification.type: index in src/core/classify.c (append-only) */
            "  tlp INTEGER,"
            "  body TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS events_time ON events(time);"
            "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);"
            "CREATE INDEX IF NOT EXISTS events_src_cc ON events(src_cc);"
            "CREATE INDEX IF NOT EXISTS events_src_asn ON events(src_asn);"
            "CREATE INDEX IF NOT EXISTS events_class ON events(class);"
            "CREATE INDEX IF NOT EXISTS events_report ON events(report_id, line);" /* feed, and trace to
                                                                                      report and line */
            "CREATE INDEX IF NOT EXISTS reports_feed ON reports(feed);"
            "CREATE TABLE IF NOT EXISTS quarantine("
            "  id INTEGER PRIMARY KEY,"
            "  report_id INTEGER NOT NULL REFERENCES reports(id),"
            "  line INTEGER NOT NULL,"
            "  field TEXT,"
            "  value TEXT,"
            "  reason TEXT NOT NULL,"
            "  raw BLOB NOT NULL,"
            "  at INTEGER NOT NULL);"
            "CREATE INDEX IF NOT EXISTS quarantine_report ON quarantine(report_id, line);"
            "CREATE TABLE IF NOT EXISTS feed_stats("
            "  feed TEXT NOT NULL,"
            "  stage INTEGER NOT NULL,"
            "  n_in INTEGER NOT NULL DEFAULT 0,"
            "  n_out INTEGER NOT NULL DEFAULT 0,"
            "  n_err INTEGER NOT NULL DEFAULT 0,"
            "  ns INTEGER NOT NULL DEFAULT 0,"
            "  reports INTEGER NOT NULL DEFAULT 0,"
            "  last INTEGER,"
            "  PRIMARY KEY(feed, stage));"},
};

static const lia_schema store_schema = {"store", 1, migrations, adopt, .pg = 1};

/* Bulk loading. Keeping six B-tree indexes up to date row by row costs
 * most of an ingest (docs/performance.md), and more the larger they grow;
 * building an index once, from sorted keys, costs a fraction of that. So a
 * report that is big both in bytes and against what the store already holds
 * is loaded without the five secondary indexes of the events table, which
 * are built again when the report is finished. Queries meanwhile are right,
 * only slower.
 *
 * Crash safety: the indexes are built in the transaction that marks the
 * report complete (with its last events and its stats), so a report is
 * never complete without its indexes: if the process is killed during the
 * build, the report is still partial and running the same ingest again
 * resumes it and builds them. An ingest that fails builds them at close.
 * A store left with indexes missing and no partial report (a store of an
 * older version killed during the build) gets them back when it is opened
 * for writing, and when a complete report is ingested again. The CREATE
 * statements are those of migration 1. */
static const char *const index_sql[] = {
    "CREATE INDEX IF NOT EXISTS events_time ON events(time)",
    "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip)",
    "CREATE INDEX IF NOT EXISTS events_src_cc ON events(src_cc)",
    "CREATE INDEX IF NOT EXISTS events_src_asn ON events(src_asn)",
    "CREATE INDEX IF NOT EXISTS events_class ON events(class)",
};
static const char *const index_names[] = {"events_time", "events_src_ip", "events_src_cc", "events_src_asn",
                                          "events_class"};
static const char bulk_drop_sql[] = "DROP INDEX IF EXISTS events_time; DROP INDEX IF EXISTS events_src_ip;"
                                    "DROP INDEX IF EXISTS events_src_cc; DROP INDEX IF EXISTS events_src_asn;"
                                    "DROP INDEX IF EXISTS events_class;";
static const char ensure_indexes_sql[] = "CREATE INDEX IF NOT EXISTS events_time ON events(time);"
                                         "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);"
                                         "CREATE INDEX IF NOT EXISTS events_src_cc ON events(src_cc);"
                                         "CREATE INDEX IF NOT EXISTS events_src_asn ON events(src_asn);"
                                         "CREATE INDEX IF NOT EXISTS events_class ON events(class);";

static int exec(sq *q, const char *sql, lia_error *err)
{
    return lia__db_exec(q->db, sql, err);
}

static int indexes_missing(sq *q)
{
    for (size_t i = 0; i < sizeof index_names / sizeof *index_names; i++)
        if (!lia__db_has_index(q->db, index_names[i]))
            return 1;
    return 0;
}

/* Build the missing secondary indexes in the caller's transaction (or
 * each in its own), with the fault point "index-build" after the first. */
static int build_indexes(sq *q, lia_error *err)
{
    int rc;
    for (size_t i = 0; i < sizeof index_sql / sizeof *index_sql; i++) {
        if ((rc = exec(q, index_sql[i], err))) {
            char why[LIA_ERR_REASON_MAX];
            snprintf(why, sizeof why, "%s", err ? err->reason : "");
            lia_error_set(err, rc, NULL, NULL, 0, "building index %s of table events in %s: %s",
                          index_names[i], lia__db_path(q->db), why);
            return rc;
        }
        lia__fault_point("index-build");
    }
    return LIA_OK;
}

/* At open for writing: indexes missing while no report is being loaded
 * (a store of an older version killed during a bulk load's build) are
 * built again. Best effort: queries are right without them, only slower;
 * a store locked by another process is left for the next open. */
static void repair_indexes(sq *q)
{
    lia_stmt *st;
    int partial = 1;
    if (!indexes_missing(q))
        return;
    if (lia__db_prepare(q->db, "looking for partial reports", "SELECT count(*) FROM reports WHERE state<>?",
                        &st, NULL))
        return;
    lia__db_bind_int64(st, 1, LIA_REPORT_COMPLETE);
    if (lia__db_step(st, NULL) == LIA_DB_ROW)
        partial = lia__db_col_int64(st, 0) != 0;
    lia__db_done(st);
    if (partial || lia__db_begin(q->db, NULL))
        return;
    if (build_indexes(q, NULL) || lia__db_commit(q->db, NULL))
        lia__db_rollback(q->db);
}

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    if (q->in_tx)
        lia__db_rollback(q->db);
    if (q->bulk) /* a bulk load that did not finish (an error): the indexes back now */
        exec(q, ensure_indexes_sql, NULL);
    lia__parts_close(q->parts);
    lia__db_close(q->db);
    lia_buf_free(&q->body);
    lia__rollup_acc_free(&q->acc);
    free(q);
}

/* The two statements of the hot path are prepared once, for the life of
 * the store, not looked up per batch. */
static const char ins_event_sql[] =
    "INSERT INTO events(report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body)"
    " VALUES(?,?,?,?,?,?,?,?,?)";
static const char ins_quar_sql[] = "INSERT INTO quarantine(report_id,line,field,value,reason,raw,at)"
                                   " VALUES(?,?,?,?,?,?,?)";

static int sq_open(void **impl, const char *path, lia_error *err)
{
    sq *q = calloc(1, sizeof *q);
    int rc;
    if (!q)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&q->body, LIA_MAX_EVENT_TEXT * 2);
    lia__rollup_acc_init(&q->acc);
    q->bulk_min = LIA_BULK_MIN_BYTES;
    if ((rc = lia__db_open(path, 0, &q->db, err))) {
        sq_close(q);
        return rc;
    }
    /* a read-only store of an older version opens without its rollups:
     * it is queried, not written, and the summary says the table is missing */
    if ((rc = lia__db_schema(q->db, &store_schema, err)) ||
        (!lia__db_is_pg(q->db) && (rc = lia__parts_open(q->db, &q->parts, err))) ||
        ((rc = lia__store_rollup_schema(q->db, err)) && rc != LIA_EREADONLY) ||
        (!q->parts && (rc = lia__db_prepare(q->db, "storing event", ins_event_sql, &q->ins_event, err))) ||
        (rc = lia__db_prepare(q->db, "storing quarantined row", ins_quar_sql, &q->ins_quar, err))) {
        lia_error_where(err, path, 0);
        sq_close(q);
        return rc;
    }
    if (q->parts) { /* a test's or benchmark's partition size (docs/store.md) */
        const char *v = getenv("LIAISON_PART_ROWS");
        int64_t n = 0;
        for (; v && *v >= '0' && *v <= '9' && n < ((int64_t)1 << 40); v++)
            n = n * 10 + (*v - '0');
        if (v && !*v && n > 0)
            lia__parts_set_rows(q->parts, n);
    }
    if (!q->parts)
        repair_indexes(q);
    else if (!lia__db_readonly(q->db)) /* a partition left full and not sealed (killed): best effort */
        lia__parts_seal(q->parts, NULL);
    *impl = q;
    return LIA_OK;
}

static int sq_schema_version(void *impl)
{
    return lia__db_schema_version(((sq *)impl)->db, store_schema.name);
}
static lia_db *sq_db(void *impl)
{
    return ((sq *)impl)->db;
}

static int begin(sq *q, lia_error *err)
{
    int rc;
    if (q->in_tx)
        return LIA_OK;
    if ((rc = lia__db_begin(q->db, err)))
        return rc;
    if (q->parts && (rc = lia__parts_begin(q->parts, err))) {
        lia__db_rollback(q->db);
        return rc;
    }
    q->in_tx = 1;
    return LIA_OK;
}

static void copy_text(char *dst, size_t n, lia_stmt *st, int col)
{
    const char *s = lia__db_col_text(st, col);
    snprintf(dst, n, "%s", s ? s : "");
}

static void load_report(lia_stmt *st, lia_report *r)
{
    r->id = lia__db_col_int64(st, 0);
    copy_text(r->hash, sizeof r->hash, st, 1);
    copy_text(r->feed, sizeof r->feed, st, 2);
    copy_text(r->name, sizeof r->name, st, 3);
    copy_text(r->archive, sizeof r->archive, st, 4);
    r->size = (uint64_t)lia__db_col_int64(st, 5);
    r->state = (int)lia__db_col_int64(st, 6);
    r->lines_done = (uint64_t)lia__db_col_int64(st, 7);
    r->rows = (uint64_t)lia__db_col_int64(st, 8);
    r->events = (uint64_t)lia__db_col_int64(st, 9);
    r->quarantined = (uint64_t)lia__db_col_int64(st, 10);
    r->duplicates = (uint64_t)lia__db_col_int64(st, 11);
    r->started_us = lia__db_col_int64(st, 12);
    r->finished_us = lia__db_col_int64(st, 13);
}

#define REPORT_COLS                                                                                          \
    "id,hash,feed,name,archive,size,state,lines_done,rows,events,quarantined,duplicates,started,finished"

static int report_row(sq *q, lia_report *r, lia_error *err);

/* The indexes are all there (a no-op then), or dropped for a bulk load. */
static int sq_report_begin(void *impl, lia_report *r, lia_error *err)
{
    sq *q = impl;
    int rc = report_row(q, r, err);
    lia_stmt *st;
    int64_t stored = 0;
    if (rc)
        return rc;
    if (q->parts) /* no bulk mode: the active partition has no secondary indexes to drop */
        return q->in_tx ? LIA_OK : lia__parts_seal(q->parts, err);
    if (r->state == LIA_REPORT_COMPLETE) {
        repair_indexes(q); /* a store killed during the build by an older version */
        return LIA_OK;
    }
    if ((rc = lia__db_prepare(q->db, "counting events", "SELECT coalesce(max(id), 0) FROM events", &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        stored = lia__db_col_int64(st, 0);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    q->bulk = r->size >= q->bulk_min && r->size / LIA_BULK_ROW_BYTES >= (uint64_t)stored;
    rc = exec(q, q->bulk ? bulk_drop_sql : ensure_indexes_sql, err);
    if (rc)
        q->bulk = 0;
    /* Sorting for the build needs room in proportion to the table: on
     * disk, not in memory. Set now: SQLite cannot change it inside the
     * transaction that builds them. */
    if (q->bulk)
        lia__db_sort_on_disk(q->db, 1);
    return rc;
}

static int report_row(sq *q, lia_report *r, lia_error *err)
{
    lia_stmt *st = NULL;
    int rc, step;
    if ((rc = lia__db_prepare(q->db, "looking up report", "SELECT " REPORT_COLS " FROM reports WHERE hash=?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, r->hash, -1);
    step = lia__db_step(st, err);
    if (step == LIA_DB_ROW) {
        char feed[sizeof r->feed], name[sizeof r->name];
        snprintf(feed, sizeof feed, "%s", r->feed);
        snprintf(name, sizeof name, "%s", r->name);
        load_report(st, r);
        lia__db_done(st);
        if (r->state != LIA_REPORT_COMPLETE && strcmp(feed, r->feed) != 0)
            return lia_error_set(err, LIA_EEXIST, "feed", feed, strlen(feed),
                                 "report %s was started as feed %s; resume it with that feed", name, r->feed);
        return LIA_OK;
    }
    lia__db_done(st);
    if (step < 0)
        return step;
    r->started_us = lia__now_us();
    r->state = LIA_REPORT_PARTIAL;
    if ((rc = lia__db_prepare(
             q->db, "registering report",
             "INSERT INTO reports(hash,feed,name,archive,size,state,started) VALUES(?,?,?,?,?,?,?)", &st,
             err)))
        return rc;
    lia__db_bind_text(st, 1, r->hash, -1);
    lia__db_bind_text(st, 2, r->feed, -1);
    lia__db_bind_text(st, 3, r->name, -1);
    lia__db_bind_null(st, 4);
    lia__db_bind_int64(st, 5, (int64_t)r->size);
    lia__db_bind_int64(st, 6, LIA_REPORT_PARTIAL);
    lia__db_bind_int64(st, 7, r->started_us);
    if ((rc = lia__db_run(st, err)) == LIA_OK)
        r->id = lia__db_last_id(q->db);
    lia__db_done(st);
    r->state = LIA_REPORT_NEW;
    return rc;
}

/* PostgreSQL: the batch in one COPY (db.h's bulk insert) with ids
 * reserved first, a block no other loader takes, so the events know their
 * ids without a read back and a batch's ids are consecutive as on SQLite
 * (route counts a batch's decisions by id range). The columns as
 * sq_put_events binds them. */
static int pg_put_events(sq *q, const lia_report *r, lia_event *ev, size_t n, lia_error *err)
{
    lia_bulk *b = NULL;
    int64_t first = 0;
    int rc;
    if (n == 0)
        return LIA_OK;
    if ((rc = lia__db_reserve_ids(q->db, "events", "id", (int64_t)n, &first, err)) ||
        (rc = lia__db_bulk_begin(q->db, "storing events", "events",
                                 "id,report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body", 10, &b, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const lia_event *e = &ev[i];
        uint8_t key[16];
        lia_buf_reset(&q->body);
        if ((rc = lia_event_to_json(e, &q->body))) {
            lia__db_bulk_abort(b);
            return rc == LIA_ENOMEM
                       ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory writing an event")
                       : lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "event too large to store");
        }
        lia__db_bulk_int64(b, first + (int64_t)i);
        lia__db_bulk_int64(b, r->id);
        lia__db_bulk_int64(b, (int64_t)e->line);
        if (lia_event_has(e, LIA_F_TIME_SOURCE))
            lia__db_bulk_int64(b, e->v[LIA_F_TIME_SOURCE].i);
        else if (lia_event_has(e, LIA_F_TIME_OBSERVATION))
            lia__db_bulk_int64(b, e->v[LIA_F_TIME_OBSERVATION].i);
        else
            lia__db_bulk_null(b);
        if (lia_event_has(e, LIA_F_SOURCE_IP)) {
            lia__ip_key(&e->v[LIA_F_SOURCE_IP].ip, key);
            lia__db_bulk_blob(b, key, 16); /* copied into the load */
        } else {
            lia__db_bulk_null(b);
        }
        if (lia_event_has(e, LIA_F_SOURCE_ASN))
            lia__db_bulk_int64(b, e->v[LIA_F_SOURCE_ASN].i);
        else
            lia__db_bulk_null(b);
        if (lia_event_has(e, LIA_F_SOURCE_GEOLOCATION_CC)) {
            lia_slice cc = lia_event_str(e, LIA_F_SOURCE_GEOLOCATION_CC);
            lia__db_bulk_text(b, cc.ptr, (ptrdiff_t)cc.len);
        } else {
            lia__db_bulk_null(b);
        }
        if (lia_event_has(e, LIA_F_CLASSIFICATION_TYPE))
            lia__db_bulk_int64(b, e->v[LIA_F_CLASSIFICATION_TYPE].i);
        else
            lia__db_bulk_null(b);
        if (lia_event_has(e, LIA_F_TLP))
            lia__db_bulk_int64(b, e->v[LIA_F_TLP].i);
        else
            lia__db_bulk_null(b);
        lia__db_bulk_text(b, q->body.ptr, (ptrdiff_t)q->body.len);
        if ((rc = lia__db_bulk_row(b, err))) {
            lia__db_bulk_abort(b);
            return rc;
        }
        ev[i].id = first + (int64_t)i;
    }
    if ((rc = lia__db_bulk_end(b, err)))
        return rc;
    return lia__rollup_acc_add(q->db, &q->acc, r->id, ev, n, err);
}

static int sq_put_events(void *impl, const lia_report *r, lia_event *ev, size_t n, lia_error *err)
{
    sq *q = impl;
    lia_stmt *st = q->ins_event;
    int rc = begin(q, err);
    if (rc)
        return rc;
    if (lia__db_is_pg(q->db))
        return pg_put_events(q, r, ev, n, err);
    for (size_t i = 0; i < n; i++) {
        const lia_event *e = &ev[i];
        uint8_t key[16];
        int64_t id = 0;
        lia_buf_reset(&q->body);
        if (q->parts && (rc = lia__parts_next(q->parts, &st, &id, err)))
            return rc;
        if ((rc = lia_event_to_json(e, &q->body)))
            return rc == LIA_ENOMEM
                       ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory writing an event")
                       : lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "event too large to store");
        lia__db_bind_int64(st, 1, r->id);
        lia__db_bind_int64(st, 2, (int64_t)e->line);
        if (lia_event_has(e, LIA_F_TIME_SOURCE))
            lia__db_bind_int64(st, 3, e->v[LIA_F_TIME_SOURCE].i);
        else if (lia_event_has(e, LIA_F_TIME_OBSERVATION))
            lia__db_bind_int64(st, 3, e->v[LIA_F_TIME_OBSERVATION].i);
        else
            lia__db_bind_null(st, 3);
        if (q->parts) {
            lia__db_bind_int64(st, 10, id);
            lia__parts_note(q->parts,
                            lia_event_has(e, LIA_F_TIME_SOURCE) || lia_event_has(e, LIA_F_TIME_OBSERVATION),
                            lia_event_has(e, LIA_F_TIME_SOURCE) ? e->v[LIA_F_TIME_SOURCE].i
                                                                : e->v[LIA_F_TIME_OBSERVATION].i);
        }
        if (lia_event_has(e, LIA_F_SOURCE_IP)) {
            lia__ip_key(&e->v[LIA_F_SOURCE_IP].ip, key);
            lia__db_bind_blob(st, 4, key, 16); /* key lives until the step below */
        } else {
            lia__db_bind_null(st, 4);
        }
        if (lia_event_has(e, LIA_F_SOURCE_ASN))
            lia__db_bind_int64(st, 5, e->v[LIA_F_SOURCE_ASN].i);
        else
            lia__db_bind_null(st, 5);
        if (lia_event_has(e, LIA_F_SOURCE_GEOLOCATION_CC)) {
            lia_slice cc = lia_event_str(e, LIA_F_SOURCE_GEOLOCATION_CC);
            lia__db_bind_text(st, 6, cc.ptr, (ptrdiff_t)cc.len);
        } else {
            lia__db_bind_null(st, 6);
        }
        if (lia_event_has(e, LIA_F_CLASSIFICATION_TYPE))
            lia__db_bind_int64(st, 7, e->v[LIA_F_CLASSIFICATION_TYPE].i);
        else
            lia__db_bind_null(st, 7);
        if (lia_event_has(e, LIA_F_TLP))
            lia__db_bind_int64(st, 8, e->v[LIA_F_TLP].i);
        else
            lia__db_bind_null(st, 8);
        lia__db_bind_text(st, 9, q->body.ptr, (ptrdiff_t)q->body.len);
        rc = lia__db_run(st, err);
        lia__db_reset(st);
        if (rc)
            return rc;
        ev[i].id = q->parts ? id : lia__db_last_id(q->db);
    }
    /* the transaction's ids are consecutive: one writer */
    return lia__rollup_acc_add(q->db, &q->acc, r->id, ev, n, err);
}

static int sq_put_quarantine(void *impl, const lia_report *r, uint64_t line, lia_slice raw,
                             const lia_error *why, lia_error *err)
{
    sq *q = impl;
    lia_stmt *st = q->ins_quar;
    int rc = begin(q, err);
    char reason[LIA_ERR_REASON_MAX + 32];
    if (rc)
        return rc;
    snprintf(reason, sizeof reason, "%s", why->reason[0] ? why->reason : lia_strerror(why->code));
    lia__db_bind_int64(st, 1, r->id);
    lia__db_bind_int64(st, 2, (int64_t)line);
    lia__db_bind_text(st, 3, why->field[0] ? why->field : NULL, -1);
    lia__db_bind_text(st, 4, why->value[0] ? why->value : NULL, -1);
    lia__db_bind_text(st, 5, reason, -1);
    lia__db_bind_blob(st, 6, raw.ptr ? raw.ptr : "", raw.len > LIA_MAX_ROW ? LIA_MAX_ROW : raw.len);
    lia__db_bind_int64(st, 7, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_reset(st);
    return rc;
}

static int update_report(sq *q, const lia_report *r, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(q->db, "updating report",
                              "UPDATE reports SET lines_done=?,rows=?,events=?,quarantined=?,duplicates=?,"
                              "state=?,finished=?,archive=? WHERE id=?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, (int64_t)r->lines_done);
    lia__db_bind_int64(st, 2, (int64_t)r->rows);
    lia__db_bind_int64(st, 3, (int64_t)r->events);
    lia__db_bind_int64(st, 4, (int64_t)r->quarantined);
    lia__db_bind_int64(st, 5, (int64_t)r->duplicates);
    lia__db_bind_int64(st, 6, r->state == LIA_REPORT_COMPLETE ? LIA_REPORT_COMPLETE : LIA_REPORT_PARTIAL);
    if (r->finished_us)
        lia__db_bind_int64(st, 7, r->finished_us);
    else
        lia__db_bind_null(st, 7);
    lia__db_bind_text(st, 8, r->archive[0] ? r->archive : NULL, -1);
    lia__db_bind_int64(st, 9, r->id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static int sq_checkpoint(void *impl, const lia_report *r, lia_error *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    q->in_tx = 0;
    if ((rc = lia__rollup_acc_flush(q->db, &q->acc, err)) ||
        (q->parts && (rc = lia__parts_flush(q->parts, err))) || (rc = update_report(q, r, err))) {
        lia__rollup_acc_reset(&q->acc);
        if (q->parts)
            lia__parts_reset(q->parts);
        lia__db_rollback(q->db);
        return rc;
    }
    if ((rc = lia__db_commit(q->db, err)) && q->parts)
        lia__parts_reset(q->parts);
    /* a partition filled by this batch: sealed now, in its own transaction.
     * Best effort: if it fails (killed, disk full), the partition is right
     * but slower, and the next write or open seals it. */
    if (rc == LIA_OK && q->parts)
        lia__parts_seal(q->parts, NULL);
    return rc;
}

static int stats_write(sq *q, const char *feed, const lia_counter *c, lia_error *err);

/* One transaction: the report's last events (the open batch), its counts
 * and state complete, the run's stats (c, if not NULL) and, after a bulk
 * load, the indexes. A failure rolls all of it back (the report stays
 * partial and resumes). */
static int sq_report_finish(void *impl, lia_report *r, const lia_counter *c, lia_error *err)
{
    sq *q = impl;
    int rc = begin(q, err);
    if (rc)
        return rc;
    r->state = LIA_REPORT_COMPLETE;
    if ((rc = lia__rollup_acc_flush(q->db, &q->acc, err)) ||
        (q->parts && (rc = lia__parts_flush(q->parts, err))) || (rc = update_report(q, r, err)) ||
        (c && (rc = stats_write(q, r->feed, c, err))))
        goto out;
    if (q->bulk) {
        /* a smaller page cache meanwhile: peak memory stays that of the load */
        lia__db_set_cache(q->db, (size_t)64 << 20);
        rc = build_indexes(q, err);
        lia__db_set_cache(q->db, (size_t)256 << 20);
        if (rc)
            goto out;
    }
    q->in_tx = 0;
    rc = lia__db_commit(q->db, err);
out:
    if (rc) {
        lia__rollup_acc_reset(&q->acc);
        if (q->in_tx) {
            q->in_tx = 0;
            lia__db_rollback(q->db);
        }
        if (q->parts)
            lia__parts_reset(q->parts);
        r->state = LIA_REPORT_PARTIAL;
        return rc;
    }
    if (q->bulk) {
        lia__db_sort_on_disk(q->db, 0);
        q->bulk = 0;
    }
    if (q->parts) /* as at a checkpoint */
        lia__parts_seal(q->parts, NULL);
    return LIA_OK;
}

/* Undo the open batch (events, quarantine, stage rows since the last
 * checkpoint): an ingest that failed leaves nothing of its tail. */
static void sq_abort(void *impl)
{
    sq *q = impl;
    lia__rollup_acc_reset(&q->acc);
    if (q->parts)
        lia__parts_reset(q->parts);
    if (q->in_tx) {
        q->in_tx = 0;
        lia__db_rollback(q->db);
    }
}

static void sq_set_bulk_min(void *impl, uint64_t bytes)
{
    ((sq *)impl)->bulk_min = bytes;
}

static void sq_set_part_rows(void *impl, int64_t rows)
{
    lia__parts_set_rows(((sq *)impl)->parts, rows);
}

static int sq_report_get(void *impl, int64_t id, lia_report *r, lia_error *err)
{
    sq *q = impl;
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(q->db, "reading report", "SELECT " REPORT_COLS " FROM reports WHERE id=?", &st,
                              err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        load_report(st, r);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, NULL, NULL, 0, "no report %lld", (long long)id);
    }
    lia__db_done(st);
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
        lia__ip_key(&qy->ip, lo);
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
            for (int t = 0; t < lia__class_type_count() && w->nb < 28; t++) {
                if (lia__class_type_taxonomy(t) != tax)
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
    if (qy->recipient) { /* one primary-key probe of route_decision per event */
        w_and(w, "EXISTS (SELECT 1 FROM route_decision d WHERE d.event_id = events.id AND d.recipient = ?"
                 " AND d.verdict = 1)");
        w->b[w->nb].kind = 1;
        w->b[w->nb++].s = qy->recipient;
    }
    if (qy->after_id) {
        w_and(w, "id > ?");
        w->b[w->nb].kind = 0;
        w->b[w->nb++].i = qy->after_id;
    }
    return w->sql.err ? lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long") : LIA_OK;
}

static void bind_where(lia_stmt *st, const where *w, int first)
{
    for (int i = 0; i < w->nb; i++) {
        if (w->b[i].kind == 0)
            lia__db_bind_int64(st, first + i, w->b[i].i);
        else if (w->b[i].kind == 1)
            lia__db_bind_text(st, first + i, w->b[i].s, -1);
        else
            lia__db_bind_blob(st, first + i, w->b[i].b, 16);
    }
}

/* The rows of one statement (sql, the where's binds from ?1) to cb;
 * *sent counts them. */
static int query_rows(sq *q, const char *sql, const where *w, lia_event_cb cb, void *ud, lia_event *ev,
                      uint64_t *sent, lia_error *err)
{
    lia_stmt *st = NULL;
    int rc, step;
    if ((rc = lia__db_prepare_once(q->db, "querying events", sql, &st, err)))
        return rc;
    bind_where(st, w, 1);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *body = lia__db_col_text(st, 3);
        size_t n = lia__db_col_bytes(st, 3);
        if ((rc = lia_event_from_json(ev, body, n, err))) {
            lia_error_where(err, "store", 0);
            break;
        }
        ev->id = lia__db_col_int64(st, 0);
        ev->report_id = lia__db_col_int64(st, 1);
        ev->line = (uint64_t)lia__db_col_int64(st, 2);
        (*sent)++;
        if ((rc = cb(ud, ev)))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

/* The partitions a query may find events in (SQLite), in id order. */
static int query_parts(sq *q, const lia_query *qy, lia__part **v, size_t *n, lia_error *err)
{
    return lia__parts_list(q->db, qy->since_us, qy->until_us, qy->after_id, v, n, err);
}

/* Partitioned, the query runs on each partition in id order (their id
 * ranges follow each other), with what is left of the limit, so the
 * order and the limit are those of one table; a partition whose time
 * range the query's excludes is not read. */
static int sq_query(void *impl, const lia_query *qy, lia_event_cb cb, void *ud, lia_error *err)
{
    sq *q = impl;
    where w;
    lia_buf sql;
    lia_event ev;
    lia__part *v = NULL;
    size_t nv = 0;
    uint64_t sent = 0;
    int rc = build_where(&w, qy, err);
    if (rc)
        return rc;
    lia_buf_init(&sql, 8192);
    lia_event_init(&ev);
    if (!q->parts) {
        lia_buf_printf(&sql, "SELECT id,report_id,line,body FROM events%s ORDER BY id", lia_buf_cstr(&w.sql));
        if (qy->limit)
            lia_buf_printf(&sql, " LIMIT %llu", (unsigned long long)qy->limit);
        rc = query_rows(q, lia_buf_cstr(&sql), &w, cb, ud, &ev, &sent, err);
        goto out;
    }
    if ((rc = query_parts(q, qy, &v, &nv, err)))
        goto out;
    for (size_t i = 0; i < nv && rc == LIA_OK && (!qy->limit || sent < qy->limit); i++) {
        lia_buf_reset(&sql);
        if (!qy->limit || !w.nb) {
            lia_buf_printf(&sql, "SELECT id,report_id,line,body FROM events_%lld AS events%s ORDER BY id",
                           (long long)v[i].n, lia_buf_cstr(&w.sql));
            if (qy->limit)
                lia_buf_printf(&sql, " LIMIT %llu", (unsigned long long)(qy->limit - sent));
        } else {
            /* the page's ids first, from an index alone (an equality's
             * entries are in id order; a range's ids are sorted, not its
             * rows), then only those rows read */
            lia_buf_printf(&sql,
                           "SELECT id,report_id,line,body FROM events_%lld WHERE id IN (SELECT id FROM"
                           " events_%lld AS events%s ORDER BY id LIMIT %llu) ORDER BY id",
                           (long long)v[i].n, (long long)v[i].n, lia_buf_cstr(&w.sql),
                           (unsigned long long)(qy->limit - sent));
        }
        rc = query_rows(q, lia_buf_cstr(&sql), &w, cb, ud, &ev, &sent, err);
    }
out:
    free(v);
    lia_event_free(&ev);
    lia_buf_free(&sql);
    lia_buf_free(&w.sql);
    return rc;
}

static int count_one(sq *q, const char *sql, const where *w, uint64_t *out, lia_error *err)
{
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__db_prepare_once(q->db, "counting events", sql, &st, err)) == LIA_OK) {
        bind_where(st, w, 1);
        if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
            *out += (uint64_t)lia__db_col_int64(st, 0);
            rc = LIA_OK;
        } else if (rc == LIA_DB_DONE) {
            rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "counting events: no result");
        }
    }
    lia__db_done(st);
    return rc;
}

static int sq_count(void *impl, const lia_query *qy, uint64_t *out, lia_error *err)
{
    sq *q = impl;
    where w;
    lia_buf sql;
    lia__part *v = NULL;
    size_t nv = 0;
    uint64_t n = 0;
    int rc = build_where(&w, qy, err);
    if (rc)
        return rc;
    lia_buf_init(&sql, 8192);
    if (!q->parts) {
        lia_buf_printf(&sql, "SELECT count(*) FROM events%s", lia_buf_cstr(&w.sql));
        rc = count_one(q, lia_buf_cstr(&sql), &w, &n, err);
    } else if ((rc = query_parts(q, qy, &v, &nv, err)) == LIA_OK) {
        for (size_t i = 0; i < nv && rc == LIA_OK; i++) {
            lia_buf_reset(&sql);
            lia_buf_printf(&sql, "SELECT count(*) FROM events_%lld AS events%s", (long long)v[i].n,
                           lia_buf_cstr(&w.sql));
            rc = count_one(q, lia_buf_cstr(&sql), &w, &n, err);
        }
    }
    if (rc == LIA_OK)
        *out = n;
    free(v);
    lia_buf_free(&sql);
    lia_buf_free(&w.sql);
    return rc;
}

/* FROM of a group: the events table, or the UNION ALL of the partitions
 * the query may find events in, each with the query's conditions (so each
 * uses its own indexes); *arms: how many times the binds repeat. */
static int group_from(sq *q, const lia_query *qy, const where *w, lia_buf *from, int *arms, lia_error *err)
{
    lia__part *v = NULL;
    size_t nv = 0;
    int rc;
    *arms = 1;
    if (!q->parts) {
        lia_buf_printf(from, "events%s", lia_buf_cstr(&w->sql));
        return LIA_OK;
    }
    if ((rc = query_parts(q, qy, &v, &nv, err)))
        return rc;
    if (nv > LIA_PART_VIEW_ARMS) { /* too many for one compound SELECT: through the view */
        free(v);
        lia_buf_printf(from, "events%s", lia_buf_cstr(&w->sql));
        return LIA_OK;
    }
    *arms = (int)nv;
    lia_buf_putc(from, '(');
    for (size_t i = 0; i < nv; i++)
        lia_buf_printf(from, "%sSELECT * FROM events_%lld AS events%s", i ? " UNION ALL " : "",
                       (long long)v[i].n, lia_buf_cstr(&w->sql));
    lia_buf_puts(from, ") AS events");
    free(v);
    return from->err ? lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long") : LIA_OK;
}

static int sq_group(void *impl, const lia_query *qy, const char *by, uint64_t limit, lia_group_cb cb,
                    void *ud, lia_error *err)
{
    sq *q = impl;
    const char *col;
    where w;
    lia_buf sql, from;
    lia_stmt *st = NULL;
    int rc, step, arms = 1;
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
    lia_buf_init(&sql, (size_t)1 << 20);
    lia_buf_init(&from, (size_t)1 << 20);
    if ((rc = group_from(q, qy, &w, &from, &arms, err)) || arms == 0)
        goto out;
    if (strcmp(col, "report_id") == 0) /* feed: count per report, then per feed */
        lia_buf_printf(
            &sql,
            "SELECT r.feed AS k, sum(x.n) AS n FROM (SELECT report_id, count(*) AS n FROM %s"
            " GROUP BY report_id) x JOIN reports r ON r.id = x.report_id GROUP BY k ORDER BY n DESC, k",
            lia_buf_cstr(&from));
    else
        lia_buf_printf(&sql, "SELECT %s AS k, count(*) AS n FROM %s GROUP BY k ORDER BY n DESC, k", col,
                       lia_buf_cstr(&from));
    if (limit)
        lia_buf_printf(&sql, " LIMIT %llu", (unsigned long long)limit);
    if (sql.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long");
        goto out;
    }
    if ((rc = lia__db_prepare_once(q->db, "grouping events", lia_buf_cstr(&sql), &st, err)))
        goto out;
    for (int a = 0; a < arms; a++)
        bind_where(st, &w, 1 + a * w.nb);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *key = lia__db_col_text(st, 0);
        if (strcmp(col, "class") == 0)
            key = lia__db_col_null(st, 0) ? "(none)" : lia__class_type_name((int)lia__db_col_int64(st, 0));
        if ((rc = cb(ud, key, (uint64_t)lia__db_col_int64(st, 1))))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
out:
    lia__db_done(st);
    lia_buf_free(&sql);
    lia_buf_free(&from);
    lia_buf_free(&w.sql);
    return rc;
}

static int sq_quarantine_list(void *impl, const char *feed, int64_t report_id, uint64_t limit, lia_qrow_cb cb,
                              void *ud, lia_error *err)
{
    sq *q = impl;
    lia_stmt *st;
    size_t rawlen;
    int rc, step;
    if ((rc = lia__db_prepare(
             q->db, "listing quarantine",
             "SELECT q.id,q.report_id,q.line,r.feed,r.name,q.field,q.reason,q.value,q.raw,q.at"
             " FROM quarantine q JOIN reports r ON r.id=q.report_id"
             " WHERE (?1 IS NULL OR r.feed=?1) AND (?2=0 OR q.report_id=?2)"
             " ORDER BY q.id LIMIT ?3",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, feed, -1);
    lia__db_bind_int64(st, 2, report_id);
    lia__db_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_qrow row = {
            .id = lia__db_col_int64(st, 0),
            .report_id = lia__db_col_int64(st, 1),
            .line = (uint64_t)lia__db_col_int64(st, 2),
            .feed = lia__db_col_text(st, 3),
            .report_name = lia__db_col_text(st, 4),
            .field = lia__db_col_text(st, 5),
            .reason = lia__db_col_text(st, 6),
            .value = lia__db_col_text(st, 7),
            .raw = {(const char *)lia__db_col_blob(st, 8, &rawlen), rawlen},
            .at_us = lia__db_col_int64(st, 9),
        };
        if ((rc = cb(ud, &row)))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

static int stats_write(sq *q, const char *feed, const lia_counter *c, lia_error *err)
{
    lia_stmt *st;
    int rc = LIA_OK;
    if ((rc = lia__db_prepare(q->db, "recording stats",
                              "INSERT INTO feed_stats(feed,stage,n_in,n_out,n_err,ns,reports,last)"
                              " VALUES(?,?,?,?,?,?,1,?) ON CONFLICT(feed,stage) DO UPDATE SET"
                              " n_in=feed_stats.n_in+excluded.n_in, n_out=feed_stats.n_out+excluded.n_out,"
                              " n_err=feed_stats.n_err+excluded.n_err, ns=feed_stats.ns+excluded.ns,"
                              " reports=feed_stats.reports+1, last=excluded.last",
                              &st, err)))
        return rc;
    for (int i = 0; i < LIA_ST__COUNT && rc == LIA_OK; i++) {
        lia__db_bind_text(st, 1, feed, -1);
        lia__db_bind_int64(st, 2, i);
        lia__db_bind_int64(st, 3, (int64_t)c[i].in);
        lia__db_bind_int64(st, 4, (int64_t)c[i].out);
        lia__db_bind_int64(st, 5, (int64_t)c[i].errors);
        lia__db_bind_int64(st, 6, (int64_t)c[i].ns);
        lia__db_bind_int64(st, 7, lia__now_us());
        rc = lia__db_run(st, err);
        lia__db_reset(st);
    }
    lia__db_done(st);
    return rc;
}

static int sq_stats_add(void *impl, const char *feed, const lia_counter *c, lia_error *err)
{
    sq *q = impl;
    int rc;
    if (q->in_tx)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "stats written inside a transaction");
    if ((rc = lia__db_begin(q->db, err)))
        return rc;
    if ((rc = stats_write(q, feed, c, err))) {
        lia__db_rollback(q->db);
        return rc;
    }
    return lia__db_commit(q->db, err);
}

static int sq_stats(void *impl, lia_stats_cb cb, void *ud, lia_error *err)
{
    sq *q = impl;
    lia_stmt *st;
    int rc, step;
    if ((rc = lia__db_prepare(
             q->db, "reading stats",
             "SELECT feed,stage,n_in,n_out,n_err,ns,reports,last FROM feed_stats ORDER BY feed,stage", &st,
             err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_counter c = {(uint64_t)lia__db_col_int64(st, 2), (uint64_t)lia__db_col_int64(st, 3),
                         (uint64_t)lia__db_col_int64(st, 4), (uint64_t)lia__db_col_int64(st, 5)};
        if ((rc = cb(ud, lia__db_col_text(st, 0), (int)lia__db_col_int64(st, 1), &c,
                     (uint64_t)lia__db_col_int64(st, 6), lia__db_col_int64(st, 7))))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

static int sq_check(void *impl, lia_error *err)
{
    return lia__db_check(((sq *)impl)->db, err);
}

const lia_store_backend lia__store_events = {
    .name = "events",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .report_begin = sq_report_begin,
    .put_events = sq_put_events,
    .put_quarantine = sq_put_quarantine,
    .checkpoint = sq_checkpoint,
    .report_finish = sq_report_finish,
    .abort = sq_abort,
    .set_bulk_min = sq_set_bulk_min,
    .report_get = sq_report_get,
    .query = sq_query,
    .count = sq_count,
    .quarantine_list = sq_quarantine_list,
    .group = sq_group,
    .stats_add = sq_stats_add,
    .stats = sq_stats,
    .check = sq_check,
    .db = sq_db,
    .set_part_rows = sq_set_part_rows,
};

/* ---- for other modules (events.h) ---- */

int lia__store_event_aggregate(lia_store *s, int64_t id, int64_t count, const char *first, const char *last,
                               lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if (lia__parts_on(db)) { /* the partition that owns the event */
        char sql[320];
        int64_t n;
        if ((rc = lia__parts_find(db, id, &n, err)))
            return rc == LIA_ENOTFOUND ? LIA_OK : rc; /* as an UPDATE of no row */
        snprintf(sql, sizeof sql,
                 "UPDATE events_%lld SET body=json_set(body, '$.\"extra.dedup_count\"', ?1,"
                 " '$.\"extra.dedup_first_seen\"', ?2, '$.\"extra.dedup_last_seen\"', ?3) WHERE id=?4",
                 (long long)n);
        rc = lia__db_prepare_once(db, "dedup: updating an aggregated event", sql, &st, err);
    } else {
        /* PostgreSQL has no json_set: jsonb's || sets the three keys (the
         * body comes back in jsonb's own key order and spacing, the same
         * object) */
        rc = lia__db_prepare_pg(
            db, "dedup: updating an aggregated event",
            "UPDATE events SET body=json_set(body, '$.\"extra.dedup_count\"', ?1,"
            " '$.\"extra.dedup_first_seen\"', ?2, '$.\"extra.dedup_last_seen\"', ?3) WHERE id=?4",
            "UPDATE events SET body=(body::jsonb || jsonb_build_object('extra.dedup_count', $1::bigint,"
            " 'extra.dedup_first_seen', $2::text, 'extra.dedup_last_seen', $3::text))::text WHERE id=$4",
            &st, err);
    }
    if (rc)
        return rc;
    lia__db_bind_int64(st, 1, count);
    lia__db_bind_text(st, 2, first, -1);
    lia__db_bind_text(st, 3, last, -1);
    lia__db_bind_int64(st, 4, id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__store_feed_totals(lia_store *s, const char *feed, lia_feed_totals *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "feed health",
                              "SELECT count(*), coalesce(sum(rows),0), coalesce(sum(events),0),"
                              " coalesce(sum(quarantined),0), coalesce(max(started),0)"
                              " FROM reports WHERE feed=?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, feed, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        out->reports = (uint64_t)lia__db_col_int64(st, 0);
        out->rows = (uint64_t)lia__db_col_int64(st, 1);
        out->events = (uint64_t)lia__db_col_int64(st, 2);
        out->quarantined = (uint64_t)lia__db_col_int64(st, 3);
        out->last_report_us = lia__db_col_int64(st, 4);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "feed health: no result");
    }
    lia__db_done(st);
    return rc;
}

int lia_store_report_get(lia_store *s, int64_t id, lia_report *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "reading a report",
                              "SELECT " REPORT_COLS " FROM reports WHERE id=?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        memset(out, 0, sizeof *out);
        load_report(st, out);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "report", NULL, 0, "no report %lld in the store",
                           (long long)id);
    }
    lia__db_done(st);
    return rc;
}

int lia_store_report_line(lia_store *s, const lia_report *r, uint64_t line, lia_buf *out, lia_error *err)
{
    char path[LIA_PATH_MAX + 600], chunk[8192];
    uint64_t at = 1;
    size_t start = out->len;
    gzFile gz;
    int rc = LIA_OK, eol = 0;
    if (!r->archive[0])
        return lia_error_set(err, LIA_ENOTFOUND, "report", r->name, strlen(r->name),
                             "report %lld was not archived (ingested without archiving)", (long long)r->id);
    if (line == 0)
        return lia_error_set(err, LIA_ENOTFOUND, "line", NULL, 0, "the event has no line in its report");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", lia_store_archive_dir(s), r->archive) >= sizeof path)
        return lia_error_set(err, LIA_ELIMIT, "report", NULL, 0, "archive path too long");
    if (!(gz = gzopen(path, "rb")))
        return lia_error_set(err, LIA_ENOTFOUND, "report", r->archive, strlen(r->archive),
                             "the archived copy of report %lld is gone (pruned or moved)", (long long)r->id);
    while (at <= line && gzgets(gz, chunk, sizeof chunk)) {
        size_t n = strlen(chunk);
        eol = n && chunk[n - 1] == '\n';
        if (at == line) {
            if (out->len - start + n > LIA_MAX_ROW) {
                rc = lia_error_set(err, LIA_ELIMIT, "line", NULL, 0, "the line is longer than %u bytes",
                                   LIA_MAX_ROW);
                break;
            }
            if ((rc = lia_buf_append(out, chunk, n)))
                break;
        }
        if (eol)
            at++;
    }
    if (rc == LIA_OK && at <= line && out->len == start) {
        int e = 0;
        gzerror(gz, &e);
        rc = e && e != Z_STREAM_END && e != Z_OK
                 ? lia_error_set(err, LIA_EIO, "report", r->archive, strlen(r->archive),
                                 "the archived copy of report %lld cannot be read", (long long)r->id)
                 : lia_error_set(err, LIA_ENOTFOUND, "line", NULL, 0, "report %lld has no line %llu",
                                 (long long)r->id, (unsigned long long)line);
    }
    gzclose(gz);
    /* without its line end */
    while (rc == LIA_OK && out->len > start &&
           (out->ptr[out->len - 1] == '\n' || out->ptr[out->len - 1] == '\r'))
        out->len--;
    if (rc == LIA_OK && out->ptr)
        out->ptr[out->len] = '\0';
    return rc;
}
