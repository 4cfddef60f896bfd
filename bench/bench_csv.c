/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the CSV splitter, optionally against libcsv.
 *
 *   bench_csv [MB]        (default 200)
 *
 * Generates MB megabytes of Shadowserver-like rows in memory (seeded, so
 * every run splits the same bytes) in two shapes:
 *   plain:  ~200-byte rows, 20-40 unquoted fields, one row in 8 with a
 *           quoted field holding a comma or a doubled quote;
 *   quoted: rows as Shadowserver really writes them, every text field in
 *           quotes, numbers bare (see IntelMQ's shadowserver testdata).
 * Each is split in LIA_READ_CHUNK chunks, best of 3 runs, and the callback
 * touches every field. With libcsv (HAVE_LIBCSV), the same bytes go through
 * csv_parse (strict, no space trimming) and the ratio ours/libcsv is printed;
 * both are measured in the same run, as machines here are noisy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/csv.h"
#include "liaison/error.h"
#include "liaison/limits.h"
#include "liaison/slice.h"

#ifdef HAVE_LIBCSV
#include <csv.h>
#endif

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static void put_word(lia_buf *b, uint32_t n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789.-";
    for (uint32_t i = 0; i < n; i++)
        lia_buf_putc(b, al[rnd(sizeof al - 1)]);
}

/* One row of about 200 bytes. */
static void gen_row(lia_buf *b, int quoted_style)
{
    uint32_t nf = 20 + rnd(21);
    size_t start = b->len;
    for (uint32_t f = 0; f < nf; f++) {
        uint32_t kind = rnd(10);
        if (f)
            lia_buf_putc(b, ',');
        if (f == 0) {
            lia_buf_printf(b, quoted_style ? "\"2024-%02u-%02u %02u:%02u:%02u\"" :
                                             "2024-%02u-%02u %02u:%02u:%02u",
                           1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60));
        } else if (f == 1) {
            lia_buf_printf(b, quoted_style ? "\"%u.%u.%u.%u\"" : "%u.%u.%u.%u", rnd(256),
                           rnd(256), rnd(256), rnd(256));
        } else if (kind < 3) {
            /* empty */
        } else if (kind < 6) {
            lia_buf_printf(b, "%u", rnd(70000));
        } else if (quoted_style) {
            lia_buf_putc(b, '"');
            put_word(b, 1 + rnd(6));
            lia_buf_putc(b, '"');
        } else {
            put_word(b, 1 + rnd(6));
        }
    }
    if (!quoted_style && rnd(8) == 0)
        lia_buf_puts(b, rnd(2) ? ",\"Mozilla/5.0 (X11, Linux)\"" : ",\"say \"\"hi\"\"\"");
    (void)start;
    lia_buf_putc(b, '\n');
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct count {
    uint64_t rows, fields, bytes, errs;
} count;

static int on_row(void *ud, const lia_csv_row *r)
{
    count *c = ud;
    c->rows++;
    c->fields += r->nfields;
    c->errs += r->err != 0;
    for (size_t i = 0; i < r->nfields; i++)
        c->bytes += r->fields[i].len + (r->fields[i].len ? (unsigned char)r->fields[i].ptr[0] : 0);
    return 0;
}

static double run_ours(const char *data, size_t len, count *cnt)
{
    lia_csv *c = NULL;
    double t0, t;
    if (lia_csv_create(NULL, &c) != LIA_OK)
        abort();
    memset(cnt, 0, sizeof *cnt);
    t0 = now();
    for (size_t at = 0; at < len; at += LIA_READ_CHUNK) {
        size_t n = len - at < LIA_READ_CHUNK ? len - at : LIA_READ_CHUNK;
        if (lia_csv_feed(c, data + at, n, on_row, cnt) != LIA_OK)
            abort();
    }
    if (lia_csv_finish(c, on_row, cnt) != LIA_OK)
        abort();
    t = now() - t0;
    lia_csv_destroy(c);
    return t;
}

#ifdef HAVE_LIBCSV
static void lc_field(void *s, size_t len, void *ud)
{
    count *c = ud;
    c->fields++;
    c->bytes += len + (len ? *(unsigned char *)s : 0);
}

static void lc_row(int ch, void *ud)
{
    count *c = ud;
    (void)ch;
    c->rows++;
}

static int no_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

static double run_libcsv(const char *data, size_t len, count *cnt)
{
    struct csv_parser p;
    double t0, t;
    memset(cnt, 0, sizeof *cnt);
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        abort();
    csv_set_space_func(&p, no_space);
    t0 = now();
    for (size_t at = 0; at < len; at += LIA_READ_CHUNK) {
        size_t n = len - at < LIA_READ_CHUNK ? len - at : LIA_READ_CHUNK;
        if (csv_parse(&p, data + at, n, lc_field, lc_row, cnt) != n)
            abort();
    }
    csv_fini(&p, lc_field, lc_row, cnt);
    t = now() - t0;
    csv_free(&p);
    return t;
}
#endif

static void bench(const char *name, int quoted_style, size_t mb)
{
    lia_buf b;
    count ours, theirs;
    double best = 1e9, t;
    lia_buf_init(&b, (mb << 20) + 4096);
    while (b.len < (mb << 20) - 512)
        gen_row(&b, quoted_style);
    if (b.err) {
        fprintf(stderr, "bench_csv: cannot generate %zu MB\n", mb);
        exit(1);
    }
    for (int i = 0; i < 3; i++)
        if ((t = run_ours(b.ptr, b.len, &ours)) < best)
            best = t;
    printf("%-7s lia_csv: %8.1f MB/s %6.2f Mrows/s (%llu rows, %.1f fields/row, %.0f B/row)\n",
           name, (double)b.len / 1e6 / best, (double)ours.rows / 1e6 / best,
           (unsigned long long)ours.rows, (double)ours.fields / (double)ours.rows,
           (double)b.len / (double)ours.rows);
#ifdef HAVE_LIBCSV
    {
        double lbest = 1e9;
        for (int i = 0; i < 3; i++)
            if ((t = run_libcsv(b.ptr, b.len, &theirs)) < lbest)
                lbest = t;
        printf("%-7s libcsv:  %8.1f MB/s %6.2f Mrows/s  ratio ours/libcsv %.2fx%s\n", name,
               (double)b.len / 1e6 / lbest, (double)theirs.rows / 1e6 / lbest, lbest / best,
               theirs.rows == ours.rows && theirs.fields == ours.fields &&
                       theirs.bytes == ours.bytes
                   ? ""
                   : "  (OUTPUTS DIFFER)");
    }
#else
    (void)theirs;
#endif
    lia_buf_free(&b);
}

int main(int argc, char **argv)
{
    size_t mb = 200;
    if (argc > 1) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);
        if (*end || v == 0 || v > 4096) {
            fprintf(stderr, "usage: bench_csv [MB]\n");
            return 2;
        }
        mb = v;
    }
    bench("plain", 0, mb);
    bench("quoted", 1, mb);
    return 0;
}
