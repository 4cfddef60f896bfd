/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: shared by the feed registry, fetch and health. */
#ifndef LIA_FEEDS_REGISTRY_H
#define LIA_FEEDS_REGISTRY_H

#include "liaison/feeds.h"
#include "store/db.h"

/* The store's database handle with the registry tables created (or an
 * error). */
int lia__feeds_db(lia_store *s, lia_db **out, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* Check a feed definition (name, format, exactly one of url/dir, http(s)
 * scheme, interval >= 0). */
int lia__feed_validate(const lia_feed *f, lia_error *err);

/* Write the state part of f (etag ... last_error) back. */
int lia__feeds_save_state(lia_store *s, const lia_feed *f, lia_error *err);
/* Ingest options for a report of feed f (borrowing f's strings). */
void lia__feed_ingest_opts(const lia_feed *f, lia_ingest_opts *o);

#endif
