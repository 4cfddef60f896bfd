/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Accounts: organisations, users, API keys (acct_* tables in the store).
 * Keys are "lia_" + 32 random bytes in base64url; only
 * BLAKE2b-256(key = server secret, token) is stored, so a leaked database
 * does not give working keys, and a lookup is one indexed equality. The
 * server secret (32 random bytes) is created once in acct_secret.
 * Passwords: argon2id (crypto_pwhash_str, interactive limits). */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "liaison/accounts.h"
#include "liaison/field.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS acct_meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "INSERT OR IGNORE INTO acct_meta VALUES('schema', '1');"
    "CREATE TABLE IF NOT EXISTS acct_secret(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  key BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS acct_orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  kind INTEGER NOT NULL, tlp_ceiling INTEGER NOT NULL, created INTEGER NOT NULL, party TEXT);"
    "CREATE TABLE IF NOT EXISTS acct_users(id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES acct_orgs(id), name TEXT NOT NULL UNIQUE,"
    "  role INTEGER NOT NULL, pwhash TEXT, disabled INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS acct_keys(id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES acct_users(id), hash BLOB NOT NULL UNIQUE,"
    "  hint TEXT NOT NULL, rate REAL NOT NULL DEFAULT 0, burst REAL NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL, revoked INTEGER);";

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

int lia_accounts_init(lia_store *s, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    unsigned char key[crypto_generichash_KEYBYTES];
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium init failed");
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "create account tables");
    /* schema 2: an organisation may be linked to a party of the route
     * directory (acct_orgs.party: partner id, or owner id for a constituent).
     * Stores of schema 1 get the nullable column added in place. */
    if (sqlite3_prepare_v2(db, "SELECT party FROM acct_orgs LIMIT 0", -1, &st, NULL) != SQLITE_OK) {
        if (sqlite3_exec(db,
                         "ALTER TABLE acct_orgs ADD COLUMN party TEXT;"
                         "UPDATE acct_meta SET v = '2' WHERE k = 'schema'",
                         NULL, NULL, NULL) != SQLITE_OK)
            return lia_sqlite_error(db, err, "add acct_orgs.party");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db,
                     "CREATE INDEX IF NOT EXISTS acct_orgs_party ON acct_orgs(party) WHERE party IS NOT NULL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "create account tables");
    randombytes_buf(key, sizeof key);
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO acct_secret VALUES(1, ?1)", -1, &st, NULL))
        return lia_sqlite_error(db, err, "secret");
    sqlite3_bind_blob(st, 1, key, sizeof key, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "create server secret");
    sqlite3_finalize(st);
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

int lia_accounts_org_add(lia_store *s, const char *name, int kind, int tlp_ceiling, int64_t *id,
                         lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    if (!valid_name(name))
        return lia_error_set(err, LIA_EINVAL, "org", name, name ? strlen(name) : 0,
                             "names are 1-127 of [A-Za-z0-9._@-]");
    if (kind < 0 || kind > 2 || tlp_ceiling < LIA_TLP_CLEAR || tlp_ceiling > LIA_TLP_RED)
        return lia_error_set(err, LIA_EINVAL, "org", name, strlen(name), "bad kind or TLP ceiling");
    if (sqlite3_prepare_v2(db, "INSERT INTO acct_orgs(name, kind, tlp_ceiling, created) VALUES(?1,?2,?3,?4)",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "org add");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_int(st, 3, tlp_ceiling);
    sqlite3_bind_int64(st, 4, now_s());
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        rc = lia_error_set(err, LIA_EEXIST, "org", name, strlen(name), "already exists");
    else if (rc != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "org add");
    else {
        if (id)
            *id = sqlite3_last_insert_rowid(db);
        rc = LIA_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int find_id(lia_store *s, const char *sql, const char *name, const char *what, int64_t *id,
                   lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return lia_sqlite_error(db, err, what);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, what, name, strlen(name), "no such %s", what);
    } else {
        rc = lia_sqlite_error(db, err, what);
    }
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_org_find(lia_store *s, const char *name, int64_t *id, lia_error *err)
{
    return find_id(s, "SELECT id FROM acct_orgs WHERE name = ?1", name, "org", id, err);
}

int lia_accounts_org_get(lia_store *s, const char *name, lia_org *out, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT id, kind, tlp_ceiling, party FROM acct_orgs WHERE name = ?1", -1, &st,
                           NULL))
        return lia_sqlite_error(db, err, "org");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        out->kind = sqlite3_column_int(st, 1);
        out->tlp_ceiling = sqlite3_column_int(st, 2);
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            snprintf(out->party, sizeof out->party, "%s", sqlite3_column_text(st, 3));
        rc = LIA_OK;
    } else if (rc == SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "org", name, strlen(name), "no such org");
    } else {
        rc = lia_sqlite_error(db, err, "org");
    }
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_org_link(lia_store *s, const char *org, const char *party_id, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int64_t id;
    int rc, kind = -1;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_org_find(s, org, &id, err)))
        return rc;
    if (party_id && (!*party_id || strlen(party_id) > 64))
        return lia_error_set(err, LIA_EINVAL, "party", party_id, strlen(party_id),
                             "a party id has 1 to 64 characters");
    if (sqlite3_prepare_v2(db, "SELECT kind FROM acct_orgs WHERE id = ?1", -1, &st, NULL))
        return lia_sqlite_error(db, err, "org link");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        kind = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (party_id && kind == LIA_ORG_OWN)
        return lia_error_set(err, LIA_EINVAL, "org", org, strlen(org),
                             "our own team is not a party of the route directory; link a partner or"
                             " constituent organisation");
    if (sqlite3_prepare_v2(db, "UPDATE acct_orgs SET party = ?2 WHERE id = ?1", -1, &st, NULL))
        return lia_sqlite_error(db, err, "org link");
    sqlite3_bind_int64(st, 1, id);
    if (party_id)
        sqlite3_bind_text(st, 2, party_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "org link");
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_orgs_of_party(lia_store *s, int kind, const char *party_id, lia_accounts_org_cb cb, void *ud,
                               lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int rc, step;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT id, name FROM acct_orgs WHERE party = ?1 AND kind = ?2 ORDER BY id",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "orgs of party");
    sqlite3_bind_text(st, 1, party_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, kind);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ud, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1))))
            break;
    if (rc == LIA_OK && step != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "orgs of party");
    sqlite3_finalize(st);
    return rc;
}

int lia_role_allowed(int org_kind, int role)
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
    if (lia_role_allowed(p->org_kind, p->role))
        return LIA_OK;
    return lia_error_set(err, LIA_EAUTH, "user", p->user, strlen(p->user),
                         "account refused: role %s is not allowed in %s organisation %s (allowed: %s)",
                         lia_role_name(p->role), lia_org_kind_name(p->org_kind), p->org,
                         roles_of_kind(p->org_kind));
}

int lia_accounts_user_add(lia_store *s, const char *org, const char *name, int role, const char *password,
                          int64_t *id, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    char hash[crypto_pwhash_STRBYTES];
    lia_org o;
    int64_t org_id;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_org_get(s, org, &o, err)))
        return rc;
    org_id = o.id;
    if (!valid_name(name))
        return lia_error_set(err, LIA_EINVAL, "user", name, name ? strlen(name) : 0,
                             "names are 1-127 of [A-Za-z0-9._@-]");
    if (role < 0 || role > 3)
        return lia_error_set(err, LIA_EINVAL, "role", NULL, 0, "unknown role");
    if (!lia_role_allowed(o.kind, role))
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
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO acct_users(org_id, name, role, pwhash, created)"
                           " VALUES(?1,?2,?3,?4,?5)",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "user add");
    sqlite3_bind_int64(st, 1, org_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, role);
    if (password)
        sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, now_s());
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        rc = lia_error_set(err, LIA_EEXIST, "user", name, strlen(name), "already exists");
    else if (rc != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "user add");
    else {
        if (id)
            *id = sqlite3_last_insert_rowid(db);
        rc = LIA_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int key_hash(sqlite3 *db, const char *token, unsigned char out[32], lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    if (sqlite3_prepare_v2(db, "SELECT key FROM acct_secret WHERE id = 1", -1, &st, NULL))
        return lia_sqlite_error(db, err, "secret");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == crypto_generichash_KEYBYTES)
        crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), sqlite3_column_blob(st, 0),
                           crypto_generichash_KEYBYTES);
    else
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "server secret missing");
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_key_add(lia_store *s, const char *user, double rate, double burst,
                         char token_out[LIA_KEY_TOKEN_MAX], int64_t *id, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    unsigned char rnd[32], h[32];
    char tok[LIA_KEY_TOKEN_MAX];
    int64_t uid;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
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
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO acct_keys(user_id, hash, hint, rate, burst, created)"
                           " VALUES(?1,?2,?3,?4,?5,?6)",
                           -1, &st, NULL)) {
        rc = lia_sqlite_error(db, err, "key add");
        goto out;
    }
    sqlite3_bind_int64(st, 1, uid);
    sqlite3_bind_blob(st, 2, h, sizeof h, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tok, 8, SQLITE_STATIC); /* "lia_" + 4 chars: enough to recognise */
    sqlite3_bind_double(st, 4, rate);
    sqlite3_bind_double(st, 5, burst);
    sqlite3_bind_int64(st, 6, now_s());
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "key add");
        goto out;
    }
    if (id)
        *id = sqlite3_last_insert_rowid(db);
    memcpy(token_out, tok, sizeof tok);
out:
    sqlite3_finalize(st);
    sodium_memzero(tok, sizeof tok);
    return rc;
}

int lia_accounts_key_revoke(lia_store *s, int64_t key_id, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "UPDATE acct_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", -1, &st,
                           NULL))
        return lia_sqlite_error(db, err, "revoke");
    sqlite3_bind_int64(st, 1, key_id);
    sqlite3_bind_int64(st, 2, now_s());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "revoke");
    else if (sqlite3_changes(db) == 0)
        rc = lia_error_set(err, LIA_ENOTFOUND, "key", NULL, 0, "no such key %lld, or already revoked",
                           (long long)key_id);
    sqlite3_finalize(st);
    return rc;
}

static const char principal_cols[] =
    "SELECT u.id, u.name, u.role, u.disabled, o.id, o.name, o.kind, o.tlp_ceiling";

static void fill_principal(sqlite3_stmt *st, lia_principal *p)
{
    memset(p, 0, sizeof *p);
    p->user_id = sqlite3_column_int64(st, 0);
    snprintf(p->user, sizeof p->user, "%s", sqlite3_column_text(st, 1));
    p->role = sqlite3_column_int(st, 2);
    p->org_id = sqlite3_column_int64(st, 4);
    snprintf(p->org, sizeof p->org, "%s", sqlite3_column_text(st, 5));
    p->org_kind = sqlite3_column_int(st, 6);
    p->tlp_ceiling = sqlite3_column_int(st, 7);
}

int lia_accounts_auth_basic(lia_store *s, const char *user, const char *password, lia_principal *out,
                            lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    char sql[512];
    int rc;
    lia_principal p;
    if (!db)
        return LIA_EUNSUPPORTED;
    snprintf(sql, sizeof sql,
             "%s, u.pwhash FROM acct_users u JOIN acct_orgs o ON o.id = u.org_id"
             " WHERE u.name = ?1",
             principal_cols);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return lia_sqlite_error(db, err, "auth");
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "unknown user");
        goto out;
    }
    fill_principal(st, &p);
    const char *h = (const char *)sqlite3_column_text(st, 8);
    if (sqlite3_column_int(st, 3)) {
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "user disabled");
    } else if (!h || crypto_pwhash_str_verify(h, password, strlen(password)) != 0) {
        rc = lia_error_set(err, LIA_EAUTH, "user", user, strlen(user), "wrong password");
    } else if ((rc = check_principal(&p, err)) == LIA_OK) {
        *out = p;
    }
out:
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_auth_token(lia_store *s, const char *token, lia_principal *out, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    unsigned char h[32];
    char sql[512];
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (strncmp(token, "lia_", 4) != 0)
        return lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "not a Liaison API key");
    if ((rc = key_hash(db, token, h, err)))
        return rc;
    snprintf(sql, sizeof sql,
             "%s, k.id, k.revoked, k.rate, k.burst FROM acct_keys k"
             " JOIN acct_users u ON u.id = k.user_id JOIN acct_orgs o ON o.id = u.org_id"
             " WHERE k.hash = ?1",
             principal_cols);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return lia_sqlite_error(db, err, "auth");
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "unknown API key");
    } else if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "API key %lld revoked",
                           (long long)sqlite3_column_int64(st, 8));
    } else if (sqlite3_column_int(st, 3)) {
        rc = lia_error_set(err, LIA_EAUTH, "token", NULL, 0, "user disabled");
    } else {
        lia_principal p;
        fill_principal(st, &p);
        p.key_id = sqlite3_column_int64(st, 8);
        p.rate = sqlite3_column_double(st, 10);
        p.burst = sqlite3_column_double(st, 11);
        if ((rc = check_principal(&p, err)) == LIA_OK)
            *out = p;
    }
    sqlite3_finalize(st);
    return rc;
}

int lia_accounts_list(lia_store *s, lia_accounts_line_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "account management", err);
    sqlite3_stmt *st = NULL;
    char line[512];
    int rc;
    static const char *const sql[] = {
        "SELECT id, name, kind, tlp_ceiling, party FROM acct_orgs ORDER BY id",
        "SELECT u.id, u.name, u.role, o.name, u.pwhash IS NOT NULL, u.disabled, o.kind FROM acct_users u"
        " JOIN acct_orgs o ON o.id = u.org_id ORDER BY u.id",
        "SELECT k.id, k.hint, u.name, k.rate, k.burst, k.revoked FROM acct_keys k"
        " JOIN acct_users u ON u.id = k.user_id ORDER BY k.id",
    };
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_accounts_init(s, err)))
        return rc;
    for (int t = 0; t < 3; t++) {
        if (sqlite3_prepare_v2(db, sql[t], -1, &st, NULL))
            return lia_sqlite_error(db, err, "list");
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (t == 0)
                snprintf(line, sizeof line, "org  %lld %s kind=%s tlp-ceiling=%s%s%s",
                         (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                         lia_org_kind_name(sqlite3_column_int(st, 2)),
                         lia_tlp_name(sqlite3_column_int(st, 3)),
                         sqlite3_column_type(st, 4) != SQLITE_NULL ? " party=" : "",
                         sqlite3_column_type(st, 4) != SQLITE_NULL ? (const char *)sqlite3_column_text(st, 4)
                                                                   : "");
            else if (t == 1)
                snprintf(line, sizeof line, "user %lld %s org=%s role=%s password=%s%s%s",
                         (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                         sqlite3_column_text(st, 3), lia_role_name(sqlite3_column_int(st, 2)),
                         sqlite3_column_int(st, 4) ? "yes" : "no",
                         sqlite3_column_int(st, 5) ? " disabled" : "",
                         lia_role_allowed(sqlite3_column_int(st, 6), sqlite3_column_int(st, 2))
                             ? ""
                             : " refused (role not allowed in its organisation)");
            else
                snprintf(line, sizeof line, "key  %lld %s... user=%s rate=%g burst=%g%s",
                         (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                         sqlite3_column_text(st, 2), sqlite3_column_double(st, 3),
                         sqlite3_column_double(st, 4),
                         sqlite3_column_type(st, 5) != SQLITE_NULL ? " revoked" : "");
            if ((rc = cb(ud, line)))
                break;
        }
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    return LIA_OK;
}
