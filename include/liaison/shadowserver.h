/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/shadowserver.h - Shadowserver's report schema.
 *
 * Format "shadowserver" reads any Shadowserver report (CSV, or the reports
 * API's JSON: an array of objects or one object per line) with one engine
 * driven by the schema Shadowserver publishes for IntelMQ (one entry per
 * report type: required and optional columns with the field and conversion
 * each maps to, constant fields, feed name, file name, documentation URL).
 * A copy is built into the library (share/shadowserver/intelmq.json); a newer
 * one can be installed next to a store (lia_shadowserver_install) and is then
 * used instead, so new report types need no rebuild. The retired report types
 * (share/shadowserver/retired.json, built in) join whichever schema loads.
 *
 * Format options (lia_feed_opts): subtype = report type (schema key or file
 * name, e.g. "scan_ics"); otherwise report_name is used to detect it from
 * Shadowserver's file naming ("2024-05-01-scan_ics-asn-...csv"). map_path =
 * a schema file to use instead of the built-in one. feed = feed.name of the
 * events; when NULL the report's feed name from the schema. */
#ifndef LIAISON_SHADOWSERVER_H
#define LIAISON_SHADOWSERVER_H

#include <stddef.h>

#include "liaison/error.h"

typedef struct lia_ss_schema lia_ss_schema;

/* From a file; path NULL = the built-in schema. */
int lia_shadowserver_load(const char *path, lia_ss_schema **out, lia_error *err);
void lia_shadowserver_free(lia_ss_schema *s);

typedef struct lia_ss_report_info {
    const char *name;        /* schema key, e.g. "scan_ics" */
    const char *feed_name;   /* e.g. "Accessible-ICS" */
    const char *file_name;   /* file name part, e.g. "scan_ics" */
    const char *url;         /* documentation page, or "" */
    const char *taxonomy;    /* constant classification.taxonomy, or "" */
    const char *type;        /* constant classification.type, or "" */
    const char *identifier;  /* constant classification.identifier, or "" */
    const char *problem;     /* "" or why this report cannot be read (e.g. a
                                required column maps to a field Liaison lacks) */
    size_t nrequired, noptional;
    int retired; /* a type Shadowserver no longer publishes, kept so
                    archived reports are read (retired.json) */
} lia_ss_report_info;

/* Number of report types in schema s. */
size_t lia_shadowserver_count(const lia_ss_schema *s);
/* Report i (0 .. count-1), sorted by name. Strings live as long as s. */
void lia_shadowserver_report(const lia_ss_schema *s, size_t i, lia_ss_report_info *out);
/* Column j (0 .. nrequired + noptional - 1) of report i; *required set. */
const char *lia_shadowserver_column(const lia_ss_schema *s, size_t i, size_t j, int *required);
/* _meta.date_created of the schema, or "". */
const char *lia_shadowserver_date(const lia_ss_schema *s);

/* Index of the report named name (schema key, else file name, else feed
 * name such as "Accessible-ICS"), or -1. */
int lia_shadowserver_find(const lia_ss_schema *s, const char *name);
/* Index of the report a file name is for ("2024-05-01-scan_ics-asn.csv"
 * -> scan_ics; a directory part is ignored; the longest file name that
 * matches at a "-", "." or end boundary wins). LIA_ENOTFOUND with err
 * saying why when none matches. */
int lia_shadowserver_detect(const lia_ss_schema *s, const char *file_name, lia_error *err);

/* Path of the schema installed for the store at store_path
 * (STORE.schema/shadowserver.json) into out. Returns 1 if that file exists,
 * 0 if not, or LIA_ELIMIT if out is too small. */
int lia_shadowserver_installed(const char *store_path, char *out, size_t n);
/* Validate the schema file src and install it for the store at store_path
 * (atomically: a temporary file renamed into place). *count gets its number
 * of reports and *unusable the number with a problem (either may be NULL). */
int lia_shadowserver_install(const char *store_path, const char *src, size_t *count, size_t *unusable,
                             lia_error *err);

#endif
