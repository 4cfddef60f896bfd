/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Compact immutable IP range tables, built from RIR delegated statistics
 * files and ip-location-db style CSV files.
 *
 * Build: collect ranges (first, last, value), sort by (first asc, last desc)
 * and flatten them into a sorted list of segment starts, each with the value
 * that covers it (0 = none), the innermost / latest-starting range winning
 * where ranges overlap. Adjacent segments with one value merge.
 * Lookup (IPv4): a /16 index gives the few segments that start in the
 * address's /16; a short binary search inside finds the last start <= addr.
 * IPv6: binary search over 128-bit starts. Values (cc, ASN, AS name) are
 * interned, so 400k ranges of a few thousand ASNs take little memory. */
#include <stdlib.h>
#include <string.h>

#include "enrich/internal.h"
#include "liaison/csv.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

typedef struct rng {
    u128 lo, hi;
    uint32_t val; /* value index + 1 */
} rng;

typedef struct builder {
    rng *r4, *r6;
    size_t n4, n6, cap4, cap6;
    lia_ipval *vals;
    size_t nvals, capvals;
    uint32_t *vhash; /* open addressing over vals (index + 1) */
    size_t vhcap;
    char *names;
    size_t nameslen, namescap;
} builder;

static void b_free(builder *b)
{
    free(b->r4);
    free(b->r6);
    free(b->vals);
    free(b->vhash);
    free(b->names);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
    size_t nc;
    void *q;
    if (need <= *cap)
        return LIA_OK;
    if (need > max)
        return LIA_ELIMIT;
    nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    if (nc > max)
        nc = max;
    q = realloc(*p, nc * elem);
    if (!q)
        return LIA_ENOMEM;
    *p = q;
    *cap = nc;
    return LIA_OK;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* Intern (cc, asn, name); returns value index + 1, or 0 on error (rc set). */
static uint32_t b_value(builder *b, const char cc[2], uint32_t asn, const char *name, size_t nlen, int *rc)
{
    uint64_t h = hash_bytes(cc, 2, 0xcbf29ce484222325ull);
    size_t i;
    h = hash_bytes(&asn, sizeof asn, h);
    h = hash_bytes(name, nlen, h);
    if ((b->nvals + 1) * 2 > b->vhcap) {
        size_t nc = b->vhcap ? b->vhcap * 2 : 1024;
        uint32_t *nh = calloc(nc, sizeof *nh);
        if (!nh) {
            *rc = LIA_ENOMEM;
            return 0;
        }
        for (size_t k = 0; k < b->nvals; k++) {
            const lia_ipval *v = &b->vals[k];
            uint64_t hh = hash_bytes(v->cc, 2, 0xcbf29ce484222325ull);
            hh = hash_bytes(&v->asn, sizeof v->asn, hh);
            hh = hash_bytes(b->names + v->noff, v->nlen, hh);
            size_t j = (size_t)hh & (nc - 1);
            while (nh[j])
                j = (j + 1) & (nc - 1);
            nh[j] = (uint32_t)k + 1;
        }
        free(b->vhash);
        b->vhash = nh;
        b->vhcap = nc;
    }
    for (i = (size_t)h & (b->vhcap - 1); b->vhash[i]; i = (i + 1) & (b->vhcap - 1)) {
        const lia_ipval *v = &b->vals[b->vhash[i] - 1];
        if (v->asn == asn && v->cc[0] == cc[0] && v->cc[1] == cc[1] && v->nlen == nlen &&
            (nlen == 0 || memcmp(b->names + v->noff, name, nlen) == 0))
            return b->vhash[i];
    }
    if ((*rc = grow((void **)&b->vals, &b->capvals, b->nvals + 1, sizeof *b->vals, LIA_MAX_IPRANGES)))
        return 0;
    if ((*rc = grow((void **)&b->names, &b->namescap, b->nameslen + nlen + 1, 1, (size_t)1 << 31)))
        return 0;
    lia_ipval *v = &b->vals[b->nvals];
    v->cc[0] = cc[0];
    v->cc[1] = cc[1];
    v->asn = asn;
    v->noff = (uint32_t)b->nameslen;
    v->nlen = (uint32_t)nlen;
    if (nlen)
        memcpy(b->names + b->nameslen, name, nlen);
    b->nameslen += nlen;
    b->names[b->nameslen] = '\0';
    b->vhash[i] = (uint32_t)++b->nvals;
    return b->vhash[i];
}

static int b_add(builder *b, int fam, u128 lo, u128 hi, uint32_t val)
{
    rng **r = fam == 4 ? &b->r4 : &b->r6;
    size_t *n = fam == 4 ? &b->n4 : &b->n6;
    size_t *cap = fam == 4 ? &b->cap4 : &b->cap6;
    int rc;
    if (b->n4 + b->n6 >= LIA_MAX_IPRANGES)
        return LIA_ELIMIT;
    if ((rc = grow((void **)r, cap, *n + 1, sizeof **r, LIA_MAX_IPRANGES)))
        return rc;
    (*r)[*n].lo = lo;
    (*r)[*n].hi = hi;
    (*r)[*n].val = val;
    (*n)++;
    return LIA_OK;
}

static int rng_cmp(const void *a, const void *b)
{
    const rng *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi > y->hi ? -1 : 1; /* wider first: the narrower one nests */
    return 0;
}

/* Segments under construction (128-bit starts, values). */
typedef struct segs {
    u128 *s;
    uint32_t *v;
    size_t n, cap;
    int rc;
} segs;

static void emit(segs *g, u128 start, uint32_t val)
{
    if (g->rc)
        return;
    if (g->n && g->s[g->n - 1] == start) {
        g->v[g->n - 1] = val;
        if (g->n >= 2 && g->v[g->n - 2] == val)
            g->n--;
        return;
    }
    if (g->n && g->v[g->n - 1] == val)
        return;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 1024;
        u128 *ns = realloc(g->s, nc * sizeof *ns);
        if (!ns) {
            g->rc = LIA_ENOMEM;
            return;
        }
        g->s = ns;
        uint32_t *nv = realloc(g->v, nc * sizeof *nv);
        if (!nv) {
            g->rc = LIA_ENOMEM;
            return;
        }
        g->v = nv;
        g->cap = nc;
    }
    g->s[g->n] = start;
    g->v[g->n] = val;
    g->n++;
}

/* Close every range on the stack that ends before pos (pos = max + 1 at
 * the end: closes all). */
static void close_until(segs *g, rng *stack, size_t *sp, u128 pos, int at_end, u128 max)
{
    while (*sp) {
        rng top = stack[*sp - 1];
        if (!at_end && top.hi >= pos)
            break;
        (*sp)--;
        while (*sp && stack[*sp - 1].hi <= top.hi)
            (*sp)--;
        if (top.hi != max)
            emit(g, top.hi + 1, *sp ? stack[*sp - 1].val : 0);
    }
}

static int flatten(rng *r, size_t n, u128 max, segs *g)
{
    rng *stack = NULL;
    size_t sp = 0;
    memset(g, 0, sizeof *g);
    if (n)
        qsort(r, n, sizeof *r, rng_cmp);
    stack = malloc((n ? n : 1) * sizeof *stack);
    if (!stack)
        return LIA_ENOMEM;
    emit(g, 0, 0);
    for (size_t i = 0; i < n && !g->rc; i++) {
        close_until(g, stack, &sp, r[i].lo, 0, max);
        emit(g, r[i].lo, r[i].val);
        stack[sp++] = r[i];
    }
    close_until(g, stack, &sp, 0, 1, max);
    free(stack);
    return g->rc;
}

static int finish(builder *b, lia_iptable **out)
{
    lia_iptable *t = calloc(1, sizeof *t);
    segs g4, g6;
    int rc;
    memset(&g4, 0, sizeof g4);
    memset(&g6, 0, sizeof g6);
    if (!t)
        return LIA_ENOMEM;
    if ((rc = flatten(b->r4, b->n4, (u128)0xffffffffu, &g4)) || (rc = flatten(b->r6, b->n6, ~(u128)0, &g6)))
        goto out;
    t->n4 = (uint32_t)g4.n;
    t->seg4 = malloc(g4.n * sizeof *t->seg4);
    if (!t->seg4) {
        rc = LIA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < g4.n; i++) {
        t->seg4[i].s = (uint32_t)g4.s[i];
        t->seg4[i].v = g4.v[i];
    }
    for (uint32_t h = 0, i = 0; h <= 65536; h++) {
        uint64_t base = (uint64_t)h << 16;
        while (i < t->n4 && t->seg4[i].s < base)
            i++;
        t->idx16[h] = i;
    }
    t->n6 = g6.n;
    t->s6 = g6.s;
    t->v6 = g6.v;
    g6.s = NULL;
    g6.v = NULL;
    t->vals = b->vals;
    t->nvals = b->nvals;
    t->names = b->names;
    t->nameslen = b->nameslen;
    b->vals = NULL;
    b->names = NULL;
    t->nranges = b->n4 + b->n6;
    *out = t;
    t = NULL;
    rc = LIA_OK;
out:
    free(g4.s);
    free(g4.v);
    free(g6.s);
    free(g6.v);
    lia__iptable_destroy(t);
    return rc;
}

void lia__iptable_destroy(lia_iptable *t)
{
    if (!t)
        return;
    free(t->seg4);
    free(t->s6);
    free(t->v6);
    free(t->vals);
    free(t->names);
    free(t);
}

size_t lia__iptable_ranges(const lia_iptable *t)
{
    return t->nranges;
}

size_t lia__iptable_bytes(const lia_iptable *t)
{
    return sizeof *t + (size_t)t->n4 * 8 + t->n6 * (sizeof(u128) + 4) + t->nvals * sizeof(lia_ipval) +
           t->nameslen;
}

uint32_t lia__iptable_lookup4(const lia_iptable *t, uint32_t x)
{
    uint32_t h = x >> 16;
    uint32_t a = t->idx16[h], n = t->idx16[h + 1] - a;
    const struct lia_seg4 *s = t->seg4;
    while (n > 0) {
        uint32_t half = n >> 1;
        if (s[a + half].s <= x) {
            a += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return s[a - 1].v;
}

void lia__iptable_value(const lia_iptable *t, uint32_t vref, char cc[3], uint32_t *asn)
{
    if (!vref) {
        cc[0] = '\0';
        *asn = 0;
        return;
    }
    const lia_ipval *v = &t->vals[vref - 1];
    cc[0] = v->cc[0];
    cc[1] = v->cc[1];
    cc[2] = '\0';
    *asn = v->asn;
}

static void u128_to_ip(u128 x, int fam, lia_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    ip->family = (uint8_t)fam;
    if (fam == 4) {
        ip->prefix = 32;
        for (int i = 0; i < 4; i++)
            ip->addr[i] = (uint8_t)(x >> (24 - 8 * i));
    } else {
        ip->prefix = 128;
        for (int i = 0; i < 16; i++)
            ip->addr[i] = (uint8_t)(x >> (120 - 8 * i));
    }
}

u128 lia__ip_u128(const lia_ip *ip)
{
    u128 x = 0;
    int n = ip->family == 4 ? 4 : 16;
    for (int i = 0; i < n; i++)
        x = (x << 8) | ip->addr[i];
    return x;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as IPv4. */
static int v4_of(const lia_ip *ip, uint32_t *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *a = ip->addr;
    if (ip->family == 4) {
        a = ip->addr;
    } else if (memcmp(ip->addr, mapped, 12) == 0) {
        a = ip->addr + 12;
    } else {
        return 0;
    }
    *out = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    return 1;
}

static void fill_answer(const lia_iptable *t, uint32_t vref, lia_ipanswer *out)
{
    const lia_ipval *v = &t->vals[vref - 1];
    out->cc[0] = v->cc[0];
    out->cc[1] = v->cc[1];
    out->cc[2] = '\0';
    out->asn = v->asn;
    out->as_name = v->nlen ? t->names + v->noff : NULL;
    out->as_name_len = v->nlen;
}

int lia__iptable_lookup(const lia_iptable *t, const lia_ip *ip, lia_ipanswer *out)
{
    uint32_t x4;
    memset(out, 0, sizeof *out);
    if (v4_of(ip, &x4)) {
        uint32_t h = x4 >> 16, a = t->idx16[h], n = t->idx16[h + 1] - a;
        while (n > 0) {
            uint32_t half = n >> 1;
            if (t->seg4[a + half].s <= x4) {
                a += half + 1;
                n -= half + 1;
            } else {
                n = half;
            }
        }
        if (!t->seg4[a - 1].v)
            return 0;
        fill_answer(t, t->seg4[a - 1].v, out);
        u128_to_ip(t->seg4[a - 1].s, 4, &out->first);
        u128_to_ip(a < t->n4 ? (u128)t->seg4[a].s - 1 : 0xffffffffu, 4, &out->last);
        return 1;
    }
    u128 x = lia__ip_u128(ip);
    size_t a = 0, n = t->n6;
    while (n > 0) {
        size_t half = n >> 1;
        if (t->s6[a + half] <= x) {
            a += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    if (a == 0 || !t->v6[a - 1])
        return 0;
    fill_answer(t, t->v6[a - 1], out);
    u128_to_ip(t->s6[a - 1], 6, &out->first);
    u128_to_ip(a < t->n6 ? t->s6[a] - 1 : ~(u128)0, 6, &out->last);
    return 1;
}

/* ---- parsing helpers ---- */

static int is_digits(lia_slice s)
{
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
    return 1;
}

/* Decimal 0 .. 2^128-1. */
static int parse_u128(lia_slice s, u128 *out)
{
    u128 v = 0, max = ~(u128)0;
    if (!is_digits(s) || s.len > 39)
        return LIA_EINVAL;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.ptr[i] - '0');
        if (v > (max - d) / 10)
            return LIA_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return LIA_OK;
}

/* An address as text (family from the text) or as a decimal number
 * (IPv4 if <= 2^32-1, else IPv6). */
static int parse_addr(lia_slice s, u128 *out, int *fam, const char **why)
{
    lia_ip ip;
    if (is_digits(s)) {
        if (parse_u128(s, out)) {
            *why = "number out of range";
            return LIA_EINVAL;
        }
        *fam = *out <= 0xffffffffu ? 4 : 6;
        return LIA_OK;
    }
    if (lia_parse_ip(s.ptr, s.len, &ip, why))
        return LIA_EINVAL;
    *fam = ip.family;
    *out = lia__ip_u128(&ip);
    return LIA_OK;
}

static int line_err(lia_error *err, int code, uint64_t line, const char *value, size_t vlen, const char *why)
{
    lia_error_set(err, code, NULL, value, vlen, "%s", why);
    if (err)
        err->line = line;
    return code;
}

/* ---- RIR delegated statistics ---- */

static size_t split(lia_slice line, char sep, lia_slice *f, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= line.len; i++) {
        if (i == line.len || line.ptr[i] == sep) {
            if (n < max)
                f[n] = (lia_slice){line.ptr + start, i - start};
            n++;
            start = i + 1;
        }
    }
    return n;
}

/* "2" or "2.3" */
static int is_version(lia_slice s)
{
    if (s.len == 0 || s.len > 8 || s.ptr[0] < '0' || s.ptr[0] > '9')
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if ((s.ptr[i] < '0' || s.ptr[i] > '9') && s.ptr[i] != '.')
            return 0;
    return 1;
}

static int rir_line(builder *b, lia_slice line, uint64_t lineno, lia_error *err)
{
    lia_slice f[10];
    size_t n;
    const char *why = NULL;
    char cc[3];
    u128 lo, hi;
    int fam, rc;
    uint32_t val;
    lia_ip ip;
    if (line.len && line.ptr[line.len - 1] == '\r')
        line.len--;
    line = lia_slice_trim(line);
    if (line.len == 0 || line.ptr[0] == '#')
        return LIA_OK;
    if (line.len > LIA_MAX_IPDATA_LINE)
        return line_err(err, LIA_ELIMIT, lineno, line.ptr, 40, "line too long");
    n = split(line, '|', f, 10);
    if (n >= 1 && is_version(f[0]))
        return LIA_OK; /* version line: 2|apnic|20101217|... or 2.3|ripencc|... */
    if (n >= 6 && lia_slice_eq(f[5], "summary"))
        return LIA_OK;
    if (n < 7)
        return line_err(err, LIA_EPARSE, lineno, line.ptr, line.len,
                        "expected registry|cc|type|start|value|date|status");
    if (lia_slice_eq(f[2], "asn"))
        return LIA_OK;
    if (!lia_slice_eq(f[2], "ipv4") && !lia_slice_eq(f[2], "ipv6"))
        return line_err(err, LIA_EPARSE, lineno, f[2].ptr, f[2].len, "type is not asn, ipv4 or ipv6");
    if (!lia_slice_eq(f[6], "allocated") && !lia_slice_eq(f[6], "assigned"))
        return LIA_OK; /* available / reserved: no holder, no country */
    if (f[1].len == 0)
        return LIA_OK;
    if (lia_parse_cc(f[1].ptr, f[1].len, cc, &why))
        return line_err(err, LIA_EPARSE, lineno, f[1].ptr, f[1].len, why);
    if (lia_parse_ip(f[3].ptr, f[3].len, &ip, &why))
        return line_err(err, LIA_EPARSE, lineno, f[3].ptr, f[3].len, why ? why : "bad start address");
    fam = ip.family;
    lo = lia__ip_u128(&ip);
    if ((fam == 4) != lia_slice_eq(f[2], "ipv4"))
        return line_err(err, LIA_EPARSE, lineno, f[3].ptr, f[3].len,
                        "address family does not match the type");
    if (fam == 4) {
        u128 count;
        if (parse_u128(f[4], &count) || count == 0 || count > 0x100000000ull || lo + count - 1 > 0xffffffffu)
            return line_err(err, LIA_EPARSE, lineno, f[4].ptr, f[4].len,
                            "ipv4 value must be an address count that fits after the start");
        hi = lo + count - 1;
    } else {
        u128 plen;
        if (parse_u128(f[4], &plen) || plen > 128)
            return line_err(err, LIA_EPARSE, lineno, f[4].ptr, f[4].len,
                            "ipv6 value must be a prefix length 0-128");
        u128 hostmask = plen == 0 ? ~(u128)0 : plen == 128 ? 0 : (~(u128)0 >> plen);
        if (lo & hostmask)
            return line_err(err, LIA_EPARSE, lineno, f[3].ptr, f[3].len, "ipv6 start has host bits set");
        hi = lo | hostmask;
    }
    val = b_value(b, cc, 0, NULL, 0, &rc);
    if (!val)
        return line_err(err, rc, lineno, NULL, 0, rc == LIA_ELIMIT ? "too many values" : "out of memory");
    if ((rc = b_add(b, fam, lo, hi, val)))
        return line_err(err, rc, lineno, NULL, 0, rc == LIA_ELIMIT ? "too many ranges" : "out of memory");
    return LIA_OK;
}

int lia__iptable_parse_rir(const char *buf, size_t len, lia_iptable **out, lia_error *err)
{
    builder b;
    uint64_t lineno = 0;
    size_t start = 0;
    int rc = LIA_OK;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        lineno++;
        if ((rc = rir_line(&b, (lia_slice){buf + start, i - start}, lineno, err)))
            goto out;
        start = i + 1;
    }
    if ((rc = finish(&b, out)))
        lia_error_set(err, rc, NULL, NULL, 0, "building the range table: %s", lia_strerror(rc));
out:
    b_free(&b);
    return rc;
}

/* ---- ip-location-db CSV ---- */

typedef struct csvst {
    builder *b;
    lia_error *err;
    int rc;
} csvst;

static int csv_row(void *ud, const lia_csv_row *row)
{
    csvst *st = ud;
    builder *b = st->b;
    const lia_slice *f = row->fields;
    const char *why = NULL;
    u128 lo, hi;
    int fam, fam2, rc;
    char cc[3] = "\0\0";
    uint32_t asn = 0, val;
    lia_slice name = LIA_SLICE_NULL;
    if (row->err)
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, row->raw.ptr, row->raw.len,
                                 row->why ? row->why : "malformed CSV record");
    if (row->nfields < 3)
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, row->raw.ptr, row->raw.len,
                                 "expected at least 3 columns: start,end,country or start,end,asn,name");
    if (parse_addr(lia_slice_trim(f[0]), &lo, &fam, &why)) {
        lia_slice h = lia_slice_trim(f[0]);
        if (row->line == 1 && h.len && !memchr(h.ptr, '.', h.len) && !memchr(h.ptr, ':', h.len) &&
            !is_digits(h))
            return 0; /* a header line (ip_range_start,...) */
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, f[0].ptr, f[0].len, why);
    }
    if (parse_addr(lia_slice_trim(f[1]), &hi, &fam2, &why))
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, f[1].ptr, f[1].len, why);
    if (fam == 6 && fam2 == 4 && is_digits(f[1]))
        fam2 = 6; /* numeric: the start decides */
    if (fam != fam2 || hi < lo)
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, row->raw.ptr, row->raw.len,
                                 "range end is before its start or of another address family");
    lia_slice c3 = lia_slice_trim(f[2]);
    if (row->nfields == 4 && is_digits(c3)) {
        if (lia_parse_asn(c3.ptr, c3.len, &asn, &why) && !lia_slice_eq(c3, "0"))
            return st->rc = line_err(st->err, LIA_EPARSE, row->line, c3.ptr, c3.len, why);
        name = lia_slice_trim(f[3]);
        if (name.len > LIA_MAX_AS_NAME)
            name.len = LIA_MAX_AS_NAME;
        while (name.len && ((unsigned char)name.ptr[name.len - 1] & 0xc0) == 0x80)
            name.len--; /* never cut inside a UTF-8 sequence */
        if (name.len && ((unsigned char)name.ptr[name.len - 1] & 0x80))
            name.len--;
        if (!lia__utf8_valid(name.ptr, name.len))
            return st->rc = line_err(st->err, LIA_EPARSE, row->line, name.ptr, name.len,
                                     "AS name is not valid UTF-8");
    } else if (c3.len == 0) {
        return 0; /* no country for this range */
    } else if (lia_parse_cc(c3.ptr, c3.len, cc, &why)) {
        return st->rc = line_err(st->err, LIA_EPARSE, row->line, c3.ptr, c3.len, why);
    }
    if (asn == 0 && !cc[0])
        return 0; /* AS 0 is no AS (RFC 7607): without a country the range answers nothing */
    val = b_value(b, cc[0] ? cc : "\0\0", asn, name.ptr, name.len, &rc);
    if (!val || (rc = b_add(b, fam, lo, hi, val)))
        return st->rc = line_err(st->err, rc, row->line, NULL, 0,
                                 rc == LIA_ELIMIT ? "too many ranges" : "out of memory");
    return 0;
}

int lia__iptable_parse_csv(const char *buf, size_t len, lia_iptable **out, lia_error *err)
{
    builder b;
    lia_csv *c = NULL;
    lia_csv_opts o;
    csvst st = {&b, err, LIA_OK};
    int rc;
    memset(&b, 0, sizeof b);
    lia_csv_opts_default(&o);
    o.comment = '#';
    if ((rc = lia_csv_create(&o, &c))) {
        lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        goto out;
    }
    rc = lia_csv_feed(c, buf, len, csv_row, &st);
    if (rc == LIA_OK)
        rc = lia_csv_finish(c, csv_row, &st);
    if (st.rc) {
        rc = st.rc;
        goto out;
    }
    if (rc) {
        lia_error_set(err, rc, NULL, NULL, 0, "reading CSV: %s", lia_strerror(rc));
        goto out;
    }
    if ((rc = finish(&b, out)))
        lia_error_set(err, rc, NULL, NULL, 0, "building the range table: %s", lia_strerror(rc));
out:
    lia_csv_destroy(c);
    b_free(&b);
    return rc;
}
