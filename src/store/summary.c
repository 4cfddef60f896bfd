/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The dashboard's aggregates (store.h, "the dashboard's aggregates").
 *
 * Grouping the events table answers in time proportional to the events:
 * 0.3 s per group-by over 1,000,000 events, seconds over 10,000,000
 * (docs/performance.md, "Dashboard summary"). So the events store keeps
 * rollups, written in the transaction that stores the events (one
 * set-based upsert per rollup and batch of up to LIA_BATCH events, from
 * the rows just inserted; exposure from the events in memory), built from the events already stored by the
 * migration that creates them (schema "store.rollup", applied when the
 * store is opened, after the events store's own):
 *
 *   events_by_day(day, class, n)     UTC day of `time`, classification type
 *   events_by_cc(cc, n)              source country ('--' for none)
 *   events_by_asn(asn, n)            source ASN (0 for none)
 *   events_by_report(report_id, n)   the report, hence the feed
 *   events_exposure(sector, protocol, product, n)
 *   events_by_month(month, tlp, dim, key, n)   per UTC month (YYYYMM) and TLP
 *       (-1: unmarked): dim 'k' classification type (its number), 'c'
 *       country, 'a' ASN, 'r' report; exposure 'S' sector, 'P' sector
 *       US protocol, 'Q' sector US product (US: the byte 0x1f). What the
 *       statistics reports read (src/report/, lia_store_rollup_period):
 *       a month of 10,000,000 events in a few thousand rows.
 *
 * Events are never re-classified; a prune (prune.c) takes off what it
 * removes by the rule that counted it in (lia__store_rollup_forget).
 *
 * Exposure: an event is IoT or ICS exposure when its extra.sector is "iot"
 * or "ics" (case-insensitive; a string, or an array holding it): what the
 * sector enrichment (src/enrich/sectors.c, share/sectors.json) writes from
 * the report type, the Shadowserver tag, protocol.application or the port.
 * A Shadowserver "sector" column (an industry, e.g. "Communications") lands
 * in extra.sector too and is not exposure. Its protocol is
 * extra.ics_protocol, else protocol.application; its product extra.product
 * (Shadowserver's product column), else extra.device_vendor and
 * extra.device_model joined by a space (the ICS reports' columns); "(none)"
 * when it has neither.
 *
 * Events routed to a recipient are counted by the routing module in
 * route_delivered(recipient, n) (src/route/decisions.c): once per stored
 * batch, from its decisions (a trigger per decision halved the ingest
 * rate), and taken off when notify withholds one. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/field_internal.h"
#include "liaison/incident.h"
#include "store/db.h"
#include "store/events.h"
#include "store/parts.h"

#define DAY_US 86400000000LL
/* the UTC day of `time`, floored; events without a time are kept on a day
 * no range asks for */
#define DAY_SQL                                                                                              \
    "CASE WHEN time IS NULL THEN -9000000 WHEN time < 0 THEN (time - 86399999999) / 86400000000"             \
    " ELSE time / 86400000000 END"
#define NO_DAY (-9000000)

/* The sector values an event's extra.sector holds, for the events whose
 * body names one at all (instr is a cheap pre-filter before the parse). */
#define EXPOSURE_FROM                                                                                        \
    " FROM events e, json_each(e.body, '$.\"extra.sector\"') s"                                              \
    " WHERE e.id BETWEEN ?1 AND ?2 AND instr(e.body, '\"extra.sector\"') > 0"                                \
    " AND lower(s.value) IN ('iot', 'ics')"
#define EXPOSURE_COLS                                                                                        \
    "lower(s.value),"                                                                                        \
    " coalesce(json_extract(e.body, '$.\"extra.ics_protocol\"'),"                                            \
    "  json_extract(e.body, '$.\"protocol.application\"'), '(none)'),"                                       \
    " coalesce(json_extract(e.body, '$.\"extra.product\"'),"                                                 \
    "  nullif(trim(coalesce(json_extract(e.body, '$.\"extra.device_vendor\"'), '') || ' ' ||"                \
    "   coalesce(json_extract(e.body, '$.\"extra.device_model\"'), '')), ''), '(none)')"

/* The same on PostgreSQL, whose JSON functions differ: body read as jsonb,
 * extra.sector an array or one value, ->> a member as text. */
#define EXPOSURE_PG                                                                                          \
    "INSERT INTO events_exposure(sector, protocol, product, n) SELECT lower(s.value),"                       \
    " coalesce(e.b ->> 'extra.ics_protocol', e.b ->> 'protocol.application', '(none)'),"                     \
    " coalesce(e.b ->> 'extra.product', nullif(trim(coalesce(e.b ->> 'extra.device_vendor', '') || ' ' ||"   \
    "  coalesce(e.b ->> 'extra.device_model', '')), ''), '(none)'), count(*)"                                \
    " FROM (SELECT body::jsonb AS b FROM events WHERE id BETWEEN $1 AND $2"                                  \
    "  AND strpos(body, '\"extra.sector\"') > 0) e,"                                                         \
    " jsonb_array_elements_text(CASE jsonb_typeof(e.b -> 'extra.sector') WHEN 'array' THEN e.b -> "          \
    "'extra.sector'"                                                                                         \
    "  ELSE jsonb_build_array(e.b -> 'extra.sector') END) s(value)"                                          \
    " WHERE lower(s.value) IN ('iot', 'ics')"                                                                \
    " GROUP BY 1, 2, 3 ON CONFLICT(sector, protocol, product) DO UPDATE SET n = events_exposure.n + "        \
    "excluded.n"

static const struct {
    const char *name, *sql, *pg;
} rollup_sql[] = {
    {"rollup: events by day",
     "INSERT INTO events_by_day(day, class, n) SELECT " DAY_SQL ", coalesce(class, -1), count(*) FROM events"
     " WHERE id BETWEEN ?1 AND ?2 GROUP BY 1, 2 ON CONFLICT(day, class) DO UPDATE SET n = events_by_day.n + "
     "excluded.n",
     NULL},
    {"rollup: events by country",
     "INSERT INTO events_by_cc(cc, n) SELECT coalesce(src_cc, '--'), count(*) FROM events"
     " WHERE id BETWEEN ?1 AND ?2 GROUP BY 1 ON CONFLICT(cc) DO UPDATE SET n = events_by_cc.n + excluded.n",
     NULL},
    {"rollup: events by ASN",
     "INSERT INTO events_by_asn(asn, n) SELECT coalesce(src_asn, 0), count(*) FROM events"
     " WHERE id BETWEEN ?1 AND ?2 GROUP BY 1 ON CONFLICT(asn) DO UPDATE SET n = events_by_asn.n + excluded.n",
     NULL},
    {"rollup: events by report",
     "INSERT INTO events_by_report(report_id, n) SELECT report_id, count(*) FROM events"
     " WHERE id BETWEEN ?1 AND ?2 GROUP BY 1 ON CONFLICT(report_id) DO UPDATE SET n = events_by_report.n + "
     "excluded.n",
     NULL},
    {"rollup: exposure",
     "INSERT INTO events_exposure(sector, protocol, product, n) SELECT " EXPOSURE_COLS
     ", count(*)" EXPOSURE_FROM " GROUP BY 1, 2, 3 ON CONFLICT(sector, protocol, product) DO UPDATE SET n = "
     "events_exposure.n + excluded.n",
     EXPOSURE_PG},
};

/* The migration: every rollup built from the events already stored (a
 * store's ingest then keeps them, lia__rollup_acc_*). */
static int rollup_all(lia_db *db, lia_error *err)
{
    for (size_t i = 0; i < sizeof rollup_sql / sizeof *rollup_sql; i++) {
        lia_stmt *st;
        int rc;
        if ((rc = lia__db_prepare_pg(db, rollup_sql[i].name, rollup_sql[i].sql, rollup_sql[i].pg, &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, 0);
        lia__db_bind_int64(st, 2, INT64_MAX);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

/* ---- the monthly rollup (migration 2, built from the stored events) ---- */

#define MONTH_SQL                                                                                            \
    "CASE WHEN time IS NULL THEN 0 ELSE CAST(strftime('%Y%m', (CASE WHEN time < 0 THEN time - 999999"        \
    " ELSE time END) / 1000000, 'unixepoch') AS INTEGER) END"
#define MONTH_PG                                                                                             \
    "CASE WHEN time IS NULL THEN 0 ELSE CAST(to_char(to_timestamp(floor(time / 1000000.0)) AT TIME ZONE"     \
    " 'UTC', 'YYYYMM') AS INTEGER) END"
#define MONTH_UPSERT " ON CONFLICT(month, tlp, dim, key) DO UPDATE SET n = events_by_month.n + excluded.n"
#define MONTH_EXPO_PG(DIM, KEY)                                                                              \
    "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT m, t, '" DIM "', " KEY ", count(*)"         \
    " FROM (SELECT " MONTH_PG " AS m, coalesce(tlp, -1) AS t, body::jsonb AS b FROM events"                  \
    "  WHERE strpos(body, '\"extra.sector\"') > 0) e,"                                                       \
    " jsonb_array_elements_text(CASE jsonb_typeof(e.b -> 'extra.sector') WHEN 'array' THEN e.b ->"           \
    " 'extra.sector' ELSE jsonb_build_array(e.b -> 'extra.sector') END) s(value)"                            \
    " WHERE lower(s.value) IN ('iot', 'ics') GROUP BY 1, 2, 4" MONTH_UPSERT
#define PG_PROTO "coalesce(e.b ->> 'extra.ics_protocol', e.b ->> 'protocol.application', '(none)')"
#define PG_PROD                                                                                              \
    "coalesce(e.b ->> 'extra.product', nullif(trim(coalesce(e.b ->> 'extra.device_vendor', '') || ' ' ||"    \
    "  coalesce(e.b ->> 'extra.device_model', '')), ''), '(none)')"
#define MONTH_EXPO(DIM, KEY)                                                                                 \
    "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_SQL ", coalesce(tlp, -1), '" DIM    \
    "', " KEY ", count(*)"                                                                                   \
    " FROM events e, json_each(e.body, '$.\"extra.sector\"') s WHERE instr(e.body, '\"extra.sector\"') > 0"  \
    " AND lower(s.value) IN ('iot', 'ics') GROUP BY 1, 2, 4" MONTH_UPSERT
#define SQ_PROTO                                                                                             \
    "coalesce(json_extract(e.body, '$.\"extra.ics_protocol\"'), json_extract(e.body,"                        \
    " '$.\"protocol.application\"'), '(none)')"
#define SQ_PROD                                                                                              \
    "coalesce(json_extract(e.body, '$.\"extra.product\"'), nullif(trim(coalesce(json_extract(e.body,"        \
    " '$.\"extra.device_vendor\"'), '') || ' ' || coalesce(json_extract(e.body,"                             \
    " '$.\"extra.device_model\"'), '')), ''), '(none)')"

static const struct {
    const char *name, *sql, *pg;
} month_sql[] = {
    {"rollup: events by month and class",
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_SQL
     ", coalesce(tlp, -1), 'k', CAST(coalesce(class, -1) AS TEXT), count(*) FROM events GROUP BY 1, 2, "
     "4" MONTH_UPSERT,
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_PG
     ", coalesce(tlp, -1), 'k', CAST(coalesce(class, -1) AS TEXT), count(*) FROM events GROUP BY 1, 2, "
     "4" MONTH_UPSERT},
    {"rollup: events by month and country",
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_SQL
     ", coalesce(tlp, -1), 'c', coalesce(src_cc, '--'), count(*) FROM events GROUP BY 1, 2, 4" MONTH_UPSERT,
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_PG
     ", coalesce(tlp, -1), 'c', coalesce(src_cc, '--'), count(*) FROM events GROUP BY 1, 2, 4" MONTH_UPSERT},
    {"rollup: events by month and ASN",
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_SQL
     ", coalesce(tlp, -1), 'a', CAST(coalesce(src_asn, 0) AS TEXT), count(*) FROM events GROUP BY 1, 2, "
     "4" MONTH_UPSERT,
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_PG
     ", coalesce(tlp, -1), 'a', CAST(coalesce(src_asn, 0) AS TEXT), count(*) FROM events GROUP BY 1, 2, "
     "4" MONTH_UPSERT},
    {"rollup: events by month and report",
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_SQL
     ", coalesce(tlp, -1), 'r', CAST(report_id AS TEXT), count(*) FROM events GROUP BY 1, 2, 4" MONTH_UPSERT,
     "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT " MONTH_PG
     ", coalesce(tlp, -1), 'r', CAST(report_id AS TEXT), count(*) FROM events GROUP BY 1, 2, 4" MONTH_UPSERT},
    {"rollup: exposure by month and sector", MONTH_EXPO("S", "lower(s.value)"),
     MONTH_EXPO_PG("S", "lower(s.value)")},
    {"rollup: exposure by month and protocol", MONTH_EXPO("P", "lower(s.value) || char(31) || " SQ_PROTO),
     MONTH_EXPO_PG("P", "lower(s.value) || chr(31) || " PG_PROTO)},
    {"rollup: exposure by month and product", MONTH_EXPO("Q", "lower(s.value) || char(31) || " SQ_PROD),
     MONTH_EXPO_PG("Q", "lower(s.value) || chr(31) || " PG_PROD)},
};

static int rollup_months(lia_db *db, lia_error *err)
{
    for (size_t i = 0; i < sizeof month_sql / sizeof *month_sql; i++) {
        int rc = lia__db_exec_pg(db, month_sql[i].sql, month_sql[i].pg, err);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

static const lia_migration rollup_migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS events_by_day(day INTEGER NOT NULL, class INTEGER NOT NULL,"
            "  n INTEGER NOT NULL, PRIMARY KEY(day, class)) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS events_by_cc(cc TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS events_by_asn(asn INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS events_by_report(report_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS events_exposure(sector TEXT NOT NULL, protocol TEXT NOT NULL,"
            "  product TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(sector, protocol, product)) WITHOUT "
            "ROWID;",
     .run = rollup_all},
    {.sql = "CREATE TABLE IF NOT EXISTS events_by_month(month INTEGER NOT NULL, tlp INTEGER NOT NULL,"
            "  dim TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(month, tlp, dim, key))"
            "  WITHOUT ROWID;",
     .run = rollup_months,
     .pg = "CREATE TABLE IF NOT EXISTS events_by_month(month INTEGER NOT NULL, tlp INTEGER NOT NULL,"
           "  dim TEXT NOT NULL, key TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY(month, tlp, dim, key));"},
};

static const lia_schema rollup_schema = {"store.rollup", 2, rollup_migrations, NULL, .pg = 1};

int lia__store_rollup_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &rollup_schema, err);
}

/* ---- exposure of a batch, from the events in memory ----
 *
 * The same rule as EXPOSURE_COLS, without parsing each stored body six
 * times (10 s per 1,000,000 events in SQL): the extras' JSON values read
 * as json_extract reads them (a string decoded, JSON null as none, another
 * value as its text). */

#define EXPO_TEXT 256

/* The extra `key`'s value as text into out: 1, or 0 if absent or null. */
static int extra_text(const lia_event *ev, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        const char *v = ev->text.ptr + x->voff;
        if (x->klen != kl || memcmp(ev->text.ptr + x->koff, key, kl) != 0)
            continue;
        if (x->vlen == 4 && memcmp(v, "null", 4) == 0)
            return 0;
        if (x->vlen >= 2 && v[0] == '"' && !memchr(v, '\\', x->vlen)) {
            snprintf(out, n, "%.*s", (int)(x->vlen - 2), v + 1);
            return 1;
        }
        if (v[0] == '"') {
            json_t *j = json_loadb(v, x->vlen, JSON_DECODE_ANY, NULL);
            snprintf(out, n, "%s", json_is_string(j) ? json_string_value(j) : "");
            json_decref(j);
            return 1;
        }
        snprintf(out, n, "%.*s", (int)x->vlen, v);
        return 1;
    }
    return 0;
}

/* 1 for the three bytes "iot", 2 for "ics" (any case), else 0. */
static unsigned sector_bit(const char *t)
{
    if ((t[0] | 0x20) != 'i')
        return 0;
    if ((t[1] | 0x20) == 'o' && (t[2] | 0x20) == 't')
        return 1;
    return (t[1] | 0x20) == 'c' && (t[2] | 0x20) == 's' ? 2 : 0;
}

/* extra.sector's "iot" / "ics" values (a string or an array's strings):
 * bit 0 iot, bit 1 ics. */
static unsigned sectors_of(const lia_event *ev)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        unsigned m = 0;
        json_t *j;
        const char *v = ev->text.ptr + x->voff;
        if (x->klen != 6 || memcmp(ev->text.ptr + x->koff, "sector", 6) != 0)
            continue;
        if (x->vlen == 5 && v[0] == '"' && v[4] == '"') /* the common case, without a parse */
            return sector_bit(v + 1);
        if (x->vlen == 0 || (v[0] != '[' && (v[0] != '"' || !memchr(v, '\\', x->vlen))))
            return 0; /* another string, a number, ...: neither */
        if (!(j = json_loadb(v, x->vlen, JSON_DECODE_ANY, NULL)))
            return 0;
        for (size_t k = 0; k < (json_is_array(j) ? json_array_size(j) : 1); k++) {
            json_t *e = json_is_array(j) ? json_array_get(j, k) : j;
            const char *t = json_string_value(e);
            if (t && strlen(t) == 3)
                m |= sector_bit(t);
        }
        json_decref(j);
        return m;
    }
    return 0;
}

static void trim_spaces(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    while (s[i] == ' ')
        i++;
    memmove(s, s + i, n - i + 1);
}

/* Many events in one transaction (a bulk load): what is gathered goes to
 * the tables on the way, so memory stays bounded. */
#define ACC_KEY_BYTES ((size_t)32 << 20)

void lia__rollup_acc_init(lia__rollup_acc *a)
{
    memset(a, 0, sizeof *a);
    a->sign = 1;
    lia_buf_init(&a->keys, 2 * ACC_KEY_BYTES);
}

void lia__rollup_acc_reset(lia__rollup_acc *a)
{
    if (a->slot)
        memset(a->slot, 0, a->cap * sizeof *a->slot);
    a->n = 0;
    lia_buf_reset(&a->keys);
}

void lia__rollup_acc_free(lia__rollup_acc *a)
{
    free(a->slot);
    lia_buf_free(&a->keys);
    memset(a, 0, sizeof *a);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ? h : 1; /* 0 marks an empty slot (h | 1 would leave the even home slots unused) */
}

/* Count one under key (its first byte names the rollup). */
static int acc_count(lia__rollup_acc *a, const void *key, size_t len, lia_error *err)
{
    uint64_t h = fnv1a(key, len);
    size_t i;
    if (2 * (a->n + 1) > a->cap) { /* at most half full */
        size_t nc = a->cap ? a->cap * 2 : 4096;
        lia__rollup_slot *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        for (size_t k = 0; k < a->cap; k++)
            if (a->slot[k].hash) {
                size_t j = a->slot[k].hash & (nc - 1);
                while (ns[j].hash)
                    j = (j + 1) & (nc - 1);
                ns[j] = a->slot[k];
            }
        free(a->slot);
        a->slot = ns;
        a->cap = nc;
    }
    for (i = h & (a->cap - 1); a->slot[i].hash; i = (i + 1) & (a->cap - 1))
        if (a->slot[i].hash == h && a->slot[i].len == len &&
            !memcmp(a->keys.ptr + a->slot[i].off, key, len)) {
            a->slot[i].n++;
            return LIA_OK;
        }
    a->slot[i].hash = h;
    a->slot[i].off = (uint32_t)a->keys.len;
    a->slot[i].len = (uint32_t)len;
    a->slot[i].n = 1;
    a->n++;
    if (lia_buf_append(&a->keys, key, len))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

static int64_t i64_at(const char *p)
{
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static const struct {
    char tag;
    const char *name, *sql;
} acc_sql[] = {
    {'d', "rollup of a transaction: events by day",
     "INSERT INTO events_by_day(day, class, n) VALUES(?1, ?2, ?3)"
     " ON CONFLICT(day, class) DO UPDATE SET n = events_by_day.n + excluded.n"},
    {'c', "rollup of a transaction: events by country",
     "INSERT INTO events_by_cc(cc, n) VALUES(?1, ?3) ON CONFLICT(cc) DO UPDATE SET n = events_by_cc.n + "
     "excluded.n"},
    {'a', "rollup of a transaction: events by ASN",
     "INSERT INTO events_by_asn(asn, n) VALUES(?1, ?3) ON CONFLICT(asn) DO UPDATE SET n = events_by_asn.n + "
     "excluded.n"},
    {'r', "rollup of a transaction: events by report",
     "INSERT INTO events_by_report(report_id, n) VALUES(?1, ?3)"
     " ON CONFLICT(report_id) DO UPDATE SET n = events_by_report.n + excluded.n"},
    {'m', "rollup of a transaction: events by month",
     "INSERT INTO events_by_month(month, tlp, dim, key, n) VALUES(?1, ?2, ?4, ?5, ?3)"
     " ON CONFLICT(month, tlp, dim, key) DO UPDATE SET n = events_by_month.n + excluded.n"},
    {'e', "rollup of a transaction: exposure",
     "INSERT INTO events_exposure(sector, protocol, product, n) VALUES(?1, ?2, ?4, ?3)"
     " ON CONFLICT(sector, protocol, product) DO UPDATE SET n = events_exposure.n + excluded.n"},
};

typedef struct acc_ref {
    const char *k;
    const lia__rollup_slot *x;
} acc_ref;

static int acc_ref_cmp(const void *pa, const void *pb)
{
    const acc_ref *a = pa, *b = pb;
    size_t n = a->x->len < b->x->len ? a->x->len : b->x->len;
    int c = memcmp(a->k, b->k, n);
    return c ? c : (a->x->len > b->x->len) - (a->x->len < b->x->len);
}

/* The keys go in one order, the same in every process: by table (acc_sql's
 * order), then by key bytes. Two ingests at once on PostgreSQL upsert the
 * rows they share in the same order, so one waits for the other's commit
 * and neither deadlocks (in hash order they could). */
/* PostgreSQL: each rollup table in one statement, its keys and counts as
 * arrays (unnest), in key order (ORDER BY): one round trip per table, not
 * per key, so a transaction's flush is short and another ingest waiting
 * on a shared key waits that long only. The columns of acc_sql's tables in
 * order, 'i' bigint or 't' text. */
static const struct {
    const char *types, *sql;
} acc_pg[] = {
    {"iii",
     "INSERT INTO events_by_day(day, class, n) SELECT * FROM unnest($1::bigint[], $2::bigint[],"
     " $3::bigint[]) ORDER BY 1, 2 ON CONFLICT(day, class) DO UPDATE SET n = events_by_day.n + excluded.n"},
    {"ti", "INSERT INTO events_by_cc(cc, n) SELECT * FROM unnest($1::text[], $2::bigint[]) ORDER BY 1"
           " ON CONFLICT(cc) DO UPDATE SET n = events_by_cc.n + excluded.n"},
    {"ii", "INSERT INTO events_by_asn(asn, n) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ORDER BY 1"
           " ON CONFLICT(asn) DO UPDATE SET n = events_by_asn.n + excluded.n"},
    {"ii",
     "INSERT INTO events_by_report(report_id, n) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ORDER BY 1"
     " ON CONFLICT(report_id) DO UPDATE SET n = events_by_report.n + excluded.n"},
    {"iitti", "INSERT INTO events_by_month(month, tlp, dim, key, n) SELECT * FROM unnest($1::bigint[],"
              " $2::bigint[], $3::text[], $4::text[], $5::bigint[]) ORDER BY 1, 2, 3, 4"
              " ON CONFLICT(month, tlp, dim, key) DO UPDATE SET n = events_by_month.n + excluded.n"},
    {"ttti", "INSERT INTO events_exposure(sector, protocol, product, n) SELECT * FROM unnest($1::text[],"
             " $2::text[], $3::text[], $4::bigint[]) ORDER BY 1, 2, 3"
             " ON CONFLICT(sector, protocol, product) DO UPDATE SET n = events_exposure.n + excluded.n"},
};

/* One array element: an integer, or text quoted for an array literal. */
static int arr_int(lia_buf *b, int64_t v)
{
    return lia_buf_printf(b, "%s%lld", b->len ? "," : "{", (long long)v);
}

static int arr_text(lia_buf *b, const char *p, size_t n)
{
    if (lia_buf_append(b, b->len ? ",\"" : "{\"", 2))
        return LIA_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (((p[i] == '"' || p[i] == '\\') && lia_buf_append(b, "\\", 1)) || lia_buf_append(b, p + i, 1))
            return LIA_ENOMEM;
    return lia_buf_append(b, "\"", 1) ? LIA_ENOMEM : LIA_OK;
}

static int acc_flush_pg(lia_db *db, lia__rollup_acc *a, const acc_ref *ref, size_t nref, lia_error *err)
{
    lia_buf arr[5];
    int rc = LIA_OK;
    for (int c = 0; c < 5; c++)
        lia_buf_init(&arr[c], (size_t)1 << 30);
    for (size_t t = 0; t < sizeof acc_sql / sizeof *acc_sql && rc == LIA_OK; t++) {
        const char *ty = acc_pg[t].types;
        int ncol = (int)strlen(ty), rows = 0;
        lia_stmt *st = NULL;
        for (int c = 0; c < 5; c++)
            lia_buf_reset(&arr[c]);
        for (size_t i = 0; i < nref && rc == LIA_OK; i++) {
            const lia__rollup_slot *x = ref[i].x;
            const char *k = ref[i].k;
            int e = 0;
            if (k[0] != acc_sql[t].tag)
                continue;
            rows++;
            switch (k[0]) {
            case 'd': e = arr_int(&arr[0], i64_at(k + 1)) || arr_int(&arr[1], i64_at(k + 9)); break;
            case 'c': e = arr_text(&arr[0], k + 1, x->len - 1); break;
            case 'a':
            case 'r': e = arr_int(&arr[0], i64_at(k + 1)); break;
            case 'm':
                e = arr_int(&arr[0], i64_at(k + 1)) || arr_int(&arr[1], i64_at(k + 9)) ||
                    arr_text(&arr[2], k + 17, 1) || arr_text(&arr[3], k + 18, x->len - 18);
                break;
            default: {
                const char *proto = k + 1 + strlen(k + 1) + 1, *prod = proto + strlen(proto) + 1;
                e = arr_text(&arr[0], k + 1, strlen(k + 1)) || arr_text(&arr[1], proto, strlen(proto)) ||
                    arr_text(&arr[2], prod, (size_t)(k + x->len - prod));
                break;
            }
            }
            if (e || arr_int(&arr[ncol - 1], x->n * a->sign))
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        }
        if (rc || rows == 0)
            continue;
        for (int c = 0; c < ncol && rc == LIA_OK; c++)
            if (lia_buf_append(&arr[c], "}", 2))
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        if (rc || (rc = lia__db_prepare_pg(db, acc_sql[t].name, acc_sql[t].sql, acc_pg[t].sql, &st, err)))
            break;
        for (int c = 0; c < ncol; c++)
            lia__db_bind_text(st, c + 1, arr[c].ptr, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    for (int c = 0; c < 5; c++)
        lia_buf_free(&arr[c]);
    return rc;
}

int lia__rollup_acc_flush(lia_db *db, lia__rollup_acc *a, lia_error *err)
{
    int rc = LIA_OK;
    acc_ref *ref = NULL;
    size_t nref = 0;
    if (a->n && !(ref = malloc(a->n * sizeof *ref))) {
        lia__rollup_acc_reset(a);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < a->cap && nref < a->n; i++)
        if (a->slot[i].hash)
            ref[nref++] = (acc_ref){a->keys.ptr + a->slot[i].off, &a->slot[i]};
    if (nref)
        qsort(ref, nref, sizeof *ref, acc_ref_cmp);
    if (lia__db_is_pg(db)) {
        rc = nref ? acc_flush_pg(db, a, ref, nref, err) : LIA_OK;
        a->n = 0; /* the loop below is SQLite's */
    }
    for (size_t t = 0; t < sizeof acc_sql / sizeof *acc_sql && rc == LIA_OK && a->n; t++) {
        lia_stmt *st = NULL;
        if ((rc = lia__db_prepare(db, acc_sql[t].name, acc_sql[t].sql, &st, err)))
            break;
        for (size_t i = 0; i < nref && rc == LIA_OK; i++) {
            const lia__rollup_slot *x = ref[i].x;
            const char *k = ref[i].k;
            if (k[0] != acc_sql[t].tag)
                continue;
            lia__db_reset(st);
            switch (k[0]) {
            case 'd': /* day, class */
                lia__db_bind_int64(st, 1, i64_at(k + 1));
                lia__db_bind_int64(st, 2, i64_at(k + 9));
                break;
            case 'c': lia__db_bind_text(st, 1, k + 1, (ptrdiff_t)x->len - 1); break;
            case 'a':
            case 'r': lia__db_bind_int64(st, 1, i64_at(k + 1)); break;
            case 'm': /* month, tlp, dim byte, key (the rest) */
                lia__db_bind_int64(st, 1, i64_at(k + 1));
                lia__db_bind_int64(st, 2, i64_at(k + 9));
                lia__db_bind_text(st, 4, k + 17, 1);
                lia__db_bind_text(st, 5, k + 18, (ptrdiff_t)x->len - 18);
                break;
            default: { /* e sector \0 protocol \0 product (the rest) */
                const char *proto = k + 1 + strlen(k + 1) + 1, *prod = proto + strlen(proto) + 1;
                lia__db_bind_text(st, 1, k + 1, -1);
                lia__db_bind_text(st, 2, proto, -1);
                lia__db_bind_text(st, 4, prod, (ptrdiff_t)(k + x->len - prod));
                break;
            }
            }
            lia__db_bind_int64(st, 3, x->n * a->sign);
            rc = lia__db_run(st, err);
        }
        lia__db_done(st);
    }
    free(ref);
    lia__rollup_acc_reset(a);
    return rc;
}

static int acc_i64(lia__rollup_acc *a, char tag, int64_t v, lia_error *err)
{
    char k[9];
    k[0] = tag;
    memcpy(k + 1, &v, sizeof v);
    return acc_count(a, k, sizeof k, err);
}

/* YYYYMM of the UTC day `day` (days since 1970-01-01; H. Hinnant's
 * civil_from_days). */
static int64_t month_of_day(int64_t day)
{
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    return y * 100 + m;
}

/* One count of the monthly rollup: month, tlp, dim, key[0..len). */
static int acc_month(lia__rollup_acc *a, int64_t month, int64_t tlp, char dim, const char *key, size_t len,
                     lia_error *err)
{
    char k[18 + 3 * EXPO_TEXT];
    if (len > sizeof k - 18)
        len = sizeof k - 18;
    k[0] = 'm';
    memcpy(k + 1, &month, 8);
    memcpy(k + 9, &tlp, 8);
    k[17] = dim;
    memcpy(k + 18, key, len);
    return acc_count(a, k, 18 + len, err);
}

int lia__rollup_acc_add(lia_db *db, lia__rollup_acc *a, int64_t report_id, const lia_event *ev, size_t n,
                        lia_error *err)
{
    int rc = LIA_OK;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        const lia_event *e = &ev[i];
        unsigned sec = e->nextra ? sectors_of(e) : 0;
        char k[1 + 3 * EXPO_TEXT], mk[32];
        int64_t t, day, cls, month, tlp;
        int len;
        /* as the columns are stored (put_events) and DAY_SQL floors them */
        if (lia_event_has(e, LIA_F_TIME_SOURCE))
            t = e->v[LIA_F_TIME_SOURCE].i, day = t < 0 ? (t - (DAY_US - 1)) / DAY_US : t / DAY_US;
        else if (lia_event_has(e, LIA_F_TIME_OBSERVATION))
            t = e->v[LIA_F_TIME_OBSERVATION].i, day = t < 0 ? (t - (DAY_US - 1)) / DAY_US : t / DAY_US;
        else
            day = NO_DAY;
        cls = lia_event_has(e, LIA_F_CLASSIFICATION_TYPE) ? e->v[LIA_F_CLASSIFICATION_TYPE].i : -1;
        k[0] = 'd';
        memcpy(k + 1, &day, 8);
        memcpy(k + 9, &cls, 8);
        if ((rc = acc_count(a, k, 17, err)))
            break;
        month = day == NO_DAY ? 0 : month_of_day(day);
        tlp = lia_event_has(e, LIA_F_TLP) ? e->v[LIA_F_TLP].i : -1;
        len = snprintf(mk, sizeof mk, "%lld", (long long)cls);
        if ((rc = acc_month(a, month, tlp, 'k', mk, (size_t)len, err)))
            break;
        if (lia_event_has(e, LIA_F_SOURCE_GEOLOCATION_CC)) {
            lia_slice cc = lia_event_str(e, LIA_F_SOURCE_GEOLOCATION_CC);
            rc = acc_month(a, month, tlp, 'c', cc.ptr, cc.len, err);
        } else {
            rc = acc_month(a, month, tlp, 'c', "--", 2, err);
        }
        if (rc)
            break;
        len = snprintf(mk, sizeof mk, "%lld",
                       (long long)(lia_event_has(e, LIA_F_SOURCE_ASN) ? e->v[LIA_F_SOURCE_ASN].i : 0));
        if ((rc = acc_month(a, month, tlp, 'a', mk, (size_t)len, err)))
            break;
        len = snprintf(mk, sizeof mk, "%lld", (long long)report_id);
        if ((rc = acc_month(a, month, tlp, 'r', mk, (size_t)len, err)))
            break;
        if (lia_event_has(e, LIA_F_SOURCE_GEOLOCATION_CC)) {
            lia_slice cc = lia_event_str(e, LIA_F_SOURCE_GEOLOCATION_CC);
            size_t l = cc.len < EXPO_TEXT ? cc.len : EXPO_TEXT;
            k[0] = 'c';
            memcpy(k + 1, cc.ptr, l);
            rc = acc_count(a, k, 1 + l, err);
        } else {
            rc = acc_count(a, "c--", 3, err);
        }
        if (rc ||
            (rc = acc_i64(a, 'a', lia_event_has(e, LIA_F_SOURCE_ASN) ? e->v[LIA_F_SOURCE_ASN].i : 0, err)) ||
            (rc = acc_i64(a, 'r', report_id, err)))
            break;
        for (unsigned b = 0; b < 2 && rc == LIA_OK; b++) {
            char protocol[EXPO_TEXT], product[EXPO_TEXT];
            char vendor[EXPO_TEXT / 2], model[EXPO_TEXT / 2 - 1]; /* "vendor model" fits */
            const char *sn = b ? "ics" : "iot";
            if (!(sec >> b & 1))
                continue;
            if (!extra_text(e, "ics_protocol", protocol, sizeof protocol)) {
                lia_slice s = lia_event_has(e, LIA_F_PROTOCOL_APPLICATION)
                                  ? lia_event_str(e, LIA_F_PROTOCOL_APPLICATION)
                                  : (lia_slice){NULL, 0};
                snprintf(protocol, sizeof protocol, "%.*s", s.ptr ? (int)s.len : 6, s.ptr ? s.ptr : "(none)");
            }
            if (!extra_text(e, "product", product, sizeof product)) {
                if (!extra_text(e, "device_vendor", vendor, sizeof vendor))
                    vendor[0] = '\0';
                if (!extra_text(e, "device_model", model, sizeof model))
                    model[0] = '\0';
                snprintf(product, sizeof product, "%s %s", vendor, model);
                trim_spaces(product);
                if (!product[0])
                    snprintf(product, sizeof product, "(none)");
            }
            len = snprintf(k, sizeof k, "e%s%c%s%c%s", sn, 0, protocol, 0, product);
            if ((rc = acc_count(a, k, (size_t)len, err)) || (rc = acc_month(a, month, tlp, 'S', sn, 3, err)))
                break;
            len = snprintf(k, sizeof k, "%s\x1f%s", sn, protocol);
            if ((rc = acc_month(a, month, tlp, 'P', k, (size_t)len, err)))
                break;
            len = snprintf(k, sizeof k, "%s\x1f%s", sn, product);
            rc = acc_month(a, month, tlp, 'Q', k, (size_t)len, err);
        }
    }
    if (rc == LIA_OK && a->keys.len >= ACC_KEY_BYTES)
        rc = lia__rollup_acc_flush(db, a, err);
    if (rc)
        lia__rollup_acc_reset(a);
    return rc;
}

/* ---- a prune ---- */

int lia__store_rollup_forget(lia_db *db, lia_error *err)
{
    static const char *const zero_sql[] = {
        "DELETE FROM events_by_day WHERE n <= 0",   "DELETE FROM events_by_cc WHERE n <= 0",
        "DELETE FROM events_by_asn WHERE n <= 0",   "DELETE FROM events_by_report WHERE n <= 0",
        "DELETE FROM events_exposure WHERE n <= 0", "DELETE FROM events_by_month WHERE n <= 0",
    };
    lia__rollup_acc a;
    lia_event ev;
    lia__part *v = NULL;
    size_t nv = 1;
    int rc = LIA_OK;
    lia__rollup_acc_init(&a);
    a.sign = -1;
    lia_event_init(&ev);
    /* partitioned (SQLite), each partition with the part of the set in
     * its id range: through the view, every partition would look up every
     * id of the set */
    if (lia__parts_on(db) && (rc = lia__parts_list(db, 0, 0, 0, &v, &nv, err)))
        goto out;
    for (size_t i = 0; i < nv; i++) {
        char sql[256];
        lia_stmt *st = NULL;
        int step;
        if (v)
            snprintf(
                sql, sizeof sql,
                "SELECT report_id, body FROM events_%lld WHERE id IN (SELECT id FROM temp.lia_forget_event"
                " WHERE id BETWEEN %lld AND %lld)",
                (long long)v[i].n, (long long)v[i].lo, (long long)v[i].hi);
        if ((rc = v ? lia__db_prepare_once(db, "prune: the rollups of the events going", sql, &st, err)
                    : lia__db_prepare(db, "prune: the rollups of the events going",
                                      "SELECT report_id, body FROM events WHERE id IN"
                                      " (SELECT id FROM temp.lia_forget_event)",
                                      &st, err)))
            goto out;
        while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
            const char *body = lia__db_col_text(st, 1);
            if ((rc = lia_event_from_json(&ev, body ? body : "{}", lia__db_col_bytes(st, 1), err)) ||
                (rc = lia__rollup_acc_add(db, &a, lia__db_col_int64(st, 0), &ev, 1, err)))
                break;
        }
        if (rc == LIA_OK && step < 0)
            rc = step;
        lia__db_done(st);
        if (rc)
            goto out;
    }
    if (rc == LIA_OK)
        rc = lia__rollup_acc_flush(db, &a, err);
    for (size_t i = 0; rc == LIA_OK && i < sizeof zero_sql / sizeof *zero_sql; i++)
        rc = lia__db_exec(db, zero_sql[i], err);
out:
    free(v);
    lia_event_free(&ev);
    lia__rollup_acc_free(&a);
    return rc;
}

/* ---- reads ---- */

/* What column 0 of a grouping row holds: a text key, or the number of a
 * classification type (an integer column, or its text in events_by_month),
 * passed to the callback by its name. */
enum { KEY_TEXT, KEY_CLASS, KEY_CLASS_TEXT };

/* Step a prepared statement whose rows are (key, count), passing each to cb
 * (a text key less its first skip bytes), then finish it. */
static int emit(lia_stmt *st, int kind, size_t skip, lia_group_cb cb, void *ud, lia_error *err)
{
    int rc = LIA_OK, step;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *key = lia__db_col_text(st, 0);
        int64_t c = -1;
        if (kind == KEY_CLASS)
            c = lia__db_col_int64(st, 0);
        else if (kind == KEY_CLASS_TEXT && key)
            c = strtoll(key, NULL, 10);
        if (kind != KEY_TEXT)
            key = c < 0 ? "(none)" : lia__class_type_name((int)c);
        else if (key)
            key = strlen(key) >= skip ? key + skip : "";
        if ((rc = cb(ud, key ? key : "", (uint64_t)lia__db_col_int64(st, 1))))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

/* Run sql (binding i64[0..ni) as ?1..) and emit its rows. */
static int rows(lia_store *s, const char *name, const char *sql, const int64_t *i64, int ni, int class_key,
                lia_group_cb cb, void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), name, sql, &st, err)))
        return rc;
    for (int i = 0; i < ni; i++)
        lia__db_bind_int64(st, i + 1, i64[i]);
    return emit(st, class_key ? KEY_CLASS : KEY_TEXT, 0, cb, ud, err);
}

int lia_store_rollup(lia_store *s, const char *by, uint64_t limit, lia_group_cb cb, void *ud, lia_error *err)
{
    int64_t lim = limit ? (int64_t)limit : -1;
    if (strcmp(by, "cc") == 0)
        return rows(s, "summary: events by country",
                    "SELECT cc, n FROM events_by_cc ORDER BY n DESC, cc LIMIT ?1", &lim, 1, 0, cb, ud, err);
    if (strcmp(by, "asn") == 0)
        return rows(s, "summary: events by ASN",
                    "SELECT asn, n FROM events_by_asn ORDER BY n DESC, asn LIMIT ?1", &lim, 1, 0, cb, ud,
                    err);
    if (strcmp(by, "class") == 0 || strcmp(by, "type") == 0)
        return rows(
            s, "summary: events by classification",
            "SELECT class AS k, sum(n) AS c FROM events_by_day GROUP BY k ORDER BY c DESC, k LIMIT ?1", &lim,
            1, 1, cb, ud, err);
    if (strcmp(by, "feed") == 0)
        return rows(
            s, "summary: events by feed",
            "SELECT r.feed AS k, sum(x.n) AS c FROM events_by_report x JOIN reports r ON r.id = x.report_id"
            " GROUP BY k ORDER BY c DESC, k LIMIT ?1",
            &lim, 1, 0, cb, ud, err);
    return lia_error_set(err, LIA_EINVAL, "by", by, strlen(by), "roll up by cc, asn, class or feed");
}

int lia_store_rollup_total(lia_store *s, uint64_t *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "summary: total events",
                              "SELECT coalesce(sum(n), 0) FROM events_by_day", &st, err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        *out = (uint64_t)lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "summary: total events: no result");
    }
    lia__db_done(st);
    return rc;
}

int lia_store_rollup_days(lia_store *s, int64_t since_us, int64_t until_us, lia_day_cb cb, void *ud,
                          lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    /* whole UTC days: [first day starting at or after since, day of until) */
    int64_t lo = since_us >= 0 ? (since_us + DAY_US - 1) / DAY_US : -((-since_us) / DAY_US);
    int64_t hi = until_us >= 0 ? until_us / DAY_US : -((-until_us + DAY_US - 1) / DAY_US);
    if ((rc = lia__db_prepare(
             lia__store_db(s), "summary: events per day",
             "SELECT day, class, n FROM events_by_day WHERE day >= ?1 AND day < ?2 AND day <> ?3"
             " ORDER BY day, n DESC, class",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, lo);
    lia__db_bind_int64(st, 2, hi);
    lia__db_bind_int64(st, 3, NO_DAY);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        int64_t c = lia__db_col_int64(st, 1);
        if ((rc = cb(ud, lia__db_col_int64(st, 0) * DAY_US, c < 0 ? "(none)" : lia__class_type_name((int)c),
                     (uint64_t)lia__db_col_int64(st, 2))))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

int lia_store_exposure(lia_store *s, const char *sector, const char *by, uint64_t limit, lia_group_cb cb,
                       void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc;
    const char *name, *sql;
    if (!by) {
        name = "summary: exposure total";
        sql = "SELECT sector, sum(n) FROM events_exposure WHERE sector = ?1 GROUP BY sector LIMIT ?2";
    } else if (strcmp(by, "protocol") == 0) {
        name = "summary: exposure by protocol";
        sql = "SELECT protocol AS k, sum(n) AS c FROM events_exposure WHERE sector = ?1 GROUP BY k"
              " ORDER BY c DESC, k LIMIT ?2";
    } else if (strcmp(by, "product") == 0) {
        name = "summary: exposure by product";
        sql = "SELECT product AS k, sum(n) AS c FROM events_exposure WHERE sector = ?1 GROUP BY k"
              " ORDER BY c DESC, k LIMIT ?2";
    } else {
        return lia_error_set(err, LIA_EINVAL, "by", by, strlen(by), "exposure by protocol or product");
    }
    if ((rc = lia__db_prepare(lia__store_db(s), name, sql, &st, err)))
        return rc;
    lia__db_bind_text(st, 1, sector, -1);
    lia__db_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    return emit(st, KEY_TEXT, 0, cb, ud, err);
}

int lia_store_feed_events_since(lia_store *s, const char *feed, int64_t since_us, uint64_t *out,
                                lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "summary: a feed's recent events",
                              "SELECT coalesce(sum(events), 0) FROM reports WHERE feed = ?1"
                              " AND coalesce(finished, started) >= ?2",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, feed, -1);
    lia__db_bind_int64(st, 2, since_us);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        *out = (uint64_t)lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "summary: a feed's recent events: no result");
    }
    lia__db_done(st);
    return rc;
}

int lia_store_top_recipients(lia_store *s, const char *kind, uint64_t limit, lia_group_cb cb, void *ud,
                             lia_error *err)
{
    lia_db *db = lia__store_db(s);
    char prefix[64];
    int64_t lim = limit ? (int64_t)limit : -1;
    lia_stmt *st;
    int rc, rolled;
    size_t pn;
    snprintf(prefix, sizeof prefix, "%s:", kind);
    pn = strlen(prefix);
    /* route_delivered: the routing module's count (schema "route" 2,
     * src/route/decisions.c); a store not migrated yet (opened read-only)
     * has only the decisions, counted here; no routing yet: none */
    rolled = lia__db_has_table(db, "route_delivered");
    if (!rolled && !lia__db_has_table(db, "route_decision"))
        return LIA_OK;
    if ((rc = rolled ? lia__db_prepare(db, "summary: top recipients",
                                       "SELECT recipient, n FROM route_delivered WHERE n > 0 AND"
                                       " substr(recipient, 1, ?2) = ?1 ORDER BY n DESC, recipient LIMIT ?3",
                                       &st, err)
                     : lia__db_prepare(
                           db, "summary: top recipients (no rollup)",
                           "SELECT recipient, count(*) AS n FROM route_decision WHERE verdict = 1 AND"
                           " substr(recipient, 1, ?2) = ?1 GROUP BY recipient"
                           " ORDER BY n DESC, recipient LIMIT ?3",
                           &st, err)))
        return rc;
    lia__db_bind_text(st, 1, prefix, (ptrdiff_t)pn);
    lia__db_bind_int64(st, 2, (int64_t)pn);
    lia__db_bind_int64(st, 3, lim);
    return emit(st, KEY_TEXT, pn, cb, ud, err);
}

int lia_store_handoff_states(lia_store *s, int partners_only, lia_group_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc, step;
    if (!lia__db_has_table(db, "handoff") || (partners_only && !lia__db_has_table(db, "party")))
        return LIA_OK;
    /* the hand-offs of drills (incident.drill, docs/drills.md) are not counted */
    if (lia__db_has_column(db, "incident", "drill"))
        rc = partners_only ? lia__db_prepare(db, "summary: cross-border hand-offs by state, no drills",
                                             "SELECT state, count(*) AS n FROM handoff WHERE recipient IN"
                                             " (SELECT id FROM party WHERE kind = 'partner') AND incident_id"
                                             " NOT IN (SELECT id FROM incident WHERE drill IS NOT NULL)"
                                             " GROUP BY state ORDER BY n DESC, state",
                                             &st, err)
                           : lia__db_prepare(db, "summary: hand-offs by state, no drills",
                                             "SELECT state, count(*) AS n FROM handoff WHERE incident_id"
                                             " NOT IN (SELECT id FROM incident WHERE drill IS NOT NULL)"
                                             " GROUP BY state ORDER BY n DESC, state",
                                             &st, err);
    else
        rc = partners_only ? lia__db_prepare(db, "summary: cross-border hand-offs by state",
                                             "SELECT state, count(*) AS n FROM handoff WHERE recipient IN"
                                             " (SELECT id FROM party WHERE kind = 'partner')"
                                             " GROUP BY state ORDER BY n DESC, state",
                                             &st, err)
                           : lia__db_prepare(db, "summary: hand-offs by state",
                                             "SELECT state, count(*) AS n FROM handoff GROUP BY state"
                                             " ORDER BY n DESC, state",
                                             &st, err);
    if (rc)
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *name = lia_handoff_state_name((lia_handoff_state)lia__db_col_int64(st, 0));
        if ((rc = cb(ud, name ? name : "?", (uint64_t)lia__db_col_int64(st, 1))))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

int lia_store_incident_statuses(lia_store *s, lia_group_cb cb, void *ud, uint64_t *open, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    uint64_t o = 0;
    int rc, step;
    if (!lia__db_has_table(db, "incident")) {
        *open = 0;
        return LIA_OK;
    }
    if ((rc = lia__db_has_column(db, "incident", "drill")
                  ? lia__db_prepare(db, "summary: incidents by status, no drills",
                                    "SELECT status, count(*) AS n FROM incident WHERE drill IS NULL"
                                    " GROUP BY status ORDER BY n DESC, status",
                                    &st, err)
                  : lia__db_prepare(
                        db, "summary: incidents by status",
                        "SELECT status, count(*) AS n FROM incident GROUP BY status ORDER BY n DESC, status",
                        &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_incident_status v = (lia_incident_status)lia__db_col_int64(st, 0);
        const char *name = lia_incident_status_name(v);
        uint64_t n = (uint64_t)lia__db_col_int64(st, 1);
        /* open as `incident list --open`: not closed, rejected, duplicate or merged */
        if (v != LIA_INC_CLOSED && v != LIA_INC_REJECTED && v != LIA_INC_DUPLICATE && v != LIA_INC_MERGED)
            o += n;
        if ((rc = cb(ud, name ? name : "?", n)))
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    if (rc == LIA_OK)
        *open = o;
    return rc;
}

/* ---- the statistics reports' aggregates: per month ---- */

static int64_t month_of_us(int64_t us)
{
    return month_of_day(us < 0 ? (us - (DAY_US - 1)) / DAY_US : us / DAY_US);
}

int lia_store_rollup_period(lia_store *s, const lia_period_query *q, lia_group_cb cb, void *ud,
                            lia_error *err)
{
    static const struct {
        const char *by, *dim;
        int sector, class_key;
    } bys[] = {
        {"class", "k", 0, 1},    {"cc", "c", 0, 0},      {"asn", "a", 0, 0},  {"sector", "S", 0, 0},
        {"protocol", "P", 1, 0}, {"product", "Q", 1, 0}, {"feed", "r", 0, 0},
    };
    const char *by = q->by ? q->by : "";
    unsigned mask = q->tlp_mask ? q->tlp_mask : 0x3f;
    char prefix[8] = "";
    lia_stmt *st;
    int rc, w = -1;
    for (size_t i = 0; i < sizeof bys / sizeof *bys; i++)
        if (strcmp(by, bys[i].by) == 0)
            w = (int)i;
    if (w < 0)
        return lia_error_set(err, LIA_EINVAL, "by", by, strlen(by),
                             "a period rolls up by class, cc, asn, feed, sector, protocol or product");
    if (q->until_us <= q->since_us)
        return lia_error_set(err, LIA_EINVAL, "period", NULL, 0, "the period ends before it starts");
    if (bys[w].sector) {
        if (!q->sector || (strcmp(q->sector, "iot") != 0 && strcmp(q->sector, "ics") != 0))
            return lia_error_set(err, LIA_EINVAL, "sector", q->sector, q->sector ? strlen(q->sector) : 0,
                                 "exposure by protocol or product is of sector iot or ics");
        snprintf(prefix, sizeof prefix, "%s\x1f", q->sector);
    }
    if (strcmp(by, "feed") == 0)
        rc = lia__db_prepare(
            lia__store_db(s), "report: events of a period by feed",
            "SELECT r.feed AS k, sum(m.n) AS c FROM events_by_month m"
            " JOIN reports r ON r.id = CAST(m.key AS BIGINT)"
            " WHERE m.month BETWEEN ?1 AND ?2 AND m.dim = ?3 AND ((?4 >> (m.tlp + 1)) & 1) = 1"
            " GROUP BY r.feed HAVING sum(m.n) > 0 ORDER BY c DESC, k LIMIT ?5",
            &st, err);
    else if (prefix[0])
        rc = lia__db_prepare(lia__store_db(s), "report: exposure of a period",
                             "SELECT substr(key, 5) AS k, sum(n) AS c FROM events_by_month"
                             " WHERE month BETWEEN ?1 AND ?2 AND dim = ?3 AND ((?4 >> (tlp + 1)) & 1) = 1"
                             " AND substr(key, 1, 4) = ?6"
                             " GROUP BY k HAVING sum(n) > 0 ORDER BY c DESC, k LIMIT ?5",
                             &st, err);
    else
        rc = lia__db_prepare(lia__store_db(s), "report: events of a period",
                             "SELECT key AS k, sum(n) AS c FROM events_by_month"
                             " WHERE month BETWEEN ?1 AND ?2 AND dim = ?3 AND ((?4 >> (tlp + 1)) & 1) = 1"
                             " GROUP BY k HAVING sum(n) > 0 ORDER BY c DESC, k LIMIT ?5",
                             &st, err);
    if (rc)
        return rc;
    lia__db_bind_int64(st, 1, month_of_us(q->since_us));
    lia__db_bind_int64(st, 2, month_of_us(q->until_us - 1));
    lia__db_bind_text(st, 3, bys[w].dim, 1);
    lia__db_bind_int64(st, 4, (int64_t)mask);
    lia__db_bind_int64(st, 5, q->limit ? (int64_t)q->limit : -1);
    if (prefix[0])
        lia__db_bind_text(st, 6, prefix, 4);
    return emit(st, bys[w].class_key ? KEY_CLASS_TEXT : KEY_TEXT, 0, cb, ud, err);
}

int lia_store_recipients_period(lia_store *s, const lia_period_query *q, lia_group_cb cb, void *ud,
                                lia_error *err)
{
    lia_db *db = lia__store_db(s);
    const char *kind = q->by ? q->by : "";
    char prefix[64];
    lia_stmt *st;
    int rc;
    size_t pn;
    if (strcmp(kind, "partner") != 0 && strcmp(kind, "owner") != 0)
        return lia_error_set(err, LIA_EINVAL, "by", kind, strlen(kind),
                             "recipients of kind partner or owner");
    if (q->until_us <= q->since_us)
        return lia_error_set(err, LIA_EINVAL, "period", NULL, 0, "the period ends before it starts");
    /* route_delivered_month: the routing module's count (schema "route" 3) */
    if (!lia__db_has_table(db, "route_delivered_month"))
        return LIA_OK;
    snprintf(prefix, sizeof prefix, "%s:", kind);
    pn = strlen(prefix);
    if ((rc = lia__db_prepare(db, "report: recipients of a period",
                              "SELECT recipient, sum(n) AS c FROM route_delivered_month"
                              " WHERE month BETWEEN ?1 AND ?2 AND ((?3 >> (tlp + 1)) & 1) = 1"
                              " AND substr(recipient, 1, ?5) = ?4 GROUP BY recipient HAVING sum(n) > 0"
                              " ORDER BY c DESC, recipient LIMIT ?6",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, month_of_us(q->since_us));
    lia__db_bind_int64(st, 2, month_of_us(q->until_us - 1));
    lia__db_bind_int64(st, 3, (int64_t)(q->tlp_mask ? q->tlp_mask : 0x3f));
    lia__db_bind_text(st, 4, prefix, (ptrdiff_t)pn);
    lia__db_bind_int64(st, 5, (int64_t)pn);
    lia__db_bind_int64(st, 6, q->limit ? (int64_t)q->limit : -1);
    return emit(st, KEY_TEXT, pn, cb, ud, err);
}
