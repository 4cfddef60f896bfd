/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/iodef.h - IODEF v2 (RFC 7970) export and import (format "iodef").
 *
 * Export: a set of events (a filter's result, or one recipient's routing
 * batch) becomes ONE IODEF-Document with ONE Incident: every event is an
 * EventData (Description = classification, DetectTime = time.source, a Flow
 * whose System category="source" holds source.* and category="target"
 * destination.*: Node/DomainData, Node/Address ipv4-addr|ipv6-addr|
 * ipv4-net|ipv6-net|site-uri|asn, Service/Port) and an Indicator in
 * IndicatorData (IndicatorID = a stable UUID from producer + event id,
 * ObservableReference to that System). The Incident's restriction is the
 * most restrictive TLP of the events (AMBER+STRICT as ext-value
 * "amber+strict"). The IncidentID is a UUIDv5 of the producer, the incident
 * name and a digest of every EventData and Indicator of the document: each
 * distinct document has its own IncidentID, the same events with the same
 * content exported again keep theirs (GenerationTime does not count). Written
 * through a sink; the Indicators are spooled to a
 * temporary file so memory stays bounded.
 *
 * Import ("iodef" format): libxml2 with XML_PARSE_NONET, no entity
 * substitution, no DTD loading; a document declaring entities is rejected.
 * Records: each Incident (counted as "not an event"), each System of an
 * EventData Flow (non-target systems are source.*, the Flow's first target
 * system destination.*; a Flow of target systems only gives destination.*),
 * each Indicator (Observable Address/DomainData/System/Service), and each item
 * of a BulkObservable list. An Indicator that only refers to a System
 * (ObservableReference, as our export writes) is "not an event": its
 * IndicatorID goes to that System's event (extra.iodef_indicator_id). TLP
 * from the nearest restriction (white=CLEAR). */
#ifndef LIAISON_IODEF_H
#define LIAISON_IODEF_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/share.h"

/* A recipient of an exported incident: its id and what its hand-off says
 * ("hand-off acknowledged 2026-12-01T10:00:00Z by ... via email"). */
typedef struct lia_iodef_contact {
    const char *name, *description;
} lia_iodef_contact;

typedef struct lia_iodef_opts {
    const char *producer;      /* IncidentID name and Contact; NULL: "Liaison" */
    const char *contact_email; /* creator's e-mail; may be NULL */
    const char *incident;      /* Incident Description; may be NULL */
    const char *incident_id;   /* IncidentID text; NULL: a UUID from producer, incident and
                                * the document's content (see above) */
    int64_t now_us;            /* GenerationTime; 0: now */
    /* An exported incident (liaison incident export ID iodef); each NULL
     * leaves its element out. Borrowed until finish. */
    const char *description; /* a second Description, the incident's text */
    const char *status;      /* Incident@status: new, in-progress, forwarded, resolved, future,
                                ext-value (then ext_status names it) */
    const char *ext_status;
    const char *severity;                /* Assessment/SystemImpact@severity: low, medium, high */
    const lia_iodef_contact *recipients; /* one Contact role="irt" each: the hand-offs */
    size_t nrecipients;
} lia_iodef_opts;

typedef struct lia_iodef_export lia_iodef_export;

/* An IODEF v2 document written to sink: create, add each event, finish
 * (writes the closing elements; nothing is complete before it), destroy. */
int lia_iodef_export_create(const lia_iodef_opts *o, lia_sink_fn sink, void *ud, lia_iodef_export **out,
                            lia_error *err);
/* LIA_ENOTFOUND if the event has no IP, network, domain or URL. */
int lia_iodef_export_add(lia_iodef_export *x, const lia_event *ev, lia_error *err);
int lia_iodef_export_finish(lia_iodef_export *x, lia_error *err);
uint64_t lia_iodef_export_skipped(const lia_iodef_export *x);
void lia_iodef_export_destroy(lia_iodef_export *x);

extern const struct lia_format lia_format_iodef;

/* The head of a document's first Incident, for importing it as an incident
 * (liaison incident import): IncidentID and its name, the Incident's
 * Description, its TLP (restriction, as the events'; none: AMBER) and the
 * highest Impact severity of its Assessments ("low", "medium", "high"; ""
 * when none). Read with the same parser settings as the import (no
 * network, no entities). LIA_EPARSE with the reason for anything else than
 * an IODEF v2 document with an Incident. Pure. */
typedef struct lia_iodef_incident {
    char id[256], name[256];
    char description[4096];
    char tlp[16];
    char severity[16];
} lia_iodef_incident;
int lia_iodef_incident_read(const char *buf, size_t len, lia_iodef_incident *out, lia_error *err);

#endif
