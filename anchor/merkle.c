/*
 * RFC 9162 §2.1 Merkle tree maths (contract: include/credanchor/merkle.h).
 *
 *  - §2.1.1 hashing: leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r), the tree of n
 *    leaves splits at the largest power of two smaller than n, MTH({}) = SHA-256("").
 *  - §2.1.3.1 / §2.1.3.2 inclusion proofs, §2.1.4.1 / §2.1.4.2 consistency proofs.
 *  - Stored-hash numbering from Go's golang.org/x/mod/sumdb/tlog (StoredHashIndex /
 *    StoredHashCount), after Crosby and Wallach, "Efficient Data Structures for Tamper-Evident
 *    Logging" §3.3.
 *
 * Why it reads only O(log n) hashes: the tree of size n is its "peaks" (the complete subtrees
 * given by the set bits of n, largest first) folded from the right. Every node a proof needs is
 * either a complete subtree (one reader call) or a node on the right edge, whose hash is a fold
 * of some of those peaks; a proof has at most one right-edge node that is not complete, so a
 * proof costs at most (depth + popcount(n)) reader calls and never recurses into the leaves.
 *
 * No I/O, no allocation and no per-thread state on the hashing path. Every message this file
 * hashes except ca_merkle_leaf_hash_data's has a fixed length (leaf 33 bytes = 1 SHA-256
 * block after padding, node 65 bytes = 2 blocks, the empty message 1 block), so the padding is
 * laid out by hand and the blocks go straight to OpenSSL's block function: SHA256_Transform
 * for one block, SHA256_Update on a fresh state for the node's two (whole blocks go straight
 * to the same assembly); the digest is then the state words, big-endian. SHA-256 itself is
 * still entirely OpenSSL's (the project rule): this file only lays out the FIPS 180-4 §5.1.1
 * padding. bench_merkle_root on OpenSSL 3.0.19 with SHA-NI: 5.3 M digests/s with a reused
 * EVP_MD_CTX, 6.6 M with SHA256_Init/Update/Final, 7.3 M this way, against at most ~8 M for a
 * tree of separate one-block calls (SHA256_Transform in a loop). tests/unit/test_merkle checks
 * the output against the published RFC 6962 vectors, so any padding mistake would fail it.
 */
#include "credanchor/merkle.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#ifdef OPENSSL_NO_DEPRECATED_3_0
#error "anchor/merkle.c needs SHA256_Transform/SHA256_Update (deprecated, not removed, in 3.x)"
#endif

/* ---------------------------------------------------------------------------------------- */
/* SHA-256 of pre-padded fixed-length messages                                               */
/* ---------------------------------------------------------------------------------------- */

/* SHA256_Init/Update/Final/Transform are deprecated since OpenSSL 3.0 in favour of EVP, but
 * EVP has no block-level entry point and its per-call overhead (dispatch through the provider,
 * buffering, finalisation) dominates a 1-2 block message. The functions are still exported by
 * libcrypto 3.x and call the same assembly (SHA-NI where the CPU has it) as EVP's SHA-256.
 * Only the calls below are exempted from -Wdeprecated-declarations. */
#define SHA_DEPRECATED_BEGIN                                                                 \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define SHA_DEPRECATED_END _Pragma("GCC diagnostic pop")

/* SHA-256's initial state, from SHA256_Init once per process, then copied per hash. */
static SHA256_CTX sha_iv;
static pthread_once_t sha_iv_once = PTHREAD_ONCE_INIT;
static atomic_bool sha_iv_ready; /* fast path: one plain load, no pthread_once call */

static void sha_iv_init(void)
{
    SHA_DEPRECATED_BEGIN
    int ok = SHA256_Init(&sha_iv);
    SHA_DEPRECATED_END
    if (ok != 1)
        ca_abort_bug(__FILE__, __LINE__, "SHA256_Init");
    atomic_store_explicit(&sha_iv_ready, true, memory_order_release);
}

static inline void sha_begin(SHA256_CTX *c)
{
    if (!atomic_load_explicit(&sha_iv_ready, memory_order_acquire))
        pthread_once(&sha_iv_once, sha_iv_init);
    *c = sha_iv;
}

/* One 64-byte block through the compression function: c->h = compress(c->h, block). */
static inline void sha_block(SHA256_CTX *c, const uint8_t block[SHA256_CBLOCK])
{
    SHA_DEPRECATED_BEGIN
    SHA256_Transform(c, block);
    SHA_DEPRECATED_END
}

/* The digest of a message whose padded blocks have all been compressed into c->h. */
static inline void sha_digest(const SHA256_CTX *c, ca_hash *out)
{
    /* Byte-wise shifts get auto-vectorised by GCC -O2 into ~100 shuffles; 8 bswaps do it. */
    for (int i = 0; i < 8; i++) {
        uint32_t w = c->h[i];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap32(w);
#endif
        memcpy(out->b + 4 * i, &w, sizeof w);
    }
}

/* FIPS 180-4 §5.1.1 padding: the message, 0x80, zeros, then the length in bits as a 64-bit
 * big-endian number in the block's last 8 bytes. Lengths: leaf 33 bytes = 264 = 0x108 bits,
 * node 65 bytes = 520 = 0x208 bits, empty message 0 bits. */
#define LEAF_LEN (1 + CA_HASH_SIZE)
#define NODE_LEN (1 + 2 * CA_HASH_SIZE)
_Static_assert(SHA256_CBLOCK == 64 && LEAF_LEN + 1 + 8 <= 64, "leaf hash is one block");
_Static_assert(NODE_LEN > 64 && NODE_LEN - 64 + 1 + 8 <= 64, "node hash is two blocks");

/* ---------------------------------------------------------------------------------------- */
/* RFC 9162 §2.1.1 hashes                                                                    */
/* ---------------------------------------------------------------------------------------- */

void ca_merkle_leaf_hash(ca_hash *out, const uint8_t digest[CA_HASH_SIZE])
{
    CA_ASSERT(out != NULL && digest != NULL);
    uint8_t block[64] = {0};
    block[0] = 0x00;
    memcpy(block + 1, digest, CA_HASH_SIZE);
    block[LEAF_LEN] = 0x80;
    block[62] = (LEAF_LEN * 8) >> 8;
    block[63] = (LEAF_LEN * 8) & 0xff;
    SHA256_CTX c;
    sha_begin(&c);
    sha_block(&c, block);
    sha_digest(&c, out);
}

void ca_merkle_leaf_hash_data(ca_hash *out, const uint8_t *data, size_t len)
{
    CA_ASSERT(out != NULL && (data != NULL || len == 0));
    /* Any length: OpenSSL pads. Same functions and exemption as above. */
    static const uint8_t prefix = 0x00;
    SHA256_CTX c;
    sha_begin(&c);
    SHA_DEPRECATED_BEGIN
    int ok = SHA256_Update(&c, &prefix, 1) == 1 &&
             (len == 0 || SHA256_Update(&c, data, len) == 1) && SHA256_Final(out->b, &c) == 1;
    SHA_DEPRECATED_END
    if (!ok)
        ca_abort_bug(__FILE__, __LINE__, "SHA256_Update/SHA256_Final");
}

void ca_merkle_node_hash(ca_hash *out, const ca_hash *left, const ca_hash *right)
{
    CA_ASSERT(out != NULL && left != NULL && right != NULL);
    /* Both blocks are filled before out is written, so out == left / out == right is safe. */
    uint8_t blocks[128] = {0};
    blocks[0] = 0x01;
    memcpy(blocks + 1, left->b, CA_HASH_SIZE);
    memcpy(blocks + 1 + CA_HASH_SIZE, right->b, CA_HASH_SIZE);
    blocks[NODE_LEN] = 0x80;
    blocks[126] = (NODE_LEN * 8) >> 8;
    blocks[127] = (NODE_LEN * 8) & 0xff;
    /* Update on a fresh state with whole blocks compresses them in place, with no buffering:
     * one call into the assembly for both blocks, which is ~6% faster over the whole tree
     * than two SHA256_Transform calls. The state then holds the digest; no SHA256_Final. */
    SHA256_CTX c;
    sha_begin(&c);
    SHA_DEPRECATED_BEGIN
    int ok = SHA256_Update(&c, blocks, sizeof blocks);
    SHA_DEPRECATED_END
    if (ok != 1)
        ca_abort_bug(__FILE__, __LINE__, "SHA256_Update");
    sha_digest(&c, out);
}

void ca_merkle_empty_root(ca_hash *out)
{
    CA_ASSERT(out != NULL);
    uint8_t block[64] = {0x80}; /* the empty message, padded; its length is 0 bits */
    SHA256_CTX c;
    sha_begin(&c);
    sha_block(&c, block);
    sha_digest(&c, out);
}

static bool hash_eq(const ca_hash *a, const ca_hash *b)
{
    /* Roots are public, but a comparison that does not stop early costs nothing here. */
    return CRYPTO_memcmp(a->b, b->b, CA_HASH_SIZE) == 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading the tree                                                                           */
/* ---------------------------------------------------------------------------------------- */

/* The largest power of two strictly smaller than x (x >= 2): RFC 9162's split point k. */
static uint64_t split_point(uint64_t x)
{
    return (uint64_t)1 << (63 - __builtin_clzll(x - 1));
}

/* MTH(D[lo:hi]) for a node of the RFC 9162 tree: lo is a multiple of the largest power of two
 * <= hi - lo, so [lo, hi) is the complete subtrees given by the set bits of hi - lo, largest
 * (leftmost) first. MTH splits off the largest one and recurses on the rest, so MTH is those
 * peaks folded from the right. Walking the bits upward visits the peaks right to left, which
 * folds them without a buffer: popcount(hi - lo) reader calls, popcount - 1 hashes. */
static ca_err range_hash(ca_hash *out, ca_merkle_reader rd, void *ctx, uint64_t lo, uint64_t hi)
{
    uint64_t size = hi - lo;
    bool have = false;
    CA_ASSERT(lo < hi);
    for (unsigned level = 0; level < 64; level++) {
        if (((size >> level) & 1) == 0)
            continue;
        /* Peaks above this one come first; 2 << 63 wraps to 0, which is what level 63 needs. */
        uint64_t start = lo + (size & ~(((uint64_t)2 << level) - 1));
        CA_ASSERT((start & (((uint64_t)1 << level) - 1)) == 0);
        ca_hash peak;
        ca_err err = rd(ctx, level, start >> level, &peak);
        if (err != CA_OK)
            return err;
        if (have) {
            ca_merkle_node_hash(out, &peak, out);
        } else {
            *out = peak;
            have = true;
        }
    }
    return CA_OK;
}

ca_err ca_merkle_root(ca_hash *root, ca_merkle_reader rd, void *ctx, uint64_t n)
{
    CA_ASSERT(root != NULL && rd != NULL);
    if (n == 0) {
        ca_merkle_empty_root(root);
        return CA_OK;
    }
    return range_hash(root, rd, ctx, 0, n);
}

/* §2.1.3.1 PATH(m, D[n]) computed bottom-up, the mirror image of the §2.1.3.2 verifier: at
 * level L the leaf's ancestor is node fn = index >> L and the last node is sn = (n - 1) >> L.
 *  1. fn odd: the sibling is the complete subtree (L, fn - 1) on the left.
 *  2. fn even and fn < sn: the sibling is on the right, leaves [(fn + 1) << L, n) capped at
 *     2^L; it is incomplete only on the tree's right edge, and then it is a fold of peaks.
 *  3. fn == sn and even: no sibling, the node is promoted a level unchanged (no hash).
 * Case 2 meets an incomplete sibling at most once (above it fn == sn until case 1), so the
 * proof costs at most 64 + popcount(n) reader calls. */
ca_err ca_merkle_inclusion_prove(ca_hash *path, size_t *path_len, ca_merkle_reader rd, void *ctx,
                                 uint64_t index, uint64_t n)
{
    CA_ASSERT(path != NULL && path_len != NULL && rd != NULL);
    *path_len = 0;
    if (index >= n)
        return CA_ERR_RANGE;
    uint64_t fn = index, sn = n - 1;
    size_t len = 0;
    for (unsigned level = 0; sn > 0; level++, fn >>= 1, sn >>= 1) {
        ca_err err = CA_OK;
        if (fn & 1) {
            err = rd(ctx, level, fn - 1, &path[len++]);
        } else if (fn < sn) {
            uint64_t lo = (fn + 1) << level; /* <= sn << level <= n - 1: no overflow */
            uint64_t width = (uint64_t)1 << level;
            uint64_t hi = n - lo < width ? n : lo + width;
            err = range_hash(&path[len++], rd, ctx, lo, hi);
        }
        if (err != CA_OK)
            return err;
    }
    *path_len = len; /* at most 64: one per level below the root */
    return CA_OK;
}

/* §2.1.3.2, step by step. */
ca_err ca_merkle_inclusion_verify(const ca_hash *leaf_hash, uint64_t index, uint64_t n,
                                  const ca_hash *path, size_t path_len, const ca_hash *root)
{
    CA_ASSERT(leaf_hash != NULL && root != NULL && (path != NULL || path_len == 0));
    /* 1. */
    if (index >= n)
        return CA_ERR_VERIFY;
    /* 2., 3. */
    uint64_t fn = index, sn = n - 1;
    ca_hash r = *leaf_hash;
    /* 4. */
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0) /* a.: the path is longer than the tree is deep */
            return CA_ERR_VERIFY;
        if ((fn & 1) || fn == sn) { /* b. */
            ca_merkle_node_hash(&r, &path[i], &r);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            ca_merkle_node_hash(&r, &r, &path[i]);
        }
        fn >>= 1; /* c. */
        sn >>= 1;
    }
    /* 5. sn != 0: the path is shorter than the tree is deep. */
    bool ok = hash_eq(&r, root);
    return (sn == 0 && ok) ? CA_OK : CA_ERR_VERIFY;
}

/* §2.1.4.1 SUBPROOF(m, D[n], true), unrolled top-down over the node [lo, hi) that still holds
 * leaf m's boundary (lo < m < hi), with k the split point of hi - lo:
 *  - m <= lo + k: the old tree ends in the left child; record the right child [lo + k, hi)
 *    (only on the right edge can it be incomplete, and then it is a fold of peaks) and descend.
 *  - m >  lo + k: the left child is in both trees; record it (complete) and descend right,
 *    which means the old root is no longer a node we can assume the verifier has (b = false).
 * Stop when m == hi: if b is false, record MTH(D[lo:hi]) (complete: the last step went left).
 * SUBPROOF appends each recorded hash after the deeper part, so the output is the reverse. */
ca_err ca_merkle_consistency_prove(ca_hash *path, size_t *path_len, ca_merkle_reader rd,
                                   void *ctx, uint64_t m, uint64_t n)
{
    CA_ASSERT(path != NULL && path_len != NULL && rd != NULL);
    *path_len = 0;
    if (m == 0 || m > n)
        return CA_ERR_RANGE;
    /* Descent steps are at most bit_length(n - 1) <= 64, plus the final node: 65. */
    ca_hash tmp[CA_MERKLE_MAX_PROOF + 1];
    size_t len = 0;
    uint64_t lo = 0, hi = n;
    bool b = true;
    while (m != hi) {
        uint64_t k = split_point(hi - lo);
        ca_err err;
        if (m <= lo + k) {
            err = range_hash(&tmp[len++], rd, ctx, lo + k, hi);
            hi = lo + k;
        } else {
            unsigned level = (unsigned)__builtin_ctzll(k);
            err = rd(ctx, level, lo >> level, &tmp[len++]);
            lo += k;
            b = false;
        }
        if (err != CA_OK)
            return err;
    }
    if (!b) {
        ca_err err = range_hash(&tmp[len++], rd, ctx, lo, hi);
        if (err != CA_OK)
            return err;
    }
    /* Only trees over 2^63 leaves can need 65 hashes; CA_MERKLE_MAX_PROOF is 64. */
    if (len > CA_MERKLE_MAX_PROOF)
        return CA_ERR_RANGE;
    for (size_t i = 0; i < len; i++)
        path[i] = tmp[len - 1 - i];
    *path_len = len;
    return CA_OK;
}

/* §2.1.4.2, step by step. The "prepend first_hash" of step 2 is done by indexing, not by
 * copying the proof. */
ca_err ca_merkle_consistency_verify(uint64_t m, uint64_t n, const ca_hash *old_root,
                                    const ca_hash *new_root, const ca_hash *path,
                                    size_t path_len)
{
    CA_ASSERT(old_root != NULL && new_root != NULL && (path != NULL || path_len == 0));
    if (m == 0 || m > n)
        return CA_ERR_VERIFY;
    if (m == n) {
        /* Same tree: nothing to prove, and anything offered as proof is wrong. */
        bool ok = hash_eq(old_root, new_root);
        return (path_len == 0 && ok) ? CA_OK : CA_ERR_VERIFY;
    }
    /* 1. */
    if (path_len == 0)
        return CA_ERR_VERIFY;
    /* 2. */
    const bool pow2 = (m & (m - 1)) == 0;
    const size_t total = path_len + (pow2 ? 1 : 0);
#define CONS_ELEM(i) (pow2 ? ((i) == 0 ? old_root : &path[(i) - 1]) : &path[(i)])
    /* 3. */
    uint64_t fn = m - 1, sn = n - 1;
    /* 4. */
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* 5. */
    ca_hash fr = *CONS_ELEM(0), sr = fr;
    /* 6. */
    for (size_t i = 1; i < total; i++) {
        const ca_hash *c = CONS_ELEM(i);
        if (sn == 0) /* a. */
            return CA_ERR_VERIFY;
        if ((fn & 1) || fn == sn) { /* b. */
            ca_merkle_node_hash(&fr, c, &fr);
            ca_merkle_node_hash(&sr, c, &sr);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            ca_merkle_node_hash(&sr, &sr, c);
        }
        fn >>= 1; /* c. */
        sn >>= 1;
    }
#undef CONS_ELEM
    /* 7. Both comparisons always run: the answer does not depend on which one failed. */
    bool ok_old = hash_eq(&fr, old_root);
    bool ok_new = hash_eq(&sr, new_root);
    return (sn == 0 && ok_old && ok_new) ? CA_OK : CA_ERR_VERIFY;
}

/* ---------------------------------------------------------------------------------------- */
/* Storage order (sumdb/tlog)                                                                */
/* ---------------------------------------------------------------------------------------- */

/* tlog StoredHashIndex: hash (L, n) is written right after hash (L - 1, 2n + 1), so walk down
 * to level 0; leaf n's hash is written at n + n/2 + n/4 + ... (each earlier leaf and each
 * subtree completed before it), and the level is added back at the end. Overflows only when
 * n << level nears 2^63, far beyond any log. */
uint64_t ca_merkle_stored_index(unsigned level, uint64_t n)
{
    CA_ASSERT(level < 64);
    for (unsigned l = level; l > 0; l--)
        n = 2 * n + 1;
    uint64_t i = 0;
    for (; n > 0; n >>= 1)
        i += n;
    return i + level;
}

/* tlog StoredHashCount: the index after leaf n - 1's hash, plus the subtrees that leaf
 * completes (one per trailing 1 bit of n - 1). */
uint64_t ca_merkle_stored_count(uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t num = ca_merkle_stored_index(0, n - 1) + 1;
    for (uint64_t i = n - 1; i & 1; i >>= 1)
        num++;
    return num;
}

/* Leaf n closes one subtree per trailing 1 bit of n (equivalently L = 1 .. ctz(n + 1)): the
 * new level-L subtree is node(left sibling (L - 1, (n >> (L - 1)) - 1), the level L - 1 subtree
 * just finished), starting from the leaf itself. */
ca_err ca_merkle_append_hashes(ca_hash *out, size_t *count, ca_merkle_reader rd, void *ctx,
                               uint64_t n, const ca_hash *leaf)
{
    CA_ASSERT(out != NULL && count != NULL && rd != NULL && leaf != NULL);
    *count = 0;
    if (n == UINT64_MAX) /* leaf number 2^64 - 1 would make the tree size overflow */
        return CA_ERR_RANGE;
    unsigned levels = (unsigned)__builtin_ctzll(n + 1);
    ca_hash h = *leaf;
    for (unsigned l = 1; l <= levels; l++) {
        ca_hash left;
        ca_err err = rd(ctx, l - 1, (n >> (l - 1)) - 1, &left);
        if (err != CA_OK)
            return err;
        ca_merkle_node_hash(&h, &left, &h);
        out[l - 1] = h;
    }
    *count = levels;
    return CA_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming builder                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* Bit L of count set <=> stack[L] holds a finished complete subtree of 2^L leaves: the builder
 * holds exactly the peaks of the tree so far, like a binary counter with carries. */
void ca_merkle_builder_init(ca_merkle_builder *b)
{
    CA_ASSERT(b != NULL);
    memset(b, 0, sizeof *b);
}

void ca_merkle_builder_add(ca_merkle_builder *b, const ca_hash *leaf_hash)
{
    CA_ASSERT(b != NULL && leaf_hash != NULL && b->count != UINT64_MAX);
    ca_hash h = *leaf_hash;
    unsigned level = 0;
    /* Each carry merges two equal peaks; on average one node hash per leaf. */
    for (uint64_t c = b->count; c & 1; c >>= 1, level++)
        ca_merkle_node_hash(&h, &b->stack[level], &h);
    b->stack[level] = h;
    b->count++;
}

void ca_merkle_builder_root(const ca_merkle_builder *b, ca_hash *root)
{
    CA_ASSERT(b != NULL && root != NULL);
    if (b->count == 0) {
        ca_merkle_empty_root(root);
        return;
    }
    /* Fold the peaks from the right (smallest first), as range_hash does. */
    const uint64_t c = b->count;
    unsigned level = (unsigned)__builtin_ctzll(c);
    ca_hash h = b->stack[level];
    for (level++; level < 64; level++)
        if ((c >> level) & 1)
            ca_merkle_node_hash(&h, &b->stack[level], &h);
    *root = h;
}
