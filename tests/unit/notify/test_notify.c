/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Digests end to end: a real SMTP listener on 127.0.0.1 (a minimal server in
 * a thread, below), a throwaway GnuPG home with two fresh keys, a store with
 * routed events; then the received messages are decrypted and their
 * signatures verified with gpg. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"

#include "liaison/liaison.h"

/* ---- a minimal SMTP server ---- */

#define SMTP_LINE 4096 /* longest line the test server reads */

typedef struct smtp {
    int fd, port;
    volatile int stop;
    int refuse_first; /* connections answered with 421 */
    int conns;
    char *msg[8];
    char rcpt[8][SMTP_LINE]; /* a whole RCPT TO argument */
    int nmsg;
    pthread_t th;
} smtp;

static int rd_line(int fd, char *buf, size_t n)
{
    size_t k = 0;
    while (k + 1 < n) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0)
            return -1;
        buf[k++] = c;
        if (c == '\n')
            break;
    }
    buf[k] = '\0';
    return (int)k;
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);
    if (write(fd, s, n) != (ssize_t)n)
        return;
}

static void session(smtp *sv, int c)
{
    char line[SMTP_LINE];
    say(c, "220 127.0.0.1 test ESMTP\r\n");
    while (rd_line(c, line, sizeof line) > 0) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            say(c, "250-127.0.0.1\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0 || strncasecmp(line, "MAIL FROM", 9) == 0 ||
                   strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO", 7) == 0) {
            if (sv->nmsg < 8)
                snprintf(sv->rcpt[sv->nmsg], sizeof sv->rcpt[0], "%s", line + 8);
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            size_t cap = 1 << 20, len = 0;
            char *m = malloc(cap);
            say(c, "354 go ahead\r\n");
            for (;;) {
                int n = rd_line(c, line, sizeof line);
                const char *p = line;
                if (n <= 0)
                    break;
                if (strcmp(line, ".\r\n") == 0)
                    break;
                if (line[0] == '.')
                    p++, n--;
                if (len + (size_t)n + 1 > cap)
                    m = realloc(m, cap *= 2);
                memcpy(m + len, p, (size_t)n);
                len += (size_t)n;
            }
            m[len] = '\0';
            if (sv->nmsg < 8)
                sv->msg[sv->nmsg++] = m;
            else
                free(m);
            say(c, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(c, "221 bye\r\n");
            break;
        } else {
            say(c, "502 not implemented\r\n");
        }
    }
}

static void *serve(void *ud)
{
    smtp *sv = ud;
    while (!sv->stop) {
        struct pollfd p = {sv->fd, POLLIN, 0};
        int c;
        if (poll(&p, 1, 50) <= 0)
            continue;
        if ((c = accept(sv->fd, NULL, NULL)) < 0)
            continue;
        if (sv->conns++ < sv->refuse_first)
            say(c, "421 busy, try later\r\n");
        else
            session(sv, c);
        close(c);
    }
    return NULL;
}

static void smtp_start(smtp *sv, int refuse_first)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;
    memset(sv, 0, sizeof *sv);
    sv->refuse_first = refuse_first;
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->fd >= 0);
    setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->fd, 8), 0);
    assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&sv->th, NULL, serve, sv), 0);
}

static void smtp_stop(smtp *sv)
{
    sv->stop = 1;
    pthread_join(sv->th, NULL);
    close(sv->fd);
    for (int i = 0; i < sv->nmsg; i++)
        free(sv->msg[i]);
}

/* ---- helpers ---- */

static char gpghome[64], tmpdir[64];

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* Output of a shell command. */
static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, len = 0, n;
    char *b = malloc(cap);
    assert_non_null(p);
    while ((n = fread(b + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 >= cap)
            b = realloc(b, cap *= 2);
    }
    b[len] = '\0';
    pclose(p);
    return b;
}

static void genkey(const char *uid, char fpr[41])
{
    char cmd[512], *out, *p;
    snprintf(cmd, sizeof cmd,
             "gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key '%s' default "
             "default never"
             " 2>/dev/null",
             uid);
    run(cmd);
    snprintf(cmd, sizeof cmd, "gpg --batch --with-colons --list-secret-keys '%s' 2>/dev/null", uid);
    out = capture(cmd);
    p = strstr(out, "\nfpr:");
    assert_non_null(p);
    p = strstr(p, ":::::::::");
    assert_non_null(p);
    memcpy(fpr, p + 9, 40);
    fpr[40] = '\0';
    free(out);
}

static void write_file(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
}

static const char *find_msg(smtp *sv, const char *rcpt)
{
    for (int i = 0; i < sv->nmsg; i++)
        if (strstr(sv->msg[i], rcpt) && strstr(sv->rcpt[i], "@"))
            return sv->msg[i];
    return NULL;
}

typedef struct seen {
    int n, sent, failed;
    char msgid[4][128];
} seen;

static int on_res(void *ud, const lia_notify_result *r)
{
    seen *s = ud;
    if (s->n < 4)
        snprintf(s->msgid[s->n], sizeof s->msgid[0], "%s", r->message_id);
    s->n++;
    s->sent += strcmp(r->outcome, "sent") == 0;
    s->failed += strcmp(r->outcome, "failed") == 0;
    return 0;
}

typedef struct msgs {
    int n;
    char text[8192];
} msgs;

static int keep_msg(void *ud, const lia_notify_result *r)
{
    msgs *m = ud;
    if (r->message)
        snprintf(m->text, sizeof m->text, "%.*s", (int)r->message_len, r->message);
    m->n++;
    return 0;
}

static int count_rows(void *ud, const lia_route_row *r)
{
    int *k = ud;
    if (r->notification_id)
        (*k)++;
    return 0;
}

static void setup_store(const char *db, const char *sender_fpr, const char *rcpt_fpr, int port, lia_store **s)
{
    char owners[1024], cfg[1024], in[256];
    lia_error err;
    lia_ingest_opts o;
    lia_ingest_result res;
    size_t n;
    static const char partners[] =
        "partners:\n  - id: cert-my\n    name: Partner MY\n    countries: [MY]\n"
        "    contacts: [cert@my.example]\n    languages: [ms]\n    agreement: true\n";
    snprintf(owners, sizeof owners,
             "owners:\n  - id: isp-a\n    name: ISP A\n    cidrs: [192.0.2.0/24]\n"
             "    contacts: [abuse@isp-a.example, noc@isp-a.example]\n    languages: [zh]\n"
             "    pgp_fingerprint: %s\n",
             rcpt_fpr);
    snprintf(
        cfg, sizeof cfg,
        "home_country: CN\nmail_from: cert@national.example\nsign_key: %s\nsmtp_url: smtp://127.0.0.1:%d\n"
        "gnupg_home: %s\nredact: [raw]\n",
        sender_fpr, port, gpghome);
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(db, s, &err), LIA_OK);
    assert_int_equal(lia_party_import(*s, LIA_PARTY_OWNER, "yaml", owners, strlen(owners), &n, &err), LIA_OK);
    assert_int_equal(lia_party_import(*s, LIA_PARTY_PARTNER, "yaml", partners, strlen(partners), &n, &err),
                     LIA_OK);
    if (lia_route_config_put(*s, cfg, strlen(cfg), &err))
        fail_msg("config: %s line %llu", err.reason, (unsigned long long)err.line);
    snprintf(in, sizeof in, "%s/events.jsonl", tmpdir);
    {
        static const char ev[] =
            "{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"infected-system\",\"raw\":\"c2VjcmV0\","
            "\"tlp\":\"AMBER\",\"time.source\":\"2026-11-27T10:00:00Z\"}\n"
            "{\"source.ip\":\"192.0.2.2\",\"classification.type\":\"scanner\",\"tlp\":\"AMBER+STRICT\"}\n"
            "{\"source.ip\":\"203.0.113.7\",\"source.geolocation.cc\":\"MY\",\"classification.type\":"
            "\"scanner\",\"tlp\":\"GREEN\",\"comment\":\"x\\r\\nBcc: evil@example.com\"}\n"
            "{\"source.ip\":\"203.0.113.8\",\"source.geolocation.cc\":\"MY\",\"classification.type\":"
            "\"scanner\","
            "\"tlp\":\"RED\"}\n";
        write_file(in, ev, sizeof ev - 1);
    }
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = in;
    o.feed.feed = "test";
    o.feed.tlp = -1;
    assert_int_equal(lia_ingest(*s, &o, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 4);
}

static void test_digests(void **state)
{
    char db[256], sender[41], rcpt[41], path[256], cmd[1024], tdir[512];
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    lia_store *s;
    lia_error err;
    lia_notify_opts o;
    smtp sv;
    seen got;
    const char *m;
    char *out;
    (void)state;
    genkey("Liaison Test CERT <cert@national.example>", sender);
    genkey("ISP A <abuse@isp-a.example>", rcpt);
    smtp_start(&sv, 1); /* the first connection is turned away: a retry must follow */
    assert_int_equal(lia_test_db_path(tmpdir, "l", db, sizeof db), 0);
    setup_store(db, sender, rcpt, sv.port, &s);
    snprintf(tdir, sizeof tdir, "%s/share/templates", root ? root : ".");
    memset(&o, 0, sizeof o);
    o.templates = tdir;
    o.backoff_ms = 10;
    memset(&got, 0, sizeof got);
    lia_error_clear(&err);
    if (lia_notify_run(s, &o, on_res, &got, &err) != LIA_OK)
        fail_msg("notify: %s", err.reason);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.sent, 2);
    assert_int_equal(sv.conns, 3); /* one refused, two delivered */
    assert_int_equal(sv.nmsg, 2);

    /* the owner's digest: encrypted to its key and signed by ours */
    m = find_msg(&sv, "abuse@isp-a.example");
    assert_non_null(m);
    assert_non_null(strstr(m, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\""));
    assert_non_null(strstr(m, "Subject: =?UTF-8?B?")); /* Chinese template */
    assert_non_null(strstr(m, "X-Liaison-Events: 2")); /* AMBER and its own AMBER+STRICT event */
    assert_null(strstr(m, "192.0.2.1"));               /* nothing in clear */
    {
        const char *b = strstr(m, "-----BEGIN PGP MESSAGE-----"), *e = strstr(m, "-----END PGP MESSAGE-----");
        assert_non_null(b);
        assert_non_null(e);
        snprintf(path, sizeof path, "%s/owner.asc", tmpdir);
        write_file(path, b, (size_t)(e - b) + 25);
    }
    snprintf(cmd, sizeof cmd, "gpg --batch --status-fd 1 --output %s/owner.mime --decrypt %s 2>/dev/null",
             tmpdir, path);
    out = capture(cmd);
    assert_non_null(strstr(out, "[GNUPG:] DECRYPTION_OKAY"));
    assert_non_null(strstr(out, "[GNUPG:] GOODSIG"));
    assert_non_null(strstr(out, sender)); /* VALIDSIG with our fingerprint */
    free(out);
    snprintf(
        cmd, sizeof cmd,
        "python3 -c \"import email,sys;m=email.message_from_binary_file(open('%s/owner.mime','rb'));"
        "[sys.stdout.write((p.get_filename() or p.get_content_type())+'|'+"
        "(p.get_payload(decode=True) or b'').decode()+'\\n') for p in m.walk() if not p.is_multipart()]\"",
        tmpdir);
    out = capture(cmd);
    if (!strstr(out, "events.csv|event.id,"))
        fail_msg("decrypted parts: %.2000s", out);
    assert_non_null(strstr(out, "192.0.2.1"));
    assert_non_null(strstr(out, "192.0.2.2"));
    assert_null(strstr(out, "c2VjcmV0")); /* raw redacted */
    assert_non_null(strstr(out, "events.json|["));
    free(out);

    /* the partner's digest: signed only (no key known), Malay template */
    m = find_msg(&sv, "cert@my.example");
    assert_non_null(m);
    assert_non_null(strstr(m, "Content-Type: multipart/signed; micalg=pgp-"));
    assert_non_null(strstr(m, "Subject: [Liaison] 1 insiden keselamatan untuk Partner MY"));
    assert_non_null(strstr(m, "X-Liaison-Events: 1")); /* GREEN yes, RED never */
    {
        const char *bq = strstr(m, "boundary=\""), *be, *body, *end, *sb, *se;
        char bnd[128], delim[160];
        assert_non_null(bq);
        bq += 10;
        be = strchr(bq, '"');
        snprintf(bnd, sizeof bnd, "%.*s", (int)(be - bq), bq);
        snprintf(delim, sizeof delim, "--%s\r\n", bnd);
        body = strstr(be, delim);
        assert_non_null(body);
        body += strlen(delim);
        snprintf(delim, sizeof delim, "\r\n--%s\r\n", bnd);
        end = strstr(body, delim);
        assert_non_null(end);
        snprintf(path, sizeof path, "%s/signed.mime", tmpdir);
        write_file(path, body, (size_t)(end - body));
        sb = strstr(end, "-----BEGIN PGP SIGNATURE-----");
        se = strstr(end, "-----END PGP SIGNATURE-----");
        assert_non_null(sb);
        assert_non_null(se);
        snprintf(path, sizeof path, "%s/signed.asc", tmpdir);
        write_file(path, sb, (size_t)(se - sb) + 27);
    }
    snprintf(cmd, sizeof cmd, "gpg --batch --status-fd 1 --verify %s/signed.asc %s/signed.mime 2>/dev/null",
             tmpdir, tmpdir);
    out = capture(cmd);
    assert_non_null(strstr(out, "[GNUPG:] GOODSIG"));
    assert_non_null(strstr(out, sender));
    free(out);

    /* recorded: message ids, decisions point at their notification */
    {
        int k = 0;
        for (int64_t id = 1; id <= 4; id++)
            assert_int_equal(lia_route_rows(s, id, count_rows, &k, &err), LIA_OK);
        assert_int_equal(k, 3); /* events 1, 2 (owner) and 3 (partner); 4 was TLP:RED */
    }
    /* nothing pending any more */
    memset(&got, 0, sizeof got);
    assert_int_equal(lia_notify_run(s, &o, on_res, &got, &err), LIA_OK);
    assert_int_equal(got.n, 0);
    /* a new event inside the digest interval (default 1h) waits ... */
    {
        char in[256];
        static const char ev[] = "{\"source.ip\":\"192.0.2.9\",\"classification.type\":\"scanner\"}\n";
        lia_ingest_opts io;
        lia_ingest_result res;
        snprintf(in, sizeof in, "%s/more.jsonl", tmpdir);
        write_file(in, ev, sizeof ev - 1);
        memset(&io, 0, sizeof io);
        io.format = "jsonl";
        io.path = in;
        io.feed.feed = "test";
        io.feed.tlp = -1;
        assert_int_equal(lia_ingest(s, &io, &res, &err), LIA_OK);
    }
    memset(&got, 0, sizeof got);
    assert_int_equal(lia_notify_run(s, &o, on_res, &got, &err), LIA_OK);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.sent, 0);
    assert_int_equal(sv.nmsg, 2);
    /* ... until the interval has passed */
    o.now_us = (int64_t)time(NULL) * 1000000 + 3601LL * 1000000;
    memset(&got, 0, sizeof got);
    assert_int_equal(lia_notify_run(s, &o, on_res, &got, &err), LIA_OK);
    assert_int_equal(got.sent, 1);
    assert_int_equal(sv.nmsg, 3);
    assert_non_null(strstr(sv.msg[2], "X-Liaison-Events: 1"));
    lia_store_close(s);
    smtp_stop(&sv);
}

static void test_failure_recorded(void **state)
{
    char db[256], sender[41], rcpt[41], tdir[512];
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    lia_store *s;
    lia_error err;
    lia_notify_opts o;
    smtp sv;
    seen got;
    int k = 0;
    (void)state;
    genkey("Sender Two <cert@national.example>", sender);
    genkey("Rcpt Two <abuse@isp-a.example>", rcpt);
    smtp_start(&sv, 100); /* every connection refused */
    assert_int_equal(lia_test_db_path(tmpdir, "l2", db, sizeof db), 0);
    setup_store(db, sender, rcpt, sv.port, &s);
    snprintf(tdir, sizeof tdir, "%s/share/templates", root ? root : ".");
    memset(&o, 0, sizeof o);
    o.templates = tdir;
    o.backoff_ms = 5;
    o.tries = 3;
    memset(&got, 0, sizeof got);
    lia_error_clear(&err);
    assert_int_equal(lia_notify_run(s, &o, on_res, &got, &err), LIA_ENET);
    assert_int_equal(got.failed, 2);
    assert_int_equal(sv.conns, 6); /* 3 tries each */
    for (int64_t id = 1; id <= 4; id++)
        assert_int_equal(lia_route_rows(s, id, count_rows, &k, &err), LIA_OK);
    assert_int_equal(k, 0); /* still pending: retried on the next run */
    /* dry run renders without sending or recording */
    o.dry_run = 1;
    memset(&got, 0, sizeof got);
    assert_int_equal(lia_notify_run(s, &o, on_res, &got, &err), LIA_OK);
    assert_int_equal(got.n, 2);
    assert_int_equal(sv.conns, 6);
    /* an event value placed in the Subject cannot add a header */
    {
        char dir[LIA_PATH_MAX], cmd[2 * LIA_PATH_MAX + 128];
        msgs m;
        snprintf(dir, sizeof dir, "%s/tmpl", tmpdir);
        snprintf(cmd, sizeof cmd,
                 "mkdir -p %s/en && printf 'Subject: {{#events}}{{comment}}{{/events}}\\n\\nbody\\n' > "
                 "%s/en/digest.txt",
                 dir, dir);
        run(cmd);
        o.templates = dir;
        o.only = "partner:cert-my";
        memset(&m, 0, sizeof m);
        assert_int_equal(lia_notify_run(s, &o, keep_msg, &m, &err), LIA_OK);
        assert_int_equal(m.n, 1);
        {
            char *end = strstr(m.text, "\r\n\r\n"); /* end of the headers */
            assert_non_null(end);
            *end = '\0';
            if (strstr(m.text, "Bcc:") || !strstr(m.text, "\r\nSubject: x\r\n"))
                fail_msg("headers: %s", m.text);
        }
    }
    lia_store_close(s);
    smtp_stop(&sv);
}

static int setup(void **state)
{
    (void)state;
    snprintf(gpghome, sizeof gpghome, "/tmp/lia-gpg-XXXXXX");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lia-notify-XXXXXX");
    if (!mkdtemp(gpghome) || !mkdtemp(tmpdir))
        return -1;
    setenv("GNUPGHOME", gpghome, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    (void)state;
    if (system("gpgconf --kill all >/dev/null 2>&1") != 0) {
        /* nothing to stop */
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", gpghome, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_failure_recorded),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("notify on PostgreSQL", tests, setup, teardown);
    return cmocka_run_group_tests_name("notify", tests, setup, teardown);
}
