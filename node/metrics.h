/*
 * node/metrics.h — the HTTP server's request metrics and the GET /metrics route (Prometheus
 * text format 0.0.4), served by node/metrics.c.
 *
 * Per route (by its index in the server's table, plus one slot for requests that matched no
 * route): a counter per status and a latency histogram. Counting is lock-free (relaxed
 * atomics) from every worker thread; the route names and the hooks are set before the
 * server starts and read-only after. Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_METRICS_H
#define CREDANCHOR_NODE_METRICS_H

#include "node/http.h"

#include <stdint.h>
#include <stdio.h>

/* The metrics slot of requests that matched no route (reported as route="unmatched"). */
#define CA_HTTP_METRICS_UNMATCHED CA_HTTP_MAX_ROUTES

typedef struct ca_http_metrics ca_http_metrics; /* opaque */

/* Metrics for up to CA_HTTP_MAX_ROUTES routes; /metrics reports *inflight (borrowed: the
 * server's in-flight count) as credanchor_http_requests_in_flight. NULL when out of memory. */
ca_http_metrics *ca_http_metrics_create(const _Atomic int *inflight);

/* NULL is allowed. */
void ca_http_metrics_destroy(ca_http_metrics *m);

/* Names slot route (< CA_HTTP_MAX_ROUTES) after its pattern (borrowed); only named slots and
 * the unmatched one are reported. Only before the server starts. */
void ca_http_metrics_name_route(ca_http_metrics *m, size_t route, const char *pattern);

/* Counts one answered request of slot route (a route index or CA_HTTP_METRICS_UNMATCHED)
 * with its status and its time from the request headers to the queued response. */
void ca_http_metrics_count(ca_http_metrics *m, size_t route, int status, int64_t dur_ns);

/* See ca_http_add_metrics_hook (a caller bug past CA_HTTP_METRICS_HOOKS_MAX). */
void ca_http_metrics_add_hook(ca_http_metrics *m, void (*fn)(void *ctx, FILE *f), void *ctx);

/* Registers GET /metrics on srv, answering from m (ca_http_add_routes: its errors). */
ca_err ca_http_metrics_register(ca_http_server *srv, ca_http_metrics *m, ca_errbuf *eb);

#endif
