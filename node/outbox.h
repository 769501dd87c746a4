/*
 * The delivery outbox (issue #18, SPEC §8 mail.*): every notification a credential owes its
 * recipient is written into LMDB in the SAME transaction that issues the credential or
 * changes its status (node/issuer.c calls the enqueue functions inside its commit), so a
 * crash never loses one and never sends one for a credential that was not committed.
 *
 * Worker threads (mail.connections of them, each with its own SMTP connection) send what is
 * due, outside any issuer lock, and record each attempt:
 *   queued -> sent                         250 after DATA
 *          -> queued again (retry)         4xx, no connection, TLS trouble: after
 *                                          delivery.retry_base * 2^(attempt-1) (at most an
 *                                          hour), +-20% jitter
 *          -> failed                       5xx for the recipient or message: the address is
 *                                          marked failed, never retried by itself
 *          -> gave_up                      still failing delivery.deadline after queueing
 * One message per (credential, event, channel, sequence): the outbox key is the idempotency
 * key and the Message-ID is derived from it, so the one repeat a crash between the server's
 * 250 and the commit of "sent" can cause carries the same Message-ID (SPEC §8).
 *
 * Contact data (ISO 27701): the recipient's address is stored only sealed with the node's
 * data key (AES-256-GCM, bound to the credential: node/data_key.h) and erased
 * delivery.retention_days after the delivery ends (sent, failed or given up); the salted
 * hash in the credential stays. Backups copy it sealed. Conventions: common.h.
 */
#ifndef CREDANCHOR_OUTBOX_H
#define CREDANCHOR_OUTBOX_H

#include "credanchor/common.h"
#include "node/issuer.h"
#include "node/node.h"
#include "node/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The events a recipient is told about (the key's event byte). */
typedef enum ca_outbox_event {
    CA_OUTBOX_ISSUED = 'i',
    CA_OUTBOX_REVOKED = 'r',
    CA_OUTBOX_SUSPENDED = 's',
    CA_OUTBOX_REINSTATED = 'u',
} ca_outbox_event;

/* ---- in the issuer's transaction ---------------------------------------------------------- */

/* Queues the "credential.issued" email of credential uuid to email (plaintext, sealed here).
 * Does nothing when mail.smtp_url is empty or email is "". CA_ERR_INVALID for an address
 * ca_mail_address_check refuses (the issuance then fails with that reason, before anything is
 * committed); CA_ERR_CONFIG when the node was opened without its data key. */
ca_err ca_outbox_enqueue_issued(ca_store_txn *t, const ca_node *node, const uint8_t uuid[16],
                                const char *email, int64_t now, ca_errbuf *eb);

/* Queues the email of a status change (revoked, suspended, reinstated) to the address the
 * credential's issued email had, while it is still held (not yet erased); nothing otherwise. */
ca_err ca_outbox_enqueue_status(ca_store_txn *t, const ca_node *node, const uint8_t uuid[16],
                                ca_outbox_event event, int64_t now, ca_errbuf *eb);

/* ---- serving ----------------------------------------------------------------------------- */

typedef struct ca_outbox ca_outbox; /* opaque */

/* Starts the workers when mail.smtp_url is set (*ob NULL otherwise, CA_OK). node is opened
 * with its data key, borrowed, and outlives the outbox. CA_ERR_CONFIG for a bad mail.from. */
ca_err ca_outbox_start(ca_outbox **ob, ca_node *node, ca_errbuf *eb);
/* Stops the workers; a message being sent finishes first (bounded by mail.timeout). */
void ca_outbox_stop(ca_outbox *ob);
/* A post-commit hook (ca_issuer_on_committed): wakes the workers for what was just queued. */
void ca_outbox_committed(void *ob, const ca_issuer_event *events, size_t n);

/* ---- reading and acting ------------------------------------------------------------------- */

/* The deliveries of credential uuid, oldest first, as JSON objects {"event","channel",
 * "state","attempts","queuedAt","nextAttemptAt","sentAt","lastError","messageId",
 * "addressHeld","erasedAt","log":[{"at","outcome","code","detail"}]} (never the address),
 * grouped by event (issued, revoked, suspended, reinstated), oldest first in each. */
ca_err ca_outbox_deliveries(ca_store_txn *t, const uint8_t uuid[16], json_t **out);

/* The latest delivery's channel and state ("email", "sent") for the issuance list; "" and ""
 * when there is none. */
void ca_outbox_summary(ca_store_txn *t, const uint8_t uuid[16], char channel[16],
                       char state[16]);

/* Sends the issued email once more (a new message: a new sequence and Message-ID).
 * CA_ERR_NOT_FOUND when it never had one; CA_ERR_CONFLICT while one is still queued or when
 * the address was erased (eb says which). */
ca_err ca_outbox_resend(ca_store *store, const uint8_t uuid[16], int64_t now, ca_errbuf *eb);

/* For `check`: deliveries still holding a sealed address, and those still queued. */
ca_err ca_outbox_counts(ca_store_txn *t, uint64_t *held, uint64_t *queued);

#ifdef __cplusplus
}
#endif
#endif
