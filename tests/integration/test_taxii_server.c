/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TAXII 2.1 server end to end: a store seeded with medallion's test data
 * (tests/data/taxii21), the server started in-process on 127.0.0.1 with an
 * ephemeral port, libcurl as the client. One test per checklist section
 * (docs: README "Serving partners"), plus status codes, auth failures,
 * limits, HTTP/1.1 framing, TLP enforcement and TLS. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../pg/pg_test.h"

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/liaison.h"
#include "liaison/taxii.h"
#include <sodium.h>
#include "taxii/taxii_internal.h"
#include "store/db.h"
#include <time.h>

#define COLL     "/trustgroup1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/"
#define COLL_ADD "/trustgroup1/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/"
#define IND      "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"
#define MAL      "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"
#define TAXII    "application/taxii+json;version=2.1"

static char tmpdir[256], dbpath[300], logpath[300];
static lia_http *srv;
static uint16_t port;
static char admin_key[LIA_KEY_TOKEN_MAX + 16], partner_key[LIA_KEY_TOKEN_MAX + 16];
static char slow_key[LIA_KEY_TOKEN_MAX + 16], revoked_key[LIA_KEY_TOKEN_MAX + 16];
#define B64_MAX 128 /* base64 of a test user:password */
static char basic_ok[sizeof "Basic " + B64_MAX], basic_bad[sizeof "Basic " + B64_MAX];
static FILE *access_log;

typedef struct resp {
    long status;
    lia_buf body;
    char ctype[128], first[64], last[64], www[160], retry[32];
    json_t *json;
} resp;

static void resp_free(resp *r)
{
    lia_buf_free(&r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    return lia_buf_append(&r->body, p, sz * n) == LIA_OK ? sz * n : 0;
}

static void hcopy(char *dst, size_t dn, const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len > nl && strncasecmp(line, name, nl) == 0) {
        const char *v = line + nl;
        size_t vl = len - nl;
        while (vl && (*v == ' '))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        snprintf(dst, dn, "%.*s", (int)vl, v);
    }
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = sz * n;
    hcopy(r->ctype, sizeof r->ctype, p, len, "Content-Type:");
    hcopy(r->first, sizeof r->first, p, len, "X-TAXII-Date-Added-First:");
    hcopy(r->last, sizeof r->last, p, len, "X-TAXII-Date-Added-Last:");
    hcopy(r->www, sizeof r->www, p, len, "WWW-Authenticate:");
    hcopy(r->retry, sizeof r->retry, p, len, "Retry-After:");
    return len;
}

/* One request. auth: full Authorization value or NULL; accept NULL = none. */
static long http_on(CURL *c, const char *base, const char *method, const char *path, const char *auth,
                    const char *accept, const char *ctype, const char *body, resp *r)
{
    char url[1024], h1[512], h2[256], h3[256];
    struct curl_slist *hs = NULL;
    memset(r, 0, sizeof *r);
    lia_buf_init(&r->body, 64u << 20);
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    hs = curl_slist_append(hs, "Accept:"); /* no default Accept */
    if (auth) {
        snprintf(h1, sizeof h1, "Authorization: %s", auth);
        hs = curl_slist_append(hs, h1);
    }
    if (accept) {
        snprintf(h2, sizeof h2, "Accept: %s", accept);
        hs = curl_slist_append(hs, h2);
    }
    if (ctype) {
        snprintf(h3, sizeof h3, "Content-Type: %s", ctype);
        hs = curl_slist_append(hs, h3);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hs);
    if (cc != CURLE_OK) {
        print_error("curl %s %s: %s\n", method, url, curl_easy_strerror(cc));
        r->status = -1;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body.len)
        r->json = json_loadb(r->body.ptr, r->body.len, 0, NULL);
    return r->status;
}

static char base_url[64];

static long http(const char *method, const char *path, const char *auth, const char *accept,
                 const char *ctype, const char *body, resp *r)
{
    CURL *c = curl_easy_init();
    long s = http_on(c, base_url, method, path, auth, accept, ctype, body, r);
    curl_easy_cleanup(c);
    return s;
}

static char bearer_admin[128];
static long get(const char *path, resp *r)
{
    return http("GET", path, bearer_admin, TAXII, NULL, NULL, r);
}

static size_t arr_len(json_t *j, const char *key)
{
    return json_array_size(json_object_get(j, key));
}

static const char *jstr(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

#define ASSERT_STATUS(r, want)                                                                               \
    do {                                                                                                     \
        if ((r)->status != (want))                                                                           \
            fail_msg("%s:%d: status %ld, want %d; body %s", __FILE__, __LINE__, (r)->status, (int)(want),    \
                     lia_buf_cstr(&(r)->body));                                                              \
    } while (0)

static int atoi_check(const char *s)
{
    int v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

/* ---- setup ---- */

static const char *const tlp_refs[] = {
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* GREEN */
    NULL,                                                       /* unmarked: AMBER default */
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* AMBER+STRICT */
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* RED (own team) */
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* RED (partner's own) */
};

static void add_tlp_object(lia_store *s, int i, int64_t org)
{
    char js[1024];
    lia_error e;
    lia_error_clear(&e);
    snprintf(js, sizeof js,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
             "00000000-0000-4000-8000-00000000000%d\",\"created\":\"2024-01-01T00:00:00.000Z\","
             "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = "
             "'192.0.2.%d']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\""
             "%s%s%s}",
             i, i + 1, tlp_refs[i] ? ",\"object_marking_refs\":[\"" : "", tlp_refs[i] ? tlp_refs[i] : "",
             tlp_refs[i] ? "\"]" : "");
    int rc = lia_taxii_collection_add_object(s, "partners", "cert-p", js, strlen(js), -1, org,
                                             1700000000000000LL + i, &e);
    if (rc)
        fail_msg("add object %d: %s", i, e.reason);
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    char path[512];
    size_t n;
    int64_t partner_org, key_id;
    (void)state;
    const char *td = getenv("LIAISON_TESTDATA");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-taxii-XXXXXX");
    if (!td || !mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "l", dbpath, sizeof dbpath))
        return -1;
    snprintf(logpath, sizeof logpath, "%s/access.log", tmpdir);
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e))
        return -1;
    snprintf(path, sizeof path, "%s/taxii21/medallion-default_data.json", td);
    FILE *f = fopen(path, "rb");
    static char seed[1 << 20];
    if (!f)
        return -1;
    n = fread(seed, 1, sizeof seed, f);
    fclose(f);
    lia_taxii_seed_stats st;
    if (lia_taxii_seed(s, seed, n, &st, &e)) {
        fprintf(stderr, "seed: %s\n", e.reason);
        return -1;
    }
    char tok[LIA_KEY_TOKEN_MAX];
    if (lia_accounts_org_add(s, "cert-own", LIA_ORG_OWN, LIA_TLP_AMBER_STRICT, NULL, &e) ||
        lia_accounts_org_add(s, "cert-p", LIA_ORG_PARTNER, LIA_TLP_AMBER, &partner_org, &e) ||
        lia_accounts_user_add(s, "cert-own", "admin", LIA_ROLE_ADMIN, "correct horse battery", NULL, &e) ||
        lia_accounts_user_add(s, "cert-p", "p-user", LIA_ROLE_PARTNER, NULL, NULL, &e) ||
        lia_accounts_user_add(s, "cert-own", "bot", LIA_ROLE_ANALYST, NULL, NULL, &e)) {
        fprintf(stderr, "accounts: %s\n", e.reason);
        return -1;
    }
    if (lia_accounts_key_add(s, "admin", 0, 0, tok, NULL, &e))
        return -1;
    snprintf(admin_key, sizeof admin_key, "%s", tok);
    if (lia_accounts_key_add(s, "p-user", 0, 0, tok, NULL, &e))
        return -1;
    snprintf(partner_key, sizeof partner_key, "%s", tok);
    if (lia_accounts_key_add(s, "bot", 0.001, 2, tok, NULL, &e))
        return -1;
    snprintf(slow_key, sizeof slow_key, "%s", tok);
    if (lia_accounts_key_add(s, "bot", 0, 0, tok, &key_id, &e) || lia_accounts_key_revoke(s, key_id, &e))
        return -1;
    snprintf(revoked_key, sizeof revoked_key, "%s", tok);
    /* partner collections */
    lia_taxii_collection c;
    if (lia_taxii_api_root_add(s, "partners", "Partner CERTs", NULL, 4096, &e))
        return -1;
    lia_taxii_collection_defaults(&c);
    snprintf(c.api_root, sizeof c.api_root, "partners");
    snprintf(c.id, sizeof c.id, "cert-p");
    if (lia_taxii_collection_add(s, &c, &e))
        return -1;
    snprintf(c.id, sizeof c.id, "other");
    if (lia_taxii_collection_add(s, &c, &e))
        return -1;
    if (lia_taxii_grant(s, "partners", "cert-p", partner_org, 1, 0, &e))
        return -1;
    for (int i = 0; i < 5; i++)
        add_tlp_object(s, i, i == 4 ? partner_org : 0);
    lia_store_close(s);

    access_log = fopen(logpath, "w");
    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.rate = 10000;
    o.burst = 10000;
    o.max_body = 64 * 1024;
    o.access_log = access_log;
    if (lia_http_start(&o, &srv, &e)) {
        fprintf(stderr, "start: %s\n", e.reason);
        return -1;
    }
    port = lia_http_port(srv);
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u", port);
    snprintf(bearer_admin, sizeof bearer_admin, "Bearer %s", admin_key);
    /* Basic admin:correct horse battery */
    {
        char b64[B64_MAX];
        const char *up = "admin:correct horse battery";
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)up, strlen(up),
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(basic_ok, sizeof basic_ok, "Basic %s", b64);
        up = "admin:wrong password!";
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)up, strlen(up),
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(basic_bad, sizeof basic_bad, "Basic %s", b64);
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    (void)state;
    lia_http_stop(srv);
    if (access_log)
        fclose(access_log);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return -1;
    return 0;
}

/* ---- endpoints ---- */

static void test_discovery(void **state)
{
    resp r;
    (void)state;
    get("/taxii2/", &r);
    ASSERT_STATUS(&r, 200);
    assert_string_equal(r.ctype, TAXII);
    assert_string_equal(jstr(r.json, "title"), "Some TAXII Server");
    assert_int_equal(arr_len(r.json, "api_roots"), 4);
    char want[128];
    snprintf(want, sizeof want, "%s/trustgroup1/", base_url);
    assert_string_equal(jstr(r.json, "default"), want);
    resp_free(&r);
}

static void test_api_root(void **state)
{
    resp r;
    (void)state;
    get("/trustgroup1/", &r);
    ASSERT_STATUS(&r, 200);
    assert_string_equal(r.ctype, TAXII);
    assert_string_equal(jstr(r.json, "title"), "Malware Research Group");
    assert_int_equal(arr_len(r.json, "versions"), 1);
    assert_true(json_integer_value(json_object_get(r.json, "max_content_length")) > 0);
    resp_free(&r);
    get("/nosuchroot/", &r);
    ASSERT_STATUS(&r, 404);
    assert_string_equal(r.ctype, TAXII);
    resp_free(&r);
}

static void test_collections(void **state)
{
    resp r;
    (void)state;
    get("/trustgroup1/collections/", &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(arr_len(r.json, "collections"), 5);
    json_t *c0 = json_array_get(json_object_get(r.json, "collections"), 0);
    assert_non_null(json_object_get(c0, "can_read"));
    assert_non_null(json_object_get(c0, "media_types"));
    resp_free(&r);
    get("/nosuchroot/collections/", &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    get(COLL, &r);
    ASSERT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "id"), "91a7b528-80eb-42ed-a74d-c6fbd5a26116");
    assert_true(json_is_true(json_object_get(r.json, "can_read")));
    resp_free(&r);
    get("/trustgroup1/collections/12345678-1234-1234-1234-123456789012/", &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
}

static void test_status(void **state)
{
    resp r;
    (void)state;
    get("/trustgroup1/status/2d086da7-4bdc-4f91-900e-d77486753710/", &r);
    ASSERT_STATUS(&r, 200);
    static const char *const keys[] = {
        "id",        "status",   "total_count", "success_count", "failure_count", "pending_count",
        "successes", "failures", "pendings"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(r.json, keys[i]))
            fail_msg("status resource lacks %s: %s", keys[i], lia_buf_cstr(&r.body));
    resp_free(&r);
    get("/trustgroup1/status/00000000-0000-0000-0000-000000000000/", &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
}

static void test_media_types(void **state)
{
    static const struct {
        const char *accept;
        int status;
    } cases[] = {
        {TAXII, 200},
        {"application/taxii+json", 200},
        {"application/taxii+json; version=2.1", 200},
        {"text/html, application/taxii+json;version=2.1;q=0.9", 200},
        {"application/taxii+json;version=2.0", 406},
        {"application/json", 406},
        {"application/taxii+json;version=2.1;q=0", 406},
        {NULL, 406},
        {"garbage", 406},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        http("GET", COLL "objects/", bearer_admin, cases[i].accept, NULL, NULL, &r);
        if (r.status != cases[i].status)
            fail_msg("Accept %s: status %ld, want %d", cases[i].accept ? cases[i].accept : "(none)", r.status,
                     cases[i].status);
        assert_string_equal(r.ctype, TAXII);
        resp_free(&r);
    }
    /* objects may also be asked for as STIX */
    resp r;
    http("GET", COLL "objects/", bearer_admin, "application/stix+json;version=2.1", NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    assert_string_equal(r.ctype, "application/stix+json;version=2.1");
    resp_free(&r);
}

static void test_auth(void **state)
{
    static const char *const paths[] = {
        "/trustgroup1/collections/",
        "/trustgroup1/status/2d086da7-4bdc-4f91-900e-d77486753710/",
        COLL "manifest/",
        COLL "objects/",
    };
    char bad_bearer[128], revoked[128];
    snprintf(bad_bearer, sizeof bad_bearer, "Bearer lia_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    snprintf(revoked, sizeof revoked, "Bearer %s", revoked_key);
    const char *auths[] = {NULL, basic_bad, bad_bearer, revoked, "Digest abc", "Basic !!!!"};
    (void)state;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++)
        for (size_t a = 0; a < sizeof auths / sizeof auths[0]; a++) {
            resp r;
            http("GET", paths[p], auths[a], TAXII, NULL, NULL, &r);
            if (r.status != 401)
                fail_msg("%s with auth %s: status %ld, want 401", paths[p], auths[a] ? auths[a] : "(none)",
                         r.status);
            assert_true(strstr(r.www, "Basic") != NULL);
            resp_free(&r);
        }
    resp r;
    http("POST", COLL_ADD "objects/", NULL, TAXII, TAXII, "{\"objects\":[]}", &r);
    ASSERT_STATUS(&r, 401);
    resp_free(&r);
    /* the right password works, twice (second from the verification cache) */
    for (int i = 0; i < 2; i++) {
        http("GET", COLL "objects/", basic_ok, TAXII, NULL, NULL, &r);
        ASSERT_STATUS(&r, 200);
        resp_free(&r);
    }
}

static void test_objects_default(void **state)
{
    static const char *const order[] = {
        "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463",
        "indicator--cd981c25-8042-4166-8945-51178443bdac",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        MAL,
        IND,
    };
    resp r;
    (void)state;
    get(COLL "objects/", &r);
    ASSERT_STATUS(&r, 200);
    json_t *objs = json_object_get(r.json, "objects");
    assert_int_equal(json_array_size(objs), 5);
    assert_true(json_is_false(json_object_get(r.json, "more")));
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(jstr(json_array_get(objs, i), "id"), order[i]);
    assert_string_equal(r.first, "2014-05-08T09:00:00.000000Z");
    assert_string_equal(r.last, "2017-12-31T13:49:53.935000Z");
    resp_free(&r);
}

static void test_filter_counts(void **state)
{
    static const struct {
        const char *query;
        size_t count;
        const char *key;
    } cases[] = {
        {"objects/?added_after=2016-11-03T12:30:59Z", 3, "objects"},
        {"objects/?match[type]=indicator", 2, "objects"},
        {"objects/?match[type]=indicator,malware", 3, "objects"},
        {"objects/?match[id]=" IND, 1, "objects"},
        {"objects/?match[version]=all", 7, "objects"},
        {"objects/?match[version]=first", 5, "objects"},
        {"objects/?match[spec_version]=2.0", 1, "objects"},
        {"objects/?match[spec_version]=2.0,2.1", 5, "objects"},
        {"objects/?match[type]=indicator&match[version]=2017-01-27T13:49:53.935Z", 1, "objects"},
        {"manifest/?added_after=2017-01-20T00:00:00.000Z", 2, "objects"},
        {"manifest/", 5, "objects"},
        {"objects/" IND "/versions/", 3, "versions"},
        {"objects/" MAL "/versions/?match[spec_version]=2.0,2.1", 2, "versions"},
        {"objects/" MAL "/versions/", 1, "versions"},
        {"objects/" IND "/?match[version]=all", 3, "objects"},
        {"objects/" IND "/", 1, "objects"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        resp r;
        snprintf(path, sizeof path, COLL "%s", cases[i].query);
        get(path, &r);
        if (r.status != 200 || arr_len(r.json, cases[i].key) != cases[i].count)
            fail_msg("%s: status %ld, %zu %s, want 200 and %zu", cases[i].query, r.status,
                     arr_len(r.json, cases[i].key), cases[i].key, cases[i].count);
        assert_string_equal(r.ctype, TAXII);
        assert_true(r.first[0] != '\0' && r.last[0] != '\0');
        resp_free(&r);
    }
    /* manifest records */
    resp r;
    get(COLL "manifest/?match[id]=" MAL "&match[spec_version]=2.0", &r);
    ASSERT_STATUS(&r, 200);
    json_t *m = json_array_get(json_object_get(r.json, "objects"), 0);
    assert_string_equal(jstr(m, "media_type"), "application/stix+json;version=2.0");
    assert_string_equal(jstr(m, "version"), "2018-02-23T18:30:00.000Z");
    assert_string_equal(jstr(m, "date_added"), "2017-01-27T13:49:59.997000Z");
    resp_free(&r);
    /* single object with nothing newer: {} */
    get(COLL "objects/" IND "/?added_after=2018-01-01T00:00:00Z", &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(json_object_size(r.json), 0);
    resp_free(&r);
    get(COLL "objects/" IND "/versions/?added_after=2018-01-01T00:00:00Z", &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(json_object_size(r.json), 0);
    resp_free(&r);
    get(COLL "objects/indicator--00000000-0000-4000-8000-999999999999/", &r);
    ASSERT_STATUS(&r, 404);
    assert_string_equal(r.ctype, TAXII);
    resp_free(&r);
}

/* Follow next from first; return page sizes in sizes[], count of pages. */
static size_t pages(const char *first, const char *key, size_t sizes[8], char dates[8][64])
{
    char path[1024];
    size_t n = 0;
    snprintf(path, sizeof path, "%s", first);
    while (n < 8) {
        resp r;
        get(path, &r);
        ASSERT_STATUS(&r, 200);
        sizes[n] = arr_len(r.json, key);
        if (dates && json_array_size(json_object_get(r.json, key)))
            snprintf(dates[n], 64, "%s", json_string_value(json_array_get(json_object_get(r.json, key), 0)));
        n++;
        int more = json_is_true(json_object_get(r.json, "more"));
        const char *next = jstr(r.json, "next");
        if (!more) {
            assert_int_equal(strlen(next), 0);
            resp_free(&r);
            break;
        }
        assert_true(strlen(next) > 0);
        const char *q = strchr(first, '?');
        snprintf(path, sizeof path, "%s%snext=%s", first, q ? "&" : "?", next);
        resp_free(&r);
    }
    return n;
}

static void test_paging(void **state)
{
    size_t sz[8];
    char dates[8][64];
    (void)state;
    assert_int_equal(pages(COLL "objects/?limit=3", "objects", sz, NULL), 2);
    assert_int_equal(sz[0], 3);
    assert_int_equal(sz[1], 2);
    assert_int_equal(pages(COLL "manifest/?limit=2", "objects", sz, NULL), 3);
    assert_int_equal(sz[0], 2);
    assert_int_equal(sz[1], 2);
    assert_int_equal(sz[2], 1);
    assert_int_equal(pages(COLL "objects/" IND "/versions/?limit=1", "versions", sz, dates), 3);
    assert_string_equal(dates[0], "2016-11-03T12:30:59.000Z");
    assert_string_equal(dates[1], "2016-12-25T12:30:59.444Z");
    assert_string_equal(dates[2], "2017-01-27T13:49:53.935Z");
    assert_int_equal(pages(COLL "objects/?match[version]=all&limit=2", "objects", sz, NULL), 4);
    /* headers belong to the page */
    resp r;
    get(COLL "objects/?limit=2", &r);
    assert_string_equal(r.first, "2014-05-08T09:00:00.000000Z");
    assert_string_equal(r.last, "2016-11-01T03:04:05.000000Z");
    resp_free(&r);
}

static void test_bad_params(void **state)
{
    resp r;
    char path[512];
    (void)state;
    get(COLL "objects/?limit=2", &r);
    ASSERT_STATUS(&r, 200);
    snprintf(path, sizeof path, COLL "objects/?limit=2&match[type]=indicator&next=%s", jstr(r.json, "next"));
    resp_free(&r);
    get(path, &r); /* next replayed with other filters */
    ASSERT_STATUS(&r, 400);
    assert_string_equal(jstr(r.json, "title"), "ProcessingError");
    resp_free(&r);
    static const char *const bad[] = {
        "objects/?limit=0",
        "objects/?limit=-1",
        "objects/?limit=abc",
        "objects/?added_after=yesterday",
        "objects/?next=AAAA",
        "objects/?match[version]=newest",
        "objects/?match[spec_version]=3.0",
        "manifest/?limit=",
        "objects/?match[type]=a,,b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, COLL "%s", bad[i]);
        get(path, &r);
        if (r.status != 400)
            fail_msg("%s: status %ld, want 400", bad[i], r.status);
        assert_string_equal(r.ctype, TAXII);
        resp_free(&r);
    }
}

static void test_permissions(void **state)
{
    static const struct {
        const char *method, *path;
        int status;
    } cases[] = {
        {"GET", "/trustgroup1/collections/472c94ae-3113-4e3e-a4dd-a9f4ac7471d4/objects/", 403},
        {"GET", "/trustgroup1/collections/472c94ae-3113-4e3e-a4dd-a9f4ac7471d4/manifest/", 403},
        {"POST", "/trustgroup1/collections/52892447-4d7e-4f70-b94d-d7f22742ff63/objects/", 403},
        {"GET", "/trustgroup1/collections/64993447-4d7e-4f70-b94d-d7f33742ee63/objects/", 403},
        {"POST", "/trustgroup1/collections/64993447-4d7e-4f70-b94d-d7f33742ee63/objects/", 403},
        {"GET", "/trustgroup1/collections/12345678-1234-1234-1234-123456789012/objects/", 404},
        {"POST", "/trustgroup1/collections/12345678-1234-1234-1234-123456789012/objects/", 404},
        {"GET", "/trustgroup1/collections/12345678-1234-1234-1234-123456789012/manifest/", 404},
        {"PUT", COLL "objects/", 405},
        {"GET", "/trustgroup1/nothing/", 404},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        int post = strcmp(cases[i].method, "POST") == 0;
        http(cases[i].method, cases[i].path, bearer_admin, TAXII, post ? TAXII : NULL,
             post ? "{\"objects\":[]}" : NULL, &r);
        if (r.status != cases[i].status)
            fail_msg("%s %s: status %ld, want %d", cases[i].method, cases[i].path, r.status, cases[i].status);
        resp_free(&r);
    }
}

static const char new_obj[] =
    "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--11111111-2222-4333-8444-555555555555\","
    "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
    "\"pattern\":\"[domain-name:value = 'evil.example']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2020-01-01T00:00:00Z\"},{\"type\":\"indicator\",\"id\":\"bad\"}]}";

static void test_post_status(void **state)
{
    resp r, st;
    char path[256];
    (void)state;
    for (int round = 0; round < 2; round++) { /* second: already present, still a success */
        http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, new_obj, &r);
        ASSERT_STATUS(&r, 202);
        assert_string_equal(r.ctype, TAXII);
        assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 1);
        assert_int_equal(json_integer_value(json_object_get(r.json, "failure_count")), 1);
        assert_int_equal(json_integer_value(json_object_get(r.json, "total_count")), 2);
        snprintf(path, sizeof path, "/trustgroup1/status/%s/", jstr(r.json, "id"));
        get(path, &st);
        ASSERT_STATUS(&st, 200);
        assert_string_equal(jstr(st.json, "status"), "complete");
        assert_int_equal(arr_len(st.json, "successes"), 1);
        resp_free(&st);
        resp_free(&r);
    }
    get(COLL_ADD "objects/indicator--11111111-2222-4333-8444-555555555555/", &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(arr_len(r.json, "objects"), 1);
    resp_free(&r);
    /* the new object's manifest; manifest/{id} is no endpoint */
    get(COLL_ADD "manifest/?match[id]=indicator--11111111-2222-4333-8444-555555555555", &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(arr_len(r.json, "objects"), 1);
    resp_free(&r);
    get(COLL_ADD "manifest/indicator--11111111-2222-4333-8444-555555555555", &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    /* an SCO without created/modified is versioned by date_added */
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII,
         "{\"objects\":[{\"type\":\"artifact\",\"spec_version\":\"2.1\","
         "\"id\":\"artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641\",\"mime_type\":\"application/zip\"}]}",
         &r);
    ASSERT_STATUS(&r, 202);
    resp_free(&r);
    static const char *const sco_q[] = {"?match[version]=all", "?match[version]=first",
                                        "?match[version]=last", "?added_after=2017-01-27T13:49:53.935Z"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, COLL_ADD "objects/artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641%s",
                 sco_q[i]);
        get(path, &r);
        if (r.status != 200 || arr_len(r.json, "objects") != 1)
            fail_msg("SCO %s: status %ld, %zu objects, want 200 and 1", sco_q[i], r.status,
                     arr_len(r.json, "objects"));
        resp_free(&r);
    }
    get(COLL_ADD "objects/artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641?added_after=2099-01-01T00:00:00Z",
        &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(json_object_size(r.json), 0);
    resp_free(&r);
    /* a bare object is not an envelope */
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII,
         "{\"type\":\"indicator\",\"id\":\"indicator--1\"}", &r);
    ASSERT_STATUS(&r, 422);
    assert_string_equal(jstr(r.json, "title"), "ProcessingError");
    assert_string_equal(jstr(r.json, "http_status"), "422");
    resp_free(&r);
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, "not json", &r);
    ASSERT_STATUS(&r, 422);
    resp_free(&r);
    static const char *const bad_ct[] = {"application/json", "application/taxii+json;version=2.0",
                                         "text/plain", NULL};
    for (size_t i = 0; i < 4; i++) {
        http("POST", COLL_ADD "objects/", bearer_admin, TAXII, bad_ct[i], "{\"objects\":[]}", &r);
        if (r.status != 415)
            fail_msg("Content-Type %s: %ld, want 415", bad_ct[i] ? bad_ct[i] : "(none)", r.status);
        resp_free(&r);
    }
    /* over the server's body limit (64 KiB here) -> 413, and over the API
     * root's max_content_length (partners: 4096) -> 413 */
    char *big = malloc(70000);
    memset(big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = '\0';
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, big, &r);
    ASSERT_STATUS(&r, 413);
    resp_free(&r);
    big[5000] = '\0';
    big[4999] = '}';
    http("POST", "/partners/collections/cert-p/objects/", bearer_admin, TAXII, TAXII, big, &r);
    ASSERT_STATUS(&r, 413);
    resp_free(&r);
    free(big);
}

static void test_delete(void **state)
{
    resp r;
    static const char obj[] = "{\"objects\":[%s]}";
    char body[2048], one[512];
    (void)state;
    body[0] = '\0';
    /* three versions of one object */
    size_t off = 0;
    for (int v = 1; v <= 3; v++) {
        snprintf(one, sizeof one,
                 "%s{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--"
                 "99999999-2222-4333-8444-555555555555\",\"created\":\"2020-01-01T00:00:00Z\","
                 "\"modified\":\"2020-01-0%dT00:00:00.000Z\",\"name\":\"x\",\"is_family\":false}",
                 v > 1 ? "," : "", v);
        off += (size_t)snprintf(body + off, sizeof body - off, "%s", one);
    }
    char env[2100];
    snprintf(env, sizeof env, obj, body);
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, env, &r);
    ASSERT_STATUS(&r, 202);
    resp_free(&r);
#define M COLL_ADD "objects/malware--99999999-2222-4333-8444-555555555555/"
    get(M "versions/", &r);
    assert_int_equal(arr_len(r.json, "versions"), 3);
    resp_free(&r);
    http("DELETE", M "?match[version]=first", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    get(M "versions/", &r);
    assert_int_equal(arr_len(r.json, "versions"), 2);
    resp_free(&r);
    http("DELETE", M "?match[version]=2020-01-03T00:00:00.000Z", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    get(M, &r); /* latest is now the 2nd version */
    ASSERT_STATUS(&r, 200);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "objects"), 0), "modified"),
                        "2020-01-02T00:00:00.000Z");
    resp_free(&r);
    http("DELETE", M, bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    get(M, &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    get(M "versions/", &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    http("DELETE", M, bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    /* spec_version-selective delete on the seed's malware (2.0 + 2.1 versions) */
    http("DELETE", COLL "objects/" MAL "/?match[spec_version]=2.0", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    get(COLL "objects/" MAL "/versions/?match[spec_version]=2.0,2.1", &r);
    assert_int_equal(arr_len(r.json, "versions"), 1);
    resp_free(&r);
#undef M
}

static void test_tlp_partner(void **state)
{
    char auth[128];
    resp r;
    (void)state;
    snprintf(auth, sizeof auth, "Bearer %s", partner_key);
    /* partner (ceiling AMBER): GREEN and AMBER (unmarked: collection default);
     * never another organisation's AMBER+STRICT, never RED, not even its own */
    http("GET", "/partners/collections/cert-p/objects/", auth, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    json_t *objs = json_object_get(r.json, "objects");
    assert_int_equal(json_array_size(objs), 2);
    assert_string_equal(jstr(json_array_get(objs, 0), "id"),
                        "indicator--00000000-0000-4000-8000-000000000000");
    assert_string_equal(jstr(json_array_get(objs, 1), "id"),
                        "indicator--00000000-0000-4000-8000-000000000001");
    resp_free(&r);
    http("GET", "/partners/collections/cert-p/objects/indicator--00000000-0000-4000-8000-000000000004/", auth,
         TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    /* the AMBER+STRICT object does not exist for the partner */
    http("GET", "/partners/collections/cert-p/objects/indicator--00000000-0000-4000-8000-000000000002/", auth,
         TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    /* own team admin (AMBER+STRICT): GREEN, AMBER, its own AMBER+STRICT; never RED */
    get("/partners/collections/cert-p/objects/", &r);
    assert_int_equal(arr_len(r.json, "objects"), 3);
    resp_free(&r);
    /* partner: read-only grant; a collection without a grant is invisible */
    http("POST", "/partners/collections/cert-p/objects/", auth, TAXII, TAXII, "{\"objects\":[]}", &r);
    ASSERT_STATUS(&r, 403);
    resp_free(&r);
    http("GET", "/partners/collections/other/objects/", auth, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 404); /* not 403: that would confirm the collection exists */
    resp_free(&r);
    http("GET", "/partners/collections/other/", auth, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 404);
    resp_free(&r);
    http("GET", "/partners/collections/", auth, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    assert_int_equal(arr_len(r.json, "collections"), 1);
    resp_free(&r);
    /* the seed's collections are community collections: readable */
    http("GET", COLL "objects/", auth, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
}

static void test_policy(void **state)
{
    static const struct {
        int ceiling, tlp, same, want;
    } cases[] = {
        {LIA_TLP_AMBER, LIA_TLP_CLEAR, 0, 1},
        {LIA_TLP_AMBER, LIA_TLP_GREEN, 0, 1},
        {LIA_TLP_AMBER, LIA_TLP_AMBER, 0, 1},
        {LIA_TLP_AMBER, LIA_TLP_AMBER_STRICT, 0, 0},
        {LIA_TLP_AMBER_STRICT, LIA_TLP_AMBER_STRICT, 0, 0}, /* only to the owner */
        {LIA_TLP_AMBER_STRICT, LIA_TLP_AMBER_STRICT, 1, 1},
        {LIA_TLP_RED, LIA_TLP_RED, 0, 0},
        {LIA_TLP_RED, LIA_TLP_RED, 1, 0}, /* RED is never served */
        {LIA_TLP_GREEN, LIA_TLP_AMBER, 1, 0},
        {LIA_TLP_CLEAR, LIA_TLP_GREEN, 0, 0},
        {LIA_TLP_AMBER, 7, 1, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (lia__tlp_policy_allows(cases[i].ceiling, cases[i].tlp, cases[i].same) != cases[i].want)
            fail_msg("case %zu: ceiling %d tlp %d same %d: got %d want %d", i, cases[i].ceiling, cases[i].tlp,
                     cases[i].same, !cases[i].want, cases[i].want);
}

static void test_rate_limit(void **state)
{
    char auth[128];
    resp r;
    long got[4];
    (void)state;
    snprintf(auth, sizeof auth, "Bearer %s", slow_key); /* burst 2, 0.001/s */
    for (int i = 0; i < 4; i++) {
        http("GET", "/taxii2/", auth, TAXII, NULL, NULL, &r);
        got[i] = r.status;
        if (i == 2 && atoi_check(r.retry) < 1)
            fail_msg("429 without a Retry-After: \"%s\"", r.retry);
        resp_free(&r);
    }
    assert_int_equal(got[0], 200);
    assert_int_equal(got[1], 200);
    assert_int_equal(got[2], 429);
    assert_int_equal(got[3], 429);
}

/* ---- raw HTTP/1.1 framing ---- */

static int raw_n(const char *req, size_t n, char *out, size_t outn);

static int raw(const char *req, char *out, size_t outn)
{
    return raw_n(req, strlen(req), out, outn);
}

/* Send n bytes (NULs included) on a new connection, read until the server
 * closes it (or 5 s pass). */
static int raw_n(const char *req, size_t n, char *out, size_t outn)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t o = 0;
    while (o < n) {
        ssize_t w = write(fd, req + o, n - o);
        if (w <= 0)
            break;
        o += (size_t)w;
    }
    size_t got = 0;
    for (;;) {
        ssize_t k = read(fd, out + got, outn - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (got >= outn - 1)
            break;
    }
    out[got] = '\0';
    close(fd);
    return (int)got;
}

static void test_framing(void **state)
{
    char req[1024], out[8192];
    static const struct {
        const char *extra;
        const char *status;
    } cases[] = {
        {"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "HTTP/1.1 400"},
        {"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", "HTTP/1.1 400"},
        {"Content-Length: 999999999\r\n\r\n{}", "HTTP/1.1 413"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(req, sizeof req,
                 "POST " COLL_ADD "objects/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: %s\r\nAccept: " TAXII "\r\nContent-Type: " TAXII
                 "\r\nConnection: close\r\n%s",
                 bearer_admin, cases[i].extra);
        raw(req, out, sizeof out);
        if (strncmp(out, cases[i].status, strlen(cases[i].status)) != 0)
            fail_msg("case %zu: got \"%.40s\", want %s", i, out, cases[i].status);
    }
    /* keep-alive: an error response leaves the connection usable */
    snprintf(req, sizeof req,
             "GET " COLL "objects/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
             "Accept: application/json\r\n\r\n"
             "GET " COLL "objects/?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
             "Accept: " TAXII "\r\nConnection: close\r\n\r\n",
             bearer_admin, bearer_admin);
    raw(req, out, sizeof out);
    assert_true(strncmp(out, "HTTP/1.1 406", 12) == 0);
    char *second = strstr(out + 12, "HTTP/1.1 ");
    if (!second || strncmp(second, "HTTP/1.1 200", 12) != 0)
        fail_msg("second response on the same connection: %.60s", second ? second : "(none)");
    /* libcurl agrees: the second request reuses the connection */
    CURL *c = curl_easy_init();
    resp r;
    long nconn = -1;
    http_on(c, base_url, "GET", COLL "objects/", bearer_admin, "text/html", NULL, NULL, &r);
    ASSERT_STATUS(&r, 406);
    resp_free(&r);
    http_on(c, base_url, "GET", COLL "objects/", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn);
    assert_int_equal(nconn, 0);
    resp_free(&r);
    curl_easy_cleanup(c);
}

/* Request desync: framing another parser (a proxy in front) could read
 * differently is refused with 400 and the connection closed, so the bytes
 * after the headers are never taken as a second request. Each case is
 * followed by a well-formed GET that would answer 200 if it were read. */
static void test_desync(void **state)
{
#define SMUGGLE "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nAccept: " TAXII "\r\n\r\n"
    static const struct {
        const char *what;
        const char *hdr; /* between the request line and the blank line */
        size_t len;      /* of hdr, NULs included */
    } cases[] = {
#define C(w, h) {w, h, sizeof h - 1}
        C("space before the colon", "Content-Length : 80\r\n"),
        C("tab before the colon", "Content-Length\t: 80\r\n"),
        C("folded Content-Length", "Content-Length:\r\n 80\r\n"),
        C("Transfer-Encoding, space before the colon", "Transfer-Encoding : chunked\r\n"),
        C("folded Transfer-Encoding", "Transfer-Encoding:\r\n chunked\r\n"),
        C("Content-Length with Transfer-Encoding", "Content-Length: 80\r\nTransfer-Encoding: chunked\r\n"),
        C("two Content-Length", "Content-Length: 0\r\nContent-Length: 80\r\n"),
        C("two Transfer-Encoding", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        C("Transfer-Encoding not chunked", "Transfer-Encoding: xchunked\r\n"),
        C("Content-Length list", "Content-Length: 80, 80\r\n"),
        C("Content-Length with a sign", "Content-Length: +80\r\n"),
        C("negative Content-Length", "Content-Length: -1\r\n"),
        C("bare CR ending a line", "X-A: 1\rContent-Length: 80\r\n"),
        C("bare CR in a value", "X-A: a\rb\r\n"),
        C("NUL in a name", "X\0A: 1\r\n"),
        C("control character in a name", "X\001A: 1\r\n"),
        C("space in a name", "X A: 1\r\n"),
        C("line without a colon", "X-A 1\r\n"),
#undef C
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[2048], out[8192];
        int n = snprintf(req, sizeof req, "POST " COLL_ADD "objects/ HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        memcpy(req + n, cases[i].hdr, cases[i].len);
        n += (int)cases[i].len;
        n += snprintf(req + n, sizeof req - (size_t)n, "\r\n" SMUGGLE, bearer_admin);
        raw_n(req, (size_t)n, out, sizeof out);
        if (strncmp(out, "HTTP/1.1 400", 12) != 0)
            fail_msg("%s: got \"%.40s\", want 400", cases[i].what, out);
        if (strstr(out, "HTTP/1.1 200") || strstr(out, "api_roots"))
            fail_msg("%s: the bytes after the headers were answered as a request", cases[i].what);
        if (!strstr(out, "\r\nConnection: close\r\n"))
            fail_msg("%s: the connection is not closed: %.200s", cases[i].what, out);
    }
    /* the control: well framed, the same bytes are a body, and a second
     * request after it is answered on the same connection */
    char req[2048], out[16384], body[512];
    int bl = snprintf(body, sizeof body, SMUGGLE, bearer_admin);
    snprintf(req, sizeof req,
             "POST /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s"
             "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nAccept: " TAXII
             "\r\nConnection: close\r\n\r\n",
             bl, body, bearer_admin);
    raw(req, out, sizeof out);
    assert_true(strncmp(out, "HTTP/1.1 4", 10) == 0);
    char *second = strstr(out + 10, "HTTP/1.1 ");
    if (!second || strncmp(second, "HTTP/1.1 200", 12) != 0 || strstr(second + 12, "HTTP/1.1 "))
        fail_msg("well framed: want one error, then 200 for the second request: %.300s", out);
#undef SMUGGLE
}

/* A second server with small limits: header memory and idle timeout. */
static void test_limits(void **state)
{
    lia_http *h;
    lia_error e;
    lia_http_opts o;
    uint16_t saved = port;
    char out[4096];
    (void)state;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.timeout_s = 1;
    o.max_header = 4096;
    lia_error_clear(&e);
    if (lia_http_start(&o, &h, &e))
        fail_msg("start: %s", e.reason);
    port = lia_http_port(h); /* raw() talks to `port` */
    static char big[12000];
    int k = snprintf(big, sizeof big, "GET /taxii2/ HTTP/1.1\r\nHost: a\r\nX-Filler: ");
    memset(big + k, 'x', 9000);
    snprintf(big + k + 9000, sizeof big - (size_t)k - 9000, "\r\n\r\n");
    raw(big, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 431", 12) != 0)
        fail_msg("9 KB header with a 4 KB limit: \"%.40s\"", out);
    /* idle connection: closed by the server after the timeout */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {6, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    ssize_t got = read(fd, &c, 1); /* 0 = closed by the server; -1 = our 6 s timeout */
    close(fd);
    assert_int_equal(got, 0);
    port = saved;
    lia_http_stop(h);
}

static void test_access_log(void **state)
{
    char buf[1 << 16];
    (void)state;
    fflush(access_log);
    FILE *f = fopen(logpath, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "\"GET /taxii2/\" 200"));
    assert_non_null(strstr(buf, " 401 "));
    assert_non_null(strstr(buf, "denied=\"401 "));
    assert_non_null(strstr(buf, "denied=\"429 rate limit\""));
    assert_non_null(strstr(buf, "denied=\"403 no read access"));
    assert_null(strstr(buf, admin_key)); /* never a secret */
}

static void test_tls(void **state)
{
    const char *td = getenv("LIAISON_TESTDATA");
    char cp[512], kp[512];
    static char cert[8192], key[8192];
    lia_http *h;
    lia_error e;
    (void)state;
    snprintf(cp, sizeof cp, "%s/tls/cert.pem", td);
    snprintf(kp, sizeof kp, "%s/tls/key.pem", td);
    FILE *f = fopen(cp, "r");
    assert_non_null(f);
    cert[fread(cert, 1, sizeof cert - 1, f)] = '\0';
    fclose(f);
    f = fopen(kp, "r");
    assert_non_null(f);
    key[fread(key, 1, sizeof key - 1, f)] = '\0';
    fclose(f);
    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.cert_pem = cert;
    o.key_pem = key;
    lia_error_clear(&e);
    if (lia_http_start(&o, &h, &e))
        fail_msg("TLS start: %s", e.reason);
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", lia_http_port(h));
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_CAINFO, cp);
    resp r;
    http_on(c, base, "GET", "/taxii2/", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    char want[128];
    snprintf(want, sizeof want, "%s/trustgroup1/", base);
    assert_string_equal(jstr(r.json, "default"), want);
    resp_free(&r);
    curl_easy_cleanup(c);
    lia_http_stop(h);
    /* a key without a certificate is refused */
    o.cert_pem = NULL;
    assert_int_equal(lia_http_start(&o, &h, &e), LIA_EINVAL);
    /* a listen address that is not numeric is refused */
    o.key_pem = NULL;
    o.listen = "localhost:80";
    assert_int_equal(lia_http_start(&o, &h, &e), LIA_EINVAL);
}

static uint64_t count_events(const char *db, const char *feed)
{
    lia_store *s;
    lia_error e;
    lia_query q;
    uint64_t n = 0;
    lia_error_clear(&e);
    memset(&q, 0, sizeof q);
    q.feed = feed;
    if (lia_store_open(db, &s, &e) || lia_store_count(s, &q, &n, &e))
        fail_msg("count: %s", e.reason);
    lia_store_close(s);
    return n;
}

static int tlp_seen(void *ud, const lia_event *ev)
{
    int *mask = ud;
    if (lia_event_has(ev, LIA_F_TLP))
        *mask |= 1 << ev->v[LIA_F_TLP].i;
    return 0;
}

static void test_pull(void **state)
{
    char db2[400], url[128];
    lia_store *s;
    lia_error e;
    lia_taxii_pull_opts o;
    lia_taxii_pull_result res;
    (void)state;
    snprintf(db2, sizeof db2, "%s/pull.db", tmpdir);
    snprintf(url, sizeof url, "%s/partners/", base_url);
    memset(&o, 0, sizeof o);
    o.url = url;
    o.collection = "cert-p";
    o.token = admin_key;
    o.feed = "partner-taxii";
    o.default_tlp = -1;
    o.page = 2;
    o.max_pages = 1; /* stop after one page: an interrupted pull */
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(db2, &s, &e), LIA_OK);
    if (lia_taxii_pull(s, &o, &res, &e))
        fail_msg("pull: %s", e.reason);
    assert_int_equal(res.pages, 1);
    assert_int_equal(res.objects, 2);
    assert_int_equal(res.events, 2);
    o.max_pages = 0; /* resume: the rest */
    if (lia_taxii_pull(s, &o, &res, &e))
        fail_msg("pull resume: %s", e.reason);
    assert_true(res.resumed);
    assert_int_equal(res.objects, 1); /* admin sees 3 of the 5 (TLP) */
    assert_int_equal(res.events, 1);
    assert_string_equal(res.cursor, "2023-11-14T22:13:20.000002Z");
    if (lia_taxii_pull(s, &o, &res, &e)) /* nothing new */
        fail_msg("pull again: %s", e.reason);
    assert_int_equal(res.objects, 0);
    assert_int_equal(res.events, 0);
    lia_store_close(s);
    assert_int_equal(count_events(db2, "partner-taxii"), 3);
    /* TLP of the source kept: GREEN, AMBER, AMBER+STRICT */
    lia_store_open(db2, &s, &e);
    lia_query q;
    memset(&q, 0, sizeof q);
    int tlps = 0;
    assert_int_equal(lia_store_query(s, &q, tlp_seen, &tlps, &e), LIA_OK);
    assert_int_equal(tlps, (1 << LIA_TLP_GREEN) | (1 << LIA_TLP_AMBER) | (1 << LIA_TLP_AMBER_STRICT));
    lia_store_close(s);
    /* the reference collection: objects that are not observables (malware,
     * relationship, marking) are counted, not stored as events */
    char url2[128];
    snprintf(url2, sizeof url2, "%s/trustgroup1", base_url); /* no trailing slash */
    o.url = url2;
    o.collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    o.feed = "tg1";
    o.page = 2;
    lia_store_open(db2, &s, &e);
    if (lia_taxii_pull(s, &o, &res, &e))
        fail_msg("pull tg1: %s", e.reason);
    lia_store_close(s);
    assert_int_equal(res.pages, 3);
    assert_int_equal(res.objects, 5);
    assert_int_equal(res.events, count_events(db2, "tg1"));
    if (res.events < 2 || res.events > 3)
        fail_msg("tg1: %llu events, want the 2 indicators (url, file hash)", (unsigned long long)res.events);
    /* wrong credentials: a clear error, nothing stored */
    o.token = "lia_wrong";
    lia_store_open(db2, &s, &e);
    assert_int_equal(lia_taxii_pull(s, &o, &res, &e), LIA_EAUTH);
    lia_store_close(s);
}

/* `liaison serve` as a child: serves, then SIGTERM stops it cleanly (exit 0). */
static void test_serve_sigterm(void **state)
{
    const char *bin = getenv("LIAISON_BIN");
    int errp[2];
    (void)state;
    assert_non_null(bin);
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(errp[1], 2);
        close(errp[0]);
        close(errp[1]);
        execl(bin, bin, "--db", dbpath, "serve", "--listen", "127.0.0.1:0", "--access-log", "/dev/null",
              (char *)NULL);
        _exit(127);
    }
    close(errp[1]);
    char line[512];
    size_t n = 0;
    while (n < sizeof line - 1) { /* first line: "... (port N) ..." */
        ssize_t k = read(errp[0], line + n, 1);
        if (k <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    const char *pp = strstr(line, "(port ");
    if (!pp)
        fail_msg("no port in \"%s\"", line);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", atoi_check(pp + 6));
    CURL *c = curl_easy_init();
    resp r;
    http_on(c, base, "GET", "/taxii2/", bearer_admin, TAXII, NULL, NULL, &r);
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    curl_easy_cleanup(c);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int st = 0;
    /* a hang guard, not a speed target: serve stops at once when idle; 60 s
     * leaves room for a loaded CI machine running the ASan build */
    for (int i = 0; i < 1200; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        usleep(50000);
        if (i == 1199) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("serve did not stop within 60 s of SIGTERM (a hang)");
        }
    }
    close(errp[0]);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Child mode (main: argv "--hold-lock DB"): another process holding the
 * store's write lock, as `liaison ingest` does for a batch. Writes "L" on
 * stdout once it holds it, commits when stdin closes. PostgreSQL has no
 * lock of a whole database: the transaction holds the tables an upload
 * writes in EXCLUSIVE mode (readers go on, writers wait, as in SQLite). */
static int hold_lock(const char *db)
{
    lia_db *h;
    lia_error e;
    char c;
    if (lia__db_open(db, 0, &h, &e))
        return 2;
    if (lia__db_exec_pg(h, "BEGIN EXCLUSIVE",
                        "BEGIN; LOCK TABLE taxii_objects, taxii_status IN EXCLUSIVE MODE", &e))
        return 2;
    if (write(1, "L", 1) != 1)
        return 3;
    while (read(0, &c, 1) > 0)
        ;
    lia__db_exec(h, "COMMIT", &e);
    lia__db_close(h);
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A store locked by another process (issue 16 point 4a): a POST answers
 * 503 with Retry-After and a TAXII error saying the store is busy, after
 * the server's short busy wait (LIA_HTTP_STORE_BUSY_MS), not the 10 s of a
 * command followed by 500; reads go on meanwhile (WAL), and the same POST
 * succeeds once the lock is released. */
static void test_store_locked(void **state)
{
    static const char obj[] =
        "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--0bd5bd7c-6a0e-4c5e-9f43-6f4b9c7c2e11\","
        "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-01-01T00:00:00.000Z\","
        "\"pattern\":\"[domain-name:value = 'locked.example']\",\"pattern_type\":\"stix\","
        "\"valid_from\":\"2021-01-01T00:00:00Z\"}]}";
    int to[2], from[2], wst;
    char c = 0;
    resp r;
    double t0, dt;
    pid_t pid;
    (void)state;
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[1]);
        close(from[0]);
        execl("/proc/self/exe", "test_taxii_server", "--hold-lock", dbpath, (char *)NULL);
        _exit(98);
    }
    close(to[0]);
    close(from[1]);
    assert_int_equal(read(from[0], &c, 1), 1);
    assert_int_equal(c, 'L');
    t0 = now_s();
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, obj, &r);
    dt = now_s() - t0;
    ASSERT_STATUS(&r, 503);
    assert_string_equal(r.ctype, TAXII);
    assert_string_equal(r.retry, LIA_STR(LIA_HTTP_BUSY_RETRY_S));
    assert_string_equal(jstr(r.json, "http_status"), "503");
    if (!strstr(jstr(r.json, "description"), "store is busy") || strstr(jstr(r.json, "description"), dbpath))
        fail_msg("description: %s", jstr(r.json, "description"));
    if (dt > 5.0) /* generous: the old wait was 10 s */
        fail_msg("503 after %.1f s; the busy wait is %d ms", dt, LIA_HTTP_STORE_BUSY_MS);
    resp_free(&r);
    get(COLL_ADD "objects/", &r); /* readers are not blocked by a writer */
    ASSERT_STATUS(&r, 200);
    resp_free(&r);
    close(to[1]); /* release */
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    close(from[0]);
    http("POST", COLL_ADD "objects/", bearer_admin, TAXII, TAXII, obj, &r);
    ASSERT_STATUS(&r, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 1);
    resp_free(&r);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--hold-lock") == 0)
        return hold_lock(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_api_root),
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_media_types),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_objects_default),
        cmocka_unit_test(test_filter_counts),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_post_status),
        cmocka_unit_test(test_store_locked),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_tlp_partner),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_desync),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_pull),
        cmocka_unit_test(test_serve_sigterm),
        cmocka_unit_test(test_access_log),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc =
        (lia_test_pg() ? cmocka_run_group_tests_name("taxii_server on PostgreSQL", tests, setup, teardown)
                       : cmocka_run_group_tests_name("taxii_server", tests, setup, teardown));
    curl_global_cleanup();
    return rc;
}
