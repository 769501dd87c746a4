/* A credential's deliveries over HTTP (routes_delivery.h). */
#include "node/routes_delivery.h"

#include "node/http.h"
#include "node/issuer.h"
#include "node/outbox.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

#define REF_MAX 256

/* The credential of the {id} segment: its uuid and record (the caller decrefs), or false
 * with the answer made (400, 404). */
static bool find(ca_http_request *req, ca_http_response *resp, uint8_t uuid[16], json_t **rec)
{
    char ref[REF_MAX];
    size_t len;
    if (ca_http_percent_decode(ref, REF_MAX, &len, req->params[0], strlen(req->params[0]))) {
        ca_http_problem(resp, 400, "the credential id in the path is not valid");
        return false;
    }
    ca_errbuf eb = {{0}};
    ca_err err = ca_credential_find(req->node->store, ref, uuid, rec, NULL, NULL, &eb);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    return err == CA_OK;
}

static void h_deliveries(ca_http_request *req, ca_http_response *resp)
{
    uint8_t uuid[16];
    json_t *rec = NULL, *list = NULL;
    if (!find(req, resp, uuid, &rec))
        return;
    ca_store_txn *t;
    ca_errbuf eb = {{0}};
    ca_err err = ca_store_begin(req->node->store, &t, false, &eb);
    if (!err) {
        err = ca_outbox_deliveries(t, uuid, &list);
        ca_store_abort(t);
    }
    if (err)
        ca_http_problem(resp, 500, "cannot read the deliveries: %s", ca_strerror(err));
    else
        ca_http_reply_json(resp, 200,
                           json_pack("{s:O, s:O, s:o}", "id", json_object_get(rec, "id"),
                                     "issueNumber", json_object_get(rec, "issueNumber"),
                                     "deliveries", list));
    json_decref(rec);
}

static void h_resend(ca_http_request *req, ca_http_response *resp)
{
    uint8_t uuid[16];
    json_t *rec = NULL;
    if (!find(req, resp, uuid, &rec))
        return;
    ca_errbuf eb = {{0}};
    ca_err err = ca_outbox_resend(req->node->store, uuid, (int64_t)time(NULL), &eb);
    const char *number = json_string_value(json_object_get(rec, "issueNumber"));
    if (err) {
        ca_http_problem_err(resp, err, &eb);
    } else {
        snprintf(resp->detail, sizeof resp->detail, "resend the email of %s", number);
        ca_http_reply_json(resp, 202, json_pack("{s:O, s:O, s:s}", "id",
                                                json_object_get(rec, "id"), "issueNumber",
                                                json_object_get(rec, "issueNumber"), "state",
                                                "queued"));
    }
    json_decref(rec);
}

static const ca_http_route delivery_routes[] = {
    {"GET", "/v1/credentials/{id}/deliveries", CA_ROLE_AUDITOR, NULL, h_deliveries, NULL},
    {"POST", "/v1/credentials/{id}/deliveries/resend", CA_ROLE_ISSUER, NULL, h_resend, NULL},
};

ca_err ca_delivery_routes_register(struct ca_http_server *srv, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, delivery_routes,
                              sizeof delivery_routes / sizeof delivery_routes[0], NULL, eb);
}
