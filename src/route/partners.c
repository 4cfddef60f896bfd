/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Partner directory index: for each country, the partner CERTs covering it
 * (in directory order: id order when loaded from the store). Several partners may cover one country (a
 * national CERT and a sector CERT); every one of them is a candidate recipient. */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

int lia__partner_index_build(lia__partner_index *ix, const lia_party *p, size_t np, lia_error *err)
{
    int32_t last[26 * 26];
    memset(ix, 0, sizeof *ix);
    for (int i = 0; i < 26 * 26; i++)
        ix->first[i] = last[i] = -1;
    for (size_t i = 0; i < np; i++) {
        if (p[i].kind != LIA_PARTY_PARTNER)
            continue;
        for (size_t k = 0; k < p[i].f[LIA_PF_COUNTRIES].n; k++) {
            int cc = lia__cc_index(p[i].f[LIA_PF_COUNTRIES].v[k]);
            if (cc < 0)
                return lia_error_set(err, LIA_EINVAL, "countries", p[i].f[LIA_PF_COUNTRIES].v[k], 2,
                                     "not a country code (partner %s)", p[i].id);
            if (ix->n == ix->cap) {
                size_t nc = ix->cap ? ix->cap * 2 : 64;
                int32_t *a = realloc(ix->next_party, nc * sizeof *a);
                int32_t *b;
                if (!a)
                    return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                ix->next_party = a;
                if (!(b = realloc(ix->next, nc * sizeof *b)))
                    return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                ix->next = b;
                ix->cap = nc;
            }
            ix->next_party[ix->n] = (int32_t)i;
            ix->next[ix->n] = -1;
            if (last[cc] < 0)
                ix->first[cc] = (int32_t)ix->n;
            else
                ix->next[last[cc]] = (int32_t)ix->n;
            last[cc] = (int32_t)ix->n;
            ix->n++;
        }
    }
    return LIA_OK;
}

void lia__partner_index_free(lia__partner_index *ix)
{
    free(ix->next_party);
    free(ix->next);
    memset(ix, 0, sizeof *ix);
}
