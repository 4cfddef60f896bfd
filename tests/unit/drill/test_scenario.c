/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Drill scenarios (lia_drill_scenario_parse, liaison/drill.h): the example
 * of docs/drills.md reads into what it says; each malformed scenario is
 * refused with the line, the column and the key it is about. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/liaison.h"

static const char good[] = "name: \"Drill\"\n"
                           "rank: true\n"
                           "participants: [cert-a, cert-b]\n"
                           "injects:\n"
                           "  - name: one\n"
                           "    at: 0m\n"
                           "    title: \"First\"\n"
                           "    severity: critical\n"
                           "    tlp: green\n"
                           "    event:\n"
                           "      source.ip: 192.0.2.1\n"
                           "      source.port: 502\n"
                           "    expect:\n"
                           "      - answer: ack\n"
                           "        score: 10\n"
                           "        expiry: 1h\n"
                           "      - answer: value\n"
                           "        value: \"Mirai\"\n"
                           "        expiry: 2h\n"
                           "  - name: two\n"
                           "    at: 90m\n"
                           "    title: Second\n"
                           "    expect:\n"
                           "      - {answer: resolve, score: 20, expiry: 1d}\n";

static void test_good(void **state)
{
    lia_drill_scenario *sc = NULL;
    lia_error err;
    (void)state;
    lia_error_clear(&err);
    assert_int_equal(lia_drill_scenario_parse(good, strlen(good), &sc, &err), LIA_OK);
    assert_string_equal(sc->name, "Drill");
    assert_int_equal(sc->rank, 1);
    assert_int_equal(sc->nparticipants, 2);
    assert_string_equal(sc->participants[1], "cert-b");
    assert_int_equal(sc->ninjects, 2);
    assert_string_equal(sc->injects[0].name, "one");
    assert_int_equal(sc->injects[0].at_s, 0);
    assert_int_equal(sc->injects[0].severity, LIA_SEV_CRITICAL);
    assert_string_equal(sc->injects[0].tlp, "GREEN");
    assert_string_equal(sc->injects[0].event, "{\"source.ip\":\"192.0.2.1\",\"source.port\":\"502\"}");
    assert_int_equal(sc->injects[0].nexpect, 2);
    assert_int_equal(sc->injects[0].expect[0].answer, LIA_DRILL_ACK);
    assert_int_equal(sc->injects[0].expect[0].score, 10);
    assert_int_equal(sc->injects[0].expect[0].expiry_s, 3600);
    assert_int_equal(sc->injects[0].expect[1].answer, LIA_DRILL_VALUE);
    assert_string_equal(sc->injects[0].expect[1].value, "Mirai");
    assert_int_equal(sc->injects[0].expect[1].score, 1); /* the default */
    assert_int_equal(sc->injects[1].at_s, 5400);
    assert_int_equal(sc->injects[1].severity, LIA_SEV_MEDIUM);
    assert_string_equal(sc->injects[1].tlp, "AMBER");
    assert_null(sc->injects[1].event);
    assert_int_equal(sc->injects[1].expect[0].answer, LIA_DRILL_RESOLVE);
    assert_int_equal(sc->injects[1].expect[0].expiry_s, 86400);
    lia_drill_scenario_free(sc);
}

#define HEAD "name: d\nparticipants: [a]\ninjects:\n  - name: i\n    at: 0m\n    title: t\n"
#define EXP  "    expect:\n      - answer: ack\n        expiry: 1h\n"

static const struct {
    const char *yaml;
    int rc;
    uint64_t line;
    const char *field;  /* the key the error names ("" none) */
    const char *reason; /* a part of the reason */
} bad[] = {
    {"", LIA_EINVAL, 0, "", "empty"},
    {"name: d\nparticipants: [a\n", LIA_EPARSE, 3, "", "not YAML"},
    {"- a\n- b\n", LIA_EINVAL, 1, "", "a scenario is a mapping"},
    {"name: d\ncolour: red\n", LIA_EINVAL, 2, "colour", "column 1: unknown key"},
    {"participants: [a]\ninjects: []\n", LIA_EINVAL, 1, "name", "no name"},
    {"name: d\ninjects: []\n", LIA_EINVAL, 1, "participants", "at least one"},
    {"name: d\nparticipants: [a, a]\ninjects: []\n", LIA_EINVAL, 2, "participants", "listed twice"},
    {"name: d\nparticipants: [a]\ninjects: []\n", LIA_EINVAL, 3, "injects", "at least one inject"},
    {"name: d\nparticipants: [a]\ninjects:\n  - name: i\n    at: soon\n", LIA_EINVAL, 5, "at",
     "column 9: not a duration"},
    {"name: d\nparticipants: [a]\ninjects:\n  - name: i\n    title: t\n" EXP, LIA_EINVAL, 4, "at",
     "required"},
    {HEAD, LIA_EINVAL, 4, "expect", "at least one answer"},
    {HEAD "    severity: huge\n" EXP, LIA_EINVAL, 7, "severity", "low, medium"},
    {HEAD "    tlp: RED\n" EXP, LIA_EINVAL, 7, "tlp", "one of CLEAR"},
    {HEAD "    when: now\n" EXP, LIA_EINVAL, 7, "when", "unknown inject key"},
    {HEAD "    event: [1]\n" EXP, LIA_EINVAL, 7, "event", "mapping of event fields"},
    {HEAD "    event:\n      source.ip: [1, 2]\n" EXP, LIA_EINVAL, 8, "source.ip", "one text"},
    {HEAD "    expect:\n      - answer: maybe\n        expiry: 1h\n", LIA_EINVAL, 8, "answer",
     "acknowledge, resolve"},
    {HEAD "    expect:\n      - answer: ack\n", LIA_EINVAL, 8, "expiry", "required"},
    {HEAD "    expect:\n      - answer: ack\n        expiry: 1h\n        score: -3\n", LIA_EINVAL, 10,
     "score", "whole number"},
    {HEAD "    expect:\n      - answer: value\n        expiry: 1h\n", LIA_EINVAL, 8, "value",
     "needs the value"},
    {HEAD "    expect:\n      - answer: ack\n        value: x\n        expiry: 1h\n", LIA_EINVAL, 8, "value",
     "only an expectation"},
    {HEAD "    expect:\n      - answer: ack\n        expiry: 1h\n      - answer: ack\n        expiry: 2h\n",
     LIA_EINVAL, 10, "answer", "expected twice"},
    {HEAD "    expect:\n      - answer: ack\n        expiry: 0m\n", LIA_EINVAL, 9, "expiry", "longer than 0"},
    {HEAD EXP "  - name: i\n    at: 1m\n    title: u\n" EXP, LIA_EINVAL, 10, "name", "named twice"},
    {HEAD "    expect:\n      - answer: ack\n        expiry: 400d\n", LIA_EINVAL, 9, "expiry",
     "at most 366 days"},
    {HEAD "    title: u\n" EXP, LIA_EINVAL, 7, "title", "given twice"},
    {HEAD "    event: {a: 1, a: 2}\n" EXP, LIA_EINVAL, 7, "a", "given twice"},
    {"name: d\nname: e\n", LIA_EINVAL, 2, "name", "given twice"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lia_drill_scenario *sc = NULL;
        lia_error err;
        int rc;
        lia_error_clear(&err);
        rc = lia_drill_scenario_parse(bad[i].yaml, strlen(bad[i].yaml), &sc, &err);
        if (rc != bad[i].rc || err.line != bad[i].line || strcmp(err.field, bad[i].field) != 0 ||
            !strstr(err.reason, bad[i].reason)) {
            fprintf(stderr,
                    "case %zu: rc %d (want %d), line %llu (want %llu), field \"%s\" (want \"%s\"), %s\n", i,
                    rc, bad[i].rc, (unsigned long long)err.line, (unsigned long long)bad[i].line, err.field,
                    bad[i].field, err.reason);
            fail();
        }
        assert_null(sc);
    }
}

static void test_limits(void **state)
{
    lia_drill_scenario *sc = NULL;
    lia_error err;
    char *big;
    size_t n = 0, cap = 1 << 16;
    (void)state;
    /* 65 participants */
    assert_non_null(big = malloc(cap));
    n += (size_t)snprintf(big + n, cap - n, "name: d\nparticipants: [");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(big + n, cap - n, "%sp%d", i ? ", " : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]\ninjects: []\n");
    lia_error_clear(&err);
    assert_int_equal(lia_drill_scenario_parse(big, n, &sc, &err), LIA_ELIMIT);
    assert_non_null(strstr(err.reason, "more than 64"));
    free(big);
    /* a file over 1 MiB is refused before it is read */
    lia_error_clear(&err);
    assert_int_equal(lia_drill_scenario_parse("x", LIA_DRILL_MAX_FILE + 1, &sc, &err), LIA_ELIMIT);
    assert_null(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
