/* base58btc, multibase and unsigned-varint (did/multibase.c). Decoders must not crash and
 * must round-trip: a text that decodes re-encodes to the same text (base58 is a bijection
 * once leading '1's are zero bytes), and any binary (up to the cap) encodes and decodes back.
 * Varints that decode re-encode to exactly the bytes consumed (minimality). */
#include "credanchor/multibase.h"
#include "fuzz_common.h"

static void base58_text(const char *in, size_t len)
{
    uint8_t bin[CA_BASE58_MAX_TEXT];
    size_t bin_len = sizeof bin;
    ca_errbuf eb = {{0}};
    if (ca_base58_decode(bin, &bin_len, in, len, &eb) != CA_OK)
        return;
    FUZZ_CHECK(bin_len <= len);
    char text[CA_BASE58_MAX_TEXT + 2];
    size_t text_len = sizeof text;
    ca_err err = ca_base58_encode(text, &text_len, bin, bin_len, &eb);
    if (bin_len > CA_BASE58_MAX_BINARY) {
        /* A 512-character text can decode to 375 bytes, one over the encoder's cap. */
        FUZZ_CHECK(err == CA_ERR_TOO_LARGE);
        return;
    }
    FUZZ_CHECK(err == CA_OK);
    FUZZ_CHECK(text_len == len && memcmp(text, in, len) == 0 && text[text_len] == '\0');

    /* A capacity one byte short must be refused, never truncated. */
    if (bin_len > 0) {
        size_t small = bin_len - 1;
        FUZZ_CHECK(ca_base58_decode(bin, &small, in, len, &eb) == CA_ERR_TOO_LARGE);
    }
}

static void multibase_text(const char *in, size_t len)
{
    uint8_t bin[CA_BASE58_MAX_TEXT];
    size_t bin_len = sizeof bin;
    ca_errbuf eb = {{0}};
    if (ca_multibase_decode(bin, &bin_len, in, len, &eb) != CA_OK)
        return;
    char text[CA_BASE58_MAX_TEXT + 3];
    size_t text_len = sizeof text;
    ca_err err = ca_multibase_encode(text, &text_len, bin, bin_len, &eb);
    if (bin_len > CA_BASE58_MAX_BINARY) {
        FUZZ_CHECK(err == CA_ERR_TOO_LARGE);
        return;
    }
    FUZZ_CHECK(err == CA_OK);
    FUZZ_CHECK(text_len == len && memcmp(text, in, len) == 0);
}

static void binary(const uint8_t *in, size_t len)
{
    char text[CA_BASE58_MAX_TEXT + 2];
    size_t text_len = sizeof text;
    ca_errbuf eb = {{0}};
    ca_err err = ca_base58_encode(text, &text_len, in, len, &eb);
    if (len > CA_BASE58_MAX_BINARY) {
        FUZZ_CHECK(err == CA_ERR_TOO_LARGE);
        return;
    }
    FUZZ_CHECK(err == CA_OK);
    FUZZ_CHECK(text_len <= ca_base58_encoded_max(len) && text[text_len] == '\0');
    uint8_t back[CA_BASE58_MAX_TEXT];
    size_t back_len = sizeof back;
    if (len == 0) /* the empty text is refused by the decoder */
        return;
    FUZZ_CHECK(ca_base58_decode(back, &back_len, text, text_len, &eb) == CA_OK);
    FUZZ_CHECK(back_len == len && memcmp(back, in, len) == 0);
}

static void varints(const uint8_t *in, size_t len)
{
    ca_errbuf eb = {{0}};
    while (len > 0) {
        uint64_t v = 0;
        size_t used = 0;
        if (ca_varint_decode(&v, &used, in, len, &eb) != CA_OK)
            return;
        FUZZ_CHECK(used >= 1 && used <= CA_VARINT_MAX && used <= len);
        FUZZ_CHECK(v < CA_VARINT_LIMIT);
        uint8_t enc[CA_VARINT_MAX];
        size_t n = ca_varint_encode(enc, v);
        FUZZ_CHECK(n == used && memcmp(enc, in, n) == 0);
        in += used;
        len -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = (char *)fuzz_memdup(data, size);
    base58_text(text, size);
    multibase_text(text, size);
    binary(data, size);
    varints((const uint8_t *)text, size);
    free(text);
    return 0;
}
