/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Pure parsers of src/http/parse.c: header framing, media types,
 * Authorization, query strings, timestamps, TAXII filters, next tokens,
 * TLP markings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/event.h"
#include "liaison/http.h"
#include "liaison/taxii.h"
#include "http/parse.h"
#include "taxii/taxii_internal.h"

#define H(n, v)                                                                                              \
    {                                                                                                        \
        {(n), sizeof(n) - 1},                                                                                \
        {                                                                                                    \
            (v), sizeof(v) - 1                                                                               \
        }                                                                                                    \
    }

static void test_check_headers(void **state)
{
    static const struct {
        lia_http_header h[3];
        size_t n;
        int rc;
        uint64_t cl;
    } cases[] = {
        {{H("Host", "a"), H("Content-Length", "12")}, 2, LIA_OK, 12},
        {{H("Host", "a")}, 1, LIA_OK, UINT64_MAX},
        {{H("content-length", "1"), H("Content-Length", "1")}, 2, LIA_EPARSE, 0},
        {{H("Content-Length", "2"), H("Transfer-Encoding", "chunked")}, 2, LIA_EPARSE, 0},
        {{H("Transfer-Encoding", "gzip, chunked")}, 1, LIA_EPARSE, 0},
        {{H("Transfer-Encoding", "chunked")}, 1, LIA_OK, UINT64_MAX},
        {{H("Content-Length", "-1")}, 1, LIA_EPARSE, 0},
        {{H("Content-Length", "1 2")}, 1, LIA_EPARSE, 0},
        {{H("Content-Length", "")}, 1, LIA_EPARSE, 0},
        {{H("Content-Length", "99999999999999999999")}, 1, LIA_EPARSE, 0},
        {{H("Host", "a"), H("host", "b")}, 2, LIA_EPARSE, 0},
        /* field lines another parser could read differently */
        {{H("Content-Length ", "12")}, 1, LIA_EPARSE, 0},
        {{H("Content-Length\t", "12")}, 1, LIA_EPARSE, 0},
        {{H("Content-Length12", "")}, 1, LIA_EPARSE, 0},
        {{H("transfer-encodingchunked", "")}, 1, LIA_EPARSE, 0},
        {{H("", "x")}, 1, LIA_EPARSE, 0},
        {{H("X A", "1")}, 1, LIA_EPARSE, 0},
        {{H("X\0A", "1")}, 1, LIA_EPARSE, 0},
        {{H("X(A)", "1")}, 1, LIA_EPARSE, 0},
        {{H("X-A", "a\rb")}, 1, LIA_EPARSE, 0},
        {{H("X-A", "a\nb")}, 1, LIA_EPARSE, 0},
        {{H("X-A", "a\0b")}, 1, LIA_EPARSE, 0},
        {{H("X-A", "a\x7f")}, 1, LIA_EPARSE, 0},
        {{H("X-A", "a\x01")}, 1, LIA_EPARSE, 0},
        /* allowed: HTAB and obs-text in values, every tchar in names */
        {{H("X-A", "a\tb \xc3\xa9"), H("!#$%&'*+-.^_`|~09azAZ", "1")}, 2, LIA_OK, UINT64_MAX},
        {{H("Content-Length", " 7 ")}, 1, LIA_OK, 7},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t cl = 0;
        const char *why = NULL;
        int rc = lia__http_check_headers(cases[i].h, cases[i].n, &cl, &why);
        if (rc != cases[i].rc || (rc == LIA_OK && cl != cases[i].cl))
            fail_msg("case %zu: rc %d cl %llu, want rc %d cl %llu", i, rc, (unsigned long long)cl,
                     cases[i].rc, (unsigned long long)cases[i].cl);
        if (rc)
            assert_non_null(why);
    }
    /* the reason names what is wrong */
    const lia_http_header bad[] = {H("X-A", "a\rb")}, sp[] = {H("Content-Length ", "1")};
    uint64_t cl;
    const char *why = NULL;
    assert_int_equal(lia__http_check_headers(bad, 1, &cl, &why), LIA_EPARSE);
    assert_string_equal(why, "bare CR in a header value");
    assert_int_equal(lia__http_check_headers(sp, 1, &cl, &why), LIA_EPARSE);
    assert_non_null(strstr(why, "whitespace before the colon"));
}

static void test_media(void **state)
{
    static const struct {
        const char *v;
        int stix, want;
    } acc[] = {
        {"application/taxii+json;version=2.1", 0, LIA_MEDIA_TAXII21},
        {"application/taxii+json", 0, LIA_MEDIA_TAXII21},
        {"APPLICATION/TAXII+JSON ; version=\"2.1\"", 0, LIA_MEDIA_TAXII21},
        {"application/taxii+json;version=2.0", 0, LIA_MEDIA_NONE},
        {"application/stix+json;version=2.1", 0, LIA_MEDIA_NONE},
        {"application/stix+json;version=2.1", 1, LIA_MEDIA_STIX21},
        {"text/html, */*;q=0.1", 0, LIA_MEDIA_TAXII21},
        {"application/taxii+json;q=0", 0, LIA_MEDIA_NONE},
        {"", 0, LIA_MEDIA_NONE},
        {",,,", 0, LIA_MEDIA_NONE},
        {"application/taxii+json;version", 0, LIA_MEDIA_NONE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
        int m = lia__http_accept(lia_slice_from(acc[i].v), acc[i].stix);
        if (m != acc[i].want)
            fail_msg("Accept \"%s\": %d, want %d", acc[i].v, m, acc[i].want);
    }
    static const struct {
        const char *v;
        int want;
    } ct[] = {
        {"application/taxii+json;version=2.1", LIA_MEDIA_TAXII21},
        {"application/taxii+json; version=2.1; charset=utf-8", LIA_MEDIA_TAXII21},
        {"application/taxii+json", LIA_MEDIA_NONE},
        {"application/taxii+json;version=2.1;foo=bar", LIA_MEDIA_NONE},
        {"*/*", LIA_MEDIA_NONE},
        {"application/json", LIA_MEDIA_NONE},
    };
    for (size_t i = 0; i < sizeof ct / sizeof ct[0]; i++) {
        int m = lia__http_content_type(lia_slice_from(ct[i].v), 0);
        if (m != ct[i].want)
            fail_msg("Content-Type \"%s\": %d, want %d", ct[i].v, m, ct[i].want);
    }
}

static void test_auth(void **state)
{
    static const struct {
        const char *v;
        int rc, kind;
        const char *user, *secret;
    } cases[] = {
        {"Basic YWRtaW46cGFzczp3b3Jk", LIA_OK, LIA_AUTH_BASIC, "admin", "pass:word"},
        {"basic   YTpi  ", LIA_OK, LIA_AUTH_BASIC, "a", "b"},
        {"Bearer lia_abc-_", LIA_OK, LIA_AUTH_BEARER, "", "lia_abc-_"},
        /* the OASIS TAXII client's token auth */
        {"Token lia_abc-_", LIA_OK, LIA_AUTH_BEARER, "", "lia_abc-_"},
        {"token  lia_x ", LIA_OK, LIA_AUTH_BEARER, "", "lia_x"},
        {"Token a b", LIA_EPARSE, 0, "", ""},
        {"Token", LIA_EPARSE, 0, "", ""},
        {"Basic YWRtaW4=", LIA_EPARSE, 0, "", ""}, /* no ':' */
        {"Basic OnBhc3M=", LIA_EPARSE, 0, "", ""}, /* empty user */
        {"Basic !!!", LIA_EPARSE, 0, "", ""},
        {"Basic", LIA_EPARSE, 0, "", ""},
        {"Bearer a b", LIA_EPARSE, 0, "", ""},
        {"Digest x", LIA_EPARSE, 0, "", ""},
        {"Basic YQBiOmM=", LIA_EPARSE, 0, "", ""}, /* NUL in user */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_http_auth a;
        const char *why = NULL;
        int rc = lia__http_auth_parse(lia_slice_from(cases[i].v), &a, &why);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].v, rc, cases[i].rc);
        if (rc == LIA_OK) {
            assert_int_equal(a.kind, cases[i].kind);
            assert_string_equal(a.user, cases[i].user);
            assert_string_equal(a.secret, cases[i].secret);
        } else {
            assert_non_null(why);
        }
    }
}

typedef struct kv {
    char s[512];
    size_t n;
} kv;

static int collect(void *ud, const char *k, const char *v)
{
    kv *c = ud;
    c->n += (size_t)snprintf(c->s + c->n, sizeof c->s - c->n, "[%s=%s]", k, v);
    return 0;
}

static void test_query(void **state)
{
    static const struct {
        const char *qs;
        int rc;
        const char *out;
    } cases[] = {
        {"a=b&c=d", LIA_OK, "[a=b][c=d]"},
        {"match%5Btype%5D=indicator%2Cmalware", LIA_OK, "[match[type]=indicator,malware]"},
        {"x&&y=1+2", LIA_OK, "[x=][y=1 2]"},
        {"a=%zz", LIA_EPARSE, ""},
        {"a=%2", LIA_EPARSE, ""},
        {"a=%00", LIA_EPARSE, ""},
        {"", LIA_OK, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kv c = {{0}, 0};
        const char *why = NULL;
        int rc = lia__http_query_each(cases[i].qs, strlen(cases[i].qs), collect, &c, &why);
        if (rc != cases[i].rc || (rc == LIA_OK && strcmp(c.s, cases[i].out) != 0))
            fail_msg("\"%s\": rc %d \"%s\", want rc %d \"%s\"", cases[i].qs, rc, c.s, cases[i].rc,
                     cases[i].out);
    }
}

static void test_time(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *out;
    } cases[] = {
        {"2016-11-03T12:30:59Z", LIA_OK, "2016-11-03T12:30:59.000000Z"},
        {"2016-11-03T12:30:59.001Z", LIA_OK, "2016-11-03T12:30:59.001000Z"},
        {"2017-12-31T13:49:53.935000Z", LIA_OK, "2017-12-31T13:49:53.935000Z"},
        {"2017-12-31T13:49:53.123456789Z", LIA_OK, "2017-12-31T13:49:53.123456Z"},
        {"1969-12-31T23:59:59.5Z", LIA_OK, "1969-12-31T23:59:59.500000Z"},
        {"2016-02-29T00:00:00Z", LIA_OK, "2016-02-29T00:00:00.000000Z"},
        {"2017-02-29T00:00:00Z", LIA_EPARSE, ""},
        {"2016-11-03 12:30:59Z", LIA_EPARSE, ""},
        {"2016-11-03T12:30:59", LIA_EPARSE, ""},
        {"2016-11-03T12:30:59.Z", LIA_EPARSE, ""},
        {"2016-13-03T12:30:59Z", LIA_EPARSE, ""},
        {"2016-11-03T12:30:59+01:00", LIA_EPARSE, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 0;
        char out[32];
        int rc = lia__stix_time_parse(cases[i].in, strlen(cases[i].in), &us);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == LIA_OK) {
            lia__stix_time_format(us, out);
            if (strcmp(out, cases[i].out) != 0)
                fail_msg("%s: %s, want %s", cases[i].in, out, cases[i].out);
        }
    }
}

/* Times that RFC 3339 cannot write (years outside 0000..9999) come out as
 * the nearest end of the range, whole, never cut or garbled. */
static void test_time_format_range(void **state)
{
    static const struct {
        int64_t us;
        const char *out;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},
        {INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z"},
        {INT64_C(253402300800000000), "9999-12-31T23:59:59.999999Z"},
        {INT64_MAX, "9999-12-31T23:59:59.999999Z"},
        {INT64_C(-62167219200000000), "0000-01-01T00:00:00.000000Z"},
        {INT64_MIN, "0000-01-01T00:00:00.000000Z"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        lia__stix_time_format(cases[i].us, out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("%lld: %s, want %s", (long long)cases[i].us, out, cases[i].out);
    }
}

static void test_filter(void **state)
{
    lia_taxii_filter f;
    const char *why = NULL;
    (void)state;
    lia__taxii_filter_init(&f);
    assert_int_equal(lia__taxii_filter_param(&f, "limit", "3", &why), LIA_OK);
    assert_int_equal(f.limit, 3);
    assert_int_equal(lia__taxii_filter_param(&f, "limit", "99999999", &why), LIA_OK);
    assert_int_equal(f.limit, LIA_TAXII_PAGE_MAX);
    assert_int_equal(lia__taxii_filter_param(&f, "match[type]", "indicator, malware", &why), LIA_OK);
    assert_int_equal(f.ntypes, 2);
    assert_string_equal(f.types[1], "malware");
    assert_int_equal(lia__taxii_filter_param(&f, "match[version]", "first,2017-01-27T13:49:53.935Z", &why),
                     LIA_OK);
    assert_int_equal(f.nver, 2);
    assert_int_equal(f.ver_kind[0], LIA_TAXII_VER_FIRST);
    assert_int_equal(f.ver_kind[1], LIA_TAXII_VER_TS);
    assert_int_equal(lia__taxii_filter_param(&f, "match[spec_version]", "2.0,2.1", &why), LIA_OK);
    assert_int_equal(f.spec_mask, LIA_TAXII_SPEC_20 | LIA_TAXII_SPEC_21);
    assert_int_equal(lia__taxii_filter_param(&f, "unknown", "x", &why), LIA_OK);
    static const struct {
        const char *k, *v;
        int rc;
    } bad[] = {
        {"limit", "0", LIA_EPARSE},
        {"limit", "1e3", LIA_EPARSE},
        {"added_after", "now", LIA_EPARSE},
        {"next", "zzzz", LIA_EPARSE},
        {"match[version]", "latest", LIA_EPARSE},
        {"match[spec_version]", "2.2", LIA_EPARSE},
        {"match[id]", "a'b", LIA_EPARSE},
        {"match[id]", ",", LIA_EPARSE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lia_taxii_filter g;
        lia__taxii_filter_init(&g);
        int rc = lia__taxii_filter_param(&g, bad[i].k, bad[i].v, &why);
        if (rc != bad[i].rc)
            fail_msg("%s=%s: rc %d, want %d", bad[i].k, bad[i].v, rc, bad[i].rc);
    }
    /* too many values */
    lia_taxii_filter g;
    lia__taxii_filter_init(&g);
    int rc = LIA_OK;
    for (int i = 0; i < LIA_TAXII_MAX_MATCH + 1 && rc == LIA_OK; i++)
        rc = lia__taxii_filter_param(&g, "match[id]", "x", &why);
    assert_int_equal(rc, LIA_ELIMIT);
    /* the hash ignores limit and next, not the filters */
    lia_taxii_filter a, b;
    lia__taxii_filter_init(&a);
    lia__taxii_filter_init(&b);
    lia__taxii_filter_param(&b, "limit", "5", &why);
    assert_true(lia__taxii_filter_hash(&a, "s") == lia__taxii_filter_hash(&b, "s"));
    lia__taxii_filter_param(&b, "match[type]", "x", &why);
    assert_true(lia__taxii_filter_hash(&a, "s") != lia__taxii_filter_hash(&b, "s"));
    assert_true(lia__taxii_filter_hash(&a, "s") != lia__taxii_filter_hash(&a, "t"));
}

static void test_next(void **state)
{
    static const int64_t dates[] = {0, 1, 1700000000000000LL, INT64_MAX};
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        char tok[LIA_TAXII_NEXT_MAX];
        int64_t d, s;
        uint64_t h;
        lia__taxii_next_encode(dates[i], 42 + (int64_t)i, 0xdeadbeefcafef00dull, tok);
        assert_int_equal(lia__taxii_next_decode(tok, strlen(tok), &d, &s, &h), LIA_OK);
        assert_true(d == dates[i]);
        assert_true(s == 42 + (int64_t)i);
        assert_true(h == 0xdeadbeefcafef00dull);
        tok[3] = tok[3] == 'A' ? 'B' : 'A'; /* still decodes, to another key: fine */
        tok[strlen(tok) - 1] = '!';
        assert_int_equal(lia__taxii_next_decode(tok, strlen(tok), &d, &s, &h), LIA_EPARSE);
    }
    assert_int_equal(lia__taxii_next_decode("", 0, NULL, NULL, NULL), LIA_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_headers), cmocka_unit_test(test_media),
        cmocka_unit_test(test_auth),          cmocka_unit_test(test_query),
        cmocka_unit_test(test_time),          cmocka_unit_test(test_time_format_range),
        cmocka_unit_test(test_filter),        cmocka_unit_test(test_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
