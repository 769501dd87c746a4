/*
 * The node's HTTP API server (SPEC §3) on libmicrohttpd: epoll with a thread pool, keep-alive,
 * optional TLS, a table-driven router, bearer-token roles, per-address rate limits, RFC 9457
 * problem+json errors, one JSON log line per request on stderr, and Prometheus /metrics.
 *
 * Life cycle (credanchor serve, node/cli_serve.c):
 *     ca_http_create(&srv, node, eb);           built-in log routes registered
 *                                               (node/routes_log.c) and /metrics (node/metrics.c)
 *     ca_http_add_routes(srv, table, n, ctx);   routes of later subsystems (anchors, ...)
 *     ca_http_start(srv, eb);                   binds node.listen and starts the workers
 *     ... wait for SIGTERM/SIGINT ...
 *     ca_http_stop(srv);                        stop accepting, finish in-flight, join
 *     ca_http_destroy(srv);
 *
 * Extending the router. A subsystem declares a table and registers it before ca_http_start:
 *
 *     static void get_latest(ca_http_request *req, ca_http_response *resp);
 *     static const ca_http_route anchor_routes[] = {
 *         {"GET",  "/v1/anchors/latest", 0,             NULL, get_latest},
 *         {"GET",  "/v1/status/{listId}", 0,            NULL, get_status},
 *         {"POST", "/v1/anchors",        CA_ROLE_ADMIN, NULL, post_anchor},
 *         {"POST", "/v1/credentials/batch", CA_ROLE_ISSUER, "application/json,text/csv",
 *          post_batch},
 *     };
 *     ca_http_add_routes(srv, anchor_routes, 4, my_state);   (in node/cli_serve.c)
 *
 * A pattern is matched segment by segment against the RAW request path (nothing is
 * percent-decoded before routing: SPEC §4 needs the raw DID); "{name}" matches one non-empty
 * segment, which the handler reads raw from req->params[i] (in pattern order) and decodes
 * with ca_http_percent_decode when it wants to. Query values come decoded from
 * ca_http_query. The server does, before a handler runs: 404 / 405 (+ Allow), the body cap
 * (413), the rate limit on public routes (429), the token and role check (401 / 403), and the
 * Content-Type check (415) for routes that name body types. After a handler of an
 * authenticated non-GET route, it appends the audit entry with the response status.
 * Handlers run concurrently on the worker threads; they may block (ca_log_append does), and
 * must always fill the response (an unfilled one becomes a 500 problem).
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_HTTP_H
#define CREDANCHOR_HTTP_H

#include "node/auth.h"
#include "credanchor/common.h"
#include "node/node.h"

#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* {param} segments per pattern: /tlog/tile/ has six (node/routes_log.c: the level, four
 * index elements for the 2^32 level-0 tiles of the log's 2^40 leaves, and a partial width) */
#define CA_HTTP_MAX_PARAMS 6
#define CA_HTTP_MAX_ROUTES 127 /* every registered route, built-in ones included */
#define CA_HTTP_JSON_DEPTH 32  /* deepest JSON nesting ca_http_body_json accepts */
#define CA_HTTP_EXTRA_HEADERS_MAX 4    /* ca_http_response_add_header per response */
#define CA_HTTP_HEADER_NAME_MAX 64     /* an extra header's name, its NUL included */
#define CA_HTTP_HEADER_VALUE_MAX 1024  /* an extra header's value, its NUL included */

typedef struct ca_http_server ca_http_server; /* opaque */

/* What a handler sees. Every pointer is valid until the handler returns. */
typedef struct ca_http_request {
    ca_node *node;
    void *ctx;                      /* the ctx given to ca_http_add_routes */
    const char *method;             /* "GET", "POST", ... (HEAD runs the GET handler) */
    const char *route;              /* the matched pattern, safe to log */
    const char *path;               /* the raw path, query excluded; may carry secrets */
    const char *params[CA_HTTP_MAX_PARAMS]; /* raw {param} segments, NUL-terminated */
    size_t nparams;
    const char *body;               /* NUL-terminated (the NUL not counted); "" when none */
    size_t body_len;
    const ca_token_info *token;     /* the checked token on role routes, NULL on public ones */
    void *conn_;                    /* internal */
    const ca_http_server *srv_;     /* internal */
} ca_http_request;

/* What a handler answers. Set it through the ca_http_reply_* and ca_http_problem helpers. */
typedef struct ca_http_response {
    int status;                     /* 0 until a helper sets it */
    const char *content_type;       /* static string */
    char *body;                     /* malloc'd; the server frees it */
    size_t body_len;
    const char *cache_control;      /* NULL: "no-store" on role routes and errors, else
                                     * "no-cache" */
    unsigned retry_after;           /* seconds; > 0 adds Retry-After */
    char allow[64];                 /* non-empty adds Allow (405) */
    const char *www_authenticate;   /* non-NULL adds WWW-Authenticate (401) */
    char etag[72];                  /* non-empty adds ETag (a quoted entity tag) */
    bool audited;                   /* the handler wrote the audit entry itself (in its own
                                     * commit): the server writes none */
    bool audit_read;                /* a read on a role route that exports personal data
                                     * (issue #16 "Audit": every export names the person):
                                     * the server audits it as it does a write */
    char detail[160];               /* short outcome for the audit log (a problem's detail
                                     * by default); never a token */
    char link[768];                 /* non-empty adds Link (RFC 8288), e.g. rel="next" */
    char content_disposition[128];  /* non-empty adds Content-Disposition (RFC 6266) */
    /* A streamed body instead of body (ca_http_reply_stream): the server calls stream(ctx,
     * buf, max) while the client reads, until it returns 0 (the end) or -1 (a failure: the
     * connection is cut so the client sees a truncated body), then stream_free(ctx) once. */
    ssize_t (*stream)(void *ctx, char *buf, size_t max);
    void (*stream_free)(void *ctx);
    void *stream_ctx;
    /* Headers of the handler's own (ca_http_response_add_header), sent after the server's;
     * a Content-Security-Policy among them replaces the server's default one. */
    struct {
        char name[CA_HTTP_HEADER_NAME_MAX];
        char value[CA_HTTP_HEADER_VALUE_MAX];
    } extra[CA_HTTP_EXTRA_HEADERS_MAX];
    size_t nextra;
} ca_http_response;

typedef void (*ca_http_handler)(ca_http_request *req, ca_http_response *resp);

typedef struct ca_http_route {
    const char *method;             /* "GET" or "POST" (or any other method name) */
    const char *pattern;            /* "/v1/status/{listId}" */
    int role;                       /* 0 = public; otherwise the ca_role a bearer token needs
                                     * (an admin token always passes) */
    const char *body_types;         /* NULL: any (body ignored); else comma-separated media
                                     * types one of which Content-Type must name (415) */
    ca_http_handler handler;
    /* May be NULL. True when this request's handler may block on the network (a did:web
     * fetch, a JSON-RPC read): it then runs on the server's offload threads while the
     * connection is suspended, so the worker keeps serving its other connections. Gets the
     * request with its params. */
    bool (*offload)(const struct ca_http_request *req);
} ca_http_route;

/* Creates the server for node (borrowed; it must outlive the server) with the built-in routes
 * of SPEC §3: health, checkpoint, log key(s), proof, consistency, POST /v1/log/entries
 * (node/routes_log.c) and /metrics (node/metrics.c). Nothing is bound yet. */
ca_err ca_http_create(ca_http_server **srv, ca_node *node, ca_errbuf *eb);

/* Adds n routes (the table is borrowed and must outlive the server). ctx reaches their
 * handlers as req->ctx. CA_ERR_TOO_LARGE past CA_HTTP_MAX_ROUTES, CA_ERR_EXISTS for a
 * (method, pattern) pair already registered, CA_ERR_INVALID for a bad pattern. Only before
 * ca_http_start. */
ca_err ca_http_add_routes(ca_http_server *srv, const ca_http_route *routes, size_t n, void *ctx,
                          ca_errbuf *eb);
/* ca_http_add_routes for public routes whose answers hold secrets or personal data (sign-in:
 * the session cookie, the CSRF token, recovery codes, a person's sessions): every answer is
 * Cache-Control: no-store, as on role routes. */
ca_err ca_http_add_private_routes(ca_http_server *srv, const ca_http_route *routes, size_t n,
                                  void *ctx, ca_errbuf *eb);

/* Gives the registered route (method, pattern) a smaller body cap than node.max_body: a
 * Content-Length over it gets 413 on the headers alone, a chunked body past it 413 at its end
 * (issue #17: the template editor's 2 MiB). CA_ERR_NOT_FOUND when no such route. Only before
 * ca_http_start. */
ca_err ca_http_set_body_max(ca_http_server *srv, const char *method, const char *pattern,
                            size_t max_body, ca_errbuf *eb);

/* Adds lines to /metrics (anchor state, issuance): fn writes Prometheus text to f. At most
 * CA_HTTP_METRICS_HOOKS_MAX hooks (a caller bug beyond). Only before ca_http_start. */
#define CA_HTTP_METRICS_HOOKS_MAX 4
void ca_http_add_metrics_hook(ca_http_server *srv, void (*fn)(void *ctx, FILE *f), void *ctx);

/* Binds node.listen and starts serving (TLS when node.tls_cert_file/key_file are set).
 * url gets "http(s)://HOST:PORT" (the actual port when the configured one is 0).
 * CA_ERR_CONFIG for a bad listen address or TLS set-up, CA_ERR_IO when the address cannot
 * be bound (eb says why: "127.0.0.1:8080: Address already in use"). */
ca_err ca_http_start(ca_http_server *srv, char *url, size_t url_cap, ca_errbuf *eb);

/* Graceful stop: closes the listening socket, lets requests in progress finish (up to
 * grace_ms; further responses carry Connection: close), then stops the workers. */
void ca_http_stop(ca_http_server *srv, unsigned grace_ms);

/* Stops if still running and frees the server. NULL is allowed. */
void ca_http_destroy(ca_http_server *srv);

/* ---- helpers for handlers ------------------------------------------------------------------ */

/* Checks the request's bearer token for a public route that needs one in some cases (SPEC §5:
 * a lookup by issue number): true when it is valid and its role is in role_mask
 * (1u << CA_ROLE_...) or is admin (admin may do what any role may); otherwise answers 401 or
 * 403 into resp and returns false. */
bool ca_http_authenticate(ca_http_request *req, ca_http_response *resp, ca_token_info *info,
                          unsigned role_mask);

/* Answers status with a body produced by stream (see ca_http_response.stream); the server
 * owns ctx from here and calls stream_free(ctx) once in every case. */
void ca_http_reply_stream(ca_http_response *resp, int status, const char *ctype,
                          ssize_t (*stream)(void *ctx, char *buf, size_t max),
                          void (*stream_free)(void *ctx), void *ctx);

/* CA_OK when every query parameter's name is one of allowed (NULL-terminated); otherwise
 * CA_ERR_INVALID with eb naming the first unknown one, so a misspelt filter gets 400 instead
 * of an unfiltered answer (issue #12 item 6). */
ca_err ca_http_query_only(const ca_http_request *req, const char *const *allowed,
                          ca_errbuf *eb);

/* The client's address as a rate-limiter key (node/rate_limit.h): 16 bytes, IPv4 mapped into
 * ::ffff:0:0/96. Behind a proxy it is the proxy's. */
void ca_http_client_key(const ca_http_request *req, uint8_t key[16]);
/* The same address as text for the audit log ("-" when unknown); returns text. */
const char *ca_http_client_text(const ca_http_request *req, char *text, size_t cap);

/* A request header (case-insensitive name), or NULL. */
const char *ca_http_header(const ca_http_request *req, const char *name);

/* The percent-decoded value of query parameter name (the first one when repeated).
 * CA_ERR_NOT_FOUND when absent, CA_ERR_INVALID for a bad %-escape or an escaped NUL,
 * CA_ERR_TOO_LARGE when it does not fit in cap bytes with its NUL. */
ca_err ca_http_query(const ca_http_request *req, const char *name, char *out, size_t cap,
                     size_t *len);

/* The query parameter's value as sent (still percent-encoded), or NULL: for building links. */
const char *ca_http_query_raw(const ca_http_request *req, const char *name);

/* Decodes a query number: decimal digits only (no sign, no spaces), no overflow.
 * CA_ERR_NOT_FOUND when absent, CA_ERR_INVALID otherwise, with eb naming the parameter. */
ca_err ca_http_query_u64(const ca_http_request *req, const char *name, uint64_t *value,
                         ca_errbuf *eb);

/* Percent-decodes len bytes of in into out (cap bytes, NUL-terminated). CA_ERR_INVALID for a
 * bad escape or an escaped NUL, CA_ERR_TOO_LARGE when out is too small. */
ca_err ca_http_percent_decode(char *out, size_t cap, size_t *out_len, const char *in,
                              size_t len);

/* Parses the body as JSON (duplicate keys rejected, nesting capped at CA_HTTP_JSON_DEPTH).
 * NULL after answering a 400 problem into resp. The caller decrefs the result. */
struct json_t *ca_http_body_json(const ca_http_request *req, ca_http_response *resp);

/* Answers JSON: dumps o compactly in insertion order and decrefs it (steals the reference). */
void ca_http_reply_json(ca_http_response *resp, int status, struct json_t *o);
/* Answers len bytes of text, copied, with content type ctype (a static string). */
void ca_http_reply_text(ca_http_response *resp, int status, const char *ctype, const char *text,
                        size_t len);
/* Answers a malloc'd body, which the server then owns. */
void ca_http_reply_owned(ca_http_response *resp, int status, const char *ctype, char *body,
                         size_t len);

/* Answers an RFC 9457 problem: {"type":"about:blank","title":<reason phrase>,"status",
 * "detail":<formatted>}, application/problem+json. */
void ca_http_problem(ca_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answers the problem that fits err: INVALID/RANGE 400, NOT_FOUND 404, TOO_LARGE 413,
 * CONFLICT 409,
 * FULL 507, INCONSISTENT 503, anything else 500 (whose detail is logged, not sent). */
void ca_http_problem_err(ca_http_response *resp, ca_err err, const ca_errbuf *eb);

/* Adds a header to the response, e.g. a page's own Content-Security-Policy, which then
 * replaces the server's default "default-src 'none'" (node/http_response.c). name must be an
 * HTTP token (RFC 9110 §5.6.2); value may hold no control character but HTAB (no CR or LF:
 * a value cannot end the header and write another). Both are copied.
 * CA_ERR_INVALID for a bad name or value, or a header that has its own field here or that
 * the server owns (Content-Type, Cache-Control, Allow, WWW-Authenticate, ETag, Link,
 * Content-Disposition, Retry-After; Content-Length, Transfer-Encoding, Connection, Date);
 * CA_ERR_EXISTS when the response already has that header (case-insensitive);
 * CA_ERR_TOO_LARGE past CA_HTTP_EXTRA_HEADERS_MAX headers or the size limits above. The
 * response is unchanged on error. */
ca_err ca_http_response_add_header(ca_http_response *resp, const char *name, const char *value);

/* The client behind reverse proxies (node.trusted_proxies): key (16 bytes, IPv4 mapped into
 * ::ffff:0:0/96) and text (cap bytes) hold the socket's peer; while that address is one of
 * trusted[ntrusted], they become the next address of X-Forwarded-For xff read from the right
 * (the entries to its left are the client's own claims). An entry that is not an IPv4 or
 * IPv6 address stops the walk at the last trusted hop. */
void ca_http_forwarded_client(uint8_t key[16], char *text, size_t cap, const char *xff,
                              const uint8_t (*trusted)[16], size_t ntrusted);

/* The reason phrase of an HTTP status ("Not Found"); "Unknown" for others. */
const char *ca_http_reason(int status);

#ifdef __cplusplus
}
#endif
#endif
