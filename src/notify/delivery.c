/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Delivery bookkeeping: the notification, notification_event and
 * notification_delivery tables; one attempt recorded per channel, events
 * marked notified once every channel of the recipient has delivered them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/delivery.h"
#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/decisions.h"
#include "store/db.h"
#include "store/forget.h"

static const lia_migration notify_migrations[] = {
    {"CREATE TABLE IF NOT EXISTS notification("
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
     "  notification_id INTEGER NOT NULL, PRIMARY KEY(recipient, channel, event_id)) WITHOUT ROWID;",
     NULL, NULL},
    /* 2: the channel of each notification */
    {"ALTER TABLE notification ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';", NULL, NULL},
    /* 3: which partner each delivery collection of our server belongs to */
    {"CREATE TABLE IF NOT EXISTS notify_taxii_owner(api_root TEXT NOT NULL, coll TEXT NOT NULL,"
     " party TEXT NOT NULL, PRIMARY KEY(api_root, coll));",
     NULL, NULL},
    /* 4: e-mail written before it is sent (outbox.c) */
    {"CREATE TABLE IF NOT EXISTS notify_outbox(id INTEGER PRIMARY KEY, recipient TEXT NOT NULL,"
     " channel TEXT NOT NULL, message_id TEXT NOT NULL, rcpt_to TEXT NOT NULL, mail_from TEXT NOT NULL,"
     " envelope TEXT NOT NULL, at INTEGER NOT NULL, language TEXT NOT NULL, signed INTEGER NOT NULL,"
     " encrypted INTEGER NOT NULL, events BLOB NOT NULL, incidents BLOB NOT NULL, message BLOB NOT NULL);"
     "CREATE INDEX IF NOT EXISTS notify_outbox_rcpt ON notify_outbox(recipient, channel, id);",
     NULL, NULL},
};

/* Stores made before the registry kept ('notify', 1 or 2) in route_schema;
 * the columns say the same. */
static int notify_adopt(lia_db *db, int *version, lia_error *err)
{
    (void)err;
    if (!lia__db_has_table(db, "notification"))
        *version = 0;
    else
        *version = lia__db_has_column(db, "notification", "channel") ? 2 : 1;
    return LIA_OK;
}

static const lia_schema notify_schema = {"notify", 4, notify_migrations, notify_adopt, .pg = 1};

int lia__notify_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &notify_schema, err);
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
static int delivered(lia_db *db, const char *rcpt, const lia__chset *req, int64_t id, int64_t *count,
                     int64_t *last, lia_error *err)
{
    lia_stmt *q;
    int rc;
    *count = *last = 0;
    if ((rc = lia__db_prepare(db, "recording a notification: deliveries of an event",
                              "SELECT channel, notification_id FROM notification_delivery"
                              " WHERE recipient=? AND event_id=?",
                              &q, err)))
        return rc;
    lia__db_bind_text(q, 1, rcpt, -1);
    lia__db_bind_int64(q, 2, id);
    while ((rc = lia__db_step(q, err)) == LIA_DB_ROW) {
        int64_t nid = lia__db_col_int64(q, 1);
        if (lia__chset_has(req, lia__db_col_text(q, 0), lia__db_col_bytes(q, 0)))
            (*count)++;
        if (nid > *last)
            *last = nid;
    }
    lia__db_done(q);
    return rc;
}

/* Record one delivery attempt on channel. Sent: the events are marked
 * delivered on that channel, and notified in route_decision (through
 * route's lia__route_mark_notified) once every channel of req has delivered
 * them. A transaction of its own, nested in the caller's if there is one. */
int lia__notify_record(lia_store *s, lia_db *db, const char *rcpt, const char *to, const char *channel,
                       const lia__chset *req, int64_t at, const char *msgid, const lia__digest *d,
                       const char *outcome, int attempts, const char *error, int sig, int enc,
                       const char *lang, size_t bytes, int64_t *nid, lia_error *err)
{
    lia_stmt *st = NULL, *ev = NULL, *dl = NULL;
    idlist done = {0};
    int64_t need = (int64_t)(req->n ? req->n : 1);
    int rc, sent = strcmp(outcome, "sent") == 0;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = lia__db_prepare(
             db, "recording a notification",
             "INSERT INTO notification(recipient,rcpt_to,at,message_id,events,outcome,attempts,"
             "error,signed,encrypted,language,bytes,channel) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
             &st, err)) ||
        (rc = lia__db_prepare(db, "recording a notification: its events",
                              "INSERT INTO notification_event VALUES(?,?) ON CONFLICT DO NOTHING", &ev,
                              err)) ||
        (rc = lia__db_prepare(db, "recording a notification: delivered on a channel",
                              "INSERT INTO notification_delivery VALUES(?,?,?,?)"
                              " ON CONFLICT(recipient,channel,event_id) DO UPDATE"
                              " SET notification_id=excluded.notification_id",
                              &dl, err)))
        goto out;
    lia__db_bind_text(st, 1, rcpt, -1);
    lia__db_bind_text(st, 2, to, -1);
    lia__db_bind_int64(st, 3, at);
    lia__db_bind_text(st, 4, msgid, -1);
    lia__db_bind_int64(st, 5, (int64_t)d->n);
    lia__db_bind_text(st, 6, outcome, -1);
    lia__db_bind_int64(st, 7, attempts);
    lia__db_bind_text(st, 8, error, -1);
    lia__db_bind_int64(st, 9, sig);
    lia__db_bind_int64(st, 10, enc);
    lia__db_bind_text(st, 11, lang, -1);
    lia__db_bind_int64(st, 12, (int64_t)bytes);
    lia__db_bind_text(st, 13, channel, -1);
    if ((rc = lia__db_run(st, err)))
        goto out;
    *nid = lia__db_last_id(db);
    for (size_t i = 0; i < d->n; i++) {
        int64_t count, last;
        lia__db_reset(ev);
        lia__db_bind_int64(ev, 1, *nid);
        lia__db_bind_int64(ev, 2, d->ids[i]);
        if ((rc = lia__db_run(ev, err)))
            goto out;
        if (!sent)
            continue;
        lia__db_reset(dl);
        lia__db_bind_int64(dl, 1, d->ids[i]);
        lia__db_bind_text(dl, 2, rcpt, -1);
        lia__db_bind_text(dl, 3, channel, -1);
        lia__db_bind_int64(dl, 4, *nid);
        if ((rc = lia__db_run(dl, err)) || (rc = delivered(db, rcpt, req, d->ids[i], &count, &last, err)))
            goto out;
        if (count >= need && idlist_push(&done, d->ids[i], *nid)) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
    }
    if ((rc = lia__route_mark_notified(s, rcpt, done.id, done.nid, done.n, at, err)))
        goto out;
    if (sent && d->nincidents) {
        /* the incidents' hand-offs, through the incident API, in this
         * transaction: the delivery and the hand-offs are kept together */
        lia_actor who = {"liaison", channel, NULL};
        if ((rc = lia__incident_delivered(s, d->p->id, d->incidents, d->nincidents, channel,
                                          strcmp(channel, "email") == 0 ? msgid : NULL, at, &who, NULL, err)))
            goto out;
    }
    rc = lia__route_withhold(s, rcpt, d->withheld, d->nwithheld,
                             "refused by the TLP policy when the digest was built", err);
out:
    lia__db_done(st);
    lia__db_done(ev);
    lia__db_done(dl);
    idlist_free(&done);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia__notify_last_sent(lia_db *db, const char *rcpt, int64_t *at, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "reading notifications: the last digest",
             "SELECT coalesce(max(at),0) FROM notification WHERE recipient=? AND outcome='sent'"
             " AND channel='email'",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, rcpt, -1);
    rc = lia__db_step(st, err);
    *at = rc == LIA_DB_ROW ? lia__db_col_int64(st, 0) : 0;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int collect_pending(void *ud, int64_t id)
{
    return idlist_push(ud, id, 0) ? LIA_ENOMEM : LIA_OK;
}

/* Events of rcpt that every channel of req has delivered, but that are not
 * marked notified yet (the recipient lost a channel since): mark them, each
 * with the last notification that delivered it. */
int lia__notify_settle(lia_store *s, lia_db *db, const char *rcpt, const lia__chset *req, int64_t now,
                       lia_error *err)
{
    idlist pend = {0}, done = {0};
    int64_t need = (int64_t)(req->n ? req->n : 1);
    int rc;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    rc = lia__route_pending(s, rcpt, collect_pending, &pend, err);
    if (rc == LIA_ENOMEM)
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < pend.n && rc == LIA_OK; i++) {
        int64_t count, last;
        if ((rc = delivered(db, rcpt, req, pend.id[i], &count, &last, err)))
            break;
        if (count >= need && idlist_push(&done, pend.id[i], last))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (rc == LIA_OK)
        rc = lia__route_mark_notified(s, rcpt, done.id, done.nid, done.n, now, err);
    idlist_free(&pend);
    idlist_free(&done);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia_notify_log(lia_store *s, uint64_t limit, lia_notification_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_schema(s, err)) || (rc = lia__notify_schema(db, err)) ||
        (rc = lia__db_prepare(
             db, "reading notifications",
             "SELECT id,recipient,rcpt_to,message_id,outcome,error,language,at,events,attempts,"
             "signed,encrypted,channel FROM notification ORDER BY id DESC LIMIT ?",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, limit && limit < (uint64_t)INT64_MAX ? (int64_t)limit : INT64_MAX);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_notification n = {
            lia__db_col_int64(st, 0),      lia__db_col_text(st, 1),        lia__db_col_text(st, 2),
            lia__db_col_text(st, 3),       lia__db_col_text(st, 4),        lia__db_col_text(st, 5),
            lia__db_col_text(st, 6),       lia__db_col_int64(st, 7),       (uint64_t)lia__db_col_int64(st, 8),
            (int)lia__db_col_int64(st, 9), (int)lia__db_col_int64(st, 10), (int)lia__db_col_int64(st, 11),
            lia__db_col_text(st, 12),
        };
        if ((rc = cb(ud, &n)))
            break;
    }
    lia__db_done(st);
    return rc;
}

/* ---- a prune (store/forget.h) ---- */

/* Which notification and channel carried each event going. The
 * notifications themselves stay: they say what was sent, when, to whom,
 * and how many events (the count, not the links). */
static int notify_forget(lia_store *s, const lia_forget *f, uint64_t *rows, lia_error *err)
{
    static const struct {
        const char *table, *name, *sql;
    } del[] = {
        {"notification_event", "notify: links of pruned events",
         "DELETE FROM notification_event WHERE event_id IN (SELECT id FROM temp.lia_forget_event)"},
        {"notification_delivery", "notify: deliveries of pruned events",
         "DELETE FROM notification_delivery WHERE event_id IN (SELECT id FROM temp.lia_forget_event)"},
    };
    lia_db *db = lia__store_db(s);
    (void)f;
    *rows = 0;
    for (size_t i = 0; i < sizeof del / sizeof *del; i++) {
        lia_stmt *st;
        int rc;
        if (!lia__db_has_table(db, del[i].table))
            continue;
        if ((rc = lia__db_prepare(db, del[i].name, del[i].sql, &st, err)))
            return rc;
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
        *rows += (uint64_t)lia__db_changes(db);
    }
    return LIA_OK;
}

const lia_forget_hook lia__notify_forget = {"notify", notify_forget, NULL};
