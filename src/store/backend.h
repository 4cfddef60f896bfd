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
    int (*report_finish)(void *impl, lia_report *r, lia_error *err);
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
} lia_store_backend;

/* The one implementation: the events store (events.c) on the database
 * layer (db.h), whatever the driver. */
extern const lia_store_backend lia__store_events;

#endif
