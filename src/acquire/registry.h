/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: shared by the feed registry, fetch and health. */
#ifndef LIA_FEEDS_REGISTRY_H
#define LIA_FEEDS_REGISTRY_H

#include "liaison/feeds.h"
#include "store/db.h"

/* The store's database handle with the registry tables created (or an
 * error). */
int lia__feeds_db(lia_store *s, lia_db **out, lia_error *err);

#endif
