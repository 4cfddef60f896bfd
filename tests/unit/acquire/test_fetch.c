/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the feed registry, lia_fetch_feed and lia_feeds_health
 * (src/acquire/registry.c, fetch.c, health.c).
 *
 * A real HTTP server (libmicrohttpd, 127.0.0.1, a free port, one thread per
 * connection) started and stopped by the test serves: a report with an ETag
 * (200, then 304 to a conditional GET), a 500 that never heals, one that
 * heals on the third try, a body over the size cap, a slow answer (timeout)
 * and a 404; a second one speaks TLS with a self-signed certificate (made
 * for this test only) to check that certificates are verified. Drop
 * directories use a temporary directory. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

#include "liaison/liaison.h"
#include "acquire/registry.h"
#include "../../pg/pg_test.h"

static const char drop_v1[] = "; Spamhaus DROP List\n; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\n"
                              "192.0.2.0/24 ; SBL1\n198.51.100.0/24 ; SBL2\n";
static const char drop_v2[] = "; Spamhaus DROP List\n203.0.113.0/24 ; SBL3\nnot-a-network ; SBL4\n";
static const char drop_v3[] = "; flaky\n192.0.2.77/32 ; SBL7\n";

typedef struct server {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    int version; /* which body /drop.txt serves */
    int hits_drop, hits_fail, hits_flaky, hits_404;
    char last_inm[128]; /* If-None-Match seen last on /drop.txt */
} server;

/* Self-signed certificate for 127.0.0.1 (CN and IP SAN) and its key, made for
 * this test only (openssl req -x509 -newkey ec -days 36500). */
static const char test_cert[] = "-----BEGIN CERTIFICATE-----\n"
                                "MIIBkTCCATagAwIBAgIUQPE12n/+jW35VVcZndwnhXLT46gwCgYIKoZIzj0EAwIw\n"
                                "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyODA2NTI0MVoYDzIxMjYxMTA0\n"
                                "MDY1MjQxWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
                                "PQMBBwNCAATEhutuYQnolDeLbDheT8JJXOhmR3CO9+UVOrt+Gl5uIG27HX5NYXa5\n"
                                "9UOsG8cDhfvmb+A6diOhKczgB9ic8knto2QwYjAdBgNVHQ4EFgQUfk4SXawn5wdz\n"
                                "T11KSSKEbGiwJyIwHwYDVR0jBBgwFoAUfk4SXawn5wdzT11KSSKEbGiwJyIwDwYD\n"
                                "VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC\n"
                                "IQCMkVl+r4NflRRJgZY44+oq2mZ4/IRHJTQy8iUrtZ+IPgIhAK7iWqpNh8z8vwOe\n"
                                "8Mrtqd5HVLc9UaMCL+DAku+dpFFs\n"
                                "-----END CERTIFICATE-----\n";
static const char test_key[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMe0tNAOCjA56FkHx\n"
                               "GLhG7iHFCot5CAd5vYrTEsaD0QChRANCAATEhutuYQnolDeLbDheT8JJXOhmR3CO\n"
                               "9+UVOrt+Gl5uIG27HX5NYXa59UOsG8cDhfvmb+A6diOhKczgB9ic8knt\n"
                               "-----END PRIVATE KEY-----\n";

static server srv;
static char tmpdir[128];
static lia_store *store;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body, size_t n,
                             const char *etag)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (etag) {
        MHD_add_response_header(r, "ETag", etag);
        MHD_add_response_header(r, "Last-Modified", "Mon, 14 Sep 2015 04:39:22 GMT");
    }
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **ctx)
{
    static char big[4096];
    server *s = cls;
    (void)version;
    (void)data;
    (void)size;
    (void)ctx;
    if (strcmp(method, "GET") != 0)
        return reply(c, 405, "", 0, NULL);
    if (strcmp(url, "/drop.txt") == 0) {
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        int v;
        char etag[32];
        pthread_mutex_lock(&s->mu);
        s->hits_drop++;
        snprintf(s->last_inm, sizeof s->last_inm, "%s", inm ? inm : "");
        v = s->version;
        pthread_mutex_unlock(&s->mu);
        snprintf(etag, sizeof etag, "\"v%d\"", v);
        if (inm && strcmp(inm, etag) == 0)
            return reply(c, 304, "", 0, etag);
        return v == 1 ? reply(c, 200, drop_v1, strlen(drop_v1), etag)
                      : reply(c, 200, drop_v2, strlen(drop_v2), etag);
    }
    if (strcmp(url, "/fail") == 0) {
        pthread_mutex_lock(&s->mu);
        s->hits_fail++;
        pthread_mutex_unlock(&s->mu);
        return reply(c, 500, "oops", 4, NULL);
    }
    if (strcmp(url, "/flaky") == 0) {
        int n;
        pthread_mutex_lock(&s->mu);
        n = ++s->hits_flaky;
        pthread_mutex_unlock(&s->mu);
        if (n < 3)
            return reply(c, 503, "busy", 4, NULL);
        return reply(c, 200, drop_v3, strlen(drop_v3), NULL);
    }
    if (strcmp(url, "/big") == 0) {
        memset(big, 'x', sizeof big);
        return reply(c, 200, big, sizeof big, NULL);
    }
    if (strcmp(url, "/slow") == 0) {
        usleep(1500 * 1000);
        return reply(c, 200, drop_v1, strlen(drop_v1), NULL);
    }
    pthread_mutex_lock(&s->mu);
    s->hits_404++;
    pthread_mutex_unlock(&s->mu);
    return reply(c, 404, "no", 2, NULL);
}

static int setup(void **state)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    lia_error err;
    char db[256];
    (void)state;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(&srv, 0, sizeof srv);
    pthread_mutex_init(&srv.mu, NULL);
    srv.version = 1;
    srv.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                             handler, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!srv.d)
        return -1;
    info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    srv.port = info->port;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/liaison-fetch-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (lia_test_db_path(tmpdir, "store", db, sizeof db) < 0)
        return -1;
    lia_error_clear(&err);
    return lia_store_open(db, &store, &err) == LIA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    lia_store_close(store);
    MHD_stop_daemon(srv.d);
    pthread_mutex_destroy(&srv.mu);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void add_url_feed(const char *name, const char *path, int64_t interval)
{
    lia_feed f;
    lia_error err;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "%s", name);
    snprintf(f.format, sizeof f.format, "spamhaus-drop");
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%u%s", srv.port, path);
    f.interval_s = interval;
    f.tlp = LIA_TLP_GREEN;
    f.enabled = 1;
    lia_error_clear(&err);
    assert_int_equal(lia_feeds_add(store, &f, &err), LIA_OK);
}

static lia_fetch_opts fast_opts(void)
{
    lia_fetch_opts o;
    memset(&o, 0, sizeof o);
    o.retries = 2;
    o.backoff_ms = 20;
    o.timeout_ms = 5000;
    o.connect_timeout_ms = 2000;
    return o;
}

/* 200, then 304 to the conditional GET, then new content again. */
static void test_conditional_get(void **state)
{
    lia_fetch_opts o = fast_opts();
    lia_fetch_result res;
    lia_error err;
    lia_feed f;
    (void)state;
    add_url_feed("drop", "/drop.txt", 3600);
    lia_error_clear(&err);
    if (lia_fetch_feed(store, "drop", &o, &res, &err) != LIA_OK)
        fail_msg("fetch: %s", err.reason);
    assert_int_equal(res.status, LIA_FETCH_INGESTED);
    assert_int_equal(res.http_code, 200);
    assert_int_equal(res.attempts, 1);
    assert_int_equal(res.events, 2);
    assert_int_equal(res.bytes, strlen(drop_v1));
    assert_int_equal(lia_feeds_get(store, "drop", &f, &err), LIA_OK);
    assert_string_equal(f.etag, "\"v1\"");
    assert_string_equal(f.last_modified, "Mon, 14 Sep 2015 04:39:22 GMT");
    assert_true(f.last_ok);
    assert_true(f.last_success_us > 0);
    assert_string_equal(srv.last_inm, ""); /* the first GET was unconditional */

    assert_int_equal(lia_fetch_feed(store, "drop", &o, &res, &err), LIA_OK);
    assert_int_equal(res.status, LIA_FETCH_NOT_MODIFIED);
    assert_int_equal(res.http_code, 304);
    assert_int_equal(res.events, 0);
    assert_string_equal(srv.last_inm, "\"v1\"");

    srv.version = 2; /* new content: 1 event, 1 quarantined row */
    assert_int_equal(lia_fetch_feed(store, "drop", &o, &res, &err), LIA_OK);
    assert_int_equal(res.status, LIA_FETCH_INGESTED);
    assert_int_equal(res.events, 1);
    assert_int_equal(res.quarantined, 1);
    assert_int_equal(lia_feeds_get(store, "drop", &f, &err), LIA_OK);
    assert_string_equal(f.etag, "\"v2\"");
    assert_int_equal(srv.hits_drop, 3);
}

/* A 500 is retried with backoff, then the feed is FAILING with the reason. */
static void test_server_error_retries(void **state)
{
    lia_fetch_opts o = fast_opts();
    lia_fetch_result res;
    lia_error err;
    lia_feed f;
    (void)state;
    add_url_feed("fail", "/fail", 3600);
    lia_error_clear(&err);
    assert_int_equal(lia_fetch_feed(store, "fail", &o, &res, &err), LIA_ENET);
    assert_int_equal(res.attempts, 3);
    assert_int_equal(res.http_code, 500);
    assert_int_equal(srv.hits_fail, 3);
    assert_non_null(strstr(err.reason, "HTTP status 500"));
    assert_non_null(strstr(err.reason, "after 3 attempts"));
    assert_int_equal(lia_feeds_get(store, "fail", &f, &err), LIA_OK);
    assert_false(f.last_ok);
    assert_int_equal(f.last_success_us, 0);
    assert_non_null(strstr(f.last_error, "HTTP status 500"));

    add_url_feed("flaky", "/flaky", 3600);
    assert_int_equal(lia_fetch_feed(store, "flaky", &o, &res, &err), LIA_OK);
    assert_int_equal(res.attempts, 3);
    assert_int_equal(res.status, LIA_FETCH_INGESTED);

    add_url_feed("missing", "/missing", 3600); /* a 404 is not retried */
    assert_int_equal(lia_fetch_feed(store, "missing", &o, &res, &err), LIA_ENET);
    assert_int_equal(res.attempts, 1);
    assert_int_equal(srv.hits_404, 1);
}

static void test_size_cap_and_timeout(void **state)
{
    lia_fetch_opts o = fast_opts();
    lia_fetch_result res;
    lia_error err;
    lia_feed f;
    (void)state;
    add_url_feed("big", "/big", 3600);
    o.max_bytes = 1000;
    lia_error_clear(&err);
    assert_int_equal(lia_fetch_feed(store, "big", &o, &res, &err), LIA_ELIMIT);
    assert_int_equal(res.attempts, 1);
    assert_non_null(strstr(err.reason, "larger than the cap of 1000 bytes"));
    assert_int_equal(res.reports, 0);

    add_url_feed("slow", "/slow", 3600);
    o = fast_opts();
    o.timeout_ms = 300;
    o.retries = 0;
    assert_int_equal(lia_fetch_feed(store, "slow", &o, &res, &err), LIA_ENET);
    assert_non_null(strstr(err.reason, "timed out"));
    assert_int_equal(lia_feeds_get(store, "slow", &f, &err), LIA_OK);
    assert_false(f.last_ok);
}

/* HTTPS: a certificate nobody vouches for is refused (and not retried);
 * trusted through ca_file, the same server is fetched. */
static void test_tls_verification(void **state)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    lia_fetch_opts o = fast_opts();
    lia_fetch_result res;
    lia_error err;
    lia_feed f;
    char ca[256];
    FILE *fp;
    (void)state;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        skip();
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0,
                         NULL, NULL, handler, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_HTTPS_MEM_KEY, test_key, MHD_OPTION_HTTPS_MEM_CERT, test_cert,
                         MHD_OPTION_END);
    assert_non_null(d);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "tls");
    snprintf(f.format, sizeof f.format, "spamhaus-drop");
    snprintf(f.url, sizeof f.url, "https://127.0.0.1:%u/flaky", info->port);
    f.tlp = -1;
    f.enabled = 1;
    lia_error_clear(&err);
    assert_int_equal(lia_feeds_add(store, &f, &err), LIA_OK);
    assert_int_equal(lia_fetch_feed(store, "tls", &o, &res, &err), LIA_ENET);
    assert_int_equal(res.attempts, 1);
    assert_non_null(strstr(err.reason, "certificate"));

    snprintf(ca, sizeof ca, "%s/ca.pem", tmpdir);
    fp = fopen(ca, "w");
    assert_non_null(fp);
    fputs(test_cert, fp);
    fclose(fp);
    o.ca_file = ca;
    assert_int_equal(lia_fetch_feed(store, "tls", &o, &res, &err), LIA_OK);
    assert_int_equal(res.http_code, 200);
    MHD_stop_daemon(d);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* New files of a drop directory are ingested and moved to done/ or failed/. */
static void test_drop_directory(void **state)
{
    char dir[256], p[400], map[300];
    lia_feed f;
    lia_fetch_result res;
    lia_error err;
    struct stat st;
    (void)state;
    snprintf(dir, sizeof dir, "%s/drop", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(p, sizeof p, "%s/a.txt", dir);
    write_file(p, "; dropped\n10.0.0.0/8 ; SBL10\n10.1.0.0/16 ; SBL11\n");
    snprintf(p, sizeof p, "%s/b.txt", dir); /* content already ingested by a fetch: skipped */
    write_file(p, drop_v1);
    snprintf(p, sizeof p, "%s/.partial", dir); /* hidden: not yet complete */
    write_file(p, drop_v2);

    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "dropdir");
    snprintf(f.format, sizeof f.format, "spamhaus-drop");
    snprintf(f.dir, sizeof f.dir, "%s", dir);
    f.interval_s = 60;
    f.tlp = -1;
    f.enabled = 1;
    lia_error_clear(&err);
    assert_int_equal(lia_feeds_add(store, &f, &err), LIA_OK);
    assert_int_equal(lia_fetch_feed(store, "dropdir", NULL, &res, &err), LIA_OK);
    assert_int_equal(res.files, 2);
    assert_int_equal(res.files_failed, 0);
    assert_int_equal(res.reports, 1);
    assert_int_equal(res.events, 2);
    snprintf(p, sizeof p, "%s/done/a.txt", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/done/b.txt", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/a.txt", dir);
    assert_int_not_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/.partial", dir);
    assert_int_equal(stat(p, &st), 0);

    assert_int_equal(lia_fetch_feed(store, "dropdir", NULL, &res, &err), LIA_OK);
    assert_int_equal(res.status, LIA_FETCH_EMPTY);

    /* a report that fails as a whole (CSV without its header) goes to failed/ */
    snprintf(map, sizeof map, "%s/map.json", tmpdir);
    write_file(map, "{\"columns\": {\"ip\": \"source.ip\"}}");
    snprintf(dir, sizeof dir, "%s/drop2", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(p, sizeof p, "%s/empty.csv", dir);
    write_file(p, "");
    snprintf(p, sizeof p, "%s/good.csv", dir);
    write_file(p, "ip\n192.0.2.1\n");
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "csvdir");
    snprintf(f.format, sizeof f.format, "csv");
    snprintf(f.map_path, sizeof f.map_path, "%s", map);
    snprintf(f.dir, sizeof f.dir, "%s", dir);
    f.enabled = 1;
    f.tlp = -1;
    assert_int_equal(lia_feeds_add(store, &f, &err), LIA_OK);
    assert_int_equal(lia_fetch_feed(store, "csvdir", NULL, &res, &err), LIA_EPARSE);
    assert_int_equal(res.files, 2);
    assert_int_equal(res.files_failed, 1);
    assert_int_equal(res.events, 1);
    assert_non_null(strstr(err.reason, "no header"));
    snprintf(p, sizeof p, "%s/failed/empty.csv", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/done/good.csv", dir);
    assert_int_equal(stat(p, &st), 0);
}

static void test_registry(void **state)
{
    static const struct {
        const char *name, *format, *url, *dir;
        int64_t interval;
        int want;
    } table[] = {
        {"ok-1", "openphish", "https://example.org/feed.txt", "", 60, LIA_OK},
        {"ok-1", "openphish", "https://example.org/feed.txt", "", 60, LIA_EEXIST},
        {"", "openphish", "https://example.org/feed.txt", "", 60, LIA_EINVAL},
        {"bad name", "openphish", "https://example.org/feed.txt", "", 60, LIA_EINVAL},
        {"x", "no-such-format", "https://example.org/feed.txt", "", 60, LIA_EINVAL},
        {"x", "openphish", "ftp://example.org/feed.txt", "", 60, LIA_EINVAL},
        {"x", "openphish", "", "", 60, LIA_EINVAL},
        {"x", "openphish", "https://example.org/", "/tmp", 60, LIA_EINVAL},
        {"x", "openphish", "", "relative/dir", 60, LIA_EINVAL},
        {"x", "openphish", "https://example.org/", "", -1, LIA_EINVAL},
        {"x", "csv", "https://example.org/", "", 60, LIA_EINVAL}, /* csv needs a map */
    };
    lia_error err;
    lia_feed f;
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int rc;
        memset(&f, 0, sizeof f);
        snprintf(f.name, sizeof f.name, "%s", table[i].name);
        snprintf(f.format, sizeof f.format, "%s", table[i].format);
        snprintf(f.url, sizeof f.url, "%s", table[i].url);
        snprintf(f.dir, sizeof f.dir, "%s", table[i].dir);
        f.interval_s = table[i].interval;
        f.tlp = -1;
        f.enabled = 1;
        lia_error_clear(&err);
        rc = lia_feeds_add(store, &f, &err);
        if (rc != table[i].want) {
            print_error("case %zu: got %d (%s) want %d\n", i, rc, err.reason, table[i].want);
            fail();
        }
    }
    assert_int_equal(lia_feeds_set_enabled(store, "ok-1", 0, &err), LIA_OK);
    assert_int_equal(lia_feeds_get(store, "ok-1", &f, &err), LIA_OK);
    assert_false(f.enabled);
    assert_int_equal(lia_feeds_set_enabled(store, "nope", 1, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_feeds_remove(store, "ok-1", &err), LIA_OK);
    assert_int_equal(lia_feeds_get(store, "ok-1", &f, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_feeds_remove(store, "ok-1", &err), LIA_ENOTFOUND);

    /* every preset is a valid feed definition */
    for (const lia_feed_preset *p = lia_feed_presets; p->name; p++) {
        lia_feed_from_preset(p, &f);
        if (lia__feed_validate(&f, &err) != LIA_OK) {
            print_error("preset %s: %s\n", p->name, err.reason);
            fail();
        }
        assert_non_null(strstr(p->doc, "https://"));
    }
    assert_null(lia_feed_preset_find("no-such-preset"));
}

static void test_due(void **state)
{
    static const struct {
        int enabled;
        int64_t interval, last_fetch_s, now_s;
        int want;
    } table[] = {
        {1, 3600, 0, 1000, 1}, /* never fetched */
        {1, 3600, 1000, 1000 + 3599, 0},
        {1, 3600, 1000, 1000 + 3600, 1},
        {0, 3600, 0, 1000, 0}, /* disabled */
        {1, 0, 0, 1000, 0},    /* manual only */
    };
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        lia_feed f;
        memset(&f, 0, sizeof f);
        f.enabled = table[i].enabled;
        f.interval_s = table[i].interval;
        f.last_fetch_us = table[i].last_fetch_s * 1000000;
        if (lia_feed_due(&f, table[i].now_s * 1000000) != table[i].want) {
            print_error("case %zu: got %d want %d\n", i, !table[i].want, table[i].want);
            fail();
        }
    }
}

typedef struct hseen {
    char name[LIA_FEED_NAME_MAX]; /* a whole feed name */
    int late, failing;
    uint64_t reports, rows, events, quarantined;
    double rate;
} hseen;

typedef struct hlist {
    hseen s[32];
    int n;
} hlist;

static int on_health(void *ud, const lia_feed_health *h)
{
    hlist *l = ud;
    hseen *s = &l->s[l->n++];
    snprintf(s->name, sizeof s->name, "%s", h->feed->name);
    s->late = h->late;
    s->failing = h->failing;
    s->reports = h->reports;
    s->rows = h->rows;
    s->events = h->events;
    s->quarantined = h->quarantined;
    s->rate = h->events_per_s;
    return 0;
}

static const hseen *find(const hlist *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->s[i].name, name) == 0)
            return &l->s[i];
    print_error("feed %s not in the health list\n", name);
    fail();
    return &l->s[31]; /* not reached */
}

/* Runs after the fetch tests (same store): their outcomes show up here. */
static void test_health(void **state)
{
    hlist l;
    lia_error err;
    const hseen *h;
    lia_feed f;
    int64_t now;
    (void)state;
    memset(&l, 0, sizeof l);
    assert_int_equal(lia_feeds_get(store, "drop", &f, &err), LIA_OK);
    now = f.last_success_us;
    lia_error_clear(&err);
    assert_int_equal(lia_feeds_health(store, now, on_health, &l, &err), LIA_OK);
    h = find(&l, "drop");
    assert_false(h->failing);
    assert_false(h->late);
    assert_int_equal(h->reports, 2);
    assert_int_equal(h->rows, 4);
    assert_int_equal(h->events, 3);
    assert_int_equal(h->quarantined, 1);
    assert_true(h->rate > 0);
    h = find(&l, "fail");
    assert_true(h->failing);
    /* 3 hours later, "drop" (every hour) has had no success within 2 x 1h */
    memset(&l, 0, sizeof l);
    assert_int_equal(lia_feeds_health(store, now + 3 * 3600 * 1000000LL, on_health, &l, &err), LIA_OK);
    h = find(&l, "drop");
    assert_true(h->late);
    assert_false(h->failing);
    /* 1.5 hours later it is not late yet */
    memset(&l, 0, sizeof l);
    assert_int_equal(lia_feeds_health(store, now + 5400 * 1000000LL, on_health, &l, &err), LIA_OK);
    assert_false(find(&l, "drop")->late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditional_get),
        cmocka_unit_test(test_server_error_retries),
        cmocka_unit_test(test_size_cap_and_timeout),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_drop_directory),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_health),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("fetch"), tests, setup, teardown);
}
