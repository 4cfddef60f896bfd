/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A strict YAML subset, enough for Liaison's own files (parties, routing
 * rules). Supported:
 *   - a top-level block mapping  `key: value`
 *   - values: plain scalars, "double-quoted" (\" \\ \n \t \r \/ \uXXXX),
 *     'single-quoted' ('' for '), flow lists `[a, "b", c]` (not nested),
 *     and `key:` followed by a more (or equally) indented block list
 *   - block list items: a scalar / flow list, or a mapping started on the
 *     item line (`- id: x`) whose other keys line up under the first one;
 *     its values follow the same rules (one more level of block lists)
 *   - comments (`#` at line start or after a blank), blank lines, `---`
 * Anything else (tabs for indentation, anchors, tags, block scalars,
 * nested flow collections, duplicate keys) is an error with a line number.
 * Internal to libliaison. */
#ifndef LIA_ROUTE_YAML_H
#define LIA_ROUTE_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"

enum { LIA_Y_SCALAR = 1, LIA_Y_LIST = 2, LIA_Y_MAP = 3 };

typedef struct lia_ynode {
    int type;
    char *key; /* when a member of a map */
    char *str; /* scalar text (NUL-terminated, UTF-8) */
    size_t len;
    uint32_t line;
    struct lia_ynode *first, *last, *next;
} lia_ynode;

/* Parse buf into a tree (root is a MAP). LIA_OK or LIA_EPARSE/LIA_ELIMIT
 * with err (line set). Free with lia__yaml_free. */
int lia__yaml_parse(const char *buf, size_t len, lia_ynode **out, lia_error *err);
void lia__yaml_free(lia_ynode *n);
/* Member of a map by key, or NULL. */
const lia_ynode *lia__yaml_get(const lia_ynode *map, const char *key);
/* Append s as a YAML scalar (plain if safe, else double-quoted). */
int lia__yaml_scalar(lia_buf *b, const char *s, size_t n);

#endif
