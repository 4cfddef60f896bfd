/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the answer-link reader (lia_answer_check), which
 * `liaison serve` runs on every path under /answer/ from anyone.
 *
 * Invariants: the outcome is LIA_OK or LIA_EAUTH with a reason; LIA_OK only
 * for a link this store made: making the link again from what was read
 * gives the input byte for byte. The store (a file in a temporary folder,
 * its own server secret) is opened once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/incident.h"
#include "liaison/liaison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lia_store *store;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz answer: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[LIA_ANSWER_PATH_MAX + 64], again[LIA_ANSWER_PATH_MAX];
    lia_answer_ref a;
    lia_error e;
    int rc;
    if (!store) {
        char dir[] = "/tmp/lia-fuzz-answer-XXXXXX", db[64];
        check(mkdtemp(dir) != NULL, "a temporary folder");
        snprintf(db, sizeof db, "%s/a.db", dir);
        lia_error_clear(&e);
        check(lia_store_open(db, &store, &e) == LIA_OK, "the store opens");
        /* one link, so the secret exists before the first check */
        check(lia_answer_link(store, 1, "cert-a", LIA_ANSWER_ACK, 1800000000000000, again, &e) == LIA_OK,
              "a link is made");
    }
    if (size >= sizeof path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    lia_error_clear(&e);
    rc = lia_answer_check(store, path, 1700000000000000, &a, &e);
    check(rc == LIA_OK || rc == LIA_EAUTH, "outcome is OK or EAUTH");
    check(rc == LIA_OK || e.reason[0], "a refusal has a reason");
    if (rc == LIA_OK) {
        check(lia_answer_link(store, a.incident, a.recipient, a.action, a.expires_us, again, &e) == LIA_OK,
              "what was read makes a link");
        check(strcmp(again, path) == 0, "the link read is the link made");
    }
    return 0;
}
