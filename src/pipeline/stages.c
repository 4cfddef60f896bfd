/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one registration table of stages run between normalise and store.
 * Enrichment, deduplication and routing plug in here, in that order. */
#include <stddef.h>

#include "liaison/ingest.h"
#include "liaison/route.h"

static const char *const stage_names[LIA_ST__COUNT] = {
    "read", "parse", "normalise", "enrich", "dedup", "route", "store",
};

const char *lia_stage_name(int stage)
{
    return stage >= 0 && stage < LIA_ST__COUNT ? stage_names[stage] : "?";
}

extern const lia_stage lia_stage_enrich; /* src/enrich/stage.c */
extern const lia_stage lia_stage_dedup;  /* src/enrich/stage.c */

const lia_stage *const lia_stages[] = {
    &lia_stage_enrich,
    &lia_stage_dedup,
    &lia_stage_route,
    NULL,
};
