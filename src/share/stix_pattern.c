/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A reader for the simple subset of STIX 2.1 patterns that maps to events:
 * observation expressions "[path = literal (AND|OR path = literal)*]" joined
 * by AND/OR, with string and integer literals. Anything else (other
 * operators, qualifiers, parentheses, binary/hex literals) is reported as
 * unsupported with the offending text, never guessed at. */
#include <string.h>

#include "liaison/limits.h"
#include "share/stix_pattern.h"

typedef struct cur {
    const char *p, *e;
} cur;

static void ws(cur *c)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int kw(cur *c, const char *k)
{
    size_t n = strlen(k);
    if ((size_t)(c->e - c->p) >= n && memcmp(c->p, k, n) == 0 &&
        ((size_t)(c->e - c->p) == n || c->p[n] == ' ' || c->p[n] == '[' || c->p[n] == '\t' ||
         c->p[n] == '(' || c->p[n] == '\n' || c->p[n] == '\r')) {
        c->p += n;
        return 1;
    }
    return 0;
}

static int fail(lia_stix_pattern *out, const char *why, const cur *c)
{
    out->why = why;
    out->at = c->p;
    return LIA_EUNSUPPORTED;
}

static int path_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == ':' || ch == '[' || ch == ']' || ch == '*' ||
           ch == '\'';
}

static int comparison(cur *c, lia_stix_pattern *out)
{
    lia_stix_term *t;
    const char *ps;
    int inq = 0;
    if (out->n == LIA_MAX_PATTERN_TERMS)
        return fail(out, "too many comparisons", c);
    t = &out->t[out->n];
    memset(t, 0, sizeof *t);
    ws(c);
    ps = c->p;
    /* object path; quoted keys like hashes.'SHA-256' are kept verbatim */
    while (c->p < c->e && (inq || path_char(*c->p))) {
        if (*c->p == '\'')
            inq = !inq;
        c->p++;
    }
    if (c->p == ps || inq)
        return fail(out, "an object path is expected", c);
    t->path = (lia_slice){ps, (size_t)(c->p - ps)};
    if (!memchr(ps, ':', t->path.len))
        return fail(out, "an object path needs TYPE:PROPERTY", c);
    ws(c);
    if (c->p >= c->e || *c->p != '=')
        return fail(out, "only '=' comparisons are supported", c);
    c->p++;
    ws(c);
    if (c->p < c->e && *c->p == '\'') {
        size_t start = out->vlen;
        c->p++;
        for (;;) {
            if (c->p >= c->e)
                return fail(out, "unterminated string", c);
            char ch = *c->p++;
            if (ch == '\'')
                break;
            if (ch == '\\') {
                if (c->p >= c->e || (*c->p != '\'' && *c->p != '\\'))
                    return fail(out, "bad escape in string", c);
                ch = *c->p++;
            }
            if (out->vlen >= sizeof out->vbuf)
                return fail(out, "string too long", c);
            out->vbuf[out->vlen++] = ch;
        }
        t->is_str = 1;
        t->voff = start;
        t->vlen = out->vlen - start;
    } else {
        const char *s = c->p;
        int64_t v = 0;
        int neg = 0;
        if (c->p < c->e && *c->p == '-')
            neg = 1, c->p++;
        if (c->p >= c->e || *c->p < '0' || *c->p > '9')
            return fail(out, "a string or integer literal is expected", c);
        while (c->p < c->e && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return fail(out, "integer too large", c);
            v = v * 10 + (*c->p++ - '0');
        }
        if (c->p < c->e && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
            return fail(out, "only integer numbers are supported", c);
        (void)s;
        t->ival = neg ? -v : v;
    }
    out->n++;
    return LIA_OK;
}

int lia__stix_pattern_parse(const char *s, size_t n, lia_stix_pattern *out)
{
    cur c = {s, s + n};
    int rc;
    out->n = 0;
    out->vlen = 0;
    out->why = NULL;
    out->at = NULL;
    if (n > LIA_MAX_PATTERN)
        return fail(out, "pattern too long", &c);
    ws(&c);
    for (;;) {
        if (c.p >= c.e || *c.p != '[')
            return fail(out, "an observation expression '[...]' is expected", &c);
        c.p++;
        for (;;) {
            if ((rc = comparison(&c, out)))
                return rc;
            ws(&c);
            if (kw(&c, "AND")) {
                out->t[out->n - 1].and_next = 1;
                continue;
            }
            if (kw(&c, "OR"))
                continue;
            break;
        }
        if (c.p >= c.e || *c.p != ']')
            return fail(out, "']' expected (qualifiers and other operators are not supported)", &c);
        c.p++;
        ws(&c);
        if (c.p == c.e)
            break;
        if (kw(&c, "AND")) {
            out->t[out->n - 1].and_next = 1;
            ws(&c);
            continue;
        }
        if (kw(&c, "OR")) {
            ws(&c);
            continue;
        }
        return fail(out, "qualifiers and FOLLOWEDBY are not supported", &c);
    }
    return LIA_OK;
}
