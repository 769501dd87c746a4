/* Tests for common/jcs.c (RFC 8785): the cyberphone/json-canonicalization input/output pairs
 * byte for byte, the RFC 8785 Appendix B number table, a 3,000-line sample of the published
 * ES6 number test file, strict-parser negatives with the offset each names, and a seeded
 * property test over 100,000 random doubles (round trip and shortest digits, checked here
 * without the library's own search). Vector provenance: tests/vectors/jcs/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/jcs.h"

#define JCS_DIR CA_TEST_VECTORS "/jcs"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Canonicalizes a NUL-terminated text and compares with the expected canonical text. */
static void expect_canon(const char *in, const char *want)
{
    char *out = NULL;
    size_t out_len = 0;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_jcs_canonicalize(&out, &out_len, in, strlen(in), 1 << 20, &eb);
    if (rc != CA_OK)
        fail_msg("canonicalize(%s) failed: %s", in, ca_errmsg(&eb, rc));
    if (out_len != strlen(want) || memcmp(out, want, out_len) != 0)
        fail_msg("canonicalize(%s) = %s, want %s", in, out, want);
    assert_int_equal(out[out_len], '\0');
    free(out);
}

/* Expects input (len bytes) to be refused with code; the message must name the offset. */
static void expect_fail_n(const char *in, size_t len, ca_err code, long offset)
{
    char *out = (char *)1;
    size_t out_len = 99;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_jcs_canonicalize(&out, &out_len, in, len, 1 << 20, &eb);
    if (rc != code)
        fail_msg("input %.60s: got %d (%s), want %d", in, rc, ca_errmsg(&eb, rc), code);
    assert_null(out);
    assert_int_equal(out_len, 0);
    assert_non_null(strchr(eb.msg, ' ')); /* a sentence, not empty */
    assert_null(strchr(eb.msg, '\n'));
    if (offset >= 0) {
        char want[48];
        snprintf(want, sizeof want, "offset %ld:", offset);
        if (!strstr(eb.msg, want))
            fail_msg("input %.60s: message \"%s\" does not name %s", in, eb.msg, want);
    }
}

static void expect_fail(const char *in, long offset)
{
    expect_fail_n(in, strlen(in), CA_ERR_INVALID, offset);
}

/* ---- cyberphone/json-canonicalization testdata ---- */

static void test_reference_files(void **state)
{
    (void)state;
    static const char *names[] = {"arrays", "french", "structures", "unicode", "values", "weird"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        size_t in_len, want_len;
        snprintf(path, sizeof path, JCS_DIR "/input/%s.json", names[i]);
        char *in = slurp(path, &in_len);
        snprintf(path, sizeof path, JCS_DIR "/output/%s.json", names[i]);
        char *want = slurp(path, &want_len);
        char *out = NULL;
        size_t out_len = 0;
        ca_errbuf eb = {{0}};
        ca_err rc = ca_jcs_canonicalize(&out, &out_len, in, in_len, 1 << 20, &eb);
        if (rc != CA_OK)
            fail_msg("%s: %s", names[i], ca_errmsg(&eb, rc));
        if (out_len != want_len || memcmp(out, want, want_len) != 0)
            fail_msg("%s: got %.*s", names[i], (int)out_len, out);
        /* Canonical text is a fixed point, and the digest is SHA-256 of it. */
        char *again = NULL;
        size_t again_len = 0;
        assert_int_equal(ca_jcs_canonicalize(&again, &again_len, out, out_len, out_len, &eb),
                         CA_OK);
        assert_int_equal(again_len, out_len);
        assert_memory_equal(again, out, out_len);
        ca_hash d1, d2;
        assert_int_equal(ca_jcs_digest(&d1, in, in_len, &eb), CA_OK);
        ca_sha256(&d2, want, want_len);
        assert_memory_equal(d1.b, d2.b, CA_HASH_SIZE);
        free(again);
        free(out);
        free(in);
        free(want);
    }
}

/* ---- Numbers ---- */

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Checks one double both through ca_jcs_format_number and through the parser (fed the
 * value as %.17g text, which round-trips). */
static void check_number(uint64_t bits, const char *want)
{
    double v = from_bits(bits);
    char buf[CA_JCS_NUMBER_MAX];
    size_t n = ca_jcs_format_number(buf, v);
    if (strcmp(buf, want) != 0 || n != strlen(want))
        fail_msg("%016llx: got %s, want %s", (unsigned long long)bits, buf, want);
    char text[40];
    snprintf(text, sizeof text, "%.17g", v);
    expect_canon(text, want);
}

static void test_appendix_b(void **state)
{
    (void)state;
    /* RFC 8785 Appendix B. The row for becbf647612f3696 reads -0.0000033333333333333333
     * (the value's shortest round-trip digits are 33333333333333333). */
    static const struct {
        uint64_t bits;
        const char *text;
    } rows[] = {
        {0x0000000000000000, "0"},
        {0x8000000000000000, "0"},
        {0x0000000000000001, "5e-324"},
        {0x8000000000000001, "-5e-324"},
        {0x7fefffffffffffff, "1.7976931348623157e+308"},
        {0xffefffffffffffff, "-1.7976931348623157e+308"},
        {0x4340000000000000, "9007199254740992"},
        {0xc340000000000000, "-9007199254740992"},
        {0x4430000000000000, "295147905179352830000"},
        {0x44b52d02c7e14af5, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6, "1e+23"},
        {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4e, "999999999999999700000"},
        {0x444b1ae4d6e2ef4f, "999999999999999900000"},
        {0x444b1ae4d6e2ef50, "1e+21"},
        {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8d, "0.000001"},
        {0x41b3de4355555553, "333333333.3333332"},
        {0x41b3de4355555554, "333333333.33333325"},
        {0x41b3de4355555555, "333333333.3333333"},
        {0x41b3de4355555556, "333333333.3333334"},
        {0x41b3de4355555557, "333333333.33333343"},
        {0xbecbf647612f3696, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959, "1424953923781206.2"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_number(rows[i].bits, rows[i].text);
}

static void test_number_layout(void **state)
{
    (void)state;
    expect_canon("[1, -1, 0, -0, 0.0, -0.0e10, 1.0, 10, 1e2, 1E2, 1e+2, 100e-2]",
                 "[1,-1,0,0,0,0,1,10,100,100,100,1]");
    expect_canon("[1e20, 1e21, 123e18, 1.5e21, 0.000001, 0.0000001, 1.5e-7, 12e-7]",
                 "[100000000000000000000,1e+21,123000000000000000000,1.5e+21,0.000001,1e-7,"
                 "1.5e-7,0.0000012]");
    expect_canon("[0.1, 0.2, 0.30000000000000004, 1e-400, -1e-400, 4.9e-324, 2.5e-324, 2.4e-324]",
                 "[0.1,0.2,0.30000000000000004,0,0,5e-324,5e-324,0]");
    /* More digits than a double holds: the nearest double, then its shortest form. */
    expect_canon("9007199254740993", "9007199254740992");
    expect_canon("1.00000000000000000000000000000000000000000000000000000000000000001", "1");
    expect_canon("1.7976931348623157e308", "1.7976931348623157e+308");
    expect_canon("123456789012345678901234567890", "1.2345678901234568e+29");
    expect_canon("  -12.5e-1  ", "-1.25");
}

/* Under a decimal-comma locale the numbers must come out the same. Skipped where no such
 * locale is installed (minimal containers have only C and POSIX). */
static void test_decimal_comma_locale(void **state)
{
    (void)state;
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    if (!got)
        skip();
    expect_canon("[-12.5e-1, 0.000001, 1.5e21, 333333333.33333329]",
                 "[-1.25,0.000001,1.5e+21,333333333.3333333]");
    setlocale(LC_NUMERIC, "C");
}

/* tests/vectors/jcs/es6numbers.txt: "hex-ieee,expected" lines from the published ES6 test
 * file (see the README there for how the sample was taken and checked). */
static void test_es6_number_sample(void **state)
{
    (void)state;
    size_t len;
    char *text = slurp(JCS_DIR "/es6numbers.txt", &len);
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *comma = strchr(line, ',');
        assert_non_null(comma);
        *comma = '\0';
        char *end = NULL;
        uint64_t bits = strtoull(line, &end, 16);
        assert_true(end == comma && comma - line >= 1 && comma - line <= 16);
        char buf[CA_JCS_NUMBER_MAX];
        ca_jcs_format_number(buf, from_bits(bits));
        if (strcmp(buf, comma + 1) != 0)
            fail_msg("line %zu (%s): got %s, want %s", lines + 1, line, buf, comma + 1);
        lines++;
    }
    assert_int_equal(lines, 3000);
    free(text);
}

/* Whether any decimal with q significant digits converts to v (positive). The q-digit
 * decimals nearest v from below and from above are among printf's nearest one and its two
 * neighbours, which are formed here as integer mantissas. */
static bool some_q_digit_round_trips(double v, int q)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", q - 1, v);
    char *e = strchr(tmp, 'e');
    assert_non_null(e);
    unsigned long long m = 0, low = 1; /* low = 10^(q-1), the smallest q-digit mantissa */
    for (char *s = tmp; s < e; s++)
        if (*s >= '0' && *s <= '9')
            m = m * 10 + (unsigned long long)(*s - '0');
    for (int i = 1; i < q; i++)
        low *= 10;
    int exp10 = atoi(e + 1) - (q - 1);
    for (int delta = -1; delta <= 1; delta++) {
        unsigned long long mm;
        int ee = exp10;
        if (delta < 0 && m == low) { /* 10..0 - 1 step = 99..9 in the decade below */
            mm = low * 10 - 1;
            ee--;
        } else {
            mm = m + (unsigned long long)(long long)delta;
        }
        char cand[64];
        snprintf(cand, sizeof cand, "%llue%d", mm, ee);
        if (strtod(cand, NULL) == v)
            return true;
    }
    return false;
}

/* The mantissa digits of a number text, without leading or trailing zeros. */
static void sig_digit_string(char *out, const char *t)
{
    int k = 0;
    for (const char *s = t; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '0' && *s <= '9' && !(k == 0 && *s == '0'))
            out[k++] = *s;
    while (k > 1 && out[k - 1] == '0')
        k--;
    out[k] = '\0';
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void check_shortest(double v)
{
    char buf[CA_JCS_NUMBER_MAX];
    size_t n = ca_jcs_format_number(buf, v);
    assert_int_equal(n, strlen(buf));
    if (strtod(buf, NULL) != v)
        fail_msg("%a -> %s does not convert back", v, buf);
    if (v == 0)
        return;
    double a = fabs(v);
    char got[32];
    sig_digit_string(got, buf);
    int k = (int)strlen(got);
    if (k > 1 && some_q_digit_round_trips(a, k - 1))
        fail_msg("%a -> %s: %d digits would do", v, buf, k - 1);
    /* Of the k-digit candidates the nearest is chosen: printf's nearest, when it works. */
    char tmp[64], nearest[32];
    snprintf(tmp, sizeof tmp, "%.*e", k - 1, a);
    if (strtod(tmp, NULL) == a) {
        sig_digit_string(nearest, tmp);
        if (strcmp(nearest, got) != 0)
            fail_msg("%a -> %s: the nearest %d-digit decimal is %s", v, buf, k, tmp);
    }
}

static void test_random_doubles_property(void **state)
{
    (void)state;
    uint64_t seed = 0x6a636b7331393835ULL; /* fixed: failures reproduce */
    int done = 0;
    while (done < 100000) {
        uint64_t bits = splitmix64(&seed);
        /* Half raw bit patterns (all exponents), half values of everyday size. */
        if (done & 1)
            bits = (bits & 0x800fffffffffffffULL) | (uint64_t)(1023 - 30 + (bits >> 52) % 70) << 52;
        double v = from_bits(bits);
        if (!isfinite(v))
            continue;
        check_shortest(v);
        done++;
    }
}

/* Powers of two have a lopsided rounding interval: the case printf's nearest digits miss. */
static void test_powers_of_two(void **state)
{
    (void)state;
    for (int e = -1074; e <= 1023; e++)
        check_shortest(ldexp(1.0, e));
    check_number(0x0010000000000000, "2.2250738585072014e-308");
    check_number(0x4340000000000000, "9007199254740992");
    /* 2^-1017 and 2^-1007: printf's nearest 16-digit decimals (...044e-307, ...397e-304)
     * fall outside the narrow lower half of the interval; the one above does not. Expected
     * strings from node's Number.prototype.toString. */
    check_number(0x0060000000000000, "7.120236347223045e-307");
    check_number(0x0100000000000000, "7.291122019556398e-304");
}

/* ---- Strings and sorting ---- */

static void test_strings(void **state)
{
    (void)state;
    /* Every control character, DEL, U+2028/2029, escaped slash, non-ASCII escapes. */
    expect_canon("\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u001F\"",
                 "\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f\"");
    expect_canon("\"\\u0008\\u0009\\u000A\\u000C\\u000D\\u0022\\u005C\\/\"",
                 "\"\\b\\t\\n\\f\\r\\\"\\\\/\"");
    expect_canon("\"\x7f\\u007f \\u2028\\u2029 \xe2\x80\xa8\"",
                 "\"\x7f\x7f \xe2\x80\xa8\xe2\x80\xa9 \xe2\x80\xa8\"");
    expect_canon("\"\\u00e9\\u20AC\\uD83D\\uDE00\\uffff\"",
                 "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\"");
    expect_canon("\"\xf4\x8f\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    expect_canon("[\"\",{},[],true,false,null]", "[\"\",{},[],true,false,null]");
    expect_canon(" \t\r\n{ \"a\" :\t[ ] }\n", "{\"a\":[]}");
    /* A NUL inside a member name is data, not a terminator. */
    expect_canon("{\"a\\u0000b\":1,\"a\":2}", "{\"a\":2,\"a\\u0000b\":1}");
}

static void test_utf16_ordering(void **state)
{
    (void)state;
    /* U+1F600 (UTF-16 D83D DE00) sorts before U+E000 and U+FFFD, though its UTF-8 sorts after. */
    expect_canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"\\ufffd\":3,\"\\u00ff\":4,\"z\":5}",
                 "{\"z\":5,\"\xc3\xbf\":4,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1,"
                 "\"\xef\xbf\xbd\":3}");
    /* Prefixes first; case and digits by code unit; escapes compared after unescaping. */
    expect_canon("{\"ab\":1,\"a\":2,\"B\":3,\"\\u0061c\":4,\"10\":5,\"9\":6,\"\":7}",
                 "{\"\":7,\"10\":5,\"9\":6,\"B\":3,\"a\":2,\"ab\":1,\"ac\":4}");
    /* Two supplementary characters: same high surrogate, then the low one decides. */
    expect_canon("{\"\\ud83d\\ude01\":1,\"\\ud83d\\ude00\":2,\"\\ud800\\udc00\":3}",
                 "{\"\xf0\x90\x80\x80\":3,\"\xf0\x9f\x98\x80\":2,\"\xf0\x9f\x98\x81\":1}");
    /* Nested objects are sorted too, arrays keep their order. */
    expect_canon("{\"b\":[{\"y\":1,\"x\":2},3],\"a\":{\"d\":{\"f\":1,\"e\":2},\"c\":0}}",
                 "{\"a\":{\"c\":0,\"d\":{\"e\":2,\"f\":1}},\"b\":[{\"x\":2,\"y\":1},3]}");
}

/* ---- Negatives ---- */

static void test_rejects(void **state)
{
    (void)state;
    /* duplicate names, also when spelled differently; the offset is the later one */
    expect_fail("{\"a\":1,\"b\":2,\"a\":3}", 13);
    expect_fail("{\"a\":1,\"\\u0061\":2}", 7);
    expect_fail("{\"x\":{\"\\u00e9\":1,\"\xc3\xa9\":2}}", 17);
    /* trailing commas */
    expect_fail("[1,2,]", 5);
    expect_fail("{\"a\":1,}", 7);
    expect_fail("[,1]", 1);
    expect_fail("{,}", 1);
    /* lone surrogates in escapes */
    expect_fail("\"\\ud800\"", 1);
    expect_fail("\"\\udc00\"", 1);
    expect_fail("\"x\\ud83d\\u0041\"", 2);
    expect_fail("\"\\ud83d\\ud83d\"", 1);
    expect_fail("\"\\ud83d", 1);
    /* invalid UTF-8: stray continuation, overlong, encoded surrogate, > U+10FFFF, truncated */
    expect_fail("\"\x80\"", 1);
    expect_fail("\"ab\xc0\xaf\"", 3);
    expect_fail("\"\xe0\x80\xaf\"", 1);
    expect_fail("\"\xed\xa0\x80\"", 1);
    expect_fail("\"\xf4\x90\x80\x80\"", 1);
    expect_fail("\"\xf5\x80\x80\x80\"", 1);
    expect_fail("\"\xe2\x82\"", 1);
    expect_fail("\"\xe2\x82", 1);
    expect_fail("\xef\xbb\xbf{}", 0); /* a BOM */
    /* NaN and infinities are not JSON */
    expect_fail("NaN", 0);
    expect_fail("[Infinity]", 1);
    expect_fail("-Infinity", 1);
    expect_fail("[nan]", 1);
    /* overflow to infinity */
    expect_fail("1e400", 0);
    expect_fail("[0, -1e400]", 4);
    expect_fail("1.8e308", 0);
    /* number grammar */
    expect_fail("01", 0);
    expect_fail("[-012]", 1);
    expect_fail("00.5", 0);
    expect_fail("1.", 2);
    expect_fail(".5", 0);
    expect_fail("+1", 0);
    expect_fail("1e", 2);
    expect_fail("1e+", 3);
    expect_fail("-", 1);
    expect_fail("0x10", 1);
    /* trailing garbage */
    expect_fail("{} {}", 3);
    expect_fail("[1] x", 4);
    expect_fail("truex", 4);
    expect_fail("1 2", 2);
    /* control characters in strings, bad escapes, bad literals */
    expect_fail("\"a\nb\"", 2);
    expect_fail("\"\t\"", 1);
    expect_fail("{\"k\x01\":1}", 3);
    expect_fail("\"\\x41\"", 1);
    expect_fail("\"\\u12G4\"", 1);
    expect_fail("\"\\u12\"", 1);
    expect_fail("tru", 0);
    expect_fail("[nul]", 1);
    expect_fail("True", 0);
    /* structure */
    expect_fail("", 0);
    expect_fail("   ", 3);
    expect_fail("[", 1);
    expect_fail("[1", 2);
    expect_fail("{\"a\" 1}", 5);
    expect_fail("{\"a\":}", 5);
    expect_fail("{1:2}", 1);
    expect_fail("{'a':1}", 1);
    expect_fail("[1;2]", 2);
    expect_fail("\"abc", 4);
    expect_fail("/* c */ 1", 0);
    /* a NUL byte in the text */
    expect_fail_n("[1,\0 2]", 7, CA_ERR_INVALID, 3);
    expect_fail_n("\"a\0\"", 4, CA_ERR_INVALID, 2);
}

static void test_depth(void **state)
{
    (void)state;
    char buf[300];
    /* 64 nested arrays are fine */
    memset(buf, '[', 64);
    memset(buf + 64, ']', 64);
    buf[128] = '\0';
    expect_canon(buf, buf);
    /* 65 are not; the offset is the 65th bracket */
    memset(buf, '[', 65);
    memset(buf + 65, ']', 65);
    buf[130] = '\0';
    expect_fail(buf, 64);
    /* objects and arrays count alike */
    char *p = buf;
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "{\"a\":[");
    p += sprintf(p, "{}");
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "]}");
    expect_fail(buf, 32 * 6);
    /* deep-but-allowed with a closing error still reports the syntax error */
    memset(buf, '[', 10);
    buf[10] = '\0';
    expect_fail(buf, 10);
}

static void test_output_cap(void **state)
{
    (void)state;
    const char *in = "{ \"b\" : [1, 2, 3], \"a\" : \"x\" }";
    const char *want = "{\"a\":\"x\",\"b\":[1,2,3]}";
    size_t wl = strlen(want);
    char *out = NULL;
    size_t out_len = 0;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_jcs_canonicalize(&out, &out_len, in, strlen(in), wl, &eb), CA_OK);
    assert_int_equal(out_len, wl);
    assert_memory_equal(out, want, wl);
    free(out);
    for (size_t cap = 0; cap < wl; cap++) {
        out = (char *)1;
        eb.msg[0] = '\0';
        assert_int_equal(ca_jcs_canonicalize(&out, &out_len, in, strlen(in), cap, &eb),
                         CA_ERR_TOO_LARGE);
        assert_null(out);
        assert_int_equal(out_len, 0);
        assert_non_null(strstr(eb.msg, "limit"));
    }
    /* Numbers can grow: 1e20 is 21 bytes out of 4. */
    out = (char *)1;
    assert_int_equal(ca_jcs_canonicalize(&out, &out_len, "1e20", 4, 20, &eb), CA_ERR_TOO_LARGE);
    assert_null(out);
    /* The error buffer is optional. */
    assert_int_equal(ca_jcs_canonicalize(&out, &out_len, "[1,]", 4, 100, NULL), CA_ERR_INVALID);
    assert_int_equal(ca_jcs_canonicalize(&out, &out_len, "[1]", 3, 1, NULL), CA_ERR_TOO_LARGE);
}

static void test_digest(void **state)
{
    (void)state;
    /* Two spellings of one credential-like document hash alike; a changed value does not. */
    const char *a = "{\"proof\":{\"type\":\"DataIntegrityProof\",\"created\":\"2024-01-01T00:00:00Z\"},"
                    "\"id\":\"urn:uuid:1\",\"n\":1.0}";
    const char *b = "{ \"id\" : \"urn:\\u0075uid:1\", \"n\": 1e0,\n \"proof\": {\"created\":"
                    "\"2024-01-01T00:00:00Z\", \"type\": \"DataIntegrityProof\"} }";
    const char *c = "{\"id\":\"urn:uuid:2\",\"n\":1,\"proof\":{\"created\":\"2024-01-01T00:00:00Z\","
                    "\"type\":\"DataIntegrityProof\"}}";
    ca_hash ha, hb, hc, want;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_jcs_digest(&ha, a, strlen(a), &eb), CA_OK);
    assert_int_equal(ca_jcs_digest(&hb, b, strlen(b), &eb), CA_OK);
    assert_int_equal(ca_jcs_digest(&hc, c, strlen(c), &eb), CA_OK);
    assert_memory_equal(ha.b, hb.b, CA_HASH_SIZE);
    assert_memory_not_equal(ha.b, hc.b, CA_HASH_SIZE);
    const char *canon = "{\"id\":\"urn:uuid:1\",\"n\":1,\"proof\":{\"created\":\"2024-01-01T00:00:00Z\","
                        "\"type\":\"DataIntegrityProof\"}}";
    ca_sha256(&want, canon, strlen(canon));
    assert_memory_equal(ha.b, want.b, CA_HASH_SIZE);
    /* SHA-256 of "{}" (44136fa3...) */
    char hex[2 * CA_HASH_SIZE + 1];
    assert_int_equal(ca_jcs_digest(&ha, " { } ", 5, &eb), CA_OK);
    ca_hash_to_hex(hex, &ha);
    assert_string_equal(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assert_int_equal(ca_jcs_digest(&ha, "{\"a\":1,\"a\":1}", 13, &eb), CA_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_files),
        cmocka_unit_test(test_appendix_b),
        cmocka_unit_test(test_number_layout),
        cmocka_unit_test(test_decimal_comma_locale),
        cmocka_unit_test(test_es6_number_sample),
        cmocka_unit_test(test_random_doubles_property),
        cmocka_unit_test(test_powers_of_two),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_utf16_ordering),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_digest),
    };
    return ca_run_tests("jcs", tests, NULL, NULL);
}
