/* did:web identifiers from URLs (did:web method spec, "Create (Register)": the host, a port
 * as "%3A<port>", each path segment after ':'; the document then lives at
 * https://<host>[:port]/<path>/did.json, or /.well-known/did.json without a path). */
#include "credanchor/did.h"
#include "credanchor/encoding.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The part after "http://" or "https://" (either case, RFC 3986 §3.1), or NULL. */
static const char *after_scheme(const char *url, bool *https)
{
    if (strncasecmp(url, "https://", 8) == 0) {
        *https = true;
        return url + 8;
    }
    if (strncasecmp(url, "http://", 7) == 0) {
        *https = false;
        return url + 7;
    }
    return NULL;
}

static bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

/* RFC 1123 §2.1 labels: 1 to 63 letters, digits and hyphens, no hyphen at either end. */
static ca_err check_labels(const char *host, ca_errbuf *eb)
{
    const char *label = host;
    for (;;) {
        size_t n = strcspn(label, ".");
        if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
            return ca_fail(eb, CA_ERR_INVALID, "host name \"%.200s\" has an empty, over-long "
                           "or hyphen-edged label", host);
        if (label[n] == '\0')
            return CA_OK;
        label += n + 1;
    }
}

ca_err ca_host_to_ascii(char *out, size_t cap, const char *host, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(out && cap && host);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        ascii = ascii && (unsigned char)host[i] < 0x80;
    if (ascii) {
        if (len >= cap)
            return ca_fail(eb, CA_ERR_TOO_LARGE, "host name is too long");
        for (size_t i = 0; i < len; i++) {
            if (!is_ldh(host[i]))
                return ca_fail(eb, CA_ERR_INVALID, "bad character '%c' in host name",
                               host[i] >= 0x20 && host[i] < 0x7f ? host[i] : '?');
            out[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
        }
        out[len] = '\0';
        return check_labels(out, eb);
    }
    /* An IDN: did:web names the DNS (and TLS certificate) form, the A-label (RFC 5890),
     * computed per IDNA2008 with the UTS #46 mapping (lower-casing, NFC) browsers use. */
    char u8[256];
    if (len >= sizeof u8)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "host name is too long");
    memcpy(u8, host, len);
    u8[len] = '\0';
    char *alabel = NULL;
    int rc = idn2_to_ascii_8z(u8, &alabel, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        return ca_fail(eb, CA_ERR_INVALID, "host name is not a valid internationalized domain "
                       "name: %s", idn2_strerror(rc));
    size_t n = strlen(alabel);
    ca_err err = CA_OK;
    if (n >= cap)
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "host name is too long");
    else
        memcpy(out, alabel, n + 1);
    idn2_free(alabel);
    return err ? err : check_labels(out, eb);
}

/* Host, port (0 when absent) and where the path starts, for ca_url_host_port and
 * ca_did_web_from_url. A base URL has no user information, query or fragment. */
static ca_err split_url(char *host, size_t host_cap, unsigned *port, bool *https,
                        const char **path, const char *url, ca_errbuf *eb)
{
    const char *p = after_scheme(url, https);
    if (!p)
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\" is not http:// or https://", url);
    if (strpbrk(url, "?#"))
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\" has a query or fragment; a base URL "
                       "has neither", url);
    size_t auth = strcspn(p, "/");
    if (memchr(p, '@', auth))
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\" has user information", url);
    const char *colon = memchr(p, ':', auth);
    size_t hlen = colon ? (size_t)(colon - p) : auth;
    if (hlen == 0)
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\" has no host", url);
    ca_errbuf heb = {{0}};
    if (ca_host_to_ascii(host, host_cap, p, hlen, &heb))
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\": %s", url, heb.msg);
    *port = 0;
    if (colon) {
        unsigned v = 0;
        size_t digits = 0;
        const char *d = colon + 1;
        for (; d < p + auth && *d >= '0' && *d <= '9' && digits < 6; d++, digits++)
            v = v * 10 + (unsigned)(*d - '0');
        if (digits == 0 || v == 0 || v > 65535 || d != p + auth)
            return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\": bad port", url);
        *port = v;
    }
    *path = p + auth;
    return CA_OK;
}

ca_err ca_url_host_port(char *host, size_t host_cap, unsigned *port, const char *url,
                        ca_errbuf *eb)
{
    CA_ASSERT(host && port && url);
    bool https;
    const char *path;
    return split_url(host, host_cap, port, &https, &path, url, eb);
}

/* DID Core §3.1 idchar: ALPHA / DIGIT / "." / "-" / "_" (and pct-encoded). */
static bool is_idchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* Appends one path segment as ":" + the segment, with every byte outside idchar (and not
 * already a %XX escape) percent-encoded, so the DID is valid DID syntax and maps back to the
 * same path (did:web "Read": each ':'-separated part is percent-decoded into a segment). */
static ca_err append_segment(char *out, size_t cap, size_t *n, const char *seg, size_t len,
                             const char *url, ca_errbuf *eb)
{
    if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
        return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\": a \".\" or \"..\" path segment",
                       url);
    static const char hexd[] = "0123456789ABCDEF";
    size_t o = *n;
    if (o + 1 >= cap)
        goto too_long;
    out[o++] = ':';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        bool escape = c == '%' && i + 2 < len && ca_hex_digit_value(seg[i + 1]) >= 0 &&
                      ca_hex_digit_value(seg[i + 2]) >= 0;
        if (is_idchar(c) || escape) {
            if (o + 1 >= cap)
                goto too_long;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= cap)
                goto too_long;
            out[o++] = '%';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
    }
    out[o] = '\0';
    *n = o;
    return CA_OK;
too_long:
    return ca_fail(eb, CA_ERR_TOO_LARGE, "did:web for \"%.200s\" is too long", url);
}

ca_err ca_did_web_from_url(char *out, size_t cap, const char *url, ca_errbuf *eb)
{
    CA_ASSERT(out && cap && url);
    char host[256];
    unsigned port;
    bool https;
    const char *path;
    ca_err err = split_url(host, sizeof host, &port, &https, &path, url, eb);
    if (err)
        return err;
    /* did:web always resolves over HTTPS, so https's default port 443 is no part of the
     * DID: https://example.com:443 is did:web:example.com, as https://example.com is. */
    if (https && port == 443)
        port = 0;
    size_t n = port ? (size_t)snprintf(out, cap, "did:web:%s%%3A%u", host, port)
                    : (size_t)snprintf(out, cap, "did:web:%s", host);
    if (n >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "did:web for \"%.200s\" is too long", url);
    /* Path segments become ':'-separated; a trailing '/' (or a bare "/") adds nothing. */
    while (*path == '/') {
        const char *seg = path + 1;
        size_t len = strcspn(seg, "/");
        if (len == 0) {
            if (seg[0] == '\0')
                break;
            return ca_fail(eb, CA_ERR_INVALID, "url \"%.200s\" has an empty path segment "
                           "(\"//\")", url);
        }
        if ((err = append_segment(out, cap, &n, seg, len, url, eb)))
            return err;
        path = seg + len;
    }
    return CA_OK;
}
