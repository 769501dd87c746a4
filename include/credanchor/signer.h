/*
 * Issuer signing keys for credentials (SPEC §5): one opaque signer per JOSE algorithm, and
 * public verification keys built from a JWK or a Multikey. Signatures come in the JWS form of
 * RFC 7518 §3 / RFC 8037 §3.1 / RFC 8812 §3.2:
 *   EdDSA   Ed25519 (RFC 8032), 64 bytes                                  OpenSSL EVP
 *   ES256K  ECDSA secp256k1 over SHA-256, r || s (64 bytes), low-s        libsecp256k1
 *   ES256   ECDSA P-256 over SHA-256, r || s (64 bytes)                   OpenSSL EVP
 *   RS256   RSASSA-PKCS1-v1_5 over SHA-256, modulus-sized (256 bytes for RSA-2048) OpenSSL
 * Secret bytes as stored (encrypted) in a key file: EdDSA the 32-byte RFC 8032 seed, ES256K and
 * ES256 the 32-byte big-endian scalar, RS256 the PKCS#8 DER private key. Handles hold copies;
 * callers wipe their own buffers. Conventions: common.h.
 */
#ifndef CREDANCHOR_SIGNER_H
#define CREDANCHOR_SIGNER_H

#include "credanchor/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ca_jws_alg {
    CA_ALG_EDDSA = 1,
    CA_ALG_ES256K = 2,
    CA_ALG_ES256 = 3,
    CA_ALG_RS256 = 4,
} ca_jws_alg;

#define CA_SIG_MAX 512          /* the largest signature of any supported alg (RSA-4096) */
#define CA_SIGNER_SECRET_MAX 4096 /* the largest secret (an RSA PKCS#8 DER) */
#define CA_RSA_BITS 2048        /* generated RSA keys; 2048..4096 are accepted when verifying */

/* "EdDSA", "ES256K", "ES256", "RS256"; NULL for anything else. */
const char *ca_jws_alg_name(ca_jws_alg alg);
/* Exact, case-sensitive name match. CA_ERR_INVALID for an unknown name. */
ca_err ca_jws_alg_parse(ca_jws_alg *alg, const char *name);

typedef struct ca_signer ca_signer; /* opaque: a private key and its alg */

/* Generates a new secret for alg into secret (CA_SIGNER_SECRET_MAX bytes; *len gets the
 * length). The caller encrypts it (keystore.h) and wipes it. */
ca_err ca_signer_generate(uint8_t *secret, size_t *len, ca_jws_alg alg, ca_errbuf *eb);
/* A signer from stored secret bytes. CA_ERR_INVALID when they are not a valid key of alg
 * (wrong length, scalar out of range, RSA not 2048..4096 bits). */
ca_err ca_signer_open(ca_signer **s, ca_jws_alg alg, const uint8_t *secret, size_t len,
                      ca_errbuf *eb);
void ca_signer_free(ca_signer *s); /* wipes; NULL is fine */
ca_jws_alg ca_signer_alg(const ca_signer *s);

/* Signs msg. sig holds CA_SIG_MAX bytes; *sig_len gets the length. Safe to call from many
 * threads on one signer at once. */
ca_err ca_signer_sign(const ca_signer *s, uint8_t *sig, size_t *sig_len, const void *msg,
                      size_t len, ca_errbuf *eb);

/* The public key as a JWK object (RFC 7517; OKP/Ed25519 x, EC secp256k1|P-256 x y, RSA n e),
 * with no private members and no "kid"/"alg"; the caller decrefs it. */
ca_err ca_signer_public_jwk(json_t **jwk, const ca_signer *s, ca_errbuf *eb);
/* The RFC 8037 public JWK {"kty":"OKP","crv":"Ed25519","x":...} of a raw 32-byte Ed25519
 * key (an issuer key from the rotation history, which has no signer); the caller decrefs
 * it. */
ca_err ca_ed25519_public_jwk(json_t **jwk, const uint8_t *pub, ca_errbuf *eb);
/* The public key in the compact form did:key / Multikey use: Ed25519 32 bytes, secp256k1 and
 * P-256 33 bytes compressed. CA_ERR_INVALID for RS256 (no Multikey form is used for RSA).
 * pub holds 33 bytes. */
ca_err ca_signer_public_raw(const ca_signer *s, uint8_t *pub, size_t *pub_len, ca_errbuf *eb);

/* ---- verification ------------------------------------------------------------------------ */

typedef struct ca_verify_key ca_verify_key; /* opaque: a public key and the alg it serves */

/* From a public JWK: OKP Ed25519 -> EdDSA, EC secp256k1 -> ES256K, EC P-256 -> ES256,
 * RSA (2048..4096 bits, e odd) -> RS256. Points are validated. A JWK carrying a private
 * member ("d", "p", ...) is refused. CA_ERR_INVALID with a sentence naming the problem. */
ca_err ca_verify_key_from_jwk(ca_verify_key **k, const json_t *jwk, ca_errbuf *eb);
/* From raw public bytes as ca_signer_public_raw gives them (alg EdDSA, ES256K or ES256). */
ca_err ca_verify_key_from_raw(ca_verify_key **k, ca_jws_alg alg, const uint8_t *pub,
                              size_t pub_len, ca_errbuf *eb);
void ca_verify_key_free(ca_verify_key *k);
ca_jws_alg ca_verify_key_alg(const ca_verify_key *k);

/* CA_OK when sig is a valid JWS-form signature of msg under k for alg; CA_ERR_VERIFY when it
 * is not, or alg is not the key's (no algorithm confusion). ES256K refuses high-s signatures,
 * as libsecp256k1's verify does (signers here always produce low-s). */
ca_err ca_verify_sig(const ca_verify_key *k, ca_jws_alg alg, const uint8_t *sig, size_t sig_len,
                     const void *msg, size_t len, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
