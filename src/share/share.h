/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal helpers shared by the sharing formats (STIX 2.1, MISP, IODEF):
 * SHA-1 and UUIDv5 (RFC 4122, needed for STIX deterministic identifiers),
 * whole-document accumulation for formats that are one document per report,
 * timestamps in the forms those standards use, and the TLP marking tables. */
#ifndef LIA_SHARE_SHARE_H
#define LIA_SHARE_SHARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "liaison/event.h"
#include "liaison/misp.h"
#include "liaison/slice.h"

/* strdup that maps NULL to NULL (optional settings of the exporters). */
char *lia__share_strdup(const char *s);
void lia__sha1(const void *p, size_t n, uint8_t out[20]);
/* Lower-case hex MD5 (MISP hashes.csv only). */
void lia__md5_hex(const void *p, size_t n, char out[33]);
/* UUIDv5 of name in namespace ns, lower-case text into out (37 bytes). */
void lia__uuid5(const uint8_t ns[16], const void *name, size_t n, char out[37]);
/* Parse "xxxxxxxx-xxxx-..." into 16 bytes; -1 if malformed. */
int lia__uuid_parse(const char *s, size_t n, uint8_t out[16]);
/* Liaison's namespace for its own deterministic ids (UUIDv5 of "liaison" in
 * the STIX SCO namespace). */
void lia__liaison_ns(uint8_t ns[16]);

/* The event files named by a MISP feed's parsed manifest.json (man, read
 * from where): cb(ud, "DIR/UUID.json") for each key in sorted order; a key
 * that is not a UUID is LIA_EPARSE (no path tricks); cb's non-zero return
 * stops the walk and is returned. Fuzzed by fuzz/fuzz_misp_manifest.c. */
int lia__misp_manifest_each(const char *dir, json_t *man, const char *where, lia_path_cb cb, void *ud,
                            lia_error *err);

/* STIX/MISP time text "2024-05-01T12:00:00.000Z" (microseconds kept when
 * not whole milliseconds). out must hold 40 bytes. Returns the length. */
size_t lia__time_z(int64_t us, char *out, size_t n);

/* Append len bytes of a report chunk to a document buffer. LIA_ELIMIT past
 * the buffer's max ("WHAT document larger than MAX bytes"), LIA_ENOMEM when
 * memory runs out; err says which. */
int lia__doc_append(lia_buf *doc, const char *p, size_t len, const char *what, lia_error *err);

/* TLP 2.0 marking-definition ids (official, from the FIRST/OASIS TLP 2.0
 * extension) by lia_tlp value, and the STIX id -> TLP map that also knows
 * the TLP 1.0 ids of the STIX 2.1 specification (WHITE maps to CLEAR).
 * Returns -1 when id is not a TLP marking. */
const char *lia__tlp2_marking_id(int tlp);
int lia__tlp_from_marking_id(const char *id, size_t n);
/* Lower-case TLP 2.0 name ("amber+strict"). */
const char *lia__tlp_lower(int tlp);

/* Set field f from text, filling err with field and value on failure. */
int lia__set(lia_event *ev, lia_field f, const char *s, size_t n, lia_error *err);

/* 1 if the text is an IPv4/IPv6 address / CIDR (for guessing a value's
 * kind); fills ip. */
int lia__is_ip(const char *s, size_t n, lia_ip *ip);

#endif
