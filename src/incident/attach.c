/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Attachments of an incident (liaison/incident.h): bounded, hashed with
 * SHA-256 on the way in, checked against the hash on every read, audit-
 * logged without their bytes. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/field_internal.h"
#include "incident/internal.h"

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static int name_ok(const char *name, lia_error *err)
{
    size_t n = name ? strlen(name) : 0;
    const char *why = NULL;
    if (n == 0 || n > 255)
        why = "a file name of 1 to 255 bytes";
    else if (!lia__utf8_valid(name, n))
        why = "not UTF-8";
    else if (!strcmp(name, ".") || !strcmp(name, ".."))
        why = "not a file name";
    for (size_t i = 0; !why && i < n; i++)
        if (name[i] == '/' || name[i] == '\\' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            why = "a file name without '/', '\\' or control characters";
    return why ? lia_error_set(err, LIA_EINVAL, "name", name, n, "%s", why) : LIA_OK;
}

/* One restricted-name of RFC 6838: 1 to 63 characters, the first a letter
 * or digit. */
static int restricted_name(const char *p, size_t n)
{
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("!#$&-^_.+", c)))
            return 0;
    }
    return 1;
}

/* type/subtype (RFC 6838). */
static int media_type_ok(const char *t, lia_error *err)
{
    const char *slash = strchr(t, '/');
    size_t n = strlen(t);
    if (!slash || !restricted_name(t, (size_t)(slash - t)) ||
        !restricted_name(slash + 1, n - (size_t)(slash - t) - 1))
        return lia_error_set(err, LIA_EINVAL, "media_type", t, n,
                             "a media type type/subtype (application/pdf, image/png)");
    return LIA_OK;
}

static void read_row(lia_stmt *st, lia_attachment *a)
{
    memset(a, 0, sizeof *a);
    a->id = lia__db_col_int64(st, 0);
    a->incident = lia__db_col_int64(st, 1);
    a->at_us = lia__db_col_int64(st, 2);
    a->author = lia__db_col_text(st, 3);
    a->visibility = lia__db_col_text(st, 4);
    a->name = lia__db_col_text(st, 5);
    a->media_type = lia__db_col_text(st, 6);
    a->size = (uint64_t)lia__db_col_int64(st, 7);
    snprintf(a->sha256, sizeof a->sha256, "%s", lia__db_col_text(st, 8));
}

#define ATT_COLS "id, incident_id, at, author, visibility, name, media_type, size, sha256"

int lia_incident_attach(lia_store *s, int64_t incident, const char *name, const char *media_type,
                        const void *data, size_t len, const char *visibility, const lia_actor *who,
                        int64_t *id, int *existed, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    lia_buf after;
    char hex[65], object[64];
    int64_t aid = 0, count = 0;
    int rc, old = 0;
    if (!visibility)
        visibility = "internal";
    if (!media_type)
        media_type = "application/octet-stream";
    if ((rc = name_ok(name, err)) || (rc = media_type_ok(media_type, err)) ||
        (rc = lia__incident_visibility_ok(visibility, err)))
        return rc;
    if (len > LIA_INCIDENT_ATTACHMENT_MAX)
        return lia_error_set(err, LIA_ELIMIT, "attachment", name, strlen(name),
                             "%zu bytes: an attachment is at most %u bytes (10 MiB)", len,
                             LIA_INCIDENT_ATTACHMENT_MAX);
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "libsodium cannot start");
    sha256_hex(data ? data : "", len, hex);
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 4096);
    if ((rc = lia__incident_exists(db, incident, err)) <= 0) {
        if (rc == 0)
            rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld",
                               (long long)incident);
        goto out;
    }
    rc = LIA_OK;
    if ((rc = lia__db_prepare(
             db, "incident: attachments of an incident by hash",
             "SELECT id, (SELECT count(*) FROM incident_attachment WHERE incident_id = ?1)"
             " FROM (SELECT 1) AS one LEFT JOIN incident_attachment ON incident_id = ?1 AND sha256 = ?2",
             &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_text(st, 2, hex, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        aid = lia__db_col_null(st, 0) ? 0 : lia__db_col_int64(st, 0);
        count = lia__db_col_int64(st, 1);
        rc = LIA_OK;
    }
    lia__db_done(st);
    if (rc)
        goto out;
    if (aid) { /* the same bytes: the attachment they already are */
        old = 1;
        goto out;
    }
    if (count >= LIA_INCIDENT_ATTACHMENTS) {
        rc = lia_error_set(err, LIA_ELIMIT, "attachment", name, strlen(name),
                           "incident %lld has %d attachments, the most it may have", (long long)incident,
                           LIA_INCIDENT_ATTACHMENTS);
        goto out;
    }
    if ((rc = lia__db_prepare(db, "incident: adding an attachment",
                              "INSERT INTO incident_attachment(incident_id, at, author, visibility, name,"
                              " media_type, size, sha256, body) VALUES(?,?,?,?,?,?,?,?,?)",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_int64(st, 2, lia__now_us());
    lia__db_bind_text(st, 3, who && who->who ? who->who : "unknown", -1);
    lia__db_bind_text(st, 4, visibility, -1);
    lia__db_bind_text(st, 5, name, -1);
    lia__db_bind_text(st, 6, media_type, -1);
    lia__db_bind_int64(st, 7, (int64_t)len);
    lia__db_bind_text(st, 8, hex, -1);
    lia__db_bind_blob(st, 9, data ? data : "", len);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    aid = lia__db_last_id(db);
    lia_buf_printf(&after, "{\"attachment\":%lld,\"name\":", (long long)aid);
    lia_buf_json_str(&after, name, strlen(name));
    lia_buf_puts(&after, ",\"media_type\":");
    lia_buf_json_str(&after, media_type, strlen(media_type));
    lia_buf_printf(&after, ",\"size\":%zu,\"sha256\":\"%s\",\"visibility\":", len, hex);
    lia_buf_json_str(&after, visibility, strlen(visibility));
    lia_buf_putc(&after, '}');
    snprintf(object, sizeof object, "incident:%lld", (long long)incident);
    rc = lia__incident_audit(db, who, object, "attach", NULL, lia_buf_cstr(&after), err);
out:
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (id)
        *id = aid;
    if (existed)
        *existed = old;
    return LIA_OK;
}

int lia_incident_attachments(lia_store *s, int64_t incident, lia_attachment_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)) ||
        (rc = lia__db_prepare(
             db, "incident: reading attachments",
             "SELECT " ATT_COLS " FROM incident_attachment WHERE incident_id = ? ORDER BY id", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_attachment a;
        read_row(st, &a);
        if (cb(ud, &a))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_incident_attachment_get(lia_store *s, int64_t incident, int64_t id, lia_attachment_cb cb, void *ud,
                                lia_buf *body, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    lia_attachment a;
    const void *p;
    size_t n = 0;
    char hex[65];
    int rc;
    if ((rc = lia__incident_schema(db, err)) ||
        (rc = lia__db_prepare(db, "incident: reading an attachment",
                              "SELECT " ATT_COLS
                              ", body FROM incident_attachment WHERE incident_id = ? AND id = ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_int64(st, 2, id);
    if ((rc = lia__db_step(st, err)) != LIA_DB_ROW) {
        lia__db_done(st);
        if (rc < 0)
            return rc;
        return lia_error_set(err, LIA_ENOTFOUND, "attachment", NULL, 0,
                             "incident %lld has no attachment %lld", (long long)incident, (long long)id);
    }
    read_row(st, &a);
    p = lia__db_col_blob(st, 9, &n);
    sha256_hex(p ? p : "", n, hex);
    if (n != a.size || strcmp(hex, a.sha256) != 0) {
        rc = lia_error_set(
            err, LIA_ESTORE, "attachment", a.name, strlen(a.name),
            "attachment %lld of incident %lld: its %zu stored bytes (SHA-256 %s) are not the %llu "
            "attached (SHA-256 %s): the store was changed",
            (long long)id, (long long)incident, n, hex, (unsigned long long)a.size, a.sha256);
        lia__db_done(st);
        return rc;
    }
    if ((rc = cb ? cb(ud, &a) : 0) == 0 && body) {
        lia_buf_append(body, p ? p : "", n);
        if (body->err)
            rc = lia_error_set(err, LIA_ENOMEM, "attachment", NULL, 0, "out of memory");
    }
    lia__db_done(st);
    return rc;
}
