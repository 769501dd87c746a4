/* did:web: the DID -> URL mapping (did:web method spec §3.2.2 examples and negatives) and
 * ca_did_web_resolve over an injected fake transport and in-memory cache (no network). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "testutil.h"

#include "credanchor/did.h"
#include "credanchor/did_resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- URL mapping ---- */

static void test_url_mapping(void **state)
{
    (void)state;
    static const struct {
        const char *did, *url;
    } ok[] = {
        /* the spec's examples */
        {"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"},
        {"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"},
        {"did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"},
        /* more */
        {"did:web:example.com", "https://example.com/.well-known/did.json"},
        {"did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"},
        {"did:web:localhost%3A1", "https://localhost:1/.well-known/did.json"},
        {"did:web:localhost%3A65535:a", "https://localhost:65535/a/did.json"},
        {"did:web:Example.COM:A_b-c.d", "https://Example.COM/A_b-c.d/did.json"},
        {"did:web:a.b.c.example:x:y:z", "https://a.b.c.example/x/y/z/did.json"},
        {"did:web:example.com:%7Euser", "https://example.com/~user/did.json"},
        {"did:web:example.com:a%20b", "https://example.com/a%20b/did.json"},
        {"did:web:example.com:%c3%a9", "https://example.com/%C3%A9/did.json"},
        {"did:web:example.com:...", "https://example.com/.../did.json"},
        {"did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"},
        {"did:web:1.example.com", "https://1.example.com/.well-known/did.json"},
        {"did:web:localhost", "https://localhost/.well-known/did.json"},
        {"did:web:example.com:a%3A80", "https://example.com/a%3A80/did.json"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char url[CA_DID_TEXT_MAX + 64];
        ca_errbuf eb = {{0}};
        ca_err err = ca_did_web_url(url, sizeof url, ok[i].did, &eb);
        if (err)
            fail_msg("%s: %s", ok[i].did, eb.msg);
        assert_string_equal(url, ok[i].url);
    }
}

/* URL -> did:web (the node's own DID from node.public_url; issue #12: every https:// URL
 * gave did:web:<host>:<host>). Each DID maps back, by ca_did_web_url, to the document URL
 * the did:web spec gives for it. */
static void test_did_from_url(void **state)
{
    (void)state;
    static const struct {
        const char *url, *did, *doc_url;
    } ok[] = {
        /* the did:web spec's examples */
        {"https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io",
         "https://w3c-ccg.github.io/.well-known/did.json"},
        {"https://w3c-ccg.github.io/user/alice", "did:web:w3c-ccg.github.io:user:alice",
         "https://w3c-ccg.github.io/user/alice/did.json"},
        {"https://example.com:3000", "did:web:example.com%3A3000",
         "https://example.com:3000/.well-known/did.json"},
        {"https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice",
         "https://example.com:3000/user/alice/did.json"},
        /* http and https alike (the scan once skipped strlen("http://") for both) */
        {"https://issuer.example.org", "did:web:issuer.example.org",
         "https://issuer.example.org/.well-known/did.json"},
        {"http://issuer.example.org", "did:web:issuer.example.org",
         "https://issuer.example.org/.well-known/did.json"},
        {"http://localhost:8080", "did:web:localhost%3A8080",
         "https://localhost:8080/.well-known/did.json"},
        {"https://localhost:8443", "did:web:localhost%3A8443",
         "https://localhost:8443/.well-known/did.json"},
        {"https://a.example:8443/x", "did:web:a.example%3A8443:x",
         "https://a.example:8443/x/did.json"},
        /* https's default port is no part of the DID */
        {"https://issuer.example.org:443", "did:web:issuer.example.org",
         "https://issuer.example.org/.well-known/did.json"},
        {"http://issuer.example.org:443", "did:web:issuer.example.org%3A443",
         "https://issuer.example.org:443/.well-known/did.json"},
        /* paths and trailing slashes */
        {"https://issuer.example.org/", "did:web:issuer.example.org",
         "https://issuer.example.org/.well-known/did.json"},
        {"https://issuer.example.org/credanchor", "did:web:issuer.example.org:credanchor",
         "https://issuer.example.org/credanchor/did.json"},
        {"https://issuer.example.org/credanchor/", "did:web:issuer.example.org:credanchor",
         "https://issuer.example.org/credanchor/did.json"},
        {"https://issuer.example.org/a/b/c", "did:web:issuer.example.org:a:b:c",
         "https://issuer.example.org/a/b/c/did.json"},
        {"http://localhost:8080/base/", "did:web:localhost%3A8080:base",
         "https://localhost:8080/base/did.json"},
        /* upper case: scheme and host are case-insensitive (RFC 3986 §3.1, §3.2.2); the
         * path is not */
        {"HTTPS://Issuer.Example.ORG/Base", "did:web:issuer.example.org:Base",
         "https://issuer.example.org/Base/did.json"},
        {"Http://LOCALHOST:8080", "did:web:localhost%3A8080",
         "https://localhost:8080/.well-known/did.json"},
        /* IDNs: the A-label (punycode) form */
        {"https://b\xc3\xbc" "cher.example", "did:web:xn--bcher-kva.example",
         "https://xn--bcher-kva.example/.well-known/did.json"},
        {"https://B\xc3\x9c" "CHER.example:8443/p", "did:web:xn--bcher-kva.example%3A8443:p",
         "https://xn--bcher-kva.example:8443/p/did.json"},
        {"https://xn--bcher-kva.example", "did:web:xn--bcher-kva.example",
         "https://xn--bcher-kva.example/.well-known/did.json"},
        /* path bytes outside DID Core idchar are percent-encoded; escapes are kept */
        {"https://example.com/~user", "did:web:example.com:%7Euser",
         "https://example.com/~user/did.json"},
        {"https://example.com/a%20b", "did:web:example.com:a%20b",
         "https://example.com/a%20b/did.json"},
        {"https://example.com/a:b", "did:web:example.com:a%3Ab",
         "https://example.com/a%3Ab/did.json"},
        {"https://example.com/caf\xc3\xa9", "did:web:example.com:caf%C3%A9",
         "https://example.com/caf%C3%A9/did.json"},
        {"https://example.com/A_b-c.d", "did:web:example.com:A_b-c.d",
         "https://example.com/A_b-c.d/did.json"},
        {"https://example.com/100%", "did:web:example.com:100%25",
         "https://example.com/100%25/did.json"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char did[CA_DID_TEXT_MAX], url[CA_DID_TEXT_MAX + 64];
        ca_errbuf eb = {{0}};
        if (ca_did_web_from_url(did, sizeof did, ok[i].url, &eb))
            fail_msg("%s: %s", ok[i].url, eb.msg);
        if (strcmp(did, ok[i].did) != 0)
            fail_msg("%s: got %s, want %s", ok[i].url, did, ok[i].did);
        if (ca_did_web_url(url, sizeof url, did, &eb))
            fail_msg("%s -> %s does not map back: %s", ok[i].url, did, eb.msg);
        if (strcmp(url, ok[i].doc_url) != 0)
            fail_msg("%s -> %s -> %s, want %s", ok[i].url, did, url, ok[i].doc_url);
    }

    static const struct {
        const char *url, *why;
    } bad[] = {
        {"https://issuer.example.org?x=1", "query or fragment"},
        {"https://issuer.example.org/base?x=1", "query or fragment"},
        {"https://issuer.example.org#frag", "query or fragment"},
        {"https://issuer.example.org/#", "query or fragment"},
        {"ftp://issuer.example.org", "not http:// or https://"},
        {"issuer.example.org", "not http:// or https://"},
        {"https://", "no host"},
        {"https://:8443", "no host"},
        {"https://user@issuer.example.org", "user information"},
        {"https://issuer.example.org:0", "bad port"},
        {"https://issuer.example.org:65536", "bad port"},
        {"https://issuer.example.org:", "bad port"},
        {"https://issuer.example.org:80a", "bad port"},
        {"https://[::1]:8443", "bad character"},
        {"https://exa_mple.org", "bad character"},
        {"https://issuer.example.org//x", "empty path segment"},
        {"https://issuer.example.org/a/../b", "\"..\""},
        {"https://issuer.example.org/./b", "\".\""},
        {"https://.example", "empty"},
        {"https://a..example", "empty"},
        {"https://-a.example", "hyphen"},
        {"https://\xe2\x80\x8b.example", "empty"},  /* U+200B is dropped by UTS #46 */
        {"https://a\xe2\x98\x83.example", "internationalized"},  /* U+2603 is disallowed */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char did[CA_DID_TEXT_MAX];
        ca_errbuf eb = {{0}};
        ca_err err = ca_did_web_from_url(did, sizeof did, bad[i].url, &eb);
        if (err != CA_ERR_INVALID || !strstr(eb.msg, bad[i].why))
            fail_msg("%s: want CA_ERR_INVALID with [%s], got %d [%s]", bad[i].url, bad[i].why,
                     err, eb.msg);
    }
    /* Too small an output buffer is an error, never a cut DID. */
    char small[24];
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_did_web_from_url(small, sizeof small,
                                         "https://issuer.example.org/credanchor", &eb),
                     CA_ERR_TOO_LARGE);
}

static void test_url_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "did:web:",                         /* empty host */
        "did:web:%3A443",                   /* empty host with port */
        "did:key:z6Mkexample",              /* not did:web */
        "DID:WEB:example.com",              /* scheme and method are lower case */
        "did:web",                          /* no method-specific id */
        "did:web:127.0.0.1",                /* IPv4 */
        "did:web:127.0.0.1%3A8443",
        "did:web:127.1",                    /* short IPv4 forms */
        "did:web:0x7f.1",
        "did:web:0x7f000001",
        "did:web:2130706433",               /* decimal IPv4 */
        "did:web:017.0.0.1",                /* octal */
        "did:web:10.0.0.1:user",
        "did:web:[::1]",                    /* IPv6 in any form */
        "did:web:%5B%3A%3A1%5D",
        "did:web:::1",
        "did:web:fe80::1",
        "did:web:exa_mple.com",             /* bad host characters */
        "did:web:exa%2Emple.com",
        "did:web:example.com%2F",
        "did:web:-example.com",
        "did:web:example-.com",
        "did:web:example..com",
        "did:web:.example.com",
        "did:web:example.com.",
        "did:web:ex ample.com",
        "did:web:user@example.com",
        "did:web:example.com:",             /* empty path segments */
        "did:web:example.com::a",
        "did:web:example.com:a::b",
        "did:web:example.com:..",           /* traversal */
        "did:web:example.com:.",
        "did:web:example.com:a:..:b",
        "did:web:example.com:%2e%2e",
        "did:web:example.com:%2E",
        "did:web:example.com:a%2Fb",        /* a '/' or '\' smuggled into a segment */
        "did:web:example.com:%2F..",
        "did:web:example.com:a%5Cb",
        "did:web:example.com:a%00",
        "did:web:example.com:a%",           /* bad percent-encodings */
        "did:web:example.com:a%4",
        "did:web:example.com:a%zz",
        "did:web:example.com:a~b",          /* not an idchar */
        "did:web:example.com%3A0",          /* ports */
        "did:web:example.com%3A65536",
        "did:web:example.com%3A100000",
        "did:web:example.com%3A",
        "did:web:example.com%3Ax",
        "did:web:example.com%3A-1",
        "did:web:example.com%3A80%3A90",
        "did:web:example.com?query=1",      /* query / fragment / path */
        "did:web:example.com#key-1",
        "did:web:example.com/path",
        "did:web:example.com:a?x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char url[CA_DID_TEXT_MAX + 64];
        ca_errbuf eb = {{0}};
        ca_err err = ca_did_web_url(url, sizeof url, bad[i], &eb);
        if (err != CA_ERR_INVALID)
            fail_msg("%s: accepted as %s", bad[i], url);
        assert_true(eb.msg[0] != '\0');
        assert_null(strchr(eb.msg, '\n'));
    }
}

static void test_url_lengths(void **state)
{
    (void)state;
    char did[CA_DID_TEXT_MAX + 16];
    char url[CA_DID_TEXT_MAX + 64];
    ca_errbuf eb;
    /* exactly CA_DID_TEXT_MAX: accepted */
    strcpy(did, "did:web:example.com:");
    size_t n = strlen(did);
    memset(did + n, 'a', CA_DID_TEXT_MAX - n);
    did[CA_DID_TEXT_MAX] = '\0';
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_OK);
    /* one more: refused */
    did[CA_DID_TEXT_MAX] = 'a';
    did[CA_DID_TEXT_MAX + 1] = '\0';
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_ERR_INVALID);
    /* a 64-character label and a 254-character host are refused */
    char host[300];
    memset(host, 'a', 64);
    strcpy(host + 64, ".com");
    snprintf(did, sizeof did, "did:web:%s", host);
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_ERR_INVALID);
    snprintf(did, sizeof did, "did:web:%.63s.com", host);
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_OK);
    /* 254 characters refused, 253 accepted */
    char l63[64];
    memset(l63, 'b', 63);
    l63[63] = '\0';
    snprintf(did, sizeof did, "did:web:%s.%s.%s.%.62s", l63, l63, l63, l63);
    assert_int_equal(strlen(did) - 8, 254);
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_ERR_INVALID);
    snprintf(did, sizeof did, "did:web:%s.%s.%s.%.61s", l63, l63, l63, l63);
    assert_int_equal(ca_did_web_url(url, sizeof url, did, &eb), CA_OK);
    /* a too-small output buffer is an error, not an overflow */
    char tiny[16];
    assert_int_equal(ca_did_web_url(tiny, sizeof tiny, "did:web:example.com", &eb),
                     CA_ERR_INVALID);
}

/* ---- fake transport ---- */

typedef struct fake_net {
    ca_err err;
    long status;
    long max_age;
    const char *body;
    int calls;
    char last_url[CA_DID_TEXT_MAX + 64];
} fake_net;

static ca_err fake_fetch(void *ctx, const char *url, char **body, size_t *body_len, long *status,
                         long *max_age, ca_errbuf *eb)
{
    fake_net *f = ctx;
    f->calls++;
    snprintf(f->last_url, sizeof f->last_url, "%s", url);
    if (f->err)
        return ca_fail(eb, f->err, "did:web fetch of %s failed: Couldn't connect to server", url);
    *body = strdup(f->body);
    *body_len = strlen(f->body);
    *status = f->status;
    *max_age = f->max_age;
    return CA_OK;
}

/* ---- in-memory cache (one entry) ---- */

typedef struct mem_cache {
    char did[CA_DID_TEXT_MAX + 1];
    char *doc;
    size_t len;
    uint64_t ttl;
    int gets, puts;
} mem_cache;

static ca_err mem_get(void *ctx, const char *did, char **doc, size_t *len)
{
    mem_cache *m = ctx;
    m->gets++;
    if (!m->doc || strcmp(m->did, did) != 0)
        return CA_ERR_NOT_FOUND;
    *doc = malloc(m->len + 1);
    memcpy(*doc, m->doc, m->len + 1);
    *len = m->len;
    return CA_OK;
}

static ca_err mem_put(void *ctx, const char *did, const char *doc, size_t len, uint64_t ttl)
{
    mem_cache *m = ctx;
    m->puts++;
    free(m->doc);
    snprintf(m->did, sizeof m->did, "%s", did);
    m->doc = malloc(len + 1);
    memcpy(m->doc, doc, len);
    m->doc[len] = '\0';
    m->len = len;
    m->ttl = ttl;
    return CA_OK;
}

#define DID "did:web:example.com%3A8443:user:alice"
#define DOC_LD "{\"@context\":[\"https://www.w3.org/ns/did/v1\"],\"id\":\"" DID "\"}"
#define DOC_PLAIN "{\"id\":\"" DID "\",\"verificationMethod\":[]}"

static ca_did_error resolve(ca_did_result *r, fake_net *f, mem_cache *m, bool no_cache,
                            uint64_t min_ttl, uint64_t max_ttl)
{
    ca_did_web_transport t = {fake_fetch, f};
    ca_did_web_cache c = {mem_get, mem_put, m, min_ttl, max_ttl};
    ca_did_options o;
    memset(&o, 0, sizeof o);
    o.no_cache = no_cache;
    ca_did_result_clear(r);
    return ca_did_web_resolve(r, DID, &o, &t, m ? &c : NULL);
}

static void test_resolve_ok(void **state)
{
    (void)state;
    fake_net f = {.status = 200, .max_age = -1, .body = DOC_LD};
    ca_did_result r;
    ca_did_result_init(&r);
    assert_int_equal(resolve(&r, &f, NULL, false, 0, 0), CA_DID_OK);
    assert_string_equal(f.last_url, "https://example.com:8443/user/alice/did.json");
    assert_non_null(r.document);
    assert_string_equal(json_string_value(json_object_get(r.document, "id")), DID);
    assert_string_equal(r.content_type, "application/did+ld+json");
    assert_true(json_is_object(r.document_metadata));
    assert_int_equal(json_object_size(r.document_metadata), 0);
    assert_false(r.from_cache);

    f.body = DOC_PLAIN;
    assert_int_equal(resolve(&r, &f, NULL, false, 0, 0), CA_DID_OK);
    assert_string_equal(r.content_type, "application/did+json");
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
}

static void expect_error(fake_net *f, ca_did_error want, const char *detail_part)
{
    ca_did_result r;
    ca_did_result_init(&r);
    mem_cache m = {0};
    ca_did_error e = resolve(&r, f, &m, false, 60, 3600);
    if (e != want)
        fail_msg("got %s (%s), want %s", ca_did_error_code(e), r.detail,
                 ca_did_error_code(want));
    assert_null(r.document);
    if (!strstr(r.detail, detail_part))
        fail_msg("detail \"%s\" lacks \"%s\"", r.detail, detail_part);
    assert_null(strchr(r.detail, '\n'));
    assert_int_equal(m.puts, 0); /* failures are never cached */
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
}

static void test_resolve_errors(void **state)
{
    (void)state;
    fake_net f = {.status = 404, .max_age = -1, .body = "not here"};
    expect_error(&f, CA_DID_NOT_FOUND, "the host has no DID document at https://example.com");
    f.status = 410;
    expect_error(&f, CA_DID_NOT_FOUND, "the host has no DID document at");
    f.status = 500;
    expect_error(&f, CA_DID_NOT_FOUND, "HTTP 500");
    f.status = 302;
    expect_error(&f, CA_DID_NOT_FOUND, "HTTP 302");
    f.status = 0;
    f.err = CA_ERR_NETWORK;
    expect_error(&f, CA_DID_NOT_FOUND, "Couldn't connect to server");
    f.err = CA_OK;
    f.status = 200;
    f.body = "{\"id\":\"did:web:example.com\"}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not the DID");
    f.body = "{\"id\":\"" DID ":x\"}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not the DID");
    f.body = "{\"id\":\"DID:WEB:example.com%3A8443:user:alice\"}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not the DID");
    f.body = "{\"id\":42}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not the DID");
    f.body = "{}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "(none)");
    f.body = "<html>hello</html>";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not valid JSON");
    f.body = "";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not valid JSON");
    f.body = "[{\"id\":\"" DID "\"}]";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not a JSON object");
    f.body = "\"" DID "\"";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not a JSON object");
    f.body = "{\"id\":\"" DID "\",\"id\":\"" DID "\"}";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not valid JSON");
    f.body = "{\"id\":\"" DID "\"} trailing";
    expect_error(&f, CA_DID_INVALID_DID_DOCUMENT, "not valid JSON");
}

static void test_resolve_invalid_did(void **state)
{
    (void)state;
    fake_net f = {.status = 200, .max_age = -1, .body = DOC_LD};
    ca_did_web_transport t = {fake_fetch, &f};
    ca_did_result r;
    ca_did_result_init(&r);
    assert_int_equal(ca_did_web_resolve(&r, "did:web:127.0.0.1", NULL, &t, NULL),
                     CA_DID_INVALID_DID);
    assert_int_equal(f.calls, 0);
    assert_non_null(strstr(r.detail, "IP address"));
    ca_did_result_clear(&r);
    assert_int_equal(ca_did_web_resolve(&r, "did:web:example.com:..", NULL, &t, NULL),
                     CA_DID_INVALID_DID);
    assert_int_equal(f.calls, 0);
    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
}

static void test_resolve_cache(void **state)
{
    (void)state;
    fake_net f = {.status = 200, .max_age = -1, .body = DOC_LD};
    mem_cache m = {0};
    ca_did_result r;
    ca_did_result_init(&r);

    /* miss: fetched and stored */
    assert_int_equal(resolve(&r, &f, &m, false, 60, 3600), CA_DID_OK);
    assert_int_equal(f.calls, 1);
    assert_int_equal(m.gets, 1);
    assert_int_equal(m.puts, 1);
    assert_false(r.from_cache);
    assert_string_equal(m.doc, DOC_LD);

    /* hit: no fetch */
    assert_int_equal(resolve(&r, &f, &m, false, 60, 3600), CA_DID_OK);
    assert_int_equal(f.calls, 1);
    assert_true(r.from_cache);
    assert_string_equal(json_string_value(json_object_get(r.document, "id")), DID);
    assert_string_equal(r.content_type, "application/did+ld+json");

    /* no_cache: the cache is not read, the fresh document replaces the entry */
    f.body = DOC_PLAIN;
    assert_int_equal(resolve(&r, &f, &m, true, 60, 3600), CA_DID_OK);
    assert_int_equal(f.calls, 2);
    assert_int_equal(m.gets, 2);
    assert_false(r.from_cache);
    assert_string_equal(r.content_type, "application/did+json");
    assert_string_equal(m.doc, DOC_PLAIN);

    /* a cached entry that no longer checks out is ignored and refetched */
    free(m.doc);
    m.doc = strdup("{\"id\":\"did:web:other.example\"}");
    m.len = strlen(m.doc);
    assert_int_equal(resolve(&r, &f, &m, false, 60, 3600), CA_DID_OK);
    assert_int_equal(f.calls, 3);
    assert_false(r.from_cache);
    assert_string_equal(m.doc, DOC_PLAIN);

    /* a failed fetch does not touch the entry */
    f.status = 500;
    int puts = m.puts;
    assert_int_equal(resolve(&r, &f, &m, true, 60, 3600), CA_DID_NOT_FOUND);
    assert_int_equal(m.puts, puts);

    ca_did_result_clear(&r);
    json_decref(r.document_metadata);
    free(m.doc);
}

static void test_resolve_ttl(void **state)
{
    (void)state;
    static const struct {
        long max_age;
        uint64_t min_ttl, max_ttl, want;
        int puts;
    } cases[] = {
        {-1, 60, 3600, 300, 1},    /* absent: 300 */
        {-1, 600, 3600, 600, 1},   /* absent, raised to min */
        {-1, 10, 100, 100, 1},     /* absent, capped at max */
        {0, 60, 3600, 60, 1},      /* no-cache / max-age=0: min */
        {0, 0, 3600, 0, 0},        /* ... and with min 0: not stored */
        {30, 60, 3600, 60, 1},     /* below min */
        {1200, 60, 3600, 1200, 1}, /* inside */
        {86400, 60, 3600, 3600, 1}, /* above max */
        {500, 60, 0, 0, 0},        /* max 0: caching off */
        {500, 100, 50, 50, 1},     /* crossed bounds: max wins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_net f = {.status = 200, .max_age = cases[i].max_age, .body = DOC_LD};
        mem_cache m = {0};
        ca_did_result r;
        ca_did_result_init(&r);
        assert_int_equal(resolve(&r, &f, &m, false, cases[i].min_ttl, cases[i].max_ttl),
                         CA_DID_OK);
        if (m.puts != cases[i].puts || m.ttl != cases[i].want)
            fail_msg("case %zu: puts %d ttl %llu, want %d %llu", i, m.puts,
                     (unsigned long long)m.ttl, cases[i].puts,
                     (unsigned long long)cases[i].want);
        ca_did_result_clear(&r);
        json_decref(r.document_metadata);
        free(m.doc);
    }
}

/* The curl transport refuses without any network: a non-https URL and an IP-literal host. */
static void test_curl_refuses_locally(void **state)
{
    (void)state;
    ca_did_web_curl cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout_seconds = 2;
    static const char *urls[] = {
        "http://example.com/.well-known/did.json",
        "ftp://example.com/did.json",
        "https://127.0.0.1/.well-known/did.json",
        "https://127.1/.well-known/did.json",
        "https://0x7f.1/.well-known/did.json",
        "https://2130706433/.well-known/did.json",
        "https://[::1]/.well-known/did.json",
        "not a url",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *body = NULL;
        size_t len = 0;
        long status = -5, max_age = -5;
        ca_errbuf eb = {{0}};
        ca_err err = ca_did_web_curl_fetch(&cfg, urls[i], &body, &len, &status, &max_age, &eb);
        if (err == CA_OK)
            fail_msg("%s: fetched", urls[i]);
        assert_null(body);
        assert_true(eb.msg[0] != '\0');
    }
    /* an unreadable CA file is an error, not a silent fallback */
    snprintf(cfg.ca_file, sizeof cfg.ca_file, "/nonexistent/ca.pem");
    char *body = NULL;
    size_t len = 0;
    long status, max_age;
    ca_errbuf eb = {{0}};
    assert_int_not_equal(ca_did_web_curl_fetch(&cfg, "https://example.com/.well-known/did.json",
                                               &body, &len, &status, &max_age, &eb),
                         CA_OK);
    assert_non_null(strstr(eb.msg, "/nonexistent/ca.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_mapping),
        cmocka_unit_test(test_did_from_url),
        cmocka_unit_test(test_url_invalid),
        cmocka_unit_test(test_url_lengths),
        cmocka_unit_test(test_resolve_ok),
        cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_resolve_invalid_did),
        cmocka_unit_test(test_resolve_cache),
        cmocka_unit_test(test_resolve_ttl),
        cmocka_unit_test(test_curl_refuses_locally),
    };
    return ca_run_tests("did_web", tests, NULL, NULL);
}
