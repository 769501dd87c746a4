/* Tests for credential/status_list.c (W3C Bitstring Status List v1.0): bit order, encode /
 * decode round trips, the spec's own encodedList example, strict decoding (prefix, padding,
 * gzip only, trailing bytes, truncation, size cap against a gzip bomb, minimum length), and
 * the CSPRNG free-index choice (never a used bit, the last free bit anywhere, bits past nbits
 * never chosen, and chi-square checks of uniformity with fixed, very loose bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/status_list.h"

/* The encodedList of the examples in the W3C Recommendation (§2.1, "Example: Example
 * BitstringStatusListCredential"): 16,384 zero bytes, the 131,072-bit minimum list. Checked
 * independently with Python's base64 + gzip. */
static const char W3C_EXAMPLE[] =
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

/* ---- helpers ---- */

static char *encode(const uint8_t *bits, size_t nbytes, size_t *len)
{
    char *enc = NULL;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_status_list_encode(&enc, len, bits, nbytes, &eb);
    if (rc != CA_OK)
        fail_msg("encode: %s", ca_errmsg(&eb, rc));
    assert_non_null(enc);
    assert_int_equal(enc[*len], '\0');
    assert_int_equal(strlen(enc), *len);
    return enc;
}

static ca_err decode(uint8_t **bits, size_t *nbytes, const char *enc, size_t len,
                     size_t min_bits, size_t max_bytes)
{
    ca_errbuf eb = {{0}};
    ca_err rc = ca_status_list_decode(bits, nbytes, enc, len, min_bits, max_bytes, &eb);
    if (rc == CA_OK)
        assert_non_null(*bits);
    else {
        assert_null(*bits);
        assert_int_equal(*nbytes, 0);
        assert_true(eb.msg[0] != '\0');
    }
    return rc;
}

static void expect_decode_fail(const char *enc, size_t len, size_t min_bits, size_t max_bytes,
                               ca_err want)
{
    uint8_t *bits = (uint8_t *)1;
    size_t n = 1;
    ca_err rc = decode(&bits, &n, enc, len, min_bits, max_bytes);
    if (rc != want)
        fail_msg("decode(%.40s...) = %d, want %d", enc, rc, want);
}

/* "u" + base64url of raw bytes (to hand-craft streams). */
static char *wrap(const uint8_t *raw, size_t len, size_t *out_len)
{
    char *s = malloc(1 + ca_base64url_encoded_len(len));
    assert_non_null(s);
    s[0] = 'u';
    ca_base64url_encode(s + 1, raw, len);
    *out_len = strlen(s);
    return s;
}

/* The gzip bytes inside an encodedList. */
static uint8_t *unwrap(const char *enc, size_t len, size_t *gz_len)
{
    assert_true(len > 1 && enc[0] == 'u');
    size_t cap = len;
    uint8_t *gz = malloc(cap);
    assert_non_null(gz);
    *gz_len = cap;
    assert_int_equal(ca_base64url_decode(gz, gz_len, enc + 1, len - 1), CA_OK);
    return gz;
}

static void roundtrip(const uint8_t *bits, size_t nbytes)
{
    size_t len;
    char *enc = encode(bits, nbytes, &len);
    assert_int_equal(enc[0], 'u');
    assert_null(strchr(enc, '='));
    uint8_t *back = NULL;
    size_t n = 0;
    assert_int_equal(decode(&back, &n, enc, len, nbytes * 8, CA_STATUS_LIST_MAX_BYTES), CA_OK);
    assert_int_equal(n, nbytes);
    if (nbytes)
        assert_memory_equal(back, bits, nbytes);
    /* Deterministic: the same list gives the same text. */
    size_t len2;
    char *enc2 = encode(bits, nbytes, &len2);
    assert_int_equal(len2, len);
    assert_string_equal(enc2, enc);
    free(enc2);
    free(back);
    free(enc);
}

/* ---- bit order (§3.2: index 0 is the left-most bit) ---- */

static void test_bit_order(void **state)
{
    (void)state;
    uint8_t b[4] = {0};
    ca_status_bit_set(b, 0, true);
    assert_int_equal(b[0], 0x80);
    ca_status_bit_set(b, 0, false);
    ca_status_bit_set(b, 7, true);
    assert_int_equal(b[0], 0x01);
    ca_status_bit_set(b, 7, false);
    ca_status_bit_set(b, 8, true);
    assert_int_equal(b[0], 0x00);
    assert_int_equal(b[1], 0x80);
    ca_status_bit_set(b, 31, true);
    assert_int_equal(b[3], 0x01);
    assert_true(ca_status_bit_get(b, 8));
    assert_true(ca_status_bit_get(b, 31));
    assert_false(ca_status_bit_get(b, 9));
    ca_status_bit_set(b, 8, false);
    assert_int_equal(b[1], 0x00);
    assert_false(ca_status_bit_get(b, 8));
}

/* ---- round trips ---- */

static void test_roundtrip_empty_full_random(void **state)
{
    (void)state;
    uint8_t *b = malloc(CA_STATUS_LIST_BYTES);
    assert_non_null(b);

    memset(b, 0, CA_STATUS_LIST_BYTES);
    roundtrip(b, CA_STATUS_LIST_BYTES);
    memset(b, 0xff, CA_STATUS_LIST_BYTES);
    roundtrip(b, CA_STATUS_LIST_BYTES);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ca_random_bytes(b, CA_STATUS_LIST_BYTES), CA_OK);
        roundtrip(b, CA_STATUS_LIST_BYTES);
    }
    /* Sparse: a few revoked entries. */
    memset(b, 0, CA_STATUS_LIST_BYTES);
    ca_status_bit_set(b, 0, true);
    ca_status_bit_set(b, 12345, true);
    ca_status_bit_set(b, CA_STATUS_LIST_BITS - 1, true);
    roundtrip(b, CA_STATUS_LIST_BYTES);
    /* Small and zero-length lists encode too (the minimum is the decoder's business). */
    roundtrip(b, 1);
    roundtrip(b, 0);
    free(b);
}

/* RFC 1952 §2.3: ID1 ID2 CM=8 FLG=0 MTIME=0 XFL OS=255. */
static void test_encode_fixed_gzip_header(void **state)
{
    (void)state;
    uint8_t b[64] = {0xaa, 0x55};
    size_t len, gz_len;
    char *enc = encode(b, sizeof b, &len);
    uint8_t *gz = unwrap(enc, len, &gz_len);
    assert_true(gz_len >= 18);
    assert_int_equal(gz[0], 0x1f);
    assert_int_equal(gz[1], 0x8b);
    assert_int_equal(gz[2], 8);
    assert_int_equal(gz[3], 0);
    assert_int_equal(gz[4] | gz[5] | gz[6] | gz[7], 0);
    assert_int_equal(gz[9], 255);
    free(gz);
    free(enc);
}

static void test_w3c_example(void **state)
{
    (void)state;
    uint8_t *bits = NULL;
    size_t n = 0;
    assert_int_equal(decode(&bits, &n, W3C_EXAMPLE, strlen(W3C_EXAMPLE), CA_STATUS_LIST_BITS,
                            CA_STATUS_LIST_MAX_BYTES),
                     CA_OK);
    assert_int_equal(n, 16384);
    for (size_t i = 0; i < n; i++)
        if (bits[i])
            fail_msg("byte %zu is %u", i, bits[i]);
    free(bits);
}

/* ---- strict decoding ---- */

static void test_bad_prefix(void **state)
{
    (void)state;
    expect_decode_fail("", 0, 0, 1024, CA_ERR_INVALID);
    expect_decode_fail("u", 1, 0, 1024, CA_ERR_INVALID);
    expect_decode_fail(W3C_EXAMPLE + 1, strlen(W3C_EXAMPLE) - 1, 0, 1 << 20, CA_ERR_INVALID);
    char tmp[sizeof W3C_EXAMPLE];
    memcpy(tmp, W3C_EXAMPLE, sizeof tmp);
    tmp[0] = 'U';
    expect_decode_fail(tmp, strlen(tmp), 0, 1 << 20, CA_ERR_INVALID);
    tmp[0] = 'z';
    expect_decode_fail(tmp, strlen(tmp), 0, 1 << 20, CA_ERR_INVALID);
    tmp[0] = 'm'; /* multibase base64 (standard alphabet, no padding) */
    expect_decode_fail(tmp, strlen(tmp), 0, 1 << 20, CA_ERR_INVALID);
}

static void test_padding_and_alphabet(void **state)
{
    (void)state;
    uint8_t b[5] = {1, 2, 3, 4, 5};
    size_t len;
    char *enc = encode(b, sizeof b, &len);
    /* Pad to a multiple of four (if already a multiple, add a full "=" pair anyway). */
    char *padded = malloc(len + 8);
    assert_non_null(padded);
    memcpy(padded, enc, len);
    size_t plen = len;
    do
        padded[plen++] = '=';
    while ((plen - 1) % 4);
    padded[plen] = '\0';
    expect_decode_fail(padded, plen, 0, 1024, CA_ERR_INVALID);

    /* The standard alphabet's '+' and '/' are not base64url. */
    char *alt = strdup(enc);
    assert_non_null(alt);
    alt[len / 2] = '+';
    expect_decode_fail(alt, len, 0, 1024, CA_ERR_INVALID);
    alt[len / 2] = '/';
    expect_decode_fail(alt, len, 0, 1024, CA_ERR_INVALID);
    /* A length of 1 mod 4 can never be base64. */
    expect_decode_fail("uH4sIA", 6, 0, 1024, CA_ERR_INVALID);
    /* Non-zero trailing bits: a second spelling of the same bytes is refused. */
    expect_decode_fail("uH4sIAB", 7, 0, 1024, CA_ERR_INVALID);
    free(alt);
    free(padded);
    free(enc);
}

static void test_zlib_and_raw_deflate_refused(void **state)
{
    (void)state;
    uint8_t b[256] = {0};
    /* zlib (RFC 1950) wrapper. */
    uint8_t z[512];
    uLongf zlen = sizeof z;
    assert_int_equal(compress2(z, &zlen, b, sizeof b, Z_DEFAULT_COMPRESSION), Z_OK);
    size_t len;
    char *enc = wrap(z, zlen, &len);
    expect_decode_fail(enc, len, 0, 1024, CA_ERR_INVALID);
    free(enc);

    /* Raw deflate (RFC 1951). */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = b;
    zs.avail_in = sizeof b;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t rlen = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    enc = wrap(z, rlen, &len);
    expect_decode_fail(enc, len, 0, 1024, CA_ERR_INVALID);
    free(enc);
}

static void test_trailing_garbage_refused(void **state)
{
    (void)state;
    uint8_t b[100] = {0};
    size_t len, gz_len, len2;
    char *enc = encode(b, sizeof b, &len);
    uint8_t *gz = unwrap(enc, len, &gz_len);

    /* One stray byte after the trailer. */
    uint8_t *more = malloc(2 * gz_len + 1);
    assert_non_null(more);
    memcpy(more, gz, gz_len);
    more[gz_len] = 0;
    char *bad = wrap(more, gz_len + 1, &len2);
    expect_decode_fail(bad, len2, 0, 1024, CA_ERR_INVALID);
    free(bad);

    /* A second gzip member (RFC 1952 §2.2 allows it; an encodedList is one member). */
    memcpy(more + gz_len, gz, gz_len);
    bad = wrap(more, 2 * gz_len, &len2);
    expect_decode_fail(bad, len2, 0, 1024, CA_ERR_INVALID);
    free(bad);

    /* Truncated: the trailer cut short, then the deflate data cut short. */
    bad = wrap(gz, gz_len - 1, &len2);
    expect_decode_fail(bad, len2, 0, 1024, CA_ERR_INVALID);
    free(bad);
    bad = wrap(gz, 12, &len2);
    expect_decode_fail(bad, len2, 0, 1024, CA_ERR_INVALID);
    free(bad);

    /* A wrong CRC-32 in the trailer. */
    memcpy(more, gz, gz_len);
    more[gz_len - 8] ^= 1;
    bad = wrap(more, gz_len, &len2);
    expect_decode_fail(bad, len2, 0, 1024, CA_ERR_INVALID);
    free(bad);

    free(more);
    free(gz);
    free(enc);
}

static void test_size_cap(void **state)
{
    (void)state;
    const size_t n = 1u << 20;
    uint8_t *b = calloc(n, 1);
    assert_non_null(b);
    size_t len;
    char *enc = encode(b, n, &len);
    uint8_t *out = NULL;
    size_t got = 0;
    /* Exactly at the cap is fine; one byte under it is too large. */
    assert_int_equal(decode(&out, &got, enc, len, 0, n), CA_OK);
    assert_int_equal(got, n);
    free(out);
    out = NULL;
    expect_decode_fail(enc, len, 0, n - 1, CA_ERR_TOO_LARGE);
    expect_decode_fail(enc, len, 0, 4096, CA_ERR_TOO_LARGE);
    expect_decode_fail(enc, len, 0, 0, CA_ERR_TOO_LARGE);
    free(enc);
    free(b);
}

/* A bomb: 64 MiB of zeros compress to ~64 KiB; decoding stops at the 16 MiB default cap. */
static void test_gzip_bomb(void **state)
{
    (void)state;
    const size_t n = 64u << 20;
    uint8_t *b = calloc(n, 1);
    assert_non_null(b);
    size_t len;
    char *enc = encode(b, n, &len);
    free(b);
    assert_true(len < (1u << 20));
    expect_decode_fail(enc, len, CA_STATUS_LIST_BITS, CA_STATUS_LIST_MAX_BYTES,
                       CA_ERR_TOO_LARGE);
    free(enc);
}

/* §3.3 step 4: a list shorter than the minimum length is an error. */
static void test_short_list_range(void **state)
{
    (void)state;
    uint8_t *b = calloc(CA_STATUS_LIST_BYTES, 1);
    assert_non_null(b);
    size_t len;
    char *enc = encode(b, CA_STATUS_LIST_BYTES - 1, &len);
    expect_decode_fail(enc, len, CA_STATUS_LIST_BITS, CA_STATUS_LIST_MAX_BYTES, CA_ERR_RANGE);
    uint8_t *out = NULL;
    size_t got = 0;
    assert_int_equal(decode(&out, &got, enc, len, CA_STATUS_LIST_BITS - 8,
                            CA_STATUS_LIST_MAX_BYTES),
                     CA_OK);
    free(out);
    free(enc);

    /* min_bits not a multiple of 8: 9 bits need 2 bytes. */
    enc = encode(b, 1, &len);
    expect_decode_fail(enc, len, 9, 1024, CA_ERR_RANGE);
    out = NULL;
    assert_int_equal(decode(&out, &got, enc, len, 8, 1024), CA_OK);
    free(out);
    free(enc);
    enc = encode(b, 0, &len);
    expect_decode_fail(enc, len, 1, 1024, CA_ERR_RANGE);
    free(enc);
    free(b);
}

/* ---- pick_free ---- */

static uint64_t pick(const uint8_t *used, size_t nbits, size_t nfree)
{
    uint64_t idx = UINT64_MAX;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_status_list_pick_free(&idx, used, nbits, nfree, &eb);
    if (rc != CA_OK)
        fail_msg("pick_free: %s", ca_errmsg(&eb, rc));
    assert_true(idx < nbits);
    assert_false(ca_status_bit_get(used, idx));
    return idx;
}

static void test_pick_never_used(void **state)
{
    (void)state;
    uint8_t *b = malloc(CA_STATUS_LIST_BYTES);
    assert_non_null(b);
    assert_int_equal(ca_random_bytes(b, CA_STATUS_LIST_BYTES), CA_OK);
    size_t nfree = 0;
    for (size_t i = 0; i < CA_STATUS_LIST_BITS; i++)
        nfree += !ca_status_bit_get(b, i);
    for (int i = 0; i < 2000; i++)
        (void)pick(b, CA_STATUS_LIST_BITS, nfree);

    /* Nearly full (so the rank fallback runs): fill, then free 5 random bits. */
    memset(b, 0xff, CA_STATUS_LIST_BYTES);
    uint64_t freed[5];
    for (int i = 0; i < 5; i++) {
        uint32_t r;
        assert_int_equal(ca_random_bytes(&r, sizeof r), CA_OK);
        freed[i] = r % CA_STATUS_LIST_BITS;
        ca_status_bit_set(b, freed[i], false);
    }
    nfree = 0;
    for (size_t i = 0; i < CA_STATUS_LIST_BITS; i++)
        nfree += !ca_status_bit_get(b, i);
    for (int i = 0; i < 200; i++) {
        uint64_t idx = pick(b, CA_STATUS_LIST_BITS, nfree);
        bool ok = false;
        for (int k = 0; k < 5; k++)
            ok |= idx == freed[k];
        assert_true(ok);
    }
    free(b);
}

static void test_pick_last_free(void **state)
{
    (void)state;
    uint8_t *b = malloc(CA_STATUS_LIST_BYTES);
    assert_non_null(b);
    const uint64_t where[] = {0, 1, 7, 8, 63, 64, 65, 12345, CA_STATUS_LIST_BITS / 2,
                              CA_STATUS_LIST_BITS - 65, CA_STATUS_LIST_BITS - 64,
                              CA_STATUS_LIST_BITS - 2, CA_STATUS_LIST_BITS - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        memset(b, 0xff, CA_STATUS_LIST_BYTES);
        ca_status_bit_set(b, where[w], false);
        for (int i = 0; i < 20; i++)
            assert_int_equal(pick(b, CA_STATUS_LIST_BITS, 1), where[w]);
    }
    /* Odd sizes: nbits = 13 (2 bytes) and 100 (13 bytes, two words), last bit free. */
    const size_t sizes[] = {1, 13, 64, 65, 100};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        memset(b, 0xff, 16);
        ca_status_bit_set(b, sizes[s] - 1, false);
        for (int i = 0; i < 20; i++)
            assert_int_equal(pick(b, sizes[s], 1), sizes[s] - 1);
    }
    free(b);
}

static void test_pick_full(void **state)
{
    (void)state;
    uint8_t b[16];
    memset(b, 0xff, sizeof b);
    uint64_t idx = 42;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_status_list_pick_free(&idx, b, 128, 0, &eb), CA_ERR_FULL);
    assert_true(eb.msg[0] != '\0');
    assert_int_equal(idx, 42);
    /* Bits past nbits are not entries: 13 bits all used, the 3 padding bits 0. */
    b[0] = 0xff;
    b[1] = 0xf8;
    assert_int_equal(ca_status_list_pick_free(&idx, b, 13, 0, NULL), CA_ERR_FULL);
    /* A stale count (says 1 free, none is) is refused, not looped on. */
    assert_int_equal(ca_status_list_pick_free(&idx, b, 13, 1, NULL), CA_ERR_FULL);
}

static void test_pick_ignores_padding_bits(void **state)
{
    (void)state;
    uint8_t b[8] = {0}; /* all free; nbits 61 leaves bits 61..63 as padding */
    for (int i = 0; i < 5000; i++)
        assert_true(pick(b, 61, 61) < 61);
    /* Only bit 5 free among 13; padding bits 13..15 look free but must not be chosen. */
    b[0] = 0xff;
    b[1] = 0xf8;
    ca_status_bit_set(b, 5, false);
    for (int i = 0; i < 500; i++)
        assert_int_equal(pick(b, 13, 1), 5);
}

/* Chi-square of counts against a uniform expectation. */
static double chi_square(const unsigned *counts, size_t k, double expect)
{
    double x = 0;
    for (size_t i = 0; i < k; i++) {
        double d = counts[i] - expect;
        x += d * d / expect;
    }
    return x;
}

static void test_pick_uniform(void **state)
{
    (void)state;
    /* 64 bits, 16 used (every 4th), 48 free; 20,000 picks. Probes almost always succeed.
     * Chi-square with 47 degrees of freedom: mean 47, sd ~9.7; the bound 200 is ~15 sd out. */
    uint8_t b[8] = {0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
    unsigned counts[64] = {0};
    const int picks = 20000;
    for (int i = 0; i < picks; i++)
        counts[pick(b, 64, 48)]++;
    unsigned fc[48];
    size_t k = 0;
    for (size_t i = 0; i < 64; i++) {
        if (ca_status_bit_get(b, i))
            assert_int_equal(counts[i], 0);
        else
            fc[k++] = counts[i];
    }
    assert_int_equal(k, 48);
    double x = chi_square(fc, 48, picks / 48.0);
    if (x > 200.0)
        fail_msg("chi-square %.1f over 47 df: not uniform", x);

    /* Mostly the rank fallback: 4 free among 4096 (a probe hits with p = 1/1024, so 64
     * probes miss ~94% of the time). 3 df: mean 3; bound 60. */
    uint8_t *big = malloc(512);
    assert_non_null(big);
    memset(big, 0xff, 512);
    const uint64_t fr[4] = {0, 1000, 3000, 4095};
    for (int i = 0; i < 4; i++)
        ca_status_bit_set(big, fr[i], false);
    unsigned c4[4] = {0};
    const int picks4 = 8000;
    for (int i = 0; i < picks4; i++) {
        uint64_t idx = pick(big, 4096, 4);
        int j = 0;
        while (j < 4 && fr[j] != idx)
            j++;
        assert_true(j < 4);
        c4[j]++;
    }
    x = chi_square(c4, 4, picks4 / 4.0);
    if (x > 60.0)
        fail_msg("fallback chi-square %.1f over 3 df: not uniform", x);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_order),
        cmocka_unit_test(test_roundtrip_empty_full_random),
        cmocka_unit_test(test_encode_fixed_gzip_header),
        cmocka_unit_test(test_w3c_example),
        cmocka_unit_test(test_bad_prefix),
        cmocka_unit_test(test_padding_and_alphabet),
        cmocka_unit_test(test_zlib_and_raw_deflate_refused),
        cmocka_unit_test(test_trailing_garbage_refused),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_short_list_range),
        cmocka_unit_test(test_pick_never_used),
        cmocka_unit_test(test_pick_last_free),
        cmocka_unit_test(test_pick_full),
        cmocka_unit_test(test_pick_ignores_padding_bits),
        cmocka_unit_test(test_pick_uniform),
    };
    return ca_run_tests("status_list", tests, NULL, NULL);
}
