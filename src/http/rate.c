/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Token buckets in the store: see rate.h. */
#include "http/rate.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS http_rate ("
     "  who INTEGER PRIMARY KEY,"
     "  tokens REAL NOT NULL,"
     "  at_us INTEGER NOT NULL);",
     NULL, NULL},
};
static const lia_schema rate_schema = {"http_rate", 1, migrations, NULL, .pg = 1};

int lia__http_rate_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &rate_schema, err);
}

int lia__http_rate_take(lia_db *db, int64_t who, double rate, double burst, int64_t now_us, int *ok,
                        double *retry_s, lia_error *err)
{
    lia_stmt *st;
    int rc;
    double tokens;
    if ((rc = lia__db_schema(db, &rate_schema, err)))
        return rc;
    /* ?2 burst, ?3 now, ?4 rate: the tokens now are
     * min(burst, tokens + max(0, now - at) / 1e6 * rate) */
    if ((rc = lia__db_prepare(
             db, "rate limit: taking a token",
             "INSERT INTO http_rate(who, tokens, at_us) VALUES(?1, ?2 - 1.0, ?3)"
             " ON CONFLICT(who) DO UPDATE SET"
             " tokens = min(?2, http_rate.tokens + max(0, ?3 - http_rate.at_us) / 1e6 * ?4) - 1.0,"
             " at_us = max(http_rate.at_us, ?3)"
             " WHERE min(?2, http_rate.tokens + max(0, ?3 - http_rate.at_us) / 1e6 * ?4) >= 1.0"
             " RETURNING tokens",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, who);
    lia__db_bind_double(st, 2, burst);
    lia__db_bind_int64(st, 3, now_us);
    lia__db_bind_double(st, 4, rate);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc == LIA_DB_ROW) {
        *ok = 1;
        return LIA_OK;
    }
    if (rc < 0)
        return rc;
    /* empty (a new bucket always has burst >= 1 tokens): when is one there */
    if ((rc = lia__db_prepare(
             db, "rate limit: reading a bucket",
             "SELECT min(?2, tokens + max(0, ?3 - at_us) / 1e6 * ?4) FROM http_rate WHERE who = ?1", &st,
             err)))
        return rc;
    lia__db_bind_int64(st, 1, who);
    lia__db_bind_double(st, 2, burst);
    lia__db_bind_int64(st, 3, now_us);
    lia__db_bind_double(st, 4, rate);
    rc = lia__db_step(st, err);
    tokens = rc == LIA_DB_ROW ? lia__db_col_double(st, 0) : 0;
    lia__db_done(st);
    if (rc < 0)
        return rc;
    *ok = 0;
    *retry_s = tokens < 1.0 ? (1.0 - tokens) / rate : 0;
    return LIA_OK;
}
