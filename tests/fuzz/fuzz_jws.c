/* Compact JWS parsing and JWK import (credential/jws.c, credential/signer.c): no crash or leak
 * on any input. The input is tried both as a compact JWS and, parsed as JSON first, as a JWK.
 * On success ca_jws_parse's result is consistent (a known alg, header and payload objects, a
 * signing input that ends at the second '.', a signature within CA_SIG_MAX); verifying it with
 * an imported key (or a fixed Ed25519 key) never succeeds by accident for fuzzed signatures
 * of another alg. A JWK that imports never carries a private member. */
#include "credanchor/jws.h"
#include "credanchor/signer.h"
#include "fuzz_common.h"

/* RFC 8037 §A.1's public key: a valid verify key to exercise ca_jws_verify. */
static const char ed25519_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_memdup(data, size);
    ca_errbuf eb = {{0}};
    ca_jws jws;
    ca_verify_key *k = NULL, *fixed = NULL;
    json_t *fixed_jwk = json_loads(ed25519_jwk, 0, NULL);
    FUZZ_CHECK(fixed_jwk != NULL);
    FUZZ_CHECK(ca_verify_key_from_jwk(&fixed, fixed_jwk, NULL) == CA_OK);

    /* As a JWK. */
    json_t *j = json_loadb(in, size, JSON_REJECT_DUPLICATES, NULL);
    if (j) {
        ca_err err = ca_verify_key_from_jwk(&k, j, &eb);
        if (err == CA_OK) {
            FUZZ_CHECK(k != NULL);
            FUZZ_CHECK(ca_jws_alg_name(ca_verify_key_alg(k)) != NULL);
            FUZZ_CHECK(json_object_get(j, "d") == NULL && json_object_get(j, "p") == NULL &&
                       json_object_get(j, "k") == NULL);
            uint8_t sig[CA_SIG_MAX] = {0};
            /* An all-zero signature never verifies. */
            FUZZ_CHECK(ca_verify_sig(k, ca_verify_key_alg(k), sig, 64, in, size, NULL) != CA_OK);
        } else {
            FUZZ_CHECK(k == NULL);
            FUZZ_CHECK(eb.msg[0] != '\0');
        }
        json_decref(j);
    }

    /* As a compact JWS. */
    eb.msg[0] = '\0';
    ca_err err = ca_jws_parse(&jws, in, size, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(ca_jws_alg_name(jws.alg) != NULL);
        FUZZ_CHECK(json_is_object(jws.header) && json_is_object(jws.payload));
        FUZZ_CHECK(json_object_get(jws.header, "crit") == NULL);
        FUZZ_CHECK(jws.signing_input_len < size && in[jws.signing_input_len] == '.');
        FUZZ_CHECK(jws.sig_len > 0 && jws.sig_len <= CA_SIG_MAX);
        FUZZ_CHECK(size <= CA_JWS_MAX);
        (void)ca_jws_verify(&jws, in, fixed, NULL);
        if (k)
            (void)ca_jws_verify(&jws, in, k, NULL);
        ca_jws_clear(&jws);
    } else {
        FUZZ_CHECK(jws.header == NULL && jws.payload == NULL);
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    ca_verify_key_free(k);
    ca_verify_key_free(fixed);
    json_decref(fixed_jwk);
    free(in);
    return 0;
}
