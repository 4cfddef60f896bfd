/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: every field parser on the input, checking invariants.
 *
 * - a failure sets *why and leaves the out-parameters untouched;
 * - a success formats to NUL-free valid UTF-8 (ASCII where expected) which
 *   parses again to the same value (normalisation is idempotent);
 * - lia__utf8_valid and lia__base64_valid agree with slow reference versions;
 * - each fast path (dotted quad, decimal loop, ASCII host name, country code
 *   bitmap, JSON-safe string test) gives what its general path gives
 *   (src/core/field_ref.h). */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/field_ref.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Reference UTF-8 check: decode each sequence, reject what is not the
 * shortest form of a scalar value <= U+10FFFF. */
static int ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            need = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (n - i - 1 < need)
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

static int ref_b64(const char *s, size_t n)
{
    size_t pad = 0;
    if (n % 4)
        return 0;
    while (pad < n && pad < 2 && s[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

static void check_text(const char *s, size_t len, size_t max, int ascii)
{
    CHECK(len <= max);
    CHECK(strlen(s) == len);
    CHECK(lia__utf8_valid(s, len));
    if (ascii)
        for (size_t i = 0; i < len; i++)
            CHECK((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f);
}

static void fuzz_ip(const char *s, size_t n)
{
    lia_ip ip, back, sentinel;
    const char *why = NULL;
    char txt[LIA_IP_TEXT];
    size_t len;
    int rc;

    memset(&sentinel, 0x5a, sizeof(sentinel));
    ip = sentinel;
    rc = lia_parse_ip(s, n, &ip, &why);
    if (rc != LIA_OK) {
        CHECK(rc == LIA_EINVAL && why != NULL);
        CHECK(memcmp(&ip, &sentinel, sizeof(ip)) == 0);
    } else {
        CHECK(ip.family == 4 || ip.family == 6);
        CHECK(ip.prefix == (ip.family == 4 ? 32 : 128));
        len = lia_ip_format(&ip, 0, txt, sizeof(txt));
        check_text(txt, len, ip.family == 4 ? 15 : 39, 1);
        CHECK(lia_parse_ip(txt, len, &back, NULL) == LIA_OK);
        CHECK(memcmp(&ip, &back, sizeof(ip)) == 0);
        /* canonical text is a fixed point */
        {
            char txt2[LIA_IP_TEXT];
            lia_ip_format(&back, 0, txt2, sizeof(txt2));
            CHECK(strcmp(txt, txt2) == 0);
        }
        /* every address is a host network */
        CHECK(lia_parse_cidr(s, n, &back, NULL) == LIA_OK);
        CHECK(memcmp(&ip, &back, sizeof(ip)) == 0);
        CHECK(lia_ip_in(&ip, &back));
    }

    ip = sentinel;
    why = NULL;
    rc = lia_parse_cidr(s, n, &ip, &why);
    if (rc != LIA_OK) {
        CHECK(rc == LIA_EINVAL && why != NULL);
        CHECK(memcmp(&ip, &sentinel, sizeof(ip)) == 0);
    } else {
        CHECK(ip.family == 4 || ip.family == 6);
        CHECK(ip.prefix <= (ip.family == 4 ? 32 : 128));
        len = lia_ip_format(&ip, 1, txt, sizeof(txt));
        check_text(txt, len, LIA_IP_TEXT - 1, 1);
        CHECK(lia_parse_cidr(txt, len, &back, NULL) == LIA_OK);
        CHECK(memcmp(&ip, &back, sizeof(ip)) == 0);
        CHECK(lia_ip_in(&ip, &back));
    }
}

static void fuzz_numbers(const char *s, size_t n)
{
    char txt[64];
    const char *why = NULL;
    int rc, len;

    {
        uint32_t v = 7, w;
        rc = lia_parse_asn(s, n, &v, &why);
        if (rc) {
            CHECK(why && v == 7);
        } else {
            CHECK(v >= 1 && v <= 4294967294u);
            len = snprintf(txt, sizeof(txt), "%" PRIu32, v);
            CHECK(lia_parse_asn(txt, (size_t)len, &w, NULL) == LIA_OK && w == v);
        }
    }
    {
        uint16_t v = 7, w;
        why = NULL;
        rc = lia__parse_port(s, n, &v, &why);
        if (rc) {
            CHECK(why && v == 7);
        } else {
            len = snprintf(txt, sizeof(txt), "%u", (unsigned)v);
            CHECK(lia__parse_port(txt, (size_t)len, &w, NULL) == LIA_OK && w == v);
        }
    }
    {
        int64_t v = 7, w;
        why = NULL;
        rc = lia__parse_int(s, n, &v, &why);
        if (rc) {
            CHECK(why && v == 7);
        } else {
            len = snprintf(txt, sizeof(txt), "%" PRId64, v);
            CHECK(lia__parse_int(txt, (size_t)len, &w, NULL) == LIA_OK && w == v);
        }
    }
    {
        double v = 7, w;
        why = NULL;
        rc = lia__parse_float(s, n, &v, &why);
        if (rc) {
            CHECK(why && v == 7);
        } else {
            CHECK(v - v == 0); /* finite */
            len = snprintf(txt, sizeof(txt), "%.17g", v);
            CHECK(lia__parse_float(txt, (size_t)len, &w, NULL) == LIA_OK && w == v);
        }
    }
    {
        int v = 7, w;
        why = NULL;
        rc = lia_parse_bool(s, n, &v, &why);
        if (rc) {
            CHECK(why && v == 7);
        } else {
            CHECK(v == 0 || v == 1);
            CHECK(lia_parse_bool(v ? "true" : "false", v ? 4 : 5, &w, NULL) == LIA_OK && w == v);
        }
    }
}

static void fuzz_time(const char *s, size_t n)
{
    int64_t v = 7, w;
    const char *why = NULL;
    char txt[LIA_TIME_TEXT];
    size_t len;
    int rc = lia_parse_time(s, n, &v, &why);
    if (rc) {
        CHECK(why && v == 7);
        return;
    }
    CHECK(v >= 0);
    len = lia_time_format(v, txt, sizeof(txt));
    CHECK(len == 25 || len == 32);
    check_text(txt, len, LIA_TIME_TEXT - 1, 1);
    CHECK(lia_parse_time(txt, len, &w, NULL) == LIA_OK && w == v);
}

static void fuzz_labels(const char *s, size_t n)
{
    const char *why = NULL, *name;
    int v = 7, w, rc;
    char cc[3] = "zz", cc2[3];

    rc = lia_parse_tlp(s, n, &v, &why);
    if (rc) {
        CHECK(why && v == 7);
    } else {
        name = lia_tlp_name(v);
        CHECK(name != NULL);
        CHECK(lia_parse_tlp(name, strlen(name), &w, NULL) == LIA_OK && w == v);
    }
    why = NULL;
    v = 7;
    rc = lia__parse_registry(s, n, &v, &why);
    if (rc) {
        CHECK(why && v == 7);
    } else {
        name = lia__registry_name(v);
        CHECK(name != NULL);
        CHECK(lia__parse_registry(name, strlen(name), &w, NULL) == LIA_OK && w == v);
    }
    why = NULL;
    rc = lia_parse_cc(s, n, cc, &why);
    if (rc) {
        CHECK(why && strcmp(cc, "zz") == 0);
    } else {
        CHECK(cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == '\0');
        CHECK(lia_parse_cc(cc, 2, cc2, NULL) == LIA_OK && memcmp(cc, cc2, 3) == 0);
    }
    /* field lookup never crashes and is consistent */
    rc = lia_field_lookup(s, n);
    if (rc >= 0) {
        name = lia_field_name((lia_field)rc);
        CHECK(name && strlen(name) == n && memcmp(name, s, n) == 0);
    }
}

static void fuzz_names(const char *s, size_t n)
{
    static char out[LIA_MAX_URL + LIA_MAX_FQDN + 64], again[LIA_MAX_URL + LIA_MAX_FQDN + 64];
    const char *why = NULL;
    size_t len = 7, len2;
    int rc;

    memcpy(out, "keep", 5);
    rc = lia_parse_fqdn(s, n, out, LIA_MAX_FQDN + 1, &len, &why);
    if (rc) {
        CHECK(why && len == 7 && strcmp(out, "keep") == 0);
    } else {
        check_text(out, len, LIA_MAX_FQDN, 1);
        CHECK(out[len - 1] != '.');
        CHECK(lia_parse_fqdn(out, len, again, LIA_MAX_FQDN + 1, &len2, NULL) == LIA_OK);
        CHECK(len2 == len && memcmp(out, again, len) == 0);
    }

    why = NULL;
    len = 7;
    memcpy(out, "keep", 5);
    rc = lia__parse_url(s, n, out, sizeof(out), &len, &why);
    if (rc) {
        CHECK(why && len == 7 && strcmp(out, "keep") == 0);
    } else {
        check_text(out, len, LIA_MAX_URL, 0);
        for (size_t i = 0; i < len; i++)
            CHECK((unsigned char)out[i] > 0x20 && (unsigned char)out[i] != 0x7f);
        CHECK(memmem(out, len, "://", 3) != NULL);
        rc = lia__parse_url(out, len, again, sizeof(again), &len2, &why);
        if (rc)
            fprintf(stderr, "reparse of \"%s\" failed: %s\n", out, why);
        CHECK(rc == LIA_OK);
        CHECK(len2 == len && memcmp(out, again, len) == 0);
    }
}

static int same_why(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static void fuzz_fast_paths(const char *s, size_t n)
{
    {
        lia_ip a, b;
        const char *wa = NULL, *wb = NULL;
        memset(&a, 0x5a, sizeof a);
        memset(&b, 0x5a, sizeof b);
        CHECK(lia_parse_ip(s, n, &a, &wa) == lia__parse_ip_slow(s, n, &b, &wb));
        CHECK(same_why(wa, wb) && memcmp(&a, &b, sizeof a) == 0);
    }
    {
        uint64_t ref = 7;
        uint16_t port = 7;
        const char *wa = NULL, *wb = NULL;
        int ra = lia__parse_port(s, n, &port, &wa), rb = lia__parse_udec_slow(s, n, 65535, &ref, &wb);
        CHECK(ra == rb && same_why(wa, wb));
        CHECK(ra ? port == 7 : port == ref);
    }
    {
        static char a[LIA_MAX_FQDN + 1], b[LIA_MAX_FQDN + 1];
        size_t la = 7, lb = 7;
        const char *wa = NULL, *wb = NULL;
        memcpy(a, "keep", 5);
        memcpy(b, "keep", 5);
        CHECK(lia_parse_fqdn(s, n, a, sizeof a, &la, &wa) == lia__parse_fqdn_slow(s, n, b, sizeof b, &lb, &wb));
        CHECK(same_why(wa, wb) && la == lb && strcmp(a, b) == 0);
    }
    if (n >= 2) {
        char cc[3];
        int ua = s[0] & ~0x20, ub = s[1] & ~0x20;
        if (ua >= 'A' && ua <= 'Z' && ub >= 'A' && ub <= 'Z')
            CHECK((lia_parse_cc(s, 2, cc, NULL) == LIA_OK) == lia__cc_listed((char)ua, (char)ub));
    }
    {
        int plain = 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
                plain = 0;
        }
        CHECK(lia__plain_ascii(s, n) == plain);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so that reads past the end are caught by ASan */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    if (size)
        memcpy(s, data, size);

    CHECK(lia__utf8_valid(s, size) == ref_utf8((const unsigned char *)s, size));
    CHECK(lia__base64_valid(s, size) == ref_b64(s, size));
    fuzz_ip(s, size);
    fuzz_numbers(s, size);
    fuzz_time(s, size);
    fuzz_labels(s, size);
    fuzz_names(s, size);
    fuzz_fast_paths(s, size);

    free(s);
    return 0;
}
