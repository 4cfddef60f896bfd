/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison notify run: every recipient with pending events, each of its
 * channels delivered in turn. See liaison/notify.h. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "notify/internal.h"
#include "route/decisions.h"

/* ---- the run ---- */

typedef struct pending {
    char *recipient;
    uint64_t n;
} pending;

typedef struct pending_list {
    pending *v;
    size_t n;
} pending_list;

static int add_pending(void *ud, const char *recipient, uint64_t n)
{
    pending_list *l = ud;
    pending *np = realloc(l->v, (l->n + 1) * sizeof *np);
    if (!np)
        return LIA_ENOMEM;
    l->v = np;
    if (!(l->v[l->n].recipient = strdup(recipient)))
        return LIA_ENOMEM;
    l->v[l->n++].n = n;
    return LIA_OK;
}

/* Not delivered: a partner's own TAXII server or API. Said on each run. */
static int not_delivered(const char *rcpt, const char *key, const lia_channel *ch, lia_notify_cb cb, void *ud)
{
    lia_notify_result res;
    memset(&res, 0, sizeof res);
    res.recipient = rcpt;
    res.channel = key;
    res.to = key;
    res.language = "";
    res.message_id = "";
    res.outcome = "skipped";
    (void)ch;
    res.error = "delivery to a partner's API is not implemented: this channel is not delivered";
    return cb ? cb(ud, &res) : LIA_OK;
}

/* Every channel of one recipient: TAXII collections first, then the e-mail
 * digest. */
static int one_recipient(lia_store *s, sqlite3 *db, const lia_route *rt, const lia_notify_opts *o,
                         const char *rcpt, int64_t now, lia_notify_cb cb, void *ud, int *failed,
                         lia_error *err)
{
    const char *colon = strchr(rcpt, ':');
    const lia_party *p;
    lia__chset req;
    size_t ntaxii = 0;
    int idx, rc = LIA_OK, email = 0;
    lia_buf_init(&req.json, 1 << 20);
    req.n = 0;
    if (!colon)
        goto out;
    idx = lia_route_party_find(rt, strncmp(rcpt, "owner:", 6) == 0 ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER,
                               colon + 1);
    if (idx < 0) {
        lia_buf_puts(&req.json, "[\"email\"]");
        req.n = 1;
        rc = lia__notify_email(s, db, rt, o, rcpt, &req, now, cb, ud, failed, err);
        goto out;
    }
    p = lia_route_party(rt, idx);
    email = p->f[LIA_PF_CONTACTS].n > 0;
    lia_buf_putc(&req.json, '[');
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        lia_error_clear(err);
        if (lia_channel_parse(p->id, v, strlen(v), &ch, err))
            continue; /* stored values were validated; reported below */
        if (ch.kind == LIA_CHANNEL_EMAIL)
            email = 1;
        if (ch.kind != LIA_CHANNEL_TAXII && ch.kind != LIA_CHANNEL_TAXII_URL)
            continue;
        lia_buf_printf(&req.json, "%s", req.n ? "," : "");
        lia_buf_json_str(&req.json, v, strlen(v));
        req.n++;
        ntaxii++;
    }
    if (email || !ntaxii) {
        lia_buf_printf(&req.json, "%s\"email\"", req.n ? "," : "");
        req.n++;
    }
    lia_buf_putc(&req.json, ']');
    lia_buf_append(&req.json, "", 0);
    lia_error_clear(err);
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n && rc == LIA_OK; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        if (lia_channel_parse(p->id, v, strlen(v), &ch, err)) {
            /* a value stored before its syntax was checked: say so, go on */
            lia_notify_result res;
            char why[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 64];
            lia_error_format(err, why, sizeof why);
            lia_error_clear(err);
            memset(&res, 0, sizeof res);
            res.recipient = rcpt;
            res.channel = res.to = v;
            res.language = res.message_id = "";
            res.outcome = "failed";
            res.error = why;
            *failed = 1;
            rc = cb ? cb(ud, &res) : LIA_OK;
            continue;
        }
        if (ch.kind == LIA_CHANNEL_TAXII || ch.kind == LIA_CHANNEL_TAXII_URL)
            rc = lia__notify_taxii(s, db, rt, o, rcpt, idx, &ch, v, &req, now, cb, ud, failed, err);
        else if (ch.kind != LIA_CHANNEL_EMAIL)
            rc = not_delivered(rcpt, v, &ch, cb, ud);
    }
    if (rc == LIA_OK && (email || !ntaxii))
        rc = lia__notify_email(s, db, rt, o, rcpt, &req, now, cb, ud, failed, err);
    if (rc == LIA_OK && !o->dry_run)
        rc = lia__notify_settle(s, db, rcpt, &req, now, err);
out:
    lia_buf_free(&req.json);
    return rc;
}

int lia_notify_run(lia_store *s, const lia_notify_opts *o, lia_notify_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "notification", err);
    lia_route *rt = NULL;
    pending_list pl = {NULL, 0};
    int rc, failed = 0;
    int64_t now = o->now_us ? o->now_us : lia__now_us();
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!o->templates)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no template directory");
    if ((rc = lia_route_schema(s, err)) || (rc = lia__notify_schema(db, err)))
        return rc;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium failed to initialise");
    if ((rc = lia_route_load(s, &rt, err)))
        return rc;
    if ((rc = lia__route_pending_recipients(s, o->only, add_pending, &pl, err))) {
        if (rc == LIA_ENOMEM)
            lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (size_t i = 0; i < pl.n && rc == LIA_OK; i++)
        rc = one_recipient(s, db, rt, o, pl.v[i].recipient, now, cb, ud, &failed, err);
    curl_global_cleanup();
    if (rc == LIA_OK && failed)
        rc = lia_error_set(err, LIA_ENET, NULL, NULL, 0,
                           "some deliveries failed (recorded; they are retried on the next run)");
out:
    for (size_t i = 0; i < pl.n; i++)
        free(pl.v[i].recipient);
    free(pl.v);
    lia_route_destroy(rt);
    return rc;
}
