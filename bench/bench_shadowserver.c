/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the schema-driven Shadowserver engine, without the store.
 *
 *   bench_shadowserver [ROWS] [REPORT]     (default 2000000 scan_ics)
 *
 * Generates ROWS rows of a Shadowserver scan_ics report in memory (seeded;
 * the columns Shadowserver sends today: timestamp, ip, protocol, port,
 * hostname, tag, asn, geo, region, city, naics, sic, sector, device_*,
 * response_size, raw_response ...), then runs the "shadowserver" format's
 * parse and normalise steps over it in LIA_READ_CHUNK chunks, as lia_ingest
 * does, plus lia_event_finish per event. One thread; best of 3 runs, in
 * wall-clock and in on-CPU time (CLOCK_THREAD_CPUTIME_ID), the latter being
 * the figure to compare on a shared, noisy machine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/liaison.h"
#include "core/records.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static const char *const tags[] = {"modbus", "s7", "bacnet", "dnp3", "fox", "ethernetip"};
static const char *const vendors[] = {"Schneider Electric", "Siemens", "Tridium", "Rockwell", ""};

static void gen(lia_buf *b, size_t rows)
{
    lia_buf_puts(b, "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\","
                    "\"region\",\"city\",\"naics\",\"sic\",\"sector\",\"device_vendor\",\"device_type\","
                    "\"device_model\",\"device_version\",\"device_id\",\"response_size\",\"raw_response\"\n");
    for (size_t i = 0; i < rows; i++) {
        uint32_t t = rnd(6);
        lia_buf_printf(b,
                       "\"2024-05-01 %02u:%02u:%02u\",\"%u.%u.%u.%u\",\"tcp\",%u,\"host%u.example.net\","
                       "\"%s\",%u,\"ZZ\",\"REGION %u\",\"CITY %u\",%u,0,\"%s\",\"%s\",\"plc\","
                       "\"model %u\",\"v%u.%u\",,%u,\"dGVzdA==\"\n",
                       rnd(24), rnd(60), rnd(60), 1 + rnd(223), rnd(256), rnd(256), 1 + rnd(254),
                       t == 0 ? 502 : 102 + rnd(50000), rnd(100000), tags[t], 64512 + rnd(1000), rnd(50),
                       rnd(500), rnd(3) ? 0 : 517311, rnd(2) ? "Communications, Service Provider, and Hosting Service" : "",
                       vendors[rnd(5)], rnd(100), rnd(9), rnd(20), 5 + rnd(500));
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *data, size_t len, const char *report, uint64_t *events, uint64_t *bad)
{
    const lia_format *fmt = lia_format_find("shadowserver");
    lia_feed_opts fo;
    lia_records recs;
    lia_event ev;
    lia_error err;
    void *st;
    int rc;
    memset(&fo, 0, sizeof fo);
    fo.subtype = report;
    fo.feed = "bench";
    fo.tlp = -1;
    if ((rc = fmt->open(&st, &fo, &err))) {
        fprintf(stderr, "bench_shadowserver: %s\n", err.reason);
        return rc;
    }
    lia__records_init(&recs);
    lia_event_init(&ev);
    *events = *bad = 0;
    for (size_t off = 0; off <= len; off += LIA_READ_CHUNK) {
        size_t n = len - off < LIA_READ_CHUNK ? len - off : LIA_READ_CHUNK;
        int eof = off + n >= len;
        lia__records_clear(&recs);
        if ((rc = fmt->parse(st, data + off, n, eof, &recs, &err))) {
            fprintf(stderr, "bench_shadowserver: %s\n", err.reason);
            break;
        }
        for (size_t i = 0; i < recs.n; i++) {
            lia_event_reset(&ev);
            if (recs.rec[i].err || fmt->normalise(st, &recs, &recs.rec[i], &ev, &err) ||
                lia_event_finish(&ev, &err)) {
                if (*bad == 0)
                    fprintf(stderr, "first rejected row: %s: %s\n", err.field, err.reason);
                (*bad)++;
            } else {
                (*events)++;
            }
        }
        if (eof)
            break;
    }
    lia_event_free(&ev);
    lia__records_free(&recs);
    fmt->close(st);
    return rc;
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 2000000;
    const char *report = argc > 2 ? argv[2] : "scan_ics";
    lia_buf b;
    double best = 1e30, best_cpu = 1e30;
    uint64_t events = 0, bad = 0;
    lia_buf_init(&b, (size_t)1 << 34);
    gen(&b, rows);
    if (b.err) {
        fprintf(stderr, "bench_shadowserver: cannot generate %zu rows\n", rows);
        return 1;
    }
    printf("shadowserver %s: %zu rows, %.1f MB in memory\n", report, rows, (double)b.len / 1e6);
    for (int r = 0; r < 3; r++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t, c;
        if (run(b.ptr, b.len, report, &events, &bad))
            return 1;
        t = clock_s(CLOCK_MONOTONIC) - t0;
        c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (t < best)
            best = t;
        if (c < best_cpu)
            best_cpu = c;
    }
    printf("parse+normalise: %.2f s wall, %.0f rows/s, %.1f MB/s (best of 3; %llu events, %llu rejected)\n",
           best, (double)rows / best, (double)b.len / 1e6 / best, (unsigned long long)events,
           (unsigned long long)bad);
    printf("parse+normalise: %.2f s on-CPU, %.0f rows/s on one core (best of 3; not counting time the\n"
           "                 thread waited for the CPU on a busy machine)\n",
           best_cpu, (double)rows / best_cpu);
    lia_buf_free(&b);
    return bad ? 1 : 0;
}
