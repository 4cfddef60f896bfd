/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the status resource a TAXII server answers a push
 * with (HTTP 202 to POST .../objects/), checked by lia__taxii_push_status
 * (the TAXII channel of notify).
 *
 * Invariants: the outcome is LIA_OK, LIA_EPARSE (not a status resource) or
 * LIA_ENET (objects refused), an error has a reason, and LIA_OK means the
 * input is a JSON object (checked against jansson directly). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz taxii_status: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_error e;
    json_error_t je;
    lia_error_clear(&e);
    int rc = lia__taxii_push_status((const char *)data, size, 3, "http://127.0.0.1/api/collections/c/", &e);
    check(rc == LIA_OK || rc == LIA_EPARSE || rc == LIA_ENET, "outcome is OK, EPARSE or ENET");
    check(rc == LIA_OK || e.reason[0], "an error has a reason");
    json_t *j = json_loadb((const char *)data, size, 0, &je);
    check(json_is_object(j) == (rc != LIA_EPARSE), "EPARSE exactly when it is not a JSON object");
    if (rc == LIA_ENET)
        check(json_integer_value(json_object_get(j, "failure_count")) > 0, "ENET only for refused objects");
    json_decref(j);
    return 0;
}
