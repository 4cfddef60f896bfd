/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* drill/internal.h - internal: what other modules of the library need of
 * the drills. */
#ifndef LIA_DRILL_INTERNAL_H
#define LIA_DRILL_INTERNAL_H

#include "liaison/error.h"
#include "liaison/store.h"

/* Make or migrate the drills' tables (and the incidents' they build on)
 * in s (store copy makes them on the destination). */
int lia__drill_schema(lia_store *s, lia_error *err);

#endif
