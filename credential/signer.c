/* Issuer signing keys and JOSE signatures (signer.h, SPEC §5).
 *
 *   EdDSA   RFC 8037 §3.1: Ed25519 (RFC 8032 §5.1) over the JWS signing input, 64 bytes.
 *   ES256K  RFC 8812 §3.2: ECDSA secp256k1 over SHA-256, r || s, low-s (libsecp256k1, which
 *           signs deterministically per RFC 6979 and normalizes s).
 *   ES256   RFC 7518 §3.4: ECDSA P-256 over SHA-256, r || s, each 32 bytes big-endian.
 *           OpenSSL signs and verifies DER (SEC 1 / RFC 3279 Ecdsa-Sig-Value); we convert.
 *   RS256   RFC 7518 §3.3: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with SHA-256, modulus-sized.
 *
 * Public keys travel as JWKs (RFC 7517 §4; RFC 7518 §6.2.1 EC, §6.3.1 RSA; RFC 8037 §2 OKP;
 * RFC 8812 §3.1 crv "secp256k1"). An imported key is validated before use: EC points must be
 * on their curve, the Ed25519 x must decode to a point (RFC 8032 §5.1.3), RSA moduli must be
 * 2048..4096 bits with an odd public exponent, and a JWK with private members is refused.
 *
 * Thread safety: a ca_signer is never modified after ca_signer_open, and every signing call
 * uses its own EVP_MD_CTX; OpenSSL documents concurrent use of one EVP_PKEY as safe. For
 * secp256k1 the process's one context (ca_secp256k1_context in common/crypto.c) is created and
 * randomized for side-channel blinding once, under pthread_once, and then only read, which
 * libsecp256k1 documents as thread-safe. */
#include "credanchor/signer.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <limits.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

#define EC_COORD 32            /* P-256 / secp256k1 coordinate and scalar size */
#define EC_PUB_C 33            /* SEC 1 §2.3.3 compressed point */
#define EC_PUB_U 65            /* SEC 1 §2.3.3 uncompressed point */
#define EC_SIG 64              /* r || s */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096

struct ca_signer {
    ca_jws_alg alg;
    EVP_PKEY *pkey;                /* EdDSA, ES256, RS256 */
    uint8_t scalar[EC_COORD];      /* ES256K only */
    uint8_t pub[EC_PUB_U];         /* Ed25519 32 bytes, EC uncompressed 65 bytes; not RSA */
    size_t pub_len;
};

struct ca_verify_key {
    ca_jws_alg alg;
    EVP_PKEY *pkey;                /* EdDSA, ES256, RS256 */
    secp256k1_pubkey secp;         /* ES256K only */
};

/* ---- names (RFC 7518 §3.1, RFC 8037 §3.1, RFC 8812 §3.2) ---- */

const char *ca_jws_alg_name(ca_jws_alg alg)
{
    switch (alg) {
    case CA_ALG_EDDSA: return "EdDSA";
    case CA_ALG_ES256K: return "ES256K";
    case CA_ALG_ES256: return "ES256";
    case CA_ALG_RS256: return "RS256";
    }
    return NULL;
}

ca_err ca_jws_alg_parse(ca_jws_alg *alg, const char *name)
{
    CA_ASSERT(alg != NULL && name != NULL);
    static const ca_jws_alg all[] = {CA_ALG_EDDSA, CA_ALG_ES256K, CA_ALG_ES256, CA_ALG_RS256};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, ca_jws_alg_name(all[i])) == 0) {
            *alg = all[i];
            return CA_OK;
        }
    }
    return CA_ERR_INVALID;
}

static bool alg_known(ca_jws_alg alg)
{
    return ca_jws_alg_name(alg) != NULL;
}

/* ---- OpenSSL helpers ---- */

/* Signs msg with pkey: md NULL for pure Ed25519 (RFC 8032 PureEdDSA takes the message, not a
 * digest), SHA-256 otherwise; rsa selects PKCS#1 v1.5 padding explicitly. A fresh EVP_MD_CTX
 * per call keeps concurrent callers apart. */
static ca_err evp_sign(EVP_PKEY *pkey, const EVP_MD *md, bool rsa, uint8_t *sig, size_t *sig_len,
                       const void *msg, size_t len)
{
    static const uint8_t empty = 0;
    ca_err result = CA_ERR_CRYPTO;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) != 1)
        goto out;
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    if (EVP_DigestSign(ctx, sig, sig_len, len ? msg : &empty, len) != 1)
        goto out;
    result = CA_OK;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return result;
}

/* CA_OK when sig verifies, CA_ERR_VERIFY otherwise (including any OpenSSL failure on the
 * signature's contents: it does not verify, which is all the caller asked). */
static ca_err evp_verify(EVP_PKEY *pkey, const EVP_MD *md, bool rsa, const uint8_t *sig,
                         size_t sig_len, const void *msg, size_t len)
{
    static const uint8_t empty = 0;
    ca_err result = CA_ERR_VERIFY;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        result = CA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1)
        goto out;
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    if (EVP_DigestVerify(ctx, sig, sig_len, len ? msg : &empty, len) == 1)
        result = CA_OK;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return result;
}

/* RFC 8032 §5.1.3 point decoding, used to refuse an Ed25519 "x" that is not a curve point:
 * y (the low 255 bits, little-endian) must be < p = 2^255 - 19, and x^2 = (y^2 - 1) /
 * (d y^2 + 1) with d = -121665/121666 must have a square root; x = 0 with the sign bit set is
 * invalid. */
static bool ed25519_point_ok(const uint8_t pub[CA_ED25519_PUB_SIZE])
{
    bool ok = false;
    uint8_t le[CA_ED25519_PUB_SIZE];
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *p = BN_new(), *y = BN_new(), *d = BN_new(), *t = BN_new(), *u = BN_new(),
           *v = BN_new(), *x = BN_new();
    if (!bn || !p || !y || !d || !t || !u || !v || !x)
        goto out;
    memcpy(le, pub, sizeof le);
    int sign = le[31] >> 7;
    le[31] &= 0x7f;
    /* p = 2^255 - 19 */
    if (!BN_set_bit(p, 255) || !BN_sub_word(p, 19) || !BN_lebin2bn(le, sizeof le, y))
        goto out;
    if (BN_cmp(y, p) >= 0)
        goto out;
    /* d = -121665 * 121666^-1 mod p */
    if (!BN_set_word(t, 121666) || !BN_mod_inverse(d, t, p, bn) || !BN_set_word(t, 121665) ||
        !BN_mod_mul(d, d, t, p, bn) || !BN_mod_sub(d, p, d, p, bn))
        goto out;
    /* u = y^2 - 1, v = d y^2 + 1 */
    if (!BN_mod_sqr(t, y, p, bn) || !BN_copy(u, t) || !BN_sub_word(u, 1) ||
        !BN_nnmod(u, u, p, bn) || !BN_mod_mul(v, d, t, p, bn) || !BN_add_word(v, 1) ||
        !BN_nnmod(v, v, p, bn))
        goto out;
    if (!BN_mod_inverse(t, v, p, bn) || !BN_mod_mul(t, u, t, p, bn))
        goto out;
    if (BN_is_zero(t)) {
        ok = sign == 0;
        goto out;
    }
    ok = BN_mod_sqrt(x, t, p, bn) != NULL;
out:
    BN_free(x);
    BN_free(v);
    BN_free(u);
    BN_free(t);
    BN_free(d);
    BN_free(y);
    BN_free(p);
    BN_CTX_free(bn);
    ERR_clear_error();
    return ok;
}

/* The canonical encodings of the eight points of small order (the 8-torsion subgroup). A
 * public key among them would accept signatures that say nothing about the message's signer
 * (for A of small order, [k]A takes at most 8 values), so they are refused as keys. Computed
 * from the curve equation; they match the blocklists of libsodium and others. */
static const uint8_t ed25519_small_order[8][CA_ED25519_PUB_SIZE] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80},
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static bool ed25519_small(const uint8_t pub[CA_ED25519_PUB_SIZE])
{
    for (size_t i = 0; i < 8; i++)
        if (memcmp(pub, ed25519_small_order[i], CA_ED25519_PUB_SIZE) == 0)
            return true;
    return false;
}

/* A P-256 EVP_PKEY from a SEC 1 point (33 or 65 bytes), with the private scalar when scalar is
 * not NULL. The point is decoded and checked to be on the curve and not infinity; *uncomp (65
 * bytes, optional) receives the uncompressed form. CA_ERR_INVALID for a bad point. */
static ca_err p256_pkey(EVP_PKEY **out, uint8_t *uncomp, const uint8_t *point, size_t point_len,
                        const uint8_t scalar[EC_COORD])
{
    ca_err result = CA_ERR_CRYPTO;
    uint8_t u[EC_PUB_U];
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *priv = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    *out = NULL;
    if (!pt || !bn)
        goto out;
    if ((point_len != EC_PUB_C && point_len != EC_PUB_U) ||
        EC_POINT_oct2point(group, pt, point, point_len, bn) != 1 ||
        EC_POINT_is_at_infinity(group, pt) || EC_POINT_is_on_curve(group, pt, bn) != 1) {
        result = CA_ERR_INVALID;
        goto out;
    }
    if (EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, u, sizeof u, bn) !=
        sizeof u)
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1,
                                         0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, u, sizeof u))
        goto out;
    if (scalar) {
        priv = BN_secure_new();
        if (!priv || !BN_bin2bn(scalar, EC_COORD, priv) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, out, scalar ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) != 1)
        goto out;
    if (uncomp)
        memcpy(uncomp, u, sizeof u);
    result = CA_OK;
out:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* the private scalar's copy lives in secure memory (BN_secure) */
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    BN_CTX_free(bn);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    ERR_clear_error();
    return result;
}

/* The public point d*G of a P-256 scalar, uncompressed. CA_ERR_INVALID unless 1 <= d < n. */
static ca_err p256_public_of(uint8_t pub[EC_PUB_U], const uint8_t scalar[EC_COORD])
{
    ca_err result = CA_ERR_CRYPTO;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *d = BN_secure_new();
    if (!pt || !bn || !d || !BN_bin2bn(scalar, EC_COORD, d))
        goto out;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        result = CA_ERR_INVALID;
        goto out;
    }
    if (EC_POINT_mul(group, pt, d, NULL, NULL, bn) != 1 ||
        EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub, EC_PUB_U, bn) !=
            EC_PUB_U)
        goto out;
    result = CA_OK;
out:
    BN_clear_free(d);
    BN_CTX_free(bn);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    ERR_clear_error();
    return result;
}

/* RFC 7518 §3.4: the JWS signature is r || s, each left-padded to 32 bytes; OpenSSL speaks
 * DER. */
static ca_err ecdsa_der_to_raw(uint8_t raw[EC_SIG], const uint8_t *der, size_t der_len)
{
    ca_err result = CA_ERR_CRYPTO;
    const uint8_t *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    if (!es || p != der + der_len)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, raw, EC_COORD) != EC_COORD ||
        BN_bn2binpad(s, raw + EC_COORD, EC_COORD) != EC_COORD)
        goto out;
    result = CA_OK;
out:
    ECDSA_SIG_free(es);
    return result;
}

/* r || s -> DER into *der (malloc'd by OpenSSL; OPENSSL_free it). */
static ca_err ecdsa_raw_to_der(uint8_t **der, int *der_len, const uint8_t raw[EC_SIG])
{
    ca_err result = CA_ERR_CRYPTO;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, EC_COORD, NULL), *s = BN_bin2bn(raw + EC_COORD, EC_COORD, NULL);
    *der = NULL;
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    *der_len = i2d_ECDSA_SIG(es, der);
    if (*der_len <= 0)
        goto out;
    result = CA_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return result;
}

static int rsa_bits_ok(const EVP_PKEY *pkey)
{
    int bits = EVP_PKEY_get_bits(pkey);
    return bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS;
}

/* e must be odd and > 1 (RFC 8017 §3.1). */
static bool rsa_e_ok(const EVP_PKEY *pkey)
{
    BIGNUM *e = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_odd(e) &&
              !BN_is_one(e);
    BN_free(e);
    ERR_clear_error();
    return ok;
}

/* ---- signers ---- */

ca_err ca_signer_generate(uint8_t *secret, size_t *len, ca_jws_alg alg, ca_errbuf *eb)
{
    CA_ASSERT(secret != NULL && len != NULL);
    CA_ASSERT(alg_known(alg));
    ca_err result = CA_ERR_CRYPTO;
    EVP_PKEY *pkey = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    uint8_t pub[EC_PUB_U];
    *len = 0;
    switch (alg) {
    case CA_ALG_EDDSA:
        /* RFC 8032 §5.1.5: any 32 random bytes are a private key. */
        if (ca_ed25519_generate_seed(secret) != CA_OK)
            goto out;
        *len = CA_ED25519_SEED_SIZE;
        break;
    case CA_ALG_ES256K:
        if (ca_secp256k1_generate(secret) != CA_OK)
            goto out;
        *len = EC_COORD;
        break;
    case CA_ALG_ES256:
        /* A draw outside [1, n-1] has probability about 2^-32; retry it. */
        for (int tries = 0; tries < 64 && *len == 0; tries++) {
            if (ca_random_bytes(secret, EC_COORD) != CA_OK)
                goto out;
            if (p256_public_of(pub, secret) == CA_OK)
                *len = EC_COORD;
        }
        if (*len == 0)
            goto out;
        break;
    case CA_ALG_RS256: {
        /* RFC 7518 §3.3: 2048 bits or larger. Stored as PKCS#8 PrivateKeyInfo (RFC 5208);
         * i2d_PrivateKey would give PKCS#1 RSAPrivateKey, so PKCS#8 is encoded explicitly. */
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)CA_RSA_BITS);
        p8 = pkey ? EVP_PKEY2PKCS8(pkey) : NULL;
        int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, NULL) : -1;
        if (n <= 0 || n > CA_SIGNER_SECRET_MAX)
            goto out;
        uint8_t *p = secret;
        if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n)
            goto out;
        *len = (size_t)n;
        break;
    }
    }
    result = CA_OK;
out:
    PKCS8_PRIV_KEY_INFO_free(p8); /* its ASN.1 free callback cleanses the key bytes */
    EVP_PKEY_free(pkey);
    ca_wipe(pub, sizeof pub);
    ERR_clear_error();
    if (result != CA_OK) {
        ca_wipe(secret, CA_SIGNER_SECRET_MAX);
        *len = 0;
        result = ca_fail(eb, result, "cannot generate a %s key", ca_jws_alg_name(alg));
    }
    return result;
}

/* The openers of ca_signer_open, one per algorithm: each fills s from secret and returns
 * CA_OK, or an error with *why (left as it is when the caller's default reason fits). */
static ca_err open_ed25519(ca_signer *s, const uint8_t *secret, size_t len, const char **why)
{
    if (len != CA_ED25519_SEED_SIZE) {
        *why = "an Ed25519 seed is 32 bytes";
        return CA_ERR_INVALID;
    }
    s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, len);
    size_t pl = CA_ED25519_PUB_SIZE;
    if (!s->pkey || EVP_PKEY_get_raw_public_key(s->pkey, s->pub, &pl) != 1 ||
        pl != CA_ED25519_PUB_SIZE)
        return CA_ERR_CRYPTO;
    s->pub_len = CA_ED25519_PUB_SIZE;
    return CA_OK;
}

static ca_err open_secp256k1(ca_signer *s, const uint8_t *secret, size_t len, const char **why)
{
    const secp256k1_context *ctx = ca_secp256k1_context();
    secp256k1_pubkey pk;
    size_t pl = EC_PUB_U;
    if (!ctx)
        return CA_ERR_CRYPTO;
    if (len != EC_COORD || !secp256k1_ec_pubkey_create(ctx, &pk, secret)) {
        *why = "a secp256k1 key is a 32-byte scalar in [1, n-1]";
        return CA_ERR_INVALID;
    }
    if (!secp256k1_ec_pubkey_serialize(ctx, s->pub, &pl, &pk, SECP256K1_EC_UNCOMPRESSED))
        return CA_ERR_CRYPTO;
    memcpy(s->scalar, secret, EC_COORD);
    s->pub_len = EC_PUB_U;
    return CA_OK;
}

static ca_err open_p256(ca_signer *s, const uint8_t *secret, size_t len, const char **why)
{
    if (len != EC_COORD) {
        *why = "a P-256 key is a 32-byte scalar in [1, n-1]";
        return CA_ERR_INVALID;
    }
    ca_err rc = p256_public_of(s->pub, secret);
    if (rc == CA_OK)
        rc = p256_pkey(&s->pkey, NULL, s->pub, EC_PUB_U, secret);
    if (rc != CA_OK) {
        *why = "a P-256 key is a 32-byte scalar in [1, n-1]";
        return rc;
    }
    s->pub_len = EC_PUB_U;
    return CA_OK;
}

static ca_err open_rsa(ca_signer *s, const uint8_t *secret, size_t len, const char **why)
{
    ca_err result = CA_ERR_INVALID;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY_CTX *check = NULL;
    const uint8_t *p = secret;
    if (len == 0 || len > CA_SIGNER_SECRET_MAX || len > (size_t)LONG_MAX) {
        *why = "an RSA key is a PKCS#8 DER of at most 4096 bytes";
        goto out;
    }
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    if (!p8 || p != secret + len) {
        *why = "it is not one PKCS#8 DER private key";
        goto out;
    }
    s->pkey = EVP_PKCS82PKEY(p8);
    if (!s->pkey || !EVP_PKEY_is_a(s->pkey, "RSA")) {
        *why = "it is not an RSA private key";
        goto out;
    }
    if (!rsa_bits_ok(s->pkey) || !rsa_e_ok(s->pkey)) {
        *why = "the modulus must be 2048..4096 bits and the exponent odd";
        goto out;
    }
    /* The private half must match the public one (a corrupted CRT value would otherwise
     * yield signatures that do not verify, or leak a factor). */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, s->pkey, NULL);
    if (!check || EVP_PKEY_pairwise_check(check) != 1) {
        *why = "its private and public parts do not match";
        goto out;
    }
    result = CA_OK;
out:
    EVP_PKEY_CTX_free(check);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return result;
}

ca_err ca_signer_open(ca_signer **out, ca_jws_alg alg, const uint8_t *secret, size_t len,
                      ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && secret != NULL);
    CA_ASSERT(alg_known(alg));
    const char *name = ca_jws_alg_name(alg);
    const char *why = "it is not a valid key";
    ca_err result = CA_ERR_INVALID;
    *out = NULL;
    ca_signer *s = calloc(1, sizeof *s);
    if (!s) {
        result = CA_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    s->alg = alg;
    switch (alg) {
    case CA_ALG_EDDSA:
        result = open_ed25519(s, secret, len, &why);
        break;
    case CA_ALG_ES256K:
        result = open_secp256k1(s, secret, len, &why);
        break;
    case CA_ALG_ES256:
        result = open_p256(s, secret, len, &why);
        break;
    case CA_ALG_RS256:
        result = open_rsa(s, secret, len, &why);
        break;
    }
    if (result != CA_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    ca_signer_free(s);
    ERR_clear_error();
    if (result != CA_OK)
        result = ca_fail(eb, result, "cannot open the %s signing key: %s", name, why);
    return result;
}

void ca_signer_free(ca_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->pkey); /* OpenSSL cleanses key material it frees */
    ca_wipe(s, sizeof *s);
    free(s);
}

ca_jws_alg ca_signer_alg(const ca_signer *s)
{
    CA_ASSERT(s != NULL);
    return s->alg;
}

ca_err ca_signer_sign(const ca_signer *s, uint8_t *sig, size_t *sig_len, const void *msg,
                      size_t len, ca_errbuf *eb)
{
    CA_ASSERT(s != NULL && sig != NULL && sig_len != NULL);
    CA_ASSERT(msg != NULL || len == 0);
    ca_err result = CA_ERR_CRYPTO;
    uint8_t der[80];
    size_t n = 0;
    *sig_len = 0;
    switch (s->alg) {
    case CA_ALG_EDDSA:
        n = CA_SIG_MAX;
        if (evp_sign(s->pkey, NULL, false, sig, &n, msg, len) != CA_OK ||
            n != CA_ED25519_SIG_SIZE)
            goto out;
        break;
    case CA_ALG_ES256K: {
        /* RFC 8812 §3.2: ECDSA over SHA-256 of the input; libsecp256k1 signs with an RFC 6979
         * nonce and always returns the low-s form. */
        const secp256k1_context *ctx = ca_secp256k1_context();
        secp256k1_ecdsa_signature es;
        ca_hash h;
        ca_sha256(&h, len ? msg : "", len);
        if (!ctx || !secp256k1_ecdsa_sign(ctx, &es, h.b, s->scalar, NULL, NULL) ||
            !secp256k1_ecdsa_signature_serialize_compact(ctx, sig, &es))
            goto out;
        n = EC_SIG;
        break;
    }
    case CA_ALG_ES256:
        /* RFC 7518 §3.4: DER from OpenSSL, re-encoded as the fixed 64-byte r || s. */
        n = sizeof der;
        if (evp_sign(s->pkey, EVP_sha256(), false, der, &n, msg, len) != CA_OK ||
            ecdsa_der_to_raw(sig, der, n) != CA_OK)
            goto out;
        n = EC_SIG;
        break;
    case CA_ALG_RS256:
        /* RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256; the signature is modulus-sized. */
        n = CA_SIG_MAX;
        if ((size_t)EVP_PKEY_get_size(s->pkey) > CA_SIG_MAX ||
            evp_sign(s->pkey, EVP_sha256(), true, sig, &n, msg, len) != CA_OK)
            goto out;
        break;
    }
    *sig_len = n;
    result = CA_OK;
out:
    if (result != CA_OK)
        result = ca_fail(eb, result, "%s signing failed", ca_jws_alg_name(s->alg));
    return result;
}

/* ---- JWK export (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2, RFC 8812 §3.1) ---- */

/* A JSON string holding base64url without padding (RFC 7515 §2) of len bytes, or NULL. */
static json_t *b64_json(const uint8_t *data, size_t len)
{
    char *text = malloc(ca_base64url_encoded_len(len));
    json_t *j = NULL;
    if (!text)
        return NULL;
    ca_base64url_encode(text, data, len);
    j = json_string(text);
    free(text);
    return j;
}

/* Sets key to the big-endian bytes of bn without leading zeros (RFC 7518 §6.3.1.1). */
static int set_bn(json_t *obj, const char *key, const BIGNUM *bn)
{
    int n = BN_num_bytes(bn), rc = -1;
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || n <= 0 || BN_bn2bin(bn, buf) != n)
        goto out;
    rc = json_object_set_new(obj, key, b64_json(buf, (size_t)n));
out:
    free(buf);
    return rc;
}

/* RFC 8037 §2: {"kty":"OKP","crv":"Ed25519","x":<32 bytes>}; nonzero on failure. */
static int set_ed25519_jwk(json_t *j, const uint8_t pub[CA_ED25519_PUB_SIZE])
{
    return json_object_set_new(j, "kty", json_string("OKP")) ||
           json_object_set_new(j, "crv", json_string("Ed25519")) ||
           json_object_set_new(j, "x", b64_json(pub, CA_ED25519_PUB_SIZE));
}

ca_err ca_ed25519_public_jwk(json_t **jwk, const uint8_t *pub, ca_errbuf *eb)
{
    CA_ASSERT(jwk != NULL && pub != NULL);
    json_t *j = json_object();
    if (!j || set_ed25519_jwk(j, pub)) {
        json_decref(j);
        *jwk = NULL;
        return ca_fail(eb, CA_ERR_NOMEM, "cannot build the EdDSA public JWK");
    }
    *jwk = j;
    return CA_OK;
}

ca_err ca_signer_public_jwk(json_t **jwk, const ca_signer *s, ca_errbuf *eb)
{
    CA_ASSERT(jwk != NULL && s != NULL);
    ca_err result = CA_ERR_NOMEM;
    BIGNUM *n = NULL, *e = NULL;
    json_t *j = json_object();
    *jwk = NULL;
    if (!j)
        goto out;
    switch (s->alg) {
    case CA_ALG_EDDSA:
        if (set_ed25519_jwk(j, s->pub))
            goto out;
        break;
    case CA_ALG_ES256K:
    case CA_ALG_ES256:
        /* RFC 7518 §6.2.1: x and y, each the full 32-byte coordinate; crv "P-256" or, per
         * RFC 8812 §3.1, "secp256k1". */
        if (json_object_set_new(j, "kty", json_string("EC")) ||
            json_object_set_new(j, "crv",
                                json_string(s->alg == CA_ALG_ES256 ? "P-256" : "secp256k1")) ||
            json_object_set_new(j, "x", b64_json(s->pub + 1, EC_COORD)) ||
            json_object_set_new(j, "y", b64_json(s->pub + 1 + EC_COORD, EC_COORD)))
            goto out;
        break;
    case CA_ALG_RS256:
        /* RFC 7518 §6.3.1: n and e as unsigned big-endian integers, minimal length. */
        if (EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
            EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
            result = CA_ERR_CRYPTO;
            goto out;
        }
        if (json_object_set_new(j, "kty", json_string("RSA")) || set_bn(j, "n", n) ||
            set_bn(j, "e", e))
            goto out;
        break;
    }
    *jwk = j;
    j = NULL;
    result = CA_OK;
out:
    json_decref(j);
    BN_free(n);
    BN_free(e);
    ERR_clear_error();
    if (result != CA_OK)
        result = ca_fail(eb, result, "cannot build the %s public JWK", ca_jws_alg_name(s->alg));
    return result;
}

ca_err ca_signer_public_raw(const ca_signer *s, uint8_t *pub, size_t *pub_len, ca_errbuf *eb)
{
    CA_ASSERT(s != NULL && pub != NULL && pub_len != NULL);
    *pub_len = 0;
    switch (s->alg) {
    case CA_ALG_EDDSA:
        memcpy(pub, s->pub, CA_ED25519_PUB_SIZE);
        *pub_len = CA_ED25519_PUB_SIZE;
        return CA_OK;
    case CA_ALG_ES256K:
    case CA_ALG_ES256:
        /* SEC 1 §2.3.3 compressed: 0x02 | (y & 1), then x. */
        pub[0] = (uint8_t)(0x02 | (s->pub[EC_PUB_U - 1] & 1));
        memcpy(pub + 1, s->pub + 1, EC_COORD);
        *pub_len = EC_PUB_C;
        return CA_OK;
    case CA_ALG_RS256:
        break;
    }
    return ca_fail(eb, CA_ERR_INVALID, "an RS256 key has no raw (Multikey) public form");
}

/* ---- verification keys ---- */

/* Decodes member name of jwk: a base64url string without padding (RFC 7515 §2). want_len 0
 * accepts 1..cap bytes; otherwise exactly want_len bytes (RFC 7518 §6.2.1.2: coordinates are
 * full length). Returns NULL on success or a sentence fragment naming the problem. */
static const char *jwk_bytes(uint8_t *out, size_t *out_len, size_t cap, size_t want_len,
                             const json_t *jwk, const char *name)
{
    const json_t *v = json_object_get(jwk, name);
    if (!v)
        return "a required member is missing";
    if (!json_is_string(v))
        return "a member is not a string";
    size_t n = cap;
    if (ca_base64url_decode(out, &n, json_string_value(v), json_string_length(v)) != CA_OK)
        return "a member is not unpadded base64url of the right size";
    if (n == 0 || (want_len && n != want_len))
        return "a member has the wrong length";
    *out_len = n;
    return NULL;
}

static ca_err vk_new(ca_verify_key **k, ca_jws_alg alg)
{
    *k = calloc(1, sizeof **k);
    if (!*k)
        return CA_ERR_NOMEM;
    (*k)->alg = alg;
    return CA_OK;
}

/* Builds k from a validated public point / key bytes. */
static const char *vk_set_ed25519(ca_verify_key *k, const uint8_t *x, size_t len)
{
    if (len != CA_ED25519_PUB_SIZE)
        return "an Ed25519 public key is 32 bytes";
    if (!ed25519_point_ok(x))
        return "x is not an Ed25519 curve point (RFC 8032 5.1.3)";
    if (ed25519_small(x))
        return "x is a point of small order";
    k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, len);
    return k->pkey ? NULL : "OpenSSL refused the Ed25519 key";
}

static const char *vk_set_secp256k1(ca_verify_key *k, const uint8_t *point, size_t len)
{
    const secp256k1_context *ctx = ca_secp256k1_context();
    if (!ctx)
        return "libsecp256k1 is unavailable";
    /* ec_pubkey_parse checks the point is on the curve. */
    if ((len != EC_PUB_C && len != EC_PUB_U) || !secp256k1_ec_pubkey_parse(ctx, &k->secp, point, len))
        return "the point is not on the secp256k1 curve";
    return NULL;
}

static const char *vk_set_p256(ca_verify_key *k, const uint8_t *point, size_t len)
{
    ca_err rc = p256_pkey(&k->pkey, NULL, point, len, NULL);
    if (rc == CA_ERR_INVALID)
        return "the point is not on the P-256 curve";
    return rc == CA_OK ? NULL : "OpenSSL refused the P-256 key";
}

/* RSA public key from big-endian n and e (RFC 7518 §6.3.1). */
static const char *vk_set_rsa(ca_verify_key *k, const uint8_t *n, size_t n_len, const uint8_t *e,
                              size_t e_len)
{
    const char *why = "OpenSSL refused the RSA key";
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    /* RFC 7518 §6.3.1.1: n uses the minimum number of octets (no leading zero). */
    if (n[0] == 0 || e[0] == 0) {
        why = "n or e has a leading zero octet";
        goto out;
    }
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (!bn_n || !bn_e)
        goto out;
    int bits = BN_num_bits(bn_n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        why = "the modulus must be 2048..4096 bits";
        goto out;
    }
    if (!BN_is_odd(bn_n) || !BN_is_odd(bn_e) || BN_is_one(bn_e) || BN_cmp(bn_e, bn_n) >= 0) {
        why = "n and e must be odd and 1 < e < n";
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    why = NULL;
out:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ERR_clear_error();
    return why;
}

/* The algorithm a public JWK implies (*alg); NULL, or why it is refused (*member names the
 * member at fault, when one is). */
static const char *jwk_alg(ca_jws_alg *alg, const char **member, const json_t *jwk)
{
    /* RFC 7517 §4 / RFC 7518 §6.2.2, §6.3.2 / RFC 8037 §2 private members; "k" is the
     * symmetric key of RFC 7518 §6.4.1. */
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    if (!json_is_object(jwk))
        return "it is not a JSON object";
    for (size_t i = 0; i < sizeof private_members / sizeof private_members[0]; i++) {
        if (json_object_get(jwk, private_members[i])) {
            *member = private_members[i];
            return "it carries the private member";
        }
    }
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!kty)
        return "\"kty\" is missing or not a string";
    if (strcmp(kty, "OKP") == 0 && crv && strcmp(crv, "Ed25519") == 0)
        *alg = CA_ALG_EDDSA;
    else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "secp256k1") == 0)
        *alg = CA_ALG_ES256K;
    else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0)
        *alg = CA_ALG_ES256;
    else if (strcmp(kty, "RSA") == 0)
        *alg = CA_ALG_RS256;
    else
        return "its kty/crv is not OKP Ed25519, EC secp256k1, EC P-256 or RSA";
    /* An "alg" member, when present, must name the algorithm the key implies (RFC 7517 §4.4):
     * a key is never used with a second algorithm. */
    const json_t *jalg = json_object_get(jwk, "alg");
    if (jalg && (!json_is_string(jalg) ||
                 strcmp(json_string_value(jalg), ca_jws_alg_name(*alg)) != 0))
        return "its \"alg\" does not match its key type";
    return NULL;
}

/* The public key members of jwk (x; x and y; n and e) into k; NULL, or why they are refused
 * (*member names the member at fault, when one is). */
static const char *jwk_set_key(ca_verify_key *k, ca_jws_alg alg, const char **member,
                               const json_t *jwk)
{
    const char *why = NULL;
    uint8_t a[RSA_MAX_BITS / 8 + 1], b[RSA_MAX_BITS / 8 + 1];
    uint8_t point[EC_PUB_U];
    size_t a_len = 0, b_len = 0;
    switch (alg) {
    case CA_ALG_EDDSA:
        *member = "x";
        if ((why = jwk_bytes(a, &a_len, sizeof a, CA_ED25519_PUB_SIZE, jwk, "x")) ||
            (why = vk_set_ed25519(k, a, a_len)))
            return why;
        break;
    case CA_ALG_ES256K:
    case CA_ALG_ES256:
        *member = "x";
        if ((why = jwk_bytes(a, &a_len, sizeof a, EC_COORD, jwk, "x")))
            return why;
        *member = "y";
        if ((why = jwk_bytes(b, &b_len, sizeof b, EC_COORD, jwk, "y")))
            return why;
        *member = NULL;
        point[0] = 0x04;
        memcpy(point + 1, a, EC_COORD);
        memcpy(point + 1 + EC_COORD, b, EC_COORD);
        return alg == CA_ALG_ES256K ? vk_set_secp256k1(k, point, EC_PUB_U)
                                    : vk_set_p256(k, point, EC_PUB_U);
    case CA_ALG_RS256:
        *member = "n";
        if ((why = jwk_bytes(a, &a_len, sizeof a, 0, jwk, "n")))
            return why;
        *member = "e";
        if ((why = jwk_bytes(b, &b_len, sizeof b, 0, jwk, "e")))
            return why;
        *member = NULL;
        return vk_set_rsa(k, a, a_len, b, b_len);
    }
    return NULL;
}

ca_err ca_verify_key_from_jwk(ca_verify_key **out, const json_t *jwk, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && jwk != NULL);
    ca_err result = CA_ERR_INVALID;
    const char *why = NULL;
    const char *member = NULL;
    ca_verify_key *k = NULL;
    ca_jws_alg alg = CA_ALG_EDDSA;
    *out = NULL;

    if ((why = jwk_alg(&alg, &member, jwk)))
        goto out;
    if ((result = vk_new(&k, alg)) != CA_OK) {
        why = "out of memory";
        goto out;
    }
    result = CA_ERR_INVALID;
    if ((why = jwk_set_key(k, alg, &member, jwk)))
        goto out;
    *out = k;
    k = NULL;
    result = CA_OK;
out:
    ca_verify_key_free(k);
    if (result != CA_OK) {
        if (member)
            result = ca_fail(eb, result, "JWK refused: %s (\"%s\")", why, member);
        else
            result = ca_fail(eb, result, "JWK refused: %s", why);
    }
    return result;
}

ca_err ca_verify_key_from_raw(ca_verify_key **out, ca_jws_alg alg, const uint8_t *pub,
                              size_t pub_len, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && pub != NULL);
    CA_ASSERT(alg_known(alg));
    ca_err result = CA_ERR_INVALID;
    const char *why = "an RS256 key has no raw form";
    ca_verify_key *k = NULL;
    *out = NULL;
    if (alg == CA_ALG_RS256)
        goto out;
    if ((result = vk_new(&k, alg)) != CA_OK) {
        why = "out of memory";
        goto out;
    }
    result = CA_ERR_INVALID;
    if (alg == CA_ALG_EDDSA)
        why = vk_set_ed25519(k, pub, pub_len);
    else if (pub_len != EC_PUB_C)
        why = "a raw EC public key is 33 bytes (compressed)";
    else if (alg == CA_ALG_ES256K)
        why = vk_set_secp256k1(k, pub, pub_len);
    else
        why = vk_set_p256(k, pub, pub_len);
    if (why)
        goto out;
    *out = k;
    k = NULL;
    result = CA_OK;
out:
    ca_verify_key_free(k);
    if (result != CA_OK)
        result = ca_fail(eb, result, "%s public key refused: %s", ca_jws_alg_name(alg), why);
    return result;
}

void ca_verify_key_free(ca_verify_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

ca_jws_alg ca_verify_key_alg(const ca_verify_key *k)
{
    CA_ASSERT(k != NULL);
    return k->alg;
}

ca_err ca_verify_sig(const ca_verify_key *k, ca_jws_alg alg, const uint8_t *sig, size_t sig_len,
                     const void *msg, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(k != NULL);
    CA_ASSERT(sig != NULL || sig_len == 0);
    CA_ASSERT(msg != NULL || len == 0);
    ca_err result = CA_ERR_VERIFY;
    const char *why = "the signature does not verify";
    uint8_t *der = NULL;
    int der_len = 0;
    /* RFC 8725 §3.1: the algorithm is the key's, never the one the message claims. */
    if (alg != k->alg) {
        why = "the algorithm is not the key's";
        goto out;
    }
    switch (k->alg) {
    case CA_ALG_EDDSA:
        if (sig_len != CA_ED25519_SIG_SIZE) {
            why = "an EdDSA signature is 64 bytes";
            goto out;
        }
        result = evp_verify(k->pkey, NULL, false, sig, sig_len, msg, len);
        break;
    case CA_ALG_ES256K: {
        /* RFC 8812 §3.2; parse_compact refuses r or s >= n, and ecdsa_verify refuses the
         * high-s form (BIP 62 / libsecp256k1's lower-S rule), so each signature has one
         * encoding. */
        const secp256k1_context *ctx = ca_secp256k1_context();
        secp256k1_ecdsa_signature es;
        ca_hash h;
        if (sig_len != EC_SIG) {
            why = "an ES256K signature is 64 bytes";
            goto out;
        }
        if (!ctx) {
            result = CA_ERR_CRYPTO;
            why = "libsecp256k1 is unavailable";
            goto out;
        }
        ca_sha256(&h, len ? msg : "", len);
        if (secp256k1_ecdsa_signature_parse_compact(ctx, &es, sig) &&
            secp256k1_ecdsa_verify(ctx, &es, h.b, &k->secp) == 1)
            result = CA_OK;
        break;
    }
    case CA_ALG_ES256:
        /* RFC 7518 §3.4: exactly 64 bytes r || s; converted to DER for OpenSSL. r or s of
         * zero or >= n fail OpenSSL's range check. */
        if (sig_len != EC_SIG) {
            why = "an ES256 signature is 64 bytes";
            goto out;
        }
        if ((result = ecdsa_raw_to_der(&der, &der_len, sig)) != CA_OK) {
            why = "cannot encode the signature";
            goto out;
        }
        result = evp_verify(k->pkey, EVP_sha256(), false, der, (size_t)der_len, msg, len);
        break;
    case CA_ALG_RS256:
        /* RFC 8017 §8.2.2 step 1: the signature is exactly the modulus length. */
        if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
            why = "an RS256 signature is as long as the modulus";
            goto out;
        }
        result = evp_verify(k->pkey, EVP_sha256(), true, sig, sig_len, msg, len);
        break;
    }
out:
    OPENSSL_free(der);
    if (result != CA_OK)
        result = ca_fail(eb, result, "%s signature refused: %s",
                         alg_known(alg) ? ca_jws_alg_name(alg) : "unknown-alg", why);
    return result;
}
