/* JSON-RPC client (anchor/rpc.c) over an injected fake transport (no network): every typed
 * helper's happy path, the JSON-RPC 2.0 response checks, retries and their limits, the
 * response cap, strict quantity/data decoding and the method allow-list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "testutil.h"

#include "credanchor/crypto.h"
#include "credanchor/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the fake transport: a queue of canned answers ---- */

typedef struct canned {
    ca_err terr;
    long status;
    const char *body; /* "%ID%" is replaced by the request's id */
} canned;

typedef struct fake {
    canned q[8];
    size_t n, next;
    size_t calls;
    char last_body[4096];
    char methods[8][64];
    size_t big; /* when non-zero, answer with a body of this many bytes */
    atomic_bool *cancel_on_call; /* when set, the transport sets it (a stop mid-call) */
} fake;

static ca_err fake_post(void *ctx, const char *url, const char *body, size_t len, char **resp,
                        size_t *resp_len, long *http_status, ca_errbuf *eb)
{
    fake *f = ctx;
    (void)url;
    assert_true(len < sizeof f->last_body);
    memcpy(f->last_body, body, len);
    f->last_body[len] = '\0';
    json_t *req = json_loadb(body, len, 0, NULL);
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "jsonrpc")), "2.0");
    long long id = json_integer_value(json_object_get(req, "id"));
    if (f->calls < 8)
        snprintf(f->methods[f->calls], 64, "%s",
                 json_string_value(json_object_get(req, "method")));
    json_decref(req);
    f->calls++;
    if (f->cancel_on_call)
        atomic_store(f->cancel_on_call, true);
    if (f->big) {
        *resp = malloc(f->big + 1);
        memset(*resp, ' ', f->big);
        (*resp)[f->big] = '\0';
        *resp_len = f->big;
        *http_status = 200;
        return CA_OK;
    }
    assert_true(f->next < f->n);
    canned c = f->q[f->next++];
    if (c.terr != CA_OK)
        return ca_fail(eb, c.terr, "connection refused");
    char buf[4096], idtxt[32];
    snprintf(idtxt, sizeof idtxt, "%lld", id);
    const char *p = c.body, *m;
    size_t o = 0;
    while ((m = strstr(p, "%ID%"))) {
        memcpy(buf + o, p, (size_t)(m - p));
        o += (size_t)(m - p);
        memcpy(buf + o, idtxt, strlen(idtxt));
        o += strlen(idtxt);
        p = m + 4;
    }
    strcpy(buf + o, p);
    *resp = strdup(buf);
    *resp_len = strlen(buf);
    *http_status = c.status;
    return CA_OK;
}

static void push(fake *f, ca_err terr, long status, const char *body)
{
    assert_true(f->n < 8);
    f->q[f->n++] = (canned){terr, status, body};
}

static void ok_result(fake *f, const char *result_json)
{
    static char store[8][2048];
    static size_t k;
    char *b = store[k++ % 8];
    snprintf(b, 2048, "{\"jsonrpc\":\"2.0\",\"id\":%%ID%%,\"result\":%s}", result_json);
    push(f, CA_OK, 200, b);
}

static void setup_rpc(ca_rpc *rpc, fake *f)
{
    memset(f, 0, sizeof *f);
    ca_rpc_transport t = {fake_post, f};
    assert_int_equal(ca_rpc_init(rpc, "http://user:pw@127.0.0.1:8545/v3/SECRETKEY", &t, NULL),
                     CA_OK);
    rpc->backoff_ms = 0; /* no sleeping in unit tests */
}

static void hex_to(uint8_t *out, size_t n, const char *hex)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* ---- typed helpers ---- */

static void test_chain_id_and_block_number(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    ok_result(&f, "\"0x7a69\"");
    ok_result(&f, "\"0x1b4\"");
    uint64_t v = 0;
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, NULL), CA_OK);
    assert_int_equal(v, 31337);
    assert_non_null(strstr(f.last_body, "\"method\":\"eth_chainId\""));
    assert_non_null(strstr(f.last_body, "\"params\":[]"));
    assert_non_null(strstr(f.last_body, "\"id\":1"));
    assert_int_equal(ca_rpc_block_number(&rpc, &v, NULL), CA_OK);
    assert_int_equal(v, 436);
    assert_non_null(strstr(f.last_body, "\"id\":2")); /* ids increment */
}

static void test_nonce_and_balance(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    uint8_t addr[20];
    hex_to(addr, 20, "f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    ok_result(&f, "\"0x0\"");
    ok_result(&f, "\"0xde0b6b3a7640000\"");
    uint64_t n = 99;
    assert_int_equal(ca_rpc_nonce(&rpc, &n, addr, "pending", NULL), CA_OK);
    assert_int_equal(n, 0);
    assert_non_null(strstr(f.last_body, "[\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
                                        "\"pending\"]"));
    uint8_t bal[32], want[32] = {0};
    hex_to(want + 24, 8, "0de0b6b3a7640000");
    assert_int_equal(ca_rpc_balance(&rpc, bal, addr, "latest", NULL), CA_OK);
    assert_memory_equal(bal, want, 32);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_nonce(&rpc, &n, addr, "newest", &eb), CA_ERR_INVALID);
    assert_int_equal(f.calls, 2);
}

static void test_fee_suggestion(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    /* base fee of the next block = last entry (0x64 = 100); priority from
     * eth_maxPriorityFeePerGas (0x3b9aca00 = 1 gwei) */
    ok_result(&f, "{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\",\"0x64\"],"
                  "\"gasUsedRatio\":[0.5,0.5],\"reward\":[[\"0x5\"],[\"0x7\"]]}");
    ok_result(&f, "\"0x3b9aca00\"");
    uint8_t prio[32], maxfee[32], want[32] = {0};
    assert_int_equal(ca_rpc_fee_suggestion(&rpc, prio, maxfee, NULL), CA_OK);
    hex_to(want + 28, 4, "3b9aca00");
    assert_memory_equal(prio, want, 32);
    hex_to(want + 28, 4, "3b9acac8"); /* 1e9 + 200 */
    assert_memory_equal(maxfee, want, 32);
    assert_string_equal(f.methods[0], "eth_feeHistory");
    assert_string_equal(f.methods[1], "eth_maxPriorityFeePerGas");

    /* fallback: eth_maxPriorityFeePerGas not supported -> median of rewards (5, 7, 9 -> 7) */
    setup_rpc(&rpc, &f);
    ok_result(&f, "{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\",\"0x3\",\"0xa\"],"
                  "\"gasUsedRatio\":[0.5,0.5,0.5],\"reward\":[[\"0x9\"],[\"0x5\"],[\"0x7\"]]}");
    push(&f, CA_OK, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32601,"
                         "\"message\":\"method not found\"}}");
    assert_int_equal(ca_rpc_fee_suggestion(&rpc, prio, maxfee, NULL), CA_OK);
    memset(want, 0, 32);
    want[31] = 7;
    assert_memory_equal(prio, want, 32);
    want[31] = 27;
    assert_memory_equal(maxfee, want, 32);

    /* overflow of 2 * base */
    setup_rpc(&rpc, &f);
    ok_result(&f, "{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x8" /* 2^255 */
                  "000000000000000000000000000000000000000000000000000000000000000\"],"
                  "\"gasUsedRatio\":[]}");
    ok_result(&f, "\"0x1\"");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_fee_suggestion(&rpc, prio, maxfee, &eb), CA_ERR_RANGE);
}

static void test_estimate_gas(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    uint8_t from[20], to[20], data[44];
    memset(from, 0x11, 20);
    memset(to, 0x22, 20);
    memset(data, 0xab, 44);
    ok_result(&f, "\"0x5598\"");
    uint64_t gas = 0;
    assert_int_equal(ca_rpc_estimate_gas(&rpc, &gas, from, to, data, 44, NULL), CA_OK);
    assert_int_equal(gas, 21912);
    assert_non_null(strstr(f.last_body, "\"from\":\"0x1111111111111111111111111111111111111111\""));
    assert_non_null(strstr(f.last_body, "\"to\":\"0x2222222222222222222222222222222222222222\""));
    char want[100] = "\"data\":\"0x";
    for (int i = 0; i < 44; i++)
        strcat(want, "ab");
    assert_non_null(strstr(f.last_body, want));
}

static void test_send_raw(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    const uint8_t raw[] = {0x02, 0xf8, 0x01, 0x02, 0x03};
    ca_hash h;
    ca_keccak256(&h, raw, sizeof raw);
    char res[80] = "\"0x";
    for (int i = 0; i < 32; i++)
        snprintf(res + 3 + 2 * i, 3, "%02x", h.b[i]);
    strcat(res, "\"");
    ok_result(&f, res);
    uint8_t got[32];
    assert_int_equal(ca_rpc_send_raw(&rpc, got, raw, sizeof raw, NULL), CA_OK);
    assert_memory_equal(got, h.b, 32);
    assert_non_null(strstr(f.last_body, "\"params\":[\"0x02f8010203\"]"));

    /* a hash that is not keccak256(raw) */
    ok_result(&f, "\"0x1111111111111111111111111111111111111111111111111111111111111111\"");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_send_raw(&rpc, got, raw, sizeof raw, &eb), CA_ERR_VERIFY);
}

static void test_receipt(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    uint8_t txh[32];
    memset(txh, 0x33, 32);
    ok_result(&f, "{\"status\":\"0x1\",\"blockNumber\":\"0x10\",\"blockHash\":\"0x"
                  "4444444444444444444444444444444444444444444444444444444444444444\","
                  "\"from\":\"0x5555555555555555555555555555555555555555\","
                  "\"to\":\"0x6666666666666666666666666666666666666666\",\"gasUsed\":\"0x5598\","
                  "\"logs\":[]}");
    ca_rpc_receipt_info r;
    assert_int_equal(ca_rpc_receipt(&rpc, &r, txh, NULL), CA_OK);
    assert_true(r.found);
    assert_int_equal(r.status, 1);
    assert_int_equal(r.block_number, 16);
    assert_int_equal(r.block_hash[0], 0x44);
    assert_int_equal(r.from[19], 0x55);
    assert_true(r.has_to);
    assert_int_equal(r.to[0], 0x66);
    assert_int_equal(r.gas_used, 21912);
    assert_non_null(strstr(f.last_body, "\"params\":[\"0x3333"));

    ok_result(&f, "null");
    assert_int_equal(ca_rpc_receipt(&rpc, &r, txh, NULL), CA_OK);
    assert_false(r.found);

    /* bad status value */
    ok_result(&f, "{\"status\":\"0x2\",\"blockNumber\":\"0x10\",\"blockHash\":\"0x"
                  "4444444444444444444444444444444444444444444444444444444444444444\","
                  "\"from\":\"0x5555555555555555555555555555555555555555\",\"to\":null,"
                  "\"gasUsed\":\"0x1\"}");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_receipt(&rpc, &r, txh, &eb), CA_ERR_INVALID);
    assert_false(r.found);
}

static void test_block_hash(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    ok_result(&f, "{\"number\":\"0x0\",\"hash\":\"0x"
                  "7777777777777777777777777777777777777777777777777777777777777777\"}");
    uint8_t h[32];
    bool found = false;
    assert_int_equal(ca_rpc_block_hash(&rpc, h, &found, 0, NULL), CA_OK);
    assert_true(found);
    assert_int_equal(h[31], 0x77);
    assert_non_null(strstr(f.last_body, "\"params\":[\"0x0\",false]"));
    ok_result(&f, "null");
    assert_int_equal(ca_rpc_block_hash(&rpc, h, &found, 1000, NULL), CA_OK);
    assert_false(found);
    /* a block of another height */
    ok_result(&f, "{\"number\":\"0x1\",\"hash\":\"0x"
                  "7777777777777777777777777777777777777777777777777777777777777777\"}");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_block_hash(&rpc, h, &found, 2, &eb), CA_ERR_INVALID);
}

static void test_tagged_block_number(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    ok_result(&f, "{\"number\":\"0x2a\",\"hash\":\"0x"
                  "7777777777777777777777777777777777777777777777777777777777777777\"}");
    uint64_t n = 0;
    bool found = false;
    assert_int_equal(ca_rpc_tagged_block_number(&rpc, &n, &found, "finalized", NULL), CA_OK);
    assert_true(found);
    assert_int_equal(n, 42);
    assert_non_null(strstr(f.last_body, "\"params\":[\"finalized\",false]"));
    ok_result(&f, "null"); /* a chain that has no finalized block yet */
    assert_int_equal(ca_rpc_tagged_block_number(&rpc, &n, &found, "finalized", NULL), CA_OK);
    assert_false(found);
    /* a chain without the tag answers an error: the caller can tell it apart */
    push(&f, CA_OK, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
                         "\"message\":\"finalized block not found\"}}");
    assert_int_equal(ca_rpc_tagged_block_number(&rpc, &n, &found, "finalized", NULL),
                     CA_ERR_NETWORK);
    assert_true(rpc.last_rpc_error);
    ok_result(&f, "{\"hash\":\"0x00\"}");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_tagged_block_number(&rpc, &n, &found, "finalized", &eb),
                     CA_ERR_INVALID);
}

/* Issue #13 item 5: a set cancel flag stops a call before it is sent, and a stop during a
 * failed attempt ends the call without the retry or its backoff sleep. */
static void test_cancel(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    atomic_bool cancel = false;
    uint64_t v;
    ca_errbuf eb = {{0}};

    setup_rpc(&rpc, &f);
    rpc.cancel = &cancel;
    atomic_store(&cancel, true);
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    assert_non_null(strstr(eb.msg, "cancelled"));
    assert_int_equal(f.calls, 0);

    setup_rpc(&rpc, &f);
    atomic_store(&cancel, false);
    rpc.cancel = &cancel;
    rpc.backoff_ms = 10000; /* a retry would sleep 10 s first */
    rpc.backoff_max_ms = 10000;
    f.cancel_on_call = &cancel;
    push(&f, CA_ERR_IO, 0, NULL);
    push(&f, CA_ERR_IO, 0, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(f.calls, 1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* ---- response checks ---- */

static void expect_fail(const char *body, long status, ca_err want, const char *msg_part)
{
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, status, body);
    uint64_t v;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), want);
    if (!strstr(eb.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, msg_part);
    assert_null(strstr(eb.msg, "SECRETKEY")); /* the URL path is never printed */
    assert_null(strstr(eb.msg, "pw@"));
    assert_null(strchr(eb.msg, '\n'));
    assert_int_equal(f.calls, 1); /* none of these is retried */
}

static void test_response_errors(void **state)
{
    (void)state;
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
                "\"message\":\"header not found\\nsecond line\"}}",
                200, CA_ERR_NETWORK, "RPC eth_chainId: -32000 header not found?second line");
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":12345,\"result\":\"0x1\"}", 200, CA_ERR_NETWORK,
                "not JSON-RPC from http://127.0.0.1:8545: response id");
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":%ID%}", 200, CA_ERR_NETWORK, "neither");
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1\",\"error\":{\"code\":1,"
                "\"message\":\"x\"}}",
                200, CA_ERR_NETWORK, "both");
    expect_fail("<html>bad gateway</html>", 200, CA_ERR_NETWORK, "not JSON-RPC");
    expect_fail("[{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1\"}]", 200, CA_ERR_NETWORK,
                "not a JSON object");
    expect_fail("{\"jsonrpc\":\"1.0\",\"id\":%ID%,\"result\":\"0x1\"}", 200, CA_ERR_NETWORK,
                "jsonrpc");
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"message\":\"x\"}}", 200,
                CA_ERR_NETWORK, "malformed");
    expect_fail("{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":7}", 200, CA_ERR_INVALID,
                "not a string");
    expect_fail("bad request", 400, CA_ERR_NETWORK, "eth_chainId: HTTP 400 from "
                                                    "http://127.0.0.1:8545");
    expect_fail("moved", 301, CA_ERR_NETWORK, "HTTP 301");

    /* the JSON-RPC error is kept for the caller */
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
                         "\"message\":\"nonce too low\"}}");
    uint64_t v;
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, NULL), CA_ERR_NETWORK);
    assert_true(rpc.last_rpc_error);
    assert_int_equal(rpc.last_rpc_code, -32000);
    assert_string_equal(rpc.last_rpc_message, "nonce too low");
}

static void test_retries(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    uint64_t v = 0;
    ca_errbuf eb = {{0}};

    /* 500 then success */
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 500, "oops");
    ok_result(&f, "\"0x1\"");
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, NULL), CA_OK);
    assert_int_equal(v, 1);
    assert_int_equal(f.calls, 2);

    /* 3 x 500: gives up */
    setup_rpc(&rpc, &f);
    for (int i = 0; i < 3; i++)
        push(&f, CA_OK, 500, "oops");
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 3);
    assert_non_null(strstr(eb.msg, "HTTP 500 from http://127.0.0.1:8545 (after 3 attempts)"));

    /* 429 and a transport failure are retried too */
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 429, "slow down");
    push(&f, CA_ERR_NETWORK, 0, NULL);
    ok_result(&f, "\"0x2\"");
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, NULL), CA_OK);
    assert_int_equal(f.calls, 3);

    /* transport failure x3: a clear message */
    setup_rpc(&rpc, &f);
    for (int i = 0; i < 3; i++)
        push(&f, CA_ERR_IO, 0, NULL);
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    assert_non_null(strstr(eb.msg, "eth_chainId: cannot reach http://127.0.0.1:8545: "
                                   "connection refused"));

    /* 400: no retry */
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 400, "bad");
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 1);

    /* JSON-RPC error: no retry */
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32005,"
                         "\"message\":\"limit exceeded\"}}");
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 1);

    /* eth_sendRawTransaction: a 5xx or a maybe-sent failure is not retried ... */
    const uint8_t raw[] = {0x02, 0xc0};
    uint8_t h[32];
    setup_rpc(&rpc, &f);
    push(&f, CA_OK, 502, "bad gateway");
    assert_int_equal(ca_rpc_send_raw(&rpc, h, raw, sizeof raw, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 1);
    setup_rpc(&rpc, &f);
    push(&f, CA_ERR_NETWORK, 0, NULL);
    assert_int_equal(ca_rpc_send_raw(&rpc, h, raw, sizeof raw, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 1);
    /* ... but a connection that never carried the request is */
    setup_rpc(&rpc, &f);
    push(&f, CA_ERR_IO, 0, NULL);
    push(&f, CA_ERR_IO, 0, NULL);
    push(&f, CA_ERR_IO, 0, NULL);
    assert_int_equal(ca_rpc_send_raw(&rpc, h, raw, sizeof raw, &eb), CA_ERR_NETWORK);
    assert_int_equal(f.calls, 3);
}

static void test_oversize(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    rpc.max_response = 1000;
    f.big = 1001;
    uint64_t v;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(f.calls, 1);
    /* the transport's own cap */
    setup_rpc(&rpc, &f);
    push(&f, CA_ERR_TOO_LARGE, 0, NULL);
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(f.calls, 1);
}

/* ---- strict decoding ---- */

static void test_quantities(void **state)
{
    (void)state;
    uint64_t v;
    uint8_t u[32], want[32];
    assert_int_equal(ca_rpc_parse_u64(&v, "0x0", NULL), CA_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ca_rpc_parse_u64(&v, "0xffffffffffffffff", NULL), CA_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ca_rpc_parse_u64(&v, "0x1A", NULL), CA_OK);
    assert_int_equal(v, 26);
    static const char *const bad64[] = {"0x", "0x01", "0x00", "1a", "", "0x1g", "0X", "0X1",
                                        "0x10000000000000000", " 0x1", "0x1 ", "-0x1"};
    for (size_t i = 0; i < sizeof bad64 / sizeof bad64[0]; i++) {
        ca_errbuf eb = {{0}};
        if (ca_rpc_parse_u64(&v, bad64[i], &eb) != CA_ERR_INVALID)
            fail_msg("u64 \"%s\" accepted", bad64[i]);
    }
    char s65[70] = "0x1", s64[70] = "0xf";
    for (int i = 0; i < 64; i++)
        strcat(s65, "0");
    for (int i = 0; i < 63; i++)
        strcat(s64, "f");
    assert_int_equal(ca_rpc_parse_u256(u, s65, NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_u256(u, s64, NULL), CA_OK);
    memset(want, 0xff, 32);
    assert_memory_equal(u, want, 32);
    assert_int_equal(ca_rpc_parse_u256(u, "0x123", NULL), CA_OK);
    memset(want, 0, 32);
    want[30] = 0x01;
    want[31] = 0x23;
    assert_memory_equal(u, want, 32);
    assert_int_equal(ca_rpc_parse_u256(u, "0x01", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_u256(u, "0x", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_u256(u, "1a", NULL), CA_ERR_INVALID);

    uint8_t d[2];
    assert_int_equal(ca_rpc_parse_data(d, 2, "0x00ff", NULL), CA_OK);
    assert_int_equal(d[1], 0xff);
    assert_int_equal(ca_rpc_parse_data(d, 2, "00ff", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_data(d, 2, "0x0ff", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_data(d, 2, "0x00ff00", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_rpc_parse_data(d, 2, "0x00fg", NULL), CA_ERR_INVALID);
    char q[20];
    ca_rpc_format_u64(q, 0);
    assert_string_equal(q, "0x0");
    ca_rpc_format_u64(q, UINT64_MAX);
    assert_string_equal(q, "0xffffffffffffffff");

    /* a bad quantity in a result is CA_ERR_INVALID with the method named */
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    ok_result(&f, "\"0x01\"");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_rpc_chain_id(&rpc, &v, &eb), CA_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "RPC eth_chainId: quantity \"0x01\" has a leading zero"));
}

/* ---- allow-list and init ---- */

static void test_allow_list(void **state)
{
    (void)state;
    ca_rpc rpc;
    fake f;
    setup_rpc(&rpc, &f);
    static const char *const refused[] = {"eth_sendTransaction", "eth_accounts",
                                          "anvil_setBalance", "hardhat_mine", "eth_sign",
                                          "personal_unlockAccount", "evm_mine", "",
                                          "eth_chainid"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        json_t *res = (json_t *)1;
        ca_errbuf eb = {{0}};
        assert_false(ca_rpc_method_allowed(refused[i]));
        assert_int_equal(ca_rpc_call(&rpc, refused[i], NULL, &res, &eb), CA_ERR_INVALID);
        assert_null(res);
        assert_non_null(strstr(eb.msg, "not allowed"));
    }
    assert_int_equal(f.calls, 0); /* nothing was sent */
    assert_true(ca_rpc_method_allowed("eth_sendRawTransaction"));

    /* a generic call with params */
    ok_result(&f, "{\"a\":1}");
    json_t *params = json_pack("[s, b]", "0x1", 1);
    json_t *res = NULL;
    assert_int_equal(ca_rpc_call(&rpc, "eth_getBlockByNumber", params, &res, NULL), CA_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "a")), 1);
    assert_non_null(strstr(f.last_body, "\"params\":[\"0x1\",true]"));
    json_decref(res);
    json_decref(params);

    ca_rpc_transport t = {fake_post, &f};
    assert_int_equal(ca_rpc_init(&rpc, "ftp://127.0.0.1/", &t, NULL), CA_ERR_CONFIG);
    assert_int_equal(ca_rpc_init(&rpc, "file:///etc/passwd", &t, NULL), CA_ERR_CONFIG);
    assert_int_equal(ca_rpc_init(&rpc, "https://rpc.example/", &t, NULL), CA_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_id_and_block_number),
        cmocka_unit_test(test_nonce_and_balance),
        cmocka_unit_test(test_fee_suggestion),
        cmocka_unit_test(test_estimate_gas),
        cmocka_unit_test(test_send_raw),
        cmocka_unit_test(test_receipt),
        cmocka_unit_test(test_block_hash),
        cmocka_unit_test(test_tagged_block_number),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_response_errors),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_quantities),
        cmocka_unit_test(test_allow_list),
    };
    return ca_run_tests("rpc", tests, NULL, NULL);
}
