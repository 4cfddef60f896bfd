/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison notify run: every recipient with pending events, each of its
 * channels delivered in turn. See liaison/notify.h. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/delivery.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "notify/internal.h"
#include "route/decisions.h"
#include "store/db.h"
#include "store/lease.h"
#include "route/internal.h"

/* ---- the run ---- */

static int64_t lease_ms(const lia_notify_opts *o)
{
    return o->lease_ms > 0 ? o->lease_ms : LIA_NOTIFY_LEASE_MS;
}

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

/* A value of `channels` that does not parse (stored before its syntax was
 * checked): said, and the run goes on. */
static int bad_value(lia__notify_run *r, const char *rcpt, const char *v, lia_error *err)
{
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
    r->failed = 1;
    return r->cb ? r->cb(r->ud, &res) : LIA_OK;
}

/* Is once-per-recipient channel c delivered to party p? nrequired: how many
 * required per-value channels p has. */
static int once_wanted(const lia__notify_channel *c, const lia_party *p, size_t nrequired)
{
    if (c->wanted && c->wanted(p))
        return 1;
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        if (lia__channel_parse(p->id, v, strlen(v), &ch, NULL) == LIA_OK && ch.kind == c->kind)
            return 1;
    }
    return c->fallback && nrequired == 0;
}

/* Before each channel: our lease on the recipient renewed; r->lost (and
 * the recipient's remaining channels left) if another notifier has it. */
static int keep_lease(lia__notify_run *r, lia_error *err)
{
    int held = 1, rc;
    if (!r->lease || r->lost)
        return LIA_OK;
    if ((rc = lia__lease_renew(r->db, r->lease, NULL, lease_ms(r->o), &held, err)))
        return rc;
    r->lost = !held;
    return LIA_OK;
}

/* Every channel of one recipient: the per-value channels (TAXII
 * collections) in the party's order, then the once-per-recipient ones (the
 * e-mail digest); then what every required channel has delivered is
 * marked notified. */
static int one_recipient(lia__notify_run *r, const char *name, lia_error *err)
{
    const char *colon = strchr(name, ':');
    const lia_party *p;
    lia__notify_rcpt rc_;
    size_t nrequired = 0;
    int rc = LIA_OK;
    memset(&rc_.req, 0, sizeof rc_.req);
    rc_.name = name;
    if (!colon)
        goto out;
    rc_.idx = lia__route_party_find(
        r->rt, strncmp(name, "owner:", 6) == 0 ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, colon + 1);
    if (rc_.idx < 0) {
        /* no longer in the directory: the once-per-recipient channels say so */
        for (size_t k = 0; lia__notify_channels[k] && rc == LIA_OK; k++)
            if (!lia__notify_channels[k]->per_value)
                rc = lia__chset_add(&rc_.req, lia__notify_channels[k]->name);
        if (rc)
            goto nomem;
        for (size_t k = 0; lia__notify_channels[k] && rc == LIA_OK && !r->lost; k++)
            if (!lia__notify_channels[k]->per_value && (rc = keep_lease(r, err)) == LIA_OK && !r->lost)
                rc = lia__notify_channels[k]->deliver(r, &rc_, NULL, lia__notify_channels[k]->name, err);
        goto out;
    }
    p = lia_route_party(r->rt, rc_.idx);
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n && rc == LIA_OK; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        const lia__notify_channel *c;
        lia_channel ch;
        lia_error_clear(err);
        if (lia__channel_parse(p->id, v, strlen(v), &ch, err))
            continue; /* stored values were validated; reported below */
        if ((c = lia__notify_channel_of(ch.kind)) && c->per_value && c->required) {
            rc = lia__chset_add(&rc_.req, v);
            nrequired++;
        }
    }
    for (size_t k = 0; lia__notify_channels[k] && rc == LIA_OK; k++)
        if (!lia__notify_channels[k]->per_value && once_wanted(lia__notify_channels[k], p, nrequired))
            rc = lia__chset_add(&rc_.req, lia__notify_channels[k]->name);
    if (rc)
        goto nomem;
    lia_error_clear(err);
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n && rc == LIA_OK && !r->lost; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        const lia__notify_channel *c;
        lia_channel ch;
        if (lia__channel_parse(p->id, v, strlen(v), &ch, err)) {
            rc = bad_value(r, name, v, err);
            continue;
        }
        if ((c = lia__notify_channel_of(ch.kind)) && c->per_value && (rc = keep_lease(r, err)) == LIA_OK &&
            !r->lost)
            rc = c->deliver(r, &rc_, &ch, v, err);
    }
    for (size_t k = 0; lia__notify_channels[k] && rc == LIA_OK && !r->lost; k++)
        if (!lia__notify_channels[k]->per_value && once_wanted(lia__notify_channels[k], p, nrequired) &&
            (rc = keep_lease(r, err)) == LIA_OK && !r->lost)
            rc = lia__notify_channels[k]->deliver(r, &rc_, NULL, lia__notify_channels[k]->name, err);
    if (rc == LIA_OK && !r->o->dry_run && !r->lost)
        rc = lia__notify_settle(r->s, r->db, name, &rc_.req, r->now, err);
out:
    lia__chset_free(&rc_.req);
    return rc;
nomem:
    rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    goto out;
}

/* A recipient no notifier works on now: one_recipient under its lease
 * (store/lease.h), given back after; one another notifier holds is
 * reported skipped (that one sends it). Dry runs take none. */
static int leased_recipient(lia__notify_run *r, const char *name, lia_error *err)
{
    char key[LIA_LEASE_NAME_MAX], who[LIA_LEASE_HOLDER_MAX], why[LIA_LEASE_HOLDER_MAX + 96];
    char t[LIA_TIME_TEXT];
    int64_t until = 0;
    int got = 0, rc, rrc;
    lia_notify_result res;
    if (r->o->dry_run)
        return one_recipient(r, name, err);
    snprintf(key, sizeof key, "notify:%s", name);
    if ((rc = lia__lease_take(r->db, key, NULL, lease_ms(r->o), &got, &until, who, err)))
        return rc;
    if (!got) {
        lia_time_format(until, t, sizeof t);
        snprintf(why, sizeof why, "another notifier (%s) holds it until %s", who[0] ? who : "-", t);
        goto skipped;
    }
    r->lease = key;
    r->lost = 0;
    rc = one_recipient(r, name, err);
    r->lease = NULL;
    if (r->lost) { /* ours expired mid-way and another took it: that one goes on */
        snprintf(why, sizeof why, "its lease ran out and another notifier took it over; raise --lease");
        r->failed = 1;
        goto skipped;
    }
    rrc = lia__lease_release(r->db, key, NULL, rc ? NULL : err);
    return rc ? rc : rrc;
skipped:
    memset(&res, 0, sizeof res);
    res.recipient = name;
    res.channel = "email";
    res.to = res.language = res.message_id = "";
    res.outcome = "skipped";
    res.error = why;
    return r->cb ? r->cb(r->ud, &res) : LIA_OK;
}

int lia_notify_run(lia_store *s, const lia_notify_opts *o, lia_notify_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_route *rt = NULL;
    pending_list pl = {NULL, 0};
    lia__notify_run run;
    int rc;
    int64_t now = o->now_us ? o->now_us : lia__now_us();
    if (!o->templates)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no template directory");
    if ((rc = lia__route_schema(s, err)) || (rc = lia__notify_schema(db, err)) ||
        (rc = lia__incident_ready(s, err)))
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
    run = (lia__notify_run){s, db, rt, o, now, cb, ud, 0, NULL, 0};
    for (size_t i = 0; i < pl.n && rc == LIA_OK; i++)
        rc = leased_recipient(&run, pl.v[i].recipient, err);
    curl_global_cleanup();
    if (rc == LIA_OK && run.failed)
        rc = lia_error_set(err, LIA_ENET, NULL, NULL, 0,
                           "some deliveries failed (recorded; they are retried on the next run)");
out:
    for (size_t i = 0; i < pl.n; i++)
        free(pl.v[i].recipient);
    free(pl.v);
    lia_route_destroy(rt);
    return rc;
}
