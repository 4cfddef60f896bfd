/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the ingest pipeline (docs/performance.md).
 *
 *   bench_pipeline gen ROWS FILE      write a synthetic Shadowserver-shaped
 *                                     scan report (quoted like the real ones;
 *                                     ~200 countries' worth of networks, many ASNs)
 *   bench_pipeline parse FILE MAP     parse + normalise only (no store)
 *   bench_pipeline ingest FILE MAP DB end to end into SQLite with all indexes
 *                                     (BENCH_SKIP=dedup,route leaves stages out;
 *                                     BENCH_NOBULK=1: no bulk load, see store.h)
 *   bench_pipeline sqlite SRC DB      bare SQLite: the rows `ingest` stored in SRC,
 *                                     inserted again from memory (same schema);
 *                                     BENCH_BULK=1 builds the indexes at the end,
 *                                     BENCH_COMMIT=N rows per transaction (50,000),
 *                                     BENCH_PRAGMAS=... pragmas for experiments
 *   bench_pipeline all ROWS DIR       all of the above, each in a child process,
 *                                     printing events/s and peak RSS per mode
 * Single-threaded except the archive thread of `ingest` (gzip of the raw report
 * on the second core). */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liaison/liaison.h"
#include "core/records.h"
#include "store/backend.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const ccs[] = {"CN", "US", "IN", "BR", "DE", "RU", "VN", "ID", "TH", "MY", "PK", "AE",
                                  "HK", "KH", "SG", "NL", "FR", "GB", "JP", "KR", "TR", "IR", "EG", "NG",
                                  "ZA", "MX", "AR", "CO", "PL", "IT", "ES", "UA", "PH", "BD", "SA", "KZ"};
static const char *const tags[] = {"modbus", "s7", "bacnet", "dnp3", "ethernetip", "iec-104", "fox", "mqtt"};
static const int ports[] = {502, 102, 47808, 20000, 44818, 2404, 1911, 1883};

static int cmd_gen(uint64_t rows, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    fputs("\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\","
          "\"naics\",\"sic\",\"sector\",\"device_vendor\",\"device_type\",\"device_model\",\"device_version\","
          "\"device_id\",\"response_size\",\"raw_response\"\n",
          f);
    /* BENCH_SEED=K: another report (its own random rows), all on day K
     * after 2026-01-01, as a CERT receives one a day (partitions growth) */
    const char *seed = getenv("BENCH_SEED");
    int64_t day0 = 0;
    if (seed && *seed) {
        day0 = 1767225600 + 86400 * strtoll(seed, NULL, 10);
        rng ^= 0x100000001B3ULL * (uint64_t)(strtoll(seed, NULL, 10) + 1);
    }
    for (uint64_t i = 0; i < rows; i++) {
        uint32_t net = rnd(20000); /* network picks country and ASN consistently */
        uint32_t t = rnd(8);
        char when[32];
        if (day0) {
            time_t at = (time_t)(day0 + rnd(86400));
            struct tm tm;
            gmtime_r(&at, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        } else {
            snprintf(when, sizeof when, "2026-11-%02u %02u:%02u:%02u", 1 + rnd(28), rnd(24), rnd(60),
                     rnd(60));
        }
        fprintf(
            f,
            "\"%s\",\"%u.%u.%u.%u\",\"tcp\",%d,\"%s\",\"%s\",%u,\"%s\","
            "\"REGION %u\",\"CITY %u\",0,0,\"\",\"Vendor %u\",\"plc\",\"M%u\",\"%u.%u\",0,%u,\"dGVzdA==\"\n",
            when, 1 + net % 223, net / 223 % 256, rnd(256), 1 + rnd(254), ports[t],
            rnd(4) ? "" : "host.example.net", tags[t], 1000 + net % 60000,
            ccs[net % (sizeof ccs / sizeof ccs[0])], net % 50, net % 500, rnd(6), 100 + rnd(900), rnd(5),
            rnd(10), 20 + rnd(400));
    }
    return fclose(f) ? 1 : 0;
}

static int cmd_parse(const char *path, const char *map)
{
    const lia_format *fmt = lia_format_find("csv");
    lia_feed_opts o = {.feed = "bench", .map_path = map, .tlp = LIA_TLP_AMBER};
    lia_error err;
    lia_records rs;
    lia_event ev;
    void *st;
    char *buf = malloc(LIA_READ_CHUNK);
    uint64_t rows = 0, events = 0, bad = 0;
    double t0, tparse = 0, tnorm = 0;
    int fd = open(path, O_RDONLY), eof = 0;
    if (fd < 0 || !buf || fmt->open(&st, &o, &err)) {
        fprintf(stderr, "bench: cannot start: %s\n", err.reason);
        return 1;
    }
    lia__records_init(&rs);
    lia_event_init(&ev);
    while (!eof) {
        ssize_t n = read(fd, buf, LIA_READ_CHUNK);
        if (n < 0)
            return 1;
        eof = n == 0;
        lia__records_clear(&rs);
        t0 = now();
        if (fmt->parse(st, buf, (size_t)n, eof, &rs, &err))
            return 1;
        tparse += now() - t0;
        t0 = now();
        for (size_t i = 0; i < rs.n; i++) {
            rows++;
            lia_event_reset(&ev);
            if (rs.rec[i].err || fmt->normalise(st, &rs, &rs.rec[i], &ev, &err) || lia_event_finish(&ev, &err))
                bad++;
            else
                events++;
        }
        tnorm += now() - t0;
    }
    printf("parse: %llu rows in %.3f s = %.0f rows/s\n", (unsigned long long)rows, tparse, (double)rows / tparse);
    printf("normalise: %llu events (%llu rejected) in %.3f s = %.0f events/s\n", (unsigned long long)events,
           (unsigned long long)bad, tnorm, (double)events / tnorm);
    printf("parse+normalise: %.0f events/s\n", (double)events / (tparse + tnorm));
    lia_event_free(&ev);
    lia__records_free(&rs);
    fmt->close(st);
    free(buf);
    close(fd);
    return bad != 0;
}

static int cmd_ingest(const char *path, const char *map, const char *db)
{
    lia_store *s;
    lia_error err;
    lia_ingest_opts o;
    lia_ingest_result res;
    memset(&o, 0, sizeof o);
    o.format = "csv";
    o.path = path;
    o.archive = 1;
    o.feed.feed = "bench";
    o.feed.map_path = map;
    o.feed.tlp = LIA_TLP_AMBER;
    o.feed.observed_us = (int64_t)time(NULL) * 1000000;
    /* BENCH_SKIP=dedup,route (stage names): measure the pipeline without them */
    for (int i = 0; getenv("BENCH_SKIP") && i < LIA_ST__COUNT; i++)
        if (strstr(getenv("BENCH_SKIP"), lia_stage_name(i)))
            o.skip_stages |= 1u << i;
    if (lia_store_open(db, &s, &err)) {
        char msg[512];
        lia_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "bench: %s\n", msg);
        return 1;
    }
    if (getenv("BENCH_NOBULK")) /* keep the indexes up to date row by row */
        lia__store_set_bulk_min(s, UINT64_MAX);
    if (lia_ingest(s, &o, &res, &err)) {
        char msg[512];
        lia_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "bench: %s\n", msg);
        return 1;
    }
    printf("ingest: %llu events in %.3f s = %.0f events/s end to end (%.1f MB)\n",
           (unsigned long long)res.report.events, res.seconds, (double)res.report.events / res.seconds,
           (double)res.bytes / 1e6);
    for (int i = 0; i < LIA_ST__COUNT; i++) {
        const lia_counter *c = &res.c[i];
        double sec = (double)c->ns / 1e9;
        if (c->in == 0)
            continue;
        printf("  stage %-10s in %10llu out %10llu errors %6llu  %8.3f s  %12.0f /s%s\n", lia_stage_name(i),
               (unsigned long long)c->in, (unsigned long long)c->out, (unsigned long long)c->errors, sec,
               sec > 0 ? (double)c->in / sec : 0.0, i == LIA_ST_READ ? " (bytes)" : "");
    }
    lia_store_close(s);
    return 0;
}

/* Bare SQLite: the rows `ingest` stored (SRC, the events table exactly as
 * the store wrote it), inserted again into a new database with the same
 * schema (copied from SRC), indexes and pragmas, from memory, by one
 * prepared statement. Rows are read from SRC in slices of 50,000 (not
 * timed) and each slice is inserted in one transaction (timed), as the
 * store commits. This is the floor any SQLite store of these rows pays. */
static int cmd_sqlite(const char *src, const char *db)
{
    const int bulk = getenv("BENCH_BULK") != NULL;
    const int SLICE = getenv("BENCH_COMMIT") ? (int)strtol(getenv("BENCH_COMMIT"), NULL, 10) : 50000;
    typedef struct {
        sqlite3_int64 report_id, line, time, asn;
        int has_time, has_asn, ip_len, cc_len, cls, tlp, body_len;
        unsigned char ip[16];
        char cc[4];
        char *body;
    } row;
    sqlite3 *in, *h;
    sqlite3_stmt *sel, *schema, *st;
    row *rows = calloc(SLICE, sizeof *rows);
    double t = 0;
    unsigned long long total = 0;
    sqlite3_int64 last = 0;
    if (!rows || sqlite3_open_v2(src, &in, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open(db, &h) != SQLITE_OK)
        return 1;
    if (getenv("BENCH_PRAGMAS")) /* before and after: page_size must come first */
        sqlite3_exec(h, getenv("BENCH_PRAGMAS"), NULL, NULL, NULL);
    /* the store's own settings (src/store/sqlite.c) and its schema */
    sqlite3_exec(h,
                 "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;"
                 "PRAGMA wal_autocheckpoint=25000; PRAGMA journal_size_limit=67108864;",
                 NULL, NULL, NULL);
    if (getenv("BENCH_PRAGMAS")) /* for experiments: pragmas that override the store's */
        sqlite3_exec(h, getenv("BENCH_PRAGMAS"), NULL, NULL, NULL);
    /* one events table with the six indexes, as migration 1 of the store
     * declares it (src/store/events.c): the store's own events are now in
     * partitions (src/store/parts.h), this is the single-table floor */
    if (sqlite3_prepare_v2(in,
                           "SELECT 'CREATE TABLE events(id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL,"
                           " line INTEGER NOT NULL, time INTEGER, src_ip BLOB, src_asn INTEGER, src_cc TEXT,"
                           " class INTEGER, tlp INTEGER, body TEXT NOT NULL)'"
                           " UNION ALL SELECT 'CREATE INDEX events_time ON events(time)'"
                           " UNION ALL SELECT 'CREATE INDEX events_src_ip ON events(src_ip)'"
                           " UNION ALL SELECT 'CREATE INDEX events_src_cc ON events(src_cc)'"
                           " UNION ALL SELECT 'CREATE INDEX events_src_asn ON events(src_asn)'"
                           " UNION ALL SELECT 'CREATE INDEX events_class ON events(class)'"
                           " UNION ALL SELECT 'CREATE INDEX events_report ON events(report_id, line)'",
                           -1, &schema, NULL) != SQLITE_OK)
        return 1;
    /* BENCH_BULK=1: the indexes are built once at the end (CREATE INDEX
     * sorts), the fastest any SQLite load of these rows can be */
    lia_buf later;
    lia_buf_init(&later, 1 << 20);
    while (sqlite3_step(schema) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(schema, 0);
        if (bulk && strncmp(sql, "CREATE INDEX", 12) == 0) {
            lia_buf_printf(&later, "%s;", sql);
            continue;
        }
        if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "bench: %s\n", sqlite3_errmsg(h));
            return 1;
        }
    }
    sqlite3_finalize(schema);
    if (sqlite3_prepare_v2(in, "SELECT id,report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body FROM events"
                               " WHERE id>? ORDER BY id", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO events(report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body)"
                              " VALUES(?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: %s\n", sqlite3_errmsg(h));
        return 1;
    }
    for (;;) {
        int n = 0;
        double t0;
        sqlite3_bind_int64(sel, 1, last);
        while (n < SLICE && sqlite3_step(sel) == SQLITE_ROW) {
            row *r = &rows[n++];
            last = sqlite3_column_int64(sel, 0);
            r->report_id = sqlite3_column_int64(sel, 1);
            r->line = sqlite3_column_int64(sel, 2);
            r->has_time = sqlite3_column_type(sel, 3) != SQLITE_NULL;
            r->time = sqlite3_column_int64(sel, 3);
            r->ip_len = sqlite3_column_bytes(sel, 4) == 16 ? 16 : 0;
            if (r->ip_len)
                memcpy(r->ip, sqlite3_column_blob(sel, 4), 16);
            r->has_asn = sqlite3_column_type(sel, 5) != SQLITE_NULL;
            r->asn = sqlite3_column_int64(sel, 5);
            r->cc_len = sqlite3_column_bytes(sel, 6) == 2 ? 2 : 0;
            if (r->cc_len)
                memcpy(r->cc, sqlite3_column_text(sel, 6), 2);
            r->cls = sqlite3_column_int(sel, 7);
            r->tlp = sqlite3_column_int(sel, 8);
            r->body_len = sqlite3_column_bytes(sel, 9);
            free(r->body);
            r->body = malloc((size_t)r->body_len + 1);
            if (!r->body)
                return 1;
            memcpy(r->body, sqlite3_column_text(sel, 9), (size_t)r->body_len);
        }
        sqlite3_reset(sel);
        if (n == 0)
            break;
        t0 = now();
        sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
        for (int i = 0; i < n; i++) {
            const row *r = &rows[i];
            sqlite3_bind_int64(st, 1, r->report_id);
            sqlite3_bind_int64(st, 2, r->line);
            if (r->has_time)
                sqlite3_bind_int64(st, 3, r->time);
            else
                sqlite3_bind_null(st, 3);
            if (r->ip_len)
                sqlite3_bind_blob(st, 4, r->ip, 16, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 4);
            if (r->has_asn)
                sqlite3_bind_int64(st, 5, r->asn);
            else
                sqlite3_bind_null(st, 5);
            if (r->cc_len)
                sqlite3_bind_text(st, 6, r->cc, 2, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 6);
            sqlite3_bind_int(st, 7, r->cls);
            sqlite3_bind_int(st, 8, r->tlp);
            sqlite3_bind_text(st, 9, r->body, r->body_len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "bench: %s\n", sqlite3_errmsg(h));
                return 1;
            }
            sqlite3_reset(st);
        }
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
        t += now() - t0;
        total += (unsigned long long)n;
    }
    if (bulk) {
        double t0 = now(), ti;
        if (later.len && sqlite3_exec(h, lia_buf_cstr(&later), NULL, NULL, NULL) != SQLITE_OK)
            return 1;
        ti = now() - t0;
        printf("sqlite: load without indexes %.3f s = %.0f rows/s, index build %.3f s\n", t, (double)total / t, ti);
        t += ti;
    }
    lia_buf_free(&later);
    printf("sqlite: %llu rows in %.3f s = %.0f rows/s (bare inserts of the stored rows, same schema%s)\n", total, t,
           (double)total / t, bulk ? "; indexes built at the end" : "");
    for (int i = 0; i < SLICE; i++)
        free(rows[i].body);
    free(rows);
    sqlite3_finalize(sel);
    sqlite3_finalize(st);
    sqlite3_close(in);
    sqlite3_close(h);
    return total == 0;
}

static const char map_json[] =
    "{\"header\": true, \"unmapped\": \"extra\", \"columns\": {"
    "\"timestamp\": {\"field\": \"time.source\", \"required\": true},"
    "\"ip\": {\"field\": \"source.ip\", \"required\": true}, \"port\": \"source.port\","
    "\"protocol\": \"protocol.transport\", \"tag\": \"protocol.application\", \"hostname\": \"source.reverse_dns\","
    "\"asn\": {\"field\": \"source.asn\", \"convert\": \"zero_is_null\"}, \"geo\": \"source.geolocation.cc\","
    "\"region\": \"source.geolocation.region\", \"city\": \"source.geolocation.city\","
    "\"naics\": {\"field\": \"extra.naics\", \"convert\": \"zero_is_null\"},"
    "\"sic\": {\"field\": \"extra.sic\", \"convert\": \"zero_is_null\"},"
    "\"response_size\": {\"field\": \"extra.response_size\", \"convert\": \"int\"}},"
    "\"constants\": {\"classification.identifier\": \"open-ics\", \"classification.type\": \"vulnerable-system\"}}";

/* Run fn in a child; print its peak RSS. */
static int child(const char *label, int (*fn)(void *), void *arg)
{
    struct rusage ru;
    int status;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int r = fn(arg);
        fflush(stdout);
        _exit(r);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return 1;
    /* CPU time too: on a shared machine it drifts less than wall time */
    printf("  %s: peak RSS %.1f MB, CPU %.2f s user + %.2f s system\n", label, (double)ru.ru_maxrss / 1024.0,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

struct all_args {
    char report[512], map[512], db[512], bare[512], bulk[512];
    uint64_t rows;
};
static int run_parse(void *a) { return cmd_parse(((struct all_args *)a)->report, ((struct all_args *)a)->map); }
static int run_ingest(void *a)
{
    struct all_args *x = a;
    return cmd_ingest(x->report, x->map, x->db);
}
static int run_sqlite(void *a) { return cmd_sqlite(((struct all_args *)a)->db, ((struct all_args *)a)->bare); }
static int run_sqlite_bulk(void *a)
{
    setenv("BENCH_BULK", "1", 1);
    return cmd_sqlite(((struct all_args *)a)->db, ((struct all_args *)a)->bulk);
}

static int cmd_all(uint64_t rows, const char *dir)
{
    struct all_args a;
    FILE *f;
    int rc = 0;
    a.rows = rows;
    snprintf(a.report, sizeof a.report, "%s/report-%llu.csv", dir, (unsigned long long)rows);
    snprintf(a.map, sizeof a.map, "%s/map.json", dir);
    snprintf(a.db, sizeof a.db, "%s/ingest-%llu.db", dir, (unsigned long long)rows);
    snprintf(a.bare, sizeof a.bare, "%s/bare-%llu.db", dir, (unsigned long long)rows);
    snprintf(a.bulk, sizeof a.bulk, "%s/bulk-%llu.db", dir, (unsigned long long)rows);
    if (access(a.report, R_OK) != 0 && cmd_gen(rows, a.report))
        return 1;
    f = fopen(a.map, "w");
    if (!f)
        return 1;
    fputs(map_json, f);
    fclose(f);
    unlink(a.db);
    unlink(a.bare);
    unlink(a.bulk);
    printf("== %llu rows ==\n", (unsigned long long)rows);
    rc |= child("parse+normalise", run_parse, &a);
    rc |= child("end to end", run_ingest, &a);
    rc |= child("bare sqlite", run_sqlite, &a);
    rc |= child("bare sqlite, indexes at the end", run_sqlite_bulk, &a);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t rows;
    if (argc == 4 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(strtoull(argv[2], NULL, 10), argv[3]);
    if (argc == 4 && strcmp(argv[1], "parse") == 0)
        return cmd_parse(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "ingest") == 0)
        return cmd_ingest(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "sqlite") == 0)
        return cmd_sqlite(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "all") == 0 && (rows = strtoull(argv[2], NULL, 10)) > 0)
        return cmd_all(rows, argv[3]);
    fprintf(stderr, "usage: bench_pipeline all ROWS DIR | gen ROWS FILE | parse FILE MAP | "
                    "ingest FILE MAP DB | sqlite INGESTED_DB DB\n");
    return 2;
}
