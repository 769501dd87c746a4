/* RFC 4180 reader (credential/csv.c): no crash on any input; reading every row to the end,
 * tolerating row errors, always makes progress (each call that is not the end consumes at
 * least one byte, so the loop ends); a good row's fields are NUL-terminated, within the caps,
 * free of NUL, and their lengths match; a bad row has a message and no fields. The escaper's
 * output, read back, gives the field again (with an apostrophe before a formula). */
#include "credanchor/csv.h"
#include "fuzz_common.h"

static bool formula_start(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
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
            bool formula = flen > 0 && formula_start(f[0]);
            /* Blank or BOM-led fields do not survive as a row of their own; skip those. */
            bool bom = flen >= 3 && (uint8_t)f[0] == 0xef && (uint8_t)f[1] == 0xbb &&
                       (uint8_t)f[2] == 0xbf;
            if (flen + formula > CA_CSV_FIELD_MAX) {
                /* The apostrophe pushed a full-length formula over the cap. */
                FUZZ_CHECK(ca_csv_next(&r2, back, NULL) == CA_ERR_TOO_LARGE);
            } else if (flen > 0 && !bom) {
                FUZZ_CHECK(ca_csv_next(&r2, back, NULL) == CA_OK);
                FUZZ_CHECK(back->nfields == 1);
                FUZZ_CHECK(back->lens[0] == flen + formula);
                FUZZ_CHECK(!formula || back->fields[0][0] == '\'');
                FUZZ_CHECK(memcmp(back->fields[0] + formula, f, flen) == 0);
                FUZZ_CHECK(ca_csv_next(&r2, back, NULL) == CA_ERR_NOT_FOUND);
            }
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
