/*
 * Tests for anchor/tile.c: C2SP tlog-tiles paths and widths (the spec's examples: index 1234067
 * is x001/x234/067; a partial tile carries .p/<W>), and the store's 510-hash block layout
 * against the Merkle maths of anchor/merkle.c (RFC 9162 §2.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "credanchor/merkle.h"
#include "credanchor/tile.h"

static void path_is(unsigned level, uint64_t index, unsigned width, bool entries,
                    const char *want)
{
    char got[CA_TILE_PATH_MAX];
    assert_int_equal(ca_tile_path(got, sizeof got, level, index, width, entries), CA_OK);
    assert_string_equal(got, want);
}

static void test_paths(void **state)
{
    (void)state;
    /* C2SP tlog-tiles: "index 1234067 will be encoded as x001/x234/067". */
    path_is(0, 1234067, 8, false, "tile/0/x001/x234/067.p/8");
    path_is(1, 1234067, 256, false, "tile/1/x001/x234/067");
    path_is(0, 1234067, 256, true, "tile/entries/x001/x234/067");
    path_is(0, 1234067, 255, true, "tile/entries/x001/x234/067.p/255");
    path_is(0, 0, 256, false, "tile/0/000");
    path_is(2, 0, 1, false, "tile/2/000.p/1");
    path_is(0, 999, 256, false, "tile/0/999");
    path_is(0, 1000, 256, false, "tile/0/x001/000");
    path_is(63, 5, 256, false, "tile/63/005");
    path_is(0, UINT64_MAX, 256, true, "tile/entries/x018/x446/x744/x073/x709/x551/615");
}

static void test_path_errors(void **state)
{
    (void)state;
    char out[CA_TILE_PATH_MAX];
    assert_int_equal(ca_tile_path(out, sizeof out, 0, 1, 0, false), CA_ERR_INVALID);
    assert_int_equal(ca_tile_path(out, sizeof out, 0, 1, 257, false), CA_ERR_INVALID);
    assert_int_equal(ca_tile_path(out, sizeof out, 64, 1, 256, false), CA_ERR_INVALID);
    assert_int_equal(ca_tile_path(out, sizeof out, 1, 1, 256, true), CA_ERR_INVALID);
    /* "tile/0/x001/x234/067.p/8" is 24 characters: 25 bytes fit it, 24 do not. */
    assert_int_equal(ca_tile_path(out, 25, 0, 1234067, 8, false), CA_OK);
    assert_int_equal(ca_tile_path(out, 24, 0, 1234067, 8, false), CA_ERR_RANGE);
    assert_string_equal(out, "");
}

static void test_widths(void **state)
{
    (void)state;
    assert_int_equal(ca_tile_width(0, 0, 0), 0);
    assert_int_equal(ca_tile_width(1, 0, 0), 1);
    assert_int_equal(ca_tile_width(256, 0, 0), 256);
    assert_int_equal(ca_tile_width(256, 0, 1), 0);
    assert_int_equal(ca_tile_width(256, 1, 0), 1); /* the one level-8 hash */
    /* 70000 leaves: 273 full level-0 tiles and one of 112; 273 level-8 hashes: one full tile
     * and one of 17; one level-16 hash. */
    assert_int_equal(ca_tile_width(70000, 0, 272), 256);
    assert_int_equal(ca_tile_width(70000, 0, 273), 112);
    assert_int_equal(ca_tile_width(70000, 0, 274), 0);
    assert_int_equal(ca_tile_width(70000, 1, 0), 256);
    assert_int_equal(ca_tile_width(70000, 1, 1), 17);
    assert_int_equal(ca_tile_width(70000, 2, 0), 1);
    assert_int_equal(ca_tile_width(70000, 3, 0), 0);
    assert_int_equal(ca_tile_width(UINT64_MAX, 7, 0), 255);
    assert_int_equal(ca_tile_width(UINT64_MAX, 8, 0), 0);
}

static void test_block_index(void **state)
{
    (void)state;
    assert_int_equal(ca_tile_block_of(0, 255), 0);
    assert_int_equal(ca_tile_block_of(0, 256), 1);
    assert_int_equal(ca_tile_block_of(7, 3), 1);
    assert_true(ca_tile_block_complete(0, 256));
    assert_false(ca_tile_block_complete(1, 511));
    assert_true(ca_tile_block_complete(1, 512));
    /* Every (level < 8, index within a block) has its own slot, and they fill 0..509. */
    bool seen[CA_TILE_BLOCK_HASHES] = {false};
    for (unsigned level = 0; level < CA_TILE_HEIGHT; level++)
        for (uint64_t k = 0; k < (CA_TILE_WIDTH >> level); k++) {
            size_t s = ca_tile_block_slot(level, k + 3 * (CA_TILE_WIDTH >> level));
            assert_true(s < CA_TILE_BLOCK_HASHES);
            assert_false(seen[s]);
            seen[s] = true;
        }
    assert_int_equal(ca_tile_block_slot(0, 0), 0);
    assert_int_equal(ca_tile_block_slot(1, 0), 256);
    assert_int_equal(ca_tile_block_slot(7, 1), CA_TILE_BLOCK_HASHES - 1);
}

/* ca_tile_parse_path gives back what ca_tile_path wrote, for every level, width and index
 * shape (one to seven elements, the largest index, both kinds). */
static void round_trip(unsigned level, uint64_t index, unsigned width, bool entries)
{
    char path[CA_TILE_PATH_MAX];
    assert_int_equal(ca_tile_path(path, sizeof path, level, index, width, entries), CA_OK);
    unsigned got_level = 99, got_width = 0;
    uint64_t got_index = 0;
    bool got_entries = !entries;
    assert_int_equal(ca_tile_parse_path(path, strlen(path), &got_level, &got_index, &got_width,
                                        &got_entries),
                     CA_OK);
    assert_int_equal(got_level, level);
    assert_true(got_index == index);
    assert_int_equal(got_width, width);
    assert_true(got_entries == entries);
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    static const uint64_t indexes[] = {0, 1, 9, 10, 999, 1000, 1001, 1234067, 999999,
                                       1000000, 4294967295u, UINT64_MAX / 1000,
                                       UINT64_MAX - 1, UINT64_MAX};
    static const unsigned widths[] = {1, 2, 9, 10, 99, 100, 112, 255, 256};
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            round_trip(0, indexes[i], widths[w], true);
            for (unsigned level = 0; level < 64; level += (level < 3 ? 1 : 20))
                round_trip(level, indexes[i], widths[w], false);
            round_trip(63, indexes[i], widths[w], false);
        }
}

static void refused(const char *path)
{
    unsigned level, width;
    uint64_t index;
    bool entries;
    if (ca_tile_parse_path(path, strlen(path), &level, &index, &width, &entries) != CA_ERR_INVALID)
        fail_msg("accepted %s", path);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "tile", "tile/", "tile/0", "tile/0/", "tile//000", "tiles/0/000", "Tile/0/000",
        "/tile/0/000", "tile/0/000/",
        /* <L>: decimal 0..63, no leading zero */
        "tile/00/000", "tile/01/000", "tile/64/000", "tile/100/000", "tile/-1/000",
        "tile/+1/000", "tile/a/000", "tile/1x/000", "tile/0001/000",
        /* <N>: 3-digit elements, "x" on all but the last, no leading x000 */
        "tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/x000", "tile/0/x001", "tile/0/001/002",
        "tile/0/x001/02", "tile/0/x001/0002", "tile/0/X001/002", "tile/0/xx01/002",
        "tile/0/x000/001", "tile/0/x000/x001/002", "tile/0/x01/002", "tile/0/x001//002",
        "tile/0/x001/x002", "tile/0/0a1", "tile/0/ 01", "tile/0/x001/002/",
        /* over UINT64_MAX (18446744073709551615) */
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x100/x000/x000/x000/x000/x000/000",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        /* .p/<W>: 1..255, no leading zero, nothing after */
        "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.p",
        "tile/0/000.", "tile/0/000.q/8", "tile/0/000.p/8/", "tile/0/000.p/8.p/8",
        "tile/0/000.p//8", "tile/0/000p/8", "tile/0/x001.p/8/002", "tile/0/000.p/1000",
        "tile/0/000.p/-1",
        /* entry bundles */
        "tile/entries/", "tile/entries", "tile/entries/0", "tile/entries/x000/001",
        "tile/entries/000.p/0", "tile/entries/000.p/256", "tile/entry/000",
        "tile/entries/entries/000",
        "tile/0/entries/000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused(bad[i]);
    /* The length is the path's: a NUL or bytes past len are not read as part of it. */
    unsigned level, width;
    uint64_t index;
    bool entries;
    assert_int_equal(ca_tile_parse_path("tile/0/001.p/8", 10, &level, &index, &width, &entries),
                     CA_OK);
    assert_int_equal(width, 256);
    assert_int_equal(ca_tile_parse_path("tile/0/0\0001", 10, &level, &index, &width, &entries),
                     CA_ERR_INVALID);
    assert_int_equal(ca_tile_parse_path(NULL, 0, &level, &index, &width, &entries),
                     CA_ERR_INVALID);
    /* A path longer than any real one is refused before it is read. */
    char long_path[CA_TILE_PATH_MAX + 8];
    memset(long_path, '0', sizeof long_path);
    memcpy(long_path, "tile/0/", 7);
    assert_int_equal(ca_tile_parse_path(long_path, sizeof long_path, &level, &index, &width,
                                        &entries),
                     CA_ERR_INVALID);
}

/* A reader over the leaf hashes of one block, for ca_merkle_root. */
static ca_err leaves_reader(void *ctx, unsigned level, uint64_t index, ca_hash *out)
{
    const ca_hash *leaves = ctx;
    if (level == 0) {
        *out = leaves[index];
        return CA_OK;
    }
    ca_hash l, r;
    leaves_reader(ctx, level - 1, 2 * index, &l);
    leaves_reader(ctx, level - 1, 2 * index + 1, &r);
    ca_merkle_node_hash(out, &l, &r);
    return CA_OK;
}

static void test_block_fill(void **state)
{
    (void)state;
    static ca_hash block[CA_TILE_BLOCK_HASHES];
    for (unsigned i = 0; i < CA_TILE_WIDTH; i++) {
        uint8_t d[CA_HASH_SIZE] = {(uint8_t)i, 0x5a};
        ca_merkle_leaf_hash(&block[i], d);
    }
    ca_tile_block_fill(block);
    for (unsigned level = 1; level < CA_TILE_HEIGHT; level++)
        for (uint64_t k = 0; k < (CA_TILE_WIDTH >> level); k++) {
            ca_hash want;
            leaves_reader(block, level, k, &want);
            assert_memory_equal(block[ca_tile_block_slot(level, k)].b, want.b, CA_HASH_SIZE);
        }
    /* The block's two level-7 hashes make the root of its 256 leaves. */
    ca_hash root, want;
    ca_merkle_node_hash(&root, &block[ca_tile_block_slot(7, 0)], &block[ca_tile_block_slot(7, 1)]);
    assert_int_equal(ca_merkle_root(&want, leaves_reader, block, CA_TILE_WIDTH), CA_OK);
    assert_memory_equal(root.b, want.b, CA_HASH_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),       cmocka_unit_test(test_path_errors),
        cmocka_unit_test(test_widths),      cmocka_unit_test(test_block_index),
        cmocka_unit_test(test_block_fill), cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_parse_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
