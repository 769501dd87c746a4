/* Tests for credential/data_integrity.c (W3C Data Integrity EdDSA Cryptosuites v1.0 REC,
 * eddsa-jcs-2022, §3.3): the REC's eddsa-jcs-2022 test vectors byte for byte (canonical
 * document and proof configuration, their hashes, hashData, the signature and the proofValue),
 * sign/verify round trips, every way a proof can be malformed or fail, and documents holding
 * reals to show that the JCS form (not jansson's %.17g) is what gets hashed.
 * Vector provenance: tests/vectors/di-eddsa-jcs-2022/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/crypto.h"
#include "credanchor/data_integrity.h"
#include "credanchor/encoding.h"
#include "credanchor/jcs.h"
#include "credanchor/multibase.h"

#define DI_DIR CA_TEST_VECTORS "/di-eddsa-jcs-2022"

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DI_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

static json_t *load_json(const char *name)
{
    char *text = slurp(name, NULL);
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (!v)
        fail_msg("%s: %s", name, jerr.text);
    free(text);
    return v;
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("parse %s: %s", text, jerr.text);
    return v;
}

/* The W3C key pair: the 32-byte seed and public key, multikey headers checked. */
static void w3c_keys(uint8_t seed[32], uint8_t pub[32])
{
    json_t *kp = load_json("keyPair.json");
    const char *pk = json_string_value(json_object_get(kp, "publicKeyMultibase"));
    const char *sk = json_string_value(json_object_get(kp, "secretKeyMultibase"));
    assert_non_null(pk);
    assert_non_null(sk);
    assert_string_equal(pk, "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");

    uint8_t buf[64];
    size_t len = sizeof buf;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_multibase_decode(buf, &len, pk, strlen(pk), &eb), CA_OK);
    assert_int_equal(len, 34);
    assert_int_equal(buf[0], 0xed); /* multicodec ed25519-pub */
    assert_int_equal(buf[1], 0x01);
    memcpy(pub, buf + 2, 32);

    len = sizeof buf;
    assert_int_equal(ca_multibase_decode(buf, &len, sk, strlen(sk), &eb), CA_OK);
    assert_int_equal(len, 34);
    assert_int_equal(buf[0], 0x80); /* multicodec ed25519-priv */
    assert_int_equal(buf[1], 0x26);
    memcpy(seed, buf + 2, 32);
    ca_wipe(buf, sizeof buf);
    json_decref(kp);
}

static ca_ed25519_key *w3c_key(uint8_t pub[32])
{
    uint8_t seed[32];
    w3c_keys(seed, pub);
    ca_ed25519_key *key = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&key, seed), CA_OK);
    ca_wipe(seed, sizeof seed);
    return key;
}

static void assert_hex_equal(const uint8_t *bytes, size_t len, const char *want_hex)
{
    char *hex = malloc(2 * len + 1);
    assert_non_null(hex);
    ca_hex_encode(hex, bytes, len);
    assert_string_equal(hex, want_hex);
    free(hex);
}

/* ---- the W3C vectors --------------------------------------------------------------------- */

static void test_w3c_key_pair(void **state)
{
    (void)state;
    uint8_t pub[32], derived[32];
    ca_ed25519_key *key = w3c_key(pub);
    ca_ed25519_key_public(key, derived);
    assert_memory_equal(pub, derived, 32);
    assert_hex_equal(pub, 32, "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f");
    ca_ed25519_key_free(key);
}

/* §3.3.3 Transformation and §3.3.5 Proof Configuration: canonical forms and their hashes. */
static void test_w3c_canonical_forms(void **state)
{
    (void)state;
    json_t *doc = load_json("unsigned.json");
    json_t *opts = load_json("proofOptions.json");
    char *want_doc = slurp("canonDocJCS.txt", NULL);
    char *want_cfg = slurp("proofCanonJCS.txt", NULL);
    char *want_doc_hash = slurp("docHashJCS.txt", NULL);
    char *want_cfg_hash = slurp("proofHashJCS.txt", NULL);
    ca_errbuf eb = {{0}};

    char *canon = NULL;
    size_t len = 0;
    assert_int_equal(ca_jcs_of_json(&canon, &len, doc, &eb), CA_OK);
    assert_int_equal(len, strlen(want_doc));
    assert_string_equal(canon, want_doc);
    ca_hash h;
    ca_sha256(&h, canon, len);
    assert_hex_equal(h.b, 32, want_doc_hash);
    free(canon);

    assert_int_equal(ca_jcs_of_json(&canon, &len, opts, &eb), CA_OK);
    assert_int_equal(len, strlen(want_cfg));
    assert_string_equal(canon, want_cfg);
    ca_sha256(&h, canon, len);
    assert_hex_equal(h.b, 32, want_cfg_hash);
    free(canon);

    free(want_doc);
    free(want_cfg);
    free(want_doc_hash);
    free(want_cfg_hash);
    json_decref(opts);
    json_decref(doc);
}

/* §3.3.4 Hashing: proof configuration hash first, then the document hash. */
static void test_w3c_hash_data(void **state)
{
    (void)state;
    json_t *doc = load_json("unsigned.json");
    json_t *opts = load_json("proofOptions.json");
    char *want = slurp("combinedHashJCS.txt", NULL);
    uint8_t out[64];
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_di_hash_data(out, doc, opts, &eb), CA_OK);
    assert_hex_equal(out, 64, want);

    /* The proof options without "@context": §3.3.5 adds the document's, but hash_data hashes
     * its input as given, so the result differs. */
    json_object_del(opts, "@context");
    uint8_t other[64];
    assert_int_equal(ca_di_hash_data(other, doc, opts, &eb), CA_OK);
    assert_memory_not_equal(out, other, 32);
    assert_memory_equal(out + 32, other + 32, 32);

    free(want);
    json_decref(opts);
    json_decref(doc);
}

/* §3.3.1 Create Proof: ca_di_sign reproduces the REC's signed credential exactly. */
static void test_w3c_sign(void **state)
{
    (void)state;
    uint8_t pub[32];
    ca_ed25519_key *key = w3c_key(pub);
    json_t *doc = load_json("unsigned.json");
    json_t *want = load_json("signedJCS.json");
    json_t *opts = load_json("proofOptions.json");
    char *want_pv = slurp("sigBTC58JCS.txt", NULL);
    char *want_sig_hex = slurp("sigHexJCS.txt", NULL);
    char *want_hash = slurp("combinedHashJCS.txt", NULL);
    ca_errbuf eb = {{0}};

    const char *vm = json_string_value(json_object_get(opts, "verificationMethod"));
    const char *created = json_string_value(json_object_get(opts, "created"));
    ca_err rc = ca_di_sign(doc, key, vm, created, &eb);
    if (rc != CA_OK)
        fail_msg("sign: %s", ca_errmsg(&eb, rc));

    json_t *proof = json_object_get(doc, "proof");
    const char *pv = json_string_value(json_object_get(proof, "proofValue"));
    assert_non_null(pv);
    assert_string_equal(pv, want_pv);
    assert_string_equal(pv, "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX");
    assert_true(json_equal(doc, want));

    /* The member order of the REC's proof. */
    static const char *const order[] = {"type", "cryptosuite", "created", "verificationMethod",
                                        "proofPurpose", "@context", "proofValue"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(proof, k, v) {
        (void)v;
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(k, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);

    /* The signature bytes, and that they sign the published hashData. */
    uint8_t sig[64];
    size_t sig_len = sizeof sig;
    assert_int_equal(ca_multibase_decode(sig, &sig_len, pv, strlen(pv), &eb), CA_OK);
    assert_int_equal(sig_len, 64);
    assert_hex_equal(sig, 64, want_sig_hex);
    uint8_t hash_data[64];
    assert_int_equal(ca_hex_decode(hash_data, 64, want_hash, strlen(want_hash)), CA_OK);
    assert_int_equal(ca_ed25519_verify(pub, sig, hash_data, 64), CA_OK);

    /* A second proof is refused and leaves the document alone. */
    json_t *before = json_deep_copy(doc);
    assert_int_equal(ca_di_sign(doc, key, vm, created, &eb), CA_ERR_INVALID);
    assert_true(json_equal(doc, before));
    json_decref(before);

    free(want_pv);
    free(want_sig_hex);
    free(want_hash);
    json_decref(opts);
    json_decref(want);
    json_decref(doc);
    ca_ed25519_key_free(key);
}

/* §3.3.2 Verify Proof on the REC's signed credential. */
static void test_w3c_verify(void **state)
{
    (void)state;
    uint8_t seed[32], pub[32];
    w3c_keys(seed, pub);
    json_t *doc = load_json("signedJCS.json");
    ca_errbuf eb = {{0}};
    ca_di_proof_info info;

    ca_err rc = ca_di_verify(doc, pub, &info, &eb);
    if (rc != CA_OK)
        fail_msg("verify: %s", ca_errmsg(&eb, rc));
    assert_string_equal(info.verification_method,
                        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
                        "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
    assert_string_equal(info.proof_purpose, "assertionMethod");

    /* Structure only (pub NULL), and with no info. */
    memset(&info, 0x55, sizeof info);
    assert_int_equal(ca_di_verify(doc, NULL, &info, &eb), CA_OK);
    assert_string_equal(info.proof_purpose, "assertionMethod");
    assert_int_equal(ca_di_verify(doc, pub, NULL, NULL), CA_OK);

    /* A different key. */
    uint8_t other[32];
    memcpy(other, pub, 32);
    other[5] ^= 0x01;
    assert_int_equal(ca_di_verify(doc, other, NULL, &eb), CA_ERR_VERIFY);

    ca_wipe(seed, sizeof seed);
    json_decref(doc);
}

/* ---- round trips ------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t seed[32], pub[32];
    assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
    ca_ed25519_key *key = NULL;
    assert_int_equal(ca_ed25519_key_from_seed(&key, seed), CA_OK);
    ca_ed25519_key_public(key, pub);
    ca_errbuf eb = {{0}};

    /* No "@context" and no "created": the proof has neither. */
    json_t *doc = parse("{\"hello\":\"world\",\"n\":[1,2,{\"\\u00e9\":null}]}");
    assert_int_equal(ca_di_sign(doc, key, "did:example:issuer#key-1", NULL, &eb), CA_OK);
    json_t *proof = json_object_get(doc, "proof");
    assert_null(json_object_get(proof, "@context"));
    assert_null(json_object_get(proof, "created"));
    assert_int_equal(json_object_size(proof), 5);
    assert_int_equal(ca_di_verify(doc, pub, NULL, &eb), CA_OK);

    /* Through text and back (member order changed by JSON_SORT_KEYS). */
    char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(3));
    json_t *again = parse(text);
    assert_int_equal(ca_di_verify(again, pub, NULL, &eb), CA_OK);
    free(text);
    json_decref(again);
    json_decref(doc);

    /* A string "@context" is copied into the proof. */
    doc = parse("{\"@context\":\"https://www.w3.org/ns/credentials/v2\",\"x\":true}");
    assert_int_equal(ca_di_sign(doc, key, "did:example:issuer#key-1", "2024-02-29T12:00:00.5+01:00",
                                &eb), CA_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "proof"),
                                                          "@context")),
                        "https://www.w3.org/ns/credentials/v2");
    assert_int_equal(ca_di_verify(doc, pub, NULL, &eb), CA_OK);
    json_decref(doc);

    ca_wipe(seed, sizeof seed);
    ca_ed25519_key_free(key);
}

/* ---- negatives --------------------------------------------------------------------------- */

struct fixture {
    uint8_t pub[32];
    ca_ed25519_key *key;
    json_t *signed_doc; /* the REC's signed credential */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->key = w3c_key(f->pub);
    f->signed_doc = load_json("signedJCS.json");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->signed_doc);
    ca_ed25519_key_free(f->key);
    free(f);
    return 0;
}

static json_t *copy_signed(const struct fixture *f)
{
    json_t *d = json_deep_copy(f->signed_doc);
    assert_non_null(d);
    return d;
}

static json_t *proof_of(json_t *doc)
{
    json_t *p = json_object_get(doc, "proof");
    assert_non_null(p);
    return p;
}

/* Verifies doc and expects code; a failure must come with a one-line message naming
 * msg_part (when not NULL). */
static void expect_verify(const struct fixture *f, const json_t *doc, ca_err code,
                          const char *msg_part)
{
    ca_errbuf eb = {{0}};
    ca_err rc = ca_di_verify(doc, f->pub, NULL, &eb);
    if (rc != code)
        fail_msg("verify: got %d (%s), want %d", rc, ca_errmsg(&eb, rc), code);
    if (code == CA_OK)
        return;
    assert_true(eb.msg[0] != '\0');
    assert_null(strchr(eb.msg, '\n'));
    if (msg_part && !strstr(eb.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, msg_part);
}

static void set_proof_value_bytes(json_t *doc, const uint8_t *bytes, size_t len)
{
    char text[CA_BASE58_MAX_TEXT + 2];
    size_t tl = sizeof text;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_multibase_encode(text, &tl, bytes, len, &eb), CA_OK);
    assert_int_equal(json_object_set_new(proof_of(doc), "proofValue", json_string(text)), 0);
}

static void get_sig(const json_t *doc, uint8_t sig[64])
{
    const char *pv = json_string_value(json_object_get(json_object_get(doc, "proof"),
                                                       "proofValue"));
    size_t len = 64;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_multibase_decode(sig, &len, pv, strlen(pv), &eb), CA_OK);
    assert_int_equal(len, 64);
}

static void test_bad_signature(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[64];
    get_sig(f->signed_doc, sig);

    /* Every bit position of the first, a middle and the last byte. */
    static const size_t bytes[] = {0, 31, 32, 63};
    for (size_t b = 0; b < sizeof bytes / sizeof bytes[0]; b++) {
        for (int bit = 0; bit < 8; bit++) {
            json_t *d = copy_signed(f);
            uint8_t bad[64];
            memcpy(bad, sig, 64);
            bad[bytes[b]] ^= (uint8_t)(1u << bit);
            set_proof_value_bytes(d, bad, 64);
            expect_verify(f, d, CA_ERR_VERIFY, "does not verify");
            /* Structurally fine: pub NULL accepts it. */
            assert_int_equal(ca_di_verify(d, NULL, NULL, NULL), CA_OK);
            json_decref(d);
        }
    }
}

static void test_changed_document(void **state)
{
    struct fixture *f = *state;
    json_t *d = copy_signed(f);
    json_object_set_new(json_object_get(d, "credentialSubject"), "alumniOf",
                        json_string("The School of Counterexamples"));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f); /* an added member */
    json_object_set_new(d, "extra", json_true());
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f); /* a removed member */
    json_object_del(d, "validFrom");
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f); /* the same value as a number of a different type */
    json_object_set_new(d, "name", json_integer(1));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    /* Member order is not signed: reordering the document still verifies. */
    json_t *src = copy_signed(f);
    d = json_object();
    const char *k;
    json_t *v;
    const char *names[16];
    size_t n = 0;
    json_object_foreach(src, k, v) {
        (void)v;
        names[n++] = k;
    }
    while (n > 0) {
        n--;
        json_object_set(d, names[n], json_object_get(src, names[n]));
    }
    expect_verify(f, d, CA_OK, NULL);
    json_decref(d);
    json_decref(src);
}

static void test_changed_proof(void **state)
{
    struct fixture *f = *state;
    json_t *d = copy_signed(f);
    json_object_set_new(proof_of(d), "created", json_string("2023-02-24T23:36:39Z"));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f);
    json_object_set_new(proof_of(d), "proofPurpose", json_string("authentication"));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f);
    json_object_set_new(proof_of(d), "verificationMethod", json_string("did:example:other#1"));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f); /* an added proof option is part of the proof configuration */
    json_object_set_new(proof_of(d), "nonce", json_string("abc"));
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);

    d = copy_signed(f); /* the proof @context removed: §3.3.5 still hashes the document's */
    json_object_del(proof_of(d), "@context");
    expect_verify(f, d, CA_OK, NULL);
    json_decref(d);
}

static void test_wrong_suite(void **state)
{
    struct fixture *f = *state;
    json_t *d = copy_signed(f);
    json_object_set_new(proof_of(d), "cryptosuite", json_string("eddsa-rdfc-2022"));
    expect_verify(f, d, CA_ERR_INVALID, "cryptosuite");
    assert_int_equal(ca_di_verify(d, NULL, NULL, NULL), CA_ERR_INVALID);
    json_decref(d);

    d = copy_signed(f);
    json_object_del(proof_of(d), "cryptosuite");
    expect_verify(f, d, CA_ERR_INVALID, "cryptosuite");
    json_decref(d);

    d = copy_signed(f);
    json_object_set_new(proof_of(d), "type", json_string("Ed25519Signature2020"));
    expect_verify(f, d, CA_ERR_INVALID, "type");
    json_decref(d);

    d = copy_signed(f);
    json_object_set_new(proof_of(d), "type", json_array());
    expect_verify(f, d, CA_ERR_INVALID, "type");
    json_decref(d);
}

static void test_context_mismatch(void **state)
{
    struct fixture *f = *state;
    /* A proof @context different from the document's. */
    json_t *d = copy_signed(f);
    json_array_append_new(json_object_get(proof_of(d), "@context"),
                          json_string("https://example.org/extra"));
    expect_verify(f, d, CA_ERR_VERIFY, "@context");
    assert_int_equal(ca_di_verify(d, NULL, NULL, NULL), CA_ERR_VERIFY);
    json_decref(d);

    /* A context appended to the document after signing: the REC's prefix rule would accept
     * it, ca_di_verify asks for equality. */
    d = copy_signed(f);
    json_array_append_new(json_object_get(d, "@context"),
                          json_string("https://example.org/extra"));
    expect_verify(f, d, CA_ERR_VERIFY, "@context");
    json_decref(d);

    /* The same members in another order. */
    d = copy_signed(f);
    json_t *ctx = json_object_get(proof_of(d), "@context");
    json_t *first = json_incref(json_array_get(ctx, 0));
    json_array_remove(ctx, 0);
    json_array_append_new(ctx, first);
    expect_verify(f, d, CA_ERR_VERIFY, "@context");
    json_decref(d);

    /* A proof @context and a document with none. */
    d = copy_signed(f);
    json_object_del(d, "@context");
    expect_verify(f, d, CA_ERR_VERIFY, "@context");
    json_decref(d);
}

static void test_bad_proof_value(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[64];
    get_sig(f->signed_doc, sig);
    const char *pv = json_string_value(json_object_get(proof_of(f->signed_doc), "proofValue"));

    /* Not 'z' (same base58 text with another multibase prefix, and base64url 'u'). */
    json_t *d = copy_signed(f);
    char text[128];
    snprintf(text, sizeof text, "Z%s", pv + 1);
    json_object_set_new(proof_of(d), "proofValue", json_string(text));
    expect_verify(f, d, CA_ERR_INVALID, "base58-btc");
    json_object_set_new(proof_of(d), "proofValue", json_string(pv + 1));
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_object_set_new(proof_of(d), "proofValue", json_string("uAAAA"));
    expect_verify(f, d, CA_ERR_INVALID, "base58-btc");
    json_object_set_new(proof_of(d), "proofValue", json_string(""));
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_object_set_new(proof_of(d), "proofValue", json_string("z"));
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    /* A character outside the alphabet. */
    snprintf(text, sizeof text, "%s", pv);
    text[10] = '0';
    json_object_set_new(proof_of(d), "proofValue", json_string(text));
    expect_verify(f, d, CA_ERR_INVALID, "decode");
    /* Not a string; absent. */
    json_object_set_new(proof_of(d), "proofValue", json_integer(7));
    expect_verify(f, d, CA_ERR_INVALID, "proofValue");
    json_object_del(proof_of(d), "proofValue");
    expect_verify(f, d, CA_ERR_INVALID, "proofValue");
    assert_int_equal(ca_di_verify(d, NULL, NULL, NULL), CA_ERR_INVALID);
    json_decref(d);

    /* Wrong lengths: 63, 65, 32 and 0... bytes. */
    uint8_t longer[65];
    memcpy(longer, sig, 64);
    longer[64] = 0x42;
    static const size_t lens[] = {63, 65, 32, 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        d = copy_signed(f);
        set_proof_value_bytes(d, longer, lens[i]);
        expect_verify(f, d, CA_ERR_INVALID, "64");
        json_decref(d);
    }
    /* A signature with a leading zero byte kept by base58 as '1': 64 bytes exactly, just
     * not the right ones. */
    uint8_t lz[64];
    memcpy(lz, sig, 64);
    lz[0] = 0;
    d = copy_signed(f);
    set_proof_value_bytes(d, lz, 64);
    expect_verify(f, d, CA_ERR_VERIFY, NULL);
    json_decref(d);
    /* Longer than the decoder accepts. */
    d = copy_signed(f);
    char huge[700];
    huge[0] = 'z';
    memset(huge + 1, '2', sizeof huge - 2);
    huge[sizeof huge - 1] = '\0';
    json_object_set_new(proof_of(d), "proofValue", json_string(huge));
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_decref(d);
}

static void test_bad_structure(void **state)
{
    struct fixture *f = *state;
    /* No proof. */
    json_t *d = copy_signed(f);
    json_object_del(d, "proof");
    expect_verify(f, d, CA_ERR_INVALID, "no \"proof\"");
    json_decref(d);

    /* A proof array (a proof set), even of one valid proof. */
    d = copy_signed(f);
    json_t *arr = json_array();
    json_array_append(arr, proof_of(d));
    json_object_set_new(d, "proof", arr);
    expect_verify(f, d, CA_ERR_INVALID, "not a single object");
    json_decref(d);

    /* A proof that is a string; a null proof. */
    d = copy_signed(f);
    json_object_set_new(d, "proof", json_string("z123"));
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_object_set_new(d, "proof", json_null());
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_decref(d);

    /* The document is not an object. */
    d = parse("[1,2]");
    expect_verify(f, d, CA_ERR_INVALID, NULL);
    json_decref(d);

    /* verificationMethod / proofPurpose missing, empty, not strings, too long. */
    static const char *const req[] = {"verificationMethod", "proofPurpose"};
    for (size_t i = 0; i < 2; i++) {
        d = copy_signed(f);
        json_object_del(proof_of(d), req[i]);
        expect_verify(f, d, CA_ERR_INVALID, req[i]);
        json_object_set_new(proof_of(d), req[i], json_string(""));
        expect_verify(f, d, CA_ERR_INVALID, req[i]);
        json_object_set_new(proof_of(d), req[i], json_integer(3));
        expect_verify(f, d, CA_ERR_INVALID, req[i]);
        char longs[3000];
        memset(longs, 'a', sizeof longs - 1);
        longs[sizeof longs - 1] = '\0';
        json_object_set_new(proof_of(d), req[i], json_string(longs));
        expect_verify(f, d, CA_ERR_INVALID, req[i]);
        json_object_set_new(proof_of(d), req[i], json_stringn("a\0b", 3));
        expect_verify(f, d, CA_ERR_INVALID, req[i]);
        json_decref(d);
    }

    /* A malformed "created" (§3.3.5 step 3). */
    static const char *const bad_created[] = {
        "2023-02-24", "2023-02-24T23:36:38", "2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z",
        "2023-02-24 23:36:38Z", "2023-02-24T23:60:00Z", "2023-02-24T23:36:38.Z",
        "2023-02-24T23:36:38+1:00", "2023-02-24T24:00:01Z", "2023-02-29T00:00:00Z",
        "2023-02-24T23:36:38Zjunk",
    };
    for (size_t i = 0; i < sizeof bad_created / sizeof bad_created[0]; i++) {
        d = copy_signed(f);
        json_object_set_new(proof_of(d), "created", json_string(bad_created[i]));
        expect_verify(f, d, CA_ERR_INVALID, "created");
        json_decref(d);
    }
    d = copy_signed(f);
    json_object_set_new(proof_of(d), "created", json_integer(2023));
    expect_verify(f, d, CA_ERR_INVALID, "created");
    json_decref(d);
}

static void test_sign_refusals(void **state)
{
    struct fixture *f = *state;
    ca_errbuf eb = {{0}};
    json_t *d = parse("{\"a\":1}");
    assert_int_equal(ca_di_sign(d, f->key, "did:example:1#k", "yesterday", &eb),
                     CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "created"));
    assert_int_equal(ca_di_sign(d, f->key, "", NULL, &eb), CA_ERR_INVALID);
    assert_int_equal(json_object_size(d), 1); /* untouched */
    json_decref(d);

    d = parse("[{\"a\":1}]");
    assert_int_equal(ca_di_sign(d, f->key, "did:example:1#k", NULL, &eb), CA_ERR_INVALID);
    json_decref(d);

    d = parse("{\"a\":1,\"proof\":[]}");
    assert_int_equal(ca_di_sign(d, f->key, "did:example:1#k", NULL, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "proof"));
    json_decref(d);

    /* A document too deep for JCS (RFC 8785 canonicalizer's depth cap). */
    d = json_object();
    json_t *cur = d;
    for (int i = 0; i < CA_JCS_MAX_DEPTH + 2; i++) {
        json_t *inner = json_object();
        json_object_set_new(cur, "x", inner);
        cur = inner;
    }
    assert_int_equal(ca_di_sign(d, f->key, "did:example:1#k", NULL, &eb), CA_ERR_INVALID);
    assert_null(json_object_get(d, "proof"));
    json_decref(d);

    /* Valid "created" forms. */
    static const char *const good[] = {"2023-02-24T23:36:38Z", "2000-02-29T00:00:00Z",
                                       "2023-02-24T23:36:38.123456-05:30",
                                       "2023-02-24T24:00:00Z", "2023-02-24T23:36:38+14:00"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        d = parse("{\"a\":1}");
        ca_err rc = ca_di_sign(d, f->key, "did:example:1#k", good[i], &eb);
        if (rc != CA_OK)
            fail_msg("created %s: %s", good[i], ca_errmsg(&eb, rc));
        assert_int_equal(ca_di_verify(d, f->pub, NULL, &eb), CA_OK);
        json_decref(d);
    }
}

/* ---- JCS, not %.17g ---------------------------------------------------------------------- */

static void test_reals_use_jcs(void **state)
{
    struct fixture *f = *state;
    ca_errbuf eb = {{0}};
    json_t *d = json_object();
    json_object_set_new(d, "small", json_real(1.5e-7));
    json_object_set_new(d, "big", json_real(1e21));
    json_object_set_new(d, "third", json_real(1.0 / 3.0));
    json_object_set_new(d, "whole", json_real(2.0));
    json_object_set_new(d, "neg0", json_real(-0.0));
    json_object_set_new(d, "int", json_integer(9007199254740991LL));

    /* jansson's own text is not canonical... */
    char *dumped = json_dumps(d, JSON_COMPACT | JSON_REAL_PRECISION(17));
    assert_non_null(dumped);
    assert_null(strstr(dumped, "1.5e-7"));
    assert_null(strstr(dumped, "\"big\":1e+21,"));

    /* ...the JCS form is ES6 number text with sorted members. */
    static const char want[] = "{\"big\":1e+21,\"int\":9007199254740991,\"neg0\":0,"
                               "\"small\":1.5e-7,\"third\":0.3333333333333333,\"whole\":2}";
    char *canon = NULL;
    size_t len = 0;
    assert_int_equal(ca_jcs_of_json(&canon, &len, d, &eb), CA_OK);
    assert_string_equal(canon, want);
    assert_int_equal(len, strlen(want));

    /* hashData's document half is SHA-256 of exactly that text, not of the dump. */
    json_t *cfg = parse("{\"type\":\"DataIntegrityProof\"}");
    uint8_t hd[64];
    assert_int_equal(ca_di_hash_data(hd, d, cfg, &eb), CA_OK);
    ca_hash h, hdump;
    ca_sha256(&h, want, strlen(want));
    assert_memory_equal(hd + 32, h.b, 32);
    ca_sha256(&hdump, dumped, strlen(dumped));
    assert_memory_not_equal(hd + 32, hdump.b, 32);
    ca_sha256(&h, "{\"type\":\"DataIntegrityProof\"}", 29);
    assert_memory_equal(hd, h.b, 32);

    /* Signed, then parsed back from text that spells the numbers differently: still valid. */
    assert_int_equal(ca_di_sign(d, f->key, "did:example:1#k", NULL, &eb), CA_OK);
    char *signed_text = json_dumps(d, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_t *back = parse(signed_text);
    assert_int_equal(ca_di_verify(back, f->pub, NULL, &eb), CA_OK);
    json_object_set_new(back, "small", json_real(0.00000015));
    json_object_set_new(back, "big", json_real(1000000000000000000000.0));
    assert_int_equal(ca_di_verify(back, f->pub, NULL, &eb), CA_OK);
    /* One ulp away is a different document. */
    json_object_set_new(back, "small", json_real(1.5000000000000002e-7));
    assert_int_equal(ca_di_verify(back, f->pub, NULL, &eb), CA_ERR_VERIFY);

    /* Scalars canonicalize too (JSON_ENCODE_ANY). */
    free(canon);
    json_t *s = json_real(1e-7);
    assert_int_equal(ca_jcs_of_json(&canon, &len, s, &eb), CA_OK);
    assert_string_equal(canon, "1e-7");
    json_decref(s);
    free(canon);
    s = json_string("\xe2\x82\xac\x7f\x1f");
    assert_int_equal(ca_jcs_of_json(&canon, &len, s, &eb), CA_OK);
    assert_string_equal(canon, "\"\xe2\x82\xac\x7f\\u001f\"");
    json_decref(s);

    free(canon);
    free(signed_text);
    free(dumped);
    json_decref(back);
    json_decref(cfg);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w3c_key_pair),
        cmocka_unit_test(test_w3c_canonical_forms),
        cmocka_unit_test(test_w3c_hash_data),
        cmocka_unit_test(test_w3c_sign),
        cmocka_unit_test(test_w3c_verify),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_proof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_suite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_proof_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reals_use_jcs, setup, teardown),
    };
    return ca_run_tests("data_integrity", tests, NULL, NULL);
}
