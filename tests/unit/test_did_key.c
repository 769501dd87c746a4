/* Tests for did/multibase.c and did/did_key.c.
 *
 *  - base58btc: the multibase spec's test vectors ("yes mani !" with 0, 1 and 2 leading zero
 *    bytes, "Decentralize everything!!", "hello world") and the Bitcoin base58 vectors;
 *    negatives (characters outside the alphabet, caps, small buffers).
 *  - unsigned-varint: the multiformats spec examples (1, 127, 128, 255, 300, 16384), the 9-byte
 *    limit, and non-minimal / truncated / over-long encodings.
 *  - did:key: the did:key spec's test vectors (the test-vectors directory of w3c-ccg/did-method-key:
 *    Ed25519 with its derived X25519 key, X25519, secp256k1, P-256 and P-384 JWKs), the
 *    negatives of issue 4, and property tests: random keys of every type encode, resolve and
 *    round-trip; a derived X25519 key equals the X25519 public key of the same seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "credanchor/crypto.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "credanchor/multibase.h"

#define PROPERTY_KEYS 200

/* ---- helpers ---- */

static void hex_to(uint8_t *out, size_t len, const char *hex)
{
    assert_int_equal(ca_hex_decode(out, len, hex, strlen(hex)), CA_OK);
}

/* The bytes of a base58 text (no multibase prefix). */
static size_t b58_to(uint8_t *out, size_t cap, const char *text)
{
    size_t len = cap;
    assert_int_equal(ca_base58_decode(out, &len, text, strlen(text), NULL), CA_OK);
    return len;
}

/* did:key text for arbitrary bytes (codec varint and key already concatenated). */
static void did_of_raw(char *did, size_t cap, const uint8_t *raw, size_t len)
{
    assert_true(cap > 8);
    memcpy(did, "did:key:", 8);
    size_t n = cap - 8;
    assert_int_equal(ca_multibase_encode(did + 8, &n, raw, len, NULL), CA_OK);
}

static void did_of_key(char *did, size_t cap, uint64_t codec, const uint8_t *key, size_t len)
{
    uint8_t raw[128];
    size_t n = ca_varint_encode(raw, codec);
    assert_true(n + len <= sizeof raw);
    memcpy(raw + n, key, len);
    did_of_raw(did, cap, raw, n + len);
}

static json_t *resolve_ok(ca_did_result *r, const char *did, ca_did_key_format format,
                          bool derive)
{
    ca_did_options o = {.format = format, .enable_encryption_key_derivation = derive};
    ca_did_error e = ca_did_key_resolve(r, did, &o);
    if (e != CA_DID_OK)
        fail_msg("%s: %s", did, r->detail);
    assert_non_null(r->document);
    assert_string_equal(r->content_type, "application/did+ld+json");
    assert_true(json_is_object(r->document_metadata));
    assert_int_equal(json_object_size(r->document_metadata), 0);
    return r->document;
}

/* Resolving did must fail with INVALID_DID and a detail starting with "<method_error>:". */
static void expect_method_error(const char *did, const char *method_error)
{
    ca_did_result r;
    ca_did_result_init(&r);
    ca_did_options o = {.enable_encryption_key_derivation = true};
    ca_did_error e = ca_did_key_resolve(&r, did, &o);
    if (e != CA_DID_INVALID_DID)
        fail_msg("%s: want INVALID_DID (%s), got %d (%s)", did, method_error, e, r.detail);
    assert_null(r.document);
    size_t n = strlen(method_error);
    if (strncmp(r.detail, method_error, n) != 0 || r.detail[n] != ':')
        fail_msg("%s: detail \"%s\" does not start with \"%s:\"", did, r.detail, method_error);
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
}

static const char *jstr_at(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s)
        fail_msg("missing string \"%s\"", key);
    return s;
}

static json_t *vm_at(json_t *doc, size_t i)
{
    json_t *vm = json_array_get(json_object_get(doc, "verificationMethod"), i);
    assert_non_null(vm);
    return vm;
}

/* The key bytes of a Multikey verification method (publicKeyMultibase minus the codec). */
static size_t multikey_bytes(json_t *vm, uint64_t want_codec, uint8_t *out)
{
    assert_string_equal(jstr_at(vm, "type"), "Multikey");
    const char *mb = jstr_at(vm, "publicKeyMultibase");
    uint8_t raw[128];
    size_t len = sizeof raw, used;
    uint64_t codec;
    assert_int_equal(ca_multibase_decode(raw, &len, mb, strlen(mb), NULL), CA_OK);
    assert_int_equal(ca_varint_decode(&codec, &used, raw, len, NULL), CA_OK);
    assert_int_equal(codec, want_codec);
    memcpy(out, raw + used, len - used);
    return len - used;
}

static void assert_b64u(const char *got, const uint8_t *b, size_t len)
{
    char want[200];
    ca_base64url_encode(want, b, len);
    assert_string_equal(got, want);
}

/* The reference list of one relationship holds exactly id. */
static void assert_rel(json_t *doc, const char *rel, const char *id)
{
    json_t *a = json_object_get(doc, rel);
    if (!json_is_array(a) || json_array_size(a) != 1)
        fail_msg("%s is not a one-element array", rel);
    assert_string_equal(json_string_value(json_array_get(a, 0)), id);
}

/* ---- base58 / multibase ---- */

static void test_base58_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *mb;
    } v[] = {
        /* multibase spec test vectors (test/basic_vectors, leading_zero) */
        {"796573206d616e692021", "z7paNL19xttacUY"},
        {"00796573206d616e692021", "z17paNL19xttacUY"},
        {"0000796573206d616e692021", "z117paNL19xttacUY"},
        {"446563656e7472616c697a652065766572797468696e672121",
         "zUXE7GvtEk8XTXs1GF8HSGbVA9FCX9SEBPe"},
        {"68656c6c6f20776f726c64", "zStV1DL6CwTryKyV"},
        /* Bitcoin Core base58_encode_decode.json */
        {"61", "z2g"},
        {"626262", "za3gV"},
        {"636363", "zaPEr"},
        {"73696d706c792061206c6f6e6720737472696e67", "z2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647",
         "z1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"516b6fcd0f", "zABnLTmg"},
        {"bf4f89001e670274dd", "z3SEo3LWLoPntC"},
        {"572e4794", "z3EFU7m"},
        {"ecac89cad93923c02321", "zEJDM8drfXA6uyA"},
        {"10c8511e", "zRt5zm"},
        {"00000000000000000000", "z1111111111"},
        {"00", "z1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t bin[64], back[64];
        size_t blen = strlen(v[i].hex) / 2;
        hex_to(bin, blen, v[i].hex);
        char text[128];
        size_t tlen = sizeof text;
        assert_int_equal(ca_multibase_encode(text, &tlen, bin, blen, NULL), CA_OK);
        assert_string_equal(text, v[i].mb);
        assert_int_equal(tlen, strlen(v[i].mb));
        size_t back_len = sizeof back;
        assert_int_equal(ca_multibase_decode(back, &back_len, v[i].mb, strlen(v[i].mb), NULL),
                         CA_OK);
        assert_int_equal(back_len, blen);
        assert_memory_equal(back, bin, blen);
        assert_true(tlen - 1 <= ca_base58_encoded_max(blen));
    }
    /* The empty string encodes to nothing. */
    char text[4];
    size_t tlen = sizeof text;
    assert_int_equal(ca_base58_encode(text, &tlen, NULL, 0, NULL), CA_OK);
    assert_int_equal(tlen, 0);
    assert_string_equal(text, "");
}

static void test_base58_negatives(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t len;
    ca_errbuf eb;
    /* Characters outside the alphabet: 0 O I l, '+', space, non-ASCII. */
    static const char *const bad[] = {"7paN0L", "7paNO", "I7pa", "7pal", "7p+a", "7p a",
                                      "7p\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = sizeof out;
        assert_int_equal(ca_base58_decode(out, &len, bad[i], strlen(bad[i]), &eb),
                         CA_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "alphabet"));
    }
    len = sizeof out;
    assert_int_equal(ca_base58_decode(out, &len, "", 0, NULL), CA_ERR_INVALID);
    /* Output buffer too small: an error, not a truncation. */
    len = 9;
    assert_int_equal(ca_base58_decode(out, &len, "7paNL19xttacUY", 14, NULL), CA_ERR_TOO_LARGE);
    len = 10;
    assert_int_equal(ca_base58_decode(out, &len, "7paNL19xttacUY", 14, NULL), CA_OK);
    char text[16];
    size_t tlen = 14; /* 14 characters need 15 bytes with the NUL */
    assert_int_equal(ca_base58_encode(text, &tlen, (const uint8_t *)"yes mani !", 10, NULL),
                     CA_ERR_TOO_LARGE);
    /* Input caps. */
    char big[CA_BASE58_MAX_TEXT + 2];
    memset(big, '2', sizeof big);
    uint8_t huge[400];
    len = sizeof huge;
    assert_int_equal(ca_base58_decode(huge, &len, big, CA_BASE58_MAX_TEXT + 1, NULL),
                     CA_ERR_TOO_LARGE);
    len = sizeof huge;
    assert_int_equal(ca_base58_decode(huge, &len, big, CA_BASE58_MAX_TEXT, NULL), CA_OK);
    memset(huge, 0xff, sizeof huge);
    char enc[CA_BASE58_MAX_TEXT + 8];
    tlen = sizeof enc;
    assert_int_equal(ca_base58_encode(enc, &tlen, huge, CA_BASE58_MAX_BINARY, NULL), CA_OK);
    assert_true(tlen <= CA_BASE58_MAX_TEXT);
    tlen = sizeof enc;
    assert_int_equal(ca_base58_encode(enc, &tlen, huge, CA_BASE58_MAX_BINARY + 1, NULL),
                     CA_ERR_TOO_LARGE);
    /* Multibase: only 'z'; the error names the prefix. */
    len = sizeof out;
    assert_int_equal(ca_multibase_decode(out, &len, "u7QE", 4, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "'u'"));
    len = sizeof out;
    assert_int_equal(ca_multibase_decode(out, &len, "f00", 3, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "'f'"));
    len = sizeof out;
    assert_int_equal(ca_multibase_decode(out, &len, "z", 1, NULL), CA_ERR_INVALID);
    len = sizeof out;
    assert_int_equal(ca_multibase_decode(out, &len, "", 0, NULL), CA_ERR_INVALID);
}

/* Random byte strings of every length up to 100, many with leading zeros, round-trip and
 * agree with a slow reference (repeated division of the whole number by 58). */
static void test_base58_random_roundtrip(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 100; len++) {
        for (int rep = 0; rep < 20; rep++) {
            uint8_t in[100], out[128];
            assert_int_equal(ca_random_bytes(in, len), CA_OK);
            memset(in, 0, (size_t)rep % 4 < len ? (size_t)rep % 4 : len);
            size_t zeros = 0; /* random bytes may add to the zeros set here */
            while (zeros < len && in[zeros] == 0)
                zeros++;
            char text[160];
            size_t tlen = sizeof text;
            assert_int_equal(ca_base58_encode(text, &tlen, in, len, NULL), CA_OK);
            assert_true(tlen <= ca_base58_encoded_max(len));
            /* reference: schoolbook division, digits collected least significant first */
            uint8_t num[100];
            memcpy(num, in, len);
            char ref[160];
            size_t nr = 0, start = zeros;
            while (start < len) {
                unsigned rem = 0;
                for (size_t i = start; i < len; i++) {
                    unsigned cur = rem * 256 + num[i];
                    num[i] = (uint8_t)(cur / 58);
                    rem = cur % 58;
                }
                ref[nr++] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[rem];
                while (start < len && num[start] == 0)
                    start++;
            }
            assert_int_equal(tlen, zeros + nr);
            for (size_t i = 0; i < zeros; i++)
                assert_int_equal(text[i], '1');
            for (size_t i = 0; i < nr; i++)
                assert_int_equal(text[zeros + i], ref[nr - 1 - i]);
            if (len == 0)
                continue;
            size_t olen = sizeof out;
            assert_int_equal(ca_base58_decode(out, &olen, text, tlen, NULL), CA_OK);
            assert_int_equal(olen, len);
            assert_memory_equal(out, in, len);
        }
    }
}

/* ---- varint ---- */

static void test_varint_vectors(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        const char *hex;
    } v[] = {
        {0, "00"},       {1, "01"},         {127, "7f"},         {128, "8001"},
        {255, "ff01"},   {300, "ac02"},     {16384, "808001"},   {0xed, "ed01"},
        {0xec, "ec01"},  {0xe7, "e701"},    {0x1200, "8024"},    {0x1201, "8124"},
        {CA_VARINT_LIMIT - 1, "ffffffffffffffff7f"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t want[CA_VARINT_MAX], got[CA_VARINT_MAX];
        size_t wlen = strlen(v[i].hex) / 2;
        hex_to(want, wlen, v[i].hex);
        assert_int_equal(ca_varint_encode(got, v[i].v), wlen);
        assert_memory_equal(got, want, wlen);
        uint64_t x;
        size_t used;
        /* trailing bytes after the varint are not part of it */
        uint8_t buf[CA_VARINT_MAX + 2];
        memcpy(buf, want, wlen);
        buf[wlen] = 0xaa;
        buf[wlen + 1] = 0x55;
        assert_int_equal(ca_varint_decode(&x, &used, buf, wlen + 2, NULL), CA_OK);
        assert_int_equal(x, v[i].v);
        assert_int_equal(used, wlen);
    }
}

static void test_varint_negatives(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                     /* nothing */
        "80",                   /* ends inside the varint */
        "ff ff",                /* ditto */
        "8000",                 /* 0 in two bytes: not minimal */
        "8100",                 /* 1 in two bytes */
        "ed8100",               /* 0xed in three bytes */
        "ff8000",               /* 127 in three bytes */
        "ffffffffffffffff80",   /* continues past the 9th byte (would overflow 63 bits) */
        "ffffffffffffffffff01", /* 10 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[16];
        size_t n = 0;
        for (const char *p = bad[i]; *p;) {
            if (*p == ' ') {
                p++;
                continue;
            }
            hex_to(buf + n, 1, (char[]){p[0], p[1], 0});
            n++;
            p += 2;
        }
        uint64_t x;
        size_t used;
        ca_errbuf eb;
        if (ca_varint_decode(&x, &used, buf, n, &eb) != CA_ERR_INVALID)
            fail_msg("varint %s accepted", bad[i]);
    }
}

/* ---- did:key vectors ---- */

typedef struct ed_vector {
    const char *did, *pub_b58, *ka_fragment;
} ed_vector;

/* test-vectors/ed25519-x25519.json, plus the spec's example DID. */
static const ed_vector ed_vectors[] = {
    {"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
     "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
     "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"},
    {"did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
     "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
     "z6LSrHyXiPBhUbvPUtyUCdf32sniiMGPTAesgHrtEa4FePtr"},
    {"did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
     "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
     "z6LSkkqoZRC34AEpbkhZCqLDcHQVAxuLpQ7kC8XCXMVUfvjE"},
    {"did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
     "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
     "z6LSiUo6AEDat8Ze4nQzDo67SGuHLLwsUGkxndHGUjsywHow"},
    {"did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
     "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
     "z6LSrGb3qm4xMCEBjvwkLb2WEcXfTM94Tu1RyGCbT5wbg8i9"},
    {"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", NULL,
     "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"},
};

/* ed25519-x25519.json: the seeds of the first five vectors are 0...0, 0...1, ... 0...4. */
static void test_did_key_ed25519_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ed_vectors / sizeof ed_vectors[0]; i++) {
        const ed_vector *v = &ed_vectors[i];
        const char *mb = v->did + 8;
        char vm_id[256], ka_id[256];
        snprintf(vm_id, sizeof vm_id, "%s#%s", v->did, mb);
        snprintf(ka_id, sizeof ka_id, "%s#%s", v->did, v->ka_fragment);

        ca_did_result r;
        ca_did_result_init(&r);
        json_t *doc = resolve_ok(&r, v->did, CA_DID_FORMAT_MULTIKEY, true);
        assert_string_equal(jstr_at(doc, "id"), v->did);
        json_t *ctx = json_object_get(doc, "@context");
        assert_int_equal(json_array_size(ctx), 2);
        assert_string_equal(json_string_value(json_array_get(ctx, 0)),
                            "https://www.w3.org/ns/did/v1");
        assert_string_equal(json_string_value(json_array_get(ctx, 1)),
                            "https://w3id.org/security/multikey/v1");
        assert_int_equal(json_array_size(json_object_get(doc, "verificationMethod")), 2);
        json_t *vm = vm_at(doc, 0);
        assert_string_equal(jstr_at(vm, "id"), vm_id);
        assert_string_equal(jstr_at(vm, "controller"), v->did);
        assert_string_equal(jstr_at(vm, "publicKeyMultibase"), mb);
        uint8_t key[64];
        assert_int_equal(multikey_bytes(vm, 0xed, key), 32);
        if (v->pub_b58) {
            uint8_t want[64];
            assert_int_equal(b58_to(want, sizeof want, v->pub_b58), 32);
            assert_memory_equal(key, want, 32);
        }
        json_t *ka = vm_at(doc, 1);
        assert_string_equal(jstr_at(ka, "id"), ka_id);
        assert_string_equal(jstr_at(ka, "controller"), v->did);
        assert_string_equal(jstr_at(ka, "publicKeyMultibase"), v->ka_fragment);
        static const char *const rels[] = {"authentication", "assertionMethod",
                                           "capabilityInvocation", "capabilityDelegation"};
        for (size_t k = 0; k < 4; k++)
            assert_rel(doc, rels[k], vm_id);
        assert_rel(doc, "keyAgreement", ka_id);
        /* Member order follows the spec's algorithm. */
        const char *order[] = {"@context", "id", "verificationMethod", "authentication",
                               "assertionMethod", "capabilityInvocation",
                               "capabilityDelegation", "keyAgreement"};
        size_t k = 0;
        const char *name;
        json_t *val;
        json_object_foreach(doc, name, val) {
            assert_true(k < 8);
            assert_string_equal(name, order[k++]);
        }
        assert_int_equal(k, 8);

        /* Without derivation: one method, no keyAgreement. */
        doc = resolve_ok(&r, v->did, CA_DID_FORMAT_MULTIKEY, false);
        assert_int_equal(json_array_size(json_object_get(doc, "verificationMethod")), 1);
        assert_null(json_object_get(doc, "keyAgreement"));

        /* JsonWebKey: OKP/Ed25519 and OKP/X25519, x = the key bytes, never a d. */
        doc = resolve_ok(&r, v->did, CA_DID_FORMAT_JSON_WEB_KEY, true);
        assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "@context"), 1)),
                            "https://w3id.org/security/jwk/v1");
        vm = vm_at(doc, 0);
        assert_string_equal(jstr_at(vm, "type"), "JsonWebKey");
        assert_null(json_object_get(vm, "publicKeyMultibase"));
        json_t *jwk = json_object_get(vm, "publicKeyJwk");
        assert_string_equal(jstr_at(jwk, "kty"), "OKP");
        assert_string_equal(jstr_at(jwk, "crv"), "Ed25519");
        assert_b64u(jstr_at(jwk, "x"), key, 32);
        assert_null(json_object_get(jwk, "y"));
        assert_null(json_object_get(jwk, "d"));
        assert_int_equal(json_object_size(jwk), 3);
        ka = vm_at(doc, 1);
        assert_string_equal(jstr_at(ka, "id"), ka_id);
        jwk = json_object_get(ka, "publicKeyJwk");
        assert_string_equal(jstr_at(jwk, "crv"), "X25519");
        uint8_t xraw[64];
        assert_int_equal(b58_to(xraw, sizeof xraw, v->ka_fragment + 1), 34);
        assert_b64u(jstr_at(jwk, "x"), xraw + 2, 32);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
}

static void test_did_key_x25519_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *did, *pub_b58;
    } v[] = {
        {"did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F",
         "4Dy8E9UaZscuPUf2GLxV44RCNL7oxmEXXkgWXaug1WKV"},
        {"did:key:z6LStiZsmxiK4odS4Sb6JmdRFuJ6e1SYP157gtiCyJKfrYha",
         "J3PiFeuSyLugy4DKn87TwK5cnruRgPtxouzXUqg99Avp"},
        {"did:key:z6LSoMdmJz2Djah2P4L9taDmtqeJ6wwd2HhKZvNToBmvaczQ",
         "CgTbngDMe7yHHfxPMvhpaFRpFoQWKgXAgwenJj8PsFDe"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ca_did_result r;
        ca_did_result_init(&r);
        /* Derivation does not apply to X25519 keys: same document either way. */
        json_t *doc = resolve_ok(&r, v[i].did, CA_DID_FORMAT_MULTIKEY, true);
        char vm_id[256];
        snprintf(vm_id, sizeof vm_id, "%s#%s", v[i].did, v[i].did + 8);
        assert_int_equal(json_array_size(json_object_get(doc, "verificationMethod")), 1);
        uint8_t key[64], want[64];
        assert_int_equal(multikey_bytes(vm_at(doc, 0), 0xec, key), 32);
        assert_int_equal(b58_to(want, sizeof want, v[i].pub_b58), 32);
        assert_memory_equal(key, want, 32);
        assert_rel(doc, "keyAgreement", vm_id);
        assert_null(json_object_get(doc, "authentication"));
        assert_null(json_object_get(doc, "assertionMethod"));
        assert_null(json_object_get(doc, "capabilityInvocation"));
        assert_null(json_object_get(doc, "capabilityDelegation"));
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
}

/* secp256k1.json gives the compressed keys; JWK x/y are checked against libsecp256k1 in the
 * property test and against the npm peers in tests/interop. */
static void test_did_key_secp256k1_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *did, *pub_b58, *seed;
    } v[] = {
        {"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
         "23o6Sau8NxxzXcgSc3PLcNxrzrZpbLeBn1izfv3jbKhuv",
         "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c"},
        {"did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2",
         "291KzQhqCPC18PqH83XKhxv1HdqrdnxyS7dh15t2uNRzJ",
         "f0f4df55a2b3ff13051ea814a8f24ad00f2e469af73c363ac7e9fb999a9072ed"},
        {"did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N",
         "oesQ92MLiAkt2pjBcJFbW7H4DvzKJv22cotjYbmC2JEe",
         "6b0b91287ae3348f8c2f2552d766f30e3604867e34adc37ccbb74a8e6b893e02"},
        {"did:key:zQ3shadCps5JLAHcZiuX5YUtWHHL8ysBJqFLWvjZDKAWUBGzy",
         "pg3p1vprqePgUoqfAQ1TTgxhL6zLYhHyzooR1pqLxo9F",
         "c0a6a7c560d37d7ba81ecee9543721ff48fea3e0fb827d42c1868226540fac15"},
        {"did:key:zQ3shptjE6JwdkeKN4fcpnYQY3m9Cet3NiHdAfpvSUZBFoKBj",
         "24waDFAUAS16UpZwQQTXVEAmm17rQRjadjuAeBDW8aqL1",
         "175a232d440be1e0788f25488a73d9416c04b6f924bea6354bf05dd2f1a75133"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ca_did_result r;
        ca_did_result_init(&r);
        json_t *doc = resolve_ok(&r, v[i].did, CA_DID_FORMAT_MULTIKEY, true);
        uint8_t key[64], want[64];
        assert_int_equal(multikey_bytes(vm_at(doc, 0), 0xe7, key), 33);
        assert_int_equal(b58_to(want, sizeof want, v[i].pub_b58), 33);
        assert_memory_equal(key, want, 33);
        assert_null(json_object_get(doc, "keyAgreement"));
        /* The vector's secret key gives the same public key, uncompressed = JWK x || y. */
        uint8_t sk[32], full[65];
        size_t flen = sizeof full;
        hex_to(sk, 32, v[i].seed);
        assert_int_equal(ca_secp256k1_public(full, &flen, sk), CA_OK);
        assert_int_equal(flen, 65);
        doc = resolve_ok(&r, v[i].did, CA_DID_FORMAT_JSON_WEB_KEY, false);
        json_t *jwk = json_object_get(vm_at(doc, 0), "publicKeyJwk");
        assert_string_equal(jstr_at(jwk, "kty"), "EC");
        assert_string_equal(jstr_at(jwk, "crv"), "secp256k1");
        assert_b64u(jstr_at(jwk, "x"), full + 1, 32);
        assert_b64u(jstr_at(jwk, "y"), full + 33, 32);
        assert_int_equal(json_object_size(jwk), 4);
        /* encode is the inverse */
        char did[CA_DID_TEXT_MAX];
        assert_int_equal(ca_did_key_encode(did, CA_KEYTYPE_SECP256K1, want, 33, NULL), CA_OK);
        assert_string_equal(did, v[i].did);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
}

/* nist-curves.json (P-256 and P-384; its P-521 DIDs are unsupported here). */
static void test_did_key_nist_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *did, *crv, *x, *y;
    } v[] = {
        {"did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv", "P-256",
         "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"},
        {"did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256",
         "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI", "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"},
        {"did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9", "P-384",
         "lInTxl8fjLKp_UCrxI0WDklahi-7-_6JbtiHjiRvMvhedhKVdHBfi2HCY8t_QJyc",
         "y6N1IC-2mXxHreETBW7K3mBcw0qGr3CWHCs-yl09yCQRLcyfGv7XhqAngHOu51Zv"},
        {"did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54", "P-384",
         "CA-iNoHDg1lL8pvX3d1uvExzVfCz7Rn6tW781Ub8K5MrDf2IMPyL0RTDiaLHC1JT",
         "Kpnrn8DkXUD3ge4mFxi-DKr0DYO2KuJdwNBrhzLRtfMa3WFMZBiPKUPfJj8dYNl_"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ca_did_result r;
        ca_did_result_init(&r);
        json_t *doc = resolve_ok(&r, v[i].did, CA_DID_FORMAT_JSON_WEB_KEY, false);
        json_t *vm = vm_at(doc, 0);
        char vm_id[256];
        snprintf(vm_id, sizeof vm_id, "%s#%s", v[i].did, v[i].did + 8);
        assert_string_equal(jstr_at(vm, "id"), vm_id);
        json_t *jwk = json_object_get(vm, "publicKeyJwk");
        assert_string_equal(jstr_at(jwk, "kty"), "EC");
        assert_string_equal(jstr_at(jwk, "crv"), v[i].crv);
        assert_string_equal(jstr_at(jwk, "x"), v[i].x);
        assert_string_equal(jstr_at(jwk, "y"), v[i].y);
        assert_null(json_object_get(jwk, "d"));
        assert_rel(doc, "assertionMethod", vm_id);
        /* Multikey keeps the DID's own multibase value. */
        doc = resolve_ok(&r, v[i].did, CA_DID_FORMAT_MULTIKEY, false);
        assert_string_equal(jstr_at(vm_at(doc, 0), "publicKeyMultibase"), v[i].did + 8);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
    /* P-521 (codec 0x1202) is not one of our key types. */
    expect_method_error("did:key:z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyREXXzWgt3"
                        "gGiwpoHq7K68X4m32D8HgzG8wv3sY5j7",
                        "unsupportedPublicKeyType");
}

/* ---- negatives ---- */

static void test_did_key_negatives(void **state)
{
    (void)state;
    char did[CA_DID_TEXT_MAX];
    uint8_t key[80];

    /* Not a did:key, or not only one. */
    expect_method_error("", "invalidDid");
    expect_method_error("did:key:", "invalidDid");
    expect_method_error("did:key:z", "invalidDid");
    expect_method_error("did:web:example.com", "invalidDid");
    expect_method_error("DID:KEY:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "invalidDid");
    expect_method_error("did:key:1:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#"
                        "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                        "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK?x=1",
                        "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK/path",
                        "invalidDid");
    /* Other multibase prefixes: 'u' (base64url) names itself. */
    expect_method_error("did:key:u7QFOiqPuRzyfhQHVs2kVwaOuwe5qZmvFLTEYpGh1O2DSHg", "invalidDid");
    {
        ca_did_result r;
        ca_did_result_init(&r);
        ca_did_key_resolve(&r, "did:key:u7QFOiqPuRzyfhQHVs2kVwaOuwe5qZmvFLTEYpGh1O2DSHg", NULL);
        assert_non_null(strstr(r.detail, "'u'"));
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
    }
    expect_method_error("did:key:f ed01", "invalidDid");
    /* Bad base58 characters. */
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do0", "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2dol", "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doO", "invalidDid");
    expect_method_error("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doI", "invalidDid");
    expect_method_error("did:key:z6Mk haXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "invalidDid");
    /* Far too long. */
    {
        char big[CA_DID_TEXT_MAX + 16];
        memcpy(big, "did:key:z", 9);
        memset(big + 9, '2', sizeof big - 10);
        big[sizeof big - 1] = '\0';
        expect_method_error(big, "invalidDid");
        big[600] = '\0';
        expect_method_error(big, "invalidDid");
    }

    /* A 31-byte (and a 33-byte) Ed25519 key, a 32-byte secp256k1 key, a 48-byte P-384 key. */
    memset(key, 0x11, sizeof key);
    did_of_key(did, sizeof did, 0xed, key, 31);
    expect_method_error(did, "invalidPublicKeyLength");
    did_of_key(did, sizeof did, 0xed, key, 33);
    expect_method_error(did, "invalidPublicKeyLength");
    did_of_key(did, sizeof did, 0xec, key, 0);
    expect_method_error(did, "invalidPublicKeyLength");
    key[0] = 0x02;
    did_of_key(did, sizeof did, 0xe7, key, 32);
    expect_method_error(did, "invalidPublicKeyLength");
    did_of_key(did, sizeof did, 0x1200, key, 65); /* uncompressed form: not what v0.9 uses */
    expect_method_error(did, "invalidPublicKeyLength");
    did_of_key(did, sizeof did, 0x1201, key, 48);
    expect_method_error(did, "invalidPublicKeyLength");

    /* Codec bytes that are not a (minimal) varint. */
    {
        uint8_t raw[40] = {0xed, 0x81, 0x00}; /* 0xed in three bytes */
        memset(raw + 3, 0x11, 32);
        did_of_raw(did, sizeof did, raw, 35);
        expect_method_error(did, "invalidDid");
        uint8_t trunc[1] = {0xed}; /* a continuation byte and nothing after it */
        did_of_raw(did, sizeof did, trunc, 1);
        expect_method_error(did, "invalidDid");
        uint8_t over[12];
        memset(over, 0xff, sizeof over); /* never terminates within 9 bytes */
        did_of_raw(did, sizeof did, over, sizeof over);
        expect_method_error(did, "invalidDid");
    }

    /* Unsupported codecs: P-521, BLS12-381 G2, RSA, a single 0x00 (identity codec). */
    memset(key, 0x22, sizeof key);
    did_of_key(did, sizeof did, 0x1202, key, 67);
    expect_method_error(did, "unsupportedPublicKeyType");
    did_of_key(did, sizeof did, 0xeb, key, 48);
    expect_method_error(did, "unsupportedPublicKeyType");
    did_of_key(did, sizeof did, 0x1205, key, 40);
    expect_method_error(did, "unsupportedPublicKeyType");
    did_of_key(did, sizeof did, 0x00, key, 32);
    expect_method_error(did, "unsupportedPublicKeyType");

    /* Points off the curve: x = 5 has no secp256k1 point, x = 1 none on P-256 or P-384. */
    memset(key, 0, sizeof key);
    key[0] = 0x02;
    key[32] = 5;
    did_of_key(did, sizeof did, 0xe7, key, 33);
    expect_method_error(did, "invalidPublicKey");
    key[32] = 1;
    did_of_key(did, sizeof did, 0x1200, key, 33);
    expect_method_error(did, "invalidPublicKey");
    memset(key, 0, sizeof key);
    key[0] = 0x03;
    key[48] = 1;
    did_of_key(did, sizeof did, 0x1201, key, 49);
    expect_method_error(did, "invalidPublicKey");
    /* x at or above the field prime, and bad prefix bytes on a valid x. */
    memset(key, 0xff, sizeof key);
    key[0] = 0x02;
    did_of_key(did, sizeof did, 0xe7, key, 33);
    expect_method_error(did, "invalidPublicKey");
    did_of_key(did, sizeof did, 0x1200, key, 33);
    expect_method_error(did, "invalidPublicKey");
    {
        uint8_t good[64];
        size_t n = b58_to(good, sizeof good, "23o6Sau8NxxzXcgSc3PLcNxrzrZpbLeBn1izfv3jbKhuv");
        assert_int_equal(n, 33);
        static const uint8_t prefixes[] = {0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xff};
        for (size_t i = 0; i < sizeof prefixes; i++) {
            good[0] = prefixes[i];
            did_of_key(did, sizeof did, 0xe7, good, 33);
            expect_method_error(did, "invalidPublicKey");
            did_of_key(did, sizeof did, 0x1200, good, 33);
            expect_method_error(did, "invalidPublicKey");
        }
    }
    /* Ed25519: y = 2 has no x; y = p is not canonical; x = 0 with the sign bit set. */
    memset(key, 0, sizeof key);
    key[0] = 2;
    did_of_key(did, sizeof did, 0xed, key, 32);
    expect_method_error(did, "invalidPublicKey");
    hex_to(key, 32, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    did_of_key(did, sizeof did, 0xed, key, 32);
    expect_method_error(did, "invalidPublicKey");
    memset(key, 0, 32);
    key[0] = 1;    /* y = 1: the identity, x = 0 */
    key[31] = 0x80; /* sign bit on x = 0 */
    did_of_key(did, sizeof did, 0xed, key, 32);
    expect_method_error(did, "invalidPublicKey");

    /* ca_did_key_encode rejects what resolution would reject. */
    ca_errbuf eb;
    memset(key, 0x11, sizeof key);
    assert_int_equal(ca_did_key_encode(did, CA_KEYTYPE_ED25519, key, 31, &eb), CA_ERR_INVALID);
    memset(key, 0, sizeof key);
    key[0] = 0x02;
    key[32] = 5;
    assert_int_equal(ca_did_key_encode(did, CA_KEYTYPE_SECP256K1, key, 33, &eb), CA_ERR_INVALID);
    assert_int_equal(ca_did_key_encode(did, (ca_key_type)0x1202, key, 33, &eb), CA_ERR_INVALID);
}

/* ---- properties ---- */

static size_t random_ec_key(uint8_t *pub, const char *curve, size_t coord, uint8_t *xy)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    uint8_t full[97];
    size_t len = 0;
    assert_non_null(pk);
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     full, sizeof full, &len),
                     1);
    assert_int_equal(len, 1 + 2 * coord);
    assert_int_equal(full[0], 0x04);
    EVP_PKEY_free(pk);
    memcpy(xy, full + 1, 2 * coord);
    pub[0] = (uint8_t)(0x02 | (full[2 * coord] & 1));
    memcpy(pub + 1, full + 1, coord);
    return 1 + coord;
}

/* For each key: the DID encodes and resolves; Multikey gives back the bytes; JWK x/y equal the
 * generating library's uncompressed point. */
static void check_roundtrip(ca_key_type type, uint64_t codec, const uint8_t *pub, size_t len,
                            const uint8_t *xy, size_t coord)
{
    char did[CA_DID_TEXT_MAX];
    ca_errbuf eb;
    if (ca_did_key_encode(did, type, pub, len, &eb))
        fail_msg("encode: %s", eb.msg);
    ca_did_result r;
    ca_did_result_init(&r);
    json_t *doc = resolve_ok(&r, did, CA_DID_FORMAT_MULTIKEY, false);
    uint8_t back[64];
    assert_int_equal(multikey_bytes(vm_at(doc, 0), codec, back), len);
    assert_memory_equal(back, pub, len);
    assert_string_equal(jstr_at(vm_at(doc, 0), "publicKeyMultibase"), did + 8);
    doc = resolve_ok(&r, did, CA_DID_FORMAT_JSON_WEB_KEY, false);
    json_t *jwk = json_object_get(vm_at(doc, 0), "publicKeyJwk");
    if (coord) {
        assert_b64u(jstr_at(jwk, "x"), xy, coord);
        assert_b64u(jstr_at(jwk, "y"), xy + coord, coord);
    } else {
        assert_b64u(jstr_at(jwk, "x"), pub, len);
    }
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
}

static void test_did_key_property_ec(void **state)
{
    (void)state;
    for (int i = 0; i < PROPERTY_KEYS; i++) {
        uint8_t pub[64], xy[96];
        size_t len = random_ec_key(pub, "P-256", 32, xy);
        check_roundtrip(CA_KEYTYPE_P256, 0x1200, pub, len, xy, 32);
        len = random_ec_key(pub, "P-384", 48, xy);
        check_roundtrip(CA_KEYTYPE_P384, 0x1201, pub, len, xy, 48);

        uint8_t sk[32], full[65];
        size_t flen = sizeof full, clen = 33;
        assert_int_equal(ca_secp256k1_generate(sk), CA_OK);
        assert_int_equal(ca_secp256k1_public(full, &flen, sk), CA_OK);
        assert_int_equal(ca_secp256k1_public(pub, &clen, sk), CA_OK);
        assert_int_equal(clen, 33);
        check_roundtrip(CA_KEYTYPE_SECP256K1, 0xe7, pub, 33, full + 1, 32);
    }
}

/* Ed25519 and X25519 keys round-trip; and the derived X25519 key of an Ed25519 key equals
 * the X25519 public key whose scalar is the Ed25519 scalar (SHA-512(seed)[0..32], clamped by
 * OpenSSL), because u = (1 + y) / (1 - y) maps s*B on Edwards25519 to s*9 on Curve25519. */
static void test_did_key_property_25519(void **state)
{
    (void)state;
    for (int i = 0; i < PROPERTY_KEYS; i++) {
        uint8_t seed[32], pub[32];
        ca_ed25519_key *k = NULL;
        assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
        assert_int_equal(ca_ed25519_key_from_seed(&k, seed), CA_OK);
        ca_ed25519_key_public(k, pub);
        ca_ed25519_key_free(k);
        check_roundtrip(CA_KEYTYPE_ED25519, 0xed, pub, 32, NULL, 0);

        uint8_t h[64], xpub[32];
        SHA512(seed, 32, h);
        EVP_PKEY *xk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, h, 32);
        size_t xlen = sizeof xpub;
        assert_non_null(xk);
        assert_int_equal(EVP_PKEY_get_raw_public_key(xk, xpub, &xlen), 1);
        EVP_PKEY_free(xk);

        char did[CA_DID_TEXT_MAX];
        assert_int_equal(ca_did_key_encode(did, CA_KEYTYPE_ED25519, pub, 32, NULL), CA_OK);
        ca_did_result r;
        ca_did_result_init(&r);
        json_t *doc = resolve_ok(&r, did, CA_DID_FORMAT_MULTIKEY, true);
        uint8_t derived[64];
        assert_int_equal(multikey_bytes(vm_at(doc, 1), 0xec, derived), 32);
        assert_memory_equal(derived, xpub, 32);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);

        /* The X25519 key itself as a did:key. */
        check_roundtrip(CA_KEYTYPE_X25519, 0xec, xpub, 32, NULL, 0);
        ca_wipe(seed, sizeof seed);
        ca_wipe(h, sizeof h);
    }
}

/* Every single-character change to a valid DID either still resolves (to a different key) or
 * fails with one of the four method errors: never anything else, never a crash. */
static void test_did_key_mutations(void **state)
{
    (void)state;
    static const char *const dids[] = {
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
        "did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54",
        "did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F",
    };
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0lOI#";
    for (size_t d = 0; d < sizeof dids / sizeof dids[0]; d++) {
        char m[128];
        size_t len = strlen(dids[d]);
        for (size_t pos = 8; pos < len; pos++) {
            for (size_t a = 0; a < sizeof alphabet - 1; a++) {
                memcpy(m, dids[d], len + 1);
                m[pos] = alphabet[a];
                ca_did_result r;
                ca_did_result_init(&r);
                ca_did_options o = {.format = (ca_did_key_format)(a & 1),
                                    .enable_encryption_key_derivation = true};
                ca_did_error e = ca_did_key_resolve(&r, m, &o);
                if (e == CA_DID_OK) {
                    assert_non_null(r.document);
                } else {
                    assert_int_equal(e, CA_DID_INVALID_DID);
                    assert_true(strncmp(r.detail, "invalidDid: ", 12) == 0 ||
                                strncmp(r.detail, "invalidPublicKeyLength: ", 24) == 0 ||
                                strncmp(r.detail, "invalidPublicKey: ", 18) == 0 ||
                                strncmp(r.detail, "unsupportedPublicKeyType: ", 26) == 0);
                }
                ca_did_result_clear(&r);
                json_decref(r.document_metadata);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base58_vectors),
        cmocka_unit_test(test_base58_negatives),
        cmocka_unit_test(test_base58_random_roundtrip),
        cmocka_unit_test(test_varint_vectors),
        cmocka_unit_test(test_varint_negatives),
        cmocka_unit_test(test_did_key_ed25519_vectors),
        cmocka_unit_test(test_did_key_x25519_vectors),
        cmocka_unit_test(test_did_key_secp256k1_vectors),
        cmocka_unit_test(test_did_key_nist_vectors),
        cmocka_unit_test(test_did_key_negatives),
        cmocka_unit_test(test_did_key_property_ec),
        cmocka_unit_test(test_did_key_property_25519),
        cmocka_unit_test(test_did_key_mutations),
    };
    return ca_run_tests("did_key", tests, NULL, NULL);
}
