/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for record batches (src/core/records.c): records copied into
 * the arena stay valid when later copies make the arena move (regression:
 * found by fuzz/fuzz_shadowserver, input fuzz/corpus/shadowserver/regress_arena_moves). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/pipeline.h"
#include "core/records.h"

static void test_copies_survive_arena_growth(void **state)
{
    static const size_t sizes[] = {1, 10, 100, 1000, 10000, 100000};
    char buf[100000];
    lia_records r;
    lia__records_init(&r);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        lia_slice f[2];
        memset(buf, 'a' + (int)k, sizes[k]);
        f[0] = (lia_slice){buf, sizes[k]};
        f[1] = (lia_slice){buf, sizes[k] / 2};
        assert_int_equal(lia__records_add(&r, k + 1, f[0], f, 2, 0, NULL, 1), LIA_OK);
        memset(buf, '?', sizes[k]); /* the copies must not point here */
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const lia_record *rec = &r.rec[k];
        const lia_slice *f = r.fields + rec->first;
        assert_int_equal(rec->raw.len, sizes[k]);
        assert_int_equal(f[1].len, sizes[k] / 2);
        for (size_t i = 0; i < sizes[k]; i++)
            if (rec->raw.ptr[i] != 'a' + (int)k || f[0].ptr[i] != 'a' + (int)k ||
                (i < sizes[k] / 2 && f[1].ptr[i] != 'a' + (int)k))
                fail_msg("record %zu byte %zu: '%c' expected, got '%c'", k, i, 'a' + (int)k, rec->raw.ptr[i]);
    }
    lia__records_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_copies_survive_arena_growth)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
