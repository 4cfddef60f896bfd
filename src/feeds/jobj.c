/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A flat JSON object reader (see jobj.h). */
#include <stdint.h>

#include "feeds/jobj.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

void lia_jobj_init(lia_jobj *o)
{
    o->n = 0;
    o->error_col = 0;
    lia_buf_init(&o->scratch, LIA_MAX_ROW * 2);
}

void lia_jobj_free(lia_jobj *o)
{
    lia_buf_free(&o->scratch);
}

typedef struct rd {
    const char *s, *p, *end;
    const char *why;
    int depth;
} rd;

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fail(rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

static int hex4(rd *r, uint32_t *out)
{
    uint32_t v = 0;
    if (r->end - r->p < 4)
        return fail(r, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            v |= (uint32_t)((c | 32) - 'a' + 10);
        else
            return fail(r, "bad \\u escape");
    }
    *out = v;
    return 0;
}

/* A string at r->p (on the opening quote). With b: unescape into b and
 * set *off and *len (offsets: b may move). */
static int string(rd *r, lia_buf *b, size_t *off, size_t *len)
{
    const char *start;
    size_t o = b ? b->len : 0;
    r->p++; /* the quote */
    start = r->p;
    for (;;) {
        const char *q = r->p;
        while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        if (b && q > r->p)
            lia_buf_append(b, r->p, (size_t)(q - r->p));
        r->p = q;
        if (r->p >= r->end)
            return fail(r, "unterminated string");
        if ((unsigned char)*r->p < 0x20)
            return fail(r, "control character in a string");
        if (*r->p == '"') {
            r->p++;
            break;
        }
        /* an escape */
        r->p++;
        if (r->p >= r->end)
            return fail(r, "unterminated string");
        {
            char c = *r->p++, e;
            uint32_t cp, lo;
            switch (c) {
            case '"': e = '"'; break;
            case '\\': e = '\\'; break;
            case '/': e = '/'; break;
            case 'b': e = '\b'; break;
            case 'f': e = '\f'; break;
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'u':
                if (hex4(r, &cp))
                    return -1;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
                        return fail(r, "lone surrogate in \\u escape");
                    r->p += 2;
                    if (hex4(r, &lo))
                        return -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(r, "bad surrogate pair in \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(r, "lone surrogate in \\u escape");
                }
                if (cp == 0)
                    return fail(r, "NUL character in a string");
                if (b)
                    lia_buf_utf8(b, cp);
                continue;
            default: return fail(r, "bad escape in a string");
            }
            if (b)
                lia_buf_putc(b, e);
        }
    }
    if (!b) {
        if (!lia__utf8_valid(start, (size_t)(r->p - 1 - start)))
            return fail(r, "string is not valid UTF-8");
        return 0;
    }
    if (b->err)
        return fail(r, "string too long");
    *off = o;
    *len = b->len - o;
    if (*len && !lia__utf8_valid(b->ptr + o, *len))
        return fail(r, "string is not valid UTF-8");
    return 0;
}

static int number(rd *r)
{
    const char *p = r->p;
    if (p < r->end && *p == '-')
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return fail(r, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    if (p < r->end && *p == '.') {
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, "bad number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, "bad number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    r->p = p;
    return 0;
}

static int word(rd *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return fail(r, "unexpected character");
    r->p += n;
    return 0;
}

/* Validate any value (skipping it); sets *kind. */
static int value(rd *r, int *kind)
{
    ws(r);
    if (r->p >= r->end)
        return fail(r, "value expected");
    switch (*r->p) {
    case '"': *kind = LIA_J_STRING; return string(r, NULL, NULL, NULL);
    case 't': *kind = LIA_J_BOOL; return word(r, "true");
    case 'f': *kind = LIA_J_BOOL; return word(r, "false");
    case 'n': *kind = LIA_J_NULL; return word(r, "null");
    case '{':
    case '[': {
        char close = *r->p == '{' ? '}' : ']';
        int obj = close == '}', k;
        *kind = obj ? LIA_J_OBJECT : LIA_J_ARRAY;
        if (++r->depth > LIA_MAX_JSON_DEPTH)
            return fail(r, "nested too deeply");
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            r->depth--;
            return 0;
        }
        for (;;) {
            ws(r);
            if (obj) {
                if (r->p >= r->end || *r->p != '"')
                    return fail(r, "member name expected");
                if (string(r, NULL, NULL, NULL))
                    return -1;
                ws(r);
                if (r->p >= r->end || *r->p != ':')
                    return fail(r, "':' expected");
                r->p++;
            }
            if (value(r, &k))
                return -1;
            ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                r->depth--;
                return 0;
            }
            return fail(r, obj ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    default: *kind = LIA_J_NUMBER; return number(r);
    }
}

int lia_jobj_read(lia_jobj *o, const char *s, size_t n, const char **why)
{
    rd r = {s, s, s + n, NULL, 0};
    size_t koff[LIA_JOBJ_MAX_MEMBERS], klen[LIA_JOBJ_MAX_MEMBERS], voff[LIA_JOBJ_MAX_MEMBERS],
        vlen[LIA_JOBJ_MAX_MEMBERS];
    const char *vraw[LIA_JOBJ_MAX_MEMBERS];
    o->n = 0;
    o->error_col = 0;
    lia_buf_reset(&o->scratch);
    ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        int k;
        if (r.p < r.end && value(&r, &k) == 0) {
            *why = "JSON element is not an object";
            return LIA_EINVAL;
        }
        fail(&r, "'{' expected");
        goto bad;
    }
    r.p++;
    ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
        goto end;
    }
    for (;;) {
        const char *v0;
        int kind;
        ws(&r);
        if (r.p >= r.end || *r.p != '"') {
            fail(&r, "member name expected");
            goto bad;
        }
        if (o->n == LIA_JOBJ_MAX_MEMBERS) {
            fail(&r, "more than 256 members");
            goto bad;
        }
        if (string(&r, &o->scratch, &koff[o->n], &klen[o->n]))
            goto bad;
        ws(&r);
        if (r.p >= r.end || *r.p != ':') {
            fail(&r, "':' expected");
            goto bad;
        }
        r.p++;
        ws(&r);
        v0 = r.p;
        if (r.p < r.end && *r.p == '"') {
            kind = LIA_J_STRING;
            if (string(&r, &o->scratch, &voff[o->n], &vlen[o->n]))
                goto bad;
            vraw[o->n] = NULL;
        } else {
            if (value(&r, &kind))
                goto bad;
            vraw[o->n] = v0;
            vlen[o->n] = (size_t)(r.p - v0);
        }
        o->m[o->n].kind = kind;
        o->n++;
        ws(&r);
        if (r.p < r.end && *r.p == ',') {
            r.p++;
            continue;
        }
        if (r.p < r.end && *r.p == '}') {
            r.p++;
            break;
        }
        fail(&r, "',' or '}' expected");
        goto bad;
    }
end:
    ws(&r);
    if (r.p != r.end) {
        fail(&r, "data after the object");
        goto bad;
    }
    for (size_t i = 0; i < o->n; i++) {               /* the scratch no longer moves */
        const char *base = lia_buf_cstr(&o->scratch); /* "" when nothing was unescaped */
        o->m[i].key = (lia_slice){base + koff[i], klen[i]};
        o->m[i].val = vraw[i] ? (lia_slice){vraw[i], vlen[i]} : (lia_slice){base + voff[i], vlen[i]};
    }
    return LIA_OK;
bad:
    o->n = 0;
    o->error_col = (int)(r.p - s) + 1;
    *why = r.why ? r.why : "invalid JSON";
    return LIA_EPARSE;
}

const lia_jmember *lia_jobj_get(const lia_jobj *o, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = o->n; i-- > 0;)
        if (o->m[i].key.len == kl && memcmp(o->m[i].key.ptr, key, kl) == 0)
            return &o->m[i];
    return NULL;
}

int lia_jobj_add(lia_jobj *o, lia_slice key, lia_slice val)
{
    if (o->n == LIA_JOBJ_MAX_MEMBERS)
        return LIA_ELIMIT;
    o->m[o->n].key = key;
    o->m[o->n].val = val;
    o->m[o->n].kind = LIA_J_STRING;
    o->n++;
    return LIA_OK;
}

lia_slice lia_jarray_first(lia_slice a)
{
    rd r = {a.ptr, a.ptr, a.ptr + a.len, NULL, 0};
    const char *v0;
    int kind;
    ws(&r);
    if (r.p >= r.end || *r.p != '[')
        return LIA_SLICE_NULL;
    r.p++;
    ws(&r);
    v0 = r.p;
    if (r.p >= r.end || *r.p == ']' || value(&r, &kind))
        return LIA_SLICE_NULL;
    return (lia_slice){v0, (size_t)(r.p - v0)};
}

int lia_jarray_next(lia_slice a, size_t *pos, lia_buf *b, lia_jmember *out)
{
    rd r = {a.ptr, a.ptr + *pos, a.ptr + a.len, NULL, 1};
    const char *v0;
    int kind;
    if (*pos > a.len)
        return LIA_EPARSE;
    ws(&r);
    if (*pos == 0) {
        if (r.p >= r.end || *r.p != '[')
            return LIA_EPARSE;
        r.p++;
        ws(&r);
        if (r.p < r.end && *r.p == ']') {
            *pos = a.len;
            return 0;
        }
    } else {
        if (r.p >= r.end || *r.p == ']')
            return 0;
        if (*r.p != ',')
            return LIA_EPARSE;
        r.p++;
        ws(&r);
    }
    v0 = r.p;
    if (r.p < r.end && *r.p == '"') {
        size_t off, len;
        lia_buf_reset(b);
        if (string(&r, b, &off, &len))
            return LIA_EPARSE;
        out->kind = LIA_J_STRING;
        out->val = (lia_slice){lia_buf_cstr(b) + off, len};
    } else {
        if (value(&r, &kind))
            return LIA_EPARSE;
        out->kind = kind;
        out->val = (lia_slice){v0, (size_t)(r.p - v0)};
    }
    out->key = LIA_SLICE_NULL;
    ws(&r);
    if (r.p >= r.end || (*r.p != ',' && *r.p != ']'))
        return LIA_EPARSE;
    *pos = (size_t)(r.p - a.ptr);
    return 1;
}
