/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the simple STIX pattern subset (see stix_pattern.c). */
#ifndef LIA_SHARE_STIX_PATTERN_H
#define LIA_SHARE_STIX_PATTERN_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/limits.h"
#include "liaison/slice.h"

typedef struct lia_stix_term {
    lia_slice path;   /* "ipv4-addr:value", "file:hashes.'SHA-256'" (into the pattern) */
    int is_str;
    size_t voff, vlen; /* string value in vbuf (unescaped) */
    int64_t ival;
    int and_next;      /* joined to the next term by AND (else OR, or last) */
} lia_stix_term;

typedef struct lia_stix_pattern {
    lia_stix_term t[LIA_MAX_PATTERN_TERMS];
    size_t n;
    char vbuf[LIA_MAX_PATTERN];
    size_t vlen;
    const char *why; /* on LIA_EUNSUPPORTED: what, and where (at) */
    const char *at;
} lia_stix_pattern;

/* LIA_OK or LIA_EUNSUPPORTED (why/at set). */
int lia__stix_pattern_parse(const char *s, size_t n, lia_stix_pattern *out);

#endif
