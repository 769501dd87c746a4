/* Tests for node/roster_xlsx.c (issue #17: XLSX rosters read as the CSV the CSV path takes).
 * Workbooks are built here in memory (libarchive's ZIP writer) from hand-written parts, so each
 * case shows the XML it reads: shared strings with rich text and phonetic runs, inline strings,
 * numbers, booleans, errors, formula results, skipped columns and rows, quoting, line breaks
 * in cells (and the sheet row map), dates in every built-in and custom date format, the 1900
 * leap-year bug and the 1904 system, sheet choice by name and visibility, and every refusal:
 * not a ZIP, an encrypted workbook, an old .xls, no workbook, a Word document, a DOCTYPE, deep
 * nesting, a bad shared-string index, rows out of order, the row cap, and a zip bomb. The
 * 166-row roster made by openpyxl is compared with its CSV by tests/cli/roster_xlsx.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/roster_xlsx.h"

typedef struct part {
    const char *name;
    const char *text;   /* NULL: the part is left out */
} part;

static const char CONTENT_TYPES[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>";
static const char ROOT_RELS[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char WORKBOOK[] =
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
    "<sheets><sheet name=\"Roster\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char WORKBOOK_RELS[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId4\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/styles\" Target=\"styles.xml\"/></Relationships>";
/* cellXfs: 0 General, 1 built-in 14 (m/d/yyyy), 2 custom datetime, 3 built-in 21 (h:mm:ss),
 * 4 a Korean custom date, 5 custom "0.00", 6 built-in 22, 7 built-in 31 (ko-KR date). A numFmt
 * in cellStyleXfs or dxfs must not count. */
static const char STYLES[] =
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
    "<numFmts count=\"3\"><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\\ hh:mm\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"[$-412]yyyy&quot;년&quot; m&quot;월&quot; "
    "d&quot;일&quot;\"/><numFmt numFmtId=\"166\" formatCode=\"0.00\"/></numFmts>"
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"8\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\" applyNumberFormat=\"1\"/>"
    "<xf numFmtId=\"164\"/><xf numFmtId=\"21\"/><xf numFmtId=\"165\"/><xf numFmtId=\"166\"/>"
    "<xf numFmtId=\"22\"/><xf numFmtId=\"31\"/></cellXfs>"
    "<dxfs count=\"1\"><dxf><numFmt numFmtId=\"167\" formatCode=\"yyyy\"/></dxf></dxfs>"
    "</styleSheet>";
static const char SHARED[] =
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
    "<si><t>externalId</t></si><si><t>name</t></si><si><t>email</t></si>"
    "<si><t>completedAt</t></si>"
    "<si><r><rPr><b/></rPr><t>김</t></r><r><t xml:space=\"preserve\">민준</t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>キム</t></rPh></si>"                        /* 4 */
    "<si><t>a, \"quoted\" one</t></si>"                                    /* 5 */
    "<si><t>two_x000D_\nlines</t></si>"                                    /* 6 */
    "<si><t>x_x005F_x0041_ stays</t></si>"                                 /* 7 */
    "</sst>";

#define SHEET_OPEN "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
#define SHEET_CLOSE "</sheetData></worksheet>"

/* A ZIP of the given parts (the standard ones unless overridden by name; text NULL leaves a
 * part out). Returns malloc'd bytes. */
static uint8_t *make_zip(const part *parts, size_t nparts, size_t *len)
{
    part all[16] = {
        {"[Content_Types].xml", CONTENT_TYPES}, {"_rels/.rels", ROOT_RELS},
        {"xl/workbook.xml", WORKBOOK}, {"xl/_rels/workbook.xml.rels", WORKBOOK_RELS},
        {"xl/styles.xml", STYLES}, {"xl/sharedStrings.xml", SHARED},
    };
    size_t n = 6;
    for (size_t i = 0; i < nparts; i++) {
        size_t j = 0;
        while (j < n && strcmp(all[j].name, parts[i].name) != 0)
            j++;
        all[j] = parts[i];
        if (j == n)
            n++;
    }
    size_t cap = 1 << 20;
    for (size_t i = 0; i < n; i++)
        cap += all[i].text ? strlen(all[i].text) : 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    size_t used = 0;
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        if (!all[i].text)
            continue;
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, all[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(all[i].text));
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, all[i].text, strlen(all[i].text)),
                         (la_ssize_t)strlen(all[i].text));
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *len = used;
    return buf;
}

/* Converts a workbook whose first sheet is sheet_xml (plus extra parts) and checks the CSV. */
static void expect_csv(const char *sheet_xml, const part *extra, size_t nextra,
                       const char *want)
{
    part parts[8] = {{"xl/worksheets/sheet1.xml", sheet_xml}};
    for (size_t i = 0; i < nextra; i++)
        parts[1 + i] = extra[i];
    size_t len;
    uint8_t *zip = make_zip(parts, 1 + nextra, &len);
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_xlsx_options o = {.max_rows = 100};
    ca_err err = ca_xlsx_to_csv(&x, zip, len, &o, &eb);
    if (err)
        fail_msg("ca_xlsx_to_csv: %s", eb.msg);
    assert_string_equal(x.csv, want);
    assert_int_equal(x.len, strlen(want));
    ca_xlsx_csv_free(&x);
    free(zip);
}

/* Converts bytes and expects err with a message containing msg. */
static void expect_error_bytes(const uint8_t *data, size_t len, const char *sheet,
                               size_t max_rows, ca_err want, const char *msg)
{
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_xlsx_options o = {.sheet = sheet, .max_rows = max_rows};
    ca_err err = ca_xlsx_to_csv(&x, data, len, &o, &eb);
    if (err != want || !strstr(eb.msg, msg))
        fail_msg("want %d \"%s\", got %d \"%s\"", want, msg, err, eb.msg);
    assert_null(x.csv);
}

static void expect_error(const part *parts, size_t n, ca_err want, const char *msg)
{
    size_t len;
    uint8_t *zip = make_zip(parts, n, &len);
    expect_error_bytes(zip, len, NULL, 100, want, msg);
    free(zip);
}

/* Strings of every kind, numbers, booleans, errors and formula results; a skipped column (B),
 * a skipped row (3), cells without r, and rows padded to the widest row. */
static void test_cells(void **state)
{
    (void)state;
    expect_csv(SHEET_OPEN
               "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"C1\" t=\"s\"><v>1</v></c>"
               "<c t=\"s\"><v>2</v></c></row>"
               "<row r=\"2\"><c r=\"A2\"><v>10023</v></c><c r=\"C2\" t=\"s\"><v>4</v></c>"
               "<c r=\"D2\" t=\"inlineStr\"><is><r><t>ana</t></r><r><rPr><i/></rPr><t>@x.org</t>"
               "</r><rPh><t>ignored</t></rPh></is></c><c r=\"E2\"><v>1.5</v></c></row>"
               "<row r=\"4\"><c r=\"A4\"><f>0.1+0.2</f><v>0.30000000000000004</v></c>"
               "<c r=\"B4\" t=\"b\"><v>1</v></c><c r=\"C4\" t=\"b\"><v>0</v></c>"
               "<c r=\"D4\" t=\"e\"><v>#N/A</v></c><c r=\"E4\" t=\"str\"><f>A1</f><v>text</v></c>"
               "<c r=\"F4\" s=\"1\"/></row>"
               "<row r=\"5\"><c r=\"A5\"><v>-2.5E-3</v></c><c r=\"B5\"><v>1E+20</v></c>"
               "<c r=\"C5\" s=\"5\"><v>7</v></c><c r=\"D5\" t=\"d\"><v>2026-06-08</v></c></row>"
               SHEET_CLOSE, NULL, 0,
               "externalId,,name,email,\r\n"
               "10023,,김민준,ana@x.org,1.5\r\n"
               "\r\n"
               "0.3,TRUE,FALSE,#N/A,text\r\n"
               "-0.0025,1e+20,7,2026-06-08,\r\n");
}

/* RFC 4180 quoting; a cell with a line break moves the rows below it by one CSV line, and the
 * sheet row map says where they came from. */
static void test_quoting_and_line_map(void **state)
{
    (void)state;
    size_t len;
    part parts[] = {{"xl/worksheets/sheet1.xml", SHEET_OPEN
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>5</v></c><c r=\"B2\" t=\"s\"><v>6</v></c></row>"
        "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>7</v></c></row>"
        "<row r=\"5\"><c r=\"A5\" t=\"inlineStr\"><is><t>=1+1</t></is></c></row>"
        SHEET_CLOSE}};
    uint8_t *zip = make_zip(parts, 1, &len);
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_xlsx_options o = {.max_rows = 10};
    assert_int_equal(ca_xlsx_to_csv(&x, zip, len, &o, &eb), CA_OK);
    assert_string_equal(x.csv, "externalId,name\r\n"
                               "\"a, \"\"quoted\"\" one\",\"two\r\nlines\"\r\n"
                               "x_x0041_ stays,\r\n"
                               "\r\n"
                               "=1+1,\r\n");
    assert_string_equal(x.sheet, "Roster");
    assert_int_equal(x.rows, 3);
    assert_int_equal(ca_xlsx_sheet_row(&x, 1), 1);
    assert_int_equal(ca_xlsx_sheet_row(&x, 2), 2);
    assert_int_equal(ca_xlsx_sheet_row(&x, 4), 3);
    assert_int_equal(ca_xlsx_sheet_row(&x, 6), 5);
    ca_xlsx_csv_free(&x);
    free(zip);
}

/* Dates: built-in 14 and 22, a custom date-time, a Korean custom date, ko-KR's built-in 31;
 * a time-only format and "0.00" stay numbers; the 1900 leap-year bug around serial 60. */
static void test_dates_1900(void **state)
{
    (void)state;
    expect_csv(SHEET_OPEN
               "<row r=\"1\"><c r=\"A1\" s=\"1\"><v>46181</v></c>"
               "<c r=\"B1\" s=\"2\"><v>46181.38402777778</v></c>"
               "<c r=\"C1\" s=\"3\"><v>0.5</v></c><c r=\"D1\" s=\"4\"><v>45000</v></c>"
               "<c r=\"E1\" s=\"5\"><v>45000</v></c><c r=\"F1\" s=\"6\"><v>45000.75</v></c>"
               "<c r=\"G1\" s=\"7\"><v>45000</v></c></row>"
               "<row r=\"2\"><c r=\"A2\" s=\"1\"><v>1</v></c><c r=\"B2\" s=\"1\"><v>59</v></c>"
               "<c r=\"C2\" s=\"1\"><v>60</v></c><c r=\"D2\" s=\"1\"><v>61</v></c>"
               "<c r=\"E2\" s=\"1\"><v>0</v></c><c r=\"F2\" s=\"1\"><v>-1</v></c>"
               "<c r=\"G2\" s=\"99\"><v>45000</v></c></row>"
               SHEET_CLOSE, NULL, 0,
               "2026-06-08,2026-06-08T09:13:00Z,0.5,2023-03-15,45000,2023-03-15T18:00:00Z,"
               "2023-03-15\r\n"
               "1900-01-01,1900-02-28,1900-02-29,1900-03-01,0,-1,45000\r\n");
}

static void test_dates_1904(void **state)
{
    (void)state;
    part wb = {"xl/workbook.xml",
               "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
               "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
               "<workbookPr date1904=\"true\"/><sheets><sheet name=\"Roster\" sheetId=\"1\" "
               "r:id=\"rId1\"/></sheets></workbook>"};
    expect_csv(SHEET_OPEN "<row><c s=\"1\"><v>0</v></c><c s=\"1\"><v>44719</v></c></row>"
               SHEET_CLOSE, &wb, 1, "1904-01-01,2026-06-08\r\n");
}

/* The first visible worksheet, or the one named (case-insensitively); the sheet's part found
 * through an absolute relationship target. */
static void test_sheet_choice(void **state)
{
    (void)state;
    part parts[] = {
        {"xl/workbook.xml",
         "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
         "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
         "<sheets><sheet name=\"Hidden\" sheetId=\"1\" state=\"hidden\" r:id=\"rId1\"/>"
         "<sheet name=\"명단\" sheetId=\"2\" r:id=\"rId2\"/></sheets></workbook>"},
        {"xl/worksheets/sheet1.xml", SHEET_OPEN "<row><c t=\"inlineStr\"><is><t>one</t></is>"
         "</c></row>" SHEET_CLOSE},
        {"xl/worksheets/sheet2.xml", SHEET_OPEN "<row><c t=\"inlineStr\"><is><t>two</t></is>"
         "</c></row>" SHEET_CLOSE},
    };
    size_t len;
    uint8_t *zip = make_zip(parts, 3, &len);
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_xlsx_options o = {.max_rows = 10};
    assert_int_equal(ca_xlsx_to_csv(&x, zip, len, &o, &eb), CA_OK);
    assert_string_equal(x.csv, "two\r\n");
    assert_string_equal(x.sheet, "명단");
    ca_xlsx_csv_free(&x);
    o.sheet = "hidden";
    assert_int_equal(ca_xlsx_to_csv(&x, zip, len, &o, &eb), CA_OK);
    assert_string_equal(x.csv, "one\r\n");
    ca_xlsx_csv_free(&x);
    expect_error_bytes(zip, len, "Nope", 10, CA_ERR_INVALID,
                       "the workbook has no sheet named “Nope” (its sheets: “Hidden”, “명단”)");
    free(zip);
}

static void test_not_xlsx(void **state)
{
    (void)state;
    static const char csv[] = "externalId,email\r\nE1,a@x.org\r\n";
    expect_error_bytes((const uint8_t *)csv, sizeof csv - 1, NULL, 10, CA_ERR_INVALID,
                       "not an XLSX file (it is not a ZIP archive)");
    expect_error_bytes((const uint8_t *)"", 0, NULL, 10, CA_ERR_INVALID, "not a ZIP archive");
    uint8_t cfb[1024] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    expect_error_bytes(cfb, sizeof cfb, NULL, 10, CA_ERR_INVALID,
                       "Excel 97-2003 .xls file cannot be read");
    static const char name[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    memcpy(cfb + 512, name, sizeof name);
    expect_error_bytes(cfb, sizeof cfb, NULL, 10, CA_ERR_INVALID,
                       "an encrypted/password-protected workbook cannot be read");
    uint8_t damaged[64] = "PK\3\4 not really a zip at all";
    expect_error_bytes(damaged, sizeof damaged, NULL, 10, CA_ERR_INVALID,
                       "ZIP archive is damaged");
}

static void test_no_workbook(void **state)
{
    (void)state;
    part no_wb[] = {{"xl/workbook.xml", NULL}, {"_rels/.rels", NULL}};
    expect_error(no_wb, 2, CA_ERR_INVALID, "not an XLSX file (no xl/workbook.xml)");
    part no_types[] = {{"[Content_Types].xml", NULL}};
    expect_error(no_types, 1, CA_ERR_INVALID, "not an XLSX file (no [Content_Types].xml)");
    part docx[] = {{"[Content_Types].xml",
                    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd."
                    "openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"},
                   {"_rels/.rels",
                    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
                    "relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas."
                    "openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
                    "Target=\"word/document.xml\"/></Relationships>"}};
    expect_error(docx, 2, CA_ERR_INVALID, "not an XLSX file (it is a Word document)");
    part no_sheet[] = {{"xl/worksheets/sheet1.xml", NULL}};
    expect_error(no_sheet, 1, CA_ERR_INVALID,
                 "the workbook's sheet “Roster” is missing (no xl/worksheets/sheet1.xml)");
    part empty[] = {{"xl/worksheets/sheet1.xml", SHEET_OPEN "<row r=\"3\"/>" SHEET_CLOSE}};
    expect_error(empty, 1, CA_ERR_INVALID, "the sheet “Roster” is empty");
}

static void test_hostile_xml(void **state)
{
    (void)state;
    part doctype[] = {{"xl/worksheets/sheet1.xml",
                       "<!DOCTYPE lol [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                       SHEET_OPEN "<row><c t=\"inlineStr\"><is><t>&b;</t></is></c></row>"
                       SHEET_CLOSE}};
    expect_error(doctype, 1, CA_ERR_INVALID, "has a DOCTYPE");
    char deep[4096] = SHEET_OPEN "<row><c t=\"inlineStr\"><is>";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<r>");
    strcat(deep, "</is></c></row>" SHEET_CLOSE);
    part nest[] = {{"xl/worksheets/sheet1.xml", deep}};
    expect_error(nest, 1, CA_ERR_INVALID, "nested more than 32 deep");
    part bad[] = {{"xl/worksheets/sheet1.xml", SHEET_OPEN "<row><c><v>1</c></row>" SHEET_CLOSE}};
    expect_error(bad, 1, CA_ERR_INVALID, "the XLSX file's sheet is not well-formed XML (line 1:");
    part idx[] = {{"xl/worksheets/sheet1.xml",
                   SHEET_OPEN "<row r=\"2\"><c r=\"B2\" t=\"s\"><v>8</v></c></row>" SHEET_CLOSE}};
    expect_error(idx, 1, CA_ERR_INVALID, "cell B2 refers to shared string “8” of 8");
    part order[] = {{"xl/worksheets/sheet1.xml",
                     SHEET_OPEN "<row r=\"2\"/><row r=\"2\"/>" SHEET_CLOSE}};
    expect_error(order, 1, CA_ERR_INVALID, "has row 2 after row 2");
    part cells[] = {{"xl/worksheets/sheet1.xml",
                     SHEET_OPEN "<row r=\"2\"><c r=\"C2\"/><c r=\"B2\"/></row>" SHEET_CLOSE}};
    expect_error(cells, 1, CA_ERR_INVALID, "a cell “B2” out of place in row 2");
    part notnum[] = {{"xl/worksheets/sheet1.xml",
                      SHEET_OPEN "<row><c><v>12abc</v></c></row>" SHEET_CLOSE}};
    expect_error(notnum, 1, CA_ERR_INVALID, "cell A1 holds “12abc”, which is not a number");
    part wide[] = {{"xl/worksheets/sheet1.xml",
                    SHEET_OPEN "<row><c r=\"XFE1\"><v>1</v></c></row>" SHEET_CLOSE}};
    expect_error(wide, 1, CA_ERR_INVALID, "a cell “XFE1” out of place");
}

/* More data rows than the caller takes: refused, not truncated. */
static void test_row_cap(void **state)
{
    (void)state;
    part rows[] = {{"xl/worksheets/sheet1.xml", SHEET_OPEN "<row><c><v>1</v></c></row>"
                    "<row><c><v>2</v></c></row><row><c><v>3</v></c></row>" SHEET_CLOSE}};
    size_t len;
    uint8_t *zip = make_zip(rows, 1, &len);
    expect_error_bytes(zip, len, NULL, 1, CA_ERR_TOO_LARGE,
                       "the XLSX file's sheet has more than 1 rows");
    ca_xlsx_csv x;
    ca_xlsx_options o = {.max_rows = 2};
    assert_int_equal(ca_xlsx_to_csv(&x, zip, len, &o, NULL), CA_OK);
    assert_string_equal(x.csv, "1\r\n2\r\n3\r\n");
    ca_xlsx_csv_free(&x);
    free(zip);
}

/* A sheet of 65 MiB (spaces, which deflate to almost nothing) and styles of 5 MiB: refused by
 * the caps on the unpacked size, in well under a second. */
static void test_zip_bomb(void **state)
{
    (void)state;
    size_t big = (size_t)CA_XLSX_MAX_UNPACKED + (1u << 20);
    char *sheet = malloc(big + 1);
    assert_non_null(sheet);
    memset(sheet, ' ', big);
    memcpy(sheet, SHEET_OPEN, strlen(SHEET_OPEN));
    sheet[big] = '\0';
    part bomb[] = {{"xl/worksheets/sheet1.xml", sheet}};
    expect_error(bomb, 1, CA_ERR_TOO_LARGE,
                 "the XLSX file's sheet is larger than 64 MiB when unpacked");
    sheet[CA_XLSX_MAX_SMALL_PART + 100] = '\0';
    memcpy(sheet, "<styleSheet>", 12);
    part styles[] = {{"xl/styles.xml", sheet}};
    expect_error(styles, 1, CA_ERR_TOO_LARGE,
                 "the XLSX file's xl/styles.xml is larger than 4 MiB when unpacked");
    free(sheet);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_quoting_and_line_map),
        cmocka_unit_test(test_dates_1900),
        cmocka_unit_test(test_dates_1904),
        cmocka_unit_test(test_sheet_choice),
        cmocka_unit_test(test_not_xlsx),
        cmocka_unit_test(test_no_workbook),
        cmocka_unit_test(test_hostile_xml),
        cmocka_unit_test(test_row_cap),
        cmocka_unit_test(test_zip_bomb),
    };
    return ca_run_tests("roster_xlsx", tests, NULL, NULL);
}
