/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Hand-offs as the delivery channels see them: which incidents a delivery
 * carries, the pending hand-offs it notifies (with the message that did),
 * and the hand-offs a message of ours was for (a reply naming it). See
 * incident/delivery.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/delivery.h"
#include "incident/internal.h"

int lia__incident_ready(lia_store *s, lia_error *err)
{
    return lia__incident_schema(lia__store_db(s), err);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int lia__incident_carried(lia_store *s, const char *recipient, const int64_t *ids, size_t n, int64_t **out,
                          size_t *nout, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int64_t *v = NULL;
    size_t nv = 0, cap = 0, k = 0;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    /* statuses 6..9: closed, rejected, duplicate, merged; states 0..2:
     * pending, notified, acknowledged */
    if ((rc = lia__db_prepare(db, "incident: incidents a delivery carries",
                              "SELECT h.incident_id FROM incident_link l"
                              " JOIN handoff h ON h.incident_id = l.incident_id AND h.recipient = ?2"
                              " JOIN incident i ON i.id = h.incident_id"
                              " WHERE l.kind = 'event' AND l.ref = ?1 AND h.state IN (0, 1, 2)"
                              " AND i.status NOT IN (6, 7, 8, 9)",
                              &st, err)))
        return rc;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        char ref[24];
        snprintf(ref, sizeof ref, "%lld", (long long)ids[i]);
        lia__db_reset(st);
        lia__db_bind_text(st, 1, ref, -1);
        lia__db_bind_text(st, 2, recipient, -1);
        while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
            int64_t id = lia__db_col_int64(st, 0);
            if (nv && v[nv - 1] == id)
                continue; /* the events of one incident come together, mostly */
            if (nv == cap) {
                size_t nc = cap ? cap * 2 : 16;
                int64_t *nw;
                if (nc > LIA_INCIDENT_MAX_CARRIED + 1) {
                    rc = lia_error_set(err, LIA_ELIMIT, "incidents", NULL, 0,
                                       "one delivery carries more than %u incidents",
                                       (unsigned)LIA_INCIDENT_MAX_CARRIED);
                    break;
                }
                if (!(nw = realloc(v, nc * sizeof *nw))) {
                    rc = lia_error_set(err, LIA_ENOMEM, "incidents", NULL, 0, "out of memory");
                    break;
                }
                v = nw;
                cap = nc;
            }
            v[nv++] = id;
        }
        if (rc == LIA_DB_DONE)
            rc = LIA_OK;
    }
    lia__db_done(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (nv)
        qsort(v, nv, sizeof *v, cmp_id);
    for (size_t i = 0; i < nv; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    if (k > LIA_INCIDENT_MAX_CARRIED) {
        free(v);
        return lia_error_set(err, LIA_ELIMIT, "incidents", NULL, 0,
                             "one delivery carries more than %u incidents",
                             (unsigned)LIA_INCIDENT_MAX_CARRIED);
    }
    *out = v;
    *nout = k;
    return LIA_OK;
}

int lia__incident_delivered(lia_store *s, const char *recipient, const int64_t *inc, size_t n,
                            const char *channel, const char *message_id, int64_t at_us, const lia_actor *who,
                            size_t *notified, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    size_t changed = 0;
    int rc;
    if (notified)
        *notified = 0;
    if (n == 0)
        return LIA_OK;
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        int state = -1;
        if ((rc = lia__db_prepare(db, "incident: a hand-off's state",
                                  "SELECT state FROM handoff WHERE incident_id = ? AND recipient = ?", &st,
                                  err)))
            break;
        lia__db_bind_int64(st, 1, inc[i]);
        lia__db_bind_text(st, 2, recipient, -1);
        if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
            state = (int)lia__db_col_int64(st, 0);
        lia__db_done(st);
        if (rc < 0)
            break;
        rc = LIA_OK;
        if (state < 0)
            continue; /* not handed off to it (any more): nothing to say */
        if (state == LIA_HO_PENDING) {
            if ((rc = lia__handoff_set_at(s, inc[i], recipient, LIA_HO_NOTIFIED, NULL, message_id, who, at_us,
                                          err)))
                break;
            changed++;
        }
        if (!message_id || !*message_id)
            continue;
        if ((rc = lia__db_prepare(
                 db, "incident: keeping a delivered message",
                 "INSERT INTO handoff_message(message_id, incident_id, recipient, channel, at)"
                 " VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING",
                 &st, err)))
            break;
        lia__db_bind_text(st, 1, message_id, -1);
        lia__db_bind_int64(st, 2, inc[i]);
        lia__db_bind_text(st, 3, recipient, -1);
        lia__db_bind_text(st, 4, channel ? channel : "", -1);
        lia__db_bind_int64(st, 5, at_us);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (notified)
        *notified = changed;
    return LIA_OK;
}

int lia__incident_of_message(lia_store *s, const char *message_id, size_t len, lia__incident_message_cb cb,
                             void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "incident: the hand-offs of a message",
                              "SELECT incident_id, recipient FROM handoff_message WHERE message_id = ?"
                              " ORDER BY incident_id, recipient",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, message_id, (ptrdiff_t)len);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        if (cb(ud, lia__db_col_int64(st, 0), lia__db_col_text(st, 1)))
            break;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}
