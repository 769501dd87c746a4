/*
 * node/resolver.c — the node's DID resolver (contract: node/resolver.h,
 * SPEC §4). It glues did/ (did:key, did:web, no I/O of its own) to the node: the own
 * document from the keys in memory, the libcurl transport, and the did_cache table.
 *
 * Dispatch, in order:
 *   1. not DID syntax (DID Core §3.1) or longer than CA_DID_TEXT_MAX -> INVALID_DID;
 *   2. did:web equal to the node's own did:web -> the own document, built once at creation
 *      (SPEC §4: never over the network, so a dev node on http://localhost:8080, whose did:web
 *      no HTTPS resolver could fetch, still resolves itself);
 *   3. did:key -> ca_did_key_resolve (the node's own did:key included: a did:key document is
 *      a pure function of the key, and every resolver must produce the same one);
 *   4. did:web -> ca_did_web_resolve through the curl transport and the LMDB cache;
 *   5. any other method -> METHOD_NOT_SUPPORTED.
 * Options that a method does not use (publicKeyFormat and enableEncryptionKeyDerivation for
 * did:web) are ignored, as the did:web spec defines no options: a did:web document is served
 * as its controller wrote it, and the own one as the node builds it.
 *
 * The cache (CA_TABLE_DID_CACHE, layout in node/store.c): key = the DID text, value = u64 BE
 * expiry (unix seconds) || document JSON. get ignores an expired entry (the next fetch
 * overwrites it); put is one ca_store_write. LMDB keys are at most 511 bytes, so a DID longer
 * than CACHE_KEY_MAX is simply not cached. did.cache_ttl bounds a document's Cache-Control
 * max-age from above, CA_RESOLVER_MIN_TTL (or cache_ttl when smaller) from below, so a host
 * answering max-age=0 cannot make every resolution a fetch; cache_ttl = 0 disables the cache.
 */
#include "node/resolver.h"

#include "credanchor/crypto.h"
#include "credanchor/did.h"
#include "node/node_log.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_KEY_MAX 480
/* The JsonWebKey form of the issuer's Ed25519 keys: "#eddsa-<n>" (the Multikey is "#key-<n>",
 * ca_node_issuer_fragment). */
#define ED25519_JWK_FRAGMENT "eddsa"
#define WEB_MAX_BODY (1u << 20) /* SPEC §4 body cap for did:web documents: 1 MiB */

struct ca_resolver {
    ca_config cfg;
    ca_store *store;     /* NULL: no cache */
    bool cache_writes;
    char web_did[CA_DID_MAX];
    char key_did[CA_DID_TEXT_MAX]; /* "" without an issuer key */
    bool issuer_is_key;
    /* Per ca_jws_alg: the issuer DID and verification method id that sign with it. */
    char alg_did[CA_ALG_RS256 + 1][CA_DID_TEXT_MAX];
    char alg_kid[CA_ALG_RS256 + 1][CA_DID_TEXT_MAX + 128];
    /* The verification method of Data Integrity proofs: the newest Ed25519 key's Multikey. */
    char di_method[CA_DID_TEXT_MAX + 128];
    char *own_text;      /* the own did:web document, compact JSON; NULL without issuer key */
    /* did:web fetches in flight and their cap (CA_RESOLVER_MAX_FETCHES): slow or hostile
     * did:web hosts can hold at most that many connections and threads; past the cap a
     * resolution fails at once instead of queueing. */
    atomic_uint inflight;
    unsigned max_inflight;
    size_t own_len;
    ca_did_web_curl curl;
    ca_did_web_transport transport;
    ca_did_web_cache cache;
};

/* ---- DID syntax ---------------------------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hexdig(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ca_did_syntax_ok(const char *s)
{
    if (strncmp(s, "did:", 4) != 0)
        return false;
    s += 4;
    size_t m = 0;
    while ((s[m] >= 'a' && s[m] <= 'z') || (s[m] >= '0' && s[m] <= '9'))
        m++;
    if (m == 0 || s[m] != ':')
        return false;
    s += m + 1;
    char last = ':'; /* the method-specific id must not be empty or end in ':' */
    for (; *s; s++) {
        char c = *s;
        if (c == '%') {
            if (!is_hexdig(s[1]) || !is_hexdig(s[2]))
                return false;
            s += 2;
            c = 'x';
        } else if (!is_alnum(c) && c != '.' && c != '-' && c != '_' && c != ':') {
            return false;
        }
        last = c;
    }
    return last != ':';
}

/* ---- results as JSON ------------------------------------------------------------------------ */

const char *ca_did_error_title(ca_did_error e)
{
    switch (e) {
    case CA_DID_OK: return "OK";
    case CA_DID_INVALID_DID: return "Invalid DID";
    case CA_DID_INVALID_DID_URL: return "Invalid DID URL";
    case CA_DID_INVALID_OPTIONS: return "Invalid resolution options";
    case CA_DID_NOT_FOUND: return "DID not found";
    case CA_DID_REPRESENTATION_NOT_SUPPORTED: return "Representation not supported";
    case CA_DID_DEACTIVATED: return "DID deactivated";
    case CA_DID_INVALID_DID_DOCUMENT: return "Invalid DID document";
    case CA_DID_INTERNAL_ERROR: return "Internal error";
    case CA_DID_METHOD_NOT_SUPPORTED: return "DID method not supported";
    case CA_DID_FEATURE_NOT_SUPPORTED: return "Feature not supported";
    }
    return "Internal error";
}

json_t *ca_did_error_object(ca_did_error e, const char *detail)
{
    char type[96];
    snprintf(type, sizeof type, "https://www.w3.org/ns/did#%s", ca_did_error_code(e));
    /* s? would turn invalid UTF-8 into a NULL object: a detail may quote client input that the
     * did/ code did not sanitise, so fall back to a fixed text rather than lose the error. */
    json_t *d = json_string(detail && detail[0] ? detail : ca_did_error_title(e));
    if (!d)
        d = json_string("(detail not valid UTF-8)");
    return json_pack("{s:s, s:s, s:i, s:o*}", "type", type, "title", ca_did_error_title(e),
                     "status", ca_did_error_status(e), "detail", d);
}

json_t *ca_did_result_json(const ca_did_result *res)
{
    if (res->error == CA_DID_OK && res->document) {
        json_t *meta = res->document_metadata ? json_incref(res->document_metadata)
                                              : json_object();
        return json_pack("{s:O, s:{s:s}, s:o}", "didDocument", res->document,
                         "didResolutionMetadata", "contentType", res->content_type,
                         "didDocumentMetadata", meta);
    }
    ca_did_error e = res->error == CA_DID_OK ? CA_DID_INTERNAL_ERROR : res->error;
    return json_pack("{s:n, s:{s:o}, s:{}}", "didDocument", "didResolutionMetadata", "error",
                     ca_did_error_object(e, res->error == CA_DID_OK ? "no document"
                                                                    : res->detail),
                     "didDocumentMetadata");
}

/* ---- the own document -------------------------------------------------------------------------- */

ca_err ca_did_own_document(json_t **out, const ca_did_own_identity *id, ca_errbuf *eb)
{
    CA_ASSERT(out && id && id->did && id->keys && id->nkeys >= 1);
    *out = NULL;
    json_t *doc = json_pack(
        "{s:[s,s,s], s:s, s:[], s:[], s:[]}", "@context", "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/suites/secp256k1recovery-2020/v2", "id", id->did,
        "verificationMethod", "assertionMethod", "authentication");
    if (!doc)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (id->njwks && json_array_append_new(json_object_get(doc, "@context"),
                                           json_string("https://w3id.org/security/jwk/v1"))) {
        json_decref(doc);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    json_t *vms = json_object_get(doc, "verificationMethod");
    json_t *assertion = json_object_get(doc, "assertionMethod");
    json_t *authn = json_object_get(doc, "authentication");
    char vm_id[CA_DID_MAX + 32], key_did[CA_DID_TEXT_MAX];
    ca_err err = CA_OK;
    for (size_t i = 0; i < id->nkeys; i++) {
        const ca_did_doc_key *k = &id->keys[i];
        if ((err = ca_did_key_encode(key_did, k->type, k->pub, k->pub_len, eb)))
            goto fail;
        snprintf(vm_id, sizeof vm_id, "%s#key-%zu", id->did, i + 1);
        /* publicKeyMultibase is the did:key method-specific id: "z" + base58btc(varint(codec)
         * || key), exactly the Multikey encoding. */
        json_t *vm = json_pack("{s:s, s:s, s:s, s:s}", "id", vm_id, "type", "Multikey",
                               "controller", id->did, "publicKeyMultibase",
                               key_did + strlen("did:key:"));
        if (!vm || json_array_append_new(vms, vm) ||
            json_array_append_new(assertion, json_string(vm_id)) ||
            json_array_append_new(authn, json_string(vm_id))) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < id->njwks; i++) {
        snprintf(vm_id, sizeof vm_id, "%s#%s", id->did, id->jwks[i].fragment);
        json_t *vm = json_pack("{s:s, s:s, s:s, s:O}", "id", vm_id, "type", "JsonWebKey",
                               "controller", id->did, "publicKeyJwk", id->jwks[i].jwk);
        if (!vm || json_array_append_new(vms, vm) ||
            json_array_append_new(assertion, json_string(vm_id)) ||
            json_array_append_new(authn, json_string(vm_id))) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    /* The anchor account (SPEC §4): the secp256k1 key whose transactions carry the log's
     * checkpoints. A CAIP-10 account id needs a chain, so with anchor.chain_id = 0 (no chain
     * configured) the method is left out rather than naming a chain that does not exist. */
    if (id->anchor_address && id->chain_id != 0) {
        char addr[43], account[96];
        ca_eth_address_hex(addr, id->anchor_address);
        snprintf(account, sizeof account, "eip155:%llu:%s", (unsigned long long)id->chain_id,
                 addr);
        snprintf(vm_id, sizeof vm_id, "%s#anchor", id->did);
        json_t *vm = json_pack("{s:s, s:s, s:s, s:s}", "id", vm_id, "type",
                               "EcdsaSecp256k1RecoveryMethod2020", "controller", id->did,
                               "blockchainAccountId", account);
        if (!vm || json_array_append_new(vms, vm)) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    *out = doc;
    return CA_OK;
fail:
    json_decref(doc);
    return err;
}

/* ---- the did_cache table ----------------------------------------------------------------------- */

static uint64_t unix_now(void)
{
    return (uint64_t)time(NULL);
}

static ca_err cache_get(void *ctx, const char *did, char **doc, size_t *len)
{
    ca_resolver *r = ctx;
    *doc = NULL;
    *len = 0;
    size_t klen = strlen(did);
    if (klen > CACHE_KEY_MAX)
        return CA_ERR_NOT_FOUND;
    ca_store_txn *txn = NULL;
    ca_err err = ca_store_begin(r->store, &txn, false, NULL);
    if (err)
        return err;
    ca_store_val v;
    err = ca_store_get(txn, CA_TABLE_DID_CACHE, did, klen, &v);
    if (!err && (v.len < 8 || ca_store_u64_from(v.data) <= unix_now()))
        err = CA_ERR_NOT_FOUND; /* malformed or expired: fetch again */
    if (!err) {
        char *copy = malloc(v.len - 8 + 1);
        if (!copy) {
            err = CA_ERR_NOMEM;
        } else {
            memcpy(copy, (const char *)v.data + 8, v.len - 8);
            copy[v.len - 8] = '\0';
            *doc = copy;
            *len = v.len - 8;
        }
    }
    ca_store_abort(txn);
    return err;
}

typedef struct cache_put_arg {
    const char *did;
    size_t did_len;
    const char *doc;
    size_t len;
    uint64_t expiry;
} cache_put_arg;

static ca_err cache_put_fn(ca_store_txn *txn, void *arg, ca_errbuf *eb)
{
    cache_put_arg *a = arg;
    uint8_t *val = malloc(a->len + 8);
    if (!val)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_u64_key(val, a->expiry);
    memcpy(val + 8, a->doc, a->len);
    ca_err err = ca_store_put(txn, CA_TABLE_DID_CACHE, a->did, a->did_len, val, a->len + 8);
    free(val);
    return err;
}

static ca_err cache_put(void *ctx, const char *did, const char *doc, size_t len, uint64_t ttl)
{
    ca_resolver *r = ctx;
    cache_put_arg a = {did, strlen(did), doc, len, unix_now() + ttl};
    if (a.did_len > CACHE_KEY_MAX || ttl == 0)
        return CA_OK; /* not cached; not an error */
    ca_errbuf eb = {{0}};
    ca_err err = ca_store_write(r->store, cache_put_fn, &a, &eb);
    if (err) /* resolution still succeeds; the node log says why the cache did not */
        ca_node_log(CA_NODE_LOG_WARNING, NULL, "did cache: %s", ca_strerror(err));
    return err;
}

/* ---- life cycle ------------------------------------------------------------------------------- */

/* The did:web transport with the in-flight cap (struct ca_resolver). */
static ca_err capped_fetch(void *ctx, const char *url, char **body, size_t *body_len,
                           long *status, long *max_age, ca_errbuf *eb)
{
    ca_resolver *r = ctx;
    if (atomic_fetch_add(&r->inflight, 1) >= r->max_inflight) {
        atomic_fetch_sub(&r->inflight, 1);
        return ca_fail(eb, CA_ERR_NETWORK, "%u did:web fetches are already in progress; try "
                       "again later", r->max_inflight);
    }
    ca_err err = ca_did_web_curl_fetch(&r->curl, url, body, body_len, status, max_age, eb);
    atomic_fetch_sub(&r->inflight, 1);
    return err;
}

/* The other VC-JWT algorithms (SPEC §5) and the did:key type of each (RS256 has none). */
static const struct { ca_jws_alg alg; ca_key_type type; } jose[] = {
    {CA_ALG_ES256K, CA_KEYTYPE_SECP256K1},
    {CA_ALG_ES256, CA_KEYTYPE_P256},
    {CA_ALG_RS256, 0},
};
enum { NJOSE = sizeof jose / sizeof jose[0] };

/* The issuer keys the own document lists, gathered by ca_resolver_create. */
typedef struct own_keys {
    ca_issuer_key ikeys[CA_ISSUER_KEYS_MAX]; /* the Ed25519 keys, oldest first */
    size_t nkeys;
    ca_did_doc_key keys[CA_ISSUER_KEYS_MAX];
    json_t *ed_jwks[CA_ISSUER_KEYS_MAX];     /* the Ed25519 keys as JWKs (owned) */
    ca_issuer_jwk hist[NJOSE][CA_ISSUER_KEYS_MAX]; /* owned: ca_node_issuer_jwks_free */
    size_t nhist[NJOSE];
    ca_did_doc_jwk jwks[(NJOSE + 1) * CA_ISSUER_KEYS_MAX];
    char frags[(NJOSE + 1) * CA_ISSUER_KEYS_MAX][CA_ISSUER_FRAGMENT_MAX];
    size_t njwks;
} own_keys;

/* The node's did:key and every Ed25519 issuer key ever used (keys rotate --issuer), oldest
 * first, so "#key-n" ids stay put and credentials signed by an old key still verify; the
 * newest is last. */
static ca_err load_ed25519_keys(ca_resolver *r, ca_node *node, own_keys *k, ca_errbuf *eb)
{
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(node->issuer_key, pub);
    ca_err err = ca_did_key_encode(r->key_did, CA_KEYTYPE_ED25519, pub, sizeof pub, eb);
    if (err)
        return err;
    if (node->store) {
        if ((err = ca_node_issuer_keys(node->store, node->issuer_key, k->ikeys,
                                       CA_ISSUER_KEYS_MAX, &k->nkeys, eb)))
            return err;
    } else {
        memcpy(k->ikeys[0].pub, pub, sizeof pub);
        k->nkeys = 1;
    }
    for (size_t i = 0; i < k->nkeys; i++)
        k->keys[i] = (ca_did_doc_key){CA_KEYTYPE_ED25519, k->ikeys[i].pub, CA_ED25519_PUB_SIZE};
    return CA_OK;
}

/* The newest Ed25519 key signs both: eddsa-jcs-2022 proofs name its Multikey
 * "#key-<n>"; EdDSA VC-JWTs name its JsonWebKey "#eddsa-<n>", because a JWT kid must
 * dereference to a publicKeyJwk (OB 3.0 §8.2.3, §8.5; SPEC §5) and 1EdTech's
 * validator reads no other form. Every Ed25519 key ever used is listed both ways, so
 * what an old key signed still resolves. With a did:key issuer both name the
 * did:key's one method, which a resolver gives as a JsonWebKey when asked for
 * (did:key publicKeyFormat=JsonWebKey, SPEC §4). */
static void set_eddsa_ids(ca_resolver *r, size_t nkeys)
{
    snprintf(r->alg_did[CA_ALG_EDDSA], sizeof r->alg_did[0], "%s", r->web_did);
    snprintf(r->di_method, sizeof r->di_method, "%s#key-%zu", r->web_did, nkeys);
    snprintf(r->alg_kid[CA_ALG_EDDSA], sizeof r->alg_kid[0], "%s#%s-%zu", r->web_did,
             ED25519_JWK_FRAGMENT, nkeys);
    if (r->issuer_is_key) {
        snprintf(r->alg_did[CA_ALG_EDDSA], sizeof r->alg_did[0], "%s", r->key_did);
        snprintf(r->alg_kid[CA_ALG_EDDSA], sizeof r->alg_kid[0], "%s#%s", r->key_did,
                 r->key_did + strlen("did:key:"));
        snprintf(r->di_method, sizeof r->di_method, "%s", r->alg_kid[CA_ALG_EDDSA]);
    }
}

/* The Ed25519 keys as JsonWebKey methods "#eddsa-<n>", in the order of their Multikeys
 * "#key-<n>" (they come first among the JsonWebKey methods). */
static ca_err add_ed25519_jwks(own_keys *k, ca_errbuf *eb)
{
    for (size_t i = 0; i < k->nkeys; i++) {
        ca_err err = ca_ed25519_public_jwk(&k->ed_jwks[i], k->ikeys[i].pub, eb);
        if (err)
            return err;
        snprintf(k->frags[k->njwks], sizeof k->frags[0], "%s-%u", ED25519_JWK_FRAGMENT,
                 (unsigned)(i + 1)); /* i < CA_ISSUER_KEYS_MAX */
        k->jwks[k->njwks] = (ca_did_doc_jwk){k->frags[k->njwks], k->ed_jwks[i]};
        k->njwks++;
    }
    return CA_OK;
}

/* With a did:key issuer, the did and kid of JOSE alg j: the did:key of its newest key, or ""
 * (RS256 has no did:key form). */
static ca_err set_jose_did_key(ca_resolver *r, size_t j, const ca_signer *sg, ca_errbuf *eb)
{
    ca_jws_alg alg = jose[j].alg;
    r->alg_did[alg][0] = r->alg_kid[alg][0] = '\0';
    uint8_t raw[33];
    size_t raw_len = sizeof raw;
    char kd[CA_DID_TEXT_MAX];
    ca_err err = CA_OK;
    if (jose[j].type && !(err = ca_signer_public_raw(sg, raw, &raw_len, eb)) &&
        !(err = ca_did_key_encode(kd, jose[j].type, raw, raw_len, eb))) {
        snprintf(r->alg_did[alg], sizeof r->alg_did[0], "%s", kd);
        snprintf(r->alg_kid[alg], sizeof r->alg_kid[0], "%.512s#%.512s", kd,
                 kd + strlen("did:key:"));
    }
    return err;
}

/* The other VC-JWT algorithms (SPEC §5): JsonWebKey methods in the did:web document,
 * every key of each alg ever used oldest first ("#es256k-1", "#es256k-2", ...; the
 * newest signs); with a did:key issuer, the did:key of the newest key (RS256 has
 * none). */
static ca_err add_jose_keys(ca_resolver *r, ca_node *node, own_keys *k, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    for (size_t i = 0; i < NJOSE && !err; i++) {
        const ca_signer *sg = node->issuer_signers[jose[i].alg];
        const char *prefix = ca_node_issuer_fragment(jose[i].alg);
        if (!sg)
            continue;
        if (node->store) {
            if ((err = ca_node_issuer_jwks(node->store, jose[i].alg, sg, k->hist[i],
                                           CA_ISSUER_KEYS_MAX, &k->nhist[i], eb)))
                break;
        } else if ((err = ca_signer_public_jwk(&k->hist[i][0].jwk, sg, eb))) {
            break;
        } else {
            k->nhist[i] = 1;
        }
        for (size_t h = 0; h < k->nhist[i]; h++) {
            snprintf(k->frags[k->njwks], sizeof k->frags[0], "%s-%zu", prefix, h + 1);
            k->jwks[k->njwks] = (ca_did_doc_jwk){k->frags[k->njwks], k->hist[i][h].jwk};
            k->njwks++;
        }
        snprintf(r->alg_did[jose[i].alg], sizeof r->alg_did[0], "%s", r->web_did);
        snprintf(r->alg_kid[jose[i].alg], sizeof r->alg_kid[0], "%s#%s-%zu", r->web_did,
                 prefix, k->nhist[i]);
        if (r->issuer_is_key)
            err = set_jose_did_key(r, i, sg, eb);
    }
    return err;
}

/* The own did:web document (r->own_text) and the issuer ids per alg, from the node's issuer
 * keys. */
static ca_err build_own_document(ca_resolver *r, ca_node *node, const ca_config *cfg,
                                 ca_errbuf *eb)
{
    own_keys keys, *k = &keys;
    memset(k, 0, sizeof *k);
    ca_err err = load_ed25519_keys(r, node, k, eb);
    if (err)
        return err;
    set_eddsa_ids(r, k->nkeys);
    if (!(err = add_ed25519_jwks(k, eb)))
        err = add_jose_keys(r, node, k, eb);
    ca_did_own_identity id = {
        .did = r->web_did, .keys = k->keys, .nkeys = k->nkeys, .jwks = k->jwks,
        .njwks = k->njwks,
        .anchor_address = node->have_anchor_address ? node->anchor_address : NULL,
        .chain_id = cfg->anchor_chain_id};
    json_t *doc = NULL;
    if (!err)
        err = ca_did_own_document(&doc, &id, eb);
    for (size_t i = 0; i < NJOSE; i++)
        ca_node_issuer_jwks_free(k->hist[i], k->nhist[i]);
    for (size_t i = 0; i < k->nkeys; i++)
        json_decref(k->ed_jwks[i]);
    if (err)
        return err;
    r->own_text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!r->own_text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    r->own_len = strlen(r->own_text);
    return CA_OK;
}

/* The did:web transport: libcurl behind the in-flight cap. */
static ca_err setup_transport(ca_resolver *r, const ca_config *cfg, ca_errbuf *eb)
{
    /* curl_global_init is not thread-safe on every libcurl: do it here, before the HTTP
     * workers start, rather than on a worker's first did:web fetch. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ca_fail(eb, CA_ERR_NETWORK, "libcurl initialisation failed");
    snprintf(r->curl.ca_file, sizeof r->curl.ca_file, "%s", cfg->did_web_ca_file);
    snprintf(r->curl.allow_hosts, sizeof r->curl.allow_hosts, "%s", cfg->did_web_allow_hosts);
    r->curl.timeout_seconds = (long)cfg->did_web_timeout;
    r->curl.max_body = WEB_MAX_BODY;
    r->transport.fetch = capped_fetch;
    r->transport.ctx = r;
    r->max_inflight = CA_RESOLVER_MAX_FETCHES;
    return CA_OK;
}

/* The did_cache table, when the node has a store and did.cache_ttl > 0. */
static void setup_cache(ca_resolver *r, const ca_resolver_options *opts)
{
    const ca_config *cfg = opts->cfg;
    ca_node *node = opts->node;
    if (!node || !node->store || cfg->did_cache_ttl == 0)
        return;
    r->store = node->store;
    r->cache_writes = opts->cache_writes;
    r->cache.get = cache_get;
    r->cache.put = opts->cache_writes ? cache_put : NULL;
    r->cache.ctx = r;
    r->cache.max_ttl = cfg->did_cache_ttl;
    r->cache.min_ttl = cfg->did_cache_ttl < CA_RESOLVER_MIN_TTL ? cfg->did_cache_ttl
                                                                 : CA_RESOLVER_MIN_TTL;
}

ca_err ca_resolver_create(ca_resolver **out, const ca_resolver_options *opts, ca_errbuf *eb)
{
    CA_ASSERT(out && opts && opts->cfg);
    *out = NULL;
    const ca_config *cfg = opts->cfg;
    bool is_key = strcmp(cfg->did_issuer_method, "key") == 0;
    if (!is_key && strcmp(cfg->did_issuer_method, "web") != 0)
        return ca_fail(eb, CA_ERR_CONFIG, "config: did.issuer_method: must be web or key");
    ca_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    r->cfg = *cfg;
    r->issuer_is_key = is_key;
    ca_err err = ca_did_web_from_url(r->web_did, sizeof r->web_did, cfg->node_public_url, eb);
    if (err)
        goto fail;
    if (opts->node && opts->node->issuer_key &&
        (err = build_own_document(r, opts->node, cfg, eb)))
        goto fail;
    if ((err = setup_transport(r, cfg, eb)))
        goto fail;
    setup_cache(r, opts);
    *out = r;
    return CA_OK;
fail:
    free(r->own_text);
    free(r);
    return err;
}

void ca_resolver_free(ca_resolver *r)
{
    if (!r)
        return;
    free(r->own_text);
    free(r);
    curl_global_cleanup();
}

const char *ca_resolver_issuer_did(const ca_resolver *r)
{
    return r->issuer_is_key ? r->key_did : r->web_did;
}

const char *ca_resolver_issuer_did_for(const ca_resolver *r, int alg)
{
    return alg >= CA_ALG_EDDSA && alg <= CA_ALG_RS256 ? r->alg_did[alg] : "";
}

const char *ca_resolver_issuer_kid(const ca_resolver *r, int alg)
{
    return alg >= CA_ALG_EDDSA && alg <= CA_ALG_RS256 ? r->alg_kid[alg] : "";
}

const char *ca_resolver_issuer_di_method(const ca_resolver *r)
{
    return r->di_method;
}

const char *ca_resolver_web_did(const ca_resolver *r)
{
    return r->web_did;
}

const char *ca_resolver_own_document(const ca_resolver *r, size_t *len)
{
    if (len)
        *len = r->own_len;
    return r->own_text;
}

/* ---- resolution ---------------------------------------------------------------------------- */

/* Up to 64 printable ASCII characters of s for a detail, "..." when cut. */
static const char *shown(char out[80], const char *s)
{
    size_t o = 0;
    for (; *s && o < 64; s++)
        out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

ca_did_error ca_resolver_resolve(ca_resolver *r, ca_did_result *res, const char *did,
                                 const ca_did_options *opts)
{
    CA_ASSERT(r && res && did && opts);
    char buf[80];
    size_t len = strnlen(did, CA_DID_TEXT_MAX + 1);
    if (len > CA_DID_TEXT_MAX)
        return ca_did_fail(res, CA_DID_INVALID_DID, "the DID is longer than %d characters",
                           CA_DID_TEXT_MAX);
    if (!ca_did_syntax_ok(did))
        return ca_did_fail(res, CA_DID_INVALID_DID, "\"%s\" is not a DID (DID Core 3.1: "
                           "did:<method>:<method-specific-id>)", shown(buf, did));
    ca_did_method method = ca_did_method_of(did, len); /* did/did_methods.c */
    if (method == CA_DID_METHOD_WEB) {
        if (r->own_text && strcmp(did, r->web_did) == 0) {
            json_t *doc = json_loadb(r->own_text, r->own_len, 0, NULL);
            if (!doc)
                return ca_did_fail(res, CA_DID_INTERNAL_ERROR, "out of memory");
            json_decref(res->document);
            res->document = doc;
            snprintf(res->content_type, sizeof res->content_type, "application/did+ld+json");
            res->error = CA_DID_OK;
            return CA_DID_OK;
        }
        return ca_did_web_resolve(res, did, opts, &r->transport, &r->cache);
    }
    if (method == CA_DID_METHOD_KEY)
        return ca_did_key_resolve(res, did, opts);
    size_t m = strcspn(did + 4, ":");
    return ca_did_fail(res, CA_DID_METHOD_NOT_SUPPORTED,
                       "did:%.*s is not supported (this resolver supports did:key and did:web)",
                       (int)(m > 32 ? 32 : m), did + 4);
}
