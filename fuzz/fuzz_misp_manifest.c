/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the manifest.json of a MISP feed directory, as
 * lia_misp_feed_files (src/share/misp_import.c) reads it: parsed by
 * jansson with duplicate keys refused, then walked by
 * lia__misp_manifest_each for a feed in DIR.
 *
 * Invariants: on success every path given to the callback is
 * DIR/<UUID>.json (no path tricks) and they come in strictly increasing
 * order; an error is LIA_EPARSE with a reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share/share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char dir[] = "/srv/feeds/misp";
static char last[160];

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz misp_manifest: %s\n", what);
        abort();
    }
}

static int on_path(void *ud, const char *p)
{
    size_t dl = strlen(dir), pl = strlen(p);
    (void)ud;
    check(pl == dl + 1 + 36 + 5 && strncmp(p, dir, dl) == 0 && p[dl] == '/', "path is DIR/<36 chars>.json");
    check(strcmp(p + pl - 5, ".json") == 0 && strchr(p + dl + 1, '/') == NULL, "one file name");
    for (size_t i = dl + 1; i < pl - 5; i++)
        check(p[i] == '-' || (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
                  (p[i] >= 'A' && p[i] <= 'F'),
              "the name is a UUID");
    check(strcmp(last, p) < 0, "paths in strictly increasing order");
    snprintf(last, sizeof last, "%s", p);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_error e;
    json_error_t je;
    json_t *man = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!man)
        return 0;
    last[0] = '\0';
    lia_error_clear(&e);
    int rc = lia__misp_manifest_each(dir, man, "manifest.json", on_path, NULL, &e);
    check(rc == LIA_OK || (rc == LIA_EPARSE && e.reason[0]), "an error is EPARSE with a reason");
    json_decref(man);
    return 0;
}
