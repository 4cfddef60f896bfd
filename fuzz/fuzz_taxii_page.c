/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: one envelope page of a TAXII pull (what a server
 * answers GET .../objects/), read by lia__taxii_page_read; a page with
 * objects then goes through the STIX importer as the pull ingests it
 * (src/taxii/taxii_pull.c), in one chunk and in pieces (fuzz_format.h).
 *
 * Invariants: "next" is kept only when "more" is true, and it is a
 * NUL-terminated string that fits the cursor; an error carries a reason. */
#include "fuzz_format.h"
#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia__taxii_page pg;
    lia_error e;
    lia_error_clear(&e);
    memset(&pg, 0xa5, sizeof pg);
    int rc = lia__taxii_page_read((const char *)data, size, "http://127.0.0.1/api/", &pg, &e);
    if (rc) {
        fz_check(rc == LIA_EPARSE && e.reason[0], "a page error is LIA_EPARSE with a reason");
        return 0;
    }
    fz_check(memchr(pg.next, '\0', sizeof pg.next) != NULL, "next is NUL-terminated");
    fz_check(pg.more || pg.next[0] == '\0', "next is kept only when more is true");
    fz_check(pg.more == 0 || pg.more == 1, "more is 0 or 1");
    if (pg.objects)
        fz_format("stix", data, size);
    return 0;
}
