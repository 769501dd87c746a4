/*
 * Thin wrappers over OpenSSL 3 and libsecp256k1: SHA-256, Ed25519, secp256k1 and randomness.
 * Keys are opaque handles; secret bytes handed in are copied and the caller wipes its copy.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_CRYPTO_H
#define CREDANCHOR_CRYPTO_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

void ca_sha256(ca_hash *out, const void *data, size_t len);

/* Fills buf with len bytes from the OpenSSL CSPRNG. CA_ERR_CRYPTO if it cannot. */
ca_err ca_random_bytes(void *buf, size_t len);

/* ---- Ed25519 (RFC 8032), via OpenSSL EVP ---- */
#define CA_ED25519_SEED_SIZE 32
#define CA_ED25519_PUB_SIZE 32
#define CA_ED25519_SIG_SIZE 64

typedef struct ca_ed25519_key ca_ed25519_key; /* opaque: holds the private key */

/* A new key from 32 seed bytes (the RFC 8032 private key). */
ca_err ca_ed25519_key_from_seed(ca_ed25519_key **key, const uint8_t seed[CA_ED25519_SEED_SIZE]);
/* Generates a fresh seed; the caller stores it encrypted and wipes it. */
ca_err ca_ed25519_generate_seed(uint8_t seed[CA_ED25519_SEED_SIZE]);
void ca_ed25519_key_public(const ca_ed25519_key *key, uint8_t pub[CA_ED25519_PUB_SIZE]);
ca_err ca_ed25519_sign(const ca_ed25519_key *key, uint8_t sig[CA_ED25519_SIG_SIZE],
                       const void *msg, size_t len);
/* Frees and wipes. NULL is fine. */
void ca_ed25519_key_free(ca_ed25519_key *key);
/* CA_OK when sig is a valid signature of msg under pub, CA_ERR_VERIFY otherwise. */
ca_err ca_ed25519_verify(const uint8_t pub[CA_ED25519_PUB_SIZE],
                         const uint8_t sig[CA_ED25519_SIG_SIZE], const void *msg, size_t len);

/* ---- secp256k1 (libsecp256k1) ---- */
#define CA_SECP256K1_SECRET_SIZE 32
#define CA_SECP256K1_PUB_COMPRESSED 33
#define CA_SECP256K1_PUB_UNCOMPRESSED 65
#define CA_ETH_ADDRESS_SIZE 20

/* The process's one libsecp256k1 context (a secp256k1_context *), created on first use under
 * pthread_once and randomized once for side-channel blinding; afterwards it is only read,
 * which libsecp256k1 documents as safe from many threads at once. NULL only when it could not
 * be created (no memory, no randomness): callers fail with CA_ERR_CRYPTO. Never freed. */
struct secp256k1_context_struct;
const struct secp256k1_context_struct *ca_secp256k1_context(void);

/* Generates a valid secret key (retrying the rare out-of-range draw). */
ca_err ca_secp256k1_generate(uint8_t secret[CA_SECP256K1_SECRET_SIZE]);
/* The public key, compressed (33 bytes) or uncompressed (65 bytes) per *len (in: capacity,
 * which selects the form; out: the length). CA_ERR_INVALID for an invalid secret. */
ca_err ca_secp256k1_public(uint8_t *pub, size_t *len, const uint8_t secret[CA_SECP256K1_SECRET_SIZE]);
/* The Ethereum address: the last 20 bytes of Keccak-256 of the 64-byte uncompressed point. */
ca_err ca_eth_address(uint8_t addr[CA_ETH_ADDRESS_SIZE],
                      const uint8_t secret[CA_SECP256K1_SECRET_SIZE]);
/* "0x" + 40 lowercase hex chars + NUL (SPEC §0). */
void ca_eth_address_hex(char out[43], const uint8_t addr[CA_ETH_ADDRESS_SIZE]);

/* Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3's 0x06), built on
 * nettle's sha3_permute because OpenSSL 3.0 has no Keccak-256. */
void ca_keccak256(ca_hash *out, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
