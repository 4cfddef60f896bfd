/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: what the incident module offers the delivery channels (notify)
 * and the answer channels (mail) about hand-offs. The incident module owns
 * its tables; the other modules change hand-offs only through these and the
 * public incident API, which write the audit log. Not part of the public
 * API. Same thread rules as the store: one thread per lia_store. */
#ifndef LIA_INCIDENT_DELIVERY_H
#define LIA_INCIDENT_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/audit.h"
#include "liaison/error.h"
#include "liaison/incident.h"
#include "liaison/store.h"

/* The incident tables exist (call before opening a transaction that uses
 * the functions below: a schema step runs in a transaction of its own). */
int lia__incident_ready(lia_store *s, lia_error *err);

/* The incidents a delivery to `recipient` (a party id: "cert-kh", not
 * "partner:cert-kh") carries: each incident linked to one of the events
 * ids[0..n) with a hand-off to recipient that is pending, notified or
 * acknowledged, not closed, rejected, duplicate or merged. *out (malloc'd,
 * sorted, each once; the caller frees it) and *nout, written on success.
 * LIA_ELIMIT beyond LIA_INCIDENT_MAX_CARRIED incidents. */
#define LIA_INCIDENT_MAX_CARRIED 100000
int lia__incident_carried(lia_store *s, const char *recipient, const int64_t *ids, size_t n, int64_t **out,
                          size_t *nout, lia_error *err);

/* A delivery to recipient on `channel` ("email", "taxii:ROOT/COLL") at
 * at_us carried incidents inc[0..n): each pending hand-off becomes notified
 * (by who, through the channel), and message_id (may be NULL or "": none)
 * is kept per hand-off so that a reply naming it finds the incident and the
 * recipient. *notified (may be NULL): how many hand-offs changed. Its own
 * transaction, nested in the caller's: the caller records the delivery in
 * the same one. */
int lia__incident_delivered(lia_store *s, const char *recipient, const int64_t *inc, size_t n,
                            const char *channel, const char *message_id, int64_t at_us, const lia_actor *who,
                            size_t *notified, lia_error *err);

/* The hand-offs one of our messages (by its Message-ID, "<...>") was
 * delivered for, in incident order. cb's non-zero return stops the walk
 * (LIA_OK returned). */
typedef int (*lia__incident_message_cb)(void *ud, int64_t incident, const char *recipient);
int lia__incident_of_message(lia_store *s, const char *message_id, size_t len, lia__incident_message_cb cb,
                             void *ud, lia_error *err);

/* lia_handoff_set at a given time (microseconds), the message that caused
 * it (may be NULL) kept in the audit record. */
int lia__handoff_set_at(lia_store *s, int64_t incident, const char *recipient, lia_handoff_state to,
                        const char *reason, const char *message_id, const lia_actor *who, int64_t at_us,
                        lia_error *err);

#endif
