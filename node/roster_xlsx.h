/*
 * XLSX rosters (issue #17: "Roster upload. CSV, and XLSX too"): an Excel workbook's sheet
 * becomes the CSV text the CSV path takes (credential/csv.c, node/bulk.c), so validation,
 * per-row errors and idempotency are done once, by that code.
 *
 * Reading follows the OOXML package (ECMA-376 Part 2, OPC; Part 1 §18 SpreadsheetML): the ZIP
 * (libarchive, read from memory through its central directory), [Content_Types].xml and
 * _rels/.rels for the workbook part, xl/workbook.xml for the sheets and the 1904 date system,
 * the workbook's relationships for the sheet, shared strings and styles parts, and the sheet's
 * cells; the XML through expat. The sheet read is the first visible worksheet, or the one
 * named by the caller.
 *
 * Output: RFC 4180 CSV with CRLF line ends, no BOM. The first row of the sheet with a value is
 * the header; every row gets as many fields as the widest row has (empty cells and skipped
 * column letters become empty fields), like Excel's own "Save as CSV". Cells: shared strings
 * and inline strings (rich text runs concatenated, phonetic runs left out, _xHHHH_ escapes
 * decoded), formula results (the cached <v>; nothing is evaluated), booleans TRUE/FALSE, error
 * values as written (#N/A), ISO dates (t="d") as written, numbers with at most 15 significant
 * digits and no trailing ".0" (10023 stays "10023"), and numbers whose style is a date format
 * as YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ when the format shows a time too (Excel keeps no time
 * zone: the time is taken as UTC, as the CSV path takes a date), in the 1900 date system (with
 * Lotus 1-2-3's 29 February 1900) or the 1904 one. Time-only formats stay numbers.
 *
 * Line numbers: sheet row r starts at CSV line r plus the line breaks inside the cells of the
 * rows above it (blank lines stand for empty rows), so the CSV path's row numbers are the
 * sheet's row numbers unless a cell holds a line break; ca_xlsx_sheet_row maps them back.
 *
 * Caps (a hostile or zip-bomb file gets a one-line error, never a large allocation): the
 * parts read together unpack to at most CA_XLSX_MAX_UNPACKED bytes, the small parts to at most
 * CA_XLSX_MAX_SMALL_PART each (counted while inflating, whatever the ZIP headers claim), at most
 * CA_XLSX_MAX_ENTRIES ZIP entries, CA_XLSX_MAX_STRINGS shared strings, XML nesting of
 * CA_XLSX_MAX_DEPTH, no DOCTYPE (no entities), Excel's own 1,048,576 rows and 16,384 columns,
 * the caller's max_rows data rows, and CA_XLSX_MAX_CSV bytes of CSV. Conventions: common.h.
 */
#ifndef CREDANCHOR_ROSTER_XLSX_H
#define CREDANCHOR_ROSTER_XLSX_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_XLSX_MEDIA_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define CA_XLSX_MAX_UNPACKED (64u << 20) /* bytes of XML inflated, all parts together */
#define CA_XLSX_MAX_SMALL_PART (4u << 20) /* workbook, relationships, content types, styles */
#define CA_XLSX_MAX_CSV (64u << 20)
#define CA_XLSX_MAX_ENTRIES 10000u       /* a real workbook has tens */
#define CA_XLSX_MAX_STRINGS 1048576u     /* one per row of a full sheet */
#define CA_XLSX_MAX_DEPTH 32u            /* a sheet's cells nest 7 deep */
#define CA_XLSX_MAX_ROW 1048576u         /* Excel's limits (ECMA-376 Part 1 §18.3.1.73) */
#define CA_XLSX_MAX_COL 16384u
#define CA_XLSX_SHEET_NAME_MAX 256

typedef struct ca_xlsx_options {
    const char *sheet;      /* NULL or "": the first visible worksheet; else its name */
    size_t max_rows;        /* data rows (the header not counted) */
} ca_xlsx_options;

typedef struct ca_xlsx_line {
    uint64_t csv_line, sheet_row;
} ca_xlsx_line;

typedef struct ca_xlsx_csv {
    char *csv;              /* malloc'd, NUL-terminated */
    size_t len;
    char sheet[CA_XLSX_SHEET_NAME_MAX]; /* the name of the sheet read */
    size_t rows;            /* data rows written (the header and blank rows not counted) */
    ca_xlsx_line *moved;    /* rows whose CSV line is not their sheet row, ascending */
    size_t nmoved;
} ca_xlsx_csv;

/* Converts the workbook in data[0..len) to CSV. CA_ERR_INVALID for a file that is not a
 * readable XLSX workbook (eb says why in one sentence: not a ZIP, no workbook, encrypted, an
 * old .xls, damaged XML, no such sheet), CA_ERR_TOO_LARGE past a cap, CA_ERR_NOMEM. On success
 * *out is filled (free it with ca_xlsx_csv_free); on failure it is empty. */
ca_err ca_xlsx_to_csv(ca_xlsx_csv *out, const void *data, size_t len, const ca_xlsx_options *o,
                      ca_errbuf *eb);

/* The sheet row of the CSV record that starts at csv_line (csv_line itself for most). */
uint64_t ca_xlsx_sheet_row(const ca_xlsx_csv *x, uint64_t csv_line);

void ca_xlsx_csv_free(ca_xlsx_csv *x);

#ifdef __cplusplus
}
#endif
#endif
