/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The allocation-failure hook and the nth-failure runner (alloc_fail.h). */
#include <execinfo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "liaison/error.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

char lia_alloc_fail_why[512];
unsigned long lia_alloc_fail_sum;
static int armed, failed, held;
static size_t count, fail_at, trace_at;

/* 1 if this allocation is to fail. */
static int fail_now(void)
{
    if (!armed || held)
        return 0;
    count++;
    if (!failed && fail_at && count == fail_at) {
        failed = 1;
        if (trace_at == count) { /* where the failed allocation is, for debugging */
            void *bt[32];
            armed = 0;
            fprintf(stderr, "alloc_fail: allocation %zu fails here:\n", count);
            backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
            armed = 1;
        }
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

void *lia_alloc_fail_real_malloc(size_t n)
{
    return __real_malloc(n);
}

void lia_alloc_fail_init(void)
{
    const char *t = getenv("LIA_ALLOC_FAIL_TRACE");
    trace_at = t ? strtoul(t, NULL, 10) : 0;
}

void lia_alloc_fail_arm(size_t n)
{
    count = 0;
    failed = 0;
    fail_at = n;
    armed = 1;
}

void lia_alloc_fail_hold(int on)
{
    held = on;
}

int lia_alloc_fail_disarm(void)
{
    armed = 0;
    return failed;
}

size_t lia_alloc_fail_count(void)
{
    return count;
}

size_t lia_alloc_fail_each(const char *name, lia_alloc_op op, void *ud, size_t stride, int other_ok)
{
    size_t total, n;
    unsigned long sum;
    int rc;
    lia_alloc_fail_sum = 0;
    lia_alloc_fail_arm(0);
    rc = op(ud);
    lia_alloc_fail_disarm();
    total = lia_alloc_fail_count();
    sum = lia_alloc_fail_sum;
    if (rc != LIA_OK)
        fail_msg("%s: the run without failures returned %d (%s)", name, rc, lia_strerror(rc));
    if (stride < 1)
        stride = 1;
    for (n = 1;; n = n + stride > total && n < total ? total : n + stride) {
        lia_alloc_fail_why[0] = '\0';
        lia_alloc_fail_sum = 0;
        lia_alloc_fail_arm(n);
        rc = op(ud);
        if (!lia_alloc_fail_disarm()) {
            if (rc != LIA_OK)
                fail_msg("%s: no allocation failed (n = %zu of %zu) but it returned %d", name, n, total, rc);
            break;
        }
        if (rc == LIA_OK && lia_alloc_fail_sum != sum)
            fail_msg("%s: allocation %zu of %zu failed but it returned LIA_OK with a different result", name,
                     n, total);
        if (rc == LIA_OK)
            continue;
        if (rc != LIA_ENOMEM && !(other_ok && rc < 0))
            fail_msg("%s: allocation %zu of %zu failed: returned %d (%s: %s), expected LIA_ENOMEM", name, n,
                     total, rc, lia_strerror(rc), lia_alloc_fail_why);
    }
    return total;
}
