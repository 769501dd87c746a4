/*
 * The two places a credential is verified from (SPEC §5), as ca_verify_env lookups:
 *  - local: GET /v1/credentials/{id}/verification inside the node. The node resolves its own
 *    DID and serves its own status lists from local state (SPEC §4), builds the proof from its
 *    log as /v1/log/proof would, and reads the anchor transaction over anchor.rpc_url. It never
 *    fetches a URL that is not its own (a stored credential only names its own lists).
 *  - remote: `credanchor verify` on a verifier's machine. DIDs resolve through the resolver
 *    (did:key offline; did:web over HTTPS with every guard), or through the node the user
 *    named (--node URL, its Universal Resolver endpoint); status lists, proofs and log keys
 *    come from the node URL (--node, or derived from the credential's status list URL, then
 *    fetched with the did:web guards: HTTPS, no private addresses); anchors over --rpc.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_VERIFY_ENV_H
#define CREDANCHOR_VERIFY_ENV_H

#include "credanchor/did_resolve.h"
#include "node/issuer.h"
#include "node/resolver.h"
#include "credanchor/rpc.h"
#include "credanchor/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_verify_local {
    ca_node *node;
    ca_resolver *resolver;
    ca_issuer *issuer;
    char status_base[CA_CONFIG_STR_MAX + 16];
} ca_verify_local;

/* Fills env for a local verification (node opened for serving; all borrowed). */
void ca_verify_local_env(ca_verify_env *env, ca_verify_local *ctx, ca_node *node,
                         ca_resolver *resolver, ca_issuer *issuer);

typedef struct ca_verify_remote {
    ca_resolver *resolver;          /* did:key / did:web resolution (borrowed) */
    char node_url[1024];            /* "" : none */
    bool node_trusted;              /* named by the user (--node): plain GETs, http allowed;
                                     * else derived: guarded HTTPS fetches only */
    char rpc_url[CA_RPC_URL_MAX];   /* "" : anchors stay pending */
    uint8_t anchor_address[CA_ETH_ADDRESS_SIZE];
    bool have_anchor_address;       /* --anchor-address */
    ca_did_web_curl curl;           /* the guarded transport (did.web_* config) */
} ca_verify_remote;

/* Fills env for a remote verification from ctx (filled by the caller). */
void ca_verify_remote_env(ca_verify_env *env, ca_verify_remote *ctx, uint64_t min_confirmations);

#ifdef __cplusplus
}
#endif
#endif
