/*
 * node/rate_limit.c — the per-address token buckets of the HTTP server (node/rate_limit.h),
 * moved out of node/http.c (issue #14).
 */
#include "node/rate_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_SLOTS 8192 /* rate-limit buckets (power of two) */
#define RL_LOCKS 64

typedef struct rl_slot {
    uint8_t addr[16];
    uint8_t used;
    double tokens;
    int64_t last_ns;
} rl_slot;

struct ca_rate_limit {
    rl_slot *rl;
    pthread_mutex_t rl_lock[RL_LOCKS];
    double rl_rate;
    double rl_burst;
};

ca_rate_limit *ca_rate_limit_create(double per_second)
{
    return ca_rate_limit_create_burst(per_second, per_second);
}

ca_rate_limit *ca_rate_limit_create_burst(double per_second, double burst)
{
    ca_rate_limit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->rl = calloc(RL_SLOTS, sizeof *rl->rl);
    if (!rl->rl) {
        free(rl);
        return NULL;
    }
    for (int i = 0; i < RL_LOCKS; i++)
        pthread_mutex_init(&rl->rl_lock[i], NULL);
    rl->rl_rate = per_second;
    rl->rl_burst = burst;
    return rl;
}

void ca_rate_limit_destroy(ca_rate_limit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < RL_LOCKS; i++)
        pthread_mutex_destroy(&rl->rl_lock[i]);
    free(rl->rl);
    free(rl);
}

/* Token bucket per address in a fixed table (burst: as created). A slot holding
 * another address is taken over (memory stays bounded whatever the number of clients).
 * Returns 0 when allowed, otherwise the seconds to wait. */
unsigned ca_rate_limit_take(ca_rate_limit *rl, const uint8_t key[16], int64_t now)
{
    if (rl->rl_rate <= 0)
        return 0;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    size_t slot = (size_t)(h & (RL_SLOTS - 1));
    pthread_mutex_t *lk = &rl->rl_lock[slot % RL_LOCKS];
    unsigned wait = 0;
    pthread_mutex_lock(lk);
    rl_slot *s = &rl->rl[slot];
    if (!s->used || memcmp(s->addr, key, 16) != 0) {
        memcpy(s->addr, key, 16);
        s->used = 1;
        s->tokens = rl->rl_burst;
        s->last_ns = now;
    } else {
        s->tokens += (double)(now - s->last_ns) / 1e9 * rl->rl_rate;
        if (s->tokens > rl->rl_burst)
            s->tokens = rl->rl_burst;
        s->last_ns = now;
    }
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
    } else {
        double secs = (1.0 - s->tokens) / rl->rl_rate;
        wait = (unsigned)secs + 1;
    }
    pthread_mutex_unlock(lk);
    return wait;
}
