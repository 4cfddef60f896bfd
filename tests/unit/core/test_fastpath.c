/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Differential tests of the parse+normalise fast paths (docs/performance.md,
 * "Ingest pipeline"): each fast path against the general path it shortcuts
 * (src/core/field_ref.h), on tables of edge cases and on a few hundred
 * thousand generated inputs, valid and broken. Both must return the same
 * code, the same reason and the same normalised value. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/event_fast.h"
#include "core/field_ref.h"
#include "feeds/csvmap.h"
#include "liaison/event.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_internal.h"
#include "core/records.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static const char *esc(const char *s, size_t n)
{
    static char b[1024];
    lia_escape(s, n, b, sizeof b);
    return b;
}

static int same_why(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- IPv4 ---- */

static void check_ip(const char *s, size_t n)
{
    lia_ip a, b;
    const char *wa = NULL, *wb = NULL;
    int ra, rb;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    ra = lia_parse_ip(s, n, &a, &wa);
    rb = lia__parse_ip_slow(s, n, &b, &wb);
    if (ra != rb || !same_why(wa, wb) || memcmp(&a, &b, sizeof a) != 0)
        print_message("ip \"%s\": fast %d \"%s\", general %d \"%s\"\n", esc(s, n), ra, wa ? wa : "", rb,
                      wb ? wb : "");
    assert_int_equal(ra, rb);
    assert_true(same_why(wa, wb));
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_ipv4(void **state)
{
    static const char *const rows[] = {"0.0.0.0",
                                       "1.2.3.4",
                                       "255.255.255.255",
                                       "256.1.1.1",
                                       "1.2.3.256",
                                       "01.2.3.4",
                                       "1.02.3.4",
                                       "1.2.3.04",
                                       "1.2.3.00",
                                       "1.2.3.0",
                                       "001.2.3.4",
                                       "1.2.3",
                                       "1.2.3.4.",
                                       "1.2.3.4.5",
                                       ".1.2.3.4",
                                       "1..2.3",
                                       "1.2.3.4 ",
                                       " 1.2.3.4",
                                       "1.2.3.a",
                                       "1.2.3.4a",
                                       "1234.1.1.1",
                                       "1.2.3.1234",
                                       "999.999.999.999",
                                       "192.168.100.200",
                                       "::ffff:1.2.3.4",
                                       "1.2.3.4:80",
                                       "1.2.3.4/32",
                                       "",
                                       "1",
                                       "1.2.3.4\n",
                                       "100.100.100.100",
                                       "99.99.99.99",
                                       "10.0.0.1",
                                       "2001:db8::1"};
    char buf[32];
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_ip(rows[i], strlen(rows[i]));
    /* well-formed quads, and quads with one byte changed, dropped or added */
    for (int i = 0; i < 300000; i++) {
        static const char alpha[] = "0123456789..:/ a";
        int n = snprintf(buf, sizeof buf, "%u.%u.%u.%u", rnd(300), rnd(300), rnd(2) ? rnd(256) : rnd(10),
                         rnd(3) ? rnd(256) : rnd(1200));
        if (rnd(2)) { /* a leading zero */
            size_t at = rnd((uint32_t)n);
            if (at == 0 || buf[at - 1] == '.') {
                memmove(buf + at + 1, buf + at, (size_t)n - at + 1);
                buf[at] = '0';
                n++;
            }
        }
        switch (rnd(4)) {
        case 0: buf[rnd((uint32_t)n)] = alpha[rnd(sizeof alpha - 1)]; break;
        case 1: n -= (int)rnd(3); break;
        case 2:
            if (n < 30) {
                buf[n] = alpha[rnd(sizeof alpha - 1)];
                n++;
            }
            break;
        default: break;
        }
        check_ip(buf, (size_t)(n < 0 ? 0 : n));
    }
}

/* ---- ports and AS numbers: the division-free decimal loop ---- */

static void check_udec(const char *s, size_t n)
{
    uint64_t ref = 7;
    const char *wr = NULL, *wp = NULL;
    uint16_t port = 7;
    int rr = lia__parse_udec_slow(s, n, 65535, &ref, &wr);
    int rp = lia__parse_port(s, n, &port, &wp);
    if (rr != rp || !same_why(wr, wp) || (rr == LIA_OK && ref != port))
        print_message("port \"%s\": %d \"%s\" %u, general %d \"%s\" %" PRIu64 "\n", esc(s, n), rp,
                      wp ? wp : "", (unsigned)port, rr, wr ? wr : "", ref);
    assert_int_equal(rp, rr);
    assert_true(same_why(wp, wr));
    if (rr == LIA_OK)
        assert_int_equal(port, ref);
    else
        assert_int_equal(port, 7);

    /* AS numbers: digits only here, so the general answer is the loop with
     * UINT32_MAX, then 0 and 4294967295 reserved */
    {
        uint32_t asn = 7;
        const char *wa = NULL;
        int ra;
        ref = 7;
        wr = NULL;
        rr = lia__parse_udec_slow(s, n, UINT32_MAX, &ref, &wr);
        if (rr == LIA_OK && (ref == 0 || ref == UINT32_MAX)) {
            rr = LIA_EINVAL;
            wr = "reserved AS number";
        }
        if (n >= 2 && (s[0] == 'A' || s[0] == 'a'))
            return; /* "AS" prefix: not this loop's business */
        ra = lia_parse_asn(s, n, &asn, &wa);
        if (ra != rr || !same_why(wa, wr))
            print_message("asn \"%s\": %d \"%s\", general %d \"%s\"\n", esc(s, n), ra, wa ? wa : "", rr,
                          wr ? wr : "");
        assert_int_equal(ra, rr);
        assert_true(same_why(wa, wr));
        if (rr == LIA_OK)
            assert_int_equal(asn, ref);
    }
}

static void test_udec(void **state)
{
    static const char *const rows[] = {"",
                                       "0",
                                       "00000",
                                       "65535",
                                       "65536",
                                       "065535",
                                       "99999",
                                       "655350",
                                       "4294967294",
                                       "4294967295",
                                       "4294967296",
                                       "18446744073709551615",
                                       "18446744073709551616",
                                       "99999999999999999999999",
                                       "1x",
                                       "x1",
                                       "6553x",
                                       "99999x",
                                       "-1",
                                       "+1",
                                       " 1",
                                       "1 "};
    char buf[40];
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_udec(rows[i], strlen(rows[i]));
    for (int i = 0; i < 300000; i++) {
        size_t n = rnd(24);
        for (size_t k = 0; k < n; k++)
            buf[k] = rnd(40) ? (char)('0' + rnd(10)) : "x -+/:"[rnd(6)];
        if (n && rnd(4) == 0)
            buf[0] = '0';
        check_udec(buf, n);
    }
}

/* ---- country codes: bitmap against the code lists ---- */

static void test_cc_table(void **state)
{
    (void)state;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char in[2] = {(char)a, (char)b}, out[3] = "zz";
            const char *why = NULL;
            int isa = (a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z');
            int isb = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
            int rc = lia_parse_cc(in, 2, out, &why);
            if (!isa || !isb) {
                assert_int_equal(rc, LIA_EINVAL);
                assert_string_equal(why, "not two ASCII letters");
                continue;
            }
            char ua = (char)(a & ~0x20), ub = (char)(b & ~0x20);
            int listed = lia__cc_listed(ua, ub);
            if (listed != (rc == LIA_OK))
                print_message("cc %c%c: parse %d, lists say %d\n", a, b, rc, listed);
            assert_int_equal(rc == LIA_OK, listed);
            if (rc == LIA_OK) {
                assert_int_equal(out[0], ua);
                assert_int_equal(out[1], ub);
                assert_int_equal(out[2], '\0');
            } else {
                assert_string_equal(why, "not an assigned country code");
                assert_string_equal(out, "zz");
            }
        }
    }
}

/* ---- host names: the one-pass ASCII path ---- */

static void check_fqdn(const char *s, size_t n)
{
    char a[LIA_MAX_FQDN + 1] = "keep", b[LIA_MAX_FQDN + 1] = "keep";
    size_t la = 7, lb = 7;
    const char *wa = NULL, *wb = NULL;
    int ra = lia_parse_fqdn(s, n, a, sizeof a, &la, &wa);
    int rb = lia__parse_fqdn_slow(s, n, b, sizeof b, &lb, &wb);
    if (ra != rb || !same_why(wa, wb) || la != lb || strcmp(a, b) != 0)
        print_message("fqdn \"%s\": fast %d \"%s\" \"%s\", general %d \"%s\" \"%s\"\n", esc(s, n), ra,
                      wa ? wa : "", a, rb, wb ? wb : "", b);
    assert_int_equal(ra, rb);
    assert_true(same_why(wa, wb));
    assert_int_equal(la, lb);
    assert_string_equal(a, b);
}

static void test_fqdn(void **state)
{
    static const char *const rows[] = {"example.com",
                                       "Example.COM.",
                                       "a",
                                       "1",
                                       "1.2",
                                       "a.1",
                                       "1.a",
                                       "-a.com",
                                       "a-.com",
                                       "a.-com",
                                       "a..com",
                                       ".a.com",
                                       "a.com..",
                                       ".",
                                       "..",
                                       "",
                                       "a_b.example",
                                       "xn--bcher-kva.example",
                                       "b\xc3\xbc"
                                       "cher.example",
                                       "a b.com",
                                       "a/b.com",
                                       "a.com.",
                                       "A.B.C.D.E.F",
                                       "123.456.789.0a",
                                       "host.example.net",
                                       "*.example.com",
                                       "a\x80.com",
                                       "0.0.0.0",
                                       "a.b-",
                                       "a.-"};
    char buf[300];
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_fqdn(rows[i], strlen(rows[i]));
    /* label and name length limits, exactly at and around them */
    for (size_t len = 60; len <= 66; len++) {
        memset(buf, 'a', len);
        memcpy(buf + len, ".com", 4);
        check_fqdn(buf, len + 4);
    }
    for (size_t len = 250; len <= 256; len++) {
        for (size_t k = 0; k < len; k++)
            buf[k] = (k % 10 == 9) ? '.' : 'b';
        check_fqdn(buf, len);
        buf[len] = '.';
        check_fqdn(buf, len + 1);
    }
    for (int i = 0; i < 200000; i++) {
        static const char alpha[] = "abcXYZ019-_.";
        size_t n = rnd(10) ? rnd(24) : rnd(270);
        for (size_t k = 0; k < n; k++) {
            uint32_t r = rnd(400);
            if (r == 0)
                buf[k] = "\xc3\xbc !/\x80\x7f"[rnd(6)];
            else
                buf[k] = alpha[rnd(sizeof alpha - 1)];
        }
        check_fqdn(buf, n);
    }
}

/* ---- JSON-safe strings, extras and cased fields ---- */

static int ref_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            return 0;
    }
    return 1; /* DEL counts as plain (stored as it is either way) */
}

static void rand_text(char *buf, size_t n)
{
    static const char *const odd[] = {"\"",       "\\",           "\n",   "\t",   "\x01", "\x7f",
                                      "\xc3\xa9", "\xe4\xb8\xad", "\xff", "\xc3", "\0"};
    size_t k = 0;
    while (k < n) {
        if (rnd(12) == 0) {
            const char *o = odd[rnd(sizeof odd / sizeof odd[0])];
            size_t ol = o[0] ? strlen(o) : 1;
            if (k + ol > n)
                ol = n - k;
            memcpy(buf + k, o, ol);
            k += ol;
        } else {
            buf[k++] = (char)(0x20 + rnd(0x5f));
        }
    }
}

static void test_plain_ascii(void **state)
{
    char buf[64];
    (void)state;
    for (int i = 0; i < 300000; i++) {
        size_t n = rnd(40);
        rand_text(buf, n);
        if (lia__plain_ascii(buf, n) != ref_plain(buf, n))
            print_message("plain \"%s\": %d\n", esc(buf, n), lia__plain_ascii(buf, n));
        assert_int_equal(lia__plain_ascii(buf, n), ref_plain(buf, n));
    }
    /* every single byte at every position of every short length */
    for (size_t n = 1; n <= 24; n++)
        for (size_t at = 0; at < n; at++)
            for (int c = 0; c < 256; c++) {
                memset(buf, 'a', n);
                buf[at] = (char)c;
                assert_int_equal(lia__plain_ascii(buf, n), ref_plain(buf, n));
            }
}

static void same_event(const lia_event *a, const lia_event *b)
{
    assert_int_equal(a->nextra, b->nextra);
    assert_int_equal(a->text.len, b->text.len);
    if (a->text.len)
        assert_memory_equal(a->text.ptr, b->text.ptr, a->text.len);
    for (uint32_t i = 0; i < a->nextra; i++)
        assert_memory_equal(&a->extra[i], &b->extra[i], sizeof a->extra[i]);
    assert_memory_equal(a->present, b->present, sizeof a->present);
}

static void test_extra_str(void **state)
{
    lia_event a, b;
    char buf[80], key[32];
    (void)state;
    lia_event_init(&a);
    lia_event_init(&b);
    for (int i = 0; i < 20000; i++) {
        int nx = (int)rnd(20);
        lia_event_reset(&a);
        lia_event_reset(&b);
        for (int k = 0; k < nx; k++) {
            lia_error ea, eb;
            size_t n = rnd(3) ? rnd(12) : rnd(70);
            int kl = snprintf(key, sizeof key, "k%d", k), ra, rb;
            rand_text(buf, n);
            memset(&ea, 0, sizeof ea);
            memset(&eb, 0, sizeof eb);
            ra = lia_event_extra_str_known(&a, key, (size_t)kl, buf, n, &ea);
            rb = lia__event_extra_str_known_slow(&b, key, (size_t)kl, buf, n, &eb);
            if (ra != rb)
                print_message("extra \"%s\": fast %d, general %d\n", esc(buf, n), ra, rb);
            assert_int_equal(ra, rb);
            if (ra) {
                assert_string_equal(ea.field, eb.field);
                assert_string_equal(ea.reason, eb.reason);
                assert_string_equal(ea.value, eb.value);
            }
            same_event(&a, &b);
            if (ra == LIA_OK) { /* the stored value is what the JSON encoder writes */
                const lia_extra *x = &a.extra[a.nextra - 1];
                lia_buf j;
                lia_buf_init(&j, 1 << 20);
                assert_int_equal(lia_buf_json_str(&j, buf, n), LIA_OK);
                assert_int_equal(x->vlen, j.len);
                assert_memory_equal(a.text.ptr + x->voff, j.ptr, j.len);
                lia_buf_free(&j);
            }
        }
    }
    lia_event_free(&a);
    lia_event_free(&b);
}

/* Cased fields: the fused copy-and-case loop against the expected bytes. */
static void test_cased(void **state)
{
    lia_event ev;
    char buf[80], want[80];
    (void)state;
    lia_event_init(&ev);
    for (int i = 0; i < 100000; i++) {
        size_t n = 1 + rnd(40);
        int upper = (int)rnd(2);
        lia_field f = upper ? LIA_F_EVENT_HASH : LIA_F_PROTOCOL_TRANSPORT;
        lia_error err;
        int rc;
        rand_text(buf, n);
        lia_event_reset(&ev);
        rc = lia_event_set(&ev, f, buf, n, &err);
        if (memchr(buf, '\0', n) || !lia__utf8_valid(buf, n)) {
            assert_int_equal(rc, LIA_EINVAL);
            assert_false(lia_event_has(&ev, f));
            continue;
        }
        assert_int_equal(rc, LIA_OK);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)buf[k];
            if (upper && c >= 'a' && c <= 'z')
                c = (unsigned char)(c - 32);
            else if (!upper && c >= 'A' && c <= 'Z')
                c = (unsigned char)(c + 32);
            want[k] = (char)c;
        }
        lia_slice got = lia_event_str(&ev, f);
        assert_int_equal(got.len, n);
        assert_memory_equal(got.ptr, want, n);
    }
    lia_event_free(&ev);
}

/* The inline setters of core/event_fast.h (used by the csv format) against
 * the public ones: when a fast path takes a value, the event is the same as
 * after the public setter; when it does not, the event is untouched. */
static void test_event_fast(void **state)
{
    static const lia_field fields[] = {LIA_F_SOURCE_GEOLOCATION_CITY, LIA_F_PROTOCOL_TRANSPORT,
                                       LIA_F_EVENT_HASH};
    lia_event a, b;
    char buf[80];
    (void)state;
    lia_event_init(&a);
    lia_event_init(&b);
    for (int i = 0; i < 100000; i++) {
        lia_field f = fields[rnd(3)];
        size_t n = rnd(3) ? rnd(12) : rnd(70);
        lia_error err;
        int took, rc;
        rand_text(buf, n);
        if (rnd(50) == 0) { /* start from a fresh event: nothing allocated yet */
            lia_event_free(&a);
            lia_event_free(&b);
            lia_event_init(&a);
            lia_event_init(&b);
        } else if (rnd(8) == 0) {
            lia_event_reset(&a);
            lia_event_reset(&b);
        }
        size_t before = a.text.len;
        took = lia__event_text_fast(&a, f, lia__ftype[f], buf, n);
        if (!took) {
            assert_int_equal(a.text.len, before);
            rc = lia_event_set(&a, f, buf, n, &err);
        }
        rc = lia_event_set(&b, f, buf, n, &err);
        if (took)
            assert_int_equal(rc, LIA_OK);
        same_event(&a, &b);
        assert_int_equal(lia_event_has(&a, f), lia_event_has(&b, f));
        if (lia_event_has(&a, f))
            assert_memory_equal(&a.v[f].s, &b.v[f].s, sizeof a.v[f].s);

        /* extras: JSON values as the csv format stores converted numbers */
        if (a.nextra < 200) {
            char key[32];
            int kl = snprintf(key, sizeof key, "x%d", i);
            took = lia__event_extra_put_fast(&a, key, (size_t)kl, buf, n, 0);
            if (!took)
                assert_int_equal(lia_event_extra_json_known(&a, key, (size_t)kl, buf, n, &err), LIA_OK);
            assert_int_equal(lia_event_extra_json_known(&b, key, (size_t)kl, buf, n, &err), LIA_OK);
            same_event(&a, &b);
        }
    }
    lia_event_free(&a);
    lia_event_free(&b);
}

/* ---- the "int" conversion: canonical text passed through ---- */

static void test_conv_int(void **state)
{
    lia_conv_fn conv = lia_conv_find("int");
    lia_buf scratch;
    char buf[40], want[40];
    (void)state;
    assert_non_null(conv);
    lia_buf_init(&scratch, LIA_MAX_FIELD);
    for (int i = 0; i < 300000; i++) {
        size_t n = rnd(22);
        lia_slice out = LIA_SLICE_NULL;
        const char *why = NULL, *wp = NULL;
        int64_t v = 0;
        int rc, rp;
        for (size_t k = 0; k < n; k++)
            buf[k] = rnd(30) ? (char)('0' + rnd(10)) : "-x "[rnd(3)];
        if (n && rnd(3) == 0)
            buf[0] = rnd(2) ? '0' : '-';
        rc = conv((lia_slice){buf, n}, &scratch, &out, &why);
        rp = lia__parse_int(buf, n, &v, &wp);
        if (n == 0) {
            assert_int_equal(rc, LIA_CONV_ABSENT);
            continue;
        }
        if (rp != LIA_OK) {
            assert_int_equal(rc, LIA_EINVAL);
            assert_true(same_why(why, wp));
            continue;
        }
        assert_int_equal(rc, LIA_CONV_JSON);
        snprintf(want, sizeof want, "%" PRId64, v);
        if (out.len != strlen(want) || memcmp(out.ptr, want, out.len) != 0)
            print_message("int \"%s\": \"%.*s\", want \"%s\"\n", esc(buf, n), (int)out.len, out.ptr, want);
        assert_int_equal(out.len, strlen(want));
        assert_memory_equal(out.ptr, want, out.len);
    }
    lia_buf_free(&scratch);
}

/* ---- csvmap: the mapping's constants as a precomputed list ---- */

static lia_csvfmt *open_map(const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    lia_csvmap *m = NULL;
    lia_csvfmt *f = NULL;
    lia_feed_opts o = {.feed = "t", .tlp = -1};
    lia_error err;
    assert_non_null(j);
    assert_int_equal(lia_csvmap_from_json(j, "t", &m, &err), LIA_OK);
    json_decref(j);
    assert_int_equal(lia_csvfmt_open(&f, m, &o, &err), LIA_OK);
    return f;
}

/* Rows through a mapping with constants against the same mapping without
 * them followed by lia_event_copy() of the constants (what every row did
 * before): the same event, byte for byte, including its text buffer. */
static void test_csvmap_consts(void **state)
{
    static const char *const consts[] = {
        /* fields only: the precomputed list */
        "{\"classification.identifier\": \"open-ics\", \"classification.type\": \"vulnerable-system\","
        " \"feed.code\": \"Code\", \"source.geolocation.cc\": \"nl\"}",
        /* with an extra key: lia_event_copy every row */
        "{\"classification.identifier\": \"open-ics\", \"extra.k\": \"v\"}"};
    static const char cols[] = "\"columns\": {\"a\": \"source.ip\", \"b\": \"comment\", \"c\": \"extra.c\"}";
    static char chunk[1 << 18]; /* 500 rows of at most 330 bytes */
    char map[1024];
    (void)state;
    for (size_t v = 0; v < sizeof consts / sizeof consts[0]; v++) {
        lia_csvfmt *with, *without;
        lia_event ref_consts, a, b;
        lia_records ra, rb;
        lia_error err;
        json_error_t je;
        json_t *cj = json_loads(consts[v], 0, &je);
        const char *key;
        json_t *val;
        size_t len = 0;
        snprintf(map, sizeof map, "{%s, \"constants\": %s}", cols, consts[v]);
        with = open_map(map);
        snprintf(map, sizeof map, "{%s}", cols);
        without = open_map(map);
        lia_event_init(&ref_consts);
        json_object_foreach(cj, key, val)
        {
            assert_int_equal(lia_event_set_name(&ref_consts, key, strlen(key), json_string_value(val),
                                                json_string_length(val), &err),
                             LIA_OK);
        }
        json_decref(cj);
        len += (size_t)snprintf(chunk, sizeof chunk, "a,b,c\n");
        for (int i = 0; i < 500; i++) { /* values of every length, so the text grows */
            int n = (int)rnd(300);
            len +=
                (size_t)snprintf(chunk + len, sizeof chunk - len, "192.0.2.%d,%.*s,x%d\n", i % 250, n,
                                 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                                 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                                 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                                 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                                 "cccccccccccccccc",
                                 i);
        }
        lia__records_init(&ra);
        lia__records_init(&rb);
        assert_int_equal(lia_csvfmt_parse(with, chunk, len, 1, &ra, &err), LIA_OK);
        assert_int_equal(lia_csvfmt_parse(without, chunk, len, 1, &rb, &err), LIA_OK);
        assert_int_equal(ra.n, rb.n);
        lia_event_init(&a);
        lia_event_init(&b);
        for (size_t i = 0; i < ra.n; i++) {
            if (rnd(20) == 0) { /* a fresh event now and then: nothing allocated yet */
                lia_event_free(&a);
                lia_event_free(&b);
                lia_event_init(&a);
                lia_event_init(&b);
            }
            lia_event_reset(&a);
            lia_event_reset(&b);
            assert_int_equal(lia_csvfmt_normalise(with, &ra, &ra.rec[i], &a, &err), LIA_OK);
            assert_int_equal(lia_csvfmt_normalise(without, &rb, &rb.rec[i], &b, &err), LIA_OK);
            assert_int_equal(lia_event_copy(&b, &ref_consts, &err), LIA_OK);
            same_event(&a, &b);
            for (int fd = 0; fd < LIA_F__COUNT; fd++)
                if (lia_event_has(&a, (lia_field)fd))
                    assert_memory_equal(&a.v[fd], &b.v[fd],
                                        lia__field_type((lia_field)fd) == LIA_T_IP ? sizeof a.v[fd].ip : 8);
        }
        lia_event_free(&a);
        lia_event_free(&b);
        lia_event_free(&ref_consts);
        lia__records_free(&ra);
        lia__records_free(&rb);
        lia_csvfmt_close(with);
        lia_csvfmt_close(without);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),        cmocka_unit_test(test_udec),
        cmocka_unit_test(test_cc_table),    cmocka_unit_test(test_fqdn),
        cmocka_unit_test(test_plain_ascii), cmocka_unit_test(test_extra_str),
        cmocka_unit_test(test_cased),       cmocka_unit_test(test_event_fast),
        cmocka_unit_test(test_conv_int),    cmocka_unit_test(test_csvmap_consts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
