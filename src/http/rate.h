/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* http/rate.h - internal: the token buckets of the HTTP server in the
 * store (table http_rate), shared by every `liaison serve` on it, so
 * replicas behind a load balancer limit a key together
 * (docs/architecture.md, "Replicas").
 *
 * One bucket per key (key id, or -user id for passwords): its tokens and
 * the time they were counted. A request takes one token in one atomic
 * upsert: the refill since then (rate per second, at most burst) is
 * computed in the statement, and the row changes only when a whole token
 * is there, so of two replicas at once no token is spent twice (a
 * PostgreSQL row lock; SQLite's one writer). Times are the caller's wall
 * clock (the replicas' clocks agree to within NTP: a skew of s moves a
 * refill by s x rate tokens at most). */
#ifndef LIA_HTTP_RATE_H
#define LIA_HTTP_RATE_H

#include <stdint.h>

#include "liaison/error.h"
#include "store/db.h"

/* Take a token of bucket who at now_us: *ok = 1 (taken) or 0 (empty;
 * *retry_s: seconds until one is there). A new bucket starts full
 * (burst). LIA_OK, or the statement's error (LIA_EBUSY: the store is
 * locked by a writer longer than the handle's busy timeout). Outside a
 * transaction of db (it commits at once). */
/* Make or migrate the table http_rate (store copy makes it on the
 * destination). */
int lia__http_rate_schema(lia_db *db, lia_error *err);

int lia__http_rate_take(lia_db *db, int64_t who, double rate, double burst, int64_t now_us, int *ok,
                        double *retry_s, lia_error *err);

#endif
