/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: appending to the audit log from another module's transaction
 * (incidents, hand-offs): the record becomes the next Merkle leaf in the
 * same transaction as the change it describes. */
#ifndef LIA_AUDIT_LOG_H
#define LIA_AUDIT_LOG_H

#include "liaison/audit.h"
#include "store/db.h"

/* Make sure the audit tables exist (the "audit" schema). */
int lia__audit_schema(lia_db *db, lia_error *err);
/* Append r (seq and at_us are assigned; *seq_out may be NULL). Opens a
 * savepoint inside the caller's transaction, or a transaction of its own. */
int lia__audit_append(lia_db *db, const lia_audit_record *r, int64_t *seq_out, lia_error *err);

/* ---- internal (was in the public API) ---- */

/* SHA-256(0x00 || data): the hash of one leaf. */
void lia__merkle_leaf(const void *data, size_t len, lia_hash *out);
/* SHA-256(0x01 || left || right): an interior node. */
void lia__merkle_node(const lia_hash *left, const lia_hash *right, lia_hash *out);

/* The tree head (root) of leaves[0..n): SHA-256("") when n == 0. O(n). */
void lia__merkle_root(const lia_hash *leaves, uint64_t n, lia_hash *out);

void lia__merkle_stream_add(lia_merkle_stream *s, const lia_hash *leaf);
void lia__merkle_stream_root(const lia_merkle_stream *s, lia_hash *out);

/* Inclusion proof (RFC 6962 2.1.1 PATH) of leaf m in the tree leaves[0..n):
 * *len hashes into proof (room for LIA_MERKLE_PROOF_MAX), bottom first.
 * LIA_EINVAL if m >= n. */
int lia__merkle_inclusion_proof(const lia_hash *leaves, uint64_t n, uint64_t m, lia_hash *proof, size_t *len);
/* Consistency proof (RFC 6962 2.1.2 PROOF) that the tree of size n1 is a
 * prefix of leaves[0..n2). LIA_EINVAL unless n1 <= n2. n1 == 0 or n1 == n2:
 * empty proof. */
int lia__merkle_consistency_proof(const lia_hash *leaves, uint64_t n2, uint64_t n1, lia_hash *proof,
                                  size_t *len);

/* A new random key (secret included) of the given type. LIA_EINVAL for a bad
 * name (empty, longer than LIA_NOTE_NAME_MAX - 1, a space, '+' or a control
 * byte). */
int lia__note_key_generate(const char *name, uint8_t type, lia_note_key *out, lia_error *err);

/* Parse "PRIVATE+KEY+<name>+<hex id>+<base64(type || 32-byte seed)>". */
int lia__note_key_parse_signer(const char *skey, size_t len, lia_note_key *out, lia_error *err);

/* Append the signer (needs the secret) or verifier key string to out. */
int lia__note_key_format_signer(const lia_note_key *k, lia_buf *out);

/* Append a whole signed note to out: text, a blank line, k's signature line. */
int lia__note_sign(const char *text, size_t len, const lia_note_key *k, lia_buf *out, lia_error *err);

/* Append the checkpoint body (note text) to out. LIA_EINVAL for a bad origin. */
int lia__checkpoint_format(const lia_checkpoint *c, lia_buf *out, lia_error *err);

/* Append one record (seq and at_us are set here) inside the caller's
 * transaction, or in its own one. The record is the next leaf. */
int lia__audit_append_store(lia_store *s, const lia_audit_record *r, lia_error *err);

/* A change made by the store's actor (lia_audit_set_actor): the directory,
 * the routing file, accounts. Inside the caller's transaction. */
int lia__audit_change(lia_store *s, const char *object, const char *action, const char *before,
                      const char *after, lia_error *err);

/* The latest stored checkpoint note (LIA_ENOTFOUND if none). */
int lia__audit_latest_checkpoint(lia_store *s, lia_buf *out, lia_error *err);

#endif
