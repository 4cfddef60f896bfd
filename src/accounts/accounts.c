/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Accounts: organisations, users, API keys (acct_* tables in the store).
 * Keys are "lia_" + 32 random bytes in base64url; only
 * BLAKE2b-256(key = server secret, token) is stored, so a leaked database
 * does not give working keys, and a lookup is one indexed equality. The
 * server secret (32 random bytes) is created once in acct_secret.
 * Passwords: argon2id (crypto_pwhash_str, interactive limits). */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "liaison/accounts.h"
#include "liaison/field.h"
#include "store/db.h"
#include "accounts/internal.h"
#include "audit/log.h"

/* Schema 1 had no acct_orgs.party; 2 links an organisation to a party of
 * the route directory (partner id, or owner id for a constituent). Stores
 * from before the migration registry kept '1' in acct_meta (also when the
 * column was there from the start), so adopt looks at the column. */
static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS acct_secret(id INTEGER PRIMARY KEY CHECK(id = 1),"
            "  key BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS acct_orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
            "  kind INTEGER NOT NULL, tlp_ceiling INTEGER NOT NULL, created INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS acct_users(id INTEGER PRIMARY KEY,"
            "  org_id INTEGER NOT NULL REFERENCES acct_orgs(id), name TEXT NOT NULL UNIQUE,"
            "  role INTEGER NOT NULL, pwhash TEXT, disabled INTEGER NOT NULL DEFAULT 0,"
            "  created INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS acct_keys(id INTEGER PRIMARY KEY,"
            "  user_id INTEGER NOT NULL REFERENCES acct_users(id), hash BLOB NOT NULL UNIQUE,"
            "  hint TEXT NOT NULL, rate REAL NOT NULL DEFAULT 0, burst REAL NOT NULL DEFAULT 0,"
            "  created INTEGER NOT NULL, revoked INTEGER)"},
    {.sql = "ALTER TABLE acct_orgs ADD COLUMN party TEXT;"
            "CREATE INDEX IF NOT EXISTS acct_orgs_party ON acct_orgs(party) WHERE party IS NOT NULL"},
};

static int adopt(lia_db *db, int *version, lia_error *err)
{
    if (lia__db_has_column(db, "acct_orgs", "party"))
        *version = 2;
    else
        *version = lia__db_has_table(db, "acct_orgs") ? 1 : 0;
    return LIA_OK;
}

static const lia_schema accounts_schema = {"accounts", 2, migrations, adopt, .pg = 1};

static const char *const roles[] = {"admin", "analyst", "partner", "constituent"};
static const char *const kinds[] = {"own", "partner", "constituent"};

int lia_role_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, roles[i]) == 0)
            return i;
    return -1;
}
const char *lia_role_name(int r)
{
    return r >= 0 && r < 4 ? roles[r] : "?";
}
int lia_org_kind_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, kinds[i]) == 0)
            return i;
    return -1;
}
const char *lia_org_kind_name(int k)
{
    return k >= 0 && k < 3 ? kinds[k] : "?";
}

int lia__accounts_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &accounts_schema, err);
}

int lia__accounts_init(lia_store *s, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    unsigned char key[crypto_generichash_KEYBYTES];
    int rc;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium init failed");
    if ((rc = lia__db_schema(db, &accounts_schema, err)))
        return rc;
    /* a read, not a write, once the secret exists: the store may be read-only */
    if ((rc = lia__db_prepare(db, "accounts: looking for the server secret",
                              "SELECT 1 FROM acct_secret WHERE id=1", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc != LIA_DB_DONE)
        return rc < 0 ? rc : LIA_OK;
    randombytes_buf(key, sizeof key);
    if ((rc = lia__db_prepare(db, "accounts: create server secret",
                              "INSERT INTO acct_secret VALUES(1, ?1) ON CONFLICT DO NOTHING", &st, err)))
        return rc;
    lia__db_bind_blob(st, 1, key, sizeof key);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    sodium_memzero(key, sizeof key);
    return rc;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int valid_name(const char *n)
{
    size_t l = n ? strlen(n) : 0;
    if (l == 0 || l >= LIA_NAME_MAX)
        return 0;
    for (size_t i = 0; i < l; i++) {
        unsigned char c = (unsigned char)n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == '@'))
            return 0;
    }
    return 1;
}

static int org_add_(lia_store *s, const char *name, int kind, int tlp_ceiling, int64_t *id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if (!valid_name(name))
        return lia_error_set(err, LIA_EINVAL, "org", name, name ? strlen(name) : 0,
                             "names are 1-127 of [A-Za-z0-9._@-]");
    if (kind < 0 || kind > 2 || tlp_ceiling < LIA_TLP_CLEAR || tlp_ceiling > LIA_TLP_RED)
        return lia_error_set(err, LIA_EINVAL, "org", name, strlen(name), "bad kind or TLP ceiling");
    if ((rc = lia__db_prepare(db, "accounts: org add",
                              "INSERT INTO acct_orgs(name, kind, tlp_ceiling, created) VALUES(?1,?2,?3,?4)",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_int64(st, 2, kind);
    lia__db_bind_int64(st, 3, tlp_ceiling);
    lia__db_bind_int64(st, 4, now_s());
    rc = lia__db_run(st, err);
    if (rc == LIA_EEXIST)
        rc = lia_error_set(err, LIA_EEXIST, "org", name, strlen(name), "already exists");
    else if (rc == LIA_OK) {
        if (id)
            *id = lia__db_last_id(db);
        rc = LIA_OK;
    }
    lia__db_done(st);
    return rc;
}

static int find_id(lia_store *s, const char *sql, const char *name, const char *what, int64_t *id,
                   lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if ((rc = lia__db_prepare_once(db, what, sql, &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        *id = lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, what, name, strlen(name), "no such %s", what);
    }
    lia__db_done(st);
    return rc;
}

int lia_accounts_org_find(lia_store *s, const char *name, int64_t *id, lia_error *err)
{
    return find_id(s, "SELECT id FROM acct_orgs WHERE name = ?1", name, "org", id, err);
}

int lia_accounts_org_get(lia_store *s, const char *name, lia_org *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if ((rc =
             lia__db_prepare(db, "accounts: org",
                             "SELECT id, kind, tlp_ceiling, party FROM acct_orgs WHERE name = ?1", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        memset(out, 0, sizeof *out);
        out->id = lia__db_col_int64(st, 0);
        out->kind = (int)lia__db_col_int64(st, 1);
        out->tlp_ceiling = (int)lia__db_col_int64(st, 2);
        if (!lia__db_col_null(st, 3))
            snprintf(out->party, sizeof out->party, "%s", lia__db_col_text(st, 3));
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "org", name, strlen(name), "no such org");
    }
    lia__db_done(st);
    return rc;
}

static int org_link_(lia_store *s, const char *org, const char *party_id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int64_t id;
    int rc, kind = -1;
    if ((rc = lia_accounts_org_find(s, org, &id, err)))
        return rc;
    if (party_id && (!*party_id || strlen(party_id) > 64))
        return lia_error_set(err, LIA_EINVAL, "party", party_id, strlen(party_id),
                             "a party id has 1 to 64 characters");
    if ((rc =
             lia__db_prepare(db, "accounts: org link", "SELECT kind FROM acct_orgs WHERE id = ?1", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    if (lia__db_step(st, NULL) == LIA_DB_ROW)
        kind = (int)lia__db_col_int64(st, 0);
    lia__db_done(st);
    st = NULL;
    if (party_id && kind == LIA_ORG_OWN)
        return lia_error_set(err, LIA_EINVAL, "org", org, strlen(org),
                             "our own team is not a party of the route directory; link a partner or"
                             " constituent organisation");
    if ((rc = lia__db_prepare(db, "accounts: org unlink or link",
                              "UPDATE acct_orgs SET party = ?2 WHERE id = ?1", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    if (party_id)
        lia__db_bind_text(st, 2, party_id, -1);
    else
        lia__db_bind_null(st, 2);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__accounts_orgs_of_party(lia_store *s, int kind, const char *party_id, lia_accounts_org_cb cb,
                                void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int rc, step;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "accounts: orgs of party",
                              "SELECT id, name FROM acct_orgs WHERE party = ?1 AND kind = ?2 ORDER BY id",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, party_id, -1);
    lia__db_bind_int64(st, 2, kind);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW)
        if ((rc = cb(ud, lia__db_col_int64(st, 0), lia__db_col_text(st, 1))))
            break;
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

int lia__role_allowed(int org_kind, int role)
{
    switch (org_kind) {
    case LIA_ORG_OWN: return role == LIA_ROLE_ADMIN || role == LIA_ROLE_ANALYST;
    case LIA_ORG_PARTNER: return role == LIA_ROLE_PARTNER;
    case LIA_ORG_CONSTITUENT: return role == LIA_ROLE_CONSTITUENT;
    default: return 0;
    }
}

static const char *roles_of_kind(int org_kind)
{
    return org_kind == LIA_ORG_OWN       ? "admin or analyst"
           : org_kind == LIA_ORG_PARTNER ? "partner"
                                         : "constituent";
}

/* The principal of an account whose role its organisation's kind does not
 * allow (made before roles were bounded, or by hand) is refused. */
static int check_principal(const lia_principal *p, lia_error *err)
{
    if (lia__role_allowed(p->org_kind, p->role))
        return LIA_OK;
    return lia_error_set(err, LIA_EAUTH, "user", p->user, strlen(p->user),
                         "account refused: role %s is not allowed in %s organisation %s (allowed: %s)",
                         lia_role_name(p->role), lia_org_kind_name(p->org_kind), p->org,
                         roles_of_kind(p->org_kind));
}

static int user_add_(lia_store *s, const char *org, const char *name, int role, const char *password,
                     int64_t *id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    char hash[crypto_pwhash_STRBYTES];
    lia_org o;
    int64_t org_id;
    int rc;
    if ((rc = lia_accounts_org_get(s, org, &o, err)))
        return rc;
    org_id = o.id;
    if (!valid_name(name))
        return lia_error_set(err, LIA_EINVAL, "user", name, name ? strlen(name) : 0,
                             "names are 1-127 of [A-Za-z0-9._@-]");
    if (role < 0 || role > 3)
        return lia_error_set(err, LIA_EINVAL, "role", NULL, 0, "unknown role");
    if (!lia__role_allowed(o.kind, role))
        return lia_error_set(err, LIA_EINVAL, "role", lia_role_name(role), strlen(lia_role_name(role)),
                             "role %s is not allowed in %s organisation %s; its users have role %s",
                             lia_role_name(role), lia_org_kind_name(o.kind), org, roles_of_kind(o.kind));
    if (password) {
        if (strlen(password) < 12)
            return lia_error_set(err, LIA_EINVAL, "password", NULL, 0, "at least 12 characters");
        if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return lia_error_set(err, LIA_ENOMEM, "password", NULL, 0, "argon2id failed");
    }
    if ((rc = lia__db_prepare(db, "accounts: user add",
                              "INSERT INTO acct_users(org_id, name, role, pwhash, created)"
                              " VALUES(?1,?2,?3,?4,?5)",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, org_id);
    lia__db_bind_text(st, 2, name, -1);
    lia__db_bind_int64(st, 3, role);
    if (password)
        lia__db_bind_text(st, 4, hash, -1);
    else
        lia__db_bind_null(st, 4);
    lia__db_bind_int64(st, 5, now_s());
    rc = lia__db_run(st, err);
    if (rc == LIA_EEXIST)
        rc = lia_error_set(err, LIA_EEXIST, "user", name, strlen(name), "already exists");
    else if (rc == LIA_OK) {
        if (id)
            *id = lia__db_last_id(db);
        rc = LIA_OK;
    }
    lia__db_done(st);
    return rc;
}

static int key_hash(lia_db *db, const char *token, unsigned char out[32], lia_error *err)
{
    lia_stmt *st = NULL;
    int rc = LIA_OK;
    const void *key;
    size_t n;
    if ((rc = lia__db_prepare(db, "accounts: reading the server secret",
                              "SELECT key FROM acct_secret WHERE id = 1", &st, err)))
        return rc;
    if (lia__db_step(st, NULL) == LIA_DB_ROW && (key = lia__db_col_blob(st, 0, &n)) &&
        n == crypto_generichash_KEYBYTES)
        crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), key,
                           crypto_generichash_KEYBYTES);
    else
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "server secret missing");
    lia__db_done(st);
    return rc;
}

int lia__accounts_derive_key(lia_store *s, const char *context, unsigned char out[32], lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    const void *key;
    size_t n;
    int rc;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "accounts: reading the server secret",
                              "SELECT key FROM acct_secret WHERE id = 1", &st, err)))
        return rc;
    if (lia__db_step(st, NULL) == LIA_DB_ROW && (key = lia__db_col_blob(st, 0, &n)) &&
        n == crypto_generichash_KEYBYTES)
        crypto_generichash(out, 32, (const unsigned char *)context, strlen(context), key,
                           crypto_generichash_KEYBYTES);
    else
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "server secret missing");
    lia__db_done(st);
    return rc;
}

static int key_add_(lia_store *s, const char *user, double rate, double burst,
                    char token_out[LIA_KEY_TOKEN_MAX], int64_t *id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    unsigned char rnd[32], h[32];
    char tok[LIA_KEY_TOKEN_MAX];
    int64_t uid;
    int rc;
    if ((rc = find_id(s, "SELECT id FROM acct_users WHERE name = ?1", user, "user", &uid, err)))
        return rc;
    if (rate < 0 || burst < 0)
        return lia_error_set(err, LIA_EINVAL, "rate", NULL, 0, "must not be negative");
    randombytes_buf(rnd, sizeof rnd);
    memcpy(tok, "lia_", 4);
    sodium_bin2base64(tok + 4, sizeof tok - 4, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    if ((rc = key_hash(db, tok, h, err)))
        goto out;
    if ((rc = lia__db_prepare(db, "accounts: key add",
                              "INSERT INTO acct_keys(user_id, hash, hint, rate, burst, created)"
                              " VALUES(?1,?2,?3,?4,?5,?6)",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, uid);
    lia__db_bind_blob(st, 2, h, sizeof h);
    lia__db_bind_text(st, 3, tok, 8); /* "lia_" + 4 chars: enough to recognise */
    lia__db_bind_double(st, 4, rate);
    lia__db_bind_double(st, 5, burst);
    lia__db_bind_int64(st, 6, now_s());
    if ((rc = lia__db_run(st, err)))
        goto out;
    if (id)
        *id = lia__db_last_id(db);
    memcpy(token_out, tok, sizeof tok);
out:
    lia__db_done(st);
    sodium_memzero(tok, sizeof tok);
    return rc;
}

static int key_revoke_(lia_store *s, int64_t key_id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "accounts: revoke",
                              "UPDATE acct_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", &st,
                              err)))
        return rc;
    lia__db_bind_int64(st, 1, key_id);
    lia__db_bind_int64(st, 2, now_s());
    if ((rc = lia__db_run(st, err)) == LIA_OK && lia__db_changes(db) == 0)
        rc = lia_error_set(err, LIA_ENOTFOUND, "key", NULL, 0, "no such key %lld, or already revoked",
                           (long long)key_id);
    lia__db_done(st);
    return rc;
}

static const char principal_cols[] =
    "SELECT u.id, u.name, u.role, u.disabled, o.id, o.name, o.kind, o.tlp_ceiling";

static void fill_principal(lia_stmt *st, lia_principal *p)
{
    memset(p, 0, sizeof *p);
    p->user_id = lia__db_col_int64(st, 0);
    snprintf(p->user, sizeof p->user, "%s", lia__db_col_text(st, 1));
    p->role = (int)lia__db_col_int64(st, 2);
    p->org_id = lia__db_col_int64(st, 4);
    snprintf(p->org, sizeof p->org, "%s", lia__db_col_text(st, 5));
    p->org_kind = (int)lia__db_col_int64(st, 6);
    p->tlp_ceiling = (int)lia__db_col_int64(st, 7);
}

/* Every Basic login costs one argon2id verification of the same cost,
 * whether the user exists, is disabled, has no password or not: an
 * unknown user is checked against a hash of a random password made once
 * with the limits of real ones, so neither the time nor the work done
 * tells which user names exist. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static atomic_ullong pw_checks;

static void dummy_make(void)
{
    unsigned char pw[32];
    randombytes_buf(pw, sizeof pw);
    if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0'; /* out of memory: the verification below fails as fast as a real one would */
    sodium_memzero(pw, sizeof pw);
}

/* 1 if password matches hash (NULL or "" = the dummy, never matches). */
static int pw_verify(const char *hash, const char *password)
{
    int ok;
    pthread_once(&dummy_once, dummy_make);
    atomic_fetch_add(&pw_checks, 1);
    ok = crypto_pwhash_str_verify(hash && hash[0] ? hash : dummy_hash, password, strlen(password)) == 0;
    return ok && hash && hash[0];
}

unsigned long long lia__accounts_password_checks(void)
{
    return atomic_load(&pw_checks);
}

int lia__accounts_auth_basic(lia_store *s, const char *user, const char *password, lia_principal *out,
                             lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    char sql[512];
    int rc;
    lia_principal p;
    snprintf(sql, sizeof sql,
             "%s, u.pwhash FROM acct_users u JOIN acct_orgs o ON o.id = u.org_id"
             " WHERE u.name = ?1",
             principal_cols);
    if ((rc = lia__db_prepare_once(db, "accounts: auth", sql, &st, err)))
        return rc;
    lia__db_bind_text(st, 1, user, -1);
    rc = lia__db_step(st, err);
    if (rc < 0)
        goto out;
    if (rc != LIA_DB_ROW) {
        pw_verify(NULL, password);
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "unknown user");
        goto out;
    }
    fill_principal(st, &p);
    const char *h = lia__db_col_text(st, 8);
    int pw_ok = pw_verify(h, password);
    if ((int)lia__db_col_int64(st, 3)) {
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "user disabled");
    } else if (!pw_ok) {
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "wrong password");
    } else if ((rc = check_principal(&p, err)) == LIA_OK) {
        *out = p;
    }
out:
    lia__db_done(st);
    return rc;
}

int lia__accounts_principal(lia_store *s, int64_t user_id, lia_principal *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    char sql[512];
    int rc;
    lia_principal p;
    snprintf(sql, sizeof sql, "%s FROM acct_users u JOIN acct_orgs o ON o.id = u.org_id WHERE u.id = ?1",
             principal_cols);
    if ((rc = lia__db_prepare_once(db, "accounts: auth", sql, &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, user_id);
    if ((rc = lia__db_step(st, err)) < 0) {
        /* err says why */
    } else if (rc != LIA_DB_ROW) {
        rc = lia_error_set(err, LIA_EAUTH, "user", NULL, 0, "user %lld no longer exists", (long long)user_id);
    } else if ((int)lia__db_col_int64(st, 3)) {
        rc = lia_error_set(err, LIA_EAUTH, "user", NULL, 0, "user disabled");
    } else {
        fill_principal(st, &p);
        if ((rc = check_principal(&p, err)) == LIA_OK)
            *out = p;
    }
    lia__db_done(st);
    return rc;
}

int lia__accounts_auth_token(lia_store *s, const char *token, lia_principal *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    unsigned char h[32];
    char sql[512];
    int rc;
    if (strncmp(token, "lia_", 4) != 0)
        return lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "not a Liaison API key");
    if ((rc = key_hash(db, token, h, err)))
        return rc;
    snprintf(sql, sizeof sql,
             "%s, k.id, k.revoked, k.rate, k.burst FROM acct_keys k"
             " JOIN acct_users u ON u.id = k.user_id JOIN acct_orgs o ON o.id = u.org_id"
             " WHERE k.hash = ?1",
             principal_cols);
    if ((rc = lia__db_prepare_once(db, "accounts: auth", sql, &st, err)))
        return rc;
    lia__db_bind_blob(st, 1, h, sizeof h);
    if ((rc = lia__db_step(st, err)) < 0) {
        /* err says why */
    } else if (rc != LIA_DB_ROW) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "unknown API key");
    } else if (!lia__db_col_null(st, 9)) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "API key %lld revoked",
                           (long long)lia__db_col_int64(st, 8));
    } else if ((int)lia__db_col_int64(st, 3)) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "user disabled");
    } else {
        lia_principal p;
        fill_principal(st, &p);
        p.key_id = lia__db_col_int64(st, 8);
        p.rate = lia__db_col_double(st, 10);
        p.burst = lia__db_col_double(st, 11);
        if ((rc = check_principal(&p, err)) == LIA_OK)
            *out = p;
    }
    lia__db_done(st);
    return rc;
}

int lia_accounts_list(lia_store *s, lia_accounts_line_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    char line[512];
    int rc;
    static const char *const sql[] = {
        "SELECT id, name, kind, tlp_ceiling, party FROM acct_orgs ORDER BY id",
        "SELECT u.id, u.name, u.role, o.name, u.pwhash IS NOT NULL, u.disabled, o.kind FROM acct_users u"
        " JOIN acct_orgs o ON o.id = u.org_id ORDER BY u.id",
        "SELECT k.id, k.hint, u.name, k.rate, k.burst, k.revoked FROM acct_keys k"
        " JOIN acct_users u ON u.id = k.user_id ORDER BY k.id",
    };
    if ((rc = lia__accounts_init(s, err)))
        return rc;
    for (int t = 0; t < 3; t++) {
        if ((rc = lia__db_prepare_once(db, "accounts: list", sql[t], &st, err)))
            return rc;
        while (lia__db_step(st, NULL) == LIA_DB_ROW) {
            if (t == 0)
                snprintf(line, sizeof line, "org  %lld %s kind=%s tlp-ceiling=%s%s%s",
                         (long long)lia__db_col_int64(st, 0), lia__db_col_text(st, 1),
                         lia_org_kind_name((int)lia__db_col_int64(st, 2)),
                         lia_tlp_name((int)lia__db_col_int64(st, 3)),
                         !lia__db_col_null(st, 4) ? " party=" : "",
                         !lia__db_col_null(st, 4) ? lia__db_col_text(st, 4) : "");
            else if (t == 1)
                snprintf(line, sizeof line, "user %lld %s org=%s role=%s password=%s%s%s",
                         (long long)lia__db_col_int64(st, 0), lia__db_col_text(st, 1),
                         lia__db_col_text(st, 3), lia_role_name((int)lia__db_col_int64(st, 2)),
                         (int)lia__db_col_int64(st, 4) ? "yes" : "no",
                         (int)lia__db_col_int64(st, 5) ? " disabled" : "",
                         lia__role_allowed((int)lia__db_col_int64(st, 6), (int)lia__db_col_int64(st, 2))
                             ? ""
                             : " refused (role not allowed in its organisation)");
            else
                snprintf(line, sizeof line, "key  %lld %s... user=%s rate=%g burst=%g%s",
                         (long long)lia__db_col_int64(st, 0), lia__db_col_text(st, 1),
                         lia__db_col_text(st, 2), lia__db_col_double(st, 3), lia__db_col_double(st, 4),
                         !lia__db_col_null(st, 5) ? " revoked" : "");
            if ((rc = cb(ud, line)))
                break;
        }
        lia__db_done(st);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

/* ---- every change in one transaction with its audit record ---- */

static int logged_begin(lia_store *s, lia_error *err)
{
    return lia__db_begin(lia__store_db(s), err);
}

/* Keep the change (rc == LIA_OK) with its record, or neither. */
static int logged_end(lia_store *s, int rc, const char *object, const char *action, const char *after,
                      lia_error *err)
{
    lia_db *db = lia__store_db(s);
    if (rc == LIA_OK)
        rc = lia__audit_change(s, object, action, NULL, after, err);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

static void json_name(lia_buf *b, const char *k, const char *v)
{
    lia_buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", k);
    if (v)
        lia_buf_json_str(b, v, strlen(v));
    else
        lia_buf_puts(b, "null");
}

int lia_accounts_org_add(lia_store *s, const char *name, int kind, int tlp_ceiling, int64_t *id,
                         lia_error *err)
{
    char object[160];
    lia_buf b;
    int rc;
    if ((rc = lia__accounts_init(s, err)) || (rc = logged_begin(s, err)))
        return rc;
    rc = org_add_(s, name, kind, tlp_ceiling, id, err);
    lia_buf_init(&b, 1024);
    lia_buf_putc(&b, '{');
    json_name(&b, "kind", lia_org_kind_name(kind));
    lia_buf_printf(&b, ",\"tlp_ceiling\":%d}", tlp_ceiling);
    snprintf(object, sizeof object, "org:%s", name ? name : "");
    rc = logged_end(s, rc, object, "create", lia_buf_cstr(&b), err);
    lia_buf_free(&b);
    return rc;
}

int lia_accounts_org_link(lia_store *s, const char *org, const char *party_id, lia_error *err)
{
    char object[160];
    lia_buf b;
    int rc;
    if ((rc = lia__accounts_init(s, err)) || (rc = logged_begin(s, err)))
        return rc;
    rc = org_link_(s, org, party_id, err);
    lia_buf_init(&b, 1024);
    lia_buf_putc(&b, '{');
    json_name(&b, "party", party_id);
    lia_buf_putc(&b, '}');
    snprintf(object, sizeof object, "org:%s", org ? org : "");
    rc = logged_end(s, rc, object, party_id ? "link" : "unlink", lia_buf_cstr(&b), err);
    lia_buf_free(&b);
    return rc;
}

int lia_accounts_user_add(lia_store *s, const char *org, const char *name, int role, const char *password,
                          int64_t *id, lia_error *err)
{
    char object[160];
    lia_buf b;
    int rc;
    if ((rc = lia__accounts_init(s, err)) || (rc = logged_begin(s, err)))
        return rc;
    rc = user_add_(s, org, name, role, password, id, err);
    lia_buf_init(&b, 1024);
    lia_buf_putc(&b, '{');
    json_name(&b, "org", org);
    json_name(&b, "role", lia_role_name(role));
    lia_buf_printf(&b, ",\"password\":%s}", password ? "\"(set)\"" : "null");
    snprintf(object, sizeof object, "user:%s", name ? name : "");
    rc = logged_end(s, rc, object, "create", lia_buf_cstr(&b), err);
    lia_buf_free(&b);
    return rc;
}

int lia_accounts_key_add(lia_store *s, const char *user, double rate, double burst,
                         char token_out[LIA_KEY_TOKEN_MAX], int64_t *id, lia_error *err)
{
    char object[64], after[256];
    int64_t kid = 0;
    int rc;
    if ((rc = lia__accounts_init(s, err)) || (rc = logged_begin(s, err)))
        return rc;
    rc = key_add_(s, user, rate, burst, token_out, &kid, err);
    /* the key itself never: its id, its user and its limits */
    snprintf(object, sizeof object, "key:%lld", (long long)kid);
    snprintf(after, sizeof after, "{\"user\":\"%.128s\",\"rate\":%g,\"burst\":%g}", user ? user : "", rate,
             burst);
    if ((rc = logged_end(s, rc, object, "create", after, err)) == LIA_OK && id)
        *id = kid;
    if (rc)
        sodium_memzero(token_out, LIA_KEY_TOKEN_MAX);
    return rc;
}

int lia_accounts_key_revoke(lia_store *s, int64_t key_id, lia_error *err)
{
    char object[64];
    int rc;
    if ((rc = lia__accounts_init(s, err)) || (rc = logged_begin(s, err)))
        return rc;
    rc = key_revoke_(s, key_id, err);
    snprintf(object, sizeof object, "key:%lld", (long long)key_id);
    return logged_end(s, rc, object, "revoke", NULL, err);
}
