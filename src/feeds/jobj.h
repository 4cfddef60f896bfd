/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: a flat view of one JSON object (RFC 8259) without allocation
 * per member: its members as (key, kind, value) slices. String keys and
 * values are unescaped (into the reader's scratch); numbers, booleans and
 * nested objects/arrays keep their JSON text. Nested values are validated
 * too (depth <= LIA_MAX_JSON_DEPTH). Used by the feed formats whose rows are
 * JSON objects; ten times faster than building a jansson tree per row. */
#ifndef LIA_FEEDS_JOBJ_H
#define LIA_FEEDS_JOBJ_H

#include "liaison/slice.h"

enum { LIA_J_NULL, LIA_J_STRING, LIA_J_NUMBER, LIA_J_BOOL, LIA_J_OBJECT, LIA_J_ARRAY };

typedef struct lia_jmember {
    lia_slice key;
    lia_slice val; /* unescaped string, or the JSON text of other kinds */
    int kind;
} lia_jmember;

#define LIA_JOBJ_MAX_MEMBERS 256

typedef struct lia_jobj {
    lia_jmember m[LIA_JOBJ_MAX_MEMBERS];
    size_t n;
    lia_buf scratch; /* unescaped strings */
    int error_col;   /* 1-based column of a syntax error */
} lia_jobj;

void lia_jobj_init(lia_jobj *o);
void lia_jobj_free(lia_jobj *o);
/* Read the object s[0..n) (surrounding blanks allowed). LIA_OK, or
 * LIA_EPARSE with *why (static text) and o->error_col set; a value that is
 * not an object gives LIA_EINVAL. Slices stay valid until the next read. */
int lia_jobj_read(lia_jobj *o, const char *s, size_t n, const char **why);
/* The last member named key, or NULL. */
const lia_jmember *lia_jobj_get(const lia_jobj *o, const char *key);
/* Add a string member (for CSV rows); slices are borrowed. */
int lia_jobj_add(lia_jobj *o, lia_slice key, lia_slice val);
/* The JSON text of the first element of an array value (for nested rows). */
lia_slice lia_jarray_first(lia_slice array_text);
/* The elements of an array value, one a call: *pos starts at 0 (then is the
 * reader's offset in array_text). 1 with *out set (its kind; a string
 * unescaped into b, which the next call reuses; other kinds their JSON
 * text, a slice of array_text), 0 after the last element, or LIA_EPARSE
 * when array_text is not a valid array. */
int lia_jarray_next(lia_slice array_text, size_t *pos, lia_buf *b, lia_jmember *out);

#endif
