/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internals shared by the files of src/enrich/. */
#ifndef LIA_ENRICH_INTERNAL_H
#define LIA_ENRICH_INTERNAL_H

#include <stdint.h>

#include "liaison/enrich.h"
#include "store/db.h"

__extension__ typedef unsigned __int128 u128;

/* One interned value of a range table. */
typedef struct lia_ipval {
    char cc[2];          /* "\0\0" if none */
    uint32_t asn;        /* 0 if none */
    uint32_t noff, nlen; /* AS name in names[] */
} lia_ipval;

struct lia_iptable {
    uint32_t n4;
    struct lia_seg4 {
        uint32_t s;        /* segment start (IPv4, host order); seg4[0].s == 0 */
        uint32_t v;        /* value index + 1, 0 = no data */
    } * seg4;              /* start and value side by side: one cache line */
    uint32_t idx16[65537]; /* first segment starting at or after h << 16 */
    size_t n6;
    u128 *s6;
    uint32_t *v6;
    lia_ipval *vals;
    size_t nvals;
    char *names;
    size_t nameslen;
    size_t nranges; /* ranges read */
};

/* The address as an unsigned integer (32 or 128 bits). */
u128 lia__ip_u128(const lia_ip *ip);

/* ---- internal (was in the public API) ---- */

/* Parse a whole RIR delegated statistics file (buf, len): comment, version
 * and summary lines are skipped, ipv4/ipv6 records with a country and status
 * allocated/assigned become ranges; asn records are ignored. A malformed
 * record is an error naming its line. Pure (no I/O); the result owns its
 * memory. */
int lia__iptable_parse_rir(const char *buf, size_t len, lia_iptable **out, lia_error *err);
/* Parse an ip-location-db style CSV (start,end,cc | start,end,asn,name |
 * start,end,cc,... city layouts); a header line is allowed. */
int lia__iptable_parse_csv(const char *buf, size_t len, lia_iptable **out, lia_error *err);
void lia__iptable_destroy(lia_iptable *t);
/* Number of ranges (v4 + v6) and bytes used by the table. */
size_t lia__iptable_ranges(const lia_iptable *t);
size_t lia__iptable_bytes(const lia_iptable *t);
/* 1 and *out filled if ip is in a range, else 0. */
int lia__iptable_lookup(const lia_iptable *t, const lia_ip *ip, lia_ipanswer *out);
/* IPv4 fast path: address in host order. Returns the range's value index +
 * 1, or 0 if none; cc/asn of that value with lia__iptable_value(). */
uint32_t lia__iptable_lookup4(const lia_iptable *t, uint32_t addr);
void lia__iptable_value(const lia_iptable *t, uint32_t vref, char cc[3], uint32_t *asn);

/* Fill *out; returns 1 if any attribute was found, 0 if none. */
int lia__ipdb_lookup(const lia_ipdb *db, const lia_ip *ip, lia_ipinfo *out);
/* LIA_OK, or the first corruption a lookup met in a source (a MaxMind DB
 * whose search tree or data do not decode), naming the file and the reason:
 * such a lookup is not "no answer". A corrupt search tree is refused by
 * lia_ipdb_add already. */
int lia__ipdb_error(const lia_ipdb *db, lia_error *err);

int lia__ipdata_create(lia_ipdata **out);
void lia__ipdata_destroy(lia_ipdata *h);
/* Declare a source (not loaded until lia__ipdata_reload). */
int lia__ipdata_add(lia_ipdata *h, int kind, const char *path, lia_error *err);
/* (Re)build from the declared sources when forced or when any file's mtime
 * or size changed since the last build; on success swap it in atomically
 * (readers holding the old one keep it until they release it). On failure
 * the current database stays. *changed (may be NULL) says whether a swap
 * happened. */
int lia__ipdata_reload(lia_ipdata *h, int force, int *changed, lia_error *err);
/* Current database with a reference taken (release with lia_ipdb_release);
 * NULL if none was built. */
lia_ipdb *lia__ipdata_get(lia_ipdata *h);

/* Optional: prefetch the memory a lookup of ip will touch: step 0 some
 * events ahead (index), then step 1 fewer events ahead (ranges). */
void lia__ipdb_prefetch(const lia_ipdb *db, const lia_ip *ip, int step);

/* Fill source.* and destination.* ASN, AS name and country from db where
 * the event has the IP and lacks the attribute (never overwrites). Returns
 * the number of fields set. */
int lia__enrich_event_ip(const lia_ipdb *db, lia_event *ev);

/* Parse a rules file (JSON, see share/sectors.json). Pure; errors name the
 * rule and the key at fault. */
int lia__sectors_parse(const char *json, size_t len, lia_sectors **out, lia_error *err);
int lia__sectors_load(const char *path, lia_sectors **out, lia_error *err);
void lia__sectors_destroy(lia_sectors *s);
size_t lia__sectors_count(const lia_sectors *s);

/* Optional: evaluate the rules' report conditions once for ctx (they do
 * not change within a report) instead of once per event. The rules must
 * outlive ctx's use; free with lia__sectors_ctx_free. */
int lia__sectors_prepare(const lia_sectors *s, lia_sector_ctx *ctx);
void lia__sectors_ctx_free(lia_sector_ctx *ctx);

/* Evaluate the rules for ev. Returns 1 if something matched. */
int lia__sectors_match(const lia_sectors *s, const lia_sector_ctx *ctx, const lia_event *ev,
                       lia_sector_result *out);
/* Match, then write extra.sector and extra.ics_protocol where absent.
 * Returns the number of keys written, or a negative LIA_E*. */
int lia__sectors_apply(const lia_sectors *s, const lia_sector_ctx *ctx, lia_event *ev, lia_error *err);

void lia__dedup_conf_default(lia_dedup_conf *c);
/* Parse "classification.type,source.ip,..." into c->key. */
int lia__dedup_conf_key(lia_dedup_conf *c, const char *s, size_t n, lia_error *err);

int lia__dedup_create(const lia_dedup_conf *c, lia_dedup **out, lia_error *err);
void lia__dedup_destroy(lia_dedup *d);
/* Keep state in store s (tables created if needed; the hash key is read
 * from or written to the store). Then every batch given to lia__dedup_batch
 * must, once stored, be given to lia__dedup_stored. */
int lia__dedup_attach(lia_dedup *d, lia_store *s, lia_error *err);
/* Other processes add aggregates to the store meanwhile (liaison worker):
 * every key missing in memory is looked up in the dedup table, even if it
 * was empty at attach. */
void lia__dedup_assume_stored(lia_dedup *d);
/* Only the tables (enrich_meta, dedup), without the hash key: a
 * whole-store copy (src/store/copy.c) brings the source's. */
int lia__dedup_schema(lia_db *db, lia_error *err);
/* A whole-store copy (src/store/copy.c) reads the state from where it is
 * and writes it as the destination's backend keeps it.
 * lia__dedup_gens: SQLite's generations (tables dedup_G, G ascending,
 * *out malloc'd; none on PostgreSQL, which has the one table dedup).
 * A sink takes aggregates inside the caller's transaction: SQLite: each
 * into the generation of its first seen (made if missing; the span is
 * enrich_meta's dedup_gen_seconds, copied before, else the default
 * window's, recorded there); PostgreSQL: staged by COPY and merged into
 * dedup at close, one row a key, the newest first seen (SQLite keeps a
 * replaced aggregate in its generation beside the one that replaced it).
 * close: SQLite: the view dedup again if a generation was made; *stored
 * (may be NULL): the rows new in the state (PostgreSQL: less those that
 * replaced a key's older aggregate); it frees the sink, as abort does
 * (after a failure; the caller rolls back).
 * lia__dedup_copied: after the copy (SQLite): enrich_meta's integers from
 * PostgreSQL (digits in bytea) as integers again, the view made again. */
int lia__dedup_gens(lia_db *db, int64_t **out, size_t *n, lia_error *err);
typedef struct lia__dedup_sink lia__dedup_sink;
int lia__dedup_sink_open(lia_db *db, lia__dedup_sink **out, lia_error *err);
int lia__dedup_sink_put(lia__dedup_sink *k, int64_t key, int64_t event_id, int64_t first, int64_t last,
                        int64_t count, lia_error *err);
int lia__dedup_sink_close(lia__dedup_sink *k, int64_t *stored, lia_error *err);
void lia__dedup_sink_abort(lia__dedup_sink *k);
int lia__dedup_copied(lia_db *db, lia_error *err);
/* 64-bit key of an event: keyed SipHash (libsodium crypto_shorthash) of the
 * key fields' typed values, absent fields included as absent. */
uint64_t lia__dedup_key(const lia_dedup *d, const lia_event *ev);
/* Fold duplicates of b into their aggregate and remove them from b (order
 * of the others kept). Returns the number removed, or a negative LIA_E*. */
int lia__dedup_batch(lia_dedup *d, lia_batch *b, lia_error *err);
/* After the last batch given to lia__dedup_batch was stored (b as the store
 * left it, its events' ids set; in its transaction): the new aggregates of
 * the batch learn their event's id. A batch that is never stored keeps them
 * pending, and the next lia__dedup_flush forgets them. No-op without a store. */
void lia__dedup_stored(lia_dedup *d, const lia_batch *b);
/* After the batch's events were stored (and before the commit): write
 * changed aggregates to the store and update the aggregated events
 * (extra.dedup_count, extra.dedup_first_seen, extra.dedup_last_seen); then
 * evict down to the cap. No-op without a store. */
int lia__dedup_flush(lia_dedup *d, lia_error *err);
/* Seconds an aggregate is kept in the store after its last event (relative
 * to the newest aggregate): two windows, at least LIA_DEDUP_KEEP_MIN. Older
 * ones are deleted by lia__dedup_attach, once per window of progress. */
int64_t lia__dedup_keep_seconds(const lia_dedup_conf *c);
/* Aggregates in memory, bytes of the in-memory table, evictions so far. */
size_t lia__dedup_keys(const lia_dedup *d);
size_t lia__dedup_bytes(const lia_dedup *d);
uint64_t lia__dedup_evictions(const lia_dedup *d);

void lia__enrich_conf_default(lia_enrich_conf *c);
/* Parse config text; dir resolves relative paths (may be NULL). */
int lia__enrich_conf_parse(lia_enrich_conf *c, const char *text, size_t len, const char *dir, lia_error *err);

/* Default sector rules file (the shipped share/sectors.json, or
 * $LIAISON_DATADIR/sectors.json). */
const char *lia__sectors_default_path(void);

#endif
