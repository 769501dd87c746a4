/*
 * A pool of worker threads over a "due" table (issue #18: the email outbox and webhooks):
 * the table's keys start with a due time (8 bytes, big-endian unix seconds), so a scan from
 * the start meets what is due first. Each worker claims the first due key no other worker is
 * on (and that may_take allows, e.g. a per-destination limit), sends it outside any lock,
 * then has its outcome recorded and waits for that commit before it looks again (so a crash
 * repeats at most one delivery per worker). Outcomes that finish together are recorded in
 * one write transaction by whichever worker finds no commit running (a group commit, as the
 * log's), so deliveries cost a fraction of an fsync each and hold LMDB's writer lock, which
 * issuance needs, far less. With nothing due a worker sleeps until woken or for a second
 * (retries come due, and other processes, e.g. the CLI's issue, queue work too).
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
    /* Works on key outside any lock and transaction (an SMTP exchange, an HTTP POST) and
     * returns what to record (malloc'd); NULL when nothing was done (out of memory: the key
     * is taken again later). *thread_state is the worker's own (NULL at first), kept between
     * calls. */
    void *(*send)(void *ctx, void **thread_state, const uint8_t *key);
    /* Records one outcome in t, removing or moving key. Outcomes of several workers share one
     * write transaction (one fsync; the group commit), which may run again from the start when
     * the map grows, so record derives every write from t and the outcome. */
    ca_err (*record)(void *ctx, ca_store_txn *t, const uint8_t *key, const void *outcome,
                     ca_errbuf *eb);
    /* After that commit (err its result, why its message): logs and frees outcome. */
    void (*finish)(void *ctx, const uint8_t *key, void *outcome, ca_err err, const char *why);
    /* Frees a worker's thread state when it stops (may be NULL). */
    void (*thread_done)(void *thread_state);
    /* Added to the workers' nice value, so that under CPU contention the request threads
     * (issuance) go first: deliveries are never urgent to the millisecond. */
    int nice;
    /* While the node is busy (ca_due_pool_note_busy within the last CA_DUE_BUSY_MS), each
     * worker leaves at least this many milliseconds between two sends (0: no pacing): the
     * deliveries go on at a floor rate (workers x 1000 / yield_gap_ms per second) and the
     * CPU and LMDB's writer lock go to the busy work (issue #18: issuance unchanged within
     * 10% while deliveries run). */
    unsigned yield_gap_ms;
    void *ctx;
} ca_due_pool_options;

ca_err ca_due_pool_start(ca_due_pool **pool, const ca_due_pool_options *o, ca_errbuf *eb);
/* Wakes the idle workers (something was just queued). NULL is ignored. */
void ca_due_pool_wake(ca_due_pool *pool);
#define CA_DUE_BUSY_MS 250
/* Notes that the node is busy now (an issuance just committed): see yield_gap_ms. */
void ca_due_pool_note_busy(ca_due_pool *pool);
/* Stops the workers, each after the key it is on. NULL is ignored. */
void ca_due_pool_stop(ca_due_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
