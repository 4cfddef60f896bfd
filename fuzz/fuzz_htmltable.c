/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Fuzz the HTML-table reader (records "html" of the declarative mapping):
 * the first byte chooses one of the mappings below (by position, by header
 * names with an attribute and a fallback, by id, class and index, after a
 * text, with ignore), the rest is the page, fed in two chunks. A page the
 * reader refuses must say why; every accepted event serialises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/records.h"
#include "liaison/liaison.h"

static const char map_pos[] =
    "{\"records\": \"html\", \"columns\": [\"source.ip\", {\"field\": \"extra.n\", \"convert\": \"int\"}]}";
static const char map_names[] =
    "{\"records\": \"html\", \"columns\": {\"Host\": {\"field\": \"source.ip\", \"required\": true, "
    "\"fallback\": {\"field\": \"source.url\", \"convert\": \"url_http\"}}, \"Link\": {\"field\": "
    "\"extra.link\", \"attribute\": \"href\"}, \"Date\": {\"field\": \"time.source\", \"time\": "
    "\"%d-%m-%Y\"}}}";
static const char map_sel[] =
    "{\"records\": \"html\", \"table\": {\"id\": \"t\", \"class\": \"data\", \"index\": 1}, "
    "\"header\": true, \"ignore\": \"^Total\", \"columns\": [{\"field\": \"source.fqdn\", "
    "\"attribute\": \"value\"}, \"extra.x\"]}";
static const char map_after[] =
    "{\"records\": \"html\", \"table\": {\"after\": \"Recent\"}, \"columns\": [{\"field\": "
    "\"source.fqdn\", \"required\": true}, {\"field\": \"malware.name\", \"values\": {\"a\": \"b\"}}]}";
static const char *const maps[] = {map_pos, map_names, map_sel, map_after};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    const lia_format *f = lia_format_find("csv");
    const char *map, *page;
    size_t plen, half;
    char path[64];
    lia_feed_opts o = {.feed = "fuzz", .tlp = -1};
    lia_error err;
    void *st;
    lia_records rs;
    lia_event ev;
    lia_buf js;
    int rc;
    if (size == 0)
        return 0;
    map = maps[data[0] % (sizeof maps / sizeof maps[0])];
    page = (const char *)data + 1;
    plen = size - 1;
    if (fd < 0)
        fd = memfd_create("map", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, map, strlen(map), 0) != (ssize_t)strlen(map))
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    o.map_path = path;
    lia_error_clear(&err);
    if (f->open(&st, &o, &err))
        abort(); /* the mappings above are good */
    lia__records_init(&rs);
    lia_event_init(&ev);
    lia_buf_init(&js, 4u << 20);
    half = plen / 2;
    rc = f->parse(st, page, half, 0, &rs, &err);
    if (rc == LIA_OK && rs.n != 0)
        abort(); /* nothing before the whole page is read */
    if (rc == LIA_OK)
        rc = f->parse(st, page + half, plen - half, 1, &rs, &err);
    if (rc != LIA_OK && err.code == LIA_OK)
        abort(); /* a refusal must say what */
    for (size_t i = 0; rc == LIA_OK && i < rs.n; i++) {
        if (rs.rec[i].err)
            continue;
        lia_event_reset(&ev);
        if (f->normalise(st, &rs, &rs.rec[i], &ev, &err) == LIA_OK && lia_event_finish(&ev, &err) == LIA_OK) {
            lia_buf_reset(&js);
            if (lia_event_to_json(&ev, &js))
                abort();
        }
    }
    lia_buf_free(&js);
    lia_event_free(&ev);
    lia__records_free(&rs);
    f->close(st);
    return 0;
}
