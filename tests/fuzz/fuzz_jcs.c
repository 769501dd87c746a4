/* RFC 8785 canonicalization (common/jcs.c): no crash on any input, and on success the output
 * is NUL-followed, is itself valid JSON, canonicalizes to itself (idempotence), and has the
 * same digest as ca_jcs_digest of the input. */
#include "credanchor/crypto.h"
#include "credanchor/jcs.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_memdup(data, size);
    char *out = NULL, *again = NULL;
    size_t out_len = 0, again_len = 0;
    ca_errbuf eb = {{0}};

    ca_err err = ca_jcs_canonicalize(&out, &out_len, in, size, 6 * size + 64, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(out != NULL);
        FUZZ_CHECK(out[out_len] == '\0');
        ca_err err2 = ca_jcs_canonicalize(&again, &again_len, out, out_len, 6 * out_len + 64,
                                          &eb);
        FUZZ_CHECK(err2 == CA_OK);
        FUZZ_CHECK(again_len == out_len && memcmp(again, out, out_len) == 0);

        ca_hash d1, d2;
        FUZZ_CHECK(ca_jcs_digest(&d1, in, size, &eb) == CA_OK);
        ca_sha256(&d2, out, out_len);
        FUZZ_CHECK(memcmp(d1.b, d2.b, sizeof d1.b) == 0);
    } else {
        FUZZ_CHECK(out == NULL && out_len == 0);
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    free(again);
    free(out);
    free(in);
    return 0;
}
