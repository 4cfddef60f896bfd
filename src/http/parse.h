/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* http/parse.h - internal: not part of the public API (include/liaison/). */
#ifndef LIA_HTTP_PARSE_H
#define LIA_HTTP_PARSE_H

#include "liaison/http.h"

/* ---- internal (was in the public API) ---- */

/* HTTP/1.1 framing checks on the request headers: a name that is not a
 * token (whitespace before the colon, a folded line), a framing field's name
 * with more after it (a fold), a control character in a value (bare CR, LF,
 * NUL), more than one
 * Content-Length, Content-Length together with Transfer-Encoding, a
 * Content-Length that is not a decimal number, a Transfer-Encoding other than
 * "chunked", more than one Host. Returns LIA_OK, or LIA_EPARSE with *why set
 * to a static reason. *content_length is set (UINT64_MAX when absent). */
int lia__http_check_headers(const lia_http_header *h, size_t n, uint64_t *content_length, const char **why);

/* Pick the response media type from an Accept header value: the first
 * acceptable media range (taxii+json or, if allow_stix, stix+json; no
 * version parameter or version=2.1; q=0 excluded; * / * and application / *
 * mean taxii+json). LIA_MEDIA_NONE if nothing fits (-> 406). */
int lia__http_accept(lia_slice accept, int allow_stix);
/* Check a request Content-Type: exactly taxii+json (or stix+json if
 * allow_stix) with version=2.1. Returns the media or LIA_MEDIA_NONE. */
int lia__http_content_type(lia_slice ct, int allow_stix);

/* Parse an Authorization header value: Basic, or an API key as Bearer or
 * Token (both LIA_AUTH_BEARER). LIA_EPARSE (with *why) for an
 * unknown scheme, bad base64, no ':' in Basic credentials, a NUL or control
 * byte, or a part longer than LIA_AUTH_MAX - 1. */
int lia__http_auth_parse(lia_slice value, lia_http_auth *out, const char **why);

/* Decode one application/x-www-form-urlencoded component (%XX, '+' = space)
 * into out (size outn, NUL-terminated). LIA_EPARSE on a bad escape or NUL,
 * LIA_ELIMIT if it does not fit. */
int lia__http_url_decode(const char *s, size_t n, char *out, size_t outn, size_t *outlen);

int lia__http_query_each(const char *qs, size_t n, lia_http_param_cb cb, void *ud, const char **why);

/* STIX/TAXII timestamps: "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" <-> microseconds
 * since the epoch (digits beyond microseconds are truncated). */
int lia__stix_time_parse(const char *s, size_t n, int64_t *out_us);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out (at least 28 bytes). */
void lia__stix_time_format(int64_t us, char out[32]);

#endif
