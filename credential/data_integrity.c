/*
 * W3C Data Integrity proofs, cryptosuite eddsa-jcs-2022 (W3C "Data Integrity EdDSA Cryptosuites
 * v1.0" Recommendation, §3.3). Section numbers below are the REC's:
 *   §3.3.1 Create Proof, §3.3.2 Verify Proof, §3.3.3 Transformation, §3.3.4 Hashing,
 *   §3.3.5 Proof Configuration, §3.3.6 Proof Serialization (§3.3.7 Proof Verification is the
 *   Ed25519 check at the end of §3.3.2).
 *
 * Every canonical form comes from ca_jcs_of_json: jansson's compact dump (reals printed with
 * %.17g) reparsed and re-emitted by the RFC 8785 canonicalizer in common/jcs.c, so numbers are
 * hashed in their ECMAScript form, never as jansson prints them.
 */
#include "credanchor/data_integrity.h"

#include "credanchor/credential.h"

#include "credanchor/jcs.h"
#include "credanchor/json_fields.h"
#include "credanchor/multibase.h"

#include <stdlib.h>
#include <string.h>

#define DI_PROOF_TYPE "DataIntegrityProof"

/* ---- ca_jcs_of_json ---------------------------------------------------------------------- */

/* ---- helpers ----------------------------------------------------------------------------- */

/* SHA-256 of the JCS form of value. */
static ca_err jcs_sha256(ca_hash *out, const json_t *value, const char *what, ca_errbuf *eb)
{
    char *canon = NULL;
    size_t canon_len = 0;
    ca_errbuf inner = {{0}};
    ca_err err = ca_jcs_of_json(&canon, &canon_len, value, &inner);
    if (err != CA_OK) {
        err = ca_fail(eb, err, "cannot canonicalize the %s: %s", what, ca_errmsg(&inner, err));
        goto out;
    }
    ca_sha256(out, canon, canon_len);

out:
    free(canon);
    return err;
}

/* "created" must be an XML Schema dateTimeStamp (§3.3.5 step 3): ca_datetime_parse. */
static bool valid_date_time_stamp(const char *s)
{
    int64_t t;
    return ca_datetime_parse(&t, s) == CA_OK;
}

/* The type / cryptosuite check that §3.3.3 step 1 and §3.3.5 step 2 both make. */
static ca_err check_suite(const json_t *options, ca_errbuf *eb)
{
    const char *type = ca_json_str(options, "type");
    const char *suite = ca_json_str(options, "cryptosuite");
    if (!type || strcmp(type, DI_PROOF_TYPE) != 0)
        return ca_fail(eb, CA_ERR_INVALID, "the proof type is not \"" DI_PROOF_TYPE "\"");
    if (!suite || strcmp(suite, CA_DI_CRYPTOSUITE) != 0)
        return ca_fail(eb, CA_ERR_INVALID,
                       "the proof cryptosuite is not \"" CA_DI_CRYPTOSUITE "\"");
    return CA_OK;
}

/* §3.3.5 Proof Configuration: a copy of options without "proofValue" (step 1: "Let
 * proofConfig be a clone of the options object"; proofValue is not part of the options in
 * §3.3.1 and is removed by §3.3.2 step 2), checked for type and cryptosuite (step 2) and for a
 * valid "created" (step 3), with "@context" set to the unsecured document's when it has one
 * (step 4). *config is a new reference on success. */
static ca_err proof_configuration(json_t **config, const json_t *options,
                                  const json_t *unsecured, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    json_t *cfg = NULL;
    *config = NULL;

    err = check_suite(options, eb);
    if (err != CA_OK)
        goto out;
    json_t *created = json_object_get(options, "created");
    if (created) {
        const char *c = json_string_value(created);
        if (!c || !valid_date_time_stamp(c)) {
            err = ca_fail(eb, CA_ERR_INVALID,
                          "the proof \"created\" is not an XML Schema dateTimeStamp");
            goto out;
        }
    }

    cfg = json_deep_copy(options);
    if (!cfg) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory copying the proof options");
        goto out;
    }
    json_object_del(cfg, "proofValue"); /* absent is fine */

    const json_t *ctx = json_object_get(unsecured, "@context");
    if (ctx) {
        json_t *copy = json_deep_copy(ctx);
        if (!copy || json_object_set_new(cfg, "@context", copy) != 0) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory copying the document @context");
            goto out;
        }
    }
    *config = cfg;
    cfg = NULL;

out:
    json_decref(cfg);
    return err;
}

/* ---- §3.3.4 Hashing ---------------------------------------------------------------------- */

ca_err ca_di_hash_data(uint8_t out[64], const json_t *doc_without_proof,
                       const json_t *proof_config, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && doc_without_proof != NULL && proof_config != NULL);
    ca_hash config_hash, doc_hash;
    ca_err err;

    /* §3.3.5 step 5-6: canonicalProofConfig = JCS(proofConfig); §3.3.4 step 1:
     * proofConfigHash = SHA-256(canonicalProofConfig). */
    err = jcs_sha256(&config_hash, proof_config, "proof configuration", eb);
    if (err != CA_OK)
        goto out;
    /* §3.3.3 step 2 (transformedDocument = JCS(unsecuredDocument)); §3.3.4 step 2:
     * transformedDocumentHash = SHA-256(transformedDocument). */
    err = jcs_sha256(&doc_hash, doc_without_proof, "document", eb);
    if (err != CA_OK)
        goto out;
    /* §3.3.4 step 3: hashData = proofConfigHash || transformedDocumentHash. */
    memcpy(out, config_hash.b, CA_HASH_SIZE);
    memcpy(out + CA_HASH_SIZE, doc_hash.b, CA_HASH_SIZE);

out:
    return err;
}

/* ---- §3.3.1 Create Proof ----------------------------------------------------------------- */

ca_err ca_di_sign(json_t *doc, const ca_ed25519_key *key, const char *verification_method,
                  const char *created, ca_errbuf *eb)
{
    CA_ASSERT(doc != NULL && key != NULL && verification_method != NULL);
    ca_err err = CA_OK;
    json_t *options = NULL, *config = NULL;
    uint8_t hash_data[64];
    uint8_t sig[CA_ED25519_SIG_SIZE];
    char proof_value[128];
    size_t pv_len = sizeof proof_value;

    if (!json_is_object(doc)) {
        err = ca_fail(eb, CA_ERR_INVALID, "the document to sign is not a JSON object");
        goto out;
    }
    if (json_object_get(doc, "proof")) {
        err = ca_fail(eb, CA_ERR_INVALID, "the document already has a \"proof\"");
        goto out;
    }
    if (verification_method[0] == '\0') {
        err = ca_fail(eb, CA_ERR_INVALID, "the verification method is empty");
        goto out;
    }

    /* The proof options, in the member order of the REC's examples (Example "Proof Options
     * Document" in the eddsa-jcs-2022 representation appendix). */
    options = json_object();
    if (!options ||
        json_object_set_new(options, "type", json_string(DI_PROOF_TYPE)) != 0 ||
        json_object_set_new(options, "cryptosuite", json_string(CA_DI_CRYPTOSUITE)) != 0 ||
        (created && json_object_set_new(options, "created", json_string(created)) != 0) ||
        json_object_set_new(options, "verificationMethod",
                            json_string(verification_method)) != 0 ||
        json_object_set_new(options, "proofPurpose", json_string("assertionMethod")) != 0) {
        /* json_string returns NULL for text that is not UTF-8 as well as on allocation. */
        err = ca_fail(eb, CA_ERR_INVALID,
                      "cannot build the proof options (verification method or created not "
                      "UTF-8, or out of memory)");
        goto out;
    }

    /* §3.3.1 step 1-2: proof = clone of options; proofConfig = §3.3.5(proof, document).
     * The document has no "proof", so it is the unsecured document as it stands. */
    err = proof_configuration(&config, options, doc, eb);
    if (err != CA_OK)
        goto out;
    /* §3.3.1 step 3-4: transformedData (§3.3.3) and hashData (§3.3.4). */
    err = ca_di_hash_data(hash_data, doc, config, eb);
    if (err != CA_OK)
        goto out;
    /* §3.3.1 step 5, §3.3.6 Proof Serialization: the Ed25519 signature over hashData. */
    err = ca_ed25519_sign(key, sig, hash_data, sizeof hash_data);
    if (err != CA_OK) {
        err = ca_fail(eb, err, "Ed25519 signing failed");
        goto out;
    }
    /* §3.3.1 step 6: proof.proofValue = base58-btc multibase of proofBytes. */
    err = ca_multibase_encode(proof_value, &pv_len, sig, sizeof sig, eb);
    if (err != CA_OK)
        goto out;
    /* The proof carries the configuration's "@context" (the document's), as the REC's
     * signed eddsa-jcs-2022 example does. */
    if (json_object_set_new(config, "proofValue", json_string(proof_value)) != 0 ||
        json_object_set(doc, "proof", config) != 0) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory adding the proof");
        goto out;
    }

out:
    ca_wipe(hash_data, sizeof hash_data);
    json_decref(config);
    json_decref(options);
    return err;
}

/* ---- §3.3.2 Verify Proof ----------------------------------------------------------------- */

/* Copies the string member name of proof into buf (cap bytes with the NUL). */
static ca_err copy_member(char *buf, size_t cap, const json_t *proof, const char *name,
                          ca_errbuf *eb)
{
    const json_t *v = json_object_get(proof, name);
    if (!v)
        return ca_fail(eb, CA_ERR_INVALID, "the proof has no \"%s\"", name);
    if (!json_is_string(v))
        return ca_fail(eb, CA_ERR_INVALID, "the proof \"%s\" is not a string", name);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0 || len >= cap || memchr(s, '\0', len) != NULL)
        return ca_fail(eb, CA_ERR_INVALID,
                       "the proof \"%s\" is empty, longer than %zu bytes or holds a NUL", name,
                       cap - 1);
    memcpy(buf, s, len + 1);
    return CA_OK;
}

/* The secured document's single "proof" object (*proof, borrowed from doc). */
static ca_err get_proof(const json_t **proof, const json_t *doc, ca_errbuf *eb)
{
    if (!json_is_object(doc))
        return ca_fail(eb, CA_ERR_INVALID, "the secured document is not a JSON object");
    *proof = json_object_get(doc, "proof");
    if (!*proof)
        return ca_fail(eb, CA_ERR_INVALID, "the document has no \"proof\"");
    if (!json_is_object(*proof))
        return ca_fail(eb, CA_ERR_INVALID, "the document \"proof\" is not a single object%s",
                       json_is_array(*proof) ? " (proof sets and chains are not supported)"
                                             : "");
    return CA_OK;
}

/* §3.3.2 step 3: proofBytes = multibase base58-btc decode of proofValue, an Ed25519 signature
 * (sig holds *sig_len bytes on entry, CA_ED25519_SIG_SIZE on success). */
static ca_err decode_proof_value(uint8_t *sig, size_t *sig_len, const json_t *proof,
                                 ca_errbuf *eb)
{
    const json_t *pv = json_object_get(proof, "proofValue");
    if (!pv || !json_is_string(pv))
        return ca_fail(eb, CA_ERR_INVALID, "the proof has no string \"proofValue\"");
    const char *pv_text = json_string_value(pv);
    size_t pv_len = json_string_length(pv);
    if (pv_len == 0 || pv_text[0] != 'z')
        return ca_fail(eb, CA_ERR_INVALID,
                       "the proof \"proofValue\" is not multibase base58-btc ('z')");
    ca_errbuf inner = {{0}};
    ca_err derr = ca_multibase_decode(sig, sig_len, pv_text, pv_len, &inner);
    if (derr != CA_OK)
        return ca_fail(eb, CA_ERR_INVALID, "the proof \"proofValue\" does not decode: %s",
                       ca_errmsg(&inner, derr));
    if (*sig_len != CA_ED25519_SIG_SIZE)
        return ca_fail(eb, CA_ERR_INVALID,
                       "the proof \"proofValue\" decodes to %zu bytes, not an Ed25519 signature "
                       "of 64", *sig_len);
    return CA_OK;
}

/* §3.3.2 step 4: a proof "@context" must be one the document's "@context" starts with, and
 * then replaces it in the unsecured document. This implementation asks for more: the two
 * must be equal (the form ca_di_sign produces), so the replacement changes nothing and a
 * context added to the document after signing is not accepted. A mismatch is a failed
 * verification ("set verified to false"), not a malformed proof. */
static ca_err check_proof_context(const json_t *doc, const json_t *proof, ca_errbuf *eb)
{
    const json_t *proof_ctx = json_object_get(proof, "@context");
    if (proof_ctx) {
        const json_t *doc_ctx = json_object_get(doc, "@context");
        if (!doc_ctx || !json_equal(doc_ctx, proof_ctx))
            return ca_fail(eb, CA_ERR_VERIFY,
                           "the proof \"@context\" differs from the document's \"@context\"");
    }
    return CA_OK;
}

ca_err ca_di_verify(const json_t *doc, const uint8_t *pub, ca_di_proof_info *info,
                    ca_errbuf *eb)
{
    CA_ASSERT(doc != NULL);
    ca_err err = CA_OK;
    ca_di_proof_info local;
    json_t *unsecured = NULL, *options = NULL, *config = NULL;
    uint8_t sig[CA_BASE58_MAX_BINARY];
    size_t sig_len = sizeof sig;
    uint8_t hash_data[64];

    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);

    const json_t *proof = NULL;
    if ((err = get_proof(&proof, doc, eb)) != CA_OK)
        goto out;

    /* The members a verifier reports and needs to fetch a key (Data Integrity §2.1). */
    err = copy_member(info->verification_method, sizeof info->verification_method, proof,
                      "verificationMethod", eb);
    if (err != CA_OK)
        goto out;
    err = copy_member(info->proof_purpose, sizeof info->proof_purpose, proof, "proofPurpose",
                      eb);
    if (err != CA_OK)
        goto out;

    /* §3.3.2 step 1: unsecuredDocument = the secured document without "proof". */
    unsecured = json_deep_copy(doc);
    if (!unsecured) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory copying the document");
        goto out;
    }
    json_object_del(unsecured, "proof");

    /* §3.3.2 step 2: proofOptions = the proof without "proofValue". */
    options = json_deep_copy(proof);
    if (!options) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory copying the proof");
        goto out;
    }
    json_object_del(options, "proofValue");

    /* §3.3.2 step 3, step 4. */
    if ((err = decode_proof_value(sig, &sig_len, proof, eb)) != CA_OK ||
        (err = check_proof_context(doc, proof, eb)) != CA_OK)
        goto out;

    /* §3.3.2 step 5-6: the type / cryptosuite checks of §3.3.3 and the proof configuration of
     * §3.3.5 (which also checks "created"). */
    err = proof_configuration(&config, options, unsecured, eb);
    if (err != CA_OK)
        goto out;

    if (!pub)
        goto out; /* structure only: the caller learns verificationMethod from info */

    /* §3.3.2 step 7: hashData (§3.3.4). */
    err = ca_di_hash_data(hash_data, unsecured, config, eb);
    if (err != CA_OK)
        goto out;
    /* §3.3.2 step 8, §3.3.7 Proof Verification: Ed25519 over hashData. */
    if (ca_ed25519_verify(pub, sig, hash_data, sizeof hash_data) != CA_OK) {
        err = ca_fail(eb, CA_ERR_VERIFY,
                      "the eddsa-jcs-2022 signature does not verify under the given key");
        goto out;
    }

out:
    json_decref(config);
    json_decref(options);
    json_decref(unsecured);
    return err;
}
