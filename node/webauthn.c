/*
 * node/webauthn.c — WebAuthn relying-party verification (node/webauthn.h): W3C WebAuthn
 * Level 3 §7.1 (registration) and §7.2 (authentication), with the "none" attestation format
 * (§8.7) and COSE keys ES256, EdDSA and RS256 (RFC 9052/9053, RFC 8812).
 *
 * Every byte here comes from the network. Before libcbor sees a CBOR buffer, cbor_scan()
 * walks it once: well-formed (RFC 8949 §3), definite lengths only, no tags, at most
 * CBOR_DEPTH_MAX levels, and no array or map claiming more items than bytes remain. The last
 * point matters: libcbor 0.8 allocates a definite array's or map's slots from the declared
 * count before reading any item, so nine bytes could otherwise ask for gigabytes. After the
 * scan, cbor_load() only fails for want of memory, and the items are bounded by the input.
 *
 * Messages never quote the input except through shown() (at most 32 printable characters).
 */
#include "node/webauthn.h"

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

#include <cbor.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <string.h>

#define AUTH_DATA_MIN 37 /* rpIdHash(32) flags(1) signCount(4) */
#define CBOR_DEPTH_MAX 16
#define COSE_KEY_ENTRIES_MAX 16
#define ATT_OBJECT_ENTRIES_MAX 8
#define CHALLENGE_MAX (CA_WEBAUTHN_CLIENT_DATA_MAX / 4 * 3) /* decoded from at most 4 KiB */

/* ---- small helpers ---- */

/* At most 32 bytes of untrusted text for a message: printable ASCII, the rest as '?'. */
static const char *shown(char out[40], const uint8_t *p, size_t n)
{
    size_t k = n < 32 ? n : 32;
    for (size_t i = 0; i < k; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') ? (char)p[i] : '?';
    strcpy(out + k, n > k ? "..." : "");
    return out;
}

static void expect_assert(const ca_webauthn_expect *ex)
{
    CA_ASSERT(ex != NULL);
    CA_ASSERT(ex->challenge != NULL && ex->challenge_len > 0);
    CA_ASSERT(ex->origin != NULL && ex->rp_id != NULL);
}

/* ---- CBOR well-formedness, before libcbor (see the top of the file) ---- */

typedef enum scan_rc {
    SCAN_OK,
    SCAN_SHORT,      /* the input ends inside the item */
    SCAN_INDEFINITE, /* an indefinite-length string, array or map */
    SCAN_TAG,        /* a tag (major type 6) */
    SCAN_DEEP,       /* nested deeper than CBOR_DEPTH_MAX */
    SCAN_MALFORMED,  /* reserved additional information, a stray break, an odd simple value */
} scan_rc;

/* Reads the head of the item at p[*pos]: its major type and argument (RFC 8949 §3). */
static scan_rc cbor_head(const uint8_t *p, size_t len, size_t *pos, unsigned *major,
                         uint64_t *arg)
{
    if (*pos >= len)
        return SCAN_SHORT;
    uint8_t ib = p[(*pos)++];
    unsigned ai = ib & 0x1fu;
    *major = ib >> 5;
    if (*major == 7 && !(ai >= 20 && ai <= 23) && !(ai >= 25 && ai <= 27))
        return SCAN_MALFORMED; /* only false, true, null, undefined and floats */
    if (ai == 31)
        return *major >= 2 && *major <= 5 ? SCAN_INDEFINITE : SCAN_MALFORMED;
    if (ai >= 28)
        return SCAN_MALFORMED;
    if (ai < 24) {
        *arg = ai;
        return SCAN_OK;
    }
    size_t n = (size_t)1 << (ai - 24);
    if (len - *pos < n)
        return SCAN_SHORT;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[*pos + i];
    *pos += n;
    *arg = v;
    return SCAN_OK;
}

/* Steps over one item at p[*pos]. Work is linear in the input: every item takes a byte. */
static scan_rc cbor_skip(const uint8_t *p, size_t len, size_t *pos, int depth)
{
    unsigned major;
    uint64_t arg;
    if (depth > CBOR_DEPTH_MAX)
        return SCAN_DEEP;
    scan_rc rc = cbor_head(p, len, pos, &major, &arg);
    if (rc != SCAN_OK)
        return rc;
    switch (major) {
    case 2: /* byte string */
    case 3: /* text string */
        if (arg > len - *pos)
            return SCAN_SHORT;
        *pos += (size_t)arg;
        return SCAN_OK;
    case 4: /* array */
    case 5: /* map: twice as many items */
        if (arg > (len - *pos) / (major == 5 ? 2 : 1))
            return SCAN_SHORT;
        for (uint64_t i = 0; i < arg * (major == 5 ? 2 : 1); i++) {
            rc = cbor_skip(p, len, pos, depth + 1);
            if (rc != SCAN_OK)
                return rc;
        }
        return SCAN_OK;
    case 6:
        return SCAN_TAG;
    default: /* integers, simple values, floats: the head was all */
        return SCAN_OK;
    }
}

/* Checks that p[0..len) starts with one acceptable CBOR item; *item_len gets its length. */
static ca_err cbor_scan(size_t *item_len, const uint8_t *p, size_t len, const char *what,
                        ca_errbuf *eb)
{
    size_t pos = 0;
    switch (cbor_skip(p, len, &pos, 0)) {
    case SCAN_OK:
        *item_len = pos;
        return CA_OK;
    case SCAN_SHORT:
        return ca_fail(eb, CA_ERR_INVALID, "%s is not well-formed CBOR: it ends too early", what);
    case SCAN_INDEFINITE:
        return ca_fail(eb, CA_ERR_INVALID, "%s uses an indefinite-length CBOR item, which is "
                       "not accepted", what);
    case SCAN_TAG:
        return ca_fail(eb, CA_ERR_INVALID, "%s contains a CBOR tag, which is not accepted", what);
    case SCAN_DEEP:
        return ca_fail(eb, CA_ERR_INVALID, "%s nests CBOR deeper than %d levels", what,
                       CBOR_DEPTH_MAX);
    default:
        return ca_fail(eb, CA_ERR_INVALID, "%s is not well-formed CBOR", what);
    }
}

/* Decodes exactly p[0..len) as one CBOR item (scanned first); *out is freed with cbor_decref. */
static ca_err cbor_parse(cbor_item_t **out, const uint8_t *p, size_t len, const char *what,
                         ca_errbuf *eb)
{
    size_t n = 0;
    *out = NULL;
    ca_err err = cbor_scan(&n, p, len, what, eb);
    if (err != CA_OK)
        return err;
    if (n != len)
        return ca_fail(eb, CA_ERR_INVALID, "%s has %zu trailing bytes after its CBOR item",
                       what, len - n);
    struct cbor_load_result res;
    cbor_item_t *item = cbor_load(p, len, &res);
    if (item && res.error.code == CBOR_ERR_NONE && res.read == len) {
        *out = item;
        return CA_OK;
    }
    if (item)
        cbor_decref(&item);
    if (res.error.code == CBOR_ERR_MEMERROR)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory decoding %s", what);
    return ca_fail(eb, CA_ERR_INVALID, "%s could not be decoded as CBOR", what);
}

/* ---- CBOR items (after cbor_parse) ---- */

/* An integer item as int64 (COSE labels and values); false if not an integer or too big. */
static bool item_int(const cbor_item_t *it, int64_t *v)
{
    if (!it || !(cbor_isa_uint(it) || cbor_isa_negint(it)))
        return false;
    uint64_t u = cbor_get_int(it);
    if (u > INT64_MAX)
        return false;
    *v = cbor_isa_uint(it) ? (int64_t)u : -1 - (int64_t)u;
    return true;
}

/* A byte string item's bytes; false if it is not one. *p may be NULL when *n is 0. */
static bool item_bytes(const cbor_item_t *it, const uint8_t **p, size_t *n)
{
    if (!it || !cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
        return false;
    *n = cbor_bytestring_length(it);
    *p = cbor_bytestring_handle(it);
    return true;
}

static bool item_text_is(const cbor_item_t *it, const char *s)
{
    size_t n = strlen(s);
    if (!it || !cbor_isa_string(it) || !cbor_string_is_definite(it) ||
        cbor_string_length(it) != n)
        return false;
    return n == 0 || memcmp(cbor_string_handle(it), s, n) == 0;
}

/* Map keys here are integers or text (map_check_keys); equal means the same value. */
static bool keys_equal(const cbor_item_t *a, const cbor_item_t *b)
{
    if (cbor_typeof(a) != cbor_typeof(b))
        return false;
    if (cbor_isa_uint(a) || cbor_isa_negint(a))
        return cbor_get_int(a) == cbor_get_int(b);
    size_t n = cbor_string_length(a);
    return n == cbor_string_length(b) &&
           (n == 0 || memcmp(cbor_string_handle(a), cbor_string_handle(b), n) == 0);
}

/* Refuses a map of more than max entries, with a key that is neither an integer nor text,
 * or with a key that appears twice (RFC 8949 §5.6: such a map is not valid). */
static ca_err map_check_keys(const cbor_item_t *map, const char *what, size_t max,
                             ca_errbuf *eb)
{
    size_t n = cbor_map_size(map);
    const struct cbor_pair *kv = cbor_map_handle(map);
    if (n > max)
        return ca_fail(eb, CA_ERR_INVALID, "%s has %zu entries: at most %zu are expected", what,
                       n, max);
    for (size_t i = 0; i < n; i++) {
        const cbor_item_t *k = kv[i].key;
        if (!cbor_isa_uint(k) && !cbor_isa_negint(k) &&
            !(cbor_isa_string(k) && cbor_string_is_definite(k)))
            return ca_fail(eb, CA_ERR_INVALID, "%s has a key that is neither an integer nor "
                           "text", what);
        for (size_t j = 0; j < i; j++)
            if (keys_equal(kv[j].key, k))
                return ca_fail(eb, CA_ERR_INVALID, "%s has a duplicate key", what);
    }
    return CA_OK;
}

static const cbor_item_t *map_get_int(const cbor_item_t *map, int64_t key)
{
    size_t n = cbor_map_size(map);
    const struct cbor_pair *kv = cbor_map_handle(map);
    int64_t v;
    for (size_t i = 0; i < n; i++)
        if (item_int(kv[i].key, &v) && v == key)
            return kv[i].value;
    return NULL;
}

static const cbor_item_t *map_get_text(const cbor_item_t *map, const char *key)
{
    size_t n = cbor_map_size(map);
    const struct cbor_pair *kv = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++)
        if (item_text_is(kv[i].key, key))
            return kv[i].value;
    return NULL;
}

/* ---- COSE_Key (RFC 9052 §7, RFC 9053 §7; WebAuthn §6.5.1.1) ---- */

/* EC2 P-256 (crv 1): x (-2) and y (-3), 32 bytes each; OpenSSL refuses a point off the
 * curve when the key is built, and EVP_PKEY_public_check confirms it. */
static ca_err cose_ec2(EVP_PKEY **pkey, const cbor_item_t *map, ca_errbuf *eb)
{
    int64_t crv;
    const uint8_t *x, *y;
    size_t xl, yl;
    if (!item_int(map_get_int(map, -1), &crv) || crv != 1)
        return ca_fail(eb, CA_ERR_INVALID, "the EC2 key is not on P-256 (crv must be 1)");
    if (!item_bytes(map_get_int(map, -2), &x, &xl) || !item_bytes(map_get_int(map, -3), &y, &yl) ||
        xl != 32 || yl != 32)
        return ca_fail(eb, CA_ERR_INVALID, "the EC2 key's x and y must be byte strings of "
                       "32 bytes");
    if (map_get_int(map, -4))
        return ca_fail(eb, CA_ERR_INVALID, "the COSE_Key carries a private key (d)");
    uint8_t point[65];
    point[0] = 0x04; /* uncompressed (SEC 1 §2.3.3) */
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end(),
    };
    ca_err err = CA_OK;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        err = ca_fail(eb, CA_ERR_CRYPTO, "OpenSSL could not set up an EC key");
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        EVP_PKEY_CTX_free(ctx);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL);
        if (ctx && EVP_PKEY_public_check(ctx) == 1)
            goto out;
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
    }
    err = ca_fail(eb, CA_ERR_INVALID, "the EC2 key's point (x, y) is not on the P-256 curve");
out:
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return err;
}

/* OKP Ed25519 (crv 6): x (-2), 32 bytes (RFC 8037 §2). */
static ca_err cose_okp(EVP_PKEY **pkey, const cbor_item_t *map, ca_errbuf *eb)
{
    int64_t crv;
    const uint8_t *x;
    size_t xl;
    if (!item_int(map_get_int(map, -1), &crv) || crv != 6)
        return ca_fail(eb, CA_ERR_INVALID, "the OKP key is not Ed25519 (crv must be 6)");
    if (!item_bytes(map_get_int(map, -2), &x, &xl) || xl != 32)
        return ca_fail(eb, CA_ERR_INVALID, "the Ed25519 key's x must be a byte string of "
                       "32 bytes");
    if (map_get_int(map, -4))
        return ca_fail(eb, CA_ERR_INVALID, "the COSE_Key carries a private key (d)");
    *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
    ERR_clear_error();
    return *pkey ? CA_OK : ca_fail(eb, CA_ERR_CRYPTO, "OpenSSL could not load an Ed25519 key");
}

/* Builds an RSA public key from n and e with OpenSSL's parameter builder. */
static ca_err rsa_from_bn(EVP_PKEY **pkey, const BIGNUM *n, const BIGNUM *e, ca_errbuf *eb)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ca_err err = CA_OK;
    if (!bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        err = ca_fail(eb, CA_ERR_CRYPTO, "OpenSSL could not load an RSA key");
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    ERR_clear_error();
    return err;
}

/* RSA: n (-1) of 2048 to 4096 bits, e (-2) odd, at least 3, at most 8 bytes (RFC 8230 §4). */
static ca_err cose_rsa(EVP_PKEY **pkey, const cbor_item_t *map, ca_errbuf *eb)
{
    const uint8_t *n, *e;
    size_t nl, el;
    if (!item_bytes(map_get_int(map, -1), &n, &nl) || !item_bytes(map_get_int(map, -2), &e, &el) ||
        nl == 0 || el == 0 || el > 8)
        return ca_fail(eb, CA_ERR_INVALID, "the RSA key's n and e must be non-empty byte "
                       "strings (e at most 8 bytes)");
    if (map_get_int(map, -3))
        return ca_fail(eb, CA_ERR_INVALID, "the COSE_Key carries a private key (d)");
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    ca_err err = CA_OK;
    if (!bn || !be)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory loading an RSA key");
    else if (BN_num_bits(bn) < 2048 || BN_num_bits(bn) > 4096 || !BN_is_odd(bn))
        err = ca_fail(eb, CA_ERR_INVALID, "the RSA modulus has %d bits: an odd one of 2048 to "
                      "4096 bits is accepted", BN_num_bits(bn));
    else if (!BN_is_odd(be) || BN_num_bits(be) < 2)
        err = ca_fail(eb, CA_ERR_INVALID, "the RSA exponent must be odd and at least 3");
    else
        err = rsa_from_bn(pkey, bn, be, eb);
    BN_free(bn);
    BN_free(be);
    return err;
}

/* The key of a decoded COSE_Key map: kty (1) and alg (3) must be one of the three pairs. */
static ca_err cose_key_from_map(EVP_PKEY **pkey, int *alg, const cbor_item_t *map,
                                const char *what, ca_errbuf *eb)
{
    int64_t kty, a;
    ca_err err;
    if (!cbor_isa_map(map))
        return ca_fail(eb, CA_ERR_INVALID, "%s is not a CBOR map", what);
    if ((err = map_check_keys(map, what, COSE_KEY_ENTRIES_MAX, eb)) != CA_OK)
        return err;
    if (!item_int(map_get_int(map, 1), &kty) || !item_int(map_get_int(map, 3), &a))
        return ca_fail(eb, CA_ERR_INVALID, "%s lacks an integer kty (1) or alg (3)", what);
    if (kty == 2 && a == CA_COSE_ES256)
        err = cose_ec2(pkey, map, eb);
    else if (kty == 1 && a == CA_COSE_EDDSA)
        err = cose_okp(pkey, map, eb);
    else if (kty == 3 && a == CA_COSE_RS256)
        err = cose_rsa(pkey, map, eb);
    else
        return ca_fail(eb, CA_ERR_INVALID, "unsupported COSE_Key (kty %lld, alg %lld): only "
                       "ES256 (EC2, -7), EdDSA (OKP, -8) and RS256 (RSA, -257) are accepted",
                       (long long)kty, (long long)a);
    if (err == CA_OK)
        *alg = (int)a;
    return err;
}

/* Parses a COSE_Key held in p[0..len): exactly one CBOR map. *pkey is NULL on error. */
static ca_err cose_key_parse(EVP_PKEY **pkey, int *alg, const uint8_t *p, size_t len,
                             ca_errbuf *eb)
{
    static const char what[] = "the credential public key (COSE_Key)";
    cbor_item_t *map = NULL;
    *pkey = NULL;
    if (len > CA_WEBAUTHN_COSE_KEY_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "%s is %zu bytes: at most %d are accepted", what,
                       len, CA_WEBAUTHN_COSE_KEY_MAX);
    ca_err err = cbor_parse(&map, p, len, what, eb);
    if (err != CA_OK)
        return err;
    err = cose_key_from_map(pkey, alg, map, what, eb);
    cbor_decref(&map);
    return err;
}

/* ---- clientDataJSON (§5.8.1, §7.1 steps 5-10, §7.2 steps 8-13) ---- */

/* A string member of the client data, or NULL after failing with CA_ERR_INVALID. */
static const char *cdj_string(json_t *root, const char *name, size_t *len, ca_err *err,
                              ca_errbuf *eb)
{
    json_t *v = json_object_get(root, name);
    if (!json_is_string(v)) {
        *err = ca_fail(eb, CA_ERR_INVALID, "clientDataJSON has no \"%s\" string", name);
        return NULL;
    }
    *len = json_string_length(v);
    return json_string_value(v);
}

static ca_err cdj_challenge(json_t *root, const ca_webauthn_expect *ex, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    size_t len;
    const char *s = cdj_string(root, "challenge", &len, &err, eb);
    if (!s)
        return err;
    uint8_t got[CHALLENGE_MAX];
    size_t got_len = sizeof got;
    if (ca_base64url_decode(got, &got_len, s, len) != CA_OK)
        return ca_fail(eb, CA_ERR_INVALID, "clientDataJSON challenge is not base64url");
    if (got_len != ex->challenge_len || CRYPTO_memcmp(got, ex->challenge, got_len) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "clientDataJSON challenge is not the one issued for "
                       "this ceremony");
    return CA_OK;
}

static ca_err cdj_members(json_t *root, const ca_webauthn_expect *ex, const char *type,
                          ca_errbuf *eb)
{
    ca_err err = CA_OK;
    size_t len;
    const char *s = cdj_string(root, "type", &len, &err, eb);
    if (!s)
        return err;
    if (len != strlen(type) || memcmp(s, type, len) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "clientDataJSON type is not \"%s\"", type);
    if ((err = cdj_challenge(root, ex, eb)) != CA_OK)
        return err;
    if (!(s = cdj_string(root, "origin", &len, &err, eb)))
        return err;
    if (len != strlen(ex->origin) || memcmp(s, ex->origin, len) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "clientDataJSON origin is not %.200s", ex->origin);
    json_t *cross = json_object_get(root, "crossOrigin");
    if (cross && !json_is_boolean(cross))
        return ca_fail(eb, CA_ERR_INVALID, "clientDataJSON crossOrigin is not a boolean");
    if (json_is_true(cross))
        return ca_fail(eb, CA_ERR_VERIFY, "clientDataJSON crossOrigin is true: ceremonies in "
                       "a cross-origin frame are not accepted");
    return CA_OK;
}

/* Parses clientDataJSON and checks type, challenge, origin and crossOrigin; "topOrigin"
 * (L3) only matters with crossOrigin true, and other members are ignored (§5.8.1.2). */
static ca_err client_data_check(const ca_webauthn_expect *ex, const char *type,
                                const uint8_t *cdj, size_t len, ca_errbuf *eb)
{
    if (len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "clientDataJSON is empty");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)cdj, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ca_fail(eb, CA_ERR_INVALID, "clientDataJSON is not JSON without duplicate "
                       "members (line %d, column %d)", jerr.line, jerr.column);
    ca_err err = json_is_object(root)
                     ? cdj_members(root, ex, type, eb)
                     : ca_fail(eb, CA_ERR_INVALID, "clientDataJSON is not a JSON object");
    json_decref(root);
    return err;
}

/* ---- authenticator data (§6.1, §6.5.1) ---- */

typedef struct auth_data {
    const uint8_t *rp_id_hash;
    uint8_t flags;
    uint32_t sign_count;
    const uint8_t *aaguid; /* the attested credential data: NULL unless AT */
    const uint8_t *cred_id;
    size_t cred_id_len;
    const uint8_t *cose_key; /* bounded by cbor_scan, not parsed yet */
    size_t cose_key_len;
} auth_data;

/* aaguid(16) || credentialIdLength(2, big-endian) || credentialId || credentialPublicKey. */
static ca_err attested_parse(auth_data *ad, const uint8_t *p, size_t len, size_t *pos,
                             ca_errbuf *eb)
{
    static const char key[] = "the credential public key (COSE_Key)";
    if (len - *pos < 18)
        return ca_fail(eb, CA_ERR_INVALID, "the attested credential data is cut short");
    ad->aaguid = p + *pos;
    size_t id_len = (size_t)p[*pos + 16] << 8 | p[*pos + 17];
    *pos += 18;
    if (id_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "the credential id is empty");
    if (id_len > CA_WEBAUTHN_CRED_ID_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "the credential id is %zu bytes: at most %d are "
                       "allowed", id_len, CA_WEBAUTHN_CRED_ID_MAX);
    if (id_len > len - *pos)
        return ca_fail(eb, CA_ERR_INVALID, "the credential id runs past the end of the "
                       "authenticator data");
    ad->cred_id = p + *pos;
    ad->cred_id_len = id_len;
    *pos += id_len;
    size_t n = 0;
    ca_err err = cbor_scan(&n, p + *pos, len - *pos, key, eb);
    if (err != CA_OK)
        return err;
    if (n > CA_WEBAUTHN_COSE_KEY_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "%s is %zu bytes: at most %d are accepted", key, n,
                       CA_WEBAUTHN_COSE_KEY_MAX);
    ad->cose_key = p + *pos;
    ad->cose_key_len = n;
    *pos += n;
    return CA_OK;
}

/* The extensions (ED flag): one CBOR map, checked for well-formedness only. */
static ca_err extensions_skip(const uint8_t *p, size_t len, size_t *pos, ca_errbuf *eb)
{
    static const char what[] = "the authenticator extensions";
    if (*pos >= len)
        return ca_fail(eb, CA_ERR_INVALID, "the ED flag is set but no extensions follow");
    if (p[*pos] >> 5 != 5)
        return ca_fail(eb, CA_ERR_INVALID, "%s are not a CBOR map", what);
    size_t n = 0;
    ca_err err = cbor_scan(&n, p + *pos, len - *pos, what, eb);
    if (err == CA_OK)
        *pos += n;
    return err;
}

static ca_err auth_data_parse(auth_data *ad, const uint8_t *p, size_t len, ca_errbuf *eb)
{
    memset(ad, 0, sizeof *ad);
    if (len > CA_WEBAUTHN_AUTH_DATA_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the authenticator data is %zu bytes: at most %d "
                       "are accepted", len, CA_WEBAUTHN_AUTH_DATA_MAX);
    if (len < AUTH_DATA_MIN)
        return ca_fail(eb, CA_ERR_INVALID, "the authenticator data is %zu bytes: at least %d "
                       "are needed", len, AUTH_DATA_MIN);
    ad->rp_id_hash = p;
    ad->flags = p[32];
    ad->sign_count = (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 8 | p[36];
    size_t pos = AUTH_DATA_MIN;
    ca_err err = CA_OK;
    if (ad->flags & CA_WEBAUTHN_FLAG_AT)
        err = attested_parse(ad, p, len, &pos, eb);
    if (err == CA_OK && (ad->flags & CA_WEBAUTHN_FLAG_ED))
        err = extensions_skip(p, len, &pos, eb);
    if (err == CA_OK && pos != len)
        err = ca_fail(eb, CA_ERR_INVALID, "the authenticator data has %zu trailing bytes",
                      len - pos);
    return err;
}

/* rpIdHash and the flags (§7.1 steps 13-17, §7.2 steps 15-18). */
static ca_err auth_data_check(const auth_data *ad, const ca_webauthn_expect *ex, ca_errbuf *eb)
{
    ca_hash h;
    ca_sha256(&h, ex->rp_id, strlen(ex->rp_id));
    if (CRYPTO_memcmp(h.b, ad->rp_id_hash, CA_HASH_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "the authenticator data's rpIdHash is not SHA-256 of "
                       "the RP ID %.200s", ex->rp_id);
    if (!(ad->flags & CA_WEBAUTHN_FLAG_UP))
        return ca_fail(eb, CA_ERR_VERIFY, "the user presence (UP) flag is not set");
    if (ex->require_uv && !(ad->flags & CA_WEBAUTHN_FLAG_UV))
        return ca_fail(eb, CA_ERR_VERIFY, "user verification is required but the UV flag is "
                       "not set");
    if ((ad->flags & CA_WEBAUTHN_FLAG_BS) && !(ad->flags & CA_WEBAUTHN_FLAG_BE))
        return ca_fail(eb, CA_ERR_VERIFY, "the backup state (BS) flag is set without backup "
                       "eligibility (BE)");
    return CA_OK;
}

/* ---- registration (§7.1) ---- */

/* fmt "none" with an empty attStmt (§8.7), and the authData bytes (§6.5.4). */
static ca_err att_object_fields(const cbor_item_t *ao, const uint8_t **ad, size_t *ad_len,
                                ca_errbuf *eb)
{
    static const char what[] = "the attestationObject";
    if (!cbor_isa_map(ao))
        return ca_fail(eb, CA_ERR_INVALID, "%s is not a CBOR map", what);
    ca_err err = map_check_keys(ao, what, ATT_OBJECT_ENTRIES_MAX, eb);
    if (err != CA_OK)
        return err;
    const cbor_item_t *fmt = map_get_text(ao, "fmt");
    const cbor_item_t *stmt = map_get_text(ao, "attStmt");
    if (!fmt || !cbor_isa_string(fmt) || !cbor_string_is_definite(fmt))
        return ca_fail(eb, CA_ERR_INVALID, "%s has no text \"fmt\"", what);
    if (!item_text_is(fmt, "none")) {
        char name[40];
        size_t n = cbor_string_length(fmt);
        return ca_fail(eb, CA_ERR_INVALID, "attestation format \"%s\" is not accepted: only "
                       "\"none\"", shown(name, n ? cbor_string_handle(fmt) : (uint8_t *)"", n));
    }
    if (!stmt || !cbor_isa_map(stmt))
        return ca_fail(eb, CA_ERR_INVALID, "%s has no map \"attStmt\"", what);
    if (cbor_map_size(stmt) != 0)
        return ca_fail(eb, CA_ERR_INVALID, "the attStmt of format \"none\" must be empty");
    if (!item_bytes(map_get_text(ao, "authData"), ad, ad_len))
        return ca_fail(eb, CA_ERR_INVALID, "%s has no byte string \"authData\"", what);
    return CA_OK;
}

static ca_err registration_auth_data(ca_webauthn_credential *out,
                                     const ca_webauthn_expect *ex, const uint8_t *p,
                                     size_t len, ca_errbuf *eb)
{
    auth_data ad;
    ca_err err = auth_data_parse(&ad, p, len, eb);
    if (err == CA_OK)
        err = auth_data_check(&ad, ex, eb);
    if (err != CA_OK)
        return err;
    if (!(ad.flags & CA_WEBAUTHN_FLAG_AT))
        return ca_fail(eb, CA_ERR_VERIFY, "the attested credential data (AT flag) is missing: "
                       "there is no credential to register");
    EVP_PKEY *pkey = NULL;
    int alg = 0;
    err = cose_key_parse(&pkey, &alg, ad.cose_key, ad.cose_key_len, eb);
    EVP_PKEY_free(pkey);
    if (err != CA_OK)
        return err;
    memcpy(out->id, ad.cred_id, ad.cred_id_len);
    out->id_len = ad.cred_id_len;
    memcpy(out->cose_key, ad.cose_key, ad.cose_key_len);
    out->cose_key_len = ad.cose_key_len;
    out->alg = alg;
    out->sign_count = ad.sign_count;
    memcpy(out->aaguid, ad.aaguid, sizeof out->aaguid);
    out->backup_eligible = (ad.flags & CA_WEBAUTHN_FLAG_BE) != 0;
    out->backed_up = (ad.flags & CA_WEBAUTHN_FLAG_BS) != 0;
    out->uv = (ad.flags & CA_WEBAUTHN_FLAG_UV) != 0;
    return CA_OK;
}

ca_err ca_webauthn_verify_registration(ca_webauthn_credential *out,
                                       const ca_webauthn_expect *expect,
                                       const uint8_t *client_data_json, size_t cdj_len,
                                       const uint8_t *attestation_object, size_t ao_len,
                                       ca_errbuf *eb)
{
    CA_ASSERT(out != NULL);
    expect_assert(expect);
    CA_ASSERT(client_data_json != NULL || cdj_len == 0);
    CA_ASSERT(attestation_object != NULL || ao_len == 0);
    memset(out, 0, sizeof *out);
    if (cdj_len > CA_WEBAUTHN_CLIENT_DATA_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "clientDataJSON is %zu bytes: at most %d are "
                       "accepted", cdj_len, CA_WEBAUTHN_CLIENT_DATA_MAX);
    if (ao_len > CA_WEBAUTHN_ATT_OBJECT_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the attestationObject is %zu bytes: at most %d "
                       "are accepted", ao_len, CA_WEBAUTHN_ATT_OBJECT_MAX);
    ca_err err = client_data_check(expect, "webauthn.create", client_data_json, cdj_len, eb);
    if (err != CA_OK)
        return err;
    cbor_item_t *ao = NULL;
    if ((err = cbor_parse(&ao, attestation_object, ao_len, "the attestationObject", eb)) != CA_OK)
        return err;
    const uint8_t *ad = NULL;
    size_t ad_len = 0;
    err = att_object_fields(ao, &ad, &ad_len, eb);
    if (err == CA_OK)
        err = registration_auth_data(out, expect, ad, ad_len, eb);
    cbor_decref(&ao);
    if (err != CA_OK)
        memset(out, 0, sizeof *out);
    return err;
}

/* ---- authentication (§7.2) ---- */

/* The signature over authData || SHA-256(clientDataJSON) (§6.3.3), by the credential's key
 * (§6.5.6: ES256 as a DER ECDSA-Sig-Value, which OpenSSL parses strictly; Ed25519 raw). */
static ca_err assertion_sig_check(EVP_PKEY *pkey, int alg, const uint8_t *ad, size_t ad_len,
                                  const uint8_t *cdj, size_t cdj_len, const uint8_t *sig,
                                  size_t sig_len, ca_errbuf *eb)
{
    const EVP_MD *md = EVP_sha256();
    if (alg == CA_COSE_ES256 && (sig_len < 8 || sig_len > 72))
        return ca_fail(eb, CA_ERR_INVALID, "an ES256 signature is a DER ECDSA-Sig-Value of 8 "
                       "to 72 bytes, not %zu", sig_len);
    if (alg == CA_COSE_EDDSA && sig_len != 64)
        return ca_fail(eb, CA_ERR_INVALID, "an EdDSA signature is 64 bytes, not %zu", sig_len);
    if (alg == CA_COSE_EDDSA)
        md = NULL; /* Ed25519 hashes the message itself */
    if (alg == CA_COSE_RS256 && sig_len != (size_t)EVP_PKEY_get_size(pkey))
        return ca_fail(eb, CA_ERR_INVALID, "an RS256 signature of this key is %d bytes, not %zu",
                       EVP_PKEY_get_size(pkey), sig_len);
    uint8_t msg[CA_WEBAUTHN_AUTH_DATA_MAX + CA_HASH_SIZE];
    ca_hash h;
    memcpy(msg, ad, ad_len);
    ca_sha256(&h, cdj, cdj_len);
    memcpy(msg + ad_len, h.b, CA_HASH_SIZE);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory verifying a signature");
    bool ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, msg, ad_len + CA_HASH_SIZE) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok ? CA_OK
              : ca_fail(eb, CA_ERR_VERIFY, "the assertion signature does not verify with the "
                        "credential's public key");
}

static ca_err assertion_caps(size_t cose_key_len, size_t cdj_len, size_t ad_len,
                             size_t sig_len, ca_errbuf *eb)
{
    if (cose_key_len > CA_WEBAUTHN_COSE_KEY_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the stored COSE_Key is %zu bytes: at most %d are "
                       "accepted", cose_key_len, CA_WEBAUTHN_COSE_KEY_MAX);
    if (cdj_len > CA_WEBAUTHN_CLIENT_DATA_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "clientDataJSON is %zu bytes: at most %d are "
                       "accepted", cdj_len, CA_WEBAUTHN_CLIENT_DATA_MAX);
    if (ad_len > CA_WEBAUTHN_AUTH_DATA_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the authenticator data is %zu bytes: at most %d "
                       "are accepted", ad_len, CA_WEBAUTHN_AUTH_DATA_MAX);
    if (sig_len > CA_WEBAUTHN_SIG_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the signature is %zu bytes: at most %d are "
                       "accepted", sig_len, CA_WEBAUTHN_SIG_MAX);
    return CA_OK;
}

ca_err ca_webauthn_verify_assertion(uint32_t *new_count, bool *uv,
                                    const ca_webauthn_expect *expect,
                                    const uint8_t *cose_key, size_t cose_key_len,
                                    uint32_t stored_count,
                                    const uint8_t *client_data_json, size_t cdj_len,
                                    const uint8_t *auth_data_bytes, size_t ad_len,
                                    const uint8_t *sig, size_t sig_len, ca_errbuf *eb)
{
    expect_assert(expect);
    CA_ASSERT(cose_key != NULL || cose_key_len == 0);
    CA_ASSERT(client_data_json != NULL || cdj_len == 0);
    CA_ASSERT(auth_data_bytes != NULL || ad_len == 0);
    CA_ASSERT(sig != NULL || sig_len == 0);
    if (new_count)
        *new_count = 0;
    if (uv)
        *uv = false;
    auth_data ad;
    EVP_PKEY *pkey = NULL;
    int alg = 0;
    ca_err err = assertion_caps(cose_key_len, cdj_len, ad_len, sig_len, eb);
    if (err == CA_OK)
        err = client_data_check(expect, "webauthn.get", client_data_json, cdj_len, eb);
    if (err == CA_OK)
        err = auth_data_parse(&ad, auth_data_bytes, ad_len, eb);
    if (err == CA_OK)
        err = auth_data_check(&ad, expect, eb);
    if (err == CA_OK)
        err = cose_key_parse(&pkey, &alg, cose_key, cose_key_len, eb);
    if (err == CA_OK)
        err = assertion_sig_check(pkey, alg, auth_data_bytes, ad_len, client_data_json, cdj_len,
                                  sig, sig_len, eb);
    EVP_PKEY_free(pkey);
    if (err != CA_OK)
        return err;
    /* §7.2 step 22: a counter that does not grow means two copies of the authenticator. */
    if ((stored_count != 0 || ad.sign_count != 0) && ad.sign_count <= stored_count)
        err = ca_fail(eb, CA_ERR_CONFLICT, "the signature counter went backwards (%u after "
                      "%u): a cloned authenticator?", ad.sign_count, stored_count);
    if (new_count)
        *new_count = ad.sign_count;
    if (uv)
        *uv = (ad.flags & CA_WEBAUTHN_FLAG_UV) != 0;
    return err;
}
