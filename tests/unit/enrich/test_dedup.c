/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/enrich/dedup.c, conf.c and the enrich/dedup stages:
 * the configuration file, in-memory aggregation and the memory cap, and
 * the store-backed stage through lia_ingest (one stored event per
 * aggregate, its extra.dedup_* keys, the report's duplicates counter, state
 * surviving a restart, enrichment from STORE.conf's IP data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/enrich.h"
#include "liaison/ingest.h"
#include "store/db.h"
#include "enrich/internal.h"
#include "../../pg/pg_test.h"

/* ---- configuration ---- */

static void test_conf(void **state)
{
    const char *text = "# comment\n"
                       "[route]\n"
                       "whatever = is another module's\n"
                       "[ipdata]\n"
                       "source = mmdb GeoLite2-ASN.mmdb   # relative to the file\n"
                       "source = csv /abs/asn.csv\n"
                       "source=rir delegated\n"
                       "check = 0\n"
                       "[sectors]\n"
                       "enabled = no\n"
                       "[dedup]\n"
                       "key = source.ip, feed.name\n"
                       "window = 90m\n"
                       "memory_keys = 5000\n";
    lia_enrich_conf c;
    lia_error err;
    (void)state;
    lia__enrich_conf_default(&c);
    lia_error_clear(&err);
    assert_int_equal(lia__enrich_conf_parse(&c, text, strlen(text), "/etc/liaison", &err), LIA_OK);
    assert_int_equal(c.nsources, 3);
    assert_int_equal(c.kind[0], LIA_IPSRC_MMDB);
    assert_string_equal(c.path[0], "/etc/liaison/GeoLite2-ASN.mmdb");
    assert_int_equal(c.kind[1], LIA_IPSRC_CSV);
    assert_string_equal(c.path[1], "/abs/asn.csv");
    assert_int_equal(c.kind[2], LIA_IPSRC_RIR);
    assert_int_equal(c.check_s, 0);
    assert_int_equal(c.sectors_enabled, 0);
    assert_int_equal(c.dedup.nkey, 2);
    assert_int_equal(c.dedup.key[0], LIA_F_SOURCE_IP);
    assert_int_equal(c.dedup.key[1], LIA_F_FEED_NAME);
    assert_int_equal(c.dedup.window_us, 90ll * 60 * 1000000);
    assert_int_equal(c.dedup.max_keys, 5000);

    /* defaults */
    lia__enrich_conf_default(&c);
    assert_int_equal(c.dedup.enabled, 1);
    assert_int_equal(c.dedup.nkey, 4);
    assert_int_equal(c.dedup.window_us, 24ll * 3600 * 1000000);
}

static void test_conf_errors(void **state)
{
    static const struct {
        const char *text;
        uint64_t line;
        const char *field;
    } rows[] = {
        {"[ipdata]\nsource = tiff /x\n", 2, "ipdata.source"},
        {"[ipdata]\nsource = csv\n", 2, "ipdata.source"},
        {"[ipdata]\ncheck = -1\n", 2, "ipdata.check"},
        {"[ipdata]\nsauce = csv /x\n", 2, "sauce"},
        {"[dedup]\nwindow = 24x\n", 2, "dedup.window"},
        {"[dedup]\nwindow = 0\n", 2, "dedup.window"},
        {"[dedup]\nkey = source.ip,colour\n", 2, "dedup.key"},
        {"[dedup]\nmemory_keys = 10\n", 2, "dedup.memory_keys"},
        {"[dedup]\nenabled = perhaps\n", 2, "dedup.enabled"},
        {"\n\n[dedup\n", 3, ""},
        {"[sectors]\nnoequals\n", 2, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_enrich_conf c;
        lia_error err;
        lia__enrich_conf_default(&c);
        lia_error_clear(&err);
        int rc = lia__enrich_conf_parse(&c, rows[i].text, strlen(rows[i].text), NULL, &err);
        if (rc == LIA_OK || err.line != rows[i].line || strcmp(err.field, rows[i].field))
            print_message("row %zu: rc %d line %llu field \"%s\" reason \"%s\"\n", i, rc,
                          (unsigned long long)err.line, err.field, err.reason);
        assert_int_not_equal(rc, LIA_OK);
        assert_int_equal(err.line, rows[i].line);
        assert_string_equal(err.field, rows[i].field);
    }
}

/* ---- in memory ---- */

static void ev_make(lia_event *ev, const char *ip, const char *port, const char *time, uint64_t line)
{
    lia_error err;
    lia_event_reset(ev);
    assert_int_equal(lia_event_set_name(ev, "source.ip", 9, ip, strlen(ip), &err), LIA_OK);
    if (port)
        assert_int_equal(lia_event_set_name(ev, "source.port", 11, port, strlen(port), &err), LIA_OK);
    assert_int_equal(lia_event_set_name(ev, "classification.type", 19, "vulnerable-system", 17, &err),
                     LIA_OK);
    assert_int_equal(lia_event_set_name(ev, "feed.name", 9, "f", 1, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(ev, "time.source", 11, time, strlen(time), &err), LIA_OK);
    ev->line = line;
}

static void test_memory(void **state)
{
    static const struct {
        const char *ip, *port, *time;
        int kept;
    } rows[] = {
        {"192.0.2.1", "502", "2026-11-27T00:00:00Z", 1},
        {"192.0.2.1", "502", "2026-11-27T10:00:00Z", 0}, /* same key, in the window */
        {"192.0.2.1", "503", "2026-11-27T10:00:00Z", 1}, /* other port */
        {"192.0.2.2", "502", "2026-11-27T10:00:00Z", 1}, /* other IP */
        {"192.0.2.1", NULL, "2026-11-27T10:00:00Z", 1},  /* no port: another key */
        {"192.0.2.1", NULL, "2026-11-27T11:00:00Z", 0},
        {"192.0.2.1", "502", "2026-11-26T01:00:00Z", 0}, /* earlier, still < 24 h from first */
        {"192.0.2.1", "502", "2026-11-28T00:00:00Z", 1}, /* 24 h after first: a new aggregate */
        {"192.0.2.1", "502", "2026-11-28T23:59:59Z", 0},
    };
    const size_t n = sizeof rows / sizeof rows[0];
    lia_dedup_conf c;
    lia_dedup *d = NULL;
    lia_error err;
    lia_batch b;
    (void)state;
    lia__dedup_conf_default(&c);
    assert_int_equal(lia__dedup_create(&c, &d, &err), LIA_OK);
    b.cap = n;
    b.ev = calloc(n, sizeof *b.ev);
    for (size_t i = 0; i < n; i++) {
        lia_event_init(&b.ev[i]);
        ev_make(&b.ev[i], rows[i].ip, rows[i].port, rows[i].time, i + 1);
    }
    b.n = n;
    int removed = lia__dedup_batch(d, &b, &err);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += (size_t)rows[i].kept;
    assert_int_equal(removed, (int)(n - kept));
    assert_int_equal(b.n, kept);
    /* the kept events, in order, are the rows marked kept */
    for (size_t i = 0, k = 0; i < n; i++) {
        if (!rows[i].kept)
            continue;
        if (b.ev[k].line != i + 1)
            print_message("kept event %zu is line %llu, want %zu\n", k, (unsigned long long)b.ev[k].line,
                          i + 1);
        assert_int_equal(b.ev[k].line, i + 1);
        k++;
    }
    assert_int_equal(lia__dedup_keys(d), 4);
    for (size_t i = 0; i < n; i++)
        lia_event_free(&b.ev[i]);
    free(b.ev);
    lia__dedup_destroy(d);
}

static void test_memory_cap(void **state)
{
    lia_dedup_conf c;
    lia_dedup *d = NULL;
    lia_error err;
    lia_batch b;
    char ip[32];
    (void)state;
    lia__dedup_conf_default(&c);
    c.max_keys = 1000;
    assert_int_equal(lia__dedup_create(&c, &d, &err), LIA_OK);
    b.cap = 100;
    b.ev = calloc(b.cap, sizeof *b.ev);
    for (size_t i = 0; i < b.cap; i++)
        lia_event_init(&b.ev[i]);
    for (int round = 0; round < 100; round++) { /* 10,000 distinct keys */
        for (size_t i = 0; i < b.cap; i++) {
            unsigned v = (unsigned)(round * 100 + (int)i);
            snprintf(ip, sizeof ip, "10.%u.%u.%u", v >> 16, (v >> 8) & 255, v & 255);
            ev_make(&b.ev[i], ip, "23", "2026-11-27T00:00:00Z", i + 1);
        }
        b.n = b.cap;
        assert_int_equal(lia__dedup_batch(d, &b, &err), 0);
        assert_true(lia__dedup_keys(d) <= 1000);
    }
    assert_true(lia__dedup_evictions(d) >= 9000);
    for (size_t i = 0; i < b.cap; i++)
        lia_event_free(&b.ev[i]);
    free(b.ev);
    lia__dedup_destroy(d);
}

/* ---- through the pipeline, with a store ---- */

static char dir[] = "/tmp/lia_test_dedup_XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void ingest2(lia_store *s, const char *path, size_t batch, size_t commit, lia_ingest_result *res);
static void ingest(lia_store *s, const char *path, size_t batch, lia_ingest_result *res)
{
    ingest2(s, path, batch, batch, res);
}

static void ingest2(lia_store *s, const char *path, size_t batch, size_t commit, lia_ingest_result *res)
{
    lia_ingest_opts o;
    lia_error err;
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = path;
    o.feed.feed = "partner";
    o.feed.tlp = -1;
    o.feed.observed_us = 1764201600000000ll;
    o.batch = batch;
    o.commit_every = commit;
    lia_error_clear(&err);
    int rc = lia_ingest(s, &o, res, &err);
    if (rc)
        print_message("ingest %s: %s\n", path, err.reason);
    assert_int_equal(rc, LIA_OK);
}

typedef struct collect {
    lia_buf all;
    int n;
} collect;

static int on_event(void *ud, const lia_event *ev)
{
    collect *c = ud;
    lia_event_to_json(ev, &c->all);
    lia_buf_putc(&c->all, '\n');
    c->n++;
    return 0;
}

static void test_store(void **state)
{
    char db[4200], conf[4200], a[4200], bpath[4200], mmdb[4200];
    const char *td = getenv("LIAISON_TESTDATA");
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    lia_query q;
    collect c;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_true(lia_test_db_path(dir, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", dir);
    if (lia_test_pg()) /* a URI has no STORE.conf beside it */
        setenv("LIAISON_CONF", conf, 1);
    snprintf(a, sizeof a, "%s/a.jsonl", dir);
    snprintf(bpath, sizeof bpath, "%s/b.jsonl", dir);
    snprintf(mmdb, sizeof mmdb, "%s/ipdata/maxmind/GeoLite2-ASN-Test.mmdb", td ? td : "tests/data");
    {
        char text[8192];
        snprintf(text, sizeof text, "[ipdata]\nsource = mmdb %s\n[dedup]\nwindow = 1h\n", mmdb);
        write_file(conf, text);
    }
    /* key: classification.type + source.ip + source.port + feed.name */
    write_file(a,
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T10:00:00Z\"}\n"
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T10:10:00Z\"}\n"
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.2\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T10:15:00Z\"}\n"
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T10:20:00Z\"}\n"
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T12:00:00Z\"}\n");
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest(s, a, 2, &res); /* batches of 2: aggregates span batches and commits */
    assert_int_equal(res.report.rows, 5);
    assert_int_equal(res.report.events, 3);
    assert_int_equal(res.report.duplicates, 2);
    assert_int_equal(res.c[LIA_ST_DEDUP].in, 5);
    assert_int_equal(res.c[LIA_ST_DEDUP].out, 3);
    lia_store_close(s);

    /* a restart, another report: a duplicate of the first aggregate */
    write_file(bpath,
               "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\", \"source.port\": 23, "
               "\"time.source\": \"2026-11-27T12:30:00Z\"}\n");
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest(s, bpath, 0, &res);
    assert_int_equal(res.report.events, 0);
    assert_int_equal(res.report.duplicates, 1);

    memset(&q, 0, sizeof q);
    lia_buf_init(&c.all, 1 << 20);
    c.n = 0;
    assert_int_equal(lia_store_query(s, &q, on_event, &c, &err), LIA_OK);
    assert_int_equal(c.n, 3);
    print_message("%s", c.all.ptr);
    /* the first event carries the first aggregate (10:00 - 10:20; the 12:00
     * event is past the 1 h window and started the second one, which the
     * restarted run's 12:30 event joined); enrichment from STORE.conf */
    char lines[3][4096];
    const char *p = c.all.ptr;
    for (int i = 0; i < 3; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        snprintf(lines[i], sizeof lines[i], "%.*s", (int)(nl - p), p);
        p = nl + 1;
    }
    assert_non_null(strstr(lines[0], "\"extra.dedup_count\":3"));
    assert_non_null(strstr(lines[0], "\"extra.dedup_first_seen\":\"2026-11-27T10:00:00"));
    assert_non_null(strstr(lines[0], "\"extra.dedup_last_seen\":\"2026-11-27T10:20:00"));
    assert_non_null(strstr(lines[0], "\"source.asn\":1221"));
    assert_non_null(strstr(lines[0], "\"source.as_name\":\"Telstra Pty Ltd\""));
    assert_null(strstr(lines[1], "dedup_count")); /* 1.128.0.2: single */
    assert_non_null(strstr(lines[1], "\"source.ip\":\"1.128.0.2\""));
    assert_non_null(strstr(lines[2], "\"extra.dedup_count\":2"));
    assert_non_null(strstr(lines[2], "\"extra.dedup_first_seen\":\"2026-11-27T12:00:00"));
    assert_non_null(strstr(lines[2], "\"extra.dedup_last_seen\":\"2026-11-27T12:30:00"));
    lia_buf_free(&c.all);
    lia_store_close(s);

    /* the same report again is skipped whole (report hash), nothing counted twice */
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest(s, a, 2, &res);
    assert_int_equal(res.skipped, 1);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

#define EV(ip, t)                                                                                            \
    "{\"classification.type\": \"c2-server\", \"source.ip\": \"" ip "\", \"time.source\": \"2026-11-27T" t   \
    ":00Z\"}\n"

/* An aggregate replaced (its window passed) before the flush still gets
 * its final count: from an earlier batch of the same commit interval, from
 * the same batch, and in the first batch after a commit. */
static void test_store_replaced(void **state)
{
    char d3[] = "/tmp/lia_test_dedup3_XXXXXX", db[4200], conf[4200], a[4200], b2[4200];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    lia_query q;
    collect c;
    (void)state;
    assert_non_null(mkdtemp(d3));
    assert_true(lia_test_db_path(d3, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d3);
    if (lia_test_pg()) /* a URI has no STORE.conf beside it */
        setenv("LIAISON_CONF", conf, 1);
    snprintf(a, sizeof a, "%s/a.jsonl", d3);
    snprintf(b2, sizeof b2, "%s/b.jsonl", d3);
    write_file(conf, "[dedup]\nwindow = 1h\n[sectors]\nenabled = no\n");
    write_file(a, EV("192.0.2.1", "10:00") EV("192.0.2.1", "10:10") EV("192.0.2.9", "10:00") /* batch 1 */
               EV("192.0.2.1", "12:00") EV("192.0.2.1", "12:05") EV("192.0.2.8", "10:00")    /* batch 2 */
               EV("192.0.2.5", "09:00") EV("192.0.2.5", "09:10") EV("192.0.2.5", "11:00"));  /* batch 3 */
    write_file(b2, EV("192.0.2.1", "12:30") EV("192.0.2.1", "15:00"));
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest2(s, a, 3, 30, &res); /* one commit interval for the whole report */
    assert_int_equal(res.report.events, 6);
    assert_int_equal(res.report.duplicates, 3);
    ingest2(s, b2, 3, 30, &res);
    assert_int_equal(res.report.events, 1);
    assert_int_equal(res.report.duplicates, 1);

    memset(&q, 0, sizeof q);
    lia_buf_init(&c.all, 1 << 20);
    c.n = 0;
    assert_int_equal(lia_store_query(s, &q, on_event, &c, &err), LIA_OK);
    print_message("%s", c.all.ptr);
    assert_int_equal(c.n, 7);
    static const struct {
        const char *ip, *count, *last;
    } want[7] = {
        {"192.0.2.1", "2", "10:10"}, {"192.0.2.9", NULL, NULL},   {"192.0.2.1", "3", "12:30"},
        {"192.0.2.8", NULL, NULL},   {"192.0.2.5", "2", "09:10"}, {"192.0.2.5", NULL, NULL},
        {"192.0.2.1", NULL, NULL},
    };
    const char *p = c.all.ptr;
    for (int i = 0; i < 7; i++) {
        const char *nl = strchr(p, '\n');
        char line[4096], needle[128];
        assert_non_null(nl);
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        p = nl + 1;
        snprintf(needle, sizeof needle, "\"source.ip\":\"%s\"", want[i].ip);
        assert_non_null(strstr(line, needle));
        if (!want[i].count) {
            assert_null(strstr(line, "dedup_count"));
            continue;
        }
        snprintf(needle, sizeof needle, "\"extra.dedup_count\":%s", want[i].count);
        if (!strstr(line, needle))
            print_message("event %d: want %s in %s\n", i, needle, line);
        assert_non_null(strstr(line, needle));
        snprintf(needle, sizeof needle, "\"extra.dedup_last_seen\":\"2026-11-27T%s", want[i].last);
        assert_non_null(strstr(line, needle));
    }
    lia_buf_free(&c.all);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d3);
        assert_int_equal(system(cmd), 0);
    }
}

/* a broken STORE.conf stops the ingest with a clear error */
static void test_store_bad_conf(void **state)
{
    char d2[] = "/tmp/lia_test_dedup2_XXXXXX", db[4200], conf[4200], a[4200];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_opts o;
    lia_ingest_result res;
    (void)state;
    assert_non_null(mkdtemp(d2));
    assert_true(lia_test_db_path(d2, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d2);
    if (lia_test_pg()) /* a URI has no STORE.conf beside it */
        setenv("LIAISON_CONF", conf, 1);
    snprintf(a, sizeof a, "%s/a.jsonl", d2);
    write_file(conf, "[ipdata]\nsource = csv /nonexistent/asn.csv\n");
    write_file(a, "{\"classification.type\": \"c2-server\", \"source.ip\": \"1.128.0.1\"}\n");
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = a;
    o.feed.feed = "x";
    o.feed.tlp = -1;
    lia_error_clear(&err);
    assert_int_equal(lia_ingest(s, &o, &res, &err), LIA_EIO);
    assert_non_null(strstr(err.reason, "/nonexistent/asn.csv"));
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d2);
        assert_int_equal(system(cmd), 0);
    }
}

static int64_t dedup_rows(lia_store *s, const char *where)
{
    lia_stmt *st;
    lia_error err;
    char sql[256];
    int64_t n = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dedup%s", where);
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "test", sql, &st, &err), LIA_OK);
    if (lia__db_step(st, &err) == LIA_DB_ROW)
        n = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return n;
}

/* The dedup table does not keep every key forever: aggregates last seen
 * more than lia__dedup_keep_seconds() (here 7 days: two 1 h windows are
 * less) before the newest are deleted when the next ingest starts, once the
 * newest has moved on by a window; an event of a deleted aggregate then
 * starts a new one. */
static void test_store_prune(void **state)
{
    char d4[] = "/tmp/lia_test_dedup4_XXXXXX", db[4200], conf[4200], p[4200];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    lia_dedup_conf c;
    (void)state;
    lia__dedup_conf_default(&c);
    c.window_us = 3600ll * 1000000;
    assert_int_equal(lia__dedup_keep_seconds(&c), 7 * 86400);
    c.window_us = 30ll * 86400 * 1000000;
    assert_int_equal(lia__dedup_keep_seconds(&c), 60 * 86400);

    assert_non_null(mkdtemp(d4));
    assert_true(lia_test_db_path(d4, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d4);
    if (lia_test_pg()) /* a URI has no STORE.conf beside it */
        setenv("LIAISON_CONF", conf, 1);
    snprintf(p, sizeof p, "%s/r.jsonl", d4);
    write_file(conf, "[dedup]\nwindow = 1h\n");
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    /* reports are told apart by their content hash: each file differs */
    write_file(p, EV("10.0.0.1", "10:00") EV("10.0.0.1", "10:05"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 1);
    assert_int_equal(res.report.duplicates, 1);
    write_file(p, "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.0.2\","
                  " \"time.source\": \"2026-01-01T10:00:00Z\"}\n");
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 1);
    assert_int_equal(dedup_rows(s, ""), 2);
    /* an event dated in the future (a wrong clock) does not count as the
     * newest: it would make every other aggregate look old */
    write_file(p, "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.0.9\","
                  " \"time.source\": \"2099-01-01T00:00:00Z\"}\n");
    ingest(s, p, 0, &res);
    write_file(p, EV("10.0.0.8", "10:06"));
    ingest(s, p, 0, &res);
    assert_int_equal(dedup_rows(s, ""), 4);
    /* the newest moves on by more than a window (10:05 -> 12:00): the next
     * ingest prunes, not this one */
    write_file(p, EV("10.0.0.3", "12:00"));
    ingest(s, p, 0, &res);
    assert_int_equal(dedup_rows(s, ""), 5);
    /* the January aggregate (10:00) is gone, so a late copy at 10:01 is
     * stored anew instead of folded into it; a copy of 10.0.0.1 in its
     * window is still folded into its aggregate */
    write_file(p, "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.0.2\","
                  " \"time.source\": \"2026-01-01T10:01:00Z\"}\n" EV("10.0.0.1", "10:30"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 1);
    assert_int_equal(res.report.duplicates, 1);
    assert_int_equal(dedup_rows(s, ""), 5);
    assert_int_equal(dedup_rows(s, " WHERE first = 1767261600"), 0); /* 2026-01-01T10:00Z */
    assert_int_equal(dedup_rows(s, " WHERE first = 1767261660"), 1); /* 2026-01-01T10:01Z */
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d4);
        assert_int_equal(system(cmd), 0);
    }
}

/* ---- generations (SQLite: the state in tables dedup_G by first seen) ---- */

/* 2026-11-27 and 2026-11-28 (UTC) as generation numbers (days since 1970) */
#define G27 "20784"
#define G28 "20785"

static int64_t q1s(lia_store *s, const char *sql)
{
    lia_stmt *st;
    lia_error err;
    int64_t n = -1;
    int rc = lia__db_prepare_once(lia__store_db(s), "test", sql, &st, &err);
    if (rc)
        print_message("%s: %s\n", sql, err.reason);
    assert_int_equal(rc, LIA_OK);
    if (lia__db_step(st, &err) == LIA_DB_ROW)
        n = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return n;
}

#define EVD(ip, d, t)                                                                                        \
    "{\"classification.type\": \"c2-server\", \"source.ip\": \"" ip "\", \"time.source\": \"2026-11-" d      \
    "T" t ":00Z\"}\n"

/* One aggregate per line "ip count first last" of every stored event,
 * sorted, into out; returns the sum of the counts (the rows they stand
 * for). */
static int summary(lia_store *s, char *out, size_t len)
{
    lia_query q;
    lia_error err;
    collect c;
    char lines[64][160];
    int n = 0, total = 0;
    size_t w = 0;
    memset(&q, 0, sizeof q);
    lia_buf_init(&c.all, 1 << 20);
    c.n = 0;
    assert_int_equal(lia_store_query(s, &q, on_event, &c, &err), LIA_OK);
    for (const char *p = c.all.ptr; p && *p && n < 64; n++) {
        const char *nl = strchr(p, '\n'), *ip = strstr(p, "\"source.ip\":\""),
                   *k = strstr(p, "dedup_count\":");
        const char *f = strstr(p, "dedup_first_seen\":\""), *l = strstr(p, "dedup_last_seen\":\"");
        const char *t = strstr(p, "\"time.source\":\"");
        assert_non_null(nl);
        assert_true(ip && ip < nl && t && t < nl);
        if (k && k < nl) {
            int count = (int)strtol(k + 13, NULL, 10);
            assert_true(f && f < nl && l && l < nl);
            snprintf(lines[n], sizeof lines[n], "%.8s %d %.16s %.16s", ip + 13, count, f + 19, l + 18);
            total += count;
        } else {
            snprintf(lines[n], sizeof lines[n], "%.8s 1 %.16s %.16s", ip + 13, t + 15, t + 15);
            total++;
        }
        p = nl + 1;
    }
    lia_buf_free(&c.all);
    qsort(lines, (size_t)n, sizeof lines[0], (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (int i = 0; i < n && w + 170 < len; i++)
        w += (size_t)snprintf(out + w, len - w, "%s\n", lines[i]);
    return total;
}

/* Aggregates whose window spans midnight (two generations): found across
 * the boundary after a restart (the in-memory state gone), an aggregate
 * whose first seen moves back into the earlier day moves to its table,
 * and a prune drops a past generation whole. */
static void test_store_generations(void **state)
{
    char d5[] = "/tmp/lia_test_dedup5_XXXXXX", db[4200], conf[4200], p[4200], sum[4096];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    (void)state;
    if (lia_test_pg()) /* PostgreSQL keeps the one table */
        skip();
    assert_non_null(mkdtemp(d5));
    assert_true(lia_test_db_path(d5, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d5);
    snprintf(p, sizeof p, "%s/r.jsonl", d5);
    write_file(conf, "[dedup]\nwindow = 1h\n");
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, EVD("10.0.0.1", "27", "23:40") EVD("10.0.0.2", "28", "00:10"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 2);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G27), 1);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G28), 1);
    lia_store_close(s);

    /* a restart: 10.0.0.1 at 00:20 (the next day) joins the 23:40
     * aggregate; 10.0.0.2 at 23:50 (the day before) joins the 00:10 one,
     * whose first seen and row move into the 27th */
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, EVD("10.0.0.1", "28", "00:20") EVD("10.0.0.2", "27", "23:50"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 0);
    assert_int_equal(res.report.duplicates, 2);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G27), 2);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G28), 0);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup"), 2); /* the view: every generation */
    lia_store_close(s);

    /* again after a restart: 10.0.0.2 at 00:45 is found in the 27th (its
     * window, 23:50 +- 1 h, overlaps both days); 10.0.0.1 at 00:41 is past
     * its window (23:40 + 1 h) and starts a new aggregate in the 28th */
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, EVD("10.0.0.2", "28", "00:45") EVD("10.0.0.1", "28", "00:41"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 1);
    assert_int_equal(res.report.duplicates, 1);
    assert_int_equal(summary(s, sum, sizeof sum), 6);
    print_message("%s", sum);
    assert_string_equal(sum, "10.0.0.1 1 2026-11-28T00:41 2026-11-28T00:41\n"
                             "10.0.0.1 2 2026-11-27T23:40 2026-11-28T00:20\n"
                             "10.0.0.2 3 2026-11-27T23:50 2026-11-28T00:45\n");
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup WHERE count = 3 AND first = 1795823400"), 1);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G28), 1);
    lia_store_close(s);

    /* ten days on, the next ingest prunes: the 27th and 28th are dropped
     * whole (their tables gone), the new day's generation stays */
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.0.3\","
                  " \"time.source\": \"2026-12-08T10:00:00Z\"}\n");
    ingest(s, p, 0, &res);
    lia_store_close(s);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.0.3\","
                  " \"time.source\": \"2026-12-08T10:30:00Z\"}\n");
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.duplicates, 1);
    assert_int_equal(
        q1s(s, "SELECT count(*) FROM sqlite_master WHERE name IN ('dedup_" G27 "', 'dedup_" G28 "')"), 0);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup"), 1);
    assert_int_equal(q1s(s, "SELECT count FROM dedup"), 2);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d5);
        assert_int_equal(system(cmd), 0);
    }
}

/* A report of aggregates across two generations, in batches of 3 and
 * commits of 6 events. */
static const char gen_report[] = EVD("10.0.0.1", "27", "23:10") EVD("10.0.0.2", "27", "23:15")
    EVD("10.0.0.3", "27", "23:20") EVD("10.0.0.1", "27", "23:30") EVD("10.0.0.4", "27", "23:35")
        EVD("10.0.0.2", "27", "23:40") EVD("10.0.0.5", "27", "23:45") EVD("10.0.0.1", "27", "23:50")
            EVD("10.0.0.3", "28", "00:05") EVD("10.0.0.6", "28", "00:10") EVD("10.0.0.2", "28", "00:20")
                EVD("10.0.0.1", "28", "00:25") EVD("10.0.0.5", "27", "23:20") EVD("10.0.0.6", "27", "23:30")
                    EVD("10.0.0.4", "28", "00:40") EVD("10.0.0.1", "28", "01:00")
                        EVD("10.0.0.3", "28", "01:10") EVD("10.0.0.2", "28", "00:50")
                            EVD("10.0.0.6", "28", "00:55") EVD("10.0.0.1", "28", "02:40");

/* kill -9 in the middle of the report (in its fourth batch, written and
 * not committed), then the same ingest again: it resumes, and the store
 * holds exactly what an ingest never interrupted stores (the same events,
 * the same counts, first and last seen), every row counted once. */
static void test_store_generations_kill(void **state)
{
    char d6[] = "/tmp/lia_test_dedup6_XXXXXX", db[4200], db2[4200], conf[4200], conf2[4200], p[4200];
    char want[4096], got[4096];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    int status;
    int64_t rows, sum_count;
    pid_t pid;
    (void)state;
    if (lia_test_pg())
        skip();
    assert_non_null(mkdtemp(d6));
    assert_true(lia_test_db_path(d6, "a", db, sizeof db) >= 0);
    assert_true(lia_test_db_path(d6, "b", db2, sizeof db2) >= 0);
    snprintf(conf, sizeof conf, "%s/a.db.conf", d6);
    snprintf(conf2, sizeof conf2, "%s/b.db.conf", d6);
    snprintf(p, sizeof p, "%s/r.jsonl", d6);
    write_file(conf, "[dedup]\nwindow = 1h\n");
    write_file(conf2, "[dedup]\nwindow = 1h\n");
    write_file(p, gen_report);

    /* the uninterrupted ingest */
    assert_int_equal(lia_store_open(db2, &s, &err), LIA_OK);
    ingest2(s, p, 3, 6, &res);
    assert_int_equal(res.report.rows, 20);
    assert_int_equal(summary(s, want, sizeof want), 20);
    rows = q1s(s, "SELECT count(*) FROM dedup");
    sum_count = q1s(s, "SELECT sum(count) FROM dedup");
    lia_store_close(s);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr) || lia_store_open(db, &s, &err))
            _exit(99);
        setenv("LIAISON_FAULT", "ingest-mid-batch:4", 1);
        ingest2(s, p, 3, 6, &res);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest2(s, p, 3, 6, &res);
    assert_int_equal(summary(s, got, sizeof got), 20);
    print_message("uninterrupted:\n%skilled and resumed:\n%s", want, got);
    assert_string_equal(got, want);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup"), rows);
    assert_int_equal(q1s(s, "SELECT sum(count) FROM dedup"), sum_count);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d6);
        assert_int_equal(system(cmd), 0);
    }
}

/* A generation's Bloom filter never hides a key: 10,000 aggregates written
 * into a new generation in commits of 1,000 (the filter, built small at
 * the first lookup, is outgrown and built again twice as big), the memory
 * holding only 1,000 keys, then the same 10,000 again within the window:
 * every one is found in the store and folded. */
static void test_store_generations_bloom(void **state)
{
    char d7[] = "/tmp/lia_test_dedup7_XXXXXX", db[4200], conf[4200], p[4200];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    FILE *f;
    (void)state;
    if (lia_test_pg())
        skip();
    assert_non_null(mkdtemp(d7));
    assert_true(lia_test_db_path(d7, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d7);
    snprintf(p, sizeof p, "%s/r.jsonl", d7);
    write_file(conf, "[dedup]\nwindow = 1h\nmemory_keys = 1000\n");
    /* a first report, so that the next run looks keys up in the store */
    write_file(p, EVD("10.9.9.9", "27", "09:00"));
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest(s, p, 0, &res);
    lia_store_close(s);
    assert_non_null(f = fopen(p, "w"));
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 10000; i++)
            fprintf(f,
                    "{\"classification.type\": \"c2-server\", \"source.ip\": \"10.0.%d.%d\","
                    " \"time.source\": \"2026-11-27T10:%02d:%02dZ\"}\n",
                    i / 250, i % 250 + 1, i / 1000 * 5 + pass * 2, i % 60);
    fclose(f);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest2(s, p, 500, 1000, &res);
    assert_int_equal(res.report.rows, 20000);
    assert_int_equal(res.report.events, 10000);
    assert_int_equal(res.report.duplicates, 10000);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup WHERE count = 2"), 10000);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d7);
        assert_int_equal(system(cmd), 0);
    }
}

/* A store from before generations (one table dedup, schema version 1) is
 * converted by the first ingest that opens it: its aggregates are found
 * in their generations and go on folding. */
static void test_store_generations_upgrade(void **state)
{
    char d8[] = "/tmp/lia_test_dedup8_XXXXXX", db[4200], conf[4200], p[4200];
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_result res;
    (void)state;
    if (lia_test_pg())
        skip();
    assert_non_null(mkdtemp(d8));
    assert_true(lia_test_db_path(d8, "l", db, sizeof db) >= 0);
    snprintf(conf, sizeof conf, "%s/l.db.conf", d8);
    snprintf(p, sizeof p, "%s/r.jsonl", d8);
    write_file(conf, "[dedup]\nwindow = 1h\n");
    write_file(p,
               EVD("10.0.0.1", "27", "10:00") EVD("10.0.0.2", "27", "23:30") EVD("10.0.0.1", "27", "10:10"));
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 2);
    /* back to the layout of before: one table, version 1 */
    assert_int_equal(lia__db_exec(lia__store_db(s),
                                  "DROP VIEW dedup; CREATE TABLE dedup(key INTEGER PRIMARY KEY,"
                                  " event_id INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
                                  " count INTEGER NOT NULL); INSERT INTO dedup SELECT * FROM dedup_" G27 ";"
                                  " DROP TABLE dedup_" G27
                                  "; DELETE FROM enrich_meta WHERE name = 'dedup_gen_seconds';"
                                  " UPDATE lia_schema SET version = 1 WHERE module = 'dedup'",
                                  &err),
                     LIA_OK);
    assert_int_equal(q1s(s, "SELECT count(*) FROM sqlite_master WHERE name = 'dedup' AND type = 'table'"), 1);
    lia_store_close(s);

    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    write_file(p, EVD("10.0.0.1", "27", "10:20") EVD("10.0.0.2", "28", "00:10"));
    ingest(s, p, 0, &res);
    assert_int_equal(res.report.events, 0);
    assert_int_equal(res.report.duplicates, 2);
    assert_int_equal(q1s(s, "SELECT version FROM lia_schema WHERE module = 'dedup'"), 2);
    assert_int_equal(q1s(s, "SELECT count(*) FROM sqlite_master WHERE name = 'dedup' AND type = 'view'"), 1);
    assert_int_equal(q1s(s, "SELECT count(*) FROM dedup_" G27), 2);
    assert_int_equal(q1s(s, "SELECT sum(count) FROM dedup"), 5);
    lia_store_close(s);
    {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d8);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_store_replaced),
        cmocka_unit_test(test_store_bad_conf),
        cmocka_unit_test(test_store_prune),
        cmocka_unit_test(test_store_generations),
        cmocka_unit_test(test_store_generations_kill),
        cmocka_unit_test(test_store_generations_bloom),
        cmocka_unit_test(test_store_generations_upgrade),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("dedup"), tests, NULL, NULL);
}
