/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Out-of-memory tests: each operation runs with its 1st, 2nd, 3rd, ...
 * allocation failing (alloc_fail.h) and must return LIA_ENOMEM (never
 * LIA_OK with data missing, never a crash; LeakSanitizer in the ASan build
 * checks that nothing leaks), and LIA_OK once no allocation fails.
 *
 * Operations: the formats as ingest runs them (parse, normalise, event
 * finish, event JSON) on a small CSV (Shadowserver, abuse.ch Feodo
 * Tracker), a JSON-lines report and the importers (STIX 2.1, MISP, IODEF);
 * lia_ingest_buffer of a CSV into a store (the whole pipeline: parse,
 * normalise, enrich, dedup, route, store); and TAXII requests through the
 * handler as the HTTP server calls it, with a request built by hand
 * (discovery, API root, collections, objects and manifest GET, objects
 * POST). Not under the hook: the HTTP server's own framing (server.c), whose
 * allocations are libmicrohttpd's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_fail.h"
#include "taxii/taxii_http.h"
#include "liaison/liaison.h"
#include "taxii/taxii_internal.h"
#include "core/records.h"

/* ---- formats, as ingest runs them ---- */

typedef struct fmt_case {
    const char *format;
    const char *subtype, *report_name;
    const char *data; /* or file, relative to the source root */
    const char *file;
    size_t len;
    char *owned;
    int held_open; /* open (e.g. loading the Shadowserver schema) not under test */
} fmt_case;

static void load(fmt_case *c)
{
    char p[1024];
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    FILE *f;
    long n;
    if (c->data) {
        c->len = strlen(c->data);
        return;
    }
    snprintf(p, sizeof p, "%s/%s", root ? root : ".", c->file);
    assert_non_null(f = fopen(p, "rb"));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    assert_true((n = ftell(f)) > 0);
    rewind(f);
    assert_non_null(c->owned = malloc((size_t)n));
    assert_int_equal(fread(c->owned, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    c->data = c->owned;
    c->len = (size_t)n;
}

/* One run of the format over the whole input; LIA_ENOMEM when the parser
 * or normalise says so, or when a record failed for lack of memory (ingest
 * would otherwise quarantine a good row). */
/* FNV-1a, to compare results. */
static unsigned long sum_add(unsigned long h, const void *p, size_t n)
{
    const unsigned char *b = p;
    if (h == 0)
        h = 14695981039346656037ul;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ul;
    return h;
}

static int fmt_op(void *ud)
{
    fmt_case *c = ud;
    const lia_format *f = lia_format_find(c->format);
    lia_feed_opts fo;
    lia_records rs;
    lia_error err;
    lia_event ev;
    lia_buf js;
    void *st = NULL;
    int rc, events = 0;
    lia_error_clear(&err);
    memset(&fo, 0, sizeof fo);
    fo.feed = "oom";
    fo.tlp = -1;
    fo.subtype = c->subtype;
    fo.report_name = c->report_name;
    lia_alloc_fail_hold(c->held_open);
    rc = f->open(&st, &fo, &err);
    lia_alloc_fail_hold(0);
    if (rc) {
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "open: %s", err.reason);
        return rc;
    }
    lia__records_init(&rs);
    lia_event_init(&ev);
    lia_buf_init(&js, 1u << 20);
    if ((rc = f->parse(st, c->data, c->len, 1, &rs, &err)))
        goto out;
    for (size_t i = 0; i < rs.n && rc == LIA_OK; i++) {
        const lia_record *r = &rs.rec[i];
        if (r->err) {
            if (r->err == LIA_ENOMEM)
                rc = LIA_ENOMEM;
            lia_alloc_fail_sum =
                sum_add(lia_alloc_fail_sum, r->why ? r->why : "?", r->why ? strlen(r->why) : 1);
            continue;
        }
        lia_event_reset(&ev);
        lia_error_clear(&err);
        rc = f->normalise(st, &rs, r, &ev, &err);
        if (rc == LIA_OK)
            rc = lia_event_finish(&ev, &err);
        if (rc == LIA_OK) {
            lia_buf_reset(&js);
            rc = lia_event_to_json(&ev, &js);
            lia_alloc_fail_sum = sum_add(lia_alloc_fail_sum, js.ptr, js.len);
            events++;
        } else if (rc != LIA_ENOMEM) {
            lia_alloc_fail_sum = sum_add(lia_alloc_fail_sum, err.reason, strlen(err.reason));
            rc = LIA_OK; /* quarantined as in a run without failures */
        }
    }
    if (rc == LIA_OK && events == 0)
        rc = LIA_EINVAL; /* the samples all hold events */
out:
    if (rc)
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "%s", err.reason);
    lia_buf_free(&js);
    lia_event_free(&ev);
    lia__records_free(&rs);
    f->close(st);
    return rc;
}

/* Only the format's open (and close). */
static int open_op(void *ud)
{
    fmt_case *c = ud;
    const lia_format *f = lia_format_find(c->format);
    lia_feed_opts fo;
    lia_error err;
    void *st = NULL;
    int rc;
    memset(&fo, 0, sizeof fo);
    fo.feed = "oom";
    fo.tlp = -1;
    fo.subtype = c->subtype;
    fo.report_name = c->report_name;
    if ((rc = f->open(&st, &fo, &err))) {
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "%s", err.reason);
        return rc;
    }
    f->close(st);
    return LIA_OK;
}

static void run_fmt(fmt_case *c)
{
    load(c);
    size_t n = lia_alloc_fail_each(c->format, fmt_op, c, 1, 0);
    print_message("%s: %zu allocations, each failed once\n", c->format, n);
    free(c->owned);
}

static void test_shadowserver_csv(void **state)
{
    fmt_case c = {.format = "shadowserver",
                  .report_name = "2026-11-27-scan_ics-demo.csv",
                  .data = "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\","
                          "\"region\",\"city\",\"naics\",\"sic\",\"sector\",\"device_vendor\"\n"
                          "2026-11-27 05:18:25,58.212.47.143,tcp,44818,,ethernetip,4134,CN,JIANGSU,,0,0,,"
                          "\"Siemens\"\n"
                          "2026-11-27 18:47:41,116.87.233.174,tcp,47808,,bacnet,9506,SG,SINGAPORE,,0,0,,"
                          "\"Schneider Electric\"\n"
                          "bad,row\n",
                  .held_open = 1};
    (void)state;
    run_fmt(&c);
}

/* Opening a Shadowserver report loads the schema (share/shadowserver):
 * about 13,000 allocations, so every 151st is failed (and the last). */
static void test_shadowserver_schema(void **state)
{
    fmt_case c = {.format = "shadowserver", .report_name = "2026-11-27-scan_ics-demo.csv"};
    (void)state;
    size_t n = lia_alloc_fail_each("shadowserver open", open_op, &c, 151, 0);
    print_message("shadowserver open: %zu allocations, every 151st failed once\n", n);
}

static void test_feodo_csv(void **state)
{
    fmt_case c = {.format = "feodotracker",
                  .data = "# abuse.ch Feodo Tracker botnet C2 IP blocklist\n"
                          "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\","
                          "\"malware\"\n"
                          "\"2021-05-16 19:49:16\",\"192.0.2.7\",\"447\",\"online\",\"2024-01-02\","
                          "\"QakBot\"\n"
                          "\"2021-05-17 10:00:00\",\"198.51.100.9\",\"8080\",\"offline\",\"2024-01-01\","
                          "\"Emotet\"\n"};
    (void)state;
    run_fmt(&c);
}

static void test_jsonl(void **state)
{
    fmt_case c = {.format = "jsonl",
                  .data = "{\"classification.type\": \"phishing\", \"source.asn\": 7552, "
                          "\"source.geolocation.cc\": \"VN\", \"source.ip\": \"113.169.76.83\", "
                          "\"source.url\": \"http://login-530.example.com/secure/verify\", "
                          "\"time.source\": \"2026-11-26T19:00:00Z\", \"extra.note\": \"x\"}\n"
                          "{\"classification.type\": \"c2-server\", \"destination.port\": 2323, "
                          "\"malware.name\": \"emotet\", \"source.ip\": \"58.220.184.221\", "
                          "\"time.source\": \"2026-11-26T04:00:00Z\"}\n"
                          "not json\n"};
    (void)state;
    run_fmt(&c);
}

static void test_stix(void **state)
{
    fmt_case c = {.format = "stix", .file = "fuzz/corpus/stix/indicator-for-c2-ip-address.json"};
    (void)state;
    run_fmt(&c);
}

static void test_misp(void **state)
{
    fmt_case c = {.format = "misp",
                  .file = "tests/data/misp/events/pymisp-57c4445b-c548-4654-af0b-4be3950d210f.json"};
    (void)state;
    run_fmt(&c);
}

static void test_iodef(void **state)
{
    fmt_case c = {.format = "iodef", .file = "fuzz/corpus/iodef/GuidanceDraft_DDoS.xml"};
    (void)state;
    run_fmt(&c);
}

/* jansson is not under the hook (alloc_fail.h); where it does say "out of
 * memory" (its lexer cannot start), the readers say LIA_ENOMEM, not "not
 * JSON" (a good document would be quarantined). */
static void *json_no_memory(size_t n)
{
    (void)n;
    return NULL;
}

static void test_jansson_out_of_memory(void **state)
{
    static const char doc[] = "{\"source.ip\": \"192.0.2.1\", \"classification.type\": \"scanner\"}";
    lia_event ev;
    lia_error err;
    (void)state;
    lia_event_init(&ev);
    json_set_alloc_funcs(json_no_memory, free);
    int rc = lia_event_from_json(&ev, doc, sizeof doc - 1, &err);
    fmt_case stix = {.format = "stix", .data = "{\"type\": \"bundle\", \"objects\": []}"};
    fmt_case misp = {.format = "misp", .data = "{\"Event\": {}}"};
    stix.len = strlen(stix.data);
    misp.len = strlen(misp.data);
    int rs = fmt_op(&stix), rm = fmt_op(&misp);
    json_set_alloc_funcs(lia_alloc_fail_real_malloc, free); /* jansson's own again */
    assert_int_equal(rc, LIA_ENOMEM);
    assert_int_equal(rs, LIA_ENOMEM);
    assert_int_equal(rm, LIA_ENOMEM);
    /* and with memory, the same text reads */
    assert_int_equal(lia_event_from_json(&ev, doc, sizeof doc - 1, &err), LIA_OK);
    lia_event_free(&ev);
}

/* ---- lia_ingest of a report into a store ---- */

/* Each run ingests the Feodo Tracker sample into a store of its own (the
 * same bytes into one store would be "already ingested"); opening and
 * closing the store is set-up, not under test. */
static char oom_dir[64];

static int ingest_op(void *ud)
{
    static const char csv[] = "# abuse.ch Feodo Tracker botnet C2 IP blocklist\n"
                              "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\","
                              "\"malware\"\n"
                              "\"2021-05-16 19:49:16\",\"192.0.2.7\",\"447\",\"online\",\"2024-01-02\","
                              "\"QakBot\"\n"
                              "\"2021-05-17 10:00:00\",\"198.51.100.9\",\"8080\",\"offline\",\"2024-01-01\","
                              "\"Emotet\"\n"
                              "\"bad\",\"row\"\n";
    char db[128], cmd[160];
    lia_store *s = NULL;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    int rc;
    (void)ud;
    snprintf(db, sizeof db, "%s/ingest.db", oom_dir);
    lia_alloc_fail_hold(1);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'*", db);
    assert_int_equal(system(cmd), 0);
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    lia_alloc_fail_hold(0);
    memset(&o, 0, sizeof o);
    o.format = "feodotracker";
    o.feed.feed = "oom";
    o.feed.tlp = LIA_TLP_GREEN;
    o.feed.observed_us = 1700000000000000;
    o.archive = 0;
    rc = lia_ingest_buffer(s, &o, csv, sizeof csv - 1, &res, &err);
    if (rc == LIA_OK) {
        uint64_t got[2] = {res.report.events, res.report.quarantined};
        lia_alloc_fail_sum = sum_add(0, got, sizeof got);
    } else {
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "%s", err.reason);
    }
    lia_alloc_fail_hold(1);
    lia_store_close(s);
    lia_alloc_fail_hold(0);
    return rc;
}

static void test_ingest_into_store(void **state)
{
    (void)state;
    size_t n = lia_alloc_fail_each("ingest", ingest_op, NULL, 1, 0);
    print_message("ingest into a store: %zu allocations, each failed once\n", n);
}

/* ---- TAXII requests through the handler (a request built by hand, as the
 * HTTP server builds it: lia__req) ---- */

static lia_store *taxii_store;

typedef struct taxii_case {
    const char *method, *path, *body;
    int want; /* the status of the run without failures */
} taxii_case;

static int taxii_op(void *ud)
{
    const taxii_case *c = ud;
    lia_http_header hs[2] = {{LIA_SLICE("Accept"), LIA_SLICE("application/taxii+json;version=2.1")},
                             {LIA_SLICE("Content-Type"), LIA_SLICE("application/taxii+json;version=2.1")}};
    lia__req r;
    int rc = LIA_OK;
    memset(&r, 0, sizeof r);
    r.method = c->method;
    r.path = c->path;
    r.headers = hs;
    r.nheaders = c->body ? 2 : 1;
    r.base_url = "https://cert.example";
    r.body = c->body ? c->body : "";
    r.body_len = c->body ? strlen(c->body) : 0;
    r.peer = "127.0.0.1";
    r.store = taxii_store;
    r.who.org_id = 0; /* our own team's administrator */
    r.who.role = LIA_ROLE_ADMIN;
    r.who.org_kind = LIA_ORG_OWN;
    r.who.tlp_ceiling = LIA_TLP_RED;
    snprintf(r.who.org, sizeof r.who.org, "cert");
    snprintf(r.who.user, sizeof r.who.user, "admin");
    lia_buf_init(&r.out, LIA_HTTP_MAX_RESPONSE);
    lia__taxii_handle(&r);
    if (r.out.err || r.status == 500) { /* what the server answers then: 500 */
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "%d %.400s", r.status,
                 r.out.err ? "(response buffer failed)" : lia_buf_cstr(&r.out));
        rc = LIA_ENOMEM;
    } else if (c->body) {
        /* a status resource: its id and timestamps differ per run, its counts must not */
        json_t *j = json_loadb(r.out.ptr, r.out.len, 0, NULL);
        long long k[4] = {r.status, -1, -1, -1};
        if (j) {
            k[1] = json_integer_value(json_object_get(j, "total_count"));
            k[2] = json_integer_value(json_object_get(j, "success_count"));
            k[3] = json_integer_value(json_object_get(j, "failure_count"));
            json_decref(j);
        }
        lia_alloc_fail_sum = sum_add(0, k, sizeof k);
    } else {
        lia_alloc_fail_sum = sum_add(0, &r.status, sizeof r.status);
        lia_alloc_fail_sum = sum_add(lia_alloc_fail_sum, r.out.ptr, r.out.len);
    }
    if (rc == LIA_OK && r.status != c->want) {
        snprintf(lia_alloc_fail_why, sizeof lia_alloc_fail_why, "status %d, want %d: %.400s", r.status,
                 c->want, lia_buf_cstr(&r.out));
        rc = LIA_EINVAL;
    }
    lia_buf_free(&r.out);
    return rc;
}

static void test_taxii_requests(void **state)
{
    static const char obj[] =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-"
        "98ee46b3cd3f\","
        "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
        "\"valid_from\":\"2026-01-01T00:00:00Z\",\"pattern_type\":\"stix\","
        "\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\"}";
    static const char post[] =
        "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--c1d2a7b5-1fa4-4a3b-9d6e-2b3c4d5e6f70\",\"created\":\"2026-02-01T00:00:00.000Z\","
        "\"modified\":\"2026-02-01T00:00:00.000Z\",\"valid_from\":\"2026-02-01T00:00:00Z\","
        "\"pattern_type\":\"stix\",\"pattern\":\"[domain-name:value = 'c2.example']\"}]}";
    static const taxii_case cases[] = {
        {"GET", "/taxii2/", NULL, 200},
        {"GET", "/api1/", NULL, 200},
        {"GET", "/api1/collections/", NULL, 200},
        {"GET", "/api1/collections/c1/objects/", NULL, 200},
        {"GET", "/api1/collections/c1/manifest/", NULL, 200},
        {"POST", "/api1/collections/c1/objects/", post, 202},
    };
    char db[128];
    lia_taxii_collection c;
    lia_error err;
    (void)state;
    snprintf(db, sizeof db, "%s/taxii.db", oom_dir);
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(db, &taxii_store, &err), LIA_OK);
    assert_int_equal(lia_taxii_init(taxii_store, &err), LIA_OK);
    assert_int_equal(lia_taxii_api_root_add(taxii_store, "api1", "API 1", NULL, 0, &err), LIA_OK);
    lia_taxii_collection_defaults(&c);
    snprintf(c.api_root, sizeof c.api_root, "api1");
    snprintf(c.id, sizeof c.id, "c1");
    snprintf(c.title, sizeof c.title, "c1");
    c.default_tlp = LIA_TLP_GREEN;
    assert_int_equal(lia_taxii_collection_add(taxii_store, &c, &err), LIA_OK);
    assert_int_equal(
        lia_taxii_collection_add_object(taxii_store, "api1", "c1", obj, sizeof obj - 1, -1, 0, 0, &err),
        LIA_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s %s", cases[i].method, cases[i].path);
        size_t n = lia_alloc_fail_each(name, taxii_op, (void *)&cases[i], 1, 0);
        print_message("%s: %zu allocations, each failed once\n", name, n);
    }
    lia_store_close(taxii_store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shadowserver_csv),
        cmocka_unit_test(test_shadowserver_schema),
        cmocka_unit_test(test_feodo_csv),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jansson_out_of_memory),
        cmocka_unit_test(test_stix),
        cmocka_unit_test(test_misp),
        cmocka_unit_test(test_iodef),
        cmocka_unit_test(test_ingest_into_store),
        cmocka_unit_test(test_taxii_requests),
    };
    int rc;
    lia_alloc_fail_init();
    if (getenv("LIA_OOM_ONLY")) /* e.g. LIA_OOM_ONLY=test_stix, with LIA_ALLOC_FAIL_TRACE=N */
        cmocka_set_test_filter(getenv("LIA_OOM_ONLY"));
    snprintf(oom_dir, sizeof oom_dir, "/tmp/liaison-oom-XXXXXX");
    if (!mkdtemp(oom_dir))
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", oom_dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
