/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal interface between TAXII storage (taxii_store.c) and the HTTP
 * endpoints (taxii_api.c). Not part of the public API. */
#ifndef LIA_HTTP_TAXII_INTERNAL_H
#define LIA_HTTP_TAXII_INTERNAL_H

#include <sqlite3.h>

#include "liaison/accounts.h"
#include "liaison/taxii.h"

typedef struct lia__taxii_discovery {
    char title[256], description[512], contact[256], default_root[LIA_TAXII_MAX_ID];
} lia__taxii_discovery;

int lia__taxii_discovery_get(lia_store *s, lia__taxii_discovery *d, lia_error *err);
/* Append a JSON array of api root names. */
int lia__taxii_api_root_names(lia_store *s, lia_buf *out, lia_error *err);
/* Append the API root resource; LIA_ENOTFOUND if unknown. */
int lia__taxii_api_root_json(lia_store *s, const char *name, lia_buf *out, uint64_t *max_len, lia_error *err);
/* What principal p may do on collection c. */
void lia__taxii_access(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, int *can_read,
                       int *can_write);
/* Append one collection resource (with can_read/can_write for p). */
int lia__taxii_collection_json(lia_store *s, const lia_taxii_collection *c, const lia_principal *p,
                               lia_buf *out);
/* Append {"collections":[...]} of root, only those p may read or write
 * (and those visible by allow flags). */
int lia__taxii_collections_json(lia_store *s, const char *root, const lia_principal *p, lia_buf *out,
                                lia_error *err);
/* Is there any non-deleted version of object_id visible to r? */
int lia__taxii_object_visible(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                              const lia_taxii_reader *r, int *yes, lia_error *err);
/* Mark versions selected by f (match[version], match[spec_version]) of
 * object_id deleted; *n = how many. */
int lia__taxii_delete(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                      const lia_taxii_filter *f, int64_t *n, lia_error *err);
/* Process a POSTed envelope into c; appends the status resource to out.
 * LIA_EPARSE (422) when body is not an envelope. */
int lia__taxii_post(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, const char *body,
                    size_t n, lia_buf *out, lia_error *err);
int lia__taxii_status_json(lia_store *s, const char *root, const char *id, lia_buf *out, lia_error *err);

#endif
