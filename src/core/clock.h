/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the one clock of the library. Wall-clock time (timestamps that
 * are stored or shown) in microseconds since the Unix epoch; monotonic time
 * (durations, timeouts, rates) in microseconds or nanoseconds since an
 * arbitrary start. Thread-safe; never fails (clock_gettime on these clocks
 * cannot fail on a supported system). */
#ifndef LIA_CORE_CLOCK_H
#define LIA_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* A normalised timespec (0 <= tv_nsec < 1e9) as microseconds; the
 * sub-microsecond part is dropped, so before 1970 too it rounds toward the
 * earlier time. */
int64_t lia__timespec_us(struct timespec ts);

/* Wall clock (CLOCK_REALTIME), microseconds since 1970-01-01T00:00:00Z. */
int64_t lia__now_us(void);

/* Monotonic clock (CLOCK_MONOTONIC), microseconds and nanoseconds. */
int64_t lia__mono_us(void);
uint64_t lia__mono_ns(void);

#endif
