/*
 * node/issuer.c — the issuance engine (SPEC §5; contract in node/issuer.h).
 *
 * State:
 *   - status lists: per list its purpose, the published bits (1 = revoked/suspended), the
 *     allocated slots and the latest published version (cached bytes for GET /v1/status).
 *     Rebuilt at open from meta "status_list/<id>" (purpose || latest version) and the
 *     status_entries table (which credential owns each slot and whether its bit is set).
 *   - issue number counters: meta "issue_seq/<PREFIX>-<YYYYMM>" (u64 BE), cached.
 * Tables written here: credentials, credential_docs, credential_keys, status_entries,
 * status_versions, participants (layouts: node/store.c).
 *
 * Every write goes through ca_log_append_with, in the transaction that appends the digests
 * it belongs with (a credential's, or a list version's), so records and leaves are durable
 * together. All writers hold is->writer; the in-memory state they change is rolled back when
 * the commit fails, so memory never runs ahead of the store.
 */
#include "node/issuer.h"

#include "node/outbox.h"
#include "node/webhooks.h"
#include "node/pages.h"
#include "node/reports.h"

#include "credanchor/crypto.h"
#include "credanchor/data_integrity.h"
#include "credanchor/encoding.h"
#include "credanchor/group_commit.h"
#include "credanchor/json_fields.h"
#include "credanchor/jws.h"
#include "node/log.h"
#include "node/resolver.h"
#include "credanchor/status_list.h"
#include "node/store.h"
#include "node/node_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define META_LIST_PREFIX "status_list/"
#define META_SEQ_PREFIX "issue_seq/"
#define PURPOSE_REVOCATION 0
#define PURPOSE_SUSPENSION 1
#define MAX_LISTS 4096 /* 4096 lists of 131,072 slots: half a billion credentials */
#define MAX_COUNTERS 256

static const char *const purpose_names[2] = {"revocation", "suspension"};

typedef struct status_list {
    uint32_t id;
    uint8_t purpose;
    uint8_t bits[CA_STATUS_LIST_BYTES]; /* published status bits */
    uint8_t used[CA_STATUS_LIST_BYTES]; /* allocated slots */
    size_t nfree;
    uint64_t version;                   /* latest published version, 0: none yet */
    /* The latest version's bytes for readers: swapped under cache_lock. */
    char *latest;
    size_t latest_len;
    char etag[2 * CA_HASH_SIZE + 3];
    int64_t published_at;
    uint64_t leaf_index;
} status_list;

typedef struct seq_counter {
    char key[32]; /* "<PREFIX>-<YYYYMM>" */
    uint64_t value;
    uint64_t batch; /* the issuance batch that last took a number: never forgotten during it */
} seq_counter;

/* One caller's ca_issuer_issue, queued for the issuance group commit. */
typedef struct issue_req {
    ca_gc_request gc;          /* first: the group commit's link */
    ca_issue_item *items;
    size_t n;
    ca_err err;
    ca_errbuf eb;
} issue_req;

typedef struct status_req {
    ca_gc_request gc;          /* first: the group commit's link */
    ca_status_change *changes;
    size_t n;
    ca_err err;
    ca_errbuf eb;
} status_req;

struct ca_issuer {
    ca_node *node;
    ca_resolver *resolver;
    ca_store *store;
    ca_log *log;
    char status_base[CA_CONFIG_STR_MAX + 16]; /* "<public_url>/v1/status/" */
    pthread_mutex_t writer;
    pthread_rwlock_t cache_lock; /* lists[] growth and the latest-version caches */
    status_list *lists[MAX_LISTS];
    size_t nlists;
    seq_counter counters[MAX_COUNTERS];
    size_t ncounters;
    uint64_t batch;            /* issuance batches so far (writer held) */
    ca_group_commit rounds;    /* queued status changes (leader/follower) */
    ca_group_commit issues;    /* queued issuances (leader/follower) */
    atomic_uint_fast64_t issued, changes, versions;
    /* Post-commit hooks (ca_issuer_on_committed): registered before the issuer is shared,
     * read without a lock afterwards. */
    struct {
        ca_issuer_committed_fn fn;
        void *user;
    } hooks[CA_ISSUER_HOOKS_MAX];
    size_t nhooks;
};

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

static void u32_key(uint8_t key[4], uint32_t v)
{
    for (int i = 0; i < 4; i++)
        key[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void list_key(uint8_t key[12], uint32_t list, uint64_t second)
{
    u32_key(key, list);
    ca_store_u64_key(key + 4, second);
}

/* A list's slots as stored (status_entries, node/store.c): the allocated bitmap then the
 * published bitmap, one value per list, rewritten whole by each commit that touches the list:
 * 32 KiB in a handful of pages, where one entry per slot would dirty a random page per
 * credential. */
static ca_err put_list_state(ca_store_txn *t, const status_list *l)
{
    uint8_t key[4], *val = malloc(2 * CA_STATUS_LIST_BYTES);
    if (!val)
        return CA_ERR_NOMEM;
    u32_key(key, l->id);
    memcpy(val, l->used, CA_STATUS_LIST_BYTES);
    memcpy(val + CA_STATUS_LIST_BYTES, l->bits, CA_STATUS_LIST_BYTES);
    ca_err err = ca_store_put(t, CA_TABLE_STATUS_ENTRIES, key, sizeof key, val,
                              2 * CA_STATUS_LIST_BYTES);
    free(val);
    return err;
}

static uint32_t u32_from(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void list_url(const ca_issuer *is, char *out, size_t cap, uint32_t id)
{
    snprintf(out, cap, "%s%u", is->status_base, id);
}

/* ---- status list versions ---------------------------------------------------------------- */

/* One list version to publish: built (signed) before the commit, written inside it. */
typedef struct pending_version {
    status_list *list;
    uint64_t version;
    int64_t published_at;
    char *bytes;      /* JCS form of the signed BitstringStatusListCredential */
    size_t len;
    ca_hash digest;
    size_t entry;     /* its position in the log entries of the commit */
} pending_version;

/* Builds and signs version `version` of list l from its current bits (SPEC §5, Bitstring
 * Status List v1.0 §2.2): a BitstringStatusListCredential signed by the issuer's Ed25519 key
 * with eddsa-jcs-2022; the bytes are its JCS form, whose SHA-256 goes into the log. */
static ca_err build_version(ca_issuer *is, pending_version *pv, status_list *l,
                            uint64_t version, ca_errbuf *eb)
{
    memset(pv, 0, sizeof *pv);
    pv->list = l;
    pv->version = version;
    /* max(now, the previous version's time) (issue #13 item 12): after the clock steps back a
     * new version must not claim an earlier validFrom than the one it replaces, or
     * ?timestamp= (which takes versions in time order, pick_version) would miss it. The
     * previous time is the writer's own: only the commit leader building this publishes. */
    pv->published_at = now_seconds();
    if (version > 1 && pv->published_at < l->published_at)
        pv->published_at = l->published_at;
    char url[CA_CONFIG_STR_MAX + 32], subject_id[CA_CONFIG_STR_MAX + 40];
    char when[CA_DATETIME_MAX], *encoded = NULL;
    size_t enc_len;
    list_url(is, url, sizeof url, l->id);
    snprintf(subject_id, sizeof subject_id, "%s#list", url);
    ca_datetime_format(when, pv->published_at);
    ca_err err = ca_status_list_encode(&encoded, &enc_len, l->bits, sizeof l->bits, eb);
    if (err)
        return err;
    const char *did = ca_resolver_issuer_did_for(is->resolver, CA_ALG_EDDSA);
    const char *vm = ca_resolver_issuer_di_method(is->resolver);
    json_t *vc = json_pack("{s:[s], s:s, s:[s,s], s:s, s:s, s:{s:s, s:s, s:s, s:s, s:I}}",
                           "@context", CA_VC_CONTEXT_V2, "id", url, "type",
                           "VerifiableCredential", "BitstringStatusListCredential", "issuer",
                           did, "validFrom", when, "credentialSubject", "id", subject_id,
                           "type", "BitstringStatusList", "statusPurpose",
                           purpose_names[l->purpose], "encodedList", encoded, "ttl",
                           (json_int_t)(is->node->cfg.credentials_status_ttl * 1000));
    free(encoded);
    if (!vc)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (!(err = ca_di_sign(vc, is->node->issuer_key, vm, when, eb)) &&
        !(err = ca_jcs_of_json(&pv->bytes, &pv->len, vc, eb)))
        ca_sha256(&pv->digest, pv->bytes, pv->len);
    json_decref(vc);
    return err;
}

static ca_err meta_put_list(ca_store_txn *t, const status_list *l, uint64_t version)
{
    char key[32];
    uint8_t val[9];
    snprintf(key, sizeof key, META_LIST_PREFIX "%010u", l->id);
    val[0] = l->purpose;
    ca_store_u64_key(val + 1, version);
    return ca_store_put(t, CA_TABLE_META, key, strlen(key), val, sizeof val);
}

static ca_err write_version(ca_store_txn *t, const pending_version *pv, uint64_t leaf_index)
{
    uint8_t key[12];
    list_key(key, pv->list->id, pv->version);
    size_t vlen = 17 + pv->len;
    uint8_t *val = malloc(vlen);
    if (!val)
        return CA_ERR_NOMEM;
    ca_store_u64_key(val, (uint64_t)pv->published_at);
    ca_store_u64_key(val + 8, leaf_index);
    val[16] = pv->list->purpose;
    memcpy(val + 17, pv->bytes, pv->len);
    ca_err err = ca_store_put(t, CA_TABLE_STATUS_VERSIONS, key, sizeof key, val, vlen);
    free(val);
    if (!err)
        err = meta_put_list(t, pv->list, pv->version);
    return err;
}

/* Makes a committed version the one GET /v1/status serves. Takes over pv->bytes. */
static void publish_version(ca_issuer *is, pending_version *pv, uint64_t leaf_index)
{
    status_list *l = pv->list;
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, &pv->digest);
    pthread_rwlock_wrlock(&is->cache_lock);
    free(l->latest);
    l->latest = pv->bytes;
    l->latest_len = pv->len;
    snprintf(l->etag, sizeof l->etag, "\"%s\"", hex);
    l->published_at = pv->published_at;
    l->leaf_index = leaf_index;
    l->version = pv->version;
    pthread_rwlock_unlock(&is->cache_lock);
    pv->bytes = NULL;
    atomic_fetch_add(&is->versions, 1);
}

/* A new empty list of purpose p (in memory; its first version is published by the caller's
 * commit). */
static ca_err new_list(ca_issuer *is, status_list **out, uint8_t purpose, ca_errbuf *eb)
{
    if (is->nlists >= MAX_LISTS)
        return ca_fail(eb, CA_ERR_FULL, "every status list (%d) is full", MAX_LISTS);
    status_list *l = calloc(1, sizeof *l);
    if (!l)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    l->id = (uint32_t)is->nlists + 1;
    l->purpose = purpose;
    l->nfree = CA_STATUS_LIST_BITS;
    pthread_rwlock_wrlock(&is->cache_lock);
    is->lists[is->nlists++] = l;
    pthread_rwlock_unlock(&is->cache_lock);
    *out = l;
    return CA_OK;
}

/* Drops lists created after `keep` lists existed (a failed commit's new lists). */
static void drop_lists_after(ca_issuer *is, size_t keep)
{
    pthread_rwlock_wrlock(&is->cache_lock);
    while (is->nlists > keep) {
        status_list *l = is->lists[--is->nlists];
        free(l->latest);
        free(l);
        is->lists[is->nlists] = NULL;
    }
    pthread_rwlock_unlock(&is->cache_lock);
}

/* ---- open: rebuild the in-memory state ------------------------------------------------------- */

typedef struct load_ctx {
    ca_issuer *is;
    ca_store_txn *txn;
    ca_err err;
} load_ctx;

static bool load_list_meta(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    load_ctx *c = arg;
    size_t plen = strlen(META_LIST_PREFIX);
    if (key->len < plen || memcmp(key->data, META_LIST_PREFIX, plen) != 0)
        return false;
    if (val->len != 9 || c->is->nlists >= MAX_LISTS) {
        c->err = CA_ERR_STORE;
        return false;
    }
    const uint8_t *v = val->data;
    status_list *l = calloc(1, sizeof *l);
    if (!l) {
        c->err = CA_ERR_NOMEM;
        return false;
    }
    char idtext[16] = {0};
    memcpy(idtext, (const char *)key->data + plen, key->len - plen < 15 ? key->len - plen : 15);
    l->id = (uint32_t)strtoul(idtext, NULL, 10);
    l->purpose = v[0] ? PURPOSE_SUSPENSION : PURPOSE_REVOCATION;
    l->version = ca_store_u64_from(v + 1);
    l->nfree = CA_STATUS_LIST_BITS;
    if (l->id != c->is->nlists + 1) { /* ids are dense from 1, in key order */
        free(l);
        c->err = CA_ERR_STORE;
        return false;
    }
    c->is->lists[c->is->nlists++] = l;
    return true;
}

static bool load_list_state(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    load_ctx *c = arg;
    if (key->len != 4 || val->len != 2 * CA_STATUS_LIST_BYTES) {
        c->err = CA_ERR_STORE;
        return false;
    }
    uint32_t id = u32_from(key->data);
    if (id < 1 || id > c->is->nlists) {
        c->err = CA_ERR_STORE;
        return false;
    }
    status_list *l = c->is->lists[id - 1];
    memcpy(l->used, val->data, CA_STATUS_LIST_BYTES);
    memcpy(l->bits, (const uint8_t *)val->data + CA_STATUS_LIST_BYTES, CA_STATUS_LIST_BYTES);
    size_t used = 0;
    for (size_t i = 0; i < CA_STATUS_LIST_BYTES; i++)
        used += (size_t)__builtin_popcount(l->used[i]);
    l->nfree = CA_STATUS_LIST_BITS - used;
    return true;
}

static ca_err load_latest(ca_issuer *is, ca_store_txn *t, status_list *l, ca_errbuf *eb)
{
    uint8_t key[12];
    ca_store_val v;
    list_key(key, l->id, l->version);
    if (ca_store_get(t, CA_TABLE_STATUS_VERSIONS, key, sizeof key, &v) || v.len < 17)
        return ca_fail(eb, CA_ERR_STORE, "status list %u: version %llu is missing", l->id,
                       (unsigned long long)l->version);
    const uint8_t *b = v.data;
    l->latest = malloc(v.len - 17 + 1);
    if (!l->latest)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    memcpy(l->latest, b + 17, v.len - 17);
    l->latest[v.len - 17] = '\0';
    l->latest_len = v.len - 17;
    l->published_at = (int64_t)ca_store_u64_from(b);
    l->leaf_index = ca_store_u64_from(b + 8);
    ca_hash d;
    char hex[2 * CA_HASH_SIZE + 1];
    ca_sha256(&d, l->latest, l->latest_len);
    ca_hash_to_hex(hex, &d);
    snprintf(l->etag, sizeof l->etag, "\"%s\"", hex);
    (void)is;
    return CA_OK;
}

static ca_err ensure_lists(ca_issuer *is, ca_errbuf *eb);

ca_err ca_issuer_open(ca_issuer **out, ca_node *node, ca_resolver *resolver, ca_errbuf *eb)
{
    CA_ASSERT(out && node && node->log && node->issuer_key && resolver);
    *out = NULL;
    ca_issuer *is = calloc(1, sizeof *is);
    if (!is)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    is->node = node;
    is->resolver = resolver;
    is->store = node->store;
    is->log = node->log;
    size_t ulen = strlen(node->cfg.node_public_url);
    while (ulen && node->cfg.node_public_url[ulen - 1] == '/')
        ulen--;
    snprintf(is->status_base, sizeof is->status_base, "%.*s/v1/status/", (int)ulen,
             node->cfg.node_public_url);
    pthread_mutex_init(&is->writer, NULL);
    pthread_rwlock_init(&is->cache_lock, NULL);
    ca_group_commit_init(&is->rounds);
    ca_group_commit_init(&is->issues);

    ca_store_txn *t = NULL;
    ca_err err = ca_store_begin(is->store, &t, false, eb);
    if (err)
        goto fail;
    load_ctx c = {.is = is, .txn = t};
    if ((err = ca_store_scan(t, CA_TABLE_META, META_LIST_PREFIX, strlen(META_LIST_PREFIX),
                             load_list_meta, &c)) ||
        (err = c.err) ||
        (err = ca_store_scan(t, CA_TABLE_STATUS_ENTRIES, NULL, 0, load_list_state, &c)) ||
        (err = c.err)) {
        ca_fail(eb, err, "cannot load the status lists: %s", ca_strerror(err));
        ca_store_abort(t);
        goto fail;
    }
    for (size_t i = 0; i < is->nlists && !err; i++)
        if (is->lists[i]->version)
            err = load_latest(is, t, is->lists[i], eb);
    ca_store_abort(t);
    /* A data dir from before the summary counters gets them built once (issue #13 item 6). */
    if (err || (err = ca_report_counts_migrate(is->store, eb)))
        goto fail;
    /* No list is opened here: the first issuance opens the lists it needs in its own commit
     * (take_slot), so a node that never issues keeps an empty log. */
    *out = is;
    return CA_OK;
fail:
    ca_issuer_close(is);
    return err;
}

void ca_issuer_close(ca_issuer *is)
{
    if (!is)
        return;
    for (size_t i = 0; i < is->nlists; i++) {
        free(is->lists[i]->latest);
        free(is->lists[i]);
    }
    pthread_mutex_destroy(&is->writer);
    pthread_rwlock_destroy(&is->cache_lock);
    ca_group_commit_destroy(&is->rounds);
    ca_group_commit_destroy(&is->issues);
    free(is);
}

void ca_issuer_get_stats(ca_issuer *is, ca_issuer_stats *st)
{
    st->issued = atomic_load(&is->issued);
    st->status_changes = atomic_load(&is->changes);
    st->list_versions = atomic_load(&is->versions);
    pthread_rwlock_rdlock(&is->cache_lock);
    st->lists = is->nlists;
    pthread_rwlock_unlock(&is->cache_lock);
}

/* ---- publishing versions in one commit ----------------------------------------------------- */

/* The store writes of a status round or of a new list's first version, besides the records
 * written by the issuance path. */
typedef struct version_batch {
    pending_version *versions;
    size_t nversions;
    size_t first_entry;   /* entries [first_entry, first_entry + nversions) are the versions */
} version_batch;

static ca_err write_versions(ca_store_txn *t, const version_batch *vb,
                             const ca_log_entry *entries, ca_errbuf *eb)
{
    for (size_t i = 0; i < vb->nversions; i++) {
        ca_err err = write_version(t, &vb->versions[i], entries[vb->first_entry + i].index);
        if (err)
            return ca_fail(eb, err, "cannot store status list %u version %llu: %s",
                           vb->versions[i].list->id,
                           (unsigned long long)vb->versions[i].version, ca_strerror(err));
    }
    return CA_OK;
}

static ca_err versions_only_txn(ca_store_txn *t, void *arg, const ca_log_entry *entries,
                                size_t n, ca_errbuf *eb)
{
    (void)n;
    return write_versions(t, arg, entries, eb);
}

static void free_versions(pending_version *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].bytes);
}

/* Every purpose in use has a list with a published version and a free slot. Holds writer or
 * runs before the engine is shared (open). */
static ca_err ensure_lists(ca_issuer *is, ca_errbuf *eb)
{
    pending_version pv[2];
    ca_log_entry entries[2];
    size_t npv = 0, keep = is->nlists;
    ca_err err = CA_OK;
    int purposes = is->node->cfg.credentials_suspension ? 2 : 1;
    for (int p = 0; p < purposes && !err; p++) {
        status_list *open_list = NULL;
        for (size_t i = is->nlists; i-- > 0;)
            if (is->lists[i]->purpose == p && is->lists[i]->nfree > 0 && is->lists[i]->version) {
                open_list = is->lists[i];
                break;
            }
        if (open_list)
            continue;
        status_list *l = NULL;
        if ((err = new_list(is, &l, (uint8_t)p, eb)) ||
            (err = build_version(is, &pv[npv], l, 1, eb)))
            break;
        entries[npv].digest = pv[npv].digest;
        npv++;
    }
    if (!err && npv) {
        version_batch vb = {pv, npv, 0};
        err = ca_log_append_with(is->log, entries, npv, versions_only_txn, &vb, NULL, eb);
        if (!err)
            for (size_t i = 0; i < npv; i++)
                publish_version(is, &pv[i], entries[i].index);
    }
    free_versions(pv, npv);
    if (err)
        drop_lists_after(is, keep);
    return err;
}

/* The open list of a purpose (latest with a free slot), or NULL. */
static status_list *open_list(ca_issuer *is, uint8_t purpose)
{
    for (size_t i = is->nlists; i-- > 0;)
        if (is->lists[i]->purpose == purpose && is->lists[i]->nfree > 0 && is->lists[i]->version)
            return is->lists[i];
    return NULL;
}

/* ---- issue numbers -------------------------------------------------------------------------- */

/* The next number for key "<PREFIX>-<YYYYMM>" (writer held). *slot gets the counter so a
 * failed commit can put it back. */
static ca_err next_seq(ca_issuer *is, const char *key, uint64_t *seq, seq_counter **slot,
                       ca_errbuf *eb)
{
    seq_counter *c = NULL;
    for (size_t i = 0; i < is->ncounters; i++)
        if (strcmp(is->counters[i].key, key) == 0)
            c = &is->counters[i];
    if (!c) {
        if (is->ncounters == MAX_COUNTERS) {
            /* Forget the oldest month (reloaded on demand), but never one this batch took a
             * number from: its stored value is not yet committed. */
            size_t old = 0;
            while (old < MAX_COUNTERS && is->counters[old].batch == is->batch)
                old++;
            if (old == MAX_COUNTERS)
                return ca_fail(eb, CA_ERR_TOO_LARGE, "one issuance spans more than %d "
                               "issue-number months", MAX_COUNTERS);
            memmove(is->counters + old, is->counters + old + 1,
                    sizeof is->counters[0] * (MAX_COUNTERS - 1 - old));
            is->ncounters--;
        }
        c = &is->counters[is->ncounters];
        snprintf(c->key, sizeof c->key, "%s", key);
        c->value = 0;
        char mkey[64];
        snprintf(mkey, sizeof mkey, META_SEQ_PREFIX "%s", key);
        ca_store_txn *t;
        ca_err err = ca_store_begin(is->store, &t, false, eb);
        if (err)
            return err;
        ca_store_val v;
        if (ca_store_get(t, CA_TABLE_META, mkey, strlen(mkey), &v) == CA_OK && v.len == 8)
            c->value = ca_store_u64_from(v.data);
        ca_store_abort(t);
        is->ncounters++;
    }
    *seq = ++c->value;
    c->batch = is->batch;
    *slot = c;
    return CA_OK;
}

/* ---- issuance ------------------------------------------------------------------------------ */

/* Per item, what the commit writes. */
typedef struct item_plan {
    ca_issue_item *item;
    uint8_t uuid[16];
    json_t *record;              /* issuance record (leafIndex set in the txn) */
    char seq_key[32];
    uint64_t seq;
    status_list *slot_list[2];   /* [purpose] or NULL */
    uint32_t slot_index[2];
    size_t entry;                /* position in the commit's log entries */
    bool issue;                  /* a credential is issued (not an enrolment-only row) */
} item_plan;

typedef struct issue_batch {
    item_plan *plans;
    size_t nplans;
    version_batch vb;            /* first versions of lists this batch opened */
    ca_issuer *is;
} issue_batch;

/* A key of two texts: tag (0: none) || a || 0x00 || b (node/store.c: participants and the
 * 'x' idempotency keys of credential_keys). */
static ca_err pair_key(char *key, size_t cap, size_t *len, char tag, const char *a,
                       const char *b)
{
    size_t t = tag ? 1 : 0, la = strlen(a), lb = strlen(b);
    if (t + la + 1 + lb > cap)
        return CA_ERR_TOO_LARGE;
    key[0] = tag;
    memcpy(key + t, a, la);
    key[t + la] = '\0';
    memcpy(key + t + la + 1, b, lb);
    *len = t + la + 1 + lb;
    return CA_OK;
}

/* The summary counters for a participant row about to be written at key (node/reports.c):
 * a re-run of the same (course, person) moves the row's counts, it does not add them twice. */
static ca_err count_participant(ca_store_txn *t, const char *key, size_t klen, const char *text)
{
    ca_store_val v;
    json_t *old = NULL, *row = json_loads(text, 0, NULL);
    ca_err err = ca_store_get(t, CA_TABLE_PARTICIPANTS, key, klen, &v);
    if (err == CA_OK)
        old = json_loadb(v.data, v.len, 0, NULL);
    else if (err != CA_ERR_NOT_FOUND)
        return err;
    err = row ? ca_report_count_participant(t, old, row) : CA_ERR_NOMEM;
    json_decref(old);
    json_decref(row);
    return err;
}

/* What a failed write of the issuance transaction reports. */
static ca_err store_failed(ca_errbuf *eb, ca_err err)
{
    return ca_fail(eb, err, "cannot store the credentials: %s", ca_strerror(err));
}

/* A bulk row's participant record (an enrolment, with or without a credential) and the
 * summary counters it moves. */
static ca_err write_participant(ca_store_txn *t, const ca_issue_item *it, ca_errbuf *eb)
{
    char key[2 * 1024 + 8];
    size_t klen;
    ca_err err;
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:I}", "externalId",
                            it->participant->external_id, "name", it->participant->name,
                            "department", it->participant->department, "course",
                            it->participant->course, "completedAt",
                            (json_int_t)it->participant->completed_at);
    char *text = row ? json_dumps(row, JSON_COMPACT) : NULL;
    json_decref(row);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (pair_key(key, sizeof key, &klen, 0, it->participant->course,
                 it->participant->external_id))
        err = CA_ERR_TOO_LARGE;
    else
        err = count_participant(t, key, klen, text);
    if (!err)
        err = ca_store_put(t, CA_TABLE_PARTICIPANTS, key, klen, text, strlen(text));
    free(text);
    return err ? store_failed(eb, err) : CA_OK;
}

/* A credential event for the webhook endpoints (webhooks.h), in the writer's transaction:
 * data names the credential (SPEC §8). */
static ca_err webhook_event(ca_store_txn *t, const char *event, const char *id,
                            const char *issue_number, ca_errbuf *eb)
{
    json_t *data = json_pack("{s:s, s:s}", "id", id ? id : "", "issueNumber",
                             issue_number ? issue_number : "");
    if (!data)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_webhooks_enqueue(t, event, data, (int64_t)time(NULL), eb);
    json_decref(data);
    return err;
}

/* One issued credential: its record (with its leaf index), the summary counters, its signed
 * bytes, its issue number and idempotency keys, and its audit entry. */
static ca_err write_credential(ca_store_txn *t, const ca_node *node, item_plan *p, uint64_t leaf,
                               ca_errbuf *eb)
{
    ca_issue_item *it = p->item;
    char key[2 * 1024 + 8];
    size_t klen;
    json_object_set_new(p->record, "leafIndex", json_integer((json_int_t)leaf));
    char *text = json_dumps(p->record, JSON_COMPACT);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_store_put(t, CA_TABLE_CREDENTIALS, p->uuid, 16, text, strlen(text));
    free(text);
    if (!err) /* the summary counters move with the record (issue #13 item 6) */
        err = ca_report_count_credential(t, p->record, NULL, "active");
    if (!err)
        err = ca_store_put(t, CA_TABLE_CREDENTIAL_DOCS, p->uuid, 16, it->signed_text,
                           it->signed_len);
    if (!err) {
        key[0] = 'n';
        size_t nl = strlen(it->issue_number);
        memcpy(key + 1, it->issue_number, nl);
        err = ca_store_put(t, CA_TABLE_CREDENTIAL_KEYS, key, 1 + nl, p->uuid, 16);
    }
    const char *ach = json_string_value(json_object_get(p->record, "achievementId"));
    if (!err && it->participant && ach) {
        if (pair_key(key, sizeof key, &klen, 'x', ach, it->participant->external_id))
            err = CA_ERR_TOO_LARGE;
        else
            err = ca_store_put(t, CA_TABLE_CREDENTIAL_KEYS, key, klen, p->uuid, 16);
    }
    /* The recipient's notification, in this same commit (issue #18: never lost, never sent
     * for a credential that was not committed). */
    const char *email = it->participant ? it->participant->email : it->recipient_email;
    if (!err && (err = ca_outbox_enqueue_issued(t, node, p->uuid, email,
                                                (int64_t)time(NULL), eb)))
        return err;
    if (!err && (err = webhook_event(t, "credential.issued", it->id, it->issue_number, eb)))
        return err;
    if (!err && it->audit) { /* the route then writes none */
        char detail[160];
        snprintf(detail, sizeof detail, "issued %s %s", it->issue_number, it->id);
        ca_audit_event ev = *it->audit; /* status: 201 on HTTP, the exit code 0 on the CLI */
        ev.detail = detail;
        err = ca_audit_write(t, &ev, (int64_t)time(NULL), eb);
    }
    return err ? store_failed(eb, err) : CA_OK;
}

/* Once per batch: each touched list's slots, and each issue number counter at its largest
 * number in the batch (plans are in number order, so the last one per key). */
static ca_err write_batch_state(ca_store_txn *t, const issue_batch *b, ca_errbuf *eb)
{
    const status_list *lists_done[16];
    const char *keys_done[MAX_COUNTERS]; /* a batch touches at most that many (next_seq) */
    size_t nlists_done = 0, nkeys_done = 0;
    ca_err err = CA_OK;
    for (size_t i = b->nplans; i-- > 0 && !err;) {
        item_plan *p = &b->plans[i];
        if (!p->issue)
            continue;
        for (int s = 0; s < 2 && !err; s++) {
            bool done = !p->slot_list[s];
            for (size_t j = 0; j < nlists_done && !done; j++)
                done = lists_done[j] == p->slot_list[s];
            if (done)
                continue;
            if (nlists_done < 16)
                lists_done[nlists_done++] = p->slot_list[s];
            err = put_list_state(t, p->slot_list[s]); /* a repeat past 16 rewrites: harmless */
        }
        bool done = false;
        for (size_t j = 0; j < nkeys_done && !done; j++)
            done = strcmp(keys_done[j], p->seq_key) == 0;
        if (err || done)
            continue;
        /* Every key is remembered, or a later (smaller) number of a repeated key would
         * overwrite the largest. */
        CA_ASSERT(nkeys_done < MAX_COUNTERS);
        keys_done[nkeys_done++] = p->seq_key;
        char mkey[64];
        uint8_t v[8];
        snprintf(mkey, sizeof mkey, META_SEQ_PREFIX "%s", p->seq_key);
        ca_store_u64_key(v, p->seq);
        err = ca_store_put(t, CA_TABLE_META, mkey, strlen(mkey), v, 8);
    }
    return err ? store_failed(eb, err) : CA_OK;
}

/* The issuance transaction (ca_log_append_with): every item's records, the batch's list
 * slots and counters, and the first versions of lists the batch opened. */
static ca_err issue_txn(ca_store_txn *t, void *arg, const ca_log_entry *entries, size_t n,
                        ca_errbuf *eb)
{
    issue_batch *b = arg;
    ca_err err;
    (void)n;
    for (size_t i = 0; i < b->nplans; i++) {
        item_plan *p = &b->plans[i];
        if (p->item->participant && (err = write_participant(t, p->item, eb)))
            return err;
        if (p->issue && (err = write_credential(t, b->is->node, p, entries[p->entry].index, eb)))
            return err;
    }
    if ((err = write_batch_state(t, b, eb)))
        return err;
    return write_versions(t, &b->vb, entries, eb);
}

static void item_error(ca_issue_item *it, ca_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void item_error(ca_issue_item *it, ca_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->error, sizeof it->error, fmt, ap);
    va_end(ap);
    it->err = err;
}

void ca_issue_item_clear(ca_issue_item *it)
{
    free(it->signed_text);
    it->signed_text = NULL;
    it->signed_len = 0;
}

/* Copies the earlier credential of an idempotent re-run into the item. */
static ca_err fill_existing(ca_issuer *is, ca_issue_item *it, const uint8_t uuid[16],
                            ca_errbuf *eb)
{
    char ref[CA_CREDENTIAL_ID_MAX];
    ca_credential_id_format(ref, uuid);
    json_t *rec = NULL;
    uint8_t u[16];
    ca_err err = ca_credential_find(is->store, ref, u, &rec, &it->signed_text, &it->signed_len,
                                    eb);
    if (err)
        return err;
    it->existing = true;
    snprintf(it->id, sizeof it->id, "%s", ref);
    snprintf(it->issue_number, sizeof it->issue_number, "%s",
             json_string_value(json_object_get(rec, "issueNumber")) ?: "");
    const char *d = json_string_value(json_object_get(rec, "digest"));
    if (!d || ca_hash_from_hex(&it->digest, d, strlen(d)))
        err = ca_fail(eb, CA_ERR_STORE, "credential %s: damaged record", ref);
    it->leaf_index = (uint64_t)json_integer_value(json_object_get(rec, "leafIndex"));
    json_decref(rec);
    return err;
}

/* The credential to sign: @context, id, type first, then the request's members, with
 * issuer, validFrom and credentialStatus filled in (SPEC §5). */
static json_t *fill_credential(ca_issuer *is, const item_plan *p, const char *did,
                               const char *id, int64_t now)
{
    const json_t *src = p->item->credential;
    json_t *c = json_object();
    if (!c)
        return NULL;
    json_object_set(c, "@context", json_object_get(src, "@context"));
    json_object_set_new(c, "id", json_string(id));
    json_object_set(c, "type", json_object_get(src, "type"));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
        if (strcmp(k, "@context") && strcmp(k, "id") && strcmp(k, "type"))
            json_object_set(c, k, v);
    /* The issuer Profile: the node's DID, with what a template's issuer object without an id
     * says (its name, image, url: the page and the certificate show them), else
     * credentials.issuer_name as its OB 3.0 Profile.name. */
    const json_t *given = json_object_get(c, "issuer");
    if (!given || (json_is_object(given) && !json_object_get(given, "id"))) {
        json_t *profile = json_pack("{s:s, s:[s]}", "id", did, "type", "Profile");
        const char *pk;
        json_t *pv;
        json_object_foreach((json_t *)given, pk, pv)
            if (profile && strcmp(pk, "id") && strcmp(pk, "type"))
                json_object_set(profile, pk, pv);
        if (profile && !json_object_get(profile, "name") &&
            is->node->cfg.credentials_issuer_name[0])
            json_object_set_new(profile, "name",
                                json_string(is->node->cfg.credentials_issuer_name));
        json_object_set_new(c, "issuer", profile);
    }
    if (!json_object_get(c, "validFrom")) {
        char when[CA_DATETIME_MAX];
        ca_datetime_format(when, now);
        json_object_set_new(c, "validFrom", json_string(when));
    }
    /* Where a verifier sees the issue number and the completion date (issue #12 item 8):
     * OB 3.0 AchievementSubject.licenseNumber ("the license number that was issued with this
     * credential") and AchievementCredential.awardedDate (when it was awarded). The subject
     * is copied: the request's credential is borrowed. */
    json_t *subject = json_deep_copy(json_object_get(src, "credentialSubject"));
    if (json_is_object(subject) && !json_object_get(subject, "licenseNumber"))
        json_object_set_new(subject, "licenseNumber", json_string(p->item->issue_number));
    json_object_set_new(c, "credentialSubject", subject);
    if (p->item->completed_at && !json_object_get(c, "awardedDate")) {
        char when[CA_DATETIME_MAX];
        ca_datetime_format(when, p->item->completed_at);
        json_object_set_new(c, "awardedDate", json_string(when));
    }
    /* One BitstringStatusListEntry per purpose (SPEC §5); an array when there are two (never
     * for an OpenBadgeCredential: issue_items gives it the revocation entry only). */
    json_t *entries = json_array();
    for (int s = 0; s < 2; s++) {
        if (!p->slot_list[s])
            continue;
        char url[CA_CONFIG_STR_MAX + 32], eid[CA_CONFIG_STR_MAX + 48], idx[16];
        list_url(is, url, sizeof url, p->slot_list[s]->id);
        snprintf(idx, sizeof idx, "%u", p->slot_index[s]);
        snprintf(eid, sizeof eid, "%s#%s", url, idx);
        json_array_append_new(entries,
                              json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", eid, "type",
                                        "BitstringStatusListEntry", "statusPurpose",
                                        purpose_names[s], "statusListIndex", idx,
                                        "statusListCredential", url));
    }
    if (json_array_size(entries) == 1)
        json_object_set(c, "credentialStatus", json_array_get(entries, 0));
    else
        json_object_set(c, "credentialStatus", entries);
    json_decref(entries);
    return c;
}

/* Signs one planned item: fills in the credential and produces its signed bytes and digest. */
static ca_err sign_item(ca_issuer *is, item_plan *p, int64_t now, ca_errbuf *eb)
{
    ca_issue_item *it = p->item;
    const char *did = ca_resolver_issuer_did_for(is->resolver, it->alg);
    const char *kid = ca_resolver_issuer_kid(is->resolver, it->alg);
    json_t *cred = fill_credential(is, p, did, it->id, now);
    char *payload = NULL;
    size_t plen;
    ca_err err = CA_OK;
    if (!cred)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (it->format == CA_FORMAT_VC_JWT) {
        if (!(err = ca_vcjwt_payload(&payload, &plen, cred, eb)))
            /* OB 3.0 §8.2.4.1: the JOSE header holds alg, kid and typ "JWT". */
            err = ca_jws_sign(&it->signed_text, &it->signed_len,
                              is->node->issuer_signers[it->alg], kid, "JWT", payload, plen, eb);
    } else {
        char when[CA_DATETIME_MAX];
        ca_datetime_format(when, now);
        /* Data Integrity names the Multikey form of the same Ed25519 key. */
        if (!(err = ca_di_sign(cred, is->node->issuer_key,
                               ca_resolver_issuer_di_method(is->resolver), when, eb)))
            err = ca_jcs_of_json(&it->signed_text, &it->signed_len, cred, eb);
    }
    if (!err)
        ca_sha256(&it->digest, it->signed_text, it->signed_len);
    free(payload);
    json_decref(cred);
    return err;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* The issuance record kept for lookups and reports (never a plaintext email unless
 * credentials.store_email). */
static json_t *make_record(ca_issuer *is, const item_plan *p, int64_t now)
{
    const ca_issue_item *it = p->item;
    const json_t *cred = it->credential;
    const json_t *ach = json_object_get(json_object_get(cred, "credentialSubject"),
                                        "achievement");
    char when[CA_DATETIME_MAX], hex[2 * CA_HASH_SIZE + 1];
    ca_datetime_format(when, now);
    ca_hash_to_hex(hex, &it->digest);
    const ca_participant *pp = it->participant;
    const char *type = json_string_value(json_object_get(ach, "achievementType"));
    json_t *r = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n}", "id",
        it->id, "issueNumber", it->issue_number, "format",
        ca_credential_format_name(it->format), "alg", ca_jws_alg_name(it->alg), "digest", hex,
        "issuedAt", when, "achievementId", str_or_empty(json_string_value(json_object_get(ach,
                                                                                   "id"))),
        "achievementName", str_or_empty(json_string_value(json_object_get(ach, "name"))),
        "achievementType", type ? type : "Achievement", "name",
        pp ? pp->name : str_or_empty(it->recipient_name), "department",
        pp ? pp->department : str_or_empty(it->department), "course",
        pp ? pp->course : str_or_empty(it->course), "status", "active", "revocation",
        "suspension");
    if (!r)
        return NULL;
    if (it->completed_at) {
        ca_datetime_format(when, it->completed_at);
        json_object_set_new(r, "completedAt", json_string(when));
    }
    if (pp) {
        json_object_set_new(r, "externalId", json_string(pp->external_id));
        if (pp->completed_at) {
            ca_datetime_format(when, pp->completed_at);
            json_object_set_new(r, "completedAt", json_string(when));
        }
        if (is->node->cfg.credentials_store_email && pp->email[0])
            json_object_set_new(r, "email", json_string(pp->email));
    }
    for (int s = 0; s < 2; s++)
        if (p->slot_list[s])
            json_object_set_new(r, purpose_names[s],
                                json_pack("{s:I, s:I}", "list", (json_int_t)p->slot_list[s]->id,
                                          "index", (json_int_t)p->slot_index[s]));
    return r;
}

/* Releases the slots and numbers a failed commit had taken (writer held). */
static void release_plans(item_plan *plans, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        for (int s = 0; s < 2; s++)
            if (plans[i].slot_list[s]) {
                ca_status_bit_set(plans[i].slot_list[s]->used, plans[i].slot_index[s], false);
                plans[i].slot_list[s]->nfree++;
            }
    }
}

/* Takes a free slot of purpose s for plan p, opening a new list (and its first version) when
 * the open one is full. */
static ca_err take_slot(ca_issuer *is, item_plan *p, int s, pending_version *newv, size_t *nnew,
                        size_t newcap, ca_errbuf *eb)
{
    status_list *l = open_list(is, (uint8_t)s);
    if (!l) {
        /* Lists opened in this batch are published by its commit (version 1 below). */
        for (size_t i = is->nlists; i-- > 0;)
            if (is->lists[i]->purpose == s && is->lists[i]->nfree > 0) {
                l = is->lists[i];
                break;
            }
    }
    ca_err err;
    if (!l) {
        if (*nnew == newcap)
            return ca_fail(eb, CA_ERR_FULL, "too many new status lists in one batch");
        if ((err = new_list(is, &l, (uint8_t)s, eb)))
            return err;
        newv[*nnew].list = l; /* built once the batch's slots are known */
        (*nnew)++;
    }
    uint64_t index;
    if ((err = ca_status_list_pick_free(&index, l->used, CA_STATUS_LIST_BITS, l->nfree, eb)))
        return err;
    ca_status_bit_set(l->used, index, true);
    l->nfree--;
    p->slot_list[s] = l;
    p->slot_index[s] = (uint32_t)index;
    return CA_OK;
}

/* The time whose month goes into an item's issue number: its completion (a bulk row's
 * completedAt, a single issuance's completedAt, else the credential's awardedDate, which
 * item_ok checked), else now (issue #12 item 8). */
static int64_t completion_time(const ca_issue_item *it, int64_t now)
{
    if (it->participant && it->participant->completed_at)
        return it->participant->completed_at;
    if (it->completed_at)
        return it->completed_at;
    int64_t t;
    const char *awarded = json_string_value(json_object_get(it->credential, "awardedDate"));
    if (awarded && ca_datetime_parse(&t, awarded) == CA_OK && t > 0)
        return t;
    return now;
}

/* How many status entries an item gets: revocation, plus suspension when
 * credentials.suspension is on, except for an OpenBadgeCredential, which carries exactly
 * one credentialStatus object (SPEC §5, OB 3.0 B.1.2). */
static int status_purposes(const ca_issuer *is, const ca_issue_item *it)
{
    return is->node->cfg.credentials_suspension && !ca_credential_is_open_badge(it->credential)
               ? 2
               : 1;
}

/* Checks one item before anything is allocated for it. */
static bool item_ok(ca_issuer *is, ca_issue_item *it)
{
    ca_errbuf eb = {{0}};
    if (!it->credential)
        return true;
    if (it->alg < CA_ALG_EDDSA || it->alg > CA_ALG_RS256 || !is->node->issuer_signers[it->alg]) {
        item_error(it, CA_ERR_INVALID, "alg: this node has no %s issuer key",
                   ca_jws_alg_name(it->alg) ?: "such");
        return false;
    }
    const char *did = ca_resolver_issuer_did_for(is->resolver, it->alg);
    if (!did[0]) {
        item_error(it, CA_ERR_INVALID, "alg: %s has no did:key form; use EdDSA, ES256K or "
                   "ES256 with did.issuer_method = key", ca_jws_alg_name(it->alg));
        return false;
    }
    if (it->format == CA_FORMAT_DI_EDDSA_JCS && it->alg != CA_ALG_EDDSA) {
        item_error(it, CA_ERR_INVALID, "alg: eddsa-jcs-2022 signs with EdDSA only");
        return false;
    }
    if (it->format != CA_FORMAT_VC_JWT && it->format != CA_FORMAT_DI_EDDSA_JCS) {
        item_error(it, CA_ERR_INVALID, "format: must be vc+jwt or eddsa-jcs-2022");
        return false;
    }
    ca_err err = ca_ob3_check(it->credential, did, &eb);
    if (err) {
        item_error(it, err, "%s", eb.msg);
        return false;
    }
    if (it->completed_at && json_object_get(it->credential, "awardedDate")) {
        item_error(it, CA_ERR_INVALID, "completedAt: the credential has an awardedDate "
                   "already; give the completion date once");
        return false;
    }
    /* A completion after today would number the credential in a month still to come. */
    int64_t now = now_seconds();
    if (completion_time(it, now) > now + 86400) {
        item_error(it, CA_ERR_INVALID, "%s: lies in the future",
                   it->participant || it->completed_at ? "completedAt" : "awardedDate");
        return false;
    }
    if (it->format == CA_FORMAT_DI_EDDSA_JCS) {
        /* RFC 8785 writes every number as an IEEE 754 double: an integer of 2^63 or more comes
         * out as digits (9223372036854776000) that this node's JSON reader (64-bit integers)
         * could not read back to serve or verify the credential. I-JSON (RFC 7493 §2.2)
         * advises against such numbers anyway: refuse them before anything is signed. */
        char *jcs = NULL;
        size_t len;
        json_t *back = NULL;
        if (ca_jcs_of_json(&jcs, &len, it->credential, &eb) == CA_OK)
            back = json_loadb(jcs, len, 0, NULL);
        free(jcs);
        if (!back) {
            item_error(it, CA_ERR_INVALID, "credential: holds a number this node cannot carry in "
                       "an eddsa-jcs-2022 credential (an integer of 2^63 or more, RFC 8785 "
                       "writes it as a double); send it as a string");
            return false;
        }
        json_decref(back);
    }
    return true;
}

/* Looks up an earlier issuance of (achievement, external id). */
static ca_err find_idempotent(ca_issuer *is, const ca_issue_item *it, uint8_t uuid[16],
                              bool *found)
{
    *found = false;
    const char *ach = json_string_value(json_object_get(
        json_object_get(json_object_get(it->credential, "credentialSubject"), "achievement"),
        "id"));
    char key[2 * 1024 + 8];
    size_t klen;
    if (!ach || pair_key(key, sizeof key, &klen, 'x', ach, it->participant->external_id))
        return CA_OK;
    ca_store_txn *t;
    ca_err err = ca_store_begin(is->store, &t, false, NULL);
    if (err)
        return err;
    ca_store_val v;
    if (ca_store_get(t, CA_TABLE_CREDENTIAL_KEYS, key, klen, &v) == CA_OK && v.len == 16) {
        memcpy(uuid, v.data, 16);
        *found = true;
    }
    ca_store_abort(t);
    return CA_OK;
}

ca_err ca_issuer_issued_before(ca_issuer *is, const json_t *credential, const ca_participant *p,
                               char *id_out, bool *found)
{
    ca_issue_item it = {.credential = (json_t *)credential, .participant = p};
    uint8_t uuid[16];
    ca_err err = find_idempotent(is, &it, uuid, found);
    if (!err && *found)
        ca_credential_id_format(id_out, uuid);
    return err;
}

/* The (achievement id, external id) pairs of one batch, for repeats within it: open
 * addressing over 2n slots, so a 10,000-row batch costs no quadratic scan. */
typedef struct pair_set {
    const ca_issue_item **slots;
    size_t cap;
} pair_set;

static const char *item_achievement(const ca_issue_item *it)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(it->credential, "credentialSubject"), "achievement"),
        "id"));
}

/* True when an item with the same pair was added before; adds it otherwise. */
static bool pair_seen(pair_set *ps, const ca_issue_item *it)
{
    const char *ach = item_achievement(it), *ext = it->participant->external_id;
    if (!ach || !ps->slots)
        return false;
    uint64_t h = 1469598103934665603ull; /* FNV-1a over ach || 0 || ext */
    for (const char *p = ach; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h *= 1099511628211ull;
    for (const char *p = ext; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    for (size_t i = h % ps->cap;; i = (i + 1) % ps->cap) {
        const ca_issue_item *o = ps->slots[i];
        if (!o) {
            ps->slots[i] = it;
            return false;
        }
        if (strcmp(o->participant->external_id, ext) == 0 &&
            strcmp(item_achievement(o), ach) == 0)
            return true;
    }
}

/* Signing and record building of a batch's items, spread over the cores: each credential is
 * independent once its number and slots are allocated, and Ed25519 signing plus the JSON work
 * are ~100 us of CPU each (bench/issue_bulk.sh). */
#define SIGN_THREADS_MAX 8
#define SIGN_PARALLEL_MIN 64 /* below this a thread costs more than it saves */

typedef struct sign_job {
    ca_issuer *is;
    item_plan *plans;
    size_t from, to;
    int64_t now;
    ca_err err;
    ca_errbuf eb;
} sign_job;

static void *sign_range(void *arg)
{
    sign_job *j = arg;
    for (size_t i = j->from; i < j->to && !j->err; i++) {
        item_plan *p = &j->plans[i];
        if (!p->issue)
            continue;
        if (!(j->err = sign_item(j->is, p, j->now, &j->eb)) &&
            !(p->record = make_record(j->is, p, j->now)))
            j->err = ca_fail(&j->eb, CA_ERR_NOMEM, "out of memory");
    }
    return NULL;
}

static ca_err sign_plans(ca_issuer *is, item_plan *plans, size_t n, int64_t now, ca_errbuf *eb)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = n < SIGN_PARALLEL_MIN || cpus < 2 ? 1
                      : (size_t)cpus > SIGN_THREADS_MAX ? SIGN_THREADS_MAX : (size_t)cpus;
    sign_job jobs[SIGN_THREADS_MAX];
    pthread_t tids[SIGN_THREADS_MAX];
    bool started[SIGN_THREADS_MAX] = {false};
    for (size_t t = 0; t < nthreads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t] = (sign_job){.is = is, .plans = plans, .from = n * t / nthreads,
                             .to = n * (t + 1) / nthreads, .now = now};
        /* The caller's thread takes the first range itself. */
        if (t > 0)
            started[t] = pthread_create(&tids[t], NULL, sign_range, &jobs[t]) == 0;
    }
    sign_range(&jobs[0]);
    for (size_t t = 1; t < nthreads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            sign_range(&jobs[t]); /* no thread: do it here */
    }
    for (size_t t = 0; t < nthreads; t++)
        if (jobs[t].err)
            return ca_fail(eb, jobs[t].err, "%s", jobs[t].eb.msg);
    return CA_OK;
}

#define NEW_LISTS_MAX 8 /* status lists one issuance batch may open */

/* The working state of one issuance batch (issue_items), and what puts the issuer back when
 * its commit fails. */
typedef struct issue_work {
    item_plan *plans;
    size_t nplans;
    ca_log_entry *entries;       /* the credentials' digests, then the new lists' versions */
    size_t nentries;
    pending_version newv[NEW_LISTS_MAX]; /* first versions of lists this batch opens */
    size_t nnew;
    pair_set pairs;
    int64_t now;
    size_t keep_lists, ncounters_before;
    seq_counter counters_before[MAX_COUNTERS];
} issue_work;

static ca_err issue_work_alloc(issue_work *w, size_t n, ca_errbuf *eb)
{
    memset(w, 0, sizeof *w);
    w->plans = calloc(n ? n : 1, sizeof *w->plans);
    w->entries = calloc(n + NEW_LISTS_MAX, sizeof *w->entries);
    if (!w->plans || !w->entries) {
        free(w->plans);
        free(w->entries);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    w->now = now_seconds();
    if (n > 1 && !(w->pairs.slots = calloc(2 * n, sizeof *w->pairs.slots))) {
        free(w->plans);
        free(w->entries);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    w->pairs.cap = 2 * n;
    return CA_OK;
}

static void issue_work_free(issue_work *w)
{
    for (size_t i = 0; i < w->nplans; i++)
        json_decref(w->plans[i].record);
    free_versions(w->newv, w->nnew);
    free(w->pairs.slots);
    free(w->plans);
    free(w->entries);
}

/* A bulk row whose (achievement, person) was issued before, or earlier in this batch: the
 * earlier credential is the item's outcome (the participant row is still recorded); a repeat
 * within the batch is the item's error and *skip drops it. */
static ca_err plan_repeat(ca_issuer *is, issue_work *w, item_plan *p, bool *skip)
{
    ca_issue_item *it = p->item;
    uint8_t uuid[16];
    bool found = false;
    ca_err err = find_idempotent(is, it, uuid, &found);
    if (err)
        return err;
    /* The same (achievement, person) twice in one batch: the first one counts. */
    bool dup = !found && pair_seen(&w->pairs, it);
    if (found) {
        ca_errbuf feb = {{0}};
        if (fill_existing(is, it, uuid, &feb))
            item_error(it, CA_ERR_STORE, "%s", feb.msg);
        p->issue = false; /* still records the participant row */
    } else if (dup) {
        item_error(it, CA_ERR_INVALID, "externalId %s: repeats an earlier row for the "
                   "same achievement", it->participant->external_id);
        *skip = true;
    }
    return CA_OK;
}

/* A new credential's id and issue number (writer held). */
static ca_err plan_number(ca_issuer *is, item_plan *p, int64_t now, ca_errbuf *eb)
{
    ca_issue_item *it = p->item;
    uint8_t uuid[16];
    ca_err err = ca_credential_new_id(it->id, uuid);
    if (err)
        return ca_fail(eb, err, "no randomness for a credential id");
    memcpy(p->uuid, uuid, 16);
    /* <PREFIX>-<YYYYMM>-<NNNN>, sequential per prefix and completion month (SPEC
     * §5, issue #12 item 8). */
    int64_t month_of = completion_time(it, now);
    char month[8];
    time_t tt = (time_t)month_of;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(month, sizeof month, "%Y%m", &tm);
    /* The prefix is at most 16 characters (config check). */
    snprintf(p->seq_key, sizeof p->seq_key, "%.16s-%s",
             is->node->cfg.credentials_issue_prefix, month);
    seq_counter *slot;
    if ((err = next_seq(is, p->seq_key, &p->seq, &slot, eb)))
        return err;
    ca_issue_number_format(it->issue_number, is->node->cfg.credentials_issue_prefix,
                           month_of, p->seq);
    return CA_OK;
}

/* Plans one item (writer held): checks it, looks for an earlier issuance of a bulk row and,
 * for a credential to issue, takes its id, issue number and status slots. An item's own
 * problem goes to its err; the return value fails the whole batch. */
static ca_err plan_item(ca_issuer *is, issue_work *w, ca_issue_item *it, ca_errbuf *eb)
{
    it->err = CA_OK;
    it->error[0] = '\0';
    it->existing = false;
    if (!item_ok(is, it))
        return CA_OK;
    item_plan *p = &w->plans[w->nplans];
    memset(p, 0, sizeof *p);
    p->item = it;
    p->issue = it->credential != NULL;
    ca_err err;
    if (p->issue && it->participant) {
        bool skip = false;
        if ((err = plan_repeat(is, w, p, &skip)))
            return err;
        if (skip)
            return CA_OK;
    }
    if (p->issue) {
        if ((err = plan_number(is, p, w->now, eb)))
            return err;
        for (int s = 0; s < status_purposes(is, it); s++)
            if ((err = take_slot(is, p, s, w->newv, &w->nnew, NEW_LISTS_MAX, eb))) {
                w->nplans++; /* so its slots are released */
                return err;
            }
    }
    w->nplans++;
    return CA_OK;
}

/* Signs the planned items and the first versions of the lists the batch opened, then
 * appends their digests and writes their records in one commit (writer held). */
static ca_err commit_plans(ca_issuer *is, issue_work *w, ca_errbuf *eb)
{
    ca_err err;
    /* First versions of lists opened by this batch: published by the same commit. */
    for (size_t i = 0; i < w->nnew; i++) {
        status_list *l = w->newv[i].list;
        if ((err = build_version(is, &w->newv[i], l, 1, eb)))
            return err;
    }
    if ((err = sign_plans(is, w->plans, w->nplans, w->now, eb)))
        return err;
    for (size_t i = 0; i < w->nplans; i++) {
        if (!w->plans[i].issue)
            continue;
        w->plans[i].entry = w->nentries;
        w->entries[w->nentries++].digest = w->plans[i].item->digest;
    }
    for (size_t i = 0; i < w->nnew; i++)
        w->entries[w->nentries + i].digest = w->newv[i].digest;
    issue_batch b = {.plans = w->plans, .nplans = w->nplans,
                     .vb = {.versions = w->newv, .nversions = w->nnew,
                            .first_entry = w->nentries},
                     .is = is};
    return ca_log_append_with(is->log, w->entries, w->nentries + w->nnew, issue_txn, &b, NULL,
                              eb);
}

/* After the commit (writer held): the new lists' first versions are served, each issued
 * item gets its leaf index, and a list the batch filled gets its successor. */
static void settle_batch(ca_issuer *is, issue_work *w)
{
    for (size_t i = 0; i < w->nnew; i++)
        publish_version(is, &w->newv[i], w->entries[w->nentries + i].index);
    for (size_t i = 0; i < w->nplans; i++)
        if (w->plans[i].issue) {
            w->plans[i].item->leaf_index = w->entries[w->plans[i].entry].index;
            w->plans[i].item->audited = w->plans[i].item->audit != NULL;
            atomic_fetch_add(&is->issued, 1);
        }
    /* A list filled by this batch: open the next one now, off the next request's path. */
    bool filled = false;
    for (size_t i = 0; i < w->nplans; i++)
        for (int s = 0; s < 2; s++)
            filled |= w->plans[i].slot_list[s] && w->plans[i].slot_list[s]->nfree == 0;
    ca_errbuf leb = {{0}};
    if (filled && ensure_lists(is, &leb))
        ca_node_log(CA_NODE_LOG_WARNING, NULL, "cannot open a new status list yet: %s",
                    leb.msg);
}

/* After a failure (writer held): the slots, lists and issue numbers the batch took go back,
 * and no item keeps signed bytes. */
static void rollback_batch(ca_issuer *is, issue_work *w)
{
    release_plans(w->plans, w->nplans);
    drop_lists_after(is, w->keep_lists);
    memcpy(is->counters, w->counters_before, sizeof w->counters_before);
    is->ncounters = w->ncounters_before;
    for (size_t i = 0; i < w->nplans; i++)
        if (w->plans[i].issue)
            ca_issue_item_clear(w->plans[i].item);
}

/* Issues items[0..n) as one commit under the writer lock (the issuance group commit's
 * leader calls it with every queued request's items). */
static ca_err issue_items(ca_issuer *is, ca_issue_item *items, size_t n, ca_errbuf *eb)
{
    CA_ASSERT(n <= CA_ISSUE_BATCH_MAX);
    issue_work w;
    ca_err err = issue_work_alloc(&w, n, eb);
    if (err)
        return err;
    pthread_mutex_lock(&is->writer);
    is->batch++;
    w.keep_lists = is->nlists;
    w.ncounters_before = is->ncounters;
    memcpy(w.counters_before, is->counters, sizeof w.counters_before);
    for (size_t i = 0; i < n && !err; i++)
        err = plan_item(is, &w, &items[i], eb);
    if (!err && !(err = commit_plans(is, &w, eb)))
        settle_batch(is, &w);
    if (err)
        rollback_batch(is, &w);
    pthread_mutex_unlock(&is->writer);
    issue_work_free(&w);
    return err;
}

/* ---- status changes ----------------------------------------------------------------------- */

/* A credential touched in the current round. */
typedef struct round_cred {
    uint8_t uuid[16];
    json_t *record;
    char old_status[16];       /* as stored before the round (the summary counters' delta) */
} round_cred;

/* One bit flipped in the round, to undo on failure. */
typedef struct bit_undo {
    status_list *list;
    uint32_t index;
    bool old;
} bit_undo;

typedef struct status_round {
    const ca_node *node;
    status_req *reqs;          /* for the audit entries of HTTP changes */
    int64_t now;
    round_cred *creds;
    size_t ncreds;
    version_batch vb;
} status_round;

/* The slot (list, index) of a record for purpose s; NULL list when it has none. */
static status_list *record_slot(ca_issuer *is, const json_t *rec, int s, uint32_t *index)
{
    const json_t *slot = json_object_get(rec, purpose_names[s]);
    if (!json_is_object(slot))
        return NULL;
    json_int_t list = json_integer_value(json_object_get(slot, "list"));
    json_int_t idx = json_integer_value(json_object_get(slot, "index"));
    if (list < 1 || (size_t)list > is->nlists || idx < 0 || idx >= CA_STATUS_LIST_BITS)
        return NULL;
    *index = (uint32_t)idx;
    return is->lists[list - 1];
}

/* The webhook event of a record's new status (SPEC §8). */
static const char *status_webhook(const char *status)
{
    return !status ? "credential.reinstated"
           : strcmp(status, "revoked") == 0 ? "credential.revoked"
           : strcmp(status, "suspended") == 0 ? "credential.suspended"
                                               : "credential.reinstated";
}

/* The recipient's notification of a record's new status (outbox.h). */
static ca_outbox_event status_event(const char *status)
{
    return !status ? CA_OUTBOX_REINSTATED
           : strcmp(status, "revoked") == 0 ? CA_OUTBOX_REVOKED
           : strcmp(status, "suspended") == 0 ? CA_OUTBOX_SUSPENDED
                                               : CA_OUTBOX_REINSTATED;
}

static ca_err status_txn(ca_store_txn *t, void *arg, const ca_log_entry *entries, size_t n,
                         ca_errbuf *eb)
{
    status_round *r = arg;
    (void)n;
    ca_err err = write_versions(t, &r->vb, entries, eb);
    for (size_t i = 0; i < r->ncreds && !err; i++) {
        const json_t *rec = r->creds[i].record;
        char *text = json_dumps(rec, JSON_COMPACT);
        if (!text)
            return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        err = ca_store_put(t, CA_TABLE_CREDENTIALS, r->creds[i].uuid, 16, text, strlen(text));
        free(text);
        const char *now_status = json_string_value(json_object_get(rec, "status"));
        if (!err) /* the summary counters move with the record (issue #13 item 6) */
            err = ca_report_count_credential(t, rec, r->creds[i].old_status, now_status);
        if (!err) /* the recipient's notification, in this commit (issue #18) */
            err = ca_outbox_enqueue_status(t, r->node, r->creds[i].uuid,
                                           status_event(now_status), r->now, eb);
        if (!err)
            err = webhook_event(t, status_webhook(now_status), ca_json_str(rec, "id"),
                                ca_json_str(rec, "issueNumber"), eb);
    }
    /* Each touched list's slots with the bits as published in this round (status_entries,
     * node/store.c): open rebuilds the lists from them. */
    for (size_t i = 0; i < r->vb.nversions && !err; i++)
        err = put_list_state(t, r->vb.versions[i].list);
    /* The audit entries of the HTTP changes this round applies (the route then writes none). */
    for (status_req *q = r->reqs; q && !err; q = (status_req *)q->gc.next)
        for (size_t i = 0; i < q->n && !err; i++) {
            const ca_status_change *c = &q->changes[i];
            if (!c->audit || c->err)
                continue;
            /* The reason goes into the entry too (issue #12 item 7); it is UTF-8 and capped at
             * CA_STATUS_REASON_MAX by the route and the CLI. */
            char detail[256 + CA_STATUS_REASON_MAX];
            snprintf(detail, sizeof detail, "%s %s -> %s%s%s%s", c->issue_number, c->id,
                     c->status, c->changed ? "" : " (unchanged)",
                     c->reason && c->reason[0] ? "; reason: " : "", c->reason ? c->reason : "");
            ca_audit_event ev = *c->audit; /* status: 200 on HTTP, the exit code 0 on the CLI */
            ev.detail = detail;
            err = ca_audit_write(t, &ev, r->now, eb);
        }
    return err ? ca_fail(eb, err, "cannot store the status change: %s", ca_strerror(err))
               : CA_OK;
}

static void change_error(ca_status_change *c, ca_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void change_error(ca_status_change *c, ca_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->err = err;
}

/* The working state of one status round: what it changed, to write, publish or undo. */
typedef struct round_work {
    round_cred *creds;
    size_t ncreds;
    bit_undo *undo;
    size_t nundo;
    status_list **touched;     /* the lists that get a new version */
    size_t ntouched;
    pending_version *pv;
    ca_log_entry *entries;
    size_t npv;
    int64_t now;
    char when[CA_DATETIME_MAX];
} round_work;

static ca_err round_alloc(round_work *w, status_req *reqs, ca_errbuf *eb)
{
    size_t total = 0;
    for (status_req *r = reqs; r; r = (status_req *)r->gc.next)
        total += r->n;
    memset(w, 0, sizeof *w);
    w->creds = calloc(total ? total : 1, sizeof *w->creds);
    w->undo = calloc(total ? total : 1, sizeof *w->undo);
    w->touched = calloc(total ? total : 1, sizeof *w->touched);
    w->pv = calloc(total ? total : 1, sizeof *w->pv);
    w->entries = calloc(total ? total : 1, sizeof *w->entries);
    w->now = now_seconds();
    ca_datetime_format(w->when, w->now);
    if (!w->creds || !w->undo || !w->touched || !w->pv || !w->entries)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    return CA_OK;
}

/* Frees the round; a failed one (err) first puts back the bits it flipped. */
static void round_free(round_work *w, ca_err err)
{
    if (err)
        while (w->nundo-- > 0)
            ca_status_bit_set(w->undo[w->nundo].list->bits, w->undo[w->nundo].index,
                              w->undo[w->nundo].old);
    for (size_t i = 0; i < w->ncreds; i++)
        json_decref(w->creds[i].record);
    free_versions(w->pv, w->npv);
    free(w->creds);
    free(w->undo);
    free(w->touched);
    free(w->pv);
    free(w->entries);
}

/* The status change c leads to from status: the next status, the purpose of the list whose
 * bit it sets (*purpose) and that bit's value (*bit). A change that cannot apply (revocation
 * is final; reinstating what is not suspended) gets its err. */
static const char *change_target(ca_status_change *c, const char *status, int *purpose,
                                 bool *bit)
{
    const char *next = status;
    *purpose = PURPOSE_REVOCATION;
    *bit = false;
    switch (c->action) {
    case CA_STATUS_REVOKE:
        next = "revoked";
        *bit = true;
        break;
    case CA_STATUS_SUSPEND:
        *purpose = PURPOSE_SUSPENSION;
        next = "suspended";
        *bit = true;
        if (strcmp(status, "revoked") == 0)
            change_error(c, CA_ERR_CONFLICT, "%s is revoked; revocation is final", c->id);
        break;
    case CA_STATUS_REINSTATE:
        *purpose = PURPOSE_SUSPENSION;
        next = "active";
        if (strcmp(status, "revoked") == 0)
            change_error(c, CA_ERR_CONFLICT, "%s is revoked; revocation is final", c->id);
        else if (strcmp(status, "active") == 0)
            change_error(c, CA_ERR_CONFLICT, "%s is not suspended", c->id);
        break;
    }
    return next;
}

/* The round's copy of a credential it changed already, or NULL. */
static round_cred *round_cred_of(round_work *w, const uint8_t uuid[16])
{
    round_cred *rc = NULL;
    for (size_t j = 0; j < w->ncreds; j++)
        if (memcmp(w->creds[j].uuid, uuid, 16) == 0)
            rc = &w->creds[j];
    return rc;
}

/* Sets the new status in a record the round keeps (rc), flips the list bit (undone if the
 * round fails) and marks the list for a new version. */
static void change_record(round_work *w, round_cred *rc, const ca_status_change *c,
                          const char *next, status_list *l, uint32_t index, bool bit)
{
    json_object_set_new(rc->record, "status", json_string(next));
    json_object_set_new(rc->record, "statusChangedAt", json_string(w->when));
    if (c->reason && c->reason[0])
        json_object_set_new(rc->record, "statusReason", json_string(c->reason));
    else
        json_object_del(rc->record, "statusReason");
    w->undo[w->nundo++] = (bit_undo){l, index, ca_status_bit_get(l->bits, index)};
    ca_status_bit_set(l->bits, index, bit);
    bool seen = false;
    for (size_t j = 0; j < w->ntouched; j++)
        seen |= w->touched[j] == l;
    if (!seen)
        w->touched[w->ntouched++] = l;
}

/* Applies one change to the round (writer held). A change that cannot apply gets its err
 * and changes nothing; one already in effect changes nothing either (idempotent). */
static void apply_change(ca_issuer *is, round_work *w, ca_status_change *c)
{
    c->err = CA_OK;
    c->error[0] = '\0';
    c->changed = false;
    c->audited = false;
    uint8_t uuid[16];
    json_t *rec = NULL;
    ca_errbuf feb = {{0}};
    ca_err ferr = ca_credential_find(is->store, c->ref, uuid, &rec, NULL, NULL, &feb);
    if (ferr) {
        change_error(c, ferr, "%s", feb.msg);
        return;
    }
    /* A credential changed earlier in this round: continue from that state. */
    round_cred *rc = round_cred_of(w, uuid);
    if (rc) {
        json_decref(rec);
        rec = rc->record;
    }
    snprintf(c->id, sizeof c->id, "%s", json_string_value(json_object_get(rec, "id")));
    snprintf(c->issue_number, sizeof c->issue_number, "%s",
             json_string_value(json_object_get(rec, "issueNumber")) ?: "");
    const char *status = json_string_value(json_object_get(rec, "status")) ?: "active";
    int purpose;
    bool bit;
    const char *next = change_target(c, status, &purpose, &bit);
    uint32_t index = 0;
    status_list *l = c->err ? NULL : record_slot(is, rec, purpose, &index);
    if (!c->err && !l)
        change_error(c, CA_ERR_CONFLICT, "%s has no %s status entry%s", c->id,
                     purpose_names[purpose],
                     purpose == PURPOSE_SUSPENSION
                         ? " (an OpenBadgeCredential carries only its revocation "
                           "entry, SPEC §5; others get one with credentials."
                           "suspension)"
                         : "");
    if (c->err) {
        if (!rc)
            json_decref(rec);
        return;
    }
    snprintf(c->status, sizeof c->status, "%s", next);
    c->list_id = l->id;
    if (strcmp(status, next) == 0) { /* already so: idempotent, nothing to publish */
        c->version = l->version;
        if (!rc)
            json_decref(rec);
        return;
    }
    if (!rc) {
        rc = &w->creds[w->ncreds++];
        memcpy(rc->uuid, uuid, 16);
        rc->record = rec;
        snprintf(rc->old_status, sizeof rc->old_status, "%s", status);
    }
    change_record(w, rc, c, next, l, index, bit);
    c->changed = true;
}

/* Builds one new version of each touched list, commits them with the changed records and
 * the audit entries, then serves them (writer held). */
static ca_err publish_round(ca_issuer *is, status_req *reqs, round_work *w, ca_errbuf *eb)
{
    ca_err err;
    for (size_t i = 0; i < w->ntouched; i++) {
        if ((err = build_version(is, &w->pv[w->npv], w->touched[i],
                                 w->touched[i]->version + 1, eb)))
            return err;
        w->entries[w->npv].digest = w->pv[w->npv].digest;
        w->npv++;
    }
    if (!w->npv)
        return CA_OK;
    status_round round = {.node = is->node, .reqs = reqs, .now = w->now, .creds = w->creds, .ncreds = w->ncreds,
                          .vb = {.versions = w->pv, .nversions = w->npv, .first_entry = 0}};
    if ((err = ca_log_append_with(is->log, w->entries, w->npv, status_txn, &round, NULL, eb)))
        return err;
    for (size_t i = 0; i < w->npv; i++)
        publish_version(is, &w->pv[i], w->entries[i].index);
    return CA_OK;
}

/* A committed round's outcome in each change: whether its audit entry went in, and the
 * version that carries it. */
static void settle_round(ca_issuer *is, status_req *reqs, size_t npv)
{
    for (status_req *r = reqs; r; r = (status_req *)r->gc.next)
        for (size_t i = 0; i < r->n; i++)
            r->changes[i].audited = npv && r->changes[i].audit && !r->changes[i].err;
    for (status_req *r = reqs; r; r = (status_req *)r->gc.next)
        for (size_t i = 0; i < r->n; i++)
            if (!r->changes[i].err && r->changes[i].changed) {
                r->changes[i].version = is->lists[r->changes[i].list_id - 1]->version;
                atomic_fetch_add(&is->changes, 1);
            }
}

/* One round: every change of every queued request, as one version per touched list (writer
 * held). */
static void run_status_round(ca_issuer *is, status_req *reqs)
{
    round_work w;
    ca_errbuf eb = {{0}};
    ca_err err = round_alloc(&w, reqs, &eb);
    if (!err) {
        for (status_req *r = reqs; r; r = (status_req *)r->gc.next)
            for (size_t i = 0; i < r->n; i++)
                apply_change(is, &w, &r->changes[i]);
        if (!(err = publish_round(is, reqs, &w, &eb)))
            settle_round(is, reqs, w.npv);
    }
    round_free(&w, err);
    for (status_req *r = reqs; r; r = (status_req *)r->gc.next) {
        r->err = err;
        if (err)
            r->eb = eb;
    }
}

/* ---- post-commit hooks ---------------------------------------------------------------------- */

#define EVENTS_PER_CALL 64 /* events handed to a hook per call (a stack array, no allocation) */

ca_err ca_issuer_on_committed(ca_issuer *is, ca_issuer_committed_fn fn, void *user,
                              ca_errbuf *eb)
{
    CA_ASSERT(is && fn);
    if (is->nhooks == CA_ISSUER_HOOKS_MAX)
        return ca_fail(eb, CA_ERR_FULL, "at most %d post-commit hooks", CA_ISSUER_HOOKS_MAX);
    is->hooks[is->nhooks].fn = fn;
    is->hooks[is->nhooks].user = user;
    is->nhooks++;
    return CA_OK;
}

static void notify(ca_issuer *is, const ca_issuer_event *ev, size_t n)
{
    for (size_t h = 0; h < is->nhooks; h++)
        is->hooks[h].fn(is->hooks[h].user, ev, n);
}

/* Tells the hooks about the credentials of a successful ca_issuer_issue call: runs in its
 * caller's thread once the group commit has returned, so with no issuer lock held and no
 * commit waiting on it (a hook may issue again). Existing (idempotent) and failed items, and
 * enrolment-only rows, were not committed by this call. */
static void notify_issued(ca_issuer *is, const ca_issue_item *items, size_t n)
{
    ca_issuer_event ev[EVENTS_PER_CALL];
    size_t k = 0;
    for (size_t i = 0; i < n && is->nhooks; i++) {
        const ca_issue_item *it = &items[i];
        if (it->err || !it->credential || it->existing)
            continue;
        ev[k++] = (ca_issuer_event){.kind = CA_ISSUER_ISSUED, .id = it->id,
                                    .issue_number = it->issue_number,
                                    .leaf_index = it->leaf_index, .item = it};
        if (k == EVENTS_PER_CALL) {
            notify(is, ev, k);
            k = 0;
        }
    }
    if (k)
        notify(is, ev, k);
}

/* As notify_issued, for the changes of a successful ca_issuer_change_status call that
 * changed a credential (not the unchanged, idempotent ones). */
static void notify_changed(ca_issuer *is, const ca_status_change *changes, size_t n)
{
    ca_issuer_event ev[EVENTS_PER_CALL];
    size_t k = 0;
    for (size_t i = 0; i < n && is->nhooks; i++) {
        const ca_status_change *c = &changes[i];
        if (c->err || !c->changed)
            continue;
        ev[k++] = (ca_issuer_event){.kind = CA_ISSUER_STATUS_CHANGED, .id = c->id,
                                    .issue_number = c->issue_number, .change = c};
        if (k == EVENTS_PER_CALL) {
            notify(is, ev, k);
            k = 0;
        }
    }
    if (k)
        notify(is, ev, k);
}

/* ---- the group commits ------------------------------------------------------------------- */

/* The group commit's callback: one round under the writer lock. */
static void status_round_of(void *ctx, ca_gc_request *batch)
{
    ca_issuer *is = ctx;
    pthread_mutex_lock(&is->writer);
    run_status_round(is, (status_req *)batch);
    pthread_mutex_unlock(&is->writer);
}

ca_err ca_issuer_change_status(ca_issuer *is, ca_status_change *changes, size_t n,
                               ca_errbuf *eb)
{
    CA_ASSERT(is && (changes || n == 0));
    status_req req = {.changes = changes, .n = n};
    /* Group commit (common/group_commit.c): whoever finds no round running takes every queued
     * request into one round, so concurrent revocations share list versions. */
    ca_group_commit_run(&is->rounds, &req.gc, status_round_of, is);
    if (req.err && eb)
        *eb = req.eb;
    if (!req.err) /* durable now; outside the writer lock and the commit (issuer.h) */
        notify_changed(is, changes, n);
    return req.err;
}

/* The issuance group commit's callback: the queued requests' items go in together, in
 * chunks of at most CA_ISSUE_BATCH_MAX items along request boundaries, so concurrent single
 * issuances share a sync (and their signing spreads over the cores) the way a bulk batch
 * does. A lone request is issued in place; otherwise the items are copied into one array
 * and their outcomes copied back. A failure of the whole commit is every request's error. */
static void issue_round_of(void *ctx, ca_gc_request *batch)
{
    ca_issuer *is = ctx;
    for (issue_req *first = (issue_req *)batch; first;) {
        size_t total = 0;
        issue_req *end = first;
        while (end && (total == 0 || total + end->n <= CA_ISSUE_BATCH_MAX)) {
            total += end->n;
            end = (issue_req *)end->gc.next;
        }
        ca_errbuf eb = {{0}};
        ca_err err;
        if ((issue_req *)first->gc.next == end) {
            err = issue_items(is, first->items, first->n, &eb);
        } else {
            ca_issue_item *all = malloc(total * sizeof *all);
            if (!all) {
                err = ca_fail(&eb, CA_ERR_NOMEM, "out of memory");
            } else {
                size_t k = 0;
                for (issue_req *r = first; r != end; r = (issue_req *)r->gc.next) {
                    memcpy(all + k, r->items, r->n * sizeof *all);
                    k += r->n;
                }
                err = issue_items(is, all, total, &eb);
                k = 0;
                for (issue_req *r = first; r != end; r = (issue_req *)r->gc.next) {
                    memcpy(r->items, all + k, r->n * sizeof *all);
                    k += r->n;
                }
                free(all);
            }
        }
        for (issue_req *r = first; r != end; r = (issue_req *)r->gc.next) {
            r->err = err;
            if (err)
                r->eb = eb;
        }
        first = end;
    }
}

ca_err ca_issuer_issue(ca_issuer *is, ca_issue_item *items, size_t n, ca_errbuf *eb)
{
    CA_ASSERT(is && (items || n == 0));
    if (n > CA_ISSUE_BATCH_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "at most %d credentials per batch",
                       CA_ISSUE_BATCH_MAX);
    issue_req req = {.items = items, .n = n};
    ca_group_commit_run(&is->issues, &req.gc, issue_round_of, is);
    if (req.err && eb)
        *eb = req.eb;
    if (!req.err) /* durable now; outside the writer lock and the commit (issuer.h) */
        notify_issued(is, items, n);
    return req.err;
}

/* ---- reading -------------------------------------------------------------------------------- */

typedef struct version_pick {
    uint32_t list;
    int64_t at;
    bool found;
    uint64_t version;
    int64_t published_at;
    uint64_t leaf_index;
    char *body;
    size_t len;
    ca_err err;
} version_pick;

static bool pick_version(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    version_pick *p = arg;
    const uint8_t *k = key->data, *v = val->data;
    if (key->len != 12 || u32_from(k) != p->list || val->len < 17)
        return false;
    int64_t published = (int64_t)ca_store_u64_from(v);
    if (published > p->at)
        return false; /* versions are in time order: the previous one was in force */
    char *body = malloc(val->len - 17 + 1);
    if (!body) {
        p->err = CA_ERR_NOMEM;
        return false;
    }
    memcpy(body, v + 17, val->len - 17);
    body[val->len - 17] = '\0';
    free(p->body);
    p->body = body;
    p->len = val->len - 17;
    p->found = true;
    p->version = ca_store_u64_from(k + 4);
    p->published_at = published;
    p->leaf_index = ca_store_u64_from(v + 8);
    return true;
}

ca_err ca_issuer_status_list(ca_issuer *is, uint32_t list_id, int64_t at,
                             ca_status_list_version *out, ca_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (at == 0) {
        ca_err err = CA_OK;
        pthread_rwlock_rdlock(&is->cache_lock);
        status_list *l = list_id >= 1 && list_id <= is->nlists ? is->lists[list_id - 1] : NULL;
        if (!l || !l->latest) {
            err = ca_fail(eb, CA_ERR_NOT_FOUND, "no status list %u", list_id);
        } else if (!(out->body = malloc(l->latest_len + 1))) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        } else {
            memcpy(out->body, l->latest, l->latest_len + 1);
            out->len = l->latest_len;
            memcpy(out->etag, l->etag, sizeof out->etag);
            out->version = l->version;
            out->published_at = l->published_at;
            out->leaf_index = l->leaf_index;
        }
        pthread_rwlock_unlock(&is->cache_lock);
        return err;
    }
    ca_store_txn *t;
    ca_err err = ca_store_begin(is->store, &t, false, eb);
    if (err)
        return err;
    uint8_t start[12];
    list_key(start, list_id, 0);
    version_pick p = {.list = list_id, .at = at};
    err = ca_store_scan(t, CA_TABLE_STATUS_VERSIONS, start, sizeof start, pick_version, &p);
    ca_store_abort(t);
    if (!err)
        err = p.err;
    if (!err && !p.found)
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "status list %u has no version published at or "
                      "before that time", list_id);
    if (err) {
        free(p.body);
        return err == CA_ERR_NOT_FOUND ? err : ca_fail(eb, err, "cannot read status list %u",
                                                       list_id);
    }
    out->body = p.body;
    out->len = p.len;
    out->version = p.version;
    out->published_at = p.published_at;
    out->leaf_index = p.leaf_index;
    ca_hash d;
    char hex[2 * CA_HASH_SIZE + 1];
    ca_sha256(&d, p.body, p.len);
    ca_hash_to_hex(hex, &d);
    snprintf(out->etag, sizeof out->etag, "\"%s\"", hex);
    return CA_OK;
}

ca_err ca_credential_find(ca_store *store, const char *ref, uint8_t uuid[16], json_t **record,
                          char **doc, size_t *doc_len, ca_errbuf *eb)
{
    if (record)
        *record = NULL;
    if (doc)
        *doc = NULL;
    bool by_number = ca_issue_number_syntax_ok(ref);
    if (!by_number && ca_credential_id_parse(uuid, ref))
        return ca_fail(eb, CA_ERR_INVALID, "%s is neither a credential id (urn:uuid:...) nor "
                       "an issue number", ref);
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val v;
    if (by_number) {
        char key[CA_ISSUE_NUMBER_MAX + 2];
        size_t n = strlen(ref);
        key[0] = 'n';
        memcpy(key + 1, ref, n);
        if (ca_store_get(t, CA_TABLE_CREDENTIAL_KEYS, key, n + 1, &v) || v.len != 16) {
            err = ca_fail(eb, CA_ERR_NOT_FOUND, "no credential with issue number %s", ref);
            goto out;
        }
        memcpy(uuid, v.data, 16);
    }
    if (ca_store_get(t, CA_TABLE_CREDENTIALS, uuid, 16, &v)) {
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "no credential %s", ref);
        goto out;
    }
    if (record) {
        *record = json_loadb(v.data, v.len, 0, NULL);
        if (!*record) {
            err = ca_fail(eb, CA_ERR_STORE, "credential %s: damaged record", ref);
            goto out;
        }
    }
    if (doc) {
        if (ca_store_get(t, CA_TABLE_CREDENTIAL_DOCS, uuid, 16, &v) ||
            !(*doc = malloc(v.len + 1))) {
            err = ca_fail(eb, CA_ERR_STORE, "credential %s: the signed document is missing",
                          ref);
            goto out;
        }
        memcpy(*doc, v.data, v.len);
        (*doc)[v.len] = '\0';
        *doc_len = v.len;
    }
out:
    ca_store_abort(t);
    if (err && record) {
        json_decref(*record);
        *record = NULL;
    }
    return err;
}

typedef struct scan_ctx {
    ca_credential_visit_fn fn;
    void *arg;
    ca_err err;
} scan_ctx;

static bool visit_json(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    scan_ctx *c = arg;
    (void)key;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec) {
        c->err = CA_ERR_STORE;
        return false;
    }
    bool more = c->fn(c->arg, rec);
    json_decref(rec);
    return more;
}

static ca_err scan_table(ca_store *store, ca_table table, ca_credential_visit_fn fn, void *arg,
                         ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    scan_ctx c = {fn, arg, CA_OK};
    err = ca_store_scan(t, table, NULL, 0, visit_json, &c);
    ca_store_abort(t);
    if (!err)
        err = c.err;
    return err ? ca_fail(eb, err, "cannot read the issuance records: %s", ca_strerror(err))
               : CA_OK;
}

ca_err ca_credential_scan(ca_store *store, ca_credential_visit_fn fn, void *arg, ca_errbuf *eb)
{
    return scan_table(store, CA_TABLE_CREDENTIALS, fn, arg, eb);
}

ca_err ca_participant_scan(ca_store *store, ca_credential_visit_fn fn, void *arg,
                           ca_errbuf *eb)
{
    return scan_table(store, CA_TABLE_PARTICIPANTS, fn, arg, eb);
}

/* ---- check --------------------------------------------------------------------------------- */

typedef struct audit_ctx {
    ca_log *log;
    ca_store_txn *txn;
    ca_issuer_audit *out;
    ca_err err;
} audit_ctx;

static void audit_problem(audit_ctx *c, bool version, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void audit_problem(audit_ctx *c, bool version, const char *fmt, ...)
{
    uint64_t *count = version ? &c->out->version_problems : &c->out->credential_problems;
    char *first = version ? c->out->first_version_problem : c->out->first_credential_problem;
    if ((*count)++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first, sizeof c->out->first_version_problem, fmt, ap);
        va_end(ap);
    }
}

/* The leaf at index is digest d. */
static bool leaf_is(audit_ctx *c, uint64_t index, const ca_hash *d)
{
    ca_hash leaf;
    ca_errbuf eb = {{0}};
    return ca_log_digest_at(c->log, &leaf, index, &eb) == CA_OK &&
           memcmp(leaf.b, d->b, CA_HASH_SIZE) == 0;
}

static bool audit_version(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    audit_ctx *c = arg;
    const uint8_t *k = key->data, *v = val->data;
    c->out->versions++;
    if (key->len != 12 || val->len < 17) {
        audit_problem(c, true, "a status list version record is malformed");
        return true;
    }
    ca_hash d;
    ca_sha256(&d, v + 17, val->len - 17);
    uint64_t leaf = ca_store_u64_from(v + 8);
    if (!leaf_is(c, leaf, &d))
        audit_problem(c, true, "status list %u version %llu: its digest is not leaf %llu",
                      u32_from(k), (unsigned long long)ca_store_u64_from(k + 4),
                      (unsigned long long)leaf);
    return true;
}

static bool audit_credential(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    audit_ctx *c = arg;
    c->out->credentials++;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *hex = json_string_value(json_object_get(rec, "digest"));
    json_t *leaf = json_object_get(rec, "leafIndex");
    ca_hash want, got;
    ca_store_val doc;
    if (!id || !hex || !json_is_integer(leaf) || ca_hash_from_hex(&want, hex, strlen(hex))) {
        audit_problem(c, false, "a credential record is malformed");
    } else if (ca_store_get(c->txn, CA_TABLE_CREDENTIAL_DOCS, key->data, key->len, &doc)) {
        audit_problem(c, false, "credential %s: the signed document is missing", id);
    } else {
        ca_sha256(&got, doc.data, doc.len);
        if (memcmp(got.b, want.b, CA_HASH_SIZE) != 0)
            audit_problem(c, false, "credential %s: the stored document does not hash to its digest",
                          id);
        else if (!leaf_is(c, (uint64_t)json_integer_value(leaf), &want))
            audit_problem(c, false, "credential %s: its digest is not leaf %lld", id,
                          (long long)json_integer_value(leaf));
    }
    json_decref(rec);
    return true;
}

ca_err ca_issuer_audit_store(ca_store *store, ca_log *log, ca_issuer_audit *out, ca_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    audit_ctx c = {.log = log, .txn = t, .out = out};
    if (!(err = ca_store_scan(t, CA_TABLE_STATUS_VERSIONS, NULL, 0, audit_version, &c)))
        err = ca_store_scan(t, CA_TABLE_CREDENTIALS, NULL, 0, audit_credential, &c);
    ca_store_abort(t);
    return err ? ca_fail(eb, err, "cannot read the credential tables: %s", ca_strerror(err))
               : CA_OK;
}

void ca_issuer_page_url(const ca_issuer *is, const char *id, char *out, size_t cap)
{
    ca_page_url(out, cap, is->node->cfg.node_public_url, id);
}

json_t *ca_issue_item_json(const ca_issuer *is, const ca_issue_item *it)
{
    char hex[2 * CA_HASH_SIZE + 1], page[CA_PAGE_URL_MAX];
    ca_hash_to_hex(hex, &it->digest);
    ca_issuer_page_url(is, it->id, page, sizeof page);
    json_t *cred = it->format == CA_FORMAT_VC_JWT
                       ? json_stringn(it->signed_text, it->signed_len)
                       : json_loadb(it->signed_text, it->signed_len, 0, NULL);
    return json_pack("{s:s, s:s, s:o, s:s, s:I, s:s}", "id", it->id, "issueNumber",
                     it->issue_number, "credential", cred ? cred : json_null(), "digest", hex,
                     "leafIndex", (json_int_t)it->leaf_index, "page", page);
}
