/* anchor/anchor_check.c — a verifier's on-chain check of an anchor record (SPEC §2, §3, §6
 * `verify-proof --rpc`, issue 5): plain JSON-RPC, no explorer, nothing trusted from the record
 * that the chain can confirm instead. The `from` a verifier trusts is the account the issuer
 * lists (the caller passes it), never the record's own claim; and it is re-derived from the
 * transaction's signature, whose re-encoding must hash to txHash, so an endpoint cannot pass
 * off another sender's transaction under that hash. */
#include "credanchor/anchor_check.h"

#include "credanchor/encoding.h"
#include "credanchor/eth.h"
#include "credanchor/json_fields.h"
#include "credanchor/merkle.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strict record parsing (SPEC §0: 0x-prefixed lowercase hex; log hashes without 0x) ---- */

static ca_err rec_eth_hex(uint8_t *out, size_t n, const json_t *o, const char *field,
                          ca_errbuf *eb)
{
    const json_t *v = json_object_get(o, field);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!json_is_string(v) || len != 2 + 2 * n || s[0] != '0' || s[1] != 'x' ||
        !ca_hex_is_lower(s + 2, 2 * n) || ca_hex_decode(out, n, s + 2, 2 * n))
        return ca_fail(eb, CA_ERR_INVALID,
                       "anchor: \"%s\" must be 0x and %zu lowercase hex characters", field,
                       2 * n);
    return CA_OK;
}

static ca_err rec_log_hash(ca_hash *out, const json_t *v, const char *field, ca_errbuf *eb)
{
    const char *s = json_string_value(v);
    if (!json_is_string(v) || json_string_length(v) != 2 * CA_HASH_SIZE ||
        !ca_hex_is_lower(s, 2 * CA_HASH_SIZE) || ca_hash_from_hex(out, s, 2 * CA_HASH_SIZE))
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"%s\" must be 64 lowercase hex characters",
                       field);
    return CA_OK;
}

static ca_err rec_u64(uint64_t *out, const json_t *v, const char *field, ca_errbuf *eb)
{
    if (!ca_json_u64_value(out, v))
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"%s\" must be a non-negative integer",
                       field);
    return CA_OK;
}

/* "eip155:<decimal chain id>", no sign, no leading zero, fits in 63 bits. */
static bool parse_chain(uint64_t *id, const char *s, size_t len)
{
    if (len < 8 || len > 7 + 19 || strncmp(s, "eip155:", 7) != 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 7; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || (i == 7 && s[i] == '0' && len > 8))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0 || v > (uint64_t)INT64_MAX)
        return false;
    *id = v;
    return true;
}

static const char *const RECORD_FIELDS[] = {"chain", "txHash", "blockNumber", "blockHash",
                                             "from", "to", "status", "treeSize", "rootHash",
                                             "previous"};

ca_err ca_anchor_claim_parse(ca_anchor_claim *rec, const json_t *o, ca_errbuf *eb)
{
    memset(rec, 0, sizeof *rec);
    if (!json_is_object(o))
        return ca_fail(eb, CA_ERR_INVALID, "anchor: the record must be a JSON object");
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        bool known = false;
        for (size_t i = 0; i < sizeof RECORD_FIELDS / sizeof *RECORD_FIELDS; i++)
            known |= strcmp(key, RECORD_FIELDS[i]) == 0;
        if (!known)
            return ca_fail(eb, CA_ERR_INVALID, "anchor: unknown field \"%.64s\"", key);
    }
    for (size_t i = 0; i < sizeof RECORD_FIELDS / sizeof *RECORD_FIELDS; i++)
        if (!json_object_get(o, RECORD_FIELDS[i]))
            return ca_fail(eb, CA_ERR_INVALID, "anchor: missing field \"%s\"", RECORD_FIELDS[i]);

    const json_t *chain = json_object_get(o, "chain"), *status = json_object_get(o, "status");
    if (!json_is_string(chain) ||
        !parse_chain(&rec->chain_id, json_string_value(chain), json_string_length(chain)))
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"chain\" must be \"eip155:<chain id>\"");
    const char *st = json_string_value(status);
    if (!st || (strcmp(st, "pending") && strcmp(st, "submitted") && strcmp(st, "confirmed") &&
                strcmp(st, "final")))
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"status\" must be pending, submitted, "
                                           "confirmed or final");
    snprintf(rec->status, sizeof rec->status, "%s", st);
    ca_err err;
    if ((err = rec_eth_hex(rec->tx_hash, 32, o, "txHash", eb)) ||
        (err = rec_eth_hex(rec->from, CA_ETH_ADDRESS_SIZE, o, "from", eb)) ||
        (err = rec_eth_hex(rec->to, CA_ETH_ADDRESS_SIZE, o, "to", eb)) ||
        (err = rec_u64(&rec->tree_size, json_object_get(o, "treeSize"), "treeSize", eb)) ||
        (err = rec_log_hash(&rec->root, json_object_get(o, "rootHash"), "rootHash", eb)))
        return err;
    if (rec->tree_size == 0)
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"treeSize\" must be at least 1");
    const json_t *bn = json_object_get(o, "blockNumber"), *bh = json_object_get(o, "blockHash");
    if (json_is_null(bn) != json_is_null(bh))
        return ca_fail(eb, CA_ERR_INVALID,
                       "anchor: \"blockNumber\" and \"blockHash\" must both be set or both null");
    rec->in_block = !json_is_null(bn);
    if (rec->in_block) {
        if ((err = rec_u64(&rec->block_number, bn, "blockNumber", eb)) ||
            (err = rec_eth_hex(rec->block_hash, 32, o, "blockHash", eb)))
            return err;
    } else if (!strcmp(st, "confirmed") || !strcmp(st, "final")) {
        return ca_fail(eb, CA_ERR_INVALID, "anchor: a %s record must name its block", st);
    }

    const json_t *prev = json_object_get(o, "previous");
    if (json_is_null(prev))
        return CA_OK;
    if (!json_is_object(prev) || json_object_size(prev) != 3)
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"previous\" must be null or exactly "
                                           "{treeSize, rootHash, consistencyProof}");
    const json_t *arr = json_object_get(prev, "consistencyProof");
    if ((err = rec_u64(&rec->previous_tree_size, json_object_get(prev, "treeSize"),
                       "previous.treeSize", eb)) ||
        (err = rec_log_hash(&rec->previous_root, json_object_get(prev, "rootHash"),
                            "previous.rootHash", eb)))
        return err;
    if (!json_is_array(arr) || json_array_size(arr) > CA_MERKLE_MAX_PROOF)
        return ca_fail(eb, CA_ERR_INVALID, "anchor: \"previous.consistencyProof\" must be an "
                                           "array of at most %d hashes", CA_MERKLE_MAX_PROOF);
    if (rec->previous_tree_size == 0 || rec->previous_tree_size >= rec->tree_size)
        return ca_fail(eb, CA_ERR_INVALID, "anchor: previous.treeSize %" PRIu64
                       " must be between 1 and treeSize - 1", rec->previous_tree_size);
    ca_hash path[CA_MERKLE_MAX_PROOF];
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++)
        if ((err = rec_log_hash(&path[i], json_array_get(arr, i), "previous.consistencyProof[]",
                                eb)))
            return err;
    rec->has_previous = true;
    if (ca_merkle_consistency_verify(rec->previous_tree_size, rec->tree_size,
                                     &rec->previous_root, &rec->root, path, n))
        return ca_fail(eb, CA_ERR_VERIFY, "anchor: the consistency proof from the previous "
                       "anchor (size %" PRIu64 ") to size %" PRIu64 " does not verify",
                       rec->previous_tree_size, rec->tree_size);
    return CA_OK;
}

/* ---- DID document ---------------------------------------------------------------------------- */

ca_err ca_did_anchor_account(uint8_t addr[CA_ETH_ADDRESS_SIZE], const json_t *doc,
                             uint64_t chain_id, ca_errbuf *eb)
{
    char prefix[40];
    int plen = snprintf(prefix, sizeof prefix, "eip155:%" PRIu64 ":", chain_id);
    const json_t *vms = json_object_get(doc, "verificationMethod");
    bool found = false;
    for (size_t i = 0; json_is_array(vms) && i < json_array_size(vms); i++) {
        const json_t *id = json_object_get(json_array_get(vms, i), "blockchainAccountId");
        const char *s = json_string_value(id);
        if (!s || strncmp(s, prefix, (size_t)plen) != 0)
            continue;
        const char *a = s + plen;
        uint8_t got[CA_ETH_ADDRESS_SIZE];
        if (strlen(a) != 42 || a[0] != '0' || a[1] != 'x' ||
            ca_hex_decode(got, sizeof got, a + 2, 40))
            return ca_fail(eb, CA_ERR_INVALID, "DID document: blockchainAccountId \"%.120s\" "
                                               "is not eip155:<chain>:0x<40 hex>", s);
        if (found && memcmp(got, addr, sizeof got) != 0)
            return ca_fail(eb, CA_ERR_INVALID, "DID document lists several anchor accounts for "
                           "eip155:%" PRIu64 "; name one with --anchor-address", chain_id);
        memcpy(addr, got, sizeof got);
        found = true;
    }
    if (!found)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "the DID document lists no blockchainAccountId "
                       "for eip155:%" PRIu64, chain_id);
    return CA_OK;
}

/* ---- the on-chain check ---------------------------------------------------------------------- */

/* A JSON-RPC answer of the wrong shape is the endpoint's fault, not a failed check. */
static ca_err rpc_fault(ca_err err)
{
    return err == CA_ERR_INVALID ? CA_ERR_NETWORK : err;
}

static ca_err tx_str(const char **out, const json_t *tx, const char *field, ca_errbuf *eb)
{
    *out = json_string_value(json_object_get(tx, field));
    if (!*out)
        return ca_fail(eb, CA_ERR_NETWORK, "eth_getTransactionByHash: the answer lacks \"%s\"",
                       field);
    return CA_OK;
}

static ca_err tx_u64(uint64_t *out, const json_t *tx, const char *field, ca_errbuf *eb)
{
    const char *s;
    ca_err err = tx_str(&s, tx, field, eb);
    if (!err && ca_rpc_parse_u64(out, s, NULL))
        err = ca_fail(eb, CA_ERR_NETWORK, "eth_getTransactionByHash: \"%s\" is not a quantity",
                      field);
    return err;
}

static ca_err tx_u256(uint8_t out[32], const json_t *tx, const char *field, ca_errbuf *eb)
{
    const char *s;
    ca_err err = tx_str(&s, tx, field, eb);
    if (!err && ca_rpc_parse_u256(out, s, NULL))
        err = ca_fail(eb, CA_ERR_NETWORK, "eth_getTransactionByHash: \"%s\" is not a quantity",
                      field);
    return err;
}

static ca_err tx_data(uint8_t *out, size_t n, const json_t *tx, const char *field,
                      ca_errbuf *eb)
{
    const char *s;
    ca_err err = tx_str(&s, tx, field, eb);
    if (!err && ca_rpc_parse_data(out, n, s, NULL))
        err = ca_fail(eb, CA_ERR_NETWORK, "eth_getTransactionByHash: \"%s\" is not %zu bytes "
                      "of data", field, n);
    return err;
}

static void addr_text(char out[43], const uint8_t a[CA_ETH_ADDRESS_SIZE])
{
    ca_eth_address_hex(out, a);
}

/* The transaction's hash, type, chain, sender (as the endpoint reports it) and recipient
 * (into t->to) are the record's. */
static ca_err check_tx_fields(const ca_anchor_claim *rec, const uint8_t expected_from[20],
                              const json_t *tx, const char *hash_hex, ca_eth_tx *t,
                              ca_errbuf *eb)
{
    ca_err err;
    char want[43], got_text[43];
    uint8_t got[CA_ETH_ADDRESS_SIZE], h[32];
    const char *type;
    if ((err = tx_data(h, 32, tx, "hash", eb)))
        return err;
    if (memcmp(h, rec->tx_hash, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the endpoint answered another transaction for %s",
                       hash_hex);
    if ((err = tx_str(&type, tx, "type", eb)))
        return err;
    if (strcmp(type, "0x2") != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction is of type %.16s, not an "
                                          "EIP-1559 (0x2) transaction", type);
    if ((err = tx_u64(&t->chain_id, tx, "chainId", eb)))
        return err;
    if (t->chain_id != rec->chain_id)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction is signed for chain %" PRIu64
                       ", not eip155:%" PRIu64, t->chain_id, rec->chain_id);
    addr_text(want, expected_from);
    if ((err = tx_data(got, sizeof got, tx, "from", eb)))
        return err;
    if (memcmp(got, expected_from, sizeof got) != 0) {
        addr_text(got_text, got);
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction was sent by %s, not by the "
                       "issuer's anchor account %s", got_text, want);
    }
    if (json_is_null(json_object_get(tx, "to")))
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction creates a contract; it must "
                                          "be sent to the anchor address");
    if ((err = tx_data(t->to, sizeof t->to, tx, "to", eb)))
        return err;
    if (memcmp(t->to, rec->to, sizeof t->to) != 0) {
        addr_text(got_text, t->to);
        addr_text(want, rec->to);
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction goes to %s, not to %s as the "
                       "record says", got_text, want);
    }
    return CA_OK;
}

/* The transaction's input is the SPEC anchor calldata of the record's tree size and root. */
static ca_err check_tx_calldata(const ca_anchor_claim *rec, const json_t *tx,
                                uint8_t data[CA_ANCHOR_CALLDATA_SIZE], ca_errbuf *eb)
{
    ca_err err;
    const char *input;
    uint8_t expect_data[CA_ANCHOR_CALLDATA_SIZE];
    if ((err = tx_str(&input, tx, "input", eb)))
        return err;
    size_t ilen = strlen(input);
    if (ilen != 2 + 2 * CA_ANCHOR_CALLDATA_SIZE ||
        ca_rpc_parse_data(data, CA_ANCHOR_CALLDATA_SIZE, input, NULL))
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction's calldata is %zu bytes, not "
                       "the %d-byte SPEC anchor calldata", ilen >= 2 ? (ilen - 2) / 2 : 0,
                       CA_ANCHOR_CALLDATA_SIZE);
    ca_anchor_calldata(expect_data, rec->tree_size, &rec->root);
    if (memcmp(data, expect_data, CA_ANCHOR_CALLDATA_SIZE) != 0) {
        uint64_t size;
        ca_hash root;
        if (ca_anchor_calldata_parse(&size, &root, data, CA_ANCHOR_CALLDATA_SIZE))
            return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction's calldata is not CAv1 "
                                              "anchor data");
        if (size != rec->tree_size)
            return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction commits tree size %"
                           PRIu64 ", not %" PRIu64, size, rec->tree_size);
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction commits another root for "
                       "tree size %" PRIu64, size);
    }
    return CA_OK;
}

/* Re-derive the sender from the signature over the re-encoded transaction, and check the
 * encoding hashes to txHash: the endpoint's "from" alone is only its word. t holds the
 * chain, recipient and calldata already checked. */
static ca_err check_tx_signature(const ca_anchor_claim *rec, const uint8_t expected_from[20],
                                 const json_t *tx, const char *hash_hex, ca_eth_tx *t,
                                 ca_errbuf *eb)
{
    ca_err err;
    char want[43], got_text[43];
    uint8_t got[CA_ETH_ADDRESS_SIZE];
    uint64_t parity;
    ca_eth_sig sig = {0};
    const json_t *al = json_object_get(tx, "accessList");
    if (al && !(json_is_array(al) && json_array_size(al) == 0))
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction has an access list; anchor "
                                          "transactions have none");
    if ((err = tx_u64(&t->nonce, tx, "nonce", eb)) ||
        (err = tx_u256(t->max_priority_fee_per_gas, tx, "maxPriorityFeePerGas", eb)) ||
        (err = tx_u256(t->max_fee_per_gas, tx, "maxFeePerGas", eb)) ||
        (err = tx_u64(&t->gas_limit, tx, "gas", eb)) ||
        (err = tx_u256(t->value, tx, "value", eb)) ||
        (err = tx_u256(sig.r, tx, "r", eb)) || (err = tx_u256(sig.s, tx, "s", eb)) ||
        (err = tx_u64(&parity, tx, json_object_get(tx, "yParity") ? "yParity" : "v", eb)))
        return err;
    if (parity > 1)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction's signature has y parity %"
                       PRIu64, parity);
    sig.y_parity = (uint8_t)parity;
    uint8_t *raw = malloc(CA_ETH_TX_MAX_SIZE);
    size_t raw_len = CA_ETH_TX_MAX_SIZE;
    ca_hash rehash;
    if (!raw)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    err = ca_eth_tx_encode_signed(raw, &raw_len, &rehash, t, &sig, eb);
    free(raw);
    if (err)
        return err;
    if (memcmp(rehash.b, rec->tx_hash, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the transaction the endpoint reports does not "
                                          "hash to %s", hash_hex);
    if ((err = ca_eth_tx_recover(got, t, &sig, eb)))
        return err;
    if (memcmp(got, expected_from, sizeof got) != 0) {
        addr_text(got_text, got);
        addr_text(want, expected_from);
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction's signature recovers to %s, "
                       "not to the issuer's anchor account %s", got_text, want);
    }
    return CA_OK;
}

/* A record that is in a block names the transaction's block (number and hash). */
static ca_err check_tx_block(const ca_anchor_claim *rec, const json_t *tx, ca_errbuf *eb)
{
    ca_err err;
    uint64_t bn;
    uint8_t bh[32];
    if (!rec->in_block)
        return CA_OK;
    if (json_is_null(json_object_get(tx, "blockNumber")))
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction is not in a block yet");
    if ((err = tx_u64(&bn, tx, "blockNumber", eb)) ||
        (err = tx_data(bh, 32, tx, "blockHash", eb)))
        return err;
    if (bn != rec->block_number || memcmp(bh, rec->block_hash, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction is in block %" PRIu64
                       " with another hash than the record's block %" PRIu64,
                       bn, rec->block_number);
    return CA_OK;
}

/* Step 3: the transaction itself. */
static ca_err check_tx(const ca_anchor_claim *rec, const uint8_t expected_from[20],
                       ca_rpc *rpc, ca_errbuf *eb)
{
    char hash_hex[67] = "0x";
    ca_hex_encode(hash_hex + 2, rec->tx_hash, 32);
    json_t *params = json_pack("[s]", hash_hex), *tx = NULL;
    if (!params)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_rpc_call(rpc, "eth_getTransactionByHash", params, &tx, eb);
    json_decref(params);
    if (err)
        return rpc_fault(err);
    uint8_t data[CA_ANCHOR_CALLDATA_SIZE];
    ca_eth_tx t = {0};
    if (json_is_null(tx)) {
        err = ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction %s does not exist on "
                      "eip155:%" PRIu64, hash_hex, rec->chain_id);
        goto out;
    }
    if (!json_is_object(tx)) {
        err = ca_fail(eb, CA_ERR_NETWORK, "eth_getTransactionByHash: the answer is not an "
                                          "object");
        goto out;
    }
    if ((err = check_tx_fields(rec, expected_from, tx, hash_hex, &t, eb)) ||
        (err = check_tx_calldata(rec, tx, data, eb)))
        goto out;
    t.data = data;
    t.data_len = sizeof data;
    if (!(err = check_tx_signature(rec, expected_from, tx, hash_hex, &t, eb)))
        err = check_tx_block(rec, tx, eb);
out:
    json_decref(tx);
    return err;
}

uint64_t ca_anchor_default_confirmations(uint64_t chain_id)
{
    return chain_id == 31337 || chain_id == 1337 ? 1 : 12;
}

ca_err ca_anchor_check(ca_anchor_report *rep, const json_t *record, uint64_t proof_tree_size,
                       const ca_hash *proof_root, const uint8_t expected_from[20],
                       uint64_t min_confirmations, ca_rpc *rpc, ca_errbuf *eb)
{
    memset(rep, 0, sizeof *rep);
    ca_anchor_claim *rec = &rep->record;
    ca_err err = ca_anchor_claim_parse(rec, record, eb);
    if (err)
        return err;
    char want[43], claimed[43];
    addr_text(want, expected_from);
    if (memcmp(rec->from, expected_from, CA_ETH_ADDRESS_SIZE) != 0) {
        addr_text(claimed, rec->from);
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor record claims sender %s, but the "
                       "issuer's anchor account is %s", claimed, want);
    }
    /* SPEC §3: a proof carries the anchor of its own size, so the anchored checkpoint is the
     * proof's checkpoint. */
    if (rec->tree_size != proof_tree_size)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor is for tree size %" PRIu64 ", but the "
                       "proof is for size %" PRIu64, rec->tree_size, proof_tree_size);
    if (memcmp(rec->root.b, proof_root->b, CA_HASH_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor's rootHash is not the proof's rootHash");
    if (!rec->in_block)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor is still %s: not in a block yet",
                       rec->status);

    uint64_t chain_id;
    if ((err = ca_rpc_chain_id(rpc, &chain_id, eb)))
        return rpc_fault(err);
    if (chain_id != rec->chain_id)
        return ca_fail(eb, CA_ERR_VERIFY, "the RPC endpoint is on chain %" PRIu64 ", but the "
                       "anchor is on eip155:%" PRIu64, chain_id, rec->chain_id);

    if ((err = check_tx(rec, expected_from, rpc, eb)))
        return err;

    ca_rpc_receipt_info r;
    if ((err = ca_rpc_receipt(rpc, &r, rec->tx_hash, eb)))
        return rpc_fault(err);
    if (!r.found)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction has no receipt: not mined");
    if (r.status != 1)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction failed (receipt status %d)",
                       r.status);
    if (r.block_number != rec->block_number || memcmp(r.block_hash, rec->block_hash, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the receipt puts the anchor transaction in block %"
                       PRIu64 ", not in the record's block %" PRIu64 " with its hash",
                       r.block_number, rec->block_number);
    if (memcmp(r.from, expected_from, CA_ETH_ADDRESS_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the receipt names another sender than %s", want);
    rep->gas_used = r.gas_used;

    uint8_t canon[32];
    bool found;
    if ((err = ca_rpc_block_hash(rpc, canon, &found, rec->block_number, eb)))
        return rpc_fault(err);
    if (!found || memcmp(canon, rec->block_hash, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "block %" PRIu64 " of the canonical chain is not the "
                       "record's block (reorganised away?)", rec->block_number);

    if ((err = ca_rpc_block_number(rpc, &rep->head, eb)))
        return rpc_fault(err);
    rep->confirmations = rep->head >= rec->block_number ? rep->head - rec->block_number + 1 : 0;
    if (rep->confirmations < min_confirmations)
        return ca_fail(eb, CA_ERR_VERIFY, "the anchor transaction has %" PRIu64
                       " confirmation(s), fewer than the %" PRIu64 " required",
                       rep->confirmations, min_confirmations);
    return CA_OK;
}

/* ---- the memo of passed final checks (anchor_check.h) ---------------------------------------- */

typedef struct memo_entry {
    bool used;
    ca_anchor_report report; /* report.record is the claim that passed */
    uint8_t expected_from[CA_ETH_ADDRESS_SIZE];
} memo_entry;

struct ca_anchor_check_cache {
    pthread_mutex_t lock;
    memo_entry entries[CA_ANCHOR_CHECK_CACHE_MAX];
    size_t next; /* the slot the next new entry takes (oldest first once full) */
};

ca_err ca_anchor_check_cache_create(ca_anchor_check_cache **cache, ca_errbuf *eb)
{
    CA_ASSERT(cache);
    *cache = calloc(1, sizeof **cache);
    if (!*cache)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&(*cache)->lock, NULL);
    return CA_OK;
}

void ca_anchor_check_cache_free(ca_anchor_check_cache *cache)
{
    if (!cache)
        return;
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* Field by field (a struct compare would read padding): the same on-chain claim, checked
 * against the same sender. */
static bool same_claim(const ca_anchor_claim *a, const ca_anchor_claim *b)
{
    return a->chain_id == b->chain_id && memcmp(a->tx_hash, b->tx_hash, 32) == 0 &&
           a->in_block == b->in_block && a->block_number == b->block_number &&
           memcmp(a->block_hash, b->block_hash, 32) == 0 &&
           memcmp(a->from, b->from, CA_ETH_ADDRESS_SIZE) == 0 &&
           memcmp(a->to, b->to, CA_ETH_ADDRESS_SIZE) == 0 && strcmp(a->status, b->status) == 0 &&
           a->tree_size == b->tree_size && memcmp(a->root.b, b->root.b, CA_HASH_SIZE) == 0 &&
           a->has_previous == b->has_previous &&
           (!a->has_previous || (a->previous_tree_size == b->previous_tree_size &&
                                 memcmp(a->previous_root.b, b->previous_root.b,
                                        CA_HASH_SIZE) == 0));
}

static memo_entry *memo_find(ca_anchor_check_cache *cache, const ca_anchor_claim *claim,
                             const uint8_t expected_from[CA_ETH_ADDRESS_SIZE])
{
    for (size_t i = 0; i < CA_ANCHOR_CHECK_CACHE_MAX; i++) {
        memo_entry *m = &cache->entries[i];
        if (m->used && same_claim(&m->report.record, claim) &&
            memcmp(m->expected_from, expected_from, CA_ETH_ADDRESS_SIZE) == 0)
            return m;
    }
    return NULL;
}

bool ca_anchor_check_cache_get(ca_anchor_check_cache *cache, ca_anchor_report *report,
                               const ca_anchor_claim *claim,
                               const uint8_t expected_from[CA_ETH_ADDRESS_SIZE])
{
    CA_ASSERT(report && claim && expected_from);
    if (!cache || strcmp(claim->status, "final") != 0)
        return false;
    pthread_mutex_lock(&cache->lock);
    memo_entry *m = memo_find(cache, claim, expected_from);
    if (m)
        *report = m->report;
    pthread_mutex_unlock(&cache->lock);
    return m != NULL;
}

void ca_anchor_check_cache_put(ca_anchor_check_cache *cache, const ca_anchor_report *report,
                               const uint8_t expected_from[CA_ETH_ADDRESS_SIZE])
{
    CA_ASSERT(report && expected_from);
    if (!cache || !report->record.in_block || strcmp(report->record.status, "final") != 0)
        return;
    pthread_mutex_lock(&cache->lock);
    memo_entry *m = memo_find(cache, &report->record, expected_from);
    if (!m) {
        m = &cache->entries[cache->next];
        cache->next = (cache->next + 1) % CA_ANCHOR_CHECK_CACHE_MAX;
    }
    m->used = true;
    m->report = *report;
    memcpy(m->expected_from, expected_from, CA_ETH_ADDRESS_SIZE);
    pthread_mutex_unlock(&cache->lock);
}

void ca_anchor_check_cache_forget(ca_anchor_check_cache *cache, const uint8_t tx_hash[32])
{
    CA_ASSERT(tx_hash);
    if (!cache)
        return;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < CA_ANCHOR_CHECK_CACHE_MAX; i++)
        if (cache->entries[i].used && memcmp(cache->entries[i].report.record.tx_hash, tx_hash,
                                             32) == 0)
            cache->entries[i].used = false;
    pthread_mutex_unlock(&cache->lock);
}
