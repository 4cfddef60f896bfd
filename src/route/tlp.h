/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one TLP policy, inline: the route decision checks it for every
 * candidate recipient of every event, and every other outgoing path (TAXII,
 * MISP, digests) calls the same two functions. Internal. */
#ifndef LIA_ROUTE_TLP_H
#define LIA_ROUTE_TLP_H

#include <string.h>

#include "liaison/route.h"

/* The same policy on plain values, for outgoing paths that carry no
 * lia_event (a STIX object in a TAXII collection, a MISP event): tlp is an
 * enum lia_tlp or -1 for "unmarked"; same_org: the recipient is the
 * organisation that owns the data. lia__tlp_allows() calls it. */
static inline int lia__tlp_check(const lia_recipient *r, int tlp, int same_org, const char **reason)
{
    const char *why;
    int ok = 0, marked = tlp >= 0;
    if (!marked)
        tlp = LIA_TLP_AMBER;
    if (tlp > LIA_TLP_RED)
        why = "unknown TLP marking: never delivered";
    else if (tlp == LIA_TLP_RED)
        why = "TLP:RED is never delivered";
    else if (tlp == LIA_TLP_AMBER_STRICT && r->kind != LIA_PARTY_OWNER)
        why = "TLP:AMBER+STRICT stays inside the owning organisation: never to a partner CERT";
    else if (tlp == LIA_TLP_AMBER_STRICT && !same_org)
        why = "TLP:AMBER+STRICT goes only to the organisation that owns the network";
    else if (tlp > r->tlp_max)
        why = "the event's TLP is above the recipient's ceiling (tlp_max)";
    else if (r->kind == LIA_PARTY_PARTNER && !r->agreement && tlp != LIA_TLP_CLEAR)
        why = "no sharing agreement with this partner: only TLP:CLEAR may go";
    else {
        ok = 1;
        why = marked ? "TLP within the recipient's ceiling"
                     : "no TLP marking (treated as TLP:AMBER), within the ceiling";
    }
    if (reason)
        *reason = why;
    return ok;
}

/* ---- internal (was in the public API) ---- */

/* The one TLP policy. 1 if event ev may go to r, 0 if not; *reason (may be
 * NULL) gets a static English sentence either way. owner_id is the id of the
 * constituent that owns the event's network (lia_route_owner), NULL if none.
 * Rules, in order: TLP:RED never leaves; AMBER+STRICT goes only to the
 * owning organisation itself (never to a partner CERT); nothing above the
 * recipient's ceiling; a partner without an agreement gets TLP:CLEAR only.
 * An event without a TLP marking is treated as TLP:AMBER. */
static inline int lia__tlp_allows(const lia_recipient *r, const lia_event *ev, const char *owner_id,
                                  const char **reason)
{
    int tlp = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : -1;
    int same = owner_id && (owner_id == r->id || strcmp(owner_id, r->id) == 0);
    return lia__tlp_check(r, tlp, same, reason);
}

#endif
