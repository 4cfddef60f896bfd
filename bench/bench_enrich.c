/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of enrichment and deduplication, in memory, one core.
 *
 *   bench_enrich [CSV] [--keys N]
 *
 * 1. IPv4 lookups in a range table: CSV is an ip-location-db ASN CSV (e.g.
 *    data/ipdb/node_modules/@ip-location-db/asn/asn-ipv4.csv, ~410k ranges,
 *    fetched by `make demo`); without it, 500,000 seeded random ranges are
 *    generated. 10M random addresses (pre-generated), best of 3.
 * 2. Events/s through enrich (IP lookup for source.ip, sector rules) and
 *    dedup (25% duplicates), batches of LIA_BATCH; the cost of making the
 *    events is measured alone and subtracted.
 * 3. Memory of the dedup table for N distinct keys (default 10,000,000):
 *    the table's bytes and the process's peak RSS growth. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "liaison/enrich.h"
#include "liaison/limits.h"
#include "enrich/internal.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machines here are shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Resident set now (KiB), from /proc/self/statm. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    char line[128];
    long pages = 0;
    if (!f)
        return 0;
    if (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (sp)
            pages = strtol(sp + 1, NULL, 10);
    }
    fclose(f);
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* 500k non-overlapping random ranges as ip-location-db ASN CSV text. */
static char *gen_csv(size_t *len)
{
    lia_buf b;
    uint32_t a = 0x01000000;
    lia_buf_init(&b, 1u << 30);
    for (int i = 0; i < 500000 && a < 0xE0000000u; i++) {
        uint32_t size = 64u << (rnd64() % 8), gap = (uint32_t)(rnd64() % 2048);
        uint32_t lo = a + gap, hi = lo + size - 1;
        lia_buf_printf(&b, "%u.%u.%u.%u,%u.%u.%u.%u,%u,AS name %u\n", lo >> 24, (lo >> 16) & 255,
                       (lo >> 8) & 255, lo & 255, hi >> 24, (hi >> 16) & 255, (hi >> 8) & 255, hi & 255,
                       (unsigned)(1 + rnd64() % 60000), (unsigned)(rnd64() % 60000));
        a = hi + 1;
    }
    *len = b.len;
    return b.ptr;
}

static void make_event(lia_event *ev, uint32_t ip, uint16_t port, int64_t t)
{
    lia_ip a = {4, 32, {0}};
    a.addr[0] = (uint8_t)(ip >> 24);
    a.addr[1] = (uint8_t)(ip >> 16);
    a.addr[2] = (uint8_t)(ip >> 8);
    a.addr[3] = (uint8_t)ip;
    lia_event_reset(ev);
    lia_event_set_ip(ev, LIA_F_SOURCE_IP, &a);
    lia_event_set_i(ev, LIA_F_SOURCE_PORT, port);
    lia_event_set_str(ev, LIA_F_PROTOCOL_TRANSPORT, "tcp", 3);
    lia_event_set_i(ev, LIA_F_CLASSIFICATION_TYPE, 0);
    lia_event_set_str(ev, LIA_F_FEED_NAME, "shadowserver-scan_ics", 21);
    lia_event_set_i(ev, LIA_F_TIME_SOURCE, t);
}

int main(int argc, char **argv)
{
    const char *csv = NULL;
    size_t nkeys = 10000000, len = 0;
    lia_iptable *t = NULL;
    lia_error err;
    char *buf;
    double best, t0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            nkeys = strtoul(argv[++i], NULL, 10);
        else
            csv = argv[i];
    }
    lia_error_clear(&err);
    buf = csv ? read_file(csv, &len) : NULL;
    if (csv && !buf)
        fprintf(stderr, "bench_enrich: cannot read %s; generating ranges instead\n", csv);
    if (!buf) {
        csv = NULL;
        buf = gen_csv(&len);
    }
    t0 = now();
    if (lia__iptable_parse_csv(buf, len, &t, &err)) {
        char m[512];
        lia_error_format(&err, m, sizeof m);
        fprintf(stderr, "bench_enrich: %s\n", m);
        return 1;
    }
    printf("range table: %s, %zu ranges, %zu KiB, built in %.2f s\n", csv ? csv : "500k generated ranges",
           lia__iptable_ranges(t), lia__iptable_bytes(t) / 1024, now() - t0);
    free(buf);

    const char *only = getenv("BENCH_ONLY"); /* "1", "2" or "3": one part */
    /* 1. IPv4 lookups */
    if (!only || *only == '1') {
        const size_t n = 10000000;
        uint32_t *ips = malloc(n * sizeof *ips);
        uint64_t sink = 0;
        for (size_t i = 0; i < n; i++)
            ips[i] = (uint32_t)rnd64();
        best = 1e9;
        for (int r = 0; r < 3; r++) {
            t0 = now();
            for (size_t i = 0; i < n; i++)
                sink += lia__iptable_lookup4(t, ips[i]);
            double dt = now() - t0;
            if (dt < best)
                best = dt;
        }
        printf("IPv4 lookups (lia__iptable_lookup4): %.1f M/s (%.1f ns each; checksum %llu)\n",
               n / best / 1e6, best / n * 1e9, (unsigned long long)sink);
        best = 1e9;
        for (int r = 0; r < 3; r++) {
            lia_ipanswer a;
            lia_ip ip = {4, 32, {0}};
            t0 = now();
            for (size_t i = 0; i < n; i++) {
                ip.addr[0] = (uint8_t)(ips[i] >> 24);
                ip.addr[1] = (uint8_t)(ips[i] >> 16);
                ip.addr[2] = (uint8_t)(ips[i] >> 8);
                ip.addr[3] = (uint8_t)ips[i];
                sink += (uint64_t)lia__iptable_lookup(t, &ip, &a) + a.asn;
            }
            double dt = now() - t0;
            if (dt < best)
                best = dt;
        }
        printf("IPv4 lookups with answer (lia__iptable_lookup): %.1f M/s (%.1f ns each; checksum %llu)\n",
               n / best / 1e6, best / n * 1e9, (unsigned long long)sink);
        free(ips);
    }

    /* 2. enrich + dedup events/s (IP data: the same table as a CSV source of
     * an ipdb, through the public path) */
    if (!only || *only == '2') {
        const size_t total = 2000000;
        lia_ipdb *db = NULL;
        lia_sectors *sec = NULL;
        lia_dedup *dd = NULL;
        lia_dedup_conf dc;
        lia_batch b;
        lia_sector_ctx ctx = {"scan_ics", "2026-11-27-scan_ics.csv", NULL};
        double tgen = 1e9, tall = 1e9;
        const char *ps = getenv("BENCH_PARTS"); /* bits: 1 IP, 2 sectors, 4 dedup */
        int parts = ps ? (int)strtol(ps, NULL, 10) : 7;
        const char *csvpath = csv;
        char tmp[] = "/tmp/bench_enrich_XXXXXX";
        if (!csvpath) { /* write the generated ranges to a file for the ipdb */
            int fd = mkstemp(tmp);
            size_t l2;
            char *g;
            FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
            rng = 0x9E3779B97F4A7C15ULL;
            g = gen_csv(&l2);
            if (!f || fwrite(g, 1, l2, f) != l2)
                return 1;
            fclose(f);
            free(g);
            csvpath = tmp;
        }
        if (lia_ipdb_create(&db, &err) || lia_ipdb_add(db, LIA_IPSRC_CSV, csvpath, &err) ||
            lia__sectors_load(lia__sectors_default_path(), &sec, &err)) {
            char m[512];
            lia_error_format(&err, m, sizeof m);
            fprintf(stderr, "bench_enrich: %s\n", m);
            return 1;
        }
        if (!csv)
            remove(tmp);
        lia__sectors_prepare(sec, &ctx);
        b.cap = LIA_BATCH;
        b.ev = calloc(b.cap, sizeof *b.ev);
        for (size_t i = 0; i < b.cap; i++)
            lia_event_init(&b.ev[i]);
        for (int r = 0; r < 3; r++) {
            for (int withwork = 0; withwork < 2; withwork++) {
                uint64_t dups = 0, enriched = 0;
                lia__dedup_conf_default(&dc); /* default cap: LIA_DEDUP_KEYS */
                if (getenv("BENCH_CAP"))
                    dc.max_keys = strtoul(getenv("BENCH_CAP"), NULL, 10);
                lia__dedup_create(&dc, &dd, &err);
                rng = 12345;
                t0 = now();
                for (size_t done = 0; done < total; done += b.cap) {
                    for (size_t i = 0; i < b.cap; i++) {
                        uint64_t x = rnd64();
                        /* one event in four repeats an earlier key */
                        uint32_t ip =
                            (x & 3) == 0 ? (uint32_t)(0x3A000000u + (x >> 40) % 100000) : (uint32_t)(x >> 32);
                        make_event(&b.ev[i], ip, (x & 3) == 0 ? 502 : (uint16_t)(x >> 16),
                                   1764201600000000ll);
                    }
                    b.n = b.cap;
                    if (withwork) {
                        for (size_t i = 0; i < b.n; i++) {
                            /* as the enrich stage does (src/enrich/stage.c) */
                            if (i + 8 < b.n)
                                lia__ipdb_prefetch(db, &b.ev[i + 8].v[LIA_F_SOURCE_IP].ip, 0);
                            if (i + 4 < b.n)
                                lia__ipdb_prefetch(db, &b.ev[i + 4].v[LIA_F_SOURCE_IP].ip, 1);
                            if (parts & 1)
                                enriched += (uint64_t)lia__enrich_event_ip(db, &b.ev[i]);
                            if (parts & 2)
                                lia__sectors_apply(sec, &ctx, &b.ev[i], NULL);
                        }
                        if (parts & 4)
                            dups += (uint64_t)lia__dedup_batch(dd, &b, &err);
                    }
                }
                double dt = now() - t0;
                if (withwork && dt < tall)
                    tall = dt;
                if (!withwork && dt < tgen)
                    tgen = dt;
                if (withwork && r == 2)
                    printf("enrich+dedup: %zu events, %llu fields enriched, %llu duplicates folded\n", total,
                           (unsigned long long)enriched, (unsigned long long)dups);
                lia__dedup_destroy(dd);
                dd = NULL;
            }
        }
        printf("making events alone: %.2f M events/s\n", total / tgen / 1e6);
        printf("enrich (IP + sectors) + dedup: %.2f M events/s per core (%.0f ns/event, event making "
               "subtracted; %.2f M/s including it)\n",
               total / (tall - tgen) / 1e6, (tall - tgen) / total * 1e9, total / tall / 1e6);
        for (size_t i = 0; i < b.cap; i++)
            lia_event_free(&b.ev[i]);
        free(b.ev);
        lia__sectors_ctx_free(&ctx);
        lia__sectors_destroy(sec);
        lia_ipdb_release(db);
    }

    /* 3. memory for N distinct dedup keys */
    if (!only || *only == '3') {
        lia_dedup *dd = NULL;
        lia_dedup_conf dc;
        lia_batch b;
        size_t caps[2] = {nkeys, LIA_DEDUP_KEYS};
        for (int k = 0; k < 2; k++) {
            long rss0 = rss_kb(), peak0 = peak_rss_kb();
            lia__dedup_conf_default(&dc);
            dc.max_keys = caps[k];
            if (lia__dedup_create(&dc, &dd, &err)) {
                fprintf(stderr, "bench_enrich: cannot create a dedup table of %zu keys\n", caps[k]);
                return 1;
            }
            b.cap = LIA_BATCH;
            b.ev = calloc(b.cap, sizeof *b.ev);
            for (size_t i = 0; i < b.cap; i++)
                lia_event_init(&b.ev[i]);
            t0 = now();
            for (size_t done = 0; done < nkeys; done += b.cap) {
                b.n = nkeys - done < b.cap ? nkeys - done : b.cap;
                for (size_t i = 0; i < b.n; i++)
                    make_event(&b.ev[i], (uint32_t)(done + i) * 2654435761u, 23, 1764201600000000ll);
                lia__dedup_batch(dd, &b, &err);
            }
            double dt = now() - t0;
            printf("dedup, %zu distinct keys, cap %zu: %zu keys held, %.1f MiB table (%.1f bytes/key held), "
                   "%llu evicted, RSS +%.1f MiB (peak +%.1f MiB while the table doubled), %.2f M events/s\n",
                   nkeys, caps[k], lia__dedup_keys(dd), lia__dedup_bytes(dd) / 1048576.0,
                   (double)lia__dedup_bytes(dd) / (double)(lia__dedup_keys(dd) ? lia__dedup_keys(dd) : 1),
                   (unsigned long long)lia__dedup_evictions(dd), (rss_kb() - rss0) / 1024.0,
                   (peak_rss_kb() - peak0) / 1024.0, nkeys / dt / 1e6);
            for (size_t i = 0; i < b.cap; i++)
                lia_event_free(&b.ev[i]);
            free(b.ev);
            lia__dedup_destroy(dd);
        }
    }
    lia__iptable_destroy(t);
    return 0;
}
