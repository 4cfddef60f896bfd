/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Delivery into partners' TAXII collections, end to end: a store with a
 * partner directory (two partners with taxii: channels, one also with an
 * e-mail channel whose SMTP server refuses), routed events (some refused by
 * the TLP policy at routing, one withheld when the digest is built because
 * the partner's ceiling was lowered), `notify run`; then the TAXII server
 * started in-process on 127.0.0.1 and read with each partner's API key:
 * a partner reads its own collection and the community one, never another's;
 * a second run adds nothing; a failed delivery is recorded and retried. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/liaison.h"
#include "store/db.h"
#include "liaison/taxii.h"

#define TAXII  "application/taxii+json;version=2.1"
#define COLL_A "/partners/collections/cert-a-inbox/"
#define COLL_B "/partners/collections/cert-b-inbox/"
#define COMM   "/partners/collections/community/"

static char tmpdir[64], dbpath[128], tdir[512];
static lia_store *st;
static lia_http *srv;
static char base_url[64];
static char key_admin[LIA_KEY_TOKEN_MAX + 8], key_a[LIA_KEY_TOKEN_MAX + 8], key_b[LIA_KEY_TOKEN_MAX + 8],
    key_c[LIA_KEY_TOKEN_MAX + 8];
static int smtp_port; /* nothing listens there */

static const char partners_yaml[] =
    "partners:\n"
    "  - id: cert-a\n    name: CERT A\n    countries: [MY]\n    tlp_max: %s\n    agreement: true\n"
    "    channels: [\"taxii:partners/cert-a-inbox\"%s]\n"
    "  - id: cert-b\n    name: CERT B\n    countries: [KH]\n    tlp_max: AMBER\n    agreement: true\n"
    "    channels: [\"taxii:partners/cert-b-inbox\"]\n";

/* ids 1..7 in this order */
static const char events1[] =
    "{\"source.ip\":\"203.0.113.7\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"scanner\","
    "\"tlp\":\"GREEN\",\"time.source\":\"2026-11-27T10:00:00Z\"}\n"
    "{\"source.ip\":\"203.0.113.10\",\"source.url\":\"http://bad.example/"
    "x\",\"source.geolocation.cc\":\"MY\","
    "\"classification.type\":\"phishing\",\"tlp\":\"CLEAR\"}\n"
    "{\"source.ip\":\"203.0.113.8\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"scanner\","
    "\"tlp\":\"RED\"}\n"
    "{\"source.ip\":\"203.0.113.9\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"infected-"
    "system\","
    "\"tlp\":\"AMBER\"}\n"
    "{\"source.ip\":\"203.0.113.11\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"scanner\","
    "\"tlp\":\"AMBER+STRICT\"}\n"
    "{\"source.ip\":\"203.0.113.12\",\"source.geolocation.cc\":\"MY\",\"classification.type\":\"scanner\","
    "\"tlp\":\"GREEN\",\"raw\":\"c2VjcmV0\"}\n"
    "{\"source.ip\":\"198.51.100.1\",\"source.geolocation.cc\":\"KH\",\"classification.type\":\"scanner\","
    "\"tlp\":\"GREEN\"}\n";
/* id 8 */
static const char events2[] = "{\"source.ip\":\"198.51.100.2\",\"source.geolocation.cc\":\"KH\","
                              "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\"}\n";

/* ---- helpers ---- */

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    assert_int_equal(fclose(f), 0);
}

static void ingest(const char *name, const char *text)
{
    char path[256];
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    write_file(path, text);
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = path;
    o.feed.feed = "test";
    o.feed.tlp = -1;
    lia_error_clear(&err);
    if (lia_ingest(st, &o, &res, &err))
        fail_msg("ingest %s: %s", name, err.reason);
}

static void load_partners(const char *tlp_a, const char *extra_a)
{
    char y[1024];
    size_t n;
    lia_error err;
    snprintf(y, sizeof y, partners_yaml, tlp_a, extra_a);
    lia_error_clear(&err);
    if (lia_party_import(st, LIA_PARTY_PARTNER, "yaml", y, strlen(y), &n, &err))
        fail_msg("partners: %s (line %llu)", err.reason, (unsigned long long)err.line);
    assert_int_equal(n, 2);
}

typedef struct outcome {
    char recipient[64], channel[64], outcome[16], error[512];
    size_t events, withheld, objects;
} outcome;

typedef struct outcomes {
    outcome v[16];
    size_t n;
} outcomes;

static int on_result(void *ud, const lia_notify_result *r)
{
    outcomes *o = ud;
    if (o->n < 16) {
        outcome *x = &o->v[o->n++];
        snprintf(x->recipient, sizeof x->recipient, "%s", r->recipient);
        snprintf(x->channel, sizeof x->channel, "%s", r->channel ? r->channel : "(null)");
        snprintf(x->outcome, sizeof x->outcome, "%s", r->outcome);
        snprintf(x->error, sizeof x->error, "%s", r->error);
        x->events = r->events;
        x->withheld = r->withheld;
        x->objects = r->objects;
    }
    return 0;
}

static const outcome *find(const outcomes *o, const char *rcpt, const char *channel)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].recipient, rcpt) == 0 && strncmp(o->v[i].channel, channel, strlen(channel)) == 0)
            return &o->v[i];
    return NULL;
}

/* The result for rcpt on channel; fails the test if there is none. */
static const outcome *must(const outcomes *o, const char *rcpt, const char *channel)
{
    static const outcome none = {"", "", "(none)", "", 0, 0, 0};
    const outcome *x = find(o, rcpt, channel);
    if (!x)
        fail_msg("no result for %s on %s", rcpt, channel);
    return x ? x : &none;
}

static void dump(const outcomes *o)
{
    for (size_t i = 0; i < o->n; i++)
        print_message("  %s %s %s events %zu withheld %zu objects %zu: %s\n", o->v[i].recipient,
                      o->v[i].channel, o->v[i].outcome, o->v[i].events, o->v[i].withheld, o->v[i].objects,
                      o->v[i].error);
}

static int notify(outcomes *out)
{
    lia_notify_opts o;
    lia_error err;
    int rc;
    memset(&o, 0, sizeof o);
    memset(out, 0, sizeof *out);
    o.templates = tdir;
    o.unsigned_ok = 1;
    o.tries = 1;
    o.backoff_ms = 1;
    lia_error_clear(&err);
    rc = lia_notify_run(st, &o, on_result, out, &err);
    if (rc != LIA_OK && rc != LIA_ENET)
        fail_msg("notify run: %d %s", rc, err.reason);
    return rc;
}

static int64_t notified_id(int64_t event_id, const char *rcpt, const char **verdict)
{
    lia_stmt *q;
    lia_error err;
    int64_t id = -1;
    static char v[16];
    assert_int_equal(lia__db_prepare_once(lia__store_db(st), "test",
                                          "SELECT coalesce(notification_id,0), verdict FROM route_decision"
                                          " WHERE event_id=? AND recipient=?",
                                          &q, &err),
                     LIA_OK);
    lia__db_bind_int64(q, 1, event_id);
    lia__db_bind_text(q, 2, rcpt, -1);
    if (lia__db_step(q, &err) == LIA_DB_ROW) {
        id = lia__db_col_int64(q, 0);
        snprintf(v, sizeof v, "%s", lia_verdict_name((int)lia__db_col_int64(q, 1)));
    }
    lia__db_done(q);
    if (verdict)
        *verdict = v;
    return id;
}

static void sql(const char *s)
{
    lia_error err;
    if (lia__db_exec(lia__store_db(st), s, &err) != LIA_OK)
        fail_msg("%s: %s", s, err.reason);
}

/* ---- HTTP ---- */

typedef struct resp {
    long status;
    lia_buf body;
    json_t *json;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    return lia_buf_append(&r->body, p, sz * n) == LIA_OK ? sz * n : 0;
}

static long get(const char *key, const char *path, resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    char url[512], auth[160];
    memset(r, 0, sizeof *r);
    lia_buf_init(&r->body, 16u << 20);
    snprintf(url, sizeof url, "%s%s", base_url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    hs = curl_slist_append(hs, auth);
    hs = curl_slist_append(hs, "Accept: " TAXII);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) != CURLE_OK)
        r->status = -1;
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    if (r->body.len)
        r->json = json_loadb(r->body.ptr, r->body.len, 0, NULL);
    return r->status;
}

static void resp_free(resp *r)
{
    lia_buf_free(&r->body);
    json_decref(r->json);
}

#define EXPECT_STATUS(key, path, want)                                                                       \
    do {                                                                                                     \
        resp r_;                                                                                             \
        if (get(key, path, &r_) != (want))                                                                   \
            fail_msg("%s:%d: GET %s: status %ld, want %d; body %s", __FILE__, __LINE__, path, r_.status,     \
                     (int)(want), lia_buf_cstr(&r_.body));                                                   \
        resp_free(&r_);                                                                                      \
    } while (0)

/* What a reader sees of a collection's objects. */
typedef struct seen {
    size_t objects, indicators, sightings, identities, markings, unmarked;
    char patterns[2048];
    int has_raw, no_event; /* an indicator without its Liaison event */
    char producer[64];
} seen;

static void read_objects(const char *key, const char *coll, seen *s)
{
    resp r;
    char path[256];
    json_t *o;
    size_t i;
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%sobjects/", coll);
    if (get(key, path, &r) != 200 || !r.json)
        fail_msg("GET %s: status %ld, body %s", path, r.status, lia_buf_cstr(&r.body));
    json_array_foreach(json_object_get(r.json, "objects"), i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        s->objects++;
        if (strcmp(type, "indicator") == 0) {
            json_t *ev = json_object_get(
                json_object_get(json_object_get(o, "extensions"), LIA_STIX_EVENT_EXT), "event");
            if (!ev)
                s->no_event = 1;
            s->indicators++;
            snprintf(s->patterns + strlen(s->patterns), sizeof s->patterns - strlen(s->patterns), "%s\n",
                     json_string_value(json_object_get(o, "pattern")));
            if (json_object_get(ev, "raw"))
                s->has_raw = 1;
        } else if (strcmp(type, "sighting") == 0) {
            s->sightings++;
        } else if (strcmp(type, "identity") == 0) {
            s->identities++;
            /* the Liaison project's identity creates the event extension's definition */
            if (strcmp(json_string_value(json_object_get(o, "id")),
                       "identity--ff8fa24b-b1fd-5de8-a62a-fbb82548d233") != 0)
                snprintf(s->producer, sizeof s->producer, "%s",
                         json_string_value(json_object_get(o, "name")));
        } else if (strcmp(type, "marking-definition") == 0) {
            s->markings++;
        }
        if (strcmp(type, "identity") != 0 && strcmp(type, "marking-definition") != 0 &&
            strcmp(type, "extension-definition") != 0 &&
            json_array_size(json_object_get(o, "object_marking_refs")) == 0)
            s->unmarked++;
    }
    resp_free(&r);
}

/* Objects in a collection, as our own admin sees them. */
static size_t count_objects(const char *coll)
{
    seen s;
    read_objects(key_admin, coll, &s);
    return s.objects;
}

/* ---- setup ---- */

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &al))
        return -1;
    port = ntohs(a.sin_port);
    close(fd); /* closed: a connection there is refused */
    return port;
}

static void key_for(const char *org, int kind, const char *user, int role, char *out)
{
    lia_error err;
    char tok[LIA_KEY_TOKEN_MAX];
    lia_error_clear(&err);
    if ((org && lia_accounts_org_add(
                    st, org, kind, kind == LIA_ORG_OWN ? LIA_TLP_AMBER_STRICT : LIA_TLP_AMBER, NULL, &err)) ||
        lia_accounts_user_add(st, org ? org : "cert-own", user, role, NULL, NULL, &err) ||
        lia_accounts_key_add(st, user, 0, 0, tok, NULL, &err))
        fail_msg("accounts %s: %s", user, err.reason);
    snprintf(out, LIA_KEY_TOKEN_MAX + 8, "%s", tok);
}

static int setup(void **state)
{
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    lia_error err;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-deliver-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/l.db", tmpdir);
    snprintf(tdir, sizeof tdir, "%s/share/templates", root ? root : ".");
    smtp_port = free_port();
    lia_error_clear(&err);
    return lia_store_open(dbpath, &st, &err) == LIA_OK && smtp_port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    if (srv)
        lia_http_stop(srv);
    lia_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the tests, in order ---- */

static void test_deliver(void **state)
{
    char cfg[512];
    lia_error err;
    outcomes out;
    const outcome *x;
    const char *v;
    (void)state;
    /* A: e-mail and TAXII; B: TAXII only */
    load_partners("AMBER", ", \"email:soc@cert-a.example\"");
    snprintf(cfg, sizeof cfg,
             "home_country: CN\nproducer: \"National CERT\"\nmail_from: cert@national.example\n"
             "smtp_url: smtp://127.0.0.1:%d\n",
             smtp_port);
    lia_error_clear(&err);
    if (lia_route_config_put(st, cfg, strlen(cfg), &err))
        fail_msg("config: %s", err.reason);
    ingest("e1.jsonl", events1);
    /* routing refused RED (3) and AMBER+STRICT (5) for partner A */
    assert_int_equal(notified_id(3, "partner:cert-a", &v), 0);
    assert_string_equal(v, "deny");
    assert_int_equal(notified_id(5, "partner:cert-a", &v), 0);
    assert_string_equal(v, "deny");
    assert_int_equal(notified_id(4, "partner:cert-a", &v), 0);
    assert_string_equal(v, "deliver");
    /* A's ceiling lowered after routing: event 4 (AMBER) must be withheld */
    load_partners("GREEN", ", \"email:soc@cert-a.example\"");

    /* accounts: our admin; A's organisation linked now, B's later, C never */
    key_for("cert-own", LIA_ORG_OWN, "admin", LIA_ROLE_ADMIN, key_admin);
    key_for("cert-a-org", LIA_ORG_PARTNER, "a-user", LIA_ROLE_PARTNER, key_a);
    key_for("cert-b-org", LIA_ORG_PARTNER, "b-user", LIA_ROLE_PARTNER, key_b);
    key_for("cert-c-org", LIA_ORG_PARTNER, "c-user", LIA_ROLE_PARTNER, key_c);
    lia_error_clear(&err);
    assert_int_equal(lia_accounts_org_link(st, "cert-a-org", "cert-a", &err), LIA_OK);
    /* a community collection every organisation may read */
    {
        lia_taxii_collection c;
        static const char obj[] =
            "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-"
            "000000000001\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00."
            "000Z\","
            "\"pattern\":\"[ipv4-addr:value = '192.0.2.99']\",\"pattern_type\":\"stix\",\"valid_from\":"
            "\"2026-01-01T00:00:00Z\",\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-"
            "a1a8aa3c8487\"]}";
        assert_int_equal(lia_taxii_init(st, &err), LIA_OK);
        assert_int_equal(lia_taxii_api_root_add(st, "partners", "Partner CERTs", NULL, 0, &err), LIA_OK);
        lia_taxii_collection_defaults(&c);
        snprintf(c.api_root, sizeof c.api_root, "partners");
        snprintf(c.id, sizeof c.id, "community");
        snprintf(c.title, sizeof c.title, "Community");
        c.community = 1;
        assert_int_equal(lia_taxii_collection_add(st, &c, &err), LIA_OK);
        assert_int_equal(
            lia_taxii_collection_add_object(st, "partners", "community", obj, sizeof obj - 1, -1, 0, 0, &err),
            LIA_OK);
    }

    /* run 1: A's TAXII delivery and B's; A's e-mail fails (nothing listens) */
    assert_int_equal(notify(&out), LIA_ENET);
    dump(&out);
    x = must(&out, "partner:cert-a", "taxii:partners/cert-a-inbox");
    assert_string_equal(x->outcome, "sent");
    assert_int_equal(x->events, 3); /* 1, 2, 6 */
    assert_int_equal(x->withheld, 1);
    assert_true(x->objects > 0);
    x = must(&out, "partner:cert-a", "email");
    assert_string_equal(x->outcome, "failed");
    assert_int_equal(x->events, 3);
    x = must(&out, "partner:cert-b", "taxii:partners/cert-b-inbox");
    assert_string_equal(x->outcome, "sent");
    assert_int_equal(x->events, 1);
    if (!strstr(x->error, "no account organisation is linked to partner cert-b"))
        fail_msg("B's delivery should say nobody can read it yet: '%s'", x->error);
    assert_null(find(&out, "partner:cert-b", "email"));
    /* B has only TAXII: notified; A still waits for its e-mail */
    assert_true(notified_id(7, "partner:cert-b", NULL) > 0);
    assert_int_equal(notified_id(1, "partner:cert-a", NULL), 0);
    /* the withheld event is now denied, with the reason */
    assert_int_equal(notified_id(4, "partner:cert-a", &v), 0);
    assert_string_equal(v, "deny");

    /* the server, on 127.0.0.1 */
    {
        lia_http_opts o;
        memset(&o, 0, sizeof o);
        o.db = dbpath;
        o.listen = "127.0.0.1:0";
        o.threads = 2;
        o.rate = 10000;
        o.burst = 10000;
        lia_error_clear(&err);
        if (lia_http_start(&o, &srv, &err))
            fail_msg("server: %s", err.reason);
        snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u", lia_http_port(srv));
    }
}

static void test_partner_reads_own(void **state)
{
    seen s;
    resp r;
    (void)state;
    read_objects(key_a, COLL_A, &s);
    if (s.indicators != 3 || !strstr(s.patterns, "'203.0.113.7'") || !strstr(s.patterns, "'203.0.113.10'") ||
        !strstr(s.patterns, "'203.0.113.12'"))
        fail_msg("A sees %zu indicators, want 3 (.7 .10 .12):\n%s", s.indicators, s.patterns);
    /* refused at routing (.8 RED, .11 AMBER+STRICT), withheld (.9), B's (198.51.100.1) */
    if (strstr(s.patterns, "203.0.113.8'") || strstr(s.patterns, "203.0.113.11'") ||
        strstr(s.patterns, "203.0.113.9'") || strstr(s.patterns, "198.51.100."))
        fail_msg("A sees what it must not:\n%s", s.patterns);
    assert_int_equal(s.sightings, 3);
    assert_int_equal(s.identities, 2); /* National CERT's, and Liaison's (the extension's author) */
    assert_string_equal(s.producer, "National CERT");
    assert_int_equal(s.markings, 2); /* TLP:GREEN and TLP:CLEAR */
    assert_int_equal(s.unmarked, 0);
    assert_false(s.has_raw); /* redacted for partners */
    assert_false(s.no_event);
    /* the collection: titled after the partner, read-only for A */
    assert_int_equal(get(key_a, COLL_A, &r), 200);
    assert_non_null(r.json);
    if (!strstr(json_string_value(json_object_get(r.json, "title")), "CERT A"))
        fail_msg("title: %s", lia_buf_cstr(&r.body));
    assert_true(json_is_true(json_object_get(r.json, "can_read")));
    assert_true(json_is_false(json_object_get(r.json, "can_write")));
    resp_free(&r);
    /* A lists its own collection and the community one, not B's */
    assert_int_equal(get(key_a, "/partners/collections/", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "collections")), 2);
    if (strstr(lia_buf_cstr(&r.body), "cert-b-inbox") || !strstr(lia_buf_cstr(&r.body), "cert-a-inbox"))
        fail_msg("A's collections: %s", lia_buf_cstr(&r.body));
    resp_free(&r);
    read_objects(key_a, COMM, &s);
    assert_int_equal(s.indicators, 1);
}

static void test_others_denied(void **state)
{
    char cmd[512];
    const char *bin = getenv("LIAISON_BIN");
    seen s;
    (void)state;
    /* B: not A's collection, which does not exist for B (404, not 403) */
    EXPECT_STATUS(key_b, COLL_A, 404);
    EXPECT_STATUS(key_b, COLL_A "objects/", 404);
    EXPECT_STATUS(key_b, COLL_A "manifest/", 404);
    /* C, linked to nobody: neither partner's, but the community one */
    EXPECT_STATUS(key_c, COLL_A "objects/", 404);
    EXPECT_STATUS(key_c, COLL_B "objects/", 404);
    EXPECT_STATUS(key_c, COMM "objects/", 200);
    /* B is not linked yet: its own collection is closed to it too */
    EXPECT_STATUS(key_b, COLL_B "objects/", 404);
    /* linking (the CLI) opens B's existing collection at once */
    assert_non_null(bin);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' accounts org-link cert-b-org cert-b >/dev/null", bin, dbpath);
    assert_int_equal(system(cmd), 0);
    read_objects(key_b, COLL_B, &s);
    if (s.indicators != 1 || !strstr(s.patterns, "'198.51.100.1'"))
        fail_msg("B sees %zu indicators:\n%s", s.indicators, s.patterns);
    EXPECT_STATUS(key_b, COLL_A "objects/", 404);
    EXPECT_STATUS(key_a, COLL_B "objects/", 404);
    /* a party that is not in the directory cannot be linked */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' accounts org-link cert-c-org cert-zz 2>/dev/null", bin, dbpath);
    assert_int_not_equal(system(cmd), 0);
}

static void test_second_run_adds_nothing(void **state)
{
    size_t a = count_objects(COLL_A), b = count_objects(COLL_B);
    outcomes out;
    const outcome *x;
    (void)state;
    /* the e-mail is retried (and fails again); TAXII has nothing new */
    assert_int_equal(notify(&out), LIA_ENET);
    dump(&out);
    assert_null(find(&out, "partner:cert-a", "taxii:partners/cert-a-inbox"));
    assert_null(find(&out, "partner:cert-b", "taxii:partners/cert-b-inbox"));
    x = must(&out, "partner:cert-a", "email");
    assert_string_equal(x->outcome, "failed");
    assert_int_equal(x->events, 3);
    assert_int_equal(count_objects(COLL_A), a);
    assert_int_equal(count_objects(COLL_B), b);
}

static void test_failure_retried(void **state)
{
    size_t b = count_objects(COLL_B);
    outcomes out;
    const outcome *x;
    seen s;
    (void)state;
    ingest("e2.jsonl", events2); /* event 8, for B */
    sql("CREATE TRIGGER t_full BEFORE INSERT ON taxii_objects BEGIN SELECT RAISE(ABORT, 'disk full (test)'); "
        "END");
    assert_int_equal(notify(&out), LIA_ENET);
    dump(&out);
    x = must(&out, "partner:cert-b", "taxii:partners/cert-b-inbox");
    assert_string_equal(x->outcome, "failed");
    if (!strstr(x->error, "disk full (test)"))
        fail_msg("the failure should say why: '%s'", x->error);
    assert_int_equal(notified_id(8, "partner:cert-b", NULL), 0);
    assert_int_equal(count_objects(COLL_B), b); /* nothing half-done */
    /* recorded */
    {
        lia_stmt *q;
        lia_error err;
        assert_int_equal(
            lia__db_prepare_once(lia__store_db(st), "test",
                                 "SELECT count(*) FROM notification WHERE recipient='partner:cert-b'"
                                 " AND channel='taxii:partners/cert-b-inbox' AND outcome='failed'",
                                 &q, &err),
            LIA_OK);
        assert_int_equal(lia__db_step(q, &err), LIA_DB_ROW);
        assert_int_equal(lia__db_col_int64(q, 0), 1);
        lia__db_done(q);
    }
    /* the next run delivers it */
    sql("DROP TRIGGER t_full");
    assert_int_equal(notify(&out), LIA_ENET); /* A's e-mail still fails */
    x = must(&out, "partner:cert-b", "taxii:partners/cert-b-inbox");
    assert_string_equal(x->outcome, "sent");
    assert_int_equal(x->events, 1);
    assert_true(notified_id(8, "partner:cert-b", NULL) > 0);
    read_objects(key_b, COLL_B, &s);
    if (s.indicators != 2 || !strstr(s.patterns, "'198.51.100.2'"))
        fail_msg("B sees %zu indicators:\n%s", s.indicators, s.patterns);
    /* identity and marking were already there: only the new event's objects */
    assert_int_equal(count_objects(COLL_B), b + 3);
}

static void test_channel_removed(void **state)
{
    outcomes out;
    (void)state;
    /* A drops its e-mail channel: what TAXII delivered now counts as notified */
    load_partners("GREEN", "");
    assert_int_equal(notify(&out), LIA_OK);
    dump(&out);
    assert_int_equal(out.n, 0);
    assert_true(notified_id(1, "partner:cert-a", NULL) > 0);
    assert_true(notified_id(2, "partner:cert-a", NULL) > 0);
    assert_true(notified_id(6, "partner:cert-a", NULL) > 0);
}

/* A partner's own TAXII server (here: ours again, on 127.0.0.1, a collection
 * partner C may write to): the objects are POSTed to it with C's API key. */
static void test_remote_push(void **state)
{
    char y[512], url[256];
    lia_error err;
    outcomes out;
    const outcome *x;
    size_t n;
    seen s;
    (void)state;
    lia_error_clear(&err);
    {
        lia_taxii_collection c;
        int64_t org;
        lia_taxii_collection_defaults(&c);
        snprintf(c.api_root, sizeof c.api_root, "partners");
        snprintf(c.id, sizeof c.id, "remote-in");
        snprintf(c.title, sizeof c.title, "CERT C's inbox");
        assert_int_equal(lia_taxii_collection_add(st, &c, &err), LIA_OK);
        assert_int_equal(lia_accounts_org_find(st, "cert-c-org", &org, &err), LIA_OK);
        assert_int_equal(lia_taxii_grant(st, "partners", "remote-in", org, 1, 1, &err), LIA_OK);
    }
    snprintf(url, sizeof url, "%s/partners/collections/remote-in/", base_url);
    snprintf(y, sizeof y,
             "partners:\n  - id: cert-c\n    name: CERT C\n    countries: [TH]\n    agreement: true\n"
             "    channels: [\"taxii:%s\"]\n",
             url);
    if (lia_party_import(st, LIA_PARTY_PARTNER, "yaml", y, strlen(y), &n, &err))
        fail_msg("partner C: %s", err.reason);
    ingest("e3.jsonl", "{\"source.ip\":\"192.0.2.77\",\"source.geolocation.cc\":\"TH\","
                       "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\"}\n"
                       "{\"source.ip\":\"192.0.2.78\",\"source.geolocation.cc\":\"TH\","
                       "\"classification.type\":\"scanner\",\"tlp\":\"RED\"}\n");
    /* ids 9 (GREEN) and 10 (RED: refused at routing, never pushed) */
    {
        const char *v;
        assert_int_equal(notified_id(10, "partner:cert-c", &v), 0);
        assert_string_equal(v, "deny");
    }
    /* no key for C's server yet: refused, recorded, said how to fix */
    unsetenv("LIAISON_TAXII_TOKEN_CERT_C");
    assert_int_equal(notify(&out), LIA_ENET);
    dump(&out);
    x = must(&out, "partner:cert-c", "taxii:http://127.0.0.1");
    assert_string_equal(x->outcome, "failed");
    if (!strstr(x->error, "HTTP 401") || !strstr(x->error, "LIAISON_TAXII_TOKEN_CERT_C"))
        fail_msg("error: %s", x->error);
    assert_int_equal(notified_id(9, "partner:cert-c", NULL), 0);
    /* with the key: delivered */
    setenv("LIAISON_TAXII_TOKEN_CERT_C", key_c, 1);
    n = (size_t)notify(&out);
    dump(&out);
    assert_int_equal(n, LIA_OK);
    x = must(&out, "partner:cert-c", "taxii:http://127.0.0.1");
    assert_string_equal(x->outcome, "sent");
    assert_int_equal(x->events, 1);
    /* SCO, indicator, sighting, identity, Liaison's identity, the event
     * extension's definition, TLP:GREEN */
    assert_int_equal(x->objects, 7);
    assert_true(notified_id(9, "partner:cert-c", NULL) > 0);
    read_objects(key_c, "/partners/collections/remote-in/", &s);
    if (s.indicators != 1 || !strstr(s.patterns, "'192.0.2.77'"))
        fail_msg("C's server holds %zu indicators:\n%s", s.indicators, s.patterns);
    /* nothing twice */
    assert_int_equal(notify(&out), LIA_OK);
    assert_null(find(&out, "partner:cert-c", url));
}

/* A partner's key never travels over plain HTTP to another machine: the
 * push is refused before any connection, recorded and retried. */
static void test_token_never_over_http(void **state)
{
    char y[512];
    lia_error err;
    outcomes out;
    const outcome *x;
    size_t n;
    (void)state;
    lia_error_clear(&err);
    snprintf(y, sizeof y,
             "partners:\n  - id: cert-d\n    name: CERT D\n    countries: [KH]\n    agreement: true\n"
             "    channels: [\"taxii:http://taxii.partner.invalid/api1/collections/in/\"]\n");
    if (lia_party_import(st, LIA_PARTY_PARTNER, "yaml", y, strlen(y), &n, &err))
        fail_msg("partner D: %s", err.reason);
    ingest("e4.jsonl", "{\"source.ip\":\"192.0.2.90\",\"source.geolocation.cc\":\"KH\","
                       "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\"}\n");
    setenv("LIAISON_TAXII_TOKEN_CERT_D", "secret-key-of-d", 1);
    assert_int_not_equal(notify(&out), LIA_OK);
    dump(&out);
    x = must(&out, "partner:cert-d", "taxii:http://taxii.partner.invalid");
    assert_string_equal(x->outcome, "failed");
    if (!strstr(x->error, "plain HTTP") || strstr(x->error, "secret-key-of-d"))
        fail_msg("error: %s", x->error);
    unsetenv("LIAISON_TAXII_TOKEN_CERT_D");
}

/* A partner's taxii: channel that names an existing collection it does
 * not own (another partner's delivery collection, an internal one) is
 * refused: nothing is written there, and linking the partner grants it no
 * read access there (issue 16). */
static void test_channel_names_others_collection(void **state)
{
    char y[1024], key_e[LIA_KEY_TOKEN_MAX + 8];
    lia_error err;
    outcomes out;
    const outcome *x;
    size_t n, before_a, before_int;
    int64_t org;
    resp r;
    (void)state;
    lia_error_clear(&err);
    {
        lia_taxii_collection c;
        lia_taxii_collection_defaults(&c);
        snprintf(c.api_root, sizeof c.api_root, "partners");
        snprintf(c.id, sizeof c.id, "internal");
        snprintf(c.title, sizeof c.title, "Our own");
        assert_int_equal(lia_taxii_collection_add(st, &c, &err), LIA_OK);
    }
    snprintf(y, sizeof y,
             "partners:\n  - id: cert-e\n    name: CERT E\n    countries: [VN]\n    agreement: true\n"
             "    channels: [\"taxii:partners/cert-a-inbox\", \"taxii:partners/internal\"]\n");
    if (lia_party_import(st, LIA_PARTY_PARTNER, "yaml", y, strlen(y), &n, &err))
        fail_msg("partner E: %s", err.reason);
    key_for("cert-e-org", LIA_ORG_PARTNER, "e-user", LIA_ROLE_PARTNER, key_e);
    assert_int_equal(lia_accounts_org_link(st, "cert-e-org", "cert-e", &err), LIA_OK);
    assert_int_equal(lia_accounts_org_find(st, "cert-e-org", &org, &err), LIA_OK);
    /* what `accounts org-link` does: read access to the partner's delivery collections */
    assert_int_equal(lia_notify_taxii_access(st, "cert-e", org, 1, &n, &err), LIA_OK);
    assert_int_equal(n, 0);
    before_a = count_objects(COLL_A);
    before_int = count_objects("/partners/collections/internal/");
    ingest("e5.jsonl", "{\"source.ip\":\"192.0.2.91\",\"source.geolocation.cc\":\"VN\","
                       "\"classification.type\":\"scanner\",\"tlp\":\"GREEN\"}\n");
    assert_int_not_equal(notify(&out), LIA_OK);
    dump(&out);
    static const char *const chans[] = {"taxii:partners/cert-a-inbox", "taxii:partners/internal"};
    for (size_t i = 0; i < 2; i++) {
        x = must(&out, "partner:cert-e", chans[i]);
        if (strcmp(x->outcome, "failed") != 0 || !strstr(x->error, "not partner cert-e's"))
            fail_msg("%s: %s: %s", chans[i], x->outcome, x->error);
    }
    assert_int_equal(count_objects(COLL_A), before_a);
    assert_int_equal(count_objects("/partners/collections/internal/"), before_int);
    static const char *const colls[] = {COLL_A "objects/", "/partners/collections/internal/objects/"};
    for (size_t i = 0; i < 2; i++) {
        get(key_e, colls[i], &r);
        if (r.status != 404)
            fail_msg("partner E reads %s: %ld", colls[i], r.status);
        resp_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliver),
        cmocka_unit_test(test_partner_reads_own),
        cmocka_unit_test(test_others_denied),
        cmocka_unit_test(test_second_run_adds_nothing),
        cmocka_unit_test(test_failure_retried),
        cmocka_unit_test(test_channel_removed),
        cmocka_unit_test(test_remote_push),
        cmocka_unit_test(test_token_never_over_http),
        cmocka_unit_test(test_channel_names_others_collection),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
