/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: shared by the feed registry, fetch and health. */
#ifndef LIA_FEEDS_REGISTRY_H
#define LIA_FEEDS_REGISTRY_H

#include <sqlite3.h>

#include "liaison/feeds.h"

/* The store's sqlite3* with the registry tables created (or an error). */
int lia__feeds_db(lia_store *s, sqlite3 **out, lia_error *err);

#endif
