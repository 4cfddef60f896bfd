/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One digest: the events pending for a recipient on one channel, the TLP
 * policy checked again, each copy redacted for the recipient. */
#include <stdlib.h>
#include <string.h>

#include "liaison/limits.h"
#include "incident/delivery.h"
#include "liaison/route.h"
#include "notify/internal.h"
#include "route/decisions.h"
#include "store/db.h"
#include "route/internal.h"
#include "route/tlp.h"

void lia__digest_free(lia__digest *d)
{
    for (size_t i = 0; i < d->cap; i++)
        lia_event_free(&d->ev[i]);
    free(d->ev);
    free(d->ids);
    free(d->withheld);
    free(d->incidents);
    memset(d, 0, sizeof *d);
}

typedef struct gather_ctx {
    lia_store *s;
    lia_db *db;
    lia_stmt *seen; /* delivered on this channel already? */
    lia__digest *d;
    lia_recipient r;
    lia_event raw;
    size_t taken; /* pending on this channel, at most LIA_MAX_DIGEST_EVENTS */
    lia_error *err;
} gather_ctx;

static int gather_one(void *ud, int64_t id)
{
    gather_ctx *g = ud;
    lia__digest *d = g->d;
    lia_error *err = g->err;
    const char *why;
    int owner, rc, step;
    lia__db_reset(g->seen);
    lia__db_bind_int64(g->seen, 3, id);
    if ((step = lia__db_step(g->seen, err)) == LIA_DB_ROW)
        return LIA_OK; /* this channel has delivered it */
    if (step != LIA_DB_DONE)
        return step;
    if (g->taken == LIA_MAX_DIGEST_EVENTS)
        return LIA__ROUTE_STOP;
    g->taken++;
    rc = lia_store_event_get(g->s, id, &g->raw, err);
    if (rc == LIA_ENOTFOUND)
        return LIA_OK; /* the event is gone from the store */
    if (rc)
        return rc;
    owner = lia_route_owner(d->rt, &g->raw, NULL);
    if (!lia__tlp_allows(&g->r, &g->raw, owner >= 0 ? lia_route_party(d->rt, owner)->id : NULL, &why)) {
        int64_t *nw = realloc(d->withheld, (d->nwithheld + 1) * sizeof *nw);
        if (!nw)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        d->withheld = nw;
        d->withheld[d->nwithheld++] = id;
        return LIA_OK;
    }
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        lia_event *ne = realloc(d->ev, nc * sizeof *ne);
        int64_t *ni;
        if (!ne)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        d->ev = ne;
        for (size_t k = d->cap; k < nc; k++)
            lia_event_init(&d->ev[k]);
        d->cap = nc;
        if (!(ni = realloc(d->ids, nc * sizeof *ni)))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        d->ids = ni;
    }
    if ((rc = lia__route_redact(d->rt, d->idx, &g->raw, &d->ev[d->n], err)))
        return rc;
    d->ids[d->n++] = id;
    return LIA_OK;
}

/* Build the digest's events: the ids route still has to notify (at most
 * LIA_MAX_DIGEST_EVENTS not yet delivered on this channel), TLP re-check,
 * redaction. */
int lia__digest_gather(lia_store *s, lia_db *db, lia__digest *d, const char *rcpt, const char *channel,
                       lia_error *err)
{
    gather_ctx g;
    int rc;
    memset(&g, 0, sizeof g);
    g.s = s;
    g.db = db;
    g.d = d;
    g.err = err;
    lia_route_recipient(d->rt, d->idx, &g.r);
    if ((rc = lia__db_prepare(
             db, "reading notifications: delivered on a channel",
             "SELECT 1 FROM notification_delivery WHERE recipient=? AND channel=? AND event_id=?", &g.seen,
             err)))
        return rc;
    lia__db_bind_text(g.seen, 1, rcpt, -1);
    lia__db_bind_text(g.seen, 2, channel, -1);
    lia_event_init(&g.raw);
    rc = lia__route_pending(s, rcpt, gather_one, &g, err);
    lia__db_done(g.seen);
    lia_event_free(&g.raw);
    if (rc == LIA_OK && d->n)
        rc = lia__incident_carried(s, d->p->id, d->ids, d->n, &d->incidents, &d->nincidents, err);
    return rc;
}
