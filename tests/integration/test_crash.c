/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* kill -9 during ingest: the store stays intact, what was committed is
 * consistent with the report's progress, and running the same ingest again
 * resumes and ends with every row stored exactly once; two ingests of
 * different reports at once both complete, each row once. Runs the real
 * `liaison` binary (LIAISON_BIN), on SQLite or, with LIAISON_TEST_PG (the
 * meson test crash_pg), on PostgreSQL. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "store/backend.h"
#include "store/db.h"
#include "../pg/pg_test.h"

#define ROWS 300000

static char dir[64], db[128], report[128], report2[128], map[128];
static int rows = ROWS; /* of the report the test's setup wrote */

/* A report of rows rows, its addresses in NET.0.0.0/8. */
static void write_report(const char *path, int net)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("timestamp,ip,port,asn,geo\n", f);
    for (int i = 0; i < rows; i++)
        fprintf(f, "2024-05-01 %02d:%02d:%02d,%d.%d.%d.%d,%d,%d,%s\n", i / 3600 % 24, i / 60 % 60, i % 60,
                net, i >> 16 & 255, i >> 8 & 255, i & 255, 1 + i % 65000, 64496 + i % 50,
                i % 3 ? "NL" : "CN");
    fclose(f);
}

static void write_inputs(void)
{
    FILE *f;
    write_report(report, 10);
    f = fopen(map, "w");
    assert_non_null(f);
    fputs("{\"columns\": {\"timestamp\": \"time.source\", \"ip\": \"source.ip\", \"port\": \"source.port\","
          " \"asn\": \"source.asn\", \"geo\": \"source.geolocation.cc\"},"
          " \"constants\": {\"classification.type\": \"vulnerable-system\"}}",
          f);
    fclose(f);
}

static pid_t start_ingest_of(const char *path, const char *out)
{
    const char *bin = getenv("LIAISON_BIN");
    pid_t pid;
    assert_non_null(bin);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char errf[200];
        snprintf(errf, sizeof errf, "%s.err", out);
        if (!freopen(out, "w", stdout) || !freopen(errf, "w", stderr))
            _exit(99);
        execl(bin, bin, "--db", db, "ingest", "--feed", "crash", "--map", map, "-q", path, (char *)NULL);
        _exit(98);
    }
    return pid;
}

static pid_t start_ingest(const char *out)
{
    return start_ingest_of(report, out);
}

static int64_t q1(lia_db *h, const char *sql)
{
    lia_stmt *st;
    int64_t v = -1;
    if (lia__db_prepare_once(h, "test", sql, &st, NULL) != LIA_OK)
        return -1;
    if (lia__db_step(st, NULL) == LIA_DB_ROW)
        v = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return v;
}

/* Wait until the running ingest has committed more than `above` events. */
static int64_t wait_committed(pid_t pid, int64_t above)
{
    struct timespec ts = {0, 2000000};
    for (int i = 0; i < 60000; i++) {
        lia_db *h;
        int64_t n = -1;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -2; /* finished before we could kill it */
        if (lia__db_open(db, LIA_DB_READONLY, &h, NULL) == LIA_OK) {
            n = q1(h, "SELECT coalesce(max(events),0) FROM reports");
            lia__db_close(h);
        }
        if (n > above)
            return n;
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void check_consistent(int64_t *events_out)
{
    lia_store *s;
    lia_error err;
    lia_db *h;
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    assert_int_equal(lia_store_check(s, &err), LIA_OK);
    lia_store_close(s);
    assert_int_equal(lia__db_open(db, 0, &h, &err), LIA_OK);
    int64_t stored = q1(h, "SELECT count(*) FROM events");
    int64_t counted = q1(h, "SELECT events FROM reports");
    int64_t done = q1(h, "SELECT lines_done FROM reports");
    int64_t maxline = q1(h, "SELECT coalesce(max(line),0) FROM events");
    int64_t dups = q1(h, "SELECT count(*) - count(DISTINCT line) FROM events");
    lia__db_close(h);
    /* what is stored is exactly what the report's progress says */
    assert_int_equal(stored, counted);
    assert_true(maxline <= done);
    assert_int_equal(dups, 0);
    /* the report's progress matches its events: line = event index + 1 */
    assert_int_equal(done, stored + 1);
    *events_out = stored;
}

static void test_kill_and_resume(void **state)
{
    char out[160], buf[4096];
    int status;
    int64_t first, second;
    snprintf(out, sizeof out, "%s/out.txt", dir);

    /* 1. kill -9 right after the first commit */
    pid_t pid = start_ingest(out);
    int64_t seen = wait_committed(pid, 0);
    assert_true(seen > 0);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    check_consistent(&first);
    assert_true(first > 0 && first < rows);

    /* 2. resume, and kill again after more progress */
    pid = start_ingest(out);
    seen = wait_committed(pid, first);
    if (seen > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        check_consistent(&second);
        assert_true(second > first);
    } else {
        waitpid(pid, &status, 0);
    }

    /* 3. resume to the end: every row exactly once */
    pid = start_ingest(out);
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "(resumed)"));
    int64_t total;
    check_consistent(&total);
    assert_int_equal(total, rows);

    /* 4. once more: nothing stored twice */
    pid = start_ingest(out);
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    f = fopen(out, "r");
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "already ingested"));
    check_consistent(&total);
    assert_int_equal(total, rows);
}

/* Run the CLI's ingest of the report (stdout to out) and wait: its exit status. */
static int run_ingest(const char *out)
{
    int status;
    pid_t pid = start_ingest(out);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void read_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t got;
    assert_non_null(f);
    got = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[got] = '\0';
}

/* An ingest through the library with partitions of 10,000 events, in a
 * child that dies at the fault point PHASE (core/fault.h: the process
 * kills itself with SIGKILL there; a phase never reached: it finishes).
 * Returns the child's wait status. */
static int small_parts_ingest(const char *phase)
{
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lia_store *s;
        lia_ingest_opts o;
        lia_ingest_result res;
        lia_error err;
        if (!freopen("/dev/null", "w", stderr) || lia_store_open(db, &s, &err))
            _exit(99);
        lia__store_set_part_rows(s, 10000);
        memset(&o, 0, sizeof o);
        o.format = "csv";
        o.path = report;
        o.archive = 1;
        o.feed.feed = "crash";
        o.feed.map_path = map;
        o.feed.tlp = -1;
        o.commit_every = 15000; /* the first commit fills partition 1: its seal follows */
        setenv("LIAISON_FAULT", phase, 1);
        if (lia_ingest(s, &o, &res, &err))
            _exit(98);
        lia_store_close(s);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return status;
}

/* Full partitions (all but the last) that are not sealed with their five
 * secondary indexes; *full: how many partitions are full. */
static int unsealed(int *full)
{
    lia_db *h;
    int n;
    assert_int_equal(lia__db_open(db, LIA_DB_READONLY, &h, NULL), LIA_OK);
    *full = (int)q1(h, "SELECT count(*) FROM event_part WHERE n < (SELECT max(n) FROM event_part)");
    n = *full - (int)q1(h, "SELECT count(*) FROM event_part p WHERE n < (SELECT max(n) FROM event_part)"
                           " AND sealed = 1 AND (SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                           " AND tbl_name = 'events_' || p.n AND name NOT LIKE '%report') = 5");
    lia__db_close(h);
    return n;
}

/* kill -9 during a partition's seal (after its first index, right after
 * the checkpoint that filled it): nothing committed is lost, the partition
 * is not half sealed, and the same ingest again seals it, resumes and
 * completes the report. */
static void test_kill_during_seal(void **state)
{
    char out[160], buf[4096];
    int64_t total;
    int full = 0;
    lia_db *h;
    (void)state;
    if (lia_test_pg()) /* time partitions are the SQLite store's (issue 12) */
        skip();
    snprintf(out, sizeof out, "%s/out.txt", dir);
    int status = small_parts_ingest("partition-seal");
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_int_equal(lia__db_open(db, LIA_DB_READONLY, &h, NULL), LIA_OK);
    assert_int_equal(q1(h, "SELECT count(*) FROM reports WHERE state=2"), 0);
    assert_int_equal(q1(h, "SELECT count(*) FROM event_part WHERE sealed = 1"), 0);
    assert_int_equal(q1(h, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events_1'"
                           " AND name NOT LIKE '%report' AND name NOT LIKE '%time'"),
                     0); /* never half sealed (its time index: kept while it was the active one) */
    lia__db_close(h);
    assert_int_equal(unsealed(&full), 1);
    check_consistent(&total); /* opens the store for writing: that seals it */
    assert_int_equal(unsealed(&full), 0);
    assert_true(total >= 15000 && total < rows); /* the first commit, not more */

    assert_int_equal(run_ingest(out), 0);
    read_file(out, buf, sizeof buf);
    assert_null(strstr(buf, "already ingested"));
    assert_non_null(strstr(buf, "(resumed)"));
    assert_int_equal(unsealed(&full), 0);
    assert_int_equal(full, 2); /* 1 and 2 (10,000 each), then the rest in 3 */
    check_consistent(&total);
    assert_int_equal(total, rows);
    assert_int_equal(lia__db_open(db, LIA_DB_READONLY, &h, NULL), LIA_OK);
    assert_int_equal(q1(h, "SELECT count(*) FROM reports WHERE state=2"), 1);
    assert_true(q1(h, "SELECT reports FROM feed_stats WHERE stage=0") >= 1);
    lia__db_close(h);
}

/* A full partition left without its seal (killed between the commit that
 * filled it and the seal's) is sealed when the store is opened for
 * writing. */
static void test_unsealed_sealed_on_open(void **state)
{
    lia_store *s;
    lia_error err;
    lia_db *h;
    int full = 0;
    (void)state;
    if (lia_test_pg()) /* time partitions are the SQLite store's (issue 12) */
        skip();
    assert_int_equal(small_parts_ingest("none"), 0);
    assert_int_equal(unsealed(&full), 0);
    assert_true(full >= 2);
    assert_int_equal(lia__db_open(db, 0, &h, &err), LIA_OK);
    assert_int_equal(lia__db_exec(h,
                                  "DROP INDEX events_2_time; DROP INDEX events_2_class;"
                                  " UPDATE event_part SET sealed = 0 WHERE n = 2",
                                  &err),
                     LIA_OK);
    lia__db_close(h);
    assert_int_equal(unsealed(&full), 1);
    assert_int_equal(lia_store_open(db, &s, &err), LIA_OK);
    lia_store_close(s);
    assert_int_equal(unsealed(&full), 0);
}

/* Two `liaison ingest` of different reports into one store at once: both
 * complete, each report holds its rows once, the store the sum, the
 * rollups and routed counts the sum (on PostgreSQL, where writers do not
 * queue as SQLite's do, this is the migrations' lock, route reasons added
 * outside the batch's transaction and the shared counters upserted in key
 * order at its end). */
static void test_two_ingests_at_once(void **state)
{
    char out[160], out2[160], buf[4096];
    int status[2];
    pid_t pid[2];
    lia_db *h;
    lia_error err;
    (void)state;
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(out2, sizeof out2, "%s/out2.txt", dir);
    write_report(report2, 11);
    pid[0] = start_ingest_of(report, out);
    pid[1] = start_ingest_of(report2, out2);
    for (int k = 0; k < 2; k++)
        if (waitpid(pid[k], &status[k], 0) != pid[k])
            status[k] = -1;
    for (int k = 0; k < 2; k++) {
        char errf[200];
        snprintf(errf, sizeof errf, "%s.err", k ? out2 : out);
        read_file(errf, buf, sizeof buf);
        if (!WIFEXITED(status[k]) || WEXITSTATUS(status[k]) != 0)
            fail_msg("ingest %d: status %d, said: %s", k, status[k], buf);
    }
    assert_int_equal(lia__db_open(db, 0, &h, &err), LIA_OK);
    assert_int_equal(q1(h, "SELECT count(*) FROM reports WHERE state = 2"), 2);
    assert_int_equal(q1(h, "SELECT count(*) FROM events"), 2 * (int64_t)rows);
    assert_int_equal(q1(h, "SELECT min(events) FROM reports"), rows);
    assert_int_equal(q1(h, "SELECT count(*) FROM (SELECT report_id, line FROM events"
                           " GROUP BY report_id, line HAVING count(*) > 1) AS d"),
                     0);
    assert_int_equal(q1(h, "SELECT sum(n) FROM events_by_cc"), 2 * (int64_t)rows);
    assert_int_equal(q1(h, "SELECT sum(n) FROM events_by_report"), 2 * (int64_t)rows);
    /* the shared counters equal a recount, as after one ingest of both */
    assert_int_equal(q1(h, "SELECT sum(n) FROM events_by_day"), 2 * (int64_t)rows);
    assert_int_equal(q1(h, "SELECT count(*) FROM route_decision"), 2 * (int64_t)rows);
    assert_int_equal(q1(h, "SELECT coalesce(sum(n), 0) FROM route_delivered"),
                     q1(h, "SELECT count(*) FROM route_decision WHERE verdict = 1"));
    assert_int_equal(q1(h, "SELECT coalesce(sum(n), 0) FROM route_delivered_month"),
                     q1(h, "SELECT count(*) FROM route_decision WHERE verdict = 1"));
    assert_int_equal(q1(h, "SELECT count(*) FROM (SELECT text FROM route_reason GROUP BY text"
                           " HAVING count(*) > 1) AS d"),
                     0);
    lia__db_close(h);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/liaison-crash-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (lia_test_db_path(dir, "l", db, sizeof db) < 0)
        return -1;
    snprintf(report, sizeof report, "%s/report.csv", dir);
    snprintf(report2, sizeof report2, "%s/report2.csv", dir);
    snprintf(map, sizeof map, "%s/map.json", dir);
    write_inputs();
    return 0;
}

static int setup_full(void **state)
{
    rows = lia_test_pg() ? ROWS / 2 : ROWS; /* PostgreSQL stores fewer a second: three commits */
    return setup(state);
}

static int setup_small(void **state)
{
    rows = 40000;
    return setup(state);
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_and_resume, setup_full, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_seal, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_unsealed_sealed_on_open, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_two_ingests_at_once, setup_small, teardown),
    };
    if (getenv("LIA_TEST_ONLY")) /* one test by name, when working on it */
        cmocka_set_test_filter(getenv("LIA_TEST_ONLY"));
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("crash"), tests, NULL, NULL);
}
