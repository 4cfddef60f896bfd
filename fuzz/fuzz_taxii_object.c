/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: one STIX object from a TAXII server (the pull client's
 * input) to a harmonised event. Invariants: success gives an event with a
 * TLP and one observable; anything else is an error code, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "liaison/event.h"
#include "liaison/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lia_event ev;
    static int init;
    lia_error e;
    if (!init) {
        lia_event_init(&ev);
        init = 1;
    }
    lia_error_clear(&e);
    int rc = lia_taxii_object_to_event((const char *)data, size, -1, "fuzz", &ev, &e);
    if (rc == LIA_OK) {
        CHECK(lia_event_has(&ev, LIA_F_TLP));
        CHECK(lia_event_has(&ev, LIA_F_SOURCE_IP) || lia_event_has(&ev, LIA_F_SOURCE_FQDN) ||
              lia_event_has(&ev, LIA_F_SOURCE_URL) || lia_event_has(&ev, LIA_F_SOURCE_NETWORK));
    } else {
        CHECK(rc < 0);
    }
    return 0;
}
