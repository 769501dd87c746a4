/*
 * node/anchor_account.h — the anchoring account's funds and the chain's reachability
 * (issue #17: "a warning when the chain is unreachable or the anchor account is low on funds").
 *
 * The anchoring engine (node/anchor_engine.c) runs ca_anchor_account_check in its own thread
 * every anchor.account_check_interval seconds and after each anchor turns final; request
 * handlers only read the last result (ca_anchor_account_json, GET /v1/anchors/account), so a
 * slow or dead endpoint never holds a request. One check asks eth_chainId, eth_getBalance
 * ("latest"), the fee the engine would offer now (ca_rpc_fee_suggestion capped by
 * anchor.max_fee_gwei: the maxFeePerGas it signs with) and, once per newly confirmed anchor,
 * that anchor's receipt for gasUsed.
 *
 *   anchorsLeft = balance / (gasPerAnchor x gasPrice)          (integer division)
 *   gasPerAnchor = gasUsed of the newest confirmed anchor's receipt, else
 *                  CA_ANCHOR_GAS_DEFAULT (bench/anchor_gas.sh: 22,550-22,610 under EIP-7623)
 *   low = anchorsLeft < anchor.low_funds_anchors
 * gasPrice is the maximum the engine offers, so the estimate errs on the side of fewer
 * anchors (a block's base fee is usually under half that cap).
 *
 * Log lines ("credanchor anchor: warning: ..."): one when the account turns low, one when
 * the chain turns unreachable (with the reason, whose URL ca_rpc cuts to scheme://host:port,
 * so a provider key in the path is never logged); an info line when each recovers.
 * Thread-safety: one writer (the engine thread), any number of readers; a mutex guards the
 * result. Conventions: include/credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_ANCHOR_ACCOUNT_H
#define CREDANCHOR_NODE_ANCHOR_ACCOUNT_H

#include "credanchor/common.h"
#include "credanchor/rpc.h"
#include "node/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* Gas per anchor before any anchor's receipt is known: the highest figure bench/anchor_gas.sh
 * measured (1,000,000 entries: the EIP-7623 calldata floor of SPEC §2's 44 bytes). */
#define CA_ANCHOR_GAS_DEFAULT 22610u

typedef struct ca_anchor_account_state {
    bool checked;               /* a check has finished */
    bool reachable;             /* the last check got every answer, on the configured chain */
    uint64_t checked_at;        /* unix seconds of the last check */
    uint64_t chain_id;          /* eth_chainId's answer (0: none yet) */
    uint8_t balance[32];        /* wei, big-endian; from the last reachable check */
    uint8_t gas_price[32];      /* wei per gas, big-endian */
    bool have_funds;            /* balance and gas_price hold a reachable check's figures */
    uint64_t gas_per_anchor;
    uint64_t anchors_left;      /* saturating */
    bool low;
    char error[256];            /* why unreachable; empty when reachable */
} ca_anchor_account_state;

typedef struct ca_anchor_account {
    uint8_t address[20];
    uint64_t chain_id;          /* anchor.chain_id */
    uint64_t threshold;         /* anchor.low_funds_anchors */
    uint64_t max_fee_gwei;      /* anchor.max_fee_gwei */
    /* engine thread only */
    uint64_t receipt_size;      /* tree size whose receipt gave gas_used (0: none) */
    uint64_t gas_used;
    /* guarded by mu */
    pthread_mutex_t mu;
    ca_anchor_account_state s;
} ca_anchor_account;

/* Sets the account up (no network). */
void ca_anchor_account_init(ca_anchor_account *a, const uint8_t address[20], uint64_t chain_id,
                            uint64_t threshold, uint64_t max_fee_gwei);
void ca_anchor_account_destroy(ca_anchor_account *a);

/* One check over rpc (the engine's client; engine thread only). store gives the newest
 * anchor for its receipt (NULL: gas per anchor stays the default). When *cancel becomes true during the calls (the engine stops),
 * the result is dropped and nothing is logged. */
void ca_anchor_account_check(ca_anchor_account *a, ca_rpc *rpc, ca_store *store,
                             const atomic_bool *cancel);

/* balance / (gas x price), saturating at UINT64_MAX; a zero price or gas gives UINT64_MAX. */
uint64_t ca_anchor_account_estimate(const uint8_t balance[32], uint64_t gas,
                                    const uint8_t price[32]);

/* The last result as GET /v1/anchors/account's object (docs/openapi.yaml AnchorAccount):
 * {"configured":true,"address","chainId","reachable","checkedAt","balanceWei","gasPriceWei",
 *  "gasPerAnchor","anchorsLeft","low","threshold","error"}. New reference. */
struct json_t *ca_anchor_account_json(ca_anchor_account *a);

/* Prometheus gauges: reachable, balance (wei), anchors left, low. */
void ca_anchor_account_metrics(ca_anchor_account *a, FILE *f);

#endif
