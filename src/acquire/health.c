/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Feed health: registry state + report totals + per-stage counters. */
#include <stdlib.h>

#include "core/clock.h"
#include "acquire/registry.h"

typedef struct hrun {
    lia_store *s;
    sqlite3 *db;
    sqlite3_stmt *rep;
    int64_t now;
    lia_health_cb cb;
    void *ud;
    lia_error *err;
} hrun;

typedef struct rate {
    const char *feed;
    uint64_t stored, ns;
} rate;

static int on_stats(void *ud, const char *feed, int stage, const lia_counter *c, uint64_t reports,
                    int64_t last_us)
{
    rate *r = ud;
    if (strcmp(feed, r->feed) != 0)
        return 0;
    r->ns += c->ns;
    if (stage == LIA_ST_STORE)
        r->stored += c->out;
    return 0;
}

static int on_feed(void *ud, const lia_feed *f)
{
    hrun *h = ud;
    lia_feed_health fh;
    rate r = {f->name, 0, 0};
    int rc;
    memset(&fh, 0, sizeof fh);
    fh.feed = f;
    sqlite3_reset(h->rep);
    sqlite3_bind_text(h->rep, 1, f->name, -1, SQLITE_STATIC);
    if (sqlite3_step(h->rep) == SQLITE_ROW) {
        fh.reports = (uint64_t)sqlite3_column_int64(h->rep, 0);
        fh.rows = (uint64_t)sqlite3_column_int64(h->rep, 1);
        fh.events = (uint64_t)sqlite3_column_int64(h->rep, 2);
        fh.quarantined = (uint64_t)sqlite3_column_int64(h->rep, 3);
        fh.last_report_us = sqlite3_column_int64(h->rep, 4);
    } else {
        return lia_error_set(h->err, LIA_ESTORE, NULL, NULL, 0, "feed health: %s", sqlite3_errmsg(h->db));
    }
    if ((rc = lia_store_stats(h->s, on_stats, &r, h->err)))
        return rc;
    fh.events_per_s = r.ns ? (double)r.stored / ((double)r.ns / 1e9) : 0.0;
    fh.failing = f->last_fetch_us && !f->last_ok;
    if (f->enabled && f->interval_s > 0) {
        int64_t since = f->last_success_us ? f->last_success_us : f->created_us;
        fh.late = h->now - since > 2 * f->interval_s * 1000000;
    }
    return h->cb(h->ud, &fh);
}

int lia_feeds_health(lia_store *s, int64_t now_us, lia_health_cb cb, void *ud, lia_error *err)
{
    hrun h = {s, NULL, NULL, now_us ? now_us : lia__now_us(), cb, ud, err};
    int rc;
    if ((rc = lia__feeds_db(s, &h.db, err)))
        return rc;
    if (sqlite3_prepare_v2(h.db,
                           "SELECT count(*), coalesce(sum(rows),0), coalesce(sum(events),0),"
                           " coalesce(sum(quarantined),0), coalesce(max(started),0)"
                           " FROM reports WHERE feed=?",
                           -1, &h.rep, NULL) != SQLITE_OK)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "feed health: %s", sqlite3_errmsg(h.db));
    rc = lia_feeds_list(s, on_feed, &h, err);
    sqlite3_finalize(h.rep);
    return rc;
}
