/*
 * Verifying one issued credential the way a third party does (SPEC §5 "Verification takes a
 * third party's path"): from the presented bytes alone, through injected lookups, never through
 * the node's database. Four checks, each pass / fail / pending with a reason:
 *   signature  the issuer DID is resolved (env->resolve_did), the verification method named by
 *              the JWT "kid" or the proof's "verificationMethod" is found in the document and
 *              listed under assertionMethod, and the signature verifies (signer.h, jws.h,
 *              data_integrity.h). The credential's validity period is checked here too
 *              (validFrom / validUntil against env->now).
 *   status     every credentialStatus entry of type BitstringStatusListEntry: the list
 *              credential is fetched by its URL (env->fetch_url), its eddsa-jcs-2022 proof is
 *              verified against ITS issuer's DID document, its id equals the URL, its
 *              statusPurpose equals the entry's, and the bit at statusListIndex is read
 *              (status_list.h). A set bit fails (revoked / suspended). An unreachable or
 *              unverifiable list FAILS: an unknown status must not verify.
 *   inclusion  digest = SPEC §1 (SHA-256 of the compact JWS, or of the JCS form of the signed
 *              JSON); the proof (env->fetch_proof) must name that digest and check against a
 *              log verifier key (env->log_keys) with ca_proof_check.
 *   anchor     the proof's anchor record is checked on chain (env->check_anchor) with the
 *              sender the issuer's DID document lists for the record's chain
 *              (ca_did_anchor_account), falling back to env->anchor_account for did:key
 *              issuers. No anchor yet, no RPC, or fewer confirmations than final: pending.
 * verified = no check failed. Conventions: common.h.
 */
#ifndef CREDANCHOR_VERIFY_H
#define CREDANCHOR_VERIFY_H

#include "credanchor/anchor_check.h"
#include "credanchor/checkpoint.h"
#include "credanchor/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_VERIFY_DETAIL_MAX 512
#define CA_VERIFY_LOG_KEYS_MAX 64

/* The lookups a verification needs. Each returns CA_OK or an error with a sentence in eb,
 * which becomes the failing check's detail. Bodies are malloc'd; the verifier frees them. */
typedef struct ca_verify_env {
    void *ctx;
    /* The DID document of did (a new reference). */
    ca_err (*resolve_did)(void *ctx, const char *did, json_t **doc, ca_errbuf *eb);
    /* GETs a status list credential URL. */
    ca_err (*fetch_url)(void *ctx, const char *url, char **body, size_t *len, ca_errbuf *eb);
    /* The SPEC §3 inclusion proof of digest (hex). CA_ERR_NOT_FOUND: not in the log. */
    ca_err (*fetch_proof)(void *ctx, const char *digest_hex, char **body, size_t *len,
                          ca_errbuf *eb);
    /* Every log verifier key the log used (SPEC §3 /v1/log/keys); v holds
     * CA_VERIFY_LOG_KEYS_MAX. */
    ca_err (*log_keys)(void *ctx, ca_note_verifier *v, size_t *n, ca_errbuf *eb);
    /* Checks an anchor record on chain (ca_anchor_check). NULL: no chain access (anchor
     * pending). */
    ca_err (*check_anchor)(void *ctx, const json_t *record, uint64_t tree_size,
                           const ca_hash *root, const uint8_t from[CA_ETH_ADDRESS_SIZE],
                           ca_anchor_report *report, ca_errbuf *eb);
    /* The issuer's anchor account when its DID document lists none (did:key issuers). NULL
     * or CA_ERR_NOT_FOUND: the anchor check fails for want of an expected sender. */
    ca_err (*anchor_account)(void *ctx, uint64_t chain_id, uint8_t addr[CA_ETH_ADDRESS_SIZE],
                             ca_errbuf *eb);
    int64_t now;                    /* unix seconds */
    uint64_t min_confirmations;     /* below this the anchor is pending, not pass;
                                     * CA_CONFIRMATIONS_BY_CHAIN: the anchor's chain decides
                                     * (ca_anchor_default_confirmations) */
} ca_verify_env;

typedef enum ca_check_result {
    CA_CHECK_PASS = 0,
    CA_CHECK_FAIL = 1,
    CA_CHECK_PENDING = 2,
} ca_check_result;

typedef struct ca_check {
    ca_check_result result;
    char detail[CA_VERIFY_DETAIL_MAX];
} ca_check;

typedef struct ca_verify_report {
    char id[512];               /* the credential's "id" ("" if none) */
    char issuer[2048];          /* its issuer id */
    char format[16];            /* "vc+jwt" or "eddsa-jcs-2022" */
    ca_hash digest;             /* SPEC §1 */
    bool verified;
    ca_check signature, status, inclusion, anchor;
    bool revoked, suspended;
} ca_verify_report;

/* Verifies len bytes of a presented credential: a compact VC-JWT (surrounding whitespace
 * allowed) or a JSON credential with a Data Integrity proof. CA_OK whenever the report is
 * filled, even when checks fail; CA_ERR_INVALID only when the text is neither form (eb says
 * why), CA_ERR_TOO_LARGE past CA_JWS_MAX bytes. */
ca_err ca_verify_credential(ca_verify_report *report, const char *text, size_t len,
                            const ca_verify_env *env, ca_errbuf *eb);

/* SPEC §5: {"id","verified","checks":{"signature":C,"status":C+{"revoked","suspended"},
 * "inclusion":C,"anchor":C}} plus "issuer", "format" and "digest". NULL on OOM. */
json_t *ca_verify_report_json(const ca_verify_report *report);

/* "pass", "fail", "pending". */
const char *ca_check_result_name(ca_check_result r);

#ifdef __cplusplus
}
#endif
#endif
