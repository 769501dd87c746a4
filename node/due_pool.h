/*
 * A pool of worker threads over a "due" table (issue #18: the email outbox and webhooks):
 * the table's keys start with a due time (8 bytes, big-endian unix seconds), so a scan from
 * the start meets what is due first. Each worker claims the first due key no other worker is
 * on (and that may_take allows, e.g. a per-destination limit), runs work on it outside any
 * lock, and looks again; with nothing due it sleeps until woken or for a second (retries come
 * due, and other processes, e.g. the CLI's issue, queue work too). work must remove or move
 * the key it was given, in its own store transaction, or it is taken again.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_DUE_POOL_H
#define CREDANCHOR_DUE_POOL_H

#include "credanchor/common.h"
#include "node/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DUE_POOL_MAX_WORKERS 64
#define CA_DUE_KEY_MAX 64

typedef struct ca_due_pool ca_due_pool; /* opaque */

typedef struct ca_due_pool_options {
    ca_store *store;
    ca_table table;
    size_t key_len;    /* every key of the table is this long (<= CA_DUE_KEY_MAX) */
    size_t workers;    /* 1 .. CA_DUE_POOL_MAX_WORKERS */
    const char *name;  /* for the log */
    /* Whether key may be taken while the n keys in inflight are worked on (NULL: yes). */
    bool (*may_take)(void *ctx, const uint8_t *key, const uint8_t (*inflight)[CA_DUE_KEY_MAX],
                     size_t n);
    /* Works on key. *thread_state is the worker's own (NULL at first), kept between calls. */
    void (*work)(void *ctx, void **thread_state, const uint8_t *key);
    /* Frees a worker's thread state when it stops (may be NULL). */
    void (*thread_done)(void *thread_state);
    void *ctx;
} ca_due_pool_options;

ca_err ca_due_pool_start(ca_due_pool **pool, const ca_due_pool_options *o, ca_errbuf *eb);
/* Wakes the idle workers (something was just queued). NULL is ignored. */
void ca_due_pool_wake(ca_due_pool *pool);
/* Stops the workers, each after the key it is on. NULL is ignored. */
void ca_due_pool_stop(ca_due_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
