/*
 * node/http_response.h — turning a handler's ca_http_response into libmicrohttpd's response
 * with the server's headers (node/http_response.c). Internal to the HTTP server; exposed so
 * that tests/unit/test_http_response.c can check the headers without a socket.
 * Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_HTTP_RESPONSE_H
#define CREDANCHOR_NODE_HTTP_RESPONSE_H

#include "node/http.h"

#include <microhttpd.h>
#include <stdbool.h>

/* Builds the MHD response of resp: its body (or stream), Content-Type (application/json by
 * default), Cache-Control (resp->cache_control, else no-store on role routes and errors,
 * else no-cache), the security headers (X-Content-Type-Options, Referrer-Policy, and the
 * default Content-Security-Policy unless resp carries its own in resp->extra), the headers of
 * the optional fields (Allow, WWW-Authenticate, ETag, Link, Content-Disposition,
 * Retry-After), resp->extra, and Connection: close when closing.
 * The body and the stream pass to the MHD response (resp->stream is NULL afterwards); on
 * failure (NULL, out of memory) they are freed here. */
struct MHD_Response *ca_http_mhd_response(ca_http_response *resp, bool role_route,
                                          bool closing);

#endif
