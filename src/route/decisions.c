/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The routing tables (route_config, route_reason, route_decision) in the
 * migration registry, and the decision rows: record, read, summarise, and
 * what notify asks of them (route/decisions.h). */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/route.h"
#include "route/decisions.h"
#include "route/internal.h"
#include "store/db.h"
#include "store/forget.h"

/* ---- tables ---- */

/* The UTC month (YYYYMM) of event e's time; 0 without one. */
#define EVENT_MONTH                                                                                          \
    "CASE WHEN e.time IS NULL THEN 0 ELSE CAST(strftime('%Y%m', (CASE WHEN e.time < 0 THEN e.time - 999999"  \
    " ELSE e.time END) / 1000000, 'unixepoch') AS INTEGER) END"
#define EVENT_MONTH_PG                                                                                       \
    "CASE WHEN e.time IS NULL THEN 0 ELSE CAST(to_char(to_timestamp(floor(e.time / 1000000.0)) AT TIME ZONE" \
    " 'UTC', 'YYYYMM') AS INTEGER) END"

static const lia_migration route_migrations[] = {
    {"CREATE TABLE IF NOT EXISTS route_config("
     "  name TEXT PRIMARY KEY, text TEXT NOT NULL, loaded INTEGER NOT NULL);"
     /* one B-tree per decision (WITHOUT ROWID); reasons and "how found" are
      * a handful of sentences, stored once in route_reason; verdict is enum
      * lia_verdict; rule NULL = the default policy. The partial index holds
      * only what notify still has to send. */
     "CREATE TABLE IF NOT EXISTS route_reason(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);"
     "CREATE TABLE IF NOT EXISTS route_decision("
     "  event_id INTEGER NOT NULL, recipient TEXT NOT NULL, verdict INTEGER NOT NULL,"
     "  rule TEXT, why INTEGER NOT NULL, reason INTEGER NOT NULL, decided INTEGER NOT NULL,"
     "  notified INTEGER, notification_id INTEGER,"
     "  PRIMARY KEY(event_id, recipient)) WITHOUT ROWID;"
     "CREATE INDEX IF NOT EXISTS route_decision_pending ON route_decision(recipient, event_id)"
     "  WHERE verdict = 1 AND notification_id IS NULL;",
     NULL, NULL},
    /* 2: the events routed to each recipient (verdict deliver), for the
     * dashboard: added per stored batch (lia__route_count_delivered), taken
     * off when notify withholds one; filled here from what is stored */
    {"CREATE TABLE IF NOT EXISTS route_delivered(recipient TEXT PRIMARY KEY, n INTEGER NOT NULL)"
     "  WITHOUT ROWID;"
     "DELETE FROM route_delivered;"
     "INSERT INTO route_delivered(recipient, n) SELECT recipient, count(*) FROM route_decision"
     "  WHERE verdict = 1 GROUP BY recipient;",
     NULL, NULL},
    /* 3: the same per UTC month of the event's time and its TLP marking
     * (-1: none), for the statistics reports (src/report/): top owners and
     * partners of a period; month 0 for an event without a time */
    {"CREATE TABLE IF NOT EXISTS route_delivered_month(month INTEGER NOT NULL, tlp INTEGER NOT NULL,"
     "  recipient TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(month, tlp, recipient)) WITHOUT ROWID;"
     "DELETE FROM route_delivered_month;"
     "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH
     ", coalesce(e.tlp, -1), d.recipient, count(*) FROM route_decision d JOIN events e ON e.id = d.event_id"
     "  WHERE d.verdict = 1 GROUP BY 1, 2, 3;",
     NULL,
     "CREATE TABLE IF NOT EXISTS route_delivered_month(month INTEGER NOT NULL, tlp INTEGER NOT NULL,"
     "  recipient TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY(month, tlp, recipient));"
     "DELETE FROM route_delivered_month;"
     "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH_PG
     ", coalesce(e.tlp, -1), d.recipient, count(*) FROM route_decision d JOIN events e ON e.id = d.event_id"
     "  WHERE d.verdict = 1 GROUP BY 1, 2, 3;"},
};

/* Stores made before the registry kept ('route', 1) in route_schema. */
static int route_adopt(lia_db *db, int *version, lia_error *err)
{
    (void)err;
    *version = lia__db_has_table(db, "route_decision") ? 1 : 0;
    return LIA_OK;
}

static const lia_schema route_schema = {"route", 3, route_migrations, route_adopt, .pg = 1};

int lia__route_schema(lia_store *s, lia_error *err)
{
    lia_db *db;
    int rc;
    if ((rc = lia__directory_db(s, &db, err)))
        return rc;
    return lia__db_schema(db, &route_schema, err);
}

int lia__route_db(lia_store *s, lia_db **db, lia_error *err)
{
    *db = lia__store_db(s);
    return lia__route_schema(s, err);
}

/* 1 and *id if the sentence is stored, 0 if not, or an error (< 0). */
static int reason_lookup(lia_db *db, const char *text, int64_t *id, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "route reasons", "SELECT id FROM route_reason WHERE text=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, text, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW)
        *id = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return rc == LIA_DB_ROW ? 1 : rc;
}

static int reason_add(lia_db *db, const char *text, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "route reasons: adding",
                              "INSERT INTO route_reason(text) VALUES(?) ON CONFLICT(text) DO NOTHING", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, text, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__route_reason_id(lia_db *db, lia__rcache *c, const char *text, int64_t *id, lia_error *err)
{
    int rc;
    for (int i = 0; i < c->n; i++)
        if (c->p[i] == text) {
            *id = c->id[i];
            return LIA_OK;
        }
    /* on PostgreSQL in a transaction: added and committed by the side
     * connection, so the batch's transaction holds no lock on the row (READ
     * COMMITTED: its next statement sees it) */
    if (!lia__db_is_pg(db) || !lia__db_in_tx(db))
        rc = reason_add(db, text, err);
    else if ((rc = reason_lookup(db, text, id, err)) == 0 &&
             (rc = c->side ? LIA_OK : lia__db_open_side(db, &c->side, err)) == LIA_OK)
        rc = reason_add(c->side, text, err);
    if (rc == LIA_OK)
        rc = reason_lookup(db, text, id, err);
    if (rc == 0)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route reasons: the reason just added is missing");
    if (rc < 0)
        return rc;
    if (c->n < (int)(sizeof c->p / sizeof c->p[0])) {
        c->p[c->n] = text;
        c->id[c->n++] = *id;
    }
    return LIA_OK;
}

void lia__rcache_close(lia__rcache *c)
{
    lia__db_close(c->side);
    c->side = NULL;
}

int lia__route_insert_prepare(lia_db *db, lia_stmt **ins, lia_error *err)
{
    /* a decision decided again replaces the old one, notified or not */
    return lia__db_prepare(db, "recording route decisions",
                           "INSERT INTO route_decision(event_id,recipient,verdict,rule,why,reason,decided)"
                           " VALUES(?,?,?,?,?,?,?) ON CONFLICT(event_id,recipient) DO UPDATE SET"
                           " verdict=excluded.verdict, rule=excluded.rule, why=excluded.why,"
                           " reason=excluded.reason, decided=excluded.decided, notified=NULL,"
                           " notification_id=NULL",
                           ins, err);
}

int lia__route_insert_rows(lia_db *db, lia_stmt *ins, lia__rcache *rc_, const lia_route *rt, int64_t event_id,
                           const lia_decision *d, size_t n, int64_t at, lia_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
        int64_t why, reason;
        int rc;
        if ((rc = lia__route_reason_id(db, rc_, d[i].why ? d[i].why : "", &why, err)) ||
            (rc = lia__route_reason_id(db, rc_, d[i].reason ? d[i].reason : "", &reason, err)))
            return rc;
        lia_route_recipient_name(rt, &d[i], name, sizeof name);
        lia__db_reset(ins);
        lia__db_bind_int64(ins, 1, event_id);
        lia__db_bind_text(ins, 2, name, -1);
        lia__db_bind_int64(ins, 3, d[i].verdict);
        if (d[i].rule >= 0)
            lia__db_bind_text(ins, 4, lia_route_rule_name(rt, d[i].rule), -1);
        else
            lia__db_bind_null(ins, 4);
        lia__db_bind_int64(ins, 5, why);
        lia__db_bind_int64(ins, 6, reason);
        lia__db_bind_int64(ins, 7, at);
        if ((rc = lia__db_run(ins, err)))
            return rc;
    }
    return LIA_OK;
}

int lia__route_count_delivered(lia_db *db, int64_t first_id, int64_t last_id, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "counting routed events",
             "INSERT INTO route_delivered(recipient, n) SELECT recipient, count(*)"
             " FROM route_decision WHERE event_id BETWEEN ?1 AND ?2 AND verdict = 1"
             " GROUP BY recipient ON CONFLICT(recipient) DO UPDATE SET n = route_delivered.n + excluded.n",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, first_id);
    lia__db_bind_int64(st, 2, last_id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc ||
        (rc = lia__db_prepare_pg(
             db, "counting routed events by month",
             "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH
             ", coalesce(e.tlp, -1), d.recipient, count(*) FROM route_decision d"
             " JOIN events e ON e.id = d.event_id"
             " WHERE d.event_id BETWEEN ?1 AND ?2 AND d.verdict = 1 GROUP BY 1, 2, 3"
             " ON CONFLICT(month, tlp, recipient) DO UPDATE SET n = n + excluded.n",
             "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH_PG
             ", coalesce(e.tlp, -1), d.recipient, count(*) FROM route_decision d"
             " JOIN events e ON e.id = d.event_id"
             " WHERE d.event_id BETWEEN $1 AND $2 AND d.verdict = 1 GROUP BY 1, 2, 3"
             " ON CONFLICT(month, tlp, recipient) DO UPDATE SET n = route_delivered_month.n + excluded.n",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, first_id);
    lia__db_bind_int64(st, 2, last_id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__route_count_delivered_ranges(lia_db *db, const int64_t (*rng)[2], size_t n, lia_error *err)
{
    lia_buf lo, hi;
    lia_stmt *st = NULL;
    int rc = LIA_OK;
    if (n == 0)
        return LIA_OK;
    if (!lia__db_is_pg(db)) {
        for (size_t i = 0; i < n && rc == LIA_OK; i++)
            rc = lia__route_count_delivered(db, rng[i][0], rng[i][1], err);
        return rc;
    }
    lia_buf_init(&lo, (size_t)24 * n + 16);
    lia_buf_init(&hi, (size_t)24 * n + 16);
    for (size_t i = 0; i < n && rc == LIA_OK; i++)
        if (lia_buf_printf(&lo, "%s%lld", i ? "," : "{", (long long)rng[i][0]) ||
            lia_buf_printf(&hi, "%s%lld", i ? "," : "{", (long long)rng[i][1]))
            rc = LIA_ENOMEM;
    if (rc || lia_buf_append(&lo, "}", 2) || lia_buf_append(&hi, "}", 2)) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    /* each key once per transaction, in key order: two ingests at once
     * lock the rows they share in the same order (no deadlock), and only
     * from here to the commit */
    for (int k = 0; k < 2 && rc == LIA_OK; k++) {
        if ((rc = lia__db_prepare_pg(
                 db,
                 k ? "counting routed events by month, the transaction's batches"
                   : "counting routed events, the transaction's batches",
                 "SELECT 1", /* PostgreSQL only: SQLite counts each batch (above) */
                 k ? "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH_PG
                     ", coalesce(e.tlp, -1), d.recipient, count(*) FROM unnest($1::bigint[], $2::bigint[])"
                     " AS r(lo, hi) JOIN route_decision d ON d.event_id BETWEEN r.lo AND r.hi"
                     " JOIN events e ON e.id = d.event_id WHERE d.verdict = 1 GROUP BY 1, 2, 3 ORDER BY 1, "
                     "2, 3"
                     " ON CONFLICT(month, tlp, recipient) DO UPDATE SET n = route_delivered_month.n + "
                     "excluded.n"
                   : "INSERT INTO route_delivered(recipient, n) SELECT d.recipient, count(*)"
                     " FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)"
                     " JOIN route_decision d ON d.event_id BETWEEN r.lo AND r.hi WHERE d.verdict = 1"
                     " GROUP BY d.recipient ORDER BY d.recipient"
                     " ON CONFLICT(recipient) DO UPDATE SET n = route_delivered.n + excluded.n",
                 &st, err)))
            break;
        lia__db_bind_text(st, 1, lo.ptr, -1);
        lia__db_bind_text(st, 2, hi.ptr, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
out:
    lia_buf_free(&lo);
    lia_buf_free(&hi);
    return rc;
}

int lia_route_rows(lia_store *s, int64_t event_id, lia_route_row_cb cb, void *ud, lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(
             db, "reading route decisions",
             "SELECT d.event_id,d.recipient,d.verdict,coalesce(d.rule,'default'),r.text,d.decided,"
             "d.notified,d.notification_id FROM route_decision d JOIN route_reason r ON r.id=d.reason"
             " WHERE d.event_id=? ORDER BY d.recipient",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, event_id);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_route_row r = {
            lia__db_col_int64(st, 0),
            lia__db_col_text(st, 1),
            lia_verdict_name((int)lia__db_col_int64(st, 2)),
            lia__db_col_text(st, 3),
            lia__db_col_text(st, 4),
            lia__db_col_int64(st, 5),
            lia__db_col_int64(st, 6),
            lia__db_col_int64(st, 7),
        };
        if ((rc = cb(ud, &r)))
            break;
    }
    lia__db_done(st);
    return rc;
}

int lia_route_notifications(lia_store *s, int64_t event_id, lia_route_notification_cb cb, void *ud,
                            lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (!lia__db_has_table(db, "notification"))
        return LIA_OK; /* nothing was ever notified */
    if ((rc = lia__db_prepare(db, "reading an event's notifications",
                              "SELECT d.recipient,n.id,n.channel,n.at,n.outcome,n.rcpt_to,n.message_id"
                              " FROM route_decision d JOIN notification n ON n.id=d.notification_id"
                              " WHERE d.event_id=? ORDER BY n.at,n.id",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, event_id);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_route_notification n = {
            lia__db_col_text(st, 0),  lia__db_col_int64(st, 1), lia__db_col_text(st, 2),
            lia__db_col_int64(st, 3), lia__db_col_text(st, 4),  lia__db_col_text(st, 5),
            lia__db_col_text(st, 6),
        };
        if ((rc = cb(ud, &n)))
            break;
    }
    lia__db_done(st);
    return rc == LIA_DB_DONE ? LIA_OK : rc;
}

int lia_route_summary(lia_store *s, lia_route_sum_cb cb, void *ud, lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "summarising route decisions",
                              "SELECT recipient,verdict,count(*),count(notification_id) FROM route_decision"
                              " GROUP BY recipient,verdict ORDER BY recipient,verdict",
                              &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        if ((rc = cb(ud, lia__db_col_text(st, 0), lia_verdict_name((int)lia__db_col_int64(st, 1)),
                     (uint64_t)lia__db_col_int64(st, 2), (uint64_t)lia__db_col_int64(st, 3))))
            break;
    lia__db_done(st);
    return rc;
}

/* ---- what notify asks of the decisions (route/decisions.h) ---- */

int lia__route_pending_recipients(lia_store *s, const char *only, lia__route_pending_rcpt_cb cb, void *ud,
                                  lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "reading route decisions: pending recipients",
                              "SELECT recipient, count(*) FROM route_decision WHERE verdict=1"
                              " AND notification_id IS NULL AND (?1 IS NULL OR recipient=?1)"
                              " GROUP BY recipient ORDER BY recipient",
                              &st, err)))
        return rc;
    if (only)
        lia__db_bind_text(st, 1, only, -1);
    else
        lia__db_bind_null(st, 1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        if ((rc = cb(ud, lia__db_col_text(st, 0), (uint64_t)lia__db_col_int64(st, 1))))
            break;
    lia__db_done(st);
    return rc;
}

int lia__route_pending(lia_store *s, const char *recipient, lia__route_pending_cb cb, void *ud,
                       lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "reading route decisions: pending events",
                              "SELECT event_id FROM route_decision WHERE recipient=? AND verdict=1"
                              " AND notification_id IS NULL ORDER BY event_id",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, recipient, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        if ((rc = cb(ud, lia__db_col_int64(st, 0))))
            break;
    if (rc == LIA__ROUTE_STOP)
        rc = LIA_OK;
    lia__db_done(st);
    return rc;
}

int lia__route_mark_notified(lia_store *s, const char *recipient, const int64_t *event_ids,
                             const int64_t *nids, size_t n, int64_t at, lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if (n == 0)
        return LIA_OK;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "recording a notification: decisions notified",
                              "UPDATE route_decision SET notified=?, notification_id=?"
                              " WHERE event_id=? AND recipient=?",
                              &st, err)))
        return rc;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        lia__db_reset(st);
        lia__db_bind_int64(st, 1, at);
        lia__db_bind_int64(st, 2, nids[i]);
        lia__db_bind_int64(st, 3, event_ids[i]);
        lia__db_bind_text(st, 4, recipient, -1);
        rc = lia__db_run(st, err);
    }
    lia__db_done(st);
    return rc;
}

int lia__route_withhold(lia_store *s, const char *recipient, const int64_t *event_ids, size_t n,
                        const char *reason, lia_error *err)
{
    lia_db *db;
    lia_stmt *st, *mon;
    lia__rcache c = {0};
    int64_t reason_id, withheld = 0;
    int rc;
    if (n == 0)
        return LIA_OK;
    c.n = 0;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    rc = lia__route_reason_id(db, &c, reason, &reason_id, err);
    lia__rcache_close(&c);
    if (rc ||
        (rc = lia__db_prepare(db, "recording a notification: decisions withheld",
                              "UPDATE route_decision SET verdict=2, reason=? WHERE event_id=? AND recipient=?"
                              " AND verdict = 1 AND notification_id IS NULL",
                              &st, err)))
        return rc;
    if ((rc = lia__db_prepare_pg(db, "recording a notification: routed events withheld, by month",
                                 "UPDATE route_delivered_month SET n = n - 1 WHERE recipient = ?1 AND"
                                 " (month, tlp) = (SELECT " EVENT_MONTH ", coalesce(e.tlp, -1) FROM events e"
                                 " WHERE e.id = ?2)",
                                 "UPDATE route_delivered_month SET n = n - 1 WHERE recipient = $1 AND"
                                 " (month, tlp) = (SELECT " EVENT_MONTH_PG
                                 ", coalesce(e.tlp, -1) FROM events e"
                                 " WHERE e.id = $2)",
                                 &mon, err))) {
        lia__db_done(st);
        return rc;
    }
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        lia__db_reset(st);
        lia__db_bind_int64(st, 1, reason_id);
        lia__db_bind_int64(st, 2, event_ids[i]);
        lia__db_bind_text(st, 3, recipient, -1);
        if ((rc = lia__db_run(st, err)) != LIA_OK || lia__db_changes(db) == 0)
            continue;
        withheld++;
        lia__db_reset(mon);
        lia__db_bind_text(mon, 1, recipient, -1);
        lia__db_bind_int64(mon, 2, event_ids[i]);
        rc = lia__db_run(mon, err);
    }
    lia__db_done(st);
    lia__db_done(mon);
    if (rc || !withheld)
        return rc;
    /* no longer delivered: off the dashboard's count */
    if ((rc = lia__db_prepare(db, "recording a notification: routed events withheld",
                              "UPDATE route_delivered SET n = n - ? WHERE recipient = ?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, withheld);
    lia__db_bind_text(st, 2, recipient, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* ---- a prune (store/forget.h) ---- */

/* The decisions of the events going, and the dashboard's count of each
 * recipient's delivered events less theirs. The reasons (route_reason) are
 * a handful of shared sentences and stay. */
static int route_forget(lia_store *s, const lia_forget *f, uint64_t *rows, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    (void)f;
    *rows = 0;
    if (!lia__db_has_table(db, "route_decision"))
        return LIA_OK;
    if (lia__db_has_table(db, "route_delivered_month")) {
        if ((rc = lia__db_prepare_pg(
                 db, "route: monthly delivered counts less the pruned events",
                 "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH
                 ", coalesce(e.tlp, -1), d.recipient, -count(*) FROM route_decision d"
                 " JOIN events e ON e.id = d.event_id WHERE d.verdict = 1 AND d.event_id IN"
                 " (SELECT id FROM temp.lia_forget_event) GROUP BY 1, 2, 3"
                 " ON CONFLICT(month, tlp, recipient) DO UPDATE SET n = max(0, n + excluded.n)",
                 "INSERT INTO route_delivered_month(month, tlp, recipient, n) SELECT " EVENT_MONTH_PG
                 ", coalesce(e.tlp, -1), d.recipient, -count(*) FROM route_decision d"
                 " JOIN events e ON e.id = d.event_id WHERE d.verdict = 1 AND d.event_id IN"
                 " (SELECT id FROM pg_temp.lia_forget_event) GROUP BY 1, 2, 3"
                 " ON CONFLICT(month, tlp, recipient) DO UPDATE SET n = greatest(0, route_delivered_month.n "
                 "+ excluded.n)",
                 &st, err)))
            return rc;
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    if (lia__db_has_table(db, "route_delivered")) {
        if ((rc = lia__db_prepare(
                 db, "route: delivered counts less the pruned events",
                 "INSERT INTO route_delivered(recipient, n) SELECT recipient, -count(*)"
                 " FROM route_decision WHERE verdict = 1 AND event_id IN"
                 " (SELECT id FROM temp.lia_forget_event) GROUP BY recipient"
                 " ON CONFLICT(recipient) DO UPDATE SET n = max(0, route_delivered.n + excluded.n)",
                 &st, err)))
            return rc;
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    if ((rc = lia__db_prepare(
             db, "route: the decisions of pruned events",
             "DELETE FROM route_decision WHERE event_id IN (SELECT id FROM temp.lia_forget_event)", &st,
             err)))
        return rc;
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK)
        *rows = (uint64_t)lia__db_changes(db);
    return rc;
}

const lia_forget_hook lia__route_forget = {"route", route_forget, NULL};
