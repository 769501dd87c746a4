/*
 * node/http_session.c — the session cookie, Origin and CSRF checks, and sessions as callers of
 * role routes (issue #16). See node/http_session.h.
 */
#include "node/http_session.h"

#include "node/node.h"
#include "node/node_log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define COOKIE_SECURE "__Host-credanchor"
#define COOKIE_DEV "credanchor_session"

/* The host[:port] of public_url into out, and where the scheme ends. */
static bool url_authority(const char *url, char *out, size_t cap, bool *https)
{
    *https = strncasecmp(url, "https://", 8) == 0;
    const char *p = strstr(url, "://");
    out[0] = 0;
    if (!p)
        return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

/* The host without its port: "localhost", "issuer.example", "[::1]". */
static void authority_host(char *host, size_t cap, const char *authority)
{
    size_t n = authority[0] == '[' ? strcspn(authority, "]") + 1 : strcspn(authority, ":");
    if (n >= cap)
        n = cap - 1;
    memcpy(host, authority, n);
    host[n] = 0;
}

/* Plain http to a loopback name: the only place the cookie drops Secure (development). */
static bool dev_loopback(const ca_config *cfg)
{
    char auth[CA_WEB_ORIGIN_MAX], host[CA_WEB_ORIGIN_MAX];
    bool https;
    if (!url_authority(cfg->node_public_url, auth, sizeof auth, &https) || https)
        return false;
    authority_host(host, sizeof host, auth);
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "[::1]") == 0;
}

const char *ca_session_cookie_name(const ca_config *cfg)
{
    return dev_loopback(cfg) ? COOKIE_DEV : COOKIE_SECURE;
}

void ca_public_origin(const ca_config *cfg, char out[CA_WEB_ORIGIN_MAX])
{
    char auth[CA_WEB_ORIGIN_MAX - 10];
    bool https;
    out[0] = 0;
    if (url_authority(cfg->node_public_url, auth, sizeof auth, &https)) {
        /* Origins are ASCII lower case in scheme and host (RFC 6454 §6.1). */
        for (char *c = auth; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        snprintf(out, CA_WEB_ORIGIN_MAX, "%s://%s", https ? "https" : "http", auth);
    }
}

void ca_public_rp_id(const ca_config *cfg, char out[CA_WEB_ORIGIN_MAX])
{
    char origin[CA_WEB_ORIGIN_MAX];
    ca_public_origin(cfg, origin);
    const char *p = strstr(origin, "://");
    out[0] = 0;
    if (p)
        authority_host(out, CA_WEB_ORIGIN_MAX, p + 3);
}

const char *ca_http_session_cookie(const ca_http_request *req, char out[CA_SESSION_COOKIE_MAX])
{
    const char *h = ca_http_header(req, "Cookie");
    const char *name = ca_session_cookie_name(&req->node->cfg);
    size_t nlen = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        size_t len = strcspn(h, ";");
        if (len > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            while (vlen && h[nlen + 1 + vlen - 1] == ' ')
                vlen--;
            if (vlen == 0 || vlen >= CA_SESSION_COOKIE_MAX)
                return NULL;
            memcpy(out, h + nlen + 1, vlen);
            out[vlen] = 0;
            return out;
        }
        h += len;
    }
    return NULL;
}

ca_err ca_http_set_session_cookie(ca_http_response *resp, const ca_config *cfg,
                                  const char *value, int64_t max_age)
{
    char v[CA_SESSION_COOKIE_MAX + 160];
    bool dev = dev_loopback(cfg);
    snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld;%s HttpOnly; SameSite=Strict",
             dev ? COOKIE_DEV : COOKIE_SECURE, value ? value : "",
             value ? (long long)max_age : 0LL, dev ? "" : " Secure;");
    return ca_http_response_add_header(resp, "Set-Cookie", v);
}

bool ca_http_origin_ok(const ca_http_request *req)
{
    const char *o = ca_http_header(req, "Origin");
    char want[CA_WEB_ORIGIN_MAX];
    ca_public_origin(&req->node->cfg, want);
    return o && want[0] && strcasecmp(o, want) == 0;
}

static bool is_read(const ca_http_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

bool ca_http_session_check(ca_http_request *req, ca_http_response *resp, ca_http_session *out)
{
    char cookie[CA_SESSION_COOKIE_MAX];
    memset(out, 0, sizeof *out);
    if (!ca_http_session_cookie(req, cookie)) {
        resp->www_authenticate = "Bearer realm=\"credanchor\"";
        ca_http_problem(resp, 401, "this route needs an Authorization: Bearer token or a "
                                   "signed-in session");
        return false;
    }
    const ca_config *cfg = &req->node->cfg;
    ca_errbuf eb = {{0}};
    ca_err err = ca_session_check(req->node->store, &out->session, &out->user, cookie,
                                  (int64_t)time(NULL), (int64_t)cfg->auth_idle_timeout,
                                  (int64_t)cfg->auth_absolute_timeout, &eb);
    ca_wipe(cookie, sizeof cookie);
    if (err) {
        if (err != CA_ERR_PERMISSION)
            ca_node_log(CA_NODE_LOG_ERROR, "session", "%s", ca_errmsg(&eb, err));
        resp->www_authenticate = "Bearer realm=\"credanchor\"";
        ca_http_problem(resp, 401, "the session is invalid, expired or signed out: sign in "
                                   "again");
        return false;
    }
    /* The person's name and email first, so that a refusal below names them too. */
    if (req->node->data_key) {
        ca_user full;
        if (ca_user_get(req->node->store, req->node->data_key, &full, out->user.id, &eb) ==
            CA_OK) {
            snprintf(out->user.name, sizeof out->user.name, "%s", full.name);
            snprintf(out->user.email, sizeof out->user.email, "%s", full.email);
        }
    }
    if (!is_read(req)) {
        if (!ca_http_origin_ok(req)) {
            ca_http_problem(resp, 403, "a change under a session must come from this node's "
                                       "own pages (the Origin header does not match)");
            return false;
        }
        if (!ca_session_csrf_ok(&out->session, ca_http_header(req, "X-CSRF-Token"))) {
            ca_http_problem(resp, 403, "a change under a session needs the session's "
                                       "X-CSRF-Token header");
            return false;
        }
    }
    return true;
}

void ca_http_session_caller(ca_token_info *info, const ca_http_session *hs)
{
    memset(info, 0, sizeof *info);
    info->roles = hs->user.roles;
    info->role = CA_ROLE_AUDITOR;
    for (int r = CA_ROLE_AUDITOR; r >= CA_ROLE_ADMIN; r--)
        if (hs->user.roles & (1u << r))
            info->role = (ca_role)r;
    info->created_at = hs->session.created_at;
    snprintf(info->user_id, sizeof info->user_id, "%s", hs->user.id);
    snprintf(info->session_id, sizeof info->session_id, "%s", hs->session.id);
    snprintf(info->display_name, sizeof info->display_name, "%s", hs->user.name);
}

bool ca_http_session_authenticate(ca_http_request *req, ca_http_response *resp,
                                  ca_token_info *info, unsigned role_mask)
{
    ca_http_session hs;
    bool ok = ca_http_session_check(req, resp, &hs);
    /* A refusal of a known session (Origin, CSRF) is counted against the person in the
     * audit log's denial table (node/http.c route_token), so info names them; otherwise it
     * names nobody. */
    ca_http_session_caller(info, &hs);
    if (!ok)
        return false;
    if (hs.user.must_enroll_passkey) {
        ca_http_problem(resp, 403, "this session came from a recovery code: add a new passkey "
                                   "first (/admin/account)");
        return false;
    }
    role_mask |= 1u << CA_ROLE_ADMIN;
    if (!(role_mask & hs.user.roles)) {
        char names[64];
        ca_roles_text(names, sizeof names, role_mask, " or ");
        ca_http_problem(resp, 403, "this route needs role %s", names);
        return false;
    }
    return true;
}
