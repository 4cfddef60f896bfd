/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one clock of the library (see clock.h). */
#include "core/clock.h"

int64_t lia__timespec_us(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000000 + (int64_t)(ts.tv_nsec / 1000);
}

int64_t lia__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return lia__timespec_us(ts);
}

int64_t lia__mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return lia__timespec_us(ts);
}

uint64_t lia__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
