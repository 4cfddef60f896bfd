/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One digest: the events pending for a recipient on one channel, the TLP
 * policy checked again, each copy redacted for the recipient. */
#include <stdlib.h>
#include <string.h>

#include "liaison/limits.h"
#include "liaison/route.h"
#include "notify/internal.h"

void lia__digest_free(lia__digest *d)
{
    for (size_t i = 0; i < d->cap; i++)
        lia_event_free(&d->ev[i]);
    free(d->ev);
    free(d->ids);
    free(d->withheld);
    memset(d, 0, sizeof *d);
}

/* Build the digest's events: pending ids, TLP re-check, redaction. */
int lia__digest_gather(lia_store *s, sqlite3 *db, lia__digest *d, const char *rcpt, const char *channel,
                       lia_error *err)
{
    sqlite3_stmt *st;
    lia_recipient r;
    int rc = LIA_OK, step;
    lia_event raw;
    lia_route_recipient(d->rt, d->idx, &r);
    if (sqlite3_prepare_v2(db,
                           "SELECT event_id FROM route_decision r WHERE recipient=?1 AND verdict=1"
                           " AND notification_id IS NULL AND NOT EXISTS(SELECT 1 FROM notification_delivery x"
                           " WHERE x.recipient=?1 AND x.channel=?3 AND x.event_id=r.event_id)"
                           " ORDER BY event_id LIMIT ?2",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, LIA_MAX_DIGEST_EVENTS);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    lia_event_init(&raw);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *why;
        int owner;
        rc = lia_store_event_get(s, id, &raw, err);
        if (rc == LIA_ENOTFOUND) {
            rc = LIA_OK;
            continue; /* the event is gone from the store */
        }
        if (rc)
            break;
        owner = lia_route_owner(d->rt, &raw, NULL);
        if (!lia_tlp_allows(&r, &raw, owner >= 0 ? lia_route_party(d->rt, owner)->id : NULL, &why)) {
            int64_t *nw = realloc(d->withheld, (d->nwithheld + 1) * sizeof *nw);
            if (!nw) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->withheld = nw;
            d->withheld[d->nwithheld++] = id;
            continue;
        }
        if (d->n == d->cap) {
            size_t nc = d->cap ? d->cap * 2 : 64;
            lia_event *ne = realloc(d->ev, nc * sizeof *ne);
            int64_t *ni;
            if (!ne) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->ev = ne;
            for (size_t k = d->cap; k < nc; k++)
                lia_event_init(&d->ev[k]);
            d->cap = nc;
            if (!(ni = realloc(d->ids, nc * sizeof *ni))) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->ids = ni;
        }
        if ((rc = lia_route_redact(d->rt, d->idx, &raw, &d->ev[d->n], err)))
            break;
        d->ids[d->n++] = id;
    }
    if (rc == LIA_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_finalize(st);
    lia_event_free(&raw);
    return rc;
}
