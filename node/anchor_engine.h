/*
 * The anchoring engine (SPEC §2): commits checkpoints of the log to an EVM chain with
 * EIP-1559 transactions signed by the node's anchor key, and tracks each anchor through
 * pending -> submitted -> confirmed -> final, surviving restarts (all state in LMDB,
 * CA_TABLE_ANCHORS; the record layout is documented at the top of node/anchor_engine.c).
 *
 * Two layers:
 *  - record access (ca_anchor_get / _latest / _covering / _list_json / _record_json): plain
 *    store reads, usable from any thread and without an engine (proofs, health, routes);
 *  - the engine (ca_anchor_engine_*): one thread, woken by a condition variable, that owns
 *    its own JSON-RPC client and is the only writer of anchor records (creation on request
 *    is serialised with it by the engine's mutex).
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_ANCHOR_H
#define CREDANCHOR_ANCHOR_H

#include "credanchor/common.h"
#include "credanchor/merkle.h"
#include "node/node.h"
#include "credanchor/rpc.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wei amounts (fees, balances) in 128 bits, for the engine and the account check
 * (node/anchor_account.c): JSON-RPC quantities arrive as 32-byte big-endian numbers. */
typedef unsigned __int128 ca_u128;
/* A 32-byte big-endian number as ca_u128, saturating at its maximum (2^128 wei is 3.4e20
 * ETH: never a real balance or fee). */
ca_u128 ca_u256_to_u128(const uint8_t be[32]);
void ca_u128_to_u256(uint8_t be[32], ca_u128 v);

typedef enum ca_anchor_status {
    CA_ANCHOR_PENDING = 0,   /* checkpoint chosen, no transaction broadcast yet */
    CA_ANCHOR_SUBMITTED = 1, /* transaction broadcast, not (or no longer) in a block */
    CA_ANCHOR_CONFIRMED = 2, /* in a canonical block */
    CA_ANCHOR_FINAL = 3,     /* head - block + 1 >= anchor.confirmations; watched until its
                              * block is finalized (`settled`): a reorg before that sends it
                              * back to submitted (SPEC §2) */
} ca_anchor_status;

/* "pending", "submitted", "confirmed", "final". */
const char *ca_anchor_status_name(ca_anchor_status s);

#define CA_ANCHOR_RAW_MAX 512    /* a signed anchor transaction is about 160 bytes */
#define CA_ANCHOR_MAX_HASHES 16  /* earlier transaction hashes kept after fee bumps */

/* One anchor record: the SPEC §3 public fields, then internal ones. */
typedef struct ca_anchor_record {
    /* public (SPEC §3) */
    uint64_t chain_id;
    ca_anchor_status status;
    uint64_t tree_size;
    ca_hash root;
    uint8_t from[CA_ETH_ADDRESS_SIZE];
    uint8_t to[CA_ETH_ADDRESS_SIZE];
    bool has_tx;                /* tx_hash valid: status >= submitted */
    uint8_t tx_hash[32];
    bool in_block;              /* block_number/block_hash valid: status >= confirmed */
    uint64_t block_number;
    uint8_t block_hash[32];
    bool has_previous;          /* false for the first anchor */
    uint64_t prev_size;
    ca_hash prev_root;
    ca_hash consistency[CA_MERKLE_MAX_PROOF];
    size_t consistency_len;
    /* internal */
    bool has_raw;               /* a signed transaction exists (persisted before sending) */
    uint64_t nonce;
    uint8_t max_fee[32];        /* maxFeePerGas, wei */
    uint8_t max_priority_fee[32];
    uint64_t gas_limit;
    uint8_t raw[CA_ANCHOR_RAW_MAX];
    size_t raw_len;
    uint8_t raw_hash[32];       /* keccak256(raw) */
    uint8_t old_hashes[CA_ANCHOR_MAX_HASHES][32]; /* replaced transactions at the same nonce */
    size_t n_old;
    uint64_t created_at;        /* unix seconds */
    uint64_t signed_at;         /* last (re)signing, for the stuck-transaction timer */
    uint64_t updated_at;
    bool settled;               /* final, and its block is at or below the chain's finalized
                                 * block (or 64 deep): no longer watched for reorgs */
} ca_anchor_record;

/* ---- records (any thread) ---- */

/* The record for exactly tree_size. CA_ERR_NOT_FOUND when none. */
ca_err ca_anchor_get(ca_store *store, ca_anchor_record *rec, uint64_t tree_size, ca_errbuf *eb);
/* The record with the largest tree size. CA_ERR_NOT_FOUND when none. */
ca_err ca_anchor_latest(ca_store *store, ca_anchor_record *rec, ca_errbuf *eb);
/* The smallest confirmed or final anchor whose tree size is > leaf_index (it contains the
 * leaf). CA_ERR_NOT_FOUND when none. */
ca_err ca_anchor_covering(ca_store *store, ca_anchor_record *rec, uint64_t leaf_index,
                          ca_errbuf *eb);
/* The SPEC §3 public object of a record (exactly the public fields). New reference. */
json_t *ca_anchor_record_json(const ca_anchor_record *rec);
/* {"anchors":[...]} of the records with tree size > after, ascending; malloc'd text. */
ca_err ca_anchor_list_json(ca_store *store, char **json, uint64_t after, ca_errbuf *eb);

/* Record (de)serialisation as stored (exposed for unit tests). */
ca_err ca_anchor_record_encode(char **text, const ca_anchor_record *rec, ca_errbuf *eb);
ca_err ca_anchor_record_decode(ca_anchor_record *rec, const char *text, size_t len,
                               ca_errbuf *eb);

/* ---- the engine ---- */

typedef struct ca_anchor_engine ca_anchor_engine; /* opaque */

typedef struct ca_anchor_engine_options {
    ca_node *node;                        /* borrowed; opened with CA_NODE_WRITE */
    const ca_rpc_transport *transport;    /* NULL: libcurl (ca_rpc_curl_post) */
    unsigned poll_ms;                     /* re-check period while an anchor is active; 0=500 */
} ca_anchor_engine_options;

/* Creates the engine (reads node->cfg.anchor_*; CA_ERR_CONFIG when anchor.rpc_url is empty
 * or anchor.address is malformed). No thread yet. */
ca_err ca_anchor_engine_create(ca_anchor_engine **e, const ca_anchor_engine_options *opts,
                               ca_errbuf *eb);
/* Starts the engine thread, which resumes any unfinished anchor found in the store. */
ca_err ca_anchor_engine_start(ca_anchor_engine *e, ca_errbuf *eb);
/* Stops and joins the thread (if started); the state stays in the store. */
void ca_anchor_engine_stop(ca_anchor_engine *e);
/* Stops and frees. NULL is fine. */
void ca_anchor_engine_free(ca_anchor_engine *e);

/* Anchor the latest checkpoint now (POST /v1/anchors). Creates the pending record when no
 * anchor is in progress and the log grew past the last anchor, and wakes the engine.
 * *rec gets the record in progress (*accepted = true) or, when the latest checkpoint is
 * already anchored, that anchor (*accepted = false). CA_ERR_RANGE for an empty log. */
ca_err ca_anchor_engine_request(ca_anchor_engine *e, ca_anchor_record *rec, bool *accepted,
                                ca_errbuf *eb);

/* Runs one pass of the state machine in the calling thread (`credanchor anchor`, tests);
 * not while the thread runs. *status gets the status of the newest record afterwards. */
ca_err ca_anchor_engine_step(ca_anchor_engine *e, ca_anchor_status *status, ca_errbuf *eb);

/* The anchor account's last funds and reachability check as GET /v1/anchors/account's object
 * (node/anchor_account.h; the engine thread runs the checks). New reference. */
json_t *ca_anchor_engine_account_json(ca_anchor_engine *e);

/* Prometheus lines (anchors by state, final ones still watched, reorgs that undid a final
 * anchor, last anchored size, pending age, whether the start-up gate passed, and the anchor
 * account's balance, anchors left and reachability); a metrics hook. */
void ca_anchor_engine_metrics(void *engine, FILE *f);

/* Registers GET /v1/anchors, GET /v1/anchors/latest and POST /v1/anchors (node/routes_anchor.c)
 * and, with an engine, its metrics hook. engine NULL (anchoring disabled): POST answers 503. */
struct ca_http_server;
ca_err ca_anchor_routes_register(struct ca_http_server *srv, ca_anchor_engine *engine,
                                 ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
