/* Tests for node/mail_message.c (the credential notification as an RFC 5322 / MIME message).
 * Every message composed here is taken apart again by the test's own small MIME reader: the
 * header block unfolded (RFC 5322 §2.2.3), encoded-words decoded (RFC 2047), the parts split
 * on their boundaries (RFC 2046 §5.1) and base64-decoded (RFC 2045 §6.8), so the checks are on
 * what a mail client would show: the recipient, the link in both parts, the signature block,
 * Korean subjects decoding back to the UTF-8 original, header injection through a name, HTML
 * escaping of a course title, the PDF's bytes, and every line's length.
 *
 * CA_MAIL_DUMP=<dir> also writes sample messages there (issued-ko-en.eml, attachment.eml,
 * attachment-ko-name.eml, revoked-en.eml, injection.eml, long-ko.eml, long-en-ko.eml) for
 * tests/tools/mail_parse_check.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "credanchor/encoding.h"
#include "node/mail_message.h"

#define KO_NAME "홍길동"
#define KO_TITLE "정보보안 인식 교육 2026"
#define NUMBER "BIZM-202606-0001"
#define URL "https://credanchor.example/c/2b1f6d1e-9a6e-4b8e-8d55-1f0c1d9b7a10"
#define SIG "Acme Academy\nsupport@acme.example\n+82 2 555 0100"

/* ---- a small MIME reader for the tests ---- */

static void dump(const char *file, const char *msg, size_t len)
{
    const char *dir = getenv("CA_MAIL_DUMP");
    if (!dir || !*dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(msg, 1, len, f), len);
    fclose(f);
}

/* Every line ends in CRLF (no bare CR or LF) and is at most max characters. */
static void check_lines(const char *s, size_t len, size_t max)
{
    assert_int_equal(strlen(s), len); /* no NUL inside */
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r') {
            assert_true(i + 1 < len && s[i + 1] == '\n');
        } else if (s[i] == '\n') {
            assert_true(i > 0 && s[i - 1] == '\r');
            if (i - 1 - start > max)
                fail_msg("line of %zu chars: %.*s", i - 1 - start, (int)(i - 1 - start),
                         s + start);
            start = i + 1;
        }
    }
    assert_int_equal(start, len); /* ends with CRLF */
}

/* The header block of s (up to the first empty line), NUL-terminated copy. */
static char *header_block(const char *s)
{
    const char *end = strstr(s, "\r\n\r\n");
    assert_non_null(end);
    return strndup(s, (size_t)(end - s) + 2);
}

/* The unfolded value of the header field `name` in the block (RFC 5322 §2.2.3: remove each
 * CRLF that precedes white space), leading white space dropped; NULL when absent. The field
 * must occur at most once. */
static char *header_value(const char *block, const char *name)
{
    size_t n = strlen(name);
    char *found = NULL;
    for (const char *line = block; *line;) {
        const char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            assert_null(found);
            found = calloc(1, strlen(block) + 1);
            assert_non_null(found);
            const char *p = line + n + 1;
            for (;;) {
                strncat(found, p, (size_t)(eol - p));
                if (eol[2] != ' ' && eol[2] != '\t')
                    break;
                p = eol + 2;
                eol = strstr(p, "\r\n");
            }
        }
        line = eol + 2;
    }
    if (found) {
        size_t lead = strspn(found, " \t");
        memmove(found, found + lead, strlen(found + lead) + 1);
    }
    return found;
}

/* Decodes padded base64 that may be broken into CRLF lines (each at most 76 characters). */
static uint8_t *b64_lines_decode(const char *s, size_t len, size_t *out_len)
{
    char *flat = malloc(len + 1);
    size_t n = 0, line = 0;
    assert_non_null(flat);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n') {
            assert_true(line <= 76);
            line = 0;
            continue;
        }
        flat[n++] = s[i];
        line++;
    }
    uint8_t *out = malloc(n + 1);
    assert_non_null(out);
    *out_len = n;
    assert_int_equal(ca_base64_decode(out, out_len, flat, n), CA_OK);
    out[*out_len] = 0;
    free(flat);
    return out;
}

/* RFC 2047 decoding of an unstructured value or phrase: =?UTF-8?B?...?= words (each at most
 * 75 characters, checked) decoded, white space between adjacent words dropped (§6.2). */
static char *decode_words(const char *v)
{
    char *out = calloc(1, strlen(v) + 1);
    size_t n = 0;
    assert_non_null(out);
    for (const char *p = v; *p;) {
        if (strncmp(p, "=?UTF-8?B?", 10) != 0) {
            out[n++] = *p++;
            continue;
        }
        const char *end = strstr(p + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - p <= 75);
        size_t k;
        uint8_t *raw = b64_lines_decode(p + 10, (size_t)(end - p - 10), &k);
        assert_int_equal(ca_utf8_valid_prefix(raw, k), k); /* no split UTF-8 sequence */
        memcpy(out + n, raw, k);
        n += k;
        free(raw);
        p = end + 2;
        const char *q = p + strspn(p, " \t");
        if (strncmp(q, "=?UTF-8?B?", 10) == 0)
            p = q;
    }
    out[n] = 0;
    return out;
}

/* The boundary parameter of a multipart Content-Type value. */
static char *boundary_of(const char *ctype)
{
    const char *b = strstr(ctype, "boundary=\"");
    assert_non_null(b);
    b += 10;
    const char *e = strchr(b, '"');
    assert_non_null(e);
    return strndup(b, (size_t)(e - b));
}

/* Splits a multipart body on its boundary (RFC 2046 §5.1.1): the parts, each its headers
 * and its body, exactly `want` of them, then the close delimiter. */
typedef struct part {
    char *headers;
    const char *body;
    size_t body_len;
} part;

static void split_parts(const char *body, const char *boundary, part *parts, size_t want)
{
    char delim[128], close[128];
    snprintf(delim, sizeof delim, "--%s\r\n", boundary);
    snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
    const char *p = strstr(body, delim);
    assert_non_null(p);
    /* The boundary occurs nowhere but on its delimiter lines. */
    for (size_t i = 0; i < want; i++) {
        p += strlen(delim);
        const char *next = strstr(p, delim + 0);
        const char *end = strstr(p, close);
        assert_non_null(end);
        if (i + 1 < want) {
            assert_non_null(next);
            assert_true(next < end);
            end = next - 2; /* the CRLF before a delimiter belongs to it */
            assert_memory_equal(end, "\r\n", 2);
        } else {
            assert_true(!next || next > end);
        }
        const char *hend = strstr(p, "\r\n\r\n");
        assert_non_null(hend);
        parts[i].headers = strndup(p, (size_t)(hend - p) + 2);
        parts[i].body = hend + 4;
        parts[i].body_len = (size_t)(end - parts[i].body);
        p = end + 2;
    }
}

/* The message taken apart. */
typedef struct decoded {
    char *headers;
    char *to, *from, *subject; /* decoded */
    char *text, *html;
    uint8_t *pdf;
    size_t pdf_len;
    char *pdf_headers;
} decoded;

static void decode_alternative(decoded *d, const char *body, const char *ctype)
{
    assert_non_null(strstr(ctype, "multipart/alternative;"));
    char *b = boundary_of(ctype);
    part parts[2];
    split_parts(body, b, parts, 2);
    assert_string_equal(parts[0].headers, "Content-Type: text/plain; charset=UTF-8\r\n"
                                          "Content-Transfer-Encoding: base64\r\n");
    assert_string_equal(parts[1].headers, "Content-Type: text/html; charset=UTF-8\r\n"
                                          "Content-Transfer-Encoding: base64\r\n");
    size_t n;
    d->text = (char *)b64_lines_decode(parts[0].body, parts[0].body_len, &n);
    assert_int_equal(strlen(d->text), n);
    d->html = (char *)b64_lines_decode(parts[1].body, parts[1].body_len, &n);
    assert_int_equal(strlen(d->html), n);
    free(parts[0].headers);
    free(parts[1].headers);
    free(b);
}

static void decode_message(decoded *d, const char *msg, size_t len)
{
    memset(d, 0, sizeof *d);
    check_lines(msg, len, 998);
    d->headers = header_block(msg);
    /* RFC 5322 §2.1.1: header lines at most 78 characters (no address here is that long). */
    check_lines(d->headers, strlen(d->headers), 78);
    char *v = header_value(d->headers, "To");
    d->to = decode_words(v);
    free(v);
    v = header_value(d->headers, "From");
    d->from = decode_words(v);
    free(v);
    v = header_value(d->headers, "Subject");
    d->subject = decode_words(v);
    free(v);
    char *ctype = header_value(d->headers, "Content-Type");
    const char *body = msg + strlen(d->headers) + 2;
    if (strncmp(ctype, "multipart/alternative;", 22) == 0) {
        decode_alternative(d, body, ctype);
    } else {
        assert_non_null(strstr(ctype, "multipart/mixed;"));
        char *b = boundary_of(ctype);
        part parts[2];
        split_parts(body, b, parts, 2);
        char *inner = header_value(parts[0].headers, "Content-Type");
        char *inner_body = strndup(parts[0].body, parts[0].body_len + 2);
        decode_alternative(d, inner_body, inner);
        d->pdf_headers = parts[1].headers;
        d->pdf = b64_lines_decode(parts[1].body, parts[1].body_len, &d->pdf_len);
        free(inner);
        free(inner_body);
        free(parts[0].headers);
        free(b);
    }
    free(ctype);
}

static void decoded_free(decoded *d)
{
    free(d->headers);
    free(d->to);
    free(d->from);
    free(d->subject);
    free(d->text);
    free(d->html);
    free(d->pdf);
    free(d->pdf_headers);
}

/* ---- fixtures ---- */

static ca_mail_content content(const char *langs, const char *event)
{
    return (ca_mail_content){
        .languages = langs,
        .recipient_name = KO_NAME,
        .achievement_name = KO_TITLE,
        .issuer_name = "Acme Academy",
        .issue_number = NUMBER,
        .page_url = URL,
        .event = event,
        .reason = NULL,
        .signature = SIG,
    };
}

static ca_mail_envelope envelope(void)
{
    return (ca_mail_envelope){
        .from = "Acme 아카데미 <no-reply@acme.example>",
        .to = "gildong.hong@example.org",
        .to_name = KO_NAME,
        .message_id = "3f2a9c0d1e4b4f6a8d7c5b3a29180716@credanchor.example",
        .date = 1780000000, /* 2026-05-28T20:26:40Z, a Thursday */
    };
}

static char *compose(const ca_mail_envelope *env, const ca_mail_content *c, size_t *len)
{
    char *msg = NULL;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_mail_compose(&msg, len, env, c, &eb);
    if (rc != CA_OK)
        fail_msg("compose: %s", ca_errmsg(&eb, rc));
    assert_non_null(msg);
    return msg;
}

static ca_err compose_rc(const ca_mail_envelope *env, const ca_mail_content *c)
{
    char *msg = (char *)1;
    size_t len = 1;
    ca_errbuf eb = {{0}};
    ca_err rc = ca_mail_compose(&msg, &len, env, c, &eb);
    if (rc != CA_OK) {
        assert_null(msg);
        assert_int_equal(len, 0);
        assert_true(eb.msg[0] != 0);
        assert_null(strchr(eb.msg, '\n'));
        assert_null(strchr(eb.msg, '\r'));
    }
    free(msg);
    return rc;
}

static char *header(const decoded *d, const char *name)
{
    return header_value(d->headers, name);
}

/* ---- tests ---- */

static void test_issued_ko_en(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("ko,en", "credential.issued");
    size_t len;
    char *msg = compose(&env, &c, &len);
    dump("issued-ko-en.eml", msg, len);
    decoded d;
    decode_message(&d, msg, len);

    assert_string_equal(d.to, KO_NAME " <gildong.hong@example.org>");
    assert_string_equal(d.from, "Acme 아카데미 <no-reply@acme.example>");
    /* The first language's subject, back to its UTF-8 original. */
    assert_string_equal(d.subject, "[발급] " KO_TITLE " 인증서가 발급되었습니다 (" NUMBER ")");
    char *v = header(&d, "Subject");
    assert_non_null(strstr(v, "=?UTF-8?B?"));
    free(v);

    const char *fixed[][2] = {
        {"Date", "Thu, 28 May 2026 20:26:40 +0000"},
        {"Message-ID", "<3f2a9c0d1e4b4f6a8d7c5b3a29180716@credanchor.example>"},
        {"MIME-Version", "1.0"},
        {"Auto-Submitted", "auto-generated"},
        {"X-Credanchor-Event", "credential.issued"},
        {"Content-Language", "ko, en"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        v = header(&d, fixed[i][0]);
        assert_non_null(v);
        assert_string_equal(v, fixed[i][1]);
        free(v);
    }

    /* Text: greeting with the name, the number, the link alone on its line, how to verify,
     * Korean first, then English, then the signature after "-- ". */
    const char *ko = strstr(d.text, KO_NAME "님, 안녕하세요.\r\n");
    const char *en = strstr(d.text, "Dear " KO_NAME ",\r\n");
    const char *sig = strstr(d.text, "\r\n-- \r\nAcme Academy\r\nsupport@acme.example\r\n"
                                     "+82 2 555 0100\r\n");
    assert_true(ko && en && sig && ko < en && en < sig);
    assert_true(ko == d.text);
    /* The signature ends the text. */
    assert_string_equal(sig, "\r\n-- \r\nAcme Academy\r\nsupport@acme.example\r\n"
                             "+82 2 555 0100\r\n");
    assert_non_null(strstr(d.text, "발급 번호: " NUMBER "\r\n"));
    assert_non_null(strstr(d.text, "Issue number: " NUMBER "\r\n"));
    assert_non_null(strstr(d.text, "Acme Academy에서 \"" KO_TITLE "\" 인증서를 발급했습니다."));
    assert_non_null(strstr(d.text, "Acme Academy has issued you the certificate \"" KO_TITLE));
    const char *link = strstr(d.text, "\r\n" URL "\r\n");
    assert_non_null(link);
    assert_non_null(strstr(link + 1, "\r\n" URL "\r\n")); /* once per language */
    assert_non_null(strstr(d.text, "브라우저에서"));
    assert_non_null(strstr(d.text, "in your browser"));
    /* Exactly one signature delimiter. */
    assert_null(strstr(sig + 1, "\r\n-- \r\n"));

    /* HTML: lang per section, the link as <a href>, the signature, nothing remote. */
    const char *hko = strstr(d.html, "<div lang=\"ko\">");
    const char *hen = strstr(d.html, "<div lang=\"en\">");
    assert_true(hko && hen && hko < hen);
    assert_non_null(strstr(d.html, "<html lang=\"ko\">"));
    assert_non_null(strstr(d.html, "<a href=\"" URL "\""));
    assert_non_null(strstr(d.html, ">" URL "</a>"));
    assert_non_null(strstr(d.html, KO_NAME "님, 안녕하세요."));
    assert_non_null(strstr(d.html, "Acme Academy<br>\r\nsupport@acme.example<br>\r\n"
                                   "+82 2 555 0100\r\n</div>"));
    assert_null(strstr(d.html, "<script"));
    assert_null(strstr(d.html, "<img"));
    assert_null(strstr(d.html, "src="));
    assert_null(d.pdf);
    decoded_free(&d);
    free(msg);
}

static void test_english_only_and_plain_subject_folding(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    env.to_name = "Gildong Hong";
    env.from = "no-reply@acme.example";
    ca_mail_content c = content("en", "credential.issued");
    c.recipient_name = "Gildong Hong";
    c.achievement_name = "Information Security Awareness Training for New Employees, "
                         "Second Edition (Spring Cohort)";
    size_t len;
    char *msg = compose(&env, &c, &len);
    decoded d;
    decode_message(&d, msg, len);
    assert_string_equal(d.to, "\"Gildong Hong\" <gildong.hong@example.org>");
    assert_string_equal(d.from, "no-reply@acme.example");
    char *raw = header(&d, "Subject");
    /* Plain ASCII: folded at spaces, no encoded-words, unfolds to the exact text. */
    assert_null(strstr(raw, "=?"));
    assert_string_equal(raw, d.subject);
    assert_string_equal(d.subject, "Your certificate Information Security Awareness Training "
                                   "for New Employees, Second Edition (Spring Cohort) has "
                                   "been issued (" NUMBER ")");
    assert_non_null(strstr(d.headers, "\r\nSubject: Your certificate"));
    free(raw);
    assert_true(strncmp(d.text, "Dear Gildong Hong,\r\n", 20) == 0);
    assert_null(strstr(d.text, "안녕"));
    assert_null(strstr(d.html, "lang=\"ko\""));
    char *cl = header(&d, "Content-Language");
    assert_string_equal(cl, "en");
    free(cl);
    decoded_free(&d);
    free(msg);

    /* No name: a greeting without one, and no display name in To. */
    env.to_name = "";
    c.recipient_name = NULL;
    msg = compose(&env, &c, &len);
    decode_message(&d, msg, len);
    assert_string_equal(d.to, "gildong.hong@example.org");
    assert_true(strncmp(d.text, "Hello,\r\n", 8) == 0);
    decoded_free(&d);
    free(msg);
}

/* A long Korean title: the subject and the display name become several encoded-words, each
 * at most 75 characters holding whole UTF-8 sequences (checked by decode_words), folded so
 * no header line passes 78, and decoding back to the exact original. */
static void test_long_korean_subject(void **state)
{
    (void)state;
    char title[CA_MAIL_TEXT_MAX + 1] = "";
    while (strlen(title) + strlen("가나다라마바사 ") + 200 < CA_MAIL_TEXT_MAX)
        strcat(title, "가나다라마바사 ");
    strcat(title, "끝");
    char name[600] = "";
    while (strlen(name) + strlen("김수한무거북이와두루미") < 500)
        strcat(name, "김수한무거북이와두루미");
    for (int variant = 0; variant < 2; variant++) {
        ca_mail_envelope env = envelope();
        env.to_name = name;
        ca_mail_content c = content(variant ? "en,ko" : "ko", "credential.issued");
        c.achievement_name = title;
        c.recipient_name = name;
        size_t len;
        char *msg = compose(&env, &c, &len);
        dump(variant ? "long-en-ko.eml" : "long-ko.eml", msg, len);
        decoded d;
        decode_message(&d, msg, len);
        char want[2 * CA_MAIL_TEXT_MAX];
        if (variant)
            snprintf(want, sizeof want, "Your certificate %s has been issued (%s)", title,
                     NUMBER);
        else
            snprintf(want, sizeof want, "[발급] %s 인증서가 발급되었습니다 (%s)", title, NUMBER);
        assert_string_equal(d.subject, want);
        snprintf(want, sizeof want, "%s <gildong.hong@example.org>", name);
        assert_string_equal(d.to, want);
        if (variant) /* "en,ko": English first in both parts */
            assert_true(strstr(d.text, "Dear ") < strstr(d.text, "님, 안녕하세요."));
        decoded_free(&d);
        free(msg);
    }
}

/* Header injection through every free-text field: CR, LF, NUL-free controls become spaces,
 * and the text reaches headers only inside encoded-words, so no "Bcc:" line appears. */
static void test_injection_in_names(void **state)
{
    (void)state;
    const char *evil = "Mallory\r\nBcc: evil@x";
    ca_mail_envelope env = envelope();
    env.to_name = evil;
    env.from = "\"Acme\" <no-reply@acme.example>";
    ca_mail_content c = content("en,ko", "credential.revoked");
    c.recipient_name = evil;
    c.achievement_name = "Course\nBcc: evil@x\r\n\r\n<html>";
    c.issuer_name = "Acme\rBcc: evil@x";
    c.issue_number = "N-1\r\nBcc: evil@x";
    c.reason = "fraud\r\nBcc: evil@x\tand\x0b more";
    size_t len;
    char *msg = compose(&env, &c, &len);
    dump("injection.eml", msg, len);
    /* No line of the whole message starts with Bcc (in any case). */
    for (const char *line = msg; *line;) {
        if (strncasecmp(line, "bcc", 3) == 0)
            fail_msg("a Bcc line: %.40s", line);
        line = strstr(line, "\r\n") + 2;
    }
    assert_null(strcasestr(msg, "bcc:"));
    decoded d;
    decode_message(&d, msg, len);
    assert_string_equal(d.to, "Mallory  Bcc: evil@x <gildong.hong@example.org>");
    assert_null(strpbrk(d.subject, "\r\n"));
    assert_string_equal(d.subject, "Your certificate Course Bcc: evil@x    <html> has been "
                                   "revoked (N-1  Bcc: evil@x) - Reason: fraud  Bcc: evil@x "
                                   "and  more");
    /* The bodies keep the text on one line; the HTML escapes it. */
    assert_non_null(strstr(d.text, "Dear Mallory  Bcc: evil@x,\r\n"));
    assert_non_null(strstr(d.text, "Reason: fraud  Bcc: evil@x and  more\r\n"));
    assert_non_null(strstr(d.html, "Course Bcc: evil@x    &lt;html&gt;"));
    assert_null(strstr(d.html, "<html>"));
    decoded_free(&d);
    free(msg);
}

static void test_bad_addresses_refused(void **state)
{
    (void)state;
    char longest[300], too_long[300], long_local[80];
    /* 254 bytes, the most: 64 + '@' + 181 + ".example"; then one more. */
    memset(longest, 'a', 64);
    longest[64] = '@';
    memset(longest + 65, 'b', 181);
    memcpy(longest + 246, ".example", 9);
    assert_int_equal(strlen(longest), 254);
    assert_int_equal(ca_mail_address_check(longest, NULL), CA_OK);
    memcpy(too_long, longest, 65);
    memset(too_long + 65, 'b', 182);
    memcpy(too_long + 247, ".example", 9);
    assert_int_equal(strlen(too_long), 255);
    memset(long_local, 'x', 65);
    strcpy(long_local + 65, "@example.org");
    const char *bad[] = {
        "",
        "a@b.example\r\nBcc: evil@x",
        "a@b.example\n",
        "a\r@b.example",
        "a b@b.example",
        " a@b.example",
        "a@b.example ",
        "a@b@b.example",
        "a@@b.example",
        "ab.example",
        "@b.example",
        "a@",
        "<a@b.example>",
        "A <a@b.example>",
        "a@b.example>",
        "a,c@b.example",
        "a@b.example,c@d.example",
        "\"a\"@b.example",
        "a\"b@b.example",
        "a@b\"c.example",
        ".a@b.example",
        "a.@b.example",
        "a..b@b.example",
        "a@b..example",
        "a@.b.example",
        "a@b.example.",
        "a@intranet",
        "a@[127.0.0.1]",
        "a@b_c.example",
        "a(b)@b.example",
        "a;b@b.example",
        "a:b@b.example",
        "a\\b@b.example",
        "a\tb@b.example",
        "a\x7f@b.example",
        "\xed\x99\x8d@b.example",
        "a@\xed\x99\x8d.example",
        too_long,
        long_local,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ca_errbuf eb = {{0}};
        if (ca_mail_address_check(bad[i], &eb) != CA_ERR_INVALID)
            fail_msg("accepted bad address %zu", i);
        assert_true(eb.msg[0] && !strpbrk(eb.msg, "\r\n"));
        /* The reason never quotes the address. */
        if (strlen(bad[i]) > 3)
            assert_null(strstr(eb.msg, bad[i]));
        ca_mail_envelope env = envelope();
        env.to = bad[i];
        ca_mail_content c = content("en", "credential.issued");
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    }
    assert_int_equal(ca_mail_address_check(NULL, NULL), CA_ERR_INVALID);
    const char *good[] = {
        "a@b.example", "o'brien@example.org", "first.last+tag@mail.example.co.kr",
        "x@localhost", "X@LOCALHOST", "!#$%&'*+-/=?^_`{|}~@a-b.example", "1@2.3",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ca_errbuf eb = {{0}};
        if (ca_mail_address_check(good[i], &eb) != CA_OK)
            fail_msg("refused %s: %s", good[i], eb.msg);
    }
}

static void test_bad_message_id_and_from_refused(void **state)
{
    (void)state;
    const char *ids[] = {"", "abc", "a@b\r\nBcc: evil@x", "<a@b.example>", "a b@c", "a@b@c",
                         "a@b\n", "\xed\x99\x8d@b"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        ca_mail_envelope env = envelope();
        env.message_id = ids[i];
        ca_mail_content c = content("en", "credential.issued");
        if (compose_rc(&env, &c) != CA_ERR_INVALID)
            fail_msg("accepted Message-ID %zu", i);
    }
    ca_mail_envelope env = envelope();
    env.message_id = NULL;
    ca_mail_content c = content("en", "credential.issued");
    assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);

    const char *froms[] = {
        "", "Acme\r\nBcc: evil@x <a@b.example>", "Acme <a@b.example>\r\nBcc: evil@x",
        "Acme <a@b.example", "Acme a@b.example>", "Acme <a b@b.example>", "Ac<me <a@b.example>",
        "Ac\"me <a@b.example>", "\"Ac\"me\" <a@b.example>", "Acme <>", "Acme\t<a@b.example>",
        "Acme <a@b.example> trailing", "\xff <a@b.example>",
    };
    for (size_t i = 0; i < sizeof froms / sizeof froms[0]; i++) {
        char addr[CA_MAIL_ADDR_MAX + 1], name[256];
        ca_errbuf eb = {{0}};
        if (ca_mail_from_parse(froms[i], addr, sizeof addr, name, sizeof name, &eb) !=
            CA_ERR_INVALID)
            fail_msg("accepted mail.from %zu", i);
        env = envelope();
        env.from = froms[i];
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    }
}

static void test_from_parse(void **state)
{
    (void)state;
    const char *cases[][3] = {
        {"a@b.example", "a@b.example", ""},
        {"  a@b.example  ", "a@b.example", ""},
        {"<a@b.example>", "a@b.example", ""},
        {"Acme Academy <a@b.example>", "a@b.example", "Acme Academy"},
        {"  Acme   <a@b.example> ", "a@b.example", "Acme"},
        {"\"Acme, Inc.\" <a@b.example>", "a@b.example", "Acme, Inc."},
        {"\"Say \\\"hi\\\" <now>\" <a@b.example>", "a@b.example", "Say \"hi\" <now>"},
        {"에이크미 아카데미 <no-reply@acme.example>", "no-reply@acme.example", "에이크미 아카데미"},
        {"Acme,Inc <a@b.example>", "a@b.example", "Acme,Inc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char addr[CA_MAIL_ADDR_MAX + 1], name[256];
        ca_errbuf eb = {{0}};
        ca_err rc = ca_mail_from_parse(cases[i][0], addr, sizeof addr, name, sizeof name, &eb);
        if (rc != CA_OK)
            fail_msg("case %zu: %s", i, ca_errmsg(&eb, rc));
        assert_string_equal(addr, cases[i][1]);
        assert_string_equal(name, cases[i][2]);
        assert_int_equal(ca_mail_from_parse(cases[i][0], addr, sizeof addr, NULL, 0, NULL),
                         CA_OK);
    }
    char small[4], name[4];
    assert_int_equal(ca_mail_from_parse("a@b.example", small, sizeof small, NULL, 0, NULL),
                     CA_ERR_TOO_LARGE);
    char addr[64];
    assert_int_equal(ca_mail_from_parse("Acme <a@b.example>", addr, sizeof addr, name,
                                        sizeof name, NULL),
                     CA_ERR_TOO_LARGE);

    /* A quoted ASCII display name with a quote in it travels as encoded-words. */
    ca_mail_envelope env = envelope();
    env.from = "\"Say \\\"hi\\\"\" <a@b.example>";
    ca_mail_content c = content("en", "credential.issued");
    size_t len;
    char *msg = compose(&env, &c, &len);
    decoded d;
    decode_message(&d, msg, len);
    assert_string_equal(d.from, "Say \"hi\" <a@b.example>");
    decoded_free(&d);
    free(msg);
}

static void test_html_escaping(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("en", "credential.suspended");
    c.achievement_name = "<script>alert('x')</script> & \"Co\"";
    c.recipient_name = "<b>Eve</b>";
    c.issuer_name = "A&B <Academy>";
    c.reason = "<img src=x onerror=alert(1)>";
    c.page_url = "https://credanchor.example/c/1?a=1&b='2'";
    c.signature = "Line <1>\n\"Line\" & 2";
    size_t len;
    char *msg = compose(&env, &c, &len);
    decoded d;
    decode_message(&d, msg, len);
    assert_null(strstr(d.html, "<script"));
    assert_null(strstr(d.html, "<img"));
    assert_null(strstr(d.html, "<b>"));
    assert_non_null(strstr(d.html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                                   "&quot;Co&quot;"));
    assert_non_null(strstr(d.html, "Dear &lt;b&gt;Eve&lt;/b&gt;,"));
    assert_non_null(strstr(d.html, "A&amp;B &lt;Academy&gt; has suspended"));
    assert_non_null(strstr(d.html, "Reason: &lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(d.html, "<a href=\"https://credanchor.example/c/1?a=1&amp;b=&#39;2&#39;\""));
    assert_non_null(strstr(d.html, "Line &lt;1&gt;<br>\r\n&quot;Line&quot; &amp; 2"));
    /* The <title> carries the escaped subject. */
    assert_non_null(strstr(d.html, "<title>Your certificate &lt;script&gt;"));
    /* The text part carries the text as it is. */
    assert_non_null(strstr(d.text, "\"<script>alert('x')</script> & \"Co\"\""));
    assert_non_null(strstr(d.text, "\r\nhttps://credanchor.example/c/1?a=1&b='2'\r\n"));
    assert_non_null(strstr(d.text, "\r\n-- \r\nLine <1>\r\n\"Line\" & 2\r\n"));
    assert_string_equal(d.subject, "Your certificate <script>alert('x')</script> & \"Co\" has "
                                   "been suspended (" NUMBER ") - Reason: <img src=x "
                                   "onerror=alert(1)>");
    decoded_free(&d);
    free(msg);
}

/* An achievement's own wording (issue #18 "templates per achievement"): its subject and
 * paragraph, fields filled in and escaped in HTML, only for the issued event, per language;
 * a template naming another field is refused. */
static void test_custom_wording(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("ko,en", "credential.issued");
    c.custom_subject[0] = "{name}님, {achievement} 수료를 축하합니다";
    c.custom_message[0] = "보안 교육을 마치셨습니다.\n문의: <교육팀>";
    c.custom_message[1] = "Well done, {name} & co.";
    size_t len;
    char *msg = compose(&env, &c, &len);
    decoded d;
    decode_message(&d, msg, len);
    assert_string_equal(d.subject, KO_NAME "님, " KO_TITLE " 수료를 축하합니다");
    assert_non_null(strstr(d.text, "\r\n보안 교육을 마치셨습니다.\r\n문의: <교육팀>\r\n"));
    assert_non_null(strstr(d.text, "\r\nWell done, " KO_NAME " & co.\r\n"));
    assert_non_null(strstr(d.html, "보안 교육을 마치셨습니다.<br>\r\n문의: &lt;교육팀&gt;"));
    assert_non_null(strstr(d.html, "Well done, " KO_NAME " &amp; co."));
    decoded_free(&d);
    free(msg);
    /* A status change keeps the built-in wording. */
    c.event = "credential.revoked";
    msg = compose(&env, &c, &len);
    decode_message(&d, msg, len);
    assert_string_equal(d.subject, "[취소] " KO_TITLE " 인증서가 취소되었습니다 (" NUMBER ")");
    assert_null(strstr(d.text, "Well done"));
    decoded_free(&d);
    free(msg);
    /* Only the five fields may be named. */
    c.event = "credential.issued";
    c.custom_message[1] = "Because {reason}";
    assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    c.custom_message[1] = "{unclosed";
    assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_mail_template_check("{url} } {number}", "x", &eb), CA_OK);
    assert_int_equal(ca_mail_template_check("{Name}", "x", &eb), CA_ERR_INVALID);
}

static void test_page_url_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        NULL, "", "javascript:alert(1)", "ftp://credanchor.example/c/1", "https://",
        "https:///c/1", "//credanchor.example/c/1", "https://credanchor.example/c/1 x",
        "https://credanchor.example/c/\"1", "https://credanchor.example/c/<1>",
        "https://credanchor.example/c/1\r\nBcc: evil@x", "data:text/html,<script>",
        "https://credanchor.example/c/\xed\x99\x8d", "https://credanchor.example/{1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content("en", "credential.issued");
        c.page_url = bad[i];
        if (compose_rc(&env, &c) != CA_ERR_INVALID)
            fail_msg("accepted page URL %zu", i);
    }
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("en", "credential.issued");
    c.page_url = "http://127.0.0.1:8080/c/1";
    assert_int_equal(compose_rc(&env, &c), CA_OK);
    c.page_url = "HTTPS://Credanchor.Example/c/1#top";
    assert_int_equal(compose_rc(&env, &c), CA_OK);
}

static void test_attachment(void **state)
{
    (void)state;
    size_t n = 100003; /* not a multiple of 3 or 57 */
    uint8_t *pdf = malloc(n);
    assert_non_null(pdf);
    memcpy(pdf, "%PDF-1.7\n", 9);
    for (size_t i = 9; i < n; i++)
        pdf[i] = (uint8_t)(i * 2654435761u >> 13);
    ca_mail_envelope env = envelope();
    env.attachment = pdf;
    env.attachment_len = n;
    env.attachment_name = NUMBER ".pdf";
    ca_mail_content c = content("ko,en", "credential.issued");
    size_t len;
    char *msg = compose(&env, &c, &len);
    dump("attachment.eml", msg, len);
    check_lines(msg, len, 78); /* every line, bodies included */
    decoded d;
    decode_message(&d, msg, len);
    assert_int_equal(d.pdf_len, n);
    assert_memory_equal(d.pdf, pdf, n);
    assert_string_equal(d.pdf_headers, "Content-Type: application/pdf;\r\n name=\"" NUMBER
                                       ".pdf\"\r\nContent-Disposition: attachment;\r\n "
                                       "filename=\"" NUMBER ".pdf\"\r\n"
                                       "Content-Transfer-Encoding: base64\r\n");
    assert_non_null(strstr(d.text, "\r\n" URL "\r\n"));
    assert_non_null(strstr(d.html, "href=\"" URL "\""));
    decoded_free(&d);
    free(msg);

    /* A Korean name: RFC 2231 percent-encoding; a long one in continuations; a path is cut
     * to a name. */
    env.attachment_name = "수료증.pdf";
    msg = compose(&env, &c, &len);
    check_lines(msg, len, 78);
    decode_message(&d, msg, len);
    assert_string_equal(d.pdf_headers, "Content-Type: application/pdf\r\n"
                                       "Content-Disposition: attachment;\r\n"
                                       " filename*=UTF-8''%EC%88%98%EB%A3%8C%EC%A6%9D.pdf\r\n"
                                       "Content-Transfer-Encoding: base64\r\n");
    decoded_free(&d);
    free(msg);
    env.attachment_name = "../정보보안 인식 교육 2026 수료증 - 홍길동.pdf";
    msg = compose(&env, &c, &len);
    dump("attachment-ko-name.eml", msg, len);
    check_lines(msg, len, 78);
    decode_message(&d, msg, len);
    assert_non_null(strstr(d.pdf_headers, "\r\n filename*0*=UTF-8''.._%EC%A0%95"));
    assert_non_null(strstr(d.pdf_headers, "\r\n filename*1*="));
    assert_null(strstr(d.pdf_headers, "%2F"));
    assert_null(strstr(d.pdf_headers, "../"));
    assert_int_equal(d.pdf_len, n);
    decoded_free(&d);
    free(msg);
    free(pdf);
}

static void test_caps(void **state)
{
    (void)state;
    char big[CA_MAIL_TEXT_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0; /* 1025 bytes */
    const char **fields[] = {NULL, NULL, NULL, NULL, NULL, NULL};
    for (int i = 0; i < 6; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content("en", "credential.revoked");
        fields[0] = &c.recipient_name;
        fields[1] = &c.achievement_name;
        fields[2] = &c.issuer_name;
        fields[3] = &c.reason;
        fields[4] = &c.signature;
        fields[5] = &env.to_name;
        *fields[i] = big;
        if (compose_rc(&env, &c) != CA_ERR_TOO_LARGE)
            fail_msg("field %d over the cap was not refused", i);
        big[CA_MAIL_TEXT_MAX] = 0; /* exactly 1024: fine */
        assert_int_equal(compose_rc(&env, &c), CA_OK);
        big[CA_MAIL_TEXT_MAX] = 'x';
    }
    uint8_t *pdf = calloc(1, CA_MAIL_ATTACHMENT_MAX + 1);
    assert_non_null(pdf);
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("en", "credential.issued");
    env.attachment = pdf;
    env.attachment_len = CA_MAIL_ATTACHMENT_MAX + 1;
    assert_int_equal(compose_rc(&env, &c), CA_ERR_TOO_LARGE);
    env.attachment_len = CA_MAIL_ATTACHMENT_MAX;
    size_t len;
    char *msg = compose(&env, &c, &len);
    assert_true(len > CA_MAIL_ATTACHMENT_MAX / 3 * 4);
    check_lines(msg, len, 78);
    free(msg);
    env.attachment_len = 0;
    assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    free(pdf);
}

static void test_invalid_utf8_and_missing_fields(void **state)
{
    (void)state;
    const char *bad_utf8[] = {"\xff", "a\xc0\xafz", "\xed\xa0\x80", "\xe0\x80\x80",
                              "\xf4\x90\x80\x80", "abc\xe2\x82"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content("en", "credential.issued");
        c.achievement_name = bad_utf8[i];
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
        c = content("en", "credential.issued");
        c.recipient_name = bad_utf8[i];
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
        c = content("en", "credential.issued");
        env.to_name = bad_utf8[i];
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    }
    /* Required: achievement, issuer, number (controls alone count as empty). */
    for (int i = 0; i < 3; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content("en", "credential.issued");
        const char **f = i == 0 ? &c.achievement_name : i == 1 ? &c.issuer_name : &c.issue_number;
        *f = NULL;
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
        *f = " \r\n\t ";
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    }
    const char *langs[] = {NULL, "", "fr", "ko,", ",ko", "ko,ko", "ko,en,ko", "ko;en", "KO",
                           "koen", "en ko"};
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content(langs[i], "credential.issued");
        if (compose_rc(&env, &c) != CA_ERR_INVALID)
            fail_msg("accepted languages %zu", i);
    }
    const char *events[] = {NULL, "", "credential.deleted", "credential.issued\r\nBcc: x",
                            "Credential.Issued"};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content("en", events[i]);
        assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
    }
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("en, ko", "credential.issued");
    assert_int_equal(compose_rc(&env, &c), CA_OK);
    env.date = -1;
    assert_int_equal(compose_rc(&env, &c), CA_ERR_INVALID);
}

/* The wording of each event, in both languages, with and without a reason. */
static void test_events(void **state)
{
    (void)state;
    const struct {
        const char *event, *langs, *reason, *subject, *text;
    } cases[] = {
        {"credential.revoked", "en", "issued in error",
         "Your certificate " KO_TITLE " has been revoked (" NUMBER ") - Reason: issued in error",
         "It is no longer valid.\r\nIssue number: " NUMBER "\r\nReason: issued in error\r\n"},
        {"credential.revoked", "ko,en", "발급 오류",
         "[취소] " KO_TITLE " 인증서가 취소되었습니다 (" NUMBER ") - 사유: 발급 오류",
         "더 이상 유효하지 않습니다.\r\n발급 번호: " NUMBER "\r\n사유: 발급 오류\r\n"},
        {"credential.suspended", "en", NULL,
         "Your certificate " KO_TITLE " has been suspended (" NUMBER ")",
         "It is not valid while suspended.\r\nIssue number: " NUMBER "\r\n\r\n"},
        {"credential.suspended", "ko", "",
         "[정지] " KO_TITLE " 인증서의 효력이 정지되었습니다 (" NUMBER ")",
         "인증서의 효력을 일시 정지했습니다."},
        {"credential.reinstated", "en,ko", "review complete",
         "Your certificate " KO_TITLE " has been reinstated (" NUMBER ") - Reason: review "
         "complete",
         "It is valid again.\r\nIssue number: " NUMBER "\r\nReason: review complete\r\n"},
        {"credential.reinstated", "ko", NULL,
         "[복원] " KO_TITLE " 인증서의 효력이 복원되었습니다 (" NUMBER ")",
         "인증서의 효력을 복원했습니다. 다시 유효합니다.\r\n"},
        /* A reason given with an issuance is not shown. */
        {"credential.issued", "en", "ignored",
         "Your certificate " KO_TITLE " has been issued (" NUMBER ")",
         "Issue number: " NUMBER "\r\n\r\nYour certificate page:\r\n" URL "\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ca_mail_envelope env = envelope();
        ca_mail_content c = content(cases[i].langs, cases[i].event);
        c.reason = cases[i].reason;
        size_t len;
        char *msg = compose(&env, &c, &len);
        if (i == 0)
            dump("revoked-en.eml", msg, len);
        decoded d;
        decode_message(&d, msg, len);
        assert_string_equal(d.subject, cases[i].subject);
        if (!strstr(d.text, cases[i].text))
            fail_msg("case %zu: text lacks %s", i, cases[i].text);
        char *ev = header(&d, "X-Credanchor-Event");
        assert_string_equal(ev, cases[i].event);
        free(ev);
        assert_null(strstr(d.text, "ignored"));
        assert_non_null(strstr(d.html, "href=\"" URL "\""));
        decoded_free(&d);
        free(msg);
    }
}

/* With no signature: the issuer and the public site (the page's scheme and authority). */
static void test_default_signature(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    ca_mail_content c = content("en", "credential.issued");
    c.signature = NULL;
    c.page_url = "https://certs.acme.example:8443/base/c/1?x=1";
    size_t len;
    char *msg = compose(&env, &c, &len);
    decoded d;
    decode_message(&d, msg, len);
    const char *sig = strstr(d.text, "\r\n-- \r\n");
    assert_non_null(sig);
    assert_string_equal(sig, "\r\n-- \r\nAcme Academy\r\nhttps://certs.acme.example:8443\r\n");
    decoded_free(&d);
    free(msg);
    /* A multi-line signature with CRLF, CR and blank trailing lines is normalised. */
    c.signature = "Acme\r\nDesk\rdesk@acme.example\n\n\n";
    msg = compose(&env, &c, &len);
    decode_message(&d, msg, len);
    sig = strstr(d.text, "\r\n-- \r\n");
    assert_string_equal(sig, "\r\n-- \r\nAcme\r\nDesk\r\ndesk@acme.example\r\n");
    decoded_free(&d);
    free(msg);
}

/* Boundaries are random per message, and the two of one message differ. */
static void test_boundaries_random(void **state)
{
    (void)state;
    ca_mail_envelope env = envelope();
    uint8_t pdf[10] = "%PDF-1.7\n";
    env.attachment = pdf;
    env.attachment_len = sizeof pdf;
    ca_mail_content c = content("en", "credential.issued");
    char *seen[4];
    for (int i = 0; i < 2; i++) {
        size_t len;
        char *msg = compose(&env, &c, &len);
        decoded d;
        decode_message(&d, msg, len);
        char *ct = header(&d, "Content-Type");
        seen[2 * i] = boundary_of(ct);
        const char *inner = strstr(msg, "Content-Type: multipart/alternative;\r\n boundary=\"");
        assert_non_null(inner);
        seen[2 * i + 1] = boundary_of(inner);
        assert_int_equal(strlen(seen[2 * i]), 36);
        free(ct);
        decoded_free(&d);
        free(msg);
    }
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            assert_string_not_equal(seen[i], seen[j]);
    for (int i = 0; i < 4; i++)
        free(seen[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issued_ko_en),
        cmocka_unit_test(test_english_only_and_plain_subject_folding),
        cmocka_unit_test(test_long_korean_subject),
        cmocka_unit_test(test_injection_in_names),
        cmocka_unit_test(test_bad_addresses_refused),
        cmocka_unit_test(test_bad_message_id_and_from_refused),
        cmocka_unit_test(test_from_parse),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_custom_wording),
        cmocka_unit_test(test_page_url_refused),
        cmocka_unit_test(test_attachment),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_invalid_utf8_and_missing_fields),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_default_signature),
        cmocka_unit_test(test_boundaries_random),
    };
    return ca_run_tests("mail_message", tests, NULL, NULL);
}
