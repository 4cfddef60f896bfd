/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Console sessions (table console_sessions, this module's own): a random
 * 256-bit id (libsodium) handed to the browser as a cookie and stored only
 * as its BLAKE2b-256 hash; a per-session CSRF token; idle and absolute
 * expiry. Internal to libliaison. A store handle, one thread. */
#ifndef LIA_CONSOLE_SESSION_H
#define LIA_CONSOLE_SESSION_H

#include <stdint.h>

#include "liaison/accounts.h"
#include "liaison/store.h"
#include "store/db.h"

#define LIA__SESSION_ID_LEN 43 /* base64url of 32 bytes, no padding */

/* A new session of user_id at now_us: id and csrf (NUL-terminated, shown
 * once: the store keeps a hash of the id). Sessions of any user idle longer
 * than idle_s or older than max_s are deleted first, so the table holds
 * only live sessions however many are never used again. */
int lia__session_new(lia_store *s, int64_t user_id, int64_t now_us, unsigned idle_s, unsigned max_s,
                     char id[LIA__SESSION_ID_LEN + 1], char csrf[LIA__SESSION_ID_LEN + 1], lia_error *err);
/* The session id at now_us: LIA_OK with its user's current principal and
 * its csrf token, its last use moved to now; LIA_EAUTH when unknown, idle
 * longer than idle_s, older than max_s (an expired one is deleted), or its
 * user is gone or disabled. */
int lia__session_check(lia_store *s, const char *id, int64_t now_us, unsigned idle_s, unsigned max_s,
                       lia_principal *p, char csrf[LIA__SESSION_ID_LEN + 1], lia_error *err);
/* Only the table, for a whole-store copy (src/store/copy.c). */
int lia__session_schema(lia_db *db, lia_error *err);
/* End session id (none: LIA_OK all the same). */
int lia__session_end(lia_store *s, const char *id, lia_error *err);

#endif
