/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The REST API's events, directory and statistics (/api/v1/events,
 * /events/{id}, /partners, /owners, /stats) end to end: a store with two
 * partner CERTs and events routed to each, `liaison serve`'s mounts started
 * in-process on 127.0.0.1, libcurl as the client. Our team sees every event
 * whole with its routing; a partner only the events routed to it, redacted
 * as its digest is, never one the TLP policy denied it, and none once its
 * ceiling is lowered; an unlinked partner nothing; pages cover every event
 * exactly once; bad filters are 400 with the parameter named; the answers
 * hold against the OpenAPI document's schemas. */
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

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/incident.h"
#include "liaison/ingest.h"
#include "liaison/liaison.h"
#include "liaison/route.h"
#include "../security/http_client.h" /* the tests' HTTP client */

#define PASSWORD "correct horse battery staple"

static char tmpdir[256], dbpath[300];
static lia_http *srv;
static uint16_t port;
static char k_ana[LIA_KEY_TOKEN_MAX + 16], k_pa[LIA_KEY_TOKEN_MAX + 16], k_pb[LIA_KEY_TOKEN_MAX + 16],
    k_lone[LIA_KEY_TOKEN_MAX + 16], k_own[LIA_KEY_TOKEN_MAX + 16];
static int64_t inc_a;

typedef hc_resp resp;

static const char partners_yaml[] =
    "partners:\n"
    "  - id: cert-a\n    name: CERT A\n    countries: [MY]\n    tlp_max: GREEN\n    agreement: true\n"
    "    contacts: [soc@cert-a.example]\n"
    "  - id: cert-b\n    name: CERT B\n    countries: [KH]\n    tlp_max: %s\n    agreement: true\n"
    "    contacts: [soc@cert-b.example]\n";
static const char routing[] = "home_country: CN\nredact_partner: [source.local_hostname]\n";
static const char owners_yaml[] = "owners:\n  - id: net-cn\n    name: CN network\n    country: CN\n"
                                  "    cidrs: [192.0.2.0/24]\n    contacts: [noc@net-cn.example]\n";
/* ids 1..6 in this order */
static const char events[] =
    "{\"source.ip\":\"203.0.113.7\",\"source.geolocation.cc\":\"MY\",\"source.asn\":64500,"
    "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\",\"raw\":\"c2VjcmV0\","
    "\"source.local_hostname\":\"hmi-7\",\"time.source\":\"2026-11-27T10:00:00Z\"}\n"
    "{\"source.ip\":\"203.0.113.9\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"infected-"
    "system\","
    "\"tlp\":\"AMBER\",\"time.source\":\"2026-11-27T11:00:00Z\"}\n"
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

static void assert_error(const resp *r, long status, const char *code, const char *want)
{
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    if (!e)
        fail_msg("no error object in %ld answer: %s", r->status, lia_buf_cstr((lia_buf *)&r->body));
    assert_int_equal(r->status, status);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    if (want && !strstr(json_string_value(json_object_get(e, "message")), want))
        fail_msg("message \"%s\" does not say \"%s\"", json_string_value(json_object_get(e, "message")),
                 want);
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

static int load_partners(lia_store *s, const char *tlp_b, lia_error *e)
{
    char y[1024];
    size_t n;
    snprintf(y, sizeof y, partners_yaml, tlp_b);
    return lia_party_import(s, LIA_PARTY_PARTNER, "yaml", y, strlen(y), &n, e);
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
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-apiev-XXXXXX");
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
    if (lia_store_open(dbpath, &s, &e) || load_partners(s, "AMBER", &e) ||
        lia_party_import(s, LIA_PARTY_OWNER, "yaml", owners_yaml, strlen(owners_yaml), &n, &e) ||
        lia_route_config_put(s, routing, strlen(routing), &e) || lia_ingest(s, &io, &res, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_org_add(s, "cert-a", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "cert-b", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "lone", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "net-cn", LIA_ORG_CONSTITUENT, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_link(s, "cert-a", "cert-a", &e) ||
        lia_accounts_org_link(s, "cert-b", "cert-b", &e) ||
        lia_accounts_org_link(s, "net-cn", "net-cn", &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-a", "pa", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-b", "pb", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "lone", "pl", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "net-cn", "noc", LIA_ROLE_CONSTITUENT, PASSWORD, NULL, &e)) {
        fprintf(stderr, "setup: %s (line %llu)\n", e.reason, (unsigned long long)e.line);
        return -1;
    }
    if (res.report.events != 6) {
        fprintf(stderr, "setup: %llu events stored, 6 expected\n", (unsigned long long)res.report.events);
        return -1;
    }
    bearer(s, "ana", k_ana);
    bearer(s, "pa", k_pa);
    bearer(s, "pb", k_pb);
    bearer(s, "pl", k_lone);
    bearer(s, "noc", k_own);
    {
        lia_incident in;
        memset(&in, 0, sizeof in);
        in.title = "the MY scanner";
        in.severity = LIA_SEV_MEDIUM;
        if (lia_incident_create(s, &in, rcpt, 1, &ev1, 1, &who, &inc_a, &e)) {
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

/* The event ids of a page into ids, in order; returns how many. */
static size_t ids_of(const resp *r, int64_t *ids, size_t max)
{
    json_t *a = json_object_get(r->json, "events");
    size_t n = json_array_size(a);
    assert_true(json_is_array(a));
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        ids[i] = json_integer_value(json_object_get(json_array_get(a, i), "event.id"));
    return n;
}

/* The page's ids as "1,2,3". */
static const char *idlist(const resp *r)
{
    static char out[256];
    int64_t ids[64];
    size_t n = ids_of(r, ids, 64);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld", i ? "," : "", (long long)ids[i]);
    return out;
}

static void test_own_team_sees_every_event(void **state)
{
    resp r;
    json_t *e;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "1,2,3,4,5,6");
    assert_true(json_is_null(json_object_get(r.json, "next")));
    e = json_array_get(json_object_get(r.json, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "raw")), "c2VjcmV0");
    assert_string_equal(json_string_value(json_object_get(e, "source.local_hostname")), "hmi-7");
    assert_int_equal(json_integer_value(json_object_get(e, "report.id")), 1);
    assert_int_equal(json_integer_value(json_object_get(e, "report.line")), 1);
    hc_free(&r);
    /* pages of two: every event exactly once, in order */
    {
        char next[128] = "";
        char seen[64] = "";
        int pages = 0;
        do {
            if (next[0])
                get(k_ana, &r, "/api/v1/events?limit=2&next=%s", next);
            else
                get(k_ana, &r, "/api/v1/events?limit=2");
            assert_int_equal(r.status, 200);
            snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%s", pages++ ? "," : "", idlist(&r));
            json_t *nx = json_object_get(r.json, "next");
            snprintf(next, sizeof next, "%s", json_is_string(nx) ? json_string_value(nx) : "");
            hc_free(&r);
        } while (next[0] && pages < 10);
        assert_string_equal(seen, "1,2,3,4,5,6");
        assert_int_equal(pages, 3);
    }
}

static void test_filters(void **state)
{
    static const struct {
        const char *query, *ids;
    } cases[] = {
        {"cc=KH", "3,4,6"},
        {"cc=kh&class=scanner", "3,6"},
        {"asn=64501", "3,4"},
        {"asn=AS64500", "1"},
        {"ip=198.51.100.0/24", "3,4"},
        {"ip=2001:db8::/32", "6"},
        {"class=malicious-code", "2,4"}, /* infected-system and c2-server */
        {"class=infected-system", "2"},
        {"since=2026-11-29", "4,5,6"},
        {"since=2026-11-28&until=2026-11-30T00:00:00Z", "3,4"},
        {"feed=test&report=1&cc=CN", "5"},
        {"feed=other", ""},
    };
    resp r;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        get(k_ana, &r, "/api/v1/events?%s", cases[i].query);
        if (r.status != 200)
            fail_msg("%s: %ld %s", cases[i].query, r.status, lia_buf_cstr(&r.body));
        if (strcmp(idlist(&r), cases[i].ids))
            fail_msg("%s: events %s, expected %s", cases[i].query, idlist(&r), cases[i].ids);
        hc_free(&r);
    }
}

static void test_bad_parameters(void **state)
{
    static const struct {
        const char *query, *says;
    } cases[] = {
        {"cc=Kingdom", "parameter cc"},
        {"asn=-1", "parameter asn"},
        {"ip=300.1.1.1", "parameter ip"},
        {"class=nonsense", "neither an RSIT taxonomy nor a type"},
        {"since=yesterday", "parameter since"},
        {"report=0", "parameter report"},
        {"limit=501", "from 1 to 500"},
        {"limit=0", "parameter limit"},
        {"colour=red", "allowed: since, until, cc, asn, ip, class, feed, report, limit, next"},
        {"cc=KH&cc=MY", "given more than once"},
    };
    resp r;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        get(k_ana, &r, "/api/v1/events?%s", cases[i].query);
        assert_error(&r, 400, "invalid_parameter", cases[i].says);
        hc_free(&r);
    }
    /* a cursor belongs to its filters and its caller */
    get(k_ana, &r, "/api/v1/events?limit=1&cc=KH");
    char next[128];
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(r.json, "next")));
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events?limit=1&cc=MY&next=%s", next);
    assert_error(&r, 400, "invalid_cursor", "not a cursor of this query");
    hc_free(&r);
    get(k_pb, &r, "/api/v1/events?limit=1&cc=KH&next=%s", next);
    assert_error(&r, 400, "invalid_cursor", NULL);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events?limit=1&cc=KH&next=%s", next);
    assert_int_equal(r.status, 200);
    assert_string_equal(idlist(&r), "4");
    hc_free(&r);
    get(NULL, &r, "/api/v1/events");
    assert_error(&r, 401, "unauthenticated", NULL);
    hc_free(&r);
}

static void test_partner_sees_what_was_routed_to_it(void **state)
{
    resp r;
    json_t *e;
    (void)state;
    /* cert-a: event 1 (MY, GREEN); not event 2 (MY, AMBER above its GREEN ceiling: denied) */
    assert_int_equal(get(k_pa, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "1");
    e = json_array_get(json_object_get(r.json, "events"), 0);
    assert_null(json_object_get(e, "raw"));                   /* redact: [raw], the default */
    assert_null(json_object_get(e, "source.local_hostname")); /* redact_partner */
    assert_null(json_object_get(e, "report.id"));
    assert_null(json_object_get(e, "report.line"));
    assert_string_equal(json_string_value(json_object_get(e, "source.ip")), "203.0.113.7");
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/events/1"), 200);
    assert_null(json_object_get(r.json, "routing"));
    assert_null(json_object_get(json_object_get(r.json, "event"), "raw"));
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r.json, "incidents"), 0)), inc_a);
    hc_free(&r);
    /* the others' events and the denied one: exactly as a missing event */
    for (int id = 2; id <= 7; id++) {
        get(k_pa, &r, "/api/v1/events/%d", id);
        assert_error(&r, 404, "not_found", "no event");
        hc_free(&r);
    }
    /* cert-b: the KH events; the MY ones are not found */
    assert_int_equal(get(k_pb, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "3,4,6");
    hc_free(&r);
    assert_int_equal(get(k_pb, &r, "/api/v1/events?class=scanner&limit=1"), 200);
    assert_string_equal(idlist(&r), "3");
    assert_true(json_is_string(json_object_get(r.json, "next")));
    hc_free(&r);
    assert_int_equal(get(k_pb, &r, "/api/v1/events/3"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), 0); /* inc_a is not cert-b's */
    hc_free(&r);
    get(k_pb, &r, "/api/v1/events/1");
    assert_error(&r, 404, "not_found", "no event 1");
    hc_free(&r);
    /* a constituent: the events of its networks */
    assert_int_equal(get(k_own, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "5");
    hc_free(&r);
    /* an organisation linked to no party sees nothing */
    assert_int_equal(get(k_lone, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "");
    hc_free(&r);
    get(k_lone, &r, "/api/v1/events/1");
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
}

static void test_own_team_sees_the_routing(void **state)
{
    resp r;
    json_t *rt, *d;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/events/2"), 200);
    rt = json_object_get(r.json, "routing");
    assert_int_equal(json_array_size(rt), 1);
    d = json_array_get(rt, 0);
    assert_string_equal(json_string_value(json_object_get(d, "recipient")), "partner:cert-a");
    assert_string_equal(json_string_value(json_object_get(d, "verdict")), "deny");
    assert_non_null(strstr(json_string_value(json_object_get(d, "reason")), "ceiling"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/events/1"), 200);
    d = json_array_get(json_object_get(r.json, "routing"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "verdict")), "deliver");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "event"), "raw")),
                        "c2VjcmV0");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r.json, "incidents"), 0)), inc_a);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events/99");
    assert_error(&r, 404, "not_found", "no event 99");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/events/1?x=1");
    assert_error(&r, 400, "invalid_parameter", "parameter x");
    hc_free(&r);
}

static void test_directory(void **state)
{
    resp r;
    json_t *a, *p;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/partners"), 200);
    a = json_object_get(r.json, "partners");
    assert_int_equal(json_array_size(a), 2);
    p = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(p, "id")), "cert-a");
    assert_string_equal(json_string_value(json_object_get(p, "name")), "CERT A");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "countries"), 0)), "MY");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "contacts"), 0)),
                        "soc@cert-a.example");
    assert_true(json_is_true(json_object_get(p, "agreement")));
    assert_string_equal(json_string_value(json_object_get(p, "tlp_max")), "GREEN");
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/owners"), 200);
    a = json_object_get(r.json, "owners");
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(a, 0), "cidrs"), 0)),
                        "192.0.2.0/24");
    hc_free(&r);
    /* a partner: its own entry, no other partner, no owner */
    assert_int_equal(get(k_pb, &r, "/api/v1/partners"), 200);
    a = json_object_get(r.json, "partners");
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "id")), "cert-b");
    hc_free(&r);
    assert_int_equal(get(k_pb, &r, "/api/v1/owners"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "owners")), 0);
    hc_free(&r);
    assert_int_equal(get(k_own, &r, "/api/v1/owners"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "owners")), 1);
    hc_free(&r);
    assert_int_equal(get(k_lone, &r, "/api/v1/partners"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "partners")), 0);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/partners?kind=x");
    assert_error(&r, 400, "invalid_parameter", "parameter kind");
    hc_free(&r);
}

/* The count of group key in a /stats answer, 0 if absent. */
static int64_t count_of(const resp *r, const char *key)
{
    json_t *g = json_object_get(r->json, "groups"), *x;
    size_t i;
    json_array_foreach(g, i, x) if (!strcmp(json_string_value(json_object_get(x, "key")),
                                            key)) return json_integer_value(json_object_get(x, "count"));
    return 0;
}

static void test_stats(void **state)
{
    resp r;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/stats?by=cc"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 6);
    assert_int_equal(count_of(&r, "KH"), 3);
    assert_int_equal(count_of(&r, "MY"), 2);
    assert_int_equal(count_of(&r, "CN"), 1);
    /* the largest first */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(r.json, "groups"), 0), "key")),
        "KH");
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/stats?by=type&cc=KH"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 3);
    assert_int_equal(count_of(&r, "scanner"), 2);
    assert_int_equal(count_of(&r, "c2-server"), 1);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/stats?by=cc&limit=1"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "groups")), 1);
    hc_free(&r);
    /* a partner counts what was routed to it */
    assert_int_equal(get(k_pa, &r, "/api/v1/stats?by=cc"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 1);
    assert_int_equal(count_of(&r, "MY"), 1);
    assert_int_equal(count_of(&r, "KH"), 0);
    hc_free(&r);
    assert_int_equal(get(k_lone, &r, "/api/v1/stats?by=cc"), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 0);
    hc_free(&r);
    get(k_ana, &r, "/api/v1/stats");
    assert_error(&r, 400, "invalid_parameter", "parameter by");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/stats?by=colour");
    assert_error(&r, 400, "invalid_parameter", "one of cc, asn, class, type, taxonomy, feed");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/stats?by=cc&next=x");
    assert_error(&r, 400, "invalid_parameter", "parameter next");
    hc_free(&r);
}

static void write_body(const char *path, const resp *r)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r->body.ptr, 1, r->body.len, f), r->body.len);
    assert_int_equal(fclose(f), 0);
}

static void test_openapi_schemas(void **state)
{
    static const struct {
        const char *schema, *path;
    } answers[] = {
        {"EventPage", "/api/v1/events"},     {"EventPage", "/api/v1/events?cc=MY"},
        {"EventDetail", "/api/v1/events/1"}, {"EventDetail", "/api/v1/events/2"},
        {"Stats", "/api/v1/stats?by=asn"},   {"Stats", "/api/v1/stats?by=feed"},
        {"Error", "/api/v1/events?cc=x"},
    };
    const char *src = getenv("LIAISON_SOURCE_ROOT"), *data = getenv("LIAISON_TESTDATA");
    char cmd[8192], doc[400], file[400];
    size_t used;
    resp r;
    (void)state;
    assert_non_null(src);
    assert_non_null(data);
    snprintf(doc, sizeof doc, "%s/openapi.json", tmpdir);
    assert_int_equal(get(NULL, &r, "/api/v1/openapi.json"), 200);
    write_body(doc, &r);
    hc_free(&r);
    used = (size_t)snprintf(cmd, sizeof cmd,
                            "/usr/bin/python3 -W ignore '%s/tests/integration/api/validate_openapi.py' "
                            "'%s/openapi/schema.json' '%s'",
                            src, data, doc);
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        snprintf(file, sizeof file, "%s/answer-%zu.json", tmpdir, i);
        get(k_ana, &r, "%s", answers[i].path);
        write_body(file, &r);
        hc_free(&r);
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " %s='%s'", answers[i].schema, file);
    }
    /* a partner's page, a partner's list of partners */
    snprintf(file, sizeof file, "%s/answer-pa.json", tmpdir);
    get(k_pa, &r, "/api/v1/events/1");
    write_body(file, &r);
    hc_free(&r);
    used += (size_t)snprintf(cmd + used, sizeof cmd - used, " EventDetail='%s'", file);
    assert_true(used < sizeof cmd);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Last: cert-b's ceiling lowered to CLEAR; its GREEN events, routed to it
 * before, are withheld from then on. */
static void test_ceiling_lowered(void **state)
{
    lia_store *s;
    lia_error e;
    resp r;
    (void)state;
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) || load_partners(s, "CLEAR", &e))
        fail_msg("partners: %s", e.reason);
    lia_store_close(s);
    assert_int_equal(get(k_pb, &r, "/api/v1/events"), 200);
    assert_string_equal(idlist(&r), "");
    assert_true(json_is_null(json_object_get(r.json, "next")));
    hc_free(&r);
    get(k_pb, &r, "/api/v1/events/3");
    assert_error(&r, 404, "not_found", "no event 3");
    hc_free(&r);
}

/* Last: every report pruned (liaison store prune). The incident linking
 * event 1 still shows it, from its copy, marked; its export carries it,
 * to our team and to cert-a, which it was routed to; the event itself is
 * gone from /events. */
static void test_incident_keeps_pruned_events(void **state)
{
    lia_store *s;
    lia_error e;
    lia_prune_result res;
    lia_prune_rule rule = {NULL, NULL, (int64_t)time(NULL) * 1000000 + 1000000};
    json_t *evs, *ev;
    resp r;
    (void)state;
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) || lia_store_prune(s, &rule, 1, 0, &res, &e))
        fail_msg("prune: %s", e.reason);
    lia_store_close(s);
    assert_int_equal(res.events, 6);
    assert_int_equal(res.incident_copies, 1);
    get(k_ana, &r, "/api/v1/events/1");
    assert_error(&r, 404, "not_found", "no event 1");
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)inc_a), 200);
    evs = json_object_get(r.json, "events");
    assert_int_equal(json_array_size(evs), 1);
    ev = json_array_get(evs, 0);
    assert_int_equal(json_integer_value(json_object_get(ev, "event.id")), 1);
    assert_string_equal(json_string_value(json_object_get(ev, "source.ip")), "203.0.113.7");
    assert_non_null(json_string_value(json_object_get(ev, "extra.store_pruned")));
    hc_free(&r);
    /* a partner sees no links nor events of ours */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)inc_a), 200);
    assert_null(json_object_get(r.json, "events"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld/export?format=stix", (long long)inc_a), 200);
    assert_non_null(strstr(lia_buf_cstr((lia_buf *)&r.body), "203.0.113.7"));
    hc_free(&r);
    /* cert-a: it was routed to it (the copy kept the recipients), redacted as before */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld/export?format=stix", (long long)inc_a), 200);
    assert_non_null(strstr(lia_buf_cstr((lia_buf *)&r.body), "203.0.113.7"));
    assert_null(strstr(lia_buf_cstr((lia_buf *)&r.body), "hmi-7"));
    hc_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_team_sees_every_event),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_partner_sees_what_was_routed_to_it),
        cmocka_unit_test(test_own_team_sees_the_routing),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_openapi_schemas),
        cmocka_unit_test(test_ceiling_lowered),
        cmocka_unit_test(test_incident_keeps_pruned_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
