/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: how the modules whose rows hang from stored events learn that
 * events are going (liaison store prune, src/store/prune.c).
 *
 * The store owns the events; route (decisions), dedup (aggregates), notify
 * (which notification carried which event) and incidents (links) keep rows
 * that name event ids. A prune does not reach into their tables: inside the
 * prune's transaction, before it deletes anything of its own, the store
 * fills the set of the events (and reports) that are going and calls each
 * hook of the one table lia__store_forgets[] (src/store/forget.c), in table
 * order. A hook removes its module's rows of those events, or keeps what it
 * must keep (incidents copy the events they link), and says how many rows
 * it touched. What a hook writes commits or rolls back with the prune's
 * batch; an error rolls the batch back and stops the prune.
 *
 * The set: the temporary tables lia_forget_event(id INTEGER PRIMARY KEY)
 * and lia_forget_report(id INTEGER PRIMARY KEY), readable by a hook's SQL
 * (`WHERE event_id IN (SELECT id FROM temp.lia_forget_event)`) on the
 * store's handle. When time partitions land, dropping a partition goes
 * through the same call: the store fills the set with the partition's ids
 * (or, for a partition, its id range [lo, hi], both given here), so the
 * hooks do not change. An event's fields, for a hook that keeps a copy,
 * come from the store (lia_store_event_get): the events are still there
 * when the hooks run.
 *
 * Dry run: the batch's transaction is rolled back after the hooks and the
 * store have counted, so a hook does the same work either way. */
#ifndef LIA_STORE_FORGET_H
#define LIA_STORE_FORGET_H

#include <stdint.h>

#include "liaison/store.h"

typedef struct lia_forget {
    uint64_t events;  /* how many ids lia_forget_event holds */
    uint64_t reports; /* how many whole reports lia_forget_report holds */
    int64_t lo, hi;   /* the smallest and largest event id of the set */
    int64_t at_us;    /* when the prune runs (what a copy records) */
} lia_forget;

typedef struct lia_forget_hook {
    const char *name; /* the module ("route"), for error messages */
    /* Remove (or keep a copy of) the module's rows of the events of f, in
     * the caller's transaction; *rows = the rows removed or copied. A store
     * that never had the module's tables is LIA_OK with 0. */
    int (*forget)(lia_store *s, const lia_forget *f, uint64_t *rows, lia_error *err);
    /* Optional (NULL: none): once per prune, before its first transaction,
     * bring the tables the hook writes to their version (a migration run
     * inside a batch that a dry run rolls back would be remembered as done
     * by the handle while its tables are gone). */
    int (*ready)(lia_store *s, lia_error *err);
} lia_forget_hook;

/* Which counter of lia_prune_result each hook's rows go to: the table's
 * order is the counters' (src/store/forget.c). */
enum { LIA_FORGET_INCIDENT, LIA_FORGET_ROUTE, LIA_FORGET_DEDUP, LIA_FORGET_NOTIFY, LIA_FORGET__COUNT };

/* NULL-terminated, LIA_FORGET__COUNT entries. */
extern const lia_forget_hook *const lia__store_forgets[];

#endif
