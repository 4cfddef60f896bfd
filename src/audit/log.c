/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The audit log in the store: one row per record, each the next leaf of the
 * log's RFC 6962 Merkle tree; the compact range of the tree kept beside it
 * so that appending costs O(log n); signed checkpoints; proofs; and the
 * check of every record and checkpoint that names the first broken record.
 *
 * What each check catches: a record edited in place no longer matches its
 * leaf hash; records swapped or deleted no longer sit at the seq their leaf
 * commits to; a record rewritten together with its leaf hash breaks the tree
 * head stored after it; a log rewritten consistently from some record on,
 * or cut off at the end, no longer matches a signed checkpoint, which only
 * the node key (or a partner's cosignature, held outside) can make. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/log.h"
#include "liaison/limits.h"
#include "core/clock.h"

#define AUDIT_MAX_LOAD        (16u << 20) /* leaf hashes loaded at once for a proof (512 MiB) */
#define AUDIT_MAX_CHECKPOINTS 100000

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS audit_log("
            "  seq INTEGER PRIMARY KEY,"
            "  at INTEGER NOT NULL,"
            "  actor TEXT NOT NULL,"
            "  channel TEXT NOT NULL,"
            "  address TEXT NOT NULL,"
            "  object TEXT NOT NULL,"
            "  action TEXT NOT NULL,"
            "  before TEXT,"
            "  after TEXT,"
            "  leaf BLOB NOT NULL,"  /* lia__merkle_leaf of lia_audit_leaf_bytes */
            "  head BLOB NOT NULL);" /* the tree head of records 1..seq */
            "CREATE INDEX IF NOT EXISTS audit_log_object ON audit_log(object);"
            "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);"
            "CREATE TABLE IF NOT EXISTS audit_state("
            "  id INTEGER PRIMARY KEY CHECK(id = 1),"
            "  size INTEGER NOT NULL,"
            "  stream BLOB NOT NULL);" /* the compact range: one hash per set bit of size */
            "CREATE TABLE IF NOT EXISTS audit_checkpoint("
            "  id INTEGER PRIMARY KEY,"
            "  size INTEGER NOT NULL,"
            "  root BLOB NOT NULL,"
            "  note TEXT NOT NULL,"
            "  at INTEGER NOT NULL);"},
};

static const lia_schema audit_schema = {"audit", 1, migrations, NULL, .pg = 1};

int lia__audit_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &audit_schema, err);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

int lia_audit_leaf_bytes(const lia_audit_record *r, lia_buf *out)
{
    const char *names[] = {"actor", "channel", "address", "object", "action"};
    const char *vals[] = {nz(r->actor), nz(r->channel), nz(r->address), nz(r->object), nz(r->action)};
    lia_buf_printf(out, "{\"v\":1,\"seq\":%lld,\"at\":%lld", (long long)r->seq, (long long)r->at_us);
    for (size_t i = 0; i < 5; i++) {
        lia_buf_printf(out, ",\"%s\":", names[i]);
        lia_buf_json_str(out, vals[i], strlen(vals[i]));
    }
    lia_buf_puts(out, ",\"before\":");
    if (r->before)
        lia_buf_json_str(out, r->before, strlen(r->before));
    else
        lia_buf_puts(out, "null");
    lia_buf_puts(out, ",\"after\":");
    if (r->after)
        lia_buf_json_str(out, r->after, strlen(r->after));
    else
        lia_buf_puts(out, "null");
    lia_buf_putc(out, '}');
    return out->err;
}

/* The writers of the log one at a time: each reads the tree state and
 * appends the next seq. SQLite's BEGIN IMMEDIATE already holds the one
 * writer lock; PostgreSQL's READ COMMITTED BEGIN does not, so there a
 * transaction-scoped advisory lock (released at its end) does, and two
 * processes auditing at once queue instead of both taking seq n + 1. */
static int lock_log(lia_db *db, lia_error *err)
{
    return lia__db_exec_pg(db, "", "SELECT pg_advisory_xact_lock(7301, 1)", err);
}

/* The compact range as stored: the hashes of the stack, largest first. */
static int load_state(lia_db *db, lia_merkle_stream *ms, lia_error *err)
{
    lia_stmt *st;
    int rc;
    memset(ms, 0, sizeof *ms);
    if ((rc = lia__db_prepare(db, "audit: reading the tree state",
                              "SELECT size, stream FROM audit_state WHERE id = 1", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        size_t len = 0;
        const void *p = lia__db_col_blob(st, 1, &len);
        uint64_t n = (uint64_t)lia__db_col_int64(st, 0);
        unsigned depth = (unsigned)__builtin_popcountll(n);
        if (len != (size_t)depth * LIA_HASH_LEN) {
            rc = lia_error_set(err, LIA_ESTORE, "audit_state", NULL, 0,
                               "the stored tree state does not fit its size %llu", (unsigned long long)n);
        } else {
            ms->n = n;
            ms->depth = depth;
            if (len)
                memcpy(ms->stack, p, len);
            rc = LIA_OK;
        }
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia__audit_append(lia_db *db, const lia_audit_record *in, int64_t *seq_out, lia_error *err)
{
    lia_audit_record r = *in;
    lia_merkle_stream ms;
    lia_hash leaf, head;
    lia_buf b;
    lia_stmt *st;
    int rc;
    if (!r.actor || !*r.actor || !r.object || !*r.object || !r.action || !*r.action)
        return lia_error_set(err, LIA_EINVAL, "audit record", NULL, 0,
                             "an audit record names actor, object and action");
    if ((rc = lia__audit_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&b, (size_t)LIA_MAX_EVENT_TEXT * 4);
    if ((rc = lock_log(db, err)) || (rc = load_state(db, &ms, err)))
        goto out;
    r.seq = (int64_t)ms.n + 1;
    r.at_us = lia__now_us();
    if (!r.channel || !*r.channel)
        r.channel = "cli";
    if (!r.address || !*r.address)
        r.address = "local";
    if (lia_audit_leaf_bytes(&r, &b)) {
        rc = lia_error_set(err, LIA_ELIMIT, "audit record", NULL, 0, "the record is larger than %u bytes",
                           LIA_MAX_EVENT_TEXT * 4);
        goto out;
    }
    lia__merkle_leaf(b.ptr, b.len, &leaf);
    lia__merkle_stream_add(&ms, &leaf);
    lia__merkle_stream_root(&ms, &head);
    if ((rc = lia__db_prepare(
             db, "audit: appending a record",
             "INSERT INTO audit_log(seq, at, actor, channel, address, object, action, before, after,"
             " leaf, head) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
             &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, r.seq);
    lia__db_bind_int64(st, 2, r.at_us);
    lia__db_bind_text(st, 3, r.actor, -1);
    lia__db_bind_text(st, 4, r.channel, -1);
    lia__db_bind_text(st, 5, r.address, -1);
    lia__db_bind_text(st, 6, r.object, -1);
    lia__db_bind_text(st, 7, r.action, -1);
    lia__db_bind_text(st, 8, r.before, -1);
    lia__db_bind_text(st, 9, r.after, -1);
    lia__db_bind_blob(st, 10, leaf.b, LIA_HASH_LEN);
    lia__db_bind_blob(st, 11, head.b, LIA_HASH_LEN);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    if ((rc = lia__db_prepare(db, "audit: saving the tree state",
                              "INSERT INTO audit_state(id, size, stream) VALUES(1, ?, ?)"
                              " ON CONFLICT(id) DO UPDATE SET size = excluded.size, stream = excluded.stream",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, (int64_t)ms.n);
    lia__db_bind_blob(st, 2, ms.stack, (size_t)ms.depth * LIA_HASH_LEN);
    rc = lia__db_run(st, err);
    lia__db_done(st);
out:
    lia_buf_free(&b);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (seq_out)
        *seq_out = r.seq;
    return LIA_OK;
}

int lia__audit_append_store(lia_store *s, const lia_audit_record *r, lia_error *err)
{
    return lia__audit_append(lia__store_db(s), r, NULL, err);
}

static void read_record(lia_stmt *st, lia_audit_record *r)
{
    r->seq = lia__db_col_int64(st, 0);
    r->at_us = lia__db_col_int64(st, 1);
    r->actor = lia__db_col_text(st, 2);
    r->channel = lia__db_col_text(st, 3);
    r->address = lia__db_col_text(st, 4);
    r->object = lia__db_col_text(st, 5);
    r->action = lia__db_col_text(st, 6);
    r->before = lia__db_col_text(st, 7);
    r->after = lia__db_col_text(st, 8);
}

#define RECORD_COLS "seq, at, actor, channel, address, object, action, before, after"

int lia_audit_list(lia_store *s, const lia_audit_filter *f, lia_audit_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    uint64_t n = 0;
    char prefix[1024] = "", past[1024] = "";
    lia_buf sql;
    int rc;
    if ((rc = lia__audit_schema(db, err)))
        return rc;
    /* only the clauses of the filters given, the object's as a range the
     * audit_log_object index answers ("x" or "x/..." is "x" or in ["x/",
     * "x0"): '0' follows '/'), so an incident's records come from the index,
     * not from a scan of the whole log */
    if (f && f->object) {
        snprintf(prefix, sizeof prefix, "%s/", f->object);
        snprintf(past, sizeof past, "%s0", f->object);
    }
    lia_buf_init(&sql, 4096);
    lia_buf_puts(&sql, "SELECT " RECORD_COLS " FROM audit_log WHERE TRUE");
    if (f && f->object)
        lia_buf_puts(&sql, " AND (object = ?1 OR (object >= ?2 AND object < ?6))");
    if (f && f->actor)
        lia_buf_puts(&sql, " AND actor = ?3");
    if (f && f->since_us)
        lia_buf_puts(&sql, " AND at >= ?4");
    if (f && f->until_us)
        lia_buf_puts(&sql, " AND at < ?5");
    lia_buf_puts(&sql, " ORDER BY seq");
    rc = sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory")
                 : lia__db_prepare_once(db, "audit: listing records", lia_buf_cstr(&sql), &st, err);
    lia_buf_free(&sql);
    if (rc)
        return rc;
    if (f && f->object) {
        lia__db_bind_text(st, 1, f->object, -1);
        lia__db_bind_text(st, 2, prefix, -1);
        lia__db_bind_text(st, 6, past, -1);
    }
    if (f && f->actor)
        lia__db_bind_text(st, 3, f->actor, -1);
    if (f && f->since_us)
        lia__db_bind_int64(st, 4, f->since_us);
    if (f && f->until_us)
        lia__db_bind_int64(st, 5, f->until_us);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_audit_record r;
        read_record(st, &r);
        if (cb(ud, &r))
            break;
        if (f && f->limit && ++n >= f->limit)
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_audit_list_objects(lia_store *s, const char *const *objects, size_t n, lia_audit_cb cb, void *ud,
                           lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    lia_buf sql;
    char b[8][2][1024];
    int rc;
    if (n == 0 || n > 8)
        return lia_error_set(err, LIA_EINVAL, "objects", NULL, 0, "1 to 8 objects");
    if ((rc = lia__audit_schema(db, err)))
        return rc;
    lia_buf_init(&sql, 4096);
    lia_buf_puts(&sql, "SELECT " RECORD_COLS " FROM audit_log WHERE FALSE");
    for (size_t i = 0; i < n; i++) {
        snprintf(b[i][0], sizeof b[i][0], "%s/", objects[i]);
        snprintf(b[i][1], sizeof b[i][1], "%s0", objects[i]);
        lia_buf_printf(&sql, " OR object = ?%zu OR (object >= ?%zu AND object < ?%zu)", 3 * i + 1, 3 * i + 2,
                       3 * i + 3);
    }
    lia_buf_puts(&sql, " ORDER BY seq");
    rc = sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory")
                 : lia__db_prepare_once(db, "audit: listing the records of objects", lia_buf_cstr(&sql), &st,
                                        err);
    lia_buf_free(&sql);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        lia__db_bind_text(st, (int)(3 * i + 1), objects[i], -1);
        lia__db_bind_text(st, (int)(3 * i + 2), b[i][0], -1);
        lia__db_bind_text(st, (int)(3 * i + 3), b[i][1], -1);
    }
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_audit_record r;
        read_record(st, &r);
        if (cb(ud, &r))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_audit_head(lia_store *s, uint64_t *size, lia_hash *root, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_merkle_stream ms;
    int rc;
    if ((rc = lia__audit_schema(db, err)) || (rc = load_state(db, &ms, err)))
        return rc;
    *size = ms.n;
    lia__merkle_stream_root(&ms, root);
    return LIA_OK;
}

int lia_audit_checkpoint(lia_store *s, const char *origin, const lia_note_key *key, lia_buf *out,
                         lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_checkpoint c;
    lia_buf body, note;
    lia_stmt *st;
    int rc;
    memset(&c, 0, sizeof c);
    if (!origin || strlen(origin) >= sizeof c.origin)
        return lia_error_set(err, LIA_EINVAL, "origin", NULL, 0, "an origin is 1 to %d bytes",
                             LIA_CHECKPOINT_ORIGIN_MAX - 1);
    if (key->type != LIA_NOTE_ED25519 || !key->secret)
        return lia_error_set(err, LIA_EINVAL, "key", key->name, strlen(key->name),
                             "a checkpoint is signed with the node's Ed25519 signer key");
    memcpy(c.origin, origin, strlen(origin) + 1);
    if ((rc = lia__audit_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&body, 4096);
    lia_buf_init(&note, LIA_NOTE_MAX);
    if ((rc = lock_log(db, err)) || (rc = lia_audit_head(s, &c.size, &c.root, err)) ||
        (rc = lia__checkpoint_format(&c, &body, err)) ||
        (rc = lia__note_sign(body.ptr, body.len, key, &note, err)))
        goto out;
    if ((rc =
             lia__db_prepare(db, "audit: storing a checkpoint",
                             "INSERT INTO audit_checkpoint(size, root, note, at) VALUES(?,?,?,?)", &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, (int64_t)c.size);
    lia__db_bind_blob(st, 2, c.root.b, LIA_HASH_LEN);
    lia__db_bind_text(st, 3, note.ptr, (ptrdiff_t)note.len);
    lia__db_bind_int64(st, 4, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
out:
    if (rc) {
        lia__db_rollback(db);
    } else if ((rc = lia__db_commit(db, err)) == LIA_OK) {
        lia_buf_append(out, note.ptr, note.len);
        rc = out->err;
    }
    lia_buf_free(&body);
    lia_buf_free(&note);
    return rc;
}

int lia__audit_latest_checkpoint(lia_store *s, lia_buf *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__audit_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "audit: reading the latest checkpoint",
                              "SELECT note FROM audit_checkpoint ORDER BY id DESC LIMIT 1", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        lia_buf_puts(out, lia__db_col_text(st, 0));
        rc = out->err;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "checkpoint", NULL, 0,
                           "no checkpoint yet (liaison audit checkpoint)");
    }
    lia__db_done(st);
    return rc;
}

/* The stored leaf hashes of records 1..n into a new array. */
static int load_leaves(lia_db *db, uint64_t n, lia_hash **out, lia_error *err)
{
    lia_hash *v;
    lia_stmt *st;
    uint64_t i = 0;
    int rc;
    if (n > AUDIT_MAX_LOAD)
        return lia_error_set(err, LIA_ELIMIT, "audit", NULL, 0, "proofs over more than %u records",
                             AUDIT_MAX_LOAD);
    v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return lia_error_set(err, LIA_ENOMEM, "audit", NULL, 0, "out of memory for %llu leaf hashes",
                             (unsigned long long)n);
    if ((rc = lia__db_prepare(db, "audit: reading leaf hashes",
                              "SELECT seq, leaf FROM audit_log WHERE seq <= ? ORDER BY seq", &st, err))) {
        free(v);
        return rc;
    }
    lia__db_bind_int64(st, 1, (int64_t)n);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        size_t len = 0;
        const void *p = lia__db_col_blob(st, 1, &len);
        if ((uint64_t)lia__db_col_int64(st, 0) != i + 1 || len != LIA_HASH_LEN) {
            rc = lia_error_set(err, LIA_ESTORE, "audit", NULL, 0,
                               "record %llu is missing or damaged (liaison audit verify)",
                               (unsigned long long)i + 1);
            break;
        }
        memcpy(v[i++].b, p, LIA_HASH_LEN);
    }
    lia__db_done(st);
    if (rc == LIA_DB_DONE && i != n)
        rc = lia_error_set(err, LIA_ESTORE, "audit", NULL, 0, "the log holds %llu records, not %llu",
                           (unsigned long long)i, (unsigned long long)n);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    return LIA_OK;
}

static int size_now(lia_db *db, uint64_t *n, lia_error *err)
{
    lia_merkle_stream ms;
    int rc = load_state(db, &ms, err);
    *n = ms.n;
    return rc;
}

int lia_audit_prove_inclusion(lia_store *s, int64_t seq, uint64_t size, lia_hash *leaf, lia_hash *root,
                              lia_hash *proof, size_t *len, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_hash *v = NULL;
    uint64_t now;
    int rc;
    if ((rc = lia__audit_schema(db, err)) || (rc = size_now(db, &now, err)))
        return rc;
    if (size == 0)
        size = now;
    if (seq < 1 || (uint64_t)seq > size || size > now)
        return lia_error_set(err, LIA_EINVAL, "seq", NULL, 0,
                             "record %lld is not in a tree of %llu records (the log has %llu)",
                             (long long)seq, (unsigned long long)size, (unsigned long long)now);
    if ((rc = load_leaves(db, size, &v, err)))
        return rc;
    lia__merkle_root(v, size, root);
    *leaf = v[seq - 1];
    rc = lia__merkle_inclusion_proof(v, size, (uint64_t)seq - 1, proof, len);
    free(v);
    return rc;
}

int lia_audit_prove_consistency(lia_store *s, uint64_t n1, uint64_t n2, lia_hash *root1, lia_hash *root2,
                                lia_hash *proof, size_t *len, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_hash *v = NULL;
    uint64_t now;
    int rc;
    if ((rc = lia__audit_schema(db, err)) || (rc = size_now(db, &now, err)))
        return rc;
    if (n2 == 0)
        n2 = now;
    if (n1 > n2 || n2 > now)
        return lia_error_set(err, LIA_EINVAL, "size", NULL, 0,
                             "sizes %llu and %llu (the log has %llu records)", (unsigned long long)n1,
                             (unsigned long long)n2, (unsigned long long)now);
    if ((rc = load_leaves(db, n2, &v, err)))
        return rc;
    lia__merkle_root(v, n1, root1);
    lia__merkle_root(v, n2, root2);
    rc = lia__merkle_consistency_proof(v, n2, n1, proof, len);
    free(v);
    return rc;
}

/* ---- verification ---------------------------------------------------------- */

typedef struct cp {
    uint64_t size;
    lia_hash root;
    int64_t id; /* 0: the outside checkpoint */
} cp;

static int cp_cmp(const void *a, const void *b)
{
    const cp *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

static int broken(lia_audit_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int broken(lia_audit_report *rep, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    rep->first_bad = seq;
    va_start(ap, fmt);
    vsnprintf(rep->what, sizeof rep->what, fmt, ap);
    va_end(ap);
    return LIA_EAUTH;
}

/* Open a checkpoint note with the keys; fill c. */
static int open_checkpoint(const char *note, size_t len, const lia_note_key *keys, size_t nkeys, cp *c,
                           lia_error *err)
{
    lia_note_opened o;
    lia_checkpoint ck;
    int rc = lia_note_open(note, len, keys, nkeys, &o, err);
    if (rc)
        return rc;
    if ((rc = lia_checkpoint_parse(note, o.text_len, &ck, err)))
        return rc;
    c->size = ck.size;
    c->root = ck.root;
    return LIA_OK;
}

int lia_audit_verify(lia_store *s, const lia_note_key *keys, size_t nkeys, const char *outside, size_t olen,
                     lia_audit_report *rep, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_merkle_stream ms = {0}, stored;
    cp *cps = NULL;
    size_t ncp = 0, next = 0;
    uint64_t good = 0; /* the largest checkpoint size that matched */
    lia_buf b;
    lia_stmt *st = NULL;
    int rc, verdict = LIA_OK;
    memset(rep, 0, sizeof *rep);
    if ((rc = lia__audit_schema(db, err)))
        return rc;
    cps = calloc(AUDIT_MAX_CHECKPOINTS + 1, sizeof *cps);
    if (!cps)
        return lia_error_set(err, LIA_ENOMEM, "audit", NULL, 0, "out of memory");
    lia_buf_init(&b, (size_t)LIA_MAX_EVENT_TEXT * 4);
    /* The checkpoints, each signed by one of the keys. */
    if ((rc = lia__db_prepare(db, "audit: reading checkpoints",
                              "SELECT id, note FROM audit_checkpoint ORDER BY id", &st, err)))
        goto out;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *note = lia__db_col_text(st, 1);
        lia_error e2;
        if (ncp >= AUDIT_MAX_CHECKPOINTS) {
            rc = lia_error_set(err, LIA_ELIMIT, "audit", NULL, 0, "more than %d checkpoints",
                               AUDIT_MAX_CHECKPOINTS);
            break;
        }
        cps[ncp].id = lia__db_col_int64(st, 0);
        lia_error_clear(&e2);
        if (open_checkpoint(note ? note : "", note ? strlen(note) : 0, keys, nkeys, &cps[ncp], &e2) !=
            LIA_OK) {
            verdict = broken(rep, 0, "checkpoint %lld is not a valid checkpoint signed by the node key: %s",
                             (long long)cps[ncp].id, e2.reason);
            rc = LIA_DB_DONE;
            break;
        }
        rep->checkpoints++;
        ncp++;
    }
    lia__db_done(st);
    st = NULL;
    if (rc < 0 || verdict)
        goto out;
    if (outside) {
        lia_error e2;
        lia_error_clear(&e2);
        if (open_checkpoint(outside, olen, keys, nkeys, &cps[ncp], &e2) != LIA_OK) {
            verdict = broken(rep, 0, "the outside checkpoint does not verify: %s", e2.reason);
            goto out;
        }
        cps[ncp++].id = 0;
        rep->checkpoints++;
    }
    qsort(cps, ncp, sizeof *cps, cp_cmp);
    while (next < ncp && cps[next].size == 0)
        next++; /* a checkpoint of the empty log holds for any log */

    /* Every record in order. */
    if ((rc = lia__db_prepare(db, "audit: reading every record",
                              "SELECT " RECORD_COLS ", leaf, head FROM audit_log ORDER BY seq", &st, err)))
        goto out;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_audit_record r;
        lia_hash leaf, head;
        size_t ll = 0, hl = 0;
        const void *sl, *sh;
        int64_t want = (int64_t)ms.n + 1;
        read_record(st, &r);
        sl = lia__db_col_blob(st, 9, &ll);
        sh = lia__db_col_blob(st, 10, &hl);
        rep->records++;
        if (r.seq != want) {
            verdict = r.seq > want
                          ? broken(rep, want, "record %lld is missing: the next record is %lld (deleted?)",
                                   (long long)want, (long long)r.seq)
                          : broken(rep, r.seq, "record %lld appears twice", (long long)r.seq);
            break;
        }
        lia_buf_reset(&b);
        if (lia_audit_leaf_bytes(&r, &b)) {
            verdict = broken(rep, r.seq, "record %lld is too large to be one of ours", (long long)r.seq);
            break;
        }
        lia__merkle_leaf(b.ptr, b.len, &leaf);
        if (ll != LIA_HASH_LEN || memcmp(sl, leaf.b, LIA_HASH_LEN) != 0) {
            verdict =
                broken(rep, r.seq,
                       "record %lld (%s %s by %s) was changed after it was written, or moved: its content"
                       " does not match its leaf hash",
                       (long long)r.seq, r.action, r.object, r.actor);
            break;
        }
        lia__merkle_stream_add(&ms, &leaf);
        lia__merkle_stream_root(&ms, &head);
        if (hl != LIA_HASH_LEN || memcmp(sh, head.b, LIA_HASH_LEN) != 0) {
            verdict = broken(rep, r.seq,
                             "record %lld: the tree head stored with it does not match the records up to it"
                             " (a record at or before it was rewritten)",
                             (long long)r.seq);
            break;
        }
        for (; next < ncp && cps[next].size == ms.n; next++) {
            if (memcmp(cps[next].root.b, head.b, LIA_HASH_LEN) != 0) {
                verdict =
                    broken(rep, (int64_t)good + 1,
                           "records %llu to %llu do not match the %s checkpoint of size %llu: one of them"
                           " was rewritten",
                           (unsigned long long)good + 1, (unsigned long long)ms.n,
                           cps[next].id ? "signed" : "outside", (unsigned long long)ms.n);
                break;
            }
            good = ms.n;
        }
        if (verdict)
            break;
    }
    lia__db_done(st);
    st = NULL;
    if (rc < 0 || verdict)
        goto out;
    rc = LIA_OK;
    if (next < ncp) {
        verdict =
            broken(rep, (int64_t)ms.n + 1,
                   "the log ends at record %llu but the %s checkpoint covers %llu records: records %llu to"
                   " %llu were cut off",
                   (unsigned long long)ms.n, cps[next].id ? "signed" : "outside",
                   (unsigned long long)cps[ncp - 1].size, (unsigned long long)ms.n + 1,
                   (unsigned long long)cps[ncp - 1].size);
        goto out;
    }
    /* The kept tree state must be the tree of the records. */
    if ((rc = load_state(db, &stored, err)))
        goto out;
    lia_hash a, c;
    lia__merkle_stream_root(&stored, &a);
    lia__merkle_stream_root(&ms, &c);
    if (stored.n != ms.n || memcmp(a.b, c.b, LIA_HASH_LEN) != 0)
        verdict = broken(rep, (int64_t)(stored.n < ms.n ? stored.n : ms.n) + 1,
                         "the kept tree state (%llu records) does not match the %llu records in the log",
                         (unsigned long long)stored.n, (unsigned long long)ms.n);
out:
    lia__db_done(st);
    lia_buf_free(&b);
    free(cps);
    if (rc < 0)
        return rc;
    if (verdict)
        lia_error_set(err, LIA_EAUTH, "audit log", NULL, 0, "%s", rep->what);
    return verdict;
}

/* ---- the node key ---------------------------------------------------------- */

int lia_audit_key_load(const char *path, const char *name, int create, lia_note_key *out, lia_error *err)
{
    char buf[512];
    size_t n;
    FILE *f = fopen(path, "rb");
    int rc;
    if (!f && errno == ENOENT && create) {
        lia_note_key k;
        lia_buf line;
        int fd;
        if ((rc = lia__note_key_generate(name, LIA_NOTE_ED25519, &k, err)))
            return rc;
        lia_buf_init(&line, 512);
        lia__note_key_format_signer(&k, &line);
        lia_buf_putc(&line, '\n');
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || write(fd, line.ptr, line.len) != (ssize_t)line.len || fsync(fd) != 0) {
            rc = lia_error_set(err, LIA_EIO, "audit key", path, strlen(path), "cannot write: %s",
                               strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(path);
            }
        } else {
            close(fd);
            *out = k;
            rc = LIA_OK;
        }
        sodium_memzero(line.ptr, line.cap);
        lia_buf_free(&line);
        sodium_memzero(&k, sizeof k);
        return rc;
    }
    if (!f)
        return lia_error_set(err, errno == ENOENT ? LIA_ENOTFOUND : LIA_EIO, "audit key", path, strlen(path),
                             "%s", strerror(errno));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    rc = lia__note_key_parse_signer(buf, n, out, err);
    if (rc)
        lia_error_where(err, path, 1);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

void lia_audit_set_actor(lia_store *s, const lia_actor *who)
{
    lia__store_set_actor(s, who ? who->who : NULL, who ? who->channel : NULL, who ? who->address : NULL);
}

int lia__audit_change(lia_store *s, const char *object, const char *action, const char *before,
                      const char *after, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_audit_record r = {.object = object, .action = action, .before = before, .after = after};
    int rc;
    lia__store_actor(s, &r.actor, &r.channel, &r.address);
    if ((rc = lia__audit_schema(db, err)))
        return rc;
    return lia__audit_append(db, &r, NULL, err);
}
