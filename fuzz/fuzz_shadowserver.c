/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the schema-driven Shadowserver engine.
 *
 * Input layout: byte 0 picks the report type (index into the built-in
 * schema, loaded once), byte 1 seeds the chunk sizes, the rest is the CSV
 * report. The report goes through parse (in pseudo-random chunks) and
 * normalise + lia_event_finish for every record, then every stored event is
 * rendered as JSON, which must parse back (lia_event_from_json) - so every
 * conversion and field setter sees fuzzed values. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/shadowserver_internal.h"
#include "liaison/liaison.h"
#include "core/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lia_ss_schema *schema;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_feed_opts fo;
    lia_ss_report_info ri;
    lia_records recs;
    lia_event ev, back;
    lia_error err;
    lia_buf json;
    void *st = NULL;
    uint32_t seed;
    size_t off = 2;
    if (!schema && lia_shadowserver_load(NULL, &schema, &err) != LIA_OK)
        abort();
    if (size < 2)
        return 0;
    lia_shadowserver_report(schema, data[0] % lia_shadowserver_count(schema), &ri);
    seed = data[1] * 2654435761u + 1;
    memset(&fo, 0, sizeof fo);
    fo.subtype = ri.name;
    fo.tlp = -1;
    if (lia__ss_open(&st, schema, &fo, &err) != LIA_OK)
        return 0;
    lia__records_init(&recs);
    lia_event_init(&ev);
    lia_event_init(&back);
    lia_buf_init(&json, 1u << 22);
    for (;;) {
        size_t n = size - off, chunk = 1 + (seed >> 16) % 97;
        int eof, rc;
        char *copy;
        seed = seed * 1103515245u + 12345u;
        if (n > chunk)
            n = chunk;
        eof = off + n == size;
        copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        if (!copy)
            break;
        memcpy(copy, data + off, n);
        lia__records_clear(&recs);
        rc = lia_format_shadowserver.parse(st, copy, n, eof, &recs, &err);
        for (size_t i = 0; rc == LIA_OK && i < recs.n; i++) {
            lia_event_reset(&ev);
            if (recs.rec[i].err)
                continue;
            if (lia_format_shadowserver.normalise(st, &recs, &recs.rec[i], &ev, &err) != LIA_OK)
                continue;
            if (lia_event_finish(&ev, &err) != LIA_OK)
                continue;
            lia_buf_reset(&json);
            if (lia_event_to_json(&ev, &json) == LIA_OK &&
                lia_event_from_json(&back, json.ptr, json.len, &err) != LIA_OK) {
                fprintf(stderr, "fuzz_shadowserver: event JSON does not parse back: %s: %s\n%s\n", err.field,
                        err.reason, json.ptr);
                abort();
            }
        }
        free(copy);
        off += n;
        if (rc != LIA_OK || eof)
            break;
    }
    lia_format_shadowserver.close(st);
    lia_buf_free(&json);
    lia_event_free(&back);
    lia_event_free(&ev);
    lia__records_free(&recs);
    return 0;
}
