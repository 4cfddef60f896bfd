/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* IP data sources in precedence order (MMDB through libmaxminddb, RIR and
 * CSV range tables), the merged lookup with its explanation, the reloadable
 * holder (atomic swap of an immutable database) and event enrichment. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich/internal.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

static const char *const kind_names[] = {"mmdb", "rir", "csv"};

const char *lia_ipsrc_kind_name(int kind)
{
    return kind >= 0 && kind < 3 ? kind_names[kind] : "?";
}

int lia_ipsrc_kind_lookup(const char *s, size_t n)
{
    for (int i = 0; i < 3; i++)
        if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0)
            return i;
    return -1;
}

typedef struct source {
    int kind;
    char *path;
    char desc[256];
    int mmdb_open;
    MMDB_s mmdb;
    lia_iptable *table;
    /* the first corruption a lookup met (a MaxMind DB whose data section
     * does not decode): set once, read by lia__ipdb_error */
    atomic_int bad; /* 0 none, 1 being written, 2 why is set */
    char why[200];
} source;

struct lia_ipdb {
    atomic_int refs;
    source src[LIA_ENRICH_MAX_SOURCES];
    size_t n;
};

int lia_ipdb_create(lia_ipdb **out, lia_error *err)
{
    lia_ipdb *db = calloc(1, sizeof *db);
    if (!db)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    atomic_init(&db->refs, 1);
    *out = db;
    return LIA_OK;
}

static void ipdb_free(lia_ipdb *db)
{
    for (size_t i = 0; i < db->n; i++) {
        if (db->src[i].mmdb_open)
            MMDB_close(&db->src[i].mmdb);
        lia__iptable_destroy(db->src[i].table);
        free(db->src[i].path);
    }
    free(db);
}

void lia_ipdb_release(lia_ipdb *db)
{
    if (db && atomic_fetch_sub(&db->refs, 1) == 1)
        ipdb_free(db);
}

size_t lia_ipdb_nsources(const lia_ipdb *db)
{
    return db->n;
}

int lia_ipdb_source(const lia_ipdb *db, size_t i, int *kind, const char **path, const char **desc)
{
    if (i >= db->n)
        return LIA_ENOTFOUND;
    *kind = db->src[i].kind;
    *path = db->src[i].path;
    *desc = db->src[i].desc;
    return LIA_OK;
}

/* Map a file read-only (the range parsers are pure functions of bytes). */
static int mmdb_check(source *s, const char *path, lia_error *err);

static int map_file(const char *path, void **p, size_t *len, lia_error *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = LIA_OK;
    if (fd < 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if ((uint64_t)st.st_size > LIA_MAX_IPDATA_FILE) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "%s is larger than %llu bytes", path,
                           (unsigned long long)LIA_MAX_IPDATA_FILE);
        goto out;
    }
    *len = (size_t)st.st_size;
    if (*len == 0) {
        *p = NULL;
        goto out;
    }
    *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (*p == MAP_FAILED) {
        *p = NULL;
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot map %s: %s", path, strerror(errno));
    }
out:
    close(fd);
    return rc;
}

int lia_ipdb_add(lia_ipdb *db, int kind, const char *path, lia_error *err)
{
    source *s;
    int rc = LIA_OK;
    if (db->n >= LIA_ENRICH_MAX_SOURCES)
        return lia_error_set(err, LIA_ELIMIT, NULL, path, strlen(path), "more than %d IP data sources",
                             LIA_ENRICH_MAX_SOURCES);
    s = &db->src[db->n];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (!(s->path = strdup(path)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (kind == LIA_IPSRC_MMDB) {
        int m = MMDB_open(path, MMDB_MODE_MMAP, &s->mmdb);
        if (m != MMDB_SUCCESS) {
            rc = lia_error_set(err, m == MMDB_FILE_OPEN_ERROR ? LIA_EIO : LIA_EPARSE, NULL, NULL, 0,
                               "cannot open MaxMind DB %s: %s", path, MMDB_strerror(m));
            goto out;
        }
        s->mmdb_open = 1;
        if ((rc = mmdb_check(s, path, err)))
            goto out;
        snprintf(s->desc, sizeof s->desc, "MaxMind DB, type %s, IPv%d, built %llu",
                 s->mmdb.metadata.database_type ? s->mmdb.metadata.database_type : "?",
                 (int)s->mmdb.metadata.ip_version, (unsigned long long)s->mmdb.metadata.build_epoch);
    } else if (kind == LIA_IPSRC_RIR || kind == LIA_IPSRC_CSV) {
        void *p = NULL;
        size_t len = 0;
        if ((rc = map_file(path, &p, &len, err)))
            goto out;
        rc = kind == LIA_IPSRC_RIR ? lia__iptable_parse_rir(p, len, &s->table, err)
                                   : lia__iptable_parse_csv(p, len, &s->table, err);
        if (p)
            munmap(p, len);
        if (rc) {
            if (err && !err->source[0])
                snprintf(err->source, sizeof err->source, "%s", path);
            goto out;
        }
        snprintf(s->desc, sizeof s->desc, "%s ranges: %zu read, %u IPv4 + %zu IPv6 segments, %zu KiB",
                 kind == LIA_IPSRC_RIR ? "RIR delegated statistics" : "IP-range CSV",
                 lia__iptable_ranges(s->table), s->table->n4, s->table->n6,
                 lia__iptable_bytes(s->table) / 1024);
    } else {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "unknown IP data source kind %d", kind);
        goto out;
    }
    db->n++;
    return LIA_OK;
out:
    if (s->mmdb_open) {
        MMDB_close(&s->mmdb);
        s->mmdb_open = 0;
    }
    free(s->path);
    s->path = NULL;
    return rc;
}

/* ---- one source's answer ---- */

/* A search tree whose records point outside the file is found at load: every
 * node is read (a few ms for millions of nodes), and an invalid record is an
 * error naming the file, the node and the reason. */
static int mmdb_check(source *s, const char *path, lia_error *err)
{
    const MMDB_metadata_s *md = &s->mmdb.metadata;
    if (md->ip_version != 4 && md->ip_version != 6)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "MaxMind DB %s: bad metadata: ip_version %u",
                             path, (unsigned)md->ip_version);
    if (md->node_count == 0 || !md->database_type || !*md->database_type)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "MaxMind DB %s: bad metadata: %s", path,
                             md->node_count == 0 ? "node_count is 0" : "no database_type");
    for (uint32_t i = 0; i < md->node_count; i++) {
        MMDB_search_node_s node;
        int m = MMDB_read_node(&s->mmdb, i, &node);
        if (m != MMDB_SUCCESS)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "MaxMind DB %s: search tree node %u: %s",
                                 path, (unsigned)i, MMDB_strerror(m));
        if (node.left_record_type == MMDB_RECORD_TYPE_INVALID ||
            node.right_record_type == MMDB_RECORD_TYPE_INVALID)
            return lia_error_set(
                err, LIA_EPARSE, NULL, NULL, 0,
                "MaxMind DB %s: search tree node %u: a record points outside the data section "
                "(corrupt database)",
                path, (unsigned)i);
    }
    return LIA_OK;
}

/* Keep the first corruption a lookup meets (threads may race: one wins). */
static void mmdb_bad(const source *cs, const char *what, int m)
{
    source *s = (source *)cs;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&s->bad, &expect, 1))
        return;
    snprintf(s->why, sizeof s->why, "%s: %s", what, MMDB_strerror(m));
    atomic_store(&s->bad, 2);
}

int lia__ipdb_error(const lia_ipdb *db, lia_error *err)
{
    for (size_t i = 0; i < db->n; i++)
        if (atomic_load(&((source *)&db->src[i])->bad) == 2)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "MaxMind DB %s: %s (corrupt database)",
                                 db->src[i].path, db->src[i].why);
    return LIA_OK;
}

/* A value's lookup: MMDB_SUCCESS (with or without data) or a corruption. */
static int get_path(const source *s, MMDB_entry_s *e, MMDB_entry_data_s *d, const char *const *path)
{
    int m = MMDB_aget_value(e, d, path);
    if (m == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
        d->has_data = false;
        return MMDB_SUCCESS;
    }
    if (m != MMDB_SUCCESS) {
        d->has_data = false;
        mmdb_bad(s, "reading a record", m);
    }
    return m;
}

static void prefix_range(const lia_ip *ip, int bits, lia_ipanswer *a)
{
    int total = ip->family == 4 ? 32 : 128;
    a->first = *ip;
    a->last = *ip;
    for (int i = 0; i < total; i++) {
        if (i < bits)
            continue;
        a->first.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
        a->last.addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
    }
}

static int mmdb_lookup(const source *s, const lia_ip *ip, lia_ipanswer *a)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    const struct sockaddr *sa;
    int merr = 0, bits;
    MMDB_lookup_result_s r;
    MMDB_entry_data_s d;
    if (ip->family == 4) {
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        memcpy(&s4.sin_addr, ip->addr, 4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        memcpy(&s6.sin6_addr, ip->addr, 16);
        sa = (const struct sockaddr *)&s6;
    }
    r = MMDB_lookup_sockaddr((MMDB_s *)&s->mmdb, sa, &merr);
    if (merr != MMDB_SUCCESS)
        mmdb_bad(s, "search tree", merr);
    if (merr != MMDB_SUCCESS || !r.found_entry)
        return 0;
    /* country: GeoIP2/GeoLite2 layouts, then ip-location-db's */
    static const char *const cc_paths[][3] = {{"country", "iso_code", NULL},
                                              {"registered_country", "iso_code", NULL},
                                              {"country_code", NULL, NULL}};
    for (size_t i = 0; i < 3 && !a->cc[0]; i++) {
        const char *path[3] = {cc_paths[i][0], cc_paths[i][1], cc_paths[i][2]};
        char cc[3];
        if (get_path(s, &r.entry, &d, path) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UTF8_STRING &&
            lia_parse_cc(d.utf8_string, d.data_size, cc, NULL) == LIA_OK)
            memcpy(a->cc, cc, 3);
    }
    /* ASN and organisation: at the top (GeoLite2-ASN, GeoIP2-ISP), else under
     * traits (GeoIP2-Enterprise, Insights-style City records) */
    static const char *const asn_top[] = {"autonomous_system_number", NULL};
    static const char *const asn_traits[] = {"traits", "autonomous_system_number", NULL};
    static const char *const org_top[] = {"autonomous_system_organization", NULL};
    static const char *const org_traits[] = {"traits", "autonomous_system_organization", NULL};
    if ((get_path(s, &r.entry, &d, asn_top) == MMDB_SUCCESS && d.has_data) ||
        (get_path(s, &r.entry, &d, asn_traits) == MMDB_SUCCESS && d.has_data)) {
        uint64_t v = d.type == MMDB_DATA_TYPE_UINT32                 ? d.uint32
                     : d.type == MMDB_DATA_TYPE_UINT16               ? d.uint16
                     : d.type == MMDB_DATA_TYPE_UINT64               ? d.uint64
                     : d.type == MMDB_DATA_TYPE_INT32 && d.int32 > 0 ? (uint64_t)d.int32
                                                                     : 0;
        if (v > 0 && v < 4294967295u)
            a->asn = (uint32_t)v;
    }
    if (((get_path(s, &r.entry, &d, org_top) == MMDB_SUCCESS && d.has_data) ||
         (get_path(s, &r.entry, &d, org_traits) == MMDB_SUCCESS && d.has_data)) &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size > 0 &&
        lia__utf8_valid(d.utf8_string, d.data_size)) {
        a->as_name = d.utf8_string;
        a->as_name_len = d.data_size > LIA_MAX_AS_NAME ? LIA_MAX_AS_NAME : d.data_size;
        while (a->as_name_len && !lia__utf8_valid(a->as_name, a->as_name_len))
            a->as_name_len--;
    }
    bits = r.netmask;
    if (ip->family == 4 && s->mmdb.metadata.ip_version == 6)
        bits -= 96;
    if (bits < 0)
        bits = 0;
    prefix_range(ip, bits, a);
    return a->cc[0] || a->asn || a->as_name;
}

static int source_lookup(const source *s, const lia_ip *ip, lia_ipanswer *a)
{
    memset(a, 0, sizeof *a);
    if (s->kind == LIA_IPSRC_MMDB)
        return mmdb_lookup(s, ip, a);
    return lia__iptable_lookup(s->table, ip, a);
}

/* The same without the matched range (the hot path of enrichment). */
static int source_answer(const source *s, const lia_ip *ip, lia_ipanswer *a)
{
    if (s->kind == LIA_IPSRC_MMDB || ip->family != 4)
        return source_lookup(s, ip, a);
    a->as_name = NULL;
    uint32_t x =
        (uint32_t)ip->addr[0] << 24 | (uint32_t)ip->addr[1] << 16 | (uint32_t)ip->addr[2] << 8 | ip->addr[3];
    uint32_t v = lia__iptable_lookup4(s->table, x);
    if (!v)
        return 0;
    const lia_ipval *val = &s->table->vals[v - 1];
    a->cc[0] = val->cc[0];
    a->cc[1] = val->cc[1];
    a->cc[2] = '\0';
    a->asn = val->asn;
    a->as_name = val->nlen ? s->table->names + val->noff : NULL;
    a->as_name_len = val->nlen;
    return 1;
}

int lia__ipdb_lookup(const lia_ipdb *db, const lia_ip *ip, lia_ipinfo *out)
{
    out->cc[0] = '\0';
    out->asn = 0;
    out->as_name[0] = '\0';
    out->cc_src = out->asn_src = out->name_src = -1;
    for (size_t i = 0; i < db->n; i++) {
        lia_ipanswer a;
        if (!source_answer(&db->src[i], ip, &a))
            continue;
        if (!out->cc[0] && a.cc[0]) {
            memcpy(out->cc, a.cc, 3);
            out->cc_src = (int)i;
        }
        if (!out->asn && a.asn) {
            out->asn = a.asn;
            out->asn_src = (int)i;
        }
        /* the AS name belongs to the ASN: take it from the source that gave
         * the ASN, or from a later one that agrees on the ASN */
        if (!out->as_name[0] && a.as_name && out->asn && (a.asn == out->asn)) {
            size_t n = a.as_name_len < sizeof out->as_name - 1 ? a.as_name_len : sizeof out->as_name - 1;
            memcpy(out->as_name, a.as_name, n);
            out->as_name[n] = '\0';
            out->name_src = (int)i;
        }
        if (out->cc[0] && out->asn && out->as_name[0])
            break;
    }
    return out->cc[0] || out->asn;
}

int lia_ipdb_explain(const lia_ipdb *db, const lia_ip *ip, lia_buf *out)
{
    lia_ipinfo info;
    char ipt[LIA_IP_TEXT], a1[LIA_IP_TEXT], a2[LIA_IP_TEXT];
    lia_ip_format(ip, 0, ipt, sizeof ipt);
    lia_buf_printf(out, "%s\n", ipt);
    if (db->n == 0)
        lia_buf_puts(out, "  no IP data source is configured\n");
    for (size_t i = 0; i < db->n; i++) {
        lia_ipanswer a;
        const source *s = &db->src[i];
        lia_buf_printf(out, "  [%zu] %s %s\n", i + 1, lia_ipsrc_kind_name(s->kind), s->path);
        if (!source_lookup(s, ip, &a)) {
            if (atomic_load(&((source *)s)->bad) == 2)
                lia_buf_printf(out, "      error: %s (corrupt database)\n", s->why);
            else
                lia_buf_puts(out, "      no answer\n");
            continue;
        }
        lia_ip_format(&a.first, 0, a1, sizeof a1);
        lia_ip_format(&a.last, 0, a2, sizeof a2);
        lia_buf_printf(out, "      range %s - %s:", a1, a2);
        if (a.cc[0])
            lia_buf_printf(out, " country %s", a.cc);
        if (a.asn)
            lia_buf_printf(out, " AS%u", a.asn);
        if (a.as_name)
            lia_buf_printf(out, " \"%.*s\"", (int)a.as_name_len, a.as_name);
        lia_buf_putc(out, '\n');
    }
    lia__ipdb_lookup(db, ip, &info);
    lia_buf_puts(out, "  answer:");
    if (info.cc[0])
        lia_buf_printf(out, " country %s (from [%d])", info.cc, info.cc_src + 1);
    else
        lia_buf_puts(out, " country unknown");
    if (info.asn)
        lia_buf_printf(out, ", AS%u (from [%d])", info.asn, info.asn_src + 1);
    else
        lia_buf_puts(out, ", ASN unknown");
    if (info.as_name[0])
        lia_buf_printf(out, ", \"%s\" (from [%d])", info.as_name, info.name_src + 1);
    lia_buf_putc(out, '\n');
    return out->err;
}

/* ---- enrichment of one event ---- */

static int enrich_side(const lia_ipdb *db, lia_event *ev, lia_field fip, lia_field fasn, lia_field fname,
                       lia_field fcc)
{
    lia_ipinfo info;
    int n = 0;
    if (!lia_event_has(ev, fip))
        return 0;
    if (lia_event_has(ev, fasn) && lia_event_has(ev, fname) && lia_event_has(ev, fcc))
        return 0;
    if (!lia__ipdb_lookup(db, &ev->v[fip].ip, &info))
        return 0;
    if (info.asn && !lia_event_has(ev, fasn)) {
        lia_event_set_i(ev, fasn, info.asn);
        n++;
    }
    /* an AS name only with the ASN it belongs to */
    if (info.as_name[0] && !lia_event_has(ev, fname) && lia_event_has(ev, fasn) &&
        ev->v[fasn].i == (int64_t)info.asn &&
        lia_event_set_str(ev, fname, info.as_name, strlen(info.as_name)) == LIA_OK)
        n++;
    if (info.cc[0] && !lia_event_has(ev, fcc) && lia_event_set_str(ev, fcc, info.cc, 2) == LIA_OK)
        n++;
    return n;
}

void lia__ipdb_prefetch(const lia_ipdb *db, const lia_ip *ip, int step)
{
    if (!db || ip->family != 4)
        return;
    uint32_t h = (uint32_t)ip->addr[0] << 8 | ip->addr[1];
    for (size_t i = 0; i < db->n; i++) {
        const lia_iptable *t = db->src[i].table;
        if (!t)
            continue;
        if (step == 0)
            __builtin_prefetch(&t->idx16[h]);
        else
            __builtin_prefetch(&t->seg4[t->idx16[h]]);
    }
}

int lia__enrich_event_ip(const lia_ipdb *db, lia_event *ev)
{
    if (!db || db->n == 0)
        return 0;
    return enrich_side(db, ev, LIA_F_SOURCE_IP, LIA_F_SOURCE_ASN, LIA_F_SOURCE_AS_NAME,
                       LIA_F_SOURCE_GEOLOCATION_CC) +
           enrich_side(db, ev, LIA_F_DESTINATION_IP, LIA_F_DESTINATION_ASN, LIA_F_DESTINATION_AS_NAME,
                       LIA_F_DESTINATION_GEOLOCATION_CC);
}

/* ---- the reloadable holder ---- */

typedef struct decl {
    int kind;
    char *path;
    int64_t mtime_ns;
    int64_t size;
} decl;

struct lia_ipdata {
    pthread_mutex_t mu;
    lia_ipdb *cur;
    decl d[LIA_ENRICH_MAX_SOURCES];
    size_t n;
};

int lia__ipdata_create(lia_ipdata **out)
{
    lia_ipdata *h = calloc(1, sizeof *h);
    if (!h)
        return LIA_ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return LIA_OK;
}

void lia__ipdata_destroy(lia_ipdata *h)
{
    if (!h)
        return;
    lia_ipdb_release(h->cur);
    for (size_t i = 0; i < h->n; i++)
        free(h->d[i].path);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int lia__ipdata_add(lia_ipdata *h, int kind, const char *path, lia_error *err)
{
    if (h->n >= LIA_ENRICH_MAX_SOURCES)
        return lia_error_set(err, LIA_ELIMIT, NULL, path, strlen(path), "more than %d IP data sources",
                             LIA_ENRICH_MAX_SOURCES);
    if (kind < 0 || kind > 2)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "unknown IP data source kind %d", kind);
    if (!(h->d[h->n].path = strdup(path)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    h->d[h->n].kind = kind;
    h->d[h->n].mtime_ns = -1;
    h->n++;
    return LIA_OK;
}

int lia__ipdata_reload(lia_ipdata *h, int force, int *changed, lia_error *err)
{
    int64_t mt[LIA_ENRICH_MAX_SOURCES], sz[LIA_ENRICH_MAX_SOURCES];
    int differ = force || !h->cur;
    lia_ipdb *db = NULL, *old;
    int rc;
    if (changed)
        *changed = 0;
    for (size_t i = 0; i < h->n; i++) {
        struct stat st;
        if (stat(h->d[i].path, &st) != 0)
            return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "IP data source %s: %s", h->d[i].path,
                                 strerror(errno));
        mt[i] = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        sz[i] = (int64_t)st.st_size;
        if (mt[i] != h->d[i].mtime_ns || sz[i] != h->d[i].size)
            differ = 1;
    }
    if (!differ)
        return LIA_OK;
    if ((rc = lia_ipdb_create(&db, err)))
        return rc;
    for (size_t i = 0; i < h->n; i++) {
        if ((rc = lia_ipdb_add(db, h->d[i].kind, h->d[i].path, err))) {
            lia_ipdb_release(db);
            return rc;
        }
    }
    pthread_mutex_lock(&h->mu);
    old = h->cur;
    h->cur = db;
    for (size_t i = 0; i < h->n; i++) {
        h->d[i].mtime_ns = mt[i];
        h->d[i].size = sz[i];
    }
    pthread_mutex_unlock(&h->mu);
    lia_ipdb_release(old);
    if (changed)
        *changed = 1;
    return LIA_OK;
}

lia_ipdb *lia__ipdata_get(lia_ipdata *h)
{
    lia_ipdb *db;
    pthread_mutex_lock(&h->mu);
    db = h->cur;
    if (db)
        atomic_fetch_add(&db->refs, 1);
    pthread_mutex_unlock(&h->mu);
    return db;
}
