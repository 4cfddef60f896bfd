/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: leases, so that of several processes (on one machine or on
 * several, on one PostgreSQL store or one SQLite file) one at a time does
 * a piece of work: a notifier one recipient's digest, a node sync one
 * peer's outbox (docs/architecture.md, "Replicas").
 *
 * A lease is a row of store_lease: a name ("notify:partner:X"), its holder
 * (lia__lease_holder: host, pid and a random part, one per process) and
 * the time it expires. Taking it is one atomic statement, an upsert whose
 * update only happens when the row has expired or is the taker's own, so
 * of two takers at once exactly one wins. The holder renews it while it
 * works and deletes it when done; a holder that dies (kill -9) leaves a
 * row that expires, and then another takes the work over. Times: on
 * PostgreSQL the server's clock (clock_timestamp()), so the nodes' clocks
 * do not matter; on SQLite the machine's (every process is on it).
 *
 * Each call is its own statement, committed at once: outside any
 * transaction of the handle (LIA_EINVAL otherwise, since a lease taken in
 * a transaction would be seen by no one before its commit).
 * Threads: as the handle's (db.h). */
#ifndef LIA_STORE_LEASE_H
#define LIA_STORE_LEASE_H

#include <stdint.h>

#include "liaison/error.h"
#include "store/db.h"

/* Make or migrate the table store_lease (store copy makes it on the
 * destination). */
int lia__lease_schema(lia_db *db, lia_error *err);

/* Longest lease name and holder, in bytes (a longer one is LIA_EINVAL). */
#define LIA_LEASE_NAME_MAX   256
#define LIA_LEASE_HOLDER_MAX 128

/* This process's holder name, "HOST:PID:RANDOM" (made once; thread-safe;
 * a child after fork gets its own). */
const char *lia__lease_holder(void);

/* Take lease `name` for ttl_ms (> 0) for holder (NULL: this process's):
 * *got = 1 if it is ours now (free, expired, ours already: then renewed,
 * or held by a process of this machine, by host name, that is gone), 0 if another holds it, *until_us (may be
 * NULL) then the time its lease ends (the clock of the database's machine, microseconds since the epoch) and
 * *who (may be NULL; LIA_LEASE_HOLDER_MAX bytes) its holder. LIA_OK or the statement's error. */
int lia__lease_take(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *got,
                    int64_t *until_us, char *who, lia_error *err);
/* Extend our lease by ttl_ms from now: *held = 1, or 0 if it is not ours
 * any more (it expired and another took it: stop the work). */
int lia__lease_renew(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *held,
                     lia_error *err);
/* Give the lease back (nothing if it is not ours). */
int lia__lease_release(lia_db *db, const char *name, const char *holder, lia_error *err);

#endif
