/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* accounts/internal.h - internal: not part of the public API (include/liaison/). */
#ifndef LIA_ACCOUNTS_INTERNAL_H
#define LIA_ACCOUNTS_INTERNAL_H

#include "liaison/accounts.h"
#include "store/db.h"

/* ---- internal (was in the public API) ---- */

/* Roles are bounded by the organisation kind: our own team has admin and
 * analyst users, a partner organisation partner users, a constituent
 * constituent users. 1 if role is allowed in an organisation of org_kind.
 * lia_accounts_user_add refuses other roles (LIA_EINVAL), and the auth
 * functions refuse an account that holds one anyway (LIA_EAUTH). */
int lia__role_allowed(int org_kind, int role);

/* Create the tables and the server secret if missing. Every other function
 * calls it, so calling it is optional. */
int lia__accounts_init(lia_store *s, lia_error *err);
/* Only the tables, without the server secret: a whole-store copy
 * (src/store/copy.c) brings the source's. */
int lia__accounts_schema(lia_db *db, lia_error *err);

/* A 32-byte key for one purpose, derived from the server secret:
 * BLAKE2b-256(key = secret, context). The secret is made if missing, so
 * every process on the store derives the same key (the notifier signs the
 * answer links that `liaison serve` checks). */
int lia__accounts_derive_key(lia_store *s, const char *context, unsigned char out[32], lia_error *err);

int lia__accounts_orgs_of_party(lia_store *s, int kind, const char *party_id, lia_accounts_org_cb cb,
                                void *ud, lia_error *err);

/* LIA_EAUTH for an unknown user, wrong password, unknown or revoked key,
 * disabled user, a role its organisation's kind does not allow; reason in
 * err. */
int lia__accounts_auth_basic(lia_store *s, const char *user, const char *password, lia_principal *out,
                             lia_error *err);
/* Argon2id verifications done by lia__accounts_auth_basic in this process
 * (one per call, whatever the outcome: unknown users are checked against a
 * dummy hash of the same cost). For tests and statistics. */
unsigned long long lia__accounts_password_checks(void);
int lia__accounts_auth_token(lia_store *s, const char *token, lia_principal *out, lia_error *err);

/* The principal of user user_id as it is now (a session's user, whose
 * role or organisation may have changed since the log-in): LIA_EAUTH when
 * the user is gone, disabled or holds a role its organisation does not
 * allow. key_id is 0. */
int lia__accounts_principal(lia_store *s, int64_t user_id, lia_principal *out, lia_error *err);

#endif
