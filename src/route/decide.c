/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The routing snapshot (directory + configuration, with its indexes) and
 * the decision for one event: owner lookup, rule matching, recipients with
 * the TLP verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/limits.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "route/tlp.h"

/* ---- build ---- */

int lia__route_party_find(const lia_route *rt, int kind, const char *id)
{
    for (size_t i = 0; i < rt->np; i++)
        if (rt->p[i].kind == kind && strcmp(rt->p[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int route_build(lia_route *rt, lia_error *err)
{
    int rc;
    if (!(rt->rcpt = calloc(rt->np ? rt->np : 1, sizeof *rt->rcpt)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < rt->np; i++) {
        const lia_party *p = &rt->p[i];
        const char *t = lia_party_get(p, LIA_PF_TLP_MAX), *a = lia_party_get(p, LIA_PF_AGREEMENT);
        int tlp;
        lia_recipient *r = &rt->rcpt[i];
        r->kind = p->kind;
        r->id = p->id;
        if (!t || lia_parse_tlp(t, strlen(t), &tlp, NULL))
            tlp = p->kind == LIA_PARTY_OWNER ? LIA_TLP_AMBER_STRICT : LIA_TLP_AMBER;
        r->tlp_max = tlp;
        r->agreement = p->kind == LIA_PARTY_OWNER ? 1 : (a && strcmp(a, "true") == 0);
    }
    if ((rc = lia__owner_index_build(&rt->oi, rt->p, rt->np, err)))
        return rc;
    if ((rc = lia__partner_index_build(&rt->pi, rt->p, rt->np, err)))
        return rc;
    for (size_t i = 0; i < rt->cf.nrules; i++) {
        lia__route_rule *r = &rt->cf.rules[i];
        for (size_t k = 0; k < r->nto; k++) {
            lia__route_target *t = &r->to[k];
            if (t->type != LIA__T_OWNER_ID && t->type != LIA__T_PARTNER_ID)
                continue;
            t->party = lia__route_party_find(
                rt, t->type == LIA__T_OWNER_ID ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, t->id);
            if (t->party < 0)
                return lia_error_set(err, LIA_ENOTFOUND, "to", t->id, strlen(t->id), "rule '%s': no such %s",
                                     r->name, t->type == LIA__T_OWNER_ID ? "owner" : "partner");
        }
    }
    return LIA_OK;
}

int lia__route_create(const lia_party *parties, size_t n, const char *text, size_t clen, lia_route **out,
                      lia_error *err)
{
    lia_route *rt;
    int rc;
    if (n > LIA_MAX_PARTIES)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d owners and partners",
                             LIA_MAX_PARTIES);
    if (!(rt = calloc(1, sizeof *rt)) || !(rt->p = calloc(n ? n : 1, sizeof *rt->p))) {
        free(rt);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (; rt->np < n; rt->np++)
        if (lia__party_copy(&rt->p[rt->np], &parties[rt->np])) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto fail;
        }
    if ((rc = lia__route_config_parse(text, clen, &rt->cf, err)))
        goto fail;
    if ((rc = route_build(rt, err)))
        goto fail;
    *out = rt;
    return LIA_OK;
fail:
    lia_route_destroy(rt);
    return rc;
}

void lia_route_destroy(lia_route *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->np; i++)
        lia_party_free(&rt->p[i]);
    free(rt->p);
    free(rt->rcpt);
    lia__owner_index_free(&rt->oi);
    lia__partner_index_free(&rt->pi);
    lia__route_config_free(&rt->cf);
    free(rt);
}

/* ---- accessors ---- */

const lia_party *lia_route_party(const lia_route *rt, int idx)
{
    return idx >= 0 && (size_t)idx < rt->np ? &rt->p[idx] : NULL;
}

void lia_route_recipient(const lia_route *rt, int idx, lia_recipient *out)
{
    *out = rt->rcpt[idx];
}

const char *lia_verdict_name(int v)
{
    switch (v) {
    case LIA_DELIVER: return "deliver";
    case LIA_DENY: return "deny";
    case LIA_UNROUTED: return "unrouted";
    case LIA_DROPPED: return "dropped";
    default: return "?";
    }
}

const char *lia_route_rule_name(const lia_route *rt, int ri)
{
    return ri >= 0 && (size_t)ri < rt->cf.nrules ? rt->cf.rules[ri].name : "default";
}

size_t lia_route_recipient_name(const lia_route *rt, const lia_decision *d, char *out, size_t n)
{
    int k;
    if (d->party < 0)
        k = snprintf(out, n, "%s", d->verdict == LIA_DROPPED ? "dropped" : "unrouted");
    else
        k = snprintf(out, n, "%s:%s", lia_party_kind_name(rt->p[d->party].kind), rt->p[d->party].id);
    return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

/* ---- owner lookup ---- */

int lia_route_owner_ip(const lia_route *rt, const lia_ip *ip)
{
    return lia__owner_index_ip(&rt->oi, ip);
}
int lia_route_owner_asn(const lia_route *rt, uint32_t asn)
{
    return lia__owner_index_asn(&rt->oi, asn);
}
int lia_route_owner_domain(const lia_route *rt, const char *fqdn, size_t n)
{
    return lia__owner_index_domain(&rt->oi, fqdn, n);
}

/* Host of a normalised URL ("scheme://host[:port]/..."), NULL if an IP. */
static lia_slice url_host(lia_slice u)
{
    const char *p = u.ptr, *e = u.ptr + u.len, *h;
    const char *s = u.len > 3 ? memchr(p, ':', u.len) : NULL;
    if (!s || e - s < 3 || s[1] != '/' || s[2] != '/')
        return LIA_SLICE_NULL;
    h = s + 3;
    for (const char *q = h; q < e; q++)
        if (*q == '@')
            h = q + 1;
        else if (*q == '/' || *q == '?' || *q == '#')
            break;
    if (h < e && *h == '[')
        return LIA_SLICE_NULL;
    for (const char *q = h; q < e; q++)
        if (*q == ':' || *q == '/' || *q == '?' || *q == '#') {
            e = q;
            break;
        }
    return (lia_slice){h, (size_t)(e - h)};
}

int lia_route_owner(const lia_route *rt, const lia_event *ev, const char **via)
{
    int o;
    const char *v = NULL;
    if (lia_event_has(ev, LIA_F_SOURCE_IP) &&
        (o = lia__owner_index_ip(&rt->oi, &ev->v[LIA_F_SOURCE_IP].ip)) >= 0)
        v = "owner of the longest prefix containing source.ip";
    else if (lia_event_has(ev, LIA_F_SOURCE_ASN) &&
             (o = lia__owner_index_asn(&rt->oi, (uint32_t)ev->v[LIA_F_SOURCE_ASN].i)) >= 0)
        v = "owner of source.asn";
    else {
        lia_slice d = lia_event_str(ev, LIA_F_SOURCE_FQDN);
        o = -1;
        if (d.len && (o = lia__owner_index_domain(&rt->oi, d.ptr, d.len)) >= 0)
            v = "owner of the domain of source.fqdn";
        if (o < 0 && lia_event_has(ev, LIA_F_SOURCE_URL)) {
            lia_slice h = url_host(lia_event_str(ev, LIA_F_SOURCE_URL));
            if (h.len && (o = lia__owner_index_domain(&rt->oi, h.ptr, h.len)) >= 0)
                v = "owner of the domain of source.url";
        }
    }
    if (via)
        *via = v;
    return o;
}

/* ---- matching ---- */

static int sector_match(const lia_event *ev, char *const *sec, size_t n)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        const char *v;
        if (x->klen != 6 || memcmp(ev->text.ptr + x->koff, "sector", 6) != 0)
            continue;
        v = ev->text.ptr + x->voff;
        for (size_t k = 0; k < n; k++) {
            size_t l = strlen(sec[k]);
            /* a JSON string "ics" or an array containing "ics" */
            for (uint32_t j = 0; j + l + 2 <= x->vlen; j++)
                if (v[j] == '"' && v[j + l + 1] == '"' && memcmp(v + j + 1, sec[k], l) == 0 &&
                    (j == 0 || v[j - 1] == '[' || v[j - 1] == ','))
                    return 1;
        }
        return 0;
    }
    return 0;
}

static int rule_match(const lia__route_config *c, const lia__route_rule *r, const lia_event *ev)
{
    if (r->has_cc) {
        lia_slice cc = lia_event_str(ev, LIA_F_SOURCE_GEOLOCATION_CC);
        int ix, ok = 0;
        if (cc.len != 2 || (ix = lia__cc_index(cc.ptr)) < 0)
            return 0;
        if (r->cc[ix / 64] >> (ix % 64) & 1)
            ok = 1;
        else if (r->cc_home && memcmp(cc.ptr, c->home, 2) == 0)
            ok = 1;
        else if (r->cc_foreign && memcmp(cc.ptr, c->home, 2) != 0)
            ok = 1;
        if (!ok)
            return 0;
    }
    if (r->nasn) {
        size_t i;
        uint32_t a;
        if (!lia_event_has(ev, LIA_F_SOURCE_ASN))
            return 0;
        a = (uint32_t)ev->v[LIA_F_SOURCE_ASN].i;
        for (i = 0; i < r->nasn && r->asn[i] != a; i++)
            ;
        if (i == r->nasn)
            return 0;
    }
    if (r->ncidr) {
        size_t i;
        if (!lia_event_has(ev, LIA_F_SOURCE_IP))
            return 0;
        for (i = 0; i < r->ncidr && !lia_ip_in(&r->cidr[i], &ev->v[LIA_F_SOURCE_IP].ip); i++)
            ;
        if (i == r->ncidr)
            return 0;
    }
    if (r->has_tax) {
        int64_t t;
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TAXONOMY) ||
            (t = ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i) < 0 || t >= 64 || !(r->tax >> t & 1))
            return 0;
    }
    if (r->has_type) {
        int64_t t;
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE) || (t = ev->v[LIA_F_CLASSIFICATION_TYPE].i) < 0 ||
            t >= 256 || !(r->type[t / 64] >> (t % 64) & 1))
            return 0;
    }
    if (r->tlp) {
        int t = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : LIA_TLP_AMBER;
        if (!(r->tlp >> t & 1))
            return 0;
    }
    if (r->nfeed) {
        lia_slice f = lia_event_str(ev, LIA_F_FEED_NAME);
        size_t i;
        for (i = 0; i < r->nfeed && !(f.len && lia_slice_eq(f, r->feed[i])); i++)
            ;
        if (i == r->nfeed)
            return 0;
    }
    if (r->nsector && !sector_match(ev, r->sector, r->nsector))
        return 0;
    return 1;
}

/* ---- decision ---- */

typedef struct dctx {
    const lia_route *rt;
    const lia_event *ev;
    lia_decision *out;
    size_t n;
    int owner;
    const char *owner_via;
    int dropped_rule;
} dctx;

static void add(dctx *d, int party, int ri, const char *why)
{
    const lia_recipient *r;
    lia_decision *x;
    for (size_t i = 0; i < d->n; i++)
        if (d->out[i].party == party)
            return;
    if (d->n >= LIA_ROUTE_MAX_DECISIONS)
        return;
    x = &d->out[d->n++];
    r = &d->rt->rcpt[party];
    x->party = party;
    x->rule = ri;
    x->why = why;
    x->verdict = lia__tlp_allows(r, d->ev, d->owner >= 0 ? d->rt->p[d->owner].id : NULL, &x->reason)
                     ? LIA_DELIVER
                     : LIA_DENY;
}

static int add_partners(dctx *d, int ri, const char *why)
{
    lia_slice cc = lia_event_str(d->ev, LIA_F_SOURCE_GEOLOCATION_CC);
    int ix, k = 0;
    if (cc.len != 2 || (ix = lia__cc_index(cc.ptr)) < 0)
        return 0;
    if (d->rt->cf.home[0] && memcmp(cc.ptr, d->rt->cf.home, 2) == 0)
        return 0;
    for (int32_t j = d->rt->pi.first[ix]; j >= 0; j = d->rt->pi.next[j], k++)
        add(d, d->rt->pi.next_party[j], ri, why);
    return k;
}

static void default_policy(dctx *d, int ri)
{
    if (d->owner >= 0) {
        add(d, d->owner, ri, d->owner_via);
        return;
    }
    add_partners(d, ri, "partner CERT covering source.geolocation.cc");
}

static const char *unrouted_reason(const dctx *d)
{
    lia_slice cc = lia_event_str(d->ev, LIA_F_SOURCE_GEOLOCATION_CC);
    if (!cc.len)
        return "no constituent owns the network and the event has no source.geolocation.cc";
    if (d->rt->cf.home[0] && memcmp(cc.ptr, d->rt->cf.home, 2) == 0)
        return "home country, but no constituent owns the network (source.ip, source.asn, domain)";
    return "no constituent owns the network and no partner CERT covers the country";
}

size_t lia_route_event(const lia_route *rt, const lia_event *ev, lia_decision *out)
{
    dctx d = {rt, ev, out, 0, -1, NULL, -1};
    int matched = 0;
    d.owner = lia_route_owner(rt, ev, &d.owner_via);
    for (size_t i = 0; i < rt->cf.nrules; i++) {
        const lia__route_rule *r = &rt->cf.rules[i];
        if (!rule_match(&rt->cf, r, ev))
            continue;
        matched = 1;
        for (size_t k = 0; k < r->nto; k++) {
            const lia__route_target *t = &r->to[k];
            switch (t->type) {
            case LIA__T_OWNER:
                if (d.owner >= 0)
                    add(&d, d.owner, (int)i, d.owner_via);
                break;
            case LIA__T_PARTNER:
                add_partners(&d, (int)i, "partner CERT covering source.geolocation.cc");
                break;
            case LIA__T_DEFAULT: default_policy(&d, (int)i); break;
            case LIA__T_OWNER_ID: add(&d, t->party, (int)i, "named by the rule"); break;
            case LIA__T_PARTNER_ID: add(&d, t->party, (int)i, "named by the rule"); break;
            case LIA__T_DROP:
                if (d.dropped_rule < 0)
                    d.dropped_rule = (int)i;
                break;
            default: break;
            }
        }
        if (!rt->cf.mode_all)
            break;
    }
    if (!matched)
        default_policy(&d, -1);
    if (d.n == 0) {
        lia_decision *x = &out[d.n++];
        x->party = -1;
        x->rule = d.dropped_rule >= 0 ? d.dropped_rule : -1;
        x->verdict = d.dropped_rule >= 0 ? LIA_DROPPED : LIA_UNROUTED;
        x->why = d.dropped_rule >= 0 ? "the rule sends it to nobody" : "nobody found to act";
        x->reason = d.dropped_rule >= 0 ? "dropped by rule" : unrouted_reason(&d);
    }
    return d.n;
}
