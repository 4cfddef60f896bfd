/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Fuzz the JSON-lines reader: any bytes, split into two chunks at a point
 * taken from the input; both runs must agree, and every accepted event must
 * survive a JSON round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "core/records.h"

static void run(const uint8_t *data, size_t size, size_t cut, lia_buf *out)
{
    const lia_format *f = lia_format_find("jsonl");
    lia_feed_opts o = {.feed = "fuzz", .tlp = -1};
    void *st;
    lia_error err;
    lia_records rs;
    lia_event ev, ev2;
    lia_buf js, js2;
    size_t parts[2][2] = {{0, cut}, {cut, size - cut}};
    if (f->open(&st, &o, &err))
        abort();
    lia__records_init(&rs);
    lia_event_init(&ev);
    lia_event_init(&ev2);
    lia_buf_init(&js, 4u << 20);
    lia_buf_init(&js2, 4u << 20);
    for (int p = 0; p < 2; p++) {
        lia__records_clear(&rs);
        if (f->parse(st, (const char *)data + parts[p][0], parts[p][1], p == 1, &rs, &err))
            abort();
        for (size_t i = 0; i < rs.n; i++) {
            const lia_record *r = &rs.rec[i];
            lia_buf_printf(out, "%llu:", (unsigned long long)r->line);
            if (r->err) {
                lia_buf_puts(out, "E\n");
                continue;
            }
            lia_event_reset(&ev);
            if (f->normalise(st, &rs, r, &ev, &err) || lia_event_finish(&ev, &err)) {
                lia_buf_puts(out, "N\n");
                continue;
            }
            lia_buf_reset(&js);
            lia_event_to_json(&ev, &js);
            lia_buf_append(out, js.ptr, js.len);
            lia_buf_putc(out, '\n');
            /* round trip */
            if (lia_event_from_json(&ev2, js.ptr, js.len, &err))
                abort();
            lia_buf_reset(&js2);
            lia_event_to_json(&ev2, &js2);
            if (js.len != js2.len || memcmp(js.ptr, js2.ptr, js.len) != 0)
                abort();
        }
    }
    lia_buf_free(&js);
    lia_buf_free(&js2);
    lia_event_free(&ev);
    lia_event_free(&ev2);
    lia__records_free(&rs);
    f->close(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_buf a, b;
    size_t cut = size ? (size_t)data[0] % (size + 1) : 0;
    lia_buf_init(&a, 64u << 20);
    lia_buf_init(&b, 64u << 20);
    run(data, size, size, &a); /* one chunk (second part empty) */
    run(data, size, cut, &b);
    if (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0))
        abort();
    lia_buf_free(&a);
    lia_buf_free(&b);
    return 0;
}
