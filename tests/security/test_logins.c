/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Wrong passwords (issue 16): HTTP Basic logins are throttled per user and
 * address, per address and per user (429 with Retry-After, logged, no
 * password checked while throttled); a right password from another
 * address still gets in; an unknown user costs the same argon2id
 * verification as a known one and gets the same answer. Against a server
 * on 127.0.0.1 with a handler of the test's own, clients bound to other
 * loopback addresses (127.0.0.2, ...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../pg/pg_test.h"
#include <sodium.h>

#include "accounts/internal.h"
#include "http/handler.h"
#include "http_client.h"
#include "liaison/accounts.h"
#include "liaison/limits.h"

#define PASSWORD "correct horse battery staple"

static char tmpdir[256], dbpath[300], logpath[300];
static lia_http *srv;
static uint16_t port;
static FILE *access_log;

static void hello(void *ud, lia__req *r)
{
    (void)ud;
    lia_buf_printf(&r->out, "{\"user\":\"%s\"}", r->who.user);
    r->status = 200;
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-logins-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "l", dbpath, sizeof dbpath))
        return -1;
    snprintf(logpath, sizeof logpath, "%s/access.log", tmpdir);
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e) ||
        lia_accounts_org_add(s, "own", LIA_ORG_OWN, LIA_TLP_RED, NULL, &e) ||
        lia_accounts_user_add(s, "own", "ana", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "own", "bob", LIA_ROLE_ANALYST, PASSWORD, NULL, &e) ||
        lia_accounts_user_add(s, "own", "nopw", LIA_ROLE_ANALYST, NULL, NULL, &e)) {
        fprintf(stderr, "setup: %s\n", e.reason);
        return -1;
    }
    lia_store_close(s);
    if (!(access_log = fopen(logpath, "w+")))
        return -1;
    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.rate = o.burst = 10000;
    o.access_log = access_log;
    static const lia__http_handler hd = {
        .name = "hello", .prefix = "/hello", .auth = LIA__HTTP_AUTH_REQUIRED, .store = 1, .handle = hello};
    if (lia__http_create(&o, &srv, &e) || lia__http_register(srv, &hd, &e) || lia__http_listen(srv, &e)) {
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
    fclose(access_log);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void basic(char *out, size_t n, const char *user, const char *pw)
{
    char up[200], b64[300];
    snprintf(up, sizeof up, "%s:%s", user, pw);
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)up, strlen(up), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "Basic %s", b64);
}

/* GET /hello as user/pw from address from; the status; the Retry-After
 * value into ra (if not NULL) and the body into body (if not NULL). */
static long login(const char *from, const char *user, const char *pw, char *ra, char *body, size_t bodyn)
{
    char a[400], v[32];
    hc_resp r;
    basic(a, sizeof a, user, pw);
    long st = hc_request_from(from, port, "GET", "/hello", a, NULL, &r);
    if (ra)
        snprintf(ra, 16, "%s", hc_header(&r, "Retry-After", v, sizeof v));
    if (body)
        snprintf(body, bodyn, "%s", lia_buf_cstr(&r.body));
    hc_free(&r);
    return st;
}

static void test_wrong_passwords_throttled(void **state)
{
    char ra[16];
    (void)state;
    assert_int_equal(login("127.0.0.2", "ana", PASSWORD, NULL, NULL, 0), 200);
    for (int i = 0; i < LIA_HTTP_LOGIN_FREE; i++)
        if (login("127.0.0.2", "ana", "wrong password!", NULL, NULL, 0) != 401)
            fail_msg("wrong password %d: not 401", i + 1);
    /* from the LIA_HTTP_LOGIN_FREE-th failure on: 429, no password checked,
     * not even the right one, from that address */
    unsigned long long checks = lia__accounts_password_checks();
    assert_int_equal(login("127.0.0.2", "ana", "wrong password!", ra, NULL, 0), 429);
    assert_true(strtol(ra, NULL, 10) >= 1);
    assert_int_equal(login("127.0.0.2", "ana", PASSWORD, ra, NULL, 0), 429);
    assert_true(strtol(ra, NULL, 10) >= 1);
    assert_int_equal(lia__accounts_password_checks(), checks);
    /* another user from that address, and the right password from another
     * address, still get in */
    assert_int_equal(login("127.0.0.2", "bob", PASSWORD, NULL, NULL, 0), 200);
    assert_int_equal(login("127.0.0.3", "ana", PASSWORD, NULL, NULL, 0), 200);
    /* logged, with the reason */
    char line[4096];
    int seen = 0;
    fflush(access_log);
    rewind(access_log);
    while (fgets(line, sizeof line, access_log))
        if (strstr(line, "127.0.0.2") && strstr(line, "\" 429 ") &&
            strstr(line, "denied=\"429 user ana from 127.0.0.2: too many wrong passwords"))
            seen++;
    fseek(access_log, 0, SEEK_END);
    assert_int_equal(seen, 2);
}

static void test_address_throttled(void **state)
{
    char user[32];
    (void)state;
    /* one wrong password for each of many user names from one address:
     * the address's own record throttles it, whoever it tries */
    for (int i = 0; i < LIA_HTTP_LOGIN_FREE_ADDR; i++) {
        snprintf(user, sizeof user, "guess%d", i);
        if (login("127.0.0.4", user, "wrong password!", NULL, NULL, 0) != 401)
            fail_msg("guess %d: not 401", i);
    }
    assert_int_equal(login("127.0.0.4", "ana", PASSWORD, NULL, NULL, 0), 429);
    assert_int_equal(login("127.0.0.5", "ana", PASSWORD, NULL, NULL, 0), 200);
}

static void test_unknown_user_same_path(void **state)
{
    static const char *const users[] = {"ana", "no-such-user", "nopw"};
    char body[3][1024];
    (void)state;
    /* each from an address of its own, so no throttle gets in the way */
    for (size_t i = 0; i < 3; i++) {
        char from[32];
        unsigned long long before = lia__accounts_password_checks();
        snprintf(from, sizeof from, "127.0.1.%zu", i + 1);
        assert_int_equal(login(from, users[i], "wrong password!", NULL, body[i], sizeof body[i]), 401);
        /* one argon2id verification, whether the user exists or not */
        if (lia__accounts_password_checks() != before + 1)
            fail_msg("%s: %llu password checks, want 1", users[i], lia__accounts_password_checks() - before);
    }
    /* and the same answer */
    assert_string_equal(body[0], body[1]);
    assert_string_equal(body[0], body[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_passwords_throttled),
        cmocka_unit_test(test_address_throttled),
        cmocka_unit_test(test_unknown_user_same_path),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = (lia_test_pg() ? cmocka_run_group_tests_name("logins on PostgreSQL", tests, setup, teardown)
                            : cmocka_run_group_tests_name("logins", tests, setup, teardown));
    curl_global_cleanup();
    return rc;
}
