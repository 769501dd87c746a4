/*
 * node/routes_webhooks.h — webhook endpoints (issue #18, SPEC §8, node/webhooks.h), all admin:
 *     POST   /v1/webhooks                                 {"url","events":[...]} -> 201
 *                                                         {"id","secret","url","events",...};
 *                                                         the whsec_ secret is shown once
 *     GET    /v1/webhooks                                 every endpoint, never a secret
 *     DELETE /v1/webhooks/{id}                            its queued deliveries are dropped
 *     POST   /v1/webhooks/{id}/rotate                     a new secret; the old one keeps
 *                                                         signing for 24 hours
 *     GET    /v1/webhooks/{id}/deliveries                 the delivery log, newest first
 *     POST   /v1/webhooks/{id}/deliveries/{seq}/replay    202: queued again, same webhook-id
 * Writes are audited by the server (node/http.c), with the token or person who made them.
 */
#ifndef CREDANCHOR_NODE_ROUTES_WEBHOOKS_H
#define CREDANCHOR_NODE_ROUTES_WEBHOOKS_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ca_http_server;

ca_err ca_webhook_routes_register(struct ca_http_server *srv, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
