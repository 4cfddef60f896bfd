/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/mail.h - reading an e-mail message (RFC 5322, MIME RFC 2045-2047,
 * RFC 3156) and the e-mail answer channel of incidents.
 *
 * lia_mail_parse() is a pure function of (buf, len): headers unfolded,
 * names matched ASCII case-insensitively, RFC 2047 encoded words decoded to
 * UTF-8; multipart bodies walked (up to LIA_MAIL_MAX_DEPTH levels and
 * LIA_MAIL_MAX_PARTS parts); the first text/plain part that is not an
 * attachment decoded from quoted-printable or base64 and converted from its
 * charset to UTF-8 with iconv (bytes of a charset iconv does not know, and
 * invalid UTF-8, become U+FFFD, and lia_mail_text_note says so). A
 * PGP/MIME multipart/signed message keeps the exact bytes of its signed
 * part and its signature. Every size is bounded (limits below); what is
 * over a limit is an error (LIA_ELIMIT), never silently cut. */
#ifndef LIAISON_MAIL_H
#define LIAISON_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

#define LIA_MAIL_MAX_MESSAGE (32u << 20)  /* one message */
#define LIA_MAIL_MAX_HEADERS 1000         /* header fields of one entity */
#define LIA_MAIL_MAX_HEADER  (64u * 1024) /* one header field, unfolded */
#define LIA_MAIL_MAX_PARTS   256          /* MIME parts in one message */
#define LIA_MAIL_MAX_DEPTH   8            /* nesting of multiparts */
#define LIA_MAIL_MAX_TEXT    (4u << 20)   /* the decoded text/plain body */
#define LIA_MAIL_MAX_ADDR    254          /* an address (RFC 5321 path) */

/* Incidents one reply to a digest is for (the digest carried more: the first ones). */
#define LIA_MAIL_MAX_INCIDENTS 10000

typedef struct lia_mail lia_mail;

/* Parse a message. *out is owned by the caller (lia_mail_free). Errors:
 * LIA_EPARSE (no header, a header line without a colon, a multipart
 * without its boundary or closing delimiter), LIA_ELIMIT, LIA_ENOMEM. The
 * input is copied: buf may be freed afterwards. */
int lia_mail_parse(const char *buf, size_t len, lia_mail **out, lia_error *err);
void lia_mail_free(lia_mail *m);

/* The nth (0-based) top-level header field of that name (case-insensitive),
 * unfolded, encoded words decoded, control characters made spaces, ends
 * trimmed; NULL if absent. Borrowed from m. */
const char *lia_mail_header(const lia_mail *m, const char *name, size_t nth);
/* Number of top-level header fields. */
size_t lia_mail_nheaders(const lia_mail *m);

/* The text of the message (UTF-8, line ends LF): the first text/plain part
 * that is not an attachment; "" when there is none. */
const char *lia_mail_text(const lia_mail *m, size_t *len);
/* NULL, or why the text is not exact ("charset x-foo unknown to iconv: ...",
 * "no text/plain part"). */
const char *lia_mail_text_note(const lia_mail *m);

/* The sender's address (From), lower-cased; NULL if From has none. */
const char *lia_mail_from(const lia_mail *m);

/* A PGP/MIME signed message (multipart/signed,
 * protocol="application/pgp-signature"): 1 with the exact bytes of the
 * signed entity and of the signature part's body; 0 otherwise. Slices into m. */
int lia_mail_pgp_signed(const lia_mail *m, lia_slice *entity, lia_slice *signature);

/* Parts seen, for tests and the fuzzer: every entity (the message is 0). */
size_t lia_mail_nparts(const lia_mail *m);
/* "type/subtype" of part i, lower-cased ("text/plain" when absent). */
const char *lia_mail_part_type(const lia_mail *m, size_t i);

/* Addresses: copy the first addr-spec of an address header value (the one
 * in <...> or the bare one, comments dropped), lower-cased, into out.
 * LIA_OK or LIA_EINVAL when there is none or it is longer than
 * LIA_MAIL_MAX_ADDR. Pure. */
int lia_mail_addr(const char *value, char out[LIA_MAIL_MAX_ADDR + 1], lia_error *err);

/* The incident reference "[LIAISON#<id>]" (case-insensitive) in a subject:
 * the id, or 0 if there is none. Pure. */
int64_t lia_mail_incident_ref(const char *subject);

/* ---- the answer channel (in the store) ----------------------------------- */

/* What one received message did. Strings borrowed until the next call. */
typedef struct lia_mail_outcome {
    const char *message_id;  /* Message-ID, or "sha256:..." of the bytes when it has none */
    const char *from;        /* sender address */
    int64_t incident;        /* 0 when unmatched */
    const char *recipient;   /* the recipient it was attached to; NULL if none */
    int64_t comment;         /* the comment id; 0 if none */
    const char *action;      /* "ack", "resolve", "reject" or NULL: the hand-off change made */
    const char *note;        /* why no hand-off change, or why unmatched; NULL if none */
    const char *signature;   /* "none", "good", "bad", "unknown-key", "error" */
    const char *fingerprint; /* the signing key's fingerprint; "" if none */
    int duplicate;           /* 1: this Message-ID was received before; nothing changed */
    int unmatched;           /* 1: kept in the unmatched queue */
    size_t incidents;        /* incidents it was attached to: a reply to a digest that carried
                                several is for each (incident: the first) */
} lia_mail_outcome;

typedef struct lia_mail_opts {
    const char *gnupg_home; /* NULL: $GNUPGHOME or ~/.gnupg */
} lia_mail_opts;

/* Take one received message: find its incident ([LIAISON#id] in the
 * subject, an X-Liaison-Incident header, or In-Reply-To / References naming
 * a Message-ID we sent) and its recipient (the sender is a contact of a
 * recipient of that incident); attach the text as a comment (channel
 * "email", address = the sender) shared with that recipient; from a contact
 * of the recipient, acknowledge the hand-off, or resolve or reject it when
 * the first line of the text says so (docs/incidents.md). A PGP signature
 * (PGP/MIME or inline) is verified with gpgme; the result is in the
 * comment. A message that matches nothing, or that cannot be read, is kept
 * in the unmatched queue with the reason. Idempotent by Message-ID.
 * Returns LIA_OK when the message was stored (matched or queued). */
int lia_mail_receive(lia_store *s, const char *buf, size_t len, const lia_mail_opts *o, lia_mail_outcome *out,
                     lia_error *err);

/* 1 if a message with this id was already stored (0: not; < 0: error). */
int lia_mail_seen(lia_store *s, const char *message_id, lia_error *err);

/* Poll an IMAP mailbox (libcurl): every unseen message (UID SEARCH
 * UNSEEN) is fetched and received as lia_mail_receive does; it is marked
 * \Seen only once stored (a message that could not be stored keeps unseen
 * and the call stops with its error). url: imaps://host/MAILBOX (imap://
 * uses STARTTLS when the server offers it). cb (may be NULL) is told each
 * message's UID and outcome. Idempotent: a message fetched again (another
 * client unmarked it) is a duplicate by its Message-ID. */
typedef struct lia_mail_fetch_opts {
    const char *url, *user, *password;
    lia_mail_opts receive;
} lia_mail_fetch_opts;
typedef int (*lia_mail_fetch_cb)(void *ud, uint64_t uid, const lia_mail_outcome *o);
int lia_mail_fetch(lia_store *s, const lia_mail_fetch_opts *o, lia_mail_fetch_cb cb, void *ud,
                   lia_error *err);

typedef struct lia_mail_unmatched {
    int64_t id, at_us;
    const char *message_id, *from, *subject, *reason;
    size_t bytes;
} lia_mail_unmatched;
typedef int (*lia_mail_unmatched_cb)(void *ud, const lia_mail_unmatched *u);
/* Call cb for each message of the unmatched queue, oldest first; a
 * non-zero return from cb stops the walk and is returned. */
int lia_mail_unmatched_list(lia_store *s, lia_mail_unmatched_cb cb, void *ud, lia_error *err);

#endif
