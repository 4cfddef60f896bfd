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

#endif
