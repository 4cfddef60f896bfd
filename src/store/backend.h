/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the table of operations a store backend implements. The public
 * functions of store.h dispatch through it. */
#ifndef LIA_STORE_BACKEND_H
#define LIA_STORE_BACKEND_H

#include "liaison/store.h"
#include "store/db.h"

typedef struct lia_store_backend {
    const char *name;
    int (*open)(void **impl, const char *path, lia_error *err);
    void (*close)(void *impl);
    int (*schema_version)(void *impl);
    int (*report_begin)(void *impl, lia_report *r, lia_error *err);
    int (*put_events)(void *impl, const lia_report *r, lia_event *ev, size_t n, lia_error *err);
    int (*put_quarantine)(void *impl, const lia_report *r, uint64_t line, lia_slice raw,
                          const lia_error *why, lia_error *err);
    int (*checkpoint)(void *impl, const lia_report *r, lia_error *err);
    int (*report_finish)(void *impl, lia_report *r, const lia_counter *c, lia_error *err);
    void (*abort)(void *impl);
    void (*set_bulk_min)(void *impl, uint64_t bytes);
    int (*report_get)(void *impl, int64_t id, lia_report *r, lia_error *err);
    int (*query)(void *impl, const lia_query *q, lia_event_cb cb, void *ud, lia_error *err);
    int (*count)(void *impl, const lia_query *q, uint64_t *out, lia_error *err);
    int (*quarantine_list)(void *impl, const char *feed, int64_t report_id, uint64_t limit,
                           lia_qrow_cb cb, void *ud, lia_error *err);
    int (*group)(void *impl, const lia_query *q, const char *by, uint64_t limit, lia_group_cb cb,
                 void *ud, lia_error *err);
    int (*stats_add)(void *impl, const char *feed, const lia_counter *c, lia_error *err);
    int (*stats)(void *impl, lia_stats_cb cb, void *ud, lia_error *err);
    int (*check)(void *impl, lia_error *err);
    lia_db *(*db)(void *impl);
    void (*set_part_rows)(void *impl, int64_t rows); /* may be NULL */
} lia_store_backend;

/* The one implementation: the events store (events.c) on the database
 * layer (db.h), whatever the driver. */
extern const lia_store_backend lia__store_events;

/* ---- internal (was in the public API) ---- */

/* The store's PATH as given to lia_store_open, without a "sqlite:" prefix
 * (owned by s): what files beside the store, such as its configuration
 * (lia_enrich_conf_path), are named after. */
const char *lia__store_path(lia_store *s);

/* Find the report with r->hash or create it (state NEW); fills r. A report
 * of at least the bulk minimum (LIA_BULK_MIN_BYTES) whose estimated rows
 * (r->size / LIA_BULK_ROW_BYTES) are at least the events already stored is
 * loaded without the secondary event indexes, which report_finish builds
 * again in the transaction that marks the report complete (queries
 * meanwhile are right, only slower), or lia_store_close if the report was
 * not finished; otherwise begin makes sure they all exist (after a bulk
 * load whose process was killed). A report is never complete without its
 * indexes: killed during the build, it stays partial and resumes. */
int lia__store_report_begin(lia_store *s, lia_report *r, lia_error *err);
/* Set the bulk minimum in bytes (UINT64_MAX: never; 0: every report that is
 * large against the store). */
void lia__store_set_bulk_min(lia_store *s, uint64_t bytes);
/* SQLite: the ids (hence rows) of each events partition created from now
 * on (store/parts.h; tests and benchmarks). No effect on PostgreSQL. */
void lia__store_set_part_rows(lia_store *s, int64_t rows);
/* Write events and quarantined rows of the current batch, then record
 * progress (lines_done and counts) and commit, all in one transaction. */
int lia__store_put_events(lia_store *s, const lia_report *r, lia_event *ev, size_t n, lia_error *err);
int lia__store_put_quarantine(lia_store *s, const lia_report *r, uint64_t line, lia_slice raw,
                              const lia_error *why, lia_error *err);
int lia__store_checkpoint(lia_store *s, const lia_report *r, lia_error *err);
/* One transaction: the open batch, r complete, and the indexes after a bulk
 * load; on failure none of it (r->state stays partial). */
int lia__store_report_finish(lia_store *s, lia_report *r, lia_error *err);
int lia__store_report_get(lia_store *s, int64_t id, lia_report *r, lia_error *err);

int lia__store_stats_add(lia_store *s, const char *feed, const lia_counter c[LIA_ST__COUNT], lia_error *err);

#endif
