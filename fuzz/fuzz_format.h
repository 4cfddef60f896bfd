/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Shared body of the format fuzzers (stix, misp, iodef): run the format over
 * the input once in one chunk and once in chunks of pseudo-random sizes; both
 * runs must give the same records and the same outcome for each (event JSON,
 * "not an event", or an error with a reason). Every record's raw bytes are
 * read so ASan sees a slice that points outside its buffer. */
#ifndef LIA_FUZZ_FORMAT_H
#define LIA_FUZZ_FORMAT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "core/records.h"

static void fz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz format: %s\n", what);
        abort();
    }
}

static void fz_records(const lia_format *f, void *st, lia_records *rs, lia_buf *out, lia_event *ev)
{
    for (size_t i = 0; i < rs->n; i++) {
        const lia_record *r = &rs->rec[i];
        lia_error err;
        int rc;
        unsigned sum = 0;
        for (size_t k = 0; k < r->raw.len; k++)
            sum += (unsigned char)r->raw.ptr[k];
        lia_buf_printf(out, "%llu:%zu:%u:", (unsigned long long)r->line, r->raw.len, sum);
        if (r->err) {
            fz_check(r->why != NULL, "error record without a reason");
            lia_buf_printf(out, "E%d %s\n", r->err, r->why);
            continue;
        }
        lia_event_reset(ev);
        lia_error_clear(&err);
        rc = f->normalise(st, rs, r, ev, &err);
        if (rc == LIA_OK)
            rc = lia_event_finish(ev, &err);
        if (rc == LIA_OK) {
            lia_event_to_json(ev, out);
            lia_buf_putc(out, '\n');
        } else if (rc == LIA_ENOTFOUND) {
            lia_buf_puts(out, "-\n");
        } else {
            fz_check(rc < 0, "positive return code");
            fz_check(err.code != LIA_OK && err.reason[0] != '\0', "error without a reason");
            lia_buf_printf(out, "Q%d %s\n", rc, err.reason);
        }
    }
}

/* chunked: 0 = one chunk; else the chunk sizes come from seed. */
static void fz_run(const char *name, const uint8_t *data, size_t size, uint32_t seed, int chunked,
                   lia_buf *out)
{
    const lia_format *f = lia_format_find(name);
    lia_feed_opts fo;
    lia_records rs;
    lia_error err;
    lia_event ev;
    void *st = NULL;
    size_t off = 0;
    fz_check(f != NULL, "format not registered");
    memset(&fo, 0, sizeof fo);
    fo.tlp = -1;
    fz_check(f->open(&st, &fo, &err) == LIA_OK, "open failed");
    lia__records_init(&rs);
    lia_event_init(&ev);
    for (;;) {
        size_t k = size - off;
        int eof;
        char *chunk;
        if (chunked) {
            seed = seed * 1103515245u + 12345u;
            k = (seed >> 16) % 300 + 1;
            if (k > size - off)
                k = size - off;
        }
        eof = off + k == size;
        /* an exact-size copy: reading past it is caught */
        chunk = malloc(k ? k : 1);
        fz_check(chunk != NULL, "oom");
        memcpy(chunk, data + off, k);
        lia__records_clear(&rs);
        if (f->parse(st, chunk, k, eof, &rs, &err) != LIA_OK) {
            lia_buf_printf(out, "P %s\n", err.reason);
            free(chunk);
            break;
        }
        free(chunk);
        fz_records(f, st, &rs, out, &ev);
        off += k;
        if (eof)
            break;
    }
    lia_event_free(&ev);
    lia__records_free(&rs);
    f->close(st);
}

static int fz_format(const char *name, const uint8_t *data, size_t size)
{
    lia_buf a, b;
    uint32_t seed = 0;
    lia_buf_init(&a, (size_t)1 << 30);
    lia_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < size && i < 4; i++)
        seed = seed << 8 | data[i];
    fz_run(name, data, size, seed, 0, &a);
    fz_run(name, data, size, seed, 1, &b);
    fz_check(a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0),
             "chunked and whole runs differ");
    lia_buf_free(&a);
    lia_buf_free(&b);
    return 0;
}

#endif
