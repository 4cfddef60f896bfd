/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/node.h - Liaison to Liaison: incidents exchanged between the
 * nodes of two CERTs (src/node/, docs/nodes.md).
 *
 * A peer is a partner of the directory that runs Liaison too: its id is the
 * partner id, and it has a URL (its `liaison serve`), the API key it issued
 * to us, and its node's verifier key (for its checkpoints). We know it as a
 * partner account too: it calls us with the key we issued to it.
 *
 * Each incident handed off to a peer is a thread of messages in two
 * directions. Ours to the peer: "offer" (the incident with the events the
 * one TLP policy lets go to it), "comment" (a comment shared with it),
 * "withdraw". The peer's to us: "ack", "resolve", "reject" (with a reason),
 * "comment". Messages are numbered per thread and direction from 1: the
 * receiver applies seq = last + 1, answers "duplicate" for seq <= last
 * (nothing applied twice) and refuses seq > last + 1 (out of order), so a
 * sender retries in order until the peer has applied each message.
 *
 * Outgoing messages are written to an outbox (table node_outbox) by
 * lia_node_sync from what changed in the store (hand-offs to peers,
 * comments shared with them, the status of incidents they offered us), in
 * the transaction that records what was queued; the same call then sends
 * what is due, with retries and backoff. Each sync also sends our signed
 * checkpoint (with a consistency proof from the size the peer holds) and
 * the peer's latest checkpoint cosigned by us: each side keeps the other's
 * log head, so a rewritten or truncated log is found against that copy. */
#ifndef LIAISON_NODE_H
#define LIAISON_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/audit.h"
#include "liaison/error.h"
#include "liaison/store.h"

#define LIA_NODE_URL_MAX     512
#define LIA_NODE_MSG_MAX     (8u * 1024 * 1024) /* one message, JSON bytes */
#define LIA_NODE_OFFER_MAX   10000              /* events carried by one offer */
#define LIA_NODE_BACKOFF_MAX 3600               /* seconds between two tries, at most */

/* ---- peers ---- */

typedef struct lia_node_peer {
    char name[65];                /* the partner id in our directory */
    char url[LIA_NODE_URL_MAX];   /* its serve, e.g. "https://liaison.cert.example:8443" */
    char vkey[256];               /* its checkpoint verifier key; "" if none */
    int64_t added_us, last_ok_us; /* last_ok_us: the last message it took; 0 never */
    char last_error[256];         /* why the last try failed; "" if it did not */
    uint64_t pending;             /* messages queued, not yet taken */
    uint64_t sent;                /* messages it took */
    uint64_t their_size;          /* size of its log in the checkpoint we hold; 0 none */
    uint64_t cosigned_size;       /* size of our log it cosigned last; 0 none */
} lia_node_peer;

/* Add or replace peer name (a partner of the directory: LIA_ENOTFOUND if
 * not), at url (http:// or https://), with token (the key it issued to us)
 * and vkey (its verifier key, "NAME+ID+KEY"; may be NULL). Audit-logged
 * (the token never: only that it changed). */
int lia_node_add(lia_store *s, const char *name, const char *url, const char *token, const char *vkey,
                 const lia_actor *who, lia_error *err);
/* Every peer, by name, with its counts; cb returning non-zero stops. */
typedef int (*lia_node_peer_cb)(void *ud, const lia_node_peer *p);
int lia_node_list(lia_store *s, lia_node_peer_cb cb, void *ud, lia_error *err);
/* One peer; LIA_ENOTFOUND if it is not one. */
int lia_node_get(lia_store *s, const char *name, lia_node_peer *out, lia_error *err);

/* Pending messages: cb per queued message in send order. */
typedef struct lia_node_pending {
    int64_t id;
    const char *peer, *type;
    int64_t incident; /* our incident */
    int64_t seq, created_us, next_us;
    int64_t attempts;
    const char *error; /* the last try's error, "" if not tried */
} lia_node_pending;
typedef int (*lia_node_pending_cb)(void *ud, const lia_node_pending *p);
int lia_node_pending_list(lia_store *s, const char *peer, lia_node_pending_cb cb, void *ud, lia_error *err);

/* Our incident for the one peer offered us as its incident remote;
 * LIA_ENOTFOUND if it offered none such. */
int lia_node_incoming(lia_store *s, const char *peer, int64_t remote, int64_t *incident, lia_error *err);

/* ---- messages (pure) ---- */

typedef enum lia_node_type {
    LIA_NODE_OFFER,
    LIA_NODE_COMMENT,
    LIA_NODE_WITHDRAW,
    LIA_NODE_ACK,
    LIA_NODE_RESOLVE,
    LIA_NODE_REJECT,
    LIA_NODE__COUNT
} lia_node_type;
/* "offer", "comment", ... "reject"; NULL out of range. */
const char *lia_node_type_name(lia_node_type t);

/* A message as read (borrowed strings, valid while the parsed JSON lives:
 * lia_node_msg_free). yours: the incident is the receiver's (an answer about
 * an incident it offered); else the incident is the sender's. */
typedef struct lia_node_msg {
    lia_node_type type;
    int64_t seq;
    int yours;
    int64_t incident;        /* the id at its owner (the receiver when yours, else the sender) */
    int64_t sender_incident; /* the sender's own id for it when yours (informational); 0 */
    int64_t at_us;
    const char *by;   /* who at the sender */
    const char *text; /* comment body, reject/withdraw reason; NULL */
    /* offer */
    const char *title, *description, *classification, *severity, *tlp, *countries, *sectors;
    const char *events; /* the events as JSON lines (format jsonl), NUL-terminated; NULL */
    size_t events_len, nevents;
    int64_t withheld; /* events the TLP policy kept back */
    void *json_;      /* internal */
    char *lines_;     /* internal */
} lia_node_msg;

/* Read one message (JSON) of len bytes: LIA_OK with *out filled, or
 * LIA_EPARSE / LIA_EINVAL / LIA_ELIMIT naming the member and why. out is
 * released with lia_node_msg_free in every case. Pure. */
int lia_node_msg_parse(const char *json, size_t len, lia_node_msg *out, lia_error *err);
void lia_node_msg_free(lia_node_msg *m);

/* ---- receiving (the peer called us; src/node/inbox.c) ---- */

typedef struct lia_node_result {
    int applied;      /* 1 applied now, 0 had been (duplicate) */
    int64_t incident; /* our incident it concerns */
    int64_t expected; /* for LIA_ESTATE (out of order): the seq we wait for */
    char note[160];   /* what happened, e.g. "hand-off acknowledged", "already resolved" */
} lia_node_result;

/* Apply one message from peer (the partner id of the caller's account)
 * reached from address. LIA_OK (applied or duplicate: see res), LIA_ESTATE
 * out of order (res->expected), LIA_EAUTH for a peer we do not know or an
 * incident not handed off to it, LIA_ENOTFOUND for an incident that does
 * not exist (the same words as for one hidden), LIA_EINVAL for a message
 * that cannot apply. Each applied message, its effect and the new last seq
 * are one transaction, audit-logged with channel "node". */
int lia_node_receive(lia_store *s, const char *peer, const char *address, const char *json, size_t len,
                     lia_node_result *res, lia_error *err);

/* The peer's checkpoint exchange (POST /node/v1/checkpoint): body JSON
 * {"checkpoint": NOTE, "from": N1, "proof": [base64...], "cosigned": NOTE}.
 * The peer's checkpoint is verified with its vkey and, if we hold an older
 * one, against the consistency proof from it; a smaller size or a failed
 * proof is refused (LIA_EAUTH, audit-logged: the peer's log was cut or
 * rewritten). *need_from: on LIA_ESTATE, the size the proof must start
 * from. "cosigned" (our checkpoint with the peer's cosignature) is kept
 * when the peer's cosigner key verifies it. */
int lia_node_checkpoint_in(lia_store *s, const char *peer, const char *address, const char *json, size_t len,
                           uint64_t *need_from, lia_error *err);

/* ---- sending ---- */

typedef struct lia_node_sync_opts {
    const char *peer;        /* NULL: every peer */
    const lia_note_key *key; /* our signer key (checkpoints, cosignatures); NULL: none sent */
    const char *origin;      /* our checkpoints' origin */
    int now;                 /* 1: try every queued message now, backoff or not */
    long timeout_s;          /* per request; 0: 30 */
    /* How long a sync holds a peer (a lease in the store, renewed before
     * each message) before another sync may take it over: several nodes'
     * `node sync` or `serve --sync` at once on one store send each
     * message once; 0 = LIA_NODE_LEASE_MS. */
    int64_t lease_ms;
} lia_node_sync_opts;

typedef struct lia_node_sync_report {
    uint64_t queued;      /* messages written to the outbox by this call */
    uint64_t sent;        /* taken by the peer (applied or duplicate) */
    uint64_t failed;      /* tries that failed (peer down, refused); left queued */
    uint64_t waiting;     /* queued, not tried (backoff, or behind a failed one of the same thread) */
    uint64_t checkpoints; /* checkpoint exchanges that succeeded */
    uint64_t busy;        /* peers left alone: another sync holds them (it sends their messages) */
    char last_error[256];
} lia_node_sync_report;

/* Queue what changed, then send what is due. LIA_OK even when a peer is
 * down (see rep->failed and each peer's last_error); an error only for what
 * stops the whole sync (the store). */
int lia_node_sync(lia_store *s, const lia_node_sync_opts *o, lia_node_sync_report *rep, lia_error *err);

/* The peer's latest checkpoint we hold, cosigned by us (signed note), into
 * out: what the peer verifies its log against (`liaison audit verify
 * --checkpoint`). LIA_ENOTFOUND if we hold none. */
int lia_node_their_checkpoint(lia_store *s, const char *peer, lia_buf *out, lia_error *err);
/* Our latest checkpoint as the peer cosigned it; LIA_ENOTFOUND if none. */
int lia_node_cosigned_checkpoint(lia_store *s, const char *peer, lia_buf *out, lia_error *err);

#endif
