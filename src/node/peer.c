/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Peers (partners that run Liaison), the threads of messages per incident
 * and the outbox: the one schema, and what `liaison node add|list|status`
 * reads. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "incident/internal.h"
#include "liaison/route.h"
#include "node/internal.h"
#include "incident/drill.h"

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS node_peer("
            "  name TEXT PRIMARY KEY," /* the partner id */
            "  url TEXT NOT NULL,"
            "  token TEXT NOT NULL," /* the key the peer issued to us */
            "  vkey TEXT,"           /* its checkpoint verifier key */
            "  added INTEGER NOT NULL,"
            "  last_ok INTEGER,"
            "  last_error TEXT,"
            "  their_note TEXT," /* its latest checkpoint we verified (as it signed it) */
            "  their_size INTEGER,"
            "  their_root BLOB,"
            "  their_cosigned TEXT," /* the same with our cosignature */
            "  cosigned_note TEXT,"  /* our checkpoint as it cosigned it */
            "  cosigned_size INTEGER,"
            "  shown_size INTEGER);" /* the size of our checkpoint it took last */
            /* one per incident and peer: the messages' numbers both ways */
            "CREATE TABLE IF NOT EXISTS node_thread("
            "  peer TEXT NOT NULL,"
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  origin INTEGER NOT NULL,"     /* LIA__NODE_WE_OFFERED / THEY_OFFERED */
            "  remote INTEGER,"              /* the peer's incident id, once known */
            "  out_next INTEGER NOT NULL,"   /* the seq our next message gets */
            "  in_last INTEGER NOT NULL,"    /* the last seq of theirs applied */
            "  reported INTEGER NOT NULL,"   /* they offered: last answer queued; we offered: 1 withdrawn */
            "  comment_hw INTEGER NOT NULL," /* the last comment id considered for sending */
            "  PRIMARY KEY(peer, incident_id));"
            "CREATE INDEX IF NOT EXISTS node_thread_remote ON node_thread(peer, origin, remote);"
            "CREATE TABLE IF NOT EXISTS node_outbox("
            "  id INTEGER PRIMARY KEY,"
            "  peer TEXT NOT NULL,"
            "  incident_id INTEGER NOT NULL,"
            "  seq INTEGER NOT NULL,"
            "  type TEXT NOT NULL,"
            "  body TEXT NOT NULL,"
            "  created INTEGER NOT NULL,"
            "  attempts INTEGER NOT NULL DEFAULT 0,"
            "  next_try INTEGER NOT NULL,"
            "  sent INTEGER,"
            "  error TEXT);"
            "CREATE INDEX IF NOT EXISTS node_outbox_due ON node_outbox(peer, sent, id);"},
};

static const lia_schema node_schema = {"node", 1, migrations, NULL, .pg = 1};

int lia__node_schema(lia_db *db, lia_error *err)
{
    int rc = lia__incident_schema(db, err);
    return rc ? rc : lia__db_schema(db, &node_schema, err);
}

int lia__node_audit(lia_db *db, const char *peer, const char *who, const char *address, const char *action,
                    const char *after, lia_error *err)
{
    char object[80];
    lia_audit_record r = {.actor = who,
                          .channel = "node",
                          .address = address ? address : "local",
                          .object = object,
                          .action = action,
                          .after = after};
    snprintf(object, sizeof object, "node:%s", peer);
    return lia__audit_append(db, &r, NULL, err);
}

int lia__node_is_peer(lia_db *db, const char *name, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "node: looking a peer up", "SELECT 1 FROM node_peer WHERE name = ?", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_ROW;
}

static int url_ok(const char *u, lia_error *err)
{
    size_t n = strlen(u);
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || n < 9 || n >= LIA_NODE_URL_MAX)
        return lia_error_set(err, LIA_EINVAL, "url", u, n, "an http:// or https:// URL of the peer's serve");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
            return lia_error_set(err, LIA_EINVAL, "url", u, n, "contains a space or control character");
    return LIA_OK;
}

int lia_node_add(lia_store *s, const char *name, const char *url, const char *token, const char *vkey,
                 const lia_actor *who, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_party p;
    lia_note_key k;
    lia_stmt *st;
    lia_buf after;
    int rc;
    if (!name || !lia_party_id_ok(name, strlen(name)))
        return lia_error_set(err, LIA_EINVAL, "peer", name, name ? strlen(name) : 0, "not a partner id");
    if ((rc = url_ok(url, err)))
        return rc;
    if (!token || !*token || strlen(token) >= 256)
        return lia_error_set(err, LIA_EINVAL, "token", NULL, 0,
                             "the API key the peer issued to us is required");
    if (vkey && *vkey && (rc = lia_note_key_parse_verifier(vkey, strlen(vkey), &k, err)))
        return rc;
    lia_party_init(&p, LIA_PARTY_PARTNER);
    rc = lia_party_get_one(s, LIA_PARTY_PARTNER, name, &p, err);
    lia_party_free(&p);
    if (rc == LIA_ENOTFOUND)
        return lia_error_set(err, LIA_ENOTFOUND, "peer", name, strlen(name),
                             "no such partner in the directory (liaison partners add first)");
    if (rc || (rc = lia__node_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = lia__db_prepare(
             db, "node: adding a peer",
             "INSERT INTO node_peer(name, url, token, vkey, added) VALUES (?1, ?2, ?3, ?4, ?5)"
             " ON CONFLICT(name) DO UPDATE SET url = ?2, token = ?3, vkey = ?4",
             &st, err)))
        goto fail;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_text(st, 2, url, -1);
    lia__db_bind_text(st, 3, token, -1);
    if (vkey && *vkey)
        lia__db_bind_text(st, 4, vkey, -1);
    else
        lia__db_bind_null(st, 4);
    lia__db_bind_int64(st, 5, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto fail;
    lia_buf_init(&after, 4096);
    lia_buf_puts(&after, "{\"url\":");
    lia_buf_json_str(&after, url, strlen(url));
    lia_buf_puts(&after, ",\"vkey\":");
    if (vkey && *vkey)
        lia_buf_json_str(&after, vkey, strlen(vkey));
    else
        lia_buf_puts(&after, "null");
    lia_buf_puts(&after, ",\"token\":\"(set)\"}");
    rc = lia__node_audit(db, name, who && who->who ? who->who : "liaison", who ? who->address : NULL,
                         "peer-set", lia_buf_cstr(&after), err);
    lia_buf_free(&after);
    if (rc)
        goto fail;
    return lia__db_commit(db, err);
fail:
    lia__db_rollback(db);
    return rc;
}

#define PEER_COLS                                                                                            \
    "p.name, p.url, p.vkey, p.added, p.last_ok, p.last_error, p.their_size, p.cosigned_size,"                \
    " (SELECT count(*) FROM node_outbox o WHERE o.peer = p.name AND o.sent IS NULL),"                        \
    " (SELECT count(*) FROM node_outbox o WHERE o.peer = p.name AND o.sent IS NOT NULL)"

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void read_peer(lia_stmt *st, lia_node_peer *p)
{
    memset(p, 0, sizeof *p);
    copy(p->name, sizeof p->name, lia__db_col_text(st, 0));
    copy(p->url, sizeof p->url, lia__db_col_text(st, 1));
    copy(p->vkey, sizeof p->vkey, lia__db_col_text(st, 2));
    p->added_us = lia__db_col_int64(st, 3);
    p->last_ok_us = lia__db_col_int64(st, 4);
    copy(p->last_error, sizeof p->last_error, lia__db_col_text(st, 5));
    p->their_size = (uint64_t)lia__db_col_int64(st, 6);
    p->cosigned_size = (uint64_t)lia__db_col_int64(st, 7);
    p->pending = (uint64_t)lia__db_col_int64(st, 8);
    p->sent = (uint64_t)lia__db_col_int64(st, 9);
}

int lia_node_list(lia_store *s, lia_node_peer_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__node_schema(db, err)) ||
        (rc = lia__db_prepare(db, "node: listing peers",
                              "SELECT " PEER_COLS " FROM node_peer p ORDER BY p.name", &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_node_peer p;
        read_peer(st, &p);
        if ((rc = cb(ud, &p)))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_DONE ? LIA_OK : rc;
}

int lia_node_get(lia_store *s, const char *name, lia_node_peer *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__node_schema(db, err)) ||
        (rc = lia__db_prepare(db, "node: reading a peer",
                              "SELECT " PEER_COLS " FROM node_peer p WHERE p.name = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        read_peer(st, out);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "peer", name, strlen(name),
                           "not a node peer (liaison node add)");
    }
    lia__db_done(st);
    return rc;
}

int lia_node_pending_list(lia_store *s, const char *peer, lia_node_pending_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__node_schema(db, err)) ||
        (rc = lia__db_prepare(db, "node: listing the outbox",
                              "SELECT id, peer, type, incident_id, seq, created, next_try, attempts,"
                              " coalesce(error, '') FROM node_outbox"
                              " WHERE sent IS NULL AND (?1 IS NULL OR peer = ?1) ORDER BY peer, id",
                              &st, err)))
        return rc;
    if (peer)
        lia__db_bind_text(st, 1, peer, -1);
    else
        lia__db_bind_null(st, 1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_node_pending p = {.id = lia__db_col_int64(st, 0),
                              .peer = lia__db_col_text(st, 1),
                              .type = lia__db_col_text(st, 2),
                              .incident = lia__db_col_int64(st, 3),
                              .seq = lia__db_col_int64(st, 4),
                              .created_us = lia__db_col_int64(st, 5),
                              .next_us = lia__db_col_int64(st, 6),
                              .attempts = lia__db_col_int64(st, 7),
                              .error = lia__db_col_text(st, 8)};
        if ((rc = cb(ud, &p)))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_DONE ? LIA_OK : rc;
}

static int note_of(lia_store *s, const char *peer, const char *sql, lia_buf *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__node_schema(db, err)) ||
        (rc = lia__db_prepare(db, "node: reading a checkpoint", sql, &st, err)))
        return rc;
    lia__db_bind_text(st, 1, peer, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW && !lia__db_col_null(st, 0))
        rc = lia_buf_puts(out, lia__db_col_text(st, 0)) ? LIA_ENOMEM : LIA_OK;
    else if (rc >= 0)
        rc =
            lia_error_set(err, LIA_ENOTFOUND, "peer", peer, strlen(peer), "no checkpoint held for this peer");
    lia__db_done(st);
    return rc;
}

int lia_node_their_checkpoint(lia_store *s, const char *peer, lia_buf *out, lia_error *err)
{
    return note_of(s, peer, "SELECT coalesce(their_cosigned, their_note) FROM node_peer WHERE name = ?", out,
                   err);
}

int lia_node_cosigned_checkpoint(lia_store *s, const char *peer, lia_buf *out, lia_error *err)
{
    return note_of(s, peer, "SELECT cosigned_note FROM node_peer WHERE name = ?", out, err);
}

int lia_node_incoming(lia_store *s, const char *peer, int64_t remote, int64_t *incident, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__node_schema(db, err)) ||
        (rc = lia__db_prepare(
             db, "node: an incoming incident",
             "SELECT incident_id FROM node_thread WHERE peer = ? AND origin = 1 AND remote = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, peer, -1);
    lia__db_bind_int64(st, 2, remote);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        *incident = lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "%s offered no incident %lld", peer,
                           (long long)remote);
    }
    lia__db_done(st);
    return rc;
}

int lia__node_forget_drill(lia_db *db, int64_t drill, lia_error *err)
{
    static const char *const sql[] = {
        "DELETE FROM node_outbox WHERE incident_id IN (SELECT id FROM incident WHERE drill = ?1)",
        "DELETE FROM node_thread WHERE incident_id IN (SELECT id FROM incident WHERE drill = ?1)",
    };
    int rc;
    if (!lia__db_has_table(db, "node_thread"))
        return LIA_OK;
    if ((rc = lia__node_schema(db, err)))
        return rc;
    for (size_t i = 0; i < 2; i++) {
        lia_stmt *st;
        if ((rc = lia__db_prepare(
                 db, i ? "node: forgetting a drill's threads" : "node: forgetting a drill's messages", sql[i],
                 &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, drill);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    return LIA_OK;
}
