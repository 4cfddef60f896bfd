/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Fuzz the CSV mapping: the input is "MAPPING\0CSV". The mapping loader
 * must reject bad mappings with an error (never crash); with a good one,
 * the CSV runs through the format and every accepted event serialises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liaison/liaison.h"
#include "core/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const lia_format *f = lia_format_find("csv");
    static int fd = -1;
    char path[64];
    lia_feed_opts o = {.feed = "fuzz", .tlp = -1};
    lia_error err;
    void *st;
    lia_records rs;
    lia_event ev;
    lia_buf js;
    size_t mlen = nul ? (size_t)(nul - data) : size;
    if (fd < 0)
        fd = memfd_create("map", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, mlen, 0) != (ssize_t)mlen)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    o.map_path = path;
    lia_error_clear(&err);
    if (f->open(&st, &o, &err)) {
        if (err.code == LIA_OK)
            abort(); /* an error must say what */
        return 0;
    }
    lia__records_init(&rs);
    lia_event_init(&ev);
    lia_buf_init(&js, 4u << 20);
    const char *csv = nul ? (const char *)nul + 1 : "";
    size_t clen = nul ? size - mlen - 1 : 0;
    if (f->parse(st, csv, clen, 1, &rs, &err) == LIA_OK) {
        for (size_t i = 0; i < rs.n; i++) {
            if (rs.rec[i].err)
                continue;
            lia_event_reset(&ev);
            if (f->normalise(st, &rs, &rs.rec[i], &ev, &err) == LIA_OK && lia_event_finish(&ev, &err) == LIA_OK) {
                lia_buf_reset(&js);
                if (lia_event_to_json(&ev, &js))
                    abort();
            }
        }
    }
    lia_buf_free(&js);
    lia_event_free(&ev);
    lia__records_free(&rs);
    f->close(st);
    return 0;
}
