/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the events table's partitions on SQLite (issue 12 point 1),
 * used only by the events store (events.c, prune.c, summary.c).
 *
 * The events are kept in tables events_1, events_2 ... in the store's one
 * file, each a size-bounded segment that owns a range of ids [lo, hi]
 * allocated when it is created, so an event id names its partition. A
 * small catalog, event_part(n, lo, hi, tmin, tmax, rows, sealed), says
 * which exist, the time range of their rows (time.source, else
 * time.observation) and whether they are sealed. A view named `events`,
 * the UNION ALL of the partitions in id order, keeps every reader's SQL
 * (the rollups' build, the tests, `sqlite3` by hand) as it was.
 *
 * The partition that receives the writes (the active one, the last) has
 * only its (report_id, line) index, so an insert costs the same whatever
 * the store holds. When it is full, the next one is created in the same
 * transaction; after that transaction commits, the full one is sealed: its
 * five secondary indexes (time, source IP, country, ASN, class) built once,
 * sorted, and sealed = 1, all in one transaction of their own (killed
 * meanwhile, nothing of the seal is kept and the next write or open seals
 * it again: never half sealed).
 *
 * PostgreSQL keeps one logical events table: none of this runs there
 * (events.c calls it only when !lia__db_is_pg). */
#ifndef LIA_STORE_PARTS_H
#define LIA_STORE_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "store/db.h"

/* Ids a new partition owns unless lia__parts_set_rows said otherwise:
 * docs/performance.md, "Time partitions", says why this size. */
#define LIA_PART_ROWS ((int64_t)1 << 21)

/* At most this many partitions in one compound SELECT (SQLite's limit is
 * 500): the view nests past it, a group reads through the view. */
#define LIA_PART_VIEW_ARMS 400

typedef struct lia__parts lia__parts;

/* One partition, from the catalog. has_t: tmin and tmax are set (the
 * partition holds a row with a time). */
typedef struct lia__part {
    int64_t n, lo, hi, tmin, tmax, rows;
    int sealed, has_t;
} lia__part;

/* The partitions of db (migrating a store with one events table: that
 * table becomes partition 1, its rows untouched). *out NULL with LIA_OK: a
 * read-only store not migrated yet, read as one table. SQLite only. */
int lia__parts_open(lia_db *db, lia__parts **out, lia_error *err);
void lia__parts_close(lia__parts *p);
/* Ids of the partitions created from now on (tests, benchmarks). */
void lia__parts_set_rows(lia__parts *p, int64_t rows);

/* Writing, in the events store's transaction: begin when it opens,
 * next before each insert (the statement to bind, ?1..?9 as the events
 * table's columns after id, and the id it gets, bound as ?10; rolls over
 * to a new partition when the active one is full), note after it (the
 * row's time), flush before the commit (the catalog), reset after a
 * rollback. */
int lia__parts_begin(lia__parts *p, lia_error *err);
int lia__parts_next(lia__parts *p, lia_stmt **st, int64_t *id, lia_error *err);
void lia__parts_note(lia__parts *p, int has_time, int64_t time);
/* next for an event that keeps its id (a store copy, src/store/copy.c):
 * ids at least the next one, in increasing order; the active partition
 * takes it if it owns it (or is empty: its range then starts at id),
 * else a new partition starting at id does. LIA_EINVAL for an id below
 * the next. */
int lia__parts_next_at(lia__parts *p, int64_t id, lia_stmt **st, lia_error *err);
int lia__parts_flush(lia__parts *p, lia_error *err);
void lia__parts_reset(lia__parts *p);
/* Outside a transaction: seal every full partition not sealed yet, each
 * in its own transaction (fault point "partition-seal" after each index). */
int lia__parts_seal(lia__parts *p, lia_error *err);

/* The partitions, in id order, that may hold an event with time in
 * [since, until) (0: open) and id > after_id. *out freed by the caller. */
int lia__parts_list(lia_db *db, int64_t since, int64_t until, int64_t after_id, lia__part **out, size_t *n,
                    lia_error *err);
/* The partition that owns id (LIA_ENOTFOUND if none does). */
int lia__parts_find(lia_db *db, int64_t id, int64_t *n, lia_error *err);
/* 1 if db's events are partitioned (the catalog exists). */
int lia__parts_on(lia_db *db);
/* "events_N" */
void lia__part_table(int64_t n, char *buf, size_t len);

/* A prune: remove the events of temp.lia_forget_event from their
 * partitions; a partition (not the active one) whose every row is in the
 * set is dropped whole (DROP TABLE) instead of deleted row by row.
 * *events += the events removed, *dropped += the partitions dropped. In
 * the caller's transaction. */
int lia__parts_forget(lia_db *db, uint64_t *events, uint64_t *dropped, lia_error *err);

#endif
