/*
 * node/rate_limit.h — the per-address rate limiter of the HTTP server's public routes
 * (node.rate_limit_per_ip, SPEC §3: 429 with Retry-After).
 *
 * A token bucket per client address in a fixed table: memory stays bounded whatever the
 * number of clients. Safe to call from every worker thread at once (striped locks).
 * Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_RATE_LIMIT_H
#define CREDANCHOR_NODE_RATE_LIMIT_H

#include <stdint.h>

typedef struct ca_rate_limit ca_rate_limit; /* opaque */

/* A limiter allowing per_second requests per address (burst: one second's worth); 0 or less
 * allows everything. NULL when out of memory. */
ca_rate_limit *ca_rate_limit_create(double per_second);

/* The same with its own burst (the bucket's size, at least 1): e.g. 10 per minute with a burst
 * of 10 for a form a person fills in. */
ca_rate_limit *ca_rate_limit_create_burst(double per_second, double burst);

/* NULL is allowed. */
void ca_rate_limit_destroy(ca_rate_limit *rl);

/* Takes one request of the address key (16 bytes, IPv4 mapped into ::ffff:0:0/96) at
 * now_ns (CLOCK_MONOTONIC). Returns 0 when allowed, otherwise the seconds to wait. */
unsigned ca_rate_limit_take(ca_rate_limit *rl, const uint8_t key[16], int64_t now_ns);

#endif
