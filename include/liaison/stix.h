/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/stix.h - STIX 2.1 export (events -> one bundle) and import (the
 * feed format "stix", registered in the format table).
 *
 * Export, per event with at least one observable (source.* else
 * destination.*: ip, network, fqdn, url; malware.hash.*):
 *   - an indicator: pattern over those observables (network-traffic with
 *     dst_port when the event has a port), valid_from = time.source (else
 *     time.observation), id = UUIDv5 of producer + event id (stable across
 *     exports), the harmonised event (without "raw") as the property "event"
 *     of the STIX 2.1 property extension LIA_STIX_EVENT_EXT (its
 *     extension-definition object is in every bundle that uses it);
 *   - a sighting of that indicator (first_seen/last_seen/count from the dedup
 *     stage's extra.dedup_first_seen/dedup_last_seen/dedup_count, else
 *     extra.first_seen/last_seen/count, else time.source);
 *   - SCOs ipv4-addr, ipv6-addr, domain-name, url, autonomous-system, each
 *     once per bundle, ids UUIDv5 of their canonical properties as the
 *     STIX 2.1 specification requires (section 2.9);
 * and once per bundle the producer's identity, the official TLP 2.0
 * marking-definition objects used, and optionally an incident relating all
 * indicators ("related-to" relationships). The incident and each
 * relationship carry the strictest TLP of the indicators (none when no event
 * has a TLP).
 *
 * The bundle is streamed through the sink: memory is one event's objects plus
 * 16 bytes per distinct SCO and per indicator (for the incident).
 * An exporter is used by one thread. */
#ifndef LIAISON_STIX_H
#define LIAISON_STIX_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/share.h"

/* Id of the extension-definition that carries a Liaison event on an
 * indicator (stable: UUIDv5 of "extension-definition:liaison-event" in
 * Liaison's namespace). */
#define LIA_STIX_EVENT_EXT "extension-definition--2e254b88-9bcf-5b21-b11b-38713eb9bcb5"

typedef struct lia_stix_opts {
    const char *producer;      /* identity name; NULL: "Liaison" */
    const char *incident;      /* non-NULL: wrap the events in an incident of this name */
    const char *incident_description; /* may be NULL */
    int64_t now_us;            /* created/modified when an event has no time; 0: now */
} lia_stix_opts;

typedef struct lia_stix_export lia_stix_export;

/* Start a bundle. Nothing is written until the first add or finish.
 * Returns LIA_OK, LIA_ENOMEM, LIA_EINVAL (empty producer). */
int lia_stix_export_create(const lia_stix_opts *o, lia_sink_fn sink, void *ud,
                           lia_stix_export **out, lia_error *err);
/* Add one event. LIA_ENOTFOUND (nothing written) if the event has no
 * observable a pattern can name; the caller counts it. Sink errors are
 * returned as is. */
int lia_stix_export_add(lia_stix_export *x, const lia_event *ev, lia_error *err);
/* Write identity, markings, incident and close the bundle. */
int lia_stix_export_finish(lia_stix_export *x, lia_error *err);
/* Objects written so far; events skipped (no observable). */
uint64_t lia_stix_export_objects(const lia_stix_export *x);
uint64_t lia_stix_export_skipped(const lia_stix_export *x);
void lia_stix_export_destroy(lia_stix_export *x);

/* Import: `liaison ingest --format stix`. A bundle (or a single STIX object,
 * or a TAXII envelope {"objects": [...]}) is one report; each object is one
 * record (line = its 1-based position in objects). Indicators with a simple
 * pattern (equality comparisons on ipv4-addr, ipv6-addr, domain-name, url,
 * network-traffic dst/src ref values and ports, file hashes) and the SCOs
 * ipv4-addr/ipv6-addr/domain-name/url not already named by an indicator
 * become events (a pattern that only ORs single observables, e.g. a list of
 * addresses, is one event per alternative, each a record of the same line);
 * TLP from object_marking_refs (TLP 2.0 and 1.0 ids, and TLP
 * marking-definitions in the bundle); a Liaison event in the
 * LIA_STIX_EVENT_EXT extension (or, from older Liaison bundles, the custom
 * property x_liaison_event) gives the event's fields; a sighting's first_seen/last_seen/
 * count go to its indicator's event. Other objects are counted as "not an
 * event"; an indicator whose pattern cannot be represented is quarantined
 * with the reason. */
extern const struct lia_format lia_format_stix;

#endif
