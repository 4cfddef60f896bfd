/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Delivery bookkeeping: the notification, notification_event and
 * notification_delivery tables; one attempt recorded per channel, events
 * marked notified once every channel of the recipient has delivered them. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/decisions.h"

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

/* Events of ids[0..n) delivered to rcpt on every channel of req: into done
 * (with the notification that completed them, from notification_delivery). */
typedef struct idlist {
    int64_t *id, *nid;
    size_t n, cap;
} idlist;

static int idlist_push(idlist *l, int64_t id, int64_t nid)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        int64_t *a = realloc(l->id, nc * sizeof *a), *b;
        if (!a)
            return LIA_ENOMEM;
        l->id = a;
        if (!(b = realloc(l->nid, nc * sizeof *b)))
            return LIA_ENOMEM;
        l->nid = b;
        l->cap = nc;
    }
    l->id[l->n] = id;
    l->nid[l->n++] = nid;
    return LIA_OK;
}

static void idlist_free(idlist *l)
{
    free(l->id);
    free(l->nid);
    memset(l, 0, sizeof *l);
}

int lia__chset_add(lia__chset *set, const char *key)
{
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 8;
        const char **nk = realloc(set->key, nc * sizeof *nk);
        if (!nk)
            return LIA_ENOMEM;
        set->key = nk;
        set->cap = nc;
    }
    set->key[set->n++] = key;
    return LIA_OK;
}

int lia__chset_has(const lia__chset *set, const char *key, size_t n)
{
    for (size_t i = 0; i < set->n; i++)
        if (strlen(set->key[i]) == n && memcmp(set->key[i], key, n) == 0)
            return 1;
    return 0;
}

void lia__chset_free(lia__chset *set)
{
    free(set->key);
    memset(set, 0, sizeof *set);
}

/* How many channels of req have delivered event id to rcpt (*count), and
 * the last notification that delivered it on any channel (*last). */
static int delivered(sqlite3 *db, sqlite3_stmt *q, const lia__chset *req, int64_t id, int64_t *count,
                     int64_t *last, lia_error *err)
{
    int step;
    *count = *last = 0;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 2, id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t nid = sqlite3_column_int64(q, 1);
        if (lia__chset_has(req, (const char *)sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0)))
            (*count)++;
        if (nid > *last)
            *last = nid;
    }
    if (step != SQLITE_DONE)
        return lia_sqlite_error(db, err, "recording a notification");
    return LIA_OK;
}

static int delivered_prepare(sqlite3 *db, const char *rcpt, sqlite3_stmt **q, lia_error *err)
{
    if (sqlite3_prepare_v2(db,
                           "SELECT channel, notification_id FROM notification_delivery"
                           " WHERE recipient=?1 AND event_id=?2",
                           -1, q, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    sqlite3_bind_text(*q, 1, rcpt, -1, SQLITE_STATIC);
    return LIA_OK;
}

/* Record one delivery attempt on channel. Sent: the events are marked
 * delivered on that channel, and notified in route_decision (through
 * route's lia__route_mark_notified) once every channel of req has delivered
 * them. in_tx: the caller holds a transaction. */
int lia__notify_record(lia_store *s, sqlite3 *db, const char *rcpt, const char *to, const char *channel,
                       const lia__chset *req, int in_tx, int64_t at, const char *msgid, const lia__digest *d,
                       const char *outcome, int attempts, const char *error, int sig, int enc,
                       const char *lang, size_t bytes, int64_t *nid, lia_error *err)
{
    sqlite3_stmt *st = NULL, *ev = NULL, *dl = NULL, *q = NULL;
    idlist done = {0};
    int64_t need = (int64_t)(req->n ? req->n : 1);
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
                           NULL)) {
        rc = lia_sqlite_error(db, err, "recording a notification");
        goto out;
    }
    if ((rc = delivered_prepare(db, rcpt, &q, err)))
        goto out;
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
        int64_t count, last;
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
        if ((rc = delivered(db, q, req, d->ids[i], &count, &last, err)))
            goto out;
        if (count >= need && idlist_push(&done, d->ids[i], *nid)) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
    }
    if ((rc = lia__route_mark_notified(s, rcpt, done.id, done.nid, done.n, at, err)))
        goto out;
    rc = lia__route_withhold(s, rcpt, d->withheld, d->nwithheld,
                             "refused by the TLP policy when the digest was built", err);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(ev);
    sqlite3_finalize(dl);
    sqlite3_finalize(q);
    idlist_free(&done);
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

static int collect_pending(void *ud, int64_t id)
{
    return idlist_push(ud, id, 0) ? LIA_ENOMEM : LIA_OK;
}

/* Events of rcpt that every channel of req has delivered, but that are not
 * marked notified yet (the recipient lost a channel since): mark them, each
 * with the last notification that delivered it. */
int lia__notify_settle(lia_store *s, sqlite3 *db, const char *rcpt, const lia__chset *req, int64_t now,
                       lia_error *err)
{
    sqlite3_stmt *q = NULL;
    idlist pend = {0}, done = {0};
    int64_t need = (int64_t)(req->n ? req->n : 1);
    int rc;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    rc = lia__route_pending(s, rcpt, collect_pending, &pend, err);
    if (rc == LIA_ENOMEM)
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (rc == LIA_OK && pend.n)
        rc = delivered_prepare(db, rcpt, &q, err);
    for (size_t i = 0; i < pend.n && rc == LIA_OK; i++) {
        int64_t count, last;
        if ((rc = delivered(db, q, req, pend.id[i], &count, &last, err)))
            break;
        if (count >= need && idlist_push(&done, pend.id[i], last))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (rc == LIA_OK)
        rc = lia__route_mark_notified(s, rcpt, done.id, done.nid, done.n, now, err);
    sqlite3_finalize(q);
    idlist_free(&pend);
    idlist_free(&done);
    sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
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
