/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal to src/incident: the one schema of the incident tables and the
 * audit record every change appends. */
#ifndef LIA_INCIDENT_INTERNAL_H
#define LIA_INCIDENT_INTERNAL_H

#include "audit/log.h"
#include "liaison/incident.h"
#include "liaison/ingest.h"
#include "store/db.h"

/* The incident tables (and the audit tables they write to). */
int lia__incident_schema(lia_db *db, lia_error *err);

/* Append the audit record of one change inside the open transaction:
 * object, action, and before/after as JSON texts (NULL for none). */
int lia__incident_audit(lia_db *db, const lia_actor *who, const char *object, const char *action,
                        const char *before, const char *after, lia_error *err);

/* The incident as JSON (audit records' before/after, --format json). */
void lia__incident_json(const lia_incident *inc, lia_buf *b);

/* The status an incident's hand-offs call for, from how many are in each
 * state (src/incident/follow.c, the one rule): LIA_INC_NEW when they call
 * for none (no live hand-off, or none notified yet). Pure. */
lia_incident_status lia__incident_derived(const uint64_t count[LIA_HO__COUNT]);
/* Move the incident's status forward to what its hand-offs call for, step
 * by step along the transition table, one audit record (actor liaison,
 * channel auto, `cause` in the after JSON) per step, inside the caller's
 * transaction. Nothing for a final status or one already further. */
int lia__incident_follow(lia_store *s, int64_t incident, const char *cause, int64_t at_us, lia_error *err);

/* LIA_OK for internal, shared or shared:RECIPIENT, else LIA_EINVAL. */
int lia__incident_visibility_ok(const char *v, lia_error *err);

/* 1 if the incident exists (0: not; < 0: error). */
int lia__incident_exists(lia_db *db, int64_t id, lia_error *err);
/* The copy incidents keep of event id, pruned from the store (store/forget.h):
 * into out (an initialised event; id, report_id and line set, and
 * extra.store_pruned = when, RFC 3339), the recipients it was routed to
 * appended to delivered (may be NULL) as ",partner:x,owner:y," and
 * *pruned_us (may be NULL). LIA_ENOTFOUND if there is none. */
int lia__incident_event_copy(lia_store *s, int64_t id, lia_event *out, lia_buf *delivered, int64_t *pruned_us,
                             lia_error *err);
/* lia_incident_events, with for each event the recipients a pruned one was
 * routed to (",a,b,"; NULL: the event is in the store), and *pruned (may be
 * NULL) the events given from copies. */
typedef int (*lia__incident_event_cb)(void *ud, const lia_event *ev, const char *delivered);
int lia__incident_events(lia_store *s, int64_t id, lia__incident_event_cb cb, void *ud, uint64_t *missing,
                         uint64_t *pruned, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* 1 when `from` may become `to` (the one table, src/incident/status.c). */
int lia__incident_can(lia_incident_status from, lia_incident_status to);
/* LIA_OK when allowed; otherwise LIA_ESTATE and err's reason names the
 * statuses allowed from `from` ("none: merged is final" for a final one). */
int lia__incident_transition(lia_incident_status from, lia_incident_status to, lia_error *err);
/* The statuses allowed from `from`, as a bit mask (bit i = status i). */
uint32_t lia__incident_next(lia_incident_status from);
/* 1 for statuses where the incident needs nothing more from anyone. */
int lia__incident_is_final(lia_incident_status s);

int lia__handoff_can(lia_handoff_state from, lia_handoff_state to);
int lia__handoff_transition(lia_handoff_state from, lia_handoff_state to, lia_error *err);

/* Read a TZif file (RFC 8536, versions 1 to 4) from memory. Pure. Times past
 * the last transition keep the last offset (the TZ-string footer is not
 * read; Debian's files list transitions up to 2037). */
int lia__tz_parse(const void *buf, size_t len, const char *name, lia_tz **out, lia_error *err);
/* A zone by name: "UTC", a fixed offset "+HH:MM" / "-HH:MM", or an IANA name
 * ("Europe/Berlin") read from $TZDIR or /usr/share/zoneinfo. LIA_ENOTFOUND
 * for an unknown zone, LIA_EINVAL for a name with "..", a leading '/' or
 * other bytes than letters, digits, '/', '_', '-', '+'. */
int lia__tz_load(const char *name, lia_tz **out, lia_error *err);
void lia__tz_free(lia_tz *tz);
const char *lia__tz_name(const lia_tz *tz);
/* Seconds east of UTC at instant t (NULL tz: UTC). */
int32_t lia__tz_offset(const lia_tz *tz, int64_t t);
/* The first instant after t where the offset may change; INT64_MAX if none. */
int64_t lia__tz_next_change(const lia_tz *tz, int64_t t);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t lia__days_from_civil(int64_t y, unsigned m, unsigned d);
void lia__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Monday to Friday 09:00-17:00 in tz; around the clock: days 0x7f, 0-1440. */
lia_calendar lia__calendar_office(const lia_tz *tz);
lia_calendar lia__calendar_always(void);
/* LIA_EINVAL with the reason for an empty or inverted calendar. */
int lia__calendar_check(const lia_calendar *c, lia_error *err);

/* Business seconds of c in [from, to) (0 if to <= from). */
int64_t lia__sla_business_seconds(const lia_calendar *c, int64_t from, int64_t to);

/* LIA_EINVAL for a bad calendar, unsorted pauses or target < 0; LIA_ELIMIT
 * when no deadline is found within 100 years. */
int lia__sla_eval(const lia_calendar *c, int64_t start, int64_t target, const lia_interval *pauses,
                  size_t npauses, int64_t at, lia_sla_clock *out, lia_error *err);

/* critical 1h / 8h, high 4h / 24h, medium 8h / 80h, low 24h / 240h (business). */
lia_sla_policy lia__sla_policy_default(void);
/* Link event ids[0..n) to the incident (those already linked are kept
 * once), with one audit record per 1000 newly linked; *added (may be NULL):
 * how many were new. Its own transaction, nested in the caller's. The
 * incident must exist. */
int lia__incident_link_events(lia_db *db, int64_t incident, const int64_t *ids, size_t n,
                              const lia_actor *who, uint64_t *added, lia_error *err);

/* Ingest the len bytes at buf as one report with o (lia_ingest_buffer) and
 * give the ids of the events the report holds (its own, once stored: the
 * same bytes again give the same ids) in *ids (malloc'd; NULL when none).
 * For what arrives with an incident (an IODEF document, a node's offer). */
int lia__incident_ingest(lia_store *s, const lia_ingest_opts *o, const char *buf, size_t len, int64_t **ids,
                         size_t *n, lia_error *err);

#endif
