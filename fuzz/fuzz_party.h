/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Shared body of fuzz_owners and fuzz_partners: the first byte picks CSV or
 * YAML (first byte 'c': CSV, else YAML); every party parsed must export (YAML and CSV) to text that parses
 * back to the same number of parties with the same ids; then the whole set
 * builds a routing snapshot or fails with an error, never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "route/internal.h"

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

typedef struct fz {
    int kind;
    lia_party *p;
    size_t n;
    lia_buf yaml, csv;
} fz;

static int fz_collect(void *ud, const lia_party *p)
{
    fz *z = ud;
    lia_party *np = realloc(z->p, (z->n + 1) * sizeof *np);
    if (!np)
        return LIA_ENOMEM;
    z->p = np;
    lia_party_init(&z->p[z->n], p->kind);
    memcpy(z->p[z->n].id, p->id, sizeof p->id);
    for (int f = 0; f < LIA_PF__COUNT; f++)
        for (size_t i = 0; i < p->f[f].n; i++)
            CHECK(lia_party_add(&z->p[z->n], f, p->f[f].v[i], strlen(p->f[f].v[i]), 0, NULL) == LIA_OK);
    /* every stored channel is one the delivery can use */
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++) {
        lia_channel ch;
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        CHECK(lia__channel_parse(p->id, v, strlen(v), &ch, NULL) == LIA_OK);
        CHECK(ch.kind != LIA_CHANNEL_TAXII || (ch.api_root[0] && ch.collection[0]));
    }
    z->n++;
    lia_party_to_yaml(p, &z->yaml);
    lia__party_to_csv(p, &z->csv);
    return 0;
}

typedef struct cnt {
    size_t n;
    const fz *z;
} cnt;

static int fz_count(void *ud, const lia_party *p)
{
    cnt *c = ud;
    CHECK(c->n < c->z->n);
    CHECK(strcmp(p->id, c->z->p[c->n].id) == 0);
    for (int f = 0; f < LIA_PF__COUNT; f++)
        CHECK(p->f[f].n == c->z->p[c->n].f[f].n);
    c->n++;
    return 0;
}

static int fz_run(int kind, const uint8_t *data, size_t size)
{
    fz z;
    lia_error err;
    const char *fmt;
    int rc;
    if (size < 1)
        return 0;
    memset(&z, 0, sizeof z);
    z.kind = kind;
    lia_buf_init(&z.yaml, 64u << 20);
    lia_buf_init(&z.csv, 64u << 20);
    lia_buf_printf(&z.yaml, "%s:\n", kind == LIA_PARTY_OWNER ? "owners" : "partners");
    lia__party_csv_header(kind, &z.csv);
    fmt = data[0] == 'c' ? "csv" : "yaml";
    lia_error_clear(&err);
    rc = lia__party_parse(kind, fmt, (const char *)data + 1, size - 1, fz_collect, &z, &err);
    if (rc == LIA_OK && z.n && !z.yaml.err && !z.csv.err) {
        cnt c = {0, &z};
        CHECK(lia__party_parse(kind, "yaml", z.yaml.ptr, z.yaml.len, fz_count, &c, &err) == LIA_OK);
        CHECK(c.n == z.n);
        c.n = 0;
        CHECK(lia__party_parse(kind, "csv", z.csv.ptr, z.csv.len, fz_count, &c, &err) == LIA_OK);
        CHECK(c.n == z.n);
        {
            lia_route *rt = NULL;
            if (lia__route_create(z.p, z.n, NULL, 0, &rt, &err) == LIA_OK)
                lia_route_destroy(rt);
        }
    } else if (rc != LIA_OK) {
        CHECK(err.code != LIA_OK);
    }
    for (size_t i = 0; i < z.n; i++)
        lia_party_free(&z.p[i]);
    free(z.p);
    lia_buf_free(&z.yaml);
    lia_buf_free(&z.csv);
    return 0;
}
