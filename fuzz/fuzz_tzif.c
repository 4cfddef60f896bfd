/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the TZif reader (src/incident/tz.c) on any bytes. A zone
 * that parses gives offsets within +-26 hours at any instant, and its next
 * change always lies after the instant asked about. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "liaison/incident.h"
#include "incident/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t probes[] = {INT64_MIN / 2, -1, 0, 1000, 1700000000, 4102444800, INT64_MAX / 2};
    lia_tz *tz = NULL;
    if (lia__tz_parse(data, size, "fuzz", &tz, NULL) != LIA_OK)
        return 0;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int32_t off = lia__tz_offset(tz, probes[i]);
        int64_t next = lia__tz_next_change(tz, probes[i]);
        if (off < -26 * 3600 || off > 26 * 3600 || next <= probes[i]) {
            fprintf(stderr, "invariant failed at %lld\n", (long long)probes[i]);
            abort();
        }
    }
    lia__tz_free(tz);
    return 0;
}
