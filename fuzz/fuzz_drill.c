/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the drill scenario reader (lia_drill_scenario_parse),
 * which reads a file an analyst or a partner wrote.
 *
 * Invariants: LIA_OK with a scenario that keeps the limits of liaison/drill.h
 * (at least one participant and inject, each inject named, titled and with
 * 1 to LIA_DRILL_MAX_EXPECT expectations), or an error with a reason and
 * no scenario. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz drill: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_drill_scenario *sc = NULL;
    lia_error err;
    int rc;
    lia_error_clear(&err);
    rc = lia_drill_scenario_parse((const char *)data, size, &sc, &err);
    if (rc != LIA_OK) {
        check(sc == NULL, "a scenario on error");
        check(err.reason[0] != '\0', "an error without a reason");
        return 0;
    }
    check(sc && sc->name && sc->nparticipants >= 1 && sc->nparticipants <= LIA_DRILL_MAX_PARTICIPANTS,
          "participants out of limits");
    check(sc->ninjects >= 1 && sc->ninjects <= LIA_DRILL_MAX_INJECTS, "injects out of limits");
    for (size_t i = 0; i < sc->ninjects; i++) {
        const lia_drill_inject *in = &sc->injects[i];
        check(in->name && in->title && in->tlp, "an inject without name, title or TLP");
        check(in->nexpect >= 1 && in->nexpect <= LIA_DRILL_MAX_EXPECT, "expectations out of limits");
        check(in->at_s >= 0 && in->at_s <= LIA_DRILL_MAX_OFFSET, "offset out of range");
        for (size_t j = 0; j < in->nexpect; j++)
            check(in->expect[j].expiry_s > 0 &&
                      (in->expect[j].answer == LIA_DRILL_VALUE) == (in->expect[j].value != NULL),
                  "an expectation out of its rules");
    }
    lia_drill_scenario_free(sc);
    return 0;
}
