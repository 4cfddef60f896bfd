/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the STIX 2.1 export (src/share/stix_export.c).
 *
 *   bench_stix [EVENTS]      (default 500000)
 *
 * Builds EVENTS harmonised events in memory (seeded: every run exports the
 * same events): Shadowserver-like scan results (IPv4 + port + ASN + country,
 * classification, TLP AMBER) with one in 4 carrying a domain, one in 8 a URL,
 * one in 16 an IPv6 address instead, and one in 5 repeating an earlier IP so
 * that SCO deduplication is exercised. Each run streams one bundle into a
 * sink that only counts bytes (what is measured is the encoder, not a disk),
 * best of 3 runs; prints events/s, STIX objects/s and MB/s. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/event.h"
#include "liaison/stix.h"

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

static int count_sink(void *ud, const char *p, size_t n)
{
    (void)p;
    *(uint64_t *)ud += n;
    return 0;
}

static int set(lia_event *ev, const char *name, const char *v)
{
    lia_error err;
    if (lia_event_set_name(ev, name, strlen(name), v, strlen(v), &err)) {
        fprintf(stderr, "bench_stix: %s=%s: %s\n", name, v, err.reason);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 500000;
    static const char *const types[] = {"vulnerable-system", "infected-system", "c2-server", "scanner",
                                        "phishing"};
    static const char *const ccs[] = {"NL", "DE", "CN", "MY", "BR", "US", "FR", "TH"};
    lia_event *evs;
    double best = 1e30;
    uint64_t objects = 0, bytes = 0;
    if (n == 0 || n > 50000000) {
        fprintf(stderr, "usage: bench_stix [EVENTS (1..50000000)]\n");
        return 2;
    }
    evs = calloc(n, sizeof *evs);
    if (!evs)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char v[256];
        lia_event *ev = &evs[i];
        uint32_t ipn = (i % 5 == 4 && i > 10) ? (uint32_t)(i - 1 - rnd(10)) : (uint32_t)i;
        lia_event_init(ev);
        if (i % 16 == 15) {
            snprintf(v, sizeof v, "2001:db8:%x::%x", ipn >> 16, ipn & 0xffff);
        } else {
            snprintf(v, sizeof v, "%u.%u.%u.%u", 1 + (ipn >> 24) % 223, (ipn >> 16) & 255, (ipn >> 8) & 255, ipn & 255);
        }
        if (set(ev, "source.ip", v))
            return 1;
        snprintf(v, sizeof v, "%u", 1 + rnd(65000));
        set(ev, "source.port", v);
        snprintf(v, sizeof v, "%u", 64496 + rnd(500));
        set(ev, "source.asn", v);
        set(ev, "source.geolocation.cc", ccs[rnd(8)]);
        set(ev, "classification.type", types[rnd(5)]);
        set(ev, "feed.name", "shadowserver-scan_bench");
        set(ev, "protocol.transport", "tcp");
        set(ev, "tlp", "AMBER");
        snprintf(v, sizeof v, "2024-05-%02uT%02u:%02u:%02uZ", 1 + rnd(28), rnd(24), rnd(60), rnd(60));
        set(ev, "time.source", v);
        set(ev, "time.observation", "2024-06-01T00:00:00Z");
        if (i % 4 == 1) {
            snprintf(v, sizeof v, "host%zu.example.net", i % 100000);
            set(ev, "source.fqdn", v);
        }
        if (i % 8 == 2) {
            snprintf(v, sizeof v, "http://host%zu.example.net/path/%zu?q=%u", i % 100000, i, rnd(1000));
            set(ev, "source.url", v);
        }
        ev->id = (int64_t)i + 1;
    }
    for (int run = 0; run < 3; run++) {
        lia_stix_export *x;
        lia_error err;
        lia_stix_opts o = {.producer = "CERT Bench", .now_us = 1717200000000000};
        double t0;
        bytes = 0;
        if (lia_stix_export_create(&o, count_sink, &bytes, &x, &err))
            return 1;
        t0 = now();
        for (size_t i = 0; i < n; i++)
            if (lia_stix_export_add(x, &evs[i], &err)) {
                fprintf(stderr, "bench_stix: %s\n", err.reason);
                return 1;
            }
        if (lia_stix_export_finish(x, &err))
            return 1;
        t0 = now() - t0;
        objects = lia_stix_export_objects(x);
        lia_stix_export_destroy(x);
        if (t0 < best)
            best = t0;
    }
    printf("stix export: %zu events -> %llu objects, %.1f MB in %.3f s (best of 3): "
           "%.0f events/s, %.0f objects/s, %.1f MB/s\n",
           n, (unsigned long long)objects, (double)bytes / 1e6, best, (double)n / best,
           (double)objects / best, (double)bytes / 1e6 / best);
    for (size_t i = 0; i < n; i++)
        lia_event_free(&evs[i]);
    free(evs);
    return 0;
}
