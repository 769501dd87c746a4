/* Unit tests for node/store.c's defences against a damaged or abandoned environment
 * (issue #13): a truncated data.mdb is refused at open with a message instead of SIGBUS
 * (item 9), and reader slots left by processes killed inside a read transaction are freed at
 * the next open (item 10); ca_store_last_under, which numbers deliveries (issue #18);
 * ca_store_scan_reverse, the issuance list newest first (issue #17). Appends,
 * growth and the full map: test_log.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "testutil.h"

#include "node/store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(ca_test_tmpdir(f->dir, sizeof f->dir, "ca-store-"));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ca_test_rmtree(f->dir);
    free(f);
    return 0;
}

static ca_err open_store(ca_store **s, const fixture *f, bool read_only, ca_errbuf *eb)
{
    ca_store_options so = {.dir = f->dir, .max_map_size = 1ull << 30, .read_only = read_only,
                           .shared_writer = true};
    return ca_store_open(s, &so, eb);
}

typedef struct fill_args {
    uint32_t first, count;
} fill_args;

static ca_err fill_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)eb;
    const fill_args *a = arg;
    uint8_t key[8], val[1024];
    memset(val, 0xab, sizeof val);
    for (uint32_t i = a->first; i < a->first + a->count; i++) {
        ca_store_u64_key(key, i);
        ca_err err = ca_store_put(t, CA_TABLE_LEAVES, key, sizeof key, val, sizeof val);
        if (err)
            return err;
    }
    return CA_OK;
}

/* Item 9: data.mdb cut to half its length. Before the check, the open (or the first read
 * after it) died with SIGBUS; now it fails with a sentence that says what to do. */
static void truncated_file_is_refused(void **state)
{
    fixture *f = *state;
    ca_store *s = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(open_store(&s, f, false, &eb), CA_OK);
    for (uint32_t i = 0; i < 8; i++) {
        fill_args a = {i * 500, 500};
        assert_int_equal(ca_store_write(s, fill_txn, &a, &eb), CA_OK);
    }
    ca_store_close(s);

    char path[CA_TEST_DIR_MAX + 16];
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 4 << 20);
    assert_int_equal(truncate(path, st.st_size / 2), 0);

    for (int ro = 0; ro <= 1; ro++) {
        s = NULL;
        memset(&eb, 0, sizeof eb);
        ca_err err = open_store(&s, f, ro, &eb);
        assert_int_equal(err, CA_ERR_STORE);
        assert_null(s);
        assert_non_null(strstr(eb.msg, "store truncated"));
        assert_non_null(strstr(eb.msg, "restore from a backup"));
    }
}

/* Runs in a child: opens the store read-only (as a CLI verb would) and exits with the number
 * of stale reader slots that open freed. */
static int count_cleared_in_child(const fixture *f)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ca_store *cs = NULL;
        ca_store_stats st;
        if (open_store(&cs, f, true, NULL) || ca_store_get_stats(cs, &st))
            _exit(100);
        _exit((int)(st.stale_readers_cleared < 99 ? st.stale_readers_cleared : 99));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Item 10: while a serving node holds the environment (here this process), three children
 * open the store, begin a read transaction and are killed (SIGKILL, as `kill -9` of a `check`
 * or `backup`). Their reader slots stay taken (pinning their snapshots) until an open clears
 * them. (With no process holding the environment LMDB resets the table itself.) */
static void stale_reader_is_cleared_at_open(void **state)
{
    fixture *f = *state;
    ca_store *s = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(open_store(&s, f, false, &eb), CA_OK);
    fill_args a = {0, 10};
    assert_int_equal(ca_store_write(s, fill_txn, &a, &eb), CA_OK);

    for (int i = 0; i < 3; i++) {
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ca_store *cs = NULL;
            ca_store_txn *t = NULL;
            close(ready[0]);
            if (open_store(&cs, f, true, NULL) || ca_store_begin(cs, &t, false, NULL))
                _exit(3);
            if (write(ready[1], "r", 1) != 1)
                _exit(4);
            for (;;)
                pause(); /* killed inside the read transaction */
        }
        close(ready[1]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
    }
    /* Each child's open freed its predecessor's slot; the last one is left for this open. */
    assert_int_equal(count_cleared_in_child(f), 1);
    assert_int_equal(count_cleared_in_child(f), 0); /* nothing left to clear */
    ca_store_close(s);
}

static ca_err put_keys_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)arg;
    (void)eb;
    /* Keys around the prefixes probed below: 01 00*, 01 ff*, 02 .., ff ff ... */
    static const uint8_t keys[][3] = {{0x01, 0x00, 0x05}, {0x01, 0x00, 0x07}, {0x01, 0xff, 0x01},
                                      {0x01, 0xff, 0xff}, {0x02, 0x00, 0x00}, {0xff, 0xff, 0x03}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint8_t v = (uint8_t)i;
        ca_err err = ca_store_put(t, CA_TABLE_OUTBOX, keys[i], 3, &v, 1);
        if (err)
            return err;
    }
    return CA_OK;
}

typedef struct probe {
    uint8_t prefix[2];
    size_t len;
    ca_err want;
    int value; /* the index put_keys_txn stored, when found */
} probe;

static ca_err probe_txn_empty(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)arg;
    (void)eb;
    const uint8_t p[1] = {0x01};
    assert_int_equal(ca_store_last_under(t, CA_TABLE_OUTBOX, p, 1, NULL, NULL), CA_ERR_NOT_FOUND);
    assert_int_equal(ca_store_last_under(t, CA_TABLE_OUTBOX, p, 0, NULL, NULL), CA_ERR_INVALID);
    return CA_OK;
}

static ca_err probe_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)arg;
    (void)eb;
    static const probe probes[] = {
        {{0x01, 0x00}, 2, CA_OK, 1},            /* a key follows the prefix's range */
        {{0x01, 0xff}, 2, CA_OK, 3},            /* the prefix + 1 carries into byte 0 */
        {{0x01}, 1, CA_OK, 3},
        {{0x02}, 1, CA_OK, 4},
        {{0xff, 0xff}, 2, CA_OK, 5},            /* all 0xff: the table's last key */
        {{0x01, 0x80}, 2, CA_ERR_NOT_FOUND, 0}, /* nothing under it, keys on both sides */
        {{0x00}, 1, CA_ERR_NOT_FOUND, 0},       /* before every key */
        {{0x03}, 1, CA_ERR_NOT_FOUND, 0},       /* between keys, the next one not under it */
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        ca_store_val k = {0}, v = {0};
        ca_err err = ca_store_last_under(t, CA_TABLE_OUTBOX, probes[i].prefix, probes[i].len,
                                         &k, &v);
        assert_int_equal(err, probes[i].want);
        if (!err) {
            assert_int_equal(v.len, 1);
            assert_int_equal(*(const uint8_t *)v.data, probes[i].value);
            assert_memory_equal(k.data, probes[i].prefix, probes[i].len);
        }
    }
    return CA_OK;
}

/* ca_store_last_under: the last key under a prefix in one seek, whatever lies around it. */
static void last_under_finds_the_last_key_of_a_prefix(void **state)
{
    fixture *f = *state;
    ca_store *s = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(open_store(&s, f, false, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, probe_txn_empty, NULL, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, put_keys_txn, NULL, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, probe_txn, NULL, &eb), CA_OK);
    ca_store_close(s);
}

typedef struct collected {
    int values[8];
    size_t n, stop_after; /* stop_after 0: to the end */
} collected;

static bool collect_value(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    (void)key;
    collected *c = arg;
    assert_true(c->n < 8);
    c->values[c->n++] = *(const uint8_t *)val->data;
    return c->stop_after == 0 || c->n < c->stop_after;
}

typedef struct reverse_probe {
    uint8_t start[3];
    size_t len;       /* 0: from the table's end */
    size_t stop_after;
    int want[8];      /* the values put_keys_txn stored, greatest key first; -1 ends */
} reverse_probe;

static ca_err reverse_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)arg;
    (void)eb;
    static const reverse_probe probes[] = {
        {{0}, 0, 0, {5, 4, 3, 2, 1, 0, -1}},                /* every key, greatest first */
        {{0x01, 0xff, 0x01}, 3, 0, {2, 1, 0, -1}},          /* a stored key: it comes first */
        {{0x01, 0x80}, 2, 0, {1, 0, -1}},                   /* between keys: the one below */
        {{0x01, 0xff, 0x00}, 3, 0, {1, 0, -1}},             /* just below a stored key */
        {{0xff, 0xff, 0xff}, 3, 0, {5, 4, 3, 2, 1, 0, -1}}, /* past the last key */
        {{0x00}, 1, 0, {-1}},                               /* below every key: nothing */
        {{0}, 0, 2, {5, 4, -1}},                            /* fn's false stops the walk */
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        collected c = {.stop_after = probes[i].stop_after};
        assert_int_equal(ca_store_scan_reverse(t, CA_TABLE_OUTBOX,
                                               probes[i].len ? probes[i].start : NULL,
                                               probes[i].len, collect_value, &c),
                         CA_OK);
        size_t want_n = 0;
        while (probes[i].want[want_n] >= 0)
            want_n++;
        assert_int_equal(c.n, want_n);
        for (size_t j = 0; j < want_n; j++)
            assert_int_equal(c.values[j], probes[i].want[j]);
    }
    return CA_OK;
}

static ca_err reverse_empty_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    (void)arg;
    (void)eb;
    collected c = {0};
    const uint8_t start[1] = {0x01};
    assert_int_equal(ca_store_scan_reverse(t, CA_TABLE_OUTBOX, NULL, 0, collect_value, &c), CA_OK);
    assert_int_equal(ca_store_scan_reverse(t, CA_TABLE_OUTBOX, start, 1, collect_value, &c),
                     CA_OK);
    assert_int_equal(c.n, 0);
    return CA_OK;
}

/* ca_store_scan_reverse (issue #17: the issuance list newest first): keys <= start, greatest
 * first, from a stored key, from between keys, past either end, and on an empty table. */
static void scan_reverse_walks_down_from_start(void **state)
{
    fixture *f = *state;
    ca_store *s = NULL;
    ca_errbuf eb = {{0}};
    assert_int_equal(open_store(&s, f, false, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, reverse_empty_txn, NULL, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, put_keys_txn, NULL, &eb), CA_OK);
    assert_int_equal(ca_store_write(s, reverse_txn, NULL, &eb), CA_OK);
    ca_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(truncated_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_reader_is_cleared_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(last_under_finds_the_last_key_of_a_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(scan_reverse_walks_down_from_start, setup, teardown),
    };
    return ca_run_tests("store", tests, NULL, NULL);
}
