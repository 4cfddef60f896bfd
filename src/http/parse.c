/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Pure request parsers of the HTTP server: header framing checks, media
 * types, Authorization, query strings, timestamps. No I/O, no globals.
 * (TAXII's filters, next token and TLP view are in src/taxii/taxii_filter.c.) */
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <stdio.h>

#include "liaison/http.h"
#include "liaison/limits.h"
#include "http/parse.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(lia_slice a, const char *lit)
{
    size_t n = strlen(lit);
    if (a.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

static lia_slice trim(lia_slice s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* RFC 9110 5.6.2: tchar */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int iprefix(lia_slice a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len >= n && ieq((lia_slice){a.ptr, n}, lit);
}

/* The shape of one field line as the parser handed it over: a name that is
 * a token, a value without control characters (HTAB and obs-text allowed).
 * libmicrohttpd keeps "Name : v" as the name "Name " and appends a folded
 * continuation line to the name ("Content-Length:\r\n 35" arrives as
 * "Content-Length35"), so a framing field's name followed by anything is a
 * fold or a misspelling that another parser may read as the field. */
static int check_field(const lia_http_header *f, const char **why)
{
    if (f->name.len == 0) {
        *why = "empty header name";
        return LIA_EPARSE;
    }
    for (size_t k = 0; k < f->name.len; k++)
        if (!is_tchar((unsigned char)f->name.ptr[k])) {
            *why = "header name with a space, control or separator character (whitespace before the "
                   "colon or a folded line)";
            return LIA_EPARSE;
        }
    if ((iprefix(f->name, "content-length") && f->name.len > 14) ||
        (iprefix(f->name, "transfer-encoding") && f->name.len > 17)) {
        *why = "Content-Length or Transfer-Encoding folded over lines or misspelt";
        return LIA_EPARSE;
    }
    for (size_t k = 0; k < f->value.len; k++) {
        unsigned char c = (unsigned char)f->value.ptr[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = c == '\r'   ? "bare CR in a header value"
                   : c == '\n' ? "bare LF in a header value"
                   : c == 0    ? "NUL in a header value"
                               : "control character in a header value";
            return LIA_EPARSE;
        }
    }
    return LIA_OK;
}

int lia__http_check_headers(const lia_http_header *h, size_t n, uint64_t *content_length, const char **why)
{
    size_t ncl = 0, nte = 0, nhost = 0;
    uint64_t cl = UINT64_MAX;
    *content_length = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (check_field(&h[i], why))
            return LIA_EPARSE;
        if (ieq(h[i].name, "content-length")) {
            lia_slice v = trim(h[i].value);
            uint64_t x = 0;
            if (++ncl > 1) {
                *why = "more than one Content-Length";
                return LIA_EPARSE;
            }
            if (v.len == 0 || v.len > 19) {
                *why = "Content-Length is not a decimal number";
                return LIA_EPARSE;
            }
            for (size_t k = 0; k < v.len; k++) {
                if (v.ptr[k] < '0' || v.ptr[k] > '9') {
                    *why = "Content-Length is not a decimal number";
                    return LIA_EPARSE;
                }
                x = x * 10 + (uint64_t)(v.ptr[k] - '0');
            }
            cl = x;
        } else if (ieq(h[i].name, "transfer-encoding")) {
            nte++;
            if (!ieq(trim(h[i].value), "chunked")) {
                *why = "Transfer-Encoding other than chunked";
                return LIA_EPARSE;
            }
        } else if (ieq(h[i].name, "host")) {
            if (++nhost > 1) {
                *why = "more than one Host";
                return LIA_EPARSE;
            }
        }
    }
    if (ncl && nte) {
        *why = "Content-Length together with Transfer-Encoding";
        return LIA_EPARSE;
    }
    if (nte > 1) {
        *why = "more than one Transfer-Encoding";
        return LIA_EPARSE;
    }
    *content_length = cl;
    return LIA_OK;
}

/* One media range "type/sub; p=v; p=v": which media it names (or -2 for
 * any acceptable wildcard), -1 if none of ours. */
static int media_range(lia_slice r, int allow_stix, int strict_version)
{
    size_t i = 0;
    lia_slice type;
    int media = -1, version_ok = !strict_version, q_zero = 0;
    while (i < r.len && r.ptr[i] != ';')
        i++;
    type = trim((lia_slice){r.ptr, i});
    if (ieq(type, "application/taxii+json"))
        media = LIA_MEDIA_TAXII21;
    else if (allow_stix && ieq(type, "application/stix+json"))
        media = LIA_MEDIA_STIX21;
    else if (!strict_version && (ieq(type, "*/*") || ieq(type, "application/*")))
        media = -2;
    else
        return -1;
    while (i < r.len) {
        size_t s = ++i, eq;
        lia_slice name, val;
        while (i < r.len && r.ptr[i] != ';')
            i++;
        lia_slice p = trim((lia_slice){r.ptr + s, i - s});
        for (eq = 0; eq < p.len && p.ptr[eq] != '='; eq++)
            ;
        if (eq == p.len) {
            if (p.len == 0)
                continue;
            return -1;
        }
        name = trim((lia_slice){p.ptr, eq});
        val = trim((lia_slice){p.ptr + eq + 1, p.len - eq - 1});
        if (val.len >= 2 && val.ptr[0] == '"' && val.ptr[val.len - 1] == '"')
            val = (lia_slice){val.ptr + 1, val.len - 2};
        if (ieq(name, "version")) {
            if (media == -2 || !lia_slice_eq(val, "2.1"))
                return -1;
            version_ok = 1;
        } else if (ieq(name, "q")) {
            if (lia_slice_eq(val, "0") || lia_slice_eq(val, "0.0") || lia_slice_eq(val, "0.00") ||
                lia_slice_eq(val, "0.000"))
                q_zero = 1;
        } else if (strict_version) {
            if (!(ieq(name, "charset") && ieq(val, "utf-8")))
                return -1;
        }
    }
    if (!version_ok || q_zero)
        return -1;
    return media;
}

int lia__http_accept(lia_slice accept, int allow_stix)
{
    size_t i = 0;
    if (!accept.ptr || trim(accept).len == 0)
        return LIA_MEDIA_NONE;
    while (i <= accept.len) {
        size_t s = i;
        int in_q = 0;
        while (i < accept.len && (in_q || accept.ptr[i] != ',')) {
            if (accept.ptr[i] == '"')
                in_q = !in_q;
            i++;
        }
        int m = media_range((lia_slice){accept.ptr + s, i - s}, allow_stix, 0);
        if (m == -2)
            return LIA_MEDIA_TAXII21;
        if (m >= 0)
            return m;
        i++;
    }
    return LIA_MEDIA_NONE;
}

int lia__http_content_type(lia_slice ct, int allow_stix)
{
    if (!ct.ptr)
        return LIA_MEDIA_NONE;
    int m = media_range(ct, allow_stix, 1);
    return m >= 0 ? m : LIA_MEDIA_NONE;
}

static int copy_part(char *dst, const char *src, size_t n)
{
    if (n >= LIA_AUTH_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
            return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int lia__http_auth_parse(lia_slice value, lia_http_auth *out, const char **why)
{
    lia_slice v = trim(value);
    size_t sp = 0;
    memset(out, 0, sizeof *out);
    while (sp < v.len && v.ptr[sp] != ' ')
        sp++;
    lia_slice scheme = {v.ptr, sp};
    lia_slice cred = trim((lia_slice){v.ptr + sp, v.len - sp});
    if (cred.len == 0) {
        *why = "Authorization header without credentials";
        return LIA_EPARSE;
    }
    /* "Token" is what token auth of the OASIS TAXII client sends: the same
     * API key as Bearer */
    if (ieq(scheme, "bearer") || ieq(scheme, "token")) {
        if (copy_part(out->secret, cred.ptr, cred.len)) {
            *why = "bearer token too long or not printable";
            return LIA_EPARSE;
        }
        for (size_t i = 0; i < cred.len; i++)
            if (cred.ptr[i] == ' ') {
                *why = "bearer token contains a space";
                return LIA_EPARSE;
            }
        out->kind = LIA_AUTH_BEARER;
        return LIA_OK;
    }
    if (ieq(scheme, "basic")) {
        unsigned char bin[2 * LIA_AUTH_MAX];
        size_t blen = 0;
        const char *end = NULL;
        if (cred.len > 4 * LIA_AUTH_MAX ||
            sodium_base642bin(bin, sizeof bin, cred.ptr, cred.len, NULL, &blen, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != cred.ptr + cred.len) {
            *why = "Basic credentials are not valid base64";
            return LIA_EPARSE;
        }
        size_t colon = 0;
        while (colon < blen && bin[colon] != ':')
            colon++;
        if (colon == blen) {
            *why = "Basic credentials without ':'";
            return LIA_EPARSE;
        }
        if (colon == 0 || copy_part(out->user, (const char *)bin, colon) ||
            copy_part(out->secret, (const char *)bin + colon + 1, blen - colon - 1)) {
            *why = "Basic user or password empty, too long or not printable";
            memset(out, 0, sizeof *out);
            sodium_memzero(bin, sizeof bin);
            return LIA_EPARSE;
        }
        sodium_memzero(bin, sizeof bin);
        out->kind = LIA_AUTH_BASIC;
        return LIA_OK;
    }
    *why = "unknown Authorization scheme (Basic, Bearer or Token)";
    return LIA_EPARSE;
}

int lia__http_url_decode(const char *s, size_t n, char *out, size_t outn, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return LIA_EPARSE;
            hi = lia_hexval((unsigned char)s[i + 1]);
            lo = lia_hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return LIA_EPARSE;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0)
            return LIA_EPARSE;
        if (o + 1 >= outn)
            return LIA_ELIMIT;
        out[o++] = (char)c;
    }
    if (outn == 0)
        return LIA_ELIMIT;
    out[o] = '\0';
    *outlen = o;
    return LIA_OK;
}

int lia__http_query_each(const char *qs, size_t n, lia_http_param_cb cb, void *ud, const char **why)
{
    char key[256], val[LIA_TAXII_MATCH_BYTES];
    size_t i = 0, count = 0;
    while (i < n) {
        size_t s = i, eq = SIZE_MAX, kl, vl;
        int rc;
        while (i < n && qs[i] != '&') {
            if (qs[i] == '=' && eq == SIZE_MAX)
                eq = i;
            i++;
        }
        if (i == s) {
            i++;
            continue;
        }
        if (++count > LIA_HTTP_MAX_PARAMS) {
            *why = "too many query parameters";
            return LIA_ELIMIT;
        }
        if (eq == SIZE_MAX)
            eq = i;
        rc = lia__http_url_decode(qs + s, eq - s, key, sizeof key, &kl);
        if (rc == LIA_OK)
            rc = lia__http_url_decode(qs + eq + (eq < i), i - eq - (eq < i), val, sizeof val, &vl);
        if (rc) {
            *why = rc == LIA_ELIMIT ? "query parameter too long" : "bad %-escape in query";
            return rc;
        }
        if ((rc = cb(ud, key, val)))
            return rc;
        i++;
    }
    return LIA_OK;
}

/* ---- timestamps ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int lia__stix_time_parse(const char *s, size_t n, int64_t *out_us)
{
    unsigned y, mo, d, h, mi, se, frac = 0;
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || (s[n - 1] != 'Z' && s[n - 1] != 'z'))
        return LIA_EPARSE;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
        digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return LIA_EPARSE;
    if (n > 20) {
        size_t fl = n - 21;
        if (s[19] != '.' || fl == 0 || fl > 9)
            return LIA_EPARSE;
        for (size_t i = 0; i < 6; i++) {
            unsigned dg = 0;
            if (i < fl) {
                if (s[20 + i] < '0' || s[20 + i] > '9')
                    return LIA_EPARSE;
                dg = (unsigned)(s[20 + i] - '0');
            }
            frac = frac * 10 + dg;
        }
        for (size_t i = 6; i < fl; i++)
            if (s[20 + i] < '0' || s[20 + i] > '9')
                return LIA_EPARSE;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return LIA_EPARSE;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return LIA_EPARSE;
    int64_t days = days_from_civil((int64_t)y, mo, d);
    *out_us = ((days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)se) * 1000000) + (int64_t)frac;
    return LIA_OK;
}

/* Fixed-width decimal digits of v at p. */
static void put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

void lia__stix_time_format(int64_t us, char out[32])
{
    /* RFC 3339 has four-digit years: a time outside 0000..9999 is written
     * as the nearest end of that range (gmtime_r cannot fail inside it) */
    const int64_t min_us = INT64_C(-62167219200) * 1000000;     /* 0000-01-01T00:00:00Z */
    const int64_t max_us = INT64_C(253402300800) * 1000000 - 1; /* 9999-12-31T23:59:59.999999Z */
    if (us < min_us)
        us = min_us;
    if (us > max_us)
        us = max_us;
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    memcpy(out, "0000-00-00T00:00:00.000000Z", 28);
    put_digits(out, (unsigned)(tm.tm_year + 1900), 4);
    put_digits(out + 5, (unsigned)(tm.tm_mon + 1), 2);
    put_digits(out + 8, (unsigned)tm.tm_mday, 2);
    put_digits(out + 11, (unsigned)tm.tm_hour, 2);
    put_digits(out + 14, (unsigned)tm.tm_min, 2);
    put_digits(out + 17, (unsigned)tm.tm_sec, 2);
    put_digits(out + 20, (unsigned)frac, 6);
}
