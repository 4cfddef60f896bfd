/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: record front-ends of the declarative mapping for reports that
 * are not CSV (docs/csv-mapping.md, "records"): lines matched by a POSIX
 * extended regular expression (group N = column N-1; without a pattern the
 * whole line is column 0), or JSON objects (an array of them, or one per
 * line) whose columns are paths ("a.b.c"; with "each", one record per
 * element of an array member). Each becomes a record of fields
 * by column index, copied into the output's arena, for the CSV mapping
 * engine. A line that is blank or a comment gives nothing; a line matching
 * "ignore" gives a record without fields (no event, counted); a line the
 * pattern does not match and a JSON element that is not an object are error
 * records (quarantined with the reason). Memory: one line or element. */
#ifndef LIA_FEEDS_MAPREC_H
#define LIA_FEEDS_MAPREC_H

#include "liaison/pipeline.h"

enum { LIA_REC_CSV = 0, LIA_REC_LINES = 1, LIA_REC_JSON = 2, LIA_REC_HTML = 3 /* feeds/htmltable.h */ };

typedef struct lia_maprec lia_maprec;

/* paths (JSON: ncols strings) is taken over on success. each (JSON, or
 * NULL): the path of an array member; every element gives a record, the
 * columns whose path is each (the element) or starts with "each." (a
 * member of the element) read from it, the others from the object. */
int lia__maprec_new(int kind, const char *pattern, const char *ignore, char comment, char **paths,
                    size_t ncols, const char *each, const char *name, lia_maprec **out, lia_error *err);
void lia__maprec_free(lia_maprec *r);
int lia__maprec_parse(lia_maprec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err);

#endif
