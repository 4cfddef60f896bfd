/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "jsonl": one harmonised event per line, as a flat JSON object
 * ({"source.ip": "192.0.2.1", "extra.foo": 1, ...}; an "extra" object is
 * accepted too). This is also what `liaison events --format jsonl` writes. */
#include <stdlib.h>

#include "core/lines.h"
#include "liaison/pipeline.h"

typedef struct jsonl {
    lia_lines lines;
} jsonl;

static int jsonl_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_lines_init(&j->lines);
    *st = j;
    return LIA_OK;
}

static int jsonl_parse(void *st, const char *buf, size_t len, int eof, lia_records *out,
                       lia_error *err)
{
    jsonl *j = st;
    int rc = lia_lines_split(&j->lines, buf, len, eof, out);
    if (rc)
        return lia_error_set(err, rc, NULL, NULL, 0, "splitting lines: %s", lia_strerror(rc));
    return LIA_OK;
}

static int jsonl_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev,
                           lia_error *err)
{
    const lia_slice *line = &rs->fields[r->first];
    return lia_event_from_json(ev, line->ptr, line->len, err);
}

static void jsonl_close(void *st)
{
    jsonl *j = st;
    if (!j)
        return;
    lia_lines_free(&j->lines);
    free(j);
}

const lia_format lia_format_jsonl = {
    .name = "jsonl",
    .summary = "JSON lines of harmonised events",
    .open = jsonl_open,
    .parse = jsonl_parse,
    .normalise = jsonl_normalise,
    .close = jsonl_close,
};
