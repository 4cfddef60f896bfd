/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The harmonised event: typed setters, validation, JSON in and out. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "liaison/event.h"
#include "liaison/limits.h"
#include "core/event_fast.h"
#include "core/field_ref.h"
#include "core/floattext.h"
#include "core/jsonget.h"
#include "core/field_internal.h"

#define PRESENT_SET(ev, f) ((ev)->present[(f) >> 6] |= (uint64_t)1 << ((f) & 63))

const uint8_t lia__ftype[LIA_F__COUNT] = {
#define LIA_X_TYPE(id, name, type) [id] = type,
    LIA_FIELDS(LIA_X_TYPE)
#undef LIA_X_TYPE
};

void lia_event_init(lia_event *ev)
{
    memset(ev->present, 0, sizeof ev->present);
    lia_buf_init(&ev->text, LIA_MAX_EVENT_TEXT);
    ev->extra = NULL;
    ev->nextra = ev->extra_cap = 0;
    ev->id = ev->report_id = 0;
    ev->line = 0;
}

void lia_event_free(lia_event *ev)
{
    lia_buf_free(&ev->text);
    free(ev->extra);
    ev->extra = NULL;
    ev->nextra = ev->extra_cap = 0;
}

void lia_event_reset(lia_event *ev)
{
    memset(ev->present, 0, sizeof ev->present);
    lia_buf_reset(&ev->text);
    ev->nextra = 0;
    ev->id = ev->report_id = 0;
    ev->line = 0;
}

void lia_event_unset(lia_event *ev, lia_field f)
{
    ev->present[f >> 6] &= ~((uint64_t)1 << (f & 63));
}

void lia_event_set_i(lia_event *ev, lia_field f, int64_t v)
{
    ev->v[f].i = v;
    PRESENT_SET(ev, f);
}

void lia_event_set_f(lia_event *ev, lia_field f, double v)
{
    ev->v[f].f = v;
    PRESENT_SET(ev, f);
}

void lia_event_set_ip(lia_event *ev, lia_field f, const lia_ip *ip)
{
    ev->v[f].ip = *ip;
    PRESENT_SET(ev, f);
}

static inline int set_str(lia_event *ev, lia_field f, const char *s, size_t n)
{
    size_t off = ev->text.len;
    int rc;
    if (lia__event_str_fast(ev, f, s, n, 0))
        return LIA_OK;
    rc = lia_buf_append(&ev->text, s, n);
    if (rc) {
        ev->text.err = 0; /* the event stays usable; the caller reports */
        return rc;
    }
    ev->v[f].s.off = (uint32_t)off;
    ev->v[f].s.len = (uint32_t)n;
    PRESENT_SET(ev, f);
    return LIA_OK;
}

int lia_event_set_str(lia_event *ev, lia_field f, const char *s, size_t n) { return set_str(ev, f, s, n); }


int lia_event_copy(lia_event *dst, const lia_event *src, lia_error *err)
{
    for (int w = 0; w < (int)(sizeof src->present / sizeof src->present[0]); w++) {
        uint64_t bits = src->present[w];
        while (bits) {
            int f = w * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
            if (lia__ftype_is_text((lia_ftype)lia__ftype[f])) {
                if (set_str(dst, (lia_field)f, src->text.ptr + src->v[f].s.off, src->v[f].s.len))
                    return lia_error_set(err, LIA_ELIMIT, lia_field_name((lia_field)f), NULL, 0,
                                         "event too large");
            } else {
                dst->v[f] = src->v[f];
                PRESENT_SET(dst, f);
            }
        }
    }
    for (uint32_t i = 0; i < src->nextra; i++) {
        const lia_extra *x = &src->extra[i];
        int rc = lia_event_extra_json(dst, src->text.ptr + x->koff, x->klen, src->text.ptr + x->voff,
                                      x->vlen, err);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

int lia__ftype_is_text(lia_ftype t)
{
    switch (t) {
    case LIA_T_STRING:
    case LIA_T_LOWER:
    case LIA_T_UPPER:
    case LIA_T_CC:
    case LIA_T_FQDN:
    case LIA_T_URL:
    case LIA_T_BASE64:
    case LIA_T_JSON:
        return 1;
    default:
        return 0;
    }
}

lia_slice lia_event_str(const lia_event *ev, lia_field f)
{
    if (!lia_event_has(ev, f))
        return LIA_SLICE_NULL;
    return (lia_slice){ev->text.ptr + ev->v[f].s.off, ev->v[f].s.len};
}

static int bad(lia_error *err, lia_field f, const char *s, size_t n, const char *why)
{
    return lia_error_set(err, LIA_EINVAL, lia_field_name(f), s, n, "%s", why ? why : "invalid");
}

/* 1 if s[0..n) is printable ASCII without '"' and '\\': then it is valid
 * UTF-8, has no NUL, and needs no JSON escaping. Eight bytes at a time. */
int lia__plain_ascii(const char *s, size_t n) { return lia__plain_fast(s, n); }

static int check_text(const char *s, size_t n, size_t max, const char **why)
{
    if (n <= max && lia__plain_fast(s, n))
        return LIA_OK;
    if (n > max) {
        *why = "value too long";
        return LIA_ELIMIT;
    }
    if (memchr(s, '\0', n)) {
        *why = "NUL byte in value";
        return LIA_EINVAL;
    }
    if (!lia__utf8_valid(s, n)) {
        *why = "invalid UTF-8";
        return LIA_EINVAL;
    }
    return LIA_OK;
}

static int set_cased(lia_event *ev, lia_field f, const char *s, size_t n, int upper)
{
    size_t off = ev->text.len;
    int rc;
    if (lia__event_str_fast(ev, f, s, n, upper ? 'u' : 'l'))
        return LIA_OK;
    rc = set_str(ev, f, s, n);
    if (rc)
        return rc;
    char *p = ev->text.ptr + off;
    const unsigned char lo = upper ? 'a' : 'A';
    const char flip = upper ? -32 : 32;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)(p[i] - lo) < 26)
            p[i] = (char)(p[i] + flip);
    return LIA_OK;
}

static int lookup_lower(const char *s, size_t n, int (*lookup)(const char *, size_t))
{
    char tmp[64];
    if (n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++)
        tmp[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    return lookup(tmp, n);
}

int lia_event_set(lia_event *ev, lia_field f, const char *s, size_t n, lia_error *err)
{
    const char *why = NULL;
    int rc = LIA_OK;
    if ((unsigned)f >= LIA_F__COUNT)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "unknown field");
    if (n == 0)
        return bad(err, f, s, n, "empty value");
    switch ((lia_ftype)lia__ftype[f]) {
    case LIA_T_STRING:
        if (lia__event_text_fast(ev, f, LIA_T_STRING, s, n))
            break;
        if ((rc = check_text(s, n, LIA_MAX_STRING, &why)))
            break;
        rc = set_str(ev, f, s, n);
        why = rc ? "event too large" : NULL;
        break;
    case LIA_T_LOWER:
    case LIA_T_UPPER:
        if (!(n <= LIA_MAX_STRING && lia__plain_fast(s, n)) && (rc = check_text(s, n, LIA_MAX_STRING, &why)))
            break;
        rc = set_cased(ev, f, s, n, lia__ftype[f] == LIA_T_UPPER);
        why = rc ? "event too large" : NULL;
        break;
    case LIA_T_CC: {
        char cc[3];
        if ((rc = lia_parse_cc(s, n, cc, &why)) == LIA_OK)
            rc = set_str(ev, f, cc, 2);
        break;
    }
    case LIA_T_IP:
    case LIA_T_CIDR: {
        lia_ip ip;
        rc = lia__ftype[f] == LIA_T_IP ? lia_parse_ip(s, n, &ip, &why)
                                           : lia_parse_cidr(s, n, &ip, &why);
        if (rc == LIA_OK)
            lia_event_set_ip(ev, f, &ip);
        break;
    }
    case LIA_T_ASN: {
        uint32_t asn;
        if ((rc = lia_parse_asn(s, n, &asn, &why)) == LIA_OK)
            lia_event_set_i(ev, f, asn);
        break;
    }
    case LIA_T_PORT: {
        uint16_t port;
        if ((rc = lia__parse_port(s, n, &port, &why)) == LIA_OK)
            lia_event_set_i(ev, f, port);
        break;
    }
    case LIA_T_INT: {
        int64_t v;
        if ((rc = lia__parse_int(s, n, &v, &why)) == LIA_OK)
            lia_event_set_i(ev, f, v);
        break;
    }
    case LIA_T_FLOAT:
    case LIA_T_ACCURACY: {
        double d;
        if ((rc = lia__parse_float(s, n, &d, &why)) == LIA_OK) {
            if (lia__ftype[f] == LIA_T_ACCURACY && (d < 0 || d > 100)) {
                why = "accuracy must be between 0 and 100";
                rc = LIA_EINVAL;
            } else {
                lia_event_set_f(ev, f, d);
            }
        }
        break;
    }
    case LIA_T_BOOL: {
        int b;
        if ((rc = lia_parse_bool(s, n, &b, &why)) == LIA_OK)
            lia_event_set_i(ev, f, b);
        break;
    }
    case LIA_T_TIME: {
        int64_t us;
        if ((rc = lia_parse_time(s, n, &us, &why)) == LIA_OK)
            lia_event_set_i(ev, f, us);
        break;
    }
    case LIA_T_TLP: {
        int t;
        if ((rc = lia_parse_tlp(s, n, &t, &why)) == LIA_OK)
            lia_event_set_i(ev, f, t);
        break;
    }
    case LIA_T_REGISTRY: {
        int r;
        if ((rc = lia__parse_registry(s, n, &r, &why)) == LIA_OK)
            lia_event_set_i(ev, f, r);
        break;
    }
    case LIA_T_TAXONOMY: {
        int id = lookup_lower(s, n, lia_class_taxonomy_lookup);
        if (id < 0) {
            why = "not an RSIT classification.taxonomy";
            rc = LIA_EINVAL;
        } else {
            lia_event_set_i(ev, f, id);
        }
        break;
    }
    case LIA_T_CLASSTYPE: {
        int id = lookup_lower(s, n, lia_class_type_lookup);
        if (id < 0) {
            why = "not an RSIT classification.type";
            rc = LIA_EINVAL;
        } else {
            lia_event_set_i(ev, f, id);
        }
        break;
    }
    case LIA_T_FQDN: {
        char out[LIA_MAX_FQDN + 1];
        size_t len;
        if ((rc = lia_parse_fqdn(s, n, out, sizeof out, &len, &why)) == LIA_OK)
            rc = set_str(ev, f, out, len);
        break;
    }
    case LIA_T_URL: {
        size_t cap = n + LIA_MAX_FQDN + 16, len;
        char *out;
        if (n > LIA_MAX_URL) {
            why = "URL too long";
            rc = LIA_ELIMIT;
            break;
        }
        out = malloc(cap);
        if (!out)
            return lia_error_set(err, LIA_ENOMEM, lia_field_name(f), NULL, 0, "out of memory");
        if ((rc = lia__parse_url(s, n, out, cap, &len, &why)) == LIA_OK)
            rc = lia_event_set_str(ev, f, out, len);
        free(out);
        break;
    }
    case LIA_T_BASE64:
        if (n > LIA_MAX_EVENT_TEXT / 2) {
            why = "value too long";
            rc = LIA_ELIMIT;
        } else if (!lia__base64_valid(s, n)) {
            why = "invalid base64";
            rc = LIA_EINVAL;
        } else {
            rc = lia_event_set_str(ev, f, s, n);
        }
        break;
    case LIA_T_JSON: {
        json_error_t je;
        json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        char *dump;
        if (!j) {
            why = "invalid JSON";
            rc = LIA_EINVAL;
            break;
        }
        dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (!dump)
            return lia_error_set(err, LIA_ENOMEM, lia_field_name(f), NULL, 0, "out of memory");
        rc = lia_event_set_str(ev, f, dump, strlen(dump));
        free(dump);
        break;
    }
    }
    if (rc) {
        if (!why || rc == LIA_ENOMEM)
            why = rc == LIA_ENOMEM ? "out of memory" : rc == LIA_ELIMIT ? "event too large" : "invalid value";
        return lia_error_set(err, rc, lia_field_name(f), s, n, "%s", why);
    }
    return LIA_OK;
}

static int valid_extra_key(const char *k, size_t n)
{
    if (n == 0 || n > LIA_MAX_KEY)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            continue;
        if ((c == '.' || c == '-') && i > 0 && i + 1 < n)
            continue;
        return 0;
    }
    return 1;
}

/* Reserve an extra slot and write a key known valid and distinct; the value
 * follows in ev->text and extra_end() records the entry (or rolls back). */
static int extra_begin_known(lia_event *ev, const char *key, size_t klen, size_t *koff, lia_error *err)
{
    if (ev->nextra == ev->extra_cap) {
        uint32_t ncap = ev->extra_cap ? ev->extra_cap * 2 : 16;
        lia_extra *nx;
        if (ev->extra_cap >= LIA_MAX_EXTRA_KEYS)
            return lia_error_set(err, LIA_ELIMIT, "extra", NULL, 0, "more than %d extra keys",
                                 LIA_MAX_EXTRA_KEYS);
        nx = realloc(ev->extra, ncap * sizeof *nx);
        if (!nx)
            return lia_error_set(err, LIA_ENOMEM, "extra", NULL, 0, "out of memory");
        ev->extra = nx;
        ev->extra_cap = ncap;
    }
    *koff = ev->text.len;
    lia_buf_append(&ev->text, key, klen);
    return LIA_OK;
}

/* The same after checking that KEY is valid and not on the event yet. */
static int extra_begin(lia_event *ev, const char *key, size_t klen, const char *val, size_t vlen,
                       size_t *koff, lia_error *err)
{
    char fname[LIA_MAX_KEY + 8];
    if (!valid_extra_key(key, klen)) {
        snprintf(fname, sizeof fname, "extra.%.*s", (int)(klen > LIA_MAX_KEY ? LIA_MAX_KEY : klen), key);
        return lia_error_set(err, LIA_EINVAL, fname, key, klen,
                             "extra key must be lower-case letters, digits, '_', '.', '-'");
    }
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        if (x->klen == klen && memcmp(ev->text.ptr + x->koff, key, klen) == 0) {
            snprintf(fname, sizeof fname, "extra.%.*s", (int)klen, key);
            return lia_error_set(err, LIA_EINVAL, fname, val, vlen, "duplicate key");
        }
    }
    return extra_begin_known(ev, key, klen, koff, err);
}

static int extra_end(lia_event *ev, size_t koff, size_t klen, size_t voff, lia_error *err)
{
    if (ev->text.err) {
        int oom = ev->text.err == LIA_ENOMEM;
        ev->text.err = 0;
        ev->text.len = koff;
        if (ev->text.ptr)
            ev->text.ptr[koff] = '\0';
        return lia_error_set(err, oom ? LIA_ENOMEM : LIA_ELIMIT, "extra", NULL, 0,
                             oom ? "out of memory" : "event too large");
    }
    ev->extra[ev->nextra++] =
        (lia_extra){(uint32_t)koff, (uint32_t)klen, (uint32_t)voff, (uint32_t)(ev->text.len - voff)};
    return LIA_OK;
}

int lia_event_extra_json(lia_event *ev, const char *key, size_t klen, const char *json, size_t jn,
                         lia_error *err)
{
    size_t koff, voff;
    int rc = extra_begin(ev, key, klen, json, jn, &koff, err);
    if (rc)
        return rc;
    voff = ev->text.len;
    lia_buf_append(&ev->text, json, jn);
    return extra_end(ev, koff, klen, voff, err);
}

int lia_event_extra_str(lia_event *ev, const char *key, size_t klen, const char *s, size_t n,
                        lia_error *err)
{
    const char *why = NULL;
    size_t koff, voff;
    int rc;
    char fname[LIA_MAX_KEY + 8];
    if (check_text(s, n, LIA_MAX_STRING, &why)) {
        snprintf(fname, sizeof fname, "extra.%.*s", (int)(klen > LIA_MAX_KEY ? LIA_MAX_KEY : klen), key);
        return lia_error_set(err, LIA_EINVAL, fname, s, n, "%s", why);
    }
    if ((rc = extra_begin(ev, key, klen, s, n, &koff, err)))
        return rc;
    voff = ev->text.len;
    lia_buf_json_str(&ev->text, s, n);
    return extra_end(ev, koff, klen, voff, err);
}

int lia_event_extra_str_known(lia_event *ev, const char *key, size_t klen, const char *s, size_t n,
                              lia_error *err)
{
    if (lia__event_extra_str_fast(ev, key, klen, s, n))
        return LIA_OK;
    return lia__event_extra_str_known_slow(ev, key, klen, s, n, err);
}

int lia__event_extra_str_known_slow(lia_event *ev, const char *key, size_t klen, const char *s,
                                    size_t n, lia_error *err)
{
    const char *why = NULL;
    size_t koff, voff;
    int rc, plain = n <= LIA_MAX_STRING && lia__plain_fast(s, n);
    char fname[LIA_MAX_KEY + 8];
    if (!plain && check_text(s, n, LIA_MAX_STRING, &why)) {
        snprintf(fname, sizeof fname, "extra.%.*s", (int)(klen > LIA_MAX_KEY ? LIA_MAX_KEY : klen), key);
        return lia_error_set(err, LIA_EINVAL, fname, s, n, "%s", why);
    }
    if ((rc = extra_begin_known(ev, key, klen, &koff, err)))
        return rc;
    voff = ev->text.len;
    if (plain) { /* common case: copy between quotes */
        if (lia_buf_reserve(&ev->text, n + 2) == LIA_OK) {
            char *p = ev->text.ptr + ev->text.len;
            p[0] = '"';
            memcpy(p + 1, s, n);
            p[n + 1] = '"';
            ev->text.len += n + 2;
            ev->text.ptr[ev->text.len] = '\0';
        }
    } else {
        lia_buf_json_str(&ev->text, s, n);
    }
    return extra_end(ev, koff, klen, voff, err);
}

int lia_event_extra_json_known(lia_event *ev, const char *key, size_t klen, const char *json,
                               size_t jn, lia_error *err)
{
    size_t koff, voff;
    if (lia__event_extra_put_fast(ev, key, klen, json, jn, 0))
        return LIA_OK;
    int rc = extra_begin_known(ev, key, klen, &koff, err);
    if (rc)
        return rc;
    voff = ev->text.len;
    lia_buf_append(&ev->text, json, jn);
    return extra_end(ev, koff, klen, voff, err);
}

int lia__extra_key_valid(const char *key, size_t klen)
{
    return valid_extra_key(key, klen);
}

int lia_event_extra_int(lia_event *ev, const char *key, size_t klen, int64_t v, lia_error *err)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return lia_event_extra_json(ev, key, klen, num, (size_t)n, err);
}

int lia_event_set_name(lia_event *ev, const char *name, size_t nlen, const char *s, size_t n,
                       lia_error *err)
{
    int f;
    if (nlen > 6 && memcmp(name, "extra.", 6) == 0)
        return lia_event_extra_str(ev, name + 6, nlen - 6, s, n, err);
    f = lia_field_lookup(name, nlen);
    if (f < 0)
        return lia_error_set(err, LIA_EINVAL, NULL, name, nlen, "unknown field");
    return lia_event_set(ev, (lia_field)f, s, n, err);
}

size_t lia_event_text(const lia_event *ev, lia_field f, char *out, size_t n)
{
    int w = 0;
    if (n == 0)
        return 0;
    out[0] = '\0';
    if (!lia_event_has(ev, f))
        return 0;
    const lia_value *v = &ev->v[f];
    switch (lia__field_type(f)) {
    case LIA_T_IP: return lia_ip_format(&v->ip, 0, out, n);
    case LIA_T_CIDR: return lia_ip_format(&v->ip, 1, out, n);
    case LIA_T_TIME: return lia_time_format(v->i, out, n);
    case LIA_T_ASN:
    case LIA_T_PORT:
    case LIA_T_INT: w = snprintf(out, n, "%lld", (long long)v->i); break;
    case LIA_T_BOOL: w = snprintf(out, n, "%s", v->i ? "true" : "false"); break;
    case LIA_T_FLOAT:
    case LIA_T_ACCURACY: {
        char t[LIA_FLOAT_TEXT_MAX];
        w = (int)lia__float_text(v->f, t, sizeof t);
        memcpy(out, t, (size_t)w < n ? (size_t)w + 1 : n - 1); /* cut like the other types */
        out[n - 1] = '\0';
        break;
    }
    case LIA_T_TLP: w = snprintf(out, n, "%s", lia_tlp_name((int)v->i)); break;
    case LIA_T_REGISTRY: w = snprintf(out, n, "%s", lia__registry_name((int)v->i)); break;
    case LIA_T_TAXONOMY: w = snprintf(out, n, "%s", lia__class_taxonomy_name((int)v->i)); break;
    case LIA_T_CLASSTYPE: w = snprintf(out, n, "%s", lia__class_type_name((int)v->i)); break;
    default: {
        size_t len = v->s.len < n - 1 ? v->s.len : n - 1;
        memcpy(out, ev->text.ptr + v->s.off, len);
        out[len] = '\0';
        return len;
    }
    }
    if (w < 0)
        return 0;
    return (size_t)w < n ? (size_t)w : n - 1;
}

int lia_event_finish(lia_event *ev, lia_error *err)
{
    int any = 0;
    for (size_t i = 0; i < sizeof ev->present / sizeof ev->present[0]; i++)
        any |= ev->present[i] != 0;
    if (!any && ev->nextra == 0)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no field at all");
    if (lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE)) {
        int tax = lia__class_type_taxonomy((int)ev->v[LIA_F_CLASSIFICATION_TYPE].i);
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TAXONOMY)) {
            lia_event_set_i(ev, LIA_F_CLASSIFICATION_TAXONOMY, tax);
        } else if (ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i != tax) {
            const char *tn = lia__class_taxonomy_name((int)ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i);
            return lia_error_set(err, LIA_EINVAL, "classification.taxonomy", tn, strlen(tn),
                                 "classification.type %s belongs to taxonomy %s",
                                 lia__class_type_name((int)ev->v[LIA_F_CLASSIFICATION_TYPE].i),
                                 lia__class_taxonomy_name(tax));
        }
    }
    return LIA_OK;
}

static int is_string_type(lia_ftype t)
{
    switch (t) {
    case LIA_T_ASN:
    case LIA_T_PORT:
    case LIA_T_INT:
    case LIA_T_FLOAT:
    case LIA_T_ACCURACY:
    case LIA_T_BOOL:
    case LIA_T_JSON:
        return 0;
    default:
        return 1;
    }
}

int lia_event_to_json(const lia_event *ev, lia_buf *out)
{
    char tmp[LIA_TIME_TEXT + LIA_IP_TEXT];
    int first = 1;
    lia_buf_putc(out, '{');
    for (int f = 0; f < LIA_F__COUNT; f++) {
        if (!lia_event_has(ev, (lia_field)f))
            continue;
        lia_ftype t = lia__field_type((lia_field)f);
        if (!first)
            lia_buf_putc(out, ',');
        first = 0;
        lia_buf_putc(out, '"');
        lia_buf_puts(out, lia_field_name((lia_field)f));
        lia_buf_append(out, "\":", 2);
        if (t == LIA_T_JSON) {
            lia_slice s = lia_event_str(ev, (lia_field)f);
            lia_buf_append(out, s.ptr, s.len);
        } else if (is_string_type(t)) {
            if (t == LIA_T_IP || t == LIA_T_CIDR || t == LIA_T_TIME || t == LIA_T_TLP ||
                t == LIA_T_REGISTRY || t == LIA_T_TAXONOMY || t == LIA_T_CLASSTYPE) {
                size_t n = lia_event_text(ev, (lia_field)f, tmp, sizeof tmp);
                lia_buf_json_str(out, tmp, n);
            } else {
                lia_slice s = lia_event_str(ev, (lia_field)f);
                lia_buf_json_str(out, s.ptr, s.len);
            }
        } else {
            size_t n = lia_event_text(ev, (lia_field)f, tmp, sizeof tmp);
            lia_buf_append(out, tmp, n);
        }
    }
    /* extras sorted by key, so that equal events serialise equally */
    uint32_t order[LIA_MAX_EXTRA_KEYS];
    for (uint32_t i = 0; i < ev->nextra; i++) {
        uint32_t j = i;
        const lia_extra *x = &ev->extra[i];
        for (; j > 0; j--) {
            const lia_extra *y = &ev->extra[order[j - 1]];
            size_t m = x->klen < y->klen ? x->klen : y->klen;
            int c = memcmp(ev->text.ptr + x->koff, ev->text.ptr + y->koff, m);
            if (c > 0 || (c == 0 && x->klen > y->klen))
                break;
            order[j] = order[j - 1];
        }
        order[j] = i;
    }
    for (uint32_t k = 0; k < ev->nextra; k++) {
        const lia_extra *x = &ev->extra[order[k]];
        if (!first)
            lia_buf_putc(out, ',');
        first = 0;
        lia_buf_append(out, "\"extra.", 7);
        lia_buf_append(out, ev->text.ptr + x->koff, x->klen);
        lia_buf_append(out, "\":", 2);
        lia_buf_append(out, ev->text.ptr + x->voff, x->vlen);
    }
    lia_buf_putc(out, '}');
    return out->err;
}

static int set_from_json(lia_event *ev, const char *key, size_t klen, json_t *v, lia_error *err);

static int extra_from_json(lia_event *ev, const char *key, size_t klen, json_t *v, lia_error *err)
{
    char *dump;
    int rc;
    if (json_is_string(v))
        return lia_event_extra_str(ev, key, klen, json_string_value(v), json_string_length(v), err);
    dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (!dump)
        return lia_error_set(err, LIA_ENOMEM, "extra", NULL, 0, "out of memory");
    rc = lia_event_extra_json(ev, key, klen, dump, strlen(dump), err);
    free(dump);
    return rc;
}

static int set_from_json(lia_event *ev, const char *key, size_t klen, json_t *v, lia_error *err)
{
    char num[64];
    int f, n;
    if (klen > 6 && memcmp(key, "extra.", 6) == 0)
        return extra_from_json(ev, key + 6, klen - 6, v, err);
    if (klen == 5 && memcmp(key, "extra", 5) == 0) {
        const char *k;
        json_t *sub;
        if (!json_is_object(v))
            return lia_error_set(err, LIA_EINVAL, "extra", NULL, 0, "extra must be an object");
        json_object_foreach(v, k, sub)
        {
            int rc = extra_from_json(ev, k, strlen(k), sub, err);
            if (rc)
                return rc;
        }
        return LIA_OK;
    }
    if ((klen == 6 && memcmp(key, "__type", 6) == 0))
        return LIA_OK; /* IntelMQ's message type marker */
    f = lia_field_lookup(key, klen);
    if (f < 0)
        return lia_error_set(err, LIA_EINVAL, NULL, key, klen, "unknown field");
    switch (json_typeof(v)) {
    case JSON_STRING:
        return lia_event_set(ev, (lia_field)f, json_string_value(v), json_string_length(v), err);
    case JSON_INTEGER:
        n = snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return lia_event_set(ev, (lia_field)f, num, (size_t)n, err);
    case JSON_REAL:
        switch (lia__field_type((lia_field)f)) {
        case LIA_T_ASN:
        case LIA_T_PORT:
        case LIA_T_INT:
            return lia_error_set(err, LIA_EINVAL, lia_field_name((lia_field)f), NULL, 0,
                                 "a whole number is expected, not a real");
        default:
            break;
        }
        n = (int)lia__float_text(json_real_value(v), num, sizeof num);
        return lia_event_set(ev, (lia_field)f, num, (size_t)n, err);
    case JSON_TRUE:
    case JSON_FALSE:
        if (lia__field_type((lia_field)f) == LIA_T_BOOL) {
            lia_event_set_i(ev, (lia_field)f, json_is_true(v));
            return LIA_OK;
        }
        return lia_error_set(err, LIA_EINVAL, lia_field_name((lia_field)f), NULL, 0,
                             "boolean given for a %s field", lia__ftype_name(lia__field_type((lia_field)f)));
    case JSON_NULL:
        return LIA_OK; /* absent */
    default:
        if (lia__field_type((lia_field)f) == LIA_T_JSON) {
            char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            int rc;
            if (!dump)
                return lia_error_set(err, LIA_ENOMEM, key, NULL, 0, "out of memory");
            rc = lia_event_set_str(ev, (lia_field)f, dump, strlen(dump));
            free(dump);
            return rc ? lia_error_set(err, rc, key, NULL, 0, "event too large") : LIA_OK;
        }
        return lia_error_set(err, LIA_EINVAL, lia_field_name((lia_field)f), NULL, 0,
                             "object or array given for a %s field",
                             lia__ftype_name(lia__field_type((lia_field)f)));
    }
}

int lia_event_from_json(lia_event *ev, const char *json, size_t n, lia_error *err)
{
    json_error_t je;
    json_t *root, *v;
    const char *key;
    int rc = LIA_OK;
    lia_event_reset(ev);
    root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!root && lia__json_oom(&je))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the event");
    if (!root)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "invalid JSON at column %d: %s",
                             je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "a JSON object is expected");
    }
    json_object_foreach(root, key, v)
    {
        rc = set_from_json(ev, key, strlen(key), v, err);
        if (rc)
            break;
    }
    json_decref(root);
    return rc;
}

int lia__ip_key(const lia_ip *ip, uint8_t key[16])
{
    if (ip->family == 4) {
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, ip->addr, 4);
    } else {
        memcpy(key, ip->addr, 16);
    }
    return 1;
}
