/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internals shared by the files of src/notify (not part of the public API). */
#ifndef LIA_NOTIFY_INTERNAL_H
#define LIA_NOTIFY_INTERNAL_H

#include <stdint.h>

#include "liaison/limits.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "store/db.h"

/* ---- one digest (digest.c) ---- */

typedef struct lia__digest {
    const lia_route *rt;
    const lia_party *p;
    int idx;
    lia_event *ev; /* redacted copies */
    size_t n, cap;
    int64_t *ids;      /* event ids attached */
    int64_t *withheld; /* event ids refused at send time */
    size_t nwithheld;
    int64_t *incidents; /* the incidents its events belong to with a hand-off to the recipient */
    size_t nincidents;
    char count[24], listed[24], more[24], start[LIA_TIME_TEXT], end[LIA_TIME_TEXT], gen[LIA_TIME_TEXT];
    const char *sender, *lang;
    char tmp[LIA_MAX_URL + 64];
} lia__digest;

void lia__digest_free(lia__digest *d);
/* Build the digest's events: pending ids, TLP re-check, redaction; and the
 * incidents they carry to the recipient (incident/delivery.h). */
int lia__digest_gather(lia_store *s, lia_db *db, lia__digest *d, const char *rcpt, const char *channel,
                       lia_error *err);

/* ---- MIME (mime.c) ---- */

/* Header text: plain if ASCII, else an RFC 2047 encoded word (split). */
void lia__mime_header_text(lia_buf *b, const char *s);
/* A random multipart boundary. */
void lia__mime_boundary(char out[40]);
/* One base64 body part of a multipart entity; fname: attachment name or NULL. */
void lia__mime_part(lia_buf *b, const char *bnd, const char *ctype, const char *fname, const char *data,
                    size_t n);
/* RFC 5322 date of us (UTC). */
void lia__mime_date(int64_t us, char *out, size_t n);

/* ---- OpenPGP (pgp.c) ---- */

/* entity (CRLF MIME entity) -> multipart/signed or multipart/encrypted body
 * (headers from Content-Type on) appended to out. */
int lia__pgp_protect(const char *home, const char *sign_fpr, const char *enc_fpr, const lia_buf *entity,
                     lia_buf *out, int *did_sign, int *did_enc, lia_error *err);

/* ---- SMTP (smtp.c) ---- */

/* Send msg from `from` to every address of `to`; LIA_OK or LIA_ENET / LIA_ENOMEM
 * with the reason in errbuf (CURL_ERROR_SIZE bytes). */
int lia__smtp_send(const char *url, const char *from, const lia_strlist *to, const lia_buf *msg,
                   const char *user, const char *pass, char *errbuf);

/* ---- delivery bookkeeping (delivery.c) ---- */

/* The channels a recipient's events must go through before route_decision
 * counts them as notified: "email" and each taxii:ROOT/COLLECTION (keys
 * borrowed from the party and the channel table). */
typedef struct lia__chset {
    const char **key;
    size_t n, cap;
} lia__chset;

/* Add key to set; LIA_ENOMEM. */
int lia__chset_add(lia__chset *set, const char *key);
/* 1 if key[0..n) is in set. */
int lia__chset_has(const lia__chset *set, const char *key, size_t n);
void lia__chset_free(lia__chset *set);

/* The notification tables, and schema 2 (notification.channel) on a store of schema 1. */
int lia__notify_schema(lia_db *db, lia_error *err);
/* The tables of `sla run` (sla_notice) and of advisories mailed
 * (notification_advisory), for a whole-store copy (src/store/copy.c). */
int lia__sla_schema(lia_db *db, lia_error *err);
int lia__notify_advisory_schema(lia_db *db, lia_error *err);
/* Record one delivery attempt on channel. Sent: the events are marked
 * delivered on that channel, and notified in route_decision once every
 * channel of req has delivered them. Its own transaction, nested in the
 * caller's if there is one. */
int lia__notify_record(lia_store *s, lia_db *db, const char *rcpt, const char *to, const char *channel,
                       const lia__chset *req, int64_t at, const char *msgid, const lia__digest *d,
                       const char *outcome, int attempts, const char *error, int sig, int enc,
                       const char *lang, size_t bytes, int64_t *nid, lia_error *err);
/* Time of the last e-mail digest sent to rcpt (0: none). */
int lia__notify_last_sent(lia_db *db, const char *rcpt, int64_t *at, lia_error *err);
/* Events of rcpt that every channel of req has delivered, but that are not
 * marked notified yet (the recipient lost a channel since): mark them. */
int lia__notify_settle(lia_store *s, lia_db *db, const char *rcpt, const lia__chset *req, int64_t now,
                       lia_error *err);

/* ---- the e-mail outbox (outbox.c) ---- */

/* A message written before it is sent and removed when it is recorded sent. */
typedef struct lia__outbox_msg {
    int64_t id;
    const char *recipient, *channel, *message_id, *rcpt_to, *mail_from, *language;
    lia_strlist envelope; /* the SMTP recipients */
    int64_t at;
    int sig, enc;
    const char *message; /* the whole message as sent */
    size_t message_len;
    int recorded; /* read back: a notification already records it sent */
    char *owned;  /* read back: the message's bytes */
} lia__outbox_msg;

/* Write m with d's event and incident ids; *oid its id. */
int lia__outbox_put(lia_db *db, const lia__outbox_msg *m, const lia__digest *d, int64_t *oid, lia_error *err);
/* Remove message oid. */
int lia__outbox_del(lia_db *db, int64_t oid, lia_error *err);
/* The oldest message of rcpt on channel into m (owned; lia__outbox_msg_free)
 * and its event and incident ids into d->ids and d->incidents; LIA_ENOTFOUND
 * if there is none. */
int lia__outbox_oldest(lia_db *db, const char *rcpt, const char *channel, lia__outbox_msg *m, lia__digest *d,
                       lia_error *err);
void lia__outbox_msg_free(lia__outbox_msg *m);

/* ---- the run and its channels (notify.c, channels.c) ---- */

/* One `liaison notify run`, as every channel sees it. */
typedef struct lia__notify_run {
    lia_store *s;
    lia_db *db;
    const lia_route *rt;
    const lia_notify_opts *o;
    int64_t now;
    lia_notify_cb cb;
    void *ud;
    int failed;        /* some delivery failed (recorded, retried next run) */
    const char *lease; /* the recipient's lease while one is held (NULL: dry run) */
    int lost;          /* the lease expired and another notifier took it: stop */
} lia__notify_run;

/* One recipient of the run. */
typedef struct lia__notify_rcpt {
    const char *name; /* "owner:ID" / "partner:ID" */
    int idx;          /* party in the snapshot; -1: no longer in the directory */
    lia__chset req;   /* channels that must deliver before "notified" */
} lia__notify_rcpt;

/* A delivery channel. Per-value channels are delivered once for each value
 * of the party's `channels` of their kind (key: the value); the others once
 * per recipient, after them (key: name). */
typedef struct lia__notify_channel {
    int kind;         /* enum lia_channel_kind */
    const char *name; /* "email", "taxii", ... */
    int per_value;
    int required; /* its deliveries count toward "notified" */
    /* once-per-recipient channels: does the party have an address for it
     * (besides values of its kind in `channels`)? */
    int (*wanted)(const lia_party *p);
    int fallback; /* delivered (and required) when no other channel is */
    /* Deliver the events pending for rc on this channel; a failed delivery
     * is recorded and reported through r->cb (r->failed set), not returned. */
    int (*deliver)(lia__notify_run *r, const lia__notify_rcpt *rc, const lia_channel *ch, const char *key,
                   lia_error *err);
} lia__notify_channel;

/* The one table of channels (channels.c), ended by a NULL. */
extern const lia__notify_channel *const lia__notify_channels[];
const lia__notify_channel *lia__notify_channel_of(int kind);

/* ---- internal (was in the public API) ---- */

/* Render template t[0..n) into out. LIA_OK, or LIA_EPARSE (unbalanced or
 * malformed tag, unknown name; err->line set) / LIA_ELIMIT. Pure. */
int lia__tmpl_render(const char *t, size_t n, const lia_tmpl_vars *v, lia_buf *out, lia_error *err);

#endif
