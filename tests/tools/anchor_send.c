/*
 * Test driver (not installed) for tests/cli/verify_proof_rpc.sh: sends one SPEC §2 anchor
 * transaction with a node's anchor key, without the anchoring engine, and prints the SPEC §3
 * anchor record for it as one JSON line:
 *
 *   anchor_send --data-dir DIR --rpc URL --size N --root HEX64 [--to 0xADDR]
 *
 * Loads the anchor key (ca_node_open + ca_node_anchor_secret), builds the EIP-1559 tx (nonce
 * "pending", ca_rpc_fee_suggestion, ca_rpc_estimate_gas), signs it, sends it with
 * eth_sendRawTransaction, waits up to 15 s for the receipt and prints
 * {"chain","txHash","blockNumber","blockHash","from","to","status":"final","treeSize",
 *  "rootHash","previous":null}. `to` defaults to the node's own address.
 * Exit 0 on success, 1 with one "anchor_send: ..." line on stderr on any error, 2 on usage.
 */
#include "node/config.h"
#include "credanchor/encoding.h"
#include "credanchor/eth.h"
#include "node/node.h"
#include "credanchor/rpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fprintf(stderr, "usage: anchor_send --data-dir DIR --rpc URL --size N --root HEX64 "
                    "[--to 0xADDR]\n");
    return 2;
}

static int die(const char *what, ca_err err, const ca_errbuf *eb)
{
    fprintf(stderr, "anchor_send: %s: %s\n", what, ca_errmsg(eb, err));
    return 1;
}

static void hex0x(char *out, const uint8_t *b, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    ca_hex_encode(out + 2, b, n);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *url = NULL, *size_s = NULL, *root_s = NULL, *to_s = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data-dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--rpc"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--size"))
            size_s = argv[i + 1];
        else if (!strcmp(argv[i], "--root"))
            root_s = argv[i + 1];
        else if (!strcmp(argv[i], "--to"))
            to_s = argv[i + 1];
        else
            return usage();
    }
    if (!dir || !url || !size_s || !root_s || (argc % 2) == 0)
        return usage();
    uint64_t size = strtoull(size_s, NULL, 10);
    ca_hash root;
    if (ca_hash_from_hex(&root, root_s, strlen(root_s)))
        return usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;

    ca_errbuf eb = {{0}};
    ca_err err;
    ca_config cfg;
    ca_node *node = NULL;
    if ((err = ca_config_load(&cfg, NULL, &eb)) ||
        (err = ca_config_set(&cfg, "node", "data_dir", dir, &eb)))
        return die("config", err, &eb);
    if ((err = ca_node_open(&node, &cfg, CA_NODE_READ_ONLY | CA_NODE_ANCHOR_ADDRESS, &eb)))
        return die("open", err, &eb);
    uint8_t secret[CA_SECP256K1_SECRET_SIZE], from[20], to[20];
    err = ca_node_anchor_secret(node, secret, &eb);
    ca_node_close(node);
    if (err)
        return die("anchor key", err, &eb);
    if (ca_eth_address(from, secret)) {
        ca_wipe(secret, sizeof secret);
        return die("address", CA_ERR_CRYPTO, NULL);
    }
    memcpy(to, from, sizeof to);
    if (to_s && ca_rpc_parse_data(to, sizeof to, to_s, &eb)) {
        ca_wipe(secret, sizeof secret);
        return usage();
    }

    ca_rpc_curl cc;
    ca_rpc_curl_defaults(&cc);
    ca_rpc_transport t = {.post = ca_rpc_curl_post, .ctx = &cc};
    ca_rpc rpc;
    uint8_t data[CA_ANCHOR_CALLDATA_SIZE], raw_hash[32];
    ca_anchor_calldata(data, size, &root);
    ca_eth_tx tx = {.data = data, .data_len = sizeof data};
    memcpy(tx.to, to, sizeof to);
    ca_eth_sig sig;
    static uint8_t raw[CA_ETH_TX_MAX_SIZE];
    size_t raw_len = sizeof raw;
    ca_hash tx_hash;
    const char *step = "rpc";
    if ((err = ca_rpc_init(&rpc, url, &t, &eb)) ||
        (step = "eth_chainId", err = ca_rpc_chain_id(&rpc, &tx.chain_id, &eb)) ||
        (step = "nonce", err = ca_rpc_nonce(&rpc, &tx.nonce, from, "pending", &eb)) ||
        (step = "fees", err = ca_rpc_fee_suggestion(&rpc, tx.max_priority_fee_per_gas,
                                                     tx.max_fee_per_gas, &eb)) ||
        (step = "gas", err = ca_rpc_estimate_gas(&rpc, &tx.gas_limit, from, to, data,
                                                  sizeof data, &eb)) ||
        (step = "sign", err = ca_eth_tx_sign(&sig, &tx, secret, &eb)) ||
        (step = "encode", err = ca_eth_tx_encode_signed(raw, &raw_len, &tx_hash, &tx, &sig,
                                                         &eb)) ||
        (step = "send", err = ca_rpc_send_raw(&rpc, raw_hash, raw, raw_len, &eb))) {
        ca_wipe(secret, sizeof secret);
        return die(step, err, &eb);
    }
    ca_wipe(secret, sizeof secret);

    ca_rpc_receipt_info r = {0};
    for (int i = 0; i < 150 && !r.found; i++) {
        if ((err = ca_rpc_receipt(&rpc, &r, raw_hash, &eb)))
            return die("receipt", err, &eb);
        if (!r.found)
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    if (!r.found)
        return die("receipt", CA_ERR_NOT_FOUND, NULL);
    char txh[67], bh[67], fromh[43], toh[43], rooth[65];
    hex0x(txh, raw_hash, 32);
    hex0x(bh, r.block_hash, 32);
    ca_eth_address_hex(fromh, from);
    ca_eth_address_hex(toh, to);
    ca_hash_to_hex(rooth, &root);
    printf("{\"chain\":\"eip155:%llu\",\"txHash\":\"%s\",\"blockNumber\":%llu,"
           "\"blockHash\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"status\":\"final\","
           "\"treeSize\":%llu,\"rootHash\":\"%s\",\"previous\":null}\n",
           (unsigned long long)tx.chain_id, txh, (unsigned long long)r.block_number, bh, fromh,
           toh, (unsigned long long)size, rooth);
    curl_global_cleanup();
    return r.status == 1 ? 0 : 1;
}
