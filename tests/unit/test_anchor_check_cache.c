/*
 * The memo of passed final-anchor checks (anchor/anchor_check.c, anchor_check.h): what hits,
 * what misses (any field of the claim or the expected sender differs), only final records
 * kept, forget on a reorg, the oldest entry replaced when full, a NULL memo, and use from
 * several threads at once (issue #13 item 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "credanchor/anchor_check.h"

static const uint8_t SENDER[CA_ETH_ADDRESS_SIZE] = {0xaa, 1, 2, 3};
static const uint8_t OTHER_SENDER[CA_ETH_ADDRESS_SIZE] = {0xbb, 1, 2, 3};

/* A passed check of a final anchor whose tx hash and block hash start with n. */
static ca_anchor_report passed(uint32_t n)
{
    ca_anchor_report r;
    memset(&r, 0, sizeof r);
    ca_anchor_claim *c = &r.record;
    c->chain_id = 31337;
    memcpy(c->tx_hash, &n, sizeof n);
    c->in_block = true;
    c->block_number = 100 + n;
    memcpy(c->block_hash, &n, sizeof n);
    c->block_hash[31] = 0xbb;
    memcpy(c->from, SENDER, sizeof SENDER);
    c->to[0] = 0xcc;
    snprintf(c->status, sizeof c->status, "final");
    c->tree_size = 1000 + n;
    c->root.b[0] = (uint8_t)n;
    r.head = c->block_number + 5;
    r.confirmations = 6;
    r.gas_used = 21000 + n;
    return r;
}

static ca_anchor_check_cache *new_cache(void)
{
    ca_anchor_check_cache *cache = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_anchor_check_cache_create(&cache, &eb), CA_OK);
    assert_non_null(cache);
    return cache;
}

static void test_hit_and_misses(void **state)
{
    (void)state;
    ca_anchor_check_cache *cache = new_cache();
    ca_anchor_report r = passed(7), got;
    assert_false(ca_anchor_check_cache_get(cache, &got, &r.record, SENDER));
    ca_anchor_check_cache_put(cache, &r, SENDER);
    memset(&got, 0, sizeof got);
    assert_true(ca_anchor_check_cache_get(cache, &got, &r.record, SENDER));
    assert_int_equal(got.confirmations, 6);
    assert_int_equal(got.gas_used, 21007);
    assert_memory_equal(got.record.tx_hash, r.record.tx_hash, 32);

    /* Each field the check was about must be the same for a hit. */
    assert_false(ca_anchor_check_cache_get(cache, &got, &r.record, OTHER_SENDER));
    ca_anchor_claim c = r.record;
    c.block_hash[0] ^= 1; /* a reorg: the record names another block */
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.block_number++;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.root.b[5] ^= 1;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.tree_size++;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.chain_id = 1;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.to[0] ^= 1;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    c.has_previous = true;
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    c = r.record;
    snprintf(c.status, sizeof c.status, "confirmed"); /* only final records are answered */
    assert_false(ca_anchor_check_cache_get(cache, &got, &c, SENDER));
    ca_anchor_check_cache_free(cache);
}

static void test_only_final_kept(void **state)
{
    (void)state;
    ca_anchor_check_cache *cache = new_cache();
    ca_anchor_report r = passed(1), got;
    snprintf(r.record.status, sizeof r.record.status, "confirmed");
    ca_anchor_check_cache_put(cache, &r, SENDER);
    snprintf(r.record.status, sizeof r.record.status, "final");
    assert_false(ca_anchor_check_cache_get(cache, &got, &r.record, SENDER));
    ca_anchor_check_cache_free(cache);
}

static void test_forget(void **state)
{
    (void)state;
    ca_anchor_check_cache *cache = new_cache();
    ca_anchor_report a = passed(1), b = passed(2), got;
    ca_anchor_check_cache_put(cache, &a, SENDER);
    ca_anchor_check_cache_put(cache, &a, OTHER_SENDER);
    ca_anchor_check_cache_put(cache, &b, SENDER);
    ca_anchor_check_cache_forget(cache, a.record.tx_hash);
    assert_false(ca_anchor_check_cache_get(cache, &got, &a.record, SENDER));
    assert_false(ca_anchor_check_cache_get(cache, &got, &a.record, OTHER_SENDER));
    assert_true(ca_anchor_check_cache_get(cache, &got, &b.record, SENDER));
    /* Checked again after the reorg settles: remembered again. */
    ca_anchor_check_cache_put(cache, &a, SENDER);
    assert_true(ca_anchor_check_cache_get(cache, &got, &a.record, SENDER));
    ca_anchor_check_cache_free(cache);
}

static void test_full_replaces_oldest(void **state)
{
    (void)state;
    ca_anchor_check_cache *cache = new_cache();
    ca_anchor_report got;
    for (uint32_t i = 0; i < CA_ANCHOR_CHECK_CACHE_MAX; i++) {
        ca_anchor_report r = passed(i);
        ca_anchor_check_cache_put(cache, &r, SENDER);
    }
    ca_anchor_report r0 = passed(0), r1 = passed(1), last = passed(CA_ANCHOR_CHECK_CACHE_MAX);
    /* Putting an entry that is already there takes no new slot. */
    ca_anchor_check_cache_put(cache, &r1, SENDER);
    assert_true(ca_anchor_check_cache_get(cache, &got, &r0.record, SENDER));
    ca_anchor_check_cache_put(cache, &last, SENDER);
    assert_false(ca_anchor_check_cache_get(cache, &got, &r0.record, SENDER));
    assert_true(ca_anchor_check_cache_get(cache, &got, &r1.record, SENDER));
    assert_true(ca_anchor_check_cache_get(cache, &got, &last.record, SENDER));
    ca_anchor_check_cache_free(cache);
}

static void test_null_cache(void **state)
{
    (void)state;
    ca_anchor_report r = passed(3), got;
    ca_anchor_check_cache_put(NULL, &r, SENDER);
    assert_false(ca_anchor_check_cache_get(NULL, &got, &r.record, SENDER));
    ca_anchor_check_cache_forget(NULL, r.record.tx_hash);
    ca_anchor_check_cache_free(NULL);
}

#define THREADS 4
#define ROUNDS 2000

static void *hammer(void *arg)
{
    ca_anchor_check_cache *cache = arg;
    bool ok = true;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        ca_anchor_report r = passed(i % 300), got;
        ca_anchor_check_cache_put(cache, &r, SENDER);
        if (ca_anchor_check_cache_get(cache, &got, &r.record, SENDER))
            ok = ok && got.gas_used == r.gas_used; /* never a torn entry */
        if (i % 7 == 0)
            ca_anchor_check_cache_forget(cache, r.record.tx_hash);
    }
    return ok ? cache : NULL;
}

static void test_threads(void **state)
{
    (void)state;
    ca_anchor_check_cache *cache = new_cache();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, cache), 0);
    for (int i = 0; i < THREADS; i++) {
        void *ret = NULL;
        pthread_join(t[i], &ret);
        assert_ptr_equal(ret, cache);
    }
    ca_anchor_check_cache_free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_misses),
        cmocka_unit_test(test_only_final_kept),
        cmocka_unit_test(test_forget),
        cmocka_unit_test(test_full_replaces_oldest),
        cmocka_unit_test(test_null_cache),
        cmocka_unit_test(test_threads),
    };
    return ca_run_tests("anchor_check_cache", tests, NULL, NULL);
}
