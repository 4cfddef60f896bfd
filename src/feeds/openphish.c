/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "openphish": OpenPhish's community feed (feed.txt), one phishing
 * URL per line; '#' lines are comments. */
#include <stdlib.h>

#include "feeds/feedutil.h"

static int op_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    lia_ctxlines *c = calloc(1, sizeof *c);
    if (!c)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_ctxlines_init(c);
    *st = c;
    return LIA_OK;
}

static int op_line(void *ud, lia_slice line, lia_slice *ctx)
{
    lia_slice t = lia_feed_trim(line);
    return t.len == 0 || t.ptr[0] == '#' ? LIA_LINE_SKIP : LIA_LINE_EMIT;
}

static int op_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    return lia_ctxlines_split(st, buf, len, eof, out, op_line, NULL, err);
}

static int op_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    lia_slice url = lia_feed_trim(rs->fields[r->first]);
    int rc = lia_event_set(ev, LIA_F_SOURCE_URL, url.ptr, url.len, err);
    if (rc)
        return rc;
    return lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "phishing", 8, err);
}

static void op_close(void *st)
{
    if (!st)
        return;
    lia_ctxlines_free(st);
    free(st);
}

const lia_format lia_format_openphish = {
    .name = "openphish",
    .summary = "OpenPhish community feed (one URL per line)",
    .open = op_open,
    .parse = op_parse,
    .normalise = op_normalise,
    .close = op_close,
};
