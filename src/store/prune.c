/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Retention (liaison/store.h, "retention"): removing old reports and
 * events, with everything that hangs from them.
 *
 * One batch (up to LIA_PRUNE_BATCH_REPORTS complete reports, or fewer when
 * they hold many events) is one transaction:
 *
 *   the set     temp.lia_forget_report: the whole reports going;
 *               temp.lia_forget_event: their events, and the events of
 *               the kept reports that a classification rule removes
 *   the hooks   every module of lia__store_forgets[] (store/forget.h):
 *               incidents copy the events they link, route, dedup and
 *               notify remove their rows
 *   the store   rollups less exactly what goes (summary.c), the kept
 *               reports' event counts, quarantine rows, events, reports;
 *               the archives of the reports going recorded in
 *               prune_archive; one audit record
 *   commit      then each recorded archive file is deleted and its record
 *               with it (a run killed before that leaves the record: the
 *               next run deletes the file first)
 *
 * Today's unit is the report. When time partitions land, a whole
 * partition is a set the store fills the same way (its id range in
 * lia_forget.lo / hi) and drops instead of deleting rows; the hooks, the
 * rollups and the archive records do not change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/log.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/field_internal.h"
#include "core/path.h"
#include "liaison/limits.h"
#include "store/backend.h"
#include "store/db.h"
#include "store/events.h"
#include "store/forget.h"
#include "store/parts.h"

/* Archive files to delete once the transaction that removed their report
 * has committed (hash: the report's, which names the file). */
static const lia_migration prune_migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS prune_archive(hash TEXT PRIMARY KEY, archive TEXT NOT NULL)"},
};
static const lia_schema prune_schema = {"store.prune", 1, prune_migrations, NULL, .pg = 1};

int lia__store_prune_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &prune_schema, err);
}

/* A batch holds no more events than this, unless one report alone has more. */
#define PRUNE_BATCH_EVENTS 500000

/* ---- cutoffs ---- */

/* NULL and *secs, or why text is not a retention. */
static const char *retention_why(const char *text, size_t n, int64_t *secs)
{
    int64_t v = 0, mul;
    char u = n ? text[n - 1] : 0;
    const char *why = "a retention is a number of hours, days or weeks: 36h, 180d, 12w";
    if (u == 'h')
        mul = 3600;
    else if (u == 'd')
        mul = 86400;
    else if (u == 'w')
        mul = 7 * 86400;
    else
        return why;
    if (n < 2 || n > 8)
        return why;
    for (size_t i = 0; i + 1 < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return why;
        v = v * 10 + (text[i] - '0');
    }
    if (v == 0)
        return "a retention of zero would remove everything received up to now; give a length";
    if (v * mul > (int64_t)LIA_MAX_RETENTION_DAYS * 86400)
        return "a retention is at most " LIA_STR(LIA_MAX_RETENTION_DAYS) " days";
    *secs = v * mul;
    return NULL;
}

int lia_retention_parse(const char *what, const char *text, int64_t *secs, lia_error *err)
{
    size_t n = text ? strlen(text) : 0;
    const char *why = retention_why(text ? text : "", n, secs);
    return why ? lia_error_set(err, LIA_EINVAL, what, text, n, "%s", why) : LIA_OK;
}

int lia_prune_cutoff(const char *what, const char *text, int64_t now_us, int64_t *cutoff_us, lia_error *err)
{
    size_t n = text ? strlen(text) : 0;
    int64_t secs, t;
    const char *why = NULL;
    if (n == 10 && text[4] == '-' && text[7] == '-') { /* a date: its start, UTC */
        char full[32];
        snprintf(full, sizeof full, "%sT00:00:00Z", text);
        if (lia_parse_time(full, strlen(full), &t, &why))
            return lia_error_set(err, LIA_EINVAL, what, text, n, "not a date (YYYY-MM-DD): %s",
                                 why ? why : "invalid");
    } else if (n > 10 && text[4] == '-' && (text[10] == 'T' || text[10] == ' ')) {
        if (lia_parse_time(text, n, &t, &why))
            return lia_error_set(err, LIA_EINVAL, what, text, n, "not a time (RFC 3339): %s",
                                 why ? why : "invalid");
    } else {
        if ((why = retention_why(text ? text : "", n, &secs)))
            return lia_error_set(err, LIA_EINVAL, what, text, n,
                                 "%s; or a date, YYYY-MM-DD (2026-06-01), before which everything goes", why);
        t = now_us - secs * 1000000;
    }
    if (t > now_us)
        return lia_error_set(err, LIA_EINVAL, what, text, n,
                             "the cutoff is in the future: everything received so far would go");
    *cutoff_us = t;
    return LIA_OK;
}

/* ---- rules ---- */

/* 1 if event class `type` (-1: none) is classification c (a type or a
 * taxonomy). */
static int class_in(int type, const char *c)
{
    int t = lia_class_type_lookup(c, strlen(c)), tax;
    if (t >= 0)
        return type == t;
    tax = lia_class_taxonomy_lookup(c, strlen(c));
    return type >= 0 && tax >= 0 && lia__class_type_taxonomy(type) == tax;
}

static int rules_check(const lia_prune_rule *rules, size_t n, lia_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *c = rules[i].classification;
        if (c && lia_class_type_lookup(c, strlen(c)) < 0 && lia_class_taxonomy_lookup(c, strlen(c)) < 0)
            return lia_error_set(err, LIA_EINVAL, "classification", c, strlen(c),
                                 "neither an RSIT taxonomy nor a type");
    }
    return LIA_OK;
}

static int feed_is(const lia_prune_rule *r, const char *feed)
{
    return !r->feed || strcmp(r->feed, feed) == 0;
}

/* The first whole-report rule that removes a report of feed received at
 * started, or -1. */
static int whole_rule(const lia_prune_rule *rules, size_t n, const char *feed, int64_t started)
{
    for (size_t i = 0; i < n; i++)
        if (!rules[i].classification && feed_is(&rules[i], feed) && started < rules[i].before_us)
            return (int)i;
    return -1;
}

/* ---- the batch ---- */

typedef struct batch {
    int64_t ids[LIA_PRUNE_BATCH_REPORTS];
    int whole[LIA_PRUNE_BATCH_REPORTS];
    char feed[LIA_PRUNE_BATCH_REPORTS][128];
    int64_t started[LIA_PRUNE_BATCH_REPORTS];
    uint64_t taken[LIA_PRUNE_BATCH_REPORTS]; /* a kept report's events that a class rule takes */
    size_t n;
    int64_t last;      /* the last report id looked at */
    uint64_t archives; /* archived copies the batch recorded to delete */
} batch;

/* The next reports with something to remove, after b->last. *more = 0
 * when there are none left. */
static int next_batch(lia_db *db, const lia_prune_rule *rules, size_t nr, int64_t max_cutoff, batch *b,
                      int *more, lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    uint64_t events = 0;
    b->n = 0;
    *more = 0;
    if ((rc = lia__db_prepare(db, "prune: reports received before the cutoff",
                              "SELECT id, feed, started, events FROM reports WHERE state = ?1 AND id > ?2"
                              " AND started < ?3 ORDER BY id LIMIT 1000",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, LIA_REPORT_COMPLETE);
    lia__db_bind_int64(st, 2, b->last);
    lia__db_bind_int64(st, 3, max_cutoff);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *feed = lia__db_col_text(st, 1);
        int64_t id = lia__db_col_int64(st, 0), started = lia__db_col_int64(st, 2);
        uint64_t nev = (uint64_t)lia__db_col_int64(st, 3);
        int w = whole_rule(rules, nr, feed ? feed : "", started), any = w >= 0;
        *more = 1;
        for (size_t i = 0; !any && i < nr; i++)
            any = rules[i].classification && feed_is(&rules[i], feed ? feed : "") &&
                  started < rules[i].before_us;
        if (any && b->n && events + nev > PRUNE_BATCH_EVENTS)
            break; /* this report starts the next batch */
        b->last = id;
        if (!any)
            continue;
        b->ids[b->n] = id;
        b->whole[b->n] = w >= 0;
        b->started[b->n] = started;
        snprintf(b->feed[b->n], sizeof b->feed[0], "%s", feed ? feed : "");
        events += nev;
        if (++b->n == LIA_PRUNE_BATCH_REPORTS)
            break;
    }
    lia__db_done(st);
    return step < 0 ? step : LIA_OK;
}

static int run1(lia_db *db, const char *name, const char *sql, int64_t a, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, name, sql, &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, a);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* Fill the set for the batch. */
static int fill_set(lia_db *db, const lia_prune_rule *rules, size_t nr, batch *b, lia_error *err)
{
    int rc;
    if ((rc =
             lia__db_exec(db, "DELETE FROM temp.lia_forget_event; DELETE FROM temp.lia_forget_report;", err)))
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        b->taken[i] = 0;
        if (b->whole[i]) {
            if ((rc = run1(db, "prune: a whole report", "INSERT INTO temp.lia_forget_report(id) VALUES(?1)",
                           b->ids[i], err)) ||
                (rc = run1(db, "prune: a whole report's events",
                           "INSERT INTO temp.lia_forget_event(id) SELECT id FROM events WHERE report_id = ?1",
                           b->ids[i], err)))
                return rc;
            continue;
        }
        /* the classes of this report's events that a rule removes */
        for (int t = -1; t < lia__class_type_count(); t++) {
            int hit = 0;
            lia_stmt *st;
            for (size_t k = 0; !hit && k < nr; k++)
                hit = rules[k].classification && feed_is(&rules[k], b->feed[i]) &&
                      b->started[i] < rules[k].before_us && class_in(t, rules[k].classification);
            if (!hit)
                continue;
            if ((rc = lia__db_prepare(
                     db, "prune: a report's events of a class",
                     "INSERT INTO temp.lia_forget_event(id) SELECT id FROM events"
                     " WHERE report_id = ?1 AND coalesce(class, -1) = ?2 ON CONFLICT DO NOTHING",
                     &st, err)))
                return rc;
            lia__db_bind_int64(st, 1, b->ids[i]);
            lia__db_bind_int64(st, 2, t);
            rc = lia__db_run(st, err);
            lia__db_done(st);
            if (rc == LIA_OK)
                b->taken[i] += (uint64_t)lia__db_changes(db);
            if (rc)
                return rc;
        }
    }
    return LIA_OK;
}

static int count_set(lia_db *db, lia_forget *f, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "prune: counting the set",
                              "SELECT (SELECT count(*) FROM temp.lia_forget_event),"
                              " (SELECT count(*) FROM temp.lia_forget_report),"
                              " (SELECT coalesce(min(id), 0) FROM temp.lia_forget_event),"
                              " (SELECT coalesce(max(id), 0) FROM temp.lia_forget_event)",
                              &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        f->events = (uint64_t)lia__db_col_int64(st, 0);
        f->reports = (uint64_t)lia__db_col_int64(st, 1);
        f->lo = lia__db_col_int64(st, 2);
        f->hi = lia__db_col_int64(st, 3);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "prune: counting the set: no result");
    }
    lia__db_done(st);
    return rc;
}

static int exec_counted(lia_db *db, const char *name, const char *sql, uint64_t *n, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, name, sql, &st, err)))
        return rc;
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK && n)
        *n += (uint64_t)lia__db_changes(db);
    return rc;
}

/* Size of the archived copy named archive, 0 if it is not there. */
static uint64_t archive_size(lia_store *s, const char *archive)
{
    char path[LIA_PATH_MAX + 600];
    struct stat st;
    if (!archive || !*archive || strchr(archive, '/') ||
        (size_t)snprintf(path, sizeof path, "%s/%s", lia_store_archive_dir(s), archive) >= sizeof path)
        return 0;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Dry run: the archives the batch would delete, and their size. */
static int archives_of_set(lia_store *s, lia_prune_result *res, lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    if ((rc =
             lia__db_prepare(lia__store_db(s), "prune: archives of the set",
                             "SELECT archive FROM reports WHERE id IN (SELECT id FROM temp.lia_forget_report)"
                             " AND archive IS NOT NULL",
                             &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        uint64_t sz = archive_size(s, lia__db_col_text(st, 0));
        if (sz) {
            res->archives++;
            res->archive_bytes += sz;
        }
    }
    lia__db_done(st);
    return step < 0 ? step : LIA_OK;
}

/* Delete the archive files recorded in prune_archive whose report is gone
 * (committed), and their records. *leftover: they count as a leftover of
 * an earlier run. A file already gone is fine; one that cannot be deleted
 * is an error that names it (its record stays for the next run). */
static int sweep_archives(lia_store *s, int leftover, lia_prune_result *res, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc = LIA_OK, step;
    for (;;) {
        char hash[80], archive[600], path[LIA_PATH_MAX + 600];
        uint64_t sz;
        int alive = 0;
        if ((rc = lia__db_prepare(
                 db, "prune: an archive to delete",
                 "SELECT p.hash, p.archive, EXISTS(SELECT 1 FROM reports r WHERE r.hash = p.hash)"
                 " FROM prune_archive p LIMIT 1",
                 &st, err)))
            return rc;
        step = lia__db_step(st, err);
        if (step == LIA_DB_ROW) {
            snprintf(hash, sizeof hash, "%s", lia__db_col_text(st, 0) ? lia__db_col_text(st, 0) : "");
            snprintf(archive, sizeof archive, "%s", lia__db_col_text(st, 1) ? lia__db_col_text(st, 1) : "");
            alive = (int)lia__db_col_int64(st, 2);
        }
        lia__db_done(st);
        if (step != LIA_DB_ROW)
            return step < 0 ? step : LIA_OK;
        /* the same report ingested again since (the same hash): its file stays */
        if (!alive && !strchr(archive, '/') && archive[0] &&
            (size_t)snprintf(path, sizeof path, "%s/%s", lia_store_archive_dir(s), archive) < sizeof path) {
            sz = archive_size(s, archive);
            if (unlink(path) != 0 && errno != ENOENT)
                return lia_error_set(err, LIA_EIO, "archive", archive, strlen(archive),
                                     "cannot delete the archived copy %s of a pruned report: %s (the next "
                                     "prune tries again)",
                                     path, strerror(errno));
            if (sz) {
                res->archives++;
                res->archive_bytes += sz;
                if (leftover)
                    res->leftovers++;
            }
        }
        if ((rc = lia__db_prepare(db, "prune: an archive deleted",
                                  "DELETE FROM prune_archive WHERE hash = ?1", &st, err)))
            return rc;
        lia__db_bind_text(st, 1, hash, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
}

static void json_rules(lia_buf *b, const lia_prune_rule *rules, size_t n)
{
    lia_buf_puts(b, "\"rules\":[");
    for (size_t i = 0; i < n; i++) {
        char t[LIA_TIME_TEXT];
        lia_time_format(rules[i].before_us, t, sizeof t);
        lia_buf_puts(b, i ? ",{\"feed\":" : "{\"feed\":");
        if (rules[i].feed)
            lia_buf_json_str(b, rules[i].feed, strlen(rules[i].feed));
        else
            lia_buf_puts(b, "null");
        lia_buf_puts(b, ",\"classification\":");
        if (rules[i].classification)
            lia_buf_json_str(b, rules[i].classification, strlen(rules[i].classification));
        else
            lia_buf_puts(b, "null");
        lia_buf_printf(b, ",\"before\":\"%s\"}", t);
    }
    lia_buf_putc(b, ']');
}

/* The batch's audit record, in its transaction. */
static int audit_batch(lia_store *s, const lia_prune_rule *rules, size_t nr, const batch *b,
                       const lia_prune_result *d, lia_error *err)
{
    lia_buf j;
    lia_stmt *st;
    int rc, step;
    lia_buf_init(&j, (size_t)64 << 10);
    lia_buf_putc(&j, '{');
    json_rules(&j, rules, nr);
    lia_buf_printf(&j,
                   ",\"reports\":%llu,\"events\":%llu,\"quarantined\":%llu,\"decisions\":%llu,\"dedup\":%llu,"
                   "\"notifications\":%llu,\"incident_copies\":%llu,\"archives\":%llu,\"report_ids\":[",
                   (unsigned long long)d->reports, (unsigned long long)d->events,
                   (unsigned long long)d->quarantined, (unsigned long long)d->decisions,
                   (unsigned long long)d->dedup, (unsigned long long)d->notifications,
                   (unsigned long long)d->incident_copies, (unsigned long long)b->archives);
    if ((rc = lia__db_prepare(lia__store_db(s), "prune: the reports of the audit record",
                              "SELECT id FROM temp.lia_forget_report ORDER BY id", &st, err)))
        goto out;
    for (int k = 0; (step = lia__db_step(st, err)) == LIA_DB_ROW; k++)
        lia_buf_printf(&j, k ? ",%lld" : "%lld", (long long)lia__db_col_int64(st, 0));
    lia__db_done(st);
    if ((rc = step < 0 ? step : LIA_OK))
        goto out;
    lia_buf_puts(&j, "]}");
    rc = j.err
             ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "prune: out of memory writing the audit record")
             : lia__audit_change(s, "store", "prune", NULL, lia_buf_cstr(&j), err);
out:
    lia_buf_free(&j);
    return rc;
}

/* A report that stays holds fewer events now (feed health counts them). */
static int kept_counts(lia_db *db, const batch *b, lia_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        lia_stmt *st;
        int rc;
        if (b->whole[i] || !b->taken[i])
            continue;
        if ((rc = lia__db_prepare(db, "prune: a kept report's event count",
                                  "UPDATE reports SET events = max(0, events - ?1) WHERE id = ?2", &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, (int64_t)b->taken[i]);
        lia__db_bind_int64(st, 2, b->ids[i]);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

/* One batch in its transaction; d: what it removed (or would). */
static int prune_batch(lia_store *s, const lia_prune_rule *rules, size_t nr, batch *b, int dry_run,
                       lia_prune_result *d, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_forget f = {0};
    uint64_t rows[LIA_FORGET__COUNT] = {0};
    int rc;
    memset(d, 0, sizeof *d);
    b->archives = 0;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    /* the batch was chosen before the transaction: a report another prune
     * removed since is not counted nor audited again (the events of the
     * set were read from the events in this transaction) */
    if ((rc = fill_set(db, rules, nr, b, err)) ||
        (rc = lia__db_exec(db, "DELETE FROM temp.lia_forget_report WHERE id NOT IN (SELECT id FROM reports);",
                           err)) ||
        (rc = count_set(db, &f, err)))
        goto out;
    if (f.events == 0 && f.reports == 0)
        goto out; /* nothing left of these reports that a rule removes */
    f.at_us = lia__now_us();
    for (size_t i = 0; lia__store_forgets[i]; i++)
        if ((rc = lia__store_forgets[i]->forget(s, &f, &rows[i], err))) {
            char why[LIA_ERR_REASON_MAX];
            snprintf(why, sizeof why, "%s", err ? err->reason : "");
            lia_error_set(err, rc, NULL, NULL, 0, "prune: %s: %s", lia__store_forgets[i]->name, why);
            goto out;
        }
    d->incident_copies = rows[LIA_FORGET_INCIDENT];
    d->decisions = rows[LIA_FORGET_ROUTE];
    d->dedup = rows[LIA_FORGET_DEDUP];
    d->notifications = rows[LIA_FORGET_NOTIFY];
    if ((rc = lia__store_rollup_forget(db, err)) || (rc = kept_counts(db, b, err)) ||
        (rc =
             exec_counted(db, "prune: quarantined rows",
                          "DELETE FROM quarantine WHERE report_id IN (SELECT id FROM temp.lia_forget_report)",
                          &d->quarantined, err)) ||
        (rc = lia__parts_on(db)
                  ? lia__parts_forget(db, &d->events, &d->partitions, err)
                  : exec_counted(db, "prune: events",
                                 "DELETE FROM events WHERE id IN (SELECT id FROM temp.lia_forget_event)",
                                 &d->events, err)))
        goto out;
    if (dry_run)
        rc = archives_of_set(s, d, err);
    else
        rc = exec_counted(db, "prune: recording the archives to delete",
                          "INSERT INTO prune_archive(hash, archive) SELECT hash, archive FROM reports"
                          " WHERE id IN (SELECT id FROM temp.lia_forget_report) AND archive IS NOT NULL"
                          " ON CONFLICT DO NOTHING",
                          &b->archives, err);
    if (rc || (rc = exec_counted(db, "prune: reports",
                                 "DELETE FROM reports WHERE id IN (SELECT id FROM temp.lia_forget_report)",
                                 &d->reports, err)))
        goto out;
    if (!dry_run)
        rc = audit_batch(s, rules, nr, b, d, err);
out:
    if (rc || dry_run || (f.events == 0 && f.reports == 0)) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

static void add_result(lia_prune_result *t, const lia_prune_result *d)
{
    t->reports += d->reports;
    t->events += d->events;
    t->quarantined += d->quarantined;
    t->decisions += d->decisions;
    t->dedup += d->dedup;
    t->notifications += d->notifications;
    t->incident_copies += d->incident_copies;
    t->archives += d->archives;
    t->archive_bytes += d->archive_bytes;
    t->partitions += d->partitions;
}

int lia_store_prune(lia_store *s, const lia_prune_rule *rules, size_t n, int dry_run, lia_prune_result *res,
                    lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_prune_result total;
    batch *b = NULL;
    int64_t max_cutoff = INT64_MIN;
    int rc, more = 1;
    memset(&total, 0, sizeof total);
    if ((rc = rules_check(rules, n, err)))
        return rc;
    if (lia__db_in_tx(db))
        return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0, "prune: the store has a transaction open");
    if ((rc = lia__db_schema(db, &prune_schema, err)) || (rc = lia__audit_schema(db, err)) ||
        (rc = lia__db_exec(db,
                           "CREATE TEMP TABLE IF NOT EXISTS lia_forget_event(id INTEGER PRIMARY KEY);"
                           "CREATE TEMP TABLE IF NOT EXISTS lia_forget_report(id INTEGER PRIMARY KEY);",
                           err)))
        return rc;
    for (size_t i = 0; lia__store_forgets[i]; i++)
        if (lia__store_forgets[i]->ready && (rc = lia__store_forgets[i]->ready(s, err)))
            return rc;
    /* what an interrupted run committed and did not finish: its files */
    if (!dry_run && (rc = sweep_archives(s, 1, &total, err)))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (rules[i].before_us > max_cutoff)
            max_cutoff = rules[i].before_us;
    if (!(b = calloc(1, sizeof *b))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    while (n && more) {
        lia_prune_result d;
        if ((rc = next_batch(db, rules, n, max_cutoff, b, &more, err)))
            break;
        if (!b->n)
            continue;
        if ((rc = prune_batch(s, rules, n, b, dry_run, &d, err)))
            break;
        add_result(&total, &d);
        lia__fault_point("prune-committed"); /* killed here: the next run deletes the files */
        if (!dry_run && (rc = sweep_archives(s, 0, &total, err)))
            break;
    }
out:
    free(b);
    if (res)
        *res = total;
    return rc;
}
