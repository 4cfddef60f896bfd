/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one table of the modules that keep rows hanging from stored events,
 * told by a prune which events go (store/forget.h). Incidents come first:
 * they copy the events they link while the events and their decisions are
 * all still there. A new module with rows naming events: one hook in its
 * own file, one line here (and its counter in liaison/store.h). */
#include <stddef.h>

#include "store/forget.h"

extern const lia_forget_hook lia__incident_forget; /* src/incident/store.c: copies of linked events */
extern const lia_forget_hook lia__route_forget;  /* src/route/decisions.c: route_decision, route_delivered */
extern const lia_forget_hook lia__dedup_forget;  /* src/enrich/dedup.c: dedup */
extern const lia_forget_hook lia__notify_forget; /* src/notify/delivery.c: notification_event, _delivery */

const lia_forget_hook *const lia__store_forgets[] = {
    [LIA_FORGET_INCIDENT] = &lia__incident_forget,
    [LIA_FORGET_ROUTE] = &lia__route_forget,
    [LIA_FORGET_DEDUP] = &lia__dedup_forget,
    [LIA_FORGET_NOTIFY] = &lia__notify_forget,
    [LIA_FORGET__COUNT] = NULL,
};
