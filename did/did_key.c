/*
 * did:key resolution and encoding (did:key method spec v0.9,
 * https://w3c-ccg.github.io/did-method-key/), SPEC §4.
 *
 * A did:key is "did:key:" + multibase('z', base58btc) of varint(multicodec) || public key. The
 * document is expanded from the key alone (§3.1.1 "Document Creation Algorithm"):
 *
 *   1. Split the DID; the scheme must be "did", the method "key". The spec allows a version
 *      component (did:key:1:z...); we accept only the implicit version 1 form, and a DID URL
 *      (path, query, fragment) is not a DID: invalidDid.
 *   2. Decode the multibase value: 'z' only, strict base58btc, then a minimal unsigned-varint
 *      codec ("Decode Public Key Algorithm"). Any failure here is invalidDid.
 *   3. The codec picks the key type; one we do not know is unsupportedPublicKeyType. The key
 *      length must match the type (invalidPublicKeyLength) and the bytes must encode a point of
 *      the curve (invalidPublicKey): libsecp256k1 for secp256k1, OpenSSL for P-256/P-384, and
 *      RFC 8032 §5.1.3 point decoding for Ed25519. X25519 accepts every 32-byte string (RFC
 *      7748 §5 requires implementations to accept non-canonical u values).
 *   4. One verification method, id = did + "#" + multibase value, type "Multikey" with
 *      publicKeyMultibase, or "JsonWebKey" with publicKeyJwk (EC points decompressed to x/y;
 *      never a "d"). Signature keys are referenced from authentication, assertionMethod,
 *      capabilityInvocation and capabilityDelegation; an X25519 key, which cannot sign, only
 *      from keyAgreement.
 *   5. With enableEncryptionKeyDerivation an Ed25519 key also gets an X25519 keyAgreement
 *      method ("Encryption Method Creation Algorithm"), u = (1 + y) / (1 - y) mod 2^255 - 19
 *      (RFC 7748 §4.1, the birational map), named by its own did:key-style multibase value.
 *   6. @context: the DID v1 context, then the context of the verification method type
 *      ("Context Creation Algorithm").
 */
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "credanchor/multibase.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <pthread.h>
#include <secp256k1.h>
#include <stdio.h>
#include <string.h>

#define DID_KEY_PREFIX "did:key:"
#define DID_V1_CONTEXT "https://www.w3.org/ns/did/v1"
#define MULTIKEY_CONTEXT "https://w3id.org/security/multikey/v1"
#define JWK_CONTEXT "https://w3id.org/security/jwk/v1"

#define MAX_KEY 49      /* P-384 compressed */
#define MAX_COORD 48    /* P-384 x or y */
#define MAX_DECODED (CA_BASE58_MAX_TEXT * 3 / 4) /* >= what CA_BASE58_MAX_TEXT digits decode to */

typedef struct key_type_info {
    ca_key_type type;
    const char *name; /* for messages */
    size_t len;       /* raw public key length in the DID */
    const char *kty, *crv;
    size_t coord;     /* EC coordinate size; 0 for OKP keys */
    bool can_sign;
} key_type_info;

static const key_type_info key_types[] = {
    {CA_KEYTYPE_ED25519, "Ed25519", 32, "OKP", "Ed25519", 0, true},
    {CA_KEYTYPE_X25519, "X25519", 32, "OKP", "X25519", 0, false},
    {CA_KEYTYPE_SECP256K1, "secp256k1", 33, "EC", "secp256k1", 32, true},
    {CA_KEYTYPE_P256, "P-256", 33, "EC", "P-256", 32, true},
    {CA_KEYTYPE_P384, "P-384", 49, "EC", "P-384", 48, true},
};

static const key_type_info *key_type_by_codec(uint64_t codec)
{
    for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++)
        if (key_types[i].type == codec)
            return &key_types[i];
    return NULL;
}

/* Names of multicodec key types we recognise but do not support, for a helpful message. */
static const char *unsupported_codec_name(uint64_t codec)
{
    switch (codec) {
    case 0x1202: return "p521-pub";
    case 0xea: return "bls12_381-g1-pub";
    case 0xeb: return "bls12_381-g2-pub";
    case 0xee: return "bls12_381-g1g2-pub";
    case 0x1205: return "rsa-pub";
    case 0x1203: return "ed448-pub";
    case 0x1204: return "x448-pub";
    case 0x1206: return "sm2-pub";
    default: return NULL;
    }
}

/* ---- curve state, built once ---- */

static pthread_once_t curves_once = PTHREAD_ONCE_INIT;
static EC_GROUP *group_p256, *group_p384;
/* Ed25519 field constants: p = 2^255 - 19, d, the decoding exponent (p - 5) / 8, a Montgomery
 * context for p, and d and 1 in Montgomery form. All read-only once built, so shared between
 * threads (the BN Montgomery functions only read the BN_MONT_CTX). */
static BIGNUM *bn_p25519, *bn_d25519, *bn_e25519, *bn_d25519_m, *bn_one_m;
static BN_MONT_CTX *mont_p25519;
static bool curves_ok;

/* One BN_CTX per thread, freed by the key's destructor when the thread exits. */
static pthread_key_t bnctx_key;
static bool bnctx_key_ok;
static _Thread_local BN_CTX *tl_bnctx;

static void bnctx_destroy(void *ctx)
{
    BN_CTX_free(ctx);
}

static void curves_init(void)
{
    BN_CTX *ctx = BN_CTX_new();
    group_p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    group_p384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
    bn_p25519 = BN_new();
    bn_d25519 = BN_new();
    bn_e25519 = BN_new();
    bn_d25519_m = BN_new();
    bn_one_m = BN_new();
    mont_p25519 = BN_MONT_CTX_new();
    bnctx_key_ok = pthread_key_create(&bnctx_key, bnctx_destroy) == 0;
    /* d = -121665 / 121666 mod p (RFC 8032 §5.1). */
    curves_ok = ctx && group_p256 && group_p384 && bn_p25519 && bn_d25519 && bn_e25519 &&
                bn_d25519_m && bn_one_m && mont_p25519 && bnctx_key_ok &&
                BN_hex2bn(&bn_p25519,
                          "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed") &&
                BN_hex2bn(&bn_d25519,
                          "52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3") &&
                BN_copy(bn_e25519, bn_p25519) && BN_sub_word(bn_e25519, 5) &&
                BN_rshift(bn_e25519, bn_e25519, 3) &&
                BN_MONT_CTX_set(mont_p25519, bn_p25519, ctx) &&
                BN_to_montgomery(bn_d25519_m, bn_d25519, mont_p25519, ctx) &&
                BN_to_montgomery(bn_one_m, BN_value_one(), mont_p25519, ctx);
    BN_CTX_free(ctx);
}

/* This thread's BN_CTX, created on first use; NULL when out of memory. */
static BN_CTX *thread_bnctx(void)
{
    if (tl_bnctx)
        return tl_bnctx;
    BN_CTX *ctx = BN_CTX_new();
    if (!ctx)
        return NULL;
    if (pthread_setspecific(bnctx_key, ctx) != 0) {
        BN_CTX_free(ctx);
        return NULL;
    }
    tl_bnctx = ctx;
    return ctx;
}

/* ---- key checks ---- */

/* RFC 8032 §5.1.3 decoding: y < p, and x^2 = u / v = (y^2 - 1) / (d y^2 + 1) has a root, and
 * x = 0 only with the sign bit clear. As in the RFC, one exponentiation decides it: with
 * w = u v^3 (u v^7)^((p-5)/8), a root exists iff v w^2 = u or v w^2 = -u. When u_out is not
 * NULL, also writes the X25519 u-coordinate (RFC 7748 §4.1) little-endian, failing for y = 1
 * (the identity, which has no image). Returns 1 valid, 0 invalid, -1 on an OpenSSL failure. */
static int ed25519_check(const uint8_t pub[32], uint8_t u_out[32])
{
    uint8_t le[32];
    memcpy(le, pub, 32);
    int sign = le[31] >> 7;
    le[31] &= 0x7f;
    BN_CTX *ctx = thread_bnctx();
    if (!ctx)
        return -1;
    const BIGNUM *p = bn_p25519;
    int ok = -1;
    BN_CTX_start(ctx);
    BIGNUM *y = BN_CTX_get(ctx), *y2 = BN_CTX_get(ctx), *u = BN_CTX_get(ctx),
           *v = BN_CTX_get(ctx), *w = BN_CTX_get(ctx), *t = BN_CTX_get(ctx);
    if (!t || !BN_lebin2bn(le, 32, y))
        goto out;
    if (BN_cmp(y, p) >= 0) {
        ok = 0;
        goto out;
    }
    /* In Montgomery form (suffix m; every value below p): u = y^2 - 1, v = d y^2 + 1. The
     * form is a bijection of [0, p) compatible with + and -, so the comparisons hold in it. */
    BN_MONT_CTX *mont = mont_p25519;
    if (!BN_to_montgomery(y2, y, mont, ctx) || !BN_mod_mul_montgomery(y2, y2, y2, mont, ctx) ||
        !BN_mod_sub_quick(u, y2, bn_one_m, p) ||
        !BN_mod_mul_montgomery(v, bn_d25519_m, y2, mont, ctx) ||
        !BN_mod_add_quick(v, v, bn_one_m, p))
        goto out;
    if (BN_is_zero(u)) {
        /* x = 0 (y = +-1): valid iff the sign bit is clear. */
        if (sign) {
            ok = 0;
            goto out;
        }
    } else {
        /* t = v^3, w = u v^7, w = w^((p-5)/8) (the exponentiation takes and gives plain form),
         * w = u v^3 w. */
        if (!BN_mod_mul_montgomery(t, v, v, mont, ctx) ||
            !BN_mod_mul_montgomery(t, t, v, mont, ctx) ||
            !BN_mod_mul_montgomery(w, t, t, mont, ctx) ||
            !BN_mod_mul_montgomery(w, w, v, mont, ctx) ||
            !BN_mod_mul_montgomery(w, w, u, mont, ctx) || !BN_from_montgomery(w, w, mont, ctx) ||
            !BN_mod_exp_mont(w, w, bn_e25519, p, ctx, mont) ||
            !BN_to_montgomery(w, w, mont, ctx) || !BN_mod_mul_montgomery(w, w, t, mont, ctx) ||
            !BN_mod_mul_montgomery(w, w, u, mont, ctx))
            goto out;
        /* t = v w^2; a root exists iff t = u or t = -u = p - u. */
        if (!BN_mod_mul_montgomery(t, w, w, mont, ctx) ||
            !BN_mod_mul_montgomery(t, t, v, mont, ctx))
            goto out;
        if (BN_cmp(t, u) != 0) {
            if (!BN_add(t, t, u))
                goto out;
            if (BN_cmp(t, p) != 0) {
                ok = 0;
                goto out;
            }
        }
    }
    if (u_out) {
        /* u = (1 + y) / (1 - y) */
        if (!BN_mod_sub(t, BN_value_one(), y, p, ctx))
            goto out;
        if (BN_is_zero(t)) {
            ok = 0;
            goto out;
        }
        if (!BN_mod_inverse(t, t, p, ctx) || !BN_copy(u, y) || !BN_add_word(u, 1) ||
            !BN_mod_mul(u, u, t, p, ctx) || BN_bn2lebinpad(u, u_out, 32) != 32)
            goto out;
    }
    ok = 1;
out:
    BN_CTX_end(ctx);
    return ok;
}

/* Decompresses an EC point to x || y (coord bytes each). Returns 1 valid, 0 not a point of
 * the curve, -1 on a library failure. */
static int ec_decompress(const key_type_info *kt, const uint8_t *pub, uint8_t *xy)
{
    if (pub[0] != 0x02 && pub[0] != 0x03)
        return 0;
    if (kt->type == CA_KEYTYPE_SECP256K1) {
        /* The static context is enough for parsing and serialising: no per-call context. */
        secp256k1_pubkey pk;
        if (!secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, pub, kt->len))
            return 0;
        uint8_t full[65];
        size_t full_len = sizeof full;
        if (!secp256k1_ec_pubkey_serialize(secp256k1_context_static, full, &full_len, &pk,
                                           SECP256K1_EC_UNCOMPRESSED) ||
            full_len != 65)
            return -1;
        memcpy(xy, full + 1, 64);
        return 1;
    }
    const EC_GROUP *g = kt->type == CA_KEYTYPE_P256 ? group_p256 : group_p384;
    BN_CTX *ctx = thread_bnctx();
    if (!ctx)
        return -1;
    EC_POINT *pt = EC_POINT_new(g);
    if (!pt)
        return -1;
    int ok = 0;
    /* oct2point checks that x is below the field prime and that x^3 + ax + b is a square. */
    if (EC_POINT_oct2point(g, pt, pub, kt->len, ctx) == 1) {
        uint8_t full[1 + 2 * MAX_COORD];
        size_t want = 1 + 2 * kt->coord;
        ok = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, full, want, ctx) == want
                 ? 1 : -1;
        if (ok == 1)
            memcpy(xy, full + 1, 2 * kt->coord);
    }
    ERR_clear_error();
    EC_POINT_free(pt);
    return ok;
}

/* Checks pub is a well-formed key of its type; fills xy for EC keys and u for Ed25519 when
 * u is not NULL. Returns 1 valid, 0 invalid, -1 on a library failure. */
static int key_check(const key_type_info *kt, const uint8_t *pub, uint8_t *xy, uint8_t *u)
{
    switch (kt->type) {
    case CA_KEYTYPE_ED25519:
        return ed25519_check(pub, u);
    case CA_KEYTYPE_X25519:
        return 1;
    default:
        return ec_decompress(kt, pub, xy);
    }
}

/* ---- encoding ---- */

/* "z" + base58btc(varint(codec) || pub) into out (cap bytes). */
static ca_err multikey_encode(char *out, size_t cap, ca_key_type type, const uint8_t *pub,
                              size_t len, ca_errbuf *eb)
{
    uint8_t buf[CA_VARINT_MAX + MAX_KEY];
    CA_ASSERT(len <= MAX_KEY);
    size_t n = ca_varint_encode(buf, (uint64_t)type);
    memcpy(buf + n, pub, len);
    size_t out_len = cap;
    return ca_multibase_encode(out, &out_len, buf, n + len, eb);
}

ca_err ca_did_key_encode(char *out, ca_key_type type, const uint8_t *pub, size_t pub_len,
                         ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && (pub != NULL || pub_len == 0));
    const key_type_info *kt = key_type_by_codec((uint64_t)type);
    if (!kt)
        return ca_fail(eb, CA_ERR_INVALID, "did:key: key type 0x%x is not supported",
                       (unsigned)type);
    if (pub_len != kt->len)
        return ca_fail(eb, CA_ERR_INVALID, "did:key: %s public key is %zu bytes, expected %zu",
                       kt->name, pub_len, kt->len);
    pthread_once(&curves_once, curves_init);
    if (!curves_ok)
        return ca_fail(eb, CA_ERR_CRYPTO, "did:key: could not set up the curves");
    uint8_t xy[2 * MAX_COORD];
    int ok = key_check(kt, pub, xy, NULL);
    if (ok < 0)
        return ca_fail(eb, CA_ERR_CRYPTO, "did:key: %s key check failed", kt->name);
    if (ok == 0)
        return ca_fail(eb, CA_ERR_INVALID, "did:key: not a valid %s public key", kt->name);
    memcpy(out, DID_KEY_PREFIX, sizeof DID_KEY_PREFIX - 1);
    return multikey_encode(out + sizeof DID_KEY_PREFIX - 1,
                           CA_DID_TEXT_MAX - (sizeof DID_KEY_PREFIX - 1), type, pub, pub_len, eb);
}

/* ---- document ---- */

static json_t *jstr(const char *s, size_t len)
{
    return json_stringn_nocheck(s, len);
}

/* base64url of len bytes as a JSON string. */
static json_t *jb64u(const uint8_t *b, size_t len)
{
    char s[2 * MAX_COORD + 4];
    ca_base64url_encode(s, b, len);
    return json_string_nocheck(s);
}

static json_t *jwk_object(const key_type_info *kt, const uint8_t *pub, const uint8_t *xy)
{
    json_t *jwk = json_object();
    if (!jwk)
        return NULL;
    int bad = json_object_set_new_nocheck(jwk, "kty", json_string_nocheck(kt->kty));
    bad |= json_object_set_new_nocheck(jwk, "crv", json_string_nocheck(kt->crv));
    if (kt->coord) {
        bad |= json_object_set_new_nocheck(jwk, "x", jb64u(xy, kt->coord));
        bad |= json_object_set_new_nocheck(jwk, "y", jb64u(xy + kt->coord, kt->coord));
    } else {
        bad |= json_object_set_new_nocheck(jwk, "x", jb64u(pub, kt->len));
    }
    if (bad) {
        json_decref(jwk);
        return NULL;
    }
    return jwk;
}

/* A verification method {id, type, controller, publicKeyMultibase | publicKeyJwk}. */
static json_t *vm_object(const char *did, size_t did_len, const char *vm_id, size_t vm_id_len,
                         const char *mb, size_t mb_len, const key_type_info *kt,
                         const uint8_t *pub, const uint8_t *xy, ca_did_key_format format)
{
    json_t *vm = json_object();
    if (!vm)
        return NULL;
    int bad = json_object_set_new_nocheck(vm, "id", jstr(vm_id, vm_id_len));
    if (format == CA_DID_FORMAT_JSON_WEB_KEY) {
        bad |= json_object_set_new_nocheck(vm, "type", json_string_nocheck("JsonWebKey"));
        bad |= json_object_set_new_nocheck(vm, "controller", jstr(did, did_len));
        bad |= json_object_set_new_nocheck(vm, "publicKeyJwk", jwk_object(kt, pub, xy));
    } else {
        bad |= json_object_set_new_nocheck(vm, "type", json_string_nocheck("Multikey"));
        bad |= json_object_set_new_nocheck(vm, "controller", jstr(did, did_len));
        bad |= json_object_set_new_nocheck(vm, "publicKeyMultibase", jstr(mb, mb_len));
    }
    if (bad) {
        json_decref(vm);
        return NULL;
    }
    return vm;
}

static json_t *one_ref(const char *id, size_t len)
{
    json_t *a = json_array();
    if (a && json_array_append_new(a, jstr(id, len))) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Step 1: did:key:<multibase>, nothing more. *mb (inside did) and *mb_len name the multibase
 * value. */
static ca_did_error split_did(ca_did_result *r, const char *did, size_t *did_len,
                              const char **mb, size_t *mb_len)
{
    *did_len = strnlen(did, CA_DID_TEXT_MAX + 1);
    if (*did_len > CA_DID_TEXT_MAX)
        return ca_did_fail(r, CA_DID_INVALID_DID, "invalidDid: the DID is longer than %d bytes",
                           CA_DID_TEXT_MAX);
    const size_t plen = sizeof DID_KEY_PREFIX - 1;
    if (*did_len < plen || memcmp(did, DID_KEY_PREFIX, plen) != 0)
        return ca_did_fail(r, CA_DID_INVALID_DID, "invalidDid: not a did:key DID");
    *mb = did + plen;
    *mb_len = *did_len - plen;
    if (*mb_len == 0)
        return ca_did_fail(r, CA_DID_INVALID_DID, "invalidDid: the multibase value is empty");
    size_t bad_at = strcspn(*mb, "#?/:");
    if (bad_at < *mb_len) {
        if ((*mb)[bad_at] == ':')
            return ca_did_fail(r, CA_DID_INVALID_DID,
                               "invalidDid: only the version-1 form did:key:<multibase> is "
                               "supported");
        return ca_did_fail(r, CA_DID_INVALID_DID,
                           "invalidDid: a DID URL (with '%c') is not a DID", (*mb)[bad_at]);
    }
    return CA_DID_OK;
}

/* Steps 2 and 3 up to the point check: multibase, base58btc, varint codec (into raw), then
 * the key type (*kt) and a public key (*pub, inside raw) of its length. */
static ca_did_error decode_key(ca_did_result *r, const char *mb, size_t mb_len,
                               uint8_t raw[MAX_DECODED], const key_type_info **kt,
                               const uint8_t **pub)
{
    size_t raw_len = MAX_DECODED;
    ca_errbuf eb;
    eb.msg[0] = '\0';
    ca_err err = ca_multibase_decode(raw, &raw_len, mb, mb_len, &eb);
    if (err == CA_ERR_TOO_LARGE)
        return ca_did_fail(r, CA_DID_INVALID_DID,
                           "invalidDid: the multibase value is too long for a did:key key");
    if (err)
        return ca_did_fail(r, CA_DID_INVALID_DID, "invalidDid: %s", eb.msg);
    uint64_t codec;
    size_t used;
    if (ca_varint_decode(&codec, &used, raw, raw_len, &eb))
        return ca_did_fail(r, CA_DID_INVALID_DID, "invalidDid: multicodec %s", eb.msg);

    *kt = key_type_by_codec(codec);
    if (!*kt) {
        const char *name = unsupported_codec_name(codec);
        return ca_did_fail(r, CA_DID_INVALID_DID,
                           "unsupportedPublicKeyType: multicodec 0x%llx%s%s%s is not a supported "
                           "key type",
                           (unsigned long long)codec, name ? " (" : "", name ? name : "",
                           name ? ")" : "");
    }
    *pub = raw + used;
    size_t pub_len = raw_len - used;
    if (pub_len != (*kt)->len)
        return ca_did_fail(r, CA_DID_INVALID_DID,
                           "invalidPublicKeyLength: %s public key is %zu bytes, expected %zu",
                           (*kt)->name, pub_len, (*kt)->len);
    return CA_DID_OK;
}

/* The key, as decoded and checked, and the ids of its verification methods. */
typedef struct key_doc {
    const char *did, *mb;
    size_t did_len, mb_len;
    const key_type_info *kt;
    const uint8_t *pub, *xy;
    char vm_id[CA_DID_TEXT_MAX + 2];
    size_t vm_id_len;
    bool derive;          /* an X25519 keyAgreement method derived from the Ed25519 key */
    const uint8_t *u;     /* its key when derive */
    char ka_id[CA_DID_TEXT_MAX + 128];
    size_t ka_id_len;
    char ka_mb[128];
} key_doc;

/* Steps 4-6: the document of k. NULL when out of memory. */
static json_t *build_document(const key_doc *k, ca_did_key_format format)
{
    json_t *doc = json_object();
    json_t *ctx = json_array();
    json_t *vms = json_array();
    int bad = !doc || !ctx || !vms;
    if (!bad) {
        bad |= json_array_append_new(ctx, json_string_nocheck(DID_V1_CONTEXT));
        bad |= json_array_append_new(ctx, json_string_nocheck(
            format == CA_DID_FORMAT_JSON_WEB_KEY ? JWK_CONTEXT : MULTIKEY_CONTEXT));
        bad |= json_object_set_nocheck(doc, "@context", ctx);
        bad |= json_object_set_new_nocheck(doc, "id", jstr(k->did, k->did_len));
        bad |= json_array_append_new(vms, vm_object(k->did, k->did_len, k->vm_id, k->vm_id_len,
                                                    k->mb, k->mb_len, k->kt, k->pub, k->xy,
                                                    format));
        if (k->derive)
            bad |= json_array_append_new(
                vms, vm_object(k->did, k->did_len, k->ka_id, k->ka_id_len, k->ka_mb,
                               strlen(k->ka_mb), &key_types[1], k->u, NULL, format));
        bad |= json_object_set_nocheck(doc, "verificationMethod", vms);
        if (k->kt->can_sign) {
            static const char *const rels[] = {"authentication", "assertionMethod",
                                               "capabilityInvocation", "capabilityDelegation"};
            for (size_t i = 0; i < 4; i++)
                bad |= json_object_set_new_nocheck(doc, rels[i],
                                                   one_ref(k->vm_id, k->vm_id_len));
            if (k->derive)
                bad |= json_object_set_new_nocheck(doc, "keyAgreement",
                                                   one_ref(k->ka_id, k->ka_id_len));
        } else {
            bad |= json_object_set_new_nocheck(doc, "keyAgreement",
                                               one_ref(k->vm_id, k->vm_id_len));
        }
    }
    json_decref(ctx);
    json_decref(vms);
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

ca_did_error ca_did_key_resolve(ca_did_result *r, const char *did, const ca_did_options *opts)
{
    CA_ASSERT(r != NULL && did != NULL);
    static const ca_did_options defaults = {0};
    if (!opts)
        opts = &defaults;
    json_decref(r->document);
    r->document = NULL;
    r->error = CA_DID_OK;
    r->detail[0] = '\0';
    r->from_cache = false;
    if (!r->document_metadata)
        r->document_metadata = json_object();
    else
        json_object_clear(r->document_metadata);

    key_doc k;
    memset(&k, 0, sizeof k);
    k.did = did;
    ca_did_error de;
    /* 1. did:key:<multibase>, nothing more. */
    if ((de = split_did(r, did, &k.did_len, &k.mb, &k.mb_len)))
        return de;

    /* 2. multibase, base58btc, varint codec. 3. key type, length, point. */
    uint8_t raw[MAX_DECODED];
    if ((de = decode_key(r, k.mb, k.mb_len, raw, &k.kt, &k.pub)))
        return de;
    pthread_once(&curves_once, curves_init);
    if (!curves_ok)
        return ca_did_fail(r, CA_DID_INTERNAL_ERROR, "could not set up the curves");
    k.derive = k.kt->type == CA_KEYTYPE_ED25519 && opts->enable_encryption_key_derivation;
    uint8_t xy[2 * MAX_COORD], u[32];
    int ok = key_check(k.kt, k.pub, xy, k.derive ? u : NULL);
    if (ok < 0)
        return ca_did_fail(r, CA_DID_INTERNAL_ERROR, "%s key check failed", k.kt->name);
    if (ok == 0)
        return ca_did_fail(r, CA_DID_INVALID_DID,
                           "invalidPublicKey: the key bytes are not a valid %s public key%s",
                           k.kt->name,
                           k.derive ? " (or have no X25519 image: the identity point)" : "");
    k.xy = xy;
    k.u = u;

    /* 4-6. the document. */
    memcpy(k.vm_id, did, k.did_len);
    k.vm_id[k.did_len] = '#';
    memcpy(k.vm_id + k.did_len + 1, k.mb, k.mb_len);
    k.vm_id_len = k.did_len + 1 + k.mb_len;
    if (k.derive) {
        if (multikey_encode(k.ka_mb, sizeof k.ka_mb, CA_KEYTYPE_X25519, u, 32, NULL))
            return ca_did_fail(r, CA_DID_INTERNAL_ERROR, "cannot encode the X25519 key");
        size_t n = strlen(k.ka_mb);
        memcpy(k.ka_id, did, k.did_len);
        k.ka_id[k.did_len] = '#';
        memcpy(k.ka_id + k.did_len + 1, k.ka_mb, n);
        k.ka_id_len = k.did_len + 1 + n;
    }
    json_t *doc = build_document(&k, opts->format);
    if (!doc)
        return ca_did_fail(r, CA_DID_INTERNAL_ERROR, "out of memory building the document");
    r->document = doc;
    snprintf(r->content_type, sizeof r->content_type, "application/did+ld+json");
    return CA_DID_OK;
}
