/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: split a byte stream into lines (LF or CRLF), one record each,
 * for line-oriented formats. Lines longer than LIA_MAX_ROW become error
 * records; blank lines are skipped but counted. */
#ifndef LIA_CORE_LINES_H
#define LIA_CORE_LINES_H

#include "liaison/pipeline.h"

typedef struct lia_lines {
    lia_buf tail;     /* incomplete last line of the previous chunk */
    uint64_t line;    /* lines seen so far */
    int skipping;     /* inside an over-long line */
} lia_lines;

void lia_lines_init(lia_lines *l);
void lia_lines_free(lia_lines *l);
int lia_lines_split(lia_lines *l, const char *buf, size_t len, int eof, lia_records *out);

#endif
