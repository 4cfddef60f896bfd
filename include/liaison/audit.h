/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/audit.h - the tamper-evident audit log's core: an RFC 6962 Merkle
 * tree (tree heads, inclusion and consistency proofs and their checks), and
 * signed checkpoints in the C2SP signed-note / tlog-checkpoint formats with
 * Ed25519 keys (libsodium), cosignatures (C2SP tlog-cosignature v1) included.
 *
 * Everything here is pure: no I/O, no globals; thread-safe. Hashes are 32
 * bytes (SHA-256). Leaves are given as their leaf hashes (SHA-256 of 0x00 || data, RFC 6962);
 * an array of n leaf hashes is "the tree of size n". */
#ifndef LIAISON_AUDIT_H
#define LIAISON_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

#define LIA_HASH_LEN 32
/* Longest proof for any tree size below 2^64 (inclusion <= 64, consistency <= 65). */
#define LIA_MERKLE_PROOF_MAX 66

/* A SHA-256 hash; a struct so that arrays of them pass as const cleanly. */
typedef struct lia_hash {
    uint8_t b[LIA_HASH_LEN];
} lia_hash;

/* Append-only tree head in O(log n) per leaf (a compact range: at most one
 * perfect subtree per bit of n). Initialise with {0}. */
typedef struct lia_merkle_stream {
    uint64_t n;
    lia_hash stack[64];
    unsigned depth;
} lia_merkle_stream;

/* Check an inclusion proof (RFC 9162 2.1.3.2): LIA_OK when leaf is leaf m of
 * the tree of size n with head root, LIA_EAUTH when it is not (wrong index,
 * size, leaf, root or proof), LIA_EINVAL for impossible sizes. */
int lia_merkle_verify_inclusion(uint64_t m, uint64_t n, const lia_hash *leaf, const lia_hash *proof,
                                size_t len, const lia_hash *root);
/* Check a consistency proof (RFC 9162 2.1.4.2) between the heads root1 of
 * size n1 and root2 of size n2: LIA_OK or LIA_EAUTH (LIA_EINVAL if n1 > n2). */
int lia_merkle_verify_consistency(uint64_t n1, uint64_t n2, const lia_hash *root1, const lia_hash *root2,
                                  const lia_hash *proof, size_t len);

/* ---- signed notes (C2SP signed-note) -------------------------------------- */

#define LIA_NOTE_NAME_MAX 128          /* a key name, bytes, with NUL */
#define LIA_NOTE_MAX      (64u * 1024) /* a whole signed note */
#define LIA_NOTE_MAX_SIGS 64           /* signature lines in one note */
#define LIA_NOTE_ED25519  0x01         /* signature type: Ed25519 note signature */
#define LIA_NOTE_COSIG    0x04         /* signature type: timestamped Ed25519 cosignature v1 */

/* An Ed25519 key with its note name. type (LIA_NOTE_ED25519 or
 * LIA_NOTE_COSIG) decides how it signs and which signature lines it verifies;
 * id = SHA-256(name || "\n" || type || pub)[:4], big-endian. secret is set
 * for a signer key only. */
typedef struct lia_note_key {
    char name[LIA_NOTE_NAME_MAX];
    uint8_t type;
    uint32_t id;
    uint8_t pub[32];
    uint8_t sk[64]; /* libsodium secret key (seed || pub); zero without secret */
    int secret;
} lia_note_key;

/* The same key (secret or not) as another signature type (id recomputed). */
void lia_note_key_as(const lia_note_key *k, uint8_t type, lia_note_key *out);
/* Parse a verifier key "<name>+<hex id>+<base64(type || 32-byte public key)>". */
int lia_note_key_parse_verifier(const char *vkey, size_t len, lia_note_key *out, lia_error *err);
int lia_note_key_format_verifier(const lia_note_key *k, lia_buf *out);

/* Append the signature line "— <name> <base64(id || sig)>\n" of key k over
 * text (which must end in "\n") to out. A LIA_NOTE_COSIG key signs
 * "cosignature/v1\ntime <timestamp>\n" || text and puts the big-endian
 * timestamp before the signature; an LIA_NOTE_ED25519 key ignores timestamp. */
int lia_note_sign_line(const char *text, size_t len, const lia_note_key *k, uint64_t timestamp, lia_buf *out,
                       lia_error *err);

/* What lia_note_open found. */
typedef struct lia_note_opened {
    size_t text_len;        /* the note text is note[0..text_len), final "\n" included */
    size_t sigs;            /* signature lines in the note */
    uint32_t verified;      /* bit i: keys[i] signed the note (i < 32) */
    uint64_t timestamp[32]; /* keys[i]'s cosignature time, when it is a LIA_NOTE_COSIG key */
} lia_note_opened;

/* Split a signed note into text and signatures and check the signatures of
 * the known keys (at most 32): lines from unknown keys (name or id differ)
 * are ignored. LIA_OK when at least one known key verified and none failed;
 * LIA_EAUTH when a known key's signature fails or no known key signed;
 * LIA_EPARSE for a malformed note; LIA_ELIMIT past the size or signature
 * limits. res is written on LIA_OK only. */
int lia_note_open(const char *note, size_t len, const lia_note_key *keys, size_t nkeys, lia_note_opened *res,
                  lia_error *err);

/* ---- checkpoints (C2SP tlog-checkpoint) ------------------------------------ */

#define LIA_CHECKPOINT_ORIGIN_MAX 256

/* The note text of a checkpoint: "<origin>\n<size>\n<base64 root>\n". */
typedef struct lia_checkpoint {
    char origin[LIA_CHECKPOINT_ORIGIN_MAX];
    uint64_t size;
    lia_hash root;
} lia_checkpoint;

/* Parse a checkpoint body (a note's text; extension lines after the root are
 * allowed and ignored). LIA_EPARSE with the reason otherwise. */
int lia_checkpoint_parse(const char *text, size_t len, lia_checkpoint *out, lia_error *err);

/* ---- the audit log in the store -------------------------------------------- */

/* Who made a change, from where: an analyst's name or a partner's org id;
 * the channel ("cli", "api", "email", "link", "node"); the address (an IP
 * address, an e-mail address, "local"). Borrowed strings. */
typedef struct lia_actor {
    const char *who;
    const char *channel;
    const char *address;
} lia_actor;

/* The actor of the changes made through s that take none of their own:
 * partners and owners, the routing file, organisations, users and keys
 * (their audit records name it). Copied; NULL resets to "liaison". The
 * CLI sets its user once per command. */
void lia_audit_set_actor(lia_store *s, const lia_actor *who);

/* One record: leaf `seq - 1` of the log's Merkle tree (seq counts from 1).
 * object names what changed ("incident:12", "handoff:12/cert-xx"), action
 * what happened ("create", "status", "ack" ...), before/after are JSON
 * texts (NULL when there is none). Borrowed strings when read. */
typedef struct lia_audit_record {
    int64_t seq;
    int64_t at_us;
    const char *actor, *channel, *address;
    const char *object, *action;
    const char *before, *after;
} lia_audit_record;

/* The leaf bytes of r (canonical JSON with the fields in a fixed order,
 * seq included so that records cannot change places) appended to out. */
int lia_audit_leaf_bytes(const lia_audit_record *r, lia_buf *out);

/* Records in seq order, filtered by object (equal to it, or beginning with
 * it and '/': "handoff:12" matches "handoff:12/cert-xx"), actor, and the time
 * range [since_us, until_us) (0 = open). cb returning non-zero stops. */
typedef struct lia_audit_filter {
    const char *object;
    const char *actor;
    int64_t since_us, until_us;
    uint64_t limit; /* 0 = all */
} lia_audit_filter;
typedef int (*lia_audit_cb)(void *ud, const lia_audit_record *r);
int lia_audit_list(lia_store *s, const lia_audit_filter *f, lia_audit_cb cb, void *ud, lia_error *err);
/* The records of any of n objects (1 to 8; each as the filter's object:
 * itself and "OBJECT/..."), in seq order: an incident's timeline is those
 * of "incident:ID" and "handoff:ID". From the object index, not a scan. */
int lia_audit_list_objects(lia_store *s, const char *const *objects, size_t n, lia_audit_cb cb, void *ud,
                           lia_error *err);

/* The number of records and the tree head over them. */
int lia_audit_head(lia_store *s, uint64_t *size, lia_hash *root, lia_error *err);

/* Sign the current tree head as a checkpoint with origin `origin` and the
 * node key (a signer of type LIA_NOTE_ED25519), store it, and append the
 * signed note to out. */
int lia_audit_checkpoint(lia_store *s, const char *origin, const lia_note_key *key, lia_buf *out,
                         lia_error *err);

/* Proofs over the stored log: the inclusion of record seq in the tree of
 * `size` records (0 = now), or the consistency of size n1 with size n2. */
int lia_audit_prove_inclusion(lia_store *s, int64_t seq, uint64_t size, lia_hash *leaf, lia_hash *root,
                              lia_hash *proof, size_t *len, lia_error *err);
int lia_audit_prove_consistency(lia_store *s, uint64_t n1, uint64_t n2, lia_hash *root1, lia_hash *root2,
                                lia_hash *proof, size_t *len, lia_error *err);

/* What lia_audit_verify found. */
typedef struct lia_audit_report {
    uint64_t records;     /* records read */
    uint64_t checkpoints; /* checkpoints checked */
    int64_t first_bad;    /* seq of the first broken record; 0 if none */
    char what[512];       /* why it is broken, in one sentence; "" if all is well */
} lia_audit_report;

/* Check every record (its leaf hash, its place, the tree head after it) and
 * every stored checkpoint (signature by one of keys, head of that size),
 * plus an outside checkpoint note (e.g. the copy a partner cosigned; may be
 * NULL). LIA_OK when all holds; LIA_EAUTH with rep->first_bad and rep->what
 * when something does not; other codes when the check could not run. */
int lia_audit_verify(lia_store *s, const lia_note_key *keys, size_t nkeys, const char *outside, size_t olen,
                     lia_audit_report *rep, lia_error *err);

/* Read the node's signer key from path (one line "PRIVATE+KEY+..."); with
 * create, a missing file is made with a new key named name (mode 0600). */
int lia_audit_key_load(const char *path, const char *name, int create, lia_note_key *out, lia_error *err);

#endif
