/*
 * node/log.c — the append-only Merkle log (SPEC §1) on the store (node/store.c).
 *
 * Meta keys this file owns (table `meta`):
 *   "schema"        "1"
 *   "origin"        the checkpoint origin, fixed at init (SPEC §1)
 *   "verifier_key"  the current C2SP verifier key text, so read-only tools need no secret
 *   "log_keys"      the log key history (written by the first `keys rotate --log`; absent:
 *                   one key, "verifier_key", from size 0): one line per key, oldest first,
 *                   "<fromSize> <verifier key>\n". The last line is the current key (toSize
 *                   null); every other key's toSize is the next line's fromSize, the size at
 *                   which it was rotated out (it signed sizes fromSize..toSize; the new key
 *                   signs toSize again at rotation, so the latest checkpoint is always by the
 *                   current key). Updated in the same transaction as "verifier_key".
 *   "checkpoint"    the latest signed note; written in the same transaction as the leaves it
 *                   covers, so it always covers every acknowledged append
 *   "signed_max"    u64 BE size || 32-byte root: the largest checkpoint ever signed
 *   "indexed"       u64 BE n: digests [0, n) are in `digest_index`
 * The tree size is not stored: it is the last `leaves` key + 1, so it cannot disagree.
 *
 * Write path (group commit): callers queue their request; whichever caller finds no commit
 * running becomes the leader, takes every queued request and writes them in one transaction:
 * each new leaf's digest (MDB_APPEND), the subtree hashes it completes (MDB_APPEND under the
 * dense stored-hash index), the signed checkpoint and, when the in-memory tail reaches
 * index_batch, the whole tail sorted into `digest_index`. One sync covers them all. The
 * right frontier ("peaks": the complete subtrees of the current size) stays in memory, so an
 * append computes its hashes without reading the store.
 *
 * Upper levels in memory: every complete subtree at level >= CACHE_LEVEL (n / 2^7 hashes:
 * 2.5 MiB at 10 M leaves) is also kept in `upper`, so a proof reads at most CACHE_LEVEL hashes
 * from the store instead of one per level. Each level's array is address space reserved once
 * (MAP_NORESERVE: pages are only backed when written), so it never moves and readers need no
 * lock: a hash is written before the size that makes it readable is published.
 *
 * Tiles: the path of leaf i through levels 0..7 stays inside its aligned 256-leaf block, so
 * once a block is complete its 510 hashes are written as one `tiles` value (a read copy, as in
 * sumdb/tlog). A proof then reads the digest index, one tile and the in-memory upper levels.
 * The leader fills `tile` as leaves arrive and writes it in the commit that completes it.
 *
 * Why the digest index lags: a B-tree keyed by random 32-byte digests dirties about one page
 * per insert (issue #2 measured 58 k/s when indexed per commit); inserting 64 k sorted keys at
 * once shares pages. Until a batch is written, the tail [indexed, size) lives in `tail`, an
 * in-memory hash table, which answers idempotency checks and lookups. After a crash `open`
 * reloads the tail from `leaves` before anything else runs.
 */
#include "node/log.h"

#include "credanchor/group_commit.h"

#include "credanchor/encoding.h"
#include "node/store.h"
#include "credanchor/tile.h"
#include "node/node_log.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define META_SCHEMA "schema"
#define META_ORIGIN "origin"
#define META_VERIFIER_KEY "verifier_key"
#define META_CHECKPOINT "checkpoint"
#define META_SIGNED_MAX "signed_max"
#define META_INDEXED "indexed"
#define META_LOG_KEYS "log_keys"
#define LOG_KEYS_TEXT_MAX (CA_LOG_KEYS_MAX * (CA_VERIFIER_KEY_MAX + 24))
#define LOG_SCHEMA_VERSION "1"
#define CACHE_LEVEL 8      /* levels >= this are kept in memory */
/* Address space for the upper levels is reserved for up to 2^40 leaves (256 GiB of
 * MAP_NORESERVE mappings; only written pages use memory). Where that much address space is
 * not to be had (ulimit -v, valgrind's smaller address space), `open` halves the reservation
 * down to 2^32 leaves (1 GiB) and the log then holds at most that many. */
#define CACHE_MAX_LEAVES_LOG2 40
#define CACHE_MIN_LEAVES_LOG2 32

/* ---- digest set: open addressing over (digest -> index) ---------------------------------
 * Digests are SHA-256 outputs, but an issuer chooses them, so the slot comes from a keyed mix
 * with a per-process random seed rather than the raw bytes. */
typedef struct digest_slot {
    ca_hash digest;
    uint64_t index; /* UINT64_MAX = empty */
} digest_slot;

typedef struct digest_set {
    digest_slot *slots;
    size_t cap; /* power of two */
    size_t count;
    uint64_t seed;
} digest_set;

static uint64_t load_u64_le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static size_t digest_slot_of(const digest_set *s, const ca_hash *d)
{
    uint64_t h = load_u64_le(d->b) ^ s->seed;
    h ^= load_u64_le(d->b + 8) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (s->cap - 1);
}

static ca_err digest_set_init(digest_set *s, size_t cap_hint)
{
    size_t cap = 64;
    while (cap < cap_hint * 2)
        cap <<= 1;
    s->slots = malloc(cap * sizeof *s->slots);
    if (!s->slots)
        return CA_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++)
        s->slots[i].index = UINT64_MAX;
    s->cap = cap;
    s->count = 0;
    if (ca_random_bytes(&s->seed, sizeof s->seed) != CA_OK)
        s->seed = 0x243f6a8885a308d3ull;
    return CA_OK;
}

static void digest_set_clear(digest_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        s->slots[i].index = UINT64_MAX;
    s->count = 0;
}

static void digest_set_free(digest_set *s)
{
    free(s->slots);
    s->slots = NULL;
}

static bool digest_set_get(const digest_set *s, const ca_hash *d, uint64_t *index)
{
    for (size_t i = digest_slot_of(s, d);; i = (i + 1) & (s->cap - 1)) {
        const digest_slot *slot = &s->slots[i];
        if (slot->index == UINT64_MAX)
            return false;
        if (memcmp(slot->digest.b, d->b, CA_HASH_SIZE) == 0) {
            *index = slot->index;
            return true;
        }
    }
}

static ca_err digest_set_put(digest_set *s, const ca_hash *d, uint64_t index);

/* Grows the table only past three quarters full. A set starts at most half full (init sizes
 * it for twice its hint), so probe runs stay short in normal use; the slack is for the tail,
 * which passes index_batch by up to one commit before it is flushed. Growing there at half
 * full doubled the 5 MiB tail to 10 MiB at the first flush of every busy node, a step in its
 * resident memory that the soak benchmark (issue #13) saw as growth. */
static ca_err digest_set_reserve(digest_set *s, size_t more)
{
    if ((s->count + more) * 4 <= s->cap * 3)
        return CA_OK;
    digest_set bigger;
    size_t want = s->count + more;
    if (digest_set_init(&bigger, want) != CA_OK)
        return CA_ERR_NOMEM;
    bigger.seed = s->seed;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].index != UINT64_MAX)
            digest_set_put(&bigger, &s->slots[i].digest, s->slots[i].index);
    free(s->slots);
    *s = bigger;
    return CA_OK;
}

/* Inserts a digest known to be absent; the table must have room (digest_set_reserve). */
static ca_err digest_set_put(digest_set *s, const ca_hash *d, uint64_t index)
{
    size_t i = digest_slot_of(s, d);
    while (s->slots[i].index != UINT64_MAX)
        i = (i + 1) & (s->cap - 1);
    s->slots[i].digest = *d;
    s->slots[i].index = index;
    s->count++;
    return CA_OK;
}

/* ---- the log ------------------------------------------------------------------------------ */

typedef struct append_request {
    ca_gc_request gc;       /* first: the group commit's link (common/group_commit.c) */
    ca_log_entry *entries;
    size_t n;
    ca_log_write_fn write;  /* the caller's own writes in the same transaction, or NULL */
    void *write_arg;
    ca_err err;
    ca_errbuf eb;
    uint64_t tree_size;
} append_request;

struct ca_log {
    ca_store *store;
    const ca_ed25519_key *key;
    char origin[CA_ORIGIN_MAX + 1];
    char verifier_key[CA_VERIFIER_KEY_MAX];
    uint64_t index_batch;
    uint64_t index_flush_pages;
    bool read_only;
    char blocked[1024]; /* non-empty: why appends are refused (decided at open, permanent) */
    pthread_mutex_t hold_lock;
    char hold[512];     /* non-empty: appends held until released (ca_log_hold_appends) */

    _Atomic uint64_t size; /* durable leaves; published after each commit */
    ca_hash *upper[64];    /* upper[L][k] = subtree (L, k) for L >= CACHE_LEVEL */
    unsigned max_leaves_log2; /* upper levels reserved for 2^this leaves (upper_reserve) */
    ca_hash tile[CA_TILE_BLOCK_HASHES]; /* leader only: the block being filled */
    /* A commit attempt wrote tile slots and did not commit (it failed, or re-runs after the
     * map grew): a batch that crossed into later blocks has overwritten slots of leaves the
     * store already holds, so the next attempt reloads the block from the store first. */
    bool tile_dirty;

    /* The latest size, its root and its signed checkpoint, so proofs against the latest
     * checkpoint neither recompute the root nor read the note. Written by the leader after
     * each commit, under latest_lock. */
    pthread_mutex_t latest_lock;
    uint64_t latest_size;
    ca_hash latest_root;
    char latest_note[CA_NOTE_MAX];
    size_t latest_note_len; /* 0: not known (the note is read from the store) */

    /* Writer state: touched only by the commit leader (or open/close). */
    ca_hash peaks[CA_MERKLE_MAX_PROOF]; /* peaks[L] valid iff bit L of size is set */
    uint64_t indexed;
    uint64_t commits, appended;
    /* The last commit attempt with digests failed with CA_ERR_FULL (answered 507): appends
     * are refused until one commits again (credanchor_log_appends_blocked, issue #13 item 15). */
    atomic_bool store_full;

    /* The not-yet-indexed tail [indexed, size): written by the leader under tail_lock. */
    pthread_rwlock_t tail_lock;
    digest_set tail;

    /* Group commit queue. */
    ca_group_commit appends; /* queued ca_log_append calls (leader/follower) */
};

static ca_err meta_get_u64(ca_store_txn *t, const char *name, uint64_t *v)
{
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, name, strlen(name), &val);
    if (err)
        return err;
    if (val.len != 8)
        return CA_ERR_STORE;
    *v = ca_store_u64_from(val.data);
    return CA_OK;
}

static ca_err meta_put_u64(ca_store_txn *t, const char *name, uint64_t v)
{
    uint8_t b[8];
    ca_store_u64_key(b, v);
    return ca_store_put(t, CA_TABLE_META, name, strlen(name), b, 8);
}

static ca_err meta_get_str(ca_store_txn *t, const char *name, char *out, size_t cap)
{
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, name, strlen(name), &val);
    if (err)
        return err;
    if (val.len >= cap)
        return CA_ERR_STORE;
    memcpy(out, val.data, val.len);
    out[val.len] = '\0';
    return CA_OK;
}

static ca_err meta_put_str(ca_store_txn *t, const char *name, const char *s, size_t len)
{
    return ca_store_put(t, CA_TABLE_META, name, strlen(name), s, len);
}

/* Reads complete subtree hashes from the store: level 0 from `leaves` (hashing the digest),
 * higher levels from `hashes` under their dense index. */
static ca_err store_reader(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    ca_store_txn *t = ctx;
    uint8_t key[8];
    ca_store_val val;
    ca_err err;
    if (level == 0) {
        ca_store_u64_key(key, index);
        if ((err = ca_store_get(t, CA_TABLE_LEAVES, key, 8, &val)) != CA_OK)
            return err == CA_ERR_NOT_FOUND ? CA_ERR_STORE : err;
        if (val.len != CA_HASH_SIZE)
            return CA_ERR_STORE;
        ca_merkle_leaf_hash(out, val.data);
        return CA_OK;
    }
    ca_store_u64_key(key, ca_merkle_stored_index(level, index));
    if ((err = ca_store_get(t, CA_TABLE_HASHES, key, 8, &val)) != CA_OK)
        return err == CA_ERR_NOT_FOUND ? CA_ERR_STORE : err;
    if (val.len != CA_HASH_SIZE)
        return CA_ERR_STORE;
    memcpy(out->b, val.data, CA_HASH_SIZE);
    return CA_OK;
}

/* The reader proofs use: upper levels from memory, the rest from the store. */
typedef struct log_read {
    const ca_log *log;
    ca_store_txn *txn;
    uint64_t size;         /* the tree size being read: complete blocks below it are tiled */
    uint64_t block;        /* the tile loaded in `tile`, if tile != NULL */
    const uint8_t *tile;   /* valid for the transaction's life */
} log_read;

static ca_err cached_reader(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    log_read *r = ctx;
    if (level >= CACHE_LEVEL && level < 64 && r->log->upper[level]) {
        *out = r->log->upper[level][index];
        return CA_OK;
    }
    uint64_t block = level < CA_TILE_HEIGHT ? ca_tile_block_of(level, index) : 0;
    if (level < CA_TILE_HEIGHT && ca_tile_block_complete(block, r->size)) {
        if (!r->tile || r->block != block) {
            uint8_t key[8];
            ca_store_val val;
            ca_store_u64_key(key, block);
            ca_err err = ca_store_get(r->txn, CA_TABLE_TILES, key, 8, &val);
            if (err || val.len != CA_TILE_BLOCK_HASHES * CA_HASH_SIZE)
                return err && err != CA_ERR_NOT_FOUND ? err : CA_ERR_STORE;
            r->tile = val.data;
            r->block = block;
        }
        memcpy(out->b, r->tile + ca_tile_block_slot(level, index) * CA_HASH_SIZE, CA_HASH_SIZE);
        return CA_OK;
    }
    return store_reader(r->txn, level, index, out);
}

/* Whether leaf `index` holds digest d: from the tile when its block is complete (a proof is
 * about to read that tile anyway), otherwise from `leaves`. */
static ca_err leaf_matches(log_read *r, uint64_t index, const ca_hash *d, bool *match)
{
    ca_hash want, got;
    if (ca_tile_block_complete(ca_tile_block_of(0, index), r->size)) {
        ca_merkle_leaf_hash(&want, d->b);
        ca_err err = cached_reader(r, 0, index, &got);
        if (err)
            return err;
        *match = memcmp(want.b, got.b, CA_HASH_SIZE) == 0;
        return CA_OK;
    }
    uint8_t key[8];
    ca_store_val val;
    ca_store_u64_key(key, index);
    ca_err err = ca_store_get(r->txn, CA_TABLE_LEAVES, key, 8, &val);
    if (err || val.len != CA_HASH_SIZE)
        return err && err != CA_ERR_NOT_FOUND ? err : CA_ERR_STORE;
    *match = memcmp(val.data, d->b, CA_HASH_SIZE) == 0;
    return CA_OK;
}

typedef struct candidates {
    uint64_t index[8];
    size_t count;
} candidates;

static bool collect_candidate(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    (void)key;
    candidates *c = arg;
    if (val->len == 8 && c->count < sizeof c->index / sizeof c->index[0])
        c->index[c->count++] = ca_store_u64_from(val->data);
    return c->count < sizeof c->index / sizeof c->index[0];
}

/* Looks a digest up in the stored index: every leaf whose digest starts with the same 8 bytes
 * is a candidate, confirmed against the leaf itself. (Eight candidates would need eight
 * digests sharing 64 bits, which SHA-256 does not produce.) */
static ca_err lookup_stored(log_read *r, const ca_hash *d, uint64_t *index, bool *found)
{
    *found = false;
    /* The first value settles almost every lookup without opening a cursor: absent (a new
     * digest), or the one leaf with this prefix. */
    ca_store_val first;
    ca_err err = ca_store_get(r->txn, CA_TABLE_DIGEST_INDEX, d->b, 8, &first);
    if (err == CA_ERR_NOT_FOUND)
        return CA_OK;
    if (err || first.len != 8)
        return err ? err : CA_ERR_STORE;
    uint64_t candidate = ca_store_u64_from(first.data);
    if ((err = leaf_matches(r, candidate, d, found)) || *found) {
        *index = candidate;
        return err;
    }
    candidates c = {.count = 0};
    err = ca_store_get_all(r->txn, CA_TABLE_DIGEST_INDEX, d->b, 8, collect_candidate, &c);
    for (size_t i = 1; !err && i < c.count && !*found; i++) {
        if ((err = leaf_matches(r, c.index[i], d, found)) == CA_OK && *found)
            *index = c.index[i];
    }
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}

/* Refills the leader's tile with the complete subtrees of the block `size` is in (open). */
static ca_err tile_load(ca_log *log, ca_store_txn *t, uint64_t size)
{
    uint64_t first = size & ~(uint64_t)(CA_TILE_WIDTH - 1);
    for (unsigned level = 0; level < CA_TILE_HEIGHT; level++)
        for (uint64_t k = first >> level; (k + 1) << level <= size; k++) {
            ca_err err = store_reader(t, level, k, &log->tile[ca_tile_block_slot(level, k)]);
            if (err)
                return err;
        }
    return CA_OK;
}

static void upper_release(ca_log *log)
{
    for (unsigned level = CACHE_LEVEL; level < log->max_leaves_log2; level++)
        if (log->upper[level]) {
            munmap(log->upper[level],
                   ((size_t)1 << (log->max_leaves_log2 - level)) * sizeof(ca_hash));
            log->upper[level] = NULL;
        }
}

/* Reserves the upper levels for 2^max_leaves_log2 leaves, the largest that fits between
 * CACHE_MAX_LEAVES_LOG2 and CACHE_MIN_LEAVES_LOG2 (see there). */
static ca_err upper_reserve(ca_log *log)
{
    for (unsigned cap = CACHE_MAX_LEAVES_LOG2; cap >= CACHE_MIN_LEAVES_LOG2; cap--) {
        log->max_leaves_log2 = cap;
        bool ok = true;
        for (unsigned level = CACHE_LEVEL; level < cap && ok; level++) {
            size_t bytes = ((size_t)1 << (cap - level)) * sizeof(ca_hash);
            void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            ok = p != MAP_FAILED;
            if (ok)
                log->upper[level] = p;
        }
        if (ok)
            return CA_OK;
        upper_release(log);
    }
    log->max_leaves_log2 = 0;
    return CA_ERR_NOMEM;
}

/* Fills the upper levels from the store for a log of `size` leaves. */
static ca_err upper_load(ca_log *log, ca_store_txn *t, uint64_t size)
{
    for (unsigned level = CACHE_LEVEL; level < log->max_leaves_log2; level++)
        for (uint64_t k = 0; k < size >> level; k++) {
            ca_err err = store_reader(t, level, k, &log->upper[level][k]);
            if (err)
                return err;
        }
    return CA_OK;
}

/* Serves the peaks of tree size `size` from memory: every hash the append and root maths ask
 * for while growing the tree is one of them. */
typedef struct peaks_view {
    const ca_hash *peaks;
    uint64_t size;
} peaks_view;

static ca_err peaks_reader(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    const peaks_view *v = ctx;
    if (level >= 64 || !(v->size >> level & 1) || index != (v->size >> level) - 1)
        return CA_ERR_STORE; /* not a peak: a bug in the maths, reported not crashed on */
    *out = v->peaks[level];
    return CA_OK;
}

static ca_err load_peaks(ca_store_txn *t, ca_hash peaks[CA_MERKLE_MAX_PROOF], uint64_t size)
{
    for (unsigned level = 0; level < 64; level++) {
        if (!(size >> level & 1))
            continue;
        ca_err err = store_reader(t, level, (size >> level) - 1, &peaks[level]);
        if (err)
            return err;
    }
    return CA_OK;
}

static ca_err tree_size_in(ca_store_txn *t, uint64_t *size)
{
    ca_store_val key;
    ca_err err = ca_store_last(t, CA_TABLE_LEAVES, &key, NULL);
    if (err == CA_ERR_NOT_FOUND) {
        *size = 0;
        return CA_OK;
    }
    if (err)
        return err;
    if (key.len != 8)
        return CA_ERR_STORE;
    *size = ca_store_u64_from(key.data) + 1;
    return CA_OK;
}

/* Signs (size, root) with key, or with the log's current key when key is NULL. */
static ca_err sign_checkpoint_with(const ca_log *log, const ca_ed25519_key *key, char *note,
                                   size_t *note_len, uint64_t size, const ca_hash *root,
                                   ca_errbuf *eb)
{
    if (!key)
        key = log->key;
    if (!key)
        return ca_fail(eb, CA_ERR_PERMISSION, "log: no log key loaded to sign a checkpoint");
    ca_checkpoint cp;
    snprintf(cp.origin, sizeof cp.origin, "%s", log->origin);
    cp.size = size;
    cp.root = *root;
    return ca_checkpoint_sign(note, note_len, &cp, key, eb);
}

static ca_err sign_checkpoint(const ca_log *log, char *note, size_t *note_len, uint64_t size,
                              const ca_hash *root, ca_errbuf *eb)
{
    return sign_checkpoint_with(log, NULL, note, note_len, size, root, eb);
}

/* Signs (with key, or the log's key when NULL) and stores the checkpoint for (size, root) as
 * the latest and largest one; the note is left in `note` (CA_NOTE_MAX bytes). */
static ca_err put_checkpoint_with(ca_log *log, const ca_ed25519_key *key, ca_store_txn *t,
                                  uint64_t size, const ca_hash *root, char *note,
                                  size_t *note_len_out, ca_errbuf *eb)
{
    size_t note_len;
    ca_err err = sign_checkpoint_with(log, key, note, &note_len, size, root, eb);
    *note_len_out = note_len;
    if (err)
        return err;
    uint8_t max[8 + CA_HASH_SIZE];
    ca_store_u64_key(max, size);
    memcpy(max + 8, root->b, CA_HASH_SIZE);
    if ((err = meta_put_str(t, META_CHECKPOINT, note, note_len)) ||
        (err = ca_store_put(t, CA_TABLE_META, META_SIGNED_MAX, strlen(META_SIGNED_MAX), max,
                            sizeof max)))
        return ca_fail(eb, err, "log: cannot store checkpoint: %s", ca_strerror(err));
    return CA_OK;
}

static ca_err put_checkpoint(ca_log *log, ca_store_txn *t, uint64_t size, const ca_hash *root,
                             char *note, size_t *note_len_out, ca_errbuf *eb)
{
    return put_checkpoint_with(log, NULL, t, size, root, note, note_len_out, eb);
}

/* ---- create / open ------------------------------------------------------------------------- */

typedef struct create_args {
    ca_log *log;
} create_args;

static ca_err create_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    ca_log *log = ((create_args *)arg)->log;
    ca_err err;
    if ((err = meta_put_str(t, META_SCHEMA, LOG_SCHEMA_VERSION, 1)) ||
        (err = meta_put_str(t, META_ORIGIN, log->origin, strlen(log->origin))) ||
        (err = meta_put_str(t, META_VERIFIER_KEY, log->verifier_key,
                            strlen(log->verifier_key))) ||
        (err = meta_put_u64(t, META_INDEXED, 0)))
        return ca_fail(eb, err, "log: cannot initialise: %s", ca_strerror(err));
    ca_hash empty;
    char note[CA_NOTE_MAX];
    size_t note_len;
    ca_merkle_empty_root(&empty);
    return put_checkpoint(log, t, 0, &empty, note, &note_len, eb);
}

/* Loads the digest-index tail [indexed, size) from `leaves` into memory (crash recovery). */
typedef struct tail_loader {
    digest_set *tail;
    uint64_t next;
    ca_err err;
} tail_loader;

static bool load_tail_entry(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    tail_loader *tl = arg;
    if (key->len != 8 || val->len != CA_HASH_SIZE || ca_store_u64_from(key->data) != tl->next) {
        tl->err = CA_ERR_STORE;
        return false;
    }
    ca_hash d;
    memcpy(d.b, val->data, CA_HASH_SIZE);
    if (digest_set_reserve(tl->tail, 1) != CA_OK) {
        tl->err = CA_ERR_NOMEM;
        return false;
    }
    uint64_t existing;
    if (!digest_set_get(tl->tail, &d, &existing))
        digest_set_put(tl->tail, &d, tl->next);
    tl->next++;
    return true;
}

/* Checks the log against the largest checkpoint it ever signed (SPEC §1): the tree must be at
 * least that large and have the same root at that size; otherwise appends are refused. */
static ca_err check_signed_max(ca_log *log, ca_store_txn *t, uint64_t size, ca_errbuf *eb)
{
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, META_SIGNED_MAX, strlen(META_SIGNED_MAX), &val);
    if (err == CA_ERR_NOT_FOUND) {
        snprintf(log->blocked, sizeof log->blocked,
                 "the store has no record of the checkpoints it signed");
        return CA_OK;
    }
    if (err || val.len != 8 + CA_HASH_SIZE)
        return ca_fail(eb, CA_ERR_STORE, "log: unreadable signed_max record");
    uint64_t max_size = ca_store_u64_from(val.data);
    ca_hash max_root, root;
    memcpy(max_root.b, (const uint8_t *)val.data + 8, CA_HASH_SIZE);
    if (max_size > size) {
        snprintf(log->blocked, sizeof log->blocked,
                 "the log has %llu leaves but a checkpoint for %llu was signed: the store was "
                 "rolled back or truncated",
                 (unsigned long long)size, (unsigned long long)max_size);
        return CA_OK;
    }
    if ((err = ca_merkle_root(&root, store_reader, t, max_size)) != CA_OK)
        return ca_fail(eb, err, "log: cannot compute root at %llu: %s",
                       (unsigned long long)max_size, ca_strerror(err));
    if (memcmp(root.b, max_root.b, CA_HASH_SIZE) != 0)
        snprintf(log->blocked, sizeof log->blocked,
                 "the root at size %llu differs from the checkpoint signed for it",
                 (unsigned long long)max_size);
    return CA_OK;
}

ca_err ca_log_signed_max(ca_store *store, uint64_t *size, ca_hash *root, ca_errbuf *eb)
{
    CA_ASSERT(store && size && root);
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val val;
    err = ca_store_get(t, CA_TABLE_META, META_SIGNED_MAX, strlen(META_SIGNED_MAX), &val);
    if (err == CA_ERR_NOT_FOUND)
        err = ca_fail(eb, err, "log: the store has no record of the checkpoints it signed");
    else if (err || val.len != 8 + CA_HASH_SIZE)
        err = ca_fail(eb, CA_ERR_STORE, "log: unreadable signed_max record");
    else {
        *size = ca_store_u64_from(val.data);
        memcpy(root->b, (const uint8_t *)val.data + 8, CA_HASH_SIZE);
    }
    ca_store_abort(t);
    return err;
}

typedef struct carry_args {
    uint64_t size;
    ca_hash root;
    bool written;
} carry_args;

/* Decides and writes inside one write transaction, so the decision and the record agree. */
static ca_err carry_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    carry_args *a = arg;
    a->written = false;
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, META_SIGNED_MAX, strlen(META_SIGNED_MAX), &val);
    bool write = err == CA_ERR_NOT_FOUND;
    if (err && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "log: cannot read signed_max: %s", ca_strerror(err));
    if (!err && (val.len != 8 + CA_HASH_SIZE || ca_store_u64_from(val.data) < a->size))
        write = true;
    if (!write) {
        /* Not larger: it must still be a checkpoint of this tree. */
        uint64_t tree;
        ca_hash here;
        if ((err = tree_size_in(t, &tree)) != CA_OK)
            return ca_fail(eb, err, "log: cannot read the tree size");
        if (tree < a->size)
            write = true;
        else if ((err = ca_merkle_root(&here, store_reader, t, a->size)) != CA_OK)
            return ca_fail(eb, err, "log: cannot compute the root at %llu",
                           (unsigned long long)a->size);
        else if (memcmp(here.b, a->root.b, CA_HASH_SIZE) != 0)
            write = true;
    }
    if (!write)
        return CA_OK;
    uint8_t max[8 + CA_HASH_SIZE];
    ca_store_u64_key(max, a->size);
    memcpy(max + 8, a->root.b, CA_HASH_SIZE);
    if ((err = ca_store_put(t, CA_TABLE_META, META_SIGNED_MAX, strlen(META_SIGNED_MAX), max,
                            sizeof max)))
        return ca_fail(eb, err, "log: cannot store signed_max: %s", ca_strerror(err));
    a->written = true;
    return CA_OK;
}

ca_err ca_log_carry_signed_max(ca_store *store, uint64_t size, const ca_hash *root,
                               bool *written, ca_errbuf *eb)
{
    CA_ASSERT(store && root);
    carry_args a = {.size = size, .root = *root};
    ca_err err = ca_store_write(store, carry_txn, &a, eb);
    if (written)
        *written = !err && a.written;
    return err;
}

static void log_free(ca_log *log)
{
    upper_release(log);
    digest_set_free(&log->tail);
    pthread_rwlock_destroy(&log->tail_lock);
    pthread_mutex_destroy(&log->latest_lock);
    pthread_mutex_destroy(&log->hold_lock);
    ca_group_commit_destroy(&log->appends);
    free(log);
}

/* A log with its locks and in-memory tables, nothing read yet. */
static ca_err log_alloc(ca_log **out, const ca_log_options *o, ca_errbuf *eb)
{
    ca_log *log = calloc(1, sizeof *log);
    if (!log)
        return ca_fail(eb, CA_ERR_NOMEM, "log: out of memory");
    log->store = o->store;
    log->key = o->log_key;
    log->read_only = !o->log_key;
    log->index_batch = o->index_batch ? o->index_batch : 65536;
    log->index_flush_pages = o->index_flush_pages ? o->index_flush_pages : 8192;
    pthread_rwlock_init(&log->tail_lock, NULL);
    pthread_mutex_init(&log->latest_lock, NULL);
    pthread_mutex_init(&log->hold_lock, NULL);
    ca_group_commit_init(&log->appends);
    ca_err err = digest_set_init(&log->tail, log->index_batch);
    if (err || (err = upper_reserve(log)) != CA_OK) {
        log_free(log);
        return ca_fail(eb, err, "log: out of memory");
    }
    *out = log;
    return CA_OK;
}

/* Creates the log (o->create_origin) in a store that holds none, or checks that the store
 * holds one of this schema. */
static ca_err create_or_check_schema(ca_log *log, const ca_log_options *o, ca_errbuf *eb)
{
    ca_store_txn *t = NULL;
    ca_err err = ca_store_begin(log->store, &t, false, eb);
    if (err != CA_OK)
        return err;
    char schema[16];
    bool exists = meta_get_str(t, META_SCHEMA, schema, sizeof schema) == CA_OK;
    ca_store_abort(t);

    if (o->create_origin) {
        if (exists)
            return ca_fail(eb, CA_ERR_EXISTS, "log: the store already holds a log");
        snprintf(log->origin, sizeof log->origin, "%s", o->create_origin);
        uint8_t pub[CA_ED25519_PUB_SIZE];
        ca_ed25519_key_public(o->log_key, pub);
        ca_verifier_key_format(log->verifier_key, log->origin, pub);
        create_args ca = {log};
        return ca_store_write(log->store, create_txn, &ca, eb);
    }
    if (!exists)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "log: the store holds no log (run credanchor init)");
    if (strcmp(schema, LOG_SCHEMA_VERSION) != 0)
        return ca_fail(eb, CA_ERR_STORE, "log: unknown schema version %s", schema);
    return CA_OK;
}

/* The metadata, the peaks, the in-memory upper levels and current tile, and the signed_max
 * check, all from transaction t; *size is the tree size. */
static ca_err load_tree(ca_log *log, ca_store_txn *t, uint64_t *size, ca_errbuf *eb)
{
    ca_err err;
    if (meta_get_str(t, META_ORIGIN, log->origin, sizeof log->origin) ||
        meta_get_str(t, META_VERIFIER_KEY, log->verifier_key, sizeof log->verifier_key) ||
        meta_get_u64(t, META_INDEXED, &log->indexed) || tree_size_in(t, size) ||
        log->indexed > *size)
        return ca_fail(eb, CA_ERR_STORE, "log: metadata is damaged");
    if ((err = load_peaks(t, log->peaks, *size)) != CA_OK)
        return ca_fail(eb, err, "log: subtree hashes are damaged");
    if (*size >> log->max_leaves_log2)
        return ca_fail(eb, CA_ERR_RANGE, "log: more than 2^%u leaves (the address space this "
                       "process may reserve)", log->max_leaves_log2);
    if ((err = upper_load(log, t, *size)) != CA_OK || (err = tile_load(log, t, *size)) != CA_OK)
        return ca_fail(eb, err, "log: subtree hashes are damaged");
    return check_signed_max(log, t, *size, eb);
}

/* The key in use must be the one the log's verifier key names (else appends are blocked). */
static void check_log_key(ca_log *log)
{
    if (!log->key || log->blocked[0])
        return;
    uint8_t pub[CA_ED25519_PUB_SIZE];
    char vkey[CA_VERIFIER_KEY_MAX];
    ca_ed25519_key_public(log->key, pub);
    ca_verifier_key_format(vkey, log->origin, pub);
    if (strcmp(vkey, log->verifier_key) != 0)
        snprintf(log->blocked, sizeof log->blocked,
                 "the log key does not match the log's verifier key %s", log->verifier_key);
}

/* Crash recovery: rebuild the in-memory digest-index tail before appends resume. */
static ca_err rebuild_tail(ca_log *log, ca_store_txn *t, uint64_t size, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    uint8_t start[8];
    ca_store_u64_key(start, log->indexed);
    tail_loader tl = {&log->tail, log->indexed, CA_OK};
    if (size > log->indexed)
        err = ca_store_scan(t, CA_TABLE_LEAVES, start, 8, load_tail_entry, &tl);
    if (err || tl.err || tl.next != size)
        return ca_fail(eb, err ? err : tl.err ? tl.err : CA_ERR_STORE,
                       "log: cannot rebuild the digest index tail");
    return CA_OK;
}

/* The latest root and, when it is for this size, the latest checkpoint note. */
static ca_err load_latest(ca_log *log, uint64_t size, ca_errbuf *eb)
{
    peaks_view pv = {log->peaks, size};
    ca_err err = ca_merkle_root(&log->latest_root, peaks_reader, &pv, size);
    if (err != CA_OK)
        return ca_fail(eb, err, "log: cannot compute the root");
    log->latest_size = size;
    ca_store_txn *t;
    if ((err = ca_store_begin(log->store, &t, false, eb)) != CA_OK)
        return err;
    char prefix[CA_ORIGIN_MAX + 32];
    int plen = snprintf(prefix, sizeof prefix, "%s\n%llu\n", log->origin, (unsigned long long)size);
    if (meta_get_str(t, META_CHECKPOINT, log->latest_note, sizeof log->latest_note) == CA_OK &&
        strncmp(log->latest_note, prefix, (size_t)plen) == 0)
        log->latest_note_len = strlen(log->latest_note);
    ca_store_abort(t);
    return CA_OK;
}

ca_err ca_log_open(ca_log **out, const ca_log_options *o, ca_errbuf *eb)
{
    CA_ASSERT(out && o && o->store);
    *out = NULL;
    ca_log *log = NULL;
    ca_err err = log_alloc(&log, o, eb);
    if (err)
        return err;
    if ((err = create_or_check_schema(log, o, eb)) != CA_OK)
        goto fail;

    ca_store_txn *t = NULL;
    if ((err = ca_store_begin(log->store, &t, false, eb)) != CA_OK)
        goto fail;
    uint64_t size = 0;
    if ((err = load_tree(log, t, &size, eb)) == CA_OK) {
        check_log_key(log);
        err = rebuild_tail(log, t, size, eb);
    }
    ca_store_abort(t);
    if (err || (err = load_latest(log, size, eb)) != CA_OK)
        goto fail;
    atomic_store(&log->size, size);
    *out = log;
    return CA_OK;
fail:
    log_free(log);
    return err;
}

/* ---- appending ------------------------------------------------------------------------------ */

/* One group commit: the requests of a batch and the scratch state of the transaction. Every
 * field the transaction writes is recomputed from the log's committed state when it runs, so
 * ca_store_write may re-run it after growing the map. */
typedef struct commit_batch {
    ca_log *log;
    append_request *requests;
    size_t digests;           /* digests in all requests */
    digest_set fresh;         /* digests new in this batch -> index */
    uint64_t new_size;
    ca_hash new_peaks[CA_MERKLE_MAX_PROOF];
    ca_hash new_root;
    char note[CA_NOTE_MAX]; /* the checkpoint signed for new_size */
    size_t note_len;
} commit_batch;

/* Looks a digest up among the logged ones: the in-memory tail, then the stored index. The
 * leader reads the tail without the lock: only the leader writes it. */
static ca_err find_logged(ca_log *log, ca_store_txn *t, const ca_hash *d, uint64_t *index,
                          bool *found)
{
    *found = digest_set_get(&log->tail, d, index);
    if (*found)
        return CA_OK;
    log_read rd = {.log = log, .txn = t, .size = log->indexed};
    return lookup_stored(&rd, d, index, found);
}

static int compare_slots(const void *a, const void *b)
{
    return memcmp(((const digest_slot *)a)->digest.b, ((const digest_slot *)b)->digest.b,
                  CA_HASH_SIZE);
}

static ca_err commit_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    commit_batch *b = arg;
    ca_log *log = b->log;
    uint64_t size = atomic_load(&log->size);
    memcpy(b->new_peaks, log->peaks, sizeof b->new_peaks);
    digest_set_clear(&b->fresh);
    ca_err err = CA_OK;
    if (log->tile_dirty && (err = tile_load(log, t, size)) != CA_OK)
        return ca_fail(eb, err, "log: cannot reload the current tile: %s", ca_strerror(err));
    log->tile_dirty = true; /* until this attempt commits (commit_requests clears it) */

    for (append_request *r = b->requests; r; r = (append_request *)r->gc.next) {
        for (size_t i = 0; i < r->n; i++) {
            ca_log_entry *e = &r->entries[i];
            bool found;
            if (digest_set_get(&b->fresh, &e->digest, &e->index))
                continue;
            if ((err = find_logged(log, t, &e->digest, &e->index, &found)) != CA_OK)
                return ca_fail(eb, err, "log: digest lookup failed: %s", ca_strerror(err));
            if (found)
                continue;
            /* A new leaf: its digest, then every subtree it completes. */
            uint8_t key[8];
            ca_store_u64_key(key, size);
            if ((err = ca_store_append(t, CA_TABLE_LEAVES, key, 8, e->digest.b, CA_HASH_SIZE)))
                return ca_fail(eb, err, "log: cannot write leaf %llu: %s",
                               (unsigned long long)size, ca_strerror(err));
            ca_hash leaf, made[CA_MERKLE_MAX_PROOF];
            size_t made_count;
            ca_merkle_leaf_hash(&leaf, e->digest.b);
            peaks_view view = {b->new_peaks, size};
            if ((err = ca_merkle_append_hashes(made, &made_count, peaks_reader, &view, size,
                                               &leaf)))
                return ca_fail(eb, err, "log: hashing failed at leaf %llu",
                               (unsigned long long)size);
            if ((size + 1) >> log->max_leaves_log2)
                return ca_fail(eb, CA_ERR_FULL, "log: the log holds the most leaves it can");
            log->tile[ca_tile_block_slot(0, size)] = leaf;
            for (size_t l = 0; l < made_count; l++) {
                /* Readers see this only once the size is published; a re-run of the
                 * transaction writes the same value. */
                if (l + 1 < CA_TILE_HEIGHT)
                    log->tile[ca_tile_block_slot((unsigned)l + 1, size >> (l + 1))] = made[l];
                if (l + 1 >= CACHE_LEVEL)
                    log->upper[l + 1][size >> (l + 1)] = made[l];
                ca_store_u64_key(key, ca_merkle_stored_index((unsigned)l + 1, size >> (l + 1)));
                if ((err = ca_store_append(t, CA_TABLE_HASHES, key, 8, made[l].b,
                                           CA_HASH_SIZE)))
                    return ca_fail(eb, err, "log: cannot write subtree hash: %s",
                                   ca_strerror(err));
            }
            if ((size + 1) % CA_TILE_WIDTH == 0) {
                ca_store_u64_key(key, size / CA_TILE_WIDTH);
                if ((err = ca_store_append(t, CA_TABLE_TILES, key, 8, log->tile,
                                           sizeof log->tile)))
                    return ca_fail(eb, err, "log: cannot write tile: %s", ca_strerror(err));
            }
            /* Leaf `size` turns the peaks at levels 0..made_count-1 into one at made_count. */
            b->new_peaks[made_count] = made_count ? made[made_count - 1] : leaf;
            digest_set_put(&b->fresh, &e->digest, size);
            e->index = size++;
        }
    }
    b->new_size = size;
    /* The callers' own records (credentials, status list versions) commit in this same
     * transaction as their digests, so neither is ever durable without the other. */
    for (append_request *r = b->requests; r; r = (append_request *)r->gc.next)
        if (r->write && (err = r->write(t, r->write_arg, r->entries, r->n, eb)))
            return err;
    if (b->new_size == atomic_load(&log->size))
        return CA_OK; /* only duplicates: no leaf or checkpoint to write */

    peaks_view view = {b->new_peaks, b->new_size};
    if ((err = ca_merkle_root(&b->new_root, peaks_reader, &view, b->new_size)))
        return ca_fail(eb, err, "log: root computation failed");
    return put_checkpoint(log, t, b->new_size, &b->new_root, b->note, &b->note_len, eb);
}

/* Publishes a committed batch: peaks, tail, then the size readers look at. */
static void publish_batch(commit_batch *b)
{
    ca_log *log = b->log;
    uint64_t old_size = atomic_load(&log->size);
    memcpy(log->peaks, b->new_peaks, sizeof log->peaks);
    pthread_rwlock_wrlock(&log->tail_lock);
    if (digest_set_reserve(&log->tail, b->fresh.count) == CA_OK) {
        for (size_t i = 0; i < b->fresh.cap; i++)
            if (b->fresh.slots[i].index != UINT64_MAX)
                digest_set_put(&log->tail, &b->fresh.slots[i].digest, b->fresh.slots[i].index);
    } else {
        /* Cannot grow the tail: the digests are durable but unfindable until the next open
         * rebuilds the tail. Refuse further appends rather than answer wrongly. */
        snprintf(log->blocked, sizeof log->blocked, "out of memory for the digest index tail");
    }
    pthread_rwlock_unlock(&log->tail_lock);
    log->commits++;
    log->appended += b->new_size - old_size;
    if (b->new_size != old_size) {
        pthread_mutex_lock(&log->latest_lock);
        log->latest_size = b->new_size;
        log->latest_root = b->new_root;
        memcpy(log->latest_note, b->note, b->note_len + 1);
        log->latest_note_len = b->note_len;
        pthread_mutex_unlock(&log->latest_lock);
    }
    atomic_store(&log->size, b->new_size);
}

static ca_err flush_tail(ca_log *log, ca_errbuf *eb);

/* Commits every request in the list as one transaction and fills in each request's result. */
static void commit_requests(ca_log *log, append_request *requests)
{
    commit_batch b = {.log = log, .requests = requests};
    ca_errbuf eb = {{0}};
    ca_err err;
    for (append_request *r = requests; r; r = (append_request *)r->gc.next)
        b.digests += r->n;
    char hold[sizeof log->hold];
    pthread_mutex_lock(&log->hold_lock);
    memcpy(hold, log->hold, sizeof hold);
    pthread_mutex_unlock(&log->hold_lock);
    if (log->blocked[0]) {
        err = ca_fail(&eb, CA_ERR_INCONSISTENT, "log: appends refused: %s", log->blocked);
    } else if (hold[0]) {
        err = ca_fail(&eb, CA_ERR_INCONSISTENT, "log: appends held: %s", hold);
    } else if ((err = digest_set_init(&b.fresh, b.digests)) != CA_OK) {
        ca_fail(&eb, err, "log: out of memory");
    } else {
        err = ca_store_write(log->store, commit_txn, &b, &eb);
        /* A commit without digests (an audit entry alone) is too small to show room. */
        if (err == CA_ERR_FULL || (!err && b.digests))
            atomic_store(&log->store_full, err == CA_ERR_FULL);
        if (!err) {
            log->tile_dirty = false;
            publish_batch(&b);
        }
        digest_set_free(&b.fresh);
        /* The digests are durable and answered from the tail either way; a failed flush
         * (say, a full disk) is retried at the next commit. */
        ca_errbuf flush_eb = {{0}};
        if (!err && log->tail.count >= log->index_batch && flush_tail(log, &flush_eb))
            ca_node_log(CA_NODE_LOG_WARNING, NULL, "%s (will retry)", flush_eb.msg);
    }
    for (append_request *r = requests; r; r = (append_request *)r->gc.next) {
        r->err = err;
        r->eb = eb;
        r->tree_size = atomic_load(&log->size);
    }
}

/* The group commit's callback: one transaction for every queued append. */
static void commit_batch_of(void *ctx, ca_gc_request *batch)
{
    commit_requests(ctx, (append_request *)batch);
}

ca_err ca_log_append(ca_log *log, ca_log_entry *entries, size_t n, uint64_t *tree_size,
                     ca_errbuf *eb)
{
    return ca_log_append_with(log, entries, n, NULL, NULL, tree_size, eb);
}

ca_err ca_log_append_with(ca_log *log, ca_log_entry *entries, size_t n, ca_log_write_fn write,
                          void *write_arg, uint64_t *tree_size, ca_errbuf *eb)
{
    CA_ASSERT(log && (entries || n == 0));
    if (log->read_only)
        return ca_fail(eb, CA_ERR_PERMISSION, "log: opened read-only (no log key loaded)");
    append_request req = {.entries = entries, .n = n, .write = write, .write_arg = write_arg};
    ca_group_commit_run(&log->appends, &req.gc, commit_batch_of, log);
    if (tree_size)
        *tree_size = req.tree_size;
    if (req.err && eb)
        *eb = req.eb;
    return req.err;
}

/* Writing the tail into `digest_index`: sorted, in transactions that dirty at most about
 * store.index_flush_pages pages. LMDB keeps every page a write transaction dirties in process memory
 * until the commit; k random keys spread over an index of P leaf pages dirty about
 * P * (1 - e^(-k/P)) of them. While the index is small one transaction takes the whole tail
 * (fewest page writes); once it is large the tail goes in chunks of the k that keeps that
 * under the cap, so a flush never holds more than ~32 MiB whatever the log's size.
 * Only the last chunk moves the watermark: after a crash in between, open reloads the whole
 * tail and the next flush rewrites the same (digest, index) pairs, which is harmless. */
#define INDEX_ENTRIES_PER_PAGE 60.0 /* 48-byte entries in 4 KiB pages, ~75% full */

static size_t index_chunk_size(uint64_t indexed, size_t tail, uint64_t dirty_pages)
{
    double pages = (double)indexed / INDEX_ENTRIES_PER_PAGE + 1.0, budget = (double)dirty_pages;
    if (pages <= budget)
        return tail;
    double k = -pages * log(1.0 - budget / pages); /* >= budget, so never 0 */
    return k >= (double)tail ? tail : (size_t)k;
}

typedef struct index_chunk {
    const digest_slot *slots;
    size_t count;
    uint64_t watermark; /* UINT64_MAX: not the last chunk */
} index_chunk;

static ca_err write_index_chunk(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const index_chunk *c = arg;
    ca_err err = CA_OK;
    for (size_t i = 0; i < c->count && !err; i++) {
        uint8_t v[8];
        ca_store_u64_key(v, c->slots[i].index);
        err = ca_store_put(t, CA_TABLE_DIGEST_INDEX, c->slots[i].digest.b, 8, v, 8);
    }
    if (!err && c->watermark != UINT64_MAX)
        err = meta_put_u64(t, META_INDEXED, c->watermark);
    return err ? ca_fail(eb, err, "log: cannot write the digest index: %s", ca_strerror(err))
               : CA_OK;
}

/* Writes the whole tail into the stored index, then empties it. Only the commit leader (or a
 * caller holding the commit role) runs this. */
static ca_err flush_tail(ca_log *log, ca_errbuf *eb)
{
    size_t n = log->tail.count, k = 0;
    if (n == 0)
        return CA_OK;
    digest_slot *all = malloc(n * sizeof *all);
    if (!all)
        return ca_fail(eb, CA_ERR_NOMEM, "log: out of memory for the digest index");
    for (size_t i = 0; i < log->tail.cap; i++)
        if (log->tail.slots[i].index != UINT64_MAX)
            all[k++] = log->tail.slots[i];
    qsort(all, k, sizeof *all, compare_slots);
    uint64_t watermark = atomic_load(&log->size);
    size_t chunk = index_chunk_size(log->indexed, k, log->index_flush_pages);
    ca_err err = CA_OK;
    for (size_t at = 0; at < k && !err; at += chunk) {
        index_chunk c = {all + at, k - at < chunk ? k - at : chunk,
                         at + chunk >= k ? watermark : UINT64_MAX};
        err = ca_store_write(log->store, write_index_chunk, &c, eb);
    }
    free(all);
    if (err)
        return err;
    pthread_rwlock_wrlock(&log->tail_lock);
    digest_set_clear(&log->tail);
    log->indexed = watermark;
    pthread_rwlock_unlock(&log->tail_lock);
    return CA_OK;
}

typedef struct flush_job {
    ca_log *log;
    ca_errbuf *eb;
    ca_err err;
} flush_job;

static void flush_exclusive(void *ctx)
{
    flush_job *j = ctx;
    j->err = flush_tail(j->log, j->eb);
}

ca_err ca_log_flush_index(ca_log *log, ca_errbuf *eb)
{
    if (log->read_only)
        return CA_OK;
    /* Take the commit role so no batch runs meanwhile. */
    flush_job j = {log, eb, CA_OK};
    ca_group_commit_exclusive(&log->appends, flush_exclusive, &j);
    return j.err;
}

void ca_log_close(ca_log *log)
{
    if (!log)
        return;
    ca_log_flush_index(log, NULL);
    log_free(log);
}

/* ---- reading -------------------------------------------------------------------------------- */

const char *ca_log_append_blocked(const ca_log *log)
{
    if (log->blocked[0])
        return log->blocked;
    /* The hold text only changes under hold_lock; a racing reader sees one or the other. */
    return log->hold[0] ? log->hold : NULL;
}

void ca_log_hold_appends(ca_log *log, const char *reason)
{
    pthread_mutex_lock(&log->hold_lock);
    snprintf(log->hold, sizeof log->hold, "%s", reason && reason[0] ? reason : "held");
    pthread_mutex_unlock(&log->hold_lock);
}

void ca_log_release_appends(ca_log *log)
{
    pthread_mutex_lock(&log->hold_lock);
    log->hold[0] = '\0';
    pthread_mutex_unlock(&log->hold_lock);
}

uint64_t ca_log_size(const ca_log *log)
{
    return atomic_load(&((ca_log *)log)->size);
}

const char *ca_log_origin(const ca_log *log)
{
    return log->origin;
}

/* Starts a read transaction in which `digest` is looked up: the transaction starts under the
 * tail lock, so if the leader flushes the tail into the stored index meanwhile, either the tail
 * still holds the digest or the snapshot already holds the flush. */
static ca_err begin_lookup(ca_log *log, ca_store_txn **t, const ca_hash *digest, uint64_t *index,
                           bool *in_tail, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    *t = NULL;
    pthread_rwlock_rdlock(&log->tail_lock);
    *in_tail = digest_set_get(&log->tail, digest, index);
    err = ca_store_begin(log->store, t, false, eb);
    pthread_rwlock_unlock(&log->tail_lock);
    return err;
}

ca_err ca_log_find(ca_log *log, uint64_t *index, const ca_hash *digest, ca_errbuf *eb)
{
    ca_store_txn *t;
    bool found;
    ca_err err = begin_lookup(log, &t, digest, index, &found, eb);
    if (err)
        return err;
    if (!found) {
        log_read rd = {.log = log, .txn = t, .size = ca_log_size(log)};
        err = lookup_stored(&rd, digest, index, &found);
    }
    ca_store_abort(t);
    if (err)
        return ca_fail(eb, err, "log: lookup failed: %s", ca_strerror(err));
    return found ? CA_OK : ca_fail(eb, CA_ERR_NOT_FOUND, "log: digest not in the log");
}

ca_err ca_log_prove(ca_log *log, uint64_t *index, ca_hash *path, size_t *path_len,
                    ca_hash *root, uint64_t *size, const ca_hash *digest, ca_errbuf *eb)
{
    ca_store_txn *t;
    bool found;
    ca_err err = begin_lookup(log, &t, digest, index, &found, eb);
    if (err)
        return err;
    uint64_t have = ca_log_size(log); /* read after begin: the snapshot holds at least this */
    if (*size == 0)
        *size = have;
    log_read rd = {.log = log, .txn = t, .size = *size <= have ? *size : 0};
    if (!found)
        err = lookup_stored(&rd, digest, index, &found);
    if (err) {
        err = ca_fail(eb, err, "log: lookup failed: %s", ca_strerror(err));
    } else if (!found) {
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "log: digest not in the log");
    } else if (*size > have || *index >= *size) {
        err = ca_fail(eb, CA_ERR_RANGE, "tree size %llu does not contain leaf %llu (log size %llu)",
                      (unsigned long long)*size, (unsigned long long)*index,
                      (unsigned long long)have);
    } else if ((err = ca_merkle_inclusion_prove(path, path_len, cached_reader, &rd, *index,
                                                *size))) {
        err = ca_fail(eb, err, "log: cannot build the proof: %s", ca_strerror(err));
    } else {
        pthread_mutex_lock(&log->latest_lock);
        bool latest = log->latest_size == *size;
        if (latest)
            *root = log->latest_root;
        pthread_mutex_unlock(&log->latest_lock);
        if (!latest && (err = ca_merkle_root(root, cached_reader, &rd, *size)))
            err = ca_fail(eb, err, "log: cannot compute the root: %s", ca_strerror(err));
    }
    ca_store_abort(t);
    return err;
}

/* Starts a read transaction and checks size against the durable tree size. */
static ca_err begin_read_upto(ca_log *log, ca_store_txn **t, uint64_t size, ca_errbuf *eb)
{
    ca_err err = ca_store_begin(log->store, t, false, eb);
    if (err)
        return err;
    uint64_t have = ca_log_size(log); /* read after begin: the snapshot holds at least this */
    if (size > have) {
        ca_store_abort(*t);
        return ca_fail(eb, CA_ERR_RANGE, "tree size %llu is larger than the log (%llu)",
                       (unsigned long long)size, (unsigned long long)have);
    }
    return CA_OK;
}

ca_err ca_log_digest_at(ca_log *log, ca_hash *digest, uint64_t index, ca_errbuf *eb)
{
    if (index >= ca_log_size(log))
        return ca_fail(eb, CA_ERR_RANGE, "leaf index %llu is past the end of the log",
                       (unsigned long long)index);
    ca_store_txn *t;
    ca_err err = ca_store_begin(log->store, &t, false, eb);
    if (err)
        return err;
    uint8_t key[8];
    ca_store_val val;
    ca_store_u64_key(key, index);
    err = ca_store_get(t, CA_TABLE_LEAVES, key, 8, &val);
    if (!err && val.len == CA_HASH_SIZE)
        memcpy(digest->b, val.data, CA_HASH_SIZE);
    ca_store_abort(t);
    return err ? ca_fail(eb, CA_ERR_STORE, "log: leaf %llu unreadable",
                         (unsigned long long)index)
               : CA_OK;
}

ca_err ca_log_root(ca_log *log, ca_hash *root, uint64_t size, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = begin_read_upto(log, &t, size, eb);
    if (err)
        return err;
    err = ca_merkle_root(root, store_reader, t, size);
    ca_store_abort(t);
    return err ? ca_fail(eb, err, "log: cannot compute the root: %s", ca_strerror(err)) : CA_OK;
}

ca_err ca_log_inclusion(ca_log *log, ca_hash *path, size_t *path_len, ca_hash *root,
                        uint64_t index, uint64_t size, ca_errbuf *eb)
{
    if (index >= size)
        return ca_fail(eb, CA_ERR_RANGE, "leaf index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    ca_store_txn *t;
    ca_err err = begin_read_upto(log, &t, size, eb);
    if (err)
        return err;
    log_read rd = {.log = log, .txn = t, .size = size};
    err = ca_merkle_inclusion_prove(path, path_len, cached_reader, &rd, index, size);
    if (!err && root) {
        pthread_mutex_lock(&log->latest_lock);
        bool latest = log->latest_size == size;
        if (latest)
            *root = log->latest_root;
        pthread_mutex_unlock(&log->latest_lock);
        if (!latest)
            err = ca_merkle_root(root, cached_reader, &rd, size);
    }
    ca_store_abort(t);
    return err ? ca_fail(eb, err, "log: cannot build the proof: %s", ca_strerror(err)) : CA_OK;
}

ca_err ca_log_consistency(ca_log *log, ca_hash *path, size_t *path_len, uint64_t m, uint64_t n,
                          ca_errbuf *eb)
{
    if (m == 0 || m > n)
        return ca_fail(eb, CA_ERR_RANGE, "consistency needs 0 < from <= to (from %llu, to %llu)",
                       (unsigned long long)m, (unsigned long long)n);
    ca_store_txn *t;
    ca_err err = begin_read_upto(log, &t, n, eb);
    if (err)
        return err;
    log_read rd = {.log = log, .txn = t, .size = n};
    err = ca_merkle_consistency_prove(path, path_len, cached_reader, &rd, m, n);
    ca_store_abort(t);
    return err ? ca_fail(eb, err, "log: cannot build the proof: %s", ca_strerror(err)) : CA_OK;
}

/* Tiles (C2SP tlog-tiles, SPEC §8 "Static tiles"). A level-0 tile of a complete block is
 * the first 256 slots of the stored block (never rehashed from the leaves); the rightmost,
 * partial level-0 tile hashes its few leaves; a tile at level L >= 1 holds the subtree hashes
 * at tree level 8L, which the log keeps in memory (`upper`; cached_reader falls back to the
 * `hashes` table when they could not be reserved). */
static ca_err tile_hashes(log_read *rd, unsigned level, uint64_t index, unsigned width,
                          uint8_t *out)
{
    uint64_t first = index * CA_TILE_WIDTH;
    if (level == 0 && ca_tile_block_complete(index, rd->size)) {
        ca_hash h;
        ca_err err = cached_reader(rd, 0, first, &h); /* loads the block's stored tile */
        if (err)
            return err;
        memcpy(out, rd->tile, (size_t)width * CA_HASH_SIZE); /* slots 0..255 are level 0 */
        return CA_OK;
    }
    for (unsigned i = 0; i < width; i++) {
        ca_hash h;
        ca_err err = cached_reader(rd, level * CA_TILE_HEIGHT, first + i, &h);
        if (err)
            return err;
        memcpy(out + (size_t)i * CA_HASH_SIZE, h.b, CA_HASH_SIZE);
    }
    return CA_OK;
}

/* Opens a read transaction for tile (level, index) of `width` and checks that the current
 * tree has it at least that wide (ca_tile_width: none at level >= 8 in a 64-bit tree);
 * rd->size gets the size read. */
static ca_err begin_tile_read(ca_log *log, log_read *rd, unsigned level, uint64_t index,
                              unsigned width, ca_errbuf *eb)
{
    if (width == 0 || width > CA_TILE_WIDTH)
        return ca_fail(eb, CA_ERR_INVALID, "no tile has width %u", width);
    ca_store_txn *t;
    ca_err err = ca_store_begin(log->store, &t, false, eb);
    if (err)
        return err;
    uint64_t size = ca_log_size(log); /* read after begin: the snapshot holds at least this */
    unsigned have = ca_tile_width(size, level, index);
    if (have < width) {
        ca_store_abort(t);
        return ca_fail(eb, CA_ERR_NOT_FOUND,
                       "tree size %llu has %u hashes in tile %u/%llu, not %u",
                       (unsigned long long)size, have, level, (unsigned long long)index,
                       width);
    }
    *rd = (log_read){.log = log, .txn = t, .size = size};
    return CA_OK;
}

ca_err ca_log_tile(ca_log *log, uint8_t out[CA_LOG_TILE_MAX], unsigned level, uint64_t index,
                   unsigned width, ca_errbuf *eb)
{
    log_read rd = {.log = log}; /* begin_tile_read fills it; GCC cannot see that */
    ca_err err = begin_tile_read(log, &rd, level, index, width, eb);
    if (err)
        return err;
    err = tile_hashes(&rd, level, index, width, out);
    ca_store_abort(rd.txn);
    return err ? ca_fail(eb, err, "log: cannot read tile %u/%llu: %s", level,
                         (unsigned long long)index, ca_strerror(err))
               : CA_OK;
}

ca_err ca_log_entry_bundle(ca_log *log, uint8_t out[CA_LOG_BUNDLE_MAX], uint64_t index,
                           unsigned width, ca_errbuf *eb)
{
    log_read rd = {.log = log}; /* begin_tile_read fills it; GCC cannot see that */
    ca_err err = begin_tile_read(log, &rd, 0, index, width, eb);
    if (err)
        return err;
    for (unsigned i = 0; i < width && !err; i++) {
        uint8_t key[8];
        ca_store_val val;
        ca_store_u64_key(key, index * CA_TILE_WIDTH + i);
        err = ca_store_get(rd.txn, CA_TABLE_LEAVES, key, 8, &val);
        if (!err && val.len != CA_HASH_SIZE)
            err = CA_ERR_STORE;
        if (!err) { /* tlog-tiles: a big-endian uint16 length, then the entry (the digest) */
            uint8_t *at = out + (size_t)i * CA_LOG_BUNDLE_ENTRY;
            at[0] = 0;
            at[1] = CA_HASH_SIZE;
            memcpy(at + 2, val.data, CA_HASH_SIZE);
        }
    }
    ca_store_abort(rd.txn);
    return err ? ca_fail(eb, err == CA_ERR_NOT_FOUND ? CA_ERR_STORE : err,
                         "log: cannot read entry bundle %llu: %s", (unsigned long long)index,
                         ca_strerror(err))
               : CA_OK;
}

/* Copies the latest note when it is for `size`; false otherwise. */
static bool latest_note_for(ca_log *log, char *note, size_t *note_len, uint64_t size)
{
    pthread_mutex_lock(&log->latest_lock);
    bool have = log->latest_note_len && log->latest_size == size;
    if (have) {
        memcpy(note, log->latest_note, log->latest_note_len + 1);
        *note_len = log->latest_note_len;
    }
    pthread_mutex_unlock(&log->latest_lock);
    return have;
}

ca_err ca_log_checkpoint(ca_log *log, char *note, size_t *note_len, ca_errbuf *eb)
{
    if (latest_note_for(log, note, note_len, ca_log_size(log)))
        return CA_OK;
    ca_store_txn *t;
    ca_err err = ca_store_begin(log->store, &t, false, eb);
    if (err)
        return err;
    err = meta_get_str(t, META_CHECKPOINT, note, CA_NOTE_MAX);
    ca_store_abort(t);
    if (err)
        return ca_fail(eb, err, "log: no checkpoint stored: %s", ca_strerror(err));
    *note_len = strlen(note);
    return CA_OK;
}

ca_err ca_log_checkpoint_at(ca_log *log, char *note, size_t *note_len, uint64_t size,
                            ca_errbuf *eb)
{
    if (latest_note_for(log, note, note_len, size))
        return CA_OK;
    ca_store_txn *t;
    ca_err err = begin_read_upto(log, &t, size, eb);
    if (err)
        return err;
    /* An anchored checkpoint is stored as signed. */
    uint8_t key[8];
    ca_store_val val;
    ca_store_u64_key(key, size);
    if (ca_store_get(t, CA_TABLE_CHECKPOINTS, key, 8, &val) == CA_OK && val.len < CA_NOTE_MAX) {
        memcpy(note, val.data, val.len);
        note[val.len] = '\0';
        *note_len = val.len;
        ca_store_abort(t);
        return CA_OK;
    }
    /* Any other historical size: its root is fixed, so signing it now is safe (SPEC §3). */
    ca_hash root;
    log_read rd = {.log = log, .txn = t, .size = size};
    err = ca_merkle_root(&root, cached_reader, &rd, size);
    ca_store_abort(t);
    if (err)
        return ca_fail(eb, err, "log: cannot compute the root: %s", ca_strerror(err));
    return sign_checkpoint(log, note, note_len, size, &root, eb);
}

ca_err ca_log_verifier_key(ca_log *log, char out[CA_VERIFIER_KEY_MAX], ca_errbuf *eb)
{
    (void)eb;
    snprintf(out, CA_VERIFIER_KEY_MAX, "%s", log->verifier_key);
    return CA_OK;
}

void ca_log_get_stats(ca_log *log, ca_log_stats *st)
{
    st->tree_size = ca_log_size(log);
    pthread_rwlock_rdlock(&log->tail_lock);
    st->indexed = log->indexed;
    pthread_rwlock_unlock(&log->tail_lock);
    st->commits = log->commits;
    st->appended = log->appended;
    st->store_full = atomic_load(&log->store_full);
}

/* ---- key history and rotation (keys rotate --log) ------------------------------------------- */

/* Reads the "log_keys" text into text (LOG_KEYS_TEXT_MAX bytes), or synthesises the one-line
 * history of a log never rotated. */
static ca_err key_history_text(ca_store_txn *t, const char *current, char *text)
{
    ca_err err = meta_get_str(t, META_LOG_KEYS, text, LOG_KEYS_TEXT_MAX);
    if (err == CA_ERR_NOT_FOUND) {
        snprintf(text, LOG_KEYS_TEXT_MAX, "0 %s\n", current);
        return CA_OK;
    }
    return err;
}

/* Parses the history text into spans (see the "log_keys" comment at the top). */
static ca_err parse_key_history(ca_log_key_span *spans, size_t cap, size_t *n, const char *text)
{
    *n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl || *n >= cap)
            return CA_ERR_STORE;
        char *end;
        unsigned long long from = strtoull(p, &end, 10);
        if (end == p || *end != ' ' || (size_t)(nl - end - 1) >= CA_VERIFIER_KEY_MAX ||
            nl == end + 1)
            return CA_ERR_STORE;
        ca_log_key_span *s = &spans[*n];
        memcpy(s->key, end + 1, (size_t)(nl - end - 1));
        s->key[nl - end - 1] = '\0';
        s->from_size = from;
        s->to_size = 0;
        s->current = true;
        if (*n > 0) {
            if (from < spans[*n - 1].from_size)
                return CA_ERR_STORE;
            spans[*n - 1].to_size = from;
            spans[*n - 1].current = false;
        }
        (*n)++;
        p = nl + 1;
    }
    return *n ? CA_OK : CA_ERR_STORE;
}

ca_err ca_log_key_history(ca_log *log, ca_log_key_span *spans, size_t cap, size_t *n,
                          ca_errbuf *eb)
{
    char *text = malloc(LOG_KEYS_TEXT_MAX);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_txn *t;
    ca_err err = ca_store_begin(log->store, &t, false, eb);
    if (!err) {
        char current[CA_VERIFIER_KEY_MAX];
        err = meta_get_str(t, META_VERIFIER_KEY, current, sizeof current);
        if (!err)
            err = key_history_text(t, current, text);
        ca_store_abort(t);
        if (!err)
            err = parse_key_history(spans, cap, n, text);
        if (!err && strcmp(spans[*n - 1].key, current) != 0)
            err = CA_ERR_STORE;
        if (err)
            ca_fail(eb, err, "log: the key history is damaged: %s", ca_strerror(err));
    }
    free(text);
    return err;
}

typedef struct rotate_args {
    ca_log *log;
    const ca_ed25519_key *key;
    const char *vkey;
    uint64_t size;
    ca_hash root;
    char *text;             /* LOG_KEYS_TEXT_MAX scratch */
    char note[CA_NOTE_MAX];
    size_t note_len;
} rotate_args;

static ca_err rotate_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    rotate_args *a = arg;
    ca_log *log = a->log;
    uint64_t size;
    ca_err err;
    if ((err = tree_size_in(t, &size)) || size != a->size)
        return ca_fail(eb, err ? err : CA_ERR_INCONSISTENT,
                       "log: the log changed during the key rotation");
    if ((err = key_history_text(t, log->verifier_key, a->text)))
        return ca_fail(eb, err, "log: the key history is damaged");
    size_t lines = 0, len = strlen(a->text);
    for (const char *p = a->text; *p; p++)
        lines += *p == '\n';
    if (lines >= CA_LOG_KEYS_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "log: already %zu log keys; no more rotations",
                       lines);
    snprintf(a->text + len, LOG_KEYS_TEXT_MAX - len, "%llu %s\n", (unsigned long long)a->size,
             a->vkey);
    if ((err = meta_put_str(t, META_LOG_KEYS, a->text, strlen(a->text))) ||
        (err = meta_put_str(t, META_VERIFIER_KEY, a->vkey, strlen(a->vkey))))
        return ca_fail(eb, err, "log: cannot store the new key: %s", ca_strerror(err));
    return put_checkpoint_with(log, a->key, t, a->size, &a->root, a->note, &a->note_len, eb);
}

ca_err ca_log_rotate_key(ca_log *log, const ca_ed25519_key *new_key, ca_errbuf *eb)
{
    CA_ASSERT(log && new_key);
    if (!log->key)
        return ca_fail(eb, CA_ERR_PERMISSION, "log: opened read-only; no key to rotate");
    if (log->blocked[0])
        return ca_fail(eb, CA_ERR_INCONSISTENT, "log: appends are refused (%s); not rotating",
                       log->blocked);
    char vkey[CA_VERIFIER_KEY_MAX];
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(new_key, pub);
    ca_verifier_key_format(vkey, log->origin, pub);
    if (strcmp(vkey, log->verifier_key) == 0)
        return ca_fail(eb, CA_ERR_INVALID, "log: the new key is the current key");
    rotate_args *a = calloc(1, sizeof *a);
    char *text = malloc(LOG_KEYS_TEXT_MAX);
    ca_err err = CA_OK;
    if (!a || !text) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    a->log = log;
    a->key = new_key;
    a->vkey = vkey;
    a->text = text;
    pthread_mutex_lock(&log->latest_lock);
    a->size = log->latest_size;
    a->root = log->latest_root;
    pthread_mutex_unlock(&log->latest_lock);
    if ((err = ca_store_write(log->store, rotate_txn, a, eb)))
        goto out;
    /* Durable: from now on the new key signs, and the latest note is the one just signed. */
    log->key = new_key;
    snprintf(log->verifier_key, sizeof log->verifier_key, "%s", vkey);
    pthread_mutex_lock(&log->latest_lock);
    memcpy(log->latest_note, a->note, a->note_len + 1);
    log->latest_note_len = a->note_len;
    pthread_mutex_unlock(&log->latest_lock);
out:
    free(text);
    free(a);
    return err;
}
