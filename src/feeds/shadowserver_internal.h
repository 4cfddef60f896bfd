/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the "shadowserver" format's state opened on a schema the
 * caller already loaded (borrowed: it must outlive the state). Used by
 * fuzz/fuzz_shadowserver.c so a run does not parse the schema again;
 * close with lia_format_shadowserver.close. */
#ifndef LIA_FEEDS_SHADOWSERVER_INTERNAL_H
#define LIA_FEEDS_SHADOWSERVER_INTERNAL_H

#include "liaison/pipeline.h"
#include "liaison/shadowserver.h"

extern const lia_format lia_format_shadowserver;
int lia__ss_open(void **st, const lia_ss_schema *schema, const lia_feed_opts *o, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* Load and validate a schema from JSON text (name is used in messages).
 * A malformed schema (not JSON, wrong types, unknown conversion, bad
 * constant value ...) fails with err naming the report, the key and why.
 * Field names Liaison does not have are not errors: in optional_fields the
 * value goes to extra.<that name> (as IntelMQ does); in required_fields or
 * constant_fields the report is marked unusable (lia_ss_report_info.problem). */
int lia__shadowserver_parse(const char *json, size_t len, const char *name, lia_ss_schema **out,
                            lia_error *err);

#endif
