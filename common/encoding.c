/* Hex and base64 (RFC 4648) codecs. Written by hand because they are a few lines and need
 * strict rejection of bad input, which OpenSSL's lenient EVP_Decode* does not give. */
#include "credanchor/encoding.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

char ca_hex_digit(unsigned v)
{
    return hex_digits[v & 15];
}

int ca_hex_digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool ca_hex_is_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void ca_hex_encode(char *out, const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

ca_err ca_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
    if (in_len != 2 * out_len)
        return CA_ERR_INVALID;
    for (size_t i = 0; i < out_len; i++) {
        int hi = ca_hex_digit_value(in[2 * i]), lo = ca_hex_digit_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return CA_ERR_INVALID;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CA_OK;
}

ca_err ca_hash_from_hex(ca_hash *out, const char *hex, size_t hex_len)
{
    return ca_hex_decode(out->b, CA_HASH_SIZE, hex, hex_len);
}

void ca_hash_to_hex(char out[2 * CA_HASH_SIZE + 1], const ca_hash *h)
{
    ca_hex_encode(out, h->b, CA_HASH_SIZE);
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(char *out, const uint8_t *in, size_t len, const char *alphabet, bool pad)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    size_t rest = len - i;
    if (rest) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        if (rest == 2)
            out[o++] = alphabet[v >> 6 & 63];
        if (pad) {
            out[o++] = '=';
            if (rest == 1)
                out[o++] = '=';
        }
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char c, const char *alphabet)
{
    const char *p = c ? memchr(alphabet, c, 64) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Decodes base64 in the given alphabet. With pad, the input length must be a multiple of 4
 * with 0-2 '=' at the end; without, no '=' may appear. Non-zero trailing bits are rejected so
 * every value has exactly one encoding (signatures must not be malleable through it). */
static ca_err b64_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len,
                         const char *alphabet, bool pad)
{
    size_t npad = 0;
    if (pad) {
        if (in_len % 4)
            return CA_ERR_INVALID;
        while (npad < 2 && in_len > npad && in[in_len - 1 - npad] == '=')
            npad++;
    }
    size_t body = in_len - npad;
    if (body % 4 == 1 || (pad && body % 4 && body % 4 + npad != 4))
        return CA_ERR_INVALID;
    size_t need = body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0);
    if (need > *out_len)
        return CA_ERR_TOO_LARGE;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < body; i++) {
        int v = b64_value(in[i], alphabet);
        if (v < 0)
            return CA_ERR_INVALID;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)))
        return CA_ERR_INVALID;
    *out_len = o;
    return CA_OK;
}

size_t ca_base64_encoded_len(size_t len) { return (len + 2) / 3 * 4 + 1; }

void ca_base64_encode(char *out, const uint8_t *in, size_t len)
{
    b64_encode(out, in, len, b64_std, true);
}

ca_err ca_base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len)
{
    return b64_decode(out, out_len, in, in_len, b64_std, true);
}

size_t ca_base64url_encoded_len(size_t len) { return (len * 4 + 2) / 3 + 1; }

void ca_base64url_encode(char *out, const uint8_t *in, size_t len)
{
    b64_encode(out, in, len, b64_url, false);
}

ca_err ca_base64url_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len)
{
    return b64_decode(out, out_len, in, in_len, b64_url, false);
}

/* ---- UTF-8 (encoding.h) ---- */

size_t ca_utf8_seq(const uint8_t *s, size_t avail, uint32_t *cp)
{
    if (avail == 0)
        return 0;
    uint8_t c = s[0];
    size_t n;
    uint32_t v;
    uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80) {
        n = 1;
        v = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* no overlongs */
        if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n > 1 && (avail < n || s[1] < lo || s[1] > hi))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (cp)
        *cp = v;
    return n;
}

size_t ca_utf8_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = ca_utf8_seq(s + i, n - i, NULL);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

void ca_utf8_scrub(char *s)
{
    uint8_t *p = (uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = ca_utf8_seq(p + i, n - i, NULL);
        if (k) {
            i += k;
        } else {
            p[i] = '?';
            i++;
        }
    }
}
