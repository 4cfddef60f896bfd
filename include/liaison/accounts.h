/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/accounts.h - organisations, users, API keys (src/accounts/accounts.c).
 *
 * Organisations are our own team, partner CERTs and constituents (network
 * owners); each has a TLP ceiling (the highest TLP its members may receive).
 * Users belong to one organisation and have one role. API keys are shown
 * once at creation and stored only as a keyed BLAKE2b-256 hash
 * (crypto_generichash keyed with a random server secret kept in the store);
 * passwords only as argon2id strings (crypto_pwhash_str). Tables live in the
 * store (acct_*), created on first use. A store handle, one thread. */
#ifndef LIAISON_ACCOUNTS_H
#define LIAISON_ACCOUNTS_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/store.h"

enum lia_role { LIA_ROLE_ADMIN = 0, LIA_ROLE_ANALYST = 1, LIA_ROLE_PARTNER = 2, LIA_ROLE_CONSTITUENT = 3 };
enum lia_org_kind { LIA_ORG_OWN = 0, LIA_ORG_PARTNER = 1, LIA_ORG_CONSTITUENT = 2 };

/* "admin" "analyst" "partner" "constituent" <-> enum; -1 if unknown. */
int lia_role_parse(const char *s);
const char *lia_role_name(int role);
/* "own" "partner" "constituent" <-> enum; -1 if unknown. */
int lia_org_kind_parse(const char *s);
const char *lia_org_kind_name(int kind);

#define LIA_NAME_MAX      128
#define LIA_KEY_TOKEN_MAX 80 /* "lia_" + 43 base64url chars + NUL fits */

/* Add organisation name (kind LIA_ORG_*, highest TLP it may read); *id is
 * its id. LIA_EEXIST if the name is taken, LIA_EINVAL for a bad name,
 * kind or ceiling. */
int lia_accounts_org_add(lia_store *s, const char *name, int kind, int tlp_ceiling, int64_t *id,
                         lia_error *err);
/* The id of organisation name; LIA_ENOTFOUND if there is none. */
int lia_accounts_org_find(lia_store *s, const char *name, int64_t *id, lia_error *err);
typedef struct lia_org {
    int64_t id;
    int kind, tlp_ceiling;
    char party[65]; /* linked party id, "" if none */
} lia_org;
/* Organisation name; LIA_ENOTFOUND if none. */
int lia_accounts_org_get(lia_store *s, const char *name, lia_org *out, lia_error *err);
/* Link organisation org to a party of the route directory (liaison/route.h):
 * a partner organisation to a partner id, a constituent to an owner id;
 * party_id NULL removes the link. The party need not exist yet (the CLI
 * checks). Deliveries to that party (TAXII collections, liaison/notify.h)
 * grant the linked organisations read access. LIA_ENOTFOUND (no such org),
 * LIA_EINVAL (own team, bad id). */
int lia_accounts_org_link(lia_store *s, const char *org, const char *party_id, lia_error *err);
/* Organisations of kind (enum lia_org_kind) linked to party_id, in id order;
 * a non-zero return of cb stops and is returned. */
typedef int (*lia_accounts_org_cb)(void *ud, int64_t org_id, const char *name);
/* password may be NULL (token-only user). Minimum 12 characters otherwise.
 * LIA_EINVAL if role is not allowed in the organisation's kind. */
int lia_accounts_user_add(lia_store *s, const char *org, const char *name, int role, const char *password,
                          int64_t *id, lia_error *err);
/* New API key for user; token (shown once) written to token_out.
 * rate/burst 0 = server default. */
int lia_accounts_key_add(lia_store *s, const char *user, double rate, double burst,
                         char token_out[LIA_KEY_TOKEN_MAX], int64_t *id, lia_error *err);
int lia_accounts_key_revoke(lia_store *s, int64_t key_id, lia_error *err);

/* Who a request is. */
typedef struct lia_principal {
    int64_t org_id, user_id, key_id; /* key_id 0 for password logins */
    int role, org_kind, tlp_ceiling;
    double rate, burst; /* 0 = server default */
    char org[LIA_NAME_MAX], user[LIA_NAME_MAX];
} lia_principal;

/* One line of text per org, user and key (never a secret), for `accounts list`. */
typedef int (*lia_accounts_line_cb)(void *ud, const char *line);
int lia_accounts_list(lia_store *s, lia_accounts_line_cb cb, void *ud, lia_error *err);

#endif
