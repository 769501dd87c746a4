/* Strict RLP decoding (anchor/rlp.c). ca_rlp_decode accepts only canonical encodings, so
 * every input it accepts is walked (every nested item, through ca_rlp_iter_next, with
 * ca_rlp_list_count agreeing), re-encoded with the encoder (put_bytes / list_begin /
 * list_end) and must come out byte-identical. Integer accessors must agree with put_uint. */
#include "credanchor/eth.h"
#include "fuzz_common.h"

static void walk(ca_rlp_buf *b, const ca_rlp_item *it, int depth)
{
    ca_errbuf eb = {{0}};
    FUZZ_CHECK(depth <= CA_RLP_MAX_DEPTH + 1);
    if (!it->is_list) {
        FUZZ_CHECK(ca_rlp_put_bytes(b, it->payload, it->len) == CA_OK);
        uint64_t v;
        if (ca_rlp_item_uint(&v, it, &eb) == CA_OK) {
            FUZZ_CHECK(it->len <= 8);
            ca_rlp_buf t;
            ca_rlp_buf_init(&t, 16);
            FUZZ_CHECK(ca_rlp_put_uint(&t, v) == CA_OK);
            ca_rlp_buf u;
            ca_rlp_buf_init(&u, 16);
            FUZZ_CHECK(ca_rlp_put_bytes(&u, it->payload, it->len) == CA_OK);
            FUZZ_CHECK(t.len == u.len && memcmp(t.data, u.data, t.len) == 0);
            ca_rlp_buf_free(&t);
            ca_rlp_buf_free(&u);
        }
        uint8_t w[32];
        if (ca_rlp_item_u256(w, it, &eb) == CA_OK)
            FUZZ_CHECK(it->len <= 32 && (it->len == 0 || it->payload[0] != 0));
        return;
    }
    size_t mark = ca_rlp_list_begin(b);
    size_t count = 0, n = 0;
    FUZZ_CHECK(ca_rlp_list_count(&count, it, &eb) == CA_OK);
    ca_rlp_iter iter;
    ca_rlp_iter_init(&iter, it);
    ca_rlp_item child;
    ca_err err;
    while ((err = ca_rlp_iter_next(&iter, &child, &eb)) == CA_OK) {
        FUZZ_CHECK(child.payload >= it->payload && child.payload + child.len <= it->payload + it->len);
        walk(b, &child, depth + 1);
        n++;
    }
    FUZZ_CHECK(err == CA_ERR_NOT_FOUND);
    FUZZ_CHECK(n == count);
    FUZZ_CHECK(ca_rlp_list_end(b, mark) == CA_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_memdup(data, size);
    ca_errbuf eb = {{0}};
    ca_rlp_item top;
    if (ca_rlp_decode(&top, in, size, &eb) == CA_OK) {
        FUZZ_CHECK(top.payload >= in && top.payload + top.len <= in + size);
        ca_rlp_buf b;
        ca_rlp_buf_init(&b, size + 64);
        walk(&b, &top, 1);
        FUZZ_CHECK(b.err == CA_OK);
        FUZZ_CHECK(b.len == size && memcmp(b.data, in, size) == 0);
        ca_rlp_buf_free(&b);

        /* Wrapping the item in a list must decode too, unless that passes the depth cap. */
        ca_rlp_buf w;
        ca_rlp_buf_init(&w, size + 64);
        FUZZ_CHECK(ca_rlp_put_list(&w, in, size) == CA_OK);
        ca_rlp_item wrapped;
        if (ca_rlp_decode(&wrapped, w.data, w.len, &eb) == CA_OK) {
            size_t count = 0;
            FUZZ_CHECK(ca_rlp_list_count(&count, &wrapped, &eb) == CA_OK && count == 1);
        }
        ca_rlp_buf_free(&w);
    } else {
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    free(in);
    return 0;
}
