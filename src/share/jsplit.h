/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Splitting a JSON document into the text of its parts without building a
 * tree (a jansson tree costs 8-25 times the text): the STIX importer reads
 * a bundle's objects and the MISP importer an event's attributes one at a
 * time from their spans. Only the structure is checked (brackets matched,
 * strings closed, at most LIA_MAX_SPLIT_DEPTH deep); each part is parsed by
 * jansson afterwards, and a document the splitter does not take is read
 * whole by its importer, which then reports the error. Internal. */
#ifndef LIA_SHARE_JSPLIT_H
#define LIA_SHARE_JSPLIT_H

#include <stddef.h>

/* One part: its offset and length in the document. */
typedef struct lia__span {
    size_t off, len;
} lia__span;

/* A growing list of spans (free v with free()). */
typedef struct lia__spans {
    lia__span *v;
    size_t n, cap;
} lia__spans;

/* p after JSON white space, at most e. */
const char *lia__json_skip_ws(const char *p, const char *e);

/* The end of the JSON value that starts at p, or NULL when it is not one the
 * splitter can delimit (brackets that do not match, too deep, cut short). */
const char *lia__json_skip_value(const char *p, const char *e);

/* Append the spans of the elements of the array at p (offsets from base) to
 * sp. Returns the end of the array, or NULL when p is not an array the
 * splitter takes, or when it has more than max elements, or (with *oom set)
 * when sp could not grow. */
const char *lia__json_split_array(const char *base, const char *p, const char *e, lia__spans *sp, size_t max,
                                  int *oom);

#endif
