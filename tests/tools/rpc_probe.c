/*
 * Test driver (not installed) for tests/cli/rpc_anvil.sh: runs each typed JSON-RPC helper of
 * rpc.h once against URL over the real libcurl transport and prints the answers as one JSON
 * object on stdout:
 *
 *   rpc_probe [--addr HEX40] [--attempts N] [--timeout-ms N] [--max-response N] URL
 *
 * {"chainId":N, "blockNumber":N, "nonce":N (of --addr, "pending"), "maxPriorityFee":"0x..",
 *  "maxFee":"0x..", "estimateGas":N (from = to = --addr, 44 bytes of SPEC §2 calldata),
 *  "unknownReceiptFound":false, "block0Hash":"0x.."}
 *
 * Exit 0 on success, 1 with one "rpc_probe: ..." line on stderr on any error, 2 on bad usage.
 */
#include "credanchor/rpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: rpc_probe [--addr HEX40] [--attempts N] [--timeout-ms N] "
                    "[--max-response N] URL\n");
    return 2;
}

static void u256_text(char out[67], const uint8_t v[32])
{
    size_t i = 0;
    while (i < 31 && v[i] == 0)
        i++;
    char *p = out + sprintf(out, "0x%x", v[i]);
    for (i++; i < 32; i++)
        p += sprintf(p, "%02x", v[i]);
}

static void hex_text(char *out, const uint8_t *v, size_t n)
{
    char *p = out + sprintf(out, "0x");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%02x", v[i]);
}

static int die(const char *what, ca_err err, const ca_errbuf *eb)
{
    fprintf(stderr, "rpc_probe: %s: %s\n", what, ca_errmsg(eb, err));
    return 1;
}

int main(int argc, char **argv)
{
    ca_rpc_curl cfg;
    ca_rpc_curl_defaults(&cfg);
    const char *url = NULL, *addr_hex = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    unsigned attempts = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && strcmp(a, "--addr") == 0)
            addr_hex = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--attempts") == 0)
            attempts = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--timeout-ms") == 0)
            cfg.timeout_ms = strtol(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--max-response") == 0)
            cfg.max_response = (size_t)strtoull(argv[++i], NULL, 10);
        else if (a[0] == '-' || url)
            return usage();
        else
            url = a;
    }
    if (!url || strlen(addr_hex) != 40)
        return usage();
    uint8_t addr[20];
    char prefixed[43];
    snprintf(prefixed, sizeof prefixed, "0x%s", addr_hex);
    if (ca_rpc_parse_data(addr, 20, prefixed, NULL) != CA_OK)
        return usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "rpc_probe: curl_global_init failed\n");
        return 1;
    }

    int rc = 1;
    ca_errbuf eb = {{0}};
    ca_rpc rpc;
    ca_rpc_transport t = {ca_rpc_curl_post, &cfg};
    ca_err err = ca_rpc_init(&rpc, url, &t, &eb);
    if (err) {
        rc = die("init", err, &eb);
        goto out;
    }
    rpc.max_attempts = attempts;
    rpc.max_response = cfg.max_response;

    uint64_t chain_id, head, nonce, gas;
    uint8_t prio[32], maxfee[32], block0[32], unknown[32];
    bool found0 = false;
    ca_rpc_receipt_info rcpt;
    /* SPEC §2 calldata: "CAv1" || size (8 bytes BE) || root */
    uint8_t data[44] = {0x43, 0x41, 0x76, 0x31, 0, 0, 0, 0, 0, 0, 0, 42};
    for (int i = 12; i < 44; i++)
        data[i] = (uint8_t)i;
    memset(unknown, 0xee, sizeof unknown);
    if ((err = ca_rpc_chain_id(&rpc, &chain_id, &eb)) != CA_OK)
        rc = die("chain id", err, &eb);
    else if ((err = ca_rpc_block_number(&rpc, &head, &eb)) != CA_OK)
        rc = die("block number", err, &eb);
    else if ((err = ca_rpc_nonce(&rpc, &nonce, addr, "pending", &eb)) != CA_OK)
        rc = die("nonce", err, &eb);
    else if ((err = ca_rpc_fee_suggestion(&rpc, prio, maxfee, &eb)) != CA_OK)
        rc = die("fee suggestion", err, &eb);
    else if ((err = ca_rpc_estimate_gas(&rpc, &gas, addr, addr, data, sizeof data, &eb)) != CA_OK)
        rc = die("estimate gas", err, &eb);
    else if ((err = ca_rpc_receipt(&rpc, &rcpt, unknown, &eb)) != CA_OK)
        rc = die("receipt", err, &eb);
    else if ((err = ca_rpc_block_hash(&rpc, block0, &found0, 0, &eb)) != CA_OK)
        rc = die("block hash", err, &eb);
    else if (!found0)
        rc = die("block hash", CA_ERR_NOT_FOUND, NULL);
    else {
        char p[67], m[67], h[67];
        u256_text(p, prio);
        u256_text(m, maxfee);
        hex_text(h, block0, 32);
        printf("{\"chainId\":%llu,\"blockNumber\":%llu,\"nonce\":%llu,\"maxPriorityFee\":\"%s\","
               "\"maxFee\":\"%s\",\"estimateGas\":%llu,\"unknownReceiptFound\":%s,"
               "\"block0Hash\":\"%s\"}\n",
               (unsigned long long)chain_id, (unsigned long long)head,
               (unsigned long long)nonce, p, m, (unsigned long long)gas,
               rcpt.found ? "true" : "false", h);
        rc = 0;
    }
out:
    curl_global_cleanup();
    return rc;
}
