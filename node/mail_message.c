/*
 * node/mail_message.c — one credential notification as an Internet message
 * (node/mail_message.h). Pure: no I/O but RAND_bytes for the MIME boundaries.
 *
 * Shape (RFC 2046 §5.1.4 alternative inside §5.1.3 mixed when a PDF is attached):
 *
 *   headers                                  RFC 5322 §3.6, MIME-Version (RFC 2045 §4)
 *   multipart/mixed                          only with an attachment
 *     multipart/alternative
 *       text/plain; charset=UTF-8            base64 (RFC 2045 §6.8), 76-char lines
 *       text/html; charset=UTF-8             base64; the richer part last (RFC 2046 §5.1.4)
 *     application/pdf                        Content-Disposition (RFC 2183), filename RFC 2231
 *
 * Why everything is base64: the bodies carry free text (names, titles, reasons) in UTF-8;
 * base64 makes every body line plain ASCII of a fixed length, so no text can end a part early,
 * forge a boundary or pass 78 characters. Free text reaches headers only as RFC 2047
 * encoded-words or as a quoted string of printable ASCII, after every control (CR, LF, TAB,
 * C1, U+2028/9) has become a space, so no value can start a header line of its own.
 */
#include "node/mail_message.h"

#include "credanchor/capbuf.h"
#include "credanchor/encoding.h"

#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LINE_MAX_CHARS 78   /* RFC 5322 §2.1.1: lines SHOULD be at most 78 characters */
#define EW_MAX 75           /* RFC 2047 §2: an encoded-word is at most 75 characters */
#define EW_OVERHEAD 12      /* "=?UTF-8?B?" + "?=" */
#define B64_LINE_BYTES 57   /* 57 bytes -> 76 base64 characters (RFC 2045 §6.8) */
#define BODY_MAX ((size_t)1 << 20)   /* one body before base64; fields are capped far below */
#define OUT_MAX ((size_t)24 << 20)   /* the message: a 10 MiB PDF is 13.9 MB in base64 */
#define BOUNDARY_LEN 37     /* "=_ca" + 32 hex + NUL; RFC 2046 §5.1.1 allows 70 */
#define FILENAME_PLAIN 60   /* the longest filename sent as a plain quoted-string */

enum { EV_ISSUED, EV_REVOKED, EV_SUSPENDED, EV_REINSTATED, EV_COUNT };

static const char *const event_names[EV_COUNT] = {
    "credential.issued", "credential.revoked", "credential.suspended", "credential.reinstated",
};

/* One language's wording. Templates name the fields in braces: {name} {issuer} {achievement}
 * {number} {reason} {url}; expand() fills them in, HTML-escaped in the HTML part. */
typedef struct mail_words {
    const char *lang;
    const char *hello_named, *hello;
    const char *subject[EV_COUNT];
    const char *subject_reason;      /* appended to a status change's subject with a reason */
    const char *what[EV_COUNT];
    const char *number, *reason, *page, *verify;
} mail_words;

static const mail_words words_ko = {
    .lang = "ko",
    .hello_named = "{name}님, 안녕하세요.",
    .hello = "안녕하세요.",
    .subject = {
        "[발급] {achievement} 인증서가 발급되었습니다 ({number})",
        "[취소] {achievement} 인증서가 취소되었습니다 ({number})",
        "[정지] {achievement} 인증서의 효력이 정지되었습니다 ({number})",
        "[복원] {achievement} 인증서의 효력이 복원되었습니다 ({number})",
    },
    .subject_reason = " - 사유: {reason}",
    .what = {
        "{issuer}에서 \"{achievement}\" 인증서를 발급했습니다.",
        "{issuer}에서 \"{achievement}\" 인증서를 취소했습니다. 이 인증서는 더 이상 유효하지 "
        "않습니다.",
        "{issuer}에서 \"{achievement}\" 인증서의 효력을 일시 정지했습니다. 정지된 동안에는 "
        "유효하지 않습니다.",
        "{issuer}에서 \"{achievement}\" 인증서의 효력을 복원했습니다. 다시 유효합니다.",
    },
    .number = "발급 번호: {number}",
    .reason = "사유: {reason}",
    .page = "인증서 페이지:",
    .verify = "진위 확인: 위 페이지를 열면 브라우저에서 인증서의 서명, 현재 상태, 공개 로그 "
              "기록을 직접 검증합니다. 별도의 프로그램은 필요하지 않습니다.",
};

static const mail_words words_en = {
    .lang = "en",
    .hello_named = "Dear {name},",
    .hello = "Hello,",
    .subject = {
        "Your certificate {achievement} has been issued ({number})",
        "Your certificate {achievement} has been revoked ({number})",
        "Your certificate {achievement} has been suspended ({number})",
        "Your certificate {achievement} has been reinstated ({number})",
    },
    .subject_reason = " - Reason: {reason}",
    .what = {
        "{issuer} has issued you the certificate \"{achievement}\".",
        "{issuer} has revoked your certificate \"{achievement}\". It is no longer valid.",
        "{issuer} has suspended your certificate \"{achievement}\". It is not valid while "
        "suspended.",
        "{issuer} has reinstated your certificate \"{achievement}\". It is valid again.",
    },
    .number = "Issue number: {number}",
    .reason = "Reason: {reason}",
    .page = "Your certificate page:",
    .verify = "How to verify: open the page above. It checks the certificate's signature, "
              "its current status and its entry in the public log right in your browser; "
              "there is nothing to install.",
};

/* The validated, cleaned inputs (each string malloc'd, controls already spaces). */
typedef struct mail_fields {
    char *name, *achievement, *issuer, *number, *reason, *url, *signature;
    char *custom_subject[2], *custom_message[2]; /* [0] ko, [1] en; "" when none */
    char *to_name, *from_name, *att_name;
    char from_addr[CA_MAIL_ADDR_MAX + 1];
    int event;
    const mail_words *langs[2];
    size_t nlangs;
} mail_fields;

/* ---- small buffers ---- */

/* A buffer is good when no append overflowed or ran out of memory (an append that fails
 * leaves len short of what was asked, so callers check once at the end). */
static ca_err buf_status(const ca_capbuf *b, size_t want_len, ca_errbuf *eb)
{
    if (b->overflow)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "mail message: over its size cap");
    if (b->len != want_len)
        return ca_fail(eb, CA_ERR_NOMEM, "mail message: out of memory");
    return CA_OK;
}

/* Every append counts its bytes in *total so buf_status can tell a lost append. */
typedef struct obuf {
    ca_capbuf b;
    size_t want;
} obuf;

static void oput(obuf *o, const char *s, size_t n)
{
    o->want += n;
    (void)ca_capbuf_append(&o->b, s, n);
}
static void oputs(obuf *o, const char *s) { oput(o, s, strlen(s)); }

/* HTML escaping of text and attribute values (the five characters that matter: & < > " '). */
static void oput_html(obuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': oputs(o, "&amp;"); break;
        case '<': oputs(o, "&lt;"); break;
        case '>': oputs(o, "&gt;"); break;
        case '"': oputs(o, "&quot;"); break;
        case '\'': oputs(o, "&#39;"); break;
        default: oput(o, s + i, 1);
        }
    }
}

/* ---- checks and cleaning ---- */

/* A code point that could break a line or hide in a header: C0, DEL, C1, U+2028/2029. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 ||
           cp == 0x2029;
}

/* Copies free text into *out (malloc'd): at most CA_MAIL_TEXT_MAX bytes of valid UTF-8, every
 * control a space, or for multiline text CR LF / CR / LF a "\n"; single lines are trimmed.
 * Why replace, not refuse: a name or title is data the issuer typed or imported, and a stray
 * tab or line break in it should not stop a notification; it just never reaches a header raw. */
static ca_err clean_text(char **out, const char *in, bool multiline, bool required,
                         const char *what, ca_errbuf *eb)
{
    const uint8_t *s = (const uint8_t *)(in ? in : "");
    size_t n = strlen((const char *)s), j = 0;
    if (n > CA_MAIL_TEXT_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "mail: %s is over %d bytes", what,
                       CA_MAIL_TEXT_MAX);
    size_t bad = ca_utf8_valid_prefix(s, n);
    if (bad != n)
        return ca_fail(eb, CA_ERR_INVALID, "mail: %s is not UTF-8 (byte %zu)", what, bad);
    char *d = malloc(n + 1);
    if (!d)
        return ca_fail(eb, CA_ERR_NOMEM, "mail: out of memory");
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = ca_utf8_seq(s + i, n - i, &cp);
        if (multiline && (cp == '\r' || cp == '\n')) {
            d[j++] = '\n';
            k = (cp == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
        } else if (is_control(cp)) {
            d[j++] = ' ';
        } else {
            memcpy(d + j, s + i, k);
            j += k;
        }
        i += k;
    }
    size_t start = 0;
    while (!multiline && start < j && d[start] == ' ')
        start++;
    while (j > start && (d[j - 1] == ' ' || (multiline && d[j - 1] == '\n')))
        j--;
    memmove(d, d + start, j - start);
    d[j - start] = '\0';
    *out = d;
    if (required && !*d)
        return ca_fail(eb, CA_ERR_INVALID, "mail: %s is empty", what);
    return CA_OK;
}

/* RFC 5322 §3.2.3 atext, the characters of a dot-atom. */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 §3.2.3 dot-atom-text: atext runs joined by single dots, no dot at either end. */
static bool dot_atom_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* A domain we send to: LDH labels joined by dots (RFC 5321 §4.1.2 Domain), with a dot or
 * "localhost" (a bare host name would be resolved against a search list). */
static bool domain_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return false;
    bool dot = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
            dot = true;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return dot || (n == 9 && strncasecmp(s, "localhost", 9) == 0);
}

/* Printable ASCII, no space: every byte of an address or a Message-ID. The reason names the
 * byte's position, never the text (which may hold a line break). */
static ca_err ascii_token_check(const char *s, size_t n, const char *what, ca_errbuf *eb)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F)
            return ca_fail(eb, CA_ERR_INVALID,
                           "mail: %s holds a control character, a space or a non-ASCII byte "
                           "(byte %zu)", what, i);
    }
    return CA_OK;
}

ca_err ca_mail_address_check(const char *addr, ca_errbuf *eb)
{
    if (!addr || !*addr)
        return ca_fail(eb, CA_ERR_INVALID, "mail: the address is empty");
    size_t n = strlen(addr);
    if (n > CA_MAIL_ADDR_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "mail: the address is over %d bytes",
                       CA_MAIL_ADDR_MAX);
    ca_err rc = ascii_token_check(addr, n, "the address", eb);
    if (rc != CA_OK)
        return rc;
    const char *at = strchr(addr, '@');
    if (!at || strchr(at + 1, '@'))
        return ca_fail(eb, CA_ERR_INVALID, "mail: the address must hold exactly one '@'");
    size_t local = (size_t)(at - addr);
    if (local == 0 || local == n - 1)
        return ca_fail(eb, CA_ERR_INVALID, "mail: the address has an empty local part or domain");
    if (local > 64) /* RFC 5321 §4.5.3.1.1 */
        return ca_fail(eb, CA_ERR_INVALID, "mail: the address's local part is over 64 bytes");
    if (!dot_atom_ok(addr, local))
        return ca_fail(eb, CA_ERR_INVALID,
                       "mail: the address's local part is not a dot-atom (RFC 5322 §3.4.1: "
                       "no quotes, angle brackets, commas or stray dots)");
    if (!domain_ok(at + 1, n - local - 1))
        return ca_fail(eb, CA_ERR_INVALID,
                       "mail: the address's domain is not a host name with a dot (or localhost)");
    return CA_OK;
}

/* RFC 5322 §3.6.4 msg-id, the dot-atom-text "@" dot-atom-text form only (no literals). */
static ca_err message_id_check(const char *id, ca_errbuf *eb)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 250)
        return ca_fail(eb, CA_ERR_INVALID, "mail: the Message-ID is empty or over 250 bytes");
    ca_err rc = ascii_token_check(id, n, "the Message-ID", eb);
    if (rc != CA_OK)
        return rc;
    const char *at = strchr(id, '@');
    if (!at || strchr(at + 1, '@') || !dot_atom_ok(id, (size_t)(at - id)) ||
        !dot_atom_ok(at + 1, strlen(at + 1)))
        return ca_fail(eb, CA_ERR_INVALID,
                       "mail: the Message-ID is not dot-atom \"@\" dot-atom (RFC 5322 §3.6.4)");
    return CA_OK;
}

/* The page link: http(s)://host..., printable ASCII without the characters RFC 3986 §2
 * excludes from URIs (space " < > \ ^ ` { | }), so it can stand on a text line and in an
 * attribute without ambiguity. */
static ca_err url_check(const char *url, ca_errbuf *eb)
{
    size_t n = url ? strlen(url) : 0;
    if (n > CA_MAIL_TEXT_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "mail: the page URL is over %d bytes",
                       CA_MAIL_TEXT_MAX);
    size_t skip = 0;
    if (n > 8 && strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else if (n > 7 && strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    if (!skip || url[skip] == '/')
        return ca_fail(eb, CA_ERR_INVALID, "mail: the page URL must be http(s)://host/...");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7F || strchr("\"<>\\^`{|}", c))
            return ca_fail(eb, CA_ERR_INVALID,
                           "mail: the page URL holds a character URIs exclude (byte %zu)", i);
    }
    return CA_OK;
}

/* "ko", "en", "ko,en" or "en,ko" (a space after the comma is forgiven). */
static ca_err languages_parse(mail_fields *f, const char *langs, ca_errbuf *eb)
{
    const char *p = langs ? langs : "";
    f->nlangs = 0;
    for (;;) {
        const mail_words *w = strncmp(p, "ko", 2) == 0 ? &words_ko
                              : strncmp(p, "en", 2) == 0 ? &words_en : NULL;
        if (!w || f->nlangs == 2 || (f->nlangs == 1 && f->langs[0] == w))
            break;
        f->langs[f->nlangs++] = w;
        p += 2;
        if (*p == '\0')
            return CA_OK;
        if (*p++ != ',')
            break;
        if (*p == ' ')
            p++;
    }
    return ca_fail(eb, CA_ERR_INVALID,
                   "mail: languages must be \"ko\", \"en\", \"ko,en\" or \"en,ko\"");
}

static ca_err event_parse(mail_fields *f, const char *event, ca_errbuf *eb)
{
    for (int i = 0; i < EV_COUNT; i++) {
        if (event && strcmp(event, event_names[i]) == 0) {
            f->event = i;
            return CA_OK;
        }
    }
    return ca_fail(eb, CA_ERR_INVALID, "mail: unknown event (want credential.issued, "
                   "credential.revoked, credential.suspended or credential.reinstated)");
}

/* ---- mail.from ---- */

static size_t trim_span(const char *s, size_t *start, size_t end)
{
    while (*start < end && s[*start] == ' ')
        (*start)++;
    while (end > *start && s[end - 1] == ' ')
        end--;
    return end - *start;
}

/* Copies the display name s[0..n) into name, unquoting a quoted-string (RFC 5322 §3.2.4:
 * a backslash takes the next character literally). '<', '>' and '"' loose in an unquoted name
 * are malformed: they would make the header ambiguous. */
static ca_err from_name_copy(char *name, size_t cap, const char *s, size_t n, ca_errbuf *eb)
{
    bool quoted = n >= 2 && s[0] == '"' && s[n - 1] == '"';
    size_t j = 0;
    for (size_t i = quoted ? 1 : 0; i < (quoted ? n - 1 : n); i++) {
        char c = s[i];
        if (quoted && c == '\\' && i + 1 < n - 1)
            c = s[++i];
        else if (c == '"' || (!quoted && (c == '<' || c == '>')))
            return ca_fail(eb, CA_ERR_INVALID, "mail.from: a stray '%c' in the display name", c);
        if (name && j + 1 >= cap)
            return ca_fail(eb, CA_ERR_TOO_LARGE, "mail.from: the display name is too long");
        if (name)
            name[j] = c;
        j++;
    }
    if (name)
        name[j] = '\0';
    return CA_OK;
}

ca_err ca_mail_from_parse(const char *from, char *addr, size_t addr_cap, char *name,
                          size_t name_cap, ca_errbuf *eb)
{
    CA_ASSERT(addr && addr_cap > 0 && (!name || name_cap > 0));
    size_t n = from ? strlen(from) : 0;
    if (n == 0 || n > CA_MAIL_TEXT_MAX + CA_MAIL_ADDR_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "mail.from: empty or too long");
    if (ca_utf8_valid_prefix((const uint8_t *)from, n) != n)
        return ca_fail(eb, CA_ERR_INVALID, "mail.from: not UTF-8");
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)from[i] < 0x20 || from[i] == 0x7F)
            return ca_fail(eb, CA_ERR_INVALID, "mail.from: a control character (byte %zu)", i);
    }
    size_t start = 0, len = trim_span(from, &start, n);
    size_t name_start = start, name_len = 0, addr_start = start, addr_len = len;
    if (len > 0 && from[start + len - 1] == '>') {
        const char *lt = memrchr(from + start, '<', len);
        if (!lt)
            return ca_fail(eb, CA_ERR_INVALID, "mail.from: a '>' without its '<'");
        addr_start = (size_t)(lt - from) + 1;
        addr_len = start + len - 1 - addr_start;
        name_len = trim_span(from, &name_start, (size_t)(lt - from));
    }
    if (addr_len > CA_MAIL_ADDR_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "mail.from: the address is over %d bytes",
                       CA_MAIL_ADDR_MAX);
    char a[CA_MAIL_ADDR_MAX + 1];
    memcpy(a, from + addr_start, addr_len);
    a[addr_len] = '\0';
    ca_err rc = ca_mail_address_check(a, eb);
    if (rc != CA_OK)
        return rc;
    if (addr_len + 1 > addr_cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "mail.from: the address does not fit");
    rc = from_name_copy(name, name_cap, from + name_start, name_len, eb);
    if (rc != CA_OK)
        return rc;
    memcpy(addr, a, addr_len + 1);
    return CA_OK;
}

/* ---- templates and bodies ---- */

static const char *const template_keys[] = {"name", "issuer", "achievement", "number", "url"};

ca_err ca_mail_template_check(const char *t, const char *what, ca_errbuf *eb)
{
    for (const char *p = t; (p = strchr(p, '{')) != NULL;) {
        const char *close = strchr(p, '}');
        size_t n = close ? (size_t)(close - p - 1) : 0;
        bool known = false;
        for (size_t i = 0; close && i < sizeof template_keys / sizeof template_keys[0]; i++)
            known = known || (strlen(template_keys[i]) == n && !memcmp(template_keys[i], p + 1, n));
        if (!known)
            return ca_fail(eb, CA_ERR_INVALID, "mail: %s: only {name} {issuer} {achievement} "
                           "{number} {url} may be named", what);
        p = close + 1;
    }
    return CA_OK; /* a '}' outside a field is text */
}

static const char *field_value(const mail_fields *f, const char *key, size_t n)
{
    static const struct { const char *key; size_t off; } keys[] = {
        {"name", offsetof(mail_fields, name)},     {"issuer", offsetof(mail_fields, issuer)},
        {"achievement", offsetof(mail_fields, achievement)},
        {"number", offsetof(mail_fields, number)}, {"reason", offsetof(mail_fields, reason)},
        {"url", offsetof(mail_fields, url)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) == n && memcmp(keys[i].key, key, n) == 0)
            return *(char *const *)((const char *)f + keys[i].off);
    }
    CA_ASSERT(!"unknown template field");
    return "";
}

/* Writes a template with its {fields} filled in; html escapes the values and the template's
 * own text alike (an achievement's templates are the admin's text, not markup). */
static void expand(obuf *o, const char *tmpl, const mail_fields *f, bool html)
{
    void (*put)(obuf *, const char *, size_t) = html ? oput_html : oput;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{');
        if (!open) {
            put(o, p, strlen(p));
            return;
        }
        const char *close = strchr(open, '}');
        CA_ASSERT(close);
        put(o, p, (size_t)(open - p));
        const char *v = field_value(f, open + 1, (size_t)(close - open - 1));
        if (html)
            oput_html(o, v, strlen(v));
        else
            oputs(o, v);
        p = close + 1;
    }
}

static void text_line(obuf *o, const char *tmpl, const mail_fields *f)
{
    expand(o, tmpl, f, false);
    oputs(o, "\r\n");
}

static bool has_reason(const mail_fields *f) { return f->event != EV_ISSUED && *f->reason; }

/* The achievement's own text for language w (custom_subject / custom_message), or NULL. */
static const char *custom_for(char *const custom[2], const mail_fields *f, const mail_words *w)
{
    const char *c = custom[strcmp(w->lang, "ko") == 0 ? 0 : 1];
    return f->event == EV_ISSUED && c && *c ? c : NULL;
}

/* One language's section of the text part: greeting, what happened, the number (and reason),
 * the link alone on its line (so clients make it clickable whole), how to verify. */
static void text_section(obuf *o, const mail_fields *f, const mail_words *w)
{
    text_line(o, *f->name ? w->hello_named : w->hello, f);
    oputs(o, "\r\n");
    text_line(o, w->what[f->event], f);
    const char *custom = custom_for(f->custom_message, f, w);
    if (custom) {
        oputs(o, "\r\n");
        for (const char *p = custom; *p;) { /* its line breaks as CRLF (RFC 2046 §4.1.1) */
            size_t k = strcspn(p, "\n");
            char *line = strndup(p, k);
            if (line)
                text_line(o, line, f);
            free(line);
            p += k + (p[k] == '\n');
        }
        oputs(o, "\r\n");
    }
    text_line(o, w->number, f);
    if (has_reason(f))
        text_line(o, w->reason, f);
    oputs(o, "\r\n");
    text_line(o, w->page, f);
    text_line(o, "{url}", f);
    oputs(o, "\r\n");
    text_line(o, w->verify, f);
}

/* The text part in canonical form (RFC 2046 §4.1.1: CRLF line breaks), sections in the
 * order asked, then the signature after the "-- " delimiter (RFC 3676 §4.3), once. */
static void text_body(obuf *o, const mail_fields *f)
{
    for (size_t i = 0; i < f->nlangs; i++) {
        if (i > 0)
            oputs(o, "\r\n----------------------------------------\r\n\r\n");
        text_section(o, f, f->langs[i]);
    }
    oputs(o, "\r\n-- \r\n");
    for (const char *p = f->signature; *p;) {
        size_t k = strcspn(p, "\n");
        oput(o, p, k);
        oputs(o, "\r\n");
        p += k + (p[k] == '\n');
    }
}

#define P_STYLE "<p style=\"margin:0 0 16px 0;\">"
#define MUTED "font-size:13px;color:#4b5563;"

static void html_section(obuf *o, const mail_fields *f, const mail_words *w)
{
    oputs(o, "<div lang=\"");
    oputs(o, w->lang);
    oputs(o, "\">\r\n" P_STYLE);
    expand(o, *f->name ? w->hello_named : w->hello, f, true);
    oputs(o, "</p>\r\n" P_STYLE);
    expand(o, w->what[f->event], f, true);
    const char *custom = custom_for(f->custom_message, f, w);
    if (custom) {
        oputs(o, "</p>\r\n" P_STYLE);
        for (const char *p = custom; *p;) {
            size_t k = strcspn(p, "\n");
            char *line = strndup(p, k);
            if (line)
                expand(o, line, f, true);
            free(line);
            p += k + (p[k] == '\n');
            if (*p)
                oputs(o, "<br>\r\n");
        }
        oputs(o, "</p>\r\n" P_STYLE);
    } else {
        oputs(o, "<br>\r\n");
    }
    expand(o, w->number, f, true);
    if (has_reason(f)) {
        oputs(o, "<br>\r\n");
        expand(o, w->reason, f, true);
    }
    oputs(o, "</p>\r\n" P_STYLE);
    expand(o, w->page, f, true);
    oputs(o, "<br>\r\n<a href=\"");
    oput_html(o, f->url, strlen(f->url));
    oputs(o, "\" style=\"color:#1d4ed8;word-break:break-all;\">");
    oput_html(o, f->url, strlen(f->url));
    oputs(o, "</a></p>\r\n<p style=\"margin:0;" MUTED "\">");
    expand(o, w->verify, f, true);
    oputs(o, "</p>\r\n</div>\r\n");
}

/* The HTML part: inline styles only (mail clients drop <style> and block remote content), no
 * images, no scripts; each section carries its lang. */
static void html_body(obuf *o, const mail_fields *f, const char *subject)
{
    oputs(o, "<!DOCTYPE html>\r\n<html lang=\"");
    oputs(o, f->langs[0]->lang);
    oputs(o, "\">\r\n<head>\r\n<meta charset=\"UTF-8\">\r\n<meta name=\"viewport\" "
             "content=\"width=device-width, initial-scale=1\">\r\n<title>");
    oput_html(o, subject, strlen(subject));
    oputs(o, "</title>\r\n</head>\r\n<body style=\"margin:0;padding:24px 12px;"
             "background-color:#f3f4f6;\">\r\n<div style=\"max-width:600px;margin:0 auto;"
             "padding:24px;background-color:#ffffff;border:1px solid #e5e7eb;"
             "border-radius:8px;font-family:-apple-system,'Segoe UI',Roboto,'Noto Sans KR',"
             "'Malgun Gothic',sans-serif;font-size:15px;line-height:1.6;color:#111827;\">\r\n");
    for (size_t i = 0; i < f->nlangs; i++) {
        if (i > 0)
            oputs(o, "<hr style=\"border:none;border-top:1px solid #e5e7eb;margin:24px 0;\">\r\n");
        html_section(o, f, f->langs[i]);
    }
    oputs(o, "<div style=\"margin-top:24px;padding-top:12px;border-top:1px solid #e5e7eb;"
             MUTED "\">\r\n");
    for (const char *p = f->signature; *p;) {
        size_t k = strcspn(p, "\n");
        oput_html(o, p, k);
        p += k + (p[k] == '\n');
        oputs(o, *p ? "<br>\r\n" : "\r\n");
    }
    oputs(o, "</div>\r\n</div>\r\n</body>\r\n</html>\r\n");
}

/* RFC 2045 §6.8: base64 in lines of 76 characters, each ended by CRLF. */
static void base64_lines(obuf *o, const uint8_t *p, size_t n)
{
    char line[80];
    for (size_t i = 0; i < n; i += B64_LINE_BYTES) {
        size_t k = n - i < B64_LINE_BYTES ? n - i : B64_LINE_BYTES;
        ca_base64_encode(line, p + i, k);
        oputs(o, line);
        oputs(o, "\r\n");
    }
}

/* ---- headers ---- */

/* A header field being written, with the column its current line has reached. */
typedef struct hdr {
    obuf *o;
    size_t col;
} hdr;

static void hdr_start(hdr *h, obuf *o, const char *name)
{
    h->o = o;
    oputs(o, name);
    h->col = strlen(name);
}

/* Appends " token", folding first (RFC 5322 §2.2.3: CRLF before the space) when the line
 * would pass 78 characters. A token longer than a line still goes alone on one. */
static void hdr_token(hdr *h, const char *tok, size_t n)
{
    if (h->col + 1 + n > LINE_MAX_CHARS && h->col > 1) {
        oputs(h->o, "\r\n");
        h->col = 0;
    }
    oputs(h->o, " ");
    oput(h->o, tok, n);
    h->col += 1 + n;
}

static void hdr_end(hdr *h) { oputs(h->o, "\r\n"); }

/* RFC 2047 §5: s as encoded-words ("=?UTF-8?B?...?="), each at most 75 characters and short
 * enough for the line it lands on, each holding whole UTF-8 sequences (§5 rule 3: a
 * multi-octet character may not be split across adjacent encoded-words). Readers drop the
 * folding white space between adjacent encoded-words (§6.2), so the text comes back whole. */
static void hdr_encoded(hdr *h, const char *s, size_t n)
{
    char word[EW_MAX + 1];
    for (size_t i = 0; i < n;) {
        size_t room = LINE_MAX_CHARS - h->col - 1;
        if (h->col + 1 + EW_OVERHEAD + 8 > LINE_MAX_CHARS) {
            oputs(h->o, "\r\n");
            h->col = 0;
            room = LINE_MAX_CHARS - 1;
        }
        if (room > EW_MAX)
            room = EW_MAX;
        size_t raw_max = (room - EW_OVERHEAD) / 4 * 3, j = i;
        while (j < n) {
            size_t k = ca_utf8_seq((const uint8_t *)s + j, n - j, NULL);
            if (k == 0 || j - i + k > raw_max)
                break;
            j += k;
        }
        memcpy(word, "=?UTF-8?B?", 10);
        ca_base64_encode(word + 10, (const uint8_t *)s + i, j - i);
        strcat(word, "?=");
        hdr_token(h, word, strlen(word));
        i = j;
    }
}

/* Free text that may stand raw in a header: letters, digits, space and punctuation that can
 * neither end a quoted-string nor make a continuation line look like a field of its own
 * (no ':' '@' '<' '>' '"' '\' ';' '='). Anything else travels as encoded-words. */
static bool header_safe(const char *s, const char *extra)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || strchr(extra, c)))
            return false;
    }
    return true;
}

/* Subject (RFC 5322 §3.6.5, unstructured): plain ASCII words folded at their spaces when
 * that is exact (header_safe characters, single spaces, no word too long for a line);
 * encoded-words otherwise, which is the case for every Korean subject. */
static void hdr_unstructured(hdr *h, const char *s)
{
    size_t n = strlen(s);
    bool plain = header_safe(s, ".,()[]-_'!?&+#/") && !strstr(s, "  ") && s[0] != ' ' &&
                 (n == 0 || s[n - 1] != ' ');
    for (const char *p = s; plain && *p; p += strcspn(p, " "), p += (*p == ' '))
        plain = strcspn(p, " ") <= LINE_MAX_CHARS - 10;
    if (!plain) {
        hdr_encoded(h, s, n);
        return;
    }
    for (const char *p = s; *p;) {
        size_t k = strcspn(p, " ");
        hdr_token(h, p, k);
        p += k + (p[k] == ' ');
    }
}

/* A mailbox (RFC 5322 §3.4): display-name <addr>, or the bare addr. A display name of
 * header_safe ASCII that fits the line goes in a quoted-string (§3.2.4; nothing in it needs
 * escaping); anything else as encoded-words (RFC 2047 §5 rule 3, in a phrase). */
static void hdr_mailbox(hdr *h, const char *name, const char *addr)
{
    size_t n = strlen(name);
    char tok[CA_MAIL_ADDR_MAX + 3];
    if (!*name) {
        hdr_token(h, addr, strlen(addr));
        return;
    }
    if (header_safe(name, ".,()-_'&") && h->col + n + 3 <= LINE_MAX_CHARS) {
        oputs(h->o, " \"");
        oputs(h->o, name);
        oputs(h->o, "\"");
        h->col += n + 3;
    } else {
        hdr_encoded(h, name, n);
    }
    snprintf(tok, sizeof tok, "<%s>", addr);
    hdr_token(h, tok, strlen(tok));
}

/* RFC 5322 §3.3 date-time, always in UTC; day and month names from fixed tables, not the
 * locale. */
static ca_err format_date(char out[40], int64_t t, ca_errbuf *eb)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (t < 0 || t > 253402300799 || !gmtime_r(&tt, &tm)) /* 1970 .. 9999-12-31 */
        return ca_fail(eb, CA_ERR_INVALID, "mail: date %lld out of range", (long long)t);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return CA_OK;
}

/* ---- attachment ---- */

/* RFC 2231 attr-char: what may stand unencoded in an extended parameter value. */
static bool attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

/* A filename plain enough for filename="..." (RFC 2183 §2.3): short, header_safe ASCII. */
static bool plain_filename(const char *s)
{
    return header_safe(s, ".,()[]-_'!#&+~") && strlen(s) <= FILENAME_PLAIN;
}

/* The filename parameter: quoted when plain; otherwise RFC 2231 §4 UTF-8 percent-encoding,
 * split into §3 continuations (filename*0*=, filename*1*=, ...) so lines stay within 78.
 * Segments end between UTF-8 sequences: §4.1 has readers join segments before decoding,
 * but some (Python's email package) decode each one alone. */
static void put_filename(obuf *o, const char *name)
{
    if (plain_filename(name)) {
        oputs(o, ";\r\n filename=\"");
        oputs(o, name);
        oputs(o, "\"");
        return;
    }
    size_t total = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        total += attr_char(*p) ? 1 : 3;
    bool one = total + 20 <= LINE_MAX_CHARS; /* " filename*=UTF-8''" + value */
    const unsigned char *p = (const unsigned char *)name;
    for (size_t part = 0; *p; part++) {
        char head[48];
        if (one)
            snprintf(head, sizeof head, " filename*=UTF-8''");
        else
            snprintf(head, sizeof head, " filename*%zu*=%s", part, part == 0 ? "UTF-8''" : "");
        oputs(o, ";\r\n");
        oputs(o, head);
        /* A sequence takes at most 12 characters; the line also ends in ';' when a segment
         * follows. */
        for (size_t col = strlen(head); *p && col + 12 + 1 <= LINE_MAX_CHARS;) {
            size_t k = ca_utf8_seq(p, strlen((const char *)p), NULL);
            for (size_t i = 0; i < k; i++, p++) {
                char enc[4];
                col += (size_t)(attr_char(*p) ? snprintf(enc, sizeof enc, "%c", *p)
                                              : snprintf(enc, sizeof enc, "%%%02X", *p));
                oputs(o, enc);
            }
        }
    }
}

static void attachment_part(obuf *o, const mail_fields *f, const ca_mail_envelope *env)
{
    oputs(o, "Content-Type: application/pdf");
    if (plain_filename(f->att_name)) {
        oputs(o, ";\r\n name=\"");
        oputs(o, f->att_name);
        oputs(o, "\"");
    }
    oputs(o, "\r\nContent-Disposition: attachment");
    put_filename(o, f->att_name);
    oputs(o, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    base64_lines(o, env->attachment, env->attachment_len);
}

/* ---- the whole message ---- */

/* The encoded parts, ready to be put between boundaries. */
typedef struct mail_parts {
    obuf subject, text, html;       /* the subject and the bodies as written */
    obuf text64, html64;            /* the bodies in base64 lines, as sent */
    char alt[BOUNDARY_LEN], mixed[BOUNDARY_LEN];
} mail_parts;

/* RFC 2046 §5.1.1: a boundary must not occur in any encapsulated part. It is random (so no
 * content can be made to anticipate it) and checked against the bodies as sent and as
 * written, and against the other boundary. The PDF is not searched: its base64 lines cannot
 * hold the "_" every boundary has (RFC 2045 §6.8 alphabet). */
static ca_err make_boundary(char out[BOUNDARY_LEN], const mail_parts *p, ca_errbuf *eb)
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t r[16];
        if (RAND_bytes(r, sizeof r) != 1)
            return ca_fail(eb, CA_ERR_CRYPTO, "mail: RAND_bytes failed");
        memcpy(out, "=_ca", 4);
        ca_hex_encode(out + 4, r, sizeof r);
        if (!strstr(p->text.b.data, out) && !strstr(p->html.b.data, out) &&
            !strstr(p->text64.b.data, out) && !strstr(p->html64.b.data, out) &&
            (out == p->alt || strcmp(out, p->alt) != 0))
            return CA_OK;
    }
    return ca_fail(eb, CA_ERR_CRYPTO, "mail: no boundary apart from the content");
}

static void put_content_type(obuf *o, const char *type, const char *boundary)
{
    oputs(o, "Content-Type: ");
    oputs(o, type);
    oputs(o, ";\r\n boundary=\"");
    oputs(o, boundary);
    oputs(o, "\"\r\n");
}

static void write_headers(obuf *o, const mail_fields *f, const ca_mail_envelope *env,
                          const mail_parts *p, const char *date)
{
    hdr h;
    hdr_start(&h, o, "From:");
    hdr_mailbox(&h, f->from_name, f->from_addr);
    hdr_end(&h);
    hdr_start(&h, o, "To:");
    hdr_mailbox(&h, f->to_name, env->to);
    hdr_end(&h);
    hdr_start(&h, o, "Subject:");
    hdr_unstructured(&h, p->subject.b.data);
    hdr_end(&h);
    oputs(o, "Date: ");
    oputs(o, date);
    oputs(o, "\r\n");
    char id[260];
    snprintf(id, sizeof id, "<%s>", env->message_id);
    hdr_start(&h, o, "Message-ID:");
    hdr_token(&h, id, strlen(id));
    hdr_end(&h);
    oputs(o, "MIME-Version: 1.0\r\nContent-Language: ");
    for (size_t i = 0; i < f->nlangs; i++) {
        oputs(o, i ? ", " : "");
        oputs(o, f->langs[i]->lang);
    }
    /* RFC 3834 §5: mark the message automatic so responders do not answer it. */
    oputs(o, "\r\nAuto-Submitted: auto-generated\r\nX-Credanchor-Event: ");
    oputs(o, event_names[f->event]);
    oputs(o, "\r\n");
}

static void alternative_part(obuf *o, const mail_parts *p)
{
    oputs(o, "--");
    oputs(o, p->alt);
    oputs(o, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n");
    oput(o, p->text64.b.data, p->text64.b.len);
    oputs(o, "--");
    oputs(o, p->alt);
    oputs(o, "\r\nContent-Type: text/html; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n");
    oput(o, p->html64.b.data, p->html64.b.len);
    oputs(o, "--");
    oputs(o, p->alt);
    oputs(o, "--\r\n");
}

static void write_message(obuf *o, const mail_fields *f, const ca_mail_envelope *env,
                          const mail_parts *p, const char *date)
{
    bool mixed = env->attachment != NULL;
    write_headers(o, f, env, p, date);
    put_content_type(o, mixed ? "multipart/mixed" : "multipart/alternative",
                     mixed ? p->mixed : p->alt);
    /* RFC 2046 §5.1.1: the preamble is for readers without MIME; clients hide it. */
    oputs(o, "\r\nThis is a multi-part message in MIME format.\r\n\r\n");
    if (!mixed) {
        alternative_part(o, p);
        return;
    }
    oputs(o, "--");
    oputs(o, p->mixed);
    oputs(o, "\r\n");
    put_content_type(o, "multipart/alternative", p->alt);
    oputs(o, "\r\n");
    alternative_part(o, p);
    oputs(o, "\r\n--");
    oputs(o, p->mixed);
    oputs(o, "\r\n");
    attachment_part(o, f, env);
    oputs(o, "--");
    oputs(o, p->mixed);
    oputs(o, "--\r\n");
}

static void fields_free(mail_fields *f)
{
    char **all[] = {&f->name, &f->achievement, &f->issuer, &f->number, &f->reason,
                    &f->url, &f->signature, &f->to_name, &f->from_name, &f->att_name,
                    &f->custom_subject[0], &f->custom_subject[1], &f->custom_message[0],
                    &f->custom_message[1]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

/* The signature when none is configured: the issuer and the public site (the page URL's
 * scheme and authority). */
static ca_err default_signature(mail_fields *f, ca_errbuf *eb)
{
    const char *host = strstr(f->url, "://") + 3;
    size_t site = (size_t)(host - f->url) + strcspn(host, "/?#");
    size_t n = strlen(f->issuer);
    char *s = malloc(n + 1 + site + 1);
    if (!s)
        return ca_fail(eb, CA_ERR_NOMEM, "mail: out of memory");
    memcpy(s, f->issuer, n);
    s[n] = '\n';
    memcpy(s + n + 1, f->url, site);
    s[n + 1 + site] = '\0';
    free(f->signature);
    f->signature = s;
    return CA_OK;
}

/* Checks and cleans the content; on error the caller frees what was set. */
static ca_err content_load(mail_fields *f, const ca_mail_content *c, ca_errbuf *eb)
{
    ca_err rc;
    if ((rc = languages_parse(f, c->languages, eb)) != CA_OK ||
        (rc = event_parse(f, c->event, eb)) != CA_OK ||
        (rc = url_check(c->page_url, eb)) != CA_OK ||
        (rc = clean_text(&f->url, c->page_url, false, true, "the page URL", eb)) != CA_OK ||
        (rc = clean_text(&f->name, c->recipient_name, false, false, "the recipient name",
                         eb)) != CA_OK ||
        (rc = clean_text(&f->achievement, c->achievement_name, false, true,
                         "the achievement name", eb)) != CA_OK ||
        (rc = clean_text(&f->issuer, c->issuer_name, false, true, "the issuer name", eb)) !=
            CA_OK ||
        (rc = clean_text(&f->number, c->issue_number, false, true, "the issue number", eb)) !=
            CA_OK ||
        (rc = clean_text(&f->reason, c->reason, false, false, "the reason", eb)) != CA_OK ||
        (rc = clean_text(&f->signature, c->signature, true, false, "the signature", eb)) !=
            CA_OK)
        return rc;
    for (int i = 0; i < 2; i++) {
        static const char *const what[2][2] = {{"the Korean subject", "the English subject"},
                                               {"the Korean message", "the English message"}};
        if ((rc = clean_text(&f->custom_subject[i], c->custom_subject[i], false, false,
                             what[0][i], eb)) != CA_OK ||
            (rc = ca_mail_template_check(f->custom_subject[i], what[0][i], eb)) != CA_OK ||
            (rc = clean_text(&f->custom_message[i], c->custom_message[i], true, false,
                             what[1][i], eb)) != CA_OK ||
            (rc = ca_mail_template_check(f->custom_message[i], what[1][i], eb)) != CA_OK)
            return rc;
    }
    return *f->signature ? CA_OK : default_signature(f, eb);
}

/* Checks the envelope; on error the caller frees what was set. */
static ca_err envelope_load(mail_fields *f, const ca_mail_envelope *env, ca_errbuf *eb)
{
    char name[CA_MAIL_TEXT_MAX + 1];
    ca_err rc;
    if ((rc = ca_mail_from_parse(env->from, f->from_addr, sizeof f->from_addr, name,
                                 sizeof name, eb)) != CA_OK ||
        (rc = clean_text(&f->from_name, name, false, false, "the sender name", eb)) != CA_OK ||
        (rc = ca_mail_address_check(env->to, eb)) != CA_OK ||
        (rc = clean_text(&f->to_name, env->to_name, false, false, "the recipient display name",
                         eb)) != CA_OK ||
        (rc = message_id_check(env->message_id, eb)) != CA_OK)
        return rc;
    if (env->attachment && env->attachment_len > CA_MAIL_ATTACHMENT_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "mail: the attachment is over %zu bytes",
                       CA_MAIL_ATTACHMENT_MAX);
    if (env->attachment && env->attachment_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "mail: the attachment is empty");
    const char *an = env->attachment_name && *env->attachment_name ? env->attachment_name
                                                                   : "certificate.pdf";
    if ((rc = clean_text(&f->att_name, an, false, true, "the attachment name", eb)) != CA_OK)
        return rc;
    for (char *p = f->att_name; *p; p++) {
        if (*p == '/' || *p == '\\') /* a name, never a path (RFC 2183 §2.3) */
            *p = '_';
    }
    return CA_OK;
}

/* Subject, text and HTML in their own buffers; then the boundaries, chosen against them. */
static ca_err parts_build(mail_parts *p, const mail_fields *f, ca_errbuf *eb)
{
    const mail_words *w = f->langs[0];
    const char *custom = custom_for(f->custom_subject, f, w);
    expand(&p->subject, custom ? custom : w->subject[f->event], f, false);
    if (has_reason(f))
        expand(&p->subject, w->subject_reason, f, false);
    ca_err rc = buf_status(&p->subject.b, p->subject.want, eb);
    if (rc != CA_OK)
        return rc;
    text_body(&p->text, f);
    html_body(&p->html, f, p->subject.b.data);
    if ((rc = buf_status(&p->text.b, p->text.want, eb)) != CA_OK ||
        (rc = buf_status(&p->html.b, p->html.want, eb)) != CA_OK)
        return rc;
    base64_lines(&p->text64, (const uint8_t *)p->text.b.data, p->text.b.len);
    base64_lines(&p->html64, (const uint8_t *)p->html.b.data, p->html.b.len);
    if ((rc = buf_status(&p->text64.b, p->text64.want, eb)) != CA_OK ||
        (rc = buf_status(&p->html64.b, p->html64.want, eb)) != CA_OK ||
        (rc = make_boundary(p->alt, p, eb)) != CA_OK)
        return rc;
    return make_boundary(p->mixed, p, eb);
}

ca_err ca_mail_compose(char **out, size_t *out_len, const ca_mail_envelope *env,
                       const ca_mail_content *c, ca_errbuf *eb)
{
    CA_ASSERT(out && out_len && env && c);
    *out = NULL;
    *out_len = 0;
    mail_fields f = {0};
    mail_parts p = {0};
    obuf o = {0};
    obuf *bufs[] = {&p.subject, &p.text, &p.html, &p.text64, &p.html64, &o};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        ca_capbuf_init(&bufs[i]->b, bufs[i] == &o ? OUT_MAX : BODY_MAX * 2);
    char date[40];
    ca_err rc = content_load(&f, c, eb);
    if (rc == CA_OK)
        rc = envelope_load(&f, env, eb);
    if (rc == CA_OK)
        rc = format_date(date, env->date, eb);
    if (rc == CA_OK)
        rc = parts_build(&p, &f, eb);
    if (rc == CA_OK) {
        write_message(&o, &f, env, &p, date);
        rc = buf_status(&o.b, o.want, eb);
    }
    if (rc == CA_OK)
        *out = ca_capbuf_take(&o.b, out_len);
    if (rc == CA_OK && !*out)
        rc = ca_fail(eb, CA_ERR_NOMEM, "mail: out of memory");
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        ca_capbuf_free(&bufs[i]->b);
    fields_free(&f);
    return rc;
}
