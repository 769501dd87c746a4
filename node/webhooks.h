/*
 * Webhooks to LMS and HR systems (issue #18, SPEC §8), per the Standard Webhooks
 * specification: each delivery is an HTTP POST of {"type","timestamp","data":{...}} with the
 * headers webhook-id (stable across retries: the receiver's idempotency key),
 * webhook-timestamp (unix seconds) and webhook-signature "v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>" under the endpoint's whsec_ secret. For 24 hours after a rotation the
 * old secret signs too (two space-separated signatures), so receivers can switch over.
 *
 * Like the email outbox (outbox.h), every delivery is written in the same transaction as the
 * change it reports (the issuer's commits; the anchoring engine's record turning final), so a
 * crash loses none; worker threads send outside any lock and record each attempt; 2xx is
 * delivered, anything else is retried with the outbox's backoff until delivery.deadline.
 * Destinations must be https:// and pass the did:web address guard on the address actually
 * connected to (curl_tls.h), unless webhooks.allow_hosts lists them; answers are read up to a
 * cap, under webhooks.timeout. Secrets are stored sealed under the data key.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_WEBHOOKS_H
#define CREDANCHOR_WEBHOOKS_H

#include "credanchor/common.h"
#include "node/node.h"
#include "node/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_WEBHOOK_ID_LEN 16          /* hex characters */
#define CA_WEBHOOK_SECRET_MAX 64      /* "whsec_" + base64 of 32 bytes, NUL */
#define CA_WEBHOOKS_MAX 64            /* endpoints per node */

/* ---- in a writer's transaction ------------------------------------------------------------ */

/* Queues event (e.g. "credential.issued") with data (borrowed) for every endpoint subscribed
 * to it, in t. Nothing when none is. */
ca_err ca_webhooks_enqueue(ca_store_txn *t, const char *event, const json_t *data, int64_t now,
                           ca_errbuf *eb);

/* ---- endpoints (admin) --------------------------------------------------------------------- */

/* Whether url may be an endpoint: https:// (or http:// for an allow-listed host[:port]),
 * a host, at most 1024 bytes. CA_ERR_INVALID with the reason. */
ca_err ca_webhook_url_check(const ca_config *cfg, const char *url, ca_errbuf *eb);

/* Adds an endpoint for url and events (a JSON array of SPEC §8 event names, validated here),
 * with a new secret into secret_out. *out gets the endpoint's public JSON. */
ca_err ca_webhook_create(ca_node *node, const char *url, const json_t *events,
                         char secret_out[CA_WEBHOOK_SECRET_MAX], json_t **out, ca_errbuf *eb);
/* Every endpoint's public JSON (never a secret). */
ca_err ca_webhook_list(ca_store *store, json_t **out, ca_errbuf *eb);
ca_err ca_webhook_delete(ca_store *store, const char *id, ca_errbuf *eb);
/* A new secret into secret_out; the old one keeps signing for 24 hours. */
ca_err ca_webhook_rotate(ca_node *node, const char *id, char secret_out[CA_WEBHOOK_SECRET_MAX],
                         json_t **out, ca_errbuf *eb);
/* The endpoint's deliveries, newest first (at most limit), each with its attempts. */
ca_err ca_webhook_deliveries(ca_store *store, const char *id, size_t limit, json_t **out,
                             ca_errbuf *eb);
/* Queues delivery seq of endpoint id again (a manual replay: same webhook-id, a new deadline).
 * CA_ERR_CONFLICT while it is still queued. */
ca_err ca_webhook_replay(ca_store *store, const char *id, uint64_t seq, ca_errbuf *eb);

/* ---- serving ------------------------------------------------------------------------------ */

typedef struct ca_webhooks ca_webhooks; /* opaque */

/* Starts webhooks.connections worker threads (node borrowed, opened with its data key). */
ca_err ca_webhooks_start(ca_webhooks **w, ca_node *node, ca_errbuf *eb);
void ca_webhooks_stop(ca_webhooks *w);
/* Wakes the workers after an issuer commit (ca_issuer_on_committed), and notes the node busy
 * so the senders pace themselves while issuance runs (due_pool.h). */
void ca_webhooks_wake(void *w);

#ifdef __cplusplus
}
#endif
#endif
