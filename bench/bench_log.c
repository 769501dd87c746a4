/*
 * bench_log — the log's in-process figures (issue #2):
 *   1. durable appends in batches of 1,000 (each batch one committed, synced transaction),
 *      over 1,000,000 digests, with the digest index caught up at the end;
 *   2. inclusion-proof generation (digest lookup + path + root) at 1,000,000 and 10,000,000
 *      leaves, on 1 thread and on every core;
 *   3. peak RssAnon (anonymous memory: LMDB's mapped file pages excluded) during all of it.
 * It runs with config/dev.conf's settings (durability cannot be turned off anywhere) and
 * prints the config it ran with.
 *
 * usage: bench_log [--config FILE] [--dir DIR] [--big N]   (N: leaves for the second proof
 *        run, default 10000000; 0 skips it)
 */
#include "node/config.h"
#include "credanchor/crypto.h"
#include "node/log.h"
#include "node/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void digest_of(ca_hash *d, uint64_t i)
{
    uint8_t b[8];
    ca_store_u64_key(b, i);
    ca_sha256(d, b, sizeof b);
}

/* ---- RssAnon sampling -------------------------------------------------------------------- */

static atomic_long peak_rss_anon_kb;
static atomic_bool sampling = true;

static long rss_anon_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void *sample_rss(void *arg)
{
    (void)arg;
    while (atomic_load(&sampling)) {
        long kb = rss_anon_kb();
        if (kb > atomic_load(&peak_rss_anon_kb))
            atomic_store(&peak_rss_anon_kb, kb);
        usleep(5000);
    }
    return NULL;
}

/* ---- appends ---------------------------------------------------------------------------------- */

static double append_range(ca_log *log, uint64_t from, uint64_t to)
{
    ca_log_entry e[BATCH];
    double t0 = now_s();
    for (uint64_t i = from; i < to; i += BATCH) {
        size_t n = to - i < BATCH ? (size_t)(to - i) : BATCH;
        for (size_t k = 0; k < n; k++)
            digest_of(&e[k].digest, i + k);
        ca_errbuf eb = {{0}};
        ca_err err = ca_log_append(log, e, n, NULL, &eb);
        if (err) {
            fprintf(stderr, "append failed: %s\n", ca_errmsg(&eb, err));
            exit(1);
        }
    }
    ca_errbuf eb = {{0}};
    if (ca_log_flush_index(log, &eb)) {
        fprintf(stderr, "flush failed: %s\n", eb.msg);
        exit(1);
    }
    return now_s() - t0;
}

/* ---- proofs ------------------------------------------------------------------------------------ */

typedef struct proof_worker {
    ca_log *log;
    uint64_t size;
    uint64_t seed;
    double seconds;
    uint64_t done;
} proof_worker;

static void *prove_loop(void *arg)
{
    proof_worker *w = arg;
    uint64_t x = w->seed | 1;
    double t0 = now_s(), end = t0 + w->seconds;
    while (now_s() < end) {
        for (int k = 0; k < 1000; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: random leaves, cold paths */
            uint64_t leaf = x % w->size, index;
            ca_hash d, path[CA_MERKLE_MAX_PROOF], root;
            size_t len;
            digest_of(&d, leaf);
            if (ca_log_find(w->log, &index, &d, NULL) != CA_OK || index != leaf ||
                ca_log_inclusion(w->log, path, &len, &root, index, w->size, NULL) != CA_OK) {
                fprintf(stderr, "proof failed for leaf %llu\n", (unsigned long long)leaf);
                exit(1);
            }
            w->done++;
        }
    }
    w->seconds = now_s() - t0;
    return NULL;
}

static double prove_rate(ca_log *log, int threads, double seconds)
{
    pthread_t th[64];
    proof_worker w[64];
    for (int i = 0; i < threads; i++) {
        w[i] = (proof_worker){log, ca_log_size(log), 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
                              seconds, 0};
        pthread_create(&th[i], NULL, prove_loop, &w[i]);
    }
    double rate = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        rate += (double)w[i].done / w[i].seconds;
    }
    return rate;
}

static void report_proofs(ca_log *log, int cores)
{
    /* Warm the page cache the way a serving node would be, then measure. */
    prove_rate(log, cores, 1.0);
    double one = prove_rate(log, 1, 3.0), all = prove_rate(log, cores, 3.0);
    printf("proofs @ %llu leaves: %.0f proofs/s on 1 thread, %.0f proofs/s on %d threads "
           "(target >= 300000)\n",
           (unsigned long long)ca_log_size(log), one, all, cores);
}

int main(int argc, char **argv)
{
    const char *config_path = "config/dev.conf", *dir = NULL;
    uint64_t big = 10000000, first = 1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--big") && i + 1 < argc)
            big = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_log [--config FILE] [--dir DIR] [--big N]\n");
            return 2;
        }
    }
    ca_config cfg;
    ca_errbuf eb = {{0}};
    if (ca_config_load(&cfg, config_path, &eb)) {
        fprintf(stderr, "%s\n", eb.msg);
        return 2;
    }
    char tmp[] = "/var/tmp/ca-bench-log-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 2;
    }
    printf("# bench_log: config %s (LMDB commits synced; no durability switch exists)\n",
           config_path);
    printf("# store.max_map_size = %llu, store.index_batch = %llu, "
           "store.index_flush_pages = %llu, data in %s\n",
           (unsigned long long)cfg.store_max_map_size, (unsigned long long)cfg.store_index_batch,
           (unsigned long long)cfg.store_index_flush_pages, dir);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > 64)
        cores = 2;

    pthread_t sampler;
    pthread_create(&sampler, NULL, sample_rss, NULL);

    uint8_t seed[32];
    ca_ed25519_key *key;
    ca_store *store;
    ca_log *log;
    ca_ed25519_generate_seed(seed);
    ca_ed25519_key_from_seed(&key, seed);
    ca_store_options so = {.dir = dir, .max_map_size = cfg.store_max_map_size};
    ca_log_options lo = {.index_batch = cfg.store_index_batch,
                         .index_flush_pages = cfg.store_index_flush_pages, .log_key = key,
                         .create_origin = "bench.example/credanchor"};
    if (ca_store_open(&store, &so, &eb) || (lo.store = store, ca_log_open(&log, &lo, &eb))) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return 1;
    }

    double t = append_range(log, 0, first);
    ca_log_stats st;
    ca_log_get_stats(log, &st);
    printf("appends: %llu digests in batches of %d in %.2f s = %.0f digests/s durable "
           "(%llu commits, index caught up to %llu; target >= 250000)\n",
           (unsigned long long)first, BATCH, t, (double)first / t, (unsigned long long)st.commits,
           (unsigned long long)st.indexed);
    report_proofs(log, cores);

    if (big > first) {
        double t2 = append_range(log, first, big);
        printf("appends: grew to %llu leaves at %.0f digests/s\n", (unsigned long long)big,
               (double)(big - first) / t2);
        report_proofs(log, cores);
    }
    atomic_store(&sampling, false);
    pthread_join(sampler, NULL);
    printf("peak RssAnon: %.1f MiB (target <= 64 MiB)\n",
           (double)atomic_load(&peak_rss_anon_kb) / 1024.0);
    ca_store_stats ss;
    ca_store_get_stats(store, &ss);
    printf("store: %.1f MiB used for %llu leaves\n", (double)ss.used_bytes / 1048576.0,
           (unsigned long long)ca_log_size(log));
    ca_log_close(log);
    ca_store_close(store);
    ca_ed25519_key_free(key);
    if (dir == tmp) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    return 0;
}
