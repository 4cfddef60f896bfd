/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One incident as a STIX 2.1 bundle or an IODEF v2 document: its linked
 * events, its state and its hand-offs, for our own team or as one
 * recipient may see it (liaison incident export, GET
 * /api/v1/incidents/{id}/export). See lia_incident_export in
 * liaison/incident.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/incident.h"
#include "liaison/iodef.h"
#include "liaison/route.h"
#include "liaison/stix.h"
#include "incident/internal.h"
#include "route/internal.h"
#include "route/tlp.h"

/* ---- the incident's events, in id order ---- */

typedef struct refs {
    int64_t *v;
    size_t n, cap;
    uint64_t bad;
    int oom;
} refs;

/* A link's ref as an event id: 1, else 0 (a link written by hand). */
static int ref_id(const char *p, int64_t *out)
{
    uint64_t v = 0;
    if (!*p)
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > ((uint64_t)INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v == 0)
        return 0;
    *out = (int64_t)v;
    return 1;
}

static int collect_ref(void *ud, const lia_link *l)
{
    refs *r = ud;
    int64_t id;
    if (strcmp(l->kind, "event") != 0)
        return 0;
    if (!ref_id(l->ref, &id)) {
        r->bad++; /* names no event id */
        return 0;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        int64_t *nv = realloc(r->v, nc * sizeof *nv);
        if (!nv) {
            r->oom = 1;
            return 1;
        }
        r->v = nv, r->cap = nc;
    }
    r->v[r->n++] = id;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ---- hand-offs as IODEF Contacts (role irt) ---- */

typedef struct rcpts {
    lia_iodef_contact *v;
    size_t n;
    int live;      /* a hand-off not withdrawn was seen */
    int only_live; /* a recipient's view: its live hand-off only */
    int oom;
} rcpts;

static int live_cb(void *ud, const lia_handoff *h)
{
    if (h->state != LIA_HO_WITHDRAWN)
        ((rcpts *)ud)->live = 1;
    return 0;
}

static int collect_rcpt(void *ud, const lia_handoff *h)
{
    rcpts *r = ud;
    lia_iodef_contact *nv;
    char t[LIA_TIME_TEXT], d[512];
    int64_t at = h->rejected_us       ? h->rejected_us
                 : h->resolved_us     ? h->resolved_us
                 : h->acknowledged_us ? h->acknowledged_us
                 : h->notified_us     ? h->notified_us
                                      : h->updated_us;
    if (r->only_live && h->state == LIA_HO_WITHDRAWN)
        return 0;
    if (r->oom || !(nv = realloc(r->v, (r->n + 1) * sizeof *nv))) {
        r->oom = 1;
        return 1;
    }
    r->v = nv;
    lia_time_format(at, t, sizeof t);
    snprintf(d, sizeof d, "hand-off %s %s%s%s%s%s%s%s", lia_handoff_state_name(h->state), t,
             h->by ? " by " : "", h->by ? h->by : "", h->channel ? " via " : "", h->channel ? h->channel : "",
             h->reason ? ": " : "", h->reason ? h->reason : "");
    r->v[r->n].name = strdup(h->recipient);
    r->v[r->n].description = strdup(d);
    if (!r->v[r->n].name || !r->v[r->n].description) {
        free((char *)r->v[r->n].name);
        free((char *)r->v[r->n].description);
        r->oom = 1;
        return 1;
    }
    r->n++;
    return 0;
}

static void rcpts_free(rcpts *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->v[i].name);
        free((char *)r->v[i].description);
    }
    free(r->v);
}

/* IODEF's Incident@status of ours: status, and ext-status when IODEF has no word. */
static const char *iodef_status(lia_incident_status st, const char **ext)
{
    *ext = NULL;
    switch (st) {
    case LIA_INC_NEW:
    case LIA_INC_TRIAGED: return "new";
    case LIA_INC_NOTIFIED:
    case LIA_INC_ACKNOWLEDGED:
    case LIA_INC_MITIGATING: return "in-progress";
    case LIA_INC_RESOLVED:
    case LIA_INC_CLOSED: return "resolved";
    default: *ext = lia_incident_status_name(st); return "ext-value";
    }
}

/* ---- a recipient's view of an event (as GET /api/v1/events/{id}) ---- */

typedef struct view {
    const lia_route *rt;
    int idx; /* the party in rt; -1: gone from the directory (sees no event) */
    lia_recipient r;
    char name[80]; /* "partner:ID" / "owner:ID", as routing decisions name it */
    lia_event copy;
} view;

typedef struct delivered {
    const char *name;
    int yes;
} delivered;

static int row_cb(void *ud, const lia_route_row *row)
{
    delivered *d = ud;
    d->yes |= !strcmp(row->recipient, d->name) && !strcmp(row->verdict, "deliver");
    return 0;
}

/* *show = the event as the recipient sees it (v->copy), or NULL when it
 * may not see it. */
static int view_event(lia_store *s, view *v, const lia_event *ev, const char *dl, const lia_event **show,
                      lia_error *err)
{
    delivered d = {v->name, 0};
    int owner, rc;
    *show = NULL;
    if (v->idx < 0)
        return LIA_OK;
    if (dl) { /* pruned: the recipients its copy kept */
        char key[96];
        snprintf(key, sizeof key, ",%s,", v->name);
        d.yes = strstr(dl, key) != NULL;
    } else if ((rc = lia_route_rows(s, ev->id, row_cb, &d, err))) {
        return rc;
    }
    if (!d.yes) /* never routed to it */
        return LIA_OK;
    owner = lia_route_owner(v->rt, ev, NULL);
    if (!lia__tlp_allows(&v->r, ev, owner >= 0 ? lia_route_party(v->rt, owner)->id : NULL, NULL))
        return LIA_OK; /* its ceiling was lowered since */
    if ((rc = lia__route_redact(v->rt, v->idx, ev, &v->copy, err)))
        return rc;
    *show = &v->copy;
    return LIA_OK;
}

/* ---- the export ---- */

typedef struct expctx {
    lia_stix_export *stix;
    lia_iodef_export *iodef;
    int max_tlp;
    view *v; /* NULL: our own team */
    lia_store *s;
    lia_error *err;
    lia_incident_export_result res;
} expctx;

static int add_event(void *ud, const lia_event *ev, const char *dl)
{
    expctx *x = ud;
    lia_error *err = x->err;
    const lia_event *show = ev;
    int rc;
    if (x->v) {
        if ((rc = view_event(x->s, x->v, ev, dl, &show, err)))
            return rc;
        if (!show) {
            x->res.withheld++;
            return LIA_OK;
        }
    }
    /* TLP ceiling: an event above it, or without a TLP, is not shared */
    if (x->max_tlp >= 0 && (!lia_event_has(show, LIA_F_TLP) || show->v[LIA_F_TLP].i > x->max_tlp)) {
        x->res.over_tlp++;
        return LIA_OK;
    }
    rc = x->stix ? lia_stix_export_add(x->stix, show, err) : lia_iodef_export_add(x->iodef, show, err);
    if (rc == LIA_ENOTFOUND)
        return LIA_OK; /* no observable: the exporter counts it */
    if (rc == LIA_OK) {
        x->res.events++;
        x->res.pruned += dl != NULL;
    }
    return rc;
}

int lia__incident_events(lia_store *s, int64_t id, lia__incident_event_cb cb, void *ud, uint64_t *missing,
                         uint64_t *pruned, lia_error *err)
{
    refs r = {NULL, 0, 0, 0, 0};
    lia_event ev;
    lia_buf dl;
    uint64_t gone = 0, copies = 0;
    int rc = lia_incident_links(s, id, collect_ref, &r, err);
    if (rc == LIA_OK && r.oom)
        rc = lia_error_set(err, LIA_ENOMEM, "export", NULL, 0, "out of memory reading the incident's links");
    if (rc == LIA_OK && r.n)
        qsort(r.v, r.n, sizeof *r.v, cmp_id);
    lia_event_init(&ev);
    lia_buf_init(&dl, (size_t)1 << 20);
    for (size_t i = 0; rc == LIA_OK && i < r.n; i++) {
        if (i && r.v[i] == r.v[i - 1])
            continue;
        if ((rc = lia_store_event_get(s, r.v[i], &ev, err)) == LIA_ENOTFOUND) {
            /* pruned from the store: the incident's own copy (store/forget.h) */
            lia_error_clear(err);
            lia_buf_reset(&dl);
            if ((rc = lia__incident_event_copy(s, r.v[i], &ev, &dl, NULL, err)) == LIA_OK) {
                copies++;
                rc = cb(ud, &ev, lia_buf_cstr(&dl));
                continue;
            }
            if (rc != LIA_ENOTFOUND)
                break;
            /* linked, then gone without a copy (a store from before copies): counted, not fatal */
            gone++;
            lia_error_clear(err);
            rc = LIA_OK;
            continue;
        }
        if (rc == LIA_OK)
            rc = cb(ud, &ev, NULL);
    }
    lia_event_free(&ev);
    lia_buf_free(&dl);
    free(r.v);
    if (rc == LIA_OK && missing)
        *missing = gone + r.bad;
    if (rc == LIA_OK && pruned)
        *pruned = copies;
    return rc;
}

typedef struct plain {
    lia_event_cb cb;
    void *ud;
} plain;

static int plain_cb(void *ud, const lia_event *ev, const char *dl)
{
    plain *p = ud;
    (void)dl;
    return p->cb(p->ud, ev);
}

int lia_incident_events(lia_store *s, int64_t id, lia_event_cb cb, void *ud, uint64_t *missing,
                        lia_error *err)
{
    plain p = {cb, ud};
    return lia__incident_events(s, id, plain_cb, &p, missing, NULL, err);
}

int lia_incident_export(lia_store *s, int64_t id, const lia_incident_export_opts *o,
                        int (*sink)(void *ud, const char *p, size_t n), void *ud,
                        lia_incident_export_result *res, lia_error *err)
{
    lia_incident inc;
    lia_buf hold;
    lia_route *own_rt = NULL;
    rcpts rl = {NULL, 0, 0, 0, 0};
    view v;
    expctx x;
    const char *name, *desc;
    char inc_id[32];
    int stix, rc;
    lia_buf_init(&hold, 0);
    memset(&x, 0, sizeof x);
    memset(&v, 0, sizeof v);
    lia_event_init(&v.copy);
    x.max_tlp = o->max_tlp;
    if (!o->format || (strcmp(o->format, "stix") != 0 && strcmp(o->format, "iodef") != 0)) {
        rc = lia_error_set(err, LIA_EINVAL, "format", NULL, 0, "format \"%.40s\": stix or iodef",
                           o->format ? o->format : "");
        goto out;
    }
    stix = strcmp(o->format, "stix") == 0;
    if (o->recipient && o->recipient_kind != LIA_PARTY_PARTNER && o->recipient_kind != LIA_PARTY_OWNER) {
        rc = lia_error_set(err, LIA_EINVAL, "recipient", NULL, 0, "a recipient is a partner or an owner");
        goto out;
    }
    if ((rc = lia_incident_get(s, id, &inc, &hold, err)))
        goto out;
    if (inc.drill) { /* drill data is never shared (docs/drills.md) */
        rc = lia_error_set(err, LIA_EINVAL, "incident", NULL, 0,
                           "incident %lld belongs to drill %lld: drill incidents are not exported or shared",
                           (long long)id, (long long)inc.drill);
        goto out;
    }
    if (o->recipient) { /* its incident only: handed off to it, not withdrawn */
        if ((rc = lia_handoff_list(s, id, -1, o->recipient, live_cb, &rl, err)))
            goto out;
        if (!rl.live) {
            rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld", (long long)id);
            goto out;
        }
        if (!o->route && (rc = lia_route_load(s, &own_rt, err)))
            goto out;
        v.rt = o->route ? o->route : own_rt;
        snprintf(v.name, sizeof v.name, "%s:%s", lia_party_kind_name(o->recipient_kind), o->recipient);
        if ((v.idx = lia__route_party_find(v.rt, o->recipient_kind, o->recipient)) >= 0)
            lia_route_recipient(v.rt, v.idx, &v.r);
        x.v = &v;
    }
    /* the incident names the bundle / document, and keeps one IODEF
     * IncidentID however often it is exported */
    name = o->name ? o->name : inc.title;
    desc = o->description ? o->description : inc.description && *inc.description ? inc.description : NULL;
    snprintf(inc_id, sizeof inc_id, "LIAISON#%lld", (long long)id);
    if (stix) {
        lia_stix_opts so = {
            .producer = o->producer, .incident = name, .incident_description = desc, .now_us = o->now_us};
        rc = lia_stix_export_create(&so, sink, ud, &x.stix, err);
    } else {
        lia_iodef_opts io = {.producer = o->producer,
                             .contact_email = o->contact_email,
                             .incident = name,
                             .incident_id = inc_id,
                             .now_us = o->now_us};
        /* the incident's own state travels with its events */
        io.description = desc;
        io.status = iodef_status(inc.status, &io.ext_status);
        io.severity = inc.severity == LIA_SEV_LOW      ? "low"
                      : inc.severity == LIA_SEV_MEDIUM ? "medium"
                                                       : "high"; /* high, critical */
        rl.only_live = o->recipient != NULL;
        if ((rc = lia_handoff_list(s, id, -1, o->recipient, collect_rcpt, &rl, err)) == LIA_OK && rl.oom)
            rc = lia_error_set(err, LIA_ENOMEM, "export", NULL, 0, "out of memory reading the hand-offs");
        io.recipients = rl.v;
        io.nrecipients = rl.n;
        if (rc == LIA_OK)
            rc = lia_iodef_export_create(&io, sink, ud, &x.iodef, err);
    }
    x.s = s;
    x.err = err;
    if (rc == LIA_OK)
        rc = lia__incident_events(s, id, add_event, &x, &x.res.missing, NULL, err);
    if (rc == LIA_OK) {
        if (x.stix) {
            rc = lia_stix_export_finish(x.stix, err);
            x.res.skipped = lia_stix_export_skipped(x.stix);
            x.res.objects = lia_stix_export_objects(x.stix);
        } else {
            rc = lia_iodef_export_finish(x.iodef, err);
            x.res.skipped = lia_iodef_export_skipped(x.iodef);
            x.res.objects = x.res.events;
        }
    }
    if (rc == LIA_OK && res)
        *res = x.res;
out:
    lia_stix_export_destroy(x.stix);
    lia_iodef_export_destroy(x.iodef);
    lia_event_free(&v.copy);
    if (own_rt)
        lia_route_destroy(own_rt);
    rcpts_free(&rl);
    lia_buf_free(&hold);
    return rc;
}
