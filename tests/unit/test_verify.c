/* Tests for credential/verify.c (verify.h, SPEC §5 verification): everything is built in
 * memory — issuer keys for the four JOSE algs, a did:web DID document with Multikey and
 * JsonWebKey verification methods and an anchor account, OB 3.0-like credentials as VC-JWT
 * and as eddsa-jcs-2022 Data Integrity, Bitstring Status List credentials, a small RFC 9162
 * log whose SPEC §3 proofs carry checkpoints signed by a rotated log key — and the verifier
 * runs over fake ca_verify_env callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/checkpoint.h"
#include "credanchor/crypto.h"
#include "credanchor/data_integrity.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "credanchor/jcs.h"
#include "credanchor/jws.h"
#include "credanchor/merkle.h"
#include "credanchor/multibase.h"
#include "credanchor/signer.h"
#include "credanchor/status_list.h"
#include "credanchor/verify.h"

#define ISSUER "did:web:issuer.example"
#define ORIGIN "log.example/credanchor"
#define REV_URL "https://issuer.example/v1/status/rev1"
#define SUS_URL "https://issuer.example/v1/status/sus1"
#define BAD_URL "https://issuer.example/v1/status/bad"
#define DOWN_URL "https://issuer.example/v1/status/down"
#define NOW 1735689600 /* 2025-01-01T00:00:00Z */
#define CHAIN 31337
#define MAX_LEAVES 256
#define MAX_URLS 8

enum { K_ED, K_K1, K_P256, K_RSA, K_N };
static const ca_jws_alg ALGS[K_N] = {CA_ALG_EDDSA, CA_ALG_ES256K, CA_ALG_ES256, CA_ALG_RS256};
static const char *const KIDS[K_N] = {ISSUER "#key-ed", ISSUER "#key-k1", ISSUER "#key-p256",
                                      ISSUER "#key-rsa"};

typedef enum { PROOF_OK, PROOF_OTHER_DIGEST, PROOF_UNKNOWN_KEY } proof_mode;

static struct {
    ca_signer *signer[K_N];
    ca_ed25519_key *ed;          /* the EdDSA signer's key, for Data Integrity */
    ca_ed25519_key *other_ed;    /* a key the DID document does not list */
    ca_ed25519_key *log_key, *old_log_key, *rogue_log_key;
    uint8_t anchor_addr[CA_ETH_ADDRESS_SIZE];
    json_t *doc;                 /* the issuer's DID document as served */
    json_t *good_doc, *wrong_key_doc;
    struct {
        char url[256];
        char *body;
    } urls[MAX_URLS];
    size_t nurls;
    ca_hash leaves[MAX_LEAVES];
    size_t nleaves;
    /* per-test knobs */
    proof_mode proof;
    bool anchored;
    const char *anchor_status;
    ca_err anchor_rc;
    uint64_t confirmations;
    int resolves, fetches;
} g;

/* ---- helpers ------------------------------------------------------------------------------- */

static void multikey(char *out, size_t cap, uint64_t codec, const uint8_t *key, size_t len)
{
    uint8_t buf[64];
    size_t n = ca_varint_encode(buf, codec);
    memcpy(buf + n, key, len);
    size_t olen = cap;
    assert_int_equal(ca_multibase_encode(out, &olen, buf, n + len, NULL), CA_OK);
}

static json_t *vm_multikey(const char *frag, uint64_t codec, const uint8_t *key, size_t len)
{
    char mb[128], id[128];
    multikey(mb, sizeof mb, codec, key, len);
    snprintf(id, sizeof id, "%s%s", ISSUER, frag);
    return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", "Multikey", "controller",
                     ISSUER, "publicKeyMultibase", mb);
}

static json_t *vm_jwk(const char *id, const ca_signer *s)
{
    json_t *jwk;
    assert_int_equal(ca_signer_public_jwk(&jwk, s, NULL), CA_OK);
    return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "type", "JsonWebKey", "controller",
                     ISSUER, "publicKeyJwk", jwk);
}

/* The issuer's did:web document: Ed25519 and secp256k1 as Multikey (one referenced relative,
 * one absolute), P-256 as JsonWebKey, RSA as a JsonWebKey embedded in assertionMethod, and the
 * anchor account. ed_pub overrides the Ed25519 key (the "wrong key" document). */
static json_t *make_doc(const uint8_t *ed_pub)
{
    uint8_t pub[33];
    size_t plen;
    json_t *vms = json_array(), *am = json_array();
    assert_int_equal(ca_signer_public_raw(g.signer[K_ED], pub, &plen, NULL), CA_OK);
    json_array_append_new(vms, vm_multikey("#key-ed", 0xed, ed_pub ? ed_pub : pub, 32));
    assert_int_equal(ca_signer_public_raw(g.signer[K_K1], pub, &plen, NULL), CA_OK);
    json_array_append_new(vms, vm_multikey("#key-k1", 0xe7, pub, plen));
    json_array_append_new(vms, vm_jwk("#key-p256", g.signer[K_P256]));
    char acct[80], hex[43];
    ca_eth_address_hex(hex, g.anchor_addr);
    snprintf(acct, sizeof acct, "eip155:%d:%s", CHAIN, hex);
    json_array_append_new(vms, json_pack("{s:s, s:s, s:s, s:s}", "id", ISSUER "#anchor",
                                         "type", "EcdsaSecp256k1RecoveryMethod2020",
                                         "controller", ISSUER, "blockchainAccountId", acct));
    json_array_append_new(am, json_string("#key-ed"));
    json_array_append_new(am, json_string(ISSUER "#key-k1"));
    json_array_append_new(am, json_string("#key-p256"));
    json_array_append_new(am, vm_jwk(ISSUER "#key-rsa", g.signer[K_RSA]));
    return json_pack("{s:[s], s:s, s:o, s:o}", "@context", "https://www.w3.org/ns/did/v1",
                     "id", ISSUER, "verificationMethod", vms, "assertionMethod", am);
}

static void serve(const char *url, char *body)
{
    for (size_t i = 0; i < g.nurls; i++)
        if (strcmp(g.urls[i].url, url) == 0) {
            free(g.urls[i].body);
            g.urls[i].body = body;
            return;
        }
    assert_true(g.nurls < MAX_URLS);
    snprintf(g.urls[g.nurls].url, sizeof g.urls[0].url, "%s", url);
    g.urls[g.nurls++].body = body;
}

/* A Bitstring Status List credential (Bitstring Status List v1.0 §2.2) with the given set
 * bits, signed by the issuer's Ed25519 key; tamper changes it after signing. */
static char *make_list(const char *url, const char *purpose, const uint64_t *set, size_t nset,
                       bool tamper)
{
    uint8_t *bits = calloc(1, CA_STATUS_LIST_BYTES);
    assert_non_null(bits);
    for (size_t i = 0; i < nset; i++)
        ca_status_bit_set(bits, set[i], true);
    char *enc;
    size_t enc_len;
    assert_int_equal(ca_status_list_encode(&enc, &enc_len, bits, CA_STATUS_LIST_BYTES, NULL),
                     CA_OK);
    free(bits);
    char subj[300];
    snprintf(subj, sizeof subj, "%s#list", url);
    json_t *list = json_pack("{s:[s], s:s, s:[s,s], s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
                             "@context", "https://www.w3.org/ns/credentials/v2", "id", url,
                             "type", "VerifiableCredential", "BitstringStatusListCredential",
                             "issuer", ISSUER, "validFrom", "2024-01-01T00:00:00Z",
                             "credentialSubject", "id", subj, "type", "BitstringStatusList",
                             "statusPurpose", purpose, "encodedList", enc);
    free(enc);
    assert_non_null(list);
    assert_int_equal(ca_di_sign(list, g.ed, ISSUER "#key-ed", "2024-01-01T00:00:00Z", NULL),
                     CA_OK);
    if (tamper)
        json_object_set_new(list, "validFrom", json_string("2024-01-02T00:00:00Z"));
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    return text;
}

typedef struct status_spec {
    const char *purpose, *url;
    const char *index;
} status_spec;

/* An OB 3.0-like credential (VC DM 2.0 + OpenBadgeCredential), unsigned. */
static json_t *make_cred(const char *id, const status_spec *st, size_t nst)
{
    json_t *c = json_pack(
        "{s:[s,s], s:s, s:[s,s], s:{s:s, s:[s], s:s}, s:s, s:s, "
        "s:{s:s, s:[s], s:{s:s, s:[s], s:s, s:s, s:{s:s}}}}",
        "@context", "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "id", id, "type", "VerifiableCredential", "OpenBadgeCredential",
        "issuer", "id", ISSUER, "type", "Profile", "name", "Example Issuer",
        "validFrom", "2024-01-01T00:00:00Z", "name", "Example Badge",
        "credentialSubject", "id", "did:example:alice", "type", "AchievementSubject",
        "achievement", "id", "https://issuer.example/achievements/1", "type", "Achievement",
        "name", "Badge", "description", "A badge", "criteria", "narrative", "Do it");
    assert_non_null(c);
    if (nst) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nst; i++) {
            char eid[300];
            snprintf(eid, sizeof eid, "%s#%s", st[i].url, st[i].index);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", eid,
                                                 "type", "BitstringStatusListEntry",
                                                 "statusPurpose", st[i].purpose,
                                                 "statusListIndex", st[i].index,
                                                 "statusListCredential", st[i].url));
        }
        if (nst == 1) {
            json_object_set(c, "credentialStatus", json_array_get(arr, 0));
            json_decref(arr);
        } else {
            json_object_set_new(c, "credentialStatus", arr);
        }
    }
    return c;
}

static const status_spec REV_OK = {"revocation", REV_URL, "3"};

static void log_add(const ca_hash *d)
{
    for (size_t i = 0; i < g.nleaves; i++)
        if (!memcmp(g.leaves[i].b, d->b, 32))
            return;
    assert_true(g.nleaves < MAX_LEAVES);
    g.leaves[g.nleaves++] = *d;
}

/* The VC-JWT of cred: the payload is the credential plus iss, jti, nbf, sub (SPEC §5). */
static char *sign_jwt_kid(json_t *cred, int k, const char *kid, bool log)
{
    json_t *p = json_deep_copy(cred);
    json_object_set_new(p, "iss", json_string(ISSUER));
    json_object_set(p, "jti", json_object_get(cred, "id"));
    json_object_set_new(p, "nbf", json_integer(1704067200)); /* 2024-01-01T00:00:00Z */
    json_object_set_new(p, "sub", json_string("did:example:alice"));
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    char *jws;
    size_t len;
    ca_errbuf eb = {{0}};
    ca_err err = ca_jws_sign(&jws, &len, g.signer[k], kid, "JWT", payload, strlen(payload), &eb);
    if (err)
        fail_msg("ca_jws_sign: %s", eb.msg);
    free(payload);
    if (log) {
        ca_hash d;
        ca_sha256(&d, jws, len);
        log_add(&d);
    }
    return jws;
}

static char *sign_jwt(json_t *cred, int k)
{
    return sign_jwt_kid(cred, k, KIDS[k], true);
}

static char *sign_di(json_t *cred, const char *vm, bool log)
{
    json_t *c = json_deep_copy(cred);
    ca_errbuf eb = {{0}};
    if (ca_di_sign(c, g.ed, vm, "2024-01-01T00:00:00Z", &eb))
        fail_msg("ca_di_sign: %s", eb.msg);
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    if (log) {
        ca_hash d;
        assert_int_equal(ca_jcs_digest(&d, text, strlen(text), NULL), CA_OK);
        log_add(&d);
    }
    return text;
}

/* ---- the in-memory log ------------------------------------------------------------------- */

static ca_err mem_read(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    (void)ctx;
    if (level >= 32 || ((index + 1) << level) > g.nleaves)
        return CA_ERR_RANGE;
    if (level == 0) {
        ca_merkle_leaf_hash(out, g.leaves[index].b);
        return CA_OK;
    }
    ca_hash l, r;
    ca_err err;
    if ((err = mem_read(ctx, level - 1, 2 * index, &l)) ||
        (err = mem_read(ctx, level - 1, 2 * index + 1, &r)))
        return err;
    ca_merkle_node_hash(out, &l, &r);
    return CA_OK;
}

static void verifier_of(ca_note_verifier *v, const ca_ed25519_key *k)
{
    uint8_t pub[32];
    char text[CA_VERIFIER_KEY_MAX];
    ca_ed25519_key_public(k, pub);
    ca_verifier_key_format(text, ORIGIN, pub);
    assert_int_equal(ca_verifier_key_parse(v, text, strlen(text), NULL), CA_OK);
}

static void hex0x(char *out, const uint8_t *b, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    ca_hex_encode(out + 2, b, n);
}

/* A SPEC §3 proof of leaf idx in the current tree. */
static char *make_proof(size_t idx)
{
    uint64_t n = g.nleaves;
    ca_hash root, path[CA_MERKLE_MAX_PROOF];
    size_t plen;
    assert_int_equal(ca_merkle_root(&root, mem_read, NULL, n), CA_OK);
    assert_int_equal(ca_merkle_inclusion_prove(path, &plen, mem_read, NULL, idx, n), CA_OK);
    ca_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", ORIGIN);
    cp.size = n;
    cp.root = root;
    char note[CA_NOTE_MAX];
    size_t note_len;
    assert_int_equal(ca_checkpoint_sign(note, &note_len, &cp,
                                        g.proof == PROOF_UNKNOWN_KEY ? g.rogue_log_key
                                                                     : g.log_key, NULL),
                     CA_OK);
    char hex[65], roothex[65];
    ca_hash_to_hex(hex, &g.leaves[idx]);
    ca_hash_to_hex(roothex, &root);
    json_t *arr = json_array();
    for (size_t i = 0; i < plen; i++) {
        char h[65];
        ca_hash_to_hex(h, &path[i]);
        json_array_append_new(arr, json_string(h));
    }
    json_t *anchor = json_null();
    if (g.anchored) {
        uint8_t tx[32], bh[32];
        memset(tx, 0xab, 32);
        memset(bh, 0xcd, 32);
        char txh[67], bhh[67], from[43], to[43], chain[32];
        hex0x(txh, tx, 32);
        hex0x(bhh, bh, 32);
        ca_eth_address_hex(from, g.anchor_addr);
        ca_eth_address_hex(to, g.anchor_addr);
        snprintf(chain, sizeof chain, "eip155:%d", CHAIN);
        anchor = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:n}", "chain", chain,
                           "txHash", txh, "blockNumber", 5, "blockHash", bhh, "from", from,
                           "to", to, "status", g.anchor_status, "treeSize", (json_int_t)n,
                           "rootHash", roothex, "previous");
        assert_non_null(anchor);
    }
    json_t *p = json_pack("{s:s, s:I, s:I, s:s, s:o, s:s, s:o}", "digest", hex, "leafIndex",
                          (json_int_t)idx, "treeSize", (json_int_t)n, "rootHash", roothex,
                          "inclusionPath", arr, "checkpoint", note, "anchor", anchor);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return text;
}

/* ---- fake env callbacks ------------------------------------------------------------------ */

static ca_err fake_resolve(void *ctx, const char *did, json_t **doc, ca_errbuf *eb)
{
    (void)ctx;
    g.resolves++;
    if (strcmp(did, ISSUER) == 0) {
        *doc = json_incref(g.doc);
        return CA_OK;
    }
    if (strncmp(did, "did:key:", 8) == 0) {
        ca_did_result r;
        ca_did_result_init(&r);
        ca_did_options o = {.format = CA_DID_FORMAT_MULTIKEY};
        ca_did_error e = ca_did_key_resolve(&r, did, &o);
        ca_err err = CA_OK;
        if (e == CA_DID_OK)
            *doc = json_incref(r.document);
        else
            err = ca_fail(eb, CA_ERR_INVALID, "%s", r.detail);
        ca_did_result_free(&r);
        return err;
    }
    return ca_fail(eb, CA_ERR_NOT_FOUND, "no DID document for %s", did);
}

static ca_err fake_fetch(void *ctx, const char *url, char **body, size_t *len, ca_errbuf *eb)
{
    (void)ctx;
    g.fetches++;
    if (strcmp(url, DOWN_URL) == 0)
        return ca_fail(eb, CA_ERR_NETWORK, "connection refused");
    for (size_t i = 0; i < g.nurls; i++)
        if (strcmp(g.urls[i].url, url) == 0) {
            *body = strdup(g.urls[i].body);
            *len = strlen(*body);
            return CA_OK;
        }
    return ca_fail(eb, CA_ERR_NOT_FOUND, "HTTP 404 for %s", url);
}

static ca_err fake_proof(void *ctx, const char *digest_hex, char **body, size_t *len,
                         ca_errbuf *eb)
{
    (void)ctx;
    ca_hash d;
    assert_int_equal(ca_hash_from_hex(&d, digest_hex, strlen(digest_hex)), CA_OK);
    size_t idx = g.nleaves;
    for (size_t i = 0; i < g.nleaves; i++)
        if (!memcmp(g.leaves[i].b, d.b, 32))
            idx = i;
    if (idx == g.nleaves)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "HTTP 404");
    if (g.proof == PROOF_OTHER_DIGEST)
        idx = idx == 0 ? 1 : 0;
    *body = make_proof(idx);
    *len = strlen(*body);
    return CA_OK;
}

/* Two keys, as after a rotation: the old one first, so the check has to try both. */
static ca_err fake_log_keys(void *ctx, ca_note_verifier *v, size_t *n, ca_errbuf *eb)
{
    (void)ctx;
    (void)eb;
    verifier_of(&v[0], g.old_log_key);
    verifier_of(&v[1], g.log_key);
    *n = 2;
    return CA_OK;
}

static ca_err fake_check_anchor(void *ctx, const json_t *record, uint64_t tree_size,
                                const ca_hash *root, const uint8_t from[CA_ETH_ADDRESS_SIZE],
                                ca_anchor_report *report, ca_errbuf *eb)
{
    (void)ctx;
    (void)root;
    if (memcmp(from, g.anchor_addr, CA_ETH_ADDRESS_SIZE) != 0)
        return ca_fail(eb, CA_ERR_VERIFY, "fake: unexpected sender");
    if (g.anchor_rc)
        return ca_fail(eb, g.anchor_rc, "fake: anchor check says %d", (int)g.anchor_rc);
    memset(report, 0, sizeof *report);
    assert_int_equal(ca_anchor_claim_parse(&report->record, record, NULL), CA_OK);
    assert_int_equal(report->record.tree_size, tree_size);
    report->confirmations = g.confirmations;
    report->head = 5 + g.confirmations - 1;
    return CA_OK;
}

static ca_verify_env make_env(void)
{
    ca_verify_env env = {.ctx = NULL,
                         .resolve_did = fake_resolve,
                         .fetch_url = fake_fetch,
                         .fetch_proof = fake_proof,
                         .log_keys = fake_log_keys,
                         .check_anchor = fake_check_anchor,
                         .anchor_account = NULL,
                         .now = NOW,
                         .min_confirmations = 3};
    return env;
}

static void verify_text(ca_verify_report *r, const char *text, const ca_verify_env *env)
{
    ca_errbuf eb = {{0}};
    ca_err err = ca_verify_credential(r, text, strlen(text), env, &eb);
    if (err)
        fail_msg("ca_verify_credential: %s", ca_errmsg(&eb, err));
    /* the JSON report is always well formed */
    json_t *j = ca_verify_report_json(r);
    assert_non_null(j);
    json_decref(j);
}

static void verify_ok(ca_verify_report *r, const char *text)
{
    ca_verify_env env = make_env();
    verify_text(r, text, &env);
}

#define assert_check(c, res, substr)                                                    \
    do {                                                                                \
        if ((c).result != (res) || !strstr((c).detail, (substr)))                       \
            fail_msg("%s: got %s \"%s\", want %s containing \"%s\"", #c,                \
                     ca_check_result_name((c).result), (c).detail,                      \
                     ca_check_result_name(res), (substr));                              \
    } while (0)

/* ---- fixture --------------------------------------------------------------------------------- */

static ca_ed25519_key *new_ed(void)
{
    uint8_t seed[32];
    ca_ed25519_key *k;
    assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
    assert_int_equal(ca_ed25519_key_from_seed(&k, seed), CA_OK);
    ca_wipe(seed, sizeof seed);
    return k;
}

static int group_setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    uint8_t secret[CA_SIGNER_SECRET_MAX];
    for (int k = 0; k < K_N; k++) {
        size_t len = sizeof secret;
        if (ca_signer_generate(secret, &len, ALGS[k], NULL) != CA_OK ||
            ca_signer_open(&g.signer[k], ALGS[k], secret, len, NULL) != CA_OK)
            return -1;
        if (k == K_ED && ca_ed25519_key_from_seed(&g.ed, secret) != CA_OK)
            return -1;
        ca_wipe(secret, sizeof secret);
    }
    g.other_ed = new_ed();
    g.log_key = new_ed();
    g.old_log_key = new_ed();
    g.rogue_log_key = new_ed();
    uint8_t ksecret[32];
    if (ca_secp256k1_generate(ksecret) != CA_OK || ca_eth_address(g.anchor_addr, ksecret))
        return -1;
    g.good_doc = make_doc(NULL);
    uint8_t other_pub[32];
    ca_ed25519_key_public(g.other_ed, other_pub);
    g.wrong_key_doc = make_doc(other_pub);

    static const uint64_t rev_set[] = {7, 100000};
    static const uint64_t sus_set[] = {9};
    serve(REV_URL, make_list(REV_URL, "revocation", rev_set, 2, false));
    serve(SUS_URL, make_list(SUS_URL, "suspension", sus_set, 1, false));
    serve(BAD_URL, make_list(BAD_URL, "revocation", NULL, 0, true));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int k = 0; k < K_N; k++)
        ca_signer_free(g.signer[k]);
    ca_ed25519_key_free(g.ed);
    ca_ed25519_key_free(g.other_ed);
    ca_ed25519_key_free(g.log_key);
    ca_ed25519_key_free(g.old_log_key);
    ca_ed25519_key_free(g.rogue_log_key);
    json_decref(g.good_doc);
    json_decref(g.wrong_key_doc);
    for (size_t i = 0; i < g.nurls; i++)
        free(g.urls[i].body);
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    g.doc = g.good_doc;
    g.proof = PROOF_OK;
    g.anchored = false;
    g.anchor_status = "final";
    g.anchor_rc = CA_OK;
    g.confirmations = 10;
    g.resolves = g.fetches = 0;
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_jwt_valid_every_alg(void **state)
{
    (void)state;
    for (int k = 0; k < K_N; k++) {
        char id[64];
        snprintf(id, sizeof id, "urn:uuid:00000000-0000-4000-8000-00000000000%d", k);
        json_t *c = make_cred(id, &REV_OK, 1);
        char *jwt = sign_jwt(c, k);
        ca_verify_report r;
        verify_ok(&r, jwt);
        assert_check(r.signature, CA_CHECK_PASS, ca_jws_alg_name(ALGS[k]));
        assert_check(r.status, CA_CHECK_PASS, "not revoked");
        assert_check(r.inclusion, CA_CHECK_PASS, "checkpoint signed by " ORIGIN);
        assert_check(r.anchor, CA_CHECK_PENDING, "not yet anchored");
        assert_true(r.verified);
        assert_false(r.revoked);
        assert_false(r.suspended);
        assert_string_equal(r.id, id);
        assert_string_equal(r.issuer, ISSUER);
        assert_string_equal(r.format, "vc+jwt");
        ca_hash d;
        ca_sha256(&d, jwt, strlen(jwt));
        assert_memory_equal(r.digest.b, d.b, 32);
        free(jwt);
        json_decref(c);
    }
}

static void test_jwt_whitespace_and_cache(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:ws", &REV_OK, 1);
    char *jwt = sign_jwt(c, K_ED);
    char *padded = malloc(strlen(jwt) + 8);
    sprintf(padded, " \n\t%s\r\n", jwt);
    ca_verify_report r;
    verify_ok(&r, padded);
    assert_true(r.verified);
    ca_hash d;
    ca_sha256(&d, jwt, strlen(jwt)); /* the digest is of the trimmed bytes */
    assert_memory_equal(r.digest.b, d.b, 32);
    assert_int_equal(g.resolves, 1); /* the issuer DID once, for signature, list and anchor */
    assert_int_equal(g.fetches, 1);
    free(padded);
    free(jwt);
    json_decref(c);
}

static void test_di_valid(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:di-1", &REV_OK, 1);
    char *text = sign_di(c, ISSUER "#key-ed", true);
    ca_verify_report r;
    verify_ok(&r, text);
    assert_check(r.signature, CA_CHECK_PASS, "eddsa-jcs-2022");
    assert_check(r.status, CA_CHECK_PASS, "not revoked");
    assert_check(r.inclusion, CA_CHECK_PASS, "leaf ");
    assert_check(r.anchor, CA_CHECK_PENDING, "not yet anchored");
    assert_true(r.verified);
    assert_string_equal(r.format, "eddsa-jcs-2022");
    assert_string_equal(r.id, "urn:uuid:di-1");
    ca_hash d;
    assert_int_equal(ca_jcs_digest(&d, text, strlen(text), NULL), CA_OK);
    assert_memory_equal(r.digest.b, d.b, 32);

    /* The digest is of the JCS form: the same credential pretty-printed verifies and has the
     * same digest (SPEC §1). */
    json_t *parsed = json_loads(text, 0, NULL);
    char *pretty = json_dumps(parsed, JSON_INDENT(2));
    ca_verify_report r2;
    verify_ok(&r2, pretty);
    assert_true(r2.verified);
    assert_memory_equal(r2.digest.b, d.b, 32);
    free(pretty);
    json_decref(parsed);
    free(text);
    json_decref(c);
}

/* One character of the payload changed (still valid JSON, re-encoded): the signature fails. */
static void test_jwt_tampered_payload(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:tamper", &REV_OK, 1);
    for (int k = 0; k < K_N; k++) {
        char *jwt = sign_jwt(c, k);
        char *d1 = strchr(jwt, '.'), *d2 = strchr(d1 + 1, '.');
        size_t plen = (size_t)(d2 - d1 - 1);
        uint8_t *payload = malloc(plen);
        size_t n = plen;
        assert_int_equal(ca_base64url_decode(payload, &n, d1 + 1, plen), CA_OK);
        char *hit = memmem(payload, n, "Example Badge", 13);
        assert_non_null(hit);
        hit[12] = 'f';
        char *enc = malloc(ca_base64url_encoded_len(n) + 1);
        ca_base64url_encode(enc, payload, n);
        char *forged = malloc(strlen(jwt) + 8);
        sprintf(forged, "%.*s.%s%s", (int)(d1 - jwt), jwt, enc, d2);
        ca_verify_report r;
        verify_ok(&r, forged);
        assert_check(r.signature, CA_CHECK_FAIL, "does not verify");
        assert_check(r.inclusion, CA_CHECK_FAIL, "digest not in the log");
        assert_check(r.anchor, CA_CHECK_PENDING, "no inclusion proof");
        assert_false(r.verified);
        free(forged);
        free(enc);
        free(payload);
        free(jwt);
    }
    json_decref(c);
}

static void test_di_changed_member(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:di-tamper", &REV_OK, 1);
    char *text = sign_di(c, ISSUER "#key-ed", true);
    json_t *d = json_loads(text, 0, NULL);
    json_object_set_new(d, "name", json_string("Example Badgf"));
    char *forged = json_dumps(d, JSON_COMPACT);
    ca_verify_report r;
    verify_ok(&r, forged);
    assert_check(r.signature, CA_CHECK_FAIL, "does not verify");
    assert_check(r.inclusion, CA_CHECK_FAIL, "digest not in the log");
    assert_false(r.verified);

    /* The proof moved to another key of the issuer that is not Ed25519. */
    json_object_set_new(d, "name", json_string("Example Badge"));
    json_object_set_new(json_object_get(d, "proof"), "verificationMethod",
                        json_string(ISSUER "#key-k1"));
    free(forged);
    forged = json_dumps(d, JSON_COMPACT);
    verify_ok(&r, forged);
    assert_check(r.signature, CA_CHECK_FAIL, "needs an Ed25519 key");
    free(forged);
    json_decref(d);
    free(text);
    json_decref(c);
}

static void test_revoked(void **state)
{
    (void)state;
    status_spec st = {"revocation", REV_URL, "7"};
    json_t *c = make_cred("urn:uuid:revoked", &st, 1);
    char *jwt = sign_jwt(c, K_ED);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_PASS, "");
    assert_check(r.status, CA_CHECK_FAIL, "revoked");
    assert_true(r.revoked);
    assert_false(r.suspended);
    assert_check(r.inclusion, CA_CHECK_PASS, "");
    assert_false(r.verified);
    json_t *j = ca_verify_report_json(&r);
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(j, "checks"),
                                                             "status"), "revoked")));
    json_decref(j);
    free(jwt);
    json_decref(c);

    /* A large index, Data Integrity form. */
    status_spec big = {"revocation", REV_URL, "100000"};
    c = make_cred("urn:uuid:revoked-di", &big, 1);
    char *text = sign_di(c, ISSUER "#key-ed", true);
    verify_ok(&r, text);
    assert_check(r.status, CA_CHECK_FAIL, "revoked (index 100000");
    assert_true(r.revoked);
    free(text);
    json_decref(c);
}

static void test_suspended(void **state)
{
    (void)state;
    status_spec st[2] = {{"revocation", REV_URL, "8"}, {"suspension", SUS_URL, "9"}};
    json_t *c = make_cred("urn:uuid:suspended", st, 2);
    char *jwt = sign_jwt(c, K_P256);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_PASS, "");
    assert_check(r.status, CA_CHECK_FAIL, "suspended");
    assert_true(r.suspended);
    assert_false(r.revoked);
    assert_false(r.verified);
    free(jwt);
    json_decref(c);

    /* Not suspended at another index: both entries checked and pass. */
    st[1].index = "10";
    c = make_cred("urn:uuid:not-suspended", st, 2);
    jwt = sign_jwt(c, K_P256);
    verify_ok(&r, jwt);
    assert_check(r.status, CA_CHECK_PASS, "not suspended");
    assert_true(strstr(r.status.detail, "not revoked") != NULL);
    assert_true(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_status_entry_problems(void **state)
{
    (void)state;
    ca_verify_report r;
    struct {
        status_spec st;
        ca_check_result want;
        const char *detail;
    } cases[] = {
        {{"revocation", REV_URL, "007"}, CA_CHECK_FAIL, "not a base-10"},
        {{"revocation", REV_URL, "-1"}, CA_CHECK_FAIL, "not a base-10"},
        {{"revocation", REV_URL, "131072"}, CA_CHECK_FAIL, "outside the list"},
        {{"revocation", "ftp://x/y", "1"}, CA_CHECK_FAIL, "not a URL"},
        {{"suspension", REV_URL, "1"}, CA_CHECK_FAIL, "another statusPurpose"},
        {{"revocation", "https://issuer.example/missing", "1"}, CA_CHECK_FAIL, "HTTP 404"},
        {{"message", REV_URL, "1"}, CA_CHECK_PASS, "ignored"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *c = make_cred("urn:uuid:entry", &cases[i].st, 1);
        char *jwt = sign_jwt(c, K_ED);
        verify_ok(&r, jwt);
        assert_check(r.status, cases[i].want, cases[i].detail);
        assert_int_equal(r.verified, cases[i].want != CA_CHECK_FAIL);
        free(jwt);
        json_decref(c);
    }
    /* No credentialStatus at all. */
    json_t *c = make_cred("urn:uuid:nostatus", NULL, 0);
    char *jwt = sign_jwt(c, K_ED);
    verify_ok(&r, jwt);
    assert_check(r.status, CA_CHECK_PASS, "no credentialStatus");
    assert_true(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_wrong_issuer_key(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:wrongkey", &REV_OK, 1);
    char *jwt = sign_jwt(c, K_ED);
    char *di = sign_di(c, ISSUER "#key-ed", true);
    g.doc = g.wrong_key_doc; /* the document lists another Ed25519 key as #key-ed */
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_FAIL, "does not verify");
    assert_check(r.status, CA_CHECK_FAIL, "does not verify"); /* the list is signed by it too */
    assert_false(r.verified);
    verify_ok(&r, di);
    assert_check(r.signature, CA_CHECK_FAIL, "does not verify");
    assert_false(r.verified);
    free(di);
    free(jwt);
    json_decref(c);
}

static void test_unknown_kid(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:kid", &REV_OK, 1);
    ca_verify_report r;
    struct {
        const char *kid;
        const char *detail;
    } cases[] = {
        {ISSUER "#nope", "not listed under assertionMethod"},
        {ISSUER "#anchor", "not listed under assertionMethod"},
        {"did:web:evil.example#key-ed", "is not one of the issuer"},
        {ISSUER, "is not one of the issuer"},
        {NULL, "no \"kid\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *jwt = sign_jwt_kid(c, K_ED, cases[i].kid, true);
        verify_ok(&r, jwt);
        assert_check(r.signature, CA_CHECK_FAIL, cases[i].detail);
        assert_false(r.verified);
        free(jwt);
    }
    /* A kid naming another key of the issuer than the one that signed: alg mismatch. */
    char *jwt = sign_jwt_kid(c, K_ED, KIDS[K_K1], true);
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_FAIL, "does not match");
    free(jwt);
    json_decref(c);
}

static void test_status_list_fetch_error(void **state)
{
    (void)state;
    status_spec st = {"revocation", DOWN_URL, "3"};
    json_t *c = make_cred("urn:uuid:down", &st, 1);
    char *jwt = sign_jwt(c, K_RSA);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_PASS, "RS256");
    assert_check(r.status, CA_CHECK_FAIL, "connection refused");
    assert_false(r.revoked);
    assert_false(r.verified);
    free(jwt);
    json_decref(c);

    /* No fetcher at all: still a failure, never a pass. */
    c = make_cred("urn:uuid:nofetch", &REV_OK, 1);
    jwt = sign_jwt(c, K_ED);
    ca_verify_env env = make_env();
    env.fetch_url = NULL;
    verify_text(&r, jwt, &env);
    assert_int_equal(r.status.result, CA_CHECK_FAIL);
    assert_false(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_status_list_bad_signature(void **state)
{
    (void)state;
    status_spec st = {"revocation", BAD_URL, "3"};
    json_t *c = make_cred("urn:uuid:badlist", &st, 1);
    char *jwt = sign_jwt(c, K_ED);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.status, CA_CHECK_FAIL, "proof does not verify");
    assert_false(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_status_list_wrong_id_and_expired(void **state)
{
    (void)state;
    /* A list served at one URL that names another id. */
    const char *url = "https://issuer.example/v1/status/moved";
    serve(url, strdup(g.urls[0].body)); /* REV_URL's list */
    status_spec st = {"revocation", url, "3"};
    json_t *c = make_cred("urn:uuid:moved", &st, 1);
    char *jwt = sign_jwt(c, K_ED);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.status, CA_CHECK_FAIL, "not the URL");
    free(jwt);
    json_decref(c);

    /* An expired list. */
    const char *exp_url = "https://issuer.example/v1/status/expired";
    char *list_text = make_list(exp_url, "revocation", NULL, 0, false);
    json_t *list = json_loads(list_text, 0, NULL);
    free(list_text);
    assert_non_null(list);
    json_object_del(list, "proof");
    json_object_set_new(list, "validUntil", json_string("2024-06-01T00:00:00Z"));
    assert_int_equal(ca_di_sign(list, g.ed, ISSUER "#key-ed", NULL, NULL), CA_OK);
    serve(exp_url, json_dumps(list, JSON_COMPACT));
    json_decref(list);
    st.url = exp_url;
    c = make_cred("urn:uuid:explist", &st, 1);
    jwt = sign_jwt(c, K_ED);
    verify_ok(&r, jwt);
    assert_check(r.status, CA_CHECK_FAIL, "expired");
    free(jwt);
    json_decref(c);
}

static void test_proof_not_found(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:unlogged", &REV_OK, 1);
    char *jwt = sign_jwt_kid(c, K_ED, KIDS[K_ED], false);
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.signature, CA_CHECK_PASS, "");
    assert_check(r.inclusion, CA_CHECK_FAIL, "digest not in the log");
    assert_check(r.anchor, CA_CHECK_PENDING, "no inclusion proof");
    assert_false(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_proof_other_digest(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:otherdigest", &REV_OK, 1);
    char *jwt = sign_jwt(c, K_ED);
    g.proof = PROOF_OTHER_DIGEST;
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.inclusion, CA_CHECK_FAIL, "another digest");
    assert_false(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_checkpoint_unknown_key(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:roguekey", &REV_OK, 1);
    char *jwt = sign_jwt(c, K_ED);
    g.proof = PROOF_UNKNOWN_KEY;
    ca_verify_report r;
    verify_ok(&r, jwt);
    assert_check(r.inclusion, CA_CHECK_FAIL, "every log key");
    assert_check(r.anchor, CA_CHECK_PENDING, "no inclusion proof");
    assert_false(r.verified);
    free(jwt);
    json_decref(c);
}

static void test_anchor(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:anchored", &REV_OK, 1);
    char *jwt = sign_jwt(c, K_K1);
    ca_verify_report r;
    g.anchored = true;

    /* On chain, final and deep enough. */
    verify_ok(&r, jwt);
    assert_check(r.inclusion, CA_CHECK_PASS, "");
    assert_check(r.anchor, CA_CHECK_PASS, "in block 5 on eip155:31337");
    assert_true(strstr(r.anchor.detail, "0xabab") != NULL);
    assert_true(r.verified);

    /* The chain disagrees. */
    g.anchor_rc = CA_ERR_VERIFY;
    verify_ok(&r, jwt);
    assert_check(r.anchor, CA_CHECK_FAIL, "fake: anchor check says");
    assert_false(r.verified);

    /* The RPC endpoint is down or mistyped: the claimed anchor could not be checked, which
     * is a failure with its reason, not "not anchored yet" (issue 12 item 9). */
    g.anchor_rc = CA_ERR_NETWORK;
    verify_ok(&r, jwt);
    assert_check(r.anchor, CA_CHECK_FAIL, "cannot check the anchor on chain:");
    assert_false(r.verified);

    /* Too few confirmations, and a record not yet final. */
    g.anchor_rc = CA_OK;
    g.confirmations = 2;
    verify_ok(&r, jwt);
    assert_check(r.anchor, CA_CHECK_PENDING, "2 confirmation(s), 3 required");
    g.confirmations = 10;
    g.anchor_status = "confirmed";
    verify_ok(&r, jwt);
    assert_check(r.anchor, CA_CHECK_PENDING, "record status confirmed");
    g.anchor_status = "final";

    /* No RPC at all. */
    ca_verify_env env = make_env();
    env.check_anchor = NULL;
    verify_text(&r, jwt, &env);
    assert_check(r.anchor, CA_CHECK_PENDING, "no RPC endpoint");
    assert_true(r.verified);

    /* A DID document without an anchor account and no fallback: fail; with the env's
     * account (did:key style): pass. */
    json_t *doc = json_deep_copy(g.good_doc);
    json_t *vms = json_object_get(doc, "verificationMethod");
    for (size_t i = json_array_size(vms); i-- > 0;)
        if (json_object_get(json_array_get(vms, i), "blockchainAccountId"))
            json_array_remove(vms, i);
    g.doc = doc;
    verify_ok(&r, jwt);
    assert_check(r.anchor, CA_CHECK_FAIL, "no anchor account");
    assert_false(r.verified);
    json_decref(doc);
    g.doc = g.good_doc;
    free(jwt);
    json_decref(c);
}

static ca_err env_anchor_account(void *ctx, uint64_t chain_id,
                                 uint8_t addr[CA_ETH_ADDRESS_SIZE], ca_errbuf *eb)
{
    (void)ctx;
    if (chain_id != CHAIN)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no account for that chain");
    memcpy(addr, g.anchor_addr, CA_ETH_ADDRESS_SIZE);
    return CA_OK;
}

/* A did:key issuer: an ES256K credential from the node's secp256k1 did:key whose status list
 * is signed with its Ed25519 did:key (the allowed issuer mismatch), anchored with the env's
 * anchor account. */
static void test_did_key_issuer(void **state)
{
    (void)state;
    uint8_t pub[33];
    size_t plen;
    char k1_did[CA_DID_TEXT_MAX], ed_did[CA_DID_TEXT_MAX];
    assert_int_equal(ca_signer_public_raw(g.signer[K_K1], pub, &plen, NULL), CA_OK);
    assert_int_equal(ca_did_key_encode(k1_did, CA_KEYTYPE_SECP256K1, pub, plen, NULL), CA_OK);
    assert_int_equal(ca_signer_public_raw(g.signer[K_ED], pub, &plen, NULL), CA_OK);
    assert_int_equal(ca_did_key_encode(ed_did, CA_KEYTYPE_ED25519, pub, plen, NULL), CA_OK);

    const char *url = "https://node.example/v1/status/dk";
    char vm[2 * CA_DID_TEXT_MAX];
    snprintf(vm, sizeof vm, "%s#%s", ed_did, ed_did + 8);
    char *list_text = make_list(url, "revocation", NULL, 0, false);
    json_t *list = json_loads(list_text, 0, NULL);
    free(list_text);
    json_object_del(list, "proof");
    json_object_set_new(list, "issuer", json_string(ed_did));
    assert_int_equal(ca_di_sign(list, g.ed, vm, NULL, NULL), CA_OK);
    serve(url, json_dumps(list, JSON_COMPACT));
    json_decref(list);

    status_spec st = {"revocation", url, "1"};
    json_t *c = make_cred("urn:uuid:didkey", &st, 1);
    json_object_set_new(c, "issuer", json_string(k1_did));
    json_t *p = json_deep_copy(c);
    json_object_set_new(p, "iss", json_string(k1_did));
    char *payload = json_dumps(p, JSON_COMPACT);
    char kid[2 * CA_DID_TEXT_MAX];
    snprintf(kid, sizeof kid, "%s#%s", k1_did, k1_did + 8);
    char *jwt;
    size_t len;
    assert_int_equal(ca_jws_sign(&jwt, &len, g.signer[K_K1], kid, "JWT", payload,
                                 strlen(payload), NULL), CA_OK);
    ca_hash d;
    ca_sha256(&d, jwt, len);
    log_add(&d);
    g.anchored = true;

    ca_verify_report r;
    ca_verify_env env = make_env();
    verify_text(&r, jwt, &env);
    assert_check(r.signature, CA_CHECK_PASS, "ES256K");
    assert_check(r.status, CA_CHECK_PASS, "another did:key");
    assert_check(r.anchor, CA_CHECK_FAIL, "no anchor account");
    assert_false(r.verified);

    env.anchor_account = env_anchor_account;
    verify_text(&r, jwt, &env);
    assert_check(r.anchor, CA_CHECK_PASS, "eip155:31337");
    assert_true(r.verified);
    assert_string_equal(r.issuer, k1_did);

    /* The did:web issuer may not borrow a list issued by someone else. */
    status_spec st2 = {"revocation", url, "1"};
    json_t *c2 = make_cred("urn:uuid:borrowed", &st2, 1);
    char *jwt2 = sign_jwt(c2, K_ED);
    verify_text(&r, jwt2, &env);
    assert_check(r.status, CA_CHECK_FAIL, "not by the credential's issuer");
    free(jwt2);
    json_decref(c2);

    free(jwt);
    free(payload);
    json_decref(p);
    json_decref(c);
}

static void test_validity_period(void **state)
{
    (void)state;
    struct {
        const char *from, *until;
        ca_check_result want;
        const char *detail;
    } cases[] = {
        {"2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", CA_CHECK_FAIL, "expired at 2024-06-01"},
        {"2030-01-01T00:00:00Z", NULL, CA_CHECK_FAIL, "not valid until 2030-01-01T00:00:00Z"},
        /* 2024-12-31T23:00-02:00 is 2025-01-01T01:00Z, after NOW */
        {"2024-12-31T23:00:00-02:00", NULL, CA_CHECK_FAIL, "not valid until"},
        {"2025-01-01T01:00:00+02:00", "2025-01-01T00:00:00.500Z", CA_CHECK_PASS, ""},
        {"2024-02-30T00:00:00Z", NULL, CA_CHECK_FAIL, "dateTimeStamp"},
        {"2024-01-01T00:00:00", NULL, CA_CHECK_FAIL, "dateTimeStamp"},
        {"2024-01-01 00:00:00Z", NULL, CA_CHECK_FAIL, "dateTimeStamp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *c = make_cred("urn:uuid:validity", &REV_OK, 1);
        json_object_set_new(c, "validFrom", json_string(cases[i].from));
        if (cases[i].until)
            json_object_set_new(c, "validUntil", json_string(cases[i].until));
        char *text = sign_di(c, ISSUER "#key-ed", true);
        ca_verify_report r;
        verify_ok(&r, text);
        assert_check(r.signature, cases[i].want, cases[i].detail);
        free(text);
        json_decref(c);
    }
}

static void test_jwt_claims(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:claims", &REV_OK, 1);
    struct {
        const char *member;
        json_t *value;
        const char *detail;
    } cases[] = {
        {"iss", json_string("did:web:other.example"), "\"iss\""},
        {"jti", json_string("urn:uuid:other"), "\"jti\""},
        {"nbf", json_integer(1704067201), "\"nbf\""},
        {"sub", json_string("did:example:bob"), "\"sub\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *p = json_deep_copy(c);
        json_object_set_new(p, "iss", json_string(ISSUER));
        json_object_set_new(p, cases[i].member, cases[i].value);
        char *payload = json_dumps(p, JSON_COMPACT);
        char *jwt;
        size_t len;
        assert_int_equal(ca_jws_sign(&jwt, &len, g.signer[K_ED], KIDS[K_ED], "JWT", payload,
                                     strlen(payload), NULL), CA_OK);
        ca_verify_report r;
        verify_ok(&r, jwt);
        assert_check(r.signature, CA_CHECK_FAIL, cases[i].detail);
        free(jwt);
        free(payload);
        json_decref(p);
    }
    json_decref(c);
}

/* JSON without a Data Integrity proof is neither accepted form: CA_ERR_INVALID (not a report
 * with a failed signature), as is a proof of another cryptosuite. */
static void test_json_without_proof(void **state)
{
    (void)state;
    json_t *c = make_cred("urn:uuid:noproof", &REV_OK, 1);
    char *text = json_dumps(c, JSON_COMPACT);
    ca_verify_report r;
    ca_verify_env env = make_env();
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_verify_credential(&r, text, strlen(text), &env, &eb), CA_ERR_INVALID);
    assert_true(strstr(eb.msg, "proof") != NULL);
    assert_false(r.verified);
    free(text);

    json_object_set_new(c, "proof", json_pack("{s:s, s:s}", "type", "DataIntegrityProof",
                                              "cryptosuite", "ecdsa-rdfc-2019"));
    text = json_dumps(c, JSON_COMPACT);
    assert_int_equal(ca_verify_credential(&r, text, strlen(text), &env, &eb), CA_ERR_INVALID);
    free(text);
    json_decref(c);
}

static void test_garbage(void **state)
{
    (void)state;
    ca_verify_report r;
    ca_verify_env env = make_env();
    static const char *const inputs[] = {
        "", "   \n", "garbage", "a.b.c", "{", "{\"a\":1,\"a\":2}", "[1,2,3]",
        "eyJhbGciOiJub25lIn0.e30.", "{\"proof\":{\"cryptosuite\":\"eddsa-jcs-2022\"},\"x\":1e999}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        ca_errbuf eb = {{0}};
        ca_err err = ca_verify_credential(&r, inputs[i], strlen(inputs[i]), &env, &eb);
        if (err != CA_ERR_INVALID)
            fail_msg("input %zu: got %d", i, (int)err);
        assert_true(eb.msg[0] != '\0');
        assert_false(r.verified);
    }
    assert_int_equal(g.resolves + g.fetches, 0);

    size_t big = CA_JWS_MAX + 1;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    assert_int_equal(ca_verify_credential(&r, huge, big, &env, NULL), CA_ERR_TOO_LARGE);
    free(huge);
}

static void test_report_json(void **state)
{
    (void)state;
    status_spec st = {"revocation", REV_URL, "7"};
    json_t *c = make_cred("urn:uuid:json", &st, 1);
    char *jwt = sign_jwt(c, K_ED);
    ca_verify_report r;
    verify_ok(&r, jwt);
    json_t *j = ca_verify_report_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "urn:uuid:json");
    assert_true(json_is_false(json_object_get(j, "verified")));
    assert_string_equal(json_string_value(json_object_get(j, "issuer")), ISSUER);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "vc+jwt");
    char hex[65];
    ca_hash_to_hex(hex, &r.digest);
    assert_string_equal(json_string_value(json_object_get(j, "digest")), hex);
    json_t *checks = json_object_get(j, "checks");
    assert_int_equal(json_object_size(checks), 4);
    static const char *const names[] = {"signature", "status", "inclusion", "anchor"};
    static const char *const want[] = {"pass", "fail", "pass", "pending"};
    for (int i = 0; i < 4; i++) {
        json_t *ch = json_object_get(checks, names[i]);
        assert_string_equal(json_string_value(json_object_get(ch, "result")), want[i]);
        assert_true(json_is_string(json_object_get(ch, "detail")));
        assert_int_equal(json_object_size(ch), i == 1 ? 4 : 2);
    }
    json_t *status = json_object_get(checks, "status");
    assert_true(json_is_true(json_object_get(status, "revoked")));
    assert_true(json_is_false(json_object_get(status, "suspended")));
    json_decref(j);

    /* A detail cut inside a UTF-8 character still gives valid JSON. */
    memset(r.signature.detail, 0, sizeof r.signature.detail);
    memcpy(r.signature.detail, "caf\xc3", 4);
    r.id[0] = '\0';
    j = ca_verify_report_json(&r);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "id")));
    json_decref(j);
    free(jwt);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_jwt_valid_every_alg, test_setup),
        cmocka_unit_test_setup(test_jwt_whitespace_and_cache, test_setup),
        cmocka_unit_test_setup(test_di_valid, test_setup),
        cmocka_unit_test_setup(test_jwt_tampered_payload, test_setup),
        cmocka_unit_test_setup(test_di_changed_member, test_setup),
        cmocka_unit_test_setup(test_revoked, test_setup),
        cmocka_unit_test_setup(test_suspended, test_setup),
        cmocka_unit_test_setup(test_status_entry_problems, test_setup),
        cmocka_unit_test_setup(test_wrong_issuer_key, test_setup),
        cmocka_unit_test_setup(test_unknown_kid, test_setup),
        cmocka_unit_test_setup(test_status_list_fetch_error, test_setup),
        cmocka_unit_test_setup(test_status_list_bad_signature, test_setup),
        cmocka_unit_test_setup(test_status_list_wrong_id_and_expired, test_setup),
        cmocka_unit_test_setup(test_proof_not_found, test_setup),
        cmocka_unit_test_setup(test_proof_other_digest, test_setup),
        cmocka_unit_test_setup(test_checkpoint_unknown_key, test_setup),
        cmocka_unit_test_setup(test_anchor, test_setup),
        cmocka_unit_test_setup(test_did_key_issuer, test_setup),
        cmocka_unit_test_setup(test_validity_period, test_setup),
        cmocka_unit_test_setup(test_jwt_claims, test_setup),
        cmocka_unit_test_setup(test_json_without_proof, test_setup),
        cmocka_unit_test_setup(test_garbage, test_setup),
        cmocka_unit_test_setup(test_report_json, test_setup),
    };
    return ca_run_tests("verify", tests, group_setup, group_teardown);
}
