/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Route's and notify's tables in a store written before the migration
 * registry (tests/data/store/main-before-registry.sql, which kept their
 * versions in route_schema): adopted at their versions (party 1, route 1,
 * notify 2 then 3), then migrated (route 2 counts the routed events per
 * recipient from the decisions), the parties, the rules and the notifications still
 * there; and a notify schema 1 store (no notification.channel) gets the
 * column, its old rows reading 'email'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "liaison/notify.h"
#include "store/db.h"

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

/* The old store at path; extra SQL run after the fixture (may be NULL). */
static void old_store(const char *path, const char *extra)
{
    char sqlpath[4200];
    const char *root = getenv("LIAISON_TESTDATA");
    char *sql;
    lia_db *db;
    lia_error err;
    lia_error_clear(&err);
    assert_non_null(root);
    snprintf(sqlpath, sizeof sqlpath, "%s/store/main-before-registry.sql", root);
    sql = slurp(sqlpath);
    unlink(path);
    assert_int_equal(lia__db_open(path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_exec(db, sql, &err), LIA_OK);
    if (extra)
        assert_int_equal(lia__db_exec(db, extra, &err), LIA_OK);
    lia__db_close(db);
    free(sql);
}

static int count_party(void *ud, const lia_party *p)
{
    (void)p;
    (*(int *)ud)++;
    return 0;
}

typedef struct nlog {
    int n;
    char channel[64];
} nlog;

static int log_cb(void *ud, const lia_notification *n)
{
    nlog *l = ud;
    if (l->n++ == 0)
        snprintf(l->channel, sizeof l->channel, "%s", n->channel);
    return 0;
}

static void check(const char *path, int want_notifications, const char *want_channel)
{
    lia_store *s;
    lia_error err;
    lia_buf conf;
    nlog l = {0, ""};
    int parties = 0;
    lia_db *db;
    lia_error_clear(&err);
    assert_int_equal(lia_store_open(path, &s, &err), LIA_OK);
    assert_int_equal(lia_party_list(s, 0, count_party, &parties, &err), LIA_OK);
    assert_int_equal(parties, 11);
    lia_buf_init(&conf, 1 << 20);
    assert_int_equal(lia_route_config_get(s, &conf, &err), LIA_OK);
    assert_true(conf.len > 0);
    lia_buf_free(&conf);
    assert_int_equal(lia_notify_log(s, 0, log_cb, &l, &err), LIA_OK);
    assert_int_equal(l.n, want_notifications);
    if (want_channel)
        assert_string_equal(l.channel, want_channel);
    lia_store_close(s);
    assert_int_equal(lia__db_open(path, 0, &db, &err), LIA_OK);
    assert_int_equal(lia__db_schema_version(db, "party"), 1);
    assert_int_equal(lia__db_schema_version(db, "route"), 3);
    assert_int_equal(lia__db_has_table(db, "route_delivered"), 1);
    assert_int_equal(lia__db_has_table(db, "route_delivered_month"), 1);
    assert_int_equal(lia__db_schema_version(db, "notify"), 4);
    assert_int_equal(lia__db_has_table(db, "notify_taxii_owner"), 1);
    assert_int_equal(lia__db_has_table(db, "notify_outbox"), 1);
    assert_int_equal(lia__db_has_column(db, "notification", "channel"), 1);
    lia__db_close(db);
}

/* The store, its journal files and its (empty) archive directory. */
static void remove_store(const char *path)
{
    char p[512];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s.archive", path);
    rmdir(p);
}

static void test_old_store(void **state)
{
    char path[] = "/tmp/lia_route_upgrade_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    close(fd);
    old_store(path, NULL);
    check(path, 0, NULL);
    remove_store(path);
}

/* notify schema 1: notification without its channel column, one row */
static void test_notify_schema_1(void **state)
{
    char path[] = "/tmp/lia_route_upgrade_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    close(fd);
    old_store(path, "ALTER TABLE notification DROP COLUMN channel;"
                    "UPDATE route_schema SET version = 1 WHERE module = 'notify';"
                    "INSERT INTO notification(recipient,rcpt_to,at,message_id,events,outcome,attempts,error,"
                    "signed,encrypted,language,bytes) VALUES('owner:x','a@x.example',1,'<m@x>',1,'sent',1,'',"
                    "1,0,'en',100);");
    check(path, 1, "email");
    remove_store(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_store),
        cmocka_unit_test(test_notify_schema_1),
    };
    return cmocka_run_group_tests_name("route_upgrade", tests, NULL, NULL);
}
