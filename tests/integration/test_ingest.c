/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Ingest whole reports through lia_ingest and query them back: counts,
 * provenance (report and line), quarantine, the archive, the same report
 * twice, standard input, and per-stage counters; on SQLite, or with
 * LIAISON_TEST_PG (the meson test ingest_pg) on PostgreSQL. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "../pg/pg_test.h"

typedef struct fx {
    char dir[64];
    char db[128];
    lia_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-ingest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (lia_test_db_path(f->dir, "l", f->db, sizeof f->db) < 0)
        return -1;
    if (lia_store_open(f->db, &f->s, &err))
        return -1;
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

static char *write_file(fx *f, const char *name, const char *text, size_t len)
{
    char *path = malloc(256);
    FILE *fp;
    snprintf(path, 256, "%s/%s", f->dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    fclose(fp);
    return path;
}

static const char report_jsonl[] =
    "{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"scanner\",\"source.geolocation.cc\":\"NL\"}\n"
    "{\"source.ip\":\"192.0.2.999\",\"classification.type\":\"scanner\"}\n"
    "\n"
    "{\"source.ip\":\"2001:db8::1\",\"classification.type\":\"c2-server\",\"tlp\":\"RED\"}\n"
    "{broken\n"
    "{\"source.ip\":\"198.51.100.1\",\"classification.type\":\"phishing\"}\n";

typedef struct seen {
    int n;
    uint64_t lines[16];
    char tlp[16][16];
    char feed[16][32];
} seen;

static int seen_cb(void *ud, const lia_event *ev)
{
    seen *s = ud;
    s->lines[s->n] = ev->line;
    lia_event_text(ev, LIA_F_TLP, s->tlp[s->n], sizeof s->tlp[0]);
    lia_event_text(ev, LIA_F_FEED_NAME, s->feed[s->n], sizeof s->feed[0]);
    assert_true(ev->report_id > 0);
    assert_true(ev->id > 0);
    s->n++;
    return 0;
}

static void ingest(fx *f, const char *format, const char *path, const char *map, lia_ingest_result *res,
                   int expect_rc)
{
    lia_ingest_opts o;
    lia_error err;
    memset(&o, 0, sizeof o);
    o.format = format;
    o.path = path;
    o.archive = 1;
    o.feed.feed = "test-feed";
    o.feed.map_path = map;
    o.feed.tlp = LIA_TLP_GREEN;
    o.feed.observed_us = 1700000000000000;
    o.batch = 2; /* several batches and checkpoints even for a small report */
    o.commit_every = 2;
    lia_error_clear(&err);
    int rc = lia_ingest(f->s, &o, res, &err);
    if (rc != expect_rc) {
        char msg[1024];
        lia_error_format(&err, msg, sizeof msg);
        print_error("ingest: %s\n", msg);
    }
    assert_int_equal(rc, expect_rc);
}

static void test_jsonl_report(void **state)
{
    fx *f = *state;
    char *path = write_file(f, "r.jsonl", report_jsonl, sizeof report_jsonl - 1);
    lia_ingest_result res;
    lia_query q;
    lia_error err;
    seen s = {0};
    ingest(f, "jsonl", path, NULL, &res, LIA_OK);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.report.rows, 5);
    assert_int_equal(res.report.events, 3);
    assert_int_equal(res.report.quarantined, 2);
    assert_int_equal(res.report.lines_done, 6);
    assert_int_equal(res.c[LIA_ST_PARSE].in, 5);
    assert_int_equal(res.c[LIA_ST_NORMALISE].in, 5);
    assert_int_equal(res.c[LIA_ST_NORMALISE].out, 3);
    assert_int_equal(res.c[LIA_ST_NORMALISE].errors, 2);
    assert_int_equal(res.c[LIA_ST_STORE].out, 3);
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_query(f->s, &q, seen_cb, &s, &err), LIA_OK);
    assert_int_equal(s.n, 3);
    /* provenance: the line each event came from */
    assert_int_equal(s.lines[0], 1);
    assert_int_equal(s.lines[1], 4);
    assert_int_equal(s.lines[2], 6);
    /* default TLP only where the event had none; feed name from the feed */
    assert_string_equal(s.tlp[0], "GREEN");
    assert_string_equal(s.tlp[1], "RED");
    assert_string_equal(s.feed[0], "test-feed");

    /* the same report again stores nothing twice */
    lia_ingest_result again;
    ingest(f, "jsonl", path, NULL, &again, LIA_OK);
    assert_int_equal(again.skipped, 1);
    assert_int_equal(again.report.id, res.report.id);
    uint64_t n = 0;
    assert_int_equal(lia_store_count(f->s, &q, &n, &err), LIA_OK);
    assert_int_equal(n, 3);

    /* the raw report is archived and decompresses to the same bytes */
    char arch[LIA_PATH_MAX], back[1024];
    int alen = snprintf(arch, sizeof arch, "%s/%s", lia_store_archive_dir(f->s), res.report.archive);
    assert_true(alen > 0 && (size_t)alen < sizeof arch);
    gzFile gz = gzopen(arch, "rb");
    assert_non_null(gz);
    int got = gzread(gz, back, sizeof back);
    gzclose(gz);
    assert_int_equal(got, (int)(sizeof report_jsonl - 1));
    assert_memory_equal(back, report_jsonl, sizeof report_jsonl - 1);
    free(path);
}

static int count_q(void *ud, const lia_qrow *r)
{
    seen *s = ud;
    s->lines[s->n++] = r->line;
    assert_non_null(r->reason);
    return 0;
}

static void test_quarantine_rows_traceable(void **state)
{
    fx *f = *state;
    char *path = write_file(f, "r.jsonl", report_jsonl, sizeof report_jsonl - 1);
    lia_ingest_result res;
    lia_error err;
    seen s = {0};
    ingest(f, "jsonl", path, NULL, &res, LIA_OK);
    assert_int_equal(lia_store_quarantine_list(f->s, "test-feed", res.report.id, 0, count_q, &s, &err), LIA_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.lines[0], 2);
    assert_int_equal(s.lines[1], 5);
    free(path);
}

static void test_csv_with_map_and_stdin(void **state)
{
    fx *f = *state;
    static const char map[] = "{\"columns\": {\"ip\": \"source.ip\", \"port\": \"source.port\"},"
                              " \"constants\": {\"classification.type\": \"vulnerable-system\"}}";
    static const char csv[] = "ip,port\n192.0.2.1,23\n192.0.2.2,2323\n\"192.0.2.3\",\"23\"\n";
    char *mpath = write_file(f, "m.json", map, sizeof map - 1);
    char *cpath = write_file(f, "r.csv", csv, sizeof csv - 1);
    lia_ingest_result res;
    int saved = dup(STDIN_FILENO), fd = open(cpath, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDIN_FILENO);
    close(fd);
    ingest(f, "csv", "-", mpath, &res, LIA_OK);
    dup2(saved, STDIN_FILENO);
    close(saved);
    assert_int_equal(res.report.events, 3);
    assert_string_equal(res.report.name, "-");
    /* the same bytes from a file are the same report */
    lia_ingest_result again;
    ingest(f, "csv", cpath, mpath, &again, LIA_OK);
    assert_int_equal(again.skipped, 1);
    /* no spool file is left behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q spool", lia_store_archive_dir(f->s));
    assert_int_not_equal(system(cmd), 0);
    free(mpath);
    free(cpath);
}

static void test_errors_that_stop_a_report(void **state)
{
    fx *f = *state;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = "/nonexistent/report.jsonl";
    o.feed.feed = "x";
    lia_error_clear(&err);
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_EIO);
    assert_non_null(strstr(err.reason, "/nonexistent/report.jsonl"));
    o.format = "nope";
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_EINVAL);
    assert_string_equal(err.field, "format");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jsonl_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_rows_traceable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_with_map_and_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_that_stop_a_report, setup, teardown),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("ingest"), tests, NULL, NULL);
}
