/*
 * node/routes_anchor.c — the anchor routes of SPEC §3, registered by ca_anchor_routes_register
 * (node/cli_serve.c) through the server's route table:
 *   GET  /v1/anchors[?after=SIZE]  public: {"anchors":[...]} in ascending tree size
 *   GET  /v1/anchors/latest        public: the newest record, or a 404 problem
 *   POST /v1/anchors               admin: anchor the latest checkpoint now. 202 with the record
 *                                  in progress, 200 with the existing anchor when the latest
 *                                  checkpoint is already anchored, 503 when anchoring is off.
 *   GET  /v1/anchors/account       auditor: the anchor account's funds and the chain's
 *                                  reachability as the engine last checked them (issue #17,
 *                                  node/anchor_account.h); {"configured":false} (200) when
 *                                  anchoring is off, so a dashboard shows that, not an error.
 * The GET routes read the records from the store, so they work with anchoring disabled.
 */
#include "node/anchor_engine.h"
#include "node/http.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void h_list(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    uint64_t after = 0;
    ca_err err = ca_http_query_u64(req, "after", &after, &eb);
    if (err && err != CA_ERR_NOT_FOUND) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    char *json;
    if ((err = ca_anchor_list_json(req->node->store, &json, err ? 0 : after, &eb)))
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_owned(resp, 200, "application/json", json, strlen(json));
}

static void h_latest(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    ca_anchor_record *rec = malloc(sizeof *rec);
    if (!rec) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    ca_err err = ca_anchor_latest(req->node->store, rec, &eb);
    if (err == CA_ERR_NOT_FOUND)
        ca_http_problem(resp, 404, "no anchor yet");
    else if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_json(resp, 200, ca_anchor_record_json(rec));
    free(rec);
}

static void h_post(ca_http_request *req, ca_http_response *resp)
{
    ca_anchor_engine *e = req->ctx;
    if (!e) {
        ca_http_problem(resp, 503, "anchoring is disabled: set anchor.rpc_url and "
                                   "anchor.chain_id");
        return;
    }
    ca_errbuf eb = {{0}};
    ca_anchor_record *rec = malloc(sizeof *rec);
    if (!rec) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    bool accepted;
    ca_err err = ca_anchor_engine_request(e, rec, &accepted, &eb);
    if (err == CA_ERR_RANGE) {
        ca_http_problem(resp, 409, "%s", ca_errmsg(&eb, err));
    } else if (err) {
        ca_http_problem_err(resp, err, &eb);
    } else {
        ca_http_reply_json(resp, accepted ? 202 : 200, ca_anchor_record_json(rec));
        snprintf(resp->detail, sizeof resp->detail, "anchor of tree size %llu: %s",
                 (unsigned long long)rec->tree_size, ca_anchor_status_name(rec->status));
    }
    free(rec);
}

static void h_account(ca_http_request *req, ca_http_response *resp)
{
    ca_anchor_engine *e = req->ctx;
    if (!e) {
        json_t *o = json_object();
        json_object_set_new(o, "configured", json_false());
        ca_http_reply_json(resp, 200, o);
        return;
    }
    ca_http_reply_json(resp, 200, ca_anchor_engine_account_json(e));
}

static const ca_http_route anchor_routes[] = {
    {"GET", "/v1/anchors", 0, NULL, h_list, NULL},
    {"GET", "/v1/anchors/latest", 0, NULL, h_latest, NULL},
    {"GET", "/v1/anchors/account", CA_ROLE_AUDITOR, NULL, h_account, NULL},
    {"POST", "/v1/anchors", CA_ROLE_ADMIN, NULL, h_post, NULL},
};

ca_err ca_anchor_routes_register(struct ca_http_server *srv, ca_anchor_engine *engine,
                                 ca_errbuf *eb)
{
    ca_err err = ca_http_add_routes(srv, anchor_routes,
                                    sizeof anchor_routes / sizeof anchor_routes[0], engine, eb);
    if (!err && engine)
        ca_http_add_metrics_hook(srv, ca_anchor_engine_metrics, engine);
    return err;
}
