/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Field table and typed-value validators/normalisers (see liaison/field.h).
 *
 * Every parser is a pure function of (s, n): the text is not NUL-terminated,
 * no locale is consulted and nothing is allocated, except that Unicode host
 * names go through libidn2 (which allocates internally) and floats through
 * strtod_l on a bounded copy. Out-parameters are written only on success;
 * *why is set to a static English reason on failure. Thread-safe. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "liaison/error.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_ref.h"
#include "core/field_internal.h"

/* ---- helpers ---- */

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return LIA_EINVAL;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(unsigned char c) { return (unsigned char)((c | 0x20) - 'a') < 26; }
static inline unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
static inline unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

/* ASCII case-insensitive equality of s[0..n) with a lower-case literal. */
static int ieq(const char *s, size_t n, const char *lit, size_t litlen)
{
    if (n != litlen)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}
#define IEQ(s, n, lit) ieq((s), (n), (lit), sizeof(lit) - 1)

/* Unsigned decimal, digits only, at most maxdigits significant digits
 * (leading zeros allowed), value <= max. */
static inline int parse_udec(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    if (n == 0)
        return fail(why, "empty");
    if (max <= UINT32_MAX) {
        /* No division: v <= max < 2^32, so v * 10 + 9 cannot overflow, and
         * v * 10 + d > max is the same test as v > (max - d) / 10 below. */
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned char)s[i] - (unsigned)'0';
            if (d > 9)
                return fail(why, "not a decimal number");
            v = v * 10 + d;
            if (v > max)
                return fail(why, "out of range");
        }
        *out = v;
        return LIA_OK;
    }
    return lia__parse_udec_slow(s, n, max, out, why);
}

/* The general loop (any max), the reference for the one above. */
int lia__parse_udec_slow(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    if (n == 0)
        return fail(why, "empty");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_digit(c))
            return fail(why, "not a decimal number");
        if (v > (max - (uint64_t)(c - '0')) / 10)
            return fail(why, "out of range");
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return LIA_OK;
}

/* Writes the decimal form of v at p; returns its length (<= 20). */
static size_t put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t k = 0, i;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < k; i++)
        p[i] = tmp[k - 1 - i];
    return k;
}

/* Copies len bytes of src to out (size n), truncating, NUL-terminating. */
static size_t put_out(const char *src, size_t len, char *out, size_t n)
{
    if (n == 0)
        return 0;
    if (len > n - 1)
        len = n - 1;
    memcpy(out, src, len);
    out[len] = '\0';
    return len;
}

/* ---- field table ---- */

static const struct field_def {
    const char *name;
    size_t len;
    lia_ftype type;
} fields[LIA_F__COUNT] = {
#define LIA_X_DEF(id, name, type) [id] = {name, sizeof(name) - 1, type},
    LIA_FIELDS(LIA_X_DEF)
#undef LIA_X_DEF
};

const char *lia_field_name(lia_field f)
{
    if ((unsigned)f >= LIA_F__COUNT)
        return NULL;
    return fields[f].name;
}

lia_ftype lia__field_type(lia_field f)
{
    if ((unsigned)f >= LIA_F__COUNT)
        return LIA_T_STRING;
    return fields[f].type;
}

/* LIA_FIELDS is kept in byte order of the names (the unit test checks), so
 * lookup is a binary search. */
int lia_field_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = LIA_F__COUNT;
    if (!name)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct field_def *d = &fields[mid];
        size_t m = len < d->len ? len : d->len;
        int c = memcmp(name, d->name, m);
        if (c == 0)
            c = len < d->len ? -1 : len > d->len ? 1 : 0;
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const char *lia__ftype_name(lia_ftype t)
{
    switch (t) {
    case LIA_T_STRING: return "String";
    case LIA_T_LOWER: return "LowercaseString";
    case LIA_T_UPPER: return "UppercaseString";
    case LIA_T_CC: return "CountryCode";
    case LIA_T_IP: return "IPAddress";
    case LIA_T_CIDR: return "IPNetwork";
    case LIA_T_ASN: return "ASN";
    case LIA_T_PORT: return "Port";
    case LIA_T_INT: return "Integer";
    case LIA_T_FLOAT: return "Float";
    case LIA_T_BOOL: return "Boolean";
    case LIA_T_FQDN: return "FQDN";
    case LIA_T_URL: return "URL";
    case LIA_T_TIME: return "DateTime";
    case LIA_T_TLP: return "TLP";
    case LIA_T_TAXONOMY: return "ClassificationTaxonomy";
    case LIA_T_CLASSTYPE: return "ClassificationType";
    case LIA_T_REGISTRY: return "Registry";
    case LIA_T_ACCURACY: return "Accuracy";
    case LIA_T_BASE64: return "Base64";
    case LIA_T_JSON: return "JSON";
    }
    return NULL;
}

/* ---- IP addresses ---- */

/* Strict dotted quad: four decimal octets 0..255, no leading zeros. */
static int parse_v4(const char *s, size_t n, uint8_t out[4], const char **why)
{
    uint8_t a[4];
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        size_t start;
        unsigned v;
        if (k > 0) {
            if (i >= n)
                return fail(why, "missing octet");
            if (s[i] != '.')
                return fail(why, "invalid character");
            i++;
        }
        if (i >= n)
            return fail(why, "missing octet");
        if (!is_digit((unsigned char)s[i]))
            return fail(why, s[i] == '.' ? "empty octet" : "invalid character");
        start = i;
        v = (unsigned)(s[i++] - '0');
        while (i < n && is_digit((unsigned char)s[i])) {
            if (i - start >= 3)
                return fail(why, "octet > 255");
            v = v * 10 + (unsigned)(s[i++] - '0');
        }
        if (s[start] == '0' && i - start > 1)
            return fail(why, "leading zero");
        if (v > 255)
            return fail(why, "octet > 255");
        a[k] = (uint8_t)v;
    }
    if (i != n)
        return fail(why, s[i] == '.' ? "too many octets" : "invalid character");
    memcpy(out, a, 4);
    return LIA_OK;
}

/* RFC 4291 section 2.2 text form, no zone id. */
static int parse_v6(const char *s, size_t n, uint8_t out[16], const char **why)
{
    uint16_t g[8];
    int ng = 0, dc = -1;
    size_t i = 0;

    if (n == 0)
        return fail(why, "empty");
    if (s[0] == ':') {
        if (n < 2 || s[1] != ':')
            return fail(why, "leading single colon");
        dc = 0;
        i = 2;
    }
    while (i < n) {
        size_t start = i;
        unsigned v = 0;
        int h;
        while (i < n && (h = lia_hexval((unsigned char)s[i])) >= 0) {
            if (i - start >= 4) {
                /* could still be an IPv4 tail such as 1.2.3.4 (never 5 digits) */
                return fail(why, "group has more than 4 hex digits");
            }
            v = (v << 4) | (unsigned)h;
            i++;
        }
        if (i < n && s[i] == '.') {
            uint8_t q[4];
            int rc;
            if (ng > 6)
                return fail(why, "too many groups");
            rc = parse_v4(s + start, n - start, q, why);
            if (rc)
                return rc;
            g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
            g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
            i = n;
            break;
        }
        if (i == start) {
            if (i < n && s[i] == '%')
                return fail(why, "zone id not allowed");
            if (i < n && s[i] == ':')
                return fail(why, dc >= 0 ? "more than one '::'" : "empty group");
            return fail(why, i < n ? "invalid character" : "trailing colon");
        }
        if (ng >= 8)
            return fail(why, "too many groups");
        g[ng++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i] == '%')
            return fail(why, "zone id not allowed");
        if (s[i] != ':')
            return fail(why, "invalid character");
        i++;
        if (i < n && s[i] == ':') {
            if (dc >= 0)
                return fail(why, "more than one '::'");
            dc = ng;
            i++;
        } else if (i == n) {
            return fail(why, "trailing colon");
        }
    }
    if (dc < 0 && ng != 8)
        return fail(why, "too few groups");
    if (dc >= 0 && ng > 7)
        return fail(why, "too many groups");
    {
        uint16_t full[8] = {0};
        int k;
        if (dc < 0) {
            memcpy(full, g, sizeof(full));
        } else {
            for (k = 0; k < dc; k++)
                full[k] = g[k];
            for (k = dc; k < ng; k++)
                full[8 - (ng - k)] = g[k];
        }
        for (k = 0; k < 8; k++) {
            out[2 * k] = (uint8_t)(full[k] >> 8);
            out[2 * k + 1] = (uint8_t)full[k];
        }
    }
    return LIA_OK;
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Parses an address without mapping ::ffff:0:0/96 to IPv4. */
static int parse_ip_raw(const char *s, size_t n, lia_ip *ip, const char **why)
{
    if (n == 0)
        return fail(why, "empty");
    memset(ip, 0, sizeof(*ip));
    if (memchr(s, ':', n)) {
        ip->family = 6;
        ip->prefix = 128;
        return parse_v6(s, n, ip->addr, why);
    }
    ip->family = 4;
    ip->prefix = 32;
    return parse_v4(s, n, ip->addr, why);
}

/* IPv4-mapped IPv6 with prefix >= 96 becomes IPv4. */
static void map_v4(lia_ip *ip)
{
    if (ip->family == 6 && ip->prefix >= 96 && memcmp(ip->addr, v4mapped_prefix, 12) == 0) {
        uint8_t a[4];
        memcpy(a, ip->addr + 12, 4);
        memset(ip->addr, 0, sizeof(ip->addr));
        memcpy(ip->addr, a, 4);
        ip->family = 4;
        ip->prefix = (uint8_t)(ip->prefix - 96);
    }
}

/* Accepts exactly what parse_v4 accepts, in one pass; 0 means "not decided
 * here" (parse_v4 then gives the answer and its reason). */
static inline int v4_fast(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        unsigned v, d;
        if (k > 0) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        if (i >= n || (v = (unsigned char)s[i] - (unsigned)'0') > 9)
            return 0;
        i++;
        if (i < n && (d = (unsigned char)s[i] - (unsigned)'0') <= 9) {
            if (v == 0)
                return 0; /* leading zero */
            v = v * 10 + d;
            i++;
            if (i < n && (d = (unsigned char)s[i] - (unsigned)'0') <= 9) {
                v = v * 10 + d;
                i++;
                if (v > 255)
                    return 0;
            }
        }
        out[k] = (uint8_t)v;
    }
    return i == n;
}

int lia_parse_ip(const char *s, size_t n, lia_ip *out, const char **why)
{
    uint8_t q[4];
    /* Fast path: a well-formed dotted quad (anything else below). */
    if (n >= 7 && n <= 15 && v4_fast(s, n, q)) {
        memset(out, 0, sizeof(*out));
        out->family = 4;
        out->prefix = 32;
        memcpy(out->addr, q, 4);
        return LIA_OK;
    }
    return lia__parse_ip_slow(s, n, out, why);
}

int lia__parse_ip_slow(const char *s, size_t n, lia_ip *out, const char **why)
{
    lia_ip ip;
    int rc;
    /* A short string starting with a digit and holding no ':' is IPv4. */
    if (n >= 7 && n <= 15 && is_digit((unsigned char)s[0]) && !memchr(s, ':', n)) {
        uint8_t a[4];
        rc = parse_v4(s, n, a, why);
        if (rc)
            return rc;
        memset(out, 0, sizeof(*out));
        out->family = 4;
        out->prefix = 32;
        memcpy(out->addr, a, 4);
        return LIA_OK;
    }
    rc = parse_ip_raw(s, n, &ip, why);
    if (rc)
        return rc;
    map_v4(&ip);
    *out = ip;
    return LIA_OK;
}

static void clear_host_bits(lia_ip *ip)
{
    unsigned bytes = ip->family == 4 ? 4 : 16;
    for (unsigned b = 0; b < bytes; b++) {
        unsigned bit = b * 8;
        if (bit >= ip->prefix)
            ip->addr[b] = 0;
        else if (bit + 8 > ip->prefix)
            ip->addr[b] &= (uint8_t)(0xff << (8 - (ip->prefix - bit)));
    }
}

int lia_parse_cidr(const char *s, size_t n, lia_ip *out, const char **why)
{
    lia_ip ip;
    const char *slash;
    size_t alen;
    int rc;

    if (n == 0)
        return fail(why, "empty");
    slash = memchr(s, '/', n);
    alen = slash ? (size_t)(slash - s) : n;
    rc = parse_ip_raw(s, alen, &ip, why);
    if (rc)
        return rc;
    if (slash) {
        const char *p = slash + 1;
        size_t plen = n - alen - 1;
        unsigned max = ip.family == 4 ? 32 : 128, v = 0;
        if (plen == 0)
            return fail(why, "missing prefix length");
        for (size_t i = 0; i < plen; i++)
            if (!is_digit((unsigned char)p[i]))
                return fail(why, "invalid prefix length");
        if (plen > 3)
            return fail(why, "prefix length out of range");
        for (size_t i = 0; i < plen; i++)
            v = v * 10 + (unsigned)(p[i] - '0');
        if (plen > 1 && p[0] == '0')
            return fail(why, "leading zero in prefix length");
        if (v > max)
            return fail(why, "prefix length out of range");
        ip.prefix = (uint8_t)v;
    }
    clear_host_bits(&ip);
    map_v4(&ip);
    *out = ip;
    return LIA_OK;
}

static size_t format_v4(const uint8_t *a, char *p)
{
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            p[k++] = '.';
        k += put_u64(p + k, a[i]);
    }
    return k;
}

/* RFC 5952: lower case, no leading zeros, longest run (>= 2) of zero
 * groups compressed, the first one on a tie. */
static size_t format_v6(const uint8_t *a, char *p)
{
    static const char hx[] = "0123456789abcdef";
    unsigned g[8];
    int best = -1, bestlen = 0, k;
    size_t o = 0;
    for (k = 0; k < 8; k++)
        g[k] = (unsigned)a[2 * k] << 8 | a[2 * k + 1];
    for (k = 0; k < 8;) {
        if (g[k] == 0) {
            int j = k;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - k > bestlen && j - k >= 2) {
                best = k;
                bestlen = j - k;
            }
            k = j;
        } else {
            k++;
        }
    }
    for (k = 0; k < 8; k++) {
        if (k == best) {
            p[o++] = ':';
            p[o++] = ':';
            k += bestlen - 1;
            continue;
        }
        if (k > 0 && k != best + bestlen)
            p[o++] = ':';
        {
            unsigned v = g[k];
            int started = 0;
            for (int sh = 12; sh >= 0; sh -= 4) {
                unsigned d = (v >> sh) & 0xf;
                if (d || started || sh == 0) {
                    p[o++] = hx[d];
                    started = 1;
                }
            }
        }
    }
    return o;
}

size_t lia_ip_format(const lia_ip *ip, int with_prefix, char *out, size_t n)
{
    char tmp[LIA_IP_TEXT];
    size_t k;
    if (ip->family == 4)
        k = format_v4(ip->addr, tmp);
    else if (ip->family == 6)
        k = format_v6(ip->addr, tmp);
    else
        return put_out("", 0, out, n);
    if (with_prefix) {
        tmp[k++] = '/';
        k += put_u64(tmp + k, ip->prefix);
    }
    return put_out(tmp, k, out, n);
}

int lia_ip_in(const lia_ip *net, const lia_ip *ip)
{
    unsigned bits = net->prefix, full, rem;
    if (net->family != ip->family || (net->family != 4 && net->family != 6))
        return 0;
    if (bits > (net->family == 4 ? 32u : 128u))
        return 0;
    full = bits / 8;
    rem = bits % 8;
    if (memcmp(net->addr, ip->addr, full) != 0)
        return 0;
    if (rem) {
        uint8_t mask = (uint8_t)(0xff << (8 - rem));
        if ((net->addr[full] & mask) != (ip->addr[full] & mask))
            return 0;
    }
    return 1;
}

/* ---- numbers ---- */

int lia_parse_asn(const char *s, size_t n, uint32_t *out, const char **why)
{
    uint64_t v;
    int rc;
    if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
        s += 2;
        n -= 2;
    }
    if (n == 0)
        return fail(why, "empty");
    rc = parse_udec(s, n, UINT32_MAX, &v, why);
    if (rc)
        return rc;
    if (v == 0 || v == UINT32_MAX)
        return fail(why, "reserved AS number");
    *out = (uint32_t)v;
    return LIA_OK;
}

int lia__parse_port(const char *s, size_t n, uint16_t *out, const char **why)
{
    uint64_t v;
    int rc = parse_udec(s, n, 65535, &v, why);
    if (rc)
        return rc;
    *out = (uint16_t)v;
    return LIA_OK;
}

int lia_parse_duration(const char *s, size_t n, int64_t *secs, const char **why)
{
    int64_t v = 0, mul = 1;
    if (n && (s[n - 1] == 's' || s[n - 1] == 'm' || s[n - 1] == 'h' || s[n - 1] == 'd')) {
        mul = s[n - 1] == 's' ? 1 : s[n - 1] == 'm' ? 60 : s[n - 1] == 'h' ? 3600 : 86400;
        n--;
    }
    if (n == 0)
        return fail(why, "a duration is a number with s, m, h or d (90s, 15m, 6h, 1d)");
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(why, "a duration is a number with s, m, h or d (90s, 15m, 6h, 1d)");
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)LIA_MAX_DURATION_DAYS * 86400)
            return fail(why, "a duration is at most " LIA_STR(LIA_MAX_DURATION_DAYS) " days");
    }
    v *= mul;
    if (v < 1 || v > (int64_t)LIA_MAX_DURATION_DAYS * 86400)
        return fail(why, v < 1 ? "a duration is at least 1 second"
                               : "a duration is at most " LIA_STR(LIA_MAX_DURATION_DAYS) " days");
    *secs = v;
    return LIA_OK;
}

int lia__parse_int(const char *s, size_t n, int64_t *out, const char **why)
{
    uint64_t v;
    int neg = 0, rc;
    if (n && s[0] == '-') {
        neg = 1;
        s++;
        n--;
    }
    rc = parse_udec(s, n, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v, why);
    if (rc)
        return rc;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return LIA_OK;
}

#define FLOAT_MAX_TEXT 128

int lia__parse_float(const char *s, size_t n, double *out, const char **why)
{
    char buf[FLOAT_MAX_TEXT + 1];
    size_t i = 0, mant = 0;
    locale_t c_loc;
    char *end;
    double d;

    if (n == 0)
        return fail(why, "empty");
    if (n > FLOAT_MAX_TEXT)
        return fail(why, "too long");
    /* [+-]? digits* (. digits*)? ([eE] [+-]? digits+)?, with a digit in the
     * mantissa. This rules out nan, inf, hex floats and spaces up front. */
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < n && is_digit((unsigned char)s[i])) {
        i++;
        mant++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit((unsigned char)s[i])) {
            i++;
            mant++;
        }
    }
    if (mant == 0)
        return fail(why, "not a number");
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t ed = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && is_digit((unsigned char)s[i])) {
            i++;
            ed++;
        }
        if (ed == 0)
            return fail(why, "missing exponent digits");
    }
    if (i != n)
        return fail(why, "not a number");
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* On glibc newlocale("C") returns a static object: no allocation. */
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_loc == (locale_t)0)
        return fail(why, "out of memory");
    d = strtod_l(buf, &end, c_loc);
    freelocale(c_loc);
    if (end != buf + n)
        return fail(why, "not a number");
    if (!isfinite(d))
        return fail(why, "out of range");
    *out = d;
    return LIA_OK;
}

/* The one list of boolean words (settings, CSV mappings, Shadowserver's
 * Y/N and enabled/disabled, feed fields), each pair true then false. */
static const char *const bool_words[][2] = {
    {"true", "false"}, {"yes", "no"}, {"on", "off"}, {"y", "n"}, {"1", "0"}, {"enabled", "disabled"},
};

int lia_parse_bool(const char *s, size_t n, int *out, const char **why)
{
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++)
        for (int v = 0; v < 2; v++)
            if (ieq(s, n, bool_words[i][v], strlen(bool_words[i][v]))) {
                *out = !v;
                return LIA_OK;
            }
    return fail(why, n ? "not a boolean (true/false, yes/no, on/off, y/n, 1/0, enabled/disabled)" : "empty");
}

/* ---- time ---- */

#define US_PER_S INT64_C(1000000)
#define S_PER_DAY INT64_C(86400)
/* 9999-12-31T23:59:59.999999Z */
#define TIME_MAX_US (INT64_C(253402300800) * US_PER_S - 1)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *py, unsigned *pm, unsigned *pd)
{
    int64_t era, doe, yoe, y, doy, mp;
    unsigned m;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *pd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *pm = m;
    *py = y + (m <= 2);
}

static inline int d2(const char *p, unsigned *v)
{
    unsigned a = (unsigned char)p[0] - (unsigned)'0', b = (unsigned char)p[1] - (unsigned)'0';
    if (a > 9 || b > 9)
        return 0;
    *v = a * 10 + b;
    return 1;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dm[m - 1];
}

int lia_parse_time(const char *s, size_t n, int64_t *out_us, const char **why)
{
    unsigned y1, y2, mo, d, h, mi, sec, oh = 0, om = 0;
    int64_t frac = 0, t;
    int sign = 0;
    size_t i;

    if (n < 19)
        return fail(why, n >= 10 && n <= 11 ? "missing time of day" : "too short");
    if (!d2(s, &y1) || !d2(s + 2, &y2) || s[4] != '-' || !d2(s + 5, &mo) || s[7] != '-' ||
        !d2(s + 8, &d))
        return fail(why, "malformed date");
    if (s[10] != 'T' && s[10] != ' ' && s[10] != 't')
        return fail(why, "expected 'T' or space after date");
    if (!d2(s + 11, &h) || s[13] != ':' || !d2(s + 14, &mi) || s[16] != ':' || !d2(s + 17, &sec))
        return fail(why, "malformed time of day");
    y1 = y1 * 100 + y2;
    if (y1 < 1970)
        return fail(why, "year before 1970");
    if (mo < 1 || mo > 12)
        return fail(why, "month out of range");
    if (d < 1 || (d > 28 && d > days_in_month(y1, mo))) /* every month has 28 days */
        return fail(why, "day out of range");
    if (h > 23)
        return fail(why, "hour out of range");
    if (mi > 59)
        return fail(why, "minute out of range");
    if (sec > 59)
        return fail(why, "second out of range");
    i = 19;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        int64_t scale = 100000;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (i - start >= 9)
                return fail(why, "fraction longer than 9 digits");
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return fail(why, "missing fraction digits");
    }
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            sign = s[i] == '-' ? -1 : 1;
            i++;
            if (n - i == 5 && s[i + 2] == ':' && d2(s + i, &oh) && d2(s + i + 3, &om))
                i += 5;
            else if (n - i == 4 && d2(s + i, &oh) && d2(s + i + 2, &om))
                i += 4;
            else
                return fail(why, "malformed zone offset");
            if (oh > 23 || om > 59)
                return fail(why, "zone offset out of range");
        } else {
            return fail(why, "unexpected text after time");
        }
    }
    t = days_from_civil(y1, mo, d) * S_PER_DAY + (int64_t)(h * 3600 + mi * 60 + sec);
    t -= sign * (int64_t)(oh * 3600 + om * 60);
    t = t * US_PER_S + frac;
    if (t < 0)
        return fail(why, "before 1970 in UTC");
    if (t > TIME_MAX_US)
        return fail(why, "after 9999 in UTC");
    *out_us = t;
    return LIA_OK;
}

static char *put_2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t lia_time_format(int64_t us, char *out, size_t n)
{
    char tmp[LIA_TIME_TEXT + 16], *p = tmp;
    int64_t secs = us / US_PER_S, rem = us % US_PER_S, days, sod, y;
    unsigned mo, d;
    if (rem < 0) {
        rem += US_PER_S;
        secs--;
    }
    days = secs / S_PER_DAY;
    sod = secs % S_PER_DAY;
    if (sod < 0) {
        sod += S_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    if (y < 0) {
        *p++ = '-';
        y = -y;
    }
    if (y < 1000) {
        unsigned yy = (unsigned)y;
        p = put_2(p, yy / 100);
        p = put_2(p, yy % 100);
    } else {
        p += put_u64(p, (uint64_t)y);
    }
    *p++ = '-';
    p = put_2(p, mo);
    *p++ = '-';
    p = put_2(p, d);
    *p++ = 'T';
    p = put_2(p, (unsigned)(sod / 3600));
    *p++ = ':';
    p = put_2(p, (unsigned)(sod / 60 % 60));
    *p++ = ':';
    p = put_2(p, (unsigned)(sod % 60));
    if (rem) {
        unsigned r = (unsigned)rem;
        *p++ = '.';
        for (int k = 5; k >= 0; k--) {
            p[k] = (char)('0' + r % 10);
            r /= 10;
        }
        p += 6;
    }
    memcpy(p, "+00:00", 6);
    p += 6;
    return put_out(tmp, (size_t)(p - tmp), out, n);
}

/* ---- labels ---- */

static const char *const tlp_names[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};

int lia_parse_tlp(const char *s, size_t n, int *out, const char **why)
{
    int v;
    if (n >= 4 && IEQ(s, 4, "tlp:")) {
        s += 4;
        n -= 4;
    }
    if (IEQ(s, n, "clear") || IEQ(s, n, "white"))
        v = LIA_TLP_CLEAR;
    else if (IEQ(s, n, "green"))
        v = LIA_TLP_GREEN;
    else if (IEQ(s, n, "amber"))
        v = LIA_TLP_AMBER;
    else if (IEQ(s, n, "amber+strict"))
        v = LIA_TLP_AMBER_STRICT;
    else if (IEQ(s, n, "red"))
        v = LIA_TLP_RED;
    else
        return fail(why, n ? "not a TLP label" : "empty");
    *out = v;
    return LIA_OK;
}

const char *lia_tlp_name(int tlp)
{
    if (tlp < 0 || tlp > LIA_TLP_RED)
        return NULL;
    return tlp_names[tlp];
}

static const char *const registry_names[] = {"AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE"};

int lia__parse_registry(const char *s, size_t n, int *out, const char **why)
{
    int v;
    if (IEQ(s, n, "afrinic"))
        v = LIA_REG_AFRINIC;
    else if (IEQ(s, n, "apnic"))
        v = LIA_REG_APNIC;
    else if (IEQ(s, n, "arin"))
        v = LIA_REG_ARIN;
    else if (IEQ(s, n, "lacnic"))
        v = LIA_REG_LACNIC;
    else if (IEQ(s, n, "ripe") || IEQ(s, n, "ripe ncc") || IEQ(s, n, "ripencc"))
        v = LIA_REG_RIPE;
    else
        return fail(why, n ? "not a regional internet registry" : "empty");
    *out = v;
    return LIA_OK;
}

const char *lia__registry_name(int reg)
{
    if (reg < 0 || reg > LIA_REG_RIPE)
        return NULL;
    return registry_names[reg];
}

/* ISO 3166-1 alpha-2: the 249 officially assigned codes, sorted. */
static const char iso3166_assigned[] =
    "AD" "AE" "AF" "AG" "AI" "AL" "AM" "AO" "AQ" "AR" "AS" "AT" "AU" "AW" "AX" "AZ"
    "BA" "BB" "BD" "BE" "BF" "BG" "BH" "BI" "BJ" "BL" "BM" "BN" "BO" "BQ" "BR" "BS"
    "BT" "BV" "BW" "BY" "BZ"
    "CA" "CC" "CD" "CF" "CG" "CH" "CI" "CK" "CL" "CM" "CN" "CO" "CR" "CU" "CV" "CW"
    "CX" "CY" "CZ"
    "DE" "DJ" "DK" "DM" "DO" "DZ"
    "EC" "EE" "EG" "EH" "ER" "ES" "ET"
    "FI" "FJ" "FK" "FM" "FO" "FR"
    "GA" "GB" "GD" "GE" "GF" "GG" "GH" "GI" "GL" "GM" "GN" "GP" "GQ" "GR" "GS" "GT"
    "GU" "GW" "GY"
    "HK" "HM" "HN" "HR" "HT" "HU"
    "ID" "IE" "IL" "IM" "IN" "IO" "IQ" "IR" "IS" "IT"
    "JE" "JM" "JO" "JP"
    "KE" "KG" "KH" "KI" "KM" "KN" "KP" "KR" "KW" "KY" "KZ"
    "LA" "LB" "LC" "LI" "LK" "LR" "LS" "LT" "LU" "LV" "LY"
    "MA" "MC" "MD" "ME" "MF" "MG" "MH" "MK" "ML" "MM" "MN" "MO" "MP" "MQ" "MR" "MS"
    "MT" "MU" "MV" "MW" "MX" "MY" "MZ"
    "NA" "NC" "NE" "NF" "NG" "NI" "NL" "NO" "NP" "NR" "NU" "NZ"
    "OM"
    "PA" "PE" "PF" "PG" "PH" "PK" "PL" "PM" "PN" "PR" "PS" "PT" "PW" "PY"
    "QA"
    "RE" "RO" "RS" "RU" "RW"
    "SA" "SB" "SC" "SD" "SE" "SG" "SH" "SI" "SJ" "SK" "SL" "SM" "SN" "SO" "SR" "SS"
    "ST" "SV" "SX" "SY" "SZ"
    "TC" "TD" "TF" "TG" "TH" "TJ" "TK" "TL" "TM" "TN" "TO" "TR" "TT" "TV" "TW" "TZ"
    "UA" "UG" "UM" "US" "UY" "UZ"
    "VA" "VC" "VE" "VG" "VI" "VN" "VU"
    "WF" "WS"
    "YE" "YT"
    "ZA" "ZM" "ZW";

/* Exceptionally reserved codes in use (EU, UK, ...), plus MaxMind's AP. */
static const char iso3166_extra[] = "AC" "AP" "CP" "DG" "EA" "EU" "IC" "TA" "UK";

static int cc_in(const char *list, size_t count, char a, char b)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *e = list + 2 * mid;
        int c = (unsigned char)a - (unsigned char)e[0];
        if (c == 0)
            c = (unsigned char)b - (unsigned char)e[1];
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* The same set as one bit per code: bit (b - 'A') of cc_ok[a - 'A'] is set
 * if "ab" is accepted (the two lists above, AA, QM-QZ, XA-XZ and ZZ). A unit
 * test checks the table against the lists for all 676 pairs. */
static const uint32_t cc_ok[26] = {
    0x2dfd97d, 0x36f7bfb, 0x3f2fded, 0x2005650, 0x01e00d5, 0x0025700, 0x15fb9fb,
    0x01a3400, 0x00f781c, 0x000d010, 0x342b1d0, 0x13e0507, 0x3fffcfd, 0x212c975,
    0x0001000, 0x14e3cf1, 0x3fff001, 0x0544010, 0x3ae7fdf, 0x26a7eed, 0x3041441,
    0x0102155, 0x0040020, 0x3ffffff, 0x0080010, 0x2401001,
};

/* 1 if the upper-case pair a, b is accepted, from the lists (for the test). */
int lia__cc_listed(char a, char b)
{
    return cc_in(iso3166_assigned, (sizeof(iso3166_assigned) - 1) / 2, a, b) ||
           cc_in(iso3166_extra, (sizeof(iso3166_extra) - 1) / 2, a, b) || (a == 'A' && b == 'A') ||
           (a == 'Q' && b >= 'M') || a == 'X' || (a == 'Z' && b == 'Z');
}

int lia_parse_cc(const char *s, size_t n, char out[3], const char **why)
{
    char a, b;
    if (n != 2 || !is_alpha((unsigned char)s[0]) || !is_alpha((unsigned char)s[1]))
        return fail(why, "not two ASCII letters");
    a = (char)to_upper((unsigned char)s[0]);
    b = (char)to_upper((unsigned char)s[1]);
    if (!((cc_ok[a - 'A'] >> (b - 'A')) & 1u))
        return fail(why, "not an assigned country code");
    out[0] = a;
    out[1] = b;
    out[2] = '\0';
    return LIA_OK;
}

/* ---- UTF-8, base64 ---- */

int lia__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c;
        while (n - i >= 16) {
            uint64_t w1, w2;
            memcpy(&w1, p + i, 8);
            memcpy(&w2, p + i + 8, 8);
            if ((w1 | w2) & UINT64_C(0x8080808080808080))
                break;
            i += 16;
        }
        if (i >= n)
            break;
        c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c < 0xC2) {
            return 0; /* continuation byte or overlong 2-byte lead */
        } else if (c < 0xE0) {
            if (n - i < 2 || (p[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c < 0xF0) {
            unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (n - i < 3 || p[i + 1] < lo || p[i + 1] > hi || (p[i + 2] & 0xC0) != 0x80)
                return 0;
            i += 3;
        } else if (c < 0xF5) {
            unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (n - i < 4 || p[i + 1] < lo || p[i + 1] > hi || (p[i + 2] & 0xC0) != 0x80 ||
                (p[i + 3] & 0xC0) != 0x80)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

static int b64_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

int lia__base64_valid(const char *s, size_t n)
{
    size_t pad = 0, i;
    if (n % 4 != 0)
        return 0;
    if (n == 0)
        return 1;
    if (s[n - 1] == '=') {
        pad = 1;
        if (s[n - 2] == '=')
            pad = 2;
    }
    for (i = 0; i < n - pad; i++)
        if (!b64_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* ---- host names ---- */

static inline int label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

/* Validates a lower-case ASCII name (no trailing dot). */
static int check_fqdn(const char *s, size_t n, const char **why)
{
    size_t start = 0, i;
    int numeric = 1;
    if (n == 0)
        return fail(why, "empty");
    if (n > LIA_MAX_FQDN)
        return fail(why, "name longer than 253 characters");
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - start;
            if (len == 0)
                return fail(why, "empty label");
            if (len > 63)
                return fail(why, "label longer than 63 characters");
            if (s[start] == '-' || s[i - 1] == '-')
                return fail(why, "label starts or ends with '-'");
            if (i < n)
                numeric = 1;
            start = i + 1;
            continue;
        }
        if (!label_char((unsigned char)s[i]))
            return fail(why, "invalid character in host name");
        if (!is_digit((unsigned char)s[i]))
            numeric = 0;
    }
    if (numeric)
        return fail(why, "all-numeric top-level label");
    return LIA_OK;
}

/* Maximum UTF-8 input that can still map to a <= 253 byte A-label name:
 * every code point becomes at least one output byte. */
#define FQDN_MAX_INPUT (4 * (LIA_MAX_FQDN + 1))

/* Converts one non-ASCII label to its A-label form, appended at buf[*len].
 * lab is valid UTF-8 with no ASCII other than letters, digits and '-'. */
static int idna_label(const char *lab, size_t n, char *buf, size_t cap, size_t *len,
                      const char **why)
{
    char in[FQDN_MAX_INPUT + 1];
    char *res = NULL;
    size_t rl;
    int rc;
    if (n > FQDN_MAX_INPUT)
        return fail(why, "name too long");
    memcpy(in, lab, n);
    in[n] = '\0';
    rc = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&res, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        res = NULL;
        rc = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&res, IDN2_TRANSITIONAL);
    }
    if (rc != IDN2_OK || !res) {
        if (rc == IDN2_MALLOC)
            return fail(why, "out of memory");
        return fail(why, "invalid internationalised label");
    }
    rl = strlen(res);
    if (rl > cap - *len) {
        idn2_free(res);
        return fail(why, "name longer than 253 characters");
    }
    for (size_t i = 0; i < rl; i++)
        buf[*len + i] = (char)to_lower((unsigned char)res[i]);
    *len += rl;
    idn2_free(res);
    return LIA_OK;
}

/* Host name bytes for fqdn_fast: the lower-case form of a label byte
 * (letter, digit, '-', '_'), '.' for the dot, 0 for anything else. */
static const unsigned char fqdn_map[256] = {
    ['-'] = '-', ['.'] = '.', ['_'] = '_',
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
#define LC(c) [c] = c, [c - 32] = c
    LC('a'), LC('b'), LC('c'), LC('d'), LC('e'), LC('f'), LC('g'), LC('h'), LC('i'),
    LC('j'), LC('k'), LC('l'), LC('m'), LC('n'), LC('o'), LC('p'), LC('q'), LC('r'),
    LC('s'), LC('t'), LC('u'), LC('v'), LC('w'), LC('x'), LC('y'), LC('z'),
#undef LC
};

/* One pass over an ASCII name that norm_fqdn_slow would accept: the same
 * output. Returns 0 (nothing decided) on anything else, non-ASCII included,
 * so that every error and every IDNA label goes through the slow path. */
static int fqdn_fast(const char *s, size_t n, char buf[LIA_MAX_FQDN + 1], size_t *outlen)
{
    size_t start = 0, i;
    int numeric = 1;
    if (n == 0 || n > LIA_MAX_FQDN + 1)
        return 0;
    if (s[n - 1] == '.')
        n--;
    if (n == 0 || n > LIA_MAX_FQDN)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = fqdn_map[(unsigned char)s[i]];
        buf[i] = (char)c;
        if (c == '.') {
            if (i == start || i - start > 63 || buf[start] == '-' || buf[i - 1] == '-')
                return 0;
            start = i + 1;
            numeric = 1;
            continue;
        }
        if (!c)
            return 0;
        numeric &= (unsigned char)(c - '0') < 10;
    }
    if (i == start || i - start > 63 || buf[start] == '-' || buf[i - 1] == '-' || numeric)
        return 0;
    buf[n] = '\0';
    *outlen = n;
    return 1;
}

static int norm_fqdn_slow(const char *s, size_t n, char buf[LIA_MAX_FQDN + 1], size_t *outlen,
                          const char **why);

/* Normalises s[0..n) into buf (capacity cap >= LIA_MAX_FQDN + 1). */
static int norm_fqdn(const char *s, size_t n, char buf[LIA_MAX_FQDN + 1], size_t *outlen,
                     const char **why)
{
    if (fqdn_fast(s, n, buf, outlen))
        return LIA_OK;
    return norm_fqdn_slow(s, n, buf, outlen, why);
}

/* The general path (and the reference for fqdn_fast). */
static int norm_fqdn_slow(const char *s, size_t n, char buf[LIA_MAX_FQDN + 1], size_t *outlen,
                          const char **why)
{
    const size_t cap = LIA_MAX_FQDN; /* leaves room for the NUL */
    size_t len = 0, start = 0, i;
    int rc;
    if (n == 0)
        return fail(why, "empty");
    if (n > FQDN_MAX_INPUT)
        return fail(why, "name too long");
    if (s[n - 1] == '.')
        n--;
    if (n == 0)
        return fail(why, "empty label");
    for (i = 0; i <= n; i++) {
        int ascii = 1;
        size_t j;
        if (i < n && s[i] != '.')
            continue;
        for (j = start; j < i; j++) {
            if ((unsigned char)s[j] >= 0x80) {
                ascii = 0;
                break;
            }
        }
        if (i == start)
            return fail(why, "empty label");
        if (start > 0) {
            if (len >= cap)
                return fail(why, "name longer than 253 characters");
            buf[len++] = '.';
        }
        if (ascii) {
            if (i - start > cap - len)
                return fail(why, "name longer than 253 characters");
            for (j = start; j < i; j++) {
                unsigned char c = to_lower((unsigned char)s[j]);
                if (!label_char(c))
                    return fail(why, "invalid character in host name");
                buf[len++] = (char)c;
            }
        } else {
            if (!lia__utf8_valid(s + start, i - start))
                return fail(why, "invalid UTF-8");
            for (j = start; j < i; j++) {
                unsigned char c = (unsigned char)s[j];
                if (c < 0x80 && !is_alpha(c) && !is_digit(c) && c != '-')
                    return fail(why, "invalid character in host name");
            }
            rc = idna_label(s + start, i - start, buf, cap, &len, why);
            if (rc)
                return rc;
        }
        start = i + 1;
    }
    rc = check_fqdn(buf, len, why);
    if (rc)
        return rc;
    buf[len] = '\0';
    *outlen = len;
    return LIA_OK;
}

typedef int (*fqdn_norm_fn)(const char *, size_t, char[LIA_MAX_FQDN + 1], size_t *, const char **);

static int fqdn_out(fqdn_norm_fn norm, const char *s, size_t n, char *out, size_t outn, size_t *outlen,
                    const char **why)
{
    char buf[LIA_MAX_FQDN + 1];
    size_t len;
    int rc = norm(s, n, buf, &len, why);
    if (rc)
        return rc;
    if (outn < len + 1)
        return fail(why, "output buffer too small");
    memcpy(out, buf, len + 1);
    *outlen = len;
    return LIA_OK;
}

int lia__parse_fqdn_slow(const char *s, size_t n, char *out, size_t outn, size_t *outlen,
                         const char **why)
{
    return fqdn_out(norm_fqdn_slow, s, n, out, outn, outlen, why);
}

int lia_parse_fqdn(const char *s, size_t n, char *out, size_t outn, size_t *outlen,
                   const char **why)
{
    return fqdn_out(norm_fqdn, s, n, out, outn, outlen, why);
}

/* ---- URLs ---- */

static inline int scheme_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '.' || c == '-';
}

/* Text kept byte-for-byte: valid UTF-8, no space, no C0/C1 control, no DEL. */
static int check_url_text(const char *s, size_t n, const char **why)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!lia__utf8_valid(s, n))
        return fail(why, "invalid UTF-8");
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= 0x20 || p[i] == 0x7f)
            return fail(why, p[i] == ' ' ? "space in URL" : "control character in URL");
        if (p[i] == 0xC2 && i + 1 < n && p[i + 1] < 0xA0)
            return fail(why, "control character in URL");
    }
    return LIA_OK;
}

struct out {
    char *p;
    size_t len, cap;
};

static int out_put(struct out *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        return 0;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return 1;
}

int lia__parse_url(const char *s, size_t n, char *out, size_t outn, size_t *outlen, const char **why)
{
    char buf[LIA_MAX_URL + 1];
    struct out o;
    size_t i = 0, auth, aend, hstart, hend, k;
    const char *at;
    char host[LIA_MAX_FQDN + 1];
    size_t hlen;
    int rc, port = -1;

    if (n == 0)
        return fail(why, "empty");
    if (n > LIA_MAX_URL)
        return fail(why, "URL too long");
    o.p = buf;
    o.len = 0;
    o.cap = LIA_MAX_URL;

    /* scheme "://" */
    if (!is_alpha((unsigned char)s[0]))
        return fail(why, "missing scheme");
    while (i < n && scheme_char((unsigned char)s[i]))
        i++;
    if (n - i < 3 || memcmp(s + i, "://", 3) != 0)
        return fail(why, "missing scheme");
    auth = i + 3;

    /* authority ends at '/', '?', '#' or the end */
    for (aend = auth; aend < n; aend++)
        if (s[aend] == '/' || s[aend] == '?' || s[aend] == '#')
            break;
    at = NULL;
    for (k = aend; k > auth; k--) {
        if (s[k - 1] == '@') {
            at = s + k - 1;
            break;
        }
    }
    hstart = at ? (size_t)(at - s) + 1 : auth;
    if (at && (rc = check_url_text(s + auth, hstart - auth, why)) != LIA_OK)
        return rc;

    /* host and port */
    if (hstart < aend && s[hstart] == '[') {
        const char *rb = memchr(s + hstart, ']', aend - hstart);
        lia_ip ip;
        if (!rb)
            return fail(why, "missing ']' after IPv6 host");
        hend = (size_t)(rb - s);
        rc = parse_v6(s + hstart + 1, hend - hstart - 1, ip.addr, why);
        if (rc)
            return rc;
        host[0] = '[';
        hlen = 1 + format_v6(ip.addr, host + 1);
        host[hlen++] = ']';
        hend++;
        if (hend < aend && s[hend] != ':')
            return fail(why, "unexpected text after IPv6 host");
    } else {
        size_t lastdot, j;
        int numeric = 1;
        for (hend = aend; hend > hstart; hend--)
            if (s[hend - 1] == ':')
                break;
        if (hend == hstart)
            hend = aend;
        else
            hend--;
        if (hend == hstart)
            return fail(why, "empty host");
        /* Dotted digits: an IPv4 address (strict) rather than a name. */
        lastdot = hend;
        if (s[lastdot - 1] == '.')
            lastdot--;
        for (j = lastdot; j > hstart && s[j - 1] != '.'; j--)
            if (!is_digit((unsigned char)s[j - 1]))
                numeric = 0;
        if (numeric && j < lastdot) {
            uint8_t a[4];
            rc = parse_v4(s + hstart, hend - hstart, a, why);
            if (rc)
                return rc;
            hlen = format_v4(a, host);
        } else {
            rc = norm_fqdn(s + hstart, hend - hstart, host, &hlen, why);
            if (rc)
                return rc;
        }
    }
    if (hend < aend) { /* s[hend] == ':' */
        uint64_t v;
        if (parse_udec(s + hend + 1, aend - hend - 1, 65535, &v, why) != LIA_OK || v == 0)
            return fail(why, "invalid port");
        port = (int)v;
    }
    if ((rc = check_url_text(s + aend, n - aend, why)) != LIA_OK)
        return rc;

    /* assemble (auth <= n <= LIA_MAX_URL) */
    for (k = 0; k < auth; k++)
        o.p[o.len++] = (char)to_lower((unsigned char)s[k]);
    if (!out_put(&o, s + auth, hstart - auth) || !out_put(&o, host, hlen))
        goto small;
    if (port >= 0) {
        char pb[8];
        pb[0] = ':';
        if (!out_put(&o, pb, 1 + put_u64(pb + 1, (uint64_t)port)))
            goto small;
    }
    if (!out_put(&o, s + aend, n - aend))
        goto small;
    if (outn < o.len + 1)
        return fail(why, "output buffer too small");
    memcpy(out, buf, o.len);
    out[o.len] = '\0';
    *outlen = o.len;
    return LIA_OK;
small:
    return fail(why, "URL too long");
}
