/* Tests for credential/signer.c: published vectors (RFC 8037 §A.4 Ed25519, RFC 7515 §A.2 RS256
 * sign and verify, RFC 7515 §A.3 ES256 verify), ES256K checked against libsecp256k1 directly
 * and its high-s twin refused, round trips for every alg through JWK and raw public keys,
 * single-bit flips of signature and message, algorithm confusion, JWK validation (private
 * members, points off the curve, lengths, RSA sizes), and concurrent signing on one signer.
 * Vector bytes are copied from the RFCs (cross-checked against several JOSE test suites). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/signer.h"

/* ---- vectors ---- */

/* RFC 8037 §A.1-A.4 */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC8037_SIG \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

/* RFC 7515 §A.2 (RS256) */
#define RFC7515_A2_INPUT                                                                         \
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"     \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC7515_A2_SIG                                                                           \
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2F" \
    "p5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQB" \
    "MHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeY" \
    "I2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define RFC7515_A2_N                                                                             \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0B" \
    "m4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5" \
    "z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7" \
    "aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC7515_A2_D                                                                             \
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2N" \
    "XOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M" \
    "_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x" \
    "_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
#define RFC7515_A2_P                                                                             \
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py" \
    "5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
#define RFC7515_A2_Q                                                                             \
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQ" \
    "eZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
#define RFC7515_A2_DP                                                                            \
    "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu" \
    "1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0"
#define RFC7515_A2_DQ                                                                            \
    "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0a" \
    "jaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU"
#define RFC7515_A2_QI                                                                            \
    "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY" \
    "7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"

/* RFC 7515 §A.3 (ES256); same payload as A.2 */
#define RFC7515_A3_INPUT                                                                         \
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"     \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC7515_A3_SIG \
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
#define RFC7515_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC7515_A3_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"

/* ---- helpers ---- */

static size_t b64d(uint8_t *out, size_t cap, const char *text)
{
    size_t n = cap;
    assert_int_equal(ca_base64url_decode(out, &n, text, strlen(text)), CA_OK);
    return n;
}

static json_t *jparse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail_msg("bad test JSON: %s", jerr.text);
    return j;
}

static ca_err jwk_key(ca_verify_key **k, const char *text, ca_errbuf *eb)
{
    json_t *j = jparse(text);
    ca_err rc = ca_verify_key_from_jwk(k, j, eb);
    json_decref(j);
    return rc;
}

/* The RFC 7515 §A.2 RSA private key as PKCS#8 DER (what ca_signer_open takes). */
static size_t rfc7515_rsa_pkcs8(uint8_t *out, size_t cap)
{
    /* OSSL_PARAM_BLD_push_BN copies nothing until to_param, so keep the BNs alive. */
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    static const char *const vals[] = {RFC7515_A2_N, "AQAB", RFC7515_A2_D, RFC7515_A2_P,
                                       RFC7515_A2_Q, RFC7515_A2_DP, RFC7515_A2_DQ,
                                       RFC7515_A2_QI};
    BIGNUM *bns[8];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    for (int i = 0; i < 8; i++) {
        uint8_t buf[512];
        size_t n = b64d(buf, sizeof buf, vals[i]);
        bns[i] = BN_bin2bn(buf, (int)n, NULL);
        assert_non_null(bns[i]);
        assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, names[i], bns[i]), 1);
    }
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    assert_non_null(params);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
    assert_non_null(p8);
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
    assert_true(n > 0 && (size_t)n <= cap);
    uint8_t *p = out;
    assert_int_equal(i2d_PKCS8_PRIV_KEY_INFO(p8, &p), n);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < 8; i++)
        BN_free(bns[i]);
    return (size_t)n;
}

static ca_signer *new_signer(ca_jws_alg alg)
{
    static uint8_t secret[CA_SIGNER_SECRET_MAX];
    size_t len = 0;
    ca_errbuf eb = {{0}};
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_generate(secret, &len, alg, &eb), CA_OK);
    if (ca_signer_open(&s, alg, secret, len, &eb) != CA_OK)
        fail_msg("open %s: %s", ca_jws_alg_name(alg), eb.msg);
    ca_wipe(secret, sizeof secret);
    return s;
}

static ca_verify_key *jwk_of(const ca_signer *s)
{
    json_t *jwk = NULL;
    ca_verify_key *k = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_signer_public_jwk(&jwk, s, &eb), CA_OK);
    if (ca_verify_key_from_jwk(&k, jwk, &eb) != CA_OK)
        fail_msg("jwk: %s", eb.msg);
    json_decref(jwk);
    return k;
}

static const ca_jws_alg all_algs[] = {CA_ALG_EDDSA, CA_ALG_ES256K, CA_ALG_ES256, CA_ALG_RS256};

/* ---- tests ---- */

static void test_alg_names(void **state)
{
    (void)state;
    ca_jws_alg a;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ca_jws_alg_parse(&a, ca_jws_alg_name(all_algs[i])), CA_OK);
        assert_int_equal(a, all_algs[i]);
    }
    assert_string_equal(ca_jws_alg_name(CA_ALG_EDDSA), "EdDSA");
    assert_string_equal(ca_jws_alg_name(CA_ALG_ES256K), "ES256K");
    assert_null(ca_jws_alg_name((ca_jws_alg)0));
    assert_null(ca_jws_alg_name((ca_jws_alg)5));
    static const char *const bad[] = {"none", "eddsa", "Ed25519", "HS256", "ES256 ", "", "RS512",
                                      "es256k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ca_jws_alg_parse(&a, bad[i]), CA_ERR_INVALID);
}

/* RFC 8037 §A.4: the RFC's key signs the RFC's input to the RFC's signature (Ed25519 is
 * deterministic), and §A.5 verification with the public JWK. */
static void test_rfc8037_ed25519(void **state)
{
    (void)state;
    uint8_t seed[32], want[64], sig[CA_SIG_MAX];
    size_t sig_len = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(b64d(seed, sizeof seed, RFC8037_D), 32);
    assert_int_equal(b64d(want, sizeof want, RFC8037_SIG), 64);
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_EDDSA, seed, 32, &eb), CA_OK);
    assert_int_equal(ca_signer_alg(s), CA_ALG_EDDSA);
    assert_int_equal(ca_signer_sign(s, sig, &sig_len, RFC8037_INPUT, strlen(RFC8037_INPUT), &eb),
                     CA_OK);
    assert_int_equal(sig_len, 64);
    assert_memory_equal(sig, want, 64);

    /* Public JWK: exactly {"kty":"OKP","crv":"Ed25519","x":...} in that order. */
    json_t *jwk = NULL;
    assert_int_equal(ca_signer_public_jwk(&jwk, s, &eb), CA_OK);
    char *text = json_dumps(jwk, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}");
    free(text);
    json_decref(jwk);

    ca_verify_key *k = NULL;
    assert_int_equal(jwk_key(&k, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}",
                             &eb),
                     CA_OK);
    assert_int_equal(ca_verify_key_alg(k), CA_ALG_EDDSA);
    assert_int_equal(ca_verify_sig(k, CA_ALG_EDDSA, want, 64, RFC8037_INPUT,
                                   strlen(RFC8037_INPUT), &eb),
                     CA_OK);
    ca_verify_key_free(k);

    /* Raw form: the 32-byte x. */
    uint8_t raw[33], x[32];
    size_t raw_len = 0;
    assert_int_equal(ca_signer_public_raw(s, raw, &raw_len, &eb), CA_OK);
    assert_int_equal(raw_len, 32);
    b64d(x, sizeof x, RFC8037_X);
    assert_memory_equal(raw, x, 32);
    ca_signer_free(s);
    ca_wipe(seed, sizeof seed);
}

/* RFC 7515 §A.2: verify the RFC's JWS with the RFC's public JWK, and sign with the RFC's
 * private key (PKCS#1 v1.5 is deterministic, so the signature must match byte for byte). */
static void test_rfc7515_rs256(void **state)
{
    (void)state;
    uint8_t want[256], sig[CA_SIG_MAX], der[CA_SIGNER_SECRET_MAX];
    size_t sig_len = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(b64d(want, sizeof want, RFC7515_A2_SIG), 256);

    ca_verify_key *k = NULL;
    assert_int_equal(jwk_key(&k, "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}",
                             &eb),
                     CA_OK);
    assert_int_equal(ca_verify_key_alg(k), CA_ALG_RS256);
    assert_int_equal(ca_verify_sig(k, CA_ALG_RS256, want, 256, RFC7515_A2_INPUT,
                                   strlen(RFC7515_A2_INPUT), &eb),
                     CA_OK);

    size_t der_len = rfc7515_rsa_pkcs8(der, sizeof der);
    ca_signer *s = NULL;
    if (ca_signer_open(&s, CA_ALG_RS256, der, der_len, &eb) != CA_OK)
        fail_msg("%s", eb.msg);
    assert_int_equal(ca_signer_sign(s, sig, &sig_len, RFC7515_A2_INPUT,
                                    strlen(RFC7515_A2_INPUT), &eb),
                     CA_OK);
    assert_int_equal(sig_len, 256);
    assert_memory_equal(sig, want, 256);

    /* Its public JWK is the RFC's n and e, and RS256 has no raw form. */
    json_t *jwk = NULL;
    assert_int_equal(ca_signer_public_jwk(&jwk, s, &eb), CA_OK);
    char *text = json_dumps(jwk, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}");
    free(text);
    json_decref(jwk);
    uint8_t raw[33];
    size_t raw_len = 99;
    assert_int_equal(ca_signer_public_raw(s, raw, &raw_len, &eb), CA_ERR_INVALID);
    assert_int_equal(raw_len, 0);

    /* Wrong-length signatures. */
    assert_int_equal(ca_verify_sig(k, CA_ALG_RS256, want, 255, RFC7515_A2_INPUT,
                                   strlen(RFC7515_A2_INPUT), &eb),
                     CA_ERR_VERIFY);
    ca_verify_key_free(k);
    ca_signer_free(s);
    ca_wipe(der, sizeof der);
}

/* RFC 7515 §A.3: verify the RFC's ES256 JWS with its public JWK; opening the RFC's scalar
 * computes the RFC's public point. */
static void test_rfc7515_es256(void **state)
{
    (void)state;
    uint8_t want[64], d[32];
    ca_errbuf eb = {{0}};
    assert_int_equal(b64d(want, sizeof want, RFC7515_A3_SIG), 64);
    static const char jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
                              "\",\"y\":\"" RFC7515_A3_Y "\"}";
    ca_verify_key *k = NULL;
    assert_int_equal(jwk_key(&k, jwk, &eb), CA_OK);
    assert_int_equal(ca_verify_key_alg(k), CA_ALG_ES256);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256, want, 64, RFC7515_A3_INPUT,
                                   strlen(RFC7515_A3_INPUT), &eb),
                     CA_OK);

    assert_int_equal(b64d(d, sizeof d, RFC7515_A3_D), 32);
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256, d, 32, &eb), CA_OK);
    json_t *pub = NULL;
    assert_int_equal(ca_signer_public_jwk(&pub, s, &eb), CA_OK);
    char *text = json_dumps(pub, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, jwk);
    free(text);
    json_decref(pub);

    /* Our signature with the RFC key verifies under the RFC's JWK. */
    uint8_t sig[CA_SIG_MAX];
    size_t sig_len = 0;
    assert_int_equal(ca_signer_sign(s, sig, &sig_len, "abc", 3, &eb), CA_OK);
    assert_int_equal(sig_len, 64);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256, sig, 64, "abc", 3, &eb), CA_OK);

    /* Raw compressed form round trips to a key that verifies the RFC signature. */
    uint8_t raw[33];
    size_t raw_len = 0;
    assert_int_equal(ca_signer_public_raw(s, raw, &raw_len, &eb), CA_OK);
    assert_int_equal(raw_len, 33);
    assert_true(raw[0] == 0x02 || raw[0] == 0x03);
    ca_verify_key *k2 = NULL;
    assert_int_equal(ca_verify_key_from_raw(&k2, CA_ALG_ES256, raw, 33, &eb), CA_OK);
    assert_int_equal(ca_verify_sig(k2, CA_ALG_ES256, want, 64, RFC7515_A3_INPUT,
                                   strlen(RFC7515_A3_INPUT), &eb),
                     CA_OK);
    ca_verify_key_free(k2);
    ca_verify_key_free(k);
    ca_signer_free(s);
}

/* ES256K: our signature verifies under libsecp256k1 called directly; the high-s twin (n - s)
 * of a valid signature is refused by ca_verify_sig. */
static void test_es256k_libsecp256k1(void **state)
{
    (void)state;
    uint8_t secret[CA_SIGNER_SECRET_MAX], sig[CA_SIG_MAX], pub33[33];
    size_t len = 0, sig_len = 0, pub_len = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_signer_generate(secret, &len, CA_ALG_ES256K, &eb), CA_OK);
    assert_int_equal(len, 32);
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256K, secret, len, &eb), CA_OK);
    static const char msg[] = "eyJhbGciOiJFUzI1NksifQ.eyJpc3MiOiJkaWQ6ZXhhbXBsZSJ9";
    assert_int_equal(ca_signer_sign(s, sig, &sig_len, msg, strlen(msg), &eb), CA_OK);
    assert_int_equal(sig_len, 64);
    /* RFC 6979 nonces: signing twice gives the same bytes. */
    uint8_t sig2[CA_SIG_MAX];
    size_t sig2_len = 0;
    assert_int_equal(ca_signer_sign(s, sig2, &sig2_len, msg, strlen(msg), &eb), CA_OK);
    assert_memory_equal(sig, sig2, 64);

    /* The raw public key equals ca_secp256k1_public of the secret. */
    assert_int_equal(ca_signer_public_raw(s, pub33, &pub_len, &eb), CA_OK);
    uint8_t expect[33];
    size_t elen = sizeof expect;
    assert_int_equal(ca_secp256k1_public(expect, &elen, secret), CA_OK);
    assert_int_equal(pub_len, 33);
    assert_memory_equal(pub33, expect, 33);

    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature es;
    ca_hash h;
    ca_sha256(&h, msg, strlen(msg));
    assert_int_equal(secp256k1_ec_pubkey_parse(ctx, &pk, pub33, 33), 1);
    assert_int_equal(secp256k1_ecdsa_signature_parse_compact(ctx, &es, sig), 1);
    assert_int_equal(secp256k1_ecdsa_verify(ctx, &es, h.b, &pk), 1);
    /* Already normalized: low-s. */
    assert_int_equal(secp256k1_ecdsa_signature_normalize(ctx, NULL, &es), 0);

    /* A signature libsecp256k1 made with the same key also verifies through our API. */
    secp256k1_ecdsa_signature es2;
    uint8_t other[64];
    static const char msg2[] = "another message";
    ca_sha256(&h, msg2, strlen(msg2));
    assert_int_equal(secp256k1_ecdsa_sign(ctx, &es2, h.b, secret, NULL, NULL), 1);
    assert_int_equal(secp256k1_ecdsa_signature_serialize_compact(ctx, other, &es2), 1);
    ca_verify_key *k = NULL;
    assert_int_equal(ca_verify_key_from_raw(&k, CA_ALG_ES256K, pub33, 33, &eb), CA_OK);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256K, other, 64, msg2, strlen(msg2), &eb), CA_OK);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256K, sig, 64, msg, strlen(msg), &eb), CA_OK);

    /* High-s twin: s' = n - s, where n is the secp256k1 group order. */
    static const uint8_t order[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
    uint8_t high[64];
    memcpy(high, sig, 32);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int v = order[i] - sig[32 + i] - borrow;
        borrow = v < 0;
        high[32 + i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
    assert_int_equal(borrow, 0);
    /* libsecp256k1 agrees it is the high-s form of the same signature. */
    secp256k1_ecdsa_signature hs, norm;
    assert_int_equal(secp256k1_ecdsa_signature_parse_compact(ctx, &hs, high), 1);
    assert_int_equal(secp256k1_ecdsa_signature_normalize(ctx, &norm, &hs), 1);
    uint8_t back[64];
    secp256k1_ecdsa_signature_serialize_compact(ctx, back, &norm);
    assert_memory_equal(back, sig, 64);
    eb.msg[0] = '\0';
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256K, high, 64, msg, strlen(msg), &eb),
                     CA_ERR_VERIFY);
    assert_true(eb.msg[0] != '\0');

    /* r or s >= n is refused at parsing. */
    uint8_t big[64];
    memcpy(big, sig, 64);
    memcpy(big + 32, order, 32);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256K, big, 64, msg, strlen(msg), &eb),
                     CA_ERR_VERIFY);
    memset(big, 0, 64);
    assert_int_equal(ca_verify_sig(k, CA_ALG_ES256K, big, 64, msg, strlen(msg), &eb),
                     CA_ERR_VERIFY);

    ca_verify_key_free(k);
    secp256k1_context_destroy(ctx);
    ca_signer_free(s);
    ca_wipe(secret, sizeof secret);
}

/* Every alg: JWK and raw round trips, JWK shape, and the signing key verifying its own
 * signatures. */
static void test_round_trips(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    static const char *const kty[] = {"OKP", "EC", "EC", "RSA"};
    static const char *const crv[] = {"Ed25519", "secp256k1", "P-256", NULL};
    for (size_t i = 0; i < 4; i++) {
        ca_jws_alg alg = all_algs[i];
        ca_signer *s = new_signer(alg);
        assert_int_equal(ca_signer_alg(s), alg);
        uint8_t sig[CA_SIG_MAX];
        size_t sig_len = 0;
        assert_int_equal(ca_signer_sign(s, sig, &sig_len, "hello", 5, &eb), CA_OK);
        assert_int_equal(sig_len, alg == CA_ALG_RS256 ? 256 : 64);
        /* Empty message too. */
        uint8_t sig0[CA_SIG_MAX];
        size_t sig0_len = 0;
        assert_int_equal(ca_signer_sign(s, sig0, &sig0_len, NULL, 0, &eb), CA_OK);

        json_t *jwk = NULL;
        assert_int_equal(ca_signer_public_jwk(&jwk, s, &eb), CA_OK);
        assert_string_equal(json_string_value(json_object_get(jwk, "kty")), kty[i]);
        if (crv[i])
            assert_string_equal(json_string_value(json_object_get(jwk, "crv")), crv[i]);
        assert_null(json_object_get(jwk, "d"));
        assert_null(json_object_get(jwk, "p"));
        assert_null(json_object_get(jwk, "kid"));
        assert_null(json_object_get(jwk, "alg"));
        assert_int_equal(json_object_size(jwk), alg == CA_ALG_EDDSA   ? 3
                                                : alg == CA_ALG_RS256 ? 3
                                                                      : 4);
        if (alg == CA_ALG_RS256)
            assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
        json_decref(jwk);

        ca_verify_key *k = jwk_of(s);
        assert_int_equal(ca_verify_key_alg(k), alg);
        assert_int_equal(ca_verify_sig(k, alg, sig, sig_len, "hello", 5, &eb), CA_OK);
        assert_int_equal(ca_verify_sig(k, alg, sig0, sig0_len, NULL, 0, &eb), CA_OK);
        assert_int_equal(ca_verify_sig(k, alg, sig, sig_len, "hellO", 5, &eb), CA_ERR_VERIFY);
        assert_int_equal(ca_verify_sig(k, alg, sig, sig_len - 1, "hello", 5, &eb),
                         CA_ERR_VERIFY);
        assert_int_equal(ca_verify_sig(k, alg, sig, 0, "hello", 5, &eb), CA_ERR_VERIFY);
        ca_verify_key_free(k);

        if (alg != CA_ALG_RS256) {
            uint8_t raw[33];
            size_t raw_len = 0;
            assert_int_equal(ca_signer_public_raw(s, raw, &raw_len, &eb), CA_OK);
            assert_int_equal(raw_len, alg == CA_ALG_EDDSA ? 32 : 33);
            ca_verify_key *kr = NULL;
            assert_int_equal(ca_verify_key_from_raw(&kr, alg, raw, raw_len, &eb), CA_OK);
            assert_int_equal(ca_verify_sig(kr, alg, sig, sig_len, "hello", 5, &eb), CA_OK);
            ca_verify_key_free(kr);
            /* Wrong raw lengths. */
            assert_int_equal(ca_verify_key_from_raw(&kr, alg, raw, raw_len - 1, &eb),
                             CA_ERR_INVALID);
            assert_null(kr);
        } else {
            ca_verify_key *kr = NULL;
            uint8_t raw[33] = {2};
            assert_int_equal(ca_verify_key_from_raw(&kr, alg, raw, 33, &eb), CA_ERR_INVALID);
        }
        ca_signer_free(s);
    }
    ca_signer_free(NULL);
    ca_verify_key_free(NULL);
}

/* Every single-bit flip of the signature, and of the message, fails. */
static void test_bit_flips(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    static const char base[] = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6a2V5In0";
    for (size_t i = 0; i < 4; i++) {
        ca_jws_alg alg = all_algs[i];
        ca_signer *s = new_signer(alg);
        ca_verify_key *k = jwk_of(s);
        uint8_t sig[CA_SIG_MAX];
        size_t sig_len = 0;
        char msg[sizeof base];
        memcpy(msg, base, sizeof base);
        size_t len = strlen(msg);
        assert_int_equal(ca_signer_sign(s, sig, &sig_len, msg, len, &eb), CA_OK);
        assert_int_equal(ca_verify_sig(k, alg, sig, sig_len, msg, len, &eb), CA_OK);
        for (size_t bit = 0; bit < sig_len * 8; bit++) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (ca_verify_sig(k, alg, sig, sig_len, msg, len, &eb) != CA_ERR_VERIFY)
                fail_msg("%s: flipping signature bit %zu went unnoticed", ca_jws_alg_name(alg),
                         bit);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < len * 8; bit++) {
            msg[bit / 8] ^= (char)(1u << (bit % 8));
            if (ca_verify_sig(k, alg, sig, sig_len, msg, len, &eb) != CA_ERR_VERIFY)
                fail_msg("%s: flipping message bit %zu went unnoticed", ca_jws_alg_name(alg),
                         bit);
            msg[bit / 8] ^= (char)(1u << (bit % 8));
        }
        assert_int_equal(ca_verify_sig(k, alg, sig, sig_len, msg, len, &eb), CA_OK);
        ca_verify_key_free(k);
        ca_signer_free(s);
    }
}

/* The key's algorithm decides, never the claimed one: a valid EdDSA signature claimed as
 * ES256 (also 64 bytes), or as any other alg, fails; likewise for every key. */
static void test_alg_confusion(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    for (size_t i = 0; i < 4; i++) {
        ca_signer *s = new_signer(all_algs[i]);
        ca_verify_key *k = jwk_of(s);
        uint8_t sig[CA_SIG_MAX];
        size_t sig_len = 0;
        assert_int_equal(ca_signer_sign(s, sig, &sig_len, "m", 1, &eb), CA_OK);
        for (size_t j = 0; j < 4; j++) {
            ca_err want = i == j ? CA_OK : CA_ERR_VERIFY;
            eb.msg[0] = '\0';
            assert_int_equal(ca_verify_sig(k, all_algs[j], sig, sig_len, "m", 1, &eb), want);
            if (want != CA_OK)
                assert_non_null(strstr(eb.msg, "not the key's"));
        }
        ca_verify_key_free(k);
        ca_signer_free(s);
    }
}

static void expect_jwk_refused(const char *text, const char *needle)
{
    ca_errbuf eb = {{0}};
    ca_verify_key *k = (ca_verify_key *)1;
    ca_err rc = jwk_key(&k, text, &eb);
    if (rc != CA_ERR_INVALID)
        fail_msg("JWK accepted (rc %d): %s", rc, text);
    assert_null(k);
    if (needle && !strstr(eb.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, needle);
}

static void test_jwk_refusals(void **state)
{
    (void)state;
    /* Private members, whatever the key type. */
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\",\"%s\":\"AA\"}",
                 priv[i]);
        expect_jwk_refused(text, "private member");
        snprintf(text, sizeof text,
                 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X "\",\"y\":\"" RFC7515_A3_Y
                 "\",\"%s\":\"" RFC7515_A3_D "\"}",
                 priv[i]);
        expect_jwk_refused(text, "private member");
    }
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"" RFC8037_D
                       "\",\"x\":\"" RFC8037_X "\"}",
                       "\"d\"");

    /* P-256 point not on the curve: y + 1 ... the RFC's y with its last byte changed. */
    expect_jwk_refused("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
                       "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}",
                       "not on the P-256 curve");
    /* The P-256 point claimed as secp256k1 is not on that curve either. */
    expect_jwk_refused("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" RFC7515_A3_X
                       "\",\"y\":\"" RFC7515_A3_Y "\"}",
                       "not on the secp256k1 curve");
    /* x = y = 0. */
    expect_jwk_refused("{\"kty\":\"EC\",\"crv\":\"P-256\","
                       "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                       "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                       NULL);
    /* Ed25519: y = 2 has no x (RFC 8032 §5.1.3 step 3); y = p is not canonical; y = 1 with
     * the sign bit set means x = 0 with sign 1, invalid (step 4). */
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                       "not an Ed25519 curve point");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"7f_______________________________________38\"}",
                       "not an Ed25519 curve point");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA\"}",
                       "not an Ed25519 curve point");
    /* Small-order points: the identity (y = 1), y = 0, and y = p - 1. */
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                       "small order");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                       "small order");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"7P_______________________________________38\"}",
                       "small order");
    /* ... while y = 3 is an ordinary point and is accepted. */
    ca_verify_key *k = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(jwk_key(&k, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                 "\"x\":\"AwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", &eb),
                     CA_OK);
    ca_verify_key_free(k);

    /* Lengths and encodings. */
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "A\"}", "\"x\"");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "=\"}", "\"x\"");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                       "\"x\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                       "\"x\"");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "missing");
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":32}", "not a string");
    /* A short (not full-length) EC coordinate, RFC 7518 §6.2.1.2. */
    expect_jwk_refused("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
                       "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5Q\"}",
                       "\"y\"");
    /* Unknown key types and curves. */
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC8037_X "\"}", "kty");
    expect_jwk_refused("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" RFC7515_A3_X
                       "\",\"y\":\"" RFC7515_A3_Y "\"}", "kty");
    expect_jwk_refused("{\"kty\":\"oct\"}", "kty");
    expect_jwk_refused("{\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}", "kty");
    expect_jwk_refused("[]", "not a JSON object");
    /* An "alg" that is not the key's. */
    expect_jwk_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"ES256\",\"x\":\"" RFC8037_X
                       "\"}", "alg");
    assert_int_equal(jwk_key(&k, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"EdDSA\","
                                 "\"use\":\"sig\",\"x\":\"" RFC8037_X "\"}", &eb),
                     CA_OK);
    ca_verify_key_free(k);

    /* RSA: the RFC modulus with e even, e = 1, a leading zero octet, or a 1024-bit modulus. */
    expect_jwk_refused("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAA\"}", "odd");
    expect_jwk_refused("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQ\"}", "odd");
    expect_jwk_refused("{\"kty\":\"RSA\",\"n\":\"AAAA" RFC7515_A2_N "\",\"e\":\"AQAB\"}",
                       "leading zero");
    expect_jwk_refused("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\"}", "\"e\"");
    /* The first 128 bytes of the RFC modulus (made odd): 1024 bits. */
    uint8_t nb[256];
    assert_int_equal(b64d(nb, sizeof nb, RFC7515_A2_N), 256);
    nb[127] |= 1;
    char n64[200], small[300];
    ca_base64url_encode(n64, nb, 128);
    snprintf(small, sizeof small, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n64);
    expect_jwk_refused(small, "2048..4096");
}

/* Secrets that are not valid keys of the alg. */
static void test_open_refusals(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    ca_signer *s = (ca_signer *)1;
    uint8_t zero[32] = {0}, secret[64] = {1};
    /* The secp256k1 order n and the P-256 order n: out of range. */
    static const uint8_t k1_n[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
    static const uint8_t p256_n[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    assert_int_equal(ca_signer_open(&s, CA_ALG_EDDSA, secret, 31, &eb), CA_ERR_INVALID);
    assert_null(s);
    assert_int_equal(ca_signer_open(&s, CA_ALG_EDDSA, secret, 33, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256K, zero, 32, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256K, k1_n, 32, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256K, secret, 33, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256, zero, 32, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256, p256_n, 32, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256, secret, 31, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "ES256"));
    /* n - 1 is the largest valid scalar for both curves. */
    uint8_t top[32];
    memcpy(top, p256_n, 32);
    top[31]--;
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256, top, 32, &eb), CA_OK);
    ca_signer_free(s);
    memcpy(top, k1_n, 32);
    top[31]--;
    assert_int_equal(ca_signer_open(&s, CA_ALG_ES256K, top, 32, &eb), CA_OK);
    ca_signer_free(s);

    /* RSA: garbage, a truncated DER, trailing bytes, a 1024-bit key, and an EC PKCS#8. */
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, secret, sizeof secret, &eb),
                     CA_ERR_INVALID);
    static uint8_t der[CA_SIGNER_SECRET_MAX + 1];
    size_t n = rfc7515_rsa_pkcs8(der, sizeof der);
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, n - 1, &eb), CA_ERR_INVALID);
    der[n] = 0;
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, n + 1, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, n, &eb), CA_OK);
    ca_signer_free(s);
    /* The RFC key's d altered: the pairwise check notices. */
    der[n / 2] ^= 0x01;
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, n, &eb), CA_ERR_INVALID);
    assert_null(s);

    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(small);
    assert_non_null(ec);
    EVP_PKEY *keys[2] = {small, ec};
    for (int i = 0; i < 2; i++) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(keys[i]);
        uint8_t *p = der;
        int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &p);
        assert_true(len > 0);
        eb.msg[0] = '\0';
        assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, (size_t)len, &eb),
                         CA_ERR_INVALID);
        assert_non_null(strstr(eb.msg, i == 0 ? "2048..4096" : "not an RSA"));
        PKCS8_PRIV_KEY_INFO_free(p8);
        EVP_PKEY_free(keys[i]);
    }
    ca_wipe(der, sizeof der);
}

/* RSA generation: a 2048-bit PKCS#8 that reopens. */
static void test_rsa_generate(void **state)
{
    (void)state;
    static uint8_t secret[CA_SIGNER_SECRET_MAX];
    size_t len = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_signer_generate(secret, &len, CA_ALG_RS256, &eb), CA_OK);
    const uint8_t *p = secret;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    assert_non_null(p8);
    assert_ptr_equal(p, secret + len);
    EVP_PKEY *pkey = EVP_PKCS82PKEY(p8);
    assert_non_null(pkey);
    assert_int_equal(EVP_PKEY_get_bits(pkey), CA_RSA_BITS);
    EVP_PKEY_free(pkey);
    PKCS8_PRIV_KEY_INFO_free(p8);
    ca_wipe(secret, sizeof secret);
}

/* ---- concurrency ---- */

typedef struct worker {
    const ca_signer *s;
    const ca_verify_key *k;
    int id;
    int failures;
} worker;

static void *sign_many(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 40; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "thread %d message %d", w->id, i);
        uint8_t sig[CA_SIG_MAX];
        size_t sig_len = 0;
        if (ca_signer_sign(w->s, sig, &sig_len, msg, (size_t)len, NULL) != CA_OK ||
            ca_verify_sig(w->k, ca_signer_alg(w->s), sig, sig_len, msg, (size_t)len, NULL) !=
                CA_OK)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent_signing(void **state)
{
    (void)state;
    for (size_t a = 0; a < 4; a++) {
        ca_signer *s = new_signer(all_algs[a]);
        ca_verify_key *k = jwk_of(s);
        pthread_t th[4];
        worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (worker){s, k, i, 0};
            assert_int_equal(pthread_create(&th[i], NULL, sign_many, &w[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(w[i].failures, 0);
        }
        ca_verify_key_free(k);
        ca_signer_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_rfc8037_ed25519),
        cmocka_unit_test(test_rfc7515_rs256),
        cmocka_unit_test(test_rfc7515_es256),
        cmocka_unit_test(test_es256k_libsecp256k1),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_alg_confusion),
        cmocka_unit_test(test_jwk_refusals),
        cmocka_unit_test(test_open_refusals),
        cmocka_unit_test(test_rsa_generate),
        cmocka_unit_test(test_concurrent_signing),
    };
    return ca_run_tests("signer", tests, NULL, NULL);
}
