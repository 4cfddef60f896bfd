/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal to src/mail: the decoders (decode.c) the message reader
 * (message.c) uses, and the answer channel's tables (queue.c). */
#ifndef LIA_MAIL_INTERNAL_H
#define LIA_MAIL_INTERNAL_H

#include "liaison/mail.h"
#include "store/db.h"

/* Quoted-printable (RFC 2045 6.7): soft line breaks removed, =XY decoded, a
 * malformed '=' kept as it is. Appends to out. */
void lia__mail_qp(const char *p, size_t n, lia_buf *out);
/* Base64 (RFC 2045 6.8): characters outside the alphabet skipped, stops at
 * '='. Appends to out. */
void lia__mail_b64(const char *p, size_t n, lia_buf *out);
/* Bytes in charset (NULL: US-ASCII) to UTF-8, appended to out. Invalid
 * sequences become U+FFFD; a charset iconv does not know is read as UTF-8
 * and *unknown set to 1. */
void lia__mail_to_utf8(const char *charset, const char *p, size_t n, lia_buf *out, int *unknown);
/* A header value with RFC 2047 encoded words decoded (white space between
 * two encoded words dropped), appended to out. */
void lia__mail_words(const char *p, size_t n, lia_buf *out);

/* The mail tables (schema "mail"): every message received (idempotence by
 * Message-ID) and the unmatched queue. */
int lia__mail_schema(lia_db *db, lia_error *err);

#endif
