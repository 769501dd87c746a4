/*
 * node/webauthn.h — a WebAuthn (Level 2/3) relying-party verifier: the server's side of the
 * registration ceremony (W3C WebAuthn L3 §7.1) and of the authentication ceremony (§7.2), for
 * the node's sign-in routes.
 *
 * The browser's PublicKeyCredential carries base64url fields; the caller decodes them and
 * hands in the bytes: clientDataJSON and attestationObject (registration), clientDataJSON,
 * authenticatorData and signature (assertion). Nothing here touches storage, the network or
 * the clock: the caller issues and remembers the challenge, looks up the stored credential by
 * its id, checks the id is not registered yet, and stores what registration returns.
 *
 * Accepted: attestation format "none" only (no attestation trust is evaluated, so no other
 * format is accepted: a "packed" or "tpm" statement is refused rather than ignored), and
 * credential public keys ES256 (EC2 P-256), EdDSA (OKP Ed25519) and RS256 (RSA 2048..4096
 * bits). Every input is capped (CA_WEBAUTHN_*_MAX below); CBOR must be well-formed with
 * definite lengths, and maps must not repeat a key.
 *
 * Errors (each with one line in eb that never quotes more than a few bytes of the input):
 *   CA_ERR_TOO_LARGE  an input over its cap;
 *   CA_ERR_INVALID    malformed input: bad CBOR or JSON, wrong types or lengths, an
 *                     unsupported attestation format or key type, a point off the curve;
 *   CA_ERR_VERIFY     well-formed but wrong: type, challenge, origin, crossOrigin, rpIdHash,
 *                     a required flag missing, the signature;
 *   CA_ERR_CONFLICT   the signature counter did not increase (a cloned authenticator?);
 *   CA_ERR_NOMEM, CA_ERR_CRYPTO  the libraries failed.
 * Thread-safe: no shared state. Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_WEBAUTHN_H
#define CREDANCHOR_NODE_WEBAUTHN_H

#include "credanchor/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* COSE algorithm identifiers (IANA COSE Algorithms registry). */
typedef enum ca_cose_alg {
    CA_COSE_ES256 = -7,   /* ECDSA P-256 with SHA-256; signatures DER-encoded (§6.5.6) */
    CA_COSE_EDDSA = -8,   /* Ed25519; raw 64-byte signatures */
    CA_COSE_RS256 = -257, /* RSASSA-PKCS1-v1_5 with SHA-256 */
} ca_cose_alg;

#define CA_WEBAUTHN_CRED_ID_MAX 1023     /* L3 §6.5.1: credentialIdLength is at most 1023 */
#define CA_WEBAUTHN_COSE_KEY_MAX 600     /* a stored COSE_Key (RSA-4096: about 530 bytes) */
#define CA_WEBAUTHN_CLIENT_DATA_MAX 4096 /* clientDataJSON */
#define CA_WEBAUTHN_ATT_OBJECT_MAX 16384 /* attestationObject */
#define CA_WEBAUTHN_AUTH_DATA_MAX 4096   /* authenticatorData, also inside attestationObject */
#define CA_WEBAUTHN_SIG_MAX 512          /* an assertion signature (RSA-4096) */

/* Authenticator data flags (§6.1). */
#define CA_WEBAUTHN_FLAG_UP 0x01 /* user present */
#define CA_WEBAUTHN_FLAG_UV 0x04 /* user verified */
#define CA_WEBAUTHN_FLAG_BE 0x08 /* backup eligible */
#define CA_WEBAUTHN_FLAG_BS 0x10 /* backed up */
#define CA_WEBAUTHN_FLAG_AT 0x40 /* attested credential data included */
#define CA_WEBAUTHN_FLAG_ED 0x80 /* extension data included */

/* What the server expects of a ceremony. All pointers must be non-NULL and challenge_len
 * non-zero (caller bugs abort). */
typedef struct ca_webauthn_expect {
    const uint8_t *challenge; /* the bytes the server issued for this ceremony */
    size_t challenge_len;
    const char *origin;       /* the exact origin: "https://issuer.example", "http://localhost:8080" */
    const char *rp_id;        /* the RP ID: "issuer.example", "localhost" */
    bool require_uv;          /* the UV flag must be set */
} ca_webauthn_expect;

/* A registered credential: what the server stores (the credential record of §4). */
typedef struct ca_webauthn_credential {
    uint8_t id[CA_WEBAUTHN_CRED_ID_MAX]; /* credentialId: look-up key, sent back in allowCredentials */
    size_t id_len;                       /* 1..CA_WEBAUTHN_CRED_ID_MAX */
    uint8_t cose_key[CA_WEBAUTHN_COSE_KEY_MAX]; /* the COSE_Key CBOR exactly as received */
    size_t cose_key_len;
    int alg;                 /* a ca_cose_alg */
    uint32_t sign_count;     /* the authenticator's signature counter at registration */
    uint8_t aaguid[16];      /* all zero when the client hid the authenticator model */
    bool backup_eligible, backed_up, uv; /* the BE, BS and UV flags at registration */
} ca_webauthn_credential;

/* Registration ceremony (§7.1). Checks, in this order:
 *  - caps: clientDataJSON <= 4 KiB, attestationObject <= 16 KiB, its authData <= 4 KiB;
 *  - clientDataJSON (§5.8.1): a JSON object without duplicate members; "type" is
 *    "webauthn.create"; "challenge" is base64url of expect->challenge (compared in constant
 *    time); "origin" equals expect->origin exactly; "crossOrigin" is absent or false;
 *    "topOrigin" and unknown members are ignored;
 *  - attestationObject (§6.5.4): one well-formed CBOR map (definite lengths, no repeated key,
 *    nothing after it) with text "fmt", map "attStmt" and bytes "authData"; fmt must be
 *    "none" with an empty attStmt (§8.7), any other format is CA_ERR_INVALID;
 *  - authData (§6.1): rpIdHash == SHA-256(expect->rp_id); UP set; UV set if required; BS not
 *    set without BE; AT set, and the attested credential data (§6.5.1) parses: aaguid,
 *    credentialIdLength 1..1023, credentialId, and a COSE_Key that is EC2 P-256 with alg -7
 *    (x and y 32 bytes each, a point on the curve), OKP Ed25519 with alg -8 (x 32 bytes) or
 *    RSA with alg -257 (n 2048..4096 bits, e odd and >= 3); extensions follow only when ED is
 *    set (one CBOR map, not interpreted), and nothing else follows.
 * On CA_OK *out is the credential to store; on error *out is zeroed. */
ca_err ca_webauthn_verify_registration(ca_webauthn_credential *out,
                                       const ca_webauthn_expect *expect,
                                       const uint8_t *client_data_json, size_t cdj_len,
                                       const uint8_t *attestation_object, size_t ao_len,
                                       ca_errbuf *eb);

/* Authentication ceremony (§7.2) against a stored credential (its COSE_Key as registration
 * returned it, and its stored signature counter). Checks, in this order:
 *  - caps: clientDataJSON <= 4 KiB, authData <= 4 KiB, signature <= 512 bytes, COSE_Key <=
 *    CA_WEBAUTHN_COSE_KEY_MAX;
 *  - clientDataJSON as for registration, with "type" "webauthn.get";
 *  - authData: at least 37 bytes, rpIdHash == SHA-256(expect->rp_id), UP set, UV set if
 *    required, BS not set without BE, no trailing bytes (attested credential data and
 *    extensions parsed as for registration when AT or ED is set);
 *  - the COSE_Key parses as for registration;
 *  - the signature over authData || SHA-256(clientDataJSON) verifies: ES256 DER-encoded
 *    ECDSA (at most 72 bytes), EdDSA 64 raw bytes, RS256 PKCS#1 v1.5 of the modulus' length;
 *  - the signature counter (§6.1.1): when the stored or the new count is non-zero, the new one
 *    must be greater, else CA_ERR_CONFLICT (a cloned authenticator?): refuse the sign-in.
 * *new_count and *uv (may be NULL) are set on CA_OK and on CA_ERR_CONFLICT (the signature
 * is then valid: the caller may log the counts), else 0 and false. On CA_OK the caller stores
 * *new_count as the credential's counter. */
ca_err ca_webauthn_verify_assertion(uint32_t *new_count, bool *uv,
                                    const ca_webauthn_expect *expect,
                                    const uint8_t *cose_key, size_t cose_key_len,
                                    uint32_t stored_count,
                                    const uint8_t *client_data_json, size_t cdj_len,
                                    const uint8_t *auth_data, size_t ad_len,
                                    const uint8_t *sig, size_t sig_len, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
