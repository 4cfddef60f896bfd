/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The console's log-in and sessions (issue 11), against `liaison serve`'s
 * mounts on 127.0.0.1: a log-in sets an HttpOnly, SameSite=Strict session
 * cookie and returns the CSRF token; a wrong password is 401 and sets
 * nothing; the session authenticates on other mounts (TAXII here) and a
 * state-changing request without the session's CSRF token is 403 there
 * and on log-out; an idle session expires; log-out ends the session;
 * a partner's session cannot read the own team's dashboard; the assets
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

#include "http_client.h"
#include "liaison/accounts.h"
#include "liaison/limits.h"
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
    snprintf(dbpath, sizeof dbpath, "%s/c.db", tmpdir);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),  cmocka_unit_test(test_session_and_csrf),
        cmocka_unit_test(test_expiry), cmocka_unit_test(test_partner),
        cmocka_unit_test(test_assets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
