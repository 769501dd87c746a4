/*
 * node/routes_auth.h — people's sign-in over HTTP (issue #16): passkey enrollment from an
 * invite, passkey and recovery-code sign-in, the session, passkeys and sessions of the signed-in
 * person, and the admin's user routes. The contract is in docs/openapi.yaml and docs/people.md;
 * the checks live in node/webauthn.c (ceremonies), node/users.c (storage) and
 * node/http_session.c (cookie, Origin, CSRF).
 */
#ifndef CREDANCHOR_NODE_ROUTES_AUTH_H
#define CREDANCHOR_NODE_ROUTES_AUTH_H

#include "credanchor/common.h"
#include "node/node.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ca_http_server;

/* Registers the routes on srv for node (borrowed; both outlive the server). The node must have
 * its data key (CA_NODE_DATA_KEY). Allocates the ceremony table and the sign-in rate limiters,
 * freed by ca_auth_routes_free after the server stops. */
ca_err ca_auth_routes_register(struct ca_http_server *srv, ca_node *node, ca_errbuf *eb);
void ca_auth_routes_free(void);

/* The periodic upkeep `serve` runs (about once a minute): disables people with no sign-in
 * for auth.inactive_days (each with an audit entry) and deletes dead session records. */
void ca_auth_upkeep(ca_node *node);

#ifdef __cplusplus
}
#endif
#endif
