/* WebAuthn ceremonies (node/webauthn.c): no crash, leak or over-read on any input, and the
 * results stay consistent. The first byte chooses the ceremony:
 *   0, registration:  [0][cdj_len: 2 bytes BE][clientDataJSON][attestationObject: the rest]
 *   1, assertion:     [1][key][cdj_len: 2][ad_len: 2][clientDataJSON][authData][signature]
 *      with the stored COSE_Key of the generated authenticator key % 3 (ES256, EdDSA, RS256)
 *      and a stored counter of 0;
 *   other: the whole input as an attestationObject, and as a stored COSE_Key.
 * The expectations are those of tests/vectors/webauthn/vectors.h, whose valid ceremonies
 * seed tests/fuzz/corpus/webauthn/ (make_vectors.py writes both), so mutations start from
 * inputs that pass every check. Each part is an exact-size heap copy. */
#include "node/webauthn.h"
#include "fuzz_common.h"
#include "tests/vectors/webauthn/vectors.h"

/* A big-endian 2-byte length at p, at most max. */
static size_t len16(const uint8_t *p, size_t max)
{
    size_t n = (size_t)p[0] << 8 | p[1];
    return n < max ? n : max;
}

static void registration(const uint8_t *cdj, size_t cdj_len, const uint8_t *ao, size_t ao_len)
{
    ca_webauthn_expect ex = {wa_reg_challenge.p, wa_reg_challenge.n, WA_ORIGIN, WA_RP_ID, false};
    ca_webauthn_credential cred;
    ca_errbuf eb = {{0}};
    uint8_t *c = fuzz_memdup(cdj, cdj_len), *a = fuzz_memdup(ao, ao_len);
    ca_err err = ca_webauthn_verify_registration(&cred, &ex, c, cdj_len, a, ao_len, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(cred.id_len >= 1 && cred.id_len <= CA_WEBAUTHN_CRED_ID_MAX);
        FUZZ_CHECK(cred.cose_key_len > 0 && cred.cose_key_len <= CA_WEBAUTHN_COSE_KEY_MAX);
        FUZZ_CHECK(cred.alg == CA_COSE_ES256 || cred.alg == CA_COSE_EDDSA ||
                   cred.alg == CA_COSE_RS256);
        FUZZ_CHECK(!cred.backed_up || cred.backup_eligible);
    } else {
        FUZZ_CHECK(eb.msg[0] != '\0' && strlen(eb.msg) < 400);
        FUZZ_CHECK(cred.id_len == 0 && cred.cose_key_len == 0);
    }
    free(c);
    free(a);
}

static void assertion(wa_buf key, const uint8_t *cdj, size_t cdj_len, const uint8_t *ad,
                      size_t ad_len, const uint8_t *sig, size_t sig_len)
{
    ca_webauthn_expect ex = {wa_asn_challenge.p, wa_asn_challenge.n, WA_ORIGIN, WA_RP_ID, false};
    uint32_t count = 7;
    bool uv = true;
    ca_errbuf eb = {{0}};
    uint8_t *k = fuzz_memdup(key.p, key.n), *c = fuzz_memdup(cdj, cdj_len);
    uint8_t *a = fuzz_memdup(ad, ad_len), *s = fuzz_memdup(sig, sig_len);
    ca_err err = ca_webauthn_verify_assertion(&count, &uv, &ex, k, key.n, 0, c, cdj_len, a,
                                              ad_len, s, sig_len, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(ad_len >= 37 && (ad[32] & CA_WEBAUTHN_FLAG_UP));
        FUZZ_CHECK(count == ((uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
                             (uint32_t)ad[35] << 8 | ad[36]));
    } else {
        FUZZ_CHECK(eb.msg[0] != '\0' && strlen(eb.msg) < 400);
        FUZZ_CHECK(err == CA_ERR_CONFLICT || (count == 0 && !uv));
    }
    free(k);
    free(c);
    free(a);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 0 && size >= 3) {
        size_t cdj_len = len16(data + 1, size - 3);
        registration(data + 3, cdj_len, data + 3 + cdj_len, size - 3 - cdj_len);
    } else if (data[0] == 1 && size >= 6) {
        wa_buf key = wa_authenticators[data[1] % 3].cose_key;
        size_t rest = size - 6;
        size_t cdj_len = len16(data + 2, rest);
        size_t ad_len = len16(data + 4, rest - cdj_len);
        const uint8_t *cdj = data + 6, *ad = cdj + cdj_len, *sig = ad + ad_len;
        assertion(key, cdj, cdj_len, ad, ad_len, sig, rest - cdj_len - ad_len);
    } else if (data[0] > 1) {
        const wa_buf cdj = wa_reg_cases[0].cdj;
        registration(cdj.p, cdj.n, data + 1, size - 1);
        wa_buf key = {data + 1, size - 1};
        const wa_asn_case *a = &wa_asn_cases[0];
        assertion(key, a->cdj.p, a->cdj.n, a->ad.p, a->ad.n, a->sig.p, a->sig.n);
    }
    return 0;
}
