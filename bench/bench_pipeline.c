/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the ingest pipeline (docs/performance.md).
 *
 *   bench_pipeline gen ROWS FILE      write a synthetic Shadowserver-shaped
 *                                     scan report (quoted like the real ones;
 *                                     ~200 countries' worth of networks, many ASNs)
 *   bench_pipeline parse FILE MAP     parse + normalise only (no store)
 *   bench_pipeline ingest FILE MAP DB end to end into SQLite with all indexes
 *   bench_pipeline sqlite ROWS DB     bare SQLite: the same columns and indexes,
 *                                     rows inserted straight from memory
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
    for (uint64_t i = 0; i < rows; i++) {
        uint32_t net = rnd(20000); /* network picks country and ASN consistently */
        uint32_t t = rnd(8);
        fprintf(f,
                "\"2026-11-%02u %02u:%02u:%02u\",\"%u.%u.%u.%u\",\"tcp\",%d,\"%s\",\"%s\",%u,\"%s\","
                "\"REGION %u\",\"CITY %u\",0,0,\"\",\"Vendor %u\",\"plc\",\"M%u\",\"%u.%u\",0,%u,\"dGVzdA==\"\n",
                1 + rnd(28), rnd(24), rnd(60), rnd(60), 1 + net % 223, net / 223 % 256, rnd(256), 1 + rnd(254),
                ports[t], rnd(4) ? "" : "host.example.net", tags[t], 1000 + net % 60000,
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
    lia_records_init(&rs);
    lia_event_init(&ev);
    while (!eof) {
        ssize_t n = read(fd, buf, LIA_READ_CHUNK);
        if (n < 0)
            return 1;
        eof = n == 0;
        lia_records_clear(&rs);
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
    lia_records_free(&rs);
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
    if (lia_store_open(db, &s, &err) || lia_ingest(s, &o, &res, &err)) {
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

/* The same table shape and indexes as the store, rows straight from memory. */
static int cmd_sqlite(uint64_t rows, const char *db)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char body[400];
    double t0;
    if (sqlite3_open(db, &h) != SQLITE_OK)
        return 1;
    if (getenv("BENCH_PRAGMAS")) /* for experiments: extra pragmas first */
        sqlite3_exec(h, getenv("BENCH_PRAGMAS"), NULL, NULL, NULL);
    /* the store's own settings and schema (src/store/sqlite.c) */
    sqlite3_exec(h,
                 "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "PRAGMA cache_size=-262144; PRAGMA wal_autocheckpoint=25000; PRAGMA journal_size_limit=67108864;"
                 "CREATE TABLE events(id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL, line INTEGER NOT NULL,"
                 " time INTEGER, src_ip BLOB, src_asn INTEGER, src_cc TEXT, class INTEGER,"
                 " tlp INTEGER, body TEXT NOT NULL);"
                 "CREATE INDEX events_time ON events(time); CREATE INDEX events_src_ip ON events(src_ip);"
                 "CREATE INDEX events_src_cc ON events(src_cc); CREATE INDEX events_src_asn ON events(src_asn);"
                 "CREATE INDEX events_class ON events(class); CREATE INDEX events_report ON events(report_id, line);",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(h, "INSERT INTO events(report_id,line,time,src_ip,src_asn,src_cc,class,tlp,body)"
                          " VALUES(1,?,?,?,?,?,34,2,?)",
                       -1, &st, NULL);
    t0 = now();
    sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    for (uint64_t i = 0; i < rows; i++) {
        uint8_t ip[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        uint32_t net = rnd(20000);
        int n;
        ip[12] = (uint8_t)(1 + net % 223);
        ip[13] = (uint8_t)(net / 223);
        ip[14] = (uint8_t)rnd(256);
        ip[15] = (uint8_t)(1 + rnd(254));
        /* a body of the size lia_event_to_json writes for such a row */
        n = snprintf(body, sizeof body,
                     "{\"classification.identifier\":\"open-ics\",\"classification.taxonomy\":\"vulnerable\","
                     "\"classification.type\":\"vulnerable-system\",\"feed.name\":\"bench\",\"protocol.application\":"
                     "\"modbus\",\"protocol.transport\":\"tcp\",\"source.asn\":%u,\"source.geolocation.cc\":\"%s\","
                     "\"source.ip\":\"%u.%u.%u.%u\",\"source.port\":502,\"time.source\":\"2026-11-01T00:00:00+00:00\","
                     "\"extra.device_model\":\"M%u\",\"extra.response_size\":%u}",
                     1000 + net % 60000, ccs[net % 36], ip[12], ip[13], ip[14], ip[15], rnd(900), rnd(400));
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 2);
        sqlite3_bind_int64(st, 2, 1790000000000000LL + (sqlite3_int64)rnd(2419200) * 1000000);
        sqlite3_bind_blob(st, 3, ip, 16, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, 1000 + net % 60000);
        sqlite3_bind_text(st, 5, ccs[net % 36], 2, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, body, n, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            return 1;
        sqlite3_reset(st);
        if (i % 50000 == 49999) {
            sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
            sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
        }
    }
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    double t = now() - t0;
    printf("sqlite: %llu rows in %.3f s = %.0f rows/s (bare inserts, same indexes)\n", (unsigned long long)rows, t,
           (double)rows / t);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return 0;
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
    printf("  %s: peak RSS %.1f MB\n", label, (double)ru.ru_maxrss / 1024.0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

struct all_args {
    char report[512], map[512], db[512], bare[512];
    uint64_t rows;
};
static int run_parse(void *a) { return cmd_parse(((struct all_args *)a)->report, ((struct all_args *)a)->map); }
static int run_ingest(void *a)
{
    struct all_args *x = a;
    return cmd_ingest(x->report, x->map, x->db);
}
static int run_sqlite(void *a) { return cmd_sqlite(((struct all_args *)a)->rows, ((struct all_args *)a)->bare); }

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
    if (access(a.report, R_OK) != 0 && cmd_gen(rows, a.report))
        return 1;
    f = fopen(a.map, "w");
    if (!f)
        return 1;
    fputs(map_json, f);
    fclose(f);
    unlink(a.db);
    unlink(a.bare);
    printf("== %llu rows ==\n", (unsigned long long)rows);
    rc |= child("parse+normalise", run_parse, &a);
    rc |= child("end to end", run_ingest, &a);
    rc |= child("bare sqlite", run_sqlite, &a);
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
        return cmd_sqlite(strtoull(argv[2], NULL, 10), argv[3]);
    if (argc == 4 && strcmp(argv[1], "all") == 0 && (rows = strtoull(argv[2], NULL, 10)) > 0)
        return cmd_all(rows, argv[3]);
    fprintf(stderr, "usage: bench_pipeline all ROWS DIR | gen ROWS FILE | parse FILE MAP | "
                    "ingest FILE MAP DB | sqlite ROWS DB\n");
    return 2;
}
