/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the route decision, in memory, one core.
 *
 *   bench_route [MILLION_EVENTS]     (default 10)
 *
 * Builds (seeded, so every run is the same) a national-size directory:
 * 20,000 owners holding 100,000 IPv4 prefixes (/14 to /28, some nested
 * inside others), 2,000 IPv6 prefixes, 20,000 ASNs and 20,000 domains; 200
 * partner CERTs covering 150 countries; a rules file of 8 rules (country,
 * CIDR, type, sector, feed, TLP). Then one batch (LIA_BATCH = 4096) of distinct events (60 % inside a
 * constituent's prefix, 10 % only by ASN, the rest foreign or unknown, TLP
 * mixed) are routed round-robin: lia_route_event() with the TLP policy for
 * every candidate, best of 3 runs. Also timed alone: the owner lookup
 * (longest-prefix match, then ASN). Figures: docs/performance.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/liaison.h"
#include "route/internal.h"

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

#define NOWNERS   20000
#define NV4       100000
#define NPARTNERS 200
#define NEVENTS   LIA_BATCH /* one pipeline batch, as the route stage sees it */

static const char *const rules =
    "home_country: CN\n"
    "mode: first\n"
    "rules:\n"
    "  - name: drop-spam-abroad\n    type: [spam]\n    country: [foreign]\n    to: [drop]\n"
    "  - name: ics\n    sector: [ics]\n    to: [default, partner:p-0]\n"
    "  - name: phish-feed\n    feed: [phish]\n    tlp: [CLEAR, GREEN]\n    to: [owner, partner]\n"
    "  - name: lab\n    cidr: [10.0.0.0/8, 172.16.0.0/12]\n    to: [owner:o-1]\n"
    "  - name: big-asn\n    asn: [64500, 64501, 64502]\n    to: [owner:o-2]\n"
    "  - name: malware\n    taxonomy: [malicious-code]\n    country: [home]\n    to: [default]\n"
    "  - name: red\n    tlp: [RED]\n    to: [default]\n"
    "  - name: th\n    country: [TH]\n    to: [partner, partner:p-1]\n";

static void cc_of(uint32_t i, char cc[3])
{
    cc[0] = (char)('A' + (i / 26) % 26);
    cc[1] = (char)('A' + i % 26);
    cc[2] = '\0';
}

int main(int argc, char **argv)
{
    double mev = argc > 1 ? strtod(argv[1], NULL) : 10.0;
    uint64_t total = (uint64_t)(mev * 1e6);
    lia_party *p = calloc(NOWNERS + NPARTNERS, sizeof *p);
    lia_event *ev = calloc(NEVENTS, sizeof *ev);
    uint32_t *v4base = calloc(NV4, sizeof *v4base);
    uint64_t *seen = calloc(1u << 20, sizeof *seen);
    lia_route *rt = NULL;
    lia_error err;
    char tmp[128];
    double best = 1e9, bestl = 1e9, t0;
    uint64_t sink = 0;
    if (!p || !ev || !v4base || !seen || total == 0)
        return 1;
    lia_error_clear(&err);
    for (uint32_t i = 0; i < NOWNERS; i++) {
        lia_party_init(&p[i], LIA_PARTY_OWNER);
        snprintf(tmp, sizeof tmp, "o-%u", i);
        lia_party_set_id(&p[i], tmp, strlen(tmp), NULL);
        snprintf(tmp, sizeof tmp, "%u", 100000 + i);
        lia_party_add(&p[i], LIA_PF_ASNS, tmp, strlen(tmp), 0, NULL);
        snprintf(tmp, sizeof tmp, "org%u.example", i);
        lia_party_add(&p[i], LIA_PF_DOMAINS, tmp, strlen(tmp), 0, NULL);
        snprintf(tmp, sizeof tmp, "abuse@org%u.example", i);
        lia_party_add(&p[i], LIA_PF_CONTACTS, tmp, strlen(tmp), 0, NULL);
        if (i < 2000) {
            snprintf(tmp, sizeof tmp, "2001:db8:%x::/48", i);
            lia_party_add(&p[i], LIA_PF_CIDRS, tmp, strlen(tmp), 0, NULL);
        }
    }
    /* 100,000 distinct IPv4 prefixes; one in 8 nested inside an earlier one */
    for (uint32_t k = 0; k < NV4; k++) {
        uint32_t len, a;
        int32_t o = (int32_t)rnd(NOWNERS);
        if (k > 0 && rnd(8) == 0) {
            len = 28;
            a = v4base[rnd(k)] | (rnd(256) << 4);
        } else {
            len = 14 + rnd(11);
            a = (1u + rnd(222)) << 24 | rnd(1u << 24);
        }
        a &= 0xFFFFFFFFu << (32 - len);
        {
            /* skip a prefix already taken (two owners may not claim one) */
            uint64_t key = (uint64_t)a << 8 | len, h = (key * 0x9E3779B97F4A7C15ULL) >> 44;
            while (seen[h] && seen[h] != key + 1)
                h = (h + 1) & ((1u << 20) - 1);
            if (seen[h]) {
                k--;
                continue;
            }
            seen[h] = key + 1;
        }
        v4base[k] = a;
        snprintf(tmp, sizeof tmp, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len);
        lia_party_add(&p[o], LIA_PF_CIDRS, tmp, strlen(tmp), 0, NULL);
    }
    for (uint32_t i = 0; i < NPARTNERS; i++) {
        lia_party *q = &p[NOWNERS + i];
        char cc[3];
        lia_party_init(q, LIA_PARTY_PARTNER);
        snprintf(tmp, sizeof tmp, "p-%u", i);
        lia_party_set_id(q, tmp, strlen(tmp), NULL);
        cc_of(i % 150 + 2, cc);
        lia_party_add(q, LIA_PF_COUNTRIES, cc, 2, 0, NULL);
        snprintf(tmp, sizeof tmp, "cert@p%u.example", i);
        lia_party_add(q, LIA_PF_CONTACTS, tmp, strlen(tmp), 0, NULL);
        lia_party_add(q, LIA_PF_AGREEMENT, i % 5 ? "true" : "false", i % 5 ? 4 : 5, 0, NULL);
        lia_party_add(q, LIA_PF_TLP_MAX, i % 3 ? "AMBER" : "GREEN", i % 3 ? 5 : 5, 0, NULL);
    }
    t0 = now();
    /* home country "CN" is cc_of(2*26+13) = "CN": make sure it is not a partner's */
    if (lia__route_create(p, NOWNERS + NPARTNERS, rules, strlen(rules), &rt, &err) != LIA_OK) {
        fprintf(stderr, "bench_route: %s (%s)\n", err.reason, err.value);
        return 1;
    }
    printf("directory: %u owners, %u IPv4 + 2000 IPv6 prefixes, %u ASNs, %u domains, %u partners; "
           "built in %.0f ms\n",
           NOWNERS, NV4, NOWNERS, NOWNERS, NPARTNERS, (now() - t0) * 1e3);
    {
        static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER", "AMBER+STRICT", "RED"};
        static const char *const types[] = {"scanner", "infected-system", "vulnerable-system", "spam",
                                            "phishing"};
        static const char *const feeds[] = {"shadowserver", "phish", "partner"};
        for (uint32_t i = 0; i < NEVENTS; i++) {
            uint32_t r = rnd(100), a;
            char cc[3];
            lia_event_init(&ev[i]);
            if (r < 60) { /* inside a constituent prefix */
                a = v4base[rnd(NV4)] | rnd(16);
                memcpy(cc, "CN", 3);
            } else {
                a = (1u + rnd(222)) << 24 | rnd(1u << 24);
                if (r < 70) {
                    snprintf(tmp, sizeof tmp, "%u", 100000 + rnd(NOWNERS));
                    lia_event_set(&ev[i], LIA_F_SOURCE_ASN, tmp, strlen(tmp), NULL);
                    memcpy(cc, "CN", 3);
                } else {
                    cc_of(rnd(200), cc);
                }
            }
            snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
            lia_event_set(&ev[i], LIA_F_SOURCE_IP, tmp, strlen(tmp), NULL);
            if (lia_event_set(&ev[i], LIA_F_SOURCE_GEOLOCATION_CC, cc, 2, NULL) != LIA_OK)
                lia_event_set(&ev[i], LIA_F_SOURCE_GEOLOCATION_CC, "XA", 2, NULL);
            {
                const char *t = tlps[rnd(6)];
                lia_event_set(&ev[i], LIA_F_TLP, t, strlen(t), NULL);
            }
            {
                const char *t = types[rnd(5)];
                lia_event_set(&ev[i], LIA_F_CLASSIFICATION_TYPE, t, strlen(t), NULL);
                t = feeds[rnd(3)];
                lia_event_set(&ev[i], LIA_F_FEED_NAME, t, strlen(t), NULL);
            }
            if (rnd(10) == 0)
                lia_event_extra_str(&ev[i], "sector", 6, "ics", 3, NULL);
            lia_event_finish(&ev[i], NULL);
        }
    }
    for (int run = 0; run < 3; run++) {
        double t;
        uint64_t routed[5] = {0};
        t0 = now();
        for (uint64_t i = 0; i < total; i++) {
            lia_decision d[LIA_ROUTE_MAX_DECISIONS];
            size_t n = lia_route_event(rt, &ev[i & (NEVENTS - 1)], d);
            routed[d[0].verdict]++;
            sink += n;
        }
        t = now() - t0;
        if (t < best)
            best = t;
        if (run == 0)
            printf("verdict of the first candidate: deliver %.1f%%, deny %.1f%%, unrouted %.1f%%, dropped "
                   "%.1f%%\n",
                   100.0 * (double)routed[LIA_DELIVER] / (double)total,
                   100.0 * (double)routed[LIA_DENY] / (double)total,
                   100.0 * (double)routed[LIA_UNROUTED] / (double)total,
                   100.0 * (double)routed[LIA_DROPPED] / (double)total);
        t0 = now();
        for (uint64_t i = 0; i < total; i++)
            sink += (uint64_t)(lia_route_owner(rt, &ev[i & (NEVENTS - 1)], NULL) + 1);
        t = now() - t0;
        if (t < bestl)
            bestl = t;
    }
    printf("route decision: %.1f M events/s (%.0f ns/event), best of 3, %.0f M events\n",
           (double)total / best / 1e6, best * 1e9 / (double)total, (double)total / 1e6);
    printf("owner lookup alone: %.1f M lookups/s (%.0f ns/lookup)\n", (double)total / bestl / 1e6,
           bestl * 1e9 / (double)total);
    fprintf(stderr, "(checksum %llu)\n", (unsigned long long)sink);
    for (uint32_t i = 0; i < NEVENTS; i++)
        lia_event_free(&ev[i]);
    for (uint32_t i = 0; i < NOWNERS + NPARTNERS; i++)
        lia_party_free(&p[i]);
    lia_route_destroy(rt);
    free(ev);
    free(p);
    free(v4base);
    free(seen);
    return 0;
}
