/*
 * The node's DID resolver (SPEC §4): one entry point for the HTTP route
 * (GET /1.0/identifiers/{did}, node/routes_did.c) and `credanchor resolve` (node/cli_resolve.c).
 *
 *  - The node's own DIDs resolve from local state, never over the network: its did:web
 *    (ca_did_web_from_url(node.public_url)) gives the document ca_did_own_document builds
 *    from the issuer key(s) and the anchor account; its did:key (did.issuer_method = key) is a
 *    plain did:key and resolves as every did:key does (the method derives the document from
 *    the key alone, so an anchor entry cannot be added to it; the did:web document carries it).
 *  - did:key -> ca_did_key_resolve (no I/O).
 *  - did:web -> ca_did_web_resolve through the libcurl transport (did.web_ca_file,
 *    did.web_allow_hosts, did.web_timeout, a 1 MiB cap) and a cache in the store's did_cache
 *    table (value: u64 BE expiry || document), each document kept for its Cache-Control
 *    max-age bounded to [min(60 s, did.cache_ttl), did.cache_ttl]; did.cache_ttl = 0 turns
 *    the cache off.
 *  - Any other method -> METHOD_NOT_SUPPORTED; text that is not a DID -> INVALID_DID.
 *
 * A resolver is safe to use from many threads at once (the HTTP workers). Conventions:
 * common.h; JSON values are jansson's (the caller owns what a function returns).
 */
#ifndef CREDANCHOR_RESOLVER_H
#define CREDANCHOR_RESOLVER_H

#include "credanchor/common.h"
#include "node/config.h"
#include "credanchor/did_resolve.h"
#include "node/node.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_RESOLVER_MIN_TTL 60 /* seconds: the shortest a did:web document is cached */
#define CA_RESOLVER_MAX_FETCHES 16 /* did:web fetches in flight at once; more fail at once */

/* ---- the node's own DID document ---------------------------------------------------------- */

/* One issuer key of the own document: listed as "<did>#key-<n>" (n from 1, in list order),
 * type Multikey, publicKeyMultibase = the key's did:key multibase value. */
typedef struct ca_did_doc_key {
    ca_key_type type;
    const uint8_t *pub; /* compressed form, as ca_did_key_encode takes it */
    size_t pub_len;
} ca_did_doc_key;

/* One issuer key listed as a JsonWebKey method "<did>#<fragment>" (the VC-JWT keys, which
 * jose-style verifiers import from publicKeyJwk: the Ed25519 keys again as "#eddsa-<n>", and
 * the ES256K, ES256 and RS256 keys; every key of each alg ever used, "#es256k-1",
 * "#es256k-2", ...). */
typedef struct ca_did_doc_jwk {
    const char *fragment;          /* "es256k-1" */
    const json_t *jwk;             /* public JWK (borrowed) */
} ca_did_doc_jwk;

typedef struct ca_did_own_identity {
    const char *did;               /* the did:web of node.public_url */
    const ca_did_doc_key *keys;    /* the issuer keys, oldest first (the current key last,
                                    * so "#key-n" never changes); nkeys >= 1 */
    size_t nkeys;
    const ca_did_doc_jwk *jwks;    /* further issuer keys as JsonWebKey methods (may be 0) */
    size_t njwks;
    const uint8_t *anchor_address; /* 20 bytes, or NULL: no anchor method */
    uint64_t chain_id;             /* anchor.chain_id; 0 (no chain configured): no anchor
                                    * method, since blockchainAccountId needs a chain */
} ca_did_own_identity;

/* Builds the own document: @context (DID v1, Multikey v1, secp256k1recovery-2020 v2), id,
 * verificationMethod (the keys, then "<did>#anchor", EcdsaSecp256k1RecoveryMethod2020 with
 * blockchainAccountId "eip155:<chain_id>:0x<address>"), assertionMethod and authentication
 * (every key). Every key is listed in both; the anchor account in neither (it signs anchor
 * transactions, not credentials). *doc is NULL on failure. */
ca_err ca_did_own_document(json_t **doc, const ca_did_own_identity *id, ca_errbuf *eb);

/* ---- the resolver ---------------------------------------------------------------------------- */

typedef struct ca_resolver ca_resolver; /* opaque */

typedef struct ca_resolver_options {
    const ca_config *cfg;   /* copied */
    /* The opened node (borrowed; outlives the resolver) or NULL when there is no data dir:
     * then only did:key resolves, and did:web goes to the network without a cache. With a
     * node, its issuer_key (CA_NODE_ISSUER_KEY) and anchor address (CA_NODE_ANCHOR_ADDRESS)
     * make the own document; without the issuer key the own did:web is not served locally. */
    ca_node *node;
    /* Write fetched did:web documents to the did_cache table. Needs a store opened for
     * writing (serve: CA_NODE_WRITE; beside a serving node: CA_NODE_ADMIN_WRITE). When false
     * the cache is read only. */
    bool cache_writes;
} ca_resolver_options;

/* CA_ERR_CONFIG for a bad did.issuer_method, CA_ERR_INVALID for a public_url without a
 * did:web. */
ca_err ca_resolver_create(ca_resolver **r, const ca_resolver_options *opts, ca_errbuf *eb);
void ca_resolver_free(ca_resolver *r);

/* The node's issuer DID: its did:web, or its did:key with did.issuer_method = key ("" when
 * the issuer key was not loaded and the method is key). */
const char *ca_resolver_issuer_did(const ca_resolver *r);
/* The issuer DID that signs with alg (SPEC §5): the did:web for every alg; with
 * did.issuer_method = key, the did:key of that alg's key (Ed25519 for EdDSA, secp256k1 for
 * ES256K, P-256 for ES256), and "" for RS256, which has no did:key form. "" also when the
 * alg's key was not loaded. */
const char *ca_resolver_issuer_did_for(const ca_resolver *r, int alg /* ca_jws_alg */);
/* The VC-JWT kid for alg, always a JsonWebKey method (SPEC §5): "<did:web>#eddsa-<n>" (the
 * current Ed25519 key) or "#es256k-<n>" / "#es256-<n>" / "#rs256-<n>" (the current key of
 * that alg: n is 1 until the first `keys rotate --issuer`); for a did:key issuer
 * "<did:key>#<multibase>". "" as above. */
const char *ca_resolver_issuer_kid(const ca_resolver *r, int alg /* ca_jws_alg */);
/* The verificationMethod of eddsa-jcs-2022 proofs: the current Ed25519 key's Multikey,
 * "<did:web>#key-<n>", or "<did:key>#<multibase>" for a did:key issuer; "" without an
 * issuer key. */
const char *ca_resolver_issuer_di_method(const ca_resolver *r);

/* The node's did:web (of node.public_url). */
const char *ca_resolver_web_did(const ca_resolver *r);

/* The own did:web document as compact JSON text (what /.well-known/did.json serves), or NULL
 * when the resolver has no issuer key. Valid for the resolver's life. */
const char *ca_resolver_own_document(const ca_resolver *r, size_t *len);

/* Resolves did (NUL-terminated text, already percent-decoded by the caller where the
 * transport needed it) into res (ca_did_result_init'ed by the caller; cleared by it after).
 * Returns res->error. */
ca_did_error ca_resolver_resolve(ca_resolver *r, ca_did_result *res, const char *did,
                                 const ca_did_options *opts);

/* True when text has the generic DID syntax of DID Core §3.1 (no path, query or fragment):
 *   did = "did:" method-name ":" method-specific-id;  method-name = 1*( %x61-7A / DIGIT )
 *   method-specific-id = *( *idchar ":" ) 1*idchar;  idchar = ALPHA / DIGIT / "." / "-" /
 *   "_" / pct-encoded */
bool ca_did_syntax_ok(const char *text);

/* ---- resolution results as JSON (W3C DID Resolution) --------------------------------------- */

/* A short English title for an error ("Invalid DID"). */
const char *ca_did_error_title(ca_did_error e);

/* The RFC 9457 error object of a failed result:
 * {"type":"https://www.w3.org/ns/did#<CODE>","title","status","detail"}. */
json_t *ca_did_error_object(ca_did_error e, const char *detail);

/* The resolution result {"didDocument","didResolutionMetadata","didDocumentMetadata"}:
 * on success the metadata holds {"contentType"}, on failure {"error": <error object>} and the
 * document is null. Takes references of its own (res is not modified). NULL on OOM. */
json_t *ca_did_result_json(const ca_did_result *res);

/* ---- HTTP routes (node/routes_did.c) ------------------------------------------------------- */

struct ca_http_server;

/* Registers GET /1.0/identifiers/{did} and GET /.well-known/did.json (public, rate limited
 * like every public route) on srv, answering through r (borrowed; outlives the server).
 * Call before ca_http_start. */
ca_err ca_did_routes_register(struct ca_http_server *srv, ca_resolver *r, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
