/*
 * Bitstring Status List v1.0 (W3C) encoding, SPEC §5: a list is at least 131,072 bits; index 0
 * is the most significant bit of byte 0; the published encodedList is "u" + base64url (no
 * padding) of the GZIP (RFC 1952) of the bitstring. Free-index choice for new credentials uses
 * the CSPRNG so indices leak no issuance order (the spec's privacy section). Pure functions
 * over caller-owned buffers; zlib does the compression. Conventions: common.h.
 */
#ifndef CREDANCHOR_STATUS_LIST_H
#define CREDANCHOR_STATUS_LIST_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_STATUS_LIST_BITS 131072u                 /* entries per list (spec minimum) */
#define CA_STATUS_LIST_BYTES (CA_STATUS_LIST_BITS / 8)
#define CA_STATUS_LIST_MAX_BYTES (16u << 20)        /* largest decoded list accepted (a
                                                       gzip bomb stops here) */

static inline bool ca_status_bit_get(const uint8_t *bits, uint64_t index)
{
    return (bits[index >> 3] >> (7 - (index & 7))) & 1;
}
static inline void ca_status_bit_set(uint8_t *bits, uint64_t index, bool on)
{
    uint8_t m = (uint8_t)(0x80u >> (index & 7));
    if (on)
        bits[index >> 3] |= m;
    else
        bits[index >> 3] &= (uint8_t)~m;
}

/* encodedList of nbytes of bitstring: malloc'd, NUL-terminated "u..." text. GZIP at the
 * default level with a fixed header (mtime 0, OS 255) so equal lists encode equally. */
ca_err ca_status_list_encode(char **encoded, size_t *len, const uint8_t *bits, size_t nbytes,
                             ca_errbuf *eb);

/* Decodes an encodedList: "u" prefix, base64url without padding, then GZIP. The result is
 * malloc'd (*nbytes bytes). CA_ERR_INVALID for a bad prefix, alphabet or gzip stream
 * (including a zlib or raw deflate stream, a truncated or corrupt one, or any bytes after
 * the one gzip member), CA_ERR_TOO_LARGE past max_bytes (checked while inflating),
 * CA_ERR_RANGE when the list is shorter than min_bits. */
ca_err ca_status_list_decode(uint8_t **bits, size_t *nbytes, const char *encoded, size_t len,
                             size_t min_bits, size_t max_bytes, ca_errbuf *eb);

/* Picks a uniformly random index whose bit is 0 in used (nbits bits, nfree of them 0, > 0),
 * with the CSPRNG: random probes first, then a uniform rank among the free bits, so the time
 * stays bounded as the list fills. CA_ERR_FULL when nfree is 0 (or, in the rank step, when a
 * recount finds no free bit). Bits past nbits in the last byte are never picked; nfree must
 * not exceed nbits. Does not set the bit. */
ca_err ca_status_list_pick_free(uint64_t *index, const uint8_t *used, size_t nbits,
                                size_t nfree, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
