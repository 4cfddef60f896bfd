/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests: parties (validation, CSV/YAML import/export), owner lookup,
 * routing rules, the TLP policy, redaction and the route stage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "liaison/liaison.h"
#include "route/yaml.h"
#include "route/internal.h"
#include "route/tlp.h"
#include "../../pg/pg_test.h"

static const char owners_yaml[] = "# test constituency\n"
                                  "owners:\n"
                                  "  - id: isp-a\n"
                                  "    name: \"ISP A\"\n"
                                  "    asns: [AS64500, 64501]\n"
                                  "    cidrs: [192.0.2.0/24, \"2001:db8::/32\"]\n"
                                  "    domains: [isp-a.example]\n"
                                  "    contacts: [abuse@isp-a.example]\n"
                                  "    languages: [zh]\n"
                                  "  - id: isp-a-customer\n"
                                  "    name: 'Customer of A'   # a more specific prefix inside A's /24\n"
                                  "    cidrs:\n"
                                  "      - 192.0.2.128/25\n"
                                  "      - 2001:db8:1::/48\n"
                                  "    domains: [shop.isp-a.example]\n"
                                  "    contacts: [sec@customer.example]\n"
                                  "    tlp_max: amber\n";

static const char partners_yaml[] =
    "partners:\n"
    "  - id: cert-my\n"
    "    name: Partner MY\n"
    "    countries: [MY]\n"
    "    contacts: [cert@my.example]\n"
    "    agreement: true\n"
    "    tlp_max: AMBER\n"
    "    channels: [\"email:cert@my.example\", \"taxii:https://taxii.my.example/api/collections/x/\"]\n"
    "  - id: cert-th\n"
    "    name: Partner TH without agreement\n"
    "    countries: [TH]\n"
    "    contacts: [cert@th.example]\n"
    "  - id: cert-ics\n"
    "    name: Regional ICS\n"
    "    countries: [MY, TH]\n"
    "    contacts: [ics@ics.example]\n"
    "    agreement: yes\n"
    "    tlp_max: GREEN\n";

typedef struct coll {
    lia_party *p;
    size_t n;
} coll;

static int collect(void *ud, const lia_party *p)
{
    coll *c = ud;
    lia_party *d;
    c->p = realloc(c->p, (c->n + 1) * sizeof *c->p);
    d = &c->p[c->n++];
    lia_party_init(d, p->kind);
    memcpy(d->id, p->id, sizeof d->id);
    for (int f = 0; f < LIA_PF__COUNT; f++)
        for (size_t i = 0; i < p->f[f].n; i++)
            assert_int_equal(lia_party_add(d, f, p->f[f].v[i], strlen(p->f[f].v[i]), 0, NULL), LIA_OK);
    return 0;
}

static void coll_free(coll *c)
{
    for (size_t i = 0; i < c->n; i++)
        lia_party_free(&c->p[i]);
    free(c->p);
    c->p = NULL;
    c->n = 0;
}

static lia_route *make_route(const char *config)
{
    coll c = {NULL, 0};
    lia_error err;
    lia_route *rt = NULL;
    lia_error_clear(&err);
    assert_int_equal(
        lia__party_parse(LIA_PARTY_OWNER, "yaml", owners_yaml, strlen(owners_yaml), collect, &c, &err),
        LIA_OK);
    assert_int_equal(
        lia__party_parse(LIA_PARTY_PARTNER, "yaml", partners_yaml, strlen(partners_yaml), collect, &c, &err),
        LIA_OK);
    assert_int_equal(c.n, 5);
    if (lia__route_create(c.p, c.n, config, config ? strlen(config) : 0, &rt, &err) != LIA_OK) {
        char m[512];
        lia_error_format(&err, m, sizeof m);
        fail_msg("route create: %s", m);
    }
    coll_free(&c);
    return rt;
}

/* ---- parties ---- */

static void test_party_values(void **state)
{
    static const struct {
        int kind;
        const char *field, *in, *want; /* want NULL: rejected */
    } cases[] = {
        {LIA_PARTY_OWNER, "asns", "AS64500", "64500"},
        {LIA_PARTY_OWNER, "asns", "as4200000000", "4200000000"},
        {LIA_PARTY_OWNER, "asns", "0", NULL},
        {LIA_PARTY_OWNER, "cidrs", "192.0.2.77/24", "192.0.2.0/24"},
        {LIA_PARTY_OWNER, "cidrs", "2001:DB8::1/32", "2001:db8::/32"},
        {LIA_PARTY_OWNER, "cidrs", "300.0.0.0/8", NULL},
        {LIA_PARTY_OWNER, "domains", "Example.COM.", "example.com"},
        {LIA_PARTY_OWNER, "contacts", "Abuse@Example.COM", "Abuse@example.com"},
        {LIA_PARTY_OWNER, "contacts", "no-at-sign", NULL},
        {LIA_PARTY_OWNER, "contacts", "a@localhost", NULL},
        {LIA_PARTY_OWNER, "contacts", "a@", NULL}, /* fuzz: domain that fails to parse */
        {LIA_PARTY_OWNER, "contacts", "a@-bad-.example", NULL},
        {LIA_PARTY_OWNER, "languages", "ZH-Hans", "zh-Hans"},
        {LIA_PARTY_OWNER, "languages", "e", NULL},
        {LIA_PARTY_OWNER, "format", "JSON", "json"},
        {LIA_PARTY_OWNER, "format", "xml", NULL},
        {LIA_PARTY_OWNER, "tlp_max", "amber+strict", "AMBER+STRICT"},
        {LIA_PARTY_OWNER, "tlp_max", "BROWN", NULL},
        {LIA_PARTY_OWNER, "pgp_fingerprint", "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567",
         "0123456789ABCDEF0123456789ABCDEF01234567"},
        {LIA_PARTY_OWNER, "pgp_fingerprint", "0123", NULL},
        {LIA_PARTY_OWNER, "interval", "90m", "5400"},
        {LIA_PARTY_OWNER, "interval", "400d", NULL},
        {LIA_PARTY_OWNER, "countries", "MY", NULL}, /* a partner field */
        {LIA_PARTY_PARTNER, "countries", "my", "MY"},
        {LIA_PARTY_PARTNER, "countries", "XYZ", NULL},
        {LIA_PARTY_PARTNER, "agreement", "yes", "true"},
        {LIA_PARTY_PARTNER, "agreement", "maybe", NULL},
        {LIA_PARTY_PARTNER, "timezone", "Asia/Phnom_Penh", "Asia/Phnom_Penh"},
        {LIA_PARTY_PARTNER, "timezone", "Asia Phnom", NULL},
        {LIA_PARTY_PARTNER, "channels", "email:Cert@MY.example", "email:Cert@my.example"},
        {LIA_PARTY_PARTNER, "channels", "taxii:https://T.example/api/", "taxii:https://t.example/api/"},
        {LIA_PARTY_PARTNER, "channels", "taxii:ftp://t.example/", NULL},
        {LIA_PARTY_PARTNER, "channels", "fax:123", NULL},
        {LIA_PARTY_PARTNER, "channels", "taxii:partners/3f1c9a2e-0d4b-4c1a-9b7e-2a6f0c1d2e3f",
         "taxii:partners/3f1c9a2e-0d4b-4c1a-9b7e-2a6f0c1d2e3f"},
        {LIA_PARTY_PARTNER, "channels", "taxii:partners", NULL},
        {LIA_PARTY_PARTNER, "channels", "taxii:partners/a/b", NULL},
        {LIA_PARTY_PARTNER, "asns", "64500", NULL}, /* an owner field */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_party p;
        lia_error err;
        int f = lia_pfield_lookup(cases[i].field, strlen(cases[i].field));
        int rc;
        lia_party_init(&p, cases[i].kind);
        lia_error_clear(&err);
        assert_true(f >= 0);
        rc = lia_party_add(&p, f, cases[i].in, strlen(cases[i].in), 0, &err);
        if (cases[i].want) {
            if (rc != LIA_OK)
                fail_msg("case %zu %s=%s: rejected (%s)", i, cases[i].field, cases[i].in, err.reason);
            assert_string_equal(lia_party_get(&p, f), cases[i].want);
        } else {
            if (rc == LIA_OK)
                fail_msg("case %zu %s=%s: accepted as %s", i, cases[i].field, cases[i].in,
                         lia_party_get(&p, f));
            assert_true(err.reason[0] != '\0');
        }
        lia_party_free(&p);
    }
}

static int ignore_party(void *ud, const lia_party *p)
{
    (void)ud;
    (void)p;
    return 0;
}

/* Delivery channels: kind, API root and collection, and errors that name the
 * partner and the value. */
static void test_channels(void **state)
{
    static const struct {
        const char *in;
        int kind;                      /* 0: rejected */
        const char *root, *coll, *why; /* why: part of the reason when rejected */
    } cases[] = {
        {"taxii:partners/3f1c9a2e-0d4b-4c1a-9b7e-2a6f0c1d2e3f", LIA_CHANNEL_TAXII, "partners",
         "3f1c9a2e-0d4b-4c1a-9b7e-2a6f0c1d2e3f", NULL},
        {"taxii:api1/cert_my.inbox~2", LIA_CHANNEL_TAXII, "api1", "cert_my.inbox~2", NULL},
        {"taxii:https://taxii.example/api1/collections/x/", LIA_CHANNEL_TAXII_URL, NULL, NULL, NULL},
        {"email:cert@my.example", LIA_CHANNEL_EMAIL, NULL, NULL, NULL},
        {"api:https://api.example/v1/", LIA_CHANNEL_API, NULL, NULL, NULL},
        {"taxii:partners", 0, NULL, NULL, "taxii:API_ROOT/COLLECTION_ID"},
        {"taxii:partners/", 0, NULL, NULL, "one path segment"},
        {"taxii:/coll", 0, NULL, NULL, "one path segment"},
        {"taxii:partners/a/b", 0, NULL, NULL, "taxii:API_ROOT/COLLECTION_ID"},
        {"taxii:partners/a b", 0, NULL, NULL, "one path segment"},
        {"taxii:partners/..", 0, NULL, NULL, "one path segment"},
        {"taxii:ftp://t.example/", 0, NULL, NULL, "http(s) URL"},
        {"taxi:partners/x", 0, NULL, NULL, "a channel is"},
        {"email:nobody", 0, NULL, NULL, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_channel ch;
        lia_error err;
        int rc;
        lia_error_clear(&err);
        memset(&ch, 0, sizeof ch);
        rc = lia__channel_parse("cert-my", cases[i].in, strlen(cases[i].in), &ch, &err);
        if (!cases[i].kind) {
            if (rc != LIA_EINVAL)
                fail_msg("case %zu %s: rc %d, want LIA_EINVAL", i, cases[i].in, rc);
            if (!strstr(err.reason, "(partner cert-my)") || !strstr(err.reason, cases[i].why))
                fail_msg("case %zu %s: reason '%s' lacks the partner or '%s'", i, cases[i].in, err.reason,
                         cases[i].why);
            assert_string_equal(err.field, "channels");
            if (!strstr(err.value, "ta") && !strstr(err.value, "email"))
                fail_msg("case %zu: value '%s' is not the channel", i, err.value);
            continue;
        }
        if (rc != LIA_OK)
            fail_msg("case %zu %s: rejected (%s)", i, cases[i].in, err.reason);
        if (ch.kind != cases[i].kind)
            fail_msg("case %zu %s: kind %d, want %d", i, cases[i].in, ch.kind, cases[i].kind);
        if (cases[i].root) {
            assert_string_equal(ch.api_root, cases[i].root);
            assert_string_equal(ch.collection, cases[i].coll);
        }
    }
    /* through the directory: the error names the partner, the field and the value */
    {
        static const char y[] = "partners:\n  - id: cert-kh\n    countries: [KH]\n"
                                "    channels: [\"taxii:inbox\"]\n";
        lia_error err;
        lia_error_clear(&err);
        assert_int_equal(
            lia__party_parse(LIA_PARTY_PARTNER, "yaml", y, sizeof y - 1, ignore_party, NULL, &err),
            LIA_EINVAL);
        if (!strstr(err.reason, "partner cert-kh") || strcmp(err.field, "channels") != 0 ||
            strcmp(err.value, "taxii:inbox") != 0)
            fail_msg("error: field '%s' value '%s' reason '%s' line %llu", err.field, err.value, err.reason,
                     (unsigned long long)err.line);
        assert_int_equal(err.line, 4);
    }
}

typedef struct one_name {
    char name[64];
    size_t n;
} one_name;

static int keep_name(void *ud, const lia_party *p)
{
    one_name *o = ud;
    snprintf(o->name, sizeof o->name, "%s",
             lia_party_get(p, LIA_PF_NAME) ? lia_party_get(p, LIA_PF_NAME) : "");
    o->n++;
    return 0;
}

/* Names YAML would read otherwise are quoted on export (fuzz_partners:
 * "@artner" was written plain, and "@" is reserved at a scalar's start). */
static void test_yaml_export_quotes(void **state)
{
    static const char *const names[] = {"@artner", "-dash", ".dot", "yes", "a: b", "#c", "Partner", "x@y"};
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        lia_party p;
        lia_buf y;
        lia_error err;
        one_name got = {"", 0};
        lia_party_init(&p, LIA_PARTY_PARTNER);
        lia_error_clear(&err);
        assert_int_equal(lia_party_set_id(&p, "cert-my", 7, &err), LIA_OK);
        assert_int_equal(lia_party_add(&p, LIA_PF_NAME, names[i], strlen(names[i]), 0, &err), LIA_OK);
        assert_int_equal(lia_party_add(&p, LIA_PF_COUNTRIES, "MY", 2, 0, &err), LIA_OK);
        assert_int_equal(lia_party_add(&p, LIA_PF_CONTACTS, "c@my.example", 12, 0, &err), LIA_OK);
        lia_buf_init(&y, 4096);
        lia_buf_puts(&y, "partners:\n");
        assert_int_equal(lia_party_to_yaml(&p, &y), LIA_OK);
        if (lia__party_parse(LIA_PARTY_PARTNER, "yaml", y.ptr, y.len, keep_name, &got, &err) != LIA_OK)
            fail_msg("name %s: export does not read back: %s\n%s", names[i], err.reason, lia_buf_cstr(&y));
        assert_int_equal(got.n, 1);
        assert_string_equal(got.name, names[i]);
        lia_buf_free(&y);
        lia_party_free(&p);
    }
}

/* The YAML writer quotes what another YAML reader would not read as the
 * same string: boolean and null words in any case, but not plain numbers. */
static void test_yaml_scalar_quotes(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"partner", "partner"}, {"yes", "\"yes\""},       {"Yes", "\"Yes\""}, {"TRUE", "\"TRUE\""},
        {"off", "\"off\""},     {"On", "\"On\""},         {"n", "\"n\""},     {"Y", "\"Y\""},
        {"null", "\"null\""},   {"NULL", "\"NULL\""},     {"1", "1"},         {"0", "0"},
        {"64500", "64500"},     {"no-reply", "no-reply"}, {"", "\"\""},       {"-x", "\"-x\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_buf b;
        lia_buf_init(&b, 256);
        assert_int_equal(lia__yaml_scalar(&b, cases[i].in, strlen(cases[i].in)), LIA_OK);
        if (strcmp(lia_buf_cstr(&b), cases[i].out) != 0)
            fail_msg("[%s]: got [%s], want [%s]", cases[i].in, lia_buf_cstr(&b), cases[i].out);
        lia_buf_free(&b);
    }
}

static void test_party_bad_files(void **state)
{
    static const struct {
        int kind;
        const char *fmt, *text;
        uint64_t line; /* expected error line */
    } cases[] = {
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: a\n    asns: [1\n", 3},
        {LIA_PARTY_OWNER, "yaml",
         "owners:\n  - id: a\n    asns: [1]\n    color: red\n    contacts: [a@b.example]\n", 4},
        {LIA_PARTY_OWNER, "yaml", "owners:\n\t- id: a\n", 2},
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: a\n    asns: [1]\n    asns: [2]\n", 4},
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: A!\n    asns: [1]\n    contacts: [a@b.example]\n", 2},
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: a\n    contacts: [a@b.example]\n", 2}, /* no network */
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: a\n    name: &x y\n", 3},
        {LIA_PARTY_OWNER, "yaml", "partners:\n  - id: a\n", 1},
        {LIA_PARTY_PARTNER, "yaml",
         "partners:\n  - id: p\n    countries: [ZZZ]\n    contacts: [a@b.example]\n", 3},
        {LIA_PARTY_OWNER, "csv", "id,asns,contacts\na,64500,a@b.example\nb,x,a@b.example\n", 3},
        {LIA_PARTY_OWNER, "csv", "id,asns,colour\n", 1},
        {LIA_PARTY_OWNER, "csv", "asns,contacts\n1,a@b.example\n", 1},
        {LIA_PARTY_OWNER, "csv", "id,asns,contacts\na,1\n", 2},
        {LIA_PARTY_OWNER, "yaml", "owners:\n  - id: a\n    name: \"x\\", 3}, /* fuzz: escape at line end */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        coll c = {NULL, 0};
        lia_error err;
        int rc;
        lia_error_clear(&err);
        rc = lia__party_parse(cases[i].kind, cases[i].fmt, cases[i].text, strlen(cases[i].text), collect, &c,
                              &err);
        if (rc == LIA_OK)
            fail_msg("case %zu accepted", i);
        if (err.line != cases[i].line)
            fail_msg("case %zu: error on line %llu, want %llu (%s)", i, (unsigned long long)err.line,
                     (unsigned long long)cases[i].line, err.reason);
        coll_free(&c);
    }
}

static char *tmp_db(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/lia-route-test-%d-XXXXXX", (int)getpid());
    {
        int fd = mkstemp(buf);
        assert_true(fd >= 0);
        close(fd);
        unlink(buf);
    }
    return buf;
}

/* The store to open for the SQLite file path: path itself, or on
 * PostgreSQL (the meson test route_pg) LIAISON_TEST_PG emptied, its
 * archive under PATH.d. */
static void store_for(const char *path, char *sp, size_t n)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s.d", path);
    assert_int_equal(mkdir(dir, 0700), 0);
    if (lia_test_pg())
        assert_int_equal(lia_test_db_path(dir, "route", sp, n), 0);
    else
        snprintf(sp, n, "%s", path);
}

static void rm_db(const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "rm -rf '%s.d'", path);
    assert_int_equal(system(p), 0);
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "rm -rf '%s.archive'", path);
    assert_int_equal(system(p), 0);
}

static void test_party_roundtrip(void **state)
{
    char path[256], sp[300];
    lia_store *s;
    lia_error err;
    lia_buf y1, y2, csv;
    size_t n;
    (void)state;
    tmp_db(path, sizeof path);
    store_for(path, sp, sizeof sp);
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(sp, &s, &err), LIA_OK);
    assert_int_equal(lia_party_import(s, LIA_PARTY_OWNER, "yaml", owners_yaml, strlen(owners_yaml), &n, &err),
                     LIA_OK);
    assert_int_equal(n, 2);
    lia_buf_init(&y1, 1 << 20);
    lia_buf_init(&y2, 1 << 20);
    lia_buf_init(&csv, 1 << 20);
    assert_int_equal(lia_party_export(s, LIA_PARTY_OWNER, "yaml", &y1, &err), LIA_OK);
    assert_int_equal(lia_party_export(s, LIA_PARTY_OWNER, "csv", &csv, &err), LIA_OK);
    /* CSV back in, YAML out again: the same directory */
    assert_int_equal(lia_party_remove(s, LIA_PARTY_OWNER, "isp-a", &err), LIA_OK);
    assert_int_equal(lia_party_remove(s, LIA_PARTY_OWNER, "isp-a-customer", &err), LIA_OK);
    assert_int_equal(lia_party_remove(s, LIA_PARTY_OWNER, "isp-a", &err), LIA_ENOTFOUND);
    assert_int_equal(lia_party_import(s, LIA_PARTY_OWNER, "csv", csv.ptr, csv.len, &n, &err), LIA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(lia_party_export(s, LIA_PARTY_OWNER, "yaml", &y2, &err), LIA_OK);
    assert_string_equal(lia_buf_cstr(&y1), lia_buf_cstr(&y2));
    assert_non_null(strstr(lia_buf_cstr(&y1), "asns: [64500, 64501]"));
    /* YAML export imports again */
    assert_int_equal(lia_party_import(s, LIA_PARTY_OWNER, "yaml", y1.ptr, y1.len, &n, &err), LIA_OK);
    /* a conflicting claim is refused, and nothing of that import stays */
    {
        static const char bad[] = "id,asns,contacts\nnew-one,1234,a@new.example\nthief,64500,a@b.example\n";
        lia_party p;
        assert_int_equal(lia_party_import(s, LIA_PARTY_OWNER, "csv", bad, strlen(bad), &n, &err), LIA_EEXIST);
        assert_non_null(strstr(err.reason, "isp-a"));
        assert_int_equal(lia_party_get_one(s, LIA_PARTY_OWNER, "new-one", &p, &err), LIA_ENOTFOUND);
    }
    /* save refuses an existing id unless replacing */
    {
        lia_party p;
        lia_party_init(&p, LIA_PARTY_OWNER);
        assert_int_equal(lia_party_set_id(&p, "isp-a", 5, &err), LIA_OK);
        assert_int_equal(lia_party_add(&p, LIA_PF_ASNS, "64500", 5, 0, &err), LIA_OK);
        assert_int_equal(lia_party_add(&p, LIA_PF_CONTACTS, "x@y.example", 11, 0, &err), LIA_OK);
        assert_int_equal(lia_party_save(s, &p, 0, &err), LIA_EEXIST);
        assert_int_equal(lia_party_save(s, &p, 1, &err), LIA_OK);
        lia_party_free(&p);
        assert_int_equal(lia_party_get_one(s, LIA_PARTY_OWNER, "isp-a", &p, &err), LIA_OK);
        assert_string_equal(lia_party_get(&p, LIA_PF_CONTACTS), "x@y.example");
        assert_int_equal(p.f[LIA_PF_CIDRS].n, 0);
        lia_party_free(&p);
    }
    /* a party that a rule names cannot be removed: the removal is undone */
    {
        static const char rules[] = "rules:\n  - name: lab\n    asn: [64500]\n    to: [owner:isp-a]\n";
        lia_party p;
        assert_int_equal(lia_route_config_put(s, rules, strlen(rules), &err), LIA_OK);
        assert_int_equal(lia_party_remove(s, LIA_PARTY_OWNER, "isp-a", &err), LIA_ENOTFOUND);
        assert_non_null(strstr(err.reason, "rule 'lab'"));
        lia_error_clear(&err);
        assert_int_equal(lia_party_get_one(s, LIA_PARTY_OWNER, "isp-a", &p, &err), LIA_OK);
        lia_party_free(&p);
    }
    lia_buf_free(&y1);
    lia_buf_free(&y2);
    lia_buf_free(&csv);
    lia_store_close(s);
    rm_db(path);
}

/* ---- owner lookup ---- */

static void test_owner_lookup(void **state)
{
    static const struct {
        const char *q;
        const char *owner; /* NULL: none */
    } cases[] = {
        {"192.0.2.1", "isp-a"},
        {"192.0.2.127", "isp-a"},
        {"192.0.2.128", "isp-a-customer"},
        {"192.0.2.255", "isp-a-customer"},
        {"192.0.3.1", NULL},
        {"2001:db8::1", "isp-a"},
        {"2001:db8:1::9", "isp-a-customer"},
        {"2001:db9::1", NULL},
        {"192.0.2.128/26", "isp-a-customer"},
        {"192.0.0.0/16", NULL},
    };
    lia_route *rt = make_route(NULL);
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_ip ip;
        int o;
        assert_int_equal(lia_parse_cidr(cases[i].q, strlen(cases[i].q), &ip, NULL), LIA_OK);
        o = lia_route_owner_ip(rt, &ip);
        if (!cases[i].owner) {
            if (o >= 0)
                fail_msg("%s: owner %s, want none", cases[i].q, lia_route_party(rt, o)->id);
        } else {
            if (o < 0)
                fail_msg("%s: no owner, want %s", cases[i].q, cases[i].owner);
            assert_string_equal(lia_route_party(rt, o)->id, cases[i].owner);
        }
    }
    assert_string_equal(lia_route_party(rt, lia_route_owner_asn(rt, 64501))->id, "isp-a");
    assert_int_equal(lia_route_owner_asn(rt, 64502), -1);
    assert_string_equal(lia_route_party(rt, lia_route_owner_domain(rt, "www.shop.isp-a.example", 22))->id,
                        "isp-a-customer");
    assert_string_equal(lia_route_party(rt, lia_route_owner_domain(rt, "mail.isp-a.example", 18))->id,
                        "isp-a");
    assert_int_equal(lia_route_owner_domain(rt, "xisp-a.example", 14), -1);
    lia_route_destroy(rt);
}

/* The IPv4 fast path (/16 table + flattened runs) against a brute-force
 * longest-prefix match over random nested prefixes. */
static uint64_t seed = 88172645463325252ULL;
static uint32_t rnd32(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (uint32_t)(seed >> 16);
}

static void test_lpm_random(void **state)
{
    enum { NP = 3000, NQ = 50000 };
    static uint32_t pa[NP];
    static uint8_t pl[NP];
    static lia_party owners[NP];
    lia_route *rt = NULL;
    lia_error err;
    size_t np = 0;
    (void)state;
    lia_error_clear(&err);
    while (np < NP) {
        uint32_t len, a;
        int dup = 0;
        if (np && rnd32() % 3 == 0) { /* nested inside an earlier one */
            size_t k = rnd32() % np;
            if (pl[k] >= 32)
                continue;
            len = pl[k] + 1 + rnd32() % (uint32_t)(32 - pl[k] > 8 ? 8 : 32 - pl[k]);
            if (len > 32)
                continue;
            a = pa[k] | (rnd32() & (len == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu << (32 - pl[k]))));
        } else {
            len = 8 + rnd32() % 17;                    /* /8 .. /24 */
            a = 0x0A000000u | (rnd32() & 0x00FFFFFFu); /* inside 10/8, so they overlap */
        }
        a &= len ? 0xFFFFFFFFu << (32 - len) : 0;
        for (size_t k = 0; k < np && !dup; k++)
            dup = pa[k] == a && pl[k] == len;
        if (dup)
            continue;
        {
            char id[32], c[32];
            lia_party *o = &owners[np];
            lia_party_init(o, LIA_PARTY_OWNER);
            snprintf(id, sizeof id, "o%zu", np);
            lia_party_set_id(o, id, strlen(id), NULL);
            snprintf(c, sizeof c, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len);
            assert_int_equal(lia_party_add(o, LIA_PF_CIDRS, c, strlen(c), 0, &err), LIA_OK);
            assert_int_equal(lia_party_add(o, LIA_PF_CONTACTS, "a@b.example", 11, 0, &err), LIA_OK);
        }
        pa[np] = a;
        pl[np] = (uint8_t)len;
        np++;
    }
    assert_int_equal(lia__route_create(owners, np, NULL, 0, &rt, &err), LIA_OK);
    for (int q = 0; q < NQ; q++) {
        uint32_t a = q % 2 ? pa[rnd32() % np] + (rnd32() % 64) : (0x0A000000u | (rnd32() & 0x00FFFFFFu));
        int want = -1, wl = -1, got;
        lia_ip ip;
        char t[32];
        for (size_t k = 0; k < np; k++) {
            uint32_t m = pl[k] ? 0xFFFFFFFFu << (32 - pl[k]) : 0;
            if ((a & m) == pa[k] && (int)pl[k] > wl) {
                wl = pl[k];
                want = (int)k;
            }
        }
        snprintf(t, sizeof t, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        assert_int_equal(lia_parse_ip(t, strlen(t), &ip, NULL), LIA_OK);
        got = lia_route_owner_ip(rt, &ip);
        if (got != want)
            fail_msg("%s: owner %d, brute force %d (/%d)", t, got, want, wl);
    }
    lia_route_destroy(rt);
    for (size_t k = 0; k < np; k++)
        lia_party_free(&owners[k]);
}

/* ---- TLP policy ---- */

static void test_tlp_policy(void **state)
{
    static const struct {
        int kind, tlp_max, agreement;
        const char *ev_tlp; /* NULL = unmarked */
        const char *owner;  /* owner of the event's network */
        int want;
    } cases[] = {
        {LIA_PARTY_OWNER, LIA_TLP_AMBER_STRICT, 1, "RED", "me", 0},
        {LIA_PARTY_PARTNER, LIA_TLP_RED, 1, "RED", NULL, 0},
        {LIA_PARTY_OWNER, LIA_TLP_AMBER_STRICT, 1, "AMBER+STRICT", "me", 1},
        {LIA_PARTY_OWNER, LIA_TLP_AMBER_STRICT, 1, "AMBER+STRICT", "other", 0},
        {LIA_PARTY_OWNER, LIA_TLP_AMBER_STRICT, 1, "AMBER+STRICT", NULL, 0},
        {LIA_PARTY_PARTNER, LIA_TLP_RED, 1, "AMBER+STRICT", "me", 0},
        {LIA_PARTY_OWNER, LIA_TLP_AMBER, 1, "AMBER+STRICT", "me", 0}, /* above ceiling */
        {LIA_PARTY_PARTNER, LIA_TLP_GREEN, 1, "AMBER", NULL, 0},
        {LIA_PARTY_PARTNER, LIA_TLP_GREEN, 1, "GREEN", NULL, 1},
        {LIA_PARTY_PARTNER, LIA_TLP_AMBER, 0, "GREEN", NULL, 0}, /* no agreement */
        {LIA_PARTY_PARTNER, LIA_TLP_AMBER, 0, "CLEAR", NULL, 1},
        {LIA_PARTY_PARTNER, LIA_TLP_AMBER, 1, NULL, NULL, 1}, /* unmarked = AMBER */
        {LIA_PARTY_PARTNER, LIA_TLP_GREEN, 1, NULL, NULL, 0},
        {LIA_PARTY_OWNER, LIA_TLP_CLEAR, 1, "GREEN", "me", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_event ev;
        lia_error err;
        lia_recipient r = {cases[i].kind, "me", cases[i].tlp_max, cases[i].agreement};
        const char *why = NULL;
        int got;
        lia_event_init(&ev);
        lia_error_clear(&err);
        assert_int_equal(lia_event_set(&ev, LIA_F_SOURCE_IP, "192.0.2.1", 9, &err), LIA_OK);
        if (cases[i].ev_tlp)
            assert_int_equal(lia_event_set(&ev, LIA_F_TLP, cases[i].ev_tlp, strlen(cases[i].ev_tlp), &err),
                             LIA_OK);
        got = lia__tlp_allows(&r, &ev, cases[i].owner, &why);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d want %d (%s)", i, got, cases[i].want, why);
        assert_non_null(why);
        lia_event_free(&ev);
    }
    /* the plain-value form used by paths without an event */
    {
        lia_recipient own = {LIA_PARTY_OWNER, "me", LIA_TLP_AMBER_STRICT, 1};
        lia_recipient par = {LIA_PARTY_PARTNER, "p", LIA_TLP_AMBER, 1};
        const char *why = NULL;
        assert_int_equal(lia__tlp_check(&own, LIA_TLP_AMBER_STRICT, 1, &why), 1);
        assert_int_equal(lia__tlp_check(&own, LIA_TLP_AMBER_STRICT, 0, &why), 0);
        assert_int_equal(lia__tlp_check(&own, LIA_TLP_RED, 1, &why), 0);
        assert_int_equal(lia__tlp_check(&own, 7, 1, &why), 0);  /* unknown marking */
        assert_int_equal(lia__tlp_check(&par, -1, 0, &why), 1); /* unmarked = AMBER */
        assert_int_equal(lia__tlp_check(&par, LIA_TLP_AMBER_STRICT, 1, &why), 0);
        assert_non_null(why);
    }
}

/* ---- routing ---- */

static const char rules[] = "home_country: CN\n"
                            "mode: first\n"
                            "redact: [raw, extra.internal_*]\n"
                            "redact_partner: [source.account]\n"
                            "rules:\n"
                            "  - name: ics-abroad\n"
                            "    sector: [ics]\n"
                            "    country: [foreign]\n"
                            "    to: [default, partner:cert-ics]\n"
                            "  - name: drop-spam\n"
                            "    type: [spam]\n"
                            "    to: [drop]\n"
                            "  - name: phishing-feed-to-a\n"
                            "    feed: [phish-feed]\n"
                            "    tlp: [GREEN, CLEAR]\n"
                            "    to: [owner:isp-a]\n";

typedef struct evspec {
    const char *kv[8]; /* "field=value" */
} evspec;

static void build(lia_event *ev, const evspec *s)
{
    lia_error err;
    lia_event_reset(ev);
    for (size_t i = 0; i < 8 && s->kv[i]; i++) {
        const char *eq = strchr(s->kv[i], '=');
        lia_error_clear(&err);
        if (lia_event_set_name(ev, s->kv[i], (size_t)(eq - s->kv[i]), eq + 1, strlen(eq + 1), &err))
            fail_msg("%s: %s", s->kv[i], err.reason);
    }
    if (s->kv[0] && strncmp(s->kv[0], "extra.sector", 12) == 0) {
        /* extra.sector as set by lia_event_set_name is a JSON string */
    }
}

static void test_route_decisions(void **state)
{
    static const struct {
        evspec ev;
        const char *want; /* "name verdict; ..." in order */
    } cases[] = {
        /* home network owned by a constituent: the owner (longest prefix) */
        {{{"source.ip=192.0.2.200", "source.geolocation.cc=CN", "tlp=AMBER"}},
         "owner:isp-a-customer deliver"},
        /* owner by ASN when the IP is not covered */
        {{{"source.ip=198.51.100.1", "source.asn=64501", "tlp=AMBER"}}, "owner:isp-a deliver"},
        /* owner by domain of the URL */
        {{{"source.url=http://www.shop.isp-a.example/x", "tlp=GREEN"}}, "owner:isp-a-customer deliver"},
        /* home country, nobody owns it: unrouted */
        {{{"source.ip=198.51.100.1", "source.geolocation.cc=CN"}}, "unrouted unrouted"},
        /* foreign: the partner CERTs covering the country, TLP per ceiling */
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=MY", "tlp=AMBER"}},
         "partner:cert-my deliver; partner:cert-ics deny"},
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=MY", "tlp=GREEN"}},
         "partner:cert-my deliver; partner:cert-ics deliver"},
        /* no agreement: only CLEAR */
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=TH", "tlp=GREEN"}},
         "partner:cert-th deny; partner:cert-ics deliver"},
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=TH", "tlp=CLEAR"}},
         "partner:cert-th deliver; partner:cert-ics deliver"},
        /* TLP:RED never leaves */
        {{{"source.ip=192.0.2.1", "tlp=RED"}}, "owner:isp-a deny"},
        /* AMBER+STRICT: the owning organisation only, never a partner */
        {{{"source.ip=192.0.2.1", "tlp=AMBER+STRICT"}}, "owner:isp-a deliver"},
        {{{"source.ip=192.0.2.130", "tlp=AMBER+STRICT"}},
         "owner:isp-a-customer deny"}, /* its ceiling is AMBER */
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=MY", "tlp=AMBER+STRICT"}},
         "partner:cert-my deny; partner:cert-ics deny"},
        /* a country nobody covers */
        {{{"source.ip=203.0.113.5", "source.geolocation.cc=BR"}}, "unrouted unrouted"},
        /* rule: ICS abroad also to the ICS CERT (plus default) */
        {{{"extra.sector=ics", "source.geolocation.cc=TH", "tlp=CLEAR"}},
         "partner:cert-th deliver; partner:cert-ics deliver"},
        {{{"extra.sector=ics", "source.geolocation.cc=BR", "tlp=GREEN"}}, "partner:cert-ics deliver"},
        /* rule: spam is dropped */
        {{{"classification.type=spam", "source.ip=192.0.2.1"}}, "dropped dropped"},
        /* rule with feed and TLP: GREEN from the phishing feed goes to isp-a */
        {{{"feed.name=phish-feed", "tlp=GREEN", "source.geolocation.cc=MY"}}, "owner:isp-a deliver"},
        {{{"feed.name=phish-feed", "tlp=AMBER", "source.geolocation.cc=MY"}},
         "partner:cert-my deliver; partner:cert-ics deny"},
    };
    lia_route *rt = make_route(rules);
    lia_event ev;
    (void)state;
    lia_event_init(&ev);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_decision d[LIA_ROUTE_MAX_DECISIONS];
        char got[1024] = "";
        size_t n, k = 0;
        build(&ev, &cases[i].ev);
        n = lia_route_event(rt, &ev, d);
        for (size_t j = 0; j < n; j++) {
            char name[128];
            lia_route_recipient_name(rt, &d[j], name, sizeof name);
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%s %s", j ? "; " : "", name,
                                  lia_verdict_name(d[j].verdict));
            assert_non_null(d[j].reason);
            assert_non_null(d[j].why);
        }
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
    }
    lia_event_free(&ev);
    lia_route_destroy(rt);
}

static void test_mode_all(void **state)
{
    static const char cfg[] = "home_country: CN\nmode: all\nrules:\n"
                              "  - name: one\n    country: [MY]\n    to: [partner:cert-th]\n"
                              "  - name: two\n    cidr: [203.0.113.0/24]\n    to: [default]\n";
    lia_route *rt = make_route(cfg);
    lia_event ev;
    lia_decision d[LIA_ROUTE_MAX_DECISIONS];
    evspec s = {{"source.ip=203.0.113.9", "source.geolocation.cc=MY", "tlp=CLEAR"}};
    size_t n;
    (void)state;
    lia_event_init(&ev);
    build(&ev, &s);
    n = lia_route_event(rt, &ev, d);
    assert_int_equal(n, 3);
    assert_string_equal(lia_route_party(rt, d[0].party)->id, "cert-th");
    assert_string_equal(lia_route_rule_name(rt, d[0].rule), "one");
    assert_string_equal(lia_route_party(rt, d[1].party)->id, "cert-my");
    assert_string_equal(lia_route_rule_name(rt, d[1].rule), "two");
    lia_event_free(&ev);
    lia_route_destroy(rt);
}

static void test_rules_errors(void **state)
{
    static const struct {
        const char *text;
        uint64_t line;
        const char *reason; /* substring */
    } cases[] = {
        {"home_country: XYZ\n", 1, ""},
        {"mode: sometimes\n", 1, "mode"},
        {"colour: red\n", 1, "unknown setting"},
        {"rules:\n  - name: a\n    country: [MY]\n", 2, "to:"},
        {"rules:\n  - name: a\n    planet: [mars]\n    to: [owner]\n", 3, "unknown rule key"},
        {"rules:\n  - name: a\n    type: [not-a-type]\n    to: [owner]\n", 3, "RSIT"},
        {"rules:\n  - name: a\n    to: [drop, owner]\n", 3, "drop"},
        {"rules:\n  - name: a\n    to: [everyone]\n", 3, "recipient"},
        {"rules:\n  - name: a\n    to: [owner]\n  - name: a\n    to: [owner]\n", 4, "same name"},
        {"rules:\n  - name: a\n    country: [foreign]\n    to: [owner]\n", 3, "home_country"},
        {"redact: [not.a.field]\n", 1, "field"},
        {"rules:\n  - name: a\n    cidr: [10.0.0.0/33]\n    to: [owner]\n", 3, ""},
        /* fuzz: a nested list in a rule (the error read the freed item) */
        {"rules:\n  - name: a\n    country:\n      - [MY]\n    to: [owner]\n", 4, "lists of scalars"},
        /* fuzz: more than 32 recipients */
        {"rules:\n  - name: a\n    to: "
         "[owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,"
         "owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,owner,"
         "owner,"
         "owner,owner,owner,owner]\n",
         3, "1 to 32"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_error err;
        lia_error_clear(&err);
        if (lia_route_config_check(cases[i].text, strlen(cases[i].text), &err) == LIA_OK)
            fail_msg("case %zu accepted", i);
        if (err.line != cases[i].line || !strstr(err.reason, cases[i].reason))
            fail_msg("case %zu: line %llu \"%s\", want line %llu with \"%s\"", i,
                     (unsigned long long)err.line, err.reason, (unsigned long long)cases[i].line,
                     cases[i].reason);
    }
    /* a rule naming a party that does not exist fails when built */
    {
        static const char cfg[] = "rules:\n  - name: a\n    to: [partner:nobody]\n";
        coll c = {NULL, 0};
        lia_route *rt = NULL;
        lia_error err;
        lia_error_clear(&err);
        assert_int_equal(lia_route_config_check(cfg, strlen(cfg), &err), LIA_OK);
        assert_int_equal(lia__route_create(c.p, 0, cfg, strlen(cfg), &rt, &err), LIA_ENOTFOUND);
        assert_null(rt);
    }
}

static void test_redact(void **state)
{
    lia_route *rt = make_route(rules);
    lia_event ev, out;
    lia_error err;
    lia_buf js;
    evspec s = {{"source.ip=192.0.2.1", "source.account=alice", "raw=aGVsbG8=", "extra.internal_note=secret",
                 "extra.keep=yes", "tlp=GREEN"}};
    (void)state;
    lia_event_init(&ev);
    lia_event_init(&out);
    lia_error_clear(&err);
    lia_buf_init(&js, 1 << 20);
    build(&ev, &s);
    /* owner: raw and extra.internal_* go; source.account stays */
    assert_int_equal(
        lia__route_redact(rt, lia__route_party_find(rt, LIA_PARTY_OWNER, "isp-a"), &ev, &out, &err), LIA_OK);
    lia_event_to_json(&out, &js);
    assert_null(strstr(js.ptr, "\"raw\""));
    assert_null(strstr(js.ptr, "internal_note"));
    assert_non_null(strstr(js.ptr, "\"source.account\":\"alice\""));
    assert_non_null(strstr(js.ptr, "\"extra.keep\":\"yes\""));
    /* partner: source.account goes too */
    lia_buf_reset(&js);
    assert_int_equal(
        lia__route_redact(rt, lia__route_party_find(rt, LIA_PARTY_PARTNER, "cert-my"), &ev, &out, &err),
        LIA_OK);
    lia_event_to_json(&out, &js);
    assert_null(strstr(js.ptr, "source.account"));
    assert_non_null(strstr(js.ptr, "\"source.ip\":\"192.0.2.1\""));
    lia_buf_free(&js);
    lia_event_free(&ev);
    lia_event_free(&out);
    lia_route_destroy(rt);
}

/* The redaction as it was made before (event -> JSON -> jansson, keys
 * deleted -> JSON -> event), for the differential test below. */
static int pat_match(const char *key, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (l && v[i][l - 1] == '*' ? strncmp(key, v[i], l - 1) == 0 : strcmp(key, v[i]) == 0)
            return 1;
    }
    return 0;
}

static void redact_by_json(char *const *all, size_t nall, char *const *mine, size_t nmine,
                           const lia_event *ev, lia_event *out)
{
    lia_buf js;
    json_t *o, *v;
    const char *key;
    void *tmp;
    char *txt;
    lia_error err;
    lia_buf_init(&js, 1 << 20);
    assert_int_equal(lia_event_to_json(ev, &js), LIA_OK);
    o = json_loads(lia_buf_cstr(&js), 0, NULL);
    assert_non_null(o);
    json_object_foreach_safe(o, tmp, key, v)
    {
        if (pat_match(key, all, nall) || pat_match(key, mine, nmine))
            json_object_del(o, key);
    }
    if (json_object_size(o) == 0)
        json_object_set_new(o, "comment", json_string("all fields redacted for this recipient"));
    txt = json_dumps(o, JSON_COMPACT);
    lia_error_clear(&err);
    assert_int_equal(lia_event_from_json(out, txt, strlen(txt), &err), LIA_OK);
    free(txt);
    json_decref(o);
    lia_buf_free(&js);
}

/* The in-memory redaction gives what the JSON round trip gave, field for
 * field, on events of every value type, with wildcards and with nothing
 * left. */
static void test_redact_same_as_json(void **state)
{
    static const char cfg[] = "redact: [raw, extra.internal_*, time.*]\n"
                              "redact_owner: [source.*, comment]\n"
                              "redact_partner: [source.account, extra.*, feed.name, classification.*]\n";
    static char *const all[] = {(char *)"raw", (char *)"extra.internal_*", (char *)"time.*"};
    static char *const own[] = {(char *)"source.*", (char *)"comment"};
    static char *const par[] = {(char *)"source.account", (char *)"extra.*", (char *)"feed.name",
                                (char *)"classification.*"};
    static const evspec evs[] = {
        {{"source.ip=192.0.2.1", "source.account=alice", "raw=aGVsbG8=", "extra.internal_note=secret",
          "extra.keep=yes", "tlp=GREEN", "comment=a note"}},
        {{"source.network=198.51.100.0/24", "source.asn=64500", "source.port=443",
          "destination.fqdn=example.org", "time.source=2024-01-02T03:04:05.678901+00:00",
          "classification.type=phishing", "feed.accuracy=87.5"}},
        {{"destination.url=https://example.org/a?b=c", "source.geolocation.latitude=1.2345678901234567",
          "time.observation=2024-05-06T07:08:09+00:00", "extra.internal=x", "extra.internal_a=y",
          "feed.name=feed x"}},
        {{"raw=aGVsbG8=", "time.source=2024-01-02T03:04:05+00:00"}}, /* nothing left for anyone */
        {{"source.fqdn=xn--bcher-kva.example",
          "malware.hash.sha256="
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "extra.count=12", "extra.list=[1,2,3]"}},
    };
    lia_route *rt = make_route(cfg);
    lia_event ev, a, b;
    lia_buf ja, jb;
    lia_error err;
    (void)state;
    lia_event_init(&ev);
    lia_event_init(&a);
    lia_event_init(&b);
    lia_buf_init(&ja, 1 << 20);
    lia_buf_init(&jb, 1 << 20);
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        build(&ev, &evs[i]);
        ev.id = 42;
        for (int k = 0; k < 2; k++) {
            int idx = k == 0 ? lia__route_party_find(rt, LIA_PARTY_OWNER, "isp-a")
                             : lia__route_party_find(rt, LIA_PARTY_PARTNER, "cert-my");
            lia_error_clear(&err);
            assert_int_equal(lia__route_redact(rt, idx, &ev, &a, &err), LIA_OK);
            if (k == 0)
                redact_by_json(all, 3, own, 2, &ev, &b);
            else
                redact_by_json(all, 3, par, 4, &ev, &b);
            lia_buf_reset(&ja);
            lia_buf_reset(&jb);
            lia_event_to_json(&a, &ja);
            lia_event_to_json(&b, &jb);
            lia_buf_append(&ja, "", 0);
            lia_buf_append(&jb, "", 0);
            if (strcmp(lia_buf_cstr(&ja), lia_buf_cstr(&jb)) != 0)
                fail_msg("event %zu, %s: in memory %s, by JSON %s", i, k ? "partner" : "owner",
                         lia_buf_cstr(&ja), lia_buf_cstr(&jb));
            assert_int_equal(a.id, 42);
        }
    }
    lia_buf_free(&ja);
    lia_buf_free(&jb);
    lia_event_free(&ev);
    lia_event_free(&a);
    lia_event_free(&b);
    lia_route_destroy(rt);
}

/* ---- the stage, through a real ingest ---- */

typedef struct rows {
    char got[2048];
    size_t k;
} rows;

static int row_cb(void *ud, const lia_route_row *r)
{
    rows *x = ud;
    x->k += (size_t)snprintf(x->got + x->k, sizeof x->got - x->k, "%s%s %s %s", x->k ? "; " : "",
                             r->recipient, r->verdict, r->rule);
    return 0;
}

static void test_stage(void **state)
{
    char path[256], in[300], sp[300];
    lia_store *s;
    lia_error err;
    lia_ingest_opts o;
    lia_ingest_result res;
    size_t n;
    FILE *f;
    static const char *const want[] = {
        "owner:isp-a deliver default",
        "partner:cert-ics deny default; partner:cert-my deliver default", /* store: id order */
        "unrouted unrouted default",
        "dropped dropped drop-spam",
    };
    (void)state;
    tmp_db(path, sizeof path);
    snprintf(in, sizeof in, "%s.jsonl", path);
    f = fopen(in, "w");
    assert_non_null(f);
    fputs("{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"scanner\"}\n"
          "{\"source.ip\":\"203.0.113.1\",\"source.geolocation.cc\":\"MY\",\"classification.type\":"
          "\"scanner\"}\n"
          "{\"source.ip\":\"198.51.100.1\",\"source.geolocation.cc\":\"CN\",\"classification.type\":"
          "\"scanner\"}\n"
          "{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"spam\"}\n",
          f);
    fclose(f);
    store_for(path, sp, sizeof sp);
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(sp, &s, &err), LIA_OK);
    assert_int_equal(lia_party_import(s, LIA_PARTY_OWNER, "yaml", owners_yaml, strlen(owners_yaml), &n, &err),
                     LIA_OK);
    assert_int_equal(
        lia_party_import(s, LIA_PARTY_PARTNER, "yaml", partners_yaml, strlen(partners_yaml), &n, &err),
        LIA_OK);
    assert_int_equal(lia_route_config_put(s, rules, strlen(rules), &err), LIA_OK);
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = in;
    o.feed.feed = "test";
    o.feed.tlp = -1;
    o.batch = 3; /* two batches: ids resolved across batches */
    if (lia_ingest(s, &o, &res, &err) != LIA_OK)
        fail_msg("ingest: %s", err.reason);
    assert_int_equal(res.report.events, 4);
    for (int64_t id = 1; id <= 4; id++) {
        rows x;
        memset(&x, 0, sizeof x);
        assert_int_equal(lia_route_rows(s, id, row_cb, &x, &err), LIA_OK);
        if (strcmp(x.got, want[id - 1]) != 0)
            fail_msg("event %lld: \"%s\", want \"%s\"", (long long)id, x.got, want[id - 1]);
    }
    lia_store_close(s);
    unlink(in);
    rm_db(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_party_values),
        cmocka_unit_test(test_party_bad_files),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_yaml_export_quotes),
        cmocka_unit_test(test_yaml_scalar_quotes),
        cmocka_unit_test(test_party_roundtrip),
        cmocka_unit_test(test_owner_lookup),
        cmocka_unit_test(test_lpm_random),
        cmocka_unit_test(test_tlp_policy),
        cmocka_unit_test(test_route_decisions),
        cmocka_unit_test(test_mode_all),
        cmocka_unit_test(test_rules_errors),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_same_as_json),
        cmocka_unit_test(test_stage),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("route"), tests, NULL, NULL);
}
