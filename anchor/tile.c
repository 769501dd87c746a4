/*
 * Tile layout of the log (contract: include/credanchor/tile.h).
 *
 *  - C2SP tlog-tiles: tiles of height 8, paths tile/<L>/<N>[.p/<W>] and
 *    tile/entries/<N>[.p/<W>], <L> decimal 0..63, <N> in 3-digit path elements all but the last
 *    beginning with "x", <W> decimal 1..255 for a partial tile, no extra leading zeroes.
 *  - The store's block layout (node/store.c `tiles`), shared by the log's writer and reader
 *    (node/log.c) and `credanchor check` (node/cli_check.c), which recomputes it.
 */
#include "credanchor/tile.h"

#include "credanchor/merkle.h"

#include <stdio.h>
#include <string.h>

unsigned ca_tile_width(uint64_t size, unsigned level, uint64_t index)
{
    if (level >= 64 / CA_TILE_HEIGHT)
        return 0;
    uint64_t hashes = size >> (CA_TILE_HEIGHT * level); /* hashes at tree level 8L */
    uint64_t full = hashes / CA_TILE_WIDTH;
    if (index < full)
        return CA_TILE_WIDTH;
    if (index == full)
        return (unsigned)(hashes % CA_TILE_WIDTH);
    return 0;
}

/* Appends the index as 3-digit elements, "x001/x234/067"; returns the length written. */
static size_t put_index(char *out, size_t cap, uint64_t index)
{
    unsigned groups[7]; /* 2^64 has 20 digits */
    size_t n = 0, len = 0;
    do {
        groups[n++] = (unsigned)(index % 1000);
        index /= 1000;
    } while (index);
    while (n-- > 0) {
        int w = snprintf(out + len, len < cap ? cap - len : 0, n ? "x%03u/" : "%03u", groups[n]);
        len += (size_t)w;
    }
    return len;
}

ca_err ca_tile_path(char *out, size_t cap, unsigned level, uint64_t index, unsigned width,
                    bool entries)
{
    if (width == 0 || width > CA_TILE_WIDTH || level > 63 || (entries && level != 0))
        return CA_ERR_INVALID;
    char buf[CA_TILE_PATH_MAX];
    size_t len = entries ? (size_t)snprintf(buf, sizeof buf, "tile/entries/")
                         : (size_t)snprintf(buf, sizeof buf, "tile/%u/", level);
    len += put_index(buf + len, sizeof buf - len, index);
    if (width < CA_TILE_WIDTH)
        len += (size_t)snprintf(buf + len, sizeof buf - len, ".p/%u", width);
    if (len >= cap) {
        if (cap)
            out[0] = '\0';
        return CA_ERR_RANGE;
    }
    memcpy(out, buf, len + 1);
    return CA_OK;
}

void ca_tile_block_fill(ca_hash block[CA_TILE_BLOCK_HASHES])
{
    size_t at = CA_TILE_WIDTH, width = CA_TILE_WIDTH;
    while (width > 2) { /* level by level: each pair of the previous level */
        for (size_t i = 0; i < width / 2; i++)
            ca_merkle_node_hash(&block[at + i], &block[at - width + 2 * i],
                                &block[at - width + 2 * i + 1]);
        at += width / 2;
        width /= 2;
    }
}
