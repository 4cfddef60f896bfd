/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: what the route module offers other modules of libliaison about
 * its route_decision table (route owns it; notify reads and updates it only
 * through these). Not part of the public API. Same thread rules as the
 * store: one thread per lia_store. */
#ifndef LIA_ROUTE_DECISIONS_H
#define LIA_ROUTE_DECISIONS_H

#include "liaison/route.h"

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/store.h"

/* Recipients with decisions still to notify (verdict deliver, not yet
 * notified), in name order, with how many; only: that recipient, or NULL for
 * all. cb's non-zero return stops the walk and is returned. The strings are
 * valid during the call. */
typedef int (*lia__route_pending_rcpt_cb)(void *ud, const char *recipient, uint64_t n);
int lia__route_pending_recipients(lia_store *s, const char *only, lia__route_pending_rcpt_cb cb, void *ud,
                                  lia_error *err);

/* Event ids still to notify for recipient, in id order. cb's non-zero
 * return stops the walk and is returned (LIA__ROUTE_STOP: stop, LIA_OK
 * returned). cb may read the store but not change route_decision. */
#define LIA__ROUTE_STOP 1
typedef int (*lia__route_pending_cb)(void *ud, int64_t event_id);
int lia__route_pending(lia_store *s, const char *recipient, lia__route_pending_cb cb, void *ud,
                       lia_error *err);

/* Mark the decisions (event_ids[i], recipient) notified at `at` by
 * notification nids[i]. Runs in the caller's transaction, if any. */
int lia__route_mark_notified(lia_store *s, const char *recipient, const int64_t *event_ids,
                             const int64_t *nids, size_t n, int64_t at, lia_error *err);

/* Refused at send time: the decisions (event_ids[i], recipient) not yet
 * notified become verdict deny with this reason (a static sentence). */
int lia__route_withhold(lia_store *s, const char *recipient, const int64_t *event_ids, size_t n,
                        const char *reason, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* Create the module's tables if needed. */
int lia__route_schema(lia_store *s, lia_error *err);

#endif
