/*
 * node/http_response.c — the server's side of a response: the extra headers a handler adds
 * (ca_http_response_add_header, include/credanchor/http.h) and the one function that makes
 * libmicrohttpd's response with every header the server sends (ca_http_mhd_response).
 *
 * Every response carries X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and a
 * Content-Security-Policy. The API answers JSON and text, so the default policy is
 * "default-src 'none'"; a page (an HTML response) that needs its styles or images sets its
 * own policy with ca_http_response_add_header, which then replaces the default one (never
 * two policies: a browser would enforce both, the stricter winning).
 */
#include "node/http_response.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_CSP "default-src 'none'"
#define STREAM_BLOCK (64u << 10) /* bytes asked of a stream per call */

/* ---- extra headers -------------------------------------------------------------------------- */

/* A token character (RFC 9110 §5.6.2): a header name is one or more of them. */
static bool name_char_ok(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Headers that have a field of their own in ca_http_response or that the server owns (the
 * message framing): an extra one would send the header twice or break the framing. */
static const char *const reserved_names[] = {
    "Content-Type",     "Content-Length", "Transfer-Encoding", "Connection",
    "Cache-Control",    "Allow",          "WWW-Authenticate",  "ETag",
    "Link",             "Content-Disposition", "Retry-After",  "Date",
};

ca_err ca_http_response_add_header(ca_http_response *resp, const char *name, const char *value)
{
    CA_ASSERT(resp && name && value);
    size_t nl = strlen(name), vl = strlen(value);
    if (nl == 0 || nl >= CA_HTTP_HEADER_NAME_MAX)
        return nl ? CA_ERR_TOO_LARGE : CA_ERR_INVALID;
    for (size_t i = 0; i < nl; i++)
        if (!name_char_ok((unsigned char)name[i]))
            return CA_ERR_INVALID;
    /* field-value (RFC 9110 §5.5): visible characters, SP and HTAB; CR and LF above all, which
     * would end the header and let a value write the next one (response splitting). */
    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return CA_ERR_INVALID;
    }
    if (vl >= CA_HTTP_HEADER_VALUE_MAX)
        return CA_ERR_TOO_LARGE;
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strcasecmp(name, reserved_names[i]) == 0)
            return CA_ERR_INVALID;
    for (size_t i = 0; i < resp->nextra; i++)
        if (strcasecmp(name, resp->extra[i].name) == 0)
            return CA_ERR_EXISTS;
    if (resp->nextra == CA_HTTP_EXTRA_HEADERS_MAX)
        return CA_ERR_TOO_LARGE;
    memcpy(resp->extra[resp->nextra].name, name, nl + 1);
    memcpy(resp->extra[resp->nextra].value, value, vl + 1);
    resp->nextra++;
    return CA_OK;
}

static bool has_extra(const ca_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nextra; i++)
        if (strcasecmp(resp->extra[i].name, name) == 0)
            return true;
    return false;
}

/* ---- the MHD response ----------------------------------------------------------------------- */

/* A streamed body (ca_http_reply_stream) as libmicrohttpd's content reader. */
typedef struct stream_body {
    ssize_t (*stream)(void *ctx, char *buf, size_t max);
    void (*stream_free)(void *ctx);
    void *ctx;
} stream_body;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_body *s = cls;
    (void)pos;
    ssize_t n = s->stream(s->ctx, buf, max);
    return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                              : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_done(void *cls)
{
    stream_body *s = cls;
    s->stream_free(s->ctx);
    free(s);
}

static struct MHD_Response *make_response(ca_http_response *resp)
{
    if (!resp->stream)
        return MHD_create_response_from_buffer(
            resp->body_len, resp->body ? resp->body : (char *)"",
            resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    stream_body *s = malloc(sizeof *s);
    struct MHD_Response *r = NULL;
    if (s) {
        *s = (stream_body){resp->stream, resp->stream_free, resp->stream_ctx};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s,
                                              stream_done);
    }
    if (!r) {
        resp->stream_free(resp->stream_ctx);
        free(s);
    }
    resp->stream = NULL; /* owned by the response now (or freed) */
    return r;
}

struct MHD_Response *ca_http_mhd_response(ca_http_response *resp, bool role_route, bool closing)
{
    bool streamed = resp->stream != NULL;
    struct MHD_Response *r = make_response(resp);
    if (!r) {
        if (!streamed)
            free(resp->body);
        return NULL;
    }
    bool ok = resp->status < 400;
    const char *cc = resp->cache_control
                         ? resp->cache_control
                         : (role_route || !ok) ? "no-store" : "no-cache";
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (!has_extra(resp, "Content-Security-Policy"))
        MHD_add_response_header(r, "Content-Security-Policy", DEFAULT_CSP);
    if (resp->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
    if (resp->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    if (resp->link[0])
        MHD_add_response_header(r, "Link", resp->link);
    if (resp->content_disposition[0])
        MHD_add_response_header(r, "Content-Disposition", resp->content_disposition);
    if (resp->retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    for (size_t i = 0; i < resp->nextra; i++)
        MHD_add_response_header(r, resp->extra[i].name, resp->extra[i].value);
    if (closing)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return r;
}
