/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII 2.1 storage: API roots, collections, access grants, STIX objects
 * (JSON documents with id, type, version, spec_version, date_added, TLP,
 * owner and a deleted flag), status resources and pull cursors, in the
 * store's database (the taxii_* tables, schema "taxii" of the migration
 * registry), through the database layer of src/store/db.h.
 *
 * Paging is keyset on (date_added, seq) with an index per collection; the
 * default view (match[version]=last, spec_version 2.1) reads a partial
 * index of the rows flagged `latest`, maintained on every add and delete,
 * so a page costs the same anywhere in a 10-million-object collection. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/fault.h"
#include "core/jsonget.h"
#include "share/stix_marking.h"
#include "store/db.h"
#include "taxii/taxii_internal.h"
#include "liaison/field.h"
#include "liaison/http.h"
#include "liaison/limits.h"
#include "accounts/internal.h"
#include "http/parse.h"
#include "route/tlp.h"

/* Schema 1 is the tables of the first TAXII store; 2 gives each status
 * resource its owner (the poster's organisation, 0 = our own team). Stores
 * from before the migration registry kept ('schema', '1') in taxii_meta
 * with and without that column, so adopt looks at the column; taxii_meta
 * is left in place, unread. */
static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS taxii_discovery(id INTEGER PRIMARY KEY CHECK(id = 1),"
            "  title TEXT NOT NULL, description TEXT, contact TEXT, default_root TEXT);"
            "CREATE TABLE IF NOT EXISTS taxii_api_roots(name TEXT PRIMARY KEY, title TEXT NOT NULL,"
            "  description TEXT, max_content_length INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS taxii_collections(\"rowid\" INTEGER PRIMARY KEY,"
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
            "  detail TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS taxii_cursors(source TEXT PRIMARY KEY, added_after INTEGER,"
            "  last_added INTEGER, next TEXT, updated INTEGER NOT NULL);"},
    {.sql = "ALTER TABLE taxii_status ADD COLUMN org_id INTEGER NOT NULL DEFAULT 0"},
    /* 3: on PostgreSQL the TLP policy that object queries call, as SQL (a
     * C function cannot be called from PostgreSQL's SQL; on SQLite it is
     * sql_tlp_allows below, registered on each handle): the same answers as
     * lia__tlp_policy_allows for every ceiling, marking and same_org
     * (test_taxii_tlp_pg checks all of them against it). A marking outside
     * CLEAR..RED never; RED never; AMBER+STRICT only to the owning
     * organisation; nothing above the reader's ceiling. */
    {.pg = "CREATE OR REPLACE FUNCTION lia__tlp_allows(ceiling BIGINT, tlp BIGINT, same_org BOOLEAN)"
           "  RETURNS BOOLEAN LANGUAGE sql IMMUTABLE AS"
           "  'SELECT $2 BETWEEN 0 AND 3 AND ($2 <> 3 OR $3) AND $2 <= $1'"},
};

static int adopt(lia_db *db, int *version, lia_error *err)
{
    (void)err;
    if (!lia__db_has_table(db, "taxii_status"))
        *version = 0;
    else
        *version = lia__db_has_column(db, "taxii_status", "org_id") ? 2 : 1;
    return LIA_OK;
}

static const lia_schema taxii_schema = {"taxii", 3, migrations, adopt, .pg = 1};

static int64_t sql_tlp_allows(const int64_t *a)
{
    return lia__tlp_policy_allows((int)a[0], (int)a[1], (int)a[2]);
}

int lia_taxii_init(lia_store *s, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    int rc;
    if (!lia__db_is_pg(db) && (rc = lia__db_function(db, "lia__tlp_allows", 3, sql_tlp_allows, err)))
        return rc; /* PostgreSQL: the SQL function of migration 3 */
    return lia__db_schema(db, &taxii_schema, err);
}

static void copy_col(char *dst, size_t n, lia_stmt *st, int col)
{
    const char *t = lia__db_col_text(st, col);
    snprintf(dst, n, "%s", t ? t : "");
}

static int root_name_ok(const char *name, lia_error *err)
{
    if (!name || !*name || strlen(name) >= LIA_TAXII_MAX_ID || strchr(name, '/'))
        return lia_error_set(err, LIA_EINVAL, "api_root", name, name ? strlen(name) : 0,
                             "an API root name is one path segment");
    return LIA_OK;
}

int lia_taxii_api_root_add(lia_store *s, const char *name, const char *title, const char *description,
                           uint64_t max_content_length, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = root_name_ok(name, err)) ||
        (rc = lia__db_prepare(lia__store_db(s), "TAXII: adding an API root",
                              "INSERT INTO taxii_api_roots(name, title, description, max_content_length)"
                              " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET title = ?2,"
                              " description = ?3, max_content_length = ?4",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, title ? title : name, -1);
    lia__db_bind_text(st, 3, description ? description : "", -1);
    lia__db_bind_int64(st, 4, (int64_t)(max_content_length ? max_content_length : LIA_HTTP_MAX_BODY));
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__taxii_api_root_ensure(lia_store *s, const char *name, const char *title, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = root_name_ok(name, err)) ||
        (rc = lia__db_prepare(lia__store_db(s), "TAXII: adding an API root if missing",
                              "INSERT INTO taxii_api_roots(name, title, description, max_content_length)"
                              " VALUES(?1, ?2, '', ?3) ON CONFLICT DO NOTHING",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, title ? title : name, -1);
    lia__db_bind_int64(st, 3, (int64_t)LIA_HTTP_MAX_BODY);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__taxii_object_exists(lia_store *s, const lia_taxii_collection *c, const char *id, int *yes,
                             lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             lia__store_db(s), "TAXII: looking up an object",
             "SELECT 1 FROM taxii_objects WHERE coll = ?1 AND id = ?2 AND deleted = 0 LIMIT 1", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, c->rowid);
    lia__db_bind_text(st, 2, id, -1);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    *yes = rc == LIA_DB_ROW;
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
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if (!c->id[0] || strchr(c->id, '/') || !c->api_root[0])
        return lia_error_set(err, LIA_EINVAL, "collection", c->id, strlen(c->id),
                             "a collection id is one path segment in an API root");
    if ((rc = lia__db_prepare(db, "TAXII: adding a collection",
                              "INSERT INTO taxii_collections(api_root, id, title, description,"
                              " community, default_tlp, own_write, allow_read, allow_write)"
                              " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
                              " WHERE EXISTS(SELECT 1 FROM taxii_api_roots WHERE name = ?1)",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, c->api_root, -1);
    lia__db_bind_text(st, 2, c->id, -1);
    lia__db_bind_text(st, 3, c->title[0] ? c->title : c->id, -1);
    lia__db_bind_text(st, 4, c->description, -1);
    lia__db_bind_int64(st, 5, c->community);
    lia__db_bind_int64(st, 6, c->default_tlp);
    lia__db_bind_int64(st, 7, c->own_write);
    lia__db_bind_int64(st, 8, c->allow_read);
    lia__db_bind_int64(st, 9, c->allow_write);
    rc = lia__db_run(st, err);
    if (rc == LIA_EEXIST)
        rc = lia_error_set(err, LIA_EEXIST, "collection", c->id, strlen(c->id),
                           "already exists in API root %s", c->api_root);
    else if (rc == LIA_OK && lia__db_changes(db) == 0)
        rc = lia_error_set(err, LIA_ENOTFOUND, "api_root", c->api_root, strlen(c->api_root),
                           "no such API root (liaison taxii root-add)");
    else if (rc == LIA_OK)
        c->rowid = lia__db_last_id(db);
    lia__db_done(st);
    return rc;
}

int lia__taxii_collection_get(lia_store *s, const char *api_root, const char *id, lia_taxii_collection *out,
                              lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: reading a collection",
                              "SELECT \"rowid\", api_root, id, title, description, community,"
                              " default_tlp, own_write, allow_read, allow_write FROM"
                              " taxii_collections WHERE api_root = ?1 AND id = ?2",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, api_root, -1);
    lia__db_bind_text(st, 2, id, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        out->rowid = lia__db_col_int64(st, 0);
        copy_col(out->api_root, sizeof out->api_root, st, 1);
        copy_col(out->id, sizeof out->id, st, 2);
        copy_col(out->title, sizeof out->title, st, 3);
        copy_col(out->description, sizeof out->description, st, 4);
        out->community = (int)lia__db_col_int64(st, 5);
        out->default_tlp = (int)lia__db_col_int64(st, 6);
        out->own_write = (int)lia__db_col_int64(st, 7);
        out->allow_read = (int)lia__db_col_int64(st, 8);
        out->allow_write = (int)lia__db_col_int64(st, 9);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "collection", id, strlen(id),
                           "no such collection in API root %s", api_root);
    }
    lia__db_done(st);
    return rc;
}

int lia_taxii_grant(lia_store *s, const char *api_root, const char *coll_id, int64_t org_id, int can_read,
                    int can_write, lia_error *err)
{
    lia_taxii_collection c;
    lia_stmt *st;
    int rc;
    if ((rc = lia__taxii_collection_get(s, api_root, coll_id, &c, err)) ||
        (rc = lia__db_prepare(
             lia__store_db(s), "TAXII: granting access to a collection",
             "INSERT INTO taxii_access(coll, org_id, can_read, can_write) VALUES(?1, ?2, ?3, ?4)"
             " ON CONFLICT(coll, org_id) DO UPDATE SET can_read = excluded.can_read,"
             " can_write = excluded.can_write",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, c.rowid);
    lia__db_bind_int64(st, 2, org_id);
    lia__db_bind_int64(st, 3, can_read != 0);
    lia__db_bind_int64(st, 4, can_write != 0);
    rc = lia__db_run(st, err);
    lia__db_done(st);
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

static int refresh_latest(lia_db *db, int64_t coll, const char *id, lia_error *err)
{
    static const char *const name[] = {"TAXII: clearing an object's latest flag",
                                       "TAXII: flagging an object's latest version"};
    static const char *const sql[] = {
        "UPDATE taxii_objects SET latest = 0 WHERE coll = ?1 AND id = ?2 AND latest = 1",
        "UPDATE taxii_objects SET latest = 1 WHERE seq = (SELECT seq FROM taxii_objects"
        " WHERE coll = ?1 AND id = ?2 AND spec = 2 AND deleted = 0"
        " ORDER BY version DESC LIMIT 1)",
    };
    int rc = LIA_OK;
    for (int i = 0; i < 2 && rc == LIA_OK; i++) {
        lia_stmt *st;
        if ((rc = lia__db_prepare(db, name[i], sql[i], &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, coll);
        lia__db_bind_text(st, 2, id, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    return rc;
}

/* Insert one parsed object; *added = 1 if it is new (or undeleted). defs:
 * the marking definitions posted with it (lia__stix_marking_def_add), or
 * NULL. */
static int put_object_text(lia_db *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
                           int64_t org_id, int64_t date_added, const char *body, size_t blen, objinfo *oi,
                           int *added, lia_error *err);

static int put_object(lia_db *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
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
static int put_object_text(lia_db *db, const lia_taxii_collection *c, json_t *o, json_t *defs, int tlp,
                           int64_t org_id, int64_t date_added, const char *body, size_t blen, objinfo *oi,
                           int *added, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if (!date_added)
        date_added = lia__now_us();
    if ((rc = object_info(o, defs, date_added, oi, err)))
        return rc;
    if (tlp < 0)
        tlp = oi->tlp >= 0 ? oi->tlp : c->default_tlp;
    if ((rc = lia__db_prepare(db, "TAXII: adding an object",
                              "INSERT INTO taxii_objects(coll, id, type, version, version_text, spec,"
                              " date_added, tlp, org_id, body) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
                              " ON CONFLICT(coll, id, version, spec) DO UPDATE SET deleted = 0,"
                              " date_added = excluded.date_added, body = excluded.body,"
                              " tlp = excluded.tlp, org_id = excluded.org_id WHERE taxii_objects.deleted = 1",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, c->rowid);
    lia__db_bind_text(st, 2, oi->id, -1);
    lia__db_bind_text(st, 3, oi->type, -1);
    lia__db_bind_int64(st, 4, oi->version);
    lia__db_bind_text(st, 5, oi->version_text, -1);
    lia__db_bind_int64(st, 6, oi->spec);
    lia__db_bind_int64(st, 7, date_added);
    lia__db_bind_int64(st, 8, tlp);
    lia__db_bind_int64(st, 9, org_id);
    lia__db_bind_text(st, 10, body, (ptrdiff_t)blen);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        return rc;
    *added = lia__db_changes(db) > 0;
    if (*added && oi->spec == LIA_TAXII_SPEC_21)
        rc = refresh_latest(db, c->rowid, oi->id, err);
    return rc;
}

int lia_taxii_collection_add_object(lia_store *s, const char *api_root, const char *coll_id, const char *json,
                                    size_t n, int tlp, int64_t org_id, int64_t date_added_us, lia_error *err)
{
    lia_taxii_collection c;
    lia_db *db = lia__store_db(s);
    json_error_t je;
    json_t *o = NULL;
    objinfo oi;
    int rc, added = 0;
    if ((rc = lia__taxii_collection_get(s, api_root, coll_id, &c, err)))
        return rc;
    o = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return lia_error_set(err, LIA_EPARSE, "object", NULL, 0, "JSON: %s (column %d)", je.text, je.column);
    if ((rc = lia__db_begin(db, err)) == LIA_OK) {
        if ((rc = put_object(db, &c, o, NULL, tlp, org_id, date_added_us, &oi, &added, err)))
            lia__db_rollback(db);
        else
            rc = lia__db_commit(db, err);
    }
    json_decref(o);
    return rc;
}

int lia__taxii_put_exported(lia_store *s, const lia_taxii_collection *c, const char *json, size_t n,
                            int *stored, lia_error *err)
{
    json_error_t je;
    json_t *o;
    objinfo oi;
    const char *type, *id;
    int rc = LIA_OK, added = 0, yes = 0;
    *stored = 0;
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
    rc = put_object_text(lia__store_db(s), c, o, NULL, strcmp(type, "identity") == 0 ? LIA_TLP_CLEAR : -1, 0,
                         0, json, n, &oi, &added, err);
    if (rc == LIA_OK)
        *stored = 1;
out:
    json_decref(o);
    return rc;
}

/* ---- bulk ---- */

struct lia_taxii_bulk {
    lia_db *db;
    size_t cache; /* the handle's page cache, restored at the end */
    lia_stmt *ins;
    int64_t coll;
    uint64_t n;
};

int lia__taxii_bulk_begin(lia_store *s, int64_t coll_rowid, lia_taxii_bulk **out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_taxii_bulk *b;
    int rc;
    if (!(b = calloc(1, sizeof *b)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "bulk");
    b->db = db;
    b->coll = coll_rowid;
    if ((rc = lia__db_prepare_once(db, "TAXII: bulk-loading objects",
                                   "INSERT INTO taxii_objects(coll, id, type, version, version_text, spec,"
                                   " date_added, tlp, latest, body) VALUES(?1,?2,?3,?4,?5,2,?6,?7,1,?8)",
                                   &b->ins, err))) {
        free(b);
        return rc;
    }
    /* a bulk load is repeatable: trade durability for speed while it runs */
    b->cache = lia__db_cache(db);
    lia__db_durable(db, 0);
    lia__db_set_cache(db, (size_t)1 << 30);
    if ((rc = lia__db_begin(db, err))) {
        lia__taxii_bulk_end(b, NULL);
        return rc;
    }
    *out = b;
    return LIA_OK;
}

int lia__taxii_bulk_add(lia_taxii_bulk *b, const char *id, const char *type, int64_t version_us,
                        int64_t date_added_us, int tlp, const char *json, size_t n, lia_error *err)
{
    char vt[32];
    int rc;
    lia__stix_time_format(version_us, vt);
    lia__db_bind_int64(b->ins, 1, b->coll);
    lia__db_bind_text(b->ins, 2, id, -1);
    lia__db_bind_text(b->ins, 3, type, -1);
    lia__db_bind_int64(b->ins, 4, version_us);
    lia__db_bind_text(b->ins, 5, vt, -1);
    lia__db_bind_int64(b->ins, 6, date_added_us);
    lia__db_bind_int64(b->ins, 7, tlp);
    lia__db_bind_text(b->ins, 8, json, (ptrdiff_t)n);
    rc = lia__db_run(b->ins, err);
    lia__db_reset(b->ins);
    if (rc)
        return rc;
    if (++b->n % 100000 == 0 && ((rc = lia__db_commit(b->db, err)) || (rc = lia__db_begin(b->db, err))))
        return rc;
    return LIA_OK;
}

int lia__taxii_bulk_end(lia_taxii_bulk *b, lia_error *err)
{
    int rc = LIA_OK;
    if (!b)
        return LIA_OK;
    lia__db_done(b->ins);
    if (lia__db_in_tx(b->db))
        rc = lia__db_commit(b->db, err);
    lia__db_durable(b->db, 1);
    lia__db_set_cache(b->db, b->cache);
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

/* The query q built at run time, prepared for this use and bound. */
static int prepare(lia_db *db, const char *what, qb *q, lia_stmt **st, lia_error *err)
{
    int rc;
    if (q->sql.err)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "query too long");
    if ((rc = lia__db_prepare_once(db, what, lia_buf_cstr(&q->sql), st, err)))
        return rc;
    for (int i = 0; i < q->nb; i++) {
        if (q->kind[i] == 0)
            lia__db_bind_int64(*st, i + 1, q->iv[i]);
        else
            lia__db_bind_text(*st, i + 1, q->tv[i], -1);
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
    lia_stmt *st = NULL;
    qb q;
    uint64_t hash;
    uint32_t limit = f->limit ? f->limit : LIA_TAXII_PAGE_DEFAULT;
    int rc = LIA_OK, step;
    int64_t last_seq = 0;
    size_t env_start = out->len;
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
    if ((rc = prepare(lia__store_db(s), "TAXII: reading a page", &q, &st, err)))
        goto out;
    lia_buf_puts(out, kind == LIA_TAXII_VERSIONS ? "{\"more\":false,\"versions\":["
                                                 : "{\"more\":false,\"objects\":[");
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        int64_t da = lia__db_col_int64(st, 1);
        if (pg->count == limit) {
            pg->more = 1;
            break;
        }
        if (pg->count)
            lia_buf_putc(out, ',');
        if (pg->count == 0)
            pg->first_added = da;
        pg->last_added = da;
        last_seq = lia__db_col_int64(st, 0);
        if (kind == LIA_TAXII_OBJECTS) {
            lia_buf_append(out, lia__db_col_text(st, 2), lia__db_col_bytes(st, 2));
        } else if (kind == LIA_TAXII_VERSIONS) {
            const char *vt = lia__db_col_text(st, 3);
            lia_buf_json_str(out, vt, strlen(vt));
        } else {
            char dab[32];
            const char *id = lia__db_col_text(st, 2);
            const char *vt = lia__db_col_text(st, 3);
            lia__stix_time_format(da, dab);
            lia_buf_puts(out, "{\"id\":");
            lia_buf_json_str(out, id, strlen(id));
            lia_buf_printf(out, ",\"date_added\":\"%s\",\"version\":", dab);
            lia_buf_json_str(out, vt, strlen(vt));
            lia_buf_printf(out, ",\"media_type\":\"application/stix+json;version=%s\"}",
                           lia__db_col_int64(st, 4) == LIA_TAXII_SPEC_21 ? "2.1" : "2.0");
        }
        pg->count++;
    }
    if (step < 0) {
        rc = step;
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
    lia__db_done(st);
    lia_buf_free(&q.sql);
    return rc;
}

int lia__taxii_object_visible(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                              const lia_taxii_reader *r, int *yes, lia_error *err)
{
    lia_stmt *st = NULL;
    lia_taxii_filter f;
    qb q;
    int rc;
    lia__taxii_filter_init(&f);
    f.spec_mask = LIA_TAXII_SPEC_20 | LIA_TAXII_SPEC_21;
    f.nver = 1;
    f.ver_kind[0] = LIA_TAXII_VER_ALL;
    q.nb = 0;
    lia_buf_init(&q.sql, 4096);
    lia_buf_puts(&q.sql, "SELECT 1 FROM taxii_objects o");
    where_common(&q, c, object_id, &f, r, LIA_TAXII_OBJECTS);
    lia_buf_puts(&q.sql, " LIMIT 1");
    if ((rc = prepare(lia__store_db(s), "TAXII: is an object visible", &q, &st, err)) == LIA_OK) {
        int step = lia__db_step(st, err);
        if (step < 0)
            rc = step;
        else
            *yes = step == LIA_DB_ROW;
    }
    lia__db_done(st);
    lia_buf_free(&q.sql);
    return rc;
}

int lia__taxii_delete(lia_store *s, const lia_taxii_collection *c, const char *object_id,
                      const lia_taxii_filter *fin, const lia_taxii_reader *r, int any_owner, int64_t *n,
                      lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    lia_taxii_filter f = *fin;
    qb q;
    int rc;
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
    if ((rc = lia__db_begin(db, err)))
        goto out;
    if ((rc = prepare(db, "TAXII: deleting objects", &q, &st, err)) == LIA_OK &&
        (rc = lia__db_run(st, err)) == LIA_OK)
        *n = lia__db_changes(db);
    lia__db_done(st);
    st = NULL;
    if (rc == LIA_OK)
        rc = refresh_latest(db, c->rowid, object_id, err);
    if (rc == LIA_OK)
        rc = lia__db_commit(db, err);
    else
        lia__db_rollback(db);
out:
    lia__db_done(st);
    lia_buf_free(&q.sql);
    return rc;
}

/* ---- discovery, roots, collections, access ---- */

int lia__taxii_discovery_get(lia_store *s, lia__taxii_discovery *d, lia_error *err)
{
    lia_stmt *st;
    int rc;
    memset(d, 0, sizeof *d);
    snprintf(d->title, sizeof d->title, "Liaison TAXII 2.1 server");
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: reading the discovery resource",
                              "SELECT title, description, contact, default_root FROM taxii_discovery", &st,
                              err)))
        return rc;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        copy_col(d->title, sizeof d->title, st, 0);
        copy_col(d->description, sizeof d->description, st, 1);
        copy_col(d->contact, sizeof d->contact, st, 2);
        copy_col(d->default_root, sizeof d->default_root, st, 3);
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia__taxii_root_visible(lia_store *s, const char *root, const char *hint, const lia_principal *p,
                            int *yes, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *yes = p->org_kind == LIA_ORG_OWN;
    if (*yes)
        return LIA_OK;
    if (hint) {
        lia_taxii_collection c;
        int r = 0, w = 0;
        lia_error e2;
        lia_error_clear(&e2);
        if (lia__taxii_collection_get(s, root, hint, &c, &e2) == LIA_OK)
            lia__taxii_access(s, &c, p, &r, &w);
        if ((*yes = r || w))
            return LIA_OK;
    }
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: checking access to an API root",
                              "SELECT id FROM taxii_collections WHERE api_root = ?1 ORDER BY \"rowid\"", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, root, -1);
    while (!*yes && (rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_taxii_collection c;
        int r = 0, w = 0;
        if (lia__taxii_collection_get(s, root, lia__db_col_text(st, 0), &c, err) == LIA_OK)
            lia__taxii_access(s, &c, p, &r, &w);
        *yes = r || w;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia__taxii_api_root_names(lia_store *s, const lia_principal *p, lia_buf *out, lia_error *err)
{
    lia_stmt *st;
    int first = 1, rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: listing API roots",
                              "SELECT name FROM taxii_api_roots ORDER BY name", &st, err)))
        return rc;
    lia_buf_putc(out, '[');
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *nm = lia__db_col_text(st, 0);
        int yes = 0;
        if ((rc = lia__taxii_root_visible(s, nm, NULL, p, &yes, err)))
            break;
        if (!yes)
            continue;
        if (!first)
            lia_buf_putc(out, ',');
        first = 0;
        lia_buf_json_str(out, nm, strlen(nm));
    }
    lia_buf_putc(out, ']');
    lia__db_done(st);
    if (rc >= 0 && out->err)
        return lia_error_set(err, out->err, NULL, NULL, 0, "listing API roots: %s", lia_strerror(out->err));
    return rc < 0 ? rc : LIA_OK;
}

int lia__taxii_api_root_json(lia_store *s, const char *name, lia_buf *out, uint64_t *max_len, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: reading an API root",
                              "SELECT title, description, max_content_length FROM taxii_api_roots"
                              " WHERE name = ?1",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *t = lia__db_col_text(st, 0);
        const char *d = lia__db_col_text(st, 1);
        *max_len = (uint64_t)lia__db_col_int64(st, 2);
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
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "api_root", name, strlen(name), "no such API root");
    }
    lia__db_done(st);
    return rc;
}

void lia__taxii_access(lia_store *s, const lia_taxii_collection *c, const lia_principal *p, int *can_read,
                       int *can_write)
{
    lia_stmt *st;
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
        /* a grant that cannot be read grants nothing */
        if (lia__db_prepare(lia__store_db(s), "TAXII: reading a grant",
                            "SELECT can_read, can_write FROM taxii_access WHERE coll = ?1 AND org_id = ?2",
                            &st, NULL) == LIA_OK) {
            lia__db_bind_int64(st, 1, c->rowid);
            lia__db_bind_int64(st, 2, p->org_id);
            if (lia__db_step(st, NULL) == LIA_DB_ROW) {
                r |= (int)lia__db_col_int64(st, 0);
                w = (int)lia__db_col_int64(st, 1);
            }
            lia__db_done(st);
        }
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
    lia_stmt *st;
    int first = 1, rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "TAXII: listing collections",
                              "SELECT id FROM taxii_collections WHERE api_root = ?1 ORDER BY \"rowid\"", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, root, -1);
    lia_buf_puts(out, "{\"collections\":[");
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_taxii_collection c;
        int r, w;
        if (lia__taxii_collection_get(s, root, lia__db_col_text(st, 0), &c, err))
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
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

/* ---- status ---- */

/* owner: the poster's organisation (0 = our own team). */
static int status_put(lia_db *db, const char *id, const char *root, const char *status, const char *req_ts,
                      int64_t total, int64_t ok, int64_t fail, int64_t pend, const char *detail,
                      int64_t owner, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "TAXII: storing a status resource",
             "INSERT INTO taxii_status(id, api_root, status, request_ts, total,"
             " success, failure, pending, detail, org_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
             " ON CONFLICT(id) DO UPDATE SET api_root = excluded.api_root,"
             " status = excluded.status, request_ts = excluded.request_ts,"
             " total = excluded.total, success = excluded.success,"
             " failure = excluded.failure, pending = excluded.pending,"
             " detail = excluded.detail, org_id = excluded.org_id",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, id, -1);
    lia__db_bind_text(st, 2, root, -1);
    lia__db_bind_text(st, 3, status, -1);
    lia__db_bind_text(st, 4, req_ts, -1);
    lia__db_bind_int64(st, 5, total);
    lia__db_bind_int64(st, 6, ok);
    lia__db_bind_int64(st, 7, fail);
    lia__db_bind_int64(st, 8, pend);
    lia__db_bind_text(st, 9, detail, -1);
    lia__db_bind_int64(st, 10, owner);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia__taxii_status_json(lia_store *s, const char *root, const char *id, int64_t owner, lia_buf *out,
                           lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc =
             lia__db_prepare(lia__store_db(s), "TAXII: reading a status resource",
                             "SELECT status, request_ts, total, success, failure, pending, detail"
                             " FROM taxii_status WHERE api_root = ?1 AND id = ?2 AND (?3 < 0 OR org_id = ?3)",
                             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, root, -1);
    lia__db_bind_text(st, 2, id, -1);
    lia__db_bind_int64(st, 3, owner);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *detail = lia__db_col_text(st, 6);
        lia_buf_puts(out, "{\"id\":");
        lia_buf_json_str(out, id, strlen(id));
        lia_buf_printf(out,
                       ",\"status\":\"%s\",\"request_timestamp\":\"%s\",\"total_count\":%lld,"
                       "\"success_count\":%lld,\"failure_count\":%lld,\"pending_count\":%lld",
                       lia__db_col_text(st, 0), lia__db_col_text(st, 1), (long long)lia__db_col_int64(st, 2),
                       (long long)lia__db_col_int64(st, 3), (long long)lia__db_col_int64(st, 4),
                       (long long)lia__db_col_int64(st, 5));
        /* detail is a JSON object with successes/failures/pendings */
        if (detail && detail[0] == '{' && strlen(detail) > 2) {
            lia_buf_putc(out, ',');
            lia_buf_append(out, detail + 1, strlen(detail) - 1);
        } else {
            lia_buf_putc(out, '}');
        }
        rc = out->err;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "status", id, strlen(id), "no such status");
    }
    lia__db_done(st);
    return rc;
}

/* In a collection several organisations write to, an object id is the
 * organisation's that first posted it: another's POST of any version of it
 * fails (LIA_EEXIST) instead of overwriting or shadowing it. */
static int owner_free(lia_db *db, const lia_taxii_collection *c, json_t *o, int64_t owner, lia_error *err)
{
    json_t *id = json_is_object(o) ? json_object_get(o, "id") : NULL;
    lia_stmt *st;
    int rc;
    if (!json_is_string(id))
        return LIA_OK; /* put_object says what is wrong */
    if ((rc = lia__db_prepare(db, "TAXII: finding an object's owner",
                              "SELECT 1 FROM taxii_objects WHERE coll = ?1 AND id = ?2 AND org_id <> ?3"
                              " AND deleted = 0 LIMIT 1",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, c->rowid);
    lia__db_bind_text(st, 2, json_string_value(id), -1);
    lia__db_bind_int64(st, 3, owner);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        rc = lia_error_set(err, LIA_EEXIST, "id", json_string_value(id), json_string_length(id),
                           "the object belongs to another organisation in this collection");
    lia__db_done(st);
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
    lia_db *db = lia__store_db(s);
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
    if ((rc = lia__db_begin(db, err)))
        goto out;
    json_array_foreach(objs, i, o)
    {
        objinfo oi;
        lia_error e;
        int added = 0, orc;
        lia_error_clear(&e);
        memset(&oi, 0, sizeof oi);
        /* each object in its own savepoint: a refused one leaves no trace */
        if ((orc = lia__db_begin(db, &e)) == LIA_OK) {
            if ((orc = owner_free(db, c, o, owner, &e)) ||
                (orc = put_object(db, c, o, defs, -1, owner, 0, &oi, &added, &e)))
                lia__db_rollback(db);
            else
                orc = lia__db_commit(db, &e);
        }
        if (orc == LIA_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s%s%s", added ? "added" : "already present",
                     oi.raised ? "; stored as TLP:RED: " : "", oi.raised ? oi.raised : "");
            status_entry(succ, oi.id, oi.version_text, msg);
            nok++;
        } else {
            char msg[LIA_ERR_REASON_MAX + LIA_ERR_FIELD_MAX + 8];
            json_t *jid = json_is_object(o) ? json_object_get(o, "id") : NULL;
            snprintf(msg, sizeof msg, "%s%s%s", e.field, e.field[0] ? ": " : "", e.reason);
            status_entry(fail, json_is_string(jid) ? json_string_value(jid) : "", NULL, msg);
            nfail++;
        }
    }
    lia__fault_point("serve-mid-request"); /* objects written, not committed */
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
        rc = lia__db_commit(db, err);
    else
        lia__db_rollback(db);
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

static int seed_collection(lia_db *db, lia_store *s, const char *root, json_t *jc, lia_taxii_seed_stats *stt,
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
    lia_db *db = lia__store_db(s);
    json_error_t je;
    json_t *root = NULL, *v;
    const char *key;
    int rc;
    memset(st, 0, sizeof *st);
    if ((rc = lia_taxii_init(s, err)))
        return rc;
    root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "seed file: %s (line %d)",
                           root ? "top level is not an object" : je.text, je.line);
        goto out;
    }
    if ((rc = lia__db_begin(db, err)))
        goto out;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "/discovery") == 0) {
            const char *def = lia__json_str(v, "default", NULL);
            char defroot[LIA_TAXII_MAX_ID] = "";
            lia_stmt *q;
            if (def) { /* keep only the last path segment: http://h/root/ -> root */
                size_t l = strlen(def);
                while (l && def[l - 1] == '/')
                    l--;
                size_t b = l;
                while (b && def[b - 1] != '/')
                    b--;
                snprintf(defroot, sizeof defroot, "%.*s", (int)(l - b), def + b);
            }
            if ((rc = lia__db_prepare(
                     db, "TAXII: storing the discovery resource",
                     "INSERT INTO taxii_discovery(id, title, description, contact, default_root)"
                     " VALUES(1, ?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET"
                     " title = excluded.title, description = excluded.description,"
                     " contact = excluded.contact, default_root = excluded.default_root",
                     &q, err)) == LIA_OK) {
                const char *title = lia__json_str(v, "title", NULL);
                lia__db_bind_text(q, 1, title ? title : "TAXII", -1);
                lia__db_bind_text(q, 2, lia__json_str(v, "description", NULL), -1);
                lia__db_bind_text(q, 3, lia__json_str(v, "contact", NULL), -1);
                lia__db_bind_text(q, 4, defroot, -1);
                rc = lia__db_run(q, err);
                lia__db_done(q);
            }
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
        rc = lia__db_commit(db, err);
    else
        lia__db_rollback(db);
out:
    json_decref(root);
    return rc;
}
