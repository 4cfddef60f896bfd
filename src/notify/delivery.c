/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Delivery bookkeeping: the notification, notification_event and
 * notification_delivery tables; one attempt recorded per channel, events
 * marked notified once every channel of the recipient has delivered them. */
#include <sqlite3.h>
#include <string.h>

#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/internal.h"

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS notification("
    "  id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, rcpt_to TEXT NOT NULL, at INTEGER NOT NULL,"
    "  message_id TEXT NOT NULL, events INTEGER NOT NULL, outcome TEXT NOT NULL, attempts INTEGER NOT NULL,"
    "  error TEXT NOT NULL, signed INTEGER NOT NULL, encrypted INTEGER NOT NULL, language TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS notification_rcpt ON notification(recipient, at);"
    "CREATE TABLE IF NOT EXISTS notification_event("
    "  notification_id INTEGER NOT NULL, event_id INTEGER NOT NULL,"
    "  PRIMARY KEY(notification_id, event_id));"
    /* per channel: which events each channel of a recipient has delivered;
     * route_decision is marked notified when every channel has */
    "CREATE TABLE IF NOT EXISTS notification_delivery("
    "  event_id INTEGER NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL,"
    "  notification_id INTEGER NOT NULL, PRIMARY KEY(recipient, channel, event_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO route_schema VALUES('notify', 1);";

/* Tables, and schema 2 (notification.channel) on a store of schema 1. */
int lia__notify_schema(sqlite3 *db, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    char *msg = NULL;
    int rc = LIA_OK;
    if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "creating notification tables: %s",
                           msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    if (sqlite3_prepare_v2(db, "SELECT channel FROM notification LIMIT 0", -1, &st, NULL) != SQLITE_OK &&
        sqlite3_exec(db,
                     "ALTER TABLE notification ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';"
                     "UPDATE route_schema SET version = 2 WHERE module = 'notify'",
                     NULL, NULL, &msg)) {
        rc =
            lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "adding notification.channel: %s", msg ? msg : "?");
        sqlite3_free(msg);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Record one delivery attempt on channel. Sent: the events are marked
 * delivered on that channel, and notified in route_decision once every
 * channel of req has delivered them. in_tx: the caller holds a transaction. */
int lia__notify_record(sqlite3 *db, const char *rcpt, const char *to, const char *channel,
                       const lia__chset *req, int in_tx, int64_t at, const char *msgid, const lia__digest *d,
                       const char *outcome, int attempts, const char *error, int sig, int enc,
                       const char *lang, size_t bytes, int64_t *nid, lia_error *err)
{
    sqlite3_stmt *st = NULL, *ev = NULL, *upd = NULL, *deny = NULL, *dl = NULL;
    int64_t reason_id = 0;
    int rc = LIA_OK, sent = strcmp(outcome, "sent") == 0;
    if (!in_tx && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO notification(recipient,rcpt_to,at,message_id,events,outcome,attempts,error,"
            "signed,encrypted,language,bytes,channel) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &st, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO notification_event VALUES(?,?)", -1, &ev, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO notification_delivery VALUES(?1,?2,?3,?4)", -1, &dl,
                           NULL) ||
        sqlite3_prepare_v2(
            db,
            "UPDATE route_decision SET notified=?1, notification_id=?2 WHERE event_id=?3 AND recipient=?4"
            " AND (SELECT count(*) FROM notification_delivery x WHERE x.recipient=?4 AND x.event_id=?3"
            " AND x.channel IN (SELECT value FROM json_each(?5))) >= ?6",
            -1, &upd, NULL) ||
        sqlite3_prepare_v2(db,
                           "UPDATE route_decision SET verdict=2, reason=? WHERE event_id=? AND recipient=?"
                           " AND notification_id IS NULL",
                           -1, &deny, NULL)) {
        rc = lia_sqlite_error(db, err, "recording a notification");
        goto out;
    }
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, msgid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)d->n);
    sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, attempts);
    sqlite3_bind_text(st, 8, error, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, sig);
    sqlite3_bind_int(st, 10, enc);
    sqlite3_bind_text(st, 11, lang, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)bytes);
    sqlite3_bind_text(st, 13, channel, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "recording a notification");
        goto out;
    }
    *nid = sqlite3_last_insert_rowid(db);
    for (size_t i = 0; i < d->n; i++) {
        sqlite3_reset(ev);
        sqlite3_bind_int64(ev, 1, *nid);
        sqlite3_bind_int64(ev, 2, d->ids[i]);
        if (sqlite3_step(ev) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
        if (!sent)
            continue;
        sqlite3_reset(dl);
        sqlite3_bind_int64(dl, 1, d->ids[i]);
        sqlite3_bind_text(dl, 2, rcpt, -1, SQLITE_STATIC);
        sqlite3_bind_text(dl, 3, channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(dl, 4, *nid);
        if (sqlite3_step(dl) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
        sqlite3_reset(upd);
        sqlite3_bind_int64(upd, 1, at);
        sqlite3_bind_int64(upd, 2, *nid);
        sqlite3_bind_int64(upd, 3, d->ids[i]);
        sqlite3_bind_text(upd, 4, rcpt, -1, SQLITE_STATIC);
        sqlite3_bind_text(upd, 5, lia_buf_cstr(&req->json), -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 6, (sqlite3_int64)(req->n ? req->n : 1));
        if (sqlite3_step(upd) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
    }
    if (d->nwithheld) {
        lia__rcache c;
        c.n = 0;
        if ((rc = lia__route_reason_id(db, &c, "refused by the TLP policy when the digest was built",
                                       &reason_id, err)))
            goto out;
    }
    for (size_t i = 0; i < d->nwithheld; i++) {
        sqlite3_reset(deny);
        sqlite3_bind_int64(deny, 1, reason_id);
        sqlite3_bind_int64(deny, 2, d->withheld[i]);
        sqlite3_bind_text(deny, 3, rcpt, -1, SQLITE_STATIC);
        if (sqlite3_step(deny) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(ev);
    sqlite3_finalize(upd);
    sqlite3_finalize(deny);
    sqlite3_finalize(dl);
    if (!in_tx)
        sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

int lia__notify_last_sent(sqlite3 *db, const char *rcpt, int64_t *at, lia_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(max(at),0) FROM notification WHERE recipient=? AND outcome='sent'"
                           " AND channel='email'",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading notifications");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    *at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return LIA_OK;
}
/* Events of rcpt that every channel of req has delivered, but that are not
 * marked notified yet (the recipient lost a channel since): mark them. */
int lia__notify_settle(sqlite3 *db, const char *rcpt, const lia__chset *req, int64_t now, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    if (sqlite3_prepare_v2(
            db,
            "UPDATE route_decision AS r SET notified=?3, notification_id=(SELECT max(notification_id)"
            " FROM notification_delivery x WHERE x.recipient=?1 AND x.event_id=r.event_id)"
            " WHERE recipient=?1 AND verdict=1 AND notification_id IS NULL AND"
            " (SELECT count(*) FROM notification_delivery x WHERE x.recipient=?1"
            " AND x.event_id=r.event_id AND x.channel IN (SELECT value FROM json_each(?2))) >= ?4",
            -1, &st, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, lia_buf_cstr(&req->json), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(req->n ? req->n : 1));
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "recording a notification");
    sqlite3_finalize(st);
    return rc;
}

int lia_notify_log(lia_store *s, uint64_t limit, lia_notification_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "notification", err);
    sqlite3_stmt *st;
    int rc = LIA_OK, step;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_route_schema(s, err)) || (rc = lia__notify_schema(db, err)))
        return rc;
    if (sqlite3_prepare_v2(
            db,
            "SELECT id,recipient,rcpt_to,message_id,outcome,error,language,at,events,attempts,signed,"
            "encrypted,channel FROM notification ORDER BY id DESC LIMIT ?",
            -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading notifications");
    sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_notification n = {
            sqlite3_column_int64(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6),
            sqlite3_column_int64(st, 7),
            (uint64_t)sqlite3_column_int64(st, 8),
            sqlite3_column_int(st, 9),
            sqlite3_column_int(st, 10),
            sqlite3_column_int(st, 11),
            (const char *)sqlite3_column_text(st, 12),
        };
        if ((rc = cb(ud, &n)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "reading notifications");
    sqlite3_finalize(st);
    return rc;
}
