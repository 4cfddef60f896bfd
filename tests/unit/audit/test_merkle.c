/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The RFC 6962 Merkle tree (src/audit/merkle.c): the worked test vectors used
 * by the certificate-transparency test suites (the 8-leaf tree, its roots
 * for every size and its proofs), every proof of every tree up to 64 leaves
 * against a naive recomputation of the RFC's recursive definitions, and
 * tampered proofs refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "liaison/audit.h"
#include "audit/log.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(h), 2 * n);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(lia_hexval(h[2 * i]) << 4 | lia_hexval(h[2 * i + 1]));
}

static void assert_hash(const lia_hash *got, const char *want_hex, const char *what)
{
    lia_hash want;
    char g[65];
    unhex(want_hex, want.b, 32);
    if (memcmp(got->b, want.b, 32) != 0) {
        for (int i = 0; i < 32; i++)
            snprintf(g + 2 * i, 3, "%02x", got->b[i]);
        fail_msg("%s: got %s, want %s", what, g, want_hex);
    }
}

/* The reference leaves (data, not leaf hashes) and the roots of their trees
 * of size 0..8, RFC 6962 test data as published by the CT test suites. */
static const char *const leaf_hex[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static const char *const root_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ref_leaves(lia_hash *leaves)
{
    for (int i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n = strlen(leaf_hex[i]) / 2;
        unhex(leaf_hex[i], data, n);
        lia__merkle_leaf(data, n, &leaves[i]);
    }
}

static void test_reference_roots(void **state)
{
    lia_hash leaves[8], root;
    lia_merkle_stream s = {0};
    (void)state;
    ref_leaves(leaves);
    for (uint64_t n = 0; n <= 8; n++) {
        char what[64];
        snprintf(what, sizeof what, "root of size %u", (unsigned)n);
        lia__merkle_root(leaves, n, &root);
        assert_hash(&root, root_hex[n], what);
        lia__merkle_stream_root(&s, &root);
        assert_hash(&root, root_hex[n], what);
        if (n < 8)
            lia__merkle_stream_add(&s, &leaves[n]);
    }
}

typedef struct vec {
    uint64_t a, b; /* inclusion: leaf index, tree size; consistency: size1, size2 */
    size_t len;
    const char *proof[3];
} vec;

/* Inclusion proofs (leaf index 0-based) and consistency proofs of the
 * reference tree, as in the CT / transparency-dev test vectors. */
static const vec inclusion[] = {
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, 0, {NULL}},
};
static const vec consistency[] = {
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {1, 1, 0, {NULL}},
};

static const char some_hash[] = "abacaba000000000000000000000000000000000000000000060061e00123456";

/* Every corruption of a valid inclusion proof that the CT suites try: wrong
 * index, size, leaf or root, extra hashes before or after, a flipped bit,
 * a removed or inserted hash. All must be refused. */
static void inclusion_probes(uint64_t m, uint64_t n, const lia_hash *leaf, const lia_hash *proof, size_t len,
                             const lia_hash *root)
{
    lia_hash p[LIA_MERKLE_PROOF_MAX + 2], other, empty, wrongleaf;
    unhex(some_hash, other.b, 32);
    crypto_hash_sha256(empty.b, (const unsigned char *)"", 0);
    lia__merkle_leaf("WrongLeaf", 9, &wrongleaf);
    if (m > 0)
        assert_int_not_equal(lia_merkle_verify_inclusion(m - 1, n, leaf, proof, len, root), LIA_OK);
    if (m + 1 < n)
        assert_int_not_equal(lia_merkle_verify_inclusion(m + 1, n, leaf, proof, len, root), LIA_OK);
    if ((m ^ 2) < n && (m ^ 2) != m)
        assert_int_not_equal(lia_merkle_verify_inclusion(m ^ 2, n, leaf, proof, len, root), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n * 2, leaf, proof, len, root), LIA_OK);
    if (m < n / 2)
        assert_int_not_equal(lia_merkle_verify_inclusion(m, n / 2, leaf, proof, len, root), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, &wrongleaf, proof, len, root), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, proof, len, &empty), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, proof, len, &other), LIA_OK);
    /* trailing and preceding hashes */
    memcpy(p, proof, len * sizeof *p);
    p[len] = *root;
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, p, len + 1, root), LIA_OK);
    p[0] = *root;
    memcpy(p + 1, proof, len * sizeof *p);
    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, p, len + 1, root), LIA_OK);
    for (size_t i = 0; i < len; i++) {
        memcpy(p, proof, len * sizeof *p);
        p[i].b[0] ^= 8;
        assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, p, len, root), LIA_OK);
    }
    if (len > 0)
        assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, proof, len - 1, root), LIA_OK);
    if (len > 1) {
        p[0] = proof[0];
        p[1] = other;
        memcpy(p + 2, proof + 1, (len - 1) * sizeof *p);
        assert_int_not_equal(lia_merkle_verify_inclusion(m, n, leaf, p, len + 1, root), LIA_OK);
    }
}

static void consistency_probes(uint64_t n1, uint64_t n2, const lia_hash *r1, const lia_hash *r2,
                               const lia_hash *proof, size_t len)
{
    lia_hash p[LIA_MERKLE_PROOF_MAX + 2], wrong;
    lia__merkle_leaf("WrongRoot", 9, &wrong);
    if (len == 0)
        return;
    assert_int_not_equal(lia_merkle_verify_consistency(n1 - 1, n2, r1, r2, proof, len), LIA_OK);
    if (n1 + 1 <= n2)
        assert_int_not_equal(lia_merkle_verify_consistency(n1 + 1, n2, r1, r2, proof, len), LIA_OK);
    if ((n1 ^ 2) <= n2)
        assert_int_not_equal(lia_merkle_verify_consistency(n1 ^ 2, n2, r1, r2, proof, len), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2 * 2, r1, r2, proof, len), LIA_OK);
    if (n1 <= n2 / 2)
        assert_int_not_equal(lia_merkle_verify_consistency(n1, n2 / 2, r1, r2, proof, len), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, &wrong, r2, proof, len), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, &wrong, proof, len), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r2, r1, proof, len), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, proof, 0), LIA_OK);
    memcpy(p, proof, len * sizeof *p);
    p[len] = *r1;
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, p, len + 1), LIA_OK);
    p[len] = *r2;
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, p, len + 1), LIA_OK);
    const lia_hash *pre[3] = {r1, r2, &proof[0]};
    for (int k = 0; k < 3; k++) {
        p[0] = *pre[k];
        memcpy(p + 1, proof, len * sizeof *p);
        assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, p, len + 1), LIA_OK);
    }
    assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, proof, len - 1), LIA_OK);
    for (size_t i = 0; i < len; i++) {
        memcpy(p, proof, len * sizeof *p);
        p[i].b[0] ^= 16;
        assert_int_not_equal(lia_merkle_verify_consistency(n1, n2, r1, r2, p, len), LIA_OK);
    }
}

static void test_reference_inclusion(void **state)
{
    lia_hash leaves[8], root, got[LIA_MERKLE_PROOF_MAX], want[3];
    (void)state;
    ref_leaves(leaves);
    for (size_t v = 0; v < sizeof inclusion / sizeof inclusion[0]; v++) {
        const vec *t = &inclusion[v];
        size_t len = 99;
        lia__merkle_root(leaves, t->b, &root);
        assert_hash(&root, root_hex[t->b], "root");
        assert_int_equal(lia__merkle_inclusion_proof(leaves, t->b, t->a, got, &len), LIA_OK);
        assert_int_equal(len, t->len);
        for (size_t i = 0; i < len; i++) {
            unhex(t->proof[i], want[i].b, 32);
            assert_hash(&got[i], t->proof[i], "inclusion proof hash");
        }
        assert_int_equal(lia_merkle_verify_inclusion(t->a, t->b, &leaves[t->a], want, len, &root), LIA_OK);
        inclusion_probes(t->a, t->b, &leaves[t->a], want, len, &root);
    }
}

static void test_reference_consistency(void **state)
{
    lia_hash leaves[8], r1, r2, got[LIA_MERKLE_PROOF_MAX], want[3];
    (void)state;
    ref_leaves(leaves);
    for (size_t v = 0; v < sizeof consistency / sizeof consistency[0]; v++) {
        const vec *t = &consistency[v];
        size_t len = 99;
        unhex(root_hex[t->a], r1.b, 32);
        unhex(root_hex[t->b], r2.b, 32);
        assert_int_equal(lia__merkle_consistency_proof(leaves, t->b, t->a, got, &len), LIA_OK);
        assert_int_equal(len, t->len);
        for (size_t i = 0; i < len; i++) {
            unhex(t->proof[i], want[i].b, 32);
            assert_hash(&got[i], t->proof[i], "consistency proof hash");
        }
        assert_int_equal(lia_merkle_verify_consistency(t->a, t->b, &r1, &r2, want, len), LIA_OK);
        consistency_probes(t->a, t->b, &r1, &r2, want, len);
    }
}

/* The edge cases of sizes 0 and equal sizes. */
static void test_consistency_edges(void **state)
{
    lia_hash a, b, empty;
    (void)state;
    lia__merkle_leaf("a", 1, &a);
    lia__merkle_leaf("b", 1, &b);
    crypto_hash_sha256(empty.b, (const unsigned char *)"", 0);
    assert_int_not_equal(lia_merkle_verify_consistency(0, 0, &a, &b, NULL, 0), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(1, 1, &a, &b, NULL, 0), LIA_OK);
    assert_int_equal(lia_merkle_verify_consistency(0, 0, &a, &a, NULL, 0), LIA_OK);
    assert_int_equal(lia_merkle_verify_consistency(0, 1, &a, &b, NULL, 0), LIA_OK);
    assert_int_equal(lia_merkle_verify_consistency(1, 1, &b, &b, NULL, 0), LIA_OK);
    assert_int_equal(lia_merkle_verify_consistency(1, 0, &a, &b, NULL, 0), LIA_EINVAL);
    assert_int_equal(lia_merkle_verify_consistency(2, 1, &a, &b, NULL, 0), LIA_EINVAL);
    assert_int_not_equal(lia_merkle_verify_consistency(1, 2, &a, &b, NULL, 0), LIA_OK);
    const lia_hash *pe = &empty;
    assert_int_not_equal(lia_merkle_verify_consistency(0, 0, &empty, &empty, pe, 1), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(0, 1, &empty, &empty, pe, 1), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_consistency(1, 1, &empty, &empty, pe, 1), LIA_OK);
    /* inclusion in an empty tree or past the end is not a proof */
    assert_int_not_equal(lia_merkle_verify_inclusion(0, 0, &a, NULL, 0, &empty), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(1, 1, &a, NULL, 0, &a), LIA_OK);
    assert_int_equal(lia_merkle_verify_inclusion(0, 1, &a, NULL, 0, &a), LIA_OK);
    assert_int_not_equal(lia_merkle_verify_inclusion(0, 1, &a, NULL, 0, &b), LIA_OK);
}

/* ---- naive recomputation: the RFC's recursive definitions, literally ---- */

static uint64_t k_of(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void naive_mth(const lia_hash *d, uint64_t n, lia_hash *out)
{
    lia_hash l, r;
    if (n == 0) {
        crypto_hash_sha256(out->b, (const unsigned char *)"", 0);
        return;
    }
    if (n == 1) {
        *out = d[0];
        return;
    }
    uint64_t k = k_of(n);
    naive_mth(d, k, &l);
    naive_mth(d + k, n - k, &r);
    lia__merkle_node(&l, &r, out);
}

static void naive_path(uint64_t m, const lia_hash *d, uint64_t n, lia_hash *out, size_t *len)
{
    if (n == 1)
        return;
    uint64_t k = k_of(n);
    if (m < k) {
        naive_path(m, d, k, out, len);
        naive_mth(d + k, n - k, &out[(*len)++]);
    } else {
        naive_path(m - k, d + k, n - k, out, len);
        naive_mth(d, k, &out[(*len)++]);
    }
}

static void naive_subproof(uint64_t m, const lia_hash *d, uint64_t n, int b, lia_hash *out, size_t *len)
{
    if (m == n) {
        if (!b)
            naive_mth(d, n, &out[(*len)++]);
        return;
    }
    uint64_t k = k_of(n);
    if (m <= k) {
        naive_subproof(m, d, k, b, out, len);
        naive_mth(d + k, n - k, &out[(*len)++]);
    } else {
        naive_subproof(m - k, d + k, n - k, 0, out, len);
        naive_mth(d, k, &out[(*len)++]);
    }
}

#define BIG 64

static void test_every_proof_up_to_64(void **state)
{
    static lia_hash leaves[BIG];
    lia_hash roots[BIG + 1];
    lia_merkle_stream s = {0};
    (void)state;
    for (int i = 0; i < BIG; i++) {
        uint8_t data[2] = {(uint8_t)i, (uint8_t)(i * 7)};
        lia__merkle_leaf(data, sizeof data, &leaves[i]);
    }
    for (uint64_t n = 0; n <= BIG; n++) {
        lia_hash fast, st;
        naive_mth(leaves, n, &roots[n]);
        lia__merkle_root(leaves, n, &fast);
        lia__merkle_stream_root(&s, &st);
        assert_memory_equal(fast.b, roots[n].b, 32);
        assert_memory_equal(st.b, roots[n].b, 32);
        if (n < BIG)
            lia__merkle_stream_add(&s, &leaves[n]);
    }
    for (uint64_t n = 1; n <= BIG; n++) {
        for (uint64_t m = 0; m < n; m++) {
            lia_hash got[LIA_MERKLE_PROOF_MAX], want[LIA_MERKLE_PROOF_MAX];
            size_t glen = 0, wlen = 0;
            assert_int_equal(lia__merkle_inclusion_proof(leaves, n, m, got, &glen), LIA_OK);
            naive_path(m, leaves, n, want, &wlen);
            assert_int_equal(glen, wlen);
            assert_memory_equal(got, want, glen * 32);
            if (lia_merkle_verify_inclusion(m, n, &leaves[m], got, glen, &roots[n]) != LIA_OK)
                fail_msg("inclusion of leaf %u in size %u does not verify", (unsigned)m, (unsigned)n);
            inclusion_probes(m, n, &leaves[m], got, glen, &roots[n]);
            /* a proof for one leaf is no proof for any other leaf */
            for (uint64_t o = 0; o < n; o++)
                if (o != m)
                    assert_int_not_equal(lia_merkle_verify_inclusion(m, n, &leaves[o], got, glen, &roots[n]),
                                         LIA_OK);
        }
        assert_int_equal(lia__merkle_inclusion_proof(leaves, n, n, NULL, NULL), LIA_EINVAL);
        for (uint64_t n1 = 0; n1 <= n; n1++) {
            lia_hash got[LIA_MERKLE_PROOF_MAX], want[LIA_MERKLE_PROOF_MAX];
            size_t glen = 0, wlen = 0;
            assert_int_equal(lia__merkle_consistency_proof(leaves, n, n1, got, &glen), LIA_OK);
            if (n1 > 0 && n1 < n)
                naive_subproof(n1, leaves, n, 1, want, &wlen);
            assert_int_equal(glen, wlen);
            assert_memory_equal(got, want, glen * 32);
            if (lia_merkle_verify_consistency(n1, n, &roots[n1], &roots[n], got, glen) != LIA_OK)
                fail_msg("consistency %u -> %u does not verify", (unsigned)n1, (unsigned)n);
            if (n1 > 0 && n1 < n) {
                consistency_probes(n1, n, &roots[n1], &roots[n], got, glen);
                /* the head of another first tree is not consistent */
                for (uint64_t o = 1; o < n; o++)
                    if (o != n1)
                        assert_int_not_equal(
                            lia_merkle_verify_consistency(n1, n, &roots[o], &roots[n], got, glen), LIA_OK);
            }
        }
        assert_int_equal(lia__merkle_consistency_proof(leaves, n, n + 1, NULL, NULL), LIA_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_roots),       cmocka_unit_test(test_reference_inclusion),
        cmocka_unit_test(test_reference_consistency), cmocka_unit_test(test_consistency_edges),
        cmocka_unit_test(test_every_proof_up_to_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
