/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Query latency over a big store (issue 12 point 1, docs/performance.md
 * "Time partitions"): N pages of at most 1,000 events (lia_store_query,
 * bodies decoded as every caller gets them) for each of four filters, with
 * random values in the space bench_pipeline gen draws from (BENCH_SEED
 * days for the time ranges):
 *
 *   cidr   a /16 of the generator's networks
 *   cc     one of its 36 countries
 *   asn    one of its ASNs
 *   time   one hour of one of the DAYS days (day 0 = 2026-01-01)
 *
 * Prints p50, p99 and max in milliseconds, and the events returned.
 * Usage: bench_query DB DAYS [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/liaison.h"

static uint64_t rng = 0x243F6A8885A308D3ULL;
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

static int count_cb(void *ud, const lia_event *ev)
{
    (void)ev;
    (*(uint64_t *)ud)++;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const char *const kinds[] = {"cidr", "cc", "asn", "time"};
    lia_store *s;
    lia_error err;
    int days, n;
    if (argc < 3 || (days = (int)strtol(argv[2], NULL, 10)) < 1) {
        fprintf(stderr, "usage: bench_query DB DAYS [N]\n");
        return 2;
    }
    n = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 200;
    if (n < 1 || n > 100000 || lia_store_open(argv[1], &s, &err)) {
        fprintf(stderr, "bench_query: cannot open %s\n", argv[1]);
        return 1;
    }
    for (int k = 0; k < 4; k++) {
        double *ms = calloc((size_t)n, sizeof *ms);
        uint64_t got = 0;
        if (!ms)
            return 1;
        for (int i = 0; i < n; i++) {
            lia_query q;
            uint32_t net = rnd(20000);
            const char *why;
            double t0;
            memset(&q, 0, sizeof q);
            q.limit = 1000;
            if (k == 0) {
                char cidr[32];
                snprintf(cidr, sizeof cidr, "%u.%u.0.0/16", 1 + net % 223, net / 223 % 256);
                q.has_ip = 1;
                if (lia_parse_cidr(cidr, strlen(cidr), &q.ip, &why))
                    return 1;
            } else if (k == 1) {
                memcpy(q.cc, ccs[rnd(sizeof ccs / sizeof *ccs)], 3);
            } else if (k == 2) {
                q.asn = 1000 + net % 60000;
            } else {
                q.since_us = (1767225600LL + 86400LL * rnd((uint32_t)days) + 3600LL * rnd(24)) * 1000000;
                q.until_us = q.since_us + 3600LL * 1000000;
            }
            t0 = now();
            if (lia_store_query(s, &q, count_cb, &got, &err)) {
                fprintf(stderr, "bench_query: %s\n", err.reason);
                return 1;
            }
            ms[i] = (now() - t0) * 1e3;
        }
        qsort(ms, (size_t)n, sizeof *ms, cmp);
        printf("%-5s %d pages of <= 1000: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%.0f events a page)\n",
               kinds[k], n, ms[n / 2], ms[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], ms[n - 1],
               (double)got / n);
        free(ms);
    }
    lia_store_close(s);
    return 0;
}
