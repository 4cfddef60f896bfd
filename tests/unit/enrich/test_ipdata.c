/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/enrich/iptable.c and ipdata.c: RIR and CSV range
 * tables, MaxMind DB sources (every network of MaxMind's test databases),
 * precedence, explanation, reload, and event enrichment. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/enrich.h"
#include "enrich/internal.h"

static char *data_path(const char *rel)
{
    static char buf[4][4096];
    static int k;
    const char *d = getenv("LIAISON_TESTDATA");
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/ipdata/%s", d ? d : "tests/data", rel);
    return buf[k];
}

static lia_ip ip_of(const char *s)
{
    lia_ip ip;
    const char *why = NULL;
    if (lia_parse_ip(s, strlen(s), &ip, &why) != LIA_OK)
        fail_msg("bad test IP %s: %s", s, why);
    return ip;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* ---- RIR ---- */

struct want {
    const char *ip;
    const char *cc; /* "" = not found */
    uint32_t asn;
    const char *name; /* NULL = none */
};

static void check_table(const lia_iptable *t, const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lia_ip ip = ip_of(w[i].ip);
        lia_ipanswer a;
        int found = lia__iptable_lookup(t, &ip, &a);
        int want_found = w[i].cc[0] || w[i].asn;
        if (found != want_found || (found && (strcmp(a.cc, w[i].cc) || a.asn != w[i].asn)))
            print_message("row %zu %s: found %d cc \"%s\" asn %u; want found %d cc \"%s\" asn %u\n", i,
                          w[i].ip, found, found ? a.cc : "", found ? a.asn : 0, want_found, w[i].cc,
                          w[i].asn);
        assert_int_equal(found, want_found);
        if (!found)
            continue;
        assert_string_equal(a.cc, w[i].cc);
        assert_int_equal(a.asn, w[i].asn);
        if (w[i].name) {
            assert_non_null(a.as_name);
            assert_int_equal(a.as_name_len, strlen(w[i].name));
            assert_memory_equal(a.as_name, w[i].name, a.as_name_len);
        } else {
            assert_null(a.as_name);
        }
        /* the IPv4 fast path agrees */
        if (ip.family == 4) {
            uint32_t x = (uint32_t)ip.addr[0] << 24 | (uint32_t)ip.addr[1] << 16 | (uint32_t)ip.addr[2] << 8 |
                         ip.addr[3];
            char cc[3];
            uint32_t asn;
            lia__iptable_value(t, lia__iptable_lookup4(t, x), cc, &asn);
            assert_string_equal(cc, w[i].cc);
            assert_int_equal(asn, w[i].asn);
        }
    }
}

static void test_rir_file(void **state)
{
    size_t len;
    char *buf = slurp(data_path("rir/delegated-apnic-20101217.excerpt"), &len);
    lia_iptable *t = NULL;
    lia_error err;
    static const struct want w[] = {
        {"1.0.0.0", "AU", 0, NULL},
        {"1.0.0.255", "AU", 0, NULL},
        {"1.0.1.0", "", 0, NULL},
        {"1.1.1.1", "AU", 0, NULL},
        {"1.9.0.0", "MY", 0, NULL},
        {"1.9.255.255", "MY", 0, NULL},
        {"14.0.128.1", "HK", 0, NULL},
        {"14.1.9.1", "JP", 0, NULL},
        {"10.0.0.1", "", 0, NULL},
        {"2001:200::1", "JP", 0, NULL},
        {"2001:200:1fff:ffff::1", "JP", 0, NULL},
        {"2001:258:8000::5", "JP", 0, NULL},
        {"2001:db8::1", "", 0, NULL},
        {"::ffff:1.9.1.1", "MY", 0, NULL}, /* IPv4-mapped: looked up as IPv4 */
    };
    (void)state;
    lia_error_clear(&err);
    assert_int_equal(lia__iptable_parse_rir(buf, len, &t, &err), LIA_OK);
    assert_int_equal(lia__iptable_ranges(t), 100); /* 60 ipv4 + 40 ipv6 records */
    check_table(t, w, sizeof w / sizeof w[0]);
    lia__iptable_destroy(t);
    free(buf);
}

struct bad {
    const char *text;
    int rc;
    uint64_t line;
    const char *reason_part;
};

static void test_rir_errors(void **state)
{
    static const struct bad rows[] = {
        {"2|apnic|x|1|2|3|4\napnic|AU|ipv4|1.0.0.0|256|20100504\n", LIA_EPARSE, 2, "expected registry"},
        {"apnic|AU|ipv9|1.0.0.0|256|20100504|assigned\n", LIA_EPARSE, 1, "type"},
        {"apnic|AU|ipv4|1.0.0.300|256|20100504|assigned\n", LIA_EPARSE, 1, ""},
        {"apnic|AU|ipv4|255.255.255.0|257|20100504|assigned\n", LIA_EPARSE, 1, "count"},
        {"apnic|AU|ipv4|1.0.0.0|0|20100504|assigned\n", LIA_EPARSE, 1, "count"},
        {"apnic|AU|ipv6|2001:200::|129|20100504|assigned\n", LIA_EPARSE, 1, "prefix"},
        {"apnic|AU|ipv6|2001:200::1|32|20100504|assigned\n", LIA_EPARSE, 1, "host bits"},
        {"apnic|A1|ipv4|1.0.0.0|256|20100504|assigned\n", LIA_EPARSE, 1, ""},
        {"apnic|AU|ipv4|2001::|256|20100504|assigned\n", LIA_EPARSE, 1, "family"},
        {"# c\n\napnic|AU|ipv4|1.0.0.0|256|20100504|assigned\r\nx|y\n", LIA_EPARSE, 4, "expected registry"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_iptable *t = NULL;
        lia_error err;
        lia_error_clear(&err);
        int rc = lia__iptable_parse_rir(rows[i].text, strlen(rows[i].text), &t, &err);
        if (rc != rows[i].rc || err.line != rows[i].line || !strstr(err.reason, rows[i].reason_part))
            print_message("row %zu: rc %d line %llu reason \"%s\"\n", i, rc, (unsigned long long)err.line,
                          err.reason);
        assert_int_equal(rc, rows[i].rc);
        assert_int_equal(err.line, rows[i].line);
        assert_non_null(strstr(err.reason, rows[i].reason_part));
        assert_null(t);
    }
}

/* available / reserved records and records without a country are skipped */
static void test_rir_skips(void **state)
{
    const char *text = "2.3|ripencc|20240101|3|19830705|20240101|+0100\n"
                       "ripencc|*|ipv4|*|3|summary\n"
                       "ripencc||ipv4|5.0.0.0|256||available\n"
                       "ripencc|ZZ|ipv4|5.0.1.0|256||reserved\n"
                       "ripencc|NL|ipv4|5.0.2.0|256|20240101|allocated|e5f6\n"
                       "ripencc|NL|asn|1101|1|20240101|allocated\n";
    static const struct want w[] = {{"5.0.0.1", "", 0, NULL},
                                    {"5.0.1.1", "", 0, NULL},
                                    {"5.0.2.1", "NL", 0, NULL},
                                    {"5.0.3.0", "", 0, NULL}};
    lia_iptable *t = NULL;
    lia_error err;
    (void)state;
    assert_int_equal(lia__iptable_parse_rir(text, strlen(text), &t, &err), LIA_OK);
    assert_int_equal(lia__iptable_ranges(t), 1);
    check_table(t, w, sizeof w / sizeof w[0]);
    lia__iptable_destroy(t);
}

/* ---- CSV ---- */

static void test_csv_layouts(void **state)
{
    struct {
        const char *text;
        struct want w[4];
    } rows[] = {
        {"ip_range_start,ip_range_end,country_code\n1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,cn\n",
         {{"1.0.0.7", "AU", 0, NULL},
          {"1.0.2.9", "CN", 0, NULL},
          {"1.0.4.0", "", 0, NULL},
          {"0.0.0.0", "", 0, NULL}}},
        {"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n",
         {{"1.0.0.1", "", 13335, "Cloudflare, Inc."},
          {"1.0.5.5", "", 38803, "Gtelecom Pty Ltd"},
          {"1.0.1.0", "", 0, NULL},
          {"255.255.255.255", "", 0, NULL}}},
        {"16777216,16777471,13335,\"Cloudflare, Inc.\"\n", /* -num layout */
         {{"1.0.0.200", "", 13335, "Cloudflare, Inc."},
          {"1.0.1.0", "", 0, NULL},
          {"0.255.255.255", "", 0, NULL},
          {"1.0.0.0", "", 13335, "Cloudflare, Inc."}}},
        {"42540488161975842760550356425300246528,42540488241204005274814694018844196863,6939,Hurricane "
         "Electric LLC\n",
         {{"2001::1", "", 6939, "Hurricane Electric LLC"},
          {"2001:0:ffff:ffff::1", "", 6939, "Hurricane Electric LLC"},
          {"2001:1::", "", 0, NULL},
          {"::1", "", 0, NULL}}},
        {"2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n",
         {{"2001:200::5", "", 2500, "WIDE Project"},
          {"2001:200:1ba::", "", 0, NULL},
          {"2001:1ff::", "", 0, NULL},
          {"2001:200:1b9::1", "", 2500, "WIDE Project"}}},
        /* AS 0 (RFC 7607: no AS) with a name is no answer, the next range is */
        {"1.0.0.0,1.0.0.255,0,Not routed\n1.0.1.0,1.0.1.255,13335,Cloudflare\n",
         {{"1.0.0.9", "", 0, NULL},
          {"1.0.1.9", "", 13335, "Cloudflare"},
          {"1.0.0.255", "", 0, NULL},
          {"1.0.2.0", "", 0, NULL}}},
        /* city layout: the country is the third column */
        {"1.0.0.0,1.0.0.255,AU,Queensland,,South Brisbane,4101,-27.48,153.02,\n",
         {{"1.0.0.9", "AU", 0, NULL},
          {"1.0.1.0", "", 0, NULL},
          {"0.0.0.0", "", 0, NULL},
          {"1.0.0.255", "AU", 0, NULL}}},
        /* nested and overlapping ranges: the inner / later one wins */
        {"10.0.0.0,10.255.255.255,DE\n10.1.0.0,10.1.255.255,FR\n10.1.2.0,10.1.2.255,IT\n",
         {{"10.0.0.1", "DE", 0, NULL},
          {"10.1.0.1", "FR", 0, NULL},
          {"10.1.2.3", "IT", 0, NULL},
          {"10.1.3.0", "FR", 0, NULL}}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_iptable *t = NULL;
        lia_error err;
        lia_error_clear(&err);
        int rc = lia__iptable_parse_csv(rows[i].text, strlen(rows[i].text), &t, &err);
        if (rc)
            print_message("row %zu: %s (line %llu)\n", i, err.reason, (unsigned long long)err.line);
        assert_int_equal(rc, LIA_OK);
        check_table(t, rows[i].w, 4);
        lia__iptable_destroy(t);
    }
}

static void test_csv_errors(void **state)
{
    static const struct bad rows[] = {
        {"1.0.0.0,1.0.0.255\n", LIA_EPARSE, 1, "at least 3 columns"},
        {"1.0.0.0,1.0.0.255,AU\nfoo,1.0.0.255,AU\n", LIA_EPARSE, 2, ""},
        {"1.0.0.9,1.0.0.1,AU\n", LIA_EPARSE, 1, "before its start"},
        {"1.0.0.0,2001::,AU\n", LIA_EPARSE, 1, "address family"},
        {"1.0.0.0,1.0.0.255,XYZ\n", LIA_EPARSE, 1, ""},
        {"1.0.0.0,1.0.0.255,4294967296,Big\n", LIA_EPARSE, 1, ""},
        {"1.0.0.0,1.0.0.255,13335,\"open\n", LIA_EPARSE, 1, ""},
        {"1.0.0.0,1.0.0.255,13335,\xff\xfe\n", LIA_EPARSE, 1, "UTF-8"},
        {"99999999999999999999999999999999999999999,1,AU\n", LIA_EPARSE, 1, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_iptable *t = NULL;
        lia_error err;
        lia_error_clear(&err);
        int rc = lia__iptable_parse_csv(rows[i].text, strlen(rows[i].text), &t, &err);
        if (rc != rows[i].rc || err.line != rows[i].line || !strstr(err.reason, rows[i].reason_part))
            print_message("row %zu: rc %d line %llu reason \"%s\"\n", i, rc, (unsigned long long)err.line,
                          err.reason);
        assert_int_equal(rc, rows[i].rc);
        assert_int_equal(err.line, rows[i].line);
        assert_non_null(strstr(err.reason, rows[i].reason_part));
        assert_null(t);
    }
}

/* ---- MaxMind DB: every network of the source JSON, through lia_ipdb ---- */

static void check_mmdb_against_json(const char *mmdb, const char *json, int want_asn)
{
    lia_ipdb *db = NULL;
    lia_error err;
    json_error_t je;
    json_t *root = json_load_file(data_path(json), 0, &je);
    size_t checked = 0;
    assert_non_null(root);
    lia_error_clear(&err);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path(mmdb), &err), LIA_OK);
    for (size_t i = 0; i < json_array_size(root); i++) {
        const char *cidr;
        json_t *rec;
        json_object_foreach(json_array_get(root, i), cidr, rec)
        {
            lia_ip net;
            lia_ipinfo info;
            const char *why;
            assert_int_equal(lia_parse_cidr(cidr, strlen(cidr), &net, &why), LIA_OK);
            net.prefix = net.family == 4 ? 32 : 128;
            lia__ipdb_lookup(db, &net, &info);
            if (want_asn) {
                json_t *a = json_object_get(rec, "autonomous_system_number");
                json_t *o = json_object_get(rec, "autonomous_system_organization");
                if (info.asn != (uint32_t)json_integer_value(a))
                    print_message("%s: asn %u, want %lld\n", cidr, info.asn,
                                  (long long)json_integer_value(a));
                assert_int_equal(info.asn, (uint32_t)json_integer_value(a));
                assert_string_equal(info.as_name, o ? json_string_value(o) : "");
                assert_int_equal(info.asn_src, 0);
            } else {
                json_t *c = json_object_get(json_object_get(rec, "country"), "iso_code");
                if (!c)
                    c = json_object_get(json_object_get(rec, "registered_country"), "iso_code");
                if (strcmp(info.cc, c ? json_string_value(c) : "") != 0)
                    print_message("%s: cc \"%s\", want \"%s\"\n", cidr, info.cc,
                                  c ? json_string_value(c) : "");
                assert_string_equal(info.cc, c ? json_string_value(c) : "");
            }
            checked++;
        }
    }
    print_message("%s: %zu networks checked\n", mmdb, checked);
    assert_true(checked > 200);
    json_decref(root);
    lia_ipdb_release(db);
}

static void test_mmdb_asn(void **state)
{
    (void)state;
    check_mmdb_against_json("maxmind/GeoLite2-ASN-Test.mmdb", "maxmind/GeoLite2-ASN-Test.json", 1);
}

static void test_mmdb_country(void **state)
{
    (void)state;
    check_mmdb_against_json("maxmind/GeoIP2-Country-Test.mmdb", "maxmind/GeoIP2-Country-Test.json", 0);
}

static void test_mmdb_errors(void **state)
{
    lia_ipdb *db = NULL;
    lia_error err;
    (void)state;
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    lia_error_clear(&err);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("nope.mmdb"), &err), LIA_EIO);
    assert_non_null(strstr(err.reason, "nope.mmdb"));
    lia_error_clear(&err);
    /* a file that is not an MMDB */
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("maxmind/LICENSE-MIT"), &err), LIA_EPARSE);
    lia_error_clear(&err);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_CSV, data_path("maxmind/LICENSE-MIT"), &err), LIA_EPARSE);
    assert_true(err.line > 0);
    assert_int_equal(lia_ipdb_nsources(db), 0);
    lia_ipdb_release(db);
}

/* ---- MaxMind DBs built here: traits, and corrupt ones ---- */

typedef struct mm {
    unsigned char b[1024];
    size_t n;
} mm;

static void put(mm *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void put1(mm *m, unsigned c)
{
    put(m, &(unsigned char){(unsigned char)c}, 1);
}
static void str(mm *m, const char *s)
{
    put1(m, 0x40u | (unsigned)strlen(s)); /* a UTF-8 string shorter than 29 bytes */
    put(m, s, strlen(s));
}
static void bigstr(mm *m, const char *s) /* 29 .. 284 bytes */
{
    put1(m, 0x40u | 29u);
    put1(m, (unsigned)strlen(s) - 29u);
    put(m, s, strlen(s));
}

enum { MM_GOOD, MM_BAD_TREE, MM_BAD_DATA, MM_BAD_META };

/* A one-node IPv4 database: 0.0.0.0/1 -> {"traits": {ASN 64496, "Example
 * Org"}} (the GeoIP2-Enterprise layout), 128.0.0.0/1 empty. Variants break
 * the search tree (a record past the data), the data (a pointer past its
 * end) or the metadata (ip_version 5). Written to path. MaxMind DB format
 * 2.0: records of 24 bits, 16 zero bytes, data, metadata marker and map. */
static void write_mmdb(const char *path, int variant)
{
    mm m = {{0}, 0};
    unsigned left = variant == MM_BAD_TREE ? 1 + 16 + 900 : 1 + 16 + 0;
    FILE *f;
    put1(&m, left >> 16);
    put1(&m, (left >> 8) & 0xff);
    put1(&m, left & 0xff);
    put1(&m, 0), put1(&m, 0), put1(&m, 1); /* right: node_count = empty */
    for (int i = 0; i < 16; i++)
        put1(&m, 0);
    put1(&m, 0xE1); /* data: map of 1 */
    str(&m, "traits");
    if (variant == MM_BAD_DATA) {
        put1(&m, 0x20 | 0x07); /* a pointer to offset 0x7ff, past the data */
        put1(&m, 0xff);
    } else {
        put1(&m, 0xE2);
        str(&m, "autonomous_system_number");
        put1(&m, 0xC2), put1(&m, 0xFB), put1(&m, 0xF0); /* uint32 64496 */
        bigstr(&m, "autonomous_system_organization");
        str(&m, "Example Org");
    }
    put(&m, "\xAB\xCD\xEFMaxMind.com", 14);
    put1(&m, 0xE9);
    str(&m, "node_count"), put1(&m, 0xC1), put1(&m, 1);
    str(&m, "record_size"), put1(&m, 0xA1), put1(&m, 24);
    str(&m, "ip_version"), put1(&m, 0xA1), put1(&m, variant == MM_BAD_META ? 5 : 4);
    str(&m, "binary_format_major_version"), put1(&m, 0xA1), put1(&m, 2);
    str(&m, "binary_format_minor_version"), put1(&m, 0xA0);
    str(&m, "build_epoch"), put1(&m, 0x01), put1(&m, 0x02), put1(&m, 1); /* uint64 1 */
    str(&m, "database_type"), str(&m, "Liaison-Enterprise-Test");
    str(&m, "languages"), put1(&m, 0x01), put1(&m, 0x04), str(&m, "en"); /* array of 1 */
    str(&m, "description"), put1(&m, 0xE1), str(&m, "en"), str(&m, "test");
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(m.b, 1, m.n, f), m.n);
    fclose(f);
}

static void test_mmdb_traits_and_corrupt(void **state)
{
    char dir[] = "/tmp/liaison-mmdb-XXXXXX", path[256];
    lia_ipdb *db = NULL;
    lia_ipinfo info;
    lia_ip ip;
    lia_error err;
    lia_buf b;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.mmdb", dir);
    assert_int_equal(lia_parse_ip("10.0.0.1", 8, &ip, NULL), LIA_OK);

    /* ASN and organisation under traits are read */
    write_mmdb(path, MM_GOOD);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    if (lia_ipdb_add(db, LIA_IPSRC_MMDB, path, &err))
        fail_msg("good DB refused: %s", err.reason);
    assert_int_equal(lia__ipdb_lookup(db, &ip, &info), 1);
    assert_int_equal(info.asn, 64496);
    assert_string_equal(info.as_name, "Example Org");
    assert_int_equal(lia__ipdb_error(db, &err), LIA_OK);
    lia_ipdb_release(db);

    /* a search tree record past the data: refused at load, naming file and reason */
    write_mmdb(path, MM_BAD_TREE);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    lia_error_clear(&err);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, path, &err), LIA_EPARSE);
    if (!strstr(err.reason, path) || !strstr(err.reason, "search tree"))
        fail_msg("bad tree: %s", err.reason);
    lia_ipdb_release(db);

    /* bad metadata: refused at load */
    write_mmdb(path, MM_BAD_META);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    lia_error_clear(&err);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, path, &err), LIA_EPARSE);
    if (!strstr(err.reason, path) || !strstr(err.reason, "metadata"))
        fail_msg("bad metadata: %s", err.reason);
    lia_ipdb_release(db);

    /* a bad pointer in the data: the first lookup that meets it is an error, not "no answer" */
    write_mmdb(path, MM_BAD_DATA);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    if (lia_ipdb_add(db, LIA_IPSRC_MMDB, path, &err))
        fail_msg("bad data refused at load (it is found at lookup): %s", err.reason);
    assert_int_equal(lia__ipdb_error(db, &err), LIA_OK);
    lia__ipdb_lookup(db, &ip, &info);
    lia_error_clear(&err);
    assert_int_equal(lia__ipdb_error(db, &err), LIA_EPARSE);
    if (!strstr(err.reason, path) || !strstr(err.reason, "corrupt"))
        fail_msg("bad data: %s", err.reason);
    lia_buf_init(&b, 1 << 16);
    lia_ipdb_explain(db, &ip, &b);
    if (!strstr(lia_buf_cstr(&b), "error:") || strstr(lia_buf_cstr(&b), "no answer"))
        fail_msg("explain: %s", lia_buf_cstr(&b));
    lia_buf_free(&b);
    lia_ipdb_release(db);
    unlink(path);
    rmdir(dir);
}

/* ---- precedence, explanation ---- */

static void test_precedence(void **state)
{
    lia_ipdb *db = NULL;
    lia_error err;
    lia_ipinfo info;
    lia_buf out;
    char tmp[] = "/tmp/lia_test_csv_XXXXXX";
    int fd = mkstemp(tmp);
    const char *csv = "1.128.0.0,1.128.0.255,64500,Override Net\n"
                      "81.2.69.0,81.2.69.255,FR\n";
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    /* 1: ASN MMDB, 2: country MMDB, 3: a CSV that disagrees with both */
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("maxmind/GeoLite2-ASN-Test.mmdb"), &err),
                     LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("maxmind/GeoIP2-Country-Test.mmdb"), &err),
                     LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_CSV, tmp, &err), LIA_OK);
    assert_int_equal(lia_ipdb_nsources(db), 3);

    lia_ip ip = ip_of("1.128.0.1");
    assert_int_equal(lia__ipdb_lookup(db, &ip, &info), 1);
    assert_int_equal(info.asn, 1221); /* the first source wins over the CSV's 64500 */
    assert_string_equal(info.as_name, "Telstra Pty Ltd");
    assert_int_equal(info.asn_src, 0);
    assert_int_equal(info.name_src, 0);

    ip = ip_of("81.2.69.160");
    assert_int_equal(lia__ipdb_lookup(db, &ip, &info), 1);
    assert_string_equal(info.cc, "GB"); /* source 2 before the CSV's FR */
    assert_int_equal(info.cc_src, 1);

    lia_buf_init(&out, 1 << 16);
    assert_int_equal(lia_ipdb_explain(db, &ip, &out), LIA_OK);
    assert_non_null(strstr(out.ptr, "country FR"));            /* what the CSV says ... */
    assert_non_null(strstr(out.ptr, "country GB (from [2])")); /* ... and who wins */
    assert_non_null(strstr(out.ptr, "range 81.2.69.0 - 81.2.69.255"));
    lia_buf_free(&out);

    /* reversed precedence: the CSV first */
    lia_ipdb_release(db);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_CSV, tmp, &err), LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("maxmind/GeoLite2-ASN-Test.mmdb"), &err),
                     LIA_OK);
    ip = ip_of("1.128.0.1");
    lia__ipdb_lookup(db, &ip, &info);
    assert_int_equal(info.asn, 64500);
    assert_string_equal(info.as_name, "Override Net");
    ip = ip_of("1.128.1.1"); /* outside the CSV range: the MMDB answers */
    lia__ipdb_lookup(db, &ip, &info);
    assert_int_equal(info.asn, 1221);
    assert_int_equal(info.asn_src, 1);
    lia_ipdb_release(db);
    unlink(tmp);
}

/* ---- reload on change, atomic swap ---- */

static void test_reload(void **state)
{
    lia_ipdata *h = NULL;
    lia_ipdb *a, *b;
    lia_error err;
    lia_ipinfo info;
    int changed = -1;
    char tmp[] = "/tmp/lia_test_reload_XXXXXX";
    int fd = mkstemp(tmp);
    FILE *f;
    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("9.9.9.0,9.9.9.255,CH\n", f);
    fclose(f);
    assert_int_equal(lia__ipdata_create(&h), LIA_OK);
    assert_null(lia__ipdata_get(h));
    assert_int_equal(lia__ipdata_add(h, LIA_IPSRC_CSV, tmp, &err), LIA_OK);
    assert_int_equal(lia__ipdata_reload(h, 0, &changed, &err), LIA_OK);
    assert_int_equal(changed, 1);
    a = lia__ipdata_get(h);
    assert_non_null(a);
    assert_int_equal(lia__ipdata_reload(h, 0, &changed, &err), LIA_OK);
    assert_int_equal(changed, 0); /* nothing changed */

    f = fopen(tmp, "w");
    fputs("9.9.9.0,9.9.9.255,DE\n9.9.10.0,9.9.10.255,AT\n", f); /* other size */
    fclose(f);
    assert_int_equal(lia__ipdata_reload(h, 0, &changed, &err), LIA_OK);
    assert_int_equal(changed, 1);
    b = lia__ipdata_get(h);
    lia_ip ip = ip_of("9.9.9.9");
    lia__ipdb_lookup(a, &ip, &info); /* the old one still works for its holder */
    assert_string_equal(info.cc, "CH");
    lia__ipdb_lookup(b, &ip, &info);
    assert_string_equal(info.cc, "DE");

    /* a broken file: the reload fails, the current data stays */
    f = fopen(tmp, "w");
    fputs("9.9.9.0,garbage\n", f);
    fclose(f);
    lia_error_clear(&err);
    assert_int_equal(lia__ipdata_reload(h, 1, &changed, &err), LIA_EPARSE);
    assert_int_equal(changed, 0);
    lia_ipdb *c = lia__ipdata_get(h);
    assert_ptr_equal(c, b);
    lia_ipdb_release(c);
    lia_ipdb_release(a);
    lia_ipdb_release(b);
    lia__ipdata_destroy(h);
    unlink(tmp);
}

/* ---- enrichment never overwrites ---- */

static void test_enrich_event(void **state)
{
    lia_ipdb *db = NULL;
    lia_error err;
    lia_event ev;
    char tmp[] = "/tmp/lia_test_enrich_XXXXXX";
    int fd = mkstemp(tmp);
    const char *csv = "1.128.0.0,1.128.0.255,AU\n";
    (void)state;
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    assert_int_equal(lia_ipdb_create(&db, &err), LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_MMDB, data_path("maxmind/GeoLite2-ASN-Test.mmdb"), &err),
                     LIA_OK);
    assert_int_equal(lia_ipdb_add(db, LIA_IPSRC_CSV, tmp, &err), LIA_OK);
    lia_event_init(&ev);

    /* all absent: ASN, AS name, country set */
    assert_int_equal(lia_event_set_name(&ev, "source.ip", 9, "1.128.0.1", 9, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "destination.ip", 14, "1.0.0.1", 7, &err), LIA_OK);
    assert_int_equal(lia__enrich_event_ip(db, &ev), 5);
    assert_int_equal(ev.v[LIA_F_SOURCE_ASN].i, 1221);
    lia_slice s = lia_event_str(&ev, LIA_F_SOURCE_AS_NAME);
    assert_int_equal(s.len, strlen("Telstra Pty Ltd"));
    assert_memory_equal(s.ptr, "Telstra Pty Ltd", s.len);
    s = lia_event_str(&ev, LIA_F_SOURCE_GEOLOCATION_CC);
    assert_memory_equal(s.ptr, "AU", 2);
    assert_int_equal(ev.v[LIA_F_DESTINATION_ASN].i, 15169);
    s = lia_event_str(&ev, LIA_F_DESTINATION_AS_NAME);
    assert_int_equal(s.len, strlen("Google Inc."));
    assert_false(lia_event_has(&ev, LIA_F_DESTINATION_GEOLOCATION_CC));

    /* the feed's values stay; an AS name only with its own ASN */
    lia_event_reset(&ev);
    assert_int_equal(lia_event_set_name(&ev, "source.ip", 9, "1.128.0.1", 9, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "source.asn", 10, "64496", 5, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "source.geolocation.cc", 21, "NZ", 2, &err), LIA_OK);
    assert_int_equal(lia__enrich_event_ip(db, &ev), 0);
    assert_int_equal(ev.v[LIA_F_SOURCE_ASN].i, 64496);
    assert_false(lia_event_has(&ev, LIA_F_SOURCE_AS_NAME));
    s = lia_event_str(&ev, LIA_F_SOURCE_GEOLOCATION_CC);
    assert_memory_equal(s.ptr, "NZ", 2);

    /* no IP, no change */
    lia_event_reset(&ev);
    assert_int_equal(lia_event_set_name(&ev, "source.fqdn", 11, "example.com", 11, &err), LIA_OK);
    assert_int_equal(lia__enrich_event_ip(db, &ev), 0);
    lia_event_free(&ev);
    lia_ipdb_release(db);
    unlink(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rir_file),     cmocka_unit_test(test_rir_errors),
        cmocka_unit_test(test_rir_skips),    cmocka_unit_test(test_csv_layouts),
        cmocka_unit_test(test_csv_errors),   cmocka_unit_test(test_mmdb_asn),
        cmocka_unit_test(test_mmdb_country), cmocka_unit_test(test_mmdb_errors),
        cmocka_unit_test(test_precedence),   cmocka_unit_test(test_reload),
        cmocka_unit_test(test_enrich_event), cmocka_unit_test(test_mmdb_traits_and_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
