/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The routing tables (route_decision, route_reason, route_schema) and the
 * decision rows: record, read, summarise. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/route.h"
#include "route/decisions.h"
#include "route/internal.h"

/* ---- tables ---- */

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS route_config("
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
    "  WHERE verdict = 1 AND notification_id IS NULL;"
    "CREATE TABLE IF NOT EXISTS route_schema(module TEXT PRIMARY KEY, version INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO route_schema VALUES('route', 1);";

int lia_route_schema(lia_store *s, lia_error *err)
{
    sqlite3 *db;
    char *msg = NULL;
    int rc;
    if ((rc = lia__directory_db(s, &db, err)))
        return rc;
    if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "creating routing tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return LIA_OK;
}

int lia__route_db(lia_store *s, sqlite3 **db, lia_error *err)
{
    if (!(*db = lia_store_sqlite_for(s, "routing", err)))
        return LIA_EUNSUPPORTED;
    return lia_route_schema(s, err);
}

int lia__route_reason_id(sqlite3 *db, lia__rcache *c, const char *text, int64_t *id, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    for (int i = 0; i < c->n; i++)
        if (c->p[i] == text) {
            *id = c->id[i];
            return LIA_OK;
        }
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO route_reason(text) VALUES(?1)", -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT id FROM route_reason WHERE text=?1", -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (c->n < (int)(sizeof c->p / sizeof c->p[0])) {
        c->p[c->n] = text;
        c->id[c->n++] = *id;
    }
    return rc;
fail:
    rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route reasons: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int lia__route_insert_rows(sqlite3 *db, sqlite3_stmt *ins, lia__rcache *rc_, const lia_route *rt,
                           int64_t event_id, const lia_decision *d, size_t n, int64_t at, lia_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
        int64_t why, reason;
        int rc;
        if ((rc = lia__route_reason_id(db, rc_, d[i].why ? d[i].why : "", &why, err)) ||
            (rc = lia__route_reason_id(db, rc_, d[i].reason ? d[i].reason : "", &reason, err)))
            return rc;
        lia_route_recipient_name(rt, &d[i], name, sizeof name);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, event_id);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 3, d[i].verdict);
        if (d[i].rule >= 0)
            sqlite3_bind_text(ins, 4, lia_route_rule_name(rt, d[i].rule), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(ins, 4);
        sqlite3_bind_int64(ins, 5, why);
        sqlite3_bind_int64(ins, 6, reason);
        sqlite3_bind_int64(ins, 7, at);
        if (sqlite3_step(ins) != SQLITE_DONE)
            return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "recording route decisions: %s",
                                 sqlite3_errmsg(db));
    }
    return LIA_OK;
}

int lia_route_record(lia_store *s, const lia_route *rt, int64_t event_id, const lia_decision *d, size_t n,
                     lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "DELETE FROM route_decision WHERE event_id=? AND notification_id IS NULL", -1,
                           &del, NULL) ||
        sqlite3_prepare_v2(db, LIA__ROUTE_INSERT_SQL, -1, &ins, NULL)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int64(del, 1, event_id);
    if (sqlite3_step(del) != SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
        goto out;
    }
    {
        lia__rcache c;
        c.n = 0;
        rc = lia__route_insert_rows(db, ins, &c, rt, event_id, d, n, lia__now_us(), err);
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return rc;
}

int lia_route_rows(lia_store *s, int64_t event_id, lia_route_row_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(
            db,
            "SELECT d.event_id,d.recipient,d.verdict,coalesce(d.rule,'default'),r.text,d.decided,"
            "d.notified,d.notification_id FROM route_decision d JOIN route_reason r ON r.id=d.reason"
            " WHERE d.event_id=? ORDER BY d.recipient",
            -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, event_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_route_row r = {
            sqlite3_column_int64(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            lia_verdict_name(sqlite3_column_int(st, 2)),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            sqlite3_column_int64(st, 5),
            sqlite3_column_int64(st, 6),
            sqlite3_column_int64(st, 7),
        };
        if ((rc = cb(ud, &r)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int lia_route_summary(lia_store *s, lia_route_sum_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT recipient,verdict,count(*),count(notification_id) FROM route_decision"
                           " GROUP BY recipient,verdict ORDER BY recipient,verdict",
                           -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc =
                 cb(ud, (const char *)sqlite3_column_text(st, 0), lia_verdict_name(sqlite3_column_int(st, 1)),
                    (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3))))
            break;
    if (!rc && step != SQLITE_DONE)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* ---- what notify asks of the decisions (route/decisions.h) ---- */

int lia__route_pending_recipients(lia_store *s, const char *only, lia__route_pending_rcpt_cb cb, void *ud,
                                  lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT recipient, count(*) FROM route_decision WHERE verdict=1"
                           " AND notification_id IS NULL AND (?1 IS NULL OR recipient=?1)"
                           " GROUP BY recipient ORDER BY recipient",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading route decisions");
    if (only)
        sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ud, (const char *)sqlite3_column_text(st, 0), (uint64_t)sqlite3_column_int64(st, 1))))
            break;
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_finalize(st);
    return rc;
}

int lia__route_pending(lia_store *s, const char *recipient, lia__route_pending_cb cb, void *ud,
                       lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT event_id FROM route_decision WHERE recipient=?1 AND verdict=1"
                           " AND notification_id IS NULL ORDER BY event_id",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ud, sqlite3_column_int64(st, 0))))
            break;
    if (rc == LIA__ROUTE_STOP)
        rc = LIA_OK;
    else if (rc == LIA_OK && step != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_finalize(st);
    return rc;
}

int lia__route_mark_notified(lia_store *s, const char *recipient, const int64_t *event_ids,
                             const int64_t *nids, size_t n, int64_t at, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc;
    if (n == 0)
        return LIA_OK;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "UPDATE route_decision SET notified=?1, notification_id=?2"
                           " WHERE event_id=?3 AND recipient=?4",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 4, recipient, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 2, nids[i]);
        sqlite3_bind_int64(st, 3, event_ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = lia_sqlite_error(db, err, "recording a notification");
    }
    sqlite3_finalize(st);
    return rc;
}

int lia__route_withhold(lia_store *s, const char *recipient, const int64_t *event_ids, size_t n,
                        const char *reason, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    lia__rcache c;
    int64_t reason_id;
    int rc;
    if (n == 0)
        return LIA_OK;
    c.n = 0;
    if ((rc = lia__route_db(s, &db, err)) || (rc = lia__route_reason_id(db, &c, reason, &reason_id, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "UPDATE route_decision SET verdict=2, reason=? WHERE event_id=? AND recipient=?"
                           " AND notification_id IS NULL",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    sqlite3_bind_int64(st, 1, reason_id);
    sqlite3_bind_text(st, 3, recipient, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 2, event_ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = lia_sqlite_error(db, err, "recording a notification");
    }
    sqlite3_finalize(st);
    return rc;
}
