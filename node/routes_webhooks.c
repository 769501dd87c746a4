/* Webhook endpoints over HTTP (routes_webhooks.h). */
#include "node/routes_webhooks.h"

#include "credanchor/json_fields.h"
#include "node/http.h"
#include "node/webhooks.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define JSON_BODY "application/json"
#define DELIVERIES_LIMIT 100

/* POST /v1/webhooks {"url","events"} (SPEC §8): 201 {"id","secret",...}, the secret shown
 * once. */
static void h_create(ca_http_request *req, ca_http_response *resp)
{
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
        if (strcmp(k, "url") && strcmp(k, "events")) {
            ca_http_problem(resp, 400, "unknown member \"%.64s\" (allowed: url, events)", k);
            json_decref(body);
            return;
        }
    const char *url = ca_json_str(body, "url");
    char secret[CA_WEBHOOK_SECRET_MAX];
    json_t *ep = NULL;
    ca_errbuf eb = {{0}};
    ca_err err = url ? ca_webhook_create(req->node, url, json_object_get(body, "events"), secret,
                                         &ep, &eb)
                     : ca_fail(&eb, CA_ERR_INVALID, "url: required");
    json_decref(body);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    snprintf(resp->detail, sizeof resp->detail, "webhook %s added for %.100s",
             ca_json_str(ep, "id"), ca_json_str(ep, "url"));
    json_object_set_new(ep, "secret", json_string(secret));
    ca_wipe(secret, sizeof secret);
    ca_http_reply_json(resp, 201, ep);
}

static void h_list(ca_http_request *req, ca_http_response *resp)
{
    json_t *list = NULL;
    ca_errbuf eb = {{0}};
    ca_err err = ca_webhook_list(req->node->store, &list, &eb);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_json(resp, 200, json_pack("{s:o}", "webhooks", list));
}

static void h_delete(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    ca_err err = ca_webhook_delete(req->node->store, req->params[0], &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    snprintf(resp->detail, sizeof resp->detail, "webhook %.16s deleted", req->params[0]);
    ca_http_reply_json(resp, 200, json_pack("{s:s, s:b}", "id", req->params[0], "deleted", 1));
}

/* POST /v1/webhooks/{id}/rotate: a new secret, shown once; the old one signs for 24 h. */
static void h_rotate(ca_http_request *req, ca_http_response *resp)
{
    char secret[CA_WEBHOOK_SECRET_MAX];
    json_t *ep = NULL;
    ca_errbuf eb = {{0}};
    ca_err err = ca_webhook_rotate(req->node, req->params[0], secret, &ep, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    snprintf(resp->detail, sizeof resp->detail, "webhook %.16s secret rotated", req->params[0]);
    json_object_set_new(ep, "secret", json_string(secret));
    ca_wipe(secret, sizeof secret);
    ca_http_reply_json(resp, 200, ep);
}

static void h_deliveries(ca_http_request *req, ca_http_response *resp)
{
    json_t *list = NULL;
    ca_errbuf eb = {{0}};
    ca_err err = ca_webhook_deliveries(req->node->store, req->params[0], DELIVERIES_LIMIT, &list,
                                       &eb);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_json(resp, 200, json_pack("{s:s, s:o}", "id", req->params[0],
                                                "deliveries", list));
}

/* POST /v1/webhooks/{id}/deliveries/{seq}/replay: 202, queued again (manual replay). */
static void h_replay(ca_http_request *req, ca_http_response *resp)
{
    const char *s = req->params[1];
    char *end;
    unsigned long long seq = strtoull(s, &end, 10);
    if (!s[0] || *end || strlen(s) > 19) {
        ca_http_problem(resp, 400, "the delivery number in the path is not a number");
        return;
    }
    ca_errbuf eb = {{0}};
    ca_err err = ca_webhook_replay(req->node->store, req->params[0], seq, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    snprintf(resp->detail, sizeof resp->detail, "webhook %.16s delivery %llu replayed",
             req->params[0], seq);
    ca_http_reply_json(resp, 202, json_pack("{s:s, s:I, s:s}", "id", req->params[0], "seq",
                                            (json_int_t)seq, "state", "queued"));
}

static const ca_http_route webhook_routes[] = {
    {"POST", "/v1/webhooks", CA_ROLE_ADMIN, JSON_BODY, h_create, NULL},
    {"GET", "/v1/webhooks", CA_ROLE_ADMIN, NULL, h_list, NULL},
    {"DELETE", "/v1/webhooks/{id}", CA_ROLE_ADMIN, NULL, h_delete, NULL},
    {"POST", "/v1/webhooks/{id}/rotate", CA_ROLE_ADMIN, NULL, h_rotate, NULL},
    {"GET", "/v1/webhooks/{id}/deliveries", CA_ROLE_ADMIN, NULL, h_deliveries, NULL},
    {"POST", "/v1/webhooks/{id}/deliveries/{seq}/replay", CA_ROLE_ADMIN, NULL, h_replay, NULL},
};

ca_err ca_webhook_routes_register(struct ca_http_server *srv, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, webhook_routes,
                              sizeof webhook_routes / sizeof webhook_routes[0], NULL, eb);
}
