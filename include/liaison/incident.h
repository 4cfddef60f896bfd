/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/incident.h - cross-border incidents.
 *
 * The pure parts: statuses and the one table of allowed status transitions,
 * hand-off states per recipient, severities, time zones (the system tz
 * database, read as TZif files), and the SLA clock counted in a recipient's
 * business hours, paused while the incident waits on us. They touch no
 * store and are thread-safe; their times are seconds since the epoch.
 *
 * In the store (last part): incidents, hand-offs, comments and links; every
 * change appends an audit record (liaison/audit.h) in the same transaction.
 * Stored times are microseconds since the epoch. */
#ifndef LIAISON_INCIDENT_H
#define LIAISON_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/audit.h"
#include "liaison/error.h"
#include "liaison/store.h"

/* ---- incident status ------------------------------------------------------ */

typedef enum lia_incident_status {
    LIA_INC_NEW,
    LIA_INC_TRIAGED,
    LIA_INC_NOTIFIED,
    LIA_INC_ACKNOWLEDGED,
    LIA_INC_MITIGATING,
    LIA_INC_RESOLVED,
    LIA_INC_CLOSED,
    LIA_INC_REJECTED,  /* not an incident (false positive, out of scope) */
    LIA_INC_DUPLICATE, /* the same as another incident, which goes on */
    LIA_INC_MERGED,    /* folded into another incident with all its links */
    LIA_INC__COUNT
} lia_incident_status;

/* "new", "triaged", ...; NULL for an unknown value. */
const char *lia_incident_status_name(lia_incident_status s);
/* Parse a status name (ASCII case-insensitive): LIA_OK or LIA_EINVAL with
 * the list of statuses in err. */
int lia_incident_status_parse(const char *name, lia_incident_status *out, lia_error *err);
/* 1 if the one transition table lets an incident in status from become to. */
int lia_incident_status_allowed(lia_incident_status from, lia_incident_status to);

/* ---- hand-off state (one per recipient of an incident) -------------------- */

typedef enum lia_handoff_state {
    LIA_HO_PENDING,      /* to be sent */
    LIA_HO_NOTIFIED,     /* sent; the acknowledge clock runs */
    LIA_HO_ACKNOWLEDGED, /* the recipient took it; the resolve clock runs */
    LIA_HO_RESOLVED,     /* the recipient reports it fixed */
    LIA_HO_REJECTED,     /* the recipient refused it, with a reason */
    LIA_HO_WITHDRAWN,    /* we took it back */
    LIA_HO__COUNT
} lia_handoff_state;

/* The state's name ("notified", ...), and back: parse fills *out or is
 * LIA_EINVAL naming the states. */
const char *lia_handoff_state_name(lia_handoff_state s);
int lia_handoff_state_parse(const char *name, lia_handoff_state *out, lia_error *err);

/* ---- severity -------------------------------------------------------------- */

typedef enum lia_severity {
    LIA_SEV_LOW,
    LIA_SEV_MEDIUM,
    LIA_SEV_HIGH,
    LIA_SEV_CRITICAL,
    LIA_SEV__COUNT
} lia_severity;

/* The severity's name ("low" .. "critical"), and back: parse fills *out
 * or is LIA_EINVAL naming the severities. */
const char *lia_severity_name(lia_severity s);
int lia_severity_parse(const char *name, lia_severity *out, lia_error *err);

/* ---- time zones ------------------------------------------------------------ */

typedef struct lia_tz lia_tz;

/* ---- business calendar and the SLA clock ---------------------------------- */

#define LIA_SLA_MAX_HOLIDAYS 512
#define LIA_SLA_WEEKDAYS     0x1f /* Monday to Friday: bit 0 = Monday ... bit 6 = Sunday */

/* When a recipient works. open/close are minutes after local midnight
 * (0 <= open < close <= 1440); days a mask of weekdays; holidays sorted
 * local dates (days since 1970-01-01). tz NULL = UTC. Borrowed pointers. */
typedef struct lia_calendar {
    const lia_tz *tz;
    uint8_t days;
    uint16_t open, close;
    const int64_t *holidays;
    size_t nholidays;
} lia_calendar;

/* The directory's forms (docs/routing.md), LIA_OK or LIA_EINVAL with *why:
 * business hours "Mon-Fri 09:00-17:00" (days a range or a list, hours
 * local, closing after opening); a date "2026-12-25" as days since
 * 1970-01-01; an SLA target "critical=2h/12h" (acknowledge / resolve, in
 * business time). */
int lia_calendar_hours_parse(const char *s, size_t n, uint8_t *days, uint16_t *open, uint16_t *close,
                             const char **why);
int lia_date_parse(const char *s, size_t n, int64_t *days, const char **why);
int lia_sla_target_parse(const char *s, size_t n, lia_severity *sev, int64_t *ack_s, int64_t *resolve_s,
                         const char **why);

/* A time the incident waited on us: [from, to); to = INT64_MAX while open. */
typedef struct lia_interval {
    int64_t from, to;
} lia_interval;

/* One SLA clock: `target` business seconds from `start`, not counting the
 * pauses (sorted, not overlapping), looked at `at` (the time the clock
 * stopped, e.g. the acknowledgement, or now). */
typedef struct lia_sla_clock {
    int64_t used; /* business seconds counted up to `at` */
    int64_t due;  /* the deadline; INT64_MAX while paused with time left */
    int paused;   /* `at` lies in an open or closed pause */
    int breached; /* used > target */
} lia_sla_clock;

/* Targets per severity in business seconds: acknowledge, resolve. */
typedef struct lia_sla_policy {
    int64_t ack[LIA_SEV__COUNT];
    int64_t resolve[LIA_SEV__COUNT];
} lia_sla_policy;

/* ---- in the store ------------------------------------------------------------ */

#define LIA_INCIDENT_TEXT_MAX (64u * 1024) /* a title, description or comment */

typedef struct lia_incident {
    int64_t id;
    const char *title, *description;
    const char *classification; /* RSIT type, e.g. "infected-system"; may be NULL */
    const char *tlp;            /* "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" */
    const char *countries;      /* comma-separated CCs; may be NULL */
    const char *sectors;        /* comma-separated, e.g. "iot,ics"; may be NULL */
    const char *owner;          /* the analyst; may be NULL */
    lia_severity severity;
    lia_incident_status status;
    int64_t created_us, updated_us;
    int64_t merged_into; /* for merged or duplicate: the incident that goes on; else 0 */
    int waiting;         /* 1 while the incident waits on us (the SLA clocks pause) */
    int64_t drill;       /* the drill it belongs to (liaison/drill.h); 0: a real incident. Drill
                            incidents are left out of lia_incident_list (unless asked), metrics,
                            SLA breaches and reminders, and are not exported. */
} lia_incident;

/* Create an incident (status new unless in->status says triaged; id, times
 * ignored), handed off to each of recipients[0..nrcpt) and linked to each
 * event id of events[0..nevents), in one transaction: all or nothing.
 * title is required; tlp defaults to AMBER. *id receives its id. */
int lia_incident_create(lia_store *s, const lia_incident *in, const char *const *recipients, size_t nrcpt,
                        const char *const *events, size_t nevents, const lia_actor *who, int64_t *id,
                        lia_error *err);

/* Read one. Strings point into `hold`, which the caller frees with
 * lia_buf_free (init it first with lia_buf_init(&hold, 0)). */
int lia_incident_get(lia_store *s, int64_t id, lia_incident *out, lia_buf *hold, lia_error *err);

/* A change: NULL strings and -1 numbers keep the value. A status change is
 * checked against the one transition table; merged and duplicate need
 * merged_into (another incident). */
typedef struct lia_incident_change {
    const char *title, *description, *classification, *tlp, *countries, *sectors, *owner;
    int severity; /* lia_severity or -1 */
    int status;   /* lia_incident_status or -1 */
    int64_t merged_into;
    int waiting; /* 1 starts waiting on us, 0 ends it, -1 keeps */
} lia_incident_change;
#define LIA_INCIDENT_CHANGE_KEEP                                                                             \
    {                                                                                                        \
        .severity = -1, .status = -1, .waiting = -1                                                          \
    }

/* Apply change ch to incident id in one transaction with its audit record
 * (before and after): a status change must be allowed by the transition
 * table (else LIA_EINVAL naming what is allowed from the current status);
 * LIA_ENOTFOUND if there is no such incident. */
int lia_incident_update(lia_store *s, int64_t id, const lia_incident_change *ch, const lia_actor *who,
                        lia_error *err);

/* Split: a new incident (the same attributes, triaged, title or "TITLE
 * (split from ID)", handed off to the same recipients whose hand-off is
 * not withdrawn) takes the n events of incident id, which must all be
 * linked to it (LIA_ENOTFOUND naming the first that is not); the two link
 * each other, and the audit log records "split-out" and "split-from". One
 * transaction. LIA_ESTATE for a final incident. *new_id may be NULL. */
int lia_incident_split(lia_store *s, int64_t id, const int64_t *events, size_t n, const char *title,
                       const lia_actor *who, int64_t *new_id, lia_error *err);

typedef struct lia_incident_filter {
    int status;          /* -1: any */
    int open_only;       /* 1: not closed, rejected, duplicate or merged */
    int severity;        /* -1: any */
    const char *country; /* one CC among the incident's countries; NULL: any */
    const char *owner;
    uint64_t limit;        /* 0: all */
    int64_t after_id;      /* only incidents with a greater id (a page after the one ending there); 0: any */
    const char *recipient; /* only incidents handed off to it (a hand-off not withdrawn); NULL: any */
    int drills;            /* 0: real incidents only (drills left out); 1: drills too */
    int64_t drill;         /* > 0: only the incidents of this drill */
} lia_incident_filter;
/* The incidents f selects, in id order; a non-zero return of cb stops. A
 * NULL f selects all. */
typedef int (*lia_incident_cb)(void *ud, const lia_incident *inc);
int lia_incident_list(lia_store *s, const lia_incident_filter *f, lia_incident_cb cb, void *ud,
                      lia_error *err);

/* Comments: visibility "internal" or "shared" (shared with every recipient)
 * or "shared:RECIPIENT". */
typedef struct lia_comment {
    int64_t id, incident, at_us;
    const char *author, *visibility, *body;
} lia_comment;
int lia_incident_comment(lia_store *s, int64_t incident, const char *visibility, const char *body,
                         const lia_actor *who, int64_t *id, lia_error *err);
typedef int (*lia_comment_cb)(void *ud, const lia_comment *c);
int lia_incident_comments(lia_store *s, int64_t incident, lia_comment_cb cb, void *ud, lia_error *err);

/* Attachments: a file kept with the incident (a screenshot, a PCAP, a
 * partner's report), at most LIA_INCIDENT_ATTACHMENT_MAX bytes, at most
 * LIA_INCIDENT_ATTACHMENTS per incident, hashed with SHA-256 on the way in
 * and checked against it on every read. visibility as for comments
 * (internal, shared, shared:RECIPIENT). name is a file name (1 to 255
 * bytes of UTF-8, no '/', '\\' or control character, not "." or "..");
 * media_type a type/subtype (NULL: application/octet-stream). The same
 * bytes attached again to the incident are the attachment they were
 * (*existed = 1), nothing stored twice. One audit record ("attach": id,
 * name, type, size, sha256; never the bytes). */
#define LIA_INCIDENT_ATTACHMENT_MAX (10u << 20) /* = LIA_HTTP_MAX_BODY: the same over the API */
#define LIA_INCIDENT_ATTACHMENTS    256
typedef struct lia_attachment {
    int64_t id, incident, at_us;
    uint64_t size;
    const char *author, *visibility, *name, *media_type;
    char sha256[65]; /* hex */
} lia_attachment;
int lia_incident_attach(lia_store *s, int64_t incident, const char *name, const char *media_type,
                        const void *data, size_t len, const char *visibility, const lia_actor *who,
                        int64_t *id, int *existed, lia_error *err);
typedef int (*lia_attachment_cb)(void *ud, const lia_attachment *a);
/* The incident's attachments (without their bytes), in id order. */
int lia_incident_attachments(lia_store *s, int64_t incident, lia_attachment_cb cb, void *ud, lia_error *err);
/* Attachment id of incident: its record to cb and its bytes appended to
 * body. LIA_ENOTFOUND (none such on this incident); LIA_ESTORE when the
 * stored bytes no longer match their SHA-256 (nothing appended). */
int lia_incident_attachment_get(lia_store *s, int64_t incident, int64_t id, lia_attachment_cb cb, void *ud,
                                lia_buf *body, lia_error *err);

/* Links: kind "event" (an event id), "indicator" (a value), "incident", or
 * "external" (an incident elsewhere: "iodef:NAME:ID" for an IODEF
 * IncidentID). */
typedef struct lia_link {
    int64_t incident, at_us;
    const char *kind, *ref;
} lia_link;
int lia_incident_link(lia_store *s, int64_t incident, const char *kind, const char *ref, const lia_actor *who,
                      lia_error *err);
/* Link n stored events to the incident in one transaction (one audit
 * record per 1,000 newly linked); an id not in the store fails it all,
 * naming the id (LIA_ENOTFOUND). *added: how many were not linked before
 * (may be NULL). */
int lia_incident_link_events(lia_store *s, int64_t incident, const int64_t *ids, size_t n,
                             const lia_actor *who, uint64_t *added, lia_error *err);
typedef int (*lia_link_cb)(void *ud, const lia_link *l);
int lia_incident_links(lia_store *s, int64_t incident, lia_link_cb cb, void *ud, lia_error *err);
/* The links of every incident to (kind, ref), e.g. ("event", "42"): the
 * incidents an event belongs to, in incident order. */
int lia_incident_linking(lia_store *s, const char *kind, const char *ref, lia_link_cb cb, void *ud,
                         lia_error *err);

/* Hand-offs: one per recipient (a partner or owner id of the directory). */
typedef struct lia_handoff {
    int64_t incident;
    const char *recipient;
    lia_handoff_state state;
    int64_t created_us, notified_us, acknowledged_us, resolved_us, rejected_us, updated_us;
    const char *reason;       /* the rejection's reason; may be NULL */
    const char *by, *channel; /* who made the last change, through which channel */
} lia_handoff;
int lia_handoff_add(lia_store *s, int64_t incident, const char *recipient, const lia_actor *who,
                    lia_error *err);
/* Move a hand-off to `to` (checked against the hand-off table); reject
 * needs a reason. The acknowledge or resolve time is the time of the call. */
int lia_handoff_set(lia_store *s, int64_t incident, const char *recipient, lia_handoff_state to,
                    const char *reason, const lia_actor *who, lia_error *err);
typedef int (*lia_handoff_cb)(void *ud, const lia_handoff *h);
/* incident 0: all; state -1: any; recipient NULL: any. */
int lia_handoff_list(lia_store *s, int64_t incident, int state, const char *recipient, lia_handoff_cb cb,
                     void *ud, lia_error *err);

/* The SLA clock of one hand-off of incident inc at now_us (p NULL: the
 * default policy), counted as lia_sla_breaches counts it: the acknowledge
 * clock while the hand-off is notified, the resolve clock while it is
 * acknowledged, none otherwise or once the incident is resolved, closed,
 * rejected, duplicate or merged (out->clock NULL). */
typedef struct lia_handoff_clock {
    const char *clock;    /* "acknowledge", "resolve"; NULL: no clock runs */
    int64_t target, used; /* business seconds */
    int64_t start_us;     /* when the clock started (notified or acknowledged) */
    int64_t due_us;       /* the deadline; INT64_MAX while paused with time left */
    int paused, breached;
    char tz[64]; /* the calendar's time zone, e.g. "Asia/Phnom_Penh", "UTC" */
} lia_handoff_clock;
int lia_handoff_clock_get(lia_store *s, const lia_incident *inc, const lia_handoff *h, int64_t now_us,
                          const lia_sla_policy *p, lia_handoff_clock *out, lia_error *err);

/* SLA: every hand-off whose clock (acknowledge while notified, resolve while
 * acknowledged) is past its target at now_us, counted in the recipient's
 * calendar (the partner's time zone from the directory, office hours
 * Monday to Friday 09:00-17:00; UTC for owners) with the incident's waits
 * on us as pauses. */
typedef struct lia_sla_breach {
    int64_t incident;
    const char *recipient;
    const char *clock; /* "acknowledge" or "resolve" */
    lia_severity severity;
    int64_t target, used; /* business seconds */
    int64_t due_us;
    const char *tz;
} lia_sla_breach;
typedef int (*lia_sla_breach_cb)(void *ud, const lia_sla_breach *b);
int lia_sla_breaches(lia_store *s, int64_t now_us, const lia_sla_policy *p, lia_sla_breach_cb cb, void *ud,
                     lia_error *err);

/* Metrics (for the head of the CERT): how fast recipients act, what is open.
 * Times are wall-clock seconds from a hand-off's notification to its
 * acknowledgement and to its resolution (the SLA clock above counts business
 * hours instead); percentiles are nearest-rank over the hand-offs that have
 * both times. A recipient's country is the first country of its directory
 * entry (a partner's countries, an owner's country), "-" when it has none or
 * is not in the directory. */
typedef struct lia_metric_speed {
    char key[72];             /* the recipient id, or the country code */
    int64_t handoffs;         /* notified (since the window's start) */
    int64_t acked, resolved;  /* of those, how many have each time */
    int64_t ack_p50, ack_p90; /* seconds; -1 when none */
    int64_t resolve_p50, resolve_p90;
} lia_metric_speed;
typedef struct lia_metric_count {
    char a[72], b[72]; /* (country, sector) or (channel, state); "-" for none */
    int64_t n;
} lia_metric_count;
typedef struct lia_incident_metrics {
    lia_metric_speed *by_recipient, *by_country;
    size_t n_recipient, n_country;
    lia_metric_count *open; /* open incidents by affected country and sector */
    size_t n_open;
    lia_metric_count *handoffs; /* hand-offs by last channel and state */
    size_t n_handoffs;
    int64_t breaches_ack, breaches_resolve; /* lia_sla_breaches at now_us */
} lia_incident_metrics;
/* since_us: only hand-offs notified at or after it (0: all); now_us: the
 * time the SLA breaches are counted at. Rows are sorted by key. */
int lia_incident_metrics_get(lia_store *s, int64_t since_us, int64_t now_us, lia_incident_metrics *out,
                             lia_error *err);
void lia_incident_metrics_free(lia_incident_metrics *m);
/* m as one JSON object appended to b (by_recipient, by_country,
 * open_incidents, handoffs, sla_breaches; seconds, null where there is no
 * time): what `metrics --format json` prints and GET /api/v1/metrics answers. */
void lia_incident_metrics_json(const lia_incident_metrics *m, lia_buf *b);

/* Import one IODEF v2 document (RFC 7970) as an incoming incident: its
 * events through the pipeline as a report of feed "iodef:FROM" (from: the
 * partner it came from; NULL: the IncidentID's name), then an incident
 * (title from the Description, severity from the Impact, TLP from the
 * restriction) linked to them and to "iodef:NAME:ID". The same IncidentID
 * again updates that incident (new events linked; *created = 0). *id, and
 * *linked (events newly linked) may be NULL. */
int lia_incident_import_iodef(lia_store *s, const char *buf, size_t len, const char *from,
                              const lia_actor *who, int64_t *id, int *created, uint64_t *linked,
                              lia_error *err);

/* The stored events linked to incident id (its links of kind "event"), in
 * id order, each once, to cb; a non-zero return of cb stops the walk and is
 * returned. An event pruned from the store (liaison store prune) comes from
 * the copy the incident kept, marked extra.store_pruned (when, RFC 3339).
 * *missing (may be NULL): the links whose event is gone without a copy (a
 * store pruned before copies were kept) or that name no event id. */
int lia_incident_events(lia_store *s, int64_t id, lia_event_cb cb, void *ud, uint64_t *missing,
                        lia_error *err);

/* Export: one incident as a STIX 2.1 bundle or an IODEF v2 document
 * (liaison incident export, GET /api/v1/incidents/{id}/export), written
 * through sink (liaison/share.h's lia_sink_fn). The events linked to it
 * (links of kind "event", in id order, each once) go through
 * lia_stix_export_add / lia_iodef_export_add; the bundle's incident / the
 * document is named after the incident (title, description); the IODEF
 * IncidentID is "LIAISON#ID" on every export, with the incident's status,
 * severity and its hand-offs as Contacts (role irt).
 *
 * For a recipient (recipient non-NULL: a partner's or owner's party id,
 * as hand-offs name it, of kind recipient_kind): LIA_ENOTFOUND unless the
 * incident has a hand-off to it that is not withdrawn, as if there were
 * no incident; only the linked events GET /api/v1/events/{id} shows it
 * (a routing decision "deliver" to it, the TLP policy allowing them now,
 * each redacted for it as its digest is: route/redact.c), the others
 * counted as withheld; its own hand-off as the one Contact. */
typedef struct lia_incident_export_opts {
    const char *format;            /* "stix" or "iodef" (else LIA_EINVAL naming both) */
    const char *producer;          /* our organisation's name; NULL: "Liaison" */
    const char *contact_email;     /* IODEF: the creator's e-mail; may be NULL */
    const char *name;              /* NULL: the incident's title */
    const char *description;       /* NULL: the incident's description (none when empty) */
    int max_tlp;                   /* enum lia_tlp: only events marked at most this; -1: no ceiling */
    const char *recipient;         /* NULL: our own team (every linked event, every hand-off) */
    int recipient_kind;            /* LIA_PARTY_PARTNER or LIA_PARTY_OWNER (liaison/route.h) */
    const struct lia_route *route; /* a recipient's directory (lia_route_load); NULL: loaded from s */
    int64_t now_us;                /* the export's time when an event has none; 0: now */
} lia_incident_export_opts;
typedef struct lia_incident_export_result {
    uint64_t events;   /* exported */
    uint64_t objects;  /* STIX objects written; IODEF: indicators (= events) */
    uint64_t skipped;  /* without an observable the format carries */
    uint64_t missing;  /* linked, no longer in the store (or a link that names no event id) */
    uint64_t over_tlp; /* above max_tlp, or without a TLP while there is one */
    uint64_t withheld; /* a recipient's: linked events it may not see */
    uint64_t pruned;   /* of those exported: pruned from the store, from the incident's copy */
} lia_incident_export_result;
/* Export incident id as o says: LIA_OK with *res filled (res may be
 * NULL); LIA_ENOTFOUND (no such incident, or not the recipient's),
 * LIA_EINVAL (a bad format or option), a store error, or the sink's error
 * as it returned it (the document is then incomplete). The sink may be
 * called before an error: what it received is to be discarded. One
 * thread; the store is read, not written. */
int lia_incident_export(lia_store *s, int64_t id, const lia_incident_export_opts *o,
                        int (*sink)(void *ud, const char *p, size_t n), void *ud,
                        lia_incident_export_result *res, lia_error *err);

/* Answer links: per-recipient web links in a digest that acknowledge,
 * resolve or reject one hand-off (served by `liaison serve` at /answer/).
 * A link is the path
 *   /answer/INCIDENT/RECIPIENT/ACTION/EXPIRY/MAC
 * ACTION ack|resolve|reject, EXPIRY in Unix seconds, MAC base64url of a
 * 16-byte keyed BLAKE2b over the rest, the key derived from the store's
 * server secret: single-purpose (the action is signed), expiring, and
 * nobody without the store can make one. docs/incidents.md. */
typedef enum lia_answer {
    LIA_ANSWER_ACK,
    LIA_ANSWER_RESOLVE,
    LIA_ANSWER_REJECT,
    LIA_ANSWER__COUNT
} lia_answer;
#define LIA_ANSWER_PATH_MAX 192
/* "ack", "resolve", "reject"; NULL out of range. */
const char *lia_answer_name(lia_answer a);
/* The hand-off state an answer moves to. */
lia_handoff_state lia_answer_state(lia_answer a);
/* The path of a link (out, NUL-terminated). LIA_EINVAL for a bad id,
 * recipient or action. */
int lia_answer_link(lia_store *s, int64_t incident, const char *recipient, lia_answer a, int64_t expires_us,
                    char out[LIA_ANSWER_PATH_MAX], lia_error *err);
typedef struct lia_answer_ref {
    int64_t incident;
    char recipient[72];
    lia_answer action;
    int64_t expires_us;
    int expired; /* the link is ours, and past its expiry at now_us */
} lia_answer_ref;
/* Read a link's path: LIA_OK with *out filled when it is one we made
 * (check out->expired); LIA_EAUTH when it is not (a changed character,
 * another shape), with the reason in err. */
int lia_answer_check(lia_store *s, const char *path, int64_t now_us, lia_answer_ref *out, lia_error *err);

#endif
