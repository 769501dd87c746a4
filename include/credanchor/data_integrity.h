/*
 * W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (W3C "Data Integrity EdDSA
 * Cryptosuites v1.0" REC, §3.3), for credentials issued as JSON (SPEC §5):
 *   proofConfig  = the proof options without proofValue; when the document has an "@context",
 *                  the proof gets the same "@context" (§3.3.5 step 3 / §3.3.2 step 4);
 *   hashData     = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without "proof"))
 *                  (proof config hash FIRST, §3.3.4);
 *   proofValue   = "z" + base58btc(Ed25519 signature over hashData).
 * Canonical forms come from ca_jcs_canonicalize (RFC 8785), never from json_dumps output
 * directly (jansson prints reals with %.17g; the JCS step reparses and formats them as ES6).
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_DATA_INTEGRITY_H
#define CREDANCHOR_DATA_INTEGRITY_H

#include "credanchor/common.h"
#include "credanchor/crypto.h"
#include "credanchor/jcs.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DI_CRYPTOSUITE "eddsa-jcs-2022"

/* Adds a "proof" to doc (an object without one; CA_ERR_INVALID otherwise):
 *   {"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","created":created,
 *    "verificationMethod":vm,"proofPurpose":"assertionMethod","@context":<doc's @context>,
 *    "proofValue":"z..."}
 * ("created" omitted when NULL; "@context" only when doc has one). */
ca_err ca_di_sign(json_t *doc, const ca_ed25519_key *key, const char *verification_method,
                  const char *created, ca_errbuf *eb);

/* What ca_di_verify found, for reports. */
typedef struct ca_di_proof_info {
    char verification_method[2048]; /* the proof's verificationMethod */
    char proof_purpose[64];
} ca_di_proof_info;

/* Verifies doc's single proof (an object, not an array) with the Ed25519 public key pub:
 * type DataIntegrityProof, cryptosuite eddsa-jcs-2022, proofValue "z" + base58btc of 64
 * bytes, a proof "@context" (if any) equal to the document's, then the signature.
 * info (may be NULL) gets the verificationMethod before the signature is checked, so a
 * caller can first call with pub NULL to learn which key to fetch: then only the structure
 * is checked and CA_OK means "well formed".
 * CA_ERR_INVALID for a malformed proof, CA_ERR_VERIFY for a bad signature.
 * A proof "@context" that differs from the document's (or a document without one) is
 * CA_ERR_VERIFY, also when pub is NULL (§3.3.2 step 4 "set verified to false"). Equality is
 * stricter than the REC's "the document's @context starts with the proof's": a context
 * appended to the document after signing is refused. */
ca_err ca_di_verify(const json_t *doc, const uint8_t *pub /* 32 bytes or NULL */,
                    ca_di_proof_info *info, ca_errbuf *eb);

/* The hashData of §3.3.4 for doc (without proof) and proof_config, exposed for tests
 * against the W3C vectors. */
ca_err ca_di_hash_data(uint8_t out[64], const json_t *doc_without_proof,
                       const json_t *proof_config, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
