/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/enrich.h - IP data (country, ASN, AS name), sector tagging and
 * deduplication, and the configuration that names their sources.
 *
 * IP data comes from sources in a stated precedence (the order they were
 * added, i.e. the order of the configuration file): for each attribute
 * (country, ASN, AS name) the first source that knows it gives it.
 *   - MaxMind DB files (libmaxminddb): any vendor's MMDB; GeoIP2/GeoLite2
 *     Country/City/ASN layouts (country.iso_code, registered_country.iso_code,
 *     autonomous_system_number, autonomous_system_organization) and the
 *     ip-location-db layouts (country_code, the same ASN keys);
 *   - RIR delegated statistics files (registry|cc|type|start|value|date|status);
 *   - IP-range CSV files in the ip-location-db layout (start,end,cc or
 *     start,end,asn,as_name; addresses as text or as decimal numbers).
 * RIR and CSV sources are compiled into a compact immutable range table
 * (sorted range starts, a /16 index for IPv4, binary search inside).
 *
 * Threads: a lia_ipdb is immutable once built and may be shared by any
 * number of threads. A lia_ipdata holder swaps in a new lia_ipdb atomically
 * on reload; readers take a reference (lia_ipdata_get) and drop it
 * (lia_ipdb_release). */
#ifndef LIAISON_ENRICH_H
#define LIAISON_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "liaison/slice.h"
#include "liaison/store.h"

/* ---- range tables (RIR and CSV sources) ---- */

typedef struct lia_iptable lia_iptable;

/* One answer of a range table or a source. */
typedef struct lia_ipanswer {
    char cc[3];          /* "" if this source does not know */
    uint32_t asn;        /* 0 if unknown */
    const char *as_name; /* borrowed from the source (valid while it lives); NULL if unknown */
    size_t as_name_len;
    lia_ip first, last; /* the range (or network) that matched */
} lia_ipanswer;

/* Parse a whole RIR delegated statistics file (buf, len): comment, version
 * and summary lines are skipped, ipv4/ipv6 records with a country and status
 * allocated/assigned become ranges; asn records are ignored. A malformed
 * record is an error naming its line. Pure (no I/O); the result owns its
 * memory. */
int lia_iptable_parse_rir(const char *buf, size_t len, lia_iptable **out, lia_error *err);
/* Parse an ip-location-db style CSV (start,end,cc | start,end,asn,name |
 * start,end,cc,... city layouts); a header line is allowed. */
int lia_iptable_parse_csv(const char *buf, size_t len, lia_iptable **out, lia_error *err);
void lia_iptable_destroy(lia_iptable *t);
/* Number of ranges (v4 + v6) and bytes used by the table. */
size_t lia_iptable_ranges(const lia_iptable *t);
size_t lia_iptable_bytes(const lia_iptable *t);
/* 1 and *out filled if ip is in a range, else 0. */
int lia_iptable_lookup(const lia_iptable *t, const lia_ip *ip, lia_ipanswer *out);
/* IPv4 fast path: address in host order. Returns the range's value index +
 * 1, or 0 if none; cc/asn of that value with lia_iptable_value(). */
uint32_t lia_iptable_lookup4(const lia_iptable *t, uint32_t addr);
void lia_iptable_value(const lia_iptable *t, uint32_t vref, char cc[3], uint32_t *asn);

/* ---- IP data sources with precedence ---- */

enum lia_ipsrc_kind { LIA_IPSRC_MMDB = 0, LIA_IPSRC_RIR = 1, LIA_IPSRC_CSV = 2 };

/* Name of a kind ("mmdb", "rir", "csv"); kind by name (-1 if unknown). */
const char *lia_ipsrc_kind_name(int kind);
int lia_ipsrc_kind_lookup(const char *s, size_t n);

typedef struct lia_ipdb lia_ipdb;

/* An empty database (no source). */
int lia_ipdb_create(lia_ipdb **out, lia_error *err);
/* Load the file at path as a source of the given kind and append it (lowest
 * precedence so far). Errors name the file and line. */
int lia_ipdb_add(lia_ipdb *db, int kind, const char *path, lia_error *err);
/* Drop a reference (the creator holds one). Frees at zero. */
void lia_ipdb_release(lia_ipdb *db);
size_t lia_ipdb_nsources(const lia_ipdb *db);
/* Source i: kind, path, and a short description (ranges, database type). */
int lia_ipdb_source(const lia_ipdb *db, size_t i, int *kind, const char **path, const char **desc);

/* The merged answer: each attribute from the first source that has it. */
typedef struct lia_ipinfo {
    char cc[3];                    /* "" if unknown */
    uint32_t asn;                  /* 0 if unknown */
    char as_name[256];             /* "" if unknown */
    int cc_src, asn_src, name_src; /* index of the source that gave it, -1 */
} lia_ipinfo;

/* Fill *out; returns 1 if any attribute was found, 0 if none. */
int lia_ipdb_lookup(const lia_ipdb *db, const lia_ip *ip, lia_ipinfo *out);
/* LIA_OK, or the first corruption a lookup met in a source (a MaxMind DB
 * whose search tree or data do not decode), naming the file and the reason:
 * such a lookup is not "no answer". A corrupt search tree is refused by
 * lia_ipdb_add already. */
int lia_ipdb_error(const lia_ipdb *db, lia_error *err);
/* Explain: what each source answers for ip and which answer wins, as text
 * lines appended to out. */
int lia_ipdb_explain(const lia_ipdb *db, const lia_ip *ip, lia_buf *out);

/* A reloadable holder: a list of (kind, path) and the current lia_ipdb. */
typedef struct lia_ipdata lia_ipdata;

int lia_ipdata_create(lia_ipdata **out);
void lia_ipdata_destroy(lia_ipdata *h);
/* Declare a source (not loaded until lia_ipdata_reload). */
int lia_ipdata_add(lia_ipdata *h, int kind, const char *path, lia_error *err);
/* (Re)build from the declared sources when forced or when any file's mtime
 * or size changed since the last build; on success swap it in atomically
 * (readers holding the old one keep it until they release it). On failure
 * the current database stays. *changed (may be NULL) says whether a swap
 * happened. */
int lia_ipdata_reload(lia_ipdata *h, int force, int *changed, lia_error *err);
/* Current database with a reference taken (release with lia_ipdb_release);
 * NULL if none was built. */
lia_ipdb *lia_ipdata_get(lia_ipdata *h);

/* Optional: prefetch the memory a lookup of ip will touch: step 0 some
 * events ahead (index), then step 1 fewer events ahead (ranges). */
void lia_ipdb_prefetch(const lia_ipdb *db, const lia_ip *ip, int step);

/* Fill source.* and destination.* ASN, AS name and country from db where
 * the event has the IP and lacks the attribute (never overwrites). Returns
 * the number of fields set. */
int lia_enrich_event_ip(const lia_ipdb *db, lia_event *ev);

/* ---- sector tagging ---- */

typedef struct lia_sectors lia_sectors;

/* Parse a rules file (JSON, see share/sectors.json). Pure; errors name the
 * rule and the key at fault. */
int lia_sectors_parse(const char *json, size_t len, lia_sectors **out, lia_error *err);
int lia_sectors_load(const char *path, lia_sectors **out, lia_error *err);
void lia_sectors_destroy(lia_sectors *s);
size_t lia_sectors_count(const lia_sectors *s);

/* Context of the report the events came from (may be NULL fields). */
typedef struct lia_sector_ctx {
    const char *report_type; /* e.g. Shadowserver report type */
    const char *report_name; /* file name of the report */
    unsigned char *memo;     /* internal: per-rule "report" results (lia_sectors_prepare) */
} lia_sector_ctx;

/* Optional: evaluate the rules' report conditions once for ctx (they do
 * not change within a report) instead of once per event. The rules must
 * outlive ctx's use; free with lia_sectors_ctx_free. */
int lia_sectors_prepare(const lia_sectors *s, lia_sector_ctx *ctx);
void lia_sectors_ctx_free(lia_sector_ctx *ctx);

typedef struct lia_sector_result {
    const char *sector;             /* borrowed from the rules; NULL if none */
    const char *ics_protocol;       /* NULL if none */
    int sector_rule, protocol_rule; /* index of the rule that gave it, -1 */
} lia_sector_result;

/* Evaluate the rules for ev. Returns 1 if something matched. */
int lia_sectors_match(const lia_sectors *s, const lia_sector_ctx *ctx, const lia_event *ev,
                      lia_sector_result *out);
/* Match, then write extra.sector and extra.ics_protocol where absent.
 * Returns the number of keys written, or a negative LIA_E*. */
int lia_sectors_apply(const lia_sectors *s, const lia_sector_ctx *ctx, lia_event *ev, lia_error *err);

/* ---- deduplication ---- */

#define LIA_DEDUP_MAX_KEY_FIELDS 8

typedef struct lia_dedup_conf {
    int enabled;                       /* default 1 */
    int nkey;                          /* fields of the key */
    int key[LIA_DEDUP_MAX_KEY_FIELDS]; /* lia_field ids */
    int64_t window_us;                 /* default 24 h */
    size_t max_keys;                   /* in-memory cap (default LIA_DEDUP_KEYS) */
} lia_dedup_conf;

void lia_dedup_conf_default(lia_dedup_conf *c);
/* Parse "classification.type,source.ip,..." into c->key. */
int lia_dedup_conf_key(lia_dedup_conf *c, const char *s, size_t n, lia_error *err);

/* The deduplicator. In memory it keeps at most max_keys aggregates (plus
 * the events of one commit interval) in an open-addressing table of 32-byte
 * slots; with a store attached, every aggregate is also kept in the store's
 * `dedup` table (key, event id, first, last, count), written in the same
 * transaction as the batch, so the state survives restarts and evicted keys
 * are found again. One thread. */
typedef struct lia_dedup lia_dedup;

int lia_dedup_create(const lia_dedup_conf *c, lia_dedup **out, lia_error *err);
void lia_dedup_destroy(lia_dedup *d);
/* Keep state in store s (tables created if needed; the hash key is read
 * from or written to the store). Then every batch given to lia_dedup_batch
 * must, once stored, be given to lia_dedup_stored. */
int lia_dedup_attach(lia_dedup *d, lia_store *s, lia_error *err);
/* 64-bit key of an event: keyed SipHash (libsodium crypto_shorthash) of the
 * key fields' typed values, absent fields included as absent. */
uint64_t lia_dedup_key(const lia_dedup *d, const lia_event *ev);
/* Fold duplicates of b into their aggregate and remove them from b (order
 * of the others kept). Returns the number removed, or a negative LIA_E*. */
int lia_dedup_batch(lia_dedup *d, lia_batch *b, lia_error *err);
/* After the last batch given to lia_dedup_batch was stored (b as the store
 * left it, its events' ids set; in its transaction): the new aggregates of
 * the batch learn their event's id. A batch that is never stored keeps them
 * pending, and the next lia_dedup_flush forgets them. No-op without a store. */
void lia_dedup_stored(lia_dedup *d, const lia_batch *b);
/* After the batch's events were stored (and before the commit): write
 * changed aggregates to the store and update the aggregated events
 * (extra.dedup_count, extra.dedup_first_seen, extra.dedup_last_seen); then
 * evict down to the cap. No-op without a store. */
int lia_dedup_flush(lia_dedup *d, lia_error *err);
/* Seconds an aggregate is kept in the store after its last event (relative
 * to the newest aggregate): two windows, at least LIA_DEDUP_KEEP_MIN. Older
 * ones are deleted by lia_dedup_attach, once per window of progress. */
int64_t lia_dedup_keep_seconds(const lia_dedup_conf *c);
/* Aggregates in memory, bytes of the in-memory table, evictions so far. */
size_t lia_dedup_keys(const lia_dedup *d);
size_t lia_dedup_bytes(const lia_dedup *d);
uint64_t lia_dedup_evictions(const lia_dedup *d);

/* ---- configuration (STORE.conf) ----
 *
 *   [ipdata]
 *   source = mmdb PATH       (repeat; order = precedence)
 *   source = rir PATH
 *   source = csv PATH
 *   check = 5                (seconds between file-change checks; 0 = never)
 *   [sectors]
 *   rules = PATH             (default: the shipped share/sectors.json)
 *   enabled = yes
 *   [dedup]
 *   enabled = yes
 *   key = classification.type,source.ip,source.port,feed.name
 *   window = 24h             (s, m, h, d suffixes)
 *   memory_keys = 1000000
 *
 * Relative paths are relative to the file's folder. Sections of other
 * modules are ignored; unknown keys in these sections are errors. */

#define LIA_ENRICH_MAX_SOURCES 16

typedef struct lia_enrich_conf {
    int nsources;
    int kind[LIA_ENRICH_MAX_SOURCES];
    char path[LIA_ENRICH_MAX_SOURCES][LIA_MAX_CONF_PATH];
    int check_s;
    int sectors_enabled;
    char sectors_path[LIA_MAX_CONF_PATH]; /* "" = default */
    lia_dedup_conf dedup;
    char file[1024]; /* the file read, "" if none */
} lia_enrich_conf;

void lia_enrich_conf_default(lia_enrich_conf *c);
/* Parse config text; dir resolves relative paths (may be NULL). */
int lia_enrich_conf_parse(lia_enrich_conf *c, const char *text, size_t len, const char *dir, lia_error *err);
/* Read the file at path into c (defaults first). A missing file is not an
 * error (defaults stay, c->file stays ""). */
int lia_enrich_conf_load(lia_enrich_conf *c, const char *path, lia_error *err);
/* The configuration path of a store: $LIAISON_CONF, else STORE.conf. */
void lia_enrich_conf_path(const char *store_path, char *out, size_t n);
/* Default sector rules file (the shipped share/sectors.json, or
 * $LIAISON_DATADIR/sectors.json). */
const char *lia_sectors_default_path(void);

#endif
