/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Advisories in the store: the tables advisory and advisory_setting, through
 * the database layer (store/db.h). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advisory/internal.h"
#include "core/clock.h"
#include "liaison/field.h"
#include "liaison/incident.h"
#include "store/db.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS advisory ("
     " id INTEGER PRIMARY KEY,"
     " tracking_id TEXT NOT NULL UNIQUE,"
     " title TEXT NOT NULL,"
     " category TEXT NOT NULL,"
     " tlp INTEGER NOT NULL,"
     " fields TEXT,"                        /* the simple fields; NULL for a whole CSAF document */
     " draft TEXT NOT NULL,"                /* the document as last built or given */
     " changed INTEGER NOT NULL DEFAULT 1," /* edited since the last publication */
     " version INTEGER NOT NULL DEFAULT 0," /* the last published version */
     " revisions TEXT NOT NULL DEFAULT '[]',"
     " initial_us INTEGER NOT NULL DEFAULT 0,"
     " created_us INTEGER NOT NULL,"
     " published_us INTEGER NOT NULL DEFAULT 0,"
     " pub_tlp INTEGER, pub_year INTEGER, pub_file TEXT, pub_doc TEXT, pub_sha512 TEXT, pub_asc TEXT);"
     "CREATE TABLE IF NOT EXISTS advisory_setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
     NULL, NULL},
};
static const lia_schema schema = {"advisory", 1, migrations, NULL, .pg = 1};

int lia__advisory_schema(lia_store *s, lia_error *err)
{
    return lia__db_schema(lia__store_db(s), &schema, err);
}

/* ---- settings ---- */

static const char *const settings[] = {
    "publisher_name", "publisher_namespace", "publisher_category", "contact",
    "base_url",       "id_prefix",           "sign_key",           "gnupg_home"};

static int setting_put(lia_db *db, const char *name, const char *value, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if (!value) {
        if ((rc = lia__db_prepare(db, "advisory: removing a setting",
                                  "DELETE FROM advisory_setting WHERE name=?", &st, err)))
            return rc;
        lia__db_bind_text(st, 1, name, -1);
    } else {
        if ((rc = lia__db_prepare(db, "advisory: a setting",
                                  "INSERT INTO advisory_setting(name, value) VALUES (?, ?)"
                                  " ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                                  &st, err)))
            return rc;
        lia__db_bind_text(st, 1, name, -1);
        lia__db_bind_text(st, 2, value, -1);
    }
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_advisory_setting_set(lia_store *s, const char *name, const char *value, lia_error *err)
{
    int ok = 0, rc;
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        ok |= strcmp(settings[i], name) == 0;
    if (!ok)
        return lia_error_set(err, LIA_EINVAL, name, NULL, 0,
                             "not a setting (publisher_name publisher_namespace publisher_category contact "
                             "base_url id_prefix sign_key gnupg_home)");
    if (value && !*value)
        value = NULL;
    if (value && (strcmp(name, "publisher_namespace") == 0 || strcmp(name, "base_url") == 0) &&
        strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
        return lia_error_set(err, LIA_EINVAL, name, value, strlen(value), "an http(s) URL");
    if (value && strcmp(name, "base_url") == 0 && value[strlen(value) - 1] == '/')
        return lia_error_set(err, LIA_EINVAL, name, value, strlen(value), "without a trailing '/'");
    if (value && strcmp(name, "publisher_category") == 0) {
        static const char *const pcs[] = {"coordinator", "discoverer", "other",
                                          "translator",  "user",       "vendor"};
        ok = 0;
        for (size_t i = 0; i < sizeof pcs / sizeof *pcs; i++)
            ok |= strcmp(pcs[i], value) == 0;
        if (!ok)
            return lia_error_set(err, LIA_EINVAL, name, value, strlen(value),
                                 "coordinator, discoverer, other, translator, user or vendor");
    }
    if ((rc = lia__advisory_schema(s, err)))
        return rc;
    return setting_put(lia__store_db(s), name, value, err);
}

int lia_advisory_setting_get(lia_store *s, const char *name, lia_buf *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__advisory_schema(s, err)) ||
        (rc = lia__db_prepare(lia__store_db(s), "advisory: reading a setting",
                              "SELECT value FROM advisory_setting WHERE name=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_buf_puts(out, lia__db_col_text(st, 0));
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE)
        rc = LIA_ENOTFOUND;
    lia__db_done(st);
    return rc;
}

/* The settings a document needs, copied into one buffer. */
typedef struct prov {
    lia_buf b;
    size_t off[sizeof settings / sizeof *settings];
    int has[sizeof settings / sizeof *settings];
} prov;

static int prov_load(lia_store *s, prov *p, lia_error *err)
{
    lia_buf_init(&p->b, 64 * 1024);
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++) {
        size_t at = p->b.len;
        int rc = lia_advisory_setting_get(s, settings[i], &p->b, err);
        if (rc && rc != LIA_ENOTFOUND)
            return rc;
        p->has[i] = rc == LIA_OK;
        lia_buf_putc(&p->b, '\0');
        p->off[i] = at;
    }
    return LIA_OK;
}

static const char *prov_get(const prov *p, const char *name)
{
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (strcmp(settings[i], name) == 0)
            return p->has[i] ? p->b.ptr + p->off[i] : NULL;
    return NULL;
}

static lia_csaf_publisher prov_publisher(const prov *p)
{
    lia_csaf_publisher pub = {prov_get(p, "publisher_name"), prov_get(p, "publisher_namespace"),
                              prov_get(p, "publisher_category"), prov_get(p, "contact")};
    return pub;
}

/* ---- create, edit ---- */

/* The fields of a stored text ("key: value" lines) into f (pointing into text). */
static int fields_of(char *text, lia_advisory_field **f, size_t *n, lia_error *err)
{
    *f = calloc(LIA_ADVISORY_MAX_FIELDS, sizeof **f);
    if (!*f)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return lia_advisory_fields_parse(text, *f, LIA_ADVISORY_MAX_FIELDS, n, err);
}

static void fields_text(lia_buf *out, const lia_advisory_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lia_buf_printf(out, "%s: ", f[i].key);
        for (const char *v = f[i].value; *v; v++)
            lia_buf_putc(out, *v == '\n' || *v == '\r' ? ' ' : *v);
        lia_buf_putc(out, '\n');
    }
}

/* What the advisory table keeps of a checked document. */
typedef struct meta {
    char id[LIA_ADVISORY_ID_MAX];
    char title[1024], category[64];
    int tlp;
} meta;

static int doc_meta(const char *doc, size_t len, meta *m, lia_error *err)
{
    json_t *o = json_loadb(doc, len, 0, NULL), *d = json_object_get(o, "document");
    const char *id = json_string_value(json_object_get(json_object_get(d, "tracking"), "id")),
               *t = json_string_value(json_object_get(d, "title")),
               *c = json_string_value(json_object_get(d, "category")),
               *l = json_string_value(
                   json_object_get(json_object_get(json_object_get(d, "distribution"), "tlp"), "label"));
    int rc = LIA_OK;
    if (!id || !*id || strlen(id) >= sizeof m->id)
        rc = lia_error_set(err, LIA_EINVAL, "/document/tracking/id", NULL, 0,
                           "a tracking id of 1 to 127 bytes");
    else {
        snprintf(m->id, sizeof m->id, "%s", id);
        snprintf(m->title, sizeof m->title, "%s", t ? t : "");
        snprintf(m->category, sizeof m->category, "%s", c ? c : "");
        m->tlp = lia_csaf_tlp_parse(l);
    }
    json_decref(o);
    return rc;
}

/* Build (fields) or take (csaf) a document and check it. */
static int make_doc(lia_store *s, const lia_advisory_field *f, size_t n, const char *csaf, size_t csaf_len,
                    lia_csaf_problem_cb cb, void *ud, lia_buf *doc, meta *m, lia_error *err)
{
    prov p;
    int rc;
    size_t np = 0;
    if ((rc = prov_load(s, &p, err)))
        goto out;
    if (csaf) {
        if (csaf_len > LIA_ADVISORY_MAX_DOC) {
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the document is larger than %u bytes",
                               LIA_ADVISORY_MAX_DOC);
            goto out;
        }
        lia_buf_append(doc, csaf, csaf_len);
    } else {
        lia_csaf_publisher pub = prov_publisher(&p);
        if (!pub.name || !pub.namespace_url) {
            rc = lia_error_set(
                err, LIA_EINVAL, "publisher", NULL, 0,
                "no publisher: set publisher_name and publisher_namespace first (liaison advisory "
                "provider publisher_name=... publisher_namespace=https://...)");
            goto out;
        }
        if ((rc = lia_advisory_build(f, n, &pub, lia__now_us(), doc, err)))
            goto out;
    }
    if ((rc = lia_csaf_check(lia_buf_cstr(doc), doc->len, cb, ud, &np, err)))
        goto out;
    if (np) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "the document has %zu problem%s", np,
                           np > 1 ? "s" : "");
        goto out;
    }
    if ((rc = doc_meta(lia_buf_cstr(doc), doc->len, m, err)))
        goto out;
    if (m->tlp < 0)
        rc = lia_error_set(err, LIA_EINVAL, "/document/distribution/tlp/label", NULL, 0, "required");
out:
    lia_buf_free(&p.b);
    return rc;
}

static int next_id(lia_store *s, char out[LIA_ADVISORY_ID_MAX], lia_error *err)
{
    lia_buf pre;
    lia_stmt *st;
    int rc;
    int64_t n = 0;
    time_t now = (time_t)(lia__now_us() / 1000000);
    struct tm tm;
    gmtime_r(&now, &tm);
    lia_buf_init(&pre, 256);
    rc = lia_advisory_setting_get(s, "id_prefix", &pre, err);
    if (rc == LIA_ENOTFOUND)
        lia_buf_puts(&pre, "LIA"), rc = LIA_OK;
    if (!rc && !(rc = lia__db_prepare(lia__store_db(s), "advisory: the next number",
                                      "SELECT COALESCE(MAX(id), 0) FROM advisory", &st, err))) {
        if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
            n = lia__db_col_int64(st, 0), rc = LIA_OK;
        lia__db_done(st);
    }
    if (!rc)
        snprintf(out, LIA_ADVISORY_ID_MAX, "%s-%04d-%04lld", lia_buf_cstr(&pre), tm.tm_year + 1900,
                 (long long)n + 1);
    lia_buf_free(&pre);
    return rc;
}

int lia_advisory_create(lia_store *s, const lia_advisory_field *f, size_t n, const char *csaf,
                        size_t csaf_len, lia_csaf_problem_cb cb, void *ud, char id_out[LIA_ADVISORY_ID_MAX],
                        lia_error *err)
{
    lia_buf doc, ftext;
    lia_advisory_field *all = NULL;
    char id[LIA_ADVISORY_ID_MAX];
    meta m;
    lia_stmt *st;
    int rc;
    lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
    lia_buf_init(&ftext, LIA_ADVISORY_MAX_DOC);
    if ((rc = lia__advisory_schema(s, err)))
        goto out;
    if (!csaf) {
        if (n + 1 > LIA_ADVISORY_MAX_FIELDS) {
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d fields",
                               LIA_ADVISORY_MAX_FIELDS - 1);
            goto out;
        }
        /* the id given, else the next PREFIX-YEAR-NNNN, first so that a given one replaces it */
        if ((rc = next_id(s, id, err)))
            goto out;
        if (!(all = calloc(n + 1, sizeof *all))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        all[0].key = "id";
        all[0].value = id;
        memcpy(all + 1, f, n * sizeof *f);
        fields_text(&ftext, all, n + 1);
    }
    if ((rc = make_doc(s, all, n + 1, csaf, csaf_len, cb, ud, &doc, &m, err))) {
        if (!csaf && err && err->line > 1)
            err->line--; /* the caller's numbering, without the id put first */
        goto out;
    }
    if (ftext.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the fields are too large");
        goto out;
    }
    if ((rc = lia__db_prepare(
             lia__store_db(s), "advisory: adding an advisory",
             "INSERT INTO advisory(tracking_id, title, category, tlp, fields, draft, created_us)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)",
             &st, err)))
        goto out;
    lia__db_bind_text(st, 1, m.id, -1);
    lia__db_bind_text(st, 2, m.title, -1);
    lia__db_bind_text(st, 3, m.category, -1);
    lia__db_bind_int64(st, 4, m.tlp);
    if (csaf)
        lia__db_bind_null(st, 5);
    else
        lia__db_bind_text(st, 5, lia_buf_cstr(&ftext), (ptrdiff_t)ftext.len);
    lia__db_bind_text(st, 6, lia_buf_cstr(&doc), (ptrdiff_t)doc.len);
    lia__db_bind_int64(st, 7, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_EEXIST)
        lia_error_set(err, LIA_EEXIST, "id", m.id, strlen(m.id), "an advisory with this tracking id exists");
    if (!rc)
        snprintf(id_out, LIA_ADVISORY_ID_MAX, "%s", m.id);
out:
    free(all);
    lia_buf_free(&doc);
    lia_buf_free(&ftext);
    return rc;
}

/* The stored fields of advisory id (NULL column: *has = 0) appended to out. */
static int load_fields(lia_store *s, const char *id, lia_buf *out, int *has, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "advisory: reading its fields",
                              "SELECT fields FROM advisory WHERE tracking_id=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, id, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        *has = !lia__db_col_null(st, 0);
        if (*has)
            lia_buf_append(out, lia__db_col_text(st, 0), lia__db_col_bytes(st, 0));
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE)
        rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "no such advisory");
    lia__db_done(st);
    return rc;
}

int lia_advisory_edit(lia_store *s, const char *id, const lia_advisory_field *f, size_t n, const char *csaf,
                      size_t csaf_len, lia_csaf_problem_cb cb, void *ud, lia_error *err)
{
    lia_buf doc, ftext;
    lia_advisory_field *all = NULL;
    size_t na = 0;
    int has = 0, rc;
    meta m;
    lia_stmt *st;
    lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
    lia_buf_init(&ftext, LIA_ADVISORY_MAX_DOC);
    if ((rc = lia__advisory_schema(s, err)) || (rc = load_fields(s, id, &ftext, &has, err)))
        goto out;
    if (!csaf) {
        if (!has) {
            rc = lia_error_set(
                err, LIA_EINVAL, "id", id, strlen(id),
                "this advisory was given as a whole CSAF document: edit it with --file DOC.json");
            goto out;
        }
        fields_text(&ftext, f, n);
        /* the tracking id stays */
        lia_buf_printf(&ftext, "id: %s\n", id);
        if (ftext.err) {
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the fields are too large");
            goto out;
        }
        char *copy = strdup(lia_buf_cstr(&ftext));
        if (!copy) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        if ((rc = fields_of(copy, &all, &na, err)) == LIA_OK)
            rc = make_doc(s, all, na, NULL, 0, cb, ud, &doc, &m, err);
        free(copy);
        if (rc)
            goto out;
    } else if ((rc = make_doc(s, NULL, 0, csaf, csaf_len, cb, ud, &doc, &m, err)))
        goto out;
    if (strcmp(m.id, id) != 0) {
        rc = lia_error_set(err, LIA_EINVAL, "/document/tracking/id", m.id, strlen(m.id),
                           "the tracking id of an advisory does not change (it is %s)", id);
        goto out;
    }
    if ((rc = lia__db_prepare(lia__store_db(s), "advisory: editing an advisory",
                              "UPDATE advisory SET title=?, category=?, tlp=?, fields=?, draft=?, changed=1"
                              " WHERE tracking_id=?",
                              &st, err)))
        goto out;
    lia__db_bind_text(st, 1, m.title, -1);
    lia__db_bind_text(st, 2, m.category, -1);
    lia__db_bind_int64(st, 3, m.tlp);
    if (csaf)
        lia__db_bind_null(st, 4);
    else
        lia__db_bind_text(st, 4, lia_buf_cstr(&ftext), (ptrdiff_t)ftext.len);
    lia__db_bind_text(st, 5, lia_buf_cstr(&doc), (ptrdiff_t)doc.len);
    lia__db_bind_text(st, 6, id, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
out:
    free(all);
    lia_buf_free(&doc);
    lia_buf_free(&ftext);
    return rc;
}

int lia_advisory_fields_from_incident(lia_store *s, int64_t incident, int tlp_override, lia_buf *out,
                                      lia_error *err)
{
    lia_incident inc;
    lia_buf hold, base;
    int rc, tlp = tlp_override;
    const char *why;
    lia_buf_init(&hold, 0);
    lia_buf_init(&base, 4096);
    if ((rc = lia_incident_get(s, incident, &inc, &hold, err)))
        goto out;
    if (tlp < 0 &&
        lia_parse_tlp(inc.tlp ? inc.tlp : "AMBER", strlen(inc.tlp ? inc.tlp : "AMBER"), &tlp, &why)) {
        rc = lia_error_set(err, LIA_EINVAL, "tlp", inc.tlp, strlen(inc.tlp), "the incident's TLP: %s", why);
        goto out;
    }
    if (!lia_csaf_tlp_label(tlp, &why)) {
        rc = lia_error_set(err, LIA_EINVAL, "tlp", lia_tlp_name(tlp), strlen(lia_tlp_name(tlp)),
                           "incident %lld: %s (give --tlp)", (long long)incident, why);
        goto out;
    }
    lia_buf_printf(out, "category: incident\ntitle: %s\ntlp: %s\n", inc.title, lia_tlp_name(tlp));
    lia_buf_printf(out, "summary: %s\n", inc.description && *inc.description ? inc.description : inc.title);
    if (inc.sectors && *inc.sectors)
        lia_buf_printf(out, "sectors: %s\n", inc.sectors);
    if (inc.countries && *inc.countries)
        lia_buf_printf(out, "countries: %s\n", inc.countries);
    if ((rc = lia_advisory_setting_get(s, "base_url", &base, err)) == LIA_OK)
        lia_buf_printf(out,
                       "reference: %s/api/v1/incidents/%lld Incident %lld in the CERT's incident tracker\n",
                       lia_buf_cstr(&base), (long long)incident, (long long)incident);
    else if (rc == LIA_ENOTFOUND)
        rc = LIA_OK;
    /* one line per field: a description's line breaks become spaces */
    for (size_t i = 0; i < out->len; i++)
        if (out->ptr[i] == '\r')
            out->ptr[i] = ' ';
    if (out->err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the incident's text is too large");
out:
    lia_buf_free(&hold);
    lia_buf_free(&base);
    return rc;
}

/* ---- list, get ---- */

#define INFO_COLS                                                                                            \
    "tracking_id, title, category, tlp, version, changed, created_us, published_us,"                         \
    " CASE WHEN published_us > 0 THEN pub_file ELSE '' END"

static void info_of(lia_stmt *st, lia_advisory_info *a)
{
    a->id = lia__db_col_text(st, 0);
    a->title = lia__db_col_text(st, 1);
    a->category = lia__db_col_text(st, 2);
    a->tlp = (int)lia__db_col_int64(st, 3);
    a->version = (int)lia__db_col_int64(st, 4);
    a->changed = (int)lia__db_col_int64(st, 5);
    a->created_us = lia__db_col_int64(st, 6);
    a->published_us = lia__db_col_int64(st, 7);
    a->path = lia__db_col_text(st, 8) ? lia__db_col_text(st, 8) : "";
    a->signature = NULL;
}

int lia_advisory_list(lia_store *s, lia_advisory_cb cb, void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__advisory_schema(s, err)) ||
        (rc = lia__db_prepare(lia__store_db(s), "advisory: listing",
                              "SELECT " INFO_COLS " FROM advisory ORDER BY id DESC", &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_advisory_info a;
        info_of(st, &a);
        if ((rc = cb(ud, &a)))
            break;
    }
    lia__db_done(st);
    return rc;
}

int lia_advisory_get(lia_store *s, const char *id, int published, lia_advisory_cb cb, void *ud, lia_buf *doc,
                     lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__advisory_schema(s, err)) ||
        (rc = lia__db_prepare(
             lia__store_db(s), "advisory: reading one",
             "SELECT " INFO_COLS ", draft, pub_doc, pub_asc FROM advisory WHERE tracking_id=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, id, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_advisory_info a;
        info_of(st, &a);
        if (published)
            a.signature = lia__db_col_text(st, 11);
        rc = LIA_OK;
        if (published && !a.published_us)
            rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "not published yet");
        else if (doc)
            lia_buf_append(doc, lia__db_col_text(st, published ? 10 : 9),
                           lia__db_col_bytes(st, published ? 10 : 9));
        if (!rc && cb)
            rc = cb(ud, &a);
    } else if (rc == LIA_DB_DONE)
        rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "no such advisory");
    lia__db_done(st);
    return rc;
}

/* ---- publish ---- */

int lia_advisory_publish(lia_store *s, const char *id, const char *sign_key, const char *gnupg_home,
                         const char *change, int64_t now_us, lia_csaf_problem_cb cb, void *ud, int *version,
                         lia_error *err)
{
    lia_buf draft, out, sig, pubkey, ftext;
    lia_advisory_field *f = NULL;
    json_t *doc = NULL, *revs = NULL;
    prov p;
    lia_stmt *st;
    int rc, has_fields = 0, ver = 0, changed = 0;
    int64_t initial = 0;
    char now[32], initial_s[32], file[LIA_ADVISORY_ID_MAX + 8], fpr[64], sha_hex[129];
    unsigned char sha[crypto_hash_sha512_BYTES];
    meta m;
    size_t np = 0, nf = 0;
    lia_buf_init(&draft, LIA_ADVISORY_MAX_DOC);
    lia_buf_init(&out, LIA_ADVISORY_MAX_DOC);
    lia_buf_init(&sig, 64 * 1024);
    lia_buf_init(&pubkey, 256 * 1024);
    lia_buf_init(&ftext, LIA_ADVISORY_MAX_DOC);
    memset(&p, 0, sizeof p);
    lia_buf_init(&p.b, 0);
    if ((rc = lia__advisory_schema(s, err)) || (rc = prov_load(s, &p, err)))
        goto out;
    if ((rc = lia__db_prepare(lia__store_db(s), "advisory: reading one to publish",
                              "SELECT draft, fields, version, revisions, initial_us, changed FROM advisory"
                              " WHERE tracking_id=?",
                              &st, err)))
        goto out;
    lia__db_bind_text(st, 1, id, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_buf_append(&draft, lia__db_col_text(st, 0), lia__db_col_bytes(st, 0));
        if ((has_fields = !lia__db_col_null(st, 1)))
            lia_buf_append(&ftext, lia__db_col_text(st, 1), lia__db_col_bytes(st, 1));
        ver = (int)lia__db_col_int64(st, 2);
        revs = json_loads(lia__db_col_text(st, 3), 0, NULL);
        initial = lia__db_col_int64(st, 4);
        changed = (int)lia__db_col_int64(st, 5);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE)
        rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "no such advisory");
    lia__db_done(st);
    if (rc)
        goto out;
    if (!changed && ver > 0) {
        rc = lia_error_set(err, LIA_ESTATE, "id", id, strlen(id),
                           "unchanged since version %d was published: nothing to publish", ver);
        goto out;
    }
    if (has_fields) {
        /* rebuilt, so the publisher's settings of today are in it */
        lia_csaf_publisher pub = prov_publisher(&p);
        if ((rc = fields_of(ftext.ptr, &f, &nf, err)))
            goto out;
        lia_buf_reset(&draft);
        if ((rc = lia_advisory_build(f, nf, &pub, now_us, &draft, err)))
            goto out;
    }
    if (!(doc = json_loadb(draft.ptr, draft.len, 0, NULL)) || !json_is_array(revs)) {
        rc = lia_error_set(err, LIA_ESTORE, "id", id, strlen(id), "the stored advisory is not readable");
        goto out;
    }
    if ((rc = doc_meta(draft.ptr, draft.len, &m, err)))
        goto out;
    if (!lia_csaf_tlp_folder(m.tlp)) {
        rc = lia_error_set(err, LIA_EINVAL, "/document/distribution/tlp/label", NULL, 0, "required");
        goto out;
    }
    lia__csaf_time(now_us, now, sizeof now);
    if (!initial)
        initial = now_us;
    lia__csaf_time(initial, initial_s, sizeof initial_s);
    ver++;
    char num[16];
    snprintf(num, sizeof num, "%d", ver);
    json_array_append_new(revs, json_pack("{s:s, s:s, s:s}", "date", now, "number", num, "summary",
                                          change && *change ? change
                                          : ver == 1        ? "Initial release"
                                                            : "Update"));
    json_t *d = json_object_get(doc, "document"), *t = json_object_get(d, "tracking");
    json_object_set_new(t, "current_release_date", json_string(now));
    json_object_set_new(t, "initial_release_date", json_string(initial_s));
    json_object_set(t, "revision_history", revs);
    json_object_set_new(t, "status", json_string("final"));
    json_object_set_new(t, "version", json_string(num));
    if (json_object_get(t, "generator"))
        json_object_set_new(json_object_get(t, "generator"), "date", json_string(now));
    /* the self reference: where the provider serves this document */
    time_t it = (time_t)(initial / 1000000);
    struct tm tm;
    gmtime_r(&it, &tm);
    char rel[LIA_ADVISORY_ID_MAX + 40];
    lia_csaf_filename(m.id, file, sizeof file);
    snprintf(rel, sizeof rel, "%s/%d/%s", lia_csaf_tlp_folder(m.tlp), tm.tm_year + 1900, file);
    json_t *refs = json_object_get(d, "references");
    if (refs) {
        for (size_t i = json_array_size(refs); i-- > 0;) {
            const char *c = json_string_value(json_object_get(json_array_get(refs, i), "category"));
            if (c && strcmp(c, "self") == 0)
                json_array_remove(refs, i);
        }
    }
    const char *base = prov_get(&p, "base_url");
    if (base) {
        char url[2048];
        snprintf(url, sizeof url, "%s/.well-known/csaf/%s", base, rel);
        if (!refs) {
            refs = json_array();
            json_object_set_new(d, "references", refs);
        }
        json_array_append_new(
            refs, json_pack("{s:s, s:s, s:s}", "category", "self", "summary", "Canonical URL", "url", url));
    }
    if ((rc = lia__csaf_dump(doc, &out, err)) || (rc = lia_csaf_check(out.ptr, out.len, cb, ud, &np, err)))
        goto out;
    if (np) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "the document has %zu problem%s", np,
                           np > 1 ? "s" : "");
        goto out;
    }
    crypto_hash_sha512(sha, (const unsigned char *)out.ptr, out.len);
    sodium_bin2hex(sha_hex, sizeof sha_hex, sha, sizeof sha);
    if (!sign_key || !*sign_key)
        sign_key = prov_get(&p, "sign_key");
    if (!gnupg_home || !*gnupg_home)
        gnupg_home = prov_get(&p, "gnupg_home");
    if (!sign_key) {
        rc = lia_error_set(err, LIA_ECRYPTO, "sign_key", NULL, 0,
                           "no signing key: a trusted provider signs every document (advisory provider "
                           "sign_key=FPR, or --sign-key)");
        goto out;
    }
    if ((rc = lia__advisory_sign(gnupg_home, sign_key, out.ptr, out.len, &sig, &pubkey, fpr, err)))
        goto out;
    lia_db *db = lia__store_db(s);
    if ((rc = lia__db_begin(db, err)))
        goto out;
    char *rtext = json_dumps(revs, JSON_COMPACT);
    if (!rtext) {
        lia__db_rollback(db);
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if (!(rc = lia__db_prepare(
              db, "advisory: publishing",
              "UPDATE advisory SET changed=0, version=?, revisions=?, initial_us=?, published_us=?,"
              " pub_tlp=?, pub_year=?, pub_file=?, pub_doc=?, pub_sha512=?, pub_asc=?, draft=?,"
              " title=?, tlp=? WHERE tracking_id=?",
              &st, err))) {
        lia__db_bind_int64(st, 1, ver);
        lia__db_bind_text(st, 2, rtext, -1);
        lia__db_bind_int64(st, 3, initial);
        lia__db_bind_int64(st, 4, now_us);
        lia__db_bind_int64(st, 5, m.tlp);
        lia__db_bind_int64(st, 6, tm.tm_year + 1900);
        lia__db_bind_text(st, 7, rel, -1);
        lia__db_bind_text(st, 8, out.ptr, (ptrdiff_t)out.len);
        lia__db_bind_text(st, 9, sha_hex, -1);
        lia__db_bind_text(st, 10, lia_buf_cstr(&sig), (ptrdiff_t)sig.len);
        lia__db_bind_text(st, 11, draft.ptr, (ptrdiff_t)draft.len);
        lia__db_bind_text(st, 12, m.title, -1);
        lia__db_bind_int64(st, 13, m.tlp);
        lia__db_bind_text(st, 14, id, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    free(rtext);
    if (!rc && pubkey.len && !(rc = setting_put(db, "public_key", lia_buf_cstr(&pubkey), err)))
        rc = setting_put(db, "key_fpr", fpr, err);
    if (!rc)
        rc = lia__db_commit(db, err);
    else
        lia__db_rollback(db);
    if (!rc)
        *version = ver;
out:
    free(f);
    json_decref(doc);
    json_decref(revs);
    lia_buf_free(&p.b);
    lia_buf_free(&draft);
    lia_buf_free(&out);
    lia_buf_free(&sig);
    lia_buf_free(&pubkey);
    lia_buf_free(&ftext);
    return rc;
}

int lia__advisory_published(lia_store *s, int tlp, lia__csaf_pub_cb cb, void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__advisory_schema(s, err)) ||
        (rc = lia__db_prepare(
             lia__store_db(s), "advisory: the published documents",
             "SELECT tracking_id, title, pub_file, pub_doc, pub_sha512, pub_asc, pub_tlp, pub_year,"
             " initial_us, published_us FROM advisory WHERE published_us > 0 AND (?1 < 0 OR pub_tlp = ?1)"
             " ORDER BY published_us DESC, id DESC",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, tlp);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia__csaf_pub p = {lia__db_col_text(st, 0),       lia__db_col_text(st, 1),
                           lia__db_col_text(st, 2),       lia__db_col_text(st, 3),
                           lia__db_col_text(st, 4),       lia__db_col_text(st, 5),
                           (int)lia__db_col_int64(st, 6), (int)lia__db_col_int64(st, 7),
                           lia__db_col_int64(st, 8),      lia__db_col_int64(st, 9)};
        if ((rc = cb(ud, &p)))
            break;
    }
    lia__db_done(st);
    return rc;
}
