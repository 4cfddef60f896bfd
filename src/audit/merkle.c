/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The RFC 6962 Merkle tree: tree heads, inclusion and consistency proofs
 * (generated as RFC 6962 section 2.1 defines them) and their verification
 * (the algorithms of RFC 9162 section 2.1.3.2 and 2.1.4.2). */
#include <sodium.h>
#include <string.h>

#include "liaison/audit.h"
#include "audit/log.h"

void lia__merkle_leaf(const void *data, size_t len, lia_hash *out)
{
    crypto_hash_sha256_state st;
    const uint8_t zero = 0x00;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &zero, 1);
    if (len)
        crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out->b);
}

void lia__merkle_node(const lia_hash *left, const lia_hash *right, lia_hash *out)
{
    uint8_t in[1 + 2 * LIA_HASH_LEN];
    in[0] = 0x01;
    memcpy(in + 1, left->b, LIA_HASH_LEN);
    memcpy(in + 1 + LIA_HASH_LEN, right->b, LIA_HASH_LEN);
    crypto_hash_sha256(out->b, in, sizeof in);
}

void lia__merkle_stream_add(lia_merkle_stream *s, const lia_hash *leaf)
{
    s->stack[s->depth++] = *leaf;
    s->n++;
    /* One merge per trailing zero bit of the new size: the stack then holds
     * one perfect subtree per set bit of n, largest first. */
    for (uint64_t k = s->n; (k & 1) == 0; k >>= 1) {
        lia__merkle_node(&s->stack[s->depth - 2], &s->stack[s->depth - 1], &s->stack[s->depth - 2]);
        s->depth--;
    }
}

void lia__merkle_stream_root(const lia_merkle_stream *s, lia_hash *out)
{
    lia_hash r;
    if (s->depth == 0) {
        crypto_hash_sha256(out->b, (const unsigned char *)"", 0);
        return;
    }
    r = s->stack[s->depth - 1];
    for (unsigned i = s->depth - 1; i-- > 0;)
        lia__merkle_node(&s->stack[i], &r, &r);
    *out = r;
}

void lia__merkle_root(const lia_hash *leaves, uint64_t n, lia_hash *out)
{
    lia_merkle_stream s = {0};
    for (uint64_t i = 0; i < n; i++)
        lia__merkle_stream_add(&s, &leaves[i]);
    lia__merkle_stream_root(&s, out);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

int lia__merkle_inclusion_proof(const lia_hash *leaves, uint64_t n, uint64_t m, lia_hash *proof, size_t *len)
{
    /* PATH(m, D[n]) walked from the top: each level contributes the head of
     * the sibling subtree; the proof lists them bottom first. */
    lia_hash tmp[LIA_MERKLE_PROOF_MAX];
    size_t k = 0;
    uint64_t lo = 0;
    if (m >= n)
        return LIA_EINVAL;
    while (n > 1) {
        uint64_t half = split(n);
        if (m < half) {
            lia__merkle_root(leaves + lo + half, n - half, &tmp[k++]);
            n = half;
        } else {
            lia__merkle_root(leaves + lo, half, &tmp[k++]);
            lo += half;
            m -= half;
            n -= half;
        }
    }
    for (size_t i = 0; i < k; i++)
        proof[i] = tmp[k - 1 - i];
    *len = k;
    return LIA_OK;
}

/* SUBPROOF(m, D[lo..lo+n), b) of RFC 6962 2.1.2, appended to proof. */
static void subproof(const lia_hash *leaves, uint64_t lo, uint64_t n, uint64_t m, int complete,
                     lia_hash *proof, size_t *len)
{
    if (m == n) {
        if (!complete)
            lia__merkle_root(leaves + lo, n, &proof[(*len)++]);
        return;
    }
    uint64_t half = split(n);
    if (m <= half) {
        subproof(leaves, lo, half, m, complete, proof, len);
        lia__merkle_root(leaves + lo + half, n - half, &proof[(*len)++]);
    } else {
        subproof(leaves, lo + half, n - half, m - half, 0, proof, len);
        lia__merkle_root(leaves + lo, half, &proof[(*len)++]);
    }
}

int lia__merkle_consistency_proof(const lia_hash *leaves, uint64_t n2, uint64_t n1, lia_hash *proof,
                                  size_t *len)
{
    size_t k = 0;
    if (n1 > n2)
        return LIA_EINVAL;
    if (n1 > 0 && n1 < n2)
        subproof(leaves, 0, n2, n1, 1, proof, &k);
    *len = k;
    return LIA_OK;
}

int lia_merkle_verify_inclusion(uint64_t m, uint64_t n, const lia_hash *leaf, const lia_hash *proof,
                                size_t len, const lia_hash *root)
{
    lia_hash r;
    uint64_t fn = m, sn;
    if (m >= n)
        return LIA_EINVAL;
    if (len > LIA_MERKLE_PROOF_MAX)
        return LIA_EAUTH;
    sn = n - 1;
    r = *leaf;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return LIA_EAUTH;
        if ((fn & 1) || fn == sn) {
            lia__merkle_node(&proof[i], &r, &r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            lia__merkle_node(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || sodium_memcmp(r.b, root->b, LIA_HASH_LEN) != 0)
        return LIA_EAUTH;
    return LIA_OK;
}

int lia_merkle_verify_consistency(uint64_t n1, uint64_t n2, const lia_hash *root1, const lia_hash *root2,
                                  const lia_hash *proof, size_t len)
{
    lia_hash fr, sr;
    uint64_t fn, sn;
    size_t i = 0;
    if (n1 > n2)
        return LIA_EINVAL;
    if (n1 == n2) /* the same tree: the same head, nothing to prove */
        return len == 0 && sodium_memcmp(root1->b, root2->b, LIA_HASH_LEN) == 0 ? LIA_OK : LIA_EAUTH;
    if (n1 == 0) /* the empty tree is a prefix of every tree */
        return len == 0 ? LIA_OK : LIA_EAUTH;
    if (len == 0 || len > LIA_MERKLE_PROOF_MAX)
        return LIA_EAUTH;
    fn = n1 - 1;
    sn = n2 - 1;
    /* A first tree that is a perfect subtree is its own first proof node. */
    if ((n1 & (n1 - 1)) == 0) {
        fr = *root1;
    } else {
        fr = proof[0];
        i = 1;
    }
    sr = fr;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < len; i++) {
        if (sn == 0)
            return LIA_EAUTH;
        if ((fn & 1) || fn == sn) {
            lia__merkle_node(&proof[i], &fr, &fr);
            lia__merkle_node(&proof[i], &sr, &sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            lia__merkle_node(&sr, &proof[i], &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || sodium_memcmp(fr.b, root1->b, LIA_HASH_LEN) != 0 ||
        sodium_memcmp(sr.b, root2->b, LIA_HASH_LEN) != 0)
        return LIA_EAUTH;
    return LIA_OK;
}
