/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Slow clients (issue 16): 200 connections that trickle their headers a
 * byte at a time or dribble a body do not stop a normal client being
 * answered, and each is closed by the server at its absolute deadline
 * however often it sends a byte (libmicrohttpd's idle timeout alone never
 * fires for them); the per-address connection limit holds. The server is
 * in-process on 127.0.0.1, the slow clients on 127.0.0.10-13 (50 each,
 * under the per-address limit), the normal client on 127.0.0.1. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"
#include "http/handler.h"
#include "http_client.h"
#include "liaison/accounts.h"

#define NSLOW    200
#define DEADLINE 2 /* s: header_timeout_s of the test's server */

static char tmpdir[256], dbpath[300], logpath[300];
static lia_http *srv;
static uint16_t port;
static FILE *access_log;

static void hello(void *ud, lia__req *r)
{
    (void)ud;
    lia_buf_puts(&r->out, "{\"hello\":1}");
    r->status = 200;
}

static int setup(void **state)
{
    lia_store *s;
    lia_error e;
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-slow-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/l.db", tmpdir);
    snprintf(logpath, sizeof logpath, "%s/access.log", tmpdir);
    lia_error_clear(&e);
    if (lia_store_open(dbpath, &s, &e))
        return -1;
    lia_store_close(s);
    if (!(access_log = fopen(logpath, "w+")))
        return -1;
    lia_http_opts o;
    memset(&o, 0, sizeof o);
    o.db = dbpath;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.header_timeout_s = DEADLINE;
    o.per_ip_conns = 64;
    o.access_log = access_log;
    static const lia__http_handler hd = {.name = "hello", .prefix = "/", .handle = hello};
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

/* A connection from local address from, non-blocking after the connect;
 * -1 if refused. */
static int open_from(const char *from)
{
    struct sockaddr_in sa, me;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&me, 0, sizeof me);
    me.sin_family = AF_INET;
    inet_pton(AF_INET, from, &me.sin_addr);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* 1 if the server closed fd (end of stream or reset). */
static int closed(int fd)
{
    char b[512];
    ssize_t k = recv(fd, b, sizeof b, MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_slowloris(void **state)
{
    int fd[NSLOW];
    int64_t shut_us[NSLOW], t0;
    int open_n = 0, normal_done = 0;
    (void)state;
    for (int i = 0; i < NSLOW; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.0.%d", 10 + i % 4);
        fd[i] = open_from(from);
        if (fd[i] < 0)
            fail_msg("slow connection %d from %s refused", i, from);
        /* a quarter dribble a body, the rest their headers */
        const char *start = i % 4 == 3 ? "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"
                                       : "GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ";
        if (send(fd[i], start, strlen(start), MSG_NOSIGNAL) < 0)
            fail_msg("send %d: %s", i, strerror(errno));
        shut_us[i] = 0;
    }
    t0 = lia__mono_us();
    open_n = NSLOW;
    /* every 100 ms one more byte on each connection still open, for up to
     * 4 deadlines: an idle timeout would never fire */
    while (open_n > 0 && lia__mono_us() - t0 < 4 * DEADLINE * 1000000LL) {
        for (int i = 0; i < NSLOW; i++) {
            if (shut_us[i])
                continue;
            if (closed(fd[i]) || send(fd[i], "x", 1, MSG_NOSIGNAL) < 0) {
                shut_us[i] = lia__mono_us() - t0;
                open_n--;
            }
        }
        if (!normal_done && lia__mono_us() - t0 > 500000) {
            /* all 200 are open and trickling: a normal client is answered */
            hc_resp r;
            int64_t a = lia__mono_us();
            assert_int_equal(open_n, NSLOW);
            assert_int_equal(hc_request(port, "GET", "/normal", NULL, NULL, &r), 200);
            hc_free(&r);
            printf("normal request with %d slow connections open: %.3f s\n", open_n,
                   (double)(lia__mono_us() - a) / 1e6);
            normal_done = 1;
        }
        nap_ms(100);
    }
    assert_true(normal_done);
    int64_t first = INT64_MAX, last = 0;
    for (int i = 0; i < NSLOW; i++) {
        if (!shut_us[i])
            fail_msg("slow connection %d (%s) still open after %d s", i, i % 4 == 3 ? "body" : "headers",
                     4 * DEADLINE);
        if (shut_us[i] < first)
            first = shut_us[i];
        if (shut_us[i] > last)
            last = shut_us[i];
        close(fd[i]);
    }
    printf("%d slow connections closed by the server %.2f-%.2f s after they opened (deadline %d s)\n", NSLOW,
           (double)first / 1e6, (double)last / 1e6, DEADLINE);
    /* not before the deadline */
    assert_true(first >= (DEADLINE * 1000000LL) - 300000);
    /* the addresses' slots are free again */
    hc_resp r;
    assert_int_equal(hc_request_from("127.0.0.10", port, "GET", "/again", NULL, NULL, &r), 200);
    hc_free(&r);
    /* each one logged */
    char line[1024];
    int seen = 0;
    fflush(access_log);
    rewind(access_log);
    while (fgets(line, sizeof line, access_log))
        if (strstr(line, "slow client"))
            seen++;
    fseek(access_log, 0, SEEK_END);
    assert_int_equal(seen, NSLOW);
}

static void test_per_address_limit(void **state)
{
    int fd[70], n = 0, refused = 0;
    (void)state;
    for (int i = 0; i < 70; i++) {
        fd[n] = open_from("127.0.0.20");
        if (fd[n] >= 0)
            n++;
    }
    nap_ms(300);
    /* beyond the limit (64) the server closes at once */
    for (int i = 0; i < n; i++)
        if (closed(fd[i]))
            refused++;
    assert_int_equal(refused + (70 - n), 70 - 64);
    hc_resp r;
    assert_int_equal(hc_request_from("127.0.0.21", port, "GET", "/other", NULL, NULL, &r), 200);
    hc_free(&r);
    for (int i = 0; i < n; i++)
        close(fd[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_per_address_limit),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
