/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Pure parsers of TAXII requests: the filter from the query parameters
 * (added_after, limit, next, match[...]), the next token, and the TAXII
 * view of the one TLP policy. No I/O, no globals. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "liaison/event.h"
#include "liaison/field.h"
#include "liaison/http.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "liaison/taxii.h"
#include "http/parse.h"
#include "route/tlp.h"
#include "taxii/taxii_internal.h"

static lia_slice trim(lia_slice s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* ---- TAXII filters ---- */

void lia__taxii_filter_init(lia_taxii_filter *f)
{
    f->added_after = -1;
    f->limit = 0;
    f->has_next = 0;
    f->next_date = f->next_seq = 0;
    f->next_hash = 0;
    f->spec_mask = 0;
    f->nver = f->nids = f->ntypes = 0;
    f->used = 0;
}

/* Split value on ',' and call add for each non-empty trimmed item. */
static int each_item(lia_taxii_filter *f, const char *v, int which, const char **why)
{
    size_t n = strlen(v), i = 0;
    while (i <= n) {
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        lia_slice it = trim((lia_slice){v + s, i - s});
        i++;
        if (it.len == 0) {
            *why = "empty item in match[] list";
            return LIA_EPARSE;
        }
        if (which == 0 || which == 1) {
            int *cnt = which == 0 ? &f->nids : &f->ntypes;
            const char **arr = which == 0 ? f->ids : f->types;
            if (*cnt >= LIA_TAXII_MAX_MATCH || f->used + it.len + 1 > sizeof f->arena) {
                *why = "too many match[] values";
                return LIA_ELIMIT;
            }
            for (size_t k = 0; k < it.len; k++) {
                unsigned char c = (unsigned char)it.ptr[k];
                if (c < 0x21 || c > 0x7e || c == '\'' || c == '"' || c == '\\') {
                    *why = "match[id] and match[type] take printable ASCII without quotes";
                    return LIA_EPARSE;
                }
            }
            memcpy(f->arena + f->used, it.ptr, it.len);
            f->arena[f->used + it.len] = '\0';
            arr[(*cnt)++] = f->arena + f->used;
            f->used += it.len + 1;
        } else if (which == 2) {
            int kind;
            int64_t ts = 0;
            if (lia_slice_eq(it, "last"))
                kind = LIA_TAXII_VER_LAST;
            else if (lia_slice_eq(it, "first"))
                kind = LIA_TAXII_VER_FIRST;
            else if (lia_slice_eq(it, "all"))
                kind = LIA_TAXII_VER_ALL;
            else if (lia__stix_time_parse(it.ptr, it.len, &ts) == LIA_OK)
                kind = LIA_TAXII_VER_TS;
            else {
                *why = "match[version] takes first, last, all or a timestamp";
                return LIA_EPARSE;
            }
            if (f->nver >= LIA_TAXII_MAX_MATCH) {
                *why = "too many match[version] values";
                return LIA_ELIMIT;
            }
            f->ver_kind[f->nver] = kind;
            f->ver_ts[f->nver++] = ts;
        } else {
            if (lia_slice_eq(it, "2.0"))
                f->spec_mask |= LIA_TAXII_SPEC_20;
            else if (lia_slice_eq(it, "2.1"))
                f->spec_mask |= LIA_TAXII_SPEC_21;
            else {
                *why = "match[spec_version] takes 2.0 and/or 2.1";
                return LIA_EPARSE;
            }
        }
    }
    return LIA_OK;
}

int lia__taxii_filter_param(lia_taxii_filter *f, const char *key, const char *value, const char **why)
{
    size_t vn = strlen(value);
    if (strcmp(key, "added_after") == 0) {
        if (lia__stix_time_parse(value, vn, &f->added_after)) {
            *why = "added_after is not a timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)";
            return LIA_EPARSE;
        }
        return LIA_OK;
    }
    if (strcmp(key, "limit") == 0) {
        uint64_t v = 0;
        if (vn == 0 || vn > 9) {
            *why = "limit must be a positive integer";
            return LIA_EPARSE;
        }
        for (size_t i = 0; i < vn; i++) {
            if (value[i] < '0' || value[i] > '9') {
                *why = "limit must be a positive integer";
                return LIA_EPARSE;
            }
            v = v * 10 + (uint64_t)(value[i] - '0');
        }
        if (v == 0) {
            *why = "limit must be a positive integer";
            return LIA_EPARSE;
        }
        f->limit = v > LIA_TAXII_PAGE_MAX ? LIA_TAXII_PAGE_MAX : (uint32_t)v;
        return LIA_OK;
    }
    if (strcmp(key, "next") == 0) {
        if (lia__taxii_next_decode(value, vn, &f->next_date, &f->next_seq, &f->next_hash)) {
            *why = "next is not a token this server issued";
            return LIA_EPARSE;
        }
        f->has_next = 1;
        return LIA_OK;
    }
    if (strcmp(key, "match[id]") == 0)
        return each_item(f, value, 0, why);
    if (strcmp(key, "match[type]") == 0)
        return each_item(f, value, 1, why);
    if (strcmp(key, "match[version]") == 0)
        return each_item(f, value, 2, why);
    if (strcmp(key, "match[spec_version]") == 0)
        return each_item(f, value, 3, why);
    return LIA_OK;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t lia__taxii_filter_hash(const lia_taxii_filter *f, const char *scope)
{
    uint64_t h = 14695981039346656037ull;
    h = fnv(h, scope, strlen(scope) + 1);
    h = fnv(h, &f->added_after, sizeof f->added_after);
    h = fnv(h, &f->spec_mask, sizeof f->spec_mask);
    for (int i = 0; i < f->nver; i++) {
        h = fnv(h, &f->ver_kind[i], sizeof f->ver_kind[i]);
        h = fnv(h, &f->ver_ts[i], sizeof f->ver_ts[i]);
    }
    h = fnv(h, "|", 1);
    for (int i = 0; i < f->nids; i++)
        h = fnv(h, f->ids[i], strlen(f->ids[i]) + 1);
    h = fnv(h, "|", 1);
    for (int i = 0; i < f->ntypes; i++)
        h = fnv(h, f->types[i], strlen(f->types[i]) + 1);
    return h;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

void lia__taxii_next_encode(int64_t date_us, int64_t seq, uint64_t hash, char out[LIA_TAXII_NEXT_MAX])
{
    unsigned char bin[25];
    bin[0] = 1; /* token format version */
    put64(bin + 1, (uint64_t)date_us);
    put64(bin + 9, (uint64_t)seq);
    put64(bin + 17, hash);
    sodium_bin2base64(out, LIA_TAXII_NEXT_MAX, bin, sizeof bin, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int lia__taxii_next_decode(const char *s, size_t n, int64_t *date_us, int64_t *seq, uint64_t *hash)
{
    unsigned char bin[32];
    size_t blen = 0;
    const char *end = NULL;
    if (n != 34 ||
        sodium_base642bin(bin, sizeof bin, s, n, NULL, &blen, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != s + n || blen != 25 || bin[0] != 1)
        return LIA_EPARSE;
    int64_t d = (int64_t)get64(bin + 1), q = (int64_t)get64(bin + 9);
    if (q <= 0)
        return LIA_EPARSE;
    *date_us = d;
    *seq = q;
    *hash = get64(bin + 17);
    return LIA_OK;
}

/* ---- TLP ---- */

int lia__tlp_policy_allows(int recipient_ceiling, int object_tlp, int same_org)
{
    /* The TAXII view of the one TLP policy (lia__tlp_check, src/route):
     * the reader is the owning organisation when same_org, otherwise a
     * partner with an agreement (it was granted the collection). */
    lia_recipient r = {same_org ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, "reader", recipient_ceiling, 1};
    if (object_tlp < LIA_TLP_CLEAR || object_tlp > LIA_TLP_RED)
        return 0; /* unknown marking: never */
    return lia__tlp_check(&r, object_tlp, same_org, NULL);
}
