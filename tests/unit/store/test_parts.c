/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The events' partitions on SQLite (src/store/parts.h), with partitions of
 * 4 events: roll-over, sealing, queries across partitions (order, limit,
 * paging, time ranges), event_get by id, an uncommitted roll-over, a kill
 * during sealing, a prune that drops whole partitions (rollups still
 * exact), and the adoption of a store of one events table. */
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
#include "store/backend.h"
#include "store/db.h"
#include "store/events.h"
#include "store/parts.h"

#define PART 4

typedef struct fx {
    char dir[64];
    char path[512];
    lia_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-parts-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    if (lia_store_open(f->path, &f->s, &err)) {
        print_error("open %s: %s\n", f->path, err.reason);
        return -1;
    }
    lia__store_set_part_rows(f->s, PART);
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

static int64_t q1(lia_store *s, const char *sql)
{
    lia_stmt *st;
    lia_error err;
    int64_t v = -1;
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "test", sql, &st, &err), LIA_OK);
    if (lia__db_step(st, &err) == LIA_DB_ROW)
        v = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return v;
}

static const char *const ccs[] = {"NL", "DE", "CN"};

/* Event i (1-based, in report order): source 192.0.2.i, country ccs[i % 3],
 * ASN 64500 + i % 2, day 2024-05-i. */
static void make_event(lia_event *ev, int i)
{
    char ip[32], asn[16], when[32];
    lia_error err;
    lia_event_reset(ev);
    snprintf(ip, sizeof ip, "192.0.2.%d", i);
    snprintf(asn, sizeof asn, "%d", 64500 + i % 2);
    snprintf(when, sizeof when, "2024-05-%02d 10:00:00", i);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_IP, ip, strlen(ip), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, ccs[i % 3], 2, &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_SOURCE_ASN, asn, strlen(asn), &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "scanner", 7, &err), LIA_OK);
    assert_int_equal(lia_event_set(ev, LIA_F_TIME_SOURCE, when, strlen(when), &err), LIA_OK);
    assert_int_equal(lia_event_finish(ev, &err), LIA_OK);
}

/* Report `hash` with events first..first+n-1 (make_event), committed in
 * one checkpoint, then complete. */
static void store_report(lia_store *s, int hash, int first, int n, lia_report *r)
{
    lia_event ev[32];
    lia_error err;
    assert_true(n <= 32);
    memset(r, 0, sizeof *r);
    snprintf(r->hash, sizeof r->hash, "%064d", hash);
    snprintf(r->feed, sizeof r->feed, "feed-%d", hash);
    snprintf(r->name, sizeof r->name, "r%d.csv", hash);
    assert_int_equal(lia__store_report_begin(s, r, &err), LIA_OK);
    for (int i = 0; i < n; i++) {
        lia_event_init(&ev[i]);
        make_event(&ev[i], first + i);
        ev[i].line = (uint64_t)i + 1;
    }
    assert_int_equal(lia__store_put_events(s, r, ev, (size_t)n, &err), LIA_OK);
    for (int i = 1; i < n; i++)
        assert_int_equal(ev[i].id, ev[0].id + i);
    r->events = r->rows = r->lines_done = (uint64_t)n;
    assert_int_equal(lia__store_checkpoint(s, r, &err), LIA_OK);
    assert_int_equal(lia__store_report_finish(s, r, &err), LIA_OK);
    for (int i = 0; i < n; i++)
        lia_event_free(&ev[i]);
}

typedef struct seen {
    int64_t ids[64];
    int n;
} seen;

static int seen_cb(void *ud, const lia_event *ev)
{
    seen *v = ud;
    assert_true(v->n < 64);
    v->ids[v->n++] = ev->id;
    return 0;
}

static seen query(lia_store *s, const lia_query *q)
{
    seen v = {{0}, 0};
    lia_error err;
    uint64_t c = 0;
    assert_int_equal(lia_store_query(s, q, seen_cb, &v, &err), LIA_OK);
    if (!q->limit) {
        assert_int_equal(lia_store_count(s, q, &c, &err), LIA_OK);
        assert_int_equal(c, (uint64_t)v.n);
    }
    for (int i = 1; i < v.n; i++)
        assert_true(v.ids[i] > v.ids[i - 1]); /* id order across partitions */
    return v;
}

static int sec_indexes(lia_store *s, int n)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='events_%d'"
             " AND name NOT LIKE '%%report'",
             n);
    return (int)q1(s, sql);
}

/* 10 events in partitions of 4: three partitions, the two full ones sealed
 * with their five indexes, the active one with its time index only; ids
 * consecutive. */
static void test_rollover_and_seal(void **state)
{
    fx *f = *state;
    lia_report r;
    store_report(f->s, 1, 1, 10, &r);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 3);
    assert_int_equal(q1(f->s, "SELECT group_concat(lo || '-' || hi || ':' || rows || ':' || sealed, ' ') = "
                              "'1-4:4:1 5-8:4:1 9-12:2:0' FROM event_part ORDER BY n"),
                     1);
    assert_int_equal(sec_indexes(f->s, 1), 5);
    assert_int_equal(sec_indexes(f->s, 2), 5);
    assert_int_equal(sec_indexes(f->s, 3), 1);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM sqlite_master WHERE name = 'events_3_time'"), 1);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 10);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events_2"), 4);
    /* the catalog's time range of partition 2: days 5 to 8 */
    assert_int_equal(q1(f->s, "SELECT tmax - tmin FROM event_part WHERE n = 2"), 3 * 86400000000LL);
    assert_int_equal(lia_store_check(f->s, NULL), LIA_OK);
}

/* Order, limits and paging across partitions; every filter; groups. */
static void test_queries_across(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_query q;
    lia_error err;
    const char *why;
    seen v;
    store_report(f->s, 1, 1, 10, &r);
    memset(&q, 0, sizeof q);
    v = query(f->s, &q);
    assert_int_equal(v.n, 10);
    assert_int_equal(v.ids[0], 1);
    assert_int_equal(v.ids[9], 10);
    /* a page of 3 after id 2: 3, 4 (partition 1), 5 (partition 2) */
    q.after_id = 2;
    q.limit = 3;
    v = query(f->s, &q);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.ids[0], 3);
    assert_int_equal(v.ids[2], 5);
    /* the next page from there, until the end */
    q.after_id = 5;
    q.limit = 100;
    v = query(f->s, &q);
    assert_int_equal(v.n, 5);
    assert_int_equal(v.ids[0], 6);
    /* a country in every partition (NL: i % 3 == 0, 3, 6, 9), limit 2 */
    memset(&q, 0, sizeof q);
    memcpy(q.cc, "NL", 3);
    v = query(f->s, &q);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.ids[0], 3);
    assert_int_equal(v.ids[2], 9);
    q.limit = 2;
    v = query(f->s, &q);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.ids[1], 6);
    memset(&q, 0, sizeof q);
    q.asn = 64501; /* odd i */
    assert_int_equal(query(f->s, &q).n, 5);
    memset(&q, 0, sizeof q);
    q.has_ip = 1;
    assert_int_equal(lia_parse_cidr("192.0.2.4/30", 12, &q.ip, &why), LIA_OK); /* .4 to .7 */
    v = query(f->s, &q);
    assert_int_equal(v.n, 4);
    assert_int_equal(v.ids[0], 4);
    assert_int_equal(v.ids[3], 7);
    /* a time range inside partition 2 (days 6 and 7): only it is read */
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_parse_time("2024-05-06 00:00:00", 19, &q.since_us, &why), LIA_OK);
    assert_int_equal(lia_parse_time("2024-05-08 00:00:00", 19, &q.until_us, &why), LIA_OK);
    v = query(f->s, &q);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.ids[0], 6);
    {
        lia__part *parts;
        size_t np;
        assert_int_equal(lia__parts_list(lia__store_db(f->s), q.since_us, q.until_us, 0, &parts, &np, &err),
                         LIA_OK);
        assert_int_equal(np, 1);
        assert_int_equal(parts[0].n, 2);
        free(parts);
        /* a range before every event reads none */
        assert_int_equal(lia__parts_list(lia__store_db(f->s), 1, 2, 0, &parts, &np, &err), LIA_OK);
        assert_int_equal(np, 0);
        free(parts);
    }
    /* a range across the three partitions */
    assert_int_equal(lia_parse_time("2024-05-04 00:00:00", 19, &q.since_us, &why), LIA_OK);
    assert_int_equal(lia_parse_time("2024-05-10 00:00:00", 19, &q.until_us, &why), LIA_OK);
    v = query(f->s, &q);
    assert_int_equal(v.n, 6); /* days 4 to 9 */
    assert_int_equal(v.ids[5], 9);
    /* feed */
    memset(&q, 0, sizeof q);
    q.feed = "feed-1";
    assert_int_equal(query(f->s, &q).n, 10);
    /* groups add the partitions up */
    {
        uint64_t n = 0;
        memset(&q, 0, sizeof q);
        assert_int_equal(lia_store_count(f->s, &q, &n, &err), LIA_OK);
        assert_int_equal(n, 10);
    }
}

typedef struct grp {
    char keys[8][16];
    uint64_t n[8];
    int count;
} grp;

static int grp_cb(void *ud, const char *key, uint64_t n)
{
    grp *g = ud;
    assert_true(g->count < 8);
    snprintf(g->keys[g->count], sizeof g->keys[0], "%s", key);
    g->n[g->count++] = n;
    return 0;
}

static void test_group_across(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_query q;
    lia_error err;
    const char *why;
    grp g = {0};
    store_report(f->s, 1, 1, 10, &r);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(g.count, 3);
    assert_string_equal(g.keys[0], "DE"); /* 1, 4, 7, 10 */
    assert_int_equal(g.n[0], 4);
    assert_int_equal(g.n[1] + g.n[2], 6);
    /* with a filter and a time range, each partition's arm bound alike */
    memset(&g, 0, sizeof g);
    q.asn = 64500; /* even i: 2, 4, 6, 8, 10 */
    assert_int_equal(lia_parse_time("2024-05-03 00:00:00", 19, &q.since_us, &why), LIA_OK);
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &g, &err), LIA_OK);
    /* 4 (DE), 6 (NL), 8 (CN), 10 (DE) */
    assert_int_equal(g.count, 3);
    assert_string_equal(g.keys[0], "DE");
    assert_int_equal(g.n[0], 2);
    memset(&g, 0, sizeof g);
    assert_int_equal(lia_store_group(f->s, &q, "feed", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.n[0], 4);
    /* a time range no partition has: no group */
    memset(&g, 0, sizeof g);
    q.since_us = 1;
    q.until_us = 2;
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(g.count, 0);
}

/* event_get by id in each partition, and an id no partition owns. */
static void test_event_get_across(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_event ev;
    lia_error err;
    store_report(f->s, 1, 1, 10, &r);
    lia_event_init(&ev);
    for (int id = 1; id <= 10; id++) {
        char ip[64], want[32];
        assert_int_equal(lia_store_event_get(f->s, id, &ev, &err), LIA_OK);
        assert_int_equal(ev.id, id);
        assert_int_equal(ev.line, id);
        lia_ip_format(&ev.v[LIA_F_SOURCE_IP].ip, 0, ip, sizeof ip);
        snprintf(want, sizeof want, "192.0.2.%d", id);
        assert_string_equal(ip, want);
    }
    assert_int_equal(lia_store_event_get(f->s, 11, &ev, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_store_event_get(f->s, 1000, &ev, &err), LIA_ENOTFOUND);
    lia_event_free(&ev);
}

/* A batch that rolled over and was not committed leaves no partition and
 * no id behind. */
static void test_rollover_rolled_back(void **state)
{
    fx *f = *state;
    lia_report r, r2;
    lia_event ev[6];
    lia_error err;
    memset(&r, 0, sizeof r);
    snprintf(r.hash, sizeof r.hash, "%064d", 7);
    snprintf(r.feed, sizeof r.feed, "feed-7");
    snprintf(r.name, sizeof r.name, "r7.csv");
    assert_int_equal(lia__store_report_begin(f->s, &r, &err), LIA_OK);
    for (int i = 0; i < 6; i++) {
        lia_event_init(&ev[i]);
        make_event(&ev[i], i + 1);
        ev[i].line = (uint64_t)i + 1;
    }
    assert_int_equal(lia__store_put_events(f->s, &r, ev, 6, &err), LIA_OK);
    assert_int_equal(ev[5].id, 6);
    lia__store_abort(f->s);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 1);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 0);
    for (int i = 0; i < 6; i++)
        lia_event_free(&ev[i]);
    store_report(f->s, 8, 1, 6, &r2);
    assert_int_equal(q1(f->s, "SELECT min(id) || max(id) FROM events"), 16);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 2);
}

/* Killed during a seal (after its first index): the partition is not
 * sealed and has none of its secondary indexes, every committed event is
 * there; the next open seals it. */
static void test_killed_while_sealing(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_error err;
    pid_t pid;
    int status;
    lia_store_close(f->s); /* no SQLite connection across fork */
    f->s = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (lia_store_open(f->path, &f->s, &err))
            _exit(2);
        lia__store_set_part_rows(f->s, PART);
        setenv("LIAISON_FAULT", "partition-seal", 1);
        store_report(f->s, 1, 1, 6, &r);
        _exit(3); /* not reached: killed at the seal after the checkpoint */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    {
        lia_db *db;
        lia_stmt *st;
        assert_int_equal(lia__db_open(f->path, LIA_DB_READONLY, &db, &err), LIA_OK);
        assert_int_equal(lia__db_prepare_once(
                             db, "t",
                             "SELECT (SELECT count(*) FROM events),"
                             " (SELECT sealed FROM event_part WHERE n = 1),"
                             " (SELECT count(*) FROM sqlite_master WHERE tbl_name = 'events_1'"
                             "  AND type = 'index' AND name NOT LIKE '%report' AND name NOT LIKE '%time')",
                             &st, &err),
                         LIA_OK);
        assert_int_equal(lia__db_step(st, &err), LIA_DB_ROW);
        assert_int_equal(lia__db_col_int64(st, 0), 6); /* the checkpoint committed them */
        assert_int_equal(lia__db_col_int64(st, 1), 0);
        assert_int_equal(lia__db_col_int64(st, 2), 0); /* never half sealed */
        lia__db_done(st);
        lia__db_close(db);
    }
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    assert_int_equal(q1(f->s, "SELECT sealed FROM event_part WHERE n = 1"), 1);
    assert_int_equal(sec_indexes(f->s, 1), 5);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 6);
}

static uint64_t total_of(lia_store *s)
{
    uint64_t n = 0;
    lia_error err;
    assert_int_equal(lia_store_rollup_total(s, &n, &err), LIA_OK);
    return n;
}

/* Report 1 (6 events: partition 1 whole, half of 2) is pruned: partition 1
 * dropped, partition 2's rows of it deleted; the rollups still equal a
 * recount, report 2 is whole and its events found by id. */
static void test_prune_drops_partitions(void **state)
{
    fx *f = *state;
    lia_report r1, r2;
    lia_prune_rule rule = {NULL, NULL, 0};
    lia_prune_result res;
    lia_event ev;
    lia_error err;
    grp g = {0}, h = {0};
    lia_query q;
    store_report(f->s, 1, 1, 6, &r1);
    store_report(f->s, 2, 7, 4, &r2);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 3);
    assert_int_equal(
        lia__db_exec(lia__store_db(f->s), "UPDATE reports SET started = 1000 WHERE id = 1", &err), LIA_OK);
    rule.before_us = 2000;
    /* a dry run drops nothing */
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 1, &res, &err), LIA_OK);
    assert_int_equal(res.events, 6);
    assert_int_equal(res.partitions, 1);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 3);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 10);
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.reports, 1);
    assert_int_equal(res.events, 6);
    assert_int_equal(res.partitions, 1);
    assert_int_equal(q1(f->s, "SELECT group_concat(n, '') FROM event_part ORDER BY n"), 23);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM sqlite_master WHERE name = 'events_1'"), 0);
    assert_int_equal(q1(f->s, "SELECT rows FROM event_part WHERE n = 2"), 2);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 4);
    assert_int_equal(total_of(f->s), 4);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_rollup(f->s, "cc", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &h, &err), LIA_OK);
    assert_int_equal(g.count, h.count);
    for (int i = 0; i < g.count; i++) {
        assert_string_equal(g.keys[i], h.keys[i]);
        assert_int_equal(g.n[i], h.n[i]);
    }
    assert_int_equal(query(f->s, &q).n, 4);
    lia_event_init(&ev);
    assert_int_equal(lia_store_event_get(f->s, 3, &ev, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_store_event_get(f->s, 7, &ev, &err), LIA_OK);
    assert_int_equal(ev.report_id, r2.id);
    lia_event_free(&ev);
    /* new events go on after the last id */
    store_report(f->s, 3, 11, 3, &r1);
    assert_int_equal(q1(f->s, "SELECT max(id) FROM events"), 13);
    assert_int_equal(lia_store_check(f->s, NULL), LIA_OK);
}

/* A store of one events table (as before partitions: made here from a
 * partitioned one, indexes under their old names) is adopted: the table
 * becomes partition 1, sealed, its rows where they were (same root page),
 * and new events go to partition 2. */
static void test_adopt_single_table(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_db *db;
    lia_error err;
    int64_t root;
    lia_query q;
    store_report(f->s, 1, 1, 3, &r);
    lia_store_close(f->s);
    f->s = NULL;
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    assert_int_equal(
        lia__db_exec(db,
                     "DROP VIEW events; ALTER TABLE events_1 RENAME TO events;"
                     " CREATE INDEX events_time ON events(time);"
                     " CREATE INDEX events_src_ip ON events(src_ip);"
                     " CREATE INDEX events_src_cc ON events(src_cc);"
                     " CREATE INDEX events_src_asn ON events(src_asn);"
                     " CREATE INDEX events_class ON events(class);"
                     " DROP TABLE event_part; DELETE FROM lia_schema WHERE module = 'store.parts'",
                     &err),
        LIA_OK);
    {
        lia_stmt *st;
        assert_int_equal(lia__db_prepare_once(
                             db, "t", "SELECT rootpage FROM sqlite_master WHERE name = 'events'", &st, &err),
                         LIA_OK);
        assert_int_equal(lia__db_step(st, &err), LIA_DB_ROW);
        root = lia__db_col_int64(st, 0);
        lia__db_done(st);
    }
    lia__db_close(db);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    lia__store_set_part_rows(f->s, PART);
    assert_int_equal(q1(f->s, "SELECT rootpage FROM sqlite_master WHERE name = 'events_1'"), root);
    assert_int_equal(
        q1(f->s, "SELECT lo = 1 AND hi = 3 AND rows = 3 AND sealed = 1 FROM event_part WHERE n = 1"), 1);
    assert_int_equal(q1(f->s, "SELECT lo FROM event_part WHERE n = 2"), 4);
    memset(&q, 0, sizeof q);
    assert_int_equal(query(f->s, &q).n, 3);
    store_report(f->s, 2, 4, 2, &r);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events_2"), 2);
    assert_int_equal(query(f->s, &q).n, 5);
    memcpy(q.cc, "DE", 3); /* 1, 4 */
    assert_int_equal(query(f->s, &q).n, 2);
}

/* More partitions than one compound SELECT may name (LIA_PART_VIEW_ARMS):
 * the view nests, queries, counts and groups still see every event. */
static void test_many_partitions(void **state)
{
    fx *f = *state;
    lia_report r;
    lia_query q;
    lia_error err;
    grp g = {0};
    uint64_t n = 0;
    lia__store_set_part_rows(f->s, 1);
    for (int k = 0; k < 14; k++) /* 14 x 30 = 420 partitions of one event */
        store_report(f->s, k + 1, 1, 30, &r);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM event_part"), 420);
    assert_true(
        q1(f->s, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name GLOB 'events_v*'") == 2);
    assert_int_equal(q1(f->s, "SELECT count(*) FROM events"), 420);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_count(f->s, &q, &n, &err), LIA_OK);
    assert_int_equal(n, 420);
    q.after_id = 390; /* across partitions 400 and 401 (the two sub-views) */
    q.limit = 50;
    {
        seen v = query(f->s, &q);
        assert_int_equal(v.n, 30);
        assert_int_equal(v.ids[0], 391);
        assert_int_equal(v.ids[29], 420);
    }
    q.after_id = 0;
    q.limit = 0;
    assert_int_equal(lia_store_group(f->s, &q, "cc", 0, grp_cb, &g, &err), LIA_OK);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.n[0] + g.n[1] + g.n[2], 420);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollover_and_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries_across, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_across, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_get_across, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover_rolled_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_while_sealing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_drops_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_single_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_partitions, setup, teardown),
    };
    return cmocka_run_group_tests_name("store partitions", tests, NULL, NULL);
}
