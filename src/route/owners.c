/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Constituency index: which owner (domestic network owner) is responsible
 * for an address, an ASN or a domain. Longest-prefix match: one hash table
 * per address family keyed by (masked address, prefix length), probed from
 * the longest prefix length present down to the shortest; then the ASN;
 * then the domain and each of its parent domains. Two owners claiming the
 * same network, ASN or domain is an error (the directory must say who acts). */
#include <stdlib.h>
#include <string.h>

#include "liaison/limits.h"
#include "route/internal.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

/* ---- 64-bit key hash ---- */

static int h64_grow(lia__h64 *h)
{
    size_t nc = h->cap ? h->cap * 2 : 64;
    uint64_t *k = malloc(nc * sizeof *k);
    int32_t *v = malloc(nc * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return LIA_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        v[i] = -1;
    for (size_t i = 0; i < h->cap; i++) {
        size_t j;
        if (h->v[i] < 0)
            continue;
        for (j = mix64(h->k[i]) & (nc - 1); v[j] >= 0; j = (j + 1) & (nc - 1))
            ;
        k[j] = h->k[i];
        v[j] = h->v[i];
    }
    free(h->k);
    free(h->v);
    h->k = k;
    h->v = v;
    h->cap = nc;
    return LIA_OK;
}

int lia__h64_put(lia__h64 *h, uint64_t k, int32_t v, int32_t *old)
{
    size_t j;
    if ((h->n + 1) * 2 > h->cap && h64_grow(h))
        return LIA_ENOMEM;
    for (j = mix64(k) & (h->cap - 1); h->v[j] >= 0; j = (j + 1) & (h->cap - 1))
        if (h->k[j] == k) {
            *old = h->v[j];
            return LIA_EEXIST;
        }
    h->k[j] = k;
    h->v[j] = v;
    h->n++;
    return LIA_OK;
}

int32_t lia__h64_get(const lia__h64 *h, uint64_t k)
{
    if (!h->cap)
        return -1;
    for (size_t j = mix64(k) & (h->cap - 1); h->v[j] >= 0; j = (j + 1) & (h->cap - 1))
        if (h->k[j] == k)
            return h->v[j];
    return -1;
}

void lia__h64_free(lia__h64 *h)
{
    free(h->k);
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* ---- byte-string key hash ---- */

static int hstr_grow(lia__hstr *h)
{
    size_t nc = h->cap ? h->cap * 2 : 64;
    uint32_t *off = malloc(nc * sizeof *off), *len = malloc(nc * sizeof *len);
    int32_t *v = malloc(nc * sizeof *v);
    uint64_t *hh = malloc(nc * sizeof *hh);
    if (!off || !len || !v || !hh) {
        free(off);
        free(len);
        free(v);
        free(hh);
        return LIA_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        v[i] = -1;
    for (size_t i = 0; i < h->cap; i++) {
        size_t j;
        if (h->v[i] < 0)
            continue;
        for (j = h->h[i] & (nc - 1); v[j] >= 0; j = (j + 1) & (nc - 1))
            ;
        off[j] = h->off[i];
        len[j] = h->len[i];
        v[j] = h->v[i];
        hh[j] = h->h[i];
    }
    free(h->off);
    free(h->len);
    free(h->v);
    free(h->h);
    h->off = off;
    h->len = len;
    h->v = v;
    h->h = hh;
    h->cap = nc;
    return LIA_OK;
}

int lia__hstr_put(lia__hstr *h, const void *k, size_t n, int32_t v, int32_t *old)
{
    uint64_t hv = hash_bytes(k, n);
    size_t j;
    if (!h->keys.max)
        lia_buf_init(&h->keys, (size_t)1 << 31);
    if ((h->n + 1) * 2 > h->cap && hstr_grow(h))
        return LIA_ENOMEM;
    for (j = hv & (h->cap - 1); h->v[j] >= 0; j = (j + 1) & (h->cap - 1))
        if (h->h[j] == hv && h->len[j] == n && memcmp(h->keys.ptr + h->off[j], k, n) == 0) {
            *old = h->v[j];
            return LIA_EEXIST;
        }
    h->off[j] = (uint32_t)h->keys.len;
    if (lia_buf_append(&h->keys, k, n))
        return LIA_ENOMEM;
    h->len[j] = (uint32_t)n;
    h->v[j] = v;
    h->h[j] = hv;
    h->n++;
    return LIA_OK;
}

int32_t lia__hstr_get(const lia__hstr *h, const void *k, size_t n)
{
    uint64_t hv;
    if (!h->cap)
        return -1;
    hv = hash_bytes(k, n);
    for (size_t j = hv & (h->cap - 1); h->v[j] >= 0; j = (j + 1) & (h->cap - 1))
        if (h->h[j] == hv && h->len[j] == n && memcmp(h->keys.ptr + h->off[j], k, n) == 0)
            return h->v[j];
    return -1;
}

void lia__hstr_free(lia__hstr *h)
{
    free(h->off);
    free(h->len);
    free(h->v);
    free(h->h);
    lia_buf_free(&h->keys);
    memset(h, 0, sizeof *h);
}

/* ---- the owner index ---- */

static uint32_t v4(const uint8_t *a)
{
    return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static uint32_t mask4(uint32_t a, int len)
{
    return len == 0 ? 0 : a & (0xFFFFFFFFu << (32 - len));
}

static void mask6(const uint8_t *a, int len, uint8_t out[17])
{
    for (int i = 0; i < 16; i++) {
        int bits = len - i * 8;
        out[i] = bits >= 8 ? a[i] : bits <= 0 ? 0 : (uint8_t)(a[i] & (0xFF << (8 - bits)));
    }
    out[16] = (uint8_t)len;
}

static int conflict(lia_error *err, const char *what, const char *v, const lia_party *a, const lia_party *b)
{
    return lia_error_set(err, LIA_EEXIST, what, v, strlen(v), "claimed by two owners: %s and %s", a->id,
                         b->id);
}

static void add_len(uint8_t *lens, int *n, int len)
{
    int i;
    for (i = 0; i < *n; i++)
        if (lens[i] == len)
            return;
    /* keep descending order */
    for (i = *n; i > 0 && lens[i - 1] < len; i--)
        lens[i] = lens[i - 1];
    lens[i] = (uint8_t)len;
    (*n)++;
}

typedef struct pfx {
    uint32_t a;
    uint8_t len;
    int32_t owner;
} pfx;

static int pfx_cmp(const void *x, const void *y)
{
    const pfx *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Append run (start, owner) to the runs of the current slot (which begin at
 * index first): a run starting where the last one starts replaces it; a run
 * with the last run's owner is not needed. */
static int emit_run(lia__owner_index *ix, size_t *cap, size_t first, uint32_t start, int32_t owner)
{
    if (ix->nruns > first && ix->runs[ix->nruns - 1].start == start) {
        ix->nruns--;
        if (ix->nruns > first && ix->runs[ix->nruns - 1].owner == owner)
            return LIA_OK;
    } else if (ix->nruns > first && ix->runs[ix->nruns - 1].owner == owner) {
        return LIA_OK;
    }
    if (ix->nruns == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        lia__v4run *nr = realloc(ix->runs, nc * sizeof *nr);
        if (!nr)
            return LIA_ENOMEM;
        ix->runs = nr;
        *cap = nc;
    }
    ix->runs[ix->nruns].start = (uint16_t)start;
    ix->runs[ix->nruns].owner = owner;
    ix->nruns++;
    return LIA_OK;
}

/* The /16 table and the flattened runs, from the prefixes in the hash.
 * CIDR prefixes are either nested or disjoint, so one pass over a slot's
 * prefixes sorted by (start, length) with a stack of open prefixes gives
 * the owner of every address range. */
static int build_fast4(lia__owner_index *ix)
{
    pfx *v = NULL;
    size_t n = 0, cap = 0, i;
    int rc = LIA_OK;
    ix->top = malloc(65536 * sizeof *ix->top);
    ix->sub_off = calloc(65536, sizeof *ix->sub_off);
    ix->sub_n = calloc(65536, sizeof *ix->sub_n);
    if (!ix->top || !ix->sub_off || !ix->sub_n)
        return LIA_ENOMEM;
    for (i = 0; i < 65536; i++)
        ix->top[i] = -1;
    if (ix->v4.n && !(v = malloc(ix->v4.n * sizeof *v)))
        return LIA_ENOMEM;
    for (i = 0; i < ix->v4.cap; i++)
        if (ix->v4.v[i] >= 0)
            v[n++] = (pfx){(uint32_t)(ix->v4.k[i] >> 8), (uint8_t)(ix->v4.k[i] & 0xFF), ix->v4.v[i]};
    if (n)
        qsort(v, n, sizeof *v, pfx_cmp);
    /* prefixes up to /16 paint the table, shortest first */
    for (int len = 0; len <= 16; len++)
        for (i = 0; i < n; i++)
            if (v[i].len == len)
                for (uint32_t a = v[i].a >> 16, e = a + (1u << (16 - len)); a < e; a++)
                    ix->top[a] = v[i].owner;
    for (i = 0; i < n && rc == LIA_OK;) {
        uint32_t slot = v[i].a >> 16, st_end[20];
        int32_t st_own[20];
        size_t first = ix->nruns, j;
        int sp = 0, any = 0;
        for (j = i; j < n && (v[j].a >> 16) == slot; j++)
            any |= v[j].len > 16;
        if (!any) {
            i = j;
            continue;
        }
        st_end[0] = 0xFFFF;
        st_own[0] = ix->top[slot];
        rc = emit_run(ix, &cap, first, 0, st_own[0]);
        for (; i < j && rc == LIA_OK; i++) {
            uint32_t s0, e0;
            if (v[i].len <= 16)
                continue;
            s0 = v[i].a & 0xFFFF;
            e0 = s0 + (1u << (32 - v[i].len)) - 1;
            while (rc == LIA_OK && sp > 0 && s0 > st_end[sp]) {
                uint32_t resume = st_end[sp] + 1;
                sp--;
                rc = emit_run(ix, &cap, first, resume, st_own[sp]);
            }
            if (rc == LIA_OK)
                rc = emit_run(ix, &cap, first, s0, v[i].owner);
            st_end[++sp] = e0;
            st_own[sp] = v[i].owner;
        }
        while (rc == LIA_OK && sp > 0) {
            uint32_t resume = st_end[sp] + 1;
            sp--;
            if (resume <= 0xFFFF)
                rc = emit_run(ix, &cap, first, resume, st_own[sp]);
        }
        /* the slot now points at its runs: top = -2 - k */
        ix->sub_off[ix->nsub] = (uint32_t)first;
        ix->sub_n[ix->nsub] = (uint32_t)(ix->nruns - first);
        ix->top[slot] = -2 - (int32_t)ix->nsub++;
    }
    free(v);
    return rc;
}

int lia__owner_index_build(lia__owner_index *ix, const lia_party *p, size_t np, lia_error *err)
{
    int32_t old;
    int rc;
    memset(ix, 0, sizeof *ix);
    for (size_t i = 0; i < np; i++) {
        const lia_party *o = &p[i];
        if (o->kind != LIA_PARTY_OWNER)
            continue;
        for (size_t k = 0; k < o->f[LIA_PF_CIDRS].n; k++) {
            const char *c = o->f[LIA_PF_CIDRS].v[k];
            lia_ip ip;
            const char *why;
            if (lia_parse_cidr(c, strlen(c), &ip, &why))
                return lia_error_set(err, LIA_EINVAL, "cidrs", c, strlen(c), "%s (owner %s)", why, o->id);
            if (ip.family == 4) {
                uint64_t key = (uint64_t)mask4(v4(ip.addr), ip.prefix) << 8 | ip.prefix;
                rc = lia__h64_put(&ix->v4, key, (int32_t)i, &old);
                add_len(ix->lens4, &ix->nlens4, ip.prefix);
            } else {
                uint8_t key[17];
                mask6(ip.addr, ip.prefix, key);
                rc = lia__hstr_put(&ix->v6, key, sizeof key, (int32_t)i, &old);
                add_len(ix->lens6, &ix->nlens6, ip.prefix);
            }
            if (rc == LIA_EEXIST)
                return conflict(err, "cidrs", c, &p[old], o);
            if (rc)
                return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        }
        for (size_t k = 0; k < o->f[LIA_PF_ASNS].n; k++) {
            const char *a = o->f[LIA_PF_ASNS].v[k];
            uint32_t asn;
            const char *why;
            if (lia_parse_asn(a, strlen(a), &asn, &why))
                return lia_error_set(err, LIA_EINVAL, "asns", a, strlen(a), "%s (owner %s)", why, o->id);
            rc = lia__h64_put(&ix->asn, asn, (int32_t)i, &old);
            if (rc == LIA_EEXIST)
                return conflict(err, "asns", a, &p[old], o);
            if (rc)
                return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        }
        for (size_t k = 0; k < o->f[LIA_PF_DOMAINS].n; k++) {
            const char *d = o->f[LIA_PF_DOMAINS].v[k];
            rc = lia__hstr_put(&ix->dom, d, strlen(d), (int32_t)i, &old);
            if (rc == LIA_EEXIST)
                return conflict(err, "domains", d, &p[old], o);
            if (rc)
                return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        }
    }
    if (build_fast4(ix))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

void lia__owner_index_free(lia__owner_index *ix)
{
    free(ix->top);
    free(ix->sub_off);
    free(ix->sub_n);
    free(ix->runs);
    lia__h64_free(&ix->v4);
    lia__hstr_free(&ix->v6);
    lia__h64_free(&ix->asn);
    lia__hstr_free(&ix->dom);
}

int lia__owner_index_ip(const lia__owner_index *ix, const lia_ip *ip)
{
    if (ip->family == 4 && ip->prefix == 32 && ix->top) {
        uint32_t a = v4(ip->addr), lo = a & 0xFFFF;
        int32_t t = ix->top[a >> 16];
        const lia__v4run *r;
        size_t l = 0, h;
        if (t >= -1)
            return t;
        r = ix->runs + ix->sub_off[-2 - t];
        h = ix->sub_n[-2 - t];
        /* last run with start <= lo (runs[0].start == 0) */
        while (h - l > 1) {
            size_t m = (l + h) / 2;
            if (r[m].start <= lo)
                l = m;
            else
                h = m;
        }
        return r[l].owner;
    }
    if (ip->family == 4) {
        uint32_t a = v4(ip->addr);
        for (int i = 0; i < ix->nlens4; i++) {
            int len = ix->lens4[i];
            int32_t v;
            if (len > ip->prefix)
                continue;
            v = lia__h64_get(&ix->v4, (uint64_t)mask4(a, len) << 8 | (uint64_t)len);
            if (v >= 0)
                return v;
        }
        return -1;
    }
    for (int i = 0; i < ix->nlens6; i++) {
        uint8_t key[17];
        int32_t v;
        if (ix->lens6[i] > ip->prefix)
            continue;
        mask6(ip->addr, ix->lens6[i], key);
        v = lia__hstr_get(&ix->v6, key, sizeof key);
        if (v >= 0)
            return v;
    }
    return -1;
}

int lia__owner_index_asn(const lia__owner_index *ix, uint32_t asn)
{
    return lia__h64_get(&ix->asn, asn);
}

int lia__owner_index_domain(const lia__owner_index *ix, const char *fqdn, size_t n)
{
    if (!ix->dom.n)
        return -1;
    while (n) {
        int32_t v = lia__hstr_get(&ix->dom, fqdn, n);
        const char *dot;
        if (v >= 0)
            return v;
        dot = memchr(fqdn, '.', n);
        if (!dot)
            break;
        n -= (size_t)(dot + 1 - fqdn);
        fqdn = dot + 1;
    }
    return -1;
}
