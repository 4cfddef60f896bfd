/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: a TAXII request's query string (added_after, limit,
 * next, match[id|type|version|spec_version]) through the URL decoder and
 * the filter parser; the next-token decoder and the STIX timestamp parser
 * on the raw input.
 *
 * Invariants: filter counts stay within their limits and the value arena;
 * a decoded next token re-encodes to a token that decodes to the same
 * key; a parsed timestamp formats to text that parses to the same value. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/http.h"
#include "liaison/taxii.h"
#include "http/parse.h"
#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static int apply(void *ud, const char *k, const char *v)
{
    lia_taxii_filter *f = ud;
    const char *why = NULL;
    int rc = lia__taxii_filter_param(f, k, v, &why);
    CHECK(rc == LIA_OK || why != NULL);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lia_taxii_filter f;
    const char *why = NULL;
    const char *s = (const char *)data;
    lia__taxii_filter_init(&f);
    (void)lia__http_query_each(s, size, apply, &f, &why);
    CHECK(f.nids <= LIA_TAXII_MAX_MATCH && f.ntypes <= LIA_TAXII_MAX_MATCH && f.nver <= LIA_TAXII_MAX_MATCH &&
          f.used <= sizeof f.arena);
    CHECK(f.limit <= LIA_TAXII_PAGE_MAX);
    for (int i = 0; i < f.nids; i++)
        CHECK(f.ids[i] >= f.arena && f.ids[i] < f.arena + sizeof f.arena && f.ids[i][0]);
    (void)lia__taxii_filter_hash(&f, "scope");

    int64_t d, q, d2, q2;
    uint64_t h, h2;
    if (lia__taxii_next_decode(s, size, &d, &q, &h) == LIA_OK) {
        char tok[LIA_TAXII_NEXT_MAX];
        lia__taxii_next_encode(d, q, h, tok);
        CHECK(lia__taxii_next_decode(tok, strlen(tok), &d2, &q2, &h2) == LIA_OK);
        CHECK(d == d2 && q == q2 && h == h2);
    }
    int64_t us, us2;
    if (lia__stix_time_parse(s, size, &us) == LIA_OK) {
        char out[32];
        lia__stix_time_format(us, out);
        CHECK(lia__stix_time_parse(out, strlen(out), &us2) == LIA_OK);
        CHECK(us == us2);
    }
    return 0;
}
