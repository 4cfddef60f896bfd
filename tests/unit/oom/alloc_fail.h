/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Allocation-failure hook for tests (as curl's torture tests and SQLite's
 * OOM tests do): "fail the Nth allocation from now".
 *
 * How allocations reach it: the test program of tests/unit/oom is linked
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,
 * --wrap=strndup (tests/unit/oom/meson.build). libliaison is a static
 * library, so every call to those functions in the library's objects (and
 * in the test's own) goes to the __wrap_ functions of alloc_fail.c, which
 * count and fail on request, then call the real one. No source file of the
 * library changes and release builds are not affected at all.
 *
 * Only our own allocations are counted. Not counted: jansson, libxml2,
 * SQLite, libcurl, libsodium, and allocations inside libc (fopen, qsort).
 * jansson 2.14 and libxml2 2.9.14 were tried (json_set_alloc_funcs,
 * xmlMemSetup): both report many of their own allocation failures as
 * syntax errors ("invalid token", "invalid element name"), which no
 * caller can tell from bad input, so routing them here fails on their
 * behaviour, not ours. Where they do say "out of memory" we map it to
 * LIA_ENOMEM (core/jsonget.h lia__json_oom; the IODEF reader's parser
 * context). */
#ifndef LIA_TEST_ALLOC_FAIL_H
#define LIA_TEST_ALLOC_FAIL_H

#include <stddef.h>

/* Read LIA_ALLOC_FAIL_TRACE=N (print a backtrace at the Nth allocation,
 * for debugging a failure; with LIA_OOM_ONLY=test_name). Call once, first. */
void lia_alloc_fail_init(void);
/* From now on, count allocations and fail the nth one (n >= 1) and, once
 * failed, keep succeeding; n == 0 only counts. */
void lia_alloc_fail_arm(size_t n);
/* Stop counting; returns 1 if an allocation was failed since arm. */
int lia_alloc_fail_disarm(void);
/* malloc itself, not counted (in this program "malloc" is the hook). */
void *lia_alloc_fail_real_malloc(size_t n);
/* Allocations counted since the last arm. */
size_t lia_alloc_fail_count(void);

/* The nth-failure runner: op(ud) once counting, then with n = 1, 2, 3, ...
 * until a run had no failure. A run with a failure must return
 * LIA_ENOMEM (or, if other_ok, any negative code), or LIA_OK with the same
 * result as the run without failures (lia_alloc_fail_sum: an allocation
 * whose failure changes nothing, e.g. libxml2's copy of the document's
 * encoding name); the last one must return LIA_OK. Leaks are caught by LeakSanitizer in the ASan build.
 * stride > 1 tests every stride-th n only (for costly operations); the
 * runner always includes n = 1 and the last allocation. Returns the number
 * of allocations of a successful run; fails the cmocka test otherwise. */
typedef int (*lia_alloc_op)(void *ud);
/* An op may leave the reason of its error here; the runner prints it. */
extern char lia_alloc_fail_why[512];
/* An op sets this to a checksum of its result (what it read or answered). */
extern unsigned long lia_alloc_fail_sum;
/* Pause (1) and resume (0) counting inside an op, around set-up that is
 * not under test. */
void lia_alloc_fail_hold(int on);
size_t lia_alloc_fail_each(const char *name, lia_alloc_op op, void *ud, size_t stride, int other_ok);

#endif
