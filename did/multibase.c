/*
 * base58btc (the Bitcoin alphabet, draft-msporny-base58), multibase 'z' and multiformats
 * unsigned-varint (https://github.com/multiformats/unsigned-varint).
 *
 * Why limbs: base58 is a change of radix, quadratic in the length. Working on whole machine
 * words instead of one byte or digit at a time cuts the inner loop by a factor of 4-5: the
 * decoder accumulates 5 digits (58^5 < 2^32) per pass into 32-bit limbs, and the encoder feeds
 * 4 input bytes per pass into limbs of base 58^5. Inputs are capped (CA_BASE58_MAX_*), so the
 * fixed limb arrays below cannot overflow and hostile input cannot buy unbounded work.
 */
#include "credanchor/multibase.h"

#include <string.h>

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Digit value of each ASCII byte, -1 when it is not in the alphabet. */
static const int8_t b58_value[256] = {
    ['1'] = 1,  ['2'] = 2,  ['3'] = 3,  ['4'] = 4,  ['5'] = 5,  ['6'] = 6,  ['7'] = 7,
    ['8'] = 8,  ['9'] = 9,  ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14,
    ['F'] = 15, ['G'] = 16, ['H'] = 17, ['J'] = 18, ['K'] = 19, ['L'] = 20, ['M'] = 21,
    ['N'] = 22, ['P'] = 23, ['Q'] = 24, ['R'] = 25, ['S'] = 26, ['T'] = 27, ['U'] = 28,
    ['V'] = 29, ['W'] = 30, ['X'] = 31, ['Y'] = 32, ['Z'] = 33, ['a'] = 34, ['b'] = 35,
    ['c'] = 36, ['d'] = 37, ['e'] = 38, ['f'] = 39, ['g'] = 40, ['h'] = 41, ['i'] = 42,
    ['j'] = 43, ['k'] = 44, ['m'] = 45, ['n'] = 46, ['o'] = 47, ['p'] = 48, ['q'] = 49,
    ['r'] = 50, ['s'] = 51, ['t'] = 52, ['u'] = 53, ['v'] = 54, ['w'] = 55, ['x'] = 56,
    ['y'] = 57, ['z'] = 58, /* stored +1 so that 0 means "not in the alphabet" */
};

#define B58_POW5 656356768u /* 58^5 */

/* 512 digits hold at most 512 * log2(58) < 3000 bits: 94 32-bit limbs. 375 bytes need at most
 * 512 digits: 103 limbs of 5 digits. */
#define DEC_LIMBS 96
#define ENC_LIMBS 104

size_t ca_base58_encoded_max(size_t len)
{
    /* log(256)/log(58) = 1.3657...; 138/100 rounds up, +1 for the partial digit. */
    return len * 138 / 100 + 1;
}

ca_err ca_base58_encode(char *out, size_t *out_len, const uint8_t *in, size_t in_len,
                        ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && out_len != NULL && (in != NULL || in_len == 0));
    if (in_len > CA_BASE58_MAX_BINARY)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "base58: %zu bytes is over the %d-byte cap",
                       in_len, CA_BASE58_MAX_BINARY);
    size_t zeros = 0;
    while (zeros < in_len && in[zeros] == 0)
        zeros++;

    uint32_t limb[ENC_LIMBS]; /* little-endian, base 58^5 */
    size_t nlimb = 0;
    size_t i = zeros;
    while (i < in_len) {
        /* The first chunk takes the odd bytes so the rest are whole 4-byte words. */
        size_t take = (in_len - i) % 4;
        if (take == 0)
            take = 4;
        uint64_t carry = 0;
        for (size_t k = 0; k < take; k++)
            carry = (carry << 8) | in[i + k];
        unsigned shift = (unsigned)(8 * take);
        i += take;
        for (size_t j = 0; j < nlimb; j++) {
            uint64_t t = ((uint64_t)limb[j] << shift) + carry;
            limb[j] = (uint32_t)(t % B58_POW5);
            carry = t / B58_POW5;
        }
        while (carry) {
            limb[nlimb++] = (uint32_t)(carry % B58_POW5);
            carry /= B58_POW5;
        }
    }

    /* Digits, most significant first: 5 per limb, the top limb without its leading zeros. */
    char digits[ENC_LIMBS * 5];
    size_t nd = 0;
    for (size_t j = nlimb; j-- > 0;) {
        uint32_t v = limb[j];
        char five[5];
        for (int k = 4; k >= 0; k--) {
            five[k] = (char)(v % 58);
            v /= 58;
        }
        int k = 0;
        if (j == nlimb - 1)
            while (k < 4 && five[k] == 0)
                k++;
        for (; k < 5; k++)
            digits[nd++] = five[k];
    }
    size_t total = zeros + nd;
    if (total + 1 > *out_len)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "base58: output needs %zu bytes, buffer has %zu",
                       total + 1, *out_len);
    memset(out, '1', zeros);
    for (size_t k = 0; k < nd; k++)
        out[zeros + k] = b58_alphabet[(unsigned char)digits[k]];
    out[total] = '\0';
    *out_len = total;
    return CA_OK;
}

ca_err ca_base58_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len,
                        ca_errbuf *eb)
{
    CA_ASSERT(out_len != NULL && (out != NULL || *out_len == 0) && (in != NULL || in_len == 0));
    if (in_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "base58: empty text");
    if (in_len > CA_BASE58_MAX_TEXT)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "base58: %zu characters is over the %d cap",
                       in_len, CA_BASE58_MAX_TEXT);
    for (size_t i = 0; i < in_len; i++)
        if (b58_value[(unsigned char)in[i]] == 0) {
            unsigned char c = (unsigned char)in[i];
            if (c >= 0x20 && c < 0x7f)
                return ca_fail(eb, CA_ERR_INVALID,
                               "base58: '%c' at offset %zu is not in the base58btc alphabet",
                               c, i);
            return ca_fail(eb, CA_ERR_INVALID,
                           "base58: byte 0x%02x at offset %zu is not in the base58btc alphabet",
                           c, i);
        }
    size_t zeros = 0;
    while (zeros < in_len && in[zeros] == '1')
        zeros++;

    uint32_t limb[DEC_LIMBS]; /* little-endian, base 2^32 */
    size_t nlimb = 0;
    size_t i = zeros;
    while (i < in_len) {
        size_t take = in_len - i < 5 ? in_len - i : 5;
        uint32_t mul = 1, add = 0;
        for (size_t k = 0; k < take; k++) {
            mul *= 58;
            add = add * 58 + (uint32_t)(b58_value[(unsigned char)in[i + k]] - 1);
        }
        i += take;
        uint64_t carry = add;
        for (size_t j = 0; j < nlimb; j++) {
            uint64_t t = (uint64_t)limb[j] * mul + carry;
            limb[j] = (uint32_t)t;
            carry = t >> 32;
        }
        if (carry)
            limb[nlimb++] = (uint32_t)carry;
    }

    /* The value's significant bytes: nlimb limbs less the top limb's leading zero bytes. */
    size_t nbytes = nlimb * 4;
    if (nlimb) {
        uint32_t top = limb[nlimb - 1];
        while (nbytes > (nlimb - 1) * 4 && (top >> (8 * ((nbytes - 1) % 4))) == 0)
            nbytes--;
    }
    size_t total = zeros + nbytes;
    if (total > *out_len)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "base58: decodes to %zu bytes, buffer has %zu",
                       total, *out_len);
    memset(out, 0, zeros);
    for (size_t k = 0; k < nbytes; k++) {
        size_t bit = nbytes - 1 - k; /* byte index from the least significant end */
        out[zeros + k] = (uint8_t)(limb[bit / 4] >> (8 * (bit % 4)));
    }
    *out_len = total;
    return CA_OK;
}

ca_err ca_multibase_encode(char *out, size_t *out_len, const uint8_t *in, size_t in_len,
                           ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && out_len != NULL);
    if (*out_len < 2)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "multibase: output buffer of %zu bytes", *out_len);
    size_t cap = *out_len - 1;
    ca_err err = ca_base58_encode(out + 1, &cap, in, in_len, eb);
    if (err)
        return err;
    out[0] = 'z';
    *out_len = cap + 1;
    return CA_OK;
}

ca_err ca_multibase_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len,
                           ca_errbuf *eb)
{
    CA_ASSERT(out_len != NULL && (in != NULL || in_len == 0));
    if (in_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "multibase: empty value");
    if (in[0] != 'z') {
        unsigned char c = (unsigned char)in[0];
        if (c >= 0x20 && c < 0x7f)
            return ca_fail(eb, CA_ERR_INVALID,
                           "multibase: prefix '%c' is not supported (only 'z', base58btc)", c);
        return ca_fail(eb, CA_ERR_INVALID,
                       "multibase: prefix byte 0x%02x is not supported (only 'z', base58btc)", c);
    }
    return ca_base58_decode(out, out_len, in + 1, in_len - 1, eb);
}

size_t ca_varint_encode(uint8_t out[CA_VARINT_MAX], uint64_t v)
{
    CA_ASSERT(out != NULL && v < CA_VARINT_LIMIT);
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

ca_err ca_varint_decode(uint64_t *v, size_t *used, const uint8_t *in, size_t in_len,
                        ca_errbuf *eb)
{
    CA_ASSERT(v != NULL && used != NULL && (in != NULL || in_len == 0));
    uint64_t x = 0;
    for (size_t i = 0; i < CA_VARINT_MAX; i++) {
        if (i >= in_len)
            return ca_fail(eb, CA_ERR_INVALID, "varint: input ends after %zu continuation byte%s",
                           i, i == 1 ? "" : "s");
        uint8_t b = in[i];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0)
                return ca_fail(eb, CA_ERR_INVALID,
                               "varint: %zu-byte encoding is not minimal", i + 1);
            *v = x;
            *used = i + 1;
            return CA_OK;
        }
    }
    return ca_fail(eb, CA_ERR_INVALID, "varint: longer than %d bytes", CA_VARINT_MAX);
}
