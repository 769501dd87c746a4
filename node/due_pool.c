/* Worker threads over a due table (due_pool.h). */
#include "node/due_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POLL_SECONDS 1

struct ca_due_pool {
    ca_due_pool_options o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    pthread_t threads[CA_DUE_POOL_MAX_WORKERS];
    size_t nthreads;
    /* the keys being worked on (under mu), packed: inflight[0..ninflight) */
    uint8_t inflight[CA_DUE_POOL_MAX_WORKERS][CA_DUE_KEY_MAX];
    size_t ninflight;
    struct outcome *queue;   /* sent, waiting to be recorded (under mu) */
    atomic_int_fast64_t busy_at_ms; /* CLOCK_MONOTONIC ms of the last note_busy */
    bool committing;         /* a worker is recording a batch */
};

/* One sent delivery on its way into the store; lives on its worker's stack. */
typedef struct outcome {
    const uint8_t *key;
    void *value;
    bool done;
    struct outcome *next;
} outcome;

typedef struct pick_arg {
    ca_due_pool *p;
    int64_t now;
    uint8_t key[CA_DUE_KEY_MAX];
    bool found;
} pick_arg;

static bool taken(const ca_due_pool *p, const void *key)
{
    for (size_t i = 0; i < p->ninflight; i++)
        if (memcmp(p->inflight[i], key, p->o.key_len) == 0)
            return true;
    return false;
}

static bool pick_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)v;
    pick_arg *a = arg;
    ca_due_pool *p = a->p;
    if (k->len != p->o.key_len)
        return true;
    if ((int64_t)ca_store_u64_from(k->data) > a->now)
        return false; /* keys ascend by due time: nothing later is due */
    if (taken(p, k->data) ||
        (p->o.may_take && !p->o.may_take(p->o.ctx, k->data,
                                         (const uint8_t(*)[CA_DUE_KEY_MAX])p->inflight,
                                         p->ninflight)))
        return true;
    memcpy(a->key, k->data, p->o.key_len);
    a->found = true;
    return false;
}

/* Under mu: claims the first due key that may be taken into key. */
static bool pick(ca_due_pool *p, uint8_t *key)
{
    pick_arg a = {.p = p, .now = (int64_t)time(NULL)};
    ca_store_txn *t;
    ca_errbuf eb = {{0}};
    if (ca_store_begin(p->o.store, &t, false, &eb))
        return false;
    ca_store_scan(t, p->o.table, NULL, 0, pick_visit, &a);
    ca_store_abort(t);
    if (a.found) {
        memcpy(p->inflight[p->ninflight++], a.key, p->o.key_len);
        memcpy(key, a.key, p->o.key_len);
    }
    return a.found;
}

static void release(ca_due_pool *p, const uint8_t *key)
{
    for (size_t i = 0; i < p->ninflight; i++)
        if (memcmp(p->inflight[i], key, p->o.key_len) == 0) {
            memmove(p->inflight[i], p->inflight[p->ninflight - 1], CA_DUE_KEY_MAX);
            p->ninflight--;
            return;
        }
}

static ca_err record_batch(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const ca_due_pool *p = ((void **)arg)[0];
    ca_err err = CA_OK;
    for (const outcome *o = ((void **)arg)[1]; o && !err; o = o->next)
        err = p->o.record(p->o.ctx, t, o->key, o->value, eb);
    return err;
}

/* Under mu: records the queued outcomes in one transaction (the caller leads the commit while
 * mu is released), then marks them done and frees their keys. */
static void lead_commit(ca_due_pool *p)
{
    outcome *batch = p->queue;
    p->queue = NULL;
    p->committing = true;
    pthread_mutex_unlock(&p->mu);
    ca_errbuf eb = {{0}};
    void *arg[2] = {p, batch};
    ca_err err = ca_store_write(p->o.store, record_batch, arg, &eb);
    for (outcome *o = batch; o; o = o->next)
        p->o.finish(p->o.ctx, o->key, o->value, err, eb.msg);
    pthread_mutex_lock(&p->mu);
    for (outcome *o = batch; o; o = o->next) {
        release(p, o->key);
        o->done = true;
    }
    p->committing = false;
    pthread_cond_broadcast(&p->cv);
}

/* Under mu: queues the outcome of key and returns once a commit recorded it. */
static void record_and_wait(ca_due_pool *p, const uint8_t *key, void *value)
{
    outcome me = {.key = key, .value = value, .next = p->queue};
    p->queue = &me;
    while (!me.done) {
        if (!p->committing)
            lead_commit(p);
        else
            pthread_cond_wait(&p->cv, &p->mu);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Outside mu: while the node is busy, waits until yield_gap_ms have passed since this
 * worker's last send (due_pool.h). */
static void pace(ca_due_pool *p, int64_t *last_send)
{
    int64_t gap = p->o.yield_gap_ms, now = now_ms();
    if (gap && now - atomic_load(&p->busy_at_ms) < CA_DUE_BUSY_MS && now - *last_send < gap) {
        int64_t wait = gap - (now - *last_send);
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    *last_send = now_ms();
}

static void *worker(void *arg)
{
    ca_due_pool *p = arg;
    void *state = NULL;
    uint8_t key[CA_DUE_KEY_MAX];
    int64_t last_send = 0;
    if (p->o.nice) /* per thread on Linux: setpriority on the thread id */
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), p->o.nice);
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (!pick(p, key)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += POLL_SECONDS;
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        pace(p, &last_send);
        void *value = p->o.send(p->o.ctx, &state, key);
        pthread_mutex_lock(&p->mu);
        if (value)
            record_and_wait(p, key, value);
        else
            release(p, key); /* nothing was sent (out of memory): taken again later */
    }
    pthread_mutex_unlock(&p->mu);
    if (p->o.thread_done && state)
        p->o.thread_done(state);
    return NULL;
}

ca_err ca_due_pool_start(ca_due_pool **out, const ca_due_pool_options *o, ca_errbuf *eb)
{
    CA_ASSERT(o->key_len >= 8 && o->key_len <= CA_DUE_KEY_MAX && o->send && o->record &&
              o->finish);
    *out = NULL;
    ca_due_pool *p = calloc(1, sizeof *p);
    if (!p)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    p->o = *o;
    atomic_init(&p->busy_at_ms, INT64_MIN / 2);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t i = 0; i < o->workers && i < CA_DUE_POOL_MAX_WORKERS; i++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        ca_due_pool_stop(p);
        return ca_fail(eb, CA_ERR_NOMEM, "%s: cannot start a worker thread", o->name);
    }
    *out = p;
    return CA_OK;
}

void ca_due_pool_wake(ca_due_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void ca_due_pool_note_busy(ca_due_pool *p)
{
    if (p)
        atomic_store(&p->busy_at_ms, now_ms());
}

void ca_due_pool_stop(ca_due_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
