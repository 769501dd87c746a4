/*
 * RFC 4180 CSV reader and OWASP-safe field writer for participant lists, SPEC §5.
 *
 * Grammar (RFC 4180 §2, with the usual relaxations named here):
 *   file    = [BOM] *(row / blank) ; BOM = EF BB BF, only at offset 0 (skipped)
 *   row     = field *(COMMA field) eol          (§2 rules 1, 4)
 *   eol     = CRLF / LF / CR at end of input / end of input   (LF alone accepted)
 *   field   = escaped / non-escaped             (§2 rules 5-7, ABNF "field")
 *   escaped = DQUOTE *(any byte but DQUOTE / 2DQUOTE) DQUOTE   (may hold COMMA, CR, LF)
 *   non-escaped = *(any byte but COMMA, DQUOTE, CR, LF)
 * A blank line (an empty eol) is skipped rather than read as a row of one empty field. Fields
 * are kept byte for byte (no trimming); each must be valid UTF-8 (RFC 3629 §4: no overlongs,
 * surrogates or values past U+10FFFF) without NUL, at most CA_CSV_FIELD_MAX bytes once
 * unescaped, and a row holds at most CA_CSV_FIELDS_MAX fields. The first row is not special
 * here: the caller reads the header as the first row.
 *
 * Errors and resynchronisation. A broken row is reported once, with the first fault found,
 * and the reader then skips the rest of that row using the same quote rules as a good row:
 * a DQUOTE at the start of a field opens a quoted section in which CR and LF do not end the
 * row (and "" is a literal quote), a DQUOTE anywhere else is just a byte, and the row ends at
 * the first line end outside quotes. So a stray quote inside a field (a,b"c,d) costs only its
 * own line, and a broken row whose later field is a valid multi-line quoted field is skipped
 * whole. One exception: when a quoted section is still open at the end of the input (a lone
 * opening quote), the next row is taken to start after the first LF that follows that opening
 * quote, so one unmatched quote does not swallow the rest of the file. Every call that does
 * not return CA_ERR_NOT_FOUND consumes at least one byte.
 */
#include "credanchor/csv.h"
#include "credanchor/encoding.h"

#include <stdio.h>
#include <string.h>

void ca_csv_init(ca_csv_reader *r, const char *data, size_t len)
{
    CA_ASSERT(r && (data || len == 0));
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->line = 1;
    /* The Unicode BOM (U+FEFF as EF BB BF) some spreadsheets write first. */
    if (len >= 3 && (uint8_t)data[0] == 0xef && (uint8_t)data[1] == 0xbb &&
        (uint8_t)data[2] == 0xbf)
        r->pos = 3;
}

/* The state of one row being read. */
typedef struct row_state {
    ca_csv_row *row;
    ca_errbuf *eb;
    ca_err err;            /* first fault in the row, CA_OK while the row is good */
    size_t off;            /* bytes used in row->storage */
    size_t flen;           /* bytes in the current field */
} row_state;

#define CSV_STR_(x) #x
#define CSV_STR(x) CSV_STR_(x)

/* Records the row's first fault (later ones are not reported; the row is skipped anyway). */
static void row_fault(row_state *st, ca_err code, const char *what)
{
    if (st->err != CA_OK)
        return;
    st->err = code;
    ca_fail(st->eb, code, "CSV row at line %llu, field %zu: %s",
            (unsigned long long)st->row->line, st->row->nfields + 1, what);
}

/* Appends one unescaped byte to the current field (nothing once the row has failed). */
static void field_put(row_state *st, char c)
{
    if (st->err != CA_OK)
        return;
    if (c == '\0') {
        row_fault(st, CA_ERR_INVALID, "NUL byte");
        return;
    }
    if (st->flen == CA_CSV_FIELD_MAX) {
        row_fault(st, CA_ERR_TOO_LARGE,
                  "field longer than " CSV_STR(CA_CSV_FIELD_MAX) " bytes");
        return;
    }
    st->row->storage[st->off + st->flen++] = c;
}

/* Ends the current field: checks its UTF-8, NUL-terminates it and records it. */
static void field_end(row_state *st)
{
    if (st->err != CA_OK)
        return;
    ca_csv_row *row = st->row;
    char *f = row->storage + st->off;
    if (ca_utf8_valid_prefix((const uint8_t *)f, st->flen) != st->flen) {
        row_fault(st, CA_ERR_INVALID, "invalid UTF-8");
        return;
    }
    f[st->flen] = '\0';
    row->fields[row->nfields] = f;
    row->lens[row->nfields] = st->flen;
    row->nfields++;
    st->off += st->flen + 1;
    st->flen = 0;
}

/* True when d[p] starts a line end: LF, CRLF, or CR as the last byte. */
static bool at_eol(const char *d, size_t n, size_t p)
{
    return d[p] == '\n' || (d[p] == '\r' && (p + 1 == n || d[p + 1] == '\n'));
}

/* Reads unquoted bytes from *p up to a comma, a line end or the end of the input. A quote or
 * a bare CR is a fault; after a fault the bytes are only skipped. */
static void scan_unquoted(row_state *st, const char *d, size_t n, size_t *p)
{
    while (*p < n && d[*p] != ',' && !at_eol(d, n, *p)) {
        char c = d[*p];
        if (c == '"')
            row_fault(st, CA_ERR_INVALID, "stray quote in an unquoted field");
        else if (c == '\r')
            row_fault(st, CA_ERR_INVALID, "bare CR in an unquoted field");
        else
            field_put(st, c);
        (*p)++;
    }
}

ca_err ca_csv_next(ca_csv_reader *r, ca_csv_row *row, ca_errbuf *eb)
{
    CA_ASSERT(r && row);
    const char *d = r->data;
    size_t n = r->len;

    /* Blank lines (LF, CRLF, or a CR as the last byte) are skipped. */
    while (r->pos < n && at_eol(d, n, r->pos)) {
        r->pos += d[r->pos] == '\r' && r->pos + 1 < n ? 2 : 1;
        r->line++;
    }
    row->nfields = 0;
    row->line = r->line;
    if (r->pos >= n)
        return CA_ERR_NOT_FOUND;

    row_state st = {.row = row, .eb = eb, .err = CA_OK, .off = 0, .flen = 0};
    size_t p = r->pos;
    uint64_t line = r->line;

    for (;;) { /* one field per iteration */
        if (p < n && d[p] == '"') {
            /* Quoted field (RFC 4180 §2 rules 5-7). */
            size_t open = p;
            uint64_t open_line = line;
            p++;
            for (;;) {
                if (p >= n) {
                    /* Unterminated: report it and resume after the opening quote's line. */
                    row_fault(&st, CA_ERR_INVALID, "unterminated quoted field");
                    const char *lf = memchr(d + open, '\n', n - open);
                    r->pos = lf ? (size_t)(lf - d) + 1 : n;
                    r->line = lf ? open_line + 1 : line;
                    row->nfields = 0;
                    return st.err;
                }
                char c = d[p];
                if (c == '"') {
                    if (p + 1 < n && d[p + 1] == '"') { /* "" is one quote (§2 rule 7) */
                        field_put(&st, '"');
                        p += 2;
                        continue;
                    }
                    p++; /* the closing quote */
                    break;
                }
                if (c == '\n')
                    line++;
                field_put(&st, c);
                p++;
            }
            /* After the closing quote only a comma or a line end may follow (§2 ABNF). */
            if (p < n && d[p] != ',' && !at_eol(d, n, p)) {
                row_fault(&st, CA_ERR_INVALID, "text after a closing quote");
                scan_unquoted(&st, d, n, &p); /* skips the rest of the field */
            }
        } else {
            scan_unquoted(&st, d, n, &p);
        }
        field_end(&st);
        if (p < n && d[p] == ',') {
            p++;
            if (row->nfields == CA_CSV_FIELDS_MAX)
                row_fault(&st, CA_ERR_TOO_LARGE,
                          "more than " CSV_STR(CA_CSV_FIELDS_MAX) " fields in the row");
            continue;
        }
        /* A line end or the end of the input ends the row. */
        if (p < n) {
            p += d[p] == '\r' && p + 1 < n ? 2 : 1;
            if (d[p - 1] == '\n')
                line++;
        }
        break;
    }

    r->pos = p;
    r->line = line;
    if (st.err != CA_OK) {
        row->nfields = 0;
        return st.err;
    }
    return CA_OK;
}

/* Unicode bidirectional controls (UAX #9 §2: LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM
 * ALM). In an export they reorder what the reader sees (an RLO makes "exe.txt" read "txt.exe")
 * and hide a formula behind an invisible character, so the writer replaces each with U+FFFD:
 * the tampering stays visible and no character silently vanishes. */
static bool bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

/* Characters a spreadsheet may skip before it decides whether a cell is a formula: spaces and
 * line feeds (trimmed on import), the BOM / zero-width no-break space, zero-width space and
 * joiners, and the bidi controls above. */
static bool formula_invisible(uint32_t cp)
{
    return cp == ' ' || cp == '\n' || cp == 0xa0 || cp == 0xfeff ||
           (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || bidi_control(cp);
}

/* OWASP "CSV Injection": a cell whose first visible character is one of these is run as a
 * formula by spreadsheets (tab and CR too, which some strip before looking at the next
 * character), including the fullwidth forms U+FF1D ＝, U+FF0B ＋, U+FF0D －, U+FF20 ＠ that
 * Excel and LibreOffice fold to their ASCII forms on input (issue #13 item 14). */
static bool formula_char(uint32_t cp)
{
    return cp == '=' || cp == '+' || cp == '-' || cp == '@' || cp == '\t' || cp == '\r' ||
           cp == 0xff1d || cp == 0xff0b || cp == 0xff0d || cp == 0xff20;
}

/* The code point at field[i] (one byte, as itself, when the bytes are not well-formed UTF-8). */
static size_t next_cp(const char *field, size_t len, size_t i, uint32_t *cp)
{
    size_t n = ca_utf8_seq((const uint8_t *)field + i, len - i, cp);
    if (n == 0) {
        *cp = (uint8_t)field[i];
        n = 1;
    }
    return n;
}

static bool formula_start(const char *field, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += next_cp(field, len, i, &cp);
        if (!formula_invisible(cp))
            return formula_char(cp);
    }
    return false;
}

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t ca_csv_escape(char *out, const char *field, size_t len)
{
    CA_ASSERT(field || len == 0);
    bool formula = formula_start(field, len);
    bool quote = formula;
    size_t need = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = next_cp(field, len, i, &cp);
        if (cp == '"' || cp == ',' || cp == '\r' || cp == '\n')
            quote = true;
        need += cp == '"' ? 2 : bidi_control(cp) ? sizeof replacement - 1 : n;
        i += n;
    }
    /* RFC 4180 §2 rule 7: quotes doubled inside a quoted field. */
    if (quote)
        need += 2 + (formula ? 1 : 0);
    if (!out)
        return need;
    size_t o = 0;
    if (quote)
        out[o++] = '"';
    if (formula)
        out[o++] = '\'';
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = next_cp(field, len, i, &cp);
        if (bidi_control(cp)) {
            memcpy(out + o, replacement, sizeof replacement - 1);
            o += sizeof replacement - 1;
        } else {
            if (cp == '"')
                out[o++] = '"';
            memcpy(out + o, field + i, n);
            o += n;
        }
        i += n;
    }
    if (quote)
        out[o++] = '"';
    return o;
}
