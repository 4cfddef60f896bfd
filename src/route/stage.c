/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The route pipeline stage: decide every event of a batch, record the
 * decisions once the store has given the events their ids. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/ingest.h"
#include "liaison/route.h"
#include "route/internal.h"

/* ---- the stage ----
 * The route stage runs before the store gives events their ids, so the
 * decisions of a batch wait (pending) until the batch is stored: at the next
 * batch or at the checkpoint, the ids of the events stored after `max_id`
 * by this report are read back in order and matched line by line. */

typedef struct pend {
    uint64_t line;
    uint32_t first, n; /* decisions */
} pend;

typedef struct rstage {
    lia_store *store;
    sqlite3 *db;
    lia_route *rt;
    int64_t report_id;
    int64_t max_id; /* highest event id before the pending batch */
    pend *ev;
    size_t nev, capev;
    lia_decision *d;
    size_t nd, capd;
    sqlite3_stmt *ins, *ids, *maxq;
    lia__rcache rc;
} rstage;

static int st_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    rstage *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    r->store = ing->store;
    r->report_id = ing->report ? ing->report->id : 0;
    if ((rc = lia__route_db(r->store, &r->db, err)) || (rc = lia_route_load(r->store, &r->rt, err)))
        goto fail;
    if (sqlite3_prepare_v2(r->db, LIA__ROUTE_INSERT_SQL, -1, &r->ins, NULL) ||
        sqlite3_prepare_v2(r->db, "SELECT id,line FROM events WHERE id>? AND +report_id=? ORDER BY id", -1,
                           &r->ids, NULL) ||
        sqlite3_prepare_v2(r->db, "SELECT coalesce(max(id),0) FROM events", -1, &r->maxq, NULL)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %s", sqlite3_errmsg(r->db));
        goto fail;
    }
    *out = r;
    return LIA_OK;
fail:
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->ids);
    sqlite3_finalize(r->maxq);
    lia_route_destroy(r->rt);
    free(r);
    return rc;
}

static int resolve(rstage *r, lia_error *err)
{
    size_t i = 0;
    int step, rc = LIA_OK;
    int64_t at = lia__now_us();
    if (r->nev == 0)
        return LIA_OK;
    sqlite3_reset(r->ids);
    sqlite3_bind_int64(r->ids, 1, r->max_id);
    sqlite3_bind_int64(r->ids, 2, r->report_id);
    while (i < r->nev && (step = sqlite3_step(r->ids)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(r->ids, 0);
        uint64_t line = (uint64_t)sqlite3_column_int64(r->ids, 1);
        if (line != r->ev[i].line) {
            rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0,
                               "route stage: stored event %lld has line %llu, expected %llu", (long long)id,
                               (unsigned long long)line, (unsigned long long)r->ev[i].line);
            goto out;
        }
        if ((rc = lia__route_insert_rows(r->db, r->ins, &r->rc, r->rt, id, r->d + r->ev[i].first, r->ev[i].n,
                                         at, err)))
            goto out;
        i++;
    }
    if (i != r->nev)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %zu routed events were not stored",
                           r->nev - i);
out:
    sqlite3_reset(r->ids);
    r->nev = r->nd = 0;
    return rc;
}

static int st_process(void *st, lia_batch *b, lia_error *err)
{
    rstage *r = st;
    int rc;
    if ((rc = resolve(r, err)))
        return rc;
    sqlite3_reset(r->maxq);
    if (sqlite3_step(r->maxq) != SQLITE_ROW)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %s", sqlite3_errmsg(r->db));
    r->max_id = sqlite3_column_int64(r->maxq, 0);
    sqlite3_reset(r->maxq);
    if (b->n > r->capev) {
        pend *ne = realloc(r->ev, b->n * sizeof *ne);
        lia_decision *nd = realloc(r->d, b->n * LIA_ROUTE_MAX_DECISIONS * sizeof *nd);
        if (ne)
            r->ev = ne;
        if (nd)
            r->d = nd;
        if (!ne || !nd)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        r->capev = b->n;
        r->capd = b->n * LIA_ROUTE_MAX_DECISIONS;
    }
    for (size_t i = 0; i < b->n; i++) {
        size_t n = lia_route_event(r->rt, &b->ev[i], r->d + r->nd);
        r->ev[r->nev++] = (pend){b->ev[i].line, (uint32_t)r->nd, (uint32_t)n};
        r->nd += n;
    }
    return LIA_OK;
}

static int st_flush(void *st, lia_error *err)
{
    return resolve(st, err);
}

static void st_close(void *st)
{
    rstage *r = st;
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->ids);
    sqlite3_finalize(r->maxq);
    lia_route_destroy(r->rt);
    free(r->ev);
    free(r->d);
    free(r);
}

const lia_stage lia_stage_route = {"route", LIA_ST_ROUTE, st_open, st_process, st_flush, st_close};
