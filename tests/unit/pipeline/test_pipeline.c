/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The pipeline's seams: a stage's stored call (after the store wrote the
 * batch, with its ids, in the batch's transaction: what it writes commits
 * and rolls back with the batch) and lia_ingest_buffer (a report from
 * memory: chunked as a file is, identified by its bytes, archived). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "store/db.h"

typedef struct fx {
    char dir[64];
    char db[128];
    lia_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-pipeline-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
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

/* n JSON lines, one event each (line i has source.ip 192.0.2.i % 250 + 1 and port i) */
static char *make_report(int n, size_t *len)
{
    size_t cap = (size_t)n * 128 + 1, off = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    for (int i = 1; i <= n; i++)
        off += (size_t)snprintf(p + off, cap - off,
                                "{\"source.ip\":\"192.0.%d.%d\",\"source.port\":%d,"
                                "\"classification.type\":\"scanner\",\"extra.n\":%d}\n",
                                i / 250 % 250, i % 250 + 1, i % 65535 + 1, i);
    *len = off;
    return p;
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

static void opts(lia_ingest_opts *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->format = "jsonl";
    o->path = path;
    o->feed.feed = "pipeline-test";
    o->feed.tlp = LIA_TLP_GREEN;
    o->feed.observed_us = 1700000000000000;
    o->batch = 2;        /* batches of two events */
    o->commit_every = 4; /* a commit after every second batch */
}

/* ---- a stage that records what its stored call saw, and writes it to its
 * own table in the store ---- */

static struct rec {
    lia_db *db;
    int calls, outside_tx;
    size_t n;
    int64_t id[64];
    uint64_t line[64];
    uint64_t fail_at; /* stored fails for the batch holding this line */
} g;

static int rec_open(void **st, struct lia_ingest *ing, lia_error *err)
{
    g.db = lia__store_db(ing->store);
    if (lia__db_exec(g.db, "CREATE TABLE IF NOT EXISTS hook(event_id INTEGER PRIMARY KEY, line INTEGER)",
                     err))
        return err->code;
    *st = &g;
    return LIA_OK;
}

static int rec_process(void *st, lia_batch *b, lia_error *err)
{
    (void)st;
    (void)err;
    for (size_t i = 0; i < b->n; i++)
        b->ev[i].id = -1; /* the store must give every event its id */
    return LIA_OK;
}

static int rec_stored(void *st, const lia_batch *b, lia_error *err)
{
    struct rec *r = st;
    lia_stmt *ins;
    r->calls++;
    if (!lia__db_in_tx(r->db))
        r->outside_tx++;
    assert_int_equal(
        lia__db_prepare(r->db, "test hook", "INSERT INTO hook(event_id, line) VALUES(?, ?)", &ins, err),
        LIA_OK);
    for (size_t i = 0; i < b->n; i++) {
        assert_true(r->n < 64);
        r->id[r->n] = b->ev[i].id;
        r->line[r->n] = b->ev[i].line;
        r->n++;
        lia__db_bind_int64(ins, 1, b->ev[i].id);
        lia__db_bind_int64(ins, 2, (int64_t)b->ev[i].line);
        assert_int_equal(lia__db_run(ins, err), LIA_OK);
        lia__db_reset(ins);
    }
    lia__db_done(ins);
    for (size_t i = 0; i < b->n; i++)
        if (r->fail_at && b->ev[i].line == r->fail_at)
            return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "the test stage fails here");
    return LIA_OK;
}

static void rec_close(void *st)
{
    (void)st;
}

static const lia_stage rec_stage = {
    .name = "record",
    .id = LIA_ST_ROUTE,
    .open = rec_open,
    .process = rec_process,
    .stored = rec_stored,
    .close = rec_close,
};
static const lia_stage *const rec_stages[] = {&rec_stage, NULL};

static int64_t scalar(lia_store *s, const char *sql)
{
    lia_stmt *st;
    lia_error err;
    int64_t v;
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "test query", sql, &st, &err), LIA_OK);
    assert_int_equal(lia__db_step(st, &err), LIA_DB_ROW);
    v = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return v;
}

/* the ids the stage saw for g.line[0 .. n) are the stored events of those
 * lines; its table holds exactly the stored events */
static void check_ids_match(fx *f, size_t n)
{
    lia_stmt *st;
    lia_error err;
    assert_int_equal(lia__db_prepare_once(lia__store_db(f->s), "test lines",
                                          "SELECT line FROM events WHERE id = ?", &st, &err),
                     LIA_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(g.id[i] > 0);
        lia__db_bind_int64(st, 1, g.id[i]);
        assert_int_equal(lia__db_step(st, &err), LIA_DB_ROW);
        assert_int_equal(lia__db_col_int64(st, 0), g.line[i]);
        lia__db_reset(st);
    }
    lia__db_done(st);
    assert_int_equal(
        scalar(f->s, "SELECT count(*) FROM hook h JOIN events e ON e.id = h.event_id AND e.line = h.line"),
        scalar(f->s, "SELECT count(*) FROM events"));
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM hook"), scalar(f->s, "SELECT count(*) FROM events"));
}

static void test_stored_sees_the_ids(void **state)
{
    fx *f = *state;
    size_t len;
    char *text = make_report(12, &len), *path = write_file(f, "r.jsonl", text, len);
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    memset(&g, 0, sizeof g);
    opts(&o, path);
    o.stages = rec_stages;
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 12);
    assert_int_equal(g.calls, 6); /* once per batch */
    assert_int_equal(g.outside_tx, 0);
    assert_int_equal(g.n, 12);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.line[i], i + 1); /* in line order */
        if (i)
            assert_true(g.id[i] > g.id[i - 1]);
    }
    check_ids_match(f, g.n);
    free(text);
    free(path);
}

/* A stage table longer than LIA_MAX_STAGES is refused with the limit, not
 * cut short silently. */
static void test_too_many_stages(void **state)
{
    fx *f = *state;
    size_t len;
    char *text = make_report(2, &len), *path = write_file(f, "r.jsonl", text, len);
    const lia_stage *many[LIA_MAX_STAGES + 2];
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    for (size_t i = 0; i < LIA_MAX_STAGES + 1; i++)
        many[i] = &rec_stage;
    many[LIA_MAX_STAGES + 1] = NULL;
    memset(&g, 0, sizeof g);
    opts(&o, path);
    o.stages = many;
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_ELIMIT);
    assert_string_equal(err.field, "stages");
    o.stages = rec_stages; /* the same report with a short table goes through */
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 2);
    free(text);
    free(path);
}

/* A failing stored call stops the report; what it and the store wrote since
 * the last commit goes, the committed part stays, and the same report again
 * resumes after it (from memory this time: identified by its bytes). */
static void test_stored_rolls_back_with_the_batch(void **state)
{
    fx *f = *state;
    size_t len;
    char *text = make_report(12, &len), *path = write_file(f, "r.jsonl", text, len);
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    memset(&g, 0, sizeof g);
    g.fail_at = 7; /* the fourth batch (lines 7-8); commits after lines 4 and 8 */
    opts(&o, path);
    o.stages = rec_stages;
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_EINVAL);
    assert_int_equal(g.n, 8);
    lia_store_close(f->s);
    assert_int_equal(lia_store_open(f->db, &f->s, &err), LIA_OK);
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM events"), 4);
    assert_int_equal(scalar(f->s, "SELECT max(line) FROM events"), 4);
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM hook"), 4); /* lines 5-8 rolled back */
    check_ids_match(f, 4);

    memset(&g, 0, sizeof g);
    opts(&o, NULL);
    o.feed.report_name = "r.jsonl";
    o.stages = rec_stages;
    assert_int_equal(lia_ingest_buffer(f->s, &o, text, len, &res, &err), LIA_OK);
    assert_int_equal(res.resumed, 1);
    assert_int_equal(g.n, 8);
    assert_int_equal(g.line[0], 5);
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM events"), 12);
    check_ids_match(f, g.n);
    free(text);
    free(path);
}

/* ---- lia_ingest_buffer ---- */

static void test_buffer_report(void **state)
{
    fx *f = *state;
    size_t len;
    /* several read chunks, so records cross chunk boundaries */
    char *text = make_report(6000, &len), *path;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    char gzpath[LIA_PATH_MAX], *back = malloc(len + 1);
    gzFile gz;
    assert_true(len > 2 * LIA_READ_CHUNK);
    opts(&o, NULL);
    o.batch = 0;
    o.commit_every = 0;
    o.archive = 1;
    o.feed.report_name = "page 1";
    assert_int_equal(lia_ingest_buffer(f->s, &o, text, len, &res, &err), LIA_OK);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.report.events, 6000);
    assert_int_equal(res.report.quarantined, 0);
    assert_int_equal(res.bytes, len);
    assert_int_equal(res.report.size, len);
    assert_string_equal(res.report.name, "page 1");
    assert_int_equal(scalar(f->s, "SELECT count(DISTINCT line) FROM events"), 6000);
    assert_int_equal(scalar(f->s, "SELECT max(line) FROM events"), 6000);
    assert_int_equal(
        scalar(f->s, "SELECT count(*) FROM events WHERE json_extract(body, '$.\"extra.n\"') = line"), 6000);

    /* the archive holds the very bytes */
    int glen = snprintf(gzpath, sizeof gzpath, "%s/%s", lia_store_archive_dir(f->s), res.report.archive);
    assert_true(glen > 0 && (size_t)glen < sizeof gzpath);
    gz = gzopen(gzpath, "rb");
    assert_non_null(gz);
    assert_int_equal(gzread(gz, back, (unsigned)len + 1), (int)len);
    gzclose(gz);
    assert_memory_equal(back, text, len);

    /* the same bytes from a file are the same report: skipped */
    path = write_file(f, "same.jsonl", text, len);
    opts(&o, path);
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_OK);
    assert_int_equal(res.skipped, 1);
    free(path);
    free(back);
    free(text);
}

static void test_buffer_empty_and_errors(void **state)
{
    fx *f = *state;
    static const char bad[] = "{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"scanner\"}\n{broken\n"
                              "{\"source.ip\":\"192.0.2.2\",\"classification.type\":\"scanner\"}";
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    opts(&o, NULL);
    assert_int_equal(lia_ingest_buffer(f->s, &o, NULL, 0, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 0);
    assert_string_equal(res.report.name, "-");
    /* a bad row is quarantined, the last line needs no newline */
    assert_int_equal(lia_ingest_buffer(f->s, &o, bad, sizeof bad - 1, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 2);
    assert_int_equal(res.report.quarantined, 1);
    o.format = "no-such-format";
    assert_int_equal(lia_ingest_buffer(f->s, &o, bad, sizeof bad - 1, &res, &err), LIA_EINVAL);
}

/* A store path of n bytes in f->dir that names f->dir/p.db: "./" segments
 * pad it, so the files exist though the path is long. */
static void long_path(fx *f, char *out, size_t n)
{
    size_t off = (size_t)snprintf(out, n, "%s/", f->dir);
    size_t pad = n - 1 - off - strlen("p.db");
    if (pad % 2)
        out[off++] = '/'; /* "dir//./././p.db" */
    for (; off + strlen("p.db") < n - 1; off += 2)
        memcpy(out + off, "./", 2);
    memcpy(out + off, "p.db", 5);
    assert_int_equal(strlen(out), n - 1);
}

/* A path too long for LIA_PATH_MAX is refused naming it and the limit,
 * never cut short: the store's own path, and the archive file (the archive
 * directory fits, ARCHIVE_DIR/HASH.gz does not), where the report is refused
 * before it is registered. */
static void test_path_too_long(void **state)
{
    fx *f = *state;
    char path[LIA_PATH_MAX + 1];
    static const char text[] = "{\"source.ip\":\"192.0.2.1\",\"classification.type\":\"scanner\"}\n";
    lia_store *s = NULL;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;

    long_path(f, path, sizeof path); /* LIA_PATH_MAX bytes, no room for its NUL */
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(path, &s, &err), LIA_ELIMIT);
    assert_null(s);
    assert_non_null(strstr(err.reason, "store path is 4096 bytes"));
    assert_non_null(strstr(err.reason, "LIA_PATH_MAX"));
    assert_memory_equal(err.value, f->dir, strlen(f->dir));

    /* ".archive" fits, "/<64 hex>.gz" after it does not */
    long_path(f, path, LIA_PATH_MAX - strlen(".archive") - 10);
    assert_int_equal(lia_store_open(path, &s, &err), LIA_OK);
    opts(&o, NULL);
    o.archive = 1;
    lia_error_clear(&err);
    assert_int_equal(lia_ingest_buffer(s, &o, text, sizeof text - 1, &res, &err), LIA_ELIMIT);
    if (!strstr(err.reason, "archive file path is"))
        fail_msg("reason \"%s\"", err.reason);
    assert_non_null(strstr(err.reason, "longer than the limit of 4095 bytes (LIA_PATH_MAX)"));
    assert_memory_equal(err.value, f->dir, strlen(f->dir));
    assert_int_equal(scalar(s, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(scalar(s, "SELECT count(*) FROM events"), 0);
    /* without the archive the same report goes in */
    o.archive = 0;
    assert_int_equal(lia_ingest_buffer(s, &o, text, sizeof text - 1, &res, &err), LIA_OK);
    assert_int_equal(res.report.events, 1);
    lia_store_close(s);
}

/* ---- a stop request (SIGTERM) inside one chunk ---- */

static volatile int stop_req;
static size_t stop_after, stop_seen;

static int stopper_process(void *st, lia_batch *b, lia_error *err)
{
    (void)st;
    (void)err;
    stop_seen += b->n;
    if (stop_after && stop_seen >= stop_after)
        stop_req = 1; /* as the CLI's SIGTERM handler does */
    return LIA_OK;
}

static const lia_stage stopper_stage = {
    .name = "stopper", .id = LIA_ST_ROUTE, .open = rec_open, .process = stopper_process, .close = rec_close};
static const lia_stage *const stopper_stages[] = {&stopper_stage, NULL};

/* An IODEF document is one chunk of records (all handed over at the end of
 * the file): a stop request while they are handled ends the ingest at the
 * next line with everything before it committed and nothing after it, and
 * the same ingest again resumes there (issue 16: the import ran to its end,
 * minutes for a large document, whatever the signal). */
static void test_stop_inside_a_chunk(void **state)
{
    fx *f = *state;
    size_t cap = 4096 + 40 * 400, off = 0;
    char *doc = malloc(cap), *path;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    int64_t stored;
    assert_non_null(doc);
    off += (size_t)snprintf(doc + off, cap - off,
                            "<?xml version=\"1.0\"?><IODEF-Document version=\"2.00\" "
                            "xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"><Incident purpose=\"reporting\">"
                            "<IncidentID name=\"x\">1</IncidentID><GenerationTime>2024-01-01T00:00:00Z"
                            "</GenerationTime>");
    for (int i = 0; i < 40; i++)
        off +=
            (size_t)snprintf(doc + off, cap - off,
                             "<EventData><Flow><System category=\"source\"><Node><Address "
                             "category=\"ipv4-addr\">192.0.2.%d</Address></Node></System></Flow></EventData>",
                             i + 1);
    off += (size_t)snprintf(doc + off, cap - off, "</Incident></IODEF-Document>");
    path = write_file(f, "r.xml", doc, off);
    memset(&g, 0, sizeof g);
    opts(&o, path);
    o.format = "iodef";
    o.stages = stopper_stages;
    o.stop = &stop_req;
    stop_req = 0;
    stop_seen = 0;
    stop_after = 6; /* during the third batch of two */
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_EINTR);
    lia_store_close(f->s);
    assert_int_equal(lia_store_open(f->db, &f->s, &err), LIA_OK);
    stored = scalar(f->s, "SELECT count(*) FROM events");
    assert_true(stored >= 6 && stored < 40);
    /* what is committed is whole lines, and the report says where it stopped */
    assert_int_equal(scalar(f->s, "SELECT count(DISTINCT line) FROM events"), stored);
    assert_int_equal(scalar(f->s, "SELECT lines_done FROM reports"),
                     scalar(f->s, "SELECT max(line) FROM events"));
    /* again, without a stop: the rest, nothing twice */
    stop_req = 0;
    stop_after = 0;
    assert_int_equal(lia_ingest(f->s, &o, &res, &err), LIA_OK);
    assert_int_equal(res.resumed, 1);
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM events"), 40);
    assert_int_equal(scalar(f->s, "SELECT count(DISTINCT line) FROM events"), 40);
    free(doc);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stored_sees_the_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_rolls_back_with_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_stages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_empty_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_inside_a_chunk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
