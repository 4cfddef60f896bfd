/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The console's log-in and sessions (issue 11), against `liaison serve`'s
 * mounts on 127.0.0.1: a log-in sets an HttpOnly, SameSite=Strict session
 * cookie and returns the CSRF token; a wrong password is 401 and sets
 * nothing; the session authenticates on other mounts (TAXII here) and a
 * state-changing request without the session's CSRF token is 403 there
 * and on log-out; an idle session expires; log-out ends the session;
 * a partner's session cannot read the own team's dashboard, and the own
 * team's holds every number of the dashboard, each checked against a count
 * made here another way (the events grouped as the store's query API
 * groups them, the SLA breaches `liaison sla` lists, direct counts),
 * before and after the store's rollups are built again as by an upgrade; the assets
 * come with their types, caching and a strict CSP, and no path leaves the
 * console's directory. */
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

#include "../pg/pg_test.h"

#include "http_client.h"
#include "liaison/accounts.h"
#include "liaison/feeds.h"
#include "liaison/incident.h"
#include "liaison/ingest.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "core/clock.h"
#include "route/decisions.h"
#include "store/db.h"

#define PASSWORD "correct horse battery staple"

static char tmpdir[256], dbpath[300], webdir[300];

/* One request with the given extra header lines (NULL-terminated). */
static long req(uint16_t port, const char *method, const char *path, const char *const *hdrs,
                const char *body, hc_resp *r)
{
    char url[1024];
    struct curl_slist *hs = NULL;
    CURL *c = curl_easy_init();
    memset(r, 0, sizeof *r);
    lia_buf_init(&r->body, 64u << 20);
    lia_buf_init(&r->head, 64u << 10);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hc_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hc_on_head);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        hs = curl_slist_append(hs, hdrs[i]);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hs);
    if (cc != CURLE_OK) {
        r->status = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        if (r->body.len)
            r->json = json_loadb(r->body.ptr, r->body.len, 0, NULL);
    }
    curl_easy_cleanup(c);
    return r->status;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    char p[400];
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-console-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "c", dbpath, sizeof dbpath))
        return -1;
    snprintf(webdir, sizeof webdir, "%s/web", tmpdir);
    mkdir(webdir, 0700);
    snprintf(p, sizeof p, "%s/assets", webdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/index.html", webdir);
    put_file(
        p,
        "<!doctype html><title>Liaison</title><script type=module src=/console/assets/app-1a2b.js></script>");
    snprintf(p, sizeof p, "%s/assets/app-1a2b.js", webdir);
    put_file(p, "console.log('app');");
    snprintf(p, sizeof p, "%s/secret.txt", tmpdir); /* outside the console's directory */
    put_file(p, "do not serve");
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_org_add(s, "cert-x", LIA_ORG_PARTNER, LIA_TLP_AMBER, NULL, &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "cert-x", "pat", LIA_ROLE_PARTNER, PASSWORD, NULL, &e)) {
        fprintf(stderr, "setup: %s\n", e.reason);
        return -1;
    }
    lia_store_close(s);
    curl_global_init(CURL_GLOBAL_ALL);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static lia_http *start(unsigned idle_s, uint16_t *port)
{
    lia_http_opts o;
    lia_http *h = NULL;
    lia_error e;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.console_dir = webdir;
    o.session_idle_s = idle_s;
    lia_error_clear(&e);
    if (lia_http_start(&o, &h, &e)) {
        fprintf(stderr, "server: %s\n", e.reason);
        return NULL;
    }
    *port = lia_http_port(h);
    return h;
}

/* Log in as user; the "Cookie: ..." header line and the CSRF token. */
static void login(uint16_t port, const char *user, char cookie[128], char csrf[64])
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char body[200], sc[300];
    hc_resp r;
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"" PASSWORD "\"}", user);
    assert_int_equal(req(port, "POST", "/console/login", json, body, &r), 200);
    hc_header(&r, "Set-Cookie", sc, sizeof sc);
    char *semi = strchr(sc, ';');
    assert_non_null(semi);
    *semi = '\0';
    snprintf(cookie, 128, "Cookie: %.100s", sc);
    assert_non_null(r.json);
    snprintf(csrf, 64, "%s", json_string_value(json_object_get(r.json, "csrf")));
    assert_int_equal(strlen(csrf), 43);
    hc_free(&r);
}

static void test_login(void **state)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    uint16_t port;
    lia_http *h = start(0, &port);
    hc_resp r;
    char sc[300];
    (void)state;
    assert_non_null(h);
    /* a wrong password: 401, no cookie */
    assert_int_equal(
        req(port, "POST", "/console/login", json, "{\"user\":\"ana\",\"password\":\"wrong password!\"}", &r),
        401);
    assert_string_equal(hc_header(&r, "Set-Cookie", sc, sizeof sc), "");
    hc_free(&r);
    /* an unknown user: the same */
    assert_int_equal(
        req(port, "POST", "/console/login", json, "{\"user\":\"nobody\",\"password\":\"x\"}", &r), 401);
    hc_free(&r);
    /* a form post (what a cross-site page can send without asking): refused */
    assert_int_equal(req(port, "POST", "/console/login", form, "user=ana&password=x", &r), 415);
    hc_free(&r);
    /* the right password: the cookie's attributes */
    assert_int_equal(
        req(port, "POST", "/console/login", json, "{\"user\":\"ana\",\"password\":\"" PASSWORD "\"}", &r),
        200);
    hc_header(&r, "Set-Cookie", sc, sizeof sc);
    assert_non_null(strstr(sc, "liaison_session="));
    assert_non_null(strstr(sc, "HttpOnly"));
    assert_non_null(strstr(sc, "SameSite=Strict"));
    assert_non_null(strstr(sc, "Path=/"));
    assert_null(strstr(sc, "Secure")); /* plain HTTP here */
    assert_string_equal(json_string_value(json_object_get(r.json, "role")), "analyst");
    hc_free(&r);
    lia_http_stop(h);
}

static void test_session_and_csrf(void **state)
{
    uint16_t port;
    lia_http *h = start(0, &port);
    char cookie[128], csrf[64], tok[100], bad[100];
    hc_resp r;
    (void)state;
    assert_non_null(h);
    login(port, "ana", cookie, csrf);
    snprintf(tok, sizeof tok, "X-CSRF-Token: %s", csrf);
    /* the token with its last character changed: same length, never equal */
    snprintf(bad, sizeof bad, "X-CSRF-Token: %s", csrf);
    char *last = bad + strlen(bad) - 1;
    *last = *last == 'A' ? 'B' : 'A';
    const char *const c_only[] = {cookie, NULL};
    const char *const c_tok[] = {cookie, tok, NULL};
    const char *const c_bad[] = {cookie, bad, NULL};
    /* without a session: 401 */
    assert_int_equal(req(port, "GET", "/console/session", NULL, NULL, &r), 401);
    hc_free(&r);
    assert_int_equal(req(port, "GET", "/taxii2/", NULL, NULL, &r), 401);
    hc_free(&r);
    /* the session reads the console and other mounts */
    assert_int_equal(req(port, "GET", "/console/session", c_only, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "user")), "ana");
    assert_string_equal(json_string_value(json_object_get(r.json, "csrf")), csrf);
    hc_free(&r);
    assert_int_equal(req(port, "GET", "/console/data/summary", c_only, NULL, &r), 200);
    assert_non_null(json_object_get(r.json, "by_country"));
    assert_int_equal(json_array_size(json_object_get(r.json, "per_day")), 30);
    hc_free(&r);
    const char *const taxii[] = {cookie, "Accept: " HC_TAXII, NULL};
    assert_int_equal(req(port, "GET", "/taxii2/", taxii, NULL, &r), 200);
    hc_free(&r);
    /* a state-changing request by cookie: the CSRF token or 403 */
    assert_int_equal(req(port, "POST", "/taxii2/", c_only, "{}", &r), 403);
    hc_free(&r);
    assert_int_equal(req(port, "POST", "/taxii2/", c_bad, "{}", &r), 403);
    hc_free(&r);
    assert_int_not_equal(req(port, "POST", "/taxii2/", c_tok, "{}", &r), 403); /* past the guard */
    hc_free(&r);
    assert_int_equal(req(port, "POST", "/console/logout", c_only, NULL, &r), 403);
    hc_free(&r);
    assert_int_equal(req(port, "POST", "/console/logout", c_bad, NULL, &r), 403);
    hc_free(&r);
    /* log-out: the cookie is cleared and the session is gone */
    assert_int_equal(req(port, "POST", "/console/logout", c_tok, NULL, &r), 200);
    char sc[300];
    hc_header(&r, "Set-Cookie", sc, sizeof sc);
    assert_non_null(strstr(sc, "Max-Age=0"));
    hc_free(&r);
    assert_int_equal(req(port, "GET", "/console/session", c_only, NULL, &r), 401);
    hc_free(&r);
    assert_int_equal(req(port, "GET", "/taxii2/", taxii, NULL, &r), 401);
    hc_free(&r);
    /* a made-up session id */
    const char *const fake[] = {"Cookie: liaison_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
    assert_int_equal(req(port, "GET", "/console/session", fake, NULL, &r), 401);
    hc_free(&r);
    lia_http_stop(h);
}

/* Rows of the session table. */
static int64_t sessions_stored(void)
{
    lia_store *s;
    lia_stmt *st = NULL;
    lia_error e;
    int64_t n = -1;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    assert_int_equal(
        lia__db_prepare(lia__store_db(s), "count", "SELECT count(*) FROM console_sessions", &st, &e), LIA_OK);
    if (lia__db_step(st, &e) == LIA_DB_ROW)
        n = lia__db_col_int64(st, 0);
    lia__db_done(st);
    lia_store_close(s);
    return n;
}

static void test_expiry(void **state)
{
    uint16_t port;
    lia_http *h = start(1, &port); /* idle expiry: 1 s */
    char cookie[128], csrf[64];
    hc_resp r;
    (void)state;
    assert_non_null(h);
    login(port, "ana", cookie, csrf);
    const char *const c_only[] = {cookie, NULL};
    sleep(3); /* well past the idle expiry */
    assert_int_equal(req(port, "GET", "/console/session", c_only, NULL, &r), 401);
    hc_free(&r);
    /* sessions never presented again do not pile up: two more expire
     * unused, and the next log-in leaves only its own */
    login(port, "ana", cookie, csrf);
    login(port, "ana", cookie, csrf);
    sleep(3);
    login(port, "ana", cookie, csrf);
    lia_http_stop(h);
    assert_int_equal(sessions_stored(), 1);
}

static void test_partner(void **state)
{
    uint16_t port;
    lia_http *h = start(0, &port);
    char cookie[128], csrf[64];
    hc_resp r;
    (void)state;
    assert_non_null(h);
    login(port, "pat", cookie, csrf);
    const char *const c_only[] = {cookie, NULL};
    assert_int_equal(req(port, "GET", "/console/session", c_only, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "org_kind")), "partner");
    hc_free(&r);
    /* the own team's dashboard is not the partner's */
    assert_int_equal(req(port, "GET", "/console/data/summary", c_only, NULL, &r), 403);
    assert_null(json_object_get(r.json, "by_country"));
    hc_free(&r);
    lia_http_stop(h);
}

static void test_assets(void **state)
{
    uint16_t port;
    lia_http *h = start(0, &port);
    hc_resp r;
    char v[400];
    (void)state;
    assert_non_null(h);
    assert_int_equal(req(port, "GET", "/console/", NULL, NULL, &r), 200);
    assert_string_equal(hc_header(&r, "Content-Type", v, sizeof v), "text/html; charset=utf-8");
    assert_string_equal(hc_header(&r, "Cache-Control", v, sizeof v), "no-cache");
    hc_header(&r, "Content-Security-Policy", v, sizeof v);
    assert_non_null(strstr(v, "script-src 'self';"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-eval"));
    assert_string_equal(hc_header(&r, "X-Content-Type-Options", v, sizeof v), "nosniff");
    assert_non_null(strstr(lia_buf_cstr(&r.body), "<title>Liaison</title>"));
    hc_free(&r);
    assert_int_equal(req(port, "GET", "/console/assets/app-1a2b.js", NULL, NULL, &r), 200);
    assert_string_equal(hc_header(&r, "Content-Type", v, sizeof v), "text/javascript; charset=utf-8");
    assert_string_equal(hc_header(&r, "Cache-Control", v, sizeof v), "public, max-age=31536000, immutable");
    assert_string_equal(lia_buf_cstr(&r.body), "console.log('app');");
    hc_free(&r);
    /* a page of the application: index.html */
    assert_int_equal(req(port, "GET", "/console/dashboard", NULL, NULL, &r), 200);
    assert_non_null(strstr(lia_buf_cstr(&r.body), "<title>Liaison</title>"));
    hc_free(&r);
    /* a missing file is 404, not the page */
    assert_int_equal(req(port, "GET", "/console/assets/nope.js", NULL, NULL, &r), 404);
    hc_free(&r);
    /* traversal: never the file outside */
    static const char *const bad[] = {"/console/../secret.txt",     "/console/assets/../../secret.txt",
                                      "/console/%2e%2e/secret.txt", "/console/.%2e/secret.txt",
                                      "/console//etc/passwd",       "/console/assets/.hidden.js"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long st = req(port, "GET", bad[i], NULL, NULL, &r);
        assert_true(st == 404 || st == 400);
        assert_null(strstr(lia_buf_cstr(&r.body), "do not serve"));
        hc_free(&r);
    }
    assert_int_equal(req(port, "POST", "/console/index.html", NULL, "x", &r), 405);
    hc_free(&r);
    lia_http_stop(h);
}

/* ---- the dashboard's numbers ---- */

#define DAY_US (86400LL * 1000000)

static const char sum_partners[] =
    "partners:\n"
    "  - id: cert-a\n    name: CERT A\n    countries: [MY]\n    agreement: true\n"
    "    contacts: [soc@cert-a.example]\n"
    "  - id: cert-b\n    name: CERT B\n    countries: [KH]\n    agreement: true\n"
    "    contacts: [soc@cert-b.example]\n";
static const char sum_owners[] = "owners:\n  - id: net-cn\n    name: CN network\n    country: CN\n"
                                 "    cidrs: [192.0.2.0/24]\n    contacts: [noc@net-cn.example]\n";

/* One event line, `days` days before now. */
static void ev_line(FILE *f, const char *ip, const char *cc, int asn, const char *cls, int days,
                    const char *more)
{
    char t[LIA_TIME_TEXT];
    lia_time_format(lia__now_us() - (int64_t)days * DAY_US, t, sizeof t);
    fprintf(f, "{\"source.ip\":\"%s\",\"source.geolocation.cc\":\"%s\",", ip, cc);
    if (asn)
        fprintf(f, "\"source.asn\":%d,", asn);
    fprintf(f, "\"classification.type\":\"%s\",\"time.source\":\"%s\"%s%s}\n", cls, t, more ? "," : "",
            more ? more : "");
}

static int64_t sql_i64(lia_store *s, const char *sql)
{
    lia_stmt *st = NULL;
    lia_error e;
    int64_t n = -1;
    lia_error_clear(&e);
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "test", sql, &st, &e), LIA_OK);
    if (lia__db_step(st, &e) == LIA_DB_ROW)
        n = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return n;
}

static void sql_run(lia_store *s, const char *sql)
{
    lia_error e;
    lia_error_clear(&e);
    if (lia__db_exec(lia__store_db(s), sql, &e))
        fail_msg("%s: %s", sql, e.reason);
}

static int add_group(void *ud, const char *key, uint64_t count)
{
    return json_array_append_new(ud,
                                 json_pack("{s:s, s:I}", "key", key ? key : "", "count", (json_int_t)count));
}

/* got must equal want (both {key, count} lists, in order). */
static void same_list(const char *what, json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
        fail_msg("%s: got %s, want %s", what, g ? g : "null", w ? w : "null");
    }
}

/* The grouping of the store's query API, the reference for the rollups. */
static json_t *grouped(lia_store *s, const char *by, uint64_t limit, int64_t since, int64_t until)
{
    lia_query q;
    lia_error e;
    json_t *a = json_array();
    memset(&q, 0, sizeof q);
    q.since_us = since;
    q.until_us = until;
    lia_error_clear(&e);
    assert_int_equal(lia_store_group(s, &q, by, limit, add_group, a, &e), LIA_OK);
    return a;
}

static json_t *sql_list(lia_store *s, const char *sql)
{
    lia_stmt *st = NULL;
    lia_error e;
    json_t *a = json_array();
    lia_error_clear(&e);
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "test", sql, &st, &e), LIA_OK);
    while (lia__db_step(st, &e) == LIA_DB_ROW)
        add_group(a, lia__db_col_text(st, 0), (uint64_t)lia__db_col_int64(st, 1));
    lia__db_done(st);
    return a;
}

static int count_breach(void *ud, const lia_sla_breach *b)
{
    int64_t *n = ud;
    n[0]++;
    n[strcmp(b->clock, "acknowledge") == 0 ? 1 : 2]++;
    return 0;
}

typedef struct feed_words {
    json_t *list;
} feed_words;

static int health_word(void *ud, const lia_feed_health *h)
{
    feed_words *w = ud;
    const char *word = h->failing ? "FAILING" : h->late ? "LATE" : h->feed->enabled ? "ok" : "disabled";
    return json_array_append_new(w->list, json_pack("{s:s, s:s}", "name", h->feed->name, "health", word));
}

static int count_status(void *ud, const lia_incident *inc)
{
    int64_t *n = ud;
    n[inc->status]++;
    return 0;
}

static void summary_data(void)
{
    lia_store *s;
    lia_error e;
    lia_actor who = {"ana", "cli", NULL};
    lia_ingest_opts io;
    lia_ingest_result res;
    size_t n;
    char path[400];
    int64_t inc[3];
    FILE *f;
    snprintf(path, sizeof path, "%s/events.jsonl", tmpdir);
    assert_non_null(f = fopen(path, "w"));
    ev_line(f, "203.0.113.7", "MY", 64500, "scanner", 0, NULL);
    ev_line(f, "203.0.113.8", "MY", 64500, "scanner", 1, NULL);
    ev_line(f, "203.0.113.9", "MY", 0, "infected-system", 1, NULL);
    ev_line(f, "198.51.100.1", "KH", 64501, "vulnerable-system", 2,
            "\"protocol.application\":\"modbus\",\"extra.sector\":\"ics\",\"extra.product\":\"Acme PLC\"");
    ev_line(
        f, "198.51.100.2", "KH", 64501, "vulnerable-system", 2,
        "\"protocol.application\":\"modbus\",\"extra.sector\":\"ICS\",\"extra.device_vendor\":\"Siemens\","
        "\"extra.device_model\":\"S7-1200\"");
    ev_line(f, "198.51.100.3", "KH", 64502, "vulnerable-system", 3,
            "\"protocol.application\":\"mqtt\",\"extra.sector\":\"iot\"");
    /* an industry from a Shadowserver column: not exposure */
    ev_line(f, "198.51.100.4", "KH", 64502, "vulnerable-system", 3, "\"extra.sector\":\"Communications\"");
    ev_line(f, "192.0.2.5", "CN", 0, "scanner", 5, NULL);
    ev_line(f, "192.0.2.6", "CN", 0, "c2-server", 40, NULL); /* before the 30 days */
    assert_int_equal(fclose(f), 0);
    memset(&io, 0, sizeof io);
    io.format = "jsonl";
    io.path = path;
    io.feed.feed = "test";
    io.feed.tlp = -1;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    if (lia_party_import(s, LIA_PARTY_PARTNER, "yaml", sum_partners, strlen(sum_partners), &n, &e) ||
        lia_party_import(s, LIA_PARTY_OWNER, "yaml", sum_owners, strlen(sum_owners), &n, &e) ||
        lia_route_config_put(s, "home_country: CN\n", 17, &e) || lia_ingest(s, &io, &res, &e))
        fail_msg("setup: %s: %s", e.field, e.reason);
    assert_int_equal(res.report.events, 9);
    {
        static const char *const names[] = {"test", "quiet", "off"};
        for (size_t i = 0; i < 3; i++) {
            lia_feed fd;
            memset(&fd, 0, sizeof fd);
            snprintf(fd.name, sizeof fd.name, "%s", names[i]);
            snprintf(fd.format, sizeof fd.format, "jsonl");
            snprintf(fd.url, sizeof fd.url, "https://feeds.example/%s.jsonl", names[i]);
            fd.interval_s = i == 2 ? 0 : 3600;
            fd.tlp = -1;
            fd.enabled = i != 2;
            fd.last_ok = 1;
            if (i == 1) /* hourly, no success for two days: late */
                fd.created_us = lia__now_us() - 2 * DAY_US;
            assert_int_equal(lia_feeds_add(s, &fd, &e), LIA_OK);
        }
    }
    /* incident 1 (critical) to cert-a (notified 30 days ago: the
     * acknowledge clock is breached) and net-cn (acknowledged); 2 to cert-b
     * (pending); 3 to cert-b, rejected as not an incident */
    {
        const char *r1[] = {"cert-a", "net-cn"}, *r2[] = {"cert-b"};
        lia_incident in;
        lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
        memset(&in, 0, sizeof in);
        in.title = "one";
        in.severity = LIA_SEV_CRITICAL;
        if (lia_incident_create(s, &in, r1, 2, NULL, 0, &who, &inc[0], &e) ||
            lia_incident_create(s, &in, r2, 1, NULL, 0, &who, &inc[1], &e) ||
            lia_incident_create(s, &in, r2, 1, NULL, 0, &who, &inc[2], &e) ||
            lia_handoff_set(s, inc[0], "cert-a", LIA_HO_NOTIFIED, NULL, &who, &e) ||
            lia_handoff_set(s, inc[0], "net-cn", LIA_HO_NOTIFIED, NULL, &who, &e) ||
            lia_handoff_set(s, inc[0], "net-cn", LIA_HO_ACKNOWLEDGED, NULL, &who, &e))
            fail_msg("incidents: %s", e.reason);
        ch.status = LIA_INC_REJECTED;
        if (lia_incident_update(s, inc[2], &ch, &who, &e))
            fail_msg("reject: %s", e.reason);
        sql_run(s, "UPDATE handoff SET notified = notified - 30 * 86400000000 WHERE recipient = 'cert-a'");
    }
    lia_store_close(s);
}

/* Every member of the summary against the reference counts. */
static void check_summary(json_t *j)
{
    lia_store *s;
    lia_error e;
    json_t *want, *x;
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    /* the members the dashboard had: what lia_store_group gives */
    {
        lia_query q;
        uint64_t total = 0;
        memset(&q, 0, sizeof q);
        assert_int_equal(lia_store_count(s, &q, &total, &e), LIA_OK);
        assert_int_equal(total, 9);
        assert_int_equal(json_integer_value(json_object_get(j, "total")), total);
    }
    same_list("by_country", json_object_get(j, "by_country"), want = grouped(s, "cc", 400, 0, 0));
    json_decref(want);
    same_list("top_asn", json_object_get(j, "top_asn"), want = grouped(s, "asn", 10, 0, 0));
    json_decref(want);
    same_list("top_feed", json_object_get(j, "top_feed"), want = grouped(s, "feed", 10, 0, 0));
    json_decref(want);
    same_list("by_class", json_object_get(j, "by_class"), want = grouped(s, "class", 50, 0, 0));
    json_decref(want);
    {
        json_t *days = json_object_get(j, "per_day");
        int64_t end = (lia__now_us() / DAY_US + 1) * DAY_US, seen = 0;
        assert_int_equal(json_array_size(days), 30);
        for (size_t d = 0; d < 30; d++) {
            int64_t since = end - (int64_t)(30 - d) * DAY_US;
            char date[32];
            time_t t = (time_t)(since / 1000000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(date, sizeof date, "%Y-%m-%d", &tm);
            x = json_array_get(days, d);
            assert_string_equal(json_string_value(json_object_get(x, "day")), date);
            want = grouped(s, "class", 50, since, since + DAY_US);
            same_list(date, json_object_get(x, "by_class"), want);
            for (size_t k = 0; k < json_array_size(want); k++)
                seen += json_integer_value(json_object_get(json_array_get(want, k), "count"));
            json_decref(want);
        }
        assert_int_equal(seen, 8); /* all but the event of 40 days ago */
    }
    /* hand-offs: every one, and those to partner CERTs (not net-cn); ties
     * in the states' order */
    want = json_pack("[{s:s, s:i}, {s:s, s:i}, {s:s, s:i}]", "key", "pending", "count", 2, "key", "notified",
                     "count", 1, "key", "acknowledged", "count", 1);
    same_list("handoffs_by_state", json_object_get(j, "handoffs_by_state"), want);
    json_decref(want);
    assert_int_equal(sql_i64(s, "SELECT count(*) FROM handoff"), 4);
    want = json_pack("[{s:s, s:i}, {s:s, s:i}]", "key", "pending", "count", 2, "key", "notified", "count", 1);
    same_list("cross_border_by_state", json_object_get(j, "cross_border_by_state"), want);
    json_decref(want);
    /* SLA: what `liaison sla breaches` lists */
    {
        int64_t n[3] = {0, 0, 0};
        x = json_object_get(j, "sla_breaches");
        assert_int_equal(lia_sla_breaches(s, lia__now_us(), NULL, count_breach, n, &e), LIA_OK);
        assert_int_equal(n[0], 1);
        assert_int_equal(json_integer_value(json_object_get(x, "total")), n[0]);
        assert_int_equal(json_integer_value(json_object_get(x, "ack")), n[1]);
        assert_int_equal(json_integer_value(json_object_get(x, "resolve")), n[2]);
        want = json_pack("[{s:s, s:i}]", "key", "cert-a", "count", 1);
        same_list("sla_breaches.by_partner", json_object_get(x, "by_partner"), want);
        json_decref(want);
    }
    /* routed events per partner, counted in the decisions */
    want = sql_list(s, "SELECT substr(recipient, 9), count(*) AS n FROM route_decision WHERE verdict = 1"
                       " AND recipient LIKE 'partner:%' GROUP BY recipient ORDER BY n DESC, recipient");
    assert_int_equal(json_array_size(want), 2);
    same_list("top_partner", json_object_get(j, "top_partner"), want);
    json_decref(want);
    /* exposure: extra.sector iot / ics, whatever the case */
    x = json_object_get(j, "exposure");
    assert_int_equal(json_array_size(x), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(x, 0), "sector")), "iot");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(x, 0), "total")),
        sql_i64(s, lia__db_is_pg(lia__store_db(s))
                       ? "SELECT count(*) FROM events WHERE lower(body::jsonb->>'extra.sector') = 'iot'"
                       : "SELECT count(*) FROM events WHERE lower(json_extract(body, '$.\"extra.sector\"'))"
                         " = 'iot'"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(x, 1), "total")), 2);
    want = json_pack("[{s:s, s:i}]", "key", "modbus", "count", 2);
    same_list("ics by_protocol", json_object_get(json_array_get(x, 1), "by_protocol"), want);
    json_decref(want);
    want = json_pack("[{s:s, s:i}, {s:s, s:i}]", "key", "Acme PLC", "count", 1, "key", "Siemens S7-1200",
                     "count", 1);
    same_list("ics by_product", json_object_get(json_array_get(x, 1), "by_product"), want);
    json_decref(want);
    want = json_pack("[{s:s, s:i}]", "key", "mqtt", "count", 1);
    same_list("iot by_protocol", json_object_get(json_array_get(x, 0), "by_protocol"), want);
    json_decref(want);
    /* feeds: the health words of lia_feeds_health; all 9 events ingested now */
    {
        feed_words w = {json_array()};
        json_t *got = json_object_get(j, "feeds");
        assert_int_equal(lia_feeds_health(s, 0, health_word, &w, &e), LIA_OK);
        assert_int_equal(json_array_size(got), 3);
        for (size_t i = 0; i < 3; i++) {
            json_t *g = json_array_get(got, i), *h = json_array_get(w.list, i);
            const char *name = json_string_value(json_object_get(h, "name"));
            assert_string_equal(json_string_value(json_object_get(g, "name")), name);
            assert_string_equal(json_string_value(json_object_get(g, "health")),
                                json_string_value(json_object_get(h, "health")));
            assert_true(json_is_null(json_object_get(g, "last_ok")));
            assert_int_equal(json_integer_value(json_object_get(g, "events_24h")),
                             strcmp(name, "test") ? 0 : 9);
            assert_int_equal(json_integer_value(json_object_get(g, "events_7d")),
                             strcmp(name, "test") ? 0 : 9);
            if (!strcmp(name, "quiet"))
                assert_string_equal(json_string_value(json_object_get(g, "health")), "LATE");
        }
        json_decref(w.list);
    }
    /* incidents: lia_incident_list's view */
    {
        int64_t st[LIA_INC__COUNT] = {0};
        int64_t open = 0;
        assert_int_equal(lia_incident_list(s, NULL, count_status, st, &e), LIA_OK);
        assert_int_equal(st[LIA_INC_REJECTED], 1);
        for (int i = 0; i < LIA_INC__COUNT; i++)
            if (i != LIA_INC_CLOSED && i != LIA_INC_REJECTED && i != LIA_INC_DUPLICATE && i != LIA_INC_MERGED)
                open += st[i];
        x = json_object_get(j, "incidents");
        assert_int_equal(open, 2);
        assert_int_equal(json_integer_value(json_object_get(x, "open")), open);
        /* by count, then in the statuses' order */
        want = json_array();
        for (int64_t c = 3; c > 0; c--)
            for (int i = 0; i < LIA_INC__COUNT; i++)
                if (st[i] == c)
                    add_group(want, lia_incident_status_name((lia_incident_status)i), (uint64_t)c);
        same_list("incidents.by_status", json_object_get(x, "by_status"), want);
        json_decref(want);
    }
    lia_store_close(s);
}

static void test_summary(void **state)
{
    uint16_t port;
    lia_http *h;
    char cookie[128], csrf[64];
    hc_resp r;
    lia_store *s;
    lia_error e;
    (void)state;
    summary_data();
    assert_non_null(h = start(0, &port));
    login(port, "ana", cookie, csrf);
    const char *const c_only[] = {cookie, NULL};
    assert_int_equal(req(port, "GET", "/console/data/summary?days=30&top=10", c_only, NULL, &r), 200);
    assert_non_null(r.json);
    check_summary(r.json);
    hc_free(&r);
    /* notify withholds one event routed to a partner: off its count */
    {
        int64_t ev = -1, before, after;
        lia_error_clear(&e);
        assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
        ev = sql_i64(
            s, "SELECT min(event_id) FROM route_decision WHERE verdict = 1 AND recipient = 'partner:cert-b'");
        before = sql_i64(s, "SELECT n FROM route_delivered WHERE recipient = 'partner:cert-b'");
        assert_true(ev > 0 && before > 0);
        assert_int_equal(lia__route_withhold(s, "partner:cert-b", &ev, 1, "test: withheld", &e), LIA_OK);
        assert_int_equal(lia__route_withhold(s, "partner:cert-b", &ev, 1, "test: again", &e), LIA_OK);
        after = sql_i64(s, "SELECT n FROM route_delivered WHERE recipient = 'partner:cert-b'");
        assert_int_equal(after, before - 1);
        lia_store_close(s);
    }
    assert_int_equal(req(port, "GET", "/console/data/summary?days=30&top=10", c_only, NULL, &r), 200);
    check_summary(r.json);
    hc_free(&r);
    lia_http_stop(h);
    /* a store from before the rollups: the upgrade builds them from what
     * is stored, and the numbers are the same */
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(dbpath, &s, &e), LIA_OK);
    sql_run(s, "DROP TABLE events_by_day; DROP TABLE events_by_cc; DROP TABLE events_by_asn;"
               "DROP TABLE events_by_report; DROP TABLE events_exposure; DROP TABLE route_delivered;"
               "DELETE FROM lia_schema WHERE module = 'store.rollup';"
               "UPDATE lia_schema SET version = 1 WHERE module = 'route';");
    lia_store_close(s);
    assert_non_null(h = start(0, &port));
    login(port, "ana", cookie, csrf);
    const char *const c2[] = {cookie, NULL};
    assert_int_equal(req(port, "GET", "/console/data/summary?days=30&top=10", c2, NULL, &r), 200);
    check_summary(r.json);
    hc_free(&r);
    lia_http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),  cmocka_unit_test(test_session_and_csrf),
        cmocka_unit_test(test_expiry), cmocka_unit_test(test_partner),
        cmocka_unit_test(test_assets), cmocka_unit_test(test_summary),
    };
    return (lia_test_pg() ? cmocka_run_group_tests_name("console on PostgreSQL", tests, setup, teardown)
                          : cmocka_run_group_tests_name("console", tests, setup, teardown));
}
