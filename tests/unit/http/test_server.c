/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The handler table of the HTTP server (src/http/handler.h), with handlers
 * of the test's own on a server on 127.0.0.1: routing by the longest
 * prefix at a segment boundary, authentication required or not, the
 * store handle, per-handler body limits, errors in the handler's dialect
 * or as problem details, response headers, query parameters, and what
 * registration refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"
#include "../../security/http_client.h"
#include "http/handler.h"
#include "liaison/accounts.h"

static char tmpdir[256], dbpath[300], auth_key[128];
static lia_http *srv;
static uint16_t port;

typedef struct app {
    const char *name;
    int calls, stores_prepared, had_store, had_who;
    char last_path[256], last_args[256];
    size_t last_body;
} app;

static app app_root = {.name = "root"}, app_api = {.name = "api"}, app_dialect = {.name = "dialect"};

static void echo(void *ud, lia__req *r)
{
    app *a = ud;
    a->calls++;
    a->had_store = r->store != NULL;
    a->had_who = r->who.user_id != 0;
    a->last_body = r->body_len;
    snprintf(a->last_path, sizeof a->last_path, "%s", r->path);
    a->last_args[0] = '\0';
    for (size_t i = 0; i < r->nargs; i++) {
        size_t l = strlen(a->last_args);
        snprintf(a->last_args + l, sizeof a->last_args - l, "%s%s=%s", i ? "&" : "", r->args[i].name.ptr,
                 r->args[i].value.ptr);
    }
    lia_buf_printf(&r->out, "{\"app\":\"%s\"}", a->name);
    lia__req_add_header(r, "X-App", a->name);
    r->status = 200;
}

static void dialect_error(lia__req *r, int status, const char *title, const char *detail)
{
    (void)detail;
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "application/x-dialect+json";
    lia_buf_printf(&r->out, "{\"dialect\":%d,\"title\":\"%s\"}", status, title);
}

static int prepare(void *ud, lia_store *s, lia_error *err)
{
    app *a = ud;
    (void)err;
    if (!s)
        return LIA_EINVAL;
    a->stores_prepared++;
    return LIA_OK;
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    char tok[LIA_KEY_TOKEN_MAX];
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-httpsrv-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "l", dbpath, sizeof dbpath))
        return -1;
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, NULL, NULL, &e) ||
        lia_accounts_key_add(s, "ana", 0, 0, tok, NULL, &e)) {
        fprintf(stderr, "setup: %s\n", e.reason);
        return -1;
    }
    lia_store_close(s);
    snprintf(auth_key, sizeof auth_key, "Bearer %s", tok);

    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.max_body = 1024;
    o.rate = o.burst = 10000;
    const lia__http_handler hs[] = {
        {.name = "root", .prefix = "/", .handle = echo, .ud = &app_root},
        {.name = "api",
         .prefix = "/api/v1",
         .auth = LIA__HTTP_AUTH_REQUIRED,
         .store = 1,
         .max_body = 16,
         .handle = echo,
         .store_init = prepare,
         .ud = &app_api},
        {.name = "dialect",
         .prefix = "/dialect",
         .max_body = 8,
         .handle = echo,
         .error = dialect_error,
         .ud = &app_dialect},
    };
    if (lia__http_create(&o, &srv, &e))
        return -1;
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (lia__http_register(srv, &hs[i], &e)) {
            fprintf(stderr, "register %s: %s\n", hs[i].name, e.reason);
            return -1;
        }
    if (lia__http_listen(srv, &e)) {
        fprintf(stderr, "listen: %s\n", e.reason);
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
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *app_of(const hc_resp *r)
{
    return json_string_value(json_object_get(r->json, "app"));
}

static void test_routing(void **state)
{
    static const struct {
        const char *path, *app;
    } cases[] = {
        {"/", "root"},
        {"/taxii2/", "root"},
        {"/api", "root"},
        {"/api/v1x", "root"}, /* not at a segment boundary */
        {"/api/v1", "api"},
        {"/api/v1/", "api"},
        {"/api/v1/events/7", "api"},
        {"/dialect/a", "dialect"},
        {"/health/x", NULL}, /* the server's own /health: 404 below it */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hc_resp r;
        long st = hc_request(port, "GET", cases[i].path, auth_key, NULL, &r);
        const char *got = st == 200 ? app_of(&r) : NULL;
        if ((got == NULL) != (cases[i].app == NULL) || (got && strcmp(got, cases[i].app) != 0))
            fail_msg("%s: status %ld, app %s, want %s", cases[i].path, st, got ? got : "-",
                     cases[i].app ? cases[i].app : "404");
        hc_free(&r);
    }
    hc_resp r;
    assert_int_equal(hc_request(port, "GET", "/health", NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    hc_free(&r);
    /* the path as the handler sees it, and the decoded query parameters */
    assert_int_equal(hc_request(port, "GET", "/api/v1/a%20b?x=1&y=%41+B&z", auth_key, NULL, &r), 200);
    assert_string_equal(app_api.last_path, "/api/v1/a b");
    assert_string_equal(app_api.last_args, "x=1&y=A B&z=");
    hc_free(&r);
}

static void test_auth_and_store(void **state)
{
    hc_resp r;
    int calls = app_api.calls;
    (void)state;
    /* the store hook ran for every handle of the pool (threads + 1) */
    assert_int_equal(app_api.stores_prepared, 3);
    assert_int_equal(app_root.stores_prepared, 0);
    /* required: no credentials or wrong ones never reach the handler */
    assert_int_equal(hc_request(port, "GET", "/api/v1/x", NULL, NULL, &r), 401);
    assert_non_null(r.json);
    assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 401);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "about:blank");
    hc_free(&r);
    assert_int_equal(hc_request(port, "GET", "/api/v1/x", "Bearer lia_nope", NULL, &r), 401);
    hc_free(&r);
    assert_int_equal(app_api.calls, calls);
    assert_int_equal(hc_request(port, "GET", "/api/v1/x", auth_key, NULL, &r), 200);
    hc_free(&r);
    assert_int_equal(app_api.calls, calls + 1);
    assert_true(app_api.had_store);
    assert_true(app_api.had_who);
    /* not required: no credentials read, no store borrowed */
    assert_int_equal(hc_request(port, "GET", "/other", "Bearer lia_nope", NULL, &r), 200);
    hc_free(&r);
    assert_false(app_root.had_store);
    assert_false(app_root.had_who);
}

static void test_body_limits(void **state)
{
    char raw[2048], out[8192];
    hc_resp r;
    (void)state;
    /* each handler's limit: 16 bytes under /api/v1, the server's 1024 at / */
    assert_int_equal(hc_request(port, "POST", "/api/v1/x", auth_key, "0123456789abcdef", &r), 200);
    assert_int_equal(app_api.last_body, 16);
    hc_free(&r);
    assert_int_equal(hc_request(port, "POST", "/api/v1/x", auth_key, "0123456789abcdefg", &r), 413);
    assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 413);
    hc_free(&r);
    assert_int_equal(hc_request(port, "POST", "/x", NULL, "0123456789abcdefg", &r), 200);
    assert_int_equal(app_root.last_body, 17);
    hc_free(&r);
    /* chunked over the limit: 413 at the end */
    snprintf(raw, sizeof raw,
             "POST /api/v1/x HTTP/1.1\r\nHost: a\r\nAuthorization: %s\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n10\r\n0123456789abcdef\r\n4\r\nwxyz\r\n0\r\n\r\n",
             auth_key);
    hc_raw(port, raw, strlen(raw), out, sizeof out, 3000);
    if (strncmp(out, "HTTP/1.1 413", 12) != 0)
        fail_msg("chunked 20 bytes over a 16-byte limit: %.60s", out);
    /* the handler's dialect for errors the server answers: 413 ... */
    assert_int_equal(hc_request(port, "POST", "/dialect/x", NULL, "123456789", &r), 413);
    assert_int_equal(json_integer_value(json_object_get(r.json, "dialect")), 413);
    hc_free(&r);
    /* ... and a framing error (two Content-Length) */
    snprintf(raw, sizeof raw,
             "POST /dialect/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
    hc_raw(port, raw, strlen(raw), out, sizeof out, 3000);
    if (strncmp(out, "HTTP/1.1 400", 12) != 0 || !strstr(out, "application/x-dialect+json") ||
        !strstr(out, "\"dialect\":400"))
        fail_msg("framing error under /dialect: %.300s", out);
    /* response headers a handler added */
    snprintf(raw, sizeof raw, "GET /dialect/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    hc_raw(port, raw, strlen(raw), out, sizeof out, 3000);
    if (!strstr(out, "X-App: dialect"))
        fail_msg("no X-App header: %.300s", out);
}

static void test_register(void **state)
{
    lia_http *h;
    lia_error e;
    lia_http_opts o;
    (void)state;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    lia_error_clear(&e);
    assert_int_equal(lia__http_create(&o, &h, &e), LIA_OK);
    static const struct {
        const char *prefix;
        int rc;
    } cases[] = {
        {"/a", LIA_OK},      {"/a", LIA_EEXIST}, {"/health", LIA_EEXIST}, {"a", LIA_EINVAL},
        {"/a/", LIA_EINVAL}, {"", LIA_EINVAL},   {NULL, LIA_EINVAL},      {"/a/b", LIA_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia__http_handler hd = {.name = "t", .prefix = cases[i].prefix, .handle = echo, .ud = &app_root};
        int rc = lia__http_register(h, &hd, &e);
        if (rc != cases[i].rc)
            fail_msg("prefix %s: %d, want %d", cases[i].prefix ? cases[i].prefix : "(null)", rc, cases[i].rc);
    }
    lia__http_handler none = {.name = "t", .prefix = "/b"};
    assert_int_equal(lia__http_register(h, &none, &e), LIA_EINVAL);
    int rc = LIA_OK;
    static char names[LIA__HTTP_MAX_HANDLERS][16]; /* registered strings outlive the server */
    for (int i = 0; i < LIA__HTTP_MAX_HANDLERS && rc == LIA_OK; i++) {
        snprintf(names[i], sizeof names[i], "/n%d", i);
        lia__http_handler hd = {.name = "t", .prefix = names[i], .handle = echo};
        rc = lia__http_register(h, &hd, &e);
    }
    assert_int_equal(rc, LIA_ELIMIT);
    lia_http_stop(h);
    /* no handler for a path: 404 as problem details */
    assert_int_equal(lia__http_create(&o, &h, &e), LIA_OK);
    assert_int_equal(lia__http_listen(h, &e), LIA_OK);
    lia__http_handler late = {.name = "t", .prefix = "/late", .handle = echo};
    assert_int_equal(lia__http_register(h, &late, &e), LIA_EINVAL);
    hc_resp r;
    assert_int_equal(hc_request(lia_http_port(h), "GET", "/taxii2/", NULL, NULL, &r), 404);
    assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 404);
    hc_free(&r);
    lia_http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_auth_and_store),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_register),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = lia_test_pg() ? cmocka_run_group_tests_name("http server on PostgreSQL", tests, setup, teardown)
                           : cmocka_run_group_tests_name("http server", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
