/*
 * RFC 8785 JSON Canonicalization Scheme. A strict recursive-descent parser that writes the
 * canonical form as it goes; no JSON library is involved, because jansson prints reals with
 * %.17g and accepts things I-JSON forbids, and the canonical bytes are what gets signed.
 *
 * How an object is sorted: its members are written to the output in input order, each as
 * `"name":value` (already canonical, including nested objects), while a side table keeps
 * each member's unescaped name and where its text sits. At the closing brace the table is
 * sorted by name as UTF-16 code units (§3.2.3), neighbours are checked for duplicate names,
 * and the object's bytes are rewritten in sorted order through one temporary copy. The
 * output never grows past its final size, so the cap is checked as bytes are appended.
 *
 * Numbers (§3.2.2.3): the token is checked against the RFC 8259 grammar, converted with
 * strtod (glibc's is correctly rounded) and written back in ECMAScript's
 * Number::toString form from the shortest digit string that converts back to the same
 * double (ECMA-262 §7.1.12.1 / §6.1.6.1.20).
 */
#include "credanchor/jcs.h"

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- C-locale number conversion ----
 * strtod and printf follow LC_NUMERIC; a program that set a locale with a decimal comma
 * would otherwise change the canonical bytes. strtod_l with a private "C" locale avoids that;
 * printf output is read back digit by digit, skipping whatever the decimal point is. */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static double strtod_c(const char *s, char **end)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtod_l(s, end, c_locale);
    return strtod(s, end); /* newlocale failed (no memory): the process default */
}

/* ---- Number serialization ---- */

/* Decimal digits of a positive finite double: value = 0.d1d2...dk × 10^n. */
typedef struct {
    char d[24];
    int k;
    int n;
} decimal;

/* The p-digit decimal nearest to v (printf rounds correctly), as digits and exponent. */
static void nearest_digits(decimal *out, double v, int p)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
    int k = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            out->d[k++] = *s;
    CA_ASSERT(*s == 'e' && k == p);
    out->k = k;
    out->n = atoi(s + 1) + 1;
}

/* The double that digits d (k of them) × 10^(n-k) converts to. */
static double decimal_value(const decimal *dec)
{
    char tmp[48];
    memcpy(tmp, dec->d, (size_t)dec->k);
    snprintf(tmp + dec->k, sizeof tmp - (size_t)dec->k, "e%d", dec->n - dec->k);
    return strtod_c(tmp, NULL);
}

/* Moves dec to the next k-digit decimal up (+1) or down (-1). Across a power of ten the
 * step changes size: 99.9 -> 100 going up, 100 -> 99.9 going down. */
static void step_last_digit(decimal *dec, int dir)
{
    int i = dec->k - 1;
    if (dir > 0) {
        while (i >= 0 && dec->d[i] == '9')
            dec->d[i--] = '0';
        if (i < 0) { /* 99..9 -> 100..0 in the next decade */
            dec->d[0] = '1';
            dec->n++;
        } else {
            dec->d[i]++;
        }
        return;
    }
    while (i > 0 && dec->d[i] == '0')
        dec->d[i--] = '9';
    if (i == 0 && dec->d[0] == '1') { /* 100..0 -> 99..9 in the decade below */
        dec->d[0] = '9';
        dec->n--;
    } else {
        dec->d[i]--;
    }
}

/* Whether some p-digit decimal converts back to v; if so, *out is the nearest such one.
 * printf's nearest p-digit decimal is the answer whenever it round-trips. It can fail where
 * the rounding interval is lopsided (v a power of two, whose lower neighbour is closer)
 * while the decimal one step the other way still lands on v, so that one is tried too;
 * nothing further out can be closer. */
static bool digits_at(decimal *out, double v, int p)
{
    nearest_digits(out, v, p);
    double back = decimal_value(out);
    if (back == v)
        return true;
    decimal other = *out;
    step_last_digit(&other, back < v ? 1 : -1);
    if (decimal_value(&other) == v) {
        *out = other;
        return true;
    }
    return false;
}

/* The shortest digit string that converts back to v, and of those the nearest to v
 * (ECMA-262 Number::toString step 5), trailing zeros removed. "Some p-digit decimal
 * round-trips" only becomes true as p grows (p-digit decimals are (p+1)-digit ones too) and
 * holds at p = 17, so a binary search over 1..17 finds the least p in about four probes. */
static void shortest_digits(decimal *out, double v)
{
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (digits_at(out, v, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    bool ok = digits_at(out, v, lo);
    CA_ASSERT(ok);
    while (out->k > 1 && out->d[out->k - 1] == '0')
        out->k--;
}

size_t ca_jcs_format_number(char buf[CA_JCS_NUMBER_MAX], double value)
{
    CA_ASSERT(isfinite(value));
    if (value == 0) { /* also -0 */
        memcpy(buf, "0", 2);
        return 1;
    }
    size_t o = 0;
    if (value < 0) {
        buf[o++] = '-';
        value = -value;
    }
    decimal dec;
    shortest_digits(&dec, value);
    int k = dec.k, n = dec.n;
    if (k <= n && n <= 21) { /* an integer below 1e21: digits then n-k zeros */
        memcpy(buf + o, dec.d, (size_t)k);
        o += (size_t)k;
        for (int i = 0; i < n - k; i++)
            buf[o++] = '0';
    } else if (0 < n && n <= 21) { /* a point inside the digits */
        memcpy(buf + o, dec.d, (size_t)n);
        o += (size_t)n;
        buf[o++] = '.';
        memcpy(buf + o, dec.d + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) { /* 0.000ddd, down to 1e-6 */
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -n; i++)
            buf[o++] = '0';
        memcpy(buf + o, dec.d, (size_t)k);
        o += (size_t)k;
    } else { /* exponent form: d[.ddd]e±x */
        buf[o++] = dec.d[0];
        if (k > 1) {
            buf[o++] = '.';
            memcpy(buf + o, dec.d + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        int e = n - 1;
        o += (size_t)snprintf(buf + o, CA_JCS_NUMBER_MAX - o, "e%c%d", e < 0 ? '-' : '+',
                              e < 0 ? -e : e);
    }
    buf[o] = '\0';
    return o;
}

/* ---- Output buffer ---- */

typedef struct {
    char *b;
    size_t len, cap, max;
} outbuf;

/* One member of the object being parsed: its unescaped name and where its `"name":value`
 * text sits in the output. */
typedef struct {
    char *name;
    size_t name_len;
    size_t name_at; /* input offset of the name, for the duplicate-name message */
    size_t text_off, text_len;
} member;

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    outbuf out;
    ca_errbuf *eb;
    /* The unescaped bytes of the string being read (names are kept; values are dropped). */
    char *str;
    size_t str_len, str_cap;
} parser;

static ca_err out_reserve(parser *p, size_t more)
{
    outbuf *o = &p->out;
    if (more > o->max - o->len)
        return ca_fail(p->eb, CA_ERR_TOO_LARGE,
                       "canonical JSON is larger than the %zu-byte limit", o->max);
    size_t need = o->len + more + 1; /* +1: the final NUL */
    if (need <= o->cap)
        return CA_OK;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *nb = realloc(o->b, cap);
    if (!nb)
        return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
    o->b = nb;
    o->cap = cap;
    return CA_OK;
}

static ca_err out_put(parser *p, const void *data, size_t n)
{
    ca_err rc = out_reserve(p, n);
    if (rc == CA_OK) {
        memcpy(p->out.b + p->out.len, data, n);
        p->out.len += n;
    }
    return rc;
}

static ca_err out_byte(parser *p, char c)
{
    return out_put(p, &c, 1);
}

static ca_err str_byte(parser *p, unsigned char c)
{
    if (p->str_len == p->str_cap) {
        size_t cap = p->str_cap ? p->str_cap * 2 : 64;
        char *nb = realloc(p->str, cap);
        if (!nb)
            return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
        p->str = nb;
        p->str_cap = cap;
    }
    p->str[p->str_len++] = (char)c;
    return CA_OK;
}

static ca_err str_utf8(parser *p, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    for (size_t i = 0; i < n; i++) {
        ca_err rc = str_byte(p, u[i]);
        if (rc != CA_OK)
            return rc;
    }
    return CA_OK;
}

/* ---- Parsing ---- */

static ca_err syntax(parser *p, size_t at, const char *what)
{
    return ca_fail(p->eb, CA_ERR_INVALID, "JSON offset %zu: %s", at, what);
}

static ca_err unexpected(parser *p, const char *expected)
{
    if (p->pos >= p->len)
        return ca_fail(p->eb, CA_ERR_INVALID, "JSON offset %zu: unexpected end of input, %s",
                       p->pos, expected);
    unsigned char c = p->s[p->pos];
    if (c >= 0x21 && c < 0x7F)
        return ca_fail(p->eb, CA_ERR_INVALID, "JSON offset %zu: unexpected '%c', %s", p->pos,
                       c, expected);
    return ca_fail(p->eb, CA_ERR_INVALID, "JSON offset %zu: unexpected byte 0x%02x, %s",
                   p->pos, c, expected);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* Reads a \uXXXX escape at p->pos (pointing at the backslash), pairing surrogates. */
static ca_err read_u_escape(parser *p, uint32_t *cp)
{
    size_t at = p->pos;
    if (p->len - p->pos < 6 || hex4(p->s + p->pos + 2) < 0)
        return syntax(p, at, "\\u must be followed by four hex digits");
    uint32_t u = (uint32_t)hex4(p->s + p->pos + 2);
    p->pos += 6;
    if (u >= 0xDC00 && u <= 0xDFFF)
        return syntax(p, at, "lone low surrogate in \\u escape");
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return syntax(p, at, "lone high surrogate in \\u escape");
        int lo = hex4(p->s + p->pos + 2);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return syntax(p, at, "lone high surrogate in \\u escape");
        p->pos += 6;
        u = 0x10000 + ((u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    }
    *cp = u;
    return CA_OK;
}

/* Reads a string at p->pos (the opening quote) into p->str (unescaped UTF-8) and writes its
 * canonical form (§3.2.2.2) to the output. */
static ca_err parse_string(parser *p)
{
    ca_err rc;
    p->str_len = 0;
    p->pos++; /* the quote */
    if ((rc = out_byte(p, '"')) != CA_OK)
        return rc;
    for (;;) {
        if (p->pos >= p->len)
            return syntax(p, p->pos, "unexpected end of input inside a string");
        unsigned char c = p->s[p->pos];
        uint32_t cp;
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            char msg[64];
            snprintf(msg, sizeof msg, "control character 0x%02x in a string", c);
            return syntax(p, p->pos, msg);
        }
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return syntax(p, p->pos, "unexpected end of input inside a string");
            unsigned char e = p->s[p->pos + 1];
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': cp = 0; break;
            default: return syntax(p, p->pos, "invalid escape in a string");
            }
            if (e == 'u') {
                if ((rc = read_u_escape(p, &cp)) != CA_OK)
                    return rc;
            } else {
                p->pos += 2;
            }
        } else if (c < 0x80) {
            cp = c;
            p->pos++;
        } else {
            size_t n = ca_utf8_seq(p->s + p->pos, p->len - p->pos, &cp);
            if (n == 0)
                return syntax(p, p->pos, "invalid UTF-8 in a string");
            p->pos += n;
        }
        size_t raw_at = p->str_len;
        if ((rc = str_utf8(p, cp)) != CA_OK)
            return rc;
        /* §3.2.2.2: the two-character escapes, \u00xx for other controls, the rest as-is */
        if (cp == '"' || cp == '\\') {
            char esc[2] = {'\\', (char)cp};
            rc = out_put(p, esc, 2);
        } else if (cp < 0x20) {
            const char *two = cp == '\b' ? "\\b" : cp == '\t' ? "\\t" : cp == '\n' ? "\\n"
                              : cp == '\f' ? "\\f" : cp == '\r' ? "\\r" : NULL;
            if (two) {
                rc = out_put(p, two, 2);
            } else {
                char esc[6] = {'\\', 'u', '0', '0', ca_hex_digit(cp >> 4), ca_hex_digit(cp)};
                rc = out_put(p, esc, 6);
            }
        } else {
            rc = out_put(p, p->str + raw_at, p->str_len - raw_at);
        }
        if (rc != CA_OK)
            return rc;
    }
    return out_byte(p, '"');
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static ca_err parse_number(parser *p)
{
    size_t start = p->pos, i = p->pos;
    const unsigned char *s = p->s;
    size_t len = p->len;
#define DIGIT(j) ((j) < len && s[j] >= '0' && s[j] <= '9')
    if (i < len && s[i] == '-')
        i++;
    if (!DIGIT(i)) {
        p->pos = i;
        return unexpected(p, "expected a digit");
    }
    if (s[i] == '0') {
        i++;
        if (DIGIT(i))
            return syntax(p, start, "number with a leading zero");
    } else {
        while (DIGIT(i))
            i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (!DIGIT(i)) {
            p->pos = i;
            return unexpected(p, "expected a digit after the decimal point");
        }
        while (DIGIT(i))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i)) {
            p->pos = i;
            return unexpected(p, "expected a digit in the exponent");
        }
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    size_t n = i - start;
    char small[64];
    char *tok = n < sizeof small ? small : malloc(n + 1);
    if (!tok)
        return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
    memcpy(tok, s + start, n);
    tok[n] = '\0';
    char *end = NULL;
    double v = strtod_c(tok, &end);
    bool whole = end == tok + n;
    if (tok != small)
        free(tok);
    if (!whole) /* cannot happen for a token of this grammar */
        return syntax(p, start, "number could not be converted");
    if (!isfinite(v))
        return syntax(p, start, "number overflows an IEEE-754 double");
    p->pos = i;
    char buf[CA_JCS_NUMBER_MAX];
    size_t bl = ca_jcs_format_number(buf, v);
    return out_put(p, buf, bl);
}

static ca_err parse_value(parser *p, int depth);

/* The next code point of well-formed UTF-8 (names were validated when read). */
static uint32_t next_cp(const unsigned char *s, size_t *i)
{
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t v = c & (0x7F >> n);
    for (int j = 1; j < n; j++)
        v = v << 6 | (s[*i + (size_t)j] & 0x3F);
    *i += (size_t)n;
    return v;
}

/* §3.2.3: order by UTF-16 code units. Code point order (= UTF-8 byte order) agrees except
 * between a supplementary character (a surrogate pair, first unit D800-DBFF) and one in
 * E000-FFFF, which UTF-16 puts after it. */
static int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        uint32_t x = next_cp(ua, &i), y = next_cp(ub, &j);
        if (x == y)
            continue;
        uint32_t kx = x >= 0x10000 ? 0xD800 + ((x - 0x10000) >> 10) : x;
        uint32_t ky = y >= 0x10000 ? 0xD800 + ((y - 0x10000) >> 10) : y;
        if (kx != ky)
            return kx < ky ? -1 : 1;
        return x < y ? -1 : 1; /* both supplementary with the same high surrogate */
    }
    return (i < alen) - (j < blen);
}

static int member_cmp(const void *a, const void *b)
{
    const member *ma = a, *mb = b;
    return utf16_cmp(ma->name, ma->name_len, mb->name, mb->name_len);
}

static void free_members(member *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].name);
    free(m);
}

/* Reads the member name at p->pos into a new entry of *m (grown as needed). *n counts the
 * entry from before the name is read, so the caller frees whatever name it holds. */
static ca_err read_member_name(parser *p, member **m, size_t *n, size_t *cap)
{
    ca_err rc;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        member *nm = realloc(*m, ncap * sizeof **m);
        if (!nm)
            return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
        *m = nm;
        *cap = ncap;
    }
    member *cur = &(*m)[*n];
    cur->name = NULL;
    cur->name_at = p->pos;
    cur->text_off = p->out.len;
    (*n)++;
    if ((rc = parse_string(p)) != CA_OK)
        return rc;
    cur->name = malloc(p->str_len ? p->str_len : 1);
    if (!cur->name)
        return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
    if (p->str_len) /* p->str is NULL until a first non-empty string */
        memcpy(cur->name, p->str, p->str_len);
    cur->name_len = p->str_len;
    return CA_OK;
}

/* §3.2.3: sorts the n members of the object whose '{' is at output offset obj_start, refuses
 * a duplicate name, and rewrites the members in sorted order in the output. */
static ca_err sort_members(parser *p, member *m, size_t n, size_t obj_start)
{
    qsort(m, n, sizeof *m, member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (utf16_cmp(m[i - 1].name, m[i - 1].name_len, m[i].name, m[i].name_len) == 0) {
            size_t later = m[i].name_at > m[i - 1].name_at ? m[i].name_at : m[i - 1].name_at;
            return syntax(p, later, "duplicate member name in an object");
        }
    }
    /* Rewrite the members in sorted order: '{' m0 ',' m1 ... (the same length as before). */
    size_t body = p->out.len - (obj_start + 1);
    char *tmp = malloc(body ? body : 1);
    if (!tmp)
        return ca_fail(p->eb, CA_ERR_NOMEM, "out of memory canonicalizing JSON");
    memcpy(tmp, p->out.b + obj_start + 1, body);
    size_t w = obj_start + 1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            p->out.b[w++] = ',';
        memcpy(p->out.b + w, tmp + (m[i].text_off - (obj_start + 1)), m[i].text_len);
        w += m[i].text_len;
    }
    free(tmp);
    CA_ASSERT(w == p->out.len);
    return CA_OK;
}

static ca_err parse_object(parser *p, int depth)
{
    ca_err rc;
    member *m = NULL;
    size_t n = 0, cap = 0;
    size_t obj_start = p->out.len;
    p->pos++; /* { */
    if ((rc = out_byte(p, '{')) != CA_OK)
        return rc;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return out_byte(p, '}');
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            rc = unexpected(p, "expected a member name");
            goto out;
        }
        if ((rc = read_member_name(p, &m, &n, &cap)) != CA_OK)
            goto out;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            rc = unexpected(p, "expected ':' after a member name");
            goto out;
        }
        p->pos++;
        if ((rc = out_byte(p, ':')) != CA_OK)
            goto out;
        skip_ws(p);
        if ((rc = parse_value(p, depth)) != CA_OK)
            goto out;
        m[n - 1].text_len = p->out.len - m[n - 1].text_off; /* m may have moved: index it */
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            if ((rc = out_byte(p, ',')) != CA_OK)
                goto out;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == '}') {
                rc = syntax(p, p->pos, "trailing comma before '}'");
                goto out;
            }
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            break;
        }
        rc = unexpected(p, "expected ',' or '}' in an object");
        goto out;
    }
    if ((rc = sort_members(p, m, n, obj_start)) == CA_OK)
        rc = out_byte(p, '}');
out:
    free_members(m, n);
    return rc;
}

static ca_err parse_array(parser *p, int depth)
{
    ca_err rc;
    p->pos++; /* [ */
    if ((rc = out_byte(p, '[')) != CA_OK)
        return rc;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return out_byte(p, ']');
    }
    for (;;) {
        skip_ws(p);
        if ((rc = parse_value(p, depth)) != CA_OK)
            return rc;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            if ((rc = out_byte(p, ',')) != CA_OK)
                return rc;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ']')
                return syntax(p, p->pos, "trailing comma before ']'");
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return out_byte(p, ']');
        }
        return unexpected(p, "expected ',' or ']' in an array");
    }
}

static ca_err parse_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return syntax(p, p->pos, "invalid literal (expected true, false or null)");
    p->pos += n;
    return out_put(p, word, n);
}

/* depth: how many arrays/objects enclose this value. */
static ca_err parse_value(parser *p, int depth)
{
    if (p->pos >= p->len)
        return unexpected(p, "expected a JSON value");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[':
        if (depth >= CA_JCS_MAX_DEPTH) {
            char msg[64];
            snprintf(msg, sizeof msg, "nesting deeper than %d levels", CA_JCS_MAX_DEPTH);
            return syntax(p, p->pos, msg);
        }
        return c == '{' ? parse_object(p, depth + 1) : parse_array(p, depth + 1);
    case '"':
        return parse_string(p);
    case 't':
        return parse_literal(p, "true");
    case 'f':
        return parse_literal(p, "false");
    case 'n':
        return parse_literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p);
        return unexpected(p, "expected a JSON value");
    }
}

ca_err ca_jcs_canonicalize(char **out, size_t *out_len, const char *json, size_t json_len,
                           size_t max_out, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && out_len != NULL);
    CA_ASSERT(json != NULL || json_len == 0);
    *out = NULL;
    *out_len = 0;
    parser p = {.s = (const unsigned char *)json, .len = json_len, .eb = eb};
    p.out.max = max_out;
    ca_err rc;
    skip_ws(&p);
    if ((rc = parse_value(&p, 0)) != CA_OK)
        goto out;
    skip_ws(&p);
    if (p.pos != p.len) {
        rc = syntax(&p, p.pos, "trailing data after the JSON value");
        goto out;
    }
    if ((rc = out_reserve(&p, 0)) != CA_OK) /* room for the NUL, even for an empty buffer */
        goto out;
    p.out.b[p.out.len] = '\0';
    *out = p.out.b;
    *out_len = p.out.len;
    p.out.b = NULL;
out:
    free(p.out.b);
    free(p.str);
    return rc;
}

ca_err ca_jcs_digest(ca_hash *out, const char *json, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL);
    char *canon = NULL;
    size_t canon_len = 0;
    ca_err rc = ca_jcs_canonicalize(&canon, &canon_len, json, len, SIZE_MAX, eb);
    if (rc != CA_OK)
        return rc;
    ca_sha256(out, canon, canon_len);
    free(canon);
    return CA_OK;
}

ca_err ca_jcs_of_json(char **out, size_t *out_len, const json_t *value, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && out_len != NULL && value != NULL);
    *out = NULL;
    *out_len = 0;

    ca_err err = CA_OK;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!text) {
        err = ca_fail(eb, CA_ERR_INVALID, "the JSON value cannot be serialized");
        goto out;
    }
    size_t len = strlen(text);
    /* A valid text's canonical form is never more than six times its length (jcs.h), so this
     * cap only guards the size arithmetic. */
    if (len > (SIZE_MAX - 64) / 6) {
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "the JSON value is too large to canonicalize");
        goto out;
    }
    err = ca_jcs_canonicalize(out, out_len, text, len, 6 * len + 64, eb);

out:
    free(text);
    return err;
}
