/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the HTML-table front-end of the declarative mapping
 * (docs/csv-mapping.md, "records": "html"). The page is read whole (at most
 * LIA_MAX_HTML_PAGE) by libxml2's HTML parser (no network, no external
 * entities, errors and warnings off); one table is selected, its rows
 * become records of fields by mapping column, copied into the output's
 * arena, for the CSV mapping engine. A cell's value is its text (entities
 * decoded, white space collapsed, trimmed) or an attribute of the first
 * element in it that has one. Rows of header cells only (<th>) give no
 * record; a row matching "ignore" gives a record without fields (counted). */
#ifndef LIA_FEEDS_HTMLTABLE_H
#define LIA_FEEDS_HTMLTABLE_H

#include "liaison/pipeline.h"

/* Which table: the tables in document order (nested ones too) that have
 * this id and this class among their classes, and come after the first
 * text that contains after (each NULL: any); then the index-th of them
 * (0 = the first). */
typedef struct lia_htmlsel {
    const char *id, *cls, *after;
    int index;
} lia_htmlsel;

typedef struct lia_htmltable lia_htmltable;

/* ncols mapping columns. names: header text of each column (the table's
 * first row is its header; ASCII case is ignored), or NULL: by position
 * (column k is cell k; header != 0 skips the first row). attrs: per column
 * an attribute name or NULL (borrowed for the call). required: per column,
 * a missing header name refuses the report. */
int lia__htmltable_new(const lia_htmlsel *sel, int header, char *const *names, char *const *attrs,
                       const int *required, size_t ncols, const char *ignore, const char *name,
                       lia_htmltable **out, lia_error *err);
void lia__htmltable_free(lia_htmltable *t);
/* Chunks are kept until eof; then the page gives its records. */
int lia__htmltable_parse(lia_htmltable *t, const char *buf, size_t len, int eof, lia_records *out,
                         lia_error *err);

#endif
