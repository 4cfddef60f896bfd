/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the one clock (src/core/clock.c): the timespec conversion,
 * table-driven, and the two clocks against the C library's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"

static void test_timespec_us(void **state)
{
    static const struct {
        time_t sec;
        long nsec;
        int64_t us;
    } cases[] = {
        {0, 0, 0},
        {0, 999, 0},
        {0, 1000, 1},
        {0, 999999999, 999999},
        {1, 0, 1000000},
        {1700000000, 123456789, INT64_C(1700000000123456)},
        {-1, 500000000, -500000}, /* 1969-12-31T23:59:59.5Z */
        {-1, 999, -1000000},      /* toward the earlier time */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct timespec ts = {cases[i].sec, cases[i].nsec};
        int64_t got = lia__timespec_us(ts);
        if (got != cases[i].us)
            fail_msg("case %zu: {%lld, %ld}: got %lld, want %lld", i, (long long)cases[i].sec, cases[i].nsec,
                     (long long)got, (long long)cases[i].us);
    }
}

static void test_clocks(void **state)
{
    (void)state;
    /* against clock_gettime, not time(): time() reads the coarse clock,
     * which lags the real one by up to a tick (a clean-clone run saw
     * lia__now_us at 755.001 s while time() still said 754) */
    struct timespec b, a;
    clock_gettime(CLOCK_REALTIME, &b);
    int64_t now = lia__now_us();
    clock_gettime(CLOCK_REALTIME, &a);
    int64_t before = (int64_t)b.tv_sec * 1000000 + b.tv_nsec / 1000,
            after = (int64_t)a.tv_sec * 1000000 + a.tv_nsec / 1000;
    if (now < before || now > after)
        fail_msg("lia__now_us %lld is not within CLOCK_REALTIME %lld..%lld", (long long)now,
                 (long long)before, (long long)after);
    int64_t m1 = lia__mono_us();
    uint64_t n1 = lia__mono_ns();
    struct timespec d = {0, 2000000}; /* 2 ms */
    nanosleep(&d, NULL);
    int64_t m2 = lia__mono_us();
    uint64_t n2 = lia__mono_ns();
    if (m2 - m1 < 2000 || n2 - n1 < 2000000u)
        fail_msg("monotonic clocks moved %lld us / %llu ns over a 2 ms sleep", (long long)(m2 - m1),
                 (unsigned long long)(n2 - n1));
    if ((int64_t)(n1 / 1000) < m1 || (int64_t)(n1 / 1000) > m2)
        fail_msg("mono_ns %llu and mono_us %lld..%lld are not the same clock", (unsigned long long)n1,
                 (long long)m1, (long long)m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timespec_us),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
