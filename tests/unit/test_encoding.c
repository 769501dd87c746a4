/* Tests for common/encoding.c: the hex digit helpers, and the UTF-8 helpers (RFC 3629 §4, and
 * its §7 examples): the one decoder that JCS, the CSV reader and HTTP problem details share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <string.h>

#include "credanchor/encoding.h"

static size_t seq(const char *s, size_t n, uint32_t *cp)
{
    return ca_utf8_seq((const uint8_t *)s, n, cp);
}

static void test_well_formed(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(seq("A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(seq("\xC2\x80", 2, &cp), 2); /* U+0080, the smallest 2-byte */
    assert_int_equal(cp, 0x80);
    assert_int_equal(seq("\xED\x95\x9C", 3, &cp), 3); /* RFC 3629 §7: U+D55C */
    assert_int_equal(cp, 0xD55C);
    assert_int_equal(seq("\xEF\xBF\xBF", 3, &cp), 3); /* U+FFFF: a noncharacter, accepted */
    assert_int_equal(cp, 0xFFFF);
    assert_int_equal(seq("\xF0\xA3\x8E\xB4", 4, &cp), 4); /* RFC 3629 §7: U+233B4 */
    assert_int_equal(cp, 0x233B4);
    assert_int_equal(seq("\xF4\x8F\xBF\xBF", 4, NULL), 4); /* U+10FFFF */
}

static void test_ill_formed(void **state)
{
    (void)state;
    assert_int_equal(seq("\x80", 1, NULL), 0);             /* lone continuation */
    assert_int_equal(seq("\xC0\x80", 2, NULL), 0);         /* overlong NUL */
    assert_int_equal(seq("\xC1\xBF", 2, NULL), 0);         /* overlong */
    assert_int_equal(seq("\xE0\x9F\xBF", 3, NULL), 0);     /* overlong 3-byte */
    assert_int_equal(seq("\xED\xA0\x80", 3, NULL), 0);     /* surrogate U+D800 */
    assert_int_equal(seq("\xF0\x8F\xBF\xBF", 4, NULL), 0); /* overlong 4-byte */
    assert_int_equal(seq("\xF4\x90\x80\x80", 4, NULL), 0); /* U+110000 */
    assert_int_equal(seq("\xF5\x80\x80\x80", 4, NULL), 0);
    assert_int_equal(seq("\xFF", 1, NULL), 0);
    assert_int_equal(seq("\xE2\x82", 2, NULL), 0);         /* truncated */
    assert_int_equal(seq("\xE2\x82\x41", 3, NULL), 0);     /* bad continuation */
    assert_int_equal(seq("", 0, NULL), 0);
}

static void test_prefix_and_scrub(void **state)
{
    (void)state;
    const char *ok = "caf\xC3\xA9 \xE2\x82\xAC";
    assert_int_equal(ca_utf8_valid_prefix((const uint8_t *)ok, strlen(ok)), strlen(ok));
    const char *bad = "ab\xC3\xA9\xFF" "cd";
    assert_int_equal(ca_utf8_valid_prefix((const uint8_t *)bad, strlen(bad)), 4);

    char s1[] = "near '\"\\\xDB\xA4\xA3\xAB' \xC3\xA9 \xE2\x82"; /* a parser error, cut */
    ca_utf8_scrub(s1);
    /* DB A4 is U+06E4 and stays; A3 AB are lone continuation bytes. */
    assert_string_equal(s1, "near '\"\\\xDB\xA4?\?' \xC3\xA9 ?\?");
    char s2[] = "plain ascii";
    ca_utf8_scrub(s2);
    assert_string_equal(s2, "plain ascii");
}

/* The hex digit helpers that replaced the copies in http.c, rpc.c, did_web.c, web_id.c,
 * config.c, auth.c and anchor_check.c. */
static void test_hex_digits(void **state)
{
    (void)state;
    static const char all[] = "0123456789abcdefABCDEF";
    for (int i = 0; i < 22; i++)
        assert_int_equal(ca_hex_digit_value(all[i]), i < 16 ? i : i - 6);
    for (int c = 1; c < 256; c++)
        if (!strchr(all, c))
            assert_int_equal(ca_hex_digit_value((char)c), -1);
    assert_int_equal(ca_hex_digit_value('\0'), -1);
    for (unsigned v = 0; v < 16; v++)
        assert_int_equal(ca_hex_digit(v), all[v]);
    assert_int_equal(ca_hex_digit(0x1f), 'f'); /* only the low nibble counts */
    assert_true(ca_hex_is_lower("0123456789abcdef", 16));
    assert_false(ca_hex_is_lower("0123456789abcdeF", 16));
    assert_false(ca_hex_is_lower("12g4", 4));
    assert_true(ca_hex_is_lower("zz", 0));
    char out[9];
    ca_hex_encode(out, (const uint8_t *)"\x00\x9f\xa0\xff", 4);
    assert_string_equal(out, "009fa0ff");
    uint8_t back[4];
    assert_int_equal(ca_hex_decode(back, 4, "009FA0ff", 8), CA_OK);
    assert_memory_equal(back, "\x00\x9f\xa0\xff", 4);
    assert_int_equal(ca_hex_decode(back, 4, "009FA0f", 7), CA_ERR_INVALID);
    assert_int_equal(ca_hex_decode(back, 4, "009FA0fg", 8), CA_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_ill_formed),
        cmocka_unit_test(test_prefix_and_scrub),
        cmocka_unit_test(test_hex_digits),
    };
    return ca_run_tests("encoding", tests, NULL, NULL);
}
