/* C2SP tlog-tiles paths (anchor/tile.c ca_tile_parse_path), as the node's /tlog/tile/ routes
 * read them (node/routes_log.c). No crash or read past the input for any bytes; an accepted
 * path names a tile that exists in some 64-bit tree (level <= 63, width 1..256, entries only
 * at level 0) and is, byte for byte, the path ca_tile_path writes for it, so each tile has one
 * path; and that path parses back to the same tile. */
#include "credanchor/tile.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * CA_TILE_PATH_MAX)
        return 0;
    uint8_t *copy = fuzz_memdup(data, size); /* exact size, no NUL: ASan sees any overread */
    unsigned level = 0, width = 0;
    uint64_t index = 0;
    bool entries = false;
    ca_err err = ca_tile_parse_path((const char *)copy, size, &level, &index, &width, &entries);
    if (err == CA_OK) {
        FUZZ_CHECK(level <= 63 && width >= 1 && width <= CA_TILE_WIDTH);
        FUZZ_CHECK(!entries || level == 0);
        char path[CA_TILE_PATH_MAX];
        FUZZ_CHECK(ca_tile_path(path, sizeof path, level, index, width, entries) == CA_OK);
        FUZZ_CHECK(strlen(path) == size && memcmp(path, copy, size) == 0);
    } else {
        FUZZ_CHECK(err == CA_ERR_INVALID);
    }
    /* The other way round: a tile drawn from the input's bytes survives the round trip. */
    if (size >= 12) {
        uint64_t i = 0;
        memcpy(&i, data, 8);
        unsigned l = data[8] % 64, w = 1 + (unsigned)(data[9] | data[10] << 8) % CA_TILE_WIDTH;
        bool e = data[11] & 1;
        if (e)
            l = 0;
        char path[CA_TILE_PATH_MAX];
        FUZZ_CHECK(ca_tile_path(path, sizeof path, l, i, w, e) == CA_OK);
        FUZZ_CHECK(ca_tile_parse_path(path, strlen(path), &level, &index, &width, &entries) ==
                   CA_OK);
        FUZZ_CHECK(level == l && index == i && width == w && entries == e);
    }
    free(copy);
    return 0;
}
