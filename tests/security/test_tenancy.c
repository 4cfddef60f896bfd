/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Tenancy and marking defects found by the adversarial audit (issue 16),
 * each as a regression test over HTTP against the in-process server on
 * 127.0.0.1: two partner organisations A and B, our own team, a shared
 * writable collection, per-partner inboxes and an internal collection. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_client.h"
#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/liaison.h"
#include "liaison/taxii.h"
#include "store/db.h"
#include "../pg/pg_test.h"

#define ROOT     "/partners"
#define SHARED   ROOT "/collections/shared/objects/"
#define INTERNAL ROOT "/collections/internal/objects/"
#define B_INBOX  ROOT "/collections/b-inbox/objects/"

#define GREEN_ID "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define ASTR_ID  "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define RED_ID   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

static char tmpdir[256], dbpath[300];
static lia_http *srv;
static uint16_t port;
static char auth_admin[128], auth_analyst[128], auth_a[128], auth_b[128], auth_boss[128];

static void bearer(char *out, size_t n, const char *tok)
{
    snprintf(out, n, "Bearer %s", tok);
}

static void key_for(lia_store *s, const char *user, char *auth, size_t n)
{
    char tok[LIA_KEY_TOKEN_MAX];
    lia_error e;
    lia_error_clear(&e);
    if (lia_accounts_key_add(s, user, 0, 0, tok, NULL, &e))
        fail_msg("key for %s: %s", user, e.reason);
    bearer(auth, n, tok);
}

/* An indicator with id suffix k and extra members (",..." or ""). */
static void indicator(char *out, size_t n, int k, const char *extra)
{
    snprintf(out, n,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--7e570000-0000-4000-8000-%"
             "012d\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
             "\"pattern\":\"[ipv4-addr:value = '198.51.100.%d']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}",
             k, k % 250, extra);
}

static void object_url(char *out, size_t n, const char *coll, int k)
{
    snprintf(out, n, "%sindicator--7e570000-0000-4000-8000-%012d/", coll, k);
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    lia_taxii_collection c;
    int64_t org_a, org_b;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-tenancy-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "l", dbpath, sizeof dbpath))
        return -1;
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e))
        return -1;
    /* A may receive up to AMBER+STRICT: then only TLP:RED is hidden from A's own objects */
    if (lia_accounts_org_add(s, "cert-own", LIA_ORG_OWN, LIA_TLP_AMBER_STRICT, NULL, &e) ||
        lia_accounts_org_add(s, "cert-a", LIA_ORG_PARTNER, LIA_TLP_AMBER_STRICT, &org_a, &e) ||
        lia_accounts_org_add(s, "cert-b", LIA_ORG_PARTNER, LIA_TLP_AMBER, &org_b, &e) ||
        lia_accounts_user_add(s, "cert-own", "admin", LIA_ROLE_ADMIN, NULL, NULL, &e) ||
        lia_accounts_user_add(s, "cert-own", "analyst", LIA_ROLE_ANALYST, NULL, NULL, &e) ||
        lia_accounts_user_add(s, "cert-a", "a-user", LIA_ROLE_PARTNER, NULL, NULL, &e) ||
        lia_accounts_user_add(s, "cert-a", "a-boss", LIA_ROLE_PARTNER, NULL, NULL, &e) ||
        lia_accounts_user_add(s, "cert-b", "b-user", LIA_ROLE_PARTNER, NULL, NULL, &e)) {
        fprintf(stderr, "accounts: %s\n", e.reason);
        return -1;
    }
    key_for(s, "admin", auth_admin, sizeof auth_admin);
    key_for(s, "analyst", auth_analyst, sizeof auth_analyst);
    key_for(s, "a-user", auth_a, sizeof auth_a);
    key_for(s, "a-boss", auth_boss, sizeof auth_boss);
    key_for(s, "b-user", auth_b, sizeof auth_b);
    if (lia_taxii_init(s, &e) || lia_taxii_api_root_add(s, "partners", "Partner CERTs", NULL, 1u << 20, &e))
        goto fail;
    static const char *const colls[] = {"shared", "a-inbox", "b-inbox", "internal"};
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++) {
        lia_taxii_collection_defaults(&c);
        snprintf(c.api_root, sizeof c.api_root, "partners");
        snprintf(c.id, sizeof c.id, "%s", colls[i]);
        if (lia_taxii_collection_add(s, &c, &e))
            goto fail;
    }
    if (lia_taxii_grant(s, "partners", "shared", org_a, 1, 1, &e) ||
        lia_taxii_grant(s, "partners", "shared", org_b, 1, 1, &e) ||
        lia_taxii_grant(s, "partners", "a-inbox", org_a, 1, 0, &e) ||
        lia_taxii_grant(s, "partners", "b-inbox", org_b, 1, 0, &e))
        goto fail;
    char js[1024];
    indicator(js, sizeof js, 900, ",\"object_marking_refs\":[\"" GREEN_ID "\"]");
    if (lia_taxii_collection_add_object(s, "partners", "internal", js, strlen(js), -1, 0, 0, &e))
        goto fail;
    indicator(js, sizeof js, 901, ",\"object_marking_refs\":[\"" GREEN_ID "\"]");
    if (lia_taxii_collection_add_object(s, "partners", "b-inbox", js, strlen(js), -1, 0, 0, &e))
        goto fail;
    lia_store_close(s);

    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.rate = 10000;
    o.burst = 10000;
    o.max_body = 1u << 20;
    if (lia_http_start(&o, &srv, &e)) {
        fprintf(stderr, "start: %s\n", e.reason);
        return -1;
    }
    port = lia_http_port(srv);
    return 0;
fail:
    fprintf(stderr, "setup: %s: %s\n", e.field, e.reason);
    lia_store_close(s);
    return -1;
}

static int teardown(void **state)
{
    char cmd[400];
    (void)state;
    lia_http_stop(srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static long get_status(const char *path, const char *auth)
{
    hc_resp r;
    long st = hc_request(port, "GET", path, auth, NULL, &r);
    hc_free(&r);
    return st;
}

/* ---- 1a: an unrecognised or unreadable marking never lowers the TLP ---- */

static void test_markings_post(void **state)
{
    /* k, extra members, who may read it: B (AMBER, another org), A (the
     * poster, AMBER+STRICT); TLP:RED is served to nobody */
    static const struct {
        int k;
        const char *what, *extra;
        int b_reads, a_reads, raised;
    } cases[] = {
        {1, "granular TLP:RED on the pattern",
         ",\"granular_markings\":[{\"marking_ref\":\"" RED_ID "\",\"selectors\":[\"pattern\"]}]", 0, 0, 0},
        {2, "TLP:RED as the 65th ref", NULL, 0, 0, 0},
        {3, "TLP:RED id in upper case",
         ",\"object_marking_refs\":[\"MARKING-DEFINITION--E828B379-4E03-4974-9AC4-E53A884C97C1\"]", 0, 0, 0},
        {4, "custom TLP definition (definition_type tlp) posted alongside",
         ",\"object_marking_refs\":[\"marking-definition--c0000000-0000-4000-8000-000000000001\"]", 0, 0, 0},
        {5, "custom TLP 2.0 definition posted alongside",
         ",\"object_marking_refs\":[\"marking-definition--c0000000-0000-4000-8000-000000000002\"]", 0, 0, 0},
        {6, "refs as a string", ",\"object_marking_refs\":\"" RED_ID "\"", 0, 0, 1},
        {7, "a ref that is not a string", ",\"object_marking_refs\":[{\"id\":\"" RED_ID "\"}]", 0, 0, 1},
        {8, "an unknown marking id",
         ",\"object_marking_refs\":[\"marking-definition--deadbeef-0000-4000-8000-000000000000\"]", 0, 0, 1},
        {9, "GREEN and an unknown id",
         ",\"object_marking_refs\":[\"" GREEN_ID
         "\",\"marking-definition--deadbeef-0000-4000-8000-000000000000\"]",
         0, 0, 1},
        {10, "granular_markings not an array", ",\"granular_markings\":{\"marking_ref\":\"" RED_ID "\"}", 0,
         0, 1},
        {11, "granular marking without marking_ref or lang",
         ",\"granular_markings\":[{\"selectors\":[\"pattern\"]}]", 0, 0, 1},
        /* granular markings over an object-level one: the object is withheld
         * from whoever may not see the strictest (docs/security.md) */
        {12, "GREEN with a granular TLP:RED on the pattern",
         ",\"object_marking_refs\":[\"" GREEN_ID "\"],\"granular_markings\":[{\"marking_ref\":\"" RED_ID
         "\",\"selectors\":[\"pattern\"]}]",
         0, 0, 0},
        {13, "GREEN with a granular AMBER+STRICT on the pattern",
         ",\"object_marking_refs\":[\"" GREEN_ID "\"],\"granular_markings\":[{\"marking_ref\":\"" ASTR_ID
         "\",\"selectors\":[\"pattern\"]}]",
         0, 1, 0},
        /* controls: what is recognised keeps its level */
        {20, "GREEN", ",\"object_marking_refs\":[\"" GREEN_ID "\"]", 1, 1, 0},
        {21, "GREEN and a statement posted alongside",
         ",\"object_marking_refs\":[\"" GREEN_ID
         "\",\"marking-definition--c0000000-0000-4000-8000-000000000003\"]",
         1, 1, 0},
        {22, "unmarked: the collection default (AMBER)", "", 1, 1, 0},
        {23, "AMBER+STRICT: the poster only", ",\"object_marking_refs\":[\"" ASTR_ID "\"]", 0, 1, 0},
        {24, "a granular lang marking only",
         ",\"granular_markings\":[{\"lang\":\"en\",\"selectors\":[\"name\"]}]", 1, 1, 0},
    };
    static const char defs[] =
        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
        "\"id\":\"marking-definition--c0000000-0000-4000-8000-000000000001\",\"created\":\"2024-01-01T00:00:"
        "00.000Z\","
        "\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"red\"}},"
        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
        "\"id\":\"marking-definition--c0000000-0000-4000-8000-000000000002\",\"created\":\"2024-01-01T00:00:"
        "00.000Z\","
        "\"name\":\"TLP:RED\",\"extensions\":{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
        "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}}},"
        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
        "\"id\":\"marking-definition--c0000000-0000-4000-8000-000000000003\",\"created\":\"2024-01-01T00:00:"
        "00.000Z\","
        "\"definition_type\":\"statement\",\"definition\":{\"statement\":\"Copyright 2024 CERT-A\"}}";
    lia_buf env, refs65;
    char one[8192], url[256];
    hc_resp r;
    int bad = 0;
    (void)state;
    lia_buf_init(&env, 1u << 20);
    lia_buf_init(&refs65, 1u << 16);
    lia_buf_puts(&refs65, ",\"object_marking_refs\":[");
    for (int i = 0; i < 64; i++)
        lia_buf_puts(&refs65, "\"" GREEN_ID "\",");
    lia_buf_puts(&refs65, "\"" RED_ID "\"]");
    lia_buf_puts(&env, "{\"objects\":[");
    lia_buf_puts(&env, defs);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        indicator(one, sizeof one, cases[i].k, cases[i].extra ? cases[i].extra : lia_buf_cstr(&refs65));
        lia_buf_putc(&env, ',');
        lia_buf_puts(&env, one);
    }
    lia_buf_puts(&env, "]}");
    assert_false(env.err);
    hc_request(port, "POST", SHARED, auth_a, lia_buf_cstr(&env), &r);
    if (r.status != 202)
        fail_msg("POST: %ld %s", r.status, lia_buf_cstr(&r.body));
    assert_int_equal(json_integer_value(json_object_get(r.json, "failure_count")), 0);
    /* the status tells the poster which objects were raised, and why */
    json_t *succ = json_object_get(r.json, "successes"), *e;
    size_t i;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char id[64];
        const char *msg = NULL;
        snprintf(id, sizeof id, "indicator--7e570000-0000-4000-8000-%012d", cases[c].k);
        json_array_foreach(succ, i, e)
        {
            json_t *jid = json_object_get(e, "id"), *m = json_object_get(e, "message");
            if (json_is_string(jid) && strcmp(json_string_value(jid), id) == 0)
                msg = json_is_string(m) ? json_string_value(m) : "";
        }
        if (!msg) {
            print_error("%s: not among the successes\n", cases[c].what);
            bad++;
        } else if (cases[c].raised != (strstr(msg, "TLP:RED") != NULL)) {
            print_error("%s: status message \"%s\"%s\n", cases[c].what, msg,
                        cases[c].raised ? ", want the raise to TLP:RED told" : ", want no raise");
            bad++;
        }
    }
    hc_free(&r);
    lia_buf_free(&env);
    lia_buf_free(&refs65);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        long b, a;
        object_url(url, sizeof url, SHARED, cases[c].k);
        b = get_status(url, auth_b);
        a = get_status(url, auth_a);
        if (b != (cases[c].b_reads ? 200 : 404) || a != (cases[c].a_reads ? 200 : 404)) {
            print_error("%s: partner B %ld (want %d), poster A %ld (want %d)\n", cases[c].what, b,
                        cases[c].b_reads ? 200 : 404, a, cases[c].a_reads ? 200 : 404);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d marking cases wrong", bad);
}

/* ---- 1b: roles are bounded by the organisation kind ---- */

static void test_role_bounds_create(void **state)
{
    static const struct {
        const char *org;
        int role, ok;
    } cases[] = {
        {"cert-a", LIA_ROLE_ADMIN, 0},         {"cert-a", LIA_ROLE_ANALYST, 0},
        {"cert-a", LIA_ROLE_CONSTITUENT, 0},   {"cert-own", LIA_ROLE_PARTNER, 0},
        {"cert-own", LIA_ROLE_CONSTITUENT, 0}, {"cert-a", LIA_ROLE_PARTNER, 1},
        {"cert-own", LIA_ROLE_ANALYST, 1},     {"cert-own", LIA_ROLE_ADMIN, 1},
    };
    lia_store *s;
    lia_error e;
    char name[64];
    (void)state;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(name, sizeof name, "role-case-%zu", i);
        lia_error_clear(&e);
        int rc = lia_accounts_user_add(s, cases[i].org, name, cases[i].role, NULL, NULL, &e);
        if (cases[i].ok ? rc != LIA_OK : rc != LIA_EINVAL)
            fail_msg("%s %s: rc %d (%s), want %s", cases[i].org, lia_role_name(cases[i].role), rc, e.reason,
                     cases[i].ok ? "OK" : "EINVAL");
        if (!cases[i].ok && !strstr(e.reason, lia_role_name(cases[i].role)))
            fail_msg("%s %s: the error does not name the role: %s", cases[i].org,
                     lia_role_name(cases[i].role), e.reason);
    }
    lia_store_close(s);
    /* the command line says so and fails */
    const char *bin = getenv("LIAISON_BIN");
    char cmd[1024], out[1024];
    assert_non_null(bin);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' accounts user-add cert-a a-admin --role admin 2>&1", bin,
             dbpath);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (st == 0 || !strstr(out, "admin") || !strstr(out, "partner"))
        fail_msg("user-add cert-a a-admin --role admin: exit %d, output \"%s\"", st, out);
}

/* An account made before roles were bounded: a-boss of partner A holds
 * the admin role in the store. Every request it makes is refused. */
static void test_role_bounds_request(void **state)
{
    lia_db *db;
    lia_error err;
    char url[256];
    hc_resp r;
    (void)state;
    /* before: a partner account reads its own inbox only */
    assert_int_equal(get_status(ROOT "/collections/a-inbox/objects/", auth_boss), 200);
    /* a collection it has no grant on does not exist for it */
    assert_int_equal(get_status(INTERNAL, auth_boss), 404);
    assert_int_equal(lia__db_open(dbpath, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, "UPDATE acct_users SET role = 0 WHERE name = 'a-boss'", &err), LIA_OK);
    assert_int_equal(lia__db_changes(db), 1);
    lia__db_close(db);
    object_url(url, sizeof url, INTERNAL, 900);
    static const char *const reads[] = {INTERNAL, B_INBOX, ROOT "/collections/",
                                        ROOT "/collections/internal/"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        hc_request(port, "GET", reads[i], auth_boss, NULL, &r);
        if (r.status != 401 && r.status != 403)
            fail_msg("GET %s as a partner's admin: %ld %s", reads[i], r.status, lia_buf_cstr(&r.body));
        hc_free(&r);
    }
    hc_request(port, "DELETE", url, auth_boss, NULL, &r);
    if (r.status != 401 && r.status != 403)
        fail_msg("DELETE of an internal object as a partner's admin: %ld", r.status);
    hc_free(&r);
    hc_request(port, "POST", INTERNAL, auth_boss, "{\"objects\":[]}", &r);
    if (r.status != 401 && r.status != 403)
        fail_msg("POST into internal as a partner's admin: %ld", r.status);
    hc_free(&r);
    /* the internal object is still there */
    assert_int_equal(get_status(url, auth_admin), 200);
    assert_int_equal(get_status(url, auth_analyst), 200);
}

/* ---- a status resource is the poster's ---- */

static void test_status_scoped(void **state)
{
    char path[256], body[1024], one[900];
    hc_resp r;
    (void)state;
    indicator(one, sizeof one, 30, ",\"object_marking_refs\":[\"" GREEN_ID "\"]");
    snprintf(body, sizeof body, "{\"objects\":[%s]}", one);
    hc_request(port, "POST", SHARED, auth_a, body, &r);
    assert_int_equal(r.status, 202);
    json_t *id = json_object_get(r.json, "id");
    assert_true(json_is_string(id));
    snprintf(path, sizeof path, ROOT "/status/%s/", json_string_value(id));
    hc_free(&r);
    /* the poster's organisation reads it, with what it posted */
    hc_request(port, "GET", path, auth_a, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "successes")), 1);
    hc_free(&r);
    /* another partner, even with write access to the same collection, does
     * not learn that it exists; neither do our analysts; our admin does */
    hc_request(port, "GET", path, auth_b, NULL, &r);
    if (r.status != 404)
        fail_msg("partner B reads A's status: %ld %s", r.status, lia_buf_cstr(&r.body));
    hc_free(&r);
    assert_int_equal(get_status(path, auth_analyst), 404);
    assert_int_equal(get_status(path, auth_admin), 200);
    /* and ours is not the partners' */
    hc_request(port, "POST", INTERNAL, auth_analyst, "{\"objects\":[]}", &r);
    assert_int_equal(r.status, 202);
    snprintf(path, sizeof path, ROOT "/status/%s/", json_string_value(json_object_get(r.json, "id")));
    hc_free(&r);
    assert_int_equal(get_status(path, auth_analyst), 200);
    assert_int_equal(get_status(path, auth_a), 404);
}

/* ---- granular markings on the outgoing paths beyond TAXII ---- */

static int run_cli(const char *args, char *out, size_t outn)
{
    const char *bin = getenv("LIAISON_BIN");
    char cmd[2048];
    size_t n = 0, k;
    if (!bin)
        return -1;
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    while (n + 1 < outn && (k = fread(out + n, 1, outn - 1 - n, p)) > 0)
        n += k;
    out[n] = '\0';
    return pclose(p);
}

/* An event imported from an object whose granular marking is TLP:RED is
 * TLP:RED: an export for AMBER readers leaves it out. */
static void test_granular_export(void **state)
{
    char path[400], db[400], args[1200];
    static char out[1 << 16];
    (void)state;
    snprintf(path, sizeof path, "%s/granular.json", tmpdir);
    assert_int_equal(lia_test_db_path(tmpdir, "granular", db, sizeof db), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"type\":\"bundle\",\"id\":\"bundle--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0062\",\"objects\":["
          "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"192.0.2.50\",\"object_marking_refs\":["
          "\"" GREEN_ID "\"]},"
          "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\",\"value\":\"192.0.2.51\",\"object_marking_refs\":["
          "\"" GREEN_ID "\"],\"granular_markings\":[{\"marking_ref\":\"" RED_ID
          "\",\"selectors\":[\"value\"]}]}]}",
          f);
    fclose(f);
    snprintf(args, sizeof args, "--db '%s' ingest --feed partner-stix --format stix '%s'", db, path);
    if (run_cli(args, out, sizeof out) != 0)
        fail_msg("ingest: %s", out);
    snprintf(args, sizeof args, "--db '%s' export stix --max-tlp AMBER", db);
    if (run_cli(args, out, sizeof out) != 0)
        fail_msg("export: %s", out);
    if (!strstr(out, "192.0.2.50") || strstr(out, "192.0.2.51"))
        fail_msg("export for AMBER readers: %s", out);
}

/* ---- our own team's AMBER+STRICT objects reach our own analysts ---- */

static void test_own_amber_strict(void **state)
{
    lia_store *s;
    lia_error e;
    int64_t own;
    char js[1024], url[256], path[400], args[1200], out[2048];
    (void)state;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    assert_int_equal(lia_accounts_org_find(s, "cert-own", &own, &e), LIA_OK);
    /* owned by org 0 (the server's view of our team) and by our real id
     * (what `taxii add --org cert-own` stored) */
    indicator(js, sizeof js, 40, ",\"object_marking_refs\":[\"" ASTR_ID "\"]");
    assert_int_equal(lia_taxii_collection_add_object(s, "partners", "shared", js, strlen(js), -1, 0, 0, &e),
                     LIA_OK);
    indicator(js, sizeof js, 41, ",\"object_marking_refs\":[\"" ASTR_ID "\"]");
    assert_int_equal(lia_taxii_collection_add_object(s, "partners", "shared", js, strlen(js), -1, own, 0, &e),
                     LIA_OK);
    lia_store_close(s);
    indicator(js, sizeof js, 42, ",\"object_marking_refs\":[\"" ASTR_ID "\"]");
    snprintf(path, sizeof path, "%s/own42.json", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(js, f);
    fclose(f);
    snprintf(args, sizeof args, "--db '%s' taxii add partners shared '%s' --org cert-own", dbpath, path);
    if (run_cli(args, out, sizeof out) != 0)
        fail_msg("taxii add: %s", out);
    for (int k = 40; k <= 42; k++) {
        object_url(url, sizeof url, SHARED, k);
        long an = get_status(url, auth_analyst), ad = get_status(url, auth_admin),
             a = get_status(url, auth_a), b = get_status(url, auth_b);
        if (an != 200 || ad != 200 || a != 404 || b != 404)
            fail_msg(
                "our AMBER+STRICT object %d: analyst %ld admin %ld (want 200), partners %ld %ld (want 404)",
                k, an, ad, a, b);
    }
    /* and in a listing */
    hc_resp r;
    hc_request(port, "GET", SHARED "?match[id]=indicator--7e570000-0000-4000-8000-000000000041", auth_analyst,
               NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "objects")), 1);
    hc_free(&r);
}

/* ---- Authorization: Token KEY (the OASIS TAXII client's token auth) ---- */

static void test_token_scheme(void **state)
{
    char tok[200];
    (void)state;
    /* auth_b is "Bearer KEY" */
    snprintf(tok, sizeof tok, "Token %s", auth_b + 7);
    assert_int_equal(get_status(B_INBOX, tok), 200);
    snprintf(tok, sizeof tok, "Token %sx", auth_b + 7);
    assert_int_equal(get_status(B_INBOX, tok), 401);
}

/* ---- a shared writable collection: each partner's objects are its own ---- */

static void test_shared_collection_owners(void **state)
{
    char body[4096], one[1024], two[1024], url[256];
    hc_resp r;
    (void)state;
    /* A posts an object (two versions: GREEN, then AMBER+STRICT) */
    indicator(one, sizeof one, 50, ",\"object_marking_refs\":[\"" GREEN_ID "\"]");
    indicator(two, sizeof two, 50, ",\"object_marking_refs\":[\"" ASTR_ID "\"]");
    char *m = strstr(two, "\"modified\":\"2024-01-01");
    assert_non_null(m);
    memcpy(m + strlen("\"modified\":\"2024-01-0"), "2", 1);
    snprintf(body, sizeof body, "{\"objects\":[%s,%s]}", one, two);
    hc_request(port, "POST", SHARED, auth_a, body, &r);
    assert_int_equal(r.status, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 2);
    hc_free(&r);
    object_url(url, sizeof url, SHARED, 50);
    /* B sees the GREEN version only */
    char all[300];
    snprintf(all, sizeof all, "%s?match[version]=all", url);
    hc_request(port, "GET", all, auth_b, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "objects")), 1);
    hc_free(&r);
    /* B cannot overwrite it with a version of its own */
    indicator(one, sizeof one, 50,
              ",\"object_marking_refs\":[\"" GREEN_ID "\"],\"description\":\"B was here\"");
    m = strstr(one, "\"modified\":\"2024-01-01");
    memcpy(m + strlen("\"modified\":\"2024-01-0"), "9", 1);
    snprintf(body, sizeof body, "{\"objects\":[%s]}", one);
    hc_request(port, "POST", SHARED, auth_b, body, &r);
    assert_int_equal(r.status, 202);
    if (json_integer_value(json_object_get(r.json, "failure_count")) != 1)
        fail_msg("B overwrote A's object: %s", lia_buf_cstr(&r.body));
    hc_free(&r);
    /* B cannot delete it, not even the version it can see */
    hc_request(port, "DELETE", url, auth_b, NULL, &r);
    if (r.status != 403 && r.status != 404)
        fail_msg("B deleted A's object: %ld %s", r.status, lia_buf_cstr(&r.body));
    hc_free(&r);
    hc_request(port, "GET", url, auth_a, NULL, &r);
    assert_int_equal(r.status, 200);
    const char *d = json_string_value(
        json_object_get(json_array_get(json_object_get(r.json, "objects"), 0), "description"));
    if (d && strstr(d, "B was here"))
        fail_msg("A's object now reads: %s", d);
    hc_free(&r);
    hc_request(
        port, "GET",
        "/partners/collections/shared/objects/indicator--7e570000-0000-4000-8000-000000000050/versions/",
        auth_a, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "versions")), 2);
    hc_free(&r);
    /* our admin deletes: only what it can see (the AMBER+STRICT version is
     * A's, invisible to us), so A keeps it */
    hc_request(port, "DELETE", url, auth_admin, NULL, &r);
    assert_int_equal(r.status, 200);
    hc_free(&r);
    hc_request(port, "GET", url, auth_a, NULL, &r);
    if (r.status != 200 || json_array_size(json_object_get(r.json, "objects")) != 1)
        fail_msg("A's AMBER+STRICT version after our DELETE: %ld %s", r.status, lia_buf_cstr(&r.body));
    hc_free(&r);
    /* A deletes its own object */
    hc_request(port, "DELETE", url, auth_a, NULL, &r);
    assert_int_equal(r.status, 200);
    hc_free(&r);
    assert_int_equal(get_status(url, auth_a), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markings_post),       cmocka_unit_test(test_role_bounds_create),
        cmocka_unit_test(test_role_bounds_request), cmocka_unit_test(test_status_scoped),
        cmocka_unit_test(test_granular_export),     cmocka_unit_test(test_own_amber_strict),
        cmocka_unit_test(test_token_scheme),        cmocka_unit_test(test_shared_collection_owners),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests_name(LIA_TEST_GROUP("tenancy"), tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
