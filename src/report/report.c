/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Statistics reports (liaison/report.h): the model (tables of strings,
 * each with its column kinds), then its renderings (html.c: HTML with SVG
 * charts and the map; CSV here; PDF: html printed by chromium, pdf.c).
 *
 * Where the numbers come from:
 *   events of the period and the one before, by class, feed, country, ASN,
 *   IoT/ICS sector, protocol and product: lia_store_rollup_period (the
 *   store's events_by_month rollup, per month and TLP marking);
 *   owners and partners by events routed to them: lia_store_recipients_period;
 *   hand-offs (to partners: cross-border) notified in the period, their
 *   times to acknowledge and resolve (wall-clock, nearest-rank percentiles
 *   as lia_incident_metrics_get): lia_handoff_list; SLA breaches open at
 *   the period's end: lia_sla_breaches; incidents: lia_incident_list.
 *
 * TLP: the report at label L counts an event, a hand-off or an incident
 * only if the one TLP policy (lia__tlp_check) lets its marking go to the
 * report's reader: our own team (the owning organisation: AMBER+STRICT
 * allowed at that label) or the partner it is for (its ceiling, its
 * agreement; never AMBER+STRICT). TLP:RED is never delivered, so never
 * counted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/incident.h"
#include "liaison/route.h"
#include "report/internal.h"
#include "route/decisions.h"
#include "route/tlp.h"

#define DAY_US 86400000000LL

/* ---- the tables ---- */

static int tab_cell(lia__rtab *t, const char *s)
{
    char *c;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **v = realloc(t->cells, nc * sizeof *v);
        if (!v)
            return LIA_ENOMEM;
        t->cells = v;
        t->cap = nc;
    }
    if (!(c = strdup(s ? s : "")))
        return LIA_ENOMEM;
    t->cells[t->n++] = c;
    return LIA_OK;
}

static int tab_celln(lia__rtab *t, int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return tab_cell(t, b);
}

static lia__rtab *model_tab(lia__rmodel *m, const char *id, const char *title, const char *kinds, ...)
{
    lia__rtab *t;
    va_list ap;
    if (m->ntab == LIA__REPORT_TABS)
        return NULL;
    t = &m->tab[m->ntab++];
    memset(t, 0, sizeof *t);
    t->id = id;
    t->title = title;
    t->ncol = (int)strlen(kinds);
    snprintf(t->kind, sizeof t->kind, "%s", kinds);
    va_start(ap, kinds);
    for (int i = 0; i < t->ncol; i++)
        t->col[i] = va_arg(ap, const char *);
    va_end(ap);
    t->chart_label = t->chart_value = -1;
    return t;
}

void lia__rmodel_free(lia__rmodel *m)
{
    for (size_t i = 0; i < m->ntab; i++) {
        for (size_t k = 0; k < m->tab[i].n; k++)
            free(m->tab[i].cells[k]);
        free(m->tab[i].cells);
    }
    free(m->cc);
    memset(m, 0, sizeof *m);
}

/* ---- key/count lists ---- */

typedef struct kv {
    char key[136];
    uint64_t n, prev;
} kv;

typedef struct kvlist {
    kv *v;
    size_t n, cap;
    int prev; /* 1: counts go to .prev */
    int rc;
} kvlist;

static kv *kv_find(kvlist *l, const char *key, int add)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0)
            return &l->v[i];
    if (!add)
        return NULL;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        kv *v = realloc(l->v, nc * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = nc;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    snprintf(l->v[l->n].key, sizeof l->v[l->n].key, "%s", key);
    return &l->v[l->n++];
}

static int kv_cb(void *ud, const char *key, uint64_t count)
{
    kvlist *l = ud;
    kv *x = kv_find(l, key, 1);
    if (!x)
        return l->rc = LIA_ENOMEM;
    if (l->prev)
        x->prev += count;
    else
        x->n += count;
    return 0;
}

/* ---- the period and the TLP mask ---- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_period(const char *p, int *y, int *mo, lia_error *err)
{
    if (!p || strlen(p) != 7 || p[4] != '-')
        goto bad;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (p[i] < '0' || p[i] > '9'))
            goto bad;
    *y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    *mo = (p[5] - '0') * 10 + (p[6] - '0');
    if (*y < 1970 || *mo < 1 || *mo > 12)
        goto bad;
    return LIA_OK;
bad:
    return lia_error_set(err, LIA_EINVAL, "--period", p, p ? strlen(p) : 0,
                         "a period is a month, YYYY-MM (e.g. 2026-11), from 1970 on");
}

/* Bit (tlp + 1) for each marking (-1 none .. RED) the policy lets go to the
 * report's reader. */
static unsigned tlp_mask(const lia__rmodel *m)
{
    unsigned mask = 0;
    for (int t = -1; t <= LIA_TLP_RED; t++)
        if (lia__rmodel_allows(m, t))
            mask |= 1u << (t + 1);
    return mask;
}

int lia__rmodel_allows(const lia__rmodel *m, int tlp)
{
    lia_recipient r = {m->partner ? LIA_PARTY_PARTNER : LIA_PARTY_OWNER, m->partner ? m->partner : "",
                       m->partner && m->partner_tlp_max < m->tlp ? m->partner_tlp_max : m->tlp,
                       m->partner ? m->partner_agreement : 1};
    return lia__tlp_check(&r, tlp, !m->partner, NULL);
}

static int tlp_of_name(const char *s)
{
    for (int t = 0; t <= LIA_TLP_RED; t++)
        if (s && strcmp(s, lia_tlp_name(t)) == 0)
            return t;
    return -1;
}

/* ---- the sections ---- */

static void change_text(uint64_t now, uint64_t prev, char *out, size_t n)
{
    if (prev == 0)
        snprintf(out, n, "%s", now ? "new" : "0");
    else
        snprintf(out, n, "%+.1f%%", ((double)now - (double)prev) * 100.0 / (double)prev);
}

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    if (x->prev != y->prev)
        return x->prev < y->prev ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* One dimension in both periods: rows key, this, last, change. */
static int compare_tab(lia_store *s, lia__rmodel *m, const char *id, const char *title, const char *by,
                       const char *keycol, lia_error *err)
{
    kvlist l = {0};
    lia_period_query q = {m->since_us, m->until_us, m->mask, by, NULL, 0};
    lia__rtab *t = model_tab(m, id, title, "tnnc", keycol, "this_period", "last_period", "change");
    int rc;
    if (!t)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "report: too many tables");
    if ((rc = lia_store_rollup_period(s, &q, kv_cb, &l, err)) || (rc = l.rc))
        goto out;
    l.prev = 1;
    q.since_us = m->prev_since_us;
    q.until_us = m->since_us;
    if ((rc = lia_store_rollup_period(s, &q, kv_cb, &l, err)) || (rc = l.rc))
        goto out;
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, kv_cmp);
    for (size_t i = 0; i < l.n && rc == LIA_OK; i++) {
        char c[32];
        change_text(l.v[i].n, l.v[i].prev, c, sizeof c);
        if ((rc = tab_cell(t, l.v[i].key)) || (rc = tab_celln(t, (int64_t)l.v[i].n)) ||
            (rc = tab_celln(t, (int64_t)l.v[i].prev)))
            break;
        rc = tab_cell(t, c);
    }
    t->chart_label = 0;
    t->chart_value = 1;
out:
    free(l.v);
    return rc == LIA_ENOMEM ? lia_error_set(err, rc, NULL, NULL, 0, "out of memory") : rc;
}

/* A ranking of the period: rank, key, events, share of the period's
 * events. by NULL with kind: recipients of that kind. */
static int rank_tab(lia_store *s, lia__rmodel *m, const char *id, const char *title, const char *by,
                    const char *sector, const char *kind, const char *keycol, int keep_all, lia_error *err)
{
    kvlist l = {0};
    lia_period_query q = {m->since_us, m->until_us, m->mask, kind ? kind : by, sector, keep_all ? 0 : m->top};
    lia__rtab *t = model_tab(m, id, title, "ntnp", "rank", keycol, "events", "share");
    int rc;
    if (!t)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "report: too many tables");
    rc = kind ? lia_store_recipients_period(s, &q, kv_cb, &l, err)
              : lia_store_rollup_period(s, &q, kv_cb, &l, err);
    if (rc || (rc = l.rc))
        goto out;
    for (size_t i = 0; i < l.n && rc == LIA_OK; i++) {
        char share[32];
        if (m->partner_only_self && kind && strcmp(l.v[i].key, m->partner) != 0)
            continue;
        snprintf(share, sizeof share, "%.1f%%", m->total ? (double)l.v[i].n * 100.0 / (double)m->total : 0.0);
        if ((rc = tab_celln(t, (int64_t)(t->n / 4 + 1))) || (rc = tab_cell(t, l.v[i].key)) ||
            (rc = tab_celln(t, (int64_t)l.v[i].n)))
            break;
        rc = tab_cell(t, share);
    }
    t->chart_label = 1;
    t->chart_value = 2;
out:
    free(l.v);
    return rc == LIA_ENOMEM ? lia_error_set(err, rc, NULL, NULL, 0, "out of memory") : rc;
}

/* ---- hand-offs, SLA breaches, incidents ---- */

typedef struct inc_row {
    int64_t id, created_us, updated_us;
    int status, severity, allowed, mine; /* mine: handed off to the report's partner (all for us) */
} inc_row;

typedef struct partner_row {
    char id[65], name[136];
    int shared;
    int64_t handoffs, acked, resolved, breach_ack, breach_resolve;
    int64_t *ack, *res; /* seconds */
    size_t nack, nres, cap_ack, cap_res;
} partner_row;

typedef struct hctx {
    lia__rmodel *m;
    inc_row *inc;
    size_t ninc, capinc;
    partner_row *p;
    size_t np, capp;
    int rc;
} hctx;

static partner_row *partner_of(hctx *h, const char *id)
{
    for (size_t i = 0; i < h->np; i++)
        if (strcmp(h->p[i].id, id) == 0)
            return &h->p[i];
    return NULL;
}

static const inc_row *inc_of(const hctx *h, int64_t id)
{
    size_t lo = 0, hi = h->ninc; /* lia_incident_list gives them in id order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->inc[mid].id == id)
            return &h->inc[mid];
        if (h->inc[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int party_cb(void *ud, const lia_party *p)
{
    hctx *h = ud;
    partner_row *r;
    const char *name = lia_party_get(p, LIA_PF_NAME), *sh = lia_party_get(p, LIA_PF_STATS_SHARED);
    if (h->np == h->capp) {
        size_t nc = h->capp ? h->capp * 2 : 16;
        partner_row *v = realloc(h->p, nc * sizeof *v);
        if (!v)
            return h->rc = LIA_ENOMEM;
        h->p = v;
        h->capp = nc;
    }
    r = &h->p[h->np++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", p->id);
    snprintf(r->name, sizeof r->name, "%s", name ? name : p->id);
    r->shared = sh && strcmp(sh, "true") == 0;
    return 0;
}

static int inc_cb(void *ud, const lia_incident *in)
{
    hctx *h = ud;
    inc_row *r;
    if (h->ninc == h->capinc) {
        size_t nc = h->capinc ? h->capinc * 2 : 64;
        inc_row *v = realloc(h->inc, nc * sizeof *v);
        if (!v)
            return h->rc = LIA_ENOMEM;
        h->inc = v;
        h->capinc = nc;
    }
    r = &h->inc[h->ninc++];
    r->id = in->id;
    r->created_us = in->created_us;
    r->updated_us = in->updated_us;
    r->status = (int)in->status;
    r->severity = (int)in->severity;
    r->allowed = lia__rmodel_allows(h->m, tlp_of_name(in->tlp));
    r->mine = !h->m->partner;
    return 0;
}

static int mine_cb(void *ud, const lia_incident *in)
{
    hctx *h = ud;
    inc_row *r = (inc_row *)inc_of(h, in->id);
    if (r)
        r->mine = 1;
    return 0;
}

static int push(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        int64_t *w = realloc(*v, nc * sizeof *w);
        if (!w)
            return LIA_ENOMEM;
        *v = w;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return LIA_OK;
}

static int handoff_cb(void *ud, const lia_handoff *ho)
{
    hctx *h = ud;
    partner_row *p = partner_of(h, ho->recipient);
    const inc_row *in = inc_of(h, ho->incident);
    if (!p || !in || !in->allowed || ho->notified_us <= 0 || ho->notified_us < h->m->since_us ||
        ho->notified_us >= h->m->until_us)
        return 0;
    p->handoffs++;
    if (ho->acknowledged_us > 0) {
        p->acked++;
        if (push(&p->ack, &p->nack, &p->cap_ack, (ho->acknowledged_us - ho->notified_us) / 1000000))
            return h->rc = LIA_ENOMEM;
    }
    if (ho->resolved_us > 0) {
        p->resolved++;
        if (push(&p->res, &p->nres, &p->cap_res, (ho->resolved_us - ho->notified_us) / 1000000))
            return h->rc = LIA_ENOMEM;
    }
    return 0;
}

static int breach_cb(void *ud, const lia_sla_breach *b)
{
    hctx *h = ud;
    partner_row *p = partner_of(h, b->recipient);
    const inc_row *in = inc_of(h, b->incident);
    if (!p || !in || !in->allowed)
        return 0;
    if (strcmp(b->clock, "acknowledge") == 0)
        p->breach_ack++;
    else
        p->breach_resolve++;
    return 0;
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int64_t lia__report_percentile(int64_t *v, size_t n, int p)
{
    size_t k;
    if (!n)
        return -1;
    qsort(v, n, sizeof *v, i64_cmp);
    k = ((size_t)p * n + 99) / 100; /* nearest rank: ceil(p/100 * n) */
    return v[k ? k - 1 : 0];
}

static int handoff_tabs(lia_store *s, lia__rmodel *m, lia_error *err)
{
    hctx h = {.m = m};
    lia_incident_filter f = {.status = -1, .severity = -1}, mine = {.status = -1, .severity = -1};
    lia__rtab *t, *ti;
    int64_t at = m->until_us < m->now_us ? m->until_us : m->now_us;
    int64_t opened[LIA_SEV__COUNT] = {0}, closed[LIA_SEV__COUNT] = {0};
    int rc;
    if ((rc = lia_party_list(s, LIA_PARTY_PARTNER, party_cb, &h, err)) || (rc = h.rc) ||
        (rc = lia_incident_list(s, &f, inc_cb, &h, err)) || (rc = h.rc) ||
        (m->partner && (mine.recipient = m->partner, rc = lia_incident_list(s, &mine, mine_cb, &h, err))) ||
        (rc = lia_handoff_list(s, 0, -1, m->partner_only_self ? m->partner : NULL, handoff_cb, &h, err)) ||
        (rc = h.rc) || (rc = lia_sla_breaches(s, at, NULL, breach_cb, &h, err)) || (rc = h.rc))
        goto out;
    t = model_tab(m, "handoffs", "t_handoffs", "tnnnddddnn", "partner", "handoffs", "acknowledged",
                  "resolved", "ack_p50", "ack_p90", "resolve_p50", "resolve_p90", "breach_ack",
                  "breach_resolve");
    if (!t) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "report: too many tables");
        goto out;
    }
    for (size_t i = 0; i < h.np && rc == LIA_OK; i++) {
        partner_row *p = &h.p[i];
        if (m->partner_only_self && strcmp(p->id, m->partner) != 0)
            continue;
        if (!p->handoffs && !p->breach_ack && !p->breach_resolve)
            continue;
        if ((rc = tab_cell(t, p->name)) || (rc = tab_celln(t, p->handoffs)) ||
            (rc = tab_celln(t, p->acked)) || (rc = tab_celln(t, p->resolved)) ||
            (rc = tab_celln(t, lia__report_percentile(p->ack, p->nack, 50))) ||
            (rc = tab_celln(t, lia__report_percentile(p->ack, p->nack, 90))) ||
            (rc = tab_celln(t, lia__report_percentile(p->res, p->nres, 50))) ||
            (rc = tab_celln(t, lia__report_percentile(p->res, p->nres, 90))) ||
            (rc = tab_celln(t, p->breach_ack)))
            break;
        rc = tab_celln(t, p->breach_resolve);
    }
    if (rc)
        goto out;
    /* incidents opened (created) and closed (a final status, at its last
     * change) in the period */
    for (size_t i = 0; i < h.ninc; i++) {
        const inc_row *in = &h.inc[i];
        int fin = in->status == LIA_INC_RESOLVED || in->status == LIA_INC_CLOSED ||
                  in->status == LIA_INC_REJECTED || in->status == LIA_INC_DUPLICATE ||
                  in->status == LIA_INC_MERGED;
        if (!in->allowed || !in->mine || in->severity < 0 || in->severity >= LIA_SEV__COUNT)
            continue;
        if (in->created_us >= m->since_us && in->created_us < m->until_us)
            opened[in->severity]++;
        if (fin && in->updated_us >= m->since_us && in->updated_us < m->until_us)
            closed[in->severity]++;
    }
    ti = model_tab(m, "incidents", "t_incidents", "tnn", "severity", "opened", "closed");
    if (!ti) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "report: too many tables");
        goto out;
    }
    for (int sv = LIA_SEV__COUNT - 1; sv >= 0 && rc == LIA_OK; sv--) {
        m->opened += opened[sv];
        m->closed += closed[sv];
        if ((rc = tab_cell(ti, lia_severity_name((lia_severity)sv))) || (rc = tab_celln(ti, opened[sv])))
            break;
        rc = tab_celln(ti, closed[sv]);
    }
out:
    for (size_t i = 0; i < h.np; i++) {
        free(h.p[i].ack);
        free(h.p[i].res);
    }
    free(h.p);
    free(h.inc);
    if (rc == LIA_ENOMEM && !err->reason[0])
        lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    return rc;
}

/* ---- the model ---- */

typedef struct pctx {
    const char *id;
    int found, tlp_max, agreement, shared;
} pctx;

static int find_partner(void *ud, const lia_party *p)
{
    pctx *c = ud;
    const char *t, *a, *sh;
    if (strcmp(p->id, c->id) != 0)
        return 0;
    t = lia_party_get(p, LIA_PF_TLP_MAX);
    a = lia_party_get(p, LIA_PF_AGREEMENT);
    sh = lia_party_get(p, LIA_PF_STATS_SHARED);
    c->found = 1;
    c->tlp_max = t ? tlp_of_name(t) : LIA_TLP_AMBER;
    c->agreement = a && strcmp(a, "true") == 0;
    c->shared = sh && strcmp(sh, "true") == 0;
    return 1;
}

static int total_cb(void *ud, const char *key, uint64_t count)
{
    (void)key;
    *(uint64_t *)ud += count;
    return 0;
}

static int cc_cb(void *ud, const char *key, uint64_t count)
{
    lia__rmodel *m = ud;
    if (m->ncc == m->capcc) {
        size_t nc = m->capcc ? m->capcc * 2 : 64;
        lia__rcc *v = realloc(m->cc, nc * sizeof *v);
        if (!v)
            return LIA_ENOMEM;
        m->cc = v;
        m->capcc = nc;
    }
    snprintf(m->cc[m->ncc].cc, sizeof m->cc[m->ncc].cc, "%s", key);
    m->cc[m->ncc++].n = count;
    return 0;
}

int lia__rmodel_build(lia_store *s, const lia_report_opts *o, lia__rmodel *m, lia_error *err)
{
    int y = 0, mo = 0, rc;
    lia_period_query q;
    memset(m, 0, sizeof *m);
    if ((rc = parse_period(o->period, &y, &mo, err)))
        return rc;
    m->lang = o->lang ? o->lang : "en";
    if (strcmp(m->lang, "en") != 0 && strcmp(m->lang, "zh") != 0)
        return lia_error_set(err, LIA_EINVAL, "--lang", m->lang, strlen(m->lang), "a report is in en or zh");
    if (o->tlp < LIA_TLP_CLEAR || o->tlp > LIA_TLP_RED)
        return lia_error_set(err, LIA_EINVAL, "--tlp", NULL, 0,
                             "the label is CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    snprintf(m->period, sizeof m->period, "%s", o->period);
    snprintf(m->prev_period, sizeof m->prev_period, "%04d-%02d", mo == 1 ? y - 1 : y, mo == 1 ? 12 : mo - 1);
    m->since_us = days_from_civil(y, mo, 1) * DAY_US;
    m->until_us = days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) * DAY_US;
    m->prev_since_us = days_from_civil(mo == 1 ? y - 1 : y, mo == 1 ? 12 : mo - 1, 1) * DAY_US;
    m->tlp = o->tlp;
    m->top = o->top ? o->top : 10;
    m->now_us = o->now_us ? o->now_us : lia__now_us();
    if (o->partner) {
        pctx c = {.id = o->partner};
        if ((rc = lia_party_list(s, LIA_PARTY_PARTNER, find_partner, &c, err)) < 0)
            return rc;
        if (!c.found)
            return lia_error_set(err, LIA_ENOTFOUND, "--for", o->partner, strlen(o->partner),
                                 "no such partner in the directory (liaison partners list)");
        snprintf(m->partner_id, sizeof m->partner_id, "%s", o->partner);
        m->partner = m->partner_id;
        m->partner_tlp_max = c.tlp_max;
        m->partner_agreement = c.agreement;
        m->partner_only_self = !c.shared;
    }
    m->mask = tlp_mask(m);
    /* the routing module's tables at their version (a store made before
     * route_delivered_month gets it here, built from its decisions) */
    if ((rc = lia__route_schema(s, err)) && rc != LIA_EREADONLY)
        goto fail;
    q = (lia_period_query){m->since_us, m->until_us, m->mask, "class", NULL, 0};
    if ((rc = lia_store_rollup_period(s, &q, total_cb, &m->total, err)))
        goto fail;
    q.since_us = m->prev_since_us;
    q.until_us = m->since_us;
    if ((rc = lia_store_rollup_period(s, &q, total_cb, &m->prev_total, err)))
        goto fail;
    q = (lia_period_query){m->since_us, m->until_us, m->mask, "cc", NULL, 0};
    if ((rc = lia_store_rollup_period(s, &q, cc_cb, m, err)))
        goto fail;
    if ((rc = compare_tab(s, m, "by_class", "t_by_class", "class", "classification", err)) ||
        (rc = compare_tab(s, m, "by_feed", "t_by_feed", "feed", "feed", err)) ||
        (rc = rank_tab(s, m, "countries", "t_countries", "cc", NULL, NULL, "country", 0, err)) ||
        (rc = compare_tab(s, m, "exposure_sector", "t_exposure_sector", "sector", "sector", err)) ||
        (rc =
             rank_tab(s, m, "iot_protocol", "t_iot_protocol", "protocol", "iot", NULL, "protocol", 0, err)) ||
        (rc = rank_tab(s, m, "iot_product", "t_iot_product", "product", "iot", NULL, "product", 0, err)) ||
        (rc =
             rank_tab(s, m, "ics_protocol", "t_ics_protocol", "protocol", "ics", NULL, "protocol", 0, err)) ||
        (rc = rank_tab(s, m, "ics_product", "t_ics_product", "product", "ics", NULL, "product", 0, err)) ||
        (rc = rank_tab(s, m, "asns", "t_asns", "asn", NULL, NULL, "asn", 0, err)))
        goto fail;
    /* the owners are our constituents: named to our own team only */
    if (!m->partner && (rc = rank_tab(s, m, "owners", "t_owners", NULL, NULL, "owner", "owner", 0, err)))
        goto fail;
    if ((rc = rank_tab(s, m, "partners", "t_partners", NULL, NULL, "partner", "partner", 0, err)) ||
        (rc = handoff_tabs(s, m, err)))
        goto fail;
    return LIA_OK;
fail:
    lia__rmodel_free(m);
    return rc;
}

/* ---- CSV ---- */

static int csv_field(lia_buf *b, const char *s)
{
    return lia_buf_csv(b, s, strlen(s));
}

static int csv_render(const lia__rmodel *m, lia_buf *b)
{
    char n[64];
    lia_buf_printf(b, "## report: %s\r\n", lia__rtext(m->lang, "title"));
    lia_buf_puts(b, "key,value\r\n");
    lia_buf_printf(b, "period,%s\r\nlast_period,%s\r\ntlp,TLP:%s\r\n", m->period, m->prev_period,
                   lia_tlp_name(m->tlp));
    lia_buf_puts(b, "for,");
    csv_field(b, m->partner ? m->partner : "(own team)");
    lia_buf_puts(b, "\r\n");
    change_text(m->total, m->prev_total, n, sizeof n);
    lia_buf_printf(b, "events,%llu\r\nevents_last_period,%llu\r\nchange,%s\r\n", (unsigned long long)m->total,
                   (unsigned long long)m->prev_total, n);
    lia_buf_printf(b, "incidents_opened,%lld\r\nincidents_closed,%lld\r\n\r\n", (long long)m->opened,
                   (long long)m->closed);
    for (size_t i = 0; i < m->ntab; i++) {
        const lia__rtab *t = &m->tab[i];
        lia_buf_printf(b, "## %s: %s\r\n", t->id, lia__rtext(m->lang, t->title));
        for (int c = 0; c < t->ncol; c++) {
            if (c)
                lia_buf_putc(b, ',');
            lia_buf_puts(b, t->col[c]);
        }
        lia_buf_puts(b, "\r\n");
        for (size_t k = 0; k < t->n; k++) {
            csv_field(b, t->cells[k]);
            lia_buf_puts(b, (k + 1) % (size_t)t->ncol ? "," : "\r\n");
        }
        lia_buf_puts(b, "\r\n");
    }
    return LIA_OK;
}

int lia_report_render(lia_store *s, const lia_report_opts *o, lia_buf *out, lia_error *err)
{
    lia__rmodel m;
    const char *fmt = o->format ? o->format : "";
    size_t start = out->len;
    int rc;
    if (strcmp(fmt, "html") != 0 && strcmp(fmt, "csv") != 0 && strcmp(fmt, "pdf") != 0)
        return lia_error_set(err, LIA_EINVAL, "--format", fmt, strlen(fmt), "a report is html, pdf or csv");
    if ((rc = lia__rmodel_build(s, o, &m, err)))
        return rc;
    rc = strcmp(fmt, "csv") == 0 ? csv_render(&m, out) : lia__report_html(&m, o, out, err);
    lia__rmodel_free(&m);
    if (rc == LIA_OK && out->err) {
        out->len = start;
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "report: out of memory (or over the size limit)");
    }
    return rc;
}
