/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one TLP policy: may this recipient receive an event of this marking?
 * The rules are in tlp.h (inline, for the route decision). */
#include "liaison/route.h"
#include "route/tlp.h"

int lia_tlp_check(const lia_recipient *r, int tlp, int same_org, const char **reason)
{
    return lia__tlp_check(r, tlp, same_org, reason);
}

int lia_tlp_allows(const lia_recipient *r, const lia_event *ev, const char *owner_id, const char **reason)
{
    return lia__tlp_allows(r, ev, owner_id, reason);
}
