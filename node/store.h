/*
 * The node's one LMDB environment (SPEC §0), behind a small table-oriented API so that no
 * other file includes lmdb.h. The key schema of every table is documented in node/store.c.
 *
 * Durability: every write transaction is committed with sync (LMDB defaults; MDB_NOSYNC,
 * MDB_NOMETASYNC and MDB_WRITEMAP are never used). The map grows on demand up to
 * store.max_map_size; past it a write fails with CA_ERR_FULL and the transaction is aborted,
 * so nothing already committed is touched. Conventions: common.h.
 */
#ifndef CREDANCHOR_STORE_H
#define CREDANCHOR_STORE_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_store ca_store;         /* opaque: the environment */
typedef struct ca_store_txn ca_store_txn; /* opaque: one read or write transaction */

/* The tables (LMDB named databases). Their key/value layouts: node/store.c. */
typedef enum ca_table {
    CA_TABLE_META = 0,         /* named settings and counters */
    CA_TABLE_LEAVES,           /* leaf index -> 32-byte digest */
    CA_TABLE_HASHES,           /* stored-hash index -> 32-byte subtree hash (levels >= 1) */
    CA_TABLE_DIGEST_INDEX,     /* 8-byte digest prefix -> leaf indices (several values) */
    CA_TABLE_CHECKPOINTS,      /* tree size -> signed checkpoint note */
    CA_TABLE_TOKENS,           /* API token id -> token record (hash, role, expiry) */
    CA_TABLE_AUDIT,            /* sequence number -> hash-chained audit entry */
    CA_TABLE_TILES,            /* 256-leaf block -> its levels 0..7 hashes (read copy) */
    CA_TABLE_DID_CACHE,        /* did:web DID -> expiry || resolved document */
    CA_TABLE_ANCHORS,          /* tree size -> anchor record (node/anchor_engine.c) */
    CA_TABLE_CREDENTIALS,      /* credential uuid -> issuance record (node/issuer.c) */
    CA_TABLE_CREDENTIAL_DOCS,  /* credential uuid -> the signed credential as issued */
    CA_TABLE_CREDENTIAL_KEYS,  /* issue number / (achievement, external id) -> uuid */
    CA_TABLE_STATUS_ENTRIES,   /* status list id -> allocated and published bitmaps */
    CA_TABLE_STATUS_VERSIONS,  /* status list id || version -> a published list credential */
    CA_TABLE_PARTICIPANTS,     /* course || external id -> participant row (reports) */
    CA_TABLE_REPORT_COUNTS,    /* dimension || group -> summary counters (node/reports.c) */
    CA_TABLE_USERS,            /* user id -> user record (node/users.c, issue #16) */
    CA_TABLE_USER_EMAILS,      /* blind index of an email -> user id */
    CA_TABLE_INVITES,          /* SHA-256 of an invite secret -> user id, expiry, use */
    CA_TABLE_PASSKEYS,         /* SHA-256 of a credential id -> user id, passkey record */
    CA_TABLE_SESSIONS,         /* session id -> session record */
    CA_TABLE_OUTBOX,           /* credential uuid || event || channel || seq -> delivery */
    CA_TABLE_OUTBOX_DUE,       /* due time || action || outbox key -> "" (node/outbox.c) */
    CA_TABLE_WEBHOOKS,         /* endpoint id -> endpoint record (node/webhooks.c) */
    CA_TABLE_WEBHOOK_DELIVERIES, /* endpoint id || sequence -> delivery record */
    CA_TABLE_WEBHOOK_DUE,      /* due time || endpoint id || sequence -> "" */
    CA_TABLE__COUNT
} ca_table;

/* A value handed out by ca_store_get: valid only until its transaction ends (LMDB). */
typedef struct ca_store_val {
    const void *data;
    size_t len;
} ca_store_val;

typedef struct ca_store_options {
    const char *dir;          /* the environment's directory; created 0700 if missing */
    uint64_t max_map_size;    /* bytes; the map never grows past this */
    bool read_only;
    /* Write without taking the single-writer lock: for writers that never touch the log's
     * tables (tokens, audit) and so may run beside a serving node. LMDB serialises the write
     * transactions of all processes itself. */
    bool shared_writer;
} ca_store_options;

ca_err ca_store_open(ca_store **store, const ca_store_options *opts, ca_errbuf *eb);
void ca_store_close(ca_store *store);

/* Read transactions may run in any thread, many at once. Only one write transaction runs at a
 * time (callers serialise writes; the log's group commit does). */
ca_err ca_store_begin(ca_store *store, ca_store_txn **txn, bool write, ca_errbuf *eb);
/* Commits with sync. CA_ERR_FULL when the map is full or the disk is (the transaction is then
 * aborted and nothing committed before is touched); ca_store_write grows the map and retries. */
ca_err ca_store_commit(ca_store_txn *txn, ca_errbuf *eb);
void ca_store_abort(ca_store_txn *txn);

/* Runs fn(txn, arg) inside a write transaction and commits with sync. When the map fills
 * (during fn or the commit), the transaction is aborted, the map is grown (doubling, capped
 * at max_map_size) and fn runs again from the start, so fn must derive everything it writes
 * from arg and the transaction. CA_ERR_FULL once the cap is reached. */
typedef ca_err (*ca_store_write_fn)(ca_store_txn *txn, void *arg, ca_errbuf *eb);
ca_err ca_store_write(ca_store *store, ca_store_write_fn fn, void *arg, ca_errbuf *eb);

/* CA_ERR_NOT_FOUND when the key is absent. */
ca_err ca_store_get(ca_store_txn *txn, ca_table table, const void *key, size_t key_len,
                    ca_store_val *val);
ca_err ca_store_put(ca_store_txn *txn, ca_table table, const void *key, size_t key_len,
                    const void *val, size_t val_len);
/* Put a key known to sort after every key in the table (MDB_APPEND: no B-tree search, pages
 * filled completely). CA_ERR_INVALID if the key does not sort last. */
ca_err ca_store_append(ca_store_txn *txn, ca_table table, const void *key, size_t key_len,
                       const void *val, size_t val_len);
ca_err ca_store_del(ca_store_txn *txn, ca_table table, const void *key, size_t key_len);

/* Iterates keys >= start (all keys when start is NULL) in order, calling fn until it returns
 * false or the table ends. */
typedef bool (*ca_store_iter_fn)(void *arg, const ca_store_val *key, const ca_store_val *val);
ca_err ca_store_scan(ca_store_txn *txn, ca_table table, const void *start, size_t start_len,
                     ca_store_iter_fn fn, void *arg);
/* The same downwards: keys <= start (all keys when start is NULL), greatest first (issue #17:
 * the issuance list newest first, a reverse cursor walk). */
ca_err ca_store_scan_reverse(ca_store_txn *txn, ca_table table, const void *start,
                             size_t start_len, ca_store_iter_fn fn, void *arg);

/* Calls fn for every value stored under key in a table with several values per key
 * (CA_TABLE_DIGEST_INDEX), in order, until fn returns false. CA_ERR_NOT_FOUND when none. */
ca_err ca_store_get_all(ca_store_txn *txn, ca_table table, const void *key, size_t key_len,
                        ca_store_iter_fn fn, void *arg);

/* The last key/value of a table (CA_ERR_NOT_FOUND when empty). */
ca_err ca_store_last(ca_store_txn *txn, ca_table table, ca_store_val *key, ca_store_val *val);

/* The last key/value whose key starts with prefix (CA_ERR_NOT_FOUND when none): one cursor
 * seek, so a sequence numbered under a prefix can be continued without a counter record. */
ca_err ca_store_last_under(ca_store_txn *txn, ca_table table, const void *prefix,
                           size_t prefix_len, ca_store_val *key, ca_store_val *val);

/* A consistent hot copy of the environment into dir, compacting (mdb_env_copy2 MDB_CP_COMPACT). */
ca_err ca_store_copy(ca_store *store, const char *dir, ca_errbuf *eb);

/* Reads every entry of every table and of LMDB's free-page list (for `check`): CA_ERR_STORE
 * naming what cannot be read; *entries gets the number read. */
ca_err ca_store_verify(ca_store *store, uint64_t *entries, ca_errbuf *eb);

/* Figures for metrics and benchmarks. */
typedef struct ca_store_stats {
    uint64_t map_size;     /* current map size in bytes */
    uint64_t used_bytes;   /* pages in use * page size */
    uint64_t page_size;
    uint64_t readers_used;          /* reader-table slots ever taken (LMDB me_numreaders) */
    uint64_t stale_readers_cleared; /* slots of dead processes this open freed */
} ca_store_stats;
ca_err ca_store_get_stats(ca_store *store, ca_store_stats *stats);

/* Big-endian u64 keys sort numerically in LMDB's default byte order. */
static inline void ca_store_u64_key(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}
static inline uint64_t ca_store_u64_from(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

#ifdef __cplusplus
}
#endif
#endif
