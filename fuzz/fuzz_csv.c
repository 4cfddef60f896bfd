/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the CSV splitter.
 *
 * Input layout: byte 0 picks options, bytes 1-4 seed the chunk sizes, the
 * rest is the CSV. The CSV is split once in one chunk and once in chunks of
 * pseudo-random sizes (1 byte to a few hundred); the two outputs, raw bytes,
 * line numbers and errors included, must be identical. Every row is checked
 * against the limits, and every field and raw byte is read (so ASan sees any
 * slice that points outside its buffer; chunks are exact-size copies). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/csv.h"
#include "liaison/error.h"
#include "liaison/slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    lia_buf out;
    const lia_csv_opts *o;
    uint64_t last_line;
} run;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_csv: %s\n", what);
        abort();
    }
}

static int on_row(void *ud, const lia_csv_row *r)
{
    run *s = ud;
    check(r->fields != NULL, "fields NULL");
    check(r->raw.ptr != NULL, "raw NULL");
    check(r->nfields <= s->o->max_fields, "nfields > max_fields");
    check(r->raw.len <= s->o->max_row, "raw > max_row");
    check(r->line >= 1 && r->nlines >= 1, "line numbers");
    check(r->line > s->last_line, "line not increasing");
    s->last_line = r->line + r->nlines - 1;
    check(r->err <= 0, "err > 0");
    check((r->err == 0) == (r->why == NULL), "err and why disagree");
    if (r->err == 0)
        check(r->nfields >= 1, "good record without fields");
    lia_buf_printf(&s->out, "%llu+%llu %d %s|", (unsigned long long)r->line,
                   (unsigned long long)r->nlines, r->err, r->why ? r->why : "");
    for (size_t i = 0, sum = 0; i < r->nfields; i++) {
        check(r->fields[i].ptr != NULL, "field NULL");
        check(r->fields[i].len <= s->o->max_field, "field > max_field");
        sum += r->fields[i].len;
        check(sum <= r->raw.len, "fields longer than raw");
        lia_buf_printf(&s->out, "%zu:", r->fields[i].len);
        lia_buf_append(&s->out, r->fields[i].ptr, r->fields[i].len);
    }
    lia_buf_printf(&s->out, "|%zu:", r->raw.len);
    lia_buf_append(&s->out, r->raw.ptr, r->raw.len);
    lia_buf_putc(&s->out, '\n');
    return 0;
}

static void opts_from(uint8_t b, lia_csv_opts *o)
{
    static const char delims[] = {',', ';', '\t', '|'};
    lia_csv_opts_default(o);
    o->delim = delims[b & 3];
    if (b & 4)
        o->comment = '#';
    if (b & 8)
        o->skip_blank = 0;
    if (b & 16)
        o->quote = '\0';
    if (b & 32) { /* small limits, so that they are hit */
        o->max_field = 1 + (b >> 6) * 5;
        o->max_row = 2 + (b >> 6) * 11;
        o->max_fields = 1 + (b >> 6);
    }
}

static void split(const lia_csv_opts *o, const uint8_t *in, size_t len, uint32_t seed,
                  lia_buf *out)
{
    lia_csv *c = NULL;
    run s = {.o = o};
    size_t at = 0;
    lia_buf_init(&s.out, (size_t)1 << 30);
    check(lia_csv_create(o, &c) == LIA_OK, "create");
    while (at < len) {
        size_t n = len - at;
        char *copy;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + ((seed >> 16) % ((seed & 0x10000) ? 7 : 301));
            if (n > len - at)
                n = len - at;
        }
        copy = malloc(n);
        check(copy != NULL, "malloc");
        memcpy(copy, in + at, n);
        check(lia_csv_feed(c, copy, n, on_row, &s) == LIA_OK, "feed");
        free(copy);
        at += n;
    }
    check(lia_csv_finish(c, on_row, &s) == LIA_OK, "finish");
    lia_csv_destroy(c);
    check(s.out.err == 0, "output buffer");
    *out = s.out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_csv_opts o;
    lia_buf one, many;
    uint32_t seed;
    if (size < 5)
        return 0;
    opts_from(data[0], &o);
    seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
           (uint32_t)data[4] << 24;
    seed |= 1; /* never 0: 0 means one chunk */
    split(&o, data + 5, size - 5, 0, &one);
    split(&o, data + 5, size - 5, seed, &many);
    if (one.len != many.len || (one.len && memcmp(one.ptr, many.ptr, one.len) != 0)) {
        fprintf(stderr, "--- one chunk\n%.*s--- chunked\n%.*s", (int)one.len,
                lia_buf_cstr(&one), (int)many.len, lia_buf_cstr(&many));
        abort();
    }
    lia_buf_free(&one);
    lia_buf_free(&many);
    return 0;
}
