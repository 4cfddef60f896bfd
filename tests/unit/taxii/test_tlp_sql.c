/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TLP policy as the TAXII object queries call it from SQL,
 * lia__tlp_allows(ceiling, tlp, same_org): on SQLite the C function
 * registered by lia_taxii_init, on PostgreSQL the SQL function of the
 * taxii schema's migration 3. Both must answer as lia__tlp_policy_allows
 * for every ceiling and marking, known or not, and both values of
 * same_org (test_tlp_sql and, as taxii_tlp_pg, on PostgreSQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"
#include "liaison/liaison.h"
#include "liaison/taxii.h"
#include "store/db.h"
#include "taxii/taxii_internal.h"

/* a call that must succeed, its error shown if not */
#define OK(call)                                                                                             \
    do {                                                                                                     \
        int rc_ = (call);                                                                                    \
        if (rc_ != LIA_OK)                                                                                   \
            fail_msg("%s: %d %s", #call, rc_, err.reason);                                                   \
    } while (0)

static void test_same_answers(void **state)
{
    char dir[64] = "/tmp/lia-tlp-sql-XXXXXX", path[256], cmd[128];
    lia_store *s;
    lia_stmt *st;
    lia_error err;
    int n = 0, allowed = 0;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(lia_test_db_path(dir, "tlp", path, sizeof path), 0);
    OK(lia_store_open(path, &s, &err));
    OK(lia_taxii_init(s, &err));
    /* same_org as the queries give it: a comparison, 0/1 in SQLite, boolean in PostgreSQL */
    OK(lia__db_prepare(lia__store_db(s), "test: the TLP policy in SQL",
                       "SELECT lia__tlp_allows(?1, ?2, ?3 IN (1))", &st, &err));
    for (int ceiling = -1; ceiling <= 5; ceiling++)
        for (int tlp = -2; tlp <= 6; tlp++)
            for (int same = 0; same <= 1; same++) {
                int want = lia__tlp_policy_allows(ceiling, tlp, same), got;
                lia__db_bind_int64(st, 1, ceiling);
                lia__db_bind_int64(st, 2, tlp);
                lia__db_bind_int64(st, 3, same);
                assert_int_equal(lia__db_step(st, &err), LIA_DB_ROW);
                got = (int)lia__db_col_int64(st, 0);
                lia__db_reset(st);
                if (got != want)
                    fail_msg("ceiling %d, tlp %d, same_org %d: SQL says %d, lia__tlp_policy_allows %d",
                             ceiling, tlp, same, got, want);
                n++;
                allowed += want;
            }
    lia__db_done(st);
    /* the cases are not all one answer */
    assert_int_equal(n, 7 * 9 * 2);
    assert_true(allowed > 0 && allowed < n);
    lia_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_same_answers)};
    if (lia_test_pg())
        return cmocka_run_group_tests_name("TLP policy in SQL on PostgreSQL", tests, NULL, NULL);
    return cmocka_run_group_tests_name("TLP policy in SQL", tests, NULL, NULL);
}
