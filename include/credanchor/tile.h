/*
 * Tile layout of the log (C2SP tlog-tiles; Go's sumdb/tlog), with no I/O.
 *
 * A tile has height 8: tile (L, N) holds the hashes at tree level 8L with indexes
 * [256N, 256N + 256); a tile with fewer than 256 of them is partial and its width W (1..255)
 * is in its path. Level-0 tile N is also the 256-leaf block N of the store's `tiles` table
 * (node/store.c), which keeps all the levels 0..7 of a complete block, 510 hashes, as one read
 * copy ("block layout" below): the 256 leaf hashes, then the 128 of level 1, ..., then the 2 of
 * level 7. Conventions: common.h.
 */
#ifndef CREDANCHOR_TILE_H
#define CREDANCHOR_TILE_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_TILE_HEIGHT 8                           /* tree levels per tile */
#define CA_TILE_WIDTH (1u << CA_TILE_HEIGHT)       /* hashes in a full tile: 256 */
#define CA_TILE_BLOCK_HASHES (2 * CA_TILE_WIDTH - 2) /* levels 0..7 of a block: 256 + ... + 2 */
/* The longest path ca_tile_path writes, with its NUL: "tile/entries/" and 7 groups of 4
 * ("x018/" ...) for a 64-bit index, and ".p/255". */
#define CA_TILE_PATH_MAX 64

/* ---- C2SP tlog-tiles coordinates ---------------------------------------------------------- */

/* The width of tile (level, index) in a tree of `size` leaves: 256 when full, 1..255 when
 * partial, 0 when the tile does not exist yet. Level 0 tiles are also the entry bundles' widths.
 * level >= 8 has no tile in a 64-bit tree: 0. */
unsigned ca_tile_width(uint64_t size, unsigned level, uint64_t index);

/* Writes the tile's path, "tile/<L>/<N>[.p/<W>]", into out[cap]: N in 3-digit groups, all but
 * the last prefixed with x (index 1234067 is x001/x234/067); ".p/<W>" only when width < 256.
 * entries: the entry bundle instead, "tile/entries/<N>[.p/<W>]" (level must be 0).
 * Returns CA_OK; CA_ERR_INVALID when width is 0 or over 256, or level over 63 (or not 0 for
 * entries); CA_ERR_RANGE when cap is too small (out then holds ""). */
ca_err ca_tile_path(char *out, size_t cap, unsigned level, uint64_t index, unsigned width,
                    bool entries);

/* The longest tile path ca_tile_parse_path considers, in bytes: a longer text is no path. */
#define CA_TILE_PATH_TEXT_MAX (CA_TILE_PATH_MAX - 1)

/* Parses a tile path as ca_tile_path writes it, "tile/<L>/<N>[.p/<W>]" or
 * "tile/entries/<N>[.p/<W>]" (len bytes, no NUL needed), strictly as C2SP tlog-tiles says:
 * <L> decimal 0..63 and <W> decimal 1..255, both with no leading zero; <N> in 3-digit
 * elements, all but the last beginning with "x", with no leading all-zero element (so each
 * index has one path) and at most UINT64_MAX. *width gets 256 for a full tile, *entries
 * whether it is an entry bundle (then *level is 0). Every accepted path is exactly what
 * ca_tile_path writes for the result (tests/fuzz/fuzz_tile_path.c checks it both ways).
 * CA_ERR_INVALID for anything else; the outputs are then unspecified. */
ca_err ca_tile_parse_path(const char *path, size_t len, unsigned *level, uint64_t *index,
                          unsigned *width, bool *entries);

/* ---- the store's block layout (levels 0..7 of a 256-leaf block) -------------------------- */

/* Inline: the log's proof reader calls these for every hash it reads. */
/* The block that holds complete subtree (level, index), level < 8: index >> (8 - level). */
static inline uint64_t ca_tile_block_of(unsigned level, uint64_t index)
{
    return index >> (CA_TILE_HEIGHT - level);
}
/* Whether block b is complete in a tree of `size` leaves (its 256 leaves are all there). */
static inline bool ca_tile_block_complete(uint64_t block, uint64_t size)
{
    return (block + 1) * CA_TILE_WIDTH <= size;
}
/* Position of subtree (level, index), level < 8, inside its block's layout: level L starts
 * after the 256 + 128 + ... hashes of the levels below it. */
static inline size_t ca_tile_block_slot(unsigned level, uint64_t index)
{
    size_t start = 2 * CA_TILE_WIDTH - (2 * CA_TILE_WIDTH >> level);
    return start + (size_t)(index & ((CA_TILE_WIDTH >> level) - 1));
}
/* Fills levels 1..7 of a block layout from its 256 leaf hashes (slots 0..255). */
void ca_tile_block_fill(ca_hash block[CA_TILE_BLOCK_HASHES]);

#ifdef __cplusplus
}
#endif

#endif
