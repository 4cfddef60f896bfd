/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII 2.1 storage: API roots, collections, access grants, STIX objects
 * (JSON documents with id, type, version, spec_version, date_added, TLP,
 * owner and a deleted flag), status resources and pull cursors, in the
 * store's SQLite database (taxii_* tables, created on first use).
 *
 * Paging is keyset on (date_added, seq) with an index per collection; the
 * default view (match[version]=last, spec_version 2.1) reads a partial
 * index of the rows flagged `latest`, maintained on every add and delete,
 * so a page costs the same anywhere in a 10-million-object collection. */
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/jsonget.h"
#include "share/stix_marking.h"
#include "taxii/taxii_internal.h"
#include "liaison/field.h"
#include "liaison/http.h"
#include "liaison/limits.h"
#include "accounts/internal.h"
#include "http/parse.h"
#include "route/tlp.h"

#define TAXII_SCHEMA_VERSION "1"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS taxii_meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "INSERT OR IGNORE INTO taxii_meta VALUES('schema', '" TAXII_SCHEMA_VERSION "');"
    "CREATE TABLE IF NOT EXISTS taxii_discovery(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  title TEXT NOT NULL, description TEXT, contact TEXT, default_root TEXT);"
    "CREATE TABLE IF NOT EXISTS taxii_api_roots(name TEXT PRIMARY KEY, title TEXT NOT NULL,"
    "  description TEXT, max_content_length INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS taxii_collections(rowid INTEGER PRIMARY KEY,"
    "  api_root TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, description TEXT,"
    "  community INTEGER NOT NULL DEFAULT 0, default_tlp INTEGER NOT NULL DEFAULT 2,"
    "  own_write INTEGER NOT NULL DEFAULT 1, allow_read INTEGER NOT NULL DEFAULT 1,"
    "  allow_write INTEGER NOT NULL DEFAULT 1, UNIQUE(api_root, id));"
    "CREATE TABLE IF NOT EXISTS taxii_access(coll INTEGER NOT NULL, org_id INTEGER NOT NULL,"
    "  can_read INTEGER NOT NULL, can_write INTEGER NOT NULL, PRIMARY KEY(coll, org_id));"
    "CREATE TABLE IF NOT EXISTS taxii_objects(seq INTEGER PRIMARY KEY, coll INTEGER NOT NULL,"
    "  id TEXT NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL,"
    "  version_text TEXT NOT NULL, spec INTEGER NOT NULL, date_added INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL, org_id INTEGER NOT NULL DEFAULT 0,"
    "  latest INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,"
    "  body TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS taxii_objects_ver ON taxii_objects(coll, id, version, spec);"
    "CREATE INDEX IF NOT EXISTS taxii_objects_page ON taxii_objects(coll, date_added);"
    "CREATE INDEX IF NOT EXISTS taxii_objects_latest ON taxii_objects(coll, date_added)"
    "  WHERE latest = 1;"
    "CREATE TABLE IF NOT EXISTS taxii_status(id TEXT PRIMARY KEY, api_root TEXT NOT NULL,"
    "  status TEXT NOT NULL, request_ts TEXT NOT NULL, total INTEGER NOT NULL,"
    "  success INTEGER NOT NULL, failure INTEGER NOT NULL, pending INTEGER NOT NULL,"
    "  detail TEXT NOT NULL, org_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS taxii_cursors(source TEXT PRIMARY KEY, added_after INTEGER,"
    "  last_added INTEGER,"
    "  next TEXT, updated INTEGER NOT NULL);";

static void sql_tlp_allows(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int(ctx, lia__tlp_policy_allows(sqlite3_value_int(argv[0]), sqlite3_value_int(argv[1]),
                                                   sqlite3_value_int(argv[2])));
}

int lia_taxii_init(lia_store *s, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    char *msg = NULL;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_create_function(db, "lia__tlp_allows", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                sql_tlp_allows, NULL, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "register TLP policy");
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "create TAXII tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    /* stores made before status resources had an owner: theirs are our own team's */
    {
        sqlite3_stmt *st = NULL;
        int has =
            sqlite3_prepare_v2(db, "SELECT org_id FROM taxii_status LIMIT 0", -1, &st, NULL) == SQLITE_OK;
        sqlite3_finalize(st);
        if (!has && sqlite3_exec(db, "ALTER TABLE taxii_status ADD COLUMN org_id INTEGER NOT NULL DEFAULT 0",
                                 NULL, NULL, NULL) != SQLITE_OK)
            return lia_sqlite_error(db, err, "add the owner of status resources");
    }
    return LIA_OK;
}

static int exec(sqlite3 *db, const char *sql, lia_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, sql);
    return LIA_OK;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int lia_taxii_api_root_add(lia_store *s, const char *name, const char *title, const char *description,
                           uint64_t max_content_length, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!name || !*name || strlen(name) >= LIA_TAXII_MAX_ID || strchr(name, '/'))
        return lia_error_set(err, LIA_EINVAL, "api_root", name, name ? strlen(name) : 0,
                             "an API root name is one path segment");
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO taxii_api_roots VALUES(?1, ?2, ?3, ?4)"
                           " ON CONFLICT(name) DO UPDATE SET title = ?2, description = ?3,"
                           " max_content_length = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "prepare api root");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title ? title : name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, description ? description : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(max_content_length ? max_content_length : LIA_HTTP_MAX_BODY));
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "add api root");
    sqlite3_finalize(st);
    return rc;
}

int lia__taxii_api_root_ensure(lia_store *s, const char *name, const char *title, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!name || !*name || strlen(name) >= LIA_TAXII_MAX_ID || strchr(name, '/'))
        return lia_error_set(err, LIA_EINVAL, "api_root", name, name ? strlen(name) : 0,
                             "an API root name is one path segment");
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO taxii_api_roots VALUES(?1, ?2, '', ?3)", -1, &st, NULL))
        return lia_sqlite_error(db, err, "prepare api root");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title ? title : name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)LIA_HTTP_MAX_BODY);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "add api root");
    sqlite3_finalize(st);
    return rc;
}

int lia__taxii_object_exists(lia_store *s, const lia_taxii_collection *c, const char *id, int *yes,
                             lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int step;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM taxii_objects WHERE coll = ?1 AND id = ?2 AND deleted = 0 LIMIT 1",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "object lookup");
    sqlite3_bind_int64(st, 1, c->rowid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return lia_sqlite_error(db, err, "object lookup");
    *yes = step == SQLITE_ROW;
    return LIA_OK;
}

void lia_taxii_collection_defaults(lia_taxii_collection *c)
{
    memset(c, 0, sizeof *c);
    c->default_tlp = LIA_TLP_AMBER;
    c->own_write = 1;
    c->allow_read = 1;
    c->allow_write = 1;
}

int lia_taxii_collection_add(lia_store *s, lia_taxii_collection *c, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!c->id[0] || strchr(c->id, '/') || !c->api_root[0])
        return lia_error_set(err, LIA_EINVAL, "collection", c->id, strlen(c->id),
                             "a collection id is one path segment in an API root");
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO taxii_collections(api_root, id, title, description,"
                           " community, default_tlp, own_write, allow_read, allow_write)"
                           " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
                           " WHERE EXISTS(SELECT 1 FROM taxii_api_roots WHERE name = ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "prepare collection");
    sqlite3_bind_text(st, 1, c->api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->title[0] ? c->title : c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->description, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, c->community);
    sqlite3_bind_int(st, 6, c->default_tlp);
    sqlite3_bind_int(st, 7, c->own_write);
    sqlite3_bind_int(st, 8, c->allow_read);
    sqlite3_bind_int(st, 9, c->allow_write);
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        rc = lia_error_set(err, LIA_EEXIST, "collection", c->id, strlen(c->id),
                           "already exists in API root %s", c->api_root);
    else if (rc != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "add collection");
    else if (sqlite3_changes(db) == 0)
        rc = lia_error_set(err, LIA_ENOTFOUND, "api_root", c->api_root, strlen(c->api_root),
                           "no such API root (liaison taxii root-add)");
    else {
        c->rowid = sqlite3_last_insert_rowid(db);
        rc = LIA_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int lia__taxii_collection_get(lia_store *s, const char *api_root, const char *id, lia_taxii_collection *out,
                              lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, api_root, id, title, description, community,"
                           " default_tlp, own_write, allow_read, allow_write FROM"
                           " taxii_collections WHERE api_root = ?1 AND id = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "prepare collection get");
    sqlite3_bind_text(st, 1, api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->rowid = sqlite3_column_int64(st, 0);
        copy_col(out->api_root, sizeof out->api_root, st, 1);
        copy_col(out->id, sizeof out->id, st, 2);
        copy_col(out->title, sizeof out->title, st, 3);
        copy_col(out->description, sizeof out->description, st, 4);
        out->community = sqlite3_column_int(st, 5);
        out->default_tlp = sqlite3_column_int(st, 6);
        out->own_write = sqlite3_column_int(st, 7);
        out->allow_read = sqlite3_column_int(st, 8);
        out->allow_write = sqlite3_column_int(st, 9);
        rc = LIA_OK;
    } else if (rc == SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "collection", id, strlen(id),
                           "no such collection in API root %s", api_root);
    } else {
        rc = lia_sqlite_error(db, err, "collection get");
    }
    sqlite3_finalize(st);
    return rc;
}

int lia_taxii_grant(lia_store *s, const char *api_root, const char *coll_id, int64_t org_id, int can_read,
                    int can_write, lia_error *err)
{
    lia_taxii_collection c;
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia__taxii_collection_get(s, api_root, coll_id, &c, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO taxii_access VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL) !=
        SQLITE_OK)
        return lia_sqlite_error(db, err, "prepare grant");
    sqlite3_bind_int64(st, 1, c.rowid);
    sqlite3_bind_int64(st, 2, org_id);
    sqlite3_bind_int(st, 3, can_read != 0);
    sqlite3_bind_int(st, 4, can_write != 0);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "grant");
    sqlite3_finalize(st);
    return rc;
}

/* ---- adding objects ---- */

typedef struct objinfo {
    const char *id, *type;
    int64_t version;
    char version_text[40];
    int spec;
    int tlp;            /* from markings, -1 none */
    const char *raised; /* why tlp was raised to RED (an unknown marking), or NULL */
} objinfo;

static int object_info(json_t *o, json_t *defs, int64_t date_added, objinfo *oi, lia_error *err)
{
    json_t *id = json_object_get(o, "id"), *type = json_object_get(o, "type");
    json_t *sv = json_object_get(o, "spec_version"), *mod = json_object_get(o, "modified");
    json_t *cr = json_object_get(o, "created");
    if (!json_is_object(o))
        return lia_error_set(err, LIA_EPARSE, "object", NULL, 0, "not a JSON object");
    if (!json_is_string(id) || !json_is_string(type) || json_string_length(id) == 0 ||
        json_string_length(id) >= LIA_TAXII_MAX_ID || json_string_length(type) == 0)
        return lia_error_set(err, LIA_EPARSE, "id", NULL, 0, "a STIX object needs id and type");
    oi->id = json_string_value(id);
    oi->type = json_string_value(type);
    if (strncmp(oi->id, oi->type, json_string_length(type)) != 0 ||
        strncmp(oi->id + json_string_length(type), "--", 2) != 0)
        return lia_error_set(err, LIA_EPARSE, "id", oi->id, strlen(oi->id), "id must be TYPE--UUID");
    oi->spec = LIA_TAXII_SPEC_20;
    if (sv) {
        if (json_is_string(sv) && strcmp(json_string_value(sv), "2.1") == 0)
            oi->spec = LIA_TAXII_SPEC_21;
        else if (!(json_is_string(sv) && strcmp(json_string_value(sv), "2.0") == 0))
            return lia_error_set(err, LIA_EPARSE, "spec_version", NULL, 0,
                                 "spec_version must be \"2.1\" or \"2.0\"");
    }
    json_t *v = json_is_string(mod) ? mod : json_is_string(cr) ? cr : NULL;
    if (v) {
        const char *t = json_string_value(v);
        if (lia__stix_time_parse(t, json_string_length(v), &oi->version) ||
            json_string_length(v) >= sizeof oi->version_text)
            return lia_error_set(err, LIA_EPARSE, v == mod ? "modified" : "created", t, json_string_length(v),
                                 "not a STIX timestamp");
        snprintf(oi->version_text, sizeof oi->version_text, "%s", t);
    } else {
        oi->version = date_added;
        lia__stix_time_format(date_added, oi->version_text);
    }
    /* every marking, object-level and granular; unknown ones count as RED */
    oi->tlp = lia__stix_object_tlp(o, defs, &oi->raised);
    if (oi->tlp < 0 && strcmp(oi->type, "marking-definition") == 0)
        oi->tlp = LIA_TLP_CLEAR;
    return LIA_OK;
}

static int refresh_latest(sqlite3 *db, int64_t coll, const char *id, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    static const char *const sql[] = {
        "UPDATE taxii_objects SET latest = 0 WHERE coll = ?1 AND id = ?2 AND latest = 1",
        "UPDATE taxii_objects SET latest = 1 WHERE seq = (SELECT seq FROM taxii_objects"
        " WHERE coll = ?1 AND id = ?2 AND spec = 2 AND deleted = 0"
        " ORDER BY version DESC LIMIT 1)",
    };
    for (int i = 0; i < 2 && rc == LIA_OK; i++) {
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return lia_sqlite_error(db, err, "prepare latest");
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = lia_sqlite_error(db, err, "update latest");
        sqlite3_finalize(st);
    }
    return rc;
}

/* Insert one parsed object; *added = 1 if it is new (or undeleted). defs:
 * the marking definitions posted with it (lia__stix_marking_def_add), or
 * NULL. */
static int put_object_text(sqlite3 *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
                           int64_t org_id, int64_t date_added, const char *body, size_t blen, objinfo *oi,
                           int *added, lia_error *err);

static int put_object(sqlite3 *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
                      int64_t org_id, int64_t date_added, objinfo *oi, int *added, lia_error *err)
{
    char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc;
    if (!body)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "serialise object");
    rc = put_object_text(db, c, o, defs, tlp, org_id, date_added, body, strlen(body), oi, added, err);
    free(body);
    return rc;
}

/* put_object with the object's text given (stored as it is). */
static int put_object_text(sqlite3 *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
                           int64_t org_id, int64_t date_added, const char *body, size_t blen, objinfo *oi,
                           int *added, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!date_added)
        date_added = lia__now_us();
    if ((rc = object_info(o, defs, date_added, oi, err)))
        return rc;
    if (tlp < 0)
        tlp = oi->tlp >= 0 ? oi->tlp : c->default_tlp;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO taxii_objects(coll, id, type, version, version_text, spec,"
                           " date_added, tlp, org_id, body) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
                           " ON CONFLICT(coll, id, version, spec) DO UPDATE SET deleted = 0,"
                           " date_added = excluded.date_added, body = excluded.body,"
                           " tlp = excluded.tlp, org_id = excluded.org_id WHERE deleted = 1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = lia_sqlite_error(db, err, "prepare object insert");
        goto out;
    }
    sqlite3_bind_int64(st, 1, c->rowid);
    sqlite3_bind_text(st, 2, oi->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, oi->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, oi->version);
    sqlite3_bind_text(st, 5, oi->version_text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, oi->spec);
    sqlite3_bind_int64(st, 7, date_added);
    sqlite3_bind_int(st, 8, tlp);
    sqlite3_bind_int64(st, 9, org_id);
    sqlite3_bind_text(st, 10, body, (int)blen, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "insert object");
        goto out;
    }
    *added = sqlite3_changes(db) > 0;
    if (*added && oi->spec == LIA_TAXII_SPEC_21)
        rc = refresh_latest(db, c->rowid, oi->id, err);
out:
    sqlite3_finalize(st);
    return rc;
}

int lia_taxii_collection_add_object(lia_store *s, const char *api_root, const char *coll_id, const char *json,
                                    size_t n, int tlp, int64_t org_id, int64_t date_added_us, lia_error *err)
{
    lia_taxii_collection c;
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    json_error_t je;
    json_t *o = NULL;
    objinfo oi;
    int rc, added = 0;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia__taxii_collection_get(s, api_root, coll_id, &c, err)))
        return rc;
    o = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return lia_error_set(err, LIA_EPARSE, "object", NULL, 0, "JSON: %s (column %d)", je.text, je.column);
    if ((rc = exec(db, "SAVEPOINT taxii_add", err)))
        goto out;
    rc = put_object(db, &c, o, NULL, tlp, org_id, date_added_us, &oi, &added, err);
    if (rc == LIA_OK)
        rc = exec(db, "RELEASE taxii_add", err);
    else
        exec(db, "ROLLBACK TO taxii_add; RELEASE taxii_add", NULL);
out:
    json_decref(o);
    return rc;
}

int lia__taxii_put_exported(lia_store *s, const lia_taxii_collection *c, const char *json, size_t n,
                            int *stored, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    json_error_t je;
    json_t *o;
    objinfo oi;
    const char *type, *id;
    int rc = LIA_OK, added = 0, yes = 0;
    *stored = 0;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!(o = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je)))
        return lia_error_set(err, LIA_EPARSE, "object", NULL, 0, "JSON: %s (column %d)", je.text, je.column);
    type = json_string_value(json_object_get(o, "type"));
    id = json_string_value(json_object_get(o, "id"));
    if (!type || !id) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "STIX object without type or id");
        goto out;
    }
    /* an SCO carries no created/modified */
    if (!json_object_get(o, "created") && !json_object_get(o, "modified") &&
        ((rc = lia__taxii_object_exists(s, c, id, &yes, err)) || yes))
        goto out;
    rc = put_object_text(db, c, o, NULL, strcmp(type, "identity") == 0 ? LIA_TLP_CLEAR : -1, 0, 0, json, n,
                         &oi, &added, err);
    if (rc == LIA_OK)
        *stored = 1;
out:
    json_decref(o);
    return rc;
}

/* ---- bulk ---- */

struct lia_taxii_bulk {
    sqlite3 *db;
    int64_t cache_size; /* restored at the end */
    sqlite3_stmt *ins;
    int64_t coll;
    uint64_t n;
};

int lia__taxii_bulk_begin(lia_store *s, int64_t coll_rowid, lia_taxii_bulk **out, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    lia_taxii_bulk *b;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!(b = calloc(1, sizeof *b)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "bulk");
    b->db = db;
    b->coll = coll_rowid;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO taxii_objects(coll, id, type, version, version_text, spec,"
                           " date_added, tlp, latest, body) VALUES(?1,?2,?3,?4,?5,2,?6,?7,1,?8)",
                           -1, &b->ins, NULL) != SQLITE_OK) {
        int rc = lia_sqlite_error(db, err, "prepare bulk");
        free(b);
        return rc;
    }
    /* a bulk load is repeatable: trade durability for speed while it runs */
    {
        sqlite3_stmt *cs = NULL;
        b->cache_size = -65536;
        if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &cs, NULL) == SQLITE_OK &&
            sqlite3_step(cs) == SQLITE_ROW)
            b->cache_size = sqlite3_column_int64(cs, 0);
        sqlite3_finalize(cs);
    }
    exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576; PRAGMA journal_mode = OFF", NULL);
    if (exec(db, "BEGIN", err)) {
        sqlite3_finalize(b->ins);
        free(b);
        return LIA_ESTORE;
    }
    *out = b;
    return LIA_OK;
}

int lia__taxii_bulk_add(lia_taxii_bulk *b, const char *id, const char *type, int64_t version_us,
                        int64_t date_added_us, int tlp, const char *json, size_t n, lia_error *err)
{
    char vt[32];
    lia__stix_time_format(version_us, vt);
    sqlite3_bind_int64(b->ins, 1, b->coll);
    sqlite3_bind_text(b->ins, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(b->ins, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(b->ins, 4, version_us);
    sqlite3_bind_text(b->ins, 5, vt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(b->ins, 6, date_added_us);
    sqlite3_bind_int(b->ins, 7, tlp);
    sqlite3_bind_text(b->ins, 8, json, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(b->ins);
    sqlite3_reset(b->ins);
    if (rc != SQLITE_DONE)
        return lia_sqlite_error(b->db, err, "bulk insert");
    if (++b->n % 100000 == 0 && (exec(b->db, "COMMIT", err) || exec(b->db, "BEGIN", err)))
        return LIA_ESTORE;
    return LIA_OK;
}

int lia__taxii_bulk_end(lia_taxii_bulk *b, lia_error *err)
{
    int rc;
    if (!b)
        return LIA_OK;
    rc = exec(b->db, "COMMIT", err);
    {
        char pr[160];
        snprintf(pr, sizeof pr,
                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = %lld",
                 (long long)b->cache_size);
        exec(b->db, pr, NULL);
    }
    sqlite3_finalize(b->ins);
    free(b);
    return rc;
}

/* ---- query ---- */

typedef struct qb {
    lia_buf sql;
    /* binds, in order */
    int nb;
    int kind[160]; /* 0 int64, 1 text */
    int64_t iv[160];
    const char *tv[160];
} qb;

static void bind_i(qb *q, int64_t v)
{
    q->kind[q->nb] = 0;
    q->iv[q->nb++] = v;
    lia_buf_puts(&q->sql, "?");
}

static void bind_t(qb *q, const char *v)
{
    q->kind[q->nb] = 1;
    q->tv[q->nb++] = v;
    lia_buf_puts(&q->sql, "?");
}

static void spec_list(qb *q, int mask)
{
    if (mask == (LIA_TAXII_SPEC_20 | LIA_TAXII_SPEC_21))
        lia_buf_puts(&q->sql, "(1, 2)");
    else if (mask == LIA_TAXII_SPEC_20)
        lia_buf_puts(&q->sql, "(1)");
    else
        lia_buf_puts(&q->sql, "(2)");
}

/* WHERE conditions shared by query, visibility and delete. */
static void where_versions(qb *q, const lia_taxii_filter *f, int kind)
{
    int mask = f->spec_mask ? f->spec_mask : LIA_TAXII_SPEC_21;
    int fast = kind != LIA_TAXII_VERSIONS && mask == LIA_TAXII_SPEC_21 &&
               (f->nver == 0 || (f->nver == 1 && f->ver_kind[0] == LIA_TAXII_VER_LAST));
    if (fast) {
        lia_buf_puts(&q->sql, " AND o.latest = 1");
        return;
    }
    lia_buf_puts(&q->sql, " AND o.deleted = 0 AND o.spec IN ");
    spec_list(q, mask);
    if (kind == LIA_TAXII_VERSIONS || f->nver == 0) {
        if (kind == LIA_TAXII_VERSIONS)
            return;
    }
    int all = 0;
    for (int i = 0; i < f->nver; i++)
        all |= f->ver_kind[i] == LIA_TAXII_VER_ALL;
    if (all)
        return;
    lia_buf_puts(&q->sql, " AND (");
    int nver = f->nver ? f->nver : 1;
    for (int i = 0; i < nver; i++) {
        int k = f->nver ? f->ver_kind[i] : LIA_TAXII_VER_LAST;
        if (i)
            lia_buf_puts(&q->sql, " OR ");
        if (k == LIA_TAXII_VER_TS) {
            lia_buf_puts(&q->sql, "o.version = ");
            bind_i(q, f->ver_ts[i]);
        } else {
            lia_buf_printf(&q->sql,
                           "o.version = (SELECT %s(o2.version) FROM taxii_objects o2 WHERE"
                           " o2.coll = o.coll AND o2.id = o.id AND o2.deleted = 0 AND o2.spec IN ",
                           k == LIA_TAXII_VER_FIRST ? "min" : "max");
            spec_list(q, mask);
            lia_buf_puts(&q->sql, ")");
        }
    }
    lia_buf_puts(&q->sql, ")");
}

static void where_common(qb *q, const lia_taxii_collection *c, const char *object_id,
                         const lia_taxii_filter *f, const lia_taxii_reader *r, int kind)
{
    lia_buf_puts(&q->sql, " WHERE o.coll = ");
    bind_i(q, c->rowid);
    if (object_id) {
        lia_buf_puts(&q->sql, " AND o.id = ");
        bind_t(q, object_id);
    }
    where_versions(q, f, kind);
    if (f->nids && !object_id) {
        lia_buf_puts(&q->sql, " AND o.id IN (");
        for (int i = 0; i < f->nids; i++) {
            if (i)
                lia_buf_puts(&q->sql, ",");
            bind_t(q, f->ids[i]);
        }
        lia_buf_puts(&q->sql, ")");
    }
    if (f->ntypes) {
        lia_buf_puts(&q->sql, " AND o.type IN (");
        for (int i = 0; i < f->ntypes; i++) {
            if (i)
                lia_buf_puts(&q->sql, ",");
            bind_t(q, f->types[i]);
        }
        lia_buf_puts(&q->sql, ")");
    }
    if (r) {
        lia_buf_puts(&q->sql, " AND lia__tlp_allows(");
        bind_i(q, r->tlp_ceiling);
        lia_buf_puts(&q->sql, ", o.tlp, o.org_id IN (");
        bind_i(q, r->org_id);
        lia_buf_puts(&q->sql, ",");
        bind_i(q, r->also_org_id ? r->also_org_id : r->org_id);
        lia_buf_puts(&q->sql, "))");
    }
}

static int prepare(sqlite3 *db, qb *q, sqlite3_stmt **st, lia_error *err)
{
    if (q->sql.err)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long");
    if (sqlite3_prepare_v2(db, lia_buf_cstr(&q->sql), -1, st, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "prepare TAXII query");
    for (int i = 0; i < q->nb; i++) {
        if (q->kind[i] == 0)
            sqlite3_bind_int64(*st, i + 1, q->iv[i]);
        else
            sqlite3_bind_text(*st, i + 1, q->tv[i], -1, SQLITE_STATIC);
    }
    return LIA_OK;
}

static uint64_t scope_hash(const lia_taxii_collection *c, int kind, const char *object_id,
                           const lia_taxii_filter *f)
{
    char scope[LIA_TAXII_MAX_ID + 64];
    snprintf(scope, sizeof scope, "%lld/%d/%s", (long long)c->rowid, kind, object_id ? object_id : "");
    return lia__taxii_filter_hash(f, scope);
}

void lia__taxii_next_for(const lia_taxii_collection *c, int kind, const char *object_id,
                         const lia_taxii_filter *f, int64_t date_us, int64_t seq,
                         char out[LIA_TAXII_NEXT_MAX])
{
    lia__taxii_next_encode(date_us, seq, scope_hash(c, kind, object_id, f), out);
}

int lia__taxii_query(lia_store *s, const lia_taxii_collection *c, int kind, const char *object_id,
                     const lia_taxii_filter *f, const lia_taxii_reader *r, lia_buf *out, lia_taxii_page *pg,
                     lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    qb q;
    uint64_t hash;
    uint32_t limit = f->limit ? f->limit : LIA_TAXII_PAGE_DEFAULT;
    int rc = LIA_OK, step;
    int64_t last_seq = 0;
    size_t env_start = out->len;
    if (!db)
        return LIA_EUNSUPPORTED;
    memset(pg, 0, sizeof *pg);
    hash = scope_hash(c, kind, object_id, f);
    if (f->has_next && f->next_hash != hash)
        return lia_error_set(err, LIA_EINVAL, "next", NULL, 0,
                             "next token was issued for other filters or another endpoint");
    q.nb = 0;
    lia_buf_init(&q.sql, 16384);
    lia_buf_puts(&q.sql, kind == LIA_TAXII_OBJECTS
                             ? "SELECT o.seq, o.date_added, o.body FROM taxii_objects o"
                             : "SELECT o.seq, o.date_added, o.id, o.version_text, o.spec"
                               " FROM taxii_objects o");
    where_common(&q, c, object_id, f, r, kind);
    if (f->added_after >= 0) {
        lia_buf_puts(&q.sql, " AND o.date_added > ");
        bind_i(&q, f->added_after);
    }
    if (f->has_next) {
        /* keyset (date_added, seq) > (d, s), written so that the index
         * range starts at d: date_added >= d AND (date_added > d OR seq > s) */
        lia_buf_puts(&q.sql, " AND o.date_added >= ");
        bind_i(&q, f->next_date);
        lia_buf_puts(&q.sql, " AND (o.date_added > ");
        bind_i(&q, f->next_date);
        lia_buf_puts(&q.sql, " OR o.seq > ");
        bind_i(&q, f->next_seq);
        lia_buf_puts(&q.sql, ")");
    }
    lia_buf_puts(&q.sql, " ORDER BY o.date_added, o.seq LIMIT ");
    bind_i(&q, (int64_t)limit + 1);
    if ((rc = prepare(db, &q, &st, err)))
        goto out;
    lia_buf_puts(out, kind == LIA_TAXII_VERSIONS ? "{\"more\":false,\"versions\":["
                                                 : "{\"more\":false,\"objects\":[");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t da = sqlite3_column_int64(st, 1);
        if (pg->count == limit) {
            pg->more = 1;
            break;
        }
        if (pg->count)
            lia_buf_putc(out, ',');
        if (pg->count == 0)
            pg->first_added = da;
        pg->last_added = da;
        last_seq = sqlite3_column_int64(st, 0);
        if (kind == LIA_TAXII_OBJECTS) {
            lia_buf_append(out, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        } else if (kind == LIA_TAXII_VERSIONS) {
            const char *vt = (const char *)sqlite3_column_text(st, 3);
            lia_buf_json_str(out, vt, strlen(vt));
        } else {
            char dab[32];
            const char *id = (const char *)sqlite3_column_text(st, 2);
            const char *vt = (const char *)sqlite3_column_text(st, 3);
            lia__stix_time_format(da, dab);
            lia_buf_puts(out, "{\"id\":");
            lia_buf_json_str(out, id, strlen(id));
            lia_buf_printf(out, ",\"date_added\":\"%s\",\"version\":", dab);
            lia_buf_json_str(out, vt, strlen(vt));
            lia_buf_printf(out, ",\"media_type\":\"application/stix+json;version=%s\"}",
                           sqlite3_column_int(st, 4) == LIA_TAXII_SPEC_21 ? "2.1" : "2.0");
        }
        pg->count++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "TAXII query");
        goto out;
    }
    lia_buf_puts(out, "]}");
    if (pg->count == 0) {
        out->len = env_start;
        lia_buf_puts(out, "{}");
    } else if (pg->more) {
        /* rewrite the envelope head: "more":true and the next token */
        char head[128];
        int hl;
        lia__taxii_next_encode(pg->last_added, last_seq, hash, pg->next);
        hl = snprintf(head, sizeof head, "{\"more\":true,\"next\":\"%s\",", pg->next);
        size_t old = strlen("{\"more\":false,");
        if (lia_buf_reserve(out, (size_t)hl) == LIA_OK) {
            memmove(out->ptr + env_start + (size_t)hl, out->ptr + env_start + old,
                    out->len - env_start - old + 1);
            memcpy(out->ptr + env_start, head, (size_t)hl);
            out->len += (size_t)hl - old;
        }
    }
    if (out->err)
        rc = lia_error_set(err, out->err, NULL, NULL, 0, "response too large");
out:
    sqlite3_finalize(st);
    lia_buf_free(&q.sql);
    return rc;
}

int lia__taxii_object_visible(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                              const lia_taxii_reader *r, int *yes, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    lia_taxii_filter f;
    qb q;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    lia__taxii_filter_init(&f);
    f.spec_mask = LIA_TAXII_SPEC_20 | LIA_TAXII_SPEC_21;
    f.nver = 1;
    f.ver_kind[0] = LIA_TAXII_VER_ALL;
    q.nb = 0;
    lia_buf_init(&q.sql, 4096);
    lia_buf_puts(&q.sql, "SELECT 1 FROM taxii_objects o");
    where_common(&q, c, object_id, &f, r, LIA_TAXII_OBJECTS);
    lia_buf_puts(&q.sql, " LIMIT 1");
    if ((rc = prepare(db, &q, &st, err)) == LIA_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW || step == SQLITE_DONE)
            *yes = step == SQLITE_ROW;
        else
            rc = lia_sqlite_error(db, err, "visible");
    }
    sqlite3_finalize(st);
    lia_buf_free(&q.sql);
    return rc;
}

int lia__taxii_delete(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                      const lia_taxii_filter *fin, const lia_taxii_reader *r, int any_owner, int64_t *n,
                      lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    lia_taxii_filter f = *fin;
    qb q;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    /* DELETE defaults: every version of every spec version. */
    if (!f.spec_mask)
        f.spec_mask = LIA_TAXII_SPEC_20 | LIA_TAXII_SPEC_21;
    if (f.nver == 0) {
        f.nver = 1;
        f.ver_kind[0] = LIA_TAXII_VER_ALL;
    }
    f.nids = f.ntypes = 0;
    q.nb = 0;
    lia_buf_init(&q.sql, 4096);
    /* select first (the IN list is materialised once), then flag: a
     * correlated "first"/"last" must not move while rows are updated */
    lia_buf_puts(&q.sql, "UPDATE taxii_objects SET deleted = 1, latest = 0 WHERE seq IN"
                         " (SELECT o.seq FROM taxii_objects o");
    /* only versions the caller can see, and (unless any_owner) its own */
    where_common(&q, c, object_id, &f, r, LIA_TAXII_OBJECTS);
    if (!any_owner) {
        lia_buf_puts(&q.sql, " AND o.org_id IN (");
        bind_i(&q, r->org_id);
        lia_buf_puts(&q.sql, ",");
        bind_i(&q, r->also_org_id ? r->also_org_id : r->org_id);
        lia_buf_puts(&q.sql, ")");
    }
    lia_buf_puts(&q.sql, ")");
    if ((rc = exec(db, "SAVEPOINT taxii_del", err)))
        goto out;
    if ((rc = prepare(db, &q, &st, err)) == LIA_OK) {
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = lia_sqlite_error(db, err, "delete");
        else
            *n = sqlite3_changes(db);
    }
    if (rc == LIA_OK)
        rc = refresh_latest(db, c->rowid, object_id, err);
    exec(db, rc == LIA_OK ? "RELEASE taxii_del" : "ROLLBACK TO taxii_del; RELEASE taxii_del", NULL);
out:
    sqlite3_finalize(st);
    lia_buf_free(&q.sql);
    return rc;
}

/* ---- discovery, roots, collections, access ---- */

int lia__taxii_discovery_get(lia_store *s, lia__taxii_discovery *d, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    memset(d, 0, sizeof *d);
    snprintf(d->title, sizeof d->title, "Liaison TAXII 2.1 server");
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db, "SELECT title, description, contact, default_root FROM taxii_discovery", -1,
                           &st, NULL) != SQLITE_OK)
        return lia_sqlite_error(db, err, "discovery");
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_col(d->title, sizeof d->title, st, 0);
        copy_col(d->description, sizeof d->description, st, 1);
        copy_col(d->contact, sizeof d->contact, st, 2);
        copy_col(d->default_root, sizeof d->default_root, st, 3);
    }
    sqlite3_finalize(st);
    return LIA_OK;
}

int lia__taxii_api_root_names(lia_store *s, lia_buf *out, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int first = 1;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db, "SELECT name FROM taxii_api_roots ORDER BY name", -1, &st, NULL))
        return lia_sqlite_error(db, err, "api roots");
    lia_buf_putc(out, '[');
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *nm = (const char *)sqlite3_column_text(st, 0);
        if (!first)
            lia_buf_putc(out, ',');
        first = 0;
        lia_buf_json_str(out, nm, strlen(nm));
    }
    lia_buf_putc(out, ']');
    sqlite3_finalize(st);
    return LIA_OK;
}

int lia__taxii_api_root_json(lia_store *s, const char *name, lia_buf *out, uint64_t *max_len, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db,
                           "SELECT title, description, max_content_length FROM taxii_api_roots"
                           " WHERE name = ?1",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "api root");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 1);
        *max_len = (uint64_t)sqlite3_column_int64(st, 2);
        if (out) {
            lia_buf_puts(out, "{\"title\":");
            lia_buf_json_str(out, t ? t : "", t ? strlen(t) : 0);
            if (d && *d) {
                lia_buf_puts(out, ",\"description\":");
                lia_buf_json_str(out, d, strlen(d));
            }
            lia_buf_printf(out,
                           ",\"versions\":[\"" LIA_MEDIA_TAXII21_STR "\"],"
                           "\"max_content_length\":%llu}",
                           (unsigned long long)*max_len);
        }
        rc = LIA_OK;
    } else {
        rc = lia_error_set(err, LIA_ENOTFOUND, "api_root", name, strlen(name), "no such API root");
    }
    sqlite3_finalize(st);
    return rc;
}

void lia__taxii_access(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, int *can_read,
                       int *can_write)
{
    sqlite3 *db = lia_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    int r = 0, w = 0;
    /* roles are bounded by the organisation kind (lia__role_allowed): an
     * admin or analyst of any other organisation is nobody here */
    if (!lia__role_allowed(p->org_kind, p->role)) {
        r = w = 0;
    } else if (p->role == LIA_ROLE_ADMIN) {
        r = w = 1;
    } else if (p->role == LIA_ROLE_ANALYST && p->org_kind == LIA_ORG_OWN) {
        r = 1;
        w = c->own_write;
    } else {
        r = c->community;
        if (db && sqlite3_prepare_v2(db,
                                     "SELECT can_read, can_write FROM taxii_access WHERE"
                                     " coll = ?1 AND org_id = ?2",
                                     -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, c->rowid);
            sqlite3_bind_int64(st, 2, p->org_id);
            if (sqlite3_step(st) == SQLITE_ROW) {
                r |= sqlite3_column_int(st, 0);
                w = sqlite3_column_int(st, 1);
            }
        }
        sqlite3_finalize(st);
        /* constituents receive; they never write into shared collections */
        if (p->role == LIA_ROLE_CONSTITUENT)
            w = 0;
    }
    *can_read = r && c->allow_read;
    *can_write = w && c->allow_write;
}

int lia__taxii_collection_json(lia_store *s, const lia_taxii_collection *c, const lia_principal *p,
                               lia_buf *out)
{
    int r, w;
    lia__taxii_access(s, c, p, &r, &w);
    lia_buf_puts(out, "{\"id\":");
    lia_buf_json_str(out, c->id, strlen(c->id));
    lia_buf_puts(out, ",\"title\":");
    lia_buf_json_str(out, c->title, strlen(c->title));
    if (c->description[0]) {
        lia_buf_puts(out, ",\"description\":");
        lia_buf_json_str(out, c->description, strlen(c->description));
    }
    lia_buf_printf(out, ",\"can_read\":%s,\"can_write\":%s,\"media_types\":[\"" LIA_MEDIA_STIX21_STR "\"]}",
                   r ? "true" : "false", w ? "true" : "false");
    return out->err;
}

int lia__taxii_collections_json(lia_store *s, const char *root, const lia_principal *p, lia_buf *out,
                                lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int first = 1;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db, "SELECT id FROM taxii_collections WHERE api_root = ?1 ORDER BY rowid", -1, &st,
                           NULL))
        return lia_sqlite_error(db, err, "collections");
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    lia_buf_puts(out, "{\"collections\":[");
    while (sqlite3_step(st) == SQLITE_ROW) {
        lia_taxii_collection c;
        int r, w;
        if (lia__taxii_collection_get(s, root, (const char *)sqlite3_column_text(st, 0), &c, err))
            continue;
        lia__taxii_access(s, &c, p, &r, &w);
        /* Partners and constituents see only collections they may use;
         * staff see all (with can_read/can_write telling what they may do). */
        if (!r && !w && p->org_kind != LIA_ORG_OWN)
            continue;
        if (!first)
            lia_buf_putc(out, ',');
        first = 0;
        lia__taxii_collection_json(s, &c, p, out);
    }
    lia_buf_puts(out, "]}");
    sqlite3_finalize(st);
    return LIA_OK;
}

/* ---- status ---- */

/* owner: the poster's organisation (0 = our own team). */
static int status_put(sqlite3 *db, const char *id, const char *root, const char *status, const char *req_ts,
                      int64_t total, int64_t ok, int64_t fail, int64_t pend, const char *detail,
                      int64_t owner, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(
            db,
            "INSERT OR REPLACE INTO taxii_status(id, api_root, status, request_ts, total,"
            " success, failure, pending, detail, org_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            -1, &st, NULL))
        return lia_sqlite_error(db, err, "status");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, req_ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, total);
    sqlite3_bind_int64(st, 6, ok);
    sqlite3_bind_int64(st, 7, fail);
    sqlite3_bind_int64(st, 8, pend);
    sqlite3_bind_text(st, 9, detail, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, owner);
    rc = sqlite3_step(st) == SQLITE_DONE ? LIA_OK : lia_sqlite_error(db, err, "status put");
    sqlite3_finalize(st);
    return rc;
}

int lia__taxii_status_json(lia_store *s, const char *root, const char *id, int64_t owner, lia_buf *out,
                           lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_prepare_v2(db,
                           "SELECT status, request_ts, total, success, failure, pending, detail"
                           " FROM taxii_status WHERE api_root = ?1 AND id = ?2 AND (?3 < 0 OR org_id = ?3)",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "status get");
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 6);
        lia_buf_puts(out, "{\"id\":");
        lia_buf_json_str(out, id, strlen(id));
        lia_buf_printf(out,
                       ",\"status\":\"%s\",\"request_timestamp\":\"%s\",\"total_count\":%lld,"
                       "\"success_count\":%lld,\"failure_count\":%lld,\"pending_count\":%lld",
                       sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                       (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
                       (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5));
        /* detail is a JSON object with successes/failures/pendings */
        if (detail && detail[0] == '{' && strlen(detail) > 2) {
            lia_buf_putc(out, ',');
            lia_buf_append(out, detail + 1, strlen(detail) - 1);
        } else {
            lia_buf_putc(out, '}');
        }
        rc = out->err;
    } else {
        rc = lia_error_set(err, LIA_ENOTFOUND, "status", id, strlen(id), "no such status");
    }
    sqlite3_finalize(st);
    return rc;
}

/* In a collection several organisations write to, an object id is the
 * organisation's that first posted it: another's POST of any version of it
 * fails (LIA_EEXIST) instead of overwriting or shadowing it. */
static int owner_free(sqlite3 *db, const lia_taxii_collection *c, json_t *o, int64_t owner, lia_error *err)
{
    json_t *id = json_is_object(o) ? json_object_get(o, "id") : NULL;
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    if (!json_is_string(id))
        return LIA_OK; /* put_object says what is wrong */
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM taxii_objects WHERE coll = ?1 AND id = ?2 AND org_id <> ?3"
                           " AND deleted = 0 LIMIT 1",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "object owner");
    sqlite3_bind_int64(st, 1, c->rowid);
    sqlite3_bind_text(st, 2, json_string_value(id), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = lia_error_set(err, LIA_EEXIST, "id", json_string_value(id), json_string_length(id),
                           "the object belongs to another organisation in this collection");
    sqlite3_finalize(st);
    return rc;
}

static void status_entry(json_t *arr, const char *id, const char *version, const char *msg)
{
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id ? id : ""));
    if (version)
        json_object_set_new(e, "version", json_string(version));
    if (msg)
        json_object_set_new(e, "message", json_string(msg));
    json_array_append_new(arr, e);
}

int lia__taxii_post(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, const char *body,
                    size_t n, lia_buf *out, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    json_error_t je;
    json_t *env = NULL, *objs, *succ = json_array(), *fail = json_array(), *det = json_object();
    json_t *defs = json_object();
    int64_t owner = p->org_kind == LIA_ORG_OWN ? 0 : p->org_id; /* objects and status are the poster's */
    unsigned char rnd[16];
    char sid[40], req_ts[32], *detail = NULL;
    size_t i;
    json_t *o;
    int rc = LIA_OK;
    int64_t nok = 0, nfail = 0;
    if (!db) {
        rc = LIA_EUNSUPPORTED;
        goto out;
    }
    env = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
    if (!env || !json_is_object(env) || !json_is_array(objs = json_object_get(env, "objects"))) {
        rc = lia_error_set(err, LIA_EPARSE, "body", NULL, 0,
                           env ? "not a TAXII envelope ({\"objects\": [...]})" : "body is not JSON");
        goto out;
    }
    if (json_array_size(objs) > LIA_TAXII_MAX_OBJECTS) {
        rc = lia_error_set(err, LIA_ELIMIT, "objects", NULL, 0, "more than %u objects",
                           (unsigned)LIA_TAXII_MAX_OBJECTS);
        goto out;
    }
    if (!succ || !fail || !det || !defs) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    /* the marking definitions posted alongside, for the objects' TLP */
    json_array_foreach(objs, i, o)
    {
        if (lia__stix_marking_def_add(defs, o)) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
    }
    lia__stix_time_format(lia__now_us(), req_ts);
    if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
        goto out;
    json_array_foreach(objs, i, o)
    {
        objinfo oi;
        lia_error e;
        int added = 0;
        lia_error_clear(&e);
        memset(&oi, 0, sizeof oi);
        if (exec(db, "SAVEPOINT obj", &e) == LIA_OK && owner_free(db, c, o, owner, &e) == LIA_OK &&
            put_object(db, c, o, defs, -1, owner, 0, &oi, &added, &e) == LIA_OK) {
            char msg[256];
            exec(db, "RELEASE obj", NULL);
            snprintf(msg, sizeof msg, "%s%s%s", added ? "added" : "already present",
                     oi.raised ? "; stored as TLP:RED: " : "", oi.raised ? oi.raised : "");
            status_entry(succ, oi.id, oi.version_text, msg);
            nok++;
        } else {
            char msg[LIA_ERR_REASON_MAX + LIA_ERR_FIELD_MAX + 8];
            exec(db, "ROLLBACK TO obj; RELEASE obj", NULL);
            json_t *jid = json_is_object(o) ? json_object_get(o, "id") : NULL;
            snprintf(msg, sizeof msg, "%s%s%s", e.field, e.field[0] ? ": " : "", e.reason);
            status_entry(fail, json_is_string(jid) ? json_string_value(jid) : "", NULL, msg);
            nfail++;
        }
    }
    randombytes_buf(rnd, sizeof rnd);
    rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40);
    rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
    snprintf(sid, sizeof sid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10], rnd[11],
             rnd[12], rnd[13], rnd[14], rnd[15]);
    json_object_set(det, "successes", succ);
    json_object_set(det, "failures", fail);
    json_object_set_new(det, "pendings", json_array());
    detail = json_dumps(det, JSON_COMPACT);
    rc = status_put(db, sid, c->api_root, "complete", req_ts, nok + nfail, nok, nfail, 0,
                    detail ? detail : "{}", owner, err);
    if (rc == LIA_OK)
        rc = exec(db, "COMMIT", err);
    else
        exec(db, "ROLLBACK", NULL);
    if (rc == LIA_OK)
        rc = lia__taxii_status_json(s, c->api_root, sid, owner, out, err);
out:
    free(detail);
    json_decref(env);
    json_decref(succ);
    json_decref(fail);
    json_decref(det);
    json_decref(defs);
    return rc;
}

/* ---- seed (medallion data file) ---- */

static int seed_collection(sqlite3 *db, lia_store *s, const char *root, json_t *jc, lia_taxii_seed_stats *stt,
                           lia_error *err)
{
    lia_taxii_collection c;
    json_t *objs = json_object_get(jc, "objects"), *man = json_object_get(jc, "manifest"), *o;
    size_t i;
    int rc;
    lia_taxii_collection_defaults(&c);
    if (!lia__json_str(jc, "id", NULL))
        return lia_error_set(err, LIA_EPARSE, "collections[].id", NULL, 0, "missing");
    snprintf(c.api_root, sizeof c.api_root, "%s", root);
    snprintf(c.id, sizeof c.id, "%s", lia__json_str(jc, "id", NULL));
    snprintf(c.title, sizeof c.title, "%s", lia__json_str(jc, "title", NULL) ? lia__json_str(jc, "title", NULL) : c.id);
    snprintf(c.description, sizeof c.description, "%s",
             lia__json_str(jc, "description", NULL) ? lia__json_str(jc, "description", NULL) : "");
    c.allow_read = json_is_true(json_object_get(jc, "can_read"));
    c.allow_write = json_is_true(json_object_get(jc, "can_write"));
    c.community = 1;
    c.default_tlp = LIA_TLP_CLEAR; /* the reference data carries its own markings */
    if ((rc = lia_taxii_collection_add(s, &c, err)))
        return rc;
    stt->collections++;
    json_array_foreach(objs, i, o)
    {
        int64_t da = 0;
        json_t *me;
        size_t k;
        int added = 0;
        objinfo oi;
        const char *want_ver = lia__json_str(o, "modified", NULL) ? lia__json_str(o, "modified", NULL) : lia__json_str(o, "created", NULL);
        const char *sv = lia__json_str(o, "spec_version", NULL);
        json_array_foreach(man, k, me)
        {
            const char *mid = lia__json_str(me, "id", NULL), *mv = lia__json_str(me, "version", NULL), *mt = lia__json_str(me, "media_type", NULL);
            int mspec21 = mt && strstr(mt, "version=2.1") != NULL;
            if (mid && lia__json_str(o, "id", NULL) && strcmp(mid, lia__json_str(o, "id", NULL)) == 0 &&
                (!want_ver || (mv && strcmp(mv, want_ver) == 0)) &&
                mspec21 == (sv && strcmp(sv, "2.1") == 0)) {
                const char *d = lia__json_str(me, "date_added", NULL);
                if (!d || lia__stix_time_parse(d, strlen(d), &da))
                    return lia_error_set(err, LIA_EPARSE, "manifest.date_added", d, d ? strlen(d) : 0,
                                         "not a timestamp");
                break;
            }
        }
        if (!da)
            return lia_error_set(err, LIA_EPARSE, "manifest", lia__json_str(o, "id", NULL),
                                 lia__json_str(o, "id", NULL) ? strlen(lia__json_str(o, "id", NULL)) : 0,
                                 "object without a manifest entry (date_added)");
        if ((rc = put_object(db, &c, o, NULL, -1, 0, da, &oi, &added, err)))
            return rc;
        stt->objects += (uint64_t)added;
    }
    return LIA_OK;
}

int lia_taxii_seed(lia_store *s, const char *json, size_t n, lia_taxii_seed_stats *st, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "the TAXII server", err);
    json_error_t je;
    json_t *root = NULL, *v;
    const char *key;
    int rc;
    memset(st, 0, sizeof *st);
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_taxii_init(s, err)))
        return rc;
    root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "seed file: %s (line %d)",
                           root ? "top level is not an object" : je.text, je.line);
        goto out;
    }
    if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
        goto out;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "/discovery") == 0) {
            const char *def = lia__json_str(v, "default", NULL);
            char defroot[LIA_TAXII_MAX_ID] = "";
            sqlite3_stmt *q = NULL;
            if (def) { /* keep only the last path segment: http://h/root/ -> root */
                size_t l = strlen(def);
                while (l && def[l - 1] == '/')
                    l--;
                size_t b = l;
                while (b && def[b - 1] != '/')
                    b--;
                snprintf(defroot, sizeof defroot, "%.*s", (int)(l - b), def + b);
            }
            if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO taxii_discovery VALUES(1,?1,?2,?3,?4)", -1, &q,
                                   NULL) == SQLITE_OK) {
                sqlite3_bind_text(q, 1, lia__json_str(v, "title", NULL) ? lia__json_str(v, "title", NULL) : "TAXII", -1, SQLITE_STATIC);
                sqlite3_bind_text(q, 2, lia__json_str(v, "description", NULL), -1, SQLITE_STATIC);
                sqlite3_bind_text(q, 3, lia__json_str(v, "contact", NULL), -1, SQLITE_STATIC);
                sqlite3_bind_text(q, 4, defroot, -1, SQLITE_STATIC);
                if (sqlite3_step(q) != SQLITE_DONE)
                    rc = lia_sqlite_error(db, err, "discovery");
            }
            sqlite3_finalize(q);
            if (rc)
                break;
            continue;
        }
        json_t *info = json_object_get(v, "information"), *cols = json_object_get(v, "collections");
        json_t *sts = json_object_get(v, "status"), *e;
        size_t i;
        json_t *mcl = json_object_get(info, "max_content_length");
        if ((rc = lia_taxii_api_root_add(s, key, lia__json_str(info, "title", NULL), lia__json_str(info, "description", NULL),
                                         json_is_integer(mcl) ? (uint64_t)json_integer_value(mcl) : 0, err)))
            break;
        st->api_roots++;
        json_array_foreach(cols, i, e)
        {
            if ((rc = seed_collection(db, s, key, e, st, err)))
                break;
        }
        if (rc)
            break;
        json_array_foreach(sts, i, e)
        {
            json_t *det = json_object();
            char *d;
            const char *lists[] = {"successes", "failures", "pendings"};
            for (int k = 0; k < 3; k++) {
                json_t *l = json_object_get(e, lists[k]);
                json_object_set(det, lists[k], json_is_array(l) ? l : json_array());
                if (!json_is_array(l))
                    json_decref(json_object_get(det, lists[k]));
            }
            d = json_dumps(det, JSON_COMPACT);
            json_decref(det);
            rc = status_put(db, lia__json_str(e, "id", NULL) ? lia__json_str(e, "id", NULL) : "", key,
                            lia__json_str(e, "status", NULL) ? lia__json_str(e, "status", NULL) : "complete",
                            lia__json_str(e, "request_timestamp", NULL)
                                ? lia__json_str(e, "request_timestamp", NULL)
                                : "",
                            json_integer_value(json_object_get(e, "total_count")),
                            json_integer_value(json_object_get(e, "success_count")),
                            json_integer_value(json_object_get(e, "failure_count")),
                            json_integer_value(json_object_get(e, "pending_count")), d ? d : "{}", 0, err);
            free(d);
            if (rc)
                break;
            st->statuses++;
        }
        if (rc)
            break;
    }
    if (rc == LIA_OK)
        rc = exec(db, "COMMIT", err);
    else
        exec(db, "ROLLBACK", NULL);
out:
    json_decref(root);
    return rc;
}
