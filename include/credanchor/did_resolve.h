/*
 * DID resolution (SPEC §4): did:key (did:key method spec v0.9) and did:web (did:web method
 * spec), producing W3C DID Resolution results. did/ holds no HTTP-server or LMDB code: did:web
 * fetches through an injected transport and caches through an injected cache, so unit tests
 * need neither network nor store. Conventions: common.h; JSON values are jansson's json_t
 * (the caller owns what a function returns and json_decref's it).
 */
#ifndef CREDANCHOR_DID_RESOLVE_H
#define CREDANCHOR_DID_RESOLVE_H

#include "credanchor/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DID_TEXT_MAX 2048 /* longest DID accepted */

/* W3C DID Resolution error codes (SPEC §4 maps each to an HTTP status). */
typedef enum ca_did_error {
    CA_DID_OK = 0,
    CA_DID_INVALID_DID,                    /* INVALID_DID: 400 */
    CA_DID_INVALID_DID_URL,                /* INVALID_DID_URL: 400 */
    CA_DID_INVALID_OPTIONS,                /* INVALID_OPTIONS: 400 */
    CA_DID_NOT_FOUND,                      /* NOT_FOUND: 404 */
    CA_DID_REPRESENTATION_NOT_SUPPORTED,   /* REPRESENTATION_NOT_SUPPORTED: 406 */
    CA_DID_DEACTIVATED,                    /* deactivated: 410 */
    CA_DID_INVALID_DID_DOCUMENT,           /* INVALID_DID_DOCUMENT: 500 */
    CA_DID_INTERNAL_ERROR,                 /* INTERNAL_ERROR: 500 */
    CA_DID_METHOD_NOT_SUPPORTED,           /* METHOD_NOT_SUPPORTED: 501 */
    CA_DID_FEATURE_NOT_SUPPORTED,          /* FEATURE_NOT_SUPPORTED: 501 */
} ca_did_error;

/* "INVALID_DID", ... as in the error type URL https://www.w3.org/ns/did#<CODE>. */
const char *ca_did_error_code(ca_did_error e);
/* The HTTP status SPEC §4 maps the error to (200 for CA_DID_OK). */
int ca_did_error_status(ca_did_error e);

typedef enum ca_did_key_format {
    CA_DID_FORMAT_MULTIKEY = 0, /* default */
    CA_DID_FORMAT_JSON_WEB_KEY,
} ca_did_key_format;

typedef struct ca_did_options {
    ca_did_key_format format;               /* ?publicKeyFormat= */
    bool enable_encryption_key_derivation;  /* ?enableEncryptionKeyDerivation=true */
    bool no_cache;                          /* ?noCache=true (did:web) */
} ca_did_options;

/* A resolution result. On success `document` is the DID document; on failure it is NULL and
 * `error` / `detail` say why (for did:key method errors detail starts with the method's own
 * name, e.g. "invalidPublicKeyLength: ..."). `document_metadata` is always an object (may be
 * empty); `content_type` is the document's media type ("application/did+ld+json" or
 * "application/did+json"). */
typedef struct ca_did_result {
    ca_did_error error;
    char detail[512];
    json_t *document;
    json_t *document_metadata;
    char content_type[64];
    bool from_cache; /* did:web: answered from the cache */
} ca_did_result;

void ca_did_result_init(ca_did_result *r);
/* Empties a result for reuse: decrefs, then re-inits (so it holds a fresh empty
 * document_metadata that ca_did_result_free must release). */
void ca_did_result_clear(ca_did_result *r);
/* Releases everything a result holds; the result is not usable afterwards. */
void ca_did_result_free(ca_did_result *r);
/* Sets error and a printf-style detail; returns the error. */
ca_did_error ca_did_fail(ca_did_result *r, ca_did_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- did:key (did/did_key.c) ---- */

/* The key types of did:key v0.9, by multicodec. */
typedef enum ca_key_type {
    CA_KEYTYPE_ED25519 = 0xed,    /* ed25519-pub */
    CA_KEYTYPE_X25519 = 0xec,     /* x25519-pub */
    CA_KEYTYPE_SECP256K1 = 0xe7,  /* secp256k1-pub (compressed) */
    CA_KEYTYPE_P256 = 0x1200,     /* p256-pub (compressed) */
    CA_KEYTYPE_P384 = 0x1201,     /* p384-pub (compressed) */
} ca_key_type;

/* Resolves a did:key DID. Method errors are CA_DID_INVALID_DID with detail
 * "invalidDid: ...", "invalidPublicKeyLength: ...", "invalidPublicKey: ..." or
 * "unsupportedPublicKeyType: ...". Returns r->error. */
ca_did_error ca_did_key_resolve(ca_did_result *r, const char *did, const ca_did_options *opts);

/* The did:key DID (z-base58btc multibase of varint(codec) || key) for a public key in its
 * compressed form (33 bytes for secp256k1/P-256, 49 for P-384, 32 for Ed25519/X25519).
 * out must hold CA_DID_TEXT_MAX bytes. */
ca_err ca_did_key_encode(char *out, ca_key_type type, const uint8_t *pub, size_t pub_len,
                         ca_errbuf *eb);

/* ---- did:web (did/did_web.c) ---- */

/* Fetches an https:// URL for did:web. The transport applies every network guard; it fills
 * body (malloc'd, caller frees), its length, the HTTP status and the Cache-Control max-age
 * (-1 when absent). Returns CA_OK when an HTTP answer arrived (any status), CA_ERR_NETWORK
 * (or another code) with eb when none did. */
typedef struct ca_did_web_transport {
    ca_err (*fetch)(void *ctx, const char *url, char **body, size_t *body_len, long *status,
                    long *max_age, ca_errbuf *eb);
    void *ctx;
} ca_did_web_transport;

/* A cache of resolved did:web documents (the node's implementation is in LMDB). get returns
 * CA_OK with the stored document text (malloc'd) when an unexpired entry exists; put stores
 * one for ttl seconds. Either may be NULL (no cache). */
typedef struct ca_did_web_cache {
    ca_err (*get)(void *ctx, const char *did, char **doc, size_t *len);
    ca_err (*put)(void *ctx, const char *did, const char *doc, size_t len, uint64_t ttl);
    void *ctx;
    uint64_t min_ttl, max_ttl; /* bounds on a document's Cache-Control max-age */
} ca_did_web_cache;

/* The https URL of a did:web DID (":" -> "/", "%3A" -> ":" port, "/.well-known" when there is
 * no path, then "/did.json"). CA_ERR_INVALID for a DID that is not a valid did:web (including
 * an IP-literal host). out holds CA_DID_TEXT_MAX + 64 bytes. */
ca_err ca_did_web_url(char *out, size_t cap, const char *did, ca_errbuf *eb);

/* Resolves a did:web DID: builds the URL, consults the cache (unless opts->no_cache), fetches
 * through t, checks the document (JSON object, `id` equal to the DID, size cap), caches it.
 * 404/410 from the host -> NOT_FOUND; a transport failure -> NOT_FOUND with detail (the host
 * could not be reached); an `id` mismatch or unparsable document -> INVALID_DID_DOCUMENT. */
ca_did_error ca_did_web_resolve(ca_did_result *r, const char *did, const ca_did_options *opts,
                                const ca_did_web_transport *t, const ca_did_web_cache *cache);

/* The libcurl transport with the SPEC §4 guards: HTTPS only, certificate verification always
 * on (plus ca_file when not NULL/empty), no IP literals, no redirect off the host, a 1 MiB
 * body cap, connect and total timeouts, and no connection to loopback, private or link-local
 * addresses, checked on the address actually connected to, unless the host[:port] is in
 * allow_hosts (comma-separated). */
typedef struct ca_did_web_curl {
    char ca_file[1024];
    char allow_hosts[1024];
    long timeout_seconds;
    size_t max_body;
} ca_did_web_curl;
ca_err ca_did_web_curl_fetch(void *ctx /* ca_did_web_curl */, const char *url, char **body,
                             size_t *body_len, long *status, long *max_age, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
