/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core/field_ref.h - internal: the general (slow) paths behind the fast
 * paths of field.c and event.c, exposed so that the differential unit tests
 * (tests/unit/core/test_fastpath.c) and fuzz/fuzz_field.c can check that
 * each fast path gives exactly what the general path gives. Not public API. */
#ifndef LIAISON_CORE_FIELD_REF_H
#define LIAISON_CORE_FIELD_REF_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/event.h"
#include "liaison/field.h"

/* Unsigned decimal digits-only parse with the general overflow test (any
 * max); field.c uses a division-free loop when max <= UINT32_MAX. */
int lia__parse_udec_slow(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why);

/* lia_parse_ip without the one-pass dotted-quad fast path. */
int lia__parse_ip_slow(const char *s, size_t n, lia_ip *out, const char **why);

/* lia_parse_fqdn without the one-pass ASCII fast path. */
int lia__parse_fqdn_slow(const char *s, size_t n, char *out, size_t outn, size_t *outlen, const char **why);

/* 1 if the upper-case pair (a, b) is an accepted country code according to
 * the sorted code lists (lia_parse_cc uses a bitmap built from them). */
int lia__cc_listed(char a, char b);

/* event.c: the JSON-safe test of string values (printable ASCII without '"'
 * and '\\'; DEL either way), and lia_event_extra_str_known without its fast
 * path (values that need no escaping and fit the current allocations). */
int lia__plain_ascii(const char *s, size_t n);
int lia__event_extra_str_known_slow(lia_event *ev, const char *key, size_t klen, const char *s, size_t n,
                                    lia_error *err);

#endif
