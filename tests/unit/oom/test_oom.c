/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Out-of-memory tests: each operation runs with its 1st, 2nd, 3rd, ...
 * allocation failing (alloc_fail.h) and must return LIA_ENOMEM (never
 * LIA_OK with data missing, never a crash; LeakSanitizer in the ASan build
 * checks that nothing leaks), and LIA_OK once no allocation fails.
 *
 * Operations: the formats as ingest runs them (parse, normalise, event
 * finish, event JSON) on a small CSV (Shadowserver, abuse.ch Feodo
 * Tracker), a JSON-lines report and the importers (STIX 2.1, MISP, IODEF);
 * lia_ingest of a CSV into a store; and TAXII requests through the
 * handlers (discovery, collections, objects GET, objects POST). */
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
    };
    lia_alloc_fail_init();
    if (getenv("LIA_OOM_ONLY")) /* e.g. LIA_OOM_ONLY=test_stix, with LIA_ALLOC_FAIL_TRACE=N */
        cmocka_set_test_filter(getenv("LIA_OOM_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
