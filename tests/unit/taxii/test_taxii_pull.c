/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TAXII pull client against a misbehaving server (a libmicrohttpd
 * server on 127.0.0.1 in the test): a server that answers the page of a
 * next token with that same token again (more: true) must not keep the
 * client asking for ever; the pages before are stored and the run stops
 * with an error that names the token. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"

#include "liaison/liaison.h"
#include "liaison/taxii.h"

static struct {
    struct MHD_Daemon *d;
    unsigned port;
    pthread_mutex_t mu;
    int hits;
} srv;
static char tmpdir[64];
static lia_store *store;

/* Page n holds one indicator of its own (so no two pages have the same
 * bytes) and always says: more, next "stuck". */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **ctx)
{
    char body[1024];
    struct MHD_Response *r;
    enum MHD_Result ret;
    int n;
    (void)cls;
    (void)version;
    (void)data;
    (void)size;
    if (!*ctx) { /* queue on the second call (keep-alive) */
        *ctx = &srv;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 || strcmp(url, "/api1/collections/c1/objects/") != 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, 404, r);
        MHD_destroy_response(r);
        return ret;
    }
    pthread_mutex_lock(&srv.mu);
    n = ++srv.hits;
    pthread_mutex_unlock(&srv.mu);
    snprintf(
        body, sizeof body,
        "{\"more\":true,\"next\":\"stuck\",\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--00000000-0000-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\","
        "\"modified\":\"2026-01-01T00:00:00.000Z\",\"valid_from\":\"2026-01-01T00:00:00Z\","
        "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '192.0.2.%d']\"}]}",
        n, n);
    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/taxii+json;version=2.1");
    MHD_add_response_header(r, "X-TAXII-Date-Added-Last", "2026-01-01T00:00:00.000Z");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static int setup(void **state)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    char db[256];
    lia_error err;
    (void)state;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_mutex_init(&srv.mu, NULL);
    srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!srv.d || !(info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT)) || !info->port)
        return -1;
    srv.port = info->port;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/liaison-pull-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "s", db, sizeof db))
        return -1;
    lia_error_clear(&err);
    return lia_store_open(db, &store, &err) == LIA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    lia_store_close(store);
    MHD_stop_daemon(srv.d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_same_next_token_stops(void **state)
{
    char url[64];
    lia_taxii_pull_opts o;
    lia_taxii_pull_result res;
    lia_error err;
    (void)state;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api1/", srv.port);
    memset(&o, 0, sizeof o);
    o.url = url;
    o.collection = "c1";
    o.token = "t";
    o.default_tlp = -1;
    memset(&res, 0, sizeof res);
    lia_error_clear(&err);
    /* page 1 (no token) says next "stuck"; page 2 (next=stuck) says "stuck" again */
    assert_int_equal(lia_taxii_pull(store, &o, &res, &err), LIA_EPARSE);
    if (!strstr(err.reason, "same token again"))
        fail_msg("reason \"%s\"", err.reason);
    assert_string_equal(err.value, "stuck");
    assert_int_equal(srv.hits, 2);
    assert_int_equal(res.pages, 2);
    assert_int_equal(res.events, 2); /* both pages are stored */
    /* the next run resumes at the stored token, and stops at once again */
    memset(&res, 0, sizeof res);
    assert_int_equal(lia_taxii_pull(store, &o, &res, &err), LIA_EPARSE);
    assert_int_equal(res.resumed, 1);
    assert_int_equal(srv.hits, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_next_token_stops, setup, teardown),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("taxii pull on PostgreSQL", tests, NULL, NULL);
    return cmocka_run_group_tests_name("taxii pull", tests, NULL, NULL);
}
