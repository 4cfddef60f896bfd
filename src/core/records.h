/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core/records.h - internal: not part of the public API (include/liaison/). */
#ifndef LIA_CORE_RECORDS_H
#define LIA_CORE_RECORDS_H

#include "liaison/pipeline.h"

/* ---- internal (was in the public API) ---- */

void lia__arena_init(lia_arena *a, size_t max);
void *lia__arena_alloc(lia_arena *a, size_t n); /* NULL: out of memory or over max */
void lia__arena_clear(lia_arena *a);            /* keeps one block for reuse */
void lia__arena_free(lia_arena *a);

void lia__records_init(lia_records *r);
void lia__records_free(lia_records *r);
void lia__records_clear(lia_records *r);
/* Append a record; fields are copied into the arena when copy != 0. */
int lia__records_add(lia_records *r, uint64_t line, lia_slice raw, const lia_slice *fields, size_t nfields,
                     int err, const char *why, int copy);

#endif
