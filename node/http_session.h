/*
 * node/http_session.h — people's sessions on HTTP (issue #16 "Sessions"): the session cookie,
 * the same-origin and CSRF checks of state-changing requests, and a session as the caller of
 * a role route, beside bearer tokens.
 *
 * The cookie is "__Host-credanchor" with Secure, HttpOnly, SameSite=Strict and Path=/
 * (RFC 6265bis §4.1.3.2: the __Host- prefix pins it to this exact host, over HTTPS, for the
 * whole site). Only when node.public_url is plain http on a loopback name (localhost,
 * 127.0.0.1, [::1]: development) is it "credanchor_session" without Secure, which browsers
 * would not store over http. Its value is "<session id>.<secret>" (node/users.h).
 *
 * A request that changes state under a session must carry Origin equal to public_url's origin
 * (a cross-site form or fetch carries its own) and X-CSRF-Token equal to the session's CSRF
 * token (which only a page of this origin can read from the session JSON). Bearer-token
 * requests need neither: a browser never adds a bearer token by itself.
 * Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_HTTP_SESSION_H
#define CREDANCHOR_NODE_HTTP_SESSION_H

#include "node/auth.h"
#include "node/config.h"
#include "node/http.h"
#include "node/users.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_WEB_ORIGIN_MAX 300 /* "https://" + host[:port] */

/* The cookie's name for this public_url: "__Host-credanchor" or, on plain http to a loopback
 * name, "credanchor_session". */
const char *ca_session_cookie_name(const ca_config *cfg);

/* public_url's origin ("https://issuer.example", "http://localhost:8080"; no path) and RP ID
 * (its host without port). "" when public_url has no host (config validation prevents it). */
void ca_public_origin(const ca_config *cfg, char out[CA_WEB_ORIGIN_MAX]);
void ca_public_rp_id(const ca_config *cfg, char out[CA_WEB_ORIGIN_MAX]);

/* The session cookie's value from the Cookie header into out (CA_SESSION_COOKIE_MAX), or
 * NULL when absent or too long. */
const char *ca_http_session_cookie(const ca_http_request *req, char out[CA_SESSION_COOKIE_MAX]);

/* Adds Set-Cookie for value (a new session) or, with value NULL, one that clears it.
 * max_age: seconds the browser keeps it (the absolute timeout). */
ca_err ca_http_set_session_cookie(ca_http_response *resp, const ca_config *cfg,
                                  const char *value, int64_t max_age);

/* True when the request's Origin header equals public_url's origin. */
bool ca_http_origin_ok(const ca_http_request *req);

/* What ca_http_session_check found. */
typedef struct ca_http_session {
    ca_session session; /* csrf_hash set */
    ca_user user;       /* name and email in clear when the node has its data key */
} ca_http_session;

/* Checks the request's session cookie (node/users.h ca_session_check with auth.* timeouts).
 * For a method other than GET and HEAD it also checks Origin and X-CSRF-Token. On success
 * fills *out and returns true. Otherwise answers 401 (no, unknown, expired or revoked
 * session; the reason stays in the node's log; *out zeroed) or 403 (Origin or CSRF; *out
 * still names the session and the person) into resp. */
bool ca_http_session_check(ca_http_request *req, ca_http_response *resp, ca_http_session *out);

/* Fills a caller record for the audit log and role checks from a checked session: id "",
 * roles, role = the first of them (admin, issuer, revoker, auditor), user_id, session_id and
 * display_name. */
void ca_http_session_caller(ca_token_info *info, const ca_http_session *hs);

/* ca_http_authenticate's path for a request without Authorization: a session, as a caller
 * with role_mask's roles (admin always passes). A session that must enrol a passkey first
 * (after a recovery code) gets 403 on every role route. False after answering into resp. */
bool ca_http_session_authenticate(ca_http_request *req, ca_http_response *resp,
                                  ca_token_info *info, unsigned role_mask);

#ifdef __cplusplus
}
#endif
#endif
