/*
 * Group commit (leader/follower), shared by every durable writer: the log's appends
 * (node/log.c), issuances and status list rounds (node/issuer.c) and audit entries
 * (node/auth.c).
 *
 * A caller queues its request and waits; whichever waiting caller finds no commit running
 * becomes the leader, takes EVERY queued request and commits them together (one transaction,
 * one fsync), then wakes them all. N concurrent writers therefore cost about one sync per
 * round instead of N, and requests keep their queue order within a round.
 *
 * Usage: embed a ca_gc_request as the FIRST member of the request struct, and pass a commit
 * function that handles a whole batch (walk it with ->next, cast each to the request type):
 *     typedef struct my_req { ca_gc_request gc; ... } my_req;
 *     static void commit(void *ctx, ca_gc_request *batch) { ... }
 *     my_req r = {...};
 *     ca_group_commit_run(&state->gc, &r.gc, commit, state);
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_GROUP_COMMIT_H
#define CREDANCHOR_GROUP_COMMIT_H

#include "credanchor/common.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_gc_request {
    struct ca_gc_request *next; /* the next request of the same batch, or NULL */
    bool done;                  /* internal */
    pthread_cond_t wake;        /* internal: each waiter sleeps on its own condition, so a
                                 * commit wakes only its batch and the next leader, not every
                                 * waiting thread (hundreds under load) */
} ca_gc_request;

typedef struct ca_group_commit {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* ca_group_commit_exclusive callers wait here */
    ca_gc_request *head, **tail;
    bool committing;
} ca_group_commit;

/* A static initializer, for a queue with static storage. */
#define CA_GROUP_COMMIT_INIT(name) \
    {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, &(name).head, false}

void ca_group_commit_init(ca_group_commit *gc);
void ca_group_commit_destroy(ca_group_commit *gc);

/* Queues req and returns once a commit (run by this caller or another) has handled it:
 * commit(ctx, batch) is called with every request queued at that moment, req among them,
 * without the queue lock held, one commit at a time. */
void ca_group_commit_run(ca_group_commit *gc, ca_gc_request *req,
                         void (*commit)(void *ctx, ca_gc_request *batch), void *ctx);

/* Runs fn(ctx) as if it were a commit: after the running one, before the next, with no
 * commit running meanwhile (e.g. the log's index flush). */
void ca_group_commit_exclusive(ca_group_commit *gc, void (*fn)(void *ctx), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
