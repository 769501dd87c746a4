/*
 * Ethereum primitives for anchoring (SPEC §2): RLP (Ethereum Yellow Paper, Appendix B),
 * EIP-1559 (type 2) transactions signed with libsecp256k1 recoverable ECDSA, and the 44-byte
 * anchor calldata. No I/O. Conventions: common.h.
 */
#ifndef CREDANCHOR_ETH_H
#define CREDANCHOR_ETH_H

#include "credanchor/common.h"
#include "credanchor/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RLP encoding ----
 *
 * A growable output buffer with a hard maximum (curl's dynbuf): growing past `max` is
 * CA_ERR_TOO_LARGE, a failed allocation CA_ERR_NOMEM. Errors are sticky: after the first
 * failure every later call returns the same code without writing, so a caller may encode a
 * whole structure and check only the last result (or ca_rlp_buf.err). */
typedef struct ca_rlp_buf {
    uint8_t *data; /* owned; NULL until the first write */
    size_t len;
    size_t cap;
    size_t max;    /* hard cap on len */
    ca_err err;    /* first error, or CA_OK */
} ca_rlp_buf;

/* An empty buffer that may grow to max bytes (max > 0). Allocates nothing yet. */
void ca_rlp_buf_init(ca_rlp_buf *b, size_t max);
/* Frees the storage and leaves an empty buffer with the same max; NULL is fine. */
void ca_rlp_buf_free(ca_rlp_buf *b);

/* A byte string: one byte < 0x80 as itself, else a short (0x80+len, len <= 55) or long
 * (0xb7+len-of-len, big-endian length) header followed by the bytes. p may be NULL if len is 0. */
ca_err ca_rlp_put_bytes(ca_rlp_buf *b, const void *p, size_t len);
/* An unsigned integer as its minimal big-endian byte string (0 is the empty string, 0x80). */
ca_err ca_rlp_put_uint(ca_rlp_buf *b, uint64_t v);
/* A big-endian unsigned integer of any width (e.g. a 256-bit value as 32 bytes): leading zero
 * bytes are stripped first, so an all-zero input encodes as 0x80. */
ca_err ca_rlp_put_uint_be(ca_rlp_buf *b, const uint8_t *be, size_t len);
/* Appends already-encoded RLP (one or more items) verbatim. */
ca_err ca_rlp_put_raw(ca_rlp_buf *b, const void *p, size_t len);
/* A list whose payload is `payload` (the concatenated encodings of its items, e.g. another
 * ca_rlp_buf's data): a 0xc0+len or 0xf7+len-of-len header, then the payload. */
ca_err ca_rlp_put_list(ca_rlp_buf *b, const uint8_t *payload, size_t len);

/* In-place nesting in one buffer: ca_rlp_list_begin returns a mark (the current length);
 * encode the children; ca_rlp_list_end(b, mark) inserts the list header in front of them.
 * Marks nest like brackets. */
size_t ca_rlp_list_begin(const ca_rlp_buf *b);
ca_err ca_rlp_list_end(ca_rlp_buf *b, size_t mark);

/* ---- Strict RLP decoding ----
 *
 * Accepts only the canonical encoding: rejects a single byte < 0x80 wrapped as a 1-byte
 * string, lengths <= 55 in the long form, length fields with leading zero bytes, truncated
 * input, trailing bytes after the top-level item, and lists nested deeper than
 * CA_RLP_MAX_DEPTH. Items point into the caller's input, valid as long as it is. */
#define CA_RLP_MAX_DEPTH 16

typedef struct ca_rlp_item {
    bool is_list;
    const uint8_t *payload; /* string bytes, or a list's concatenated child encodings */
    size_t len;
} ca_rlp_item;

/* Decodes exactly one item spanning all of in[0..len) and validates everything inside it
 * (every nested item, to CA_RLP_MAX_DEPTH levels of lists: the top-level list is level 1).
 * CA_ERR_INVALID with a sentence in eb on any violation. */
ca_err ca_rlp_decode(ca_rlp_item *out, const uint8_t *in, size_t len, ca_errbuf *eb);

/* Iterates over a list's children. */
typedef struct ca_rlp_iter {
    const uint8_t *p, *end;
} ca_rlp_iter;
void ca_rlp_iter_init(ca_rlp_iter *it, const ca_rlp_item *list); /* list->is_list required */
/* The next child: CA_OK, CA_ERR_NOT_FOUND after the last one, CA_ERR_INVALID if malformed
 * (impossible for items from ca_rlp_decode). */
ca_err ca_rlp_iter_next(ca_rlp_iter *it, ca_rlp_item *child, ca_errbuf *eb);
/* Number of children of a list item, or CA_ERR_INVALID. */
ca_err ca_rlp_list_count(size_t *count, const ca_rlp_item *list, ca_errbuf *eb);

/* A canonical integer item (a string with no leading zero byte) into a uint64_t (at most 8
 * bytes) or a 32-byte big-endian u256 (at most 32 bytes). CA_ERR_INVALID for a list, a
 * leading zero or an oversize value. */
ca_err ca_rlp_item_uint(uint64_t *out, const ca_rlp_item *it, ca_errbuf *eb);
ca_err ca_rlp_item_u256(uint8_t out[32], const ca_rlp_item *it, ca_errbuf *eb);

/* ---- EIP-1559 (type 2) transactions ---- */

/* Largest raw transaction we build: geth's txpool limit (128 KiB). */
#define CA_ETH_TX_MAX_SIZE (128u * 1024u)

/* The fields of a type-2 transaction. The access list is always empty. 256-bit quantities are
 * 32-byte big-endian. `data` is borrowed (NULL allowed when data_len is 0). */
typedef struct ca_eth_tx {
    uint64_t chain_id;
    uint64_t nonce;
    uint8_t max_priority_fee_per_gas[32];
    uint8_t max_fee_per_gas[32];
    uint64_t gas_limit;
    uint8_t to[CA_ETH_ADDRESS_SIZE];
    uint8_t value[32];
    const uint8_t *data;
    size_t data_len;
} ca_eth_tx;

/* A recoverable ECDSA signature in Ethereum's form: y_parity (0 or 1), r, s (low-s). */
typedef struct ca_eth_sig {
    uint8_t y_parity;
    uint8_t r[32];
    uint8_t s[32];
} ca_eth_sig;

/* Stores v (< 2^64) as a 32-byte big-endian u256, for the fee and value fields. */
void ca_u256_from_uint(uint8_t out[32], uint64_t v);

/* keccak256(0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
 * gas_limit, to, value, data, []])). CA_ERR_TOO_LARGE when data would push the encoding past
 * CA_ETH_TX_MAX_SIZE. */
ca_err ca_eth_tx_signing_hash(ca_hash *out, const ca_eth_tx *tx, ca_errbuf *eb);

/* Signs the signing hash with secp256k1_ecdsa_sign_recoverable (RFC 6979 nonce, low-s).
 * The secret is passed only to libsecp256k1. CA_ERR_INVALID for an invalid secret key. */
ca_err ca_eth_tx_sign(ca_eth_sig *sig, const ca_eth_tx *tx,
                      const uint8_t secret[CA_SECP256K1_SECRET_SIZE], ca_errbuf *eb);

/* The raw signed transaction for eth_sendRawTransaction:
 * 0x02 || rlp([... the nine fields ..., y_parity, r, s]) with r and s as minimal integers.
 * *raw_len: capacity in (CA_ETH_TX_MAX_SIZE always suffices), length out; CA_ERR_TOO_LARGE
 * when raw is too small. tx_hash (may be NULL) receives keccak256(raw), the transaction hash. */
ca_err ca_eth_tx_encode_signed(uint8_t *raw, size_t *raw_len, ca_hash *tx_hash,
                               const ca_eth_tx *tx, const ca_eth_sig *sig, ca_errbuf *eb);

/* The address that signed tx with sig (what a node reports as `from`). CA_ERR_VERIFY for a
 * signature that does not recover, has y_parity > 1, or has a high s (EIP-2). */
ca_err ca_eth_tx_recover(uint8_t addr[CA_ETH_ADDRESS_SIZE], const ca_eth_tx *tx,
                         const ca_eth_sig *sig, ca_errbuf *eb);

/* ---- Anchor calldata (SPEC §2) ---- */
#define CA_ANCHOR_CALLDATA_SIZE 44
#define CA_ANCHOR_MAGIC "CAv1" /* 0x43417631 */

/* "CAv1" || tree_size as 8-byte big-endian || 32-byte root. */
void ca_anchor_calldata(uint8_t out[CA_ANCHOR_CALLDATA_SIZE], uint64_t tree_size,
                        const ca_hash *root);
/* The inverse. CA_ERR_INVALID unless len is exactly 44 and the data starts with the magic. */
ca_err ca_anchor_calldata_parse(uint64_t *tree_size, ca_hash *root, const uint8_t *data,
                                size_t len);

#ifdef __cplusplus
}
#endif
#endif
