/* Unit tests for node/http_response.c: the extra headers of a response
 * (ca_http_response_add_header, include/credanchor/http.h) and the MHD response the server
 * builds from a handler's answer (ca_http_mhd_response), checked header by header without a
 * socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/http_response.h"

/* Counts the headers named name (case-insensitive) and keeps the last value. */
typedef struct header_count {
    const char *name;
    size_t n;
    const char *value;
} header_count;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    header_count *hc = cls;
    (void)kind;
    if (strcasecmp(key, hc->name) == 0) {
        hc->n++;
        hc->value = value;
    }
    return MHD_YES;
}

static size_t headers_named(struct MHD_Response *r, const char *name, const char **value)
{
    header_count hc = {name, 0, NULL};
    MHD_get_response_headers(r, count_header, &hc);
    if (value)
        *value = hc.value;
    return hc.n;
}

static void expect_one(struct MHD_Response *r, const char *name, const char *want)
{
    const char *v = NULL;
    assert_int_equal(headers_named(r, name, &v), 1);
    assert_string_equal(v, want);
}

/* A JSON answer on a public route: the default headers, and nothing optional. */
static void test_defaults(void **state)
{
    (void)state;
    ca_http_response resp = {0};
    ca_http_reply_text(&resp, 200, "application/json", "{}", 2);
    struct MHD_Response *r = ca_http_mhd_response(&resp, false, false);
    assert_non_null(r);
    expect_one(r, "Content-Type", "application/json");
    expect_one(r, "Cache-Control", "no-cache");
    expect_one(r, "X-Content-Type-Options", "nosniff");
    expect_one(r, "Referrer-Policy", "no-referrer");
    expect_one(r, "Content-Security-Policy", "default-src 'none'");
    const char *absent[] = {"Allow", "WWW-Authenticate", "ETag", "Link", "Content-Disposition",
                            "Retry-After", "Connection"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        assert_int_equal(headers_named(r, absent[i], NULL), 0);
    MHD_destroy_response(r);
}

/* Cache-Control: no-store on role routes and errors, the handler's own value when set; the
 * optional fields each give their header; Connection: close while the server stops. */
static void test_fields(void **state)
{
    (void)state;
    ca_http_response resp = {0};
    ca_http_problem(&resp, 429, "slow down");
    resp.retry_after = 7;
    snprintf(resp.allow, sizeof resp.allow, "GET, HEAD");
    resp.www_authenticate = "Bearer realm=\"credanchor\"";
    snprintf(resp.etag, sizeof resp.etag, "\"abc\"");
    snprintf(resp.link, sizeof resp.link, "</v1/x?page=2>; rel=\"next\"");
    snprintf(resp.content_disposition, sizeof resp.content_disposition,
             "attachment; filename=\"a.csv\"");
    struct MHD_Response *r = ca_http_mhd_response(&resp, false, true);
    assert_non_null(r);
    expect_one(r, "Content-Type", "application/problem+json");
    expect_one(r, "Cache-Control", "no-store");
    expect_one(r, "Retry-After", "7");
    expect_one(r, "Allow", "GET, HEAD");
    expect_one(r, "WWW-Authenticate", "Bearer realm=\"credanchor\"");
    expect_one(r, "ETag", "\"abc\"");
    expect_one(r, "Link", "</v1/x?page=2>; rel=\"next\"");
    expect_one(r, "Content-Disposition", "attachment; filename=\"a.csv\"");
    expect_one(r, "Connection", "close");
    MHD_destroy_response(r);

    ca_http_response ok = {0};
    ca_http_reply_text(&ok, 200, "text/plain; charset=utf-8", "x", 1);
    r = ca_http_mhd_response(&ok, true, false);
    assert_non_null(r);
    expect_one(r, "Cache-Control", "no-store");
    expect_one(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_destroy_response(r);

    ca_http_response cached = {0};
    ca_http_reply_text(&cached, 200, NULL, "x", 1);
    cached.cache_control = "public, max-age=60";
    r = ca_http_mhd_response(&cached, false, false);
    assert_non_null(r);
    expect_one(r, "Cache-Control", "public, max-age=60");
    expect_one(r, "Content-Type", "application/json"); /* the default type */
    MHD_destroy_response(r);
}

/* A page's own Content-Security-Policy replaces the default one: exactly one policy goes out.
 * Other extra headers go out as given. */
static void test_own_csp(void **state)
{
    (void)state;
    ca_http_response resp = {0};
    ca_http_reply_text(&resp, 200, "text/html; charset=utf-8", "<p>", 3);
    const char *csp = "default-src 'none'; style-src 'self'; img-src 'self' data:";
    assert_int_equal(ca_http_response_add_header(&resp, "content-security-policy", csp), CA_OK);
    assert_int_equal(ca_http_response_add_header(&resp, "X-Frame-Options", "DENY"), CA_OK);
    struct MHD_Response *r = ca_http_mhd_response(&resp, false, false);
    assert_non_null(r);
    expect_one(r, "Content-Security-Policy", csp);
    expect_one(r, "X-Frame-Options", "DENY");
    expect_one(r, "Referrer-Policy", "no-referrer");
    MHD_destroy_response(r);
}

/* Names must be tokens, values free of CR/LF and other controls; the headers with a field of
 * their own or owned by the server are refused; a name once; at most
 * CA_HTTP_EXTRA_HEADERS_MAX; sizes capped. A refused header leaves the response as it was. */
static void test_add_header_validation(void **state)
{
    (void)state;
    ca_http_response resp = {0};
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", "a\r\nSet-Cookie: x=1"),
                     CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", "a\nb"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", "a\rb"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", "a\x01" "b"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", "a\x7f"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X-A\r\nX-B", "v"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X A", "v"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "X:A", "v"), CA_ERR_INVALID);
    assert_int_equal(ca_http_response_add_header(&resp, "", "v"), CA_ERR_INVALID);
    const char *reserved[] = {"Content-Type", "content-length", "Transfer-Encoding",
                              "Connection", "Cache-Control", "Allow", "WWW-Authenticate",
                              "ETag", "Link", "Content-Disposition", "Retry-After", "Date"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        assert_int_equal(ca_http_response_add_header(&resp, reserved[i], "v"), CA_ERR_INVALID);
    assert_int_equal(resp.nextra, 0);

    char long_name[CA_HTTP_HEADER_NAME_MAX + 1];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(ca_http_response_add_header(&resp, long_name, "v"), CA_ERR_TOO_LARGE);
    long_name[CA_HTTP_HEADER_NAME_MAX - 1] = '\0'; /* the longest that fits */
    char *long_value = malloc(CA_HTTP_HEADER_VALUE_MAX + 1);
    assert_non_null(long_value);
    memset(long_value, 'v', CA_HTTP_HEADER_VALUE_MAX);
    long_value[CA_HTTP_HEADER_VALUE_MAX] = '\0';
    assert_int_equal(ca_http_response_add_header(&resp, "X-A", long_value), CA_ERR_TOO_LARGE);
    long_value[CA_HTTP_HEADER_VALUE_MAX - 1] = '\0';
    assert_int_equal(ca_http_response_add_header(&resp, long_name, long_value), CA_OK);
    free(long_value);
    assert_int_equal(ca_http_response_add_header(&resp, "X-Tab", "a\tb c"), CA_OK);
    assert_int_equal(ca_http_response_add_header(&resp, "x-tab", "again"), CA_ERR_EXISTS);
    assert_int_equal(ca_http_response_add_header(&resp, "X-Empty", ""), CA_OK);
    assert_int_equal(ca_http_response_add_header(&resp, "X-4", "4"), CA_OK);
    assert_int_equal(resp.nextra, CA_HTTP_EXTRA_HEADERS_MAX);
    assert_int_equal(ca_http_response_add_header(&resp, "X-5", "5"), CA_ERR_TOO_LARGE);
    assert_int_equal(resp.nextra, CA_HTTP_EXTRA_HEADERS_MAX);
    assert_string_equal(resp.extra[1].value, "a\tb c");
}

/* A streamed body passes to the response: stream_free runs once, when it is destroyed. */
static int freed;

static ssize_t one_chunk(void *ctx, char *buf, size_t max)
{
    (void)ctx;
    (void)buf;
    (void)max;
    return 0;
}

static void count_free(void *ctx)
{
    (void)ctx;
    freed++;
}

static void test_stream(void **state)
{
    (void)state;
    freed = 0;
    ca_http_response resp = {0};
    ca_http_reply_stream(&resp, 200, "text/csv", one_chunk, count_free, NULL);
    struct MHD_Response *r = ca_http_mhd_response(&resp, true, false);
    assert_non_null(r);
    assert_null(resp.stream);
    expect_one(r, "Content-Type", "text/csv");
    assert_int_equal(freed, 0);
    MHD_destroy_response(r);
    assert_int_equal(freed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_own_csp),
        cmocka_unit_test(test_add_header_validation),
        cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
