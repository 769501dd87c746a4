/* The anchoring account's funds and reachability (node/anchor_account.c, issue #17) over a fake
 * JSON-RPC transport (no network): the anchors-left estimate and its edges, a reachable check
 * (balance, the fee capped by anchor.max_fee_gwei, low against the threshold), an unreachable
 * endpoint (the last funds kept, the reason given), a chain-id mismatch, and the route's JSON
 * before any check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "testutil.h"

#include "node/anchor_account.h"
#include "credanchor/eth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH "0x8ac7230489e80000" /* 10 ETH in wei */

/* Answers by method: chain id, balance, fee history (base fee 1 gwei), priority 1 gwei; or,
 * when down, a connection failure (CA_ERR_IO: certainly not sent). */
typedef struct fake_chain {
    bool down;
    const char *chain_id;
    const char *balance;
} fake_chain;

static ca_err fake_post(void *ctx, const char *url, const char *body, size_t len, char **resp,
                        size_t *resp_len, long *http_status, ca_errbuf *eb)
{
    (void)url;
    fake_chain *f = ctx;
    if (f->down)
        return ca_fail(eb, CA_ERR_IO, "cannot reach http://127.0.0.1:9: Connection refused");
    json_t *req = json_loadb(body, len, 0, NULL);
    const char *m = json_string_value(json_object_get(req, "method"));
    json_t *result;
    if (!strcmp(m, "eth_chainId"))
        result = json_string(f->chain_id);
    else if (!strcmp(m, "eth_getBalance"))
        result = json_string(f->balance);
    else if (!strcmp(m, "eth_maxPriorityFeePerGas"))
        result = json_string("0x3b9aca00");
    else if (!strcmp(m, "eth_feeHistory"))
        result = json_pack("{s:s, s:[s,s,s,s,s], s:[f,f,f,f], s:[[s],[s],[s],[s]]}", "oldestBlock",
                           "0x1", "baseFeePerGas", "0x3b9aca00", "0x3b9aca00", "0x3b9aca00",
                           "0x3b9aca00", "0x3b9aca00", "gasUsedRatio", 0.5, 0.5, 0.5, 0.5,
                           "reward", "0x1", "0x1", "0x1", "0x1");
    else
        result = json_null();
    json_t *ans = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                            json_object_get(req, "id"), "result", result);
    *resp = json_dumps(ans, JSON_COMPACT);
    *resp_len = strlen(*resp);
    *http_status = 200;
    json_decref(ans);
    json_decref(req);
    return CA_OK;
}

static const uint8_t ADDR[20] = {0x1a, 0x33, 0x49};

static void setup_rpc(ca_rpc *rpc, fake_chain *f)
{
    ca_rpc_transport t = {fake_post, f};
    assert_int_equal(ca_rpc_init(rpc, "http://127.0.0.1:9", &t, NULL), CA_OK);
    rpc->backoff_ms = 1;
}

static json_t *view(ca_anchor_account *a)
{
    return ca_anchor_account_json(a);
}

static void test_estimate(void **state)
{
    (void)state;
    uint8_t bal[32] = {0}, price[32] = {0};
    ca_u256_from_uint(bal, 10000000000000000000ull);
    ca_u256_from_uint(price, 3000000000ull);
    assert_true(ca_anchor_account_estimate(bal, 22610, price) ==
                10000000000000000000ull / (22610ull * 3000000000ull));
    /* exactly ten anchors' worth, and one wei less */
    ca_u256_from_uint(bal, 10ull * 22610ull * 3000000000ull);
    assert_true(ca_anchor_account_estimate(bal, 22610, price) == 10);
    ca_u256_from_uint(bal, 10ull * 22610ull * 3000000000ull - 1);
    assert_true(ca_anchor_account_estimate(bal, 22610, price) == 9);
    /* no price or no gas: nothing to divide by */
    uint8_t zero[32] = {0};
    assert_true(ca_anchor_account_estimate(bal, 22610, zero) == UINT64_MAX);
    assert_true(ca_anchor_account_estimate(bal, 0, price) == UINT64_MAX);
    /* a price past 2^128 saturates: no anchor left, no overflow */
    uint8_t huge[32] = {0};
    huge[0] = 1;
    assert_true(ca_anchor_account_estimate(bal, 22610, huge) == 0);
}

static void test_reachable_then_low_then_down(void **state)
{
    (void)state;
    fake_chain f = {.chain_id = "0x7a69", .balance = ETH};
    ca_rpc rpc;
    setup_rpc(&rpc, &f);
    ca_anchor_account a;
    ca_anchor_account_init(&a, ADDR, 31337, 100, 500);

    json_t *o = view(&a); /* before any check */
    assert_true(json_is_null(json_object_get(o, "checkedAt")));
    assert_true(json_is_null(json_object_get(o, "balanceWei")));
    assert_false(json_is_true(json_object_get(o, "reachable")));
    assert_string_equal(json_string_value(json_object_get(o, "error")), "not checked yet");
    json_decref(o);

    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    o = view(&a);
    assert_true(json_is_true(json_object_get(o, "reachable")));
    assert_string_equal(json_string_value(json_object_get(o, "balanceWei")),
                        "10000000000000000000");
    assert_string_equal(json_string_value(json_object_get(o, "gasPriceWei")), "3000000000");
    assert_int_equal(json_integer_value(json_object_get(o, "gasPerAnchor")), CA_ANCHOR_GAS_DEFAULT);
    assert_int_equal(json_integer_value(json_object_get(o, "anchorsLeft")),
                     10000000000000000000ull / (22610ull * 3000000000ull));
    assert_false(json_is_true(json_object_get(o, "low")));
    assert_true(json_is_null(json_object_get(o, "error")));
    assert_string_equal(json_string_value(json_object_get(o, "address")),
                        "0x1a33490000000000000000000000000000000000");
    json_decref(o);

    f.balance = "0x3d2e5ab57ffff"; /* 1,076,308,794,146,815 wei: 15.9 anchors -> 15 */
    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    o = view(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "anchorsLeft")),
                     0x3d2e5ab57ffffull / (22610ull * 3000000000ull));
    assert_true(json_is_true(json_object_get(o, "low")));
    json_decref(o);

    f.down = true; /* unreachable: the reason, and the last funds kept */
    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    o = view(&a);
    assert_false(json_is_true(json_object_get(o, "reachable")));
    assert_non_null(strstr(json_string_value(json_object_get(o, "error")), "127.0.0.1:9"));
    assert_string_equal(json_string_value(json_object_get(o, "balanceWei")), "1076308794146815");
    assert_true(json_is_true(json_object_get(o, "low")));
    json_decref(o);

    f.down = false; /* back */
    f.balance = ETH;
    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    o = view(&a);
    assert_true(json_is_true(json_object_get(o, "reachable")));
    assert_false(json_is_true(json_object_get(o, "low")));
    json_decref(o);
    ca_anchor_account_destroy(&a);
}

static void test_fee_cap_and_chain_mismatch(void **state)
{
    (void)state;
    fake_chain f = {.chain_id = "0x7a69", .balance = ETH};
    ca_rpc rpc;
    setup_rpc(&rpc, &f);
    ca_anchor_account a;
    ca_anchor_account_init(&a, ADDR, 31337, 0, 2); /* cap 2 gwei; threshold 0: never low */
    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    json_t *o = view(&a);
    assert_string_equal(json_string_value(json_object_get(o, "gasPriceWei")), "2000000000");
    assert_false(json_is_true(json_object_get(o, "low")));
    json_decref(o);

    f.chain_id = "0x1"; /* another chain: not the one the node anchors on */
    ca_anchor_account_check(&a, &rpc, NULL, NULL);
    o = view(&a);
    assert_false(json_is_true(json_object_get(o, "reachable")));
    assert_non_null(strstr(json_string_value(json_object_get(o, "error")), "chain id 1"));
    json_decref(o);

    /* a stop during the check (cancel set): the result is dropped */
    atomic_bool cancel = true;
    f.chain_id = "0x7a69";
    ca_anchor_account_check(&a, &rpc, NULL, &cancel);
    o = view(&a);
    assert_false(json_is_true(json_object_get(o, "reachable")));
    json_decref(o);
    ca_anchor_account_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate),
        cmocka_unit_test(test_reachable_then_low_then_down),
        cmocka_unit_test(test_fee_cap_and_chain_mismatch),
    };
    return ca_run_tests("anchor_account", tests, NULL, NULL);
}
