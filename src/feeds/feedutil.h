/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal helpers shared by the line-oriented feed formats (spamhaus-drop,
 * dshield-block, openphish, blocklistde, misp-freetext):
 *  - lia_ctxlines: split lines and let the format look at each one during
 *    the parse step, so that header comments (a "Last-Modified:" line) can
 *    travel with every data record as a second field, and comments can be
 *    skipped. Context taken at parse time survives a resumed ingest.
 *  - date parsing for the dates such headers carry. */
#ifndef LIA_FEEDS_FEEDUTIL_H
#define LIA_FEEDS_FEEDUTIL_H

#include "core/lines.h"
#include "liaison/pipeline.h"

enum { LIA_LINE_SKIP = 0, LIA_LINE_EMIT = 1 };

/* Called for every non-blank line (without its line end). Return
 * LIA_LINE_EMIT to make it a record (with *ctx, if set, as second field) or
 * LIA_LINE_SKIP for a comment/header line. */
typedef int (*lia_line_fn)(void *ud, lia_slice line, lia_slice *ctx);

typedef struct lia_ctxlines {
    lia_lines lines;
    lia_records tmp;
} lia_ctxlines;

void lia_ctxlines_init(lia_ctxlines *c);
void lia_ctxlines_free(lia_ctxlines *c);
int lia_ctxlines_split(lia_ctxlines *c, const char *buf, size_t len, int eof, lia_records *out,
                       lia_line_fn fn, void *ud, lia_error *err);

/* Parse a date as found in feed headers into RFC 3339 text (out >= 32):
 * "Mon, 14 Sep 2015 04:39:22 GMT" (RFC 1123), "Tue Dec 15 15:33:38 2015 UTC"
 * (asctime with zone), or anything lia_parse_time accepts, and a bare
 * "YYYY-MM-DD" (midnight UTC). Returns LIA_OK or LIA_EINVAL. */
int lia_feed_date(lia_slice s, char *out, size_t n);

/* Trim spaces, tabs and a trailing CR. */
lia_slice lia_feed_trim(lia_slice s);

/* Split s at the first c: *head gets the part before (trimmed), *rest the
 * part after (trimmed); returns 0 if c is absent (*head = s trimmed, *rest
 * empty). */
int lia_feed_cut(lia_slice s, char c, lia_slice *head, lia_slice *rest);

#endif
