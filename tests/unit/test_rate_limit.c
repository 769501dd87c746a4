/* Unit tests for node/rate_limit.c (the per-address token buckets, node/rate_limit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "node/rate_limit.h"

#define SEC 1000000000ll

static void addr(uint8_t key[16], uint8_t last)
{
    memset(key, 0, 16);
    key[10] = key[11] = 0xff;
    key[15] = last;
}

/* The burst is one second's worth; past it the wait is whole seconds, rounded up. */
static void test_burst_then_wait(void **state)
{
    (void)state;
    ca_rate_limit *rl = ca_rate_limit_create(5);
    assert_non_null(rl);
    uint8_t a[16];
    addr(a, 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ca_rate_limit_take(rl, a, 10 * SEC), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, 10 * SEC), 1);
    /* a fifth of a second later one token is back */
    assert_int_equal(ca_rate_limit_take(rl, a, 10 * SEC + SEC / 5 + 1000), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, 10 * SEC + SEC / 5 + 1000), 1);
    ca_rate_limit_destroy(rl);
}

/* Addresses have their own buckets; the bucket refills up to the burst, not beyond. */
static void test_per_address_and_cap(void **state)
{
    (void)state;
    ca_rate_limit *rl = ca_rate_limit_create(2);
    assert_non_null(rl);
    uint8_t a[16], b[16];
    addr(a, 1);
    addr(b, 2);
    assert_int_equal(ca_rate_limit_take(rl, a, SEC), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, SEC), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, SEC), 1);
    assert_int_equal(ca_rate_limit_take(rl, b, SEC), 0);
    /* an hour idle gives the burst back, not an hour of tokens */
    assert_int_equal(ca_rate_limit_take(rl, a, 3600 * SEC), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, 3600 * SEC), 0);
    assert_int_equal(ca_rate_limit_take(rl, a, 3600 * SEC), 1);
    ca_rate_limit_destroy(rl);
}

/* A rate of 0 (node.rate_limit_per_ip = 0) allows everything. */
static void test_off(void **state)
{
    (void)state;
    ca_rate_limit *rl = ca_rate_limit_create(0);
    assert_non_null(rl);
    uint8_t a[16];
    addr(a, 1);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ca_rate_limit_take(rl, a, SEC), 0);
    ca_rate_limit_destroy(rl);
    ca_rate_limit_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_wait),
        cmocka_unit_test(test_per_address_and_cap),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
