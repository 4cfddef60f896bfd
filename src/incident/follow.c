/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The ONE rule by which an incident's status follows its hand-offs (see
 * docs/incidents.md, "The incident follows its hand-offs"):
 *
 *   live hand-offs  = those not withdrawn and not rejected;
 *   notified        when any live hand-off is notified or further;
 *   acknowledged    when every live hand-off is acknowledged or resolved;
 *   resolved        when every live hand-off is resolved.
 *
 * The status only moves forward in the order new < triaged < notified <
 * acknowledged < mitigating < resolved, along the transition table of
 * status.c (a new incident passes through triaged: handing it off is
 * triaging it), and never out of closed, rejected, duplicate or merged. So
 * an analyst's status stands until a recipient's answer takes the incident
 * further; the rule runs only when a hand-off changes, never when the
 * analyst sets the status. Each step is one audit record of actor liaison,
 * channel auto, in the transaction of the hand-off change that caused it. */
#include <stdio.h>
#include <string.h>

#include "incident/delivery.h"
#include "incident/internal.h"

lia_incident_status lia__incident_derived(const uint64_t count[LIA_HO__COUNT])
{
    uint64_t live = 0;
    for (int i = 0; i < LIA_HO__COUNT; i++)
        if (i != LIA_HO_WITHDRAWN && i != LIA_HO_REJECTED)
            live += count[i];
    uint64_t acked = count[LIA_HO_ACKNOWLEDGED] + count[LIA_HO_RESOLVED];
    if (live == 0 || live == count[LIA_HO_PENDING])
        return LIA_INC_NEW; /* nothing to follow: nobody left, or nobody told yet */
    if (count[LIA_HO_RESOLVED] == live)
        return LIA_INC_RESOLVED;
    if (acked == live)
        return LIA_INC_ACKNOWLEDGED;
    return LIA_INC_NOTIFIED;
}

/* The next step from cur towards target (cur < target): target itself when
 * the table allows it, else the lowest allowed status in between; -1: none. */
static int next_step(lia_incident_status cur, lia_incident_status target)
{
    if (lia__incident_can(cur, target))
        return (int)target;
    for (int s = (int)cur + 1; s < (int)target; s++)
        if (lia__incident_can(cur, (lia_incident_status)s))
            return s;
    return -1;
}

int lia__incident_follow(lia_store *s, int64_t incident, const char *cause, int64_t at_us, lia_error *err)
{
    static const lia_actor auto_actor = {"liaison", "auto", NULL};
    lia_db *db = lia__store_db(s);
    uint64_t count[LIA_HO__COUNT] = {0};
    lia_incident cur;
    lia_buf hold, before, after;
    lia_stmt *st;
    char object[64];
    int rc;
    if ((rc = lia__db_prepare(db, "incident: reading the hand-off states",
                              "SELECT state, count(*) FROM handoff WHERE incident_id = ? GROUP BY state", &st,
                              err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        int64_t state = lia__db_col_int64(st, 0);
        if (state >= 0 && state < LIA_HO__COUNT)
            count[state] += (uint64_t)lia__db_col_int64(st, 1);
    }
    lia__db_done(st);
    if (rc < 0)
        return rc;
    lia_incident_status target = lia__incident_derived(count);
    lia_buf_init(&hold, 0);
    lia_buf_init(&before, 4 * LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&after, 4 * LIA_INCIDENT_TEXT_MAX);
    if ((rc = lia_incident_get(s, incident, &cur, &hold, err)))
        goto out;
    snprintf(object, sizeof object, "incident:%lld", (long long)incident);
    while (rc == LIA_OK && !lia__incident_is_final(cur.status) && cur.status < target) {
        int step = next_step(cur.status, target);
        if (step < 0)
            break;
        lia_buf_reset(&before);
        lia_buf_reset(&after);
        lia__incident_json(&cur, &before);
        cur.status = (lia_incident_status)step;
        cur.updated_us = at_us;
        lia__incident_json(&cur, &after);
        if (cause && after.len > 1) { /* the hand-off change that caused it */
            after.len--;
            lia_buf_puts(&after, ",\"cause\":");
            lia_buf_json_str(&after, cause, strlen(cause));
            lia_buf_putc(&after, '}');
        }
        if (before.err || after.err) {
            rc = lia_error_set(err, LIA_ELIMIT, "incident", NULL, 0,
                               "incident %lld: its status change does not fit an audit record (%d bytes)",
                               (long long)incident, 4 * LIA_INCIDENT_TEXT_MAX);
            break;
        }
        if ((rc = lia__db_prepare(db, "incident: following its hand-offs",
                                  "UPDATE incident SET status = ?, updated = ? WHERE id = ?", &st, err)))
            break;
        lia__db_bind_int64(st, 1, cur.status);
        lia__db_bind_int64(st, 2, at_us);
        lia__db_bind_int64(st, 3, incident);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc == LIA_OK)
            rc = lia__incident_audit(db, &auto_actor, object, "status", before.ptr, after.ptr, err);
    }
out:
    lia_buf_free(&hold);
    lia_buf_free(&before);
    lia_buf_free(&after);
    return rc;
}
