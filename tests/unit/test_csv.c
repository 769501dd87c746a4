/* Tests for credential/csv.c (RFC 4180 reading, OWASP CSV-injection-safe writing): quoted
 * fields holding commas, quotes and line breaks, CRLF and LF, the BOM, blank lines, empty
 * fields and a trailing comma; per-row errors (stray quote, text after a closing quote, an
 * unterminated quote, a bare CR, a field or a row over its cap, invalid UTF-8, NUL) each
 * followed by a good row that must still be read; and the escaper, including a round trip
 * through the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/csv.h"

/* One expected result of ca_csv_next: a code, the row's line, and (for CA_OK) its fields
 * joined with '|' (fine for tests whose fields hold no '|'). */
typedef struct want {
    ca_err rc;
    uint64_t line;
    const char *joined;
} want;

#define END {CA_ERR_NOT_FOUND, 0, NULL}

/* Reads every row of data[0..len) and compares with the wants, ending with END. */
static void expect_rows(const char *data, size_t len, const want *w)
{
    ca_csv_reader r;
    ca_csv_row *row = malloc(sizeof *row);
    assert_non_null(row);
    ca_csv_init(&r, data, len);
    for (size_t i = 0;; i++) {
        ca_errbuf eb = {{0}};
        size_t before = r.pos;
        ca_err rc = ca_csv_next(&r, row, &eb);
        if (rc != w[i].rc)
            fail_msg("row %zu: rc %d (%s), want %d", i, rc, ca_errmsg(&eb, rc), w[i].rc);
        if (rc == CA_ERR_NOT_FOUND) {
            assert_int_equal(r.pos, len);
            /* The end is sticky. */
            assert_int_equal(ca_csv_next(&r, row, &eb), CA_ERR_NOT_FOUND);
            break;
        }
        assert_true(r.pos > before); /* progress on every row, good or bad */
        if (row->line != w[i].line)
            fail_msg("row %zu: line %llu, want %llu", i, (unsigned long long)row->line,
                     (unsigned long long)w[i].line);
        if (rc != CA_OK) {
            assert_true(eb.msg[0] != '\0');
            continue;
        }
        char joined[4096] = "";
        size_t o = 0;
        for (size_t f = 0; f < row->nfields; f++) {
            assert_int_equal(strlen(row->fields[f]), row->lens[f]);
            o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", f ? "|" : "",
                                  row->fields[f]);
        }
        if (strcmp(joined, w[i].joined) != 0)
            fail_msg("row %zu: [%s], want [%s]", i, joined, w[i].joined);
    }
    free(row);
}

#define EXPECT(lit, ...)                                   \
    do {                                                   \
        const want w_[] = {__VA_ARGS__, END};              \
        expect_rows(lit, sizeof(lit) - 1, w_);             \
    } while (0)

/* ---- good input ---- */

static void test_simple(void **state)
{
    (void)state;
    EXPECT("name,email\nAda,ada@example.org\n", {CA_OK, 1, "name|email"},
           {CA_OK, 2, "Ada|ada@example.org"});
    EXPECT("a,b", {CA_OK, 1, "a|b"}); /* no final line end */
    EXPECT("x", {CA_OK, 1, "x"});
    EXPECT(" a , b ", {CA_OK, 1, " a | b "}); /* spaces are data (§2 rule 4) */
    const want none[] = {END};
    expect_rows("", 0, none);
    expect_rows("\n\r\n\n", 4, none);
}

static void test_quoted(void **state)
{
    (void)state;
    EXPECT("\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\"\nnext,row\n",
           {CA_OK, 1, "a,b|say \"hi\"|line1\nline2"}, {CA_OK, 3, "next|row"});
    EXPECT("\"\"\"\"", {CA_OK, 1, "\""});
    EXPECT("\"\",\"\"\n", {CA_OK, 1, "|"});
    /* CRLF inside quotes is kept; the row's own CRLF is not. */
    EXPECT("\"a\r\nb\",c\r\nd\r\n", {CA_OK, 1, "a\r\nb|c"}, {CA_OK, 3, "d"});
    /* A quote in the middle of a quoted field must be doubled; a lone comma inside is data. */
    EXPECT("\",\"", {CA_OK, 1, ","});
}

static void test_crlf_and_blank_lines(void **state)
{
    (void)state;
    EXPECT("a,b\r\nc,d\r\n", {CA_OK, 1, "a|b"}, {CA_OK, 2, "c|d"});
    EXPECT("\n\r\na\n\n\nb\r\n\r\n", {CA_OK, 3, "a"}, {CA_OK, 6, "b"});
    EXPECT("a\r", {CA_OK, 1, "a"}); /* a final CR ends the row */
    EXPECT("a,b\nc\r\n\nd", {CA_OK, 1, "a|b"}, {CA_OK, 2, "c"}, {CA_OK, 4, "d"});
}

static void test_bom(void **state)
{
    (void)state;
    EXPECT("\xEF\xBB\xBFname,email\nx,y\n", {CA_OK, 1, "name|email"}, {CA_OK, 2, "x|y"});
    const want none[] = {END};
    expect_rows("\xEF\xBB\xBF", 3, none);
    expect_rows("\xEF\xBB\xBF\r\n", 5, none);
    /* Only at the start: later it is a U+FEFF character in the field. */
    EXPECT("a\n\xEF\xBB\xBF" "b\n", {CA_OK, 1, "a"}, {CA_OK, 2, "\xEF\xBB\xBF" "b"});
}

static void test_empty_fields_and_trailing_comma(void **state)
{
    (void)state;
    EXPECT(",,\n", {CA_OK, 1, "||"});
    EXPECT("a,,b\n", {CA_OK, 1, "a||b"});
    EXPECT("a,b,\n", {CA_OK, 1, "a|b|"});
    EXPECT(",", {CA_OK, 1, "|"});

    ca_csv_reader r;
    ca_csv_row *row = malloc(sizeof *row);
    assert_non_null(row);
    ca_csv_init(&r, "a,b,\n", 5);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_int_equal(row->nfields, 3);
    assert_int_equal(row->lens[2], 0);
    assert_string_equal(row->fields[2], "");
    free(row);
}

static void test_utf8_ok(void **state)
{
    (void)state;
    EXPECT("Zo\xC3\xAB,\xE2\x82\xAC,\xF0\x9F\x98\x80,\xEF\xBF\xBF,\xF4\x8F\xBF\xBF\n",
           {CA_OK, 1, "Zo\xC3\xAB|\xE2\x82\xAC|\xF0\x9F\x98\x80|\xEF\xBF\xBF|\xF4\x8F\xBF\xBF"});
}

/* ---- bad rows: each reported once, the next row still read ---- */

static void test_stray_quote_then_good_row(void **state)
{
    (void)state;
    EXPECT("a,b\"c,d\ngood,row\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "good|row"});
    EXPECT("a\"\ngood\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "good"});
    /* Text after a closing quote. */
    EXPECT("\"a\"b,c\nx\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "x"});
    EXPECT("\"a\" ,c\r\nx\r\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "x"});
    /* The broken row's later quoted field spans two lines: the whole row is skipped. */
    EXPECT("a\"x,\"multi\nline\"\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 3, "ok"});
    /* An unterminated quote: resume after the line of the opening quote. */
    EXPECT("h1,h2\na,\"b\nc,d\ne\n", {CA_OK, 1, "h1|h2"}, {CA_ERR_INVALID, 2, NULL},
           {CA_OK, 3, "c|d"}, {CA_OK, 4, "e"});
    EXPECT("\"abc", {CA_ERR_INVALID, 1, NULL});
    /* A bare CR inside an unquoted field. */
    EXPECT("a\rb\nc\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "c"});
    /* Several bad rows in a row. */
    EXPECT("\"\n\"x\"y\n\"\"\"\"\n\"ok\"\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 3, "\""},
           {CA_OK, 4, "ok"});
}

static void test_field_too_long(void **state)
{
    (void)state;
    char buf[4 * CA_CSV_FIELD_MAX];
    /* Exactly the cap, unquoted, then quoted with "" counting as one byte. */
    size_t n = 0;
    memset(buf, 'x', CA_CSV_FIELD_MAX);
    n = CA_CSV_FIELD_MAX;
    buf[n++] = '\n';
    buf[n++] = '"';
    for (int i = 0; i < CA_CSV_FIELD_MAX; i++) {
        buf[n++] = '"';
        buf[n++] = '"';
    }
    buf[n++] = '"';
    buf[n++] = '\n';
    ca_csv_reader r;
    ca_csv_row *row = malloc(sizeof *row);
    assert_non_null(row);
    ca_csv_init(&r, buf, n);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_int_equal(row->lens[0], CA_CSV_FIELD_MAX);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_int_equal(row->lens[0], CA_CSV_FIELD_MAX);
    assert_int_equal(row->fields[0][0], '"');
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_ERR_NOT_FOUND);

    /* One byte over, unquoted and quoted (the quoted one with a line break inside). */
    n = 0;
    buf[n++] = 'a';
    buf[n++] = ',';
    memset(buf + n, 'y', CA_CSV_FIELD_MAX + 1);
    n += CA_CSV_FIELD_MAX + 1;
    memcpy(buf + n, "\nok1\n\"", 6);
    n += 6;
    memset(buf + n, 'z', CA_CSV_FIELD_MAX);
    n += CA_CSV_FIELD_MAX;
    memcpy(buf + n, "\nz\"\nok2\n", 8);
    n += 8;
    ca_errbuf eb = {{0}};
    ca_csv_init(&r, buf, n);
    assert_int_equal(ca_csv_next(&r, row, &eb), CA_ERR_TOO_LARGE);
    assert_non_null(strstr(eb.msg, "line 1"));
    assert_int_equal(row->line, 1);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_string_equal(row->fields[0], "ok1");
    assert_int_equal(row->line, 2);
    assert_int_equal(ca_csv_next(&r, row, &eb), CA_ERR_TOO_LARGE);
    assert_int_equal(row->line, 3);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_string_equal(row->fields[0], "ok2");
    assert_int_equal(row->line, 5);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_ERR_NOT_FOUND);
    free(row);
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char buf[512];
    size_t n = 0;
    /* CA_CSV_FIELDS_MAX fields: fine. */
    for (int i = 0; i < CA_CSV_FIELDS_MAX; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d", i ? "," : "", i);
    buf[n++] = '\n';
    /* One more, by a trailing comma. */
    for (int i = 0; i < CA_CSV_FIELDS_MAX; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "f,");
    buf[n++] = '\n';
    /* Many more, with a quoted multi-line field late in the row. */
    for (int i = 0; i < CA_CSV_FIELDS_MAX + 5; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "g,");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"x\ny\"\nlast\n");

    ca_csv_reader r;
    ca_csv_row *row = malloc(sizeof *row);
    assert_non_null(row);
    ca_csv_init(&r, buf, n);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_int_equal(row->nfields, CA_CSV_FIELDS_MAX);
    assert_string_equal(row->fields[CA_CSV_FIELDS_MAX - 1], "31");
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_ERR_TOO_LARGE);
    assert_int_equal(row->line, 2);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_ERR_TOO_LARGE);
    assert_int_equal(row->line, 3);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_OK);
    assert_string_equal(row->fields[0], "last");
    assert_int_equal(row->line, 5);
    assert_int_equal(ca_csv_next(&r, row, NULL), CA_ERR_NOT_FOUND);
    free(row);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    EXPECT("a,\xFF\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});
    EXPECT("\xC0\xAF\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});       /* overlong */
    EXPECT("\xE0\x80\xAF\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});   /* overlong */
    EXPECT("\xED\xA0\x80\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});   /* surrogate */
    EXPECT("\xF4\x90\x80\x80\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"}); /* >10FFFF */
    EXPECT("\xE2\x82\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});       /* truncated */
    EXPECT("\"\xE2\x82\"\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});
    EXPECT("\x80\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});           /* lone cont. */
    EXPECT("\xE2\x82\xAC\xE2\nok", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});
}

static void test_nul(void **state)
{
    (void)state;
    EXPECT("a\0b,c\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 2, "ok"});
    EXPECT("\"a\0\nb\"\nok\n", {CA_ERR_INVALID, 1, NULL}, {CA_OK, 3, "ok"});
    EXPECT("\0", {CA_ERR_INVALID, 1, NULL});
}

/* ---- escaper ---- */

static void expect_escape(const char *in, const char *want_out)
{
    size_t len = strlen(in);
    size_t need = ca_csv_escape(NULL, in, len);
    char *out = malloc(need + 1);
    assert_non_null(out);
    size_t got = ca_csv_escape(out, in, len);
    assert_int_equal(got, need);
    out[got] = '\0';
    if (strcmp(out, want_out) != 0)
        fail_msg("escape(%s) = %s, want %s", in, out, want_out);
    free(out);
}

static void test_escape(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape("plain", "plain");
    expect_escape("ada@example.org", "ada@example.org"); /* '@' only matters first */
    expect_escape("a,b", "\"a,b\"");
    expect_escape("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_escape("\"", "\"\"\"\"");
    expect_escape("two\nlines", "\"two\nlines\"");
    expect_escape("cr\rhere", "\"cr\rhere\"");
    /* OWASP CSV injection: =, +, -, @, tab and CR as the first character. */
    expect_escape("=1+2", "\"'=1+2\"");
    expect_escape("+1", "\"'+1\"");
    expect_escape("-1", "\"'-1\"");
    expect_escape("@SUM(A1:A9)", "\"'@SUM(A1:A9)\"");
    expect_escape("\t=1", "\"'\t=1\"");
    expect_escape("\r=1", "\"'\r=1\"");
    expect_escape("=HYPERLINK(\"http://x\",\"a,b\")",
                  "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"");
    expect_escape("'=already", "'=already");
}

/* Issue #13 item 14: what spreadsheets skip or fold before the formula check. */
static void test_escape_hidden_formulas(void **state)
{
    (void)state;
    expect_escape(" =1+2", "\"' =1+2\"");                 /* a leading space */
    expect_escape("  @x", "\"'  @x\"");
    expect_escape("\xc2\xa0-1", "\"'\xc2\xa0-1\"");        /* U+00A0 no-break space */
    expect_escape("\xef\xbc\x9d" "1+2", "\"'\xef\xbc\x9d" "1+2\""); /* U+FF1D fullwidth = */
    expect_escape("\xef\xbc\x8b" "1", "\"'\xef\xbc\x8b" "1\"");     /* U+FF0B fullwidth + */
    expect_escape("\xef\xbc\x8d" "1", "\"'\xef\xbc\x8d" "1\"");     /* U+FF0D fullwidth - */
    expect_escape("\xef\xbc\xa0x", "\"'\xef\xbc\xa0x\"");     /* U+FF20 fullwidth @ */
    expect_escape("\xef\xbb\xbf=1", "\"'\xef\xbb\xbf=1\"");   /* behind a BOM */
    expect_escape("\xe2\x80\x8b=1", "\"'\xe2\x80\x8b=1\"");   /* behind a zero-width space */
    expect_escape("\n=1", "\"'\n=1\"");                  /* LF first */
    /* Behind an RLO (U+202E): neutralised, and the override itself shown as U+FFFD. */
    expect_escape("\xe2\x80\xae=1", "\"'\xef\xbf\xbd=1\"");
    /* RTL overrides inside text are not exported as they are (the "exe.txt" trick). */
    expect_escape("invoice\xe2\x80\xaetxt.exe", "invoice\xef\xbf\xbdtxt.exe");
    expect_escape("a\xe2\x81\xa7" "b\xe2\x81\xa9" "c\xd8\x9c", /* RLI, PDI, ALM */
                  "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd");
    /* Not formulas: the character after the spaces is harmless, or '=' is not first. */
    expect_escape("  plain", "  plain");
    expect_escape("\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98=1", /* Hangul name then '=' */
                  "\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98=1");
    expect_escape(" ", " ");
    expect_escape("\xef\xbb\xbf", "\xef\xbb\xbf");
}

/* Escaped fields read back as the same fields (formulas with their apostrophe). */
static void test_escape_roundtrip(void **state)
{
    (void)state;
    const char *fields[] = {"plain", "", "a,b", "q\"q", "l1\r\nl2", "=cmd|' /C calc'!A0",
                            "-2", "\xC3\xA9t\xC3\xA9", "@x", "\"\"", ",", "\n"};
    const size_t nf = sizeof fields / sizeof fields[0];
    char line[1024];
    size_t n = 0;
    for (size_t i = 0; i < nf; i++) {
        if (i)
            line[n++] = ',';
        n += ca_csv_escape(line + n, fields[i], strlen(fields[i]));
    }
    line[n++] = '\r';
    line[n++] = '\n';

    ca_csv_reader r;
    ca_csv_row *row = malloc(sizeof *row);
    assert_non_null(row);
    ca_csv_init(&r, line, n);
    ca_errbuf eb = {{0}};
    ca_err rc = ca_csv_next(&r, row, &eb);
    if (rc != CA_OK)
        fail_msg("%s", ca_errmsg(&eb, rc));
    assert_int_equal(row->nfields, nf);
    for (size_t i = 0; i < nf; i++) {
        char want_f[64];
        bool formula = strchr("=+-@\t\r", fields[i][0]) && fields[i][0];
        snprintf(want_f, sizeof want_f, "%s%s", formula ? "'" : "", fields[i]);
        assert_string_equal(row->fields[i], want_f);
    }
    assert_int_equal(ca_csv_next(&r, row, &eb), CA_ERR_NOT_FOUND);
    free(row);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_crlf_and_blank_lines),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_empty_fields_and_trailing_comma),
        cmocka_unit_test(test_utf8_ok),
        cmocka_unit_test(test_stray_quote_then_good_row),
        cmocka_unit_test(test_field_too_long),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_hidden_formulas),
        cmocka_unit_test(test_escape_roundtrip),
    };
    return ca_run_tests("csv", tests, NULL, NULL);
}
