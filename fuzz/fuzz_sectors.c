/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the sector rules loader (and matcher).
 *
 * The input is a rules file. On success, the rules are matched against a
 * few fixed events (with and without the report memo): both must agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/enrich.h"
#include "enrich/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sectors: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const specs[][2] = {
        {"source.port", "502"},
        {"protocol.application", "modbus"},
        {"extra.tag", "ics;iot,mirai"},
        {"destination.port", "23"},
        {"feed.name", "shadowserver-scan_ics"},
        {"classification.identifier", "mirai"},
        {"protocol.transport", "udp"},
    };
    lia_sectors *s = NULL;
    lia_error err;
    lia_event ev;
    lia_error_clear(&err);
    if (lia__sectors_parse((const char *)data, size, &s, &err) != LIA_OK) {
        check(s == NULL, "rules on failure");
        check(err.reason[0] != '\0', "error without a reason");
        return 0;
    }
    lia_event_init(&ev);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lia_sector_ctx ctx = {"scan_ics", "2026-11-27-scan_ics.csv", NULL};
        lia_sector_result a, b;
        lia_event_set_name(&ev, specs[i][0], strlen(specs[i][0]), specs[i][1], strlen(specs[i][1]), &err);
        int ma = lia__sectors_match(s, &ctx, &ev, &a);
        check(lia__sectors_prepare(s, &ctx) == LIA_OK, "prepare failed");
        int mb = lia__sectors_match(s, &ctx, &ev, &b);
        check(ma == mb && a.sector == b.sector && a.ics_protocol == b.ics_protocol,
              "memo changes the result");
        lia__sectors_ctx_free(&ctx);
        lia__sectors_apply(s, NULL, &ev, &err);
    }
    lia_event_free(&ev);
    lia__sectors_destroy(s);
    return 0;
}
