/*
 * node/routes_log.h — the log routes of SPEC §3 (health, checkpoint, log key(s), proof,
 * consistency, POST /v1/log/entries), served by node/routes_log.c.
 * Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_ROUTES_LOG_H
#define CREDANCHOR_NODE_ROUTES_LOG_H

#include "node/http.h"

/* Registers the log routes on srv (ca_http_add_routes: its errors). ca_http_create calls it
 * first, so these routes keep the first places in the table and in /metrics. */
ca_err ca_log_routes_register(ca_http_server *srv, ca_errbuf *eb);

#endif
