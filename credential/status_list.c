/*
 * Bitstring Status List v1.0 (W3C Recommendation, https://www.w3.org/TR/vc-bitstring-status-list/),
 * SPEC §5.
 *
 *  - Bit order (§3.2 "Bitstring Encoding", algorithm step "the first index ... is the
 *    left-most bit"): index 0 is the most significant bit of byte 0 (status_list.h).
 *  - encodedList (§2.1 BitstringStatusListCredential, §3.2): the Multibase base64url form,
 *    "u" + base64url without padding (RFC 4648 §5) of the GZIP (RFC 1952) compression of the
 *    bitstring. We encode with zlib's gzip wrapper (windowBits 15 + 16) and a fixed header
 *    (MTIME 0, OS 255 "unknown", RFC 1952 §2.3.1) so equal lists give equal text.
 *  - Decoding (§3.3 "Bitstring Expansion Algorithm"): strict. Only the "u" prefix, only
 *    unpadded base64url, only a gzip stream (not zlib or raw deflate: windowBits 31), exactly
 *    one gzip member and nothing after it. The decoded size is checked while inflating and
 *    output never grows past max_bytes, so a gzip bomb costs at most max_bytes of memory.
 *    §3.3 step 4 ("If the length ... is less than the minimum bitstring length, raise a
 *    STATUS_LIST_LENGTH_ERROR") is CA_ERR_RANGE against min_bits.
 *  - Free-index choice (§6.1 "Privacy Considerations": indices should be assigned at random so
 *    that they reveal nothing about issuance order): uniform over the free bits with the
 *    CSPRNG, see ca_status_list_pick_free below.
 */
#include "credanchor/status_list.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* zlib counts in uInt; feed and drain it in pieces no larger than this. */
#define ZCHUNK ((size_t)UINT_MAX)
/* First output allocation while inflating; it then doubles up to max_bytes. */
#define INFLATE_FIRST (64u * 1024u)
/* Random probes before pick_free falls back to the rank scan. */
#define PICK_PROBES 64

static uInt zclamp(size_t n) { return n > ZCHUNK ? (uInt)ZCHUNK : (uInt)n; }

ca_err ca_status_list_encode(char **encoded, size_t *len, const uint8_t *bits, size_t nbytes,
                             ca_errbuf *eb)
{
    CA_ASSERT(encoded && len && (bits || nbytes == 0));
    *encoded = NULL;
    *len = 0;

    ca_err rc = CA_OK;
    uint8_t *gz = NULL;
    char *text = NULL;
    bool zinit = false;
    z_stream zs;
    memset(&zs, 0, sizeof zs);

    /* windowBits 15 + 16: the gzip wrapper (RFC 1952). Level 1: a list is republished for
     * every revocation round (bench/revoke.sh), and a sparse bitstring compresses almost as
     * well at the fastest level. */
    int zr = deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                          Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) {
        rc = zr == Z_MEM_ERROR ? CA_ERR_NOMEM : CA_ERR_CRYPTO;
        ca_fail(eb, rc, "status list: deflateInit2 failed (%d)", zr);
        goto out;
    }
    zinit = true;

    /* RFC 1952 §2.3.1: MTIME 0 ("no time stamp"), OS 255 ("unknown"), no name or comment. */
    gz_header hdr;
    memset(&hdr, 0, sizeof hdr);
    hdr.time = 0;
    hdr.os = 255;
    zr = deflateSetHeader(&zs, &hdr);
    if (zr != Z_OK) {
        rc = ca_fail(eb, CA_ERR_CRYPTO, "status list: deflateSetHeader failed (%d)", zr);
        goto out;
    }

    /* deflateBound covers a whole-stream compression finished with Z_FINISH, and feeding the
     * input in pieces with Z_NO_FLUSH does not change that. */
    size_t cap = (size_t)deflateBound(&zs, (uLong)nbytes);
    gz = malloc(cap ? cap : 1);
    if (!gz) {
        rc = ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory");
        goto out;
    }

    size_t in_left = nbytes, out_used = 0;
    zs.next_in = (Bytef *)(uintptr_t)bits; /* zlib's API is not const-correct */
    for (;;) {
        zs.avail_in = zclamp(in_left);
        zs.next_out = gz + out_used;
        zs.avail_out = zclamp(cap - out_used);
        uInt in0 = zs.avail_in, out0 = zs.avail_out;
        zr = deflate(&zs, in_left == zs.avail_in ? Z_FINISH : Z_NO_FLUSH);
        in_left -= in0 - zs.avail_in;
        out_used += out0 - zs.avail_out;
        if (zr == Z_STREAM_END)
            break;
        /* Z_BUF_ERROR (no progress) cannot happen with input or room left inside
         * deflateBound; treat it, like any other code, as a library failure. */
        if (zr != Z_OK) {
            rc = ca_fail(eb, CA_ERR_CRYPTO, "status list: deflate failed (%d)", zr);
            goto out;
        }
    }

    /* "u" + base64url without padding + NUL. */
    size_t tcap = 1 + ca_base64url_encoded_len(out_used);
    text = malloc(tcap);
    if (!text) {
        rc = ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory");
        goto out;
    }
    text[0] = 'u';
    ca_base64url_encode(text + 1, gz, out_used);
    *len = 1 + strlen(text + 1);
    *encoded = text;
    text = NULL;

out:
    if (zinit)
        deflateEnd(&zs);
    free(gz);
    free(text);
    return rc;
}

/* Doubles the output buffer *buf of *cap bytes, up to max_bytes. */
static ca_err grow_buffer(uint8_t **buf, size_t *cap, size_t max_bytes, ca_errbuf *eb)
{
    size_t ncap = *cap > max_bytes / 2 ? max_bytes : *cap * 2;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb)
        return ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory");
    *buf = nb;
    *cap = ncap;
    return CA_OK;
}

/* The error an inflate() result other than Z_STREAM_END stands for; CA_OK to go on. */
static ca_err inflate_error(int zr, const z_stream *zs, ca_errbuf *eb)
{
    if (zr == Z_MEM_ERROR)
        return ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory while inflating");
    if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR)
        return ca_fail(eb, CA_ERR_INVALID, "status list: bad gzip stream: %s",
                       zs->msg ? zs->msg : "inflate error");
    /* Output room is always offered (buffer or probe), so Z_BUF_ERROR means zlib needs
     * input that is not there: the stream is cut short. */
    if (zr == Z_BUF_ERROR)
        return ca_fail(eb, CA_ERR_INVALID, "status list: truncated gzip stream");
    return CA_OK;
}

/* Inflates a gzip stream into a buffer of at most max_bytes. */
static ca_err gunzip_capped(uint8_t **out, size_t *out_len, const uint8_t *in, size_t in_len,
                            size_t max_bytes, ca_errbuf *eb)
{
    ca_err rc = CA_OK;
    uint8_t *buf = NULL;
    bool zinit = false;
    z_stream zs;
    memset(&zs, 0, sizeof zs);

    /* windowBits 15 + 16: gzip only. (+32 would also take a zlib stream, a negative value raw
     * deflate; the spec's encodedList is GZIP, so neither is accepted.) */
    int zr = inflateInit2(&zs, 15 + 16);
    if (zr != Z_OK) {
        rc = zr == Z_MEM_ERROR ? CA_ERR_NOMEM : CA_ERR_CRYPTO;
        ca_fail(eb, rc, "status list: inflateInit2 failed (%d)", zr);
        goto out;
    }
    zinit = true;

    size_t cap = max_bytes < INFLATE_FIRST ? max_bytes : INFLATE_FIRST;
    buf = malloc(cap ? cap : 1);
    if (!buf) {
        rc = ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory");
        goto out;
    }

    size_t used = 0, in_left = in_len;
    uint8_t probe; /* a 1-byte sink once the buffer has reached max_bytes */
    zs.next_in = (Bytef *)(uintptr_t)in;
    for (;;) {
        bool probing = false;
        if (used == cap && cap < max_bytes && (rc = grow_buffer(&buf, &cap, max_bytes, eb)))
            goto out;
        if (used == cap) {
            /* At the cap: one more byte of output means the list is too large. The stream
             * may still legitimately end here (only the trailer left), so let zlib run. */
            zs.next_out = &probe;
            zs.avail_out = 1;
            probing = true;
        } else {
            zs.next_out = buf + used;
            zs.avail_out = zclamp(cap - used);
        }
        zs.avail_in = zclamp(in_left);
        uInt in0 = zs.avail_in, out0 = zs.avail_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        in_left -= in0 - zs.avail_in;
        size_t produced = out0 - zs.avail_out;
        if (probing && produced) {
            rc = ca_fail(eb, CA_ERR_TOO_LARGE,
                         "status list: decoded list is larger than %zu bytes", max_bytes);
            goto out;
        }
        if (!probing)
            used += produced;
        if (zr == Z_STREAM_END)
            break;
        if ((rc = inflate_error(zr, &zs, eb)))
            goto out;
    }
    /* RFC 1952 §2.2 allows several members back to back; an encodedList is one member, and
     * anything after its trailer is refused. */
    if (in_left != 0) {
        rc = ca_fail(eb, CA_ERR_INVALID, "status list: %zu bytes after the gzip stream",
                     in_left);
        goto out;
    }
    if (used < cap) { /* give back the slack; keep a valid pointer for an empty list */
        uint8_t *nb = realloc(buf, used ? used : 1);
        if (nb)
            buf = nb;
    }
    *out = buf;
    *out_len = used;
    buf = NULL;

out:
    if (zinit)
        inflateEnd(&zs);
    free(buf);
    return rc;
}

ca_err ca_status_list_decode(uint8_t **bits, size_t *nbytes, const char *encoded, size_t len,
                             size_t min_bits, size_t max_bytes, ca_errbuf *eb)
{
    CA_ASSERT(bits && nbytes && (encoded || len == 0));
    *bits = NULL;
    *nbytes = 0;

    ca_err rc = CA_OK;
    uint8_t *gz = NULL, *list = NULL;
    size_t list_len = 0;

    /* Multibase: 'u' is base64url without padding. */
    if (len < 1 || encoded[0] != 'u') {
        rc = ca_fail(eb, CA_ERR_INVALID, "status list: encodedList must start with 'u' "
                                         "(multibase base64url)");
        goto out;
    }
    const char *b64 = encoded + 1;
    size_t b64_len = len - 1;
    /* ca_base64url_decode refuses '=' (not in the alphabet), bad characters and non-zero
     * trailing bits; checked here as well so the message is specific. */
    if (memchr(b64, '=', b64_len)) {
        rc = ca_fail(eb, CA_ERR_INVALID, "status list: encodedList must not be padded");
        goto out;
    }
    size_t gz_cap = b64_len / 4 * 3 + 2;
    gz = malloc(gz_cap);
    if (!gz) {
        rc = ca_fail(eb, CA_ERR_NOMEM, "status list: out of memory");
        goto out;
    }
    size_t gz_len = gz_cap;
    if (ca_base64url_decode(gz, &gz_len, b64, b64_len) != CA_OK) {
        rc = ca_fail(eb, CA_ERR_INVALID, "status list: encodedList is not valid base64url");
        goto out;
    }
    if (gz_len == 0) {
        rc = ca_fail(eb, CA_ERR_INVALID, "status list: encodedList is empty");
        goto out;
    }

    rc = gunzip_capped(&list, &list_len, gz, gz_len, max_bytes, eb);
    if (rc != CA_OK)
        goto out;

    /* §3.3: a list shorter than the minimum is an error (STATUS_LIST_LENGTH_ERROR).
     * Compare in bytes so nothing overflows: nbytes*8 >= min_bits <=> nbytes >= ceil(min/8). */
    size_t min_bytes = min_bits / 8 + (min_bits % 8 != 0);
    if (list_len < min_bytes) {
        rc = ca_fail(eb, CA_ERR_RANGE,
                     "status list: %zu bytes decoded, fewer than the minimum %zu bits",
                     list_len, min_bits);
        goto out;
    }
    *bits = list;
    *nbytes = list_len;
    list = NULL;

out:
    free(gz);
    free(list);
    return rc;
}

/* A uniform value in [0, n), n > 0: 64 random bits with rejection of the low 2^64 mod n
 * values, so x % n has no modulo bias. Each draw is rejected with probability < 1/2. */
static ca_err uniform_below(uint64_t *out, uint64_t n)
{
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t x;
        ca_err rc = ca_random_bytes(&x, sizeof x);
        if (rc != CA_OK)
            return rc;
        if (x >= threshold) {
            *out = x % n;
            return CA_OK;
        }
    }
}

/* Word k of the list as a mask of its FREE indices: bit 63 - j is set when index 64k + j is
 * below nbits and its bit is 0. Bytes load big-endian so bit order matches index order; bits
 * past nbits (the padding of a partial last byte, or a partial last word) count as used. */
static uint64_t free_word(const uint8_t *used, size_t nbits, size_t k)
{
    size_t nbytes = nbits / 8 + (nbits % 8 != 0);
    uint64_t w = 0;
    for (size_t b = 0; b < 8; b++) {
        size_t i = k * 8 + b;
        w = w << 8 | (i < nbytes ? used[i] : 0xffu);
    }
    uint64_t f = ~w;
    size_t base = k * 64;
    if (nbits - base < 64) /* only the last word can be partial */
        f &= ~(UINT64_MAX >> (nbits - base));
    return f;
}

ca_err ca_status_list_pick_free(uint64_t *index, const uint8_t *used, size_t nbits,
                                size_t nfree, ca_errbuf *eb)
{
    CA_ASSERT(index && (used || nbits == 0));
    CA_ASSERT(nfree <= nbits);
    if (nfree == 0)
        return ca_fail(eb, CA_ERR_FULL, "status list: no free index left");

    /* Phase 1: uniform probes over all nbits indices. Conditioned on landing on a free bit,
     * a probe is uniform over the free bits, so the result is uniform however many probes it
     * took. Expected probes: nbits / nfree; capped so a nearly full list stays fast. */
    for (int p = 0; p < PICK_PROBES; p++) {
        uint64_t i;
        ca_err rc = uniform_below(&i, nbits);
        if (rc != CA_OK)
            return ca_fail(eb, rc, "status list: CSPRNG failed");
        if (!ca_status_bit_get(used, i)) {
            *index = i;
            return CA_OK;
        }
    }

    /* Phase 2: a uniform rank r among the free bits, then the r-th free bit in index order,
     * skipping whole 64-bit words by popcount. The free count is recounted rather than taken
     * from nfree, so a stale count cannot bias the choice or run off the end. */
    size_t nwords = nbits / 64 + (nbits % 64 != 0);
    uint64_t actual = 0;
    for (size_t k = 0; k < nwords; k++)
        actual += (uint64_t)__builtin_popcountll(free_word(used, nbits, k));
    if (actual == 0)
        return ca_fail(eb, CA_ERR_FULL, "status list: no free index left (count said %zu)",
                       nfree);
    uint64_t r;
    ca_err rc = uniform_below(&r, actual);
    if (rc != CA_OK)
        return ca_fail(eb, rc, "status list: CSPRNG failed");
    for (size_t k = 0; k < nwords; k++) {
        uint64_t f = free_word(used, nbits, k);
        uint64_t pc = (uint64_t)__builtin_popcountll(f);
        if (r >= pc) {
            r -= pc;
            continue;
        }
        /* Drop the r highest free bits; the next highest is the one. */
        for (; r > 0; r--)
            f &= ~(UINT64_C(1) << (63 - __builtin_clzll(f)));
        *index = (uint64_t)k * 64 + (uint64_t)__builtin_clzll(f);
        return CA_OK;
    }
    /* Unreachable: r < actual, the number of free bits counted above. */
    return ca_fail(eb, CA_ERR_FULL, "status list: internal error locating a free index");
}
