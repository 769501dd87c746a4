/* EIP-1559 (type 2) transactions and the SPEC §2 anchor calldata (eth.h).
 *
 * EIP-1559 / EIP-2718: the signing hash is
 *   keccak256(0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
 *                          gas_limit, to, value, data, access_list]))
 * and the raw transaction appends [y_parity, r, s] to the same list. Integers are minimal
 * big-endian strings (0 is 0x80); `to` is a 20-byte string; the access list is always []. */
#include "credanchor/eth.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>

/* ---- encoding ---- */

void ca_u256_from_uint(uint8_t out[32], uint64_t v)
{
    CA_ASSERT(out != NULL);
    memset(out, 0, 32);
    for (int i = 31; i >= 24; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* 0x02 || rlp([nine fields (, y_parity, r, s)]) into b. */
static ca_err encode_tx(ca_rlp_buf *b, const ca_eth_tx *tx, const ca_eth_sig *sig)
{
    static const uint8_t type = 0x02;
    ca_rlp_put_raw(b, &type, 1);
    size_t mark = ca_rlp_list_begin(b);
    ca_rlp_put_uint(b, tx->chain_id);
    ca_rlp_put_uint(b, tx->nonce);
    ca_rlp_put_uint_be(b, tx->max_priority_fee_per_gas, 32);
    ca_rlp_put_uint_be(b, tx->max_fee_per_gas, 32);
    ca_rlp_put_uint(b, tx->gas_limit);
    ca_rlp_put_bytes(b, tx->to, CA_ETH_ADDRESS_SIZE);
    ca_rlp_put_uint_be(b, tx->value, 32);
    ca_rlp_put_bytes(b, tx->data_len ? tx->data : NULL, tx->data_len);
    ca_rlp_put_list(b, NULL, 0); /* access_list: [] */
    if (sig) {
        ca_rlp_put_uint(b, sig->y_parity);
        ca_rlp_put_uint_be(b, sig->r, 32);
        ca_rlp_put_uint_be(b, sig->s, 32);
    }
    ca_rlp_list_end(b, mark);
    return b->err; /* sticky: the first failure, if any */
}

static void check_tx(const ca_eth_tx *tx)
{
    CA_ASSERT(tx != NULL);
    CA_ASSERT(tx->data != NULL || tx->data_len == 0);
}

ca_err ca_eth_tx_signing_hash(ca_hash *out, const ca_eth_tx *tx, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL);
    check_tx(tx);
    ca_rlp_buf b;
    ca_rlp_buf_init(&b, CA_ETH_TX_MAX_SIZE);
    ca_err rc = encode_tx(&b, tx, NULL);
    if (rc == CA_OK)
        ca_keccak256(out, b.data, b.len);
    else if (rc == CA_ERR_TOO_LARGE)
        ca_fail(eb, rc, "transaction data of %zu bytes exceeds the %u-byte transaction cap",
                tx->data_len, CA_ETH_TX_MAX_SIZE);
    else
        ca_fail(eb, rc, "cannot encode the transaction: %s", ca_strerror(rc));
    ca_rlp_buf_free(&b);
    return rc;
}

ca_err ca_eth_tx_sign(ca_eth_sig *sig, const ca_eth_tx *tx,
                      const uint8_t secret[CA_SECP256K1_SECRET_SIZE], ca_errbuf *eb)
{
    CA_ASSERT(sig != NULL && secret != NULL);
    check_tx(tx);
    ca_err result;
    ca_hash h;
    secp256k1_ecdsa_recoverable_signature rsig;
    uint8_t compact[64];
    int recid = -1;
    memset(sig, 0, sizeof *sig);

    const secp256k1_context *ctx = ca_secp256k1_context();
    if (!ctx) {
        result = ca_fail(eb, CA_ERR_CRYPTO, "cannot create the secp256k1 context");
        goto out;
    }
    result = ca_eth_tx_signing_hash(&h, tx, eb);
    if (result != CA_OK)
        goto out;
    /* NULL noncefp: RFC 6979 deterministic nonces (secp256k1_nonce_function_default), as
     * ethers and geth use, so signatures are reproducible. libsecp256k1 always emits low s. */
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &rsig, h.b, secret, NULL, NULL)) {
        result = ca_fail(eb, CA_ERR_INVALID, "the anchor secret key is not a valid secp256k1 key");
        goto out;
    }
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, &recid, &rsig) ||
        recid < 0 || recid > 1) {
        /* recid 2/3 (x overflow) has probability ~2^-127; Ethereum cannot express it. */
        result = ca_fail(eb, CA_ERR_CRYPTO, "unexpected recoverable signature (recid %d)", recid);
        goto out;
    }
    sig->y_parity = (uint8_t)recid;
    memcpy(sig->r, compact, 32);
    memcpy(sig->s, compact + 32, 32);
    result = CA_OK;
out:
    ca_wipe(&rsig, sizeof rsig);
    ca_wipe(compact, sizeof compact);
    ca_wipe(&h, sizeof h);
    if (result != CA_OK)
        memset(sig, 0, sizeof *sig);
    return result;
}

ca_err ca_eth_tx_encode_signed(uint8_t *raw, size_t *raw_len, ca_hash *tx_hash,
                               const ca_eth_tx *tx, const ca_eth_sig *sig, ca_errbuf *eb)
{
    CA_ASSERT(raw != NULL && raw_len != NULL && sig != NULL);
    check_tx(tx);
    CA_ASSERT(sig->y_parity <= 1);
    ca_rlp_buf b;
    ca_rlp_buf_init(&b, CA_ETH_TX_MAX_SIZE);
    ca_err rc = encode_tx(&b, tx, sig);
    if (rc != CA_OK) {
        if (rc == CA_ERR_TOO_LARGE)
            ca_fail(eb, rc, "transaction data of %zu bytes exceeds the %u-byte transaction cap",
                    tx->data_len, CA_ETH_TX_MAX_SIZE);
        else
            ca_fail(eb, rc, "cannot encode the transaction: %s", ca_strerror(rc));
        goto out;
    }
    if (b.len > *raw_len) {
        rc = ca_fail(eb, CA_ERR_TOO_LARGE, "raw transaction needs %zu bytes, buffer holds %zu",
                     b.len, *raw_len);
        goto out;
    }
    memcpy(raw, b.data, b.len);
    *raw_len = b.len;
    if (tx_hash)
        ca_keccak256(tx_hash, b.data, b.len);
out:
    ca_rlp_buf_free(&b);
    return rc;
}

ca_err ca_eth_tx_recover(uint8_t addr[CA_ETH_ADDRESS_SIZE], const ca_eth_tx *tx,
                         const ca_eth_sig *sig, ca_errbuf *eb)
{
    CA_ASSERT(addr != NULL && sig != NULL);
    check_tx(tx);
    const secp256k1_context *ctx = ca_secp256k1_context();
    if (!ctx)
        return ca_fail(eb, CA_ERR_CRYPTO, "cannot create the secp256k1 context");
    if (sig->y_parity > 1)
        return ca_fail(eb, CA_ERR_VERIFY, "y_parity %u is not 0 or 1", sig->y_parity);
    uint8_t compact[64];
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature rsig;
    /* EIP-2: a transaction signature with s > n/2 is invalid. normalize() returns 1 when it
     * had to lower s, i.e. when the input was high. */
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &plain, compact) ||
        secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain))
        return ca_fail(eb, CA_ERR_VERIFY, "signature r/s out of range or s is high (EIP-2)");
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, compact, sig->y_parity))
        return ca_fail(eb, CA_ERR_VERIFY, "signature r/s out of range");
    ca_hash h;
    ca_err rc = ca_eth_tx_signing_hash(&h, tx, eb);
    if (rc != CA_OK)
        return rc;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &rsig, h.b))
        return ca_fail(eb, CA_ERR_VERIFY, "no public key recovers from the signature");
    uint8_t pub[CA_SECP256K1_PUB_UNCOMPRESSED];
    size_t len = sizeof pub;
    if (!secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk, SECP256K1_EC_UNCOMPRESSED) ||
        len != CA_SECP256K1_PUB_UNCOMPRESSED)
        return ca_fail(eb, CA_ERR_CRYPTO, "cannot serialize the recovered public key");
    ca_hash ph;
    ca_keccak256(&ph, pub + 1, len - 1); /* the bare X || Y, as in ca_eth_address */
    memcpy(addr, ph.b + CA_HASH_SIZE - CA_ETH_ADDRESS_SIZE, CA_ETH_ADDRESS_SIZE);
    return CA_OK;
}

/* ---- anchor calldata (SPEC §2) ---- */

void ca_anchor_calldata(uint8_t out[CA_ANCHOR_CALLDATA_SIZE], uint64_t tree_size,
                        const ca_hash *root)
{
    CA_ASSERT(out != NULL && root != NULL);
    memcpy(out, CA_ANCHOR_MAGIC, 4);
    for (int i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(tree_size >> (8 * (7 - i)));
    memcpy(out + 12, root->b, CA_HASH_SIZE);
}

ca_err ca_anchor_calldata_parse(uint64_t *tree_size, ca_hash *root, const uint8_t *data,
                                size_t len)
{
    CA_ASSERT(tree_size != NULL && root != NULL);
    CA_ASSERT(data != NULL || len == 0);
    if (len != CA_ANCHOR_CALLDATA_SIZE || memcmp(data, CA_ANCHOR_MAGIC, 4) != 0)
        return CA_ERR_INVALID;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | data[4 + i];
    *tree_size = v;
    memcpy(root->b, data + 12, CA_HASH_SIZE);
    return CA_OK;
}
