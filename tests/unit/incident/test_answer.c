/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Answer links (include/liaison/incident.h): a link we made reads back
 * exactly; any one character changed, an action swapped, a link of another
 * store, and every other shape are refused; expiry is reported. */
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

#include "liaison/incident.h"

static char dir[64], path1[256], path2[256];
static lia_store *s1, *s2;

#define T0 ((int64_t)1800000000 * 1000000) /* 2027-01-15 */

static void test_round_trip(void **state)
{
    char link[LIA_ANSWER_PATH_MAX];
    lia_answer_ref a;
    lia_error e;
    (void)state;
    lia_error_clear(&e);
    for (int k = 0; k < LIA_ANSWER__COUNT; k++) {
        assert_int_equal(lia_answer_link(s1, 4711, "cert-kh", (lia_answer)k, T0 + 86400000000, link, &e),
                         LIA_OK);
        assert_int_equal(lia_answer_check(s1, link, T0, &a, &e), LIA_OK);
        assert_int_equal(a.incident, 4711);
        assert_string_equal(a.recipient, "cert-kh");
        assert_int_equal(a.action, k);
        assert_int_equal(a.expires_us, T0 + 86400000000);
        assert_false(a.expired);
        /* expired at and after its second */
        assert_int_equal(lia_answer_check(s1, link, T0 + 86400000000, &a, &e), LIA_OK);
        assert_true(a.expired);
    }
    assert_string_equal(lia_answer_name(LIA_ANSWER_REJECT), "reject");
    assert_int_equal(lia_answer_state(LIA_ANSWER_RESOLVE), LIA_HO_RESOLVED);
    assert_null(lia_answer_name(LIA_ANSWER__COUNT));
    /* what cannot be a link */
    assert_int_equal(lia_answer_link(s1, 0, "cert-kh", LIA_ANSWER_ACK, T0, link, &e), LIA_EINVAL);
    assert_int_equal(lia_answer_link(s1, 1, "Cert KH", LIA_ANSWER_ACK, T0, link, &e), LIA_EINVAL);
    assert_int_equal(lia_answer_link(s1, 1, "cert-kh", LIA_ANSWER__COUNT, T0, link, &e), LIA_EINVAL);
}

/* Every single-character change of a link is refused. */
static void test_tampered(void **state)
{
    static const char repl[] = "0179aAzZ-_./%";
    char link[LIA_ANSWER_PATH_MAX], bad[LIA_ANSWER_PATH_MAX + 16];
    lia_answer_ref a;
    lia_error e;
    size_t n, tried = 0;
    (void)state;
    lia_error_clear(&e);
    assert_int_equal(lia_answer_link(s1, 12, "cert-th", LIA_ANSWER_ACK, T0 + 3600000000, link, &e), LIA_OK);
    n = strlen(link);
    for (size_t i = 0; i < n; i++) {
        for (const char *c = repl; *c; c++) {
            if (link[i] == *c)
                continue;
            memcpy(bad, link, n + 1);
            bad[i] = *c;
            if (lia_answer_check(s1, bad, T0, &a, &e) != LIA_EAUTH)
                fail_msg("a changed link was taken: %s (from %s)", bad, link);
            tried++;
        }
    }
    assert_true(tried > 10 * n);
    /* the action of another link with this one's signature */
    {
        char *act = strstr(link, "/ack/");
        assert_non_null(act);
        snprintf(bad, sizeof bad, "%.*s/reject/%s", (int)(act - link), link, act + 5);
        assert_int_equal(lia_answer_check(s1, bad, T0, &a, &e), LIA_EAUTH);
        assert_non_null(strstr(e.reason, "signature"));
    }
    /* shapes: cut, extended, empty, another prefix */
    memcpy(bad, link, n - 1);
    bad[n - 1] = '\0';
    assert_int_equal(lia_answer_check(s1, bad, T0, &a, &e), LIA_EAUTH);
    snprintf(bad, sizeof bad, "%s/x", link);
    assert_int_equal(lia_answer_check(s1, bad, T0, &a, &e), LIA_EAUTH);
    assert_int_equal(lia_answer_check(s1, "", T0, &a, &e), LIA_EAUTH);
    assert_int_equal(lia_answer_check(s1, NULL, T0, &a, &e), LIA_EAUTH);
    assert_int_equal(lia_answer_check(s1, "/answer/", T0, &a, &e), LIA_EAUTH);
    snprintf(bad, sizeof bad, "/answers/%s", link + strlen("/answer/"));
    assert_int_equal(lia_answer_check(s1, bad, T0, &a, &e), LIA_EAUTH);
    /* another store has another secret: its links are not ours */
    assert_int_equal(lia_answer_check(s2, link, T0, &a, &e), LIA_EAUTH);
    assert_int_equal(lia_answer_check(s1, link, T0, &a, &e), LIA_OK);
}

static int setup(void **state)
{
    lia_error e;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lia-answer-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (lia_test_db_path(dir, "a", path1, sizeof path1) || lia_test_db_path(dir, "b", path2, sizeof path2))
        return -1;
    lia_error_clear(&e);
    return lia_store_open(path1, &s1, &e) || lia_store_open(path2, &s2, &e) ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    lia_store_close(s1);
    lia_store_close(s2);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampered),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("answer on PostgreSQL", tests, setup, teardown);
    return cmocka_run_group_tests_name("answer", tests, setup, teardown);
}
