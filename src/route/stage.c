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

/* The batch is stored: record its decisions under the events' ids. */
static int st_stored(void *st, const lia_batch *b, lia_error *err)
{
    rstage *r = st;
    int64_t at = lia__now_us();
    lia_stmt *ins = NULL;
    int rc;
    size_t i;
    if ((rc = lia__route_insert_prepare(r->db, &ins, err)))
        goto out;
    for (i = 0; i < r->nev && i < b->n; i++) {
        const lia_event *ev = &b->ev[i];
        if (ev->line != r->ev[i].line) {
            rc = lia_error_set(
                err, LIA_ESTORE, NULL, NULL, 0, "route stage: stored event %lld has line %llu, expected %llu",
                (long long)ev->id, (unsigned long long)ev->line, (unsigned long long)r->ev[i].line);
            goto out;
        }
        if ((rc = lia__route_insert_rows(r->db, ins, &r->rc, r->rt, ev->id, r->d + r->ev[i].first, r->ev[i].n,
                                         at, err)))
            goto out;
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
