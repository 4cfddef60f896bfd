/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal to src/advisory/: shared by the builder, the store and the
 * provider's HTTP handlers. */
#ifndef LIA_ADVISORY_INTERNAL_H
#define LIA_ADVISORY_INTERNAL_H

#include <jansson.h>

#include "http/handler.h"
#include "liaison/advisory.h"

/* 1 if k is a key of the simple fields. */
int lia__advisory_known_key(const char *k);
/* "2026-12-07T12:00:00Z" (seconds, UTC) into out. */
size_t lia__csaf_time(int64_t us, char *out, size_t n);
/* doc as indented JSON appended to out. */
int lia__csaf_dump(json_t *doc, lia_buf *out, lia_error *err);
/* The advisory tables exist (the module's lia_schema). */
int lia__advisory_schema(lia_store *s, lia_error *err);

/* OpenPGP (sign.c, gpgme): a detached armored signature of data by key
 * fpr appended to sig; the armored public key and its full fingerprint. */
int lia__advisory_sign(const char *home, const char *fpr, const char *data, size_t len, lia_buf *sig,
                       lia_buf *pubkey, char full_fpr[64], lia_error *err);

/* A published document as the provider serves it. Strings valid for the callback. */
typedef struct lia__csaf_pub {
    const char *id, *title, *file, *doc, *sha512, *asc;
    int tlp, year;
    int64_t initial_us, published_us;
} lia__csaf_pub;
typedef int (*lia__csaf_pub_cb)(void *ud, const lia__csaf_pub *p);
/* The published documents of TLP tlp (-1: all), newest publication first. */
int lia__advisory_published(lia_store *s, int tlp, lia__csaf_pub_cb cb, void *ud, lia_error *err);

/* The provider under `liaison serve` (http.c): /.well-known/csaf/. */
int lia__advisory_mount(lia_http *h, lia_error *err);

#endif
