/*
 * node/store.c — the only file that includes lmdb.h (STYLE: one storage module).
 *
 * One LMDB environment in <data_dir>/db (SPEC §0). Tables and key schema:
 *
 *   meta          key: ASCII name             value: see node/log.c (tree size, index
 *                                              watermark, origin, latest checkpoint, the largest
 *                                              signed checkpoint, schema version, the log key
 *                                              history "log_keys") and node/keys.c (the issuer
 *                                              key histories "issuer_keys",
 *                                              "issuer_keys_es256k", "issuer_keys_es256",
 *                                              "issuer_keys_rs256"; keys rotate)
 *   leaves        key: u64 BE leaf index      value: the 32-byte digest (appended in order)
 *   hashes        key: u64 BE stored index    value: 32-byte hash of complete subtree
 *                 (ca_merkle_stored_index(level, n), levels >= 1; leaf hashes are derived from
 *                 `leaves`). Keys only increase as the log grows, so writes use MDB_APPEND.
 *   digest_index  key: first 8 bytes of a digest  values (MDB_DUPSORT | MDB_DUPFIXED): u64 BE
 *                 leaf indices of the digests with that prefix (almost always one). 16-byte
 *                 entries instead of 40 keep the random-keyed tree small; a lookup confirms
 *                 each candidate against the leaf. Written in sorted batches (node/log.c).
 *   checkpoints   key: u64 BE tree size       value: signed checkpoint note text
 *   tiles         key: u64 BE block number t  value: 510 hashes: the complete subtrees at
 *                 levels 0..7 inside leaves [256t, 256t + 256), level by level (256 leaf
 *                 hashes, 128 level-1 hashes, ... 2 level-7 hashes). Written once, with
 *                 MDB_APPEND, when the block's last leaf is appended: a read copy of what
 *                 `leaves` and `hashes` hold, so a proof reads one value, not eight.
 *   did_cache     key: a did:web DID (text)   value: u64 BE expiry (unix seconds) || the
 *                 document JSON. Written by the resolver (node/resolver.c); stale entries are
 *                 replaced on the next fetch.
 *   anchors       key: u64 BE tree size       value: one anchor record as compact JSON: the
 *                 SPEC §3 public fields plus nonce, fees, gas limit, the signed raw
 *                 transaction and its hash, replaced hashes and times (layout: the top of
 *                 node/anchor_engine.c). Written only by the anchoring engine; sizes only grow.
 *   tokens        key: 16-char hex token id   value: binary token record (SHA-256 of the
 *                                              token, role, times, name), see node/auth.c
 *   audit         key: u64 BE sequence (1..)  value: audit entry JSON, hash-chained; plus the
 *                 chain head under the 1-byte key 0x00 (sorts first): u64 BE last sequence
 *                 || SHA-256 of the last entry. See node/auth.c
 * Credentials (SPEC §5; written by node/issuer.c in the same transaction as their digests):
 *   credentials      key: 16-byte credential UUID  value: the issuance record as compact JSON
 *                    (issue number, digest, leaf index, recipient name, department, course,
 *                    status, status list slots; never a plaintext email unless configured)
 *   credential_docs  key: 16-byte UUID         value: the signed credential exactly as issued
 *                    (the compact JWS, or the JCS form of the signed JSON)
 *   credential_keys  key: 'n' || issue number  value: 16-byte UUID
 *                    key: 'x' || achievement id || 0x00 || external id  value: 16-byte UUID
 *                    (bulk issuance idempotency)
 *   status_entries   key: u32 BE list id  value: the list's allocated-slot bitmap then its
 *                    published status bitmap (16 KiB each, index 0 = MSB of byte 0), rewritten
 *                    by every commit that allocates or changes a slot of the list
 *   status_versions  key: u32 BE list id || u64 BE version  value: u64 BE published-at (unix
 *                    seconds) || u64 BE leaf index || 1 purpose byte || the signed
 *                    BitstringStatusListCredential (JCS bytes, whose SHA-256 is in the log)
 *   participants     key: course || 0x00 || external id  value: participant JSON (name,
 *                    department, completedAt): the enrolment totals of completion rates
 *   report_counts    key: 't' "all" | 'd' department | 'c' course  value: six u64 BE counters
 *                    (issued, active, revoked, suspended, enrolled, completed), updated in
 *                    the commits that write credentials, status changes and participants;
 *                    built once from the records by the first writer open (node/reports.c)
 * People (issue #16; binary records with a version byte, laid out at the top of node/users.c;
 * contact data only sealed with the data key, node/data_key.h):
 *   users            key: 16-char hex user id  value: state, roles, times, email blind index,
 *                    pending invite hash, argon2id recovery-code hashes, sealed name and email
 *   user_emails      key: 32-byte email blind index  value: 16-char user id (unique emails)
 *   invites          key: SHA-256 of the invite secret  value: user id, expiry, used-at
 *   passkeys         key: SHA-256 of the WebAuthn credential id  value: user id, COSE key,
 *                    alg, signature counter, times, name
 *   sessions         key: 16-char hex session id  value: user id, SHA-256 of the cookie
 *                    secret, method, times, client address
 * Deliveries (issue #18, node/outbox.c):
 *   outbox           key: credential uuid (16) || event (1) || channel (1) || sequence (8 BE)
 *                    value: JSON delivery record (state, attempts, the sealed address)
 *   outbox_due       key: due unix time (8 BE) || action ('s' send, 'e' erase) || outbox key
 *                    value: empty; the one place that says what is still to do
 *   webhooks         key: 16-char hex endpoint id  value: JSON endpoint (url, events, sealed
 *                    secrets, the next delivery's sequence)
 *   webhook_deliveries  key: endpoint id (16) || sequence (8 BE)  value: JSON delivery (the
 *                    body as sent, state, attempts)
 *   webhook_due      key: due unix time (8 BE) || endpoint id (16) || sequence (8 BE)
 * A data dir from before a table existed opens as before: a writer creates the missing tables
 * (MDB_CREATE), a read-only open reads them as empty.
 *
 * Durability: LMDB's default sync on every commit; no MDB_NOSYNC/NOMETASYNC, and never
 * MDB_WRITEMAP, with which a full disk turns into SIGBUS instead of an error.
 *
 * Map growth: a write that hits MDB_MAP_FULL is aborted, the map doubled (capped at
 * store.max_map_size) and the write re-run. mdb_env_set_mapsize needs no transaction open in
 * this process, so every transaction holds `resize_lock` shared and growth takes it
 * exclusively.
 *
 * Read transactions are cached per thread (reset, then renewed on the next begin): a fresh
 * MDB_NOTLS read transaction takes the reader-table mutex and a malloc, which dominated the
 * cost of an inclusion proof. Each cached transaction is registered with its store so that
 * closing the store aborts them; a thread notices a closed store by its id. A writer process holds an exclusive flock on writer.lock so two processes never
 * append to one log (the digest index keeps an in-memory tail, see node/log.c).
 */
#include "node/store.h"
#include "node/node_log.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define STORE_INITIAL_MAP (256ull << 20)
#define STORE_MAX_READERS 1024
/* How often a writer sweeps the reader table for slots of dead processes (clear_stale_readers). */
#define STORE_READER_CHECK_SECONDS 60

/* Tables holding several sorted fixed-size values per key. */
static const unsigned table_flags[CA_TABLE__COUNT] = {
    [CA_TABLE_DIGEST_INDEX] = MDB_DUPSORT | MDB_DUPFIXED,
};

static const char *const table_names[CA_TABLE__COUNT] = {
    [CA_TABLE_META] = "meta",
    [CA_TABLE_LEAVES] = "leaves",
    [CA_TABLE_HASHES] = "hashes",
    [CA_TABLE_DIGEST_INDEX] = "digest_index",
    [CA_TABLE_CHECKPOINTS] = "checkpoints",
    [CA_TABLE_TOKENS] = "tokens",
    [CA_TABLE_AUDIT] = "audit",
    [CA_TABLE_TILES] = "tiles",
    [CA_TABLE_DID_CACHE] = "did_cache",
    [CA_TABLE_ANCHORS] = "anchors",
    [CA_TABLE_CREDENTIALS] = "credentials",
    [CA_TABLE_CREDENTIAL_DOCS] = "credential_docs",
    [CA_TABLE_CREDENTIAL_KEYS] = "credential_keys",
    [CA_TABLE_STATUS_ENTRIES] = "status_entries",
    [CA_TABLE_STATUS_VERSIONS] = "status_versions",
    [CA_TABLE_PARTICIPANTS] = "participants",
    [CA_TABLE_REPORT_COUNTS] = "report_counts",
    [CA_TABLE_USERS] = "users",
    [CA_TABLE_USER_EMAILS] = "user_emails",
    [CA_TABLE_INVITES] = "invites",
    [CA_TABLE_PASSKEYS] = "passkeys",
    [CA_TABLE_SESSIONS] = "sessions",
    [CA_TABLE_OUTBOX] = "outbox",
    [CA_TABLE_OUTBOX_DUE] = "outbox_due",
    [CA_TABLE_WEBHOOKS] = "webhooks",
    [CA_TABLE_WEBHOOK_DELIVERIES] = "webhook_deliveries",
    [CA_TABLE_WEBHOOK_DUE] = "webhook_due",
};

#define STORE_MAX_CACHED_READERS 256

struct ca_store {
    uint64_t id; /* unique per open store in this process */
    MDB_env *env;
    MDB_dbi dbi[CA_TABLE__COUNT];
    pthread_rwlock_t resize_lock;
    uint64_t map_size;
    uint64_t max_map_size;
    bool read_only;
    int lock_fd;
    char dir[4096];
    bool missing[CA_TABLE__COUNT]; /* read-only open of a store that lacks this table */
    pthread_mutex_t cache_lock;
    MDB_txn *cached[STORE_MAX_CACHED_READERS]; /* every thread's cached read transaction */
    size_t cached_count;
    atomic_uint_fast64_t stale_readers_cleared; /* reader slots of dead processes freed */
    atomic_int_fast64_t readers_checked_at;     /* CLOCK_MONOTONIC seconds of the last sweep */
};

struct ca_store_txn {
    ca_store *store;
    MDB_txn *txn;
    bool write;
    bool cached; /* the calling thread's cached read transaction: reset, not freed, at end */
};

/* This thread's cached read transaction, valid while store_id names an open store. */
typedef struct read_cache {
    uint64_t store_id;
    bool in_use;
    ca_store_txn txn;
} read_cache;

static _Thread_local read_cache thread_reader;
static atomic_uint_fast64_t next_store_id = 1;

/* Maps an LMDB or errno code to ours, with the detail in eb. */
static ca_err store_fail(ca_errbuf *eb, int rc, const char *what)
{
    ca_err code;
    switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
        code = CA_ERR_FULL;
        break;
    case MDB_NOTFOUND:
        code = CA_ERR_NOT_FOUND;
        break;
    case EACCES:
    case EPERM:
        code = CA_ERR_PERMISSION;
        break;
    case EAGAIN: /* == EWOULDBLOCK on Linux */
        code = CA_ERR_LOCKED;
        break;
    default:
        code = CA_ERR_STORE;
        break;
    }
    return ca_fail(eb, code, "store: %s: %s", what, mdb_strerror(rc));
}

static void store_free(ca_store *s)
{
    /* Cached read transactions are reset (no thread is inside one when the store closes). */
    for (size_t i = 0; i < s->cached_count; i++)
        mdb_txn_abort(s->cached[i]);
    pthread_mutex_destroy(&s->cache_lock);
    if (s->env)
        mdb_env_close(s->env);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_rwlock_destroy(&s->resize_lock);
    free(s);
}

static int64_t monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Frees the reader-table slots of processes that died inside a read transaction (a `check` or
 * `backup` killed with SIGKILL): LMDB frees a slot only when its owner ends the transaction
 * or closes the environment. A stale slot pins its snapshot, so the pages freed since cannot
 * be reused and data.mdb grows, and enough of them fill the table (MDB_READERS_FULL). Run at
 * every open, by writers every STORE_READER_CHECK_SECONDS, and when the table is full
 * (issue #13 item 10; mdb_reader_check, lmdb.h). */
static void clear_stale_readers(ca_store *s)
{
    int dead = 0;
    atomic_store(&s->readers_checked_at, monotonic_seconds());
    if (mdb_reader_check(s->env, &dead) == 0 && dead > 0) {
        atomic_fetch_add(&s->stale_readers_cleared, (uint_fast64_t)dead);
        ca_node_log(CA_NODE_LOG_INFO, NULL,
                    "store: freed %d reader slot(s) left by processes that died in a read "
                    "transaction", dead);
    }
}

/* LMDB maps data.mdb without comparing its length with the pages the newest meta page names,
 * so a truncated file (a bad copy, a full disk outside LMDB, a restore gone wrong) faults with
 * SIGBUS on the first read past its end. mdb_env_open reads the meta pages with pread, so the
 * comparison can run before any page is touched (issue #13 item 9). */
static ca_err check_not_truncated(ca_store *s, ca_errbuf *eb)
{
    MDB_envinfo info;
    MDB_stat mst;
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
        return ca_fail(eb, CA_ERR_IO, "store: cannot stat %s/data.mdb: %s", s->dir,
                       strerror(errno));
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &mst);
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * mst.ms_psize;
    if ((uint64_t)st.st_size < need)
        return ca_fail(eb, CA_ERR_STORE,
                       "store truncated: %s/data.mdb holds %llu bytes but its pages reach %llu; "
                       "restore from a backup (credanchor restore)", s->dir,
                       (unsigned long long)st.st_size, (unsigned long long)need);
    return CA_OK;
}

/* Takes the single-writer lock on dir/writer.lock, so a second `serve` or a CLI `append`
 * against a running node fails at once instead of forking the log. */
static ca_err take_writer_lock(ca_store *s, const char *dir, ca_errbuf *eb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/writer.lock", dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return ca_fail(eb, errno == EACCES ? CA_ERR_PERMISSION : CA_ERR_IO,
                       "store: cannot open %s: %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return ca_fail(eb, CA_ERR_LOCKED,
                           "store: %s is in use by another credanchor process "
                           "(stop the node, or use the HTTP API)", dir);
        return ca_fail(eb, CA_ERR_IO, "store: cannot lock %s: %s", path, strerror(errno));
    }
    return CA_OK;
}

/* A store with its locks set up and nothing opened. */
static ca_store *store_alloc(const ca_store_options *opts)
{
    ca_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lock_fd = -1;
    s->id = atomic_fetch_add(&next_store_id, 1);
    pthread_mutex_init(&s->cache_lock, NULL);
    s->read_only = opts->read_only;
    snprintf(s->dir, sizeof s->dir, "%s", opts->dir);
    s->max_map_size = opts->max_map_size;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Prefer the writer so a steady stream of readers cannot starve a map resize. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->resize_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return s;
}

/* The store's directory exists (created unless read-only) and is a directory. */
static ca_err ensure_dir(const ca_store_options *opts, ca_errbuf *eb)
{
    struct stat st;
    if (stat(opts->dir, &st) != 0) {
        if (errno != ENOENT || opts->read_only)
            return ca_fail(eb, CA_ERR_NOT_FOUND, "store: %s: %s", opts->dir, strerror(errno));
        if (mkdir(opts->dir, 0700) != 0)
            return ca_fail(eb, errno == ENOSPC ? CA_ERR_FULL : CA_ERR_IO,
                           "store: cannot create %s: %s", opts->dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return ca_fail(eb, CA_ERR_INVALID, "store: %s is not a directory", opts->dir);
    }
    return CA_OK;
}

/* Creates and opens the LMDB environment. */
static ca_err open_env(ca_store *s, const ca_store_options *opts, ca_errbuf *eb)
{
    int rc;
    ca_err err;
    if ((rc = mdb_env_create(&s->env)) != 0)
        return store_fail(eb, rc, "mdb_env_create");
    s->map_size = STORE_INITIAL_MAP < s->max_map_size ? STORE_INITIAL_MAP : s->max_map_size;
    mdb_env_set_mapsize(s->env, s->map_size);
    mdb_env_set_maxdbs(s->env, CA_TABLE__COUNT + 4);
    mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
    /* MDB_NOTLS: HTTP worker threads share read transactions' reader slots freely.
     * MDB_NORDAHEAD: proofs read scattered pages; read-ahead only evicts useful ones. */
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (opts->read_only ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(s->env, opts->dir, flags, 0600)) != 0)
        return store_fail(eb, rc, opts->dir);
    if ((err = check_not_truncated(s, eb)))
        return err;
    clear_stale_readers(s);
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize; /* an existing environment may already be larger */
    return CA_OK;
}

/* Opens (or, unless read-only, creates) every table in transaction txn. */
static ca_err open_tables_in(ca_store *s, MDB_txn *txn, const ca_store_options *opts,
                             ca_errbuf *eb)
{
    for (int t = 0; t < CA_TABLE__COUNT; t++) {
        int rc = mdb_dbi_open(txn, table_names[t],
                              table_flags[t] | (opts->read_only ? 0 : MDB_CREATE), &s->dbi[t]);
        if (rc == MDB_NOTFOUND && opts->read_only) {
            /* A read-only open cannot create tables. Without `meta` this is not a node's
             * store; any other table missing is one a newer version added and nothing has
             * written yet, so it reads as empty. */
            if (t == CA_TABLE_META)
                return ca_fail(eb, CA_ERR_NOT_FOUND,
                               "store: %s holds no credanchor data (run init)", opts->dir);
            s->missing[t] = true;
            continue;
        }
        if (rc != 0)
            return store_fail(eb, rc, table_names[t]);
    }
    return CA_OK;
}

static ca_err open_tables(ca_store *s, const ca_store_options *opts, ca_errbuf *eb)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, opts->read_only ? MDB_RDONLY : 0, &txn);
    if (rc != 0)
        return store_fail(eb, rc, "open tables");
    ca_err err = open_tables_in(s, txn, opts, eb);
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return store_fail(eb, rc, "open tables");
    return CA_OK;
}

ca_err ca_store_open(ca_store **out, const ca_store_options *opts, ca_errbuf *eb)
{
    CA_ASSERT(out && opts && opts->dir);
    *out = NULL;
    ca_store *s = store_alloc(opts);
    if (!s)
        return ca_fail(eb, CA_ERR_NOMEM, "store: out of memory");
    ca_err err = ensure_dir(opts, eb);
    if (!err && !opts->read_only && !opts->shared_writer)
        err = take_writer_lock(s, opts->dir, eb);
    if (!err && !(err = open_env(s, opts, eb)))
        err = open_tables(s, opts, eb);
    if (err) {
        store_free(s);
        return err;
    }
    *out = s;
    return CA_OK;
}

void ca_store_close(ca_store *s)
{
    if (s)
        store_free(s);
}

/* Renews this thread's cached read transaction, creating and registering it on first use.
 * Returns false when the cache cannot serve (in use by an outer transaction, or full). Called
 * with resize_lock held shared. */
static bool begin_cached_read(ca_store *s, ca_store_txn **out)
{
    read_cache *c = &thread_reader;
    if (c->in_use)
        return false;
    if (c->store_id == s->id) {
        if (mdb_txn_renew(c->txn.txn) != 0) {
            c->store_id = 0; /* leave it to store_free; use an uncached transaction */
            return false;
        }
    } else {
        MDB_txn *txn;
        pthread_mutex_lock(&s->cache_lock);
        bool room = s->cached_count < STORE_MAX_CACHED_READERS;
        if (room && mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0)
            s->cached[s->cached_count++] = txn;
        else
            room = false;
        pthread_mutex_unlock(&s->cache_lock);
        if (!room)
            return false;
        c->store_id = s->id;
        c->txn = (ca_store_txn){.store = s, .txn = txn, .write = false, .cached = true};
    }
    c->in_use = true;
    *out = &c->txn;
    return true;
}

ca_err ca_store_begin(ca_store *s, ca_store_txn **out, bool write, ca_errbuf *eb)
{
    CA_ASSERT(s && out);
    CA_ASSERT(!(write && s->read_only));
    pthread_rwlock_rdlock(&s->resize_lock);
    if (!write && begin_cached_read(s, out))
        return CA_OK;
    ca_store_txn *t = malloc(sizeof *t);
    if (!t) {
        pthread_rwlock_unlock(&s->resize_lock);
        return ca_fail(eb, CA_ERR_NOMEM, "store: out of memory");
    }
    if (write && monotonic_seconds() - atomic_load(&s->readers_checked_at) >=
                     STORE_READER_CHECK_SECONDS)
        clear_stale_readers(s);
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc == MDB_READERS_FULL) {
        clear_stale_readers(s);
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    }
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size (LMDB reads it from the file). */
        pthread_rwlock_unlock(&s->resize_lock);
        pthread_rwlock_wrlock(&s->resize_lock);
        mdb_env_set_mapsize(s->env, 0);
        pthread_rwlock_unlock(&s->resize_lock);
        pthread_rwlock_rdlock(&s->resize_lock);
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    }
    if (rc != 0) {
        pthread_rwlock_unlock(&s->resize_lock);
        free(t);
        return store_fail(eb, rc, "begin transaction");
    }
    t->store = s;
    t->write = write;
    t->cached = false;
    *out = t;
    return CA_OK;
}

/* LMDB reports a short write as EIO ("TODO: Use which error code?" in mdb_page_flush), and a
 * filling disk gives short writes, so an EIO with almost no space left is a full disk. */
static bool disk_nearly_full(const char *dir)
{
    struct statvfs vfs;
    return statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < (4u << 20);
}

ca_err ca_store_commit(ca_store_txn *t, ca_errbuf *eb)
{
    CA_ASSERT(t);
    ca_store *s = t->store;
    if (t->cached) { /* a read transaction has nothing to commit */
        ca_store_abort(t);
        return CA_OK;
    }
    int rc = mdb_txn_commit(t->txn);
    pthread_rwlock_unlock(&s->resize_lock);
    free(t);
    if (rc == EIO && disk_nearly_full(s->dir))
        return ca_fail(eb, CA_ERR_FULL, "store: the disk holding %s is full; nothing "
                                        "acknowledged was lost", s->dir);
    return rc ? store_fail(eb, rc, "commit") : CA_OK;
}

void ca_store_abort(ca_store_txn *t)
{
    if (!t)
        return;
    ca_store *s = t->store;
    if (t->cached) {
        mdb_txn_reset(t->txn);
        thread_reader.in_use = false;
    } else {
        mdb_txn_abort(t->txn);
        free(t);
    }
    pthread_rwlock_unlock(&s->resize_lock);
}

/* Doubles the map, capped at max_map_size. Runs with no transaction of ours open. */
static bool store_grow(ca_store *s)
{
    pthread_rwlock_wrlock(&s->resize_lock);
    bool grown = false;
    if (s->map_size < s->max_map_size) {
        uint64_t next = s->map_size * 2;
        if (next > s->max_map_size || next < s->map_size)
            next = s->max_map_size;
        if (mdb_env_set_mapsize(s->env, next) == 0) {
            MDB_envinfo info;
            mdb_env_info(s->env, &info);
            s->map_size = info.me_mapsize;
            grown = true;
        }
    }
    pthread_rwlock_unlock(&s->resize_lock);
    return grown;
}

ca_err ca_store_write(ca_store *s, ca_store_write_fn fn, void *arg, ca_errbuf *eb)
{
    for (;;) {
        ca_store_txn *t = NULL;
        ca_err err = ca_store_begin(s, &t, true, eb);
        if (err)
            return err;
        err = fn(t, arg, eb);
        if (err) {
            ca_store_abort(t);
        } else {
            err = ca_store_commit(t, eb);
        }
        if (err != CA_ERR_FULL || disk_nearly_full(s->dir))
            return err;
        /* Full: grow and run the whole transaction again, or give up at the cap. */
        uint64_t before = s->map_size;
        if (!store_grow(s))
            return ca_fail(eb, CA_ERR_FULL,
                           "store: full at %llu bytes (store.max_map_size is %llu); "
                           "nothing acknowledged was lost",
                           (unsigned long long)before, (unsigned long long)s->max_map_size);
    }
}

/* Maps an LMDB result inside a transaction; the caller adds the detail it knows. */
static ca_err txn_result(int rc)
{
    if (rc == 0)
        return CA_OK;
    if (rc == MDB_NOTFOUND)
        return CA_ERR_NOT_FOUND;
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == ENOSPC)
        return CA_ERR_FULL;
    if (rc == MDB_KEYEXIST)
        return CA_ERR_INVALID;
    return CA_ERR_STORE;
}

ca_err ca_store_get(ca_store_txn *t, ca_table table, const void *key, size_t key_len,
                    ca_store_val *val)
{
    if (t->store->missing[table])
        return CA_ERR_NOT_FOUND;
    MDB_val k = {key_len, (void *)key}, v;
    int rc = mdb_get(t->txn, t->store->dbi[table], &k, &v);
    if (rc == 0) {
        val->data = v.mv_data;
        val->len = v.mv_size;
    }
    return txn_result(rc);
}

ca_err ca_store_put(ca_store_txn *t, ca_table table, const void *key, size_t key_len,
                    const void *val, size_t val_len)
{
    MDB_val k = {key_len, (void *)key}, v = {val_len, (void *)val};
    return txn_result(mdb_put(t->txn, t->store->dbi[table], &k, &v, 0));
}

ca_err ca_store_append(ca_store_txn *t, ca_table table, const void *key, size_t key_len,
                       const void *val, size_t val_len)
{
    MDB_val k = {key_len, (void *)key}, v = {val_len, (void *)val};
    return txn_result(mdb_put(t->txn, t->store->dbi[table], &k, &v, MDB_APPEND));
}

ca_err ca_store_del(ca_store_txn *t, ca_table table, const void *key, size_t key_len)
{
    MDB_val k = {key_len, (void *)key};
    return txn_result(mdb_del(t->txn, t->store->dbi[table], &k, NULL));
}

/* Walks a cursor from a position (first_op on key) with next_op, calling fn per entry until
 * it returns false or the walk ends; *found says whether the first position existed. */
static int cursor_walk(ca_store_txn *t, ca_table table, const void *key, size_t key_len,
                       MDB_cursor_op first_op, MDB_cursor_op next_op, ca_store_iter_fn fn,
                       void *arg, bool *found)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c);
    if (rc)
        return rc;
    MDB_val k = {key_len, (void *)key}, v;
    rc = mdb_cursor_get(c, &k, &v, first_op);
    *found = rc == 0;
    while (rc == 0) {
        ca_store_val kv = {k.mv_data, k.mv_size}, vv = {v.mv_data, v.mv_size};
        if (!fn(arg, &kv, &vv))
            break;
        rc = mdb_cursor_get(c, &k, &v, next_op);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

ca_err ca_store_scan(ca_store_txn *t, ca_table table, const void *start, size_t start_len,
                     ca_store_iter_fn fn, void *arg)
{
    if (t->store->missing[table])
        return CA_OK;
    bool found;
    return txn_result(cursor_walk(t, table, start, start_len, start ? MDB_SET_RANGE : MDB_FIRST,
                                  MDB_NEXT, fn, arg, &found));
}

/* Positions c on the greatest key <= start (the last key when start is NULL). */
static int cursor_at_or_before(MDB_cursor *c, const void *start, size_t start_len, MDB_val *k,
                               MDB_val *v)
{
    if (!start)
        return mdb_cursor_get(c, k, v, MDB_LAST);
    *k = (MDB_val){start_len, (void *)start};
    int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE); /* the least key >= start */
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(c, k, v, MDB_LAST); /* every key is below start */
    if (rc)
        return rc;
    MDB_val want = {start_len, (void *)start};
    if (mdb_cmp(mdb_cursor_txn(c), mdb_cursor_dbi(c), k, &want) > 0)
        return mdb_cursor_get(c, k, v, MDB_PREV);
    return 0;
}

ca_err ca_store_scan_reverse(ca_store_txn *t, ca_table table, const void *start,
                             size_t start_len, ca_store_iter_fn fn, void *arg)
{
    if (t->store->missing[table])
        return CA_OK;
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c);
    if (rc)
        return txn_result(rc);
    MDB_val k, v;
    rc = cursor_at_or_before(c, start, start_len, &k, &v);
    while (rc == 0) {
        ca_store_val kv = {k.mv_data, k.mv_size}, vv = {v.mv_data, v.mv_size};
        if (!fn(arg, &kv, &vv))
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    mdb_cursor_close(c);
    return txn_result(rc == MDB_NOTFOUND ? 0 : rc);
}

ca_err ca_store_get_all(ca_store_txn *t, ca_table table, const void *key, size_t key_len,
                        ca_store_iter_fn fn, void *arg)
{
    if (t->store->missing[table])
        return CA_ERR_NOT_FOUND;
    bool found;
    int rc = cursor_walk(t, table, key, key_len, MDB_SET_KEY, MDB_NEXT_DUP, fn, arg, &found);
    if (rc)
        return txn_result(rc);
    return found ? CA_OK : CA_ERR_NOT_FOUND;
}

ca_err ca_store_last(ca_store_txn *t, ca_table table, ca_store_val *key, ca_store_val *val)
{
    if (t->store->missing[table])
        return CA_ERR_NOT_FOUND;
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c);
    if (rc)
        return txn_result(rc);
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc == 0) {
        if (key) {
            key->data = k.mv_data;
            key->len = k.mv_size;
        }
        if (val) {
            val->data = v.mv_data;
            val->len = v.mv_size;
        }
    }
    mdb_cursor_close(c);
    return txn_result(rc);
}

ca_err ca_store_last_under(ca_store_txn *t, ca_table table, const void *prefix,
                           size_t prefix_len, ca_store_val *key, ca_store_val *val)
{
    uint8_t next[511]; /* LMDB's longest key (MDB_MAXKEYSIZE's default) */
    if (prefix_len == 0 || prefix_len > sizeof next)
        return CA_ERR_INVALID;
    if (t->store->missing[table])
        return CA_ERR_NOT_FOUND;
    /* The first key after every key under prefix: prefix + 1 as a big-endian number (all
     * 0xff: none, so the table's last key is the candidate). */
    memcpy(next, prefix, prefix_len);
    size_t i = prefix_len;
    while (i > 0 && next[i - 1] == 0xff)
        next[--i] = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c);
    if (rc)
        return txn_result(rc);
    MDB_val k = {.mv_size = prefix_len, .mv_data = next}, v;
    if (i > 0) {
        next[i - 1]++;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV)
                     : rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST) : rc;
    } else {
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    }
    if (rc == 0 && (k.mv_size < prefix_len || memcmp(k.mv_data, prefix, prefix_len) != 0))
        rc = MDB_NOTFOUND;
    if (rc == 0 && key)
        *key = (ca_store_val){.data = k.mv_data, .len = k.mv_size};
    if (rc == 0 && val)
        *val = (ca_store_val){.data = v.mv_data, .len = v.mv_size};
    mdb_cursor_close(c);
    return txn_result(rc);
}

ca_err ca_store_copy(ca_store *s, const char *dir, ca_errbuf *eb)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ca_fail(eb, CA_ERR_IO, "store: cannot create %s: %s", dir, strerror(errno));
    pthread_rwlock_rdlock(&s->resize_lock);
    int rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&s->resize_lock);
    return rc ? store_fail(eb, rc, "copy") : CA_OK;
}

/* Reads every entry of every table and of LMDB's free-page list (dbi 0, as mdb_stat -f walks
 * it). Readers never touch the free list, but every write transaction that allocates a page
 * does: a damaged free-list root or page in the meta page makes every append fail (500)
 * while every read still answers (issue #13 item 11). A page that cannot be read is
 * CA_ERR_STORE naming the table; *entries counts what was read. */
ca_err ca_store_verify(ca_store *s, uint64_t *entries, ca_errbuf *eb)
{
    *entries = 0;
    ca_store_txn *t = NULL;
    ca_err err = ca_store_begin(s, &t, false, eb);
    if (err)
        return err;
    for (int i = -1; i < CA_TABLE__COUNT && !err; i++) {
        if (i >= 0 && s->missing[i])
            continue;
        const char *name = i < 0 ? "the free-page list" : table_names[i];
        MDB_cursor *c = NULL;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, i < 0 ? 0 : s->dbi[i], &c);
        for (MDB_cursor_op op = MDB_FIRST; rc == 0; op = MDB_NEXT) {
            if ((rc = mdb_cursor_get(c, &k, &v, op)) == 0)
                (*entries)++;
        }
        mdb_cursor_close(c);
        if (rc != MDB_NOTFOUND)
            err = ca_fail(eb, CA_ERR_STORE, "%s cannot be read: %s (a write would "
                          "fail); restore from a backup", name, mdb_strerror(rc));
    }
    ca_store_abort(t);
    return err;
}

ca_err ca_store_get_stats(ca_store *s, ca_store_stats *st)
{
    MDB_envinfo info;
    MDB_stat mst;
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &mst);
    st->map_size = info.me_mapsize;
    st->page_size = mst.ms_psize;
    st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * mst.ms_psize;
    st->readers_used = info.me_numreaders;
    st->stale_readers_cleared = atomic_load(&s->stale_readers_cleared);
    return CA_OK;
}
