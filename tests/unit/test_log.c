/* Unit tests for node/log.c and node/store.c: appends, idempotency, proofs against every size,
 * the lagging digest index, reopening, concurrent group commit, refusal after a rollback and
 * a full map (SPEC §1, issue #2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "testutil.h"

#include "credanchor/crypto.h"
#include "node/log.h"
#include "credanchor/proof.h"
#include "node/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
    ca_ed25519_key *key;
    ca_store *store;
    ca_log *log;
    uint64_t index_batch;
    uint64_t flush_pages;
    uint64_t max_map;
} fixture;

static void digest_of(ca_hash *d, uint64_t i)
{
    uint8_t b[8];
    ca_store_u64_key(b, i);
    ca_sha256(d, b, sizeof b);
}

static void open_log(fixture *f, bool create)
{
    ca_errbuf eb = {{0}};
    ca_store_options so = {.dir = f->dir, .max_map_size = f->max_map};
    assert_int_equal(ca_store_open(&f->store, &so, &eb), CA_OK);
    ca_log_options lo = {.store = f->store, .index_batch = f->index_batch,
                         .index_flush_pages = f->flush_pages, .log_key = f->key,
                         .create_origin = create ? "test.example/credanchor" : NULL};
    ca_err err = ca_log_open(&f->log, &lo, &eb);
    if (err)
        fprintf(stderr, "open: %s\n", ca_errmsg(&eb, err));
    assert_int_equal(err, CA_OK);
}

static void close_log(fixture *f)
{
    ca_log_close(f->log);
    ca_store_close(f->store);
    f->log = NULL;
    f->store = NULL;
}

static int setup_with(void **state, uint64_t index_batch, uint64_t flush_pages,
                      uint64_t max_map)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(ca_test_tmpdir(f->dir, sizeof f->dir, "ca-test-log-"));
    uint8_t seed[32];
    assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
    assert_int_equal(ca_ed25519_key_from_seed(&f->key, seed), CA_OK);
    f->index_batch = index_batch;
    f->flush_pages = flush_pages;
    f->max_map = max_map;
    open_log(f, true);
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_with(state, 7, 0, 1ull << 30); }
/* A one-page flush budget forces every digest-index flush into many small transactions. */
static int setup_chunked(void **state) { return setup_with(state, 50, 1, 1ull << 30); }
static int setup_small_map(void **state) { return setup_with(state, 64, 0, 1ull << 20); }

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->log)
        close_log(f);
    ca_ed25519_key_free(f->key);
    ca_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Appends digests [from, to) in one call and checks the indices handed back. */
static void append_range(ca_log *log, uint64_t from, uint64_t to)
{
    size_t n = (size_t)(to - from);
    ca_log_entry *e = calloc(n ? n : 1, sizeof *e);
    for (size_t i = 0; i < n; i++)
        digest_of(&e[i].digest, from + i);
    uint64_t size;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_log_append(log, e, n, &size, &eb), CA_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(e[i].index, from + i);
    assert_int_equal(size, to);
    free(e);
}

/* The root of digests [0, n) computed independently with the streaming builder. */
static void reference_root(ca_hash *root, uint64_t n)
{
    ca_merkle_builder b;
    ca_merkle_builder_init(&b);
    for (uint64_t i = 0; i < n; i++) {
        ca_hash d, leaf;
        digest_of(&d, i);
        ca_merkle_leaf_hash(&leaf, d.b);
        ca_merkle_builder_add(&b, &leaf);
    }
    ca_merkle_builder_root(&b, root);
}

#define EVERY_SIZE_MAX 700 /* past two full 256-leaf tiles and into a third */

static void test_append_and_prove_every_size(void **state)
{
    fixture *f = *state;
    /* Batch shapes that cross the index batch and the 256-leaf tile edges in different ways. */
    const uint64_t cuts[] = {1, 2, 3, 7, 8, 15, 16, 17, 40, 64, 65, 100, 255, 256, 257,
                             300, 511, 512, 513, 600, EVERY_SIZE_MAX};
    uint64_t at = 0;
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        append_range(f->log, at, cuts[c]);
        at = cuts[c];
    }
    assert_int_equal(ca_log_size(f->log), EVERY_SIZE_MAX);
    static ca_hash roots[EVERY_SIZE_MAX + 1];
    for (uint64_t n = 0; n <= EVERY_SIZE_MAX; n++)
        reference_root(&roots[n], n);
    for (uint64_t n = 1; n <= EVERY_SIZE_MAX; n++) {
        ca_hash got;
        assert_int_equal(ca_log_root(f->log, &got, n, NULL), CA_OK);
        assert_memory_equal(roots[n].b, got.b, 32);
        for (uint64_t i = 0; i < n; i++) {
            ca_hash path[CA_MERKLE_MAX_PROOF], root, d, leaf;
            size_t len;
            assert_int_equal(ca_log_inclusion(f->log, path, &len, &root, i, n, NULL), CA_OK);
            assert_memory_equal(root.b, roots[n].b, 32);
            digest_of(&d, i);
            ca_merkle_leaf_hash(&leaf, d.b);
            assert_int_equal(ca_merkle_inclusion_verify(&leaf, i, n, path, len, &roots[n]),
                             CA_OK);
        }
        for (uint64_t m = 1; m <= n; m += (n > 300 ? 7 : 1)) {
            ca_hash path[CA_MERKLE_MAX_PROOF];
            size_t len;
            assert_int_equal(ca_log_consistency(f->log, path, &len, m, n, NULL), CA_OK);
            assert_int_equal(ca_merkle_consistency_verify(m, n, &roots[m], &roots[n], path, len),
                             CA_OK);
        }
    }
    ca_hash path[CA_MERKLE_MAX_PROOF], root;
    size_t len;
    uint64_t end = EVERY_SIZE_MAX;
    assert_int_equal(ca_log_inclusion(f->log, path, &len, &root, 5, end + 1, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_log_inclusion(f->log, path, &len, &root, end, end, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_log_consistency(f->log, path, &len, 0, 5, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_log_consistency(f->log, path, &len, 6, 5, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_log_consistency(f->log, path, &len, 5, end + 1, NULL), CA_ERR_RANGE);
    /* After a reopen the partial tile is rebuilt from the store: keep appending and proving. */
    close_log(f);
    open_log(f, false);
    append_range(f->log, end, 1030);
    for (uint64_t i = 0; i < 1030; i += 3) {
        ca_hash d, leaf, want;
        digest_of(&d, i);
        ca_merkle_leaf_hash(&leaf, d.b);
        reference_root(&want, 1030);
        assert_int_equal(ca_log_inclusion(f->log, path, &len, &root, i, 1030, NULL), CA_OK);
        assert_int_equal(ca_merkle_inclusion_verify(&leaf, i, 1030, path, len, &want), CA_OK);
    }
}

static void test_duplicates_are_idempotent(void **state)
{
    fixture *f = *state;
    append_range(f->log, 0, 20);
    /* Old digests (some indexed, some in the tail), and repeats inside one call. */
    ca_log_entry e[6];
    digest_of(&e[0].digest, 3);
    digest_of(&e[1].digest, 19);
    digest_of(&e[2].digest, 20); /* new */
    digest_of(&e[3].digest, 20); /* same again */
    digest_of(&e[4].digest, 0);
    digest_of(&e[5].digest, 21); /* new */
    uint64_t size;
    assert_int_equal(ca_log_append(f->log, e, 6, &size, NULL), CA_OK);
    assert_int_equal(e[0].index, 3);
    assert_int_equal(e[1].index, 19);
    assert_int_equal(e[2].index, 20);
    assert_int_equal(e[3].index, 20);
    assert_int_equal(e[4].index, 0);
    assert_int_equal(e[5].index, 21);
    assert_int_equal(size, 22);
    /* Only duplicates: nothing new is written and the size stays. */
    assert_int_equal(ca_log_append(f->log, e, 2, &size, NULL), CA_OK);
    assert_int_equal(size, 22);
    for (uint64_t i = 0; i < 22; i++) {
        ca_hash d;
        uint64_t idx;
        digest_of(&d, i);
        assert_int_equal(ca_log_find(f->log, &idx, &d, NULL), CA_OK);
        assert_int_equal(idx, i);
    }
    ca_hash missing;
    uint64_t idx;
    digest_of(&missing, 1000);
    assert_int_equal(ca_log_find(f->log, &idx, &missing, NULL), CA_ERR_NOT_FOUND);
}

/* The stored index is keyed by the first 8 bytes of a digest: digests sharing them must each
 * be found at their own index, and a third with the same prefix must not be found. */
static void test_prefix_collisions(void **state)
{
    fixture *f = *state;
    append_range(f->log, 0, 300);
    ca_log_entry e[4];
    for (int i = 0; i < 4; i++) {
        memset(e[i].digest.b, 0xab, 8);
        digest_of((ca_hash *)&e[i].digest, 5000 + (uint64_t)i);
        memset(e[i].digest.b, 0xab, 8); /* same prefix, different rest */
    }
    assert_int_equal(ca_log_append(f->log, e, 3, NULL, NULL), CA_OK);
    append_range(f->log, 303, 620); /* pushes the three through an index flush and a tile */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            uint64_t idx;
            assert_int_equal(ca_log_find(f->log, &idx, &e[i].digest, NULL), CA_OK);
            assert_int_equal(idx, 300 + (uint64_t)i);
            ca_hash path[CA_MERKLE_MAX_PROOF], root;
            size_t len;
            uint64_t size = 0;
            assert_int_equal(ca_log_prove(f->log, &idx, path, &len, &root, &size, &e[i].digest,
                                          NULL), CA_OK);
            assert_int_equal(idx, 300 + (uint64_t)i);
            ca_hash leaf;
            ca_merkle_leaf_hash(&leaf, e[i].digest.b);
            assert_int_equal(ca_merkle_inclusion_verify(&leaf, idx, size, path, len, &root),
                             CA_OK);
        }
        uint64_t idx;
        assert_int_equal(ca_log_find(f->log, &idx, &e[3].digest, NULL), CA_ERR_NOT_FOUND);
        /* Appending them again is idempotent, the absent one gets a new index. */
        ca_log_entry again[4];
        memcpy(again, e, sizeof again);
        uint64_t size;
        assert_int_equal(ca_log_append(f->log, again, round ? 3 : 4, &size, NULL), CA_OK);
        for (int i = 0; i < 3; i++)
            assert_int_equal(again[i].index, 300 + (uint64_t)i);
        if (!round) {
            assert_int_equal(again[3].index, 620);
            assert_int_equal(ca_log_find(f->log, &idx, &e[3].digest, NULL), CA_OK);
            memset(e[3].digest.b + 8, 0x11, 24); /* a fresh absent one for round 2 */
        }
        assert_int_equal(ca_log_flush_index(f->log, NULL), CA_OK);
        close_log(f);
        open_log(f, false);
    }
}

static void test_reopen_keeps_everything(void **state)
{
    fixture *f = *state;
    append_range(f->log, 0, 33);
    ca_hash before;
    assert_int_equal(ca_log_root(f->log, &before, 33, NULL), CA_OK);
    close_log(f);
    open_log(f, false);
    assert_null(ca_log_append_blocked(f->log));
    assert_int_equal(ca_log_size(f->log), 33);
    ca_hash after;
    assert_int_equal(ca_log_root(f->log, &after, 33, NULL), CA_OK);
    assert_memory_equal(before.b, after.b, 32);
    append_range(f->log, 33, 50);
    for (uint64_t i = 0; i < 50; i++) {
        ca_hash d;
        uint64_t idx;
        digest_of(&d, i);
        assert_int_equal(ca_log_find(f->log, &idx, &d, NULL), CA_OK);
        assert_int_equal(idx, i);
    }
    /* Creating a log over an existing one is refused. */
    ca_log *other;
    ca_log_options lo = {.store = f->store, .log_key = f->key, .create_origin = "x/credanchor"};
    assert_int_equal(ca_log_open(&other, &lo, NULL), CA_ERR_EXISTS);
}

static void test_second_writer_is_locked_out(void **state)
{
    fixture *f = *state;
    ca_store *second;
    ca_errbuf eb = {{0}};
    ca_store_options so = {.dir = f->dir, .max_map_size = f->max_map};
    assert_int_equal(ca_store_open(&second, &so, &eb), CA_ERR_LOCKED);
    assert_non_null(strstr(eb.msg, "in use"));
    /* A reader is fine. */
    so.read_only = true;
    assert_int_equal(ca_store_open(&second, &so, &eb), CA_OK);
    ca_store_close(second);
}

static void test_checkpoints(void **state)
{
    fixture *f = *state;
    append_range(f->log, 0, 12);
    char note[CA_NOTE_MAX], vkey_text[CA_VERIFIER_KEY_MAX];
    size_t len;
    ca_note_verifier v;
    ca_checkpoint cp;
    assert_int_equal(ca_log_verifier_key(f->log, vkey_text, NULL), CA_OK);
    assert_int_equal(ca_verifier_key_parse(&v, vkey_text, strlen(vkey_text), NULL), CA_OK);
    /* The latest covers every acknowledged append. */
    assert_int_equal(ca_log_checkpoint(f->log, note, &len, NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, note, len, &v, NULL), CA_OK);
    assert_int_equal(cp.size, 12);
    assert_string_equal(cp.origin, "test.example/credanchor");
    ca_hash root;
    reference_root(&root, 12);
    assert_memory_equal(cp.root.b, root.b, 32);
    /* Historical sizes are signed on demand. */
    for (uint64_t n = 0; n <= 12; n++) {
        assert_int_equal(ca_log_checkpoint_at(f->log, note, &len, n, NULL), CA_OK);
        assert_int_equal(ca_checkpoint_open(&cp, note, len, &v, NULL), CA_OK);
        assert_int_equal(cp.size, n);
        reference_root(&root, n);
        assert_memory_equal(cp.root.b, root.b, 32);
    }
    assert_int_equal(ca_log_checkpoint_at(f->log, note, &len, 13, NULL), CA_ERR_RANGE);

    /* A proof built by the node checks offline, and a tampered one does not. */
    ca_hash d;
    digest_of(&d, 4);
    char *json;
    assert_int_equal(ca_proof_build(&json, f->log, &d, 0, NULL), CA_OK);
    ca_proof_report r;
    assert_int_equal(ca_proof_check(&r, json, strlen(json), &v, NULL), CA_OK);
    assert_int_equal(r.leaf_index, 4);
    assert_int_equal(r.tree_size, 12);
    char *p = strstr(json, "\"rootHash\":\"") + 12;
    *p = *p == '0' ? '1' : '0';
    assert_int_equal(ca_proof_check(&r, json, strlen(json), &v, NULL), CA_ERR_VERIFY);
    free(json);
    assert_int_equal(ca_proof_build(&json, f->log, &d, 4, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_proof_build(&json, f->log, &d, 13, NULL), CA_ERR_RANGE);
    assert_int_equal(ca_proof_build(&json, f->log, &d, 7, NULL), CA_OK);
    assert_int_equal(ca_proof_check(&r, json, strlen(json), &v, NULL), CA_OK);
    assert_int_equal(r.tree_size, 7);
    free(json);
}

/* Rolls the store back behind the largest signed checkpoint: appends must be refused. */
typedef struct rollback_args {
    uint64_t size;
} rollback_args;

static ca_err raise_signed_max(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)eb;
    uint8_t v[40] = {0};
    ca_store_u64_key(v, ((rollback_args *)arg)->size);
    return ca_store_put(t, CA_TABLE_META, "signed_max", 10, v, sizeof v);
}

static void test_rollback_refuses_appends(void **state)
{
    fixture *f = *state;
    append_range(f->log, 0, 10);
    close_log(f);
    ca_store_options so = {.dir = f->dir, .max_map_size = f->max_map};
    ca_store *s;
    assert_int_equal(ca_store_open(&s, &so, NULL), CA_OK);
    rollback_args a = {25}; /* as if a checkpoint for 25 leaves had been signed */
    assert_int_equal(ca_store_write(s, raise_signed_max, &a, NULL), CA_OK);
    ca_store_close(s);
    open_log(f, false);
    assert_non_null(ca_log_append_blocked(f->log));
    ca_log_entry e;
    digest_of(&e.digest, 99);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_log_append(f->log, &e, 1, NULL, &eb), CA_ERR_INCONSISTENT);
    assert_non_null(strstr(eb.msg, "rolled back"));
    /* Reads still work. */
    uint64_t idx;
    digest_of(&e.digest, 3);
    assert_int_equal(ca_log_find(f->log, &idx, &e.digest, NULL), CA_OK);
}

#define THREADS 8
#define PER_THREAD 500

typedef struct worker {
    ca_log *log;
    int id;
    ca_err err;
} worker;

static void *append_worker(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < PER_THREAD / 50 && !w->err; round++) {
        ca_log_entry e[50];
        for (int i = 0; i < 50; i++)
            digest_of(&e[i].digest, (uint64_t)w->id * 1000000 + (uint64_t)round * 50 + i);
        w->err = ca_log_append(w->log, e, 50, NULL, NULL);
    }
    return NULL;
}

static void test_concurrent_group_commit(void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){f->log, i, CA_OK};
        pthread_create(&th[i], NULL, append_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].err, CA_OK);
    }
    assert_int_equal(ca_log_size(f->log), THREADS * PER_THREAD);
    ca_log_stats st;
    ca_log_get_stats(f->log, &st);
    assert_true(st.commits <= THREADS * PER_THREAD / 50);
    /* Every digest has a distinct index that holds that digest. */
    uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++) {
            ca_hash d, back;
            uint64_t idx;
            digest_of(&d, (uint64_t)t * 1000000 + (uint64_t)i);
            assert_int_equal(ca_log_find(f->log, &idx, &d, NULL), CA_OK);
            assert_true(idx < THREADS * PER_THREAD);
            assert_false(seen[idx]);
            seen[idx] = 1;
            assert_int_equal(ca_log_digest_at(f->log, &back, idx, NULL), CA_OK);
            assert_memory_equal(back.b, d.b, 32);
        }
    free(seen);
}

static void test_full_map_loses_nothing(void **state)
{
    fixture *f = *state;
    ca_err err = CA_OK;
    uint64_t acked = 0;
    ca_errbuf eb = {{0}};
    while (acked < 1000000) {
        ca_log_entry e[500];
        for (int i = 0; i < 500; i++)
            digest_of(&e[i].digest, acked + (uint64_t)i);
        err = ca_log_append(f->log, e, 500, NULL, &eb);
        if (err)
            break;
        acked += 500;
    }
    assert_int_equal(err, CA_ERR_FULL);
    assert_non_null(strstr(eb.msg, "max_map_size"));
    assert_true(acked > 0);
    assert_int_equal(ca_log_size(f->log), acked);
    close_log(f);
    open_log(f, false);
    assert_int_equal(ca_log_size(f->log), acked);
    ca_hash want, got;
    reference_root(&want, acked);
    assert_int_equal(ca_log_root(f->log, &got, acked, NULL), CA_OK);
    assert_memory_equal(want.b, got.b, 32);
    for (uint64_t i = 0; i < acked; i += 97) {
        ca_hash d;
        uint64_t idx;
        digest_of(&d, i);
        assert_int_equal(ca_log_find(f->log, &idx, &d, NULL), CA_OK);
        assert_int_equal(idx, i);
    }
}


/* Key rotation (keys rotate --log): the new key signs from the rotation on, the old proof and
 * checkpoint still verify under the old key, the history lists both keys with their sizes,
 * and a reopen with the new key accepts it (and with the old one refuses appends). */
static void test_key_rotation(void **state)
{
    fixture *f = *state;
    char k1_text[CA_VERIFIER_KEY_MAX], k2_text[CA_VERIFIER_KEY_MAX], note[CA_NOTE_MAX];
    size_t len, n;
    ca_note_verifier k1, k2;
    ca_checkpoint cp;
    ca_proof_report r;
    ca_log_key_span spans[CA_LOG_KEYS_MAX];
    ca_errbuf eb = {{0}};
    ca_hash a, b;
    digest_of(&a, 3);
    digest_of(&b, 15);

    /* Never rotated: one key from 0, current. */
    assert_int_equal(ca_log_key_history(f->log, spans, CA_LOG_KEYS_MAX, &n, NULL), CA_OK);
    assert_int_equal(n, 1);
    assert_true(spans[0].current);
    assert_int_equal(spans[0].from_size, 0);

    append_range(f->log, 0, 10);
    assert_int_equal(ca_log_verifier_key(f->log, k1_text, NULL), CA_OK);
    assert_string_equal(spans[0].key, k1_text);
    assert_int_equal(ca_verifier_key_parse(&k1, k1_text, strlen(k1_text), NULL), CA_OK);
    char *p1, *p2;
    assert_int_equal(ca_proof_build(&p1, f->log, &a, 0, NULL), CA_OK);
    assert_int_equal(ca_proof_check(&r, p1, strlen(p1), &k1, NULL), CA_OK);
    char old_note[CA_NOTE_MAX];
    size_t old_len;
    assert_int_equal(ca_log_checkpoint(f->log, old_note, &old_len, NULL), CA_OK);

    /* Rotate at size 10. */
    uint8_t seed[32];
    ca_ed25519_key *key2;
    assert_int_equal(ca_ed25519_generate_seed(seed), CA_OK);
    assert_int_equal(ca_ed25519_key_from_seed(&key2, seed), CA_OK);
    assert_int_equal(ca_log_rotate_key(f->log, f->key, NULL), CA_ERR_INVALID); /* same key */
    ca_err err = ca_log_rotate_key(f->log, key2, &eb);
    if (err)
        fprintf(stderr, "rotate: %s\n", ca_errmsg(&eb, err));
    assert_int_equal(err, CA_OK);
    assert_int_equal(ca_log_verifier_key(f->log, k2_text, NULL), CA_OK);
    assert_string_not_equal(k1_text, k2_text);
    assert_int_equal(ca_verifier_key_parse(&k2, k2_text, strlen(k2_text), NULL), CA_OK);
    /* The latest checkpoint (size 10) is now signed by the new key only. */
    assert_int_equal(ca_log_checkpoint(f->log, note, &len, NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, note, len, &k2, NULL), CA_OK);
    assert_int_equal(cp.size, 10);
    assert_int_equal(ca_checkpoint_open(&cp, note, len, &k1, NULL), CA_ERR_VERIFY);

    append_range(f->log, 10, 20);
    assert_int_equal(ca_proof_build(&p2, f->log, &b, 0, NULL), CA_OK);
    assert_int_equal(ca_proof_check(&r, p2, strlen(p2), &k2, NULL), CA_OK);
    assert_int_equal(r.tree_size, 20);
    assert_int_equal(ca_proof_check(&r, p2, strlen(p2), &k1, NULL), CA_ERR_VERIFY);
    /* What the old key signed still verifies with it. */
    assert_int_equal(ca_proof_check(&r, p1, strlen(p1), &k1, NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, old_note, old_len, &k1, NULL), CA_OK);
    /* Historical sizes signed on demand: by the current key (the root is fixed). */
    assert_int_equal(ca_log_checkpoint_at(f->log, note, &len, 5, NULL), CA_OK);
    assert_int_equal(ca_checkpoint_open(&cp, note, len, &k2, NULL), CA_OK);
    free(p1);
    free(p2);

    /* History: K1 [0, 10], K2 from 10, current. */
    assert_int_equal(ca_log_key_history(f->log, spans, CA_LOG_KEYS_MAX, &n, NULL), CA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(spans[0].key, k1_text);
    assert_false(spans[0].current);
    assert_int_equal(spans[0].from_size, 0);
    assert_int_equal(spans[0].to_size, 10);
    assert_string_equal(spans[1].key, k2_text);
    assert_true(spans[1].current);
    assert_int_equal(spans[1].from_size, 10);

    /* Reopen with the new key: appends work. With the old key: refused, named. */
    close_log(f);
    ca_ed25519_key *key1 = f->key;
    f->key = key2;
    open_log(f, false);
    assert_null(ca_log_append_blocked(f->log));
    append_range(f->log, 20, 21);
    assert_int_equal(ca_log_key_history(f->log, spans, CA_LOG_KEYS_MAX, &n, NULL), CA_OK);
    assert_int_equal(n, 2);
    close_log(f);
    f->key = key1;
    open_log(f, false);
    assert_non_null(ca_log_append_blocked(f->log));
    close_log(f);
    f->key = key2;
    ca_ed25519_key_free(key1);
    open_log(f, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_prove_every_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_are_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_and_prove_every_size, setup_chunked,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup_chunked, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_group_commit, setup_chunked, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_collisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer_is_locked_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_refuses_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_map_loses_nothing, setup_small_map, teardown),
    };
    return ca_run_tests("log", tests, NULL, NULL);
}
