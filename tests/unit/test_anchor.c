/* Anchor records (node/anchor_engine.c): the stored encoding round-trips every field, the public
 * object has exactly the SPEC §3 fields, and malformed stored text is refused. The state
 * machine itself runs against a real anvil in tests/cli/anchor_anvil.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "testutil.h"

#include "node/anchor_engine.h"

#include <stdlib.h>
#include <string.h>

static void fill(ca_anchor_record *r)
{
    memset(r, 0, sizeof *r);
    r->chain_id = 31337;
    r->status = CA_ANCHOR_CONFIRMED;
    r->tree_size = 1000000;
    memset(r->root.b, 0xab, 32);
    memset(r->from, 0x11, 20);
    memset(r->to, 0x22, 20);
    r->has_tx = true;
    memset(r->tx_hash, 0x33, 32);
    r->in_block = true;
    r->block_number = 77;
    memset(r->block_hash, 0x44, 32);
    r->has_previous = true;
    r->prev_size = 512;
    memset(r->prev_root.b, 0x55, 32);
    r->consistency_len = 3;
    for (int i = 0; i < 3; i++)
        memset(r->consistency[i].b, 0x60 + i, 32);
    r->has_raw = true;
    r->nonce = 9;
    r->max_fee[31] = 7;
    r->max_priority_fee[30] = 1;
    r->gas_limit = 24805;
    r->raw_len = 150;
    for (int i = 0; i < 150; i++)
        r->raw[i] = (uint8_t)i;
    memset(r->raw_hash, 0x77, 32);
    r->n_old = 2;
    memset(r->old_hashes[0], 0x88, 32);
    memset(r->old_hashes[1], 0x99, 32);
    r->created_at = 1700000000;
    r->signed_at = 1700000001;
    r->updated_at = 1700000002;
}

static void test_roundtrip(void **state)
{
    (void)state;
    ca_anchor_record *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    fill(a);
    for (int s = 0; s <= CA_ANCHOR_FINAL; s++) {
        a->status = (ca_anchor_status)s;
        char *text;
        assert_int_equal(ca_anchor_record_encode(&text, a, NULL), CA_OK);
        assert_int_equal(ca_anchor_record_decode(b, text, strlen(text), NULL), CA_OK);
        assert_memory_equal(a, b, sizeof *a);
        free(text);
    }
    /* A final record whose block is finalized: "settled" is stored, never published. */
    a->settled = true;
    char *st;
    assert_int_equal(ca_anchor_record_encode(&st, a, NULL), CA_OK);
    assert_non_null(strstr(st, "\"settled\":true"));
    assert_int_equal(ca_anchor_record_decode(b, st, strlen(st), NULL), CA_OK);
    assert_memory_equal(a, b, sizeof *a);
    free(st);
    json_t *pub = ca_anchor_record_json(a);
    assert_null(json_object_get(pub, "settled"));
    json_decref(pub);
    /* A pending record without tx, block, previous or raw transaction. */
    fill(a);
    a->status = CA_ANCHOR_PENDING;
    a->has_tx = a->in_block = a->has_previous = a->has_raw = false;
    memset(a->tx_hash, 0, 32);
    a->block_number = 0;
    memset(a->block_hash, 0, 32);
    a->prev_size = 0;
    memset(a->prev_root.b, 0, 32);
    memset(a->consistency, 0, sizeof a->consistency);
    a->consistency_len = 0;
    memset(a->raw, 0, sizeof a->raw);
    a->raw_len = 0;
    memset(a->raw_hash, 0, 32);
    char *text;
    assert_int_equal(ca_anchor_record_encode(&text, a, NULL), CA_OK);
    assert_int_equal(ca_anchor_record_decode(b, text, strlen(text), NULL), CA_OK);
    assert_memory_equal(a, b, sizeof *a);
    free(text);
    free(a);
    free(b);
}

static void test_public_json(void **state)
{
    (void)state;
    ca_anchor_record *a = malloc(sizeof *a);
    fill(a);
    json_t *o = ca_anchor_record_json(a);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *want =
        "{\"chain\":\"eip155:31337\",\"txHash\":\"0x3333333333333333333333333333333333333333333333333333333333333333\","
        "\"blockNumber\":77,\"blockHash\":\"0x4444444444444444444444444444444444444444444444444444444444444444\","
        "\"from\":\"0x1111111111111111111111111111111111111111\",\"to\":\"0x2222222222222222222222222222222222222222\","
        "\"status\":\"confirmed\",\"treeSize\":1000000,"
        "\"rootHash\":\"abababababababababababababababababababababababababababababababab\","
        "\"previous\":{\"treeSize\":512,\"rootHash\":\"5555555555555555555555555555555555555555555555555555555555555555\","
        "\"consistencyProof\":[\"6060606060606060606060606060606060606060606060606060606060606060\","
        "\"6161616161616161616161616161616161616161616161616161616161616161\","
        "\"6262626262626262626262626262626262626262626262626262626262626262\"]}}";
    assert_string_equal(s, want);
    free(s);
    json_decref(o);
    a->status = CA_ANCHOR_PENDING;
    a->has_tx = a->in_block = a->has_previous = false;
    o = ca_anchor_record_json(a);
    assert_true(json_is_null(json_object_get(o, "txHash")));
    assert_true(json_is_null(json_object_get(o, "blockNumber")));
    assert_true(json_is_null(json_object_get(o, "blockHash")));
    assert_true(json_is_null(json_object_get(o, "previous")));
    assert_int_equal(json_object_size(o), 10);
    json_decref(o);
    free(a);
}

static void test_malformed(void **state)
{
    (void)state;
    ca_anchor_record *a = malloc(sizeof *a);
    const char *bad[] = {"", "[]", "{}", "{\"status\":\"mined\"}", "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ca_anchor_record_decode(a, bad[i], strlen(bad[i]), NULL), CA_ERR_INVALID);
    /* A valid record with one field broken. */
    fill(a);
    char *text;
    assert_int_equal(ca_anchor_record_encode(&text, a, NULL), CA_OK);
    char *p = strstr(text, "\"from\":\"0x");
    assert_non_null(p);
    p[10] = 'z';
    assert_int_equal(ca_anchor_record_decode(a, text, strlen(text), NULL), CA_ERR_INVALID);
    free(text);
    free(a);
    assert_string_equal(ca_anchor_status_name(CA_ANCHOR_FINAL), "final");
    assert_string_equal(ca_anchor_status_name(CA_ANCHOR_SUBMITTED), "submitted");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_public_json),
        cmocka_unit_test(test_malformed),
    };
    return ca_run_tests("anchor", tests, NULL, NULL);
}
