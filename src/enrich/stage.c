/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The enrich stage (IP data, sector tagging) and the dedup stage, as
 * registered in src/pipeline/stages.c. Both read the configuration file
 * beside the store (lia_enrich_conf_path of lia__store_path). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "enrich/internal.h"
#include "liaison/ingest.h"
#include "store/backend.h"

static int load_conf(struct lia_ingest *ing, lia_enrich_conf *c, lia_error *err)
{
    char path[LIA_PATH_MAX];
    int rc;
    if (!ing->store) {
        lia__enrich_conf_default(c);
        return LIA_OK;
    }
    if ((rc = lia_enrich_conf_path(lia__store_path(ing->store), path, sizeof path, err)))
        return rc;
    return lia_enrich_conf_load(c, path, err);
}

/* ---- enrich ---- */

typedef struct enrich_st {
    lia_ipdata *ip;
    lia_ipdb *db;
    lia_sectors *sectors;
    lia_sector_ctx ctx;
    int check_s;
    time_t next_check;
} enrich_st;

static void enrich_close(void *p)
{
    enrich_st *st = p;
    if (!st)
        return;
    lia_ipdb_release(st->db);
    lia__ipdata_destroy(st->ip);
    lia__sectors_ctx_free(&st->ctx);
    lia__sectors_destroy(st->sectors);
    free(st);
}

static int enrich_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    enrich_st *st = calloc(1, sizeof *st);
    lia_enrich_conf c;
    int rc;
    if (!st)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if ((rc = load_conf(ing, &c, err)))
        goto fail;
    if (c.nsources) {
        if ((rc = lia__ipdata_create(&st->ip))) {
            rc = lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
            goto fail;
        }
        for (int i = 0; i < c.nsources; i++)
            if ((rc = lia__ipdata_add(st->ip, c.kind[i], c.path[i], err)))
                goto fail;
        if ((rc = lia__ipdata_reload(st->ip, 1, NULL, err)))
            goto fail;
        st->db = lia__ipdata_get(st->ip);
        st->check_s = c.check_s;
        st->next_check = time(NULL) + c.check_s;
    }
    if (c.sectors_enabled) {
        const char *path = c.sectors_path[0] ? c.sectors_path : lia__sectors_default_path();
        struct stat sb;
        /* the shipped default may be absent from an installation: then no
         * tagging; a configured file must exist */
        if (c.sectors_path[0] || stat(path, &sb) == 0)
            if ((rc = lia__sectors_load(path, &st->sectors, err)))
                goto fail;
    }
    st->ctx.report_type = ing->opts ? ing->opts->feed.subtype : NULL;
    st->ctx.report_name = ing->report ? ing->report->name : NULL;
    if (st->sectors && lia__sectors_prepare(st->sectors, &st->ctx)) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto fail;
    }
    *out = st;
    return LIA_OK;
fail:
    enrich_close(st);
    return rc;
}

static int enrich_process(void *p, lia_batch *b, lia_error *err)
{
    enrich_st *st = p;
    if (st->ip && st->check_s > 0 && time(NULL) >= st->next_check) {
        int changed = 0;
        lia_error e2;
        /* a failed reload keeps the current data and is retried later */
        if (lia__ipdata_reload(st->ip, 0, &changed, &e2) == LIA_OK && changed) {
            lia_ipdb_release(st->db);
            st->db = lia__ipdata_get(st->ip);
        }
        st->next_check = time(NULL) + st->check_s;
    }
    for (size_t i = 0; i < b->n; i++) {
        lia_event *ev = &b->ev[i];
        if (st->db) {
            /* the range tables are bigger than the caches: prefetch ahead */
            if (i + 8 < b->n && lia_event_has(&b->ev[i + 8], LIA_F_SOURCE_IP))
                lia__ipdb_prefetch(st->db, &b->ev[i + 8].v[LIA_F_SOURCE_IP].ip, 0);
            if (i + 4 < b->n && lia_event_has(&b->ev[i + 4], LIA_F_SOURCE_IP))
                lia__ipdb_prefetch(st->db, &b->ev[i + 4].v[LIA_F_SOURCE_IP].ip, 1);
            lia__enrich_event_ip(st->db, ev);
        }
        if (st->sectors) {
            lia_error e2;
            /* only fails on an event's extra.* limits: the event is kept untagged */
            lia__sectors_apply(st->sectors, &st->ctx, ev, &e2);
        }
    }
    /* a corrupt IP database is an error of the ingest, not "no answer" */
    return st->db ? lia__ipdb_error(st->db, err) : LIA_OK;
}

const lia_stage lia_stage_enrich = {
    .name = "enrich",
    .id = LIA_ST_ENRICH,
    .open = enrich_open,
    .process = enrich_process,
    .stored = NULL,
    .flush = NULL,
    .close = enrich_close,
};

/* ---- dedup ---- */

typedef struct dedup_st {
    lia_dedup *d;
    lia_report *rep;
} dedup_st;

static void dedup_close(void *p)
{
    dedup_st *st = p;
    if (!st)
        return;
    lia__dedup_destroy(st->d);
    free(st);
}

static int dedup_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    dedup_st *st = calloc(1, sizeof *st);
    lia_enrich_conf c;
    int rc;
    if (!st)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if ((rc = load_conf(ing, &c, err)))
        goto fail;
    st->rep = ing->report;
    if (c.dedup.enabled) {
        if ((rc = lia__dedup_create(&c.dedup, &st->d, err)))
            goto fail;
        if (ing->store && (rc = lia__dedup_attach(st->d, ing->store, err)))
            goto fail;
        if (ing->store && ing->opts && ing->opts->shared)
            lia__dedup_assume_stored(st->d);
    }
    *out = st;
    return LIA_OK;
fail:
    dedup_close(st);
    return rc;
}

static int dedup_process(void *p, lia_batch *b, lia_error *err)
{
    dedup_st *st = p;
    int n;
    if (!st->d)
        return LIA_OK;
    n = lia__dedup_batch(st->d, b, err);
    if (n < 0)
        return n;
    if (st->rep)
        st->rep->duplicates += (uint64_t)n;
    return LIA_OK;
}

static int dedup_stored(void *p, const lia_batch *b, lia_error *err)
{
    dedup_st *st = p;
    (void)err;
    if (st->d)
        lia__dedup_stored(st->d, b);
    return LIA_OK;
}

static int dedup_flush(void *p, lia_error *err)
{
    dedup_st *st = p;
    return st->d ? lia__dedup_flush(st->d, err) : LIA_OK;
}

const lia_stage lia_stage_dedup = {
    .name = "dedup",
    .id = LIA_ST_DEDUP,
    .open = dedup_open,
    .process = dedup_process,
    .stored = dedup_stored,
    .flush = dedup_flush,
    .close = dedup_close,
};
