/* Bitstring Status List decoding (credential/status_list.c) with small caps: no crash on any
 * input, never more than max_bytes decoded (a gzip bomb stops at the cap), and on success the
 * list re-encodes and decodes back to the same bits. The first input byte picks the caps so
 * the size and minimum-length checks are both exercised. */
#include "credanchor/status_list.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_bytes = (size_t)(data[0] & 0x0f) << 8;       /* 0 .. 3840 bytes */
    size_t min_bits = (size_t)(data[0] >> 4) << 6;          /* 0 .. 960 bits */
    char *in = (char *)fuzz_memdup(data + 1, size - 1);
    uint8_t *bits = NULL, *again = NULL;
    char *enc = NULL;
    size_t n = 0, enc_len = 0, n2 = 0;
    ca_errbuf eb = {{0}};

    ca_err err = ca_status_list_decode(&bits, &n, in, size - 1, min_bits, max_bytes, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(bits != NULL);
        FUZZ_CHECK(n <= max_bytes);
        FUZZ_CHECK(n * 8 >= min_bits);
        FUZZ_CHECK(ca_status_list_encode(&enc, &enc_len, bits, n, &eb) == CA_OK);
        FUZZ_CHECK(enc[0] == 'u' && enc[enc_len] == '\0');
        FUZZ_CHECK(ca_status_list_decode(&again, &n2, enc, enc_len, min_bits, max_bytes, &eb) ==
                   CA_OK);
        FUZZ_CHECK(n2 == n && (n == 0 || memcmp(again, bits, n) == 0));
        if (n > 0) {
            uint64_t idx;
            size_t nbits = n * 8, nfree = 0;
            for (size_t i = 0; i < nbits; i++)
                nfree += !ca_status_bit_get(bits, i);
            err = ca_status_list_pick_free(&idx, bits, nbits, nfree, &eb);
            if (nfree == 0)
                FUZZ_CHECK(err == CA_ERR_FULL);
            else
                FUZZ_CHECK(err == CA_OK && idx < nbits && !ca_status_bit_get(bits, idx));
        }
    } else {
        FUZZ_CHECK(bits == NULL && n == 0);
        FUZZ_CHECK(err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE || err == CA_ERR_RANGE);
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    free(again);
    free(enc);
    free(bits);
    free(in);
    return 0;
}
