/* node/cli_proof.c — `credanchor verify-proof` (SPEC §6): an offline check that needs only the
 * proof file and the log's verifier key, taken from --key, from a node's /v1/log/key, or from
 * the local data dir; with --rpc URL also the anchor transaction on chain
 * (anchor/anchor_check.c), whose sender must be the issuer's anchor account: --anchor-address,
 * or the blockchainAccountId for the proof's chain in the DID document of --did (resolved) or
 * of --node URL (URL/.well-known/did.json). */
#include "node/cli.h"

#include "credanchor/anchor_check.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "node/fetch.h"
#include "node/node.h"
#include "credanchor/json_fields.h"
#include "credanchor/proof.h"
#include "node/resolver.h"
#include "credanchor/rpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FETCH_MAX 4096          /* a verifier key is well under 1 KiB */
#define DID_DOC_FETCH_MAX (1u << 20) /* the did:web body cap (SPEC §4) */

/* GETs base + suffix (base an http(s) URL, trailing slashes dropped) with ca_fetch. */
static ca_err fetch_url(char **out, size_t *out_len, const char *base, const char *suffix,
                        size_t max, ca_errbuf *eb)
{
    char url[2048];
    size_t blen = strlen(base);
    *out = NULL;
    while (blen && base[blen - 1] == '/')
        blen--;
    if (blen + strlen(suffix) + 1 > sizeof url)
        return ca_fail(eb, CA_ERR_INVALID, "--node URL is too long");
    memcpy(url, base, blen);
    memcpy(url + blen, suffix, strlen(suffix) + 1);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ca_fail(eb, CA_ERR_INVALID, "--node must be an http:// or https:// URL");
    ca_err err = ca_fetch(out, out_len, url, max, NULL, eb);
    return err == CA_ERR_NOT_FOUND ? ca_fail(eb, CA_ERR_NETWORK, "%s: HTTP status 404", url)
                                   : err;
}

/* GETs URL/v1/log/key. */
static ca_err fetch_verifier_key(char *out, size_t cap, const char *base, ca_errbuf *eb)
{
    char *data;
    size_t len;
    ca_err err = fetch_url(&data, &len, base, "/v1/log/key", KEY_FETCH_MAX, eb);
    if (err)
        return err;
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len >= cap) {
        free(data);
        return ca_fail(eb, CA_ERR_TOO_LARGE, "%s/v1/log/key: verifier key too long", base);
    }
    memcpy(out, data, len);
    out[len] = '\0';
    free(data);
    return CA_OK;
}

/* ---- --rpc: the anchor transaction on chain (SPEC §6, issue 5) ---------------------------- */

/* Where the expected anchor account came from, for the report. */
typedef struct anchor_source {
    uint8_t addr[CA_ETH_ADDRESS_SIZE];
    char what[CA_DID_TEXT_MAX + 64];
} anchor_source;

/* The anchor account of the issuer, for chain_id: --anchor-address, else the DID document of
 * --did (through the resolver: did:web with its network guards and the did.web_* config), else
 * the document at --node URL/.well-known/did.json. Returns an exit code (0: found). */
static int expected_sender(anchor_source *src, const ca_cli_opt *opts, uint64_t chain_id)
{
    ca_errbuf eb = {{0}};
    ca_err err;
    const char *addr = ca_cli_value(opts, "anchor-address"), *did = ca_cli_value(opts, "did");
    const char *node_url = ca_cli_value(opts, "node");
    if (addr) {
        if (strlen(addr) != 42 || addr[0] != '0' || (addr[1] != 'x' && addr[1] != 'X') ||
            ca_hex_decode(src->addr, sizeof src->addr, addr + 2, 40))
            return ca_cli_usage_error("verify-proof", "--anchor-address must be 0x and 40 hex "
                                                      "characters");
        snprintf(src->what, sizeof src->what, "--anchor-address");
        return CA_EXIT_OK;
    }
    json_t *doc = NULL;
    if (did) {
        ca_config cfg;
        int rc = ca_cli_load_config(&cfg, "verify-proof", opts);
        if (rc)
            return rc;
        ca_resolver *r = NULL;
        ca_resolver_options ro = {.cfg = &cfg, .node = NULL, .cache_writes = false};
        if ((err = ca_resolver_create(&r, &ro, &eb)))
            return ca_cli_error("verify-proof", err, &eb);
        ca_did_result res;
        ca_did_result_init(&res);
        ca_did_options o = {.format = CA_DID_FORMAT_MULTIKEY};
        ca_did_error e = ca_resolver_resolve(r, &res, did, &o);
        if (e == CA_DID_OK)
            doc = json_incref(res.document);
        else
            fprintf(stderr, "credanchor verify-proof: cannot resolve %s: %s: %s\n", did,
                    ca_did_error_code(e), res.detail);
        ca_did_result_clear(&res);
        json_decref(res.document_metadata);
        ca_resolver_free(r);
        if (e != CA_DID_OK)
            return CA_EXIT_USAGE;
        snprintf(src->what, sizeof src->what, "the DID document of %s", did);
    } else if (node_url) {
        char *text;
        size_t len;
        if ((err = fetch_url(&text, &len, node_url, "/.well-known/did.json", DID_DOC_FETCH_MAX,
                             &eb)))
            return ca_cli_error("verify-proof", err, &eb);
        json_error_t jerr;
        doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        free(text);
        if (!json_is_object(doc)) {
            json_decref(doc);
            return ca_cli_usage_error("verify-proof", "%s/.well-known/did.json is not a JSON "
                                      "object", node_url);
        }
        const char *id = ca_json_str(doc, "id");
        snprintf(src->what, sizeof src->what, "the DID document of %s",
                 id ? id : "(no id)");
    } else {
        return ca_cli_usage_error("verify-proof", "--rpc needs the issuer's anchor account: "
                                  "give --did DID, --node URL or --anchor-address ADDR (the "
                                  "proof's own \"from\" is not trusted)");
    }
    err = ca_did_anchor_account(src->addr, doc, chain_id, &eb);
    json_decref(doc);
    if (err)
        return ca_cli_error("verify-proof", err == CA_ERR_NOT_FOUND ? CA_ERR_INVALID : err, &eb);
    return CA_EXIT_OK;
}

/* Checks the proof's anchor on chain; fills rep. Returns an exit code (1 also for a proof
 * without an anchor). */
/* *min_conf CA_CONFIRMATIONS_BY_CHAIN becomes the default of the anchor's chain. */
static int check_on_chain(ca_anchor_report *rep, anchor_source *src, const ca_cli_opt *opts,
                          const char *proof_text, size_t proof_len, const ca_proof_report *pr,
                          uint64_t *min_conf)
{
    ca_errbuf eb = {{0}};
    json_t *proof = json_loadb(proof_text, proof_len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *anchor = json_object_get(proof, "anchor");
    int rc = CA_EXIT_OK;
    ca_anchor_claim rec;
    ca_err err;
    if (!pr->has_anchor || !json_is_object(anchor)) {
        fprintf(stderr, "credanchor verify-proof: the proof carries no anchor (not yet "
                        "anchored)\n");
        rc = CA_EXIT_CHECK_FAILED;
        goto out;
    }
    if ((err = ca_anchor_claim_parse(&rec, anchor, &eb))) {
        rc = ca_cli_error("verify-proof", err, &eb);
        goto out;
    }
    if (*min_conf == CA_CONFIRMATIONS_BY_CHAIN)
        *min_conf = ca_anchor_default_confirmations(rec.chain_id);
    if ((rc = expected_sender(src, opts, rec.chain_id)))
        goto out;
    ca_rpc_curl curl_cfg;
    ca_rpc_curl_defaults(&curl_cfg);
    ca_rpc_transport t = {.post = ca_rpc_curl_post, .ctx = &curl_cfg};
    ca_rpc rpc;
    if ((err = ca_rpc_init(&rpc, ca_cli_value(opts, "rpc"), &t, &eb))) {
        rc = ca_cli_error("verify-proof", err, &eb);
        goto out;
    }
    err = ca_anchor_check(rep, anchor, pr->tree_size, &pr->root, src->addr, *min_conf, &rpc,
                          &eb);
    if (err)
        rc = ca_cli_error("verify-proof", err, &eb);
out:
    json_decref(proof);
    return rc;
}

static void hex0x(char *out, const uint8_t *b, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    ca_hex_encode(out + 2, b, n);
}

static void print_anchor(const ca_anchor_report *rep, const anchor_source *src,
                         uint64_t min_conf, bool json)
{
    const ca_anchor_claim *r = &rep->record;
    char tx[67], bh[67], from[43], to[43];
    hex0x(tx, r->tx_hash, 32);
    hex0x(bh, r->block_hash, 32);
    ca_eth_address_hex(from, r->from);
    ca_eth_address_hex(to, r->to);
    if (json) {
        char chain[32];
        snprintf(chain, sizeof chain, "eip155:%llu", (unsigned long long)r->chain_id);
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
                              "s:[s,s,s,s,s,s,s,s]}",
                              "chain", chain, "txHash", tx,
                              "blockNumber", (json_int_t)r->block_number, "blockHash", bh,
                              "from", from, "fromSource", src->what, "to", to,
                              "confirmations", (json_int_t)rep->confirmations,
                              "requiredConfirmations", (json_int_t)min_conf,
                              "head", (json_int_t)rep->head, "gasUsed",
                              (json_int_t)rep->gas_used, "checks", "chainId", "transaction",
                              "sender", "calldata", "receipt", "canonicalBlock",
                              "confirmations", "consistencyWithPrevious");
        if (o) {
            if (!r->has_previous)
                json_array_remove(json_object_get(o, "checks"), 7);
            char *s = json_dumps(o, JSON_COMPACT);
            if (s)
                fputs(s, stdout);
            free(s);
            json_decref(o);
        }
        return;
    }
    printf("anchored: tx %s on eip155:%llu, type 2, sent by %s (%s) to %s\n", tx,
           (unsigned long long)r->chain_id, from, src->what, to);
    printf("          calldata CAv1 commits tree size %llu and the proof's root; receipt "
           "status 1\n", (unsigned long long)r->tree_size);
    printf("          in canonical block %llu (%s), %llu confirmation(s) at head %llu "
           "(%llu required)\n", (unsigned long long)r->block_number, bh,
           (unsigned long long)rep->confirmations, (unsigned long long)rep->head,
           (unsigned long long)min_conf);
    if (r->has_previous)
        printf("          consistent with the previous anchor at size %llu\n",
               (unsigned long long)r->previous_tree_size);
}

/* The options that must go together or apart, and the confirmations to wait for. */
static int parse_proof_opts(uint64_t *min_conf, const ca_cli_opt *opts)
{
    const char *key_opt = ca_cli_value(opts, "key"), *node_url = ca_cli_value(opts, "node");
    const char *rpc_url = ca_cli_value(opts, "rpc"), *conf = ca_cli_value(opts, "confirmations");
    int rc;
    if (key_opt && node_url)
        return ca_cli_usage_error("verify-proof", "give --key or --node, not both");
    if (!rpc_url && (ca_cli_value(opts, "anchor-address") || ca_cli_value(opts, "did") || conf))
        return ca_cli_usage_error("verify-proof", "--anchor-address, --did and --confirmations "
                                                  "go with --rpc URL");
    if (ca_cli_value(opts, "anchor-address") && ca_cli_value(opts, "did"))
        return ca_cli_usage_error("verify-proof", "give --anchor-address or --did, not both");
    /* --confirmations, else the configuration when one is given (--config or
     * CREDANCHOR_ANCHOR_CONFIRMATIONS), else the anchor's chain decides: never a silent
     * default (issue 12 item 9). */
    *min_conf = CA_CONFIRMATIONS_BY_CHAIN;
    if (rpc_url && !conf &&
        (ca_cli_value(opts, "config") || getenv("CREDANCHOR_ANCHOR_CONFIRMATIONS"))) {
        ca_config cfg;
        if ((rc = ca_cli_load_config(&cfg, "verify-proof", opts)))
            return rc;
        *min_conf = cfg.anchor_confirmations;
    }
    if (conf) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(conf, &end, 10);
        if (!*conf || *end || conf[0] == '-' || errno || v > 1000000000ull)
            return ca_cli_usage_error("verify-proof", "--confirmations must be a number of "
                                                      "blocks");
        *min_conf = v;
    }
    return CA_EXIT_OK;
}

/* The log's verifier key: --key, else from --node URL, else from the local data dir. */
static int load_verifier(ca_note_verifier *v, const ca_cli_opt *opts)
{
    const char *key_opt = ca_cli_value(opts, "key"), *node_url = ca_cli_value(opts, "node");
    ca_errbuf eb = {{0}};
    ca_err err;
    int rc;
    char vkey_text[CA_VERIFIER_KEY_MAX];
    if (key_opt) {
        snprintf(vkey_text, sizeof vkey_text, "%s", key_opt);
    } else if (node_url) {
        if ((err = fetch_verifier_key(vkey_text, sizeof vkey_text, node_url, &eb)))
            return ca_cli_error("verify-proof", err, &eb);
    } else {
        ca_node *node;
        if ((rc = ca_cli_open_node(&node, "verify-proof", opts, CA_NODE_READ_ONLY)))
            return rc;
        err = ca_log_verifier_key(node->log, vkey_text, &eb);
        ca_node_close(node);
        if (err)
            return ca_cli_error("verify-proof", err, &eb);
    }
    if ((err = ca_verifier_key_parse(v, vkey_text, strlen(vkey_text), &eb)))
        return ca_cli_error("verify-proof", CA_ERR_INVALID, &eb);
    return CA_EXIT_OK;
}

/* The verified proof (and its anchor when --rpc checked it), as text or JSON. */
static void print_proof(const ca_proof_report *r, const ca_note_verifier *v,
                        const ca_anchor_report *rep, const anchor_source *src,
                        uint64_t min_conf, bool rpc, bool json)
{
    char digest[2 * CA_HASH_SIZE + 1], root[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(digest, &r->digest);
    ca_hash_to_hex(root, &r->root);
    if (json) {
        printf("{\"valid\":true,\"digest\":\"%s\",\"leafIndex\":%llu,\"treeSize\":%llu,"
               "\"rootHash\":\"%s\",\"origin\":\"%s\"",
               digest, (unsigned long long)r->leaf_index, (unsigned long long)r->tree_size, root,
               r->checkpoint.origin);
        if (rpc) {
            fputs(",\"anchor\":", stdout);
            print_anchor(rep, src, min_conf, true);
        }
        puts("}");
    } else {
        printf("valid: %s is leaf %llu of %s at size %llu (root %s), checkpoint signed by %s\n",
               digest, (unsigned long long)r->leaf_index, r->checkpoint.origin,
               (unsigned long long)r->tree_size, root, v->name);
        if (rpc)
            print_anchor(rep, src, min_conf, false);
        else if (r->has_anchor)
            puts("anchor: present, not checked on chain (give --rpc URL)");
    }
}

int ca_cli_verify_proof(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false},         {"data-dir", true, NULL, false},
                         {"key", true, NULL, false},            {"node", true, NULL, false},
                         {"json", false, NULL, false},          {"rpc", true, NULL, false},
                         {"anchor-address", true, NULL, false}, {"did", true, NULL, false},
                         {"confirmations", true, NULL, false},  {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 1)
        return ca_cli_usage_error("verify-proof", "give one proof FILE (or -); see --help");
    const char *rpc_url = ca_cli_value(opts, "rpc");
    uint64_t min_conf = CA_CONFIRMATIONS_BY_CHAIN;
    ca_note_verifier v;
    if ((rc = parse_proof_opts(&min_conf, opts)) || (rc = load_verifier(&v, opts)))
        return rc;

    ca_errbuf eb = {{0}};
    ca_err err;
    char *data;
    size_t len;
    if ((err = ca_cli_read_input(&data, &len, pos[0], CA_PROOF_MAX_BYTES, &eb)))
        return ca_cli_error("verify-proof", err, &eb);
    ca_proof_report r;
    err = ca_proof_check(&r, data, len, &v, &eb);
    if (err) {
        free(data);
        return ca_cli_error("verify-proof", err, &eb);
    }
    ca_anchor_report rep;
    anchor_source src;
    memset(&rep, 0, sizeof rep);
    memset(&src, 0, sizeof src);
    if (rpc_url)
        rc = check_on_chain(&rep, &src, opts, data, len, &r, &min_conf);
    free(data);
    if (rc)
        return rc;
    print_proof(&r, &v, &rep, &src, min_conf, rpc_url != NULL, ca_cli_flag(opts, "json"));
    return CA_EXIT_OK;
}
