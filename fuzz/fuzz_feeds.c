/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the feed formats of src/feeds/: feodotracker,
 * phishtank, spamhaus-drop, dshield-block, openphish, blocklistde, misp-csv
 * and misp-freetext (one target, the format picked by the first byte).
 *
 * Input layout: byte 0 picks the format (and a format option), byte 1 seeds
 * the chunk sizes, the rest is the report. The report is parsed once in one
 * chunk and once in pseudo-random chunks (exact-size copies, so ASan sees a
 * slice that outlives its chunk); every record is normalised and finished
 * and its event rendered. Both runs must give the same outcome. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "core/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *format, *subtype, *report_name;
} formats[] = {
    {"feodotracker", NULL, NULL},  {"phishtank", NULL, NULL},   {"spamhaus-drop", NULL, NULL},
    {"dshield-block", NULL, NULL}, {"openphish", NULL, NULL},   {"blocklistde", NULL, "ssh.txt"},
    {"misp-csv", NULL, NULL},      {"misp-csv", "1,2,3", NULL}, {"misp-freetext", NULL, NULL},
    {"blocklistde", "bots", NULL},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_feeds: %s\n", what);
        abort();
    }
}

static void run(unsigned which, const uint8_t *in, size_t len, unsigned seed, lia_buf *out)
{
    const lia_format *f = lia_format_find(formats[which].format);
    lia_feed_opts o;
    lia_records rs;
    lia_event ev;
    lia_error err;
    void *st = NULL;
    size_t off = 0;
    int eof = 0;
    check(f != NULL, "format not registered");
    memset(&o, 0, sizeof o);
    o.subtype = formats[which].subtype;
    o.report_name = formats[which].report_name;
    o.tlp = -1;
    lia_error_clear(&err);
    check(f->open(&st, &o, &err) == LIA_OK, "open failed");
    lia__records_init(&rs);
    lia_event_init(&ev);
    while (!eof) {
        size_t n = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 97 : len - off;
        char *chunk;
        if (n > len - off)
            n = len - off;
        chunk = malloc(n ? n : 1);
        check(chunk != NULL, "out of memory");
        memcpy(chunk, in + off, n);
        off += n;
        eof = n == 0;
        lia__records_clear(&rs);
        if (f->parse(st, chunk, n, eof, &rs, &err) != LIA_OK) {
            lia_buf_puts(out, "parse error\n");
            free(chunk);
            break;
        }
        for (size_t i = 0; i < rs.n; i++) {
            const lia_record *r = &rs.rec[i];
            int rc;
            for (size_t k = 0; k < r->raw.len; k++) /* every byte readable */
                lia_buf_putc(out, r->raw.ptr[k] ? 'r' : 'R');
            lia_buf_printf(out, " %llu ", (unsigned long long)r->line);
            if (r->err) {
                check(r->why != NULL, "error record without a reason");
                lia_buf_printf(out, "! %s\n", r->why);
                continue;
            }
            lia_event_reset(&ev);
            lia_error_clear(&err);
            rc = f->normalise(st, &rs, r, &ev, &err);
            if (rc == LIA_OK)
                rc = lia_event_finish(&ev, &err);
            if (rc == LIA_OK) {
                lia_event_to_json(&ev, out);
                lia_buf_putc(out, '\n');
            } else {
                check(rc < 0, "positive result code");
                lia_buf_printf(out, "rc %d %s\n", rc, err.reason);
            }
        }
        free(chunk);
    }
    f->close(st);
    lia__records_free(&rs);
    lia_event_free(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_buf a, b;
    unsigned which, seed;
    if (size < 2)
        return 0;
    which = data[0] % NFORMATS;
    seed = data[1] | 1u;
    lia_buf_init(&a, (size_t)64 << 20);
    lia_buf_init(&b, (size_t)64 << 20);
    run(which, data + 2, size - 2, 0, &a);
    run(which, data + 2, size - 2, seed, &b);
    if (!a.err && !b.err)
        check(a.len == b.len && memcmp(lia_buf_cstr(&a), lia_buf_cstr(&b), a.len) == 0,
              "outcome depends on chunk boundaries");
    lia_buf_free(&a);
    lia_buf_free(&b);
    return 0;
}
