/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/csv.h - RFC 4180 record splitter.
 *
 * Push-style: feed it chunks of any size; it calls back once per record with
 * the record's fields (quotes removed, doubled quotes undone) and the raw
 * bytes of the record. Records may span chunks and contain quoted newlines.
 * LF, CRLF and a lone CR at end of record are all accepted. A malformed
 * record (an unclosed quote at end of input, a quote inside an unquoted
 * field, junk after a closing quote, a field or record over its limit, too
 * many fields, a NUL byte) is reported to the callback with an error code and
 * a reason and the splitter resynchronises at the next line end; nothing is
 * skipped silently. Field and raw slices are valid only during the callback.
 * One splitter per thread. */
#ifndef LIAISON_CSV_H
#define LIAISON_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/slice.h"

typedef struct lia_csv lia_csv;

typedef struct lia_csv_opts {
    char delim;          /* default ',' */
    char quote;          /* default '"'; '\0' disables quoting */
    char comment;        /* lines starting with it are skipped (counted); '\0' = none */
    int skip_blank;      /* skip empty lines (default 1) */
    size_t max_field;    /* default LIA_MAX_FIELD */
    size_t max_row;      /* default LIA_MAX_ROW */
    size_t max_fields;   /* default LIA_MAX_COLUMNS */
} lia_csv_opts;

/* A record (err == 0) or a malformed one (err < 0, why says what; fields
 * then hold what was split before the error, possibly none).
 * line: 1-based physical line where the record starts; nlines: how many
 * physical lines it covers. raw: the record's bytes without the final line
 * end (truncated to max_row for an oversize record). Return non-zero from the
 * callback to stop; lia_csv_feed then returns that value. */
typedef struct lia_csv_row {
    const lia_slice *fields;
    size_t nfields;
    lia_slice raw;
    uint64_t line;
    uint64_t nlines;
    int err;
    const char *why;
} lia_csv_row;

typedef int (*lia_csv_cb)(void *ud, const lia_csv_row *row);

/* Fill o with the defaults: comma, double quote, no comment character,
 * blank lines skipped, the LIA_MAX_FIELD/ROW/COLUMNS limits. */
void lia_csv_opts_default(lia_csv_opts *o);
/* NULL opts = defaults. Returns LIA_OK or LIA_ENOMEM/LIA_EINVAL. */
int lia_csv_create(const lia_csv_opts *opts, lia_csv **out);
void lia_csv_destroy(lia_csv *c);
/* Feed len bytes. Returns LIA_OK, a callback's non-zero value, or LIA_ENOMEM. */
int lia_csv_feed(lia_csv *c, const char *buf, size_t len, lia_csv_cb cb, void *ud);
/* End of input: flushes a last record without line end. */
int lia_csv_finish(lia_csv *c, lia_csv_cb cb, void *ud);
/* One read chunk, as the formats get it: feed len bytes (if any), then
 * finish when eof. Returns as lia_csv_feed. */
int lia_csv_chunk(lia_csv *c, const char *buf, size_t len, int eof, lia_csv_cb cb, void *ud);
/* Reset for a new input (keeps options and buffers). */
void lia_csv_reset(lia_csv *c);

#endif
