/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Per-recipient redaction: the fields of the configuration's redact,
 * redact_owner and redact_partner lists are removed from an event copy.
 * The copy is made in memory: the fields that stay are copied, the redacted
 * ones unset, the extras that stay added one by one (no JSON on the way). */
#include <string.h>

#include "liaison/route.h"
#include "route/internal.h"

/* Does the name pfx + s[0..n) match pattern p (a name, or a prefix ending in
 * '*')? */
static int match(const char *p, const char *pfx, const char *s, size_t n)
{
    size_t l = strlen(p), pl = strlen(pfx), want;
    int star = l && p[l - 1] == '*';
    want = star ? l - 1 : l;
    if (!star && want != pl + n)
        return 0;
    if (want <= pl)
        return memcmp(p, pfx, want) == 0;
    return memcmp(p, pfx, pl) == 0 && want - pl <= n && memcmp(p + pl, s, want - pl) == 0;
}

static int redacted(const lia_route *rt, int k2, const char *pfx, const char *s, size_t n)
{
    static char *const dflt[] = {(char *)"raw"};
    char *const *all = rt->cf.redact_set ? rt->cf.redact[0] : dflt;
    size_t nall = rt->cf.redact_set ? rt->cf.nredact[0] : 1;
    for (size_t i = 0; i < nall; i++)
        if (match(all[i], pfx, s, n))
            return 1;
    for (size_t i = 0; i < rt->cf.nredact[k2]; i++)
        if (match(rt->cf.redact[k2][i], pfx, s, n))
            return 1;
    return 0;
}

int lia__route_redact(const lia_route *rt, int idx, const lia_event *ev, lia_event *out, lia_error *err)
{
    static const char none[] = "all fields redacted for this recipient";
    int rc, k2 = rt->p[idx].kind == LIA_PARTY_OWNER ? 1 : 2;
    lia_event fields = *ev; /* a borrowed view of ev without its extras */
    size_t left = 0;
    lia_event_reset(out);
    fields.nextra = 0;
    if ((rc = lia_event_copy(out, &fields, err)))
        return rc;
    for (int f = 0; f < LIA_F__COUNT; f++) {
        const char *name;
        if (!lia_event_has(out, (lia_field)f))
            continue;
        name = lia_field_name((lia_field)f);
        if (redacted(rt, k2, "", name, strlen(name)))
            lia_event_unset(out, (lia_field)f);
        else
            left++;
    }
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        const char *k = ev->text.ptr + x->koff;
        if (redacted(rt, k2, "extra.", k, x->klen))
            continue;
        if ((rc = lia_event_extra_json(out, k, x->klen, ev->text.ptr + x->voff, x->vlen, err)))
            return rc;
        left++;
    }
    /* nothing left: keep an explicit, harmless marker */
    if (left == 0 && (rc = lia_event_set(out, LIA_F_COMMENT, none, sizeof none - 1, err)))
        return rc;
    out->id = ev->id;
    out->report_id = ev->report_id;
    out->line = ev->line;
    return LIA_OK;
}
