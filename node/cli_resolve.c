/*
 * node/cli_resolve.c — `credanchor resolve DID` (SPEC §4, §6) through the node's resolver
 * (node/resolver.c), so the CLI and GET /1.0/identifiers/{did} give the same answers.
 *
 * Node state is opened only when it helps, so the verb works with no data dir at all:
 *  - did:key and other methods: never (nothing local is needed);
 *  - did:web: the data dir's store for the did_cache table, opened CA_NODE_ADMIN_WRITE: a
 *    shared writer that takes no single-writer lock, so it runs beside a serving node (LMDB
 *    serialises the two processes' write transactions) and may write the cache, which is not
 *    one of the log's tables. If that open fails (say a read-only data dir), read-only and
 *    without cache writes; if the data dir does not exist, no cache;
 *  - the node's own did:web: also the issuer key and anchor address, decrypted to build the
 *    own document locally (never fetched, SPEC §4).
 * Exit codes: 0 resolved; 1 a check failed (NOT_FOUND, deactivated, INVALID_DID_DOCUMENT);
 * 2 bad usage or input (INVALID_DID, INVALID_OPTIONS, METHOD_NOT_SUPPORTED, ...), with one
 * line "credanchor resolve: <CODE>: <detail>" on stderr.
 */
#include "node/cli.h"

#include "credanchor/did.h"
#include "node/node.h"
#include "node/resolver.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int exit_code(ca_did_error e)
{
    switch (e) {
    case CA_DID_OK: return CA_EXIT_OK;
    case CA_DID_NOT_FOUND:
    case CA_DID_DEACTIVATED:
    case CA_DID_INVALID_DID_DOCUMENT: return CA_EXIT_CHECK_FAILED;
    default: return CA_EXIT_USAGE;
    }
}

/* Opens the node for a did:web resolution (see the top of this file). *node stays NULL when
 * there is no usable data dir and the DID is not the node's own. */
static int open_for_web(ca_node **node, bool *cache_writes, const ca_config *cfg, bool own)
{
    unsigned keys = own ? CA_NODE_ISSUER_KEY | CA_NODE_ANCHOR_ADDRESS : 0;
    ca_errbuf eb = {{0}};
    *cache_writes = true;
    ca_err err = ca_node_open(node, cfg, CA_NODE_ADMIN_WRITE | keys, &eb);
    if (err && err != CA_ERR_NOT_FOUND) {
        *cache_writes = false;
        err = ca_node_open(node, cfg, CA_NODE_READ_ONLY | keys, &eb);
    }
    if (err && own) /* the own DID needs its keys; without them it would go to the network */
        return ca_cli_error("resolve", err, &eb);
    return CA_EXIT_OK;
}

int ca_cli_resolve(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false}, {"data-dir", true, NULL, false},
                         {"json", false, NULL, false},  {"format", true, NULL, false},
                         {"no-cache", false, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 1)
        return ca_cli_usage_error("resolve", "expected one DID (see --help)");
    const char *did = pos[0];

    ca_did_options o = {.format = CA_DID_FORMAT_MULTIKEY,
                        .no_cache = ca_cli_flag(opts, "no-cache")};
    const char *fmt = ca_cli_value(opts, "format");
    if (fmt && strcmp(fmt, "JsonWebKey") == 0)
        o.format = CA_DID_FORMAT_JSON_WEB_KEY;
    else if (fmt && strcmp(fmt, "Multikey") != 0)
        return ca_cli_usage_error("resolve", "%s: --format must be JsonWebKey or Multikey",
                                  ca_did_error_code(CA_DID_INVALID_OPTIONS));

    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, "resolve", opts)))
        return rc;

    ca_node *node = NULL;
    bool cache_writes = false;
    if (ca_did_method_of(did, strlen(did)) == CA_DID_METHOD_WEB && ca_did_syntax_ok(did)) {
        char own[CA_DID_MAX];
        ca_errbuf eb = {{0}};
        bool is_own = ca_did_web_from_url(own, sizeof own, cfg.node_public_url, &eb) == CA_OK &&
                      strcmp(own, did) == 0;
        if ((rc = open_for_web(&node, &cache_writes, &cfg, is_own)))
            return rc;
    }

    ca_resolver *r = NULL;
    ca_errbuf eb = {{0}};
    ca_resolver_options ro = {.cfg = &cfg, .node = node, .cache_writes = cache_writes};
    ca_err err = ca_resolver_create(&r, &ro, &eb);
    if (err) {
        ca_node_close(node);
        return ca_cli_error("resolve", err, &eb);
    }
    ca_did_result res;
    ca_did_result_init(&res);
    ca_did_error e = ca_resolver_resolve(r, &res, did, &o);

    json_t *out = NULL;
    if (ca_cli_flag(opts, "json"))
        out = ca_did_result_json(&res);
    else if (e == CA_DID_OK)
        out = json_incref(res.document);
    if (out) {
        char *s = json_dumps(out, ca_cli_flag(opts, "json") ? JSON_COMPACT : JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
        json_decref(out);
    }
    if (e != CA_DID_OK)
        fprintf(stderr, "credanchor resolve: %s: %s\n", ca_did_error_code(e), res.detail);
    ca_did_result_clear(&res);
    json_decref(res.document_metadata);
    ca_resolver_free(r);
    ca_node_close(node);
    return exit_code(e);
}
