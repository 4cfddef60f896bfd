/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Named fault points (fault.h). */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"

void lia__fault_point(const char *phase)
{
    static atomic_int passes;
    const char *want = getenv("LIAISON_FAULT");
    size_t n;
    long nth = 1;
    if (!want || !*want)
        return;
    n = strcspn(want, ":");
    if (strlen(phase) != n || memcmp(want, phase, n) != 0)
        return;
    if (want[n] == ':') {
        nth = 0;
        for (const char *d = want + n + 1; *d >= '0' && *d <= '9' && nth < 1000000; d++)
            nth = nth * 10 + (*d - '0');
        if (nth < 1)
            nth = 1;
    }
    if (atomic_fetch_add(&passes, 1) + 1 == nth)
        kill(getpid(), SIGKILL);
}
