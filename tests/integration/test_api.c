/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The REST API (/api/v1) end to end: `liaison serve`'s mounts started
 * in-process on 127.0.0.1, libcurl as the client. Who sees what (our team
 * everything; a partner only the incidents handed off to it, only its
 * hand-off and the comments shared with it; 404 for the rest, exactly as
 * for a missing incident; 401 without credentials), pagination (every
 * incident exactly once across pages, a changed or foreign cursor 400),
 * parameters (a bad limit 400 with a message), the error shape, console
 * sessions, and the OpenAPI document (validated against the OAS 3.1
 * meta-schema with Debian's python3-jsonschema; its paths are the route
 * table's; the answers match its schemas). */
#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../pg/pg_test.h"

#include "api/api.h"
#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/incident.h"
#include "liaison/liaison.h"
#include "../security/http_client.h" /* the tests' HTTP client */

#define PASSWORD "correct horse battery staple"
#define NBULK    23 /* incidents beyond the named ones, for the pages */

static char tmpdir[256], dbpath[300];
static lia_http *srv;
static uint16_t port;
static char k_ana[LIA_KEY_TOKEN_MAX + 16], k_pa[LIA_KEY_TOKEN_MAX + 16], k_pb[LIA_KEY_TOKEN_MAX + 16],
    k_lone[LIA_KEY_TOKEN_MAX + 16];
static int64_t i_a, i_b, i_withdrawn, i_notified, i_merged, total;

typedef hc_resp resp;

/* One REST request; auth is a whole Authorization value or NULL, hdrs extra
 * header lines (NULL-terminated) or NULL. */
static long req(const char *method, const char *path, const char *auth, const char *const *hdrs,
                const char *body, resp *r)
{
    return hc_send(NULL, port, method, path, auth, hdrs, NULL, body, r);
}

static long get(const char *auth, resp *r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static long get(const char *auth, resp *r, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return req("GET", path, auth, NULL, NULL, r);
}

/* The error of r has this code and status, and a message containing want. */
static void assert_error(const resp *r, long status, const char *code, const char *want)
{
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    if (!e)
        fail_msg("no error object in %ld answer: %s", r->status, lia_buf_cstr((lia_buf *)&r->body));
    assert_int_equal(r->status, status);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    const char *m = json_string_value(json_object_get(e, "message"));
    assert_non_null(m);
    if (want && !strstr(m, want))
        fail_msg("message \"%s\" does not say \"%s\"", m, want);
    assert_int_equal(json_object_size(r->json), 1);
    assert_int_equal(json_object_size(e), 3);
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

static int64_t incident(lia_store *s, const char *title, lia_severity sev, const char *cc, const char *rcpt)
{
    lia_incident in;
    lia_actor who = {"ana", "cli", NULL};
    const char *r[1] = {rcpt};
    lia_error e;
    int64_t id = 0;
    memset(&in, 0, sizeof in);
    in.title = title;
    in.severity = sev;
    in.countries = cc;
    in.owner = "ana";
    lia_error_clear(&e);
    if (lia_incident_create(s, &in, r, rcpt ? 1 : 0, NULL, 0, &who, &id, &e))
        fail_msg("incident: %s", e.reason);
    return id;
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    lia_actor who = {"ana", "cli", NULL};
    lia_http_opts o;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-api-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "a", dbpath, sizeof dbpath))
        return -1;
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_org_add(s, "cert-a", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "cert-b", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_add(s, "lone", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_org_link(s, "cert-a", "cert-a", &e) ||
        lia_accounts_org_link(s, "cert-b", "cert-b", &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-a", "pa", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-b", "pb", LIA_ROLE_PARTNER, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "lone", "pl", LIA_ROLE_PARTNER, PASSWORD, NULL, &e)) {
        fprintf(stderr, "setup: %s\n", e.reason);
        return -1;
    }
    bearer(s, "ana", k_ana);
    bearer(s, "pa", k_pa);
    bearer(s, "pb", k_pb);
    bearer(s, "pl", k_lone);
    i_a = incident(s, "for a", LIA_SEV_HIGH, "KH,TH", "cert-a");
    i_b = incident(s, "for b", LIA_SEV_LOW, "VN", "cert-b");
    i_withdrawn = incident(s, "taken back from a", LIA_SEV_MEDIUM, NULL, "cert-a");
    i_notified = incident(s, "a is notified", LIA_SEV_CRITICAL, "kh", "cert-a");
    i_merged = incident(s, "merged into b's", LIA_SEV_LOW, NULL, "cert-a");
    if (lia_handoff_set(s, i_withdrawn, "cert-a", LIA_HO_WITHDRAWN, NULL, &who, &e) ||
        lia_handoff_set(s, i_notified, "cert-a", LIA_HO_NOTIFIED, NULL, &who, &e) ||
        lia_handoff_add(s, i_a, "cert-b", &who, &e) ||
        lia_handoff_set(s, i_a, "cert-b", LIA_HO_WITHDRAWN, NULL, &who, &e) ||
        lia_incident_comment(s, i_a, "internal", "internal note", &who, NULL, &e) ||
        lia_incident_comment(s, i_a, "shared", "to every recipient", &who, NULL, &e) ||
        lia_incident_comment(s, i_a, "shared:cert-a", "to a only", &who, NULL, &e) ||
        lia_incident_comment(s, i_a, "shared:cert-b", "to b only", &who, NULL, &e) ||
        lia_incident_link(s, i_a, "indicator", "198.51.100.7", &who, &e)) {
        fprintf(stderr, "setup: %s\n", e.reason);
        return -1;
    }
    {
        lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
        ch.status = LIA_INC_DUPLICATE;
        ch.merged_into = i_b;
        if (lia_incident_update(s, i_merged, &ch, &who, &e)) {
            fprintf(stderr, "setup: %s\n", e.reason);
            return -1;
        }
    }
    for (int i = 0; i < NBULK; i++) {
        char t[32];
        snprintf(t, sizeof t, "bulk %d", i);
        incident(s, t, i % 3 ? LIA_SEV_MEDIUM : LIA_SEV_HIGH, i % 2 ? "KH" : "DE", NULL);
    }
    total = 5 + NBULK;
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

/* The ids of a page, in order, into ids; returns how many. */
static size_t page_ids(const resp *r, int64_t *ids, size_t max)
{
    json_t *a = json_object_get(r->json, "incidents");
    size_t n = json_array_size(a);
    assert_true(json_is_array(a));
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        ids[i] = json_integer_value(json_object_get(json_array_get(a, i), "id"));
    return n;
}

static void test_unauthenticated(void **state)
{
    resp r;
    (void)state;
    assert_int_equal(get(NULL, &r, "/api/v1/incidents"), 401);
    assert_error(&r, 401, "unauthenticated", "authentication required");
    hc_free(&r);
    assert_int_equal(get(NULL, &r, "/api/v1/incidents/%lld", (long long)i_a), 401);
    assert_error(&r, 401, "unauthenticated", NULL);
    hc_free(&r);
    assert_int_equal(get("Bearer lia_not-a-key", &r, "/api/v1/incidents"), 401);
    assert_error(&r, 401, "unauthenticated", NULL);
    hc_free(&r);
    /* an unknown path says 401 too before anything: no map of the API without credentials */
    assert_int_equal(get(NULL, &r, "/api/v1/nothing"), 401);
    hc_free(&r);
}

/* Every incident exactly once across pages of 4, in id order. */
static void test_pages(void **state)
{
    int64_t seen[64], ids[8];
    size_t nseen = 0;
    char next[128] = "";
    int pages = 0;
    resp r;
    (void)state;
    do {
        json_t *nx;
        if (next[0])
            assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=4&next=%s", next), 200);
        else
            assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=4"), 200);
        size_t n = page_ids(&r, ids, 8);
        nx = json_object_get(r.json, "next");
        assert_true(n == 4 || json_is_null(nx));
        for (size_t i = 0; i < n; i++) {
            assert_true(nseen < 64);
            if (nseen)
                assert_true(ids[i] > seen[nseen - 1]); /* ascending: nothing twice */
            seen[nseen++] = ids[i];
        }
        snprintf(next, sizeof next, "%s", json_is_string(nx) ? json_string_value(nx) : "");
        hc_free(&r);
        pages++;
    } while (next[0]);
    assert_int_equal(nseen, total);
    assert_int_equal(pages, (total + 3) / 4);
    for (size_t i = 0; i < nseen; i++)
        assert_int_equal(seen[i], (int64_t)i + 1);
    /* the default page holds them all (50), with no next */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), total);
    assert_true(json_is_null(json_object_get(r.json, "next")));
    hc_free(&r);
    /* pages with a filter: every high incident once */
    {
        size_t nhigh = 0;
        next[0] = '\0';
        do {
            if (next[0])
                assert_int_equal(get(k_ana, &r, "/api/v1/incidents?severity=high&limit=3&next=%s", next),
                                 200);
            else
                assert_int_equal(get(k_ana, &r, "/api/v1/incidents?severity=high&limit=3"), 200);
            json_t *a = json_object_get(r.json, "incidents"), *nx = json_object_get(r.json, "next");
            for (size_t i = 0; i < json_array_size(a); i++)
                assert_string_equal(json_string_value(json_object_get(json_array_get(a, i), "severity")),
                                    "high");
            nhigh += json_array_size(a);
            snprintf(next, sizeof next, "%s", json_is_string(nx) ? json_string_value(nx) : "");
            hc_free(&r);
        } while (next[0]);
        assert_int_equal(nhigh, 1 + (NBULK + 2) / 3); /* i_a and every third bulk one */
    }
}

static void test_cursor_tampered(void **state)
{
    char next[128], bad[128];
    resp r;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=2"), 200);
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(r.json, "next")));
    hc_free(&r);
    assert_true(strlen(next) > 10);
    /* every single changed character is refused */
    for (size_t i = 0; i < strlen(next); i++) {
        snprintf(bad, sizeof bad, "%s", next);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=2&next=%s", bad), 400);
        assert_error(&r, 400, "invalid_cursor", "parameter next");
        hc_free(&r);
    }
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=2&next=%.10s", next), 400);
    assert_error(&r, 400, "invalid_cursor", NULL);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?next=not-a-cursor"), 400);
    assert_error(&r, 400, "invalid_cursor", NULL);
    hc_free(&r);
    /* the same cursor with other filters, or from another caller */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=2&severity=low&next=%s", next), 400);
    assert_error(&r, 400, "invalid_cursor", NULL);
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents?limit=2&next=%s", next), 400);
    assert_error(&r, 400, "invalid_cursor", NULL);
    hc_free(&r);
    /* and it is good as it was, with another limit too */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=5&next=%s", next), 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "incidents"), 0), "id")),
        3);
    hc_free(&r);
}

static void test_bad_parameters(void **state)
{
    static const struct {
        const char *query, *says;
    } cases[] = {
        {"limit=0", "parameter limit: \"0\": a whole number from 1 to 500"},
        {"limit=501", "parameter limit: \"501\""},
        {"limit=-1", "parameter limit"},
        {"limit=abc", "parameter limit: \"abc\""},
        {"limit=", "parameter limit"},
        {"limit=10&limit=20", "parameter limit: given more than once"},
        {"status=open", "parameter status: \"open\""},
        {"severity=urgent", "parameter severity: \"urgent\""},
        {"country=KHM", "parameter country: \"KHM\": a country is two letters"},
        {"recipient=CERT%20A", "parameter recipient"},
        {"colour=red", "parameter colour: unknown"},
    };
    resp r;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        get(k_ana, &r, "/api/v1/incidents?%s", cases[i].query);
        assert_error(&r, 400, "invalid_parameter", cases[i].says);
        hc_free(&r);
    }
    /* the status message lists the statuses */
    get(k_ana, &r, "/api/v1/incidents?status=open");
    assert_non_null(strstr(lia_buf_cstr(&r.body), "triaged"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld?x=1", (long long)i_a), 400);
    assert_error(&r, 400, "invalid_parameter", "parameter x");
    hc_free(&r);
    /* shapes that name no resource, and a method the resource does not take */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/abc"), 404);
    assert_error(&r, 404, "not_found", "no such resource");
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/0"), 404);
    hc_free(&r);
    assert_int_equal(req("DELETE", "/api/v1/incidents", k_ana, NULL, NULL, &r), 405);
    assert_error(&r, 405, "method_not_allowed", "allowed: GET");
    assert_non_null(strstr(lia_buf_cstr(&r.head), "Allow: GET"));
    hc_free(&r);
}

static void test_filters(void **state)
{
    int64_t ids[64];
    size_t n;
    resp r;
    (void)state;
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?country=kh"), 200);
    n = page_ids(&r, ids, 64);
    assert_int_equal(n, 2 + NBULK / 2); /* i_a (KH,TH), i_notified (kh), the odd bulk ones */
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?status=notified"), 200);
    n = page_ids(&r, ids, 64);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], i_notified);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?recipient=cert-b"), 200);
    n = page_ids(&r, ids, 64);
    assert_int_equal(n, 1); /* i_a's hand-off to cert-b was withdrawn */
    assert_int_equal(ids[0], i_b);
    hc_free(&r);
}

static void test_partner_sees_its_own(void **state)
{
    int64_t ids[64];
    size_t n;
    resp r, r2;
    json_t *inc, *hos, *cms;
    (void)state;
    /* cert-a: the incidents handed off to it, not the withdrawn one */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents"), 200);
    n = page_ids(&r, ids, 64);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], i_a);
    assert_int_equal(ids[1], i_notified);
    assert_int_equal(ids[2], i_merged);
    inc = json_array_get(json_object_get(r.json, "incidents"), 0);
    assert_null(json_object_get(inc, "owner")); /* our analyst's name stays ours */
    /* duplicate of cert-b's incident: a does not learn that one's id */
    assert_null(json_object_get(json_array_get(json_object_get(r.json, "incidents"), 2), "merged_into"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_merged), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "merged_into")), i_b);
    hc_free(&r);
    /* cert-b: its own */
    assert_int_equal(get(k_pb, &r, "/api/v1/incidents"), 200);
    n = page_ids(&r, ids, 64);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], i_b);
    hc_free(&r);
    /* another's recipient filter: nothing */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents?recipient=cert-b"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), 0);
    hc_free(&r);
    /* an organisation linked to no party sees nothing */
    assert_int_equal(get(k_lone, &r, "/api/v1/incidents"), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), 0);
    hc_free(&r);
    assert_int_equal(get(k_lone, &r, "/api/v1/incidents/%lld", (long long)i_a), 404);
    hc_free(&r);

    /* the detail: its hand-off only, comments shared with it only */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    hos = json_object_get(r.json, "handoffs");
    assert_int_equal(json_array_size(hos), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(hos, 0), "recipient")), "cert-a");
    assert_null(json_object_get(json_array_get(hos, 0), "by"));
    cms = json_object_get(r.json, "comments");
    assert_int_equal(json_array_size(cms), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cms, 0), "body")),
                        "to every recipient");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cms, 1), "body")), "to a only");
    assert_null(strstr(lia_buf_cstr(&r.body), "internal note"));
    assert_null(strstr(lia_buf_cstr(&r.body), "to b only"));
    assert_null(json_object_get(r.json, "links"));
    assert_null(json_object_get(r.json, "owner"));
    hc_free(&r);
    /* our analyst: everything */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "handoffs")), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "comments")), 4);
    assert_int_equal(json_array_size(json_object_get(r.json, "links")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "owner")), "ana");
    assert_int_equal(json_array_size(json_object_get(r.json, "countries")), 2);
    hc_free(&r);

    /* another's incident, a withdrawn one and a missing one: the same 404 */
    {
        const int64_t hidden[] = {i_b, i_withdrawn, 999999};
        for (size_t i = 0; i < 3; i++) {
            char want[64];
            assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)hidden[i]), 404);
            assert_error(&r, 404, "not_found", NULL);
            snprintf(want, sizeof want, "no incident %lld", (long long)hidden[i]);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(r.json, "error"), "message")), want);
            hc_free(&r);
        }
        /* byte for byte, apart from the id: a partner's view of b's incident and our view of a missing one */
        assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_b), 404);
        assert_int_equal(get(k_ana, &r2, "/api/v1/incidents/%lld", (long long)i_b + 1000000), 404);
        char *a = strstr(lia_buf_cstr(&r.body), "no incident"),
             *b = strstr(lia_buf_cstr(&r2.body), "no incident");
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a - lia_buf_cstr(&r.body), b - lia_buf_cstr(&r2.body));
        assert_memory_equal(r.body.ptr, r2.body.ptr, (size_t)(a - lia_buf_cstr(&r.body)));
        hc_free(&r);
        hc_free(&r2);
    }
}

static void test_sla_clock(void **state)
{
    resp r;
    json_t *h, *sla;
    (void)state;
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_notified), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "notified");
    h = json_array_get(json_object_get(r.json, "handoffs"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "notified");
    assert_true(json_is_string(json_object_get(h, "notified")));
    sla = json_object_get(h, "sla");
    assert_true(json_is_object(sla));
    assert_string_equal(json_string_value(json_object_get(sla, "clock")), "acknowledge");
    assert_int_equal(json_integer_value(json_object_get(sla, "target_seconds")), 3600); /* critical: 1 h */
    assert_string_equal(json_string_value(json_object_get(sla, "timezone")), "UTC");
    hc_free(&r);
    /* a pending hand-off runs no clock */
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(r.json, "handoffs"), 0), "sla")));
    hc_free(&r);
}

/* Log in to the console as user: the "Cookie: ..." header line. */
static void login(const char *user, char cookie[160])
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char body[200];
    resp r;
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"" PASSWORD "\"}", user);
    assert_int_equal(req("POST", "/console/login", NULL, json, body, &r), 200);
    const char *sc = strcasestr(lia_buf_cstr(&r.head), "Set-Cookie: ");
    assert_non_null(sc);
    sc += strlen("Set-Cookie: ");
    size_t n = strcspn(sc, ";\r\n");
    snprintf(cookie, 160, "Cookie: %.*s", (int)n, sc);
    hc_free(&r);
}

static void test_session(void **state)
{
    char cookie[160];
    resp r;
    (void)state;
    login("pb", cookie);
    const char *const c[] = {cookie, NULL};
    assert_int_equal(req("GET", "/api/v1/incidents", NULL, c, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "incidents")), 1);
    hc_free(&r);
    /* a state change without the session's CSRF token: 403 in the API's shape */
    assert_int_equal(req("POST", "/api/v1/incidents", NULL, c, "{}", &r), 403);
    assert_error(&r, 403, "forbidden", "CSRF");
    hc_free(&r);
}

/* A JSON request: Content-Type application/json with the body. */
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

/* The hand-off of r's incident to rcpt, or NULL. */
static json_t *handoff_of(const resp *r, const char *rcpt)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(r->json, "handoffs"), i, h)
    {
        if (!strcmp(json_string_value(json_object_get(h, "recipient")), rcpt))
            return h;
    }
    return NULL;
}

/* The last comment of r's incident whose body is text, or NULL. */
static json_t *comment_of(const resp *r, const char *text)
{
    size_t i;
    json_t *c, *found = NULL;
    json_array_foreach(json_object_get(r->json, "comments"), i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "body")), text))
            found = c;
    }
    return found;
}

/* Partners answer through the API: their own hand-off only, to the states
 * a recipient may choose; our team changes incidents, comments and records
 * hand-off changes; every refusal in the one error shape. */
static void test_writes(void **state)
{
    resp r;
    int64_t made;
    (void)state;
    /* cert-a acknowledges its notified hand-off */
    assert_int_equal(jreq("POST", k_pa, "{\"state\":\"acknowledged\"}", &r,
                          "/api/v1/incidents/%lld/handoffs/cert-a", (long long)i_notified),
                     200);
    json_t *h = handoff_of(&r, "cert-a");
    assert_non_null(h);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "acknowledged");
    assert_true(json_is_string(json_object_get(h, "acknowledged")));
    assert_null(json_object_get(h, "by")); /* who and how: our team's to see */
    hc_free(&r);
    /* ... and our team sees who did it and through which channel */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_notified), 200);
    h = handoff_of(&r, "cert-a");
    assert_string_equal(json_string_value(json_object_get(h, "by")), "cert-a/pa");
    assert_string_equal(json_string_value(json_object_get(h, "channel")), "api");
    hc_free(&r);
    /* twice: refused, naming what is allowed */
    jreq("POST", k_pa, "{\"state\":\"acknowledged\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-a",
         (long long)i_notified);
    assert_error(&r, 409, "invalid_transition", "allowed from acknowledged: resolved");
    hc_free(&r);
    /* a recipient does not withdraw its own hand-off, nor notify it */
    jreq("POST", k_pa, "{\"state\":\"withdrawn\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-a",
         (long long)i_notified);
    assert_error(&r, 403, "forbidden", "acknowledged, resolved or rejected");
    hc_free(&r);
    /* rejecting needs a reason */
    jreq("POST", k_pa, "{\"state\":\"rejected\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-a",
         (long long)i_notified);
    assert_int_equal(r.status, 400);
    hc_free(&r);
    /* another recipient's hand-off, on an incident it sees and on one it
     * does not: 404, as for nothing */
    jreq("POST", k_pa, "{\"state\":\"acknowledged\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-b",
         (long long)i_a);
    assert_error(&r, 404, "not_found", "no hand-off");
    hc_free(&r);
    jreq("POST", k_pa, "{\"state\":\"acknowledged\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-b",
         (long long)i_b);
    assert_error(&r, 404, "not_found", "no hand-off");
    hc_free(&r);
    jreq("POST", k_pb, "{\"state\":\"acknowledged\"}", &r, "/api/v1/incidents/%lld/handoffs/cert-a",
         (long long)i_notified);
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);

    /* a partner's comment is shared between it and us, whatever it asks */
    assert_int_equal(jreq("POST", k_pa, "{\"body\":\"patched on our side\"}", &r,
                          "/api/v1/incidents/%lld/comments", (long long)i_notified),
                     201);
    json_t *c = comment_of(&r, "patched on our side");
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "visibility")), "shared:cert-a");
    assert_string_equal(json_string_value(json_object_get(c, "author")), "cert-a/pa");
    hc_free(&r);
    jreq("POST", k_pa, "{\"body\":\"x\",\"visibility\":\"internal\"}", &r, "/api/v1/incidents/%lld/comments",
         (long long)i_notified);
    assert_error(&r, 400, "invalid_body", "shared:cert-a");
    hc_free(&r);
    jreq("POST", k_pb, "{\"body\":\"x\"}", &r, "/api/v1/incidents/%lld/comments", (long long)i_notified);
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    /* a partner changes no incident: 403 where it sees it, 404 elsewhere */
    jreq("PATCH", k_pa, "{\"status\":\"resolved\"}", &r, "/api/v1/incidents/%lld", (long long)i_notified);
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);
    jreq("PATCH", k_pa, "{\"status\":\"resolved\"}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);
    jreq("POST", k_pa, "{\"title\":\"mine\"}", &r, "/api/v1/incidents");
    assert_error(&r, 403, "forbidden", NULL);
    hc_free(&r);

    /* our team: the transition table, then a change that holds */
    jreq("PATCH", k_ana, "{\"status\":\"resolved\"}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 409, "invalid_transition", "allowed from new: triaged");
    hc_free(&r);
    assert_int_equal(jreq("PATCH", k_ana,
                          "{\"status\":\"triaged\",\"severity\":\"critical\",\"countries\":[\"VN\",\"LA\"]}",
                          &r, "/api/v1/incidents/%lld", (long long)i_b),
                     200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "triaged");
    assert_string_equal(json_string_value(json_object_get(r.json, "severity")), "critical");
    assert_int_equal(json_array_size(json_object_get(r.json, "countries")), 2);
    hc_free(&r);
    /* bad bodies: what and where */
    jreq("PATCH", k_ana, "{\"colour\":\"red\"}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 400, "invalid_body", "\"colour\": unknown; allowed: title");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"severity\":\"urgent\"}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 400, "invalid_body", "low, medium, high, critical");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"title\":\n  tru}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 400, "invalid_body", "line 2, column");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"title\":\"a\",\"title\":\"b\"}", &r, "/api/v1/incidents/%lld", (long long)i_b);
    assert_error(&r, 400, "invalid_body", "duplicate");
    hc_free(&r);
    req("PATCH", "/api/v1/incidents/1", k_ana, NULL, "{\"title\":\"t\"}", &r); /* no Content-Type */
    assert_error(&r, 415, "unsupported_media_type", "application/json");
    hc_free(&r);
    jreq("PATCH", k_ana, "{\"title\":\"t\"}", &r, "/api/v1/incidents/999999");
    assert_error(&r, 404, "not_found", NULL);
    hc_free(&r);

    /* create, handed off to cert-b: it appears in cert-b's list, with the
     * shared comment and without the internal one */
    assert_int_equal(jreq("POST", k_ana,
                          "{\"title\":\"made over the API\",\"severity\":\"high\",\"countries\":\"VN\","
                          "\"recipients\":[\"cert-b\"]}",
                          &r, "/api/v1/incidents"),
                     201);
    made = json_integer_value(json_object_get(r.json, "id"));
    assert_true(made > 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "owner")), "ana");
    assert_non_null(handoff_of(&r, "cert-b"));
    {
        char want[80];
        snprintf(want, sizeof want, "Location: /api/v1/incidents/%lld", (long long)made);
        assert_non_null(strcasestr(lia_buf_cstr(&r.head), want));
    }
    hc_free(&r);
    total++;
    jreq("POST", k_ana, "{\"recipients\":[\"cert-b\"]}", &r, "/api/v1/incidents");
    assert_error(&r, 400, "invalid_body", "\"title\": required");
    hc_free(&r);
    assert_int_equal(jreq("POST", k_ana, "{\"body\":\"our analysis\"}", &r, "/api/v1/incidents/%lld/comments",
                          (long long)made),
                     201);
    assert_string_equal(json_string_value(json_object_get(comment_of(&r, "our analysis"), "visibility")),
                        "internal");
    hc_free(&r);
    assert_int_equal(jreq("POST", k_ana, "{\"body\":\"please patch\",\"visibility\":\"shared\"}", &r,
                          "/api/v1/incidents/%lld/comments", (long long)made),
                     201);
    hc_free(&r);
    assert_int_equal(get(k_pb, &r, "/api/v1/incidents/%lld", (long long)made), 200);
    assert_null(comment_of(&r, "our analysis"));
    assert_non_null(comment_of(&r, "please patch"));
    hc_free(&r);
    /* our team records a hand-off change (a phone call): notified */
    assert_int_equal(jreq("POST", k_ana, "{\"state\":\"notified\"}", &r,
                          "/api/v1/incidents/%lld/handoffs/cert-b", (long long)made),
                     200);
    assert_string_equal(json_string_value(json_object_get(handoff_of(&r, "cert-b"), "state")), "notified");
    hc_free(&r);

    /* metrics: ours only; cert-a's acknowledgement above is counted */
    get(k_pa, &r, "/api/v1/metrics");
    assert_error(&r, 403, "forbidden", "own team");
    hc_free(&r);
    get(k_ana, &r, "/api/v1/metrics?since=2000-01-01T00:00:00Z&colour=red");
    assert_error(&r, 400, "invalid_parameter", "colour");
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/metrics"), 200);
    {
        size_t i;
        json_t *row;
        int seen = 0;
        json_array_foreach(json_object_get(r.json, "by_recipient"), i, row)
        {
            if (strcmp(json_string_value(json_object_get(row, "key")), "cert-a"))
                continue;
            seen = 1;
            assert_int_equal(json_integer_value(json_object_get(row, "acknowledged")), 1);
            assert_true(json_is_integer(json_object_get(row, "ack_p50_s")));
        }
        assert_true(seen);
        assert_non_null(json_object_get(r.json, "sla_breaches"));
    }
    hc_free(&r);
}

/* The answer links of digests, as a partner's analyst uses them: GET shows
 * what the link does and changes nothing (mail scanners fetch links); POST
 * does it, recorded as channel "link"; again: already done; a changed
 * link 403, an expired one 410, a reject without a reason 400. */
static void test_answer_links(void **state)
{
    char ack[LIA_ANSWER_PATH_MAX], rej[LIA_ANSWER_PATH_MAX], old[LIA_ANSWER_PATH_MAX],
        bad[LIA_ANSWER_PATH_MAX];
    lia_actor who = {"ana", "cli", NULL};
    int64_t now = (int64_t)time(NULL) * 1000000, i1, i2;
    lia_store *s;
    lia_error e;
    resp r;
    (void)state;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    i1 = incident(s, "Open <Memcached> on 203.0.113.9", LIA_SEV_HIGH, "KH", "cert-a");
    i2 = incident(s, "not ours", LIA_SEV_LOW, "KH", "cert-a");
    assert_int_equal(lia_handoff_set(s, i1, "cert-a", LIA_HO_NOTIFIED, NULL, &who, &e), LIA_OK);
    assert_int_equal(lia_handoff_set(s, i2, "cert-a", LIA_HO_NOTIFIED, NULL, &who, &e), LIA_OK);
    assert_int_equal(lia_answer_link(s, i1, "cert-a", LIA_ANSWER_ACK, now + 3600000000, ack, &e), LIA_OK);
    assert_int_equal(lia_answer_link(s, i2, "cert-a", LIA_ANSWER_REJECT, now + 3600000000, rej, &e), LIA_OK);
    assert_int_equal(lia_answer_link(s, i1, "cert-a", LIA_ANSWER_RESOLVE, now - 1000000, old, &e), LIA_OK);
    total += 2;

    /* GET: a page with the (escaped) title and one button; nothing changes */
    assert_int_equal(req("GET", ack, NULL, NULL, NULL, &r), 200);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "Open &lt;Memcached&gt; on 203.0.113.9"));
    assert_non_null(strstr(lia_buf_cstr(&r.body), "<form method=\"post\">"));
    assert_non_null(strcasestr(lia_buf_cstr(&r.head), "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strcasestr(lia_buf_cstr(&r.head), "Referrer-Policy: no-referrer"));
    assert_non_null(strcasestr(lia_buf_cstr(&r.head), "Cache-Control: no-store"));
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i1), 200);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(r.json, "handoffs"), 0), "state")),
        "notified");
    hc_free(&r);
    /* POST: acknowledged, by the recipient, through the link */
    assert_int_equal(req("POST", ack, NULL, NULL, "", &r), 200);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "Thank you"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i1), 200);
    json_t *h = json_array_get(json_object_get(r.json, "handoffs"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "acknowledged");
    assert_string_equal(json_string_value(json_object_get(h, "channel")), "link");
    assert_string_equal(json_string_value(json_object_get(h, "by")), "cert-a");
    hc_free(&r);
    /* the same link again: nothing more, and it says when */
    assert_int_equal(req("POST", ack, NULL, NULL, "", &r), 200);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "Already done"));
    hc_free(&r);
    /* changed: the incident id, the recipient, the signature */
    snprintf(bad, sizeof bad, "%s", ack);
    bad[strlen("/answer/")] = bad[strlen("/answer/")] == '9' ? '8' : '9';
    assert_int_equal(req("POST", bad, NULL, NULL, "", &r), 403);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "not valid"));
    hc_free(&r);
    snprintf(bad, sizeof bad, "%s", ack);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(req("GET", bad, NULL, NULL, NULL, &r), 403);
    hc_free(&r);
    /* expired */
    assert_int_equal(req("GET", old, NULL, NULL, NULL, &r), 410);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "expired"));
    hc_free(&r);
    assert_int_equal(req("POST", old, NULL, NULL, "", &r), 410);
    hc_free(&r);
    /* reject: a reason, from the form */
    assert_int_equal(req("GET", rej, NULL, NULL, NULL, &r), 200);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "name=\"reason\""));
    hc_free(&r);
    assert_int_equal(req("POST", rej, NULL, NULL, "reason=", &r), 400);
    hc_free(&r);
    {
        static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        assert_int_equal(req("POST", rej, NULL, form, "reason=not+our+network%2C+AS64500", &r), 200);
        hc_free(&r);
    }
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i2), 200);
    h = json_array_get(json_object_get(r.json, "handoffs"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "rejected");
    assert_string_equal(json_string_value(json_object_get(h, "reason")), "not our network, AS64500");
    hc_free(&r);
    /* a withdrawn hand-off: a link answers nothing */
    assert_int_equal(lia_answer_link(s, i_withdrawn, "cert-a", LIA_ANSWER_ACK, now + 3600000000, bad, &e),
                     LIA_OK);
    assert_int_equal(req("POST", bad, NULL, NULL, "", &r), 404);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "nothing to answer"));
    hc_free(&r);

    /* the console's answer page asks with X-Requested-With: the same
     * outcomes as JSON, for it to say in the user's language */
    {
        static const char *const xhr[] = {"X-Requested-With: liaison-console", NULL};
        char page3[LIA_ANSWER_PATH_MAX + 16], index[PATH_MAX + 16], want[LIA_ANSWER_PATH_MAX + 32];
        int64_t i3 = incident(s, "Open \"Redis\" on 203.0.113.10", LIA_SEV_HIGH, "KH", "cert-a");
        FILE *fp;
        assert_int_equal(lia_handoff_set(s, i3, "cert-a", LIA_HO_NOTIFIED, NULL, &who, &e), LIA_OK);
        assert_int_equal(lia_answer_link(s, i3, "cert-a", LIA_ANSWER_ACK, now + 3600000000, ack, &e), LIA_OK);
        total++;
        assert_int_equal(req("GET", ack, NULL, xhr, NULL, &r), 200);
        assert_non_null(r.json);
        assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "ready");
        assert_int_equal(json_integer_value(json_object_get(r.json, "incident")), i3);
        assert_string_equal(json_string_value(json_object_get(r.json, "title")),
                            "Open \"Redis\" on 203.0.113.10");
        assert_string_equal(json_string_value(json_object_get(r.json, "recipient")), "cert-a");
        assert_string_equal(json_string_value(json_object_get(r.json, "action")), "ack");
        assert_string_equal(json_string_value(json_object_get(r.json, "state")), "notified");
        assert_non_null(json_string_value(json_object_get(r.json, "expires")));
        hc_free(&r);
        /* with the console installed, a browser opening the link lands on
         * the console's answer page; ?plain keeps the page without script */
        snprintf(index, sizeof index, "%s/index.html", tmpdir);
        assert_non_null(fp = fopen(index, "w"));
        fputs("<!doctype html><title>console</title>\n", fp);
        fclose(fp);
        assert_int_equal(req("GET", ack, NULL, NULL, NULL, &r), 303);
        snprintf(want, sizeof want, "Location: /console%s\r\n", ack);
        assert_non_null(strcasestr(lia_buf_cstr(&r.head), want));
        hc_free(&r);
        snprintf(page3, sizeof page3, "%s?plain", ack);
        assert_int_equal(req("GET", page3, NULL, NULL, NULL, &r), 200);
        assert_non_null(strstr(lia_buf_cstr(&r.body), "<form method=\"post\">"));
        hc_free(&r);
        /* a POST is never redirected: the page's own form still answers */
        assert_int_equal(req("POST", ack, NULL, xhr, "", &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "done");
        assert_string_equal(json_string_value(json_object_get(r.json, "state")), "acknowledged");
        hc_free(&r);
        unlink(index);
        assert_int_equal(req("GET", ack, NULL, xhr, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "already");
        assert_non_null(json_string_value(json_object_get(r.json, "when")));
        hc_free(&r);
        ack[strlen(ack) - 2] = ack[strlen(ack) - 2] == 'A' ? 'B' : 'A';
        assert_int_equal(req("GET", ack, NULL, xhr, NULL, &r), 403);
        assert_string_equal(json_string_value(json_object_get(r.json, "outcome")), "invalid");
        assert_null(json_object_get(r.json, "incident"));
        hc_free(&r);
    }
    lia_store_close(s);
}

/* POST raw bytes (a C string) with media type media. */
static long upload(const char *auth, const char *media, const char *body, resp *r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static long upload(const char *auth, const char *media, const char *body, resp *r, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return hc_send(NULL, port, "POST", path, auth, NULL, media, body, r);
}

/* The attachment named name in r's incident detail, or NULL. */
static json_t *attachment_of(const resp *r, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r->json, "attachments"), i, a)
    {
        if (!strcmp(json_string_value(json_object_get(a, "name")), name))
            return a;
    }
    return NULL;
}

static void test_attachments(void **state)
{
    static const char pcap[] = "PCAP-ish bytes \xe2\x98\x83 of the scan";
    char hex[65], path[1024];
    unsigned char h[crypto_hash_sha256_BYTES];
    int64_t internal_id, shared_id, partner_id;
    resp r;
    (void)state;
    crypto_hash_sha256(h, (const unsigned char *)pcap, strlen(pcap));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    /* our team: internal by default, then one shared with cert-a */
    assert_int_equal(upload(k_ana, "application/vnd.tcpdump.pcap", pcap, &r,
                            "/api/v1/incidents/%lld/attachments?name=scan%%201.pcap", (long long)i_a),
                     201);
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), hex);
    assert_int_equal(json_integer_value(json_object_get(r.json, "size")), (json_int_t)strlen(pcap));
    assert_string_equal(json_string_value(json_object_get(r.json, "visibility")), "internal");
    assert_string_equal(json_string_value(json_object_get(r.json, "media_type")),
                        "application/vnd.tcpdump.pcap");
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "scan 1.pcap");
    internal_id = json_integer_value(json_object_get(r.json, "id"));
    hc_free(&r);
    /* the same bytes again: the same attachment, 200 */
    assert_int_equal(upload(k_ana, "application/octet-stream", pcap, &r,
                            "/api/v1/incidents/%lld/attachments?name=again.pcap", (long long)i_a),
                     200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), internal_id);
    hc_free(&r);
    assert_int_equal(upload(k_ana, "text/plain; charset=utf-8", "for a", &r,
                            "/api/v1/incidents/%lld/attachments?name=note.txt&visibility=shared:cert-a",
                            (long long)i_a),
                     201);
    assert_string_equal(json_string_value(json_object_get(r.json, "media_type")), "text/plain");
    shared_id = json_integer_value(json_object_get(r.json, "id"));
    hc_free(&r);
    /* a partner: its attachment is shared between it and us, whatever it asks */
    upload(k_pa, "text/plain", "from a", &r,
           "/api/v1/incidents/%lld/attachments?name=a.txt&visibility=internal", (long long)i_a);
    assert_error(&r, 400, "invalid_parameter", "shared with the incident's team only");
    hc_free(&r);
    assert_int_equal(upload(k_pa, "text/plain", "from a", &r, "/api/v1/incidents/%lld/attachments?name=a.txt",
                            (long long)i_a),
                     201);
    assert_string_equal(json_string_value(json_object_get(r.json, "visibility")), "shared:cert-a");
    partner_id = json_integer_value(json_object_get(r.json, "id"));
    hc_free(&r);
    /* who sees which: the detail lists, the download answers */
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    assert_non_null(attachment_of(&r, "scan 1.pcap"));
    assert_non_null(attachment_of(&r, "note.txt"));
    assert_non_null(attachment_of(&r, "a.txt"));
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    /* the timeline: our team's, in order, the attachment in it; not a partner's */
    {
        json_t *tl = json_object_get(r.json, "timeline"), *x;
        size_t i, attach = 0;
        int64_t last = 0;
        assert_true(json_array_size(tl) > 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(tl, 0), "action")), "create");
        json_array_foreach(tl, i, x)
        {
            assert_true(json_integer_value(json_object_get(x, "seq")) > last);
            last = json_integer_value(json_object_get(x, "seq"));
            attach += !strcmp(json_string_value(json_object_get(x, "action")), "attach");
        }
        assert_int_equal(attach, 3);
    }
    /* the statuses the console offers: exactly the transition table's from the current one */
    {
        json_t *al = json_object_get(r.json, "allowed_status");
        lia_incident_status cur;
        size_t n = 0;
        assert_int_equal(
            lia_incident_status_parse(json_string_value(json_object_get(r.json, "status")), &cur, NULL),
            LIA_OK);
        assert_true(json_is_array(al));
        for (int st = 0; st < LIA_INC__COUNT; st++) {
            int listed = 0;
            size_t i;
            json_t *x;
            json_array_foreach(al, i, x) listed |=
                !strcmp(json_string_value(x), lia_incident_status_name(st));
            assert_int_equal(listed, lia_incident_status_allowed(cur, st));
            n += (size_t)listed;
        }
        assert_int_equal(n, json_array_size(al));
        assert_true(n > 0);
        assert_true(lia_incident_status_allowed(LIA_INC_NEW, LIA_INC_TRIAGED));
        assert_false(lia_incident_status_allowed(LIA_INC_MERGED, LIA_INC_TRIAGED));
    }
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    assert_null(json_object_get(r.json, "timeline"));
    assert_null(json_object_get(r.json, "allowed_status"));
    assert_null(attachment_of(&r, "scan 1.pcap"));
    assert_non_null(attachment_of(&r, "note.txt"));
    assert_non_null(attachment_of(&r, "a.txt"));
    hc_free(&r);
    assert_int_equal(
        get(k_ana, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_a, (long long)internal_id),
        200);
    assert_memory_equal(r.body.ptr, pcap, strlen(pcap));
    assert_int_equal(r.body.len, strlen(pcap));
    assert_non_null(strcasestr(lia_buf_cstr(&r.head), "Content-Type: application/octet-stream"));
    assert_non_null(
        strcasestr(lia_buf_cstr(&r.head), "Content-Disposition: attachment; filename*=UTF-8''scan%201.pcap"));
    assert_non_null(
        strcasestr(lia_buf_cstr(&r.head), "X-Attachment-Media-Type: application/vnd.tcpdump.pcap"));
    assert_non_null(strstr(lia_buf_cstr(&r.head), hex));
    hc_free(&r);
    get(k_pa, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_a, (long long)internal_id);
    assert_error(&r, 404, "not_found", "has no attachment");
    hc_free(&r);
    assert_int_equal(
        get(k_pa, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_a, (long long)shared_id), 200);
    assert_string_equal(lia_buf_cstr(&r.body), "for a");
    hc_free(&r);
    /* cert-b's hand-off of i_a is withdrawn: the incident is not its, nor its files */
    get(k_pb, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_a, (long long)shared_id);
    assert_error(&r, 404, "not_found", "no incident");
    hc_free(&r);
    upload(k_pb, "text/plain", "x", &r, "/api/v1/incidents/%lld/attachments?name=b.txt", (long long)i_a);
    assert_error(&r, 404, "not_found", "no incident");
    hc_free(&r);
    /* an attachment of another incident is not this one's */
    get(k_ana, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_b, (long long)internal_id);
    assert_error(&r, 404, "not_found", "has no attachment");
    hc_free(&r);
    /* bad names, types and parameters */
    upload(k_ana, "text/plain", "x", &r, "/api/v1/incidents/%lld/attachments?name=../etc/passwd",
           (long long)i_a);
    assert_error(&r, 400, "invalid_parameter", "without '/'");
    hc_free(&r);
    upload(k_ana, "text/plain", "x", &r, "/api/v1/incidents/%lld/attachments", (long long)i_a);
    assert_error(&r, 400, "invalid_parameter", "parameter name: required");
    hc_free(&r);
    upload(k_ana, "nonsense", "x", &r, "/api/v1/incidents/%lld/attachments?name=x", (long long)i_a);
    assert_error(&r, 400, "invalid_parameter", "a media type");
    hc_free(&r);
    upload(k_ana, "text/plain", "x", &r, "/api/v1/incidents/%lld/attachments?name=x&colour=red",
           (long long)i_a);
    assert_error(&r, 400, "invalid_parameter", "parameter colour");
    hc_free(&r);
    /* larger than an attachment may be: the server refuses the body */
    {
        size_t big = LIA_INCIDENT_ATTACHMENT_MAX + 1;
        char *b = malloc(big + 1);
        assert_non_null(b);
        memset(b, 'x', big);
        b[big] = '\0';
        upload(k_ana, "text/plain", b, &r, "/api/v1/incidents/%lld/attachments?name=big.txt", (long long)i_a);
        free(b);
        assert_error(&r, 413, "payload_too_large", NULL);
        hc_free(&r);
    }
    /* a JSON change is still bounded to what a comment needs */
    {
        size_t big = 600 * 1024;
        char *b = malloc(big + 32);
        assert_non_null(b);
        memcpy(b, "{\"body\":\"", 9);
        memset(b + 9, 'x', big);
        memcpy(b + 9 + big, "\"}", 3);
        jreq("POST", k_ana, b, &r, "/api/v1/incidents/%lld/comments", (long long)i_a);
        free(b);
        assert_error(&r, 413, "payload_too_large", "a JSON body is at most");
        hc_free(&r);
    }
    /* bytes changed in the store behind the server's back: refused, said */
    {
        char pg_sql[128];
        lia_db *raw;
        lia_error e;
        snprintf(path, sizeof path, "UPDATE incident_attachment SET body = x'00' WHERE id = %lld",
                 (long long)partner_id);
        snprintf(pg_sql, sizeof pg_sql,
                 "UPDATE incident_attachment SET body = '\\x00'::bytea WHERE id = %lld",
                 (long long)partner_id);
        assert_int_equal(lia__db_open(dbpath, 0, &raw, &e), LIA_OK);
        assert_int_equal(lia__db_exec_pg(raw, path, pg_sql, &e), LIA_OK);
        lia__db_close(raw);
    }
    get(k_ana, &r, "/api/v1/incidents/%lld/attachments/%lld", (long long)i_a, (long long)partner_id);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "the store was changed"));
    hc_free(&r);
}

static void write_file(const char *path, const lia_buf *b)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b->ptr, 1, b->len, f), b->len);
    fclose(f);
}

static void test_openapi(void **state)
{
    char doc[400], page[400], detail[400], pdetail[400], err[400], met[400], cmd[3000];
    const char *src = getenv("LIAISON_SOURCE_ROOT"), *data = getenv("LIAISON_TESTDATA");
    const lia__api_op *ops;
    size_t nops, ndoc = 0;
    json_t *paths;
    resp r;
    (void)state;
    assert_non_null(src);
    assert_non_null(data);
    /* public, and what is built in */
    assert_int_equal(get(NULL, &r, "/api/v1/openapi.json"), 200);
    assert_non_null(strcasestr(lia_buf_cstr(&r.head), "Content-Type: application/json"));
    assert_int_equal(r.body.len, lia__api_openapi_len);
    assert_string_equal(json_string_value(json_object_get(r.json, "openapi")), "3.1.0");
    snprintf(doc, sizeof doc, "%s/openapi.json", tmpdir);
    write_file(doc, &r.body);
    /* the document's operations are the route table's, both ways */
    ops = lia__api_ops(&nops);
    paths = json_object_get(r.json, "paths");
    for (size_t i = 0; i < nops; i++) {
        char m[16];
        size_t k;
        for (k = 0; ops[i].method[k] && k + 1 < sizeof m; k++)
            m[k] = (char)(ops[i].method[k] | 32);
        m[k] = '\0';
        if (!json_object_get(json_object_get(paths, ops[i].path), m))
            fail_msg("the server answers %s %s, the document does not say so", ops[i].method, ops[i].path);
    }
    {
        const char *p;
        json_t *item, *op;
        json_object_foreach(paths, p, item)
        {
            const char *m;
            json_object_foreach(item, m, op)
            {
                int found = 0;
                for (size_t i = 0; i < nops; i++)
                    found |= !strcmp(ops[i].path, p) && !strcasecmp(ops[i].method, m);
                if (!found)
                    fail_msg("the document has %s %s, the server does not answer it", m, p);
                ndoc++;
            }
        }
    }
    assert_int_equal(ndoc, nops);
    hc_free(&r);
    /* every path of the document answers (its {id} an incident's id), not 404 */
    for (size_t i = 0; i < nops; i++) {
        char path[256];
        const char *t = ops[i].path, *brace = strstr(t, "{id}");
        if (brace)
            snprintf(path, sizeof path, "/api/v1%.*s%lld%s", (int)(brace - t), t, (long long)i_a, brace + 4);
        else
            snprintf(path, sizeof path, "/api/v1%s", t);
        if (strstr(path, "{"))
            continue; /* another parameter: tested with its operation */
        req(ops[i].method, path, k_ana, NULL, strcmp(ops[i].method, "GET") ? "{}" : NULL, &r);
        /* a 404 of a thing, not of the path: /events/{id} (no events in this store) */
        if ((r.status == 404 && strstr(lia_buf_cstr(&r.body), "no such resource")) ||
            (r.status == 404 && strncmp(ops[i].path, "/events/", 8) != 0) || r.status == 405 ||
            r.status >= 500 || r.status < 200)
            fail_msg("%s %s: %ld %s", ops[i].method, path, r.status, lia_buf_cstr(&r.body));
        hc_free(&r);
    }
    /* answers to hold against the document's schemas */
    snprintf(page, sizeof page, "%s/page.json", tmpdir);
    snprintf(detail, sizeof detail, "%s/detail.json", tmpdir);
    snprintf(pdetail, sizeof pdetail, "%s/pdetail.json", tmpdir);
    snprintf(err, sizeof err, "%s/err.json", tmpdir);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=3"), 200);
    write_file(page, &r.body);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents/%lld", (long long)i_a), 200);
    write_file(detail, &r.body);
    hc_free(&r);
    assert_int_equal(get(k_pa, &r, "/api/v1/incidents/%lld", (long long)i_notified), 200);
    write_file(pdetail, &r.body);
    hc_free(&r);
    assert_int_equal(get(k_ana, &r, "/api/v1/incidents?limit=x"), 400);
    write_file(err, &r.body);
    hc_free(&r);
    snprintf(met, sizeof met, "%s/metrics.json", tmpdir);
    assert_int_equal(get(k_ana, &r, "/api/v1/metrics"), 200);
    write_file(met, &r.body);
    hc_free(&r);
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -W ignore '%s/tests/integration/api/validate_openapi.py' '%s/openapi/schema.json' "
        "'%s' IncidentPage='%s' IncidentDetail='%s' IncidentDetail='%s' Error='%s' Metrics='%s'",
        src, data, doc, page, detail, pdetail, err, met);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unauthenticated), cmocka_unit_test(test_pages),
        cmocka_unit_test(test_cursor_tampered), cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_filters),         cmocka_unit_test(test_partner_sees_its_own),
        cmocka_unit_test(test_sla_clock),       cmocka_unit_test(test_session),
        cmocka_unit_test(test_writes),          cmocka_unit_test(test_answer_links),
        cmocka_unit_test(test_attachments),     cmocka_unit_test(test_openapi),
    };
    return (lia_test_pg() ? cmocka_run_group_tests_name("api on PostgreSQL", tests, setup, teardown)
                          : cmocka_run_group_tests_name("api", tests, setup, teardown));
}
