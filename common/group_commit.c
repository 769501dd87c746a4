/* common/group_commit.c — leader/follower group commit (include/credanchor/group_commit.h). */
#include "credanchor/group_commit.h"

void ca_group_commit_init(ca_group_commit *gc)
{
    pthread_mutex_init(&gc->lock, NULL);
    pthread_cond_init(&gc->cond, NULL);
    gc->head = NULL;
    gc->tail = &gc->head;
    gc->committing = false;
}

void ca_group_commit_destroy(ca_group_commit *gc)
{
    pthread_mutex_destroy(&gc->lock);
    pthread_cond_destroy(&gc->cond);
}

/* Ends a commit (lock held): wakes the next leader, if anyone is queued, and any caller of
 * ca_group_commit_exclusive. */
static void end_commit(ca_group_commit *gc)
{
    gc->committing = false;
    if (gc->head)
        pthread_cond_signal(&gc->head->wake);
    pthread_cond_broadcast(&gc->cond);
}

void ca_group_commit_run(ca_group_commit *gc, ca_gc_request *req,
                         void (*commit)(void *ctx, ca_gc_request *batch), void *ctx)
{
    CA_ASSERT(gc && req && commit);
    req->next = NULL;
    req->done = false;
    pthread_cond_init(&req->wake, NULL);
    pthread_mutex_lock(&gc->lock);
    *gc->tail = req;
    gc->tail = &req->next;
    while (!req->done) {
        if (gc->committing) {
            pthread_cond_wait(&req->wake, &gc->lock);
            continue;
        }
        /* Lead: take everything queued so far (our request included) as one commit. */
        ca_gc_request *batch = gc->head;
        gc->head = NULL;
        gc->tail = &gc->head;
        gc->committing = true;
        pthread_mutex_unlock(&gc->lock);

        commit(ctx, batch);

        pthread_mutex_lock(&gc->lock);
        for (ca_gc_request *r = batch, *next; r; r = next) {
            next = r->next; /* r may return and vanish once done and woken */
            r->done = true;
            if (r != req)
                pthread_cond_signal(&r->wake);
        }
        end_commit(gc);
    }
    pthread_mutex_unlock(&gc->lock);
    pthread_cond_destroy(&req->wake);
}

void ca_group_commit_exclusive(ca_group_commit *gc, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&gc->lock);
    while (gc->committing)
        pthread_cond_wait(&gc->cond, &gc->lock);
    gc->committing = true;
    pthread_mutex_unlock(&gc->lock);

    fn(ctx);

    pthread_mutex_lock(&gc->lock);
    end_commit(gc);
    pthread_mutex_unlock(&gc->lock);
}
