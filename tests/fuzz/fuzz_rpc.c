/* The JSON-RPC client's response handling (anchor/rpc.c) through an injected transport.
 * Input: one selector byte (which call to make), then the HTTP bodies the transport returns,
 * one per request, separated by NUL bytes; after the last one the transport fails with
 * CA_ERR_IO. Status is always 200 and there is no retry, so the parse_response checks
 * (jsonrpc, id, result/error) and each typed helper's result decoding are what run. The
 * selector's high bits also pick a string for the strict quantity/data decoders. */
#include "credanchor/rpc.h"
#include "fuzz_common.h"

#include <strings.h>

typedef struct feed {
    const uint8_t *p, *end;
    bool done;
} feed;

static ca_err post(void *ctx, const char *url, const char *body, size_t len, char **resp,
                   size_t *resp_len, long *http_status, ca_errbuf *eb)
{
    (void)url;
    (void)body;
    (void)len;
    feed *f = ctx;
    if (f->done)
        return ca_fail(eb, CA_ERR_IO, "fuzz transport: no more responses");
    const uint8_t *nul = memchr(f->p, '\0', (size_t)(f->end - f->p));
    const uint8_t *stop = nul ? nul : f->end;
    size_t n = (size_t)(stop - f->p);
    *resp = fuzz_strndup(f->p, n);
    *resp_len = n;
    *http_status = 200;
    if (nul)
        f->p = nul + 1;
    else
        f->done = true;
    return CA_OK;
}

static void decoders(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    ca_errbuf eb = {{0}};
    uint64_t v;
    if (ca_rpc_parse_u64(&v, s, &eb) == CA_OK) {
        char back[24];
        ca_rpc_format_u64(back, v);
        FUZZ_CHECK(strcasecmp(back, s) == 0);
    }
    uint8_t u[32];
    (void)ca_rpc_parse_u256(u, s, &eb);
    uint8_t d[64];
    for (size_t len = 0; len <= sizeof d; len += 16)
        (void)ca_rpc_parse_data(d, len, s, &eb);
    (void)ca_rpc_parse_data(d, 20, s, &eb);
    (void)ca_rpc_parse_data(d, 32, s, &eb);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    uint8_t sel = data[0];
    feed f = { data + 1, data + size, false };
    ca_rpc_transport t = { post, &f };
    ca_rpc rpc;
    ca_errbuf eb = {{0}};
    FUZZ_CHECK(ca_rpc_init(&rpc, "http://127.0.0.1:8545/key", &t, &eb) == CA_OK);
    rpc.max_attempts = 1;
    rpc.backoff_ms = 0;
    rpc.backoff_max_ms = 0;

    static const uint8_t addr[20] = { 0x11, 0x22 }, hash[32] = { 0x33 };
    static const uint8_t raw[] = { 0x02, 0xc0 };
    uint64_t v = 0;
    uint8_t a[32], b[32];
    bool found;
    ca_rpc_receipt_info r;
    ca_err err = CA_OK;
    switch (sel % 11) {
    case 0: err = ca_rpc_chain_id(&rpc, &v, &eb); break;
    case 1: err = ca_rpc_block_number(&rpc, &v, &eb); break;
    case 2: err = ca_rpc_nonce(&rpc, &v, addr, "pending", &eb); break;
    case 3: err = ca_rpc_balance(&rpc, a, addr, "latest", &eb); break;
    case 4: err = ca_rpc_fee_suggestion(&rpc, a, b, &eb); break;
    case 5: err = ca_rpc_estimate_gas(&rpc, &v, addr, addr, raw, sizeof raw, &eb); break;
    case 6: err = ca_rpc_send_raw(&rpc, a, raw, sizeof raw, &eb); break;
    case 7:
        err = ca_rpc_receipt(&rpc, &r, hash, &eb);
        if (err == CA_OK && !r.found)
            FUZZ_CHECK(r.block_number == 0 && r.status == 0);
        break;
    case 8: err = ca_rpc_block_hash(&rpc, a, &found, 7, &eb); break;
    case 9: {
        json_t *res = NULL;
        err = ca_rpc_call(&rpc, "eth_getTransactionByHash", NULL, &res, &eb);
        FUZZ_CHECK((err == CA_OK) == (res != NULL));
        json_decref(res);
        break;
    }
    default: {
        json_t *res = NULL;
        err = ca_rpc_call(&rpc, "eth_accounts", NULL, &res, &eb); /* must be refused */
        FUZZ_CHECK(err == CA_ERR_INVALID && res == NULL);
        break;
    }
    }
    if (err != CA_OK)
        FUZZ_CHECK(eb.msg[0] != '\0');
    FUZZ_CHECK(memchr(rpc.last_rpc_message, '\0', sizeof rpc.last_rpc_message) != NULL);
    decoders(data + 1, size - 1);
    return 0;
}
