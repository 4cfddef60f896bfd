/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The checkpoint exchange, receiving side: a peer's signed log head is
 * checked against the one we hold (never smaller, the same root at the
 * same size, a consistency proof from ours to the new one) before it
 * replaces it; our own head as the peer cosigned it is kept beside. A peer
 * whose log was cut or rewritten is refused and the refusal audit-logged:
 * the older head we hold stays as the evidence. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonget.h"
#include "node/internal.h"

typedef struct held {
    char vkey[256];
    uint64_t size;
    lia_hash root;
    int has;
} held;

static int read_held(lia_db *db, const char *peer, held *h, lia_error *err)
{
    lia_stmt *st;
    int rc;
    memset(h, 0, sizeof *h);
    if ((rc = lia__db_prepare(
             db, "node: the peer's checkpoint we hold",
             "SELECT coalesce(vkey, ''), their_size, their_root FROM node_peer WHERE name = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, peer, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        size_t n = 0;
        const void *root = lia__db_col_blob(st, 2, &n);
        snprintf(h->vkey, sizeof h->vkey, "%s", lia__db_col_text(st, 0));
        h->size = (uint64_t)lia__db_col_int64(st, 1);
        if (root && n == LIA_HASH_LEN) {
            memcpy(h->root.b, root, LIA_HASH_LEN);
            h->has = 1;
        }
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_EAUTH, "peer", peer, strlen(peer), "not a node peer of ours");
    }
    lia__db_done(st);
    return rc;
}

/* Open note with key k and read its checkpoint. */
static int open_note(const char *note, size_t len, const lia_note_key *k, lia_checkpoint *ck, lia_error *err)
{
    lia_note_opened o;
    int rc;
    if ((rc = lia_note_open(note, len, k, 1, &o, err)))
        return rc;
    return lia_checkpoint_parse(note, o.text_len, ck, err);
}

/* A refusal: audit-logged in its own transaction, then the error. */
static int refuse(lia_db *db, const char *peer, const char *address, const char *why, uint64_t size,
                  lia_error *err)
{
    lia_buf b;
    lia_error e2;
    lia_buf_init(&b, 640);
    lia_buf_printf(&b, "{\"size\":%llu,\"why\":", (unsigned long long)size);
    lia_buf_json_str(&b, why, strlen(why));
    lia_buf_putc(&b, '}');
    lia_error_clear(&e2);
    if (lia__db_begin(db, &e2) == LIA_OK) {
        if (lia__node_audit(db, peer, peer, address, "checkpoint-refused", lia_buf_cstr(&b), &e2) == LIA_OK)
            lia__db_commit(db, &e2);
        else
            lia__db_rollback(db);
    }
    lia_buf_free(&b);
    return lia_error_set(err, LIA_EAUTH, "checkpoint", NULL, 0, "%s", why);
}

static int read_proof(json_t *a, lia_hash *proof, size_t *n, lia_error *err)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (!a)
        return LIA_OK;
    if (!json_is_array(a) || json_array_size(a) > LIA_MERKLE_PROOF_MAX)
        return lia_error_set(err, LIA_EINVAL, "proof", NULL, 0, "an array of at most %d base64 hashes",
                             LIA_MERKLE_PROOF_MAX);
    json_array_foreach(a, i, v)
    {
        size_t got = 0;
        if (!json_is_string(v) ||
            sodium_base642bin(proof[i].b, LIA_HASH_LEN, json_string_value(v), json_string_length(v), NULL,
                              &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != LIA_HASH_LEN)
            return lia_error_set(err, LIA_EINVAL, "proof", NULL, 0, "hash %zu is not 32 bytes in base64",
                                 i + 1);
    }
    *n = json_array_size(a);
    return LIA_OK;
}

static int store_theirs(lia_db *db, const char *peer, const char *address, const char *note,
                        const lia_checkpoint *ck, lia_error *err)
{
    lia_stmt *st;
    char after[128];
    int rc;
    if ((rc = lia__db_prepare(db, "node: keeping the peer's checkpoint",
                              "UPDATE node_peer SET their_note = ?, their_size = ?, their_root = ?,"
                              " their_cosigned = NULL WHERE name = ?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, note, -1);
    lia__db_bind_int64(st, 2, (int64_t)ck->size);
    lia__db_bind_blob(st, 3, ck->root.b, LIA_HASH_LEN);
    lia__db_bind_text(st, 4, peer, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    snprintf(after, sizeof after, "{\"size\":%llu}", (unsigned long long)ck->size);
    return rc ? rc : lia__node_audit(db, peer, peer, address, "checkpoint", after, err);
}

/* Our own head as the peer cosigned it: its cosignature verifies, and the
 * head is the one of our log at that size. */
static int take_cosigned(lia_store *s, const char *peer, const lia_note_key *theirs, const char *note,
                         lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_note_key cos;
    lia_checkpoint ck;
    lia_hash r1, r2, proof[LIA_MERKLE_PROOF_MAX];
    size_t plen = 0;
    lia_stmt *st;
    int rc;
    lia_note_key_as(theirs, LIA_NOTE_COSIG, &cos);
    if ((rc = open_note(note, strlen(note), &cos, &ck, err)))
        return rc;
    if ((rc = lia_audit_prove_consistency(s, ck.size, ck.size, &r1, &r2, proof, &plen, err)))
        return rc;
    if (memcmp(r1.b, ck.root.b, LIA_HASH_LEN) != 0)
        return lia_error_set(err, LIA_EAUTH, "cosigned", NULL, 0,
                             "the cosigned head of size %llu is not our log's head at that size",
                             (unsigned long long)ck.size);
    if ((rc = lia__db_prepare(db, "node: keeping our cosigned checkpoint",
                              "UPDATE node_peer SET cosigned_note = ?, cosigned_size = ? WHERE name = ?", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, note, -1);
    lia__db_bind_int64(st, 2, (int64_t)ck.size);
    lia__db_bind_text(st, 3, peer, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_node_checkpoint_in(lia_store *s, const char *peer, const char *address, const char *json, size_t len,
                           uint64_t *need_from, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    json_error_t je;
    json_t *o = NULL;
    held h;
    lia_note_key k;
    lia_checkpoint ck;
    lia_hash proof[LIA_MERKLE_PROOF_MAX];
    size_t plen, nlen = 0;
    const char *note, *cosigned;
    json_int_t from = 0;
    char why[256];
    int rc;
    *need_from = 0;
    if ((rc = lia__node_schema(db, err)) || (rc = read_held(db, peer, &h, err)))
        return rc;
    if (!h.vkey[0])
        return lia_error_set(err, LIA_EAUTH, "peer", peer, strlen(peer),
                             "no verifier key for this peer (liaison node add --vkey)");
    if ((rc = lia_note_key_parse_verifier(h.vkey, strlen(h.vkey), &k, err)))
        return rc;
    if (len > LIA_NOTE_MAX * 3 || !(o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) ||
        !json_is_object(o)) {
        json_decref(o);
        return lia_error_set(err, LIA_EPARSE, "checkpoint", NULL, 0,
                             "the body is not a JSON object of a checkpoint");
    }
    note = lia__json_str(o, "checkpoint", &nlen);
    cosigned = lia__json_str(o, "cosigned", NULL);
    if (json_object_get(o, "from") && !json_is_integer(json_object_get(o, "from"))) {
        rc = lia_error_set(err, LIA_EINVAL, "from", NULL, 0, "must be a whole number");
        goto out;
    }
    from = json_integer_value(json_object_get(o, "from"));
    if (!note) {
        rc = lia_error_set(err, LIA_EINVAL, "checkpoint", NULL, 0, "is required (a signed note)");
        goto out;
    }
    if ((rc = open_note(note, nlen, &k, &ck, err)) ||
        (rc = read_proof(json_object_get(o, "proof"), proof, &plen, err)))
        goto out;
    if (h.has && ck.size < h.size) {
        snprintf(
            why, sizeof why,
            "the peer's log head has size %llu, smaller than the head of size %llu we hold: its log was cut",
            (unsigned long long)ck.size, (unsigned long long)h.size);
        rc = refuse(db, peer, address, why, ck.size, err);
        goto out;
    }
    if (h.has && ck.size == h.size && memcmp(ck.root.b, h.root.b, LIA_HASH_LEN) != 0) {
        snprintf(
            why, sizeof why,
            "the peer's log head of size %llu has another root than the one we hold: its log was rewritten",
            (unsigned long long)ck.size);
        rc = refuse(db, peer, address, why, ck.size, err);
        goto out;
    }
    if (h.has && ck.size > h.size) {
        if ((uint64_t)from != h.size) {
            *need_from = h.size;
            rc = lia_error_set(err, LIA_ESTATE, "from", NULL, 0,
                               "the consistency proof must start at size %llu", (unsigned long long)h.size);
            goto out;
        }
        if (lia_merkle_verify_consistency(h.size, ck.size, &h.root, &ck.root, proof, plen) != LIA_OK) {
            snprintf(why, sizeof why,
                     "the peer's log of size %llu does not extend the head of size %llu we hold: its log was "
                     "rewritten",
                     (unsigned long long)ck.size, (unsigned long long)h.size);
            rc = refuse(db, peer, address, why, ck.size, err);
            goto out;
        }
    }
    if ((rc = lia__db_begin(db, err)))
        goto out;
    if ((!h.has || ck.size != h.size) && (rc = store_theirs(db, peer, address, note, &ck, err)))
        goto fail;
    if (cosigned && (rc = take_cosigned(s, peer, &k, cosigned, err)))
        goto fail;
    rc = lia__db_commit(db, err);
    goto out;
fail:
    lia__db_rollback(db);
out:
    json_decref(o);
    return rc;
}
