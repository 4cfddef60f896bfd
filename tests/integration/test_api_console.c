/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The REST API's operations for the web console end to end: directory
 * editing (POST /partners, /owners; PATCH /partners/{party},
 * /owners/{party}), audit-logged with the caller and before/after; a store
 * with two partner CERTs, an owner and events routed to them, `liaison
 * serve`'s mounts started in-process on 127.0.0.1, libcurl as the client.
 * Our team's analysts change things; a partner gets 403 for its own entry
 * and 404 for what it may not see; bad input is 400 naming the member; the
 * answers hold against the OpenAPI document's schemas. An incident exported
 * as STIX 2.1 and IODEF v2 (valid under the RFC 7970 schema), whole for our
 * team and as a partner sees it (its events, redacted; its hand-off). */
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "liaison/accounts.h"
#include "liaison/audit.h"
#include "liaison/feeds.h"
#include "liaison/http.h"
#include "liaison/incident.h"
#include "liaison/ingest.h"
#include "liaison/liaison.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "../security/http_client.h" /* the tests' HTTP client */

#define PASSWORD "correct horse battery staple"

static char tmpdir[256], dbpath[300];
static lia_http *srv;
static uint16_t port;
static char k_ana[LIA_KEY_TOKEN_MAX + 16], k_pa[LIA_KEY_TOKEN_MAX + 16], k_pb[LIA_KEY_TOKEN_MAX + 16],
    k_own[LIA_KEY_TOKEN_MAX + 16];
static int64_t inc_a, inc_b;

/* answers to validate against the document's schemas at the end: SCHEMA='FILE' ... */
static char schema_args[8192];
static size_t nschema;

typedef hc_resp resp;

static const char partners_yaml[] =
    "partners:\n"
    "  - id: cert-a\n    name: CERT A\n    countries: [MY]\n    tlp_max: GREEN\n    agreement: true\n"
    "    contacts: [soc@cert-a.example]\n"
    "  - id: cert-b\n    name: CERT B\n    countries: [KH]\n    tlp_max: AMBER\n    agreement: true\n"
    "    channels: [\"taxii:partners/cert-b-inbox\"]\n";
static const char routing[] = "home_country: CN\nredact_partner: [source.local_hostname]\n";
static const char owners_yaml[] = "owners:\n  - id: net-cn\n    name: CN network\n    country: CN\n"
                                  "    cidrs: [192.0.2.0/24]\n    contacts: [noc@net-cn.example]\n";
/* ids 1..6 in this order */
static const char events[] =
    "{\"source.ip\":\"203.0.113.7\",\"source.geolocation.cc\":\"MY\",\"source.asn\":64500,"
    "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\",\"raw\":\"c2VjcmV0\","
    "\"source.local_hostname\":\"hmi-7\",\"time.source\":\"2026-11-27T10:00:00Z\"}\n"
    "{\"source.ip\":\"203.0.113.9\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"infected-"
    "system\",\"tlp\":\"AMBER\",\"time.source\":\"2026-11-27T11:00:00Z\"}\n"
    "{\"source.ip\":\"198.51.100.1\",\"source.geolocation.cc\":\"KH\",\"source.asn\":64501,"
    "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\",\"time.source\":\"2026-11-28T10:00:00Z\"}\n"
    "{\"source.ip\":\"198.51.100.2\",\"source.geolocation.cc\":\"KH\",\"source.asn\":64501,"
    "\"classification.type\":\"c2-server\",\"tlp\":\"GREEN\",\"time.source\":\"2026-11-29T10:00:00Z\"}\n"
    "{\"source.ip\":\"192.0.2.5\",\"source.geolocation.cc\":\"CN\",\"classification.type\":\"scanner\","
    "\"tlp\":\"GREEN\",\"time.source\":\"2026-11-30T10:00:00Z\"}\n"
    "{\"source.ip\":\"2001:db8::5\",\"source.geolocation.cc\":\"KH\",\"classification.type\":\"scanner\","
    "\"tlp\":\"GREEN\",\"time.source\":\"2026-12-01T10:00:00Z\"}\n";

static long get(const char *auth, resp *r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static long get(const char *auth, resp *r, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return hc_send(NULL, port, "GET", path, auth, NULL, NULL, NULL, r);
}

static long jreq(const char *method, const char *auth, const char *body, resp *r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static long jreq(const char *method, const char *auth, const char *body, resp *r, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return hc_send(NULL, port, method, path, auth, NULL, "application/json", body, r);
}

static void assert_error(const resp *r, long status, const char *code, const char *want)
{
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    if (!e)
        fail_msg("no error object in %ld answer: %s", r->status, lia_buf_cstr((lia_buf *)&r->body));
    if (r->status != status)
        fail_msg("status %ld, expected %ld: %s", r->status, status, lia_buf_cstr((lia_buf *)&r->body));
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    if (want && !strstr(json_string_value(json_object_get(e, "message")), want))
        fail_msg("message \"%s\" does not say \"%s\"", json_string_value(json_object_get(e, "message")),
                 want);
}

static void expect(const resp *r, long status)
{
    if (r->status != status)
        fail_msg("status %ld, expected %ld: %s", r->status, status, lia_buf_cstr((lia_buf *)&r->body));
}

static void write_body(const char *path, const resp *r)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r->body.ptr, 1, r->body.len, f), r->body.len);
    assert_int_equal(fclose(f), 0);
}

/* Keep answer r to be validated against components/schemas/schema. */
static void keep(const char *schema, const resp *r)
{
    char file[400];
    snprintf(file, sizeof file, "%s/answer-%zu.json", tmpdir, nschema++);
    write_body(file, r);
    snprintf(schema_args + strlen(schema_args), sizeof schema_args - strlen(schema_args), " %s='%s'", schema,
             file);
    assert_true(strlen(schema_args) + 1 < sizeof schema_args);
}

static void bearer(lia_store *s, const char *user, char *out)
{
    char tok[LIA_KEY_TOKEN_MAX];
    lia_error e;
    lia_error_clear(&e);
    if (lia_accounts_key_add(s, user, 1000, 1000, tok, NULL, &e))
        fail_msg("key: %s", e.reason);
    snprintf(out, LIA_KEY_TOKEN_MAX + 16, "Bearer %s", tok);
}

/* The registry: "test" (the events' feed, hourly), "stale" (hourly, no
 * success for a day: late), "off" (disabled). */
static int add_feeds(lia_store *s, lia_error *e)
{
    static const struct {
        const char *name, *url;
        int64_t interval_s, age_s;
        int enabled;
    } feeds[] = {
        {"test", "https://feeds.example/test.jsonl", 3600, 0, 1},
        {"stale", "https://feeds.example/stale.jsonl", 3600, 86400, 1},
        {"off", "https://feeds.example/off.jsonl", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
        lia_feed f;
        memset(&f, 0, sizeof f);
        snprintf(f.name, sizeof f.name, "%s", feeds[i].name);
        snprintf(f.provider, sizeof f.provider, "Example");
        snprintf(f.format, sizeof f.format, "jsonl");
        snprintf(f.url, sizeof f.url, "%s", feeds[i].url);
        f.interval_s = feeds[i].interval_s;
        f.tlp = -1;
        f.enabled = feeds[i].enabled;
        f.last_ok = 1;
        if (feeds[i].age_s)
            f.created_us = ((int64_t)time(NULL) - feeds[i].age_s) * 1000000;
        if (lia_feeds_add(s, &f, e))
            return -1;
    }
    return 0;
}

static int setup(void **state)
{
    char path[400];
    lia_store *s;
    lia_error e;
    lia_actor who = {"ana", "cli", NULL};
    lia_http_opts o;
    lia_ingest_opts io;
    lia_ingest_result res;
    size_t n;
    const char *rcpt[1] = {"cert-a"};
    const char *ev1 = "1";
    FILE *f;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-apicon-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/a.db", tmpdir);
    snprintf(path, sizeof path, "%s/events.jsonl", tmpdir);
    if (!(f = fopen(path, "w")) || fputs(events, f) < 0 || fclose(f))
        return -1;
    lia_error_clear(&e);
    memset(&io, 0, sizeof io);
    io.format = "jsonl";
    io.path = path;
    io.feed.feed = "test";
    io.feed.tlp = -1;
    io.archive = 1;
    if (lia_store_open(dbpath, &s, &e) ||
        lia_party_import(s, LIA_PARTY_PARTNER, "yaml", partners_yaml, strlen(partners_yaml), &n, &e) ||
        lia_party_import(s, LIA_PARTY_OWNER, "yaml", owners_yaml, strlen(owners_yaml), &n, &e) ||
        lia_route_config_put(s, routing, strlen(routing), &e) || lia_ingest(s, &io, &res, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_org_add(s, "cert-a", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "cert-b", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "net-cn", LIA_ORG_CONSTITUENT, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_link(s, "cert-a", "cert-a", &e) ||
        lia_accounts_org_link(s, "cert-b", "cert-b", &e) ||
        lia_accounts_org_link(s, "net-cn", "net-cn", &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-a", "pa", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-b", "pb", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "net-cn", "noc", LIA_ROLE_CONSTITUENT, PASSWORD, NULL, &e)) {
        fprintf(stderr, "setup: %s: %s (line %llu)\n", e.field, e.reason, (unsigned long long)e.line);
        return -1;
    }
    if (res.report.events != 6) {
        fprintf(stderr, "setup: %llu events stored, 6 expected\n", (unsigned long long)res.report.events);
        return -1;
    }
    { /* cert-b's events into its TAXII collection: notifications that carry them */
        lia_notify_opts no;
        char tdir[400];
        snprintf(tdir, sizeof tdir, "%s/share/templates",
                 getenv("LIAISON_SOURCE_ROOT") ? getenv("LIAISON_SOURCE_ROOT") : ".");
        memset(&no, 0, sizeof no);
        no.templates = tdir;
        no.unsigned_ok = 1;
        no.force = 1;
        no.only = "partner:cert-b";
        no.tries = 1;
        no.backoff_ms = 1;
        if (lia_notify_run(s, &no, NULL, NULL, &e)) {
            fprintf(stderr, "setup: notify: %s\n", e.reason);
            return -1;
        }
    }
    if (add_feeds(s, &e)) {
        fprintf(stderr, "setup: feeds: %s\n", e.reason);
        return -1;
    }
    bearer(s, "ana", k_ana);
    bearer(s, "pa", k_pa);
    bearer(s, "pb", k_pb);
    bearer(s, "noc", k_own);
    {
        lia_incident in;
        memset(&in, 0, sizeof in);
        in.title = "the MY scanner";
        in.severity = LIA_SEV_MEDIUM;
        const char *rb[1] = {"cert-b"}, *evb[2] = {"3", "4"};
        if (lia_incident_create(s, &in, rcpt, 1, &ev1, 1, &who, &inc_a, &e)) {
            fprintf(stderr, "setup: %s\n", e.reason);
            return -1;
        }
        in.title = "the KH scanners";
        if (lia_incident_create(s, &in, rb, 1, evb, 2, &who, &inc_b, &e)) {
            fprintf(stderr, "setup: %s\n", e.reason);
            return -1;
        }
    }
    lia_store_close(s);
    curl_global_init(CURL_GLOBAL_ALL);
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.console_dir = tmpdir;
    if (lia_http_start(&o, &srv, &e)) {
        fprintf(stderr, "server: %s\n", e.reason);
        return -1;
    }
    port = lia_http_port(srv);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    (void)state;
    lia_http_stop(srv);
    curl_global_cleanup();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the directory ---- */

typedef struct last_audit {
    char actor[128], channel[32], action[32];
    char before[2048], after[2048];
    int n;
} last_audit;

static int audit_cb(void *ud, const lia_audit_record *a)
{
    last_audit *l = ud;
    snprintf(l->actor, sizeof l->actor, "%s", a->actor ? a->actor : "");
    snprintf(l->channel, sizeof l->channel, "%s", a->channel ? a->channel : "");
    snprintf(l->action, sizeof l->action, "%s", a->action);
    snprintf(l->before, sizeof l->before, "%s", a->before ? a->before : "");
    snprintf(l->after, sizeof l->after, "%s", a->after ? a->after : "");
    l->n++;
    return 0;
}

/* The last audit record of object, and how many there are. */
static void audit_of(const char *object, last_audit *l)
{
    lia_audit_filter f = {.object = object};
    lia_store *s;
    lia_error e;
    memset(l, 0, sizeof *l);
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) || lia_audit_list(s, &f, audit_cb, l, &e))
        fail_msg("audit: %s", e.reason);
    lia_store_close(s);
}

static void test_directory_create(void **state)
{
    static const struct {
        const char *body, *says;
    } bad[] = {
        {"{\"name\":\"x\"}", "member \"id\": required"},
        {"{\"id\":\"Cert-X\",\"countries\":[\"TH\"],\"contacts\":[\"a@b.example\"]}", "member \"id\""},
        {"{\"id\":\"cert-x\",\"countries\":[\"Thailand\"],\"contacts\":[\"a@b.example\"]}",
         "member \"countries\""},
        {"{\"id\":\"cert-x\",\"countries\":[\"TH\"],\"contacts\":[\"not an address\"]}",
         "member \"contacts\""},
        {"{\"id\":\"cert-x\",\"countries\":[\"TH\"],\"contacts\":\"a@b.example\",\"tlp_max\":\"PURPLE\"}",
         "member \"tlp_max\""},
        {"{\"id\":\"cert-x\",\"countries\":[\"TH\"],\"contacts\":\"a@b.example\",\"agreement\":\"perhaps\"}",
         "member \"agreement\""},
        {"{\"id\":\"cert-x\",\"countries\":[\"TH\"],\"contacts\":\"a@b.example\",\"cidrs\":[\"10.0.0.0/8\"]}",
         "member \"cidrs\": unknown"},
        {"{\"id\":\"cert-x\",\"countries\":[1],\"contacts\":\"a@b.example\"}", "item 0 is not a string"},
        {"{\"id\":\"cert-x\",\"contacts\":[\"a@b.example\"]}", "countries"},
    };
    last_audit la;
    resp r;
    json_t *p;
    char loc[256];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jreq("POST", k_ana, bad[i].body, &r, "/api/v1/partners");
        assert_error(&r, 400, "invalid_body", bad[i].says);
        if (i == 0)
            keep("Error", &r);
        hc_free(&r);
    }
    /* roles: a partner and a constituent may not */
    jreq("POST", k_pa, "{\"id\":\"cert-x\"}", &r, "/api/v1/partners");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    jreq("POST", k_own, "{\"id\":\"net-x\"}", &r, "/api/v1/owners");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    hc_send(NULL, port, "POST", "/api/v1/partners", k_ana, NULL, "text/plain", "id=x", &r);
    assert_error(&r, 415, "unsupported_media_type", NULL);
    hc_free(&r);
    /* created: answered as GET lists it, Location, the audit record names the analyst */
    jreq("POST", k_ana,
         "{\"id\":\"cert-th\",\"name\":\"CERT TH\",\"countries\":[\"th\",\"LA\"],\"contacts\":\"soc@cert-th."
         "example\",\"agreement\":true,\"tlp_max\":\"green\",\"interval\":3600}",
         &r, "/api/v1/partners");
    expect(&r, 201);
    keep("Party", &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), "cert-th");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "countries"), 0)), "TH");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "countries"), 1)), "LA");
    assert_true(json_is_true(json_object_get(r.json, "agreement")));
    assert_string_equal(json_string_value(json_object_get(r.json, "tlp_max")), "GREEN");
    assert_string_equal(hc_header(&r, "Location", loc, sizeof loc), "/api/v1/partners/cert-th");
    hc_free(&r);
    audit_of("partner:cert-th", &la);
    assert_int_equal(la.n, 1);
    assert_string_equal(la.actor, "ana");
    assert_string_equal(la.channel, "api");
    assert_string_equal(la.action, "create");
    assert_string_equal(la.before, "");
    assert_non_null(strstr(la.after, "\"TH\""));
    assert_int_equal(get(k_ana, &r, "/api/v1/partners"), 200);
    p = json_array_get(json_object_get(r.json, "partners"), 2);
    assert_string_equal(json_string_value(json_object_get(p, "id")), "cert-th");
    hc_free(&r);
    /* the same id again: 409 */
    jreq("POST", k_ana, "{\"id\":\"cert-th\",\"countries\":\"TH\",\"contacts\":\"x@cert-th.example\"}", &r,
         "/api/v1/partners");
    assert_error(&r, 409, "conflict", "exists already");
    hc_free(&r);
    /* an owner: its networks checked against the others' (409: a collision) */
    jreq("POST", k_ana,
         "{\"id\":\"net-dup\",\"cidrs\":[\"192.0.2.0/24\"],\"contacts\":[\"noc@dup.example\"]}", &r,
         "/api/v1/owners");
    assert_error(&r, 409, "conflict", "claimed by two owners");
    hc_free(&r);
    jreq("POST", k_ana,
         "{\"id\":\"net-two\",\"name\":\"Two\",\"country\":\"CN\",\"cidrs\":\"198.18.0.0/"
         "15\",\"asns\":[\"AS64999\"],"
         "\"contacts\":[\"noc@two.example\"]}",
         &r, "/api/v1/owners");
    expect(&r, 201);
    keep("Party", &r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "asns"), 0)), "64999");
    hc_free(&r);
    jreq("POST", k_ana, "{\"id\":\"net-three\",\"contacts\":[\"noc@three.example\"]}", &r, "/api/v1/owners");
    assert_error(&r, 400, "invalid_body", "asns, cidrs, domains");
    hc_free(&r);
}

static void test_directory_update(void **state)
{
    last_audit la;
    resp r;
    (void)state;
    jreq("PATCH", k_ana, "{\"name\":\"CERT Thailand\",\"languages\":[\"th\",\"en\"],\"interval\":null}", &r,
         "/api/v1/partners/cert-th");
    expect(&r, 200);
    keep("Party", &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "CERT Thailand");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "countries"), 0)), "TH");
    assert_int_equal(json_array_size(json_object_get(r.json, "languages")), 2);
    assert_null(json_object_get(r.json, "interval"));
    hc_free(&r);
    audit_of("partner:cert-th", &la);
    assert_int_equal(la.n, 2);
    assert_string_equal(la.action, "update");
    assert_string_equal(la.actor, "ana");
    assert_non_null(strstr(la.before, "CERT TH\""));
    assert_non_null(strstr(la.after, "CERT Thailand"));
    /* bad values name the member and change nothing */
    jreq("PATCH", k_ana, "{\"countries\":[\"XX1\"]}", &r, "/api/v1/partners/cert-th");
    assert_error(&r, 400, "invalid_body", "member \"countries\"");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"countries\":null}", &r, "/api/v1/partners/cert-th");
    assert_error(&r, 400, "invalid_body", "countries");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"id\":\"cert-zz\"}", &r, "/api/v1/partners/cert-th");
    assert_error(&r, 400, "invalid_body", "member \"id\": unknown");
    hc_free(&r);
    audit_of("partner:cert-th", &la);
    assert_int_equal(la.n, 2);
    /* unknown ids; an owner is not a partner */
    jreq("PATCH", k_ana, "{\"name\":\"x\"}", &r, "/api/v1/partners/cert-zz");
    assert_error(&r, 404, "not_found", "no partner cert-zz");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"name\":\"x\"}", &r, "/api/v1/partners/net-cn");
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    /* a partner: 403 for its own entry, 404 for another's; a constituent likewise */
    jreq("PATCH", k_pa, "{\"name\":\"x\"}", &r, "/api/v1/partners/cert-a");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    jreq("PATCH", k_pa, "{\"name\":\"x\"}", &r, "/api/v1/partners/cert-b");
    assert_error(&r, 404, "not_found", "no partner cert-b");
    hc_free(&r);
    jreq("PATCH", k_own, "{\"name\":\"x\"}", &r, "/api/v1/owners/net-cn");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    jreq("PATCH", k_own, "{\"name\":\"x\"}", &r, "/api/v1/owners/net-two");
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    /* an owner's change */
    jreq("PATCH", k_ana, "{\"domains\":[\"two.example\"],\"cidrs\":null}", &r, "/api/v1/owners/net-two");
    expect(&r, 200);
    assert_null(json_object_get(r.json, "cidrs"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "domains"), 0)),
                        "two.example");
    hc_free(&r);
    audit_of("owner:net-two", &la);
    assert_int_equal(la.n, 2);
    assert_non_null(strstr(la.before, "198.18.0.0/15"));
    assert_null(strstr(la.after, "198.18.0.0/15"));
}

/* ---- the feeds ---- */

static json_t *feed_named(const resp *r, const char *name)
{
    json_t *a = json_object_get(r->json, "feeds"), *x;
    size_t i;
    json_array_foreach(a, i, x) if (!strcmp(json_string_value(json_object_get(x, "name")), name)) return x;
    fail_msg("no feed %s in %s", name, lia_buf_cstr((lia_buf *)&r->body));
    return NULL;
}

static void test_feeds(void **state)
{
    resp r;
    json_t *f;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/feeds"), 200);
    keep("FeedList", &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "feeds")), 3);
    /* in name order */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(r.json, "feeds"), 0), "name")),
        "off");
    f = feed_named(&r, "test");
    assert_string_equal(json_string_value(json_object_get(f, "health")), "ok");
    assert_string_equal(json_string_value(json_object_get(f, "url")), "https://feeds.example/test.jsonl");
    assert_string_equal(json_string_value(json_object_get(f, "format")), "jsonl");
    assert_int_equal(json_integer_value(json_object_get(f, "interval_seconds")), 3600);
    assert_int_equal(json_integer_value(json_object_get(f, "reports")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "events")), 6);
    assert_int_equal(json_integer_value(json_object_get(f, "events_24h")), 6);
    assert_int_equal(json_integer_value(json_object_get(f, "events_7d")), 6);
    assert_true(json_is_null(json_object_get(f, "last_error")));
    assert_string_equal(json_string_value(json_object_get(feed_named(&r, "stale"), "health")), "late");
    assert_true(json_is_true(json_object_get(feed_named(&r, "stale"), "late")));
    assert_int_equal(json_integer_value(json_object_get(feed_named(&r, "stale"), "events")), 0);
    assert_string_equal(json_string_value(json_object_get(feed_named(&r, "off"), "health")), "disabled");
    assert_true(json_is_null(json_object_get(feed_named(&r, "off"), "interval_seconds")));
    hc_free(&r);
    get(k_pa, &r, "/api/v1/feeds");
    assert_error(&r, 403, "forbidden", "our own team");
    hc_free(&r);
    get(k_own, &r, "/api/v1/feeds");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/feeds?name=test");
    assert_error(&r, 400, "invalid_parameter", "parameter name");
    hc_free(&r);
}

/* ---- routing explained and previewed ---- */

static json_t *entry_of(json_t *a, const char *member, const char *value)
{
    json_t *x;
    size_t i;
    json_array_foreach(a, i, x)
    {
        const char *v = json_string_value(json_object_get(x, member));
        if (v && !strcmp(v, value))
            return x;
    }
    return NULL;
}

static void test_explain(void **state)
{
    resp r;
    json_t *c, *x;
    (void)state;
    /* event 1 (MY): cert-a covers MY and gets it; cert-b covers KH, not MY */
    assert_int_equal(get(k_ana, &r, "/api/v1/events/1/explain"), 200);
    keep("RouteExplanation", &r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "event"), "id")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "home_country")), "CN");
    assert_true(json_is_null(json_object_get(r.json, "owner")));
    c = json_object_get(r.json, "candidates");
    assert_int_equal(json_array_size(c), 1);
    x = json_array_get(c, 0);
    assert_string_equal(json_string_value(json_object_get(x, "recipient")), "partner:cert-a");
    assert_string_equal(json_string_value(json_object_get(x, "party")), "cert-a");
    assert_string_equal(json_string_value(json_object_get(x, "kind")), "partner");
    assert_string_equal(json_string_value(json_object_get(x, "verdict")), "deliver");
    assert_string_equal(json_string_value(json_object_get(x, "tlp_max")), "GREEN");
    assert_true(json_is_true(json_object_get(x, "agreement")));
    x = entry_of(json_object_get(r.json, "not_candidates"), "party", "cert-b");
    assert_non_null(x);
    assert_string_equal(json_string_value(json_object_get(x, "reason")),
                        "covers KH; the event's source country is MY");
    x = entry_of(json_object_get(r.json, "not_candidates"), "party", "net-cn");
    assert_non_null(x);
    assert_string_equal(json_string_value(json_object_get(x, "kind")), "owner");
    assert_non_null(strstr(json_string_value(json_object_get(x, "reason")), "not the owner"));
    x = json_array_get(json_object_get(r.json, "recorded"), 0);
    assert_string_equal(json_string_value(json_object_get(x, "recipient")), "partner:cert-a");
    hc_free(&r);
    /* event 2 (MY, AMBER): cert-a a candidate, denied by its GREEN ceiling */
    assert_int_equal(get(k_ana, &r, "/api/v1/events/2/explain"), 200);
    x = json_array_get(json_object_get(r.json, "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(x, "verdict")), "deny");
    assert_non_null(strstr(json_string_value(json_object_get(x, "reason")), "ceiling"));
    hc_free(&r);
    /* event 5 (192.0.2.5): the owner of the network */
    assert_int_equal(get(k_ana, &r, "/api/v1/events/5/explain"), 200);
    keep("RouteExplanation", &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "owner"), "party")),
                        "net-cn");
    assert_non_null(entry_of(json_object_get(r.json, "candidates"), "recipient", "owner:net-cn"));
    hc_free(&r);
    /* roles: cert-a sees event 1 (403), not event 3 (404) */
    get(k_pa, &r, "/api/v1/events/1/explain");
    assert_error(&r, 403, "forbidden", "our own team");
    hc_free(&r);
    get(k_pa, &r, "/api/v1/events/3/explain");
    assert_error(&r, 404, "not_found", "no event 3");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events/99/explain");
    assert_error(&r, 404, "not_found", "no event 99");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events/1/explain?x=1");
    assert_error(&r, 400, "invalid_parameter", "parameter x");
    hc_free(&r);
}

static int64_t events_of(json_t *a, const char *party)
{
    json_t *x = entry_of(a, "party", party);
    return x ? json_integer_value(json_object_get(x, "events")) : 0;
}

static void test_preview(void **state)
{
    resp r;
    json_t *x;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/route/preview"), 200);
    keep("RoutePreview", &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "events")), 6);
    assert_true(json_is_false(json_object_get(r.json, "more")));
    assert_int_equal(events_of(json_object_get(r.json, "recipients"), "cert-b"), 3);
    assert_int_equal(events_of(json_object_get(r.json, "recipients"), "cert-a"), 1);
    assert_int_equal(events_of(json_object_get(r.json, "recipients"), "net-cn"), 1);
    x = entry_of(json_object_get(r.json, "not_routed"), "party", "cert-a");
    assert_non_null(x);
    assert_int_equal(json_integer_value(json_object_get(x, "events")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(x, "reason")), "ceiling"));
    hc_free(&r);
    /* the event filters of GET /events, and the limit */
    assert_int_equal(get(k_ana, &r, "/api/v1/route/preview?cc=KH"), 200);
    keep("RoutePreview", &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "events")), 3);
    assert_int_equal(json_array_size(json_object_get(r.json, "recipients")), 1);
    assert_int_equal(events_of(json_object_get(r.json, "recipients"), "cert-b"), 3);
    assert_int_equal(json_array_size(json_object_get(r.json, "not_routed")), 0);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/route/preview?limit=2"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "events")), 2);
    assert_true(json_is_true(json_object_get(r.json, "more")));
    hc_free(&r);
    get(k_ana, &r, "/api/v1/route/preview?limit=10001");
    assert_error(&r, 400, "invalid_parameter", "from 1 to 10000");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/route/preview?cc=Kingdom");
    assert_error(&r, 400, "invalid_parameter", "parameter cc");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/route/preview?next=x");
    assert_error(&r, 400, "invalid_parameter", "parameter next");
    hc_free(&r);
    get(k_pb, &r, "/api/v1/route/preview");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
}

/* ---- an event's trace: its raw row, its notifications ---- */

static void test_event_raw(void **state)
{
    char cmd[400];
    resp r;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/events/1/raw"), 200);
    keep("EventRaw", &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "event")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "report")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "line")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "feed")), "test");
    assert_string_equal(json_string_value(json_object_get(r.json, "encoding")), "utf-8");
    {
        const char *raw = json_string_value(json_object_get(r.json, "raw"));
        size_t n = (size_t)(strchr(events, '\n') - events);
        assert_int_equal(strlen(raw), n);
        assert_memory_equal(raw, events, n);
    }
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/events/4/raw"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "line")), 4);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "raw")), "\"198.51.100.2\""));
    hc_free(&r);
    /* roles: cert-a sees event 1 (403), not event 3 (404) */
    get(k_pa, &r, "/api/v1/events/1/raw");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    get(k_pa, &r, "/api/v1/events/3/raw");
    assert_error(&r, 404, "not_found", "no event 3");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events/99/raw");
    assert_error(&r, 404, "not_found", "no event 99");
    hc_free(&r);
    /* the archive pruned: 404 saying so */
    snprintf(cmd, sizeof cmd, "rm -f '%s'.archive/*.gz", dbpath);
    assert_int_equal(system(cmd), 0);
    get(k_ana, &r, "/api/v1/events/1/raw");
    assert_error(&r, 404, "not_found", "is gone (pruned or moved)");
    keep("Error", &r);
    hc_free(&r);
}

static void test_event_notifications(void **state)
{
    resp r;
    json_t *n;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/events/3"), 200);
    keep("EventDetail", &r);
    n = json_object_get(r.json, "notifications");
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "recipient")),
                        "partner:cert-b");
    assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "channel")),
                        "taxii:partners/cert-b-inbox");
    assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "outcome")), "sent");
    assert_true(json_integer_value(json_object_get(json_array_get(n, 0), "notification")) > 0);
    hc_free(&r);
    /* not notified yet: none */
    assert_int_equal(get(k_ana, &r, "/api/v1/events/1"), 200);
    keep("EventDetail", &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "notifications")), 0);
    hc_free(&r);
    /* a partner: not part of its view */
    assert_int_equal(get(k_pb, &r, "/api/v1/events/3"), 200);
    assert_null(json_object_get(r.json, "notifications"));
    hc_free(&r);
}

/* ---- incident split ---- */

static void test_split(void **state)
{
    resp r;
    char loc[128], want[128];
    int64_t nid;
    json_t *h;
    (void)state;
    /* bad input: 400 naming the member */
    jreq("POST", k_ana, "{\"title\":\"x\"}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 400, "invalid_body", "member \"events\"");
    hc_free(&r);
    jreq("POST", k_ana, "{\"events\":[]}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 400, "invalid_body", "member \"events\"");
    hc_free(&r);
    jreq("POST", k_ana, "{\"events\":[\"4\"]}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 400, "invalid_body", "item 0 is not an event id");
    hc_free(&r);
    jreq("POST", k_ana, "{\"events\":[1]}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 400, "invalid_body", "member \"events\"");
    hc_free(&r);
    jreq("POST", k_ana, "{\"events\":[4],\"colour\":1}", &r, "/api/v1/incidents/%lld/split",
         (long long)inc_b);
    assert_error(&r, 400, "invalid_body", "member \"colour\": unknown");
    hc_free(&r);
    jreq("POST", k_ana, "{\"events\":[4]}", &r, "/api/v1/incidents/999/split");
    assert_error(&r, 404, "not_found", "no incident 999");
    hc_free(&r);
    /* roles: cert-a does not see inc_b (404); cert-b does (403) */
    jreq("POST", k_pa, "{\"events\":[4]}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    jreq("POST", k_pb, "{\"events\":[4]}", &r, "/api/v1/incidents/%lld/split", (long long)inc_b);
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    /* split: 201 with the new incident, handed off to cert-b as the old one */
    jreq("POST", k_ana, "{\"events\":[4],\"title\":\"the KH C2\"}", &r, "/api/v1/incidents/%lld/split",
         (long long)inc_b);
    expect(&r, 201);
    keep("IncidentDetail", &r);
    nid = json_integer_value(json_object_get(r.json, "id"));
    assert_true(nid > inc_b);
    assert_string_equal(json_string_value(json_object_get(r.json, "title")), "the KH C2");
    h = json_array_get(json_object_get(r.json, "handoffs"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "recipient")), "cert-b");
    snprintf(want, sizeof want, "/api/v1/incidents/%lld", (long long)nid);
    assert_string_equal(hc_header(&r, "Location", loc, sizeof loc), want);
    hc_free(&r);
    /* event 4 now links the new incident, event 3 the old one */
    assert_int_equal(get(k_ana, &r, "/api/v1/events/4"), 200);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r.json, "incidents"), 0)), nid);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/events/3"), 200);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r.json, "incidents"), 0)), inc_b);
    hc_free(&r);
}

/* ---- incident export ---- */

/* The IODEF v2 schema of tests/data, its imports (xmldsig, the IANA
 * registries, xml.xsd) pointed at the local stubs as share/validate.py
 * points them: nothing fetched. *doc keeps the schema's document. */
static xmlSchemaPtr iodef_schema(xmlDocPtr *doc)
{
    static const char *const stubs[][2] = {
        {"http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd", "xmldsig-stub.xsd"},
        {"http://www.iana.org/assignments/xml-registry/schema/iodef-enum-1.0.xsd", "iodef-enum-stub.xsd"},
        {"http://www.iana.org/assignments/xml-registry/schema/iodef-sci-1.0.xsd", "iodef-sci-stub.xsd"},
        {"http://www.w3c.org/2001/xml.xsd", "xml-stub.xsd"},
    };
    const char *data = getenv("LIAISON_TESTDATA");
    char path[600];
    xmlSchemaParserCtxtPtr pc;
    xmlSchemaPtr sch;
    int found = 0;
    assert_non_null(data);
    snprintf(path, sizeof path, "%s/iodef/schema/iodef-2.0.xsd", data);
    *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(*doc);
    for (xmlNodePtr n = xmlDocGetRootElement(*doc)->children; n; n = n->next) {
        xmlChar *loc;
        if (n->type != XML_ELEMENT_NODE || !(loc = xmlGetProp(n, BAD_CAST "schemaLocation")))
            continue;
        for (size_t i = 0; i < sizeof stubs / sizeof stubs[0]; i++)
            if (!strcmp((const char *)loc, stubs[i][0])) {
                snprintf(path, sizeof path, "%s/iodef/schema-test/%s", data, stubs[i][1]);
                xmlSetProp(n, BAD_CAST "schemaLocation", BAD_CAST path);
                found++;
            }
        xmlFree(loc);
    }
    assert_int_equal(found, 4);
    pc = xmlSchemaNewDocParserCtxt(*doc);
    assert_non_null(pc);
    sch = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    assert_non_null(sch);
    return sch;
}

/* What an IODEF document holds that the tests look at. */
typedef struct iodef_view {
    char incident_id[64], id_name[64];
    int event_data;
    char irt[256]; /* the ContactNames of role irt, "a,b," */
} iodef_view;

static void iodef_walk(xmlNodePtr n, iodef_view *v)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!strcmp((const char *)n->name, "IncidentID")) {
            xmlChar *t = xmlNodeGetContent(n), *nm = xmlGetProp(n, BAD_CAST "name");
            snprintf(v->incident_id, sizeof v->incident_id, "%s", t ? (const char *)t : "");
            snprintf(v->id_name, sizeof v->id_name, "%s", nm ? (const char *)nm : "");
            xmlFree(t);
            xmlFree(nm);
        } else if (!strcmp((const char *)n->name, "EventData")) {
            v->event_data++;
        } else if (!strcmp((const char *)n->name, "Contact")) {
            xmlChar *role = xmlGetProp(n, BAD_CAST "role");
            for (xmlNodePtr k = n->children; role && !strcmp((const char *)role, "irt") && k; k = k->next)
                if (k->type == XML_ELEMENT_NODE && !strcmp((const char *)k->name, "ContactName")) {
                    xmlChar *t = xmlNodeGetContent(k);
                    snprintf(v->irt + strlen(v->irt), sizeof v->irt - strlen(v->irt), "%s,", (const char *)t);
                    xmlFree(t);
                }
            xmlFree(role);
        }
        iodef_walk(n->children, v);
    }
}

/* Parse the answer (no network, no entities), validate it, read it. */
static void iodef_check(const resp *r, xmlSchemaPtr sch, iodef_view *v)
{
    xmlDocPtr d = xmlReadMemory(r->body.ptr, (int)r->body.len, "export.xml", NULL, XML_PARSE_NONET);
    xmlSchemaValidCtxtPtr vc;
    if (!d)
        fail_msg("the IODEF export does not parse: %.400s", lia_buf_cstr((lia_buf *)&r->body));
    assert_string_equal((const char *)xmlDocGetRootElement(d)->name, "IODEF-Document");
    vc = xmlSchemaNewValidCtxt(sch);
    assert_non_null(vc);
    if (xmlSchemaValidateDoc(vc, d) != 0)
        fail_msg("the IODEF export does not validate against iodef-2.0.xsd: %.2000s",
                 lia_buf_cstr((lia_buf *)&r->body));
    xmlSchemaFreeValidCtxt(vc);
    memset(v, 0, sizeof *v);
    iodef_walk(xmlDocGetRootElement(d), v);
    xmlFreeDoc(d);
}

/* The bundle's objects of type t. */
static size_t stix_count(const resp *r, const char *t)
{
    json_t *objs = json_object_get(r->json, "objects");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(objs); i++)
        n += !strcmp(json_string_value(json_object_get(json_array_get(objs, i), "type")), t);
    return n;
}

/* 1 if the answer's text holds needle. */
static int has(const resp *r, const char *needle)
{
    return strstr(lia_buf_cstr((lia_buf *)&r->body), needle) != NULL;
}

static void expect_header(resp *r, const char *name, const char *want)
{
    char v[256];
    hc_header(r, name, v, sizeof v);
    if (strcmp(v, want) != 0)
        fail_msg("%s: \"%s\", expected \"%s\"", name, v, want);
}

static void test_export(void **state)
{
    /* events 1 (MY, GREEN: routed to cert-a, its source.local_hostname
     * redacted for partners), 2 (MY, AMBER: above cert-a's GREEN ceiling,
     * denied), 3 (KH: cert-b's), 5 (CN: the owner net-cn's) */
    const char *rcpt[2] = {"cert-a", "cert-b"}, *evs[4] = {"1", "2", "3", "5"};
    lia_actor who = {"ana", "cli", NULL};
    lia_incident in;
    lia_store *s;
    lia_error e;
    int64_t id;
    char want[128];
    iodef_view v;
    xmlDocPtr xsd;
    xmlSchemaPtr sch;
    json_t *o;
    resp r;
    (void)state;
    lia_error_clear(&e);
    memset(&in, 0, sizeof in);
    in.title = "Exported & <shared>";
    in.description = "four events, two partners";
    in.severity = LIA_SEV_HIGH;
    if (lia_store_open(dbpath, &s, &e) || lia_incident_create(s, &in, rcpt, 2, evs, 4, &who, &id, &e))
        fail_msg("incident: %s", e.reason);
    lia_store_close(s);
    sch = iodef_schema(&xsd);

    /* our team, STIX (the default): a bundle with the incident and one
     * indicator per linked event (each has an address), as a download */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld/export", (long long)id), 200);
    expect_header(&r, "Content-Type", "application/stix+json;version=2.1");
    snprintf(want, sizeof want, "attachment; filename=\"liaison-incident-%lld.json\"", (long long)id);
    expect_header(&r, "Content-Disposition", want);
    expect_header(&r, "X-Export-Events", "4");
    expect_header(&r, "X-Export-Skipped", "0");
    expect_header(&r, "X-Export-Missing", "0");
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "bundle");
    assert_int_equal(stix_count(&r, "incident"), 1);
    assert_int_equal(stix_count(&r, "indicator"), 4);
    assert_int_equal(stix_count(&r, "identity"), 1);
    for (size_t i = 0; i < json_array_size(json_object_get(r.json, "objects")); i++) {
        o = json_array_get(json_object_get(r.json, "objects"), i);
        if (!strcmp(json_string_value(json_object_get(o, "type")), "incident")) {
            assert_string_equal(json_string_value(json_object_get(o, "name")), "Exported & <shared>");
            assert_string_equal(json_string_value(json_object_get(o, "description")),
                                "four events, two partners");
        }
    }
    assert_true(has(&r, "203.0.113.7") && has(&r, "203.0.113.9") && has(&r, "198.51.100.1") &&
                has(&r, "192.0.2.5"));
    assert_true(has(&r, "hmi-7")); /* ours whole */
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld/export?format=stix", (long long)id), 200);
    assert_int_equal(stix_count(&r, "indicator"), 4);
    hc_free(&r);

    /* our team, IODEF: valid, IncidentID LIAISON#N, every event, every hand-off */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld/export?format=iodef", (long long)id), 200);
    expect_header(&r, "Content-Type", "application/xml");
    snprintf(want, sizeof want, "attachment; filename=\"liaison-incident-%lld.xml\"", (long long)id);
    expect_header(&r, "Content-Disposition", want);
    iodef_check(&r, sch, &v);
    snprintf(want, sizeof want, "LIAISON#%lld", (long long)id);
    assert_string_equal(v.incident_id, want);
    assert_string_equal(v.id_name, "Liaison");
    assert_int_equal(v.event_data, 4);
    assert_string_equal(v.irt, "cert-a,cert-b,");
    assert_true(has(&r, "<SystemImpact severity=\"high\"/>"));
    hc_free(&r);

    /* cert-a, handed the incident: its one event, redacted; its hand-off only */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld/export", (long long)id), 200);
    expect_header(&r, "X-Export-Events", "1");
    expect_header(&r, "X-Export-Missing", "");
    assert_int_equal(stix_count(&r, "incident"), 1);
    assert_int_equal(stix_count(&r, "indicator"), 1);
    assert_true(has(&r, "203.0.113.7"));
    assert_false(has(&r, "203.0.113.9") || has(&r, "198.51.100.1") || has(&r, "192.0.2.5"));
    assert_false(has(&r, "hmi-7"));
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld/export?format=iodef", (long long)id), 200);
    iodef_check(&r, sch, &v);
    assert_int_equal(v.event_data, 1);
    assert_string_equal(v.irt, "cert-a,");
    assert_false(has(&r, "cert-b") || has(&r, "198.51.100.1") || has(&r, "hmi-7"));
    hc_free(&r);
    /* cert-b: event 3 only, nothing of cert-a */
    assert_int_equal(get(k_pb, &r, "/api/v1/incidents/%lld/export?format=iodef", (long long)id), 200);
    iodef_check(&r, sch, &v);
    assert_int_equal(v.event_data, 1);
    assert_string_equal(v.irt, "cert-b,");
    assert_true(has(&r, "198.51.100.1"));
    assert_false(has(&r, "cert-a") || has(&r, "203.0.113.7"));
    hc_free(&r);

    /* not handed to it: 404, as a missing incident (the constituent; cert-a on cert-b's) */
    get(k_own, &r, "/api/v1/incidents/%lld/export", (long long)id);
    snprintf(want, sizeof want, "no incident %lld", (long long)id);
    assert_error(&r, 404, "not_found", want);
    hc_free(&r);
    get(k_pa, &r, "/api/v1/incidents/%lld/export?format=iodef", (long long)inc_b);
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/incidents/999/export");
    assert_error(&r, 404, "not_found", "no incident 999");
    keep("Error", &r);
    hc_free(&r);

    /* bad parameters: 400 naming the formats */
    get(k_ana, &r, "/api/v1/incidents/%lld/export?format=misp", (long long)id);
    assert_error(&r, 400, "invalid_parameter", "stix (a STIX 2.1 bundle) or iodef");
    keep("Error", &r);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/incidents/%lld/export?format=stix&format=iodef", (long long)id);
    assert_error(&r, 400, "invalid_parameter", "given more than once");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/incidents/%lld/export?since=2026-01-01", (long long)id);
    assert_error(&r, 400, "invalid_parameter", "parameter since: unknown");
    hc_free(&r);
    /* a bad format is 400 before anything is looked at, also for a partner */
    get(k_own, &r, "/api/v1/incidents/%lld/export?format=pdf", (long long)id);
    assert_error(&r, 400, "invalid_parameter", "parameter format");
    hc_free(&r);
    /* only GET */
    jreq("POST", k_ana, "{}", &r, "/api/v1/incidents/%lld/export", (long long)id);
    assert_error(&r, 405, "method_not_allowed", NULL);
    hc_free(&r);
    xmlSchemaFree(sch);
    xmlFreeDoc(xsd);
}

/* Last: every kept answer against the document's schemas. */
static void test_openapi_schemas(void **state)
{
    const char *src = getenv("LIAISON_SOURCE_ROOT"), *data = getenv("LIAISON_TESTDATA");
    char cmd[9000], doc[400];
    resp r;
    int st;
    (void)state;
    assert_non_null(src);
    assert_non_null(data);
    snprintf(doc, sizeof doc, "%s/openapi.json", tmpdir);
    assert_int_equal(get(NULL, &r, "/api/v1/openapi.json"), 200);
    write_body(doc, &r);
    hc_free(&r);
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -W ignore '%s/tests/integration/api/validate_openapi.py' '%s/openapi/schema.json' "
        "'%s'%s",
        src, data, doc, schema_args);
    st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_directory_create),
        cmocka_unit_test(test_directory_update),
        cmocka_unit_test(test_feeds),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_preview),
        cmocka_unit_test(test_event_raw),
        cmocka_unit_test(test_event_notifications),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_openapi_schemas),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
