/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The failed-login throttle (src/http/throttle.c): back-off doubling up to
 * its cap, forgetting, clearing, and which record a full probe window
 * gives up. Times are passed in: nothing here sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/throttle.h"

#define S 1000000LL

static lia__throttle_key key(unsigned home, unsigned char tag)
{
    lia__throttle_key k;
    memset(&k, 0, sizeof k);
    k.b[0] = (unsigned char)home; /* the home slot is the key's first bytes, masked */
    k.b[15] = tag;
    return k;
}

static void test_backoff(void **state)
{
    /* 3 free failures, then 1 s doubling to at most 8 s; forgotten after 60 s */
    static const struct {
        int64_t at_s;
        int64_t fail_wait_s; /* the wait lia__throttle_fail returns */
    } steps[] = {
        {0, 0}, {1, 0}, {2, 1},                    /* the 3rd failure starts the wait */
        {4, 2}, {7, 4}, {12, 8}, {21, 8}, {30, 8}, /* capped */
    };
    lia__throttle *t = lia__throttle_create(64, 1 * S, 8 * S, 60 * S);
    lia__throttle_key k = key(3, 1), other = key(3, 2);
    (void)state;
    assert_non_null(t);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t now = steps[i].at_s * S;
        if (lia__throttle_wait(t, &k, now) != 0)
            fail_msg("step %zu: waiting at %llds", i, (long long)steps[i].at_s);
        int64_t w = lia__throttle_fail(t, &k, 3, now);
        if (w != steps[i].fail_wait_s * S)
            fail_msg("step %zu: wait %lld us, want %lld s", i, (long long)w, (long long)steps[i].fail_wait_s);
        assert_int_equal(lia__throttle_wait(t, &k, now), w);
        if (w)
            assert_int_equal(lia__throttle_wait(t, &k, now + w), 0);
    }
    assert_int_equal(lia__throttle_fails(t, &k, 30 * S), 8);
    /* another key of the same home slot is its own record */
    assert_int_equal(lia__throttle_wait(t, &other, 30 * S), 0);
    assert_int_equal(lia__throttle_fails(t, &other, 30 * S), 0);
    /* 60 s without failure (and no wait running): starts over */
    assert_int_equal(lia__throttle_fails(t, &k, 91 * S), 0);
    assert_int_equal(lia__throttle_fail(t, &k, 3, 91 * S), 0);
    assert_int_equal(lia__throttle_fails(t, &k, 91 * S), 1);
    /* cleared (a right password): starts over at once */
    lia__throttle_fail(t, &k, 3, 92 * S);
    lia__throttle_fail(t, &k, 3, 93 * S);
    assert_true(lia__throttle_wait(t, &k, 93 * S) > 0);
    lia__throttle_clear(t, &k);
    assert_int_equal(lia__throttle_wait(t, &k, 93 * S), 0);
    assert_int_equal(lia__throttle_fails(t, &k, 93 * S), 0);
    lia__throttle_destroy(t);
}

static void test_eviction_spares_waiting(void **state)
{
    /* 16 slots, keys of one home slot: a probe window of 8 records */
    lia__throttle *t = lia__throttle_create(16, 1 * S, 900 * S, 3600 * S);
    lia__throttle_key bad = key(5, 0);
    (void)state;
    assert_non_null(t);
    lia__throttle_fail(t, &bad, 1, 0); /* waits 1 s, then 2 s, ... */
    lia__throttle_fail(t, &bad, 1, 2 * S);
    assert_int_equal(lia__throttle_wait(t, &bad, 2 * S), 2 * S);
    /* a flood of new keys after it, none waiting, fills the window and more */
    for (unsigned i = 1; i <= 40; i++) {
        lia__throttle_key k = key(5, (unsigned char)i);
        lia__throttle_fail(t, &k, 5, 2 * S + i);
    }
    /* the waiting record is still there: the flood replaced its own records */
    assert_int_equal(lia__throttle_fails(t, &bad, 3 * S), 2);
    assert_true(lia__throttle_wait(t, &bad, 3 * S) > 0);
    /* the newest of the flood is kept, the oldest gave way */
    lia__throttle_key newest = key(5, 40), oldest = key(5, 1);
    assert_int_equal(lia__throttle_fails(t, &newest, 3 * S), 1);
    assert_int_equal(lia__throttle_fails(t, &oldest, 3 * S), 0);
    lia__throttle_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_eviction_spares_waiting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
