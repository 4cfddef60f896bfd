/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII object pages on a big collection.
 *
 *   bench_taxii gen DB N       bulk-load N STIX indicators into collection
 *                              bench/big of store DB, create an admin API key
 *                              (DB.key) and DB.paths: request paths for pages
 *                              of 1,000 objects starting at 1,000 positions
 *                              spread over the whole collection (next tokens)
 *   bench_taxii query DB [K]   in-process: K pages of 1,000 at those positions,
 *                              p50/p99 latency (no HTTP)
 *
 * The HTTP figures come from bench/taxii.sh (wrk against `liaison serve`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/liaison.h"
#include "liaison/taxii.h"
#include "http/parse.h"
#include "taxii/taxii_internal.h"

#define BASE_US 1600000000000000LL /* 2020-09-13: first date_added */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const lia_error *e)
{
    char m[1024];
    lia_error_format(e, m, sizeof m);
    fprintf(stderr, "bench_taxii: %s\n", m);
    return 1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int gen(const char *db, uint64_t n)
{
    lia_store *s;
    lia_error e;
    lia_taxii_collection c;
    lia_taxii_bulk *b;
    char path[1024], body[1024], id[96], vt[32], tok[LIA_KEY_TOKEN_MAX];
    lia_error_clear(&e);
    if (lia_store_open(db, &s, &e) || lia_taxii_init(s, &e))
        return die(&e);
    if (lia__taxii_collection_get(s, "bench", "big", &c, &e) == LIA_OK) {
        fprintf(stderr, "bench_taxii: %s already has bench/big; remove it first\n", db);
        return 1;
    }
    lia_error_clear(&e);
    lia_taxii_collection_defaults(&c);
    snprintf(c.api_root, sizeof c.api_root, "bench");
    snprintf(c.id, sizeof c.id, "big");
    snprintf(c.title, sizeof c.title, "10M objects");
    if (lia_taxii_api_root_add(s, "bench", "Benchmark", NULL, 0, &e) || lia_taxii_collection_add(s, &c, &e))
        return die(&e);
    if (lia_accounts_org_add(s, "bench-own", LIA_ORG_OWN, LIA_TLP_AMBER_STRICT, NULL, &e) ||
        lia_accounts_user_add(s, "bench-own", "bench", LIA_ROLE_ADMIN, NULL, NULL, &e) ||
        lia_accounts_key_add(s, "bench", 1e9, 1e9, tok, NULL, &e))
        return die(&e);
    snprintf(path, sizeof path, "%s.key", db);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "%s\n", tok);
    fclose(f);
    double t0 = now_s();
    if (lia__taxii_bulk_begin(s, c.rowid, &b, &e))
        return die(&e);
    for (uint64_t i = 0; i < n; i++) {
        int64_t da = BASE_US + (int64_t)i * 1000; /* one object per ms */
        int tlp = (int)(i % 4);                   /* CLEAR .. AMBER+STRICT */
        lia__stix_time_format(da - 5000000, vt);
        snprintf(id, sizeof id, "indicator--%08llx-0000-4000-8000-%012llx", (unsigned long long)(i >> 24),
                 (unsigned long long)(i * 2654435761u % 1000000000000ull));
        int bl = snprintf(body, sizeof body,
                          "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                          "\"created\":\"%s\",\"modified\":\"%s\",\"name\":\"bench %llu\","
                          "\"pattern\":\"[ipv4-addr:value = '10.%u.%u.%u']\","
                          "\"pattern_type\":\"stix\",\"valid_from\":\"%s\"}",
                          id, vt, vt, (unsigned long long)i, (unsigned)(i >> 16) & 255,
                          (unsigned)(i >> 8) & 255, (unsigned)i & 255, vt);
        if (lia__taxii_bulk_add(b, id, "indicator", da - 5000000, da, tlp, body, (size_t)bl, &e))
            return die(&e);
        if ((i + 1) % 1000000 == 0)
            fprintf(stderr, "  %llu objects, %.0f/s\n", (unsigned long long)(i + 1),
                    (double)(i + 1) / (now_s() - t0));
    }
    if (lia__taxii_bulk_end(b, &e))
        return die(&e);
    double t1 = now_s();
    /* paths: pages starting at 1000 positions spread over the collection */
    lia_taxii_filter flt;
    lia__taxii_filter_init(&flt);
    snprintf(path, sizeof path, "%s.paths", db);
    if (!(f = fopen(path, "w")))
        return 1;
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t pos = n > 2000 ? (k * (n - 2000)) / 1000 : 0;
        char next[LIA_TAXII_NEXT_MAX];
        if (k == 0) {
            fprintf(f, "/bench/collections/big/objects/?limit=1000\n");
            continue;
        }
        /* row pos has seq pos + 1 and date_added BASE + pos ms in a fresh store */
        lia__taxii_next_for(&c, LIA_TAXII_OBJECTS, NULL, &flt, BASE_US + (int64_t)pos * 1000,
                            (int64_t)pos + 1, next);
        fprintf(f, "/bench/collections/big/objects/?limit=1000&next=%s\n", next);
    }
    fclose(f);
    lia_store_close(s);
    printf("loaded %llu objects in %.1f s (%.0f objects/s); key in %s.key, paths in %s.paths\n",
           (unsigned long long)n, t1 - t0, (double)n / (t1 - t0), db, db);
    return 0;
}

static int query(const char *db, int k)
{
    lia_store *s;
    lia_error e;
    lia_taxii_collection c;
    char path[1024], line[256];
    lia_buf out;
    double *lat;
    int n = 0;
    lia_error_clear(&e);
    if (lia_store_open(db, &s, &e) || lia_taxii_init(s, &e) ||
        lia__taxii_collection_get(s, "bench", "big", &c, &e))
        return die(&e);
    snprintf(path, sizeof path, "%s.paths", db);
    FILE *f = fopen(path, "r");
    if (!f || !(lat = calloc((size_t)k, sizeof *lat)))
        return 1;
    lia_buf_init(&out, 64u << 20);
    lia_taxii_reader rd = {0, LIA_TLP_AMBER_STRICT, 0};
    size_t bytes = 0, objects = 0;
    double t0 = now_s();
    while (n < k) {
        if (!fgets(line, sizeof line, f)) {
            rewind(f);
            continue;
        }
        lia_taxii_filter flt;
        const char *why;
        lia__taxii_filter_init(&flt);
        lia__taxii_filter_param(&flt, "limit", "1000", &why);
        char *nx = strstr(line, "next=");
        if (nx) {
            nx[5 + strcspn(nx + 5, "\r\n")] = '\0';
            if (lia__taxii_filter_param(&flt, "next", nx + 5, &why))
                return 1;
        }
        lia_taxii_page pg;
        lia_buf_reset(&out);
        double a = now_s();
        if (lia__taxii_query(s, &c, LIA_TAXII_OBJECTS, NULL, &flt, &rd, &out, &pg, &e))
            return die(&e);
        lat[n++] = now_s() - a;
        bytes += out.len;
        objects += pg.count;
    }
    double t1 = now_s();
    qsort(lat, (size_t)n, sizeof *lat, cmp_d);
    printf("%d pages in-process: %.0f pages/s, %.0f objects/s, %.1f MB/s; latency p50 %.2f ms, "
           "p99 %.2f ms, max %.2f ms\n",
           n, n / (t1 - t0), (double)objects / (t1 - t0), (double)bytes / 1e6 / (t1 - t0), lat[n / 2] * 1e3,
           lat[(n * 99) / 100] * 1e3, lat[n - 1] * 1e3);
    fclose(f);
    free(lat);
    lia_buf_free(&out);
    lia_store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], strtoull(argv[3], NULL, 10));
    if (argc >= 3 && strcmp(argv[1], "query") == 0)
        return query(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2000);
    fprintf(stderr, "usage: bench_taxii gen DB N | query DB [PAGES]\n");
    return 2;
}
