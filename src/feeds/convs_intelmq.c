/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Value conversions named after the ones Shadowserver's report schema uses
 * (the schema was written for IntelMQ's Shadowserver parser). Registered in
 * lia_convs (csvmap.c), so CSV mappings can use them too. Each follows the
 * lia_conv_fn contract: LIA_CONV_ABSENT for a value that means "nothing"
 * (empty, "0", "unknown" ...), LIA_CONV_TEXT / LIA_CONV_JSON with *out, or a
 * negative code with *why when the value is not what the conversion expects
 * (the caller decides: a required column quarantines the row, an optional one
 * keeps the raw text in extra.<column>). */
#include <stdio.h>
#include <stdlib.h>

#include "core/floattext.h"
#include "feeds/csvmap.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

static int time_out(int64_t us, lia_buf *scratch, lia_slice *out, const char **why)
{
    char t[LIA_TIME_TEXT];
    size_t n = lia_time_format(us, t, sizeof t);
    lia_buf_reset(scratch);
    if (lia_buf_append(scratch, t, n)) {
        *why = "out of memory";
        return LIA_ENOMEM;
    }
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

/* "2024-05-01 10:00:00": a time with no zone is UTC (lia_parse_time). An
 * empty timestamp is an error: it is what dates the event. */
int lia__conv_add_utc(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int64_t us;
    if (in.len == 0) {
        *why = "empty timestamp";
        return LIA_EINVAL;
    }
    if (lia_parse_time(in.ptr, in.len, &us, why))
        return LIA_EINVAL;
    return time_out(us, scratch, out, why);
}

int lia__conv_date_utc(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int64_t us;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia_parse_time(in.ptr, in.len, &us, why))
        return LIA_EINVAL;
    return time_out(us, scratch, out, why);
}

static int month_of(const char *p)
{
    static const char m[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if ((p[0] | 32) == (m[3 * i] | 32) && (p[1] | 32) == m[3 * i + 1] && (p[2] | 32) == m[3 * i + 2])
            return i + 1;
    return 0;
}

static int digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* HTTP dates (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT",
 * "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994". */
static int http_date(lia_slice in, int64_t *us)
{
    char iso[32];
    const char *p = in.ptr, *e = in.ptr + in.len, *c;
    int d, mo, y, hh, mm, ss;
    const char *why;
    c = memchr(p, ',', in.len);
    if (c) { /* IMF-fixdate or RFC 850 */
        p = c + 1;
        while (p < e && *p == ' ')
            p++;
        if (e - p < 20 || digits(p, 2, &d))
            return -1;
        if (p[2] == ' ' && e - p >= 24 && p[6] == ' ' && p[11] == ' ') {
            if (!(mo = month_of(p + 3)) || digits(p + 7, 4, &y))
                return -1;
            p += 12;
        } else if (p[2] == '-' && p[6] == '-' && p[9] == ' ') {
            if (!(mo = month_of(p + 3)) || digits(p + 7, 2, &y))
                return -1;
            y += y < 70 ? 2000 : 1900;
            p += 10;
        } else {
            return -1;
        }
    } else { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (in.len != 24 || p[3] != ' ' || p[7] != ' ' || !(mo = month_of(p + 4)))
            return -1;
        if (digits(p + 8 + (p[8] == ' '), p[8] == ' ' ? 1 : 2, &d) || digits(p + 20, 4, &y))
            return -1;
        p += 11;
        e = p + 8;
    }
    if (e - p < 8 || p[2] != ':' || p[5] != ':' || digits(p, 2, &hh) || digits(p + 3, 2, &mm) ||
        digits(p + 6, 2, &ss))
        return -1;
    p += 8;
    while (p < e && *p == ' ')
        p++;
    if (p < e && !((e - p == 3 && memcmp(p, "GMT", 3) == 0) || (e - p == 3 && memcmp(p, "UTC", 3) == 0)))
        return -1;
    /* every part was read as 2 or 4 digits, so it fits; a value that did
     * not would be refused, never parsed cut short */
    int n = snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, hh, mm, ss);
    if (n < 0 || (size_t)n >= sizeof iso)
        return -1;
    return lia_parse_time(iso, (size_t)n, us, &why) ? -1 : 0;
}

/* Any date: RFC 3339 / ISO (no zone = UTC) or an HTTP date. */
int lia__conv_date(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int64_t us;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia_parse_time(in.ptr, in.len, &us, why) == LIA_OK || http_date(in, &us) == 0)
        return time_out(us, scratch, out, why);
    if (in.len == 10 && in.ptr[4] == '-' && in.ptr[7] == '-') { /* a date alone: midnight UTC */
        char t[24];
        snprintf(t, sizeof t, "%.10sT00:00:00Z", in.ptr);
        if (lia_parse_time(t, strlen(t), &us, why) == LIA_OK)
            return time_out(us, scratch, out, why);
    }
    *why = "not a date (ISO 8601 or HTTP date expected)";
    return LIA_EINVAL;
}

/* Shadowserver writes Y/N and enabled/disabled as well as true/false,
 * yes/no, 1/0: all words of lia_parse_bool. */
int lia__conv_bool(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int b;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia_parse_bool(in.ptr, in.len, &b, why))
        return LIA_EINVAL;
    *out = b ? LIA_SLICE("true") : LIA_SLICE("false");
    return LIA_CONV_JSON;
}

/* A canonical decimal integer is already valid JSON: pass it through. */
static int int_json(lia_slice in, int zero_absent, lia_buf *scratch, lia_slice *out, const char **why)
{
    int64_t v;
    int canonical = 1;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia__parse_int(in.ptr, in.len, &v, why))
        return LIA_EINVAL;
    if (zero_absent && v == 0)
        return LIA_CONV_ABSENT;
    if (in.ptr[0] == '+' || (in.len > 1 && in.ptr[0] == '0') ||
        (in.len > 2 && in.ptr[0] == '-' && in.ptr[1] == '0'))
        canonical = 0;
    for (size_t i = 0; canonical && i < in.len; i++)
        if (!((in.ptr[i] >= '0' && in.ptr[i] <= '9') || (i == 0 && in.ptr[i] == '-')))
            canonical = 0;
    if (canonical) {
        *out = in;
        return LIA_CONV_JSON;
    }
    lia_buf_reset(scratch);
    lia_buf_printf(scratch, "%lld", (long long)v);
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_JSON;
}

int lia__conv_int(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    return int_json(in, 0, scratch, out, why);
}

int lia__conv_invalidate_zero(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    return int_json(in, 1, scratch, out, why);
}

int lia__conv_float(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    double d;
    char t[LIA_FLOAT_TEXT_MAX];
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia__parse_float(in.ptr, in.len, &d, why))
        return LIA_EINVAL;
    lia_buf_reset(scratch);
    lia_buf_append(scratch, t, lia__float_json(d, t, sizeof t)); /* stays a JSON real */
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_JSON;
}

/* "", "0" and "unknown" mean "no value". */
int lia__conv_validate_to_none(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    if (in.len == 0 || lia_slice_eq(in, "0") || lia_slice_eq(in, "unknown"))
        return LIA_CONV_ABSENT;
    *out = in;
    return LIA_CONV_TEXT;
}

/* 0.0.0.0 means "no address"; a network is not an address (reports such
 * as the blocklist map the same column to source.network as well, with
 * validate_network, so the value is not lost). */
int lia__conv_validate_ip(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    lia_ip ip;
    if (in.len == 0 || lia_slice_eq(in, "0.0.0.0") || memchr(in.ptr, '/', in.len))
        return LIA_CONV_ABSENT;
    if (lia_parse_ip(in.ptr, in.len, &ip, why))
        return LIA_EINVAL;
    *out = in;
    return LIA_CONV_TEXT;
}

int lia__conv_validate_network(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    lia_ip ip;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (!memchr(in.ptr, '/', in.len)) {
        *why = "an address, not a network (no /prefix)";
        return LIA_EINVAL;
    }
    if (lia_parse_cidr(in.ptr, in.len, &ip, why))
        return LIA_EINVAL;
    *out = in;
    return LIA_CONV_TEXT;
}

int lia__conv_validate_fqdn(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    char t[LIA_MAX_FQDN + 1];
    size_t n;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia_parse_fqdn(in.ptr, in.len, t, sizeof t, &n, why))
        return LIA_EINVAL;
    *out = in;
    return LIA_CONV_TEXT;
}

/* Base64 kept as is; anything else is encoded. */
int lia__conv_force_base64(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)in.ptr;
    size_t i;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia__base64_valid(in.ptr, in.len)) {
        *out = in;
        return LIA_CONV_TEXT;
    }
    lia_buf_reset(scratch);
    if (lia_buf_reserve(scratch, (in.len + 2) / 3 * 4 + 1)) {
        *why = "value too long";
        return LIA_ELIMIT;
    }
    for (i = 0; i + 2 < in.len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {al[v >> 18], al[(v >> 12) & 63], al[(v >> 6) & 63], al[v & 63]};
        lia_buf_append(scratch, q, 4);
    }
    if (i < in.len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < in.len ? (uint32_t)s[i + 1] << 8 : 0);
        char q[4] = {al[v >> 18], al[(v >> 12) & 63], i + 1 < in.len ? al[(v >> 6) & 63] : '=', '='};
        lia_buf_append(scratch, q, 4);
    }
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

static int is_cve(const char *p, size_t n)
{
    size_t i = 4, d;
    if (n < 10 || !((p[0] | 32) == 'c' && (p[1] | 32) == 'v' && (p[2] | 32) == 'e' && p[3] == '-'))
        return 0;
    for (d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        d++;
    if (!d || i >= n || p[i] != '-')
        return 0;
    for (i++, d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        d++;
    return d && i == n;
}

static int cmp_slice(const void *a, const void *b)
{
    const lia_slice *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->ptr, y->ptr, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* "cve-2021-26855;exchange;cve-2021-27065" -> "cve-2021-26855;cve-2021-27065"
 * (sorted, each once); no CVE in the tag = absent. */
int lia__conv_extract_cve(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    lia_slice cves[64];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= in.len; i++) {
        if (i < in.len && in.ptr[i] != ';')
            continue;
        if (is_cve(in.ptr + start, i - start) && n < sizeof cves / sizeof cves[0])
            cves[n++] = (lia_slice){in.ptr + start, i - start};
        start = i + 1;
    }
    if (!n)
        return LIA_CONV_ABSENT;
    qsort(cves, n, sizeof cves[0], cmp_slice);
    lia_buf_reset(scratch);
    for (size_t i = 0; i < n; i++) {
        if (i && cmp_slice(&cves[i], &cves[i - 1]) == 0)
            continue;
        if (scratch->len)
            lia_buf_putc(scratch, ';');
        lia_buf_append(scratch, cves[i].ptr, cves[i].len);
    }
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

/* Accessible-Exchange: the tag "exchange;webshell" means a compromised
 * server, any other tag a vulnerable one. IntelMQ's function gives the type
 * "infected-system" for the latter, which is not an RSIT type of the
 * "vulnerable" taxonomy it sets beside it; we use "vulnerable-system" so that
 * the pair passes lia_event_finish(). */
static int exchange(lia_slice in, lia_slice *out, const char *webshell, const char *other)
{
    *out = lia_slice_from(lia_slice_eq(in, "exchange;webshell") ? webshell : other);
    return LIA_CONV_TEXT;
}

int lia__conv_exchange_taxonomy(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    return exchange(in, out, "intrusions", "vulnerable");
}

int lia__conv_exchange_type(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    return exchange(in, out, "system-compromise", "vulnerable-system");
}

int lia__conv_exchange_identifier(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    return exchange(in, out, "exchange-server-webshell", "vulnerable-exchange-server");
}
