/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the one float formatter (src/core/floattext.c): shortest
 * text that reads back exactly, and its JSON-real form. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/floattext.h"

static void test_float_text(void **state)
{
    static const struct {
        double d;
        const char *text, *json;
    } cases[] = {
        {0.0, "0", "0.0"},
        {-0.0, "-0", "-0.0"},
        {3.0, "3", "3.0"},
        {-42.0, "-42", "-42.0"},
        {1.5, "1.5", "1.5"},
        {0.1, "0.1", "0.1"},                                       /* not 0.10000000000000001 */
        {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"}, /* needs 17 digits */
        {1.0 / 3.0, "0.3333333333333333", "0.3333333333333333"},   /* 16 are enough */
        {123456789012345.0, "123456789012345", "123456789012345.0"},
        {1e21, "1e+21", "1e+21"},
        {1e-7, "1e-07", "1e-07"},
        {DBL_MAX, "1.7976931348623157e+308", "1.7976931348623157e+308"},
        {-DBL_MIN, "-2.2250738585072014e-308", "-2.2250738585072014e-308"},
        {5e-324, "4.94065645841247e-324", "4.94065645841247e-324"}, /* 15 digits read back */
        {INFINITY, "inf", "inf"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char t[LIA_FLOAT_TEXT_MAX], j[LIA_FLOAT_TEXT_MAX];
        size_t tn = lia__float_text(cases[i].d, t, sizeof t), jn = lia__float_json(cases[i].d, j, sizeof j);
        if (strcmp(t, cases[i].text) != 0 || tn != strlen(t))
            fail_msg("case %zu: text got [%s] (%zu), want [%s]", i, t, tn, cases[i].text);
        if (strcmp(j, cases[i].json) != 0 || jn != strlen(j))
            fail_msg("case %zu: json got [%s] (%zu), want [%s]", i, j, jn, cases[i].json);
        if (isfinite(cases[i].d) && strtod(t, NULL) != cases[i].d)
            fail_msg("case %zu: [%s] does not read back", i, t);
    }
}

static void test_float_text_small_buffer(void **state)
{
    char t[LIA_FLOAT_TEXT_MAX - 1] = "x";
    (void)state;
    assert_int_equal(lia__float_text(1.5, t, sizeof t), 0); /* refused whole, never cut */
    assert_string_equal(t, "");
    assert_int_equal(lia__float_json(1.5, t, sizeof t), 0);
    assert_int_equal(lia__float_text(1.5, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_text),
        cmocka_unit_test(test_float_text_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
