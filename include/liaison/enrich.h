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
 * on reload; readers take a reference and drop it
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

/* Explain: what each source answers for ip and which answer wins, as text
 * lines appended to out. */
int lia_ipdb_explain(const lia_ipdb *db, const lia_ip *ip, lia_buf *out);

/* A reloadable holder: a list of (kind, path) and the current lia_ipdb. */
typedef struct lia_ipdata lia_ipdata;

/* ---- sector tagging ---- */

typedef struct lia_sectors lia_sectors;

/* Context of the report the events came from (may be NULL fields). */
typedef struct lia_sector_ctx {
    const char *report_type; /* e.g. Shadowserver report type */
    const char *report_name; /* file name of the report */
    unsigned char *memo;     /* internal: per-rule "report" results */
} lia_sector_ctx;

typedef struct lia_sector_result {
    const char *sector;             /* borrowed from the rules; NULL if none */
    const char *ics_protocol;       /* NULL if none */
    int sector_rule, protocol_rule; /* index of the rule that gave it, -1 */
} lia_sector_result;

/* ---- deduplication ---- */

#define LIA_DEDUP_MAX_KEY_FIELDS 8

typedef struct lia_dedup_conf {
    int enabled;                       /* default 1 */
    int nkey;                          /* fields of the key */
    int key[LIA_DEDUP_MAX_KEY_FIELDS]; /* lia_field ids */
    int64_t window_us;                 /* default 24 h */
    size_t max_keys;                   /* in-memory cap (default LIA_DEDUP_KEYS) */
} lia_dedup_conf;

/* The deduplicator. In memory it keeps at most max_keys aggregates (plus
 * the events of one commit interval) in an open-addressing table of 32-byte
 * slots; with a store attached, every aggregate is also kept in the store's
 * `dedup` table (key, event id, first, last, count), written in the same
 * transaction as the batch, so the state survives restarts and evicted keys
 * are found again. One thread. */
typedef struct lia_dedup lia_dedup;

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
    char file[LIA_PATH_MAX]; /* the file read, "" if none */
} lia_enrich_conf;

/* Read the file at path into c (defaults first). A missing file is not an
 * error (defaults stay, c->file stays ""). */
int lia_enrich_conf_load(lia_enrich_conf *c, const char *path, lia_error *err);
/* The configuration path of a store into out (n bytes, LIA_PATH_MAX as a
 * rule): $LIAISON_CONF, else STORE.conf (./liaison.conf for a PostgreSQL
 * URI). LIA_ELIMIT (out "") when it does not fit: never a shorter path. */
int lia_enrich_conf_path(const char *store_path, char *out, size_t n, lia_error *err);

#endif
