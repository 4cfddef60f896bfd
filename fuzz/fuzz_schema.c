/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the Shadowserver schema loader: any bytes either
 * fail with a reason or give a schema whose every report can be listed,
 * found by name and file name, and (when usable) opened as a format and fed
 * its own header line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/shadowserver_internal.h"
#include "liaison/liaison.h"
#include "core/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_ss_schema *s = NULL;
    lia_error err;
    lia_error_clear(&err);
    if (lia__shadowserver_parse((const char *)data, size, "fuzz", &s, &err) != LIA_OK) {
        if (err.reason[0] == '\0') {
            fprintf(stderr, "fuzz_schema: rejected without a reason\n");
            abort();
        }
        return 0;
    }
    for (size_t i = 0; i < lia_shadowserver_count(s); i++) {
        lia_ss_report_info ri;
        char fname[512];
        lia_records recs;
        lia_feed_opts fo;
        lia_buf hdr;
        void *st = NULL;
        int req;
        lia_shadowserver_report(s, i, &ri);
        if (lia_shadowserver_find(s, ri.name) < 0 || lia_shadowserver_find(s, ri.file_name) < 0)
            abort();
        snprintf(fname, sizeof fname, "2024-01-01-%s-x.csv", ri.file_name);
        lia_shadowserver_detect(s, fname, &err);
        if (*ri.problem)
            continue;
        memset(&fo, 0, sizeof fo);
        fo.subtype = ri.name;
        if (lia__ss_open(&st, s, &fo, &err) != LIA_OK)
            continue;
        lia_buf_init(&hdr, 1u << 20);
        for (size_t j = 0; j < ri.nrequired + ri.noptional; j++) {
            lia_buf_putc(&hdr, j ? ',' : '"');
            if (j)
                lia_buf_putc(&hdr, '"');
            lia_buf_puts(&hdr, lia_shadowserver_column(s, i, j, &req));
            lia_buf_putc(&hdr, '"');
        }
        lia_buf_putc(&hdr, '\n');
        lia__records_init(&recs);
        lia_format_shadowserver.parse(st, hdr.ptr, hdr.len, 1, &recs, &err);
        lia__records_free(&recs);
        lia_buf_free(&hdr);
        lia_format_shadowserver.close(st);
    }
    lia_shadowserver_free(s);
    return 0;
}
