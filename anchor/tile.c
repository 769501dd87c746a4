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

/* A decimal number of 1..3 digits with no leading zero (C2SP tlog-tiles <L> and <W>), at
 * most max; the text is s[0..n). */
static bool parse_small_decimal(const char *s, size_t n, unsigned max, unsigned *out)
{
    if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* The index elements "x001/x234/067" at s[0..n), exactly as put_index writes them. */
static bool parse_index(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t at = 0;
    for (unsigned group = 0;; group++) {
        bool last = n - at == 3;
        /* Every element but the last is "xDDD/" (5 bytes); the last is "DDD". */
        if (!last && (n - at < 5 + 3 || s[at] != 'x' || s[at + 4] != '/'))
            return false;
        const char *d = s + at + (last ? 0 : 1);
        unsigned g = 0;
        for (int i = 0; i < 3; i++) {
            if (d[i] < '0' || d[i] > '9')
                return false;
            g = g * 10 + (unsigned)(d[i] - '0');
        }
        /* "x000/..." would be a second path for the same index. */
        if (group == 0 && !last && g == 0)
            return false;
        if (v > (UINT64_MAX - g) / 1000)
            return false;
        v = v * 1000 + g;
        if (last) {
            *out = v;
            return true;
        }
        at += 5;
    }
}

ca_err ca_tile_parse_path(const char *path, size_t len, unsigned *level, uint64_t *index,
                          unsigned *width, bool *entries)
{
    static const char tile[] = "tile/", bundle[] = "entries/";
    if (!path || len > CA_TILE_PATH_TEXT_MAX || len < sizeof tile - 1 ||
        memcmp(path, tile, sizeof tile - 1) != 0)
        return CA_ERR_INVALID;
    const char *p = path + sizeof tile - 1, *end = path + len;
    *entries = (size_t)(end - p) >= sizeof bundle - 1 &&
               memcmp(p, bundle, sizeof bundle - 1) == 0;
    if (*entries) {
        *level = 0;
        p += sizeof bundle - 1;
    } else {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash || !parse_small_decimal(p, (size_t)(slash - p), 63, level))
            return CA_ERR_INVALID;
        p = slash + 1;
    }
    /* ".p/<W>" ends a partial tile; no index element contains a '.'. */
    const char *dot = memchr(p, '.', (size_t)(end - p));
    *width = CA_TILE_WIDTH;
    if (dot) {
        if (end - dot < 4 || dot[1] != 'p' || dot[2] != '/' ||
            !parse_small_decimal(dot + 3, (size_t)(end - dot - 3), CA_TILE_WIDTH - 1, width) ||
            *width == 0)
            return CA_ERR_INVALID;
        end = dot;
    }
    return parse_index(p, (size_t)(end - p), index) ? CA_OK : CA_ERR_INVALID;
}
