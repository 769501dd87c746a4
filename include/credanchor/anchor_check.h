/*
 * On-chain check of an anchor record (SPEC §2, §3, §6 `verify-proof --rpc`): a verifier reads
 * the anchor transaction over plain JSON-RPC (no explorer) and checks that it exists, was sent
 * by the account the issuer lists (not merely the one the record claims), carries the SPEC §2
 * calldata for the proof's (size, root), is on the record's chain, succeeded, sits in the
 * canonical block the record names, and is deep enough. Conventions: common.h; JSON values
 * are jansson's json_t (borrowed here).
 */
#ifndef CREDANCHOR_ANCHOR_CHECK_H
#define CREDANCHOR_ANCHOR_CHECK_H

#include "credanchor/common.h"
#include "credanchor/crypto.h"
#include "credanchor/rpc.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An anchor record (SPEC §3), parsed strictly: exactly the fields chain ("eip155:<decimal>"),
 * txHash, blockNumber, blockHash, from, to (0x + lowercase hex of the exact length), status
 * ("pending", "submitted", "confirmed" or "final"), treeSize, rootHash (64 lowercase hex, no
 * 0x) and previous (null or {treeSize, rootHash, consistencyProof}). blockNumber and
 * blockHash may be null only while the record is pending or submitted. */
typedef struct ca_anchor_claim {
    uint64_t chain_id;
    uint8_t tx_hash[32];
    bool in_block;          /* blockNumber and blockHash are set */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t from[CA_ETH_ADDRESS_SIZE];
    uint8_t to[CA_ETH_ADDRESS_SIZE];
    char status[16];
    uint64_t tree_size;
    ca_hash root;
    bool has_previous;
    uint64_t previous_tree_size;
    ca_hash previous_root;
} ca_anchor_claim;

/* CA_ERR_INVALID with a sentence naming the field when the record is malformed. When
 * `previous` is present its consistency proof to (treeSize, rootHash) is checked too:
 * CA_ERR_VERIFY if it fails. */
ca_err ca_anchor_claim_parse(ca_anchor_claim *rec, const json_t *record, ca_errbuf *eb);

/* The anchor account a DID document lists for chain_id: the blockchainAccountId
 * "eip155:<chain_id>:0x<40 hex>" of a verificationMethod entry (hex of either case, as CAIP-10
 * allows checksummed addresses). CA_ERR_NOT_FOUND when none is listed for that chain,
 * CA_ERR_INVALID when several different accounts are, or one is malformed. */
ca_err ca_did_anchor_account(uint8_t addr[CA_ETH_ADDRESS_SIZE], const json_t *doc,
                             uint64_t chain_id, ca_errbuf *eb);

/* What an on-chain check established. */
typedef struct ca_anchor_report {
    ca_anchor_claim record;
    uint64_t head;          /* eth_blockNumber when checked */
    uint64_t confirmations; /* head - block + 1 */
    uint64_t gas_used;
} ca_anchor_report;

/* Checks `record` (an anchor record, e.g. a proof's "anchor") on chain through rpc for a proof
 * of (proof_tree_size, proof_root):
 *   1. the record parses (ca_anchor_claim_parse) and names the proof's size and root;
 *   2. eth_chainId equals the record's chain id;
 *   3. eth_getTransactionByHash(txHash) exists, is type 0x2 on that chain, its hash is
 *      txHash, its `to` is record.to, its input is exactly the 44-byte calldata for
 *      (treeSize, rootHash), and its `from` is expected_from, both as the node reports it and
 *      as recovered from the signature over the re-encoded transaction (whose keccak must be
 *      txHash); a record whose `from` differs from expected_from fails too;
 *   4. the receipt exists with status 1 in block record.blockNumber, and the canonical block
 *      at that height (eth_getBlockByNumber) has hash record.blockHash = the receipt's;
 *   5. confirmations = head - block + 1 >= min_confirmations.
 * A failed check is CA_ERR_VERIFY with a sentence naming it; a malformed record
 * CA_ERR_INVALID; a transport or JSON-RPC failure CA_ERR_NETWORK (or what rpc.h says). */
/* Confirmations a verifier asks for when nobody said (no --confirmations, no config): the
 * local development chains (31337 anvil/hardhat, 1337 ganache/geth --dev) mine on demand, so
 * 1; any other chain SPEC §2's default of 12. */
uint64_t ca_anchor_default_confirmations(uint64_t chain_id);
/* A confirmations setting meaning "ca_anchor_default_confirmations of the anchor's chain". */
#define CA_CONFIRMATIONS_BY_CHAIN UINT64_MAX

ca_err ca_anchor_check(ca_anchor_report *report, const json_t *record, uint64_t proof_tree_size,
                       const ca_hash *proof_root, const uint8_t expected_from[CA_ETH_ADDRESS_SIZE],
                       uint64_t min_confirmations, ca_rpc *rpc, ca_errbuf *eb);

/* ---- a memo of passed checks of final anchors ---------------------------------------------- */

/* The public GET /v1/credentials/{id}/verification would otherwise spend five JSON-RPC calls
 * (the issuer's paid provider) on every hit (issue #13 item 2). A final anchor's check does
 * not change while its transaction stays in its block, so a passed check is remembered:
 *   - key: (txHash, blockHash); an entry also holds everything else the check was about (the
 *     record's chain, blockNumber, from, to, treeSize, rootHash, previous, and the expected
 *     sender), and a lookup hits only when all of it is equal;
 *   - only records with status "final" are kept (a confirmed record is still moving);
 *   - a reorg: the engine rewrites the record (another blockHash, or none), so the proofs it
 *     builds afterwards miss by key; the engine also drops the entry when it sees the
 *     transaction leave its block (ca_anchor_check_cache_forget), so nothing stale stays;
 *   - at most CA_ANCHOR_CHECK_CACHE_MAX entries, the oldest replaced first.
 * Safe to use from many threads. A NULL cache is valid everywhere and remembers nothing. */
#define CA_ANCHOR_CHECK_CACHE_MAX 256

typedef struct ca_anchor_check_cache ca_anchor_check_cache; /* opaque */

ca_err ca_anchor_check_cache_create(ca_anchor_check_cache **cache, ca_errbuf *eb);
void ca_anchor_check_cache_free(ca_anchor_check_cache *cache);

/* True (and *report = the report of the passed check) when claim, checked against
 * expected_from, passed before and has not been forgotten. */
bool ca_anchor_check_cache_get(ca_anchor_check_cache *cache, ca_anchor_report *report,
                               const ca_anchor_claim *claim,
                               const uint8_t expected_from[CA_ETH_ADDRESS_SIZE]);

/* Remembers a check that passed (ca_anchor_check returned CA_OK with report) against
 * expected_from. Ignored unless report->record.status is "final". */
void ca_anchor_check_cache_put(ca_anchor_check_cache *cache, const ca_anchor_report *report,
                               const uint8_t expected_from[CA_ETH_ADDRESS_SIZE]);

/* Forgets every entry of this transaction: the anchoring engine calls it when a watched
 * record's transaction leaves the block it was in (a reorg, node/anchor_engine.c). */
void ca_anchor_check_cache_forget(ca_anchor_check_cache *cache, const uint8_t tx_hash[32]);

#ifdef __cplusplus
}
#endif
#endif
