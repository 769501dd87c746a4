/* RLP, Ethereum Yellow Paper Appendix B (eth.h). The encoder writes into a capped growable
 * buffer; the decoder accepts only canonical encodings, so one value has exactly one byte
 * form and a decoded-then-re-encoded item is byte-identical to its input. */
#include "credanchor/eth.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

void ca_rlp_buf_init(ca_rlp_buf *b, size_t max)
{
    CA_ASSERT(b != NULL && max > 0);
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = CA_OK;
}

void ca_rlp_buf_free(ca_rlp_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = CA_OK;
}

/* Makes room for n more bytes; sets the sticky error on failure. */
static ca_err reserve(ca_rlp_buf *b, size_t n)
{
    if (b->err != CA_OK)
        return b->err;
    if (n > b->max || b->len > b->max - n)
        return b->err = CA_ERR_TOO_LARGE;
    size_t need = b->len + n;
    if (need <= b->cap)
        return CA_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max; /* never allocate past the cap, even for the first block */
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return b->err = CA_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return CA_OK;
}

static ca_err append(ca_rlp_buf *b, const void *p, size_t n)
{
    ca_err rc = reserve(b, n);
    if (rc != CA_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return CA_OK;
}

/* Writes the header for a payload of len bytes (offset 0x80 for strings, 0xc0 for lists) into
 * hdr and returns its size (1..9). */
static size_t header(uint8_t hdr[9], uint8_t offset, size_t len)
{
    if (len <= 55) {
        hdr[0] = (uint8_t)(offset + len);
        return 1;
    }
    uint8_t be[8];
    size_t n = 0;
    for (uint64_t v = len; v; v >>= 8)
        n++;
    for (size_t i = 0; i < n; i++)
        be[i] = (uint8_t)((uint64_t)len >> (8 * (n - 1 - i)));
    hdr[0] = (uint8_t)(offset + 55 + n);
    memcpy(hdr + 1, be, n);
    return 1 + n;
}

/* The header for len payload bytes (offset 0x80: a string, 0xc0: a list), then the payload,
 * room for both reserved at once. */
static ca_err put_item(ca_rlp_buf *b, uint8_t offset, const void *p, size_t len)
{
    uint8_t hdr[9];
    size_t hl = header(hdr, offset, len);
    if (b->err == CA_OK && (len > b->max || hl > b->max - len))
        return b->err = CA_ERR_TOO_LARGE;
    ca_err rc = reserve(b, hl + len);
    if (rc != CA_OK)
        return rc;
    append(b, hdr, hl);
    return append(b, p, len);
}

ca_err ca_rlp_put_bytes(ca_rlp_buf *b, const void *p, size_t len)
{
    CA_ASSERT(b != NULL);
    CA_ASSERT(p != NULL || len == 0);
    if (len == 1 && ((const uint8_t *)p)[0] < 0x80)
        return append(b, p, 1);
    return put_item(b, 0x80, p, len);
}

ca_err ca_rlp_put_uint_be(ca_rlp_buf *b, const uint8_t *be, size_t len)
{
    CA_ASSERT(b != NULL);
    CA_ASSERT(be != NULL || len == 0);
    while (len && be[0] == 0) {
        be++;
        len--;
    }
    return ca_rlp_put_bytes(b, len ? be : NULL, len);
}

ca_err ca_rlp_put_uint(ca_rlp_buf *b, uint64_t v)
{
    uint8_t be[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        be[i] = (uint8_t)v;
    return ca_rlp_put_uint_be(b, be, sizeof be);
}

ca_err ca_rlp_put_raw(ca_rlp_buf *b, const void *p, size_t len)
{
    CA_ASSERT(b != NULL);
    CA_ASSERT(p != NULL || len == 0);
    return append(b, p, len);
}

ca_err ca_rlp_put_list(ca_rlp_buf *b, const uint8_t *payload, size_t len)
{
    CA_ASSERT(b != NULL);
    CA_ASSERT(payload != NULL || len == 0);
    return put_item(b, 0xc0, payload, len);
}

size_t ca_rlp_list_begin(const ca_rlp_buf *b)
{
    CA_ASSERT(b != NULL);
    return b->len;
}

ca_err ca_rlp_list_end(ca_rlp_buf *b, size_t mark)
{
    CA_ASSERT(b != NULL);
    if (b->err != CA_OK)
        return b->err;
    CA_ASSERT(mark <= b->len);
    uint8_t hdr[9];
    size_t payload = b->len - mark;
    size_t hl = header(hdr, 0xc0, payload);
    ca_err rc = reserve(b, hl);
    if (rc != CA_OK)
        return rc;
    memmove(b->data + mark + hl, b->data + mark, payload);
    memcpy(b->data + mark, hdr, hl);
    b->len += hl;
    return CA_OK;
}

/* ---- decoding ---- */

/* Parses the header of the item at in[0..avail): its kind, payload and total size. Checks
 * canonical form and bounds but not the children of a list. */
static ca_err parse_one(ca_rlp_item *it, size_t *total, const uint8_t *in, size_t avail,
                        ca_errbuf *eb)
{
    if (avail == 0)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: truncated input (no item header)");
    uint8_t p = in[0];
    if (p < 0x80) {
        it->is_list = false;
        it->payload = in;
        it->len = 1;
        *total = 1;
        return CA_OK;
    }
    bool is_list = p >= 0xc0;
    uint8_t base = is_list ? 0xc0 : 0x80;
    size_t hl, len;
    if (p - base <= 55) {
        hl = 1;
        len = (size_t)(p - base);
    } else {
        size_t ll = (size_t)(p - base - 55); /* 1..8 */
        if (avail - 1 < ll)
            return ca_fail(eb, CA_ERR_INVALID, "RLP: truncated length field");
        if (in[1] == 0)
            return ca_fail(eb, CA_ERR_INVALID, "RLP: length field has a leading zero byte");
        uint64_t v = 0;
        for (size_t i = 0; i < ll; i++)
            v = v << 8 | in[1 + i];
        if (v <= 55)
            return ca_fail(eb, CA_ERR_INVALID,
                           "RLP: length %llu uses the long form (must be > 55)",
                           (unsigned long long)v);
#if SIZE_MAX < UINT64_MAX
        if (v > SIZE_MAX)
            return ca_fail(eb, CA_ERR_INVALID, "RLP: length too large");
#endif
        hl = 1 + ll;
        len = (size_t)v;
    }
    if (avail - hl < len)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: truncated payload (%zu bytes declared, %zu left)",
                       len, avail - hl);
    if (!is_list && len == 1 && in[hl] < 0x80)
        return ca_fail(eb, CA_ERR_INVALID,
                       "RLP: byte 0x%02x < 0x80 must be encoded as itself", in[hl]);
    it->is_list = is_list;
    it->payload = in + hl;
    it->len = len;
    *total = hl + len;
    return CA_OK;
}

/* Validates every item inside a list payload; depth is the list's own level (1 = top). */
static ca_err validate_list(const uint8_t *p, size_t len, int depth, ca_errbuf *eb)
{
    if (depth > CA_RLP_MAX_DEPTH)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: lists nested deeper than %d", CA_RLP_MAX_DEPTH);
    while (len) {
        ca_rlp_item child = {0};
        size_t total = 0;
        ca_err rc = parse_one(&child, &total, p, len, eb);
        if (rc != CA_OK)
            return rc;
        if (child.is_list) {
            rc = validate_list(child.payload, child.len, depth + 1, eb);
            if (rc != CA_OK)
                return rc;
        }
        p += total;
        len -= total;
    }
    return CA_OK;
}

ca_err ca_rlp_decode(ca_rlp_item *out, const uint8_t *in, size_t len, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL);
    CA_ASSERT(in != NULL || len == 0);
    ca_rlp_item it;
    size_t total = 0;
    ca_err rc = parse_one(&it, &total, in, len, eb);
    if (rc != CA_OK)
        return rc;
    if (total != len)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: %zu trailing bytes after the item", len - total);
    if (it.is_list) {
        rc = validate_list(it.payload, it.len, 1, eb);
        if (rc != CA_OK)
            return rc;
    }
    *out = it;
    return CA_OK;
}

void ca_rlp_iter_init(ca_rlp_iter *it, const ca_rlp_item *list)
{
    CA_ASSERT(it != NULL && list != NULL && list->is_list);
    it->p = list->payload;
    it->end = list->payload + list->len;
}

ca_err ca_rlp_iter_next(ca_rlp_iter *it, ca_rlp_item *child, ca_errbuf *eb)
{
    CA_ASSERT(it != NULL && child != NULL);
    if (it->p == it->end)
        return CA_ERR_NOT_FOUND;
    size_t total = 0;
    ca_err rc = parse_one(child, &total, it->p, (size_t)(it->end - it->p), eb);
    if (rc != CA_OK)
        return rc;
    it->p += total;
    return CA_OK;
}

ca_err ca_rlp_list_count(size_t *count, const ca_rlp_item *list, ca_errbuf *eb)
{
    CA_ASSERT(count != NULL && list != NULL);
    if (!list->is_list)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: expected a list");
    ca_rlp_iter it;
    ca_rlp_item child;
    ca_rlp_iter_init(&it, list);
    size_t n = 0;
    ca_err rc;
    while ((rc = ca_rlp_iter_next(&it, &child, eb)) == CA_OK)
        n++;
    if (rc != CA_ERR_NOT_FOUND)
        return rc;
    *count = n;
    return CA_OK;
}

/* A canonical integer: a string of at most max bytes with no leading zero byte. */
static ca_err check_int(const ca_rlp_item *it, size_t max, ca_errbuf *eb)
{
    if (it->is_list)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: expected an integer, got a list");
    if (it->len > max)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: integer of %zu bytes exceeds %zu", it->len, max);
    if (it->len && it->payload[0] == 0)
        return ca_fail(eb, CA_ERR_INVALID, "RLP: integer has a leading zero byte");
    return CA_OK;
}

ca_err ca_rlp_item_uint(uint64_t *out, const ca_rlp_item *it, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && it != NULL);
    ca_err rc = check_int(it, 8, eb);
    if (rc != CA_OK)
        return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < it->len; i++)
        v = v << 8 | it->payload[i];
    *out = v;
    return CA_OK;
}

ca_err ca_rlp_item_u256(uint8_t out[32], const ca_rlp_item *it, ca_errbuf *eb)
{
    CA_ASSERT(out != NULL && it != NULL);
    ca_err rc = check_int(it, 32, eb);
    if (rc != CA_OK)
        return rc;
    memset(out, 0, 32);
    if (it->len)
        memcpy(out + 32 - it->len, it->payload, it->len);
    return CA_OK;
}
