/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Incident statuses and the ONE table of allowed status transitions; hand-off
 * states per recipient and their table; severities. */
#include <stdio.h>
#include <string.h>

#include "liaison/incident.h"
#include "liaison/slice.h"
#include "incident/internal.h"

#define BIT(s) (1u << (s))

static const char *const status_names[LIA_INC__COUNT] = {
    "new",      "triaged", "notified", "acknowledged", "mitigating",
    "resolved", "closed",  "rejected", "duplicate",    "merged",
};

/* The allowed transitions: row = from, bits = to. Reopening goes back to
 * triaged (closed, rejected, duplicate) or mitigating (resolved); merged is
 * final: the incident it was merged into carries its links and timeline. */
static const uint32_t next_status[LIA_INC__COUNT] = {
    [LIA_INC_NEW] =
        BIT(LIA_INC_TRIAGED) | BIT(LIA_INC_REJECTED) | BIT(LIA_INC_DUPLICATE) | BIT(LIA_INC_MERGED),
    [LIA_INC_TRIAGED] = BIT(LIA_INC_NOTIFIED) | BIT(LIA_INC_MITIGATING) | BIT(LIA_INC_RESOLVED) |
                        BIT(LIA_INC_REJECTED) | BIT(LIA_INC_DUPLICATE) | BIT(LIA_INC_MERGED),
    [LIA_INC_NOTIFIED] = BIT(LIA_INC_ACKNOWLEDGED) | BIT(LIA_INC_MITIGATING) | BIT(LIA_INC_RESOLVED) |
                         BIT(LIA_INC_REJECTED) | BIT(LIA_INC_DUPLICATE) | BIT(LIA_INC_MERGED),
    [LIA_INC_ACKNOWLEDGED] =
        BIT(LIA_INC_MITIGATING) | BIT(LIA_INC_RESOLVED) | BIT(LIA_INC_DUPLICATE) | BIT(LIA_INC_MERGED),
    [LIA_INC_MITIGATING] = BIT(LIA_INC_RESOLVED) | BIT(LIA_INC_MERGED),
    [LIA_INC_RESOLVED] = BIT(LIA_INC_CLOSED) | BIT(LIA_INC_MITIGATING),
    [LIA_INC_CLOSED] = BIT(LIA_INC_TRIAGED),
    [LIA_INC_REJECTED] = BIT(LIA_INC_TRIAGED),
    [LIA_INC_DUPLICATE] = BIT(LIA_INC_TRIAGED),
    [LIA_INC_MERGED] = 0,
};

static const char *const handoff_names[LIA_HO__COUNT] = {
    "pending", "notified", "acknowledged", "resolved", "rejected", "withdrawn",
};

/* Hand-off states: sent, then taken or refused, then fixed; we may withdraw
 * a hand-off that is not finished, and send again one that was refused or
 * reported fixed (the recipient then answers anew). */
static const uint32_t next_handoff[LIA_HO__COUNT] = {
    [LIA_HO_PENDING] = BIT(LIA_HO_NOTIFIED) | BIT(LIA_HO_WITHDRAWN),
    [LIA_HO_NOTIFIED] =
        BIT(LIA_HO_ACKNOWLEDGED) | BIT(LIA_HO_RESOLVED) | BIT(LIA_HO_REJECTED) | BIT(LIA_HO_WITHDRAWN),
    [LIA_HO_ACKNOWLEDGED] = BIT(LIA_HO_RESOLVED) | BIT(LIA_HO_REJECTED) | BIT(LIA_HO_WITHDRAWN),
    [LIA_HO_RESOLVED] = BIT(LIA_HO_NOTIFIED),
    [LIA_HO_REJECTED] = BIT(LIA_HO_NOTIFIED),
    [LIA_HO_WITHDRAWN] = 0,
};

static const char *const severity_names[LIA_SEV__COUNT] = {"low", "medium", "high", "critical"};

static int parse_name(const char *const *names, int n, const char *what, const char *name, int *out,
                      lia_error *err)
{
    char list[256] = "";
    size_t k = 0;
    for (int i = 0; name && i < n; i++)
        if (lia_slice_ieq(lia_slice_from(name), names[i])) {
            *out = i;
            return LIA_OK;
        }
    for (int i = 0; i < n && k < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", names[i]);
    return lia_error_set(err, LIA_EINVAL, what, name, name ? strlen(name) : 0, "one of: %s", list);
}

/* "a, b, c" of the names whose bit is set; "none" when mask is 0. */
static void list_mask(const char *const *names, int n, uint32_t mask, char *out, size_t size)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < n && k < size; i++)
        if (mask & BIT(i))
            k += (size_t)snprintf(out + k, size - k, "%s%s", k ? ", " : "", names[i]);
    if (k == 0)
        snprintf(out, size, "none");
}

const char *lia_incident_status_name(lia_incident_status s)
{
    return (unsigned)s < LIA_INC__COUNT ? status_names[s] : NULL;
}

int lia_incident_status_parse(const char *name, lia_incident_status *out, lia_error *err)
{
    int v;
    int rc = parse_name(status_names, LIA_INC__COUNT, "status", name, &v, err);
    if (rc == LIA_OK)
        *out = (lia_incident_status)v;
    return rc;
}

uint32_t lia__incident_next(lia_incident_status from)
{
    return (unsigned)from < LIA_INC__COUNT ? next_status[from] : 0;
}

int lia__incident_can(lia_incident_status from, lia_incident_status to)
{
    return (unsigned)to < LIA_INC__COUNT && (lia__incident_next(from) & BIT(to)) != 0;
}

int lia_incident_status_allowed(lia_incident_status from, lia_incident_status to)
{
    return (unsigned)from < LIA_INC__COUNT && lia__incident_can(from, to);
}

int lia__incident_is_final(lia_incident_status s)
{
    return s == LIA_INC_CLOSED || s == LIA_INC_REJECTED || s == LIA_INC_DUPLICATE || s == LIA_INC_MERGED;
}

int lia__incident_transition(lia_incident_status from, lia_incident_status to, lia_error *err)
{
    char allowed[256];
    const char *f = lia_incident_status_name(from), *t = lia_incident_status_name(to);
    if (!f || !t)
        return lia_error_set(err, LIA_EINVAL, "status", NULL, 0, "unknown status");
    if (lia__incident_can(from, to))
        return LIA_OK;
    list_mask(status_names, LIA_INC__COUNT, next_status[from], allowed, sizeof allowed);
    return lia_error_set(err, LIA_ESTATE, "status", t, strlen(t),
                         "an incident that is %s cannot become %s; allowed from %s: %s%s", f, t, f, allowed,
                         next_status[from] ? "" : " (it is final)");
}

const char *lia_handoff_state_name(lia_handoff_state s)
{
    return (unsigned)s < LIA_HO__COUNT ? handoff_names[s] : NULL;
}

int lia_handoff_state_parse(const char *name, lia_handoff_state *out, lia_error *err)
{
    int v;
    int rc = parse_name(handoff_names, LIA_HO__COUNT, "hand-off state", name, &v, err);
    if (rc == LIA_OK)
        *out = (lia_handoff_state)v;
    return rc;
}

int lia__handoff_can(lia_handoff_state from, lia_handoff_state to)
{
    return (unsigned)from < LIA_HO__COUNT && (unsigned)to < LIA_HO__COUNT &&
           (next_handoff[from] & BIT(to)) != 0;
}

int lia__handoff_transition(lia_handoff_state from, lia_handoff_state to, lia_error *err)
{
    char allowed[256];
    const char *f = lia_handoff_state_name(from), *t = lia_handoff_state_name(to);
    if (!f || !t)
        return lia_error_set(err, LIA_EINVAL, "hand-off state", NULL, 0, "unknown hand-off state");
    if (lia__handoff_can(from, to))
        return LIA_OK;
    list_mask(handoff_names, LIA_HO__COUNT, next_handoff[from], allowed, sizeof allowed);
    return lia_error_set(err, LIA_ESTATE, "hand-off state", t, strlen(t),
                         "a hand-off that is %s cannot become %s; allowed from %s: %s%s", f, t, f, allowed,
                         next_handoff[from] ? "" : " (it is final)");
}

const char *lia_severity_name(lia_severity s)
{
    return (unsigned)s < LIA_SEV__COUNT ? severity_names[s] : NULL;
}

int lia_severity_parse(const char *name, lia_severity *out, lia_error *err)
{
    int v;
    int rc = parse_name(severity_names, LIA_SEV__COUNT, "severity", name, &v, err);
    if (rc == LIA_OK)
        *out = (lia_severity)v;
    return rc;
}
