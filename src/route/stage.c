/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The route pipeline stage: decide every event of a batch, record the
 * decisions once the store has given the events their ids. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/ingest.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "store/db.h"

/* ---- the stage ----
 * The route stage runs before the store gives events their ids, so the
 * decisions of a batch wait (pending) until the store has written the batch;
 * then the stage's stored call records them under the ids the store wrote
 * into the batch, in the batch's transaction. */

typedef struct pend {
    uint64_t line;
    uint32_t first, n; /* decisions */
} pend;

typedef struct rstage {
    lia_store *store;
    lia_db *db;
    lia_route *rt;
    pend *ev;
    size_t nev, capev;
    lia_decision *d;
    size_t nd, capd;
    uint32_t *first, *count; /* per event: its decisions in d (for the incident rules) */
    lia__rcache rc;
    int64_t (*rng)[2]; /* PostgreSQL: the id ranges of the transaction's batches, counted at its end */
    int64_t *ids;      /* PostgreSQL: per decision of the batch, its why and reason ids */
    size_t capids;
    size_t nrng, caprng;
} rstage;

static int st_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    rstage *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    r->store = ing->store;
    if ((rc = lia__route_db(r->store, &r->db, err)) || (rc = lia_route_load(r->store, &r->rt, err))) {
        free(r);
        return rc;
    }
    *out = r;
    return LIA_OK;
}

static int st_process(void *st, lia_batch *b, lia_error *err)
{
    rstage *r = st;
    r->nev = r->nd = 0; /* a batch that was not stored stopped the report */
    if (b->n > r->capev) {
        pend *ne = realloc(r->ev, b->n * sizeof *ne);
        lia_decision *nd = realloc(r->d, b->n * LIA_ROUTE_MAX_DECISIONS * sizeof *nd);
        uint32_t *nf = realloc(r->first, b->n * sizeof *nf), *nc = realloc(r->count, b->n * sizeof *nc);
        if (ne)
            r->ev = ne;
        if (nd)
            r->d = nd;
        if (nf)
            r->first = nf;
        if (nc)
            r->count = nc;
        if (!ne || !nd || !nf || !nc)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        r->capev = b->n;
        r->capd = b->n * LIA_ROUTE_MAX_DECISIONS;
    }
    for (size_t i = 0; i < b->n; i++) {
        size_t n = lia_route_event(r->rt, &b->ev[i], r->d + r->nd);
        r->first[r->nev] = (uint32_t)r->nd;
        r->count[r->nev] = (uint32_t)n;
        r->ev[r->nev++] = (pend){b->ev[i].line, (uint32_t)r->nd, (uint32_t)n};
        r->nd += n;
    }
    return LIA_OK;
}

/* PostgreSQL: the batch's decisions in one COPY instead of a statement per
 * decision. The events were just given new ids (never given before, not
 * even by a rolled-back batch), so no decision of theirs exists: the
 * upsert of lia__route_insert_rows would only ever insert. */
static int bulk_rows(rstage *r, const lia_batch *b, int64_t at, lia_error *err)
{
    lia_bulk *bk = NULL;
    int rc;
    /* the reasons first: their ids may need a statement, not inside the load */
    if (2 * r->nd > r->capids) {
        int64_t *p = realloc(r->ids, 2 * r->nd * sizeof *p);
        if (!p)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        r->ids = p;
        r->capids = 2 * r->nd;
    }
    for (size_t k = 0; k < r->nd; k++)
        if ((rc = lia__route_reason_id(r->db, &r->rc, r->d[k].why ? r->d[k].why : "", &r->ids[2 * k], err)) ||
            (rc = lia__route_reason_id(r->db, &r->rc, r->d[k].reason ? r->d[k].reason : "",
                                       &r->ids[2 * k + 1], err)))
            return rc;
    if ((rc = lia__db_bulk_begin(r->db, "recording route decisions", "route_decision",
                                 "event_id,recipient,verdict,rule,why,reason,decided", 7, &bk, err)))
        return rc;
    for (size_t i = 0; i < r->nev && i < b->n; i++) {
        const lia_decision *d = r->d + r->ev[i].first;
        const int64_t *ids = r->ids + 2 * (size_t)r->ev[i].first;
        if (b->ev[i].line != r->ev[i].line) {
            lia__db_bulk_abort(bk);
            return lia_error_set(
                err, LIA_ESTORE, NULL, NULL, 0, "route stage: stored event %lld has line %llu, expected %llu",
                (long long)b->ev[i].id, (unsigned long long)b->ev[i].line, (unsigned long long)r->ev[i].line);
        }
        for (uint32_t k = 0; k < r->ev[i].n; k++) {
            char name[128];
            lia_route_recipient_name(r->rt, &d[k], name, sizeof name);
            lia__db_bulk_int64(bk, b->ev[i].id);
            lia__db_bulk_text(bk, name, -1);
            lia__db_bulk_int64(bk, d[k].verdict);
            if (d[k].rule >= 0)
                lia__db_bulk_text(bk, lia_route_rule_name(r->rt, d[k].rule), -1);
            else
                lia__db_bulk_null(bk);
            lia__db_bulk_int64(bk, ids[2 * k]);
            lia__db_bulk_int64(bk, ids[2 * k + 1]);
            lia__db_bulk_int64(bk, at);
            if ((rc = lia__db_bulk_row(bk, err))) {
                lia__db_bulk_abort(bk);
                return rc;
            }
        }
    }
    return lia__db_bulk_end(bk, err);
}

/* The batch is stored: record its decisions under the events' ids. */
static int st_stored(void *st, const lia_batch *b, lia_error *err)
{
    rstage *r = st;
    int64_t at = lia__now_us();
    lia_stmt *ins = NULL;
    int rc;
    size_t i;
    if (lia__db_is_pg(r->db)) {
        if ((rc = bulk_rows(r, b, at, err)))
            goto out;
        i = r->nev < b->n ? r->nev : b->n;
    } else {
        if ((rc = lia__route_insert_prepare(r->db, &ins, err)))
            goto out;
        for (i = 0; i < r->nev && i < b->n; i++) {
            const lia_event *ev = &b->ev[i];
            if (ev->line != r->ev[i].line) {
                rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0,
                                   "route stage: stored event %lld has line %llu, expected %llu",
                                   (long long)ev->id, (unsigned long long)ev->line,
                                   (unsigned long long)r->ev[i].line);
                goto out;
            }
            if ((rc = lia__route_insert_rows(r->db, ins, &r->rc, r->rt, ev->id, r->d + r->ev[i].first,
                                             r->ev[i].n, at, err)))
                goto out;
        }
    }
    if (i != r->nev) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %zu routed events were not stored",
                           r->nev - i);
        goto out;
    }
    if (r->nev && lia__db_is_pg(r->db)) { /* counted at the transaction's end (st_flush) */
        if (r->nrng == r->caprng) {
            size_t nc = r->caprng ? r->caprng * 2 : 64;
            int64_t(*p)[2] = realloc(r->rng, nc * sizeof *p);
            if (!p) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                goto out;
            }
            r->rng = p;
            r->caprng = nc;
        }
        r->rng[r->nrng][0] = b->ev[0].id;
        r->rng[r->nrng++][1] = b->ev[r->nev - 1].id;
    } else if (r->nev && (rc = lia__route_count_delivered(r->db, b->ev[0].id, b->ev[r->nev - 1].id, err))) {
        goto out;
    }
    /* the incident rules of the routing file, in the same transaction */
    if (r->rt->cf.incidents.n) {
        lia__routed_batch rb = {b->ev, r->nev, r->d, r->first, r->count};
        rc = lia__incident_open_routed(r->store, &r->rt->cf.incidents, r->rt, &rb, NULL, err);
    }
out:
    lia__db_done(ins);
    r->nev = r->nd = 0;
    return rc;
}

/* Before each commit (write_tail): the routed counts of the transaction's
 * batches, each shared row once and in key order, so that two ingests at
 * once on PostgreSQL hold these rows only from here to their commit and
 * never wait on each other in a cycle. */
static int st_flush(void *st, lia_error *err)
{
    rstage *r = st;
    int rc = lia__route_count_delivered_ranges(r->db, (const int64_t(*)[2])r->rng, r->nrng, err);
    r->nrng = 0;
    return rc;
}

static void st_close(void *st)
{
    rstage *r = st;
    lia__rcache_close(&r->rc);
    lia_route_destroy(r->rt);
    free(r->ev);
    free(r->d);
    free(r->first);
    free(r->count);
    free(r->rng);
    free(r->ids);
    free(r);
}

const lia_stage lia_stage_route = {
    .name = "route",
    .id = LIA_ST_ROUTE,
    .open = st_open,
    .process = st_process,
    .stored = st_stored,
    .flush = st_flush,
    .close = st_close,
};
