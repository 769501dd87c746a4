/* RFC 4180 reader (credential/csv.c): no crash on any input; reading every row to the end,
 * tolerating row errors, always makes progress (each call that is not the end consumes at
 * least one byte, so the loop ends); a good row's fields are NUL-terminated, within the caps,
 * free of NUL, and their lengths match; a bad row has a message and no fields. The escaper's
 * output, read back, gives the field again (bidi controls as U+FFFD; an apostrophe before
 * anything that may be a formula, always before an ASCII =, +, -, @, tab or CR). */
#include "credanchor/csv.h"
#include "credanchor/encoding.h"
#include "fuzz_common.h"

/* An ASCII first byte the escaper must always defuse (OWASP "CSV Injection"). The escaper also
 * looks past invisible leading characters and at fullwidth forms (credential/csv.c), so for
 * other fields the oracle accepts either answer and checks only the content. */
static bool ascii_formula_start(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

static bool bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

/* The field as the escaper writes it, apart from quoting and the apostrophe: bidi controls
 * become U+FFFD (Trojan Source). Returns the length written to out (capacity 2 * len). */
static size_t expected_content(const char *f, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ca_utf8_seq((const uint8_t *)f + i, len - i, &cp);
        if (n == 0) {
            cp = (uint8_t)f[i];
            n = 1;
        }
        if (bidi_control(cp)) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(out + o, f + i, n);
            o += n;
        }
        i += n;
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_memdup(data, size);
    ca_csv_row *row = malloc(sizeof *row);
    if (!row)
        abort();
    ca_csv_reader r;
    ca_csv_init(&r, in, size);
    size_t rows = 0;
    for (;;) {
        ca_errbuf eb = {{0}};
        size_t before = r.pos;
        uint64_t line_before = r.line;
        ca_err err = ca_csv_next(&r, row, &eb);
        if (err == CA_ERR_NOT_FOUND) {
            FUZZ_CHECK(r.pos == size);
            break;
        }
        FUZZ_CHECK(r.pos > before && r.pos <= size);
        FUZZ_CHECK(r.line >= line_before);
        FUZZ_CHECK(row->line >= line_before && row->line <= r.line);
        FUZZ_CHECK(++rows <= size);
        if (err == CA_OK) {
            FUZZ_CHECK(row->nfields >= 1 && row->nfields <= CA_CSV_FIELDS_MAX);
            for (size_t i = 0; i < row->nfields; i++) {
                FUZZ_CHECK(row->lens[i] <= CA_CSV_FIELD_MAX);
                FUZZ_CHECK(row->fields[i][row->lens[i]] == '\0');
                FUZZ_CHECK(strlen(row->fields[i]) == row->lens[i]);
            }
            /* Escape the first field and read it back. */
            const char *f = row->fields[0];
            size_t flen = row->lens[0];
            size_t need = ca_csv_escape(NULL, f, flen);
            char *esc = malloc(need + 1);
            if (!esc)
                abort();
            FUZZ_CHECK(ca_csv_escape(esc, f, flen) == need);
            ca_csv_row *back = malloc(sizeof *back);
            if (!back)
                abort();
            ca_csv_reader r2;
            ca_csv_init(&r2, esc, need);
            /* Blank or BOM-led fields do not survive as a row of their own; skip those. */
            bool bom = flen >= 3 && (uint8_t)f[0] == 0xef && (uint8_t)f[1] == 0xbb &&
                       (uint8_t)f[2] == 0xbf;
            char *want = malloc(2 * flen + 1);
            if (!want)
                abort();
            size_t wlen = expected_content(f, flen, want);
            ca_err back_err = ca_csv_next(&r2, back, NULL);
            if (back_err == CA_ERR_TOO_LARGE) {
                /* Only the apostrophe or the wider U+FFFD can push it over the cap. */
                FUZZ_CHECK(wlen + 1 > CA_CSV_FIELD_MAX);
            } else if (flen > 0 && !bom) {
                FUZZ_CHECK(back_err == CA_OK);
                FUZZ_CHECK(back->nfields == 1);
                bool defused = back->lens[0] == wlen + 1 && back->fields[0][0] == '\'' &&
                               memcmp(back->fields[0] + 1, want, wlen) == 0;
                bool same = back->lens[0] == wlen && memcmp(back->fields[0], want, wlen) == 0;
                FUZZ_CHECK(defused || same);
                FUZZ_CHECK(!ascii_formula_start(f[0]) || defused);
                FUZZ_CHECK(ca_csv_next(&r2, back, NULL) == CA_ERR_NOT_FOUND);
            }
            free(want);
            free(back);
            free(esc);
        } else {
            FUZZ_CHECK(err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE);
            FUZZ_CHECK(row->nfields == 0);
            FUZZ_CHECK(eb.msg[0] != '\0');
        }
    }
    free(row);
    free(in);
    return 0;
}
