/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The feed registry: one table in the store (feed_registry), created on
 * first use through the migration registry (module "feeds"). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "acquire/registry.h"
#include "liaison/limits.h"
#include "liaison/feeds.h"
#include "store/db.h"

/* Stores from before the migration registry also have feed_registry_meta
 * (schema_version 1), left as it is; migration 1 creates only what is
 * missing, so they need no adopt function. */
static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS feed_registry("
            "  name TEXT PRIMARY KEY,"
            "  provider TEXT NOT NULL DEFAULT '',"
            "  format TEXT NOT NULL,"
            "  url TEXT NOT NULL DEFAULT '',"
            "  dir TEXT NOT NULL DEFAULT '',"
            "  interval INTEGER NOT NULL DEFAULT 0,"
            "  tlp INTEGER NOT NULL DEFAULT -1,"
            "  doc TEXT NOT NULL DEFAULT '',"
            "  map TEXT NOT NULL DEFAULT '',"
            "  subtype TEXT NOT NULL DEFAULT '',"
            "  enabled INTEGER NOT NULL DEFAULT 1,"
            "  etag TEXT NOT NULL DEFAULT '',"
            "  last_modified TEXT NOT NULL DEFAULT '',"
            "  created INTEGER NOT NULL,"
            "  last_fetch INTEGER NOT NULL DEFAULT 0,"
            "  last_success INTEGER NOT NULL DEFAULT 0,"
            "  last_ok INTEGER NOT NULL DEFAULT 1,"
            "  last_error TEXT NOT NULL DEFAULT '');"},
    /* 2: how long the feed's reports are kept (liaison store prune): seconds, 0 = no limit */
    {.sql = "ALTER TABLE feed_registry ADD COLUMN retention INTEGER NOT NULL DEFAULT 0;"},
};
static const lia_schema registry_schema = {"feeds", 2, migrations, NULL, .pg = 1};

#define COLS                                                                                                 \
    "name,provider,format,url,dir,interval,tlp,doc,map,subtype,enabled,etag,"                                \
    "last_modified,created,last_fetch,last_success,last_ok,last_error,retention"

int lia__feeds_db(lia_store *s, lia_db **out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    int rc = lia__db_schema(db, &registry_schema, err);
    if (rc == LIA_OK)
        *out = db;
    return rc;
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= LIA_FEED_NAME_MAX)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int lia__feed_validate(const lia_feed *f, lia_error *err)
{
    if (!name_ok(f->name))
        return lia_error_set(err, LIA_EINVAL, "name", f->name, strlen(f->name),
                             "a feed name is 1-127 letters, digits, '.', '_' or '-'");
    if (!lia_format_find(f->format))
        return lia_error_set(err, LIA_EINVAL, "format", f->format, strlen(f->format), "unknown format");
    if (!f->url[0] == !f->dir[0])
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "a feed has either a URL or a drop directory");
    if (f->url[0] && strncmp(f->url, "https://", 8) != 0 && strncmp(f->url, "http://", 7) != 0)
        return lia_error_set(err, LIA_EINVAL, "url", f->url, strlen(f->url),
                             "only http:// and https:// URLs");
    if (f->dir[0] && f->dir[0] != '/')
        return lia_error_set(err, LIA_EINVAL, "dir", f->dir, strlen(f->dir),
                             "the drop directory must be an absolute path");
    if (f->interval_s < 0)
        return lia_error_set(err, LIA_EINVAL, "interval", NULL, 0, "the interval cannot be negative");
    if (f->tlp < -1 || f->tlp > LIA_TLP_RED)
        return lia_error_set(err, LIA_EINVAL, "tlp", NULL, 0, "not a TLP label");
    if (f->retention_s < 0 || f->retention_s > (int64_t)LIA_MAX_RETENTION_DAYS * 86400)
        return lia_error_set(err, LIA_EINVAL, "retention", NULL, 0, "a retention is from 1 hour to %d days",
                             LIA_MAX_RETENTION_DAYS);
    if (strcmp(f->format, "csv") == 0 && !f->map_path[0])
        return lia_error_set(err, LIA_EINVAL, "map", NULL, 0, "format csv needs a mapping file (--map)");
    return LIA_OK;
}

int lia_feeds_add(lia_store *s, const lia_feed *f, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__feed_validate(f, err)) || (rc = lia__feeds_db(s, &db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "feed registry: adding a feed",
                              "INSERT INTO feed_registry(name,provider,format,url,dir,interval,tlp,doc,map,"
                              "subtype,enabled,created,retention) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, f->name, -1);
    lia__db_bind_text(st, 2, f->provider, -1);
    lia__db_bind_text(st, 3, f->format, -1);
    lia__db_bind_text(st, 4, f->url, -1);
    lia__db_bind_text(st, 5, f->dir, -1);
    lia__db_bind_int64(st, 6, f->interval_s);
    lia__db_bind_int64(st, 7, f->tlp);
    lia__db_bind_text(st, 8, f->doc, -1);
    lia__db_bind_text(st, 9, f->map_path, -1);
    lia__db_bind_text(st, 10, f->subtype, -1);
    lia__db_bind_int64(st, 11, f->enabled ? 1 : 0);
    lia__db_bind_int64(st, 12, f->created_us ? f->created_us : lia__now_us());
    lia__db_bind_int64(st, 13, f->retention_s);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_EEXIST)
        return lia_error_set(err, LIA_EEXIST, "name", f->name, strlen(f->name), "a feed of that name exists");
    return rc;
}

static void copy_col(lia_stmt *st, int i, char *out, size_t n)
{
    const char *t = lia__db_col_text(st, i);
    snprintf(out, n, "%s", t ? t : "");
}

static void row_to_feed(lia_stmt *st, lia_feed *f)
{
    memset(f, 0, sizeof *f);
    copy_col(st, 0, f->name, sizeof f->name);
    copy_col(st, 1, f->provider, sizeof f->provider);
    copy_col(st, 2, f->format, sizeof f->format);
    copy_col(st, 3, f->url, sizeof f->url);
    copy_col(st, 4, f->dir, sizeof f->dir);
    f->interval_s = lia__db_col_int64(st, 5);
    f->tlp = (int)lia__db_col_int64(st, 6);
    copy_col(st, 7, f->doc, sizeof f->doc);
    copy_col(st, 8, f->map_path, sizeof f->map_path);
    copy_col(st, 9, f->subtype, sizeof f->subtype);
    f->enabled = (int)lia__db_col_int64(st, 10);
    copy_col(st, 11, f->etag, sizeof f->etag);
    copy_col(st, 12, f->last_modified, sizeof f->last_modified);
    f->created_us = lia__db_col_int64(st, 13);
    f->last_fetch_us = lia__db_col_int64(st, 14);
    f->last_success_us = lia__db_col_int64(st, 15);
    f->last_ok = (int)lia__db_col_int64(st, 16);
    copy_col(st, 17, f->last_error, sizeof f->last_error);
    f->retention_s = lia__db_col_int64(st, 18);
}

int lia_feeds_get(lia_store *s, const char *name, lia_feed *out, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__feeds_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "feed registry: reading a feed",
                              "SELECT " COLS " FROM feed_registry WHERE name=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        row_to_feed(st, out);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "feed", name, strlen(name),
                           "no such feed (see liaison feeds list)");
    }
    lia__db_done(st);
    return rc;
}

static int exec_one(lia_store *s, const char *sql, const char *name, int64_t iarg, int has_i,
                    const char *what, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__feeds_db(s, &db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, what, sql, &st, err)))
        return rc;
    if (has_i) {
        lia__db_bind_int64(st, 1, iarg);
        lia__db_bind_text(st, 2, name, -1);
    } else {
        lia__db_bind_text(st, 1, name, -1);
    }
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        return rc;
    if (lia__db_changes(db) == 0)
        return lia_error_set(err, LIA_ENOTFOUND, "feed", name, strlen(name),
                             "no such feed (see liaison feeds list)");
    return LIA_OK;
}

int lia_feeds_remove(lia_store *s, const char *name, lia_error *err)
{
    return exec_one(s, "DELETE FROM feed_registry WHERE name=?", name, 0, 0, "feed registry: removing a feed",
                    err);
}

int lia_feeds_set_enabled(lia_store *s, const char *name, int enabled, lia_error *err)
{
    return exec_one(s, "UPDATE feed_registry SET enabled=? WHERE name=?", name, enabled ? 1 : 0, 1,
                    "feed registry: changing a feed", err);
}

int lia_feeds_set_retention(lia_store *s, const char *name, int64_t secs, lia_error *err)
{
    if (secs < 0 || secs > (int64_t)LIA_MAX_RETENTION_DAYS * 86400)
        return lia_error_set(err, LIA_EINVAL, "retention", NULL, 0, "a retention is from 1 hour to %d days",
                             LIA_MAX_RETENTION_DAYS);
    return exec_one(s, "UPDATE feed_registry SET retention=? WHERE name=?", name, secs, 1,
                    "feed registry: setting a feed's retention", err);
}

int lia_feeds_list(lia_store *s, lia_feed_cb cb, void *ud, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    lia_feed *f;
    int rc;
    if ((rc = lia__feeds_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "feed registry: listing feeds",
                              "SELECT " COLS " FROM feed_registry ORDER BY name", &st, err)))
        return rc;
    f = malloc(sizeof *f);
    if (!f) {
        lia__db_done(st);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    rc = LIA_OK;
    for (;;) {
        int r = lia__db_step(st, err);
        if (r != LIA_DB_ROW) {
            rc = r;
            break;
        }
        row_to_feed(st, f);
        if ((rc = cb(ud, f)))
            break;
    }
    free(f);
    lia__db_done(st);
    return rc;
}

int lia__feeds_save_state(lia_store *s, const lia_feed *f, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__feeds_db(s, &db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "feed registry: saving feed state",
                              "UPDATE feed_registry SET etag=?,last_modified=?,last_fetch=?,"
                              "last_success=?,last_ok=?,last_error=? WHERE name=?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, f->etag, -1);
    lia__db_bind_text(st, 2, f->last_modified, -1);
    lia__db_bind_int64(st, 3, f->last_fetch_us);
    lia__db_bind_int64(st, 4, f->last_success_us);
    lia__db_bind_int64(st, 5, f->last_ok ? 1 : 0);
    lia__db_bind_text(st, 6, f->last_error, -1);
    lia__db_bind_text(st, 7, f->name, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

void lia__feed_ingest_opts(const lia_feed *f, lia_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = f->format;
    o->archive = 1;
    o->feed.feed = f->name;
    o->feed.provider = f->provider[0] ? f->provider : NULL;
    o->feed.map_path = f->map_path[0] ? f->map_path : NULL;
    o->feed.subtype = f->subtype[0] ? f->subtype : NULL;
    o->feed.tlp = f->tlp;
    o->feed.observed_us = lia__now_us();
}

int lia_feed_due(const lia_feed *f, int64_t now_us)
{
    if (!f->enabled || f->interval_s <= 0)
        return 0;
    return f->last_fetch_us == 0 || now_us - f->last_fetch_us >= f->interval_s * 1000000;
}
