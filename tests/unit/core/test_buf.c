/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the shared buffer helpers in src/core/buf.c and slice.h:
 * one CSV cell (RFC 4180 quoting, used by `events --format csv`, the digest
 * attachments and the partner directory export), and hex digits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/error.h"
#include "liaison/slice.h"

static void test_csv_cell(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"#comment", "\"#comment\""},
        {"mid # hash", "mid # hash"},
        {"\"", "\"\"\"\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_buf b;
        lia_buf_init(&b, 1024);
        assert_int_equal(lia_buf_csv(&b, cases[i].in, strlen(cases[i].in)), LIA_OK);
        if (b.len != strlen(cases[i].out) || (b.len && memcmp(b.ptr, cases[i].out, b.len) != 0))
            fail_msg("csv of [%s]: got [%.*s], want [%s]", cases[i].in, (int)b.len, lia_buf_cstr(&b),
                     cases[i].out);
        lia_buf_free(&b);
    }
    {
        lia_buf b; /* the buffer's limit is an error, not a cut cell */
        lia_buf_init(&b, 4);
        assert_int_equal(lia_buf_csv(&b, "a,bcdef", 7), LIA_ELIMIT);
        lia_buf_free(&b);
    }
}

static void test_hexval(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = c >= '0' && c <= '9' ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        assert_int_equal(lia_hexval(c), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_cell),
        cmocka_unit_test(test_hexval),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
