/*
 * base58btc, multibase ("z" prefix only) and multiformats unsigned-varint: the encodings a
 * did:key identifier is made of (did:key method spec v0.9, "Format"). Conventions: common.h.
 *
 * Output lengths travel through `size_t *out_len`: the capacity in (for text, including the
 * terminating NUL), the length written out (for text, without the NUL). Too small a capacity
 * is CA_ERR_TOO_LARGE, never a truncated result.
 */
#ifndef CREDANCHOR_MULTIBASE_H
#define CREDANCHOR_MULTIBASE_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest base58 text accepted by the decoder and longest binary input to the encoder: far
 * above any did:key value (a P-384 key is 51 bytes, 70 characters). The work is quadratic in
 * the length, so the cap also bounds the time spent on hostile input. */
#define CA_BASE58_MAX_TEXT 512
#define CA_BASE58_MAX_BINARY 374 /* 374 bytes encode to at most 511 characters */

/* An upper bound on the base58 length of len bytes (without the NUL). */
size_t ca_base58_encoded_max(size_t len);

/* Bitcoin-alphabet base58 of in. Each leading zero byte becomes a leading '1'. The result is
 * NUL-terminated. CA_ERR_TOO_LARGE when in_len > CA_BASE58_MAX_BINARY or out is too small. */
ca_err ca_base58_encode(char *out, size_t *out_len, const uint8_t *in, size_t in_len,
                        ca_errbuf *eb);

/* Decodes base58 text (Bitcoin alphabet). Each leading '1' becomes a leading zero byte.
 * CA_ERR_INVALID for an empty text or a character outside the alphabet (named in eb);
 * CA_ERR_TOO_LARGE when in_len > CA_BASE58_MAX_TEXT or out is too small. */
ca_err ca_base58_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len,
                        ca_errbuf *eb);

/* Multibase base58btc: 'z' followed by ca_base58_encode(in). */
ca_err ca_multibase_encode(char *out, size_t *out_len, const uint8_t *in, size_t in_len,
                           ca_errbuf *eb);

/* Decodes multibase text. Only base58btc ('z') is supported: any other prefix is
 * CA_ERR_INVALID with the prefix named in eb. Other errors as ca_base58_decode. */
ca_err ca_multibase_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len,
                           ca_errbuf *eb);

/* multiformats unsigned-varint: LEB128, at most 9 bytes, so values below 2^63. */
#define CA_VARINT_MAX 9
#define CA_VARINT_LIMIT ((uint64_t)1 << 63) /* first value that cannot be encoded */

/* Writes the minimal encoding of v (v < CA_VARINT_LIMIT, else a caller bug) and returns its
 * length (1..9). */
size_t ca_varint_encode(uint8_t out[CA_VARINT_MAX], uint64_t v);

/* Reads one varint from the start of in. *used is the number of bytes it took. CA_ERR_INVALID
 * when the input ends inside the varint, when it is longer than 9 bytes, or when it is not
 * minimal (a trailing 0x00 continuation byte, e.g. 80 00 for 0). */
ca_err ca_varint_decode(uint64_t *v, size_t *used, const uint8_t *in, size_t in_len,
                        ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
