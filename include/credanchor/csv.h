/*
 * RFC 4180 CSV reading for participant lists (SPEC §5 bulk issuance): comma separated,
 * fields optionally in double quotes with "" for a quote, CRLF or LF line ends, a UTF-8 BOM
 * skipped, the first row a header. Strict and capped: a field over CA_CSV_FIELD_MAX, a row of
 * more than CA_CSV_FIELDS_MAX fields, a stray quote, invalid UTF-8 or a NUL byte is an error
 * for that row only; the reader resynchronises at the next line end, so one bad row does not
 * lose the others. Conventions: common.h.
 */
#ifndef CREDANCHOR_CSV_H
#define CREDANCHOR_CSV_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_CSV_FIELD_MAX 1024
#define CA_CSV_FIELDS_MAX 32

typedef struct ca_csv_reader {
    const char *data;
    size_t len, pos;
    uint64_t line;          /* 1-based line number where the current row starts */
} ca_csv_reader;

typedef struct ca_csv_row {
    size_t nfields;
    char *fields[CA_CSV_FIELDS_MAX]; /* NUL-terminated, pointing into storage */
    size_t lens[CA_CSV_FIELDS_MAX];
    uint64_t line;                   /* the row's first line (for error reports) */
    char storage[CA_CSV_FIELDS_MAX * (CA_CSV_FIELD_MAX + 1)];
} ca_csv_row;

void ca_csv_init(ca_csv_reader *r, const char *data, size_t len);

/* Reads the next row. CA_OK with the row filled; CA_ERR_NOT_FOUND at the end of the input;
 * CA_ERR_INVALID or CA_ERR_TOO_LARGE for a bad row (eb says why and row->line says where;
 * nfields is 0), after which the next call continues with the following row. Blank lines are
 * skipped. Resynchronisation: the rest of a bad row is skipped with the same quote rules as a
 * good one (a quote opening a field hides line ends until it closes), so the row ends at the
 * first line end outside quotes; a quote still open at the end of the input is instead taken
 * to cover only its own line, and reading resumes after the first LF that follows it. Every
 * call that does not return CA_ERR_NOT_FOUND consumes input. */
ca_err ca_csv_next(ca_csv_reader *r, ca_csv_row *row, ca_errbuf *eb);

/* Writes one field to out for CSV output (RFC 4180): quoted when it holds a comma, quote, CR
 * or LF, or when its first visible character is =, +, -, @, tab or CR, or their fullwidth
 * forms U+FF1D, U+FF0B, U+FF0D, U+FF20 (which spreadsheets run as formulas: OWASP CSV
 * injection), "visible" meaning after spaces, LF, U+00A0, a BOM, zero-width characters and bidi
 * controls; such fields also get a leading apostrophe inside the quotes. Bidi controls
 * (U+202A..202E, U+2066..2069, U+200E/200F, U+061C) are written as U+FFFD. Returns the bytes
 * written, or the bytes needed when out is NULL. No NUL is written. */
size_t ca_csv_escape(char *out, const char *field, size_t len);

#ifdef __cplusplus
}
#endif
#endif
