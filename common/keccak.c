/* Keccak-256 as Ethereum uses it (crypto.h). OpenSSL 3.0 has no Keccak-256 and SHA3-256 pads
 * differently (0x06 instead of Keccak's 0x01), so this runs the sponge by hand over nettle's
 * Keccak-f[1600] permutation: rate 136 bytes (1088 bits), capacity 512 bits, pad10*1 with the
 * original Keccak domain byte 0x01 (FIPS 202 changed only that byte). */
#include "credanchor/crypto.h"

#include <nettle/sha3.h>
#include <string.h>

#define KECCAK256_RATE 136 /* bytes: (1600 - 2*256) / 8 */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* XORs one full rate-sized block into the state as 17 little-endian 64-bit lanes. */
static void absorb_block(struct sha3_state *st, const uint8_t *block)
{
    for (size_t i = 0; i < KECCAK256_RATE / 8; i++)
        st->a[i] ^= load_le64(block + 8 * i);
}

void ca_keccak256(ca_hash *out, const void *data, size_t len)
{
    CA_ASSERT(out != NULL);
    CA_ASSERT(data != NULL || len == 0);
    const uint8_t *p = data;
    struct sha3_state st;
    memset(&st, 0, sizeof st);

    while (len >= KECCAK256_RATE) {
        absorb_block(&st, p);
        sha3_permute(&st);
        p += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }

    /* Final block: the remaining bytes, then 0x01 ... 0x80 (both in one byte when only one
     * byte of the block is free). */
    uint8_t block[KECCAK256_RATE];
    memset(block, 0, sizeof block);
    if (len)
        memcpy(block, p, len);
    block[len] ^= 0x01;
    block[KECCAK256_RATE - 1] ^= 0x80;
    absorb_block(&st, block);
    sha3_permute(&st);

    /* Squeeze: 32 bytes from the first four lanes, little-endian. */
    for (size_t i = 0; i < CA_HASH_SIZE; i++)
        out->b[i] = (uint8_t)(st.a[i / 8] >> (8 * (i % 8)));
    memset(&st, 0, sizeof st);
}
