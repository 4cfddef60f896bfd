/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Metrics over incidents and hand-offs: time to acknowledge and to resolve
 * per recipient and per country (median, 90th percentile), open incidents
 * by country and sector, hand-offs by channel and state, SLA breaches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/internal.h"
#include "liaison/route.h"

/* One notified hand-off: who, where, how long (-1: not yet). */
typedef struct sample {
    char recipient[72], country[72];
    int64_t ack, res;
} sample;

typedef struct vec {
    void *v;
    size_t n, cap, size;
} vec;

static void *vec_push(vec *x)
{
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        void *nv = realloc(x->v, nc * x->size);
        if (!nv)
            return NULL;
        x->v = nv;
        x->cap = nc;
    }
    void *e = (char *)x->v + x->n++ * x->size;
    memset(e, 0, x->size);
    return e;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least p % of the values at or below it */
static int64_t pct(const int64_t *v, size_t n, int p)
{
    if (n == 0)
        return -1;
    size_t r = (n * (size_t)p + 99) / 100;
    return v[r ? r - 1 : 0];
}

static int by_recipient(const void *a, const void *b)
{
    return strcmp(((const sample *)a)->recipient, ((const sample *)b)->recipient);
}

static int by_country(const void *a, const void *b)
{
    int c = strcmp(((const sample *)a)->country, ((const sample *)b)->country);
    return c ? c : by_recipient(a, b);
}

/* Group the samples (sorted so that key() runs are contiguous) into rows. */
static int speeds(sample *v, size_t n, int country, lia_metric_speed **out, size_t *nout)
{
    int64_t *acks = malloc((n ? n : 1) * sizeof *acks), *ress = malloc((n ? n : 1) * sizeof *ress);
    lia_metric_speed *rows = calloc(n ? n : 1, sizeof *rows);
    size_t nr = 0;
    if (!acks || !ress || !rows) {
        free(acks), free(ress), free(rows);
        return LIA_ENOMEM;
    }
    if (n)
        qsort(v, n, sizeof *v, country ? by_country : by_recipient);
    for (size_t i = 0; i < n;) {
        const char *key = country ? v[i].country : v[i].recipient;
        size_t j = i, na = 0, nres = 0;
        for (; j < n && strcmp(country ? v[j].country : v[j].recipient, key) == 0; j++) {
            if (v[j].ack >= 0)
                acks[na++] = v[j].ack;
            if (v[j].res >= 0)
                ress[nres++] = v[j].res;
        }
        qsort(acks, na, sizeof *acks, cmp_i64);
        qsort(ress, nres, sizeof *ress, cmp_i64);
        lia_metric_speed *r = &rows[nr++];
        snprintf(r->key, sizeof r->key, "%s", key);
        r->handoffs = (int64_t)(j - i);
        r->acked = (int64_t)na;
        r->resolved = (int64_t)nres;
        r->ack_p50 = pct(acks, na, 50);
        r->ack_p90 = pct(acks, na, 90);
        r->resolve_p50 = pct(ress, nres, 50);
        r->resolve_p90 = pct(ress, nres, 90);
        i = j;
    }
    free(acks);
    free(ress);
    *out = rows;
    *nout = nr;
    return LIA_OK;
}

/* The recipient's country from the directory: a partner's first country,
 * else an owner's country, else "-". */
static void country_of(lia_store *s, const char *recipient, char *out, size_t n)
{
    static const int kinds[] = {LIA_PARTY_PARTNER, LIA_PARTY_OWNER};
    static const int fields[] = {LIA_PF_COUNTRIES, LIA_PF_COUNTRY};
    snprintf(out, n, "-");
    for (size_t k = 0; k < 2; k++) {
        lia_party p;
        lia_error e;
        lia_error_clear(&e);
        lia_party_init(&p, kinds[k]);
        int found = lia_party_get_one(s, kinds[k], recipient, &p, &e) == LIA_OK;
        const char *cc = found ? lia_party_get(&p, fields[k]) : NULL;
        if (cc)
            snprintf(out, n, "%s", cc);
        lia_party_free(&p);
        if (found)
            return;
    }
}

static int count_breach(void *ud, const lia_sla_breach *b)
{
    lia_incident_metrics *m = ud;
    if (strcmp(b->clock, "acknowledge") == 0)
        m->breaches_ack++;
    else
        m->breaches_resolve++;
    return 0;
}

static int cmp_count(const void *a, const void *b)
{
    const lia_metric_count *x = a, *y = b;
    int c = strcmp(x->a, y->a);
    return c ? c : strcmp(x->b, y->b);
}

/* One (country, sector) cell more: found or appended. */
static int open_add(vec *cells, const char *cc, size_t ccn, const char *sec, size_t secn)
{
    lia_metric_count *c = cells->v;
    for (size_t i = 0; i < cells->n; i++)
        if (strlen(c[i].a) == ccn && strncmp(c[i].a, cc, ccn) == 0 && strlen(c[i].b) == secn &&
            strncmp(c[i].b, sec, secn) == 0) {
            c[i].n++;
            return LIA_OK;
        }
    lia_metric_count *nc = vec_push(cells);
    if (!nc)
        return LIA_ENOMEM;
    snprintf(nc->a, sizeof nc->a, "%.*s", (int)(ccn > 71 ? 71 : ccn), cc);
    snprintf(nc->b, sizeof nc->b, "%.*s", (int)(secn > 71 ? 71 : secn), sec);
    nc->n = 1;
    return LIA_OK;
}

/* The items of a comma-separated list, "-" for an empty one. */
static int open_cells(vec *cells, const char *countries, const char *sectors)
{
    const char *cs = countries && *countries ? countries : "-";
    const char *ss0 = sectors && *sectors ? sectors : "-";
    int rc = LIA_OK;
    while (*cs && rc == LIA_OK) {
        size_t cn = strcspn(cs, ",");
        if (cn) {
            const char *ss = ss0;
            while (*ss && rc == LIA_OK) {
                size_t sn = strcspn(ss, ",");
                if (sn)
                    rc = open_add(cells, cs, cn, ss, sn);
                ss += sn + (ss[sn] == ',');
            }
        }
        cs += cn + (cs[cn] == ',');
    }
    return rc;
}

int lia_incident_metrics_get(lia_store *s, int64_t since_us, int64_t now_us, lia_incident_metrics *out,
                             lia_error *err)
{
    lia_db *db = lia__store_db(s);
    vec samples = {NULL, 0, 0, sizeof(sample)}, cells = {NULL, 0, 0, sizeof(lia_metric_count)},
        chans = {NULL, 0, 0, sizeof(lia_metric_count)};
    lia_stmt *st;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    /* collect first: the directory lookups use the store too */
    if ((rc = lia__db_prepare(db, "metrics: notified hand-offs",
                              "SELECT recipient, notified, acknowledged, resolved FROM handoff"
                              " WHERE notified IS NOT NULL AND notified >= ?1 AND incident_id NOT IN"
                              " (SELECT id FROM incident WHERE drill IS NOT NULL)",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, since_us);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        sample *x = vec_push(&samples);
        if (!x) {
            rc = lia_error_set(err, LIA_ENOMEM, "metrics", NULL, 0, "out of memory");
            break;
        }
        int64_t nt = lia__db_col_int64(st, 1);
        snprintf(x->recipient, sizeof x->recipient, "%s", lia__db_col_text(st, 0));
        x->ack = lia__db_col_null(st, 2) ? -1 : (lia__db_col_int64(st, 2) - nt) / 1000000;
        x->res = lia__db_col_null(st, 3) ? -1 : (lia__db_col_int64(st, 3) - nt) / 1000000;
        if (x->ack < -1) /* a clock set back: not a duration */
            x->ack = -1;
        if (x->res < -1)
            x->res = -1;
    }
    lia__db_done(st);
    if (rc < 0)
        goto fail;
    sample *v = samples.v;
    /* one directory lookup per recipient; qsort(NULL, 0) is undefined */
    if (samples.n)
        qsort(v, samples.n, sizeof *v, by_recipient);
    for (size_t i = 0; i < samples.n; i++) {
        if (i && strcmp(v[i].recipient, v[i - 1].recipient) == 0) {
            memcpy(v[i].country, v[i - 1].country, sizeof v[i].country);
            continue;
        }
        country_of(s, v[i].recipient, v[i].country, sizeof v[i].country);
    }
    if ((rc = speeds(v, samples.n, 0, &out->by_recipient, &out->n_recipient)) ||
        (rc = speeds(v, samples.n, 1, &out->by_country, &out->n_country))) {
        rc = lia_error_set(err, rc, "metrics", NULL, 0, "out of memory");
        goto fail;
    }

    if ((rc = lia__db_prepare(db, "metrics: open incidents",
                              "SELECT countries, sectors FROM incident WHERE status < ?1 AND drill IS NULL",
                              &st, err)))
        goto fail;
    lia__db_bind_int64(st, 1, LIA_INC_RESOLVED);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        if (open_cells(&cells, lia__db_col_text(st, 0), lia__db_col_text(st, 1))) {
            rc = lia_error_set(err, LIA_ENOMEM, "metrics", NULL, 0, "out of memory");
            break;
        }
    lia__db_done(st);
    if (rc < 0)
        goto fail;

    if ((rc = lia__db_prepare(db, "metrics: hand-offs by channel and state",
                              "SELECT channel, state, count(*) FROM handoff WHERE incident_id NOT IN"
                              " (SELECT id FROM incident WHERE drill IS NOT NULL) GROUP BY channel, state",
                              &st, err)))
        goto fail;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_metric_count *c = vec_push(&chans);
        const char *state = lia_handoff_state_name((lia_handoff_state)lia__db_col_int64(st, 1));
        if (!c) {
            rc = lia_error_set(err, LIA_ENOMEM, "metrics", NULL, 0, "out of memory");
            break;
        }
        snprintf(c->a, sizeof c->a, "%s", lia__db_col_text(st, 0));
        snprintf(c->b, sizeof c->b, "%s", state ? state : "?");
        c->n = lia__db_col_int64(st, 2);
    }
    lia__db_done(st);
    if (rc < 0)
        goto fail;

    if ((rc = lia_sla_breaches(s, now_us, NULL, count_breach, out, err)))
        goto fail;
    if (cells.n)
        qsort(cells.v, cells.n, sizeof(lia_metric_count), cmp_count);
    if (chans.n)
        qsort(chans.v, chans.n, sizeof(lia_metric_count), cmp_count);
    out->open = cells.v;
    out->n_open = cells.n;
    out->handoffs = chans.v;
    out->n_handoffs = chans.n;
    free(samples.v);
    return LIA_OK;
fail:
    free(samples.v);
    free(cells.v);
    free(chans.v);
    lia_incident_metrics_free(out);
    return rc;
}

void lia_incident_metrics_free(lia_incident_metrics *m)
{
    free(m->by_recipient);
    free(m->by_country);
    free(m->open);
    free(m->handoffs);
    memset(m, 0, sizeof *m);
}

static void speeds_json(lia_buf *b, const char *name, const lia_metric_speed *r, size_t n)
{
    static const char *const k[4] = {"ack_p50_s", "ack_p90_s", "resolve_p50_s", "resolve_p90_s"};
    lia_buf_printf(b, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        const int64_t v[4] = {r[i].ack_p50, r[i].ack_p90, r[i].resolve_p50, r[i].resolve_p90};
        lia_buf_printf(b, "%s{\"key\":", i ? "," : "");
        lia_buf_json_str(b, r[i].key, strlen(r[i].key));
        lia_buf_printf(b, ",\"handoffs\":%lld,\"acknowledged\":%lld,\"resolved\":%lld",
                       (long long)r[i].handoffs, (long long)r[i].acked, (long long)r[i].resolved);
        for (int j = 0; j < 4; j++) {
            if (v[j] < 0)
                lia_buf_printf(b, ",\"%s\":null", k[j]);
            else
                lia_buf_printf(b, ",\"%s\":%lld", k[j], (long long)v[j]);
        }
        lia_buf_putc(b, '}');
    }
    lia_buf_putc(b, ']');
}

static void counts_json(lia_buf *b, const char *name, const char *ka, const char *kb,
                        const lia_metric_count *c, size_t n)
{
    lia_buf_printf(b, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        lia_buf_printf(b, "%s{\"%s\":", i ? "," : "", ka);
        lia_buf_json_str(b, c[i].a, strlen(c[i].a));
        lia_buf_printf(b, ",\"%s\":", kb);
        lia_buf_json_str(b, c[i].b, strlen(c[i].b));
        lia_buf_printf(b, ",\"count\":%lld}", (long long)c[i].n);
    }
    lia_buf_putc(b, ']');
}

void lia_incident_metrics_json(const lia_incident_metrics *m, lia_buf *b)
{
    lia_buf_putc(b, '{');
    speeds_json(b, "by_recipient", m->by_recipient, m->n_recipient);
    lia_buf_putc(b, ',');
    speeds_json(b, "by_country", m->by_country, m->n_country);
    lia_buf_putc(b, ',');
    counts_json(b, "open_incidents", "country", "sector", m->open, m->n_open);
    lia_buf_putc(b, ',');
    counts_json(b, "handoffs", "channel", "state", m->handoffs, m->n_handoffs);
    lia_buf_printf(b, ",\"sla_breaches\":{\"acknowledge\":%lld,\"resolve\":%lld}}",
                   (long long)m->breaches_ack, (long long)m->breaches_resolve);
}
