/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/notify.h - e-mail digests to the recipients chosen by routing.
 *
 * For each recipient with delivered-but-not-yet-notified events (table
 * route_decision) whose digest interval has passed, one message: a text
 * body rendered from DIR/LANG/digest.txt (the recipient's first language
 * with a template, else "en"), the events attached as CSV and JSON after
 * the TLP policy was checked again and the recipient's redaction applied;
 * signed (PGP/MIME, RFC 3156) with our key and encrypted to the recipient's
 * key when its fingerprint is known (sign+encrypt, RFC 3156 6.2); sent over
 * SMTP with libcurl (STARTTLS when the server offers it), retried with
 * backoff, and recorded (tables notification, notification_event; the
 * route_decision rows get notified / notification_id). The incidents whose
 * events it carries to the recipient are named in the subject
 * ([LIAISON#id]) and headers (X-Liaison-Incident), and once it is sent
 * their pending hand-offs become notified in the same transaction, with
 * the Message-ID kept per hand-off (a reply naming it finds them).
 *
 * Templates: a first line "Subject: ...", a blank line, then the body.
 * Placeholders {{name}}; a section {{#events}} ... {{/events}} repeats for
 * each listed event (at most LIA_NOTIFY_LISTED), inside it {{FIELD}} is a
 * harmonised field of the event ({{source.ip}}) or {{event.id}}. Names:
 * recipient_id recipient_name sender count listed more period_start
 * period_end generated_at language. An unknown name is an error. */
#ifndef LIAISON_NOTIFY_H
#define LIAISON_NOTIFY_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

#define LIA_NOTIFY_LISTED 50 /* events listed in the body (all are attached) */
/* A digest carrying events of incidents handed off to its recipient names
 * them: [LIAISON#id] in the subject (at most this many, then "(+N
 * incidents)") and one X-Liaison-Incident header each (at most this many);
 * every one of them has the digest's Message-ID kept with its hand-off. */
#define LIA_NOTIFY_SUBJECT_REFS 5
#define LIA_NOTIFY_REF_HEADERS  50

/* ---- templates ---- */

typedef struct lia_tmpl_vars {
    /* Value of name outside a section (item == SIZE_MAX) or for item i of
     * the current section; NULL = unknown name (an error). */
    const char *(*get)(void *ud, const char *name, size_t n, size_t item);
    /* Items in section name, or SIZE_MAX for an unknown section. */
    size_t (*count)(void *ud, const char *name, size_t n);
    void *ud;
} lia_tmpl_vars;

/* ---- digests ---- */

/* TAXII delivery. A partner with a channel taxii:ROOT/COLLECTION (see
 * the channel syntax in docs/routing.md) gets, on every run (the digest
 * interval is for e-mail only), its pending events gathered exactly as for
 * the digest (TLP policy checked again: refused events are withheld and
 * recorded as denied; redaction applied), exported as STIX 2.1
 * (liaison/stix.h: indicators, SCOs, sightings, our identity, TLP marking
 * definitions; at most LIA_NOTIFY_TAXII_BATCH events per bundle) and added to
 * that collection of our own TAXII server. A missing API root or collection
 * is created (title naming the partner; read-only over TAXII), and every
 * account organisation linked to the partner (lia_accounts_org_link) is
 * granted read access. One notification row per delivery (channel
 * "taxii:ROOT/COLLECTION"); an event counts as notified in route_decision
 * once every channel of its recipient (e-mail, each TAXII collection) has
 * delivered it, so nothing is delivered twice and a failed channel is
 * retried on the next run. A channel taxii:https://HOST/ROOT/collections/ID/
 * (a partner's own TAXII 2.1 server) gets the same bundles POSTed to
 * .../objects/ as envelopes (bearer token from $LIAISON_TAXII_TOKEN_<ID>,
 * the partner id upper-cased with - and . as _); delivered when the server
 * answers 202 with no failure. api: channels are not delivered: reported
 * "skipped" on each run. The producer identity is the configuration's
 * `producer` (default Liaison). */

typedef struct lia_notify_opts {
    int dry_run;           /* render only: no signing, sending or recording */
    int force;             /* every recipient with pending events is due */
    int unsigned_ok;       /* allow sending without a signing key */
    int64_t now_us;        /* 0 = the clock */
    const char *templates; /* directory of LANG/digest.txt (required) */
    const char *only;      /* one recipient ("owner:ID"), NULL = all */
    /* Each NULL/0 = the routing configuration's setting, else a default. */
    const char *smtp_url;   /* smtp_url; default smtp://127.0.0.1:25 */
    const char *mail_from;  /* mail_from (required to send) */
    const char *sign_key;   /* sign_key: fingerprint of our secret key */
    const char *gnupg_home; /* gnupg_home; default $GNUPGHOME / ~/.gnupg */
    int tries;              /* smtp_tries; default 3 */
    int backoff_ms;         /* smtp_backoff (first retry delay); default 2000 */
    /* How long this notifier holds a recipient it works on (a lease in the
     * store, renewed before each channel) before another notifier may take
     * it over: several `notify run` at once send each digest once, and a
     * notifier that died is taken over when its lease ends. 0 =
     * LIA_NOTIFY_LEASE_MS. Longer than one channel's delivery (tries x the
     * SMTP timeout). */
    int64_t lease_ms;
} lia_notify_opts;

typedef struct lia_notify_result {
    const char *recipient; /* "owner:ID" */
    const char *to;        /* comma-separated addresses */
    const char *language;  /* template used */
    const char *message_id;
    const char *outcome; /* "sent", "failed", "dry-run", "skipped", "not-due" */
    const char *error;   /* why failed/skipped, "" otherwise */
    size_t events;       /* attached */
    size_t withheld;     /* refused by the TLP policy at send time */
    int64_t notification_id;
    int signed_, encrypted;
    int attempts;
    const char *message; /* the whole message (dry run: the clear text); TAXII
                            dry run: the first STIX bundle */
    size_t message_len;
    const char *channel; /* "email" or "taxii:ROOT/COLLECTION" (also in to) */
    size_t objects;      /* TAXII: STIX objects written to the collection */
    size_t incidents;    /* incidents whose events it carries (pending hand-offs become notified) */
} lia_notify_result;

typedef int (*lia_notify_cb)(void *ud, const lia_notify_result *r);

/* Send what is due. cb (may be NULL) is called once per recipient with
 * pending events. Returns LIA_OK when every due digest was sent (or
 * rendered); LIA_ENET if any delivery failed (recorded, retried next run);
 * other errors stop the run. */
int lia_notify_run(lia_store *s, const lia_notify_opts *o, lia_notify_cb cb, void *ud, lia_error *err);

typedef struct lia_notification {
    int64_t id;
    const char *recipient, *to, *message_id, *outcome, *error, *language;
    int64_t at_us;
    uint64_t events;
    int attempts, signed_, encrypted;
    const char *channel; /* "email" or "taxii:ROOT/COLLECTION" */
} lia_notification;
typedef int (*lia_notification_cb)(void *ud, const lia_notification *n);
/* Read access of organisation org_id to the existing TAXII delivery
 * collections of partner party_id (its taxii:ROOT/COLLECTION channels):
 * can_read 1 grants it (on linking), 0 withdraws it (on unlinking). A
 * collection not created yet is skipped (the first delivery grants). *n
 * (may be NULL) gets the number of collections changed. */
int lia_notify_taxii_access(lia_store *s, const char *party_id, int64_t org_id, int can_read, size_t *n,
                            lia_error *err);

/* Recorded notifications, newest first (limit 0 = all). */
int lia_notify_log(lia_store *s, uint64_t limit, lia_notification_cb cb, void *ud, lia_error *err);

/* ---- reminders and escalation (`liaison sla run`) ---- */

/* For every hand-off whose SLA clock runs (acknowledge while notified,
 * resolve while acknowledged; not while paused): once remind_at of its
 * target is used, a reminder to the recipient's first contact; once it is
 * breached, an escalation to the recipient's second contact, or to our
 * own team (escalate_to, else mail_from) when it has one contact. Each is
 * sent once per hand-off, clock and kind, recorded in sla_notice and in
 * the hand-off's audit log ("reminded", "escalated"). */
typedef struct lia_sla_run_opts {
    int64_t now_us;   /* 0: now */
    double remind_at; /* fraction of the target used, 0 < x < 1; 0: 0.75 */
    int dry_run;      /* build the messages, send and record nothing */
    int unsigned_ok;  /* send unsigned when no sign_key is set */
    const char *smtp_url, *mail_from, *escalate_to, *sign_key, *gnupg_home; /* NULL: the routing settings */
} lia_sla_run_opts;
typedef struct lia_sla_notice {
    int64_t incident;
    const char *recipient, *clock, *kind; /* kind "reminder" or "escalation" */
    const char *to;                       /* "" when there is no address */
    const char *outcome;                  /* "sent", "failed", "dry-run" */
    const char *error;                    /* why it failed; NULL */
    int64_t due_us;
    const char *message; /* dry-run: the message (CRLF), borrowed for the call */
    size_t message_len;
} lia_sla_notice;
typedef int (*lia_sla_notice_cb)(void *ud, const lia_sla_notice *n);
/* LIA_OK once every hand-off was looked at (a failed notice is reported
 * through cb and tried again next run); other errors stop the run. */
int lia_sla_run(lia_store *s, const lia_sla_run_opts *o, lia_sla_notice_cb cb, void *ud, lia_error *err);

/* ---- new advisories (`liaison advisory notify`) ---- */

/* A published CSAF advisory (liaison/advisory.h) to every partner of the
 * route directory with e-mail contacts that the one TLP policy lets receive
 * its TLP: one message per partner carrying the document as published and
 * its OpenPGP signature, signed with sign_key (and encrypted to the
 * partner's pgp key) as digests are, sent by SMTP. Each advisory version
 * goes to a partner once (the table notification_advisory). */
typedef struct lia_notify_advisory_opts {
    int64_t now_us;  /* 0: now */
    int dry_run;     /* build the messages, send and record nothing */
    int unsigned_ok; /* send unsigned when no sign_key is set */
    const char *smtp_url, *mail_from, *sign_key, *gnupg_home; /* NULL: the routing settings */
} lia_notify_advisory_opts;
typedef struct lia_notify_advisory_result {
    const char *recipient;  /* "partner:ID" */
    const char *to;         /* the addresses, comma-separated ("" when none) */
    const char *outcome;    /* "sent", "failed", "dry-run", "withheld", "already sent" */
    const char *why;        /* the policy's reason, the failure; "" */
    const lia_buf *message; /* dry-run: the message */
} lia_notify_advisory_result;
typedef int (*lia_notify_advisory_cb)(void *ud, const lia_notify_advisory_result *r);
/* LIA_OK once every partner was looked at (cb once per partner; a failed
 * send is reported there, not returned); LIA_ENOTFOUND if advisory id was
 * never published. */
int lia_notify_advisory(lia_store *s, const char *id, const lia_notify_advisory_opts *o,
                        lia_notify_advisory_cb cb, void *ud, lia_error *err);

/* ---- one incident to one recipient (drill injects, liaison/drill.h) ---- */

/* The hand-off of incident to recipient (a party id) by e-mail to the
 * recipient's first contact, without a digest: "[LIAISON#ID] SUBJECT"
 * (prefix before it, e.g. "[DRILL]"), X-Liaison-Incident and one more
 * header if given, the body, the hand-off's signed answer links when
 * public_url is set, signed with sign_key as digests are. message_id is
 * the caller's ("<...>", required), so that a resend after a crash is the
 * same message. Once the SMTP server took it, the hand-off becomes
 * notified (channel email, by liaison) with the Message-ID kept, so a
 * reply naming it answers the hand-off. LIA_OK with res->outcome "sent",
 * "dry-run" or "failed" (res->error: why; nothing changed); other codes:
 * the store failed. res is freed with lia_notify_handoff_result_free in
 * every case. */
typedef struct lia_notify_handoff_opts {
    int64_t now_us;                                           /* 0: now */
    int dry_run;                                              /* build the message, send and record nothing */
    int unsigned_ok;                                          /* send unsigned when no sign_key is set */
    const char *smtp_url, *mail_from, *sign_key, *gnupg_home; /* NULL: the routing settings */
    const char *message_id;                                   /* required */
    const char *prefix;                                       /* before [LIAISON#ID]; may be NULL */
    const char *subject;                                      /* NULL: the incident's title */
    const char *body;                                         /* text before the incident's summary */
    const char *header_name, *header_value;                   /* one more header, or NULL */
} lia_notify_handoff_opts;
typedef struct lia_notify_handoff_result {
    const char *to;      /* the address ("" when none) */
    const char *outcome; /* "sent", "dry-run", "failed" */
    const char *error;   /* why it failed; NULL */
    lia_buf message;     /* the message (dry run: in clear) */
    char to_[256], errbuf_[768];
} lia_notify_handoff_result;
int lia_notify_handoff(lia_store *s, int64_t incident, const char *recipient,
                       const lia_notify_handoff_opts *o, lia_notify_handoff_result *res, lia_error *err);
void lia_notify_handoff_result_free(lia_notify_handoff_result *res);

#endif
