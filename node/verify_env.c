/* node/verify_env.c — where a verification's lookups go (node/verify_env.h). */
#include "node/verify_env.h"

#include "credanchor/did.h"
#include "credanchor/encoding.h"
#include "node/fetch.h"
#include "node/log.h"
#include "credanchor/json_fields.h"
#include "credanchor/proof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOC_MAX (1u << 20)      /* DID documents, status lists, proofs (SPEC §4 body cap) */

/* ---- shared ------------------------------------------------------------------------------- */

static ca_err resolve_with(ca_resolver *r, const char *did, json_t **doc, ca_errbuf *eb)
{
    ca_did_result res;
    ca_did_result_init(&res);
    ca_did_options o = {.format = CA_DID_FORMAT_MULTIKEY};
    ca_did_error e = ca_resolver_resolve(r, &res, did, &o);
    ca_err err = CA_OK;
    if (e == CA_DID_OK)
        *doc = json_incref(res.document);
    else
        err = ca_fail(eb, e == CA_DID_NOT_FOUND ? CA_ERR_NOT_FOUND : CA_ERR_VERIFY,
                      "cannot resolve %s: %s: %s", did, ca_did_error_code(e), res.detail);
    ca_did_result_free(&res);
    return err;
}

static ca_err parse_keys(const json_t *keys, ca_note_verifier *v, size_t *n, ca_errbuf *eb)
{
    size_t i;
    const json_t *k;
    *n = 0;
    json_array_foreach(keys, i, k) {
        const char *text = ca_json_str(k, "key");
        if (!text || *n == CA_VERIFY_LOG_KEYS_MAX)
            return ca_fail(eb, CA_ERR_INVALID, "malformed log key list");
        ca_err err = ca_verifier_key_parse(&v[*n], text, strlen(text), eb);
        if (err)
            return err;
        (*n)++;
    }
    return *n ? CA_OK : ca_fail(eb, CA_ERR_INVALID, "the log lists no keys");
}

/* min_confirmations 0 in ca_anchor_check: the verifier reports too few confirmations as
 * pending rather than failed (credential/verify.c). */
static ca_err chain_check(const char *rpc_url, const json_t *record, uint64_t tree_size,
                          const ca_hash *root, const uint8_t from[CA_ETH_ADDRESS_SIZE],
                          ca_anchor_report *report, ca_errbuf *eb)
{
    ca_rpc_curl curl_cfg;
    ca_rpc_curl_defaults(&curl_cfg);
    ca_rpc_transport t = {.post = ca_rpc_curl_post, .ctx = &curl_cfg};
    ca_rpc rpc;
    ca_err err = ca_rpc_init(&rpc, rpc_url, &t, eb);
    if (err)
        return err;
    return ca_anchor_check(report, record, tree_size, root, from, 0, &rpc, eb);
}

/* ---- local: inside the node ------------------------------------------------------------------ */

static ca_err local_resolve(void *ctx, const char *did, json_t **doc, ca_errbuf *eb)
{
    return resolve_with(((ca_verify_local *)ctx)->resolver, did, doc, eb);
}

static ca_err local_fetch(void *ctx, const char *url, char **body, size_t *len, ca_errbuf *eb)
{
    ca_verify_local *l = ctx;
    size_t blen = strlen(l->status_base);
    /* SPEC §4: the node reads its own status lists from local state; it fetches nothing else
     * (a credential it issued names only its own lists). */
    if (strncmp(url, l->status_base, blen) != 0 || !url[blen])
        return ca_fail(eb, CA_ERR_NOT_FOUND, "%s is not one of this node's status lists", url);
    char *end;
    unsigned long id = strtoul(url + blen, &end, 10);
    if (*end || id == 0 || id > UINT32_MAX)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "%s is not one of this node's status lists", url);
    ca_status_list_version v;
    ca_err err = ca_issuer_status_list(l->issuer, (uint32_t)id, 0, &v, eb);
    if (err)
        return err;
    *body = v.body;
    *len = v.len;
    return CA_OK;
}

static ca_err local_proof(void *ctx, const char *digest_hex, char **body, size_t *len,
                          ca_errbuf *eb)
{
    ca_verify_local *l = ctx;
    ca_hash d;
    ca_err err = ca_hash_from_hex(&d, digest_hex, strlen(digest_hex));
    if (err)
        return ca_fail(eb, err, "bad digest");
    if ((err = ca_proof_build_anchored(body, l->node->log, l->node->store, &d, 0, eb)))
        return err;
    *len = strlen(*body);
    return CA_OK;
}

static ca_err local_keys(void *ctx, ca_note_verifier *v, size_t *n, ca_errbuf *eb)
{
    ca_verify_local *l = ctx;
    ca_log_key_span spans[CA_LOG_KEYS_MAX];
    size_t ns = 0;
    ca_err err = ca_log_key_history(l->node->log, spans, CA_LOG_KEYS_MAX, &ns, eb);
    *n = 0;
    for (size_t i = 0; !err && i < ns && *n < CA_VERIFY_LOG_KEYS_MAX; i++)
        if (!(err = ca_verifier_key_parse(&v[*n], spans[i].key, strlen(spans[i].key), eb)))
            (*n)++;
    return err;
}

/* SPEC §5's public /verification reads the anchor transaction over anchor.rpc_url on behalf
 * of anyone who asks, so a slow or stalled provider must not hold the request for the RPC
 * client's usual 20 s x 3 attempts per call (issue #13 item 2): the whole on-chain check (five
 * calls) gets LOCAL_ANCHOR_BUDGET_MS, each call what is left of it, and no retries. Past the
 * budget the call fails as a network error, which credential/verify.c reports as "cannot
 * check the anchor on chain now" (the same code path as `credanchor verify`). */
#define LOCAL_ANCHOR_BUDGET_MS 3000
#define LOCAL_ANCHOR_CONNECT_MS 1000

typedef struct budgeted_rpc {
    ca_rpc_curl curl;
    struct timespec deadline; /* CLOCK_MONOTONIC */
} budgeted_rpc;

static ca_err budgeted_post(void *ctx, const char *url, const char *body, size_t len,
                            char **resp, size_t *resp_len, long *http_status, ca_errbuf *eb)
{
    budgeted_rpc *b = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left_ms = (long)(b->deadline.tv_sec - now.tv_sec) * 1000 +
                   (b->deadline.tv_nsec - now.tv_nsec) / 1000000;
    if (left_ms <= 0)
        return ca_fail(eb, CA_ERR_NETWORK, "no answer from the RPC endpoint within %d ms",
                       LOCAL_ANCHOR_BUDGET_MS);
    b->curl.timeout_ms = left_ms;
    b->curl.connect_timeout_ms = left_ms < LOCAL_ANCHOR_CONNECT_MS ? left_ms
                                                                   : LOCAL_ANCHOR_CONNECT_MS;
    return ca_rpc_curl_post(&b->curl, url, body, len, resp, resp_len, http_status, eb);
}

/* The anchor step inside the node: a final anchor that passed before is answered from the
 * memo (node->anchor_checks, anchor_check.h) without any RPC call; otherwise the budgeted
 * check, remembered when it passes for a final record deep enough. */
static ca_err local_anchor(void *ctx, const json_t *record, uint64_t tree_size,
                           const ca_hash *root, const uint8_t from[CA_ETH_ADDRESS_SIZE],
                           ca_anchor_report *report, ca_errbuf *eb)
{
    ca_verify_local *l = ctx;
    ca_anchor_check_cache *memo = l->node->anchor_checks;
    ca_anchor_claim claim;
    ca_errbuf ignored = {{0}};
    if (memo && ca_anchor_claim_parse(&claim, record, &ignored) == CA_OK &&
        claim.tree_size == tree_size && memcmp(claim.root.b, root->b, CA_HASH_SIZE) == 0 &&
        ca_anchor_check_cache_get(memo, report, &claim, from))
        return CA_OK;

    budgeted_rpc b;
    ca_rpc_curl_defaults(&b.curl);
    clock_gettime(CLOCK_MONOTONIC, &b.deadline);
    b.deadline.tv_sec += LOCAL_ANCHOR_BUDGET_MS / 1000;
    b.deadline.tv_nsec += (LOCAL_ANCHOR_BUDGET_MS % 1000) * 1000000L;
    if (b.deadline.tv_nsec >= 1000000000L) {
        b.deadline.tv_sec++;
        b.deadline.tv_nsec -= 1000000000L;
    }
    ca_rpc_transport t = {.post = budgeted_post, .ctx = &b};
    ca_rpc rpc;
    ca_err err = ca_rpc_init(&rpc, l->node->cfg.anchor_rpc_url, &t, eb);
    if (err)
        return err;
    rpc.max_attempts = 1; /* a retry would only spend the budget on backoff */
    err = ca_anchor_check(report, record, tree_size, root, from, 0, &rpc, eb);
    if (!err && report->confirmations >= l->node->cfg.anchor_confirmations)
        ca_anchor_check_cache_put(memo, report, from);
    return err;
}

static ca_err local_account(void *ctx, uint64_t chain_id, uint8_t addr[CA_ETH_ADDRESS_SIZE],
                            ca_errbuf *eb)
{
    ca_verify_local *l = ctx;
    if (!l->node->have_anchor_address || chain_id != l->node->cfg.anchor_chain_id)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no anchor account for chain eip155:%llu",
                       (unsigned long long)chain_id);
    memcpy(addr, l->node->anchor_address, CA_ETH_ADDRESS_SIZE);
    return CA_OK;
}

void ca_verify_local_env(ca_verify_env *env, ca_verify_local *ctx, ca_node *node,
                         ca_resolver *resolver, ca_issuer *issuer)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->node = node;
    ctx->resolver = resolver;
    ctx->issuer = issuer;
    size_t ulen = strlen(node->cfg.node_public_url);
    while (ulen && node->cfg.node_public_url[ulen - 1] == '/')
        ulen--;
    snprintf(ctx->status_base, sizeof ctx->status_base, "%.*s/v1/status/", (int)ulen,
             node->cfg.node_public_url);
    *env = (ca_verify_env){
        .ctx = ctx,
        .resolve_did = local_resolve,
        .fetch_url = local_fetch,
        .fetch_proof = local_proof,
        .log_keys = local_keys,
        .check_anchor = node->cfg.anchor_rpc_url[0] ? local_anchor : NULL,
        .anchor_account = local_account,
        .now = (int64_t)time(NULL),
        .min_confirmations = node->cfg.anchor_confirmations,
    };
}

/* ---- remote: a verifier's machine ------------------------------------------------------------ */

/* The scheme://host[:port] part of a URL (no trailing slash). */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

/* GETs a URL: plainly when it is at the node the user named, through the did:web guards
 * otherwise (HTTPS, verified TLS, no private addresses unless allowed, capped). */
static ca_err remote_get(ca_verify_remote *r, const char *url, char **body, size_t *len,
                         ca_errbuf *eb)
{
    size_t o = origin_len(r->node_url);
    if (r->node_trusted && o && origin_len(url) == o && strncmp(url, r->node_url, o) == 0)
        return ca_fetch(body, len, url, DOC_MAX, NULL, eb);
    long status = 0, max_age = -1;
    ca_err err = ca_did_web_curl_fetch(&r->curl, url, body, len, &status, &max_age, eb);
    if (err)
        return err;
    if (status != 200) {
        free(*body);
        *body = NULL;
        return ca_fail(eb, status == 404 ? CA_ERR_NOT_FOUND : CA_ERR_NETWORK,
                       "%s: HTTP status %ld", url, status);
    }
    return CA_OK;
}

static ca_err remote_resolve(void *ctx, const char *did, json_t **doc, ca_errbuf *eb)
{
    ca_verify_remote *r = ctx;
    if (r->node_url[0] && r->node_trusted &&
        ca_did_method_of(did, strlen(did)) != CA_DID_METHOD_KEY) {
        /* The named node's Universal Resolver endpoint (SPEC §4). */
        char url[2048 + CA_DID_TEXT_MAX], *body = NULL;
        size_t len;
        snprintf(url, sizeof url, "%s/1.0/identifiers/%s", r->node_url, did);
        ca_err err = ca_fetch(&body, &len, url, DOC_MAX, NULL, eb);
        if (err)
            return err;
        json_t *res = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        free(body);
        json_t *d = json_object_get(res, "didDocument");
        if (!json_is_object(d)) {
            json_decref(res);
            return ca_fail(eb, CA_ERR_VERIFY, "%s: no didDocument in the resolution result",
                           url);
        }
        *doc = json_incref(d);
        json_decref(res);
        return CA_OK;
    }
    return resolve_with(r->resolver, did, doc, eb);
}

static ca_err remote_fetch(void *ctx, const char *url, char **body, size_t *len, ca_errbuf *eb)
{
    return remote_get(ctx, url, body, len, eb);
}

static ca_err remote_proof(void *ctx, const char *digest_hex, char **body, size_t *len,
                           ca_errbuf *eb)
{
    ca_verify_remote *r = ctx;
    if (!r->node_url[0])
        return ca_fail(eb, CA_ERR_NETWORK, "no node URL to fetch the inclusion proof from "
                       "(give --node URL)");
    char url[2048];
    snprintf(url, sizeof url, "%s/v1/log/proof?digest=%s", r->node_url, digest_hex);
    return remote_get(r, url, body, len, eb);
}

static ca_err remote_keys(void *ctx, ca_note_verifier *v, size_t *n, ca_errbuf *eb)
{
    ca_verify_remote *r = ctx;
    if (!r->node_url[0])
        return ca_fail(eb, CA_ERR_NETWORK, "no node URL to fetch the log keys from");
    char url[2048], *body = NULL;
    size_t len;
    snprintf(url, sizeof url, "%s/v1/log/keys", r->node_url);
    ca_err err = remote_get(r, url, &body, &len, eb);
    if (err)
        return err;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    free(body);
    err = parse_keys(json_object_get(o, "keys"), v, n, eb);
    json_decref(o);
    return err;
}

static ca_err remote_anchor(void *ctx, const json_t *record, uint64_t tree_size,
                            const ca_hash *root, const uint8_t from[CA_ETH_ADDRESS_SIZE],
                            ca_anchor_report *report, ca_errbuf *eb)
{
    ca_verify_remote *r = ctx;
    return chain_check(r->rpc_url, record, tree_size, root, from, report, eb);
}

static ca_err remote_account(void *ctx, uint64_t chain_id, uint8_t addr[CA_ETH_ADDRESS_SIZE],
                             ca_errbuf *eb)
{
    ca_verify_remote *r = ctx;
    if (r->have_anchor_address) {
        memcpy(addr, r->anchor_address, CA_ETH_ADDRESS_SIZE);
        return CA_OK;
    }
    if (!r->node_url[0])
        return ca_fail(eb, CA_ERR_NOT_FOUND, "the issuer's DID document lists no anchor "
                       "account; give --anchor-address or --node");
    /* A did:key issuer's node publishes its anchor account in its did:web document. */
    char url[2048], *body = NULL;
    size_t len;
    snprintf(url, sizeof url, "%s/.well-known/did.json", r->node_url);
    ca_err err = remote_get(r, url, &body, &len, eb);
    if (err)
        return err;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    free(body);
    err = doc ? ca_did_anchor_account(addr, doc, chain_id, eb)
              : ca_fail(eb, CA_ERR_INVALID, "%s is not JSON", url);
    json_decref(doc);
    return err;
}

void ca_verify_remote_env(ca_verify_env *env, ca_verify_remote *ctx, uint64_t min_confirmations)
{
    size_t n = strlen(ctx->node_url);
    while (n && ctx->node_url[n - 1] == '/')
        ctx->node_url[--n] = '\0';
    *env = (ca_verify_env){
        .ctx = ctx,
        .resolve_did = remote_resolve,
        .fetch_url = remote_fetch,
        .fetch_proof = remote_proof,
        .log_keys = remote_keys,
        .check_anchor = ctx->rpc_url[0] ? remote_anchor : NULL,
        .anchor_account = remote_account,
        .now = (int64_t)time(NULL),
        .min_confirmations = min_confirmations,
    };
}
