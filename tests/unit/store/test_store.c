/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The events store, on SQLite and (the meson test store_pg) on PostgreSQL:
 * schema versioning, reports (new / partial / complete),
 * batches that only count once committed, every query filter, quarantine,
 * grouping and per-feed stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "liaison/liaison.h"
#include "store/db.h"
#include "store/backend.h"
#include "store/events.h"

typedef struct fx {
    char dir[64];
    char path[512];
    lia_store *s;
    int pg;
} fx;

/* A temporary SQLite file, or with LIAISON_TEST_PG (tests/pg/with_pg.sh:
 * the meson test store_pg) that PostgreSQL database, emptied first, its
 * archive in the temporary folder. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    const char *pg = getenv("LIAISON_TEST_PG");
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (pg && *pg) {
        char archive[128];
        lia_db *db;
        f->pg = 1;
        snprintf(f->path, sizeof f->path, "%s", pg);
        snprintf(archive, sizeof archive, "%s/archive", f->dir);
        setenv("LIAISON_ARCHIVE_DIR", archive, 1);
        if (lia__db_open(pg, 0, &db, &err) ||
            lia__db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", &err)) {
            print_error("emptying %s: %s\n", pg, err.reason);
            return -1;
        }
        lia__db_close(db);
    } else {
        snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    }
    if (lia_store_open(f->path, &f->s, &err)) {
        print_error("open %s: %s\n", f->path, err.reason);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[256];
    lia_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void make_event(lia_event *ev, const char *ip, const char *cc, const char *asn,
                       const char *type, const char *when)
{
    lia_error err;
    lia_event_reset(ev);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_IP, ip, strlen(ip), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, cc, strlen(cc), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_ASN, asn, strlen(asn), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, type, strlen(type), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_TIME_SOURCE, when, strlen(when), &err), LIA_OK);
    assert_int_equal(lia_event_finish(ev, &err), LIA_OK);
}

static int count_cb(void *ud, const lia_event *ev)
{
    (*(uint64_t *)ud)++;
    return 0;
}

static uint64_t query_n(lia_store *s, const lia_query *q)
{
    uint64_t n = 0, c = 0;
    lia_error err;
    assert_int_equal(lia_store_query(s, q, count_cb, &n, &err), LIA_OK);
    assert_int_equal(lia_store_count(s, q, &c, &err), LIA_OK);
    assert_int_equal(n, c);
    return n;
}

static void fill(fx *f, lia_report *r)
{
    static const char *rows[][5] = {
        {"192.0.2.1", "NL", "64496", "scanner", "2024-05-01 10:00:00"},
        {"192.0.2.200", "NL", "64496", "vulnerable-system", "2024-05-02 10:00:00"},
        {"198.51.100.7", "CN", "4134", "c2-server", "2024-05-03 10:00:00"},
        {"2001:db8::5", "DE", "3320", "phishing", "2024-05-04 10:00:00"},
        {"2001:db8:1::5", "DE", "3320", "infected-system", "2024-05-05 10:00:00"},
    };
    lia_event ev[5];
    lia_error err;
    memset(r, 0, sizeof *r);
    snprintf(r->hash, sizeof r->hash, "%064d", 1);
    snprintf(r->feed, sizeof r->feed, "feed-a");
    snprintf(r->name, sizeof r->name, "a.csv");
    assert_int_equal(lia__store_report_begin(f->s, r, &err), LIA_OK);
    assert_int_equal(r->state, LIA_REPORT_NEW);
    for (int i = 0; i < 5; i++) {
        lia_event_init(&ev[i]);
        make_event(&ev[i], rows[i][0], rows[i][1], rows[i][2], rows[i][3], rows[i][4]);
        ev[i].line = (uint64_t)i + 2;
    }
    assert_int_equal(lia__store_put_events(f->s, r, ev, 5, &err), LIA_OK);
    assert_true(ev[0].id > 0 && ev[4].id == ev[0].id + 4);
    r->events = 5;
    r->rows = 6;
    r->lines_done = 7;
    lia_error why;
    lia_error_set(&why, LIA_EINVAL, "source.ip", "1.2.3", 5, "bad address");
    assert_int_equal(lia__store_put_quarantine(f->s, r, 8, LIA_SLICE("1.2.3,NL"), &why, &err), LIA_OK);
    r->quarantined = 1;
    assert_int_equal(lia__store_checkpoint(f->s, r, &err), LIA_OK);
    for (int i = 0; i < 5; i++)
        lia_event_free(&ev[i]);
}

static void check_filters(fx *f)
{
    lia_query q;
    const char *why;
    memset(&q, 0, sizeof q);
    assert_int_equal(query_n(f->s, &q), 5);
    memcpy(q.cc, "NL", 3);
    assert_int_equal(query_n(f->s, &q), 2);
    memset(&q, 0, sizeof q);
    q.asn = 3320;
    assert_int_equal(query_n(f->s, &q), 2);
    memset(&q, 0, sizeof q);
    q.has_ip = 1;
    assert_int_equal(lia_parse_cidr("192.0.2.0/25", 12, &q.ip, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 1);
    assert_int_equal(lia_parse_cidr("192.0.2.0/24", 12, &q.ip, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 2);
    assert_int_equal(lia_parse_cidr("2001:db8::/48", 13, &q.ip, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 1);
    assert_int_equal(lia_parse_cidr("2001:db8::/32", 13, &q.ip, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 2);
    assert_int_equal(lia_parse_cidr("0.0.0.0/0", 9, &q.ip, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 3); /* IPv4 only */
    memset(&q, 0, sizeof q);
    q.classification = "malicious-code"; /* taxonomy: c2-server + infected-system */
    assert_int_equal(query_n(f->s, &q), 2);
    q.classification = "phishing";
    assert_int_equal(query_n(f->s, &q), 1);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_parse_time("2024-05-02 00:00:00", 19, &q.since_us, &why), LIA_OK);
    assert_int_equal(lia_parse_time("2024-05-04 10:00:00", 19, &q.until_us, &why), LIA_OK);
    assert_int_equal(query_n(f->s, &q), 2);
    memset(&q, 0, sizeof q);
    q.feed = "feed-b";
    assert_int_equal(query_n(f->s, &q), 0);
    q.feed = "feed-a";
    q.limit = 3;
    {
        uint64_t n = 0;
        lia_error err;
        assert_int_equal(lia_store_query(f->s, &q, count_cb, &n, &err), LIA_OK);
        assert_int_equal(n, 3);
    }
}

static void test_filters(void **state)
{
    fx *f = *state;
    lia_report r;
    fill(f, &r);
    check_filters(f);
}

/* One event by id, as `route explain` and notify read it. */
static void test_event_get(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_event ev;
    lia_error err;
    lia_slice cc;
    fill(f, &r);
    lia_event_init(&ev);
    assert_int_equal(lia_store_event_get(f->s, 3, &ev, &err), LIA_OK);
    assert_int_equal(ev.id, 3);
    assert_int_equal(ev.line, 4);
    assert_int_equal(ev.report_id, r.id);
    cc = lia_event_str(&ev, LIA_F_SOURCE_GEOLOCATION_CC);
    assert_int_equal(cc.len, 2);
    assert_memory_equal(cc.ptr, "CN", 2);
    assert_int_equal(lia_store_event_get(f->s, 6, &ev, &err), LIA_ENOTFOUND);
    assert_non_null(strstr(err.reason, "no event 6"));
    lia_event_free(&ev);
}

static int event_indexes(fx *f)
{
    lia_stmt *st;
    lia_error err;
    int n = -1;
    assert_int_equal(
        lia__db_prepare_pg(lia__store_db(f->s), "test: the events table's indexes",
                           "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='events'",
                           "SELECT count(*) FROM pg_indexes WHERE tablename = 'events' AND indexname <> "
                           "'events_pkey'",
                           &st, &err),
        LIA_OK);
    if (lia__db_step(st, &err) == LIA_DB_ROW)
        n = (int)lia__db_col_int64(st, 0);
    lia__db_done(st);
    return n;
}

/* An ingest that fails during a bulk load (the store closed without
 * report_finish) leaves the indexes built. */
static void test_bulk_load_fails(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_error err;
    if (!f->pg)
        skip(); /* SQLite has no bulk mode: its partitions (test_parts.c) */
    lia__store_set_bulk_min(f->s, 0);
    fill(f, &r);
    assert_int_equal(event_indexes(f), 1);
    lia_store_close(f->s);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    assert_int_equal(event_indexes(f), 6);
    check_filters(f);
}

/* A report large against the store loads without the five secondary
 * indexes (only report/line is kept), answers every filter rightly
 * meanwhile, and gets them back when finished. */
static void test_bulk_load(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_error err;
    if (!f->pg)
        skip(); /* SQLite has no bulk mode: its partitions (test_parts.c) */
    assert_int_equal(event_indexes(f), 6);
    lia__store_set_bulk_min(f->s, 0);
    fill(f, &r);
    assert_int_equal(event_indexes(f), 1);
    check_filters(f);
    assert_int_equal(lia__store_report_finish(f->s, &r, &err), LIA_OK);
    assert_int_equal(event_indexes(f), 6);
    check_filters(f);
    assert_int_equal(lia_store_check(f->s, &err), LIA_OK);
}

/* The process dies during a bulk load (a child that exits without closing
 * the store): the store stays consistent and right without the indexes,
 * and the next report's begin builds them. A report small against what is
 * stored keeps them. */
static void test_bulk_load_dies(void **state)
{
    fx *f = *state;
    lia_report r, r2;
    lia_error err;
    pid_t pid;
    int status;
    if (!f->pg)
        skip();            /* SQLite has no bulk mode: its partitions (test_parts.c) */
    lia_store_close(f->s); /* no SQLite connection across fork */
    f->s = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (lia_store_open(f->path, &f->s, &err))
            _exit(2);
        lia__store_set_bulk_min(f->s, 0);
        fill(f, &r);
        _exit(event_indexes(f) == 1 ? 0 : 3); /* committed, never finished, never closed */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    assert_int_equal(event_indexes(f), 1);
    assert_int_equal(lia_store_check(f->s, &err), LIA_OK);
    check_filters(f);
    lia__store_set_bulk_min(f->s, 0);
    memset(&r2, 0, sizeof r2);
    snprintf(r2.hash, sizeof r2.hash, "%064d", 2);
    snprintf(r2.feed, sizeof r2.feed, "feed-b");
    snprintf(r2.name, sizeof r2.name, "b.csv");
    r2.size = 5 * LIA_BULK_ROW_BYTES - 1; /* about 4 rows against 5 stored */
    assert_int_equal(lia__store_report_begin(f->s, &r2, &err), LIA_OK);
    assert_int_equal(event_indexes(f), 6);
    assert_int_equal(lia__store_report_finish(f->s, &r2, &err), LIA_OK);
    assert_int_equal(event_indexes(f), 6);
    check_filters(f);
}

typedef struct grp {
    char keys[8][16];
    uint64_t n[8];
    int count;
} grp;

static int grp_cb(void *ud, const char *key, uint64_t n)
{
    grp *g = ud;
    snprintf(g->keys[g->count], sizeof g->keys[0], "%s", key);
    g->n[g->count++] = n;
    return 0;
}

static void test_group_and_report(void **state)
{
    fx *f = *state;
    lia_report r, r2;
    lia_query q;
    lia_error err;
    grp g = {0};
    fill(f, &r);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(g.count, 3);
    assert_string_equal(g.keys[0], "DE"); /* 2, then NL 2 (ties by key), CN 1 */
    assert_int_equal(g.n[0], 2);
    assert_string_equal(g.keys[2], "CN");
    assert_int_equal(lia_store_group(f->s, &q, "bogus", 0, grp_cb, &g, &err), LIA_EINVAL);
    /* the same report again: found, with its progress */
    memset(&r2, 0, sizeof r2);
    memcpy(r2.hash, r.hash, sizeof r.hash);
    snprintf(r2.feed, sizeof r2.feed, "feed-a");
    assert_int_equal(lia__store_report_begin(f->s, &r2, &err), LIA_OK);
    assert_int_equal(r2.state, LIA_REPORT_PARTIAL);
    assert_int_equal(r2.id, r.id);
    assert_int_equal(r2.lines_done, 7);
    assert_int_equal(r2.events, 5);
    /* a partial report may not be resumed under another feed */
    snprintf(r2.feed, sizeof r2.feed, "feed-b");
    assert_int_equal(lia__store_report_begin(f->s, &r2, &err), LIA_EEXIST);
    assert_int_equal(lia__store_report_finish(f->s, &r, &err), LIA_OK);
    assert_int_equal(lia__store_report_get(f->s, r.id, &r2, &err), LIA_OK);
    assert_int_equal(r2.state, LIA_REPORT_COMPLETE);
    assert_int_equal(lia__store_report_get(f->s, 999, &r2, &err), LIA_ENOTFOUND);
}

static int q_cb(void *ud, const lia_qrow *row)
{
    lia_qrow *out = ud;
    assert_int_equal(row->line, 8);
    assert_string_equal(row->field, "source.ip");
    assert_string_equal(row->value, "1.2.3");
    assert_string_equal(row->reason, "bad address");
    assert_string_equal(row->report_name, "a.csv");
    assert_int_equal(row->raw.len, 8);
    assert_memory_equal(row->raw.ptr, "1.2.3,NL", 8);
    out->line = row->line;
    return 0;
}

static void test_quarantine(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_qrow got = {0};
    lia_error err;
    fill(f, &r);
    assert_int_equal(lia_store_quarantine_list(f->s, NULL, 0, 0, q_cb, &got, &err), LIA_OK);
    assert_int_equal(got.line, 8);
    got.line = 0;
    assert_int_equal(lia_store_quarantine_list(f->s, "other-feed", 0, 0, q_cb, &got, &err), LIA_OK);
    assert_int_equal(got.line, 0);
}

static void test_uncommitted_batch_is_lost(void **state)
{
    fx *f = *state;
    lia_report r, r2;
    lia_event ev;
    lia_error err;
    lia_query q;
    fill(f, &r);
    lia_event_init(&ev);
    make_event(&ev, "203.0.113.9", "FR", "64497", "scanner", "2024-05-06 00:00:00");
    assert_int_equal(lia__store_put_events(f->s, &r, &ev, 1, &err), LIA_OK);
    lia_event_free(&ev);
    lia_store_close(f->s); /* no checkpoint: as if the process died */
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    memset(&q, 0, sizeof q);
    assert_int_equal(query_n(f->s, &q), 5);
    assert_int_equal(lia__store_report_get(f->s, r.id, &r2, &err), LIA_OK);
    assert_int_equal(r2.lines_done, 7);
    assert_int_equal(lia_store_check(f->s, &err), LIA_OK);
}

static int count_key(void *ud, const char *key, uint64_t n)
{
    (void)key;
    *(uint64_t *)ud += n;
    return 0;
}

/* The dashboard's rollups count what was committed: a batch rolled back
 * (abort) is not in them, the next one is, and they sum to the events. */
static void test_rollups_follow_commits(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_event ev;
    lia_error err;
    lia_query q;
    uint64_t total = 0, stored = 0, by_cc = 0;
    fill(f, &r);
    lia_event_init(&ev);
    make_event(&ev, "203.0.113.9", "FR", "64497", "scanner", "2024-05-06 00:00:00");
    ev.line = 20;
    assert_int_equal(lia__store_put_events(f->s, &r, &ev, 1, &err), LIA_OK);
    lia__store_abort(f->s);
    make_event(&ev, "203.0.113.10", "FR", "64497", "scanner", "2024-05-06 00:00:00");
    ev.line = 21;
    assert_int_equal(lia__store_put_events(f->s, &r, &ev, 1, &err), LIA_OK);
    assert_int_equal(lia__store_checkpoint(f->s, &r, &err), LIA_OK);
    lia_event_free(&ev);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_count(f->s, &q, &stored, &err), LIA_OK);
    assert_int_equal(stored, 6);
    assert_int_equal(lia_store_rollup_total(f->s, &total, &err), LIA_OK);
    assert_int_equal(total, stored);
    assert_int_equal(lia_store_rollup(f->s, "cc", 0, count_key, &by_cc, &err), LIA_OK);
    assert_int_equal(by_cc, stored);
    by_cc = 0;
    assert_int_equal(lia_store_rollup(f->s, "class", 0, count_key, &by_cc, &err), LIA_OK);
    assert_int_equal(by_cc, stored);
}

static int stats_cb(void *ud, const char *feed, int stage, const lia_counter *c, uint64_t reports,
                    int64_t last)
{
    if (stage == LIA_ST_PARSE) {
        assert_string_equal(feed, "feed-a");
        assert_int_equal(c->in, 20);
        assert_int_equal(c->errors, 2);
        assert_int_equal(reports, 2);
        (*(int *)ud)++;
    }
    return 0;
}

static void test_stats(void **state)
{
    fx *f = *state;
    lia_counter c[LIA_ST__COUNT];
    lia_error err;
    int seen = 0;
    memset(c, 0, sizeof c);
    c[LIA_ST_PARSE].in = 10;
    c[LIA_ST_PARSE].errors = 1;
    assert_int_equal(lia__store_stats_add(f->s, "feed-a", c, &err), LIA_OK);
    assert_int_equal(lia__store_stats_add(f->s, "feed-a", c, &err), LIA_OK);
    assert_int_equal(lia_store_stats(f->s, stats_cb, &seen, &err), LIA_OK);
    assert_int_equal(seen, 1);
}

static void test_schema_versions(void **state)
{
    fx *f = *state;
    lia_db *db;
    lia_store *s2;
    lia_error err;
    assert_int_equal(lia_store_schema_version(f->s), LIA_STORE_SCHEMA_VERSION);
    lia_store_close(f->s);
    f->s = NULL;
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, "UPDATE lia_schema SET version=99 WHERE module='store'", &err), LIA_OK);
    lia__db_close(db);
    assert_int_equal(lia_store_open(f->path, &s2, &err), LIA_ESCHEMA);
    assert_non_null(strstr(err.reason, "store schema version 99 is newer"));
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, "UPDATE lia_schema SET version=1 WHERE module='store'", &err), LIA_OK);
    lia__db_close(db);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncommitted_batch_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups_follow_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_versions, setup, teardown),
    };
    const char *pg = getenv("LIAISON_TEST_PG");
    if (pg && *pg)
        return cmocka_run_group_tests_name("store on PostgreSQL", tests, NULL, NULL);
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
