/*
 * RFC 9162 §2.1 Merkle tree maths, with no I/O (after Go's sumdb/tlog).
 *
 * The functions read complete-subtree hashes through a caller-supplied reader, so they work the
 * same over LMDB, memory or a test fixture. A complete subtree (level L, index k) covers leaves
 * [k << L, (k + 1) << L); level 0 holds leaf hashes. Every function uses O(log n) reader calls.
 * Proving and checking come in pairs: *_prove reads the tree, *_verify needs only the proof.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_MERKLE_H
#define CREDANCHOR_MERKLE_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest proof for any 64-bit tree size. (Exact for inclusion proofs. A consistency proof
 * can need 65 hashes, but only when n > 2^63; ca_merkle_consistency_prove then returns
 * CA_ERR_RANGE.) */
#define CA_MERKLE_MAX_PROOF 64

/* Reads the hash of complete subtree (level, index) into *out. Returns CA_OK, or an error that
 * the calling function passes on unchanged. */
typedef ca_err (*ca_merkle_reader)(void *ctx, unsigned level, uint64_t index, ca_hash *out);

/* SHA-256(0x00 || data): the leaf hash. Log entries are 32-byte digests; the data form serves
 * the RFC 6962 test vectors. The hash functions cannot fail on valid arguments; if libcrypto
 * itself fails (out of memory on a thread's first hash), they abort. Thread-safe: each thread
 * reuses one EVP_MD_CTX, freed when the thread exits. */
void ca_merkle_leaf_hash(ca_hash *out, const uint8_t digest[CA_HASH_SIZE]);
void ca_merkle_leaf_hash_data(ca_hash *out, const uint8_t *data, size_t len);
/* SHA-256(0x01 || left || right): an interior node. */
void ca_merkle_node_hash(ca_hash *out, const ca_hash *left, const ca_hash *right);
/* SHA-256(""): the root of the empty tree. */
void ca_merkle_empty_root(ca_hash *out);

/* The root of the tree of the first n leaves (n = 0 gives the empty root). */
ca_err ca_merkle_root(ca_hash *root, ca_merkle_reader rd, void *ctx, uint64_t n);

/* The inclusion proof (RFC 9162 §2.1.3.1) of leaf index in the tree of size n.
 * path must hold CA_MERKLE_MAX_PROOF hashes. CA_ERR_RANGE unless index < n. */
ca_err ca_merkle_inclusion_prove(ca_hash *path, size_t *path_len, ca_merkle_reader rd, void *ctx,
                                 uint64_t index, uint64_t n);
/* Checks an inclusion proof (RFC 9162 §2.1.3.2). CA_OK when leaf_hash at index in a tree of
 * size n has the given root; CA_ERR_VERIFY otherwise (including a path of the wrong length).
 * As in every RFC 9162 verifier, n only fixes the proof's shape: a proof also checks against a
 * nearby size with the same shape (e.g. n +- 1), so take (n, root) from one signed checkpoint.
 * The same holds for n in ca_merkle_consistency_verify. */
ca_err ca_merkle_inclusion_verify(const ca_hash *leaf_hash, uint64_t index, uint64_t n,
                                  const ca_hash *path, size_t path_len, const ca_hash *root);

/* The consistency proof (RFC 9162 §2.1.4.1) from size m to size n, 0 < m <= n.
 * CA_ERR_RANGE otherwise. m == n gives an empty proof. */
ca_err ca_merkle_consistency_prove(ca_hash *path, size_t *path_len, ca_merkle_reader rd,
                                   void *ctx, uint64_t m, uint64_t n);
/* Checks a consistency proof (RFC 9162 §2.1.4.2). CA_OK or CA_ERR_VERIFY. */
ca_err ca_merkle_consistency_verify(uint64_t m, uint64_t n, const ca_hash *old_root,
                                    const ca_hash *new_root, const ca_hash *path,
                                    size_t path_len);

/* The dense index of stored hash (level, n) in the order an append-only log writes them
 * (sumdb/tlog StoredHashIndex): appending leaf n writes its leaf hash and then the hashes of
 * every subtree it completes, at consecutive indices. Strictly increasing in write order, so
 * it is a natural append-only storage key. */
uint64_t ca_merkle_stored_index(unsigned level, uint64_t n);
/* How many hashes a tree of n leaves stores (the stored index the next append starts at).
 * Both overflow for trees of about 2^63 leaves or more, far past any real log. */
uint64_t ca_merkle_stored_count(uint64_t n);

/* Appending leaf number n (0-based) with hash *leaf completes the subtrees (L, n >> L) for
 * L = 1 .. ctz(n + 1). This computes them into out[0..*count) (out[i] is level i + 1), reading
 * the left siblings through rd. out must hold CA_MERKLE_MAX_PROOF hashes. The leaf hash itself
 * is not in out: the caller stores it at ca_merkle_stored_index(0, n), then out[i] at the
 * following indices. CA_ERR_RANGE for n = UINT64_MAX. */
ca_err ca_merkle_append_hashes(ca_hash *out, size_t *count, ca_merkle_reader rd, void *ctx,
                               uint64_t n, const ca_hash *leaf);

/* A streaming root builder over leaf hashes with O(log n) memory: for merkle-root and for
 * rebuilding a tree in one pass. */
typedef struct ca_merkle_builder {
    ca_hash stack[CA_MERKLE_MAX_PROOF]; /* stack[i]: pending complete subtree, by height */
    uint64_t count;                     /* leaves added so far */
} ca_merkle_builder;

void ca_merkle_builder_init(ca_merkle_builder *b);
void ca_merkle_builder_add(ca_merkle_builder *b, const ca_hash *leaf_hash);
/* The root of the leaves added so far; the builder stays usable. */
void ca_merkle_builder_root(const ca_merkle_builder *b, ca_hash *root);

#ifdef __cplusplus
}
#endif
#endif
