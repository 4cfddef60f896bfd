/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/advisory.h - CSAF 2.0 security advisories (src/advisory/).
 *
 * The pure parts: CVSS 3.1 base scores from their vectors, the TLP 2.0 to
 * CSAF 2.0 (TLP 1.0) label mapping, a CSAF document built from simple
 * fields ("key: value", the same keys as the command's flags), and our own
 * checks of a CSAF document (profiles csaf_security_advisory and
 * csaf_security_incident_response), each problem as a JSON path and a
 * reason. They touch no store and are thread-safe.
 *
 * In the store (last part): advisories (their fields, the draft document,
 * the published document with its SHA-512 and OpenPGP signature) and the
 * provider's settings, in the tables advisory and advisory_setting. A store
 * handle, one thread. docs/advisories.md says more. */
#ifndef LIAISON_ADVISORY_H
#define LIAISON_ADVISORY_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

#define LIA_ADVISORY_MAX_DOC    (4u * 1024 * 1024) /* a document, its fields or its signature */
#define LIA_ADVISORY_MAX_FIELDS 4096               /* fields of one advisory */
#define LIA_ADVISORY_ID_MAX     128                /* tracking id, with its NUL */

/* ---- CVSS 3.1 ---------------------------------------------------------------- */

/* The base score of a CVSS 3.1 vector ("CVSS:3.1/AV:N/AC:L/..."; the eight
 * base metrics, each once; temporal and environmental metrics are allowed
 * and do not change the base score), computed as the specification's
 * formulas (Roundup as in its Appendix A). *score 0.0 .. 10.0, *severity
 * "NONE" "LOW" "MEDIUM" "HIGH" "CRITICAL" (static). LIA_EINVAL with *why a
 * static reason (what is wrong, which metric) for a bad vector. */
int lia_cvss31_base(const char *vector, double *score, const char **severity, const char **why);
/* The qualitative rating of a score ("NONE" .. "CRITICAL"). */
const char *lia_cvss31_severity(double score);

/* ---- TLP ------------------------------------------------------------------------ */

/* CSAF 2.0's label for our TLP (enum lia_tlp): CLEAR -> "WHITE", GREEN,
 * AMBER, RED. NULL for AMBER+STRICT, which TLP 1.0 cannot express: we refuse
 * it (docs/advisories.md), with *why saying so (why may be NULL). */
const char *lia_csaf_tlp_label(int tlp, const char **why);
/* A CSAF label ("WHITE" .. "RED", ASCII case-insensitive) to our TLP; -1 if unknown. */
int lia_csaf_tlp_parse(const char *label);
/* The folder of a TLP in the provider ("white", "green", "amber", "red"); NULL for AMBER+STRICT. */
const char *lia_csaf_tlp_folder(int tlp);

/* ---- documents -------------------------------------------------------------------- */

/* One field of an advisory's simple input, as a line "key: value" of an
 * input file or a flag --key VALUE. Keys: id title category tlp lang
 * summary details sectors countries reference product cve vuln-title
 * vuln-note cvss affects fixed remediation (docs/advisories.md). */
typedef struct lia_advisory_field {
    const char *key, *value;
} lia_advisory_field;

/* Parse a simple input file: "key: value" lines, '#' comments, blank lines.
 * The fields point into text (which the caller keeps; its lines are cut with
 * NUL). *n fields into out[0..max). LIA_EPARSE naming the line otherwise. */
int lia_advisory_fields_parse(char *text, lia_advisory_field *out, size_t max, size_t *n, lia_error *err);
/* A JSON object of the same keys (a value a string or an array of strings for
 * repeated keys), e.g. {"title":"...","product":["P1=Vendor/Name/1.0"]},
 * to "key: value" lines appended to out. LIA_EPARSE naming the key. */
int lia_advisory_fields_from_json(const char *json, size_t len, lia_buf *out, lia_error *err);

/* Who publishes: the provider's settings (lia_advisory_setting_get). */
typedef struct lia_csaf_publisher {
    const char *name, *namespace_url, *category; /* category NULL: "coordinator" */
    const char *contact;                         /* may be NULL */
} lia_csaf_publisher;

/* Build a CSAF 2.0 document from fields (in order: a later value of a key
 * replaces an earlier one, products replace the product of the same id, a
 * cve field starts or selects a vulnerability the vuln-* fields apply to).
 * The JSON (indented) is appended to out; tracking is a draft (status
 * "draft", version "0") unless publish fills it. LIA_EINVAL with err naming
 * the field (err->line = its number, 1-based) and why. */
int lia_advisory_build(const lia_advisory_field *f, size_t n, const lia_csaf_publisher *pub, int64_t now_us,
                       lia_buf *out, lia_error *err);

/* A problem found in a document: the JSON pointer of the value ("/document/
 * title"; "" for the whole) and the reason. Non-zero from cb stops. */
typedef int (*lia_csaf_problem_cb)(void *ud, const char *path, const char *reason);
/* Our own checks of a CSAF 2.0 document: csaf_version, the profile (one of
 * the two we publish), title, publisher, tracking (id, version, status,
 * revision history, dates), the TLP label, notes and references the profile
 * needs, product ids (defined once, every reference defined), CVE ids, CVSS
 * 3.1 vectors (parsed; baseScore and baseSeverity equal to what the vector
 * gives), product status, remediations. *nproblems the number found (0:
 * valid). LIA_EPARSE (err) if json is not a JSON object. */
int lia_csaf_check(const char *json, size_t len, lia_csaf_problem_cb cb, void *ud, size_t *nproblems,
                   lia_error *err);

/* The file name of a tracking id (CSAF 2.0 section 5.1): lower case, each
 * run of characters other than [+\-a-z0-9] replaced by one '_', ".json" appended. */
size_t lia_csaf_filename(const char *tracking_id, char *out, size_t n);

/* ---- in the store ------------------------------------------------------------- */

/* The provider's settings: publisher_name, publisher_namespace,
 * publisher_category, contact, base_url (where `liaison serve` is reached:
 * the documents' canonical URLs), id_prefix (tracking ids PREFIX-YEAR-NNNN;
 * "LIA"), sign_key (the OpenPGP key that signs), gnupg_home. set: value NULL
 * removes; LIA_EINVAL for an unknown name or a bad value. get appends the
 * value to out (LIA_ENOTFOUND if unset). */
int lia_advisory_setting_set(lia_store *s, const char *name, const char *value, lia_error *err);
int lia_advisory_setting_get(lia_store *s, const char *name, lia_buf *out, lia_error *err);

/* A new draft advisory from fields (checked: lia_advisory_build, then
 * lia_csaf_check, whose problems go to cb and make it LIA_EINVAL), or, when
 * csaf is non-NULL, from a whole CSAF document (checked the same way; f and
 * n ignored). Its tracking id (the "id" field, else PREFIX-YEAR-NNNN) is
 * written to id_out. LIA_EEXIST for a tracking id taken. */
int lia_advisory_create(lia_store *s, const lia_advisory_field *f, size_t n, const char *csaf,
                        size_t csaf_len, lia_csaf_problem_cb cb, void *ud, char id_out[LIA_ADVISORY_ID_MAX],
                        lia_error *err);
/* The fields of an advisory from incident id, through the incident module's
 * API: title, summary (the description), sectors and countries, its TLP
 * (AMBER+STRICT refused unless tlp_override >= 0), category incident
 * response, and a reference to the incident under base_url if set. "key:
 * value" lines appended to out. LIA_ENOTFOUND for no such incident. */
int lia_advisory_fields_from_incident(lia_store *s, int64_t incident, int tlp_override, lia_buf *out,
                                      lia_error *err);
/* Edit: fields appended to the advisory's own (the document rebuilt and
 * checked; problems to cb, LIA_EINVAL), or a whole new CSAF document (csaf
 * non-NULL). A published advisory gets a new version when published again.
 * LIA_ENOTFOUND for no such advisory. */
int lia_advisory_edit(lia_store *s, const char *id, const lia_advisory_field *f, size_t n, const char *csaf,
                      size_t csaf_len, lia_csaf_problem_cb cb, void *ud, lia_error *err);

/* One advisory as listed. Strings valid for the callback only. */
typedef struct lia_advisory_info {
    const char *id, *title, *category;
    int tlp;                          /* enum lia_tlp */
    int version;                      /* the published version; 0 if never published */
    int changed;                      /* 1 if edited since its last publication (or never published) */
    int64_t created_us, published_us; /* published_us 0 if never */
    const char *path;                 /* "white/2026/lia-2026-0001.json" once published, else "" */
    const char *signature;            /* lia_advisory_get of the published one: its .asc; else NULL */
} lia_advisory_info;
typedef int (*lia_advisory_cb)(void *ud, const lia_advisory_info *a);
/* Every advisory, newest first; a non-zero return of cb stops and is returned. */
int lia_advisory_list(lia_store *s, lia_advisory_cb cb, void *ud, lia_error *err);
/* One advisory: its info to cb and its document appended to doc (the
 * published one if published is 1, else the draft; LIA_ENOTFOUND if it was
 * never published). */
int lia_advisory_get(lia_store *s, const char *id, int published, lia_advisory_cb cb, void *ud, lia_buf *doc,
                     lia_error *err);

/* Publish: the draft checked, its tracking set (status final, the next
 * version with its revision history entry, initial and current release
 * dates = now), a self reference under base_url, its SHA-512 and a detached
 * armored OpenPGP signature by sign_key (settings, or sign_key / gnupg_home
 * given here) stored with it; the provider's public key kept for
 * /.well-known/csaf/openpgp/. change: the revision's summary (NULL: "Initial
 * release" / "Update"). LIA_ESTATE if nothing changed since the last
 * publication; LIA_ECRYPTO without a usable signing key; problems to cb and
 * LIA_EINVAL. *version the published version. */
int lia_advisory_publish(lia_store *s, const char *id, const char *sign_key, const char *gnupg_home,
                         const char *change, int64_t now_us, lia_csaf_problem_cb cb, void *ud, int *version,
                         lia_error *err);

#endif
