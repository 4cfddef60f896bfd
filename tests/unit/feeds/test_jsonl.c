/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "jsonl": lines, blank lines, CRLF, lines across chunks, over-long
 * lines, invalid lines; the same result for every chunk size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fmt_run.h"

static const struct {
    const char *in;
    const char *want;
} cases[] = {
    {"{\"source.ip\":\"192.0.2.1\"}\n", "1 ok {\"source.ip\":\"192.0.2.1\"}\n"},
    {"{\"source.ip\":\"192.0.2.1\"}", "1 ok {\"source.ip\":\"192.0.2.1\"}\n"},
    {"\n\r\n{\"source.port\":1}\r\n\n{\"source.port\":2}\n",
     "3 ok {\"source.port\":1}\n5 ok {\"source.port\":2}\n"},
    {"{\"source.ip\":\"192.0.2.300\"}\n{\"source.port\":2}\n",
     "1 err source.ip: \"192.0.2.300\": octet > 255\n2 ok {\"source.port\":2}\n"},
    {"not json\n{\"source.port\":2}\n", "1 err invalid JSON at column 3: '[' or '{' expected near 'not'\n"
                                        "2 ok {\"source.port\":2}\n"},
    {"{\"classification.type\":\"scanner\"}\n",
     "1 ok {\"classification.taxonomy\":\"information-gathering\",\"classification.type\":\"scanner\"}\n"},
    {"{}\n", "1 err no field at all\n"},
};

static void test_cases_every_chunking(void **state)
{
    lia_feed_opts o = {.feed = "t", .tlp = -1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in);
        for (size_t chunk = 0; chunk <= len; chunk++) {
            fmt_result r;
            assert_int_equal(fmt_run("jsonl", &o, cases[i].in, len, chunk, &r), LIA_OK);
            if (strcmp(r.out.ptr ? r.out.ptr : "", cases[i].want) != 0)
                print_error("case %zu chunk %zu\n", i, chunk);
            assert_string_equal(r.out.ptr ? r.out.ptr : "", cases[i].want);
            fmt_result_free(&r);
        }
    }
}

static void test_overlong_line(void **state)
{
    /* a 100 MB line is rejected as too long; the next line still arrives */
    size_t big = (size_t)100 << 20;
    char *buf = malloc(big + 64);
    lia_feed_opts o = {.feed = "t", .tlp = -1};
    fmt_result r;
    assert_non_null(buf);
    memset(buf, 'x', big);
    buf[big] = '\n';
    memcpy(buf + big + 1, "{\"source.port\":7}\n", 18);
    assert_int_equal(fmt_run("jsonl", &o, buf, big + 19, 1 << 16, &r), LIA_OK);
    assert_string_equal(r.out.ptr, "1 err line longer than 1 MiB\n2 ok {\"source.port\":7}\n");
    fmt_result_free(&r);
    free(buf);
}

static void test_nul_and_invalid_utf8(void **state)
{
    static const char in[] = "{\"comment\":\"a\0b\"}\n{\"comment\":\"\xc0\xaf\"}\n{\"comment\":\"ok\"}\n";
    lia_feed_opts o = {.feed = "t", .tlp = -1};
    fmt_result r;
    assert_int_equal(fmt_run("jsonl", &o, in, sizeof in - 1, 0, &r), LIA_OK);
    assert_int_equal(r.bad, 2);
    assert_int_equal(r.ok, 1);
    fmt_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_every_chunking),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_nul_and_invalid_utf8),
    };
    return cmocka_run_group_tests_name("jsonl", tests, NULL, NULL);
}
