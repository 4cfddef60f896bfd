/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The e-mail outbox: a digest is written here, committed, before it is
 * handed to the SMTP server, and removed in the transaction that records
 * it sent. A process killed in between (kill -9, power) leaves the message
 * here; the next run sends that same message again, byte for byte with its
 * Message-ID, before it builds any new digest for the recipient. So no
 * event is marked delivered that was not, and an event goes out in one
 * message only: at worst that message twice, when the kill fell between
 * the server's "250" and our commit, and a receiver (RT, a mail client,
 * another Liaison node) knows it by its Message-ID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/internal.h"
#include "store/db.h"

static void put_ids(lia_buf *b, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char le[8];
        uint64_t u = (uint64_t)v[i];
        for (int k = 0; k < 8; k++)
            le[k] = (unsigned char)(u >> (8 * k));
        lia_buf_append(b, (const char *)le, 8);
    }
}

static int get_ids(const void *p, size_t len, int64_t **out, size_t *n)
{
    const unsigned char *c = p;
    *out = NULL;
    *n = len / 8;
    if (*n == 0)
        return LIA_OK;
    if (!(*out = malloc(*n * sizeof **out)))
        return LIA_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u |= (uint64_t)c[i * 8 + (size_t)k] << (8 * k);
        (*out)[i] = (int64_t)u;
    }
    return LIA_OK;
}

int lia__outbox_put(lia_db *db, const lia__outbox_msg *m, const lia__digest *d, int64_t *oid, lia_error *err)
{
    lia_stmt *st;
    lia_buf ev, inc, env;
    int rc;
    lia_buf_init(&ev, (size_t)1 << 30);
    lia_buf_init(&inc, (size_t)1 << 30);
    lia_buf_init(&env, LIA_MAX_MESSAGE);
    put_ids(&ev, d->ids, d->n);
    put_ids(&inc, d->incidents, d->nincidents);
    for (size_t i = 0; i < m->envelope.n; i++)
        lia_buf_printf(&env, "%s%s", i ? "\n" : "", m->envelope.v[i]);
    if (ev.err || inc.err || env.err) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if ((rc = lia__db_prepare(db, "writing the outbox",
                              "INSERT INTO notify_outbox(recipient,channel,message_id,rcpt_to,mail_from,"
                              "envelope,at,language,signed,encrypted,events,incidents,message)"
                              " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                              &st, err)))
        goto out;
    lia__db_bind_text(st, 1, m->recipient, -1);
    lia__db_bind_text(st, 2, m->channel, -1);
    lia__db_bind_text(st, 3, m->message_id, -1);
    lia__db_bind_text(st, 4, m->rcpt_to, -1);
    lia__db_bind_text(st, 5, m->mail_from, -1);
    lia__db_bind_text(st, 6, env.len ? env.ptr : "", (int)env.len);
    lia__db_bind_int64(st, 7, m->at);
    lia__db_bind_text(st, 8, m->language, -1);
    lia__db_bind_int64(st, 9, m->sig);
    lia__db_bind_int64(st, 10, m->enc);
    lia__db_bind_blob(st, 11, ev.ptr, ev.len);
    lia__db_bind_blob(st, 12, inc.ptr, inc.len);
    lia__db_bind_blob(st, 13, m->message, m->message_len);
    if ((rc = lia__db_run(st, err)) == LIA_OK)
        *oid = lia__db_last_id(db);
    lia__db_done(st);
out:
    lia_buf_free(&ev);
    lia_buf_free(&inc);
    lia_buf_free(&env);
    return rc;
}

int lia__outbox_del(lia_db *db, int64_t oid, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "clearing the outbox", "DELETE FROM notify_outbox WHERE id=?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, oid);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static char *dup_col(lia_stmt *st, int i)
{
    size_t n = lia__db_col_bytes(st, i);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, n ? lia__db_col_blob(st, i, &n) : "", n);
        p[n] = '\0';
    }
    return p;
}

int lia__outbox_oldest(lia_db *db, const char *rcpt, const char *channel, lia__outbox_msg *m, lia__digest *d,
                       lia_error *err)
{
    lia_stmt *st;
    int rc, found = 0;
    memset(m, 0, sizeof *m);
    if ((rc = lia__db_prepare(db, "reading the outbox",
                              "SELECT id,message_id,rcpt_to,mail_from,envelope,at,language,signed,encrypted,"
                              "events,incidents,message,"
                              " EXISTS(SELECT 1 FROM notification n WHERE n.recipient=o.recipient"
                              "  AND n.channel=o.channel AND n.message_id=o.message_id AND n.outcome='sent')"
                              " FROM notify_outbox o WHERE recipient=? AND channel=? ORDER BY id LIMIT 1",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, rcpt, -1);
    lia__db_bind_text(st, 2, channel, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const void *p;
        size_t len;
        char *env;
        found = 1;
        m->id = lia__db_col_int64(st, 0);
        m->message_id = dup_col(st, 1);
        m->rcpt_to = dup_col(st, 2);
        m->mail_from = dup_col(st, 3);
        env = dup_col(st, 4);
        m->at = lia__db_col_int64(st, 5);
        m->language = dup_col(st, 6);
        m->sig = (int)lia__db_col_int64(st, 7);
        m->enc = (int)lia__db_col_int64(st, 8);
        m->recorded = (int)lia__db_col_int64(st, 12);
        rc = !m->message_id || !m->rcpt_to || !m->mail_from || !env || !m->language ? LIA_ENOMEM : LIA_OK;
        p = lia__db_col_blob(st, 9, &len);
        if (rc == LIA_OK)
            rc = get_ids(p, len, &d->ids, &d->n);
        p = lia__db_col_blob(st, 10, &len);
        if (rc == LIA_OK)
            rc = get_ids(p, len, &d->incidents, &d->nincidents);
        p = lia__db_col_blob(st, 11, &len);
        if (rc == LIA_OK && !(m->owned = malloc(len ? len : 1)))
            rc = LIA_ENOMEM;
        if (rc == LIA_OK) {
            memcpy(m->owned, len ? p : "", len);
            m->message = m->owned;
            m->message_len = len;
        }
        for (char *a = env; rc == LIA_OK && a && *a;) {
            size_t k = strcspn(a, "\n");
            char **nv = realloc(m->envelope.v, (m->envelope.n + 1) * sizeof *nv);
            if (!nv || !(nv[m->envelope.n] = strndup(a, k))) {
                if (nv)
                    m->envelope.v = nv;
                rc = LIA_ENOMEM;
                break;
            }
            m->envelope.v = nv;
            m->envelope.n++;
            a += k + (a[k] == '\n');
        }
        free(env);
        if (rc == LIA_ENOMEM)
            lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    lia__db_done(st);
    if (rc < 0) {
        lia__outbox_msg_free(m);
        return rc;
    }
    return found ? LIA_OK : LIA_ENOTFOUND;
}

void lia__outbox_msg_free(lia__outbox_msg *m)
{
    free((char *)m->message_id);
    free((char *)m->rcpt_to);
    free((char *)m->mail_from);
    free((char *)m->language);
    free(m->owned);
    for (size_t i = 0; i < m->envelope.n; i++)
        free(m->envelope.v[i]);
    free(m->envelope.v);
    memset(m, 0, sizeof *m);
}
