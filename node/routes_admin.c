/* node/routes_admin.c — the admin console's own API (node/routes_admin.h, issue #17). */
#include "node/routes_admin.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "node/auth.h"
#include "node/bulk.h"
#include "node/http.h"
#include "node/node.h"
#include "node/node_log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_BODY "application/json"
#define DEFAULT_TOKEN_LIFE "90d" /* issue #17: a machine token expires, 90 days unless said */

/* GET /v1/tokens: every token, oldest first, as `token list --json` prints them. */
static void h_tokens_list(ca_http_request *req, ca_http_response *resp)
{
    ca_token_info *list = NULL;
    size_t n = 0;
    ca_errbuf eb = {{0}};
    ca_err err = ca_token_list(req->node->store, &list, &n, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, ca_token_json(&list[i], now));
    free(list);
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "tokens", arr));
}

/* The checked body of POST /v1/tokens; false after answering 400. */
static bool token_request(ca_http_response *resp, const json_t *body, ca_role *role,
                          const char **name, int64_t *life)
{
    const char *role_s = json_string_value(json_object_get(body, "role"));
    if (!role_s || ca_role_parse(role, role_s)) {
        ca_http_problem(resp, 400, "role: admin, issuer, revoker or auditor");
        return false;
    }
    const json_t *name_v = json_object_get(body, "name");
    *name = json_string_value(name_v);
    if ((name_v && !json_is_string(name_v)) || (*name && strlen(*name) >= CA_TOKEN_NAME_MAX)) {
        ca_http_problem(resp, 400, "name: a string of at most %d bytes", CA_TOKEN_NAME_MAX - 1);
        return false;
    }
    const json_t *exp_v = json_object_get(body, "expires");
    const char *exp_s = exp_v ? json_string_value(exp_v) : DEFAULT_TOKEN_LIFE;
    /* At most ten years: a token is for a machine's lifetime, and the sum stays in range. */
    if (!exp_s || ca_duration_parse(life, exp_s) || *life > 3650LL * 86400) {
        ca_http_problem(resp, 400, "expires: a duration such as \"90d\", \"12h\" or \"30m\", "
                                   "at most 3650d");
        return false;
    }
    return true;
}

/* POST /v1/tokens {"role","name"?,"expires"?}: 201 {"token","id","role","name","createdAt",
 * "expiresAt",...}. The token is in this answer only; the node keeps its SHA-256. The audit
 * entry is written here, before the token is shown: a token whose creation cannot be put on
 * record is revoked and never shown (as `token create` does). */
static void h_token_create(ca_http_request *req, ca_http_response *resp)
{
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    ca_role role;
    const char *name;
    int64_t life;
    if (!token_request(resp, body, &role, &name, &life)) {
        json_decref(body);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    char token[CA_TOKEN_MAX];
    ca_token_info info;
    ca_errbuf eb = {{0}};
    ca_err err = ca_token_create(req->node->store, token, &info, role, now + life, name, &eb);
    json_decref(body);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    char detail[160], expires[CA_DATETIME_MAX], client[64];
    ca_datetime_format(expires, info.expires_at);
    snprintf(detail, sizeof detail, "created token %s: role %s, expires %s", info.id,
             ca_role_name(info.role), expires);
    ca_audit_event ev = {.token = req->token, .method = req->method, .route = req->route,
                         .status = 201, .detail = detail,
                         .client = ca_http_client_text(req, client, sizeof client)};
    if ((err = ca_audit_append(req->node->store, &ev, &eb))) {
        ca_errbuf ignored;
        ca_token_revoke(req->node->store, info.id, &ignored);
        ca_wipe(token, sizeof token);
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    resp->audited = true;
    json_t *o = ca_token_json(&info, now);
    json_object_set_new(o, "token", json_string(token));
    ca_wipe(token, sizeof token);
    ca_http_reply_json(resp, 201, o);
}

/* POST /v1/tokens/{id}/revoke: the token is refused from the next request on. */
static void h_token_revoke(ca_http_request *req, ca_http_response *resp)
{
    const char *id = req->params[0];
    ca_errbuf eb = {{0}};
    ca_err err = strlen(id) == CA_TOKEN_ID_MAX - 1 ? ca_token_revoke(req->node->store, id, &eb)
                                                   : CA_ERR_NOT_FOUND;
    if (err == CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 404, "no token has this id");
        return;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    ca_token_info *list = NULL;
    size_t n = 0;
    json_t *o = NULL;
    if (ca_token_list(req->node->store, &list, &n, &eb) == CA_OK)
        for (size_t i = 0; i < n && !o; i++)
            if (strcmp(list[i].id, id) == 0)
                o = ca_token_json(&list[i], (int64_t)time(NULL));
    free(list);
    snprintf(resp->detail, sizeof resp->detail, "revoked token %s", id);
    ca_http_reply_json(resp, 200, json_pack("{s:o*}", "token", o));
}

/* GET /v1/audit/verify: walks the hash chain; {"intact":true,"entries":N} or {"intact":false,
 * "entries":null,"detail":"<the first broken entry>"}. */
static void h_audit_verify(ca_http_request *req, ca_http_response *resp)
{
    uint64_t entries = 0;
    ca_errbuf eb = {{0}};
    ca_err err = ca_audit_verify(req->node->store, &entries, &eb);
    if (err && err != CA_ERR_VERIFY) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *o = err ? json_pack("{s:b, s:n, s:s}", "intact", 0, "entries", "detail",
                                ca_errmsg(&eb, err))
                    : json_pack("{s:b, s:I}", "intact", 1, "entries", (json_int_t)entries);
    ca_http_reply_json(resp, 200, o);
}

static const ca_http_route admin_routes[] = {
    {"GET", "/v1/tokens", CA_ROLE_ADMIN, NULL, h_tokens_list, NULL},
    {"POST", "/v1/tokens", CA_ROLE_ADMIN, JSON_BODY, h_token_create, NULL},
    {"POST", "/v1/tokens/{id}/revoke", CA_ROLE_ADMIN, NULL, h_token_revoke, NULL},
    {"GET", "/v1/audit/verify", CA_ROLE_AUDITOR, NULL, h_audit_verify, NULL},
};

ca_err ca_admin_routes_register(struct ca_http_server *srv, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, admin_routes, sizeof admin_routes / sizeof admin_routes[0],
                              NULL, eb);
}
