/* hex, base64 and base64url decoders (common/encoding.c). No crash or overflow for any input
 * and any capacity (the output buffers are exact-size heap blocks so ASan sees a write past
 * the capacity); a decode that succeeds re-encodes to the input (hex case-folded), and the
 * encoders' outputs always decode back. */
#include "credanchor/encoding.h"
#include "fuzz_common.h"

#include <ctype.h>

static void hex(const char *in, size_t len)
{
    size_t n = len / 2;
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        abort();
    if (ca_hex_decode(out, n, in, len) == CA_OK) {
        FUZZ_CHECK(len == 2 * n);
        char *back = malloc(2 * n + 1);
        if (!back)
            abort();
        ca_hex_encode(back, out, n);
        for (size_t i = 0; i < len; i++)
            FUZZ_CHECK(back[i] == tolower((unsigned char)in[i]));
        FUZZ_CHECK(back[len] == '\0');
        free(back);
    }
    /* Wrong output sizes must be refused, not overrun. */
    if (n > 0)
        FUZZ_CHECK(ca_hex_decode(out, n - 1, in, len) != CA_OK);
    free(out);
    if (len == 64) {
        ca_hash h;
        (void)ca_hash_from_hex(&h, in, len);
    }
}

typedef ca_err (*b64_dec)(uint8_t *, size_t *, const char *, size_t);
typedef void (*b64_enc)(char *, const uint8_t *, size_t);
typedef size_t (*b64_len)(size_t);

static void b64(const char *in, size_t len, size_t cap, b64_dec dec, b64_enc enc, b64_len elen)
{
    uint8_t *out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    size_t out_len = cap;
    ca_err err = dec(out, &out_len, in, len);
    if (err == CA_OK) {
        FUZZ_CHECK(out_len <= cap);
        size_t tl = elen(out_len);
        char *back = malloc(tl);
        if (!back)
            abort();
        enc(back, out, out_len);
        FUZZ_CHECK(strlen(back) == len && memcmp(back, in, len) == 0);
        free(back);
    } else {
        FUZZ_CHECK(err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE);
    }
    free(out);
}

static void encoders(const uint8_t *in, size_t len)
{
    char *t = malloc(ca_base64_encoded_len(len));
    char *u = malloc(ca_base64url_encoded_len(len));
    uint8_t *back = malloc(len ? len : 1);
    if (!t || !u || !back)
        abort();
    ca_base64_encode(t, in, len);
    ca_base64url_encode(u, in, len);
    size_t bl = len;
    FUZZ_CHECK(ca_base64_decode(back, &bl, t, strlen(t)) == CA_OK);
    FUZZ_CHECK(bl == len && (len == 0 || memcmp(back, in, len) == 0));
    bl = len;
    FUZZ_CHECK(ca_base64url_decode(back, &bl, u, strlen(u)) == CA_OK);
    FUZZ_CHECK(bl == len && (len == 0 || memcmp(back, in, len) == 0));
    free(back);
    free(u);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_memdup(data, size);
    hex(in, size);
    size_t full = size; /* decoded base64 is never longer than its text */
    size_t small = size ? (size_t)data[0] % (size + 1) : 0;
    b64(in, size, full, ca_base64_decode, ca_base64_encode, ca_base64_encoded_len);
    b64(in, size, small, ca_base64_decode, ca_base64_encode, ca_base64_encoded_len);
    b64(in, size, full, ca_base64url_decode, ca_base64url_encode, ca_base64url_encoded_len);
    b64(in, size, small, ca_base64url_decode, ca_base64url_encode, ca_base64url_encoded_len);
    if (size <= 4096)
        encoders(data, size);
    free(in);
    return 0;
}
