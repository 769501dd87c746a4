/*
 * bench_merkle_root: how fast ca_merkle_builder computes the RFC 9162 root of N log entries.
 *
 *   bench_merkle_root [-n COUNT] [-r RUNS] [-o DIGEST_FILE]
 *
 * Entry i is the 32-byte digest SHA-256(i as 8-byte big-endian), i = 0 .. COUNT-1 (default
 * 1,000,000). With -o the digests are written to DIGEST_FILE as raw 32-byte records, so a peer
 * implementation (bench/merkle_root_peer.js) builds the same tree. The timed part is what
 * `merkle-root` does: leaf hash SHA-256(0x00 || d) for every digest, then the streaming
 * builder; the best of RUNS (default 3) runs is reported, as "key: value" lines that
 * bench/merkle_root.sh parses.
 *
 * Work per tree: n leaf hashes over 33 bytes (1 SHA-256 compression each: 33 + 9 bytes of
 * padding fit one 64-byte block) and n - 1 node hashes over 65 bytes (2 compressions each), so
 * 2n - 1 hashes and 3n - 2 compression-function calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "credanchor/merkle.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_merkle_root [-n COUNT] [-r RUNS] [-o DIGEST_FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long long count = 1000000;
    int runs = 3;
    const char *out_path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:o:h")) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'n':
            count = strtoull(optarg, &end, 10);
            if (*end != '\0' || count == 0 || count > 100000000ULL)
                usage();
            break;
        case 'r':
            runs = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || runs < 1 || runs > 100)
                usage();
            break;
        case 'o':
            out_path = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();

    /* Deterministic digests (not timed). */
    uint8_t (*digests)[CA_HASH_SIZE] = malloc((size_t)count * CA_HASH_SIZE);
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (digests == NULL || md == NULL) {
        fprintf(stderr, "bench_merkle_root: out of memory or no SHA-256\n");
        return 1;
    }
    for (unsigned long long i = 0; i < count; i++) {
        uint8_t ctr[8];
        for (int j = 0; j < 8; j++)
            ctr[j] = (uint8_t)(i >> (56 - 8 * j));
        if (EVP_Digest(ctr, sizeof ctr, digests[i], NULL, md, NULL) != 1) {
            fprintf(stderr, "bench_merkle_root: EVP_Digest failed\n");
            return 1;
        }
    }
    EVP_MD_free(md);

    if (out_path != NULL) {
        FILE *f = fopen(out_path, "wb");
        if (f == NULL || fwrite(digests, CA_HASH_SIZE, (size_t)count, f) != (size_t)count ||
            fclose(f) != 0) {
            fprintf(stderr, "bench_merkle_root: cannot write %s: %s\n", out_path,
                    strerror(errno));
            return 1;
        }
    }

    double best = 1e300;
    ca_hash root = {{0}}, first_root = {{0}};
    for (int r = 0; r < runs; r++) {
        double t0 = now_seconds();
        ca_merkle_builder b;
        ca_merkle_builder_init(&b);
        for (unsigned long long i = 0; i < count; i++) {
            ca_hash leaf;
            ca_merkle_leaf_hash(&leaf, digests[i]);
            ca_merkle_builder_add(&b, &leaf);
        }
        ca_merkle_builder_root(&b, &root);
        double dt = now_seconds() - t0;
        if (dt < best)
            best = dt;
        if (r == 0)
            first_root = root;
        else if (memcmp(root.b, first_root.b, CA_HASH_SIZE) != 0) {
            fprintf(stderr, "bench_merkle_root: runs disagree on the root\n");
            return 1;
        }
    }
    free(digests);

    const double n = (double)count;
    printf("digests: %llu\n", count);
    printf("runs: %d\n", runs);
    printf("best_seconds: %.6f\n", best);
    printf("digests_per_s: %.0f\n", n / best);
    printf("hashes_per_s: %.0f\n", (2 * n - 1) / best);
    printf("compressions_per_s: %.0f\n", (3 * n - 2) / best);
    printf("root: ");
    for (int i = 0; i < CA_HASH_SIZE; i++)
        printf("%02x", root.b[i]);
    printf("\n");
    return 0;
}
