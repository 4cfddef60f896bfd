/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A store written before the migration registry (tests/data/store/
 * main-before-registry.sql: every module's tables in the schemes of that
 * time) opens with the current code, every module is adopted at its
 * version, and no row is lost: the same rows in every old table, the API
 * key still authenticates (the server secret is kept), the feeds, the TAXII
 * collection and the routing configuration are there, and an ingest finds
 * the old dedup aggregates (the hash key is kept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/accounts.h"
#include "liaison/liaison.h"
#include "liaison/taxii.h"
#include "store/db.h"
#include "accounts/internal.h"
#include "store/backend.h"
#include "taxii/taxii_internal.h"

#define OLD_KEY "lia_zwBbI7iXYaUf8d10h5KM2QrJ-6aHIzoJ3ADFIu4KJi4"

typedef struct fx {
    char dir[64];
    char path[128];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-upgrade-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/old.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Table name -> row count of every table of the old store; with
 * only_known, fails if a table is gone or has fewer rows. */
typedef struct counts {
    char name[40][64];
    int64_t n[40];
    int len;
} counts;

static void count_rows(lia_db *db, counts *c, int only_known)
{
    lia_stmt *st, *q;
    lia_error err;
    int k = 0;
    assert_int_equal(
        lia__db_prepare_once(db, "tables",
                             "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY 1", &st,
                             &err),
        LIA_OK);
    while (lia__db_step(st, &err) == LIA_DB_ROW) {
        char sql[128];
        const char *t = lia__db_col_text(st, 0);
        int i = only_known ? -1 : c->len;
        for (int j = 0; only_known && j < c->len; j++)
            if (strcmp(c->name[j], t) == 0)
                i = j;
        if (i < 0)
            continue; /* a table the new code added (lia_schema) */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t);
        assert_int_equal(lia__db_prepare_once(db, "count", sql, &q, &err), LIA_OK);
        assert_int_equal(lia__db_step(q, &err), LIA_DB_ROW);
        if (only_known) {
            if (c->n[i] > lia__db_col_int64(q, 0))
                fail_msg("table %s: %lld rows before, only %lld after", t, (long long)c->n[i],
                         (long long)lia__db_col_int64(q, 0));
            k++;
        } else {
            snprintf(c->name[c->len], sizeof c->name[0], "%s", t);
            c->n[c->len++] = lia__db_col_int64(q, 0);
            assert_true(c->len < 40);
        }
        lia__db_done(q);
    }
    lia__db_done(st);
    if (only_known)
        assert_int_equal(k, c->len); /* no table went away */
}

static int nfeeds(void *ud, const lia_feed *feed)
{
    (*(int *)ud)++;
    return 0;
}

static void test_old_store_opens(void **state)
{
    fx *f = *state;
    char sqlpath[4200], rpt[4300], *sql;
    const char *root = getenv("LIAISON_TESTDATA");
    lia_db *db;
    lia_store *s;
    lia_error err;
    counts before = {.len = 0};
    lia_principal who;
    lia_feed feed;
    lia_taxii_collection coll;
    lia_buf conf;
    lia_report r;
    lia_event ev;

    assert_non_null(root);
    snprintf(sqlpath, sizeof sqlpath, "%s/store/main-before-registry.sql", root);
    sql = slurp(sqlpath);
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, sql, &err), LIA_OK);
    free(sql);
    count_rows(db, &before, 0);
    assert_true(before.len >= 25);
    lia__db_close(db);

    assert_int_equal(lia_store_open(f->path, &s, &err), LIA_OK);
    assert_int_equal(lia_store_schema_version(s), LIA_STORE_SCHEMA_VERSION);
    assert_int_equal(lia__store_report_get(s, 1, &r, &err), LIA_OK);
    assert_int_equal(r.state, LIA_REPORT_COMPLETE);
    assert_int_equal(r.events, 3);
    assert_int_equal(r.quarantined, 1);
    assert_int_equal(r.duplicates, 1);

    /* every module's entry point on the old tables */
    assert_int_equal(lia__accounts_init(s, &err), LIA_OK);
    assert_int_equal(lia__accounts_auth_token(s, OLD_KEY, &who, &err), LIA_OK);
    assert_string_equal(who.user, "alice");
    assert_string_equal(who.org, "cert-xx");
    assert_int_equal(lia_taxii_init(s, &err), LIA_OK);
    assert_int_equal(lia__taxii_collection_get(s, "api1", "coll1", &coll, &err), LIA_OK);
    assert_string_equal(coll.title, "Coll one");
    {
        int n = 0;
        assert_int_equal(lia_feeds_list(s, nfeeds, &n, &err), LIA_OK);
        assert_int_equal(n, 2);
        assert_int_equal(lia_feeds_get(s, "mydrop", &feed, &err), LIA_OK);
        assert_int_equal(feed.interval_s, 900);
    }
    lia_buf_init(&conf, 1 << 20);
    assert_int_equal(lia_route_config_get(s, &conf, &err), LIA_OK);
    assert_true(conf.len > 0);
    lia_buf_free(&conf);

    /* a new report with a row of the old one: dedup finds the old aggregate */
    {
        FILE *fp;
        lia_ingest_opts o;
        lia_ingest_result res;
        snprintf(rpt, sizeof rpt, "%s/new.jsonl", f->dir);
        fp = fopen(rpt, "w");
        assert_non_null(fp);
        fputs("{\"classification.type\": \"c2-server\", \"destination.port\": 2323, \"feed.provider\": "
              "\"Sample "
              "Partner CERT (fictitious)\", \"malware.name\": \"emotet\", \"source.asn\": 4134, "
              "\"source.geolocation.cc\": \"CN\", \"source.ip\": \"58.220.184.221\", \"time.source\": "
              "\"2026-11-26T04:00:00Z\"}\n",
              fp);
        fclose(fp);
        memset(&o, 0, sizeof o);
        o.format = "jsonl";
        o.path = rpt;
        o.feed.feed = "partner-demo";
        o.feed.tlp = -1;
        assert_int_equal(lia_ingest(s, &o, &res, &err), LIA_OK);
        assert_int_equal(res.report.events, 0);
        assert_int_equal(res.report.duplicates, 1);
    }
    lia_event_init(&ev);
    assert_int_equal(lia_store_event_get(s, 2, &ev, &err), LIA_OK);
    {
        lia_buf js;
        lia_buf_init(&js, 1 << 16);
        assert_int_equal(lia_event_to_json(&ev, &js), LIA_OK);
        if (!strstr(lia_buf_cstr(&js), "\"extra.dedup_count\":3"))
            fail_msg("aggregate not updated: %s", lia_buf_cstr(&js));
        lia_buf_free(&js);
    }
    lia_event_free(&ev);
    lia_store_close(s);

    /* every old table is still there, and no row went (the ingest above
     * added some: a report, stats, dedup state) */
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    count_rows(db, &before, 1);
    assert_int_equal(lia__db_schema_version(db, "store"), 1);
    assert_int_equal(lia__db_schema_version(db, "taxii"), 3);
    lia__db_close(db);
}

/* A TAXII store from before status resources had an owner (taxii_meta
 * said '1' then too): adopted at 1, the column added by migration 2, the
 * old status resources our own team's. */
static void test_old_taxii_status(void **state)
{
    fx *f = *state;
    char sqlpath[4200], *sql;
    const char *root = getenv("LIAISON_TESTDATA");
    lia_db *db;
    lia_store *s;
    lia_error err;
    lia_buf out;

    assert_non_null(root);
    snprintf(sqlpath, sizeof sqlpath, "%s/store/main-before-registry.sql", root);
    sql = slurp(sqlpath);
    assert_int_equal(lia__db_open(f->path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, sql, &err), LIA_OK);
    free(sql);
    assert_int_equal(lia__db_exec(db,
                                  "ALTER TABLE taxii_status DROP COLUMN org_id;"
                                  "INSERT INTO taxii_status VALUES('s-1', 'api1', 'complete',"
                                  " '2026-01-01T00:00:00.000Z', 1, 1, 0, 0, '{\"successes\":[]}')",
                                  &err),
                     LIA_OK);
    assert_false(lia__db_has_column(db, "taxii_status", "org_id"));
    lia__db_close(db);

    assert_int_equal(lia_store_open(f->path, &s, &err), LIA_OK);
    assert_int_equal(lia_taxii_init(s, &err), LIA_OK);
    assert_int_equal(lia__db_schema_version(lia__store_db(s), "taxii"), 3);
    assert_true(lia__db_has_column(lia__store_db(s), "taxii_status", "org_id"));
    lia_buf_init(&out, 1 << 16);
    /* ours (owner 0), not another organisation's */
    assert_int_equal(lia__taxii_status_json(s, "api1", "s-1", 0, &out, &err), LIA_OK);
    assert_non_null(strstr(lia_buf_cstr(&out), "\"total_count\":1"));
    assert_int_equal(lia__taxii_status_json(s, "api1", "s-1", 7, &out, &err), LIA_ENOTFOUND);
    lia_buf_free(&out);
    lia_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_old_store_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_taxii_status, setup, teardown),
    };
    return cmocka_run_group_tests_name("upgrade", tests, NULL, NULL);
}
