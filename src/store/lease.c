/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Leases: see lease.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/lease.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS store_lease ("
     "  name TEXT PRIMARY KEY,"
     "  holder TEXT NOT NULL,"
     "  until_us INTEGER NOT NULL,"
     "  taken_us INTEGER NOT NULL);",
     NULL, NULL},
};
static const lia_schema lease_schema = {"store_lease", 1, migrations, NULL, .pg = 1};

int lia__lease_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &lease_schema, err);
}

static pthread_mutex_t holder_mu = PTHREAD_MUTEX_INITIALIZER;
static char holder_name[LIA_LEASE_HOLDER_MAX];
static pid_t holder_pid;

const char *lia__lease_holder(void)
{
    pthread_mutex_lock(&holder_mu);
    if (holder_pid != getpid()) {
        char host[64] = "";
        unsigned char r[6];
        char hex[13];
        if (gethostname(host, sizeof host - 1) != 0)
            snprintf(host, sizeof host, "?");
        host[sizeof host - 1] = '\0';
        randombytes_buf(r, sizeof r);
        sodium_bin2hex(hex, sizeof hex, r, sizeof r);
        holder_pid = getpid();
        snprintf(holder_name, sizeof holder_name, "%s:%ld:%s", host, (long)holder_pid, hex);
    }
    pthread_mutex_unlock(&holder_mu);
    return holder_name;
}

static int ready(lia_db *db, const char *name, const char **holder, int64_t ttl_ms, lia_error *err)
{
    if (!*holder)
        *holder = lia__lease_holder();
    if (!name || !name[0] || strlen(name) >= LIA_LEASE_NAME_MAX || strlen(*holder) >= LIA_LEASE_HOLDER_MAX)
        return lia_error_set(err, LIA_EINVAL, "lease", name, name ? strlen(name) : 0,
                             "a lease needs a name of 1 to %d bytes and a holder under %d",
                             LIA_LEASE_NAME_MAX - 1, LIA_LEASE_HOLDER_MAX);
    if (ttl_ms < 0 || ttl_ms > INT64_MAX / 4000)
        return lia_error_set(err, LIA_EINVAL, "lease", name, strlen(name), "a lease's time must be positive");
    if (lia__db_in_tx(db))
        return lia_error_set(err, LIA_EINVAL, "lease", name, strlen(name),
                             "taken inside a transaction, no other process would see it before the commit");
    return lia__db_schema(db, &lease_schema, err);
}

/* Is holder ("HOST:PID:RANDOM") a process of this machine that is gone?
 * Its lease can then be taken at once: a notifier killed and restarted on
 * the same machine does not wait for the expiry. Another machine's holder
 * is never judged (its clock and its processes are not ours to see). */
static int holder_dead_here(const char *holder)
{
    char host[64] = "";
    const char *colon = strchr(holder, ':');
    char *end;
    long pid;
    if (!colon || gethostname(host, sizeof host - 1) != 0)
        return 0;
    host[sizeof host - 1] = '\0';
    if ((size_t)(colon - holder) != strlen(host) || strncmp(holder, host, strlen(host)) != 0)
        return 0;
    errno = 0;
    pid = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end != ':' || pid <= 0 || pid == (long)getpid())
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int take_once(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *got,
                     int64_t *until_us, char *who, lia_error *err);

int lia__lease_take(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *got,
                    int64_t *until_us, char *who, lia_error *err)
{
    char other[LIA_LEASE_HOLDER_MAX] = "";
    int rc = take_once(db, name, holder, ttl_ms, got, until_us, other, err);
    if (rc == LIA_OK && !*got && other[0] && holder_dead_here(other)) {
        /* its holder died on this machine: free it (only if still that
         * holder's) and take it as anyone would */
        rc = lia__lease_release(db, name, other, err);
        if (rc == LIA_OK)
            rc = take_once(db, name, holder, ttl_ms, got, until_us, other, err);
    }
    if (rc == LIA_OK && who)
        snprintf(who, LIA_LEASE_HOLDER_MAX, "%s", other);
    return rc;
}

static int take_once(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *got,
                     int64_t *until_us, char *who, lia_error *err)
{
    lia_stmt *st;
    int rc;
    int64_t now = lia__now_us();
    if (ttl_ms == 0)
        ttl_ms = -1;
    if ((rc = ready(db, name, &holder, ttl_ms, err)))
        return rc;
    /* one statement: the update happens only on an expired lease or our
     * own, so of two takers at once one gets a row back */
    if ((rc = lia__db_prepare(
             db, "lease: taking",
             "INSERT INTO store_lease(name, holder, until_us, taken_us) VALUES(?1, ?2, ?4, ?3)"
             " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
             " until_us = excluded.until_us, taken_us = excluded.taken_us"
             " WHERE store_lease.until_us <= excluded.taken_us OR store_lease.holder = excluded.holder"
             " RETURNING holder",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, holder, -1);
    lia__db_bind_int64(st, 3, now);
    lia__db_bind_int64(st, 4, now + ttl_ms * 1000);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc == LIA_DB_ROW) {
        *got = 1;
        if (until_us)
            *until_us = now + ttl_ms * 1000;
        if (who)
            snprintf(who, LIA_LEASE_HOLDER_MAX, "%s", holder);
        return LIA_OK;
    }
    if (rc < 0)
        return rc;
    /* another's: who, and till when */
    if ((rc = lia__db_prepare(db, "lease: its holder",
                              "SELECT holder, until_us FROM store_lease WHERE name = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        if (until_us)
            *until_us = lia__db_col_int64(st, 1);
        if (who)
            snprintf(who, LIA_LEASE_HOLDER_MAX, "%s", lia__db_col_text(st, 0));
    } else if (rc == LIA_DB_DONE) { /* released meanwhile: held by no one now, try again later */
        if (until_us)
            *until_us = now;
        if (who)
            who[0] = '\0';
    }
    lia__db_done(st);
    if (rc < 0)
        return rc;
    *got = 0;
    return LIA_OK;
}

int lia__lease_renew(lia_db *db, const char *name, const char *holder, int64_t ttl_ms, int *held,
                     lia_error *err)
{
    lia_stmt *st;
    int rc;
    int64_t now = lia__now_us();
    if (ttl_ms == 0)
        ttl_ms = -1;
    if ((rc = ready(db, name, &holder, ttl_ms, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "lease: renewing",
                              "UPDATE store_lease SET until_us = ?3 WHERE name = ?1 AND holder = ?2"
                              " RETURNING name",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, holder, -1);
    lia__db_bind_int64(st, 3, now + ttl_ms * 1000);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    *held = rc == LIA_DB_ROW;
    return LIA_OK;
}

int lia__lease_release(lia_db *db, const char *name, const char *holder, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = ready(db, name, &holder, 0, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "lease: giving back",
                              "DELETE FROM store_lease WHERE name = ? AND holder = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, holder, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}
