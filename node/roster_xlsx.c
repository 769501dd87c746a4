/*
 * XLSX workbook -> roster CSV (issue #17). The header (node/roster_xlsx.h) says what comes
 * out; this file reads the package in the order ECMA-376 Part 2 (OPC) lays it out:
 *
 *   1. the first bytes: a ZIP, or an OLE compound file (CFB), which is what Office writes for
 *      a password-protected workbook (MS-OFFCRYPTO: an EncryptedPackage stream) and for an old
 *      .xls, each refused with its own message;
 *   2. _rels/.rels: the officeDocument relationship names the workbook part (xl/workbook.xml
 *      when the package has none), and [Content_Types].xml must call it a SpreadsheetML
 *      workbook (a .docx or .xlsb is told apart);
 *   3. the workbook part: <workbookPr date1904> and <sheets>; its relationships part
 *      (xl/_rels/workbook.xml.rels) maps each sheet's r:id to its part, and names the shared
 *      strings and styles parts;
 *   4. styles: <numFmts> and <cellXfs> say which cell styles are dates (§18.8.30 built-ins,
 *      and custom codes showing a year, month or day);
 *   5. shared strings, then the sheet itself, streamed cell by cell into the CSV.
 *
 * Each part is found by opening the archive again from memory (libarchive's seekable ZIP
 * reader takes the central directory, so skipping an entry inflates nothing) and is streamed
 * through expat in 64 KiB pieces: no part is held whole in memory but the shared strings and
 * the CSV. Elements are matched by local name (namespaces ignored), so Strict OOXML reads the
 * same as Transitional.
 */
#include "node/roster_xlsx.h"

#include "credanchor/capbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_SEP '\x01'          /* expat's namespace separator: "uri\x01local" */
#define PART_NAME_MAX 512
#define REL_ID_MAX 64
#define MAX_SHEETS 4096u
#define MAX_RELS 4096u
#define MAX_STYLES 65536u      /* Excel writes at most 64,000 cell formats */
#define MAX_NUMFMTS 4096u
#define MAX_TEXT (256u << 10)  /* one cell's or shared string's text (Excel: 32,767 chars) */
#define MAX_SHARED_TEXT CA_XLSX_MAX_UNPACKED
#define READ_CHUNK 65536

typedef enum fmt_kind { FMT_NUMBER, FMT_DATE, FMT_DATETIME } fmt_kind;

typedef struct sheet_ref {
    char name[CA_XLSX_SHEET_NAME_MAX];
    char rid[REL_ID_MAX];
    bool hidden;
} sheet_ref;

typedef struct rel {
    char id[REL_ID_MAX];
    char type[32];             /* the Type URI's last segment: worksheet, sharedStrings, ... */
    char target[PART_NAME_MAX];
    bool external;
} rel;

typedef struct numfmt {
    uint32_t id;
    uint8_t kind;
} numfmt;

typedef struct row_end {
    size_t end;                /* offset of the row's line end in the CSV */
    uint32_t fields;
} row_end;

typedef struct xlsx xlsx;
typedef void (*elem_fn)(xlsx *x, const char *name, const char **atts);

struct xlsx {
    const uint8_t *data;
    size_t len;
    ca_err err;                /* the first failure; parsing stops there */
    ca_errbuf eb;
    size_t unpacked;           /* XML bytes inflated so far, every part */
    XML_Parser parser;
    unsigned depth;
    elem_fn start, end;        /* the part's element handlers (end gets atts NULL) */
    /* package */
    char workbook[PART_NAME_MAX];
    char workbook_type[200];
    char default_xml_type[200];
    bool have_types;
    bool date1904;
    sheet_ref *sheets;
    size_t nsheets;
    rel *rels;
    size_t nrels;
    /* styles */
    numfmt *numfmts;
    size_t nnumfmts;
    uint8_t *xf_kind;
    size_t nxf;
    bool in_numfmts, in_cellxfs;
    /* text of the element being collected (<t>, <v>), phonetic runs left out */
    ca_capbuf text;
    bool collecting;
    unsigned in_rph;
    /* shared strings: offsets into one buffer of NUL-terminated strings */
    ca_capbuf shared;
    size_t *ss_off;
    size_t nss, ss_cap;
    bool in_si, in_is;
    /* the sheet */
    const ca_xlsx_options *o;
    ca_capbuf csv;
    uint64_t row, csv_line, breaks;
    uint32_t col, last_col, width;
    bool row_has_value, header_seen, in_sheetdata;
    char cell_type[16];
    long cell_style;
    size_t rows;
    row_end *ends;
    size_t nends, ends_cap;
    ca_xlsx_line *moved;
    size_t nmoved, moved_cap;
};

/* ---- errors ---------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void xfail(xlsx *x, ca_err code, const char *fmt, ...)
{
    if (x->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->eb.msg, sizeof x->eb.msg, fmt, ap);
    va_end(ap);
    x->err = code;
    if (x->parser)
        XML_StopParser(x->parser, XML_FALSE);
}

static void nomem(xlsx *x)
{
    xfail(x, CA_ERR_NOMEM, "out of memory reading the XLSX file");
}

/* ---- XML helpers ----------------------------------------------------------------------- */

static const char *local_name(const char *name)
{
    const char *sep = strrchr(name, NS_SEP);
    return sep ? sep + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts && atts[i]; i += 2)
        if (strcmp(local_name(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

static bool is(const char *name, const char *want)
{
    return strcmp(name, want) == 0;
}

static void XMLCALL on_start(void *ud, const char *name, const char **atts)
{
    xlsx *x = ud;
    if (x->err)
        return;
    if (++x->depth > CA_XLSX_MAX_DEPTH) {
        xfail(x, CA_ERR_INVALID, "the XLSX file's XML is nested more than %u deep",
              CA_XLSX_MAX_DEPTH);
        return;
    }
    if (x->start)
        x->start(x, local_name(name), atts);
}

static void XMLCALL on_end(void *ud, const char *name)
{
    xlsx *x = ud;
    if (x->err)
        return;
    x->depth--;
    if (x->end)
        x->end(x, local_name(name), NULL);
}

static void XMLCALL on_text(void *ud, const char *s, int n)
{
    xlsx *x = ud;
    if (x->err || !x->collecting || x->in_rph)
        return;
    if (!ca_capbuf_append(&x->text, s, (size_t)n)) {
        if (x->text.overflow)
            xfail(x, CA_ERR_TOO_LARGE, "the XLSX file has a cell or string of more than %u KiB",
                  MAX_TEXT >> 10);
        else
            nomem(x);
    }
}

/* OOXML has no use for a DTD (ECMA-376 Part 2 §8.1.4: DTD declarations are not allowed);
 * refusing it leaves no entity to expand. */
static void XMLCALL on_doctype(void *ud, const char *name, const char *sysid, const char *pubid,
                               int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    xfail(ud, CA_ERR_INVALID, "the XLSX file's XML has a DOCTYPE, which OOXML does not allow");
}

/* ---- the ZIP --------------------------------------------------------------------------- */

static const char *entry_name(struct archive_entry *e)
{
    const char *n = archive_entry_pathname_utf8(e);
    return n ? n : archive_entry_pathname(e);
}

static void damaged(xlsx *x, struct archive *a)
{
    const char *why = archive_error_string(a);
    xfail(x, CA_ERR_INVALID, "the XLSX file's ZIP archive is damaged (%s)",
          why ? why : "unreadable");
}

/* Moves a to the entry called name (part names compare ASCII case-insensitively, OPC §9.1.1).
 * CA_ERR_NOT_FOUND when there is none. */
static ca_err find_entry(xlsx *x, struct archive *a, const char *name,
                         struct archive_entry **e)
{
    for (unsigned n = 0;; n++) {
        if (n >= CA_XLSX_MAX_ENTRIES) {
            xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's ZIP archive has more than %u entries",
                  CA_XLSX_MAX_ENTRIES);
            return x->err;
        }
        int r = archive_read_next_header(a, e);
        if (r == ARCHIVE_EOF)
            return CA_ERR_NOT_FOUND;
        if (r < ARCHIVE_WARN) {
            damaged(x, a);
            return x->err;
        }
        const char *en = entry_name(*e);
        if (en && strcasecmp(en, name) == 0)
            return CA_OK;
    }
}

static void too_big(xlsx *x, const char *label, size_t cap)
{
    if (cap >= CA_XLSX_MAX_UNPACKED || x->unpacked >= CA_XLSX_MAX_UNPACKED)
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's %s is larger than %u MiB when unpacked",
              label, CA_XLSX_MAX_UNPACKED >> 20);
    else
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's %s is larger than %zu MiB when unpacked",
              label, cap >> 20);
}

/* Streams the inflated entry through a fresh expat parser with x's handlers. */
static void parse_entry(xlsx *x, struct archive *a, const char *label, size_t cap)
{
    x->parser = XML_ParserCreateNS(NULL, NS_SEP);
    if (!x->parser) {
        nomem(x);
        return;
    }
    XML_SetUserData(x->parser, x);
    XML_SetElementHandler(x->parser, on_start, on_end);
    XML_SetCharacterDataHandler(x->parser, on_text);
    XML_SetStartDoctypeDeclHandler(x->parser, on_doctype);
    x->depth = 0;
    char *buf = malloc(READ_CHUNK);
    size_t part = 0;
    for (bool last = false; buf && !last && !x->err;) {
        la_ssize_t n = archive_read_data(a, buf, READ_CHUNK);
        if (n < 0) {
            damaged(x, a);
            break;
        }
        last = n == 0;
        part += (size_t)n;
        x->unpacked += (size_t)n;
        if (part > cap || x->unpacked > CA_XLSX_MAX_UNPACKED) {
            too_big(x, label, cap);
            break;
        }
        if (XML_Parse(x->parser, buf, (int)n, last) == XML_STATUS_ERROR && !x->err)
            xfail(x, CA_ERR_INVALID, "the XLSX file's %s is not well-formed XML (line %lu: %s)",
                  label, (unsigned long)XML_GetCurrentLineNumber(x->parser),
                  XML_ErrorString(XML_GetErrorCode(x->parser)));
    }
    if (!buf)
        nomem(x);
    free(buf);
    XML_ParserFree(x->parser);
    x->parser = NULL;
}

/* Reads the part called name through start/end. CA_ERR_NOT_FOUND (and nothing in x->eb) when
 * the package has no such part; label names it in messages; cap bounds its inflated size. */
static ca_err read_part(xlsx *x, const char *name, const char *label, size_t cap,
                        elem_fn start, elem_fn end)
{
    struct archive *a = archive_read_new();
    if (!a) {
        nomem(x);
        return x->err;
    }
    archive_read_support_format_zip_seekable(a);
    struct archive_entry *e;
    ca_err found = CA_ERR_NOT_FOUND;
    if (archive_read_open_memory(a, x->data, x->len) != ARCHIVE_OK) {
        damaged(x, a);
    } else if ((found = find_entry(x, a, name, &e)) == CA_OK) {
        if (archive_entry_is_encrypted(e))
            xfail(x, CA_ERR_INVALID, "an encrypted/password-protected workbook cannot be read; "
                  "save it without a password");
        else if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > cap)
            too_big(x, label, cap);
        else {
            x->start = start;
            x->end = end;
            parse_entry(x, a, label, cap);
        }
    }
    archive_read_free(a);
    if (x->err)
        return x->err;
    return found;
}

/* ---- part names (OPC §9.1: relative references resolved against the source part) -------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* out = target resolved against the folder of source ("" for the package root), without a
 * leading '/', percent-decoded, "." and ".." segments removed. false when it does not fit or
 * climbs out of the package. */
static bool resolve_part(char *out, size_t cap, const char *source, const char *target)
{
    char joined[2 * PART_NAME_MAX];
    size_t n = 0;
    if (target[0] != '/') {
        const char *slash = strrchr(source, '/');
        size_t dir = slash ? (size_t)(slash - source) + 1 : 0;
        if (dir >= sizeof joined)
            return false;
        memcpy(joined, source, dir);
        n = dir;
    }
    for (const char *p = target; *p; p++) {
        char c = *p;
        if (c == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        }
        if (n + 1 >= sizeof joined)
            return false;
        joined[n++] = c;
    }
    joined[n] = '\0';
    size_t o = 0;
    for (char *seg = joined, *next; seg; seg = next) {
        next = strchr(seg, '/');
        if (next)
            *next++ = '\0';
        if (!*seg || is(seg, "."))
            continue;
        if (is(seg, "..")) {
            if (!o)
                return false;
            while (o && out[o - 1] != '/')
                o--;
            if (o)
                o--;
            continue;
        }
        size_t sl = strlen(seg);
        if (o + (o ? 1 : 0) + sl + 1 > cap)
            return false;
        if (o)
            out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    out[o] = '\0';
    return o > 0;
}

/* ---- 2. the package's relationships and content types ------------------------------------ */

static const char *type_tail(const char *type)
{
    const char *s = type ? strrchr(type, '/') : NULL;
    return s ? s + 1 : type ? type : "";
}

static void root_rels_start(xlsx *x, const char *name, const char **atts)
{
    if (!is(name, "Relationship") || !is(type_tail(attr(atts, "Type")), "officeDocument"))
        return;
    const char *target = attr(atts, "Target");
    if (target && !resolve_part(x->workbook, sizeof x->workbook, "", target))
        xfail(x, CA_ERR_INVALID, "not an XLSX file (its workbook part name is not valid)");
}

static void content_types_start(xlsx *x, const char *name, const char **atts)
{
    const char *type = attr(atts, "ContentType");
    if (!type)
        return;
    if (is(name, "Default") && attr(atts, "Extension") &&
        strcasecmp(attr(atts, "Extension"), "xml") == 0)
        snprintf(x->default_xml_type, sizeof x->default_xml_type, "%s", type);
    const char *part = attr(atts, "PartName");
    if (is(name, "Override") && part && part[0] == '/' && strcasecmp(part + 1, x->workbook) == 0)
        snprintf(x->workbook_type, sizeof x->workbook_type, "%s", type);
}

/* Step 2: sets x->workbook and checks what kind of document it is. */
static ca_err find_workbook(xlsx *x)
{
    snprintf(x->workbook, sizeof x->workbook, "xl/workbook.xml");
    ca_err err = read_part(x, "_rels/.rels", "package relationships", CA_XLSX_MAX_SMALL_PART,
                           root_rels_start, NULL);
    if (err && err != CA_ERR_NOT_FOUND)
        return err;
    err = read_part(x, "[Content_Types].xml", "[Content_Types].xml", CA_XLSX_MAX_SMALL_PART,
                    content_types_start, NULL);
    if (err == CA_ERR_NOT_FOUND) {
        xfail(x, CA_ERR_INVALID, "not an XLSX file (no [Content_Types].xml)");
        return x->err;
    }
    if (err)
        return err;
    const char *type = x->workbook_type[0] ? x->workbook_type : x->default_xml_type;
    static const char *const workbook_types[] = {
        "spreadsheetml.sheet.main+xml", "spreadsheetml.template.main+xml",
        "ms-excel.sheet.macroEnabled.main+xml", "ms-excel.template.macroEnabled.main+xml"};
    for (size_t i = 0; i < sizeof workbook_types / sizeof *workbook_types; i++)
        if (strstr(type, workbook_types[i]))
            return CA_OK;
    if (strstr(type, "ms-excel.sheet.binary"))
        xfail(x, CA_ERR_INVALID, "an .xlsb binary workbook cannot be read; save it as .xlsx");
    else if (strstr(type, "wordprocessingml"))
        xfail(x, CA_ERR_INVALID, "not an XLSX file (it is a Word document)");
    else if (strstr(type, "presentationml"))
        xfail(x, CA_ERR_INVALID, "not an XLSX file (it is a PowerPoint presentation)");
    else if (!x->workbook_type[0])
        xfail(x, CA_ERR_INVALID, "not an XLSX file (no %s)", x->workbook);
    else
        xfail(x, CA_ERR_INVALID, "not an XLSX file (its main part is %.120s)", type);
    return x->err;
}

/* ---- 3. the workbook and its relationships --------------------------------------------- */

static bool xml_true(const char *v)
{
    return v && (is(v, "1") || is(v, "true"));
}

static void workbook_start(xlsx *x, const char *name, const char **atts)
{
    if (is(name, "workbookPr")) {
        x->date1904 = xml_true(attr(atts, "date1904"));
        return;
    }
    if (!is(name, "sheet"))
        return;
    if (x->nsheets >= MAX_SHEETS) {
        xfail(x, CA_ERR_TOO_LARGE, "the workbook has more than %u sheets", MAX_SHEETS);
        return;
    }
    if (!x->sheets && !(x->sheets = calloc(MAX_SHEETS, sizeof *x->sheets))) {
        nomem(x);
        return;
    }
    sheet_ref *s = &x->sheets[x->nsheets++];
    const char *nm = attr(atts, "name"), *rid = attr(atts, "id"), *state = attr(atts, "state");
    snprintf(s->name, sizeof s->name, "%s", nm ? nm : "");
    snprintf(s->rid, sizeof s->rid, "%s", rid ? rid : "");
    s->hidden = state && !is(state, "visible");
}

static void rels_start(xlsx *x, const char *name, const char **atts)
{
    if (!is(name, "Relationship"))
        return;
    if (x->nrels >= MAX_RELS) {
        xfail(x, CA_ERR_TOO_LARGE, "the workbook has more than %u relationships", MAX_RELS);
        return;
    }
    if (!x->rels && !(x->rels = calloc(MAX_RELS, sizeof *x->rels))) {
        nomem(x);
        return;
    }
    rel *r = &x->rels[x->nrels++];
    const char *id = attr(atts, "Id"), *target = attr(atts, "Target");
    const char *mode = attr(atts, "TargetMode");
    snprintf(r->id, sizeof r->id, "%s", id ? id : "");
    snprintf(r->type, sizeof r->type, "%s", type_tail(attr(atts, "Type")));
    r->external = mode && is(mode, "External");
    if (!r->external && target && !resolve_part(r->target, sizeof r->target, x->workbook, target))
        r->target[0] = '\0';
}

static const rel *rel_by_id(const xlsx *x, const char *id)
{
    for (size_t i = 0; i < x->nrels; i++)
        if (is(x->rels[i].id, id))
            return &x->rels[i];
    return NULL;
}

static const rel *rel_by_type(const xlsx *x, const char *type)
{
    for (size_t i = 0; i < x->nrels; i++)
        if (is(x->rels[i].type, type) && !x->rels[i].external && x->rels[i].target[0])
            return &x->rels[i];
    return NULL;
}

/* The sheet the caller named (exact, else ASCII case-insensitive as Excel compares names),
 * or the first visible worksheet. */
static const rel *choose_sheet(xlsx *x, const char *want, const char **sheet_name)
{
    const sheet_ref *pick = NULL;
    for (size_t i = 0; want && *want && i < x->nsheets && !pick; i++)
        if (is(x->sheets[i].name, want))
            pick = &x->sheets[i];
    for (size_t i = 0; want && *want && i < x->nsheets && !pick; i++)
        if (strcasecmp(x->sheets[i].name, want) == 0)
            pick = &x->sheets[i];
    for (size_t i = 0; !(want && *want) && i < x->nsheets && !pick; i++) {
        const rel *r = rel_by_id(x, x->sheets[i].rid);
        if (!x->sheets[i].hidden && r && is(r->type, "worksheet"))
            pick = &x->sheets[i];
    }
    if (!pick) {
        if (!(want && *want)) {
            xfail(x, CA_ERR_INVALID, "the workbook has no visible worksheet");
            return NULL;
        }
        char names[300] = "";
        size_t n = 0;
        for (size_t i = 0; i < x->nsheets && n < sizeof names - 1; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s“%s”", i ? ", " : "",
                                  x->sheets[i].name);
        xfail(x, CA_ERR_INVALID, "the workbook has no sheet named “%.100s” (its sheets: %s)",
              want, names);
        return NULL;
    }
    *sheet_name = pick->name;
    const rel *r = rel_by_id(x, pick->rid);
    if (!r || r->external || !r->target[0])
        xfail(x, CA_ERR_INVALID, "the workbook's sheet “%.100s” has no part", pick->name);
    else if (!is(r->type, "worksheet"))
        xfail(x, CA_ERR_INVALID, "the sheet “%.100s” is a %.30s, not a worksheet", pick->name,
              r->type);
    return x->err ? NULL : r;
}

/* ---- 4. styles: which cell formats are dates ------------------------------------------- */

/* A custom format code's kind (ECMA-376 Part 1 §18.8.31): the first section, with quoted
 * text, escaped characters, the _x and *x fillers and [colour]/[condition]/[$-locale] brackets left
 * out; y or d (or m without h or s) shows a date, h or s (or [h]/[mm]/[ss]) a time. */
static fmt_kind classify_code(const char *code)
{
    bool y = false, d = false, m = false, h = false, s = false;
    for (const char *p = code; *p && *p != ';'; p++) {
        switch (*p) {
        case '"':
            while (p[1] && p[1] != '"')
                p++;
            if (p[1])
                p++;
            break;
        case '\\': case '_': case '*':
            if (p[1])
                p++;
            break;
        case '[': {
            const char *close = strchr(p, ']');
            if (!close)
                return FMT_NUMBER;
            char c = (char)(p[1] | 0x20);
            if (c == 'h' || c == 's' || (c == 'm' && close - p <= 3))
                h = true; /* elapsed time: [h], [mm], [ss] */
            p = close;
            break;
        }
        case 'y': case 'Y': y = true; break;
        case 'd': case 'D': d = true; break;
        case 'm': case 'M': m = true; break;
        case 'h': case 'H': h = true; break;
        case 's': case 'S': s = true; break;
        default: break;
        }
    }
    bool date = y || d || (m && !h && !s);
    return date ? (h || s ? FMT_DATETIME : FMT_DATE) : FMT_NUMBER;
}

/* Built-in formats (§18.8.30): 14-17 dates, 22 date and time, and the East Asian locales'
 * dates 27-31, 36, 50-54, 57-58 (in ko-KR e.g. yyyy"년" mm"월" dd"일"); 18-21, 32-35, 45-47
 * and 55-56 show only a time and stay numbers. */
static fmt_kind builtin_kind(uint32_t id)
{
    if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54) ||
        id == 57 || id == 58)
        return FMT_DATE;
    return id == 22 ? FMT_DATETIME : FMT_NUMBER;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (v = v * 10 + (uint64_t)(*s - '0')) > max)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static void styles_start(xlsx *x, const char *name, const char **atts)
{
    uint32_t id;
    if (is(name, "numFmts") || is(name, "cellXfs")) {
        x->in_numfmts = is(name, "numFmts");
        x->in_cellxfs = is(name, "cellXfs");
    } else if (is(name, "numFmt") && x->in_numfmts &&
               parse_u32(attr(atts, "numFmtId"), UINT32_MAX, &id) && attr(atts, "formatCode")) {
        if (x->nnumfmts >= MAX_NUMFMTS) {
            xfail(x, CA_ERR_TOO_LARGE, "the XLSX file has more than %u number formats",
                  MAX_NUMFMTS);
            return;
        }
        if (!x->numfmts && !(x->numfmts = calloc(MAX_NUMFMTS, sizeof *x->numfmts))) {
            nomem(x);
            return;
        }
        x->numfmts[x->nnumfmts++] = (numfmt){id, (uint8_t)classify_code(attr(atts, "formatCode"))};
    } else if (is(name, "xf") && x->in_cellxfs) {
        if (x->nxf >= MAX_STYLES) {
            xfail(x, CA_ERR_TOO_LARGE, "the XLSX file has more than %u cell styles", MAX_STYLES);
            return;
        }
        if (!x->xf_kind && !(x->xf_kind = calloc(MAX_STYLES, 1))) {
            nomem(x);
            return;
        }
        uint8_t kind = FMT_NUMBER;
        if (parse_u32(attr(atts, "numFmtId"), UINT32_MAX, &id)) {
            kind = (uint8_t)builtin_kind(id);
            for (size_t i = 0; i < x->nnumfmts; i++) /* a custom code wins over a built-in */
                if (x->numfmts[i].id == id)
                    kind = x->numfmts[i].kind;
        }
        x->xf_kind[x->nxf++] = kind;
    }
}

static void styles_end(xlsx *x, const char *name, const char **atts)
{
    (void)atts;
    if (is(name, "numFmts"))
        x->in_numfmts = false;
    else if (is(name, "cellXfs"))
        x->in_cellxfs = false;
}

/* ---- 5a. shared strings ------------------------------------------------------------------ */

/* Decodes ST_Xstring's _xHHHH_ escapes (ECMA-376 Part 1 §22.9.2.19) in place: Excel writes
 * control characters such as CR as _x000D_ and a literal "_x" as _x005F_x. A NUL or surrogate
 * stays as written. Returns the new length. */
static size_t unescape_xstring(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned v = 0;
        bool esc = i + 7 <= n && s[i] == '_' && s[i + 1] == 'x' && s[i + 6] == '_';
        for (size_t k = 2; esc && k < 6; k++) {
            int h = hexval(s[i + k]);
            esc = h >= 0;
            v = v * 16 + (unsigned)(h < 0 ? 0 : h);
        }
        if (!esc || v == 0 || (v >= 0xD800 && v <= 0xDFFF)) {
            s[o++] = s[i++];
            continue;
        }
        i += 7;
        if (v < 0x80) {
            s[o++] = (char)v;
        } else if (v < 0x800) {
            s[o++] = (char)(0xC0 | (v >> 6));
            s[o++] = (char)(0x80 | (v & 0x3F));
        } else {
            s[o++] = (char)(0xE0 | (v >> 12));
            s[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
            s[o++] = (char)(0x80 | (v & 0x3F));
        }
    }
    return o;
}

/* <t> inside <si> or <is> (direct or in a rich text run <r>), never inside a phonetic <rPh>. */
static void text_start(xlsx *x, const char *name)
{
    if (is(name, "rPh"))
        x->in_rph++;
    else if (is(name, "t") && !x->in_rph)
        x->collecting = true;
}

static void text_end(xlsx *x, const char *name)
{
    if (is(name, "rPh") && x->in_rph)
        x->in_rph--;
    else if (is(name, "t"))
        x->collecting = false;
}

static void shared_start(xlsx *x, const char *name, const char **atts)
{
    (void)atts;
    if (is(name, "si")) {
        x->in_si = true;
        x->in_rph = 0;
        ca_capbuf_reset(&x->text);
    } else if (x->in_si) {
        text_start(x, name);
    }
}

static void shared_end(xlsx *x, const char *name, const char **atts)
{
    (void)atts;
    if (!is(name, "si")) {
        if (x->in_si)
            text_end(x, name);
        return;
    }
    x->in_si = x->collecting = false;
    if (x->nss >= CA_XLSX_MAX_STRINGS) {
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file has more than %u shared strings",
              CA_XLSX_MAX_STRINGS);
        return;
    }
    if (x->nss == x->ss_cap) {
        size_t cap = x->ss_cap ? 2 * x->ss_cap : 1024;
        size_t *off = realloc(x->ss_off, cap * sizeof *off);
        if (!off) {
            nomem(x);
            return;
        }
        x->ss_off = off;
        x->ss_cap = cap;
    }
    size_t n = x->text.data ? unescape_xstring(x->text.data, x->text.len) : 0;
    x->ss_off[x->nss] = x->shared.len;
    if (!ca_capbuf_append(&x->shared, x->text.data ? x->text.data : "", n) ||
        !ca_capbuf_append(&x->shared, "", 1)) {
        if (x->shared.overflow)
            too_big(x, "shared strings", CA_XLSX_MAX_UNPACKED);
        else
            nomem(x);
        return;
    }
    x->nss++;
}

/* ---- 5b. the sheet: cells to CSV --------------------------------------------------------- */

static void cell_name(char *out, size_t cap, uint32_t col, uint64_t row)
{
    char letters[8];
    size_t n = 0;
    for (uint32_t c = col; c && n < sizeof letters; c = (c - 1) / 26)
        letters[n++] = (char)('A' + (c - 1) % 26);
    size_t o = 0;
    while (n && o + 1 < cap)
        out[o++] = letters[--n];
    snprintf(out + o, cap - o, "%llu", (unsigned long long)row);
}

/* "C5" -> column 3, row 5 (§18.18.62 ST_CellRef, without $). */
static bool parse_cell_ref(const char *ref, uint32_t *col, uint32_t *row)
{
    uint32_t c = 0;
    const char *p = ref;
    for (; *p >= 'A' && *p <= 'Z'; p++)
        if ((c = c * 26 + (uint32_t)(*p - 'A' + 1)) > CA_XLSX_MAX_COL)
            return false;
    if (!c || p == ref || !parse_u32(p, CA_XLSX_MAX_ROW, row) || !*row)
        return false;
    *col = c;
    return true;
}

static bool csv_put(xlsx *x, const char *s, size_t n)
{
    if (ca_capbuf_append(&x->csv, s, n))
        return true;
    if (x->csv.overflow)
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's sheet is larger than %u MiB as CSV",
              CA_XLSX_MAX_CSV >> 20);
    else
        nomem(x);
    return false;
}

static bool csv_commas(xlsx *x, uint32_t n)
{
    static const char commas[64] = ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,";
    while (n) {
        uint32_t k = n < sizeof commas ? n : (uint32_t)sizeof commas;
        if (!csv_put(x, commas, k))
            return false;
        n -= k;
    }
    return true;
}

/* The first value of a row: blank lines up to its line (sheet row + line breaks so far, the
 * header's comment), and its place in the moved list when the two differ. */
static bool begin_row(xlsx *x)
{
    uint64_t target = x->row + x->breaks;
    while (x->csv_line < target) {
        if (!csv_put(x, "\r\n", 2))
            return false;
        x->csv_line++;
    }
    if (x->breaks) {
        if (x->nmoved == x->moved_cap) {
            size_t cap = x->moved_cap ? 2 * x->moved_cap : 64;
            ca_xlsx_line *m = realloc(x->moved, cap * sizeof *m);
            if (!m) {
                nomem(x);
                return false;
            }
            x->moved = m;
            x->moved_cap = cap;
        }
        x->moved[x->nmoved++] = (ca_xlsx_line){x->csv_line, x->row};
    }
    x->row_has_value = true;
    x->last_col = 0;
    return true;
}

/* Writes one non-empty value at x->col: commas for the columns skipped, then the field,
 * quoted (RFC 4180 §2.6-2.7) when it holds a comma, quote, CR or LF. */
static void emit_value(xlsx *x, const char *v, size_t n)
{
    if (!n)
        return;
    if (!x->row_has_value && !begin_row(x))
        return;
    if (!csv_commas(x, x->last_col ? x->col - x->last_col : x->col - 1))
        return;
    x->last_col = x->col;
    bool quote = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\n')
            x->breaks++, x->csv_line++;
        quote |= v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n';
    }
    if (!quote) {
        csv_put(x, v, n);
        return;
    }
    if (!csv_put(x, "\"", 1))
        return;
    for (const char *p = v, *end = v + n; p < end;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        size_t k = q ? (size_t)(q - p) + 1 : (size_t)(end - p);
        if (!csv_put(x, p, k) || (q && !csv_put(x, "\"", 1)))
            return;
        p += k;
    }
    csv_put(x, "\"", 1);
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's algorithm, proleptic Gregorian). */
static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* An Excel serial date (§18.17.4) as ISO 8601, rounded to the second. 1900 system: serial 1 is
 * 1900-01-01 and serial 60 the 29 February 1900 Lotus 1-2-3 had (written as such: the roster's
 * date check refuses it); 1904 system: serial 0 is 1904-01-01. false outside 1900..9999. */
static bool excel_date(char *out, size_t cap, double v, bool date1904, fmt_kind kind)
{
    if (!(v >= 0 && v < 2958466.0))
        return false;
    long long secs = llround(v * 86400.0), days = secs / 86400, s = secs % 86400;
    int y = 1900, m = 2, d = 29;
    if (date1904)
        civil_from_days(days - 24107, &y, &m, &d);      /* 1904-01-01 is day -24107 */
    else if (days < 1)
        return false;
    else if (days != 60)
        civil_from_days(days - 25568 - (days > 60), &y, &m, &d); /* serial 1 = day -25567 */
    if (y > 9999)
        return false;
    if (kind == FMT_DATE)
        snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
    else
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(s / 3600),
                 (int)(s / 60 % 60), (int)(s % 60));
    return true;
}

/* A number as Excel shows it in General: up to 15 significant digits, integers without ".0". */
static void number_text(char *out, size_t cap, double v)
{
    if (v == 0)
        snprintf(out, cap, "0");
    else if (fabs(v) < 1e15 && v == trunc(v))
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%.15g", v);
}

static void numeric_cell(xlsx *x, const char *v)
{
    char *end, out[64], ref[16];
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d)) {
        cell_name(ref, sizeof ref, x->col, x->row);
        xfail(x, CA_ERR_INVALID, "the XLSX file's cell %s holds “%.40s”, which is not a number",
              ref, v);
        return;
    }
    fmt_kind kind = x->cell_style >= 0 && (size_t)x->cell_style < x->nxf
                        ? (fmt_kind)x->xf_kind[x->cell_style] : FMT_NUMBER;
    if (kind == FMT_NUMBER || !excel_date(out, sizeof out, d, x->date1904, kind))
        number_text(out, sizeof out, d);
    emit_value(x, out, strlen(out));
}

static void shared_cell(xlsx *x, const char *v)
{
    uint32_t idx;
    if (!parse_u32(v, UINT32_MAX, &idx) || idx >= x->nss) {
        char ref[16];
        cell_name(ref, sizeof ref, x->col, x->row);
        xfail(x, CA_ERR_INVALID, "the XLSX file's cell %s refers to shared string “%.20s” of %zu",
              ref, v, x->nss);
        return;
    }
    const char *s = x->shared.data + x->ss_off[idx];
    emit_value(x, s, strlen(s));
}

/* </c>: the value by the cell's type (§18.18.11 ST_CellType). A formula's cached result is its
 * <v>; the formula itself is never read. */
static void end_cell(xlsx *x)
{
    const char *t = x->cell_type;
    char *v = x->text.data ? x->text.data : "";
    size_t n = x->text.len;
    if (is(t, "s")) {
        if (n)
            shared_cell(x, v);
    } else if (is(t, "n") || !*t) {
        if (n)
            numeric_cell(x, v);
    } else if (is(t, "b")) {
        const char *b = is(v, "0") ? "FALSE" : is(v, "1") ? "TRUE" : v;
        emit_value(x, b, strlen(b));
    } else if (is(t, "inlineStr") || is(t, "str")) {
        emit_value(x, v, unescape_xstring(v, n));
    } else { /* "e" (#N/A ...), "d" (an ISO 8601 date): as written */
        emit_value(x, v, n);
    }
    ca_capbuf_reset(&x->text);
    x->collecting = x->in_is = false;
}

static void start_row(xlsx *x, const char **atts)
{
    uint32_t r;
    const char *rs = attr(atts, "r");
    if (!rs) {
        r = (uint32_t)x->row + 1;
    } else if (!parse_u32(rs, CA_XLSX_MAX_ROW, &r) || !r) {
        xfail(x, CA_ERR_INVALID, "the XLSX file's sheet has a row numbered “%.20s”", rs);
        return;
    }
    if (r <= x->row || r > CA_XLSX_MAX_ROW) {
        xfail(x, CA_ERR_INVALID, "the XLSX file's sheet has row %u after row %llu", r,
              (unsigned long long)x->row);
        return;
    }
    x->row = r;
    x->col = 0;
    x->row_has_value = false;
}

static void start_cell(xlsx *x, const char **atts)
{
    const char *ref = attr(atts, "r"), *t = attr(atts, "t"), *s = attr(atts, "s");
    uint32_t col = x->col + 1, row = (uint32_t)x->row, style;
    if (ref && (!parse_cell_ref(ref, &col, &row) || row != x->row || col <= x->col)) {
        xfail(x, CA_ERR_INVALID, "the XLSX file's sheet has a cell “%.20s” out of place in row "
              "%llu", ref, (unsigned long long)x->row);
        return;
    }
    if (col > CA_XLSX_MAX_COL) {
        xfail(x, CA_ERR_INVALID, "the XLSX file's sheet has more than %u columns",
              CA_XLSX_MAX_COL);
        return;
    }
    x->col = col;
    snprintf(x->cell_type, sizeof x->cell_type, "%s", t ? t : "");
    x->cell_style = s && parse_u32(s, MAX_STYLES, &style) ? (long)style : -1;
    ca_capbuf_reset(&x->text);
    x->in_rph = 0;
}

static void end_row(xlsx *x)
{
    if (!x->row_has_value)
        return;
    if (x->nends == x->ends_cap) {
        size_t cap = x->ends_cap ? 2 * x->ends_cap : 256;
        row_end *e = realloc(x->ends, cap * sizeof *e);
        if (!e) {
            nomem(x);
            return;
        }
        x->ends = e;
        x->ends_cap = cap;
    }
    x->ends[x->nends++] = (row_end){x->csv.len, x->last_col};
    if (x->last_col > x->width)
        x->width = x->last_col;
    if (!csv_put(x, "\r\n", 2))
        return;
    x->csv_line++;
    if (!x->header_seen)
        x->header_seen = true;
    else if (++x->rows > x->o->max_rows)
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's sheet has more than %zu rows", x->o->max_rows);
}

static void sheet_start(xlsx *x, const char *name, const char **atts)
{
    if (is(name, "sheetData"))
        x->in_sheetdata = true;
    else if (!x->in_sheetdata)
        return;
    else if (is(name, "row"))
        start_row(x, atts);
    else if (is(name, "c"))
        start_cell(x, atts);
    else if (is(name, "v"))
        x->collecting = true;
    else if (is(name, "is"))
        x->in_is = true;
    else if (x->in_is)
        text_start(x, name);
}

static void sheet_end(xlsx *x, const char *name, const char **atts)
{
    (void)atts;
    if (!x->in_sheetdata)
        return;
    if (is(name, "sheetData"))
        x->in_sheetdata = false;
    else if (is(name, "row"))
        end_row(x);
    else if (is(name, "c"))
        end_cell(x);
    else if (is(name, "v"))
        x->collecting = false;
    else if (is(name, "is"))
        x->in_is = false;
    else if (x->in_is)
        text_end(x, name);
}

/* Every row as wide as the widest (the commas go before each row's line end). */
static ca_err pad_rows(xlsx *x, ca_xlsx_csv *out)
{
    size_t extra = 0;
    for (size_t i = 0; i < x->nends; i++)
        extra += x->width - x->ends[i].fields;
    if (extra > CA_XLSX_MAX_CSV || x->csv.len + extra > CA_XLSX_MAX_CSV) {
        xfail(x, CA_ERR_TOO_LARGE, "the XLSX file's sheet is larger than %u MiB as CSV",
              CA_XLSX_MAX_CSV >> 20);
        return x->err;
    }
    char *buf = malloc(x->csv.len + extra + 1);
    if (!buf) {
        nomem(x);
        return x->err;
    }
    size_t from = 0, o = 0;
    for (size_t i = 0; i < x->nends; i++) {
        size_t k = x->ends[i].end - from;
        memcpy(buf + o, x->csv.data + from, k);
        o += k;
        memset(buf + o, ',', x->width - x->ends[i].fields);
        o += x->width - x->ends[i].fields;
        from = x->ends[i].end;
    }
    memcpy(buf + o, x->csv.data + from, x->csv.len - from);
    o += x->csv.len - from;
    buf[o] = '\0';
    out->csv = buf;
    out->len = o;
    return CA_OK;
}

/* ---- the whole ------------------------------------------------------------------------- */

/* Step 1: an OLE compound file (MS-CFB) is either a password-protected OOXML workbook
 * (MS-OFFCRYPTO: an "EncryptedPackage" stream, its name in UTF-16LE in the directory) or an
 * Excel 97-2003 .xls. */
static ca_err check_magic(xlsx *x)
{
    static const uint8_t cfb[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    static const char enc[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e";
    if (x->len >= 8 && memcmp(x->data, cfb, 4) == 0) {
        if (memmem(x->data, x->len, enc, sizeof enc - 1))
            xfail(x, CA_ERR_INVALID, "an encrypted/password-protected workbook cannot be read; "
                  "save it without a password");
        else
            xfail(x, CA_ERR_INVALID, "an encrypted/password-protected workbook or an Excel "
                  "97-2003 .xls file cannot be read; save it as .xlsx without a password");
    } else if (x->len < 4 || memcmp(x->data, "PK\3\4", 4) != 0) {
        xfail(x, CA_ERR_INVALID, "not an XLSX file (it is not a ZIP archive)");
    }
    return x->err;
}

static ca_err read_styles_and_strings(xlsx *x)
{
    const rel *styles = rel_by_type(x, "styles"), *strings = rel_by_type(x, "sharedStrings");
    ca_err err;
    if (styles && (err = read_part(x, styles->target, styles->target, CA_XLSX_MAX_SMALL_PART,
                                   styles_start, styles_end)) && err != CA_ERR_NOT_FOUND)
        return err;
    if (strings && (err = read_part(x, strings->target, "shared strings", CA_XLSX_MAX_UNPACKED,
                                    shared_start, shared_end)) && err != CA_ERR_NOT_FOUND)
        return err;
    return CA_OK;
}

static ca_err convert(xlsx *x, ca_xlsx_csv *out)
{
    ca_err err;
    if ((err = check_magic(x)) || (err = find_workbook(x)))
        return err;
    err = read_part(x, x->workbook, x->workbook, CA_XLSX_MAX_SMALL_PART, workbook_start, NULL);
    if (err == CA_ERR_NOT_FOUND)
        xfail(x, CA_ERR_INVALID, "not an XLSX file (no %s)", x->workbook);
    if (x->err)
        return x->err;
    char rels[PART_NAME_MAX + 16];
    const char *slash = strrchr(x->workbook, '/');
    int dir = slash ? (int)(slash - x->workbook) + 1 : 0;
    snprintf(rels, sizeof rels, "%.*s_rels/%s.rels", dir, x->workbook, x->workbook + dir);
    if ((err = read_part(x, rels, rels, CA_XLSX_MAX_SMALL_PART, rels_start, NULL)) &&
        err != CA_ERR_NOT_FOUND)
        return err;
    const char *sheet_name = "";
    const rel *sheet = choose_sheet(x, x->o->sheet, &sheet_name);
    if (!sheet || (err = read_styles_and_strings(x)))
        return x->err;
    snprintf(out->sheet, sizeof out->sheet, "%s", sheet_name);
    x->csv_line = 1;
    err = read_part(x, sheet->target, "sheet", CA_XLSX_MAX_UNPACKED, sheet_start, sheet_end);
    if (err == CA_ERR_NOT_FOUND)
        xfail(x, CA_ERR_INVALID, "the workbook's sheet “%.100s” is missing (no %.200s)",
              sheet_name, sheet->target);
    if (!x->err && !x->nends)
        xfail(x, CA_ERR_INVALID, "the sheet “%.100s” is empty", sheet_name);
    if (x->err || (err = pad_rows(x, out)))
        return x->err;
    out->rows = x->rows;
    out->moved = x->moved;
    out->nmoved = x->nmoved;
    x->moved = NULL;
    return CA_OK;
}

ca_err ca_xlsx_to_csv(ca_xlsx_csv *out, const void *data, size_t len, const ca_xlsx_options *o,
                      ca_errbuf *eb)
{
    CA_ASSERT(out && (data || !len) && o);
    memset(out, 0, sizeof *out);
    xlsx *x = calloc(1, sizeof *x);
    if (!x)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory reading the XLSX file");
    x->data = data;
    x->len = len;
    x->o = o;
    ca_capbuf_init(&x->text, MAX_TEXT);
    ca_capbuf_init(&x->shared, MAX_SHARED_TEXT);
    ca_capbuf_init(&x->csv, CA_XLSX_MAX_CSV);
    ca_err err = convert(x, out);
    if (err) {
        ca_fail(eb, err, "%s", x->eb.msg[0] ? x->eb.msg : ca_strerror(err));
        ca_xlsx_csv_free(out);
    }
    ca_capbuf_free(&x->text);
    ca_capbuf_free(&x->shared);
    ca_capbuf_free(&x->csv);
    free(x->sheets);
    free(x->rels);
    free(x->numfmts);
    free(x->xf_kind);
    free(x->ss_off);
    free(x->ends);
    free(x->moved);
    free(x);
    return err;
}

uint64_t ca_xlsx_sheet_row(const ca_xlsx_csv *x, uint64_t csv_line)
{
    size_t lo = 0, hi = x->nmoved;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->moved[mid].csv_line < csv_line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->nmoved && x->moved[lo].csv_line == csv_line ? x->moved[lo].sheet_row
                                                                  : csv_line;
}

void ca_xlsx_csv_free(ca_xlsx_csv *x)
{
    if (!x)
        return;
    free(x->csv);
    free(x->moved);
    memset(x, 0, sizeof *x);
}
