/*
 * node/routes_admin.h — the admin console's own API (issue #17): machine tokens made,
 * listed and revoked by an admin over HTTP (the console's "Users and tokens" view), and the
 * audit chain's check (its "intact" indicator). The routes:
 *     GET  /v1/tokens               admin    every token, never a secret
 *     POST /v1/tokens               admin    {"role","name"?,"expires"?: "90d"} -> 201, the
 *                                            token shown once
 *     POST /v1/tokens/{id}/revoke   admin    refused on the next request
 *     GET  /v1/audit/verify         auditor  {"intact","entries","detail"?}
 *     GET  /v1/templates            issuer   the achievement templates (the upload's picker)
 * Writes are audited by the server (node/http.c), with the token or person who made them.
 */
#ifndef CREDANCHOR_NODE_ROUTES_ADMIN_H
#define CREDANCHOR_NODE_ROUTES_ADMIN_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ca_http_server;

/* Registers the routes on srv. */
ca_err ca_admin_routes_register(struct ca_http_server *srv, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
