/*
 * node/anchor_engine.c — the anchoring state machine (SPEC §2; contract: node/anchor_engine.h).
 *
 * Storage. Table `anchors` (CA_TABLE_ANCHORS): key u64 BE tree size -> one anchor record as
 * compact JSON text (jansson), written whole at every transition:
 *   {"v":1,
 *    "chainId":N, "status":"pending|submitted|confirmed|final", "treeSize":N,
 *    "rootHash":HEX, "from":"0x..", "to":"0x..", "txHash":"0x.."|null,
 *    "blockNumber":N|null, "blockHash":"0x.."|null,
 *    "previous":{"treeSize":N,"rootHash":HEX,"consistencyProof":[HEX..]}|null,   <- SPEC §3
 *    "nonce":N, "maxFeePerGas":"0x<64 hex>", "maxPriorityFeePerGas":"0x<64 hex>",
 *    "gasLimit":N, "rawTx":"0x.."|null, "rawTxHash":"0x.."|null,
 *    "oldTxHashes":["0x.."...]  (replaced transactions at the same nonce),
 *    "createdAt":T, "signedAt":T, "updatedAt":T,
 *    "settled":true  (only once final and finalized; absent = false)}              <- internal
 * The signed checkpoint of each anchored size is also put in `checkpoints` (u64 BE size).
 * Records only ever get larger tree sizes: a new one is created only when the newest one is
 * final and the log grew past it, so one checkpoint is never anchored final twice.
 *
 * States, one pass of step() (numbered as in the code):
 *  1. no record in progress: create a pending one when asked (POST /v1/anchors) or when
 *     anchor.interval has passed and the log grew; the consistency proof runs from the
 *     previous anchor's size.
 *  2. pending: check eth_chainId == anchor.chain_id FIRST (no signing otherwise); pending
 *     nonce; fees from ca_rpc_fee_suggestion capped by anchor.max_fee_gwei; gas from
 *     eth_estimateGas (+10%); the balance must cover gas * maxFee (else one log line naming
 *     the address and the balance needed, retry later). The raw transaction and its hash are
 *     persisted BEFORE eth_sendRawTransaction, so a crash re-broadcasts the same bytes.
 *  3. submitted: a receipt for any of our hashes at this nonce whose block hash is the
 *     canonical one at that height -> confirmed. No receipt after anchor.bump_after seconds:
 *     re-sign at the same nonce with both fees raised by >= 12.5% (the txpool replacement
 *     rule) and broadcast. A transaction the endpoint no longer knows is re-broadcast.
 *  4. confirmed: the receipt vanished or its block is no longer canonical (a reorg) -> back
 *     to submitted, re-broadcast the same raw transaction; head - block + 1 >=
 *     anchor.confirmations -> final.
 *  5. final, not yet settled (watch_final; SPEC §2 "A final record stays watched until its
 *     block is at or below the chain's finalized block ... or 64 blocks deep"): each pass
 *     compares the canonical hash at the record's height with its block hash, one call. A
 *     different hash is a reorg after finality: the record goes through step 4 again (back
 *     to submitted and re-broadcast, or moved to the block that now holds the transaction),
 *     so it is final again later under the same key: never two records for one checkpoint.
 *     A record whose block is at or below eth_getBlockByNumber("finalized") (or head - 64
 *     when the chain lacks the tag) and still canonical is marked settled and never asked
 *     about again. Every unsettled record is driven, not only the newest: a reorg can undo
 *     several anchors at once; a new anchor waits until every record is final again.
 * Failures (endpoint down, chain mismatch, no funds) leave the state as is and are retried on
 * the next pass; each distinct message is logged once until the engine makes progress.
 * Stopping sets `cancel`, which the RPC client and its libcurl transport watch: a call in
 * flight against a stalled endpoint ends within about a second (issue #13 item 5).
 *
 * Start-up gate (SPEC §1: "at start-up and after restore it refuses to append until the log is
 * consistent ... with the newest anchor on chain"): from start until check_against_chain()
 * succeeds the log's appends are held (HTTP 503 with Retry-After). The gate runs in the engine
 * thread, so a stalled endpoint never delays serving reads; start() waits only
 * STARTUP_GATE_WAIT_MS for its first attempt, so a healthy chain opens appends before the
 * server listens. The check: the anchor account's mined transaction count
 * must not exceed what the stored records account for (more means anchors this store does not
 * know of: a restore from an older backup, or an account shared with something else), and the
 * newest final record's root must be the log's root at that size. A failed check keeps
 * appends held and says why; an unreachable endpoint keeps them held until it answers.
 */
#include "node/anchor_engine.h"

#include "node/anchor_account.h"
#include "node/webhooks.h"
#include "credanchor/anchor_check.h"

#include "credanchor/encoding.h"
#include "credanchor/eth.h"
#include "node/log.h"
#include "node/store.h"
#include "credanchor/json_fields.h"
#include "node/node_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD_MAX 65536
#define ERROR_RETRY_MS 1000u
#define STARTUP_GATE_WAIT_MS 500 /* start() waits this long for the first gate attempt */
#define WATCH_MAX 32             /* unsettled records looked at per pass */
#define NO_FINALIZED_TAG_DEPTH 64 /* SPEC §2: "or 64 blocks deep on a chain without that tag" */

typedef ca_u128 u128;

/* ---- small helpers ---------------------------------------------------------------------- */

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

const char *ca_anchor_status_name(ca_anchor_status s)
{
    switch (s) {
    case CA_ANCHOR_PENDING: return "pending";
    case CA_ANCHOR_SUBMITTED: return "submitted";
    case CA_ANCHOR_CONFIRMED: return "confirmed";
    case CA_ANCHOR_FINAL: return "final";
    }
    return "?";
}

static bool status_from_name(ca_anchor_status *s, const char *name)
{
    for (int i = 0; i <= CA_ANCHOR_FINAL; i++)
        if (strcmp(name, ca_anchor_status_name((ca_anchor_status)i)) == 0) {
            *s = (ca_anchor_status)i;
            return true;
        }
    return false;
}

static void hex0x(char *out, const uint8_t *p, size_t len)
{
    out[0] = '0';
    out[1] = 'x';
    ca_hex_encode(out + 2, p, len);
}

static json_t *json_hex0x(const uint8_t *p, size_t len)
{
    char buf[2 * CA_ANCHOR_RAW_MAX + 3];
    CA_ASSERT(len <= CA_ANCHOR_RAW_MAX);
    hex0x(buf, p, len);
    return json_string(buf);
}

static json_t *json_hash(const ca_hash *h)
{
    char buf[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(buf, h);
    return json_string(buf);
}

ca_u128 ca_u256_to_u128(const uint8_t be[32])
{
    for (int i = 0; i < 16; i++)
        if (be[i])
            return ~(u128)0;
    u128 v = 0;
    for (int i = 16; i < 32; i++)
        v = v << 8 | be[i];
    return v;
}

void ca_u128_to_u256(uint8_t be[32], ca_u128 v)
{
    memset(be, 0, 32);
    for (int i = 31; i >= 16; i--) {
        be[i] = (uint8_t)v;
        v >>= 8;
    }
}

static char *u128_dec(char out[48], u128 v)
{
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return out;
}

/* ---- records ---------------------------------------------------------------------------- */

json_t *ca_anchor_record_json(const ca_anchor_record *r)
{
    char chain[32], addr[43];
    snprintf(chain, sizeof chain, "eip155:%llu", (unsigned long long)r->chain_id);
    json_t *o = json_object();
    json_object_set_new(o, "chain", json_string(chain));
    json_object_set_new(o, "txHash", r->has_tx ? json_hex0x(r->tx_hash, 32) : json_null());
    json_object_set_new(o, "blockNumber",
                        r->in_block ? json_integer((json_int_t)r->block_number) : json_null());
    json_object_set_new(o, "blockHash", r->in_block ? json_hex0x(r->block_hash, 32) : json_null());
    ca_eth_address_hex(addr, r->from);
    json_object_set_new(o, "from", json_string(addr));
    ca_eth_address_hex(addr, r->to);
    json_object_set_new(o, "to", json_string(addr));
    json_object_set_new(o, "status", json_string(ca_anchor_status_name(r->status)));
    json_object_set_new(o, "treeSize", json_integer((json_int_t)r->tree_size));
    json_object_set_new(o, "rootHash", json_hash(&r->root));
    if (r->has_previous) {
        json_t *p = json_object(), *a = json_array();
        json_object_set_new(p, "treeSize", json_integer((json_int_t)r->prev_size));
        json_object_set_new(p, "rootHash", json_hash(&r->prev_root));
        for (size_t i = 0; i < r->consistency_len; i++)
            json_array_append_new(a, json_hash(&r->consistency[i]));
        json_object_set_new(p, "consistencyProof", a);
        json_object_set_new(o, "previous", p);
    } else {
        json_object_set_new(o, "previous", json_null());
    }
    return o;
}

ca_err ca_anchor_record_encode(char **text, const ca_anchor_record *r, ca_errbuf *eb)
{
    json_t *o = ca_anchor_record_json(r);
    json_t *old = json_array();
    if (!o || !old) {
        json_decref(o);
        json_decref(old);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    json_object_del(o, "chain");
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "chainId", json_integer((json_int_t)r->chain_id));
    json_object_set_new(o, "nonce", json_integer((json_int_t)r->nonce));
    json_object_set_new(o, "maxFeePerGas", json_hex0x(r->max_fee, 32));
    json_object_set_new(o, "maxPriorityFeePerGas", json_hex0x(r->max_priority_fee, 32));
    json_object_set_new(o, "gasLimit", json_integer((json_int_t)r->gas_limit));
    json_object_set_new(o, "rawTx", r->has_raw ? json_hex0x(r->raw, r->raw_len) : json_null());
    json_object_set_new(o, "rawTxHash", r->has_raw ? json_hex0x(r->raw_hash, 32) : json_null());
    for (size_t i = 0; i < r->n_old; i++)
        json_array_append_new(old, json_hex0x(r->old_hashes[i], 32));
    json_object_set_new(o, "oldTxHashes", old);
    json_object_set_new(o, "createdAt", json_integer((json_int_t)r->created_at));
    json_object_set_new(o, "signedAt", json_integer((json_int_t)r->signed_at));
    json_object_set_new(o, "updatedAt", json_integer((json_int_t)r->updated_at));
    if (r->settled)
        json_object_set_new(o, "settled", json_true());
    *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *text ? CA_OK : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
}

/* "0x" + exactly 2*len hex digits. */
static bool get_hex0x(json_t *x, uint8_t *out, size_t len)
{
    const char *s = json_string_value(x);
    return s && strlen(s) == 2 + 2 * len && s[0] == '0' && s[1] == 'x' &&
           ca_hex_decode(out, len, s + 2, 2 * len) == CA_OK;
}

ca_err ca_anchor_record_decode(ca_anchor_record *r, const char *text, size_t len, ca_errbuf *eb)
{
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *x;
    bool ok = json_is_object(o);
    const char *st = ok ? ca_json_str(o, "status") : NULL;
    ok = ok && st && status_from_name(&r->status, st) && ca_json_u64(&r->chain_id, o, "chainId") &&
         ca_json_u64(&r->tree_size, o, "treeSize") && ca_json_hash(&r->root, o, "rootHash") &&
         get_hex0x(json_object_get(o, "from"), r->from, 20) &&
         get_hex0x(json_object_get(o, "to"), r->to, 20) && ca_json_u64(&r->nonce, o, "nonce") &&
         get_hex0x(json_object_get(o, "maxFeePerGas"), r->max_fee, 32) &&
         get_hex0x(json_object_get(o, "maxPriorityFeePerGas"), r->max_priority_fee, 32) &&
         ca_json_u64(&r->gas_limit, o, "gasLimit") && ca_json_u64(&r->created_at, o, "createdAt") &&
         ca_json_u64(&r->signed_at, o, "signedAt") && ca_json_u64(&r->updated_at, o, "updatedAt");
    if (ok && !json_is_null(x = json_object_get(o, "txHash"))) {
        r->has_tx = true;
        ok = get_hex0x(x, r->tx_hash, 32);
    }
    if (ok && !json_is_null(json_object_get(o, "blockNumber"))) {
        r->in_block = true;
        ok = ca_json_u64(&r->block_number, o, "blockNumber") &&
             get_hex0x(json_object_get(o, "blockHash"), r->block_hash, 32);
    }
    if (ok && json_is_object(x = json_object_get(o, "previous"))) {
        r->has_previous = true;
        json_t *a = json_object_get(x, "consistencyProof");
        ok = ca_json_u64(&r->prev_size, x, "treeSize") &&
             ca_json_hash(&r->prev_root, x, "rootHash") && json_is_array(a) &&
             json_array_size(a) <= CA_MERKLE_MAX_PROOF;
        for (size_t i = 0; ok && i < json_array_size(a); i++)
            ok = ca_json_hash_value(&r->consistency[i], json_array_get(a, i));
        r->consistency_len = ok ? json_array_size(a) : 0;
    }
    if (ok && json_is_string(x = json_object_get(o, "rawTx"))) {
        const char *s = json_string_value(x);
        size_t n = strlen(s);
        ok = n > 2 && n % 2 == 0 && (n - 2) / 2 <= CA_ANCHOR_RAW_MAX && s[0] == '0' &&
             s[1] == 'x' && ca_hex_decode(r->raw, (n - 2) / 2, s + 2, n - 2) == CA_OK &&
             get_hex0x(json_object_get(o, "rawTxHash"), r->raw_hash, 32);
        r->raw_len = (n - 2) / 2;
        r->has_raw = ok;
    }
    if (ok && (x = json_object_get(o, "settled")) != NULL) {
        ok = json_is_boolean(x);
        r->settled = json_is_true(x);
    }
    if (ok && json_is_array(x = json_object_get(o, "oldTxHashes"))) {
        for (size_t i = 0; ok && i < json_array_size(x) && i < CA_ANCHOR_MAX_HASHES; i++) {
            ok = get_hex0x(json_array_get(x, i), r->old_hashes[i], 32);
            r->n_old = i + 1;
        }
    }
    json_decref(o);
    return ok ? CA_OK : ca_fail(eb, CA_ERR_INVALID, "anchors: a stored anchor record is malformed");
}

static ca_err read_val(ca_anchor_record *rec, const ca_store_val *v, ca_errbuf *eb)
{
    return ca_anchor_record_decode(rec, v->data, v->len, eb);
}

ca_err ca_anchor_get(ca_store *store, ca_anchor_record *rec, uint64_t tree_size, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    uint8_t k[8];
    ca_store_u64_key(k, tree_size);
    ca_store_val v;
    err = ca_store_get(t, CA_TABLE_ANCHORS, k, 8, &v);
    if (!err)
        err = read_val(rec, &v, eb);
    else if (err == CA_ERR_NOT_FOUND)
        ca_fail(eb, err, "no anchor for tree size %llu", (unsigned long long)tree_size);
    ca_store_abort(t);
    return err;
}

ca_err ca_anchor_latest(ca_store *store, ca_anchor_record *rec, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val k, v;
    err = ca_store_last(t, CA_TABLE_ANCHORS, &k, &v);
    if (!err)
        err = read_val(rec, &v, eb);
    else if (err == CA_ERR_NOT_FOUND)
        ca_fail(eb, err, "no anchor yet");
    ca_store_abort(t);
    return err;
}

typedef struct scan_ctx {
    ca_anchor_record *rec;
    bool found;
    ca_err err;
    ca_errbuf *eb;
    json_t *list;        /* list_json */
    uint64_t counts[4];  /* metrics */
    uint64_t final_watched;
    uint64_t last_final;
    ca_anchor_record *active;
    bool has_active;
} scan_ctx;

static bool covering_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    scan_ctx *c = arg;
    if ((c->err = read_val(c->rec, v, c->eb)))
        return false;
    if (c->rec->status >= CA_ANCHOR_CONFIRMED) {
        c->found = true;
        return false;
    }
    return true;
}

ca_err ca_anchor_covering(ca_store *store, ca_anchor_record *rec, uint64_t leaf_index,
                          ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    uint8_t k[8];
    ca_store_u64_key(k, leaf_index + 1);
    scan_ctx c = {.rec = rec, .eb = eb};
    err = ca_store_scan(t, CA_TABLE_ANCHORS, k, 8, covering_fn, &c);
    ca_store_abort(t);
    if (!err)
        err = c.err;
    if (!err && !c.found)
        err = CA_ERR_NOT_FOUND;
    return err;
}

static bool list_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    scan_ctx *c = arg;
    if ((c->err = read_val(c->rec, v, c->eb)))
        return false;
    json_array_append_new(c->list, ca_anchor_record_json(c->rec));
    return true;
}

ca_err ca_anchor_list_json(ca_store *store, char **json, uint64_t after, ca_errbuf *eb)
{
    *json = NULL;
    if (after == UINT64_MAX)
        after--;
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_anchor_record *rec = malloc(sizeof *rec);
    json_t *o = json_object(), *a = json_array();
    scan_ctx c = {.rec = rec, .eb = eb, .list = a};
    if (!rec || !o || !a) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    } else {
        uint8_t k[8];
        ca_store_u64_key(k, after + 1);
        err = ca_store_scan(t, CA_TABLE_ANCHORS, k, 8, list_fn, &c);
        if (!err)
            err = c.err;
    }
    ca_store_abort(t);
    if (!err) {
        json_object_set(o, "anchors", a);
        *json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*json)
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    json_decref(a);
    json_decref(o);
    free(rec);
    return err;
}

/* ---- the engine ------------------------------------------------------------------------- */

struct ca_anchor_engine {
    ca_node *node;
    ca_rpc rpc;
    ca_rpc_curl curl;
    uint8_t from[20], to[20];
    unsigned poll_ms;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards the flags below and every anchor record write */
    pthread_cond_t cv;
    bool stop, wake, requested;
    uint64_t next_auto;  /* time of the next automatic anchor (anchor.interval > 0) */
    bool chain_checked;  /* the start-up gate passed: the log agrees with the chain */
    bool gate_tried;     /* the thread finished its first gate attempt (start() waits) */
    pthread_cond_t gate_cv;
    atomic_bool gate_passed;      /* chain_checked, for the metrics hook's threads */
    atomic_bool cancel;           /* set by stop(): the RPC client stops waiting */
    uint64_t watch_from;          /* records below this tree size are settled (engine thread) */
    atomic_uint_fast64_t final_reorgs; /* final records a reorg sent back, since start */
    char last_msg[512];  /* the last logged problem, so each is logged once */
    ca_anchor_account account;    /* funds and reachability (issue #17, node/anchor_account.h) */
    uint64_t account_next;        /* when the next account check is due (engine thread) */
};

/* One log line per distinct problem until the engine makes progress again. */
static void note(ca_anchor_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ca_anchor_engine *e, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (strcmp(msg, e->last_msg) == 0)
        return;
    snprintf(e->last_msg, sizeof e->last_msg, "%s", msg);
    ca_node_log(CA_NODE_LOG_WARNING, "anchor", "%s", msg);
}

static void info(ca_anchor_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(ca_anchor_engine *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ca_node_logv(CA_NODE_LOG_INFO, "anchor", fmt, ap);
    va_end(ap);
    e->last_msg[0] = '\0';
}

typedef struct put_arg {
    const ca_anchor_record *rec;
    const char *text;
    const char *note;  /* checkpoint to store, or NULL */
    size_t note_len;
} put_arg;

/* The anchor.final webhook (SPEC §8, webhooks.h), queued in the transaction that first
 * stores rec as final: once per tree size, whatever the engine's restarts. */
static ca_err final_event(ca_store_txn *t, const ca_anchor_record *rec, const uint8_t k[8],
                          ca_errbuf *eb)
{
    if (rec->status != CA_ANCHOR_FINAL || !rec->has_tx)
        return CA_OK;
    ca_store_val v;
    ca_anchor_record old;
    ca_errbuf ignored = {{0}};
    if (ca_store_get(t, CA_TABLE_ANCHORS, k, 8, &v) == CA_OK &&
        ca_anchor_record_decode(&old, v.data, v.len, &ignored) == CA_OK &&
        old.status == CA_ANCHOR_FINAL)
        return CA_OK;
    char tx[67];
    hex0x(tx, rec->tx_hash, 32);
    json_t *data = json_pack("{s:I, s:s}", "treeSize", (json_int_t)rec->tree_size, "txHash", tx);
    if (!data)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_webhooks_enqueue(t, "anchor.final", data, (int64_t)now_s(), eb);
    json_decref(data);
    return err;
}

static ca_err put_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    put_arg *a = arg;
    uint8_t k[8];
    ca_store_u64_key(k, a->rec->tree_size);
    ca_err err;
    if (a->note) {
        ca_store_val v;
        err = ca_store_get(t, CA_TABLE_CHECKPOINTS, k, 8, &v);
        if (err == CA_ERR_NOT_FOUND)
            err = ca_store_put(t, CA_TABLE_CHECKPOINTS, k, 8, a->note, a->note_len);
        if (err)
            return ca_fail(eb, err, "anchors: cannot store checkpoint");
    }
    if ((err = final_event(t, a->rec, k, eb)))
        return err;
    err = ca_store_put(t, CA_TABLE_ANCHORS, k, 8, a->text, strlen(a->text));
    return err ? ca_fail(eb, err, "anchors: cannot store anchor record") : CA_OK;
}

/* Writes rec (updated_at set now). Caller holds e->mu or is the only writer. */
static ca_err persist_locked(ca_anchor_engine *e, ca_anchor_record *rec, const char *cp,
                             size_t cp_len, ca_errbuf *eb)
{
    rec->updated_at = now_s();
    char *text;
    ca_err err = ca_anchor_record_encode(&text, rec, eb);
    if (err)
        return err;
    put_arg a = {rec, text, cp, cp_len};
    err = ca_store_write(e->node->store, put_fn, &a, eb);
    free(text);
    return err;
}

static ca_err persist(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    pthread_mutex_lock(&e->mu);
    ca_err err = persist_locked(e, rec, NULL, 0, eb);
    pthread_mutex_unlock(&e->mu);
    return err;
}

/* Step 1: a pending record for the current log size. *created false when the log did not
 * grow past prev. Caller holds e->mu. */
static ca_err create_pending_locked(ca_anchor_engine *e, ca_anchor_record *rec,
                                    const ca_anchor_record *prev, bool *created, ca_errbuf *eb)
{
    *created = false;
    ca_log *log = e->node->log;
    uint64_t size = ca_log_size(log);
    if (size == 0 || (prev && prev->tree_size >= size))
        return CA_OK;
    ca_anchor_record *r = calloc(1, sizeof *r);
    if (!r)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    char cp[CA_NOTE_MAX];
    size_t cp_len;
    r->chain_id = e->node->cfg.anchor_chain_id;
    r->status = CA_ANCHOR_PENDING;
    r->tree_size = size;
    memcpy(r->from, e->from, 20);
    memcpy(r->to, e->to, 20);
    r->created_at = now_s();
    ca_err err = ca_log_root(log, &r->root, size, eb);
    if (!err)
        err = ca_log_checkpoint_at(log, cp, &cp_len, size, eb);
    if (!err && prev) {
        r->has_previous = true;
        r->prev_size = prev->tree_size;
        r->prev_root = prev->root;
        err = ca_log_consistency(log, r->consistency, &r->consistency_len, prev->tree_size,
                                 size, eb);
    }
    if (!err)
        err = persist_locked(e, r, cp, cp_len, eb);
    if (!err) {
        *rec = *r;
        *created = true;
        info(e, "anchoring tree size %llu (pending)", (unsigned long long)size);
    }
    free(r);
    return err;
}

/* The chain check that comes before any signing (SPEC §2). */
static ca_err check_chain(ca_anchor_engine *e, ca_errbuf *eb)
{
    uint64_t id;
    ca_err err = ca_rpc_chain_id(&e->rpc, &id, eb);
    if (err)
        return err;
    if (id != e->node->cfg.anchor_chain_id)
        return ca_fail(eb, CA_ERR_CONFIG,
                       "refusing to sign: anchor.chain_id is %llu but the endpoint reports "
                       "chain id %llu (eth_chainId); no transaction sent",
                       (unsigned long long)e->node->cfg.anchor_chain_id,
                       (unsigned long long)id);
    return CA_OK;
}

/* Balance check: the account must hold gas_limit * max_fee (value is 0). */
static ca_err check_funds(ca_anchor_engine *e, uint64_t gas_limit, const uint8_t max_fee[32],
                          uint64_t tree_size, ca_errbuf *eb)
{
    uint8_t bal[32];
    ca_err err = ca_rpc_balance(&e->rpc, bal, e->from, "pending", eb);
    if (err)
        return err;
    u128 have = ca_u256_to_u128(bal), fee = ca_u256_to_u128(max_fee);
    u128 need = fee > (~(u128)0) / (gas_limit ? gas_limit : 1) ? ~(u128)0 : fee * gas_limit;
    if (have >= need)
        return CA_OK;
    char a[43], h[48], n[48], f[48];
    ca_eth_address_hex(a, e->from);
    return ca_fail(eb, CA_ERR_FULL,
                   "insufficient funds: anchor address %s holds %s wei but anchoring tree size "
                   "%llu needs %s wei (gas limit %llu x maxFeePerGas %s wei); fund the address, "
                   "retrying",
                   a, u128_dec(h, have), (unsigned long long)tree_size, u128_dec(n, need),
                   (unsigned long long)gas_limit, u128_dec(f, fee));
}

/* Signs rec's transaction with its nonce, fees and gas; fills raw/raw_hash. */
static ca_err sign_tx(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    uint8_t data[CA_ANCHOR_CALLDATA_SIZE];
    ca_anchor_calldata(data, rec->tree_size, &rec->root);
    ca_eth_tx tx = {.chain_id = e->node->cfg.anchor_chain_id, .nonce = rec->nonce,
                    .gas_limit = rec->gas_limit, .data = data, .data_len = sizeof data};
    memcpy(tx.max_priority_fee_per_gas, rec->max_priority_fee, 32);
    memcpy(tx.max_fee_per_gas, rec->max_fee, 32);
    memcpy(tx.to, rec->to, 20);
    uint8_t secret[CA_SECP256K1_SECRET_SIZE];
    ca_eth_sig sig;
    ca_err err = ca_node_anchor_secret(e->node, secret, eb);
    if (!err)
        err = ca_eth_tx_sign(&sig, &tx, secret, eb);
    ca_wipe(secret, sizeof secret);
    if (err)
        return err;
    size_t len = sizeof rec->raw;
    ca_hash h;
    if ((err = ca_eth_tx_encode_signed(rec->raw, &len, &h, &tx, &sig, eb)))
        return err;
    rec->raw_len = len;
    memcpy(rec->raw_hash, h.b, 32);
    rec->has_raw = true;
    rec->signed_at = now_s();
    return CA_OK;
}

static u128 fee_cap(const ca_anchor_engine *e)
{
    return (u128)e->node->cfg.anchor_max_fee_gwei * 1000000000u;
}

static bool rpc_error_has(const ca_anchor_engine *e, const char *what)
{
    return e->rpc.last_rpc_error && strcasestr(e->rpc.last_rpc_message, what);
}

/* Broadcasts rec->raw. *sent true when the endpoint took it or already had it. */
static ca_err broadcast(ca_anchor_engine *e, ca_anchor_record *rec, bool *sent, ca_errbuf *eb)
{
    *sent = false;
    uint8_t h[32];
    e->rpc.last_rpc_error = false;
    ca_err err = ca_rpc_send_raw(&e->rpc, h, rec->raw, rec->raw_len, eb);
    if (!err || rpc_error_has(e, "already known") || rpc_error_has(e, "known transaction") ||
        rpc_error_has(e, "alreadyknown")) {
        *sent = true;
        return CA_OK;
    }
    return err;
}

/* Step 2. */
static ca_err do_pending(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    ca_err err = check_chain(e, eb);
    if (err)
        return err;
    if (!rec->has_raw) {
        if ((err = ca_rpc_nonce(&e->rpc, &rec->nonce, e->from, "pending", eb)))
            return err;
        uint8_t prio[32], max[32];
        if ((err = ca_rpc_fee_suggestion(&e->rpc, prio, max, eb)))
            return err;
        u128 cap = fee_cap(e), p = ca_u256_to_u128(prio), m = ca_u256_to_u128(max);
        if (m > cap)
            m = cap;
        if (p > m)
            p = m;
        ca_u128_to_u256(rec->max_fee, m);
        ca_u128_to_u256(rec->max_priority_fee, p);
        uint8_t data[CA_ANCHOR_CALLDATA_SIZE];
        ca_anchor_calldata(data, rec->tree_size, &rec->root);
        uint64_t gas;
        if ((err = ca_rpc_estimate_gas(&e->rpc, &gas, e->from, rec->to, data, sizeof data, eb)))
            return err;
        rec->gas_limit = gas + gas / 10;
        if ((err = check_funds(e, rec->gas_limit, rec->max_fee, rec->tree_size, eb)))
            return err;
        if ((err = sign_tx(e, rec, eb)))
            return err;
        /* Persist before sending: after a crash the same bytes are re-broadcast. */
        if ((err = persist(e, rec, eb)))
            return err;
    }
    bool sent;
    err = broadcast(e, rec, &sent, eb);
    if (!sent) {
        if (rpc_error_has(e, "insufficient funds")) {
            ca_errbuf eb2 = {{0}};
            ca_err e2 = check_funds(e, rec->gas_limit, rec->max_fee, rec->tree_size, &eb2);
            rec->has_raw = false; /* re-priced and re-checked on the next attempt */
            persist(e, rec, NULL);
            return e2 ? ca_fail(eb, e2, "%s", eb2.msg) : err;
        }
        if (rpc_error_has(e, "nonce too low")) {
            /* Either ours is already mined (the submitted step finds its receipt) or the
             * nonce went to another transaction: re-sign with a fresh nonce then. */
            ca_rpc_receipt_info ri;
            if (ca_rpc_receipt(&e->rpc, &ri, rec->raw_hash, NULL) == CA_OK && ri.found) {
                sent = true;
            } else {
                rec->has_raw = false;
                persist(e, rec, NULL);
                return err;
            }
        } else if (rpc_error_has(e, "underpriced") && rec->n_old) {
            sent = true; /* an earlier version at this nonce is in the pool; tracked by hash */
        } else {
            return err;
        }
    }
    rec->status = CA_ANCHOR_SUBMITTED;
    rec->has_tx = true;
    memcpy(rec->tx_hash, rec->raw_hash, 32);
    if ((err = persist(e, rec, eb)))
        return err;
    char h[67];
    hex0x(h, rec->tx_hash, 32);
    info(e, "tree size %llu submitted: tx %s, nonce %llu", (unsigned long long)rec->tree_size, h,
         (unsigned long long)rec->nonce);
    return CA_OK;
}

/* ceil(v * 9 / 8): the +12.5% replacement rule. */
static u128 bump(u128 v)
{
    return v + (v + 7) / 8;
}

/* Step 3, no receipt after anchor.bump_after: re-sign at the same nonce with higher fees. */
static ca_err replace(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    ca_err err = check_chain(e, eb);
    if (err)
        return err;
    uint8_t prio[32], max[32];
    if ((err = ca_rpc_fee_suggestion(&e->rpc, prio, max, eb)))
        return err;
    u128 cap = fee_cap(e);
    u128 old_m = ca_u256_to_u128(rec->max_fee), old_p = ca_u256_to_u128(rec->max_priority_fee);
    u128 m = bump(old_m), p = bump(old_p), sm = ca_u256_to_u128(max), sp = ca_u256_to_u128(prio);
    if (sm > cap)
        sm = cap;
    if (sm > m)
        m = sm;
    if (sp > p)
        p = sp;
    if (p > m)
        m = p;
    if (m > cap) {
        char c[48];
        rec->signed_at = now_s(); /* try again after another bump_after */
        return ca_fail(eb, CA_ERR_RANGE,
                       "tree size %llu: transaction stuck, but a replacement at +12.5%% would "
                       "exceed anchor.max_fee_gwei (%s wei); waiting",
                       (unsigned long long)rec->tree_size, u128_dec(c, cap));
    }
    ca_anchor_record next = *rec;
    ca_u128_to_u256(next.max_fee, m);
    ca_u128_to_u256(next.max_priority_fee, p);
    if ((err = check_funds(e, next.gas_limit, next.max_fee, next.tree_size, eb)))
        return err;
    if (next.n_old == CA_ANCHOR_MAX_HASHES) {
        memmove(next.old_hashes[0], next.old_hashes[1], 32 * (CA_ANCHOR_MAX_HASHES - 1));
        next.n_old--;
    }
    memcpy(next.old_hashes[next.n_old++], rec->raw_hash, 32);
    if ((err = sign_tx(e, &next, eb)))
        return err;
    memcpy(next.tx_hash, next.raw_hash, 32);
    if ((err = persist(e, &next, eb)))
        return err;
    *rec = next;
    char h[67], f[48];
    hex0x(h, rec->raw_hash, 32);
    info(e, "tree size %llu: no receipt after %llu s; replaced at nonce %llu with maxFeePerGas "
            "%s wei: tx %s", (unsigned long long)rec->tree_size,
         (unsigned long long)e->node->cfg.anchor_bump_after, (unsigned long long)rec->nonce,
         u128_dec(f, m), h);
    bool sent;
    return broadcast(e, rec, &sent, eb);
}

/* A receipt in a canonical block for any of our hashes at this nonce. */
static ca_err find_receipt(ca_anchor_engine *e, const ca_anchor_record *rec, bool *found,
                           uint8_t hash[32], ca_rpc_receipt_info *ri, ca_errbuf *eb)
{
    *found = false;
    for (size_t i = 0; i <= rec->n_old; i++) {
        const uint8_t *h = i == 0 ? rec->raw_hash : rec->old_hashes[rec->n_old - i];
        ca_err err = ca_rpc_receipt(&e->rpc, ri, h, eb);
        if (err)
            return err;
        if (!ri->found)
            continue;
        uint8_t canon[32];
        bool have;
        if ((err = ca_rpc_block_hash(&e->rpc, canon, &have, ri->block_number, eb)))
            return err;
        if (have && memcmp(canon, ri->block_hash, 32) == 0) {
            *found = true;
            memcpy(hash, h, 32);
            return CA_OK;
        }
    }
    return CA_OK;
}

/* Whether the endpoint knows the transaction (pool or chain). */
static ca_err tx_known(ca_anchor_engine *e, const uint8_t hash[32], bool *known, ca_errbuf *eb)
{
    char h[67];
    hex0x(h, hash, 32);
    json_t *params = json_pack("[s]", h), *res = NULL;
    ca_err err = ca_rpc_call(&e->rpc, "eth_getTransactionByHash", params, &res, eb);
    json_decref(params);
    if (!err)
        *known = !json_is_null(res);
    json_decref(res);
    return err;
}

/* Step 3. */
static ca_err do_submitted(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    bool found;
    uint8_t hash[32];
    ca_rpc_receipt_info ri;
    ca_err err = find_receipt(e, rec, &found, hash, &ri, eb);
    if (err)
        return err;
    if (found) {
        rec->status = CA_ANCHOR_CONFIRMED;
        rec->has_tx = true;
        memcpy(rec->tx_hash, hash, 32);
        rec->in_block = true;
        rec->block_number = ri.block_number;
        memcpy(rec->block_hash, ri.block_hash, 32);
        if ((err = persist(e, rec, eb)))
            return err;
        info(e, "tree size %llu confirmed in block %llu%s", (unsigned long long)rec->tree_size,
             (unsigned long long)ri.block_number,
             ri.status == 1 ? "" : " (the transaction reverted; its calldata is on chain)");
        return CA_OK;
    }
    if (now_s() - rec->signed_at >= e->node->cfg.anchor_bump_after) {
        err = replace(e, rec, eb);
        if (err == CA_ERR_RANGE)
            persist(e, rec, NULL);
        return err;
    }
    bool known;
    if ((err = tx_known(e, rec->raw_hash, &known, eb)))
        return err;
    if (!known) {
        bool sent;
        err = broadcast(e, rec, &sent, eb);
        if (!err && sent) {
            char h[67];
            hex0x(h, rec->raw_hash, 32);
            info(e, "tree size %llu: the endpoint did not know tx %s; re-broadcast it",
                 (unsigned long long)rec->tree_size, h);
        }
    }
    return err;
}

/* Step 4. */
static ca_err do_confirmed(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    ca_rpc_receipt_info ri;
    ca_err err = ca_rpc_receipt(&e->rpc, &ri, rec->tx_hash, eb);
    if (err)
        return err;
    uint8_t canon[32];
    bool have = false;
    if (ri.found && (err = ca_rpc_block_hash(&e->rpc, canon, &have, ri.block_number, eb)))
        return err;
    if (!ri.found || !have || memcmp(canon, ri.block_hash, 32) != 0 ||
        ri.block_number != rec->block_number || memcmp(ri.block_hash, rec->block_hash, 32)) {
        if (ri.found && have && memcmp(canon, ri.block_hash, 32) == 0) {
            /* Re-included in another canonical block. */
            rec->block_number = ri.block_number;
            memcpy(rec->block_hash, ri.block_hash, 32);
            return persist(e, rec, eb);
        }
        /* The state is saved before it is logged, so whoever reads after the log line sees
         * the record as the line describes it. */
        uint64_t lost_block = rec->block_number;
        rec->status = CA_ANCHOR_SUBMITTED;
        rec->in_block = false;
        rec->block_number = 0;
        memset(rec->block_hash, 0, 32);
        rec->signed_at = now_s();
        if ((err = persist(e, rec, eb)))
            return err;
        /* A passed check of this transaction no longer holds (anchor_check.h memo). */
        ca_anchor_check_cache_forget(e->node->anchor_checks, rec->tx_hash);
        info(e, "tree size %llu: reorg: block %llu no longer holds the transaction; back to "
                "submitted, re-broadcasting", (unsigned long long)rec->tree_size,
             (unsigned long long)lost_block);
        bool sent;
        return broadcast(e, rec, &sent, eb);
    }
    uint64_t head;
    if ((err = ca_rpc_block_number(&e->rpc, &head, eb)))
        return err;
    if (head >= rec->block_number &&
        head - rec->block_number + 1 >= e->node->cfg.anchor_confirmations) {
        rec->status = CA_ANCHOR_FINAL;
        if ((err = persist(e, rec, eb)))
            return err;
        e->account_next = 0; /* its receipt's gasUsed and the new balance: check now */
        info(e, "tree size %llu final (%llu confirmations)", (unsigned long long)rec->tree_size,
             (unsigned long long)(head - rec->block_number + 1));
    }
    return CA_OK;
}

/* One pass; loops while the state advances (at most through every state once). */
/* What the stored records say about the chain: the most transactions the anchor account can
 * have sent (one per signed nonce), and the newest final record. */
typedef struct record_summary {
    bool any_signed;
    uint64_t max_nonce;
    bool have_final;
    uint64_t final_size;
    ca_hash final_root;
    ca_err err;
} record_summary;

static bool summary_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    record_summary *sum = arg;
    ca_anchor_record *rec = malloc(sizeof *rec);
    if (!rec || read_val(rec, v, NULL)) {
        sum->err = rec ? CA_ERR_STORE : CA_ERR_NOMEM;
        free(rec);
        return false;
    }
    if (rec->has_raw && (!sum->any_signed || rec->nonce > sum->max_nonce)) {
        sum->any_signed = true;
        sum->max_nonce = rec->nonce;
    }
    if (rec->status == CA_ANCHOR_FINAL) { /* keys ascend: the last final one wins */
        sum->have_final = true;
        sum->final_size = rec->tree_size;
        sum->final_root = rec->root;
    }
    free(rec);
    return true;
}

/* The start-up gate (see the top of this file). CA_OK: consistent. CA_ERR_INCONSISTENT with
 * the reason in eb: appends must stay held. Other errors: could not check yet. */
static ca_err check_against_chain(ca_anchor_engine *e, ca_errbuf *eb)
{
    record_summary sum = {.err = CA_OK};
    ca_store_txn *t;
    ca_err err = ca_store_begin(e->node->store, &t, false, eb);
    if (err)
        return err;
    err = ca_store_scan(t, CA_TABLE_ANCHORS, NULL, 0, summary_fn, &sum);
    ca_store_abort(t);
    if (err || sum.err)
        return ca_fail(eb, err ? err : sum.err, "cannot read the anchor records");
    if (sum.have_final) {
        ca_hash root;
        if (ca_log_size(e->node->log) < sum.final_size)
            return ca_fail(eb, CA_ERR_INCONSISTENT,
                           "the log has %llu leaves but size %llu is anchored on chain",
                           (unsigned long long)ca_log_size(e->node->log),
                           (unsigned long long)sum.final_size);
        if ((err = ca_log_root(e->node->log, &root, sum.final_size, eb)))
            return err;
        if (memcmp(root.b, sum.final_root.b, CA_HASH_SIZE) != 0)
            return ca_fail(eb, CA_ERR_INCONSISTENT,
                           "the log's root at anchored size %llu differs from the anchored root",
                           (unsigned long long)sum.final_size);
    }
    if ((err = check_chain(e, eb)))
        return err;
    uint64_t sent;
    if ((err = ca_rpc_nonce(&e->rpc, &sent, e->from, "latest", eb)))
        return err;
    uint64_t known = sum.any_signed ? sum.max_nonce + 1 : 0;
    if (sent > known) {
        char addr[43];
        ca_eth_address_hex(addr, e->from);
        return ca_fail(eb, CA_ERR_INCONSISTENT,
                       "the anchor account %s has sent %llu transactions on chain but this "
                       "store knows of %llu: it was restored from an older backup, or the "
                       "account is used by something else; appends stay refused until an "
                       "operator reconciles the store with the chain",
                       addr, (unsigned long long)sent, (unsigned long long)known);
    }
    return CA_OK;
}

/* Runs the gate until it passes; holds or releases the log's appends accordingly. */
static ca_err gate(ca_anchor_engine *e, ca_errbuf *eb)
{
    if (e->chain_checked)
        return CA_OK;
    ca_err err = check_against_chain(e, eb);
    if (!err) {
        e->chain_checked = true;
        atomic_store(&e->gate_passed, true);
        ca_log_release_appends(e->node->log);
        info(e, "the log is consistent with its anchors on chain; appends allowed");
        return CA_OK;
    }
    char reason[512];
    snprintf(reason, sizeof reason, "%s%s",
             err == CA_ERR_INCONSISTENT ? "" : "waiting to compare the log with its newest "
                                               "anchor on chain: ",
             ca_errmsg(eb, err));
    ca_log_hold_appends(e->node->log, reason);
    return err;
}

/* Runs rec through steps 2-4 until it is final or stops advancing (at most through every
 * state once). */
static ca_err advance(ca_anchor_engine *e, ca_anchor_record *rec, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    for (int i = 0; i < 4 && !err && rec->status != CA_ANCHOR_FINAL; i++) {
        ca_anchor_status before = rec->status;
        switch (rec->status) {
        case CA_ANCHOR_PENDING: err = do_pending(e, rec, eb); break;
        case CA_ANCHOR_SUBMITTED: err = do_submitted(e, rec, eb); break;
        case CA_ANCHOR_CONFIRMED: err = do_confirmed(e, rec, eb); break;
        case CA_ANCHOR_FINAL: break;
        }
        if (rec->status == before)
            break;
    }
    return err;
}

/* The height at or below which the chain no longer reorganises (SPEC §2): the "finalized"
 * block, or head - 64 on a chain without that tag (a JSON-RPC error or a null block).
 * *known false while the chain is shorter than that. Asked once per pass, and only when a
 * final record is still watched. */
static ca_err finalized_height(ca_anchor_engine *e, uint64_t *height, bool *known, ca_errbuf *eb)
{
    *known = false;
    bool found;
    e->rpc.last_rpc_error = false;
    ca_err err = ca_rpc_tagged_block_number(&e->rpc, height, &found, "finalized", eb);
    if (!err && found) {
        *known = true;
        return CA_OK;
    }
    if (err && !e->rpc.last_rpc_error)
        return err; /* the endpoint did not answer: try again on the next pass */
    uint64_t head;
    if ((err = ca_rpc_block_number(&e->rpc, &head, eb)))
        return err;
    if (head >= NO_FINALIZED_TAG_DEPTH) {
        *height = head - NO_FINALIZED_TAG_DEPTH;
        *known = true;
    }
    return CA_OK;
}

/* Step 5 for one final, unsettled record. fin_known and fin cache finalized_height for the
 * pass; fin_asked says whether it was asked yet. */
static ca_err watch_final(ca_anchor_engine *e, ca_anchor_record *rec, bool *fin_asked,
                          bool *fin_known, uint64_t *fin, ca_errbuf *eb)
{
    uint8_t canon[32];
    bool have;
    ca_err err = ca_rpc_block_hash(&e->rpc, canon, &have, rec->block_number, eb);
    if (err)
        return err;
    if (have && memcmp(canon, rec->block_hash, 32) == 0) {
        if (!*fin_asked) {
            if ((err = finalized_height(e, fin, fin_known, eb)))
                return err;
            *fin_asked = true;
        }
        if (!*fin_known || rec->block_number > *fin)
            return CA_OK; /* still within reach of a reorg: keep watching */
        rec->settled = true;
        if ((err = persist(e, rec, eb)))
            return err;
        info(e, "tree size %llu settled: block %llu is finalized; no longer watched",
             (unsigned long long)rec->tree_size, (unsigned long long)rec->block_number);
        return CA_OK;
    }
    /* The block that made it final is gone. Step 4 tells where the transaction is now: in
     * another canonical block (then final again once deep enough) or nowhere (back to
     * submitted, re-broadcast). The record keeps its key, so the checkpoint is never listed
     * twice. */
    info(e, "tree size %llu: reorg after finality: block %llu no longer holds the anchor; "
            "re-checking its transaction", (unsigned long long)rec->tree_size,
         (unsigned long long)rec->block_number);
    uint8_t final_block[32];
    memcpy(final_block, rec->block_hash, 32);
    rec->status = CA_ANCHOR_CONFIRMED;
    err = do_confirmed(e, rec, eb);
    if (!rec->in_block || memcmp(rec->block_hash, final_block, 32) != 0)
        atomic_fetch_add(&e->final_reorgs, 1); /* counted once the record changed */
    return err;
}

/* Collects up to WATCH_MAX records from e->watch_from up that are not settled. */
typedef struct watch_scan {
    ca_anchor_record *recs;
    size_t n;
    uint64_t last_size; /* the largest tree size seen */
    bool any;
    ca_err err;
} watch_scan;

static bool watch_scan_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    watch_scan *w = arg;
    ca_anchor_record *rec = &w->recs[w->n];
    if ((w->err = read_val(rec, v, NULL)))
        return false;
    w->any = true;
    w->last_size = rec->tree_size;
    if (rec->status == CA_ANCHOR_FINAL && rec->settled)
        return true;
    return ++w->n < WATCH_MAX;
}

/* Steps 2-5 for every record that is not settled, oldest first (a reorg can undo several
 * anchors, and their nonces must go out in order). *all_final: every record is final now;
 * *latest_status / *have_latest: the newest record looked at. */
static ca_err watch(ca_anchor_engine *e, bool *all_final, bool *have_latest,
                    ca_anchor_status *latest_status, ca_errbuf *eb)
{
    *all_final = true;
    *have_latest = false;
    watch_scan w = {.recs = malloc((WATCH_MAX + 1) * sizeof *w.recs)};
    if (!w.recs)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_txn *t;
    ca_err err = ca_store_begin(e->node->store, &t, false, eb);
    if (!err) {
        uint8_t k[8];
        ca_store_u64_key(k, e->watch_from);
        err = ca_store_scan(t, CA_TABLE_ANCHORS, k, 8, watch_scan_fn, &w);
        ca_store_abort(t);
        if (!err && w.err)
            err = ca_fail(eb, w.err, "anchors: a stored anchor record is malformed");
    }
    if (!err) /* everything below the first unsettled record is settled */
        e->watch_from = w.n ? w.recs[0].tree_size : w.any ? w.last_size + 1 : e->watch_from;
    bool fin_asked = false, fin_known = false;
    uint64_t fin = 0;
    for (size_t i = 0; !err && i < w.n; i++) {
        ca_anchor_record *rec = &w.recs[i];
        if (rec->status == CA_ANCHOR_FINAL)
            err = watch_final(e, rec, &fin_asked, &fin_known, &fin, eb);
        if (!err)
            err = advance(e, rec, eb);
        if (rec->status != CA_ANCHOR_FINAL)
            *all_final = false;
    }
    if (w.n) {
        *have_latest = true;
        *latest_status = w.recs[w.n - 1].status;
    }
    free(w.recs);
    return err;
}

/* One pass: the gate, then every unsettled record (watch), then a new anchor when asked for
 * or due and every record is final. */
static ca_err step(ca_anchor_engine *e, ca_anchor_status *status_out, bool *active,
                   ca_errbuf *eb)
{
    *active = false;
    ca_err err = gate(e, eb);
    if (err)
        return err; /* no new anchors either until the log agrees with the chain */
    bool all_final, watched;
    ca_anchor_status watched_status = CA_ANCHOR_FINAL;
    ca_anchor_record *rec = NULL;
    err = watch(e, &all_final, &watched, &watched_status, eb);
    *active = !all_final;
    if (err || !all_final)
        goto out;
    if (!(rec = malloc(sizeof *rec))) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    err = ca_anchor_latest(e->node->store, rec, eb);
    bool have = !err;
    if (err && err != CA_ERR_NOT_FOUND)
        goto out;
    err = CA_OK;
    pthread_mutex_lock(&e->mu);
    uint64_t now = now_s();
    bool want = e->requested;
    if (!want && e->node->cfg.anchor_interval > 0 && now >= e->next_auto)
        want = true;
    bool created = false;
    if (want && (!have || rec->status == CA_ANCHOR_FINAL)) {
        ca_anchor_record *prev = have ? malloc(sizeof *prev) : NULL;
        if (have && !prev) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        } else {
            if (prev)
                *prev = *rec;
            err = create_pending_locked(e, rec, prev, &created, eb);
            free(prev);
        }
        e->requested = false;
        if (e->node->cfg.anchor_interval > 0)
            e->next_auto = now + e->node->cfg.anchor_interval;
    }
    pthread_mutex_unlock(&e->mu);
    /* (the newest record can be outside watch()'s window when more than WATCH_MAX are
     * unsettled: drive it here too) */
    if (!err && (created || (have && rec->status != CA_ANCHOR_FINAL)))
        err = advance(e, rec, eb);
    if (created || have) {
        watched = true;
        watched_status = rec->status;
        *active = rec->status != CA_ANCHOR_FINAL;
    }
out:
    free(rec);
    if (watched && status_out)
        *status_out = watched_status;
    return err;
}

/* The account check (node/anchor_account.h) when due: every anchor.account_check_interval
 * seconds and after each final anchor; in this thread, never in a request handler. */
static void account_upkeep(ca_anchor_engine *e)
{
    uint64_t now = now_s();
    if (now < e->account_next)
        return;
    ca_anchor_account_check(&e->account, &e->rpc, e->node->store, &e->cancel);
    e->account_next = now_s() + e->node->cfg.anchor_account_check_interval;
}

static void *engine_main(void *arg)
{
    ca_anchor_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        pthread_mutex_unlock(&e->mu);
        ca_errbuf eb = {{0}};
        bool active = false;
        ca_err err = step(e, NULL, &active, &eb);
        if (!e->gate_tried) { /* the first gate attempt is over: start() may return */
            pthread_mutex_lock(&e->mu);
            e->gate_tried = true;
            pthread_cond_signal(&e->gate_cv);
            pthread_mutex_unlock(&e->mu);
        }
        if (atomic_load(&e->cancel)) { /* stopping: whatever failed was cut short on purpose */
            pthread_mutex_lock(&e->mu);
            break;
        }
        if (err)
            note(e, "%s", ca_errmsg(&eb, err));
        account_upkeep(e);
        unsigned ms = err ? (e->poll_ms > ERROR_RETRY_MS ? e->poll_ms : ERROR_RETRY_MS)
                          : active ? e->poll_ms : 1000u;
        pthread_mutex_lock(&e->mu);
        if (!e->stop && !e->wake) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (long)(ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
        e->wake = false;
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

ca_err ca_anchor_engine_create(ca_anchor_engine **out, const ca_anchor_engine_options *opts,
                               ca_errbuf *eb)
{
    *out = NULL;
    ca_node *node = opts->node;
    const ca_config *cfg = &node->cfg;
    if (!cfg->anchor_rpc_url[0])
        return ca_fail(eb, CA_ERR_CONFIG, "anchoring is disabled (anchor.rpc_url is empty)");
    ca_anchor_engine *e = calloc(1, sizeof *e);
    if (!e)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    e->node = node;
    e->poll_ms = opts->poll_ms ? opts->poll_ms : 500;
    ca_rpc_curl_defaults(&e->curl);
    e->curl.cancel = &e->cancel;
    ca_rpc_transport t = {ca_rpc_curl_post, &e->curl};
    ca_err err = ca_rpc_init(&e->rpc, cfg->anchor_rpc_url, opts->transport ? opts->transport : &t,
                             eb);
    e->rpc.cancel = &e->cancel;
    if (!err) {
        if (node->have_anchor_address) {
            memcpy(e->from, node->anchor_address, 20);
        } else {
            uint8_t secret[CA_SECP256K1_SECRET_SIZE];
            err = ca_node_anchor_secret(node, secret, eb);
            if (!err)
                err = ca_eth_address(e->from, secret);
            ca_wipe(secret, sizeof secret);
        }
    }
    if (!err) {
        const char *a = cfg->anchor_address;
        if (!a[0])
            memcpy(e->to, e->from, 20);
        else if (strlen(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') ||
                 ca_hex_decode(e->to, 20, a + 2, 40))
            err = ca_fail(eb, CA_ERR_CONFIG, "config: anchor.address: \"%s\" is not 0x + 40 hex",
                          a);
    }
    if (err) {
        free(e);
        return err;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_cond_init(&e->gate_cv, &ca);
    pthread_condattr_destroy(&ca);
    e->next_auto = now_s() + cfg->anchor_interval;
    ca_anchor_account_init(&e->account, e->from, cfg->anchor_chain_id,
                           cfg->anchor_low_funds_anchors, cfg->anchor_max_fee_gwei);
    *out = e;
    return CA_OK;
}

ca_err ca_anchor_engine_start(ca_anchor_engine *e, ca_errbuf *eb)
{
    CA_ASSERT(!e->started);
    /* Appends wait for the start-up gate, which the thread runs (and retries) so that a
     * stalled endpoint never holds up serving reads (issue #13 item 5). A reachable chain
     * answers well within STARTUP_GATE_WAIT_MS: appends are then open before the server
     * listens. */
    if (!e->chain_checked)
        ca_log_hold_appends(e->node->log, "waiting to compare the log with its newest anchor "
                                          "on chain");
    e->stop = false;
    atomic_store(&e->cancel, false);
    e->gate_tried = false;
    int rc = pthread_create(&e->thread, NULL, engine_main, e);
    if (rc)
        return ca_fail(eb, CA_ERR_NOMEM, "anchor engine: cannot start thread: %s", strerror(rc));
    e->started = true;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += STARTUP_GATE_WAIT_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&e->mu);
    while (!e->gate_tried && pthread_cond_timedwait(&e->gate_cv, &e->mu, &ts) == 0) {
    }
    pthread_mutex_unlock(&e->mu);
    return CA_OK;
}

void ca_anchor_engine_stop(ca_anchor_engine *e)
{
    if (!e || !e->started)
        return;
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    atomic_store(&e->cancel, true); /* cuts any RPC wait short (anchor/rpc.c) */
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    e->started = false;
}

void ca_anchor_engine_free(ca_anchor_engine *e)
{
    if (!e)
        return;
    ca_anchor_engine_stop(e);
    pthread_cond_destroy(&e->cv);
    pthread_cond_destroy(&e->gate_cv);
    pthread_mutex_destroy(&e->mu);
    ca_anchor_account_destroy(&e->account);
    free(e);
}

json_t *ca_anchor_engine_account_json(ca_anchor_engine *e)
{
    return ca_anchor_account_json(&e->account);
}

ca_err ca_anchor_engine_request(ca_anchor_engine *e, ca_anchor_record *rec, bool *accepted,
                                ca_errbuf *eb)
{
    *accepted = false;
    ca_anchor_record *latest = malloc(sizeof *latest);
    if (!latest)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&e->mu);
    ca_err err = ca_anchor_latest(e->node->store, latest, eb);
    bool have = !err;
    if (err == CA_ERR_NOT_FOUND)
        err = CA_OK;
    if (!err) {
        if (have && latest->status != CA_ANCHOR_FINAL) {
            /* In progress: answer it; anchor again afterwards if the log grew. */
            *rec = *latest;
            *accepted = true;
            e->requested = true;
        } else if (ca_log_size(e->node->log) == 0) {
            err = ca_fail(eb, CA_ERR_RANGE, "the log is empty: nothing to anchor");
        } else if (have && latest->tree_size >= ca_log_size(e->node->log)) {
            *rec = *latest;
        } else {
            bool created;
            err = create_pending_locked(e, rec, have ? latest : NULL, &created, eb);
            if (!err && !created)
                err = ca_fail(eb, CA_ERR_RANGE, "nothing to anchor");
            *accepted = !err;
        }
        e->wake = true;
        pthread_cond_signal(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    free(latest);
    return err;
}

ca_err ca_anchor_engine_step(ca_anchor_engine *e, ca_anchor_status *status, ca_errbuf *eb)
{
    CA_ASSERT(!e->started);
    bool active;
    return step(e, status, &active, eb);
}

static bool metrics_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    scan_ctx *c = arg;
    if (read_val(c->rec, v, NULL))
        return true;
    c->counts[c->rec->status]++;
    if (c->rec->status == CA_ANCHOR_FINAL && !c->rec->settled)
        c->final_watched++;
    if (c->rec->status == CA_ANCHOR_FINAL)
        c->last_final = c->rec->tree_size;
    else {
        *c->active = *c->rec;
        c->has_active = true;
    }
    return true;
}

void ca_anchor_engine_metrics(void *engine, FILE *f)
{
    ca_anchor_engine *e = engine;
    ca_anchor_record *rec = malloc(sizeof *rec), *active = malloc(sizeof *active);
    ca_store_txn *t = NULL;
    scan_ctx c = {.rec = rec, .active = active};
    if (rec && active && ca_store_begin(e->node->store, &t, false, NULL) == CA_OK) {
        ca_store_scan(t, CA_TABLE_ANCHORS, NULL, 0, metrics_fn, &c);
        ca_store_abort(t);
    }
    fputs("# HELP credanchor_anchors Anchor records by state.\n"
          "# TYPE credanchor_anchors gauge\n", f);
    for (int s = 0; s <= CA_ANCHOR_FINAL; s++)
        fprintf(f, "credanchor_anchors{state=\"%s\"} %llu\n",
                ca_anchor_status_name((ca_anchor_status)s), (unsigned long long)c.counts[s]);
    fprintf(f,
            "# HELP credanchor_anchor_final_watched Final anchors whose block is not finalized "
            "yet, still watched for reorgs.\n"
            "# TYPE credanchor_anchor_final_watched gauge\n"
            "credanchor_anchor_final_watched %llu\n"
            "# HELP credanchor_anchor_final_reorgs_total Final anchors a reorg sent back, "
            "since start.\n"
            "# TYPE credanchor_anchor_final_reorgs_total counter\n"
            "credanchor_anchor_final_reorgs_total %llu\n"
            "# HELP credanchor_anchor_gate_passed 1 once the log was found consistent with its "
            "anchors on chain (SPEC 1); appends are held before.\n"
            "# TYPE credanchor_anchor_gate_passed gauge\n"
            "credanchor_anchor_gate_passed %d\n",
            (unsigned long long)c.final_watched,
            (unsigned long long)atomic_load(&e->final_reorgs),
            atomic_load(&e->gate_passed) ? 1 : 0);
    uint64_t now = now_s();
    fprintf(f,
            "# HELP credanchor_anchor_last_final_tree_size Tree size of the newest final anchor.\n"
            "# TYPE credanchor_anchor_last_final_tree_size gauge\n"
            "credanchor_anchor_last_final_tree_size %llu\n"
            "# HELP credanchor_anchor_pending_age_seconds Age of the anchor in progress (0: none).\n"
            "# TYPE credanchor_anchor_pending_age_seconds gauge\n"
            "credanchor_anchor_pending_age_seconds %llu\n",
            (unsigned long long)c.last_final,
            (unsigned long long)(c.has_active && now > active->created_at
                                     ? now - active->created_at : 0));
    ca_anchor_account_metrics(&e->account, f);
    free(rec);
    free(active);
}
