/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: what the events store (events.c, owner of the reports, events,
 * quarantine and feed_stats tables) does for other modules, so that no
 * other module reads or writes those tables itself. */
#ifndef LIA_STORE_EVENTS_H
#define LIA_STORE_EVENTS_H

#include <stdint.h>

#include "liaison/store.h"
#include "store/db.h"

/* Deduplication: record in stored event `id` that it stands for count
 * events first and last seen at the given times (RFC 3339 text):
 * extra.dedup_count, extra.dedup_first_seen, extra.dedup_last_seen. Runs
 * in the caller's transaction. */
int lia__store_event_aggregate(lia_store *s, int64_t id, int64_t count, const char *first, const char *last,
                               lia_error *err);

/* Ingest's last step, in one transaction: the open batch, report r
 * complete, the run's stage counters c added to the feed's stats, and the
 * indexes after a bulk load. On failure nothing of it is kept (r stays
 * partial, its state says so). */
int lia__store_report_complete(lia_store *s, lia_report *r, const lia_counter c[LIA_ST__COUNT],
                               lia_error *err);
/* Roll back the open batch of a failed ingest (nothing if none). */
void lia__store_abort(lia_store *s);

/* Feed health: totals over the reports of one feed. */
typedef struct lia_feed_totals {
    uint64_t reports, rows, events, quarantined;
    int64_t last_report_us; /* start of the newest report; 0 if none */
} lia_feed_totals;
int lia__store_feed_totals(lia_store *s, const char *feed, lia_feed_totals *out, lia_error *err);

/* The dashboard's rollups (summary.c): their tables (schema
 * "store.rollup"), made at open, with the events already stored. */
int lia__store_rollup_schema(lia_db *db, lia_error *err);
/* The prune's own table (prune_archive: archives to delete). */
int lia__store_prune_schema(lia_db *db, lia_error *err);

/* What the open transaction stored, gathered for the rollups and written
 * to them once before it commits (a rollup with many keys, such as ASNs or
 * products, upserted per batch dirtied most of its pages every batch):
 * add after each batch is inserted, flush before the commit, reset after
 * a rollback. */
typedef struct lia__rollup_slot {
    uint64_t hash; /* 0: empty */
    uint32_t off, len;
    int64_t n;
} lia__rollup_slot;

typedef struct lia__rollup_acc {
    lia_buf keys;           /* each key: a tag byte (the rollup), its columns */
    lia__rollup_slot *slot; /* open addressing, cap a power of two */
    size_t n, cap;
    int64_t sign; /* 1: counts are added; -1: taken off (a prune) */
} lia__rollup_acc;

void lia__rollup_acc_init(lia__rollup_acc *a);
int lia__rollup_acc_add(lia_db *db, lia__rollup_acc *a, int64_t report_id, const lia_event *ev, size_t n,
                        lia_error *err);
int lia__rollup_acc_flush(lia_db *db, lia__rollup_acc *a, lia_error *err);
void lia__rollup_acc_reset(lia__rollup_acc *a);
void lia__rollup_acc_free(lia__rollup_acc *a);

/* A prune (prune.c): every rollup less the events of temp.lia_forget_event
 * (store/forget.h), counted by the same rule that counted them in
 * (lia__rollup_acc_add, from their stored bodies), and the keys left at
 * zero removed. In the caller's transaction, before the events go. */
int lia__store_rollup_forget(lia_db *db, lia_error *err);

#endif
