/*
 * node/metrics.c — the HTTP server's request counters and latency histograms, and the
 * GET /metrics route that prints them with the log's figures and the subsystems' hooks
 * (node/metrics.h). Moved out of node/http.c (issue #14).
 */
#include "node/metrics.h"

#include "node/log.h"

#include <stdatomic.h>
#include <stdlib.h>

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_N 500 /* statuses 100..599 */
#define UNMATCHED_ROUTE CA_HTTP_METRICS_UNMATCHED

/* Histogram upper bounds in seconds (Prometheus "le"), +Inf implied. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                        1,      2.5,     5,      10};
#define NBOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

typedef struct route_metrics {
    _Atomic uint64_t by_status[METRICS_STATUS_N];
    _Atomic uint64_t bucket[NBOUNDS + 1]; /* non-cumulative; the last is +Inf */
    _Atomic uint64_t sum_ns;
    _Atomic uint64_t count;
} route_metrics;

struct ca_http_metrics {
    route_metrics routes[CA_HTTP_MAX_ROUTES + 1]; /* the last: unmatched */
    const char *names[CA_HTTP_MAX_ROUTES];        /* NULL: no route in this slot */
    const _Atomic int *inflight;
    struct {
        void (*fn)(void *ctx, FILE *f);
        void *ctx;
    } hooks[CA_HTTP_METRICS_HOOKS_MAX];
    size_t nhooks;
};

ca_http_metrics *ca_http_metrics_create(const _Atomic int *inflight)
{
    ca_http_metrics *m = calloc(1, sizeof *m);
    if (m)
        m->inflight = inflight;
    return m;
}

void ca_http_metrics_destroy(ca_http_metrics *m)
{
    free(m);
}

void ca_http_metrics_name_route(ca_http_metrics *m, size_t route, const char *pattern)
{
    CA_ASSERT(route < CA_HTTP_MAX_ROUTES);
    m->names[route] = pattern;
}

void ca_http_metrics_add_hook(ca_http_metrics *m, void (*fn)(void *ctx, FILE *f), void *ctx)
{
    CA_ASSERT(m && fn && m->nhooks < CA_HTTP_METRICS_HOOKS_MAX);
    m->hooks[m->nhooks].fn = fn;
    m->hooks[m->nhooks].ctx = ctx;
    m->nhooks++;
}

void ca_http_metrics_count(ca_http_metrics *metrics, size_t route, int status, int64_t dur_ns)
{
    CA_ASSERT(route <= UNMATCHED_ROUTE);
    route_metrics *m = &metrics->routes[route];
    if (status >= METRICS_STATUS_MIN && status < METRICS_STATUS_MIN + METRICS_STATUS_N)
        atomic_fetch_add_explicit(&m->by_status[status - METRICS_STATUS_MIN], 1,
                                  memory_order_relaxed);
    double secs = (double)dur_ns / 1e9;
    size_t b = 0;
    while (b < NBOUNDS && secs > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_ns, (uint64_t)(dur_ns > 0 ? dur_ns : 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

/* Prometheus text format 0.0.4. */
static void h_metrics(ca_http_request *req, ca_http_response *resp)
{
    const ca_http_metrics *mx = req->ctx;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    fputs("# HELP credanchor_http_requests_total HTTP requests answered, by route and status.\n"
          "# TYPE credanchor_http_requests_total counter\n", f);
    for (size_t i = 0; i <= CA_HTTP_MAX_ROUTES; i++) {
        if (i != UNMATCHED_ROUTE && !mx->names[i])
            continue;
        const char *route = i == UNMATCHED_ROUTE ? "unmatched" : mx->names[i];
        for (int s = 0; s < METRICS_STATUS_N; s++) {
            uint64_t v = atomic_load_explicit(&mx->routes[i].by_status[s],
                                              memory_order_relaxed);
            if (v)
                fprintf(f, "credanchor_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                        route, s + METRICS_STATUS_MIN, (unsigned long long)v);
        }
    }
    fputs("# HELP credanchor_http_request_duration_seconds Time from request headers to the "
          "queued response.\n"
          "# TYPE credanchor_http_request_duration_seconds histogram\n", f);
    for (size_t i = 0; i <= CA_HTTP_MAX_ROUTES; i++) {
        if (i != UNMATCHED_ROUTE && !mx->names[i])
            continue;
        const route_metrics *m = &mx->routes[i];
        uint64_t count = atomic_load_explicit(&m->count, memory_order_relaxed);
        if (!count)
            continue;
        const char *route = i == UNMATCHED_ROUTE ? "unmatched" : mx->names[i];
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBOUNDS; b++) {
            cum += atomic_load_explicit(&m->bucket[b], memory_order_relaxed);
            if (b < NBOUNDS)
                fprintf(f, "credanchor_http_request_duration_seconds_bucket{route=\"%s\","
                           "le=\"%g\"} %llu\n", route, latency_bounds[b],
                        (unsigned long long)cum);
            else
                fprintf(f, "credanchor_http_request_duration_seconds_bucket{route=\"%s\","
                           "le=\"+Inf\"} %llu\n", route, (unsigned long long)cum);
        }
        fprintf(f, "credanchor_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route,
                (double)atomic_load_explicit(&m->sum_ns, memory_order_relaxed) / 1e9);
        fprintf(f, "credanchor_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
                (unsigned long long)cum);
    }
    ca_log_stats st;
    ca_log_get_stats(req->node->log, &st);
    fprintf(f,
            "# HELP credanchor_log_tree_size Leaves in the log.\n"
            "# TYPE credanchor_log_tree_size gauge\n"
            "credanchor_log_tree_size %llu\n"
            "# HELP credanchor_log_appends_total New leaves appended since start.\n"
            "# TYPE credanchor_log_appends_total counter\n"
            "credanchor_log_appends_total %llu\n"
            "# HELP credanchor_log_commits_total Log write transactions since start.\n"
            "# TYPE credanchor_log_commits_total counter\n"
            "credanchor_log_commits_total %llu\n"
            "# HELP credanchor_log_appends_blocked 1 while appends are refused (an "
            "inconsistent or held log, or a full store: 507).\n"
            "# TYPE credanchor_log_appends_blocked gauge\n"
            "credanchor_log_appends_blocked %d\n"
            "# HELP credanchor_http_requests_in_flight Requests being handled.\n"
            "# TYPE credanchor_http_requests_in_flight gauge\n"
            "credanchor_http_requests_in_flight %d\n",
            (unsigned long long)st.tree_size, (unsigned long long)st.appended,
            (unsigned long long)st.commits,
            ca_log_append_blocked(req->node->log) || st.store_full ? 1 : 0,
            atomic_load(mx->inflight));
    for (size_t i = 0; i < mx->nhooks; i++)
        mx->hooks[i].fn(mx->hooks[i].ctx, f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    resp->cache_control = "no-store";
    ca_http_reply_owned(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

static const ca_http_route metrics_route[] = {
    {"GET", "/metrics", 0, NULL, h_metrics, NULL},
};

ca_err ca_http_metrics_register(ca_http_server *srv, ca_http_metrics *m, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, metrics_route, 1, m, eb);
}
