/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core/field_internal.h - internal: not part of the public API (include/liaison/). */
#ifndef LIA_CORE_FIELD_INTERNAL_H
#define LIA_CORE_FIELD_INTERNAL_H

#include "liaison/event.h"
#include "liaison/field.h"

/* ---- internal (was in the public API) ---- */

/* 1 if KEY is a valid extra key (without "extra."). */
int lia__extra_key_valid(const char *key, size_t klen);

/* The IP used for routing/indexing: source.ip if present. 16-byte key with
 * IPv4 as ::ffff:a.b.c.d so that ranges sort. Returns 0 if absent. */
int lia__ip_key(const lia_ip *ip, uint8_t key[16]);

lia_ftype lia__field_type(lia_field f);

const char *lia__ftype_name(lia_ftype t);
/* 1 if values of type t live in the event's text (lia_value.s). */
int lia__ftype_is_text(lia_ftype t);

int lia__parse_port(const char *s, size_t n, uint16_t *out, const char **why);
int lia__parse_int(const char *s, size_t n, int64_t *out, const char **why);

int lia__parse_float(const char *s, size_t n, double *out, const char **why);

int lia__parse_registry(const char *s, size_t n, int *out, const char **why);

/* Normalised URL into out (outn >= n + LIA_MAX_FQDN + 16 is always enough). */
int lia__parse_url(const char *s, size_t n, char *out, size_t outn, size_t *outlen, const char **why);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
 * U+0000 is valid UTF-8: callers that refuse NUL check for it themselves. */
int lia__utf8_valid(const char *s, size_t n);
int lia__base64_valid(const char *s, size_t n);

const char *lia__registry_name(int reg);

const char *lia__class_taxonomy_name(int id);
const char *lia__class_type_name(int id);
int lia__class_type_taxonomy(int type_id);
int lia__class_type_count(void);

#endif
