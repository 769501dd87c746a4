/* Tests for credential/jws.c: RFC 8037 §A.4 (exact compact output), RFC 7515 §A.2 (RS256:
 * the RFC's JWS parses and verifies, and signing with the RFC's key reproduces it exactly),
 * RFC 7515 §A.3 (ES256 verify), header member order, and strict parsing: "none", unknown algs,
 * "crit", duplicates, part counts, empty parts, padding, whitespace, size cap, every character
 * of a token substituted, and algorithm confusion. */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/encoding.h"
#include "credanchor/jws.h"
#include "credanchor/signer.h"

/* RFC 8037 §A.1, §A.4 */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_JWS                                                                              \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."                                  \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

/* RFC 7515 §A.2, §A.3: the payload (with its CR LF line breaks) and the two JWSs. */
static const char rfc7515_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
#define RFC7515_PAYLOAD64                                                                        \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC7515_A2_JWS                                                                           \
    "eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD64 "."                                                \
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
#define RFC7515_A3_JWS                                                                           \
    "eyJhbGciOiJFUzI1NiJ9." RFC7515_PAYLOAD64 "."                                                \
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
#define RFC7515_A3_JWK                                                                           \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","   \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"

static size_t b64d(uint8_t *out, size_t cap, const char *text)
{
    size_t n = cap;
    assert_int_equal(ca_base64url_decode(out, &n, text, strlen(text)), CA_OK);
    return n;
}

static ca_verify_key *key_from(const char *jwk_text)
{
    json_error_t jerr;
    json_t *j = json_loads(jwk_text, 0, &jerr);
    assert_non_null(j);
    ca_verify_key *k = NULL;
    ca_errbuf eb = {{0}};
    if (ca_verify_key_from_jwk(&k, j, &eb) != CA_OK)
        fail_msg("%s", eb.msg);
    json_decref(j);
    return k;
}

/* The RFC 7515 §A.2 RSA private key as PKCS#8 DER. */
static size_t rfc7515_rsa_pkcs8(uint8_t *out, size_t cap)
{
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
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    assert_non_null(params);
    assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
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
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_generate(secret, &len, alg, NULL), CA_OK);
    assert_int_equal(ca_signer_open(&s, alg, secret, len, NULL), CA_OK);
    return s;
}

static ca_verify_key *verify_key_of(const ca_signer *s)
{
    json_t *jwk = NULL;
    ca_verify_key *k = NULL;
    assert_int_equal(ca_signer_public_jwk(&jwk, s, NULL), CA_OK);
    assert_int_equal(ca_verify_key_from_jwk(&k, jwk, NULL), CA_OK);
    json_decref(jwk);
    return k;
}

/* "<b64url(header)>.<b64url(payload)>.<sig>" from raw texts; caller frees. */
static char *make_token(const char *header, const char *payload, const char *sig64)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *out = malloc(ca_base64url_encoded_len(hl) + ca_base64url_encoded_len(pl) +
                       strlen(sig64) + 4);
    assert_non_null(out);
    ca_base64url_encode(out, (const uint8_t *)header, hl);
    strcat(out, ".");
    ca_base64url_encode(out + strlen(out), (const uint8_t *)payload, pl);
    strcat(out, ".");
    strcat(out, sig64);
    return out;
}

static void expect_refused(const char *text, size_t len, ca_err want, const char *needle)
{
    ca_jws jws;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_jws_parse(&jws, text, len, &eb);
    if (rc != want)
        fail_msg("parse of \"%.80s\" gave %d, want %d (%s)", text, rc, want, eb.msg);
    assert_null(jws.header);
    assert_null(jws.payload);
    if (needle && !strstr(eb.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, needle);
}

/* ---- tests ---- */

/* RFC 8037 §A.4: the RFC's key and payload give the RFC's compact JWS exactly. Its payload is
 * a sentence, not a JSON object, so ca_jws_parse (credentials only) refuses it; the signature
 * is checked over the signing input directly (§A.5). */
static void test_rfc8037_exact(void **state)
{
    (void)state;
    uint8_t seed[32];
    ca_errbuf eb = {{0}};
    assert_int_equal(b64d(seed, sizeof seed, RFC8037_D), 32);
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_EDDSA, seed, 32, &eb), CA_OK);
    char *jws = NULL;
    size_t len = 0;
    static const char payload[] = "Example of Ed25519 signing";
    assert_int_equal(ca_jws_sign(&jws, &len, s, NULL, NULL, payload, strlen(payload), &eb),
                     CA_OK);
    assert_string_equal(jws, RFC8037_JWS);
    assert_int_equal(len, strlen(RFC8037_JWS));

    expect_refused(jws, len, CA_ERR_INVALID, "payload");
    ca_verify_key *k =
        key_from("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}");
    uint8_t sig[64];
    const char *dot2 = strrchr(jws, '.');
    assert_int_equal(b64d(sig, sizeof sig, dot2 + 1), 64);
    assert_int_equal(ca_verify_sig(k, CA_ALG_EDDSA, sig, 64, jws, (size_t)(dot2 - jws), &eb),
                     CA_OK);
    ca_verify_key_free(k);
    free(jws);
    ca_signer_free(s);
}

/* RFC 7515 §A.2: parse and verify the RFC's RS256 JWS; signing the RFC payload with the
 * RFC's key reproduces the whole token. */
static void test_rfc7515_a2(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    ca_jws jws;
    assert_int_equal(ca_jws_parse(&jws, RFC7515_A2_JWS, strlen(RFC7515_A2_JWS), &eb), CA_OK);
    assert_int_equal(jws.alg, CA_ALG_RS256);
    assert_null(jws.kid);
    assert_int_equal(jws.sig_len, 256);
    assert_int_equal(jws.signing_input_len, strlen("eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD64));
    assert_string_equal(json_string_value(json_object_get(jws.payload, "iss")), "joe");
    assert_int_equal(json_integer_value(json_object_get(jws.payload, "exp")), 1300819380);
    assert_true(json_is_true(json_object_get(jws.payload, "http://example.com/is_root")));

    ca_verify_key *k = key_from("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}");
    assert_int_equal(ca_jws_verify(&jws, RFC7515_A2_JWS, k, &eb), CA_OK);
    ca_jws_clear(&jws);
    ca_jws_clear(&jws); /* idempotent */

    static uint8_t der[CA_SIGNER_SECRET_MAX];
    size_t der_len = rfc7515_rsa_pkcs8(der, sizeof der);
    ca_signer *s = NULL;
    assert_int_equal(ca_signer_open(&s, CA_ALG_RS256, der, der_len, &eb), CA_OK);
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(ca_jws_sign(&out, &out_len, s, NULL, NULL, rfc7515_payload,
                                 strlen(rfc7515_payload), &eb),
                     CA_OK);
    assert_string_equal(out, RFC7515_A2_JWS);
    free(out);
    ca_signer_free(s);
    ca_verify_key_free(k);
}

/* RFC 7515 §A.3: the RFC's ES256 JWS verifies with the RFC's public JWK. */
static void test_rfc7515_a3(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    ca_jws jws;
    assert_int_equal(ca_jws_parse(&jws, RFC7515_A3_JWS, strlen(RFC7515_A3_JWS), &eb), CA_OK);
    assert_int_equal(jws.alg, CA_ALG_ES256);
    assert_int_equal(jws.sig_len, 64);
    ca_verify_key *k = key_from(RFC7515_A3_JWK);
    assert_int_equal(ca_jws_verify(&jws, RFC7515_A3_JWS, k, &eb), CA_OK);
    /* The RS256 key is not this token's. */
    ca_verify_key *rsa =
        key_from("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}");
    assert_int_equal(ca_jws_verify(&jws, RFC7515_A3_JWS, rsa, &eb), CA_ERR_VERIFY);
    ca_verify_key_free(rsa);
    ca_verify_key_free(k);
    ca_jws_clear(&jws);
}

/* Every alg: the header is {"alg","kid","typ"} in that order, and the token round trips. */
static void test_sign_parse_verify(void **state)
{
    (void)state;
    static const ca_jws_alg algs[] = {CA_ALG_EDDSA, CA_ALG_ES256K, CA_ALG_ES256, CA_ALG_RS256};
    static const char payload[] = "{\"iss\":\"did:example:issuer\",\"vc\":{\"type\":[\"x\"]}}";
    ca_errbuf eb = {{0}};
    for (size_t i = 0; i < 4; i++) {
        ca_signer *s = new_signer(algs[i]);
        ca_verify_key *k = verify_key_of(s);
        char *tok = NULL;
        size_t len = 0;
        assert_int_equal(ca_jws_sign(&tok, &len, s, "did:example:issuer#key-1", "vc+jwt",
                                     payload, strlen(payload), &eb),
                         CA_OK);
        assert_int_equal(strlen(tok), len);
        /* The header text, exactly. */
        char want[200];
        snprintf(want, sizeof want,
                 "{\"alg\":\"%s\",\"kid\":\"did:example:issuer#key-1\",\"typ\":\"vc+jwt\"}",
                 ca_jws_alg_name(algs[i]));
        uint8_t hdr[256];
        size_t hl = sizeof hdr;
        assert_int_equal(ca_base64url_decode(hdr, &hl, tok, (size_t)(strchr(tok, '.') - tok)),
                         CA_OK);
        assert_int_equal(hl, strlen(want));
        assert_memory_equal(hdr, want, hl);

        ca_jws jws;
        assert_int_equal(ca_jws_parse(&jws, tok, len, &eb), CA_OK);
        assert_int_equal(jws.alg, algs[i]);
        assert_string_equal(jws.kid, "did:example:issuer#key-1");
        assert_string_equal(json_string_value(json_object_get(jws.payload, "iss")),
                            "did:example:issuer");
        assert_int_equal(ca_jws_verify(&jws, tok, k, &eb), CA_OK);
        ca_jws_clear(&jws);
        free(tok);

        /* kid only, typ only, neither. */
        assert_int_equal(ca_jws_sign(&tok, &len, s, NULL, "JWT", payload, strlen(payload), &eb),
                         CA_OK);
        assert_int_equal(ca_jws_parse(&jws, tok, len, &eb), CA_OK);
        assert_null(jws.kid);
        assert_string_equal(json_string_value(json_object_get(jws.header, "typ")), "JWT");
        assert_int_equal(json_object_size(jws.header), 2);
        assert_int_equal(ca_jws_verify(&jws, tok, k, &eb), CA_OK);
        ca_jws_clear(&jws);
        free(tok);
        assert_int_equal(ca_jws_sign(&tok, &len, s, "k1", NULL, payload, strlen(payload), &eb),
                         CA_OK);
        assert_int_equal(ca_jws_parse(&jws, tok, len, &eb), CA_OK);
        assert_string_equal(jws.kid, "k1");
        assert_int_equal(json_object_size(jws.header), 2);
        ca_jws_clear(&jws);
        free(tok);

        ca_verify_key_free(k);
        ca_signer_free(s);
    }
}

/* A kid that is not UTF-8 is refused rather than signed. */
static void test_sign_bad_kid(void **state)
{
    (void)state;
    ca_signer *s = new_signer(CA_ALG_EDDSA);
    char *tok = (char *)1;
    size_t len = 7;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_jws_sign(&tok, &len, s, "bad\xff", NULL, "{}", 2, &eb), CA_ERR_INVALID);
    assert_null(tok);
    assert_int_equal(len, 0);
    ca_signer_free(s);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    static const char sig64[] = "AAAA";
    char *t;

    /* "none" (RFC 7518 §3.6), with and without a signature part. */
    t = make_token("{\"alg\":\"none\"}", "{}", sig64);
    expect_refused(t, strlen(t), CA_ERR_INVALID, "none");
    free(t);
    static const char none_empty[] = "eyJhbGciOiJub25lIn0.e30.";
    expect_refused(none_empty, strlen(none_empty), CA_ERR_INVALID, NULL);

    /* Unknown, mis-cased, non-string or missing alg; crit; duplicate names; bad kid/typ. */
    static const struct {
        const char *header, *needle;
    } bad_headers[] = {
        {"{\"alg\":\"HS256\"}", "alg"},
        {"{\"alg\":\"eddsa\"}", "alg"},
        {"{\"alg\":\"EdDSA\\u0000\"}", "header"},
        {"{\"alg\":1}", "alg"},
        {"{\"typ\":\"JWT\"}", "alg"},
        {"{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}", "crit"},
        {"{\"alg\":\"EdDSA\",\"crit\":[]}", "crit"},
        {"{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\"}", "header"},
        {"{\"alg\":\"none\",\"alg\":\"EdDSA\"}", "header"},
        {"{\"alg\":\"EdDSA\",\"kid\":5}", "kid"},
        {"{\"alg\":\"EdDSA\",\"typ\":null}", "typ"},
        {"[\"alg\",\"EdDSA\"]", "header"},
        {"\"EdDSA\"", "header"},
        {"{\"alg\":\"EdDSA\"} ", NULL}, /* trailing space is fine inside JSON */
        {"{\"alg\":\"EdDSA\"}x", "header"},
        {"{\"alg\":\"Ed\xff\"}", "header"},
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        t = make_token(bad_headers[i].header, "{}", sig64);
        if (!bad_headers[i].needle && strstr(bad_headers[i].header, "} ")) {
            ca_jws jws;
            assert_int_equal(ca_jws_parse(&jws, t, strlen(t), NULL), CA_OK);
            ca_jws_clear(&jws);
        } else {
            expect_refused(t, strlen(t), CA_ERR_INVALID, bad_headers[i].needle);
        }
        free(t);
    }

    /* Payloads: not an object, duplicates, not JSON. */
    static const char *const bad_payloads[] = {"[]", "\"s\"", "{\"a\":1,\"a\":2}", "{", "null",
                                               "Example of Ed25519 signing"};
    for (size_t i = 0; i < sizeof bad_payloads / sizeof bad_payloads[0]; i++) {
        t = make_token("{\"alg\":\"EdDSA\"}", bad_payloads[i], sig64);
        expect_refused(t, strlen(t), CA_ERR_INVALID, "payload");
        free(t);
    }

    /* Structure: part counts, empty parts, padding, whitespace, other alphabets. */
    static const char *const bad_tokens[] = {
        "",
        "eyJhbGciOiJFZERTQSJ9",
        "eyJhbGciOiJFZERTQSJ9.e30",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA.AAAA",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA.",
        "eyJhbGciOiJFZERTQSJ9.e30..AAAA",
        ".e30.AAAA",
        "eyJhbGciOiJFZERTQSJ9..AAAA",
        "eyJhbGciOiJFZERTQSJ9.e30.",
        "..",
        "eyJhbGciOiJFZERTQSJ9.e30=.AAAA",
        "eyJhbGciOiJFZERTQSJ9.e30.AA==",
        "eyJhbGciOiJFZERTQSJ9.e30.AAA=",
        "eyJhbGciOiJFZERTQSJ9 .e30.AAAA",
        " eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA ",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA\n",
        "eyJhbGciOiJFZERTQSJ9.\ne30.AAAA",
        "eyJhbGciOiJFZERT\r\nQSJ9.e30.AAAA",
        "eyJhbGciOiJFZERTQSJ9.e30.AA\tAA",
        "eyJhbGciOiJFZERTQSJ9.e30.AA+A",
        "eyJhbGciOiJFZERTQSJ9.e30.AA/A",
        "eyJhbGciOiJFZERTQSJ9.e31.AAAA", /* non-canonical trailing bits */
        "eyJhbGciOiJFZERTQSJ9.e30.A",    /* impossible length */
    };
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++)
        expect_refused(bad_tokens[i], strlen(bad_tokens[i]), CA_ERR_INVALID, NULL);
    /* A NUL inside the given length. */
    static const char with_nul[] = "eyJhbGciOiJFZERTQSJ9.e30.AA\0A";
    expect_refused(with_nul, sizeof with_nul - 1, CA_ERR_INVALID, "signature");

    /* Messages name the part. */
    expect_refused("eyJhbGciOiJFZERTQSJ9.e30=.AAAA", 30, CA_ERR_INVALID, "payload");
    expect_refused("eyJhbGciOiJFZERTQSJ9.e30.AA==", 29, CA_ERR_INVALID, "signature");
    expect_refused("eyJhbGciOiJFZERTQSJ9 .e30.AAAA", 30, CA_ERR_INVALID, "header");

    /* A signature longer than CA_SIG_MAX bytes. */
    char longsig[1024];
    memset(longsig, 'A', 700);
    longsig[700] = '\0';
    t = make_token("{\"alg\":\"RS256\"}", "{}", longsig);
    expect_refused(t, strlen(t), CA_ERR_INVALID, "signature");
    free(t);

    /* Over the size cap: CA_ERR_TOO_LARGE before anything is decoded. */
    size_t big = CA_JWS_MAX + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, 'A', big);
    huge[0] = 'e';
    huge[10] = '.';
    huge[20] = '.';
    huge[big] = '\0';
    expect_refused(huge, big, CA_ERR_TOO_LARGE, NULL);
    free(huge);
}

/* Substituting any single character of a valid token (with another base64url character, a
 * '.', '=' or a space) makes it fail to parse or fail to verify. */
static void test_char_substitution(void **state)
{
    (void)state;
    static const ca_jws_alg algs[] = {CA_ALG_EDDSA, CA_ALG_ES256K, CA_ALG_ES256};
    static const char payload[] = "{\"sub\":\"did:example:alice\",\"n\":1}";
    for (size_t a = 0; a < 3; a++) {
        ca_signer *s = new_signer(algs[a]);
        ca_verify_key *k = verify_key_of(s);
        char *tok = NULL;
        size_t len = 0;
        assert_int_equal(ca_jws_sign(&tok, &len, s, "k", "JWT", payload, strlen(payload), NULL),
                         CA_OK);
        static const char subs[] = {'A', 'B', 'g', '_', '-', '.', '=', ' '};
        for (size_t i = 0; i < len; i++) {
            char orig = tok[i];
            for (size_t j = 0; j < sizeof subs; j++) {
                if (subs[j] == orig)
                    continue;
                tok[i] = subs[j];
                ca_jws jws;
                if (ca_jws_parse(&jws, tok, len, NULL) == CA_OK) {
                    if (ca_jws_verify(&jws, tok, k, NULL) != CA_ERR_VERIFY)
                        fail_msg("%s: '%c' at %zu went unnoticed", ca_jws_alg_name(algs[a]),
                                 subs[j], i);
                    ca_jws_clear(&jws);
                }
            }
            tok[i] = orig;
        }
        ca_jws jws;
        assert_int_equal(ca_jws_parse(&jws, tok, len, NULL), CA_OK);
        assert_int_equal(ca_jws_verify(&jws, tok, k, NULL), CA_OK);
        /* Truncated by one character, or extended. */
        ca_jws_clear(&jws);
        if (ca_jws_parse(&jws, tok, len - 1, NULL) == CA_OK) {
            assert_int_equal(ca_jws_verify(&jws, tok, k, NULL), CA_ERR_VERIFY);
            ca_jws_clear(&jws);
        }
        free(tok);
        ca_verify_key_free(k);
        ca_signer_free(s);
    }
}

/* Algorithm confusion: an EdDSA signature under a header claiming ES256 (both 64 bytes) does
 * not verify with the EdDSA key, and the ES256 key refuses it too. */
static void test_alg_confusion(void **state)
{
    (void)state;
    ca_signer *s = new_signer(CA_ALG_EDDSA);
    ca_verify_key *k = verify_key_of(s);
    ca_verify_key *p256 = key_from(RFC7515_A3_JWK);
    char *tok = NULL;
    size_t len = 0;
    assert_int_equal(ca_jws_sign(&tok, &len, s, NULL, NULL, "{}", 2, NULL), CA_OK);
    const char *sig64 = strrchr(tok, '.') + 1;
    char *forged = make_token("{\"alg\":\"ES256\"}", "{}", sig64);
    ca_jws jws;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_jws_parse(&jws, forged, strlen(forged), &eb), CA_OK);
    assert_int_equal(jws.alg, CA_ALG_ES256);
    assert_int_equal(ca_jws_verify(&jws, forged, k, &eb), CA_ERR_VERIFY);
    assert_non_null(strstr(eb.msg, "not the key's"));
    assert_int_equal(ca_jws_verify(&jws, forged, p256, &eb), CA_ERR_VERIFY);
    ca_jws_clear(&jws);
    /* The genuine token still verifies. */
    assert_int_equal(ca_jws_parse(&jws, tok, len, &eb), CA_OK);
    assert_int_equal(ca_jws_verify(&jws, tok, k, &eb), CA_OK);
    ca_jws_clear(&jws);
    free(forged);
    free(tok);
    ca_verify_key_free(p256);
    ca_verify_key_free(k);
    ca_signer_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8037_exact),
        cmocka_unit_test(test_rfc7515_a2),
        cmocka_unit_test(test_rfc7515_a3),
        cmocka_unit_test(test_sign_parse_verify),
        cmocka_unit_test(test_sign_bad_kid),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_char_substitution),
        cmocka_unit_test(test_alg_confusion),
    };
    return ca_run_tests("jws", tests, NULL, NULL);
}
