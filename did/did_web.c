/*
 * did:web resolution (SPEC §4) per the did:web method specification
 * (https://w3c-ccg.github.io/did-method-web/):
 *  - §3.1 "Method-specific identifier": a domain name (no IP addresses), an optional port whose
 *    colon is percent-encoded as %3A, then optional path segments delimited by ':'.
 *  - §3.2.2 "Read (Resolve)": ':' -> '/', percent-decode the port colon, prepend "https://",
 *    append "/.well-known" when there is no path, then "/did.json"; GET it over HTTPS; the
 *    document's `id` must be the DID.
 *  - DID Core §3.1 "DID Syntax": idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded; no
 *    empty final segment. A DID with '/', '?' or '#' is a DID URL, not a DID: INVALID_DID here.
 *
 * Host rules (stricter than the spec, which only says "no IP addresses"): LDH labels of 1..63
 * characters not starting or ending with '-', at most 253 characters, and the last label must
 * not start with a digit. The last rule rejects every numeric host a URL parser or
 * inet_aton() would read as IPv4 ("127.0.0.1", "127.1", "0x7f.1", "2130706433", "017.0.0.1");
 * no real top-level domain starts with a digit. IPv6 literals cannot pass the character rule.
 *
 * Path segments are percent-decoded, checked, and re-encoded canonically (unreserved characters
 * as is, everything else %XX): a segment that decodes to "", "." or "..", or that contains '/',
 * '\\' or a control character, is rejected so no segment can climb out of its directory on the
 * server. The port (%3A or %3a, host part only) must be 1..65535.
 *
 * Caching: a fetched document is stored for ttl seconds, where ttl is the response's
 * Cache-Control max-age, or 300 when it sent none, clamped to [min_ttl, max_ttl] (max_ttl wins
 * if the bounds cross); no-cache / no-store arrive as max-age 0, i.e. min_ttl. A ttl of 0 is
 * not stored. noCache skips the cache read but still refreshes the entry with what it fetched.
 * document_metadata stays {} (W3C DID Resolution fields only; the node's route may add its
 * own); r->from_cache says whether the cache answered.
 */
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DID_WEB_PREFIX "did:web:"
#define DID_WEB_DEFAULT_TTL 300

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_unreserved(unsigned char c)
{
    return is_alpha((char)c) || is_digit((char)c) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Checks host (len bytes, not NUL-terminated) as a DNS name that is not an IP literal. */
static ca_err check_host(const char *host, size_t len, const char *did, ca_errbuf *eb)
{
    if (len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\" has an empty host", did);
    if (len > 253)
        return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": host longer than 253 characters",
                       did);
    size_t label = 0, last_start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || host[i] == '.') {
            if (label == 0 || label > 63)
                return ca_fail(eb, CA_ERR_INVALID,
                               "did:web \"%s\": host has an empty or over-long label", did);
            if (host[i - 1] == '-' || host[i - label] == '-')
                return ca_fail(eb, CA_ERR_INVALID,
                               "did:web \"%s\": a host label starts or ends with '-'", did);
            if (i < len)
                last_start = i + 1;
            label = 0;
            continue;
        }
        char c = host[i];
        if (c == '%')
            return ca_fail(eb, CA_ERR_INVALID,
                           "did:web \"%s\": only %%3A (the port) may be percent-encoded in the "
                           "host",
                           did);
        if (!(is_alpha(c) || is_digit(c) || c == '-'))
            return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": bad character '%c' in host",
                           did, c);
        label++;
    }
    if (is_digit(host[last_start]))
        return ca_fail(eb, CA_ERR_INVALID,
                       "did:web \"%s\": the host is an IP address (or reads as one); did:web "
                       "needs a domain name",
                       did);
    return CA_OK;
}

/* Appends the canonical URL form of one percent-decoded path segment. */
static ca_err append_segment(char *out, size_t cap, size_t *n, const char *seg, size_t len,
                             const char *did, ca_errbuf *eb)
{
    char dec[CA_DID_TEXT_MAX];
    size_t d = 0;
    for (size_t i = 0; i < len; i++) {
        char c = seg[i];
        if (c == '%') {
            if (i + 2 >= len)
                return ca_fail(eb, CA_ERR_INVALID,
                               "did:web \"%s\": truncated percent-encoding in the path", did);
            int h = ca_hex_digit_value(seg[i + 1]), l = ca_hex_digit_value(seg[i + 2]);
            if (h < 0 || l < 0)
                return ca_fail(eb, CA_ERR_INVALID,
                               "did:web \"%s\": bad percent-encoding in the path", did);
            dec[d++] = (char)(h * 16 + l);
            i += 2;
        } else if (is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_') {
            dec[d++] = c;
        } else {
            return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": bad character '%c' in the path",
                           did, c);
        }
    }
    if (d == 0)
        return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\" has an empty path segment", did);
    if ((d == 1 && dec[0] == '.') || (d == 2 && dec[0] == '.' && dec[1] == '.'))
        return ca_fail(eb, CA_ERR_INVALID,
                       "did:web \"%s\": path segment \"%.*s\" would leave its directory", did,
                       (int)d, dec);
    for (size_t i = 0; i < d; i++) {
        unsigned char c = (unsigned char)dec[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            return ca_fail(eb, CA_ERR_INVALID,
                           "did:web \"%s\": a path segment decodes to '/', '\\\\' or a control "
                           "character",
                           did);
    }
    if (*n + 1 >= cap)
        goto too_long;
    out[(*n)++] = '/';
    for (size_t i = 0; i < d; i++) {
        unsigned char c = (unsigned char)dec[i];
        if (is_unreserved(c)) {
            if (*n + 1 >= cap)
                goto too_long;
            out[(*n)++] = (char)c;
        } else {
            if (*n + 3 >= cap)
                goto too_long;
            static const char hex[] = "0123456789ABCDEF";
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
    out[*n] = '\0';
    return CA_OK;
too_long:
    return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": URL longer than the output buffer", did);
}

ca_err ca_did_web_url(char *out, size_t cap, const char *did, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && cap > 0 && did != NULL);
    out[0] = '\0';
    size_t dlen = strnlen(did, CA_DID_TEXT_MAX + 1);
    if (dlen > CA_DID_TEXT_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "the DID is longer than %d characters",
                       CA_DID_TEXT_MAX);
    if (strncmp(did, DID_WEB_PREFIX, strlen(DID_WEB_PREFIX)) != 0)
        return ca_fail(eb, CA_ERR_INVALID, "\"%s\" is not a did:web DID", did);
    const char *msid = did + strlen(DID_WEB_PREFIX);
    if (strpbrk(msid, "/?#"))
        return ca_fail(eb, CA_ERR_INVALID,
                       "did:web \"%s\" has a path, query or fragment: a DID URL, not a DID", did);

    /* Host part: up to the first ':'; a port follows %3A. */
    size_t part = strcspn(msid, ":");
    size_t hlen = part;
    const char *pct = NULL;
    for (size_t i = 0; i + 2 < part; i++) {
        if (msid[i] == '%' && msid[i + 1] == '3' && (msid[i + 2] == 'A' || msid[i + 2] == 'a')) {
            pct = msid + i;
            break;
        }
    }
    unsigned long port = 0;
    if (pct) {
        hlen = (size_t)(pct - msid);
        const char *p = pct + 3, *end = msid + part;
        if (p == end || end - p > 5)
            return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": bad port", did);
        for (; p < end; p++) {
            if (!is_digit(*p))
                return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": bad port", did);
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port < 1 || port > 65535)
            return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": port %lu is outside 1..65535",
                           did, port);
    }
    ca_err err = check_host(msid, hlen, did, eb);
    if (err)
        return err;

    int w = port ? snprintf(out, cap, "https://%.*s:%lu", (int)hlen, msid, port)
                 : snprintf(out, cap, "https://%.*s", (int)hlen, msid);
    if (w < 0 || (size_t)w >= cap)
        return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": URL longer than the output buffer",
                       did);
    size_t n = (size_t)w;

    const char *seg = msid + part;
    if (*seg == '\0') {
        const char *tail = "/.well-known/did.json";
        if (n + strlen(tail) >= cap)
            return ca_fail(eb, CA_ERR_INVALID,
                           "did:web \"%s\": URL longer than the output buffer", did);
        memcpy(out + n, tail, strlen(tail) + 1);
        return CA_OK;
    }
    while (*seg == ':') {
        seg++;
        size_t len = strcspn(seg, ":");
        err = append_segment(out, cap, &n, seg, len, did, eb);
        if (err) {
            out[0] = '\0';
            return err;
        }
        seg += len;
    }
    const char *tail = "/did.json";
    if (n + strlen(tail) >= cap)
        return ca_fail(eb, CA_ERR_INVALID, "did:web \"%s\": URL longer than the output buffer",
                       did);
    memcpy(out + n, tail, strlen(tail) + 1);
    return CA_OK;
}

/* Parses doc (len bytes) and checks it is a JSON object whose id is did. On success the
 * document is in r->document with its content type. */
static ca_did_error accept_document(ca_did_result *r, const char *did, const char *doc,
                                    size_t len, const char *url)
{
    json_error_t jerr;
    json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j)
        return ca_did_fail(r, CA_DID_INVALID_DID_DOCUMENT,
                           "the DID document at %s is not valid JSON: %s (line %d)", url,
                           jerr.text, jerr.line);
    if (!json_is_object(j)) {
        json_decref(j);
        return ca_did_fail(r, CA_DID_INVALID_DID_DOCUMENT,
                           "the DID document at %s is not a JSON object", url);
    }
    const char *id = ca_json_str(j, "id");
    if (!id || strcmp(id, did) != 0) {
        ca_did_fail(r, CA_DID_INVALID_DID_DOCUMENT,
                    "the DID document at %s has id \"%.200s\", not the DID \"%.200s\"", url,
                    id ? id : "(none)", did);
        json_decref(j);
        return r->error;
    }
    json_decref(r->document);
    r->document = j;
    snprintf(r->content_type, sizeof r->content_type, "%s",
             json_object_get(j, "@context") ? "application/did+ld+json"
                                            : "application/did+json");
    r->error = CA_DID_OK;
    r->detail[0] = '\0';
    return CA_DID_OK;
}

static uint64_t cache_ttl(const ca_did_web_cache *cache, long max_age)
{
    uint64_t ttl = max_age < 0 ? DID_WEB_DEFAULT_TTL : (uint64_t)max_age;
    if (ttl < cache->min_ttl)
        ttl = cache->min_ttl;
    if (ttl > cache->max_ttl)
        ttl = cache->max_ttl;
    return ttl;
}

ca_did_error ca_did_web_resolve(ca_did_result *r, const char *did, const ca_did_options *opts,
                                const ca_did_web_transport *t, const ca_did_web_cache *cache)
{
    CA_ASSERT(r != NULL && did != NULL && t != NULL && t->fetch != NULL);
    char url[CA_DID_TEXT_MAX + 64];
    ca_errbuf eb = {{0}};
    if (ca_did_web_url(url, sizeof url, did, &eb) != CA_OK)
        return ca_did_fail(r, CA_DID_INVALID_DID, "%s", eb.msg);

    bool no_cache = opts && opts->no_cache;
    if (cache && cache->get && !no_cache) {
        char *doc = NULL;
        size_t len = 0;
        if (cache->get(cache->ctx, did, &doc, &len) == CA_OK && doc) {
            ca_did_error e = accept_document(r, did, doc, len, url);
            free(doc);
            if (e == CA_DID_OK) {
                r->from_cache = true;
                return CA_DID_OK;
            }
            /* A cached entry that no longer checks out is ignored: fetch afresh. */
            r->error = CA_DID_OK;
            r->detail[0] = '\0';
        } else {
            free(doc);
        }
    }

    char *body = NULL;
    size_t body_len = 0;
    long status = 0, max_age = -1;
    eb.msg[0] = '\0';
    ca_err err = t->fetch(t->ctx, url, &body, &body_len, &status, &max_age, &eb);
    if (err != CA_OK) {
        free(body);
        return ca_did_fail(r, CA_DID_NOT_FOUND, "%s", ca_errmsg(&eb, err));
    }
    if (status == 404 || status == 410) {
        free(body);
        return ca_did_fail(r, CA_DID_NOT_FOUND, "the host has no DID document at %s (HTTP %ld)",
                           url, status);
    }
    if (status != 200) {
        free(body);
        return ca_did_fail(r, CA_DID_NOT_FOUND,
                           "the host answered HTTP %ld, not 200, for %s", status, url);
    }
    ca_did_error e = accept_document(r, did, body ? body : "", body ? body_len : 0, url);
    if (e == CA_DID_OK && cache && cache->put) {
        uint64_t ttl = cache_ttl(cache, max_age);
        if (ttl > 0)
            (void)cache->put(cache->ctx, did, body, body_len, ttl); /* best effort */
    }
    free(body);
    r->from_cache = false;
    return e;
}
