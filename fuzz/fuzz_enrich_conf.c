/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the enrichment configuration ([ipdata], [sectors],
 * [dedup] sections of key = value lines, src/enrich/conf.c).
 *
 * Invariants: an error is LIA_EINVAL or LIA_ELIMIT with a reason and, for
 * a line error, the line number within the input; on success the counts
 * are within their limits, every path is NUL-terminated and a relative
 * path was resolved against the directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/enrich.h"
#include "liaison/liaison.h"
#include "enrich/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz enrich_conf: %s\n", what);
        abort();
    }
}

static void check_path(const char *p, size_t n)
{
    check(memchr(p, '\0', n) != NULL, "a path is NUL-terminated");
    check(p[0] == '\0' || p[0] == '/', "a path is absolute (resolved against the directory)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lia_enrich_conf c;
    lia_error e;
    uint64_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    lia_error_clear(&e);
    lia__enrich_conf_default(&c);
    int rc = lia__enrich_conf_parse(&c, (const char *)data, size, "/etc/liaison", &e);
    if (rc) {
        check(rc == LIA_EINVAL || rc == LIA_ELIMIT, "an error is EINVAL or ELIMIT");
        check(e.reason[0] != '\0', "an error has a reason");
        check(rc == LIA_ELIMIT || (e.line >= 1 && e.line <= lines), "a line error names a line of the input");
        return 0;
    }
    check(c.nsources >= 0 && c.nsources <= LIA_ENRICH_MAX_SOURCES, "sources within the limit");
    for (int i = 0; i < c.nsources; i++)
        check_path(c.path[i], sizeof c.path[i]);
    check_path(c.sectors_path, sizeof c.sectors_path);
    check(c.dedup.nkey >= 0 && c.dedup.nkey <= LIA_DEDUP_MAX_KEY_FIELDS, "dedup key fields within the limit");
    check(c.dedup.window_us >= 0, "dedup window is not negative");
    return 0;
}
