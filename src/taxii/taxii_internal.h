/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal interface between TAXII storage (taxii_store.c) and the HTTP
 * endpoints (taxii_api.c). Not part of the public API. */
#ifndef LIA_HTTP_TAXII_INTERNAL_H
#define LIA_HTTP_TAXII_INTERNAL_H

#include "liaison/accounts.h"
#include "liaison/taxii.h"
#include "route/tlp.h"

typedef struct lia__taxii_discovery {
    char title[256], description[512], contact[256], default_root[LIA_TAXII_MAX_ID];
} lia__taxii_discovery;

int lia__taxii_discovery_get(lia_store *s, lia__taxii_discovery *d, lia_error *err);
/* Append a JSON array of the names of the API roots p may see. */
int lia__taxii_api_root_names(lia_store *s, const lia_principal *p, lia_buf *out, lia_error *err);
/* *yes = whether p may see API root `root`: our own team sees every root, a
 * partner or constituent a root holding a collection it may read or write.
 * hint (may be NULL): a collection id of the root to try first, so a request
 * on a collection p may use costs one lookup, not a walk of the root. */
int lia__taxii_root_visible(lia_store *s, const char *root, const char *hint, const lia_principal *p,
                            int *yes, lia_error *err);
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
 * object_id deleted, among those r may see and (unless any_owner) that r's
 * organisation owns; *n = how many. */
int lia__taxii_delete(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                      const lia_taxii_filter *f, const lia_taxii_reader *r, int any_owner, int64_t *n,
                      lia_error *err);
/* Process a POSTed envelope into c; appends the status resource to out.
 * LIA_EPARSE (422) when body is not an envelope. */
int lia__taxii_post(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, const char *body,
                    size_t n, lia_buf *out, lia_error *err);
/* Append status resource id of root if owner posted it (organisation id,
 * 0 = our own team; owner < 0: whoever did); LIA_ENOTFOUND otherwise. */
int lia__taxii_status_json(lia_store *s, const char *root, const char *id, int64_t owner, lia_buf *out,
                           lia_error *err);

/* ---- what a server answers the client (taxii_reply.c) ---- */

/* One envelope page of a pull. */
typedef struct lia__taxii_page {
    size_t objects; /* length of "objects" (absent: 0) */
    int more;       /* "more": true */
    char next[512]; /* "next" when more is true and it fits, else "" */
} lia__taxii_page;
/* Read an envelope page (body, len; len 0 reads as {}). LIA_EPARSE (field
 * "url", value url) when it is not a JSON object or "objects" is not an
 * array; out is written only on LIA_OK. */
int lia__taxii_page_read(const char *body, size_t len, const char *url, lia__taxii_page *out, lia_error *err);
/* Check the status resource a server answered a push of nobj objects with
 * (HTTP 202). LIA_OK when it is a JSON object with no failure_count > 0;
 * LIA_EPARSE when it is no status resource; LIA_ENET with the count and the
 * first failure's id and message when the server refused objects. */
int lia__taxii_push_status(const char *body, size_t len, size_t nobj, const char *url, lia_error *err);

/* ---- our own exports (taxii_bundle.c, taxii_store.c) ---- */

/* The objects of a STIX bundle's text, found without parsing it (a lexical
 * walk): cb(ud, text, len) for each element of "objects", in order (cb may
 * be NULL); *objects the "[...]" text, *count the elements, id the bundle's
 * id (each may be NULL). LIA_EPARSE when the text is not an object with an
 * objects array of objects; cb's non-zero return stops the walk and is
 * returned. Pure: no allocation, no I/O. */
typedef int (*lia__stix_object_cb)(void *ud, const char *obj, size_t n);
int lia__stix_bundle_walk(const char *b, size_t n, lia__stix_object_cb cb, void *ud, lia_slice *objects,
                          size_t *count, char *id, size_t idn, lia_error *err);

/* One object of our own STIX export into collection c (read once by the
 * caller), in the caller's transaction: stored as written (parsed once for
 * id, type, version and markings, not serialised again). Our identity is
 * TLP:CLEAR (it is not secret); an SCO the collection holds already is not
 * added again (its version would be the date added). *stored: 0 for such
 * an SCO, else 1 (a version already present counts as stored). */
int lia__taxii_put_exported(lia_store *s, const lia_taxii_collection *c, const char *json, size_t n,
                            int *stored, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* ---- TLP policy -------------------------------------------------------
 * The TAXII view of the one TLP policy, lia__tlp_allows() (liaison/route.h),
 * which it calls: may an object marked `object_tlp` (enum lia_tlp) be
 * served to a reader whose organisation's ceiling is `recipient_ceiling`?
 * same_org: the reader's organisation owns the object (for our own team:
 * objects of org 0). TLP:RED is never served; AMBER+STRICT only to the
 * owning organisation; nothing above the ceiling. */
int lia__tlp_policy_allows(int recipient_ceiling, int object_tlp, int same_org);

/* Create API root name (title, default max_content_length) unless it
 * exists; an existing root is left as it is. */
int lia__taxii_api_root_ensure(lia_store *s, const char *name, const char *title, lia_error *err);

int lia__taxii_collection_get(lia_store *s, const char *api_root, const char *id, lia_taxii_collection *out,
                              lia_error *err);

/* *yes = 1 if collection c holds a version of object id (not deleted). */
int lia__taxii_object_exists(lia_store *s, const lia_taxii_collection *c, const char *id, int *yes,
                             lia_error *err);

int lia__taxii_bulk_begin(lia_store *s, int64_t coll_rowid, lia_taxii_bulk **out, lia_error *err);
int lia__taxii_bulk_add(lia_taxii_bulk *b, const char *id, const char *type, int64_t version_us,
                        int64_t date_added_us, int tlp, const char *json, size_t n, lia_error *err);
int lia__taxii_bulk_end(lia_taxii_bulk *b, lia_error *err); /* commits and frees */

void lia__taxii_filter_init(lia_taxii_filter *f);
/* Apply one (decoded) query parameter: added_after, limit, next,
 * match[id|type|version|spec_version]; other names are ignored (LIA_OK).
 * LIA_EPARSE / LIA_ELIMIT with *why for a bad or oversized value. */
int lia__taxii_filter_param(lia_taxii_filter *f, const char *key, const char *value, const char **why);
/* Hash of the filter without limit and next, plus scope (collection and
 * endpoint), so a next token replayed with other filters is detected. */
uint64_t lia__taxii_filter_hash(const lia_taxii_filter *f, const char *scope);

void lia__taxii_next_encode(int64_t date_us, int64_t seq, uint64_t hash, char out[LIA_TAXII_NEXT_MAX]);
int lia__taxii_next_decode(const char *s, size_t n, int64_t *date_us, int64_t *seq, uint64_t *hash);

/* Append the JSON envelope ({"more":..,"next":..,"objects":[..]} or the
 * manifest/versions form) of one page to out. object_id limits to one
 * object (objects/{id}/ and versions/). LIA_EINVAL (err reason) when the
 * next token does not belong to these filters. */
int lia__taxii_query(lia_store *s, const lia_taxii_collection *c, int kind, const char *object_id,
                     const lia_taxii_filter *f, const lia_taxii_reader *r, lia_buf *out, lia_taxii_page *pg,
                     lia_error *err);

/* The next token that continues a query of c (kind, object_id, filters f)
 * after the row with key (date_us, seq), as lia__taxii_query would issue it.
 * For tools that start a walk in the middle (bench, resumable exports). */
void lia__taxii_next_for(const lia_taxii_collection *c, int kind, const char *object_id,
                         const lia_taxii_filter *f, int64_t date_us, int64_t seq,
                         char out[LIA_TAXII_NEXT_MAX]);

#endif
