/*
 * The node's append-only Merkle log of credential digests (SPEC §1).
 *
 * Appends are thread-safe and group-committed: concurrent callers are gathered into one LMDB
 * write transaction with a single sync, and each returns only once its digests are durable.
 * Every commit also signs and stores a checkpoint for the new size, so the latest checkpoint
 * always covers every acknowledged digest. Leaves and subtree hashes are written in the commit;
 * the digest -> index lookup table is written in sorted batches (store.index_batch) and the
 * not-yet-indexed tail is held in memory, rebuilt from the leaves at open after a crash.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_LOG_H
#define CREDANCHOR_LOG_H

#include "credanchor/checkpoint.h"
#include "credanchor/common.h"
#include "credanchor/crypto.h"
#include "credanchor/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_log ca_log; /* opaque */

typedef struct ca_store ca_store;

typedef struct ca_log_options {
    ca_store *store;               /* borrowed; outlives the log */
    uint64_t index_batch;          /* store.index_batch: digests per digest-index batch */
    uint64_t index_flush_pages;    /* store.index_flush_pages; 0 = 8192 */
    const ca_ed25519_key *log_key; /* borrowed; signs checkpoints. NULL: read-only log */
    const char *create_origin;     /* non-NULL: create a new log with this origin (init) */
} ca_log_options;

/* Opens (or with create_origin, creates) the log. A log that is inconsistent with the
 * largest checkpoint it ever signed opens, serves reads, and refuses appends with
 * CA_ERR_INCONSISTENT (SPEC §1); ca_log_append_blocked says why. */
ca_err ca_log_open(ca_log **log, const ca_log_options *opts, ca_errbuf *eb);
/* Writes the in-memory digest-index tail (so a clean restart has nothing to rebuild) and
 * closes; the store stays open. Callers must have stopped appending. */
void ca_log_close(ca_log *log);

typedef struct ca_log_entry {
    ca_hash digest;  /* in */
    uint64_t index;  /* out: the leaf index (the existing one for a digest already logged) */
} ca_log_entry;

/* Appends n digests and returns once they are durable. Duplicates (of logged digests or
 * within the call) get their existing index. *tree_size (may be NULL) gets the size after the
 * commit. CA_ERR_FULL when the store is full (nothing acknowledged is lost),
 * CA_ERR_INCONSISTENT when appends are refused. */
ca_err ca_log_append(ca_log *log, ca_log_entry *entries, size_t n, uint64_t *tree_size,
                     ca_errbuf *eb);

/* Writes done by an appender in the same transaction as its digests (credential records,
 * status list versions): called once the entries' indices are known, possibly more than once
 * when the map grows and the transaction re-runs, so it must derive every write from arg and
 * entries. An error fails the whole group commit (every appender in it). */
typedef struct ca_store_txn ca_store_txn;
typedef ca_err (*ca_log_write_fn)(ca_store_txn *txn, void *arg, const ca_log_entry *entries,
                                  size_t n, ca_errbuf *eb);

/* ca_log_append plus the caller's own writes (write may be NULL) in the same transaction. */
ca_err ca_log_append_with(ca_log *log, ca_log_entry *entries, size_t n, ca_log_write_fn write,
                          void *write_arg, uint64_t *tree_size, ca_errbuf *eb);

/* Writes the in-memory digest-index tail to the store now. */
ca_err ca_log_flush_index(ca_log *log, ca_errbuf *eb);

/* NULL when appends are allowed, otherwise the reason they are refused. */
const char *ca_log_append_blocked(const ca_log *log);

/* Holds appends (they fail with CA_ERR_INCONSISTENT and the reason) until released: the
 * anchoring engine holds them from start-up until the log is known to be consistent with the
 * newest anchor on chain (SPEC §1). Thread-safe; reason is copied. */
void ca_log_hold_appends(ca_log *log, const char *reason);
void ca_log_release_appends(ca_log *log);

/* The largest checkpoint the log in store ever signed (meta "signed_max"; read without opening
 * the log, e.g. by restore). CA_ERR_NOT_FOUND when the store holds no such record. */
ca_err ca_log_signed_max(ca_store *store, uint64_t *size, ca_hash *root, ca_errbuf *eb);

/* Carries a checkpoint (size, root) that an earlier copy of this log signed into the store
 * (restore: the data dir's signed_max before a backup replaced it). Afterwards signed_max is
 * (size, root) when it is larger by size than the stored one, or when the stored tree
 * disagrees with it (shorter than size, or another root at size); otherwise it is unchanged.
 * The log then refuses appends at its next open unless it is consistent with both (SPEC §1).
 * *written (may be NULL) says whether signed_max changed. Needs a writable store. */
ca_err ca_log_carry_signed_max(ca_store *store, uint64_t size, const ca_hash *root,
                               bool *written, ca_errbuf *eb);

/* The number of durable leaves. */
uint64_t ca_log_size(const ca_log *log);
/* The origin fixed at init (SPEC §1), e.g. "issuer.example.org/credanchor". */
const char *ca_log_origin(const ca_log *log);

/* The leaf index of a logged digest; CA_ERR_NOT_FOUND if it is not in the log. */
ca_err ca_log_find(ca_log *log, uint64_t *index, const ca_hash *digest, ca_errbuf *eb);
/* Finds a digest and proves it in one read: *index gets its leaf index, path/root the
 * inclusion proof in the tree of *size leaves (in: 0 for the latest size, which is then
 * written back). CA_ERR_NOT_FOUND when the digest is not logged, CA_ERR_RANGE when *size is
 * past the log or does not contain the leaf. path holds CA_MERKLE_MAX_PROOF hashes. */
ca_err ca_log_prove(ca_log *log, uint64_t *index, ca_hash *path, size_t *path_len,
                    ca_hash *root, uint64_t *size, const ca_hash *digest, ca_errbuf *eb);

/* The digest at a leaf index; CA_ERR_RANGE past the end. */
ca_err ca_log_digest_at(ca_log *log, ca_hash *digest, uint64_t index, ca_errbuf *eb);

/* The root of the first `size` leaves; CA_ERR_RANGE when size > ca_log_size. */
ca_err ca_log_root(ca_log *log, ca_hash *root, uint64_t size, ca_errbuf *eb);

/* The inclusion proof of leaf `index` in the tree of `size` leaves, and that tree's root.
 * path holds CA_MERKLE_MAX_PROOF hashes. CA_ERR_RANGE unless index < size <= ca_log_size. */
ca_err ca_log_inclusion(ca_log *log, ca_hash *path, size_t *path_len, ca_hash *root,
                        uint64_t index, uint64_t size, ca_errbuf *eb);

/* The consistency proof from size m to size n (0 < m <= n <= ca_log_size). */
ca_err ca_log_consistency(ca_log *log, ca_hash *path, size_t *path_len, uint64_t m, uint64_t n,
                          ca_errbuf *eb);

/* C2SP tlog-tiles (SPEC §8 "Static tiles"): the hashes of tile (level, index) of `width`
 * (1..256; 256 = full) in the current tree, width * 32 bytes into out. A width the tree has
 * passed is served too (its first `width` hashes never change); one the tree does not have
 * yet (any at level >= 8) is CA_ERR_NOT_FOUND; a width outside 1..256 is CA_ERR_INVALID. */
#define CA_LOG_TILE_MAX (256 * CA_HASH_SIZE)            /* a full tile: 8,192 bytes */
#define CA_LOG_BUNDLE_ENTRY (2 + CA_HASH_SIZE)          /* uint16 length + the digest */
#define CA_LOG_BUNDLE_MAX (256 * CA_LOG_BUNDLE_ENTRY)   /* a full entry bundle: 8,704 bytes */
ca_err ca_log_tile(ca_log *log, uint8_t out[CA_LOG_TILE_MAX], unsigned level, uint64_t index,
                   unsigned width, ca_errbuf *eb);
/* The entry bundle `index` of `width` (as ca_log_tile for level 0): each entry is a
 * big-endian uint16 32 and the 32-byte digest, width * 34 bytes into out. */
ca_err ca_log_entry_bundle(ca_log *log, uint8_t out[CA_LOG_BUNDLE_MAX], uint64_t index,
                           unsigned width, ca_errbuf *eb);

/* The latest signed checkpoint note (it covers every acknowledged append).
 * note holds CA_NOTE_MAX bytes; the text is NUL-terminated. */
ca_err ca_log_checkpoint(ca_log *log, char *note, size_t *note_len, ca_errbuf *eb);
/* A signed checkpoint for exactly `size` leaves: the stored one when it exists, otherwise
 * signed now (a historical root is fixed, so signing it is safe; SPEC §3). Needs the key. */
ca_err ca_log_checkpoint_at(ca_log *log, char *note, size_t *note_len, uint64_t size,
                            ca_errbuf *eb);

/* The log's current verifier key "<origin>+<hex id>+<base64>" (SPEC §3 /v1/log/key). */
ca_err ca_log_verifier_key(ca_log *log, char out[CA_VERIFIER_KEY_MAX], ca_errbuf *eb);

#define CA_LOG_KEYS_MAX 64 /* log keys a log can have over its life (rotations + 1) */

/* One log key and the sizes it signed (SPEC §3 /v1/log/keys). */
typedef struct ca_log_key_span {
    char key[CA_VERIFIER_KEY_MAX]; /* the verifier key */
    uint64_t from_size;
    uint64_t to_size;              /* valid unless current */
    bool current;                  /* the key that signs now (toSize null) */
} ca_log_key_span;

/* Every log key ever used, oldest first (the last one is current): spans holds cap entries
 * (CA_LOG_KEYS_MAX always suffices), *n gets the count. */
ca_err ca_log_key_history(ca_log *log, ca_log_key_span *spans, size_t cap, size_t *n,
                          ca_errbuf *eb);

/* Rotates the log key (keys rotate --log): in one write transaction the verifier key becomes
 * new_key's, the history closes the old key at the current size N and opens new_key from N,
 * and a checkpoint for N signed by new_key becomes the latest one. Afterwards the log signs
 * with new_key (borrowed; must outlive the log). Needs a writable, unblocked log that no one
 * appends to meanwhile (the CLI holds the writer lock). Stored notes (anchored checkpoints)
 * keep their signer; historical sizes signed on demand (ca_log_checkpoint_at) are signed by
 * the current key. */
ca_err ca_log_rotate_key(ca_log *log, const ca_ed25519_key *new_key, ca_errbuf *eb);

typedef struct ca_log_stats {
    uint64_t tree_size;
    uint64_t indexed;       /* digests [0, indexed) are in the stored digest index */
    uint64_t commits;       /* write transactions since open */
    uint64_t appended;      /* new leaves since open */
    bool store_full;        /* the last commit failed because the store is full (507) */
} ca_log_stats;
void ca_log_get_stats(ca_log *log, ca_log_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
