/*
 * node/routes_delivery.h — a credential's deliveries (issue #18, node/outbox.h):
 *     GET  /v1/credentials/{id}/deliveries          auditor  {"id","issueNumber",
 *                                                            "deliveries":[...]} by event
 *                                                            (issued, revoked, suspended,
 *                                                            reinstated), oldest first in each
 *     POST /v1/credentials/{id}/deliveries/resend   issuer   202: the issued email once more
 *                                                            (409 while one is queued or when
 *                                                            the address was erased; 404 when
 *                                                            it never had one)
 * {id} is the urn:uuid id or the issue number. The address itself is never answered.
 */
#ifndef CREDANCHOR_NODE_ROUTES_DELIVERY_H
#define CREDANCHOR_NODE_ROUTES_DELIVERY_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ca_http_server;

ca_err ca_delivery_routes_register(struct ca_http_server *srv, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
