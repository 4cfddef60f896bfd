/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Feed health: registry state + report totals + per-stage counters. */
#include <stdlib.h>

#include "core/clock.h"
#include "acquire/registry.h"
#include "store/events.h"

typedef struct hrun {
    lia_store *s;
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
    lia_feed_totals t;
    rate r = {f->name, 0, 0};
    int rc;
    memset(&fh, 0, sizeof fh);
    fh.feed = f;
    /* report totals: the events store's tables, asked of it */
    if ((rc = lia__store_feed_totals(h->s, f->name, &t, h->err)))
        return rc;
    fh.reports = t.reports;
    fh.rows = t.rows;
    fh.events = t.events;
    fh.quarantined = t.quarantined;
    fh.last_report_us = t.last_report_us;
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
    hrun h = {s, now_us ? now_us : lia__now_us(), cb, ud, err};
    return lia_feeds_list(s, on_feed, &h, err);
}
