/*
 * libFuzzer target for node/roster_xlsx.c (issue #17: XLSX rosters). Two ways in, by the first
 * byte:
 *   even: the rest is the file itself (ZIP/CFB framing, libarchive's reader, every refusal);
 *   odd:  the rest is up to four XML parts separated by 0xFF bytes (the sheet, the shared
 *         strings, the styles, the workbook), stored in a ZIP with fixed content types and
 *         relationships, so mutations reach the XML handlers instead of dying in the ZIP CRC.
 * Properties checked on every success: the CSV has no NUL and len is its length, it is within
 * CA_XLSX_MAX_CSV; the credential/csv.c reader reads it to the end, and every row it accepts
 * has the same number of fields (rows are padded to the widest); the sheet-row map is
 * ascending, a moved row's sheet row is smaller than its CSV line, and ca_xlsx_sheet_row finds
 * each. Failures must leave the output empty and say why.
 */
#include "fuzz_common.h"

#include "credanchor/csv.h"
#include "node/roster_xlsx.h"

#include <archive.h>
#include <archive_entry.h>

static const char *const FIXED[][2] = {
    {"[Content_Types].xml",
     "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
     "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
     "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>"},
    {"xl/_rels/workbook.xml.rels",
     "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
     "<Relationship Id=\"rId1\" Type=\"x/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
     "<Relationship Id=\"rId2\" Type=\"x/sharedStrings\" Target=\"sharedStrings.xml\"/>"
     "<Relationship Id=\"rId3\" Type=\"x/styles\" Target=\"styles.xml\"/></Relationships>"},
};
static const char *const PARTS[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                    "xl/styles.xml", "xl/workbook.xml"};
static const char DEFAULT_WORKBOOK[] =
    "<workbook><sheets><sheet name=\"S\" r:id=\"rId1\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"/>"
    "</sheets></workbook>";

static void add_entry(struct archive *a, const char *name, const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(a, e) == ARCHIVE_OK && len)
        archive_write_data(a, data, len);
    archive_entry_free(e);
}

/* The odd-byte way in: the parts zipped (stored). Returns malloc'd bytes. */
static uint8_t *zip_parts(const uint8_t *data, size_t size, size_t *len)
{
    size_t cap = size + 8192;
    uint8_t *buf = malloc(cap);
    if (!buf)
        abort();
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=store");
    size_t used = 0;
    if (archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
        abort();
    for (size_t i = 0; i < 2; i++)
        add_entry(a, FIXED[i][0], FIXED[i][1], strlen(FIXED[i][1]));
    const uint8_t *p = data, *end = data + size;
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *sep = p < end ? memchr(p, 0xFF, (size_t)(end - p)) : NULL;
        size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
        if (i == 3 && p >= end)
            add_entry(a, PARTS[i], DEFAULT_WORKBOOK, strlen(DEFAULT_WORKBOOK));
        else
            add_entry(a, PARTS[i], p, n);
        p = sep ? sep + 1 : end;
    }
    archive_write_close(a);
    archive_write_free(a);
    *len = used;
    return buf;
}

static void check_csv(const ca_xlsx_csv *x)
{
    FUZZ_CHECK(x->csv && strlen(x->csv) == x->len && x->len <= CA_XLSX_MAX_CSV);
    ca_csv_row *row = malloc(sizeof *row);
    if (!row)
        abort();
    ca_csv_reader r;
    ca_csv_init(&r, x->csv, x->len);
    size_t width = 0;
    for (;;) {
        ca_err err = ca_csv_next(&r, row, NULL);
        if (err == CA_ERR_NOT_FOUND)
            break;
        if (err)
            continue;
        if (!width)
            width = row->nfields;
        FUZZ_CHECK(row->nfields == width);
    }
    free(row);
    for (size_t i = 0; i < x->nmoved; i++) {
        FUZZ_CHECK(x->moved[i].sheet_row < x->moved[i].csv_line);
        FUZZ_CHECK(!i || x->moved[i - 1].csv_line < x->moved[i].csv_line);
        FUZZ_CHECK(ca_xlsx_sheet_row(x, x->moved[i].csv_line) == x->moved[i].sheet_row);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    size_t len = size - 1;
    uint8_t *file = (data[0] & 1) ? zip_parts(data + 1, size - 1, &len)
                                   : fuzz_memdup(data + 1, size - 1);
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_xlsx_options o = {.sheet = (data[0] & 2) ? "s" : NULL, .max_rows = 1000};
    ca_err err = ca_xlsx_to_csv(&x, file, len, &o, &eb);
    if (err) {
        FUZZ_CHECK(!x.csv && !x.len && !x.moved && eb.msg[0]);
        FUZZ_CHECK(err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE || err == CA_ERR_NOMEM);
    } else {
        check_csv(&x);
    }
    ca_xlsx_csv_free(&x);
    free(file);
    return 0;
}
