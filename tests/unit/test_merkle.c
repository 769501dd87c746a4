/*
 * Tests for anchor/merkle.c (RFC 9162 §2.1) against a naive reference written straight from the
 * RFC text, the RFC 6962 test vectors published by certificate-transparency / transparency-dev
 * (merkle/testonly/constants.go, testonly/reference_test.go, proof/verify_test.go), and Go's
 * sumdb/tlog storage order.
 *
 * The reader hands out only subtrees that are complete within the tree size asked about, so an
 * implementation that peeks at hashes of a larger tree fails; it also counts calls, so the
 * O(log n) bound is checked, not assumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "testutil.h"
#include <openssl/evp.h>
#include <pthread.h>

#include "credanchor/merkle.h"

/* Every check goes through CHECK so the run can report how many it made. */
static unsigned long g_checks;
#define CHECK(cond) \
    do { g_checks++; assert_true(cond); } while (0)
#define CHECK_HASH_EQ(x, y) \
    do { g_checks++; assert_memory_equal((x)->b, (y)->b, CA_HASH_SIZE); } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap && strlen(hex) % 2 == 0);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static ca_hash H(const char *hex)
{
    ca_hash h;
    assert_int_equal(unhex(h.b, sizeof h.b, hex), CA_HASH_SIZE);
    return h;
}

static unsigned bitlen(uint64_t x)
{
    return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x);
}

/* ---------------------------------------------------------------------------------------- */
/* Reference: RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH, §2.1.4.1 PROOF, recursive, as written       */
/* ---------------------------------------------------------------------------------------- */

#define MAXN 640 /* leaves in the generic fixture: sizes up to 300, and twice that for probes */

static ca_hash g_leaf[MAXN]; /* D[i] as leaf hashes: MTH({d(i)}) = SHA-256(0x00 || d(i)) */
static size_t g_nleaf;
/* MTH is a pure function of the leaves, so it is memoised per (lo, hi): the recursion below is
 * the RFC's, the cache only keeps the test fast under sanitizers. */
static ca_hash (*g_memo)[MAXN + 1];
static bool (*g_have)[MAXN + 1];

static void ref_set_leaves(const ca_hash *leaves, size_t n)
{
    assert_true(n <= MAXN);
    memcpy(g_leaf, leaves, n * sizeof *leaves);
    g_nleaf = n;
    if (g_memo == NULL) {
        g_memo = calloc(MAXN + 1, sizeof *g_memo);
        g_have = calloc(MAXN + 1, sizeof *g_have);
        assert_non_null(g_memo);
        assert_non_null(g_have);
    }
    memset(g_have, 0, (MAXN + 1) * sizeof *g_have);
}

/* The largest power of two smaller than n (n > 1). */
static size_t ref_k(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[lo:hi]). */
static ca_hash ref_mth(size_t lo, size_t hi)
{
    assert_true(lo <= hi && hi <= g_nleaf);
    ca_hash r;
    if (hi == lo) {
        ca_merkle_empty_root(&r);
        return r;
    }
    if (hi - lo == 1)
        return g_leaf[lo];
    if (g_have[lo][hi])
        return g_memo[lo][hi];
    size_t k = ref_k(hi - lo);
    ca_hash l = ref_mth(lo, lo + k), rr = ref_mth(lo + k, hi);
    ca_merkle_node_hash(&r, &l, &rr);
    g_memo[lo][hi] = r;
    g_have[lo][hi] = true;
    return r;
}

/* PATH(m, D[lo:hi]) appended to out. */
static void ref_path(ca_hash *out, size_t *len, size_t m, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    if (n == 1)
        return; /* PATH(0, {d(0)}) = {} */
    size_t k = ref_k(n);
    if (m < k) {
        ref_path(out, len, m, lo, lo + k);
        out[(*len)++] = ref_mth(lo + k, hi);
    } else {
        ref_path(out, len, m - k, lo + k, hi);
        out[(*len)++] = ref_mth(lo, lo + k);
    }
}

/* SUBPROOF(m, D[lo:hi], b) appended to out. */
static void ref_subproof(ca_hash *out, size_t *len, size_t m, size_t lo, size_t hi, bool b)
{
    size_t n = hi - lo;
    if (m == n) {
        if (!b)
            out[(*len)++] = ref_mth(lo, hi);
        return;
    }
    size_t k = ref_k(n);
    if (m <= k) {
        ref_subproof(out, len, m, lo, lo + k, b);
        out[(*len)++] = ref_mth(lo + k, hi);
    } else {
        ref_subproof(out, len, m - k, lo + k, hi, false);
        out[(*len)++] = ref_mth(lo, lo + k);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* In-memory reader over complete subtrees                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct mem_tree {
    ca_hash *level[64]; /* level[L][k] = MTH of leaves [k << L, (k + 1) << L) */
    size_t width[64];
    uint64_t limit;     /* the tree size being asked about: nothing beyond it may be read */
    unsigned long calls;
    bool bad;           /* set when a read went outside the tree of size limit */
    long fail_after;    /* >= 0: the read after this many calls fails with CA_ERR_STORE */
} mem_tree;

static void mem_build(mem_tree *t, size_t n)
{
    memset(t, 0, sizeof *t);
    t->fail_after = -1;
    for (unsigned l = 0; l < 64 && (n >> l) > 0; l++) {
        t->width[l] = n >> l;
        t->level[l] = calloc(t->width[l], sizeof(ca_hash));
        assert_non_null(t->level[l]);
        for (size_t k = 0; k < t->width[l]; k++)
            t->level[l][k] = ref_mth(k << l, (k + 1) << l);
    }
}

static void mem_free(mem_tree *t)
{
    for (unsigned l = 0; l < 64; l++)
        free(t->level[l]);
    memset(t, 0, sizeof *t);
}

static ca_err mem_read(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    mem_tree *t = ctx;
    if (t->fail_after >= 0 && t->calls >= (unsigned long)t->fail_after) {
        t->calls++;
        return CA_ERR_STORE;
    }
    t->calls++;
    if (level >= 64 || index >= t->width[level] || index + 1 > (t->limit >> level)) {
        t->bad = true;
        return CA_ERR_NOT_FOUND;
    }
    *out = t->level[level][index];
    return CA_OK;
}

static mem_tree g_tree; /* over g_leaf[0..MAXN) */

/* Deterministic leaves: digest i = SHA-256(8-byte big-endian i), leaf = SHA-256(0x00 || digest).
 */
static void fixture_leaves(void)
{
    static ca_hash leaves[MAXN];
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    assert_non_null(md);
    for (size_t i = 0; i < MAXN; i++) {
        uint8_t ctr[8], digest[32];
        for (int j = 0; j < 8; j++)
            ctr[j] = (uint8_t)((uint64_t)i >> (56 - 8 * j));
        assert_int_equal(EVP_Digest(ctr, sizeof ctr, digest, NULL, md, NULL), 1);
        ca_merkle_leaf_hash(&leaves[i], digest);
    }
    EVP_MD_free(md);
    ref_set_leaves(leaves, MAXN);
}

static int setup_generic(void **state)
{
    (void)state;
    fixture_leaves();
    mem_build(&g_tree, MAXN);
    return 0;
}

static int teardown_generic(void **state)
{
    (void)state;
    mem_free(&g_tree);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Hash primitives                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void test_hash_primitives(void **state)
{
    (void)state;
    ca_hash e, want = H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ca_merkle_empty_root(&e);
    CHECK_HASH_EQ(&e, &want);

    /* leaf and node hashes against a direct one-shot SHA-256 of the prefixed input */
    uint8_t buf[65];
    for (int i = 0; i < 65; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    ca_hash l, r, got, direct;
    memcpy(l.b, buf + 1, 32);
    memcpy(r.b, buf + 33, 32);
    buf[0] = 0x01;
    assert_int_equal(EVP_Digest(buf, 65, direct.b, NULL, EVP_sha256(), NULL), 1);
    ca_merkle_node_hash(&got, &l, &r);
    CHECK_HASH_EQ(&got, &direct);
    /* out may alias either input */
    ca_hash a = l;
    ca_merkle_node_hash(&a, &a, &r);
    CHECK_HASH_EQ(&a, &direct);
    a = r;
    ca_merkle_node_hash(&a, &l, &a);
    CHECK_HASH_EQ(&a, &direct);

    buf[0] = 0x00;
    assert_int_equal(EVP_Digest(buf, 33, direct.b, NULL, EVP_sha256(), NULL), 1);
    ca_merkle_leaf_hash(&got, buf + 1);
    CHECK_HASH_EQ(&got, &direct);
    ca_merkle_leaf_hash_data(&got, buf + 1, 32);
    CHECK_HASH_EQ(&got, &direct);
    /* the empty leaf: SHA-256(0x00), RFC 6962's first test leaf */
    ca_merkle_leaf_hash_data(&got, NULL, 0);
    want = H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    CHECK_HASH_EQ(&got, &want);
}

/* ---------------------------------------------------------------------------------------- */
/* Published RFC 6962 vectors (transparency-dev/merkle testonly + proof/verify_test.go)       */
/* ---------------------------------------------------------------------------------------- */

static const char *const vec_inputs[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* RootHashes(): index = tree size. */
static const char *const vec_roots[9] = {
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

/* NodeHashes(): every complete subtree of the 8-leaf tree, by level. */
static const char *const vec_nodes_l0[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const vec_nodes_l1[4] = {
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
static const char *const vec_nodes_l2[2] = {
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};

typedef struct vec_proof {
    uint64_t a, b; /* inclusion: leaf index, tree size; consistency: m, n */
    size_t len;
    const char *hashes[4];
} vec_proof;

/* proof/verify_test.go inclusionProofs (leaf numbers there are 1-based) and
 * testonly/reference_test.go TestRefInclusionProof. */
static const vec_proof vec_inclusion[] = {
    {0, 1, 0, {NULL}},
    {0, 2, 1, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
    {1, 2, 1, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* proof/verify_test.go consistencyProofs and reference_test.go TestRefConsistencyProof. */
static const vec_proof vec_consistency[] = {
    {1, 1, 0, {NULL}},
    {1, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* Go's corruptInclusionProof probes: every one must fail. */
static void vec_inclusion_probes(const ca_hash *leaf, uint64_t index, uint64_t n,
                                 const ca_hash *proof, size_t len, const ca_hash *root)
{
    ca_hash some = H("abacaba000000000000000000000000000000000000000000060061e00123456");
    ca_hash empty = H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ca_hash zero = {{0}}, wrong_leaf;
    ca_merkle_leaf_hash_data(&wrong_leaf, (const uint8_t *)"WrongLeaf", 9);
    ca_hash p[CA_MERKLE_MAX_PROOF + 2];

    CHECK(ca_merkle_inclusion_verify(leaf, index - 1, n, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index + 1, n, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index ^ 2, n, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index, n * 2, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index, n / 2, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(&wrong_leaf, index, n, proof, len, root) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, proof, len, &empty) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, proof, len, &some) == CA_ERR_VERIFY);
    /* trailing garbage / trailing root */
    memcpy(p, proof, len * sizeof *p);
    p[len] = zero;
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len + 1, root) == CA_ERR_VERIFY);
    p[len] = *root;
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len + 1, root) == CA_ERR_VERIFY);
    /* preceding garbage / preceding root */
    memcpy(p + 1, proof, len * sizeof *p);
    p[0] = zero;
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len + 1, root) == CA_ERR_VERIFY);
    p[0] = *root;
    CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len + 1, root) == CA_ERR_VERIFY);
    for (size_t i = 0; i < len; i++) {
        memcpy(p, proof, len * sizeof *p);
        p[i].b[0] ^= 8;
        CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len, root) == CA_ERR_VERIFY);
    }
    if (len > 0)
        CHECK(ca_merkle_inclusion_verify(leaf, index, n, proof, len - 1, root) == CA_ERR_VERIFY);
    if (len > 1) {
        p[0] = proof[0];
        p[1] = some;
        memcpy(p + 2, proof + 1, (len - 1) * sizeof *p);
        CHECK(ca_merkle_inclusion_verify(leaf, index, n, p, len + 1, root) == CA_ERR_VERIFY);
    }
}

/* Go's corruptConsistencyProof probes: every one must fail. */
static void vec_consistency_probes(uint64_t m, uint64_t n, const ca_hash *r1, const ca_hash *r2,
                                   const ca_hash *proof, size_t len)
{
    ca_hash wrong, zero = {{0}};
    ca_merkle_leaf_hash_data(&wrong, (const uint8_t *)"WrongRoot", 9);
    ca_hash p[CA_MERKLE_MAX_PROOF + 2];

    CHECK(ca_merkle_consistency_verify(m - 1, n, r1, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m + 1, n, r1, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m ^ 2, n, r1, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n * 2, r1, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n / 2, r1, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n, &wrong, r2, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n, r1, &wrong, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n, r2, r1, proof, len) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(m, n, r1, r2, proof, 0) == CA_ERR_VERIFY);
    const ca_hash *tails[3] = {&zero, r1, r2};
    for (int t = 0; t < 3; t++) {
        memcpy(p, proof, len * sizeof *p);
        p[len] = *tails[t];
        CHECK(ca_merkle_consistency_verify(m, n, r1, r2, p, len + 1) == CA_ERR_VERIFY);
    }
    const ca_hash *heads[4] = {&zero, r1, r2, &proof[0]};
    for (int t = 0; t < 4; t++) {
        memcpy(p + 1, proof, len * sizeof *p);
        p[0] = *heads[t];
        CHECK(ca_merkle_consistency_verify(m, n, r1, r2, p, len + 1) == CA_ERR_VERIFY);
    }
    CHECK(ca_merkle_consistency_verify(m, n, r1, r2, proof, len - 1) == CA_ERR_VERIFY);
    for (size_t i = 0; i < len; i++) {
        memcpy(p, proof, len * sizeof *p);
        p[i].b[0] ^= 16;
        CHECK(ca_merkle_consistency_verify(m, n, r1, r2, p, len) == CA_ERR_VERIFY);
    }
}

static void test_rfc6962_vectors(void **state)
{
    (void)state;
    ca_hash leaves[8];
    for (int i = 0; i < 8; i++) {
        uint8_t d[16];
        size_t dl = unhex(d, sizeof d, vec_inputs[i]);
        ca_merkle_leaf_hash_data(&leaves[i], d, dl);
        ca_hash want = H(vec_nodes_l0[i]);
        CHECK_HASH_EQ(&leaves[i], &want);
    }
    ref_set_leaves(leaves, 8);
    mem_tree t;
    mem_build(&t, 8);
    t.limit = 8;
    for (int k = 0; k < 4; k++) {
        ca_hash want = H(vec_nodes_l1[k]);
        CHECK_HASH_EQ(&t.level[1][k], &want);
    }
    for (int k = 0; k < 2; k++) {
        ca_hash want = H(vec_nodes_l2[k]);
        CHECK_HASH_EQ(&t.level[2][k], &want);
    }

    /* roots for sizes 0..8, through the reader and through the builder */
    ca_merkle_builder b;
    ca_merkle_builder_init(&b);
    for (uint64_t n = 0; n <= 8; n++) {
        ca_hash want = H(vec_roots[n]), got;
        t.limit = n;
        CHECK(ca_merkle_root(&got, mem_read, &t, n) == CA_OK);
        CHECK(!t.bad);
        CHECK_HASH_EQ(&got, &want);
        ca_merkle_builder_root(&b, &got);
        CHECK_HASH_EQ(&got, &want);
        got = ref_mth(0, n);
        CHECK_HASH_EQ(&got, &want);
        if (n < 8)
            ca_merkle_builder_add(&b, &leaves[n]);
    }

    for (size_t v = 0; v < sizeof vec_inclusion / sizeof vec_inclusion[0]; v++) {
        const vec_proof *vp = &vec_inclusion[v];
        ca_hash want[4], got[CA_MERKLE_MAX_PROOF], root = H(vec_roots[vp->b]);
        for (size_t i = 0; i < vp->len; i++)
            want[i] = H(vp->hashes[i]);
        size_t len = 99;
        t.limit = vp->b;
        CHECK(ca_merkle_inclusion_prove(got, &len, mem_read, &t, vp->a, vp->b) == CA_OK);
        CHECK(!t.bad);
        CHECK(len == vp->len);
        for (size_t i = 0; i < len; i++)
            CHECK_HASH_EQ(&got[i], &want[i]);
        CHECK(ca_merkle_inclusion_verify(&leaves[vp->a], vp->a, vp->b, want, vp->len, &root) ==
              CA_OK);
        if (vp->b > 1)
            vec_inclusion_probes(&leaves[vp->a], vp->a, vp->b, want, vp->len, &root);
    }

    for (size_t v = 0; v < sizeof vec_consistency / sizeof vec_consistency[0]; v++) {
        const vec_proof *vp = &vec_consistency[v];
        ca_hash want[4], got[CA_MERKLE_MAX_PROOF];
        ca_hash r1 = H(vec_roots[vp->a]), r2 = H(vec_roots[vp->b]);
        for (size_t i = 0; i < vp->len; i++)
            want[i] = H(vp->hashes[i]);
        size_t len = 99;
        t.limit = vp->b;
        CHECK(ca_merkle_consistency_prove(got, &len, mem_read, &t, vp->a, vp->b) == CA_OK);
        CHECK(!t.bad);
        CHECK(len == vp->len);
        for (size_t i = 0; i < len; i++)
            CHECK_HASH_EQ(&got[i], &want[i]);
        CHECK(ca_merkle_consistency_verify(vp->a, vp->b, &r1, &r2, want, vp->len) == CA_OK);
        if (vp->len > 0)
            vec_consistency_probes(vp->a, vp->b, &r1, &r2, want, vp->len);
    }

    /* TestVerifyConsistency's fixed cases that concern 0 < m <= n. */
    ca_hash empty = H(vec_roots[0]), some = H(vec_roots[3]);
    CHECK(ca_merkle_consistency_verify(1, 1, &some, &some, NULL, 0) == CA_OK);
    CHECK(ca_merkle_consistency_verify(1, 1, &empty, &some, NULL, 0) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(1, 1, &empty, &empty, &empty, 1) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(1, 0, &some, &some, NULL, 0) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(2, 1, &some, &some, NULL, 0) == CA_ERR_VERIFY);
    CHECK(ca_merkle_consistency_verify(1, 2, &some, &empty, NULL, 0) == CA_ERR_VERIFY);
    /* TestVerifyInclusion: sizes with no valid index */
    CHECK(ca_merkle_inclusion_verify(&some, 0, 0, NULL, 0, &empty) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(&some, 1, 0, NULL, 0, &empty) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(&some, 2, 1, NULL, 0, &some) == CA_ERR_VERIFY);
    /* TestVerifyInclusionSingleEntry */
    ca_hash single;
    ca_merkle_leaf_hash_data(&single, (const uint8_t *)"data", 4);
    CHECK(ca_merkle_inclusion_verify(&single, 0, 1, NULL, 0, &single) == CA_OK);
    CHECK(ca_merkle_inclusion_verify(&single, 0, 1, NULL, 0, &empty) == CA_ERR_VERIFY);
    CHECK(ca_merkle_inclusion_verify(&empty, 0, 1, NULL, 0, &single) == CA_ERR_VERIFY);

    mem_free(&t);
    fixture_leaves(); /* restore the generic leaves for the tests that follow */
}

/* ---------------------------------------------------------------------------------------- */
/* Exhaustive comparison with the reference                                                   */
/* ---------------------------------------------------------------------------------------- */

static void test_inclusion_all(void **state)
{
    (void)state;
    mem_tree *t = &g_tree;
    for (uint64_t n = 1; n <= 300; n++) {
        ca_hash root, want_root = ref_mth(0, n);
        t->limit = n;
        t->calls = 0;
        CHECK(ca_merkle_root(&root, mem_read, t, n) == CA_OK);
        CHECK(t->calls == (unsigned long)__builtin_popcountll(n));
        CHECK_HASH_EQ(&root, &want_root);
        for (uint64_t i = 0; i < n; i++) {
            ca_hash want[CA_MERKLE_MAX_PROOF], got[CA_MERKLE_MAX_PROOF];
            size_t want_len = 0, len = 99;
            ref_path(want, &want_len, i, 0, n);
            t->calls = 0;
            CHECK(ca_merkle_inclusion_prove(got, &len, mem_read, t, i, n) == CA_OK);
            CHECK(!t->bad);
            /* one read per proof element, plus the peaks of at most one right-edge node */
            CHECK(t->calls <= len + bitlen(n));
            CHECK(len == want_len);
            for (size_t j = 0; j < len; j++)
                CHECK_HASH_EQ(&got[j], &want[j]);
            CHECK(ca_merkle_inclusion_verify(&g_leaf[i], i, n, got, len, &root) == CA_OK);
        }
        size_t len = 99;
        ca_hash p[CA_MERKLE_MAX_PROOF];
        CHECK(ca_merkle_inclusion_prove(p, &len, mem_read, t, n, n) == CA_ERR_RANGE);
        CHECK(len == 0);
        CHECK(ca_merkle_inclusion_prove(p, &len, mem_read, t, UINT64_MAX, n) == CA_ERR_RANGE);
    }
    ca_hash p[CA_MERKLE_MAX_PROOF];
    size_t len;
    CHECK(ca_merkle_inclusion_prove(p, &len, mem_read, t, 0, 0) == CA_ERR_RANGE);
}

static void check_consistency(uint64_t m, uint64_t n)
{
    mem_tree *t = &g_tree;
    ca_hash want[CA_MERKLE_MAX_PROOF + 1], got[CA_MERKLE_MAX_PROOF];
    size_t want_len = 0, len = 99;
    ref_subproof(want, &want_len, m, 0, n, true);
    t->limit = n;
    t->calls = 0;
    CHECK(ca_merkle_consistency_prove(got, &len, mem_read, t, m, n) == CA_OK);
    CHECK(!t->bad);
    CHECK(t->calls <= len + bitlen(n));
    CHECK(len == want_len);
    for (size_t j = 0; j < len; j++)
        CHECK_HASH_EQ(&got[j], &want[j]);
    ca_hash r1 = ref_mth(0, m), r2 = ref_mth(0, n);
    CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, got, len) == CA_OK);
}

static void test_consistency_all(void **state)
{
    (void)state;
    /* every pair up to 128 (the brief asks for 64; it is cheap) */
    for (uint64_t n = 1; n <= 128; n++)
        for (uint64_t m = 1; m <= n; m++)
            check_consistency(m, n);
    /* a spread of larger pairs */
    for (uint64_t n = 129; n <= 300; n += 7)
        for (uint64_t m = 1; m <= n; m += 1 + m / 3)
            check_consistency(m, n);
    for (uint64_t n = 129; n <= 300; n++) {
        check_consistency(n - 1, n);
        check_consistency(1, n);
    }

    mem_tree *t = &g_tree;
    ca_hash p[CA_MERKLE_MAX_PROOF];
    size_t len = 99;
    t->limit = 10;
    CHECK(ca_merkle_consistency_prove(p, &len, mem_read, t, 0, 10) == CA_ERR_RANGE);
    CHECK(len == 0);
    CHECK(ca_merkle_consistency_prove(p, &len, mem_read, t, 11, 10) == CA_ERR_RANGE);
    CHECK(ca_merkle_consistency_prove(p, &len, mem_read, t, 0, 0) == CA_ERR_RANGE);
    CHECK(ca_merkle_consistency_prove(p, &len, mem_read, t, 10, 10) == CA_OK);
    CHECK(len == 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Negatives                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static const uint64_t neg_sizes[] = {1,  2,  3,  4,  5,   6,   7,   8,   9,   15,  16, 17,
                                     31, 33, 63, 64, 65,  100, 127, 128, 129, 255, 256, 257, 300};

static void test_inclusion_negative(void **state)
{
    (void)state;
    mem_tree *t = &g_tree;
    for (size_t s = 0; s < sizeof neg_sizes / sizeof neg_sizes[0]; s++) {
        const uint64_t n = neg_sizes[s];
        const uint64_t step = n <= 17 ? 1 : n / 7;
        for (uint64_t i = 0; i < n; i += step) {
            ca_hash path[CA_MERKLE_MAX_PROOF + 2], p[CA_MERKLE_MAX_PROOF + 2];
            size_t len;
            t->limit = n;
            CHECK(ca_merkle_inclusion_prove(path, &len, mem_read, t, i, n) == CA_OK);
            ca_hash root = ref_mth(0, n), leaf = g_leaf[i];
            CHECK(ca_merkle_inclusion_verify(&leaf, i, n, path, len, &root) == CA_OK);

            /* every bit of every path element, of the leaf hash and of the root */
            for (size_t j = 0; j < len; j++)
                for (unsigned bit = 0; bit < 256; bit++) {
                    memcpy(p, path, len * sizeof *p);
                    p[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    CHECK(ca_merkle_inclusion_verify(&leaf, i, n, p, len, &root) ==
                          CA_ERR_VERIFY);
                }
            for (unsigned bit = 0; bit < 256; bit++) {
                ca_hash bad = leaf;
                bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                CHECK(ca_merkle_inclusion_verify(&bad, i, n, path, len, &root) == CA_ERR_VERIFY);
                bad = root;
                bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                CHECK(ca_merkle_inclusion_verify(&leaf, i, n, path, len, &bad) == CA_ERR_VERIFY);
            }
            /* truncated, extended at either end, with a hash of the right shape */
            if (len > 0) {
                CHECK(ca_merkle_inclusion_verify(&leaf, i, n, path, len - 1, &root) ==
                      CA_ERR_VERIFY);
                CHECK(ca_merkle_inclusion_verify(&leaf, i, n, path + 1, len - 1, &root) ==
                      CA_ERR_VERIFY);
            }
            memcpy(p, path, len * sizeof *p);
            p[len] = len > 0 ? path[len - 1] : root;
            CHECK(ca_merkle_inclusion_verify(&leaf, i, n, p, len + 1, &root) == CA_ERR_VERIFY);
            memcpy(p + 1, path, len * sizeof *p);
            p[0] = leaf;
            CHECK(ca_merkle_inclusion_verify(&leaf, i, n, p, len + 1, &root) == CA_ERR_VERIFY);
            /* wrong index */
            for (uint64_t j = 0; j < n; j += (n <= 17 ? 1 : 3))
                if (j != i)
                    CHECK(ca_merkle_inclusion_verify(&leaf, j, n, path, len, &root) ==
                          CA_ERR_VERIFY);
            CHECK(ca_merkle_inclusion_verify(&leaf, n, n, path, len, &root) == CA_ERR_VERIFY);
            CHECK(ca_merkle_inclusion_verify(&leaf, UINT64_MAX, n, path, len, &root) ==
                  CA_ERR_VERIFY);
            /* wrong tree size, against that size's real root */
            const uint64_t others[] = {n - 1, n + 1, n * 2, n / 2, n + 5};
            for (size_t o = 0; o < sizeof others / sizeof others[0]; o++) {
                uint64_t n2 = others[o];
                if (n2 == n || n2 <= i || n2 > MAXN)
                    continue;
                ca_hash root2 = ref_mth(0, n2);
                CHECK(ca_merkle_inclusion_verify(&leaf, i, n2, path, len, &root2) ==
                      CA_ERR_VERIFY);
            }
            /* Go's "treeSize * 2" and "treeSize / 2" against the original root */
            CHECK(ca_merkle_inclusion_verify(&leaf, i, n * 2, path, len, &root) ==
                  CA_ERR_VERIFY);
            CHECK(ca_merkle_inclusion_verify(&leaf, i, n / 2, path, len, &root) ==
                  CA_ERR_VERIFY);
            CHECK(ca_merkle_inclusion_verify(&leaf, i, 0, path, len, &root) == CA_ERR_VERIFY);
        }
    }
}

static void test_consistency_negative(void **state)
{
    (void)state;
    mem_tree *t = &g_tree;
    for (size_t s = 0; s < sizeof neg_sizes / sizeof neg_sizes[0]; s++) {
        const uint64_t n = neg_sizes[s];
        const uint64_t step = n <= 17 ? 1 : n / 6;
        for (uint64_t m = 1; m <= n; m += step) {
            ca_hash path[CA_MERKLE_MAX_PROOF + 2], p[CA_MERKLE_MAX_PROOF + 2];
            size_t len;
            t->limit = n;
            CHECK(ca_merkle_consistency_prove(path, &len, mem_read, t, m, n) == CA_OK);
            ca_hash r1 = ref_mth(0, m), r2 = ref_mth(0, n);
            CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, path, len) == CA_OK);

            for (size_t j = 0; j < len; j++)
                for (unsigned bit = 0; bit < 256; bit++) {
                    memcpy(p, path, len * sizeof *p);
                    p[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, p, len) ==
                          CA_ERR_VERIFY);
                }
            for (unsigned bit = 0; bit < 256; bit++) {
                ca_hash bad = r1;
                bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                CHECK(ca_merkle_consistency_verify(m, n, &bad, &r2, path, len) == CA_ERR_VERIFY);
                bad = r2;
                bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                CHECK(ca_merkle_consistency_verify(m, n, &r1, &bad, path, len) == CA_ERR_VERIFY);
            }
            /* truncated / extended */
            if (len > 0) {
                CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, path, len - 1) ==
                      CA_ERR_VERIFY);
                CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, path + 1, len - 1) ==
                      CA_ERR_VERIFY);
            }
            const ca_hash *extra[3] = {&r1, &r2, len > 0 ? &path[len - 1] : &r1};
            for (int e = 0; e < 3; e++) {
                memcpy(p, path, len * sizeof *p);
                p[len] = *extra[e];
                CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, p, len + 1) ==
                      CA_ERR_VERIFY);
                memcpy(p + 1, path, len * sizeof *p);
                p[0] = *extra[e];
                CHECK(ca_merkle_consistency_verify(m, n, &r1, &r2, p, len + 1) ==
                      CA_ERR_VERIFY);
            }
            /* wrong sizes (with the real roots of those sizes), swapped roots */
            const uint64_t olds[] = {m - 1, m + 1, m ^ 2, n + 1};
            for (size_t o = 0; o < sizeof olds / sizeof olds[0]; o++) {
                uint64_t m2 = olds[o];
                if (m2 == m || m2 > MAXN)
                    continue;
                ca_hash r1b = ref_mth(0, m2);
                CHECK(ca_merkle_consistency_verify(m2, n, &r1b, &r2, path, len) ==
                      CA_ERR_VERIFY);
            }
            const uint64_t news[] = {n - 1, n + 1, n * 2, n / 2};
            for (size_t o = 0; o < sizeof news / sizeof news[0]; o++) {
                uint64_t n2 = news[o];
                if (n2 == n || n2 > MAXN)
                    continue;
                ca_hash r2b = ref_mth(0, n2);
                CHECK(ca_merkle_consistency_verify(m, n2, &r1, &r2b, path, len) ==
                      CA_ERR_VERIFY);
                /* Go's "size2 * 2" and "size2 / 2" keep the original root. n +- 1 with the
                 * original root can verify: the RFC verifier uses n only for the proof's
                 * shape, and sizes with the same shape share it (the root binds the size). */
                if (o >= 2)
                    CHECK(ca_merkle_consistency_verify(m, n2, &r1, &r2, path, len) ==
                          CA_ERR_VERIFY);
            }
            if (m != n)
                CHECK(ca_merkle_consistency_verify(m, n, &r2, &r1, path, len) == CA_ERR_VERIFY);
            /* m > n and m == 0 are rejected whatever the proof */
            CHECK(ca_merkle_consistency_verify(n + 1, n, &r2, &r2, path, len) == CA_ERR_VERIFY);
            CHECK(ca_merkle_consistency_verify(n, m, &r2, &r1, path, len) ==
                  (m == n ? CA_OK : CA_ERR_VERIFY));
            CHECK(ca_merkle_consistency_verify(0, n, &r1, &r2, path, len) == CA_ERR_VERIFY);
            ca_hash empty;
            ca_merkle_empty_root(&empty);
            CHECK(ca_merkle_consistency_verify(0, n, &empty, &r2, path, len) == CA_ERR_VERIFY);
            CHECK(ca_merkle_consistency_verify(0, n, &empty, &r2, NULL, 0) == CA_ERR_VERIFY);
        }
        /* m == n: empty proof and equal roots only */
        ca_hash r = ref_mth(0, n), other = ref_mth(0, n - 1);
        CHECK(ca_merkle_consistency_verify(n, n, &r, &r, NULL, 0) == CA_OK);
        CHECK(ca_merkle_consistency_verify(n, n, &r, &other, NULL, 0) == CA_ERR_VERIFY);
        CHECK(ca_merkle_consistency_verify(n, n, &r, &r, &r, 1) == CA_ERR_VERIFY);
        CHECK(ca_merkle_consistency_verify(0, 0, &other, &other, NULL, 0) == CA_ERR_VERIFY);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Storage order, append_hashes, builder                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_stored_index(void **state)
{
    (void)state;
    /* Simulate the append log: leaf n writes (0, n) then (L, n >> L), L = 1 .. ctz(n + 1). */
    uint64_t next = 0;
    CHECK(ca_merkle_stored_count(0) == 0);
    for (uint64_t n = 0; n < 5000; n++) {
        CHECK(ca_merkle_stored_index(0, n) == next++);
        for (unsigned l = 1; l <= (unsigned)__builtin_ctzll(n + 1); l++)
            CHECK(ca_merkle_stored_index(l, n >> l) == next++);
        CHECK(ca_merkle_stored_count(n + 1) == next);
    }
    /* Fixed values from the sequence: 0:(0,0) 1:(0,1) 2:(1,0) 3:(0,2) 4:(0,3) 5:(1,1) 6:(2,0). */
    CHECK(ca_merkle_stored_index(1, 0) == 2);
    CHECK(ca_merkle_stored_index(2, 0) == 6);
    CHECK(ca_merkle_stored_index(1, 1) == 5);
    CHECK(ca_merkle_stored_index(3, 0) == 14);
    CHECK(ca_merkle_stored_count(1) == 1);
    CHECK(ca_merkle_stored_count(2) == 3);
    CHECK(ca_merkle_stored_count(3) == 4);
    CHECK(ca_merkle_stored_count(4) == 7);
    /* a large size: 2n - popcount(n) hashes, i.e. one per complete subtree */
    uint64_t big = ((uint64_t)1 << 40) + 12345;
    CHECK(ca_merkle_stored_count(big) == 2 * big - (uint64_t)__builtin_popcountll(big));
}

/* A flat store keyed by stored index, filled only through ca_merkle_append_hashes. */
typedef struct flat_store {
    ca_hash *h;
    uint64_t written; /* stored count so far: reads at or past it are bugs */
    bool bad;
} flat_store;

static ca_err flat_read(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    flat_store *s = ctx;
    uint64_t at = ca_merkle_stored_index(level, index);
    if (at >= s->written) {
        s->bad = true;
        return CA_ERR_NOT_FOUND;
    }
    *out = s->h[at];
    return CA_OK;
}

static void test_append_hashes(void **state)
{
    (void)state;
    const uint64_t N = 600;
    flat_store s = {.h = calloc(ca_merkle_stored_count(N), sizeof(ca_hash))};
    assert_non_null(s.h);
    ca_merkle_builder b;
    ca_merkle_builder_init(&b);
    for (uint64_t n = 0; n < N; n++) {
        ca_hash out[CA_MERKLE_MAX_PROOF];
        size_t count = 99;
        CHECK(ca_merkle_append_hashes(out, &count, flat_read, &s, n, &g_leaf[n]) == CA_OK);
        CHECK(!s.bad);
        CHECK(count == (size_t)__builtin_ctzll(n + 1));
        s.h[s.written++] = g_leaf[n];
        for (size_t i = 0; i < count; i++) {
            unsigned l = (unsigned)i + 1;
            CHECK(ca_merkle_stored_index(l, n >> l) == s.written);
            ca_hash want = ref_mth((n >> l) << l, ((n >> l) + 1) << l);
            CHECK_HASH_EQ(&out[i], &want);
            s.h[s.written++] = out[i];
        }
        CHECK(s.written == ca_merkle_stored_count(n + 1));
        /* the stored tree serves the root, and it matches the builder fed alongside */
        ca_hash root, broot, want = ref_mth(0, n + 1);
        CHECK(ca_merkle_root(&root, flat_read, &s, n + 1) == CA_OK);
        CHECK(!s.bad);
        CHECK_HASH_EQ(&root, &want);
        ca_merkle_builder_add(&b, &g_leaf[n]);
        ca_merkle_builder_root(&b, &broot);
        CHECK_HASH_EQ(&broot, &want);
    }
    /* every stored subtree equals the reference */
    for (uint64_t n = 0; n < N; n++)
        for (unsigned l = 0; ((n + 1) >> l) > 0 && ((n >> l) + 1) << l <= N; l++) {
            ca_hash want = ref_mth((n >> l) << l, ((n >> l) + 1) << l);
            CHECK_HASH_EQ(&s.h[ca_merkle_stored_index(l, n >> l)], &want);
        }
    size_t count = 99;
    ca_hash out[CA_MERKLE_MAX_PROOF];
    CHECK(ca_merkle_append_hashes(out, &count, flat_read, &s, UINT64_MAX, &g_leaf[0]) ==
          CA_ERR_RANGE);
    CHECK(count == 0);
    free(s.h);
}

static void test_builder(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 300; n++) {
        ca_merkle_builder b;
        ca_merkle_builder_init(&b);
        for (size_t i = 0; i < n; i++)
            ca_merkle_builder_add(&b, &g_leaf[i]);
        ca_hash got, again, want = ref_mth(0, n);
        ca_merkle_builder_root(&b, &got);
        CHECK_HASH_EQ(&got, &want);
        ca_merkle_builder_root(&b, &again); /* root does not disturb the builder */
        CHECK_HASH_EQ(&again, &want);
        CHECK(b.count == n);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Reader errors, and sizes far beyond memory                                                 */
/* ---------------------------------------------------------------------------------------- */

static void test_reader_errors(void **state)
{
    (void)state;
    mem_tree *t = &g_tree;
    ca_hash p[CA_MERKLE_MAX_PROOF], root;
    size_t len;
    const uint64_t n = 300;
    t->limit = n;
    for (long k = 0; k < 12; k++) {
        t->fail_after = k;
        t->calls = 0;
        ca_err e = ca_merkle_root(&root, mem_read, t, n);
        CHECK(e == (k < __builtin_popcountll(n) ? CA_ERR_STORE : CA_OK));
        t->calls = 0;
        e = ca_merkle_inclusion_prove(p, &len, mem_read, t, 37, n);
        CHECK(e == CA_ERR_STORE || (e == CA_OK && t->calls <= (unsigned long)k));
        t->calls = 0;
        e = ca_merkle_consistency_prove(p, &len, mem_read, t, 37, n);
        CHECK(e == CA_ERR_STORE || (e == CA_OK && t->calls <= (unsigned long)k));
        t->calls = 0;
        e = ca_merkle_append_hashes(p, &len, mem_read, t, 255, &g_leaf[0]);
        CHECK(e == (k < 8 ? CA_ERR_STORE : CA_OK));
    }
    t->fail_after = -1;
}

/* A consistent synthetic tree of any size: leaf k hashes to A or B by parity, so every complete
 * subtree of level L >= 1 has the same hash S[L]. Proofs over 2^63-leaf trees can then be
 * produced and checked against ca_merkle_root without storing anything. */
static ca_hash g_syn[64][2];

static ca_err syn_read(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    (void)ctx;
    if (level >= 64)
        return CA_ERR_NOT_FOUND;
    *out = g_syn[level][level == 0 ? (index & 1) : 0];
    return CA_OK;
}

static void test_huge_sizes(void **state)
{
    (void)state;
    ca_merkle_leaf_hash_data(&g_syn[0][0], (const uint8_t *)"A", 1);
    ca_merkle_leaf_hash_data(&g_syn[0][1], (const uint8_t *)"B", 1);
    ca_merkle_node_hash(&g_syn[1][0], &g_syn[0][0], &g_syn[0][1]);
    for (unsigned l = 2; l < 64; l++)
        ca_merkle_node_hash(&g_syn[l][0], &g_syn[l - 1][0], &g_syn[l - 1][0]);

    const uint64_t sizes[] = {((uint64_t)1 << 40) + 12345, (uint64_t)1 << 62,
                              ((uint64_t)1 << 63) - 1, (uint64_t)1 << 63,
                              ((uint64_t)1 << 63) + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint64_t n = sizes[s];
        ca_hash root, p[CA_MERKLE_MAX_PROOF];
        size_t len;
        CHECK(ca_merkle_root(&root, syn_read, NULL, n) == CA_OK);
        const uint64_t idx[] = {0, 1, 2, n / 3, n / 2, n - 2, n - 1};
        for (size_t j = 0; j < sizeof idx / sizeof idx[0]; j++) {
            CHECK(ca_merkle_inclusion_prove(p, &len, syn_read, NULL, idx[j], n) == CA_OK);
            CHECK(len <= CA_MERKLE_MAX_PROOF);
            CHECK(ca_merkle_inclusion_verify(&g_syn[0][idx[j] & 1], idx[j], n, p, len, &root) ==
                  CA_OK);
            CHECK(ca_merkle_inclusion_verify(&g_syn[0][(idx[j] & 1) ^ 1], idx[j], n, p, len,
                                             &root) == CA_ERR_VERIFY);
        }
        const uint64_t olds[] = {1, 2, 3, 5, n / 3, n / 2, n - 1, n};
        for (size_t j = 0; j < sizeof olds / sizeof olds[0]; j++) {
            uint64_t m = olds[j];
            ca_hash r1;
            CHECK(ca_merkle_root(&r1, syn_read, NULL, m) == CA_OK);
            ca_err e = ca_merkle_consistency_prove(p, &len, syn_read, NULL, m, n);
            if (e == CA_ERR_RANGE) {
                /* only trees over 2^63 leaves can need a 65-hash proof */
                CHECK(n > ((uint64_t)1 << 63));
                continue;
            }
            CHECK(e == CA_OK);
            CHECK(ca_merkle_consistency_verify(m, n, &r1, &root, p, len) == CA_OK);
        }
    }
}

/* Each thread hashes through its own context (created on first use, freed at thread exit:
 * the sanitizer build's leak checker sees a missed free). Roots must not depend on the thread. */
typedef struct thread_job {
    size_t n;
    ca_hash root;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *job = arg;
    ca_merkle_builder b;
    ca_merkle_builder_init(&b);
    for (int rep = 0; rep < 20; rep++) {
        ca_merkle_builder_init(&b);
        for (size_t i = 0; i < job->n; i++)
            ca_merkle_builder_add(&b, &g_leaf[i]);
    }
    ca_merkle_builder_root(&b, &job->root);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    enum { NT = 8 };
    pthread_t th[NT];
    thread_job jobs[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i].n = 200 + 13 * (size_t)i;
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ca_hash want = ref_mth(0, jobs[i].n);
        CHECK_HASH_EQ(&jobs[i].root, &want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_primitives),
        cmocka_unit_test(test_rfc6962_vectors),
        cmocka_unit_test(test_inclusion_all),
        cmocka_unit_test(test_consistency_all),
        cmocka_unit_test(test_inclusion_negative),
        cmocka_unit_test(test_consistency_negative),
        cmocka_unit_test(test_stored_index),
        cmocka_unit_test(test_append_hashes),
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test(test_threads),
    };
    int failed = ca_run_tests("merkle", tests, setup_generic, teardown_generic);
    printf("merkle: %lu checks\n", g_checks);
    free(g_memo);
    free(g_have);
    return failed;
}
