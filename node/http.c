/*
 * node/http.c — the HTTP API (SPEC §3) on libmicrohttpd 0.9.75.
 *
 * Threading: MHD runs epoll in a pool of node.threads workers (0 = four per core, at least 8:
 * ca_config_http_threads); each connection lives on one worker, and handlers run on it and
 * may block (an append waits for its group commit). A handler that may wait on the network
 * (a did:web fetch, a verification's JSON-RPC read: ca_http_route.offload) runs on a small
 * offload pool instead while its connection is suspended, so a slow did:web host or RPC
 * provider never holds a worker. Everything shared
 * between workers is either read-only after start (routes, config), atomic (metrics, the
 * in-flight count) or behind striped locks (the rate limiter, node/rate_limit.c).
 *
 * Request life in the access handler (MHD calls it several times per request):
 *  1. first call, headers read: allocate the per-request state, note the start time, and
 *     decide what the headers alone decide (check_request_head): malformed framing 400/501,
 *     a path too long 414, a Content-Length over node.max_body 413, and for a request with a
 *     body the route and the bearer token (404/405/401/403 before any body byte is buffered)
 *     and its share of node.max_buffered_bodies (503). Queueing an answer before the body is
 *     consumed makes MHD close the connection, so only these answer early; a GET is routed
 *     in step 3 and keep-alive survives its 404;
 *  2. calls with *upload_data_size > 0: append to the body (capped: past node.max_body or
 *     the buffered-body budget the rest is dropped and answered 413/503 in step 3);
 *  3. the call with *upload_data_size == 0: route, rate limit, auth, Content-Type, handler,
 *     audit, then queue the response, log one line and count it in the metrics.
 * The request state is freed in the completion callback. Every connection also has a total
 * deadline for its headers and its body (conn_track_notify).
 *
 * Paths: MHD_OPTION_UNESCAPE_CALLBACK is a no-op, so the url MHD hands over is the raw path
 * (SPEC §4: /1.0/identifiers/{did} keeps a did:web's %3A). MHD still turns '+' into ' ' in
 * query arguments before that callback; ca_http_query percent-decodes the values itself.
 *
 * Errors: RFC 9457 problem+json with type "about:blank" (so title is the reason phrase) and a
 * detail sentence. Only MHD's own protocol errors (bad request line, headers over the memory
 * limit: 431, broken chunked encoding) are answered by MHD itself with its short bodies;
 * connections over node.max_connections_per_ip are closed at accept.
 */
#include "node/http.h"
#include "node/http_session.h"

#include "credanchor/encoding.h"
#include "node/log.h"
#include "node/routes_log.h"
#include "node/http_response.h"
#include "node/metrics.h"
#include "node/rate_limit.h"
#include "credanchor/proof.h"
#include "node/node_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLS_FILE_MAX (1u << 20)
#define UNMATCHED_ROUTE CA_HTTP_METRICS_UNMATCHED /* metrics slot for 404s on no route */
#define APPENDS_HELD_RETRY_AFTER_S 5 /* Retry-After of a 503 while appends are held */

typedef struct registered_route {
    const ca_http_route *r;
    void *ctx;
    char *segs[16]; /* the pattern split at '/', "{...}" kept as is */
    size_t nsegs;
    bool no_store;  /* ca_http_add_private_routes */
    size_t max_body; /* 0: node.max_body (ca_http_set_body_max) */
} registered_route;

/* One request handed to the offload threads. */
typedef struct offload_job {
    struct MHD_Connection *c;
    struct conn_req *cr;
    char *url, *method;
    uint8_t key[16];
} offload_job;

/* A connection's deadline for the phase it is in (issue 13 item 3): see conn_track_notify. */
typedef struct conn_track {
    struct conn_track *prev, *next;
    MHD_socket fd;
    _Atomic int64_t deadline_ns; /* 0 = none (the node is handling or answering a request) */
} conn_track;

#define OFFLOAD_THREADS 16 /* threads running offloaded handlers */
#define OFFLOAD_QUEUE 64   /* offloaded requests waiting for a thread; past it: 503 at once */

struct ca_http_server {
    ca_node *node;
    const ca_config *cfg;
    registered_route routes[CA_HTTP_MAX_ROUTES];
    size_t nroutes;
    ca_http_metrics *metrics; /* node/metrics.c */

    ca_rate_limit *rl; /* node/rate_limit.c */
    /* node.trusted_proxies as 16-byte addresses (IPv4 mapped into ::ffff:0:0/96). */
    uint8_t trusted[CA_CONFIG_TRUSTED_PROXIES_MAX][16];
    size_t ntrusted;

    struct MHD_Daemon *daemon;
    int listen_fd;
    char *tls_cert, *tls_key;
    size_t tls_key_len;
    _Atomic int inflight;
    _Atomic bool stopping;

    /* The offload pool (ca_http_route.offload): a few threads and a bounded queue. */
    pthread_t offload_threads[OFFLOAD_THREADS];
    size_t noffload_threads;
    pthread_mutex_t offload_lock;
    pthread_cond_t offload_cond;
    offload_job offload_queue[OFFLOAD_QUEUE];
    size_t offload_head, offload_count;
    bool offload_exit;

    /* Request bodies held in memory now, over all connections (node.max_buffered_bodies). */
    _Atomic uint64_t buffered_bytes;

    /* Live connections and their deadlines, and the thread closing the late ones. */
    pthread_mutex_t conns_lock;
    conn_track *conns;
    pthread_t sweeper;
    bool sweeper_started, sweeper_exit;
    pthread_cond_t sweeper_cond;
};

/* Per-request state (MHD's *con_cls). */
typedef struct conn_req {
    int64_t start_ns;
    char *body;
    size_t len, cap;
    bool answered;
    bool counted; /* in srv->inflight: being handled or answered, not yet completed */
    /* Offloaded (suspended) requests: the answer the offload thread made, queued when MHD
     * calls the access handler again after the resume. */
    bool offload_done;
    ca_http_response offload_resp;
    int offload_idx;
    /* Step 1 on a request with a body (issue 13 item 4): routed and authenticated on the
     * headers alone (routing_only while dispatch does just that), the checked token kept for
     * step 3, the public-route rate limit counted once. */
    bool routing_only, authenticated, rate_counted;
    ca_token_info token;
    size_t reserved;  /* bytes of node.max_buffered_bodies this body holds */
    int late_status;  /* 413 or 503 decided in the middle of a body, answered at its end */
    uint64_t max_body; /* the body cap: node.max_body, or the route's smaller max_body once
                        * step 1 routed it */
} conn_req;



static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- responses ------------------------------------------------------------------------------ */

const char *ca_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

static void set_body(ca_http_response *resp, int status, const char *ctype, char *body,
                     size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = ctype;
    resp->body = body;
    resp->body_len = len;
}

void ca_http_reply_owned(ca_http_response *resp, int status, const char *ctype, char *body,
                         size_t len)
{
    set_body(resp, status, ctype, body, len);
}

void ca_http_reply_text(ca_http_response *resp, int status, const char *ctype, const char *text,
                        size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    set_body(resp, status, ctype, copy, len);
}

void ca_http_reply_stream(ca_http_response *resp, int status, const char *ctype,
                          ssize_t (*stream)(void *ctx, char *buf, size_t max),
                          void (*stream_free)(void *ctx), void *ctx)
{
    set_body(resp, status, ctype, NULL, 0);
    resp->stream = stream;
    resp->stream_free = stream_free;
    resp->stream_ctx = ctx;
}

void ca_http_reply_json(ca_http_response *resp, int status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    set_body(resp, status, "application/json", s, strlen(s));
}

void ca_http_problem(ca_http_response *resp, int status, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* A detail may quote request bytes (a JSON parser's "near '...'", a truncated value):
     * JSON needs UTF-8, and json_pack refusing the text would turn a 400 into a 500. */
    ca_utf8_scrub(detail);
    size_t dl = strlen(detail);
    if (dl >= sizeof resp->detail)
        dl = sizeof resp->detail - 1;
    memcpy(resp->detail, detail, dl);
    resp->detail[dl] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
                          ca_http_reason(status), "status", status, "detail", detail);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) { /* a problem must always go out: fall back to a fixed text */
        static const char fixed[] = "{\"type\":\"about:blank\",\"title\":\"Internal Server "
                                    "Error\",\"status\":500,\"detail\":\"out of memory\"}";
        s = strdup(fixed);
        status = 500;
    }
    set_body(resp, status, "application/problem+json", s, s ? strlen(s) : 0);
}

void ca_http_problem_err(ca_http_response *resp, ca_err err, const ca_errbuf *eb)
{
    const char *msg = ca_errmsg(eb, err);
    switch (err) {
    case CA_ERR_INVALID:
    case CA_ERR_RANGE: ca_http_problem(resp, 400, "%s", msg); break;
    case CA_ERR_NOT_FOUND: ca_http_problem(resp, 404, "%s", msg); break;
    case CA_ERR_TOO_LARGE: ca_http_problem(resp, 413, "%s", msg); break;
    case CA_ERR_CONFLICT: ca_http_problem(resp, 409, "%s", msg); break;
    case CA_ERR_FULL: ca_http_problem(resp, 507, "the log store is full: %s", msg); break;
    case CA_ERR_INCONSISTENT:
        /* Held until the start-up gate passes (SPEC §1) or an operator acts: a client should
         * come back later, not give up (RFC 9110 §10.2.3). */
        resp->retry_after = APPENDS_HELD_RETRY_AFTER_S;
        ca_http_problem(resp, 503, "appends are refused: %s", msg);
        break;
    default:
        /* Internal detail stays in the server log. */
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "internal error: %s", ca_strerror(err));
        ca_http_problem(resp, 500, "internal error (%s)", ca_strerror(err));
    }
}

/* ---- request helpers ------------------------------------------------------------------------ */

const char *ca_http_header(const ca_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn_, MHD_HEADER_KIND, name);
}

ca_err ca_http_percent_decode(char *out, size_t cap, size_t *out_len, const char *in,
                              size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = ca_hex_digit_value(in[i + 1])) < 0 || (l = ca_hex_digit_value(in[i + 2])) < 0)
                return CA_ERR_INVALID;
            c = (char)(h * 16 + l);
            if (c == '\0')
                return CA_ERR_INVALID;
            i += 2;
        } else if (c == '\0') {
            return CA_ERR_INVALID;
        }
        if (n + 1 >= cap)
            return CA_ERR_TOO_LARGE;
        out[n++] = c;
    }
    if (cap == 0)
        return CA_ERR_TOO_LARGE;
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return CA_OK;
}

ca_err ca_http_query(const ca_http_request *req, const char *name, char *out, size_t cap,
                     size_t *len)
{
    const char *raw = MHD_lookup_connection_value(req->conn_, MHD_GET_ARGUMENT_KIND, name);
    if (!raw)
        return CA_ERR_NOT_FOUND;
    return ca_http_percent_decode(out, cap, len, raw, strlen(raw));
}

const char *ca_http_query_raw(const ca_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn_, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct query_check {
    const char *const *allowed;
    char unknown[64];
    bool bad;
} query_check;

static enum MHD_Result check_query_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    query_check *q = cls;
    (void)kind;
    (void)value;
    for (const char *const *a = q->allowed; *a; a++)
        if (strcmp(key, *a) == 0)
            return MHD_YES;
    q->bad = true;
    snprintf(q->unknown, sizeof q->unknown, "%s", key);
    ca_utf8_scrub(q->unknown);
    return MHD_NO;
}

ca_err ca_http_query_only(const ca_http_request *req, const char *const *allowed,
                          ca_errbuf *eb)
{
    query_check q = {.allowed = allowed};
    MHD_get_connection_values(req->conn_, MHD_GET_ARGUMENT_KIND, check_query_name, &q);
    if (!q.bad)
        return CA_OK;
    char names[256] = "";
    for (const char *const *a = allowed; *a; a++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 a == allowed ? "" : ", ", *a);
    return ca_fail(eb, CA_ERR_INVALID, "unknown query parameter \"%s\" (known: %s)",
                   q.unknown, names);
}

ca_err ca_http_query_u64(const ca_http_request *req, const char *name, uint64_t *value,
                         ca_errbuf *eb)
{
    char buf[32];
    size_t len;
    ca_err err = ca_http_query(req, name, buf, sizeof buf, &len);
    if (err == CA_ERR_NOT_FOUND)
        return err;
    if (err || len == 0 || len > 20)
        return ca_fail(eb, CA_ERR_INVALID, "%s must be a non-negative decimal integer", name);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return ca_fail(eb, CA_ERR_INVALID, "%s must be a non-negative decimal integer",
                           name);
        unsigned d = (unsigned)(buf[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return ca_fail(eb, CA_ERR_INVALID, "%s is too large", name);
        v = v * 10 + d;
    }
    *value = v;
    return CA_OK;
}

/* Rejects bodies nested deeper than CA_HTTP_JSON_DEPTH before jansson sees them. */
static bool json_depth_ok(const char *s, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > CA_HTTP_JSON_DEPTH)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

json_t *ca_http_body_json(const ca_http_request *req, ca_http_response *resp)
{
    if (req->body_len == 0) {
        ca_http_problem(resp, 400, "the request body is empty; a JSON object is expected");
        return NULL;
    }
    if (!json_depth_ok(req->body, req->body_len)) {
        ca_http_problem(resp, 400, "the JSON body is nested deeper than %d levels",
                        CA_HTTP_JSON_DEPTH);
        return NULL;
    }
    json_error_t jerr;
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        /* jerr.text never quotes more than a few characters of the input. */
        ca_http_problem(resp, 400, "malformed JSON at line %d column %d: %.120s", jerr.line,
                        jerr.column, jerr.text);
        return NULL;
    }
    return o;
}

/* ---- routes --------------------------------------------------------------------------------- */

static void route_free(registered_route *rr)
{
    for (size_t i = 0; i < rr->nsegs; i++)
        free(rr->segs[i]);
    rr->nsegs = 0;
}

static ca_err split_pattern(registered_route *rr, const char *pattern, ca_errbuf *eb)
{
    if (pattern[0] != '/')
        return ca_fail(eb, CA_ERR_INVALID, "route %s: a pattern starts with /", pattern);
    size_t nparams = 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        /* A pattern may end in "/" ("/admin/": a directory-like page): its last segment is
         * the empty literal, which only a request path ending in "/" has. */
        bool trailing_slash = n == 0 && !e && rr->nsegs > 0;
        if ((n == 0 && !trailing_slash) || rr->nsegs == sizeof rr->segs / sizeof rr->segs[0])
            return ca_fail(eb, CA_ERR_INVALID, "route %s: empty segment or too many segments",
                           pattern);
        if (n > 0 && p[0] == '{') {
            if (p[n - 1] != '}' || n < 3 || ++nparams > CA_HTTP_MAX_PARAMS)
                return ca_fail(eb, CA_ERR_INVALID, "route %s: bad {param} segment", pattern);
        }
        char *seg = strndup(p, n);
        if (!seg)
            return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        rr->segs[rr->nsegs++] = seg;
        if (!e)
            break;
        p = e + 1;
    }
    return CA_OK;
}

static ca_err add_routes(ca_http_server *srv, const ca_http_route *routes, size_t n, void *ctx,
                         bool no_store, ca_errbuf *eb)
{
    CA_ASSERT(srv->daemon == NULL);
    for (size_t i = 0; i < n; i++) {
        const ca_http_route *r = &routes[i];
        CA_ASSERT(r->method && r->pattern && r->handler);
        if (srv->nroutes == CA_HTTP_MAX_ROUTES)
            return ca_fail(eb, CA_ERR_TOO_LARGE, "more than %d HTTP routes",
                           CA_HTTP_MAX_ROUTES);
        for (size_t j = 0; j < srv->nroutes; j++)
            if (!strcmp(srv->routes[j].r->method, r->method) &&
                !strcmp(srv->routes[j].r->pattern, r->pattern))
                return ca_fail(eb, CA_ERR_EXISTS, "route %s %s registered twice", r->method,
                               r->pattern);
        registered_route *rr = &srv->routes[srv->nroutes];
        memset(rr, 0, sizeof *rr);
        ca_err err = split_pattern(rr, r->pattern, eb);
        if (err) {
            route_free(rr);
            return err;
        }
        rr->r = r;
        rr->ctx = ctx;
        rr->no_store = no_store;
        ca_http_metrics_name_route(srv->metrics, srv->nroutes, r->pattern);
        srv->nroutes++;
    }
    return CA_OK;
}

ca_err ca_http_set_body_max(ca_http_server *srv, const char *method, const char *pattern,
                            size_t max_body, ca_errbuf *eb)
{
    CA_ASSERT(srv->daemon == NULL);
    for (size_t j = 0; j < srv->nroutes; j++)
        if (!strcmp(srv->routes[j].r->method, method) &&
            !strcmp(srv->routes[j].r->pattern, pattern)) {
            srv->routes[j].max_body = max_body;
            return CA_OK;
        }
    return ca_fail(eb, CA_ERR_NOT_FOUND, "no route %s %s", method, pattern);
}

ca_err ca_http_add_routes(ca_http_server *srv, const ca_http_route *routes, size_t n, void *ctx,
                          ca_errbuf *eb)
{
    return add_routes(srv, routes, n, ctx, false, eb);
}

ca_err ca_http_add_private_routes(ca_http_server *srv, const ca_http_route *routes, size_t n,
                                  void *ctx, ca_errbuf *eb)
{
    return add_routes(srv, routes, n, ctx, true, eb);
}

/* Matches the raw path against a route; fills params (pointing into segbuf). */
static bool route_match(const registered_route *rr, char **segs, size_t nsegs,
                        ca_http_request *req)
{
    if (nsegs != rr->nsegs)
        return false;
    size_t np = 0;
    for (size_t i = 0; i < nsegs; i++) {
        if (rr->segs[i][0] == '{') {
            if (segs[i][0] == '\0')
                return false;
            if (req)
                req->params[np] = segs[i];
            np++;
        } else if (strcmp(rr->segs[i], segs[i]) != 0) {
            return false;
        }
    }
    if (req)
        req->nparams = np;
    return true;
}

/* ---- the client address (the rate limiter's key) -------------------------------------------- */

/* An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96) and as text; false when s is
 * not an IPv4 or IPv6 address (n bytes, no NUL needed). */
static bool parse_address(const char *s, size_t n, uint8_t key[16], char *text, size_t cap)
{
    char buf[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(key, 0, 16);
    if (inet_pton(AF_INET, buf, key + 12) == 1) {
        key[10] = key[11] = 0xff;
        return inet_ntop(AF_INET, key + 12, text, (socklen_t)cap) != NULL;
    }
    if (inet_pton(AF_INET6, buf, key) != 1)
        return false;
    /* ::ffff:a.b.c.d is the IPv4 client it maps: the same key, written as IPv4. */
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(key, v4_mapped, 12) == 0)
        return inet_ntop(AF_INET, key + 12, text, (socklen_t)cap) != NULL;
    return inet_ntop(AF_INET6, key, text, (socklen_t)cap) != NULL;
}

static bool trusted_proxy(const uint8_t (*trusted)[16], size_t n, const uint8_t key[16])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(trusted[i], key, 16) == 0)
            return true;
    return false;
}

void ca_http_forwarded_client(uint8_t key[16], char *text, size_t cap, const char *xff,
                              const uint8_t (*trusted)[16], size_t ntrusted)
{
    const char *end = xff + strlen(xff);
    while (trusted_proxy(trusted, ntrusted, key) && end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        uint8_t hop[16];
        char hop_text[INET6_ADDRSTRLEN];
        if (!parse_address(a, (size_t)(b - a), hop, hop_text, sizeof hop_text))
            return;
        memcpy(key, hop, 16);
        snprintf(text, cap, "%s", hop_text);
        end = start > xff ? start - 1 : xff;
    }
}

/* The client address as 16 bytes (IPv4 mapped into ::ffff:0:0/96) and as text: the socket's
 * peer, or, when that peer is one of node.trusted_proxies (nginx in front), the address the
 * proxy saw: X-Forwarded-For read from the right, past further trusted proxies (the entries
 * to their left are the client's own claims, which anyone can forge). An entry that is not
 * an address stops the walk at the last trusted hop. Rate limits, sessions and the audit log
 * name this address. */
static void client_address(const ca_http_server *srv, struct MHD_Connection *c, uint8_t key[16],
                           char *text, size_t cap)
{
    memset(key, 0, 16);
    snprintf(text, cap, "-");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
        inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(key, &in6->sin6_addr, 16);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)cap);
    }
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff)
        ca_http_forwarded_client(key, text, cap, xff, (const uint8_t(*)[16])srv->trusted,
                                 srv->ntrusted);
}

void ca_http_client_key(const ca_http_request *req, uint8_t key[16])
{
    char text[64];
    client_address(req->srv_, req->conn_, key, text, sizeof text);
}

const char *ca_http_client_text(const ca_http_request *req, char *text, size_t cap)
{
    uint8_t key[16];
    client_address(req->srv_, req->conn_, key, text, cap);
    return text;
}

/* node.trusted_proxies (checked by node/config.c) into srv->trusted. */
static void load_trusted_proxies(ca_http_server *srv)
{
    const char *p = srv->cfg->node_trusted_proxies[0] ? srv->cfg->node_trusted_proxies : NULL, *a;
    size_t n;
    while (srv->ntrusted < CA_CONFIG_TRUSTED_PROXIES_MAX && ca_config_list_next(&p, &a, &n)) {
        char text[INET6_ADDRSTRLEN];
        if (parse_address(a, n, srv->trusted[srv->ntrusted], text, sizeof text))
            srv->ntrusted++;
    }
}

/* ---- authentication ------------------------------------------------------------------------- */

/* 401 for a missing or bad token, 403 for a role outside role_mask (bit 1 << ca_role).
 * An admin token may do everything the other roles may (issue #12 item 11, the matrix in
 * docs/openapi.yaml); the narrow roles stay for machines. Never echoes the token. */
bool ca_http_authenticate(ca_http_request *req, ca_http_response *resp, ca_token_info *info,
                          unsigned role_mask)
{
    const char *h = ca_http_header(req, "Authorization");
    if (!h) /* a person's session, or 401 (node/http_session.c, issue #16) */
        return ca_http_session_authenticate(req, resp, info, role_mask);
    while (*h == ' ' || *h == '\t')
        h++;
    bool bearer = strncasecmp(h, "Bearer", 6) == 0 &&
                  (h[6] == ' ' || h[6] == '\t' || h[6] == '\0');
    const char *tok = h + 6;
    while (bearer && (*tok == ' ' || *tok == '\t'))
        tok++;
    size_t len = bearer ? strlen(tok) : 0;
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    /* A header that is not "Bearer <token>" is not a bad token: say what is wrong, never
     * echoing the value. Another scheme gets no error code in WWW-Authenticate (RFC 6750
     * §3.1: an unsupported authentication method); the status stays 401 (SPEC §3). */
    const char *malformed = NULL;
    if (!bearer)
        malformed = strcspn(h, " \t") == strlen(h)
                        ? "the Authorization header has no scheme: send \"Authorization: "
                          "Bearer <token>\""
                        : "the Authorization scheme must be Bearer: send \"Authorization: "
                          "Bearer <token>\"";
    else if (len == 0)
        malformed = "the Authorization header has the Bearer scheme but no token";
    else if (len >= CA_TOKEN_MAX)
        malformed = "the bearer token is longer than any token this node issues";
    if (malformed) {
        resp->www_authenticate = bearer ? "Bearer realm=\"credanchor\", error=\"invalid_token\""
                                        : "Bearer realm=\"credanchor\"";
        ca_http_problem(resp, 401, "%s", malformed);
        return false;
    }
    ca_errbuf eb = {{0}};
    if (ca_token_check(req->node->store, info, tok, len, (int64_t)time(NULL), &eb) != CA_OK) {
        resp->www_authenticate = "Bearer realm=\"credanchor\", error=\"invalid_token\"";
        ca_http_problem(resp, 401, "the bearer token is invalid, expired or revoked");
        return false;
    }
    role_mask |= 1u << CA_ROLE_ADMIN;
    if (!(role_mask & (1u << info->role))) {
        char names[64];
        ca_roles_text(names, sizeof names, role_mask, " or ");
        ca_http_problem(resp, 403, "this route needs a token with role %s", names);
        return false;
    }
    return true;
}

/* A write route's audit entry joins the log's group commit when the log takes appends, so
 * under load it shares the sync of the commits running with it instead of costing its own;
 * otherwise (appends held or refused) it goes through the audit log's own group commit. */
typedef struct audit_in_log {
    const ca_audit_event *ev;
    int64_t now;
} audit_in_log;

static ca_err audit_log_write(ca_store_txn *txn, void *arg, const ca_log_entry *entries,
                              size_t n, ca_errbuf *eb)
{
    const audit_in_log *a = arg;
    (void)entries;
    (void)n;
    return ca_audit_write(txn, a->ev, a->now, eb);
}

static ca_err audit_after_write(ca_http_server *srv, const ca_audit_event *ev, ca_errbuf *eb)
{
    ca_log *log = srv->node->log;
    if (srv->node->log_key && !ca_log_append_blocked(log)) {
        audit_in_log a = {ev, (int64_t)time(NULL)};
        ca_err err = ca_log_append_with(log, NULL, 0, audit_log_write, &a, NULL, eb);
        if (err != CA_ERR_INCONSISTENT && err != CA_ERR_PERMISSION)
            return err;
    }
    return ca_audit_append(srv->node->store, ev, eb);
}

/* The media type of a Content-Type value matches one of the comma-separated types. */
static bool content_type_ok(const char *ctype, const char *accepted)
{
    if (!ctype)
        return false;
    while (*ctype == ' ')
        ctype++;
    size_t n = strcspn(ctype, "; \t");
    for (const char *a = accepted; *a;) {
        size_t m = strcspn(a, ",");
        if (m == n && strncasecmp(a, ctype, n) == 0)
            return true;
        a += m;
        if (*a == ',')
            a++;
    }
    return false;
}

/* ---- the request log ------------------------------------------------------------------------ */

/* A method name safe to print inside a JSON string: HTTP token characters only. */
static const char *loggable_method(const char *m)
{
    static const char *known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                                  "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static void log_request(const char *method, const char *route, int status, int64_t dur_ns,
                        size_t bytes, const char *client)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    /* One fprintf: stdio's stream lock keeps concurrent lines whole. */
    fprintf(stderr,
            "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"method\":\"%s\","
            "\"route\":\"%s\",\"status\":%d,\"durationMs\":%.3f,\"bytes\":%zu,"
            "\"client\":\"%s\"}\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, loggable_method(method), route, status, (double)dur_ns / 1e6,
            bytes, client);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

/* Whether the answers of route idx are no-store: a role route's, or a route's marked so. */
static bool private_answers(const ca_http_server *srv, int idx)
{
    if (idx == UNMATCHED_ROUTE)
        return false;
    return srv->routes[idx].r->role != 0 || srv->routes[idx].no_store;
}

#define MAX_PATH_SEGS 16
/* Longest raw path routed; a longer one gets 414 in step 1 (a 10 KB DID is no DID). */
#define MAX_PATH_LEN 8192

/* Splits a copy of the raw path url into segs (pointing into pathbuf); false when it does
 * not start with '/', is too long or has too many segments. */
static bool split_path(const char *url, char *pathbuf, size_t cap, char **segs, size_t *nsegs)
{
    size_t ulen = strlen(url);
    *nsegs = 0;
    if (url[0] != '/' || ulen >= cap)
        return false;
    memcpy(pathbuf, url + 1, ulen);
    char *p = pathbuf;
    for (;;) {
        if (*nsegs == MAX_PATH_SEGS)
            return false;
        segs[(*nsegs)++] = p;
        char *e = strchr(p, '/');
        if (!e)
            return true;
        *e = '\0';
        p = e + 1;
    }
}

/* A public_url with a path (https://host/base) puts every URL the node names (status lists,
 * pages, the did:web document at <public_url>/did.json) under "/base". A proxy may forward
 * such a request with the path as is (nginx's proxy_pass without a URI part keeps the raw
 * URI: docs/nginx-reverse-proxy.conf) or with the prefix stripped: both reach the same
 * route. The prefix is stripped only when the path as is matches no route, so a base such
 * as "/v1" never hides the routes themselves. Returns url or its tail after "/base". */
static const char *strip_base_path(const ca_http_server *srv, const char *url)
{
    const char *base = ca_config_public_path(srv->cfg);
    size_t n = strlen(base);
    if (n == 0 || strncmp(url, base, n) != 0 || url[n] != '/')
        return url;
    char pathbuf[MAX_PATH_LEN];
    char *segs[MAX_PATH_SEGS];
    size_t nsegs;
    if (split_path(url, pathbuf, sizeof pathbuf, segs, &nsegs))
        for (size_t i = 0; i < srv->nroutes; i++)
            if (route_match(&srv->routes[i], segs, nsegs, NULL))
                return url;
    return url + n;
}

/* The first route matching the path segments and the method (HEAD runs a GET route), or
 * NULL, with its index in *found_idx; *path_idx gets the first route matching the path
 * whatever its method (-1: none), and allow (cap bytes) lists the methods of every route
 * matching the path, for a 405's Allow. */
static const registered_route *find_route(const ca_http_server *srv, char **segs, size_t nsegs,
                                          const char *method, bool is_head, char *allow,
                                          size_t cap, int *found_idx, int *path_idx)
{
    const registered_route *found = NULL;
    *found_idx = UNMATCHED_ROUTE;
    *path_idx = -1;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->nroutes; i++) {
        const registered_route *rr = &srv->routes[i];
        if (!route_match(rr, segs, nsegs, NULL))
            continue;
        if (*path_idx < 0)
            *path_idx = (int)i;
        if (!found && (strcmp(rr->r->method, method) == 0 ||
                       (is_head && strcmp(rr->r->method, "GET") == 0))) {
            found = rr;
            *found_idx = (int)i;
        }
        size_t al = strlen(allow);
        snprintf(allow + al, cap - al, "%s%s%s", al ? ", " : "", rr->r->method,
                 strcmp(rr->r->method, "GET") == 0 ? ", HEAD" : "");
    }
    return found;
}

/* The bearer token of a role route into *info (req->token points at it): the one checked in
 * step 1 before the body was read, or checked now. False after answering 401/403 into resp;
 * a denied write attempt is counted, and past a limit answered 429 (issue #13 item 16). */
static bool route_token(ca_http_server *srv, const registered_route *found, conn_req *cr,
                        ca_http_request *req, ca_http_response *resp, ca_token_info *info,
                        bool is_head)
{
    if (cr->authenticated) {
        *info = cr->token; /* checked in step 1, before the body was read */
        req->token = info;
        return true;
    }
    if (!ca_http_authenticate(req, resp, info, 1u << found->r->role)) {
        if (resp->status == 403 && strcmp(req->method, "GET") && !is_head) {
            /* Repeats are counted, not each synced, and past a limit get 429 (issue #13
             * item 16; node/auth.c). */
            char client[64];
            ca_audit_event ev = {.token = info, .method = req->method, .route = req->route,
                                 .status = resp->status, .detail = resp->detail,
                                 .client = ca_http_client_text(req, client, sizeof client)};
            unsigned wait = ca_audit_denied(srv->node->store, &ev, (int64_t)time(NULL));
            if (wait) {
                resp->retry_after = wait;
                ca_http_problem(resp, 429, "too many denied attempts with this token; "
                                "retry in %u s", wait);
            }
        }
        return false;
    }
    req->token = info;
    return true;
}

/* The audit entry of a write on a role route, with the answer's status and detail. */
static void audit_route(ca_http_server *srv, const ca_http_request *req,
                        const ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    char client[64];
    ca_audit_event ev = {.token = req->token, .method = req->method, .route = req->route,
                         .status = resp->status,
                         .detail = resp->detail[0] ? resp->detail : NULL,
                         .client = ca_http_client_text(req, client, sizeof client)};
    ca_err err = audit_after_write(srv, &ev, &eb);
    if (err)
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "audit: cannot append: %s", ca_strerror(err));
}

/* Routes the request and runs its handler; returns the route index for metrics (or
 * UNMATCHED_ROUTE). With cr->routing_only (step 1) it stops after the rate limit, 404/405
 * and authentication, leaving resp->status 0 when the body may be read. */
static int dispatch(ca_http_server *srv, struct MHD_Connection *c, const char *url,
                    const char *method, conn_req *cr, ca_http_response *resp,
                    const uint8_t client_key[16], bool may_offload, bool *offload)
{
    *offload = false;
    url = strip_base_path(srv, url);
    ca_http_request req = {.node = srv->node, .method = method, .path = url,
                           .body = cr->body ? cr->body : "", .body_len = cr->len, .conn_ = c,
                           .srv_ = srv};
    char pathbuf[MAX_PATH_LEN];
    char *segs[MAX_PATH_SEGS];
    size_t nsegs;
    bool path_ok = split_path(url, pathbuf, sizeof pathbuf, segs, &nsegs);
    bool is_head = strcmp(method, "HEAD") == 0;
    int found_idx = UNMATCHED_ROUTE, path_idx = -1;
    const registered_route *found = NULL;
    resp->allow[0] = '\0';
    if (path_ok)
        found = find_route(srv, segs, nsegs, method, is_head, resp->allow, sizeof resp->allow,
                           &found_idx, &path_idx);
    int metric_idx = found ? found_idx : path_idx >= 0 ? path_idx : UNMATCHED_ROUTE;
    bool public_route = !found || found->r->role == 0;

    /* Counted once: not again in an offload thread's second pass or after step 1. */
    if (public_route && may_offload && !cr->rate_counted) {
        cr->rate_counted = true;
        unsigned wait = ca_rate_limit_take(srv->rl, client_key, now_ns());
        if (wait) {
            resp->allow[0] = '\0';
            resp->retry_after = wait;
            ca_http_problem(resp, 429, "more than %llu requests per second from this address",
                            (unsigned long long)srv->cfg->node_rate_limit_per_ip);
            return metric_idx;
        }
    }
    if (!found) {
        if (path_idx >= 0) {
            ca_http_problem(resp, 405, "%s is not allowed here; allowed: %s",
                            loggable_method(method), resp->allow);
        } else {
            resp->allow[0] = '\0';
            ca_http_problem(resp, 404, "no such route");
        }
        return metric_idx;
    }
    resp->allow[0] = '\0';
    route_match(found, segs, nsegs, &req);
    req.route = found->r->pattern;
    req.ctx = found->ctx;
    if (!cr->routing_only && may_offload && found->r->offload && found->r->offload(&req)) {
        *offload = true; /* the caller hands it to the offload threads (rate limit counted) */
        return metric_idx;
    }

    ca_token_info info;
    if (found->r->role) {
        ca_audit_denied_flush(srv->node->store, (int64_t)time(NULL), false); /* counts due */
        if (!route_token(srv, found, cr, &req, resp, &info, is_head))
            return metric_idx;
    }
    if (cr->routing_only) { /* step 1: the body may come (resp->status stays 0) */
        if (found->max_body && found->max_body < cr->max_body)
            cr->max_body = found->max_body;
        if (found->r->role) {
            cr->token = info;
            cr->authenticated = true;
        }
        return metric_idx;
    }
    if (found->r->body_types &&
        !content_type_ok(ca_http_header(&req, "Content-Type"), found->r->body_types)) {
        ca_http_problem(resp, 415, "Content-Type must be %s", found->r->body_types);
    } else {
        found->r->handler(&req, resp);
        if (resp->status == 0)
            ca_http_problem(resp, 500, "the handler gave no answer");
    }
    if (found->r->role && ((strcmp(method, "GET") && !is_head) || resp->audit_read) &&
        !resp->audited)
        audit_route(srv, &req, resp);
    return metric_idx;
}

static enum MHD_Result queue(ca_http_server *srv, struct MHD_Connection *c, conn_req *cr,
                             ca_http_response *resp, int route_idx, const char *method,
                             const char *client, bool role_route)
{
    cr->answered = true;
    if (!cr->counted) {
        cr->counted = true;
        atomic_fetch_add(&srv->inflight, 1);
    }
    /* The body, the stream and every header: node/http_response.c. */
    struct MHD_Response *r =
        ca_http_mhd_response(resp, role_route, atomic_load(&srv->stopping));
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    int64_t dur = now_ns() - cr->start_ns;
    ca_http_metrics_count(srv->metrics, (size_t)route_idx, resp->status, dur);
    const char *route = route_idx == UNMATCHED_ROUTE ? "unmatched"
                                                     : srv->routes[route_idx].r->pattern;
    log_request(method, route, resp->status, dur, resp->body_len, client);
    return ret;
}

/* ---- the offload pool ---------------------------------------------------------------------- */

/* Queues an offloaded request; false when the queue is full or the server stops. */
static bool offload_submit(ca_http_server *srv, struct MHD_Connection *c, conn_req *cr,
                           const char *url, const char *method, const uint8_t key[16])
{
    offload_job j = {.c = c, .cr = cr, .url = strdup(url), .method = strdup(method)};
    memcpy(j.key, key, 16);
    bool ok = j.url && j.method && srv->noffload_threads > 0;
    pthread_mutex_lock(&srv->offload_lock);
    ok = ok && !srv->offload_exit && srv->offload_count < OFFLOAD_QUEUE;
    if (ok) {
        srv->offload_queue[(srv->offload_head + srv->offload_count) % OFFLOAD_QUEUE] = j;
        srv->offload_count++;
        pthread_cond_signal(&srv->offload_cond);
    }
    pthread_mutex_unlock(&srv->offload_lock);
    if (!ok) {
        free(j.url);
        free(j.method);
    }
    return ok;
}

/* An offload thread: runs the handler of each queued request (it may block on the network),
 * keeps the answer in the request state, and resumes the connection; MHD then calls the
 * access handler again, which queues the answer (on_request). */
static void *offload_main(void *arg)
{
    ca_http_server *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->offload_lock);
        while (srv->offload_count == 0 && !srv->offload_exit)
            pthread_cond_wait(&srv->offload_cond, &srv->offload_lock);
        if (srv->offload_count == 0) {
            pthread_mutex_unlock(&srv->offload_lock);
            return NULL;
        }
        offload_job j = srv->offload_queue[srv->offload_head];
        srv->offload_head = (srv->offload_head + 1) % OFFLOAD_QUEUE;
        srv->offload_count--;
        pthread_mutex_unlock(&srv->offload_lock);

        bool again;
        memset(&j.cr->offload_resp, 0, sizeof j.cr->offload_resp);
        j.cr->offload_idx = dispatch(srv, j.c, j.url, j.method, j.cr, &j.cr->offload_resp,
                                     j.key, false, &again);
        j.cr->offload_done = true;
        free(j.url);
        free(j.method);
        MHD_resume_connection(j.c);
    }
}

static void offload_stop(ca_http_server *srv)
{
    pthread_mutex_lock(&srv->offload_lock);
    srv->offload_exit = true; /* threads finish the queue, then exit */
    pthread_cond_broadcast(&srv->offload_cond);
    pthread_mutex_unlock(&srv->offload_lock);
    for (size_t i = 0; i < srv->noffload_threads; i++)
        pthread_join(srv->offload_threads[i], NULL);
    srv->noffload_threads = 0;
}

/* ---- connection deadlines (issue 13 item 3) ------------------------------------------------ */

/* MHD's node.connection_timeout is an idle timeout: a client sending a header byte every few
 * seconds (slowloris) or a body at a trickle keeps its connection, and its slot in
 * node.max_connections, for ever. So each connection carries a total deadline for the phase
 * it is in: its request's headers (node.header_timeout from its start or from the previous
 * answer), the body (node.body_timeout from the end of the headers), none while the node
 * handles and answers. The sweeper shuts down the socket of a connection past its deadline;
 * MHD then reads the end of the stream and closes it (0.9.75 has no total deadline itself).
 * MHD notifies CLOSED before it closes the socket, so a tracked fd is always still open. */
static conn_track *conn_track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Starts the deadline of a connection's next phase; seconds 0 = none. */
static void conn_deadline(struct MHD_Connection *c, uint64_t seconds)
{
    conn_track *t = conn_track_of(c);
    if (t)
        atomic_store(&t->deadline_ns, seconds ? now_ns() + (int64_t)seconds * 1000000000 : 0);
}

static void conn_track_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    ca_http_server *srv = cls;
    conn_track *t = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || !(t = calloc(1, sizeof *t)))
            return; /* untracked: only the idle timeout applies */
        t->fd = ci->connect_fd;
        atomic_store(&t->deadline_ns,
                     now_ns() + (int64_t)srv->cfg->node_header_timeout * 1000000000);
        pthread_mutex_lock(&srv->conns_lock);
        t->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = t;
        srv->conns = t;
        pthread_mutex_unlock(&srv->conns_lock);
        *socket_context = t;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && t) {
        pthread_mutex_lock(&srv->conns_lock);
        if (t->prev)
            t->prev->next = t->next;
        else
            srv->conns = t->next;
        if (t->next)
            t->next->prev = t->prev;
        pthread_mutex_unlock(&srv->conns_lock);
        free(t);
        *socket_context = NULL;
    }
}

static void *sweeper_main(void *arg)
{
    ca_http_server *srv = arg;
    pthread_mutex_lock(&srv->conns_lock);
    while (!srv->sweeper_exit) {
        int64_t now = now_ns();
        for (conn_track *t = srv->conns; t; t = t->next) {
            int64_t d = atomic_load(&t->deadline_ns);
            if (d && now > d) {
                atomic_store(&t->deadline_ns, 0);
                shutdown(t->fd, SHUT_RDWR);
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 250 * 1000 * 1000; /* deadlines are whole seconds: a quarter is enough */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->sweeper_cond, &srv->conns_lock, &ts);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return NULL;
}

static void sweeper_stop(ca_http_server *srv)
{
    if (!srv->sweeper_started)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    srv->sweeper_exit = true;
    pthread_cond_signal(&srv->sweeper_cond);
    pthread_mutex_unlock(&srv->conns_lock);
    pthread_join(srv->sweeper, NULL);
    srv->sweeper_started = false;
}

/* ---- step 1: the request line and headers -------------------------------------------------- */

/* What scan_header found in the header block. */
typedef struct head_scan {
    const char *bad;               /* why the block is malformed (400), or NULL */
    unsigned hosts;
    const char *content_length;    /* the first Content-Length value */
    size_t content_length_len;
    const char *transfer_encoding; /* the last Transfer-Encoding value */
    unsigned transfer_encodings;
} head_scan;

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The checks libmicrohttpd 0.9.75 leaves out even with MHD_OPTION_STRICT_FOR_CLIENT (which
 * only requires Host on HTTP/1.1). It still cuts a value at a NUL and merges an obs-fold line
 * into the header before we see it, so those two are left to the proxy in front (nginx
 * answers both 400). */
static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    head_scan *s = cls;
    (void)kind;
    for (size_t i = 0; i < key_size; i++)
        if (!is_tchar((unsigned char)key[i])) {
            s->bad = "a header name holds whitespace or a character outside the HTTP token "
                     "set (RFC 9112 §5.1: no whitespace before the colon)";
            return MHD_NO;
        }
    for (size_t i = 0; i < value_size; i++) {
        unsigned char ch = (unsigned char)value[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            s->bad = "a header value holds CR, LF, NUL or another control character "
                     "(RFC 9110 §5.5)";
            return MHD_NO;
        }
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0 && ++s->hosts > 1) {
        s->bad = "more than one Host header (RFC 9112 §3.2)";
        return MHD_NO;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (s->content_length && (value_size != s->content_length_len ||
                                  memcmp(value, s->content_length, value_size) != 0)) {
            s->bad = "Content-Length headers with different values (RFC 9112 §6.3)";
            return MHD_NO;
        }
        s->content_length = value;
        s->content_length_len = value_size;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        s->transfer_encoding = value;
        s->transfer_encodings++;
    }
    return MHD_YES;
}

/* The framing problem of the header block: 400 for malformed headers, 501 for a transfer
 * coding other than chunked (RFC 9112 §6.1: MHD would wait for a body it cannot delimit until
 * the idle timeout). Sets *has_body when a body follows. */
static void check_framing(struct MHD_Connection *c, ca_http_response *resp, bool *has_body)
{
    head_scan s = {0};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &s);
    *has_body = false;
    if (s.bad) {
        ca_http_problem(resp, 400, "%s", s.bad);
        return;
    }
    if (s.transfer_encoding) {
        const char *te = s.transfer_encoding;
        while (*te == ' ' || *te == '\t')
            te++;
        size_t n = strlen(te);
        while (n && (te[n - 1] == ' ' || te[n - 1] == '\t'))
            n--;
        if (s.content_length)
            ca_http_problem(resp, 400, "Content-Length and Transfer-Encoding together "
                                       "(RFC 9112 §6.1)");
        else if (s.transfer_encodings > 1 || n != 7 || strncasecmp(te, "chunked", 7) != 0)
            ca_http_problem(resp, 501, "Transfer-Encoding \"%.*s\" is not supported: only "
                                       "chunked (RFC 9112 §6.1)", (int)(n > 40 ? 40 : n), te);
        *has_body = true;
        return;
    }
    *has_body = s.content_length && strspn(s.content_length, "0") != s.content_length_len;
}

/* Reserves n more bytes of node.max_buffered_bodies for cr's body; false past the budget. */
static bool body_budget_take(ca_http_server *srv, conn_req *cr, size_t n)
{
    uint64_t cur = atomic_load(&srv->buffered_bytes);
    do {
        if (cur + n > srv->cfg->node_max_buffered_bodies)
            return false;
    } while (!atomic_compare_exchange_weak(&srv->buffered_bytes, &cur, cur + n));
    cr->reserved += n;
    return true;
}

static void body_budget_full(ca_http_response *resp)
{
    resp->retry_after = 1;
    ca_http_problem(resp, 503, "too many request bodies are being received; try again shortly");
}

/* Step 1, on the request line and headers before any body byte is read (an answer queued here
 * makes MHD close the connection after it, the body unread):
 *  a. framing: malformed headers 400, an unknown Transfer-Encoding 501 (check_framing);
 *  b. a path over MAX_PATH_LEN: 414 (a 10 KB DID gets this, not 404);
 *  c. Content-Length over node.max_body: 413;
 *  d. a request with a body is routed and authenticated now (issue 13 item 4): an unknown
 *     route, wrong method, missing or bad token or wrong role gets its 404/405/401/403
 *     without the body ever being buffered;
 *  e. a Content-Length body reserves its buffer from node.max_buffered_bodies: 503 past it.
 * Returns the route index for metrics; resp->status stays 0 when the request goes on. */
static int check_request_head(ca_http_server *srv, struct MHD_Connection *c, const char *url,
                              const char *method, conn_req *cr, ca_http_response *resp)
{
    uint64_t max_body = cr->max_body = srv->cfg->node_max_body;
    bool has_body;
    check_framing(c, resp, &has_body);
    if (resp->status)
        return UNMATCHED_ROUTE;
    if (strlen(url) >= MAX_PATH_LEN) {
        ca_http_problem(resp, 414, "the request path is over %d bytes", MAX_PATH_LEN - 1);
        return UNMATCHED_ROUTE;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long v = 0;
    if (cl) {
        errno = 0;
        char *end;
        v = strtoull(cl, &end, 10);
        if (errno || end == cl || v > max_body) {
            ca_http_problem(resp, 413, "the request body is over %llu bytes",
                            (unsigned long long)max_body);
            return UNMATCHED_ROUTE;
        }
    }
    if (!has_body)
        return UNMATCHED_ROUTE;
    uint8_t key[16];
    char client[INET6_ADDRSTRLEN];
    client_address(srv, c, key, client, sizeof client);
    bool offload;
    cr->routing_only = true;
    int idx = dispatch(srv, c, url, method, cr, resp, key, true, &offload);
    cr->routing_only = false;
    if (!resp->status && v > cr->max_body) /* the route's own, smaller cap */
        ca_http_problem(resp, 413, "the request body is over %llu bytes",
                        (unsigned long long)cr->max_body);
    if (resp->status || v == 0)
        return idx;
    if (!body_budget_take(srv, cr, (size_t)v)) {
        body_budget_full(resp);
        return idx;
    }
    cr->body = malloc(v + 1);
    if (!cr->body)
        ca_http_problem(resp, 500, "out of memory");
    else
        cr->cap = v;
    return idx;
}

/* Step 1 (see the top of this file): the first call, on the headers alone. Allocates the
 * request state into *con_cls and answers at once what the headers decide. */
static enum MHD_Result on_headers(ca_http_server *srv, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    conn_req *cr = calloc(1, sizeof *cr);
    if (!cr)
        return MHD_NO;
    cr->start_ns = now_ns();
    *con_cls = cr;
    /* Step 1: headers only; the body deadline runs while a body may arrive. */
    conn_deadline(c, srv->cfg->node_body_timeout);
    ca_http_response resp = {0};
    int idx = check_request_head(srv, c, url, method, cr, &resp);
    if (!resp.status)
        return MHD_YES;
    char client[INET6_ADDRSTRLEN];
    uint8_t key[16];
    client_address(srv, c, key, client, sizeof client);
    conn_deadline(c, 0);
    bool role_route = private_answers(srv, idx);
    return queue(srv, c, cr, &resp, idx, method, client, role_route);
}

/* Step 2: appends n bytes of the body. MHD 0.9.75 cannot queue an answer in the middle of a
 * body (MHD_queue_response fails there and the connection closes unanswered), so a body over
 * the cap or the budget is dropped as it arrives and answered 413/503 at its end, which
 * node.body_timeout bounds (issue 12 item 5). */
static enum MHD_Result on_body(ca_http_server *srv, conn_req *cr, const char *upload_data,
                               size_t n)
{
    uint64_t max_body = cr->max_body;
    if (cr->answered || cr->late_status)
        return MHD_YES;
    if (cr->len + n > max_body) {
        free(cr->body);
        cr->body = NULL;
        cr->len = cr->cap = 0;
        cr->late_status = 413;
        return MHD_YES;
    }
    if (cr->len + n > cr->cap) {
        size_t cap = cr->cap ? cr->cap : 4096;
        while (cap < cr->len + n)
            cap *= 2;
        if (cap > max_body)
            cap = (size_t)max_body;
        if (!body_budget_take(srv, cr, cap - cr->cap)) {
            free(cr->body);
            cr->body = NULL;
            cr->len = cr->cap = 0;
            cr->late_status = 503;
            return MHD_YES;
        }
        char *b = realloc(cr->body, cap + 1);
        if (!b)
            return MHD_NO;
        cr->body = b;
        cr->cap = cap;
    }
    memcpy(cr->body + cr->len, upload_data, n);
    cr->len += n;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    ca_http_server *srv = cls;
    conn_req *cr = *con_cls;
    if (!cr)
        return on_headers(srv, c, url, method, con_cls); /* step 1 */
    if (*upload_data_size) { /* step 2: collect the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return on_body(srv, cr, upload_data, n);
    }
    if (cr->answered)
        return MHD_YES;
    char client[INET6_ADDRSTRLEN];
    uint8_t key[16];
    client_address(srv, c, key, client, sizeof client);
    conn_deadline(c, 0); /* the whole request is here: no deadline while it is handled */
    if (cr->late_status) {
        ca_http_response resp = {0};
        if (cr->late_status == 503)
            body_budget_full(&resp);
        else
            ca_http_problem(&resp, 413, "the request body is over %llu bytes",
                            (unsigned long long)cr->max_body);
        return queue(srv, c, cr, &resp, UNMATCHED_ROUTE, method, client, false);
    }
    if (cr->offload_done) { /* called again after the resume: answer what the job made */
        int idx = cr->offload_idx;
        bool role_route = private_answers(srv, idx);
        return queue(srv, c, cr, &cr->offload_resp, idx, method, client, role_route);
    }
    /* Step 3: the whole request is here. From now until the completion callback it counts
     * as in flight, so a graceful stop lets it finish (uploads still arriving do not). */
    cr->counted = true;
    atomic_fetch_add(&srv->inflight, 1);
    if (cr->body)
        cr->body[cr->len] = '\0';
    ca_http_response resp = {0};
    bool offload;
    int idx = dispatch(srv, c, url, method, cr, &resp, key, true, &offload);
    if (offload) {
        if (offload_submit(srv, c, cr, url, method, key)) {
            MHD_suspend_connection(c);
            return MHD_YES;
        }
        resp.retry_after = 1;
        ca_http_problem(&resp, 503, "too many slow lookups are waiting; try again shortly");
    }
    bool role_route = private_answers(srv, idx);
    return queue(srv, c, cr, &resp, idx, method, client, role_route);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    ca_http_server *srv = cls;
    conn_req *cr = *con_cls;
    /* The next request's headers are due within node.header_timeout (keep-alive). */
    conn_deadline(c, srv->cfg->node_header_timeout);
    if (!cr)
        return;
    if (cr->counted)
        atomic_fetch_sub(&srv->inflight, 1);
    atomic_fetch_sub(&srv->buffered_bytes, cr->reserved);
    free(cr->body);
    free(cr);
    *con_cls = NULL;
}

/* Leaves every escape in place: the router and the handlers decode what they need. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ca_node_log(CA_NODE_LOG_WARNING, NULL, "http: %s", msg);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

ca_err ca_http_create(ca_http_server **out, ca_node *node, ca_errbuf *eb)
{
    *out = NULL;
    ca_http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    srv->node = node;
    srv->cfg = &node->cfg;
    srv->listen_fd = -1;
    srv->metrics = ca_http_metrics_create(&srv->inflight);
    srv->rl = ca_rate_limit_create((double)node->cfg.node_rate_limit_per_ip);
    load_trusted_proxies(srv);
    if (!srv->metrics || !srv->rl) {
        ca_http_metrics_destroy(srv->metrics);
        ca_rate_limit_destroy(srv->rl);
        free(srv);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&srv->offload_lock, NULL);
    pthread_cond_init(&srv->offload_cond, NULL);
    pthread_mutex_init(&srv->conns_lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC); /* sweeper_main's timed waits */
    pthread_cond_init(&srv->sweeper_cond, &monotonic);
    pthread_condattr_destroy(&monotonic);
    ca_err err = ca_log_routes_register(srv, eb); /* node/routes_log.c */
    if (!err)
        err = ca_http_metrics_register(srv, srv->metrics, eb); /* node/metrics.c */
    if (err) {
        ca_http_destroy(srv);
        return err;
    }
    *out = srv;
    return CA_OK;
}

void ca_http_add_metrics_hook(ca_http_server *srv, void (*fn)(void *ctx, FILE *f), void *ctx)
{
    CA_ASSERT(srv && fn);
    ca_http_metrics_add_hook(srv->metrics, fn, ctx);
}

static ca_err read_small_file(char **out, size_t *len, const char *path, const char *what,
                              ca_errbuf *eb)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ca_fail(eb, CA_ERR_CONFIG, "%s %s: %s", what, path, strerror(errno));
    char *buf = malloc(TLS_FILE_MAX + 1);
    size_t n = 0;
    ssize_t got = 0;
    while (buf && n < TLS_FILE_MAX && (got = read(fd, buf + n, TLS_FILE_MAX - n)) > 0)
        n += (size_t)got;
    close(fd);
    if (!buf)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (got < 0 || n == 0 || n >= TLS_FILE_MAX) {
        free(buf);
        return ca_fail(eb, CA_ERR_CONFIG, "%s %s: %s", what, path,
                       got < 0 ? strerror(errno) : n ? "larger than 1 MiB" : "empty");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CA_OK;
}

/* Splits "HOST:PORT" / "[V6]:PORT" and opens a listening socket on it. */
static ca_err open_listener(int *fd_out, char *shown, size_t shown_cap, const char *listen_addr,
                            ca_errbuf *eb)
{
    char host[256];
    const char *port;
    if (listen_addr[0] == '[') {
        const char *close_b = strchr(listen_addr, ']');
        if (!close_b || close_b[1] != ':' || (size_t)(close_b - listen_addr - 1) >= sizeof host)
            return ca_fail(eb, CA_ERR_CONFIG, "node.listen \"%s\" is not [IPV6]:PORT",
                           listen_addr);
        memcpy(host, listen_addr + 1, (size_t)(close_b - listen_addr - 1));
        host[close_b - listen_addr - 1] = '\0';
        port = close_b + 2;
    } else {
        const char *colon = strrchr(listen_addr, ':');
        if (!colon || (size_t)(colon - listen_addr) >= sizeof host || strchr(colon + 1, ']'))
            return ca_fail(eb, CA_ERR_CONFIG, "node.listen \"%s\" is not HOST:PORT",
                           listen_addr);
        memcpy(host, listen_addr, (size_t)(colon - listen_addr));
        host[colon - listen_addr] = '\0';
        port = colon + 1;
    }
    if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        atoi(port) > 65535)
        return ca_fail(eb, CA_ERR_CONFIG, "node.listen \"%s\": bad port", listen_addr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai)
        return ca_fail(eb, CA_ERR_CONFIG, "node.listen \"%s\": %s", listen_addr,
                       gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return ca_fail(eb, CA_ERR_IO, "node.listen %s: socket: %s", listen_addr,
                       strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(ai);
        return ca_fail(eb, CA_ERR_IO, "cannot listen on %s: %s", listen_addr, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char num[INET6_ADDRSTRLEN] = "?";
    unsigned p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &in->sin_addr, num, sizeof num);
            p = ntohs(in->sin_port);
            snprintf(shown, shown_cap, "%s:%u", num, p);
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &in6->sin6_addr, num, sizeof num);
            p = ntohs(in6->sin6_port);
            snprintf(shown, shown_cap, "[%s]:%u", num, p);
        }
    }
    *fd_out = fd;
    return CA_OK;
}

ca_err ca_http_start(ca_http_server *srv, char *url, size_t url_cap, ca_errbuf *eb)
{
    CA_ASSERT(srv->daemon == NULL);
    const ca_config *cfg = srv->cfg;
    bool tls = cfg->node_tls_cert_file[0] || cfg->node_tls_key_file[0];
    ca_err err;
    if (tls) {
        if (!cfg->node_tls_cert_file[0] || !cfg->node_tls_key_file[0])
            return ca_fail(eb, CA_ERR_CONFIG,
                           "TLS needs both node.tls_cert_file and node.tls_key_file");
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return ca_fail(eb, CA_ERR_CONFIG, "node.tls_cert_file is set but this "
                                              "libmicrohttpd has no TLS support (GnuTLS)");
        size_t clen;
        if ((err = read_small_file(&srv->tls_cert, &clen, cfg->node_tls_cert_file,
                                   "node.tls_cert_file", eb)) ||
            (err = read_small_file(&srv->tls_key, &srv->tls_key_len, cfg->node_tls_key_file,
                                   "node.tls_key_file", eb)))
            return err;
    }
    char shown[300] = "?";
    if ((err = open_listener(&srv->listen_fd, shown, sizeof shown, cfg->node_listen, eb)))
        return err;
    unsigned threads = ca_config_http_threads(cfg);
    /* Headers live in MHD's per-connection memory pool next to the read buffer: headers over
     * the pool get 431 from MHD itself. */
    size_t mem = (size_t)cfg->node_max_header + 16384;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[20];
    size_t k = 0;
    /* The logger first: MHD reports through the default logger until it is set. */
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                        (intptr_t)cfg->node_max_connections, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        (intptr_t)cfg->node_connection_timeout, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed,
                                        srv};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_none,
                                        NULL};
    /* Strict HTTP/1.1 parsing: a request without Host, or with whitespace before a header's
     * colon, gets 400 (RFC 9112 §3.2, §5.1). */
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
    /* Issue 13 item 3: one address cannot hold every connection (MHD closes its extra ones
     * at accept), and every connection has a total deadline per phase (conn_track_notify). */
    if (cfg->node_max_connections_per_ip)
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                            (intptr_t)cfg->node_max_connections_per_ip, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                        (intptr_t)conn_track_notify, srv};
    if (tls) {
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
    }
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    /* The offload threads, when a route may offload (did:web resolution), so slow lookups
     * never hold the workers; they mostly sleep in the network, and the resolver caps the
     * fetches in flight (node/resolver.c). They start before the daemon: a request that
     * arrives at once must find them (offload_submit reads noffload_threads unlocked). */
    bool any_offload = false;
    for (size_t i = 0; i < srv->nroutes; i++)
        any_offload |= srv->routes[i].r->offload != NULL;
    size_t nthreads = any_offload ? OFFLOAD_THREADS : 0;
    if (nthreads > sizeof srv->offload_threads / sizeof srv->offload_threads[0])
        nthreads = sizeof srv->offload_threads / sizeof srv->offload_threads[0];
    for (size_t i = 0; i < nthreads; i++)
        if (pthread_create(&srv->offload_threads[srv->noffload_threads], NULL, offload_main,
                           srv) == 0)
            srv->noffload_threads++;
    srv->sweeper_exit = false;
    srv->sweeper_started = pthread_create(&srv->sweeper, NULL, sweeper_main, srv) == 0;
    if (!srv->sweeper_started) {
        offload_stop(srv);
        close(srv->listen_fd);
        srv->listen_fd = -1;
        return ca_fail(eb, CA_ERR_IO, "cannot start the connection deadline thread");
    }
    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY,
                                   opts, MHD_OPTION_END);
    if (!srv->daemon) {
        sweeper_stop(srv);
        offload_stop(srv);
        close(srv->listen_fd);
        srv->listen_fd = -1;
        return ca_fail(eb, CA_ERR_IO, "cannot start the HTTP server on %s%s", shown,
                       tls ? " (check the TLS certificate and key)" : "");
    }
    snprintf(url, url_cap, "%s://%s", tls ? "https" : "http", shown);
    return CA_OK;
}

void ca_http_stop(ca_http_server *srv, unsigned grace_ms)
{
    if (!srv || !srv->daemon)
        return;
    atomic_store(&srv->stopping, true);
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    srv->listen_fd = -1;
    /* Requests already being handled finish and are answered (with Connection: close). */
    for (unsigned waited = 0; waited < grace_ms && atomic_load(&srv->inflight) > 0;
         waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Offloaded requests resume their connections on the daemon: finish them first. */
    offload_stop(srv);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    sweeper_stop(srv);
    ca_audit_denied_flush(srv->node->store, (int64_t)time(NULL), true); /* pending counts */
}

void ca_http_destroy(ca_http_server *srv)
{
    if (!srv)
        return;
    ca_http_stop(srv, 0);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    for (size_t i = 0; i < srv->nroutes; i++)
        route_free(&srv->routes[i]);
    pthread_mutex_destroy(&srv->offload_lock);
    pthread_cond_destroy(&srv->offload_cond);
    pthread_mutex_destroy(&srv->conns_lock);
    pthread_cond_destroy(&srv->sweeper_cond);
    if (srv->tls_key) {
        ca_wipe(srv->tls_key, srv->tls_key_len);
        free(srv->tls_key);
    }
    free(srv->tls_cert);
    ca_http_metrics_destroy(srv->metrics);
    ca_rate_limit_destroy(srv->rl);
    free(srv);
}
