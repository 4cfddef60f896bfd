/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/taxii.h - TAXII 2.1 collections of STIX objects: storage, query,
 * the pure filter/next-token parsers, and the pull client.
 *
 * Storage (src/taxii/taxii_store.c) is the interface through which events
 * become STIX objects later: a collection holds STIX objects as JSON
 * documents with (id, type, version, spec_version, date_added, tlp, owner
 * org, deleted flag, body). Rows are never removed by DELETE: they are
 * flagged deleted (tombstones), so sync can see deletions. Pages are keyset
 * paginated on (date_added, seq) over an index; `next` is an opaque token
 * holding the last key, so a page costs the same on the first and on the
 * ten-millionth object. */
#ifndef LIAISON_TAXII_H
#define LIAISON_TAXII_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/limits.h"
#include "liaison/slice.h"
#include "liaison/store.h"

/* ---- storage ---- */

/* Create or upgrade the TAXII tables of the store (schema "taxii") and
 * register the TLP function the queries use; idempotent. */
int lia_taxii_init(lia_store *s, lia_error *err);

typedef struct lia_taxii_collection {
    int64_t rowid;
    char api_root[LIA_TAXII_MAX_ID];
    char id[LIA_TAXII_MAX_ID];
    char title[256];
    char description[512];
    int community;   /* readable by every authenticated organisation */
    int default_tlp; /* TLP of objects that carry no TLP marking */
    int own_write;   /* own-team analysts may write (default 1) */
    int allow_read;  /* collection-wide switches: 0 = nobody may read */
    int allow_write; /*   / write (TAXII can_read/can_write false) */
} lia_taxii_collection;

/* Defaults: community 0, default_tlp AMBER, own_write 1, allow_* 1. */
void lia_taxii_collection_defaults(lia_taxii_collection *c);

/* Add API root name (one path segment), or update its title, description
 * and max content length (0: LIA_HTTP_MAX_BODY) if it exists. */
int lia_taxii_api_root_add(lia_store *s, const char *name, const char *title, const char *description,
                           uint64_t max_content_length, lia_error *err);
/* Creates c (c->rowid set). LIA_EEXIST if the id is taken in that root. */
int lia_taxii_collection_add(lia_store *s, lia_taxii_collection *c, lia_error *err);
/* Give org read and/or write access to a collection (replaces earlier). */
int lia_taxii_grant(lia_store *s, const char *api_root, const char *coll_id, int64_t org_id, int can_read,
                    int can_write, lia_error *err);

/* Add one STIX object (JSON text) to a collection: the route stage's entry
 * point. tlp: -1 = from its markings, else the collection default; org_id:
 * owning organisation (0 = our own team); date_added_us 0 = now. A version
 * already present is success (nothing changes). LIA_EPARSE when the object
 * lacks id/type or has a bad timestamp. */
int lia_taxii_collection_add_object(lia_store *s, const char *api_root, const char *coll_id, const char *json,
                                    size_t n, int tlp, int64_t org_id, int64_t date_added_us, lia_error *err);

/* Bulk load for benchmarks and migrations: objects the caller guarantees
 * are new ids, each with one version. One transaction per commit_every. */
typedef struct lia_taxii_bulk lia_taxii_bulk;

/* Load a medallion-style data file (discovery, api roots with information,
 * collections with objects and manifest, status). Counts out. */
typedef struct lia_taxii_seed_stats {
    uint64_t api_roots, collections, objects, statuses;
} lia_taxii_seed_stats;
int lia_taxii_seed(lia_store *s, const char *json, size_t n, lia_taxii_seed_stats *st, lia_error *err);

/* ---- filters and the next token (pure) ---- */

enum lia_taxii_ver {
    LIA_TAXII_VER_LAST = 0,
    LIA_TAXII_VER_FIRST = 1,
    LIA_TAXII_VER_ALL = 2,
    LIA_TAXII_VER_TS = 3
};
#define LIA_TAXII_SPEC_20 1
#define LIA_TAXII_SPEC_21 2

typedef struct lia_taxii_filter {
    int64_t added_after; /* us; -1 = none */
    uint32_t limit;      /* 0 = LIA_TAXII_PAGE_DEFAULT */
    int has_next;
    int64_t next_date, next_seq; /* decoded next token */
    uint64_t next_hash;
    int spec_mask; /* 0 = default (2.1) */
    int nver;
    int ver_kind[LIA_TAXII_MAX_MATCH];
    int64_t ver_ts[LIA_TAXII_MAX_MATCH];
    int nids, ntypes;
    const char *ids[LIA_TAXII_MAX_MATCH]; /* into arena */
    const char *types[LIA_TAXII_MAX_MATCH];
    size_t used;
    char arena[LIA_TAXII_MATCH_BYTES];
} lia_taxii_filter;

#define LIA_TAXII_NEXT_MAX 48

/* ---- query (used by the server; public for tests and the bench) ---- */

/* Who reads: org_id is the organisation that counts as the reader's own
 * for AMBER+STRICT (0 = our own team); also_org_id, if not 0, a second id
 * that counts as its own (our team's real organisation id, which objects
 * added with `taxii add --org` by older versions carry). */
typedef struct lia_taxii_reader {
    int64_t org_id;
    int tlp_ceiling;
    int64_t also_org_id;
} lia_taxii_reader;

enum lia_taxii_kind { LIA_TAXII_OBJECTS = 0, LIA_TAXII_MANIFEST = 1, LIA_TAXII_VERSIONS = 2 };

typedef struct lia_taxii_page {
    size_t count;
    int more;
    char next[LIA_TAXII_NEXT_MAX];
    int64_t first_added, last_added; /* of the page; 0 if empty */
} lia_taxii_page;

/* ---- pull client (src/taxii/taxii_pull.c) ---- */

typedef struct lia_taxii_pull_opts {
    const char *url;             /* API root URL, e.g. https://h/api1/ */
    const char *collection;      /* collection id */
    const char *user, *password; /* Basic auth, or */
    const char *token;           /* bearer token */
    const char *feed;            /* feed name of the events (default "taxii") */
    int default_tlp;             /* TLP of objects without markings (-1 = AMBER) */
    const char *cacert;          /* CA bundle file (NULL = system) */
    int insecure;                /* do not verify TLS (tests only) */
    uint32_t page;               /* limit per request (0 = LIA_TAXII_PULL_PAGE) */
    uint64_t max_pages;          /* stop after so many pages (0 = all) */
    volatile int *stop;
} lia_taxii_pull_opts;

typedef struct lia_taxii_pull_result {
    uint64_t pages, objects; /* pages fetched, objects in them */
    uint64_t events;         /* events stored (the STIX importer's, format "stix") */
    uint64_t quarantined;    /* objects that could not become events, with the reason */
    uint64_t pages_seen;     /* pages already ingested before (same bytes): skipped */
    int resumed;
    char cursor[64]; /* added_after now stored for the source */
} lia_taxii_pull_result;

/* Fetch the objects of a collection added since the cursor stored for the
 * source (url, collection) and ingest them as STIX; pages already ingested
 * are skipped, and the cursor moves only after a page is stored, so an
 * interrupted pull resumes where it stopped. */
int lia_taxii_pull(lia_store *s, const lia_taxii_pull_opts *o, lia_taxii_pull_result *res, lia_error *err);

#endif
