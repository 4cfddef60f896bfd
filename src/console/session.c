/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Console sessions: see session.h. */
#include <sodium.h>
#include <string.h>

#include "accounts/internal.h"
#include "console/session.h"
#include "store/db.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS console_sessions ("
     "  id_hash BLOB PRIMARY KEY,"
     "  user_id INTEGER NOT NULL,"
     "  csrf TEXT NOT NULL,"
     "  created INTEGER NOT NULL,"
     "  seen INTEGER NOT NULL);",
     NULL, NULL},
};
static const lia_schema session_schema = {"console_sessions", 1, migrations, NULL, .pg = 1};

int lia__session_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &session_schema, err);
}

/* a session's last use is written at most this often (a read is no write) */
#define TOUCH_US (30 * 1000000LL)

static int db_of(lia_store *s, lia_db **out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    int rc = lia__db_schema(db, &session_schema, err);
    if (rc == LIA_OK)
        *out = db;
    return rc;
}

static void id_hash(const char *id, unsigned char h[32])
{
    crypto_generichash(h, 32, (const unsigned char *)id, strlen(id), NULL, 0);
}

static void random_token(char out[LIA__SESSION_ID_LEN + 1])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, LIA__SESSION_ID_LEN + 1, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

int lia__session_new(lia_store *s, int64_t user_id, int64_t now_us, unsigned idle_s, unsigned max_s,
                     char id[LIA__SESSION_ID_LEN + 1], char csrf[LIA__SESSION_ID_LEN + 1], lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    unsigned char h[32];
    int rc;
    if ((rc = db_of(s, &db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "console: expired sessions",
                              "DELETE FROM console_sessions WHERE seen < ?1 OR created < ?2", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, now_us - (int64_t)idle_s * 1000000);
    lia__db_bind_int64(st, 2, now_us - (int64_t)max_s * 1000000);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        return rc;
    random_token(id);
    random_token(csrf);
    id_hash(id, h);
    if ((rc = lia__db_prepare(db, "console: new session",
                              "INSERT INTO console_sessions (id_hash, user_id, csrf, created, seen)"
                              " VALUES (?1, ?2, ?3, ?4, ?4)",
                              &st, err)))
        return rc;
    lia__db_bind_blob(st, 1, h, sizeof h);
    lia__db_bind_int64(st, 2, user_id);
    lia__db_bind_text(st, 3, csrf, -1);
    lia__db_bind_int64(st, 4, now_us);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__session_end(lia_store *s, const char *id, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    unsigned char h[32];
    int rc;
    if ((rc = db_of(s, &db, err)))
        return rc;
    id_hash(id, h);
    if ((rc = lia__db_prepare(db, "console: end session", "DELETE FROM console_sessions WHERE id_hash = ?1",
                              &st, err)))
        return rc;
    lia__db_bind_blob(st, 1, h, sizeof h);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__session_check(lia_store *s, const char *id, int64_t now_us, unsigned idle_s, unsigned max_s,
                       lia_principal *p, char csrf[LIA__SESSION_ID_LEN + 1], lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    unsigned char h[32];
    int64_t user_id, created, seen;
    int rc;
    if (strlen(id) != LIA__SESSION_ID_LEN)
        return lia_error_set(err, LIA_EAUTH, "session", NULL, 0, "not a session id");
    if ((rc = db_of(s, &db, err)))
        return rc;
    id_hash(id, h);
    if ((rc = lia__db_prepare(db, "console: session",
                              "SELECT user_id, csrf, created, seen FROM console_sessions WHERE id_hash = ?1",
                              &st, err)))
        return rc;
    lia__db_bind_blob(st, 1, h, sizeof h);
    if ((rc = lia__db_step(st, err)) < 0) {
        lia__db_done(st);
        return rc;
    }
    if (rc != LIA_DB_ROW) {
        lia__db_done(st);
        return lia_error_set(err, LIA_EAUTH, "session", NULL, 0, "unknown or ended session");
    }
    user_id = lia__db_col_int64(st, 0);
    snprintf(csrf, LIA__SESSION_ID_LEN + 1, "%s", lia__db_col_text(st, 1));
    created = lia__db_col_int64(st, 2);
    seen = lia__db_col_int64(st, 3);
    lia__db_done(st);
    if (now_us - seen > (int64_t)idle_s * 1000000 || now_us - created > (int64_t)max_s * 1000000) {
        lia__session_end(s, id, NULL);
        return lia_error_set(err, LIA_EAUTH, "session", NULL, 0, "session expired");
    }
    if ((rc = lia__accounts_principal(s, user_id, p, err)))
        return rc;
    if (now_us - seen >= TOUCH_US) {
        if ((rc = lia__db_prepare(db, "console: touch session",
                                  "UPDATE console_sessions SET seen = ?2 WHERE id_hash = ?1", &st, err)))
            return rc;
        lia__db_bind_blob(st, 1, h, sizeof h);
        lia__db_bind_int64(st, 2, now_us);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    return rc;
}
