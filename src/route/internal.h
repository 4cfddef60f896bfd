/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internals shared by the files of src/route (not part of the public API). */
#ifndef LIA_ROUTE_INTERNAL_H
#define LIA_ROUTE_INTERNAL_H

#include <stdint.h>

#include "incident/rules.h"
#include "liaison/route.h"
#include "store/db.h"

/* The store's database with the routing tables created (decisions.c). */
int lia__route_db(lia_store *s, lia_db **db, lia_error *err);
/* The directory (directory.c) depends on nothing else of routing: the
 * database with the party table created; delete one party (LIA_ENOTFOUND). */
int lia__directory_db(lia_store *s, lia_db **db, lia_error *err);
int lia__party_delete(lia_store *s, int kind, const char *id, lia_error *err);
int lia__party_from_json(lia_party *p, int kind, const char *id, const char *body, lia_error *err);
/* Validate and normalise an e-mail address (domain in A-labels, lower). */
int lia__email_norm(const char *s, size_t n, lia_buf *out, const char **why);

/* Ids of the static reason sentences in table route_reason, cached by
 * pointer (reasons are static strings). Zero it before use. On PostgreSQL,
 * inside a transaction, a sentence not stored yet is added through a
 * second connection (side) and committed at once: every writer shares these
 * rows, and one added in the batch's transaction would make another ingest
 * adding the same sentence wait for that whole transaction (issue 12).
 * lia__rcache_close closes side. */
typedef struct lia__rcache {
    const char *p[64];
    int64_t id[64];
    int n;
    lia_db *side;
} lia__rcache;
int lia__route_reason_id(lia_db *db, lia__rcache *c, const char *text, int64_t *id, lia_error *err);
void lia__rcache_close(lia__rcache *c);

/* Open-addressing hash of 64-bit keys to int32 values. */
typedef struct lia__h64 {
    uint64_t *k;
    int32_t *v;
    size_t cap, n; /* cap is a power of two; empty slot: v == -1 */
} lia__h64;

/* Hash of byte strings (copied) to int32 values. */
typedef struct lia__hstr {
    uint32_t *off, *len; /* into keys */
    int32_t *v;
    uint64_t *h;
    size_t cap, n;
    lia_buf keys;
} lia__hstr;

/* Owner index: longest-prefix match over IPv4 and IPv6 networks, ASN and
 * domain suffix (owners.c). */
/* Host-address fast path for IPv4: a /16 table; a slot with longer
 * prefixes points at its flattened runs (start of run in the low 16 bits,
 * owner), searched by bisection. */
typedef struct lia__v4run {
    uint16_t start;
    int32_t owner;
} lia__v4run;

typedef struct lia__owner_index {
    int32_t *top;              /* [65536] owner of the /16, -1 none, <= -2: runs -2-k */
    uint32_t *sub_off, *sub_n; /* runs of the k-th slot with longer prefixes */
    size_t nsub;
    lia__v4run *runs;
    size_t nruns;
    lia__h64 v4;       /* key: addr << 8 | prefix */
    uint8_t lens4[33]; /* distinct prefix lengths, longest first */
    int nlens4;
    lia__hstr v6; /* key: 16 masked bytes + prefix byte */
    uint8_t lens6[129];
    int nlens6;
    lia__h64 asn;
    lia__hstr dom;
} lia__owner_index;

int lia__owner_index_build(lia__owner_index *ix, const lia_party *p, size_t np, lia_error *err);
void lia__owner_index_free(lia__owner_index *ix);
int lia__owner_index_ip(const lia__owner_index *ix, const lia_ip *ip);
int lia__owner_index_asn(const lia__owner_index *ix, uint32_t asn);
int lia__owner_index_domain(const lia__owner_index *ix, const char *fqdn, size_t n);

/* Partner index: partners covering each country (partners.c). */
typedef struct lia__partner_index {
    int32_t first[26 * 26];
    int32_t *next_party, *next; /* linked pairs */
    size_t n, cap;
} lia__partner_index;

int lia__partner_index_build(lia__partner_index *ix, const lia_party *p, size_t np, lia_error *err);
void lia__partner_index_free(lia__partner_index *ix);
static inline int lia__cc_index(const char *cc)
{
    if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
        return -1;
    return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

int lia__h64_put(lia__h64 *h, uint64_t k, int32_t v, int32_t *old);
int32_t lia__h64_get(const lia__h64 *h, uint64_t k);
void lia__h64_free(lia__h64 *h);
int lia__hstr_put(lia__hstr *h, const void *k, size_t n, int32_t v, int32_t *old);
int32_t lia__hstr_get(const lia__hstr *h, const void *k, size_t n);
void lia__hstr_free(lia__hstr *h);

/* The routing configuration (config.c): rule targets, rules, settings. */
enum { LIA__T_OWNER, LIA__T_PARTNER, LIA__T_DEFAULT, LIA__T_OWNER_ID, LIA__T_PARTNER_ID, LIA__T_DROP };

typedef struct lia__route_target {
    int type;
    int32_t party; /* LIA__T_*_ID: resolved index; -1 before */
    char *id;
} lia__route_target;

typedef struct lia__route_rule {
    char *name;
    int has_cc, cc_home, cc_foreign;
    uint64_t cc[(26 * 26 + 63) / 64];
    uint32_t *asn;
    size_t nasn;
    lia_ip *cidr;
    size_t ncidr;
    uint64_t tax, type[4]; /* bitmaps over RSIT ids */
    int has_tax, has_type;
    char **sector;
    size_t nsector;
    char **feed;
    size_t nfeed;
    unsigned tlp; /* bitmap over enum lia_tlp, 0 = any */
    lia__route_target *to;
    size_t nto;
} lia__route_rule;

typedef struct lia__route_setting {
    char *name, *value;
} lia__route_setting;

typedef struct lia__route_config {
    char home[3];
    int mode_all;
    char **redact[3]; /* all, owner, partner */
    size_t nredact[3];
    int redact_set;
    lia__route_rule *rules;
    size_t nrules;
    lia__route_setting *set;
    size_t nset;
    lia__incident_rules incidents; /* `incidents:` (incident/rules.h) */
} lia__route_config;

/* The routing snapshot (decide.c): parties, their recipient view, indexes,
 * configuration. */
struct lia_route {
    lia_party *p;
    lia_recipient *rcpt; /* per party, precomputed */
    size_t np;
    lia__owner_index oi;
    lia__partner_index pi;
    lia__route_config cf;
};

int lia__route_config_parse(const char *text, size_t len, lia__route_config *c, lia_error *err);
void lia__route_config_free(lia__route_config *c);

/* Deep copy of a party (values already normalised); LIA_ENOMEM. */
int lia__party_copy(lia_party *d, const lia_party *s);

/* The decision rows (decisions.c). */
/* The statement that records decision rows (cached by name), and the rows
 * of one event: reasons as ids through rc_, recipient names from rt. */
int lia__route_insert_prepare(lia_db *db, lia_stmt **ins, lia_error *err);
int lia__route_insert_rows(lia_db *db, lia_stmt *ins, lia__rcache *rc_, const lia_route *rt, int64_t event_id,
                           const lia_decision *d, size_t n, int64_t at, lia_error *err);
/* Add the deliver decisions of the stored events first_id .. last_id to
 * route_delivered (the events routed to each recipient), in the caller's
 * transaction, once per stored batch. */
int lia__route_count_delivered(lia_db *db, int64_t first_id, int64_t last_id, lia_error *err);
/* The same for the n id ranges [lo, hi] of the batches of one transaction
 * (they do not overlap), once, at its end (PostgreSQL: the route stage's
 * flush; SQLite: each range as above). */
int lia__route_count_delivered_ranges(lia_db *db, const int64_t (*rng)[2], size_t n, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* Check required fields (id; owners need one of asns/cidrs/domains, and
 * contacts; partners need countries and contacts). */
int lia__party_check(const lia_party *p, lia_error *err);

int lia__party_put(lia_store *s, const lia_party *p, lia_error *err);

/* Import / export. Formats: "csv" (header of field names, lists separated
 * by spaces or ';') and "yaml" (docs/routing.md). import parses the whole
 * input (pure, no I/O) and calls cb per party; an invalid record stops with
 * the error (source line in err->line). */
int lia__party_parse(int kind, const char *format, const char *buf, size_t len, lia_party_cb cb, void *ud,
                     lia_error *err);

int lia__party_csv_header(int kind, lia_buf *out);
int lia__party_to_csv(const lia_party *p, lia_buf *out);

/* Parse one channel value of party party_id (may be NULL). LIA_OK, or
 * LIA_EINVAL with err naming the party and the value (field "channels").
 * Pure. ROOT and COLLECTION are one path segment each: letters, digits and
 * . _ - ~ (a UUID is fine). */
int lia__channel_parse(const char *party_id, const char *s, size_t n, lia_channel *out, lia_error *err);

/* The address a message to p goes to: its first contact, else the address
 * of its first email: channel; NULL when it has neither. Borrowed from p. */
const char *lia__party_email(const lia_party *p);

/* Build from parties in memory and a configuration text (YAML subset; may be
 * NULL). Parties are copied. */
int lia__route_create(const lia_party *parties, size_t n, const char *config, size_t clen, lia_route **out,
                      lia_error *err);

int lia__route_party_find(const lia_route *rt, int kind, const char *id);

/* Copy of ev without the fields redacted for party idx: the configuration's
 * `redact` list (default: raw) plus `redact_owner` / `redact_partner`.
 * Entries are field names, "extra.KEY", or a prefix ending in '*'. */
int lia__route_redact(const lia_route *rt, int idx, const lia_event *ev, lia_event *out, lia_error *err);

#endif
